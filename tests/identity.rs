//! The Servicekonto through HTTP, on SQLite and PostgreSQL: registration with e-mail
//! confirmation, password login, TOTP set-up and step-up, the authorization code flow with PKCE,
//! lockout, export and deletion; standard OAuth errors for bad token requests, each audited;
//! machine-client tokens on the back-office API, tampered and `alg: none` tokens refused.
//! (Interoperability with an independent client library is in `browser/tests/oidc*.test.mjs`.)

use crate::on_both_backends;
use crate::support::{Answer, Browser, Server, input};
use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use rathaus_identity::totp::TotpSecret;
use serde_json::Value;
use sha2::{Digest, Sha256};

fn claims(jwt: &str) -> Value {
    let payload = jwt.split('.').nth(1).unwrap();
    serde_json::from_slice(&URL_SAFE_NO_PAD.decode(payload).unwrap()).unwrap()
}

async fn audit_count(s: &Server, action: &str) -> i64 {
    let db = s.db().connect().await.unwrap();
    sqlx::query_scalar::<_, i64>(sqlx::AssertSqlSafe(format!(
        "SELECT COUNT(*) FROM audit_log WHERE action = '{action}'"
    )))
    .fetch_one(db.pool())
    .await
    .unwrap()
}

/// The link in the newest mail of the outbox to `to`.
fn mailed_link(s: &Server, to: &str) -> String {
    let dir = s.db().dir.join("mail-outbox");
    let mut mails: Vec<_> = std::fs::read_dir(&dir)
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.extension().is_some_and(|e| e == "eml"))
        .collect();
    mails.sort();
    let text = mails
        .iter()
        .rev()
        .map(|p| std::fs::read_to_string(p).unwrap())
        .find(|t| t.contains(&format!("To: {to}")))
        .expect("mail sent");
    text.lines()
        .find(|l| l.starts_with("http"))
        .expect("link in mail")
        .trim()
        .to_owned()
}

fn now() -> u64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_secs()
}

async fn citizen_journey(s: &Server) {
    let email = "max.muster@example.org";
    let password = "Lindenblatt-Wiese-42";
    let mut b = Browser::new(s);

    // Registration refuses a weak password and keeps the entered address.
    let Answer { body: page, .. } = b.get("/konto/registrieren").await;
    let csrf = input(&page, "csrf");
    let Answer {
        status, body: page, ..
    } = b
        .post(
            "/konto/registrieren",
            &[
                ("csrf", &csrf),
                ("art", "person"),
                ("email", email),
                ("passwort", "Passwort123!"),
            ],
        )
        .await;
    assert_eq!(status, 422);
    assert!(
        page.contains("zu leicht zu erraten") && page.contains(email),
        "{page}"
    );
    let Answer {
        status, body: page, ..
    } = b
        .post(
            "/konto/registrieren",
            &[
                ("csrf", &csrf),
                ("art", "person"),
                ("email", email),
                ("passwort", password),
            ],
        )
        .await;
    assert_eq!(status, 200, "{page}");
    assert_eq!(
        audit_count(s, "account.create").await,
        5,
        "demo citizen, demo company, demo clerk, demo editor, Max"
    );

    // Before confirming, the login is refused; the mailed link confirms once.
    let Answer { body: page, .. } = b.get("/anmelden").await;
    let csrf = input(&page, "csrf");
    let login = |pw: &'static str| {
        [
            ("csrf", csrf.clone()),
            ("weiter", "/konto".to_owned()),
            ("email", email.to_owned()),
            ("passwort", pw.to_owned()),
        ]
    };
    let Answer {
        status, body: page, ..
    } = b
        .post(
            "/anmelden",
            &login(password).each_ref().map(|(k, v)| (*k, v.as_str())),
        )
        .await;
    assert_eq!(status, 200);
    assert!(page.contains("bestätigen Sie zuerst"), "{page}");
    let link = mailed_link(s, email);
    assert!(
        link.starts_with(&s.url) && link.contains("/konto/bestaetigen?token=rml_"),
        "{link}"
    );
    let Answer { status, .. } = b.get(&link).await;
    assert_eq!(status, 200);
    let Answer { status, .. } = b.get(&link).await;
    assert_eq!(status, 400, "a link works once");

    // Password login → session cookie → account page.
    let Answer {
        status, location, ..
    } = b
        .post(
            "/anmelden",
            &login(password).each_ref().map(|(k, v)| (*k, v.as_str())),
        )
        .await;
    assert_eq!((status, location.as_str()), (303, "/konto"));
    let session = b
        .cookies
        .get("rathaus_sitzung")
        .cloned()
        .expect("session cookie");
    let Answer {
        status, body: page, ..
    } = b.get("/konto").await;
    assert_eq!(status, 200);
    assert!(page.contains(email) && page.contains("niedrig"), "{page}");

    // TOTP set-up with a code from the secret shown on the page.
    let Answer { body: page, .. } = b.get("/konto/zwei-faktor").await;
    let secret = page
        .split("id=\"totp-schluessel\">")
        .nth(1)
        .unwrap()
        .split('<')
        .next()
        .unwrap()
        .to_owned();
    let totp = TotpSecret::from_base32(&secret, "x", email).unwrap();
    let wrong = b
        .post(
            "/konto/zwei-faktor",
            &[
                ("csrf", &input(&page, "csrf")),
                ("schluessel", &input(&page, "schluessel")),
                ("code", "000000"),
            ],
        )
        .await;
    assert_eq!(wrong.status, 422);
    let t = now();
    let Answer {
        status, location, ..
    } = b
        .post(
            "/konto/zwei-faktor",
            &[
                ("csrf", &input(&page, "csrf")),
                ("schluessel", &input(&page, "schluessel")),
                ("code", &totp.code_at(t)),
            ],
        )
        .await;
    assert_eq!(
        (status, location.as_str()),
        (303, "/konto?hinweis=zwei-faktor")
    );

    // An app asks for trust level substantial: the low session must step up with the second factor.
    let verifier = "verifier-0123456789-0123456789-0123456789-abc";
    let challenge = URL_SAFE_NO_PAD.encode(Sha256::digest(verifier.as_bytes()));
    let redirect = "http://127.0.0.1:9/callback";
    let authorize = format!(
        "/oidc/authorize?response_type=code&client_id=demo-spa&redirect_uri={}&scope=openid%20email%20profile&state=st&nonce=n1&code_challenge={challenge}&code_challenge_method=S256&acr_values=http%3A%2F%2Feidas.europa.eu%2FLoA%2Fsubstantial",
        urlencode(redirect)
    );
    let Answer {
        status, body: page, ..
    } = b.get(&authorize).await;
    assert_eq!(status, 200);
    assert!(
        page.contains("Zweiter Faktor"),
        "step-up asks for the code: {page}"
    );
    let form = [
        ("csrf", input(&page, "csrf")),
        ("vorgang", input(&page, "vorgang")),
    ];
    // The code used at set-up is a replay.
    let Answer { body: again, .. } = b
        .post(
            "/anmelden/code",
            &[
                ("csrf", &form[0].1),
                ("vorgang", &form[1].1),
                ("code", &totp.code_at(t)),
            ],
        )
        .await;
    assert!(again.contains("bereits verwendet"), "{again}");
    let Answer {
        status, location, ..
    } = b
        .post(
            "/anmelden/code",
            &[
                ("csrf", &form[0].1),
                ("vorgang", &form[1].1),
                ("code", &totp.code_at(t + 30)),
            ],
        )
        .await;
    assert_eq!(status, 303);
    assert_ne!(
        b.cookies.get("rathaus_sitzung"),
        Some(&session),
        "a new session after the step-up"
    );
    let Answer {
        status,
        body: consent,
        ..
    } = b.get(&location).await;
    assert_eq!(status, 200);
    assert!(consent.contains("Zustimmen"), "{consent}");
    let Answer {
        status, location, ..
    } = b
        .post(
            "/oidc/consent",
            &[
                ("csrf", &input(&consent, "csrf")),
                ("anfrage", &input(&consent, "anfrage")),
                ("entscheidung", "zustimmen"),
            ],
        )
        .await;
    assert_eq!(status, 303);
    assert!(
        location.starts_with(&format!("{redirect}?code=rac_")) && location.contains("state=st"),
        "{location}"
    );
    let code = location
        .split("code=")
        .nth(1)
        .unwrap()
        .split('&')
        .next()
        .unwrap()
        .to_owned();

    // The code is exchanged once, with the verifier.
    let exchange = |code: String, verifier: &'static str| {
        s.client
            .post(s.url("/oidc/token"))
            .form(&[
                ("grant_type", "authorization_code".to_owned()),
                ("code", code),
                ("redirect_uri", redirect.to_owned()),
                ("client_id", "demo-spa".to_owned()),
                ("code_verifier", verifier.to_owned()),
            ])
            .send()
    };
    let bad = exchange(code.clone(), "wrong-verifier-0123456789-0123456789-0123456")
        .await
        .unwrap();
    assert_eq!(bad.status(), 400);
    assert_eq!(bad.json::<Value>().await.unwrap()["error"], "invalid_grant");
    let code2 = {
        // The failed attempt used the code up; authorize again (consent is remembered now).
        let Answer {
            status, location, ..
        } = b.get(&authorize).await;
        assert_eq!(
            status, 303,
            "remembered consent and sufficient session: straight back"
        );
        location
            .split("code=")
            .nth(1)
            .unwrap()
            .split('&')
            .next()
            .unwrap()
            .to_owned()
    };
    let tokens: Value = exchange(code2.clone(), verifier)
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let id = claims(tokens["id_token"].as_str().unwrap());
    assert_eq!(id["acr"], "http://eidas.europa.eu/LoA/substantial");
    assert_eq!(id["amr"], serde_json::json!(["pwd", "otp"]));
    assert_eq!(id["email"], email);
    assert_eq!(id["nonce"], "n1");
    assert!(
        tokens.get("refresh_token").is_none(),
        "no offline_access, no refresh token"
    );
    let replay = exchange(code2, verifier).await.unwrap();
    assert_eq!(replay.status(), 400);
    assert!(audit_count(s, "oidc.code_replay").await >= 1);

    // The consent is listed on the account page and can be withdrawn; then the app must ask again.
    let Answer { body: page, .. } = b.get("/konto").await;
    assert!(page.contains("Demo-Anwendung (SPA)"), "{page}");
    let Answer {
        status, location, ..
    } = b
        .post(
            "/konto/freigaben/widerrufen",
            &[("csrf", &input(&page, "csrf")), ("client_id", "demo-spa")],
        )
        .await;
    assert_eq!(
        (status, location.as_str()),
        (303, "/konto?hinweis=freigabe")
    );
    let Answer { body: page, .. } = b.get("/konto").await;
    assert!(page.contains("noch keiner Anwendung Zugriff"), "{page}");
    let Answer {
        status, body: page, ..
    } = b.get(&authorize).await;
    assert_eq!(status, 200);
    assert!(page.contains("Zustimmen"), "consent asked again: {page}");
    assert_eq!(audit_count(s, "oidc.consent_withdrawn").await, 1);

    // Export holds the account; the data is the account's own.
    let Answer {
        status,
        body: export,
        ..
    } = b.get("/konto/export").await;
    assert_eq!(status, 200);
    let export: Value = serde_json::from_str(&export).unwrap();
    assert_eq!(export["account"]["email"], email);
    assert_eq!(export["second_factor"]["totp"], true);

    // Five wrong passwords lock the account, even against the right one.
    let mut other = Browser::new(s);
    let Answer { body: page, .. } = other.get("/anmelden").await;
    let csrf = input(&page, "csrf");
    for _ in 0..5 {
        let Answer { body: page, .. } = other
            .post(
                "/anmelden",
                &[
                    ("csrf", &csrf),
                    ("weiter", "/konto"),
                    ("email", email),
                    ("passwort", "falsch-falsch-falsch"),
                ],
            )
            .await;
        assert!(page.contains("falsch"), "{page}");
    }
    let Answer {
        status, body: page, ..
    } = other
        .post(
            "/anmelden",
            &[
                ("csrf", &csrf),
                ("weiter", "/konto"),
                ("email", email),
                ("passwort", password),
            ],
        )
        .await;
    assert_eq!(status, 200);
    assert!(page.contains("vorübergehend gesperrt"), "{page}");
    assert!(!other.cookies.contains_key("rathaus_sitzung"));
    assert_eq!(audit_count(s, "account.login_failed").await, 5);

    // Deletion needs the password and removes the account.
    let Answer { body: page, .. } = b.get("/konto/loeschen").await;
    let Answer { status, .. } = b
        .post(
            "/konto/loeschen",
            &[("csrf", &input(&page, "csrf")), ("passwort", "falsch")],
        )
        .await;
    assert_eq!(status, 422);
    let Answer { status, .. } = b
        .post(
            "/konto/loeschen",
            &[("csrf", &input(&page, "csrf")), ("passwort", password)],
        )
        .await;
    assert_eq!(status, 200);
    let Answer {
        status, location, ..
    } = b.get("/konto").await;
    assert_eq!(
        (status, location.as_str()),
        (303, "/anmelden?weiter=%2Fkonto"),
        "session gone with the account"
    );
    let db = s.db().connect().await.unwrap();
    let left: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM accounts WHERE email = $1")
        .bind(email)
        .fetch_one(db.pool())
        .await
        .unwrap();
    assert_eq!(left, 0);
}
on_both_backends!(citizen_journey_works_end_to_end, citizen_journey);

fn urlencode(s: &str) -> String {
    url::form_urlencoded::byte_serialize(s.as_bytes()).collect()
}

async fn token_request(
    s: &Server,
    auth: Option<(&str, &str)>,
    body: &str,
    content_type: &str,
) -> (u16, Value, reqwest::header::HeaderMap) {
    let mut req = s
        .client
        .post(s.url("/oidc/token"))
        .header("content-type", content_type)
        .body(body.to_owned());
    if let Some((id, secret)) = auth {
        req = req.basic_auth(id, Some(secret));
    }
    let res = req.send().await.unwrap();
    let status = res.status().as_u16();
    let headers = res.headers().clone();
    (status, res.json().await.unwrap_or(Value::Null), headers)
}

async fn bad_token_requests(s: &Server) {
    const FORM: &str = "application/x-www-form-urlencoded";
    let before = audit_count(s, "oidc.token_failed").await;
    let (status, body, headers) = token_request(
        s,
        Some(("demo-backoffice", "falsch")),
        "grant_type=client_credentials",
        FORM,
    )
    .await;
    assert_eq!(
        (status, body["error"].as_str()),
        (401, Some("invalid_client"))
    );
    assert!(headers.contains_key("www-authenticate"));
    assert_eq!(headers["cache-control"], "no-store");
    let (status, body, _) = token_request(
        s,
        Some(("demo-backoffice", "demo-secret")),
        "grant_type=password&username=x&password=y",
        FORM,
    )
    .await;
    assert_eq!(
        (status, body["error"].as_str()),
        (400, Some("unsupported_grant_type"))
    );
    let (status, body, _) = token_request(
        s,
        None,
        "grant_type=client_credentials&client_id=demo-spa",
        FORM,
    )
    .await;
    assert_eq!(
        (status, body["error"].as_str()),
        (400, Some("unauthorized_client"))
    );
    let (status, body, _) = token_request(
        s,
        Some(("demo-backoffice", "demo-secret")),
        "grant_type=client_credentials&scope=openid&scope=email",
        FORM,
    )
    .await;
    assert_eq!(
        (status, body["error"].as_str()),
        (400, Some("invalid_request")),
        "duplicate parameter"
    );
    let (status, body, _) = token_request(
        s,
        Some(("demo-backoffice", "demo-secret")),
        "{\"grant_type\":\"client_credentials\"}",
        "application/json",
    )
    .await;
    assert_eq!(
        (status, body["error"].as_str()),
        (400, Some("invalid_request"))
    );
    let (status, body, _) = token_request(s, None, "grant_type=authorization_code&code=rac_unbekannt&redirect_uri=http%3A%2F%2F127.0.0.1%2Fcallback&client_id=demo-spa&code_verifier=x", FORM).await;
    assert_eq!(
        (status, body["error"].as_str()),
        (400, Some("invalid_grant"))
    );
    let (status, body, _) = token_request(
        s,
        None,
        "grant_type=refresh_token&refresh_token=rrt_unbekannt&client_id=demo-spa",
        FORM,
    )
    .await;
    assert_eq!(
        (status, body["error"].as_str()),
        (400, Some("invalid_grant"))
    );
    let (status, body, _) = token_request(
        s,
        Some(("demo-backoffice", "demo-secret")),
        "grant_type=client_credentials&scope=email",
        FORM,
    )
    .await;
    assert_eq!(
        (status, body["error"].as_str()),
        (400, Some("invalid_scope"))
    );
    // Failures that got past the form parser are audited (the ones refused while parsing are not
    // attributable to a client).
    assert_eq!(audit_count(s, "oidc.token_failed").await - before, 6);
    // Oversized requests are refused by their declared length.
    let (status, _) = s
        .oversized(
            "POST",
            "/oidc/token",
            &[("content-type", FORM)],
            50 * 1024 * 1024,
        )
        .await;
    assert_eq!(status, 413);
    // An unknown client or a foreign redirect URI is answered with a page, never a redirect.
    let res = s.get("/oidc/authorize?response_type=code&client_id=demo-spa&redirect_uri=http%3A%2F%2F127.0.0.1%3A9%2Fcallbackx&scope=openid&code_challenge=E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM&code_challenge_method=S256").await;
    assert_eq!(res.status(), 400);
    assert!(res.headers().get("location").is_none());
}
on_both_backends!(bad_token_requests_get_standard_errors, bad_token_requests);

async fn machine_tokens(s: &Server) {
    const FORM: &str = "application/x-www-form-urlencoded";
    let (status, body, _) = token_request(
        s,
        Some(("demo-backoffice", "demo-secret")),
        "grant_type=client_credentials",
        FORM,
    )
    .await;
    assert_eq!(status, 200, "{body}");
    let token = body["access_token"].as_str().unwrap().to_owned();
    assert!(body.get("refresh_token").is_none() && body.get("id_token").is_none());
    // The back-office API of every demo tenant accepts it.
    for slug in ["koeln", "dahlem"] {
        let res = s
            .get_as(&token, &format!("/api/v1/tenants/{slug}/process-inventory"))
            .await;
        assert_eq!(res.status(), 200, "{slug}");
    }
    // Tampered payload, `alg: none` and a foreign signature are refused.
    let parts: Vec<&str> = token.split('.').collect();
    let mut payload = claims(&token);
    payload["sub"] = "someone-else".into();
    let forged = URL_SAFE_NO_PAD.encode(payload.to_string());
    let tampered = format!("{}.{forged}.{}", parts[0], parts[2]);
    let header: Value = serde_json::from_slice(&URL_SAFE_NO_PAD.decode(parts[0]).unwrap()).unwrap();
    let none_header = URL_SAFE_NO_PAD.encode(format!(
        r#"{{"alg":"none","kid":{},"typ":"at+jwt"}}"#,
        header["kid"]
    ));
    let unsigned = format!("{none_header}.{}.", parts[1]);
    for bad in [
        tampered,
        unsigned,
        format!("{}.{}.AAAA", parts[0], parts[1]),
    ] {
        let res = s
            .get_as(&bad, "/api/v1/tenants/koeln/process-inventory")
            .await;
        assert_eq!(res.status(), 401);
    }
    // Revoked: introspection says inactive and the API refuses it.
    let introspect = |t: String| {
        s.client
            .post(s.url("/oidc/introspect"))
            .basic_auth("demo-backoffice", Some("demo-secret"))
            .form(&[("token", t)])
            .send()
    };
    let active: Value = introspect(token.clone())
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(active["active"], true);
    assert_eq!(active["client_id"], "demo-backoffice");
    let res = s
        .client
        .post(s.url("/oidc/revoke"))
        .basic_auth("demo-backoffice", Some("demo-secret"))
        .form(&[("token", token.as_str())])
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 200);
    let inactive: Value = introspect(token.clone())
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(inactive, serde_json::json!({"active": false}));
    assert_eq!(
        s.get_as(&token, "/api/v1/tenants/koeln/process-inventory")
            .await
            .status(),
        401
    );
    assert_eq!(audit_count(s, "oidc.revoke").await, 1);
    // Discovery and JWKS: both algorithms, no private key material.
    let jwks: Value = s.get("/oidc/jwks").await.json().await.unwrap();
    let algs: Vec<&str> = jwks["keys"]
        .as_array()
        .unwrap()
        .iter()
        .map(|k| k["alg"].as_str().unwrap())
        .collect();
    assert!(
        algs.contains(&"ES256") && algs.contains(&"RS256"),
        "{algs:?}"
    );
    assert!(
        jwks["keys"]
            .as_array()
            .unwrap()
            .iter()
            .all(|k| k.get("d").is_none())
    );
}
on_both_backends!(machine_tokens_act_on_the_back_office_api, machine_tokens);

async fn login<'a>(s: &'a Server, email: &str, password: &str) -> Browser<'a> {
    let mut b = Browser::new(s);
    let Answer { body: page, .. } = b.get("/anmelden").await;
    let Answer { status, .. } = b
        .post(
            "/anmelden",
            &[
                ("csrf", &input(&page, "csrf")),
                ("weiter", "/konto"),
                ("email", email),
                ("passwort", password),
            ],
        )
        .await;
    assert_eq!(status, 303, "login of {email}");
    b
}

fn pairs<'a>(form: &'a [(&'static str, String)]) -> Vec<(&'static str, &'a str)> {
    form.iter().map(|(k, v)| (*k, v.as_str())).collect()
}

async fn back_office(s: &Server) {
    // Not logged in: to the login, and back afterwards.
    let mut anonymous = Browser::new(s);
    let Answer {
        status, location, ..
    } = anonymous.get("/koeln/verwaltung").await;
    assert_eq!(
        (status, location.as_str()),
        (303, "/anmelden?weiter=%2Fkoeln%2Fverwaltung")
    );

    // A citizen without a staff membership, and the clerk at another tenant: refused.
    let mut erika = login(s, "erika.mustermann@example.org", "Demo-Passwort-1").await;
    assert_eq!(erika.get("/koeln/verwaltung").await.status, 403);
    let mut clerk = login(s, "sachbearbeitung.koeln@example.org", "Demo-Passwort-1").await;
    assert_eq!(clerk.get("/dahlem/verwaltung").await.status, 403);

    let Answer {
        status, body: page, ..
    } = clerk.get("/koeln/verwaltung").await;
    assert_eq!(status, 200);
    assert!(
        page.contains("Prozessinventur") && page.contains("Noch keine Einträge"),
        "{page}"
    );
    let csrf = input(&page, "csrf");
    let entry = |id: &'static str, cases: &'static str| {
        vec![
            ("csrf", csrf.clone()),
            ("leistung_id", id.to_owned()),
            ("cases_per_year", cases.to_owned()),
            ("minutes_per_case", "20".to_owned()),
            ("office", "Bürgeramt".to_owned()),
            ("involved_offices", "Kasse, Ordnungsamt".to_owned()),
            ("legal_notes", "Schriftform".to_owned()),
        ]
    };
    // Bad input: shown next to the form, entered data kept, nothing stored.
    let form = entry("2939", "viele");
    let Answer {
        status, body: page, ..
    } = clerk
        .post("/koeln/verwaltung/prozessinventur", &pairs(&form))
        .await;
    assert_eq!(status, 422);
    assert!(
        page.contains("Fälle pro Jahr: bitte eine ganze Zahl")
            && page.contains("value=\"viele\"")
            && page.contains("Noch keine Einträge"),
        "{page}"
    );
    let form = entry("99999999", "100");
    let Answer {
        status, body: page, ..
    } = clerk
        .post("/koeln/verwaltung/prozessinventur", &pairs(&form))
        .await;
    assert_eq!(status, 422);
    assert!(page.contains("gibt es im Katalog nicht"), "{page}");
    // A forged form (foreign CSRF token) is refused.
    let mut forged = entry("2939", "1200");
    forged[0].1 = "x.y".into();
    let Answer { status, .. } = clerk
        .post("/koeln/verwaltung/prozessinventur", &pairs(&forged))
        .await;
    assert_eq!(status, 403);
    // A valid entry is stored, ranked, audited with the clerk as actor, and visible on the API.
    let form = entry("2939", "1200");
    let Answer {
        status, location, ..
    } = clerk
        .post("/koeln/verwaltung/prozessinventur", &pairs(&form))
        .await;
    assert_eq!(
        (status, location.as_str()),
        (303, "/koeln/verwaltung?gespeichert=2939")
    );
    let Answer { body: page, .. } = clerk.get(&location).await;
    assert!(
        page.contains("gespeichert") && page.contains("400.0"),
        "1200 × 20 min = 400 h: {page}"
    );
    let token = s.token("koeln", "pruefer", "Sachbearbeitung");
    let api = s
        .json_as(&token, "/api/v1/tenants/koeln/process-inventory")
        .await;
    assert_eq!(api[0]["leistung_id"], 2939);
    assert_eq!(api[0]["updated_by"], "staff:koeln/sachbearbeitung");
    assert_eq!(
        api[0]["involved_offices"],
        serde_json::json!(["Kasse", "Ordnungsamt"])
    );
}
on_both_backends!(
    staff_keep_the_process_inventory_in_the_back_office,
    back_office
);

async fn staff_link_cli(s: &Server) {
    let out = s.cli(&[
        "staff",
        "link",
        "--tenant",
        "dahlem",
        "--user",
        "erika",
        "--email",
        "erika.mustermann@example.org",
        "--office",
        "Ordnungsamt",
        "--role",
        "Redaktion",
    ]);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let mut erika = login(s, "erika.mustermann@example.org", "Demo-Passwort-1").await;
    assert_eq!(erika.get("/dahlem/verwaltung").await.status, 200);
    assert_eq!(erika.get("/koeln/verwaltung").await.status, 403);
    let unknown = s.cli(&[
        "staff",
        "link",
        "--tenant",
        "dahlem",
        "--user",
        "x",
        "--email",
        "niemand@example.org",
    ]);
    assert!(!unknown.status.success());
    assert!(String::from_utf8_lossy(&unknown.stderr).contains("niemand@example.org"));
}
on_both_backends!(staff_link_makes_an_account_staff, staff_link_cli);

async fn tenant_clients(s: &Server) {
    let admin = s.token("koeln", "koeln-admin", "admin");
    let clerk = s.token("koeln", "koeln-clerk", "Sachbearbeitung");
    let register = |token: String, body: Value| {
        s.client
            .post(s.url("/api/v1/tenants/koeln/oidc-clients"))
            .bearer_auth(token)
            .json(&body)
            .send()
    };
    let machine = serde_json::json!({"name": "Fachverfahren Hundesteuer", "kind": "confidential", "grant_types": ["client_credentials"], "staff_role": "Sachbearbeitung"});
    // Only the tenant's admins register clients.
    assert_eq!(
        register(clerk, machine.clone()).await.unwrap().status(),
        403
    );
    // Bad registrations are refused naming the field.
    for (bad, field) in [
        (
            serde_json::json!({"name": "x", "kind": "public", "grant_types": ["authorization_code"], "redirect_uris": ["http://evil.example/cb"]}),
            "redirect_uris",
        ),
        (
            serde_json::json!({"name": "x", "kind": "public", "grant_types": ["client_credentials"]}),
            "grant_types",
        ),
        (
            serde_json::json!({"name": "x", "kind": "confidential", "grant_types": ["implicit"]}),
            "grant_types",
        ),
        (
            serde_json::json!({"name": "", "kind": "confidential", "grant_types": ["client_credentials"]}),
            "name",
        ),
    ] {
        let res = register(admin.clone(), bad).await.unwrap();
        assert_eq!(res.status(), 400, "{field}");
        let problem: Value = res.json().await.unwrap();
        assert_eq!(problem["field"], field);
    }
    let res = register(admin.clone(), machine).await.unwrap();
    assert_eq!(res.status(), 201);
    let created: Value = res.json().await.unwrap();
    let id = created["client_id"].as_str().unwrap().to_owned();
    let secret = created["client_secret"].as_str().unwrap().to_owned();
    assert!(id.starts_with("koeln-") && secret.starts_with("rcs_"));
    let listed = s
        .json_as(&admin, "/api/v1/tenants/koeln/oidc-clients")
        .await;
    assert_eq!(listed[0]["client_id"], id.as_str());
    assert!(
        listed[0].get("client_secret").is_none(),
        "the secret is shown once"
    );
    // Dahlem's admin neither sees nor removes Köln's client.
    let dahlem = s.token("dahlem", "dahlem-admin", "admin");
    assert_eq!(
        s.json_as(&dahlem, "/api/v1/tenants/dahlem/oidc-clients")
            .await,
        serde_json::json!([])
    );
    let res = s
        .client
        .delete(s.url(&format!("/api/v1/tenants/dahlem/oidc-clients/{id}")))
        .bearer_auth(&dahlem)
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 404);

    // Its tokens act for Köln only, with its role: a token of tenant A is refused at tenant B.
    const FORM: &str = "application/x-www-form-urlencoded";
    let (status, body, _) = token_request(
        s,
        Some((&id, &secret)),
        "grant_type=client_credentials",
        FORM,
    )
    .await;
    assert_eq!(status, 200, "{body}");
    let token = body["access_token"].as_str().unwrap();
    assert_eq!(
        s.get_as(token, "/api/v1/tenants/koeln/process-inventory")
            .await
            .status(),
        200
    );
    assert_eq!(
        s.get_as(token, "/api/v1/tenants/dahlem/process-inventory")
            .await
            .status(),
        403
    );
    assert_eq!(
        s.get_as(token, "/api/v1/tenants/koeln/audit")
            .await
            .status(),
        403,
        "Sachbearbeitung is not admin"
    );

    // Removed: its secret no longer works.
    let res = s
        .client
        .delete(s.url(&format!("/api/v1/tenants/koeln/oidc-clients/{id}")))
        .bearer_auth(&admin)
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 204);
    let (status, body, _) = token_request(
        s,
        Some((&id, &secret)),
        "grant_type=client_credentials",
        FORM,
    )
    .await;
    assert_eq!(
        (status, body["error"].as_str()),
        (401, Some("invalid_client"))
    );
}
on_both_backends!(tenants_register_their_own_clients, tenant_clients);

async fn organisation_members(s: &Server) {
    let mut erika = login(s, "erika.mustermann@example.org", "Demo-Passwort-1").await;
    let Answer { body: page, .. } = erika.get("/konto").await;
    let org_path = page
        .split("href=\"/konto/organisation/")
        .nth(1)
        .map(|r| format!("/konto/organisation/{}", r.split('"').next().unwrap()))
        .expect("organisation link");
    assert!(page.contains("Musterfirma GmbH"), "{page}");
    let Answer {
        status, body: page, ..
    } = erika.get(&org_path).await;
    assert_eq!(status, 200);
    let csrf = input(&page, "csrf");
    let add = |email: &'static str, role: &'static str| {
        [
            ("csrf", csrf.clone()),
            ("email", email.to_owned()),
            ("rolle", role.to_owned()),
        ]
    };
    // Unknown address: refused with the reason, nothing changes.
    let Answer {
        status, body: page, ..
    } = erika
        .post(
            &format!("{org_path}/mitglieder"),
            &pairs(&add("niemand@example.org", "member")),
        )
        .await;
    assert_eq!(status, 422);
    assert!(page.contains("kein Bürgerkonto"), "{page}");
    // The clerk becomes a member and sees the company on her account page, without admin forms.
    let Answer { status, .. } = erika
        .post(
            &format!("{org_path}/mitglieder"),
            &pairs(&add("sachbearbeitung.koeln@example.org", "member")),
        )
        .await;
    assert_eq!(status, 303);
    let Answer { status, .. } = erika
        .post(
            &format!("{org_path}/mitglieder"),
            &pairs(&add("sachbearbeitung.koeln@example.org", "member")),
        )
        .await;
    assert_eq!(status, 409, "already a member");
    let mut clerk = login(s, "sachbearbeitung.koeln@example.org", "Demo-Passwort-1").await;
    let Answer { body: page, .. } = clerk.get("/konto").await;
    assert!(
        page.contains("Musterfirma GmbH") && page.contains("(Mitglied)"),
        "{page}"
    );
    let Answer {
        status, body: page, ..
    } = clerk.get(&org_path).await;
    assert_eq!(status, 200);
    assert!(
        !page.contains("Mitglied hinzufügen"),
        "members do not manage: {page}"
    );
    let clerk_csrf = input(&clerk.get("/konto").await.body, "csrf");
    let Answer { status, .. } = clerk
        .post(
            &format!("{org_path}/mitglieder"),
            &[
                ("csrf", clerk_csrf.as_str()),
                ("email", "erika.mustermann@example.org"),
                ("rolle", "admin"),
            ],
        )
        .await;
    assert_eq!(status, 403);
    // The last admin cannot leave; a member can be removed.
    let erika_id = {
        let db = s.db().connect().await.unwrap();
        sqlx::query_scalar::<_, String>(
            "SELECT id FROM accounts WHERE email = 'erika.mustermann@example.org'",
        )
        .fetch_one(db.pool())
        .await
        .unwrap()
    };
    let Answer {
        status, body: page, ..
    } = erika
        .post(
            &format!("{org_path}/entfernen"),
            &[("csrf", csrf.as_str()), ("account_id", erika_id.as_str())],
        )
        .await;
    assert_eq!(status, 422);
    assert!(page.contains("letzte"), "{page}");
    let clerk_id = {
        let db = s.db().connect().await.unwrap();
        sqlx::query_scalar::<_, String>(
            "SELECT id FROM accounts WHERE email = 'sachbearbeitung.koeln@example.org'",
        )
        .fetch_one(db.pool())
        .await
        .unwrap()
    };
    let Answer { status, .. } = erika
        .post(
            &format!("{org_path}/entfernen"),
            &[("csrf", csrf.as_str()), ("account_id", clerk_id.as_str())],
        )
        .await;
    assert_eq!(status, 303);
    assert_eq!(clerk.get(&org_path).await.status, 403, "no longer a member");
    assert_eq!(
        audit_count(s, "organisation.member_add").await,
        2,
        "demo seed and Erika's addition"
    );
    assert_eq!(audit_count(s, "organisation.member_remove").await, 1);
}
on_both_backends!(organisation_admins_manage_members, organisation_members);
