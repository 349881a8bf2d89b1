//! Items, atomic values, casts and comparisons (XPath 2.0 semantics for untyped documents).

use super::ast::{AtomicType, CmpOp};
use rust_decimal::Decimal;
use rust_decimal::prelude::{FromPrimitive, ToPrimitive};
use std::cmp::Ordering;
use std::str::FromStr;
use std::sync::Arc;

/// A dynamic error while evaluating an expression.
#[derive(Debug, thiserror::Error, Clone, PartialEq)]
#[error("{0}")]
pub struct XPathError(pub String);

/// Result of evaluation.
pub type XResult<T> = Result<T, XPathError>;

pub(crate) fn err<T>(m: impl Into<String>) -> XResult<T> {
    Err(XPathError(m.into()))
}

/// One item of a sequence.
#[derive(Clone, Debug)]
pub enum Item {
    /// A node (id in the document).
    Node(u32),
    /// xs:string.
    Str(Arc<str>),
    /// xs:untypedAtomic (the value of a node of an untyped document).
    Untyped(Arc<str>),
    /// xs:boolean.
    Bool(bool),
    /// xs:integer.
    Int(i64),
    /// xs:decimal.
    Dec(Decimal),
    /// xs:double.
    Dbl(f64),
    /// xs:date as days since 1970-01-01 (time zone ignored).
    Date(i64),
}

/// A sequence. Most sequences an expression yields hold at most one item; those are kept
/// inline, without an allocation.
#[derive(Clone, Debug, Default)]
pub struct Seq(Repr);

#[derive(Clone, Debug, Default)]
enum Repr {
    #[default]
    Empty,
    One(Item),
    Many(Vec<Item>),
}

impl Seq {
    /// The empty sequence.
    pub fn new() -> Seq {
        Seq(Repr::Empty)
    }

    /// A sequence of one item.
    pub fn one(item: Item) -> Seq {
        Seq(Repr::One(item))
    }

    /// Appends an item.
    pub fn push(&mut self, item: Item) {
        match &mut self.0 {
            Repr::Many(v) => v.push(item),
            r => {
                let first = match std::mem::take(r) {
                    Repr::One(first) => first,
                    _ => {
                        *r = Repr::One(item);
                        return;
                    }
                };
                *r = Repr::Many(vec![first, item]);
            }
        }
    }

    /// Removes consecutive items the predicate calls equal (see [`Vec::dedup_by`]).
    pub fn dedup_by(&mut self, same: impl FnMut(&mut Item, &mut Item) -> bool) {
        if let Repr::Many(v) = &mut self.0 {
            v.dedup_by(same);
        }
    }
}

impl std::ops::Deref for Seq {
    type Target = [Item];
    fn deref(&self) -> &[Item] {
        match &self.0 {
            Repr::Empty => &[],
            Repr::One(i) => std::slice::from_ref(i),
            Repr::Many(v) => v,
        }
    }
}

impl std::ops::DerefMut for Seq {
    fn deref_mut(&mut self) -> &mut [Item] {
        match &mut self.0 {
            Repr::Empty => &mut [],
            Repr::One(i) => std::slice::from_mut(i),
            Repr::Many(v) => v,
        }
    }
}

impl From<Vec<Item>> for Seq {
    fn from(v: Vec<Item>) -> Seq {
        Seq(Repr::Many(v))
    }
}

impl Extend<Item> for Seq {
    fn extend<I: IntoIterator<Item = Item>>(&mut self, iter: I) {
        for item in iter {
            self.push(item);
        }
    }
}

impl FromIterator<Item> for Seq {
    fn from_iter<I: IntoIterator<Item = Item>>(iter: I) -> Seq {
        let mut s = Seq::new();
        s.extend(iter);
        s
    }
}

/// Owned iterator over a [`Seq`].
pub enum SeqIntoIter {
    /// Empty or one item.
    One(std::option::IntoIter<Item>),
    /// Several items.
    Many(std::vec::IntoIter<Item>),
}

impl Iterator for SeqIntoIter {
    type Item = Item;
    fn next(&mut self) -> Option<Item> {
        match self {
            SeqIntoIter::One(i) => i.next(),
            SeqIntoIter::Many(i) => i.next(),
        }
    }
}

impl IntoIterator for Seq {
    type Item = Item;
    type IntoIter = SeqIntoIter;
    fn into_iter(self) -> SeqIntoIter {
        match self.0 {
            Repr::Empty => SeqIntoIter::One(None.into_iter()),
            Repr::One(i) => SeqIntoIter::One(Some(i).into_iter()),
            Repr::Many(v) => SeqIntoIter::Many(v.into_iter()),
        }
    }
}

impl<'s> IntoIterator for &'s Seq {
    type Item = &'s Item;
    type IntoIter = std::slice::Iter<'s, Item>;
    fn into_iter(self) -> Self::IntoIter {
        self.iter()
    }
}

impl Item {
    /// Whether the item is numeric.
    pub fn is_numeric(&self) -> bool {
        matches!(self, Item::Int(_) | Item::Dec(_) | Item::Dbl(_))
    }

    /// The string value of an atomic item (nodes must be atomized first).
    pub fn string(&self) -> Arc<str> {
        match self {
            Item::Str(s) | Item::Untyped(s) => s.clone(),
            Item::Bool(b) => Arc::from(if *b { "true" } else { "false" }),
            Item::Int(i) => Arc::from(i.to_string().as_str()),
            Item::Dec(d) => Arc::from(decimal_to_string(d).as_str()),
            Item::Dbl(d) => Arc::from(double_to_string(*d).as_str()),
            Item::Date(days) => Arc::from(date_to_string(*days).as_str()),
            Item::Node(_) => Arc::from(""),
        }
    }
}

/// Canonical decimal representation (no trailing zeros, no exponent).
pub fn decimal_to_string(d: &Decimal) -> String {
    let n = d.normalize();
    let s = n.to_string();
    if s == "-0" { "0".into() } else { s }
}

/// XPath 2.0 string representation of a double.
pub fn double_to_string(d: f64) -> String {
    if d.is_nan() {
        return "NaN".into();
    }
    if d.is_infinite() {
        return if d > 0.0 { "INF".into() } else { "-INF".into() };
    }
    if d == 0.0 {
        return if d.is_sign_negative() {
            "-0".into()
        } else {
            "0".into()
        };
    }
    let a = d.abs();
    if (1e-6..1e6).contains(&a) {
        match Decimal::from_f64(d) {
            Some(dec) => decimal_to_string(&dec),
            None => format!("{d}"),
        }
    } else {
        let s = format!("{d:E}");
        // Rust writes 1.5E7; XPath writes 1.5E7 too, but integers as 1.0E7.
        match s.split_once('E') {
            Some((m, e)) if !m.contains('.') => format!("{m}.0E{e}"),
            _ => s,
        }
    }
}

fn is_xml_ws(c: char) -> bool {
    matches!(c, ' ' | '\t' | '\n' | '\r')
}

fn parse_decimal(s: &str) -> Option<Decimal> {
    let t = s.trim_matches(is_xml_ws);
    let body = t.strip_prefix(['+', '-']).unwrap_or(t);
    if body.is_empty()
        || !body.chars().all(|c| c.is_ascii_digit() || c == '.')
        || body.matches('.').count() > 1
        || body == "."
    {
        return None;
    }
    let normalized = if let Some(rest) = t.strip_prefix('+') {
        rest
    } else {
        t
    };
    Decimal::from_str(normalized)
        .ok()
        .or_else(|| Decimal::from_scientific(normalized).ok())
}

fn parse_integer(s: &str) -> Option<i64> {
    let t = s.trim_matches(is_xml_ws);
    let body = t.strip_prefix(['+', '-']).unwrap_or(t);
    if body.is_empty() || !body.chars().all(|c| c.is_ascii_digit()) {
        return None;
    }
    t.strip_prefix('+').unwrap_or(t).parse().ok()
}

/// Parses an xs:double lexical form; `None` if invalid.
pub fn parse_double(s: &str) -> Option<f64> {
    let t = s.trim_matches(is_xml_ws);
    match t {
        "INF" | "+INF" => return Some(f64::INFINITY),
        "-INF" => return Some(f64::NEG_INFINITY),
        "NaN" => return Some(f64::NAN),
        _ => {}
    }
    let body = t.strip_prefix(['+', '-']).unwrap_or(t);
    if body.is_empty()
        || !body
            .chars()
            .all(|c| c.is_ascii_digit() || matches!(c, '.' | 'e' | 'E' | '+' | '-'))
        || !body.starts_with(|c: char| c.is_ascii_digit() || c == '.')
    {
        return None;
    }
    t.parse().ok()
}

fn days_from_civil(y: i64, m: i64, d: i64) -> i64 {
    let y = if m <= 2 { y - 1 } else { y };
    let era = if y >= 0 { y } else { y - 399 } / 400;
    let yoe = y - era * 400;
    let mp = (m + 9) % 12;
    let doy = (153 * mp + 2) / 5 + d - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    era * 146097 + doe - 719468
}

fn civil_from_days(z: i64) -> (i64, i64, i64) {
    let z = z + 719468;
    let era = if z >= 0 { z } else { z - 146096 } / 146097;
    let doe = z - era * 146097;
    let yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
    let y = yoe + era * 400;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = doy - (153 * mp + 2) / 5 + 1;
    let m = if mp < 10 { mp + 3 } else { mp - 9 };
    (if m <= 2 { y + 1 } else { y }, m, d)
}

fn date_to_string(days: i64) -> String {
    let (y, m, d) = civil_from_days(days);
    format!("{y:04}-{m:02}-{d:02}")
}

/// Parses an xs:date (`YYYY-MM-DD` with optional time zone).
pub fn parse_date(s: &str) -> Option<i64> {
    let t = s.trim_matches(is_xml_ws);
    let (neg, t) = match t.strip_prefix('-') {
        Some(r) => (true, r),
        None => (false, t),
    };
    let b = t.as_bytes();
    // year has at least 4 digits
    let ypos = b.iter().position(|&c| c == b'-')?;
    if ypos < 4 {
        return None;
    }
    let year: i64 = t[..ypos].parse().ok()?;
    let rest = &t[ypos + 1..];
    if rest.len() < 5 || rest.as_bytes()[2] != b'-' {
        return None;
    }
    let m: i64 = rest[..2].parse().ok()?;
    let d: i64 = rest[3..5].parse().ok()?;
    if !rest[..2].bytes().all(|c| c.is_ascii_digit())
        || !rest[3..5].bytes().all(|c| c.is_ascii_digit())
    {
        return None;
    }
    let tz = &rest[5..];
    let tz_ok = tz.is_empty()
        || tz == "Z"
        || (tz.len() == 6
            && (tz.starts_with('+') || tz.starts_with('-'))
            && tz.as_bytes()[3] == b':'
            && tz[1..3].parse::<u32>().is_ok_and(|h| h <= 14)
            && tz[4..6].parse::<u32>().is_ok_and(|mm| mm <= 59));
    if !tz_ok {
        return None;
    }
    let year = if neg { -year } else { year };
    if !(1..=12).contains(&m) {
        return None;
    }
    let leap = (year % 4 == 0 && year % 100 != 0) || year % 400 == 0;
    let dim = [
        31,
        if leap { 29 } else { 28 },
        31,
        30,
        31,
        30,
        31,
        31,
        30,
        31,
        30,
        31,
    ];
    if d < 1 || d > dim[(m - 1) as usize] {
        return None;
    }
    Some(days_from_civil(year, m, d))
}

/// Casts an atomic item to a type.
pub fn cast(item: &Item, t: AtomicType) -> XResult<Item> {
    let fail = |what: &str| {
        err(format!(
            "FORG0001: „{}“ ist kein gültiger Wert vom Typ {what}",
            item.string()
        ))
    };
    Ok(match t {
        AtomicType::String => Item::Str(item.string()),
        AtomicType::Untyped => Item::Untyped(item.string()),
        AtomicType::Any => item.clone(),
        AtomicType::Decimal => match item {
            Item::Dec(d) => Item::Dec(*d),
            Item::Int(i) => Item::Dec(Decimal::from(*i)),
            Item::Dbl(d) => match Decimal::from_f64(*d) {
                Some(v) if d.is_finite() => Item::Dec(v),
                _ => return fail("xs:decimal"),
            },
            Item::Bool(b) => Item::Dec(Decimal::from(*b as i64)),
            Item::Str(s) | Item::Untyped(s) => match parse_decimal(s) {
                Some(d) => Item::Dec(d),
                None => return fail("xs:decimal"),
            },
            _ => return fail("xs:decimal"),
        },
        AtomicType::Integer => match item {
            Item::Int(i) => Item::Int(*i),
            Item::Dec(d) => match d.trunc().to_i64() {
                Some(i) => Item::Int(i),
                None => return fail("xs:integer"),
            },
            Item::Dbl(d) if d.is_finite() && d.abs() < 9.2e18 => Item::Int(d.trunc() as i64),
            Item::Bool(b) => Item::Int(*b as i64),
            Item::Str(s) | Item::Untyped(s) => match parse_integer(s) {
                Some(i) => Item::Int(i),
                None => return fail("xs:integer"),
            },
            _ => return fail("xs:integer"),
        },
        AtomicType::Double => match item {
            Item::Dbl(d) => Item::Dbl(*d),
            Item::Int(i) => Item::Dbl(*i as f64),
            Item::Dec(d) => Item::Dbl(d.to_f64().unwrap_or(f64::NAN)),
            Item::Bool(b) => Item::Dbl(*b as i64 as f64),
            Item::Str(s) | Item::Untyped(s) => match parse_double(s) {
                Some(d) => Item::Dbl(d),
                None => return fail("xs:double"),
            },
            _ => return fail("xs:double"),
        },
        AtomicType::Boolean => match item {
            Item::Bool(b) => Item::Bool(*b),
            Item::Int(i) => Item::Bool(*i != 0),
            Item::Dec(d) => Item::Bool(!d.is_zero()),
            Item::Dbl(d) => Item::Bool(*d != 0.0 && !d.is_nan()),
            Item::Str(s) | Item::Untyped(s) => match s.trim_matches(is_xml_ws) {
                "true" | "1" => Item::Bool(true),
                "false" | "0" => Item::Bool(false),
                _ => return fail("xs:boolean"),
            },
            _ => return fail("xs:boolean"),
        },
        AtomicType::Date => match item {
            Item::Date(d) => Item::Date(*d),
            Item::Str(s) | Item::Untyped(s) => match parse_date(s) {
                Some(d) => Item::Date(d),
                None => return fail("xs:date"),
            },
            _ => return fail("xs:date"),
        },
    })
}

/// Whether an atomic item is an instance of a type.
pub fn instance_of(item: &Item, t: AtomicType) -> bool {
    matches!(
        (item, t),
        (_, AtomicType::Any)
            | (Item::Str(_), AtomicType::String)
            | (Item::Untyped(_), AtomicType::Untyped)
            | (Item::Bool(_), AtomicType::Boolean)
            | (Item::Int(_), AtomicType::Integer | AtomicType::Decimal)
            | (Item::Dec(_), AtomicType::Decimal)
            | (Item::Dbl(_), AtomicType::Double)
            | (Item::Date(_), AtomicType::Date)
    )
}

/// Numeric value as double.
pub fn to_f64(item: &Item) -> f64 {
    match item {
        Item::Int(i) => *i as f64,
        Item::Dec(d) => d.to_f64().unwrap_or(f64::NAN),
        Item::Dbl(d) => *d,
        Item::Bool(b) => *b as i64 as f64,
        Item::Str(s) | Item::Untyped(s) => parse_double(s).unwrap_or(f64::NAN),
        _ => f64::NAN,
    }
}

fn num_order(a: &Item, b: &Item) -> Option<Ordering> {
    match (a, b) {
        (Item::Int(x), Item::Int(y)) => Some(x.cmp(y)),
        (Item::Int(x), Item::Dec(y)) => Some(Decimal::from(*x).cmp(y)),
        (Item::Dec(x), Item::Int(y)) => Some(x.cmp(&Decimal::from(*y))),
        (Item::Dec(x), Item::Dec(y)) => Some(x.cmp(y)),
        _ => to_f64(a).partial_cmp(&to_f64(b)),
    }
}

fn apply(op: CmpOp, o: Option<Ordering>) -> bool {
    match o {
        None => op == CmpOp::Ne,
        Some(o) => match op {
            CmpOp::Eq => o == Ordering::Equal,
            CmpOp::Ne => o != Ordering::Equal,
            CmpOp::Lt => o == Ordering::Less,
            CmpOp::Le => o != Ordering::Greater,
            CmpOp::Gt => o == Ordering::Greater,
            CmpOp::Ge => o != Ordering::Less,
        },
    }
}

/// Whether an ordering satisfies a comparison operator.
pub fn cmp_holds(op: CmpOp, o: Ordering) -> bool {
    apply(op, Some(o))
}

/// Value comparison of two atomic items (`eq`, `lt`, …); untyped compares as string.
pub fn value_compare(op: CmpOp, a: &Item, b: &Item) -> XResult<bool> {
    let a = match a {
        Item::Untyped(s) => Item::Str(s.clone()),
        other => other.clone(),
    };
    let b = match b {
        Item::Untyped(s) => Item::Str(s.clone()),
        other => other.clone(),
    };
    compare_typed(op, &a, &b)
}

fn compare_typed(op: CmpOp, a: &Item, b: &Item) -> XResult<bool> {
    if a.is_numeric() && b.is_numeric() {
        return Ok(apply(op, num_order(a, b)));
    }
    match (a, b) {
        (Item::Str(x) | Item::Untyped(x), Item::Str(y) | Item::Untyped(y)) => {
            Ok(apply(op, Some(x.as_ref().cmp(y.as_ref()))))
        }
        (Item::Bool(x), Item::Bool(y)) => Ok(apply(op, Some(x.cmp(y)))),
        (Item::Date(x), Item::Date(y)) => Ok(apply(op, Some(x.cmp(y)))),
        _ => err(format!(
            "XPTY0004: Werte „{}“ und „{}“ sind nicht vergleichbar",
            a.string(),
            b.string()
        )),
    }
}

/// General comparison of two atomic items (`=`, `<`, …) with the XPath 2.0 rules for untyped values.
pub fn general_compare(op: CmpOp, a: &Item, b: &Item) -> XResult<bool> {
    let conv = |x: &Item, other: &Item| -> XResult<Item> {
        Ok(match x {
            Item::Untyped(s) => match other {
                Item::Int(_) | Item::Dec(_) | Item::Dbl(_) => cast(x, AtomicType::Double)?,
                Item::Untyped(_) | Item::Str(_) => Item::Str(s.clone()),
                Item::Bool(_) => cast(x, AtomicType::Boolean)?,
                Item::Date(_) => cast(x, AtomicType::Date)?,
                Item::Node(_) => Item::Str(s.clone()),
            },
            other => other.clone(),
        })
    };
    let a2 = conv(a, b)?;
    let b2 = conv(b, a)?;
    compare_typed(op, &a2, &b2)
}

/// Key for distinct-values and similar: equal keys for values that are `eq`.
pub fn distinct_key(item: &Item) -> String {
    match item {
        Item::Str(s) | Item::Untyped(s) => format!("s{s}"),
        Item::Int(_) | Item::Dec(_) | Item::Dbl(_) => {
            let f = to_f64(item);
            if f.fract() == 0.0 && f.abs() < 1e15 {
                format!("n{}", f as i64)
            } else {
                match item {
                    Item::Dec(d) => format!("n{}", decimal_to_string(d)),
                    Item::Int(i) => format!("n{i}"),
                    _ => format!("n{}", double_to_string(f)),
                }
            }
        }
        Item::Bool(b) => format!("b{b}"),
        Item::Date(d) => format!("d{d}"),
        Item::Node(n) => format!("N{n}"),
    }
}
