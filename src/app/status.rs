//! The numbers operations watches (`flspost status --json`, and `GET /metrics` on
//! `flspost serve`, which prints the same numbers for Prometheus): messages by status and
//! kind, open problems by cause, the oldest unsent and the longest unanswered, each transport's
//! last success and failures since, refused inputs, the journal's size. No CPR number and no
//! patient's data in any of them.

use super::queue::{self, Query, State};
use crate::error::Result;
use crate::journal::Journal;
use chrono::{DateTime, Utc};
use serde::Serialize;
use std::collections::BTreeMap;

#[derive(Clone, Debug, Serialize)]
pub struct Numbers {
    /// When they were read (RFC 3339, UTC).
    pub at: String,
    pub schema_version: i64,
    /// The database file and its write-ahead log.
    pub journal_bytes: u64,
    pub messages: Vec<MessageCount>,
    /// Open problems per cause (only causes with one open).
    pub open_problems: BTreeMap<String, u64>,
    /// The message waiting longest to be handed over (generated or retry), in seconds.
    pub oldest_unsent_seconds: Option<i64>,
    /// The GP letter waiting longest for its receipt or Acknowledgement past the resend
    /// policy's wait, in seconds since its hand-over.
    pub longest_unanswered_seconds: Option<i64>,
    pub transports: Vec<TransportNumbers>,
    /// Inputs `generate` refused, ever, and of them still open.
    pub refused_inputs: i64,
    pub refused_inputs_open: i64,
}

#[derive(Clone, Debug, Serialize)]
pub struct MessageCount {
    pub status: &'static str,
    pub kind: &'static str,
    pub count: i64,
}

#[derive(Clone, Debug, Serialize)]
pub struct TransportNumbers {
    /// As the journal names it (`smtp smtp://host:25`, `outbox /path`).
    pub transport: String,
    /// When it last took a message (RFC 3339), and as seconds since the Unix epoch.
    pub last_success_at: Option<String>,
    pub last_success_unix: Option<i64>,
    /// Failed hand-overs since that success (or ever, when none succeeded).
    pub consecutive_failures: i64,
    pub sent: i64,
    pub failed_for_now: i64,
    pub failed_for_good: i64,
}

fn parse(t: &str) -> Option<DateTime<Utc>> {
    DateTime::parse_from_rfc3339(t).ok().map(|t| t.to_utc())
}

/// The numbers, read from `journal` at `now`.
pub fn numbers(journal: &Journal, now: DateTime<Utc>) -> Result<Numbers> {
    let problems = queue::queue(journal, &Query::default(), now)?;
    let mut open_problems = BTreeMap::new();
    let mut longest_unanswered = None;
    for p in problems.iter().filter(|p| p.state == State::Open) {
        *open_problems.entry(p.cause.clone()).or_insert(0) += 1;
        if p.cause.starts_with("unanswered") {
            let age = parse(&p.since).map(|t| (now - t).num_seconds());
            longest_unanswered = longest_unanswered.max(age);
        }
    }
    let (refused_inputs, refused_inputs_open) = journal.refused_counts()?;
    let transports = journal
        .transport_health(None, None)?
        .into_iter()
        .map(|t| TransportNumbers {
            last_success_unix: t.last_sent_at.as_deref().and_then(parse).map(|t| t.timestamp()),
            last_success_at: t.last_sent_at,
            transport: t.transport,
            consecutive_failures: t.consecutive_failures,
            sent: t.sent,
            failed_for_now: t.failed_for_now,
            failed_for_good: t.failed_for_good,
        })
        .collect();
    Ok(Numbers {
        at: now.to_rfc3339_opts(chrono::SecondsFormat::Secs, true),
        schema_version: journal.schema_version()?,
        journal_bytes: journal.size_on_disk(),
        messages: journal
            .messages_by_status_and_kind()?
            .into_iter()
            .map(|(s, k, count)| MessageCount { status: s.code(), kind: k.code(), count })
            .collect(),
        open_problems,
        oldest_unsent_seconds: journal
            .oldest_waiting()?
            .and_then(|(_, at)| parse(&at))
            .map(|t| (now - t).num_seconds().max(0)),
        longest_unanswered_seconds: longest_unanswered.map(|s| s.max(0)),
        transports,
        refused_inputs,
        refused_inputs_open,
    })
}
