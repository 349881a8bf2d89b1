use bytes::Bytes;
use rathaus_storage::{BlobConfig, Blobs, StorageError};

#[tokio::test]
async fn local_blobs_roundtrip() {
    let dir = tempfile::tempdir().unwrap();
    let blobs = Blobs::open(&BlobConfig::Local, dir.path()).unwrap();
    blobs
        .put("tenants/koeln/logo", Bytes::from_static(b"<svg/>"))
        .await
        .unwrap();
    assert_eq!(
        blobs.get("tenants/koeln/logo").await.unwrap(),
        Bytes::from_static(b"<svg/>")
    );
    assert!(dir.path().join("blobs/tenants/koeln/logo").exists());
    blobs
        .put("tenants/koeln/logo", Bytes::from_static(b"<svg></svg>"))
        .await
        .unwrap();
    assert_eq!(blobs.get("tenants/koeln/logo").await.unwrap().len(), 11);
    blobs.delete("tenants/koeln/logo").await.unwrap();
    assert!(matches!(
        blobs.get("tenants/koeln/logo").await,
        Err(StorageError::NotFound(_))
    ));
    blobs.delete("tenants/koeln/logo").await.unwrap();
    assert!(matches!(
        blobs.get("../etc/passwd").await,
        Err(StorageError::Invalid(_))
    ));
}
