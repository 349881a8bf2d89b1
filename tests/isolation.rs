//! Tenant isolation: staff of one tenant can neither read nor change another tenant's data.

use crate::support::Server;
use serde_json::{Value, json};

async fn submit_feedback(s: &Server, slug: &str, message: &str) {
    // Through the real HTML form: GET for the CSRF cookie and token, then POST.
    let (cookie, token) = s.form_session(&format!("/{slug}/barrierefreiheit")).await;
    let res = s
        .client
        .post(s.url(&format!("/{slug}/barrierefreiheit")))
        .header("cookie", cookie)
        .form(&[
            ("csrf", token.as_str()),
            ("message", message),
            ("page", "/"),
            ("contact", ""),
        ])
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 200);
}

async fn tenants_are_isolated(s: &Server) {
    submit_feedback(s, "koeln", "Köln: Kontrast im Kopf zu gering").await;
    submit_feedback(s, "dahlem", "Dahlem: Bild ohne Alternativtext").await;
    let koeln = s.token("koeln", "koeln-admin", "admin");
    let dahlem = s.token("dahlem", "dahlem-redaktion", "Redaktion");
    let koeln_clerk = s.token("koeln", "sachbearbeiter", "Sachbearbeitung");

    // Each sees only its own reports.
    let list = |token: String, slug: &'static str| {
        s.client
            .get(s.url(&format!("/api/v1/tenants/{slug}/feedback")))
            .bearer_auth(token)
            .send()
    };
    let own: Vec<Value> = list(koeln.clone(), "koeln")
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(own.len(), 1);
    assert!(own[0]["message"].as_str().unwrap().starts_with("Köln"));
    let dahlem_reports: Vec<Value> = list(dahlem.clone(), "dahlem")
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let dahlem_id = dahlem_reports[0]["id"].as_str().unwrap().to_owned();

    // Köln's admin cannot read Dahlem's reports ...
    let res = list(koeln.clone(), "dahlem").await.unwrap();
    assert_eq!(res.status(), 403);
    assert_eq!(res.headers()["content-type"], "application/problem+json");
    // ... nor change one, neither through Dahlem's path nor smuggled through its own.
    let change = |token: &String, slug: &str| {
        s.client
            .patch(s.url(&format!("/api/v1/tenants/{slug}/feedback/{dahlem_id}")))
            .bearer_auth(token)
            .json(&json!({"status": "erledigt"}))
            .send()
    };
    assert_eq!(change(&koeln, "dahlem").await.unwrap().status(), 403);
    assert_eq!(change(&koeln, "koeln").await.unwrap().status(), 404);
    // Nor change Dahlem's settings or read its audit trail.
    let res = s
        .client
        .patch(s.url("/api/v1/tenants/dahlem"))
        .bearer_auth(&koeln)
        .json(&json!({"name": "Übernommen"}))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 403);
    let res = s.get_as(&koeln, "/api/v1/tenants/dahlem/audit").await;
    assert_eq!(res.status(), 403);
    // A clerk of Köln may not handle feedback (role check) and cannot create tenants.
    assert_eq!(
        list(koeln_clerk.clone(), "koeln").await.unwrap().status(),
        403
    );
    let res = s
        .client
        .post(s.url("/api/v1/tenants"))
        .bearer_auth(&koeln)
        .json(&json!({"slug": "euskirchen-neu", "name": "X", "kind": "gemeinde", "ags": "05366020", "ars": "053660020020", "parent": "kreis-euskirchen"}))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 403, "only Land admins create tenants");

    // Nothing of Dahlem changed.
    let after: Vec<Value> = list(dahlem.clone(), "dahlem")
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(after[0]["status"], "neu");
    let t: Value = s.get("/api/v1/tenants/dahlem").await.json().await.unwrap();
    assert_eq!(t["name"], "Gemeinde Dahlem");

    // Dahlem's own editor can; a Land admin can act for every tenant.
    assert_eq!(change(&dahlem, "dahlem").await.unwrap().status(), 200);
    let land = s.token("nrw", "landesadmin", "admin");
    let res = s
        .client
        .post(s.url("/api/v1/tenants"))
        .bearer_auth(&land)
        .json(&json!({"slug": "hellenthal", "name": "Gemeinde Hellenthal", "kind": "gemeinde", "ags": "05366020", "ars": "053660020020", "parent": "kreis-euskirchen"}))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 201);
    assert_eq!(list(land, "dahlem").await.unwrap().status(), 200);

    // Invalid or missing tokens.
    let res = s
        .client
        .get(s.url("/api/v1/tenants/koeln/feedback"))
        .bearer_auth("rth_forged")
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 401);
    assert!(res.headers().contains_key("www-authenticate"));
}
crate::on_both_backends!(isolation_t, tenants_are_isolated);
