//! Prozessinventur through the API: ranking, CSV, validation, tenant isolation.

use crate::support::Server;
use serde_json::{Value, json};

async fn inventory(s: &Server) {
    let clerk = s.token("koeln", "inventur", "Sachbearbeitung");
    let other = s.token("dahlem", "dahlem-admin", "admin");
    let cashier = s.token("koeln", "kasse", "Kasse");
    let put = |token: &String, slug: &str, id: i64, body: Value| {
        s.client
            .put(s.url(&format!("/api/v1/tenants/{slug}/process-inventory/{id}")))
            .bearer_auth(token)
            .json(&body)
            .send()
    };
    // 2939 Hundehaltung Anmeldung, 5046 Wohnsitz Anmeldung (demo catalogue ids).
    let hund = json!({"cases_per_year": 4000, "minutes_per_case": 12, "office": "Steueramt", "involved_offices": ["Ordnungsamt"], "legal_notes": "Satzung"});
    let wohnsitz = json!({"cases_per_year": 90000, "minutes_per_case": 10, "office": "Bürgeramt"});
    assert_eq!(
        put(&clerk, "koeln", 2939, hund.clone())
            .await
            .unwrap()
            .status(),
        204
    );
    assert_eq!(
        put(&clerk, "koeln", 5046, wohnsitz).await.unwrap().status(),
        204
    );
    let list: Vec<Value> = serde_json::from_value(
        s.json_as(&clerk, "/api/v1/tenants/koeln/process-inventory")
            .await,
    )
    .unwrap();
    assert_eq!(list.len(), 2);
    assert_eq!(
        list[0]["name"], "Wohnsitz Anmeldung",
        "15,000 h/year rank before 800 h/year"
    );
    assert_eq!(list[0]["score"], 15000.0);
    assert_eq!(list[1]["involved_offices"], json!(["Ordnungsamt"]));
    let csv = s
        .get_as(&clerk, "/api/v1/tenants/koeln/process-inventory.csv")
        .await;
    let text = csv.text().await.unwrap();
    assert!(
        text.lines()
            .nth(1)
            .unwrap()
            .starts_with("1,99115005104000,Wohnsitz Anmeldung,90000,10,15000.0,"),
        "{text}"
    );
    // Bad input: nothing stored.
    let bad = put(
        &clerk,
        "koeln",
        2939,
        json!({"cases_per_year": -5, "minutes_per_case": 1, "office": "X"}),
    )
    .await
    .unwrap();
    assert_eq!(bad.status(), 400);
    let bad = put(
        &clerk,
        "koeln",
        2939,
        json!({"cases_per_year": "viele", "minutes_per_case": 1, "office": "X"}),
    )
    .await
    .unwrap();
    assert_eq!(bad.status(), 400);
    assert_eq!(
        bad.json::<Value>().await.unwrap()["field"],
        "cases_per_year"
    );
    assert_eq!(
        put(&clerk, "koeln", 999_999_999, hund.clone())
            .await
            .unwrap()
            .status(),
        404
    );
    // Isolation and roles.
    assert_eq!(
        put(&other, "koeln", 2939, hund.clone())
            .await
            .unwrap()
            .status(),
        403
    );
    let res = s
        .get_as(&other, "/api/v1/tenants/koeln/process-inventory")
        .await;
    assert_eq!(res.status(), 403);
    assert_eq!(
        put(&cashier, "koeln", 2939, hund).await.unwrap().status(),
        403
    );
    let own: Vec<Value> = serde_json::from_value(
        s.json_as(&other, "/api/v1/tenants/dahlem/process-inventory")
            .await,
    )
    .unwrap();
    assert!(own.is_empty(), "Dahlem sees none of Köln's entries");
    let after: Vec<Value> = serde_json::from_value(
        s.json_as(&clerk, "/api/v1/tenants/koeln/process-inventory")
            .await,
    )
    .unwrap();
    assert_eq!(
        after[1]["cases_per_year"], 4000,
        "refused writes changed nothing"
    );
}
crate::on_both_backends!(inventory_t, inventory);
