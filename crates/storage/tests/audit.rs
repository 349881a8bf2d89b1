use rathaus_core::audit::{ChainProblem, NewAuditEntry};
use rathaus_storage::Db;
use rathaus_storage::audit::AuditStore;
use rathaus_storage::testing::TestDatabase;
use serde_json::json;

fn entry(i: usize) -> NewAuditEntry {
    NewAuditEntry {
        actor: "test".into(),
        action: "test.write".into(),
        tenant: Some("t1".into()),
        object_type: "thing".into(),
        object_id: i.to_string(),
        details: json!({"i": i}),
    }
}

async fn chain_detects_tampering(db: Db, _t: &TestDatabase) {
    let audit = AuditStore::new(db.clone());
    for i in 0..6 {
        audit.record(&entry(i)).await.unwrap();
    }
    let ok = audit.verify(|_| {}).await.unwrap();
    assert!(ok.problems.is_empty(), "{:?}", ok.problems);
    assert_eq!(ok.checked, 6);

    sqlx::query("UPDATE audit_log SET actor = 'mallory' WHERE seq = 3")
        .execute(db.pool())
        .await
        .unwrap();
    let r = audit.verify(|_| {}).await.unwrap();
    assert_eq!(r.problems, vec![ChainProblem::Altered { seq: 3 }]);
    sqlx::query("UPDATE audit_log SET actor = 'test' WHERE seq = 3")
        .execute(db.pool())
        .await
        .unwrap();
    assert!(
        audit.verify(|_| {}).await.unwrap().problems.is_empty(),
        "restoring the value restores the chain"
    );

    sqlx::query("DELETE FROM audit_log WHERE seq = 6")
        .execute(db.pool())
        .await
        .unwrap();
    let r = audit.verify(|_| {}).await.unwrap();
    assert_eq!(
        r.problems,
        vec![ChainProblem::HeadMismatch {
            head_seq: 6,
            last_seq: 5
        }]
    );

    sqlx::query("DELETE FROM audit_log WHERE seq = 2")
        .execute(db.pool())
        .await
        .unwrap();
    let r = audit.verify(|_| {}).await.unwrap();
    assert!(
        r.problems.contains(&ChainProblem::Gap {
            expected: 2,
            found: 3
        }),
        "{:?}",
        r.problems
    );
}
crate::on_both_backends!(tamper_t, chain_detects_tampering);

async fn concurrent_appends_keep_one_chain(db: Db, _t: &TestDatabase) {
    let audit = AuditStore::new(db.clone());
    let mut tasks = Vec::new();
    for i in 0..40 {
        let a = audit.clone();
        tasks.push(tokio::spawn(async move { a.record(&entry(i)).await }));
    }
    for t in tasks {
        t.await.unwrap().unwrap();
    }
    let r = audit.verify(|_| {}).await.unwrap();
    assert!(r.problems.is_empty(), "{:?}", r.problems);
    assert_eq!(r.checked, 40);
    assert_eq!(r.last_seq, 40);
}
crate::on_both_backends!(concurrent_t, concurrent_appends_keep_one_chain);

async fn failed_transaction_leaves_no_entry(db: Db, _t: &TestDatabase) {
    let mut tx = db.pool().begin().await.unwrap();
    rathaus_storage::audit::append(&mut tx, &entry(1))
        .await
        .unwrap();
    tx.rollback().await.unwrap();
    let r = AuditStore::new(db.clone()).verify(|_| {}).await.unwrap();
    assert_eq!((r.checked, r.last_seq), (0, 0));
    assert!(r.problems.is_empty());
}
crate::on_both_backends!(rollback_t, failed_transaction_leaves_no_entry);
