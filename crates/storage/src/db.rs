//! The database handle: one pool over sqlx's `Any` driver, SQLite or PostgreSQL.

use crate::{Result, StorageError};
use sqlx::any::{AnyConnectOptions, AnyPoolOptions};
use sqlx::{AnyPool, Executor};
use std::str::FromStr;
use std::sync::Once;
use std::time::Duration;

/// Which database engine is behind a [`Db`].
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Backend {
    /// SQLite file (embedded default).
    Sqlite,
    /// PostgreSQL server.
    Postgres,
}

impl Backend {
    /// Name for logs and metrics.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Sqlite => "sqlite",
            Self::Postgres => "postgres",
        }
    }
}

/// A connection pool with the engine it talks to.
#[derive(Clone, Debug)]
pub struct Db {
    pool: AnyPool,
    backend: Backend,
    /// SQLite has one writer at a time; transactions that start reading and then write would
    /// otherwise collide and wait in SQLite's busy handler (sleeping). See [`Db::write_gate`].
    write_gate: std::sync::Arc<tokio::sync::Mutex<()>>,
    /// The SQLite file, for connections outside the pool ([`Db::direct_sqlite`]).
    sqlite_file: Option<std::path::PathBuf>,
}

static MIGRATOR: sqlx::migrate::Migrator = sqlx::migrate!("./migrations");

/// `($1, $2, …), (…)`: the placeholders of a multi-row `VALUES` list of `rows` rows with `cols`
/// columns each, numbered from `$1` (the same on SQLite and PostgreSQL).
pub fn values_placeholders(rows: usize, cols: usize) -> String {
    let mut out = String::with_capacity(rows * cols * 5);
    for r in 0..rows {
        if r > 0 {
            out.push_str(", ");
        }
        out.push('(');
        for c in 0..cols {
            if c > 0 {
                out.push_str(", ");
            }
            out.push('$');
            out.push_str(&(r * cols + c + 1).to_string());
        }
        out.push(')');
    }
    out
}

/// Replaces the password in a database URL with `***` so the URL can be logged.
pub fn redact_url(url: &str) -> String {
    match url::Url::parse(url) {
        Ok(mut u) if u.password().is_some() => {
            let _ = u.set_password(Some("***"));
            u.to_string()
        }
        _ => url.to_owned(),
    }
}

/// The file of an SQLite URL (`sqlite://PATH?…` or `sqlite:PATH`); `None` for other engines and
/// in-memory databases.
fn sqlite_file(url: &str) -> Option<std::path::PathBuf> {
    let rest = url
        .strip_prefix("sqlite://")
        .or_else(|| url.strip_prefix("sqlite:"))?;
    let (path, query) = rest.split_once('?').unwrap_or((rest, ""));
    let memory =
        path.is_empty() || path == ":memory:" || query.split('&').any(|kv| kv == "mode=memory");
    (!memory).then(|| std::path::PathBuf::from(path))
}

impl Db {
    /// Connects to `url` (`sqlite://PATH?mode=rwc` or `postgres://…`) and checks the connection.
    ///
    /// Fails within `connect_timeout` with an error naming the (redacted) URL.
    pub async fn connect(
        url: &str,
        max_connections: u32,
        connect_timeout: Duration,
    ) -> Result<Self> {
        static DRIVERS: Once = Once::new();
        DRIVERS.call_once(sqlx::any::install_default_drivers);
        let backend = if url.starts_with("sqlite:") {
            Backend::Sqlite
        } else if url.starts_with("postgres:") || url.starts_with("postgresql:") {
            Backend::Postgres
        } else {
            return Err(StorageError::Config(format!(
                "Datenbank-URL {} wird nicht unterstützt (sqlite:// oder postgres://)",
                redact_url(url)
            )));
        };
        let options = AnyConnectOptions::from_str(url).map_err(|e| {
            StorageError::Config(format!(
                "Datenbank-URL {} ist ungültig: {e}",
                redact_url(url)
            ))
        })?;
        let mut pool = AnyPoolOptions::new()
            .max_connections(max_connections)
            .acquire_timeout(connect_timeout);
        if backend == Backend::Sqlite {
            pool = pool.after_connect(|conn, _| {
                Box::pin(async move {
                    conn.execute(
                        "PRAGMA journal_mode = WAL; PRAGMA synchronous = NORMAL; \
                         PRAGMA foreign_keys = ON; PRAGMA busy_timeout = 10000;",
                    )
                    .await?;
                    Ok(())
                })
            });
        }
        let pool = pool.connect_with(options).await.map_err(|e| {
            StorageError::Config(format!(
                "Datenbank {} ist nicht erreichbar: {e}",
                redact_url(url)
            ))
        })?;
        Ok(Self {
            pool,
            backend,
            write_gate: Default::default(),
            sqlite_file: sqlite_file(url),
        })
    }

    /// A connection of its own to the SQLite file, outside the pool, with the pool's settings:
    /// for a dedicated writer thread that runs many small statements without a round trip
    /// through sqlx's worker thread for each. `None` on PostgreSQL and for in-memory databases.
    pub fn direct_sqlite(&self) -> Result<Option<rusqlite::Connection>> {
        let Some(path) = &self.sqlite_file else {
            return Ok(None);
        };
        use rusqlite::OpenFlags;
        // The pool has created the file; never create another one elsewhere.
        let conn = rusqlite::Connection::open_with_flags(
            path,
            OpenFlags::SQLITE_OPEN_READ_WRITE | OpenFlags::SQLITE_OPEN_NO_MUTEX,
        )?;
        conn.execute_batch(
            "PRAGMA synchronous = NORMAL; PRAGMA foreign_keys = ON; PRAGMA busy_timeout = 10000;",
        )?;
        Ok(Some(conn))
    }

    /// The write gate of [`Db::write_gate`] as a shared handle, for a thread outside the async
    /// runtime (`blocking_lock`). `None` on PostgreSQL.
    pub fn shared_write_gate(&self) -> Option<std::sync::Arc<tokio::sync::Mutex<()>>> {
        match self.backend {
            Backend::Sqlite => Some(self.write_gate.clone()),
            Backend::Postgres => None,
        }
    }

    /// On SQLite, a guard that lets one write transaction of this process run at a time; hold
    /// it across `begin … commit` of hot read-then-write transactions (token rotation) so they
    /// queue in the process instead of colliding in SQLite's busy handler. `None` on
    /// PostgreSQL, whose row locks do this job.
    pub async fn write_gate(&self) -> Option<tokio::sync::MutexGuard<'_, ()>> {
        match self.backend {
            Backend::Sqlite => Some(self.write_gate.lock().await),
            Backend::Postgres => None,
        }
    }

    /// The SQLite URL for a file in `data_dir` (created if missing).
    pub fn sqlite_url(data_dir: &std::path::Path) -> Result<String> {
        std::fs::create_dir_all(data_dir).map_err(|e| {
            StorageError::Config(format!(
                "Datenverzeichnis {} nicht anlegbar: {e}",
                data_dir.display()
            ))
        })?;
        Ok(format!(
            "sqlite://{}?mode=rwc",
            data_dir.join("rathaus.db").display()
        ))
    }

    /// Applies all pending migrations; a second run changes nothing.
    pub async fn migrate(&self) -> Result<usize> {
        let mut conn = self.pool.acquire().await?;
        let before = applied_count(&mut conn).await;
        MIGRATOR.run(&mut *conn).await?;
        let after = applied_count(&mut conn).await;
        Ok(after.saturating_sub(before))
    }

    /// Number of migrations this build knows.
    pub fn known_migrations() -> usize {
        MIGRATOR.iter().count()
    }

    /// Checks that the database answers and the schema is current (for `/readyz`).
    pub async fn ready(&self) -> Result<()> {
        let mut conn = self.pool.acquire().await?;
        let applied = applied_count(&mut conn).await;
        if applied < Self::known_migrations() {
            return Err(StorageError::Config(format!(
                "Datenbankschema veraltet: {applied} von {} Migrationen angewendet (rathaus migrate)",
                Self::known_migrations()
            )));
        }
        Ok(())
    }

    /// The pool, for the stores of this crate.
    pub fn pool(&self) -> &AnyPool {
        &self.pool
    }

    /// The engine.
    pub fn backend(&self) -> Backend {
        self.backend
    }

    /// Closes all connections.
    pub async fn close(&self) {
        self.pool.close().await;
    }
}

async fn applied_count(conn: &mut sqlx::AnyConnection) -> usize {
    sqlx::query_scalar::<_, i64>("SELECT COUNT(*) FROM _sqlx_migrations WHERE success = TRUE")
        .fetch_one(&mut *conn)
        .await
        .map(|n| usize::try_from(n).unwrap_or(0))
        .unwrap_or(0)
}

#[cfg(test)]
mod tests {
    use super::sqlite_file;
    use std::path::PathBuf;

    #[test]
    fn sqlite_file_of_urls() {
        assert_eq!(
            sqlite_file("sqlite:///var/lib/rathaus/rathaus.db?mode=rwc"),
            Some(PathBuf::from("/var/lib/rathaus/rathaus.db"))
        );
        assert_eq!(
            sqlite_file("sqlite:data/rathaus.db"),
            Some(PathBuf::from("data/rathaus.db"))
        );
        assert_eq!(sqlite_file("sqlite::memory:"), None);
        assert_eq!(sqlite_file("sqlite://x.db?mode=memory&cache=shared"), None);
        assert_eq!(sqlite_file("postgres://localhost/test"), None);
    }
}
