//! Applying MedCom FHIR Acknowledgements (IG `medcom.fhir.dk.acknowledgement`) to the
//! CareCommunications they answer: what an Acknowledgement did ([`AckOutcome`]), the receipts
//! row it is kept in, and the duplicates that change nothing. What it does to the letter is
//! MedCom's rule ([`crate::reliable::acknowledgement`]), loaded and applied in `answers.rs`.
//!
//! An Acknowledgement names the letter by `response.identifier`, our `MessageHeader.id`, which
//! every transmission of one letter shares. Which transmission it answers, its copy of that
//! message's Provenance says: each transmission has its own Provenance time (read from its
//! stored bytes). Without that copy, or when its time is no transmission's, it is taken to
//! answer the newest transmission that was handed over. Each transmission keeps its own
//! status; the letter is delivered once one is `acknowledged`, and nothing resends it after
//! that. As for XCTL receipts (`receipts.rs`): one read before changes nothing, one
//! that contradicts an earlier answer is recorded and reported, not applied, and one that
//! cannot answer a letter this journal sent is stored and evaluated again when read again.
//!
//! They share the `receipts` table: `receipt_type` `FHIR <code>`, own identifiers the Ack's
//! Bundle.id (`envelope_id`) and MessageHeader.id (`letter_id`), `original_letter_id` the
//! `response.identifier`, and `original_envelope_id` empty: an Ack does not name the Bundle.id
//! it answers.
//!
//! flspost never acknowledges an Acknowledgement (MedCom rules KR1/KR2): nothing is sent back.

use super::ack_outcome::{AckApplied, AckOutcome, Rebuild};
use super::answers::{envelope_of, evaluate, Answer};
use super::{now_text, Journal};
use crate::error::Result;
use crate::formats::fhir::ack::Acknowledgement;
use crate::formats::fhir::vans::EndPoints;
use super::db::{params, OptionalExtension};

/// Stored outcomes of an Acknowledgement that changed nothing because it could not (yet)
/// answer a letter: read again, it is evaluated again instead of being a duplicate.
const NOT_APPLIED: [&str; 5] = ["conflict", "not-sent", "unknown-letter", "wrong-sender", "envelope-mismatch"];

impl Journal {
    /// Applies one validated Acknowledgement (`bytes` as received, kept with it), in one
    /// transaction; `envelope`: the end points of the VANSEnvelope it came in, if it did. For
    /// a `transient-error` within the resend limit, `rebuild` makes the next transmission from
    /// the stored bytes, which is recorded in the same transaction.
    pub(crate) fn apply_acknowledgement(
        &mut self,
        a: &Acknowledgement,
        envelope: Option<&EndPoints>,
        bytes: &[u8],
        rebuild: &mut Rebuild<'_>,
    ) -> Result<AckApplied> {
        let receipt_type = format!("FHIR {}", a.code.code());
        let (refuse_code, refuse_text) = a.refusal();
        let policy = self.resend_policy;
        self.transaction(|tx| {
            // `acknowledges` is lower case (`ack::read`), and stored so; a row stored as
            // received before it was, in capitals, is found too (index `receipts_original_letter`
            // either way).
            let seen: Option<(i64, Option<i64>, String, String)> = tx
                .query_row(
                    "SELECT id, message_id, receipt_type, outcome FROM receipts WHERE envelope_id = ?1 \
                     AND letter_id = ?2 AND original_envelope_id = '' AND original_letter_id IN (?3, upper(?3))",
                    params![a.bundle_id, a.message_id, a.acknowledges],
                    |row| Ok((row.get("id")?, row.get("message_id")?, row.get("receipt_type")?, row.get("outcome")?)),
                )
                .optional()?;
            // The row to update instead of inserting, for an Ack stored but not applied.
            let mut stored = None;
            if let Some((row_id, message_id, earlier_type, earlier_outcome)) = seen {
                let answered_envelope = envelope_of(tx, message_id)?;
                if earlier_type != receipt_type {
                    let envelope_id = a.bundle_id.clone();
                    let outcome = AckOutcome::EnvelopeReused { message_id, envelope_id, earlier_type };
                    return Ok(AckApplied { outcome, answered_envelope, read_as: None });
                }
                if !NOT_APPLIED.contains(&earlier_outcome.as_str()) {
                    let outcome = AckOutcome::Duplicate { message_id };
                    return Ok(AckApplied { outcome, answered_envelope, read_as: None });
                }
                stored = Some(row_id);
            }
            let answer = Answer {
                ack: a,
                envelope,
                receipt_type: &receipt_type,
                refuse_code: refuse_code.as_deref(),
                refuse_text: refuse_text.as_deref(),
            };
            let (outcome, read_as) = evaluate(tx, &answer, policy, rebuild)?;
            let message_id = outcome.message_id();
            if let Some(row_id) = stored {
                // The same Acknowledgement, evaluated again: its one row says what it did last.
                tx.execute(
                    "UPDATE receipts SET message_id = ?2, outcome = ?3 WHERE id = ?1",
                    params![row_id, message_id, outcome.code()],
                )?;
            } else {
                tx.execute(
                    "INSERT INTO receipts (receipt_type, envelope_id, letter_id, original_envelope_id, \
                     original_letter_id, message_id, refuse_code, refuse_text, outcome, bytes, received_at) \
                     VALUES (?1, ?2, ?3, '', ?4, ?5, ?6, ?7, ?8, ?9, ?10)",
                    params![
                        receipt_type,
                        a.bundle_id,
                        a.message_id,
                        a.acknowledges,
                        message_id,
                        refuse_code,
                        refuse_text,
                        outcome.code(),
                        bytes,
                        now_text()
                    ],
                )?;
            }
            Ok(AckApplied { answered_envelope: envelope_of(tx, message_id)?, outcome, read_as })
        })
    }
}
