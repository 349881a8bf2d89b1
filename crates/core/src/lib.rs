//! Shared domain types of Rathaus.
//!
//! This crate is the root of the dependency tree: it knows nothing of HTTP, SQL or files.
//! It holds the tenant model (Gebietskörperschaften with their official keys), the staff
//! roles, the accessibility feedback model and the hash chain of the audit trail.
#![forbid(unsafe_code)]

pub mod audit;
pub mod feedback;
pub mod ids;
pub mod keys;
pub mod leitweg;
pub mod staff;
pub mod tenant;
pub mod time;

pub use ids::{FeedbackId, StaffId, TenantId};
pub use keys::{Ags, Ars, KeyError};
pub use tenant::{Branding, Module, Tenant, TenantKind, TenantSlug};
