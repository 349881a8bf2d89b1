//! Leitweg-ID routes of E-Rechnung reception: the API (tenant admins) and the CLI.

use crate::on_both_backends;
use crate::support::Server;
use serde_json::{Value, json};

const VISIBLE: &str = "../shared/testdata/xrechnung/visible/business-cases/standard";
const ROUTES: &str = "/api/v1/tenants/koeln/leitweg-routes";

async fn call(
    s: &Server,
    method: reqwest::Method,
    token: &str,
    path: &str,
    body: Option<Value>,
) -> (u16, Value) {
    let mut req = s.client.request(method, s.url(path)).bearer_auth(token);
    if let Some(b) = body {
        req = req.json(&b);
    }
    let res = req.send().await.expect("request");
    let status = res.status().as_u16();
    (status, res.json().await.unwrap_or(Value::Null))
}

/// The UBL test invoice addressed to `leitweg` with invoice number `number`.
fn invoice(leitweg: &str, number: &str) -> Vec<u8> {
    std::fs::read_to_string(format!("{VISIBLE}/01.01a-INVOICE_ubl.xml"))
        .expect("test invoice")
        .replace("04011000-12345-03", leitweg)
        .replace("123456XX", number)
        .into_bytes()
}

async fn receive(s: &Server, body: Vec<u8>) -> (u16, Value) {
    let res = s
        .client
        .post(s.url("/api/v1/einvoices"))
        .header("content-type", "application/xml")
        .body(body)
        .send()
        .await
        .expect("POST");
    let status = res.status().as_u16();
    (status, res.json().await.unwrap_or(Value::Null))
}

fn prefixes(list: &Value) -> Vec<String> {
    list.as_array()
        .expect("array")
        .iter()
        .map(|r| r["prefix"].as_str().unwrap().to_owned())
        .collect()
}

async fn api(s: &Server) {
    use reqwest::Method;
    let admin = s.token("koeln", "leitweg-admin", "admin");

    // The demo's routes of Köln.
    let list = s.json_as(&admin, ROUTES).await;
    assert_eq!(prefixes(&list), ["04011000", "04011000-12350-85"], "{list}");
    assert_eq!(list[0]["office"], "Kämmerei");

    // Create: 201 with Location; normalised to upper case; then used by reception.
    let res = s
        .client
        .post(s.url(ROUTES))
        .bearer_auth(&admin)
        .json(&json!({"prefix": " 05315000-buergeramt ", "office": "Bürgeramt"}))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 201);
    assert_eq!(
        res.headers()["location"],
        "/api/v1/tenants/koeln/leitweg-routes/05315000-BUERGERAMT"
    );
    let created: Value = res.json().await.unwrap();
    assert_eq!(created["prefix"], "05315000-BUERGERAMT");
    assert_eq!(created["office"], "Bürgeramt");
    assert!(created["created_at"].as_str().unwrap().starts_with("20"));
    let (status, r) = receive(s, invoice("05315000-BUERGERAMT-12", "ROUTE-1")).await;
    assert_eq!(status, 201, "{r}");
    assert_eq!(
        (r["tenant"].as_str(), r["office"].as_str()),
        (Some("koeln"), Some("Bürgeramt"))
    );

    // The same prefix again: 409; another tenant's prefix, or one overlapping it: 409.
    for prefix in ["05315000-BUERGERAMT", "99000000", "99000000-4711", "99"] {
        let (status, p) = call(
            s,
            Method::POST,
            &admin,
            ROUTES,
            Some(json!({"prefix": prefix, "office": "Kämmerei"})),
        )
        .await;
        assert_eq!(status, 409, "{prefix}: {p}");
        assert_eq!(p["type"], "/api/probleme/conflict", "{p}");
    }
    // Invalid prefixes and offices: 400 naming the field.
    for (body, field) in [
        (json!({"prefix": "ABC", "office": "Kämmerei"}), "prefix"),
        (
            json!({"prefix": "05315000-", "office": "Kämmerei"}),
            "prefix",
        ),
        (
            json!({"prefix": "05315000-1-123", "office": "Kämmerei"}),
            "prefix",
        ),
        (
            json!({"prefix": "0531500012345", "office": "Kämmerei"}),
            "prefix",
        ),
        (json!({"prefix": "05315000-77", "office": "  "}), "office"),
    ] {
        let (status, p) = call(s, Method::POST, &admin, ROUTES, Some(body.clone())).await;
        assert_eq!(status, 400, "{body}: {p}");
        assert_eq!(p["field"], field, "{p}");
    }
    assert!(
        call(
            s,
            Method::POST,
            &admin,
            ROUTES,
            Some(json!({"prefix": "ABC", "office": "K"}))
        )
        .await
        .1["detail"]
            .as_str()
            .unwrap()
            .contains("Grobadressierung aus 2–12 Ziffern")
    );

    // Change the office.
    let one = format!("{ROUTES}/05315000-BUERGERAMT");
    let (status, r) = call(
        s,
        Method::PUT,
        &admin,
        &one,
        Some(json!({"office": "Standesamt"})),
    )
    .await;
    assert_eq!(status, 200, "{r}");
    assert_eq!(r["office"], "Standesamt");
    let (status, r) = receive(s, invoice("05315000-BUERGERAMT-12", "ROUTE-2")).await;
    assert_eq!(status, 201, "{r}");
    assert_eq!(r["office"], "Standesamt");
    let (status, _) = call(
        s,
        Method::PUT,
        &admin,
        &format!("{ROUTES}/05315000-NICHTDA"),
        Some(json!({"office": "X"})),
    )
    .await;
    assert_eq!(status, 404);

    // Roles and tenants: only admins of the tenant (or of the Land).
    let clerk = s.token("koeln", "leitweg-sach", "Sachbearbeitung");
    assert_eq!(s.get_as(&clerk, ROUTES).await.status(), 403);
    let (status, _) = call(
        s,
        Method::POST,
        &clerk,
        ROUTES,
        Some(json!({"prefix": "05315000-88", "office": "X"})),
    )
    .await;
    assert_eq!(status, 403);
    let dus = s.token("duesseldorf", "leitweg-dus", "admin");
    assert_eq!(s.get_as(&dus, ROUTES).await.status(), 403);
    assert_eq!(call(s, Method::DELETE, &dus, &one, None).await.0, 403);
    assert_eq!(
        call(s, Method::PUT, &dus, &one, Some(json!({"office": "Fremd"})))
            .await
            .0,
        403
    );
    let theirs = s
        .json_as(&dus, "/api/v1/tenants/duesseldorf/leitweg-routes")
        .await;
    assert_eq!(prefixes(&theirs), ["99000000"]);
    // Köln's route through Düsseldorf's path is not there.
    let (status, _) = call(
        s,
        Method::DELETE,
        &dus,
        "/api/v1/tenants/duesseldorf/leitweg-routes/05315000-BUERGERAMT",
        None,
    )
    .await;
    assert_eq!(status, 404);
    let land = s.token("nrw", "leitweg-land", "admin");
    assert_eq!(s.get_as(&land, ROUTES).await.status(), 200);
    assert_eq!(
        s.get_as(&admin, "/api/v1/tenants/atlantis/leitweg-routes")
            .await
            .status(),
        404
    );
    assert_eq!(s.get(ROUTES).await.status(), 401);

    // Remove: 204, then 404; invoices for it find no recipient any more.
    assert_eq!(call(s, Method::DELETE, &admin, &one, None).await.0, 204);
    let (status, p) = call(s, Method::DELETE, &admin, &one, None).await;
    assert_eq!(status, 404, "{p}");
    let (status, p) = receive(s, invoice("05315000-BUERGERAMT-12", "ROUTE-3")).await;
    assert_eq!(status, 404, "{p}");
    assert_eq!(p["type"], "/api/probleme/einvoice-unknown-recipient");
    assert_eq!(
        prefixes(&s.json_as(&admin, ROUTES).await),
        ["04011000", "04011000-12350-85"]
    );

    // Every change is audited, by whom.
    let audit = s
        .json_as(&admin, "/api/v1/tenants/koeln/audit?limit=1000")
        .await;
    let ours: Vec<(&str, &str)> = audit
        .as_array()
        .unwrap()
        .iter()
        .filter(|a| a["object_id"] == "05315000-BUERGERAMT")
        .map(|a| (a["action"].as_str().unwrap(), a["actor"].as_str().unwrap()))
        .collect();
    assert_eq!(
        ours,
        [
            ("einvoice.route_remove", "staff:koeln/leitweg-admin"),
            ("einvoice.route_change", "staff:koeln/leitweg-admin"),
            ("einvoice.route", "staff:koeln/leitweg-admin"),
        ],
        "{audit}"
    );
    let out = s.cli(&["audit", "verify"]);
    assert!(out.status.success());

    // Documented.
    let spec: Value = s.get("/api/openapi.json").await.json().await.unwrap();
    let path = &spec["paths"]["/api/v1/tenants/{slug}/leitweg-routes/{prefix}"];
    assert!(
        path["put"].is_object() && path["delete"].is_object(),
        "{path}"
    );
    assert!(
        spec["paths"]["/api/v1/tenants/{slug}/leitweg-routes"]["post"]["responses"]["409"]
            .is_object()
    );

    cli(s).await;
}

fn text(out: &std::process::Output) -> (String, String) {
    (
        String::from_utf8_lossy(&out.stdout).into_owned(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

/// `rathaus einvoice routes list|add|remove`.
async fn cli(s: &Server) {
    let routes = |args: &[&str]| {
        let mut all = vec!["einvoice", "routes"];
        all.extend_from_slice(args);
        s.cli(&all)
    };
    let out = routes(&["list", "--tenant", "dahlem"]);
    let (stdout, stderr) = text(&out);
    assert!(out.status.success(), "{stderr}");
    assert!(
        stdout.contains("Leitweg-Routen von Gemeinde Dahlem (dahlem):"),
        "{stdout}"
    );
    assert!(stdout.contains("1234567890  → Gemeindekasse"), "{stdout}");

    let out = routes(&[
        "add",
        "--tenant",
        "dahlem",
        "--office",
        "Bauamt",
        "05366012-bau",
    ]);
    let (stdout, stderr) = text(&out);
    assert!(out.status.success(), "{stderr}");
    assert_eq!(
        stdout.trim(),
        "Leitweg-Route 05366012-BAU → Gemeinde Dahlem (dahlem), Bauamt: angelegt."
    );
    let out = routes(&[
        "add",
        "--tenant",
        "dahlem",
        "--office",
        "Bauamt",
        "05366012-BAU",
    ]);
    assert!(text(&out).0.contains("unverändert"), "{:?}", text(&out));
    let out = routes(&[
        "add",
        "--tenant",
        "dahlem",
        "--office",
        "Ordnungsamt",
        "05366012-BAU",
    ]);
    assert!(
        text(&out).0.contains("Ordnungsamt: geändert"),
        "{:?}",
        text(&out)
    );

    // The server routes by it at once.
    let (status, r) = receive(s, invoice("05366012-BAU-33", "CLI-1")).await;
    assert_eq!(status, 201, "{r}");
    assert_eq!(
        (r["tenant"].as_str(), r["office"].as_str()),
        (Some("dahlem"), Some("Ordnungsamt"))
    );
    let admin = s.token("dahlem", "leitweg-admin", "admin");
    let list = s
        .json_as(&admin, "/api/v1/tenants/dahlem/leitweg-routes")
        .await;
    assert_eq!(prefixes(&list), ["05366012-BAU", "1234567890"]);

    let out = routes(&["list", "--tenant", "dahlem", "--json"]);
    let json: Value = serde_json::from_slice(&out.stdout).expect("JSON");
    assert_eq!(json[0]["prefix"], "05366012-BAU");
    assert_eq!(json[0]["office"], "Ordnungsamt");

    // Errors: exit code 2 and a German message.
    for (args, expected) in [
        (
            vec!["add", "--tenant", "dahlem", "--office", "Kasse", "04011000"],
            "einem anderen Mandanten zugeordnet",
        ),
        (
            vec![
                "add",
                "--tenant",
                "dahlem",
                "--office",
                "Kasse",
                "05366012-",
            ],
            "ist ungültig",
        ),
        (
            vec![
                "add", "--tenant", "atlantis", "--office", "Kasse", "05366012",
            ],
            "Mandant \"atlantis\" gibt es nicht",
        ),
        (
            vec!["remove", "--tenant", "dahlem", "04011000"],
            "hat keine Leitweg-Route",
        ),
    ] {
        let out = routes(&args);
        let (_, stderr) = text(&out);
        assert_eq!(out.status.code(), Some(2), "{args:?}: {stderr}");
        assert!(stderr.starts_with("Fehler: "), "{stderr}");
        assert!(stderr.contains(expected), "{args:?}: {stderr}");
    }
    let out = routes(&["add", "--tenant", "dahlem", "05366012-X"]);
    assert_ne!(out.status.code(), Some(0), "--office is required");

    let out = routes(&["remove", "--tenant", "dahlem", "05366012-bau"]);
    let (stdout, stderr) = text(&out);
    assert!(out.status.success(), "{stderr}");
    assert_eq!(
        stdout.trim(),
        "Leitweg-Route 05366012-BAU von Gemeinde Dahlem (dahlem) entfernt."
    );
    let out = routes(&["remove", "--tenant", "dahlem", "05366012-BAU"]);
    assert_eq!(out.status.code(), Some(2));
    let audit = s.json_as(&admin, "/api/v1/tenants/dahlem/audit").await;
    let actions: Vec<&str> = audit
        .as_array()
        .unwrap()
        .iter()
        .filter(|a| a["object_id"] == "05366012-BAU")
        .map(|a| a["action"].as_str().unwrap())
        .collect();
    assert_eq!(
        actions,
        [
            "einvoice.route_remove",
            "einvoice.route_change",
            "einvoice.route"
        ]
    );
}

on_both_backends!(leitweg_routes_api_and_cli, api);
