//! What applying a FHIR Acknowledgement did ([`AckOutcome`], [`AckApplied`]), and how the
//! journal asks the caller for the resend a transient-error queues ([`Rebuild`]): the words
//! `acknowledgements.rs` (reading one in) and `answers.rs` (applying it) share.

use super::types::Made;
use super::{MessageRow, Status};
use crate::error::Result;
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
    /// The Bundle.id of the transmission it was matched to, when it was (for a letter sent as
    /// XDIS91: its Envelope/Identifier).
    pub answered_envelope: Option<String>,
    /// `XCTL03` or `XCTL02` when it answered a letter sent as XDIS91 and was applied as the
    /// XCTL VANS converts it to ([`crate::reliable::conversion`]); `None` for a CareCommunication.
    pub read_as: Option<&'static str>,
}

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
            carries: None,
        }
    }
}

/// Builds a resend; the journal calls it inside the transaction that applies the
/// Acknowledgement, so the answer and the queued resend are recorded together.
pub type Rebuild<'a> = dyn FnMut(&ResendRequest<'_>) -> Result<Rebuilt> + 'a;
