//! E-Rechnung (XRechnung) for Rathaus.
//!
//! - [`xml`]: secure loading (no DTDs or entities, size, depth and node limits) into a compact tree;
//! - [`xpath`]: an XPath 2.0 engine for the subset the official rules use;
//! - [`schematron`]: the compiled Schematron rule sets of the KoSIT configuration, run natively;
//! - [`validate`]: the KoSIT validation order (scenario, XML schema, rules, severity overrides);
//! - [`model`]: the semantic invoice model (EN 16931 business terms) read from UBL or CII.
//! - [`view`]: a presentation-neutral readable view of an invoice, grouped like the XRechnung
//!   visualisation.
#![deny(unsafe_code)]
#![warn(missing_docs)]

pub mod model;
pub mod schematron;
pub mod validate;
pub mod view;
pub mod xml;
pub mod xpath;
pub mod xsd;

pub use validate::{ConfigError, Finding, Layer, Report, Severity, Syntax, Validator};
pub use xml::{Limits, XmlError};
