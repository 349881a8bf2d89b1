//! Syntax tree of compiled XPath expressions and XSLT match patterns.

use rust_decimal::Decimal;
use std::sync::Arc;

/// A literal.
#[derive(Clone, Debug)]
pub enum Lit {
    /// String literal.
    Str(Arc<str>),
    /// Integer literal.
    Int(i64),
    /// Decimal literal.
    Dec(Decimal),
    /// Double literal.
    Dbl(f64),
}

/// A resolved variable reference.
#[derive(Clone, Copy, Debug)]
pub enum VarRef {
    /// A global variable or parameter of the rule set (index).
    Global(u32),
    /// A local variable (rule `let`, function parameter, range variable): slot id.
    Local(u32),
}

/// Axes.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[allow(missing_docs)]
pub enum Axis {
    Child,
    Descendant,
    Attribute,
    SelfAxis,
    DescendantOrSelf,
    FollowingSibling,
    Following,
    Parent,
    Ancestor,
    PrecedingSibling,
    Preceding,
    AncestorOrSelf,
    /// `descendant-or-self::node()/attribute::` in one step: the attributes of the context node
    /// and its descendants (introduced by the parser for `//@a`; answered from an index).
    SubtreeAttribute,
}

impl Axis {
    /// Whether positions count backwards from the context node.
    pub fn is_reverse(self) -> bool {
        matches!(
            self,
            Axis::Parent
                | Axis::Ancestor
                | Axis::AncestorOrSelf
                | Axis::PrecedingSibling
                | Axis::Preceding
        )
    }
}

/// Node tests.
#[derive(Clone, Debug)]
pub enum NodeTest {
    /// An expanded name (id in the [`crate::xml::Names`] table).
    Name(u32),
    /// `prefix:*`.
    Ns(Arc<str>),
    /// `*:local`.
    Local(Arc<str>),
    /// `*` (principal node kind of the axis).
    Any,
    /// `node()`.
    Node,
    /// `text()`.
    Text,
    /// `comment()`.
    Comment,
    /// `processing-instruction()`.
    Pi,
    /// `document-node()`.
    DocumentNode,
}

/// An axis step.
#[derive(Clone, Debug)]
pub struct Step {
    /// Axis.
    pub axis: Axis,
    /// Node test.
    pub test: NodeTest,
    /// Predicates.
    pub preds: Vec<Expr>,
}

/// Comparison operators.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[allow(missing_docs)]
pub enum CmpOp {
    Eq,
    Ne,
    Lt,
    Le,
    Gt,
    Ge,
}

/// Arithmetic operators.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[allow(missing_docs)]
pub enum ArOp {
    Add,
    Sub,
    Mul,
    Div,
    IDiv,
    Mod,
}

/// Node-set operators.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[allow(missing_docs)]
pub enum SetOp {
    Union,
    Intersect,
    Except,
}

/// Atomic types for casts and constructor functions.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[allow(missing_docs)]
pub enum AtomicType {
    String,
    Decimal,
    Integer,
    Double,
    Boolean,
    Date,
    Untyped,
    Any,
}

/// Built-in functions.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[allow(missing_docs)]
pub enum Func {
    Not,
    True,
    False,
    Boolean,
    Exists,
    Empty,
    Count,
    Sum,
    Round,
    Abs,
    Floor,
    Ceiling,
    Number,
    String,
    StringLength,
    NormalizeSpace,
    UpperCase,
    LowerCase,
    Contains,
    StartsWith,
    EndsWith,
    Concat,
    Substring,
    SubstringAfter,
    SubstringBefore,
    Translate,
    Matches,
    Replace,
    Tokenize,
    StringJoin,
    StringToCodepoints,
    CodepointsToString,
    Reverse,
    DistinctValues,
    Name,
    LocalName,
    NamespaceUri,
    Current,
    Last,
    Position,
    Root,
    Data,
    DocumentUri,
    Min,
    Max,
    Avg,
}

impl Func {
    /// Looks a function up by local name and arity.
    pub fn by_name(name: &str, arity: usize) -> Option<Func> {
        use Func::*;
        let (f, min, max) = match name {
            "not" => (Not, 1, 1),
            "true" => (True, 0, 0),
            "false" => (False, 0, 0),
            "boolean" => (Boolean, 1, 1),
            "exists" => (Exists, 1, 1),
            "empty" => (Empty, 1, 1),
            "count" => (Count, 1, 1),
            "sum" => (Sum, 1, 2),
            "round" => (Round, 1, 1),
            "abs" => (Abs, 1, 1),
            "floor" => (Floor, 1, 1),
            "ceiling" => (Ceiling, 1, 1),
            "number" => (Number, 0, 1),
            "string" => (String, 0, 1),
            "string-length" => (StringLength, 0, 1),
            "normalize-space" => (NormalizeSpace, 0, 1),
            "upper-case" => (UpperCase, 1, 1),
            "lower-case" => (LowerCase, 1, 1),
            "contains" => (Contains, 2, 2),
            "starts-with" => (StartsWith, 2, 2),
            "ends-with" => (EndsWith, 2, 2),
            "concat" => (Concat, 2, usize::MAX),
            "substring" => (Substring, 2, 3),
            "substring-after" => (SubstringAfter, 2, 2),
            "substring-before" => (SubstringBefore, 2, 2),
            "translate" => (Translate, 3, 3),
            "matches" => (Matches, 2, 3),
            "replace" => (Replace, 3, 4),
            "tokenize" => (Tokenize, 1, 3),
            "string-join" => (StringJoin, 1, 2),
            "string-to-codepoints" => (StringToCodepoints, 1, 1),
            "codepoints-to-string" => (CodepointsToString, 1, 1),
            "reverse" => (Reverse, 1, 1),
            "distinct-values" => (DistinctValues, 1, 1),
            "name" => (Name, 0, 1),
            "local-name" => (LocalName, 0, 1),
            "namespace-uri" => (NamespaceUri, 0, 1),
            "current" => (Current, 0, 0),
            "last" => (Last, 0, 0),
            "position" => (Position, 0, 0),
            "root" => (Root, 0, 1),
            "data" => (Data, 1, 1),
            "document-uri" => (DocumentUri, 1, 1),
            "min" => (Min, 1, 1),
            "max" => (Max, 1, 1),
            "avg" => (Avg, 1, 1),
            _ => return None,
        };
        (arity >= min && arity <= max).then_some(f)
    }

    /// Whether the function always returns a single boolean.
    pub fn returns_boolean(self) -> bool {
        use Func::*;
        matches!(
            self,
            Not | True
                | False
                | Boolean
                | Exists
                | Empty
                | Contains
                | StartsWith
                | EndsWith
                | Matches
        )
    }
}

/// An expression.
#[derive(Clone, Debug)]
#[allow(missing_docs)]
pub enum Expr {
    /// Comma operator (and the empty sequence `()`).
    Seq(Vec<Expr>),
    /// Parenthesised expression (kept for predicate analysis).
    Paren(Box<Expr>),
    Lit(Lit),
    Var(VarRef),
    /// `.`
    Context,
    /// `/` (the root of the context node's tree).
    Root,
    /// `l/r`.
    Path(Box<Expr>, Box<Expr>),
    Step(Step),
    /// A primary expression with predicates.
    Filter(Box<Expr>, Vec<Expr>),
    Call(Func, Vec<Expr>),
    /// Call of an `xsl:function`.
    UserCall(u32, Vec<Expr>),
    Or(Box<Expr>, Box<Expr>),
    And(Box<Expr>, Box<Expr>),
    GenCmp(CmpOp, Box<Expr>, Box<Expr>),
    ValCmp(CmpOp, Box<Expr>, Box<Expr>),
    Is(Box<Expr>, Box<Expr>),
    Arith(ArOp, Box<Expr>, Box<Expr>),
    Neg(Box<Expr>),
    Plus(Box<Expr>),
    Range(Box<Expr>, Box<Expr>),
    SetOp(SetOp, Box<Expr>, Box<Expr>),
    If(Box<Expr>, Box<Expr>, Box<Expr>),
    For(Vec<(u32, Expr)>, Box<Expr>),
    /// `every` (true) or `some` (false).
    Quant(bool, Vec<(u32, Expr)>, Box<Expr>),
    /// Cast (also constructor functions `xs:decimal(…)`); the flag allows the empty sequence.
    Cast(Box<Expr>, AtomicType, bool),
    Castable(Box<Expr>, AtomicType, bool),
    InstanceOf(Box<Expr>, AtomicType, bool),
    /// A subexpression whose value depends on the document only (an absolute path without
    /// local variables or `current()`), computed once per document and rule set; the number
    /// is its slot in the evaluator's memo.
    Memo(u32, Box<Expr>),
}

impl Expr {
    /// The direct subexpressions (predicates of steps included).
    pub fn children(&self) -> Vec<&Expr> {
        match self {
            Expr::Seq(v) | Expr::Call(_, v) | Expr::UserCall(_, v) => v.iter().collect(),
            Expr::Paren(a)
            | Expr::Neg(a)
            | Expr::Plus(a)
            | Expr::Cast(a, ..)
            | Expr::Castable(a, ..)
            | Expr::InstanceOf(a, ..)
            | Expr::Memo(_, a) => vec![a],
            Expr::Path(a, b)
            | Expr::Or(a, b)
            | Expr::And(a, b)
            | Expr::GenCmp(_, a, b)
            | Expr::ValCmp(_, a, b)
            | Expr::Is(a, b)
            | Expr::Arith(_, a, b)
            | Expr::Range(a, b)
            | Expr::SetOp(_, a, b) => vec![a, b],
            Expr::Step(step) => step.preds.iter().collect(),
            Expr::Filter(a, preds) => std::iter::once(&**a).chain(preds.iter()).collect(),
            Expr::If(a, b, c) => vec![a, b, c],
            Expr::For(binds, body) | Expr::Quant(_, binds, body) => binds
                .iter()
                .map(|(_, e)| e)
                .chain(std::iter::once(&**body))
                .collect(),
            Expr::Lit(_) | Expr::Var(_) | Expr::Context | Expr::Root => Vec::new(),
        }
    }

    /// The direct subexpressions, mutable (same order as [`Expr::children`]).
    pub fn children_mut(&mut self) -> Vec<&mut Expr> {
        match self {
            Expr::Seq(v) | Expr::Call(_, v) | Expr::UserCall(_, v) => v.iter_mut().collect(),
            Expr::Paren(a)
            | Expr::Neg(a)
            | Expr::Plus(a)
            | Expr::Cast(a, ..)
            | Expr::Castable(a, ..)
            | Expr::InstanceOf(a, ..)
            | Expr::Memo(_, a) => vec![a],
            Expr::Path(a, b)
            | Expr::Or(a, b)
            | Expr::And(a, b)
            | Expr::GenCmp(_, a, b)
            | Expr::ValCmp(_, a, b)
            | Expr::Is(a, b)
            | Expr::Arith(_, a, b)
            | Expr::Range(a, b)
            | Expr::SetOp(_, a, b) => vec![a, b],
            Expr::Step(step) => step.preds.iter_mut().collect(),
            Expr::Filter(a, preds) => std::iter::once(&mut **a).chain(preds.iter_mut()).collect(),
            Expr::If(a, b, c) => vec![a, b, c],
            Expr::For(binds, body) | Expr::Quant(_, binds, body) => binds
                .iter_mut()
                .map(|(_, e)| e)
                .chain(std::iter::once(&mut **body))
                .collect(),
            Expr::Lit(_) | Expr::Var(_) | Expr::Context | Expr::Root => Vec::new(),
        }
    }
}

/// Where a path pattern is anchored.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Anchor {
    /// `/…`: the first step's parent is the document node (or, with no steps, the document node).
    Root,
    /// Relative or `//…`: anywhere.
    Any,
}

/// One step of a path pattern.
#[derive(Clone, Debug)]
pub struct PatternStep {
    /// Child or attribute.
    pub axis: Axis,
    /// Node test.
    pub test: NodeTest,
    /// Predicates.
    pub preds: Vec<Expr>,
    /// The separator before this step was `//`.
    pub desc_before: bool,
}

/// One alternative of a pattern.
#[derive(Clone, Debug)]
pub struct PathPattern {
    /// Anchor.
    pub anchor: Anchor,
    /// Steps, outermost first.
    pub steps: Vec<PatternStep>,
}

/// An XSLT match pattern.
#[derive(Clone, Debug)]
pub struct Pattern {
    /// Alternatives (`|`).
    pub alts: Vec<PathPattern>,
}
