//! The patient's letter: MeMo with the letter as a PDF, alone or inside an SF1601 kombi
//! request (so the platform prints it for an exempt patient). Both are identified by the
//! MeMo UUID, derived from the sender's CVR.

pub mod kombi;
pub mod write;

use crate::error::{Error, Result};
use crate::formats::identity;
use crate::formats::pdf;
use crate::formats::wire::{Encoded, Letter, WireFormat};
use crate::model::FlsResult;
use crate::model::MessageKind;
use write as memo;

pub(crate) struct Memo;
pub(crate) struct Kombi;

/// The PDF inside a MeMo message, or a kombi request's MeMo part.
fn pdf_of_memo(memo: &[u8]) -> Option<Vec<u8>> {
    memo::read_main_document(memo).ok().map(|d| d.pdf)
}

fn uuid(r: &FlsResult, letter_revision: u32) -> uuid::Uuid {
    identity::memo_uuid(r.sender.cvr.as_str(), &r.result_id, letter_revision)
}

/// The MeMo message and its PDF.
fn memo_and_pdf(l: &Letter<'_>) -> Result<(Vec<u8>, Vec<u8>, Vec<crate::model::Warning>)> {
    let r = l.result;
    let notification = l.notification.ok_or_else(|| Error::Internal("a MeMo without a notification".into()))?;
    let large_print = r.patient.large_print.unwrap_or(l.patient.large_print);
    let (pdf, warnings) = pdf::letter_pdf(r, l.text, l.letter_date, l.now, large_print)?;
    let filename = memo::safe_filename(&format!("Knogleskanning {}.pdf", r.scan.date));
    let bytes = memo::write(&memo::Memo {
        uuid: uuid(r, l.letter_revision),
        label: &l.text.subject,
        notification,
        sender_cvr: r.sender.cvr.as_str(),
        sender_label: &r.sender.organisation,
        recipient_cpr: r.patient.cpr.expose(),
        recipient_label: &r.patient.full_name(),
        created: l.now,
        document_label: &l.text.subject,
        filename: &filename,
        pdf: &pdf,
    })?;
    Ok((bytes, pdf, warnings))
}

impl WireFormat for Memo {
    fn schema(&self) -> MessageKind {
        MessageKind::Memo
    }

    fn media_type(&self) -> &'static str {
        "application/xml; charset=UTF-8"
    }

    fn label(&self) -> &'static str {
        "MeMo"
    }

    fn outbox_file_name(&self, letter_id: &str, _: Option<&str>, transmission: u32) -> String {
        format!("memo-{letter_id}-{transmission}.xml")
    }

    fn letter_id(&self, r: &FlsResult, letter_revision: u32) -> String {
        uuid(r, letter_revision).hyphenated().to_string()
    }

    fn build(&self, l: &Letter<'_>) -> Result<Encoded> {
        let (bytes, pdf, warnings) = memo_and_pdf(l)?;
        Ok(Encoded { bytes, envelope_id: None, pdf: Some(pdf), carried: vec![], warnings })
    }

    fn pdf_in(&self, bytes: &[u8]) -> Option<Vec<u8>> {
        pdf_of_memo(bytes)
    }
}

impl WireFormat for Kombi {
    fn schema(&self) -> MessageKind {
        MessageKind::Kombi
    }

    fn media_type(&self) -> &'static str {
        "application/xml; charset=UTF-8"
    }

    fn label(&self) -> &'static str {
        "SF1601 kombi_request"
    }

    fn outbox_file_name(&self, letter_id: &str, _: Option<&str>, transmission: u32) -> String {
        format!("kombi-{letter_id}-{transmission}.xml")
    }

    fn letter_id(&self, r: &FlsResult, letter_revision: u32) -> String {
        Memo.letter_id(r, letter_revision)
    }

    fn build(&self, l: &Letter<'_>) -> Result<Encoded> {
        let (memo, pdf, warnings) = memo_and_pdf(l)?;
        let r = l.result;
        // Validated once, whole, by the caller: its schema imports the MeMo profile.
        let bytes = kombi::write(&kombi::Kombi {
            memo: &memo,
            shipment_id: l.letter_id,
            print_type: l.patient.print_type,
            recipient_name: &r.patient.full_name(),
            address: r.patient.address.as_ref(),
            title: &l.text.subject,
            pdf: &pdf,
        })?;
        Ok(Encoded { bytes, envelope_id: None, pdf: Some(pdf), carried: vec![], warnings })
    }

    fn pdf_in(&self, bytes: &[u8]) -> Option<Vec<u8>> {
        pdf_of_memo(bytes)
    }
}
