//! What a MedCom FHIR Acknowledgement does to the letter it names (IG
//! `medcom.fhir.dk.acknowledgement`): which transmission it answers, whether it may, and what
//! follows (delivered, refused, or a resend). The decision only; the journal loads the letter
//! and applies it.
//!
//! An Acknowledgement names the letter by `response.identifier`, our `MessageHeader.id`, which
//! every transmission shares. Which transmission it answers, its copy of that message's
//! Provenance says: each transmission has its own Provenance time. Without that copy, or when
//! its time is no transmission's, it answers the newest transmission that was handed over.
//! Each transmission keeps its own status; the letter is delivered once one is acknowledged.

use super::history::{LetterHistory, Transmission};
use super::resend::{resend, Asked, Resend};
use crate::model::Status;

/// `MessageHeader.response.code`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Code {
    /// Delivered.
    Ok,
    /// Refused: never resend the message as it is.
    FatalError,
    /// Not processed for now: resend (within MedCom's limit).
    TransientError,
}

/// One Acknowledgement, as the decision reads it.
#[derive(Clone, Copy, Debug)]
pub struct Answer<'a> {
    pub code: Code,
    /// The GLN its `MessageHeader.sender` names (`None`: it names none).
    pub sender_gln: Option<&'a str>,
    /// Its copy of the answered message's Provenance time, when it has one.
    pub answers_sent: Option<&'a str>,
    /// The VANSEnvelope it came in, if it did: (`SenderID`, `ReceiverID`).
    pub envelope: Option<(&'a str, &'a str)>,
}

/// The letter's end points, as its newest transmission has them: the GP it was sent to and
/// its sender (us). `None` where neither the stored envelope nor the input says.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Parties {
    pub receiver_gln: Option<String>,
    /// Only needed (and only read) when the Acknowledgement came in an envelope.
    pub sender_gln: Option<String>,
}

/// The same Acknowledgement (its own `MessageHeader.id`) applied before, in another envelope:
/// MedCom's answer to a duplicate. It answers what it answered then.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Repeat {
    /// Its code then (`None`: not one flspost reads).
    pub code: Option<Code>,
    /// The transmission it answered, and that message's status now.
    pub message_id: i64,
    pub status: Status,
}

/// What the Acknowledgement does.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Decision {
    /// No CareCommunication with that `MessageHeader.id`.
    UnknownLetter,
    /// Its sender is not the GP the letter went to (or it names none).
    WrongSender { message_id: i64, sender_gln: Option<String>, receiver_gln: String },
    /// Its envelope's `SenderID`/`ReceiverID` (`envelope_field`) is not the letter's receiver
    /// and sender.
    EnvelopeMismatch { message_id: i64, envelope_field: &'static str, envelope_gln: String, expected_gln: String },
    /// The same answer again.
    Unchanged { message_id: i64, status: Status },
    /// Contradicts an earlier answer: this transmission's own (`contradicts` `None`), or the
    /// opposite verdict of another transmission (its id and status).
    Conflict { message_id: i64, status: Status, contradicts: Option<(i64, Status)> },
    /// No transmission of the letter was handed over, or the one it answers was superseded.
    NotSent { message_id: i64, status: Status },
    /// `ok`: the transmission is acknowledged; the letter's queued transmissions `cancel` are
    /// superseded (the GP has it).
    Acknowledge { message_id: i64, cancel: Vec<i64> },
    /// `fatal-error`: rejected; the queued transmissions `cancel` are superseded (MedCom: never
    /// resend a refused message as it is).
    Reject { message_id: i64, cancel: Vec<i64> },
    /// `transient-error`: the transmission is failed, and `resend` says what follows.
    Transient { message_id: i64, resend: Resend },
}

/// What Acknowledgement `a` does to letter `h` (whose end points are `parties`; `repeat`: the
/// same Acknowledgement applied before in another envelope).
pub fn decide(h: &LetterHistory, parties: &Parties, a: &Answer<'_>, repeat: Option<&Repeat>) -> Decision {
    let by_newest = h.newest_first();
    let Some(newest) = by_newest.first().copied() else { return Decision::UnknownLetter };
    if let Some(refused) = from_elsewhere(newest.message_id, parties, a) {
        return refused;
    }
    if let Some(r) = repeat {
        return if r.code == Some(a.code) {
            Decision::Unchanged { message_id: r.message_id, status: r.status }
        } else {
            Decision::Conflict { message_id: r.message_id, status: r.status, contradicts: None }
        };
    }
    let handed: Vec<&Transmission> = by_newest.iter().copied().filter(|t| t.handed_over).collect();
    // The transmission whose Provenance time the Acknowledgement's copy carries, else the
    // newest handed over.
    let Some(m) = answered(a, &handed).or(handed.first().copied()) else {
        return Decision::NotSent { message_id: newest.message_id, status: newest.status };
    };
    let (id, status) = (m.message_id, m.status);
    if status == Status::Superseded {
        return Decision::NotSent { message_id: id, status };
    }
    // The answer this transmission has already, if any.
    let earlier = match status {
        Status::Acknowledged => Some(Code::Ok),
        Status::Rejected => Some(Code::FatalError),
        Status::Failed if m.transient_answered => Some(Code::TransientError),
        _ => None,
    };
    match earlier {
        Some(c) if c == a.code => return Decision::Unchanged { message_id: id, status },
        // A transient-error is no verdict on the letter ("wait and resend"): an ok or a
        // fatal-error that follows says how it went after all, and the queued resend would
        // only give the GP the letter twice, or send again what was refused.
        Some(Code::TransientError) => {}
        Some(_) => return Decision::Conflict { message_id: id, status, contradicts: None },
        None => {}
    }
    // All transmissions are one message (one MessageHeader.id), and MedCom receivers never turn
    // a verdict on it around: an `ok` when another transmission was refused, or a
    // `fatal-error` when another was delivered, is for a person, not a second verdict.
    let opposite = match a.code {
        Code::Ok => Some(Status::Rejected),
        Code::FatalError => Some(Status::Acknowledged),
        Code::TransientError => None,
    };
    if let Some(other) = opposite.and_then(|o| by_newest.iter().find(|t| t.message_id != id && t.status == o)) {
        return Decision::Conflict { message_id: id, status, contradicts: Some((other.message_id, other.status)) };
    }
    match a.code {
        // Delivered: a resend still queued (made while the answer was late) would give the GP
        // the letter twice.
        Code::Ok => Decision::Acknowledge { message_id: id, cancel: h.queued_besides(id) },
        Code::FatalError => Decision::Reject { message_id: id, cancel: h.queued_besides(id) },
        Code::TransientError => Decision::Transient { message_id: id, resend: resend(h, m, Asked::TransientError) },
    }
}

/// Whether Acknowledgement `a` comes from somewhere else than the GP the letter (its newest
/// transmission `newest`) went to, answering us: `WrongSender` or `EnvelopeMismatch`, else `None`.
/// The same check holds for an Acknowledgement read as an XCTL ([`super::conversion`]).
pub(crate) fn from_elsewhere(newest: i64, parties: &Parties, a: &Answer<'_>) -> Option<Decision> {
    // Only the GP the letter went to answers it (every transmission went to the same one). An
    // Acknowledgement whose sender cannot be told is no answer from that GP either.
    let receiver = parties.receiver_gln.as_deref();
    if let Some(receiver) = receiver {
        if a.sender_gln != Some(receiver) {
            return Some(Decision::WrongSender {
                message_id: newest,
                sender_gln: a.sender_gln.map(str::to_string),
                receiver_gln: receiver.to_string(),
            });
        }
    }
    // VANS delivered it from the envelope's SenderID to its ReceiverID: that must be the GP
    // (the letter's receiver, the Acknowledgement's sender) answering us (the letter's sender).
    if let Some((sender, receiver_id)) = a.envelope {
        let checks = [
            ("SenderID", sender, receiver.or(a.sender_gln)),
            ("ReceiverID", receiver_id, parties.sender_gln.as_deref()),
        ];
        for (envelope_field, found, expected) in checks {
            if let Some(expected) = expected.filter(|e| *e != found) {
                return Some(Decision::EnvelopeMismatch {
                    message_id: newest,
                    envelope_field,
                    envelope_gln: found.to_string(),
                    expected_gln: expected.to_string(),
                });
            }
        }
    }
    None
}

/// The transmission among `handed` (newest first) that Acknowledgement `a` answers by its copy
/// of the message's Provenance: the one whose own Provenance time is the same instant. `None`
/// when the copy is absent or matches none.
fn answered<'h>(a: &Answer<'_>, handed: &[&'h Transmission]) -> Option<&'h Transmission> {
    let sent = a.answers_sent?;
    handed.iter().copied().find(|t| t.provenance.iter().any(|(o, r)| same_instant(o, sent) || same_instant(r, sent)))
}

/// Whether two FHIR times are the same instant (a receiver may write ours in another offset).
pub(crate) fn same_instant(a: &str, b: &str) -> bool {
    match (chrono::DateTime::parse_from_rfc3339(a), chrono::DateTime::parse_from_rfc3339(b)) {
        (Ok(x), Ok(y)) => x == y,
        _ => a == b,
    }
}

#[cfg(test)]
mod tests {
    use super::super::history::build::*;
    use super::super::resend::Held;
    use super::*;
    use Status::*;

    const GP: &str = "5790000000001";
    const US: &str = "5790000000002";

    fn gp() -> Parties {
        Parties { receiver_gln: Some(GP.into()), sender_gln: Some(US.into()) }
    }

    fn answer(code: Code) -> Answer<'static> {
        Answer { code, sender_gln: Some(GP), answers_sent: None, envelope: None }
    }

    #[test]
    fn an_answer_to_no_letter_of_ours_is_an_unknown_letter() {
        assert_eq!(decide(&fhir(vec![]), &gp(), &answer(Code::Ok), None), Decision::UnknownLetter);
    }

    #[test]
    fn only_the_gp_the_letter_went_to_answers_it() {
        let h = fhir(vec![tx(1, Sent)]);
        let a = Answer { sender_gln: Some("5790000000009"), ..answer(Code::Ok) };
        let wrong =
            Decision::WrongSender { message_id: 10, sender_gln: Some("5790000000009".into()), receiver_gln: GP.into() };
        assert_eq!(decide(&h, &gp(), &a, None), wrong);
        let none = Answer { sender_gln: None, ..answer(Code::Ok) };
        assert!(matches!(decide(&h, &gp(), &none, None), Decision::WrongSender { sender_gln: None, .. }));
        // When the letter's receiver cannot be told, the Acknowledgement's sender is taken.
        let unknown = Parties::default();
        assert!(matches!(decide(&h, &unknown, &a, None), Decision::Acknowledge { message_id: 10, .. }));
    }

    #[test]
    fn the_envelope_must_come_from_the_gp_to_us() {
        let h = fhir(vec![tx(1, Sent)]);
        let a = Answer { envelope: Some((GP, "5790000000009")), ..answer(Code::Ok) };
        let mismatch = Decision::EnvelopeMismatch {
            message_id: 10,
            envelope_field: "ReceiverID",
            envelope_gln: "5790000000009".into(),
            expected_gln: US.into(),
        };
        assert_eq!(decide(&h, &gp(), &a, None), mismatch);
        let a = Answer { envelope: Some(("5790000000009", US)), ..answer(Code::Ok) };
        assert!(matches!(decide(&h, &gp(), &a, None), Decision::EnvelopeMismatch { envelope_field: "SenderID", .. }));
        let a = Answer { envelope: Some((GP, US)), ..answer(Code::Ok) };
        assert!(matches!(decide(&h, &gp(), &a, None), Decision::Acknowledge { .. }));
    }

    #[test]
    fn a_repeat_in_a_new_envelope_answers_what_it_answered_then() {
        let h = fhir(vec![tx(1, Acknowledged), tx(2, Sent)]);
        let repeat = Repeat { code: Some(Code::Ok), message_id: 10, status: Acknowledged };
        assert_eq!(
            decide(&h, &gp(), &answer(Code::Ok), Some(&repeat)),
            Decision::Unchanged { message_id: 10, status: Acknowledged }
        );
        let conflict = Decision::Conflict { message_id: 10, status: Acknowledged, contradicts: None };
        assert_eq!(decide(&h, &gp(), &answer(Code::FatalError), Some(&repeat)), conflict);
    }

    #[test]
    fn it_answers_the_transmission_its_provenance_copy_names_else_the_newest_handed_over() {
        let mut h = fhir(vec![tx(1, Sent), tx(2, Sent), tx(3, Generated)]);
        h.transmissions[0].provenance = vec![("2026-01-01T10:00:00+01:00".into(), "2026-01-01T10:00:00+01:00".into())];
        let a = Answer { answers_sent: Some("2026-01-01T09:00:00Z"), ..answer(Code::Ok) };
        assert_eq!(decide(&h, &gp(), &a, None), Decision::Acknowledge { message_id: 10, cancel: vec![30] });
        assert_eq!(
            decide(&h, &gp(), &answer(Code::Ok), None),
            Decision::Acknowledge { message_id: 20, cancel: vec![30] }
        );
        let queued = fhir(vec![tx(1, Generated)]);
        assert_eq!(
            decide(&queued, &gp(), &answer(Code::Ok), None),
            Decision::NotSent { message_id: 10, status: Generated }
        );
        let mut superseded = fhir(vec![tx(1, Superseded)]);
        superseded.transmissions[0].handed_over = true;
        assert_eq!(
            decide(&superseded, &gp(), &answer(Code::Ok), None),
            Decision::NotSent { message_id: 10, status: Superseded }
        );
    }

    #[test]
    fn the_same_answer_again_changes_nothing_and_a_contrary_one_is_a_conflict() {
        let h = fhir(vec![tx(1, Acknowledged)]);
        assert_eq!(
            decide(&h, &gp(), &answer(Code::Ok), None),
            Decision::Unchanged { message_id: 10, status: Acknowledged }
        );
        let conflict = Decision::Conflict { message_id: 10, status: Acknowledged, contradicts: None };
        assert_eq!(decide(&h, &gp(), &answer(Code::TransientError), None), conflict);
        // A verdict after a transient-error is how it went after all.
        let mut t = fhir(vec![tx(1, Failed)]);
        t.transmissions[0].transient_answered = true;
        assert_eq!(
            decide(&t, &gp(), &answer(Code::Ok), None),
            Decision::Acknowledge { message_id: 10, cancel: vec![] }
        );
        assert!(matches!(decide(&t, &gp(), &answer(Code::TransientError), None), Decision::Unchanged { .. }));
        // Another transmission's opposite verdict.
        let both = fhir(vec![tx(1, Rejected), tx(2, Sent)]);
        let conflict = Decision::Conflict { message_id: 20, status: Sent, contradicts: Some((10, Rejected)) };
        assert_eq!(decide(&both, &gp(), &answer(Code::Ok), None), conflict);
    }

    #[test]
    fn fatal_error_rejects_and_transient_error_asks_the_resend_rule() {
        let h = fhir(vec![tx(1, Sent), tx(2, Retry)]);
        assert_eq!(
            decide(&h, &gp(), &answer(Code::FatalError), None),
            Decision::Reject { message_id: 10, cancel: vec![20] }
        );
        let transient = decide(&fhir(vec![tx(1, Sent)]), &gp(), &answer(Code::TransientError), None);
        assert_eq!(transient, Decision::Transient { message_id: 10, resend: Resend::Make { number: 2 } });
        let three = fhir(vec![tx(1, Failed), tx(2, Failed), tx(3, Sent)]);
        let held =
            Decision::Transient { message_id: 30, resend: Resend::Held(Held::Limit { sent: 3, max_resends: 2 }) };
        assert_eq!(decide(&three, &gp(), &answer(Code::TransientError), None), held);
    }

    #[test]
    fn fhir_times_in_other_offsets_are_the_same_instant() {
        assert!(same_instant("2026-01-01T10:00:00+01:00", "2026-01-01T09:00:00Z"));
        assert!(!same_instant("2026-01-01T10:00:00Z", "2026-01-01T09:00:00Z"));
        assert!(same_instant("not a time", "not a time"));
    }
}
