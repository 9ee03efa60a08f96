//! A CareCommunication message Bundle (medcom-careCommunication-message 5.0.4 and what it
//! inherits): the message's own invariants, then each resource's rules.

use super::communication::communication_rules;
use super::header::header_rules;
use super::message::Bundle;
use super::patient::patient_rules;
use super::provenance::provenance_rules;
use super::Findings;
use crate::formats::fhir::codes;
use crate::formats::fhir::consts::{PROFILE_CC_HEADER, PROFILE_CC_MESSAGE, PROFILE_CC_PROVENANCE};
use crate::formats::fhir::dom::{Document, El};

/// The 5.0.3+ `medcom-carecommunication-definition-url`:
/// `^http://medcomfhir.dk/ig/messagedefinitions/MessageDefinition/MedComCareCommunicationMessageDefinition[|]5[.][0-9]{1,2}$`.
pub(super) fn definition_url_ok(v: &str) -> bool {
    let prefix =
        "http://medcomfhir.dk/ig/messagedefinitions/MessageDefinition/MedComCareCommunicationMessageDefinition|5.";
    v.strip_prefix(prefix)
        .is_some_and(|minor| (1..=2).contains(&minor.len()) && minor.bytes().all(|b| b.is_ascii_digit()))
}

/// Checks a CareCommunication message Bundle (medcom-careCommunication-message 5.0.4 and
/// what it inherits).
pub fn care_communication(doc: &Document) -> Findings {
    let mut b = Bundle::new(doc);
    b.common(PROFILE_CC_MESSAGE);
    if b.root.name() != "Bundle" {
        return b.findings();
    }
    let root = b.root;
    let headers = b.of_type("MessageHeader");
    let communications = b.of_type("Communication");
    let provenances = b.of_type("Provenance");

    // medcom-careCommunication-1: entry[0].resource.ofType(MessageHeader).meta.profile.startsWith(...)
    let first_header = b.entries.list.first().map(|(_, r)| *r).filter(|r| r.name() == "MessageHeader");
    let cc1 = first_header.is_some_and(|h| {
        let p: Vec<&str> = h.all(&["meta", "profile"]).iter().filter_map(|p| p.value()).collect();
        p.len() == 1 && p[0].starts_with(PROFILE_CC_HEADER)
    });
    if !cc1 {
        b.report(
            first_header.unwrap_or(root),
            "medcom-careCommunication-1",
            "the first entry must be a MessageHeader whose meta.profile is medcom-careCommunication-messageHeader",
        );
    }
    // medcom-careCommunication-2
    let patients = b.of_type("Patient");
    if patients.len() != 1 {
        b.report(
            root,
            "medcom-careCommunication-2",
            format!("the Bundle holds {} Patient resources; exactly one is required", patients.len()),
        );
    }
    // medcom-careCommunication-3
    for p in &provenances {
        let prof: Vec<&str> = p.all(&["meta", "profile"]).iter().filter_map(|x| x.value()).collect();
        if !(prof.len() == 1 && prof[0].starts_with(PROFILE_CC_PROVENANCE)) {
            b.report(
                *p,
                "medcom-careCommunication-3",
                "every Provenance must declare meta.profile medcom-careCommunication-provenance",
            );
        }
    }
    // medcom-careCommunication-4: entry.resource.ofType(Practitioner).name.exists()
    if !b.of_type("Practitioner").iter().any(|p| p.child("name").is_some()) {
        b.report(root, "medcom-careCommunication-4", "a Practitioner with a name is required");
    }
    // medcom-careCommunication-13
    if !b.of_type("PractitionerRole").iter().any(|r| r.value_at(&["practitioner", "reference"]).is_some()) {
        b.report(root, "medcom-careCommunication-13", "a PractitionerRole referencing its Practitioner is required");
    }
    // medcom-messaging-2
    if provenances.is_empty() {
        b.report(root, "medcom-messaging-2", "a message needs at least one Provenance");
    }
    let header = headers.first().copied();
    let sender_org = header.and_then(|h| b.target(h.child("sender")));
    let receiver_orgs: Vec<El<'_>> = header
        .map(|h| h.children_named("destination").filter_map(|d| b.target(d.child("receiver"))).collect())
        .unwrap_or_default();
    let communication = communications.first().copied();
    if let Some(c) = communication {
        // medcom-careCommunication-11: a more specific sender belongs to the MessageHeader's sender.
        let exts: Vec<El<'_>> = c.children_named("extension").collect();
        if !exts.is_empty() {
            let ok = exts.iter().filter_map(|e| b.target(e.child("valueReference"))).any(|t| {
                ["managingOrganization", "organization"]
                    .iter()
                    .any(|f| b.target(t.child(f)).zip(sender_org).is_some_and(|(o, s)| o.same(&s)))
            });
            if !ok {
                b.report(
                    c,
                    "medcom-careCommunication-11",
                    "Communication.extension:sender must belong to the MessageHeader's sender organization",
                );
            }
        }
        // medcom-careCommunication-12
        if let Some(rec) = c.child("recipient") {
            let ok = b.target(Some(rec)).is_some_and(|t| {
                ["managingOrganization", "organization"]
                    .iter()
                    .any(|f| b.target(t.child(f)).is_some_and(|o| receiver_orgs.iter().any(|r| r.same(&o))))
            });
            if !ok {
                b.report(
                    rec,
                    "medcom-careCommunication-12",
                    "Communication.recipient must belong to the MessageHeader's receiver",
                );
            }
        }
        // medcom-careCommunication-15 (5.0.4)
        let encounters = b.of_type("Encounter");
        let encounter_ref = c.child("encounter");
        let cc15 = if encounters.is_empty() {
            encounter_ref.is_none()
        } else {
            let target = b.target(encounter_ref);
            encounters.len() == 1 && target.is_some_and(|t| t.same(&encounters[0]))
        };
        if !cc15 {
            b.report(encounter_ref.unwrap_or(root), "medcom-careCommunication-15", "an Encounter in the Bundle must be referenced by Communication.encounter, and Communication.encounter needs that Encounter");
        }
    }
    if communications.len() != 1 {
        b.report(
            root,
            "cardinality",
            format!(
                "the Bundle holds {} Communication resources; a CareCommunication has exactly one",
                communications.len()
            ),
        );
    }
    if headers.len() != 1 {
        b.report(
            root,
            "cardinality",
            format!("the Bundle holds {} MessageHeader resources; a message has exactly one", headers.len()),
        );
    }
    if let Some(h) = header {
        header_rules(&mut b, h, codes::MESSAGE_TYPES, "care-communication-message");
        if let Some(f) = h.child("focus") {
            b.bundled(f, &["Communication"]);
        } else {
            b.report(h, "cardinality", "MessageHeader.focus 1..1 is missing");
        }
        match h.child("definition") {
            None => b.report(h, "cardinality", "MessageHeader.definition 1..1 is missing"),
            Some(d) if !definition_url_ok(d.value().unwrap_or("")) => b.report(
                d,
                "medcom-carecommunication-definition-url",
                format!("`{}` is not MedComCareCommunicationMessageDefinition|5.x", d.value().unwrap_or("")),
            ),
            Some(_) => {}
        }
    }
    if let Some(c) = communication {
        communication_rules(&mut b, c);
    }
    for p in provenances {
        provenance_rules(&mut b, p);
    }
    for p in patients {
        patient_rules(&mut b, p);
    }
    b.findings()
}
