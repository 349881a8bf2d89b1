//! The audit trail: an append-only log whose entries are chained by SHA-256.
//!
//! Entry *n* stores the hash of entry *n − 1* (`prev_hash`) and its own hash over all its fields
//! and `prev_hash`. Changing any field breaks that entry's hash; deleting an entry breaks the
//! sequence or the link of its successor; deleting the newest entries is caught by comparing
//! against the head (the last sequence number and hash, kept beside the log and printed by
//! `rathaus audit verify` for external anchoring).

use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

/// `prev_hash` of the first entry.
pub const GENESIS_HASH: &str = "0000000000000000000000000000000000000000000000000000000000000000";

/// What is appended: who did what to which object of which tenant.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct NewAuditEntry {
    /// Who acted, e.g. `staff:koeln/mueller`, `system`, `anonymous`.
    pub actor: String,
    /// What was done, e.g. `tenant.update`.
    pub action: String,
    /// The tenant the object belongs to (`None` for installation-wide actions).
    pub tenant: Option<String>,
    /// The object's type, e.g. `tenant`.
    pub object_type: String,
    /// The object's id.
    pub object_id: String,
    /// Further details as JSON (never secrets).
    pub details: serde_json::Value,
}

/// A stored entry.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct AuditEntry {
    /// Position in the chain, from 1 without gaps.
    pub seq: i64,
    /// When (RFC 3339, UTC).
    pub at: String,
    /// Who.
    pub actor: String,
    /// What.
    pub action: String,
    /// Tenant id, if any.
    pub tenant: Option<String>,
    /// Object type.
    pub object_type: String,
    /// Object id.
    pub object_id: String,
    /// Details as canonical JSON text.
    pub details: String,
    /// Hash of the previous entry.
    pub prev_hash: String,
    /// Hash of this entry.
    pub hash: String,
}

/// Computes an entry's hash. Every field is length-prefixed so that no two different entries
/// can produce the same byte stream.
#[allow(clippy::too_many_arguments)]
pub fn entry_hash(
    seq: i64,
    at: &str,
    actor: &str,
    action: &str,
    tenant: Option<&str>,
    object_type: &str,
    object_id: &str,
    details: &str,
    prev_hash: &str,
) -> String {
    let mut h = Sha256::new();
    h.update(b"rathaus-audit-v1");
    h.update(seq.to_be_bytes());
    for field in [
        at,
        actor,
        action,
        tenant.unwrap_or("\u{0}"),
        object_type,
        object_id,
        details,
        prev_hash,
    ] {
        h.update((field.len() as u64).to_be_bytes());
        h.update(field.as_bytes());
    }
    hex::encode(h.finalize())
}

impl AuditEntry {
    /// The hash this entry should have.
    pub fn expected_hash(&self) -> String {
        entry_hash(
            self.seq,
            &self.at,
            &self.actor,
            &self.action,
            self.tenant.as_deref(),
            &self.object_type,
            &self.object_id,
            &self.details,
            &self.prev_hash,
        )
    }
}

/// A break in the chain.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub enum ChainProblem {
    /// An entry's content no longer matches its hash (changed).
    Altered {
        /// Sequence number.
        seq: i64,
    },
    /// An entry does not point to its predecessor (predecessor changed or deleted).
    BrokenLink {
        /// Sequence number.
        seq: i64,
    },
    /// Sequence numbers jump (entries deleted).
    Gap {
        /// Expected next number.
        expected: i64,
        /// Found number.
        found: i64,
    },
    /// The log ends before or after the recorded head (newest entries deleted or head altered).
    HeadMismatch {
        /// Head sequence number.
        head_seq: i64,
        /// Last sequence number in the log.
        last_seq: i64,
    },
}

impl std::fmt::Display for ChainProblem {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Self::Altered { seq } => write!(f, "Eintrag {seq} wurde verändert (Hash stimmt nicht)"),
            Self::BrokenLink { seq } => {
                write!(
                    f,
                    "Eintrag {seq} verweist nicht auf seinen Vorgänger (Vorgänger verändert oder gelöscht)"
                )
            }
            Self::Gap { expected, found } => {
                write!(
                    f,
                    "Lücke in der Kette: erwartet Eintrag {expected}, gefunden {found} (Einträge gelöscht)"
                )
            }
            Self::HeadMismatch { head_seq, last_seq } => write!(
                f,
                "Kettenkopf verweist auf Eintrag {head_seq}, das Protokoll endet bei {last_seq} (Einträge am Ende gelöscht oder Kopf verändert)"
            ),
        }
    }
}

/// Checks a chain entry by entry. Feed entries in sequence order, then call [`ChainVerifier::finish`].
#[derive(Debug)]
pub struct ChainVerifier {
    expected_seq: i64,
    prev_hash: String,
    checked: u64,
    problems: Vec<ChainProblem>,
}

impl Default for ChainVerifier {
    fn default() -> Self {
        Self {
            expected_seq: 1,
            prev_hash: GENESIS_HASH.to_owned(),
            checked: 0,
            problems: Vec::new(),
        }
    }
}

/// The result of a verification.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct ChainReport {
    /// Number of entries read.
    pub checked: u64,
    /// Last sequence number read (0 for an empty log).
    pub last_seq: i64,
    /// Hash of the last entry read.
    pub last_hash: String,
    /// Everything found wrong; empty when the chain is intact.
    pub problems: Vec<ChainProblem>,
}

impl ChainVerifier {
    /// Checks the next entry.
    pub fn push(&mut self, e: &AuditEntry) {
        self.checked += 1;
        if e.seq != self.expected_seq {
            self.problems.push(ChainProblem::Gap {
                expected: self.expected_seq,
                found: e.seq,
            });
        }
        if e.prev_hash != self.prev_hash {
            self.problems.push(ChainProblem::BrokenLink { seq: e.seq });
        }
        if e.expected_hash() != e.hash {
            self.problems.push(ChainProblem::Altered { seq: e.seq });
        }
        self.expected_seq = e.seq + 1;
        self.prev_hash = e.hash.clone();
    }

    /// Compares the end of the log with the recorded head and returns the report.
    pub fn finish(mut self, head_seq: i64, head_hash: &str) -> ChainReport {
        let last_seq = self.expected_seq - 1;
        if head_seq != last_seq || head_hash != self.prev_hash {
            self.problems
                .push(ChainProblem::HeadMismatch { head_seq, last_seq });
        }
        ChainReport {
            checked: self.checked,
            last_seq,
            last_hash: self.prev_hash,
            problems: self.problems,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn chain(n: i64) -> Vec<AuditEntry> {
        let mut prev = GENESIS_HASH.to_owned();
        (1..=n)
            .map(|seq| {
                let mut e = AuditEntry {
                    seq,
                    at: "2026-11-23T12:00:00.000Z".into(),
                    actor: "system".into(),
                    action: "test".into(),
                    tenant: None,
                    object_type: "x".into(),
                    object_id: seq.to_string(),
                    details: "{}".into(),
                    prev_hash: prev.clone(),
                    hash: String::new(),
                };
                e.hash = e.expected_hash();
                prev = e.hash.clone();
                e
            })
            .collect()
    }

    fn verify(entries: &[AuditEntry], head: (i64, &str)) -> ChainReport {
        let mut v = ChainVerifier::default();
        entries.iter().for_each(|e| v.push(e));
        v.finish(head.0, head.1)
    }

    #[test]
    fn intact_chain_verifies() {
        let c = chain(5);
        let r = verify(&c, (5, &c[4].hash));
        assert!(r.problems.is_empty(), "{:?}", r.problems);
        assert_eq!(r.checked, 5);
        assert!(verify(&[], (0, GENESIS_HASH)).problems.is_empty());
    }

    #[test]
    fn tampering_is_detected() {
        let c = chain(5);
        let head = c[4].hash.clone();
        let mut altered = c.clone();
        altered[2].actor = "mallory".into();
        assert_eq!(
            verify(&altered, (5, &head)).problems,
            vec![ChainProblem::Altered { seq: 3 }]
        );

        let mut deleted = c.clone();
        deleted.remove(1);
        let p = verify(&deleted, (5, &head)).problems;
        assert!(
            p.contains(&ChainProblem::Gap {
                expected: 2,
                found: 3
            }) && p.contains(&ChainProblem::BrokenLink { seq: 3 })
        );

        let truncated = &c[..4];
        assert_eq!(
            verify(truncated, (5, &head)).problems,
            vec![ChainProblem::HeadMismatch {
                head_seq: 5,
                last_seq: 4
            }]
        );
    }
}
