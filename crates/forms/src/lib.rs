//! Online forms for Rathaus: the form model, the FIM XDatenfelder import and export, the JSON
//! Schema and XML Schema of submissions and their native validation. Domain code only: no HTTP,
//! no database.
//!
//! # Modules
//! - [`model`]: [`Form`] = metadata (id, version, title, help, FIM source, trust level, fee) +
//!   a tree of [`Group`]s and [`Field`]s (cardinality `min`/`max`, [`FieldKind`], [`DataType`],
//!   [`Constraints`], [`CodeList`], FIM [`Rule`]s, builder features [`Condition`], [`Prefill`],
//!   placeholder) + pages ([`Step`]; by default one per top-level group and one per run of
//!   consecutive top-level fields). Serde, stored as JSON, sent to the browser builder.
//! - [`xdf`]: [`xdf::import`] of XDF 2 and XDF 3.0.0 (`xdatenfelder.stammdatenschema.0102`,
//!   `xdatenfelder.datenfeldgruppe.0103`) and [`xdf::export_xdf3`]. XDF 1 and every element the
//!   importer does not know are refused with an error naming the element and where it is;
//!   repeated single elements, empty or missing ids, unknown codes, cyclic groups and one id and
//!   version defined twice with different content are refused too. Rules are kept on the element
//!   they belong to. Code lists come from a [`CodeListSource`] ([`CodeListDir`]: genericode files
//!   in a directory); a list that is not found turns its field into free text (`Input`, `Text`)
//!   with a warning in [`Imported::warnings`].
//! - [`json_schema`]: JSON Schema 2020-12 of the submissions.
//! - [`validate`]: native validation with German messages per field; accepts exactly what the
//!   JSON Schema accepts.
//! - [`xml_export`]: XML Schema of the submissions and JSON → XML.
//! - [`hundesteuer`]: the demo's reference service, the dog-tax registration.
//! - [`xml`]: secure XML loading (size cap before parsing, no DOCTYPE/entities, depth and node
//!   caps); [`codelist`]: genericode 1.0.
//!
//! # Data contract of a submission
//! A submission is a JSON object keyed by element ids **without** version (`G60000001`,
//! `F60000227`). A group is a nested object, or an array of objects when its maximum count is
//! above 1 (`minItems`/`maxItems` from `anzahl`; `0:*`/`0:n` has no `maxItems`). A field is a
//! value, or an array of values when its maximum is above 1: text, file and object references
//! are strings; dates are strings `YYYY-MM-DD` (`format: date` plus a pattern, and a real
//! calendar date); times `hh:mm[:ss]`; date-times `YYYY-MM-DDThh:mm[:ss[.f]][zone]`; `num` and
//! `num_currency` are JSON numbers, `num_int` integers; booleans are JSON booleans; a selection
//! with a known code list is one of the codes (`enum`). An element with `min` ≥ 1 is required.
//! Label fields carry no data and must not appear. Unknown keys are refused
//! (`additionalProperties: false`). Constraints (`praezisierung`) become `minLength`,
//! `maxLength` (in characters), `minimum`, `maximum` and `pattern`; a FIM pattern must match the
//! whole value (XML Schema semantics), so it is anchored as `^(?:…)$`. Bounds of dates are not
//! checked (neither in the JSON Schema nor natively). Absent optional values are left out;
//! `null` is not a value.
//!
//! **Conditions**: an element with a [`Condition`] is shown only when the named sibling field
//! (same object) has the given value. A hidden element must be absent (data for it is
//! rejected: "Dieses Feld ist ausgeblendet …"); a shown one follows its cardinality. In the JSON
//! Schema this is an `if`/`then`/`else` in `allOf`.
//!
//! **Error paths** ([`FieldError::field`]): ids joined by `/` from the root; an entry of an
//! array gets its 0-based index in brackets: `G60000001/F60000227`,
//! `G00000015[1]/F00000026`, `F00000087[5]`. The empty path is the submission itself.
//!
//! # Differences to the reference tools (vs5000 XSLTs)
//! - The reference JSON Schema generator (`XDF3_2_JSON` 0.02) writes `format: date` only when a
//!   date field has a `praezisierung` and never a pattern, so it accepts `01.03.2024` or
//!   `2024-02-30` for dates; we refuse them (samples in `tests/samples/blaue-karte/divergent`).
//! - It writes FIM patterns unanchored (JSON Schema `pattern` searches); we anchor them.
//! - It knows no conditions (XDF 3 has none); the XDF 3 export writes a conditional element as
//!   optional (`0:max`) and documents the condition in a rule on the parent.
//! - The structure (objects, arrays from `anzahl`, `required`, `additionalProperties: false`,
//!   labels left out) is the same; keys differ only by the XDF 2 → XDF 3 id mapping
//!   (`F00000227` → `F00000000227`), which the export applies as the reference converter does.
#![deny(unsafe_code)]
#![warn(missing_docs)]

pub mod codelist;
pub mod hundesteuer;
pub mod json_schema;
pub mod model;
pub mod validate;
pub mod xdf;
pub mod xml;
pub mod xml_export;

pub use codelist::{CodeListDir, CodeListError, CodeListRef, CodeListSource, NoCodeLists};
pub use hundesteuer::hundesteuer;
pub use json_schema::json_schema;
pub use model::*;
pub use validate::{FieldError, validate};
pub use xdf::{ImportError, Imported, export_xdf3, import};
pub use xml_export::{XmlExportError, to_xml, xsd};
