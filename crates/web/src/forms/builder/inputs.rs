//! The builder's HTML forms as entered: kept as text so that a page shown again after an error
//! holds exactly what was typed, and applied to the model only when everything parses.

use super::edit::{self, MEDIA_TYPES};
use rathaus_forms::{
    CodeList, Condition, DataType, Element, Fee, Field, FieldKind, Form, Step, TrustLevel,
};
use serde_json::Value;

/// A posted `application/x-www-form-urlencoded` body (repeated names allowed).
pub struct Posted(pub Vec<(String, String)>);

impl Posted {
    /// The first value of `name`, or `""`.
    pub fn get(&self, name: &str) -> &str {
        self.0
            .iter()
            .find(|(k, _)| k == name)
            .map_or("", |(_, v)| v.as_str())
    }

    /// Every value of `name`.
    pub fn all(&self, name: &str) -> Vec<&str> {
        self.0
            .iter()
            .filter(|(k, _)| k == name)
            .map(|(_, v)| v.as_str())
            .collect()
    }
}

/// The element form as entered.
#[derive(Clone, Debug, Default)]
pub struct ElementInput {
    /// Path of the element.
    pub path: String,
    /// Whether it is a group.
    pub group: bool,
    pub label: String,
    pub help: String,
    pub required: bool,
    /// `einmal`, `mehrfach` or `unbegrenzt`.
    pub repeat: String,
    pub max_count: String,
    /// Builder kind (see [`edit::KINDS`]); empty keeps an imported field's type.
    pub kind: String,
    pub min_length: String,
    pub max_length: String,
    pub min_value: String,
    pub max_value: String,
    pub pattern: String,
    pub values: String,
    pub media: Vec<String>,
    pub max_mb: String,
    pub cond_field: String,
    pub cond_value: String,
    pub prefill: String,
}

fn opt_text(v: Option<&str>) -> String {
    v.unwrap_or_default().to_owned()
}

fn opt_num<T: ToString>(v: Option<T>) -> String {
    v.map(|n| n.to_string()).unwrap_or_default()
}

impl ElementInput {
    /// The form for an element of the model.
    pub fn from_element(path: &str, e: &Element) -> Self {
        let (repeat, max_count) = match e.max() {
            Some(1) | Some(0) => ("einmal", String::new()),
            Some(n) => ("mehrfach", n.to_string()),
            None => ("unbegrenzt", String::new()),
        };
        let (cond_field, cond_value) = match e.condition() {
            Some(c) => (
                c.field.clone(),
                match &c.equals {
                    Value::String(s) => s.clone(),
                    Value::Bool(true) => "ja".into(),
                    Value::Bool(false) => "nein".into(),
                    other => other.to_string(),
                },
            ),
            None => (String::new(), String::new()),
        };
        let mut input = Self {
            path: path.to_owned(),
            group: matches!(e, Element::Group(_)),
            label: e.label().to_owned(),
            required: e.min() >= 1,
            repeat: repeat.into(),
            max_count,
            cond_field,
            cond_value,
            ..Self::default()
        };
        match e {
            Element::Group(g) => input.help = opt_text(g.help.as_deref()),
            Element::Field(f) => {
                let c = &f.constraints;
                input.help = opt_text(f.help.as_deref());
                input.kind = edit::kind_of(f).unwrap_or_default().to_owned();
                input.min_length = opt_num(c.min_length);
                input.max_length = opt_num(c.max_length);
                input.min_value = opt_text(c.min_value.as_deref());
                input.max_value = opt_text(c.max_value.as_deref());
                input.pattern = opt_text(c.pattern.as_deref());
                input.values = edit::values_text(f.code_list.as_ref());
                input.media = f.media_types.clone();
                input.max_mb = f
                    .max_size
                    .map(|b| format_mb(b as f64 / 1_048_576.0))
                    .unwrap_or_default();
                input.prefill = f.prefill.map(edit::prefill_key).unwrap_or("").to_owned();
            }
        }
        input
    }

    /// The form as posted.
    pub fn from_posted(p: &Posted) -> Self {
        let s = |k: &str| p.get(k).to_owned();
        Self {
            path: s("pfad"),
            group: p.get("gruppe") == "ja",
            label: s("bezeichnung"),
            help: s("hilfe"),
            required: p.get("pflicht") == "ja",
            repeat: s("wiederholung"),
            max_count: s("hoechstanzahl"),
            kind: s("art"),
            min_length: s("min_laenge"),
            max_length: s("max_laenge"),
            min_value: s("min_wert"),
            max_value: s("max_wert"),
            pattern: s("muster"),
            values: s("werte"),
            media: p.all("dateityp").into_iter().map(str::to_owned).collect(),
            max_mb: s("max_mb"),
            cond_field: s("bedingung_feld"),
            cond_value: s("bedingung_wert"),
            prefill: s("vorbelegung"),
        }
    }

    /// Writes the entries into the element at [`ElementInput::path`]. Parse errors are German
    /// messages; the structural check comes afterwards.
    pub fn apply(&self, form: &mut Form) -> Result<(), Vec<String>> {
        let mut errors = Vec::new();
        let min = u32::from(self.required);
        let max = match self.repeat.as_str() {
            "unbegrenzt" => None,
            "mehrfach" => match self.max_count.trim().parse::<u32>() {
                Ok(n) if n >= 2 => Some(n),
                _ => {
                    errors.push("Höchstanzahl: bitte eine ganze Zahl ab 2 eingeben.".into());
                    Some(2)
                }
            },
            _ => Some(1),
        };
        let siblings = edit::siblings(form, &self.path).to_vec();
        let condition = self.condition(&siblings, &mut errors);
        let Some((list, i)) = edit::locate_mut(form, &self.path) else {
            return Err(vec![
                "Dieses Element gibt es nicht mehr. Bitte laden Sie die Seite neu.".into(),
            ]);
        };
        match &mut list[i] {
            Element::Group(g) => {
                g.label = self.label.trim().to_owned();
                g.name = g.label.clone();
                g.help = non_empty(&self.help);
                g.min = min;
                g.max = max;
                g.condition = condition;
            }
            Element::Field(f) => {
                f.label = self.label.trim().to_owned();
                f.name = f.label.clone();
                f.help = non_empty(&self.help);
                f.min = min;
                f.max = max;
                f.condition = condition;
                self.apply_field(f, &mut errors);
            }
        }
        if errors.is_empty() {
            Ok(())
        } else {
            Err(errors)
        }
    }

    fn condition(&self, siblings: &[Element], errors: &mut Vec<String>) -> Option<Condition> {
        if self.cond_field.is_empty() {
            return None;
        }
        let target = siblings.iter().find_map(|e| match e {
            Element::Field(f) if f.id == self.cond_field => Some(f),
            _ => None,
        });
        let value = self.cond_value.trim();
        if value.is_empty() {
            errors.push("Bedingung: bitte den Wert angeben, bei dem das Element erscheint.".into());
        }
        let equals = match target {
            Some(f) if f.datatype == DataType::Bool => match value.to_lowercase().as_str() {
                "ja" | "true" => Value::Bool(true),
                "nein" | "false" => Value::Bool(false),
                _ => {
                    errors.push(
                        "Bedingung: bei einem Ja/Nein-Feld ist der Wert „ja“ oder „nein“.".into(),
                    );
                    Value::Bool(true)
                }
            },
            Some(f) if f.datatype.is_numeric() => match parse_number(value) {
                Some(n) => n,
                None => {
                    errors.push("Bedingung: bitte eine Zahl als Wert angeben.".into());
                    Value::from(0)
                }
            },
            Some(f) => {
                if let Some(cl) = &f.code_list
                    && !value.is_empty()
                    && !cl.values.iter().any(|v| v.code == value)
                {
                    errors.push(format!(
                        "Bedingung: „{value}“ ist kein Code der Auswahl „{}“ (möglich: {}).",
                        f.label,
                        cl.values
                            .iter()
                            .map(|v| v.code.as_str())
                            .collect::<Vec<_>>()
                            .join(", ")
                    ));
                }
                Value::String(value.to_owned())
            }
            // Left to the structural check, which names the missing field.
            None => Value::String(value.to_owned()),
        };
        Some(Condition {
            field: self.cond_field.clone(),
            equals,
        })
    }

    fn apply_field(&self, f: &mut Field, errors: &mut Vec<String>) {
        let number = |v: &str, label: &str, errors: &mut Vec<String>| -> Option<u32> {
            let v = v.trim();
            if v.is_empty() {
                return None;
            }
            v.parse().map(Some).unwrap_or_else(|_| {
                errors.push(format!("{label}: bitte eine ganze Zahl eingeben."));
                None
            })
        };
        let kind = if self.kind.is_empty() {
            edit::kind_of(f).unwrap_or_default().to_owned()
        } else {
            self.kind.clone()
        };
        if !kind.is_empty() && edit::kind_of(f) != Some(kind.as_str()) {
            if !edit::KINDS.iter().any(|(k, _)| *k == kind) || kind == "adresse" {
                errors.push("Bitte wählen Sie einen gültigen Feldtyp.".into());
                return;
            }
            edit::set_kind(f, &kind);
        }
        f.constraints.min_length = number(&self.min_length, "Mindestlänge", errors);
        f.constraints.max_length = number(&self.max_length, "Höchstlänge", errors);
        f.constraints.pattern = non_empty(&self.pattern);
        let bound = |v: &str, label: &str, errors: &mut Vec<String>| -> Option<String> {
            let v = v.trim();
            if v.is_empty() {
                return None;
            }
            let ok = match f.datatype {
                DataType::Date => is_date(v),
                t if t.is_numeric() => parse_number(v).is_some(),
                _ => true,
            };
            if ok {
                Some(v.replace(',', "."))
            } else if f.datatype == DataType::Date {
                errors.push(format!("{label}: bitte ein Datum wie 2024-12-31 eingeben."));
                None
            } else {
                errors.push(format!("{label}: bitte eine Zahl eingeben."));
                None
            }
        };
        f.constraints.min_value = bound(&self.min_value, "Mindestwert", errors);
        f.constraints.max_value = bound(&self.max_value, "Höchstwert", errors);
        // Constraints that do not apply to the type are dropped (the form shows them all).
        if !f.datatype.is_text() || f.kind == FieldKind::Select {
            f.constraints.min_length = None;
            f.constraints.max_length = None;
            f.constraints.pattern = None;
        }
        if !(f.datatype.is_numeric() || f.datatype == DataType::Date) {
            f.constraints.min_value = None;
            f.constraints.max_value = None;
        }
        if f.kind == FieldKind::Select {
            f.code_list = Some(CodeList {
                urn: f.code_list.take().map(|c| c.urn).unwrap_or_default(),
                version: None,
                values: edit::parse_values(&self.values),
            });
        }
        if f.datatype == DataType::File {
            f.media_types = MEDIA_TYPES
                .iter()
                .filter(|(m, _)| self.media.iter().any(|x| x == m))
                .map(|(m, _)| (*m).to_owned())
                .collect();
            f.max_size = match self.max_mb.trim().replace(',', ".").parse::<f64>() {
                Ok(mb) if mb > 0.0 && mb <= 100.0 => Some((mb * 1_048_576.0).round() as u64),
                _ if self.max_mb.trim().is_empty() => None,
                _ => {
                    errors
                        .push("Höchstgröße: bitte eine Zahl von 0,1 bis 100 (MB) eingeben.".into());
                    None
                }
            };
        }
        f.prefill = if self.prefill.is_empty() {
            None
        } else {
            match edit::prefill_of(&self.prefill) {
                Some(p) => Some(p),
                None => {
                    errors.push("Bitte wählen Sie eine gültige Vorbelegung.".into());
                    None
                }
            }
        };
        // The presets of the kind win over what was typed.
        match kind.as_str() {
            "iban" => {
                f.constraints.pattern = Some(edit::IBAN_PATTERN.into());
                f.constraints.max_length = Some(34);
            }
            "email" => {
                f.prefill = Some(rathaus_forms::Prefill::Email);
                f.constraints.pattern.get_or_insert_with(|| edit::EMAIL_PATTERN.into());
            }
            "text" if f.constraints.max_length.is_none() => f.constraints.max_length = Some(255),
            "textlang" => match f.constraints.max_length {
                None => f.constraints.max_length = Some(2000),
                Some(m) if m <= 255 => errors.push(
                    "Mehrzeiliger Text: die Höchstlänge muss über 255 Zeichen liegen (oder leer bleiben)."
                        .into(),
                ),
                Some(_) => {}
            },
            _ => {}
        }
        if let (Some(a), Some(b)) = (f.constraints.min_length, f.constraints.max_length)
            && a > b
        {
            errors.push("Die Mindestlänge ist größer als die Höchstlänge.".into());
        }
    }
}

fn non_empty(s: &str) -> Option<String> {
    let t = s.trim();
    (!t.is_empty()).then(|| t.to_owned())
}

fn format_mb(mb: f64) -> String {
    let s = format!("{mb:.1}");
    s.trim_end_matches(".0").replace('.', ",")
}

/// A number typed German-style (`12,5`) or with a point.
fn parse_number(v: &str) -> Option<Value> {
    let v = v.trim().replace(',', ".");
    if let Ok(i) = v.parse::<i64>() {
        return Some(Value::from(i));
    }
    v.parse::<f64>()
        .ok()
        .filter(|f| f.is_finite())
        .and_then(serde_json::Number::from_f64)
        .map(Value::Number)
}

fn is_date(v: &str) -> bool {
    chrono::NaiveDate::parse_from_str(v, "%Y-%m-%d").is_ok()
}

/// The form-level settings as entered.
#[derive(Clone, Debug, Default)]
pub struct SettingsInput {
    pub title: String,
    pub description: String,
    pub fee_amount: String,
    pub fee_hint: String,
    /// Legal basis (FIM `bezug`; needed for a clean XDF export).
    pub legal_basis: String,
    /// `keins`, `niedrig`, `substanziell`, `hoch`.
    pub trust: String,
    /// One page per top-level group (no explicit pages).
    pub default_pages: bool,
    /// Page number (from 1) of each top-level element, by id.
    pub page_of: Vec<(String, String)>,
    /// Titles of the pages 1..=n.
    pub page_titles: Vec<String>,
}

impl SettingsInput {
    /// The settings of a form.
    pub fn from_form(form: &Form) -> Self {
        let steps = form.effective_steps();
        let page_of = form
            .elements
            .iter()
            .map(|e| {
                let n = steps
                    .iter()
                    .position(|s| s.elements.iter().any(|id| id == e.id()))
                    .map_or(1, |i| i + 1);
                (e.id().to_owned(), n.to_string())
            })
            .collect();
        let mut page_titles: Vec<String> = steps.iter().map(|s| s.title.clone()).collect();
        page_titles.resize(form.elements.len().max(1), String::new());
        Self {
            title: form.title.clone(),
            description: opt_text(form.description.as_deref()),
            fee_amount: form
                .fee
                .as_ref()
                .and_then(|f| f.amount_cents)
                .map(|c| format!("{},{:02}", c / 100, c % 100))
                .unwrap_or_default(),
            fee_hint: form
                .fee
                .as_ref()
                .map(|f| f.hint.clone())
                .unwrap_or_default(),
            legal_basis: opt_text(form.fim.legal_basis.as_deref()),
            trust: match form.trust_level {
                None => "keins",
                Some(TrustLevel::Low) => "niedrig",
                Some(TrustLevel::Substantial) => "substanziell",
                Some(TrustLevel::High) => "hoch",
            }
            .into(),
            default_pages: form.steps.is_empty(),
            page_of,
            page_titles,
        }
    }

    /// The settings as posted, for the top-level elements of `form`.
    pub fn from_posted(p: &Posted, form: &Form) -> Self {
        let n = form.elements.len().max(1);
        Self {
            title: p.get("titel").to_owned(),
            description: p.get("beschreibung").to_owned(),
            fee_amount: p.get("gebuehr_betrag").to_owned(),
            fee_hint: p.get("gebuehr_hinweis").to_owned(),
            legal_basis: p.get("rechtsgrundlage").to_owned(),
            trust: p.get("vertrauensniveau").to_owned(),
            default_pages: p.get("seiten") != "eigene",
            page_of: form
                .elements
                .iter()
                .map(|e| {
                    (
                        e.id().to_owned(),
                        p.get(&format!("seite:{}", e.id())).to_owned(),
                    )
                })
                .collect(),
            page_titles: (1..=n)
                .map(|i| p.get(&format!("seitentitel:{i}")).to_owned())
                .collect(),
        }
    }

    /// Writes the settings into the form.
    pub fn apply(&self, form: &mut Form) -> Result<(), Vec<String>> {
        let mut errors = Vec::new();
        form.title = self.title.trim().to_owned();
        form.name = form.title.clone();
        form.description = non_empty(&self.description);
        form.fim.legal_basis = non_empty(&self.legal_basis);
        form.trust_level = match self.trust.as_str() {
            "niedrig" => Some(TrustLevel::Low),
            "substanziell" => Some(TrustLevel::Substantial),
            "hoch" => Some(TrustLevel::High),
            _ => None,
        };
        let amount = self.fee_amount.trim();
        let cents = if amount.is_empty() {
            None
        } else {
            match euro_cents(amount) {
                Some(c) => Some(c),
                None => {
                    errors.push("Gebühr: bitte einen Betrag in Euro wie 12,50 eingeben.".into());
                    None
                }
            }
        };
        let hint = self.fee_hint.trim();
        form.fee = match (cents, hint.is_empty()) {
            (None, true) => None,
            (amount_cents, false) => Some(Fee {
                amount_cents,
                hint: hint.to_owned(),
            }),
            (Some(c), true) => Some(Fee {
                amount_cents: Some(c),
                hint: format!("Die Gebühr beträgt {},{:02} €.", c / 100, c % 100),
            }),
        };
        form.steps = if self.default_pages {
            Vec::new()
        } else {
            let mut steps: Vec<(usize, Step)> = Vec::new();
            for (id, page) in &self.page_of {
                let Ok(n) = page.trim().parse::<usize>() else {
                    errors.push(format!("Seite von {id}: bitte eine Seitennummer wählen."));
                    continue;
                };
                let title = self
                    .page_titles
                    .get(n.wrapping_sub(1))
                    .map(|t| t.trim().to_owned())
                    .unwrap_or_default();
                match steps.iter_mut().find(|(m, _)| *m == n) {
                    Some((_, s)) => s.elements.push(id.clone()),
                    None => {
                        if title.is_empty() {
                            errors.push(format!("Seite {n}: bitte einen Seitentitel angeben."));
                        }
                        steps.push((
                            n,
                            Step {
                                title,
                                elements: vec![id.clone()],
                            },
                        ));
                    }
                }
            }
            steps.sort_by_key(|(n, _)| *n);
            steps.into_iter().map(|(_, s)| s).collect()
        };
        if errors.is_empty() {
            Ok(())
        } else {
            Err(errors)
        }
    }
}

/// Euros as typed (`12`, `12,5`, `12,50`, `1.234,50`) in cent.
fn euro_cents(v: &str) -> Option<u64> {
    let v = v.trim().trim_end_matches('€').trim();
    let (euros, cents) = match v.rsplit_once(',') {
        Some((e, c)) => (e.replace('.', ""), c.to_owned()),
        None => match v.split_once('.') {
            Some((e, c)) if c.len() <= 2 => (e.to_owned(), c.to_owned()),
            _ => (v.replace('.', ""), String::new()),
        },
    };
    if cents.len() > 2 || !cents.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    let euros: u64 = euros.parse().ok()?;
    let cents: u64 = format!("{cents:0<2}").parse().unwrap_or(0);
    euros.checked_mul(100)?.checked_add(cents)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn euros() {
        assert_eq!(euro_cents("12"), Some(1200));
        assert_eq!(euro_cents("12,5"), Some(1250));
        assert_eq!(euro_cents("1.234,50 €"), Some(123_450));
        assert_eq!(euro_cents("12.50"), Some(1250));
        assert_eq!(euro_cents("zwölf"), None);
    }
}
