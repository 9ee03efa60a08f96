//! Validation of message bytes against XML schemas with libxml2 (a complete XSD 1.0 engine).
//!
//! The bundled schemas in `schemas/` are compiled into the binary; [`Validator`] compiles
//! each once and keeps it. libxml2 validation contexts are not thread-safe, so each thread
//! keeps its own [`Validator`] (see [`with_validator`]).

use libxml::parser::{Parser, ParserOptions, XmlParseFailure};
use libxml::schemas::{SchemaParserContext, SchemaValidationContext};
use quick_xml::events::Event;
use std::cell::RefCell;
use std::fmt;

/// The message types flspost knows, told apart by root element and namespace.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, serde::Serialize)]
pub enum MessageKind {
    /// MedCom XDIS91 correspondence letter (`Emessage`, 2006/07/01).
    Xdis91,
    /// MeMo Digital Post message (`Message`, `https://DigitalPost.dk/MeMo-1`).
    Memo,
    /// MedCom receipt XCTL01/02/03 (`Emessage`, 2005/08/07).
    Receipt,
    /// MedCom FHIR CareCommunication message (`Bundle`, `http://hl7.org/fhir`).
    CareCommunication,
    /// MedCom FHIR Acknowledgement (`Bundle` whose header is `acknowledgement-message`).
    Acknowledgement,
    /// MedCom VANSEnvelope carrying a FHIR Bundle (`urn:oio:medcom:vans-envelope:1.0.4`).
    VansEnvelope,
    /// SF1601 KombiPostAfsend request (`kombi_request`, no namespace): MeMo plus fjernprint.
    Kombi,
}

impl MessageKind {
    pub const ALL: [MessageKind; 7] = [
        MessageKind::Xdis91,
        MessageKind::Memo,
        MessageKind::Receipt,
        MessageKind::CareCommunication,
        MessageKind::Acknowledgement,
        MessageKind::VansEnvelope,
        MessageKind::Kombi,
    ];

    /// Validated by [`crate::fhir::validate`]: the schema plus the profile rules.
    pub fn is_fhir(self) -> bool {
        matches!(self, MessageKind::CareCommunication | MessageKind::Acknowledgement | MessageKind::VansEnvelope)
    }

    pub fn name(self) -> &'static str {
        match self {
            MessageKind::Xdis91 => "XDIS91",
            MessageKind::Memo => "MeMo",
            MessageKind::Receipt => "MedCom receipt",
            MessageKind::CareCommunication => "FHIR CareCommunication",
            MessageKind::Acknowledgement => "FHIR Acknowledgement",
            MessageKind::VansEnvelope => "VANSEnvelope",
            MessageKind::Kombi => "SF1601 kombi_request",
        }
    }

    /// The bundled schema's file name and text.
    pub fn bundled_schema(self) -> (&'static str, &'static str) {
        match self {
            MessageKind::Xdis91 => ("flspost-xdis91.xsd", include_str!("../schemas/flspost-xdis91.xsd")),
            MessageKind::Memo => ("flspost-memo-1.2.xsd", include_str!("../schemas/flspost-memo-1.2.xsd")),
            MessageKind::Receipt => ("flspost-receipt.xsd", include_str!("../schemas/flspost-receipt.xsd")),
            MessageKind::CareCommunication => {
                ("flspost-carecommunication.xsd", include_str!("../schemas/flspost-carecommunication.xsd"))
            }
            MessageKind::Acknowledgement => {
                ("flspost-acknowledgement.xsd", include_str!("../schemas/flspost-acknowledgement.xsd"))
            }
            MessageKind::VansEnvelope => {
                ("flspost-vans-envelope.xsd", include_str!("../schemas/flspost-vans-envelope.xsd"))
            }
            MessageKind::Kombi => ("flspost-kombi.xsd", include_str!("../schemas/flspost-kombi.xsd")),
        }
    }
}

/// Schemas another bundled schema imports, by the name after `flspost:` in its
/// `schemaLocation` (an XSD holds one namespace, so the fjernprint profile is eight files).
const IMPORTED: &[(&str, &str)] = &[
    ("flspost-memo-1.2.xsd", include_str!("../schemas/flspost-memo-1.2.xsd")),
    ("fjernprint/fjernprint.xsd", include_str!("../schemas/fjernprint/fjernprint.xsd")),
    ("fjernprint/dkal.xsd", include_str!("../schemas/fjernprint/dkal.xsd")),
    ("fjernprint/adir.xsd", include_str!("../schemas/fjernprint/adir.xsd")),
    ("fjernprint/sagdok.xsd", include_str!("../schemas/fjernprint/sagdok.xsd")),
    ("fjernprint/itst.xsd", include_str!("../schemas/fjernprint/itst.xsd")),
    ("fjernprint/dkcc-2003.xsd", include_str!("../schemas/fjernprint/dkcc-2003.xsd")),
    ("fjernprint/dkcc-2005-03.xsd", include_str!("../schemas/fjernprint/dkcc-2005-03.xsd")),
    ("fjernprint/dkcc-2005-05.xsd", include_str!("../schemas/fjernprint/dkcc-2005-05.xsd")),
];

/// Lets libxml2 read `flspost:NAME` from [`IMPORTED`] (its designed hook for resources
/// that are not files), so bundled schemas import each other without touching the disk.
mod bundled_io {
    use super::IMPORTED;
    use libxml::bindings::xmlRegisterInputCallbacks;
    use std::ffi::{c_char, c_int, c_void, CStr};

    const SCHEME: &str = "flspost:";

    fn lookup(uri: *const c_char) -> Option<&'static [u8]> {
        if uri.is_null() {
            return None;
        }
        // SAFETY: libxml2 passes a NUL-terminated URI that lives for the call.
        let uri = unsafe { CStr::from_ptr(uri) }.to_str().ok()?;
        let name = uri.strip_prefix(SCHEME)?;
        IMPORTED.iter().find(|(n, _)| *n == name).map(|(_, text)| text.as_bytes())
    }

    /// What an open resource is: the rest of its bytes.
    struct Cursor(&'static [u8]);

    unsafe extern "C" fn matches(uri: *const c_char) -> c_int {
        c_int::from(lookup(uri).is_some())
    }

    unsafe extern "C" fn open(uri: *const c_char) -> *mut c_void {
        match lookup(uri) {
            Some(bytes) => Box::into_raw(Box::new(Cursor(bytes))).cast(),
            None => std::ptr::null_mut(),
        }
    }

    unsafe extern "C" fn read(ctx: *mut c_void, buf: *mut c_char, len: c_int) -> c_int {
        if ctx.is_null() || buf.is_null() || len < 0 {
            return -1;
        }
        // SAFETY: ctx is the Cursor `open` made; buf has room for len bytes.
        let cursor = unsafe { &mut *ctx.cast::<Cursor>() };
        let n = cursor.0.len().min(len as usize);
        unsafe { std::ptr::copy_nonoverlapping(cursor.0.as_ptr(), buf.cast::<u8>(), n) };
        cursor.0 = &cursor.0[n..];
        n as c_int
    }

    unsafe extern "C" fn close(ctx: *mut c_void) -> c_int {
        if !ctx.is_null() {
            // SAFETY: made by Box::into_raw in `open`, closed once by libxml2.
            drop(unsafe { Box::from_raw(ctx.cast::<Cursor>()) });
        }
        0
    }

    /// Registers the callbacks once per process.
    pub fn register() {
        static ONCE: std::sync::Once = std::sync::Once::new();
        // SAFETY: the callbacks only read static data and their own boxed cursor.
        ONCE.call_once(|| unsafe {
            // Initialise first: libxml2 adds its default (file, memory) handlers at
            // initialisation only when no handler is registered yet, so registering ours
            // before it would leave libxml2 unable to read any file.
            libxml::bindings::xmlInitParser();
            xmlRegisterInputCallbacks(Some(matches), Some(open), Some(read), Some(close));
        });
    }
}

/// The largest file `validate` and `receipt` read: a receipt is a few KB and an FLS MeMo some
/// 25 KB, but another system's MeMo may carry large attachments.
pub const MAX_MESSAGE_BYTES: usize = 16 << 20;

/// Reads a message file for `validate`/`receipt`, at most [`MAX_MESSAGE_BYTES`]; the error
/// is the one line to print.
pub fn read_message(path: &std::path::Path) -> Result<Vec<u8>, String> {
    let bytes = crate::fsutil::read_capped(path, MAX_MESSAGE_BYTES as u64 + 1)
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

pub const MEDCOM_2006: &str = "http://rep.oio.dk/sundcom.dk/medcom.dk/xml/schemas/2006/07/01/";
pub const MEDCOM_RECEIPTS: &str = "http://rep.oio.dk/sundcom.dk/medcom.dk/xml/schemas/2005/08/07/";
pub const MEMO: &str = "https://DigitalPost.dk/MeMo-1";
pub const FHIR: &str = "http://hl7.org/fhir";
pub const VANS_ENVELOPE: &str = "urn:oio:medcom:vans-envelope:1.0.4";

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

/// One problem, with its position in the document when libxml2 knows it.
#[derive(Clone, Debug, PartialEq, Eq, serde::Serialize)]
pub struct Problem {
    pub line: Option<u32>,
    pub column: Option<u32>,
    pub message: String,
}

impl fmt::Display for Problem {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}:{}: {}", self.line.unwrap_or(0), self.column.unwrap_or(0), self.message)
    }
}

fn problem(e: &libxml::error::StructuredError) -> Problem {
    Problem {
        line: e.line.and_then(|l| u32::try_from(l).ok()).filter(|l| *l > 0),
        column: e.col.and_then(|c| u32::try_from(c).ok()).filter(|c| *c > 0),
        message: without_namespaces(e.message.as_deref().unwrap_or("unknown libxml2 error").trim()),
    }
}

/// libxml2 gives schema errors a line but no column. The element is named in the message
/// (`Element 'Priority': ...`), so the column is where its start tag begins on that line.
fn locate_columns(bytes: &[u8], problems: &mut [Problem]) {
    let lines: Vec<&[u8]> = bytes.split(|b| *b == b'\n').collect();
    for p in problems.iter_mut().filter(|p| p.column.is_none()) {
        let (Some(line), Some(name)) = (p.line, element_named(&p.message)) else { continue };
        let Some(text) = lines.get(line as usize - 1) else { continue };
        let found = (0..text.len()).find(|&i| {
            text[i] == b'<' && {
                let rest = &text[i + 1..];
                let tag_end = rest.iter().position(|b| b" \t/>".contains(b)).unwrap_or(rest.len());
                let tag = &rest[..tag_end];
                tag == name.as_bytes() || tag.ends_with(format!(":{name}").as_bytes())
            }
        });
        if let Some(i) = found {
            // Columns count characters; non-ASCII bytes before the tag are rare here.
            let chars = String::from_utf8_lossy(&text[..i]).chars().count();
            p.column = Some(chars as u32 + 1);
        }
    }
}

fn element_named(message: &str) -> Option<&str> {
    let rest = message.strip_prefix("Element '")?;
    rest.split('\'').next()
}

/// libxml2 writes element names as `{namespace}Name`; the namespace is the document's own
/// and only makes the line unreadable.
fn without_namespaces(msg: &str) -> String {
    let mut out = String::with_capacity(msg.len());
    let mut rest = msg;
    while let Some(start) = rest.find("{http") {
        match rest[start..].find('}') {
            Some(end) => {
                out.push_str(&rest[..start]);
                rest = &rest[start + end + 1..];
            }
            None => break,
        }
    }
    out.push_str(rest);
    out
}

/// A compiled schema, ready to validate documents.
pub struct Schema {
    ctx: SchemaValidationContext,
}

impl Schema {
    /// Compiles a schema held in memory; it may import the bundled schemas as `flspost:NAME`.
    pub fn from_text(xsd: &str) -> Result<Schema, Vec<Problem>> {
        bundled_io::register();
        let mut parser = SchemaParserContext::from_buffer(xsd);
        SchemaValidationContext::from_parser(&mut parser)
            .map(|ctx| Schema { ctx })
            .map_err(|errs| errs.iter().map(problem).collect())
    }

    /// Compiles a schema from a file, resolving its includes and imports relative to it.
    pub fn from_file(path: &std::path::Path) -> Result<Schema, Vec<Problem>> {
        let path = path.to_str().filter(|p| !p.contains('\0')).ok_or_else(|| {
            vec![Problem { line: None, column: None, message: "schema path is not valid UTF-8".into() }]
        })?;
        let mut parser = SchemaParserContext::from_file(path);
        SchemaValidationContext::from_parser(&mut parser)
            .map(|ctx| Schema { ctx })
            .map_err(|errs| errs.iter().map(problem).collect())
    }

    /// Parses `bytes` (any encoding its XML declaration names) and validates them.
    /// Parse errors and schema errors alike come back as problems with line and column.
    pub fn validate(&mut self, bytes: &[u8]) -> Result<(), Vec<Problem>> {
        let options = ParserOptions { no_net: true, no_error: true, no_warning: true, ..ParserOptions::default() };
        let (doc, diagnostics) = match Parser::default().parse_string_with_diagnostics(bytes, options) {
            Ok(r) => r,
            Err(XmlParseFailure::ParseFailed(errs)) if !errs.is_empty() => {
                return Err(errs.iter().map(problem).collect())
            }
            Err(e) => {
                return Err(vec![Problem { line: None, column: None, message: format!("not well-formed XML: {e}") }])
            }
        };
        let fatal: Vec<Problem> = diagnostics
            .iter()
            .filter(|d| matches!(d.level, libxml::error::XmlErrorLevel::Error | libxml::error::XmlErrorLevel::Fatal))
            .map(problem)
            .collect();
        if !fatal.is_empty() {
            return Err(fatal);
        }
        self.ctx.validate_document(&doc).map_err(|errs| {
            let mut problems: Vec<Problem> = errs.iter().map(problem).collect();
            locate_columns(bytes, &mut problems);
            problems
        })
    }
}

/// The bundled schemas, each compiled on first use and then kept.
#[derive(Default)]
pub struct Validator {
    schemas: Vec<(MessageKind, Schema)>,
}

impl Validator {
    pub fn bundled() -> Validator {
        Validator::default()
    }

    pub fn validate(&mut self, kind: MessageKind, bytes: &[u8]) -> Result<(), Vec<Problem>> {
        let i = match self.schemas.iter().position(|(k, _)| *k == kind) {
            Some(i) => i,
            None => {
                let (name, text) = kind.bundled_schema();
                let s =
                    Schema::from_text(text).unwrap_or_else(|e| panic!("bundled schema {name} does not compile: {e:?}"));
                self.schemas.push((kind, s));
                self.schemas.len() - 1
            }
        };
        self.schemas[i].1.validate(bytes)
    }
}

thread_local! {
    static VALIDATOR: RefCell<Option<Validator>> = const { RefCell::new(None) };
}

/// Runs `f` with this thread's validator, compiling the bundled schemas on first use.
pub fn with_validator<T>(f: impl FnOnce(&mut Validator) -> T) -> T {
    VALIDATOR.with(|cell| {
        let mut slot = cell.borrow_mut();
        f(slot.get_or_insert_with(Validator::bundled))
    })
}

/// Validates with the bundled schema for `kind`.
pub fn validate(kind: MessageKind, bytes: &[u8]) -> Result<(), Vec<Problem>> {
    with_validator(|v| v.validate(kind, bytes))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bundled_schemas_compile() {
        for kind in MessageKind::ALL {
            Schema::from_text(kind.bundled_schema().1).unwrap();
        }
    }

    #[test]
    fn roots_are_recognised() {
        let r = root_of(b"<?xml version='1.0'?><!-- c --><Emessage xmlns='http://rep.oio.dk/sundcom.dk/medcom.dk/xml/schemas/2005/08/07/'/>").unwrap();
        assert_eq!(detect(&r), Some(MessageKind::Receipt));
        let r =
            root_of(br#"<memo:Message xmlns:memo="https://DigitalPost.dk/MeMo-1" memoVersion="1.2"></memo:Message>"#)
                .unwrap();
        assert_eq!(detect(&r), Some(MessageKind::Memo));
        assert_eq!(r.memo_version.as_deref(), Some("1.2"));
        assert_eq!(detect(&root_of(b"<Emessage/>").unwrap()), None);
        assert_eq!(root_of(b"not xml"), None);
    }

    #[test]
    fn schema_errors_get_the_column_of_the_element() {
        let doc = b"<?xml version='1.0'?>\n<memo:Message xmlns:memo='https://DigitalPost.dk/MeMo-1' memoVersion='1.2'>\n  <memo:Bogus/>\n</memo:Message>";
        let errs = validate(MessageKind::Memo, doc).unwrap_err();
        assert_eq!((errs[0].line, errs[0].column), (Some(3), Some(3)), "{errs:?}");
        assert!(errs[0].message.starts_with("Element 'Bogus'"), "{errs:?}");
    }

    #[test]
    fn malformed_xml_reports_line_and_column() {
        let errs = validate(MessageKind::Xdis91, b"<?xml version='1.0'?>\n<Emessage>\n<a></b>").unwrap_err();
        assert!(errs[0].line == Some(3), "{errs:?}");
    }
}
