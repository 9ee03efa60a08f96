//! Digital Post to the patient: the letter as a PDF, carried by a MeMo 1.2 message, or by
//! an SF1601 kombi request that adds the same PDF for print (`kombi`).

use super::page::{Letter, Line, LARGE, NORMAL};
use super::render::render;
use crate::input::InputError;
use crate::letters::{danish_date, LetterText};
use crate::model::FlsResult;
use crate::model::Warning;
use chrono::{DateTime, NaiveDate, Utc};

/// Lays out the patient's letter (hospital letterhead, address for a window envelope,
/// date, subject, body) and renders it as PDF.
pub fn letter_pdf(
    r: &FlsResult,
    text: &LetterText,
    letter_date: NaiveDate,
    created: DateTime<Utc>,
    large_print: bool,
) -> Result<(Vec<u8>, Vec<Warning>), InputError> {
    let s = &r.sender;
    let mut letterhead = vec![Line::new("sender.organisation", &s.organisation)];
    if let Some(d) = &s.department {
        letterhead.push(Line::new("sender.department", d));
    }
    if let Some(a) = &s.address {
        letterhead.push(Line::new("sender.address.street", &a.street));
        letterhead.push(Line::new("sender.address", format!("{} {}", a.postcode, a.city)));
    }
    if let Some(p) = &s.phone {
        letterhead.push(Line::new("sender.phone", format!("Telefon {p}")));
    }
    let return_address = match &s.address {
        Some(a) => vec![
            Line::new("sender.organisation", &s.organisation),
            Line::new("sender.address", format!("{}, {} {}", a.street, a.postcode, a.city)),
        ],
        None => vec![],
    };
    let mut recipient = vec![Line::new("patient name", r.patient.full_name())];
    if let Some(a) = &r.patient.address {
        recipient.push(Line::new("patient.address.street", &a.street));
        recipient.push(Line::new("patient.address", format!("{} {}", a.postcode, a.city)));
    }
    let place = s.address.as_ref().map(|a| format!("{}, ", a.city)).unwrap_or_default();
    let body_field = format!("letter text ({})", text.template);
    let letter = Letter {
        title: text.subject.clone(),
        letterhead,
        return_address,
        recipient,
        place_and_date: Line::new("sender.address.city", format!("{place}{}", danish_date(letter_date))),
        subject: Line::new(format!("letter subject ({})", text.template), &text.subject),
        body: text.main_paragraphs().iter().map(|p| p.iter().map(|l| Line::new(&body_field, l)).collect()).collect(),
        signature: text.signature().iter().map(|p| p.iter().map(|l| Line::new(&body_field, l)).collect()).collect(),
        sizes: if large_print { LARGE } else { NORMAL },
        created,
    };
    let rendered = render(&letter)?;
    Ok((rendered.bytes, rendered.warnings))
}
