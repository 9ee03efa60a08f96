//! One message with everything the journal knows about it, for `journal show`.

use crate::error::{Error, Result};
use crate::journal::{AttemptRow, Handled, InputRow, Journal, LetterAnswer, MessageRow, ReceiptRow};

/// A message, its input, its send attempts and receipts, and what regenerated it.
pub struct MessageDetail {
    pub message: MessageRow,
    pub input: InputRow,
    pub attempts: Vec<AttemptRow>,
    pub receipts: Vec<ReceiptRow>,
    /// Every answer the letter got, on any of its transmissions, in the order they came:
    /// MedCom's "the first decides" is the journal's rule, the latest is what the screen shows
    /// as the letter's answer (test protocol 3.3.3.3, 3.4.2); a duplicate is one row.
    pub letter_answers: Vec<LetterAnswer>,
    pub regenerated_as: Option<i64>,
    /// A person closed its problem (`journal handle`).
    pub handled: Option<Handled>,
    /// The patient's CPR number: masked, or as in the input when it was asked for (the
    /// input's own JSON value, whatever it holds).
    pub cpr: serde_json::Value,
}

/// The message `key` names: a journal id, letter identifier, envelope identifier or MeMo
/// UUID (a letter identifier or UUID names its latest transmission).
pub fn show(journal: &Journal, key: &str, reveal_cpr: bool) -> Result<MessageDetail> {
    let message = journal
        .find_message(key)?
        .ok_or_else(|| Error::Usage(format!("no message `{key}` in the journal {}", journal.location())))?;
    let attempts = journal.attempts(message.id)?;
    let receipts = journal.receipts_for(message.id)?;
    let letter_answers = journal.answers_to_letter(message.kind, &message.letter_id)?;
    let input = journal.input(message.input_id)?;
    let regenerated_as = journal.regenerated_as(message.id)?;
    let handled = journal.handled_of(message.id)?;
    let mut cpr = serde_json::Value::String(message.cpr_masked.clone());
    if reveal_cpr {
        let raw: serde_json::Value = serde_json::from_str(&input.input_json).unwrap_or_default();
        cpr = raw["patient"]["cpr"].clone();
    }
    Ok(MessageDetail { message, input, attempts, receipts, letter_answers, regenerated_as, handled, cpr })
}

/// Records in the audit log that `who` had message `id`'s patient's CPR number shown, before
/// it is shown: a CPR number leaves the journal only when a person asks, and that is kept.
pub fn record_reveal(journal: &mut Journal, id: i64, who: &str) -> Result<()> {
    record_reveal_by(journal, id, &crate::support::person::Actor { name: who.to_string(), origin: None })
}

/// [`record_reveal`] for `by` (a console user, from their client's address).
pub fn record_reveal_by(journal: &mut Journal, id: i64, by: &crate::support::person::Actor) -> Result<()> {
    journal.write(|w| w.audit_from(&by.name, by.origin.as_deref(), "reveal-cpr", &format!("message {id}"), None))
}

/// The message whose PDF is the letter `m` is about: `m` itself for a patient letter, else the
/// result's latest patient letter whose bytes are kept (the GP's copy says what it says).
pub fn pdf_message(journal: &Journal, m: &MessageRow) -> Result<Option<i64>> {
    use crate::compose::Addressee;
    if m.kind.addressee() == Addressee::Patient {
        return Ok(m.pruned_at.is_none().then_some(m.id));
    }
    Ok(journal
        .messages_of(&m.result_id)?
        .iter()
        .filter(|x| x.kind.addressee() == Addressee::Patient && x.pruned_at.is_none())
        .map(|x| x.id)
        .max())
}
