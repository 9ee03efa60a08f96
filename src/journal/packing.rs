//! A message's bytes as the journal stores them: without the patient's PDF, which the MeMo
//! carries once in base64, a kombi request twice, and a CareCommunication inside the base64 of
//! its VANS envelope's Bundle. The PDF is stored once per result (`parts`), and the message
//! as a recipe that makes its exact bytes again from literal runs and that part.
//!
//! Byte-exact by construction and by check: a run is cut out only when it is the canonical,
//! padded base64 of what it decodes to (the strict decoder refuses any other spelling, so
//! encoding the part again gives the same characters), and [`pack`]'s caller stores the
//! recipe only after [`unpack`] gave back every byte; the SHA-256 of the whole message is
//! checked at every read as before. A stored value that does not start with [`MAGIC`] is the
//! message itself (every journal before schema 6, and what did not pack).
//!
//! Its maker usually knows what a message carries (the PDF it put in, the document an
//! envelope wraps): given their lengths and first bytes, [`pack`] finds and decodes just
//! those runs instead of reading the message for every long one, and [`verify`] compares
//! what the recipe makes with the message piece by piece instead of making a copy. When
//! that recipe does not give the message back, the caller looks for itself.

use crate::compose::Carried;
use base64::engine::general_purpose::STANDARD;
use base64::Engine;
use std::borrow::Cow;

/// The first bytes of a recipe. A message is XML, which never holds a NUL.
pub(super) const MAGIC: &[u8] = b"\0flspost-packed-1\n";

/// Shorter base64 runs are left as they are: what they would save is less than a part costs.
const MIN_RUN: usize = 4096;

/// How deep base64 inside base64 is looked into (the envelope's Bundle holding the PDF).
const MAX_DEPTH: usize = 1;

/// The biggest message a recipe makes (the contract's limits keep letters far below it):
/// reading a damaged recipe never allocates more.
const MAX_LEN: u64 = 256 * 1024 * 1024;

/// The most [`unpack`] reserves before it has made the bytes.
const RESERVE: u64 = 4 * 1024 * 1024;

const LITERAL: u8 = b'L';
const PART: u8 = b'P';
const BASE64: u8 = b'B';

/// A message taken apart: what stays in its row, and the parts stored apart from it.
#[derive(Debug, PartialEq)]
pub(super) enum Piece {
    Literal(Vec<u8>),
    /// The canonical base64 of `parts[n]`.
    Part(usize),
    /// The canonical base64 of what these pieces make.
    Base64(Vec<Piece>),
}

/// `bytes` as pieces and the parts they name (each PDF once), or `None` when nothing in it is
/// worth storing apart. With `known` (what the message's maker put in it: PDFs, and documents
/// it carries in base64 that may hold them), only those runs are decoded, found by the base64
/// of their first bytes; without, every long base64 run is decoded to see what it holds.
pub(super) fn pack(bytes: &[u8], known: Option<&[Carried]>) -> Option<(Vec<Piece>, Vec<Vec<u8>>)> {
    let mut parts = vec![];
    let pieces = match known {
        Some(known) => known_pieces(bytes, known, 0, &mut parts),
        None => pieces(bytes, 0, &mut parts),
    };
    (!parts.is_empty()).then_some((pieces, parts))
}

fn is_pdf(head: &[u8]) -> bool {
    head.starts_with(b"%PDF-")
}

/// [`pieces`] for values the maker names: each run is found by the base64 of the value's
/// head and taken for the value's encoded length, then decoded and checked against its length
/// and head (what it decodes to is the part; [`verify`] compares every byte before it is
/// stored). A run met twice (a kombi request's PDF) is decoded once.
fn known_pieces(bytes: &[u8], known: &[Carried], depth: usize, parts: &mut Vec<Vec<u8>>) -> Vec<Piece> {
    let pdfs = known.iter().any(|k| is_pdf(&k.head));
    let mut found: Vec<(usize, usize, &Carried)> = vec![];
    for k in known {
        let Some(len) = base64::encoded_len(k.len, true) else { continue };
        // Only a PDF is stored apart, and only a document that may hold one is looked into.
        let wanted = is_pdf(&k.head) || (pdfs && depth < MAX_DEPTH);
        if !wanted || len < MIN_RUN || len > bytes.len() || k.head.is_empty() || k.head.len() % 3 != 0 {
            continue;
        }
        let head = STANDARD.encode(&k.head);
        for at in memchr::memmem::find_iter(bytes, head.as_bytes()) {
            if at + len <= bytes.len() {
                found.push((at, len, k));
            }
        }
    }
    found.sort_by_key(|&(at, len, _)| (at, std::cmp::Reverse(len)));
    let mut out = vec![];
    let mut seen: Vec<(&[u8], usize)> = vec![]; // runs made parts here: the run, its part
    let mut literal_from = 0;
    for (at, len, k) in found {
        if at < literal_from {
            continue; // inside one taken already
        }
        let run = &bytes[at..at + len];
        let piece = if let Some(&(_, n)) = seen.iter().find(|(r, _)| *r == run) {
            Piece::Part(n)
        } else {
            let Ok(decoded) = STANDARD.decode(run) else { continue };
            if decoded.len() != k.len || !decoded.starts_with(&k.head) {
                continue;
            }
            if is_pdf(&decoded) {
                let n = match parts.iter().position(|p| *p == decoded) {
                    Some(n) => n,
                    None => {
                        parts.push(decoded);
                        parts.len() - 1
                    }
                };
                seen.push((run, n));
                Piece::Part(n)
            } else if depth < MAX_DEPTH {
                let inner = known_pieces(&decoded, known, depth + 1, parts);
                if !inner.iter().any(|p| matches!(p, Piece::Part(_))) {
                    continue;
                }
                Piece::Base64(inner)
            } else {
                continue;
            }
        };
        if literal_from < at {
            out.push(Piece::Literal(bytes[literal_from..at].to_vec()));
        }
        out.push(piece);
        literal_from = at + len;
    }
    if literal_from < bytes.len() {
        out.push(Piece::Literal(bytes[literal_from..].to_vec()));
    }
    out
}

fn pieces(bytes: &[u8], depth: usize, parts: &mut Vec<Vec<u8>>) -> Vec<Piece> {
    let mut out = vec![];
    let mut literal_from = 0;
    let mut i = 0;
    while i < bytes.len() {
        if !is_base64(bytes[i]) {
            i += 1;
            continue;
        }
        let start = i;
        while i < bytes.len() && is_base64(bytes[i]) {
            i += 1;
        }
        let run = &bytes[start..i];
        if run.len() < MIN_RUN {
            continue;
        }
        let Ok(decoded) = STANDARD.decode(run) else { continue };
        let piece = if decoded.starts_with(b"%PDF-") {
            let n = match parts.iter().position(|p| *p == decoded) {
                Some(n) => n,
                None => {
                    parts.push(decoded);
                    parts.len() - 1
                }
            };
            Piece::Part(n)
        } else if depth < MAX_DEPTH {
            let found = parts.len();
            let inner = pieces(&decoded, depth + 1, parts);
            if parts.len() == found && !inner.iter().any(|p| matches!(p, Piece::Part(_))) {
                continue;
            }
            Piece::Base64(inner)
        } else {
            continue;
        };
        if literal_from < start {
            out.push(Piece::Literal(bytes[literal_from..start].to_vec()));
        }
        out.push(piece);
        literal_from = i;
    }
    if literal_from < bytes.len() {
        out.push(Piece::Literal(bytes[literal_from..].to_vec()));
    }
    out
}

fn is_base64(b: u8) -> bool {
    b.is_ascii_alphanumeric() || b == b'+' || b == b'/' || b == b'='
}

/// The stored recipe: [`MAGIC`], the message's length, then the pieces, each part named by
/// `ids[n]` (its row in `parts`).
pub(super) fn encode(pieces: &[Piece], ids: &[i64], len: usize) -> Vec<u8> {
    let mut out = MAGIC.to_vec();
    out.extend_from_slice(&(len as u64).to_le_bytes());
    encode_into(pieces, ids, &mut out);
    out
}

fn encode_into(pieces: &[Piece], ids: &[i64], out: &mut Vec<u8>) {
    for p in pieces {
        match p {
            Piece::Literal(b) => {
                out.push(LITERAL);
                out.extend_from_slice(&(b.len() as u64).to_le_bytes());
                out.extend_from_slice(b);
            }
            Piece::Part(n) => {
                out.push(PART);
                out.extend_from_slice(&ids[*n].to_le_bytes());
            }
            Piece::Base64(inner) => {
                let mut nested = vec![];
                encode_into(inner, ids, &mut nested);
                out.push(BASE64);
                out.extend_from_slice(&(nested.len() as u64).to_le_bytes());
                out.extend_from_slice(&nested);
            }
        }
    }
}

/// Whether a stored value is a recipe.
pub(super) fn is_packed(stored: &[u8]) -> bool {
    stored.starts_with(MAGIC)
}

/// The length of the message a stored value makes, read from a recipe's header.
pub(super) fn packed_len(stored: &[u8]) -> Option<u64> {
    let n = stored.get(MAGIC.len()..MAGIC.len() + 8)?;
    Some(u64::from_le_bytes(n.try_into().ok()?))
}

/// A part's bytes by its id, as [`unpack`] and [`verify`] ask for them (`None`: no such part).
pub(super) type PartOf<'a, 'p> = dyn FnMut(i64) -> Result<Option<Cow<'p, [u8]>>, crate::error::Error> + 'a;

/// The message a recipe makes, with `part(id)` giving a part's bytes; `Err` says what is
/// wrong with a damaged one.
pub(super) fn unpack(stored: &[u8], part: &mut PartOf<'_, '_>) -> Result<Vec<u8>, Unpack> {
    let len = header(stored)?;
    // What the header claims is reserved only up to a size letters have: a damaged header
    // costs no more memory than the bytes it makes.
    let mut out = Vec::with_capacity(len.min(RESERVE) as usize);
    unpack_into(&stored[MAGIC.len() + 8..], 0, part, &mut out)?;
    if out.len() as u64 != len {
        return Err(Unpack::Damaged("its recipe makes bytes of another length (the journal is damaged)"));
    }
    Ok(out)
}

/// Whether the recipe makes exactly `expected`: [`unpack`]'s own steps, each piece compared
/// with the bytes it should make as it is made, so no copy of the message is built.
pub(super) fn verify(stored: &[u8], part: &mut PartOf<'_, '_>, expected: &[u8]) -> bool {
    let Ok(len) = header(stored) else { return false };
    let mut same = Same { expected, at: 0 };
    len == expected.len() as u64
        && unpack_into(&stored[MAGIC.len() + 8..], 0, part, &mut same).is_ok()
        && same.at == expected.len()
}

/// The length a recipe's header names, checked against what flspost makes.
fn header(stored: &[u8]) -> Result<u64, Unpack> {
    let len = packed_len(stored).ok_or(Unpack::Damaged("its recipe has no header (the journal is damaged)"))?;
    if len > MAX_LEN {
        return Err(Unpack::Damaged("its recipe names an impossible length (the journal is damaged)"));
    }
    Ok(len)
}

const SHORT: Unpack = Unpack::Damaged("its recipe is cut short (the journal is damaged)");
const TOO_LONG: Unpack = Unpack::Damaged("its recipe names an impossible length (the journal is damaged)");

/// Why a recipe made no message.
#[derive(Debug)]
pub(super) enum Unpack {
    Damaged(&'static str),
    /// Reading a part failed (not damage: the journal could not be read).
    Read(crate::error::Error),
}

/// Where [`unpack_into`] puts what it makes: the message being made, or [`Same`].
trait Sink {
    fn put(&mut self, bytes: &[u8]) -> Result<(), Unpack>;
    fn len(&self) -> usize;
}

impl Sink for Vec<u8> {
    fn put(&mut self, bytes: &[u8]) -> Result<(), Unpack> {
        self.extend_from_slice(bytes);
        Ok(())
    }
    fn len(&self) -> usize {
        self.len()
    }
}

/// A sink that holds nothing: it checks that what is put is `expected`'s next bytes.
struct Same<'e> {
    expected: &'e [u8],
    at: usize,
}

impl Sink for Same<'_> {
    fn put(&mut self, bytes: &[u8]) -> Result<(), Unpack> {
        match self.expected.get(self.at..self.at + bytes.len()) {
            Some(want) if want == bytes => {
                self.at += bytes.len();
                Ok(())
            }
            _ => Err(Unpack::Damaged("its recipe makes other bytes than the message")),
        }
    }
    fn len(&self) -> usize {
        self.at
    }
}

fn unpack_into(mut r: &[u8], depth: usize, part: &mut PartOf<'_, '_>, out: &mut impl Sink) -> Result<(), Unpack> {
    while let Some((&tag, rest)) = r.split_first() {
        let (n, rest) = rest.split_first_chunk::<8>().ok_or(SHORT)?;
        r = rest;
        match tag {
            LITERAL | BASE64 => {
                let n = usize::try_from(u64::from_le_bytes(*n)).map_err(|_| SHORT)?;
                if n > r.len() {
                    return Err(SHORT);
                }
                let (body, rest) = r.split_at(n);
                r = rest;
                if tag == LITERAL {
                    out.put(body)?;
                } else {
                    if depth >= MAX_DEPTH {
                        return Err(Unpack::Damaged(
                            "its recipe nests deeper than flspost writes (the journal is damaged)",
                        ));
                    }
                    let mut inner = vec![];
                    unpack_into(body, depth + 1, part, &mut inner)?;
                    push_base64(out, &inner)?;
                }
            }
            PART => {
                let id = i64::from_le_bytes(*n);
                let bytes = part(id)
                    .map_err(Unpack::Read)?
                    .ok_or(Unpack::Damaged("a part its recipe names is missing (the journal is damaged)"))?;
                push_base64(out, &bytes)?;
            }
            _ => return Err(Unpack::Damaged("its recipe holds an unknown piece (the journal is damaged)")),
        }
        if out.len() as u64 > MAX_LEN {
            return Err(TOO_LONG);
        }
    }
    Ok(())
}

/// Input bytes [`push_base64`] encodes at a time: a multiple of 3, so the pieces' base64
/// joined is the whole value's.
const CHUNK: usize = 3 * 1024;

/// Puts the canonical base64 of `bytes`, a chunk at a time.
fn push_base64(out: &mut impl Sink, bytes: &[u8]) -> Result<(), Unpack> {
    if base64::encoded_len(bytes.len(), true).is_none_or(|n| (out.len() + n) as u64 > MAX_LEN) {
        return Err(TOO_LONG);
    }
    let mut buf = [0u8; CHUNK / 3 * 4];
    for chunk in bytes.chunks(CHUNK) {
        let n = STANDARD.encode_slice(chunk, &mut buf).map_err(|_| TOO_LONG)?;
        out.put(&buf[..n])?;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    const STANDARD_ALPHABET: &[u8] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";

    /// A stand-in PDF: `%PDF-` and `n` bytes that are not text.
    fn pdf(n: usize, seed: u8) -> Vec<u8> {
        let mut b = b"%PDF-1.7\n".to_vec();
        b.extend((0..n).map(|i| (i as u8).wrapping_mul(31).wrapping_add(seed)));
        b
    }

    fn xml_with(payload: &[u8]) -> Vec<u8> {
        [b"<memo:Data>".as_slice(), STANDARD.encode(payload).as_bytes(), b"</memo:Data>\n"].concat()
    }

    /// The recipe for `pieces` with the parts under ids 100.., and a reader of them.
    fn recipe_of(pieces: &[Piece], parts: &[Vec<u8>], len: usize) -> Vec<u8> {
        let ids: Vec<i64> = (0..parts.len() as i64).map(|n| 100 + n).collect();
        encode(pieces, &ids, len)
    }

    fn reader<'p>(parts: &'p [Vec<u8>]) -> impl FnMut(i64) -> Result<Option<Cow<'p, [u8]>>, crate::error::Error> + 'p {
        move |id: i64| Ok(parts.get((id - 100) as usize).map(|p| Cow::Borrowed(p.as_slice())))
    }

    /// Packs `bytes` (looking for `known` when given), stores the parts under ids 100.., and
    /// unpacks: the same bytes, which [`verify`] confirms.
    fn round_trip_with(bytes: &[u8], known: Option<&[Carried]>) -> (Vec<u8>, Vec<Vec<u8>>) {
        let (pieces, parts) = pack(bytes, known).expect("packs");
        let recipe = recipe_of(&pieces, &parts, bytes.len());
        assert_eq!(unpack(&recipe, &mut reader(&parts)).unwrap(), bytes);
        assert!(verify(&recipe, &mut reader(&parts), bytes));
        assert_eq!(packed_len(&recipe), Some(bytes.len() as u64));
        (recipe, parts)
    }

    fn round_trip(bytes: &[u8]) -> (Vec<u8>, Vec<Vec<u8>>) {
        round_trip_with(bytes, None)
    }

    #[test]
    fn a_memo_keeps_its_pdf_apart_and_comes_back_byte_for_byte() {
        let p = pdf(20_000, 1);
        let memo = [b"<?xml version=\"1.0\"?>\n<memo:Message>".as_slice(), &xml_with(&p), b"</memo:Message>"].concat();
        let (recipe, parts) = round_trip(&memo);
        assert_eq!(parts, vec![p]);
        assert!(recipe.len() < 200, "{}", recipe.len());
    }

    #[test]
    fn the_same_pdf_twice_is_one_part() {
        let p = pdf(9_000, 2);
        let kombi =
            [b"<kombi_request>".as_slice(), &xml_with(&p), b"<Print>", &xml_with(&p), b"</kombi_request>"].concat();
        let (_, parts) = round_trip(&kombi);
        assert_eq!(parts.len(), 1);
    }

    #[test]
    fn a_pdf_inside_the_base64_of_an_envelopes_bundle_is_found() {
        let p = pdf(12_000, 3);
        let bundle =
            [b"<Bundle><Binary><data value=\"".as_slice(), STANDARD.encode(&p).as_bytes(), b"\"/></Binary></Bundle>"]
                .concat();
        let envelope =
            [b"<VANSEnvelope><Data>".as_slice(), STANDARD.encode(&bundle).as_bytes(), b"</Data></VANSEnvelope>"]
                .concat();
        let (recipe, parts) = round_trip(&envelope);
        assert_eq!(parts, vec![p]);
        assert!(recipe.len() < 300, "{}", recipe.len());
    }

    #[test]
    fn what_is_not_canonical_base64_of_a_pdf_stays_as_it_is() {
        // Not a PDF; too short; wrapped in lines.
        assert!(pack(&xml_with(&vec![7u8; 9_000]), None).is_none());
        assert!(pack(&xml_with(&pdf(100, 5)), None).is_none());
        let text = STANDARD.encode(pdf(9_000, 4));
        let wrapped: Vec<u8> = text.as_bytes().chunks(76).flat_map(|l| [l, b"\n"].concat()).collect();
        assert!(pack(&wrapped, None).is_none());
        // 9,010 bytes end in one byte and `==`: the character before holds 4 bits the padding
        // drops. With them set it still names the same bytes, but encoding those gives the
        // other character: such a run must stay as it is, or the message would not come back.
        let text = STANDARD.encode(pdf(9_001, 4));
        assert!(text.ends_with("=="), "{}", &text[text.len() - 4..]);
        let mut loose = text.into_bytes();
        let at = loose.len() - 3;
        let value = STANDARD_ALPHABET.iter().position(|&c| c == loose[at]).unwrap();
        loose[at] = STANDARD_ALPHABET[value | 0b1111];
        assert!(pack(&[b"<a>".as_slice(), &loose, b"</a>"].concat(), None).is_none());
    }

    #[test]
    fn a_damaged_recipe_is_named_never_a_panic() {
        let p = pdf(10_000, 6);
        let memo = [b"<a>".as_slice(), &xml_with(&p), b"</a>"].concat();
        let (recipe, parts) = round_trip(&memo);
        let mut get = reader(&parts);
        for cut in 0..recipe.len() {
            assert!(unpack(&recipe[..cut], &mut get).is_err(), "cut at {cut}");
            assert!(!verify(&recipe[..cut], &mut get, &memo), "cut at {cut}");
        }
        for at in MAGIC.len()..recipe.len() {
            let mut bad = recipe.clone();
            bad[at] ^= 0xff;
            let _ = unpack(&bad, &mut get);
            let _ = verify(&bad, &mut get, &memo);
        }
        let mut none = |_: i64| Ok(None);
        assert!(matches!(unpack(&recipe, &mut none), Err(Unpack::Damaged(p)) if p.contains("missing")));
        assert!(!verify(&recipe, &mut none, &memo));
    }

    #[test]
    fn what_the_maker_names_is_found_and_packs_as_decoding_every_run_would() {
        let of = |v: &[u8]| Carried::of(v);
        let p = pdf(20_000, 7);
        let memo = [b"<memo:Message>".as_slice(), &xml_with(&p), b"</memo:Message>"].concat();
        assert_eq!(pack(&memo, Some(&[of(&p)])), pack(&memo, None));
        let kombi = [b"<k>".as_slice(), &xml_with(&p), b"<Print>", &xml_with(&p), b"</k>"].concat();
        let (_, parts) = round_trip_with(&kombi, Some(&[of(&p)]));
        assert_eq!(parts, vec![p.clone()]);
        assert_eq!(pack(&kombi, Some(&[of(&p)])), pack(&kombi, None));
        // An envelope's document is looked into for the PDF it attaches.
        let bundle = [b"<Bundle><data value=\"".as_slice(), STANDARD.encode(&p).as_bytes(), b"\"/></Bundle>"].concat();
        let envelope = [b"<E><Data>".as_slice(), STANDARD.encode(&bundle).as_bytes(), b"</Data></E>"].concat();
        let (_, parts) = round_trip_with(&envelope, Some(&[of(&bundle), of(&p)]));
        assert_eq!(parts, vec![p.clone()]);
        assert_eq!(pack(&envelope, Some(&[of(&bundle), of(&p)])), pack(&envelope, None));
        // Only what is named is looked for: the document alone holds no PDF it knows of.
        assert!(pack(&envelope, Some(&[of(&bundle)])).is_none());
        assert!(pack(&envelope, Some(&[])).is_none());
        assert!(pack(&memo, Some(&[of(&pdf(20_000, 8))])).is_none());
        // Named with another length: not that run.
        assert!(pack(&memo, Some(&[Carried { len: p.len() + 3, head: p[..48].to_vec() }])).is_none());
        assert!(pack(&memo, Some(&[Carried { len: p.len() - 3, head: p[..48].to_vec() }])).is_none());
    }

    #[test]
    fn the_part_is_what_the_message_holds_not_what_was_named() {
        let p = pdf(20_000, 9);
        let mut other = p.clone();
        *other.last_mut().unwrap() ^= 1;
        let memo = [b"<a>".as_slice(), &xml_with(&other), b"</a>"].concat();
        // Named alike (its length and first bytes): the run decoded is the part.
        let (_, parts) = round_trip_with(&memo, Some(&[Carried::of(&p)]));
        assert_eq!(parts, vec![other]);
    }

    #[test]
    fn verify_says_no_to_any_other_bytes() {
        let p = pdf(10_000, 10);
        let memo = [b"<a>".as_slice(), &xml_with(&p), b"</a>"].concat();
        let (recipe, parts) = round_trip(&memo);
        for at in (0..memo.len()).step_by(97).chain([memo.len() - 1]) {
            let mut other = memo.clone();
            other[at] ^= 0x20;
            assert!(!verify(&recipe, &mut reader(&parts), &other), "changed at {at}");
        }
        assert!(!verify(&recipe, &mut reader(&parts), &memo[..memo.len() - 1]));
        assert!(!verify(&recipe, &mut reader(&parts), &[memo.as_slice(), b" "].concat()));
    }
}
