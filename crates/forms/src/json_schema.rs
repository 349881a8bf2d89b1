//! JSON Schema (draft 2020-12) of the submissions of a form; see the data contract in the crate
//! documentation. [`crate::validate::validate`] implements the same rules natively.

use crate::model::{DataType, Element, Field, FieldKind, Form};
use serde_json::{Map, Value, json};

/// Pattern of a date value (`YYYY-MM-DD`), besides `format: date`.
pub const DATE_PATTERN: &str = "^[0-9]{4}-[0-9]{2}-[0-9]{2}$";
/// Pattern of a time value (`hh:mm` or `hh:mm:ss`).
pub const TIME_PATTERN: &str = "^([01][0-9]|2[0-3]):[0-5][0-9](:[0-5][0-9])?$";
/// Pattern of a date-time value (`YYYY-MM-DDThh:mm[:ss[.f]]` with optional zone).
pub const DATETIME_PATTERN: &str = "^[0-9]{4}-[0-9]{2}-[0-9]{2}T([01][0-9]|2[0-3]):[0-5][0-9](:[0-5][0-9](\\.[0-9]+)?)?(Z|[+-][0-9]{2}:[0-9]{2})?$";

/// The id of the JSON Schema and the XML namespace of a form's submissions.
pub fn schema_uri(form: &Form) -> String {
    format!("urn:rathaus:forms:{}:{}", form.id, form.version)
}

/// The anchored form of a FIM pattern (FIM patterns match the whole value, as in XML Schema).
pub fn anchored(pattern: &str) -> String {
    format!("^(?:{pattern})$")
}

/// Parses a numeric bound as a JSON number (integer if it is one).
pub(crate) fn number_bound(text: &str) -> Option<serde_json::Number> {
    let t = text.trim();
    if let Ok(i) = t.parse::<i64>() {
        return Some(i.into());
    }
    t.parse::<f64>().ok().and_then(serde_json::Number::from_f64)
}

/// The JSON Schema 2020-12 of the submissions of `form`.
pub fn json_schema(form: &Form) -> Value {
    let mut root = Map::new();
    root.insert(
        "$schema".into(),
        json!("https://json-schema.org/draft/2020-12/schema"),
    );
    root.insert("$id".into(), json!(schema_uri(form)));
    root.insert("title".into(), json!(form.title));
    if let Some(d) = &form.description {
        root.insert("description".into(), json!(d));
    }
    root.extend(object_schema(&form.elements));
    Value::Object(root)
}

fn object_schema(children: &[Element]) -> Map<String, Value> {
    let mut props = Map::new();
    let mut required = Vec::new();
    let mut conditions = Vec::new();
    for e in children.iter().filter(|e| e.has_data()) {
        props.insert(e.id().to_string(), element_schema(e));
        match e.condition() {
            None => {
                if e.min() >= 1 {
                    required.push(json!(e.id()));
                }
            }
            Some(c) => {
                let then = if e.min() >= 1 {
                    json!({ "required": [e.id()] })
                } else {
                    json!({})
                };
                conditions.push(json!({
                    "if": {
                        "properties": { (c.field.clone()): { "const": c.equals } },
                        "required": [c.field]
                    },
                    "then": then,
                    "else": { "not": { "required": [e.id()] } }
                }));
            }
        }
    }
    let mut m = Map::new();
    m.insert("type".into(), json!("object"));
    m.insert("properties".into(), Value::Object(props));
    if !required.is_empty() {
        m.insert("required".into(), Value::Array(required));
    }
    m.insert("additionalProperties".into(), json!(false));
    if !conditions.is_empty() {
        m.insert("allOf".into(), Value::Array(conditions));
    }
    m
}

fn element_schema(e: &Element) -> Value {
    let (mut single, label, help) = match e {
        Element::Group(g) => (Value::Object(object_schema(&g.children)), &g.label, &g.help),
        Element::Field(f) => (value_schema(f), &f.label, &f.help),
    };
    let annotate = |m: &mut Map<String, Value>| {
        m.insert("title".into(), json!(label));
        if let Some(h) = help {
            m.insert("description".into(), json!(h));
        }
    };
    if !e.is_repeated() {
        if let Value::Object(m) = &mut single {
            annotate(m);
        }
        return single;
    }
    let mut m = Map::new();
    annotate(&mut m);
    m.insert("type".into(), json!("array"));
    m.insert("items".into(), single);
    m.insert("minItems".into(), json!(e.min()));
    if let Some(max) = e.max() {
        m.insert("maxItems".into(), json!(max));
    }
    Value::Object(m)
}

fn value_schema(f: &Field) -> Value {
    let mut m = Map::new();
    if let (FieldKind::Select, Some(cl)) = (f.kind, &f.code_list) {
        m.insert("type".into(), json!("string"));
        m.insert(
            "enum".into(),
            Value::Array(cl.values.iter().map(|v| json!(v.code)).collect()),
        );
        return Value::Object(m);
    }
    let c = &f.constraints;
    match f.datatype {
        DataType::Text | DataType::TextLatin => {
            m.insert("type".into(), json!("string"));
            if let Some(n) = c.min_length {
                m.insert("minLength".into(), json!(n));
            }
            if let Some(n) = c.max_length {
                m.insert("maxLength".into(), json!(n));
            }
            if let Some(p) = &c.pattern {
                m.insert("pattern".into(), json!(anchored(p)));
            }
        }
        DataType::Date => {
            m.insert("type".into(), json!("string"));
            m.insert("format".into(), json!("date"));
            m.insert("pattern".into(), json!(DATE_PATTERN));
        }
        DataType::Time => {
            m.insert("type".into(), json!("string"));
            m.insert("pattern".into(), json!(TIME_PATTERN));
        }
        DataType::DateTime => {
            m.insert("type".into(), json!("string"));
            m.insert("pattern".into(), json!(DATETIME_PATTERN));
        }
        DataType::Bool => {
            m.insert("type".into(), json!("boolean"));
        }
        DataType::Number | DataType::Currency | DataType::Integer => {
            let t = if f.datatype == DataType::Integer {
                "integer"
            } else {
                "number"
            };
            m.insert("type".into(), json!(t));
            if let Some(n) = c.min_value.as_deref().and_then(number_bound) {
                m.insert("minimum".into(), Value::Number(n));
            }
            if let Some(n) = c.max_value.as_deref().and_then(number_bound) {
                m.insert("maximum".into(), Value::Number(n));
            }
        }
        DataType::File | DataType::Object => {
            m.insert("type".into(), json!("string"));
        }
    }
    Value::Object(m)
}
