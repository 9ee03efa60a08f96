//! Reading an answer file: a MedCom receipt (XCTL01/02/03) or a FHIR Acknowledgement, bare or
//! in the VANSEnvelope it arrives in; validated, parsed, and applied to the letters it answers.

use crate::error::Result;
use crate::formats::fhir::{self, ack, dom::Document, json, vans};
use crate::formats::xdis91::receipt::{self, Receipt};
use crate::journal::{AckOutcome, Journal, Rebuild, Rebuilt, ReceiptOutcome, ResendRequest};
use crate::schema::{self, MessageKind, Problem};
use std::path::Path;

/// What reading one receipt file gave.
pub enum Applied {
    /// The file could not be read as a message; the line says why, naming the file.
    Unreadable(String),
    /// The file is not a MedCom receipt or Acknowledgement; what it is instead, when it is a
    /// message flspost knows.
    NotAReceipt(Option<String>),
    /// A receipt or Acknowledgement its schema or profile rules reject.
    Invalid(Vec<Problem>),
    /// Valid, but its content could not be read.
    Unparsable(String),
    /// Applied: per letter it names, what it did.
    Applied { receipt: Receipt, outcomes: Vec<(String, ReceiptOutcome)> },
    /// A FHIR Acknowledgement, applied.
    Acknowledgement {
        ack: ack::Acknowledgement,
        /// Whether it came in a VANSEnvelope.
        enveloped: bool,
        outcome: AckOutcome,
        /// The Bundle.id of our transmission it was matched to (the Envelope/Identifier of a
        /// letter sent as XDIS91).
        answered_envelope: Option<String>,
        /// `XCTL03`/`XCTL02` when it answered a letter sent as XDIS91, applied as the XCTL VANS
        /// converts it to (`reliable::conversion`).
        read_as: Option<&'static str>,
    },
}

/// Validates the receipt or Acknowledgement at `path` and applies it to `journal`. A
/// `transient-error` Acknowledgement's resend is made by `rebuild` (usually [`resend`]). Only
/// a failure of the journal is an error; anything wrong with the file is an [`Applied`]
/// variant.
pub fn apply(journal: &mut Journal, path: &Path, rebuild: &mut Rebuild<'_>) -> Result<Applied> {
    let bytes = match schema::read_message(path) {
        Ok(b) => b,
        Err(line) => return Ok(Applied::Unreadable(line)),
    };
    // FHIR JSON (an Acknowledgement, bare): judged and read as the FHIR XML it stands for,
    // stored as it came.
    if schema::is_json(&bytes) {
        return match json::to_xml(&bytes) {
            Ok(j) => acknowledgement(journal, &j.xml, Some(&j), &bytes, None, rebuild),
            Err(p) => Ok(Applied::Invalid(vec![p])),
        };
    }
    // Before anything reads it as a receipt or Acknowledgement (see `schema::doctype`).
    if let Some(p) = schema::doctype(&bytes) {
        return Ok(Applied::Invalid(vec![p]));
    }
    match schema::root_of(&bytes).and_then(|r| schema::detect(&r)) {
        Some(MessageKind::Receipt) => {}
        Some(MessageKind::CareCommunication) => return acknowledgement(journal, &bytes, None, &bytes, None, rebuild),
        Some(MessageKind::VansEnvelope) => {
            // What arrives over VANS: the envelope and the Bundle inside it are validated
            // together (problems inside are reported at Data with their place in the Bundle).
            if let Err(problems) = fhir::validate(MessageKind::VansEnvelope, &bytes) {
                return Ok(Applied::Invalid(problems));
            }
            let inner = Document::parse(&bytes)
                .map_err(|e| e.to_string())
                .and_then(|d| vans::data(&d).map(|x| (x.1, vans::end_points(&d))));
            return match inner {
                // The envelope's validation judged a JSON Bundle already (as XML).
                Ok((inner, end_points)) if schema::is_json(&inner) => match json::to_xml(&inner) {
                    Ok(j) => acknowledgement(journal, &j.xml, Some(&j), &bytes, Some(&end_points), rebuild),
                    Err(p) => Ok(Applied::Unparsable(p.message)),
                },
                Ok((inner, end_points)) => acknowledgement(journal, &inner, None, &bytes, Some(&end_points), rebuild),
                Err(e) => Ok(Applied::Unparsable(e)),
            };
        }
        Some(other) => return Ok(Applied::NotAReceipt(Some(other.name().to_string()))),
        None => return Ok(Applied::NotAReceipt(None)),
    }
    if let Err(problems) = schema::validate(MessageKind::Receipt, &bytes) {
        return Ok(Applied::Invalid(problems));
    }
    let receipt = match receipt::parse(&bytes) {
        Ok(r) => r,
        Err(e) => return Ok(Applied::Unparsable(e)),
    };
    let outcomes = journal.apply_receipt(&receipt, &bytes)?;
    Ok(Applied::Applied { receipt, outcomes })
}

/// A FHIR Bundle (`bundle`, FHIR XML; `json`: the FHIR JSON it was written from, whose keys
/// its problems are reported at), bare or from the envelope whose end points are `enveloped`
/// (then checked against the letter): an Acknowledgement is validated, read and applied, and
/// `stored` (the file as received: the envelope, or the bare Bundle in its own format) kept.
fn acknowledgement(
    journal: &mut Journal,
    bundle: &[u8],
    json: Option<&json::FromJson>,
    stored: &[u8],
    enveloped: Option<&vans::EndPoints>,
    rebuild: &mut Rebuild<'_>,
) -> Result<Applied> {
    let in_envelope = if enveloped.is_some() { " in a VANSEnvelope" } else { "" };
    match fhir::bundle_kind(bundle) {
        Ok(MessageKind::Acknowledgement) => {}
        Ok(kind) => return Ok(Applied::NotAReceipt(Some(format!("{}{in_envelope}", kind.name())))),
        Err(why) => return Ok(Applied::NotAReceipt(Some(format!("{why}{in_envelope}")))),
    }
    let ack = match ack::read(bundle) {
        Ok(a) => a,
        // Enveloped, the Bundle passed the envelope's validation already; anything left is
        // its content, not its place in the file.
        Err(e) if enveloped.is_some() => return Ok(Applied::Unparsable(e.to_string())),
        Err(e) => return Ok(Applied::Invalid(json.map(|j| j.located(e.0.clone())).unwrap_or(e.0))),
    };
    let applied = journal.apply_acknowledgement(&ack, enveloped, stored, rebuild)?;
    Ok(Applied::Acknowledgement {
        ack,
        enveloped: enveloped.is_some(),
        outcome: applied.outcome,
        answered_envelope: applied.answered_envelope,
        read_as: applied.read_as,
    })
}

/// The resend a `transient-error` asks for, as `regenerate` makes it: the stored
/// CareCommunication restamped (new Bundle.id, timestamp and Provenance times, now) in a new
/// envelope; the same message, whatever the config says today. The [`Rebuild`] to give
/// [`apply`].
pub fn resend(r: &ResendRequest<'_>) -> Result<Rebuilt> {
    let m = r.message;
    let x = fhir::restamp::resend(r.bytes, &m.letter_id, r.transmission, crate::support::clock::now())?;
    Ok(Rebuilt {
        letter_id: x.message_id,
        envelope_id: Some(x.bundle_id),
        transmission: r.transmission,
        status_code: m.status_code.clone(),
        bytes: x.bytes,
        sha256: x.sha256,
    })
}
