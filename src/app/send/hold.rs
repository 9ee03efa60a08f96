//! When a permanent reply is the transport's failure, not the letter's: the streak rule.
//!
//! A broken gateway answers every letter with the same 5xx. Each reply alone looks like the
//! letter's own failure (`failed`, for a person to resend), so without this rule a gateway
//! that answered `550` for half a second failed every letter of the queue for good. The rule,
//! per transport (`[transport.gp]`, `[transport.patient]`) and within one `send` run:
//!
//! - A **streak** is a run of permanent replies, one after the other on that transport, whose
//!   texts are identical once [normalised](normalise). A success, a transient or unknown
//!   outcome, or a permanent reply with another text ends it.
//! - When a streak covers `[send] hold_after_identical_permanent` **different receivers**
//!   (the GP's EAN for a GP letter, the patient's CPR number for the patient's: a second
//!   letter to the same receiver is in the streak, but is no more evidence), the transport is
//!   **held**: the streak's messages stay `retry` with a reason naming the reply, and the rest
//!   of that transport's queue waits for the next `send`, which starts with no streak and
//!   tries again (a gateway still broken is held again after as many letters, so it never
//!   burns through the queue).
//! - A streak that ends short of that (or is still short when the run ends) was the letters'
//!   own: each of its messages is `failed` with its reply, as without the rule.
//!
//! - A letter held by an earlier run is tried after the others (its queue goes first), and
//!   when the same run's transport has taken another letter since, a permanent reply to it is
//!   its own: it fails (three letters to three unknown addresses, answered alike, are not held
//!   for ever in front of the queue).
//!
//! `0` turns the rule off (every permanent reply fails its letter at once); `1` is refused
//! by the config (one reply is no streak). A queue with fewer receivers than the threshold
//! cannot show its transport is broken, and fails its letters as before.

use crate::journal::MessageRow;

/// A reply's text as two replies are compared: what differs from one message to the next
/// in an otherwise identical reply is replaced, so "the same 5xx for different receivers" is
/// recognised when the server quotes the message.
///
/// 1. CPR-like numbers are masked (as in every reply flspost shows).
/// 2. Anything in angle brackets (a mail address, a Message-ID: `<…>`) becomes `<>`.
/// 3. The message's own identifiers where the reply quotes them (its letter identifier or
///    MeMo UUID, its envelope identifier, its result id) become `<id>`.
/// 4. A word with an `@` in it (an address without brackets) becomes `<address>`.
/// 5. Runs of white space become one space, and the ends are trimmed.
///
/// Nothing else: a status code, an enhanced code and the server's words stay, so `550
/// 5.1.1` and `550 5.7.1` are different replies; a reply that carries some other token of its
/// own per message (a queue id of its own making) is never identical, and its letters fail
/// one by one as before (holding wrongly would be worse than not holding).
pub(crate) fn normalise(reply: &str, m: &MessageRow) -> String {
    let masked = crate::support::redact::redact_cpr_like(reply);
    let mut text = String::with_capacity(masked.len());
    let mut rest = masked.as_str();
    while let Some(open) = rest.find('<') {
        let Some(close) = rest[open..].find('>') else { break };
        text.push_str(&rest[..open]);
        text.push_str("<>");
        rest = &rest[open + close + 1..];
    }
    text.push_str(rest);
    let mut own: Vec<&str> = [Some(m.letter_id.as_str()), m.envelope_id.as_deref(), Some(m.result_id.as_str())]
        .into_iter()
        .flatten()
        .filter(|id| !id.is_empty())
        .collect();
    // Longest first, so one identifier inside another is not half replaced.
    own.sort_by_key(|id| std::cmp::Reverse(id.len()));
    for id in own {
        text = text.replace(id, "<id>");
    }
    text.split_whitespace()
        .map(|word| if word.contains('@') { "<address>" } else { word })
        .collect::<Vec<_>>()
        .join(" ")
}

/// One message of a streak: recorded `permanent`, waiting for the streak's decision.
pub(crate) struct Provisional {
    pub message: MessageRow,
    pub reply: String,
}

/// A run of identical permanent replies from one transport, not yet decided.
pub(crate) struct Streak {
    /// The reply as compared ([`normalise`]).
    pub key: String,
    /// The first reply as the server gave it.
    pub reply: String,
    pub messages: Vec<Provisional>,
    receivers: std::collections::BTreeSet<String>,
}

impl Streak {
    pub fn new(key: String, reply: &str) -> Streak {
        Streak { key, reply: reply.to_string(), messages: vec![], receivers: Default::default() }
    }

    /// Adds a message; `receiver` is `None` when its input does not say (counted as a
    /// receiver of its own, by its message id).
    pub fn push(&mut self, message: MessageRow, reply: String, receiver: Option<String>) {
        self.receivers.insert(receiver.unwrap_or_else(|| format!("message {}", message.id)));
        self.messages.push(Provisional { message, reply });
    }

    /// How many different receivers the streak's replies were for.
    pub fn receivers(&self) -> usize {
        self.receivers.len()
    }
}

/// The reason a held message carries (in the journal and on its line): the reply, masked,
/// and what happens next.
/// How a held message's reason begins.
pub(crate) const HELD: &str = "transport held:";

/// Whether `m` was held by an earlier run's streak.
pub(crate) fn was_held(m: &MessageRow) -> bool {
    m.reason.as_deref().is_some_and(|r| r.starts_with(HELD))
}

pub(crate) fn held_reason(replies: usize, receivers: usize, transport: &str, reply: &str) -> String {
    format!(
        "{HELD} {replies} identical permanent replies from {transport} for {receivers} different \
         receivers ({}): the transport, not this letter, is failing; it waits for the next `flspost send`",
        crate::support::redact::redact_cpr_like(reply)
    )
}

/// The reason a message carries between its permanent reply and the streak's decision
/// (seen only by a `journal list` meanwhile, or after a killed `send`).
pub(crate) fn provisional_reason(reply: &str) -> String {
    format!(
        "{reply} (permanent reply, not yet decided: `send` holds the transport instead of failing letters when \
         it refuses several receivers alike; a killed `send` leaves it to be tried again)"
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    fn row(id: i64, letter: &str, envelope: &str) -> MessageRow {
        MessageRow {
            id,
            input_id: id,
            result_id: format!("FLS-AUH-2025-{id:04}"),
            kind: crate::model::Kind::GpXdis91,
            content_sha256: String::new(),
            letter_revision: 0,
            letter_id: letter.into(),
            envelope_id: Some(envelope.into()),
            transmission: 1,
            status_code: "nytbrev".into(),
            status: crate::model::Status::Generated,
            reason: None,
            refuse_code: None,
            send_failures: 0,
            sha256: String::new(),
            created_at: String::new(),
            updated_at: String::new(),
            regenerated_from: None,
            replaces: None,
            regenerated_as: None,
            cpr_masked: String::new(),
            pruned_at: None,
        }
    }

    #[test]
    fn what_differs_per_message_is_normalised_and_nothing_else() {
        let (a, b) = (row(1, "LETTERAAAA01", "ENVAAAA01"), row(2, "LETTERBBBB02", "ENVBBBB02"));
        let same = |x: &str, y: &str| normalise(x, &a) == normalise(y, &b);
        assert!(same(
            "SMTP server refused: permanent error (550): 5.1.1 <vans@vans.example.dk>: Recipient rejected",
            "SMTP server refused: permanent error (550): 5.1.1 <vans@vans.example.dk>: Recipient rejected",
        ));
        assert!(same(
            "550 5.7.1 message <ENVAAAA01.LETTERAAAA01.1@flspost> refused",
            "550 5.7.1 message <ENVBBBB02.LETTERBBBB02.1@flspost> refused"
        ));
        assert!(same("550 5.7.1 letter LETTERAAAA01 refused", "550 5.7.1  letter LETTERBBBB02 refused "));
        assert!(same("550 5.7.1 result FLS-AUH-2025-0001 refused", "550 5.7.1 result FLS-AUH-2025-0002 refused"));
        assert!(same("550 user a@x.dk unknown", "550 user b@y.dk unknown"));
        assert!(same("550 patient 0101701234 refused", "550 patient 0202801234 refused"));
        // A different code, or a token the server makes per message, is another reply.
        assert!(!same("550 5.1.1 unknown", "550 5.7.1 unknown"));
        assert!(!same("554 rejected (queue 4F3A)", "554 rejected (queue 9B1C)"));
        assert!(!same("550 letter LETTERBBBB02", "550 letter LETTERBBBB02"), "the other's identifier is not own");
    }

    #[test]
    fn a_streak_counts_receivers_not_letters() {
        let mut s = Streak::new("k".into(), "550");
        s.push(row(1, "A", "EA"), "550".into(), Some("5790000000001".into()));
        s.push(row(2, "B", "EB"), "550".into(), Some("5790000000001".into()));
        s.push(row(3, "C", "EC"), "550".into(), None);
        s.push(row(4, "D", "ED"), "550".into(), None);
        assert_eq!((s.messages.len(), s.receivers()), (4, 3));
    }
}
