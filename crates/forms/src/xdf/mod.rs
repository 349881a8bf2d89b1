//! FIM XDatenfelder: import of XDF 2 and XDF 3.0.0 documents into the form model ([`import`])
//! and export of a form as an XDF 3.0.0 Stammdatenschema ([`export::export_xdf3`]).

pub mod export;
mod import;

pub use export::{export_xdf3, xdf3_id, xdf3_version};
pub use import::{import, import_with_limits};

use crate::codelist::CodeListError;
use crate::model::Form;
use crate::xml::XmlError;
use thiserror::Error;

/// Namespace of XDatenfelder 1 (refused).
pub const NS_XDF1: &str = "urn:xoev-de:fim:standard:xdatenfelder_1";
/// Namespace of XDatenfelder 2.
pub const NS_XDF2: &str = "urn:xoev-de:fim:standard:xdatenfelder_2";
/// Namespace of XDatenfelder 3.0.0.
pub const NS_XDF3: &str = "urn:xoev-de:fim:standard:xdatenfelder_3.0.0";

/// Result of an import.
#[derive(Debug, Clone, PartialEq)]
pub struct Imported {
    /// The form.
    pub form: Form,
    /// Number of distinct Datenfeldgruppen ids in the document.
    pub groups: usize,
    /// Number of distinct Datenfelder ids in the document (label fields included).
    pub fields: usize,
    /// What was changed on the way in (e.g. a code list that was not found), German.
    pub warnings: Vec<String>,
}

/// Why a document was refused. Messages are German and name the construct and the element.
#[derive(Debug, Error, Clone, PartialEq, Eq)]
pub enum ImportError {
    /// Not loadable as XML (size, DOCTYPE, entities, depth, syntax).
    #[error(transparent)]
    Xml(#[from] XmlError),
    /// An XDatenfelder 1 document.
    #[error(
        "XDatenfelder 1 wird nicht unterstützt; bitte das Schema im FIM-Portal als XDatenfelder 2 oder 3 exportieren."
    )]
    Xdf1,
    /// The root element is in no XDatenfelder namespace.
    #[error(
        "Unbekannter Namensraum „{ns}“ des Wurzelelements `{element}`: erwartet wird XDatenfelder 2 ({NS_XDF2}) oder 3.0.0 ({NS_XDF3})."
    )]
    UnknownNamespace {
        /// The namespace found.
        ns: String,
        /// The root element.
        element: String,
    },
    /// A message type other than the supported ones.
    #[error(
        "Die Nachricht `{element}` wird nicht unterstützt; unterstützt werden xdatenfelder.stammdatenschema.0102 und xdatenfelder.datenfeldgruppe.0103."
    )]
    UnsupportedMessage {
        /// The root element.
        element: String,
    },
    /// An element the importer does not support.
    #[error("Element `{element}` in {context} wird nicht unterstützt (Zeile {line}).")]
    Unsupported {
        /// The element (prefixed name).
        element: String,
        /// Where (e.g. "Datenfeld F123").
        context: String,
        /// Line.
        line: u32,
    },
    /// An element that may occur only once occurs again.
    #[error("Element `{element}` kommt in {context} mehrfach vor (Zeile {line}).")]
    Duplicate {
        /// The element.
        element: String,
        /// Where.
        context: String,
        /// Line of the repetition.
        line: u32,
    },
    /// A required element is missing.
    #[error("Pflichtelement `xdf:{element}` fehlt in {context}.")]
    Missing {
        /// The element.
        element: String,
        /// Where.
        context: String,
    },
    /// An id is empty.
    #[error("Die Kennung (`xdf:id`) in {context} ist leer (Zeile {line}).")]
    EmptyId {
        /// Where.
        context: String,
        /// Line.
        line: u32,
    },
    /// A code or value is not allowed.
    #[error("Ungültiger Wert „{value}“ für `{element}` in {context}: {expected}.")]
    InvalidValue {
        /// The element or attribute.
        element: String,
        /// The value.
        value: String,
        /// Where.
        context: String,
        /// What is allowed.
        expected: String,
    },
    /// A group contains itself.
    #[error("Zirkelbezug: die Datenfeldgruppe {id} enthält sich selbst ({path}).")]
    Cycle {
        /// The group.
        id: String,
        /// The chain of groups.
        path: String,
    },
    /// The same id and version is defined twice with different content.
    #[error("{kind} {id} (Version {version}) ist mehrfach mit unterschiedlichem Inhalt definiert.")]
    Conflict {
        /// "Datenfeld" or "Datenfeldgruppe".
        kind: String,
        /// The id.
        id: String,
        /// The version.
        version: String,
    },
    /// Two children of one parent have the same id (their data would collide).
    #[error(
        "Das Element {id} kommt in {context} mehrfach vor; die Kennungen müssen je Ebene eindeutig sein."
    )]
    DuplicateChild {
        /// The id.
        id: String,
        /// Where.
        context: String,
    },
    /// A referenced code list exists but cannot be read.
    #[error("{0}")]
    CodeList(#[from] CodeListError),
}
