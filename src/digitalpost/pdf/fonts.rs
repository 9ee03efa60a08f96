//! The letter fonts: DejaVu Sans regular and bold, cut down to WinAnsi's characters
//! (`assets/fonts/make-subsets.sh`), compiled into the binary.
//!
//! Metrics and the compressed font program are worked out once per process and shared by
//! every PDF: embedding is then a copy, not a subsetting pass per letter.

use crate::charset::Charset;
use std::sync::OnceLock;

pub struct Face {
    /// PostScript name with a subset tag, as PDF asks for embedded subsets.
    pub base_font: &'static [u8],
    /// Advance widths of codes 32..=255 in 1/1000 em (0 for unused codes).
    pub widths: Vec<f32>,
    pub ascent: f32,
    pub descent: f32,
    pub cap_height: f32,
    pub bbox: [f32; 4],
    pub stem_v: f32,
    pub bold: bool,
    /// The TrueType program, zlib-compressed (by build.rs), and its uncompressed length.
    pub font_file: &'static [u8],
    pub font_file_len: usize,
}

const REGULAR_TTF: &[u8] = include_bytes!("../../../assets/fonts/DejaVuSans-WinAnsi.ttf");
const BOLD_TTF: &[u8] = include_bytes!("../../../assets/fonts/DejaVuSans-Bold-WinAnsi.ttf");
const REGULAR_Z: &[u8] = include_bytes!(concat!(env!("OUT_DIR"), "/DejaVuSans-WinAnsi.ttf.zlib"));
const BOLD_Z: &[u8] = include_bytes!(concat!(env!("OUT_DIR"), "/DejaVuSans-Bold-WinAnsi.ttf.zlib"));

pub fn regular() -> &'static Face {
    static F: OnceLock<Face> = OnceLock::new();
    F.get_or_init(|| Face::load(REGULAR_TTF, REGULAR_Z, b"FLSPST+DejaVuSans", false))
}

pub fn bold() -> &'static Face {
    static F: OnceLock<Face> = OnceLock::new();
    F.get_or_init(|| Face::load(BOLD_TTF, BOLD_Z, b"FLSPSB+DejaVuSans-Bold", true))
}

impl Face {
    fn load(data: &'static [u8], compressed: &'static [u8], base_font: &'static [u8], bold: bool) -> Face {
        let face = ttf_parser::Face::parse(data, 0).expect("bundled font parses");
        let scale = 1000.0 / face.units_per_em() as f32;
        let widths = (32u8..=255)
            .map(|b| {
                Charset::WinAnsi
                    .char(b)
                    .and_then(|c| face.glyph_index(c))
                    .and_then(|g| face.glyph_hor_advance(g))
                    .map_or(0.0, |a| a as f32 * scale)
            })
            .collect();
        let bb = face.global_bounding_box();
        Face {
            base_font,
            widths,
            ascent: face.ascender() as f32 * scale,
            descent: face.descender() as f32 * scale,
            cap_height: face.capital_height().unwrap_or(face.ascender()) as f32 * scale,
            bbox: [bb.x_min as f32 * scale, bb.y_min as f32 * scale, bb.x_max as f32 * scale, bb.y_max as f32 * scale],
            stem_v: if bold { 120.0 } else { 80.0 },
            bold,
            font_file: compressed,
            font_file_len: data.len(),
        }
    }

    /// Width of WinAnsi-encoded text at `size` points.
    pub fn width(&self, encoded: &[u8], size: f32) -> f32 {
        encoded.iter().map(|&b| if b >= 32 { self.widths[(b - 32) as usize] } else { 0.0 }).sum::<f32>() * size / 1000.0
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn fonts_cover_danish_letters() {
        for face in [regular(), bold()] {
            for c in "æøåÆØÅé“”–€".chars() {
                let b = Charset::WinAnsi.byte(c).unwrap();
                assert!(face.widths[(b - 32) as usize] > 0.0, "no glyph for {c}");
            }
        }
        assert!(regular().width(b"Hello", 10.0) > 20.0);
    }
}
