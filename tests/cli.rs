//! Command-line behaviour: version, migrate, start-up errors, graceful shutdown, idempotent demo.

use crate::support::{BIN, Server, run_cli};
use rathaus_storage::testing::TestDatabase;
use std::process::Command;

#[test]
fn version() {
    let out = Command::new(BIN).arg("--version").output().unwrap();
    assert!(out.status.success());
    assert_eq!(
        String::from_utf8(out.stdout).unwrap().trim(),
        format!("rathaus {}", env!("CARGO_PKG_VERSION"))
    );
}

async fn migrate_twice(backend: &str) {
    let db = TestDatabase::new(backend).await.unwrap();
    let first = run_cli(&db, &["migrate"]);
    assert!(
        first.status.success(),
        "{}",
        String::from_utf8_lossy(&first.stderr)
    );
    let text = String::from_utf8_lossy(&first.stdout).into_owned();
    assert!(
        !text.starts_with("0 ") && text.contains("Schema aktuell"),
        "{text}"
    );
    let second = run_cli(&db, &["migrate"]);
    assert!(second.status.success());
    assert!(
        String::from_utf8_lossy(&second.stdout).starts_with("0 Migration"),
        "second run changes nothing"
    );
}

#[tokio::test]
async fn migrate_twice_sqlite() {
    migrate_twice("sqlite").await;
}

#[tokio::test]
async fn migrate_twice_postgres() {
    migrate_twice("postgres").await;
}

#[test]
fn unreachable_database_is_a_clear_error() {
    let dir = tempfile::tempdir().unwrap();
    let out = Command::new(BIN)
        .args(["serve", "--listen", "127.0.0.1:0", "--data-dir"])
        .arg(dir.path())
        .env(
            "RATHAUS_DATABASE_URL",
            "postgres://rathaus:geheim@127.0.0.1:1/rathaus",
        )
        .env("RATHAUS_DATABASE__CONNECT_TIMEOUT_SECS", "2")
        .output()
        .unwrap();
    assert!(!out.status.success());
    assert_eq!(out.status.code(), Some(2));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        err.contains("Fehler: ") && err.contains("nicht erreichbar"),
        "{err}"
    );
    assert!(!err.contains("panicked"), "{err}");
    assert!(
        !err.contains("geheim"),
        "password must not be printed: {err}"
    );
}

#[test]
fn bad_configuration_is_a_clear_error() {
    let dir = tempfile::tempdir().unwrap();
    let cfg = dir.path().join("rathaus.toml");
    std::fs::write(&cfg, "listen = \"nicht-eine-adresse\"\n").unwrap();
    let out = Command::new(BIN)
        .args(["migrate", "--config"])
        .arg(&cfg)
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains("Konfiguration ungültig"));
}

#[tokio::test]
async fn demo_reseeds_idempotently_and_shuts_down_gracefully() {
    let audited = |out: std::process::Output| -> u64 {
        assert!(out.status.success());
        let report: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
        report["checked"].as_u64().unwrap()
    };
    let first = Server::start(TestDatabase::sqlite().unwrap(), "demo", &[]);
    let before: Vec<serde_json::Value> = first.get("/api/v1/tenants").await.json().await.unwrap();
    let (status, db) = first.terminate();
    assert!(status.success(), "graceful shutdown exits 0: {status:?}");
    let entries = audited(run_cli(&db, &["audit", "verify", "--json"]));
    assert!(
        entries >= before.len() as u64,
        "every created tenant is audited"
    );
    // Starting the demo again on the same data changes nothing and writes no audit entry.
    let second = Server::start(db, "demo", &[]);
    let after: Vec<serde_json::Value> = second.get("/api/v1/tenants").await.json().await.unwrap();
    assert_eq!(before, after);
    assert_eq!(audited(second.cli(&["audit", "verify", "--json"])), entries);
}
