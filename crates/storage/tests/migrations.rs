use rathaus_storage::Db;
use rathaus_storage::testing::TestDatabase;

async fn migrating_twice_changes_nothing(db: Db, t: &TestDatabase) {
    // `connect` already migrated once.
    assert_eq!(db.migrate().await.unwrap(), 0, "second run applies nothing");
    let again = Db::connect(&t.url, 2, std::time::Duration::from_secs(5))
        .await
        .unwrap();
    assert_eq!(again.migrate().await.unwrap(), 0);
    again.ready().await.unwrap();
    let n: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM audit_head")
        .fetch_one(db.pool())
        .await
        .unwrap();
    assert_eq!(n, 1, "seed row of audit_head is not duplicated");
}
crate::on_both_backends!(migrate_twice, migrating_twice_changes_nothing);

async fn fresh_database_is_not_ready_before_migration(_db: Db, t: &TestDatabase) {
    // A new schema/file without migrations must not report ready.
    let other = match t.url.starts_with("sqlite") {
        true => TestDatabase::sqlite().unwrap(),
        false => TestDatabase::postgres().await.unwrap(),
    };
    let db = Db::connect(&other.url, 1, std::time::Duration::from_secs(5))
        .await
        .unwrap();
    assert!(db.ready().await.is_err());
    assert_eq!(db.migrate().await.unwrap(), Db::known_migrations());
    db.ready().await.unwrap();
}
crate::on_both_backends!(readiness, fresh_database_is_not_ready_before_migration);

#[tokio::test]
async fn unreachable_database_is_a_clear_error() {
    let err = Db::connect(
        "postgres://nobody:secret@127.0.0.1:1/none",
        1,
        std::time::Duration::from_secs(2),
    )
    .await
    .unwrap_err()
    .to_string();
    assert!(err.contains("nicht erreichbar"), "{err}");
    assert!(!err.contains("secret"), "password must not appear: {err}");
    let err = Db::connect("mysql://x", 1, std::time::Duration::from_secs(1))
        .await
        .unwrap_err()
        .to_string();
    assert!(err.contains("nicht unterstützt"), "{err}");
}
