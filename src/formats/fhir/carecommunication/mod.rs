//! The CareCommunication writer: one FHIR R4 message Bundle (XML, UTF-8) carrying the GP's
//! copy of an FLS result, as MedCom's IG 5.0.x and its examples describe it.
//!
//! Entries, in the order of MedCom's examples: MessageHeader (first, bdl-12), Patient,
//! Communication, PractitionerRole, Practitioner, the sending Organization, the GP practice's
//! Organization, and one Provenance `new-message`. Every resource but the Bundle has a Danish
//! narrative showing what MedCom requires in narrative; the PDF's base64 never appears there.
//!
//! What the letter says is the GP text `letters` renders, the same text XDIS91 carries: its
//! subject is `Communication.topic`, its body (paragraphs, line breaks as `&#xA;`) the string
//! payload. Identity comes from [`Identity`], which the caller derives ([`Identity::derive`]).
//!
//! A correction of a letter already sent is a new message: activity `new-message` (the
//! CareCommunication activities are new/reply/forward; there is no `modify`), a new
//! `MessageHeader.id` (changed content, MedCom reliable messaging) and, as every new message,
//! a new thread. MedCom's XDIS91 mapping (January 2026) maps `Letter.StatusCode`, so also
//! `rettetbrev`, to `Provenance.activity` "Default: new-message". See README, "Corrections".
//!
//! The files: this one holds the types, [`write()`] (the checks, then each resource in order)
//! and [`build()`]; `resources.rs` writes the resources, `narrative.rs` their XHTML, `out.rs`
//! the FHIR XML they are made of.

mod narrative;
mod out;
mod resources;

use super::validation::validate;
use crate::error::Error;
use crate::formats::fhir::consts::{NAMESPACE, PROFILE_CC_MESSAGE};
use crate::formats::identity;
use crate::formats::xml::Xml;
use crate::input::InputError;
use crate::letters::LetterText;
use crate::model::FlsResult;
use crate::model::MessageKind;
use chrono::{DateTime, FixedOffset, Utc};
use narrative::Html;
use out::Out;
use resources::Parts;
use uuid::Uuid;

pub use narrative::phone_digits;

/// The optional PDF for the GP: a second payload, `application/pdf`.
#[derive(Clone, Debug)]
pub struct Attachment<'a> {
    pub pdf: &'a [u8],
    /// Shown to the GP; MedCom: without a `.pdf` suffix (it is cut here if present).
    pub title: &'a str,
    /// The payload identifier (`urn:uuid:` + this, lower case).
    pub identifier: Uuid,
    /// The payload date (when the document was approved).
    pub date: DateTime<FixedOffset>,
}

/// Who this message is and when it is sent; MedCom's identity rules
/// (research note §3.3): `message_id` identifies the letter and stays the same when the same
/// content is resent; `bundle_id` is new on every send (it is the VANS envelope identifier);
/// `sent` gives Bundle.timestamp and the Provenance times.
#[derive(Clone, Debug)]
pub struct Identity<'a> {
    /// `MessageHeader.id`.
    pub message_id: Uuid,
    /// `Bundle.id`.
    pub bundle_id: Uuid,
    /// `Communication.identifier`: the thread (new for every new message, kept on resend).
    pub thread_id: Uuid,
    pub sent: DateTime<Utc>,
    pub attachment: Option<Attachment<'a>>,
}

impl Identity<'static> {
    /// The identity of send `attempt` (1, 2, ...) of revision `revision` (0, 1, ...) of a
    /// result's GP letter, derived like the XDIS91 identifiers (`ids`), so a regeneration
    /// cannot mint a second letter.
    pub fn derive(r: &FlsResult, revision: u32, transmission: u32, sent: DateTime<Utc>) -> Identity<'static> {
        let message_id = identity::fhir_message_id(r.sender.ean.as_str(), &r.result_id, revision);
        Identity {
            message_id,
            bundle_id: identity::fhir_bundle_id(
                &message_id,
                transmission,
                sent.timestamp_nanos_opt().unwrap_or_default(),
            ),
            thread_id: identity::fhir_thread_id(r.sender.ean.as_str(), &r.result_id, revision),
            sent,
            attachment: None,
        }
    }
}

impl<'a> Identity<'a> {
    /// The identifier of the PDF payload of this message: fixed by the message id.
    pub fn attachment_id(&self) -> Uuid {
        identity::fhir_part_id(&self.message_id, "payload-attachment")
    }
}

/// Everything one CareCommunication needs.
pub struct CareCommunication<'a> {
    pub result: &'a FlsResult,
    /// The GP letter (`format::Addressee::Gp`), as XDIS91 gets it.
    pub text: &'a LetterText,
    pub identity: &'a Identity<'a>,
}

/// The first input text the Bundle carries that holds a character XML 1.0 has not (U+FFFE,
/// U+FFFF: the input refuses control characters, and a Rust string holds no surrogate), with
/// its field. The XDIS91 and the patient's letter refuse it by their own character sets, but
/// some of these only this letter carries (`gp.name`, the author's structured name): without
/// this they reached the schema check after writing, a bug's exit 3, not the input's exit 2.
fn not_xml(r: &FlsResult) -> Option<(String, char)> {
    let (p, g, s, a) = (&r.patient, &r.gp, &r.sender, &r.author);
    let mut texts: Vec<(String, Option<&str>)> = [
        ("patient.given_name", p.given_name.as_deref()),
        ("patient.surname", Some(p.surname.as_str())),
        ("gp.name", g.name.as_deref()),
        ("sender.organisation", Some(s.organisation.as_str())),
        ("sender.department", s.department.as_deref()),
        ("sender.phone", s.phone.as_deref()),
        ("author.name", Some(a.name.as_str())),
        ("author.title", a.title.as_deref()),
        ("author.given_name", a.given_name.as_deref()),
        ("author.surname", a.surname.as_deref()),
    ]
    .into_iter()
    .map(|(field, v)| (field.to_string(), v))
    .collect();
    for (party, address) in [("patient", &p.address), ("gp", &g.address), ("sender", &s.address)] {
        if let Some(ad) = address {
            texts.push((format!("{party}.address.street"), Some(ad.street.as_str())));
            texts.push((format!("{party}.address.city"), Some(ad.city.as_str())));
        }
    }
    texts
        .into_iter()
        .find_map(|(field, v)| v?.chars().find(|c| matches!(c, '\u{FFFE}' | '\u{FFFF}')).map(|c| (field, c)))
}

/// Writes the message. An error names the input field a FHIR letter needs and the result
/// lacks (see [`FlsResult::missing_for_fhir`]); anything else wrong would be a bug, which the
/// validation after writing catches.
pub fn write(m: &CareCommunication<'_>) -> Result<Vec<u8>, InputError> {
    let r = m.result;
    if let Some((field, why)) = r.missing_for_fhir() {
        return Err(InputError::new(field, format!("required for a FHIR CareCommunication: {why}")));
    }
    if let Some((field, c)) = not_xml(r) {
        return Err(InputError::new(
            field,
            format!(
                "character U+{:04X} cannot be written in a FHIR CareCommunication: XML has no such character",
                c as u32
            ),
        ));
    }
    let parts = Parts::of(m);
    let (id, attachment, body) = (m.identity, parts.attachment, &parts.body);

    let capacity = 16_384 + body.len() * 2 + attachment.map_or(0, |a| a.pdf.len() * 4 / 3 + 4);
    let mut o = Out(Xml::indented(capacity).with_tag_capacity(256));
    let mut h = Html::default();
    o.0.decl("UTF-8");
    o.with_attr("Bundle", "xmlns", NAMESPACE, false);
    o.prim("id", &id.bundle_id.hyphenated().to_string());
    o.open("meta");
    o.prim("profile", PROFILE_CC_MESSAGE);
    o.close("meta");
    o.prim("type", "message");
    o.prim("timestamp", &parts.sent);

    resources::header(&mut o, &mut h, &parts);
    resources::patient(&mut o, &mut h, &parts);
    resources::communication(&mut o, &mut h, &parts);
    resources::practitioners(&mut o, &mut h, &parts);
    resources::organizations(&mut o, &mut h, &parts);
    resources::provenance(&mut o, &mut h, &parts);

    o.close("Bundle");
    Ok(o.0.finish())
}

/// Writes the message and validates it (flspost's schema and the profile rules): the bytes
/// that may be handed on. A message that fails is a bug ([`Error::Invalid`], exit 3).
pub fn build(m: &CareCommunication<'_>) -> Result<Vec<u8>, Error> {
    let bytes = write(m)?;
    validate(MessageKind::CareCommunication, &bytes)
        .map_err(|problems| Error::Invalid { kind: MessageKind::CareCommunication, problems })?;
    Ok(bytes)
}
