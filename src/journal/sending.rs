//! The send-attempt state machine: claiming a message for a hand-over, and recording how the
//! hand-over went (the retry policy with it).

use super::db::{params, OptionalExtension};
use super::sql::{message_row, MESSAGE_COLUMNS};
use super::types::*;
use super::{now_text, Journal};
use crate::error::Result;

/// What claiming a message for a hand-over found ([`Journal::claim`]).
#[derive(Debug)]
pub enum Claim {
    /// Claimed: the attempt's id, and the message as it stands now.
    Taken(i64, MessageRow),
    /// No longer waiting (answered, superseded, refused, or sent meanwhile).
    Gone,
    /// Another `send` (on this host or another) holds it, its lease still running.
    HeldBy(String),
}

impl Journal {
    /// How long a claim on a shared (PostgreSQL) journal holds before another `send` may take
    /// the hand-over over as cut short (`[journal] lease_seconds`).
    pub fn set_lease(&mut self, lease: std::time::Duration) {
        self.lease = lease;
    }

    pub fn lease(&self) -> std::time::Duration {
        self.lease
    }

    /// Whether other hosts may share this journal (PostgreSQL): then `send` claims with leases
    /// instead of one send lock.
    pub fn is_shared(&self) -> bool {
        self.conn.dialect() == super::db::Dialect::Postgres
    }

    /// Claims message `m` for a hand-over by `transport`, checking its state again at this
    /// moment: `send` read its queue earlier, and since then a receipt may have cancelled a
    /// queued resend, a correction superseded the letter, or a fatal-error refused it, or
    /// (on a shared journal) another host's `send` claimed it.
    ///
    /// An attempt left open by a sender that is gone is closed as `interrupted` first: the
    /// bytes are the same, so sending them again is a resend of the same envelope, which
    /// MedCom receivers recognise. On SQLite the send lock says no other sender is running,
    /// so an open attempt is always such a one. On PostgreSQL `send` runs on every host at
    /// once without a lock: a claim carries its holder and a lease, the message row is locked
    /// for the claim (`FOR UPDATE SKIP LOCKED`: a message another claim is deciding about is
    /// skipped, not waited for), at most one attempt per message is open (a unique index), and
    /// an open attempt is taken over only once its lease has run out.
    pub(crate) fn claim(&mut self, m: &MessageRow, transport: &str) -> Result<Claim> {
        let shared = self.is_shared();
        let lease_ms = i64::try_from(self.lease.as_millis()).unwrap_or(i64::MAX);
        self.transaction(|tx| {
            let lock = if shared { " FOR UPDATE OF m SKIP LOCKED" } else { "" };
            let now: Option<MessageRow> = tx
                .prepare_cached(&format!(
                    "SELECT {MESSAGE_COLUMNS} FROM messages m JOIN inputs i ON i.id = m.input_id \
                     WHERE m.id = ?1 AND m.status IN ('generated', 'retry'){lock}"
                ))?
                .query_row([m.id], message_row)
                .optional()?;
            let Some(now) = now else { return Ok(Claim::Gone) };
            let at = now_text();
            if shared {
                // The lease in the database's own time: the hosts' clocks need not agree.
                let open: Option<(Option<String>, bool)> = tx
                    .query_row(
                        &format!(
                            "SELECT claimed_by, COALESCE(lease_until > {PG_NOW}, FALSE) FROM attempts \
                             WHERE message_id = ?1 AND outcome IS NULL"
                        ),
                        [m.id],
                        |r| Ok((r.get(0)?, r.get(1)?)),
                    )
                    .optional()?;
                if let Some((by, live)) = open {
                    let by = by.unwrap_or_else(|| "another flspost send".into());
                    if live {
                        return Ok(Claim::HeldBy(by));
                    }
                    tx.execute(
                        "UPDATE attempts SET outcome = 'interrupted', finished_at = ?2, reason = ?3 \
                         WHERE message_id = ?1 AND outcome IS NULL",
                        params![m.id, at, format!("the claim of {by} ran out before its outcome was recorded")],
                    )?;
                }
                let attempt = tx.insert_returning_id(
                    &format!(
                        "INSERT INTO attempts (message_id, envelope_id, transport, started_at, claimed_by, lease_until) \
                         VALUES (?1, ?2, ?3, ?4, ?5, {})",
                        pg_in("?6")
                    ),
                    params![m.id, now.envelope_id, transport, at, claimer(), lease_ms],
                )?;
                return Ok(Claim::Taken(attempt, now));
            }
            tx.execute(
                "UPDATE attempts SET outcome = 'interrupted', finished_at = ?2, \
                 reason = 'flspost stopped before the outcome was known' WHERE message_id = ?1 AND outcome IS NULL",
                params![m.id, at],
            )?;
            let attempt = tx.insert_returning_id(
                "INSERT INTO attempts (message_id, envelope_id, transport, started_at) VALUES (?1, ?2, ?3, ?4)",
                params![m.id, now.envelope_id, transport, at],
            )?;
            Ok(Claim::Taken(attempt, now))
        })
    }

    /// Records the outcome of an attempt and moves the message on. Transient failures
    /// become `retry` until `max_attempts` failures, then `failed`.
    pub(crate) fn finish_attempt(
        &mut self,
        attempt_id: i64,
        m: &MessageRow,
        outcome: &AttemptOutcome,
        max_attempts: u32,
    ) -> Result<Status> {
        self.transaction(|tx| {
            let now = now_text();
            let (code, reason) = match outcome {
                AttemptOutcome::Sent => ("sent", None),
                AttemptOutcome::Transient(r) => ("transient", Some(r.as_str())),
                AttemptOutcome::Permanent(r) => ("permanent", Some(r.as_str())),
                AttemptOutcome::Unknown(r) => ("unknown", Some(r.as_str())),
            };
            // A claim another sender took over after its lease ran out (a shared journal)
            // keeps the outcome that sender recorded (`interrupted`), and the message is that
            // sender's to move now: it handed the same bytes over again.
            let ours = tx.execute(
                "UPDATE attempts SET outcome = ?2, reason = ?3, finished_at = ?4 WHERE id = ?1 AND outcome IS NULL",
                params![attempt_id, code, reason, now],
            )?;
            if ours == 0 {
                return Ok(tx.query_row("SELECT status FROM messages WHERE id = ?1", [m.id], |r| r.get(0))?);
            }
            let failures = m.send_failures + u32::from(!matches!(outcome, AttemptOutcome::Sent));
            let (status, reason) = match outcome {
                AttemptOutcome::Sent => (Status::Sent, None),
                AttemptOutcome::Transient(r) | AttemptOutcome::Unknown(r) if failures < max_attempts => {
                    (Status::Retry, Some(r.clone()))
                }
                AttemptOutcome::Transient(r) | AttemptOutcome::Unknown(r) => {
                    (Status::Failed, Some(format!("gave up after {failures} attempts; last: {r}")))
                }
                AttemptOutcome::Permanent(r) => (Status::Failed, Some(r.clone())),
            };
            // Only move a message that is still waiting (a receipt may have overtaken us).
            tx.execute(
                "UPDATE messages SET status = ?2, reason = ?3, send_failures = ?4, updated_at = ?5 \
                 WHERE id = ?1 AND status IN ('generated', 'retry')",
                params![m.id, status, reason, failures, now],
            )?;
            Ok(status)
        })
    }
}

/// How `send` settles a permanent reply it recorded provisionally
/// ([`Journal::finish_attempt_provisionally`]).
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Settle {
    /// The letter's own failure: `failed`, with the reply as the reason (what
    /// [`Journal::finish_attempt`] records for a permanent reply at once).
    Failed(String),
    /// The transport's failure: the message stays `retry`, `reason` saying why, and its
    /// count of send failures is left as it was (it was never the letter's fault).
    Held(String),
}

impl Journal {
    /// Records a permanent reply to attempt `attempt_id` while `send` has not yet decided
    /// whether the letter or its transport failed: the attempt is finished (`permanent`,
    /// with the reply: no attempt is left open, so nothing stays claimed), and the message
    /// is `retry` with `reason`, which says so. A `send` killed before it settles the message
    /// leaves it `retry`: the next `send` tries it again, as after any other interruption,
    /// and a permanent reply never handed anything over.
    pub(crate) fn finish_attempt_provisionally(
        &mut self,
        attempt_id: i64,
        m: &MessageRow,
        reply: &str,
        reason: &str,
    ) -> Result<()> {
        self.transaction(|tx| {
            let now = now_text();
            let ours = tx.execute(
                "UPDATE attempts SET outcome = 'permanent', reason = ?2, finished_at = ?3 WHERE id = ?1 AND outcome IS NULL",
                params![attempt_id, reply, now],
            )?;
            if ours == 0 {
                return Ok(());
            }
            tx.execute(
                "UPDATE messages SET status = 'retry', reason = ?2, updated_at = ?3 \
                 WHERE id = ?1 AND status IN ('generated', 'retry')",
                params![m.id, reason, now],
            )?;
            Ok(())
        })
    }

    /// Settles a message [`Self::finish_attempt_provisionally`] left `retry`, in a
    /// transaction of its own. A message no longer `retry` (a person or a receipt moved it
    /// meanwhile) is left as it is. Returns where the message stands.
    pub(crate) fn settle_permanent(&mut self, message_id: i64, how: &Settle) -> Result<Status> {
        self.transaction(|tx| {
            let now = now_text();
            match how {
                Settle::Failed(reply) => tx.execute(
                    "UPDATE messages SET status = 'failed', reason = ?2, send_failures = send_failures + 1, \
                     updated_at = ?3 WHERE id = ?1 AND status = 'retry'",
                    params![message_id, reply, now],
                )?,
                Settle::Held(reason) => tx.execute(
                    "UPDATE messages SET reason = ?2, updated_at = ?3 WHERE id = ?1 AND status = 'retry'",
                    params![message_id, reason, now],
                )?,
            };
            Ok(tx.query_row("SELECT status FROM messages WHERE id = ?1", [message_id], |r| r.get(0))?)
        })
    }

    /// Who message `m` is for, as `send` tells receivers apart: the GP's EAN for a GP
    /// letter, the patient's CPR number for the patient's (compared, never printed); `None`
    /// when its stored input does not say.
    pub(crate) fn receiver_of(&self, m: &MessageRow) -> Result<Option<String>> {
        let path = match m.kind.addressee() {
            crate::model::Addressee::Gp => "$.gp.ean",
            crate::model::Addressee::Patient => "$.patient.cpr",
        };
        Ok(self
            .conn
            .query_row(
                &format!("SELECT {} FROM inputs WHERE id = ?1", self.conn.json_text("input_json", "?2")),
                params![m.input_id, path],
                |r| r.get::<_, Option<super::db::Value>>(0),
            )
            .optional()?
            .flatten()
            .and_then(|v| match v {
                super::db::Value::Text(t) => Some(t),
                super::db::Value::Integer(i) => Some(i.to_string()),
                _ => None,
            }))
    }
}

/// Now in the database's clock, as the journal writes times (`2026-12-07T09:30:00.000Z`).
const PG_NOW: &str = "to_char(clock_timestamp() AT TIME ZONE 'UTC', 'YYYY-MM-DD\"T\"HH24:MI:SS.MS\"Z\"')";

/// The database's clock `ms` (SQL: a parameter) milliseconds from now, as the journal writes times.
fn pg_in(ms: &str) -> String {
    format!(
        "to_char((clock_timestamp() + make_interval(secs => CAST({ms} AS BIGINT) / 1000.0)) AT TIME ZONE 'UTC', \
         'YYYY-MM-DD\"T\"HH24:MI:SS.MS\"Z\"')"
    )
}

/// Who holds a claim: this host and process, as support staff read it in `journal show`.
fn claimer() -> String {
    let host = std::fs::read_to_string("/proc/sys/kernel/hostname").unwrap_or_default();
    let host = host.trim();
    format!("{} pid {}", if host.is_empty() { "a host" } else { host }, std::process::id())
}
