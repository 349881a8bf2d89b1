//! The form builder of the back office through its public interfaces, on SQLite and
//! PostgreSQL: building a form in the HTML editor without JavaScript, publishing it, a citizen
//! filling it in, versions, concurrent edits, German errors, Einer-für-Alle templates and their
//! activation, the portable package, the XDF 3 export checked by the official QS, the JSON API
//! and tenant isolation.

use crate::on_both_backends;
use crate::support::{Answer, Browser, Server, input};
use reqwest::multipart;
use serde_json::{Value, json};
use std::path::PathBuf;

const PASSWORD: &str = "Demo-Passwort-1";
const REDAKTION: &str = "erika.mustermann@example.org";
const CLERK: &str = "sachbearbeitung.koeln@example.org";

async fn login<'a>(s: &'a Server, email: &str) -> Browser<'a> {
    let mut b = Browser::new(s);
    let a = b.sign_in(email, PASSWORD, "/konto").await;
    assert_eq!(a.status, 303, "login of {email}");
    b
}

fn link(s: &Server, tenant: &str, user: &str, email: &str, role: &str) {
    let out = s.cli(&[
        "staff",
        "link",
        "--tenant",
        tenant,
        "--user",
        user,
        "--email",
        email,
        "--office",
        "Digitalisierung",
        "--role",
        role,
    ]);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
}

/// The `element` query parameter of a redirect (the path of the element just changed).
fn element_of(location: &str) -> String {
    let query = location
        .split('?')
        .nth(1)
        .unwrap_or_default()
        .split('#')
        .next()
        .unwrap_or_default();
    query
        .split('&')
        .find_map(|kv| kv.strip_prefix("element="))
        .map(|v| v.replace("%2F", "/"))
        .unwrap_or_else(|| panic!("no element in {location}"))
}

/// The editor of one form, used like a browser without JavaScript.
struct Editor<'a, 'b> {
    b: &'b mut Browser<'a>,
    url: String,
}

impl Editor<'_, '_> {
    /// Loads the editor and posts one action with the page's CSRF token, version and stamp.
    async fn act(&mut self, fields: &[(&str, &str)]) -> Answer {
        let page = self.b.get(&self.url).await;
        assert_eq!(page.status, 200, "{}", page.body);
        let hidden = hidden_of(&page.body);
        self.post_with(&hidden, fields).await
    }

    async fn post_with(&mut self, hidden: &[(String, String)], fields: &[(&str, &str)]) -> Answer {
        let mut form: Vec<(&str, &str)> = hidden
            .iter()
            .map(|(k, v)| (k.as_str(), v.as_str()))
            .collect();
        form.extend_from_slice(fields);
        let url = self.url.clone();
        self.b.post(&url, &form).await
    }

    async fn add(&mut self, kind: &str, label: &str, parent: &str, values: &str) -> String {
        let a = self
            .act(&[
                ("aktion", "hinzufuegen"),
                ("art", kind),
                ("bezeichnung", label),
                ("ziel", parent),
                ("werte", values),
            ])
            .await;
        assert_eq!(a.status, 303, "add {label}: {}", a.body);
        element_of(&a.location)
    }
}

/// CSRF token, version and stamp of an editor page.
fn hidden_of(html: &str) -> Vec<(String, String)> {
    ["csrf", "version", "stand"]
        .iter()
        .map(|k| ((*k).to_owned(), input(html, k)))
        .collect()
}

/// The element form for a field, as the editor posts it.
fn field_form<'a>(path: &'a str, label: &'a str, kind: &'a str) -> Vec<(&'a str, &'a str)> {
    vec![
        ("aktion", "element"),
        ("pfad", path),
        ("gruppe", "nein"),
        ("bezeichnung", label),
        ("pflicht", "nein"),
        ("wiederholung", "einmal"),
        ("art", kind),
    ]
}

fn set<'a>(form: &mut Vec<(&'a str, &'a str)>, key: &'a str, value: &'a str) {
    form.retain(|(k, _)| *k != key);
    form.push((key, value));
}

async fn draft(s: &Server, token: &str, slug: &str, id: &str) -> Value {
    s.json_as(token, &format!("/api/v1/tenants/{slug}/forms/{id}/draft"))
        .await
}

fn last(id_path: &str) -> &str {
    id_path.rsplit('/').next().unwrap()
}

async fn html_builder(s: &Server) {
    link(s, "koeln", "redaktion", REDAKTION, "Redaktion");
    let api = s.token("koeln", "redaktion-api", "Redaktion");
    let clerk_token = s.token("koeln", "postfach", "Sachbearbeitung");

    // A clerk (role Sachbearbeitung) may not build forms: neither in HTML nor through the API.
    let mut clerk = login(s, CLERK).await;
    assert_eq!(clerk.get("/koeln/verwaltung/formulare").await.status, 403);
    assert_eq!(
        s.get_as(&clerk_token, "/api/v1/tenants/koeln/forms")
            .await
            .status(),
        403
    );

    let mut b = login(s, REDAKTION).await;
    let list = b.get("/koeln/verwaltung/formulare").await;
    assert_eq!(list.status, 200);
    assert!(list.body.contains("Neues Formular"));
    let csrf = input(&list.body, "csrf");
    let empty = b
        .post(
            "/koeln/verwaltung/formulare",
            &[("csrf", &csrf), ("titel", "  ")],
        )
        .await;
    assert_eq!(empty.status, 422);
    assert!(empty.body.contains("Bitte geben Sie einen Titel"));
    let created = b
        .post(
            "/koeln/verwaltung/formulare",
            &[("csrf", &csrf), ("titel", "Antrag auf Sondernutzung")],
        )
        .await;
    assert_eq!(created.status, 303, "{}", created.body);
    let url = created.location.split('?').next().unwrap().to_owned();
    let form_id = url.rsplit('/').next().unwrap().to_owned();
    let mut ed = Editor { b: &mut b, url };

    // Build: a group with fields of several types, an address block, an IBAN at the top.
    let group = ed.add("gruppe", "Antragsteller", "", "").await;
    let placeholder = draft(s, &api, "koeln", &form_id).await["form"]["elements"][0]["children"][0]
        ["id"]
        .as_str()
        .unwrap()
        .to_owned();
    let name = ed.add("text", "Name", &group, "").await;
    let kind = ed
        .add(
            "auswahl",
            "Art der Nutzung",
            &group,
            "stand=Infostand\nfest=Straßenfest\nsonst=Sonstiges",
        )
        .await;
    let plan = ed.add("datei", "Lageplan", &group, "").await;
    let area = ed.add("zahl", "Fläche in m²", &group, "").await;
    let bar = ed.add("janein", "Mit Ausschank", &group, "").await;
    ed.add("adresse", "", "", "").await;
    let iban = ed.add("iban", "IBAN für Erstattungen", "", "").await;
    assert!(!iban.contains('/'), "top level: {iban}");
    for id in [&group, &name, &kind, &plan, &area, &bar, &iban] {
        let id = last(id);
        assert!(
            id.len() == 12 && id[1..3] == *"99" && id[3..].bytes().all(|c| c.is_ascii_digit()),
            "private FIM-like id: {id}"
        );
    }

    // Delete the group's placeholder field; set a field required with length limits; an
    // upload shown only for street parties, PDF only, 2 MB; the area prefilled? no: bounded.
    let a = ed
        .act(&[
            ("aktion", "loeschen"),
            ("pfad", &format!("{group}/{placeholder}")),
        ])
        .await;
    assert_eq!(a.status, 303, "{}", a.body);
    let mut f = field_form(
        &name,
        "Name der Antragstellerin oder des Antragstellers",
        "text",
    );
    set(&mut f, "pflicht", "ja");
    set(&mut f, "min_laenge", "2");
    set(&mut f, "max_laenge", "100");
    set(&mut f, "vorbelegung", "familienname");
    let a = ed.act(&f).await;
    assert_eq!(a.status, 303, "{}", a.body);
    let mut f = field_form(&plan, "Lageplan", "datei");
    set(&mut f, "pflicht", "ja");
    f.push(("dateityp", "application/pdf"));
    f.push(("dateityp", "image/png"));
    set(&mut f, "max_mb", "2");
    set(&mut f, "bedingung_feld", last(&kind));
    set(&mut f, "bedingung_wert", "fest");
    let a = ed.act(&f).await;
    assert_eq!(a.status, 303, "{}", a.body);
    let mut f = field_form(&area, "Fläche in m²", "zahl");
    set(&mut f, "min_wert", "1");
    set(&mut f, "max_wert", "500");
    let a = ed.act(&f).await;
    assert_eq!(a.status, 303, "{}", a.body);
    // Reorder: the upload before the kind of use, then back.
    let a = ed.act(&[("aktion", "hoch"), ("pfad", &plan)]).await;
    assert_eq!(a.status, 303, "{}", a.body);
    let order = |d: &Value| -> Vec<String> {
        d["form"]["elements"][0]["children"]
            .as_array()
            .unwrap()
            .iter()
            .map(|e| e["id"].as_str().unwrap().to_owned())
            .collect()
    };
    let d = draft(s, &api, "koeln", &form_id).await;
    assert_eq!(
        order(&d),
        [
            last(&name),
            last(&plan),
            last(&kind),
            last(&area),
            last(&bar)
        ]
    );
    let a = ed.act(&[("aktion", "runter"), ("pfad", &plan)]).await;
    assert_eq!(a.status, 303);

    let d = draft(s, &api, "koeln", &form_id).await;
    assert_eq!(d["version"], 1);
    assert_eq!(d["published"], false);
    assert_eq!(
        order(&d),
        [
            last(&name),
            last(&kind),
            last(&plan),
            last(&area),
            last(&bar)
        ]
    );
    let children = &d["form"]["elements"][0]["children"];
    let field = |id: &str| {
        children
            .as_array()
            .unwrap()
            .iter()
            .find(|e| e["id"] == id)
            .unwrap()
            .clone()
    };
    let n = field(last(&name));
    assert_eq!(n["min"], 1);
    assert_eq!(
        n["constraints"],
        json!({"min_length": 2, "max_length": 100})
    );
    assert_eq!(n["prefill"], "family_name");
    let k = field(last(&kind));
    assert_eq!(k["kind"], "select");
    assert_eq!(
        k["code_list"]["values"][1],
        json!({"code": "fest", "label": "Straßenfest"})
    );
    let p = field(last(&plan));
    assert_eq!(p["datatype"], "file");
    assert_eq!(p["media_types"], json!(["application/pdf", "image/png"]));
    assert_eq!(p["max_size"], 2 * 1024 * 1024);
    assert_eq!(
        p["condition"],
        json!({"field": last(&kind), "equals": "fest"})
    );
    assert_eq!(
        field(last(&area))["constraints"],
        json!({"min_value": "1", "max_value": "500"})
    );
    let top = d["form"]["elements"].as_array().unwrap();
    assert_eq!(top.len(), 3);
    assert_eq!(top[1]["label"], "Anschrift");
    let plz = &top[1]["children"][2];
    assert_eq!(
        (
            plz["label"].as_str(),
            plz["constraints"]["pattern"].as_str(),
            plz["prefill"].as_str()
        ),
        (Some("Postleitzahl"), Some("[0-9]{5}"), Some("postal_code"))
    );
    assert_eq!(
        top[2]["constraints"]["pattern"],
        "[A-Z]{2}[0-9]{2}[A-Z0-9]{11,30}"
    );
    assert_eq!(top[2]["constraints"]["max_length"], 34);

    // Invalid input: German errors beside the editor, the entered data kept, nothing saved.
    let before = draft(s, &api, "koeln", &form_id).await;
    let mut f = field_form(&area, "", "zahl");
    set(&mut f, "hilfe", "Bitte die genutzte Fläche angeben.");
    let a = ed.act(&f).await;
    assert_eq!(a.status, 422);
    assert!(
        a.body.contains("Bitte geben Sie eine Bezeichnung an."),
        "{}",
        a.body
    );
    assert!(
        a.body.contains("Bitte die genutzte Fläche angeben."),
        "entered data kept"
    );
    assert!(a.body.contains("aria-describedby=\"fehler-element\""));
    let mut f = field_form(&name, "Name", "text");
    set(&mut f, "muster", "[0-9");
    let a = ed.act(&f).await;
    assert_eq!(a.status, 422);
    assert!(
        a.body.contains("Das Muster „[0-9“ ist ungültig."),
        "{}",
        a.body
    );
    assert!(a.body.contains("value=\"[0-9\""), "entered pattern kept");
    // The kind of use becomes repeatable while the upload's condition refers to it.
    let mut f = field_form(&kind, "Art der Nutzung", "auswahl");
    set(&mut f, "wiederholung", "unbegrenzt");
    set(
        &mut f,
        "werte",
        "stand=Infostand\nfest=Straßenfest\nsonst=Sonstiges",
    );
    let a = ed.act(&f).await;
    assert_eq!(a.status, 422);
    assert!(
        a.body
            .contains("Die Bedingung muss sich auf ein nicht wiederholtes"),
        "{}",
        a.body
    );
    // A condition value that is not one of the codes.
    let mut f = field_form(&bar, "Mit Ausschank", "janein");
    set(&mut f, "bedingung_feld", last(&kind));
    set(&mut f, "bedingung_wert", "zirkus");
    let a = ed.act(&f).await;
    assert_eq!(a.status, 422);
    assert!(a.body.contains("„zirkus“ ist kein Code"), "{}", a.body);
    assert_eq!(
        draft(s, &api, "koeln", &form_id).await,
        before,
        "nothing saved"
    );

    // Two tabs: the second save on a stale page is refused, nothing is overwritten.
    let tab = ed.b.get(&ed.url).await;
    let stale = hidden_of(&tab.body);
    let mut f = field_form(&bar, "Ausschank alkoholischer Getränke", "janein");
    set(&mut f, "hilfe", "Erste Änderung");
    assert_eq!(ed.act(&f).await.status, 303);
    let mut f = field_form(&bar, "Ausschank (zweiter Tab)", "janein");
    set(&mut f, "hilfe", "Zweite Änderung");
    let a = ed.post_with(&stale, &f).await;
    assert_eq!(a.status, 409);
    assert!(
        a.body.contains("inzwischen an anderer Stelle geändert"),
        "{}",
        a.body
    );
    assert!(
        a.body.contains("Zweite Änderung"),
        "the refused entry is kept to repeat it"
    );
    let d = draft(s, &api, "koeln", &form_id).await;
    assert_eq!(
        d["form"]["elements"][0]["children"][4]["label"],
        "Ausschank alkoholischer Getränke"
    );

    // Settings: fee and description; then publish.
    let a = ed
        .act(&[
            ("aktion", "einstellungen"),
            ("titel", "Antrag auf Sondernutzung"),
            (
                "beschreibung",
                "Für Stände und Feste auf öffentlichen Flächen.",
            ),
            (
                "rechtsgrundlage",
                "§ 18 Straßen- und Wegegesetz NRW i. V. m. der Sondernutzungssatzung",
            ),
            ("gebuehr_betrag", "25,50"),
            ("gebuehr_hinweis", ""),
            ("vertrauensniveau", "keins"),
            ("seiten", "standard"),
        ])
        .await;
    assert_eq!(a.status, 303, "{}", a.body);
    let d = draft(s, &api, "koeln", &form_id).await;
    assert_eq!(d["form"]["fee"]["amount_cents"], 2550);
    let page = ed.b.get(&ed.url).await.body;
    let mut publish: Vec<(String, String)> = hidden_of(&page);
    publish.push(("aktion".into(), "veroeffentlichen".into()));
    let pairs: Vec<(&str, &str)> = publish
        .iter()
        .map(|(k, v)| (k.as_str(), v.as_str()))
        .collect();
    let a =
        ed.b.post(&format!("{}/veroeffentlichen", ed.url), &pairs)
            .await;
    assert_eq!(a.status, 303, "{}", a.body);
    let listed: Vec<Value> = s
        .json_as(&api, "/api/v1/tenants/koeln/forms")
        .await
        .as_array()
        .unwrap()
        .clone();
    let mine = listed.iter().find(|f| f["id"] == form_id.as_str()).unwrap();
    assert_eq!(
        (
            mine["published_version"].as_i64(),
            mine["latest_version"].as_i64()
        ),
        (Some(1), Some(1))
    );
    let list = ed.b.get("/koeln/verwaltung/formulare").await.body;
    assert!(list.contains("veröffentlicht Version 1"), "{list}");

    // The XDF 3 export of the builder-made form passes the official QS without "Fehler".
    let xdf = ed.b.get(&format!("{}/xdf3", ed.url)).await;
    assert_eq!(xdf.status, 200);
    assert!(xdf.body.contains("xdatenfelder.stammdatenschema.0102"));
    let file = s.db().dir.join("builder.xdf3.xml");
    std::fs::write(&file, &xdf.body).unwrap();
    let qs = std::process::Command::new("python3")
        .arg(PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../shared/tools/fim-reference.py"))
        .arg("qs")
        .arg(&file)
        .output()
        .expect("python3");
    let report = String::from_utf8_lossy(&qs.stdout);
    assert!(report.contains(" Fehler, "), "a QS report: {report}");
    assert!(
        qs.status.success(),
        "QS-Fehler:\n{report}\n{}",
        String::from_utf8_lossy(&qs.stderr)
    );

    // A citizen fills it in on the public page (all steps on one page) and sends it.
    let public = format!("/koeln/formulare/{form_id}");
    let mut citizen = Browser::new(s);
    let first = citizen.get(&format!("{public}?ansicht=alle")).await;
    assert_eq!(first.status, 200);
    assert!(
        first
            .body
            .contains("Name der Antragstellerin oder des Antragstellers")
    );
    assert!(first.body.contains("25,50 €"), "fee shown");
    let csrf = input(&first.body, "csrf");
    let addr = top[1]["id"].as_str().unwrap().to_owned();
    let addr_fields: Vec<String> = top[1]["children"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| format!("{addr}/{}", e["id"].as_str().unwrap()))
        .collect();
    let data = [
        (name.clone(), "Erika Mustermann"),
        (kind.clone(), "fest"),
        (area.clone(), "42,5"),
        (bar.clone(), "true"),
        (addr_fields[0].clone(), "Heidestraße"),
        (addr_fields[1].clone(), "17"),
        (addr_fields[2].clone(), "51147"),
        (addr_fields[3].clone(), "Köln"),
        (iban.clone(), "DE02120300000000202051"),
    ];
    let mut form = multipart::Form::new()
        .percent_encode_noop()
        .text("csrf", csrf.clone())
        .text("schritt", "alle")
        .text("aktion", "weiter");
    for (k, v) in &data {
        form = form.text(k.clone(), (*v).to_owned());
    }
    form = form.part(
        format!("datei:{plan}"),
        multipart::Part::bytes(b"%PDF-1.4\n1 0 obj <<>> endobj\ntrailer <<>>\n%%EOF\n".to_vec())
            .file_name("lageplan.pdf"),
    );
    let a = citizen
        .send(s.client.post(s.url(&public)).multipart(form))
        .await;
    assert_eq!(
        (a.status, a.location.as_str()),
        (303, format!("{public}/pruefen").as_str()),
        "{}",
        a.body
    );
    let review = citizen.get(&format!("{public}/pruefen")).await;
    assert!(review.body.contains("lageplan.pdf"), "{}", review.body);
    let sent = citizen
        .post(
            &format!("{public}/absenden"),
            &[
                ("csrf", &input(&review.body, "csrf")),
                ("entwurf", &input(&review.body, "entwurf")),
            ],
        )
        .await;
    assert_eq!(sent.status, 303, "{}", sent.body);
    let submissions: Vec<Value> = s
        .json_as(&clerk_token, "/api/v1/tenants/koeln/submissions")
        .await
        .as_array()
        .unwrap()
        .clone();
    assert_eq!(submissions.len(), 1);
    assert_eq!(submissions[0]["form_id"], form_id.as_str());
    assert_eq!(submissions[0]["form_version"], 1);
    let sid = submissions[0]["id"].as_str().unwrap();
    let detail = s
        .json_as(
            &clerk_token,
            &format!("/api/v1/tenants/koeln/submissions/{sid}"),
        )
        .await;
    assert_eq!(
        detail["data"][last(&group)][last(&name)],
        "Erika Mustermann"
    );
    assert_eq!(detail["data"][last(&group)][last(&area)], 42.5);
    assert_eq!(detail["attachments"][0]["file_name"], "lageplan.pdf");

    // Editing after publishing starts version 2; version 1 stays as published and serves the
    // public page until version 2 is published.
    let mut f = field_form(&name, "Vollständiger Name", "text");
    set(&mut f, "pflicht", "ja");
    let a = ed.act(&f).await;
    assert_eq!(a.status, 303, "{}", a.body);
    let d = draft(s, &api, "koeln", &form_id).await;
    assert_eq!(
        (d["version"].as_i64(), d["published"].as_bool()),
        (Some(2), Some(false))
    );
    let public_page = s
        .get(&format!("{public}?ansicht=alle"))
        .await
        .text()
        .await
        .unwrap();
    assert!(public_page.contains("Name der Antragstellerin oder des Antragstellers"));
    assert!(!public_page.contains("Vollständiger Name"));
    let info: Value = s
        .get(&format!("/api/v1/tenants/koeln/forms/{form_id}"))
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(info["version"], 1);
    let xml = s
        .get_as(
            &clerk_token,
            &format!("/api/v1/tenants/koeln/submissions/{sid}/xml"),
        )
        .await;
    assert_eq!(
        xml.status(),
        200,
        "the submission of version 1 still converts"
    );
    let page = ed.b.get(&ed.url).await.body;
    let mut publish: Vec<(String, String)> = hidden_of(&page);
    publish.push(("aktion".into(), "veroeffentlichen".into()));
    let pairs: Vec<(&str, &str)> = publish
        .iter()
        .map(|(k, v)| (k.as_str(), v.as_str()))
        .collect();
    let a =
        ed.b.post(&format!("{}/veroeffentlichen", ed.url), &pairs)
            .await;
    assert_eq!(a.status, 303, "{}", a.body);
    let public_page = s
        .get(&format!("{public}?ansicht=alle"))
        .await
        .text()
        .await
        .unwrap();
    assert!(public_page.contains("Vollständiger Name"));
    let v1 = s
        .get(&format!(
            "/api/v1/tenants/koeln/forms/{form_id}/versions/1/xsd"
        ))
        .await;
    assert_eq!(v1.status(), 200, "version 1 stays retrievable");
    let preview = ed.b.get(&format!("{}/vorschau", ed.url)).await;
    assert_eq!(preview.status, 200);
    assert!(preview.body.contains("Vollständiger Name"));
    assert_eq!(
        count(s, &format!("SELECT COUNT(*) FROM form_versions WHERE form_id = '{form_id}' AND status = 'published'")).await,
        2
    );
    assert!(
        count(s, &format!("SELECT COUNT(*) FROM audit_log WHERE object_id = '{form_id}' AND action = 'form.save'")).await >= 10,
        "every save is audited"
    );
}
on_both_backends!(
    html_editor_builds_publishes_and_versions_forms,
    html_builder
);

async fn count(s: &Server, sql: &str) -> i64 {
    let db = s.db().connect().await.unwrap();
    sqlx::query_scalar::<_, i64>(sqlx::AssertSqlSafe(sql.to_owned()))
        .fetch_one(db.pool())
        .await
        .unwrap()
}

/// A small valid form model.
fn model(title: &str) -> Value {
    json!({
        "id": "S99123456789",
        "version": "1.0.0",
        "name": title,
        "title": title,
        "elements": [{
            "type": "group", "id": "G99000000101", "version": "1.0.0", "name": "Angaben",
            "label": "Angaben", "min": 1, "max": 1,
            "children": [
                {"type": "field", "id": "F99000000101", "version": "1.0.0", "name": "Name", "label": "Name",
                 "kind": "input", "datatype": "text", "constraints": {"max_length": 100}, "min": 1, "max": 1},
                {"type": "field", "id": "F99000000102", "version": "1.0.0", "name": "Anlass", "label": "Anlass",
                 "kind": "select", "datatype": "text", "min": 1, "max": 1,
                 "code_list": {"urn": "", "values": [{"code": "fest", "label": "Fest"}, {"code": "markt", "label": "Markt"}]}},
                {"type": "field", "id": "F99000000103", "version": "1.0.0", "name": "Plan", "label": "Plan",
                 "kind": "input", "datatype": "file", "min": 1, "max": 1, "media_types": ["application/pdf"],
                 "condition": {"field": "F99000000102", "equals": "fest"}}
            ]
        }]
    })
}

async fn api_and_packages(s: &Server) {
    let koeln = s.token("koeln", "redaktion", "Redaktion");
    let dus = s.token("duesseldorf", "redaktion", "Redaktion");
    let post = |token: &str, path: &str, body: &Value| {
        s.client
            .post(s.url(path))
            .bearer_auth(token)
            .json(body)
            .send()
    };
    let put = |token: &str, path: &str, version: &str, body: &Value| {
        s.client
            .put(s.url(path))
            .bearer_auth(token)
            .header("If-Match", version)
            .json(body)
            .send()
    };

    // Invalid models: 422 problem+json with every German message.
    let mut bad = model("Kaputt");
    bad["elements"][0]["children"][0]["constraints"]["pattern"] = json!("[a-");
    bad["elements"][0]["children"][1]["max"] = Value::Null;
    bad["elements"][0]["children"][1]["label"] = json!("");
    let res = post(&koeln, "/api/v1/tenants/koeln/forms", &bad)
        .await
        .unwrap();
    assert_eq!(res.status(), 422);
    assert_eq!(res.headers()["content-type"], "application/problem+json");
    let problem: Value = res.json().await.unwrap();
    let messages: Vec<&str> = problem["errors"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["message"].as_str().unwrap())
        .collect();
    assert!(
        messages.iter().any(|m| m.contains("ist ungültig")),
        "{messages:?}"
    );
    assert!(
        messages.iter().any(|m| m.contains("nicht wiederholtes")),
        "{messages:?}"
    );
    assert!(
        messages.iter().any(|m| m.contains("Bezeichnung")),
        "{messages:?}"
    );
    assert_eq!(
        problem["errors"][0]["field"], "G99000000101/F99000000101",
        "{problem}"
    );
    assert!(
        s.json_as(&koeln, "/api/v1/tenants/koeln/forms")
            .await
            .as_array()
            .unwrap()
            .iter()
            .all(|f| f["title"] != "Kaputt"),
        "nothing stored"
    );

    // Create, save with If-Match, publish; a stale If-Match gives 412.
    let res = post(
        &koeln,
        "/api/v1/tenants/koeln/forms",
        &model("Festanmeldung"),
    )
    .await
    .unwrap();
    assert_eq!(res.status(), 201);
    assert_eq!(res.headers()["etag"], "\"1.1\"");
    let created: Value = res.json().await.unwrap();
    let id = created["form_id"].as_str().unwrap().to_owned();
    let draft_path = format!("/api/v1/tenants/koeln/forms/{id}/draft");
    let mut changed = model("Festanmeldung 2025");
    let res = put(&koeln, &draft_path, "\"1.1\"", &changed).await.unwrap();
    assert_eq!(res.status(), 200);
    assert_eq!(
        res.headers()["etag"],
        "\"1.2\"",
        "the draft's revision counts saves"
    );
    let res = s
        .client
        .put(s.url(&draft_path))
        .bearer_auth(&koeln)
        .json(&changed)
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 428, "If-Match is required");
    assert_eq!(
        put(&koeln, &draft_path, "\"1\"", &changed)
            .await
            .unwrap()
            .status(),
        400,
        "If-Match must be a whole ETag"
    );
    let publish = |token: &str, slug: &str, id: &str, etag: Option<&str>| {
        let mut req = s
            .client
            .post(s.url(&format!("/api/v1/tenants/{slug}/forms/{id}/publish")))
            .bearer_auth(token);
        if let Some(e) = etag {
            req = req.header("If-Match", e);
        }
        req.send()
    };
    assert_eq!(
        publish(&koeln, "koeln", &id, Some("\"1.1\""))
            .await
            .unwrap()
            .status(),
        412,
        "publishing what was read: revision 1 is gone"
    );
    let res = publish(&koeln, "koeln", &id, Some("\"1.2\""))
        .await
        .unwrap();
    assert_eq!(res.status(), 200);
    assert_eq!(res.json::<Value>().await.unwrap()["version"], 1);
    assert_eq!(
        publish(&koeln, "koeln", &id, None).await.unwrap().status(),
        409
    );
    changed["description"] = json!("Neu: mit Beschreibung");
    let res = put(&koeln, &draft_path, "\"1.2\"", &changed).await.unwrap();
    assert_eq!(res.status(), 200);
    assert_eq!(res.headers()["etag"], "\"2.1\"");
    assert_eq!(res.json::<Value>().await.unwrap()["version"], 2);
    let res = put(&koeln, &draft_path, "\"1.2\"", &changed).await.unwrap();
    assert_eq!(res.status(), 412, "version 1 is no longer the base");
    let problem: Value = res.json().await.unwrap();
    assert!(
        problem["detail"]
            .as_str()
            .unwrap()
            .contains("aktuell ist Version 2")
    );
    // Two editors of the same draft: the second, still on revision 1, loses and saves nothing.
    changed["description"] = json!("Erste Person");
    let res = put(&koeln, &draft_path, "\"2.1\"", &changed).await.unwrap();
    assert_eq!(res.headers()["etag"], "\"2.2\"");
    let mut other = changed.clone();
    other["description"] = json!("Zweite Person");
    let res = put(&koeln, &draft_path, "\"2.1\"", &other).await.unwrap();
    assert_eq!(res.status(), 412);
    let problem: Value = res.json().await.unwrap();
    assert!(
        problem["detail"].as_str().unwrap().contains("Stand 2.1"),
        "{problem}"
    );
    let now: Value = s
        .client
        .get(s.url(&draft_path))
        .bearer_auth(&koeln)
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(now["form"]["description"], "Erste Person");
    assert_eq!(now["revision"], 2);

    // Tenant isolation on the API.
    assert_eq!(
        put(&dus, &draft_path, "\"2.2\"", &changed)
            .await
            .unwrap()
            .status(),
        403
    );
    assert_eq!(
        put(
            &dus,
            &format!("/api/v1/tenants/duesseldorf/forms/{id}/draft"),
            "\"2.2\"",
            &changed
        )
        .await
        .unwrap()
        .status(),
        404
    );
    assert_eq!(
        publish(&dus, "duesseldorf", &id, None)
            .await
            .unwrap()
            .status(),
        404
    );
    assert_eq!(
        s.get_as(
            &dus,
            &format!("/api/v1/tenants/duesseldorf/forms/{id}/package")
        )
        .await
        .status(),
        404
    );

    // The package: the published version 1, imported at Düsseldorf as an equal draft.
    let res = s
        .get_as(&koeln, &format!("/api/v1/tenants/koeln/forms/{id}/package"))
        .await;
    assert_eq!(res.status(), 200);
    assert!(
        res.headers()["content-disposition"]
            .to_str()
            .unwrap()
            .starts_with("attachment;")
    );
    let package: Value = res.json().await.unwrap();
    assert_eq!(package["format"], "rathaus-formular/1");
    assert_eq!(package["source"]["tenant"], "koeln");
    assert_eq!(package["source"]["form_id"], id.as_str());
    assert_eq!(package["source"]["version"], 1);
    assert_eq!(package["form"]["title"], "Festanmeldung 2025");
    assert!(package["exported_at"].is_string() && package["source"]["instance"].is_string());
    let res = post(&dus, "/api/v1/tenants/duesseldorf/forms/packages", &package)
        .await
        .unwrap();
    assert_eq!(res.status(), 201);
    let imported: Value = res.json().await.unwrap();
    let theirs = imported["form_id"].as_str().unwrap();
    assert_ne!(theirs, id);
    let again = draft(s, &dus, "duesseldorf", theirs).await;
    assert_eq!(again["form"], package["form"], "an equal form");
    assert_eq!(again["published"], false);
    let mut wrong = package.clone();
    wrong["format"] = json!("anderes-format/7");
    let res = post(&dus, "/api/v1/tenants/duesseldorf/forms/packages", &wrong)
        .await
        .unwrap();
    assert_eq!(res.status(), 422);
    let problem: Value = res.json().await.unwrap();
    assert!(
        problem["errors"][0]["message"]
            .as_str()
            .unwrap()
            .contains("wird nicht unterstützt"),
        "{problem}"
    );

    // The same through the HTML pages: download at Köln, upload at Düsseldorf.
    link(s, "koeln", "redaktion-web", REDAKTION, "Redaktion");
    link(s, "duesseldorf", "redaktion-web", CLERK, "Redaktion");
    let mut erika = login(s, REDAKTION).await;
    let download = erika
        .get(&format!("/koeln/verwaltung/formulare/{id}/paket"))
        .await;
    assert_eq!(download.status, 200);
    let mut clerk = login(s, CLERK).await;
    let list = clerk.get("/duesseldorf/verwaltung/formulare").await;
    assert_eq!(list.status, 200);
    let upload = |bytes: Vec<u8>| {
        multipart::Form::new()
            .text("csrf", input(&list.body, "csrf"))
            .part(
                "paket",
                multipart::Part::bytes(bytes).file_name("paket.json"),
            )
    };
    let a = clerk
        .send(
            s.client
                .post(s.url("/duesseldorf/verwaltung/formulare/paket-import"))
                .multipart(upload(b"{\"format\": \"x\"}".to_vec())),
        )
        .await;
    assert_eq!(a.status, 422);
    assert!(
        a.body
            .contains("Das Paketformat „x“ wird nicht unterstützt"),
        "{}",
        a.body
    );
    let a = clerk
        .send(
            s.client
                .post(s.url("/duesseldorf/verwaltung/formulare/paket-import"))
                .multipart(upload(download.body.into_bytes())),
        )
        .await;
    assert_eq!(a.status, 303, "{}", a.body);
    let web_id = a
        .location
        .split('?')
        .next()
        .unwrap()
        .rsplit('/')
        .next()
        .unwrap();
    assert_eq!(
        draft(s, &dus, "duesseldorf", web_id).await["form"],
        package["form"]
    );

    // Köln's editor does not reach Düsseldorf's forms, in either way.
    assert_eq!(
        erika
            .get(&format!("/koeln/verwaltung/formulare/{web_id}"))
            .await
            .status,
        404
    );
    assert_eq!(
        erika
            .get(&format!("/duesseldorf/verwaltung/formulare/{web_id}"))
            .await
            .status,
        403
    );
    let page = erika
        .get(&format!("/koeln/verwaltung/formulare/{id}"))
        .await
        .body;
    let mut form: Vec<(String, String)> = hidden_of(&page);
    form.extend([
        ("aktion".to_owned(), "loeschen".to_owned()),
        ("pfad".to_owned(), "G99000000101".to_owned()),
    ]);
    let pairs: Vec<(&str, &str)> = form.iter().map(|(k, v)| (k.as_str(), v.as_str())).collect();
    assert_eq!(
        erika
            .post(&format!("/koeln/verwaltung/formulare/{web_id}"), &pairs)
            .await
            .status,
        404
    );
    assert_eq!(
        erika
            .post(
                &format!("/duesseldorf/verwaltung/formulare/{web_id}"),
                &pairs
            )
            .await
            .status,
        403
    );
    assert_eq!(
        draft(s, &dus, "duesseldorf", web_id).await["form"],
        package["form"]
    );
}
on_both_backends!(builder_api_and_portable_packages, api_and_packages);

async fn documented(s: &Server) {
    let spec: Value = s.get("/api/openapi.json").await.json().await.unwrap();
    for (path, method) in [
        ("/api/v1/tenants/{slug}/forms", "get"),
        ("/api/v1/tenants/{slug}/forms", "post"),
        ("/api/v1/tenants/{slug}/forms/{form_id}/draft", "put"),
        ("/api/v1/tenants/{slug}/forms/{form_id}/publish", "post"),
        ("/api/v1/tenants/{slug}/forms/{form_id}/package", "get"),
        ("/api/v1/tenants/{slug}/forms/packages", "post"),
    ] {
        let op = &spec["paths"][path][method];
        assert!(op.is_object(), "{method} {path} documented");
        assert!(op["responses"]["403"].is_object(), "{method} {path}: 403");
    }
}

on_both_backends!(builder_api_is_documented, documented);

async fn templates(s: &Server) {
    // Köln builds and publishes a form (API), and offers it as a template (HTML).
    let koeln = s.token("koeln", "redaktion", "Redaktion");
    let res = s
        .client
        .post(s.url("/api/v1/tenants/koeln/forms"))
        .bearer_auth(&koeln)
        .json(&model("Anmeldung eines Straßenfests"))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 201);
    let id = res.json::<Value>().await.unwrap()["form_id"]
        .as_str()
        .unwrap()
        .to_owned();
    let res = s
        .client
        .post(s.url(&format!("/api/v1/tenants/koeln/forms/{id}/publish")))
        .bearer_auth(&koeln)
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 200);
    link(s, "koeln", "redaktion-web", REDAKTION, "Redaktion");
    link(s, "duesseldorf", "redaktion-web", CLERK, "Redaktion");
    let mut erika = login(s, REDAKTION).await;
    let page = erika
        .get(&format!("/koeln/verwaltung/formulare/{id}"))
        .await;
    assert!(page.body.contains("Als Vorlage für alle Kommunen anbieten"));
    let a = erika
        .post(
            &format!("/koeln/verwaltung/formulare/{id}/vorlage"),
            &[("csrf", &input(&page.body, "csrf")), ("anbieten", "ja")],
        )
        .await;
    assert_eq!(a.status, 303);

    // Düsseldorf's Redaktion sees it among the templates and activates it with its own office.
    let activate = format!("/duesseldorf/verwaltung/formulare/{id}/aktivieren");
    let mut dus = login(s, CLERK).await;
    let list = dus.get("/duesseldorf/verwaltung/formulare").await;
    assert_eq!(list.status, 200);
    assert!(list.body.contains("Vorlagen anderer Kommunen"));
    assert!(list.body.contains("Anmeldung eines Straßenfests"));
    assert!(list.body.contains(&activate), "offered for activation");
    let csrf = input(&list.body, "csrf");
    let a = dus
        .post(
            &activate,
            &[
                ("csrf", &csrf),
                ("dienststelle", ""),
                ("gebuehr_hinweis", "Kostenlos"),
            ],
        )
        .await;
    assert_eq!(a.status, 422);
    assert!(
        a.body
            .contains("Bitte geben Sie die zuständige Dienststelle an.")
    );
    assert!(a.body.contains("value=\"Kostenlos\""), "entered data kept");
    let a = dus
        .post(
            &activate,
            &[
                ("csrf", &csrf),
                ("dienststelle", "Ordnungsamt Düsseldorf, Sondernutzungen"),
                (
                    "gebuehr_hinweis",
                    "Die Gebühr richtet sich nach der Düsseldorfer Sondernutzungssatzung.",
                ),
                ("ziel", "sondernutzung@duesseldorf.example"),
                ("logo", ""),
            ],
        )
        .await;
    assert_eq!(a.status, 303, "{}", a.body);
    let listed = dus.get("/duesseldorf/verwaltung/formulare").await.body;
    assert!(
        listed.contains("Vorlage von "),
        "listed among Düsseldorf's forms"
    );
    assert_eq!(
        dus.get(&format!("/duesseldorf/verwaltung/formulare/{id}"))
            .await
            .status,
        404,
        "a template is edited only by its owner"
    );
    let dus_api = s.token("duesseldorf", "redaktion-api", "Redaktion");
    let forms = s
        .json_as(&dus_api, "/api/v1/tenants/duesseldorf/forms")
        .await;
    let activated = forms
        .as_array()
        .unwrap()
        .iter()
        .find(|f| f["id"] == id.as_str())
        .expect("listed as activated template");
    assert_eq!(activated["owned"], false);
    assert_eq!(
        activated["params"]["ziel"],
        "sondernutzung@duesseldorf.example"
    );
    // Parameters the builder does not edit survive a change (the demo's dog-tax rates).
    let dog_tax = forms
        .as_array()
        .unwrap()
        .iter()
        .find(|f| f["params"]["hundesteuer_saetze"].is_object())
        .expect("the demo's Hundesteuer activation")
        .clone();
    let dog_id = dog_tax["id"].as_str().unwrap();
    let a = dus
        .post(
            &format!("/duesseldorf/verwaltung/formulare/{dog_id}/aktivieren"),
            &[
                ("csrf", &csrf),
                ("dienststelle", "Steueramt Düsseldorf"),
                ("gebuehr_hinweis", ""),
            ],
        )
        .await;
    assert_eq!(a.status, 303, "{}", a.body);
    let after = s
        .json_as(&dus_api, "/api/v1/tenants/duesseldorf/forms")
        .await;
    let after = after
        .as_array()
        .unwrap()
        .iter()
        .find(|f| f["id"] == dog_id)
        .unwrap();
    assert_eq!(after["params"]["dienststelle"], "Steueramt Düsseldorf");
    assert_eq!(
        after["params"]["hundesteuer_saetze"],
        dog_tax["params"]["hundesteuer_saetze"]
    );
    assert!(after["params"]["gebuehr_hinweis"].is_null(), "cleared");

    // Its public page shows Düsseldorf's office and fee hint; Köln's does not.
    let theirs = s
        .get(&format!("/duesseldorf/formulare/{id}"))
        .await
        .text()
        .await
        .unwrap();
    assert!(
        theirs.contains("Ordnungsamt Düsseldorf, Sondernutzungen"),
        "{theirs}"
    );
    assert!(theirs.contains("Düsseldorfer Sondernutzungssatzung"));
    let ours = s
        .get(&format!("/koeln/formulare/{id}"))
        .await
        .text()
        .await
        .unwrap();
    assert!(!ours.contains("Ordnungsamt Düsseldorf"));

    // A submission through Düsseldorf lands at Düsseldorf, not at the owner.
    let res = s
        .client
        .post(s.url(&format!(
            "/api/v1/tenants/duesseldorf/forms/{id}/submissions"
        )))
        .json(&json!({"G99000000101": {"F99000000101": "Max Muster", "F99000000102": "markt"}}))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 201, "{}", res.text().await.unwrap());
    let dus_clerk = s.token("duesseldorf", "postfach", "Sachbearbeitung");
    let koeln_clerk = s.token("koeln", "postfach", "Sachbearbeitung");
    let at_dus = s
        .json_as(&dus_clerk, "/api/v1/tenants/duesseldorf/submissions")
        .await;
    assert_eq!(at_dus.as_array().unwrap().len(), 1);
    assert_eq!(at_dus[0]["form_id"], id.as_str());
    let at_koeln = s
        .json_as(&koeln_clerk, "/api/v1/tenants/koeln/submissions")
        .await;
    assert!(at_koeln.as_array().unwrap().is_empty());

    // The owner stops offering it: other tenants no longer get it offered for activation.
    let page = erika
        .get(&format!("/koeln/verwaltung/formulare/{id}"))
        .await;
    let a = erika
        .post(
            &format!("/koeln/verwaltung/formulare/{id}/vorlage"),
            &[("csrf", &input(&page.body, "csrf")), ("anbieten", "nein")],
        )
        .await;
    assert_eq!(a.status, 303);
    let list = dus.get("/duesseldorf/verwaltung/formulare").await.body;
    assert!(!list.contains(&activate), "no longer offered");
}
on_both_backends!(templates_are_activated_by_other_tenants, templates);
