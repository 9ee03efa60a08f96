//! One test per rule of the resend module.

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
    t.regenerated_as = Some(Regenerated { message_id, status, number, resend: true });
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
    let limit = Resend::Held(Held::Limit { sent: 3, max_resends: 2 });
    assert_eq!(ask(&h, 30, later()), limit);
    assert_eq!(ask(&h, 30, Asked::TransientError), limit);
    // Transmissions the transport refused never left, so they do not count.
    let mut refused = h.clone();
    refused.transmissions[1].handed_over = false;
    assert_eq!(ask(&refused, 30, Asked::TransientError), Resend::Make { number: 4 });
    assert!(
        limit_reason(3, 2).starts_with("it was sent 3 times, and the resend policy allows 2 resends of one message")
    );
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
    assert_eq!(ask(&h, 10, Asked::TransientError), Resend::Held(Held::ResendStuck { resend_id: 20, status: Failed }));
}

#[test]
fn a_letter_refused_for_its_format_is_rerouted_one_refused_for_its_content_is_not() {
    let refused = fhir(vec![tx(1, Rejected)]);
    assert_eq!(reroute(&refused, &refused.transmissions[0], true), Reroute::Make);
    assert_eq!(
        reroute(&refused, &refused.transmissions[0], false),
        Reroute::NotNeeded(NotNeeded::Refused { by: 10, number: 1 })
    );
    // A negative XCTL asks for a resend: any rejected XDIS91 may go in the other format.
    let x = letter(Kind::GpXdis91, vec![tx(1, Rejected)]);
    assert_eq!(reroute(&x, &x.transmissions[0], false), Reroute::Make);
    assert!(refused_for_format(Kind::GpCareCommunication, Some("MSG_RECEIVER_UNABLE_TO_RECEIVE_MSG_TYPE")));
    assert!(refused_for_format(Kind::GpXdis91, Some("problem_med_version")));
    assert!(!refused_for_format(Kind::GpXdis91, Some("MSG_RECEIVER_UNABLE_TO_RECEIVE_MSG_TYPE")));
    assert!(!refused_for_format(Kind::GpCareCommunication, Some("MSG_DUPLICATE_ID")));
    assert!(!refused_for_format(Kind::GpCareCommunication, None));
}

#[test]
fn a_reroute_follows_a_persons_resend_rules_but_not_the_letters_wait_or_limit() {
    let mut h = fhir(vec![tx(1, Failed), tx(2, Failed), tx(3, Failed)]);
    // Sent three times: the letter is held (MedCom's limit is this letter's); the other
    // format's letter is another message, with a limit of its own.
    assert_eq!(ask(&h, 30, later()), Resend::Held(Held::Limit { sent: 3, max_resends: 2 }));
    assert_eq!(reroute(&h, h.get(30).unwrap(), false), Reroute::Make);
    regenerated(&mut h.transmissions[2], 40, Generated, 1);
    assert_eq!(reroute(&h, h.get(30).unwrap(), false), Reroute::NotNeeded(NotNeeded::Regenerated { resend_id: 40 }));
    let delivered = fhir(vec![tx(1, Acknowledged), tx(2, Failed)]);
    assert_eq!(
        reroute(&delivered, delivered.get(20).unwrap(), false),
        Reroute::NotNeeded(NotNeeded::Delivered { by: 10, number: 1 })
    );
    let queued = letter(Kind::GpXdis91, vec![tx(1, Retry)]);
    assert_eq!(
        reroute(&queued, &queued.transmissions[0], false),
        Reroute::NotNeeded(NotNeeded::Queued { status: Retry })
    );
    let mut replaced = letter(Kind::GpXdis91, vec![tx(1, Failed)]);
    replaced.newest_to_addressee = Some((55, "M".into()));
    assert_eq!(
        reroute(&replaced, &replaced.transmissions[0], false),
        Reroute::NotNeeded(NotNeeded::Replaced { by: 55, letter_id: "M".into() })
    );
    // Handed over, no answer: it may still arrive (VANS converts), so it is not re-routed;
    // once the receiver refused the letter, it is.
    let on_its_way = letter(Kind::GpXdis91, vec![tx(1, Sent)]);
    assert_eq!(reroute(&on_its_way, &on_its_way.transmissions[0], false), Reroute::OnItsWay);
    let refused_later = fhir(vec![tx(1, Sent), tx(2, Rejected)]);
    assert_eq!(reroute(&refused_later, &refused_later.transmissions[0], true), Reroute::Make);
}

#[test]
fn a_reroute_goes_into_the_other_formats_letter_as_its_next_transmission() {
    assert_eq!(reroute_into(&letter(Kind::GpXdis91, vec![])), Ok(1));
    // A letter re-routed back into a format it went in before: its next transmission.
    assert_eq!(reroute_into(&letter(Kind::GpXdis91, vec![tx(1, Rejected)])), Ok(2));
    assert_eq!(
        reroute_into(&letter(Kind::GpXdis91, vec![tx(1, Acknowledged)])),
        Err(Resend::NotNeeded(NotNeeded::Delivered { by: 10, number: 1 }))
    );
    assert_eq!(
        reroute_into(&fhir(vec![tx(1, Rejected)])),
        Err(Resend::NotNeeded(NotNeeded::Refused { by: 10, number: 1 }))
    );
    assert_eq!(
        reroute_into(&fhir(vec![tx(1, Failed), tx(2, Generated)])),
        Err(Resend::NotNeeded(NotNeeded::LaterOnItsWay { by: 20, number: 2, queued: true }))
    );
    // On its way there and awaiting its answer: no transmission more without MedCom's wait.
    assert_eq!(
        reroute_into(&letter(Kind::GpXdis91, vec![tx(1, Sent)])),
        Err(Resend::NotNeeded(NotNeeded::LaterOnItsWay { by: 10, number: 1, queued: false }))
    );
    // Its limit holds there too.
    assert_eq!(
        reroute_into(&letter(Kind::GpXdis91, vec![tx(1, Failed), tx(2, Failed), tx(3, Failed)])),
        Err(Resend::Held(Held::Limit { sent: 3, max_resends: 2 }))
    );
}

#[test]
fn a_later_letter_made_from_a_transmission_is_no_resend_of_it() {
    // A correction linked to it, or the letter re-routed in the other format (transmission
    // 1 of that letter): a transient-error reads that later letter as replacing this one.
    let mut h = fhir(vec![tx(1, Failed)]);
    h.transmissions[0].regenerated_as =
        Some(Regenerated { message_id: 20, status: Generated, number: 1, resend: false });
    h.newest_to_addressee = Some((20, "X".into()));
    assert_eq!(ask(&h, 10, Asked::TransientError), not_needed(NotNeeded::Replaced { by: 20, letter_id: "X".into() }));
    // A person is told it was regenerated (that one is the one to look at).
    assert_eq!(ask(&h, 10, later()), not_needed(NotNeeded::Regenerated { resend_id: 20 }));
    // The resend limit counts the letter's own transmissions only.
    assert_eq!(h.handed_over(), 1);
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
    of.regenerated_as = Some(Regenerated { message_id: 30, status: Generated, number: 3, resend: true });
    assert_eq!(changed_since(&h, &of, Failed, 3), Some(Change::Regenerated { resend_id: 30 }));
}

#[test]
fn the_policy_sets_the_wait_and_the_limit() {
    let mut h = fhir(vec![tx(1, Failed), tx(2, Failed), tx(3, Sent)]);
    h.transmissions[2].handed_over_at = Some(at("2026-01-01T10:00:00Z"));
    h.policy = Policy::REGION;
    // Three resends allowed: a fourth transmission, but only after 120 minutes.
    let early = Asked::Regenerate { now: at("2026-01-01T11:59:00Z") };
    assert!(matches!(ask(&h, 30, early), Resend::Held(Held::TooEarly { .. })));
    assert_eq!(ask(&h, 30, Asked::Regenerate { now: at("2026-01-01T12:00:00Z") }), Resend::Make { number: 4 });
    h.policy = Policy::GOVERNANCE;
    assert_eq!(ask(&h, 30, later()), Resend::Held(Held::Limit { sent: 3, max_resends: 2 }));
    assert_eq!(
        Policy::preset("certification"),
        Some(Policy { after_minutes: 30, max_resends: 3, ..Policy::CERTIFICATION })
    );
}
