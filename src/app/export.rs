//! `journal show ID --input | --bytes | --pdf`: what the journal holds of a message, exactly,
//! checked against its SHA-256, for a person to correct (`regenerate ID --input`), validate or
//! read. Each export holds the patient's CPR number, so each is recorded in the audit log (who,
//! which message, what, where to) before it is written, in a transaction that changes nothing
//! else.

use crate::compose::Addressee;
use crate::error::{Error, Result};
use crate::journal::{Journal, MessageRow, INPUT_DAMAGED};

/// What of a message is written out.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Part {
    /// The input it was built from, as received (JSON).
    Input,
    /// The message's bytes, as they were (or will be) handed to its transport.
    Bytes,
    /// The PDF letter inside a patient letter (MeMo or kombi request).
    Pdf,
}

impl Part {
    /// Its action in the audit log.
    pub fn action(self) -> &'static str {
        match self {
            Part::Input => "export-input",
            Part::Bytes => "export-bytes",
            Part::Pdf => "export-pdf",
        }
    }
}

/// A part of a stored message, read and checked.
pub struct Stored {
    pub message: MessageRow,
    pub part: Part,
    pub bytes: Vec<u8>,
}

impl Stored {
    /// Whether it is text a terminal shows as it is: UTF-8 without control characters but
    /// tab and line ends. An XDIS91 (ISO-8859-1) or a PDF is not.
    pub fn is_plain_text(&self) -> bool {
        std::str::from_utf8(&self.bytes).is_ok_and(|t| !t.chars().any(|c| c.is_control() && !"\t\n\r".contains(c)))
    }
}

/// `part` of message `key` (a journal id, letter identifier, envelope identifier or MeMo UUID):
/// exactly what the journal holds, checked against its SHA-256 ([`Error::Damaged`] when it
/// does not match). Records nothing: see [`record`].
pub fn stored(journal: &Journal, key: &str, part: Part) -> Result<Stored> {
    let m = journal
        .find_message(key)?
        .ok_or_else(|| Error::Usage(format!("no message `{key}` in the journal {}", journal.location())))?;
    let bytes = match part {
        Part::Input => {
            let input = journal.input(m.input_id)?;
            if !crate::input::input_intact(&input.input_json, &input.input_sha256) {
                return Err(Error::Damaged(format!(
                    "input {} of result {} (message {}): {INPUT_DAMAGED}; nothing was written",
                    input.id, m.result_id, m.id
                )));
            }
            input.input_json.into_bytes()
        }
        Part::Bytes => journal.verified_bytes(&m).map_err(nothing_written)?,
        Part::Pdf => {
            if m.kind.addressee() != Addressee::Patient {
                return Err(Error::Usage(format!(
                    "message {} is a {} (the GP's copy); only a patient letter (MeMo or kombi request) carries \
                     the PDF letter: `--bytes` writes this message",
                    m.id,
                    m.kind.code()
                )));
            }
            let stored = journal.verified_bytes(&m).map_err(nothing_written)?;
            m.kind.wire().pdf_in(&stored).ok_or_else(|| {
                Error::Internal(format!("message {} ({}) matches its SHA-256 but holds no PDF", m.id, m.kind.code()))
            })?
        }
    };
    Ok(Stored { message: m, part, bytes })
}

fn nothing_written(e: Error) -> Error {
    match e {
        Error::Damaged(why) => Error::Damaged(format!("{why}; nothing was written")),
        other => other,
    }
}

/// Records in the audit log that the person running this process wrote `s` out to `to` (a
/// file's name, or `standard output`), in one transaction of its own. `to` is the person's
/// own words: CPR-like numbers in it are masked before they are stored.
pub fn record(journal: &mut Journal, s: &Stored, to: &str) -> Result<()> {
    record_by(journal, s, to, &crate::support::person::Actor::local())
}

/// [`record`] for `by` (a console user, from their client's address).
pub fn record_by(journal: &mut Journal, s: &Stored, to: &str, by: &crate::support::person::Actor) -> Result<()> {
    let detail = format!(
        "{} bytes (sha256 {}) to {}",
        s.bytes.len(),
        crate::support::digest::sha256_hex(&s.bytes),
        crate::support::redact::redact_cpr_like(to)
    );
    journal.write(|w| {
        w.audit_from(
            &by.name,
            by.origin.as_deref(),
            s.part.action(),
            &format!("message {}", s.message.id),
            Some(&detail),
        )
    })
}
