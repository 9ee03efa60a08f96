//! The wire formats, one folder each: [`xdis91`] (MedCom XDIS91 with its XCTL receipts),
//! [`fhir`] (MedCom FHIR CareCommunication, VANSEnvelope and Acknowledgement), [`memo`]
//! (MeMo and the SF1601 kombi request) and the patient's letter as a tagged [`pdf`]. What
//! they share is in [`wire`] (the [`WireFormat`] trait and the letter a format is built
//! from), [`charset`], [`identity`] (the identifiers derived from a result) and [`xml`] (the
//! one XML writer).
//!
//! A format knows how its bytes are written and read, never who a letter is for or when it
//! is sent: a third GP format is a new folder here, a [`WireFormat`] impl and a
//! [`Kind`] variant.

pub mod charset;
pub mod fhir;
pub mod identity;
pub mod memo;
pub mod pdf;
pub mod wire;
pub mod xdis91;
pub mod xml;

use crate::model::{Kind, MessageKind};
pub use wire::{Carried, Encoded, GpOptions, Letter, MainDocument, PatientOptions, WireFormat};

/// Each kind of letter travels in one wire format.
impl Kind {
    pub fn wire(self) -> &'static dyn WireFormat {
        match self {
            Kind::GpXdis91 => &xdis91::Xdis91,
            Kind::GpCareCommunication => &fhir::wire::CareCommunication,
            Kind::PatientMemo => &memo::Memo,
            Kind::PatientKombi => &memo::Kombi,
        }
    }

    /// What a message of this kind is validated against: its wire format's schema.
    pub fn schema(self) -> MessageKind {
        self.wire().schema()
    }
}
