//! The JSON API: contract shapes, problem+json errors, limits, optimistic locking.

use crate::support::Server;
use serde_json::{Value, json};

async fn tenants_contract(s: &Server) {
    let res = s.get("/api/v1/tenants").await;
    assert_eq!(res.status(), 200);
    assert!(
        res.headers()["content-type"]
            .to_str()
            .unwrap()
            .starts_with("application/json")
    );
    let list: Vec<Value> = res.json().await.unwrap();
    assert!(list.len() >= 6, "NRW and at least five municipalities");
    for t in &list {
        let keys: Vec<&str> = t.as_object().unwrap().keys().map(String::as_str).collect();
        for k in ["slug", "name", "kind", "ags", "ars", "parent"] {
            assert!(keys.contains(&k), "{k} missing in {t}");
        }
        assert_eq!(t["ags"].as_str().unwrap().len(), 8);
        assert_eq!(t["ars"].as_str().unwrap().len(), 12);
    }
    let find = |slug: &str| {
        list.iter()
            .find(|t| t["slug"] == slug)
            .unwrap_or_else(|| panic!("{slug}"))
    };
    assert_eq!(find("nrw")["kind"], "land");
    assert_eq!(find("nrw")["parent"], Value::Null);
    assert_eq!(find("koeln")["ags"], "05315000");
    assert_eq!(find("koeln")["ars"], "053150000000");
    assert_eq!(find("kreis-euskirchen")["kind"], "kreis");
    assert_eq!(find("dahlem")["parent"], "kreis-euskirchen");
    assert_eq!(find("dahlem")["ars"], "053660012012");

    let one: Value = s.get("/api/v1/tenants/dahlem").await.json().await.unwrap();
    assert_eq!(one["name"], "Gemeinde Dahlem");
    assert!(
        one["branding"]["primary_color"]
            .as_str()
            .unwrap()
            .starts_with('#')
    );
}
crate::on_both_backends!(tenants_contract_t, tenants_contract);

async fn errors_are_problems(s: &Server) {
    for (path, status) in [
        ("/api/v1/tenants/gibtsnicht", 404),
        ("/api/v1/gibtsnicht", 404),
        ("/api/v1/me", 401),
    ] {
        let res = s.get(path).await;
        assert_eq!(res.status(), status, "{path}");
        assert_eq!(
            res.headers()["content-type"],
            "application/problem+json",
            "{path}"
        );
        let p: Value = res.json().await.unwrap();
        assert_eq!(p["status"], status);
        assert!(p["type"].as_str().unwrap().starts_with("/api/probleme/"));
        assert_eq!(p["instance"], path);
        assert!(p["request_id"].is_string());
    }
    let res = s
        .client
        .delete(s.url("/api/v1/tenants"))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 405);
    assert_eq!(res.headers()["content-type"], "application/problem+json");
    // The problem type URI documents itself.
    assert_eq!(s.get("/api/probleme/not-found").await.status(), 200);
}
crate::on_both_backends!(errors_t, errors_are_problems);

async fn bad_bodies(s: &Server) {
    let token = s.token("koeln", "admin1", "admin");
    let patch = |body: reqwest::Body, ct: &str| {
        s.client
            .patch(s.url("/api/v1/tenants/koeln"))
            .bearer_auth(&token)
            .header("content-type", ct)
            .body(body)
            .send()
    };
    // Malformed JSON: 400, problem names the place.
    let res = patch("{\"name\": ".into(), "application/json")
        .await
        .unwrap();
    assert_eq!(res.status(), 400);
    // Wrong type in a nested field: the field is named.
    let res = patch(
        r##"{"branding": {"display_name": "X", "primary_color": 5, "accent_color": "#005a9c"}}"##
            .into(),
        "application/json",
    )
    .await
    .unwrap();
    assert_eq!(res.status(), 400);
    let p: Value = res.json().await.unwrap();
    assert_eq!(p["field"], "branding.primary_color", "{p}");
    // Unknown field.
    let res = patch(r#"{"nmae": "X"}"#.into(), "application/json")
        .await
        .unwrap();
    assert_eq!(res.status(), 400);
    assert!(res.text().await.unwrap().contains("nmae"));
    // Wrong content type.
    assert_eq!(
        patch("{}".into(), "text/plain").await.unwrap().status(),
        415
    );
    // Oversized body (limit 1 MiB): 413 as problem+json, nothing changed.
    let auth = format!("Bearer {token}");
    let (status, answer) = s
        .oversized(
            "PATCH",
            "/api/v1/tenants/koeln",
            &[
                ("Authorization", &auth),
                ("Content-Type", "application/json"),
            ],
            2 << 20,
        )
        .await;
    assert_eq!(status, 413, "{answer}");
    assert!(
        answer.contains("application/problem+json") && answer.contains("payload-too-large"),
        "{answer}"
    );
    // Semantic error: too little contrast.
    let res = patch(
        json!({"branding": {"display_name": "Stadt Köln", "primary_color": "#ffff00", "accent_color": "#005a9c"}})
            .to_string()
            .into(),
        "application/json",
    )
    .await
    .unwrap();
    assert_eq!(res.status(), 400);
    assert!(res.text().await.unwrap().contains("Kontrast"));
    let t: Value = s.get("/api/v1/tenants/koeln").await.json().await.unwrap();
    assert_eq!(t["name"], "Stadt Köln");
    assert_eq!(t["version"], 1, "nothing was changed by the bad requests");
}
crate::on_both_backends!(bad_bodies_t, bad_bodies);

async fn concurrent_edits(s: &Server) {
    let token = s.token("dahlem", "chefin", "admin");
    let res = s.get("/api/v1/tenants/dahlem").await;
    let etag = res.headers()["etag"].to_str().unwrap().to_owned();
    let send = |name: &str, etag: &str| {
        s.client
            .patch(s.url("/api/v1/tenants/dahlem"))
            .bearer_auth(&token)
            .header("if-match", etag)
            .json(&json!({"name": name}))
            .send()
    };
    let first = send("Gemeinde Dahlem (Eifel)", &etag).await.unwrap();
    assert_eq!(first.status(), 200);
    let second = send("Gemeinde Dahlem alt", &etag).await.unwrap();
    assert_eq!(second.status(), 412, "second writer with stale ETag loses");
    let p: Value = second.json().await.unwrap();
    assert_eq!(p["type"], "/api/probleme/version-mismatch");
    let t: Value = s.get("/api/v1/tenants/dahlem").await.json().await.unwrap();
    assert_eq!(t["name"], "Gemeinde Dahlem (Eifel)");
}
crate::on_both_backends!(concurrent_edits_t, concurrent_edits);

async fn logo_upload(s: &Server) {
    let token = s.token("muenster", "redaktion", "Redaktion");
    let png: &[u8] = b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR\x00\x00\x00\x01\x00\x00\x00\x01\x08\x06\x00\x00\x00\x1f\x15\xc4\x89";
    let put = |body: Vec<u8>| {
        s.client
            .put(s.url("/api/v1/tenants/muenster/logo"))
            .bearer_auth(&token)
            .body(body)
            .send()
    };
    assert_eq!(put(png.to_vec()).await.unwrap().status(), 204);
    let res = s.get("/muenster/logo").await;
    assert_eq!(res.status(), 200);
    assert_eq!(res.headers()["content-type"], "image/png");
    assert_eq!(res.bytes().await.unwrap().as_ref(), png);
    let res = put(b"<svg onload=alert(1)>".to_vec()).await.unwrap();
    assert_eq!(res.status(), 400, "only raster images");
    let mut big = png.to_vec();
    big.resize(600 * 1024, 0);
    assert_eq!(put(big).await.unwrap().status(), 413);
    let t: Value = s
        .get("/api/v1/tenants/muenster")
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(t["branding"]["has_logo"], true);
    assert!(
        s.get("/muenster/")
            .await
            .text()
            .await
            .unwrap()
            .contains("/muenster/logo")
    );
}
crate::on_both_backends!(logo_t, logo_upload);

async fn openapi_and_ops(s: &Server) {
    let spec: Value = s.get("/api/openapi.json").await.json().await.unwrap();
    assert!(spec["openapi"].as_str().unwrap().starts_with("3."));
    for path in [
        "/api/v1/tenants",
        "/api/v1/tenants/{slug}",
        "/api/v1/tenants/{slug}/feedback",
        "/healthz",
        "/readyz",
    ] {
        assert!(spec["paths"][path].is_object(), "{path} documented");
    }
    assert_eq!(s.get("/healthz").await.status(), 200);
    assert_eq!(s.get("/readyz").await.text().await.unwrap().trim(), "ready");
    let metrics = s.get("/metrics").await.text().await.unwrap();
    assert!(metrics.contains("http_requests_total"), "{metrics}");
    assert!(metrics.contains("route=\"/readyz\""));
    let docs = s.get("/api/docs").await;
    assert_eq!(docs.status(), 200);
    let html = docs.text().await.unwrap();
    assert!(
        html.contains("/assets/vendor/swagger-ui/swagger-ui-bundle.js")
            && !html.contains("https://"),
        "offline assets only"
    );
    assert_eq!(
        s.get("/assets/vendor/swagger-ui/swagger-ui-bundle.js")
            .await
            .status(),
        200
    );
    // Every response carries a request id.
    assert!(
        s.get("/healthz")
            .await
            .headers()
            .contains_key("x-request-id")
    );
}
crate::on_both_backends!(openapi_t, openapi_and_ops);
