//! HTML inputs for the elements of a form, from the same model the server validates with.
//!
//! Every input's `name` is its data path: element ids joined by `/`, with `[i]` after a
//! repeated element (`G60000001[0]/F60000227`), which is also how validation errors name
//! fields, so an error finds its input. Labels carry exactly the field's `bezeichnungEingabe`;
//! choices are radio groups whose `<legend>` is that text. Works without JavaScript: repetitions
//! are added and removed with submit buttons (`aktion=plus:PATH` / `aktion=minus:PATH`).

use maud::{Markup, html};
use rathaus_forms::{DataType, Element, Field, FieldKind, Group};
use serde_json::Value;
use std::collections::BTreeMap;

/// Code lists up to this many values are radio buttons; longer ones a `<select>`.
const MAX_RADIOS: usize = 7;

/// An uploaded file as shown beside its input.
#[derive(Clone, Debug)]
pub struct Upload {
    /// Attachment id (the field's value).
    pub id: String,
    /// File name.
    pub name: String,
    /// Size in bytes.
    pub size: i64,
}

/// What the inputs show: the entered data, the errors by path, the uploads by attachment id.
pub struct View<'a> {
    /// Errors by data path.
    pub errors: &'a BTreeMap<String, String>,
    /// Uploaded files by attachment id.
    pub uploads: &'a BTreeMap<String, Upload>,
}

/// `prefix/id` (or `id` at the top).
pub fn join(prefix: &str, id: &str) -> String {
    if prefix.is_empty() {
        id.to_owned()
    } else {
        format!("{prefix}/{id}")
    }
}

/// The HTML id of the input for a path.
pub fn input_id(path: &str) -> String {
    format!("feld-{}", path.replace(['/', '[', ']'], "-"))
}

/// How many instances of a repeated element to show: what is entered, at least `min`, at
/// least one.
fn instances(e: &Element, value: Option<&Value>) -> usize {
    let entered = value.and_then(Value::as_array).map_or(0, Vec::len);
    entered.max(e.min() as usize).max(1)
}

/// Renders elements of one object level. `obj` is the data object at this level.
pub fn elements(list: &[&Element], prefix: &str, obj: Option<&Value>, view: &View<'_>) -> Markup {
    html! {
        @for e in list {
            (element(e, prefix, obj, list, view))
        }
    }
}

fn element(
    e: &Element,
    prefix: &str,
    obj: Option<&Value>,
    siblings: &[&Element],
    view: &View<'_>,
) -> Markup {
    let path = join(prefix, e.id());
    let value = obj.and_then(|o| o.get(e.id()));
    let condition = e.condition().map(|c| {
        let label = siblings
            .iter()
            .find(|s| s.id() == c.field)
            .map_or(c.field.as_str(), |s| s.label());
        let shown = match &c.equals {
            Value::String(s) => condition_value_label(siblings, &c.field, s),
            Value::Bool(true) => "Ja".to_owned(),
            Value::Bool(false) => "Nein".to_owned(),
            other => other.to_string(),
        };
        (
            join(prefix, &c.field),
            c.equals.to_string(),
            label.to_owned(),
            shown,
        )
    });
    let body = match e {
        Element::Group(g) if e.is_repeated() => repeated_group(g, &path, value, view),
        Element::Group(g) => group(g, &path, value, None, view),
        Element::Field(f) if e.is_repeated() && f.kind != FieldKind::Label => {
            repeated_field(f, &path, value, view)
        }
        Element::Field(f) => field(f, &path, value, None, view),
    };
    match condition {
        None => body,
        Some((field_path, equals, label, shown)) => html! {
            div class="bedingt" data-bedingung-feld=(field_path) data-bedingung-wert=(equals) {
                p class="hinweis bedingung" { "Nur auszufüllen, wenn „" (label) "“ = „" (shown) "“." }
                (body)
            }
        },
    }
}

fn condition_value_label(siblings: &[&Element], field: &str, code: &str) -> String {
    siblings
        .iter()
        .find_map(|s| match s {
            Element::Field(f) if f.id == field => f.code_list.as_ref(),
            _ => None,
        })
        .and_then(|cl| cl.values.iter().find(|v| v.code == code))
        .map_or_else(|| code.to_owned(), |v| v.label.clone())
}

fn group(
    g: &Group,
    path: &str,
    value: Option<&Value>,
    instance: Option<usize>,
    view: &View<'_>,
) -> Markup {
    let children: Vec<&Element> = g.children.iter().collect();
    let legend = match instance {
        Some(i) => format!("{} ({})", g.label, i + 1),
        None => g.label.clone(),
    };
    html! {
        fieldset class="gruppe" id=(input_id(path)) {
            legend { (legend) }
            @if let Some(help) = &g.help { p class="hilfe" { (help) } }
            (error(path, view))
            (elements(&children, path, value, view))
        }
    }
}

fn repeated_group(g: &Group, path: &str, value: Option<&Value>, view: &View<'_>) -> Markup {
    repetition(
        &Element::Group(g.clone()),
        path,
        value,
        view,
        |item_path, item, i| group(g, item_path, item, Some(i), view),
    )
}

fn repeated_field(f: &Field, path: &str, value: Option<&Value>, view: &View<'_>) -> Markup {
    repetition(
        &Element::Field(f.clone()),
        path,
        value,
        view,
        |item_path, item, i| field(f, item_path, item, Some(i), view),
    )
}

/// The instances of a repeated element, each with a remove button above the minimum, and an add
/// button below the maximum; the count travels in `anzahl:PATH`.
fn repetition(
    e: &Element,
    path: &str,
    value: Option<&Value>,
    view: &View<'_>,
    instance: impl Fn(&str, Option<&Value>, usize) -> Markup,
) -> Markup {
    let n = instances(e, value);
    html! {
        div class="wiederholung" {
            input type="hidden" name=(format!("anzahl:{path}")) value=(n);
            (error(path, view))
            @for i in 0..n {
                @let item_path = format!("{path}[{i}]");
                @let item = value.and_then(Value::as_array).and_then(|a| a.get(i));
                (instance(&item_path, item, i))
                @if n > e.min() as usize {
                    button type="submit" class="zweitrangig" name="aktion" value=(format!("minus:{item_path}")) formnovalidate {
                        (e.label()) " (" (i + 1) ") entfernen"
                    }
                }
            }
            @if e.max().is_none_or(|m| n < m as usize) {
                button type="submit" class="zweitrangig" name="aktion" value=(format!("plus:{path}")) formnovalidate {
                    "Weitere Angabe hinzufügen: " (e.label())
                }
            }
        }
    }
}

fn error(path: &str, view: &View<'_>) -> Markup {
    html! {
        @if let Some(message) = view.errors.get(path) {
            p class="fehler" id=(format!("{}-fehler", input_id(path))) {
                span class="visually-hidden" { "Fehler: " } (message)
            }
        }
    }
}

/// The text shown for a value in an input (numbers German-style are entered back as typed).
fn text_of(value: Option<&Value>) -> String {
    match value {
        None | Some(Value::Null) => String::new(),
        Some(Value::String(s)) => s.clone(),
        Some(Value::Number(n)) => n.to_string().replace('.', ","),
        Some(Value::Bool(b)) => b.to_string(),
        Some(other) => other.to_string(),
    }
}

fn field(
    f: &Field,
    path: &str,
    value: Option<&Value>,
    instance: Option<usize>,
    view: &View<'_>,
) -> Markup {
    let id = input_id(path);
    let has_error = view.errors.contains_key(path);
    let help_id = format!("{id}-hilfe");
    let error_id = format!("{id}-fehler");
    let mut described = Vec::new();
    if f.help.is_some() {
        described.push(help_id.clone());
    }
    if has_error {
        described.push(error_id);
    }
    let described = (!described.is_empty()).then(|| described.join(" "));
    let required = f.min >= 1 && instance.is_none_or(|i| i < f.min as usize);
    let help = html! { @if let Some(h) = &f.help { p class="hilfe" id=(help_id) { (h) } } };
    let marker = html! {
        @if required { " " span class="pflicht" title="Pflichtangabe" { "*" } span class="visually-hidden" { " (Pflichtangabe)" } }
    };
    let text = text_of(value);
    match (f.kind, f.datatype) {
        (FieldKind::Label, _) => html! {
            div class="erlaeuterung" id=(id) {
                @if !f.label.is_empty() { p class="erlaeuterung-titel" { strong { (f.label) } } }
                @if let Some(c) = &f.content { p { (c) } }
                (help)
            }
        },
        (FieldKind::Hidden, _) => html! {
            input type="hidden" name=(path) value=(f.content.clone().unwrap_or(text));
        },
        (_, DataType::Bool) => html! {
            fieldset class="feld auswahl" id=(id) aria-describedby=[described.as_deref()] {
                legend { (f.label) } (marker)
                (help)
                (error(path, view))
                @for (code, label) in [("true", "Ja"), ("false", "Nein")] {
                    @let option_id = format!("{id}-{code}");
                    div class="option" {
                        input type="radio" id=(option_id) name=(path) value=(code) checked[text == code];
                        label for=(option_id) { (label) }
                    }
                }
            }
        },
        (_, _)
            if f.code_list
                .as_ref()
                .is_some_and(|c| c.values.len() <= MAX_RADIOS) =>
        {
            let values = f
                .code_list
                .as_ref()
                .map(|c| c.values.as_slice())
                .unwrap_or_default();
            html! {
                fieldset class="feld auswahl" id=(id) aria-describedby=[described.as_deref()] {
                    legend { (f.label) } (marker)
                    (help)
                    (error(path, view))
                    @for (i, v) in values.iter().enumerate() {
                        @let option_id = format!("{id}-{i}");
                        div class="option" {
                            input type="radio" id=(option_id) name=(path) value=(v.code) checked[text == v.code]
                                disabled[f.kind == FieldKind::Locked];
                            label for=(option_id) { (v.label) }
                        }
                    }
                }
            }
        }
        (_, _) if f.code_list.is_some() => {
            let values = f
                .code_list
                .as_ref()
                .map(|c| c.values.as_slice())
                .unwrap_or_default();
            html! {
                div class="feld" {
                    label for=(id) { (f.label) } (marker)
                    (help)
                    (error(path, view))
                    select id=(id) name=(path) aria-describedby=[described.as_deref()]
                        aria-invalid=[has_error.then_some("true")] aria-required=[required.then_some("true")]
                        disabled[f.kind == FieldKind::Locked] {
                        option value="" { "Bitte auswählen" }
                        @for v in values {
                            option value=(v.code) selected[text == v.code] { (v.label) }
                        }
                    }
                }
            }
        }
        (_, DataType::File) => {
            let upload = value
                .and_then(Value::as_str)
                .and_then(|a| view.uploads.get(a));
            let accept = (!f.media_types.is_empty()).then(|| f.media_types.join(","));
            html! {
                div class="feld" {
                    label for=(id) { (f.label) } (marker)
                    (help)
                    (error(path, view))
                    @if let Some(u) = upload {
                        p class="hochgeladen" {
                            "Hochgeladen: " strong { (u.name) } " (" (kib(u.size)) ")"
                            input type="hidden" name=(path) value=(u.id);
                            " "
                            button type="submit" class="zweitrangig" name="aktion" value=(format!("datei-entfernen:{path}")) formnovalidate {
                                "Datei entfernen"
                            }
                        }
                    }
                    input type="file" id=(id) name=(format!("datei:{path}")) accept=[accept]
                        aria-describedby=[described.as_deref()] aria-invalid=[has_error.then_some("true")];
                    @if let Some(max) = f.max_size { p class="hinweis" { "Höchstens " (kib(max as i64)) "." } }
                }
            }
        }
        (_, datatype) => {
            let (kind, mode, autocomplete) = input_kind(f, datatype);
            let long = datatype.is_text() && f.constraints.max_length.is_none_or(|m| m > 255);
            html! {
                div class="feld" {
                    label for=(id) { (f.label) } (marker)
                    (help)
                    (error(path, view))
                    @if long {
                        textarea id=(id) name=(path) rows="4" aria-describedby=[described.as_deref()]
                            aria-invalid=[has_error.then_some("true")] aria-required=[required.then_some("true")]
                            maxlength=[f.constraints.max_length] readonly[f.kind == FieldKind::Locked] { (text) }
                    } @else {
                        input type=(kind) id=(id) name=(path) value=(text) inputmode=[mode] autocomplete=[autocomplete]
                            aria-describedby=[described.as_deref()] aria-invalid=[has_error.then_some("true")]
                            aria-required=[required.then_some("true")] maxlength=[f.constraints.max_length]
                            placeholder=[f.placeholder.as_deref()] readonly[f.kind == FieldKind::Locked];
                    }
                }
            }
        }
    }
}

/// (input type, inputmode, autocomplete) of a data type.
fn input_kind(
    f: &Field,
    datatype: DataType,
) -> (&'static str, Option<&'static str>, Option<&'static str>) {
    let autocomplete = f.prefill.map(|p| match p {
        rathaus_forms::Prefill::GivenName => "given-name",
        rathaus_forms::Prefill::FamilyName => "family-name",
        rathaus_forms::Prefill::Birthdate => "bday",
        rathaus_forms::Prefill::Street => "address-line1",
        rathaus_forms::Prefill::HouseNumber => "address-line2",
        rathaus_forms::Prefill::PostalCode => "postal-code",
        rathaus_forms::Prefill::Locality => "address-level2",
        rathaus_forms::Prefill::Country => "country-name",
        rathaus_forms::Prefill::Email => "email",
        rathaus_forms::Prefill::Phone => "tel",
    });
    match datatype {
        DataType::Date => ("date", None, autocomplete),
        DataType::Time => ("time", None, autocomplete),
        DataType::DateTime => ("datetime-local", None, autocomplete),
        DataType::Integer => ("text", Some("numeric"), autocomplete),
        DataType::Number | DataType::Currency => ("text", Some("decimal"), autocomplete),
        _ if f.prefill == Some(rathaus_forms::Prefill::Email) => ("email", None, autocomplete),
        _ => ("text", None, autocomplete),
    }
}

/// A size in KiB or MiB, German.
pub fn kib(bytes: i64) -> String {
    if bytes >= 1024 * 1024 {
        format!("{:.1} MB", bytes as f64 / (1024.0 * 1024.0)).replace('.', ",")
    } else {
        format!("{} KB", (bytes + 1023) / 1024)
    }
}

/// The data shown read-only (summary page, receipt, staff inbox): one definition list per level.
pub fn summary(
    list: &[&Element],
    obj: Option<&Value>,
    uploads: &BTreeMap<String, Upload>,
) -> Markup {
    html! {
        dl class="zusammenfassung" {
            @for e in list {
                @if e.has_data() {
                    @let value = obj.and_then(|o| o.get(e.id()));
                    @if let Some(value) = value {
                        dt { (e.label()) }
                        dd { (summary_value(e, value, uploads)) }
                    }
                }
            }
        }
    }
}

fn summary_value(e: &Element, value: &Value, uploads: &BTreeMap<String, Upload>) -> Markup {
    match (e, value) {
        (Element::Group(g), Value::Array(items)) => html! {
            ol class="wiederholt" {
                @for item in items { li { (summary(&g.children.iter().collect::<Vec<_>>(), Some(item), uploads)) } }
            }
        },
        (Element::Group(g), obj) => {
            summary(&g.children.iter().collect::<Vec<_>>(), Some(obj), uploads)
        }
        (Element::Field(f), Value::Array(items)) => html! {
            ul { @for item in items { li { (display(f, item, uploads)) } } }
        },
        (Element::Field(f), v) => html! { (display(f, v, uploads)) },
    }
}

/// The entered data of `list` as (label, value) lines for a document: a repeated group's
/// entries are numbered (`Hund 2 – Name des Hundes`), nested groups prefix their label.
pub fn summary_lines(
    list: &[&Element],
    obj: Option<&Value>,
    uploads: &BTreeMap<String, Upload>,
    prefix: &str,
    out: &mut Vec<(String, String)>,
) {
    let label_of = |e: &Element| {
        if prefix.is_empty() {
            e.label().to_owned()
        } else {
            format!("{prefix} – {}", e.label())
        }
    };
    for e in list {
        if !e.has_data() {
            continue;
        }
        let Some(value) = obj.and_then(|o| o.get(e.id())) else {
            continue;
        };
        match (e, value) {
            (Element::Group(g), Value::Array(items)) => {
                let children: Vec<&Element> = g.children.iter().collect();
                for (i, item) in items.iter().enumerate() {
                    let p = format!("{} {}", label_of(e), i + 1);
                    summary_lines(&children, Some(item), uploads, &p, out);
                }
            }
            (Element::Group(g), obj) => {
                let children: Vec<&Element> = g.children.iter().collect();
                summary_lines(&children, Some(obj), uploads, &label_of(e), out);
            }
            (Element::Field(f), Value::Array(items)) => {
                let shown: Vec<String> = items.iter().map(|v| display(f, v, uploads)).collect();
                out.push((label_of(e), shown.join("; ")));
            }
            (Element::Field(f), v) => out.push((label_of(e), display(f, v, uploads))),
        }
    }
}

/// A field value as text for people: code labels, Ja/Nein, German dates and numbers.
pub fn display(f: &Field, v: &Value, uploads: &BTreeMap<String, Upload>) -> String {
    match v {
        Value::Bool(true) => "Ja".into(),
        Value::Bool(false) => "Nein".into(),
        Value::String(s) if f.datatype == DataType::File => uploads
            .get(s)
            .map_or_else(|| s.clone(), |u| format!("{} ({})", u.name, kib(u.size))),
        Value::String(s) => {
            if let Some(label) = f
                .code_list
                .as_ref()
                .and_then(|c| c.values.iter().find(|x| &x.code == s))
            {
                return label.label.clone();
            }
            if f.datatype == DataType::Date && s.len() == 10 {
                let parts: Vec<&str> = s.split('-').collect();
                if parts.len() == 3 {
                    return format!("{}.{}.{}", parts[2], parts[1], parts[0]);
                }
            }
            s.clone()
        }
        Value::Number(n) => {
            let text = n.to_string().replace('.', ",");
            if f.datatype == DataType::Currency {
                format!("{text} €")
            } else {
                text
            }
        }
        other => other.to_string(),
    }
}
