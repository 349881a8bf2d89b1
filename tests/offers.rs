//! Tenant-local variants of services: drafts stay private until published, optimistic locking,
//! permissions, validation, Einer-für-Alle re-use, harvesting between two portals, and the staff
//! pages of the back office.

use crate::support::{Browser, Server, input};
use serde_json::{Value, json};

const HUND: &str = "99110009104000"; // Hundehaltung Anmeldung: Köln online, Dahlem vor Ort
const SECRET: &str = "ENTWURF-GEHEIM-4711";
const PASSWORD: &str = "Demo-Passwort-1";

/// The service id of a LeiKa key, from a tenant's published offers.
async fn offered_id(s: &Server, slug: &str, leika: &str) -> i64 {
    let list: Value = s
        .get(&format!("/api/v1/tenants/{slug}/offers"))
        .await
        .json()
        .await
        .unwrap();
    list.as_array()
        .unwrap()
        .iter()
        .find(|o| o["leika"] == leika)
        .unwrap_or_else(|| panic!("{slug} offers {leika}: {list}"))["leistung_id"]
        .as_i64()
        .unwrap()
}

fn etag(res: &reqwest::Response) -> String {
    res.headers()["etag"].to_str().unwrap().to_owned()
}

async fn put_draft(
    s: &Server,
    token: &str,
    slug: &str,
    id: i64,
    if_match: Option<&str>,
    body: &Value,
) -> reqwest::Response {
    let mut req = s
        .client
        .put(s.url(&format!("/api/v1/tenants/{slug}/offers/{id}/draft")))
        .bearer_auth(token)
        .json(body);
    if let Some(m) = if_match {
        req = req.header("if-match", m);
    }
    req.send().await.unwrap()
}

async fn post_as(s: &Server, token: &str, path: &str, body: Option<&Value>) -> reqwest::Response {
    let mut req = s.client.post(s.url(path)).bearer_auth(token);
    if let Some(b) = body {
        req = req.json(b);
    }
    req.send().await.unwrap()
}

fn variant(note: &str, url: &str) -> Value {
    json!({
        "online": true,
        "url": url,
        "maturity": 4,
        "office": {
            "name": "Bürgeramt Kalk",
            "street": "Kalker Hauptstraße 247",
            "postal_code": "51103",
            "city": "Köln",
            "opening_hours": "Mo–Fr 8–12 Uhr",
            "phone": "+49 221 221-0",
            "email": "buergeramt-kalk@stadt-koeln.de"
        },
        "fees": {"text": "Keine Gebühr", "amount_cent": 0},
        "note": note
    })
}

/// Everything public about Köln's offers, as text.
async fn public_views(s: &Server, id: i64) -> String {
    let mut all = String::new();
    for path in [
        format!("/api/v1/tenants/koeln/offers/{id}"),
        "/api/v1/tenants/koeln/offers".to_owned(),
        "/api/v1/tenants/koeln/services-export".to_owned(),
        format!("/koeln/leistungen/{id}"),
        "/api/v1/ozg-dashboard?tenant=koeln".to_owned(),
    ] {
        let res = s.get(&path).await;
        assert_eq!(res.status(), 200, "{path}");
        all.push_str(&res.text().await.unwrap());
    }
    all
}

fn without_time(mut export: Value) -> Value {
    export["generated_at"] = Value::Null;
    export
}

async fn export(s: &Server, slug: &str) -> Value {
    s.get(&format!("/api/v1/tenants/{slug}/services-export"))
        .await
        .json()
        .await
        .unwrap()
}

async fn drafts_publish_and_locking(s: &Server) {
    let red = s.token("koeln", "redaktion-api", "Redaktion");
    let other = s.token("duesseldorf", "redaktion-api", "Redaktion");
    let admin = s.token("koeln", "admin-api", "admin");
    let id = offered_id(s, "koeln", HUND).await;
    let export_before = without_time(export(s, "koeln").await);
    let dashboard_before: Value = s
        .get("/api/v1/ozg-dashboard?tenant=koeln")
        .await
        .json()
        .await
        .unwrap();

    // Staff see version 0-or-more and no draft yet; the public sees no version at all.
    let res = s
        .get_as(&red, &format!("/api/v1/tenants/koeln/offers/{id}"))
        .await;
    assert_eq!(res.status(), 200);
    let v0 = etag(&res);
    let public: Value = s
        .get(&format!("/api/v1/tenants/koeln/offers/{id}"))
        .await
        .json()
        .await
        .unwrap();
    assert!(
        public.get("version").is_none() && public.get("draft").is_none(),
        "{public}"
    );
    assert_eq!(public["published"]["online"], true);

    // A draft: saved, seen by staff, seen nowhere public.
    let new_url = "https://hund.koeln.example/anmelden";
    let res = put_draft(s, &red, "koeln", id, Some(&v0), &variant(SECRET, new_url)).await;
    assert_eq!(res.status(), 200);
    let v1 = etag(&res);
    assert_ne!(v0, v1);
    let mine: Value = res.json().await.unwrap();
    assert_eq!(mine["draft"]["note"], SECRET);
    assert_eq!(mine["draft"]["office"]["postal_code"], "51103");
    let public = public_views(s, id).await;
    assert!(!public.contains(SECRET), "draft leaked");
    assert!(!public.contains(new_url), "draft link leaked");
    assert!(!public.contains("Bürgeramt Kalk"), "draft office leaked");
    assert_eq!(without_time(export(s, "koeln").await), export_before);
    let dashboard_now: Value = s
        .get("/api/v1/ozg-dashboard?tenant=koeln")
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(dashboard_now, dashboard_before);

    // Another tenant's staff neither read the draft nor write.
    let res = s
        .get_as(&other, &format!("/api/v1/tenants/koeln/offers/{id}"))
        .await;
    assert_eq!(res.status(), 403);
    assert!(!res.text().await.unwrap().contains(SECRET));
    let res = put_draft(
        s,
        &other,
        "koeln",
        id,
        Some(&v1),
        &variant("fremd", new_url),
    )
    .await;
    assert_eq!(res.status(), 403);
    let res = post_as(
        s,
        &other,
        &format!("/api/v1/tenants/koeln/offers/{id}/publish"),
        None,
    )
    .await;
    assert_eq!(res.status(), 403);
    // A clerk of Köln may read the draft but not write.
    let clerk = s.token("koeln", "postfach", "Sachbearbeitung");
    let res = put_draft(
        s,
        &clerk,
        "koeln",
        id,
        Some(&v1),
        &variant("clerk", new_url),
    )
    .await;
    assert_eq!(res.status(), 403);

    // A stale If-Match changes nothing; a missing one is refused.
    let res = put_draft(
        s,
        &red,
        "koeln",
        id,
        Some(&v0),
        &variant("veraltet", new_url),
    )
    .await;
    assert_eq!(res.status(), 412);
    assert_eq!(res.headers()["content-type"], "application/problem+json");
    let res = put_draft(s, &red, "koeln", id, None, &variant("ohne", new_url)).await;
    assert_eq!(res.status(), 428);
    let mine: Value = s
        .json_as(&red, &format!("/api/v1/tenants/koeln/offers/{id}"))
        .await;
    assert_eq!(mine["draft"]["note"], SECRET, "nothing changed");
    assert_eq!(format!("\"{}\"", mine["version"]), v1);

    // Validation: every broken rule with a German message, nothing saved.
    let mut bad = variant("x", "http://unsicher.example.org");
    bad["maturity"] = json!(7);
    bad["office"]["postal_code"] = json!("5110");
    bad["office"]["email"] = json!("keine-adresse");
    bad["note"] = json!("x".repeat(2001));
    let res = put_draft(s, &red, "koeln", id, Some(&v1), &bad).await;
    assert_eq!(res.status(), 422);
    let p: Value = res.json().await.unwrap();
    let fields: Vec<&str> = p["errors"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["field"].as_str().unwrap())
        .collect();
    for f in [
        "maturity",
        "url",
        "office.postal_code",
        "office.email",
        "note",
    ] {
        assert!(fields.contains(&f), "{f} in {p}");
    }
    let text = p.to_string();
    assert!(
        text.contains("https://") && text.contains("5 Ziffern"),
        "{text}"
    );
    let res = put_draft(s, &red, "koeln", id, Some(&v1), &json!({"online": false})).await;
    assert_eq!(res.status(), 400, "maturity is required");

    // Publishing with a stale ETag fails; with the current one, citizens see it everywhere.
    let res = s
        .client
        .post(s.url(&format!("/api/v1/tenants/koeln/offers/{id}/publish")))
        .bearer_auth(&red)
        .header("if-match", &v0)
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 412);
    assert!(!public_views(s, id).await.contains(SECRET));
    let res = s
        .client
        .post(s.url(&format!("/api/v1/tenants/koeln/offers/{id}/publish")))
        .bearer_auth(&red)
        .header("if-match", &v1)
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 200);
    let public = public_views(s, id).await;
    assert!(public.contains(SECRET) && public.contains(new_url));
    let page = s
        .get(&format!("/koeln/leistungen/{id}"))
        .await
        .text()
        .await
        .unwrap();
    for text in [
        "Bürgeramt Kalk",
        "51103 Köln",
        "Mo–Fr 8–12 Uhr",
        "buergeramt-kalk@stadt-koeln.de",
        "Keine Gebühr",
        "Zum Online-Dienst",
        new_url,
    ] {
        assert!(page.contains(text), "{text} on the service page");
    }
    let e = export(s, "koeln").await;
    let hund = e["services"]
        .as_array()
        .unwrap()
        .iter()
        .find(|x| x["leika"] == HUND)
        .unwrap();
    assert_eq!(
        (hund["url"].as_str(), hund["maturity"].as_i64()),
        (Some(new_url), Some(4))
    );
    assert_eq!(hund["note"], SECRET);
    let res = post_as(
        s,
        &red,
        &format!("/api/v1/tenants/koeln/offers/{id}/publish"),
        None,
    )
    .await;
    assert_eq!(res.status(), 409, "nothing left to publish");

    // Every change is in the audit trail.
    let audit: Value = s.json_as(&admin, "/api/v1/tenants/koeln/audit").await;
    let id_text = id.to_string();
    let actions: Vec<&str> = audit
        .as_array()
        .unwrap()
        .iter()
        .filter(|a| a["object_id"].as_str() == Some(id_text.as_str()))
        .filter_map(|a| a["action"].as_str())
        .collect();
    assert!(
        actions.contains(&"catalog.offer.draft") && actions.contains(&"catalog.offer.publish"),
        "{actions:?}"
    );

    // Stop offering: gone from the public API and the export, audited.
    let res = s
        .client
        .delete(s.url(&format!("/api/v1/tenants/koeln/offers/{id}")))
        .bearer_auth(&red)
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 204);
    assert_eq!(
        s.get(&format!("/api/v1/tenants/koeln/offers/{id}"))
            .await
            .status(),
        404
    );
    let e = export(s, "koeln").await;
    assert!(
        !e["services"]
            .as_array()
            .unwrap()
            .iter()
            .any(|x| x["leika"] == HUND)
    );
    let audit: Value = s.json_as(&admin, "/api/v1/tenants/koeln/audit").await;
    assert!(
        audit
            .as_array()
            .unwrap()
            .iter()
            .any(|a| a["action"] == "catalog.offer.withdraw")
    );
}
crate::on_both_backends!(drafts_t, drafts_publish_and_locking);

async fn einer_fuer_alle(s: &Server) {
    let eus = s.token("euskirchen", "redaktion-api", "Redaktion");
    let koeln = s.token("koeln", "redaktion-api", "Redaktion");
    let id = offered_id(s, "koeln", HUND).await;
    let koeln_url = s
        .get(&format!("/api/v1/tenants/koeln/offers/{id}"))
        .await
        .json::<Value>()
        .await
        .unwrap()["published"]["url"]
        .as_str()
        .unwrap()
        .to_owned();
    let path = format!("/api/v1/tenants/euskirchen/offers/{id}/reuse");

    // Dahlem offers it on site only: nothing to re-use; unknown tenants neither.
    for from in ["dahlem", "gibtsnicht", "euskirchen"] {
        let res = post_as(s, &eus, &path, Some(&json!({"from": from}))).await;
        assert_eq!(res.status(), 422, "{from}");
        let p: Value = res.json().await.unwrap();
        assert_eq!(p["errors"][0]["field"], "from", "{p}");
    }
    let p: Value = post_as(s, &eus, &path, Some(&json!({"from": "dahlem"})))
        .await
        .json()
        .await
        .unwrap();
    assert!(p.to_string().contains("nicht online"), "{p}");
    // Köln's staff cannot act for Euskirchen.
    let res = post_as(s, &koeln, &path, Some(&json!({"from": "koeln"}))).await;
    assert_eq!(res.status(), 403);

    let res = post_as(s, &eus, &path, Some(&json!({"from": "koeln"}))).await;
    assert_eq!(res.status(), 200);
    let o: Value = res.json().await.unwrap();
    assert_eq!(o["published"]["online"], true);
    assert_eq!(o["published"]["url"], koeln_url.as_str());
    assert_eq!(o["published"]["maturity"], 3);
    assert_eq!(o["published"]["provided_by"]["slug"], "koeln");

    let page = s
        .get(&format!("/euskirchen/leistungen/{id}"))
        .await
        .text()
        .await
        .unwrap();
    assert!(
        page.contains("Einer für Alle: bereitgestellt von"),
        "{page}"
    );
    assert!(page.contains("Köln"));
    assert!(page.contains(&format!("href=\"{koeln_url}\"")));
    let e = export(s, "euskirchen").await;
    let hund = e["services"]
        .as_array()
        .unwrap()
        .iter()
        .find(|x| x["leika"] == HUND)
        .unwrap();
    assert_eq!(hund["provided_by"]["slug"], "koeln");
    assert_eq!(hund["online"], true);
    assert_eq!(hund["url"], koeln_url.as_str());
    // Other services of the export are not marked.
    assert!(
        e["services"]
            .as_array()
            .unwrap()
            .iter()
            .filter(|x| x["leika"] != HUND)
            .all(|x| x["provided_by"].is_null())
    );
}
crate::on_both_backends!(efa_t, einer_fuer_alle);

/// Serves `body` as JSON to every request on a free port; returns the export URL for Köln.
async fn fake_portal(body: String) -> String {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    tokio::spawn(async move {
        while let Ok((mut sock, _)) = listener.accept().await {
            let body = body.clone();
            tokio::spawn(async move {
                let mut buf = vec![0u8; 8192];
                let mut got = Vec::new();
                while !got.windows(4).any(|w| w == b"\r\n\r\n") {
                    match sock.read(&mut buf).await {
                        Ok(0) | Err(_) => return,
                        Ok(n) => got.extend_from_slice(&buf[..n]),
                    }
                }
                let head = format!(
                    "HTTP/1.1 200 OK\r\ncontent-type: application/json\r\ncontent-length: {}\r\nconnection: close\r\n\r\n",
                    body.len()
                );
                let _ = sock.write_all(head.as_bytes()).await;
                let _ = sock.write_all(body.as_bytes()).await;
            });
        }
    });
    format!("http://{addr}/api/v1/tenants/koeln/services-export")
}

/// Runs the CLI without blocking the runtime's other tasks (the fake portal).
fn cli(s: &Server, args: &[&str]) -> std::process::Output {
    tokio::task::block_in_place(|| s.cli(args))
}

async fn harvest_between_portals(a: &Server) {
    let backend = if a.db().url.starts_with("postgres") {
        "postgres"
    } else {
        "sqlite"
    };
    let red = a.token("koeln", "redaktion-api", "Redaktion");
    let id = offered_id(a, "koeln", HUND).await;
    let v = etag(
        &a.get_as(&red, &format!("/api/v1/tenants/koeln/offers/{id}"))
            .await,
    );
    let url = "https://hund.koeln.example/portal-a";
    let res = put_draft(
        a,
        &red,
        "koeln",
        id,
        Some(&v),
        &variant("Aus Portal A", url),
    )
    .await;
    assert_eq!(res.status(), 200);
    let res = post_as(
        a,
        &red,
        &format!("/api/v1/tenants/koeln/offers/{id}/publish"),
        None,
    )
    .await;
    assert_eq!(res.status(), 200);
    let a_export = export(a, "koeln").await;
    let a_count = a_export["services"].as_array().unwrap().len();

    let b = Server::demo(backend).await;
    let before: Value = b
        .get(&format!("/api/v1/tenants/koeln/offers/{id}"))
        .await
        .json()
        .await
        .unwrap();
    assert_ne!(before["published"]["note"], "Aus Portal A");

    for _ in 0..2 {
        // Twice: the second run changes nothing (idempotent).
        let out = cli(&b, &["catalog", "harvest", &a.url, "--tenant", "koeln"]);
        assert!(
            out.status.success(),
            "{}",
            String::from_utf8_lossy(&out.stderr)
        );
        let stdout = String::from_utf8(out.stdout).unwrap();
        assert_eq!(stdout.lines().count(), 1, "one JSON line: {stdout}");
        let report: Value = serde_json::from_str(&stdout).unwrap();
        assert_eq!(report["tenant"], "koeln");
        assert_eq!(
            report["services"].as_u64().unwrap() as usize,
            a_count,
            "{report}"
        );
        assert_eq!(report["rejected"], json!([]));
        assert!(
            report["source"]
                .as_str()
                .unwrap()
                .ends_with("/api/v1/tenants/koeln/services-export")
        );
        assert!(
            !String::from_utf8_lossy(&out.stderr).is_empty(),
            "progress line"
        );
        let now: Value = b
            .get(&format!("/api/v1/tenants/koeln/offers/{id}"))
            .await
            .json()
            .await
            .unwrap();
        assert_eq!(now["published"]["note"], "Aus Portal A");
        assert_eq!(now["published"]["url"], url);
        assert_eq!(now["published"]["maturity"], 4);
        assert_eq!(now["published"]["office"]["postal_code"], "51103");
        let b_export = export(&b, "koeln").await;
        assert_eq!(b_export["services"].as_array().unwrap().len(), a_count);
    }

    // Another tenant's export is refused, naming both; so are unreachable portals.
    let koeln_export = a.url("/api/v1/tenants/koeln/services-export");
    let out = cli(
        &b,
        &[
            "catalog",
            "harvest",
            &koeln_export,
            "--tenant",
            "duesseldorf",
        ],
    );
    assert!(!out.status.success());
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        err.contains("Köln") && err.contains("Düsseldorf") && err.contains("nichts übernommen"),
        "{err}"
    );
    let out = cli(
        &b,
        &[
            "catalog",
            "harvest",
            "http://127.0.0.1:1/",
            "--tenant",
            "koeln",
        ],
    );
    assert!(!out.status.success());
    assert!(String::from_utf8_lossy(&out.stderr).contains("nicht erreichbar"));

    // A foreign format is refused; unknown LeiKa keys and broken rows are reported, not stored.
    let wrong =
        fake_portal(json!({"format": "anderes-format/2", "services": []}).to_string()).await;
    let out = cli(&b, &["catalog", "harvest", &wrong, "--tenant", "koeln"]);
    assert!(!out.status.success());
    assert!(String::from_utf8_lossy(&out.stderr).contains("rathaus-leistungen/1"));
    let mixed = fake_portal(
        json!({
            "format": "rathaus-leistungen/1",
            "tenant": a_export["tenant"],
            "generated_at": "2026-12-07T10:00:00Z",
            "services": [
                {"leika": HUND, "name": "Hundehaltung Anmeldung", "online": true, "maturity": 2, "url": "/koeln/formulare/hund"},
                {"leika": "99999999999999", "name": "Gibt es nicht", "online": false, "maturity": 0, "url": "/x"},
                {"leika": null, "name": "Ohne Schlüssel", "online": false, "maturity": 0, "url": "/y"},
                {"leika": "99115005104000", "name": "Wohnsitz", "online": true, "maturity": 9, "url": "/z"}
            ]
        })
        .to_string(),
    )
    .await;
    let out = cli(&b, &["catalog", "harvest", &mixed, "--tenant", "koeln"]);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let report: Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(report["services"], 1);
    let rejected: Vec<u64> = report["rejected"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| r["index"].as_u64().unwrap())
        .collect();
    assert_eq!(rejected, [1, 2, 3], "{report}");
    assert!(
        report["rejected"][0]["reason"]
            .as_str()
            .unwrap()
            .contains("99999999999999")
    );
    let now: Value = b
        .get(&format!("/api/v1/tenants/koeln/offers/{id}"))
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(now["published"]["maturity"], 2);
    let harvested_url = now["published"]["url"].as_str().unwrap();
    assert!(
        harvested_url.starts_with("http://127.0.0.1:")
            && harvested_url.ends_with("/koeln/formulare/hund"),
        "{harvested_url}"
    );
}
crate::on_both_backends!(harvest_t, harvest_between_portals);

async fn login<'a>(s: &'a Server, email: &str) -> Browser<'a> {
    let mut b = Browser::new(s);
    let a = b.sign_in(email, PASSWORD, "/konto").await;
    assert_eq!(a.status, 303, "login of {email}");
    b
}

async fn staff_pages(s: &Server) {
    let id = offered_id(s, "koeln", HUND).await;
    let mut clerk = login(s, "sachbearbeitung.koeln@example.org").await;
    assert_eq!(clerk.get("/koeln/verwaltung/leistungen").await.status, 403);

    let mut b = login(s, "redaktion.koeln@example.org").await;
    let start = b.get("/koeln/verwaltung").await;
    assert_eq!(start.status, 200);
    assert!(start.body.contains("href=\"/koeln/verwaltung/leistungen\""));
    assert_eq!(
        b.get("/duesseldorf/verwaltung/leistungen").await.status,
        403
    );
    assert_eq!(
        b.get(&format!("/duesseldorf/verwaltung/leistungen/{id}"))
            .await
            .status,
        403
    );

    let list = b.get("/koeln/verwaltung/leistungen?q=hundehaltung").await;
    assert_eq!(list.status, 200);
    assert!(list.body.contains("Hundehaltung Anmeldung") && list.body.contains("Veröffentlicht"));
    assert!(
        !list.body.contains("Wohnsitz Anmeldung"),
        "filtered by name"
    );

    let path = format!("/koeln/verwaltung/leistungen/{id}");
    let page = b.get(&path).await;
    assert_eq!(page.status, 200);
    for id_ in [
        "online",
        "url",
        "maturity",
        "office_name",
        "office_postal_code",
        "office_email",
        "fees_amount",
        "note",
    ] {
        assert!(
            page.body.contains(&format!("for=\"{id_}\"")),
            "label for {id_}"
        );
    }
    let csrf = input(&page.body, "csrf");
    let version = input(&page.body, "version");
    let url = input(&page.body, "url");
    let mut form = vec![
        ("csrf", csrf.as_str()),
        ("version", version.as_str()),
        ("online", "1"),
        ("url", url.as_str()),
        ("maturity", "3"),
        ("office_name", "Bürgeramt Porz"),
        ("office_postal_code", "5114"),
        ("office_city", "Köln"),
        ("fees_amount", "15,00"),
        ("note", "Bitte Impfpass mitbringen"),
    ];
    let bad = b.post(&path, &form).await;
    assert_eq!(bad.status, 422);
    assert!(
        bad.body
            .contains("Die Postleitzahl besteht aus genau 5 Ziffern.")
    );
    assert!(bad.body.contains("value=\"Bürgeramt Porz\""), "input kept");
    assert!(bad.body.contains("value=\"5114\""));
    assert!(bad.body.contains("aria-invalid=\"true\""));

    form.retain(|(k, _)| *k != "office_postal_code");
    form.push(("office_postal_code", "51143"));
    let saved = b.post(&path, &form).await;
    assert_eq!(saved.status, 303, "{}", saved.body);
    let page = b.get(&saved.location).await;
    assert!(page.body.contains("Der Entwurf wurde gespeichert"));
    assert!(
        page.body.contains("Vorschau")
            && page.body.contains("Bürgeramt Porz")
            && page.body.contains("15,00 €")
    );
    let public = s
        .get(&format!("/koeln/leistungen/{id}"))
        .await
        .text()
        .await
        .unwrap();
    assert!(!public.contains("Bürgeramt Porz") && !public.contains("Impfpass"));

    // The same form again carries the old version: 409, input kept, nothing saved.
    form.retain(|(k, _)| *k != "note");
    form.push(("note", "Zweiter Tab"));
    let stale = b.post(&path, &form).await;
    assert_eq!(stale.status, 409);
    assert!(stale.body.contains("inzwischen") && stale.body.contains("value=\"Bürgeramt Porz\""));
    assert!(stale.body.contains("Zweiter Tab"), "input kept");
    let again = b.get(&path).await;
    assert!(again.body.contains("Impfpass") && !again.body.contains("Zweiter Tab"));

    let version = input(&again.body, "version");
    let publish = b
        .post(
            &format!("{path}/veroeffentlichen"),
            &[("csrf", csrf.as_str()), ("version", version.as_str())],
        )
        .await;
    assert_eq!(publish.status, 303, "{}", publish.body);
    let public = s
        .get(&format!("/koeln/leistungen/{id}"))
        .await
        .text()
        .await
        .unwrap();
    assert!(
        public.contains("Bürgeramt Porz")
            && public.contains("Impfpass")
            && public.contains("15,00 €")
    );

    // Without a valid CSRF token nothing happens.
    let forged = b
        .post(
            &format!("{path}/beenden"),
            &[("csrf", "falsch"), ("version", version.as_str())],
        )
        .await;
    assert_eq!(forged.status, 403);
    assert_eq!(
        s.get(&format!("/api/v1/tenants/koeln/offers/{id}"))
            .await
            .status(),
        200
    );
}
crate::on_both_backends!(staff_pages_t, staff_pages);
