//! Times as MedCom FHIR writes them.

use chrono::{DateTime, TimeZone};
use chrono_tz::Europe::Copenhagen;

/// FHIR `dateTime`/`instant` in Danish local time with its offset (`2025-03-20T10:30:00+01:00`).
pub(crate) fn fhir_time<Tz: TimeZone>(t: &DateTime<Tz>) -> String {
    t.with_timezone(&Copenhagen).format("%Y-%m-%dT%H:%M:%S%:z").to_string()
}
