//! Times as support staff say them and read them: in Danish local time (`Europe/Copenhagen`),
//! the time of the letters, the envelopes and the people. `--since today`, `--since 2h`,
//! `--since 7d` (calendar days: the same clock time a week back),
//! `--since 2026-12-07` (Danish midnight), `--until 2026-12-07` (to the end of that day), or
//! an RFC 3339 instant; the journal stores and JSON prints UTC in RFC 3339.

use crate::error::{Error, Result};
use chrono::{DateTime, Duration, NaiveDate, NaiveTime, SecondsFormat, TimeZone, Utc};
use chrono_tz::Europe::Copenhagen;

/// Which end of a period a time names: a date as `--since` is its first instant, as
/// `--until` the first instant of the next day (so `--until 2026-12-07` includes that day).
#[derive(Clone, Copy, PartialEq, Eq)]
pub enum End {
    Start,
    Until,
}

/// An instant from what a person typed (`now` for the relative forms).
pub fn parse(text: &str, end: End, now: DateTime<Utc>) -> Result<DateTime<Utc>> {
    let t = text.trim();
    let bad = || {
        Error::Usage(format!(
            "`{t}`: expected today, yesterday, a span back from now (30m, 2h, 7d), a date (YYYY-MM-DD, Danish \
             time) or an RFC 3339 instant"
        ))
    };
    let day = |date: NaiveDate| -> Result<DateTime<Utc>> {
        let date = if end == End::Until { date.succ_opt().ok_or_else(bad)? } else { date };
        // Midnight exists in Copenhagen every day (the clocks change at 02:00 and 03:00).
        Copenhagen.from_local_datetime(&date.and_time(NaiveTime::MIN)).earliest().map(|d| d.to_utc()).ok_or_else(bad)
    };
    let today = now.with_timezone(&Copenhagen).date_naive();
    match t {
        "today" => return day(today),
        "yesterday" => return day(today.pred_opt().ok_or_else(bad)?),
        _ => {}
    }
    if let Some((n, unit)) = t.find(|c: char| !c.is_ascii_digit()).map(|i| t.split_at(i)) {
        // Days are calendar days in Copenhagen (the same clock time N days back, 23 or 25
        // hours across a change to or from summer time).
        if let (Ok(n), "d") = (n.parse::<u64>(), unit) {
            let local = now.with_timezone(&Copenhagen).naive_local();
            let back = local.checked_sub_days(chrono::Days::new(n)).ok_or_else(bad)?;
            return Copenhagen.from_local_datetime(&back).earliest().map(|d| d.to_utc()).ok_or_else(bad);
        }
        if let (Ok(n), Some(minutes)) = (n.parse::<i64>(), unit_minutes(unit)) {
            let span = n.checked_mul(minutes).and_then(Duration::try_minutes).ok_or_else(bad)?;
            return Ok(now.checked_sub_signed(span).unwrap_or(DateTime::<Utc>::MIN_UTC));
        }
    }
    if let Ok(date) = NaiveDate::parse_from_str(t, "%Y-%m-%d") {
        return day(date);
    }
    DateTime::parse_from_rfc3339(t).map(|d| d.to_utc()).map_err(|_| bad())
}

fn unit_minutes(unit: &str) -> Option<i64> {
    match unit {
        "m" | "min" => Some(1),
        "h" => Some(60),
        _ => None,
    }
}

/// As the journal writes its times (RFC 3339, UTC, milliseconds), so they compare as text.
pub fn stored(t: DateTime<Utc>) -> String {
    t.to_rfc3339_opts(SecondsFormat::Millis, true)
}

/// A stored time in Danish local time for a screen (`2026-12-07 08:12`); as stored when it
/// does not read as a time.
pub fn local(stored: &str) -> String {
    match DateTime::parse_from_rfc3339(stored) {
        Ok(t) => t.with_timezone(&Copenhagen).format("%Y-%m-%d %H:%M").to_string(),
        Err(_) => stored.to_string(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn at(s: &str) -> DateTime<Utc> {
        DateTime::parse_from_rfc3339(s).unwrap().to_utc()
    }

    #[test]
    fn days_begin_at_danish_midnight_and_until_includes_its_day() {
        let now = at("2026-12-07T09:30:00Z");
        assert_eq!(parse("today", End::Start, now).unwrap(), at("2026-12-06T23:00:00Z"));
        assert_eq!(parse("yesterday", End::Start, now).unwrap(), at("2026-12-05T23:00:00Z"));
        assert_eq!(parse("2026-07-01", End::Start, now).unwrap(), at("2026-06-30T22:00:00Z"), "summer time");
        assert_eq!(parse("2026-12-07", End::Until, now).unwrap(), at("2026-12-07T23:00:00Z"));
        // Just after midnight in Copenhagen it is still the day before in UTC.
        assert_eq!(parse("today", End::Start, at("2026-12-06T23:30:00Z")).unwrap(), at("2026-12-06T23:00:00Z"));
    }

    #[test]
    fn spans_count_back_from_now_and_instants_are_taken_as_they_are() {
        let now = at("2026-12-07T09:30:00Z");
        assert_eq!(parse("2h", End::Start, now).unwrap(), at("2026-12-07T07:30:00Z"));
        assert_eq!(parse("30m", End::Start, now).unwrap(), at("2026-12-07T09:00:00Z"));
        assert_eq!(parse("7d", End::Start, now).unwrap(), at("2026-11-30T09:30:00Z"));
        // Across the change to summer time (29 March 2026): the same clock time, 23 hours back.
        assert_eq!(parse("1d", End::Start, at("2026-03-29T10:00:00Z")).unwrap(), at("2026-03-28T11:00:00Z"));
        assert_eq!(parse("2026-12-07T08:00:00+01:00", End::Start, now).unwrap(), at("2026-12-07T07:00:00Z"));
        for bad in ["", "tomorrow", "2x", "99999999999999999d", "2026-13-01", "h"] {
            assert!(parse(bad, End::Start, now).is_err(), "{bad}");
        }
    }

    #[test]
    fn screens_show_danish_time() {
        assert_eq!(local("2026-12-07T07:12:24.400Z"), "2026-12-07 08:12");
        assert_eq!(local("2026-07-01T07:12:24.400Z"), "2026-07-01 09:12");
        assert_eq!(local("not a time"), "not a time");
    }
}
