//! The journal's records, as the rest of the crate reads and writes them.

pub use crate::model::Status;

use crate::model::Kind;
use serde::Serialize;

/// A stored input version.
#[derive(Clone, Debug, Serialize)]
pub struct InputRow {
    pub id: i64,
    pub result_id: String,
    pub revision: u32,
    #[serde(skip)]
    pub input_json: String,
    pub input_sha256: String,
    pub site: String,
    pub group: String,
    pub cpr_masked: String,
    pub received_at: String,
    /// When retention removed the input's JSON (`journal prune`); its metadata stays.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub pruned_at: Option<String>,
}

/// A stored message (without its bytes; see [`super::Journal::verified_bytes`]).
#[derive(Clone, Debug, Serialize)]
pub struct MessageRow {
    pub id: i64,
    pub input_id: i64,
    pub result_id: String,
    pub kind: Kind,
    #[serde(skip)]
    pub content_sha256: String,
    pub letter_revision: u32,
    pub letter_id: String,
    pub envelope_id: Option<String>,
    /// 1 for the letter's first transmission, +1 per regeneration (each a new envelope).
    #[serde(rename = "transmission")]
    pub transmission: u32,
    pub status_code: String,
    pub status: Status,
    /// Why failed/rejected/superseded; it can quote a server's reply or a receipt's refuse
    /// text, so CPR-like numbers in it are masked wherever a row is printed as JSON.
    #[serde(serialize_with = "crate::support::redact::serialize_redacted_opt")]
    pub reason: Option<String>,
    /// The receiver's code (a receipt's RefuseCode, an Acknowledgement's issue code): its
    /// words, so masked as the reason is.
    #[serde(serialize_with = "crate::support::redact::serialize_redacted_opt")]
    pub refuse_code: Option<String>,
    pub send_failures: u32,
    pub sha256: String,
    pub created_at: String,
    pub updated_at: String,
    pub regenerated_from: Option<i64>,
    pub replaces: Option<i64>,
    /// The message that resent this one (the first, if several), so a list shows a failure
    /// that was dealt with apart from one that was not.
    pub regenerated_as: Option<i64>,
    pub cpr_masked: String,
    /// When retention removed the message's bytes (`journal prune`); its row stays.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub pruned_at: Option<String>,
}

/// A send attempt.
#[derive(Clone, Debug, Serialize)]
pub struct AttemptRow {
    pub id: i64,
    pub envelope_id: Option<String>,
    pub transport: String,
    pub started_at: String,
    pub finished_at: Option<String>,
    pub outcome: Option<String>,
    /// Why it failed: it can quote the server's reply (masked as [`MessageRow::reason`]).
    #[serde(serialize_with = "crate::support::redact::serialize_redacted_opt")]
    pub reason: Option<String>,
}

/// One answer to a letter ([`crate::journal::Journal`]'s `answers_to_letter`): the
/// transmission it answered and the receipt.
#[derive(Clone, Debug, Serialize)]
pub struct LetterAnswer {
    pub message_id: i64,
    pub transmission: u32,
    #[serde(flatten)]
    pub receipt: ReceiptRow,
}

/// A receipt or Acknowledgement stored for a message. What came from its sender is masked
/// when it is serialised, so that every JSON view of it is.
#[derive(Clone, Debug, Serialize)]
pub struct ReceiptRow {
    /// XCTL01/02/03, or `FHIR <code>`.
    #[serde(rename = "type")]
    pub receipt_type: String,
    /// The sender's own identifier for it (XCTL envelope, Bundle.id).
    #[serde(serialize_with = "crate::support::redact::serialize_redacted_id")]
    pub envelope_id: String,
    #[serde(serialize_with = "crate::support::redact::serialize_redacted_opt")]
    pub refuse_code: Option<String>,
    #[serde(serialize_with = "crate::support::redact::serialize_redacted_opt")]
    pub refuse_text: Option<String>,
    pub outcome: String,
    pub received_at: String,
}

/// One row of the audit log.
#[derive(Clone, Debug, Serialize)]
pub struct AuditRow {
    pub id: i64,
    pub at: String,
    pub who: String,
    pub action: String,
    pub target: String,
    /// A person's note or a file name: their words, masked as a reason is.
    #[serde(serialize_with = "crate::support::redact::serialize_redacted_opt")]
    pub detail: Option<String>,
    /// Where it was done from: a console client's address; `None` for the command line.
    pub origin: Option<String>,
}

/// A person who may sign in to the console (`flspost user add`). The hash never leaves the
/// journal's users in output: it is skipped when serialised.
#[derive(Clone, Debug, Serialize)]
pub struct UserRow {
    pub name: String,
    /// `viewer` or `operator`.
    pub role: String,
    #[serde(skip)]
    pub password_hash: String,
    pub created_at: String,
    pub changed_at: String,
}

/// A new input version to store.
pub(crate) struct NewInput<'a> {
    pub result_id: &'a str,
    pub revision: u32,
    pub input_json: &'a str,
    pub input_sha256: &'a str,
    pub site: &'a str,
    pub group: &'a str,
    pub cpr_masked: &'a str,
}

/// A new message to store.
pub(crate) struct NewMessage<'a> {
    pub result_id: &'a str,
    pub kind: Kind,
    pub content_sha256: &'a str,
    pub letter_revision: u32,
    pub letter_id: &'a str,
    pub envelope_id: Option<&'a str>,
    pub transmission: u32,
    pub status_code: &'a str,
    pub bytes: &'a [u8],
    /// SHA-256 of `bytes` (hex), computed where the message was built.
    pub sha256: &'a str,
    /// What `bytes` carry in canonical base64, as their maker put it in: PDFs, and a
    /// document carried whole (an envelope's) that may hold them. The journal stores a PDF
    /// apart from the message by finding its base64 by these; `None` (not known, say a
    /// message made from stored bytes): it decodes every long base64 run to see what it holds.
    pub carries: Option<&'a [crate::compose::Carried]>,
    pub regenerated_from: Option<i64>,
    pub replaces: Option<i64>,
}

/// A new transmission as it was built: what a resend, or the same letter in another kind,
/// gets anew (from a [`crate::compose::Built`] or a [`super::Rebuilt`]).
pub(crate) struct Made<'a> {
    pub letter_id: &'a str,
    pub envelope_id: Option<&'a str>,
    pub transmission: u32,
    pub status_code: &'a str,
    pub bytes: &'a [u8],
    pub sha256: &'a str,
    /// See [`NewMessage::carries`].
    pub carries: Option<&'a [crate::compose::Carried]>,
}

impl<'a> From<&'a crate::compose::Built> for Made<'a> {
    fn from(b: &'a crate::compose::Built) -> Made<'a> {
        Made {
            letter_id: &b.letter_id,
            envelope_id: b.envelope_id.as_deref(),
            transmission: b.transmission,
            status_code: b.status.code(),
            bytes: &b.bytes,
            sha256: &b.sha256,
            carries: b.carried.as_deref(),
        }
    }
}

impl<'a> NewMessage<'a> {
    /// A transmission made from message `of` (its resend, or the same letter as `kind`): of
    /// the same result, letter revision and correction link, regenerated from `of`. The one
    /// place a regenerated message's record is put together, whoever made it.
    pub(crate) fn made_from(of: &'a MessageRow, kind: Kind, content_sha256: &'a str, made: Made<'a>) -> NewMessage<'a> {
        NewMessage {
            regenerated_from: Some(of.id),
            ..NewMessage::new(&of.result_id, kind, content_sha256, of.letter_revision, made, of.replaces)
        }
    }

    /// A message of `result_id` as it was built, correcting letter `replaces` when it does.
    pub fn new(
        result_id: &'a str,
        kind: Kind,
        content_sha256: &'a str,
        letter_revision: u32,
        made: Made<'a>,
        replaces: Option<i64>,
    ) -> NewMessage<'a> {
        NewMessage {
            result_id,
            kind,
            content_sha256,
            letter_revision,
            letter_id: made.letter_id,
            envelope_id: made.envelope_id,
            transmission: made.transmission,
            status_code: made.status_code,
            bytes: made.bytes,
            sha256: made.sha256,
            carries: made.carries,
            regenerated_from: None,
            replaces,
        }
    }
}

/// The result of a send attempt, as the journal records it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) enum AttemptOutcome {
    Sent,
    Transient(String),
    Permanent(String),
    /// The exchange broke off after the message may have been taken (a timeout awaiting
    /// the gateway's reply): neither sent nor not-sent. It counts as handed over (a receipt
    /// for it applies, MedCom's resend limit counts it) and is retried with the same bytes
    /// and envelope, as an interrupted one is.
    Unknown(String),
}

/// How a command uses the journal.
#[derive(Clone, Copy, PartialEq, Eq)]
pub enum Access {
    /// Creates it when absent; may put an existing journal's mode back to 0600.
    ReadWrite,
    /// Never creates or changes anything (`journal list/show/verify`).
    ReadOnly,
}

pub(crate) const INPUT_DAMAGED: &str = "the stored input does not match its SHA-256 (the journal is damaged)";

/// How many rows `journal verify` checked.
#[derive(Clone, Copy, Debug, Default, Serialize)]
pub struct Verified {
    pub messages: u64,
    pub inputs: u64,
    pub refused_inputs: u64,
}

/// A stored message, input or refused input that no longer matches its hash.
#[derive(Clone, Debug, Serialize)]
pub struct Damage {
    /// `message`, `input`, `refused` (a refused input: its id is the number in `R<id>`,
    /// its `result_id` empty when it named none) or `part` (a stored part, by its row).
    pub what: &'static str,
    pub id: i64,
    pub result_id: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub kind: Option<Kind>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub letter_id: Option<String>,
    /// Always `journal_damaged` (the code of [`crate::error::Error::Damaged`]), for the
    /// program reading `journal verify --json`.
    pub code: &'static str,
    pub problem: String,
}

/// An input `generate` refused, as stored (without its bytes, which listing never reads). It is open until a later input for the same result
/// is recorded (`closed_by`, that input's id) or a person closes it (`handled_*`).
#[derive(Clone, Debug)]
pub struct RefusedRow {
    pub id: i64,
    /// `path`, `path:line` or `-`, as the caller named the input (a file may be named after
    /// the patient: masked wherever it is printed).
    pub source: String,
    /// When the input named a valid one.
    pub result_id: Option<String>,
    /// The field refused (`patient.cpr`), `input` for the document as a whole.
    pub field: String,
    pub reason: String,
    /// How many bytes of the input the journal holds (0: none could be read).
    pub input_len: u64,
    pub input_sha256: String,
    pub received_at: String,
    /// The input (an `inputs` row) that closed it.
    pub closed_by: Option<i64>,
    pub handled_at: Option<String>,
    pub handled_by: Option<String>,
    pub handled_note: Option<String>,
}

/// What a refused input's id looks like wherever one is shown or given (`R3`), so that it is
/// never mistaken for a message's id.
pub(crate) const REFUSED_ID_PREFIX: char = 'R';

/// `R<id>`: a refused input's id as shown and as `journal show` takes it.
pub fn refused_label(id: i64) -> String {
    format!("{REFUSED_ID_PREFIX}{id}")
}

/// The refused input's id in `R<id>` (or `r<id>`), if `key` is one.
pub fn parse_refused_label(key: &str) -> Option<i64> {
    let digits = key.strip_prefix(REFUSED_ID_PREFIX).or_else(|| key.strip_prefix('r'))?;
    if digits.is_empty() || !digits.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    digits.parse().ok().filter(|n| *n > 0)
}

/// The stable cause code of a refused input, derived from what is stored (never stored
/// itself, so that it can be refined without touching a row): `input_unreadable` when the
/// journal holds none of the document (`stored_len` 0: not UTF-8, longer than the limit, a
/// file that could not be read, an empty file; there is nothing to correct and send again),
/// otherwise `input_refused/<field>` (`input_refused/gp.ean`, `input_refused/site`,
/// `input_refused/input` for a document that is not a JSON object). The work queue groups by it.
pub(crate) fn refused_code(field: &str, stored_len: u64) -> String {
    crate::reliable::cause::of_refused_input(field, stored_len).code
}

impl RefusedRow {
    /// `R<id>`, see [`refused_label`].
    pub fn label(&self) -> String {
        refused_label(self.id)
    }

    /// See [`refused_code`].
    pub fn code(&self) -> String {
        refused_code(&self.field, self.input_len)
    }

    /// Neither closed by a later input nor by a person.
    pub(crate) fn is_open(&self) -> bool {
        self.closed_by.is_none() && self.handled_at.is_none()
    }

    /// `refused` while open, `refused-closed` once a later input or a person closed it.
    pub fn status(&self) -> &'static str {
        if self.is_open() {
            REFUSED_OPEN
        } else {
            REFUSED_CLOSED
        }
    }
}

/// The status `journal list` gives a refused input, open and closed.
pub(crate) const REFUSED_OPEN: &str = "refused";
pub(crate) const REFUSED_CLOSED: &str = "refused-closed";
/// The kind `journal list` gives a refused input (a message's kind is its format).
pub const REFUSED_KIND: &str = "input";

/// As `journal list --json` and `journal show --json` print it: `"id":"R3"`, `"kind":"input"`,
/// its status and code; what came from the caller (source, field, reason, a note) masked.
impl Serialize for RefusedRow {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        use crate::support::redact::redact_cpr_like;
        #[derive(Serialize)]
        struct View<'a> {
            id: String,
            kind: &'static str,
            status: &'static str,
            result_id: Option<&'a str>,
            source: String,
            field: String,
            code: String,
            reason: String,
            input_size: u64,
            input_sha256: &'a str,
            received_at: &'a str,
            closed_by: Option<i64>,
            handled_at: Option<&'a str>,
            handled_by: Option<&'a str>,
            handled_note: Option<String>,
        }
        View {
            id: self.label(),
            kind: REFUSED_KIND,
            status: self.status(),
            result_id: self.result_id.as_deref(),
            source: redact_cpr_like(&self.source),
            field: redact_cpr_like(&self.field),
            code: redact_cpr_like(&self.code()),
            reason: redact_cpr_like(&self.reason),
            input_size: self.input_len,
            input_sha256: &self.input_sha256,
            received_at: &self.received_at,
            closed_by: self.closed_by,
            handled_at: self.handled_at.as_deref(),
            handled_by: self.handled_by.as_deref(),
            handled_note: self.handled_note.as_deref().map(redact_cpr_like),
        }
        .serialize(s)
    }
}

/// An input `generate` refused, to record ([`super::Writer::record_refused`]).
pub(crate) struct NewRefused<'a> {
    pub source: &'a str,
    pub result_id: Option<&'a str>,
    pub field: &'a str,
    pub reason: &'a str,
    /// Exactly as received; empty when it could not be read.
    pub input_bytes: &'a [u8],
}

/// Which rows `journal list` shows: messages (all, or those in one status) and refused inputs.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ListStatus {
    Message(Status),
    /// Refused inputs still open.
    Refused,
    /// Refused inputs closed by a later input or a person.
    RefusedClosed,
}

impl ListStatus {
    pub fn from_code(code: &str) -> Option<ListStatus> {
        match code {
            REFUSED_OPEN => Some(ListStatus::Refused),
            REFUSED_CLOSED => Some(ListStatus::RefusedClosed),
            other => Status::from_code(other).map(ListStatus::Message),
        }
    }

    /// Every status `--status` takes, messages' first.
    pub fn all_codes() -> Vec<&'static str> {
        Status::ALL.iter().map(|s| s.code()).chain([REFUSED_OPEN, REFUSED_CLOSED]).collect()
    }
}

/// A row of `journal list`: a message or a refused input.
#[derive(Clone, Debug, Serialize)]
#[serde(untagged)]
pub enum Listed {
    Message(MessageRow),
    Refused(RefusedRow),
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_refused_inputs_code_names_its_field_unless_nothing_of_it_could_be_kept() {
        assert_eq!(refused_code("gp.ean", 1045), "input_refused/gp.ean");
        assert_eq!(refused_code("site", 1045), "input_refused/site");
        assert_eq!(refused_code("input", 9), "input_refused/input", "readable, though not a JSON object");
        assert_eq!(refused_code("input", 0), "input_unreadable");
    }

    #[test]
    fn a_refused_inputs_id_reads_back_and_nothing_else_is_taken_for_one() {
        assert_eq!(refused_label(3), "R3");
        assert_eq!(parse_refused_label("R3"), Some(3));
        assert_eq!(parse_refused_label("r17"), Some(17));
        for other in ["3", "R", "R0", "R-1", "R3x", "RX", " R3", "R+3", "OLOKSUEAWXHGRV"] {
            assert_eq!(parse_refused_label(other), None, "{other}");
        }
    }
}
