//! Errors of the identity context.

use thiserror::Error;

/// What can go wrong in the identity context.
#[derive(Debug, Error)]
pub enum IdentityError {
    /// Storage failed.
    #[error(transparent)]
    Storage(#[from] rathaus_storage::StorageError),
    /// Cryptography failed (key generation, signing).
    #[error("Kryptografiefehler: {0}")]
    Crypto(String),
    /// Input refused by a rule; the text is for the user (German).
    #[error("{0}")]
    Invalid(String),
    /// An upstream identity provider failed or answered something unusable.
    #[error("Externer Identitätsanbieter: {0}")]
    Upstream(String),
}

impl From<sqlx::Error> for IdentityError {
    fn from(e: sqlx::Error) -> Self {
        Self::Storage(e.into())
    }
}
