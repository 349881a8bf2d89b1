//! The evaluator: expressions over a [`Document`], patterns matched against nodes.

use super::ast::*;
use super::regex::RegexCache;
use super::value::*;
use crate::xml::{Document, Kind, NONE};
use regex::Regex;
use rust_decimal::Decimal;
use rust_decimal::prelude::{FromPrimitive, ToPrimitive};
use std::cell::OnceCell;
use std::collections::{HashMap, HashSet};
use std::sync::Arc;

/// The focus: context item, position and size.
#[derive(Clone, Debug)]
pub struct Focus {
    /// Context item.
    pub item: Option<Item>,
    /// Context position (1-based).
    pub pos: usize,
    /// Context size.
    pub size: usize,
}

impl Focus {
    /// A single node as focus.
    pub fn node(id: u32) -> Focus {
        Focus {
            item: Some(Item::Node(id)),
            pos: 1,
            size: 1,
        }
    }
}

/// Parameter or result type of an `xsl:function`.
#[derive(Clone, Debug)]
pub struct UserFunction {
    /// Parameter slots and declared types.
    pub params: Vec<(u32, Option<AtomicType>)>,
    /// Body.
    pub body: Vec<FnStep>,
    /// Declared result type.
    pub result: Option<AtomicType>,
    /// Every local slot the function uses (saved and restored around calls, for recursion).
    pub slots: Vec<u32>,
}

/// One instruction of a function body.
#[derive(Clone, Debug)]
pub enum FnStep {
    /// `xsl:variable`.
    Let(u32, Expr),
    /// `xsl:sequence` (false) or `xsl:value-of` (true).
    Value(Expr, bool),
    /// `xsl:choose` / `xsl:if`: the first branch whose test holds, else the last list.
    Choose(Vec<(Expr, Vec<FnStep>)>, Vec<FnStep>),
}

/// The static part of an evaluation: global variables and functions of a rule set.
pub struct Statics<'a> {
    /// Global variable definitions (evaluated lazily with the document node as focus).
    pub globals: &'a [Expr],
    /// Functions.
    pub functions: &'a [UserFunction],
    /// Compiled regular expressions.
    pub regex: &'a RegexCache,
}

/// Compiled regular expressions of one pattern, by flags.
type RegexesByFlags = Vec<(Box<str>, Arc<Regex>)>;

/// String values of nodes and lexical names of one document, computed on first use; handed
/// from one evaluation over the document to the next (scenario, then each rule set).
#[derive(Default)]
pub struct DocStrings {
    /// By node id.
    nodes: Vec<OnceCell<Arc<str>>>,
    /// By index into [`Document::qnames`].
    names: Vec<OnceCell<Arc<str>>>,
}

impl DocStrings {
    /// Empty caches for a document.
    pub fn new(doc: &Document) -> DocStrings {
        DocStrings {
            nodes: vec![OnceCell::new(); doc.nodes.len()],
            names: vec![OnceCell::new(); doc.qnames.len()],
        }
    }

    /// Whether the caches are sized for this document.
    fn fits(&self, doc: &Document) -> bool {
        self.nodes.len() == doc.nodes.len() && self.names.len() == doc.qnames.len()
    }
}

/// Evaluation state for one document and one rule set.
pub struct Env<'a> {
    /// The document.
    pub doc: &'a Document,
    statics: Statics<'a>,
    global_vals: Vec<Option<Seq>>,
    in_progress: Vec<bool>,
    locals: Vec<Seq>,
    /// String values of nodes and lexical names (`name()`), computed on first use: atomizing
    /// a node again costs no allocation.
    strings: DocStrings,
    /// Regular expressions used so far, by pattern and flags (taken from the shared cache once
    /// per document: no lock per call).
    regexes: HashMap<Box<str>, RegexesByFlags>,
    /// Values of the [`Expr::Memo`] subexpressions computed so far, by slot.
    memo: Vec<Option<Seq>>,
    /// The node `current()` returns.
    pub current: u32,
}

impl<'a> Env<'a> {
    /// New state; `slots` is the number of local variable slots of the rule set.
    pub fn new(doc: &'a Document, statics: Statics<'a>, slots: usize) -> Env<'a> {
        Env::with_strings(doc, statics, slots, DocStrings::new(doc))
    }

    /// New state using string caches of an earlier evaluation over the same document (new
    /// ones if they were made for another document).
    pub fn with_strings(
        doc: &'a Document,
        statics: Statics<'a>,
        slots: usize,
        strings: DocStrings,
    ) -> Env<'a> {
        let strings = if strings.fits(doc) {
            strings
        } else {
            DocStrings::new(doc)
        };
        let n = statics.globals.len();
        Env {
            doc,
            statics,
            global_vals: vec![None; n],
            in_progress: vec![false; n],
            locals: vec![Seq::new(); slots],
            strings,
            regexes: HashMap::new(),
            memo: Vec::new(),
            current: 0,
        }
    }

    /// The string caches, for the next evaluation over the document.
    pub fn into_strings(self) -> DocStrings {
        self.strings
    }

    /// Binds a local slot.
    pub fn set_local(&mut self, slot: u32, v: Seq) {
        let i = slot as usize;
        if i >= self.locals.len() {
            self.locals.resize(i + 1, Seq::new());
        }
        self.locals[i] = v;
    }

    fn global(&mut self, i: u32) -> XResult<Seq> {
        let idx = i as usize;
        if let Some(v) = &self.global_vals[idx] {
            return Ok(v.clone());
        }
        if self.in_progress[idx] {
            return err("XTDE0640: zirkuläre Variablendefinition");
        }
        self.in_progress[idx] = true;
        let saved = self.current;
        self.current = 0;
        let expr = &self.statics.globals[idx];
        let r = self.eval(expr, &Focus::node(0));
        self.current = saved;
        self.in_progress[idx] = false;
        let v = r?;
        self.global_vals[idx] = Some(v.clone());
        Ok(v)
    }

    // ---------------------------------------------------------------- atomization

    /// The string value of a node (shared, computed once per node).
    pub fn node_string(&self, n: u32) -> Arc<str> {
        self.strings.nodes[n as usize]
            .get_or_init(|| Arc::from(&*self.doc.string_value(n)))
            .clone()
    }

    /// The lexical name of a node (`prefix:local`), empty if it has none.
    fn node_name(&self, n: u32) -> Arc<str> {
        let q = self.doc.node(n).name;
        if q == NONE {
            return Arc::from("");
        }
        self.strings.names[q as usize]
            .get_or_init(|| Arc::from(self.doc.qnames[q as usize].display().as_str()))
            .clone()
    }

    /// Atomizes one item.
    pub fn atom(&self, item: &Item) -> Item {
        match item {
            Item::Node(n) => Item::Untyped(self.node_string(*n)),
            other => other.clone(),
        }
    }

    fn atomize(&self, mut seq: Seq) -> Seq {
        for item in seq.iter_mut() {
            if let Item::Node(n) = *item {
                *item = Item::Untyped(self.node_string(n));
            }
        }
        seq
    }

    fn atomize_opt(&self, seq: Seq) -> XResult<Option<Item>> {
        match seq.len() {
            0 => Ok(None),
            1 => Ok(Some(self.atom(&seq[0]))),
            n => err(format!(
                "XPTY0004: eine Folge von {n} Werten ist hier nicht erlaubt"
            )),
        }
    }

    fn string_of(&self, seq: &Seq) -> XResult<Arc<str>> {
        match seq.len() {
            0 => Ok(Arc::from("")),
            1 => Ok(match &seq[0] {
                Item::Node(n) => self.node_string(*n),
                other => other.string(),
            }),
            n => err(format!(
                "XPTY0004: eine Folge von {n} Werten ist hier nicht erlaubt"
            )),
        }
    }

    /// Effective boolean value.
    pub fn ebv(&self, seq: &Seq) -> XResult<bool> {
        match seq.first() {
            None => Ok(false),
            Some(Item::Node(_)) => Ok(true),
            Some(first) if seq.len() == 1 => Ok(match first {
                Item::Bool(b) => *b,
                Item::Str(s) | Item::Untyped(s) => !s.is_empty(),
                Item::Int(i) => *i != 0,
                Item::Dec(d) => !d.is_zero(),
                Item::Dbl(d) => *d != 0.0 && !d.is_nan(),
                Item::Date(_) => return err("FORG0006: kein boolescher Wert"),
                Item::Node(_) => true,
            }),
            _ => err("FORG0006: effektiver Wahrheitswert einer Folge mehrerer Werte"),
        }
    }

    // ---------------------------------------------------------------- evaluation

    /// Evaluates to a boolean (effective boolean value), with short cuts.
    pub fn eval_bool(&mut self, e: &Expr, f: &Focus) -> XResult<bool> {
        match e {
            Expr::Or(l, r) => Ok(self.eval_bool(l, f)? || self.eval_bool(r, f)?),
            Expr::And(l, r) => Ok(self.eval_bool(l, f)? && self.eval_bool(r, f)?),
            Expr::Paren(inner) => self.eval_bool(inner, f),
            Expr::Call(func, args) if func.returns_boolean() => self.call_bool(*func, args, f),
            Expr::Call(Func::NormalizeSpace, args) => {
                // A normalized string is non-empty iff it has a non-whitespace character.
                let v = match args.first() {
                    Some(a) => {
                        let v = self.eval(a, f)?;
                        self.string_of(&v)?
                    }
                    None => match &f.item {
                        // The node's string value as the document holds it: no copy of a long
                        // text (such as an embedded attachment) into the string cache.
                        Some(Item::Node(n)) => {
                            let v = self.doc.string_value(*n);
                            return Ok(v.chars().any(|c| !matches!(c, ' ' | '\t' | '\n' | '\r')));
                        }
                        Some(other) => other.string(),
                        None => return err("XPDY0002"),
                    },
                };
                Ok(v.chars().any(|c| !matches!(c, ' ' | '\t' | '\n' | '\r')))
            }
            Expr::GenCmp(op, l, r) => self.general_cmp(*op, l, r, f),
            Expr::ValCmp(op, l, r) => Ok(self.value_cmp(*op, l, r, f)? == Some(true)),
            Expr::Quant(every, binds, body) => self.quant_rec(*every, binds, body, f),
            // Node sequences: true iff not empty.
            Expr::Step(_) | Expr::Path(_, _) if is_node_path(e) => self.exists(e, f),
            _ => {
                let v = self.eval(e, f)?;
                self.ebv(&v)
            }
        }
    }

    /// Evaluates an expression.
    pub fn eval(&mut self, e: &Expr, f: &Focus) -> XResult<Seq> {
        match e {
            Expr::Seq(items) => {
                let mut out = Seq::new();
                for i in items {
                    out.extend(self.eval(i, f)?);
                }
                Ok(out)
            }
            Expr::Paren(inner) => self.eval(inner, f),
            Expr::Lit(l) => Ok(Seq::one(lit_item(l))),
            Expr::Var(VarRef::Global(i)) => self.global(*i),
            Expr::Var(VarRef::Local(i)) => {
                Ok(self.locals.get(*i as usize).cloned().unwrap_or_default())
            }
            Expr::Context => match &f.item {
                Some(i) => Ok(Seq::one(i.clone())),
                None => err("XPDY0002: kein Kontextelement"),
            },
            Expr::Root => match &f.item {
                Some(Item::Node(_)) => Ok(Seq::one(Item::Node(0))),
                _ => err("XPDY0002: kein Kontextknoten für „/“"),
            },
            Expr::Step(step) => match &f.item {
                Some(Item::Node(n)) => {
                    let mut out = Seq::new();
                    self.step(*n, step, &mut out)?;
                    Ok(out)
                }
                _ => err("XPTY0020: Kontextelement ist kein Knoten"),
            },
            Expr::Path(l, r) => self.path(l, r, f),
            Expr::Filter(prim, preds) => {
                let mut v = self.eval(prim, f)?;
                for p in preds {
                    v = self.filter(v, p)?;
                }
                Ok(v)
            }
            Expr::Call(func, args) => self.call(*func, args, f),
            Expr::UserCall(id, args) => self.user_call(*id, args, f),
            Expr::Or(..) | Expr::And(..) => Ok(Seq::one(Item::Bool(self.eval_bool(e, f)?))),
            Expr::GenCmp(op, l, r) => Ok(Seq::one(Item::Bool(self.general_cmp(*op, l, r, f)?))),
            Expr::ValCmp(op, l, r) => Ok(self
                .value_cmp(*op, l, r, f)?
                .map(Item::Bool)
                .into_iter()
                .collect()),
            Expr::Is(l, r) => {
                let a = self.eval(l, f)?;
                let b = self.eval(r, f)?;
                match (a.first(), b.first()) {
                    (Some(Item::Node(x)), Some(Item::Node(y))) => Ok(Seq::one(Item::Bool(x == y))),
                    _ => Ok(Seq::new()),
                }
            }
            Expr::Arith(op, l, r) => {
                let a = self.eval_atom(l, f)?;
                let b = self.eval_atom(r, f)?;
                match (a, b) {
                    (Some(a), Some(b)) => Ok(Seq::one(arith(*op, &a, &b)?)),
                    _ => Ok(Seq::new()),
                }
            }
            Expr::Neg(inner) | Expr::Plus(inner) => {
                let Some(a) = self.eval_atom(inner, f)? else {
                    return Ok(Seq::new());
                };
                let a = numeric(&a)?;
                if matches!(e, Expr::Plus(_)) {
                    return Ok(Seq::one(a));
                }
                Ok(Seq::one(match a {
                    Item::Int(i) => Item::Int(-i),
                    Item::Dec(d) => Item::Dec(-d),
                    Item::Dbl(d) => Item::Dbl(-d),
                    other => other,
                }))
            }
            Expr::Range(l, r) => {
                let a = self.eval_atom(l, f)?;
                let b = self.eval_atom(r, f)?;
                let (Some(a), Some(b)) = (a, b) else {
                    return Ok(Seq::new());
                };
                let (Item::Int(a), Item::Int(b)) = (
                    cast(&a, AtomicType::Integer)?,
                    cast(&b, AtomicType::Integer)?,
                ) else {
                    return err("XPTY0004: Bereich braucht ganze Zahlen");
                };
                if b - a > 10_000_000 {
                    return err("Bereich zu groß");
                }
                Ok((a..=b).map(Item::Int).collect())
            }
            Expr::SetOp(op, l, r) => {
                let a = self.eval(l, f)?;
                let b = self.eval(r, f)?;
                let to_nodes = |s: Seq| -> XResult<Vec<u32>> {
                    s.into_iter()
                        .map(|i| match i {
                            Item::Node(n) => Ok(n),
                            _ => err("XPTY0004: Mengenoperation auf Nicht-Knoten"),
                        })
                        .collect()
                };
                let a = to_nodes(a)?;
                let b = to_nodes(b)?;
                let mut out: Vec<u32> = match op {
                    SetOp::Union => a.into_iter().chain(b).collect(),
                    SetOp::Intersect => {
                        let bs: HashSet<u32> = b.into_iter().collect();
                        a.into_iter().filter(|n| bs.contains(n)).collect()
                    }
                    SetOp::Except => {
                        let bs: HashSet<u32> = b.into_iter().collect();
                        a.into_iter().filter(|n| !bs.contains(n)).collect()
                    }
                };
                out.sort_unstable();
                out.dedup();
                Ok(out.into_iter().map(Item::Node).collect())
            }
            Expr::If(c, t, el) => {
                if self.eval_bool(c, f)? {
                    self.eval(t, f)
                } else {
                    self.eval(el, f)
                }
            }
            Expr::For(binds, body) => {
                let mut out = Seq::new();
                self.for_rec(binds, body, f, &mut out)?;
                Ok(out)
            }
            Expr::Quant(every, binds, body) => Ok(Seq::one(Item::Bool(
                self.quant_rec(*every, binds, body, f)?,
            ))),
            Expr::Cast(inner, t, allow_empty) => match self.eval_atom(inner, f)? {
                None if *allow_empty => Ok(Seq::new()),
                None => err("XPTY0004: leere Folge in cast"),
                Some(a) => Ok(Seq::one(cast(&a, *t)?)),
            },
            Expr::Castable(inner, t, allow_empty) => {
                let v = self.eval(inner, f)?;
                Ok(Seq::one(Item::Bool(match self.atomize_opt(v) {
                    Err(_) => false,
                    Ok(None) => *allow_empty,
                    Ok(Some(a)) => cast(&a, *t).is_ok(),
                })))
            }
            // An absolute path needs a node as focus (else `/` fails, every time).
            Expr::Memo(_, inner) if !matches!(f.item, Some(Item::Node(_))) => self.eval(inner, f),
            Expr::Memo(slot, inner) => {
                let i = *slot as usize;
                if let Some(Some(v)) = self.memo.get(i) {
                    return Ok(v.clone());
                }
                // Errors are not kept: the next use evaluates (and fails) again.
                let v = self.eval(inner, f)?;
                if i >= self.memo.len() {
                    self.memo.resize(i + 1, None);
                }
                self.memo[i] = Some(v.clone());
                Ok(v)
            }
            Expr::InstanceOf(inner, t, allow_empty) => {
                let v = self.eval(inner, f)?;
                Ok(Seq::one(Item::Bool(match v.len() {
                    0 => *allow_empty,
                    1 => instance_of(&v[0], *t),
                    _ => false,
                })))
            }
        }
    }

    /// A general comparison (`=`, `<`, …): true if some pair of atomized values compares true.
    fn general_cmp(&mut self, op: CmpOp, l: &Expr, r: &Expr, f: &Focus) -> XResult<bool> {
        let a = self.eval(l, f)?;
        let a = self.atomize(a);
        // String literals on the right (`x = 'S'`, `x = ('48', '54')`): strings and untyped
        // values compare with them as strings, in place.
        if let Some(lits) = string_literals(r) {
            for x in &a {
                for lit in lits {
                    let Expr::Lit(Lit::Str(y)) = lit else {
                        continue;
                    };
                    let hit = match x {
                        Item::Str(s) | Item::Untyped(s) => cmp_holds(op, s.as_ref().cmp(y)),
                        other => general_compare(op, other, &Item::Str(y.clone()))?,
                    };
                    if hit {
                        return Ok(true);
                    }
                }
            }
            return Ok(false);
        }
        let b = self.eval(r, f)?;
        let b = self.atomize(b);
        for x in &a {
            for y in &b {
                if general_compare(op, x, y)? {
                    return Ok(true);
                }
            }
        }
        Ok(false)
    }

    /// A value comparison (`eq`, `lt`, …); `None` if an operand is empty.
    fn value_cmp(&mut self, op: CmpOp, l: &Expr, r: &Expr, f: &Focus) -> XResult<Option<bool>> {
        let a = self.eval_atom(l, f)?;
        let b = self.eval_atom(r, f)?;
        match (a, b) {
            (Some(a), Some(b)) => Ok(Some(value_compare(op, &a, &b)?)),
            _ => Ok(None),
        }
    }

    /// Whether an expression yields a non-empty sequence, stopping at the first node where an
    /// axis step without predicates is involved.
    fn exists(&mut self, e: &Expr, f: &Focus) -> XResult<bool> {
        match e {
            Expr::Paren(inner) => self.exists(inner, f),
            Expr::Step(step) if step.preds.is_empty() => match &f.item {
                Some(Item::Node(n)) => Ok(self.axis_any(*n, step)),
                _ => err("XPTY0020: Kontextelement ist kein Knoten"),
            },
            Expr::Path(l, r) => match &**r {
                Expr::Step(step) if step.preds.is_empty() => {
                    let left = self.eval(l, f)?;
                    if left.iter().any(|i| !matches!(i, Item::Node(_))) {
                        return err("XPTY0019: Pfadschritt auf einem Nicht-Knoten");
                    }
                    Ok(left.iter().any(|i| match i {
                        Item::Node(n) => self.axis_any(*n, step),
                        _ => false,
                    }))
                }
                _ => Ok(!self.eval(e, f)?.is_empty()),
            },
            _ => Ok(!self.eval(e, f)?.is_empty()),
        }
    }

    fn for_rec(
        &mut self,
        binds: &[(u32, Expr)],
        body: &Expr,
        f: &Focus,
        out: &mut Seq,
    ) -> XResult<()> {
        let Some(((slot, e), rest)) = binds.split_first() else {
            out.extend(self.eval(body, f)?);
            return Ok(());
        };
        let items = self.eval(e, f)?;
        for it in items {
            self.set_local(*slot, Seq::one(it));
            self.for_rec(rest, body, f, out)?;
        }
        Ok(())
    }

    fn quant_rec(
        &mut self,
        every: bool,
        binds: &[(u32, Expr)],
        body: &Expr,
        f: &Focus,
    ) -> XResult<bool> {
        let Some(((slot, e), rest)) = binds.split_first() else {
            return self.eval_bool(body, f);
        };
        let items = self.eval(e, f)?;
        for it in items {
            self.set_local(*slot, Seq::one(it));
            let r = self.quant_rec(every, rest, body, f)?;
            if every && !r {
                return Ok(false);
            }
            if !every && r {
                return Ok(true);
            }
        }
        Ok(every)
    }

    fn path(&mut self, l: &Expr, r: &Expr, f: &Focus) -> XResult<Seq> {
        let left = self.eval(l, f)?;
        if left.is_empty() {
            return Ok(left);
        }
        if let Expr::Step(step) = r {
            let mut out = Seq::new();
            for it in &left {
                match it {
                    Item::Node(n) => self.step(*n, step, &mut out)?,
                    _ => return err("XPTY0019: Pfadschritt auf einem Nicht-Knoten"),
                }
            }
            if left.len() > 1 || step.axis.is_reverse() {
                sort_nodes(&mut out);
            }
            return Ok(out);
        }
        let size = left.len();
        let mut out = Seq::new();
        for (i, it) in left.into_iter().enumerate() {
            if !matches!(it, Item::Node(_)) {
                return err("XPTY0019: Pfadschritt auf einem Nicht-Knoten");
            }
            let focus = Focus {
                item: Some(it),
                pos: i + 1,
                size,
            };
            out.extend(self.eval(r, &focus)?);
        }
        let nodes = out.iter().filter(|i| matches!(i, Item::Node(_))).count();
        if nodes == out.len() {
            sort_nodes(&mut out);
        } else if nodes != 0 {
            return err("XPTY0018: Pfad liefert Knoten und Werte gemischt");
        }
        Ok(out)
    }

    /// Whether a node passes a node test on an axis.
    #[inline(always)]
    pub fn test(&self, id: u32, test: &NodeTest, attr_axis: bool) -> bool {
        let n = self.doc.node(id);
        let principal = if attr_axis {
            Kind::Attribute
        } else {
            Kind::Element
        };
        match test {
            NodeTest::Node => true,
            NodeTest::Text => n.kind == Kind::Text,
            NodeTest::Comment => n.kind == Kind::Comment,
            NodeTest::Pi => n.kind == Kind::Pi,
            NodeTest::DocumentNode => n.kind == Kind::Document,
            NodeTest::Any => n.kind == principal,
            NodeTest::Name(nid) => n.name_id == *nid && n.kind == principal,
            NodeTest::Ns(ns) => n.kind == principal && *self.doc.qnames[n.name as usize].ns == **ns,
            NodeTest::Local(l) => {
                n.kind == principal && *self.doc.qnames[n.name as usize].local == **l
            }
        }
    }

    /// Applies an axis step to one context node, appending matches (in axis order) to `out`.
    pub fn step(&mut self, ctx: u32, step: &Step, out: &mut Seq) -> XResult<()> {
        if step.preds.is_empty() {
            self.axis_each(ctx, step.axis, &step.test, |n| {
                out.push(Item::Node(n));
                true
            });
            return Ok(());
        }
        let mut found: Vec<u32> = Vec::new();
        self.axis_each(ctx, step.axis, &step.test, |n| {
            found.push(n);
            true
        });
        for p in &step.preds {
            found = self.filter_nodes(found, p)?;
        }
        out.extend(found.into_iter().map(Item::Node));
        Ok(())
    }

    /// Whether an axis step (predicates ignored) selects at least one node.
    fn axis_any(&self, ctx: u32, step: &Step) -> bool {
        let mut any = false;
        self.axis_each(ctx, step.axis, &step.test, |_| {
            any = true;
            false
        });
        any
    }

    /// Calls `emit` with the nodes on an axis that pass a node test, in axis order, until it
    /// returns false.
    fn axis_each(&self, ctx: u32, axis: Axis, t: &NodeTest, mut emit: impl FnMut(u32) -> bool) {
        let doc = self.doc;
        match axis {
            Axis::Child => {
                // In a large subtree (the document element), the name index finds the children
                // of a name faster than a visit of every child.
                if let NodeTest::Name(nid) = t
                    && doc.subtree_end(ctx) - ctx > CHILD_INDEX_MIN_SUBTREE
                {
                    for &id in doc.descendants_named(ctx, *nid) {
                        if doc.node(id).parent == ctx && !emit(id) {
                            return;
                        }
                    }
                    return;
                }
                let mut c = doc.node(ctx).first_child;
                while c != NONE {
                    if self.test(c, t, false) && !emit(c) {
                        return;
                    }
                    c = doc.node(c).next_sibling;
                }
            }
            Axis::Attribute => {
                for a in doc.attributes(ctx) {
                    if self.test(a, t, true) && !emit(a) {
                        return;
                    }
                }
            }
            Axis::SelfAxis => {
                if self.test(ctx, t, false) {
                    emit(ctx);
                }
            }
            Axis::Descendant | Axis::DescendantOrSelf => {
                if axis == Axis::DescendantOrSelf && self.test(ctx, t, false) && !emit(ctx) {
                    return;
                }
                if doc.node(ctx).kind == Kind::Attribute {
                    return;
                }
                if let NodeTest::Name(nid) = t {
                    for &id in doc.descendants_named(ctx, *nid) {
                        if !emit(id) {
                            return;
                        }
                    }
                } else {
                    let end = doc.subtree_end(ctx);
                    for id in ctx + 1..=end {
                        if doc.node(id).kind != Kind::Attribute
                            && self.test(id, t, false)
                            && !emit(id)
                        {
                            return;
                        }
                    }
                }
            }
            Axis::Parent => {
                let p = doc.node(ctx).parent;
                if p != NONE && self.test(p, t, false) {
                    emit(p);
                }
            }
            Axis::Ancestor | Axis::AncestorOrSelf => {
                if axis == Axis::AncestorOrSelf && self.test(ctx, t, false) && !emit(ctx) {
                    return;
                }
                let mut p = doc.node(ctx).parent;
                while p != NONE {
                    if self.test(p, t, false) && !emit(p) {
                        return;
                    }
                    p = doc.node(p).parent;
                }
            }
            Axis::FollowingSibling | Axis::PrecedingSibling => {
                if doc.node(ctx).kind == Kind::Attribute {
                    return;
                }
                let next = |c: u32| {
                    if axis == Axis::FollowingSibling {
                        doc.node(c).next_sibling
                    } else {
                        doc.node(c).prev_sibling
                    }
                };
                let mut c = next(ctx);
                while c != NONE {
                    if self.test(c, t, false) && !emit(c) {
                        return;
                    }
                    c = next(c);
                }
            }
            Axis::Following => {
                let start = if doc.node(ctx).kind == Kind::Attribute {
                    // children of the owner element follow its attributes
                    let owner = doc.node(ctx).parent;
                    owner + 1 + doc.node(owner).attr_count
                } else {
                    doc.subtree_end(ctx) + 1
                };
                for id in start..doc.nodes.len() as u32 {
                    if doc.node(id).kind != Kind::Attribute && self.test(id, t, false) && !emit(id)
                    {
                        return;
                    }
                }
            }
            Axis::SubtreeAttribute => {
                if doc.node(ctx).kind == Kind::Attribute {
                    return;
                }
                if let NodeTest::Name(nid) = t {
                    for &id in doc.attributes_named_within(ctx, *nid) {
                        if !emit(id) {
                            return;
                        }
                    }
                } else {
                    for id in ctx + 1..=doc.subtree_end(ctx) {
                        if doc.node(id).kind == Kind::Attribute
                            && self.test(id, t, true)
                            && !emit(id)
                        {
                            return;
                        }
                    }
                }
            }
            Axis::Preceding => {
                let mut anc = HashSet::new();
                let mut p = doc.node(ctx).parent;
                while p != NONE {
                    anc.insert(p);
                    p = doc.node(p).parent;
                }
                for id in (1..ctx).rev() {
                    if doc.node(id).kind != Kind::Attribute
                        && !anc.contains(&id)
                        && self.test(id, t, false)
                        && !emit(id)
                    {
                        return;
                    }
                }
            }
        }
    }

    fn filter_nodes(&mut self, nodes: Vec<u32>, pred: &Expr) -> XResult<Vec<u32>> {
        if let Expr::Lit(Lit::Int(i)) = pred {
            let i = *i;
            return Ok(if i >= 1 && (i as usize) <= nodes.len() {
                vec![nodes[i as usize - 1]]
            } else {
                Vec::new()
            });
        }
        let size = nodes.len();
        let mut out = Vec::with_capacity(size);
        let boolean = super::parse::is_boolean_expr(pred);
        for (i, n) in nodes.into_iter().enumerate() {
            let focus = Focus {
                item: Some(Item::Node(n)),
                pos: i + 1,
                size,
            };
            let keep = if boolean {
                self.eval_bool(pred, &focus)?
            } else {
                let v = self.eval(pred, &focus)?;
                self.pred_truth(&v, i + 1)?
            };
            if keep {
                out.push(n);
            }
        }
        Ok(out)
    }

    fn pred_truth(&self, v: &Seq, pos: usize) -> XResult<bool> {
        if v.len() == 1 && v[0].is_numeric() {
            return Ok(to_f64(&v[0]) == pos as f64);
        }
        self.ebv(v)
    }

    fn filter(&mut self, seq: Seq, pred: &Expr) -> XResult<Seq> {
        let size = seq.len();
        let mut out = Seq::new();
        for (i, it) in seq.into_iter().enumerate() {
            let focus = Focus {
                item: Some(it.clone()),
                pos: i + 1,
                size,
            };
            let v = self.eval(pred, &focus)?;
            if self.pred_truth(&v, i + 1)? {
                out.push(it);
            }
        }
        Ok(out)
    }

    fn user_call(&mut self, id: u32, args: &[Expr], f: &Focus) -> XResult<Seq> {
        let func = &self.statics.functions[id as usize];
        let mut vals = Vec::with_capacity(args.len());
        for (a, (_, ty)) in args.iter().zip(func.params.iter()) {
            let v = self.eval(a, f)?;
            vals.push(match ty {
                Some(t) => {
                    let v = self.atomize(v);
                    v.iter()
                        .map(|x| match x {
                            Item::Untyped(_) => cast(x, *t),
                            Item::Int(_) | Item::Dec(_) if *t == AtomicType::Double => cast(x, *t),
                            other => Ok(other.clone()),
                        })
                        .collect::<XResult<Seq>>()?
                }
                None => v,
            });
        }
        let func = &self.statics.functions[id as usize];
        let saved: Vec<Seq> = func
            .slots
            .iter()
            .map(|s| self.locals.get(*s as usize).cloned().unwrap_or_default())
            .collect();
        for ((slot, _), v) in func.params.iter().zip(vals) {
            self.set_local(*slot, v);
        }
        let mut result = Seq::new();
        let r = self.run_steps(&func.body, f, &mut result);
        for (slot, v) in func.slots.iter().zip(saved) {
            self.set_local(*slot, v);
        }
        r?;
        match func.result {
            Some(t) => {
                let v = self.atomize(result);
                v.iter()
                    .map(|x| match x {
                        Item::Untyped(_) => cast(x, t),
                        other => Ok(other.clone()),
                    })
                    .collect()
            }
            None => Ok(result),
        }
    }

    fn run_steps(&mut self, steps: &[FnStep], f: &Focus, result: &mut Seq) -> XResult<()> {
        for step in steps {
            match step {
                FnStep::Let(slot, e) => {
                    let v = self.eval(e, f)?;
                    self.set_local(*slot, v);
                }
                FnStep::Value(e, value_of) => {
                    let v = self.eval(e, f)?;
                    if *value_of {
                        let v = self.atomize(v);
                        let s: Vec<String> = v.iter().map(|i| i.string().to_string()).collect();
                        result.push(Item::Untyped(Arc::from(s.join(" ").as_str())));
                    } else {
                        result.extend(v);
                    }
                }
                FnStep::Choose(branches, otherwise) => {
                    let mut done = false;
                    for (test, body) in branches {
                        if self.eval_bool(test, f)? {
                            self.run_steps(body, f, result)?;
                            done = true;
                            break;
                        }
                    }
                    if !done {
                        self.run_steps(otherwise, f, result)?;
                    }
                }
            }
        }
        Ok(())
    }

    /// The string value of argument `i` ("" if absent); literals are borrowed, not shared.
    fn arg_str<'e>(&mut self, args: &'e [Expr], i: usize, f: &Focus) -> XResult<StrArg<'e>> {
        match args.get(i) {
            None => Ok(StrArg::Lit("")),
            Some(Expr::Lit(Lit::Str(s))) => Ok(StrArg::Lit(s)),
            Some(_) => Ok(StrArg::Value(self.arg_string(args, i, f)?)),
        }
    }

    /// The compiled regular expression for an XPath pattern and flags.
    fn regex(&mut self, pattern: &str, flags: &str) -> XResult<&Regex> {
        let known = self
            .regexes
            .get(pattern)
            .and_then(|v| v.iter().position(|(fl, _)| &**fl == flags));
        let i = match known {
            Some(i) => i,
            None => {
                let re = self.statics.regex.get(pattern, flags)?;
                let list = self.regexes.entry(pattern.into()).or_default();
                list.push((flags.into(), re));
                list.len() - 1
            }
        };
        Ok(&self.regexes[pattern][i].1)
    }

    fn arg_string(&mut self, args: &[Expr], i: usize, f: &Focus) -> XResult<Arc<str>> {
        Ok(match self.eval_opt(&args[i], f)? {
            None => Arc::from(""),
            Some(Item::Node(n)) => self.node_string(n),
            Some(other) => other.string(),
        })
    }

    /// Evaluates an expression that must yield at most one item (`None`: the empty sequence).
    fn eval_opt(&mut self, e: &Expr, f: &Focus) -> XResult<Option<Item>> {
        let v = self.eval(e, f)?;
        match v.len() {
            0 | 1 => Ok(v.into_iter().next()),
            _ => self.atomize_opt(v), // the error for longer sequences
        }
    }

    /// [`Self::eval_opt`], atomized.
    fn eval_atom(&mut self, e: &Expr, f: &Focus) -> XResult<Option<Item>> {
        Ok(self.eval_opt(e, f)?.map(|i| self.atom(&i)))
    }

    fn context_node(&self, f: &Focus) -> XResult<u32> {
        match &f.item {
            Some(Item::Node(n)) => Ok(*n),
            _ => err("XPDY0002: kein Kontextknoten"),
        }
    }

    /// The functions that return a single boolean ([`Func::returns_boolean`]).
    fn call_bool(&mut self, func: Func, args: &[Expr], f: &Focus) -> XResult<bool> {
        use Func::*;
        match func {
            Not => Ok(!self.eval_bool(&args[0], f)?),
            True => Ok(true),
            False => Ok(false),
            Boolean => self.eval_bool(&args[0], f),
            Exists => self.exists(&args[0], f),
            Empty => Ok(!self.exists(&args[0], f)?),
            Contains | StartsWith | EndsWith => {
                let a = self.arg_str(args, 0, f)?;
                let c = self.arg_str(args, 1, f)?;
                Ok(match func {
                    Contains => a.contains(&*c),
                    StartsWith => a.starts_with(&*c),
                    _ => a.ends_with(&*c),
                })
            }
            Matches => {
                let input = self.arg_str(args, 0, f)?;
                let pat = self.arg_str(args, 1, f)?;
                let flags = self.arg_str(args, 2, f)?;
                let re = self.regex(&pat, &flags)?;
                Ok(re.is_match(&input))
            }
            _ => {
                let v = self.call(func, args, f)?;
                self.ebv(&v)
            }
        }
    }

    fn call(&mut self, func: Func, args: &[Expr], f: &Focus) -> XResult<Seq> {
        use Func::*;
        let one = |i: Item| Ok(Seq::one(i));
        let b = |v: bool| Ok(Seq::one(Item::Bool(v)));
        let s = |v: &str| Ok(Seq::one(Item::Str(Arc::from(v))));
        match func {
            Not | True | False | Boolean | Exists | Empty | Matches => {
                b(self.call_bool(func, args, f)?)
            }
            Count => one(Item::Int(self.eval(&args[0], f)?.len() as i64)),
            Sum => {
                let v = self.eval(&args[0], f)?;
                let v = self.atomize(v);
                if v.is_empty() {
                    if args.len() > 1 {
                        return self.eval(&args[1], f);
                    }
                    return one(Item::Int(0));
                }
                let mut acc: Option<Item> = None;
                for x in v {
                    let x = match x {
                        Item::Untyped(_) => cast(&x, AtomicType::Double)?,
                        other => numeric(&other)?,
                    };
                    acc = Some(match acc {
                        None => x,
                        Some(a) => arith(ArOp::Add, &a, &x)?,
                    });
                }
                Ok(acc.into_iter().collect())
            }
            Min | Max => {
                let v = self.eval(&args[0], f)?;
                let v = self.atomize(v);
                let mut best: Option<Item> = None;
                for x in v {
                    let x = match x {
                        Item::Untyped(_) => cast(&x, AtomicType::Double)?,
                        other => other,
                    };
                    best = Some(match best {
                        None => x,
                        Some(cur) => {
                            let op = if func == Min { CmpOp::Lt } else { CmpOp::Gt };
                            if value_compare(op, &x, &cur)? { x } else { cur }
                        }
                    });
                }
                Ok(best.into_iter().collect())
            }
            Avg => {
                let v = self.eval(&args[0], f)?;
                let v = self.atomize(v);
                if v.is_empty() {
                    return Ok(Seq::new());
                }
                let n = v.len() as i64;
                let mut acc = Item::Int(0);
                for x in v {
                    let x = match x {
                        Item::Untyped(_) => cast(&x, AtomicType::Double)?,
                        other => numeric(&other)?,
                    };
                    acc = arith(ArOp::Add, &acc, &x)?;
                }
                one(arith(ArOp::Div, &acc, &Item::Int(n))?)
            }
            Round | Abs | Floor | Ceiling => {
                let Some(x) = self.eval_atom(&args[0], f)? else {
                    return Ok(Seq::new());
                };
                let x = match x {
                    Item::Untyped(_) => cast(&x, AtomicType::Double)?,
                    other => numeric(&other)?,
                };
                one(match (func, x) {
                    (_, Item::Int(i)) if func != Abs => Item::Int(i),
                    (Abs, Item::Int(i)) => Item::Int(i.abs()),
                    (Round, Item::Dec(d)) => Item::Dec((d + Decimal::new(5, 1)).floor()),
                    (Abs, Item::Dec(d)) => Item::Dec(d.abs()),
                    (Floor, Item::Dec(d)) => Item::Dec(d.floor()),
                    (Ceiling, Item::Dec(d)) => Item::Dec(d.ceil()),
                    (Round, Item::Dbl(d)) => Item::Dbl(round_double(d)),
                    (Abs, Item::Dbl(d)) => Item::Dbl(d.abs()),
                    (Floor, Item::Dbl(d)) => Item::Dbl(d.floor()),
                    (Ceiling, Item::Dbl(d)) => Item::Dbl(d.ceil()),
                    (_, other) => other,
                })
            }
            Number => {
                let v = if args.is_empty() {
                    Seq::one(
                        f.item
                            .clone()
                            .ok_or_else(|| XPathError("XPDY0002".into()))?,
                    )
                } else {
                    self.eval(&args[0], f)?
                };
                let x = match v.len() {
                    0 => f64::NAN,
                    _ => to_f64(&self.atom(&v[0])),
                };
                one(Item::Dbl(x))
            }
            String => {
                if args.is_empty() {
                    let n = f
                        .item
                        .clone()
                        .ok_or_else(|| XPathError("XPDY0002".into()))?;
                    return one(Item::Str(self.string_of(&Seq::one(n))?));
                }
                let v = self.arg_string(args, 0, f)?;
                one(Item::Str(v))
            }
            StringLength => {
                let v = if args.is_empty() {
                    let n = f
                        .item
                        .clone()
                        .ok_or_else(|| XPathError("XPDY0002".into()))?;
                    self.string_of(&Seq::one(n))?
                } else {
                    self.arg_string(args, 0, f)?
                };
                one(Item::Int(v.chars().count() as i64))
            }
            NormalizeSpace => {
                let v = if args.is_empty() {
                    let n = f
                        .item
                        .clone()
                        .ok_or_else(|| XPathError("XPDY0002".into()))?;
                    self.string_of(&Seq::one(n))?
                } else {
                    self.arg_string(args, 0, f)?
                };
                if is_normalized(&v) {
                    return one(Item::Str(v));
                }
                s(&normalize_space(&v))
            }
            UpperCase => {
                let v = self.arg_string(args, 0, f)?;
                s(&v.to_uppercase())
            }
            LowerCase => {
                let v = self.arg_string(args, 0, f)?;
                s(&v.to_lowercase())
            }
            Contains | StartsWith | EndsWith | SubstringAfter | SubstringBefore => {
                let a = self.arg_string(args, 0, f)?;
                let c = self.arg_string(args, 1, f)?;
                match func {
                    Contains => b(a.contains(&*c)),
                    StartsWith => b(a.starts_with(&*c)),
                    EndsWith => b(a.ends_with(&*c)),
                    SubstringAfter => s(match a.find(&*c) {
                        Some(i) => &a[i + c.len()..],
                        None => "",
                    }),
                    _ => s(match a.find(&*c) {
                        Some(i) => &a[..i],
                        None => "",
                    }),
                }
            }
            Concat => {
                let mut out = std::string::String::new();
                for a in args {
                    let v = self.eval(a, f)?;
                    out.push_str(&self.string_of(&v)?);
                }
                s(&out)
            }
            Substring => {
                let src = self.arg_string(args, 0, f)?;
                let start = self.eval(&args[1], f)?;
                let start = start
                    .first()
                    .map(|x| to_f64(&self.atom(x)))
                    .unwrap_or(f64::NAN);
                let len = if args.len() > 2 {
                    let l = self.eval(&args[2], f)?;
                    Some(l.first().map(|x| to_f64(&self.atom(x))).unwrap_or(f64::NAN))
                } else {
                    None
                };
                s(&substring(&src, start, len))
            }
            Translate => {
                let src = self.arg_string(args, 0, f)?;
                let from: Vec<char> = self.arg_string(args, 1, f)?.chars().collect();
                let to: Vec<char> = self.arg_string(args, 2, f)?.chars().collect();
                let out: std::string::String = src
                    .chars()
                    .filter_map(|c| match from.iter().position(|&x| x == c) {
                        Some(i) => to.get(i).copied(),
                        None => Some(c),
                    })
                    .collect();
                s(&out)
            }
            Replace => {
                let input = self.arg_str(args, 0, f)?;
                let pat = self.arg_str(args, 1, f)?;
                let rep = self.arg_str(args, 2, f)?;
                let flags = self.arg_str(args, 3, f)?;
                let re = self.regex(&pat, &flags)?;
                if re.is_match("") {
                    return err("FORX0003: Muster passt auf die leere Zeichenkette");
                }
                let rep = super::regex::replacement(&rep)?;
                s(&re.replace_all(&input, rep.as_str()))
            }
            Tokenize => {
                let input = self.arg_string(args, 0, f)?;
                if args.len() == 1 {
                    return Ok(normalize_space(&input)
                        .split(' ')
                        .filter(|t| !t.is_empty())
                        .map(|t| Item::Str(Arc::from(t)))
                        .collect());
                }
                let pat = self.arg_str(args, 1, f)?;
                let flags = self.arg_str(args, 2, f)?;
                let re = self.regex(&pat, &flags)?;
                if re.is_match("") {
                    return err("FORX0003: Muster passt auf die leere Zeichenkette");
                }
                if input.is_empty() {
                    return Ok(Seq::new());
                }
                Ok(re.split(&input).map(|t| Item::Str(Arc::from(t))).collect())
            }
            StringJoin => {
                let v = self.eval(&args[0], f)?;
                let v = self.atomize(v);
                let sep = if args.len() > 1 {
                    self.arg_string(args, 1, f)?
                } else {
                    Arc::from("")
                };
                let parts: Vec<Arc<str>> = v.iter().map(|i| i.string()).collect();
                let parts: Vec<&str> = parts.iter().map(|p| &**p).collect();
                s(&parts.join(&sep))
            }
            StringToCodepoints => {
                let v = self.arg_string(args, 0, f)?;
                Ok(v.chars().map(|c| Item::Int(c as i64)).collect())
            }
            CodepointsToString => {
                let v = self.eval(&args[0], f)?;
                let v = self.atomize(v);
                let mut out = std::string::String::new();
                for x in v {
                    let Item::Int(i) = cast(&x, AtomicType::Integer)? else {
                        return err("FOCH0001");
                    };
                    match u32::try_from(i).ok().and_then(char::from_u32) {
                        Some(c) => out.push(c),
                        None => return err("FOCH0001: ungültiger Codepoint"),
                    }
                }
                s(&out)
            }
            Reverse => {
                let mut v = self.eval(&args[0], f)?;
                v.reverse();
                Ok(v)
            }
            DistinctValues => {
                let v = self.eval(&args[0], f)?;
                let v = self.atomize(v);
                let mut seen = HashSet::new();
                Ok(v.into_iter()
                    .filter(|x| seen.insert(distinct_key(x)))
                    .collect())
            }
            Name | LocalName | NamespaceUri => {
                let node = if args.is_empty() {
                    Some(self.context_node(f)?)
                } else {
                    match self.eval(&args[0], f)?.first() {
                        None => None,
                        Some(Item::Node(n)) => Some(*n),
                        Some(_) => return err("XPTY0004: Knoten erwartet"),
                    }
                };
                let Some(n) = node else {
                    return s("");
                };
                if func == Name {
                    return one(Item::Str(self.node_name(n)));
                }
                let Some(q) = self.doc.qname(n) else {
                    return s("");
                };
                match func {
                    LocalName => s(&q.local),
                    _ => s(&q.ns),
                }
            }
            Current => one(Item::Node(self.current)),
            Last => one(Item::Int(f.size as i64)),
            Position => one(Item::Int(f.pos as i64)),
            Root => one(Item::Node(0)),
            Data => {
                let v = self.eval(&args[0], f)?;
                Ok(self.atomize(v))
            }
            DocumentUri => Ok(Seq::new()),
        }
    }

    // ---------------------------------------------------------------- patterns

    /// Whether a node matches an XSLT pattern.
    pub fn matches(&mut self, node: u32, pat: &Pattern) -> XResult<bool> {
        for alt in &pat.alts {
            if self.match_path(node, alt)? {
                return Ok(true);
            }
        }
        Ok(false)
    }

    fn match_path(&mut self, node: u32, p: &PathPattern) -> XResult<bool> {
        if p.steps.is_empty() {
            return Ok(p.anchor == Anchor::Root && node == 0);
        }
        self.match_from(node, p, p.steps.len() - 1)
    }

    fn match_from(&mut self, node: u32, p: &PathPattern, i: usize) -> XResult<bool> {
        let st = &p.steps[i];
        if !self.match_step(node, st)? {
            return Ok(false);
        }
        let parent = self.doc.node(node).parent;
        if i == 0 {
            return Ok(match p.anchor {
                Anchor::Root => parent == 0,
                Anchor::Any => parent != NONE,
            });
        }
        if parent == NONE {
            return Ok(false);
        }
        if st.desc_before {
            let mut a = parent;
            while a != NONE && a != 0 {
                if self.match_from(a, p, i - 1)? {
                    return Ok(true);
                }
                a = self.doc.node(a).parent;
            }
            Ok(false)
        } else {
            self.match_from(parent, p, i - 1)
        }
    }

    fn match_step(&mut self, node: u32, st: &PatternStep) -> XResult<bool> {
        let n = self.doc.node(node);
        let attr = st.axis == Axis::Attribute;
        if attr != (n.kind == Kind::Attribute) && !matches!(st.test, NodeTest::Node) {
            return Ok(false);
        }
        if matches!(st.test, NodeTest::Node) && (n.kind == Kind::Attribute) != attr {
            return Ok(false);
        }
        if n.kind == Kind::Document || !self.test(node, &st.test, attr) {
            return Ok(false);
        }
        if st.preds.is_empty() {
            return Ok(true);
        }
        let saved = self.current;
        self.current = node;
        if st.preds.iter().all(super::parse::is_boolean_expr) {
            // Boolean predicates: the node is the only candidate (position 1 of 1).
            let focus = Focus::node(node);
            let mut result = Ok(true);
            for p in &st.preds {
                result = self.eval_bool(p, &focus);
                if result != Ok(true) {
                    break;
                }
            }
            self.current = saved;
            return result;
        }
        // Predicates see the node among its siblings that pass the same test.
        let mut nodes: Vec<u32> = Vec::new();
        self.axis_each(n.parent, st.axis, &st.test, |c| {
            nodes.push(c);
            true
        });
        for p in &st.preds {
            nodes = match self.filter_nodes(nodes, p) {
                Ok(v) => v,
                Err(e) => {
                    self.current = saved;
                    return Err(e);
                }
            };
        }
        self.current = saved;
        Ok(nodes.contains(&node))
    }
}

/// A string argument: borrowed from a literal of the expression, or computed.
enum StrArg<'e> {
    Lit(&'e str),
    Value(Arc<str>),
}

impl std::ops::Deref for StrArg<'_> {
    type Target = str;
    fn deref(&self) -> &str {
        match self {
            StrArg::Lit(s) => s,
            StrArg::Value(s) => s,
        }
    }
}

/// The value of a literal.
fn lit_item(l: &Lit) -> Item {
    match l {
        Lit::Str(s) => Item::Str(s.clone()),
        Lit::Int(i) => Item::Int(*i),
        Lit::Dec(d) => Item::Dec(*d),
        Lit::Dbl(d) => Item::Dbl(*d),
    }
}

/// A sequence of string literals (`'a'`, `('a', 'b')`), if the expression is one.
fn string_literals(e: &Expr) -> Option<&[Expr]> {
    match e {
        Expr::Lit(Lit::Str(_)) => Some(std::slice::from_ref(e)),
        Expr::Paren(inner) => string_literals(inner),
        Expr::Seq(items) if items.iter().all(|i| matches!(i, Expr::Lit(Lit::Str(_)))) => {
            Some(items)
        }
        _ => None,
    }
}

/// Subtree size (in nodes) above which child steps with a name test use the name index.
const CHILD_INDEX_MIN_SUBTREE: u32 = 64;

/// Whether an expression is an axis step or a path ending in one: its value is always a
/// sequence of nodes, so its effective boolean value is "not empty".
fn is_node_path(e: &Expr) -> bool {
    match e {
        Expr::Step(_) => true,
        Expr::Path(_, r) => matches!(**r, Expr::Step(_)),
        _ => false,
    }
}

fn sort_nodes(v: &mut Seq) {
    v.sort_unstable_by_key(|i| match i {
        Item::Node(n) => *n,
        _ => u32::MAX,
    });
    v.dedup_by(|a, b| matches!((a, b), (Item::Node(x), Item::Node(y)) if x == y));
}

fn numeric(x: &Item) -> XResult<Item> {
    match x {
        Item::Int(_) | Item::Dec(_) | Item::Dbl(_) => Ok(x.clone()),
        Item::Untyped(_) => cast(x, AtomicType::Double),
        _ => err(format!("XPTY0004: „{}“ ist keine Zahl", x.string())),
    }
}

fn round_double(d: f64) -> f64 {
    if d.is_nan() || d.is_infinite() || d == 0.0 {
        return d;
    }
    let r = (d + 0.5).floor();
    if r == 0.0 && d < 0.0 { -0.0 } else { r }
}

/// Arithmetic on two atomic values (untyped operands become doubles).
pub fn arith(op: ArOp, a: &Item, b: &Item) -> XResult<Item> {
    let a = numeric(a)?;
    let b = numeric(b)?;
    match (&a, &b) {
        (Item::Int(x), Item::Int(y)) => {
            let (x, y) = (*x, *y);
            let r = match op {
                ArOp::Add => x.checked_add(y),
                ArOp::Sub => x.checked_sub(y),
                ArOp::Mul => x.checked_mul(y),
                ArOp::IDiv => {
                    if y == 0 {
                        return err("FOAR0001: Division durch null");
                    }
                    Some(x / y)
                }
                ArOp::Mod => {
                    if y == 0 {
                        return err("FOAR0001: Division durch null");
                    }
                    Some(x % y)
                }
                ArOp::Div => None,
            };
            match r {
                Some(v) => Ok(Item::Int(v)),
                None => dec_arith(op, Decimal::from(x), Decimal::from(y)),
            }
        }
        (Item::Dbl(_), _) | (_, Item::Dbl(_)) => {
            let (x, y) = (to_f64(&a), to_f64(&b));
            Ok(match op {
                ArOp::Add => Item::Dbl(x + y),
                ArOp::Sub => Item::Dbl(x - y),
                ArOp::Mul => Item::Dbl(x * y),
                ArOp::Div => Item::Dbl(x / y),
                ArOp::Mod => Item::Dbl(x % y),
                ArOp::IDiv => {
                    if y == 0.0 || x.is_nan() || y.is_nan() || x.is_infinite() {
                        return err("FOAR0001: ganzzahlige Division nicht möglich");
                    }
                    Item::Int((x / y).trunc() as i64)
                }
            })
        }
        _ => {
            let x = to_dec(&a)?;
            let y = to_dec(&b)?;
            dec_arith(op, x, y)
        }
    }
}

fn to_dec(x: &Item) -> XResult<Decimal> {
    match x {
        Item::Int(i) => Ok(Decimal::from(*i)),
        Item::Dec(d) => Ok(*d),
        Item::Dbl(d) => Decimal::from_f64(*d).ok_or_else(|| XPathError("FOCA0002".into())),
        _ => err("XPTY0004: keine Zahl"),
    }
}

fn dec_arith(op: ArOp, x: Decimal, y: Decimal) -> XResult<Item> {
    let overflow = || XPathError("FOAR0002: Überlauf bei Dezimalarithmetik".into());
    Ok(match op {
        ArOp::Add => Item::Dec(x.checked_add(y).ok_or_else(overflow)?),
        ArOp::Sub => Item::Dec(x.checked_sub(y).ok_or_else(overflow)?),
        ArOp::Mul => Item::Dec(x.checked_mul(y).ok_or_else(overflow)?),
        ArOp::Div => {
            if y.is_zero() {
                return err("FOAR0001: Division durch null");
            }
            Item::Dec(x.checked_div(y).ok_or_else(overflow)?)
        }
        ArOp::IDiv => {
            if y.is_zero() {
                return err("FOAR0001: Division durch null");
            }
            let q = x.checked_div(y).ok_or_else(overflow)?.trunc();
            Item::Int(q.to_i64().ok_or_else(overflow)?)
        }
        ArOp::Mod => {
            if y.is_zero() {
                return err("FOAR0001: Division durch null");
            }
            Item::Dec(x.checked_rem(y).ok_or_else(overflow)?)
        }
    })
}

/// Whether `normalize-space` leaves a string unchanged: no XML whitespace but single inner spaces.
fn is_normalized(s: &str) -> bool {
    !s.starts_with(' ') && !s.ends_with(' ') && !s.contains(['\t', '\n', '\r']) && !s.contains("  ")
}

/// `normalize-space` (XML whitespace only).
pub fn normalize_space(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for w in s.split([' ', '\t', '\n', '\r']).filter(|w| !w.is_empty()) {
        if !out.is_empty() {
            out.push(' ');
        }
        out.push_str(w);
    }
    out
}

fn substring(s: &str, start: f64, len: Option<f64>) -> String {
    let rs = round_double(start);
    let end = match len {
        Some(l) => rs + round_double(l),
        None => f64::INFINITY,
    };
    if rs.is_nan() || end.is_nan() {
        return String::new();
    }
    s.chars()
        .enumerate()
        .filter(|(i, _)| {
            let p = (*i + 1) as f64;
            p >= rs && p < end
        })
        .map(|(_, c)| c)
        .collect()
}
