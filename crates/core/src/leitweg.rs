//! Leitweg-IDs: the addresses of public-sector invoice recipients (KoSIT, "Format-Spezifikation
//! Leitweg-ID"), and the prefixes by which Rathaus routes a received invoice to a tenant.
//!
//! A Leitweg-ID is `Grobadressierung[-Feinadressierung]-Prüfziffer`:
//! * Grobadressierung: 2 to 12 digits (Bund, Land, Kommune by its AGS, …);
//! * Feinadressierung: optional, up to 30 letters or digits;
//! * Prüfziffer: 2 digits.
//!
//! A **routing prefix** is a Leitweg-ID cut after one of its parts: the Grobadressierung alone
//! (`04011000`), Grob- and Feinadressierung (`04011000-12350`) or the whole Leitweg-ID
//! (`04011000-12350-85`). That is: 2–12 digits, optionally `-` and 1–30 ASCII letters or digits,
//! optionally `-` and 2 digits. Letters are kept in upper case (Leitweg-IDs are compared without
//! regard to case). The check digits are not verified: a route only has to match what senders
//! write, and the longest matching prefix wins.

use serde::{Deserialize, Serialize};
use std::fmt;
use thiserror::Error;

/// Longest routing prefix: 12 + 1 + 30 + 1 + 2 characters.
pub const MAX_LEN: usize = 46;

/// Why a routing prefix was refused (German: shown to staff and API clients).
#[derive(Debug, Error, PartialEq, Eq)]
#[error(
    "Leitweg-ID-Präfix {value:?} ist ungültig: {reason} (erlaubt: Grobadressierung aus 2–12 Ziffern, \
     optional „-“ und Feinadressierung aus 1–30 Buchstaben oder Ziffern, optional „-“ und 2 Prüfziffern, \
     z. B. 04011000, 04011000-12350 oder 04011000-12350-85)"
)]
pub struct LeitwegError {
    /// The refused input.
    pub value: String,
    /// What is wrong with it.
    pub reason: &'static str,
}

/// A valid routing prefix of Leitweg-IDs (see the module documentation).
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct LeitwegPrefix(String);

impl LeitwegPrefix {
    /// Checks and normalises (trimmed, upper case) a routing prefix.
    pub fn parse(input: &str) -> Result<Self, LeitwegError> {
        let value = input.trim().to_ascii_uppercase();
        let fail = |reason| {
            Err(LeitwegError {
                value: input.trim().to_owned(),
                reason,
            })
        };
        if value.is_empty() {
            return fail("leer");
        }
        if value.len() > MAX_LEN {
            return fail("zu lang");
        }
        let parts: Vec<&str> = value.split('-').collect();
        if parts.len() > 3 {
            return fail("mehr als drei Teile");
        }
        let grob = parts[0];
        if !(2..=12).contains(&grob.len()) || !grob.bytes().all(|b| b.is_ascii_digit()) {
            return fail("die Grobadressierung besteht nicht aus 2 bis 12 Ziffern");
        }
        if let Some(fein) = parts.get(1)
            && (!(1..=30).contains(&fein.len()) || !fein.bytes().all(|b| b.is_ascii_alphanumeric()))
        {
            return fail("die Feinadressierung besteht nicht aus 1 bis 30 Buchstaben oder Ziffern");
        }
        if let Some(check) = parts.get(2)
            && (check.len() != 2 || !check.bytes().all(|b| b.is_ascii_digit()))
        {
            return fail("die Prüfziffer besteht nicht aus 2 Ziffern");
        }
        Ok(Self(value))
    }

    /// The prefix as text.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl fmt::Display for LeitwegPrefix {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl TryFrom<String> for LeitwegPrefix {
    type Error = LeitwegError;
    fn try_from(s: String) -> Result<Self, Self::Error> {
        Self::parse(&s)
    }
}

impl From<LeitwegPrefix> for String {
    fn from(p: LeitwegPrefix) -> Self {
        p.0
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn accepts_grob_fein_and_full_ids() {
        for ok in [
            "04",
            "991",
            "04011000",
            "123456789012",
            "04011000-12350",
            "04011000-12350-85",
            "991-33333TEST-33",
            "04011000-abc",
            " 05315000 ",
        ] {
            assert!(LeitwegPrefix::parse(ok).is_ok(), "{ok}");
        }
        assert_eq!(
            LeitwegPrefix::parse(" 991-33333test-33 ").unwrap().as_str(),
            "991-33333TEST-33"
        );
    }

    #[test]
    fn refuses_everything_else() {
        for bad in [
            "",
            "0",
            "1234567890123",
            "04O11000",
            "04011000-",
            "04011000--85",
            "04011000-12350-8",
            "04011000-12350-8A",
            "04011000-12350-85-1",
            "04011000-1234567890123456789012345678901",
            "04011000/12350",
            "-04011000",
            "04011000-12 50",
            "0401100ü",
        ] {
            let e = LeitwegPrefix::parse(bad).unwrap_err();
            assert!(
                e.to_string().contains("Grobadressierung aus 2–12 Ziffern"),
                "{bad}: {e}"
            );
        }
    }
}
