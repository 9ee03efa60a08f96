//! The catalogue: which bundled schema judges each kind of message, and the schemas those
//! import. The schemas in `schemas/` are compiled into the binary.

use super::base64::Binary;
use super::namespaces::{DKAL, FJERNPRINT, MEMO, VANS_ENVELOPE};
use crate::model::MessageKind;

/// The catalogue: which bundled schema judges each kind of message.
impl MessageKind {
    /// The bundled schema's file name and text.
    pub fn bundled_schema(self) -> (&'static str, &'static str) {
        match self {
            MessageKind::Xdis91 => ("flspost-xdis91.xsd", include_str!("../../schemas/flspost-xdis91.xsd")),
            MessageKind::Memo => ("flspost-memo-1.2.xsd", include_str!("../../schemas/flspost-memo-1.2.xsd")),
            MessageKind::Receipt => ("flspost-receipt.xsd", include_str!("../../schemas/flspost-receipt.xsd")),
            MessageKind::CareCommunication => {
                ("flspost-carecommunication.xsd", include_str!("../../schemas/flspost-carecommunication.xsd"))
            }
            MessageKind::Acknowledgement => {
                ("flspost-acknowledgement.xsd", include_str!("../../schemas/flspost-acknowledgement.xsd"))
            }
            MessageKind::VansEnvelope => {
                ("flspost-vans-envelope.xsd", include_str!("../../schemas/flspost-vans-envelope.xsd"))
            }
            MessageKind::Kombi => ("flspost-kombi.xsd", include_str!("../../schemas/flspost-kombi.xsd")),
        }
    }
}

impl MessageKind {
    /// The elements whose text the bundled schema types xs:base64Binary and that can be large
    /// (see `base64`): checked in Rust, and shown to libxml2 as a short placeholder.
    pub(crate) fn binaries(self) -> &'static [Binary] {
        const MEMO_CONTENT: Binary = Binary { ns: MEMO, local: "content", parent_ns: MEMO, parent: "File" };
        const PRINT: Binary =
            Binary { ns: DKAL, local: "MeddelelseIndholdData", parent_ns: FJERNPRINT, parent: "ForsendelseI" };
        const DATA: Binary = Binary { ns: VANS_ENVELOPE, local: "Data", parent_ns: VANS_ENVELOPE, parent: "Message" };
        match self {
            MessageKind::Memo => &[MEMO_CONTENT],
            MessageKind::Kombi => &[MEMO_CONTENT, PRINT],
            MessageKind::VansEnvelope => &[DATA],
            _ => &[],
        }
    }
}

/// Schemas another bundled schema imports, by the name after `flspost:` in its
/// `schemaLocation` (an XSD holds one namespace, so the fjernprint profile is eight files).
pub(crate) const IMPORTED: &[(&str, &str)] = &[
    ("flspost-memo-1.2.xsd", include_str!("../../schemas/flspost-memo-1.2.xsd")),
    ("fjernprint/fjernprint.xsd", include_str!("../../schemas/fjernprint/fjernprint.xsd")),
    ("fjernprint/dkal.xsd", include_str!("../../schemas/fjernprint/dkal.xsd")),
    ("fjernprint/adir.xsd", include_str!("../../schemas/fjernprint/adir.xsd")),
    ("fjernprint/sagdok.xsd", include_str!("../../schemas/fjernprint/sagdok.xsd")),
    ("fjernprint/itst.xsd", include_str!("../../schemas/fjernprint/itst.xsd")),
    ("fjernprint/dkcc-2003.xsd", include_str!("../../schemas/fjernprint/dkcc-2003.xsd")),
    ("fjernprint/dkcc-2005-03.xsd", include_str!("../../schemas/fjernprint/dkcc-2005-03.xsd")),
    ("fjernprint/dkcc-2005-05.xsd", include_str!("../../schemas/fjernprint/dkcc-2005-05.xsd")),
];
