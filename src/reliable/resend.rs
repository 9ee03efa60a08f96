//! MedCom's resend rule, once: whether a transmission of a letter is sent again, asked by a
//! person (`regenerate`) or by the receiver (a `transient-error` Acknowledgement), and what
//! changed since a decision was made on an earlier reading.
//!
//! Each asker checks the rules in its own order (so that each says the first reason that
//! applies to it, as it always has); the rules themselves are the same.

use super::history::{LetterHistory, Transmission};
use crate::model::{Kind, Status};
use chrono::{DateTime, Utc};

/// Resends of one message (one `MessageHeader.id`) MedCom allows: "MUST NOT resend the MedCom
/// Message more than 2 times" (043 Reliable Messaging – FHIR; 020 says the same). The rule
/// lists (MR5/MR6) leave the number open and the certification protocol allows 3; flspost
/// follows the stricter 2. Beyond it nothing is resent automatically or by `regenerate`: a
/// person must find out why (MedCom also says resends are a person's decision).
pub const MAX_RESENDS: u32 = 2;

/// Minutes without an answer after which MedCom allows a resend (043: "not received within a
/// timelimit of 30 minutes").
pub const RESEND_AFTER_MINUTES: u32 = 30;

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
    /// The letter was handed over `sent` times: more than [`MAX_RESENDS`] resends.
    Limit { sent: u32 },
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

/// `regenerate`'s order. `now` is `None` for a correction.
fn asked_by_person(h: &LetterHistory, of: &Transmission, now: Option<DateTime<Utc>>) -> Resend {
    let no = |why| Resend::NotNeeded(why);
    if let Some(r) = of.regenerated_as {
        return no(NotNeeded::Regenerated { resend_id: r.message_id });
    }
    match of.status {
        Status::Generated | Status::Retry => return no(NotNeeded::Queued { status: of.status }),
        Status::Superseded => return no(NotNeeded::Superseded),
        _ => {}
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
            let allowed_from = at + chrono::Duration::minutes(i64::from(RESEND_AFTER_MINUTES));
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
    // of the letter is (below), a person must look.
    let mut stuck = None;
    if let Some(r) = of.regenerated_as {
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

/// MedCom's limit: held once the first transmission and [`MAX_RESENDS`] resends were handed over.
fn limit(h: &LetterHistory) -> Option<Resend> {
    let sent = h.handed_over();
    (sent > MAX_RESENDS).then_some(Resend::Held(Held::Limit { sent }))
}

/// Why a letter sent `sent` times may not be resent again.
pub fn limit_reason(sent: u32) -> String {
    format!(
        "it was sent {sent} times, and MedCom allows {MAX_RESENDS} resends of one message (the stricter of \
         \"043 Reliable messaging\" and MR5/MR6); a person must look (ask the receiver), and only a corrected \
         letter (`regenerate --input`) goes out as a new message"
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
pub fn changed_since(h: &LetterHistory, of: &Transmission, read: Status, number: u32) -> Option<Change> {
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
mod tests {
    use super::super::history::build::*;
    use super::super::history::Regenerated;
    use super::*;
    use Status::*;

    fn at(s: &str) -> DateTime<Utc> {
        DateTime::parse_from_rfc3339(s).unwrap().to_utc()
    }

    fn later() -> Asked {
        Asked::Regenerate { now: at("2026-01-01T12:00:00Z") }
    }

    fn ask(h: &LetterHistory, of: i64, asked: Asked) -> Resend {
        resend(h, h.get(of).unwrap(), asked)
    }

    fn regenerated(t: &mut Transmission, message_id: i64, status: Status, number: u32) {
        t.regenerated_as = Some(Regenerated { message_id, status, number });
    }

    fn not_needed(why: NotNeeded) -> Resend {
        Resend::NotNeeded(why)
    }

    #[test]
    fn a_failed_transmission_is_resent_as_the_next_number() {
        let h = fhir(vec![tx(1, Failed)]);
        for asked in [later(), Asked::Correction, Asked::TransientError] {
            assert_eq!(ask(&h, 10, asked), Resend::Make { number: 2 }, "{asked:?}");
        }
    }

    #[test]
    fn a_person_never_regenerates_a_transmission_twice() {
        let mut h = fhir(vec![tx(1, Failed), tx(2, Failed)]);
        regenerated(&mut h.transmissions[0], 20, Failed, 2);
        for asked in [later(), Asked::Correction] {
            assert_eq!(ask(&h, 10, asked), not_needed(NotNeeded::Regenerated { resend_id: 20 }));
        }
    }

    #[test]
    fn a_queued_or_superseded_transmission_is_not_regenerated() {
        let h = letter(Kind::GpXdis91, vec![tx(1, Retry), tx(2, Superseded)]);
        assert_eq!(ask(&h, 10, later()), not_needed(NotNeeded::Queued { status: Retry }));
        assert_eq!(ask(&h, 20, Asked::Correction), not_needed(NotNeeded::Superseded));
    }

    #[test]
    fn a_delivered_letter_is_not_resent_but_may_be_corrected() {
        let h = letter(Kind::GpXdis91, vec![tx(1, Acknowledged), tx(2, Failed)]);
        assert_eq!(ask(&h, 10, later()), not_needed(NotNeeded::Delivered { by: 10, number: 1 }));
        assert_eq!(ask(&h, 20, later()), not_needed(NotNeeded::Delivered { by: 10, number: 1 }));
        assert_eq!(ask(&h, 20, Asked::Correction), Resend::Make { number: 3 });
        assert_eq!(
            ask(&fhir(h.transmissions), 20, Asked::TransientError),
            not_needed(NotNeeded::Delivered { by: 10, number: 1 })
        );
    }

    #[test]
    fn a_letter_refused_with_fatal_error_is_never_resent_as_it_is() {
        let h = fhir(vec![tx(1, Failed), tx(2, Rejected)]);
        assert_eq!(ask(&h, 10, later()), not_needed(NotNeeded::Refused { by: 20, number: 2 }));
        assert_eq!(ask(&h, 20, later()), not_needed(NotNeeded::Refused { by: 20, number: 2 }));
        assert_eq!(ask(&h, 10, Asked::TransientError), not_needed(NotNeeded::Refused { by: 20, number: 2 }));
        // A negative XCTL asks for a resend.
        let x = letter(Kind::GpXdis91, h.transmissions.clone());
        assert_eq!(ask(&x, 20, later()), Resend::Make { number: 3 });
        // Refused goes before delivered for a transient-error (and delivered before refused for
        // a person).
        let both = fhir(vec![tx(1, Acknowledged), tx(2, Rejected), tx(3, Failed)]);
        assert_eq!(ask(&both, 30, Asked::TransientError), not_needed(NotNeeded::Refused { by: 20, number: 2 }));
        assert_eq!(ask(&both, 30, later()), not_needed(NotNeeded::Delivered { by: 10, number: 1 }));
    }

    #[test]
    fn a_letter_a_correction_replaced_is_not_resent() {
        let mut h = fhir(vec![tx(1, Failed)]);
        h.newest_to_addressee = Some((55, "M".into()));
        let replaced = not_needed(NotNeeded::Replaced { by: 55, letter_id: "M".into() });
        for asked in [later(), Asked::Correction, Asked::TransientError] {
            assert_eq!(ask(&h, 10, asked), replaced, "{asked:?}");
        }
    }

    #[test]
    fn a_person_resends_an_unanswered_carecommunication_only_after_30_minutes() {
        let mut h = fhir(vec![tx(1, Sent)]);
        h.transmissions[0].handed_over_at = Some(at("2026-01-01T11:40:00Z"));
        let held = Resend::Held(Held::TooEarly {
            handed_over_at: at("2026-01-01T11:40:00Z"),
            allowed_from: at("2026-01-01T12:10:00Z"),
        });
        assert_eq!(ask(&h, 10, later()), held);
        assert_eq!(ask(&h, 10, Asked::Regenerate { now: at("2026-01-01T12:10:00Z") }), Resend::Make { number: 2 });
        // The receiver's transient-error asks at once; an XDIS91 waits for no clock.
        assert_eq!(ask(&h, 10, Asked::TransientError), Resend::Make { number: 2 });
        assert_eq!(ask(&letter(Kind::GpXdis91, h.transmissions), 10, later()), Resend::Make { number: 2 });
    }

    #[test]
    fn at_most_two_resends_of_one_carecommunication() {
        let h = fhir(vec![tx(1, Failed), tx(2, Failed), tx(3, Failed)]);
        let limit = Resend::Held(Held::Limit { sent: 3 });
        assert_eq!(ask(&h, 30, later()), limit);
        assert_eq!(ask(&h, 30, Asked::TransientError), limit);
        // Transmissions the transport refused never left, so they do not count.
        let mut refused = h.clone();
        refused.transmissions[1].handed_over = false;
        assert_eq!(ask(&refused, 30, Asked::TransientError), Resend::Make { number: 4 });
        assert!(limit_reason(3).starts_with("it was sent 3 times, and MedCom allows 2 resends of one message"));
    }

    #[test]
    fn a_transient_error_uses_the_resend_already_made() {
        let mut h = fhir(vec![tx(1, Failed), tx(2, Generated)]);
        regenerated(&mut h.transmissions[0], 20, Generated, 2);
        assert_eq!(ask(&h, 10, Asked::TransientError), Resend::AlreadyQueued { resend_id: 20, number: 2 });
        h.transmissions[1].status = Sent;
        regenerated(&mut h.transmissions[0], 20, Sent, 2);
        assert_eq!(ask(&h, 10, Asked::TransientError), not_needed(NotNeeded::ResendWent { resend_id: 20, number: 2 }));
    }

    #[test]
    fn a_transient_error_needs_no_resend_while_a_later_transmission_is_on_its_way() {
        let mut h = fhir(vec![tx(1, Failed), tx(2, Failed), tx(3, Retry)]);
        regenerated(&mut h.transmissions[0], 20, Failed, 2);
        let on_its_way = not_needed(NotNeeded::LaterOnItsWay { by: 30, number: 3, queued: true });
        assert_eq!(ask(&h, 10, Asked::TransientError), on_its_way);
        // A later one that failed after a hand-over, and got no transient-error itself, awaits its answer.
        h.transmissions[2].status = Failed;
        h.transmissions[2].handed_over = true;
        assert_eq!(
            ask(&h, 20, Asked::TransientError),
            not_needed(NotNeeded::LaterOnItsWay { by: 30, number: 3, queued: false })
        );
        // Later ones whose own transient-error was applied wait for their resends, so none is on
        // its way, and this one's own resend (failed) is stuck: a person must look.
        h.transmissions[1].transient_answered = true;
        h.transmissions[2].transient_answered = true;
        assert_eq!(
            ask(&h, 10, Asked::TransientError),
            Resend::Held(Held::ResendStuck { resend_id: 20, status: Failed })
        );
    }

    #[test]
    fn a_resend_is_not_recorded_over_what_changed_since_it_was_decided() {
        let mut h = fhir(vec![tx(1, Failed), tx(2, Failed)]);
        let of = h.get(20).unwrap().clone();
        assert_eq!(changed_since(&h, &of, Failed, 3), None);
        assert_eq!(changed_since(&h, &of, Sent, 3), Some(Change::Status { from: Sent, to: Failed }));
        assert_eq!(changed_since(&h, &of, Failed, 2), Some(Change::Recorded { last: 2 }));
        h.newest_to_addressee = Some((70, "M".into()));
        assert_eq!(changed_since(&h, &of, Failed, 3), Some(Change::Replaced { by: 70 }));
        h.transmissions[0].status = Rejected;
        assert_eq!(changed_since(&h, &of, Failed, 3), Some(Change::Answered { by: 10, status: Rejected }));
        // For an XDIS91 only a positive receipt answers for good.
        let x = letter(Kind::GpXdis91, h.transmissions.clone());
        assert_eq!(changed_since(&x, &of, Failed, 3), None);
        let mut of = of;
        of.regenerated_as = Some(Regenerated { message_id: 30, status: Generated, number: 3 });
        assert_eq!(changed_since(&h, &of, Failed, 3), Some(Change::Regenerated { resend_id: 30 }));
    }
}
