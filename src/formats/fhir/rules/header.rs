//! The MessageHeader rules a CareCommunication and an Acknowledgement share: the event, the
//! one primary destination, the bundled sender and receivers.

use super::message::Bundle;
use crate::formats::fhir::codes;
use crate::formats::fhir::consts::EXT_DESTINATION_USE;
use crate::formats::fhir::dom::El;

pub(super) fn header_rules<'d>(b: &mut Bundle<'d>, h: El<'d>, types: &[&str], event: &str) {
    match h.child("eventCoding") {
        Some(ev) => {
            b.coding_in(ev, codes::EVENT_SYSTEM, types, "medcom-messaging-messageTypes");
            if let Some(c) = ev.child("code").filter(|c| c.value() != Some(event)) {
                b.report(c, "fixed", format!("event code `{}`; the profile fixes `{event}`", c.value().unwrap_or("")));
            }
        }
        None => b.report(h, "cardinality", "MessageHeader.eventCoding 1..1 is missing"),
    }
    let mut primaries = 0;
    for d in h.children_named("destination").collect::<Vec<_>>() {
        let uses: Vec<El<'d>> = d.extensions(EXT_DESTINATION_USE).collect();
        let code = uses.first().and_then(|u| u.at(&["valueCoding"]));
        match code.and_then(|c| c.value_at(&["code"])) {
            Some("primary") if uses.len() == 1 => {
                primaries += 1;
                b.coding_in(
                    code.expect("matched"),
                    codes::DESTINATION_USE_SYSTEM,
                    &["primary"],
                    "medcom-messaging-destinationUse",
                );
            }
            Some("cc") => b.report(d, "slice", "MessageHeader.destination:cc is 0..0 for this message"),
            _ => b.report(
                d,
                "slice",
                "each destination needs one destinationUseExtension `primary` (the slicing is closed)",
            ),
        }
        match d.child("receiver") {
            Some(r) => b.bundled(r, &["Organization"]),
            None => b.report(d, "cardinality", "MessageHeader.destination.receiver 1..1 is missing"),
        }
    }
    if primaries != 1 {
        b.report(
            h,
            "slice",
            format!("MessageHeader.destination:primary has {primaries} entries; exactly 1 is required"),
        );
    }
    match h.child("sender") {
        Some(s) => b.bundled(s, &["Organization"]),
        None => b.report(h, "cardinality", "MessageHeader.sender 1..1 is missing"),
    }
    if h.value_at(&["id"]).is_none() {
        b.report(h, "cardinality", "MessageHeader.id 1..1 is missing");
    }
}
