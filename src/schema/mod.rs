//! Validation of message bytes against XML schemas with libxml2 (a complete XSD 1.0 engine).
//!
//! The bundled schemas in `schemas/` are compiled into the binary; [`Validator`] compiles
//! each once and keeps it. libxml2 validation contexts are not thread-safe, so each thread
//! keeps its own [`Validator`] (see [`with_validator`]).

use libxml::parser::{Parser, ParserOptions, XmlParseFailure};
use libxml::schemas::{SchemaParserContext, SchemaValidationContext};
use quick_xml::events::Event;
use std::cell::RefCell;
use std::collections::HashMap;

pub mod problem;

pub use crate::model::MessageKind;
pub use problem::Problem;

/// The catalogue: which bundled schema judges each kind of message.
impl MessageKind {
    /// The bundled schema's file name and text.
    pub fn bundled_schema(self) -> (&'static str, &'static str) {
        match self {
            MessageKind::Xdis91 => ("flspost-xdis91.xsd", include_str!("../../schemas/flspost-xdis91.xsd")),
            MessageKind::Memo => ("flspost-memo-1.2.xsd", include_str!("../../schemas/flspost-memo-1.2.xsd")),
            MessageKind::Receipt => ("flspost-receipt.xsd", include_str!("../../schemas/flspost-receipt.xsd")),
            MessageKind::CareCommunication => {
                ("flspost-carecommunication.xsd", include_str!("../../schemas/flspost-carecommunication.xsd"))
            }
            MessageKind::Acknowledgement => {
                ("flspost-acknowledgement.xsd", include_str!("../../schemas/flspost-acknowledgement.xsd"))
            }
            MessageKind::VansEnvelope => {
                ("flspost-vans-envelope.xsd", include_str!("../../schemas/flspost-vans-envelope.xsd"))
            }
            MessageKind::Kombi => ("flspost-kombi.xsd", include_str!("../../schemas/flspost-kombi.xsd")),
        }
    }
}

/// Schemas another bundled schema imports, by the name after `flspost:` in its
/// `schemaLocation` (an XSD holds one namespace, so the fjernprint profile is eight files).
const IMPORTED: &[(&str, &str)] = &[
    ("flspost-memo-1.2.xsd", include_str!("../../schemas/flspost-memo-1.2.xsd")),
    ("fjernprint/fjernprint.xsd", include_str!("../../schemas/fjernprint/fjernprint.xsd")),
    ("fjernprint/dkal.xsd", include_str!("../../schemas/fjernprint/dkal.xsd")),
    ("fjernprint/adir.xsd", include_str!("../../schemas/fjernprint/adir.xsd")),
    ("fjernprint/sagdok.xsd", include_str!("../../schemas/fjernprint/sagdok.xsd")),
    ("fjernprint/itst.xsd", include_str!("../../schemas/fjernprint/itst.xsd")),
    ("fjernprint/dkcc-2003.xsd", include_str!("../../schemas/fjernprint/dkcc-2003.xsd")),
    ("fjernprint/dkcc-2005-03.xsd", include_str!("../../schemas/fjernprint/dkcc-2005-03.xsd")),
    ("fjernprint/dkcc-2005-05.xsd", include_str!("../../schemas/fjernprint/dkcc-2005-05.xsd")),
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

fn problem(e: &libxml::error::StructuredError) -> Problem {
    Problem {
        line: e.line.and_then(|l| u32::try_from(l).ok()).filter(|l| *l > 0),
        column: e.col.and_then(|c| u32::try_from(c).ok()).filter(|c| *c > 0),
        message: without_namespaces(e.message.as_deref().unwrap_or("unknown libxml2 error").trim()),
    }
}

/// libxml2 gives schema errors a line but no column. The element is named in the message
/// (`Element 'Priority': ...`), so the column is where its start tag begins on that line.
///
/// Each line with problems is scanned once, for the first start tag of every name on it:
/// a scan per problem was quadratic in a document written on one line.
fn locate_columns(bytes: &[u8], problems: &mut [Problem]) {
    let lines: Vec<&[u8]> = bytes.split(|b| *b == b'\n').collect();
    // Line -> (tag name, or its local part after a prefix -> column).
    let mut columns: HashMap<u32, HashMap<&[u8], u32>> = HashMap::new();
    for p in problems.iter_mut().filter(|p| p.column.is_none()) {
        let (Some(line), Some(name)) = (p.line, element_named(&p.message)) else { continue };
        let Some(text) = (line as usize).checked_sub(1).and_then(|i| lines.get(i)) else { continue };
        let tags = columns.entry(line).or_insert_with(|| first_tags(text));
        if let Some(c) = tags.get(name.as_bytes()) {
            p.column = Some(*c);
        }
    }
}

/// Where each start tag name first begins on `text` (a column, counting characters), under its
/// full name and its local part.
fn first_tags(text: &[u8]) -> HashMap<&[u8], u32> {
    let mut found = HashMap::new();
    // Characters before the current `<`, counted a piece between two `<` at a time: `<` is
    // ASCII, so the pieces decode (lossily) as the whole line does.
    let (mut chars, mut counted) = (0usize, 0usize);
    for (i, _) in text.iter().enumerate().filter(|(_, b)| **b == b'<') {
        chars += String::from_utf8_lossy(&text[counted..i]).chars().count();
        counted = i;
        let rest = &text[i + 1..];
        let tag = &rest[..rest.iter().position(|b| b" \t/>".contains(b)).unwrap_or(rest.len())];
        let column = u32::try_from(chars + 1).unwrap_or(u32::MAX);
        found.entry(tag).or_insert(column);
        if let Some(colon) = tag.iter().rposition(|b| *b == b':') {
            found.entry(&tag[colon + 1..]).or_insert(column);
        }
    }
    found
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
    ///
    /// A valid document is streamed through the schema without building a tree (most of the
    /// time went into the tree: allocating, linking and freeing a node per element and text).
    /// Anything libxml2 reports on the way, even a warning, sends the document through
    /// [`Schema::validate_tree`] as well, so every problem reported comes from the tree path,
    /// with its positions, and the stream only ever says "valid" for a document the tree path
    /// also finds valid (see `streaming`).
    pub fn validate(&mut self, bytes: &[u8]) -> Result<(), Vec<Problem>> {
        if streaming::is_clean(&mut self.ctx, bytes) {
            return Ok(());
        }
        self.validate_tree(bytes)
    }

    /// Parses `bytes` into libxml2's tree and validates that: the path every problem comes from.
    pub fn validate_tree(&mut self, bytes: &[u8]) -> Result<(), Vec<Problem>> {
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
        self.validate_parsed(&doc, bytes)
    }

    /// Validates a parsed tree of `bytes`.
    fn validate_parsed(&mut self, doc: &libxml::tree::Document, bytes: &[u8]) -> Result<(), Vec<Problem>> {
        // libxml2 (2.9) refuses a document without a root element before its run starts and
        // so without the cleanup that forgets the document: the context would keep pointing
        // at a tree freed after this call, and the next streaming validation on it would walk
        // that tree. A parse that reports no error always has a root, but the shared context
        // is not left to that: such a tree is refused here, as libxml2 words it.
        if doc.get_root_element().is_none() {
            return Err(vec![Problem {
                line: None,
                column: None,
                message: "The document has no document element".into(),
            }]);
        }
        self.ctx.validate_document(doc).map_err(|errs| {
            let mut problems: Vec<Problem> = errs.iter().map(problem).collect();
            locate_columns(bytes, &mut problems);
            problems
        })
    }
}

/// Validation while parsing: libxml2's SAX parser feeds its schema validator directly
/// (`xmlSchemaValidateStream`), with no tree.
///
/// It answers only "clean or not". Clean means: the parser reported nothing (no error, no
/// warning, on the same per-thread channel the tree path collects its diagnostics from), the
/// document is well-formed, the validator reported nothing, and the document has none of what
/// only libxml2's tree builder checks or rewrites (see [`watch`]). The parse is the tree
/// path's own parser with the same input detection, so apart from those the validator sees the
/// same elements, attributes and text in both. libxml2's namespace errors (an undeclared
/// prefix) do not make a document ill-formed, so the stream's own verdict would pass them:
/// counting reports is what refuses them here.
mod streaming {
    use libxml::bindings::{
        __xmlStructuredError, __xmlStructuredErrorContext, xmlChar, xmlCharEncoding_XML_CHAR_ENCODING_NONE,
        xmlParserInputBufferCreateMem, xmlSAXHandler, xmlSchemaValidateSetLocator, xmlSchemaValidateStream,
        xmlSetStructuredErrorFunc, xmlStructuredErrorFunc, XML_SAX2_MAGIC,
    };
    use libxml::schemas::SchemaValidationContext;
    use std::cell::Cell;
    use std::ffi::{c_int, c_void, CStr};

    /// Larger documents go to the tree path only: its builder refuses a text node over
    /// 10,000,000 bytes (`XML_MAX_TEXT_LENGTH`, without `XML_PARSE_HUGE`), which the stream
    /// never builds; no encoding makes a document more than three times longer in UTF-8.
    pub const MAX_BYTES: usize = 2_500_000;

    thread_local! {
        /// Set by [`watch`]'s callbacks during a stream on this thread.
        static TREE_ONLY: Cell<bool> = const { Cell::new(false) };
    }

    fn tree_only() {
        // A const-initialised Cell has no destructor, so this cannot fail while the thread runs.
        let _ = TREE_ONLY.try_with(|t| t.set(true));
    }

    /// A DOCTYPE: its declarations are recorded and checked (and may declare ids, defaults
    /// and entities) by the tree builder only.
    unsafe extern "C" fn on_doctype(
        _ctx: *mut c_void,
        _name: *const xmlChar,
        _external_id: *const xmlChar,
        _system_id: *const xmlChar,
    ) {
        tree_only();
    }

    /// An element's attributes: an `xml:id` is checked (an NCName, not repeated) by the tree
    /// builder only. (Values with `&` need no watch: libxml2 passes `&amp;` on as `&#38;` when
    /// it does not substitute entities, and its validator turns that back into `&` since 2.9.4,
    /// as the tree builder does.)
    #[allow(clippy::too_many_arguments)]
    unsafe extern "C" fn on_start(
        _ctx: *mut c_void,
        _localname: *const xmlChar,
        _prefix: *const xmlChar,
        _uri: *const xmlChar,
        _nb_namespaces: c_int,
        _namespaces: *mut *const xmlChar,
        nb_attributes: c_int,
        _nb_defaulted: c_int,
        attributes: *mut *const xmlChar,
    ) {
        let n = usize::try_from(nb_attributes).unwrap_or(0);
        if n == 0 || attributes.is_null() {
            return;
        }
        // SAFETY: libxml2 passes `nb_attributes` attributes as five pointers each (local name,
        // prefix, URI, value start, value end), valid for the call; names are NUL-terminated.
        let attributes = unsafe { std::slice::from_raw_parts(attributes, 5 * n) };
        let is = |p: *const xmlChar, name: &[u8]| {
            // SAFETY: as above.
            !p.is_null() && unsafe { CStr::from_ptr(p.cast()) }.to_bytes() == name
        };
        if attributes.chunks_exact(5).any(|a| is(a[1], b"xml") && is(a[0], b"id")) {
            tree_only();
        }
    }

    /// The SAX handler the validator is plugged into: nothing but the two watches above
    /// (every other callback empty, as with no handler at all).
    fn watch() -> xmlSAXHandler {
        xmlSAXHandler {
            internalSubset: Some(on_doctype),
            isStandalone: None,
            hasInternalSubset: None,
            hasExternalSubset: None,
            resolveEntity: None,
            getEntity: None,
            entityDecl: None,
            notationDecl: None,
            attributeDecl: None,
            elementDecl: None,
            unparsedEntityDecl: None,
            setDocumentLocator: None,
            startDocument: None,
            endDocument: None,
            startElement: None,
            endElement: None,
            reference: None,
            characters: None,
            ignorableWhitespace: None,
            processingInstruction: None,
            comment: None,
            warning: None,
            error: None,
            fatalError: None,
            getParameterEntity: None,
            cdataBlock: None,
            externalSubset: None,
            initialized: XML_SAX2_MAGIC,
            _private: std::ptr::null_mut(),
            startElementNs: Some(on_start),
            endElementNs: None,
            serror: None,
        }
    }

    /// Counts the reports libxml2 makes on this thread while installed (every level).
    unsafe extern "C" fn count<E>(ctx: *mut c_void, _error: E) {
        // SAFETY: ctx is the `usize` that `Counting::install` registered; it outlives the
        // guard, which unregisters it.
        if let Some(n) = unsafe { ctx.cast::<usize>().as_mut() } {
            *n = n.saturating_add(1);
        }
    }

    /// This thread's structured error handler pointed at a counter, the previous one restored
    /// on drop (libxml2 keeps the handler per thread, so other threads are unaffected).
    struct Counting {
        saved_handler: xmlStructuredErrorFunc,
        saved_data: *mut c_void,
    }

    impl Counting {
        /// # Safety
        /// `reports` must stay alive and unmoved until the guard is dropped.
        unsafe fn install(reports: *mut usize) -> Counting {
            let handler: xmlStructuredErrorFunc = Some(count);
            // SAFETY: libxml2 returns pointers to this thread's handler slots, valid for the
            // thread's life; the caller keeps `reports` valid while it is registered.
            unsafe {
                let saved =
                    Counting { saved_handler: *__xmlStructuredError(), saved_data: *__xmlStructuredErrorContext() };
                xmlSetStructuredErrorFunc(reports.cast(), handler);
                saved
            }
        }
    }

    impl Drop for Counting {
        fn drop(&mut self) {
            // SAFETY: puts back exactly what was installed before.
            unsafe { xmlSetStructuredErrorFunc(self.saved_data, self.saved_handler) }
        }
    }

    /// Whether `bytes` stream through `ctx`'s schema with nothing reported. Errors the
    /// validator collected on the way are dropped: the tree path reports them again.
    pub fn is_clean(ctx: &mut SchemaValidationContext, bytes: &[u8]) -> bool {
        if bytes.len() > MAX_BYTES {
            return false;
        }
        let Ok(len) = c_int::try_from(bytes.len()) else { return false };
        if TREE_ONLY.try_with(|t| t.set(false)).is_err() {
            return false;
        }
        let mut sax = watch();
        let mut reports = 0usize;
        let rc = {
            // SAFETY: `reports` lives on this frame until after the guard is dropped.
            let _counting = unsafe { Counting::install(&mut reports) };
            // SAFETY: the buffer is a NUL-terminated copy of `bytes` (libxml2's parser reads
            // up to a NUL, so the borrowing `CreateStatic` would read past the slice);
            // xmlSchemaValidateStream hands it to its parser, which frees it with itself.
            // (Only if libxml2 cannot allocate the parser does it return -1 without taking
            // the buffer, which then leaks, on an allocation failure.)
            unsafe {
                let input =
                    xmlParserInputBufferCreateMem(bytes.as_ptr().cast(), len, xmlCharEncoding_XML_CHAR_ENCODING_NONE);
                if input.is_null() {
                    return false;
                }
                // The watch's user data is the validation context itself: libxml2 2.9 hands
                // the user data, not the context, to the validator's entity-reference callback
                // when a handler is plugged (a slip in its splitter), so it gets what it expects.
                // `sax` outlives the call; libxml2 keeps no pointer to it afterwards.
                let rc = xmlSchemaValidateStream(
                    ctx.as_ptr(),
                    input,
                    xmlCharEncoding_XML_CHAR_ENCODING_NONE,
                    &mut sax,
                    ctx.as_ptr().cast(),
                );
                // xmlSchemaValidateStream leaves the context's line locator pointing at the
                // parser it has just freed (libxml2 2.9-2.11); a later tree validation would
                // call it for an error without a line. Unset it.
                xmlSchemaValidateSetLocator(ctx.as_ptr(), None, std::ptr::null_mut());
                rc
            }
        };
        let validator_reports = ctx.drain_errors();
        let tree_only = TREE_ONLY.try_with(Cell::get).unwrap_or(true);
        rc == 0 && validator_reports.is_empty() && reports == 0 && !tree_only
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

/// The streaming path against the tree path: the stream may say "clean" only where the tree
/// finds the document valid, and `validate` answers exactly as the tree path does.
#[cfg(test)]
mod streaming_tests {
    use super::*;

    /// A CareCommunication as flspost writes it (group 2a), unvalidated.
    fn care_communication() -> Vec<u8> {
        use crate::formats::fhir::carecommunication::{self as cc, CareCommunication, Identity};
        let now: chrono::DateTime<chrono::Utc> = "2025-03-20T09:30:00Z".parse().unwrap();
        let mut input: serde_json::Value =
            serde_json::from_str(include_str!("../../samples/input/group-2a.json")).unwrap();
        input["gp"]["sor_id"] = "1017421000016003".into();
        input["author"]["given_name"] = "Karen".into();
        input["author"]["surname"] = "Østergaard".into();
        let result = crate::app::generate::prepare(&input.to_string(), &Default::default(), now).unwrap().result;
        let text =
            crate::letters::Letters::shipped().render(crate::model::Addressee::Gp, &result, now.date_naive()).unwrap();
        let identity = Identity::derive(&result, 0, 1, now);
        cc::write(&CareCommunication { result: &result, text: &text, identity: &identity }).unwrap()
    }

    fn samples() -> Vec<(MessageKind, Vec<u8>)> {
        vec![
            (MessageKind::Xdis91, include_bytes!("../../samples/output/FLS-AUH-2025-0001/gp-xdis91.xml").to_vec()),
            (MessageKind::Memo, include_bytes!("../../samples/output/FLS-AUH-2025-0001/patient-memo.xml").to_vec()),
            (MessageKind::Kombi, include_bytes!("../../samples/kombi/FLS-AUH-2025-0004/patient-kombi.xml").to_vec()),
            (MessageKind::Receipt, include_bytes!("../../samples/receipts/negative-group-2a.xml").to_vec()),
            (MessageKind::CareCommunication, care_communication()),
        ]
    }

    fn replace_first(doc: &[u8], from: &str, to: &str) -> Vec<u8> {
        let text = String::from_utf8_lossy(doc);
        assert!(text.contains(from), "{from} not in the sample");
        // Byte-wise, so an ISO-8859-1 sample keeps its other bytes.
        let at = doc.windows(from.len()).position(|w| w == from.as_bytes()).unwrap();
        [&doc[..at], to.as_bytes(), &doc[at + from.len()..]].concat()
    }

    /// The start tag of the root element, e.g. `<Emessage xmlns="...">`.
    fn root_tag(doc: &[u8]) -> String {
        let text = String::from_utf8_lossy(doc);
        let start = text
            .match_indices('<')
            .map(|(i, _)| i)
            .find(|&i| !matches!(text[i + 1..].chars().next(), Some('?' | '!')))
            .unwrap();
        let end = start + text[start..].find('>').unwrap() + 1;
        text[start..end].to_string()
    }

    /// What the tree path says of a variant, and whether the stream may vouch for it.
    #[derive(Clone, Copy, Debug, PartialEq)]
    enum Expect {
        /// Refused (so never clean in the stream).
        Refused,
        /// Accepted, and the stream says so.
        Streams,
        /// Accepted, but only the tree path may say so (what only its builder sees).
        TreeOnly,
    }

    /// Variants of a document, most of them broken.
    fn variants(kind: MessageKind, doc: &[u8]) -> Vec<(String, Expect, Vec<u8>)> {
        let root = root_tag(doc);
        let name = root[1..].split(|c: char| c.is_whitespace() || c == '>' || c == '/').next().unwrap().to_string();
        let local = name.rsplit(':').next().unwrap().to_string();
        let refused = |what: &str, bytes: Vec<u8>| (what.to_string(), Expect::Refused, bytes);
        let mut out = vec![
            refused("truncated", doc[..doc.len() * 2 / 3].to_vec()),
            refused("not XML", b"this is not XML".to_vec()),
            refused("empty", vec![]),
            refused("a control character", replace_first(doc, &root, &format!("{root}\u{1}"))),
            // Well-formed, but a namespace error: libxml2's stream alone would accept it
            // where the schema has no namespace (kombi).
            refused(
                "undeclared prefix on the root",
                replace_first(
                    &replace_first(doc, &format!("<{name}"), &format!("<undeclared:{local}")),
                    &format!("</{name}>"),
                    &format!("</undeclared:{local}>"),
                ),
            ),
            refused(
                "an element in another namespace",
                replace_first(doc, &root, &format!("{root}<x:Stray xmlns:x=\"urn:other\"/>")),
            ),
            refused("an unknown element", replace_first(doc, &root, &format!("{root}<Bogus/>"))),
            refused("an undeclared entity", replace_first(doc, &root, &format!("{root}&undeclared;"))),
            refused(
                "an entity from the internal subset",
                replace_first(doc, &root, &format!("<!DOCTYPE {name} [<!ENTITY e \"x\">]>{root}&e;")),
            ),
            // Not loaded by either path (no network, no DTD loading): accepted; any DOCTYPE is
            // left to the tree path.
            (
                "an external DTD".to_string(),
                Expect::TreeOnly,
                replace_first(doc, &root, &format!("<!DOCTYPE {name} SYSTEM \"http://127.0.0.1:9/x.dtd\">{root}")),
            ),
            ("a comment".to_string(), Expect::Streams, replace_first(doc, &root, &format!("{root}<!-- c -->"))),
        ];
        if let Some(ns) = root.split("xmlns").nth(1).and_then(|r| r.split('"').nth(1)) {
            out.push(refused("the wrong namespace", replace_first(doc, ns, &format!("{ns}wrong"))));
            out.push(refused("no namespace", replace_first(doc, &format!("\"{ns}\""), "\"\"")));
        }
        let text = String::from_utf8_lossy(doc).into_owned();
        // The first element without children (a line `<x>...</x>` or `<x .../>`), removed.
        if let Some(line) =
            text.lines().skip(2).map(str::trim).find(|l| {
                l.starts_with('<') && !l.starts_with("</") && (l.ends_with("/>") || l.matches('<').count() == 2)
            })
        {
            out.push(refused("a missing element", replace_first(doc, line, "")));
            out.push(refused("a doubled element", replace_first(doc, line, &format!("{line}{line}"))));
        }
        // What libxml2's tree builder checks and its parser alone does not: declarations in a
        // DOCTYPE, and ids (xml:id; attributes a DOCTYPE declares ID).
        out.push(refused(
            "an element declared twice in a DOCTYPE",
            replace_first(doc, &root, &format!("<!DOCTYPE {name} [<!ELEMENT x ANY><!ELEMENT x ANY>]>{root}")),
        ));
        out.push(refused(
            "xml:id declared CDATA in a DOCTYPE",
            replace_first(doc, &root, &format!("<!DOCTYPE {name} [<!ATTLIST x xml:id CDATA #IMPLIED>]>{root}")),
        ));
        match kind {
            MessageKind::CareCommunication => {
                // Inside a narrative, whose content the schema skips.
                let div = "<div xmlns=\"http://www.w3.org/1999/xhtml\">";
                out.push(refused(
                    "an xml:id that is no NCName",
                    replace_first(doc, div, &format!("{div}<p xml:id=\"a b\">x</p>")),
                ));
                out.push(refused(
                    "an xml:id twice",
                    replace_first(doc, div, &format!("{div}<p xml:id=\"a\">x</p><p xml:id=\"a\">y</p>")),
                ));
                out.push(refused(
                    "an ID attribute twice",
                    replace_first(
                        &replace_first(doc, &root, &format!("<!DOCTYPE {name} [<!ATTLIST p id ID #IMPLIED>]>{root}")),
                        div,
                        &format!("{div}<p id=\"a\">x</p><p id=\"a\">y</p>"),
                    ),
                ));
                out.push((
                    "an xml:id".to_string(),
                    Expect::TreeOnly,
                    replace_first(doc, div, &format!("{div}<p xml:id=\"a\">x</p>")),
                ));
                out.push((
                    "an escaped ampersand in a value".to_string(),
                    Expect::Streams,
                    replace_first(doc, "<family value=\"", "<family value=\"&amp;"),
                ));
                out.push((
                    "an ampersand in text".to_string(),
                    Expect::Streams,
                    replace_first(doc, div, &format!("{div}<p>a &amp; b &#38; c</p>")),
                ));
                out.push(refused("a bad instant", replace_first(doc, "T10:30:00+01:00", "T25:30:00+01:00")));
                out.push(refused(
                    "a bad code",
                    replace_first(doc, "<type value=\"message\"/>", "<type value=\" message\"/>"),
                ));
                out.push(refused("an empty string", replace_first(doc, "<family value=\"", "<family value=\"\" x=\"")));
                out.push(refused(
                    "a bad narrative status",
                    replace_first(doc, "<status value=\"generated\"/>", "<status value=\"made\"/>"),
                ));
                out.push(refused(
                    "a narrative outside XHTML",
                    replace_first(doc, "<div xmlns=\"http://www.w3.org/1999/xhtml\">", "<div>"),
                ));
                out.push(refused(
                    "a fixed url changed",
                    replace_first(doc, "destinationUseExtension\"", "destinationUseExtensionX\""),
                ));
            }
            MessageKind::Xdis91 | MessageKind::Receipt => {
                out.push(refused("a bad date", replace_first(doc, "2025-03-20", "2025-13-45")));
            }
            MessageKind::Memo => {
                // Valid base64, but one text node over libxml2's 10,000,000 bytes, which only
                // its tree builder refuses (when the text comes in pieces: a character
                // reference splits it here).
                let content = "<memo:content>";
                let half = "QUFB".repeat(1_300_000);
                out.push(refused(
                    "a huge text node",
                    replace_first(doc, content, &format!("{content}{half}&#81;UFB{half}")),
                ));
            }
            _ => {}
        }
        out
    }

    #[test]
    fn the_stream_passes_only_what_the_tree_passes() {
        for (kind, doc) in samples() {
            let mut schema = Schema::from_text(kind.bundled_schema().1).unwrap();
            assert_eq!(schema.validate_tree(&doc), Ok(()), "{kind:?} sample");
            assert!(streaming::is_clean(&mut schema.ctx, &doc), "{kind:?}: a valid sample streams clean");
            for (what, expect, variant) in variants(kind, &doc) {
                let tree = schema.validate_tree(&variant);
                let short =
                    |r: &Result<(), Vec<Problem>>| format!("{:?}", r.as_ref().map_err(|e| &e[..e.len().min(2)]));
                assert_eq!(
                    tree.is_err(),
                    expect == Expect::Refused,
                    "{kind:?} {what}: the tree path says {}",
                    short(&tree)
                );
                let clean = streaming::is_clean(&mut schema.ctx, &variant);
                assert_eq!(clean, expect == Expect::Streams, "{kind:?} {what}: streamed clean: {clean}");
                // What `validate` says is the tree's answer, problems and positions alike,
                // also right after a stream that failed on the same context.
                assert_eq!(schema.validate(&variant), tree, "{kind:?} {what}");
                assert_eq!(validate(kind, &variant), tree, "{kind:?} {what}: the bundled validator");
            }
            // The context is reusable after all that: the sample streams clean again.
            assert!(streaming::is_clean(&mut schema.ctx, &doc), "{kind:?}: clean again");
        }
    }

    #[test]
    fn an_ampersand_in_a_value_is_judged_as_the_tree_decodes_it() {
        // libxml2's SAX passes `&amp;` in a value as `&#38;`; were that five characters to
        // its validator, the stream would pass `<a v='&amp;'/>`.
        let xsd = r#"<xs:schema xmlns:xs="http://www.w3.org/2001/XMLSchema">
  <xs:element name="a"><xs:complexType><xs:attribute name="v" use="required"><xs:simpleType>
    <xs:restriction base="xs:string"><xs:minLength value="2"/></xs:restriction>
  </xs:simpleType></xs:attribute></xs:complexType></xs:element>
</xs:schema>"#;
        let mut schema = Schema::from_text(xsd).unwrap();
        for (doc, valid) in
            [(&b"<a v='&amp;'/>"[..], false), (b"<a v='&#38;'/>", false), (b"<a v='&amp;&amp;'/>", true)]
        {
            let tree = schema.validate_tree(doc);
            assert_eq!(tree.is_ok(), valid, "{tree:?}");
            assert_eq!(schema.validate(doc), tree);
            assert_eq!(streaming::is_clean(&mut schema.ctx, doc), valid);
        }
        assert_eq!(schema.validate(b"<a v='ab'/>"), Ok(()));
        assert!(streaming::is_clean(&mut schema.ctx, b"<a v='ab'/>"));
    }

    #[test]
    fn a_schema_error_keeps_its_line_and_column() {
        let doc = care_communication();
        let broken = replace_first(&doc, "<type value=\"message\"/>", "<type value=\"message\"/><Bogus/>");
        let errs = validate(MessageKind::CareCommunication, &broken).unwrap_err();
        assert_eq!(errs.len(), 1, "{errs:?}");
        assert_eq!((errs[0].line, errs[0].column), (Some(7), Some(26)), "{errs:?}");
        assert!(errs[0].message.starts_with("Element 'Bogus': This element is not expected."), "{errs:?}");
    }

    #[test]
    fn a_malformed_document_keeps_file_line_col_problems() {
        let doc = care_communication();
        let broken = replace_first(&doc, "<type value=\"message\"/>", "<type value=\"message\">");
        let errs = validate(MessageKind::CareCommunication, &broken).unwrap_err();
        assert!(errs.iter().all(|e| e.line.is_some() && e.column.is_some()), "{errs:?}");
        assert!(errs[0].to_string().starts_with(&format!("{}:{}: ", errs[0].line.unwrap(), errs[0].column.unwrap())));
        assert!(errs.iter().any(|e| e.message.contains("mismatch")), "{errs:?}");
    }

    #[test]
    fn a_tree_without_a_root_is_refused_and_the_context_still_streams() {
        let doc = care_communication();
        let mut schema = Schema::from_text(MessageKind::CareCommunication.bundled_schema().1).unwrap();
        let empty = libxml::tree::Document::new().unwrap();
        let errs = schema.validate_parsed(&empty, b"").unwrap_err();
        assert_eq!(errs[0].message, "The document has no document element");
        drop(empty);
        assert!(streaming::is_clean(&mut schema.ctx, &doc));
        assert_eq!(schema.validate(&doc), Ok(()));
    }

    #[test]
    fn the_stream_leaves_this_threads_error_handler_as_it_was() {
        let mut schema = Schema::from_text(MessageKind::Receipt.bundled_schema().1).unwrap();
        // SAFETY: reads this thread's handler slot, as `Counting` does.
        let before = unsafe { *libxml::bindings::__xmlStructuredErrorContext() };
        assert!(!streaming::is_clean(&mut schema.ctx, b"<a><b></a>"));
        assert_eq!(unsafe { *libxml::bindings::__xmlStructuredErrorContext() }, before);
    }
}
