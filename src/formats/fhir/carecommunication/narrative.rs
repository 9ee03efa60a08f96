//! The narrative: each resource's Danish XHTML (paragraphs of `label: value`, values escaped)
//! and the texts it and the resources show (an address, the sender's name, a phone number, an
//! attachment's title).

use crate::formats::xml::escape as esc;
use crate::model::{Address, FlsResult};

/// Narrative XHTML: paragraphs of `label: value`, values escaped.
#[derive(Default)]
pub(super) struct Html(pub(super) String);

impl Html {
    fn push_all(&mut self, parts: &[&str]) {
        for part in parts {
            self.0.push_str(part);
        }
    }
    pub(super) fn title(&mut self, t: &str) -> &mut Self {
        self.push_all(&["<p><b>", &esc(t), "</b></p>"]);
        self
    }
    pub(super) fn p(&mut self, label: &str, value: &str) -> &mut Self {
        self.push_all(&["<p>", &esc(label), ": ", &esc(value), "</p>"]);
        self
    }
    /// A multi-line value: each line break a `<br/>`.
    pub(super) fn lines(&mut self, label: &str, value: &str) -> &mut Self {
        self.push_all(&["<p>", &esc(label), ":<br/>"]);
        for (i, line) in value.split('\n').enumerate() {
            if i > 0 {
                self.0.push_str("<br/>");
            }
            self.0.push_str(&esc(line));
        }
        self.0.push_str("</p>");
        self
    }
}

pub(super) fn address_text(a: &Address) -> String {
    format!("{}, {} {}", a.street, a.postcode, a.city)
}

/// The phone number as MedCom's contact extension wants it: digits with an optional leading
/// `+` (`+45 78 45 00 00` -> `+4578450000`).
pub fn phone_digits(phone: &str) -> String {
    phone.chars().filter(|c| c.is_ascii_digit() || *c == '+').collect()
}

/// The sending Organization's name: organisation and department in one field, as SOR gives them.
pub(super) fn sender_name(r: &FlsResult) -> String {
    match &r.sender.department {
        Some(d) => format!("{}, {d}", r.sender.organisation),
        None => r.sender.organisation.clone(),
    }
}

/// MedCom: an attachment's title carries no automatic `.pdf` suffix.
pub(super) fn title_without_pdf(title: &str) -> &str {
    let t = title.trim();
    match t.len().checked_sub(4).filter(|&i| t.is_char_boundary(i) && t[i..].eq_ignore_ascii_case(".pdf")) {
        Some(i) => t[..i].trim_end(),
        None => t,
    }
}
