//! An Acknowledgement applied: the letter's history loaded for MedCom's rules
//! ([`crate::reliable::acknowledgement::decide`]) and the decision carried out (statuses, the
//! cancelled resends, a resend made).

use super::ack_outcome::{AckOutcome, Rebuild, ResendRequest};
use super::history::{history_of, read_provenance, transmissions};
use super::integrity::verified_bytes;
use super::record::insert_message;
use super::{now_text, MessageRow, NewMessage, Status};
use crate::error::{Error, Result};
use crate::formats::fhir::ack::{Acknowledgement, ResponseCode};
use crate::formats::fhir::vans::EndPoints;
use crate::model::Kind;
use crate::reliable::acknowledgement::{decide, Answer as Read, Code, Decision, Parties, Repeat};
use crate::reliable::resend::{limit_reason, Held, NotNeeded, Resend};
use super::db::{params, Connection, OptionalExtension};

/// One Acknowledgement as the evaluation reads it.
pub(super) struct Answer<'a> {
    pub(super) ack: &'a Acknowledgement,
    pub(super) envelope: Option<&'a EndPoints>,
    pub(super) receipt_type: &'a str,
    pub(super) refuse_code: Option<&'a str>,
    pub(super) refuse_text: Option<&'a str>,
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

fn code(c: ResponseCode) -> Code {
    match c {
        ResponseCode::Ok => Code::Ok,
        ResponseCode::FatalError => Code::FatalError,
        ResponseCode::TransientError => Code::TransientError,
    }
}

/// Decides what the Acknowledgement does and does it (not the receipts row); with the XCTL
/// type it was read as when it answers a letter sent as XDIS91 ([`as_xctl`]).
pub(super) fn evaluate(
    tx: &Connection,
    ans: &Answer<'_>,
    policy: crate::reliable::resend::Policy,
    rebuild: &mut Rebuild<'_>,
) -> Result<(AckOutcome, Option<&'static str>)> {
    let a = ans.ack;
    let kind = Kind::GpCareCommunication;
    let (mut h, rows) = history_of(tx, kind, &a.acknowledges, transmissions(tx, kind, &a.acknowledges)?, policy)?;
    if rows.is_empty() {
        if let Some(done) = as_xctl(tx, ans, policy)? {
            return Ok(done);
        }
    }
    let newest = h.newest_first().first().and_then(|t| rows.iter().find(|m| m.id == t.message_id));
    let mut parties = Parties::default();
    if let Some(newest) = newest {
        parties.receiver_gln = end_point(tx, newest, "ReceiverID", "gp")?;
        if ans.envelope.is_some() {
            parties.sender_gln = end_point(tx, newest, "SenderID", "sender")?;
        }
    }
    if a.answers_sent.is_some() {
        read_provenance(tx, &mut h, &rows)?;
    }
    let read = Read {
        code: code(a.code),
        sender_gln: a.sender_gln.as_deref(),
        answers_sent: a.answers_sent.as_deref(),
        envelope: ans.envelope.map(|e| (e.sender.as_str(), e.receiver.as_str())),
    };
    let repeat = if rows.is_empty() { None } else { repeat(tx, a)? };
    let now = now_text();
    let outcome = match decide(&h, &parties, &read, repeat.as_ref()) {
        Decision::UnknownLetter => AckOutcome::UnknownLetter,
        Decision::WrongSender { message_id, sender_gln, receiver_gln } => {
            AckOutcome::WrongSender { message_id, sender_gln, receiver_gln }
        }
        Decision::EnvelopeMismatch { message_id, envelope_field, envelope_gln, expected_gln } => {
            AckOutcome::EnvelopeMismatch { message_id, envelope_field, envelope_gln, expected_gln }
        }
        Decision::Unchanged { message_id, status } => AckOutcome::Unchanged { message_id, status },
        Decision::Conflict { message_id, status, contradicts } => AckOutcome::Conflict {
            message_id,
            status,
            contradicts: contradicts.map(|c| c.0),
            contradicts_status: contradicts.map(|c| c.1),
        },
        Decision::NotSent { message_id, status } => AckOutcome::NotSent { message_id, status },
        Decision::Acknowledge { message_id: id, cancel } => acknowledged(tx, id, &cancel, &now)?,
        Decision::Reject { message_id: id, cancel } => {
            tx.execute(
                "UPDATE messages SET status = 'rejected', reason = ?2, refuse_code = ?3, updated_at = ?4 WHERE id = ?1",
                params![id, ans.reason(), ans.refuse_code, now],
            )?;
            let cancelled = cancel_queued(
                tx,
                &cancel,
                &format!("not sent: the original (message {id}) was refused with fatal-error; MedCom: never resend it as it is"),
            )?;
            AckOutcome::Rejected {
                message_id: id,
                refuse_code: ans.refuse_code.map(str::to_string),
                refuse_text: ans.refuse_text.map(str::to_string),
                cancelled,
            }
        }
        Decision::Transient { message_id: id, resend } => {
            let m = rows.iter().find(|m| m.id == id).ok_or_else(|| lost(id))?;
            let outcome = make_resend(tx, m, resend, rebuild)?;
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
    };
    Ok((outcome, None))
}

/// An Acknowledgement whose `response.identifier` is no CareCommunication's but one of our
/// XDIS91 Letter/Identifiers: MedCom's conversion mapping pairs the two, and VANS may forward
/// a GP's Acknowledgement unconverted (use cases 3.1.0 §4.5.1). It is applied as the XCTL VANS
/// would have made of it ([`crate::reliable::conversion`]: ok as XCTL03, an error as XCTL02).
/// `None` when no XDIS91 letter has that identifier either.
fn as_xctl(
    tx: &Connection,
    ans: &Answer<'_>,
    policy: crate::reliable::resend::Policy,
) -> Result<Option<(AckOutcome, Option<&'static str>)>> {
    let a = ans.ack;
    let kind = Kind::GpXdis91;
    // Ours are upper-case base32; `acknowledges` was put in lower case for UUIDs.
    let letter = a.acknowledges.to_ascii_uppercase();
    let (h, rows) = history_of(tx, kind, &letter, transmissions(tx, kind, &letter)?, policy)?;
    let Some(newest) = h.newest_first().first().and_then(|t| rows.iter().find(|m| m.id == t.message_id)) else {
        return Ok(None);
    };
    let parties = Parties {
        receiver_gln: end_point(tx, newest, "ReceiverID", "gp")?,
        sender_gln: if ans.envelope.is_some() { end_point(tx, newest, "SenderID", "sender")? } else { None },
    };
    let read = Read {
        code: code(a.code),
        sender_gln: a.sender_gln.as_deref(),
        answers_sent: None,
        envelope: ans.envelope.map(|e| (e.sender.as_str(), e.receiver.as_str())),
    };
    let xctl = crate::reliable::conversion::xctl_type(read.code);
    let now = now_text();
    let outcome = match crate::reliable::conversion::decide(&h, &parties, &read) {
        Decision::UnknownLetter => return Ok(None),
        Decision::WrongSender { message_id, sender_gln, receiver_gln } => {
            AckOutcome::WrongSender { message_id, sender_gln, receiver_gln }
        }
        Decision::EnvelopeMismatch { message_id, envelope_field, envelope_gln, expected_gln } => {
            AckOutcome::EnvelopeMismatch { message_id, envelope_field, envelope_gln, expected_gln }
        }
        Decision::Unchanged { message_id, status } => AckOutcome::Unchanged { message_id, status },
        Decision::Conflict { message_id, status, .. } => {
            AckOutcome::Conflict { message_id, status, contradicts: None, contradicts_status: None }
        }
        Decision::NotSent { message_id, status } => AckOutcome::NotSent { message_id, status },
        Decision::Acknowledge { message_id: id, cancel } => acknowledged(tx, id, &cancel, &now)?,
        Decision::Reject { message_id: id, .. } => {
            // As an XCTL02 reason reads, so the work queue reads it as the XCTL it stands for.
            let reason = format!(
                "XCTL02 (a FHIR {} Acknowledgement read as the XCTL VANS converts it to) {}: {}",
                a.code.code(),
                ans.refuse_code.unwrap_or("ikke_specificeret"),
                ans.refuse_text.unwrap_or("(no text)")
            );
            tx.execute(
                "UPDATE messages SET status = 'rejected', reason = ?2, refuse_code = ?3, updated_at = ?4 WHERE id = ?1",
                params![id, reason, ans.refuse_code, now],
            )?;
            AckOutcome::Rejected {
                message_id: id,
                refuse_code: ans.refuse_code.map(str::to_string),
                refuse_text: ans.refuse_text.map(str::to_string),
                cancelled: vec![],
            }
        }
        Decision::Transient { .. } => {
            return Err(Error::Internal("an Acknowledgement read as an XCTL asked for a FHIR resend".into()))
        }
    };
    Ok(Some((outcome, Some(xctl))))
}

fn lost(id: i64) -> Error {
    Error::Internal(format!("message {id} is not among the transmissions of its letter"))
}

/// The same Acknowledgement (its MessageHeader.id) applied before in another envelope: MedCom's
/// answer to a duplicate. (Capitals: see `seen` in `apply_acknowledgement`.)
fn repeat(tx: &Connection, a: &Acknowledgement) -> Result<Option<Repeat>> {
    let earlier: Option<(String, i64)> = tx
        .query_row(
            "SELECT receipt_type, message_id FROM receipts WHERE letter_id = ?1 AND original_letter_id IN (?2, upper(?2)) \
             AND original_envelope_id = '' AND envelope_id <> ?3 AND receipt_type LIKE 'FHIR %' \
             AND message_id IS NOT NULL AND outcome NOT IN ('conflict', 'not-sent', 'unknown-letter', 'wrong-sender', \
             'envelope-mismatch') \
             ORDER BY id LIMIT 1",
            params![a.message_id, a.acknowledges, a.bundle_id],
            |r| Ok((r.get("receipt_type")?, r.get("message_id")?)),
        )
        .optional()?;
    let Some((earlier_type, message_id)) = earlier else { return Ok(None) };
    let code = earlier_type.strip_prefix("FHIR ").and_then(ResponseCode::parse).map(code);
    Ok(Some(Repeat { code, message_id, status: status_of(tx, message_id)? }))
}

/// The resend a `transient-error` on message `m` gets, as MedCom's rule decided (`resend`):
/// the one already queued, a new one made from its stored bytes, or none, with the reason.
fn make_resend(tx: &Connection, m: &MessageRow, resend: Resend, rebuild: &mut Rebuild<'_>) -> Result<AckOutcome> {
    let id = m.id;
    let held = |reason: String| Ok(AckOutcome::ResendHeld { message_id: id, reason });
    let transmission = match resend {
        Resend::Make { number } => number,
        Resend::AlreadyQueued { resend_id, number } => {
            return Ok(AckOutcome::ResendQueued { message_id: id, resend_id, transmission: number })
        }
        Resend::NotNeeded(why) => return Ok(AckOutcome::ResendNotNeeded { message_id: id, reason: not_needed(&why)? }),
        Resend::Held(why) => return held(held_reason(&why)?),
    };
    // What went is what goes again: the stored bytes, not a rebuild from the input.
    let bytes = match verified_bytes(tx, m) {
        Ok(b) => b,
        Err(Error::Damaged(why)) => return held(format!("the resend could not be made ({why}); a person must look")),
        Err(e) => return Err(e),
    };
    let built = match rebuild(&ResendRequest { message: m, bytes: &bytes, transmission }) {
        Ok(b) if b.letter_id != m.letter_id || b.transmission != transmission => {
            return held(format!(
                "the resend was built as letter {} transmission {} instead of {} {transmission}; a person must look",
                b.letter_id, b.transmission, m.letter_id
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
    let resend_id =
        insert_message(tx, m.input_id, &NewMessage::made_from(m, m.kind, &m.content_sha256, (&built).into()))?;
    Ok(AckOutcome::ResendQueued { message_id: id, resend_id, transmission: built.transmission })
}

/// Why a `transient-error` needs no resend, in the words its outcome keeps.
fn not_needed(why: &NotNeeded) -> Result<String> {
    Ok(match why {
        NotNeeded::ResendWent { resend_id, number: transmission } => {
            format!("its resend, message {resend_id} (transmission {transmission}), was handed over already")
        }
        NotNeeded::Refused { by: n, number: transmission } => format!(
            "the letter was refused: message {n} (transmission {transmission}) was rejected with fatal-error, \
             and MedCom forbids resending it as it is; only a corrected letter (`regenerate --input`) goes out"
        ),
        NotNeeded::Delivered { by: n, number: transmission } => {
            format!("the letter was delivered: message {n} (transmission {transmission}) was acknowledged")
        }
        NotNeeded::Replaced { by: n, letter_id: letter } => {
            format!("the letter was replaced by a later one, message {n} (letter {letter}); that one goes instead")
        }
        NotNeeded::LaterOnItsWay { by: n, number: transmission, queued } => {
            let how = if *queued { "is queued for `flspost send`" } else { "was handed over" };
            format!("a later transmission of the letter, message {n} (transmission {transmission}), {how}")
        }
        // A person's reasons: the rule never gives them for a transient-error.
        NotNeeded::Regenerated { .. } | NotNeeded::Queued { .. } | NotNeeded::Superseded => {
            return Err(Error::Internal(format!("a transient-error's resend was answered {why:?}")))
        }
    })
}

/// Why a `transient-error`'s resend is held, in the words its outcome keeps.
fn held_reason(why: &Held) -> Result<String> {
    Ok(match why {
        Held::ResendStuck { resend_id, status } => {
            format!("its resend, message {resend_id}, is {}; a person must look", status.code())
        }
        Held::Limit { sent, max_resends } => limit_reason(*sent, *max_resends),
        Held::TooEarly { .. } => return Err(Error::Internal(format!("a transient-error's resend was held {why:?}"))),
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
    let input: Option<String> = tx
        .query_row("SELECT input_json FROM inputs WHERE id = ?1", [m.input_id], |r| r.get("input_json"))
        .optional()?;
    Ok(input
        .and_then(|j| serde_json::from_str::<serde_json::Value>(&j).ok())
        .and_then(|v| v[party]["ean"].as_str().map(|g| g.trim().to_string()))
        .filter(|g| !g.is_empty()))
}

/// Supersedes the queued transmissions `ids` of a letter (a verdict on it came); returns them.
/// Message `id` acknowledged at `now`, and the queued transmissions `cancel` of its letter
/// then not sent.
fn acknowledged(tx: &Connection, id: i64, cancel: &[i64], now: &str) -> Result<AckOutcome> {
    tx.execute(
        "UPDATE messages SET status = 'acknowledged', reason = NULL, updated_at = ?2 WHERE id = ?1",
        params![id, now],
    )?;
    let cancelled = cancel_queued(tx, cancel, &format!("not sent: the original (message {id}) was acknowledged"))?;
    Ok(AckOutcome::Acknowledged { message_id: id, cancelled })
}

fn cancel_queued(tx: &Connection, ids: &[i64], reason: &str) -> Result<Vec<i64>> {
    for n in ids {
        tx.execute(
            "UPDATE messages SET status = 'superseded', reason = ?2, updated_at = ?3 WHERE id = ?1",
            params![n, reason, now_text()],
        )?;
    }
    Ok(ids.to_vec())
}

/// The envelope (Bundle.id) of message `message_id`, if it has one.
pub(super) fn envelope_of(conn: &Connection, message_id: Option<i64>) -> Result<Option<String>> {
    let Some(id) = message_id else { return Ok(None) };
    Ok(conn
        .query_row("SELECT envelope_id FROM messages WHERE id = ?1", [id], |r| r.get("envelope_id"))
        .optional()?
        .flatten())
}

fn status_of(conn: &Connection, id: i64) -> Result<Status> {
    Ok(conn.query_row("SELECT status FROM messages WHERE id = ?1", [id], |r| r.get("status"))?)
}
