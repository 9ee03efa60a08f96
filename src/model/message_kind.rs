//! What a document on the wire is, told apart by its root element and namespace: the
//! messages flspost writes and the answers it reads. A [`super::Kind`] is one of a result's
//! letters; a message kind is what carries it (or answers it).

/// The message types flspost knows, told apart by root element and namespace.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, serde::Serialize)]
pub enum MessageKind {
    /// MedCom XDIS91 correspondence letter (`Emessage`, 2006/07/01).
    Xdis91,
    /// MeMo Digital Post message (`Message`, `https://DigitalPost.dk/MeMo-1`).
    Memo,
    /// MedCom receipt XCTL01/02/03 (`Emessage`, 2005/08/07).
    Receipt,
    /// MedCom FHIR CareCommunication message (`Bundle`, `http://hl7.org/fhir`).
    CareCommunication,
    /// MedCom FHIR Acknowledgement (`Bundle` whose header is `acknowledgement-message`).
    Acknowledgement,
    /// MedCom VANSEnvelope carrying a FHIR Bundle (`urn:oio:medcom:vans-envelope:1.0.4`).
    VansEnvelope,
    /// SF1601 KombiPostAfsend request (`kombi_request`, no namespace): MeMo plus fjernprint.
    Kombi,
}

impl MessageKind {
    pub const ALL: [MessageKind; 7] = [
        MessageKind::Xdis91,
        MessageKind::Memo,
        MessageKind::Receipt,
        MessageKind::CareCommunication,
        MessageKind::Acknowledgement,
        MessageKind::VansEnvelope,
        MessageKind::Kombi,
    ];

    /// Validated by [`crate::formats::fhir::validate()`]: the schema plus the profile rules.
    pub(crate) fn is_fhir(self) -> bool {
        matches!(self, MessageKind::CareCommunication | MessageKind::Acknowledgement | MessageKind::VansEnvelope)
    }

    pub fn name(self) -> &'static str {
        match self {
            MessageKind::Xdis91 => "XDIS91",
            MessageKind::Memo => "MeMo",
            MessageKind::Receipt => "MedCom receipt",
            MessageKind::CareCommunication => "FHIR CareCommunication",
            MessageKind::Acknowledgement => "FHIR Acknowledgement",
            MessageKind::VansEnvelope => "VANSEnvelope",
            MessageKind::Kombi => "SF1601 kombi_request",
        }
    }
}
