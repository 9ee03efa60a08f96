//! What the journal knows of one letter when a rule decides: each of its transmissions, and
//! whether a later letter to the same addressee replaced it.

use crate::model::{Kind, Status};
use chrono::{DateTime, Utc};

/// One transmission of a letter: one stored message of the letter's kind and identifier.
/// MedCom: every transmission is the same message (one `MessageHeader.id`, one XDIS91 letter
/// identifier) in a new envelope.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Transmission {
    /// The journal's message id.
    pub message_id: i64,
    /// 1 for the letter's first transmission, +1 per resend (the journal's `attempt`).
    pub number: u32,
    pub status: Status,
    /// Some hand-over of it may have delivered it: the transport accepted it, or the hand-over
    /// was cut short with its outcome unknown. A transmission the transport refused never left.
    /// Receipts, Acknowledgements and the resend limit count by this.
    pub handed_over: bool,
    /// When its last hand-over the transport accepted finished.
    pub handed_over_at: Option<DateTime<Utc>>,
    /// A `transient-error` Acknowledgement was applied to it (so its `failed` is that answer).
    pub transient_answered: bool,
    /// The first message made from it (`regenerated_from`): its resend, or a later letter
    /// linked to it (a correction, or a re-route in the other format).
    pub regenerated_as: Option<Regenerated>,
    /// The Provenance times (occurred, recorded) in its stored bytes, when the caller read
    /// them (an Acknowledgement's copy of them names the transmission it answers); empty when
    /// not read, not FHIR, or damaged.
    pub provenance: Vec<(String, String)>,
}

/// The message made from a transmission (see [`Transmission::regenerated_as`]).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Regenerated {
    pub message_id: i64,
    pub status: Status,
    /// Its transmission number (of its own letter: see `resend`).
    pub number: u32,
    /// It is a transmission of the same letter (the same kind and letter identifier): this
    /// one's resend. Otherwise it is another letter made from this one (a correction linked to
    /// it, or the letter re-routed in the other format), whose number counts that letter's
    /// transmissions, not this one's; the rules read it as a later letter, not a resend.
    pub resend: bool,
}

/// One letter (a kind and a letter identifier) as the journal holds it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct LetterHistory {
    pub kind: Kind,
    pub letter_id: String,
    /// Oldest first (by message id).
    pub transmissions: Vec<Transmission>,
    /// The newest message of the letter's result to the same addressee, of any kind: (message
    /// id, letter identifier). When it carries another letter, that later letter (a
    /// correction) replaced this one.
    pub newest_to_addressee: Option<(i64, String)>,
    /// The resend policy the rules apply to it (the config's `[resend]`).
    pub policy: super::resend::Policy,
}

impl LetterHistory {
    /// Transmission `message_id` of this letter.
    pub fn get(&self, message_id: i64) -> Option<&Transmission> {
        self.transmissions.iter().find(|t| t.message_id == message_id)
    }

    /// The transmissions, the highest number first (then the newest message).
    pub(crate) fn newest_first(&self) -> Vec<&Transmission> {
        let mut all: Vec<&Transmission> = self.transmissions.iter().collect();
        all.sort_by_key(|t| std::cmp::Reverse((t.number, t.message_id)));
        all
    }

    /// How many transmissions were handed over: the first plus its resends, for MedCom's limit.
    pub fn handed_over(&self) -> u32 {
        self.transmissions.iter().filter(|t| t.handed_over).count() as u32
    }

    /// The highest transmission number so far (0 for none).
    pub(crate) fn last_number(&self) -> u32 {
        self.transmissions.iter().map(|t| t.number).max().unwrap_or(0)
    }

    /// The number the next transmission gets.
    pub(crate) fn next_number(&self) -> u32 {
        self.last_number() + 1
    }

    /// The later letter that replaced this one: (message id, its letter identifier).
    pub(crate) fn replaced_by(&self) -> Option<(i64, &str)> {
        self.newest_to_addressee.as_ref().filter(|(_, l)| *l != self.letter_id).map(|(id, l)| (*id, l.as_str()))
    }

    /// The first transmission (by message id) in `status`.
    pub(crate) fn first_in(&self, status: Status) -> Option<&Transmission> {
        self.transmissions.iter().find(|t| t.status == status)
    }

    /// The transmissions besides `of` still queued for `send`, by message id: a verdict on the
    /// letter cancels them (sent, they would give the receiver the letter twice).
    pub(crate) fn queued_besides(&self, of: i64) -> Vec<i64> {
        self.transmissions
            .iter()
            .filter(|t| t.message_id != of && matches!(t.status, Status::Generated | Status::Retry))
            .map(|t| t.message_id)
            .collect()
    }
}

/// Histories for the rules' unit tests.
#[cfg(test)]
pub(crate) mod build {
    use super::*;

    /// Transmission `number` (message id `10 * number`) in `status`, handed over unless
    /// still queued or superseded.
    pub fn tx(number: u32, status: Status) -> Transmission {
        Transmission {
            message_id: 10 * i64::from(number),
            number,
            status,
            handed_over: !matches!(status, Status::Generated | Status::Retry | Status::Superseded),
            handed_over_at: None,
            transient_answered: false,
            regenerated_as: None,
            provenance: vec![],
        }
    }

    /// A letter `L` of `kind` with these transmissions, its result's newest letter.
    pub fn letter(kind: Kind, transmissions: Vec<Transmission>) -> LetterHistory {
        let newest = transmissions.iter().map(|t| t.message_id).max().map(|id| (id, "L".to_string()));
        LetterHistory {
            kind,
            letter_id: "L".into(),
            transmissions,
            newest_to_addressee: newest,
            policy: crate::reliable::resend::Policy::GOVERNANCE,
        }
    }

    pub fn fhir(transmissions: Vec<Transmission>) -> LetterHistory {
        letter(Kind::GpCareCommunication, transmissions)
    }
}

#[cfg(test)]
mod tests {
    use super::build::*;
    use super::*;

    #[test]
    fn counts_numbers_and_queued_transmissions() {
        let mut h = fhir(vec![tx(1, Status::Failed), tx(2, Status::Sent), tx(3, Status::Retry)]);
        h.transmissions[0].handed_over = false; // the transport refused it
        assert_eq!(h.handed_over(), 1);
        assert_eq!((h.last_number(), h.next_number()), (3, 4));
        assert_eq!(h.queued_besides(20), [30]);
        assert_eq!(h.queued_besides(30), Vec::<i64>::new());
        assert_eq!(h.newest_first().iter().map(|t| t.number).collect::<Vec<_>>(), [3, 2, 1]);
        assert_eq!(h.replaced_by(), None);
        h.newest_to_addressee = Some((40, "M".into()));
        assert_eq!(h.replaced_by(), Some((40, "M")));
        assert_eq!(fhir(vec![]).next_number(), 1);
    }
}
