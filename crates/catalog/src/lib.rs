//! The service catalogue (Leistungskatalog): OZG Themenfelder, Lebenslagen and OZG-Leistungen,
//! the LeiKa services assigned to them, and the import of the catalogue data.
//!
//! Knows nothing of HTTP or SQL: it parses and validates; `rathaus-storage` persists.
#![forbid(unsafe_code)]

pub mod assistant;
pub mod dashboard;
pub mod import;
pub mod inventory;
pub mod model;
pub mod offer;
pub mod search;

pub use import::{CatalogData, ImportError, Rejected, read_dir};
pub use model::{Lebenslage, LeikaKey, Leistung, OzgId, OzgLeistung, ServiceDoc, Themenfeld};
