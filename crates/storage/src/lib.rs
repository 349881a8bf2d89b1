//! Persistence of Rathaus.
//!
//! One [`Db`] handle over sqlx's `Any` driver runs the same embedded migrations and the same
//! runtime-checked queries on SQLite (the embedded default) and PostgreSQL. Every query on
//! tenant data takes the tenant id as a parameter: there is no unscoped read of domain tables.
//! Blobs (logos, later uploads and documents) go through `object_store` ([`Blobs`]).
#![forbid(unsafe_code)]

pub mod audit;
pub mod blobs;
pub mod catalog;
mod db;
pub mod einvoices;
pub mod error;
pub mod feedback;
pub mod forms;
pub mod inventory;
pub mod offers;
pub mod staff;
pub mod tenants;
pub mod testing;

pub use blobs::{BlobConfig, Blobs};
pub use db::{Backend, Db, redact_url, values_placeholders};
pub use error::StorageError;
/// The SQLite binding of [`Db::direct_sqlite`], for callers that write through it.
pub use rusqlite;

/// Result type of this crate.
pub type Result<T, E = StorageError> = std::result::Result<T, E>;
