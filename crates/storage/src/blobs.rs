//! Blob storage through `object_store`: a local directory by default, S3-compatible by configuration.

use crate::{Result, StorageError};
use bytes::Bytes;
use object_store::aws::AmazonS3Builder;
use object_store::local::LocalFileSystem;
use object_store::path::Path;
use object_store::{ObjectStore, ObjectStoreExt, PutPayload};
use serde::{Deserialize, Serialize};
use std::sync::Arc;

/// Where blobs are kept.
#[derive(Clone, Debug, Default, Serialize, Deserialize, PartialEq, Eq)]
#[serde(tag = "backend", rename_all = "lowercase")]
pub enum BlobConfig {
    /// A directory (default: `DATA_DIR/blobs`).
    #[default]
    Local,
    /// An S3-compatible bucket.
    S3 {
        /// Bucket name.
        bucket: String,
        /// Endpoint URL, e.g. `https://s3.example.org`; empty for AWS.
        #[serde(default)]
        endpoint: Option<String>,
        /// Region.
        #[serde(default = "default_region")]
        region: String,
        /// Access key id.
        #[serde(default)]
        access_key_id: Option<String>,
        /// Secret access key (prefer `RATHAUS_BLOBS__SECRET_ACCESS_KEY` or a `_FILE` variant).
        #[serde(default)]
        secret_access_key: Option<String>,
        /// Allow plain HTTP (for a local test server only).
        #[serde(default)]
        allow_http: bool,
    },
}

fn default_region() -> String {
    "eu-central-1".to_owned()
}

/// A handle on the blob store.
#[derive(Clone, Debug)]
pub struct Blobs {
    store: Arc<dyn ObjectStore>,
}

impl Blobs {
    /// Opens the configured store; `data_dir/blobs` for [`BlobConfig::Local`].
    pub fn open(config: &BlobConfig, data_dir: &std::path::Path) -> Result<Self> {
        let store: Arc<dyn ObjectStore> = match config {
            BlobConfig::Local => {
                let dir = data_dir.join("blobs");
                std::fs::create_dir_all(&dir).map_err(|e| {
                    StorageError::Config(format!("Ablage {} nicht anlegbar: {e}", dir.display()))
                })?;
                Arc::new(LocalFileSystem::new_with_prefix(&dir)?)
            }
            BlobConfig::S3 {
                bucket,
                endpoint,
                region,
                access_key_id,
                secret_access_key,
                allow_http,
            } => {
                let mut b = AmazonS3Builder::new()
                    .with_bucket_name(bucket)
                    .with_region(region)
                    .with_allow_http(*allow_http)
                    .with_virtual_hosted_style_request(false);
                if let Some(e) = endpoint {
                    b = b.with_endpoint(e);
                }
                if let Some(k) = access_key_id {
                    b = b.with_access_key_id(k);
                }
                if let Some(s) = secret_access_key {
                    b = b.with_secret_access_key(s);
                }
                Arc::new(b.build()?)
            }
        };
        Ok(Self { store })
    }

    /// Wraps any object store (for tests).
    pub fn from_store(store: Arc<dyn ObjectStore>) -> Self {
        Self { store }
    }

    fn path(key: &str) -> Result<Path> {
        Path::parse(key)
            .map_err(|e| StorageError::Invalid(format!("ungültiger Ablageschlüssel {key:?}: {e}")))
    }

    /// Stores `data` under `key`, replacing what was there.
    pub async fn put(&self, key: &str, data: Bytes) -> Result<()> {
        self.store
            .put(&Self::path(key)?, PutPayload::from_bytes(data))
            .await?;
        Ok(())
    }

    /// Reads the blob under `key`.
    pub async fn get(&self, key: &str) -> Result<Bytes> {
        match self.store.get(&Self::path(key)?).await {
            Ok(r) => Ok(r.bytes().await?),
            Err(object_store::Error::NotFound { .. }) => {
                Err(StorageError::NotFound(format!("Datei {key}")))
            }
            Err(e) => Err(e.into()),
        }
    }

    /// Deletes the blob under `key` (no error if it is missing).
    pub async fn delete(&self, key: &str) -> Result<()> {
        match self.store.delete(&Self::path(key)?).await {
            Ok(()) | Err(object_store::Error::NotFound { .. }) => Ok(()),
            Err(e) => Err(e.into()),
        }
    }
}
