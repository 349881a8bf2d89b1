//! Online forms through the public interfaces, on SQLite and PostgreSQL: the FIM import CLI and
//! its contract, the form API with idempotent submissions and field errors, the citizen's
//! multi-step HTML form (without JavaScript) with drafts, uploads and the receipt, and the staff
//! inbox — tenant isolation included.

use crate::on_both_backends;
use crate::support::{Answer, Browser, Server, input};
use reqwest::multipart;
use serde_json::Value;
use std::collections::BTreeSet;
use std::path::PathBuf;

fn shared() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../shared")
}

fn blaue_karte() -> PathBuf {
    shared().join("testdata/xdatenfelder/v2/S00000121_Antrag_Blaue_Karte_EU.xdf2.xml")
}

fn sample(name: &str) -> Value {
    let path = PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("crates/forms/tests/samples")
        .join(name);
    serde_json::from_slice(&std::fs::read(&path).unwrap()).unwrap()
}

/// Distinct group and field ids of an XDF 2 file, counted from its text (independently of the
/// importer).
fn distinct_ids(xml: &str) -> (usize, usize) {
    let mut groups = BTreeSet::new();
    let mut fields = BTreeSet::new();
    for part in xml.split("<xdf:id>").skip(1) {
        let id = part.split('<').next().unwrap_or_default();
        match id.chars().next() {
            Some('G') => groups.insert(id.to_owned()),
            Some('F') => fields.insert(id.to_owned()),
            _ => false,
        };
    }
    (groups.len(), fields.len())
}

fn import(s: &Server, file: &std::path::Path, tenant: &str) -> std::process::Output {
    s.cli(&[
        "forms",
        "import-fim",
        file.to_str().unwrap(),
        "--tenant",
        tenant,
    ])
}

async fn count(s: &Server, sql: &str) -> i64 {
    let db = s.db().connect().await.unwrap();
    sqlx::query_scalar::<_, i64>(sqlx::AssertSqlSafe(sql.to_owned()))
        .fetch_one(db.pool())
        .await
        .unwrap()
}

async fn fim_import_and_api(s: &Server) {
    // The contract of the CLI.
    let out = import(s, &blaue_karte(), "koeln");
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let stdout = String::from_utf8(out.stdout).unwrap();
    assert_eq!(stdout.lines().count(), 1, "one JSON object: {stdout}");
    let result: Value = serde_json::from_str(&stdout).unwrap();
    let (groups, fields) = distinct_ids(&std::fs::read_to_string(blaue_karte()).unwrap());
    assert_eq!(result["groups"], groups as u64);
    assert_eq!(result["fields"], fields as u64);
    let form_id = result["form_id"].as_str().unwrap().to_owned();
    let url = result["url"].as_str().unwrap().to_owned();
    assert_eq!(url, format!("/koeln/formulare/{form_id}"));
    let warnings = result["warnings"].as_array().unwrap();
    assert!(
        warnings
            .iter()
            .any(|w| w.as_str().unwrap().contains("Codeliste")),
        "code lists not found beside the schema are reported: {warnings:?}"
    );
    // Importing the same file again changes nothing.
    let again: Value = serde_json::from_slice(&import(s, &blaue_karte(), "koeln").stdout).unwrap();
    assert_eq!(
        (again["form_id"].as_str(), again["version"].as_i64()),
        (Some(form_id.as_str()), Some(1))
    );

    // Refused: XDF 1, an unknown tenant, hostile XML.
    let v1 = shared().join("testdata/xdatenfelder/v1/S00000036_Waffenbesitzkarte.xdf1.xml");
    let out = import(s, &v1, "koeln");
    assert!(!out.status.success());
    assert!(
        String::from_utf8_lossy(&out.stderr).contains("XDatenfelder 1"),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(!import(s, &blaue_karte(), "atlantis").status.success());
    let bomb = s.db().dir.join("bomb.xml");
    std::fs::write(
        &bomb,
        r#"<?xml version="1.0"?><!DOCTYPE x [<!ENTITY a "aaaaaaaaaa"><!ENTITY b "&a;&a;&a;&a;&a;&a;&a;&a;">]><x>&b;</x>"#,
    )
    .unwrap();
    let out = import(s, &bomb, "koeln");
    assert!(!out.status.success());
    assert!(
        String::from_utf8_lossy(&out.stderr)
            .to_lowercase()
            .contains("doctype"),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );

    // The form as JSON, for machines; other tenants do not offer it.
    let info: Value = s
        .get(&format!("/api/v1/tenants/koeln/forms/{form_id}"))
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(info["id"], form_id.as_str());
    assert!(info["title"].as_str().unwrap().contains("Blaue Karte"));
    assert_eq!(
        info["json_schema"]["$schema"],
        "https://json-schema.org/draft/2020-12/schema"
    );
    assert_eq!(
        s.get(&format!("/api/v1/tenants/dahlem/forms/{form_id}"))
            .await
            .status(),
        404
    );

    // Submissions: valid → 201; the same key again → the same id, nothing new stored.
    let post = |body: &Value, key: Option<&str>| {
        let mut req = s
            .client
            .post(s.url(&format!(
                "/api/v1/tenants/koeln/forms/{form_id}/submissions"
            )))
            .json(body);
        if let Some(k) = key {
            req = req.header("Idempotency-Key", k);
        }
        req.send()
    };
    let valid = sample("blaue-karte/valid-minimal.json");
    let first = post(&valid, Some("antrag-1")).await.unwrap();
    assert_eq!(first.status(), 201);
    let first: Value = first.json().await.unwrap();
    let id = first["id"].as_str().unwrap().to_owned();
    let second = post(&valid, Some("antrag-1")).await.unwrap();
    assert_eq!(second.status(), 201);
    assert_eq!(second.headers()["idempotent-replayed"], "true");
    assert_eq!(second.json::<Value>().await.unwrap()["id"], id.as_str());
    let stored = count(s, "SELECT COUNT(*) FROM submissions").await;
    assert_eq!(stored, 1);
    // The same key with other data is a conflict; other keys are other submissions.
    let mut changed = valid.clone();
    changed.as_object_mut().unwrap().remove("F00000030");
    let other = sample("blaue-karte/valid-full.json");
    assert_eq!(post(&other, Some("antrag-1")).await.unwrap().status(), 409);
    assert_eq!(post(&other, Some("antrag-2")).await.unwrap().status(), 201);

    // Invalid data: 422 problem+json naming every offending field in German; nothing stored.
    for name in [
        "invalid-missing-required-field",
        "invalid-text-as-number",
        "invalid-null",
        "invalid-group-as-array",
    ] {
        let res = post(&sample(&format!("blaue-karte/{name}.json")), Some(name))
            .await
            .unwrap();
        assert_eq!(res.status(), 422, "{name}");
        assert_eq!(res.headers()["content-type"], "application/problem+json");
        let problem: Value = res.json().await.unwrap();
        let errors = problem["errors"].as_array().unwrap();
        assert!(!errors.is_empty(), "{name}");
        for e in errors {
            assert!(
                e["field"].is_string() && !e["message"].as_str().unwrap().is_empty(),
                "{name}: {e}"
            );
        }
    }
    let res = post(&serde_json::json!({"G00000001": {}, "X": 1}), None)
        .await
        .unwrap();
    let problem: Value = res.json().await.unwrap();
    let fields: Vec<&str> = problem["errors"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["field"].as_str().unwrap())
        .collect();
    assert!(fields.contains(&"X"), "unknown keys are named: {fields:?}");
    assert!(
        fields.len() > 2,
        "every offending field, not just the first: {fields:?}"
    );
    assert_eq!(count(s, "SELECT COUNT(*) FROM submissions").await, 2);

    // Staff read what came in, as JSON and as XML valid against the form's XSD — only their own.
    let clerk = s.token("koeln", "antraege", "Sachbearbeitung");
    let stranger = s.token("duesseldorf", "antraege", "Sachbearbeitung");
    let detail: Value = s
        .client
        .get(s.url(&format!("/api/v1/tenants/koeln/submissions/{id}")))
        .bearer_auth(&clerk)
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(detail["data"], valid);
    let xml = s
        .client
        .get(s.url(&format!("/api/v1/tenants/koeln/submissions/{id}/xml")))
        .bearer_auth(&clerk)
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    let xsd = s
        .get(&format!(
            "/api/v1/tenants/koeln/forms/{form_id}/versions/1/xsd"
        ))
        .await
        .text()
        .await
        .unwrap();
    let dir = s.db().dir.clone();
    std::fs::write(dir.join("antrag.xml"), &xml).unwrap();
    std::fs::write(dir.join("antrag.xsd"), &xsd).unwrap();
    let lint = std::process::Command::new("xmllint")
        .args(["--noout", "--schema"])
        .arg(dir.join("antrag.xsd"))
        .arg(dir.join("antrag.xml"))
        .output()
        .expect("xmllint (libxml2-utils) is installed by .ci/run");
    assert!(
        lint.status.success(),
        "{}",
        String::from_utf8_lossy(&lint.stderr)
    );
    for (token, path, status) in [
        (
            &stranger,
            format!("/api/v1/tenants/koeln/submissions/{id}"),
            403,
        ),
        (
            &stranger,
            "/api/v1/tenants/koeln/submissions".to_owned(),
            403,
        ),
        (
            &clerk,
            format!("/api/v1/tenants/duesseldorf/submissions/{id}"),
            403,
        ),
    ] {
        let res = s
            .client
            .get(s.url(&path))
            .bearer_auth(token)
            .send()
            .await
            .unwrap();
        assert_eq!(res.status(), status, "{path}");
    }
    let theirs: Vec<Value> = s
        .client
        .get(s.url("/api/v1/tenants/duesseldorf/submissions"))
        .bearer_auth(&stranger)
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert!(
        theirs.is_empty(),
        "Düsseldorf sees none of Köln's submissions"
    );
    assert!(
        s.client
            .get(s.url("/api/v1/tenants/koeln/submissions"))
            .send()
            .await
            .unwrap()
            .status()
            == 401
    );

    // The public HTML form: all steps on one page, every input labelled with its FIM label.
    let page = s
        .get(&format!("{url}?ansicht=alle"))
        .await
        .text()
        .await
        .unwrap();
    let imported = rathaus_forms::import(
        &std::fs::read(blaue_karte()).unwrap(),
        &rathaus_forms::NoCodeLists,
    )
    .unwrap();
    let mut checked = 0;
    imported.form.walk(|e| {
        if let rathaus_forms::Element::Field(f) = e
            && !matches!(
                f.kind,
                rathaus_forms::FieldKind::Label | rathaus_forms::FieldKind::Hidden
            )
        {
            let label = f
                .label
                .replace('&', "&amp;")
                .replace('<', "&lt;")
                .replace('>', "&gt;")
                .replace('"', "&quot;");
            assert!(
                page.contains(&format!("\">{label}</label>"))
                    || page.contains(&format!("<legend>{label}</legend>")),
                "no label „{}“ for {}",
                f.label,
                f.id
            );
            checked += 1;
        }
    });
    assert!(checked > 50, "{checked} inputs checked");
}
on_both_backends!(fim_schemas_become_forms_with_an_api, fim_import_and_api);

/// Finds the Hundesteuer form of a tenant from its public list.
async fn hundesteuer_url(s: &Server, slug: &str) -> String {
    let list = s
        .get(&format!("/{slug}/formulare"))
        .await
        .text()
        .await
        .unwrap();
    let start = list
        .find(&format!("href=\"/{slug}/formulare/"))
        .expect("a form is offered")
        + 6;
    list[start..].split('"').next().unwrap().to_owned()
}

/// The form page a test posts to: its URL and the CSRF token shown on it.
struct Page<'a> {
    url: &'a str,
    csrf: &'a str,
}

async fn post_page(
    b: &mut Browser<'_>,
    s: &Server,
    page: &Page<'_>,
    step: &str,
    action: &str,
    fields: &[(&str, &str)],
    file: Option<(&str, &str, Vec<u8>)>,
) -> Answer {
    // Names as browsers send them (reqwest would percent-encode the `/` of paths).
    let mut form = multipart::Form::new()
        .percent_encode_noop()
        .text("csrf", page.csrf.to_owned())
        .text("schritt", step.to_owned())
        .text("aktion", action.to_owned());
    for (k, v) in fields {
        form = form.text((*k).to_owned(), (*v).to_owned());
    }
    if let Some((name, file_name, bytes)) = file {
        form = form.part(
            name.to_owned(),
            multipart::Part::bytes(bytes).file_name(file_name.to_owned()),
        );
    }
    b.send(s.client.post(s.url(page.url)).multipart(form)).await
}

async fn hundesteuer_journey(s: &Server) {
    let url = hundesteuer_url(s, "koeln").await;
    let mut b = Browser::new(s);
    let first = b.get(&url).await;
    assert_eq!(first.status, 200);
    assert!(
        first.body.contains("Kosten:") && first.body.contains("156 €"),
        "the tenant's rates are shown"
    );
    let csrf = input(&first.body, "csrf");

    // Step 1 with gaps: shown again with the errors in German and the entered data kept.
    let a = post_page(
        &mut b,
        s,
        &Page {
            url: &url,
            csrf: &csrf,
        },
        "1",
        "weiter",
        &[("G99000000001/F99000000001", "Erika")],
        None,
    )
    .await;
    assert_eq!(a.status, 422);
    assert!(a.body.contains("Bitte prüfen Sie Ihre Angaben"));
    assert!(a.body.contains("value=\"Erika\""), "entered data kept");
    assert!(a.body.contains("aria-invalid=\"true\""));
    let owner = [
        ("G99000000001/F99000000001", "Erika"),
        ("G99000000001/F99000000002", "Mustermann"),
        ("G99000000001/F99000000003", "1964-08-12"),
        ("G99000000001/G99000000002/F99000000004", "Heidestraße"),
        ("G99000000001/G99000000002/F99000000005", "17"),
        ("G99000000001/G99000000002/F99000000006", "51147"),
        ("G99000000001/G99000000002/F99000000007", "Köln"),
        ("G99000000001/F99000000008", "erika@example.org"),
    ];
    let a = post_page(
        &mut b,
        s,
        &Page {
            url: &url,
            csrf: &csrf,
        },
        "1",
        "weiter",
        &owner,
        None,
    )
    .await;
    assert_eq!(
        (a.status, a.location.as_str()),
        (303, format!("{url}?schritt=2").as_str()),
        "{}",
        a.body
    );

    // Step 2: a dangerous dog needs the proof; a wrong file type and an oversized file are
    // refused before storage, a PDF is taken.
    let dog = [
        ("anzahl:G99000000003", "1"),
        ("G99000000003[0]/F99000000010", "Bello"),
        ("G99000000003[0]/F99000000011", "labrador"),
        ("G99000000003[0]/F99000000012", "2021-04-01"),
        ("G99000000003[0]/F99000000013", "276098106543210"),
        ("G99000000003[0]/F99000000014", "gefaehrlicher_hund"),
        ("G99000000003[0]/F99000000020", "2024-06-01"),
        ("G99000000003[0]/F99000000017", "false"),
    ];
    let a = post_page(
        &mut b,
        s,
        &Page {
            url: &url,
            csrf: &csrf,
        },
        "2",
        "weiter",
        &dog,
        None,
    )
    .await;
    assert_eq!(a.status, 422, "proof missing");
    let proof = "datei:G99000000003[0]/F99000000015";
    let a = post_page(
        &mut b,
        s,
        &Page {
            url: &url,
            csrf: &csrf,
        },
        "2",
        "weiter",
        &dog,
        Some((proof, "test.exe", b"MZ\x90\x00 not a pdf".to_vec())),
    )
    .await;
    assert_eq!(a.status, 422);
    assert!(a.body.contains("kein erlaubtes Format"), "{}", a.body);
    let mut big = b"%PDF-1.4\n".to_vec();
    big.resize(300 * 1024, b'x');
    let a = post_page(
        &mut b,
        s,
        &Page {
            url: &url,
            csrf: &csrf,
        },
        "2",
        "weiter",
        &dog,
        Some((proof, "gross.pdf", big)),
    )
    .await;
    assert_eq!(a.status, 422);
    assert!(a.body.contains("zu groß"), "{}", a.body);
    assert_eq!(
        count(s, "SELECT COUNT(*) FROM submission_attachments").await,
        0,
        "nothing stored"
    );
    let pdf = b"%PDF-1.4\n1 0 obj <<>> endobj\ntrailer <<>>\n%%EOF\n".to_vec();
    let a = post_page(
        &mut b,
        s,
        &Page {
            url: &url,
            csrf: &csrf,
        },
        "2",
        "weiter",
        &dog,
        Some((proof, "wesenstest.pdf", pdf)),
    )
    .await;
    assert_eq!(
        (a.status, a.location.as_str()),
        (303, format!("{url}?schritt=3").as_str()),
        "{}",
        a.body
    );

    // The draft survives: step 2 shows the upload and the data again.
    let page = b.get(&format!("{url}?schritt=2")).await.body;
    assert!(page.contains("wesenstest.pdf") && page.contains("value=\"Bello\""));

    let a = post_page(
        &mut b,
        s,
        &Page {
            url: &url,
            csrf: &csrf,
        },
        "3",
        "weiter",
        &[("F99000000030", "true")],
        None,
    )
    .await;
    assert_eq!(
        (a.status, a.location.as_str()),
        (303, format!("{url}/pruefen").as_str()),
        "{}",
        a.body
    );
    let review = b.get(&format!("{url}/pruefen")).await;
    assert_eq!(review.status, 200);
    assert!(
        review.body.contains("Bello") && review.body.contains("wesenstest.pdf"),
        "{}",
        review.body
    );
    // The dog tax under Köln's rates (demo: 852 € for a dangerous dog).
    assert!(
        review.body.contains("Voraussichtliche Hundesteuer")
            && review.body.contains("Gefährlicher Hund (Listenhund)")
            && review.body.contains("852,00 €"),
        "{}",
        review.body
    );
    let draft = input(&review.body, "entwurf");
    let csrf = input(&review.body, "csrf");

    // A double click sends one application.
    let sent = b
        .post(
            &format!("{url}/absenden"),
            &[("csrf", &csrf), ("entwurf", &draft)],
        )
        .await;
    assert_eq!(sent.status, 303);
    let again = b
        .post(
            &format!("{url}/absenden"),
            &[("csrf", &csrf), ("entwurf", &draft)],
        )
        .await;
    assert_eq!(
        (again.status, again.location.as_str()),
        (303, sent.location.as_str())
    );
    assert_eq!(count(s, "SELECT COUNT(*) FROM submissions").await, 1);
    assert_eq!(
        count(
            s,
            "SELECT COUNT(*) FROM submission_attachments WHERE submission_id IS NOT NULL"
        )
        .await,
        1
    );
    assert_eq!(
        count(s, "SELECT COUNT(*) FROM form_drafts").await,
        0,
        "the draft is gone"
    );
    assert_eq!(
        count(
            s,
            "SELECT COUNT(*) FROM audit_log WHERE action = 'submission.create'"
        )
        .await,
        1
    );

    let receipt = b.get(&sent.location).await;
    assert_eq!(receipt.status, 200);
    assert!(receipt.body.contains("Eingangsbestätigung") && receipt.body.contains("A-"));
    assert!(
        receipt.body.contains("852,00 €"),
        "the tax estimate is on the receipt"
    );
    let stranger = Browser::new(s)
        .get(sent.location.split('?').next().unwrap())
        .await;
    assert_eq!(stranger.status, 403, "no receipt without the link's token");

    // The receipt as PDF: tagged, readable by poppler and qpdf, with the same content; the
    // link's token is needed for it too.
    let (path, query) = sent.location.split_once('?').unwrap();
    let pdf_url = format!("{path}/pdf?{query}");
    assert!(
        receipt.body.contains(&pdf_url.replace('&', "&amp;")),
        "the page links the PDF"
    );
    let pdf = s.get(&pdf_url).await;
    assert_eq!(pdf.status(), 200);
    assert_eq!(pdf.headers()["content-type"], "application/pdf");
    let pdf = pdf.bytes().await.unwrap();
    let text = crate::support::pdf_text(&pdf);
    let reference = receipt
        .body
        .split("Aktenzeichen für Rückfragen: <strong>")
        .nth(1)
        .and_then(|r| r.split('<').next())
        .unwrap();
    for expected in [
        "Eingangsbestätigung",
        reference,
        "Bello",
        "Gefährlicher Hund",
        "852,00 €",
        "wesenstest.pdf",
    ] {
        assert!(
            text.contains(expected),
            "{expected:?} missing in the PDF:\n{text}"
        );
    }
    assert_eq!(s.get(&format!("{path}/pdf")).await.status(), 403);

    // The staff inbox: the Köln clerk sees it with its attachment; Düsseldorf's staff do not.
    let clerk = s.token("koeln", "postfach", "Sachbearbeitung");
    let list: Vec<Value> = s
        .client
        .get(s.url("/api/v1/tenants/koeln/submissions"))
        .bearer_auth(&clerk)
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(list.len(), 1);
    let id = list[0]["id"].as_str().unwrap();
    let detail: Value = s
        .client
        .get(s.url(&format!("/api/v1/tenants/koeln/submissions/{id}")))
        .bearer_auth(&clerk)
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(detail["data"]["G99000000003"][0]["F99000000010"], "Bello");
    let attachment = &detail["attachments"][0];
    assert_eq!(attachment["content_type"], "application/pdf");
    let bytes = s
        .client
        .get(s.url(&format!(
            "/api/v1/tenants/koeln/submissions/{id}/attachments/{}",
            attachment["id"].as_str().unwrap()
        )))
        .bearer_auth(&clerk)
        .send()
        .await
        .unwrap()
        .bytes()
        .await
        .unwrap();
    assert!(bytes.starts_with(b"%PDF-1.4"));

    // The clerk's back-office pages (Servicekonto login of the demo clerk).
    let mut staff = Browser::new(s);
    let a = staff
        .sign_in(
            "sachbearbeitung.koeln@example.org",
            "Demo-Passwort-1",
            "/koeln/verwaltung/antraege",
        )
        .await;
    assert_eq!(a.status, 303);
    let inbox = staff.get("/koeln/verwaltung/antraege").await;
    assert_eq!(inbox.status, 200);
    assert!(inbox.body.contains(list[0]["reference"].as_str().unwrap()));
    let page = staff.get(&format!("/koeln/verwaltung/antraege/{id}")).await;
    assert!(page.body.contains("Bello") && page.body.contains("wesenstest.pdf"));
    let csrf = input(&page.body, "csrf");
    let a = staff
        .post(
            &format!("/koeln/verwaltung/antraege/{id}"),
            &[("csrf", &csrf), ("status", "in_bearbeitung")],
        )
        .await;
    assert_eq!(a.status, 303);
    assert_eq!(
        count(
            s,
            "SELECT COUNT(*) FROM submissions WHERE status = 'in_bearbeitung'"
        )
        .await,
        1
    );
    assert_eq!(
        staff
            .get(&format!("/duesseldorf/verwaltung/antraege/{id}"))
            .await
            .status,
        403
    );
}

async fn hundesteuer(s: &Server) {
    hundesteuer_journey(s).await;
}

mod hundesteuer_end_to_end {
    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn sqlite() {
        super::hundesteuer(&super::small_uploads("sqlite").await).await;
    }
    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn postgres() {
        super::hundesteuer(&super::small_uploads("postgres").await).await;
    }
}

/// A demo server that takes uploads up to 200 KB.
async fn small_uploads(backend: &str) -> Server {
    let db = rathaus_storage::testing::TestDatabase::new(backend)
        .await
        .expect("test database");
    Server::start(db, "demo", &[("RATHAUS_FORMS__MAX_UPLOAD_BYTES", "204800")])
}

/// A signed-in citizen: the form is prefilled from the profile, the draft is kept in the account
/// (listed on the account page, resumable on another device), the receipt is listed there too.
async fn account_drafts(s: &Server) {
    let url = hundesteuer_url(s, "koeln").await;
    let mut b = Browser::new(s);
    let a = b
        .sign_in("erika.mustermann@example.org", "Demo-Passwort-1", &url)
        .await;
    assert_eq!(a.status, 303);
    let page = b.get(&url).await.body;
    assert!(
        page.contains("value=\"Erika\""),
        "given name prefilled from the profile"
    );
    let csrf = input(&page, "csrf");
    let a = post_page(
        &mut b,
        s,
        &Page {
            url: &url,
            csrf: &csrf,
        },
        "1",
        "speichern",
        &[
            ("G99000000001/F99000000001", "Erika"),
            ("G99000000001/F99000000002", "Gabler"),
        ],
        None,
    )
    .await;
    assert_eq!(a.status, 303);
    assert!(a.location.contains("hinweis=gespeichert"));
    assert!(
        b.get(&a.location)
            .await
            .body
            .contains("Ihre Angaben sind gespeichert")
    );
    let konto = b.get("/konto").await.body;
    assert!(
        konto.contains("Begonnene Anträge") && konto.contains("weiter ausfüllen"),
        "{konto}"
    );

    // Another device of the same account continues the same draft.
    let mut other = Browser::new(s);
    other
        .sign_in("erika.mustermann@example.org", "Demo-Passwort-1", "/konto")
        .await;
    assert!(other.get(&url).await.body.contains("value=\"Gabler\""));
    // An anonymous browser does not see it.
    assert!(!Browser::new(s).get(&url).await.body.contains("Gabler"));
}
on_both_backends!(
    signed_in_citizens_keep_drafts_in_their_account,
    account_drafts
);

/// Submissions without an account are limited per client address (`forms.
/// anonymous_submissions_per_minute`): the one over the limit gets 429 problem+json with
/// `Retry-After` and stores nothing.
async fn anonymous_rate_limit(backend: &str) {
    let db = rathaus_storage::testing::TestDatabase::new(backend)
        .await
        .expect("test database");
    let s = Server::start(
        db,
        "demo",
        &[("RATHAUS_FORMS__ANONYMOUS_SUBMISSIONS_PER_MINUTE", "2")],
    );
    let form_url = hundesteuer_url(&s, "koeln").await;
    let form_id = form_url.rsplit('/').next().unwrap();
    let body = sample("hundesteuer/valid-one-dog.json");
    let mut statuses = Vec::new();
    for key in ["a", "b", "c"] {
        let res = s
            .client
            .post(s.url(&format!(
                "/api/v1/tenants/koeln/forms/{form_id}/submissions"
            )))
            .header("Idempotency-Key", key)
            .json(&body)
            .send()
            .await
            .unwrap();
        statuses.push(res.status().as_u16());
        if res.status() == 429 {
            let wait: u64 = res.headers()["retry-after"]
                .to_str()
                .unwrap()
                .parse()
                .unwrap();
            assert!((1..=61).contains(&wait), "Retry-After {wait}");
            assert_eq!(res.headers()["content-type"], "application/problem+json");
            let problem: Value = res.json().await.unwrap();
            assert_eq!(problem["type"], "/api/probleme/too-many-submissions");
        }
    }
    assert_eq!(statuses, [201, 201, 429]);
    assert_eq!(count(&s, "SELECT COUNT(*) FROM submissions").await, 2);
}

mod anonymous_submissions_are_rate_limited {
    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn sqlite() {
        super::anonymous_rate_limit("sqlite").await;
    }
    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn postgres() {
        super::anonymous_rate_limit("postgres").await;
    }
}

/// The staff UI's FIM upload: Redaktion imports a real schema (counts and warnings shown, the
/// form is offered at once); an XDF 1 schema and a DOCTYPE are refused with the reason, the page
/// kept; other roles get 403.
async fn fim_upload_in_the_staff_ui(s: &Server) {
    let mut editor = Browser::new(s);
    let a = editor
        .sign_in(
            "redaktion.koeln@example.org",
            "Demo-Passwort-1",
            "/koeln/verwaltung/formulare",
        )
        .await;
    assert_eq!(a.status, 303);
    let list = editor.get("/koeln/verwaltung/formulare").await;
    assert_eq!(list.status, 200);
    assert!(list.body.contains("FIM-Datenfeldschema importieren"));
    let csrf = input(&list.body, "csrf");
    let upload = |name: &str, bytes: Vec<u8>| {
        s.client
            .post(s.url("/koeln/verwaltung/formulare/fim-import"))
            .multipart(multipart::Form::new().text("csrf", csrf.clone()).part(
                "schema",
                multipart::Part::bytes(bytes).file_name(name.to_owned()),
            ))
    };
    let done = editor
        .send(upload(
            "blaue-karte.xml",
            std::fs::read(blaue_karte()).unwrap(),
        ))
        .await;
    assert_eq!(done.status, 201, "{}", done.body);
    let (groups, fields) = distinct_ids(&std::fs::read_to_string(blaue_karte()).unwrap());
    assert!(
        done.body
            .contains(&format!("{groups} Datenfeldgruppen, {fields} Datenfelder")),
        "{}",
        done.body
    );
    let form_url = done
        .body
        .split("href=\"/koeln/formulare/")
        .nth(1)
        .and_then(|r| r.split('"').next())
        .map(|id| format!("/koeln/formulare/{id}"))
        .expect("a link to the form");
    assert_eq!(s.get(&form_url).await.status(), 200, "offered at once");

    let xdf1 = shared().join("testdata/xdatenfelder/v1");
    let old = std::fs::read_dir(&xdf1)
        .unwrap()
        .filter_map(|e| e.ok().map(|e| e.path()))
        .find(|p| p.to_string_lossy().ends_with(".xml"))
        .unwrap();
    let refused = editor
        .send(upload("alt.xml", std::fs::read(&old).unwrap()))
        .await;
    assert_eq!(refused.status, 422);
    assert!(refused.body.contains("XDatenfelder 1"), "{}", refused.body);
    let bomb = editor
        .send(upload(
            "bomb.xml",
            br#"<?xml version="1.0"?><!DOCTYPE x [<!ENTITY a "a">]><x>&a;</x>"#.to_vec(),
        ))
        .await;
    assert_eq!(bomb.status, 422);
    assert!(
        bomb.body.to_lowercase().contains("doctype"),
        "{}",
        bomb.body
    );

    let mut clerk = Browser::new(s);
    clerk
        .sign_in(
            "sachbearbeitung.koeln@example.org",
            "Demo-Passwort-1",
            "/koeln/verwaltung",
        )
        .await;
    let forbidden = clerk
        .send(
            s.client
                .post(s.url("/koeln/verwaltung/formulare/fim-import"))
                .multipart(multipart::Form::new().text("csrf", csrf.clone())),
        )
        .await;
    assert_eq!(forbidden.status, 403);
}
on_both_backends!(
    fim_schemas_are_uploaded_in_the_staff_ui,
    fim_upload_in_the_staff_ui
);
