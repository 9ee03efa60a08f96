//! A one-or-more-page A4 letter as PDF, written with `pdf-writer`.
//!
//! The layout is a Danish window-envelope letter: sender's letterhead top right, a return
//! line and the recipient's address where the window of a C5/C65 envelope shows it (the
//! same PDF can go to physical print), place and date, a bold subject, the body, and page
//! numbers. Text is set in embedded DejaVu Sans with WinAnsiEncoding, so `pdftotext`
//! extracts it exactly.

mod fonts;

use crate::charset::Charset::WinAnsi;
use crate::input::InputError;
use crate::Warning;
use chrono::{DateTime, Datelike, Timelike, Utc};
use pdf_writer::{Content, Filter, Finish, Name, Pdf, Rect, Ref, Str, TextStr};

const MM: f32 = 72.0 / 25.4;
const PAGE_W: f32 = 210.0 * MM;
const PAGE_H: f32 = 297.0 * MM;
const LEFT: f32 = 25.0 * MM;
const RIGHT: f32 = PAGE_W - 20.0 * MM;
const BOTTOM: f32 = 25.0 * MM;
const BODY_SIZE: f32 = 11.0;
const LEADING: f32 = 15.0;

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

/// One positioned run of encoded text.
struct Run {
    page: usize,
    x: f32,
    y: f32,
    size: f32,
    weight: Weight,
    bytes: Vec<u8>,
}

struct Layout {
    runs: Vec<Run>,
    warnings: Vec<Warning>,
    page: usize,
    y: f32,
}

impl Layout {
    fn encode(&mut self, line: &Line) -> Result<Vec<u8>, InputError> {
        let fitted = WinAnsi.fit(&line.field, &line.text, &mut self.warnings)?;
        Ok(WinAnsi.encode(&fitted))
    }

    fn put(&mut self, x: f32, y: f32, size: f32, weight: Weight, bytes: Vec<u8>) {
        self.runs.push(Run { page: self.page, x, y, size, weight, bytes });
    }

    /// Sets `line` at the cursor, wrapped to the body width, moving down (and to a new
    /// page when the bottom margin is reached).
    fn flow(&mut self, line: &Line, size: f32, weight: Weight) -> Result<(), InputError> {
        let bytes = self.encode(line)?;
        let face = if weight == Weight::Bold { fonts::bold() } else { fonts::regular() };
        for piece in wrap(&bytes, |s| face.width(s, size), RIGHT - LEFT) {
            if self.y < BOTTOM {
                self.page += 1;
                self.y = PAGE_H - 25.0 * MM;
            }
            self.put(LEFT, self.y, size, weight, piece.to_vec());
            self.y -= LEADING * size / BODY_SIZE;
        }
        Ok(())
    }
}

/// Splits encoded text at spaces so each piece fits `max` (a single over-long word is cut).
fn wrap<'a>(text: &'a [u8], width: impl Fn(&[u8]) -> f32, max: f32) -> Vec<&'a [u8]> {
    let mut out = vec![];
    let mut start = 0;
    while start < text.len() {
        let rest = &text[start..];
        if width(rest) <= max {
            out.push(rest);
            break;
        }
        let mut end = 0;
        for (i, &b) in rest.iter().enumerate() {
            if b == b' ' {
                if width(&rest[..i]) > max {
                    break;
                }
                end = i;
            }
        }
        if end == 0 {
            // No space fits: cut the word where it overflows.
            end = (1..=rest.len()).take_while(|&n| width(&rest[..n]) <= max).last().unwrap_or(1);
            out.push(&rest[..end]);
            start += end;
        } else {
            out.push(&rest[..end]);
            start += end + 1;
        }
    }
    out
}

pub fn render(letter: &Letter) -> Result<Rendered, InputError> {
    let mut l = Layout { runs: vec![], warnings: vec![], page: 0, y: 0.0 };

    // Letterhead, top right.
    let mut y = PAGE_H - 20.0 * MM;
    for (i, line) in letter.letterhead.iter().enumerate() {
        let (size, weight) = if i == 0 { (10.5, Weight::Bold) } else { (9.0, Weight::Regular) };
        let bytes = l.encode(line)?;
        l.put(125.0 * MM, y, size, weight, bytes);
        y -= 12.0;
    }

    // Address window: 20 mm from the left, 45 mm from the top of the sheet.
    let mut y = PAGE_H - 52.0 * MM;
    if let Some(ret) = &letter.return_address {
        let bytes = l.encode(ret)?;
        l.put(LEFT, y, 7.0, Weight::Regular, bytes);
        y -= 14.0;
    }
    for line in &letter.recipient {
        let bytes = l.encode(line)?;
        l.put(LEFT, y, BODY_SIZE, Weight::Regular, bytes);
        y -= LEADING;
    }

    // Place and date, right-aligned below the window.
    let bytes = l.encode(&letter.place_and_date)?;
    let w = fonts::regular().width(&bytes, BODY_SIZE);
    l.put(RIGHT - w, PAGE_H - 100.0 * MM, BODY_SIZE, Weight::Regular, bytes);

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

fn write_pdf(letter: &Letter, runs: &[Run], pages: usize) -> Vec<u8> {
    let mut pdf = Pdf::new();
    let mut next = 1;
    let mut alloc = || {
        next += 1;
        Ref::new(next - 1)
    };
    let (catalog, tree, info) = (alloc(), alloc(), alloc());
    let fonts = [(Name(b"F1"), fonts::regular(), alloc(), alloc(), alloc()), (Name(b"F2"), fonts::bold(), alloc(), alloc(), alloc())];
    let page_ids: Vec<(Ref, Ref)> = (0..pages).map(|_| (alloc(), alloc())).collect();

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

    for (_, face, font_id, descriptor_id, file_id) in &fonts {
        let mut font = pdf.indirect(*font_id).dict();
        font.pair(Name(b"Type"), Name(b"Font"));
        font.pair(Name(b"Subtype"), Name(b"TrueType"));
        font.pair(Name(b"BaseFont"), Name(face.base_font));
        font.pair(Name(b"FirstChar"), 32);
        font.pair(Name(b"LastChar"), 255);
        font.insert(Name(b"Widths")).array().items(face.widths.iter().copied());
        font.pair(Name(b"FontDescriptor"), *descriptor_id);
        font.pair(Name(b"Encoding"), Name(b"WinAnsiEncoding"));
        font.finish();
        let mut flags = pdf_writer::types::FontFlags::NON_SYMBOLIC;
        if face.bold {
            flags |= pdf_writer::types::FontFlags::FORCE_BOLD;
        }
        pdf.font_descriptor(*descriptor_id)
            .name(Name(face.base_font))
            .flags(flags)
            .bbox(Rect::new(face.bbox[0], face.bbox[1], face.bbox[2], face.bbox[3]))
            .italic_angle(0.0)
            .ascent(face.ascent)
            .descent(face.descent)
            .cap_height(face.cap_height)
            .stem_v(face.stem_v)
            .font_file2(*file_id);
        pdf.stream(*file_id, face.font_file)
            .filter(Filter::FlateDecode)
            .pair(Name(b"Length1"), face.font_file_len as i32);
    }

    for (n, (page_id, content_id)) in page_ids.iter().enumerate() {
        let mut content = Content::new();
        content.begin_text();
        for run in runs.iter().filter(|r| r.page == n) {
            let name = if run.weight == Weight::Bold { Name(b"F2") } else { Name(b"F1") };
            content.set_font(name, run.size);
            content.set_text_matrix([1.0, 0.0, 0.0, 1.0, run.x, run.y]);
            content.show(Str(&run.bytes));
        }
        let footer = format!("Side {} af {}", n + 1, pages);
        let w = fonts::regular().width(footer.as_bytes(), 8.0);
        content.set_font(Name(b"F1"), 8.0);
        content.set_text_matrix([1.0, 0.0, 0.0, 1.0, RIGHT - w, 12.0 * MM]);
        content.show(Str(footer.as_bytes()));
        content.end_text();
        // A thin rule under the letterhead.
        content.set_line_width(0.5);
        if n == 0 {
            content.move_to(125.0 * MM, PAGE_H - 45.0 * MM).line_to(RIGHT, PAGE_H - 45.0 * MM).stroke();
        }
        let raw = content.finish();
        let compressed = miniz_oxide::deflate::compress_to_vec_zlib(&raw, 6);
        pdf.stream(*content_id, &compressed).filter(Filter::FlateDecode);

        let mut page = pdf.page(*page_id);
        page.media_box(Rect::new(0.0, 0.0, PAGE_W, PAGE_H)).parent(tree).contents(*content_id);
        let mut resources = page.resources();
        let mut font_dict = resources.fonts();
        for (name, _, font_id, _, _) in &fonts {
            font_dict.pair(*name, *font_id);
        }
    }
    pdf.finish()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn wrap_breaks_at_spaces_and_cuts_overlong_words() {
        let w = |s: &[u8]| s.len() as f32;
        assert_eq!(wrap(b"aaa bbb ccc", w, 7.0), vec![&b"aaa bbb"[..], b"ccc"]);
        assert_eq!(wrap(b"abcdefghij", w, 4.0), vec![&b"abcd"[..], b"efgh", b"ij"]);
        assert_eq!(wrap(b"", w, 4.0), Vec::<&[u8]>::new());
    }
}
