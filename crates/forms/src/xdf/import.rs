//! Reading XDF 2 and XDF 3.0.0 into the model. Every child element is checked against the list
//! of elements this importer knows: unknown ones, repeated single ones and missing required
//! ones are refused with the element and its context named.

use super::{ImportError, Imported, NS_XDF1, NS_XDF2, NS_XDF3};
use crate::codelist::{CodeListRef, CodeListSource};
use crate::model::{
    CodeList, CodeValue, Constraints, DataType, Element, Field, FieldKind, FimMeta, Form, Group,
    Rule, Source, XdfVersion,
};
use crate::xml::{self, Limits, Node};
use std::collections::{HashMap, HashSet};

#[derive(Clone, Copy, PartialEq, Eq)]
enum Occ {
    /// At most once.
    One,
    /// Exactly once.
    Req,
    /// Any number.
    Many,
}
use Occ::{Many, One, Req};

type Spec = &'static [(&'static str, Occ)];

const V2_COMMON: Spec = &[
    ("identifikation", Req),
    ("name", Req),
    ("bezeichnungEingabe", One),
    ("bezeichnungAusgabe", One),
    ("beschreibung", One),
    ("definition", One),
    ("bezug", One),
    ("status", One),
    ("gueltigAb", One),
    ("gueltigBis", One),
    ("fachlicherErsteller", One),
    ("versionshinweis", One),
    ("freigabedatum", One),
    ("veroeffentlichungsdatum", One),
];
const V2_SCHEMA: Spec = &[
    ("hilfetext", One),
    ("ableitungsmodifikationenStruktur", One),
    ("ableitungsmodifikationenRepraesentation", One),
    ("regel", Many),
    ("struktur", Many),
];
const V2_GROUP: Spec = &[
    ("schemaelementart", One),
    ("hilfetextEingabe", One),
    ("hilfetextAusgabe", One),
    ("regel", Many),
    ("struktur", Many),
];
const V2_FIELD: Spec = &[
    ("schemaelementart", One),
    ("hilfetextEingabe", One),
    ("hilfetextAusgabe", One),
    ("feldart", Req),
    ("datentyp", Req),
    ("praezisierung", One),
    ("inhalt", One),
    ("codelisteReferenz", One),
    ("regel", Many),
];
const V2_RULE: Spec = &[("script", One)];
const V2_STRUKTUR: Spec = &[("anzahl", Req), ("bezug", One), ("enthaelt", Req)];

const V3_COMMON: Spec = &[
    ("identifikation", Req),
    ("name", Req),
    ("beschreibung", One),
    ("definition", One),
    ("bezug", Many),
    ("freigabestatus", One),
    ("statusGesetztAm", One),
    ("statusGesetztDurch", One),
    ("gueltigAb", One),
    ("gueltigBis", One),
    ("versionshinweis", One),
    ("veroeffentlichungsdatum", One),
    ("letzteAenderung", One),
    ("relation", Many),
    ("stichwort", Many),
];
const V3_SCHEMA: Spec = &[
    ("bezeichnung", One),
    ("hilfetext", One),
    ("ableitungsmodifikationenStruktur", One),
    ("ableitungsmodifikationenRepraesentation", One),
    ("dokumentsteckbrief", One),
    ("regel", Many),
    ("struktur", Many),
];
const V3_ELEMENT: Spec = &[
    ("bezeichnungEingabe", One),
    ("bezeichnungAusgabe", One),
    ("schemaelementart", One),
    ("hilfetextEingabe", One),
    ("hilfetextAusgabe", One),
];
const V3_GROUP: Spec = &[("art", One), ("regel", Many), ("struktur", Many)];
const V3_FIELD: Spec = &[
    ("feldart", Req),
    ("datentyp", Req),
    ("praezisierung", One),
    ("inhalt", One),
    ("vorbefuellung", One),
    ("werte", One),
    ("codelisteReferenz", One),
    ("codeKey", One),
    ("nameKey", One),
    ("helpKey", One),
    ("maxSize", One),
    ("mediaType", Many),
    ("regel", Many),
];
const V3_RULE: Spec = &[
    ("identifikation", Req),
    ("name", Req),
    ("beschreibung", One),
    ("freitextRegel", One),
    ("bezug", Many),
    ("stichwort", Many),
    ("fachlicherErsteller", One),
    ("letzteAenderung", One),
    ("typ", One),
    ("skript", One),
];
const V3_STRUKTUR: Spec = &[("anzahl", Req), ("bezug", Many), ("enthaelt", Req)];

struct Reader<'a> {
    v: XdfVersion,
    ns: &'static str,
    codelists: &'a dyn CodeListSource,
    warnings: Vec<String>,
    groups: HashSet<String>,
    fields: HashSet<String>,
    defined: HashMap<(String, String), String>,
    resolved: HashMap<(String, Option<String>), Option<CodeList>>,
    path: Vec<String>,
}

/// Imports an XDF 2 or XDF 3.0.0 document (`xdatenfelder.stammdatenschema.0102` or
/// `xdatenfelder.datenfeldgruppe.0103`) with the default [`Limits`] (20 MB, depth 128).
pub fn import(xml: &[u8], codelists: &dyn CodeListSource) -> Result<Imported, ImportError> {
    import_with_limits(xml, codelists, &Limits::default())
}

/// [`import`] with explicit limits.
pub fn import_with_limits(
    xml: &[u8],
    codelists: &dyn CodeListSource,
    limits: &Limits,
) -> Result<Imported, ImportError> {
    let root = xml::parse(xml, limits)?;
    let (v, ns) = match root.ns.as_str() {
        NS_XDF2 => (XdfVersion::V2, NS_XDF2),
        NS_XDF3 => (XdfVersion::V3, NS_XDF3),
        NS_XDF1 => return Err(ImportError::Xdf1),
        other => {
            return Err(ImportError::UnknownNamespace {
                ns: other.to_string(),
                element: root.qname.clone(),
            });
        }
    };
    let mut r = Reader {
        v,
        ns,
        codelists,
        warnings: Vec::new(),
        groups: HashSet::new(),
        fields: HashSet::new(),
        defined: HashMap::new(),
        resolved: HashMap::new(),
        path: Vec::new(),
    };
    let form = match root.name.as_str() {
        "xdatenfelder.stammdatenschema.0102" => {
            r.check(
                &root,
                "der Nachricht",
                &[&[("header", Req), ("stammdatenschema", Req)]],
            )?;
            r.header(&root)?;
            let schema = root
                .child("stammdatenschema")
                .ok_or_else(|| missing("stammdatenschema", "der Nachricht"))?;
            r.schema(schema)?
        }
        "xdatenfelder.datenfeldgruppe.0103" => {
            r.check(
                &root,
                "der Nachricht",
                &[&[("header", Req), ("datenfeldgruppe", Req)]],
            )?;
            r.header(&root)?;
            let g = root
                .child("datenfeldgruppe")
                .ok_or_else(|| missing("datenfeldgruppe", "der Nachricht"))?;
            let group = r.group(g, 1, Some(1), None)?;
            Form {
                id: group.id.clone(),
                version: group.version.clone(),
                name: group.name.clone(),
                title: group.label.clone(),
                description: group.description.clone(),
                help: group.help.clone(),
                source: Some(Source {
                    schema_id: group.id.clone(),
                    schema_version: group.version.clone(),
                    xdf_version: v,
                }),
                trust_level: None,
                fee: None,
                fim: FimMeta::default(),
                rules: Vec::new(),
                elements: vec![Element::Group(group)],
                steps: Vec::new(),
            }
        }
        _ => {
            return Err(ImportError::UnsupportedMessage {
                element: root.qname.clone(),
            });
        }
    };
    Ok(Imported {
        form,
        groups: r.groups.len(),
        fields: r.fields.len(),
        warnings: r.warnings,
    })
}

fn missing(element: &str, context: &str) -> ImportError {
    ImportError::Missing {
        element: element.to_string(),
        context: context.to_string(),
    }
}

fn invalid(element: &str, value: &str, context: &str, expected: &str) -> ImportError {
    ImportError::InvalidValue {
        element: format!("xdf:{element}"),
        value: value.to_string(),
        context: context.to_string(),
        expected: expected.to_string(),
    }
}

/// Parses FIM `anzahl` (`1:1`, `0:n`, `0:*`, `1:5`).
pub(crate) fn parse_anzahl(text: &str) -> Option<(u32, Option<u32>)> {
    let (a, b) = text.trim().split_once(':')?;
    let min: u32 = a.trim().parse().ok()?;
    let max = match b.trim() {
        "*" | "n" | "N" => None,
        m => Some(m.parse::<u32>().ok()?),
    };
    match max {
        Some(m) if m < min || m == 0 => None,
        _ => Some((min, max)),
    }
}

impl Reader<'_> {
    /// Checks the children of `node` against the union of `specs`.
    fn check(&self, node: &Node, context: &str, specs: &[Spec]) -> Result<(), ImportError> {
        let mut counts: HashMap<&str, usize> = HashMap::new();
        for c in &node.children {
            let spec = specs
                .iter()
                .flat_map(|s| s.iter())
                .find(|(n, _)| *n == c.name);
            match spec {
                Some((name, occ)) if c.ns == self.ns => {
                    let n = counts.entry(name).or_default();
                    *n += 1;
                    if *n > 1 && *occ != Many {
                        return Err(ImportError::Duplicate {
                            element: c.qname.clone(),
                            context: context.to_string(),
                            line: c.line,
                        });
                    }
                }
                _ => {
                    return Err(ImportError::Unsupported {
                        element: c.qname.clone(),
                        context: context.to_string(),
                        line: c.line,
                    });
                }
            }
        }
        for (name, occ) in specs.iter().flat_map(|s| s.iter()) {
            if *occ == Req && !counts.contains_key(name) {
                return Err(missing(name, context));
            }
        }
        Ok(())
    }

    fn header(&self, root: &Node) -> Result<(), ImportError> {
        if let Some(h) = root.child("header") {
            self.check(
                h,
                "dem Nachrichtenkopf",
                &[&[
                    ("nachrichtID", One),
                    ("erstellungszeitpunkt", One),
                    ("referenzNachrichtID", One),
                ]],
            )?;
        }
        Ok(())
    }

    fn text(node: &Node, name: &str) -> Option<String> {
        node.child(name).and_then(Node::trimmed)
    }

    /// The `code` of a code element (`<xdf:feldart><code>input</code></xdf:feldart>`).
    fn code(&self, node: &Node, name: &str, context: &str) -> Result<Option<String>, ImportError> {
        let Some(el) = node.child(name) else {
            return Ok(None);
        };
        let ctx = format!("`{}` in {context}", el.qname);
        for c in &el.children {
            if c.name != "code" || !(c.ns.is_empty() || c.ns == self.ns) {
                return Err(ImportError::Unsupported {
                    element: c.qname.clone(),
                    context: ctx,
                    line: c.line,
                });
            }
        }
        if el.children.len() > 1 {
            return Err(ImportError::Duplicate {
                element: "code".into(),
                context: ctx,
                line: el.children[1].line,
            });
        }
        match el.children.first().and_then(Node::trimmed) {
            Some(code) => Ok(Some(code)),
            None => Err(ImportError::Missing {
                element: format!("{name}/code"),
                context: context.to_string(),
            }),
        }
    }

    fn code_in(
        &self,
        node: &Node,
        name: &str,
        context: &str,
        allowed: &[&str],
    ) -> Result<Option<String>, ImportError> {
        let code = self.code(node, name, context)?;
        if let Some(c) = &code
            && !allowed.contains(&c.as_str())
        {
            return Err(invalid(
                name,
                c,
                context,
                &format!("erlaubt sind {}", allowed.join(", ")),
            ));
        }
        Ok(code)
    }

    /// `(id, version)` of an element; checks `identifikation`.
    fn ident(&self, node: &Node, context: &str) -> Result<(String, String), ImportError> {
        let ident = node
            .child("identifikation")
            .ok_or_else(|| missing("identifikation", context))?;
        self.check(ident, context, &[&[("id", Req), ("version", One)]])?;
        let id_node = ident
            .child("id")
            .ok_or_else(|| missing("identifikation/id", context))?;
        let id = id_node.trimmed().ok_or_else(|| ImportError::EmptyId {
            context: context.to_string(),
            line: id_node.line,
        })?;
        let version = Self::text(ident, "version").unwrap_or_default();
        Ok((id, version))
    }

    fn kind_name(node: &Node) -> &'static str {
        match node.name.as_str() {
            "datenfeld" => "Datenfeld",
            "datenfeldgruppe" => "Datenfeldgruppe",
            "stammdatenschema" => "Stammdatenschema",
            "regel" => "Regel",
            _ => "Element",
        }
    }

    /// Context name with id, for messages ("Datenfeld F123"); falls back to the line.
    fn context_of(node: &Node) -> String {
        let id = node
            .child("identifikation")
            .and_then(|i| i.child("id"))
            .and_then(Node::trimmed);
        match id {
            Some(id) => format!("{} {id}", Self::kind_name(node)),
            None => format!("{} (Zeile {})", Self::kind_name(node), node.line),
        }
    }

    fn status(&self, node: &Node, context: &str) -> Result<(), ImportError> {
        match self.v {
            XdfVersion::V2 => {
                self.code_in(
                    node,
                    "status",
                    context,
                    &["inVorbereitung", "aktiv", "inaktiv"],
                )?;
            }
            XdfVersion::V3 => {
                self.code_in(
                    node,
                    "freigabestatus",
                    context,
                    &["1", "2", "3", "4", "5", "6", "7", "8"],
                )?;
            }
        }
        Ok(())
    }

    /// Common metadata of groups and fields.
    fn meta(&self, node: &Node, context: &str) -> Result<FimMeta, ImportError> {
        let element_kind =
            self.code_in(node, "schemaelementart", context, &["ABS", "HAR", "RNG"])?;
        let legal_basis = self.bezug(node);
        let creator = match self.v {
            XdfVersion::V2 => Self::text(node, "fachlicherErsteller"),
            XdfVersion::V3 => Self::text(node, "statusGesetztDurch"),
        };
        Ok(FimMeta {
            definition: Self::text(node, "definition"),
            legal_basis,
            usage_basis: None,
            element_kind,
            output_label: Self::text(node, "bezeichnungAusgabe"),
            output_help: Self::text(node, "hilfetextAusgabe"),
            creator,
        })
    }

    /// `bezug` (XDF 2: once, XDF 3: repeatable; joined by line breaks).
    fn bezug(&self, node: &Node) -> Option<String> {
        let parts: Vec<String> = node
            .children_named("bezug")
            .filter_map(Node::trimmed)
            .map(|t| normalize_ws(&t))
            .collect();
        (!parts.is_empty()).then(|| parts.join("\n"))
    }

    fn schema(&mut self, node: &Node) -> Result<Form, ImportError> {
        let context = Self::context_of(node);
        match self.v {
            XdfVersion::V2 => self.check(node, &context, &[V2_COMMON, V2_SCHEMA])?,
            XdfVersion::V3 => self.check(node, &context, &[V3_COMMON, V3_SCHEMA])?,
        }
        let (id, version) = self.ident(node, &context)?;
        self.status(node, &context)?;
        self.code_in(
            node,
            "ableitungsmodifikationenStruktur",
            &context,
            &["0", "1", "2", "3"],
        )?;
        self.code_in(
            node,
            "ableitungsmodifikationenRepraesentation",
            &context,
            &["0", "1"],
        )?;
        if let Some(d) = node.child("dokumentsteckbrief") {
            self.check(d, &context, &[&[("id", Req), ("version", One)]])?;
        }
        self.check_v3_extras(node, &context)?;
        let name = Self::text(node, "name").unwrap_or_default();
        let title = match self.v {
            XdfVersion::V2 => Self::text(node, "bezeichnungEingabe"),
            XdfVersion::V3 => Self::text(node, "bezeichnung"),
        }
        .unwrap_or_else(|| name.clone());
        let mut rules = Vec::new();
        for rn in node.children_named("regel") {
            rules.push(self.rule(rn)?);
        }
        let elements = self.strukturen(node, &context)?;
        let fim = FimMeta {
            definition: Self::text(node, "definition"),
            legal_basis: self.bezug(node),
            creator: match self.v {
                XdfVersion::V2 => Self::text(node, "fachlicherErsteller"),
                XdfVersion::V3 => Self::text(node, "statusGesetztDurch"),
            },
            ..FimMeta::default()
        };
        Ok(Form {
            source: Some(Source {
                schema_id: id.clone(),
                schema_version: version.clone(),
                xdf_version: self.v,
            }),
            id,
            version,
            name,
            title,
            description: Self::text(node, "beschreibung"),
            help: Self::text(node, "hilfetext"),
            trust_level: None,
            fee: None,
            fim,
            rules,
            elements,
            steps: Vec::new(),
        })
    }

    /// Checks the sub-structure of XDF 3 `relation` and `stichwort` (kept out of the model).
    fn check_v3_extras(&self, node: &Node, context: &str) -> Result<(), ImportError> {
        if self.v != XdfVersion::V3 {
            return Ok(());
        }
        for rel in node.children_named("relation") {
            self.check(rel, context, &[&[("praedikat", Req), ("objekt", Req)]])?;
            self.code_in(rel, "praedikat", context, &["ABL", "ERS", "EQU", "VKN"])?;
            if let Some(o) = rel.child("objekt") {
                self.check(o, context, &[&[("id", Req), ("version", One)]])?;
            }
        }
        for s in node
            .children_named("stichwort")
            .chain(node.children_named("bezug"))
        {
            if let Some(c) = s.children.first() {
                return Err(ImportError::Unsupported {
                    element: c.qname.clone(),
                    context: context.to_string(),
                    line: c.line,
                });
            }
        }
        Ok(())
    }

    fn strukturen(&mut self, node: &Node, context: &str) -> Result<Vec<Element>, ImportError> {
        let mut out: Vec<Element> = Vec::new();
        for s in node.children_named("struktur") {
            let sctx = format!("einer Struktur von {context} (Zeile {})", s.line);
            match self.v {
                XdfVersion::V2 => self.check(s, &sctx, &[V2_STRUKTUR])?,
                XdfVersion::V3 => self.check(s, &sctx, &[V3_STRUKTUR])?,
            }
            let anzahl_text = Self::text(s, "anzahl").unwrap_or_default();
            let (min, max) = parse_anzahl(&anzahl_text).ok_or_else(|| {
                invalid(
                    "anzahl",
                    &anzahl_text,
                    &sctx,
                    "erwartet min:max mit min ≤ max, z. B. 1:1, 0:1, 0:n, 1:5",
                )
            })?;
            let usage_basis = self.bezug(s);
            let enthaelt = s
                .child("enthaelt")
                .ok_or_else(|| missing("enthaelt", &sctx))?;
            if enthaelt.children.len() != 1 {
                return Err(invalid(
                    "enthaelt",
                    &format!("{} Elemente", enthaelt.children.len()),
                    &sctx,
                    "erwartet genau eine Datenfeldgruppe oder ein Datenfeld",
                ));
            }
            let child = &enthaelt.children[0];
            let element = match (child.ns == self.ns, child.name.as_str()) {
                (true, "datenfeldgruppe") => {
                    Element::Group(self.group(child, min, max, usage_basis)?)
                }
                (true, "datenfeld") => Element::Field(self.field(child, min, max, usage_basis)?),
                _ => {
                    return Err(ImportError::Unsupported {
                        element: child.qname.clone(),
                        context: sctx,
                        line: child.line,
                    });
                }
            };
            if out.iter().any(|e| e.id() == element.id()) {
                return Err(ImportError::DuplicateChild {
                    id: element.id().to_string(),
                    context: context.to_string(),
                });
            }
            out.push(element);
        }
        Ok(out)
    }

    fn rule(&mut self, node: &Node) -> Result<Rule, ImportError> {
        let context = Self::context_of(node);
        match self.v {
            XdfVersion::V2 => self.check(node, &context, &[V2_COMMON, V2_RULE])?,
            XdfVersion::V3 => self.check(node, &context, &[V3_RULE])?,
        }
        let (id, version) = self.ident(node, &context)?;
        if self.v == XdfVersion::V2 {
            self.status(node, &context)?;
        }
        self.check_v3_extras(node, &context)?;
        let (text, script, kind) = match self.v {
            XdfVersion::V2 => (
                Self::text(node, "definition"),
                Self::text(node, "script"),
                None,
            ),
            XdfVersion::V3 => (
                Self::text(node, "freitextRegel"),
                Self::text(node, "skript"),
                self.code(node, "typ", &context)?,
            ),
        };
        Ok(Rule {
            id,
            version: (!version.is_empty()).then_some(version),
            name: Self::text(node, "name").unwrap_or_default(),
            description: Self::text(node, "beschreibung"),
            text,
            script,
            kind,
        })
    }

    /// Records a definition; refuses the same id and version with different content.
    fn define(&mut self, kind: &str, mut canon: Element) -> Result<(), ImportError> {
        match &mut canon {
            Element::Group(g) => {
                g.min = 0;
                g.max = None;
                g.fim.usage_basis = None;
            }
            Element::Field(f) => {
                f.min = 0;
                f.max = None;
                f.fim.usage_basis = None;
            }
        }
        let fingerprint = serde_json::to_string(&canon).unwrap_or_default();
        let key = (canon.id().to_string(), canon.version().to_string());
        match self.defined.get(&key) {
            Some(prev) if *prev != fingerprint => Err(ImportError::Conflict {
                kind: kind.to_string(),
                id: key.0,
                version: key.1,
            }),
            _ => {
                self.defined.insert(key, fingerprint);
                Ok(())
            }
        }
    }

    fn group(
        &mut self,
        node: &Node,
        min: u32,
        max: Option<u32>,
        usage_basis: Option<String>,
    ) -> Result<Group, ImportError> {
        let context = Self::context_of(node);
        match self.v {
            XdfVersion::V2 => self.check(node, &context, &[V2_COMMON, V2_GROUP])?,
            XdfVersion::V3 => self.check(node, &context, &[V3_COMMON, V3_ELEMENT, V3_GROUP])?,
        }
        let (id, version) = self.ident(node, &context)?;
        if self.path.contains(&id) {
            let mut chain = self.path.clone();
            chain.push(id.clone());
            return Err(ImportError::Cycle {
                id,
                path: chain.join(" → "),
            });
        }
        self.status(node, &context)?;
        self.check_v3_extras(node, &context)?;
        if let Some(art) = self.code(node, "art", &context)? {
            return Err(ImportError::Unsupported {
                element: format!("xdf:art (Gruppenart „{art}“, Auswahlgruppe)"),
                context,
                line: node.child("art").map(|a| a.line).unwrap_or(node.line),
            });
        }
        self.groups.insert(id.clone());
        let mut fim = self.meta(node, &context)?;
        fim.usage_basis = usage_basis;
        let mut rules = Vec::new();
        for rn in node.children_named("regel") {
            rules.push(self.rule(rn)?);
        }
        self.path.push(id.clone());
        let children = self.strukturen(node, &context);
        self.path.pop();
        let children = children?;
        let name = Self::text(node, "name").unwrap_or_default();
        let group = Group {
            label: Self::text(node, "bezeichnungEingabe").unwrap_or_else(|| name.clone()),
            id,
            version,
            name,
            help: Self::text(node, "hilfetextEingabe"),
            description: Self::text(node, "beschreibung"),
            min,
            max,
            condition: None,
            rules,
            fim,
            children,
        };
        self.define("Datenfeldgruppe", Element::Group(group.clone()))?;
        Ok(group)
    }

    fn field(
        &mut self,
        node: &Node,
        min: u32,
        max: Option<u32>,
        usage_basis: Option<String>,
    ) -> Result<Field, ImportError> {
        let context = Self::context_of(node);
        match self.v {
            XdfVersion::V2 => self.check(node, &context, &[V2_COMMON, V2_FIELD])?,
            XdfVersion::V3 => self.check(node, &context, &[V3_COMMON, V3_ELEMENT, V3_FIELD])?,
        }
        let (id, version) = self.ident(node, &context)?;
        self.status(node, &context)?;
        self.check_v3_extras(node, &context)?;
        self.fields.insert(id.clone());
        let kind_codes: &[&str] = match self.v {
            XdfVersion::V2 => &["input", "select", "label"],
            XdfVersion::V3 => &["input", "select", "label", "hidden", "locked"],
        };
        let type_codes: &[&str] = match self.v {
            XdfVersion::V2 => &[
                "text",
                "date",
                "bool",
                "num",
                "num_int",
                "num_currency",
                "file",
                "obj",
            ],
            XdfVersion::V3 => &[
                "text",
                "text_latin",
                "date",
                "time",
                "datetime",
                "bool",
                "num",
                "num_int",
                "num_currency",
                "file",
                "obj",
            ],
        };
        let kind = match self
            .code_in(node, "feldart", &context, kind_codes)?
            .as_deref()
        {
            Some("select") => FieldKind::Select,
            Some("label") => FieldKind::Label,
            Some("hidden") => FieldKind::Hidden,
            Some("locked") => FieldKind::Locked,
            _ => FieldKind::Input,
        };
        let datatype = match self
            .code_in(node, "datentyp", &context, type_codes)?
            .as_deref()
        {
            Some("text_latin") => DataType::TextLatin,
            Some("date") => DataType::Date,
            Some("time") => DataType::Time,
            Some("datetime") => DataType::DateTime,
            Some("bool") => DataType::Bool,
            Some("num") => DataType::Number,
            Some("num_int") => DataType::Integer,
            Some("num_currency") => DataType::Currency,
            Some("file") => DataType::File,
            Some("obj") => DataType::Object,
            _ => DataType::Text,
        };
        if self.v == XdfVersion::V3 {
            self.code_in(
                node,
                "vorbefuellung",
                &context,
                &["keine", "optional", "verpflichtend"],
            )?;
        }
        let constraints = self.praezisierung(node, &context)?;
        let mut field = Field {
            label: String::new(),
            id: id.clone(),
            version,
            name: Self::text(node, "name").unwrap_or_default(),
            help: Self::text(node, "hilfetextEingabe"),
            description: Self::text(node, "beschreibung"),
            kind,
            datatype,
            constraints,
            code_list: None,
            min,
            max,
            content: node.child("inhalt").and_then(Node::trimmed),
            placeholder: None,
            condition: None,
            prefill: None,
            media_types: node
                .children_named("mediaType")
                .filter_map(Node::trimmed)
                .collect(),
            max_size: None,
            rules: Vec::new(),
            fim: self.meta(node, &context)?,
        };
        field.label = Self::text(node, "bezeichnungEingabe").unwrap_or_else(|| field.name.clone());
        field.fim.usage_basis = usage_basis;
        if let Some(ms) = Self::text(node, "maxSize") {
            field.max_size = Some(ms.parse().map_err(|_| {
                invalid("maxSize", &ms, &context, "erwartet eine ganze Zahl (Bytes)")
            })?);
        }
        if node.child("helpKey").is_some() {
            self.warn(format!(
                "{context}: die Hilfetext-Spalte (helpKey) der Codeliste wird nicht übernommen."
            ));
        }
        for rn in node.children_named("regel") {
            let rule = self.rule(rn)?;
            field.rules.push(rule);
        }
        self.code_list(node, &context, &mut field)?;
        self.define("Datenfeld", Element::Field(field.clone()))?;
        Ok(field)
    }

    fn warn(&mut self, message: String) {
        if !self.warnings.contains(&message) {
            self.warnings.push(message);
        }
    }

    fn praezisierung(&self, node: &Node, context: &str) -> Result<Constraints, ImportError> {
        let Some(p) = node.child("praezisierung") else {
            return Ok(Constraints::default());
        };
        let mut c = Constraints::default();
        let mut set = |key: &str, value: String| -> Result<(), ImportError> {
            let len = |v: &str| {
                v.trim().parse::<u32>().map_err(|_| {
                    invalid(
                        &format!("praezisierung/{key}"),
                        v,
                        context,
                        "erwartet eine ganze Zahl ≥ 0",
                    )
                })
            };
            match key {
                "minLength" => c.min_length = Some(len(&value)?),
                "maxLength" => c.max_length = Some(len(&value)?),
                "minValue" => c.min_value = Some(value.trim().to_string()),
                "maxValue" => c.max_value = Some(value.trim().to_string()),
                "pattern" => c.pattern = Some(value),
                other => {
                    return Err(ImportError::Unsupported {
                        element: format!("praezisierung/{other}"),
                        context: context.to_string(),
                        line: p.line,
                    });
                }
            }
            Ok(())
        };
        match self.v {
            XdfVersion::V2 => {
                if let Some(c) = p.children.first() {
                    return Err(ImportError::Unsupported {
                        element: c.qname.clone(),
                        context: context.to_string(),
                        line: c.line,
                    });
                }
                let text = p.text.trim();
                if !text.is_empty() {
                    let map: serde_json::Map<String, serde_json::Value> =
                        serde_json::from_str(text).map_err(|e| {
                            invalid(
                                "praezisierung",
                                text,
                                context,
                                &format!("erwartet ein JSON-Objekt ({e})"),
                            )
                        })?;
                    for (k, v) in map {
                        let value = match v {
                            serde_json::Value::String(s) => s,
                            serde_json::Value::Number(n) => n.to_string(),
                            other => {
                                return Err(invalid(
                                    &format!("praezisierung/{k}"),
                                    &other.to_string(),
                                    context,
                                    "erwartet eine Zeichenkette oder Zahl",
                                ));
                            }
                        };
                        if !value.is_empty() {
                            set(&k, value)?;
                        }
                    }
                }
            }
            XdfVersion::V3 => {
                if let Some(c) = p.children.first() {
                    return Err(ImportError::Unsupported {
                        element: c.qname.clone(),
                        context: context.to_string(),
                        line: c.line,
                    });
                }
                if !p.text.trim().is_empty() {
                    return Err(invalid(
                        "praezisierung",
                        p.text.trim(),
                        context,
                        "die Präzisierung steht in den Attributen minLength, maxLength, minValue, maxValue, pattern; Text ist nicht erlaubt",
                    ));
                }
                for (k, v) in &p.attrs {
                    if !v.is_empty() {
                        set(k, v.clone())?;
                    }
                }
            }
        }
        if let (Some(a), Some(b)) = (c.min_length, c.max_length)
            && a > b
        {
            return Err(invalid(
                "praezisierung",
                &format!("minLength {a} > maxLength {b}"),
                context,
                "minLength darf nicht größer als maxLength sein",
            ));
        }
        if let Some(pat) = &c.pattern
            && regex::Regex::new(&format!("^(?:{pat})$")).is_err()
        {
            return Err(invalid(
                "praezisierung/pattern",
                pat,
                context,
                "kein gültiger regulärer Ausdruck",
            ));
        }
        Ok(c)
    }

    fn code_list(
        &mut self,
        node: &Node,
        context: &str,
        field: &mut Field,
    ) -> Result<(), ImportError> {
        if let Some(w) = node.child("werte") {
            self.check(w, context, &[&[("wert", Many)]])?;
            let mut values: Vec<CodeValue> = Vec::new();
            for wert in w.children_named("wert") {
                self.check(
                    wert,
                    context,
                    &[&[("code", Req), ("name", Req), ("hilfe", One)]],
                )?;
                let code = Self::text(wert, "code").unwrap_or_default();
                if code.is_empty() || values.iter().any(|v| v.code == code) {
                    return Err(invalid(
                        "werte/wert/code",
                        &code,
                        context,
                        "Codes einer Werteliste müssen gesetzt und eindeutig sein",
                    ));
                }
                values.push(CodeValue {
                    label: Self::text(wert, "name").unwrap_or_else(|| code.clone()),
                    code,
                });
            }
            if values.is_empty() {
                return Err(missing("werte/wert", context));
            }
            field.code_list = Some(CodeList {
                urn: String::new(),
                version: None,
                values,
            });
            return Ok(());
        }
        let Some(cr) = node.child("codelisteReferenz") else {
            if field.kind == FieldKind::Select {
                return Err(invalid(
                    "feldart",
                    "select",
                    context,
                    "ein Auswahlfeld braucht eine Werteliste oder eine Codelistenreferenz",
                ));
            }
            return Ok(());
        };
        let reference = match self.v {
            XdfVersion::V2 => {
                self.check(
                    cr,
                    context,
                    &[&[("identifikation", One), ("genericodeIdentification", Req)]],
                )?;
                let id = cr
                    .child("identifikation")
                    .map(|i| -> Result<Option<String>, ImportError> {
                        self.check(i, context, &[&[("id", One), ("version", One)]])?;
                        Ok(Self::text(i, "id"))
                    })
                    .transpose()?
                    .flatten();
                let g = cr
                    .child("genericodeIdentification")
                    .ok_or_else(|| missing("genericodeIdentification", context))?;
                self.check(
                    g,
                    context,
                    &[&[
                        ("canonicalIdentification", Req),
                        ("version", One),
                        ("canonicalVersionUri", One),
                    ]],
                )?;
                CodeListRef {
                    id,
                    urn: Self::text(g, "canonicalIdentification").unwrap_or_default(),
                    version: Self::text(g, "version"),
                    code_key: None,
                    name_key: None,
                }
            }
            XdfVersion::V3 => {
                self.check(
                    cr,
                    context,
                    &[&[
                        ("canonicalIdentification", Req),
                        ("version", One),
                        ("canonicalVersionUri", One),
                    ]],
                )?;
                CodeListRef {
                    id: None,
                    urn: Self::text(cr, "canonicalIdentification").unwrap_or_default(),
                    version: Self::text(cr, "version"),
                    code_key: Self::text(node, "codeKey"),
                    name_key: Self::text(node, "nameKey"),
                }
            }
        };
        if reference.urn.is_empty() {
            return Err(missing(
                "codelisteReferenz/canonicalIdentification",
                context,
            ));
        }
        let key = (reference.urn.clone(), reference.version.clone());
        let list = match self.resolved.get(&key) {
            Some(l) => l.clone(),
            None => {
                let l = self.codelists.resolve(&reference)?;
                self.resolved.insert(key, l.clone());
                l
            }
        };
        match list {
            Some(l) => {
                field.code_list = Some(l);
            }
            None => {
                let version = reference
                    .version
                    .as_deref()
                    .map(|v| format!(" (Version {v})"))
                    .unwrap_or_default();
                self.warn(format!(
                    "Codeliste {}{version} für {context} nicht gefunden: das Feld wird als Freitext übernommen.",
                    reference.urn
                ));
                field.kind = FieldKind::Input;
                field.datatype = DataType::Text;
                field.code_list = None;
            }
        }
        Ok(())
    }
}

fn normalize_ws(s: &str) -> String {
    s.split_whitespace().collect::<Vec<_>>().join(" ")
}
