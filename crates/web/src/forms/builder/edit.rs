//! Changes to the form model made by the builder: new ids, presets of the field types, adding,
//! moving and deleting elements, and the builder's rules on top of [`Form::check`].
//!
//! Pure functions on the model; the handlers parse, call these, check and save.

use rathaus_forms::{
    CodeList, CodeValue, Constraints, DataType, Element, Field, FieldKind, FimMeta, Form, Group,
    Prefill,
};

/// Pattern of an IBAN (country, check digits, 11 to 30 characters).
pub const IBAN_PATTERN: &str = "[A-Z]{2}[0-9]{2}[A-Z0-9]{11,30}";
/// Pattern of an e-mail address (as in the Hundesteuer form).
pub const EMAIL_PATTERN: &str = "[^@\\s]+@[^@\\s]+\\.[^@\\s]+";
/// Pattern of a German postal code.
pub const PLZ_PATTERN: &str = "[0-9]{5}";
/// Allowed upload types offered in the builder: (media type, label).
pub const MEDIA_TYPES: [(&str, &str); 3] = [
    ("application/pdf", "PDF"),
    ("image/jpeg", "JPEG"),
    ("image/png", "PNG"),
];

/// The kinds of element the builder offers: (key, German label).
pub const KINDS: [(&str, &str); 12] = [
    ("text", "Text (einzeilig)"),
    ("textlang", "Mehrzeiliger Text"),
    ("zahl", "Zahl"),
    ("ganzzahl", "Ganzzahl"),
    ("betrag", "Betrag (Euro)"),
    ("datum", "Datum"),
    ("janein", "Ja/Nein"),
    ("auswahl", "Auswahl aus Liste"),
    ("datei", "Datei-Upload"),
    ("iban", "IBAN"),
    ("email", "E-Mail-Adresse"),
    ("adresse", "Adresse (Gruppe „Anschrift“)"),
];

/// Prefill sources offered: (key, label).
pub const PREFILLS: [(Prefill, &str, &str); 7] = [
    (Prefill::GivenName, "vorname", "Vorname"),
    (Prefill::FamilyName, "familienname", "Familienname"),
    (Prefill::Birthdate, "geburtsdatum", "Geburtsdatum"),
    (Prefill::Street, "strasse", "Straße"),
    (Prefill::PostalCode, "plz", "Postleitzahl"),
    (Prefill::Locality, "ort", "Ort"),
    (Prefill::Email, "email", "E-Mail-Adresse"),
];

/// The builder's key of a prefill source.
pub fn prefill_key(p: Prefill) -> &'static str {
    PREFILLS
        .iter()
        .find(|(q, _, _)| *q == p)
        .map_or("", |(_, k, _)| k)
}

/// The prefill source of a key.
pub fn prefill_of(key: &str) -> Option<Prefill> {
    PREFILLS
        .iter()
        .find(|(_, k, _)| *k == key)
        .map(|(p, _, _)| *p)
}

/// The builder kind of a field (`None` for kinds the builder does not make, e.g. imported
/// time fields, which keep their type).
pub fn kind_of(f: &Field) -> Option<&'static str> {
    if f.kind == FieldKind::Select || f.code_list.is_some() {
        return Some("auswahl");
    }
    if !matches!(f.kind, FieldKind::Input) {
        return None;
    }
    Some(match f.datatype {
        DataType::File => "datei",
        DataType::Bool => "janein",
        DataType::Date => "datum",
        DataType::Number => "zahl",
        DataType::Integer => "ganzzahl",
        DataType::Currency => "betrag",
        DataType::Text | DataType::TextLatin => {
            if f.constraints.pattern.as_deref() == Some(IBAN_PATTERN) {
                "iban"
            } else if f.prefill == Some(Prefill::Email) {
                "email"
            } else if f.constraints.max_length.is_none_or(|m| m > 255) {
                "textlang"
            } else {
                "text"
            }
        }
        _ => return None,
    })
}

/// German label of a builder kind.
pub fn kind_label(key: &str) -> &'static str {
    KINDS
        .iter()
        .find(|(k, _)| *k == key)
        .map_or("Sonstiges", |(_, l)| l)
}

/// A random id `PREFIX99` + 9 digits that no element of `form` (and not the form) uses.
pub fn new_id(form: &Form, prefix: char) -> String {
    let mut used = vec![form.id.clone()];
    form.walk(|e| used.push(e.id().to_owned()));
    loop {
        let n: u32 = rand::random_range(0..1_000_000_000);
        let id = format!("{prefix}99{n:09}");
        if !used.contains(&id) {
            return id;
        }
    }
}

/// A new form id for the model (`S99` + 9 digits).
pub fn new_form_model_id() -> String {
    let n: u32 = rand::random_range(0..1_000_000_000);
    format!("S99{n:09}")
}

/// A minimal valid form with a title: no elements yet, one page per top-level group.
pub fn new_form(title: &str) -> Form {
    Form {
        id: new_form_model_id(),
        version: "1.0.0".into(),
        name: title.into(),
        title: title.into(),
        description: None,
        help: None,
        source: None,
        trust_level: None,
        fee: None,
        fim: FimMeta::default(),
        rules: Vec::new(),
        elements: Vec::new(),
        steps: Vec::new(),
    }
}

/// A new field of a builder kind with defaults (optional, once).
pub fn new_field(id: String, label: &str, kind: &str) -> Field {
    let mut f = Field {
        id,
        version: "1.0.0".into(),
        name: label.into(),
        label: label.into(),
        help: None,
        description: None,
        kind: FieldKind::Input,
        datatype: DataType::Text,
        constraints: Constraints::default(),
        code_list: None,
        min: 0,
        max: Some(1),
        content: None,
        placeholder: None,
        condition: None,
        prefill: None,
        media_types: Vec::new(),
        max_size: None,
        rules: Vec::new(),
        fim: FimMeta::default(),
    };
    set_kind(&mut f, kind);
    f
}

/// Turns a field into a builder kind: data type, field kind and the presets of the kind
/// (IBAN pattern, e-mail prefill, upload types). Constraints that do not apply are dropped.
pub fn set_kind(f: &mut Field, kind: &str) {
    let was = kind_of(f);
    f.kind = FieldKind::Input;
    f.datatype = match kind {
        "zahl" => DataType::Number,
        "ganzzahl" => DataType::Integer,
        "betrag" => DataType::Currency,
        "datum" => DataType::Date,
        "janein" => DataType::Bool,
        "datei" => DataType::File,
        _ => DataType::Text,
    };
    if !f.datatype.is_text() {
        f.constraints.min_length = None;
        f.constraints.max_length = None;
        f.constraints.pattern = None;
    }
    if !(f.datatype.is_numeric() || f.datatype == DataType::Date) {
        f.constraints.min_value = None;
        f.constraints.max_value = None;
    }
    if kind != "auswahl" {
        f.code_list = None;
    }
    if kind != "datei" {
        f.media_types.clear();
        f.max_size = None;
    }
    if was == Some("email") && kind != "email" && f.prefill == Some(Prefill::Email) {
        f.prefill = None;
    }
    if was == Some("iban") && kind != "iban" {
        f.constraints.pattern = None;
    }
    match kind {
        "text" if f.constraints.max_length.is_none_or(|m| m > 255) => {
            f.constraints.max_length = Some(255);
        }
        "textlang" if f.constraints.max_length.is_none_or(|m| m <= 255) => {
            f.constraints.max_length = Some(2000);
        }
        "auswahl" => {
            f.kind = FieldKind::Select;
            f.constraints = Constraints::default();
            f.code_list.get_or_insert_with(|| CodeList {
                urn: String::new(),
                version: None,
                values: Vec::new(),
            });
        }
        "datei" => {
            if f.media_types.is_empty() {
                f.media_types = MEDIA_TYPES.iter().map(|(m, _)| (*m).to_owned()).collect();
            }
            f.max_size.get_or_insert(10 * 1024 * 1024);
        }
        "iban" => {
            f.constraints.pattern = Some(IBAN_PATTERN.into());
            f.constraints.max_length = Some(34);
            f.constraints.min_length = f.constraints.min_length.filter(|m| *m <= 34);
        }
        "email" => {
            f.constraints.pattern = Some(EMAIL_PATTERN.into());
            f.constraints.max_length = Some(254);
            f.prefill = Some(Prefill::Email);
        }
        _ => {}
    }
}

/// The preset address group: Straße, Hausnummer, PLZ, Ort, prefilled from the account.
pub fn address_group(form: &Form) -> Group {
    let gid = new_id(form, 'G');
    let mut taken = form.clone();
    let mut field = |label: &str, min: u32, max_len: u32, prefill: Prefill| {
        let id = new_id(&taken, 'F');
        let mut f = new_field(id, label, "text");
        f.min = min;
        f.constraints.min_length = (min > 0).then_some(1);
        f.constraints.max_length = Some(max_len);
        f.prefill = Some(prefill);
        taken.elements.push(Element::Field(f.clone()));
        f
    };
    let street = field("Straße", 1, 55, Prefill::Street);
    let number = field("Hausnummer", 0, 10, Prefill::HouseNumber);
    let mut plz = field("Postleitzahl", 1, 5, Prefill::PostalCode);
    plz.constraints.pattern = Some(PLZ_PATTERN.into());
    plz.constraints.min_length = Some(5);
    let city = field("Ort", 1, 60, Prefill::Locality);
    Group {
        id: gid,
        version: "1.0.0".into(),
        name: "Anschrift".into(),
        label: "Anschrift".into(),
        help: None,
        description: None,
        min: 1,
        max: Some(1),
        condition: None,
        rules: Vec::new(),
        fim: FimMeta::default(),
        children: [street, number, plz, city]
            .into_iter()
            .map(Element::Field)
            .collect(),
    }
}

/// A new group with a first field (a group must not be empty).
pub fn new_group(form: &Form, label: &str) -> Group {
    let gid = new_id(form, 'G');
    let fid = new_id(form, 'F');
    Group {
        id: gid,
        version: "1.0.0".into(),
        name: label.into(),
        label: label.into(),
        help: None,
        description: None,
        min: 1,
        max: Some(1),
        condition: None,
        rules: Vec::new(),
        fim: FimMeta::default(),
        children: vec![Element::Field(new_field(fid, "Neues Feld", "text"))],
    }
}

/// Splits a path `G1/G2/F3` into its ids.
fn ids(path: &str) -> Vec<&str> {
    path.split('/').filter(|s| !s.is_empty()).collect()
}

/// The children list that holds the element at `path`, and its index there.
pub fn locate_mut<'a>(form: &'a mut Form, path: &str) -> Option<(&'a mut Vec<Element>, usize)> {
    let ids = ids(path);
    let (last, parents) = ids.split_last()?;
    let mut list = &mut form.elements;
    for id in parents {
        list = match list.iter_mut().find(|e| e.id() == *id)? {
            Element::Group(g) => &mut g.children,
            Element::Field(_) => return None,
        };
    }
    let i = list.iter().position(|e| e.id() == *last)?;
    Some((list, i))
}

/// The element at `path`.
pub fn find<'a>(form: &'a Form, path: &str) -> Option<&'a Element> {
    let ids = ids(path);
    let mut list = &form.elements;
    let mut found = None;
    for id in ids {
        let e = list.iter().find(|e| e.id() == id)?;
        if let Element::Group(g) = e {
            list = &g.children;
        }
        found = Some(e);
    }
    found
}

/// The siblings of the element at `path` (itself included).
pub fn siblings<'a>(form: &'a Form, path: &str) -> &'a [Element] {
    match path.rsplit_once('/') {
        None => &form.elements,
        Some((parent, _)) => match find(form, parent) {
            Some(Element::Group(g)) => &g.children,
            _ => &[],
        },
    }
}

/// Every group of the form with its path and label (for "add into").
pub fn groups(form: &Form) -> Vec<(String, String)> {
    fn go(list: &[Element], prefix: &str, out: &mut Vec<(String, String)>) {
        for e in list {
            if let Element::Group(g) = e {
                let path = join(prefix, &g.id);
                out.push((path.clone(), g.label.clone()));
                go(&g.children, &path, out);
            }
        }
    }
    let mut out = Vec::new();
    go(&form.elements, "", &mut out);
    out
}

/// `prefix/id`.
pub fn join(prefix: &str, id: &str) -> String {
    if prefix.is_empty() {
        id.to_owned()
    } else {
        format!("{prefix}/{id}")
    }
}

/// Adds an element at the end of the group at `parent` (or the top level for `""`); returns
/// its path. A new top-level element goes on the last page if the form has explicit pages.
pub fn add(form: &mut Form, parent: &str, element: Element) -> Option<String> {
    let path = join(parent, element.id());
    if parent.is_empty() {
        if let Some(last) = form.steps.last_mut() {
            last.elements.push(element.id().to_owned());
        }
        form.elements.push(element);
    } else {
        let (list, i) = locate_mut(form, parent)?;
        match &mut list[i] {
            Element::Group(g) => g.children.push(element),
            Element::Field(_) => return None,
        }
    }
    Some(path)
}

/// Moves an element one place up (`-1`) or down (`1`) among its siblings. Returns false if it
/// cannot move.
pub fn shift(form: &mut Form, path: &str, by: isize) -> bool {
    let top = !path.contains('/');
    let Some((list, i)) = locate_mut(form, path) else {
        return false;
    };
    let Some(j) = i.checked_add_signed(by).filter(|j| *j < list.len()) else {
        return false;
    };
    list.swap(i, j);
    if top {
        order_steps(form);
    }
    true
}

/// Keeps the elements of each page in the order of the element list.
fn order_steps(form: &mut Form) {
    let order: Vec<String> = form.elements.iter().map(|e| e.id().to_owned()).collect();
    for s in &mut form.steps {
        s.elements
            .sort_by_key(|id| order.iter().position(|o| o == id).unwrap_or(usize::MAX));
    }
}

/// Deletes an element (and its page entry; pages left empty go too).
pub fn delete(form: &mut Form, path: &str) -> bool {
    let Some((list, i)) = locate_mut(form, path) else {
        return false;
    };
    let removed = list.remove(i);
    if !path.contains('/') {
        for s in &mut form.steps {
            s.elements.retain(|id| id != removed.id());
        }
        form.steps.retain(|s| !s.elements.is_empty());
    }
    true
}

/// [`Form::check`] plus the builder's rules: every element has a label, selections have
/// values, uploads allow at least one type. German messages.
pub fn validate(form: &Form) -> Result<(), Vec<String>> {
    let mut errors = match form.check() {
        Ok(()) => Vec::new(),
        Err(e) => e,
    };
    if form.title.trim().is_empty() {
        errors.push("Bitte geben Sie dem Formular einen Titel.".into());
    }
    form.walk(|e| {
        let shown = if e.label().trim().is_empty() {
            e.id().to_owned()
        } else {
            format!("„{}“", e.label())
        };
        if e.label().trim().is_empty() && e.has_data() {
            errors.push(format!("{}: Bitte geben Sie eine Bezeichnung an.", e.id()));
        }
        if let Element::Field(f) = e {
            if f.kind == FieldKind::Select
                && f.code_list.as_ref().is_none_or(|c| c.values.is_empty())
            {
                errors.push(format!(
                    "{shown}: Eine Auswahl braucht mindestens einen Wert."
                ));
            }
            if f.code_list.as_ref().is_some_and(|c| {
                c.values
                    .iter()
                    .any(|v| v.code.trim().is_empty() || v.label.trim().is_empty())
            }) {
                errors.push(format!(
                    "{shown}: Jeder Auswahlwert braucht einen Code und eine Bezeichnung."
                ));
            }
            if f.datatype == DataType::File && f.media_types.is_empty() {
                errors.push(format!(
                    "{shown}: Bitte erlauben Sie mindestens einen Dateityp."
                ));
            }
        }
    });
    if errors.is_empty() {
        Ok(())
    } else {
        Err(errors)
    }
}

/// Parses the lines `code=Bezeichnung` of a value list (a line without `=` is code and label).
pub fn parse_values(text: &str) -> Vec<CodeValue> {
    text.lines()
        .map(str::trim)
        .filter(|l| !l.is_empty())
        .map(|l| match l.split_once('=') {
            Some((c, b)) => CodeValue {
                code: c.trim().to_owned(),
                label: b.trim().to_owned(),
            },
            None => CodeValue {
                code: l.to_owned(),
                label: l.to_owned(),
            },
        })
        .collect()
}

/// The lines `code=Bezeichnung` of a value list.
pub fn values_text(list: Option<&CodeList>) -> String {
    list.map(|c| {
        c.values
            .iter()
            .map(|v| format!("{}={}", v.code, v.label))
            .collect::<Vec<_>>()
            .join("\n")
    })
    .unwrap_or_default()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn add_move_delete_keep_the_form_valid() {
        let mut form = new_form("Test");
        let g = new_group(&form, "Person");
        let gid = g.id.clone();
        add(&mut form, "", Element::Group(g)).unwrap();
        let f = new_field(new_id(&form, 'F'), "Farbe", "auswahl");
        let fid = f.id.clone();
        let path = add(&mut form, &gid, Element::Field(f)).unwrap();
        assert_eq!(path, format!("{gid}/{fid}"));
        assert!(validate(&form).is_err(), "a choice without values");
        if let Some(Element::Field(f)) = locate_mut(&mut form, &path).map(|(l, i)| &mut l[i]) {
            f.code_list = Some(CodeList {
                urn: String::new(),
                version: None,
                values: parse_values("rot=Rot\ngruen=Grün"),
            });
        }
        assert_eq!(validate(&form), Ok(()));
        assert!(shift(&mut form, &path, -1));
        assert!(!shift(&mut form, &path, -1), "already first");
        assert!(delete(&mut form, &path));
        assert!(find(&form, &path).is_none());
        form.walk(|e| assert!(e.id().len() == 12 && e.id()[1..3] == *"99"));
    }

    #[test]
    fn kinds_round_trip() {
        for (key, _) in KINDS.iter().filter(|(k, _)| *k != "adresse") {
            let f = new_field("F99000000001".into(), "X", key);
            assert_eq!(kind_of(&f), Some(*key), "{key}");
        }
    }
}
