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

/// The S3 backend against an independent S3 implementation (moto's server, installed by `.ci/run`).
#[tokio::test]
async fn s3_blobs_roundtrip_against_moto() {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let moto = std::process::Command::new("moto_server")
        .args(["-H", "127.0.0.1", "-p", &port.to_string()])
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::null())
        .spawn()
        .expect("moto_server must be installed (pip install 'moto[server]'; .ci/run does it)");
    struct Kill(std::process::Child);
    impl Drop for Kill {
        fn drop(&mut self) {
            let _ = self.0.kill();
            let _ = self.0.wait();
        }
    }
    let _guard = Kill(moto);
    // Wait for the server, then create the bucket with a plain (unsigned) request.
    let mut created = false;
    for _ in 0..100 {
        if let Ok(mut s) = tokio::net::TcpStream::connect(("127.0.0.1", port)).await {
            s.write_all(format!("PUT /rathaus HTTP/1.1\r\nHost: 127.0.0.1:{port}\r\nContent-Length: 0\r\nConnection: close\r\n\r\n").as_bytes())
                .await
                .unwrap();
            let mut answer = String::new();
            s.read_to_string(&mut answer).await.unwrap();
            assert!(answer.starts_with("HTTP/1.1 200"), "{answer}");
            created = true;
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
    }
    assert!(created, "moto_server did not start");
    let config = BlobConfig::S3 {
        bucket: "rathaus".into(),
        endpoint: Some(format!("http://127.0.0.1:{port}")),
        region: "eu-central-1".into(),
        access_key_id: Some("test".into()),
        secret_access_key: Some("test".into()),
        allow_http: true,
    };
    let blobs = Blobs::open(&config, std::path::Path::new("/nonexistent")).unwrap();
    blobs
        .put("tenants/dahlem/logo", Bytes::from_static(b"PNG"))
        .await
        .unwrap();
    assert_eq!(
        blobs.get("tenants/dahlem/logo").await.unwrap(),
        Bytes::from_static(b"PNG")
    );
    blobs.delete("tenants/dahlem/logo").await.unwrap();
    assert!(matches!(
        blobs.get("tenants/dahlem/logo").await,
        Err(StorageError::NotFound(_))
    ));
}
