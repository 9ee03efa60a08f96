//! An Acknowledgement message Bundle (medcom-messaging-acknowledgement 2.0.3).

use super::header::header_rules;
use super::message::Bundle;
use super::Findings;
use crate::formats::fhir::codes;
use crate::formats::fhir::consts::{PROFILE_ACK_HEADER, PROFILE_ACK_MESSAGE};
use crate::formats::fhir::dom::Document;

/// Checks an Acknowledgement message Bundle (medcom-messaging-acknowledgement 2.0.3).
pub fn acknowledgement(doc: &Document) -> Findings {
    let mut b = Bundle::new(doc);
    b.common(PROFILE_ACK_MESSAGE);
    if b.root.name() != "Bundle" {
        return b.findings();
    }
    let root = b.root;
    let headers = b.of_type("MessageHeader");
    let Some(h) = headers.first().copied() else {
        b.report(root, "cardinality", "an Acknowledgement needs a MessageHeader");
        return b.findings();
    };
    // medcom-acknowledgement-2 (conformsTo the acknowledgement header): its declared profile,
    // the event and the response it must carry.
    let profiles: Vec<&str> = h.all(&["meta", "profile"]).iter().filter_map(|p| p.value()).collect();
    if !profiles.contains(&PROFILE_ACK_HEADER) {
        b.report(
            h,
            "medcom-acknowledgement-2",
            "the MessageHeader must conform to medcom-messaging-acknowledgementHeader (declare it in meta.profile)",
        );
    }
    header_rules(&mut b, h, codes::MESSAGE_TYPES, "acknowledgement-message");
    let code = h.value_at(&["response", "code"]);
    match h.child("response") {
        None => b.report(h, "cardinality", "MessageHeader.response 1..1 is missing"),
        Some(r) => {
            if r.value_at(&["identifier"]).is_none() {
                b.report(r, "cardinality", "MessageHeader.response.identifier 1..1 is missing");
            }
            match code {
                Some(c) if codes::RESPONSE_CODES.contains(&c) => {}
                c => b.report(
                    r,
                    "binding",
                    format!("response.code `{}` is not ok, transient-error or fatal-error", c.unwrap_or("")),
                ),
            }
        }
    }
    // medcom-acknowledgement-1
    if code != Some("ok") && b.of_type("OperationOutcome").is_empty() {
        b.report(h, "medcom-acknowledgement-1", "a response other than `ok` must include an OperationOutcome");
    }
    b.findings()
}
