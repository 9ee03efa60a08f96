//! Which MedCom message a FHIR Bundle is.

use super::consts::{PROFILE_ACK_MESSAGE, PROFILE_CC_MESSAGE};
use super::dom;
use crate::model::MessageKind;

/// Which message a FHIR `Bundle` is: a CareCommunication or an Acknowledgement, told apart by
/// the Bundle's declared profile, else by the first MessageHeader's event code. `Err` names a
/// message of another kind (MedCom's `empty-message`, another standard's profile): flspost
/// judges these two only, and judging another by their rules would report false faults. A
/// Bundle that declares neither is read as a CareCommunication, whose rules then name what
/// it lacks.
pub fn bundle_kind(bytes: &[u8]) -> Result<MessageKind, String> {
    let Ok(doc) = dom::Document::parse(bytes) else { return Ok(MessageKind::CareCommunication) };
    let root = doc.root();
    let profile = root.child("meta").and_then(|m| m.child("profile")).and_then(|p| p.value());
    let event = root
        .children_named("entry")
        .filter_map(|e| e.child("resource").and_then(|r| r.first_child()))
        .find(|r| r.name() == "MessageHeader")
        .and_then(|h| h.child("eventCoding"))
        .and_then(|c| c.child("code"))
        .and_then(|c| c.value());
    match (profile, event) {
        (Some(PROFILE_ACK_MESSAGE), _) | (None, Some(EVENT_ACK)) => Ok(MessageKind::Acknowledgement),
        (Some(PROFILE_CC_MESSAGE), _) | (None, Some(EVENT_CC) | None) => Ok(MessageKind::CareCommunication),
        (profile, event) => Err(format!(
            "a FHIR message flspost does not judge (profile `{}`, event `{}`): it judges MedCom CareCommunication \
             ({PROFILE_CC_MESSAGE}) and Acknowledgement ({PROFILE_ACK_MESSAGE}) messages",
            profile.unwrap_or("none"),
            event.unwrap_or("none")
        )),
    }
}

const EVENT_ACK: &str = "acknowledgement-message";
const EVENT_CC: &str = "care-communication-message";
