//! MedCom XDIS91 to the GP: identified by the sender's EAN, sent in a new envelope each time.

pub mod receipt;
pub mod write;

use crate::error::Result;
use crate::formats::identity;
use crate::formats::wire::{Encoded, Letter, WireFormat};
use crate::model::FlsResult;
use crate::model::MessageKind;
use chrono_tz::Europe::Copenhagen;

pub(crate) struct Xdis91;

impl WireFormat for Xdis91 {
    fn schema(&self) -> MessageKind {
        MessageKind::Xdis91
    }

    fn media_type(&self) -> &'static str {
        "application/xml; charset=ISO-8859-1"
    }

    fn label(&self) -> &'static str {
        "XDIS91"
    }

    /// By its envelope identifier, new on every send.
    fn outbox_file_name(&self, letter_id: &str, envelope_id: Option<&str>, transmission: u32) -> String {
        match envelope_id {
            Some(env) => format!("xdis91-{env}.xml"),
            None => format!("memo-{letter_id}-{transmission}.xml"),
        }
    }

    fn letter_id(&self, r: &FlsResult, letter_revision: u32) -> String {
        identity::letter_id(r.sender.ean.as_str(), &r.result_id, letter_revision)
    }

    fn build(&self, l: &Letter<'_>) -> Result<Encoded> {
        let r = l.result;
        let envelope_id =
            identity::envelope_id(l.letter_id, l.transmission, l.now.timestamp_nanos_opt().unwrap_or_default());
        let encoded = write::write(&write::Xdis91 {
            result: r,
            text: l.text,
            letter_id: l.letter_id,
            envelope_id: &envelope_id,
            sent: l.now.with_timezone(&Copenhagen).naive_local(),
            authorised: r.classified_at.with_timezone(&Copenhagen).naive_local(),
            status: l.status,
        })?;
        Ok(Encoded {
            bytes: encoded.bytes,
            envelope_id: Some(envelope_id),
            pdf: None,
            carried: vec![],
            warnings: encoded.warnings,
        })
    }
}
