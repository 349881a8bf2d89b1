//! Reading a posted form page back into submission data (JSON keyed by FIM ids).
//!
//! Values are converted by the field's data type where that is unambiguous (`1,5` → 1.5,
//! `true` → true); what cannot be converted stays as typed, so validation reports it next to the
//! field and the page shows it again as entered.

use super::fields::join;
use rathaus_forms::{DataType, Element, Field, FieldKind, Form};
use serde_json::{Map, Value};
use std::collections::BTreeMap;

/// The text values of a post by name (a name may come more than once).
pub type Posted = BTreeMap<String, Vec<String>>;

fn first<'a>(posted: &'a Posted, name: &str) -> Option<&'a str> {
    posted.get(name).and_then(|v| v.first()).map(String::as_str)
}

fn count(posted: &Posted, path: &str) -> usize {
    first(posted, &format!("anzahl:{path}"))
        .and_then(|n| n.trim().parse::<usize>().ok())
        .unwrap_or(0)
        .min(1000)
}

/// Merges the values posted for `list` (the elements shown on a page) into `target`, the data
/// object of that level. Elements not on the page keep their data.
pub fn merge(list: &[&Element], prefix: &str, posted: &Posted, target: &mut Map<String, Value>) {
    for e in list {
        if !e.has_data() {
            continue;
        }
        let path = join(prefix, e.id());
        match e {
            Element::Group(g) if e.is_repeated() => {
                let children: Vec<&Element> = g.children.iter().collect();
                let before = target
                    .get(e.id())
                    .and_then(Value::as_array)
                    .cloned()
                    .unwrap_or_default();
                let mut items = Vec::new();
                for i in 0..count(posted, &path) {
                    let mut obj = before
                        .get(i)
                        .and_then(Value::as_object)
                        .cloned()
                        .unwrap_or_default();
                    merge(&children, &format!("{path}[{i}]"), posted, &mut obj);
                    if !obj.is_empty() || i < g.min as usize {
                        items.push(Value::Object(obj));
                    }
                }
                set(
                    target,
                    e.id(),
                    (!items.is_empty()).then_some(Value::Array(items)),
                );
            }
            Element::Group(g) => {
                let children: Vec<&Element> = g.children.iter().collect();
                let mut obj = target
                    .get(e.id())
                    .and_then(Value::as_object)
                    .cloned()
                    .unwrap_or_default();
                merge(&children, &path, posted, &mut obj);
                let keep = !obj.is_empty() || g.min >= 1;
                set(target, e.id(), keep.then_some(Value::Object(obj)));
            }
            Element::Field(f) if e.is_repeated() => {
                let items: Vec<Value> = (0..count(posted, &path))
                    .filter_map(|i| {
                        first(posted, &format!("{path}[{i}]")).and_then(|raw| typed(f, raw))
                    })
                    .collect();
                set(
                    target,
                    e.id(),
                    (!items.is_empty()).then_some(Value::Array(items)),
                );
            }
            Element::Field(f) => {
                let value = match f.kind {
                    FieldKind::Hidden => f.content.as_deref().and_then(|c| typed(f, c)),
                    // A locked field keeps its default; the browser does not send disabled inputs.
                    FieldKind::Locked => f.content.as_deref().and_then(|c| typed(f, c)),
                    _ => first(posted, &path).and_then(|raw| typed(f, raw)),
                };
                set(target, e.id(), value);
            }
        }
    }
}

fn set(target: &mut Map<String, Value>, key: &str, value: Option<Value>) {
    match value {
        Some(v) => {
            target.insert(key.to_owned(), v);
        }
        None => {
            target.remove(key);
        }
    }
}

/// The JSON value of an entered text for a field; `None` if empty.
pub fn typed(f: &Field, raw: &str) -> Option<Value> {
    let t = raw.trim();
    if t.is_empty() {
        return None;
    }
    if f.code_list.is_some() {
        return Some(Value::String(t.to_owned()));
    }
    Some(match f.datatype {
        DataType::Bool => match t {
            "true" | "ja" | "Ja" => Value::Bool(true),
            "false" | "nein" | "Nein" => Value::Bool(false),
            _ => Value::String(t.to_owned()),
        },
        DataType::Integer => t
            .parse::<i64>()
            .map(Value::from)
            .unwrap_or_else(|_| Value::String(t.to_owned())),
        DataType::Number | DataType::Currency => decimal(t)
            .and_then(serde_json::Number::from_f64)
            .map(Value::Number)
            .unwrap_or_else(|| Value::String(t.to_owned())),
        _ => Value::String(t.to_owned()),
    })
}

/// A decimal number as people type it in Germany (`1.234,5`, `1234,5`) or with a point.
fn decimal(t: &str) -> Option<f64> {
    let t = t.trim_end_matches('€').trim();
    let normalised = if t.contains(',') {
        t.replace(['.', ' '], "").replace(',', ".")
    } else {
        t.to_owned()
    };
    normalised.parse::<f64>().ok().filter(|x| x.is_finite())
}

/// Applies a repetition button: `plus:PATH` appends an empty instance to the element at PATH,
/// `minus:PATH[i]` removes instance i. Returns false if the path does not name a repetition.
pub fn apply_repetition(form: &Form, data: &mut Value, action: &str) -> bool {
    if let Some(path) = action.strip_prefix("plus:") {
        let Some(element) = element_at(form, path).filter(|e| e.is_repeated()) else {
            return false;
        };
        let empty = match element {
            Element::Group(_) => Value::Object(Map::new()),
            Element::Field(_) => Value::Null,
        };
        if let Some(slot) = slot(data, path, true) {
            if !slot.is_array() {
                *slot = Value::Array(Vec::new());
            }
            if let Value::Array(items) = slot {
                items.push(empty);
            }
            return true;
        }
        return false;
    }
    if let Some(path) = action.strip_prefix("minus:")
        && let Some((base, index)) = split_index(path)
        && let Some(Value::Array(items)) = slot(data, base, false)
        && index < items.len()
    {
        items.remove(index);
        return true;
    }
    false
}

/// The element a data path names (indices ignored).
pub fn element_at<'a>(form: &'a Form, path: &str) -> Option<&'a Element> {
    let mut level: &[Element] = &form.elements;
    let mut found = None;
    for segment in path.split('/') {
        let id = split_index(segment).map_or(segment, |(id, _)| id);
        let e = level.iter().find(|e| e.id() == id)?;
        level = match e {
            Element::Group(g) => &g.children,
            Element::Field(_) => &[],
        };
        found = Some(e);
    }
    found
}

/// Removes what the page machinery leaves in data but is no submission value: `null`s from
/// repetition buttons and empty objects in arrays.
pub fn prune(value: &mut Value) {
    match value {
        Value::Object(map) => {
            map.retain(|_, v| !v.is_null());
            for v in map.values_mut() {
                prune(v);
            }
        }
        Value::Array(items) => {
            items.retain(|v| !v.is_null() && v.as_object().is_none_or(|o| !o.is_empty()));
            for v in items.iter_mut() {
                prune(v);
            }
        }
        _ => {}
    }
}

/// Splits `PATH[i]` into (`PATH`, i).
fn split_index(path: &str) -> Option<(&str, usize)> {
    let open = path.rfind('[')?;
    let index = path[open + 1..].strip_suffix(']')?.parse().ok()?;
    Some((&path[..open], index))
}

/// The slot of the data at `path` (segments `id` or `id[i]`), created if `create`.
pub fn slot<'a>(data: &'a mut Value, path: &str, create: bool) -> Option<&'a mut Value> {
    let mut here = data;
    for segment in path.split('/') {
        let (id, index) = match split_index(segment) {
            Some((id, i)) => (id, Some(i)),
            None => (segment, None),
        };
        if !here.is_object() {
            if !create {
                return None;
            }
            *here = Value::Object(Map::new());
        }
        let obj = here.as_object_mut()?;
        if !obj.contains_key(id) {
            if !create {
                return None;
            }
            obj.insert(id.to_owned(), Value::Null);
        }
        here = obj.get_mut(id)?;
        if let Some(i) = index {
            here = here.as_array_mut()?.get_mut(i)?;
        }
    }
    Some(here)
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn form() -> rathaus_forms::Form {
        serde_json::from_value(json!({
            "id": "S1", "version": "1", "name": "t", "title": "T",
            "elements": [
                {"type": "group", "id": "G1", "version": "1", "name": "p", "label": "Person", "min": 1, "max": 1, "children": [
                    {"type": "field", "id": "F1", "version": "1", "name": "n", "label": "Name", "kind": "input", "datatype": "text", "min": 1, "max": 1},
                    {"type": "field", "id": "F2", "version": "1", "name": "a", "label": "Alter", "kind": "input", "datatype": "integer", "min": 0, "max": 1}
                ]},
                {"type": "group", "id": "G2", "version": "1", "name": "h", "label": "Hund", "min": 1, "max": 3, "children": [
                    {"type": "field", "id": "F3", "version": "1", "name": "r", "label": "Gewicht", "kind": "input", "datatype": "number", "min": 0, "max": 1},
                    {"type": "field", "id": "F4", "version": "1", "name": "g", "label": "Gefährlich", "kind": "input", "datatype": "bool", "min": 1, "max": 1}
                ]},
                {"type": "field", "id": "F5", "version": "1", "name": "t", "label": "Telefon", "kind": "input", "datatype": "text", "min": 0, "max": 2}
            ]
        }))
        .expect("form")
    }

    fn posted(pairs: &[(&str, &str)]) -> Posted {
        let mut p = Posted::new();
        for (k, v) in pairs {
            p.entry((*k).to_owned()).or_default().push((*v).to_owned());
        }
        p
    }

    #[test]
    fn posted_values_become_typed_data() {
        let f = form();
        let list: Vec<&Element> = f.elements.iter().collect();
        let mut data = Map::new();
        merge(
            &list,
            "",
            &posted(&[
                ("G1/F1", " Erika "),
                ("G1/F2", "zwölf"),
                ("anzahl:G2", "2"),
                ("G2[0]/F3", "12,5"),
                ("G2[0]/F4", "false"),
                ("G2[1]/F3", ""),
                ("G2[1]/F4", ""),
                ("anzahl:F5", "2"),
                ("F5[0]", ""),
                ("F5[1]", "0221 123"),
            ]),
            &mut data,
        );
        assert_eq!(
            Value::Object(data),
            json!({
                "G1": {"F1": "Erika", "F2": "zwölf"},
                "G2": [{"F3": 12.5, "F4": false}],
                "F5": ["0221 123"]
            }),
            "text trimmed, unparsable number kept as typed, empty optional instance dropped"
        );
    }

    #[test]
    fn repetition_buttons() {
        let f = form();
        let mut data = json!({"G2": [{"F3": 1.0}]});
        assert!(apply_repetition(&f, &mut data, "plus:G2"));
        assert_eq!(data["G2"].as_array().map(Vec::len), Some(2));
        assert!(apply_repetition(&f, &mut data, "plus:F5"));
        assert_eq!(data["F5"], json!([null]));
        assert!(
            !apply_repetition(&f, &mut data, "plus:G1"),
            "G1 is not repeated"
        );
        assert!(apply_repetition(&f, &mut data, "minus:G2[0]"));
        assert_eq!(data, json!({"G2": [{}], "F5": [null]}));
        assert!(!apply_repetition(&f, &mut data, "minus:G2[5]"));
        assert!(!apply_repetition(&f, &mut data, "minus:G9[0]"));
        prune(&mut data);
        assert_eq!(data, json!({"G2": [], "F5": []}));
        assert_eq!(decimal("1.234,50 €"), Some(1234.5));
        assert_eq!(decimal("1e400"), None);
    }
}
