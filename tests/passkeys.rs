//! Passkeys through HTTP, on SQLite and PostgreSQL, without a browser: the options endpoint
//! needs a login and our CSRF token; answers that are garbage or forged (foreign challenge,
//! foreign origin, replayed ceremony) are refused with a clear message and store nothing; a
//! well-formed registration made in software is stored, audited and then demanded after the
//! password; removal is limited to the owner and to sessions with a second factor; deleting
//! the account deletes its passkeys. (The real ceremony with Chromium's virtual authenticator
//! and an OIDC client is `browser/tests/passkey.test.mjs`.)
//!
//! WebAuthn needs a domain name as relying-party id, so most tests run the server with the
//! issuer `http://localhost` (the answers below are built for that origin).

use crate::on_both_backends;
use crate::support::{Answer, Browser, Server, input};
use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use rathaus_storage::testing::TestDatabase;
use serde_json::{Value, json};
use sha2::{Digest, Sha256};

const EMAIL: &str = "erika.mustermann@example.org";
const PASSWORD: &str = "Demo-Passwort-1";
const ORIGIN: &str = "http://localhost";

/// Runs a test body against a demo server whose issuer is `http://localhost`, on both backends.
macro_rules! with_localhost_issuer {
    ($name:ident, $body:ident) => {
        mod $name {
            #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
            async fn sqlite() {
                super::$body(&super::localhost_server("sqlite").await).await;
            }
            #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
            async fn postgres() {
                super::$body(&super::localhost_server("postgres").await).await;
            }
        }
    };
}

async fn localhost_server(backend: &str) -> Server {
    let db = TestDatabase::new(backend).await.expect("test database");
    Server::start(db, "demo", &[("RATHAUS_IDENTITY__ISSUER", ORIGIN)])
}

/// Steps of the passkey tests on top of the plain browser.
trait PasskeyBrowser {
    async fn login(&mut self) -> Answer;
    async fn account_csrf(&mut self) -> String;
    async fn register_options(&mut self, csrf: &str) -> (u16, Value);
}

impl PasskeyBrowser for Browser<'_> {
    /// Logs in with the password; returns the answer of the login post.
    async fn login(&mut self) -> Answer {
        let page = self.get("/anmelden").await.body;
        let csrf = input(&page, "csrf");
        self.post(
            "/anmelden",
            &[
                ("csrf", &csrf),
                ("weiter", "/konto"),
                ("email", EMAIL),
                ("passwort", PASSWORD),
            ],
        )
        .await
    }

    /// Logs in and opens the account page; returns its CSRF token.
    async fn account_csrf(&mut self) -> String {
        let a = self.login().await;
        assert_eq!(
            (a.status, a.location.as_str()),
            (303, "/konto"),
            "{}",
            a.body
        );
        let page = self.get("/konto").await;
        assert_eq!(page.status, 200);
        input(&page.body, "csrf")
    }

    /// `POST /konto/passkeys/optionen`: status and JSON.
    async fn register_options(&mut self, csrf: &str) -> (u16, Value) {
        let a = self
            .post("/konto/passkeys/optionen", &[("csrf", csrf)])
            .await;
        (
            a.status,
            serde_json::from_str(&a.body).unwrap_or_else(|_| panic!("JSON: {}", a.body)),
        )
    }
}

async fn count(s: &Server, sql: &str) -> i64 {
    let db = s.db().connect().await.unwrap();
    sqlx::query_scalar::<_, i64>(sqlx::AssertSqlSafe(sql.to_owned()))
        .fetch_one(db.pool())
        .await
        .unwrap()
}

async fn passkey_rows(s: &Server) -> i64 {
    count(s, "SELECT COUNT(*) FROM passkeys").await
}

async fn audit_count(s: &Server, action: &str) -> i64 {
    count(
        s,
        &format!("SELECT COUNT(*) FROM audit_log WHERE action = '{action}'"),
    )
    .await
}

/// CBOR head of a byte or text string of `len` bytes (major type `major`).
fn cbor_head(major: u8, len: usize) -> Vec<u8> {
    match len {
        0..=23 => vec![(major << 5) | len as u8],
        24..=255 => vec![(major << 5) | 24, len as u8],
        _ => vec![(major << 5) | 25, (len >> 8) as u8, len as u8],
    }
}

fn cbor_text(s: &str) -> Vec<u8> {
    let mut v = cbor_head(3, s.len());
    v.extend_from_slice(s.as_bytes());
    v
}

fn cbor_bytes(b: &[u8]) -> Vec<u8> {
    let mut v = cbor_head(2, b.len());
    v.extend_from_slice(b);
    v
}

fn hex(s: &str) -> Vec<u8> {
    (0..s.len())
        .step_by(2)
        .map(|i| u8::from_str_radix(&s[i..i + 2], 16).unwrap())
        .collect()
}

/// A registration answer as an authenticator with attestation `none` would give it: a P-256
/// public key (the curve's base point — any valid point will do, nothing is signed), user
/// present and verified, for relying party `rp_id`, in client data with `challenge`/`origin`.
fn registration_answer(challenge: &str, origin: &str, rp_id: &str, cred_id: &[u8]) -> String {
    let x = hex("6b17d1f2e12c4247f8bce6e563a440f277037d812deb33a0f4a13945d898c296");
    let y = hex("4fe342e2fe1a7f9b8ee7eb4a7c0f9e162bce33576b315ececbb6406837bf51f5");
    // COSE_Key {1: 2 (EC2), 3: -7 (ES256), -1: 1 (P-256), -2: x, -3: y}
    let mut cose = vec![0xa5, 0x01, 0x02, 0x03, 0x26, 0x20, 0x01, 0x21];
    cose.extend(cbor_bytes(&x));
    cose.push(0x22);
    cose.extend(cbor_bytes(&y));
    let mut auth_data = Sha256::digest(rp_id.as_bytes()).to_vec();
    auth_data.push(0x01 | 0x04 | 0x40); // UP, UV, attested credential data
    auth_data.extend([0, 0, 0, 0]); // sign count
    auth_data.extend([0u8; 16]); // AAGUID
    auth_data.extend((cred_id.len() as u16).to_be_bytes());
    auth_data.extend_from_slice(cred_id);
    auth_data.extend(cose);
    let mut attestation = vec![0xa3];
    attestation.extend(cbor_text("fmt"));
    attestation.extend(cbor_text("none"));
    attestation.extend(cbor_text("attStmt"));
    attestation.push(0xa0);
    attestation.extend(cbor_text("authData"));
    attestation.extend(cbor_bytes(&auth_data));
    let client_data = json!({"type": "webauthn.create", "challenge": challenge, "origin": origin, "crossOrigin": false});
    let id = URL_SAFE_NO_PAD.encode(cred_id);
    json!({
        "id": id,
        "rawId": id,
        "type": "public-key",
        "response": {
            "attestationObject": URL_SAFE_NO_PAD.encode(&attestation),
            "clientDataJSON": URL_SAFE_NO_PAD.encode(client_data.to_string()),
        },
        "extensions": {},
    })
    .to_string()
}

/// Starts a registration and posts `answer(challenge)` with the ceremony; returns the answer.
async fn register_with(
    b: &mut Browser<'_>,
    csrf: &str,
    answer: impl FnOnce(&str) -> String,
) -> Answer {
    let (status, options) = b.register_options(csrf).await;
    assert_eq!(status, 200, "{options}");
    let challenge = options["optionen"]["publicKey"]["challenge"]
        .as_str()
        .expect("challenge");
    let ceremony = options["vorgang"].as_str().expect("ceremony").to_owned();
    let answer = answer(challenge);
    b.post(
        "/konto/passkeys",
        &[
            ("csrf", csrf),
            ("passkey_vorgang", &ceremony),
            ("bezeichnung", "Testschlüssel"),
            ("antwort", &answer),
        ],
    )
    .await
}

async fn options_need_login_and_our_csrf_token(s: &Server) {
    // Without a session: 401 with a message for the script, and no ceremony is kept.
    let mut stranger = Browser::new(s);
    let (_, token) = s.form_session("/anmelden").await;
    let (status, body) = stranger.register_options(&token).await;
    assert_eq!(status, 401, "{body}");
    assert!(
        body["fehler"]
            .as_str()
            .unwrap()
            .contains("melden Sie sich an")
    );

    // Logged in, but with a CSRF token of another browser (a forged cross-site request).
    let mut b = Browser::new(s);
    let own = b.account_csrf().await;
    let (status, body) = b.register_options(&token).await;
    assert_eq!(status, 403, "{body}");
    assert!(body["fehler"].as_str().unwrap().contains("abgelaufen"));
    assert_eq!(
        count(s, "SELECT COUNT(*) FROM passkey_ceremonies").await,
        0,
        "no ceremony for refused requests"
    );

    // With our token: options for navigator.credentials.create for this relying party.
    let (status, body) = b.register_options(&own).await;
    assert_eq!(status, 200, "{body}");
    let pk = &body["optionen"]["publicKey"];
    assert_eq!(pk["rp"]["id"], "localhost");
    assert_eq!(pk["user"]["name"], EMAIL);
    assert_eq!(pk["authenticatorSelection"]["userVerification"], "required");
    assert!(pk["challenge"].as_str().unwrap().len() >= 43, "{pk}");
    assert!(body["vorgang"].as_str().unwrap().starts_with("rpk_"));
    assert_eq!(
        count(s, "SELECT COUNT(*) FROM passkey_ceremonies").await,
        1,
        "one ceremony kept server-side"
    );
}
with_localhost_issuer!(options_guarded, options_need_login_and_our_csrf_token);

async fn garbage_and_forged_answers_store_nothing(s: &Server) {
    let mut b = Browser::new(s);
    let csrf = b.account_csrf().await;
    let cred = [7u8; 16];

    let garbage = register_with(&mut b, &csrf, |_| "{\"id\": 1, kein JSON".into()).await;
    assert_eq!(garbage.status, 422, "{}", garbage.body);
    assert!(
        garbage
            .body
            .contains("Der Passkey wurde nicht gespeichert: Die Antwort des Browsers ist unvollständig oder fehlerhaft."),
        "{}",
        garbage.body
    );

    // Well-formed, but signed for another site (phishing origin) or another relying party.
    let phished = register_with(&mut b, &csrf, |c| {
        registration_answer(c, "https://evil.example", "localhost", &cred)
    })
    .await;
    assert_eq!(phished.status, 422);
    assert!(
        phished.body.contains("für eine andere Website"),
        "{}",
        phished.body
    );
    let other_rp = register_with(&mut b, &csrf, |c| {
        registration_answer(c, ORIGIN, "evil.example", &cred)
    })
    .await;
    assert_eq!(other_rp.status, 422);
    assert!(other_rp.body.contains("für eine andere Website"));

    // An answer to a challenge we never issued.
    let foreign = register_with(&mut b, &csrf, |_| {
        registration_answer(
            &URL_SAFE_NO_PAD.encode([1u8; 32]),
            ORIGIN,
            "localhost",
            &cred,
        )
    })
    .await;
    assert_eq!(foreign.status, 422);
    assert!(
        foreign.body.contains("gehört nicht zu dieser Anfrage"),
        "{}",
        foreign.body
    );

    // A ceremony can be answered once: the same ceremony again is expired, even with a good answer.
    let (_, options) = b.register_options(&csrf).await;
    let challenge = options["optionen"]["publicKey"]["challenge"]
        .as_str()
        .unwrap()
        .to_owned();
    let ceremony = options["vorgang"].as_str().unwrap().to_owned();
    let bad = registration_answer(&challenge, "https://evil.example", "localhost", &cred);
    let first = b
        .post(
            "/konto/passkeys",
            &[
                ("csrf", &csrf),
                ("passkey_vorgang", &ceremony),
                ("antwort", &bad),
            ],
        )
        .await;
    assert_eq!(first.status, 422);
    let good = registration_answer(&challenge, ORIGIN, "localhost", &cred);
    let again = b
        .post(
            "/konto/passkeys",
            &[
                ("csrf", &csrf),
                ("passkey_vorgang", &ceremony),
                ("antwort", &good),
            ],
        )
        .await;
    assert_eq!(again.status, 422);
    assert!(
        again
            .body
            .contains("abgelaufen oder wurde bereits verwendet"),
        "{}",
        again.body
    );

    // A foreign CSRF token on the form post is refused before anything is looked at.
    let (_, foreign_token) = s.form_session("/anmelden").await;
    let forged = b
        .post(
            "/konto/passkeys",
            &[
                ("csrf", &foreign_token),
                ("passkey_vorgang", "rpk_x"),
                ("antwort", &good),
            ],
        )
        .await;
    assert_eq!(forged.status, 403);

    assert_eq!(passkey_rows(s).await, 0, "nothing stored");
    assert_eq!(audit_count(s, "account.passkey_added").await, 0);
}
with_localhost_issuer!(refused_answers, garbage_and_forged_answers_store_nothing);

async fn a_registered_passkey_is_demanded_after_the_password(s: &Server) {
    let mut b = Browser::new(s);
    let csrf = b.account_csrf().await;
    let cred = [42u8; 16];
    let ok = register_with(&mut b, &csrf, |c| {
        registration_answer(c, ORIGIN, "localhost", &cred)
    })
    .await;
    assert_eq!(
        (ok.status, ok.location.as_str()),
        (303, "/konto?hinweis=passkey"),
        "{}",
        ok.body
    );
    assert_eq!(passkey_rows(s).await, 1);
    assert_eq!(audit_count(s, "account.passkey_added").await, 1);
    let page = b.get("/konto?hinweis=passkey").await.body;
    assert!(
        page.contains("Der Passkey ist eingerichtet") && page.contains("Testschlüssel"),
        "{page}"
    );
    assert!(page.contains("<dd>eingerichtet (Passkey)</dd>"), "{page}");

    // The same authenticator cannot be registered twice.
    let twice = register_with(&mut b, &csrf, |c| {
        registration_answer(c, ORIGIN, "localhost", &cred)
    })
    .await;
    assert_eq!(twice.status, 422);
    assert!(twice.body.contains("bereits registriert"), "{}", twice.body);
    assert_eq!(passkey_rows(s).await, 1);

    // This low session may not remove it: that needs a login with a second factor.
    let id: String = {
        let db = s.db().connect().await.unwrap();
        sqlx::query_scalar("SELECT id FROM passkeys")
            .fetch_one(db.pool())
            .await
            .unwrap()
    };
    let removal = b
        .post("/konto/passkeys/entfernen", &[("csrf", &csrf), ("id", &id)])
        .await;
    assert_eq!(removal.status, 403, "{}", removal.body);
    assert!(removal.body.contains("zweiten Faktor"));
    assert_eq!(passkey_rows(s).await, 1);

    // A new login: the password alone gives no session, the second step offers the passkey.
    let mut other = Browser::new(s);
    let step = other.login().await;
    assert_eq!(step.status, 200, "no redirect after the password alone");
    assert!(
        !other.cookies.contains_key("rathaus_sitzung"),
        "no session yet"
    );
    assert!(
        step.body.contains("Mit Passkey bestätigen"),
        "{}",
        step.body
    );
    assert!(step.body.contains("/assets/passkey.js"));
    assert!(
        !step.body.contains("name=\"code\""),
        "no TOTP field without TOTP"
    );
    let csrf2 = input(&step.body, "csrf");
    let pending = input(&step.body, "vorgang");
    let options = other
        .post(
            "/anmelden/passkey/optionen",
            &[("csrf", &csrf2), ("vorgang", &pending)],
        )
        .await;
    assert_eq!(options.status, 200, "{}", options.body);
    let options: Value = serde_json::from_str(&options.body).unwrap();
    let allowed = &options["optionen"]["publicKey"]["allowCredentials"];
    assert_eq!(allowed[0]["id"], URL_SAFE_NO_PAD.encode(cred), "{options}");
    // A forged assertion (no valid signature) is refused and starts no session.
    let client_data = json!({"type": "webauthn.get", "challenge": options["optionen"]["publicKey"]["challenge"], "origin": ORIGIN});
    let mut auth_data = Sha256::digest(b"localhost").to_vec();
    auth_data.extend([0x05, 0, 0, 0, 9]);
    let assertion = json!({
        "id": URL_SAFE_NO_PAD.encode(cred),
        "rawId": URL_SAFE_NO_PAD.encode(cred),
        "type": "public-key",
        "response": {
            "authenticatorData": URL_SAFE_NO_PAD.encode(&auth_data),
            "clientDataJSON": URL_SAFE_NO_PAD.encode(client_data.to_string()),
            "signature": URL_SAFE_NO_PAD.encode([0x30, 0x06, 0x02, 0x01, 0x01, 0x02, 0x01, 0x01]),
            "userHandle": null,
        },
        "extensions": {},
    })
    .to_string();
    let refused = other
        .post(
            "/anmelden/passkey",
            &[
                ("csrf", &csrf2),
                ("vorgang", &pending),
                ("passkey_vorgang", options["vorgang"].as_str().unwrap()),
                ("antwort", &assertion),
            ],
        )
        .await;
    assert_eq!(refused.status, 200, "{}", refused.body);
    assert!(
        refused
            .body
            .contains("Die Bestätigung mit Passkey ist fehlgeschlagen: Die Signatur des Passkeys ist ungültig."),
        "{}",
        refused.body
    );
    assert!(
        !other.cookies.contains_key("rathaus_sitzung"),
        "still no session"
    );

    // An authorization demanding level substantial from the low session asks for the passkey.
    let step_up = b
        .get("/oidc/authorize?response_type=code&client_id=demo-spa&redirect_uri=http%3A%2F%2F127.0.0.1%3A9%2Fcallback&scope=openid&state=s&nonce=n&code_challenge=E9Melhoe2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM&code_challenge_method=S256&acr_values=http%3A%2F%2Feidas.europa.eu%2FLoA%2Fsubstantial")
        .await;
    assert_eq!(step_up.status, 200);
    assert!(
        step_up.body.contains("Mit Passkey bestätigen"),
        "{}",
        step_up.body
    );

    // The export lists the passkey (no key material); deleting the account deletes it.
    let export: Value = serde_json::from_str(&b.get("/konto/export").await.body).unwrap();
    assert_eq!(
        export["second_factor"]["passkeys"][0]["name"],
        "Testschlüssel"
    );
    assert!(!export.to_string().contains("cred_id"), "{export}");
    let page = b.get("/konto/loeschen").await.body;
    let deleted = b
        .post(
            "/konto/loeschen",
            &[("csrf", &input(&page, "csrf")), ("passwort", PASSWORD)],
        )
        .await;
    assert_eq!(deleted.status, 200, "{}", deleted.body);
    assert_eq!(passkey_rows(s).await, 0, "passkeys go with the account");
    assert_eq!(count(s, "SELECT COUNT(*) FROM passkey_ceremonies").await, 0);
}
with_localhost_issuer!(
    registered_passkey,
    a_registered_passkey_is_demanded_after_the_password
);

async fn another_accounts_passkey_cannot_be_removed(s: &Server) {
    // A passkey of the demo company account, written directly.
    let db = s.db().connect().await.unwrap();
    let org: String = sqlx::query_scalar("SELECT id FROM accounts WHERE kind = 'organisation'")
        .fetch_one(db.pool())
        .await
        .unwrap();
    sqlx::query(
        "INSERT INTO passkeys (id, account_id, credential_id, credential, name, created_at) \
         VALUES ('fremder-passkey', $1, 'Y3JlZA', '{}', 'Firmenschlüssel', '2026-01-01T00:00:00Z')",
    )
    .bind(&org)
    .execute(db.pool())
    .await
    .unwrap();

    let mut b = Browser::new(s);
    let csrf = b.account_csrf().await;
    let page = b.get("/konto").await.body;
    assert!(
        !page.contains("Firmenschlüssel"),
        "only own passkeys are listed"
    );
    for id in ["fremder-passkey", "gibt-es-nicht"] {
        let a = b
            .post("/konto/passkeys/entfernen", &[("csrf", &csrf), ("id", id)])
            .await;
        assert_eq!(a.status, 404, "{id}: {}", a.body);
        assert!(a.body.contains("Passkey nicht gefunden"));
    }
    let (_, foreign_token) = s.form_session("/anmelden").await;
    let a = b
        .post(
            "/konto/passkeys/entfernen",
            &[("csrf", &foreign_token), ("id", "fremder-passkey")],
        )
        .await;
    assert_eq!(a.status, 403);
    assert_eq!(
        passkey_rows(s).await,
        1,
        "the company's passkey is still there"
    );
    assert_eq!(audit_count(s, "account.passkey_removed").await, 0);
}
on_both_backends!(foreign_passkey, another_accounts_passkey_cannot_be_removed);

async fn without_a_domain_name_passkeys_are_unavailable(s: &Server) {
    // The demo's issuer is http://127.0.0.1:PORT, which browsers refuse as relying party.
    let mut b = Browser::new(s);
    let csrf = b.account_csrf().await;
    let page = b.get("/konto").await.body;
    assert!(
        page.contains("Passkeys sind auf dieser Installation nicht verfügbar"),
        "{page}"
    );
    assert!(!page.contains("Passkey hinzufügen"));
    let (status, body) = b.register_options(&csrf).await;
    assert_eq!(status, 422);
    assert!(body["fehler"].as_str().unwrap().contains("nicht verfügbar"));
}
on_both_backends!(
    unavailable_on_ip_issuer,
    without_a_domain_name_passkeys_are_unavailable
);
