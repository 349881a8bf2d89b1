//! XML Schema / XPath regular expressions, translated to the `regex` crate and cached.

use super::value::{XPathError, XResult};
use regex::Regex;
use std::collections::HashMap;
use std::sync::{Arc, RwLock};

/// A thread-safe cache of compiled expressions, keyed by pattern and flags.
#[derive(Default, Debug)]
pub struct RegexCache {
    map: RwLock<HashMap<(String, String), Arc<Regex>>>,
}

impl RegexCache {
    /// The compiled expression for an XPath pattern and flags.
    pub fn get(&self, pattern: &str, flags: &str) -> XResult<Arc<Regex>> {
        let key = (pattern.to_string(), flags.to_string());
        if let Ok(map) = self.map.read()
            && let Some(r) = map.get(&key)
        {
            return Ok(r.clone());
        }
        let re = Arc::new(compile(pattern, flags)?);
        if let Ok(mut map) = self.map.write() {
            map.insert(key, re.clone());
        }
        Ok(re)
    }
}

/// Translates an XPath regular expression into the `regex` crate's syntax.
pub fn translate(pattern: &str) -> String {
    let mut out = String::with_capacity(pattern.len() + 8);
    let mut chars = pattern.chars().peekable();
    let mut in_class = false;
    while let Some(c) = chars.next() {
        match c {
            '\\' => match chars.next() {
                Some('s') => out.push_str(if in_class {
                    " \\t\\n\\r"
                } else {
                    "[ \\t\\n\\r]"
                }),
                Some('S') => out.push_str(if in_class { "\\S" } else { "[^ \\t\\n\\r]" }),
                Some('i') => out.push_str(if in_class { "\\p{L}_:" } else { "[\\p{L}_:]" }),
                Some('I') => out.push_str("[^\\p{L}_:]"),
                Some('c') => out.push_str(if in_class {
                    "\\p{L}\\p{Nd}._:\\-"
                } else {
                    "[\\p{L}\\p{Nd}._:\\-]"
                }),
                Some('C') => out.push_str("[^\\p{L}\\p{Nd}._:\\-]"),
                Some(other) => {
                    out.push('\\');
                    out.push(other);
                }
                None => out.push_str("\\\\"),
            },
            '[' if !in_class => {
                in_class = true;
                out.push('[');
                if chars.peek() == Some(&'^') {
                    out.push('^');
                    chars.next();
                }
            }
            '[' => out.push_str("\\["),
            ']' if in_class => {
                in_class = false;
                out.push(']');
            }
            '.' if !in_class => out.push_str("[^\\n\\r]"),
            '&' | '~' if in_class => {
                out.push('\\');
                out.push(c);
            }
            _ => out.push(c),
        }
    }
    out
}

fn compile(pattern: &str, flags: &str) -> XResult<Regex> {
    let mut prefix = String::new();
    for f in flags.chars() {
        match f {
            'i' | 'm' | 's' | 'x' => prefix.push(f),
            _ => return Err(XPathError(format!("FORX0001: unbekanntes Regex-Flag {f}"))),
        }
    }
    let body = translate(pattern);
    let body = if flags.contains('s') {
        body.replace("[^\\n\\r]", "(?s:.)")
    } else {
        body
    };
    let full = if prefix.is_empty() {
        body
    } else {
        format!("(?{prefix}){body}")
    };
    Regex::new(&full).map_err(|e| {
        XPathError(format!(
            "FORX0002: ungültiger regulärer Ausdruck „{pattern}“: {e}"
        ))
    })
}

/// Translates an XPath replacement string (`$1`, `\$`) into the `regex` crate's syntax.
pub fn replacement(rep: &str) -> XResult<String> {
    let mut out = String::new();
    let mut chars = rep.chars().peekable();
    while let Some(c) = chars.next() {
        match c {
            '\\' => match chars.next() {
                Some('$') => out.push_str("$$"),
                Some('\\') => out.push('\\'),
                _ => return Err(XPathError("FORX0004: ungültige Ersetzung".into())),
            },
            '$' => {
                let mut digits = String::new();
                while let Some(d) = chars.peek().filter(|d| d.is_ascii_digit()) {
                    digits.push(*d);
                    chars.next();
                }
                if digits.is_empty() {
                    return Err(XPathError("FORX0004: ungültige Ersetzung".into()));
                }
                out.push_str(&format!("${{{digits}}}"));
            }
            _ => out.push(c),
        }
    }
    Ok(out)
}
