//! The catalogue model.

use serde::{Deserialize, Serialize};
use std::fmt;

/// A LeiKa service key: 14 digits (e.g. `99110009104000`, Hundehaltung Anmeldung).
#[derive(Clone, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct LeikaKey(String);

impl LeikaKey {
    /// Validates a key.
    pub fn parse(value: &str) -> Result<Self, String> {
        let v = value.trim();
        if v.len() == 14 && v.bytes().all(|b| b.is_ascii_digit()) {
            Ok(Self(v.to_owned()))
        } else {
            Err(format!(
                "LeiKa-Schlüssel muss aus 14 Ziffern bestehen: {value:?}"
            ))
        }
    }
    /// The key as text.
    pub fn as_str(&self) -> &str {
        &self.0
    }
    /// The URN used by FIT-Connect (`publicServiceType`).
    pub fn urn(&self) -> String {
        format!("urn:de:fim:leika:leistung:{}", self.0)
    }
}

impl TryFrom<String> for LeikaKey {
    type Error = String;
    fn try_from(value: String) -> Result<Self, Self::Error> {
        Self::parse(&value)
    }
}
impl From<LeikaKey> for String {
    fn from(value: LeikaKey) -> String {
        value.0
    }
}
impl fmt::Display for LeikaKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

/// An OZG-ID: 5 digits (e.g. `10160`, Hundehaltung).
#[derive(Clone, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct OzgId(pub String);

impl OzgId {
    /// Validates an OZG-ID.
    pub fn parse(value: &str) -> Result<Self, String> {
        let v = value.trim();
        if v.len() == 5 && v.bytes().all(|b| b.is_ascii_digit()) {
            Ok(Self(v.to_owned()))
        } else {
            Err(format!("OZG-ID muss aus 5 Ziffern bestehen: {value:?}"))
        }
    }
}

/// One of the 14 OZG Themenfelder.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Themenfeld {
    /// Id in the source data.
    pub id: i64,
    /// Name, e.g. "Bauen & Wohnen".
    pub name: String,
}

/// A Lebens- or Unternehmenslage within a Themenfeld.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Lebenslage {
    /// Id in the source data.
    pub id: i64,
    /// The Themenfeld.
    pub themenfeld_id: i64,
    /// Name.
    pub name: String,
}

/// An OZG-Leistung (bundle of LeiKa services).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct OzgLeistung {
    /// Id in the source data.
    pub id: i64,
    /// OZG-ID.
    pub ozg_id: OzgId,
    /// Name.
    pub name: String,
    /// The Lebenslage.
    pub lebenslage_id: i64,
    /// Priority (1 nicht festgelegt, 2 niedrig, 3 mittel, 4 hoch).
    pub priority: i64,
    /// Status (1 offen, 2 in Planung, 3 in Bearbeitung, 4 umgesetzt).
    pub status: i64,
    /// Description.
    pub description: String,
}

/// A LeiKa service.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Leistung {
    /// Id in the source data.
    pub id: i64,
    /// LeiKa key; `None` for services not (yet) in the LeiKa.
    pub leika: Option<LeikaKey>,
    /// Name, e.g. "Hundehaltung Anmeldung".
    pub name: String,
    /// LeiKa type (Typ 1–5, e.g. `2/3`).
    pub typ: String,
    /// The OZG-Leistung it belongs to (`None`: not assigned to one).
    pub ozg_leistung_id: Option<i64>,
    /// Legal basis (text with links).
    pub legal_basis: String,
    /// Laws (names).
    pub laws: String,
    /// Laws (abbreviations).
    pub law_shortcuts: String,
}

/// One service with its classification, as the search index needs it.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct ServiceDoc {
    /// Source id.
    pub id: i64,
    /// LeiKa key.
    pub leika: Option<LeikaKey>,
    /// Name.
    pub name: String,
    /// OZG-ID of its OZG-Leistung.
    pub ozg_id: Option<String>,
    /// Name of its OZG-Leistung.
    pub ozg_name: Option<String>,
    /// Its Lebenslage.
    pub lebenslage: Option<String>,
    /// Its Themenfeld.
    pub themenfeld: Option<String>,
    /// Legal basis text.
    pub legal_basis: String,
}
