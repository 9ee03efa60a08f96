//! MedCom FHIR messaging (R4 4.0.1): the CareCommunication letter to the GP (IG
//! `medcom.fhir.dk.carecommunication` 5.0.x), the VANS envelope it travels in, and the
//! Acknowledgement that comes back.
//!
//! - [`carecommunication`] writes the message Bundle (FHIR XML, streamed with quick-xml) from
//!   the checked model, the GP letter text `letters` renders (the same text XDIS91 carries) and
//!   an explicit [`carecommunication::Identity`].
//! - [`vans`] wraps a Bundle in a VANSEnvelope and reads one back.
//! - [`ack`] reads an Acknowledgement into a typed value; [`json`] turns FHIR JSON into the FHIR
//!   XML it stands for, so a JSON one is judged and read by the same schema, rules and reader.
//! - [`restamp`] makes a resend from the stored message: new Bundle.id and send times, the
//!   rest byte for byte.
//! - [`rules`] checks what no XSD can say (MedCom's invariants, slices, fixed values,
//!   required bindings); [`validate()`] runs flspost's own schema and those checks together.
//!
//! Which GP gets FHIR is `crate::compose::routing`'s decision; `crate::formats` carries the envelope
//! as one wire format; applying Acknowledgements to letters is the journal's
//! (`journal/acknowledgements.rs`).

pub mod ack;
pub mod bundle;
pub mod carecommunication;
pub mod codes;
pub mod consts;
pub mod dom;
pub mod json;
pub mod restamp;
pub mod rules;
pub mod time;
pub mod validation;
pub mod vans;
pub(crate) mod wire;

pub use bundle::bundle_kind;
pub use consts::*;
pub use validation::{judge, validate, MAX_PROBLEMS};
