//! OAuth scopes.

use std::collections::BTreeSet;

/// Scopes this provider knows.
pub const KNOWN: [&str; 5] = ["openid", "profile", "email", "address", "offline_access"];

/// German description of a scope for the consent screen.
pub fn describe(scope: &str) -> &'static str {
    match scope {
        "openid" => "Ihre Kennung im Servicekonto",
        "profile" => "Ihren Namen und Ihr Geburtsdatum",
        "email" => "Ihre E-Mail-Adresse",
        "address" => "Ihre Anschrift",
        "offline_access" => "Zugriff, während Sie nicht angemeldet sind (Aktualisierungs-Token)",
        _ => "weitere Angaben",
    }
}

/// A set of scopes, kept sorted and free of duplicates.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Scopes(BTreeSet<String>);

impl Scopes {
    /// Parses a space-separated scope string.
    pub fn parse(s: &str) -> Self {
        Self(s.split_ascii_whitespace().map(str::to_owned).collect())
    }

    /// Whether the set holds `scope`.
    pub fn has(&self, scope: &str) -> bool {
        self.0.contains(scope)
    }

    /// The scopes not in `allowed`.
    pub fn not_in<'a>(&'a self, allowed: &'a [String]) -> impl Iterator<Item = &'a str> + 'a {
        self.0
            .iter()
            .filter(|s| !allowed.iter().any(|a| a == *s))
            .map(String::as_str)
    }

    /// Whether every scope here is in `other`.
    pub fn is_subset(&self, other: &Scopes) -> bool {
        self.0.is_subset(&other.0)
    }

    /// Iterates over the scopes.
    pub fn iter(&self) -> impl Iterator<Item = &str> {
        self.0.iter().map(String::as_str)
    }

    /// Whether the set is empty.
    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }
}

impl std::fmt::Display for Scopes {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let mut first = true;
        for s in &self.0 {
            if !first {
                f.write_str(" ")?;
            }
            f.write_str(s)?;
            first = false;
        }
        Ok(())
    }
}
