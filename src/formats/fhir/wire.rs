//! MedCom FHIR CareCommunication to the GP, in its VANS envelope.
//!
//! What is stored, sent and written to the output folder is the VANSEnvelope: that is what
//! travels over VANS (SMTP or an outbox), and it carries the Bundle whole. The letter is
//! identified by `MessageHeader.id` (the same on every resend of one letter revision); the
//! envelope by `Bundle.id`, new on every transmission (MedCom rule MR7).

use crate::error::{Error, Result};
use crate::formats::fhir::carecommunication::{self as cc, Attachment, Identity};
use crate::formats::fhir::validation::validate;
use crate::formats::fhir::{codes, vans};
use crate::formats::identity;
use crate::formats::wire::{Carried, Encoded, Letter, WireFormat};
use crate::model::FlsResult;
use crate::schema::{MessageKind, Problem};

pub(crate) struct CareCommunication;

impl WireFormat for CareCommunication {
    fn schema(&self) -> MessageKind {
        MessageKind::VansEnvelope
    }

    fn media_type(&self) -> &'static str {
        "application/xml; charset=UTF-8"
    }

    fn label(&self) -> &'static str {
        "CareCommunication"
    }

    /// By its envelope identifier (the Bundle.id), new on every send.
    fn outbox_file_name(&self, letter_id: &str, envelope_id: Option<&str>, transmission: u32) -> String {
        match envelope_id {
            Some(env) => format!("carecommunication-{env}.xml"),
            None => format!("carecommunication-{letter_id}-{transmission}.xml"),
        }
    }

    fn letter_id(&self, r: &FlsResult, letter_revision: u32) -> String {
        identity::fhir_message_id(r.sender.ean.as_str(), &r.result_id, letter_revision).hyphenated().to_string()
    }

    fn build(&self, l: &Letter<'_>) -> Result<Encoded> {
        let r = l.result;
        let mut identity = Identity::derive(r, l.letter_revision, l.transmission, l.now);
        // The GP sees the patient's letter as the patient got it: the very PDF, not one
        // rendered again (that would carry today's date, and never the correction).
        let pdf = match (l.gp.attach_pdf, l.patient_letter) {
            (true, Some(letter)) => Some((letter.pdf.as_slice(), letter.label.as_str())),
            (true, None) => return Err(Error::Internal("a GP PDF was asked for without the patient's letter".into())),
            (false, _) => None,
        };
        let attachment_id = identity.attachment_id();
        identity.attachment =
            pdf.map(|(pdf, title)| Attachment { pdf, title, identifier: attachment_id, date: r.classified_at });
        // Validated once, inside the envelope, by the caller (`validate` below).
        let bundle = cc::write(&cc::CareCommunication { result: r, text: l.text, identity: &identity })?;
        let envelope = vans::write(&vans::Envelope {
            sender_ean: r.sender.ean.as_str(),
            receiver_ean: r.gp.ean.as_str(),
            bundle_id: identity.bundle_id,
            sent: l.now,
            document_name: &vans::care_communication_name(codes::FLS_CATEGORY),
            bundle: &bundle,
        });
        Ok(Encoded {
            bytes: envelope,
            envelope_id: Some(identity.bundle_id.hyphenated().to_string()),
            // The patient's PDF in the output folder comes from the patient's own message.
            pdf: None,
            carried: std::iter::once(&*bundle).chain(pdf.map(|(pdf, _)| pdf)).map(Carried::of).collect(),
            // The PDF's warnings are the patient letter's, reported when it was built.
            warnings: vec![],
        })
    }

    /// The envelope's schema and checks, which validate the enveloped Bundle in full
    /// (flspost's profile schema and MedCom's invariants).
    fn validate(&self, bytes: &[u8]) -> std::result::Result<(), Vec<Problem>> {
        validate(MessageKind::VansEnvelope, bytes)
    }
}
