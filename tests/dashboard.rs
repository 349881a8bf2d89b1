//! The OZG dashboard: JSON, CSV and the page, state-wide and per tenant.

use crate::support::Server;
use serde_json::Value;

async fn dashboard(s: &Server) {
    let land: Value = s.get("/api/v1/ozg-dashboard").await.json().await.unwrap();
    assert_eq!(land["scope"], "land");
    assert_eq!(
        land["coverage"]["total"], 557,
        "all OZG-Leistungen of the imported catalogue"
    );
    let tenants = land["tenants"].as_array().unwrap();
    assert!(tenants.len() >= 6);
    let koeln = tenants.iter().find(|t| t["slug"] == "koeln").unwrap();
    assert!(koeln["online"].as_u64().unwrap() > 0);
    let sum_themen: u64 = land["coverage"]["by_themenfeld"]
        .as_array()
        .unwrap()
        .iter()
        .map(|t| t["total"].as_u64().unwrap())
        .sum();
    assert_eq!(sum_themen, 557);
    // State-wide coverage is at least each tenant's.
    let max_tenant = tenants
        .iter()
        .map(|t| t["online"].as_u64().unwrap())
        .max()
        .unwrap();
    assert!(land["coverage"]["online"].as_u64().unwrap() >= max_tenant);

    let one: Value = s
        .get("/api/v1/ozg-dashboard?tenant=koeln")
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(one["scope"], "koeln");
    assert_eq!(one["coverage"]["online"], koeln["online"]);
    assert!(
        one["coverage"]["services"]
            .as_array()
            .unwrap()
            .iter()
            .any(|s| s["ozg_id"] == "10160" && s["online"] == true)
    );

    let csv = s.get("/api/v1/ozg-dashboard.csv").await;
    assert!(
        csv.headers()["content-type"]
            .to_str()
            .unwrap()
            .starts_with("text/csv")
    );
    let text = csv.text().await.unwrap();
    assert!(text.starts_with("slug,name,art,"));
    assert_eq!(text.lines().count(), tenants.len() + 1);
    let csv = s
        .get("/api/v1/ozg-dashboard.csv?tenant=koeln")
        .await
        .text()
        .await
        .unwrap();
    assert!(csv.lines().any(|l| l.starts_with("10160,Hundehaltung,")));

    let page = s
        .get("/ozg-dashboard?sort=anteil&dir=desc")
        .await
        .text()
        .await
        .unwrap();
    assert!(page.contains("aria-sort=\"descending\"") && page.contains("<svg role=\"img\""));
    assert_eq!(s.get("/koeln/ozg-dashboard").await.status(), 200);
    assert_eq!(s.get("/gibtsnicht/ozg-dashboard").await.status(), 404);
    assert_eq!(
        s.get("/api/v1/ozg-dashboard?tenant=gibtsnicht")
            .await
            .status(),
        404
    );
}
crate::on_both_backends!(dashboard_t, dashboard);
