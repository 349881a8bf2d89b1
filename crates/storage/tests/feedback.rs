use crate::seed_basic;
use rathaus_core::feedback::{FeedbackStatus, NewFeedback};
use rathaus_storage::feedback::FeedbackStore;
use rathaus_storage::testing::TestDatabase;
use rathaus_storage::{Db, StorageError};

async fn feedback_is_scoped_by_tenant(db: Db, _t: &TestDatabase) {
    let tenants = seed_basic(&db).await;
    let koeln = tenants.get("koeln").await.unwrap();
    let dahlem = tenants.get("dahlem").await.unwrap();
    let store = FeedbackStore::new(db.clone());
    let f = store
        .create(
            koeln.id,
            NewFeedback {
                page: "/koeln/".into(),
                message: " Kontrast zu gering ".into(),
                contact: Some("".into()),
            },
        )
        .await
        .unwrap();
    assert_eq!(f.message, "Kontrast zu gering");
    assert_eq!(f.contact, None);
    assert_eq!(f.status, FeedbackStatus::Neu);
    assert_eq!(store.list(koeln.id, 10).await.unwrap().len(), 1);
    assert!(
        store.list(dahlem.id, 10).await.unwrap().is_empty(),
        "other tenant sees nothing"
    );
    assert!(matches!(
        store.get(dahlem.id, f.id).await,
        Err(StorageError::NotFound(_))
    ));
    assert!(matches!(
        store
            .set_status(dahlem.id, f.id, FeedbackStatus::Erledigt, "x")
            .await,
        Err(StorageError::NotFound(_))
    ));
    assert_eq!(
        store.get(koeln.id, f.id).await.unwrap().status,
        FeedbackStatus::Neu,
        "unchanged by other tenant"
    );
    let done = store
        .set_status(koeln.id, f.id, FeedbackStatus::Erledigt, "x")
        .await
        .unwrap();
    assert_eq!(done.status, FeedbackStatus::Erledigt);
    let bad = NewFeedback {
        page: "/".into(),
        message: "   ".into(),
        contact: None,
    };
    assert!(matches!(
        store.create(koeln.id, bad).await,
        Err(StorageError::Invalid(_))
    ));
}
crate::on_both_backends!(feedback_t, feedback_is_scoped_by_tenant);
