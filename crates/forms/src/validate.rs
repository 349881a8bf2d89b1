//! Native validation of a submission against its form, with German messages per field. It
//! accepts exactly what [`crate::json_schema::json_schema`] accepts (tested on the samples).

use crate::json_schema::{DATE_PATTERN, DATETIME_PATTERN, TIME_PATTERN, anchored, number_bound};
use crate::model::{DataType, Element, Field, FieldKind, Form};
use regex::Regex;
use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};
use std::sync::OnceLock;

/// A problem with one field (or group) of a submission.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct FieldError {
    /// Path of the element: ids joined by `/`, entries of arrays with a 0-based index in
    /// brackets, e.g. `G60000001/F60000227` or `G60000001[2]/F60000227`; empty for the whole
    /// submission.
    pub field: String,
    /// What is wrong, in German, for citizens.
    pub message: String,
}

/// Validates `data` against `form`; returns every offending field.
pub fn validate(form: &Form, data: &Value) -> Result<(), Vec<FieldError>> {
    let mut errors = Vec::new();
    validate_object(&form.elements, data, "", &mut errors);
    if errors.is_empty() {
        Ok(())
    } else {
        Err(errors)
    }
}

fn join(path: &str, id: &str) -> String {
    if path.is_empty() {
        id.to_string()
    } else {
        format!("{path}/{id}")
    }
}

fn err(errors: &mut Vec<FieldError>, field: &str, message: impl Into<String>) {
    errors.push(FieldError {
        field: field.to_string(),
        message: message.into(),
    });
}

/// True if the element is shown, given the other values of its object.
pub fn is_visible(e: &Element, object: &Map<String, Value>) -> bool {
    e.condition()
        .is_none_or(|c| object.get(&c.field) == Some(&c.equals))
}

fn validate_object(children: &[Element], value: &Value, path: &str, errors: &mut Vec<FieldError>) {
    let Some(obj) = value.as_object() else {
        err(
            errors,
            path,
            "Die Angaben müssen ein Objekt mit Feldern sein.",
        );
        return;
    };
    for key in obj.keys() {
        if !children.iter().any(|e| e.has_data() && e.id() == key) {
            err(
                errors,
                &join(path, key),
                "Unbekanntes Feld: dieses Formular enthält es nicht.",
            );
        }
    }
    for e in children.iter().filter(|e| e.has_data()) {
        let here = join(path, e.id());
        let present = obj.get(e.id());
        if !is_visible(e, obj) {
            if present.is_some() {
                err(
                    errors,
                    &here,
                    "Dieses Feld ist ausgeblendet und darf nicht ausgefüllt werden.",
                );
            }
            continue;
        }
        let Some(v) = present else {
            if e.min() >= 1 {
                err(errors, &here, "Pflichtfeld: bitte ausfüllen.");
            }
            continue;
        };
        if e.is_repeated() {
            let Some(items) = v.as_array() else {
                err(errors, &here, "Hier wird eine Liste von Angaben erwartet.");
                continue;
            };
            if (items.len() as u64) < u64::from(e.min()) {
                err(errors, &here, format!("Mindestens {} Einträge.", e.min()));
            }
            if let Some(max) = e.max()
                && items.len() as u64 > u64::from(max)
            {
                err(errors, &here, format!("Höchstens {max} Einträge."));
            }
            for (i, item) in items.iter().enumerate() {
                validate_single(e, item, &format!("{here}[{i}]"), errors);
            }
        } else {
            validate_single(e, v, &here, errors);
        }
    }
}

fn validate_single(e: &Element, v: &Value, path: &str, errors: &mut Vec<FieldError>) {
    match e {
        Element::Group(g) => validate_object(&g.children, v, path, errors),
        Element::Field(f) => {
            if let Err(message) = check_value(f, v) {
                err(errors, path, message);
            }
        }
    }
}

fn re(cell: &'static OnceLock<Regex>, pattern: &str) -> &'static Regex {
    cell.get_or_init(|| Regex::new(pattern).unwrap_or_else(|_| unreachable!("valid constant")))
}

/// True for a real calendar date `YYYY-MM-DD`.
pub fn is_date(s: &str) -> bool {
    static DATE: OnceLock<Regex> = OnceLock::new();
    if !re(&DATE, DATE_PATTERN).is_match(s) {
        return false;
    }
    let (Ok(y), Ok(m), Ok(d)) = (
        s[0..4].parse::<u32>(),
        s[5..7].parse::<u32>(),
        s[8..10].parse::<u32>(),
    ) else {
        return false;
    };
    let leap = (y % 4 == 0 && y % 100 != 0) || y % 400 == 0;
    let days = match m {
        1 | 3 | 5 | 7 | 8 | 10 | 12 => 31,
        4 | 6 | 9 | 11 => 30,
        2 if leap => 29,
        2 => 28,
        _ => return false,
    };
    y >= 1 && d >= 1 && d <= days
}

/// Checks one value of a field; `Err` carries the German message.
pub fn check_value(f: &Field, v: &Value) -> Result<(), String> {
    static TIME: OnceLock<Regex> = OnceLock::new();
    static DATETIME: OnceLock<Regex> = OnceLock::new();
    if let (FieldKind::Select, Some(cl)) = (f.kind, &f.code_list) {
        let Some(s) = v.as_str() else {
            return Err("Bitte einen Eintrag aus der Liste wählen.".into());
        };
        if !cl.values.iter().any(|c| c.code == s) {
            return Err(format!(
                "Ungültige Auswahl „{s}“: bitte einen Eintrag aus der Liste wählen."
            ));
        }
        return Ok(());
    }
    let c = &f.constraints;
    match f.datatype {
        DataType::Text | DataType::TextLatin => {
            let s = v.as_str().ok_or("Bitte einen Text angeben.")?;
            let n = s.chars().count() as u64;
            if let Some(min) = c.min_length
                && n < u64::from(min)
            {
                return Err(if min == 1 {
                    "Pflichtfeld: bitte ausfüllen.".into()
                } else {
                    format!("Mindestens {min} Zeichen.")
                });
            }
            if let Some(max) = c.max_length
                && n > u64::from(max)
            {
                return Err(format!("Höchstens {max} Zeichen."));
            }
            if let Some(p) = &c.pattern {
                let ok = Regex::new(&anchored(p)).map(|r| r.is_match(s));
                if ok != Ok(true) {
                    return Err("Die Angabe hat nicht das erwartete Format.".into());
                }
            }
            Ok(())
        }
        DataType::Date => match v.as_str() {
            Some(s) if is_date(s) => Ok(()),
            _ => Err("Bitte ein gültiges Datum im Format JJJJ-MM-TT angeben.".into()),
        },
        DataType::Time => match v.as_str() {
            Some(s) if re(&TIME, TIME_PATTERN).is_match(s) => Ok(()),
            _ => Err("Bitte eine Uhrzeit im Format hh:mm angeben.".into()),
        },
        DataType::DateTime => match v.as_str() {
            Some(s) if re(&DATETIME, DATETIME_PATTERN).is_match(s) => Ok(()),
            _ => Err("Bitte einen Zeitpunkt im Format JJJJ-MM-TThh:mm angeben.".into()),
        },
        DataType::Bool => v
            .is_boolean()
            .then_some(())
            .ok_or_else(|| "Bitte ja oder nein angeben.".into()),
        DataType::Number | DataType::Currency | DataType::Integer => {
            let Some(x) = v.as_f64() else {
                return Err(if f.datatype == DataType::Integer {
                    "Bitte eine ganze Zahl angeben.".into()
                } else {
                    "Bitte eine Zahl angeben.".into()
                });
            };
            if f.datatype == DataType::Integer && !(v.is_i64() || v.is_u64() || x.fract() == 0.0) {
                return Err("Bitte eine ganze Zahl angeben.".into());
            }
            if let Some(min) = c.min_value.as_deref().and_then(number_bound)
                && let Some(m) = min.as_f64()
                && x < m
            {
                return Err(format!("Der Wert muss mindestens {min} betragen."));
            }
            if let Some(max) = c.max_value.as_deref().and_then(number_bound)
                && let Some(m) = max.as_f64()
                && x > m
            {
                return Err(format!("Der Wert darf höchstens {max} betragen."));
            }
            Ok(())
        }
        DataType::File => v
            .is_string()
            .then_some(())
            .ok_or_else(|| "Bitte eine Datei (Referenz) angeben.".into()),
        DataType::Object => v
            .is_string()
            .then_some(())
            .ok_or_else(|| "Bitte eine Referenz angeben.".into()),
    }
}
