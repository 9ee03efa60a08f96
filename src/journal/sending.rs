//! The send-attempt state machine: claiming a message for a hand-over, and recording how the
//! hand-over went (the retry policy with it).

use super::sql::{message_row, MESSAGE_COLUMNS};
use super::types::*;
use super::{now_text, Journal};
use crate::error::Result;
use rusqlite::{params, OptionalExtension};

impl Journal {
    /// Claims message `m` for a hand-over by `transport`, checking its state again at this
    /// moment: `send` read its queue earlier, and since then a receipt may have cancelled a
    /// queued resend, a correction superseded the letter, or a fatal-error refused it.
    /// Returns the attempt's id and the message as it stands now, or `None` when it is no
    /// longer waiting. An attempt a killed process left open is closed as `interrupted`
    /// first: the bytes are the same, so sending them again is a resend of the same
    /// envelope, which MedCom receivers recognise.
    pub fn claim(&mut self, m: &MessageRow, transport: &str) -> Result<Option<(i64, MessageRow)>> {
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
            tx.execute(
                "INSERT INTO attempts (message_id, envelope_id, transport, started_at) VALUES (?1, ?2, ?3, ?4)",
                params![m.id, now.envelope_id, transport, now_text()],
            )?;
            Ok(Some((tx.last_insert_rowid(), now)))
        })
    }

    /// Records the outcome of an attempt and moves the message on. Transient failures
    /// become `retry` until `max_attempts` failures, then `failed`.
    pub fn finish_attempt(
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
