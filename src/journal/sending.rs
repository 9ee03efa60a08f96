//! The send-attempt state machine: claiming a message for a hand-over, and recording how the
//! hand-over went (the retry policy with it).

use super::sql::{message_row, MESSAGE_COLUMNS};
use super::types::*;
use super::{now_text, Journal};
use crate::error::Result;
use super::db::{params, OptionalExtension};

impl Journal {
    /// Claims message `m` for a hand-over by `transport`, checking its state again at this
    /// moment: `send` read its queue earlier, and since then a receipt may have cancelled a
    /// queued resend, a correction superseded the letter, or a fatal-error refused it.
    /// Returns the attempt's id and the message as it stands now, or `None` when it is no
    /// longer waiting. An attempt a killed process left open is closed as `interrupted`
    /// first: the bytes are the same, so sending them again is a resend of the same
    /// envelope, which MedCom receivers recognise.
    pub(crate) fn claim(&mut self, m: &MessageRow, transport: &str) -> Result<Option<(i64, MessageRow)>> {
        self.transaction(|tx| {
            let now: Option<MessageRow> = tx
                .prepare_cached(&format!(
                    "SELECT {MESSAGE_COLUMNS} FROM messages m JOIN inputs i ON i.id = m.input_id \
                     WHERE m.id = ?1 AND m.status IN ('generated', 'retry')"
                ))?
                .query_row([m.id], message_row)
                .optional()?;
            let Some(now) = now else { return Ok(None) };
            tx.execute(
                "UPDATE attempts SET outcome = 'interrupted', finished_at = ?2, \
                 reason = 'flspost stopped before the outcome was known' WHERE message_id = ?1 AND outcome IS NULL",
                params![m.id, now_text()],
            )?;
            let attempt = tx.query_row(
                "INSERT INTO attempts (message_id, envelope_id, transport, started_at) VALUES (?1, ?2, ?3, ?4) RETURNING id",
                params![m.id, now.envelope_id, transport, now_text()],
                |r| r.get(0),
            )?;
            Ok(Some((attempt, now)))
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
            tx.execute(
                "UPDATE attempts SET outcome = ?2, reason = ?3, finished_at = ?4 WHERE id = ?1",
                params![attempt_id, code, reason, now],
            )?;
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
            tx.execute(
                "UPDATE attempts SET outcome = 'permanent', reason = ?2, finished_at = ?3 WHERE id = ?1",
                params![attempt_id, reply, now],
            )?;
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
