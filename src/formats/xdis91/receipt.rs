//! MedCom receipts (namespace 2005/08/07): XCTL01 NegativeVansReceipt, XCTL02
//! NegativeReceipt and XCTL03 PositiveReceipt, read with a streaming reader.
//!
//! Validate the bytes against the bundled receipt schema first; this reader then only
//! picks out the identifiers and refuse reasons.

use crate::formats::charset;
use quick_xml::events::Event;
use serde::Serialize;

/// Serialised as its MedCom code, the same one `code` gives.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, strum::IntoStaticStr)]
pub enum ReceiptType {
    /// XCTL01: the VANS network could not deliver.
    #[serde(rename = "XCTL01")]
    #[strum(serialize = "XCTL01")]
    NegativeVans,
    /// XCTL02: the receiving system refused the message.
    #[serde(rename = "XCTL02")]
    #[strum(serialize = "XCTL02")]
    Negative,
    /// XCTL03: received and accepted.
    #[serde(rename = "XCTL03")]
    #[strum(serialize = "XCTL03")]
    Positive,
}

impl ReceiptType {
    pub fn code(self) -> &'static str {
        self.into()
    }
}

#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize)]
pub struct OriginalLetter {
    pub letter_id: String,
    pub version_code: String,
    pub refuse_code: Option<String>,
    pub refuse_text: Option<String>,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct Receipt {
    pub receipt_type: ReceiptType,
    /// The receipt's own envelope and letter identifiers.
    pub envelope_id: String,
    pub letter_id: String,
    pub original_envelope_id: String,
    /// Refuse code and text for the whole envelope (negative receipts).
    pub refuse_code: Option<String>,
    pub refuse_text: Option<String>,
    pub letters: Vec<OriginalLetter>,
}

/// Text of the XML declaration's encoding, decoded (MedCom files are often ISO-8859-1).
fn decode(bytes: &[u8]) -> String {
    let head = String::from_utf8_lossy(&bytes[..bytes.len().min(200)]).to_ascii_lowercase();
    let latin1 = head.starts_with("<?xml")
        && head.split("?>").next().is_some_and(|d| d.contains("8859-1") || d.contains("latin1"));
    if latin1 {
        charset::latin1_decode(bytes)
    } else {
        String::from_utf8_lossy(bytes).into_owned()
    }
}

/// Reads a receipt. The error says what is missing.
pub fn parse(bytes: &[u8]) -> Result<Receipt, String> {
    let text = decode(bytes);
    let mut reader = quick_xml::Reader::from_str(&text);
    let mut path: Vec<String> = vec![];
    let mut receipt_type = None;
    let (mut envelope_id, mut letter_id, mut original_envelope_id) = (None, None, None);
    let (mut refuse_code, mut refuse_text): (Option<String>, Option<String>) = (None, None);
    let mut letters: Vec<OriginalLetter> = vec![];
    let mut buf = String::new();
    loop {
        let ev = reader.read_event().map_err(|e| format!("not well-formed XML: {e}"))?;
        match ev {
            Event::Start(e) => {
                let name = e.local_name().as_ref().to_string();
                if path.len() == 1 {
                    receipt_type = match name.as_str() {
                        "NegativeVansReceipt" => Some(ReceiptType::NegativeVans),
                        "NegativeReceipt" => Some(ReceiptType::Negative),
                        "PositiveReceipt" => Some(ReceiptType::Positive),
                        _ => receipt_type,
                    };
                }
                if name == "OriginalLetter" {
                    letters.push(OriginalLetter::default());
                }
                path.push(name);
                buf.clear();
            }
            Event::Empty(e) => {
                let name = e.local_name();
                match name.as_ref() {
                    "Break" => buf.push('\n'),
                    "Space" => buf.push(' '),
                    _ => {}
                }
            }
            Event::Text(t) => buf.push_str(t.as_ref()),
            Event::GeneralRef(r) => {
                let c = quick_xml::escape::resolve_predefined_entity(r.as_ref()).unwrap_or("");
                if let Ok(Some(ch)) = r.resolve_char_ref() {
                    buf.push(ch);
                } else {
                    buf.push_str(c);
                }
            }
            Event::End(_) => {
                let value = buf.trim().to_string();
                let p: Vec<&str> = path.iter().map(String::as_str).collect();
                match p.as_slice() {
                    [_, "Envelope", "Identifier"] => envelope_id = Some(value),
                    [_, _, "Letter", "Identifier"] => letter_id = Some(value),
                    [_, _, "OriginalEmessage", "OriginalEnvelopeIdentifier"] => original_envelope_id = Some(value),
                    [_, _, "OriginalEmessage", "RefuseCode"] => refuse_code = Some(value),
                    [_, _, "OriginalEmessage", "RefuseText"] => refuse_text = Some(value),
                    [_, _, "OriginalEmessage", "OriginalLetter", field] => {
                        let l = letters.last_mut().expect("pushed at its start");
                        match *field {
                            "OriginalLetterIdentifier" => l.letter_id = value,
                            "OriginalVersionCode" => l.version_code = value,
                            "RefuseCode" => l.refuse_code = Some(value),
                            "RefuseText" => l.refuse_text = Some(value),
                            _ => {}
                        }
                    }
                    _ => {}
                }
                path.pop();
                buf.clear();
            }
            Event::Eof => break,
            _ => {}
        }
    }
    Ok(Receipt {
        receipt_type: receipt_type.ok_or("no NegativeVansReceipt, NegativeReceipt or PositiveReceipt element")?,
        envelope_id: envelope_id.ok_or("no Envelope/Identifier")?,
        letter_id: letter_id.ok_or("no Letter/Identifier")?,
        original_envelope_id: original_envelope_id.ok_or("no OriginalEmessage/OriginalEnvelopeIdentifier")?,
        refuse_code,
        refuse_text,
        letters,
    })
}
