//! What a MedCom XCTL receipt does to the XDIS91 letter it names: the decision only; the
//! journal finds the transmission by the receipt's original envelope identifier and applies it.
//!
//! MedCom's rule is that a receiver answers a duplicate exactly as it answered the original and
//! never turns a positive (XCTL03) into a negative (XCTL01/02), or back: so a receipt that
//! agrees with the letter changes nothing, and one that contradicts it is reported, not applied.

use super::history::{LetterHistory, Transmission};
use crate::model::Status;

/// What the receipt does, for one letter it names.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Decision {
    /// No envelope with its original envelope identifier was sent from this journal.
    UnknownEnvelope,
    /// The envelope carried another letter, `sent_letter_id`, than the one the receipt names.
    LetterMismatch { message_id: i64, sent_letter_id: String },
    /// The transmission was never handed over (or was superseded by a correction, whose own
    /// receipts answer it): a receipt can only answer what was sent.
    NotSent { message_id: i64, status: Status },
    /// It agrees with the letter's state already.
    Unchanged { message_id: i64, status: Status },
    /// It contradicts an earlier receipt.
    Conflict { message_id: i64, status: Status },
    /// Positive: acknowledged; the letter's queued transmissions `cancel` are superseded (the
    /// letter arrived, a queued resend would give the GP a copy).
    Acknowledge { message_id: i64, cancel: Vec<i64> },
    /// Negative: rejected (`regenerate` may resend it).
    Reject { message_id: i64 },
}

/// What a receipt (`positive`: XCTL03) naming letter `named_letter` (empty: the whole envelope)
/// does to `sent`, the transmission its envelope identifier names and that transmission's letter.
pub fn decide(sent: Option<(&LetterHistory, &Transmission)>, named_letter: &str, positive: bool) -> Decision {
    let Some((h, t)) = sent else { return Decision::UnknownEnvelope };
    let (message_id, status) = (t.message_id, t.status);
    if !named_letter.is_empty() && named_letter != h.letter_id {
        return Decision::LetterMismatch { message_id, sent_letter_id: h.letter_id.clone() };
    }
    // A superseded letter is answered by its correction's receipts.
    let sent = t.handed_over && status != Status::Superseded;
    match (positive, status) {
        _ if !sent => Decision::NotSent { message_id, status },
        (true, Status::Acknowledged) | (false, Status::Rejected) => Decision::Unchanged { message_id, status },
        (true, Status::Rejected) | (false, Status::Acknowledged) => Decision::Conflict { message_id, status },
        (true, _) => Decision::Acknowledge { message_id, cancel: h.queued_besides(message_id) },
        (false, _) => Decision::Reject { message_id },
    }
}

#[cfg(test)]
mod tests {
    use super::super::history::build::*;
    use super::*;
    use crate::model::Kind;
    use Status::*;

    fn on(h: &LetterHistory, id: i64, named: &str, positive: bool) -> Decision {
        decide(Some((h, h.get(id).unwrap())), named, positive)
    }

    #[test]
    fn an_envelope_never_sent_from_here_is_unknown() {
        assert_eq!(decide(None, "L", true), Decision::UnknownEnvelope);
    }

    #[test]
    fn a_receipt_naming_another_letter_than_the_envelope_carried_is_a_mismatch() {
        let h = letter(Kind::GpXdis91, vec![tx(1, Sent)]);
        assert_eq!(on(&h, 10, "M", true), Decision::LetterMismatch { message_id: 10, sent_letter_id: "L".into() });
        assert!(matches!(on(&h, 10, "", true), Decision::Acknowledge { .. }));
    }

    #[test]
    fn only_a_letter_handed_over_and_not_superseded_is_answered() {
        let h = letter(Kind::GpXdis91, vec![tx(1, Retry), tx(2, Superseded)]);
        assert_eq!(on(&h, 10, "L", true), Decision::NotSent { message_id: 10, status: Retry });
        let mut s = h.clone();
        s.transmissions[1].handed_over = true;
        assert_eq!(on(&s, 20, "L", false), Decision::NotSent { message_id: 20, status: Superseded });
    }

    #[test]
    fn a_receipt_agreeing_changes_nothing_and_a_contrary_one_is_a_conflict() {
        let h = letter(Kind::GpXdis91, vec![tx(1, Acknowledged), tx(2, Rejected)]);
        assert_eq!(on(&h, 10, "L", true), Decision::Unchanged { message_id: 10, status: Acknowledged });
        assert_eq!(on(&h, 20, "L", false), Decision::Unchanged { message_id: 20, status: Rejected });
        assert_eq!(on(&h, 10, "L", false), Decision::Conflict { message_id: 10, status: Acknowledged });
        assert_eq!(on(&h, 20, "L", true), Decision::Conflict { message_id: 20, status: Rejected });
    }

    #[test]
    fn positive_acknowledges_and_cancels_queued_resends_negative_rejects() {
        let h = letter(Kind::GpXdis91, vec![tx(1, Sent), tx(2, Generated)]);
        assert_eq!(on(&h, 10, "L", true), Decision::Acknowledge { message_id: 10, cancel: vec![20] });
        assert_eq!(on(&h, 10, "L", false), Decision::Reject { message_id: 10 });
        let failed = letter(Kind::GpXdis91, vec![tx(1, Failed)]);
        assert_eq!(on(&failed, 10, "L", true), Decision::Acknowledge { message_id: 10, cancel: vec![] });
    }
}
