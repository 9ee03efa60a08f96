//! Validation while parsing: libxml2's SAX parser feeds its schema validator directly
//! (`xmlSchemaValidateStream`), with no tree.
//!
//! It answers only "clean or not". Clean means: the parser reported nothing (no error, no
//! warning, on the same per-thread channel the tree path collects its diagnostics from), the
//! document is well-formed, the validator reported nothing, and the document has none of what
//! only libxml2's tree builder checks or rewrites (see [`watch`]). The parse is the tree
//! path's own parser with the same input detection, so apart from those the validator sees the
//! same elements, attributes and text in both. libxml2's namespace errors (an undeclared
//! prefix) do not make a document ill-formed, so the stream's own verdict would pass them:
//! counting reports is what refuses them here.

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
pub(crate) const MAX_BYTES: usize = 2_500_000;

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
            let saved = Counting { saved_handler: *__xmlStructuredError(), saved_data: *__xmlStructuredErrorContext() };
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
pub(crate) fn is_clean(ctx: &mut SchemaValidationContext, bytes: &[u8]) -> bool {
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
