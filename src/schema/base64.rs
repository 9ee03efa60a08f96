//! The large xs:base64Binary values (a MeMo's PDF, the kombi request's print copy of it, an
//! envelope's Bundle) checked here instead of by libxml2.
//!
//! libxml2 2.9 checks a base64Binary character by character through a chain of comparisons,
//! and the MeMo's `minLength` facet makes it copy the value as well: a quarter of a batch's
//! time went there. So the value is checked in Rust, strictly against XML Schema's lexical
//! rules, and libxml2 is shown a copy of the document in which each such value is a short valid
//! one over the same lines: the schema still judges the whole shape. A value this module cannot
//! read plainly (markup, a reference or a CDATA section inside it, an encoding that is not
//! ASCII-compatible, a document too large for the stream) is left to libxml2, as before.

use super::problem::Problem;
use quick_xml::events::Event;
use quick_xml::name::ResolveResult;
use std::ops::Range;

/// An element whose text is an xs:base64Binary, by its namespace and local name and those of
/// its parent (local declarations are only that element where their parent holds them).
pub(crate) struct Binary {
    pub ns: &'static str,
    pub local: &'static str,
    pub parent_ns: &'static str,
    pub parent: &'static str,
}

/// One value found: where its element's start tag begins, its local name and its text.
#[derive(Debug, PartialEq)]
pub(crate) struct Value {
    pub start_tag: usize,
    pub local: &'static str,
    pub text: Range<usize>,
}

/// What this module reads a document as: its declared encoding must keep ASCII as ASCII.
fn ascii_compatible(encoding: &str) -> bool {
    let e = encoding.to_ascii_lowercase();
    matches!(&e[..], "utf-8" | "utf8" | "us-ascii" | "ascii" | "windows-1252")
        || e.starts_with("iso-8859-")
        || e.starts_with("latin")
}

/// The values of `binaries` in `bytes` that are plain text (nothing but characters between
/// the start and the end tag) and not empty. Empty when the document is not one this module
/// reads: then libxml2 judges it all, as it always did.
pub(crate) fn find(bytes: &[u8], binaries: &[Binary]) -> Vec<Value> {
    let rest = bytes.strip_prefix(b"\xEF\xBB\xBF").unwrap_or(bytes);
    // UTF-16 and EBCDIC documents begin otherwise.
    if rest.first() != Some(&b'<') || rest.get(1) == Some(&0) {
        return vec![];
    }
    let mut reader = quick_xml::NsReader::from_reader(bytes);
    // Per open element: the binary it is the parent of, if any.
    let mut open: Vec<Option<usize>> = vec![];
    let mut found = vec![];
    // Inside a binary's element: its index, its depth, where its start tag began, where its
    // text begins, and whether nothing but text has come since.
    let mut inside: Option<(usize, usize, usize, usize, bool)> = None;
    loop {
        let before = reader.buffer_position() as usize;
        let Ok((ns, event)) = reader.read_resolved_event() else { return vec![] };
        // The namespace as one of the binaries' (static), so the reader is free again.
        let ns: Option<&'static str> = match ns {
            ResolveResult::Bound(n) => {
                let n = n.into_inner();
                binaries.iter().flat_map(|b| [b.ns, b.parent_ns]).find(|k| *k == n)
            }
            _ => None,
        };
        match event {
            Event::Decl(d) => match d.encoding() {
                Some(Ok(e)) if !ascii_compatible(&e) => return vec![],
                Some(Err(_)) => return vec![],
                _ => {}
            },
            Event::Start(e) => {
                if let Some(i) = inside.as_mut() {
                    i.4 = false;
                }
                let local = e.local_name();
                let parent = open.last().copied().flatten().map(|p| &binaries[p]);
                let is = |b: &Binary| {
                    ns == Some(b.ns)
                        && local.as_ref() == b.local
                        && parent.is_some_and(|p| p.parent_ns == b.parent_ns && p.parent == b.parent)
                };
                if inside.is_none() {
                    if let Some(b) = binaries.iter().position(is) {
                        inside = Some((b, open.len(), before, reader.buffer_position() as usize, true));
                    }
                }
                let parent_of = binaries.iter().position(|b| ns == Some(b.parent_ns) && local.as_ref() == b.parent);
                open.push(parent_of);
            }
            Event::End(_) => {
                open.pop();
                if let Some((b, depth, start_tag, text, plain)) = inside {
                    if depth == open.len() {
                        inside = None;
                        if plain && before > text {
                            found.push(Value { start_tag, local: binaries[b].local, text: text..before });
                        }
                    }
                }
            }
            Event::Text(_) => {}
            Event::Eof => break,
            _ => {
                if let Some(i) = inside.as_mut() {
                    i.4 = false;
                }
            }
        }
    }
    found
}

/// Each byte's class for [`lexical_error`]: its 6-bit value, or one of these.
const SPACE: u8 = 64;
const PAD: u8 = 65;
const OTHER: u8 = 66;

const CLASS: [u8; 256] = {
    let mut t = [OTHER; 256];
    let alphabet = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    let mut i = 0;
    while i < 64 {
        t[alphabet[i] as usize] = i as u8;
        i += 1;
    }
    t[b' ' as usize] = SPACE;
    t[b'\t' as usize] = SPACE;
    t[b'\n' as usize] = SPACE;
    t[b'\r' as usize] = SPACE;
    t[b'=' as usize] = PAD;
    t
};

fn in_alphabet(b: u8) -> bool {
    b.is_ascii_alphanumeric() | (b == b'+') | (b == b'/')
}

/// Why `text` is not in xs:base64Binary's lexical space (XML Schema 1.0, part 2, 3.2.16),
/// or `None` when it is. White space is collapsed first, so any of it between characters is
/// allowed; then groups of four characters of the alphabet, the last group ending in one `=`
/// after a character whose two low bits are zero or in `==` after one whose four are.
pub(crate) fn lexical_error(text: &[u8]) -> Option<String> {
    let (mut chars, mut pad, mut last) = (0usize, 0usize, 0u8);
    // Blocks of the alphabet alone (all but the end of a value) are counted whole: a test
    // the compiler can run on many bytes at once.
    const BLOCK: usize = 32;
    let mut at = 0;
    while pad == 0 && at + BLOCK <= text.len() {
        let block = &text[at..at + BLOCK];
        if !block.iter().fold(true, |ok, &b| ok & in_alphabet(b)) {
            break;
        }
        chars += BLOCK;
        last = CLASS[block[BLOCK - 1] as usize];
        at += BLOCK;
    }
    for (at, &b) in text.iter().enumerate().skip(at) {
        match CLASS[b as usize] {
            SPACE => {}
            PAD => {
                pad += 1;
                if pad > 2 {
                    return Some("more than two '=' at its end".into());
                }
            }
            OTHER => {
                let shown = if b.is_ascii_graphic() { format!("'{}'", b as char) } else { format!("byte 0x{b:02X}") };
                return Some(format!(
                    "{shown} at character {} is not in the base64 alphabet (A-Z, a-z, 0-9, +, /, = at the end)",
                    at + 1
                ));
            }
            v => {
                if pad > 0 {
                    return Some("'=' before its end".into());
                }
                chars += 1;
                last = v;
            }
        }
    }
    if (chars + pad) % 4 != 0 {
        return Some(format!("{} characters, not a multiple of four", chars + pad));
    }
    if (pad == 1 && last & 0b11 != 0) || (pad == 2 && last & 0b1111 != 0) {
        return Some("its last character before '=' has bits set that encode nothing".into());
    }
    None
}

/// Where `at` is, as libxml2 counts lines and flspost counts columns (characters).
fn position(bytes: &[u8], at: usize) -> (u32, u32) {
    let before = &bytes[..at.min(bytes.len())];
    let line_start = before.iter().rposition(|b| *b == b'\n').map_or(0, |i| i + 1);
    let line = before.iter().filter(|b| **b == b'\n').count() + 1;
    let column = String::from_utf8_lossy(&before[line_start..]).chars().count() + 1;
    (u32::try_from(line).unwrap_or(u32::MAX), u32::try_from(column).unwrap_or(u32::MAX))
}

impl Value {
    /// The problem a schema would report for this value, worded as libxml2 names elements;
    /// `None` when it is valid. (A valid non-empty value decodes to at least one byte, so it
    /// also meets the `minLength` of 1 the bundled schemas set.)
    pub(crate) fn problem(&self, bytes: &[u8]) -> Option<Problem> {
        let reason = lexical_error(&bytes[self.text.clone()])?;
        let (line, column) = position(bytes, self.start_tag);
        Some(Problem {
            line: Some(line),
            column: Some(column),
            message: format!(
                "Element '{}': not a valid value of the atomic type 'xs:base64Binary': {reason}.",
                self.local
            ),
        })
    }
}

/// `bytes` with each value's text replaced by `AAAA` and the line breaks it held (each CR
/// and LF, in order), so every other element keeps its line.
pub(crate) fn with_placeholders(bytes: &[u8], values: &[Value]) -> Vec<u8> {
    let mut out = Vec::with_capacity(bytes.len().min(1 << 16));
    let mut from = 0;
    for v in values {
        out.extend_from_slice(&bytes[from..v.text.start]);
        out.extend_from_slice(b"AAAA");
        let text = &bytes[v.text.clone()];
        // Usually on one line: a vector search first.
        if memchr::memchr2(b'\n', b'\r', text).is_some() {
            out.extend(text.iter().filter(|b| matches!(b, b'\n' | b'\r')));
        }
        from = v.text.end;
    }
    out.extend_from_slice(&bytes[from..]);
    out
}

#[cfg(test)]
mod tests;
