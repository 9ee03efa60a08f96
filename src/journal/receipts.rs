//! Applying MedCom receipts (XCTL) to the XDIS91 letters they answer: the receipts row, the
//! duplicates, and what MedCom's rule ([`crate::reliable::receipt`]) decides, carried out.
//!
//! A receipt is matched by the original envelope identifier and letter identifier. MedCom's
//! rule is that a receiver answers a duplicate exactly as it answered the original and never
//! turns a positive into a negative (or back): so a receipt seen before changes nothing, and
//! one that contradicts an earlier receipt is recorded and reported, not applied.

use super::history::letter_history;
use super::{now_text, Journal, LetterAnswer, ReceiptRow, Status};
use crate::error::Result;
use crate::formats::xdis91::receipt::{Receipt, ReceiptType};
use crate::model::Kind;
use crate::reliable::receipt::{self, Decision};
use super::db::{params, OptionalExtension};
use serde::Serialize;

/// What a receipt did, per letter it names.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, strum::IntoStaticStr)]
#[serde(tag = "outcome", rename_all = "kebab-case")]
#[strum(serialize_all = "kebab-case")]
pub enum ReceiptOutcome {
    Acknowledged {
        message_id: i64,
    },
    Rejected {
        message_id: i64,
        /// The receiver's words, masked on their way into any JSON.
        #[serde(serialize_with = "crate::support::redact::serialize_redacted_opt")]
        refuse_code: Option<String>,
        #[serde(serialize_with = "crate::support::redact::serialize_redacted_opt")]
        refuse_text: Option<String>,
    },
    /// This receipt was read before; nothing changed.
    Duplicate {
        message_id: Option<i64>,
    },
    /// The receipt agrees with the letter's state already (e.g. a second positive).
    Unchanged {
        message_id: i64,
        status: Status,
    },
    /// The receipt contradicts an earlier one; recorded, status kept.
    Conflict {
        message_id: i64,
        status: Status,
    },
    /// The letter was never handed over (still queued, refused by the transport, or superseded
    /// by a correction): a receipt can only answer what was sent. Recorded, status kept.
    NotSent {
        message_id: i64,
        status: Status,
    },
    /// The envelope was sent from this journal, but carried another letter than the one the
    /// receipt names. Recorded, status kept.
    LetterMismatch {
        message_id: i64,
        /// The letter that envelope carried.
        sent_letter_id: String,
    },
    /// No envelope with this identifier was sent from this journal.
    UnknownEnvelope,
    /// An earlier receipt with the same identifiers was of another type (positive against
    /// negative): one of the two is wrong. Not applied, not stored (the earlier one is).
    EnvelopeReused {
        message_id: Option<i64>,
        /// The receipt's own envelope identifier (the receiver's: masked as one).
        #[serde(serialize_with = "crate::support::redact::serialize_redacted_id")]
        envelope_id: String,
        /// The type the earlier receipt had (XCTL01/02/03).
        earlier_type: String,
    },
}

impl ReceiptOutcome {
    pub fn code(&self) -> &'static str {
        self.into()
    }

    /// The stable `code` of a receipt line that needs a person, `None` for one that does
    /// not: `xctl_refused` (a negative receipt: the receiver's refuse code says why), and
    /// `receipt_` with the outcome for one that could not be applied
    /// (`receipt_unknown_envelope`, ...).
    pub fn problem_code(&self) -> Option<&'static str> {
        match self {
            ReceiptOutcome::Acknowledged { .. }
            | ReceiptOutcome::Duplicate { .. }
            | ReceiptOutcome::Unchanged { .. } => None,
            ReceiptOutcome::Rejected { .. } => Some("xctl_refused"),
            ReceiptOutcome::Conflict { .. } => Some("receipt_conflict"),
            ReceiptOutcome::NotSent { .. } => Some("receipt_not_sent"),
            ReceiptOutcome::LetterMismatch { .. } => Some("receipt_letter_mismatch"),
            ReceiptOutcome::UnknownEnvelope => Some("receipt_unknown_envelope"),
            ReceiptOutcome::EnvelopeReused { .. } => Some("receipt_envelope_reused"),
        }
    }

    /// Whether an operator has to look at it.
    pub fn needs_attention(&self) -> bool {
        self.not_applied() || matches!(self, ReceiptOutcome::Rejected { .. })
    }

    /// A receipt stored but not applied, because it cannot answer a letter this journal sent:
    /// the command fails (exit 1) so that someone looks.
    pub fn not_applied(&self) -> bool {
        matches!(
            self,
            ReceiptOutcome::Conflict { .. }
                | ReceiptOutcome::NotSent { .. }
                | ReceiptOutcome::LetterMismatch { .. }
                | ReceiptOutcome::UnknownEnvelope
                | ReceiptOutcome::EnvelopeReused { .. }
        )
    }
}

/// Outcomes stored for a receipt that changed nothing because it could not (yet) answer a
/// letter: such a receipt is evaluated again when read again (the letter may have been sent
/// since), instead of being called a duplicate.
const NOT_APPLIED: [&str; 4] = ["conflict", "not-sent", "letter-mismatch", "unknown-envelope"];

impl Journal {
    /// Applies one parsed receipt; returns (original letter identifier, outcome) per letter.
    pub(crate) fn apply_receipt(&mut self, r: &Receipt, bytes: &[u8]) -> Result<Vec<(String, ReceiptOutcome)>> {
        let policy = self.resend_policy;
        // A receipt that names no letter answers the whole envelope.
        let targets: Vec<(String, Option<String>, Option<String>)> = if r.letters.is_empty() {
            vec![(String::new(), r.refuse_code.clone(), r.refuse_text.clone())]
        } else {
            r.letters
                .iter()
                .map(|l| {
                    (
                        l.letter_id.clone(),
                        l.refuse_code.clone().or_else(|| r.refuse_code.clone()),
                        l.refuse_text.clone().or_else(|| r.refuse_text.clone()),
                    )
                })
                .collect()
        };
        self.transaction(|tx| {
            let mut out = vec![];
            for (letter, code, text) in targets {
                let seen: Option<(i64, Option<i64>, String, String)> = tx
                    .query_row(
                        "SELECT id, message_id, receipt_type, outcome FROM receipts WHERE envelope_id = ?1 \
                         AND letter_id = ?2 AND original_envelope_id = ?3 AND original_letter_id = ?4",
                        params![r.envelope_id, r.letter_id, r.original_envelope_id, letter],
                        |row| Ok((row.get("id")?, row.get("message_id")?, row.get("receipt_type")?, row.get("outcome")?)),
                    )
                    .optional()?;
                // The row to update instead of inserting, for a receipt stored but not applied.
                let mut stored = None;
                if let Some((row_id, message_id, earlier_type, earlier_outcome)) = seen {
                    if earlier_type != r.receipt_type.code() {
                        let envelope_id = r.envelope_id.clone();
                        out.push((letter, ReceiptOutcome::EnvelopeReused { message_id, envelope_id, earlier_type }));
                        continue;
                    }
                    if !NOT_APPLIED.contains(&earlier_outcome.as_str()) {
                        out.push((letter, ReceiptOutcome::Duplicate { message_id }));
                        continue;
                    }
                    stored = Some(row_id);
                }
                // By envelope alone (it is unique), so that a receipt naming another letter than
                // the envelope carried is told apart from one for an envelope never sent.
                let found: Option<(i64, String)> = tx
                    .query_row(
                        "SELECT id, letter_id FROM messages WHERE kind = 'gp-xdis91' AND envelope_id = ?1",
                        params![r.original_envelope_id],
                        |row| Ok((row.get("id")?, row.get("letter_id")?)),
                    )
                    .optional()?;
                let history = match &found {
                    Some((_, letter_id)) => Some(letter_history(tx, Kind::GpXdis91, letter_id, policy)?),
                    None => None,
                };
                let sent = match (&found, &history) {
                    (Some((id, _)), Some(h)) => Some((h, h.get(*id).ok_or(super::db::DbError::NoRows)?)),
                    _ => None,
                };
                let positive = r.receipt_type == ReceiptType::Positive;
                let outcome = match receipt::decide(sent, &letter, positive) {
                    Decision::UnknownEnvelope => ReceiptOutcome::UnknownEnvelope,
                    Decision::LetterMismatch { message_id, sent_letter_id } => {
                        ReceiptOutcome::LetterMismatch { message_id, sent_letter_id }
                    }
                    Decision::NotSent { message_id, status } => ReceiptOutcome::NotSent { message_id, status },
                    Decision::Unchanged { message_id, status } => ReceiptOutcome::Unchanged { message_id, status },
                    Decision::Conflict { message_id, status } => ReceiptOutcome::Conflict { message_id, status },
                    Decision::Acknowledge { message_id: id, cancel } => {
                        tx.execute(
                            "UPDATE messages SET status = 'acknowledged', reason = NULL, updated_at = ?2 WHERE id = ?1",
                            params![id, now_text()],
                        )?;
                        // The letter arrived: a resend still queued (a regeneration made while
                        // the receipt was late) would give the GP a copy.
                        for n in cancel {
                            tx.execute(
                                "UPDATE messages SET status = 'superseded', reason = ?2, updated_at = ?3 WHERE id = ?1",
                                params![n, format!("not sent: the original (message {id}) was acknowledged"), now_text()],
                            )?;
                        }
                        ReceiptOutcome::Acknowledged { message_id: id }
                    }
                    Decision::Reject { message_id: id } => {
                        let reason = format!(
                            "{} {}: {}",
                            r.receipt_type.code(),
                            code.as_deref().unwrap_or("ikke_specificeret"),
                            text.as_deref().unwrap_or("(no refuse text)")
                        );
                        tx.execute(
                            "UPDATE messages SET status = 'rejected', reason = ?2, refuse_code = ?3, updated_at = ?4 WHERE id = ?1",
                            params![id, reason, code, now_text()],
                        )?;
                        ReceiptOutcome::Rejected { message_id: id, refuse_code: code.clone(), refuse_text: text.clone() }
                    }
                };
                let message_id = match &outcome {
                    ReceiptOutcome::Acknowledged { message_id }
                    | ReceiptOutcome::Rejected { message_id, .. }
                    | ReceiptOutcome::Unchanged { message_id, .. }
                    | ReceiptOutcome::Conflict { message_id, .. }
                    | ReceiptOutcome::NotSent { message_id, .. }
                    | ReceiptOutcome::LetterMismatch { message_id, .. } => Some(*message_id),
                    _ => None,
                };
                if let Some(row_id) = stored {
                    // The same receipt, evaluated again: its one row says what it did last.
                    tx.execute(
                        "UPDATE receipts SET message_id = ?2, outcome = ?3 WHERE id = ?1",
                        params![row_id, message_id, outcome.code()],
                    )?;
                    out.push((letter, outcome));
                    continue;
                }
                tx.execute(
                    "INSERT INTO receipts (receipt_type, envelope_id, letter_id, original_envelope_id, original_letter_id, \
                     message_id, refuse_code, refuse_text, outcome, bytes, received_at) \
                     VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11)",
                    params![
                        r.receipt_type.code(),
                        r.envelope_id,
                        r.letter_id,
                        r.original_envelope_id,
                        letter,
                        message_id,
                        code,
                        text,
                        outcome.code(),
                        bytes,
                        now_text()
                    ],
                )?;
                out.push((letter, outcome));
            }
            Ok(out)
        })
    }

    /// Every answer a letter got (receipts and Acknowledgements of any of its transmissions),
    /// in the order they came, each with the transmission it answered. A duplicate is one row
    /// (it is logged as a duplicate when read, never stored twice), so it is listed once.
    pub fn answers_to_letter(&self, kind: Kind, letter_id: &str) -> Result<Vec<LetterAnswer>> {
        let mut st = self.conn.prepare_cached(
            "SELECT r.receipt_type, r.envelope_id, r.refuse_code, r.refuse_text, r.outcome, r.received_at, \
             m.id AS message_id, m.attempt AS transmission FROM receipts r JOIN messages m ON m.id = r.message_id \
             WHERE m.kind = ?1 AND m.letter_id = ?2 ORDER BY r.id",
        )?;
        let rows = st
            .query_map(params![kind.code(), letter_id], |r| {
                Ok(LetterAnswer {
                    message_id: r.get("message_id")?,
                    transmission: r.get("transmission")?,
                    receipt: receipt_row(r)?,
                })
            })?
            .collect::<super::db::Result<Vec<_>>>()?;
        Ok(rows)
    }

    /// Receipts recorded for a message.
    pub(crate) fn receipts_for(&self, message_id: i64) -> Result<Vec<ReceiptRow>> {
        let mut st = self.conn.prepare_cached(
            "SELECT receipt_type, envelope_id, refuse_code, refuse_text, outcome, received_at FROM receipts \
             WHERE message_id = ?1 ORDER BY id",
        )?;
        let rows = st.query_map([message_id], receipt_row)?.collect::<super::db::Result<Vec<_>>>()?;
        Ok(rows)
    }
}

/// A receipt as `journal show` lists it, from a row with its columns by name.
fn receipt_row(r: &super::db::Row<'_>) -> super::db::Result<ReceiptRow> {
    Ok(ReceiptRow {
        receipt_type: r.get("receipt_type")?,
        envelope_id: r.get("envelope_id")?,
        refuse_code: r.get("refuse_code")?,
        refuse_text: r.get("refuse_text")?,
        outcome: r.get("outcome")?,
        received_at: r.get("received_at")?,
    })
}
