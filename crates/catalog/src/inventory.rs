//! Prozessinventur: which processes a municipality should digitise first.
//!
//! Per service: cases per year, minutes per case, the processing office, other offices involved
//! and legal particularities. The priority score is the working time per year the process takes
//! today (cases × minutes ÷ 60, in hours) — what a fully digital process could save at most —
//! as the state's guidance for choosing processes suggests (many cases × much effort first).

use serde::{Deserialize, Serialize};
use thiserror::Error;

/// The entry for one service, as staff enter it.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct InventoryInput {
    /// Cases per year (0–10,000,000).
    pub cases_per_year: i64,
    /// Minutes of work per case (0–100,000).
    pub minutes_per_case: i64,
    /// Processing office (Organisationseinheit).
    pub office: String,
    /// Other offices involved.
    #[serde(default)]
    pub involved_offices: Vec<String>,
    /// Legal particularities (e.g. written form required, fees, deadlines).
    #[serde(default)]
    pub legal_notes: String,
}

/// Why an entry was refused.
#[derive(Debug, Error, PartialEq, Eq)]
pub enum InventoryError {
    /// A number out of range.
    #[error("{field} muss zwischen 0 und {max} liegen")]
    Range {
        /// Field.
        field: &'static str,
        /// Maximum.
        max: i64,
    },
    /// Missing or too long text.
    #[error("{0}")]
    Text(&'static str),
}

impl InventoryInput {
    /// Checks ranges and texts, trims whitespace.
    pub fn validate(mut self) -> Result<Self, InventoryError> {
        if !(0..=10_000_000).contains(&self.cases_per_year) {
            return Err(InventoryError::Range {
                field: "cases_per_year",
                max: 10_000_000,
            });
        }
        if !(0..=100_000).contains(&self.minutes_per_case) {
            return Err(InventoryError::Range {
                field: "minutes_per_case",
                max: 100_000,
            });
        }
        self.office = self.office.trim().to_owned();
        if self.office.is_empty() || self.office.chars().count() > 200 {
            return Err(InventoryError::Text(
                "office: die bearbeitende Stelle fehlt oder ist länger als 200 Zeichen",
            ));
        }
        self.involved_offices = self
            .involved_offices
            .iter()
            .map(|o| o.trim().to_owned())
            .filter(|o| !o.is_empty())
            .collect();
        if self.involved_offices.len() > 50
            || self
                .involved_offices
                .iter()
                .any(|o| o.chars().count() > 200)
        {
            return Err(InventoryError::Text(
                "involved_offices: höchstens 50 Stellen mit je 200 Zeichen",
            ));
        }
        self.legal_notes = self.legal_notes.trim().to_owned();
        if self.legal_notes.chars().count() > 5000 {
            return Err(InventoryError::Text("legal_notes: höchstens 5000 Zeichen"));
        }
        Ok(self)
    }

    /// Working hours per year (the priority score).
    pub fn score(&self) -> f64 {
        (self.cases_per_year as f64 * self.minutes_per_case as f64 / 60.0 * 10.0).round() / 10.0
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn input(cases: i64, minutes: i64) -> InventoryInput {
        InventoryInput {
            cases_per_year: cases,
            minutes_per_case: minutes,
            office: " Bürgeramt ".into(),
            involved_offices: vec!["".into(), "Kasse".into()],
            legal_notes: String::new(),
        }
    }

    #[test]
    fn score_and_validation() {
        let v = input(12_000, 15).validate().unwrap();
        assert_eq!(v.score(), 3000.0);
        assert_eq!(v.office, "Bürgeramt");
        assert_eq!(v.involved_offices, vec!["Kasse".to_owned()]);
        assert!(matches!(
            input(-1, 5).validate(),
            Err(InventoryError::Range {
                field: "cases_per_year",
                ..
            })
        ));
        assert!(matches!(
            input(1, 100_001).validate(),
            Err(InventoryError::Range {
                field: "minutes_per_case",
                ..
            })
        ));
        let mut empty = input(1, 1);
        empty.office = "  ".into();
        assert!(matches!(empty.validate(), Err(InventoryError::Text(_))));
    }
}
