//! Lets libxml2 read `flspost:NAME` from the catalogue's `IMPORTED` (its designed hook for
//! resources that are not files), so bundled schemas import each other without touching the disk.

use crate::schema::catalogue::IMPORTED;
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
pub(crate) fn register() {
    static ONCE: std::sync::Once = std::sync::Once::new();
    // SAFETY: the callbacks only read static data and their own boxed cursor.
    ONCE.call_once(|| unsafe {
        // Initialise first: libxml2 adds its default (file, memory) handlers at
        // initialisation only when no handler is registered yet, so registering ours
        // before it would leave libxml2 unable to read any file.
        libxml::bindings::xmlInitParser();
        // No XML catalogs: a schema import names only `flspost:` files, never a catalog
        // entry of this machine's (/etc/xml/catalog is not ours to follow). Catalogs are also
        // libxml2's one lazily initialised global: two threads compiling their first schema
        // at once could deadlock in its lock (seen: both waiting in xmlCatalogResolve).
        libxml::bindings::xmlInitializeCatalog();
        libxml::bindings::xmlCatalogSetDefaults(libxml::bindings::xmlCatalogAllow_XML_CATA_ALLOW_NONE);
        xmlRegisterInputCallbacks(Some(matches), Some(open), Some(read), Some(close));
    });
}
