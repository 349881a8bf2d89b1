//! Storage errors.

use thiserror::Error;

/// What can go wrong in the storage layer.
#[derive(Debug, Error)]
pub enum StorageError {
    /// The database could not be reached or answered with an error.
    #[error("Datenbankfehler: {0}")]
    Database(#[from] sqlx::Error),
    /// The direct SQLite connection (outside the pool) answered with an error.
    #[error("Datenbankfehler (SQLite): {0}")]
    Sqlite(#[from] rusqlite::Error),
    /// Applying migrations failed.
    #[error("Migration fehlgeschlagen: {0}")]
    Migration(#[from] sqlx::migrate::MigrateError),
    /// The object does not exist (in this tenant).
    #[error("nicht gefunden: {0}")]
    NotFound(String),
    /// A uniqueness rule was violated.
    #[error("Konflikt: {0}")]
    Conflict(String),
    /// The object was changed by someone else since it was read.
    #[error("Version {expected} erwartet, aktuell ist {actual}")]
    VersionMismatch {
        /// Version the caller read.
        expected: i64,
        /// Current version.
        actual: i64,
    },
    /// The object was saved by someone else since it was read, at the same version number
    /// (a draft edited in place): its revision moved on.
    #[error("Stand {expected} bearbeitet, aktuell ist Stand {actual}")]
    Stale {
        /// Revision the caller read (`version.revision`).
        expected: String,
        /// Current revision.
        actual: String,
    },
    /// Input refused by a domain rule.
    #[error("{0}")]
    Invalid(String),
    /// Stored data cannot be read back (e.g. an invalid key in a row).
    #[error("gespeicherte Daten sind ungültig: {0}")]
    Corrupt(String),
    /// Blob storage failed.
    #[error("Dateiablage: {0}")]
    Blob(#[from] object_store::Error),
    /// Configuration is unusable.
    #[error("Konfiguration: {0}")]
    Config(String),
}

impl StorageError {
    /// Maps unique-constraint violations to [`StorageError::Conflict`].
    pub fn from_write(e: sqlx::Error, what: &str) -> Self {
        if let sqlx::Error::Database(db) = &e
            && db.is_unique_violation()
        {
            return Self::Conflict(what.to_owned());
        }
        Self::Database(e)
    }
}

/// Reads a text column and parses it (ids, enums); unparsable stored text is [`StorageError::Corrupt`].
pub fn parsed<T>(row: &sqlx::any::AnyRow, column: &str) -> Result<T, StorageError>
where
    T: std::str::FromStr,
    T::Err: std::fmt::Display,
{
    let text: String = sqlx::Row::try_get(row, column)?;
    text.parse()
        .map_err(|e: T::Err| StorageError::Corrupt(format!("{column} = {text:?}: {e}")))
}
