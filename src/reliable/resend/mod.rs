//! MedCom's resend rule, once: whether a transmission of a letter is sent again, asked by a
//! person (`regenerate`) or by the receiver (a `transient-error` Acknowledgement), and what
//! changed since a decision was made on an earlier reading.
//!
//! Each asker checks the rules in its own order (so that each says the first reason that
//! applies to it, as it always has); the rules themselves are the same.

use super::history::{LetterHistory, Transmission};
use crate::model::{Kind, Status};
use chrono::{DateTime, Utc};

mod policy;
pub use policy::{Policy, Unanswered, Xdis91Positive};

/// Who asks for the resend.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Asked {
    /// A person, at `now`, for the letter as it is (`regenerate` without a corrected input).
    Regenerate { now: DateTime<Utc> },
    /// A person with a corrected input (`regenerate --input`): only the rules that forbid
    /// touching the transmission at all apply (it was regenerated already, is still queued,
    /// was superseded, or a later letter replaced it). A correction that turns out to change
    /// nothing in the letter is a plain resend, for which [`Asked::Regenerate`] is asked next.
    Correction,
    /// The receiver, by a `transient-error` Acknowledgement of the transmission.
    TransientError,
}

/// The answer.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Resend {
    /// Make transmission `number` of the letter (for [`Asked::Correction`]: the number a plain
    /// resend would get).
    Make { number: u32 },
    /// Its resend is queued already (`regenerate` made one while the answer was late).
    AlreadyQueued { resend_id: i64, number: u32 },
    /// Nothing to resend: the letter was answered for good, replaced, or is on its way.
    NotNeeded(NotNeeded),
    /// Not resent now, although no answer says the letter arrived: wait, or a person must look.
    Held(Held),
}

/// Why nothing needs resending.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum NotNeeded {
    /// A message was made from this transmission already, whatever became of it (asked by a
    /// person: that one is the one to regenerate).
    Regenerated { resend_id: i64 },
    /// Its resend was handed over already: the answer came late, and the resend's own answer
    /// is the one awaited.
    ResendWent { resend_id: i64, number: u32 },
    /// This transmission is still queued: `send` sends it.
    Queued { status: Status },
    /// This transmission was superseded (replaced before it was sent).
    Superseded,
    /// Transmission `by` of the letter (this one, or another) was acknowledged: delivered.
    Delivered { by: i64, number: u32 },
    /// Transmission `by` (this one, or another) was refused with `fatal-error`: MedCom forbids
    /// resending the message as it is; only a corrected letter goes out.
    Refused { by: i64, number: u32 },
    /// A later letter (a correction), message `by`, replaced it: that one goes instead.
    Replaced { by: i64, letter_id: String },
    /// A later transmission, message `by`, is queued (`queued`) or was handed over and awaits
    /// its own answer: another would give the receiver the letter twice.
    LaterOnItsWay { by: i64, number: u32, queued: bool },
}

/// Why a resend is held.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Held {
    /// Handed over at `handed_over_at`; MedCom allows a resend from `allowed_from`.
    TooEarly { handed_over_at: DateTime<Utc>, allowed_from: DateTime<Utc> },
    /// The letter was handed over `sent` times: the first and `max_resends` resends (the
    /// policy's [`Policy::max_resends`]).
    Limit { sent: u32, max_resends: u32 },
    /// Its own resend, message `resend_id`, is neither queued nor on its way (`status`).
    ResendStuck { resend_id: i64, status: Status },
}

/// The one resend rule: whether transmission `of` of letter `h` is sent again, as `asked`.
pub fn resend(h: &LetterHistory, of: &Transmission, asked: Asked) -> Resend {
    match asked {
        Asked::Regenerate { now } => asked_by_person(h, of, Some(now)),
        Asked::Correction => asked_by_person(h, of, None),
        Asked::TransientError => asked_by_transient_error(h, of),
    }
}

/// Why nothing is to be made of `of` whatever its letter's history: it was regenerated
/// already, still waits to be sent, or a correction superseded it.
fn already_dealt_with(of: &Transmission) -> Option<NotNeeded> {
    if let Some(r) = of.regenerated_as {
        return Some(NotNeeded::Regenerated { resend_id: r.message_id });
    }
    match of.status {
        Status::Generated | Status::Retry => Some(NotNeeded::Queued { status: of.status }),
        Status::Superseded => Some(NotNeeded::Superseded),
        _ => None,
    }
}

/// `regenerate`'s order. `now` is `None` for a correction.
fn asked_by_person(h: &LetterHistory, of: &Transmission, now: Option<DateTime<Utc>>) -> Resend {
    let no = |why| Resend::NotNeeded(why);
    if let Some(why) = already_dealt_with(of) {
        return no(why);
    }
    if now.is_some() {
        // Delivered by this or another transmission (an answer that came late): resending it
        // would give the receiver the letter again.
        if let Some(d) = Some(of).filter(|t| t.status == Status::Acknowledged).or(h.first_in(Status::Acknowledged)) {
            return no(NotNeeded::Delivered { by: d.message_id, number: d.number });
        }
    }
    if let Some((by, letter_id)) = h.replaced_by() {
        return no(NotNeeded::Replaced { by, letter_id: letter_id.to_string() });
    }
    let Some(now) = now else { return Resend::Make { number: h.next_number() } };
    // An XDIS91 or patient letter has no such rules: a negative XCTL asks for a resend.
    if h.kind == Kind::GpCareCommunication {
        // A fatal-error on any transmission refuses the letter (they are one message).
        if let Some(r) = Some(of).filter(|t| t.status == Status::Rejected).or(h.first_in(Status::Rejected)) {
            return no(NotNeeded::Refused { by: r.message_id, number: r.number });
        }
        if let Some(at) = of.handed_over_at.filter(|_| of.status == Status::Sent) {
            let allowed_from = at + h.policy.wait();
            if now < allowed_from {
                return Resend::Held(Held::TooEarly { handed_over_at: at, allowed_from });
            }
        }
        if let Some(held) = limit(h) {
            return held;
        }
    }
    Resend::Make { number: h.next_number() }
}

/// A `transient-error`'s order: the resend already queued, a new one within MedCom's limit,
/// or none.
fn asked_by_transient_error(h: &LetterHistory, of: &Transmission) -> Resend {
    let no = |why| Resend::NotNeeded(why);
    // Its own resend, when that is neither queued nor on its way: unless a later transmission
    // of the letter is (below), a person must look. A later letter made from it (a correction
    // linked to it, a re-route in the other format) is no resend: it replaced this letter (below).
    let mut stuck = None;
    if let Some(r) = of.regenerated_as.filter(|r| r.resend) {
        match r.status {
            // `regenerate` queued one already (after 30 minutes without an answer).
            Status::Generated | Status::Retry => {
                return Resend::AlreadyQueued { resend_id: r.message_id, number: r.number }
            }
            // A late answer: the resend went already, and its own answer is the one awaited.
            Status::Sent | Status::Acknowledged => {
                return no(NotNeeded::ResendWent { resend_id: r.message_id, number: r.number })
            }
            status => stuck = Some(Held::ResendStuck { resend_id: r.message_id, status }),
        }
    }
    // Answered for good by a transmission: refused with fatal-error (MedCom forbids resending
    // it as it is) before delivered (acknowledged). Nothing to resend.
    if let Some(r) = h.first_in(Status::Rejected) {
        return no(NotNeeded::Refused { by: r.message_id, number: r.number });
    }
    if let Some(d) = h.first_in(Status::Acknowledged) {
        return no(NotNeeded::Delivered { by: d.message_id, number: d.number });
    }
    // Replaced by a correction: resending the old letter would give the GP what was corrected.
    if let Some((by, letter_id)) = h.replaced_by() {
        return no(NotNeeded::Replaced { by, letter_id: letter_id.to_string() });
    }
    // A later transmission (a resend of a resend: T3 made for T2's transient-error, when this
    // is T1) is queued, or was handed over and is not itself waiting for a resend.
    let later = h.newest_first().into_iter().find(|t| {
        t.number > of.number
            && (matches!(t.status, Status::Generated | Status::Retry | Status::Sent | Status::Acknowledged)
                || (t.status == Status::Failed && t.handed_over && !t.transient_answered))
    });
    if let Some(t) = later {
        let queued = matches!(t.status, Status::Generated | Status::Retry);
        return no(NotNeeded::LaterOnItsWay { by: t.message_id, number: t.number, queued });
    }
    if let Some(held) = stuck {
        return Resend::Held(held);
    }
    limit(h).unwrap_or(Resend::Make { number: h.next_number() })
}

/// The refuse codes that say the receiver cannot take the letter's format, not that anything
/// in it is wrong: a FHIR Acknowledgement's `MSG_RECEIVER_UNABLE_TO_RECEIVE_MSG_TYPE` (MedCom's
/// `medcom-acknowledgement-error-codes`: "Receiver unable to receive this message type") and
/// an XCTL01/02's `problem_med_version` (the receiver does not take this message version).
pub(crate) const FORMAT_REFUSALS: [(Kind, &str); 2] =
    [(Kind::GpCareCommunication, "MSG_RECEIVER_UNABLE_TO_RECEIVE_MSG_TYPE"), (Kind::GpXdis91, "problem_med_version")];

/// Whether a transmission of `kind` refused with `refuse_code` was refused for its format
/// ([`FORMAT_REFUSALS`]; codes compared without case, as a receiver's system may spell them).
pub(crate) fn refused_for_format(kind: Kind, refuse_code: Option<&str>) -> bool {
    refuse_code.is_some_and(|code| FORMAT_REFUSALS.iter().any(|(k, c)| *k == kind && code.eq_ignore_ascii_case(c)))
}

/// Whether a GP letter goes again in the other format (`regenerate --reroute`).
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Reroute {
    /// Build it in the other format: a new letter there, linked to this transmission.
    Make,
    /// Nothing to re-route, as for a resend (it was regenerated, is queued or superseded, the
    /// letter was delivered or replaced by a later one), or the receiver refused it with
    /// `fatal-error` for something else than its format: only a corrected letter goes.
    NotNeeded(NotNeeded),
    /// It was handed over and has no answer: it may still reach the receiver (VANS converts
    /// between XDIS91 and CareCommunication for a receiver that takes only one), so the letter
    /// in the other format could reach it twice.
    OnItsWay,
}

/// Whether transmission `of` of GP letter `h` is re-routed: sent again as the same letter in
/// the other format, which is a new message there (its own identifier by that format's identity
/// rule, its own transmissions, its own resend limit). `format_refused`: a transmission of the
/// letter was refused for its format ([`refused_for_format`]).
///
/// As a person's resend, except: a CareCommunication refused with `fatal-error` for its format
/// goes (MedCom forbids resending *that message* as it is; the re-route is another message,
/// which the receiver can take), one refused for anything else does not; MedCom's wait and limit
/// are this letter's and do not hold the other; and a transmission still awaiting its answer
/// is never re-routed.
pub fn reroute(h: &LetterHistory, of: &Transmission, format_refused: bool) -> Reroute {
    let no = Reroute::NotNeeded;
    if let Some(why) = already_dealt_with(of) {
        return no(why);
    }
    if let Some(d) = Some(of).filter(|t| t.status == Status::Acknowledged).or(h.first_in(Status::Acknowledged)) {
        return no(NotNeeded::Delivered { by: d.message_id, number: d.number });
    }
    if let Some((by, letter_id)) = h.replaced_by() {
        return no(NotNeeded::Replaced { by, letter_id: letter_id.to_string() });
    }
    if h.kind == Kind::GpCareCommunication && !format_refused {
        if let Some(r) = Some(of).filter(|t| t.status == Status::Rejected).or(h.first_in(Status::Rejected)) {
            return no(NotNeeded::Refused { by: r.message_id, number: r.number });
        }
    }
    // Awaiting its answer, unless the receiver refused the letter already (on another
    // transmission: they are one message).
    if of.status == Status::Sent && h.first_in(Status::Rejected).is_none() {
        return Reroute::OnItsWay;
    }
    Reroute::Make
}

/// Whether letter `h` (the same letter in the format a re-route builds it in, which the journal
/// may hold already: a letter re-routed back) can take a new transmission: not when it was
/// delivered in that format, is queued there, or (FHIR) was refused there with `fatal-error`.
pub(crate) fn reroute_into(h: &LetterHistory) -> std::result::Result<u32, Resend> {
    let no = |why| Err(Resend::NotNeeded(why));
    if let Some(d) = h.first_in(Status::Acknowledged) {
        return no(NotNeeded::Delivered { by: d.message_id, number: d.number });
    }
    if let Some(q) = h.transmissions.iter().find(|t| matches!(t.status, Status::Generated | Status::Retry)) {
        return no(NotNeeded::LaterOnItsWay { by: q.message_id, number: q.number, queued: true });
    }
    // Sent there and awaiting its answer: a transmission more would be a resend without
    // MedCom's wait; that letter is resent by `regenerate`, which keeps it.
    if let Some(s) = h.first_in(Status::Sent) {
        return no(NotNeeded::LaterOnItsWay { by: s.message_id, number: s.number, queued: false });
    }
    if h.kind == Kind::GpCareCommunication {
        if let Some(r) = h.first_in(Status::Rejected) {
            return no(NotNeeded::Refused { by: r.message_id, number: r.number });
        }
    }
    if let Some(held) = limit(h) {
        return Err(held);
    }
    Ok(h.next_number())
}

/// MedCom's limit: held once the first transmission and the policy's
/// [`Policy::max_resends`] resends were handed over.
fn limit(h: &LetterHistory) -> Option<Resend> {
    let sent = h.handed_over();
    let max_resends = h.policy.max_resends;
    (sent > max_resends).then_some(Resend::Held(Held::Limit { sent, max_resends }))
}

/// Why a letter sent `sent` times may not be resent again, under a limit of `max_resends`.
pub(crate) fn limit_reason(sent: u32, max_resends: u32) -> String {
    format!(
        "it was sent {sent} times, and the resend policy allows {max_resends} resends of one message (`[resend] \
         max_resends`; MedCom's governance 043 says 2, its test protocol 3); a person must look (ask the \
         receiver, send it another way), and only a corrected letter (`regenerate --input`) goes out as a new \
         message"
    )
}

/// What changed that a resend decided on an earlier reading must not overtake.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Change {
    /// The transmission's status moved on.
    Status { from: Status, to: Status },
    /// It was regenerated as message `resend_id`.
    Regenerated { resend_id: i64 },
    /// Another transmission, message `by`, was answered for good: acknowledged, or (FHIR)
    /// refused with fatal-error.
    Answered { by: i64, status: Status },
    /// A later letter, message `by`, replaced it.
    Replaced { by: i64 },
    /// Transmission `last` of the letter was recorded meanwhile.
    Recorded { last: u32 },
}

/// What changed about transmission `of` (as it stands now, in `h`) since it was read in status
/// `read` and transmission `number` of its letter was decided on; `None`: nothing.
pub(crate) fn changed_since(h: &LetterHistory, of: &Transmission, read: Status, number: u32) -> Option<Change> {
    if of.status != read {
        return Some(Change::Status { from: read, to: of.status });
    }
    if let Some(r) = of.regenerated_as {
        return Some(Change::Regenerated { resend_id: r.message_id });
    }
    let for_good =
        |s: Status| s == Status::Acknowledged || (h.kind == Kind::GpCareCommunication && s == Status::Rejected);
    if let Some(t) = h.transmissions.iter().find(|t| t.message_id != of.message_id && for_good(t.status)) {
        return Some(Change::Answered { by: t.message_id, status: t.status });
    }
    if let Some((by, _)) = h.replaced_by() {
        return Some(Change::Replaced { by });
    }
    let last = h.last_number();
    (last + 1 != number).then_some(Change::Recorded { last })
}

#[cfg(test)]
mod tests;
