use crate::{new_tenant, seed_basic};
use rathaus_core::{Module, TenantKind};
use rathaus_storage::tenants::{SeedOutcome, TenantPatch, TenantStore};
use rathaus_storage::testing::TestDatabase;
use rathaus_storage::{Db, StorageError};

async fn create_list_get(db: Db, _t: &TestDatabase) {
    let store = seed_basic(&db).await;
    let all = store.list().await.unwrap();
    let slugs: Vec<_> = all.iter().map(|t| t.slug.as_str()).collect();
    assert_eq!(
        slugs,
        ["nrw", "koeln", "kreis-euskirchen", "dahlem"],
        "ordered by ARS"
    );
    let dahlem = store.get("dahlem").await.unwrap();
    assert_eq!(dahlem.ags.as_str(), "05366012");
    assert_eq!(
        dahlem.parent.as_ref().map(|p| p.as_str()),
        Some("kreis-euskirchen")
    );
    assert_eq!(dahlem.kind, TenantKind::Gemeinde);
    assert!(matches!(
        store.get("nirgendwo").await,
        Err(StorageError::NotFound(_))
    ));
}
crate::on_both_backends!(create_list_get_t, create_list_get);

async fn duplicates_and_bad_parents_are_refused(db: Db, _t: &TestDatabase) {
    let store = seed_basic(&db).await;
    let dup = new_tenant(
        "koeln2",
        "Köln doppelt",
        TenantKind::Gemeinde,
        "053150000000",
        Some("nrw"),
    );
    assert!(matches!(
        store.create(&dup, "test").await,
        Err(StorageError::Conflict(_))
    ));
    // Dahlem cannot belong to Köln (a Gemeinde) nor to a Kreis with another key.
    let wrong = new_tenant(
        "euskirchen",
        "Stadt Euskirchen",
        TenantKind::Gemeinde,
        "053660016016",
        Some("koeln"),
    );
    assert!(matches!(
        store.create(&wrong, "test").await,
        Err(StorageError::Invalid(_))
    ));
    let missing = new_tenant(
        "euskirchen",
        "Stadt Euskirchen",
        TenantKind::Gemeinde,
        "053660016016",
        Some("gibtsnicht"),
    );
    assert!(matches!(
        store.create(&missing, "test").await,
        Err(StorageError::Invalid(_))
    ));
    assert_eq!(store.list().await.unwrap().len(), 4, "nothing half-created");
}
crate::on_both_backends!(duplicates_t, duplicates_and_bad_parents_are_refused);

async fn update_with_optimistic_locking(db: Db, _t: &TestDatabase) {
    let store = seed_basic(&db).await;
    let koeln = store.get("koeln").await.unwrap();
    let mut branding = koeln.branding.clone();
    branding.primary_color = "#7a1a1a".into();
    let patch = TenantPatch {
        branding: Some(branding),
        modules: Some(vec![Module::Forms, Module::Catalog]),
        ..Default::default()
    };
    let updated = store
        .update(koeln.id, &patch, Some(koeln.version), "test")
        .await
        .unwrap();
    assert_eq!(updated.version, koeln.version + 1);
    assert_eq!(updated.branding.primary_color, "#7a1a1a");
    assert_eq!(updated.modules, vec![Module::Catalog, Module::Forms]);
    // A second writer with the old version loses and changes nothing.
    let stale = TenantPatch {
        name: Some("Stadt Cöln".into()),
        ..Default::default()
    };
    let err = store
        .update(koeln.id, &stale, Some(koeln.version), "test")
        .await
        .unwrap_err();
    assert!(
        matches!(err, StorageError::VersionMismatch { expected, actual } if expected == koeln.version && actual == updated.version)
    );
    let now = store.get("koeln").await.unwrap();
    assert_eq!(now.name, "Stadt Köln");
    assert_eq!(now.version, updated.version);
    // Branding with too little contrast is refused.
    let mut bad = now.branding.clone();
    bad.primary_color = "#eeeeee".into();
    let err = store
        .update(
            koeln.id,
            &TenantPatch {
                branding: Some(bad),
                ..Default::default()
            },
            None,
            "test",
        )
        .await;
    assert!(matches!(err, Err(StorageError::Invalid(_))));
    assert_eq!(store.get("koeln").await.unwrap().version, updated.version);
}
crate::on_both_backends!(update_t, update_with_optimistic_locking);

async fn seeding_is_idempotent(db: Db, _t: &TestDatabase) {
    let store = TenantStore::new(db.clone());
    let nrw = new_tenant(
        "nrw",
        "Nordrhein-Westfalen",
        TenantKind::Land,
        "050000000000",
        None,
    );
    assert_eq!(
        store.seed(&nrw, "seed").await.unwrap(),
        SeedOutcome::Created
    );
    assert_eq!(
        store.seed(&nrw, "seed").await.unwrap(),
        SeedOutcome::Unchanged
    );
    let mut renamed = nrw.clone();
    renamed.name = "Land Nordrhein-Westfalen".into();
    assert_eq!(
        store.seed(&renamed, "seed").await.unwrap(),
        SeedOutcome::Updated
    );
    assert_eq!(store.list().await.unwrap().len(), 1);
}
crate::on_both_backends!(seed_t, seeding_is_idempotent);
