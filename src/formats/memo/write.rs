//! The MeMo 1.2 writer: a DIGITALPOST message from the region (CVR) to the patient (CPR)
//! whose main document is the PDF letter. UTF-8, with the explicit `memo:` prefix that
//! SF1601 has required in practice.

use crate::formats::xml::Xml;
use crate::input::InputError;
use crate::schema::namespaces::MEMO;
use base64::Engine;
use chrono::{DateTime, SecondsFormat, Utc};
use quick_xml::events::Event;

// What read_main_document returns is shared with the GP formats, so it is defined in `wire`.
pub use crate::formats::wire::MainDocument;

pub(crate) const VERSION: &str = "1.2";
/// MeMo memoTextType.
pub(crate) const TEXT_MAX: usize = 256;
/// memoNotificationType: 150 in the 1.1 data types; one 1.2 copy says 160. The lower holds in both.
pub(crate) const NOTIFICATION_MAX: usize = 150;

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
pub(crate) fn safe_filename(name: &str) -> String {
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
    let mut x = Xml::indented(2048 + b64_len);
    x.decl("UTF-8").start_with("memo:Message", &[("xmlns:memo", MEMO), ("memoVersion", VERSION)]);

    x.start("memo:MessageHeader");
    x.leaf("memo:messageType", "DIGITALPOST");
    x.leaf("memo:messageUUID", &m.uuid.hyphenated().to_string());
    x.leaf("memo:label", m.label);
    x.leaf("memo:notification", m.notification);
    x.start("memo:Sender");
    x.leaf("memo:senderID", m.sender_cvr);
    x.leaf("memo:idType", "CVR");
    x.leaf("memo:label", m.sender_label);
    x.end("memo:Sender");
    x.start("memo:Recipient");
    x.leaf("memo:recipientID", m.recipient_cpr);
    x.leaf("memo:idType", "CPR");
    x.leaf("memo:label", m.recipient_label);
    x.end("memo:Recipient");
    x.end("memo:MessageHeader");

    x.start("memo:MessageBody");
    x.leaf("memo:createdDateTime", &m.created.to_rfc3339_opts(SecondsFormat::Secs, true));
    x.start("memo:MainDocument");
    x.leaf("memo:label", m.document_label);
    x.start("memo:File");
    x.leaf("memo:encodingFormat", "application/pdf");
    x.leaf("memo:filename", m.filename);
    x.leaf("memo:language", "da");
    // base64 needs no escaping: write it straight in.
    x.start("memo:content");
    let b64 = base64::engine::general_purpose::STANDARD.encode(m.pdf);
    x.raw(&b64);
    x.end("memo:content");
    x.end("memo:File");
    x.end("memo:MainDocument");
    x.end("memo:MessageBody");
    x.end("memo:Message");
    Ok(x.finish())
}

/// Reads the main document of a MeMo message as stored, alone or as the MeMo part of a
/// kombi request (whose print part carries the same PDF; the MeMo's is what the patient
/// gets in Digital Post). By namespace and element, not by text search: a label, or a
/// second document, can hold anything. The error says what is missing.
pub(crate) fn read_main_document(bytes: &[u8]) -> Result<MainDocument, String> {
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
        let memo = matches!(ns, ResolveResult::Bound(n) if n.into_inner() == MEMO);
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
