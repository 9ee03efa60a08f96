//! A one-or-more-page A4 letter as PDF, written with `pdf-writer`.
//!
//! The layout is a Danish window-envelope letter: sender's letterhead top right, a return
//! line and the recipient's address where the window of a C5/C65 envelope shows it (the
//! same PDF can go to physical print), place and date, a bold subject, the body, and page
//! numbers. Text is set in DejaVu Sans, embedded as CID fonts subset to the glyphs the
//! letter uses, with ToUnicode maps so `pdftotext` extracts it exactly.

mod fonts;

use crate::charset::{self, Repertoire};
use crate::input::InputError;
use crate::Warning;
use chrono::{DateTime, Datelike, Timelike, Utc};
use fonts::Face;
use pdf_writer::types::{CidFontType, FontFlags, SystemInfo, UnicodeCmap};
use pdf_writer::{Content, Filter, Finish, Name, Pdf, Rect, Ref, Str, TextStr};

const MM: f32 = 72.0 / 25.4;
const PAGE_W: f32 = 210.0 * MM;
const PAGE_H: f32 = 297.0 * MM;
const LEFT: f32 = 25.0 * MM;
const RIGHT: f32 = PAGE_W - 20.0 * MM;
const BOTTOM: f32 = 25.0 * MM;
const BODY_SIZE: f32 = 11.0;
const LEADING: f32 = 15.0;
/// The most pages a letter may have: what fits a C5 envelope, and a bound on the work a
/// template of many short lines can cause.
pub const MAX_PAGES: usize = 10;

/// A line of text with the input field it came from (for error messages).
#[derive(Clone, Debug)]
pub struct Line {
    pub field: String,
    pub text: String,
}

impl Line {
    pub fn new(field: impl Into<String>, text: impl Into<String>) -> Line {
        Line { field: field.into(), text: text.into() }
    }
}

/// What goes on the page.
pub struct Letter {
    pub title: String,
    pub letterhead: Vec<Line>,
    pub return_address: Option<Line>,
    pub recipient: Vec<Line>,
    pub place_and_date: Line,
    pub subject: Line,
    /// Paragraphs of lines; long lines are wrapped.
    pub body: Vec<Vec<Line>>,
    pub created: DateTime<Utc>,
}

pub struct Rendered {
    pub bytes: Vec<u8>,
    pub warnings: Vec<Warning>,
}

#[derive(Clone, Copy, PartialEq)]
enum Weight {
    Regular,
    Bold,
}

/// One positioned run of text.
struct Run {
    page: usize,
    x: f32,
    y: f32,
    size: f32,
    weight: Weight,
    text: String,
}

impl Weight {
    fn face(self) -> &'static Face {
        match self {
            Weight::Regular => fonts::regular(),
            Weight::Bold => fonts::bold(),
        }
    }
}

impl Repertoire for Face {
    fn name(&self) -> &str {
        "the letter font"
    }
    fn contains(&self, c: char) -> bool {
        self.has(c)
    }
}

struct Layout {
    runs: Vec<Run>,
    warnings: Vec<Warning>,
    page: usize,
    y: f32,
}

impl Layout {
    /// The line's text with every character the font lacks transliterated (or an error).
    fn fit(&mut self, line: &Line, weight: Weight) -> Result<String, InputError> {
        Ok(charset::fit(weight.face(), &line.field, &line.text, &mut self.warnings)?.into_owned())
    }

    fn put(&mut self, x: f32, y: f32, size: f32, weight: Weight, text: String) {
        self.runs.push(Run { page: self.page, x, y, size, weight, text });
    }

    /// Sets `line` at the cursor, wrapped to the body width, moving down (and to a new
    /// page when the bottom margin is reached).
    fn flow(&mut self, line: &Line, size: f32, weight: Weight) -> Result<(), InputError> {
        let text = self.fit(line, weight)?;
        let face = weight.face();
        for piece in wrap(&text, |c| face.advance(c, size), RIGHT - LEFT) {
            if self.y < BOTTOM {
                if self.page + 1 == MAX_PAGES {
                    return Err(InputError::new(
                        &line.field,
                        format!("the letter needs more than {MAX_PAGES} pages, the limit for a patient letter"),
                    ));
                }
                self.page += 1;
                self.y = PAGE_H - 25.0 * MM;
            }
            self.put(LEFT, self.y, size, weight, piece.to_string());
            self.y -= LEADING * size / BODY_SIZE;
        }
        Ok(())
    }
}

/// Splits text at spaces so each piece fits `max` (a single over-long word is cut).
/// One pass over the characters: `advance` gives each one's width.
fn wrap(text: &str, advance: impl Fn(char) -> f32, max: f32) -> Vec<&str> {
    let mut out = vec![];
    let (mut start, mut width) = (0, 0.0); // the current line: text[start..i] and its width
    let mut space: Option<(usize, f32)> = None; // its last space and the width before it
    for (i, c) in text.char_indices() {
        let w = advance(c);
        if c == ' ' {
            space = Some((i, width));
        } else if width + w > max && i > start {
            match space.take() {
                Some((s, before)) => {
                    out.push(&text[start..s]);
                    width -= before + advance(' ');
                    start = s + 1;
                }
                None => {
                    out.push(&text[start..i]);
                    (start, width) = (i, 0.0);
                }
            }
            if width + w > max && i > start {
                // The word after the break is itself too long.
                out.push(&text[start..i]);
                (start, width) = (i, 0.0);
            }
        }
        width += w;
    }
    if start < text.len() {
        out.push(&text[start..]);
    }
    out
}

pub fn render(letter: &Letter) -> Result<Rendered, InputError> {
    let mut l = Layout { runs: vec![], warnings: vec![], page: 0, y: 0.0 };

    // Letterhead, top right.
    let mut y = PAGE_H - 20.0 * MM;
    for (i, line) in letter.letterhead.iter().enumerate() {
        let (size, weight) = if i == 0 { (10.5, Weight::Bold) } else { (9.0, Weight::Regular) };
        let text = l.fit(line, weight)?;
        l.put(125.0 * MM, y, size, weight, text);
        y -= 12.0;
    }

    // Address window: 20 mm from the left, 45 mm from the top of the sheet.
    let mut y = PAGE_H - 52.0 * MM;
    if let Some(ret) = &letter.return_address {
        let text = l.fit(ret, Weight::Regular)?;
        l.put(LEFT, y, 7.0, Weight::Regular, text);
        y -= 14.0;
    }
    for line in &letter.recipient {
        let text = l.fit(line, Weight::Regular)?;
        l.put(LEFT, y, BODY_SIZE, Weight::Regular, text);
        y -= LEADING;
    }

    // Place and date, right-aligned below the window.
    let text = l.fit(&letter.place_and_date, Weight::Regular)?;
    let w = fonts::regular().width(&text, BODY_SIZE);
    l.put(RIGHT - w, PAGE_H - 100.0 * MM, BODY_SIZE, Weight::Regular, text);

    l.y = PAGE_H - 115.0 * MM;
    l.flow(&letter.subject, 14.0, Weight::Bold)?;
    l.y -= 8.0;
    for para in &letter.body {
        for line in para {
            l.flow(line, BODY_SIZE, Weight::Regular)?;
        }
        l.y -= LEADING * 0.6;
    }
    let pages = l.page + 1;
    Ok(Rendered { bytes: write_pdf(letter, &l.runs, pages), warnings: l.warnings })
}

/// The glyphs one font contributes to a PDF: original glyph id -> new (subset) id.
struct Embedding {
    face: &'static Face,
    resource: Name<'static>,
    remapper: subsetter::GlyphRemapper,
    /// New glyph id -> (character, width), for the widths array and the ToUnicode map.
    used: Vec<(u16, char, f32)>,
}

impl Embedding {
    fn new(face: &'static Face, resource: Name<'static>) -> Embedding {
        Embedding { face, resource, remapper: subsetter::GlyphRemapper::new(), used: vec![] }
    }

    /// The text as big-endian 2-byte glyph ids of the subset (Identity-H).
    fn encode(&mut self, text: &str) -> Vec<u8> {
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
    fn tag(&self) -> String {
        let mut h: u32 = 2166136261;
        for (g, _, _) in &self.used {
            h = (h ^ *g as u32).wrapping_mul(16777619);
        }
        (0..6).map(|i| (b'A' + ((h >> (i * 5)) % 26) as u8) as char).collect()
    }
}

fn write_pdf(letter: &Letter, runs: &[Run], pages: usize) -> Vec<u8> {
    let mut pdf = Pdf::new();
    let mut next = 1;
    let mut alloc = || {
        next += 1;
        Ref::new(next - 1)
    };
    let (catalog, tree, info) = (alloc(), alloc(), alloc());
    let page_ids: Vec<(Ref, Ref)> = (0..pages).map(|_| (alloc(), alloc())).collect();
    let mut fonts = [Embedding::new(fonts::regular(), Name(b"F1")), Embedding::new(fonts::bold(), Name(b"F2"))];

    pdf.catalog(catalog).pages(tree).lang(TextStr("da"));
    pdf.pages(tree).kids(page_ids.iter().map(|(p, _)| *p)).count(pages as i32);
    let c = letter.created;
    pdf.document_info(info)
        .title(TextStr(&letter.title))
        .producer(TextStr(concat!("flspost ", env!("CARGO_PKG_VERSION"))))
        .creation_date(
            pdf_writer::Date::new(c.year() as u16)
                .month(c.month() as u8)
                .day(c.day() as u8)
                .hour(c.hour() as u8)
                .minute(c.minute() as u8)
                .second(c.second() as u8)
                .utc_offset_hour(0)
                .utc_offset_minute(0),
        );

    let font_refs: Vec<Ref> = fonts.iter().map(|_| alloc()).collect();
    for (n, (page_id, content_id)) in page_ids.iter().enumerate() {
        let mut content = Content::new();
        content.begin_text();
        for run in runs.iter().filter(|r| r.page == n) {
            let f = &mut fonts[usize::from(run.weight == Weight::Bold)];
            content.set_font(f.resource, run.size);
            content.set_text_matrix([1.0, 0.0, 0.0, 1.0, run.x, run.y]);
            let glyphs = f.encode(&run.text);
            content.show(Str(&glyphs));
        }
        let footer = format!("Side {} af {}", n + 1, pages);
        let w = fonts::regular().width(&footer, 8.0);
        content.set_font(fonts[0].resource, 8.0);
        content.set_text_matrix([1.0, 0.0, 0.0, 1.0, RIGHT - w, 12.0 * MM]);
        let glyphs = fonts[0].encode(&footer);
        content.show(Str(&glyphs));
        content.end_text();
        if n == 0 {
            // A thin rule under the letterhead.
            content.set_line_width(0.5);
            content.move_to(125.0 * MM, PAGE_H - 45.0 * MM).line_to(RIGHT, PAGE_H - 45.0 * MM).stroke();
        }
        let raw = content.finish();
        // Text operators compress ~7:1, so this one is worth deflating.
        let compressed = miniz_oxide::deflate::compress_to_vec_zlib(&raw, 1);
        pdf.stream(*content_id, &compressed).filter(Filter::FlateDecode);

        let mut page = pdf.page(*page_id);
        page.media_box(Rect::new(0.0, 0.0, PAGE_W, PAGE_H)).parent(tree).contents(*content_id);
        let mut resources = page.resources();
        let mut font_dict = resources.fonts();
        for (f, id) in fonts.iter().zip(&font_refs) {
            font_dict.pair(f.resource, *id);
        }
    }

    for (f, type0_id) in fonts.iter_mut().zip(font_refs) {
        let (cid_id, descriptor_id, file_id, cmap_id) = (alloc(), alloc(), alloc(), alloc());
        let base = format!("{}+{}", f.tag(), f.face.name);
        let system_info = SystemInfo { registry: Str(b"Adobe"), ordering: Str(b"Identity"), supplement: 0 };
        pdf.type0_font(type0_id)
            .base_font(Name(base.as_bytes()))
            .encoding_predefined(Name(b"Identity-H"))
            .descendant_font(cid_id)
            .to_unicode(cmap_id);
        let mut cid = pdf.cid_font(cid_id);
        cid.subtype(CidFontType::Type2)
            .base_font(Name(base.as_bytes()))
            .system_info(system_info)
            .font_descriptor(descriptor_id)
            .cid_to_gid_map_predefined(Name(b"Identity"));
        f.used.sort_by_key(|u| u.0);
        let mut widths = cid.widths();
        for (gid, _, w) in &f.used {
            widths.consecutive(*gid, [*w]);
        }
        widths.finish();
        cid.finish();

        let mut flags = FontFlags::NON_SYMBOLIC;
        if f.face.bold {
            flags |= FontFlags::FORCE_BOLD;
        }
        let bb = f.face.bbox;
        pdf.font_descriptor(descriptor_id)
            .name(Name(base.as_bytes()))
            .flags(flags)
            .bbox(Rect::new(bb[0], bb[1], bb[2], bb[3]))
            .italic_angle(0.0)
            .ascent(f.face.ascent)
            .descent(f.face.descent)
            .cap_height(f.face.cap_height)
            .stem_v(f.face.stem_v)
            .font_file2(file_id);
        // A letter's subset is ~4 KB and deflate would save ~1 KB of it at ~40 µs: not worth it.
        let subset = subsetter::subset(f.face.data, 0, &f.remapper).expect("the bundled font subsets");
        pdf.stream(file_id, &subset).pair(Name(b"Length1"), subset.len() as i32);

        let mut cmap = UnicodeCmap::new(Name(b"Custom"), system_info);
        for (gid, c, _) in &f.used {
            cmap.pair(*gid, *c);
        }
        pdf.cmap(cmap_id, &cmap.finish());
    }
    pdf.finish()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn wrap_breaks_at_spaces_and_cuts_overlong_words() {
        let w = |_: char| 1.0;
        assert_eq!(wrap("aaa bbb ccc", w, 7.0), vec!["aaa bbb", "ccc"]);
        assert_eq!(wrap("aaa bbb ccc ddd", w, 8.0), vec!["aaa bbb", "ccc ddd"]);
        assert_eq!(wrap("abcdefghij", w, 4.0), vec!["abcd", "efgh", "ij"]);
        assert_eq!(wrap("æøåæøå", w, 4.0), vec!["æøåæ", "øå"]);
        assert_eq!(wrap("ab", w, 4.0), vec!["ab"]);
        assert!(wrap("", w, 4.0).is_empty());
        // Every character is kept (but the spaces where lines break).
        let text = "Du skal have en ny knogleskanning om 5 år, det vil sige i 2030. Inden da skal du bestille tid.";
        let letters = |s: &str| s.replace(' ', "");
        for max in [5.0, 9.0, 14.0, 30.0] {
            let lines = wrap(text, w, max);
            assert!(lines.iter().all(|l| l.chars().count() as f32 <= max), "{lines:?}");
            assert!(lines.iter().all(|l| !l.starts_with(' ')), "{lines:?}");
            assert_eq!(letters(&lines.concat()), letters(text), "max {max}");
            if max >= 14.0 {
                // No word is longer than the line: only spaces break it.
                assert_eq!(lines.join(" "), text, "max {max}");
            }
        }
    }
}
