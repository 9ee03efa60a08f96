//! What every wire format shares: the letter it is built from ([`Letter`]), the patient's
//! letter as sent ([`MainDocument`]), what it writes ([`Encoded`]), the config it is built
//! with ([`PatientOptions`], [`GpOptions`]) and the trait each format implements
//! ([`WireFormat`]). It names no format: the formats name it.

use crate::error::Result;
use crate::letters::LetterText;
use crate::model::{FlsResult, LetterStatus, MessageKind, Warning};
use crate::schema::{self, Problem};
use chrono::{DateTime, NaiveDate, Utc};

/// How the patient's letter is made, from the config.
#[derive(Clone, Copy, Debug, Default)]
pub struct PatientOptions {
    /// Build a kombi request (MeMo plus print) instead of a MeMo alone.
    pub kombi: bool,
    /// ForsendelseTypeIdentifikator for the kombi request's print part.
    pub print_type: Option<u32>,
    /// Large print for every patient (an input's `patient.large_print` decides for its own).
    pub large_print: bool,
}

/// How the GP's copy is made, from the config.
#[derive(Clone, Copy, Debug, Default)]
pub struct GpOptions {
    /// Attach the patient's PDF letter to a CareCommunication (XDIS91 carries text only).
    pub attach_pdf: bool,
}

/// The letter a MeMo message carries, as the patient gets it: its main document's label and
/// PDF (read back by `memo::write::read_main_document`; a GP format may attach it).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct MainDocument {
    pub label: String,
    pub pdf: Vec<u8>,
}

/// Everything a format builds one message from: the rendered letter, the model and which
/// letter and transmission it is.
pub struct Letter<'a> {
    pub result: &'a FlsResult,
    pub text: &'a LetterText,
    /// The patient's Digital Post notification line (only for the patient's letter).
    pub notification: Option<&'a str>,
    /// The patient's current letter as the patient gets it (its PDF and title), for a GP
    /// format that attaches it ([`GpOptions`]).
    pub patient_letter: Option<&'a MainDocument>,
    pub letter_date: NaiveDate,
    pub now: DateTime<Utc>,
    /// From [`WireFormat::letter_id`].
    pub letter_id: &'a str,
    pub letter_revision: u32,
    pub transmission: u32,
    pub status: LetterStatus,
    pub patient: &'a PatientOptions,
    pub gp: &'a GpOptions,
}

/// A value a message carries in canonical base64, known by its length and first bytes:
/// enough to find it in the message without decoding anything else (storing the patient's
/// PDF once per result), and small enough to keep while a batch round waits to be recorded.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Carried {
    pub len: usize,
    /// Its first [`Carried::HEAD`] bytes (all of it when shorter).
    pub head: Vec<u8>,
}

impl Carried {
    /// A multiple of 3, so the base64 of the head is the first characters of the value's.
    pub const HEAD: usize = 48;

    pub fn of(value: &[u8]) -> Carried {
        Carried { len: value.len(), head: value[..value.len().min(Carried::HEAD)].to_vec() }
    }
}

/// A written message, not yet validated.
pub struct Encoded {
    pub bytes: Vec<u8>,
    /// The envelope identifier, for a format that has envelopes (new on every transmission).
    pub envelope_id: Option<String>,
    /// The letter as a PDF, for a format that carries one.
    pub pdf: Option<Vec<u8>>,
    /// What `bytes` carry in base64 beside `pdf`, as written: an envelope's document, and
    /// the PDF that attaches.
    pub carried: Vec<Carried>,
    pub warnings: Vec<Warning>,
}

/// One wire format: how a letter is written, validated, named and sent.
pub trait WireFormat: Sync {
    /// The schema its messages are validated against.
    fn schema(&self) -> MessageKind;
    /// Its media type, as a mail attachment.
    fn media_type(&self) -> &'static str;
    /// Its name for a person (a mail's subject and note).
    fn label(&self) -> &'static str;
    /// A file name in an outbox that no other message has.
    fn outbox_file_name(&self, letter_id: &str, envelope_id: Option<&str>, transmission: u32) -> String;
    /// The identity rule: a letter's identifier, the same for every transmission of one
    /// letter revision of a result.
    fn letter_id(&self, result: &FlsResult, letter_revision: u32) -> String;
    /// Writes the message for `letter`.
    fn build(&self, letter: &Letter<'_>) -> Result<Encoded>;
    /// Validates a written message: its schema, and for a format with rules no XSD
    /// expresses, those too.
    fn validate(&self, bytes: &[u8]) -> std::result::Result<(), Vec<Problem>> {
        schema::validate(self.schema(), bytes)
    }
    /// The letter's PDF inside a stored message of this format, for a format that carries
    /// one (the output folder is rewritten from the journal's bytes).
    fn pdf_in(&self, _bytes: &[u8]) -> Option<Vec<u8>> {
        None
    }
}
