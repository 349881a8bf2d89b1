//! `rathaus audit verify` detects entries changed or deleted directly in the database.

use crate::support::Server;
use serde_json::json;

async fn tampering_is_detected(s: &Server) {
    let token = s.token("koeln", "admin", "admin");
    for name in ["Stadt Köln am Rhein", "Stadt Köln"] {
        let res = s
            .client
            .patch(s.url("/api/v1/tenants/koeln"))
            .bearer_auth(&token)
            .json(&json!({"name": name}))
            .send()
            .await
            .unwrap();
        assert_eq!(res.status(), 200);
    }
    let ok = s.cli(&["audit", "verify"]);
    assert_eq!(
        ok.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&ok.stdout)
    );
    assert!(String::from_utf8_lossy(&ok.stdout).contains("unversehrt"));

    // The tenant's admins see the entries.
    let entries: Vec<serde_json::Value> = s
        .get_as(&token, "/api/v1/tenants/koeln/audit")
        .await
        .json()
        .await
        .unwrap();
    assert!(
        entries
            .iter()
            .any(|e| e["action"] == "tenant.update" && e["actor"] == "staff:koeln/admin")
    );

    // Tamper with the database directly, as an attacker with DB access would.
    let db = s.db().connect().await.unwrap();
    let seq: i64 =
        sqlx::query_scalar("SELECT MAX(seq) FROM audit_log WHERE action = 'tenant.update'")
            .fetch_one(db.pool())
            .await
            .unwrap();
    sqlx::query("UPDATE audit_log SET actor = 'staff:koeln/jemand' WHERE seq = $1")
        .bind(seq)
        .execute(db.pool())
        .await
        .unwrap();
    let bad = s.cli(&["audit", "verify"]);
    assert_eq!(bad.status.code(), Some(1));
    let text = String::from_utf8_lossy(&bad.stdout);
    assert!(
        text.contains("MANIPULIERT") && text.contains(&format!("Eintrag {seq} wurde verändert")),
        "{text}"
    );

    sqlx::query("UPDATE audit_log SET actor = 'staff:koeln/admin' WHERE seq = $1")
        .bind(seq)
        .execute(db.pool())
        .await
        .unwrap();
    assert_eq!(s.cli(&["audit", "verify"]).status.code(), Some(0));
    sqlx::query("DELETE FROM audit_log WHERE seq = $1")
        .bind(seq - 1)
        .execute(db.pool())
        .await
        .unwrap();
    let bad = s.cli(&["audit", "verify", "--json"]);
    assert_eq!(bad.status.code(), Some(1));
    let report: serde_json::Value = serde_json::from_slice(&bad.stdout).unwrap();
    assert!(!report["problems"].as_array().unwrap().is_empty());
}
crate::on_both_backends!(tamper_t, tampering_is_detected);
