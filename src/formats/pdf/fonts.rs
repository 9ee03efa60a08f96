//! The letter fonts: DejaVu Sans regular and bold, cut down to Latin scripts
//! (`assets/fonts/make-subsets.sh`) and compiled into the binary.
//!
//! Each PDF embeds only the glyphs its letter uses (subset with `subsetter`), as CID fonts
//! with a ToUnicode map, so any character the font covers can be printed and extracted.
//! The glyph table is read once per process.

use std::sync::OnceLock;

/// Characters below this are looked up in a flat table (every glyph the fonts have is).
const TABLE: usize = 0x2100;

pub(crate) struct Face {
    /// PostScript name (a subset tag is added per PDF).
    pub name: &'static str,
    pub data: &'static [u8],
    /// Glyph id and advance width (1/1000 em) by code point, for every character the
    /// font maps (a flat table: lookups are on the hot path of every letter).
    glyphs: Vec<Option<(u16, f32)>>,
    pub ascent: f32,
    pub descent: f32,
    pub cap_height: f32,
    pub bbox: [f32; 4],
    pub stem_v: f32,
    pub bold: bool,
}

const REGULAR_TTF: &[u8] = include_bytes!("../../../assets/fonts/DejaVuSans-Latin.ttf");
const BOLD_TTF: &[u8] = include_bytes!("../../../assets/fonts/DejaVuSans-Bold-Latin.ttf");

pub fn regular() -> &'static Face {
    static F: OnceLock<Face> = OnceLock::new();
    F.get_or_init(|| Face::load(REGULAR_TTF, "DejaVuSans", false))
}

pub(crate) fn bold() -> &'static Face {
    static F: OnceLock<Face> = OnceLock::new();
    F.get_or_init(|| Face::load(BOLD_TTF, "DejaVuSans-Bold", true))
}

impl Face {
    fn load(data: &'static [u8], name: &'static str, bold: bool) -> Face {
        let face = ttf_parser::Face::parse(data, 0).expect("bundled font parses");
        let scale = 1000.0 / face.units_per_em() as f32;
        let mut glyphs = vec![None; TABLE];
        if let Some(cmap) = face.tables().cmap {
            for sub in cmap.subtables.into_iter().filter(|s| s.is_unicode()) {
                sub.codepoints(|cp| {
                    if let (true, Some(g)) = ((cp as usize) < TABLE, sub.glyph_index(cp)) {
                        let adv = face.glyph_hor_advance(g).unwrap_or(0) as f32 * scale;
                        glyphs[cp as usize].get_or_insert((g.0, adv));
                    }
                });
            }
        }
        let bb = face.global_bounding_box();
        Face {
            name,
            data,
            glyphs,
            ascent: face.ascender() as f32 * scale,
            descent: face.descender() as f32 * scale,
            cap_height: face.capital_height().unwrap_or(face.ascender()) as f32 * scale,
            bbox: [bb.x_min as f32 * scale, bb.y_min as f32 * scale, bb.x_max as f32 * scale, bb.y_max as f32 * scale],
            stem_v: if bold { 120.0 } else { 80.0 },
            bold,
        }
    }

    /// Glyph id and advance (1/1000 em) for `c`.
    pub(crate) fn glyph(&self, c: char) -> Option<(u16, f32)> {
        self.glyphs.get(c as usize).copied().flatten()
    }

    pub fn has(&self, c: char) -> bool {
        self.glyph(c).is_some()
    }

    /// Advance of `c` at `size` points (0 for a character the font lacks).
    pub(crate) fn advance(&self, c: char, size: f32) -> f32 {
        self.glyph(c).map_or(0.0, |g| g.1) * size / 1000.0
    }

    /// Width of `text` at `size` points.
    pub(crate) fn width(&self, text: &str, size: f32) -> f32 {
        text.chars().map(|c| self.advance(c, size)).sum()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn fonts_cover_danish_and_other_latin_names() {
        for face in [regular(), bold()] {
            for c in "æøåÆØÅéüŁąčőŠ“”–€".chars() {
                assert!(face.has(c), "{} has no glyph for {c}", face.name);
            }
            assert!(!face.has('Ω') && !face.has('😀'));
        }
        assert!(regular().width("Hello", 10.0) > 20.0);
    }
}
