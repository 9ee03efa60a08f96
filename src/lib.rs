//! flspost: letters for the Fracture Liaison Service (FLS) of Region Midtjylland.
//!
//! One classified DXA result comes in as JSON ([`input`]); it is checked into a
//! [`model::FlsResult`], worded by [`letters`], and carried by two messages:
//! a MedCom correspondence letter to the GP, XDIS91 ([`medcom`]) or FHIR CareCommunication
//! ([`fhir`]) as [`routing`] chooses per GP, and a MeMo Digital Post message with a PDF
//! letter to the patient ([`digitalpost`]). Every message is validated
//! against the bundled schemas ([`schema`]) before it is written, recorded in the
//! [`journal`] and handed to a [`transport`].
//!
//! Data flows one way: input -> checked model -> letter text -> messages -> validated bytes
//! -> journal -> transport.

pub mod batch;
pub mod charset;
pub mod clock;
pub mod compose;
pub mod config;
pub mod digitalpost;
pub mod error;
pub mod fhir;
pub mod format;
pub mod fsutil;
pub mod generate;
pub mod identifiers;
pub mod ids;
pub mod input;
pub mod journal;
pub mod letters;
pub mod medcom;
pub mod model;
pub mod policy;
pub mod routing;
pub mod schema;
pub mod transport;
pub mod usecase;

#[cfg(test)]
mod testdata;

/// Something flspost changed on the way that a person should know about (a transliterated
/// character). Names the field, never the value.
#[derive(Clone, Debug, PartialEq, Eq, serde::Serialize)]
pub struct Warning {
    /// A field name can be an input's key, which can be anything.
    #[serde(serialize_with = "crate::identifiers::serialize_redacted")]
    pub field: String,
    #[serde(serialize_with = "crate::identifiers::serialize_redacted")]
    pub message: String,
}

impl std::fmt::Display for Warning {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}: {}", self.field, self.message)
    }
}

/// Lower-case hex SHA-256 of `bytes`.
pub fn sha256_hex(bytes: &[u8]) -> String {
    use sha2::Digest;
    let d = sha2::Sha256::digest(bytes);
    let mut s = String::with_capacity(64);
    for b in d {
        use std::fmt::Write;
        let _ = write!(s, "{b:02x}");
    }
    s
}
