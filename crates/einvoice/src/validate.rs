//! Validation in the layers and order of the KoSIT validator: secure loading, scenario selection
//! by `scenarios.xml`, XML schema, the scenario's Schematron rule sets, severity overrides.

use crate::schematron::{Compiler, LoadError, RuleSet};
use crate::xml::{Document, Kind, Limits, Names, XmlError};
use crate::xpath::ast::Expr;
use crate::xpath::eval::{Env, Focus, Statics};
use crate::xpath::parse::parse_expr;
use crate::xpath::regex::RegexCache;
use crate::xsd::{Schema, SchemaLoadError};
use serde::{Deserialize, Serialize};
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
            .run(doc)
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

    fn pick_scenario(&self, doc: &Document) -> Option<&Scenario> {
        let statics = Statics {
            globals: &[],
            functions: &[],
            regex: &self.regex,
        };
        let mut env = Env::new(doc, statics, self.match_slots);
        self.scenarios
            .iter()
            .find(|sc| env.eval_bool(&sc.matcher, &Focus::node(0)).unwrap_or(false))
    }

    fn validate_all(&self, xml: &[u8], doc: &Document) -> Report {
        let Some(sc) = self.pick_scenario(doc) else {
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
        for &x in &sc.xsd {
            match self.schema(x) {
                Ok(schema) => {
                    for e in schema.validate(xml) {
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
            for f in self.rule_sets[r].run(doc) {
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
