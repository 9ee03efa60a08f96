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

use super::answers::{envelope_of, evaluate, Answer};
use super::types::Made;
use super::{now_text, Journal, MessageRow, Status};
use crate::error::Result;
use crate::formats::fhir::ack::Acknowledgement;
use crate::formats::fhir::vans::EndPoints;
use rusqlite::{params, OptionalExtension};
use serde::Serialize;

/// What an Acknowledgement did to the letter it names.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, strum::IntoStaticStr)]
#[serde(tag = "outcome", rename_all = "kebab-case")]
#[strum(serialize_all = "kebab-case")]
pub enum AckOutcome {
    /// `ok`: delivered.
    Acknowledged {
        message_id: i64,
        /// Resends of the same letter still queued, now superseded (the GP has it).
        #[serde(skip_serializing_if = "Vec::is_empty")]
        cancelled: Vec<i64>,
    },
    /// `fatal-error`: refused, with the OperationOutcome's code and text.
    Rejected {
        message_id: i64,
        refuse_code: Option<String>,
        refuse_text: Option<String>,
        /// Resends of the same letter still queued, now superseded (MedCom: never resend
        /// a message a receiver refused as it is).
        #[serde(skip_serializing_if = "Vec::is_empty")]
        cancelled: Vec<i64>,
    },
    /// `transient-error`: the transmission is `failed`, and `resend_id` (same MessageHeader.id,
    /// new Bundle.id) waits for `send`.
    ResendQueued {
        message_id: i64,
        resend_id: i64,
        /// The resend's transmission number.
        transmission: u32,
    },
    /// `transient-error`, but no resend was queued (the resend limit, or it could not be
    /// made): the transmission is `failed` and a person must look.
    ResendHeld { message_id: i64, reason: String },
    /// `transient-error` for a transmission that needs no resend of its own: its resend was
    /// handed over already (the answer came late), or another transmission of the letter was
    /// acknowledged. The transmission is `failed`; nothing is queued, nobody need look.
    ResendNotNeeded { message_id: i64, reason: String },
    /// This Acknowledgement was read before; nothing changed.
    Duplicate { message_id: Option<i64> },
    /// The same answer again: the same Acknowledgement in a new envelope (MedCom: a receiver
    /// answers a duplicate with the same Ack content in a new envelope), or the answer the
    /// transmission has already.
    Unchanged { message_id: i64, status: Status },
    /// Contradicts an earlier answer; recorded, status kept.
    Conflict {
        message_id: i64,
        status: Status,
        /// Another transmission of the letter, whose opposite verdict this one contradicts;
        /// `None` when it contradicts this transmission's own answer.
        #[serde(skip_serializing_if = "Option::is_none")]
        contradicts: Option<i64>,
        /// That transmission's status: `acknowledged` or `rejected`.
        #[serde(skip_serializing_if = "Option::is_none")]
        contradicts_status: Option<Status>,
    },
    /// No transmission of the letter was handed over, or it was superseded. Recorded, status
    /// kept.
    NotSent { message_id: i64, status: Status },
    /// No CareCommunication with that MessageHeader.id was generated in this journal.
    UnknownLetter,
    /// The Acknowledgement's sender (its MessageHeader.sender's GLN) is not the GP the letter
    /// was sent to (the envelope's ReceiverID, else the input's `gp.ean`), or it names no
    /// sender GLN at all: only the receiver answers a letter. Recorded, not applied; evaluated
    /// again when read again.
    WrongSender {
        message_id: i64,
        /// The GLN the Acknowledgement names as its sender; `None` when it names none.
        sender_gln: Option<String>,
        /// The GLN the letter was sent to.
        receiver_gln: String,
    },
    /// The VANSEnvelope it came in disagrees with the letter: its `SenderID` is not the GP the
    /// letter was sent to (which the Acknowledgement names as its sender), or its `ReceiverID`
    /// is not the letter's sender (us; the stored envelope's `SenderID`, else the input's
    /// `sender.ean`). What VANS delivered and what the Acknowledgement says must agree.
    /// Recorded, not applied; evaluated again when read again.
    EnvelopeMismatch {
        message_id: i64,
        /// `SenderID` or `ReceiverID`.
        envelope_field: &'static str,
        /// The GLN the envelope names there.
        envelope_gln: String,
        /// The GLN it should be.
        expected_gln: String,
    },
    /// An earlier Acknowledgement with the same Bundle.id and MessageHeader.id gave another
    /// code: one of the two is wrong. Neither applied nor stored (the earlier one is).
    EnvelopeReused {
        message_id: Option<i64>,
        /// The Acknowledgement's own Bundle.id.
        envelope_id: String,
        /// The type the earlier one was stored as (`FHIR ok`, ...).
        earlier_type: String,
    },
}

impl AckOutcome {
    pub fn code(&self) -> &'static str {
        self.into()
    }

    /// The stable `code` of an Acknowledgement's line that needs a person, `None` for one
    /// that does not (a queued resend, or one not needed, is no one's problem):
    /// `fhir_fatal` (a `fatal-error`: its issue code says why), `fhir_resend_held` (a
    /// `transient-error` whose resend flspost may not or could not make), and `receipt_`
    /// with the outcome for one that could not be applied (`receipt_wrong_sender`, ...).
    pub fn problem_code(&self) -> Option<&'static str> {
        match self {
            AckOutcome::Acknowledged { .. }
            | AckOutcome::ResendQueued { .. }
            | AckOutcome::ResendNotNeeded { .. }
            | AckOutcome::Duplicate { .. }
            | AckOutcome::Unchanged { .. } => None,
            AckOutcome::Rejected { .. } => Some("fhir_fatal"),
            AckOutcome::ResendHeld { .. } => Some("fhir_resend_held"),
            AckOutcome::Conflict { .. } => Some("receipt_conflict"),
            AckOutcome::NotSent { .. } => Some("receipt_not_sent"),
            AckOutcome::UnknownLetter => Some("receipt_unknown_letter"),
            AckOutcome::WrongSender { .. } => Some("receipt_wrong_sender"),
            AckOutcome::EnvelopeMismatch { .. } => Some("receipt_envelope_mismatch"),
            AckOutcome::EnvelopeReused { .. } => Some("receipt_envelope_reused"),
        }
    }

    /// Whether a person has to look at it.
    pub fn needs_attention(&self) -> bool {
        self.not_applied() || matches!(self, AckOutcome::Rejected { .. })
    }

    /// The command fails (exit 1) so that someone looks: the Acknowledgement could not be
    /// applied, or it asked for a resend flspost may not or could not make.
    pub fn not_applied(&self) -> bool {
        matches!(
            self,
            AckOutcome::ResendHeld { .. }
                | AckOutcome::Conflict { .. }
                | AckOutcome::NotSent { .. }
                | AckOutcome::UnknownLetter
                | AckOutcome::WrongSender { .. }
                | AckOutcome::EnvelopeMismatch { .. }
                | AckOutcome::EnvelopeReused { .. }
        )
    }

    pub fn message_id(&self) -> Option<i64> {
        match self {
            AckOutcome::Acknowledged { message_id, .. }
            | AckOutcome::Rejected { message_id, .. }
            | AckOutcome::ResendQueued { message_id, .. }
            | AckOutcome::ResendHeld { message_id, .. }
            | AckOutcome::ResendNotNeeded { message_id, .. }
            | AckOutcome::Unchanged { message_id, .. }
            | AckOutcome::Conflict { message_id, .. }
            | AckOutcome::NotSent { message_id, .. }
            | AckOutcome::WrongSender { message_id, .. }
            | AckOutcome::EnvelopeMismatch { message_id, .. } => Some(*message_id),
            AckOutcome::Duplicate { message_id } | AckOutcome::EnvelopeReused { message_id, .. } => *message_id,
            AckOutcome::UnknownLetter => None,
        }
    }
}

/// What applying one Acknowledgement did.
#[derive(Clone, Debug)]
pub struct AckApplied {
    pub outcome: AckOutcome,
    /// The Bundle.id of the transmission it was matched to, when it was.
    pub answered_envelope: Option<String>,
}

/// Stored outcomes of an Acknowledgement that changed nothing because it could not (yet)
/// answer a letter: read again, it is evaluated again instead of being a duplicate.
const NOT_APPLIED: [&str; 5] = ["conflict", "not-sent", "unknown-letter", "wrong-sender", "envelope-mismatch"];

/// A transmission to send again, for a `transient-error`.
pub struct ResendRequest<'a> {
    pub message: &'a MessageRow,
    /// Its stored bytes (the VANSEnvelope that went), checked against their SHA-256: a
    /// resend is the same message, restamped (`fhir::restamp`), never rebuilt from the input.
    pub bytes: &'a [u8],
    /// The transmission number the resend gets.
    pub transmission: u32,
}

/// A resend, built and validated, for the journal to record.
pub struct Rebuilt {
    pub letter_id: String,
    pub envelope_id: Option<String>,
    pub transmission: u32,
    pub status_code: String,
    pub bytes: Vec<u8>,
    pub sha256: String,
}

impl<'a> From<&'a Rebuilt> for Made<'a> {
    fn from(b: &'a Rebuilt) -> Made<'a> {
        Made {
            letter_id: &b.letter_id,
            envelope_id: b.envelope_id.as_deref(),
            transmission: b.transmission,
            status_code: &b.status_code,
            bytes: &b.bytes,
            sha256: &b.sha256,
        }
    }
}

/// Builds a resend; the journal calls it inside the transaction that applies the
/// Acknowledgement, so the answer and the queued resend are recorded together.
pub type Rebuild<'a> = dyn FnMut(&ResendRequest<'_>) -> Result<Rebuilt> + 'a;

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
                    return Ok(AckApplied { outcome, answered_envelope });
                }
                if !NOT_APPLIED.contains(&earlier_outcome.as_str()) {
                    return Ok(AckApplied { outcome: AckOutcome::Duplicate { message_id }, answered_envelope });
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
            let outcome = evaluate(tx, &answer, rebuild)?;
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
            Ok(AckApplied { answered_envelope: envelope_of(tx, message_id)?, outcome })
        })
    }
}
