//! Lexer and parser for the XPath 2.0 subset the Schematron rules use, and XSLT match patterns.

use super::ast::*;
use rust_decimal::Decimal;
use std::str::FromStr;
use std::sync::Arc;

/// A parse error (developer-facing: it means a rule file uses syntax not supported).
#[derive(Debug, thiserror::Error, Clone)]
#[error("XPath-Syntaxfehler bei Position {pos} in „{expr}“: {message}")]
pub struct ParseError {
    /// Byte offset.
    pub pos: usize,
    /// The expression.
    pub expr: String,
    /// What went wrong.
    pub message: String,
}

#[derive(Clone, Debug, PartialEq)]
enum Tok {
    Name(String), // QName, NCName, prefix:*, *:local
    Star,
    Var(String),
    Str(String),
    Int(i64),
    Dec(String),
    Dbl(f64),
    Sym(&'static str),
    Eof,
}

fn is_name_start(c: char) -> bool {
    c.is_alphabetic() || c == '_'
}

fn is_name_char(c: char) -> bool {
    c.is_alphanumeric() || c == '_' || c == '-' || c == '.' || c == '\u{B7}'
}

fn lex(src: &str) -> Result<Vec<(Tok, usize)>, ParseError> {
    let err = |pos: usize, m: &str| ParseError {
        pos,
        expr: src.to_string(),
        message: m.to_string(),
    };
    let chars: Vec<(usize, char)> = src.char_indices().collect();
    let mut out = Vec::new();
    let mut i = 0;
    let at = |i: usize| chars.get(i).map(|c| c.1).unwrap_or('\0');
    let ncname = |i: &mut usize| -> String {
        let mut s = String::new();
        while *i < chars.len() && is_name_char(chars[*i].1) {
            s.push(chars[*i].1);
            *i += 1;
        }
        s
    };
    while i < chars.len() {
        let (pos, c) = chars[i];
        if c.is_whitespace() {
            i += 1;
            continue;
        }
        // comments (: ... :)
        if c == '(' && at(i + 1) == ':' {
            let mut depth = 0;
            while i < chars.len() {
                if at(i) == '(' && at(i + 1) == ':' {
                    depth += 1;
                    i += 2;
                } else if at(i) == ':' && at(i + 1) == ')' {
                    depth -= 1;
                    i += 2;
                    if depth == 0 {
                        break;
                    }
                } else {
                    i += 1;
                }
            }
            continue;
        }
        if c == '\'' || c == '"' {
            let q = c;
            let mut s = String::new();
            i += 1;
            loop {
                if i >= chars.len() {
                    return Err(err(pos, "nicht abgeschlossene Zeichenkette"));
                }
                let ch = chars[i].1;
                if ch == q {
                    if at(i + 1) == q {
                        s.push(q);
                        i += 2;
                        continue;
                    }
                    i += 1;
                    break;
                }
                s.push(ch);
                i += 1;
            }
            out.push((Tok::Str(s), pos));
            continue;
        }
        if c.is_ascii_digit() || (c == '.' && at(i + 1).is_ascii_digit()) {
            let mut s = String::new();
            while at(i).is_ascii_digit() {
                s.push(at(i));
                i += 1;
            }
            let mut is_dec = false;
            if at(i) == '.' {
                is_dec = true;
                s.push('.');
                i += 1;
                while at(i).is_ascii_digit() {
                    s.push(at(i));
                    i += 1;
                }
            }
            if at(i) == 'e' || at(i) == 'E' {
                s.push('e');
                i += 1;
                if at(i) == '+' || at(i) == '-' {
                    s.push(at(i));
                    i += 1;
                }
                while at(i).is_ascii_digit() {
                    s.push(at(i));
                    i += 1;
                }
                let v: f64 = s.parse().map_err(|_| err(pos, "ungültige Zahl"))?;
                out.push((Tok::Dbl(v), pos));
            } else if is_dec {
                out.push((Tok::Dec(s), pos));
            } else {
                match s.parse::<i64>() {
                    Ok(v) => out.push((Tok::Int(v), pos)),
                    Err(_) => out.push((Tok::Dec(s), pos)),
                }
            }
            continue;
        }
        if c == '$' {
            i += 1;
            while at(i).is_whitespace() {
                i += 1;
            }
            let mut name = ncname(&mut i);
            if at(i) == ':' && is_name_start(at(i + 1)) {
                i += 1;
                name.push(':');
                name.push_str(&ncname(&mut i));
            }
            if name.is_empty() {
                return Err(err(pos, "Variablenname fehlt"));
            }
            out.push((Tok::Var(name), pos));
            continue;
        }
        if is_name_start(c) {
            let mut name = ncname(&mut i);
            if at(i) == ':' && at(i + 1) != ':' {
                if is_name_start(at(i + 1)) {
                    i += 1;
                    name.push(':');
                    name.push_str(&ncname(&mut i));
                } else if at(i + 1) == '*' {
                    i += 2;
                    name.push_str(":*");
                }
            }
            out.push((Tok::Name(name), pos));
            continue;
        }
        if c == '*' {
            if at(i + 1) == ':' && is_name_start(at(i + 2)) {
                i += 2;
                let local = ncname(&mut i);
                out.push((Tok::Name(format!("*:{local}")), pos));
            } else {
                i += 1;
                out.push((Tok::Star, pos));
            }
            continue;
        }
        let two: String = [c, at(i + 1)].iter().collect();
        let sym2 = ["//", "::", "..", "!=", "<=", ">=", "<<", ">>"];
        if let Some(s) = sym2.iter().find(|s| **s == two) {
            out.push((Tok::Sym(s), pos));
            i += 2;
            continue;
        }
        let sym1 = [
            "/", "(", ")", "[", "]", "@", ",", "=", "<", ">", "+", "-", "|", ".", "?",
        ];
        let one = c.to_string();
        if let Some(s) = sym1.iter().find(|s| **s == one) {
            out.push((Tok::Sym(s), pos));
            i += 1;
            continue;
        }
        return Err(err(pos, &format!("unerwartetes Zeichen „{c}“")));
    }
    out.push((Tok::Eof, src.len()));
    Ok(out)
}

/// Resolves names while parsing.
pub trait Resolver {
    /// Namespace URI of a prefix.
    fn namespace(&self, prefix: &str) -> Option<String>;
    /// Id of an expanded element/attribute name.
    fn name_id(&mut self, ns: &str, local: &str) -> u32;
    /// A variable reference: `Some` for a known variable.
    fn variable(&mut self, name: &str) -> Option<VarRef>;
    /// Declares a range variable (for/some/every) and returns its local slot.
    fn bind_local(&mut self, name: &str) -> u32;
    /// Ends the scope of the last local binding.
    fn unbind_local(&mut self);
    /// A user function (xsl:function) by namespace, local name and arity.
    fn user_function(&self, ns: &str, local: &str, arity: usize) -> Option<u32>;
}

struct Parser<'r, R: Resolver> {
    toks: Vec<(Tok, usize)>,
    i: usize,
    src: String,
    r: &'r mut R,
}

const XS: &str = "http://www.w3.org/2001/XMLSchema";
const FN: &str = "http://www.w3.org/2005/xpath-functions";

impl<R: Resolver> Parser<'_, R> {
    fn peek(&self) -> &Tok {
        &self.toks[self.i].0
    }
    fn peek_at(&self, k: usize) -> &Tok {
        &self.toks[(self.i + k).min(self.toks.len() - 1)].0
    }
    fn next(&mut self) -> Tok {
        let t = self.toks[self.i].0.clone();
        if self.i < self.toks.len() - 1 {
            self.i += 1;
        }
        t
    }
    fn err<T>(&self, m: impl Into<String>) -> Result<T, ParseError> {
        Err(ParseError {
            pos: self.toks[self.i].1,
            expr: self.src.clone(),
            message: m.into(),
        })
    }
    fn is_sym(&self, s: &str) -> bool {
        matches!(self.peek(), Tok::Sym(x) if *x == s)
    }
    fn is_kw(&self, s: &str) -> bool {
        matches!(self.peek(), Tok::Name(x) if x == s)
    }
    fn expect_sym(&mut self, s: &str) -> Result<(), ParseError> {
        if self.is_sym(s) {
            self.next();
            Ok(())
        } else {
            self.err(format!("„{s}“ erwartet, gefunden {:?}", self.peek()))
        }
    }
    fn expect_kw(&mut self, s: &str) -> Result<(), ParseError> {
        if self.is_kw(s) {
            self.next();
            Ok(())
        } else {
            self.err(format!("„{s}“ erwartet"))
        }
    }

    fn expr(&mut self) -> Result<Expr, ParseError> {
        let first = self.expr_single()?;
        if !self.is_sym(",") {
            return Ok(first);
        }
        let mut items = vec![first];
        while self.is_sym(",") {
            self.next();
            items.push(self.expr_single()?);
        }
        Ok(Expr::Seq(items))
    }

    fn bindings(&mut self, kw: &str) -> Result<Vec<(u32, Expr)>, ParseError> {
        let mut binds = Vec::new();
        loop {
            let name = match self.next() {
                Tok::Var(v) => v,
                _ => return self.err("Variable erwartet"),
            };
            self.expect_kw("in")?;
            let e = self.expr_single()?;
            let slot = self.r.bind_local(&name);
            binds.push((slot, e));
            if self.is_sym(",") {
                self.next();
                continue;
            }
            break;
        }
        self.expect_kw(kw)?;
        Ok(binds)
    }

    fn expr_single(&mut self) -> Result<Expr, ParseError> {
        if let Tok::Name(n) = self.peek().clone() {
            let next_is_var = matches!(self.peek_at(1), Tok::Var(_));
            match n.as_str() {
                "for" if next_is_var => {
                    self.next();
                    let binds = self.bindings("return")?;
                    let body = self.expr_single()?;
                    for _ in &binds {
                        self.r.unbind_local();
                    }
                    return Ok(Expr::For(binds, Box::new(body)));
                }
                "some" | "every" if next_is_var => {
                    self.next();
                    let binds = self.bindings("satisfies")?;
                    let body = self.expr_single()?;
                    for _ in &binds {
                        self.r.unbind_local();
                    }
                    return Ok(Expr::Quant(n == "every", binds, Box::new(body)));
                }
                "if" if matches!(self.peek_at(1), Tok::Sym("(")) => {
                    self.next();
                    self.next();
                    let c = self.expr()?;
                    self.expect_sym(")")?;
                    self.expect_kw("then")?;
                    let t = self.expr_single()?;
                    self.expect_kw("else")?;
                    let e = self.expr_single()?;
                    return Ok(Expr::If(Box::new(c), Box::new(t), Box::new(e)));
                }
                _ => {}
            }
        }
        self.or_expr()
    }

    fn or_expr(&mut self) -> Result<Expr, ParseError> {
        let mut l = self.and_expr()?;
        while self.is_kw("or") {
            self.next();
            let r = self.and_expr()?;
            l = Expr::Or(Box::new(l), Box::new(r));
        }
        Ok(l)
    }

    fn and_expr(&mut self) -> Result<Expr, ParseError> {
        let mut l = self.cmp_expr()?;
        while self.is_kw("and") {
            self.next();
            let r = self.cmp_expr()?;
            l = Expr::And(Box::new(l), Box::new(r));
        }
        Ok(l)
    }

    fn cmp_expr(&mut self) -> Result<Expr, ParseError> {
        let l = self.range_expr()?;
        let general = match self.peek() {
            Tok::Sym("=") => Some(CmpOp::Eq),
            Tok::Sym("!=") => Some(CmpOp::Ne),
            Tok::Sym("<") => Some(CmpOp::Lt),
            Tok::Sym("<=") => Some(CmpOp::Le),
            Tok::Sym(">") => Some(CmpOp::Gt),
            Tok::Sym(">=") => Some(CmpOp::Ge),
            _ => None,
        };
        if let Some(op) = general {
            self.next();
            let r = self.range_expr()?;
            return Ok(Expr::GenCmp(op, Box::new(l), Box::new(r)));
        }
        let value = match self.peek() {
            Tok::Name(n) => match n.as_str() {
                "eq" => Some(CmpOp::Eq),
                "ne" => Some(CmpOp::Ne),
                "lt" => Some(CmpOp::Lt),
                "le" => Some(CmpOp::Le),
                "gt" => Some(CmpOp::Gt),
                "ge" => Some(CmpOp::Ge),
                _ => None,
            },
            _ => None,
        };
        if let Some(op) = value {
            self.next();
            let r = self.range_expr()?;
            return Ok(Expr::ValCmp(op, Box::new(l), Box::new(r)));
        }
        if self.is_kw("is") {
            self.next();
            let r = self.range_expr()?;
            return Ok(Expr::Is(Box::new(l), Box::new(r)));
        }
        Ok(l)
    }

    fn range_expr(&mut self) -> Result<Expr, ParseError> {
        let l = self.additive()?;
        if self.is_kw("to") {
            self.next();
            let r = self.additive()?;
            return Ok(Expr::Range(Box::new(l), Box::new(r)));
        }
        Ok(l)
    }

    fn additive(&mut self) -> Result<Expr, ParseError> {
        let mut l = self.multiplicative()?;
        loop {
            let op = match self.peek() {
                Tok::Sym("+") => ArOp::Add,
                Tok::Sym("-") => ArOp::Sub,
                _ => break,
            };
            self.next();
            let r = self.multiplicative()?;
            l = Expr::Arith(op, Box::new(l), Box::new(r));
        }
        Ok(l)
    }

    fn multiplicative(&mut self) -> Result<Expr, ParseError> {
        let mut l = self.union()?;
        loop {
            let op = match self.peek() {
                Tok::Star => ArOp::Mul,
                Tok::Name(n) if n == "div" => ArOp::Div,
                Tok::Name(n) if n == "idiv" => ArOp::IDiv,
                Tok::Name(n) if n == "mod" => ArOp::Mod,
                _ => break,
            };
            self.next();
            let r = self.union()?;
            l = Expr::Arith(op, Box::new(l), Box::new(r));
        }
        Ok(l)
    }

    fn union(&mut self) -> Result<Expr, ParseError> {
        let mut l = self.intersect()?;
        while self.is_sym("|") || self.is_kw("union") {
            self.next();
            let r = self.intersect()?;
            l = Expr::SetOp(SetOp::Union, Box::new(l), Box::new(r));
        }
        Ok(l)
    }

    fn intersect(&mut self) -> Result<Expr, ParseError> {
        let mut l = self.instance_of()?;
        loop {
            let op = if self.is_kw("intersect") {
                SetOp::Intersect
            } else if self.is_kw("except") {
                SetOp::Except
            } else {
                break;
            };
            self.next();
            let r = self.instance_of()?;
            l = Expr::SetOp(op, Box::new(l), Box::new(r));
        }
        Ok(l)
    }

    fn single_type(&mut self) -> Result<(AtomicType, bool), ParseError> {
        let name = match self.next() {
            Tok::Name(n) => n,
            _ => return self.err("Typname erwartet"),
        };
        let t = self.atomic_type(&name)?;
        let opt = if self.is_sym("?") {
            self.next();
            true
        } else {
            false
        };
        Ok((t, opt))
    }

    fn atomic_type(&self, name: &str) -> Result<AtomicType, ParseError> {
        let (p, l) = name.split_once(':').unwrap_or(("", name));
        let ns = self.r.namespace(p).unwrap_or_default();
        if ns != XS {
            return self.err(format!("unbekannter Typ {name}"));
        }
        Ok(match l {
            "string" => AtomicType::String,
            "decimal" => AtomicType::Decimal,
            "integer" => AtomicType::Integer,
            "double" | "float" => AtomicType::Double,
            "boolean" => AtomicType::Boolean,
            "date" => AtomicType::Date,
            "untypedAtomic" => AtomicType::Untyped,
            "anyAtomicType" => AtomicType::Any,
            _ => return self.err(format!("nicht unterstützter Typ {name}")),
        })
    }

    fn instance_of(&mut self) -> Result<Expr, ParseError> {
        let e = self.castable()?;
        if self.is_kw("instance") && matches!(self.peek_at(1), Tok::Name(n) if n == "of") {
            self.next();
            self.next();
            let (t, opt) = self.single_type()?;
            return Ok(Expr::InstanceOf(Box::new(e), t, opt));
        }
        Ok(e)
    }

    fn castable(&mut self) -> Result<Expr, ParseError> {
        let e = self.cast()?;
        if self.is_kw("castable") && matches!(self.peek_at(1), Tok::Name(n) if n == "as") {
            self.next();
            self.next();
            let (t, opt) = self.single_type()?;
            return Ok(Expr::Castable(Box::new(e), t, opt));
        }
        Ok(e)
    }

    fn cast(&mut self) -> Result<Expr, ParseError> {
        let e = self.unary()?;
        if self.is_kw("cast") && matches!(self.peek_at(1), Tok::Name(n) if n == "as") {
            self.next();
            self.next();
            let (t, opt) = self.single_type()?;
            return Ok(Expr::Cast(Box::new(e), t, opt));
        }
        Ok(e)
    }

    fn unary(&mut self) -> Result<Expr, ParseError> {
        let mut neg = false;
        let mut any = false;
        while self.is_sym("-") || self.is_sym("+") {
            if self.is_sym("-") {
                neg = !neg;
            }
            any = true;
            self.next();
        }
        let e = self.path()?;
        if neg {
            Ok(Expr::Neg(Box::new(e)))
        } else if any {
            Ok(Expr::Plus(Box::new(e)))
        } else {
            Ok(e)
        }
    }

    fn starts_step(&self) -> bool {
        match self.peek() {
            Tok::Name(_) | Tok::Star | Tok::Var(_) | Tok::Str(_) => true,
            Tok::Int(_) | Tok::Dec(_) | Tok::Dbl(_) => true,
            Tok::Sym(s) => matches!(*s, "@" | "." | ".." | "("),
            _ => false,
        }
    }

    fn path(&mut self) -> Result<Expr, ParseError> {
        if self.is_sym("/") {
            self.next();
            if self.starts_step() {
                let rel = self.relative_path()?;
                return Ok(Expr::Path(Box::new(Expr::Root), Box::new(rel)));
            }
            return Ok(Expr::Root);
        }
        if self.is_sym("//") {
            self.next();
            let rel = self.relative_path()?;
            return Ok(desc_path(Expr::Root, rel));
        }
        self.relative_path()
    }

    fn relative_path(&mut self) -> Result<Expr, ParseError> {
        let mut l = self.step()?;
        loop {
            if self.is_sym("/") {
                self.next();
                let r = self.step()?;
                l = Expr::Path(Box::new(l), Box::new(r));
            } else if self.is_sym("//") {
                self.next();
                let r = self.step()?;
                l = desc_path(l, r);
            } else {
                break;
            }
        }
        Ok(l)
    }

    fn predicates(&mut self) -> Result<Vec<Expr>, ParseError> {
        let mut preds = Vec::new();
        while self.is_sym("[") {
            self.next();
            preds.push(self.expr()?);
            self.expect_sym("]")?;
        }
        Ok(preds)
    }

    fn node_test(&mut self, axis: Axis) -> Result<NodeTest, ParseError> {
        match self.next() {
            Tok::Star => Ok(NodeTest::Any),
            Tok::Name(n) => {
                if self.is_sym("(") {
                    let kind = match n.as_str() {
                        "node" => NodeTest::Node,
                        "text" => NodeTest::Text,
                        "comment" => NodeTest::Comment,
                        "processing-instruction" => NodeTest::Pi,
                        "element" => NodeTest::Any,
                        "attribute" => NodeTest::Any,
                        "document-node" => NodeTest::DocumentNode,
                        _ => return self.err(format!("unbekannter Knotentest {n}()")),
                    };
                    self.next();
                    // element(*) / attribute(*) / processing-instruction('x') arguments
                    while !self.is_sym(")") {
                        if matches!(self.peek(), Tok::Eof) {
                            return self.err("„)“ erwartet");
                        }
                        self.next();
                    }
                    self.next();
                    return Ok(kind);
                }
                let _ = axis;
                self.name_test(&n)
            }
            t => self.err(format!("Knotentest erwartet, gefunden {t:?}")),
        }
    }

    fn name_test(&mut self, n: &str) -> Result<NodeTest, ParseError> {
        if let Some(local) = n.strip_prefix("*:") {
            return Ok(NodeTest::Local(Arc::from(local)));
        }
        if let Some(p) = n.strip_suffix(":*") {
            let Some(ns) = self.r.namespace(p) else {
                return self.err(format!("unbekanntes Präfix {p}"));
            };
            return Ok(NodeTest::Ns(Arc::from(ns.as_str())));
        }
        let (p, l) = n.split_once(':').unwrap_or(("", n));
        let ns = if p.is_empty() {
            String::new()
        } else {
            match self.r.namespace(p) {
                Some(ns) => ns,
                None => return self.err(format!("unbekanntes Präfix {p}")),
            }
        };
        Ok(NodeTest::Name(self.r.name_id(&ns, l)))
    }

    fn step(&mut self) -> Result<Expr, ParseError> {
        // abbreviated steps
        if self.is_sym("..") {
            self.next();
            return Ok(Expr::Step(Step {
                axis: Axis::Parent,
                test: NodeTest::Node,
                preds: self.predicates()?,
            }));
        }
        if self.is_sym("@") {
            self.next();
            let test = self.node_test(Axis::Attribute)?;
            return Ok(Expr::Step(Step {
                axis: Axis::Attribute,
                test,
                preds: self.predicates()?,
            }));
        }
        if let Tok::Name(n) = self.peek().clone() {
            if matches!(self.peek_at(1), Tok::Sym("::")) {
                let axis = match n.as_str() {
                    "child" => Axis::Child,
                    "descendant" => Axis::Descendant,
                    "attribute" => Axis::Attribute,
                    "self" => Axis::SelfAxis,
                    "descendant-or-self" => Axis::DescendantOrSelf,
                    "following-sibling" => Axis::FollowingSibling,
                    "following" => Axis::Following,
                    "parent" => Axis::Parent,
                    "ancestor" => Axis::Ancestor,
                    "preceding-sibling" => Axis::PrecedingSibling,
                    "preceding" => Axis::Preceding,
                    "ancestor-or-self" => Axis::AncestorOrSelf,
                    _ => return self.err(format!("unbekannte Achse {n}")),
                };
                self.next();
                self.next();
                let test = self.node_test(axis)?;
                return Ok(Expr::Step(Step {
                    axis,
                    test,
                    preds: self.predicates()?,
                }));
            }
            let is_call = matches!(self.peek_at(1), Tok::Sym("("));
            let kind_test = matches!(
                n.as_str(),
                "node"
                    | "text"
                    | "comment"
                    | "processing-instruction"
                    | "element"
                    | "attribute"
                    | "document-node"
            );
            if !is_call || kind_test {
                let test = self.node_test(Axis::Child)?;
                let axis = if matches!(test, NodeTest::DocumentNode) {
                    Axis::SelfAxis
                } else {
                    Axis::Child
                };
                return Ok(Expr::Step(Step {
                    axis,
                    test,
                    preds: self.predicates()?,
                }));
            }
        }
        if matches!(self.peek(), Tok::Star) {
            let test = self.node_test(Axis::Child)?;
            return Ok(Expr::Step(Step {
                axis: Axis::Child,
                test,
                preds: self.predicates()?,
            }));
        }
        let prim = self.primary()?;
        let preds = self.predicates()?;
        if preds.is_empty() {
            Ok(prim)
        } else {
            Ok(Expr::Filter(Box::new(prim), preds))
        }
    }

    fn primary(&mut self) -> Result<Expr, ParseError> {
        match self.next() {
            Tok::Str(s) => Ok(Expr::Lit(Lit::Str(Arc::from(s.as_str())))),
            Tok::Int(v) => Ok(Expr::Lit(Lit::Int(v))),
            Tok::Dec(s) => match Decimal::from_str(&s) {
                Ok(d) => Ok(Expr::Lit(Lit::Dec(d))),
                Err(_) => match s.parse::<f64>() {
                    Ok(v) => Ok(Expr::Lit(Lit::Dbl(v))),
                    Err(_) => self.err("ungültige Zahl"),
                },
            },
            Tok::Dbl(v) => Ok(Expr::Lit(Lit::Dbl(v))),
            Tok::Var(name) => match self.r.variable(&name) {
                Some(v) => Ok(Expr::Var(v)),
                None => self.err(format!("unbekannte Variable ${name}")),
            },
            Tok::Sym("(") => {
                if self.is_sym(")") {
                    self.next();
                    return Ok(Expr::Seq(Vec::new()));
                }
                let e = self.expr()?;
                self.expect_sym(")")?;
                Ok(Expr::Paren(Box::new(e)))
            }
            Tok::Sym(".") => Ok(Expr::Context),
            Tok::Name(name) => {
                self.expect_sym("(")?;
                let mut args = Vec::new();
                if !self.is_sym(")") {
                    loop {
                        args.push(self.expr_single()?);
                        if self.is_sym(",") {
                            self.next();
                            continue;
                        }
                        break;
                    }
                }
                self.expect_sym(")")?;
                self.call(&name, args)
            }
            t => self.err(format!("unerwartetes Symbol {t:?}")),
        }
    }

    fn call(&mut self, name: &str, args: Vec<Expr>) -> Result<Expr, ParseError> {
        let (p, l) = name.split_once(':').unwrap_or(("", name));
        let ns = if p.is_empty() {
            FN.to_string()
        } else {
            match self.r.namespace(p) {
                Some(ns) => ns,
                None => return self.err(format!("unbekanntes Präfix {p}")),
            }
        };
        if ns == XS {
            let t = self.atomic_type(name)?;
            let Some(arg) = args.into_iter().next() else {
                return self.err("Konstruktor ohne Argument");
            };
            return Ok(Expr::Cast(Box::new(arg), t, true));
        }
        if ns == FN {
            let Some(f) = Func::by_name(l, args.len()) else {
                return self.err(format!("nicht unterstützte Funktion {l}#{}", args.len()));
            };
            return Ok(Expr::Call(f, args));
        }
        match self.r.user_function(&ns, l, args.len()) {
            Some(id) => Ok(Expr::UserCall(id, args)),
            None => self.err(format!("unbekannte Funktion {name}#{}", args.len())),
        }
    }
}

/// `l//r`: uses the descendant axis directly when that cannot change the result.
fn desc_path(l: Expr, r: Expr) -> Expr {
    // `l//(a/s)` with an axis step `s` is `(l//a)/s`: `s` depends on its context node only, and
    // both sides are sorted, duplicate-free node sequences. This lets `//a[p]/b` use the
    // descendant axis (an index lookup) for `a` instead of visiting every node. The same holds
    // for any `s` when `a` is a union of steps: `l//(a|b)/s` is `((l//(a|b))/s` by the
    // left-to-right grouping of `/`.
    if let Expr::Path(a, s) = r {
        if matches!(*s, Expr::Step(_)) || union_of_steps(&a).is_some() {
            return Expr::Path(Box::new(desc_path(l, *a)), s);
        }
        return desc_path_general(l, Expr::Path(a, s));
    }
    // `l//(a|b)` with steps `a`, `b` (boolean predicates only) is `l//a | l//b`: each of them
    // selects by the context node alone, and a union is sorted and duplicate-free.
    if let Some(steps) = union_of_steps(&r) {
        return steps
            .into_iter()
            .map(|s| desc_path(l.clone(), s))
            .reduce(|x, y| Expr::SetOp(SetOp::Union, Box::new(x), Box::new(y)))
            .unwrap_or_else(|| desc_path_general(l, r));
    }
    if let Expr::Step(Step { axis, test, preds }) = &r
        && matches!(axis, Axis::Child | Axis::Attribute)
        && preds.iter().all(is_boolean_expr)
    {
        let axis = if *axis == Axis::Child {
            Axis::Descendant
        } else {
            Axis::SubtreeAttribute
        };
        let step = Expr::Step(Step {
            axis,
            test: test.clone(),
            preds: preds.clone(),
        });
        return Expr::Path(Box::new(l), Box::new(step));
    }
    desc_path_general(l, r)
}

/// The operands of `(a | b | …)` when all are child or attribute steps with boolean predicates
/// (at least two of them).
fn union_of_steps(e: &Expr) -> Option<Vec<Expr>> {
    fn collect(e: &Expr, out: &mut Vec<Expr>) -> bool {
        match e {
            Expr::Paren(inner) => collect(inner, out),
            Expr::SetOp(SetOp::Union, x, y) => collect(x, out) && collect(y, out),
            Expr::Step(Step { axis, preds, .. })
                if matches!(axis, Axis::Child | Axis::Attribute)
                    && preds.iter().all(is_boolean_expr) =>
            {
                out.push(e.clone());
                true
            }
            _ => false,
        }
    }
    let mut out = Vec::new();
    (collect(e, &mut out) && out.len() >= 2).then_some(out)
}

/// `l/descendant-or-self::node()/r`.
fn desc_path_general(l: Expr, r: Expr) -> Expr {
    let dos = Expr::Step(Step {
        axis: Axis::DescendantOrSelf,
        test: NodeTest::Node,
        preds: Vec::new(),
    });
    Expr::Path(
        Box::new(Expr::Path(Box::new(l), Box::new(dos))),
        Box::new(r),
    )
}

/// Whether an expression certainly yields a boolean (so a predicate on it is not positional).
pub fn is_boolean_expr(e: &Expr) -> bool {
    match e {
        Expr::Or(..)
        | Expr::And(..)
        | Expr::GenCmp(..)
        | Expr::ValCmp(..)
        | Expr::Quant(..)
        | Expr::Castable(..) => true,
        Expr::Paren(inner) => is_boolean_expr(inner),
        Expr::Call(f, _) => f.returns_boolean(),
        _ => false,
    }
}

/// Parses an XPath expression.
pub fn parse_expr<R: Resolver>(src: &str, r: &mut R) -> Result<Expr, ParseError> {
    let toks = lex(src)?;
    let mut p = Parser {
        toks,
        i: 0,
        src: src.to_string(),
        r,
    };
    let e = p.expr()?;
    if !matches!(p.peek(), Tok::Eof) {
        return p.err(format!("unerwartetes {:?}", p.peek()));
    }
    Ok(e)
}

/// Parses an XSLT match pattern (`a/b[p] | //c | /d | @e | text()`).
pub fn parse_pattern<R: Resolver>(src: &str, r: &mut R) -> Result<Pattern, ParseError> {
    let toks = lex(src)?;
    let mut p = Parser {
        toks,
        i: 0,
        src: src.to_string(),
        r,
    };
    let mut alts = Vec::new();
    loop {
        alts.push(path_pattern(&mut p)?);
        if p.is_sym("|") {
            p.next();
            continue;
        }
        break;
    }
    if !matches!(p.peek(), Tok::Eof) {
        return p.err(format!("unerwartetes {:?}", p.peek()));
    }
    Ok(Pattern { alts })
}

fn path_pattern<R: Resolver>(p: &mut Parser<'_, R>) -> Result<PathPattern, ParseError> {
    let mut anchor = Anchor::Any;
    if p.is_sym("/") {
        p.next();
        anchor = Anchor::Root;
        if !p.starts_step() {
            return Ok(PathPattern {
                anchor: Anchor::Root,
                steps: Vec::new(),
            });
        }
    } else if p.is_sym("//") {
        p.next();
    }
    let mut steps = Vec::new();
    let mut sep_desc = false;
    loop {
        let (axis, test) = if p.is_sym("@") {
            p.next();
            (Axis::Attribute, p.node_test(Axis::Attribute)?)
        } else if matches!(p.peek(), Tok::Name(n) if n == "attribute" || n == "child")
            && matches!(p.peek_at(1), Tok::Sym("::"))
        {
            let axis = if matches!(p.peek(), Tok::Name(n) if n == "attribute") {
                Axis::Attribute
            } else {
                Axis::Child
            };
            p.next();
            p.next();
            (axis, p.node_test(axis)?)
        } else {
            (Axis::Child, p.node_test(Axis::Child)?)
        };
        let preds = p.predicates()?;
        steps.push(PatternStep {
            axis,
            test,
            preds,
            desc_before: sep_desc,
        });
        if p.is_sym("/") {
            p.next();
            sep_desc = false;
        } else if p.is_sym("//") {
            p.next();
            sep_desc = true;
        } else {
            break;
        }
    }
    Ok(PathPattern { anchor, steps })
}
