//! The generation clock. `FLSPOST_FAKE_NOW` (an RFC 3339 instant) pins it, so the samples
//! and tests can be reproduced byte for byte; production leaves it unset.

use chrono::{DateTime, Utc};
use std::sync::OnceLock;

pub fn now() -> DateTime<Utc> {
    static FAKE: OnceLock<Option<DateTime<Utc>>> = OnceLock::new();
    let fake = FAKE.get_or_init(|| {
        std::env::var("FLSPOST_FAKE_NOW").ok().and_then(|s| DateTime::parse_from_rfc3339(&s).ok()).map(|d| d.to_utc())
    });
    fake.unwrap_or_else(Utc::now)
}
