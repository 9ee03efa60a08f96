//! A font as one PDF embeds it: the subset of glyphs the letter uses, and the text encoded
//! as the subset's glyph ids.

use super::fonts::Face;
use pdf_writer::Name;

/// The glyphs one font contributes to a PDF: original glyph id -> new (subset) id.
pub(super) struct Embedding {
    pub(super) face: &'static Face,
    pub(super) resource: Name<'static>,
    pub(super) remapper: subsetter::GlyphRemapper,
    /// New glyph id -> (character, width), for the widths array and the ToUnicode map.
    pub(super) used: Vec<(u16, char, f32)>,
    /// Original glyph id -> new id, `UNSEEN` until the text first uses it: the remapper's own
    /// map is a hash table, and `used` a list, and asking both for every character of a
    /// letter (~2,000) was 4% of making a batch result.
    new_ids: Vec<u16>,
}

const UNSEEN: u16 = u16::MAX;

impl Embedding {
    pub(super) fn new(face: &'static Face, resource: Name<'static>) -> Embedding {
        Embedding { face, resource, remapper: subsetter::GlyphRemapper::new(), used: vec![], new_ids: vec![] }
    }

    /// The text as big-endian 2-byte glyph ids of the subset (Identity-H).
    pub(super) fn encode(&mut self, text: &str) -> Vec<u8> {
        let mut out = Vec::with_capacity(text.len() * 2);
        for c in text.chars() {
            let Some((gid, width)) = self.face.glyph(c) else { continue };
            let at = gid as usize;
            if at >= self.new_ids.len() {
                self.new_ids.resize(at + 1, UNSEEN);
            }
            if self.new_ids[at] == UNSEEN {
                let new = self.remapper.remap(gid);
                self.new_ids[at] = new;
                self.used.push((new, c, width));
            }
            out.extend_from_slice(&self.new_ids[at].to_be_bytes());
        }
        out
    }

    /// A subset tag (six capitals) that names this glyph set, as PDF asks for subsets.
    pub(super) fn tag(&self) -> String {
        let mut h: u32 = 2166136261;
        for (g, _, _) in &self.used {
            h = (h ^ *g as u32).wrapping_mul(16777619);
        }
        (0..6).map(|i| (b'A' + ((h >> (i * 5)) % 26) as u8) as char).collect()
    }
}
