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
}

impl Embedding {
    pub(super) fn new(face: &'static Face, resource: Name<'static>) -> Embedding {
        Embedding { face, resource, remapper: subsetter::GlyphRemapper::new(), used: vec![] }
    }

    /// The text as big-endian 2-byte glyph ids of the subset (Identity-H).
    pub(super) fn encode(&mut self, text: &str) -> Vec<u8> {
        let mut out = Vec::with_capacity(text.len() * 2);
        for c in text.chars() {
            let Some((gid, width)) = self.face.glyph(c) else { continue };
            let new = self.remapper.remap(gid);
            if !self.used.iter().any(|u| u.0 == new) {
                self.used.push((new, c, width));
            }
            out.extend_from_slice(&new.to_be_bytes());
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
