//! The MeMo 1.2 writer: a DIGITALPOST message from the region (CVR) to the patient (CPR)
//! whose main document is the PDF letter. UTF-8, with the explicit `memo:` prefix that
//! SF1601 has required in practice.

use crate::input::InputError;
use base64::Engine;
use chrono::{DateTime, SecondsFormat, Utc};
use quick_xml::events::{BytesDecl, BytesEnd, BytesStart, BytesText, Event};
use quick_xml::Writer;

pub const NAMESPACE: &str = "https://DigitalPost.dk/MeMo-1";
pub const VERSION: &str = "1.2";
/// MeMo memoTextType.
pub const TEXT_MAX: usize = 256;
/// memoNotificationType: 150 in the 1.1 data types; one 1.2 copy says 160. The lower holds in both.
pub const NOTIFICATION_MAX: usize = 150;

pub struct Memo<'a> {
    pub uuid: uuid::Uuid,
    /// The subject the patient sees in the inbox.
    pub label: &'a str,
    pub notification: &'a str,
    pub sender_cvr: &'a str,
    pub sender_label: &'a str,
    pub recipient_cpr: &'a str,
    pub recipient_label: &'a str,
    pub created: DateTime<Utc>,
    pub document_label: &'a str,
    pub filename: &'a str,
    pub pdf: &'a [u8],
}

/// Makes a file name Digital Post accepts: no `< > : " / \ | ? *`, line breaks or the
/// special spaces it rejects (each run becomes one `-`).
pub fn safe_filename(name: &str) -> String {
    let bad = |c: char| {
        "<>:\"/\\|?*".contains(c)
            || c.is_control()
            || matches!(c as u32, 0xA0 | 0x2000..=0x200A | 0x2028 | 0x205F | 0x2060 | 0x3000)
    };
    let mut out = String::with_capacity(name.len());
    for c in name.chars() {
        if bad(c) {
            if !out.ends_with('-') {
                out.push('-');
            }
        } else {
            out.push(c);
        }
    }
    out
}

fn check_len(field: &str, value: &str, max: usize) -> Result<(), InputError> {
    let n = value.chars().count();
    if n == 0 || n > max {
        return Err(InputError::new(field, format!("is {n} characters long; MeMo allows 1 to {max}")));
    }
    Ok(())
}

pub fn write(m: &Memo<'_>) -> Result<Vec<u8>, InputError> {
    check_len("letter subject (patient template)", m.label, TEXT_MAX)?;
    check_len("notification (template notification.txt)", m.notification, NOTIFICATION_MAX)?;
    check_len("sender.organisation", m.sender_label, TEXT_MAX)?;
    check_len("patient name", m.recipient_label, TEXT_MAX)?;
    check_len("document filename", m.filename, TEXT_MAX)?;
    if safe_filename(m.filename) != m.filename {
        return Err(InputError::new("document filename", "contains characters Digital Post refuses"));
    }

    let b64_len = m.pdf.len().div_ceil(3) * 4;
    let mut w = Writer::new_with_indent(Vec::with_capacity(2048 + b64_len), b' ', 2);
    let mut ev = |e: Event<'_>| w.write_event(e).expect("writing to a Vec cannot fail");
    ev(Event::Decl(BytesDecl::new("1.0", Some("UTF-8"), None)));
    ev(Event::Start(
        BytesStart::new("memo:Message").with_attributes([("xmlns:memo", NAMESPACE), ("memoVersion", VERSION)]),
    ));
    let leaf = |ev: &mut dyn FnMut(Event<'_>), name: &str, value: &str| {
        ev(Event::Start(BytesStart::new(name)));
        ev(Event::Text(BytesText::new(value)));
        ev(Event::End(BytesEnd::new(name)));
    };
    let start = |ev: &mut dyn FnMut(Event<'_>), name: &str| ev(Event::Start(BytesStart::new(name)));
    let end = |ev: &mut dyn FnMut(Event<'_>), name: &str| ev(Event::End(BytesEnd::new(name)));

    start(&mut ev, "memo:MessageHeader");
    leaf(&mut ev, "memo:messageType", "DIGITALPOST");
    leaf(&mut ev, "memo:messageUUID", &m.uuid.hyphenated().to_string());
    leaf(&mut ev, "memo:label", m.label);
    leaf(&mut ev, "memo:notification", m.notification);
    start(&mut ev, "memo:Sender");
    leaf(&mut ev, "memo:senderID", m.sender_cvr);
    leaf(&mut ev, "memo:idType", "CVR");
    leaf(&mut ev, "memo:label", m.sender_label);
    end(&mut ev, "memo:Sender");
    start(&mut ev, "memo:Recipient");
    leaf(&mut ev, "memo:recipientID", m.recipient_cpr);
    leaf(&mut ev, "memo:idType", "CPR");
    leaf(&mut ev, "memo:label", m.recipient_label);
    end(&mut ev, "memo:Recipient");
    end(&mut ev, "memo:MessageHeader");

    start(&mut ev, "memo:MessageBody");
    leaf(&mut ev, "memo:createdDateTime", &m.created.to_rfc3339_opts(SecondsFormat::Secs, true));
    start(&mut ev, "memo:MainDocument");
    leaf(&mut ev, "memo:label", m.document_label);
    start(&mut ev, "memo:File");
    leaf(&mut ev, "memo:encodingFormat", "application/pdf");
    leaf(&mut ev, "memo:filename", m.filename);
    leaf(&mut ev, "memo:language", "da");
    // base64 needs no escaping: write it straight in.
    start(&mut ev, "memo:content");
    let b64 = base64::engine::general_purpose::STANDARD.encode(m.pdf);
    ev(Event::Text(BytesText::from_escaped(b64.as_str())));
    end(&mut ev, "memo:content");
    end(&mut ev, "memo:File");
    end(&mut ev, "memo:MainDocument");
    end(&mut ev, "memo:MessageBody");
    end(&mut ev, "memo:Message");
    let mut out = w.into_inner();
    out.push(b'\n');
    Ok(out)
}

/// The letter a MeMo message carries: its main document's label and PDF.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct MainDocument {
    pub label: String,
    pub pdf: Vec<u8>,
}

/// Reads the main document of a MeMo message as stored, alone or as the MeMo part of a
/// kombi request (whose print part carries the same PDF; the MeMo's is what the patient
/// gets in Digital Post). By namespace and element, not by text search: a label, or a
/// second document, can hold anything. The error says what is missing.
pub fn read_main_document(bytes: &[u8]) -> Result<MainDocument, String> {
    use quick_xml::name::ResolveResult;
    let mut reader = quick_xml::NsReader::from_reader(bytes);
    let mut buf = Vec::new();
    // Local names of the open elements; an empty name for one outside the MeMo namespace.
    let mut path: Vec<String> = vec![];
    let mut text = String::new();
    let (mut label, mut content): (Option<String>, Option<String>) = (None, None);
    loop {
        let (ns, ev) =
            reader.read_resolved_event_into(&mut buf).map_err(|e| format!("MeMo: not well-formed XML: {e}"))?;
        let memo = matches!(ns, ResolveResult::Bound(n) if n.into_inner() == NAMESPACE);
        match ev {
            Event::Start(e) => {
                path.push(if memo { e.local_name().as_ref().to_string() } else { String::new() });
                text.clear();
            }
            Event::Text(t) => text.push_str(t.as_ref()),
            Event::GeneralRef(r) => match r.resolve_char_ref() {
                Ok(Some(c)) => text.push(c),
                _ => text.push_str(quick_xml::escape::resolve_predefined_entity(r.as_ref()).unwrap_or("")),
            },
            Event::End(_) => {
                let is = |tail: &[&str]| path.len() >= tail.len() && path[path.len() - tail.len()..] == *tail;
                if label.is_none() && is(&["MainDocument", "label"]) {
                    label = Some(text.clone());
                } else if content.is_none() && is(&["MainDocument", "File", "content"]) {
                    content = Some(text.clone());
                }
                path.pop();
                text.clear();
            }
            Event::Eof => break,
            _ => {}
        }
        buf.clear();
    }
    let label = label.ok_or("MeMo: MainDocument has no label")?;
    let content = content.ok_or("MeMo: MainDocument has no File content")?;
    // base64Binary may be wrapped over lines.
    let compact: String = content.chars().filter(|c| !c.is_ascii_whitespace()).collect();
    let pdf = base64::engine::general_purpose::STANDARD
        .decode(compact)
        .map_err(|e| format!("MeMo: MainDocument content is not base64: {e}"))?;
    Ok(MainDocument { label, pdf })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_main_document_is_read_back_as_written() {
        let pdf = b"%PDF-1.7 \x00\xff not really".to_vec();
        let created = "2025-03-20T09:30:00Z".parse().unwrap();
        let bytes = write(&Memo {
            uuid: uuid::Uuid::nil(),
            label: "Inbox <subject> & more",
            notification: "n",
            sender_cvr: "29190925",
            sender_label: "Aarhus & Co",
            recipient_cpr: "2512489996",
            recipient_label: "Åge",
            created,
            document_label: "Resultat & svar",
            filename: "a.pdf",
            pdf: &pdf,
        })
        .unwrap();
        let doc = read_main_document(&bytes).unwrap();
        assert_eq!(doc, MainDocument { label: "Resultat & svar".into(), pdf });
        assert!(read_main_document(b"<memo:Message xmlns:memo=\"x\"/>").is_err());
        assert!(read_main_document(b"<a><b").is_err());
    }

    #[test]
    fn filenames_lose_forbidden_characters() {
        assert_eq!(safe_filename("a<b>c:d\"e/f\\g|h?i*j.pdf"), "a-b-c-d-e-f-g-h-i-j.pdf");
        assert_eq!(safe_filename("two\r\nlines\u{00A0}x.pdf"), "two-lines-x.pdf");
        assert_eq!(safe_filename("Knogleskanning 2025-03-10.pdf"), "Knogleskanning 2025-03-10.pdf");
    }
}
