//! A compact XPath 2.0 engine for the subset the EN 16931 and XRechnung Schematron rules use:
//! paths on all axes, predicates, general and value comparisons with the untyped-data rules,
//! integer/decimal/double arithmetic, `for`/`some`/`every`/`if`, casts, the string, regex and
//! aggregate functions, `current()`, and calls of `xsl:function`s; plus XSLT match patterns.

pub mod ast;
pub mod eval;
pub mod parse;
pub mod regex;
pub mod value;
