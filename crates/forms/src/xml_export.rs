//! XML of submissions: an XML Schema per form ([`xsd`]) and the conversion of a JSON submission
//! into XML ([`to_xml`]).
//!
//! Elements are named by the element ids (without version) in the namespace
//! `urn:rathaus:forms:{form id}:{version}`; the root element is named by the form id. Children
//! follow the form order; a repeated element occurs once per array entry. Conditional elements
//! are optional in the XSD (XML Schema 1.0 cannot express "required if"), so the XSD is
//! slightly weaker than the JSON Schema for conditions; everything else (cardinalities, types,
//! lengths, patterns, codes, bounds) is checked the same way. XML has no JSON types: a JSON
//! string `"true"` for a boolean or `"42"` for a number becomes the same XML text as `true` or
//! `42`, so only the JSON side can refuse it.

use crate::json_schema::schema_uri;
use crate::model::{DataType, Element, Field, FieldKind, Form};
use crate::xml::escape;
use serde_json::Value;
use std::fmt::Write;
use thiserror::Error;

/// Why a submission cannot be written as XML (its shape does not fit the form).
#[derive(Debug, Error, Clone, PartialEq, Eq)]
pub enum XmlExportError {
    /// A group (or the submission) is not a JSON object.
    #[error("{path}: hier wird ein Objekt erwartet.")]
    NotAnObject {
        /// Path (see [`crate::validate::FieldError::field`]).
        path: String,
    },
    /// A key that is no element of the form.
    #[error("{path}: dieses Formular enthält kein solches Feld.")]
    UnknownKey {
        /// Path.
        path: String,
    },
    /// A repeated element is not an array.
    #[error("{path}: hier wird eine Liste erwartet.")]
    NotAList {
        /// Path.
        path: String,
    },
    /// A field value is an object, an array or null.
    #[error("{path}: hier wird ein einzelner Wert erwartet.")]
    NotAValue {
        /// Path.
        path: String,
    },
}

fn join(path: &str, id: &str) -> String {
    if path.is_empty() {
        id.to_string()
    } else {
        format!("{path}/{id}")
    }
}

/// The XML Schema of the submissions of `form`.
pub fn xsd(form: &Form) -> String {
    let mut out = String::new();
    let ns = escape(&schema_uri(form));
    let _ = write!(
        out,
        "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<xs:schema xmlns:xs=\"http://www.w3.org/2001/XMLSchema\" targetNamespace=\"{ns}\" xmlns=\"{ns}\" elementFormDefault=\"qualified\">\n<xs:element name=\"{}\"><xs:complexType><xs:sequence>\n",
        escape(&form.id)
    );
    xsd_children(&form.elements, &mut out);
    out.push_str("</xs:sequence></xs:complexType></xs:element>\n</xs:schema>\n");
    out
}

fn xsd_children(children: &[Element], out: &mut String) {
    for e in children.iter().filter(|e| e.has_data()) {
        let min = if e.condition().is_some() { 0 } else { e.min() };
        let max = match e.max() {
            Some(m) => m.to_string(),
            None => "unbounded".into(),
        };
        let _ = write!(
            out,
            "<xs:element name=\"{}\" minOccurs=\"{min}\" maxOccurs=\"{max}\">",
            escape(e.id())
        );
        match e {
            Element::Group(g) => {
                out.push_str("<xs:complexType><xs:sequence>\n");
                xsd_children(&g.children, out);
                out.push_str("</xs:sequence></xs:complexType>");
            }
            Element::Field(f) => xsd_simple_type(f, out),
        }
        out.push_str("</xs:element>\n");
    }
}

fn facet(out: &mut String, name: &str, value: &str) {
    let _ = write!(out, "<xs:{name} value=\"{}\"/>", escape(value));
}

fn xsd_simple_type(f: &Field, out: &mut String) {
    out.push_str("<xs:simpleType>");
    if let (FieldKind::Select, Some(cl)) = (f.kind, &f.code_list) {
        out.push_str("<xs:restriction base=\"xs:string\">");
        for v in &cl.values {
            facet(out, "enumeration", &v.code);
        }
        out.push_str("</xs:restriction></xs:simpleType>");
        return;
    }
    let c = &f.constraints;
    let base = match f.datatype {
        DataType::Text | DataType::TextLatin | DataType::File | DataType::Object => "xs:string",
        DataType::Date => "xs:date",
        DataType::Time => "xs:time",
        DataType::DateTime => "xs:dateTime",
        DataType::Bool => "xs:boolean",
        DataType::Number | DataType::Currency => "xs:decimal",
        DataType::Integer => "xs:integer",
    };
    let _ = write!(out, "<xs:restriction base=\"{base}\">");
    match f.datatype {
        DataType::Text | DataType::TextLatin => {
            if let Some(n) = c.min_length {
                facet(out, "minLength", &n.to_string());
            }
            if let Some(n) = c.max_length {
                facet(out, "maxLength", &n.to_string());
            }
            if let Some(p) = &c.pattern {
                facet(out, "pattern", p);
            }
        }
        DataType::Date => facet(out, "pattern", "[0-9]{4}-[0-9]{2}-[0-9]{2}"),
        DataType::Time => facet(out, "pattern", "[0-9]{2}:[0-9]{2}(:[0-9]{2})?"),
        // to_xml writes JSON booleans as true/false; 1/0 come only from numbers.
        DataType::Bool => facet(out, "pattern", "true|false"),
        DataType::Number | DataType::Currency | DataType::Integer => {
            use crate::json_schema::number_bound;
            if let Some(n) = c.min_value.as_deref().and_then(number_bound) {
                facet(out, "minInclusive", &decimal(&n));
            }
            if let Some(n) = c.max_value.as_deref().and_then(number_bound) {
                facet(out, "maxInclusive", &decimal(&n));
            }
        }
        _ => {}
    }
    out.push_str("</xs:restriction></xs:simpleType>");
}

/// A JSON number in XML Schema decimal notation (no exponent).
fn decimal(n: &serde_json::Number) -> String {
    if n.is_i64() || n.is_u64() {
        n.to_string()
    } else {
        n.as_f64().map(|f| format!("{f}")).unwrap_or_default()
    }
}

/// Writes a submission as XML (namespace and names as in [`xsd`]). The data is not validated
/// here (use [`crate::validate::validate`]); only data whose shape does not fit the form is
/// refused.
pub fn to_xml(form: &Form, data: &Value) -> Result<String, XmlExportError> {
    let mut out = String::new();
    let _ = write!(
        out,
        "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<{} xmlns=\"{}\">",
        escape(&form.id),
        escape(&schema_uri(form))
    );
    xml_children(&form.elements, data, "", &mut out)?;
    let _ = writeln!(out, "</{}>", escape(&form.id));
    Ok(out)
}

fn xml_children(
    children: &[Element],
    value: &Value,
    path: &str,
    out: &mut String,
) -> Result<(), XmlExportError> {
    let obj = value
        .as_object()
        .ok_or_else(|| XmlExportError::NotAnObject {
            path: path.to_string(),
        })?;
    for key in obj.keys() {
        if !children.iter().any(|e| e.has_data() && e.id() == key) {
            return Err(XmlExportError::UnknownKey {
                path: join(path, key),
            });
        }
    }
    for e in children.iter().filter(|e| e.has_data()) {
        let Some(v) = obj.get(e.id()) else { continue };
        let here = join(path, e.id());
        if e.is_repeated() {
            let items = v
                .as_array()
                .ok_or_else(|| XmlExportError::NotAList { path: here.clone() })?;
            for (i, item) in items.iter().enumerate() {
                xml_element(e, item, &format!("{here}[{i}]"), out)?;
            }
        } else {
            xml_element(e, v, &here, out)?;
        }
    }
    Ok(())
}

fn xml_element(e: &Element, v: &Value, path: &str, out: &mut String) -> Result<(), XmlExportError> {
    let name = escape(e.id());
    let _ = write!(out, "<{name}>");
    match e {
        Element::Group(g) => xml_children(&g.children, v, path, out)?,
        Element::Field(_) => {
            let text = match v {
                Value::String(s) => s.clone(),
                Value::Bool(b) => b.to_string(),
                Value::Number(n) => decimal(n),
                _ => {
                    return Err(XmlExportError::NotAValue {
                        path: path.to_string(),
                    });
                }
            };
            out.push_str(&escape(&text));
        }
    }
    let _ = write!(out, "</{name}>");
    Ok(())
}
