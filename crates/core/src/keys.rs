//! The official keys of German Gebietskörperschaften.
//!
//! * AGS, Amtlicher Gemeindeschlüssel: 8 digits — Land (2), Regierungsbezirk (1), Kreis (2), Gemeinde (3).
//! * ARS, Amtlicher Regionalschlüssel: 12 digits — Land (2), Regierungsbezirk (1), Kreis (2),
//!   Gemeindeverband (4), Gemeinde (3).
//!
//! The AGS follows from the ARS by dropping the Gemeindeverband digits.

use serde::{Deserialize, Serialize};
use std::fmt;
use thiserror::Error;

/// Why a key was refused.
#[derive(Debug, Error, PartialEq, Eq)]
pub enum KeyError {
    /// The key has the wrong length or contains something other than digits.
    #[error("{kind} muss aus genau {len} Ziffern bestehen: {value:?}")]
    Format {
        /// "AGS" or "ARS".
        kind: &'static str,
        /// Required number of digits.
        len: usize,
        /// The refused input.
        value: String,
    },
    /// The Land part is not one of the 16 Länder (01–16).
    #[error("unbekannter Landesschlüssel {0:?} (erlaubt: 01–16)")]
    Land(String),
    /// AGS and ARS of the same body disagree.
    #[error("AGS {ags} passt nicht zum ARS {ars}")]
    Mismatch {
        /// The AGS.
        ags: String,
        /// The ARS.
        ars: String,
    },
}

fn check(kind: &'static str, len: usize, value: &str) -> Result<(), KeyError> {
    if value.len() != len || !value.bytes().all(|b| b.is_ascii_digit()) {
        return Err(KeyError::Format {
            kind,
            len,
            value: value.to_owned(),
        });
    }
    let land: u8 = value[..2].parse().unwrap_or(0);
    if !(1..=16).contains(&land) {
        return Err(KeyError::Land(value[..2].to_owned()));
    }
    Ok(())
}

/// Amtlicher Gemeindeschlüssel (8 digits).
#[derive(Clone, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct Ags(String);

impl Ags {
    /// Validates and wraps an AGS.
    pub fn parse(value: &str) -> Result<Self, KeyError> {
        check("AGS", 8, value)?;
        Ok(Self(value.to_owned()))
    }
    /// The key as text.
    pub fn as_str(&self) -> &str {
        &self.0
    }
    /// The two-digit Land part.
    pub fn land(&self) -> &str {
        &self.0[..2]
    }
}

/// Amtlicher Regionalschlüssel (12 digits).
#[derive(Clone, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct Ars(String);

impl Ars {
    /// Validates and wraps an ARS.
    pub fn parse(value: &str) -> Result<Self, KeyError> {
        check("ARS", 12, value)?;
        Ok(Self(value.to_owned()))
    }
    /// The key as text.
    pub fn as_str(&self) -> &str {
        &self.0
    }
    /// The AGS this ARS contains (Land, Regierungsbezirk, Kreis and Gemeinde, without the Verband).
    pub fn ags(&self) -> Ags {
        Ags(format!("{}{}", &self.0[..5], &self.0[9..]))
    }
    /// Checks that an AGS belongs to this ARS.
    pub fn check_ags(&self, ags: &Ags) -> Result<(), KeyError> {
        if self.ags() == *ags {
            Ok(())
        } else {
            Err(KeyError::Mismatch {
                ags: ags.0.clone(),
                ars: self.0.clone(),
            })
        }
    }
}

macro_rules! string_conversions {
    ($t:ty) => {
        impl TryFrom<String> for $t {
            type Error = KeyError;
            fn try_from(value: String) -> Result<Self, Self::Error> {
                Self::parse(&value)
            }
        }
        impl From<$t> for String {
            fn from(value: $t) -> String {
                value.0
            }
        }
        impl fmt::Display for $t {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str(&self.0)
            }
        }
    };
}
string_conversions!(Ags);
string_conversions!(Ars);

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ars_contains_ags() {
        let ars = Ars::parse("053660012012").unwrap();
        assert_eq!(ars.ags().as_str(), "05366012");
        assert!(ars.check_ags(&Ags::parse("05366012").unwrap()).is_ok());
        assert!(ars.check_ags(&Ags::parse("05366016").unwrap()).is_err());
        assert_eq!(
            Ars::parse("053150000000").unwrap().ags().as_str(),
            "05315000"
        );
    }

    #[test]
    fn malformed_keys_are_refused() {
        assert!(matches!(
            Ags::parse("0531500"),
            Err(KeyError::Format { .. })
        ));
        assert!(matches!(
            Ags::parse("0531500x"),
            Err(KeyError::Format { .. })
        ));
        assert!(matches!(Ags::parse("17000000"), Err(KeyError::Land(_))));
        assert!(matches!(
            Ars::parse("00000000000"),
            Err(KeyError::Format { .. })
        ));
        assert!(serde_json::from_str::<Ags>("\"05315000\"").is_ok());
        assert!(serde_json::from_str::<Ags>("\"5315000\"").is_err());
    }
}
