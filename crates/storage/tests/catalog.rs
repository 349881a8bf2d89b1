use crate::seed_basic;
use rathaus_storage::catalog::{CatalogStore, Offer};
use rathaus_storage::testing::TestDatabase;
use rathaus_storage::{Db, StorageError};

const REAL: &str = concat!(
    env!("CARGO_MANIFEST_DIR"),
    "/../../../shared/testdata/ozg-leika"
);

async fn import_is_atomic_and_idempotent(db: Db, _t: &TestDatabase) {
    let tenants = seed_basic(&db).await;
    let nrw = tenants.get("nrw").await.unwrap();
    let store = CatalogStore::new(db.clone());
    let data = rathaus_catalog::read_dir(std::path::Path::new(REAL)).unwrap();
    let mut last = (0, 0);
    let counts = store
        .replace(nrw.id, &data, "test", |d, t| last = (d, t))
        .await
        .unwrap();
    assert_eq!(last.0, last.1, "progress reaches the total");
    assert_eq!(
        (
            counts.themenfelder,
            counts.lebenslagen,
            counts.ozg_leistungen
        ),
        (14, 58, 557)
    );
    assert_eq!(counts.leistungen, 5249);
    assert_eq!(store.counts(nrw.id).await.unwrap().leistungen, 5249);
    // Re-import: same result, nothing doubled.
    store
        .replace(nrw.id, &data, "test", |_, _| {})
        .await
        .unwrap();
    assert_eq!(store.counts(nrw.id).await.unwrap().leistungen, 5249);
    // An import that fails midway (two services with one id) leaves the previous catalogue intact.
    let mut broken = data.clone();
    let dup = broken.leistungen[10].clone();
    broken.leistungen.push(dup);
    let err = store
        .replace(nrw.id, &broken, "test", |_, _| {})
        .await
        .unwrap_err();
    assert!(matches!(err, StorageError::Conflict(_)), "{err:?}");
    assert_eq!(store.counts(nrw.id).await.unwrap().leistungen, 5249);
    // The documents carry the classification.
    let docs = store.services(nrw.id).await.unwrap();
    let hund = docs
        .iter()
        .find(|d| {
            d.leika
                .as_ref()
                .is_some_and(|k| k.as_str() == "99110009104000")
        })
        .unwrap();
    assert_eq!(hund.ozg_id.as_deref(), Some("10160"));
    assert!(hund.themenfeld.is_some() && hund.lebenslage.is_some());
    // Other tenants have no catalogue of their own.
    let koeln = tenants.get("koeln").await.unwrap();
    assert_eq!(store.counts(koeln.id).await.unwrap().leistungen, 0);
}
crate::on_both_backends!(import_t, import_is_atomic_and_idempotent);

async fn offers_are_scoped(db: Db, _t: &TestDatabase) {
    let tenants = seed_basic(&db).await;
    let koeln = tenants.get("koeln").await.unwrap();
    let dahlem = tenants.get("dahlem").await.unwrap();
    let store = CatalogStore::new(db.clone());
    let offer = Offer {
        leistung_id: 42,
        online: true,
        url: Some("https://example.org/hund".into()),
        maturity: 3,
    };
    store.set_offer(koeln.id, &offer, "test").await.unwrap();
    store
        .set_offer(
            koeln.id,
            &Offer {
                maturity: 4,
                ..offer.clone()
            },
            "test",
        )
        .await
        .unwrap();
    assert_eq!(
        store.offers(koeln.id).await.unwrap(),
        vec![Offer {
            maturity: 4,
            ..offer.clone()
        }]
    );
    assert!(store.offers(dahlem.id).await.unwrap().is_empty());
    let bad = store
        .set_offer(
            koeln.id,
            &Offer {
                maturity: 5,
                ..offer
            },
            "test",
        )
        .await;
    assert!(matches!(bad, Err(StorageError::Invalid(_))));
}
crate::on_both_backends!(offers_t, offers_are_scoped);
