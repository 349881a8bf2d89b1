//! Reading the catalogue data (the OZG/LeiKa CSV export in `ozg-leika/`): every row is checked;
//! bad rows are reported with file, line and reason and left out, never half-imported.

use crate::model::{Lebenslage, LeikaKey, Leistung, OzgId, OzgLeistung, Themenfeld};
use serde::Serialize;
use std::collections::HashSet;
use std::path::Path;
use thiserror::Error;

/// A row that was not imported.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct Rejected {
    /// File name.
    pub file: String,
    /// Line in the file (1 = header).
    pub line: u64,
    /// Why.
    pub reason: String,
}

/// Everything read from a catalogue directory.
#[derive(Clone, Debug, Default, Serialize)]
pub struct CatalogData {
    /// Themenfelder.
    pub themenfelder: Vec<Themenfeld>,
    /// Lebenslagen.
    pub lebenslagen: Vec<Lebenslage>,
    /// OZG-Leistungen.
    pub ozg_leistungen: Vec<OzgLeistung>,
    /// LeiKa services.
    pub leistungen: Vec<Leistung>,
    /// Rows left out.
    pub rejected: Vec<Rejected>,
}

/// A catalogue directory that cannot be read at all.
#[derive(Debug, Error)]
pub enum ImportError {
    /// A file is missing or unreadable.
    #[error("{file}: {source}")]
    Io {
        /// File.
        file: String,
        /// Cause.
        source: std::io::Error,
    },
    /// A file is not CSV or lacks a required column.
    #[error("{file}: {reason}")]
    Format {
        /// File.
        file: String,
        /// What is wrong.
        reason: String,
    },
}

type Row = csv::StringRecord;

struct Table {
    file: String,
    headers: Vec<String>,
    rows: Vec<(u64, Row)>,
}

impl Table {
    fn read(
        dir: &Path,
        file: &str,
        required: &[&str],
        rejected: &mut Vec<Rejected>,
    ) -> Result<Self, ImportError> {
        let path = dir.join(file);
        let bytes = std::fs::read(&path).map_err(|source| ImportError::Io {
            file: file.to_owned(),
            source,
        })?;
        let mut reader = csv::ReaderBuilder::new()
            .flexible(false)
            .from_reader(bytes.as_slice());
        let headers: Vec<String> = reader
            .headers()
            .map_err(|e| ImportError::Format {
                file: file.to_owned(),
                reason: e.to_string(),
            })?
            .iter()
            .map(str::to_owned)
            .collect();
        for col in required {
            if !headers.iter().any(|h| h == col) {
                return Err(ImportError::Format {
                    file: file.to_owned(),
                    reason: format!("Spalte {col:?} fehlt"),
                });
            }
        }
        let mut rows = Vec::new();
        for (i, record) in reader.records().enumerate() {
            let line = i as u64 + 2;
            match record {
                Ok(r) => rows.push((r.position().map_or(line, |p| p.line()), r)),
                Err(e) => rejected.push(Rejected {
                    file: file.to_owned(),
                    line,
                    reason: format!("kein gültiges CSV: {e}"),
                }),
            }
        }
        Ok(Self {
            file: file.to_owned(),
            headers,
            rows,
        })
    }

    fn get<'a>(&self, row: &'a Row, col: &str) -> &'a str {
        self.headers
            .iter()
            .position(|h| h == col)
            .and_then(|i| row.get(i))
            .unwrap_or("")
            .trim()
    }
}

fn int(value: &str, what: &str) -> Result<i64, String> {
    value
        .parse()
        .map_err(|_| format!("{what} ist keine Zahl: {value:?}"))
}

fn non_empty(value: &str, what: &str) -> Result<String, String> {
    if value.is_empty() {
        Err(format!("{what} fehlt"))
    } else {
        Ok(value.to_owned())
    }
}

/// Reads and checks the five CSV files of a catalogue directory.
pub fn read_dir(dir: &Path) -> Result<CatalogData, ImportError> {
    let mut data = CatalogData::default();
    let reject = |t: &Table, line: u64, reason: String| Rejected {
        file: t.file.clone(),
        line,
        reason,
    };

    let mut rejected = Vec::new();
    let t = Table::read(dir, "ozg_themenfelder.csv", &["id", "name"], &mut rejected)?;
    for (line, r) in &t.rows {
        match (|| {
            Ok::<_, String>(Themenfeld {
                id: int(t.get(r, "id"), "id")?,
                name: non_empty(t.get(r, "name"), "Name")?,
            })
        })() {
            Ok(v) => data.themenfelder.push(v),
            Err(e) => rejected.push(reject(&t, *line, e)),
        }
    }
    let themen: HashSet<i64> = data.themenfelder.iter().map(|t| t.id).collect();

    let t = Table::read(
        dir,
        "ozg_lebenslagen.csv",
        &["id", "subject_id", "name"],
        &mut rejected,
    )?;
    for (line, r) in &t.rows {
        let parsed = (|| {
            let v = Lebenslage {
                id: int(t.get(r, "id"), "id")?,
                themenfeld_id: int(t.get(r, "subject_id"), "subject_id")?,
                name: non_empty(t.get(r, "name"), "Name")?,
            };
            if !themen.contains(&v.themenfeld_id) {
                return Err(format!("unbekanntes Themenfeld {}", v.themenfeld_id));
            }
            Ok(v)
        })();
        match parsed {
            Ok(v) => data.lebenslagen.push(v),
            Err(e) => rejected.push(reject(&t, *line, e)),
        }
    }
    let lagen: HashSet<i64> = data.lebenslagen.iter().map(|l| l.id).collect();

    let t = Table::read(
        dir,
        "ozg_leistungen.csv",
        &["id", "service_key", "name", "situation_id"],
        &mut rejected,
    )?;
    let mut ozg_ids = HashSet::new();
    for (line, r) in &t.rows {
        let parsed = (|| {
            let v = OzgLeistung {
                id: int(t.get(r, "id"), "id")?,
                ozg_id: OzgId::parse(t.get(r, "service_key"))?,
                name: non_empty(t.get(r, "name"), "Name")?,
                lebenslage_id: int(t.get(r, "situation_id"), "situation_id")?,
                priority: int(t.get(r, "priority_id"), "priority_id").unwrap_or(1),
                status: int(t.get(r, "status_id"), "status_id").unwrap_or(1),
                description: t.get(r, "description").to_owned(),
            };
            if !lagen.contains(&v.lebenslage_id) {
                return Err(format!("unbekannte Lebenslage {}", v.lebenslage_id));
            }
            if !ozg_ids.insert(v.ozg_id.0.clone()) {
                return Err(format!("OZG-ID {} doppelt", v.ozg_id.0));
            }
            Ok(v)
        })();
        match parsed {
            Ok(v) => data.ozg_leistungen.push(v),
            Err(e) => rejected.push(reject(&t, *line, e)),
        }
    }
    let ozg: HashSet<i64> = data.ozg_leistungen.iter().map(|o| o.id).collect();

    let t = Table::read(
        dir,
        "leika_leistungen.csv",
        &["id", "service_key", "name", "service_system_id"],
        &mut rejected,
    )?;
    let mut keys = HashSet::new();
    for (line, r) in &t.rows {
        let parsed = (|| {
            let key = t.get(r, "service_key");
            // Rows outside the LeiKa say so in words; anything else must be a valid key.
            let leika = if key.is_empty() || key.eq_ignore_ascii_case("nicht im LeiKa") {
                None
            } else {
                Some(LeikaKey::parse(key)?)
            };
            let v = Leistung {
                id: int(t.get(r, "id"), "id")?,
                leika,
                name: non_empty(t.get(r, "name"), "Name")?,
                typ: t.get(r, "service_type").to_owned(),
                ozg_leistung_id: match t.get(r, "service_system_id") {
                    "" => None,
                    id => Some(int(id, "service_system_id")?),
                },
                legal_basis: t.get(r, "legal_basis").to_owned(),
                laws: t.get(r, "laws").to_owned(),
                law_shortcuts: t.get(r, "law_shortcuts").to_owned(),
            };
            if let Some(id) = v.ozg_leistung_id
                && !ozg.contains(&id)
            {
                return Err(format!("unbekannte OZG-Leistung {id}"));
            }
            if let Some(k) = &v.leika
                && !keys.insert(k.clone())
            {
                return Err(format!("LeiKa-Schlüssel {k} doppelt"));
            }
            Ok(v)
        })();
        match parsed {
            Ok(v) => data.leistungen.push(v),
            Err(e) => rejected.push(reject(&t, *line, e)),
        }
    }
    data.rejected = rejected;
    Ok(data)
}

impl CatalogData {
    /// The services with their classification, as the search index needs them (the same joins
    /// the database does).
    pub fn documents(&self) -> Vec<crate::ServiceDoc> {
        use std::collections::HashMap;
        let themen: HashMap<i64, &str> = self
            .themenfelder
            .iter()
            .map(|t| (t.id, t.name.as_str()))
            .collect();
        let lagen: HashMap<i64, (&str, i64)> = self
            .lebenslagen
            .iter()
            .map(|l| (l.id, (l.name.as_str(), l.themenfeld_id)))
            .collect();
        let ozg: HashMap<i64, &OzgLeistung> =
            self.ozg_leistungen.iter().map(|o| (o.id, o)).collect();
        self.leistungen
            .iter()
            .map(|l| {
                let o = l.ozg_leistung_id.and_then(|id| ozg.get(&id));
                let lage = o.and_then(|o| lagen.get(&o.lebenslage_id));
                crate::ServiceDoc {
                    id: l.id,
                    leika: l.leika.clone(),
                    name: l.name.clone(),
                    ozg_id: o.map(|o| o.ozg_id.0.clone()),
                    ozg_name: o.map(|o| o.name.clone()),
                    lebenslage: lage.map(|(n, _)| (*n).to_owned()),
                    themenfeld: lage
                        .and_then(|(_, t)| themen.get(t))
                        .map(|t| (*t).to_owned()),
                    legal_basis: l.legal_basis.clone(),
                }
            })
            .collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const REAL: &str = concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/../../../shared/testdata/ozg-leika"
    );

    #[test]
    fn reads_the_real_catalogue_and_reports_bad_rows() {
        let data =
            read_dir(Path::new(REAL)).expect("catalogue data in ../shared/testdata/ozg-leika");
        assert_eq!(data.themenfelder.len(), 14);
        assert_eq!(data.lebenslagen.len(), 58);
        assert_eq!(data.ozg_leistungen.len(), 557);
        let total = data.leistungen.len()
            + data
                .rejected
                .iter()
                .filter(|r| r.file == "leika_leistungen.csv")
                .count();
        assert_eq!(total, 5251, "every row is either imported or reported");
        let hund = data
            .leistungen
            .iter()
            .find(|l| l.leika.as_ref().map(|k| k.as_str()) == Some("99110009104000"))
            .unwrap();
        assert_eq!(hund.name, "Hundehaltung Anmeldung");
        let ozg = data
            .ozg_leistungen
            .iter()
            .find(|o| Some(o.id) == hund.ozg_leistung_id)
            .unwrap();
        assert_eq!(ozg.ozg_id.0, "10160");
        // The two malformed keys are reported with line and reason; unassigned services are kept.
        let bad: Vec<_> = data
            .rejected
            .iter()
            .filter(|r| r.reason.contains("14 Ziffern"))
            .collect();
        assert_eq!(bad.len(), 2, "{:?}", data.rejected);
        assert!(bad.iter().all(|r| r.line > 1));
        assert_eq!(
            data.leistungen
                .iter()
                .filter(|l| l.ozg_leistung_id.is_none())
                .count(),
            26
        );
    }

    #[test]
    fn broken_files_are_refused_or_reported() {
        let dir = std::env::temp_dir().join(format!("rathaus-catalog-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        std::fs::write(
            dir.join("ozg_themenfelder.csv"),
            "id,name\n1,Bauen\nx,Kaputt\n2,\n",
        )
        .unwrap();
        std::fs::write(
            dir.join("ozg_lebenslagen.csv"),
            "id,subject_id,name\n1,1,Hausbau\n2,9,Verwaist\n",
        )
        .unwrap();
        std::fs::write(
            dir.join("ozg_leistungen.csv"),
            "id,service_key,name,situation_id,priority_id,status_id,description\n1,10001,Bauantrag,1,4,2,\n2,1000,Kurz,1,1,1,\n",
        )
        .unwrap();
        std::fs::write(
            dir.join("leika_leistungen.csv"),
            "id,service_key,name,service_type,service_system_id\n1,99012001000000,Baugenehmigung,4,1\n2,99012001000000,Doppelt,4,1\n3,99012001001000,Verwaist,4,7\n4,\"unclosed,x,1\n",
        )
        .unwrap();
        let data = read_dir(&dir).unwrap();
        assert_eq!(data.themenfelder.len(), 1);
        assert_eq!(data.lebenslagen.len(), 1);
        assert_eq!(data.ozg_leistungen.len(), 1);
        assert_eq!(data.leistungen.len(), 1);
        let lines: Vec<(&str, u64)> = data
            .rejected
            .iter()
            .map(|r| (r.file.as_str(), r.line))
            .collect();
        assert!(
            lines.contains(&("ozg_themenfelder.csv", 3))
                && lines.contains(&("ozg_themenfelder.csv", 4)),
            "{lines:?}"
        );
        assert!(lines.contains(&("ozg_lebenslagen.csv", 3)));
        assert!(lines.contains(&("ozg_leistungen.csv", 3)));
        assert!(
            lines.contains(&("leika_leistungen.csv", 3)),
            "{:?}",
            data.rejected
        );
        assert!(
            data.rejected
                .iter()
                .any(|r| r.line == 4 && r.reason.contains("unbekannte OZG-Leistung 7"))
        );
        assert!(
            lines.contains(&("leika_leistungen.csv", 5)),
            "malformed CSV row: {:?}",
            data.rejected
        );
        std::fs::write(dir.join("ozg_themenfelder.csv"), "nummer,titel\n1,x\n").unwrap();
        assert!(matches!(read_dir(&dir), Err(ImportError::Format { .. })));
        std::fs::remove_dir_all(&dir).unwrap();
        assert!(matches!(read_dir(&dir), Err(ImportError::Io { .. })));
    }
}
