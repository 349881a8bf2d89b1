use crate::seed_basic;
use chrono::Duration;
use rathaus_core::staff::Role;
use rathaus_storage::staff::StaffStore;
use rathaus_storage::testing::TestDatabase;
use rathaus_storage::{Db, StorageError};

async fn tokens_resolve_to_their_tenant(db: Db, _t: &TestDatabase) {
    let tenants = seed_basic(&db).await;
    let koeln = tenants.get("koeln").await.unwrap();
    let staff = StaffStore::new(db.clone());
    let token = staff
        .issue_token(
            koeln.id,
            "mueller",
            "Bürgeramt",
            Role::Sachbearbeitung,
            Duration::hours(1),
        )
        .await
        .unwrap();
    assert!(token.starts_with("rth_") && token.len() > 40);
    let p = staff
        .authenticate(&token)
        .await
        .unwrap()
        .expect("valid token");
    assert_eq!(
        (p.tenant, p.login.as_str(), p.role, p.state_level),
        (koeln.id, "mueller", Role::Sachbearbeitung, false)
    );
    // Only the hash is stored.
    let stored: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM api_tokens WHERE token_hash = $1")
        .bind(&token)
        .fetch_one(db.pool())
        .await
        .unwrap();
    assert_eq!(stored, 0);
    assert!(staff.authenticate("rth_wrong").await.unwrap().is_none());
    assert!(staff.authenticate("").await.unwrap().is_none());
    // Expired tokens do not authenticate.
    let old = staff
        .issue_token(
            koeln.id,
            "mueller",
            "Bürgeramt",
            Role::Admin,
            Duration::seconds(-1),
        )
        .await
        .unwrap();
    assert!(staff.authenticate(&old).await.unwrap().is_none());
    assert_eq!(staff.purge_expired().await.unwrap(), 1);
    // Bad input.
    assert!(matches!(
        staff
            .issue_token(koeln.id, "a b", "X", Role::Admin, Duration::hours(1))
            .await,
        Err(StorageError::Invalid(_))
    ));
}
crate::on_both_backends!(tokens_t, tokens_resolve_to_their_tenant);
