//! The form model: a [`Form`] is a tree of [`Group`]s and [`Field`]s with cardinalities, data
//! types, constraints, code lists, FIM rules and the builder features (conditions, prefill,
//! steps). It is plain data (serde), stored as JSON and sent to the browser builder as is.

use serde::{Deserialize, Serialize};

/// An online form (a FIM Stammdatenschema or a form made with the builder).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Form {
    /// Form id (the FIM schema id without version, e.g. `S00000121`).
    pub id: String,
    /// Form version (e.g. `1.0` or `1.2.0`).
    pub version: String,
    /// Short internal name (FIM `name`).
    pub name: String,
    /// Title shown to citizens (FIM `bezeichnungEingabe` / `bezeichnung`).
    pub title: String,
    /// Description (FIM `beschreibung`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub description: Option<String>,
    /// Help text shown with the form (FIM `hilfetext`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub help: Option<String>,
    /// Where the form comes from (FIM import), if anywhere.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub source: Option<Source>,
    /// Trust level of the login required to submit the form.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub trust_level: Option<TrustLevel>,
    /// The fee of the service.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub fee: Option<Fee>,
    /// FIM metadata of the schema.
    #[serde(default, skip_serializing_if = "FimMeta::is_empty")]
    pub fim: FimMeta,
    /// Rules attached to the schema itself.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub rules: Vec<Rule>,
    /// The element tree.
    pub elements: Vec<Element>,
    /// Pages of the form, in order. Empty means [`Form::default_steps`].
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub steps: Vec<Step>,
}

/// Origin of an imported form.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Source {
    /// FIM schema id (e.g. `S00000121`).
    pub schema_id: String,
    /// FIM schema version.
    pub schema_version: String,
    /// XDatenfelder version of the imported document.
    pub xdf_version: XdfVersion,
}

/// XDatenfelder versions understood by the importer.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum XdfVersion {
    /// XDatenfelder 2 (`urn:xoev-de:fim:standard:xdatenfelder_2`).
    #[serde(rename = "2")]
    V2,
    /// XDatenfelder 3.0.0 (`urn:xoev-de:fim:standard:xdatenfelder_3.0.0`).
    #[serde(rename = "3.0.0")]
    V3,
}

/// Trust level (Vertrauensniveau) of an account, per eIDAS.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum TrustLevel {
    /// Niedrig.
    Low,
    /// Substanziell.
    Substantial,
    /// Hoch.
    High,
}

/// The fee of a service as shown with the form.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Fee {
    /// Fixed amount in cent, if the fee is fixed.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub amount_cents: Option<u64>,
    /// Text shown to citizens (e.g. "Die Steuer richtet sich nach der Hundesatzung.").
    pub hint: String,
}

/// A page of the form.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Step {
    /// Title of the page.
    pub title: String,
    /// Ids of the top-level elements on this page, in order.
    pub elements: Vec<String>,
}

/// FIM metadata that the form itself does not need but an XDatenfelder export keeps.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct FimMeta {
    /// Definition (`definition`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub definition: Option<String>,
    /// Legal basis of the element (`bezug`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub legal_basis: Option<String>,
    /// Legal basis of the use of the element in its parent (`struktur/bezug`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub usage_basis: Option<String>,
    /// Schemaelementart code (`ABS`, `HAR`, `RNG`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub element_kind: Option<String>,
    /// Output label (`bezeichnungAusgabe`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub output_label: Option<String>,
    /// Output help (`hilfetextAusgabe`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub output_help: Option<String>,
    /// Author (`fachlicherErsteller` / `statusGesetztDurch`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub creator: Option<String>,
}

impl FimMeta {
    /// True when nothing is set.
    pub fn is_empty(&self) -> bool {
        *self == FimMeta::default()
    }
}

/// A node of the element tree.
// Fields are larger than groups; boxing them would only complicate building forms in code.
#[allow(clippy::large_enum_variant)]
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "type", rename_all = "snake_case")]
pub enum Element {
    /// A Datenfeldgruppe.
    Group(Group),
    /// A Datenfeld.
    Field(Field),
}

/// A group of elements (FIM Datenfeldgruppe).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Group {
    /// FIM id without version (e.g. `G60000001`).
    pub id: String,
    /// FIM version.
    pub version: String,
    /// Internal name (`name`).
    pub name: String,
    /// Label shown to citizens (`bezeichnungEingabe`).
    pub label: String,
    /// Help text (`hilfetextEingabe`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub help: Option<String>,
    /// Description (`beschreibung`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub description: Option<String>,
    /// Minimum number of occurrences (from `anzahl`).
    pub min: u32,
    /// Maximum number of occurrences; `None` = unbounded.
    pub max: Option<u32>,
    /// Show the group only if a condition holds.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub condition: Option<Condition>,
    /// FIM rules attached to the group.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub rules: Vec<Rule>,
    /// FIM metadata.
    #[serde(default, skip_serializing_if = "FimMeta::is_empty")]
    pub fim: FimMeta,
    /// Child elements, in order.
    pub children: Vec<Element>,
}

/// A data field (FIM Datenfeld).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Field {
    /// FIM id without version (e.g. `F60000227`).
    pub id: String,
    /// FIM version.
    pub version: String,
    /// Internal name (`name`).
    pub name: String,
    /// Label shown to citizens (`bezeichnungEingabe`).
    pub label: String,
    /// Help text (`hilfetextEingabe`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub help: Option<String>,
    /// Description (`beschreibung`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub description: Option<String>,
    /// Kind of field (`feldart`).
    pub kind: FieldKind,
    /// Data type (`datentyp`).
    pub datatype: DataType,
    /// Constraints (`praezisierung`).
    #[serde(default, skip_serializing_if = "Constraints::is_empty")]
    pub constraints: Constraints,
    /// Code list of a selection field.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub code_list: Option<CodeList>,
    /// Minimum number of occurrences (from `anzahl`).
    pub min: u32,
    /// Maximum number of occurrences; `None` = unbounded.
    pub max: Option<u32>,
    /// Content (`inhalt`): the text of a label field, otherwise the default value.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub content: Option<String>,
    /// Placeholder shown in an empty input.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub placeholder: Option<String>,
    /// Show the field only if a condition holds.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub condition: Option<Condition>,
    /// Prefill from the citizen's account.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub prefill: Option<Prefill>,
    /// Allowed media types of a file field (`mediaType`).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub media_types: Vec<String>,
    /// Maximum size of a file in bytes (`maxSize`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub max_size: Option<u64>,
    /// FIM rules attached to the field.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub rules: Vec<Rule>,
    /// FIM metadata.
    #[serde(default, skip_serializing_if = "FimMeta::is_empty")]
    pub fim: FimMeta,
}

/// Kind of a field (XDatenfelder code list `feldart`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum FieldKind {
    /// `input`: an input.
    Input,
    /// `select`: a selection from a code list.
    Select,
    /// `label`: static text, carries no data.
    Label,
    /// `hidden` (XDF 3): a hidden field.
    Hidden,
    /// `locked` (XDF 3): a read-only field.
    Locked,
}

impl FieldKind {
    /// The XDatenfelder code.
    pub fn code(self) -> &'static str {
        match self {
            FieldKind::Input => "input",
            FieldKind::Select => "select",
            FieldKind::Label => "label",
            FieldKind::Hidden => "hidden",
            FieldKind::Locked => "locked",
        }
    }
}

/// Data type of a field (XDatenfelder code list `datentyp`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum DataType {
    /// `text`.
    Text,
    /// `text_latin` (XDF 3): text restricted to DIN SPEC 91379 (String.Latin+).
    TextLatin,
    /// `date`: `YYYY-MM-DD`.
    Date,
    /// `time` (XDF 3): `hh:mm` or `hh:mm:ss`.
    Time,
    /// `datetime` (XDF 3): `YYYY-MM-DDThh:mm:ss` with optional zone.
    DateTime,
    /// `bool`.
    Bool,
    /// `num`: a decimal number.
    Number,
    /// `num_int`: an integer.
    Integer,
    /// `num_currency`: an amount of money.
    Currency,
    /// `file`: an attachment (the submission holds its reference).
    File,
    /// `obj`: a static object (the submission holds its reference).
    Object,
}

impl DataType {
    /// The XDatenfelder code.
    pub fn code(self) -> &'static str {
        match self {
            DataType::Text => "text",
            DataType::TextLatin => "text_latin",
            DataType::Date => "date",
            DataType::Time => "time",
            DataType::DateTime => "datetime",
            DataType::Bool => "bool",
            DataType::Number => "num",
            DataType::Integer => "num_int",
            DataType::Currency => "num_currency",
            DataType::File => "file",
            DataType::Object => "obj",
        }
    }

    /// True for text types (length constraints apply).
    pub fn is_text(self) -> bool {
        matches!(self, DataType::Text | DataType::TextLatin)
    }

    /// True for numeric types (submitted as JSON numbers).
    pub fn is_numeric(self) -> bool {
        matches!(
            self,
            DataType::Number | DataType::Integer | DataType::Currency
        )
    }
}

/// Constraints of a field (`praezisierung`).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Constraints {
    /// Minimum length in characters.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub min_length: Option<u32>,
    /// Maximum length in characters.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub max_length: Option<u32>,
    /// Lower bound (a number, or a date/time for temporal types), as written in the source.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub min_value: Option<String>,
    /// Upper bound, like `min_value`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub max_value: Option<String>,
    /// Regular expression the whole value must match (XML Schema semantics: anchored).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub pattern: Option<String>,
}

impl Constraints {
    /// True when no constraint is set.
    pub fn is_empty(&self) -> bool {
        *self == Constraints::default()
    }
}

/// A code list with its values.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct CodeList {
    /// Canonical identification (URN) of the list; empty for an inline value list.
    pub urn: String,
    /// Version of the list, if given.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub version: Option<String>,
    /// The values, in order.
    pub values: Vec<CodeValue>,
}

/// One entry of a code list.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct CodeValue {
    /// The code that is submitted.
    pub code: String,
    /// The label shown to citizens.
    pub label: String,
}

/// A FIM rule (`regel`), kept as documentation of the element it belongs to.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Rule {
    /// Rule id without version (e.g. `R60000037`).
    pub id: String,
    /// Rule version.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub version: Option<String>,
    /// Name of the rule.
    pub name: String,
    /// Description (`beschreibung`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub description: Option<String>,
    /// The rule in words (`definition` in XDF 2, `freitextRegel` in XDF 3).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub text: Option<String>,
    /// The script (`script` / `skript`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub script: Option<String>,
    /// Rule type code (XDF 3 `typ`, e.g. `K`, `V`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub kind: Option<String>,
}

/// Show an element only if a sibling field (a field in the same object of the submission) has a
/// given value.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Condition {
    /// Id of the sibling field.
    pub field: String,
    /// The value it must have (a string code, a boolean or a number).
    pub equals: serde_json::Value,
}

/// An account attribute used to prefill a field.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Prefill {
    /// Given name(s).
    GivenName,
    /// Family name.
    FamilyName,
    /// Birth date.
    Birthdate,
    /// Street.
    Street,
    /// House number.
    HouseNumber,
    /// Postal code.
    PostalCode,
    /// Locality (city).
    Locality,
    /// Country.
    Country,
    /// E-mail address.
    Email,
    /// Phone number.
    Phone,
}

impl Element {
    /// The element id.
    pub fn id(&self) -> &str {
        match self {
            Element::Group(g) => &g.id,
            Element::Field(f) => &f.id,
        }
    }

    /// The element version.
    pub fn version(&self) -> &str {
        match self {
            Element::Group(g) => &g.version,
            Element::Field(f) => &f.version,
        }
    }

    /// The label.
    pub fn label(&self) -> &str {
        match self {
            Element::Group(g) => &g.label,
            Element::Field(f) => &f.label,
        }
    }

    /// Minimum number of occurrences.
    pub fn min(&self) -> u32 {
        match self {
            Element::Group(g) => g.min,
            Element::Field(f) => f.min,
        }
    }

    /// Maximum number of occurrences (`None` = unbounded).
    pub fn max(&self) -> Option<u32> {
        match self {
            Element::Group(g) => g.max,
            Element::Field(f) => f.max,
        }
    }

    /// The condition, if any.
    pub fn condition(&self) -> Option<&Condition> {
        match self {
            Element::Group(g) => g.condition.as_ref(),
            Element::Field(f) => f.condition.as_ref(),
        }
    }

    /// True if the element carries data (everything but label fields).
    pub fn has_data(&self) -> bool {
        !matches!(self, Element::Field(f) if f.kind == FieldKind::Label)
    }

    /// True if the submission holds an array for this element (max above 1).
    pub fn is_repeated(&self) -> bool {
        self.max() != Some(1) && self.max() != Some(0)
    }

    /// The cardinality as FIM writes it (`1:1`, `0:*`).
    pub fn anzahl(&self) -> String {
        anzahl(self.min(), self.max())
    }
}

/// Formats a cardinality as FIM `anzahl` (`0:1`, `1:*`).
pub fn anzahl(min: u32, max: Option<u32>) -> String {
    match max {
        Some(m) => format!("{min}:{m}"),
        None => format!("{min}:*"),
    }
}

impl Form {
    /// Pages of the form: the explicit [`Form::steps`], or one page per top-level group and one
    /// page for each run of consecutive top-level fields ("Weitere Angaben").
    pub fn effective_steps(&self) -> Vec<Step> {
        if self.steps.is_empty() {
            self.default_steps()
        } else {
            self.steps.clone()
        }
    }

    /// The default pages: one per top-level group, one per run of consecutive top-level fields.
    pub fn default_steps(&self) -> Vec<Step> {
        let mut steps: Vec<Step> = Vec::new();
        let mut loose: Option<Step> = None;
        for e in &self.elements {
            match e {
                Element::Group(g) => {
                    if let Some(s) = loose.take() {
                        steps.push(s);
                    }
                    steps.push(Step {
                        title: g.label.clone(),
                        elements: vec![g.id.clone()],
                    });
                }
                Element::Field(f) => loose
                    .get_or_insert_with(|| Step {
                        title: "Weitere Angaben".into(),
                        elements: Vec::new(),
                    })
                    .elements
                    .push(f.id.clone()),
            }
        }
        if let Some(s) = loose {
            steps.push(s);
        }
        steps
    }

    /// Visits every element of the tree (depth first, in order).
    pub fn walk(&self, mut f: impl FnMut(&Element)) {
        fn go(elements: &[Element], f: &mut impl FnMut(&Element)) {
            for e in elements {
                f(e);
                if let Element::Group(g) = e {
                    go(&g.children, f);
                }
            }
        }
        go(&self.elements, &mut f);
    }

    /// Checks the structural rules a form must keep (used for builder input): ids unique among
    /// siblings and non-empty, cardinality `min <= max`, conditions referring to a sibling field
    /// that is neither repeated nor itself conditional, code values unique, patterns valid,
    /// steps naming every top-level element exactly once. Returns German messages.
    pub fn check(&self) -> Result<(), Vec<String>> {
        let mut errors = Vec::new();
        if self.id.trim().is_empty() {
            errors.push("Das Formular hat keine Kennung.".to_string());
        }
        check_level(&self.elements, "", &mut errors);
        if !self.steps.is_empty() {
            let mut seen: Vec<&str> = Vec::new();
            for s in &self.steps {
                for id in &s.elements {
                    if !self.elements.iter().any(|e| e.id() == id) {
                        errors.push(format!(
                            "Seite „{}“ nennt das unbekannte Element {id}.",
                            s.title
                        ));
                    }
                    if seen.contains(&id.as_str()) {
                        errors.push(format!("Element {id} steht auf mehreren Seiten."));
                    }
                    seen.push(id);
                }
            }
            for e in &self.elements {
                if !seen.contains(&e.id()) {
                    errors.push(format!("Element {} steht auf keiner Seite.", e.id()));
                }
            }
        }
        if errors.is_empty() {
            Ok(())
        } else {
            Err(errors)
        }
    }
}

/// True for ids usable as JSON keys, XML element names and path segments.
pub fn is_ncname(id: &str) -> bool {
    let mut chars = id.chars();
    chars
        .next()
        .is_some_and(|c| c.is_ascii_alphabetic() || c == '_')
        && chars.all(|c| c.is_ascii_alphanumeric() || matches!(c, '_' | '-' | '.'))
}

fn check_level(elements: &[Element], path: &str, errors: &mut Vec<String>) {
    for (i, e) in elements.iter().enumerate() {
        let here = if path.is_empty() {
            e.id().to_string()
        } else {
            format!("{path}/{}", e.id())
        };
        if e.id().trim().is_empty() {
            errors.push(format!("Ein Element unter „{path}“ hat keine Kennung."));
        } else if !is_ncname(e.id()) {
            errors.push(format!(
                "{here}: Kennungen bestehen aus Buchstaben, Ziffern, „_“, „-“ und „.“ und beginnen mit einem Buchstaben."
            ));
        }
        if elements[..i].iter().any(|o| o.id() == e.id()) {
            errors.push(format!("Die Kennung {here} kommt mehrfach vor."));
        }
        if let Some(max) = e.max()
            && e.min() > max
        {
            errors.push(format!("{here}: Mindestanzahl größer als Höchstanzahl."));
        }
        if let Some(c) = e.condition() {
            match elements.iter().find(|o| o.id() == c.field) {
                Some(Element::Field(f))
                    if f.kind != FieldKind::Label
                        && !Element::Field(f.clone()).is_repeated()
                        && f.condition.is_none()
                        && f.id != e.id() => {}
                _ => errors.push(format!(
                    "{here}: Die Bedingung muss sich auf ein nicht wiederholtes, unbedingtes Feld derselben Ebene beziehen ({}).",
                    c.field
                )),
            }
        }
        match e {
            Element::Group(g) => {
                if g.children.is_empty() {
                    errors.push(format!("{here}: Die Gruppe enthält keine Elemente."));
                }
                check_level(&g.children, &here, errors);
            }
            Element::Field(f) => {
                if let Some(p) = &f.constraints.pattern
                    && regex::Regex::new(&format!("^(?:{p})$")).is_err()
                {
                    errors.push(format!("{here}: Das Muster „{p}“ ist ungültig."));
                }
                if let Some(cl) = &f.code_list {
                    for (j, v) in cl.values.iter().enumerate() {
                        if cl.values[..j].iter().any(|o| o.code == v.code) {
                            errors
                                .push(format!("{here}: Der Code „{}“ kommt mehrfach vor.", v.code));
                        }
                    }
                }
            }
        }
    }
}
