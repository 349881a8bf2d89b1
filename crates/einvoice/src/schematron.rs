//! Schematron rule sets loaded from their compiled XSLT form (the ISO skeleton output the KoSIT
//! configuration ships), executed natively with the XSLT processing model the skeleton relies on:
//! one pass per pattern (mode) over the document, each node handled by the matching rule template
//! of highest priority, its `let`s bound, its asserts and reports evaluated, then its
//! `apply-templates` followed.

use crate::xml::{Document, Kind, Limits, NONE, Names, Node};
use crate::xpath::ast::{
    Anchor, AtomicType, Axis, CmpOp, Expr, Func, Lit, NodeTest, Pattern, Step, VarRef,
};
use crate::xpath::eval::{DocStrings, Env, FnStep, Focus, Statics, UserFunction};
use crate::xpath::parse::{ParseError, Resolver, is_boolean_expr, parse_expr, parse_pattern};
use crate::xpath::regex::RegexCache;
use crate::xpath::value::Item;
use std::collections::HashMap;
use std::path::Path;

const XSL: &str = "http://www.w3.org/1999/XSL/Transform";
const SVRL: &str = "http://purl.oclc.org/dsdl/svrl";

/// Errors loading a rule set (configuration errors, for operators).
#[derive(Debug, thiserror::Error)]
pub enum LoadError {
    /// The file could not be read.
    #[error("Regeldatei {path} nicht lesbar: {source}")]
    Io {
        /// File.
        path: String,
        /// Cause.
        source: std::io::Error,
    },
    /// The file is not well-formed.
    #[error("Regeldatei {path} ist kein gültiges XML: {source}")]
    Xml {
        /// File.
        path: String,
        /// Cause.
        source: crate::xml::XmlError,
    },
    /// An expression could not be compiled.
    #[error("Regeldatei {path}: {source}")]
    XPath {
        /// File.
        path: String,
        /// Cause.
        source: ParseError,
    },
    /// Unsupported structure.
    #[error("Regeldatei {path}: {message}")]
    Unsupported {
        /// File.
        path: String,
        /// What.
        message: String,
    },
}

/// A fired assert or report, before severity overrides.
#[derive(Clone, Debug)]
pub struct RawFinding {
    /// Rule id (`BR-CO-10`).
    pub id: String,
    /// The `flag` (fatal, warning, information); `None` when the rule has none.
    pub flag: Option<String>,
    /// XPath of the context node.
    pub location: String,
    /// Message.
    pub text: String,
}

#[derive(Debug)]
enum TextPart {
    Lit(String),
    Value(Expr),
}

#[derive(Debug)]
struct Check {
    report: bool,
    test: Expr,
    id: String,
    flag: Option<String>,
    text: Vec<TextPart>,
}

#[derive(Debug)]
enum Instr {
    Let(u32, Expr),
    Check(Box<Check>),
    Apply(Option<Expr>),
}

/// What a template's `apply-templates` continues with, when it is the body's only one and
/// comes last (the shape the skeleton generates for every rule).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Continue {
    /// `select="*"`: the child elements.
    Elements,
    /// `select="@*|*"`: the attributes, then the child elements.
    AttributesAndElements,
}

#[derive(Debug)]
struct Template {
    pattern: Pattern,
    priority: f64,
    /// Name ids the pattern can match (`None`: any node).
    keys: Option<Vec<u32>>,
    body: Vec<Instr>,
    /// One of the skeleton's two fallbacks of a pattern (`text()` with priority -1 and no body,
    /// `@*|node()` with priority -2 that only continues): matching one does nothing but continue.
    fallback: bool,
    /// How the body continues, if its only `apply-templates` is its last instruction
    /// (`None` for other shapes, and for an empty body).
    cont: Option<Continue>,
    /// For a pattern `//*[p]` or `//ns:*[p]` whose boolean predicate is a conjunction with
    /// conjuncts that depend on the node's name only (`ends-with(name(), 'Amount')`): those
    /// conjuncts. A node matches only if they hold, which a walk decides once per name.
    name_filter: Option<Expr>,
}

/// A pass over the document that can be done as a walk in document order: every template of
/// the pattern continues with the same selection, so that the pass visits every element (and
/// every attribute) once, in document order, and only nodes some non-fallback template can
/// match need to be looked at.
#[derive(Debug)]
struct Walk {
    /// Attributes are visited too (`@*|*`).
    attributes: bool,
    /// Name ids of the non-fallback templates that name the node they match.
    keyed: Vec<u32>,
    /// Some non-fallback template can match nodes of any name: every node must be looked at.
    keyless: bool,
}

#[derive(Debug)]
struct Phase {
    mode: String,
    /// Rule templates, highest precedence first.
    templates: Vec<Template>,
    /// Per name id: the templates that can match an element or attribute of that name (those
    /// naming it and those matching any name), in precedence order; empty for names no
    /// template names (they use `any`).
    by_name: Vec<Vec<u32>>,
    /// The templates that can match nodes of any name.
    any: Vec<u32>,
    /// Set when the pass can be done as a walk (see [`Walk`]).
    walk: Option<Walk>,
    /// Per template: its slot in the walk's cache of name filter results ([`NONE`] if it has
    /// no name filter).
    filter_slots: Vec<u32>,
    /// Number of templates with a name filter.
    filters: usize,
}

impl Phase {
    fn new(mode: String, templates: Vec<Template>) -> Phase {
        let any: Vec<u32> = (0..templates.len() as u32)
            .filter(|&i| templates[i as usize].keys.is_none())
            .collect();
        let max_key = templates
            .iter()
            .filter_map(|t| t.keys.as_ref())
            .flatten()
            .copied()
            .max();
        let mut by_name = vec![Vec::new(); max_key.map_or(0, |m| m as usize + 1)];
        for key in templates.iter().filter_map(|t| t.keys.as_ref()).flatten() {
            let name = *key;
            by_name[name as usize] = (0..templates.len() as u32)
                .filter(|&i| {
                    templates[i as usize]
                        .keys
                        .as_ref()
                        .is_none_or(|k| k.contains(&name))
                })
                .collect();
        }
        let walk = Phase::walk(&templates);
        let mut filters = 0;
        let filter_slots = templates
            .iter()
            .map(|t| {
                if t.name_filter.is_some() {
                    filters += 1;
                    filters as u32 - 1
                } else {
                    NONE
                }
            })
            .collect();
        Phase {
            mode,
            templates,
            by_name,
            any,
            walk,
            filter_slots,
            filters,
        }
    }

    /// Whether the pass is a walk: every template but the `text()` fallback continues with the
    /// same selection as its last instruction, that fallback has no body, and the fallbacks come
    /// after all other templates in precedence (so that a node whose first candidate is a
    /// fallback needs no matching at all).
    fn walk(templates: &[Template]) -> Option<Walk> {
        let first_fallback = templates
            .iter()
            .position(|t| t.fallback)
            .unwrap_or(templates.len());
        if templates[first_fallback..].iter().any(|t| !t.fallback) {
            return None;
        }
        let mut cont = None;
        let mut keyed = Vec::new();
        let mut keyless = false;
        for t in templates {
            if t.fallback && t.body.is_empty() {
                continue;
            }
            let c = t.cont?;
            if cont.is_some_and(|prev| prev != c) {
                return None;
            }
            cont = Some(c);
            if t.fallback {
                continue;
            }
            match &t.keys {
                Some(k) => keyed.extend_from_slice(k),
                None => keyless = true,
            }
        }
        keyed.sort_unstable();
        keyed.dedup();
        Some(Walk {
            attributes: cont? == Continue::AttributesAndElements,
            keyed,
            keyless,
        })
    }

    /// The templates that can match a node with this name id ([`NONE`] if it has none).
    fn candidates(&self, name_id: u32) -> &[u32] {
        match self.by_name.get(name_id as usize) {
            Some(list) if !list.is_empty() => list,
            _ => &self.any,
        }
    }
}

/// A compiled Schematron rule set.
#[derive(Debug)]
pub struct RuleSet {
    /// File it was loaded from.
    pub source: String,
    globals: Vec<Expr>,
    functions: Vec<UserFunction>,
    phases: Vec<Phase>,
    slots: usize,
    regex: RegexCache,
    /// Number of asserts and reports (for statistics and tests).
    pub rule_count: usize,
}

/// Name resolution while compiling one rule file.
pub(crate) struct Compiler<'n> {
    pub names: &'n mut Names,
    pub ns: Vec<(String, String)>,
    pub globals: HashMap<String, u32>,
    pub locals: Vec<(String, u32)>,
    pub next_slot: u32,
    pub functions: HashMap<(String, String, usize), u32>,
}

impl<'n> Compiler<'n> {
    pub(crate) fn new(names: &'n mut Names, ns: Vec<(String, String)>) -> Self {
        Compiler {
            names,
            ns,
            globals: HashMap::new(),
            locals: Vec::new(),
            next_slot: 0,
            functions: HashMap::new(),
        }
    }

    fn declare_local(&mut self, name: &str) -> u32 {
        let slot = self.next_slot;
        self.next_slot += 1;
        self.locals.push((name.to_string(), slot));
        slot
    }
}

impl Resolver for Compiler<'_> {
    fn namespace(&self, prefix: &str) -> Option<String> {
        if prefix == "xml" {
            return Some(crate::xml::XML_NS.into());
        }
        self.ns
            .iter()
            .rev()
            .find(|(p, _)| p == prefix)
            .map(|(_, u)| u.clone())
    }
    fn name_id(&mut self, ns: &str, local: &str) -> u32 {
        self.names.intern(ns, local)
    }
    fn variable(&mut self, name: &str) -> Option<VarRef> {
        if let Some((_, slot)) = self.locals.iter().rev().find(|(n, _)| n == name) {
            return Some(VarRef::Local(*slot));
        }
        self.globals.get(name).map(|i| VarRef::Global(*i))
    }
    fn bind_local(&mut self, name: &str) -> u32 {
        self.declare_local(name)
    }
    fn unbind_local(&mut self) {
        self.locals.pop();
    }
    fn user_function(&self, ns: &str, local: &str, arity: usize) -> Option<u32> {
        self.functions
            .get(&(ns.to_string(), local.to_string(), arity))
            .copied()
    }
}

fn is(doc: &Document, id: u32, ns: &str, local: &str) -> bool {
    doc.node(id).kind == Kind::Element
        && doc
            .qname(id)
            .is_some_and(|q| &*q.ns == ns && &*q.local == local)
}

fn elements(doc: &Document, id: u32) -> impl Iterator<Item = u32> + '_ {
    doc.children(id)
        .filter(move |&c| doc.node(c).kind == Kind::Element)
}

fn atomic_type(compiler: &Compiler<'_>, name: Option<&str>) -> Option<AtomicType> {
    let name = name?;
    let (p, l) = name.split_once(':')?;
    if compiler.namespace(p).as_deref() != Some("http://www.w3.org/2001/XMLSchema") {
        return None;
    }
    Some(match l {
        "decimal" => AtomicType::Decimal,
        "integer" => AtomicType::Integer,
        "boolean" => AtomicType::Boolean,
        "string" => AtomicType::String,
        "double" => AtomicType::Double,
        "date" => AtomicType::Date,
        _ => return None,
    })
}

impl RuleSet {
    /// Loads a compiled Schematron XSLT file; names used by its expressions are added to `names`.
    pub fn load(path: &Path, names: &mut Names) -> Result<RuleSet, LoadError> {
        let p = path.display().to_string();
        let bytes = std::fs::read(path).map_err(|source| LoadError::Io {
            path: p.clone(),
            source,
        })?;
        let limits = Limits {
            max_bytes: 64 * 1024 * 1024,
            ..Limits::default()
        };
        let doc = Document::parse(&bytes, limits, &Names::default()).map_err(|source| {
            LoadError::Xml {
                path: p.clone(),
                source,
            }
        })?;
        let root = doc.root_element().ok_or_else(|| LoadError::Unsupported {
            path: p.clone(),
            message: "kein Wurzelelement".into(),
        })?;
        let xerr = |source: ParseError| LoadError::XPath {
            path: p.clone(),
            source,
        };
        let mut c = Compiler::new(names, doc.in_scope_namespaces(root));

        // 1. Declarations: global variables/params and function signatures.
        let mut global_defs: Vec<(u32, Option<String>)> = Vec::new();
        let mut func_defs: Vec<u32> = Vec::new();
        for el in elements(&doc, root) {
            if is(&doc, el, XSL, "variable") || is(&doc, el, XSL, "param") {
                let Some(name) = doc.attr(el, "name") else {
                    continue;
                };
                let idx = c.globals.len() as u32;
                c.globals.insert(name.to_string(), idx);
                global_defs.push((el, doc.attr(el, "select").map(str::to_string)));
            } else if is(&doc, el, XSL, "function") {
                let Some(name) = doc.attr(el, "name") else {
                    continue;
                };
                let (prefix, local) = name.split_once(':').unwrap_or(("", name));
                let saved = std::mem::replace(&mut c.ns, doc.in_scope_namespaces(el));
                let ns = c.namespace(prefix).unwrap_or_default();
                c.ns = saved;
                let arity = elements(&doc, el)
                    .filter(|&x| is(&doc, x, XSL, "param"))
                    .count();
                let id = c.functions.len() as u32;
                c.functions.insert((ns, local.to_string(), arity), id);
                func_defs.push(el);
            }
        }

        // 2. Global variable expressions.
        let mut globals = Vec::new();
        for (el, select) in &global_defs {
            c.ns = doc.in_scope_namespaces(*el);
            let expr = match select {
                Some(s) => parse_expr(s, &mut c).map_err(xerr)?,
                None => {
                    // Content such as <xsl:value-of select="document-uri(/)"/>: a string.
                    let inner = elements(&doc, *el)
                        .find(|&x| is(&doc, x, XSL, "value-of"))
                        .and_then(|x| doc.attr(x, "select"));
                    match inner {
                        Some(s) => {
                            let e = parse_expr(s, &mut c).map_err(xerr)?;
                            Expr::Cast(Box::new(e), AtomicType::String, true)
                        }
                        None => Expr::Seq(Vec::new()),
                    }
                }
            };
            globals.push(expr);
        }

        // 3. Functions.
        let mut functions = Vec::new();
        for el in func_defs {
            c.ns = doc.in_scope_namespaces(el);
            let mark = c.locals.len();
            let first_slot = c.next_slot;
            let result = atomic_type(&c, doc.attr(el, "as"));
            let mut params = Vec::new();
            for x in elements(&doc, el).filter(|&x| is(&doc, x, XSL, "param")) {
                let name = doc.attr(x, "name").unwrap_or_default();
                let ty = atomic_type(&c, doc.attr(x, "as"));
                params.push((c.declare_local(name), ty));
            }
            let body = sequence_constructor(&doc, el, &mut c).map_err(|e| match e {
                CtorError::XPath(source) => LoadError::XPath {
                    path: p.clone(),
                    source,
                },
                CtorError::Unsupported(message) => LoadError::Unsupported {
                    path: p.clone(),
                    message,
                },
            })?;
            c.locals.truncate(mark);
            functions.push(UserFunction {
                params,
                body,
                result,
                slots: (first_slot..c.next_slot).collect(),
            });
        }

        // 4. The order of the patterns: apply-templates select="/" mode="…" in the root template.
        let mut order: Vec<String> = Vec::new();
        for el in elements(&doc, root) {
            if is(&doc, el, XSL, "template")
                && doc.attr(el, "match") == Some("/")
                && doc.attr(el, "mode").is_none()
            {
                let end = doc.subtree_end(el);
                for id in el..=end {
                    if is(&doc, id, XSL, "apply-templates")
                        && doc.attr(id, "select") == Some("/")
                        && let Some(m) = doc.attr(id, "mode")
                    {
                        order.push(m.to_string());
                    }
                }
            }
        }

        // 5. Rule templates per mode.
        let mut by_mode: HashMap<String, Vec<Template>> = HashMap::new();
        let mut rule_count = 0;
        for el in elements(&doc, root) {
            if !is(&doc, el, XSL, "template") {
                continue;
            }
            let (Some(mode), Some(m)) = (doc.attr(el, "mode"), doc.attr(el, "match")) else {
                continue;
            };
            if !order.iter().any(|o| o == mode) {
                continue;
            }
            c.ns = doc.in_scope_namespaces(el);
            let pattern = parse_pattern(m, &mut c).map_err(xerr)?;
            let priority = doc
                .attr(el, "priority")
                .and_then(|s| s.parse::<f64>().ok())
                .unwrap_or(0.5);
            let mark = c.locals.len();
            let mut body = Vec::new();
            let mut cont = None;
            for x in elements(&doc, el) {
                c.ns = doc.in_scope_namespaces(x);
                if is(&doc, x, XSL, "variable") {
                    let name = doc.attr(x, "name").unwrap_or_default().to_string();
                    let e = match doc.attr(x, "select") {
                        Some(s) => parse_expr(s, &mut c).map_err(xerr)?,
                        None => Expr::Seq(Vec::new()),
                    };
                    let slot = c.declare_local(&name);
                    body.push(Instr::Let(slot, e));
                } else if is(&doc, x, XSL, "choose") {
                    let when = elements(&doc, x).find(|&w| is(&doc, w, XSL, "when"));
                    let other = elements(&doc, x).find(|&w| is(&doc, w, XSL, "otherwise"));
                    let (Some(when), Some(other)) = (when, other) else {
                        continue;
                    };
                    let test = doc.attr(when, "test").unwrap_or("true()");
                    let test = parse_expr(test, &mut c).map_err(xerr)?;
                    if let Some(fa) =
                        elements(&doc, other).find(|&f| is(&doc, f, SVRL, "failed-assert"))
                    {
                        body.push(Instr::Check(Box::new(
                            check(&doc, fa, test, false, &mut c).map_err(xerr)?,
                        )));
                        rule_count += 1;
                    }
                } else if is(&doc, x, XSL, "if") {
                    let test = doc.attr(x, "test").unwrap_or("false()");
                    let test = parse_expr(test, &mut c).map_err(xerr)?;
                    if let Some(sr) =
                        elements(&doc, x).find(|&f| is(&doc, f, SVRL, "successful-report"))
                    {
                        body.push(Instr::Check(Box::new(
                            check(&doc, sr, test, true, &mut c).map_err(xerr)?,
                        )));
                        rule_count += 1;
                    }
                } else if is(&doc, x, XSL, "apply-templates") {
                    let select = doc.attr(x, "select");
                    let sel = match select {
                        Some(s) => Some(parse_expr(s, &mut c).map_err(xerr)?),
                        None => None,
                    };
                    let compact: Option<String> =
                        select.map(|s| s.chars().filter(|c| !c.is_whitespace()).collect());
                    cont = match compact.as_deref() {
                        Some("*") if doc.attr(x, "mode") == Some(mode) => Some(Continue::Elements),
                        Some("@*|*") if doc.attr(x, "mode") == Some(mode) => {
                            Some(Continue::AttributesAndElements)
                        }
                        _ => None,
                    };
                    body.push(Instr::Apply(sel));
                }
            }
            // The walk needs the continuation to be the body's only one, and its last instruction.
            if !matches!(body.last(), Some(Instr::Apply(_)))
                || body.iter().filter(|i| matches!(i, Instr::Apply(_))).count() != 1
            {
                cont = None;
            }
            c.locals.truncate(mark);
            let keys = pattern_keys(&pattern);
            let name_filter = name_filter(&pattern);
            let compact_match: String = m.chars().filter(|c| !c.is_whitespace()).collect();
            let fallback = (compact_match == "text()" && priority == -1.0 && body.is_empty())
                || (compact_match == "@*|node()" && priority == -2.0 && cont.is_some());
            by_mode.entry(mode.to_string()).or_default().push(Template {
                pattern,
                priority,
                keys,
                body,
                fallback,
                cont,
                name_filter,
            });
        }
        // Absolute paths used by the rules are computed once per document (and shared by all
        // rules that use the same one).
        let mut memo = HashMap::new();
        for t in by_mode.values_mut().flatten() {
            for instr in &mut t.body {
                match instr {
                    Instr::Let(_, e) => memoize(e, &mut memo),
                    Instr::Check(chk) => memoize(&mut chk.test, &mut memo),
                    Instr::Apply(_) => {}
                }
            }
        }
        let mut phases = Vec::new();
        for mode in order {
            let mut templates = by_mode.remove(&mode).unwrap_or_default();
            // Highest priority first; among equals the later declaration wins (XSLT).
            templates.reverse();
            templates.sort_by(|a, b| b.priority.total_cmp(&a.priority));
            phases.push(Phase::new(mode, templates));
        }
        Ok(RuleSet {
            source: p,
            globals,
            functions,
            phases,
            slots: c.next_slot as usize,
            regex: RegexCache::default(),
            rule_count,
        })
    }

    /// Runs every pattern over the document and returns the fired asserts and reports.
    pub fn run(&self, doc: &Document) -> Vec<RawFinding> {
        self.run_with(doc, &mut DocStrings::default())
    }

    /// [`RuleSet::run`] with string caches shared with other evaluations over the document.
    pub fn run_with(&self, doc: &Document, strings: &mut DocStrings) -> Vec<RawFinding> {
        let statics = Statics {
            globals: &self.globals,
            functions: &self.functions,
            regex: &self.regex,
        };
        let mut env = Env::with_strings(doc, statics, self.slots, std::mem::take(strings));
        let mut out = Vec::new();
        let mut visit = Vec::new();
        for phase in &self.phases {
            match &phase.walk {
                Some(walk) => self.walk(&mut env, phase, walk, &mut visit, &mut out),
                None => self.apply(&mut env, phase, 0, &mut out),
            }
        }
        *strings = env.into_strings();
        out
    }

    /// One pass done as a walk: the nodes some non-fallback template can match, in document
    /// order, each handled by its template of highest precedence without the continuation
    /// (the walk is the continuation). `visit` is scratch space.
    fn walk(
        &self,
        env: &mut Env<'_>,
        phase: &Phase,
        walk: &Walk,
        visit: &mut Vec<u32>,
        out: &mut Vec<RawFinding>,
    ) {
        let doc = env.doc;
        visit.clear();
        // The document node: reached by the built-in template, handled like any node.
        visit.push(0);
        if walk.keyless {
            for (id, n) in doc.nodes.iter().enumerate().skip(1) {
                let visited = match n.kind {
                    Kind::Element => true,
                    Kind::Attribute => walk.attributes,
                    // Comments and processing instructions beside the document element are
                    // reached by the document node's built-in template.
                    Kind::Comment | Kind::Pi => n.parent == 0,
                    Kind::Text | Kind::Document => false,
                };
                if visited {
                    visit.push(id as u32);
                }
            }
        } else {
            for &key in &walk.keyed {
                if let Some(ids) = doc.by_name.get(key as usize) {
                    visit.extend_from_slice(ids);
                }
                if walk.attributes
                    && let Some(ids) = doc.attrs_by_name.get(key as usize)
                {
                    visit.extend_from_slice(ids);
                }
            }
            visit.sort_unstable();
            visit.dedup();
        }
        // Results of the name filters per (filter slot, name of the node in the document):
        // 0 not known yet, 1 holds, 2 does not hold.
        let names = doc.qnames.len();
        let mut filtered = vec![0u8; phase.filters * names];
        for &node in visit.iter() {
            let n = doc.node(node);
            for &i in phase.candidates(template_key(n)) {
                let t = &phase.templates[i as usize];
                if t.fallback {
                    // Only fallbacks are left: they do nothing but continue.
                    break;
                }
                env.current = node;
                if let Some(filter) = &t.name_filter
                    && n.kind == Kind::Element
                    && n.name != NONE
                {
                    let at = phase.filter_slots[i as usize] as usize * names + n.name as usize;
                    if filtered[at] == 0 {
                        // An error leaves the decision to the full match.
                        filtered[at] = match env.eval_bool(filter, &Focus::node(node)) {
                            Ok(true) | Err(_) => 1,
                            Ok(false) => 2,
                        };
                        env.current = node;
                    }
                    if filtered[at] == 2 {
                        continue;
                    }
                }
                if env.matches(node, &t.pattern).unwrap_or(false) {
                    self.execute(env, phase, t, node, false, out);
                    break;
                }
            }
        }
    }

    /// Names of the patterns (modes), for diagnostics.
    pub fn modes(&self) -> Vec<&str> {
        self.phases.iter().map(|p| p.mode.as_str()).collect()
    }

    fn apply(&self, env: &mut Env<'_>, phase: &Phase, node: u32, out: &mut Vec<RawFinding>) {
        let doc = env.doc;
        let n = doc.node(node);
        for &i in phase.candidates(template_key(n)) {
            let t = &phase.templates[i as usize];
            env.current = node;
            // An error while matching counts as "does not match" (XSLT recoverable error).
            if env.matches(node, &t.pattern).unwrap_or(false) {
                self.execute(env, phase, t, node, true, out);
                return;
            }
        }
        // Built-in template: process the children of documents and elements.
        if matches!(n.kind, Kind::Document | Kind::Element) {
            let mut c = n.first_child;
            while c != NONE {
                self.apply(env, phase, c, out);
                c = doc.node(c).next_sibling;
            }
        }
    }

    /// Runs a template's body for a node; its `apply-templates` only if `continue_` is set.
    fn execute(
        &self,
        env: &mut Env<'_>,
        phase: &Phase,
        t: &Template,
        node: u32,
        continue_: bool,
        out: &mut Vec<RawFinding>,
    ) {
        let focus = Focus::node(node);
        for instr in &t.body {
            env.current = node;
            match instr {
                Instr::Let(slot, e) => {
                    let v = env.eval(e, &focus).unwrap_or_default();
                    env.set_local(*slot, v);
                }
                Instr::Check(chk) => {
                    let (fired, error) = match env.eval_bool(&chk.test, &focus) {
                        Ok(v) => (v == chk.report, None),
                        Err(e) => (true, Some(e)),
                    };
                    if fired {
                        let mut text = String::new();
                        for part in &chk.text {
                            match part {
                                TextPart::Lit(s) => text.push_str(s),
                                TextPart::Value(e) => {
                                    env.current = node;
                                    if let Ok(v) = env.eval(e, &focus) {
                                        let parts: Vec<String> = v
                                            .iter()
                                            .map(|i| env.atom(i).string().to_string())
                                            .collect();
                                        text.push_str(&parts.join(" "));
                                    }
                                }
                            }
                        }
                        let mut text = text.split_whitespace().collect::<Vec<_>>().join(" ");
                        if let Some(e) = error {
                            text.push_str(&format!(" (Auswertungsfehler: {e})"));
                        }
                        out.push(RawFinding {
                            id: chk.id.clone(),
                            flag: chk.flag.clone(),
                            location: location(env.doc, node),
                            text,
                        });
                    }
                }
                Instr::Apply(_) if !continue_ => {}
                Instr::Apply(Some(e)) => {
                    let targets = env.eval(e, &focus).unwrap_or_default();
                    for item in targets {
                        if let Item::Node(n) = item {
                            self.apply(env, phase, n, out);
                        }
                    }
                }
                Instr::Apply(None) => {
                    let doc = env.doc;
                    for n in doc.children(node) {
                        self.apply(env, phase, n, out);
                    }
                }
            }
        }
    }
}

enum CtorError {
    XPath(ParseError),
    Unsupported(String),
}

impl From<ParseError> for CtorError {
    fn from(e: ParseError) -> Self {
        CtorError::XPath(e)
    }
}

/// The value of an `xsl:variable` without `select`: its text, or its `xsl:value-of`s as a string.
fn variable_content(doc: &Document, el: u32, c: &mut Compiler<'_>) -> Result<Expr, ParseError> {
    let mut parts = Vec::new();
    for x in doc.children(el) {
        match doc.node(x).kind {
            Kind::Text => {
                let t = doc.string_value(x);
                if !t.trim().is_empty() {
                    parts.push(Expr::Lit(Lit::Str(std::sync::Arc::from(&*t))));
                }
            }
            Kind::Element if is(doc, x, XSL, "value-of") => {
                let e = parse_expr(doc.attr(x, "select").unwrap_or("()"), c)?;
                parts.push(Expr::Call(
                    Func::StringJoin,
                    vec![e, Expr::Lit(Lit::Str(std::sync::Arc::from(" ")))],
                ));
            }
            _ => {}
        }
    }
    let joined = match parts.len() {
        0 => Expr::Lit(Lit::Str(std::sync::Arc::from(""))),
        1 => parts.remove(0),
        _ => Expr::Call(Func::Concat, parts),
    };
    Ok(match atomic_type(c, doc.attr(el, "as")) {
        Some(t) => Expr::Cast(Box::new(joined), t, false),
        None => joined,
    })
}

/// Compiles the instructions of an `xsl:function` body (or of a branch in it).
fn sequence_constructor(
    doc: &Document,
    el: u32,
    c: &mut Compiler<'_>,
) -> Result<Vec<FnStep>, CtorError> {
    let mut out = Vec::new();
    let mark = c.locals.len();
    for x in elements(doc, el) {
        let select = doc.attr(x, "select");
        if is(doc, x, XSL, "param") {
            continue;
        } else if is(doc, x, XSL, "variable") {
            let e = match select {
                Some(s) => parse_expr(s, c)?,
                None => variable_content(doc, x, c)?,
            };
            let name = doc.attr(x, "name").unwrap_or_default();
            out.push(FnStep::Let(c.declare_local(name), e));
        } else if is(doc, x, XSL, "sequence") || is(doc, x, XSL, "value-of") {
            let e = parse_expr(select.unwrap_or("()"), c)?;
            out.push(FnStep::Value(e, is(doc, x, XSL, "value-of")));
        } else if is(doc, x, XSL, "choose") || is(doc, x, XSL, "if") {
            let mut branches = Vec::new();
            let mut otherwise = Vec::new();
            let arms: Vec<u32> = if is(doc, x, XSL, "if") {
                vec![x]
            } else {
                elements(doc, x).collect()
            };
            for w in arms {
                if is(doc, w, XSL, "when") || is(doc, w, XSL, "if") {
                    let test = parse_expr(doc.attr(w, "test").unwrap_or("false()"), c)?;
                    branches.push((test, sequence_constructor(doc, w, c)?));
                } else if is(doc, w, XSL, "otherwise") {
                    otherwise = sequence_constructor(doc, w, c)?;
                }
            }
            out.push(FnStep::Choose(branches, otherwise));
        } else {
            let name = doc.qname(x).map(|q| q.display()).unwrap_or_default();
            return Err(CtorError::Unsupported(format!(
                "nicht unterstützte Anweisung {name} in xsl:function"
            )));
        }
    }
    c.locals.truncate(mark);
    Ok(out)
}

fn check(
    doc: &Document,
    el: u32,
    test: Expr,
    report: bool,
    c: &mut Compiler<'_>,
) -> Result<Check, ParseError> {
    let mut id = String::new();
    let mut flag = doc.attr(el, "flag").map(str::to_string);
    let mut text = Vec::new();
    if let Some(i) = doc.attr(el, "id") {
        id = i.to_string();
    }
    for x in elements(doc, el) {
        if is(doc, x, XSL, "attribute") {
            let value = doc.string_value(x).trim().to_string();
            match doc.attr(x, "name") {
                Some("id") => id = value,
                Some("flag") => flag = Some(value),
                _ => {}
            }
        } else if is(doc, x, SVRL, "text") {
            for t in doc.children(x) {
                let n = doc.node(t);
                match n.kind {
                    Kind::Text => text.push(TextPart::Lit(doc.string_value(t).into_owned())),
                    Kind::Element if is(doc, t, XSL, "value-of") => {
                        let e = parse_expr(doc.attr(t, "select").unwrap_or("()"), c)?;
                        text.push(TextPart::Value(e));
                    }
                    Kind::Element => text.push(TextPart::Lit(doc.string_value(t).into_owned())),
                    _ => {}
                }
            }
        }
    }
    Ok(Check {
        report,
        test,
        id,
        flag,
        text,
    })
}

/// Replaces the maximal absolute paths in `e` whose value depends on the document only by
/// [`Expr::Memo`]s; equal paths (by their syntax tree) share a slot of `memo`.
fn memoize(e: &mut Expr, memo: &mut HashMap<String, u32>) {
    if let Expr::Path(l, _) = e
        && matches!(**l, Expr::Root)
        && document_only(e)
    {
        let next = memo.len() as u32;
        let slot = *memo.entry(format!("{e:?}")).or_insert(next);
        let inner = std::mem::replace(e, Expr::Seq(Vec::new()));
        *e = Expr::Memo(slot, Box::new(inner));
        return;
    }
    for c in e.children_mut() {
        memoize(c, memo);
    }
}

/// Whether an expression evaluated with the document node as focus depends on nothing else:
/// no local variables (rule `let`s, parameters, range variables), no `current()`, no calls of
/// stylesheet functions.
fn document_only(e: &Expr) -> bool {
    match e {
        Expr::Var(VarRef::Local(_)) | Expr::Call(Func::Current, _) | Expr::UserCall(..) => false,
        _ => e.children().into_iter().all(document_only),
    }
}

/// The name filter of a pattern (see [`Template::name_filter`]).
fn name_filter(p: &Pattern) -> Option<Expr> {
    let [alt] = &p.alts[..] else {
        return None;
    };
    let [step] = &alt.steps[..] else {
        return None;
    };
    if alt.anchor != Anchor::Any
        || step.axis != Axis::Child
        || !matches!(step.test, NodeTest::Any | NodeTest::Ns(_))
        || step.preds.is_empty()
        || !step.preds.iter().all(is_boolean_expr)
    {
        return None;
    }
    let mut all = Vec::new();
    conjuncts(&step.preds[0], &mut all);
    all.into_iter()
        .filter(|c| name_only(c))
        .cloned()
        .reduce(|a, b| Expr::And(Box::new(a), Box::new(b)))
}

/// The operands of a chain of `and`s.
fn conjuncts<'e>(e: &'e Expr, out: &mut Vec<&'e Expr>) {
    match e {
        Expr::And(a, b) => {
            conjuncts(a, out);
            conjuncts(b, out);
        }
        Expr::Paren(inner) => conjuncts(inner, out),
        _ => out.push(e),
    }
}

/// Whether the value of an expression depends on nothing but the name of the context element:
/// `name()`, `local-name()`, `namespace-uri()`, `self::` name tests and string literals,
/// combined with `not`, `and`, `or`, `=`, `!=`, `starts-with`, `ends-with`, `contains`.
fn name_only(e: &Expr) -> bool {
    match e {
        Expr::Lit(Lit::Str(_)) => true,
        Expr::Paren(inner) => name_only(inner),
        Expr::Call(Func::Name | Func::LocalName | Func::NamespaceUri, args) => args.is_empty(),
        Expr::Call(Func::Not, args) => args.len() == 1 && name_only(&args[0]),
        Expr::Call(Func::StartsWith | Func::EndsWith | Func::Contains, args) => {
            args.len() == 2 && args.iter().all(name_only)
        }
        Expr::And(a, b) | Expr::Or(a, b) => name_only(a) && name_only(b),
        Expr::GenCmp(CmpOp::Eq | CmpOp::Ne, a, b) | Expr::ValCmp(CmpOp::Eq | CmpOp::Ne, a, b) => {
            name_only(a) && name_only(b)
        }
        Expr::Step(Step {
            axis: Axis::SelfAxis,
            test: NodeTest::Name(_) | NodeTest::Ns(_) | NodeTest::Local(_) | NodeTest::Any,
            preds,
        }) => preds.is_empty(),
        _ => false,
    }
}

fn pattern_keys(p: &Pattern) -> Option<Vec<u32>> {
    let mut keys = Vec::new();
    for alt in &p.alts {
        match alt.steps.last() {
            Some(step) => match step.test {
                crate::xpath::ast::NodeTest::Name(id) => keys.push(id),
                _ => return None,
            },
            None => return None,
        }
    }
    Some(keys)
}

/// The location of a node as the Schematron skeleton writes it
/// (`/*:Invoice[namespace-uri()='…'][1]/*:ID[namespace-uri()='…'][1]`).
pub fn location(doc: &Document, node: u32) -> String {
    let mut chain = Vec::new();
    let mut cur = node;
    while cur != NONE && cur != 0 {
        chain.push(cur);
        cur = doc.node(cur).parent;
    }
    let mut out = String::new();
    for &id in chain.iter().rev() {
        let n = doc.node(id);
        let Some(q) = doc.qname(id) else {
            continue;
        };
        match n.kind {
            Kind::Element => {
                let mut k = 1;
                let mut s = n.prev_sibling;
                while s != NONE {
                    if let Some(sq) = doc.qname(s)
                        && doc.node(s).kind == Kind::Element
                        && sq.local == q.local
                        && sq.ns == q.ns
                    {
                        k += 1;
                    }
                    s = doc.node(s).prev_sibling;
                }
                if q.ns.is_empty() {
                    out.push_str(&format!("/{}[{k}]", q.display()));
                } else {
                    out.push_str(&format!("/*:{}[namespace-uri()='{}'][{k}]", q.local, q.ns));
                }
            }
            Kind::Attribute => {
                if q.ns.is_empty() {
                    out.push_str(&format!("/@{}", q.display()));
                } else {
                    out.push_str(&format!(
                        "/@*[local-name()='{}' and namespace-uri()='{}']",
                        q.local, q.ns
                    ));
                }
            }
            _ => {}
        }
    }
    if out.is_empty() { "/".into() } else { out }
}

/// The key of a node's candidate templates: its name for elements and attributes, else none.
fn template_key(n: &Node) -> u32 {
    if matches!(n.kind, Kind::Element | Kind::Attribute) {
        n.name_id
    } else {
        NONE
    }
}
