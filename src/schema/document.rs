//! What a message file is before any schema judges it: read (capped), JSON or XML, a DOCTYPE
//! refused, its root element and so its kind.

use super::namespaces::{FHIR, MEDCOM_2006, MEDCOM_RECEIPTS, MEMO, VANS_ENVELOPE};
use super::problem::Problem;
use crate::model::MessageKind;
use quick_xml::events::Event;

/// The largest file `validate` and `receipt` read: a receipt is a few KB and an FLS MeMo some
/// 25 KB, but another system's MeMo may carry large attachments.
pub const MAX_MESSAGE_BYTES: usize = 16 << 20;

/// Reads a message file for `validate`/`receipt`, at most [`MAX_MESSAGE_BYTES`]; the error
/// is the one line to print.
pub fn read_message(path: &std::path::Path) -> Result<Vec<u8>, String> {
    let bytes = crate::support::files::read_capped(path, MAX_MESSAGE_BYTES as u64 + 1)
        .map_err(|e| format!("{}: cannot read: {e}", path.display()))?;
    if bytes.len() > MAX_MESSAGE_BYTES {
        return Err(format!(
            "{}: longer than {} MiB, the most flspost reads of one message",
            path.display(),
            MAX_MESSAGE_BYTES >> 20
        ));
    }
    Ok(bytes)
}

/// Whether `bytes` are JSON rather than XML: after a byte order mark and white space they
/// begin with `{` or `[`, where an XML document begins with `<`. (A FHIR JSON resource's
/// narrative is an XHTML string, which a scan for the first element would take for its root.)
pub fn is_json(bytes: &[u8]) -> bool {
    let rest = bytes.strip_prefix(b"\xEF\xBB\xBF").unwrap_or(bytes);
    matches!(rest.iter().find(|b| !b.is_ascii_whitespace()), Some(b'{' | b'['))
}

/// The DOCTYPE of a document, as a problem at its position; `None` when it has none.
///
/// MedCom's messages have none, and its declarations (entities, attribute defaults, ids) make a
/// document say something its text does not, which libxml2 honours and flspost's own reader
/// (`fhir::dom`) cannot: what `validate` and `receipt` judge must be what they read. So a
/// document with one is refused as it is, whatever it declares. (A DOCTYPE can only precede
/// the root element, so the scan stops there.)
pub fn doctype(bytes: &[u8]) -> Option<Problem> {
    let mut reader = quick_xml::Reader::from_reader(bytes);
    loop {
        let at = reader.buffer_position() as usize;
        match reader.read_event() {
            Ok(Event::DocType(_)) => {
                let before = &bytes[..at.min(bytes.len())];
                let line_start = before.iter().rposition(|b| *b == b'\n').map_or(0, |i| i + 1);
                let line = before.iter().filter(|b| **b == b'\n').count() + 1;
                let column = String::from_utf8_lossy(&before[line_start..]).chars().count() + 1;
                return Some(Problem {
                    line: u32::try_from(line).ok(),
                    column: u32::try_from(column).ok(),
                    message: "DOCTYPE: the document has a document type declaration; MedCom's messages have none, \
                              and its declarations (entities, attribute defaults) would make it say what its text \
                              does not: refused"
                        .into(),
                });
            }
            Ok(Event::Start(_) | Event::Empty(_) | Event::Eof) | Err(_) => return None,
            Ok(_) => {}
        }
    }
}

/// What the root element says about a document.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Root {
    pub local_name: String,
    pub namespace: Option<String>,
    /// `memoVersion`, when the root has one.
    pub memo_version: Option<String>,
}

/// Reads just the root element (streaming; stops there).
pub fn root_of(bytes: &[u8]) -> Option<Root> {
    let mut reader = quick_xml::NsReader::from_reader(bytes);
    let mut buf = Vec::new();
    loop {
        match reader.read_resolved_event_into(&mut buf) {
            Ok((ns, Event::Start(e) | Event::Empty(e))) => {
                let namespace = match ns {
                    quick_xml::name::ResolveResult::Bound(n) => Some(n.into_inner().to_string()),
                    _ => None,
                };
                let memo_version = e
                    .attributes()
                    .flatten()
                    .find(|a| a.key.local_name().as_ref() == "memoVersion")
                    .map(|a| a.value.to_string());
                return Some(Root { local_name: e.local_name().as_ref().to_string(), namespace, memo_version });
            }
            Ok((_, Event::Eof)) | Err(_) => return None,
            Ok(_) => buf.clear(),
        }
    }
}

/// Recognises the message type; `None` when the root is none flspost knows.
pub fn detect(root: &Root) -> Option<MessageKind> {
    match (root.local_name.as_str(), root.namespace.as_deref()) {
        ("Emessage", Some(MEDCOM_2006)) => Some(MessageKind::Xdis91),
        ("Emessage", Some(MEDCOM_RECEIPTS)) => Some(MessageKind::Receipt),
        ("Message", Some(MEMO)) => Some(MessageKind::Memo),
        // Which kind of Bundle: see `fhir::bundle_kind`, which reads further than the root.
        ("Bundle", Some(FHIR)) => Some(MessageKind::CareCommunication),
        ("VANSEnvelope", Some(VANS_ENVELOPE)) => Some(MessageKind::VansEnvelope),
        ("kombi_request", None) => Some(MessageKind::Kombi),
        _ => None,
    }
}
