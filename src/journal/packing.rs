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

use base64::engine::general_purpose::STANDARD;
use base64::Engine;

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
/// worth storing apart.
pub(super) fn pack(bytes: &[u8]) -> Option<(Vec<Piece>, Vec<Vec<u8>>)> {
    let mut parts = vec![];
    let pieces = pieces(bytes, 0, &mut parts);
    (!parts.is_empty()).then_some((pieces, parts))
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

/// The message a recipe makes, with `part(id)` giving a part's bytes; `Err` says what is
/// wrong with a damaged one.
pub(super) fn unpack(
    stored: &[u8],
    part: &mut dyn FnMut(i64) -> Result<Option<Vec<u8>>, crate::error::Error>,
) -> Result<Vec<u8>, Unpack> {
    let len = packed_len(stored).ok_or(Unpack::Damaged("its recipe has no header (the journal is damaged)"))?;
    if len > MAX_LEN {
        return Err(Unpack::Damaged("its recipe names an impossible length (the journal is damaged)"));
    }
    // What the header claims is reserved only up to a size letters have: a damaged header
    // costs no more memory than the bytes it makes.
    let mut out = Vec::with_capacity(len.min(RESERVE) as usize);
    unpack_into(&stored[MAGIC.len() + 8..], 0, part, &mut out)?;
    if out.len() as u64 != len {
        return Err(Unpack::Damaged("its recipe makes bytes of another length (the journal is damaged)"));
    }
    Ok(out)
}

const SHORT: Unpack = Unpack::Damaged("its recipe is cut short (the journal is damaged)");

/// Why a recipe made no message.
#[derive(Debug)]
pub(super) enum Unpack {
    Damaged(&'static str),
    /// Reading a part failed (not damage: the journal could not be read).
    Read(crate::error::Error),
}

fn unpack_into(
    mut r: &[u8],
    depth: usize,
    part: &mut dyn FnMut(i64) -> Result<Option<Vec<u8>>, crate::error::Error>,
    out: &mut Vec<u8>,
) -> Result<(), Unpack> {
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
                    out.extend_from_slice(body);
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
            return Err(Unpack::Damaged("its recipe names an impossible length (the journal is damaged)"));
        }
    }
    Ok(())
}

/// Appends the canonical base64 of `bytes` to `out`.
fn push_base64(out: &mut Vec<u8>, bytes: &[u8]) -> Result<(), Unpack> {
    let start = out.len();
    let len = base64::encoded_len(bytes.len(), true)
        .ok_or(Unpack::Damaged("its recipe names an impossible length (the journal is damaged)"))?;
    out.resize(start + len, 0);
    let n = STANDARD
        .encode_slice(bytes, &mut out[start..])
        .map_err(|_| Unpack::Damaged("its recipe names an impossible length (the journal is damaged)"))?;
    out.truncate(start + n);
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

    /// Packs `bytes`, stores the parts under ids 100.., and unpacks: the same bytes.
    fn round_trip(bytes: &[u8]) -> (Vec<u8>, Vec<Vec<u8>>) {
        let (pieces, parts) = pack(bytes).expect("packs");
        let ids: Vec<i64> = (0..parts.len() as i64).map(|n| 100 + n).collect();
        let recipe = encode(&pieces, &ids, bytes.len());
        let mut get = |id: i64| Ok(parts.get((id - 100) as usize).cloned());
        assert_eq!(unpack(&recipe, &mut get).unwrap(), bytes);
        assert_eq!(packed_len(&recipe), Some(bytes.len() as u64));
        (recipe, parts)
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
        assert!(pack(&xml_with(&vec![7u8; 9_000])).is_none());
        assert!(pack(&xml_with(&pdf(100, 5))).is_none());
        let text = STANDARD.encode(pdf(9_000, 4));
        let wrapped: Vec<u8> = text.as_bytes().chunks(76).flat_map(|l| [l, b"\n"].concat()).collect();
        assert!(pack(&wrapped).is_none());
        // 9,010 bytes end in one byte and `==`: the character before holds 4 bits the padding
        // drops. With them set it still names the same bytes, but encoding those gives the
        // other character: such a run must stay as it is, or the message would not come back.
        let text = STANDARD.encode(pdf(9_001, 4));
        assert!(text.ends_with("=="), "{}", &text[text.len() - 4..]);
        let mut loose = text.into_bytes();
        let at = loose.len() - 3;
        let value = STANDARD_ALPHABET.iter().position(|&c| c == loose[at]).unwrap();
        loose[at] = STANDARD_ALPHABET[value | 0b1111];
        assert!(pack(&[b"<a>".as_slice(), &loose, b"</a>"].concat()).is_none());
    }

    #[test]
    fn a_damaged_recipe_is_named_never_a_panic() {
        let p = pdf(10_000, 6);
        let memo = [b"<a>".as_slice(), &xml_with(&p), b"</a>"].concat();
        let (recipe, parts) = round_trip(&memo);
        let mut get = |id: i64| Ok(parts.get((id - 100) as usize).cloned());
        for cut in 0..recipe.len() {
            assert!(unpack(&recipe[..cut], &mut get).is_err(), "cut at {cut}");
        }
        for at in MAGIC.len()..recipe.len() {
            let mut bad = recipe.clone();
            bad[at] ^= 0xff;
            let _ = unpack(&bad, &mut get);
        }
        let mut none = |_: i64| Ok(None);
        assert!(matches!(unpack(&recipe, &mut none), Err(Unpack::Damaged(p)) if p.contains("missing")));
    }
}
