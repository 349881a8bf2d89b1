use crate::seed_basic;
use rathaus_storage::forms::{
    Base, DraftOwner, FormEdit, FormStore, NewSubmission, SubmissionStore,
};
use rathaus_storage::testing::TestDatabase;
use rathaus_storage::{Db, StorageError};
use serde_json::json;

fn base(version: i64, revision: i64) -> Base {
    Base { version, revision }
}

/// Versions: published ones never change, edits make a new draft, stale edits are refused.
async fn form_versions(db: Db, _t: &TestDatabase) {
    let tenants = seed_basic(&db).await;
    let koeln = tenants.get("koeln").await.unwrap();
    let dahlem = tenants.get("dahlem").await.unwrap();
    let forms = FormStore::new(db.clone());
    let v1 = forms
        .import(koeln.id, "S1", "Antrag", r#"{"v":1}"#, "{}", "test")
        .await
        .unwrap();
    assert!(v1.changed);
    let same = forms
        .import(koeln.id, "S1", "Antrag", r#"{"v":1}"#, "{}", "test")
        .await
        .unwrap();
    assert_eq!(
        (same.form_id.as_str(), same.version, same.changed),
        (v1.form_id.as_str(), 1, false)
    );
    let edit = FormEdit {
        title: "Antrag neu",
        definition: r#"{"v":2}"#,
        json_schema: "{}",
    };
    let draft = forms
        .save_draft(koeln.id, &v1.form_id, base(1, 1), &edit, "test")
        .await
        .unwrap();
    assert_eq!(draft.version, 2);
    // The published version 1 is still what citizens get, unchanged.
    let (_, published, _) = forms
        .published_for(koeln.id, &v1.form_id)
        .await
        .unwrap()
        .unwrap();
    assert_eq!(
        (published.version, published.definition.as_str()),
        (1, r#"{"v":1}"#)
    );
    let (_, head, _) = forms
        .published_head(koeln.id, &v1.form_id)
        .await
        .unwrap()
        .unwrap();
    assert_eq!(head, 1, "remembered until this store writes again");
    // A stale base (another tab still on version 1) is refused; the draft is edited in place.
    let stale = forms
        .save_draft(koeln.id, &v1.form_id, base(1, 1), &edit, "test")
        .await;
    assert!(matches!(
        stale,
        Err(StorageError::VersionMismatch {
            expected: 1,
            actual: 2
        })
    ));
    let again = FormEdit {
        definition: r#"{"v":3}"#,
        ..edit
    };
    assert_eq!(
        forms
            .save_draft(koeln.id, &v1.form_id, base(2, 1), &again, "test")
            .await
            .unwrap()
            .revision,
        2
    );
    // Another editor of the same draft (still on revision 1) is refused: nothing is overwritten.
    let other = FormEdit {
        definition: r#"{"v":"lost"}"#,
        ..edit
    };
    assert!(matches!(
        forms
            .save_draft(koeln.id, &v1.form_id, base(2, 1), &other, "test")
            .await,
        Err(StorageError::Stale { .. })
    ));
    // Publishing what one read refuses a draft saved since.
    assert!(matches!(
        forms
            .publish(koeln.id, &v1.form_id, Some(base(2, 1)), "test")
            .await,
        Err(StorageError::Stale { .. })
    ));
    assert_eq!(
        forms
            .publish(koeln.id, &v1.form_id, Some(base(2, 2)), "test")
            .await
            .unwrap(),
        2
    );
    assert!(matches!(
        forms.publish(koeln.id, &v1.form_id, None, "test").await,
        Err(StorageError::Conflict(_))
    ));
    let (_, published, _) = forms
        .published_for(koeln.id, &v1.form_id)
        .await
        .unwrap()
        .unwrap();
    assert_eq!(
        (published.version, published.definition.as_str()),
        (2, r#"{"v":3}"#)
    );
    // The head without the definition names the same version; the version by number is it.
    let (record, head, _) = forms
        .published_head(koeln.id, &v1.form_id)
        .await
        .unwrap()
        .unwrap();
    assert_eq!((record.id.as_str(), head), (v1.form_id.as_str(), 2));
    let by_number = forms
        .published_version(&v1.form_id, head)
        .await
        .unwrap()
        .unwrap();
    assert_eq!(by_number, published);
    assert!(
        forms
            .published_version(&v1.form_id, 3)
            .await
            .unwrap()
            .is_none(),
        "no such version"
    );
    let old = forms
        .version_for(koeln.id, &v1.form_id, 1)
        .await
        .unwrap()
        .unwrap();
    assert_eq!(
        old.definition, r#"{"v":1}"#,
        "version 1 stays retrievable for its submissions"
    );

    // Another tenant neither sees nor edits it — until it is a template it has activated.
    assert!(
        forms
            .published_for(dahlem.id, &v1.form_id)
            .await
            .unwrap()
            .is_none()
    );
    assert!(
        forms
            .published_head(dahlem.id, &v1.form_id)
            .await
            .unwrap()
            .is_none()
    );
    assert!(matches!(
        forms
            .save_draft(dahlem.id, &v1.form_id, base(2, 2), &edit, "test")
            .await,
        Err(StorageError::NotFound(_))
    ));
    assert!(matches!(
        forms
            .activate(dahlem.id, &v1.form_id, &json!({}), "test")
            .await,
        Err(StorageError::NotFound(_))
    ));
    forms
        .set_template(koeln.id, &v1.form_id, true, "test")
        .await
        .unwrap();
    assert_eq!(forms.templates(dahlem.id).await.unwrap().len(), 1);
    forms
        .activate(
            dahlem.id,
            &v1.form_id,
            &json!({"dienststelle": "Gemeindekasse"}),
            "test",
        )
        .await
        .unwrap();
    let (_, v, params) = forms
        .published_for(dahlem.id, &v1.form_id)
        .await
        .unwrap()
        .unwrap();
    assert_eq!(
        (v.version, params["dienststelle"].as_str()),
        (2, Some("Gemeindekasse"))
    );
    let (_, head, params) = forms
        .published_head(dahlem.id, &v1.form_id)
        .await
        .unwrap()
        .unwrap();
    assert_eq!(
        (head, params["dienststelle"].as_str()),
        (2, Some("Gemeindekasse"))
    );
    let listed = forms.list_for(dahlem.id).await.unwrap();
    assert_eq!(listed.len(), 1);
    assert!(!listed[0].owned);
    assert!(
        matches!(
            forms
                .save_draft(dahlem.id, &v1.form_id, base(2, 2), &edit, "test")
                .await,
            Err(StorageError::NotFound(_))
        ),
        "activating does not make it editable"
    );
}
crate::on_both_backends!(form_versions_are_immutable_and_scoped, form_versions);

/// Submissions: one per idempotency key, scoped by tenant; drafts belong to their owner.
async fn submissions(db: Db, _t: &TestDatabase) {
    let tenants = seed_basic(&db).await;
    let koeln = tenants.get("koeln").await.unwrap();
    let dahlem = tenants.get("dahlem").await.unwrap();
    let form = FormStore::new(db.clone())
        .import(koeln.id, "S1", "Antrag", "{}", "{}", "test")
        .await
        .unwrap();
    let store = SubmissionStore::new(db.clone());
    let data = json!({"F1": "x"});
    let new = NewSubmission {
        tenant: koeln.id,
        form_id: &form.form_id,
        form_version: 1,
        account_id: None,
        idempotency_key: Some("k1"),
        data: &data,
        draft_id: None,
        actor: "anonymous",
    };
    // Concurrent requests with one key: one submission, every caller gets it.
    let results = futures::future::join_all((0..6).map(|_| store.create(&new))).await;
    let ids: std::collections::BTreeSet<String> =
        results.into_iter().map(|r| r.unwrap().0.id).collect();
    assert_eq!(ids.len(), 1);
    let id = ids.into_iter().next().unwrap();
    // Many at once are written in batches; every one is stored with its audit entry and the
    // hash chain stays intact.
    let keys: Vec<String> = (0..50).map(|i| format!("viele-{i}")).collect();
    let news: Vec<NewSubmission<'_>> = keys
        .iter()
        .map(|k| NewSubmission {
            idempotency_key: Some(k),
            ..new.clone()
        })
        .collect();
    let many = futures::future::join_all(news.iter().map(|n| store.create(n))).await;
    assert!(many.iter().all(|r| matches!(r, Ok((_, true)))));
    assert_eq!(store.list(koeln.id, None, 1000).await.unwrap().len(), 51);
    let report = rathaus_storage::audit::AuditStore::new(db.clone())
        .verify(|_| {})
        .await
        .unwrap();
    assert!(report.problems.is_empty(), "{:?}", report.problems);
    let audited: i64 =
        sqlx::query_scalar("SELECT COUNT(*) FROM audit_log WHERE action = 'submission.create'")
            .fetch_one(db.pool())
            .await
            .unwrap();
    assert_eq!(audited, 51);
    let s = store.get(koeln.id, &id).await.unwrap().unwrap();
    assert!(
        s.reference.starts_with("A-") && s.reference.len() == 17,
        "{}",
        s.reference
    );
    assert!(store.get(dahlem.id, &id).await.unwrap().is_none());
    assert!(store.list(dahlem.id, None, 10).await.unwrap().is_empty());
    store
        .set_status(koeln.id, &id, "erledigt", "test")
        .await
        .unwrap();
    assert!(matches!(
        store.set_status(koeln.id, &id, "verloren", "test").await,
        Err(StorageError::Invalid(_))
    ));
    assert!(matches!(
        store.set_status(dahlem.id, &id, "erledigt", "test").await,
        Err(StorageError::NotFound(_))
    ));
    assert_eq!(
        store
            .list(koeln.id, Some("erledigt"), 10)
            .await
            .unwrap()
            .len(),
        1
    );
    assert_eq!(
        store
            .list(koeln.id, Some("eingegangen"), 100)
            .await
            .unwrap()
            .len(),
        50
    );

    // Drafts: only the owner finds and saves them; a stale save is refused.
    let alice = DraftOwner::Anonymous("hash-a");
    let bob = DraftOwner::Anonymous("hash-b");
    let d = store
        .create_draft(koeln.id, &form.form_id, 1, alice, &json!({}))
        .await
        .unwrap();
    assert!(store.draft(koeln.id, &d.id, bob).await.unwrap().is_none());
    assert!(
        store
            .draft(dahlem.id, &d.id, alice)
            .await
            .unwrap()
            .is_none()
    );
    let mut edited = d.clone();
    edited.data = json!({"F1": "y"});
    assert_eq!(store.save_draft(koeln.id, &edited, alice).await.unwrap(), 2);
    assert!(matches!(
        store.save_draft(koeln.id, &edited, alice).await,
        Err(StorageError::VersionMismatch { .. })
    ));
    assert!(matches!(
        store.save_draft(koeln.id, &edited, bob).await,
        Err(StorageError::NotFound(_))
    ));
    assert_eq!(
        store
            .draft_for_form(koeln.id, &form.form_id, alice)
            .await
            .unwrap()
            .unwrap()
            .data,
        json!({"F1": "y"})
    );
    assert!(
        store
            .delete_draft(koeln.id, &d.id, bob)
            .await
            .unwrap()
            .is_empty()
    );
    assert!(
        store.draft(koeln.id, &d.id, alice).await.unwrap().is_some(),
        "bob cannot delete it"
    );
}
crate::on_both_backends!(submissions_are_idempotent_and_scoped, submissions);
