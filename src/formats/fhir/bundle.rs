//! Which MedCom message a FHIR Bundle is.

use super::consts::PROFILE_ACK_MESSAGE;
use super::dom;
use crate::model::MessageKind;

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
