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
    pub attempt: u32,
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
    pub cpr_masked: String,
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
}

/// A new input version to store.
pub struct NewInput<'a> {
    pub result_id: &'a str,
    pub revision: u32,
    pub input_json: &'a str,
    pub input_sha256: &'a str,
    pub site: &'a str,
    pub group: &'a str,
    pub cpr_masked: &'a str,
}

/// A new message to store.
pub struct NewMessage<'a> {
    pub result_id: &'a str,
    pub kind: Kind,
    pub content_sha256: &'a str,
    pub letter_revision: u32,
    pub letter_id: &'a str,
    pub envelope_id: Option<&'a str>,
    pub attempt: u32,
    pub status_code: &'a str,
    pub bytes: &'a [u8],
    /// SHA-256 of `bytes` (hex), computed where the message was built.
    pub sha256: &'a str,
    pub regenerated_from: Option<i64>,
    pub replaces: Option<i64>,
}

/// The result of a send attempt, as the journal records it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum AttemptOutcome {
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

pub const INPUT_DAMAGED: &str = "the stored input does not match its SHA-256 (the journal is damaged)";

/// A stored message or input that no longer matches its hash.
#[derive(Clone, Debug, Serialize)]
pub struct Damage {
    /// `message` or `input`.
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
