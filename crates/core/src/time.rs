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

/// German legal time (MEZ/MESZ) of a UTC instant: UTC+2 from the last Sunday of March 01:00 UTC
/// to the last Sunday of October 01:00 UTC, else UTC+1 (EU summer-time rule).
pub fn to_german(ts: DateTime<Utc>) -> chrono::NaiveDateTime {
    use chrono::{Datelike, Duration, NaiveDate, Weekday};
    fn last_sunday(year: i32, month: u32) -> Option<NaiveDate> {
        let mut d = NaiveDate::from_ymd_opt(year, month, 31)?;
        while d.weekday() != Weekday::Sun {
            d = d.pred_opt()?;
        }
        Some(d)
    }
    let year = ts.year();
    let summer = match (last_sunday(year, 3), last_sunday(year, 10)) {
        (Some(start), Some(end)) => {
            let start = start.and_hms_opt(1, 0, 0).map(|t| t.and_utc());
            let end = end.and_hms_opt(1, 0, 0).map(|t| t.and_utc());
            matches!((start, end), (Some(s), Some(e)) if ts >= s && ts < e)
        }
        _ => false,
    };
    (ts + Duration::hours(if summer { 2 } else { 1 })).naive_utc()
}

/// A stored timestamp as Germans read it: `06.12.2026, 22:15 Uhr` (German legal time).
pub fn display_de(stored: &str) -> String {
    match parse_ts(stored) {
        Some(ts) => to_german(ts).format("%d.%m.%Y, %H:%M Uhr").to_string(),
        None => stored.to_owned(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn german_time_follows_the_summer_time_rule() {
        // 2026: summer time from 29 March 01:00 UTC to 25 October 01:00 UTC.
        assert_eq!(
            display_de("2026-12-06T21:15:00.000Z"),
            "06.12.2026, 22:15 Uhr"
        );
        assert_eq!(
            display_de("2026-07-01T10:00:00.000Z"),
            "01.07.2026, 12:00 Uhr"
        );
        assert_eq!(
            display_de("2026-03-29T00:59:00.000Z"),
            "29.03.2026, 01:59 Uhr"
        );
        assert_eq!(
            display_de("2026-03-29T01:00:00.000Z"),
            "29.03.2026, 03:00 Uhr"
        );
        assert_eq!(
            display_de("2026-10-25T00:59:00.000Z"),
            "25.10.2026, 02:59 Uhr"
        );
        assert_eq!(
            display_de("2026-10-25T01:00:00.000Z"),
            "25.10.2026, 02:00 Uhr"
        );
        assert_eq!(display_de("kaputt"), "kaputt");
    }
}
