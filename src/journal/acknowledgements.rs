//! Applying MedCom FHIR Acknowledgements (IG `medcom.fhir.dk.acknowledgement`) to the
//! CareCommunications they answer, and MedCom's resend rules.
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

use super::integrity::verified_bytes;
use super::record::insert_message;
use super::sql::{message_row, HANDED_OVER, MESSAGE_COLUMNS};
use super::{now_text, Journal, MessageRow, NewMessage, Status};
use crate::error::{Error, Result};
use crate::formats::fhir::ack::{Acknowledgement, ResponseCode};
use crate::formats::fhir::restamp;
use crate::formats::fhir::vans::EndPoints;
use crate::model::Kind;
use rusqlite::{params, Connection, OptionalExtension};
use serde::Serialize;

/// Resends of one message (one MessageHeader.id) MedCom allows. MedCom says 2 in "043
/// Reliable messaging" and 3 in rules MR5/MR6; flspost follows the stricter 2. Beyond it
/// nothing is resent automatically or by `regenerate`: a person must find out why (MedCom
/// also says resends are a person's decision).
pub const MAX_RESENDS: u32 = 2;

/// Minutes without an answer after which MedCom allows a resend (research note §3.3).
pub const RESEND_AFTER_MINUTES: u32 = 30;

/// The GP letter of message `m` was replaced: a newer letter to the GP of the same result
/// exists (a correction, `replaces`; as `regenerate` finds "an earlier letter"). Its
/// transmissions are not resent and wait for no answer: the correction is what goes.
const REPLACED: &str = "EXISTS (SELECT 1 FROM messages c WHERE c.result_id = m.result_id AND c.id > m.id \
     AND c.letter_id <> m.letter_id AND c.kind IN ('gp-xdis91', 'gp-carecommunication'))";

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
    pub attempt: u32,
}

/// A resend, built and validated, for the journal to record.
pub struct Rebuilt {
    pub letter_id: String,
    pub envelope_id: Option<String>,
    pub attempt: u32,
    pub status_code: String,
    pub bytes: Vec<u8>,
    pub sha256: String,
}

/// Builds a resend; the journal calls it inside the transaction that applies the
/// Acknowledgement, so the answer and the queued resend are recorded together.
pub type Rebuild<'a> = dyn FnMut(&ResendRequest<'_>) -> Result<Rebuilt> + 'a;

impl Journal {
    /// Applies one validated Acknowledgement (`bytes` as received, kept with it), in one
    /// transaction; `envelope`: the end points of the VANSEnvelope it came in, if it did. For
    /// a `transient-error` within the resend limit, `rebuild` makes the next transmission from
    /// the stored bytes, which is recorded in the same transaction.
    pub fn apply_acknowledgement(
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
                    |row| Ok((row.get(0)?, row.get(1)?, row.get(2)?, row.get(3)?)),
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

    /// How many transmissions of a letter were handed over (`HANDED_OVER`: accepted by the
    /// transport, or perhaps delivered by a send that was cut short): the first plus its
    /// resends, for MedCom's resend limit.
    pub fn transmissions_handed_over(&self, kind: Kind, letter_id: &str) -> Result<u32> {
        transmissions_handed_over(&self.conn, kind, letter_id)
    }

    /// When message `id`'s last successful hand-over to a transport finished.
    pub fn last_hand_over(&self, id: i64) -> Result<Option<String>> {
        Ok(self.conn.query_row(
            "SELECT MAX(finished_at) FROM attempts WHERE message_id = ?1 AND outcome = 'sent'",
            [id],
            |r| r.get(0),
        )?)
    }

    /// GP letters still `sent` (every receipt or Acknowledgement that answers one moves it on)
    /// whose last hand-over finished at or before `handed_over_by`, longest waiting first. A
    /// message already regenerated is left out: its resend is the one waiting now; so is one
    /// whose letter another transmission delivered (`acknowledged`) or the receiver refused
    /// (`rejected`, fatal-error: never resent as it is), or that a correction replaced (a newer
    /// letter to the GP of the same result): nothing to resend.
    pub fn unanswered(
        &self,
        handed_over_by: &str,
        since: Option<&str>,
        result_id: Option<&str>,
    ) -> Result<Vec<Unanswered>> {
        let mut sql = format!(
            "SELECT {MESSAGE_COLUMNS}, h.at FROM messages m JOIN inputs i ON i.id = m.input_id \
             JOIN (SELECT message_id, MAX(finished_at) AS at FROM attempts WHERE outcome = 'sent' \
                   GROUP BY message_id) h ON h.message_id = m.id \
             WHERE m.status = 'sent' AND m.kind IN ('gp-xdis91', 'gp-carecommunication') AND h.at <= :by \
             AND NOT EXISTS (SELECT 1 FROM messages n WHERE n.regenerated_from = m.id) \
             AND NOT EXISTS (SELECT 1 FROM messages d WHERE d.kind = m.kind AND d.letter_id = m.letter_id \
                             AND d.status IN ('acknowledged', 'rejected')) AND NOT {REPLACED}"
        );
        if since.is_some() {
            sql.push_str(" AND m.updated_at >= :since");
        }
        if result_id.is_some() {
            sql.push_str(" AND m.result_id = :result");
        }
        sql.push_str(" ORDER BY h.at, m.id");
        let mut st = self.conn.prepare(&sql)?;
        let params: Vec<(&str, &dyn rusqlite::ToSql)> = [
            Some((":by", &handed_over_by as &dyn rusqlite::ToSql)),
            since.as_ref().map(|s| (":since", s as &dyn rusqlite::ToSql)),
            result_id.as_ref().map(|r| (":result", r as &dyn rusqlite::ToSql)),
        ]
        .into_iter()
        .flatten()
        .collect();
        let rows = st
            .query_map(params.as_slice(), |r| Ok(Unanswered { message: message_row(r)?, handed_over_at: r.get(20)? }))?
            .collect::<rusqlite::Result<Vec<_>>>()?;
        Ok(rows)
    }
}

/// A GP letter waiting for its answer ([`Journal::unanswered`]).
#[derive(Clone, Debug, Serialize)]
pub struct Unanswered {
    #[serde(flatten)]
    pub message: MessageRow,
    /// When its last hand-over to the transport finished.
    pub handed_over_at: String,
}

fn transmissions_handed_over(conn: &Connection, kind: Kind, letter_id: &str) -> Result<u32> {
    Ok(conn.query_row(
        &format!("SELECT COUNT(*) FROM messages m WHERE m.kind = ?1 AND m.letter_id = ?2 AND {HANDED_OVER}"),
        params![kind, letter_id],
        |r| r.get(0),
    )?)
}

fn envelope_of(conn: &Connection, message_id: Option<i64>) -> Result<Option<String>> {
    let Some(id) = message_id else { return Ok(None) };
    Ok(conn.query_row("SELECT envelope_id FROM messages WHERE id = ?1", [id], |r| r.get(0)).optional()?.flatten())
}

fn status_of(conn: &Connection, id: i64) -> Result<Status> {
    Ok(conn.query_row("SELECT status FROM messages WHERE id = ?1", [id], |r| r.get(0))?)
}

/// One Acknowledgement as the evaluation reads it.
struct Answer<'a> {
    ack: &'a Acknowledgement,
    envelope: Option<&'a EndPoints>,
    receipt_type: &'a str,
    refuse_code: Option<&'a str>,
    refuse_text: Option<&'a str>,
}

impl Answer<'_> {
    /// `FHIR fatal-error MSG_…: text`, the reason a message row keeps.
    fn reason(&self) -> String {
        format!(
            "{} {}: {}",
            self.receipt_type,
            self.refuse_code.unwrap_or("(no code)"),
            self.refuse_text.unwrap_or("(no text)")
        )
    }
}

/// Decides what the Acknowledgement does and does it (not the receipts row).
fn evaluate(tx: &Connection, ans: &Answer<'_>, rebuild: &mut Rebuild<'_>) -> Result<AckOutcome> {
    let a = ans.ack;
    let mut st = tx.prepare_cached(&format!(
        "SELECT {MESSAGE_COLUMNS}, {HANDED_OVER} FROM messages m JOIN inputs i ON i.id = m.input_id \
         WHERE m.kind = 'gp-carecommunication' AND m.letter_id = ?1 ORDER BY m.attempt DESC, m.id DESC"
    ))?;
    let rows = st
        .query_map([&a.acknowledges], |r| Ok((message_row(r)?, r.get::<_, bool>(20)?)))?
        .collect::<rusqlite::Result<Vec<_>>>()?;
    let Some((newest, _)) = rows.first() else { return Ok(AckOutcome::UnknownLetter) };
    // Only the GP the letter went to answers it (every transmission went to the same one). An
    // Acknowledgement whose sender cannot be told is no answer from that GP either.
    let receiver = end_point(tx, newest, "ReceiverID", "gp")?;
    if let Some(receiver) = &receiver {
        if a.sender_gln.as_ref() != Some(receiver) {
            return Ok(AckOutcome::WrongSender {
                message_id: newest.id,
                sender_gln: a.sender_gln.clone(),
                receiver_gln: receiver.clone(),
            });
        }
    }
    // VANS delivered it from the envelope's SenderID to its ReceiverID: that must be the GP
    // (the letter's receiver, the Acknowledgement's sender) answering us (the letter's sender).
    if let Some(env) = ans.envelope {
        let expected_sender = receiver.or_else(|| a.sender_gln.clone());
        let checks = [
            ("SenderID", &env.sender, expected_sender),
            ("ReceiverID", &env.receiver, end_point(tx, newest, "SenderID", "sender")?),
        ];
        for (envelope_field, found, expected) in checks {
            if let Some(expected_gln) = expected.filter(|e| e != found) {
                return Ok(AckOutcome::EnvelopeMismatch {
                    message_id: newest.id,
                    envelope_field,
                    envelope_gln: found.clone(),
                    expected_gln,
                });
            }
        }
    }
    // The same Acknowledgement (its MessageHeader.id) read before in another envelope: MedCom's
    // answer to a duplicate. It answered the transmission it answered then, not a newer one.
    // (Capitals: see `seen` above.)
    let repeat: Option<(String, i64)> = tx
        .query_row(
            "SELECT receipt_type, message_id FROM receipts WHERE letter_id = ?1 AND original_letter_id IN (?2, upper(?2)) \
             AND original_envelope_id = '' AND envelope_id <> ?3 AND receipt_type LIKE 'FHIR %' \
             AND message_id IS NOT NULL AND outcome NOT IN ('conflict', 'not-sent', 'unknown-letter', 'wrong-sender', \
             'envelope-mismatch') \
             ORDER BY id LIMIT 1",
            params![a.message_id, a.acknowledges, a.bundle_id],
            |r| Ok((r.get(0)?, r.get(1)?)),
        )
        .optional()?;
    if let Some((earlier_type, message_id)) = repeat {
        let status = status_of(tx, message_id)?;
        return Ok(if earlier_type == ans.receipt_type {
            AckOutcome::Unchanged { message_id, status }
        } else {
            AckOutcome::Conflict { message_id, status, contradicts: None, contradicts_status: None }
        });
    }
    let handed: Vec<&MessageRow> = rows.iter().filter(|r| r.1).map(|r| &r.0).collect();
    // The transmission whose Provenance time the Acknowledgement's copy carries, else the
    // newest handed over.
    let Some(m) = answered(tx, a, &handed)?.or(handed.first().copied()) else {
        return Ok(AckOutcome::NotSent { message_id: newest.id, status: newest.status });
    };
    let (id, status) = (m.id, m.status);
    if status == Status::Superseded {
        return Ok(AckOutcome::NotSent { message_id: id, status });
    }
    // The answer this transmission has already, if any.
    let earlier = match status {
        Status::Acknowledged => Some(ResponseCode::Ok),
        Status::Rejected => Some(ResponseCode::FatalError),
        Status::Failed if transient_applied(tx, id)? => Some(ResponseCode::TransientError),
        _ => None,
    };
    match earlier {
        Some(c) if c == a.code => return Ok(AckOutcome::Unchanged { message_id: id, status }),
        // A transient-error is no verdict on the letter ("wait and resend"): an ok or a
        // fatal-error that follows says how it went after all, and the queued resend would
        // only give the GP the letter twice, or send again what was refused.
        Some(ResponseCode::TransientError) => {}
        Some(_) => {
            return Ok(AckOutcome::Conflict { message_id: id, status, contradicts: None, contradicts_status: None })
        }
        None => {}
    }
    // All transmissions are one message (one MessageHeader.id), and MedCom receivers never turn
    // a verdict on it around: an `ok` when another transmission was refused, or a
    // `fatal-error` when another was delivered, is for a person, not a second verdict.
    let opposite = match a.code {
        ResponseCode::Ok => Some(Status::Rejected),
        ResponseCode::FatalError => Some(Status::Acknowledged),
        ResponseCode::TransientError => None,
    };
    if let Some(other) = opposite.and_then(|o| rows.iter().map(|r| &r.0).find(|r| r.id != id && r.status == o)) {
        return Ok(AckOutcome::Conflict {
            message_id: id,
            status,
            contradicts: Some(other.id),
            contradicts_status: Some(other.status),
        });
    }
    let now = now_text();
    Ok(match a.code {
        ResponseCode::Ok => {
            tx.execute(
                "UPDATE messages SET status = 'acknowledged', reason = NULL, updated_at = ?2 WHERE id = ?1",
                params![id, now],
            )?;
            // Delivered: a resend still queued (made while the answer was late) would give the
            // GP the letter twice.
            let cancelled = cancel_queued(tx, id, &format!("not sent: the original (message {id}) was acknowledged"))?;
            AckOutcome::Acknowledged { message_id: id, cancelled }
        }
        ResponseCode::FatalError => {
            tx.execute(
                "UPDATE messages SET status = 'rejected', reason = ?2, refuse_code = ?3, updated_at = ?4 WHERE id = ?1",
                params![id, ans.reason(), ans.refuse_code, now],
            )?;
            let cancelled = cancel_queued(
                tx,
                id,
                &format!("not sent: the original (message {id}) was refused with fatal-error; MedCom: never resend it as it is"),
            )?;
            AckOutcome::Rejected {
                message_id: id,
                refuse_code: ans.refuse_code.map(str::to_string),
                refuse_text: ans.refuse_text.map(str::to_string),
                cancelled,
            }
        }
        ResponseCode::TransientError => {
            let outcome = resend(tx, id, rebuild)?;
            let then = match &outcome {
                AckOutcome::ResendQueued { resend_id, .. } => format!("resend queued as message {resend_id}"),
                AckOutcome::ResendHeld { reason, .. } => format!("no resend: {reason}"),
                AckOutcome::ResendNotNeeded { reason, .. } => format!("no resend needed: {reason}"),
                _ => String::new(),
            };
            tx.execute(
                "UPDATE messages SET status = 'failed', reason = ?2, refuse_code = ?3, updated_at = ?4 WHERE id = ?1",
                params![id, format!("{}; {then}", ans.reason()), ans.refuse_code, now],
            )?;
            outcome
        }
    })
}

/// A GLN of message `m`'s end points: its stored envelope's `element` (`ReceiverID`: the GP
/// it was sent to; `SenderID`: us), else (bytes damaged or without one) its input's
/// `<party>.ean` (`gp`, `sender`); `None` when neither says.
fn end_point(tx: &Connection, m: &MessageRow, element: &str, party: &str) -> Result<Option<String>> {
    let from_envelope = match verified_bytes(tx, m) {
        Ok(b) => crate::formats::fhir::dom::Document::parse(&b)
            .ok()
            .and_then(|d| d.root().child(element).map(|r| r.text().trim().to_string()))
            .filter(|g| !g.is_empty()),
        Err(Error::Damaged(_)) => None,
        Err(e) => return Err(e),
    };
    if from_envelope.is_some() {
        return Ok(from_envelope);
    }
    let input: Option<String> =
        tx.query_row("SELECT input_json FROM inputs WHERE id = ?1", [m.input_id], |r| r.get(0)).optional()?;
    Ok(input
        .and_then(|j| serde_json::from_str::<serde_json::Value>(&j).ok())
        .and_then(|v| v[party]["ean"].as_str().map(|g| g.trim().to_string()))
        .filter(|g| !g.is_empty()))
}

/// The transmission among `handed` (newest first) that Acknowledgement `a` answers by its
/// copy of the message's Provenance: the one whose own Provenance time (from its stored
/// bytes) is the same instant. `None` when the copy is absent or matches none. A transmission
/// whose stored bytes are damaged cannot be told, so is not matched.
fn answered<'m>(tx: &Connection, a: &Acknowledgement, handed: &[&'m MessageRow]) -> Result<Option<&'m MessageRow>> {
    let Some(sent) = a.answers_sent.as_deref() else { return Ok(None) };
    for &m in handed {
        let bytes = match verified_bytes(tx, m) {
            Ok(b) => b,
            Err(Error::Damaged(_)) => continue,
            Err(e) => return Err(e),
        };
        let stamps = restamp::envelope_stamps(&bytes);
        if stamps.is_ok_and(|s| s.provenance.iter().any(|(o, r)| same_instant(o, sent) || same_instant(r, sent))) {
            return Ok(Some(m));
        }
    }
    Ok(None)
}

/// Whether two FHIR times are the same instant (a receiver may write ours in another offset).
fn same_instant(a: &str, b: &str) -> bool {
    match (chrono::DateTime::parse_from_rfc3339(a), chrono::DateTime::parse_from_rfc3339(b)) {
        (Ok(x), Ok(y)) => x == y,
        _ => a == b,
    }
}

/// Whether a `transient-error` was applied to message `id` (so its `failed` is that answer).
fn transient_applied(tx: &Connection, id: i64) -> Result<bool> {
    Ok(tx.query_row(
        "SELECT EXISTS (SELECT 1 FROM receipts WHERE message_id = ?1 AND receipt_type = 'FHIR transient-error' \
         AND outcome IN ('resend-queued', 'resend-held', 'resend-not-needed'))",
        [id],
        |r| r.get(0),
    )?)
}

/// Supersedes the queued transmissions of message `id`'s letter; returns their ids.
fn cancel_queued(tx: &Connection, id: i64, reason: &str) -> Result<Vec<i64>> {
    let ids = tx
        .prepare_cached(
            "SELECT n.id FROM messages n JOIN messages m ON m.id = ?1 WHERE n.kind = m.kind \
             AND n.letter_id = m.letter_id AND n.id <> m.id AND n.status IN ('generated', 'retry') ORDER BY n.id",
        )?
        .query_map([id], |r| r.get(0))?
        .collect::<rusqlite::Result<Vec<i64>>>()?;
    for n in &ids {
        tx.execute(
            "UPDATE messages SET status = 'superseded', reason = ?2, updated_at = ?3 WHERE id = ?1",
            params![n, reason, now_text()],
        )?;
    }
    Ok(ids)
}

/// The resend a `transient-error` on message `id` asks for: the one already queued, a new
/// one within MedCom's limit, or none, with the reason.
fn resend(tx: &Connection, id: i64, rebuild: &mut Rebuild<'_>) -> Result<AckOutcome> {
    let held = |reason: String| Ok(AckOutcome::ResendHeld { message_id: id, reason });
    // `regenerate` may have queued one already (after 30 minutes without an answer).
    let existing: Option<(i64, Status, u32)> = tx
        .query_row(
            "SELECT id, status, attempt FROM messages WHERE regenerated_from = ?1 ORDER BY id LIMIT 1",
            [id],
            |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)),
        )
        .optional()?;
    // Its own resend, when that is neither queued nor on its way: unless a later transmission
    // of the letter is (below), a person must look.
    let mut stuck = None;
    if let Some((resend_id, status, transmission)) = existing {
        match status {
            Status::Generated | Status::Retry => {
                return Ok(AckOutcome::ResendQueued { message_id: id, resend_id, transmission })
            }
            // A late answer: the resend went already, and its own answer is the one awaited.
            Status::Sent | Status::Acknowledged => {
                return Ok(AckOutcome::ResendNotNeeded {
                    message_id: id,
                    reason: format!(
                        "its resend, message {resend_id} (transmission {transmission}), was handed over already"
                    ),
                })
            }
            _ => stuck = Some(format!("its resend, message {resend_id}, is {}; a person must look", status.code())),
        }
    }
    let m = tx.query_row(
        &format!("SELECT {MESSAGE_COLUMNS} FROM messages m JOIN inputs i ON i.id = m.input_id WHERE m.id = ?1"),
        [id],
        message_row,
    )?;
    // Answered for good by another transmission: delivered (acknowledged), or refused with
    // fatal-error (rejected), which MedCom forbids resending as it is. Nothing to resend.
    let answered: Option<(i64, u32, Status)> = tx
        .query_row(
            "SELECT id, attempt, status FROM messages WHERE kind = ?1 AND letter_id = ?2 \
             AND status IN ('acknowledged', 'rejected') ORDER BY status = 'rejected' DESC, id LIMIT 1",
            params![m.kind, m.letter_id],
            |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)),
        )
        .optional()?;
    if let Some((n, transmission, status)) = answered {
        let reason = if status == Status::Rejected {
            format!(
                "the letter was refused: message {n} (transmission {transmission}) was rejected with fatal-error, \
                 and MedCom forbids resending it as it is; only a corrected letter (`regenerate --input`) goes out"
            )
        } else {
            format!("the letter was delivered: message {n} (transmission {transmission}) was acknowledged")
        };
        return Ok(AckOutcome::ResendNotNeeded { message_id: id, reason });
    }
    // Replaced by a correction: resending the old letter would give the GP what was corrected.
    let correction: Option<(i64, String)> = tx
        .query_row(
            // The newest of those `REPLACED` finds.
            "SELECT c.id, c.letter_id FROM messages m JOIN messages c ON c.result_id = m.result_id \
             AND c.id > m.id AND c.letter_id <> m.letter_id AND c.kind IN ('gp-xdis91', 'gp-carecommunication') \
             WHERE m.id = ?1 ORDER BY c.id DESC LIMIT 1",
            [id],
            |r| Ok((r.get(0)?, r.get(1)?)),
        )
        .optional()?;
    if let Some((n, letter)) = correction {
        return Ok(AckOutcome::ResendNotNeeded {
            message_id: id,
            reason: format!(
                "the letter was replaced by a later one, message {n} (letter {letter}); that one goes instead"
            ),
        });
    }
    // A later transmission (a resend of a resend: T3 made for T2's transient-error, when this is
    // T1) is queued, or was handed over and is not itself waiting for a resend: the letter is
    // on its way, and another transmission would only give the GP it twice.
    let later: Option<(i64, u32, Status)> = tx
        .query_row(
            &format!(
                "SELECT m.id, m.attempt, m.status FROM messages m JOIN messages o ON o.id = ?1 \
                 WHERE m.kind = o.kind AND m.letter_id = o.letter_id AND m.attempt > o.attempt \
                 AND (m.status IN ('generated', 'retry', 'sent', 'acknowledged') \
                      OR (m.status = 'failed' AND {HANDED_OVER} AND NOT EXISTS (SELECT 1 FROM receipts r \
                          WHERE r.message_id = m.id AND r.receipt_type = 'FHIR transient-error' \
                          AND r.outcome IN ('resend-queued', 'resend-held', 'resend-not-needed')))) \
                 ORDER BY m.attempt DESC, m.id DESC LIMIT 1"
            ),
            [id],
            |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)),
        )
        .optional()?;
    if let Some((n, transmission, status)) = later {
        let how = match status {
            Status::Generated | Status::Retry => "is queued for `flspost send`",
            _ => "was handed over",
        };
        return Ok(AckOutcome::ResendNotNeeded {
            message_id: id,
            reason: format!("a later transmission of the letter, message {n} (transmission {transmission}), {how}"),
        });
    }
    if let Some(reason) = stuck {
        return held(reason);
    }
    let sent = transmissions_handed_over(tx, m.kind, &m.letter_id)?;
    if sent > MAX_RESENDS {
        return held(limit_reason(sent));
    }
    // What went is what goes again: the stored bytes, not a rebuild from the input.
    let bytes = match verified_bytes(tx, &m) {
        Ok(b) => b,
        Err(Error::Damaged(why)) => return held(format!("the resend could not be made ({why}); a person must look")),
        Err(e) => return Err(e),
    };
    let attempt: u32 = tx.query_row(
        "SELECT COALESCE(MAX(attempt), 0) + 1 FROM messages WHERE kind = ?1 AND letter_id = ?2",
        params![m.kind, m.letter_id],
        |r| r.get(0),
    )?;
    let built = match rebuild(&ResendRequest { message: &m, bytes: &bytes, attempt }) {
        Ok(b) if b.letter_id != m.letter_id || b.attempt != attempt => {
            return held(format!(
                "the resend was built as letter {} transmission {} instead of {} {attempt}; a person must look",
                b.letter_id, b.attempt, m.letter_id
            ))
        }
        Ok(b) => b,
        // The Acknowledgement is still recorded: the letter is `failed` with why.
        Err(e) => {
            return held(format!(
                "the resend could not be made ({}); a person must look",
                e.to_string().replace('\n', " ")
            ))
        }
    };
    let resend_id = insert_message(
        tx,
        m.input_id,
        &NewMessage {
            result_id: &m.result_id,
            kind: m.kind,
            content_sha256: &m.content_sha256,
            letter_revision: m.letter_revision,
            letter_id: &built.letter_id,
            envelope_id: built.envelope_id.as_deref(),
            attempt: built.attempt,
            status_code: &built.status_code,
            bytes: &built.bytes,
            sha256: &built.sha256,
            regenerated_from: Some(m.id),
            replaces: m.replaces,
        },
    )?;
    Ok(AckOutcome::ResendQueued { message_id: id, resend_id, transmission: built.attempt })
}

/// Why a letter sent `sent` times may not be resent again.
pub fn limit_reason(sent: u32) -> String {
    format!(
        "it was sent {sent} times, and MedCom allows {MAX_RESENDS} resends of one message (the stricter of \
         \"043 Reliable messaging\" and MR5/MR6); a person must look (ask the receiver), and only a corrected \
         letter (`regenerate --input`) goes out as a new message"
    )
}
