//! The Servicekonto of Rathaus: one state-wide account for citizens and organisations, and the
//! OpenID Connect provider that every tenant's services and back-office systems use.
//!
//! Pure building blocks (no I/O): trust levels ([`level`]), password hashing and policy
//! ([`password`]), TOTP ([`totp`]), PKCE ([`pkce`]), redirect-URI matching ([`redirect`]),
//! signing keys and JWS ([`keys`]), opaque tokens and claims ([`tokens`]).
//! With the database: accounts, sessions, clients, codes and refresh tokens ([`store`]) and
//! the flows that combine them ([`provider`]). Upstream identity providers ([`upstream`]).
#![forbid(unsafe_code)]

pub mod accounts;
mod audit;
pub mod clients;
mod columns;
pub mod error;
pub mod grants;
pub mod keys;
pub mod level;
pub mod mail;
pub mod passkeys;
pub mod password;
pub mod pkce;
pub mod provider;
pub mod redirect;
mod rotation;
pub mod scope;
pub mod sealed;
#[cfg(test)]
mod test_support;
pub mod tokens;
pub mod totp;
pub mod upstream;

pub use error::IdentityError;
pub use level::TrustLevel;

/// Result type of this crate.
pub type Result<T, E = IdentityError> = std::result::Result<T, E>;
