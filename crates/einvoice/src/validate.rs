//! Validation in the layers and order of the KoSIT validator: secure loading, scenario selection
//! by `scenarios.xml`, XML schema, the scenario's Schematron rule sets, severity overrides.

use crate::schematron::{Compiler, LoadError, RuleSet};
use crate::xml::{Document, Kind, Limits, NONE, Names, RawText, XmlError};
use crate::xpath::ast::Expr;
use crate::xpath::eval::{DocStrings, Env, Focus, Statics};
use crate::xpath::parse::parse_expr;
use crate::xpath::regex::RegexCache;
use crate::xsd::{Base64Scan, Schema, SchemaLoadError, push_base64_stand_in, scan_plain_base64};
use serde::{Deserialize, Serialize};
use std::borrow::Cow;
use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::sync::OnceLock;

const SCENARIOS_NS: &str = "http://www.xoev.de/de/validator/framework/1/scenarios";
/// Namespace of UBL invoices.
pub const UBL_INVOICE_NS: &str = "urn:oasis:names:specification:ubl:schema:xsd:Invoice-2";
/// Namespace of UBL credit notes.
pub const UBL_CREDIT_NOTE_NS: &str = "urn:oasis:names:specification:ubl:schema:xsd:CreditNote-2";
/// Namespace of UN/CEFACT CII D16B invoices.
pub const CII_NS: &str = "urn:un:unece:uncefact:data:standard:CrossIndustryInvoice:100";

const XSI_NS: &str = "http://www.w3.org/2001/XMLSchema-instance";

/// Elements whose content the UBL 2.1 and CII D16B schemas type as `xs:base64Binary` without
/// facets (UBL `udt:BinaryObjectType`, CII `udt:BinaryObjectType`), where invoices embed their
/// attachments: each is declared once, with that type.
const BINARY_ELEMENTS: [(&str, &str); 5] = [
    (
        "urn:oasis:names:specification:ubl:schema:xsd:CommonBasicComponents-2",
        "EmbeddedDocumentBinaryObject",
    ),
    (RAM_NS, "AttachmentBinaryObject"),
    (RAM_NS, "IncludedBinaryObject"),
    (RAM_NS, "ReferenceFileBinaryObject"),
    (RAM_NS, "DescriptionBinaryObject"),
];
const RAM_NS: &str =
    "urn:un:unece:uncefact:data:standard:ReusableAggregateBusinessInformationEntity:100";

/// The EN 16931 rule sets of the configuration, used by [`Layer::En16931`].
const EN16931_UBL: &str = "resources/ubl/2.1/xsl/EN16931-UBL-validation.xsl";
const EN16931_CII: &str = "resources/cii/16b/xsl/EN16931-CII-validation.xsl";

/// Severity of a finding, after the scenario's overrides.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize, Hash)]
#[serde(rename_all = "lowercase")]
pub enum Severity {
    /// The document cannot be processed or breaks a mandatory rule.
    Fatal,
    /// Breaks a rule; the document is rejected.
    Error,
    /// Should be corrected; the document is accepted.
    Warning,
    /// For information only.
    Information,
}

impl Severity {
    /// Whether findings of this severity reject the document.
    pub fn rejects(self) -> bool {
        matches!(self, Severity::Fatal | Severity::Error)
    }

    fn parse(s: &str) -> Option<Severity> {
        match s.trim() {
            "fatal" => Some(Severity::Fatal),
            "error" => Some(Severity::Error),
            "warning" => Some(Severity::Warning),
            "information" | "info" => Some(Severity::Information),
            _ => None,
        }
    }

    /// German name.
    pub fn german(self) -> &'static str {
        match self {
            Severity::Fatal => "schwerwiegend",
            Severity::Error => "Fehler",
            Severity::Warning => "Warnung",
            Severity::Information => "Hinweis",
        }
    }
}

/// One finding: a fired rule, a schema violation, or a loading problem.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Finding {
    /// Official rule id (`BR-CO-10`, `BR-DE-15`) or a pseudo rule: `XML`, `XSD`, `NO-SCENARIO`.
    pub rule: String,
    /// Severity after overrides.
    pub severity: Severity,
    /// XPath of the node concerned (or `line N` for schema violations, empty if none).
    pub location: String,
    /// Message.
    pub text: String,
}

/// The result of validating one document.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Report {
    /// Name of the scenario applied, if any.
    pub scenario: Option<String>,
    /// Accepted: a scenario applied (or the EN 16931 layer ran) and no finding rejects.
    pub valid: bool,
    /// All findings in the order found.
    pub findings: Vec<Finding>,
}

impl Report {
    fn new(scenario: Option<String>, findings: Vec<Finding>) -> Report {
        let valid = scenario.is_some() && !findings.iter().any(|f| f.severity.rejects());
        Report {
            scenario,
            valid,
            findings,
        }
    }

    /// The sorted, de-duplicated rule ids of the rejecting findings.
    pub fn error_rules(&self) -> Vec<String> {
        let mut v: Vec<String> = self
            .findings
            .iter()
            .filter(|f| f.severity.rejects())
            .map(|f| f.rule.clone())
            .collect();
        v.sort();
        v.dedup();
        v
    }
}

/// Which checks to run.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Layer {
    /// Everything the KoSIT configuration prescribes (scenario, schema, all rule sets, overrides).
    All,
    /// Only the EN 16931 rules of the syntax given by the root element: no scenario selection, no
    /// schema, no overrides (what the CEN unit tests exercise).
    En16931,
}

/// Errors loading the configuration.
#[derive(Debug, thiserror::Error)]
pub enum ConfigError {
    /// scenarios.xml missing or unreadable.
    #[error("Konfiguration {path} nicht lesbar: {message}")]
    Read {
        /// File.
        path: String,
        /// Reason.
        message: String,
    },
    /// A rule set failed to load.
    #[error(transparent)]
    Rules(#[from] LoadError),
    /// A schema failed to load.
    #[error(transparent)]
    Schema(#[from] SchemaLoadError),
}

/// Syntax of a document, from its root element.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Syntax {
    /// UBL 2.1 Invoice.
    UblInvoice,
    /// UBL 2.1 CreditNote.
    UblCreditNote,
    /// UN/CEFACT CII D16B.
    Cii,
}

impl Syntax {
    /// The syntax of a document by its root element, if it is one of the three.
    pub fn of(doc: &Document) -> Option<Syntax> {
        let root = doc.root_element()?;
        let q = doc.qname(root)?;
        match (&*q.ns, &*q.local) {
            (UBL_INVOICE_NS, "Invoice") => Some(Syntax::UblInvoice),
            (UBL_CREDIT_NOTE_NS, "CreditNote") => Some(Syntax::UblCreditNote),
            (CII_NS, "CrossIndustryInvoice") => Some(Syntax::Cii),
            _ => None,
        }
    }
}

struct Scenario {
    name: String,
    matcher: Expr,
    xsd: Vec<usize>,
    rules: Vec<usize>,
    levels: HashMap<String, Severity>,
}

/// The validator: the KoSIT configuration compiled once, used for any number of documents (also
/// from several threads at once).
pub struct Validator {
    config_dir: PathBuf,
    names: Names,
    scenarios: Vec<Scenario>,
    rule_sets: Vec<RuleSet>,
    schema_paths: Vec<PathBuf>,
    schemas: Vec<OnceLock<Result<Schema, String>>>,
    en16931_ubl: Option<usize>,
    en16931_cii: Option<usize>,
    limits: Limits,
    regex: RegexCache,
    match_slots: usize,
    /// Name ids of [`BINARY_ELEMENTS`].
    binary_names: Vec<u32>,
}

fn read_err(path: &Path, message: impl Into<String>) -> ConfigError {
    ConfigError::Read {
        path: path.display().to_string(),
        message: message.into(),
    }
}

impl Validator {
    /// Loads the configuration directory (the one holding `scenarios.xml` and `resources/`).
    /// Compiles every rule set now; XML schemas are compiled on first use.
    pub fn load(config_dir: &Path) -> Result<Validator, ConfigError> {
        let path = config_dir.join("scenarios.xml");
        let bytes = std::fs::read(&path).map_err(|e| read_err(&path, e.to_string()))?;
        let doc = Document::parse(&bytes, Limits::default(), &Names::default())
            .map_err(|e| read_err(&path, e.to_string()))?;
        let root = doc
            .root_element()
            .ok_or_else(|| read_err(&path, "kein Wurzelelement"))?;
        let mut names = Names::default();
        let mut rule_sets: Vec<RuleSet> = Vec::new();
        let mut rule_index: HashMap<String, usize> = HashMap::new();
        let mut schema_paths: Vec<PathBuf> = Vec::new();
        let mut schema_index: HashMap<String, usize> = HashMap::new();
        let mut scenarios = Vec::new();
        let mut match_slots = 0;
        let regex = RegexCache::default();
        let child = |id: u32, local: &str| -> Vec<u32> {
            doc.children(id)
                .filter(|&c| {
                    doc.node(c).kind == Kind::Element
                        && doc
                            .qname(c)
                            .is_some_and(|q| &*q.ns == SCENARIOS_NS && &*q.local == local)
                })
                .collect()
        };
        let text = |id: u32| doc.string_value(id).trim().to_string();
        for sc in child(root, "scenario") {
            let name = child(sc, "name")
                .first()
                .map(|&n| text(n))
                .unwrap_or_default();
            let ns: Vec<(String, String)> = child(sc, "namespace")
                .into_iter()
                .map(|n| {
                    (
                        doc.attr(n, "prefix").unwrap_or_default().to_string(),
                        text(n),
                    )
                })
                .collect();
            let match_src = child(sc, "match")
                .first()
                .map(|&n| text(n))
                .unwrap_or_default();
            let mut compiler = Compiler::new(&mut names, ns);
            let matcher = parse_expr(&match_src, &mut compiler)
                .map_err(|e| read_err(&path, e.to_string()))?;
            match_slots = match_slots.max(compiler.next_slot as usize);
            let locations = |kind: &str| -> Vec<String> {
                child(sc, kind)
                    .into_iter()
                    .flat_map(|v| child(v, "resource"))
                    .flat_map(|r| child(r, "location"))
                    .map(text)
                    .collect()
            };
            let mut xsd = Vec::new();
            for loc in locations("validateWithXmlSchema") {
                let i = *schema_index.entry(loc.clone()).or_insert_with(|| {
                    schema_paths.push(config_dir.join(&loc));
                    schema_paths.len() - 1
                });
                xsd.push(i);
            }
            let mut rules = Vec::new();
            for loc in locations("validateWithSchematron") {
                let i = match rule_index.get(&loc) {
                    Some(&i) => i,
                    None => {
                        let rs = RuleSet::load(&config_dir.join(&loc), &mut names)?;
                        rule_sets.push(rs);
                        rule_index.insert(loc.clone(), rule_sets.len() - 1);
                        rule_sets.len() - 1
                    }
                };
                rules.push(i);
            }
            let mut levels = HashMap::new();
            for report in child(sc, "createReport") {
                for cl in child(report, "customLevel") {
                    if let Some(level) = doc.attr(cl, "level").and_then(Severity::parse) {
                        levels.insert(text(cl), level);
                    }
                }
            }
            scenarios.push(Scenario {
                name,
                matcher,
                xsd,
                rules,
                levels,
            });
        }
        let en16931_ubl = rule_index.get(EN16931_UBL).copied();
        let en16931_cii = rule_index.get(EN16931_CII).copied();
        let schemas = schema_paths.iter().map(|_| OnceLock::new()).collect();
        let binary_names = BINARY_ELEMENTS
            .iter()
            .map(|(ns, local)| names.intern(ns, local))
            .collect();
        Ok(Validator {
            config_dir: config_dir.to_path_buf(),
            names,
            scenarios,
            rule_sets,
            schema_paths,
            schemas,
            en16931_ubl,
            en16931_cii,
            limits: Limits::default(),
            regex,
            match_slots,
            binary_names,
        })
    }

    /// Changes the limits of the secure loader.
    pub fn with_limits(mut self, limits: Limits) -> Self {
        self.limits = limits;
        self
    }

    /// The configuration directory.
    pub fn config_dir(&self) -> &Path {
        &self.config_dir
    }

    /// Number of Schematron asserts and reports loaded.
    pub fn rule_count(&self) -> usize {
        self.rule_sets.iter().map(|r| r.rule_count).sum()
    }

    /// Compiles every XML schema now (otherwise done on first use).
    pub fn preload_schemas(&self) -> Result<(), ConfigError> {
        for i in 0..self.schemas.len() {
            if let Err(message) = self.schema(i) {
                return Err(ConfigError::Schema(SchemaLoadError {
                    path: self.schema_paths[i].display().to_string(),
                    message: message.clone(),
                }));
            }
        }
        Ok(())
    }

    fn schema(&self, i: usize) -> &Result<Schema, String> {
        self.schemas[i].get_or_init(|| Schema::load(&self.schema_paths[i]).map_err(|e| e.message))
    }

    /// Loads a document with the secure loader and the names of the compiled rules.
    pub fn load_document(&self, xml: &[u8]) -> Result<Document, XmlError> {
        Document::parse(xml, self.limits, &self.names)
    }

    /// Validates one document.
    pub fn validate(&self, xml: &[u8], layer: Layer) -> Report {
        let doc = match self.load_document(xml) {
            Ok(d) => d,
            Err(e) => {
                return Report::new(
                    None,
                    vec![Finding {
                        rule: "XML".into(),
                        severity: Severity::Fatal,
                        location: String::new(),
                        text: e.to_string(),
                    }],
                );
            }
        };
        match layer {
            Layer::All => self.validate_all(xml, &doc),
            Layer::En16931 => self.validate_en16931(&doc),
        }
    }

    fn validate_en16931(&self, doc: &Document) -> Report {
        let rs = match Syntax::of(doc) {
            Some(Syntax::UblInvoice | Syntax::UblCreditNote) => self.en16931_ubl,
            Some(Syntax::Cii) => self.en16931_cii,
            None => None,
        };
        let Some(rs) = rs else {
            return Report::new(None, vec![wrong_root(doc)]);
        };
        let rules = &self.rule_sets[rs];
        let findings = rules
            .run_with(doc, &mut DocStrings::new(doc))
            .into_iter()
            .map(|f| Finding {
                severity: f
                    .flag
                    .as_deref()
                    .and_then(Severity::parse)
                    .unwrap_or(Severity::Error),
                rule: f.id,
                location: f.location,
                text: f.text,
            })
            .collect();
        Report::new(Some("EN 16931".into()), findings)
    }

    /// The first scenario whose match holds; `strings` are the document's string caches,
    /// passed on to the rule sets.
    fn pick_scenario(&self, doc: &Document, strings: &mut DocStrings) -> Option<&Scenario> {
        let statics = Statics {
            globals: &[],
            functions: &[],
            regex: &self.regex,
        };
        let mut env = Env::with_strings(doc, statics, self.match_slots, std::mem::take(strings));
        let found = self
            .scenarios
            .iter()
            .find(|sc| env.eval_bool(&sc.matcher, &Focus::node(0)).unwrap_or(false));
        *strings = env.into_strings();
        found
    }

    fn validate_all(&self, xml: &[u8], doc: &Document) -> Report {
        let mut strings = DocStrings::new(doc);
        let Some(sc) = self.pick_scenario(doc, &mut strings) else {
            let mut f = wrong_root(doc);
            if Syntax::of(doc).is_some() {
                f.text = "Kein Prüfszenario der Konfiguration passt zu diesem Dokument: die \
                          Spezifikationskennung (BT-24, CustomizationID bzw. \
                          GuidelineSpecifiedDocumentContextParameter) fehlt oder ist unbekannt."
                    .into();
            }
            return Report::new(None, vec![f]);
        };
        let mut findings = Vec::new();
        let schema_input = if sc.xsd.is_empty() {
            Cow::Borrowed(xml)
        } else {
            self.schema_input(xml, doc)
        };
        for &x in &sc.xsd {
            match self.schema(x) {
                Ok(schema) => {
                    for e in schema.validate(&schema_input) {
                        findings.push(Finding {
                            rule: "XSD".into(),
                            severity: Severity::Fatal,
                            location: format!("line {}", e.line),
                            text: format!("Schemaverletzung: {}", e.message),
                        });
                    }
                }
                Err(message) => findings.push(Finding {
                    rule: "XSD".into(),
                    severity: Severity::Fatal,
                    location: String::new(),
                    text: format!("XML-Schema nicht verfügbar: {message}"),
                }),
            }
        }
        if !findings.is_empty() {
            return Report::new(Some(sc.name.clone()), findings);
        }
        for &r in &sc.rules {
            for f in self.rule_sets[r].run_with(doc, &mut strings) {
                let severity = sc.levels.get(&f.id).copied().unwrap_or_else(|| {
                    f.flag
                        .as_deref()
                        .and_then(Severity::parse)
                        .unwrap_or(Severity::Error)
                });
                findings.push(Finding {
                    rule: f.id,
                    severity,
                    location: f.location,
                    text: f.text,
                });
            }
        }
        Report::new(Some(sc.name.clone()), findings)
    }
}

impl Validator {
    /// The bytes handed to the XML schema: the input, with the character data of large embedded
    /// attachments (the [`BINARY_ELEMENTS`], written as plain base64 that libxml2 accepts)
    /// replaced by a short stand-in that libxml2 judges the same way and that keeps the line
    /// numbers; libxml2 then neither copies nor decodes the attachments. Data that is not plain
    /// base64, or is invalid, is left for libxml2 to report as before.
    fn schema_input<'x>(&self, xml: &'x [u8], doc: &Document) -> Cow<'x, [u8]> {
        let mut spans: Vec<(RawText, Base64Scan)> = Vec::new();
        for &name in &self.binary_names {
            let Some(elements) = doc.by_name.get(name as usize) else {
                continue;
            };
            for &el in elements {
                let child = doc.node(el).first_child;
                if child == NONE
                    || doc.node(child).kind != Kind::Text
                    || doc.node(child).next_sibling != NONE
                {
                    continue;
                }
                // xsi:type or xsi:nil could give the content another meaning.
                if doc
                    .attributes(el)
                    .any(|a| doc.qname(a).is_some_and(|q| &*q.ns == XSI_NS))
                {
                    continue;
                }
                let Ok(i) = doc.raw_texts.binary_search_by_key(&child, |r| r.node) else {
                    continue;
                };
                let span = doc.raw_texts[i];
                if let Some(scan) = xml.get(span.start..span.end).and_then(scan_plain_base64) {
                    spans.push((span, scan));
                }
            }
        }
        if spans.is_empty() {
            return Cow::Borrowed(xml);
        }
        spans.sort_unstable_by_key(|(r, _)| r.start);
        let removed: usize = spans
            .iter()
            .map(|(r, s)| r.end - r.start - s.newlines)
            .sum();
        let mut out = Vec::with_capacity(xml.len() - removed + spans.len() * 4);
        let mut at = 0;
        for (span, scan) in spans {
            out.extend_from_slice(&xml[at..span.start]);
            push_base64_stand_in(&mut out, &xml[span.start..span.end], scan);
            at = span.end;
        }
        out.extend_from_slice(&xml[at..]);
        Cow::Owned(out)
    }
}

fn wrong_root(doc: &Document) -> Finding {
    let root = doc
        .root_element()
        .and_then(|r| doc.qname(r))
        .map(|q| format!("{{{}}}{}", q.ns, q.local))
        .unwrap_or_default();
    Finding {
        rule: "NO-SCENARIO".into(),
        severity: Severity::Fatal,
        location: "/".into(),
        text: format!(
            "Kein Prüfszenario passt: das Wurzelelement {root} ist weder eine UBL-Rechnung \
             (Invoice), eine UBL-Gutschrift (CreditNote) noch eine CII-Rechnung \
             (CrossIndustryInvoice) in den erwarteten Namensräumen."
        ),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn shared() -> PathBuf {
        Path::new(env!("CARGO_MANIFEST_DIR")).join("../../../shared/testdata/xrechnung")
    }

    /// Variants of an invoice's first attachment: (name, new character data).
    fn variants(data: &str) -> Vec<(&'static str, String)> {
        let wrapped: String = data
            .as_bytes()
            .chunks(76)
            .map(|c| String::from_utf8_lossy(c).into_owned())
            .collect::<Vec<_>>()
            .join("\n");
        let trimmed = data.trim_end_matches('=');
        vec![
            ("as is", data.to_string()),
            ("wrapped", wrapped.clone()),
            ("wrapped, CRLF", wrapped.replace('\n', "\r\n")),
            ("wrapped, lone CR", wrapped.replace('\n', "\r")),
            (
                "indented",
                format!("\n    {}\n  ", wrapped.replace('\n', "\n    ")),
            ),
            ("stray byte", format!("{}!{}", &data[..100], &data[100..])),
            ("one short", data[..data.len() - 5].to_string()),
            ("one pad", format!("{}A=", &trimmed[..trimmed.len() - 1])),
            ("two pads", format!("{}QQ==", &trimmed[..trimmed.len() - 2])),
            (
                "bad pad bits",
                format!("{}QR==", &trimmed[..trimmed.len() - 2]),
            ),
            ("data after pad", format!("{data}=AAA=")),
        ]
    }

    /// The schema judges the stand-in input exactly as the original, also the line numbers of
    /// violations after the attachment, and the stand-in is used where the data is plain.
    #[test]
    fn schema_input_keeps_the_schema_verdict() {
        let v = Validator::load(&shared().join("config")).expect("configuration");
        let files = [
            "visible/technical-cases/cius/01.01_comprehensive_test_ubl.xml",
            "visible/technical-cases/cius/01.01_comprehensive_test_uncefact.xml",
        ];
        let mut replaced = 0;
        for f in files {
            let xml = std::fs::read_to_string(shared().join(f)).expect("test file");
            let open = ["EmbeddedDocumentBinaryObject", "AttachmentBinaryObject"]
                .iter()
                .find_map(|n| xml.find(&format!("{n} ")))
                .expect("attachment");
            let start = open + xml[open..].find('>').expect("tag end") + 1;
            let end = start + xml[start..].find('<').expect("end tag");
            for (name, data) in variants(&xml[start..end]) {
                for bogus in [false, true] {
                    let mut doc_text = format!("{}{data}{}", &xml[..start], &xml[end..]);
                    if bogus {
                        // A violation after the attachment: an element the schema forbids.
                        let close = doc_text.rfind("</").expect("root end tag");
                        doc_text.insert_str(close, "<Bogus/>\n");
                    }
                    let bytes = doc_text.as_bytes();
                    let doc = v.load_document(bytes).expect("well-formed");
                    let sc = v
                        .pick_scenario(&doc, &mut DocStrings::new(&doc))
                        .expect("scenario");
                    let Ok(schema) = v.schema(sc.xsd[0]) else {
                        panic!("schema")
                    };
                    let input = v.schema_input(bytes, &doc);
                    if matches!(input, Cow::Owned(_)) {
                        replaced += 1;
                    }
                    assert_eq!(
                        schema.validate(&input),
                        schema.validate(bytes),
                        "{f}: {name}, bogus element {bogus}"
                    );
                }
            }
        }
        assert!(replaced >= 20, "stand-in used only {replaced} times");
    }
}
