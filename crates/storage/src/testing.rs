//! Throw-away databases for tests: a SQLite file in a temporary directory, or a fresh schema in
//! the PostgreSQL database named by `RATHAUS_TEST_POSTGRES_URL`
//! (default `postgres://postgres@127.0.0.1:5432/test`). The schema is dropped when the guard is.
//! PostgreSQL tests never skip: an unreachable server fails them.

use crate::{Db, Result};
use sqlx::Executor;
use std::path::PathBuf;
use std::time::Duration;

/// Default PostgreSQL URL for tests.
pub const DEFAULT_TEST_POSTGRES_URL: &str = "postgres://postgres@127.0.0.1:5432/test";

/// The base URL of the PostgreSQL test database.
pub fn postgres_base_url() -> String {
    std::env::var("RATHAUS_TEST_POSTGRES_URL")
        .unwrap_or_else(|_| DEFAULT_TEST_POSTGRES_URL.to_owned())
}

/// A database that exists for the lifetime of this guard.
#[derive(Debug)]
pub struct TestDatabase {
    /// URL to connect to (for PostgreSQL it selects the private schema).
    pub url: String,
    /// A temporary directory usable as data dir (holds the SQLite file for SQLite).
    pub dir: PathBuf,
    schema: Option<String>,
}

impl TestDatabase {
    /// A fresh SQLite database in a new temporary directory.
    pub fn sqlite() -> Result<Self> {
        let dir =
            std::env::temp_dir().join(format!("rathaus-test-{}", uuid::Uuid::new_v4().simple()));
        let url = Db::sqlite_url(&dir)?;
        Ok(Self {
            url,
            dir,
            schema: None,
        })
    }

    /// A fresh, empty schema in the PostgreSQL test database.
    pub async fn postgres() -> Result<Self> {
        let schema = format!("t_{}", uuid::Uuid::new_v4().simple());
        let base = postgres_base_url();
        let admin = Db::connect(&base, 1, Duration::from_secs(10)).await?;
        admin
            .pool()
            .execute(sqlx::AssertSqlSafe(format!("CREATE SCHEMA {schema}")))
            .await?;
        admin.close().await;
        let sep = if base.contains('?') { '&' } else { '?' };
        let url = format!("{base}{sep}options[search_path]={schema}");
        let dir =
            std::env::temp_dir().join(format!("rathaus-test-{}", uuid::Uuid::new_v4().simple()));
        std::fs::create_dir_all(&dir).map_err(|e| crate::StorageError::Config(e.to_string()))?;
        Ok(Self {
            url,
            dir,
            schema: Some(schema),
        })
    }

    /// By name: `"sqlite"` or `"postgres"`.
    pub async fn new(backend: &str) -> Result<Self> {
        match backend {
            "postgres" => Self::postgres().await,
            _ => Self::sqlite(),
        }
    }

    /// Connects and migrates.
    pub async fn connect(&self) -> Result<Db> {
        let db = Db::connect(&self.url, 5, Duration::from_secs(10)).await?;
        db.migrate().await?;
        Ok(db)
    }
}

impl Drop for TestDatabase {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.dir);
        if let Some(schema) = self.schema.take() {
            // Drop runs outside any runtime guarantee: use a private runtime on a private thread.
            let handle = std::thread::spawn(move || {
                let Ok(rt) = tokio::runtime::Builder::new_current_thread()
                    .enable_all()
                    .build()
                else {
                    return;
                };
                rt.block_on(async move {
                    if let Ok(db) =
                        Db::connect(&postgres_base_url(), 1, Duration::from_secs(10)).await
                    {
                        let _ = db
                            .pool()
                            .execute(sqlx::AssertSqlSafe(format!("DROP SCHEMA {schema} CASCADE")))
                            .await;
                        db.close().await;
                    }
                });
            });
            let _ = handle.join();
        }
    }
}
