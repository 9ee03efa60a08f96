//! The XDIS91 writer: one `Emessage` with one `ClinicalEmail` to the patient's GP,
//! streamed with quick-xml and encoded as ISO-8859-1.
//!
//! Every text value passes through [`charset::fit`] with its field name first, so a
//! character Latin-1 cannot hold is reported against the field it came from.

use crate::formats::charset::{self, Latin1};
use crate::formats::xml::{self, Xml};
use crate::input::InputError;
use crate::letters::LetterText;
use crate::model::LetterStatus;
use crate::model::Warning;
use crate::model::{Address, FlsResult, Group};
use crate::schema::namespaces::MEDCOM_2006;
use chrono::NaiveDateTime;

pub(crate) const VERSION_CODE: &str = "XD9134L";
pub(crate) const TYPE_CODE: &str = "XDIS91";

/// OS2korrespondance's split size for ClinicalInformation blocks (45 lines of 70).
const BLOCK_CHARS: usize = 3150;
const MAX_BLOCKS: usize = 10;
const SUBJECT_MAX: usize = 70;

/// Everything one XDIS91 message needs.
pub struct Xdis91<'a> {
    pub result: &'a FlsResult,
    pub text: &'a LetterText,
    pub letter_id: &'a str,
    pub envelope_id: &'a str,
    /// Danish local time of sending (Envelope/Sent).
    pub sent: NaiveDateTime,
    /// Danish local time of the clinician's approval (Letter/Authorisation).
    pub authorised: NaiveDateTime,
    pub status: LetterStatus,
}

/// The encoded message and any transliterations made on the way.
pub struct Encoded {
    pub bytes: Vec<u8>,
    pub warnings: Vec<Warning>,
}

struct Out {
    x: Xml,
    warnings: Vec<Warning>,
}

impl Out {
    fn start(&mut self, name: &str) {
        self.x.start(name);
    }
    fn end(&mut self, name: &str) {
        self.x.end(name);
    }
    /// `<name>value</name>`, value made Latin-1 safe under `field`'s name.
    fn leaf(&mut self, name: &str, field: &str, value: &str) -> Result<(), InputError> {
        let v = charset::fit(&Latin1, field, value, &mut self.warnings)?;
        self.x.leaf(name, &v);
        Ok(())
    }
    fn opt_leaf(&mut self, name: &str, field: &str, value: Option<&str>) -> Result<(), InputError> {
        value.map_or(Ok(()), |v| self.leaf(name, field, v))
    }
    fn date_time(&mut self, name: &str, t: NaiveDateTime) {
        self.start(name);
        let (d, hm) = (t.format("%Y-%m-%d").to_string(), t.format("%H:%M").to_string());
        self.leaf("Date", "", &d).expect("ASCII");
        self.leaf("Time", "", &hm).expect("ASCII");
        self.end(name);
    }
    fn address(&mut self, field: &str, a: Option<&Address>) -> Result<(), InputError> {
        if let Some(a) = a {
            self.leaf("StreetName", &format!("{field}.street"), &a.street)?;
            self.leaf("DistrictName", &format!("{field}.city"), &a.city)?;
            self.leaf("PostCodeIdentifier", &format!("{field}.postcode"), &a.postcode)?;
        }
        Ok(())
    }
}

/// Writes the message. Errors are input errors (a character Latin-1 cannot hold, a
/// letter too long for XDIS91); anything else would be a bug caught by validation.
pub fn write(m: &Xdis91<'_>) -> Result<Encoded, InputError> {
    let r = m.result;
    let mut o = Out { x: Xml::indented(4096), warnings: vec![] };
    o.x.decl("ISO-8859-1").start_with("Emessage", &[("xmlns", MEDCOM_2006)]);

    o.start("Envelope");
    o.date_time("Sent", m.sent);
    o.leaf("Identifier", "envelope identifier", m.envelope_id)?;
    o.leaf("AcknowledgementCode", "", "pluspositivkvitt")?;
    o.end("Envelope");

    o.start("ClinicalEmail");
    o.start("Letter");
    o.leaf("Identifier", "letter identifier", m.letter_id)?;
    o.leaf("VersionCode", "", VERSION_CODE)?;
    o.leaf("StatisticalCode", "", TYPE_CODE)?;
    o.date_time("Authorisation", m.authorised);
    o.leaf("TypeCode", "", TYPE_CODE)?;
    o.leaf("StatusCode", "", m.status.code())?;
    o.end("Letter");

    let s = &r.sender;
    o.start("Sender");
    o.leaf("EANIdentifier", "sender.ean", s.ean.as_str())?;
    o.leaf("Identifier", "sender.identifier", s.identifier.value())?;
    o.leaf("IdentifierCode", "sender.identifier_code", s.identifier.code())?;
    o.leaf("OrganisationName", "sender.organisation", &s.organisation)?;
    o.opt_leaf("DepartmentName", "sender.department", s.department.as_deref())?;
    o.address("sender.address", s.address.as_ref())?;
    o.opt_leaf("TelephoneSubscriberIdentifier", "sender.phone", s.phone.as_deref())?;
    o.end("Sender");

    let g = &r.gp;
    o.start("Receiver");
    o.leaf("EANIdentifier", "gp.ean", g.ean.as_str())?;
    o.leaf("Identifier", "gp.identifier", g.identifier.value())?;
    o.leaf("IdentifierCode", "gp.identifier_code", g.identifier.code())?;
    o.opt_leaf("OrganisationName", "gp.name", g.name.as_deref())?;
    o.address("gp.address", g.address.as_ref())?;
    o.end("Receiver");

    let p = &r.patient;
    o.start("Patient");
    o.leaf("CivilRegistrationNumber", "patient.cpr", p.cpr.expose())?;
    o.leaf("PersonSurnameName", "patient.surname", &p.surname)?;
    o.opt_leaf("PersonGivenName", "patient.given_name", p.given_name.as_deref())?;
    o.address("patient.address", p.address.as_ref())?;
    // Group 3 continues in the hospital's outpatient clinic; for the others the FLS
    // contact ended with the scan.
    let episode = if r.group == Group::SevereOsteoporosis { "ambulant" } else { "inaktiv" };
    o.leaf("EpisodeOfCareStatusCode", "", episode)?;
    o.end("Patient");

    let subject_field = format!("letter subject ({})", m.text.template);
    let subject = charset::fit(&Latin1, &subject_field, &m.text.subject, &mut o.warnings)?;
    if subject.chars().count() > SUBJECT_MAX {
        return Err(InputError::new(
            subject_field,
            format!("is {} characters long; XDIS91 Subject allows {SUBJECT_MAX}", subject.chars().count()),
        ));
    }
    o.start("AdditionalInformation");
    o.leaf("Subject", "", &subject)?;
    o.end("AdditionalInformation");

    for block in text_blocks(m.text, &mut o.warnings)? {
        o.start("ClinicalInformation");
        o.start("Text01");
        // Mixed content goes out as one pre-escaped run: the indenting writer must not
        // put whitespace between text and <Break/>, which would change the letter.
        o.x.raw(&block);
        o.end("Text01");
        o.end("ClinicalInformation");
    }
    o.end("ClinicalEmail");
    o.end("Emessage");

    let xml = o.x.finish();
    let text = String::from_utf8(xml).expect("quick-xml writes UTF-8 from &str");
    Ok(Encoded { bytes: charset::latin1_encode(&text), warnings: o.warnings })
}

/// The letter body as escaped Text01 content: lines joined by `<Break/>`, a blank line
/// (two breaks) between paragraphs, split into blocks of at most 3150 text characters
/// at paragraph boundaries, at most 10 blocks.
fn text_blocks(text: &LetterText, warnings: &mut Vec<Warning>) -> Result<Vec<String>, InputError> {
    let field = format!("letter text ({})", text.template);
    let mut blocks: Vec<(String, usize)> = vec![(String::new(), 0)];
    for para in &text.paragraphs {
        let mut escaped = String::new();
        let mut chars = 0;
        for (i, line) in para.iter().enumerate() {
            let line = charset::fit(&Latin1, &field, line, warnings)?;
            if i > 0 {
                escaped.push_str("<Break/>");
            }
            chars += line.chars().count();
            escaped.push_str(&xml::escape(line.as_ref()));
        }
        if chars > BLOCK_CHARS {
            return Err(InputError::new(
                field,
                format!("a paragraph of {chars} characters exceeds one XDIS91 text block ({BLOCK_CHARS})"),
            ));
        }
        let (cur, cur_chars) = blocks.last_mut().expect("never empty");
        if *cur_chars > 0 && *cur_chars + chars > BLOCK_CHARS {
            blocks.push((escaped, chars));
        } else {
            if *cur_chars > 0 || !cur.is_empty() {
                cur.push_str("<Break/><Break/>");
            }
            cur.push_str(&escaped);
            *cur_chars += chars;
        }
    }
    if blocks.len() > MAX_BLOCKS {
        return Err(InputError::new(field, format!("needs {} text blocks; XDIS91 allows {MAX_BLOCKS}", blocks.len())));
    }
    Ok(blocks.into_iter().map(|(s, _)| s).collect())
}
