//! Trust levels (Vertrauensniveaus) of a login, after eIDAS.

use serde::{Deserialize, Serialize};
use std::fmt;
use std::str::FromStr;

/// The eIDAS level of assurance of one login, carried in the ID token as `acr`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum TrustLevel {
    /// Password only (niedrig).
    Low,
    /// Second factor, or an identity verified upstream (substanziell).
    Substantial,
    /// Electronic identity card (hoch).
    High,
}

impl TrustLevel {
    /// Every level, lowest first.
    pub const ALL: [TrustLevel; 3] = [Self::Low, Self::Substantial, Self::High];

    /// The `acr` value (eIDAS level-of-assurance URI).
    pub fn acr(self) -> &'static str {
        match self {
            Self::Low => "http://eidas.europa.eu/LoA/low",
            Self::Substantial => "http://eidas.europa.eu/LoA/substantial",
            Self::High => "http://eidas.europa.eu/LoA/high",
        }
    }

    /// The short stored name.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Low => "low",
            Self::Substantial => "substantial",
            Self::High => "high",
        }
    }

    /// German label for pages.
    pub fn label(self) -> &'static str {
        match self {
            Self::Low => "niedrig (Passwort)",
            Self::Substantial => "substanziell (zweiter Faktor oder geprüfte Identität)",
            Self::High => "hoch (Online-Ausweis)",
        }
    }

    /// Parses one of our own `acr` values or a short name.
    pub fn from_acr(value: &str) -> Option<Self> {
        Self::ALL
            .into_iter()
            .find(|l| l.acr() == value || l.as_str() == value)
    }

    /// Maps the `acr` an upstream identity provider reports: eIDAS URIs and the STORK QAA
    /// levels that BundID uses (1 and 2: low, 3: substantial, 4: high). Anything else,
    /// or nothing, counts as low.
    pub fn from_upstream_acr(value: Option<&str>) -> Self {
        let Some(value) = value.map(str::trim) else {
            return Self::Low;
        };
        if let Some(level) = Self::from_acr(value) {
            return level;
        }
        let upper = value.to_ascii_uppercase();
        match upper.as_str() {
            "STORK-QAA-LEVEL-3" | "SUBSTANTIELL" | "SUBSTANTIAL" => Self::Substantial,
            "STORK-QAA-LEVEL-4" | "HOCH" | "HIGH" => Self::High,
            _ => Self::Low,
        }
    }

    /// The highest level among requested `acr_values` that we know (space separated), if any:
    /// the minimum the client asks for.
    pub fn requested(acr_values: &str) -> Option<Self> {
        acr_values
            .split_ascii_whitespace()
            .filter_map(Self::from_acr)
            .min()
    }
}

impl fmt::Display for TrustLevel {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl FromStr for TrustLevel {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Self::from_acr(s).ok_or_else(|| format!("unbekanntes Vertrauensniveau {s:?}"))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn upstream_levels_map_as_bundid_documents() {
        assert_eq!(TrustLevel::from_upstream_acr(None), TrustLevel::Low);
        for (acr, level) in [
            ("STORK-QAA-Level-1", TrustLevel::Low),
            ("STORK-QAA-Level-2", TrustLevel::Low),
            ("STORK-QAA-Level-3", TrustLevel::Substantial),
            ("STORK-QAA-Level-4", TrustLevel::High),
            (
                "http://eidas.europa.eu/LoA/substantial",
                TrustLevel::Substantial,
            ),
            ("http://eidas.europa.eu/LoA/high", TrustLevel::High),
            ("urn:something:else", TrustLevel::Low),
        ] {
            assert_eq!(TrustLevel::from_upstream_acr(Some(acr)), level, "{acr}");
        }
    }

    #[test]
    fn requested_levels_take_the_lowest_known_value() {
        assert_eq!(TrustLevel::requested(""), None);
        assert_eq!(
            TrustLevel::requested(
                "urn:x http://eidas.europa.eu/LoA/high http://eidas.europa.eu/LoA/substantial"
            ),
            Some(TrustLevel::Substantial)
        );
        assert!(
            TrustLevel::Low < TrustLevel::Substantial && TrustLevel::Substantial < TrustLevel::High
        );
    }
}
