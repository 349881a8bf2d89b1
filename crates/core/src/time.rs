//! Timestamps as stored and shown: UTC, RFC 3339 with milliseconds, sortable as text.

use chrono::{DateTime, SecondsFormat, Utc};

/// The current time as stored in the database (`2026-11-23T12:00:00.000Z`).
pub fn now_text() -> String {
    format_ts(Utc::now())
}

/// Formats a timestamp the way it is stored.
pub fn format_ts(ts: DateTime<Utc>) -> String {
    ts.to_rfc3339_opts(SecondsFormat::Millis, true)
}

/// Parses a stored timestamp.
pub fn parse_ts(s: &str) -> Option<DateTime<Utc>> {
    DateTime::parse_from_rfc3339(s)
        .ok()
        .map(|t| t.with_timezone(&Utc))
}
