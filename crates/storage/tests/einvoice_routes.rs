use crate::seed_basic;
use rathaus_storage::einvoices::{EinvoiceError, EinvoiceStore, RouteChange};
use rathaus_storage::testing::TestDatabase;
use rathaus_storage::{BlobConfig, Blobs, Db, StorageError};

fn conflict(r: Result<impl std::fmt::Debug, EinvoiceError>) -> String {
    match r {
        Err(EinvoiceError::Storage(StorageError::Conflict(m))) => m,
        other => panic!("expected a conflict, got {other:?}"),
    }
}

async fn routes_are_owned_per_tenant(db: Db, t: &TestDatabase) {
    let tenants = seed_basic(&db).await;
    let koeln = tenants.get("koeln").await.unwrap().id;
    let dahlem = tenants.get("dahlem").await.unwrap().id;
    let store = EinvoiceStore::new(db.clone(), Blobs::open(&BlobConfig::Local, &t.dir).unwrap());

    let r = store
        .create_route(koeln, " 05315000-abc ", " Kämmerei ", "test")
        .await
        .unwrap();
    assert_eq!(
        (r.leitweg_prefix.as_str(), r.office.as_str()),
        ("05315000-ABC", "Kämmerei")
    );
    // Exact prefix again (own or other tenant), and overlaps with another tenant's: conflicts.
    assert!(conflict(store.create_route(koeln, "05315000-ABC", "X", "test").await).contains("PUT"));
    assert!(
        conflict(
            store
                .create_route(dahlem, "05315000-ABC", "X", "test")
                .await
        )
        .contains("anderen Mandanten")
    );
    for overlapping in ["05315000", "05", "05315000-ABC-12"] {
        assert!(
            conflict(store.create_route(dahlem, overlapping, "X", "test").await)
                .contains("überschneidet sich mit 05315000-ABC"),
            "{overlapping}"
        );
    }
    // …but the tenant may nest its own prefixes.
    store
        .create_route(koeln, "05315000", "Stadtkasse", "test")
        .await
        .unwrap();
    assert!(matches!(
        store.create_route(koeln, "5", "X", "test").await,
        Err(EinvoiceError::InvalidRoute {
            field: "prefix",
            ..
        })
    ));
    assert!(matches!(
        store.create_route(koeln, "05315001", " ", "test").await,
        Err(EinvoiceError::InvalidRoute {
            field: "office",
            ..
        })
    ));

    // The longest prefix wins, case-insensitively.
    let hit = store.route_for("05315000-abc-99").await.unwrap().unwrap();
    assert_eq!(hit.office, "Kämmerei");
    let hit = store.route_for("05315000-XYZ-99").await.unwrap().unwrap();
    assert_eq!(hit.office, "Stadtkasse");
    assert!(store.route_for("06000000").await.unwrap().is_none());

    // Office changes; other tenants see nothing of it.
    let r = store
        .update_route(koeln, "05315000-abc", "Standesamt", "test")
        .await
        .unwrap();
    assert_eq!(r.office, "Standesamt");
    assert!(matches!(
        store
            .update_route(dahlem, "05315000-ABC", "X", "test")
            .await,
        Err(EinvoiceError::Storage(StorageError::NotFound(_)))
    ));
    assert!(matches!(
        store.remove_route(dahlem, "05315000-ABC", "test").await,
        Err(EinvoiceError::Storage(StorageError::NotFound(_)))
    ));
    assert!(store.routes(dahlem).await.unwrap().is_empty());

    // put_route (demo, CLI): creates, changes, leaves alone; never takes another's prefix.
    assert_eq!(
        store
            .put_route(dahlem, "1234567890", "Kasse", "test")
            .await
            .unwrap(),
        RouteChange::Created
    );
    assert_eq!(
        store
            .put_route(dahlem, "1234567890", "Kasse", "test")
            .await
            .unwrap(),
        RouteChange::Unchanged
    );
    assert_eq!(
        store
            .put_route(dahlem, "1234567890", "Gemeindekasse", "test")
            .await
            .unwrap(),
        RouteChange::Changed
    );
    conflict(store.put_route(dahlem, "05315000", "X", "test").await);

    store
        .remove_route(koeln, "05315000-ABC", "test")
        .await
        .unwrap();
    let left: Vec<String> = store
        .routes(koeln)
        .await
        .unwrap()
        .into_iter()
        .map(|r| r.leitweg_prefix)
        .collect();
    assert_eq!(left, ["05315000"]);
    assert_eq!(
        store
            .route_for("05315000-ABC-99")
            .await
            .unwrap()
            .unwrap()
            .office,
        "Stadtkasse"
    );
}

crate::on_both_backends!(
    einvoice_routes_are_owned_per_tenant,
    routes_are_owned_per_tenant
);
