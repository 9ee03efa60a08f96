//! The catalogue: which bundled schema judges each kind of message, and the schemas those
//! import. The schemas in `schemas/` are compiled into the binary.

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
