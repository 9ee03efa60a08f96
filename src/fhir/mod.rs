//! MedCom FHIR messaging (R4 4.0.1): the CareCommunication letter to the GP (IG
//! `medcom.fhir.dk.carecommunication` 5.0.x), the VANS envelope it travels in, and the
//! Acknowledgement that comes back.
//!
//! - [`carecommunication`] writes the message Bundle (FHIR XML, streamed with quick-xml) from
//!   the checked model, the GP letter text `letters` renders (the same text XDIS91 carries) and
//!   an explicit [`carecommunication::Identity`].
//! - [`vans`] wraps a Bundle in a VANSEnvelope and reads one back.
//! - [`ack`] reads an Acknowledgement into a typed value.
//! - [`restamp`] makes a resend from the stored message: new Bundle.id and send times, the
//!   rest byte for byte.
//! - [`rules`] checks what no XSD can say (MedCom's invariants, slices, fixed values,
//!   required bindings); [`validate`] runs flspost's own schema and those checks together.
//!
//! Which GP gets FHIR is `crate::routing`'s decision; `crate::format` carries the envelope
//! as one wire format; applying Acknowledgements to letters is the journal's
//! (`journal/acknowledgements.rs`).

pub mod ack;
pub mod carecommunication;
pub mod codes;
pub mod dom;
pub mod restamp;
pub mod rules;
pub mod vans;

use crate::schema::{self, MessageKind, Problem};

pub const NAMESPACE: &str = "http://hl7.org/fhir";
pub const XHTML: &str = "http://www.w3.org/1999/xhtml";

pub const CPR_SYSTEM: &str = "urn:oid:1.2.208.176.1.2";
pub const SOR_SYSTEM: &str = "urn:oid:1.2.208.176.1.1";
pub const GLN_SYSTEM: &str = "https://www.gs1.org/gln";
/// Where MedCom's examples and SOR-EDI point an endpoint: the unit's SOR page.
pub const SOR_ENDPOINT_PREFIX: &str = "https://sor2.sum.dsdn.dk/#id=";
/// The base of `fullUrl`s, as in MedCom's examples (with relative `Type/id` references).
pub const FULL_URL_BASE: &str = "https://medcomfhir.dk/ig/carecommunication/";

pub const PROFILE_CC_MESSAGE: &str =
    "http://medcomfhir.dk/ig/carecommunication/StructureDefinition/medcom-careCommunication-message";
pub const PROFILE_CC_HEADER: &str =
    "http://medcomfhir.dk/ig/carecommunication/StructureDefinition/medcom-careCommunication-messageHeader";
pub const PROFILE_CC_COMMUNICATION: &str =
    "http://medcomfhir.dk/ig/carecommunication/StructureDefinition/medcom-careCommunication-communication";
pub const PROFILE_CC_PROVENANCE: &str =
    "http://medcomfhir.dk/ig/carecommunication/StructureDefinition/medcom-careCommunication-provenance";
pub const PROFILE_PATIENT: &str = "http://medcomfhir.dk/ig/core/StructureDefinition/medcom-core-patient";
pub const PROFILE_ORGANIZATION: &str =
    "http://medcomfhir.dk/ig/messaging/StructureDefinition/medcom-messaging-organization";
pub const PROFILE_PRACTITIONER_ROLE: &str =
    "http://medcomfhir.dk/ig/core/StructureDefinition/medcom-core-practitionerrole";
pub const PROFILE_PRACTITIONER: &str = "http://medcomfhir.dk/ig/core/StructureDefinition/medcom-core-practitioner";
pub const PROFILE_ACK_MESSAGE: &str =
    "http://medcomfhir.dk/ig/acknowledgement/StructureDefinition/medcom-messaging-acknowledgement";
pub const PROFILE_ACK_HEADER: &str =
    "http://medcomfhir.dk/ig/acknowledgement/StructureDefinition/medcom-messaging-acknowledgementHeader";

/// `MessageHeader.definition`; `|5.0` as in every MedCom 5.0.x example.
pub const CC_DEFINITION: &str =
    "http://medcomfhir.dk/ig/messagedefinitions/MessageDefinition/MedComCareCommunicationMessageDefinition|5.0";

pub const EXT_BASE: &str = "http://medcomfhir.dk/ig/core/StructureDefinition/";
pub const EXT_DATETIME: &str = "http://medcomfhir.dk/ig/core/StructureDefinition/medcom-core-datetime-extension";
pub const EXT_IDENTIFIER: &str = "http://medcomfhir.dk/ig/core/StructureDefinition/medcom-core-identifier-extension";
pub const EXT_PRACTITIONER: &str =
    "http://medcomfhir.dk/ig/core/StructureDefinition/medcom-core-practitioner-extension";
pub const EXT_CONTACT: &str = "http://medcomfhir.dk/ig/core/StructureDefinition/medcom-core-contact-extension";
pub const EXT_SENDER: &str = "http://medcomfhir.dk/ig/core/StructureDefinition/medcom-core-sender-extension";
pub const EXT_DESTINATION_USE: &str =
    "http://medcomfhir.dk/ig/messaging/StructureDefinition/medcom-messaging-destinationUseExtension";

/// The MIME type of the Bundle in the VANS envelope (`MCM:MIME`).
pub const MIME_FHIR_XML: &str = "application/fhir+xml";

/// Validates a FHIR document flspost knows: its own schema for `kind`, then the rules no
/// XSD expresses. Every problem is returned (schema ones first), each with its position.
pub fn validate(kind: MessageKind, bytes: &[u8]) -> Result<(), Vec<Problem>> {
    // Refused before anything reads it (see `schema::doctype`); an enveloped Bundle too.
    if let Some(p) = schema::doctype(bytes) {
        return Err(vec![p]);
    }
    let mut problems = schema::validate(kind, bytes).err().unwrap_or_default();
    // The rules read the document themselves; a document libxml2 cannot parse is reported
    // once, by the schema step. One libxml2 reads and the rules' reader cannot is refused
    // all the same: a document the rules did not see is never "valid".
    match dom::Document::parse(bytes) {
        Ok(doc) => problems.extend(match kind {
            MessageKind::CareCommunication => rules::care_communication(&doc),
            MessageKind::Acknowledgement => rules::acknowledgement(&doc),
            MessageKind::VansEnvelope => vans::check(&doc),
            _ => vec![],
        }),
        Err(e) if problems.is_empty() => problems.push(Problem {
            line: None,
            column: None,
            message: format!("flspost cannot read the document for its profile checks: {e}"),
        }),
        Err(_) => {}
    }
    if problems.is_empty() {
        Ok(())
    } else {
        problems.sort_by_key(|p| (p.line.unwrap_or(0), p.column.unwrap_or(0)));
        cap(&mut problems);
        Err(problems)
    }
}

/// The most problems reported of one document: a hostile or broken one can have tens of
/// thousands, and the first ones say what is wrong.
pub const MAX_PROBLEMS: usize = 100;

/// Keeps the first [`MAX_PROBLEMS`] (sorted by position) and, in place of the rest, one line
/// at the first of them saying how many there are.
fn cap(problems: &mut Vec<Problem>) {
    if problems.len() <= MAX_PROBLEMS {
        return;
    }
    let more = problems.len() - MAX_PROBLEMS;
    let next = &problems[MAX_PROBLEMS];
    let summary = Problem {
        line: next.line,
        column: next.column,
        message: format!("... and {more} more problems not shown (flspost stops after {MAX_PROBLEMS})"),
    };
    problems.truncate(MAX_PROBLEMS);
    problems.push(summary);
}

/// A FHIR `Bundle` is a CareCommunication or an Acknowledgement: told apart by the Bundle's
/// declared profile, else by the first MessageHeader's event code.
pub fn bundle_kind(bytes: &[u8]) -> MessageKind {
    let Ok(doc) = dom::Document::parse(bytes) else { return MessageKind::CareCommunication };
    let root = doc.root();
    let profile = root.child("meta").and_then(|m| m.child("profile")).and_then(|p| p.value());
    let event = root
        .children_named("entry")
        .filter_map(|e| e.child("resource").and_then(|r| r.first_child()))
        .find(|r| r.name() == "MessageHeader")
        .and_then(|h| h.child("eventCoding"))
        .and_then(|c| c.child("code"))
        .and_then(|c| c.value());
    if profile == Some(PROFILE_ACK_MESSAGE) || (profile.is_none() && event == Some("acknowledgement-message")) {
        MessageKind::Acknowledgement
    } else {
        MessageKind::CareCommunication
    }
}
