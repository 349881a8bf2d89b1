//! E-Rechnung reception, the four-eyes approval, the HKR export and the invoice desk pages.

use crate::on_both_backends;
use crate::support::{Browser, Server};
use serde_json::Value;

const VISIBLE: &str = "../shared/testdata/xrechnung/visible/business-cases/standard";
const INVALID: &str = "../shared/testdata/xrechnung/invalid";

fn file(dir: &str, name: &str) -> Vec<u8> {
    std::fs::read(format!("{dir}/{name}")).expect("test invoice")
}

async fn send(s: &Server, body: Vec<u8>, content_type: &str) -> (u16, String, Value) {
    let res = s
        .client
        .post(s.url("/api/v1/einvoices"))
        .header("content-type", content_type)
        .body(body)
        .send()
        .await
        .expect("POST");
    let status = res.status().as_u16();
    let ct = res.headers()["content-type"].to_str().unwrap().to_owned();
    let json = res.json().await.unwrap_or(Value::Null);
    (status, ct, json)
}

async fn post_as(s: &Server, token: &str, path: &str, body: Option<Value>) -> (u16, Value) {
    let mut req = s.client.post(s.url(path)).bearer_auth(token);
    if let Some(b) = body {
        req = req.json(&b);
    }
    let res = req.send().await.expect("POST");
    let status = res.status().as_u16();
    (status, res.json().await.unwrap_or(Value::Null))
}

fn rules(problem: &Value) -> Vec<String> {
    problem["findings"]
        .as_array()
        .map(|a| {
            a.iter()
                .filter(|f| matches!(f["severity"].as_str(), Some("fatal" | "error")))
                .map(|f| f["rule"].as_str().unwrap_or_default().to_owned())
                .collect()
        })
        .unwrap_or_default()
}

async fn reception(s: &Server) {
    // A valid UBL invoice is routed by its Leitweg-ID 04011000-12345-03 to Köln's Kämmerei.
    let ubl = file(VISIBLE, "01.01a-INVOICE_ubl.xml");
    let (status, _, r) = send(s, ubl.clone(), "application/xml").await;
    assert_eq!(status, 201, "{r}");
    assert_eq!(r["tenant"], "koeln");
    assert_eq!(r["office"], "Kämmerei");
    assert_eq!(r["status"], "eingegangen");
    assert_eq!(r["valid"], true);
    let ubl_id = r["id"].as_str().unwrap().to_owned();
    let report = s.get(r["report_url"].as_str().unwrap()).await;
    assert_eq!(report.status(), 200);
    assert_eq!(report.json::<Value>().await.unwrap()["valid"], true);

    // The same again: 409 naming the first.
    let (status, ct, p) = send(s, ubl, "application/xml").await;
    assert_eq!(status, 409, "{p}");
    assert_eq!(ct, "application/problem+json");
    assert_eq!(p["field"], ubl_id.as_str());

    // A CII invoice; the longest matching route wins (a full Leitweg-ID over its prefix).
    let (status, _, r) = send(
        s,
        file(VISIBLE, "01.10a-INVOICE_uncefact.xml"),
        "text/xml; charset=utf-8",
    )
    .await;
    assert_eq!(status, 201, "{r}");
    assert_eq!(r["tenant"], "koeln");
    assert_eq!(r["office"], "Amt für Schulentwicklung");
    let cii_id = r["id"].as_str().unwrap().to_owned();
    // 99000000-… goes to Düsseldorf.
    let (status, _, r) = send(
        s,
        file(VISIBLE, "01.18a-INVOICE_uncefact.xml"),
        "application/xml",
    )
    .await;
    assert_eq!(status, 201, "{r}");
    assert_eq!(r["tenant"], "duesseldorf");

    // An invalid invoice: 422 with the official rule ids, its report kept for the sender.
    let (status, ct, p) = send(
        s,
        file(INVALID, "line-sum-mismatch_01.01a-INVOICE_ubl.xml"),
        "application/xml",
    )
    .await;
    assert_eq!(status, 422, "{p}");
    assert_eq!(ct, "application/problem+json");
    let mut got = rules(&p);
    got.sort();
    got.dedup();
    assert_eq!(got, ["BR-CO-10", "BR-S-08"], "{p}");
    assert!(p["detail"].as_str().unwrap().contains("/api/v1/einvoices/"));

    // Unknown Leitweg-ID.
    let unknown = String::from_utf8(file(VISIBLE, "01.01a-INVOICE_ubl.xml"))
        .unwrap()
        .replace("04011000-12345-03", "05315000-77777-55");
    let (status, _, p) = send(s, unknown.into_bytes(), "application/xml").await;
    assert!(status == 404 || status == 422, "{p}");
    assert!(
        p["detail"]
            .as_str()
            .unwrap()
            .contains("Leitweg-ID 05315000-77777-55 ist keinem Empfänger zugeordnet"),
        "{p}"
    );

    // Hostile and broken input: problems, never a crash.
    for (body, what) in [
        (b"<Invoice><unclosed>".to_vec(), "malformed"),
        (file(INVALID, "billion-laughs.xml"), "billion laughs"),
        (file(INVALID, "xxe.xml"), "xxe"),
        (
            file(INVALID, "wrong-root-namespace_01.04a-INVOICE_uncefact.xml"),
            "namespace",
        ),
        (b"".to_vec(), "empty"),
    ] {
        let (status, ct, p) = send(s, body, "application/xml").await;
        assert_eq!(status, 422, "{what}: {p}");
        assert_eq!(ct, "application/problem+json", "{what}");
        assert!(!p["findings"].as_array().unwrap().is_empty(), "{what}: {p}");
    }
    let (status, _, _) = send(s, b"{}".to_vec(), "application/json").await;
    assert_eq!(status, 415);
    let (status, text) = s
        .oversized(
            "POST",
            "/api/v1/einvoices",
            &[("Content-Type", "application/xml")],
            100 * 1024 * 1024,
        )
        .await;
    assert_eq!(status, 413, "{text}");
    assert!(text.contains("application/problem+json"));
    assert_eq!(s.get("/healthz").await.status(), 200);

    approval(s, &ubl_id, &cii_id).await;
}

async fn approval(s: &Server, ubl_id: &str, cii_id: &str) {
    let sach = s.token("koeln", "rechnung-sach", "Sachbearbeitung");
    let kasse = s.token("koeln", "rechnung-kasse", "Kasse");
    let chef = s.token("koeln", "rechnung-chef", "admin");
    let base = "/api/v1/tenants/koeln/einvoices";

    // Roles: the cash office does not confirm "sachlich richtig".
    let (status, _) = post_as(
        s,
        &kasse,
        &format!("{base}/{ubl_id}/sachlich-richtig"),
        None,
    )
    .await;
    assert_eq!(status, 403);
    // Not in this order.
    let (status, _) = post_as(
        s,
        &kasse,
        &format!("{base}/{ubl_id}/rechnerisch-richtig"),
        None,
    )
    .await;
    assert_eq!(status, 409);

    // Four-eyes: one person (an admin may do both roles) cannot confirm both steps.
    let (status, v) = post_as(s, &chef, &format!("{base}/{cii_id}/sachlich-richtig"), None).await;
    assert_eq!(status, 200, "{v}");
    assert_eq!(v["status"], "sachlich_richtig");
    let (status, p) = post_as(
        s,
        &chef,
        &format!("{base}/{cii_id}/rechnerisch-richtig"),
        None,
    )
    .await;
    assert_eq!(status, 403, "{p}");
    assert_eq!(p["type"], "/api/probleme/four-eyes");
    let (status, v) = post_as(
        s,
        &kasse,
        &format!("{base}/{cii_id}/ablehnen"),
        Some(serde_json::json!({"reason": "Leistung nicht erbracht"})),
    )
    .await;
    assert_eq!(status, 200, "{v}");
    assert_eq!(v["status"], "abgelehnt");

    // Two people: freigegeben.
    let (status, _) = post_as(s, &sach, &format!("{base}/{ubl_id}/sachlich-richtig"), None).await;
    assert_eq!(status, 200);
    let (status, v) = post_as(
        s,
        &kasse,
        &format!("{base}/{ubl_id}/rechnerisch-richtig"),
        None,
    )
    .await;
    assert_eq!(status, 200, "{v}");
    assert_eq!(v["status"], "freigegeben");
    assert_eq!(v["sachlich_by"], "staff:koeln/rechnung-sach");
    assert_eq!(v["rechnerisch_by"], "staff:koeln/rechnung-kasse");

    let list = s
        .json_as(&sach, &format!("{base}?status=freigegeben"))
        .await;
    assert_eq!(list.as_array().unwrap().len(), 1);
    let detail = s.json_as(&sach, &format!("{base}/{ubl_id}")).await;
    assert_eq!(detail["model"]["number"], "123456XX");
    assert_eq!(detail["report"]["valid"], true);
    let actions: Vec<&str> = detail["history"]
        .as_array()
        .unwrap()
        .iter()
        .map(|h| h["action"].as_str().unwrap())
        .collect();
    assert_eq!(
        actions,
        [
            "einvoice.receive",
            "einvoice.sachlich_richtig",
            "einvoice.rechnerisch_richtig"
        ]
    );

    // HKR export: the approved invoice once, then nothing new.
    let res = s.get_as(&sach, &format!("{base}/hkr-export")).await;
    assert_eq!(res.status(), 403);
    let res = s.get_as(&kasse, &format!("{base}/hkr-export")).await;
    assert_eq!(res.status(), 200);
    assert!(
        res.headers()["content-type"]
            .to_str()
            .unwrap()
            .starts_with("text/csv")
    );
    let csv = res.text().await.unwrap();
    let lines: Vec<&str> = csv.lines().collect();
    assert_eq!(lines.len(), 2, "{csv}");
    assert!(lines[0].starts_with("leitweg_id;dienststelle;"));
    assert!(
        lines[1].starts_with("\"04011000-12345-03\";\"Kämmerei\";"),
        "{csv}"
    );
    assert!(lines[1].contains("\"123456XX\"") && lines[1].contains(ubl_id));
    assert!(lines[1].contains("\"EUR\""), "{csv}");
    let again = s
        .get_as(&kasse, &format!("{base}/hkr-export"))
        .await
        .text()
        .await
        .unwrap();
    assert_eq!(again.lines().count(), 1, "{again}");
    let detail = s.json_as(&sach, &format!("{base}/{ubl_id}")).await;
    assert_eq!(detail["status"], "exportiert");

    // Tenant isolation: Düsseldorf's staff neither see nor approve Köln's invoices.
    let dus = s.token("duesseldorf", "rechnung-dus", "Sachbearbeitung");
    assert_eq!(
        s.get_as(&dus, &format!("{base}/{ubl_id}")).await.status(),
        403
    );
    assert_eq!(s.get_as(&dus, base).await.status(), 403);
    let (status, _) = post_as(
        s,
        &dus,
        &format!("/api/v1/tenants/duesseldorf/einvoices/{cii_id}/sachlich-richtig"),
        None,
    )
    .await;
    assert_eq!(status, 404);
    let theirs = s
        .json_as(&dus, "/api/v1/tenants/duesseldorf/einvoices")
        .await;
    assert_eq!(theirs.as_array().unwrap().len(), 1);
    assert!(!theirs.to_string().contains(ubl_id));

    // The audit chain stays intact.
    let out = s.cli(&["audit", "verify"]);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stdout)
    );

    desk(s, ubl_id).await;
}

async fn desk(s: &Server, ubl_id: &str) {
    let mut staff = Browser::new(s);
    let a = staff
        .sign_in(
            "sachbearbeitung.koeln@example.org",
            "Demo-Passwort-1",
            "/koeln/verwaltung/rechnungen",
        )
        .await;
    assert_eq!(a.status, 303);
    let list = staff.get("/koeln/verwaltung/rechnungen").await;
    assert_eq!(list.status, 200);
    assert!(list.body.contains("123456XX"));
    let page = staff
        .get(&format!("/koeln/verwaltung/rechnungen/{ubl_id}"))
        .await;
    assert_eq!(page.status, 200);
    assert!(
        page.body.contains("Rechnungsnummer (BT-1)"),
        "{}",
        page.body
    );
    assert!(page.body.contains("An die Kasse übergeben"));
    // Every business term, grouped as the XRechnung visualisation does, also as a tagged PDF.
    let (status, ct, pdf) = staff
        .download(&format!("/koeln/verwaltung/rechnungen/{ubl_id}/pdf"))
        .await;
    assert_eq!((status, ct.as_str()), (200, "application/pdf"));
    let text = crate::support::pdf_text(&pdf);
    for expected in [
        "123456XX",
        "Rechnungsnummer (BT-1)",
        "Verkäufer",
        "Käufer",
        "Positionen",
    ] {
        assert!(
            text.contains(expected),
            "{expected:?} missing in the PDF:\n{text}"
        );
    }
    assert_eq!(
        Browser::new(s)
            .get(&format!("/koeln/verwaltung/rechnungen/{ubl_id}/pdf"))
            .await
            .status,
        303,
        "not signed in: to the login"
    );
    let upload = staff.get("/koeln/verwaltung/rechnungen/hochladen").await;
    assert_eq!(upload.status, 200);
    assert!(upload.body.contains("Höchstens 20 MB"), "{}", upload.body);
    large_uploads(s, &mut staff).await;
    let routes = staff.get("/koeln/verwaltung/rechnungen/leitweg-ids").await;
    assert_eq!(routes.status, 200);
    assert!(
        routes.body.contains("<code>04011000-12350-85</code>")
            && routes.body.contains("Amt für Schulentwicklung")
            && !routes.body.contains("99000000"),
        "{}",
        routes.body
    );
    assert_eq!(
        staff
            .get(&format!("/duesseldorf/verwaltung/rechnungen/{ubl_id}"))
            .await
            .status,
        403
    );
}

/// The UBL test invoice with another number, padded with a comment to about `size` bytes.
fn padded_invoice(number: &str, size: usize) -> Vec<u8> {
    let xml = String::from_utf8(file(VISIBLE, "01.01a-INVOICE_ubl.xml"))
        .unwrap()
        .replace("123456XX", number);
    let padding = size.saturating_sub(xml.len() + 16);
    let comment = format!("<!-- {} -->\n", "x".repeat(padding));
    xml.replacen("?>\n", &format!("?>\n{comment}"), 1)
        .into_bytes()
}

/// Posts `bytes` as the file of the upload page with its CSRF token.
async fn upload(staff: &mut Browser<'_>, s: &Server, bytes: Vec<u8>) -> crate::support::Answer {
    let page = staff.get("/koeln/verwaltung/rechnungen/hochladen").await;
    let form = reqwest::multipart::Form::new()
        .text("csrf", crate::support::input(&page.body, "csrf"))
        .part(
            "datei",
            reqwest::multipart::Part::bytes(bytes)
                .file_name("rechnung.xml")
                .mime_str("application/xml")
                .unwrap(),
        );
    staff
        .send(
            s.client
                .post(s.url("/koeln/verwaltung/rechnungen/hochladen"))
                .multipart(form),
        )
        .await
}

/// The upload page takes invoices up to `einvoice.max_bytes` (20 MB), like the API, far above
/// the pages' general 1 MB; above it a German 413 page names the limit.
async fn large_uploads(s: &Server, staff: &mut Browser<'_>) {
    let big = padded_invoice("GROSS-5MB", 5 * 1024 * 1024);
    assert!(big.len() > 5 * 1024 * 1024 - 64);
    let answer = upload(staff, s, big).await;
    assert_eq!(answer.status, 200, "{}", answer.body);
    assert!(
        answer
            .body
            .contains("Die Rechnung GROSS-5MB wurde angenommen und koeln / Kämmerei zugeordnet"),
        "{}",
        answer.body
    );
    assert!(!answer.body.contains("zu groß"));

    // Over the limit, sent whole as a browser does: the 413 page, not a reset connection.
    let huge = padded_invoice("GROSS-21MB", 21 * 1024 * 1024);
    let answer = upload(staff, s, huge).await;
    assert_eq!(answer.status, 413, "{}", answer.body);
    assert!(answer.body.contains("Rechnung zu groß"), "{}", answer.body);
    assert!(answer.body.contains("erlaubten 20 MB"), "{}", answer.body);
    assert!(answer.body.contains("lang=\"de\""));
    // Announced with Expect: 100-continue (as curl does): refused before any byte is sent.
    let cookie = staff.cookie_header();
    let (status, text) = s
        .oversized(
            "POST",
            "/koeln/verwaltung/rechnungen/hochladen",
            &[
                ("Content-Type", "multipart/form-data; boundary=grenze"),
                ("Cookie", cookie.as_str()),
            ],
            100 * 1024 * 1024,
        )
        .await;
    assert_eq!(status, 413, "{text}");
    assert!(text.contains("erlaubten 20 MB"), "{text}");
    // The server is fine and the page still works.
    assert_eq!(
        staff
            .get("/koeln/verwaltung/rechnungen/hochladen")
            .await
            .status,
        200
    );
}

on_both_backends!(einvoice_reception_approval_export, reception);

/// `einvoice.receptions_per_minute`: per staff principal or address on the API (429
/// problem+json with `Retry-After`), per signed-in account on the upload page (German 429 page).
async fn rate_limit(backend: &str) {
    let db = rathaus_storage::testing::TestDatabase::new(backend)
        .await
        .expect("test database");
    let s = Server::start(
        db,
        "demo",
        &[("RATHAUS_EINVOICE__RECEPTIONS_PER_MINUTE", "2")],
    );
    let broken = || b"<Invoice><unclosed>".to_vec();
    for _ in 0..2 {
        let (status, _, p) = send(&s, broken(), "application/xml").await;
        assert_eq!(status, 422, "{p}");
    }
    let res = s
        .client
        .post(s.url("/api/v1/einvoices"))
        .header("content-type", "application/xml")
        .body(broken())
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 429);
    let wait: u64 = res.headers()["retry-after"]
        .to_str()
        .unwrap()
        .parse()
        .unwrap();
    assert!((1..=60).contains(&wait), "{wait}");
    assert_eq!(res.headers()["content-type"], "application/problem+json");
    let p: Value = res.json().await.unwrap();
    assert_eq!(p["type"], "/api/probleme/too-many-einvoices", "{p}");
    assert!(
        p["detail"]
            .as_str()
            .unwrap()
            .contains("mehr als 2 E-Rechnungen")
    );

    // A sender with a token has its own allowance, whatever its address used.
    let kasse = s.token("koeln", "limit-kasse", "Kasse");
    let with_token = |t: &str| {
        s.client
            .post(s.url("/api/v1/einvoices"))
            .bearer_auth(t)
            .header("content-type", "application/xml")
            .body(broken())
    };
    for _ in 0..2 {
        assert_eq!(with_token(&kasse).send().await.unwrap().status(), 422);
    }
    let res = with_token(&kasse).send().await.unwrap();
    assert_eq!(res.status(), 429);
    assert!(res.headers().contains_key("retry-after"));
    // A token that is sent must be valid.
    assert_eq!(with_token("rth_falsch").send().await.unwrap().status(), 401);

    // The upload page: per signed-in account, a German page.
    let mut staff = Browser::new(&s);
    staff
        .sign_in(
            "sachbearbeitung.koeln@example.org",
            "Demo-Passwort-1",
            "/koeln/verwaltung/rechnungen",
        )
        .await;
    for _ in 0..2 {
        let a = upload(&mut staff, &s, broken()).await;
        assert_eq!(a.status, 200, "{}", a.body);
        assert!(a.body.contains("keine lesbare E-Rechnung"), "{}", a.body);
    }
    let page = staff.get("/koeln/verwaltung/rechnungen/hochladen").await;
    let form = reqwest::multipart::Form::new()
        .text("csrf", crate::support::input(&page.body, "csrf"))
        .part(
            "datei",
            reqwest::multipart::Part::bytes(broken()).file_name("r.xml"),
        );
    let res = s
        .client
        .post(s.url("/koeln/verwaltung/rechnungen/hochladen"))
        .header("cookie", staff.cookie_header())
        .multipart(form)
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 429);
    assert!(res.headers().contains_key("retry-after"));
    let body = res.text().await.unwrap();
    assert!(body.contains("Zu viele E-Rechnungen"), "{body}");
    assert!(body.contains("lang=\"de\""));
}

mod einvoice_rate_limit {
    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn sqlite() {
        super::rate_limit("sqlite").await;
    }
    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn postgres() {
        super::rate_limit("postgres").await;
    }
}
