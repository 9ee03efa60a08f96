//! A one-or-more-page A4 letter as a tagged PDF, written with `pdf-writer`.
//!
//! The layout is a Danish window-envelope letter: sender's letterhead top right, a return
//! line and the recipient's address where the window of a C5/C65 envelope shows it (the
//! same PDF can go to physical print), place and date, a bold subject, the body, the
//! signature and page numbers. Text is set in DejaVu Sans, embedded as CID fonts subset to
//! the glyphs the letter uses, with ToUnicode maps so `pdftotext` extracts it exactly.
//!
//! The PDF is tagged for screen readers, aiming at PDF/UA-1 and PDF/A-2a: a structure tree
//! in reading order (Document; Letterhead, Address and Signature groups, role-mapped to
//! Div; P per line of an address and per paragraph; H1 for the subject), every glyph inside
//! marked content that belongs to one element, page numbers, the return line and the rule
//! marked as artifacts, `/Lang (da)`, `/MarkInfo`, `/DisplayDocTitle`, and XMP metadata
//! that names the title and both conformance claims.

mod fonts;
mod letter;

pub use letter::letter_pdf;

use crate::formats::charset::{self, Repertoire};
use crate::input::InputError;
use crate::model::Warning;
use chrono::{DateTime, Datelike, SecondsFormat, Timelike, Utc};
use fonts::Face;
use pdf_writer::types::{
    ArtifactSubtype, ArtifactType, CidFontType, FontFlags, StructRole, SystemInfo, TabOrder, UnicodeCmap,
};
use pdf_writer::{Content, Filter, Finish, Name, Pdf, Rect, Ref, Str, TextStr};

const MM: f32 = 72.0 / 25.4;
const PAGE_W: f32 = 210.0 * MM;
const PAGE_H: f32 = 297.0 * MM;
const LEFT: f32 = 25.0 * MM;
const RIGHT: f32 = PAGE_W - 20.0 * MM;
const BOTTOM: f32 = 25.0 * MM;
/// Where the letterhead starts (x) and how wide it may be.
const LETTERHEAD_X: f32 = 125.0 * MM;
/// The address field of a DIN 5008 form B letter, which the window of a C5/C65 (and a
/// C4) window envelope shows: 20-105 mm from the left edge, 45-90 mm from the top. The
/// text keeps 5 mm from the window's edges (25-100 mm) so a letter that shifts in its
/// envelope still shows the whole address.
pub const WINDOW_MM: [f32; 4] = [20.0, 45.0, 105.0, 90.0];
const ADDRESS_RIGHT: f32 = 100.0 * MM;
/// The smallest type a line is shrunk to so that it fits its box (address, letterhead).
const MIN_SIZE: f32 = 8.0;

/// Type sizes (points) of one print variant.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Sizes {
    pub letterhead_name: f32,
    pub letterhead: f32,
    pub return_line: f32,
    pub address: f32,
    pub body: f32,
    pub subject: f32,
    pub footer: f32,
}

/// The standard letter: 11 pt body text.
pub const NORMAL: Sizes = Sizes {
    letterhead_name: 10.5,
    letterhead: 9.0,
    return_line: 7.0,
    address: 11.0,
    body: 11.0,
    subject: 14.0,
    footer: 8.0,
};

/// Large print for patients who need it: 14 pt body text, the same layout.
pub const LARGE: Sizes = Sizes {
    letterhead_name: 12.5,
    letterhead: 11.0,
    return_line: 8.0,
    address: 14.0,
    body: 14.0,
    subject: 18.0,
    footer: 10.0,
};

/// Line spacing as a multiple of the type size.
const LEADING: f32 = 15.0 / 11.0;
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
    /// The sender as the post office reads it (organisation; street, postcode and city).
    pub return_address: Vec<Line>,
    pub recipient: Vec<Line>,
    pub place_and_date: Line,
    pub subject: Line,
    /// Paragraphs of lines; long lines are wrapped.
    pub body: Vec<Vec<Line>>,
    /// The sign-off's paragraphs (tagged as the signature), after the body.
    pub signature: Vec<Vec<Line>>,
    pub sizes: Sizes,
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

/// The structure types flspost uses. The groups are custom types role-mapped to `Div`, so
/// a reviewer reading the tree sees what each is.
#[derive(Clone, Copy, Debug, PartialEq)]
enum Role {
    Document,
    Letterhead,
    Address,
    Signature,
    H1,
    P,
}

impl Role {
    fn custom(self) -> Option<&'static [u8]> {
        match self {
            Role::Letterhead => Some(b"Letterhead"),
            Role::Address => Some(b"Address"),
            Role::Signature => Some(b"Signature"),
            _ => None,
        }
    }
    fn tag(self) -> Name<'static> {
        match self {
            Role::H1 => Name(b"H1"),
            _ => Name(b"P"),
        }
    }
}

/// A structure element: its role, its parent (an index; `None` for the document) and its
/// children in reading order.
struct Elem {
    role: Role,
    parent: Option<usize>,
    kids: Vec<Kid>,
}

enum Kid {
    Elem(usize),
    /// Marked content on a page: (page, MCID).
    Content(usize, i32),
}

/// What a run of text is in the structure: part of an element, or an artifact.
#[derive(Clone, Copy, PartialEq)]
enum Tag {
    Elem(usize),
    /// The return line: a repeat of the letterhead for the post office.
    LayoutArtifact,
}

/// One positioned run of text.
struct Run {
    page: usize,
    x: f32,
    y: f32,
    size: f32,
    weight: Weight,
    text: String,
    tag: Tag,
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
    elems: Vec<Elem>,
    warnings: Vec<Warning>,
    page: usize,
    y: f32,
}

impl Layout {
    /// The line's text with every character the font lacks transliterated (or an error).
    fn fit(&mut self, line: &Line, weight: Weight) -> Result<String, InputError> {
        Ok(charset::fit(weight.face(), &line.field, &line.text, &mut self.warnings)?.into_owned())
    }

    /// A new structure element under `parent` (the document when `None`).
    fn open(&mut self, role: Role, parent: Option<usize>) -> usize {
        let id = self.elems.len();
        // The first element is the document itself, whose parent is the tree's root.
        let parent = (id > 0).then(|| parent.unwrap_or(0));
        self.elems.push(Elem { role, parent, kids: vec![] });
        if let Some(p) = parent {
            self.elems[p].kids.push(Kid::Elem(id));
        }
        id
    }

    fn put(&mut self, x: f32, y: f32, size: f32, weight: Weight, text: String, tag: Tag) {
        self.runs.push(Run { page: self.page, x, y, size, weight, text, tag });
    }

    /// Sets `line` at the cursor as part of `elem`, wrapped to the body width, moving down
    /// (and to a new page when the bottom margin is reached). A line that is not the last
    /// of its element keeps a space at its end (also where wrapping broke it), so the text
    /// read through the structure tree has its words apart.
    fn flow(&mut self, line: &Line, size: f32, weight: Weight, elem: usize, last: bool) -> Result<(), InputError> {
        let text = self.fit(line, weight)?;
        let face = weight.face();
        let pieces = wrap(&text, |c| face.advance(c, size), RIGHT - LEFT);
        let n = pieces.len();
        for (i, piece) in pieces.into_iter().enumerate() {
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
            let mut shown = piece.to_string();
            if i + 1 < n || !last {
                shown.push(' ');
            }
            self.put(LEFT, self.y, size, weight, shown, Tag::Elem(elem));
            self.y -= LEADING * size;
        }
        Ok(())
    }

    /// A group of short lines in a box `width` wide (letterhead, address): one P each, at
    /// `size` or, when the widest line would not fit, the largest size down to MIN_SIZE
    /// that does. A line still too wide at MIN_SIZE (a long name of wide letters, inside
    /// the contract's lengths) is not refused: it wraps onto the next line of the box, as
    /// a long name wraps on any envelope. `what` names the box in the (unused) error.
    fn block(
        &mut self,
        lines: &[(Line, Weight, f32)],
        group: usize,
        x: f32,
        top: f32,
        width: f32,
    ) -> Result<f32, InputError> {
        let mut fitted = vec![];
        let mut scale: f32 = 1.0;
        for (line, weight, size) in lines {
            let text = self.fit(line, *weight)?;
            let w = weight.face().width(&text, *size);
            if w > width {
                // Shrink as far as the smallest type allows; what still overflows wraps.
                scale = scale.min((width / w).max(MIN_SIZE / size));
            }
            fitted.push((text, *weight, *size));
        }
        let mut y = top;
        for (text, weight, size) in fitted {
            let size = (size * scale).max(MIN_SIZE.min(size));
            let p = self.open(Role::P, Some(group));
            let face = weight.face();
            let pieces = wrap(&text, |c| face.advance(c, size), width);
            let n = pieces.len();
            for (i, piece) in pieces.into_iter().enumerate() {
                // A wrapped line keeps its space, so the words read apart in the structure tree.
                let shown = if i + 1 < n { format!("{piece} ") } else { piece.to_string() };
                self.put(x, y, size, weight, shown, Tag::Elem(p));
                y -= LEADING * size;
            }
        }
        Ok(y)
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
    let sz = &letter.sizes;
    let mut l = Layout { runs: vec![], elems: vec![], warnings: vec![], page: 0, y: 0.0 };
    l.open(Role::Document, None);

    // Letterhead, top right.
    let head = l.open(Role::Letterhead, None);
    let lines: Vec<(Line, Weight, f32)> = (letter.letterhead.iter().enumerate())
        .map(|(i, line)| match i {
            0 => (line.clone(), Weight::Bold, sz.letterhead_name),
            _ => (line.clone(), Weight::Regular, sz.letterhead),
        })
        .collect();
    let head_end = l.block(&lines, head, LETTERHEAD_X, PAGE_H - 20.0 * MM, RIGHT - LETTERHEAD_X)?;

    // The address window: the return line (an artifact: it repeats the letterhead for the
    // post office), then the recipient.
    let mut y = PAGE_H - (WINDOW_MM[1] + 7.0) * MM;
    if !letter.return_address.is_empty() {
        // One line when it fits the window at its size, else one line per part.
        let size = sz.return_line;
        let parts: Vec<String> =
            letter.return_address.iter().map(|p| l.fit(p, Weight::Regular)).collect::<Result<_, _>>()?;
        let joined = parts.join(", ");
        let lines = if fonts::regular().width(&joined, size) <= ADDRESS_RIGHT - LEFT { vec![joined] } else { parts };
        // Shrunk to fit, down to 5 pt; a part still wider (wide letters, inside the
        // contract's lengths) wraps rather than refusing the letter.
        const RETURN_MIN: f32 = 5.0;
        for text in lines {
            let w = fonts::regular().width(&text, size);
            let fitted = size.min(size * (ADDRESS_RIGHT - LEFT) / w).max(RETURN_MIN);
            let face = fonts::regular();
            for piece in wrap(&text, |c| face.advance(c, fitted), ADDRESS_RIGHT - LEFT) {
                l.put(LEFT, y, fitted, Weight::Regular, piece.to_string(), Tag::LayoutArtifact);
                y -= LEADING * size;
            }
        }
        y -= size;
    }
    let address = l.open(Role::Address, None);
    let lines: Vec<(Line, Weight, f32)> =
        letter.recipient.iter().map(|line| (line.clone(), Weight::Regular, sz.address)).collect();
    let below = l.block(&lines, address, LEFT, y, ADDRESS_RIGHT - LEFT)?;
    // The block's last baseline plus its descent must stay inside the window.
    if below + LEADING * sz.address - 0.25 * sz.address < PAGE_H - WINDOW_MM[3] * MM {
        return Err(InputError::new("patient.address", "has more lines than the envelope window shows"));
    }

    // Place and date, right-aligned below the window.
    let date = l.open(Role::P, None);
    let text = l.fit(&letter.place_and_date, Weight::Regular)?;
    let w = fonts::regular().width(&text, sz.body);
    l.put(RIGHT - w, PAGE_H - 100.0 * MM, sz.body, Weight::Regular, text, Tag::Elem(date));

    l.y = PAGE_H - 115.0 * MM;
    let h1 = l.open(Role::H1, None);
    l.flow(&letter.subject, sz.subject, Weight::Bold, h1, true)?;
    l.y -= 8.0;
    for para in &letter.body {
        let p = l.open(Role::P, None);
        for (i, line) in para.iter().enumerate() {
            l.flow(line, sz.body, Weight::Regular, p, i + 1 == para.len())?;
        }
        l.y -= LEADING * sz.body * 0.6;
    }
    if !letter.signature.is_empty() {
        let sig = l.open(Role::Signature, None);
        for para in &letter.signature {
            let p = l.open(Role::P, Some(sig));
            for (i, line) in para.iter().enumerate() {
                l.flow(line, sz.body, Weight::Regular, p, i + 1 == para.len())?;
            }
            l.y -= LEADING * sz.body * 0.6;
        }
    }
    let pages = l.page + 1;
    let rule_y = head_end + LEADING * sz.letterhead - 6.0 * MM;
    Ok(Rendered { bytes: write_pdf(letter, &mut l, pages, rule_y), warnings: l.warnings })
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

/// PDF/A wants the document's metadata as XMP, matching the Info dictionary; PDF/UA wants
/// the title there and its own identification, which PDF/A-2 accepts only with an
/// extension schema describing it.
fn xmp(title: &str, created: &str, producer: &str) -> String {
    let esc = |s: &str| s.replace('&', "&amp;").replace('<', "&lt;").replace('>', "&gt;");
    format!(
        r#"<?xpacket begin="{bom}" id="W5M0MpCehiHzreSzNTczkc9d"?>
<x:xmpmeta xmlns:x="adobe:ns:meta/">
 <rdf:RDF xmlns:rdf="http://www.w3.org/1999/02/22-rdf-syntax-ns#">
  <rdf:Description rdf:about=""
    xmlns:dc="http://purl.org/dc/elements/1.1/"
    xmlns:xmp="http://ns.adobe.com/xap/1.0/"
    xmlns:pdf="http://ns.adobe.com/pdf/1.3/"
    xmlns:pdfaid="http://www.aiim.org/pdfa/ns/id/"
    xmlns:pdfuaid="http://www.aiim.org/pdfua/ns/id/"
    xmlns:pdfaExtension="http://www.aiim.org/pdfa/ns/extension/"
    xmlns:pdfaSchema="http://www.aiim.org/pdfa/ns/schema#"
    xmlns:pdfaProperty="http://www.aiim.org/pdfa/ns/property#">
   <dc:format>application/pdf</dc:format>
   <dc:title><rdf:Alt><rdf:li xml:lang="x-default">{title}</rdf:li></rdf:Alt></dc:title>
   <dc:language><rdf:Bag><rdf:li>da</rdf:li></rdf:Bag></dc:language>
   <xmp:CreateDate>{created}</xmp:CreateDate>
   <pdf:Producer>{producer}</pdf:Producer>
   <pdfaid:part>2</pdfaid:part>
   <pdfaid:conformance>A</pdfaid:conformance>
   <pdfuaid:part>1</pdfuaid:part>
   <pdfaExtension:schemas><rdf:Bag><rdf:li rdf:parseType="Resource">
    <pdfaSchema:schema>PDF/UA Universal Accessibility Schema</pdfaSchema:schema>
    <pdfaSchema:namespaceURI>http://www.aiim.org/pdfua/ns/id/</pdfaSchema:namespaceURI>
    <pdfaSchema:prefix>pdfuaid</pdfaSchema:prefix>
    <pdfaSchema:property><rdf:Seq><rdf:li rdf:parseType="Resource">
     <pdfaProperty:name>part</pdfaProperty:name>
     <pdfaProperty:valueType>Integer</pdfaProperty:valueType>
     <pdfaProperty:category>internal</pdfaProperty:category>
     <pdfaProperty:description>Indicates, which part of ISO 14289 standard is followed</pdfaProperty:description>
    </rdf:li></rdf:Seq></pdfaSchema:property>
   </rdf:li></rdf:Bag></pdfaExtension:schemas>
  </rdf:Description>
 </rdf:RDF>
</x:xmpmeta>
<?xpacket end="w"?>"#,
        bom = '\u{feff}',
        title = esc(title),
        created = created,
        producer = esc(producer),
    )
}

fn write_pdf(letter: &Letter, layout: &mut Layout, pages: usize, rule_y: f32) -> Vec<u8> {
    let runs = &layout.runs;
    // Compact objects: the tags add ~60 small ones, and every byte is base64 in the MeMo.
    let mut pdf = Pdf::with_settings(pdf_writer::Settings { pretty: false });
    let mut next = 1;
    let mut alloc = || {
        next += 1;
        Ref::new(next - 1)
    };
    let (catalog, tree, info, struct_root, metadata) = (alloc(), alloc(), alloc(), alloc(), alloc());
    let page_ids: Vec<(Ref, Ref)> = (0..pages).map(|_| (alloc(), alloc())).collect();
    let elem_ids: Vec<Ref> = layout.elems.iter().map(|_| alloc()).collect();
    let parent_arrays: Vec<Ref> = (0..pages).map(|_| alloc()).collect();
    let mut fonts = [Embedding::new(fonts::regular(), Name(b"F1")), Embedding::new(fonts::bold(), Name(b"F2"))];
    const PRODUCER: &str = concat!("flspost ", env!("CARGO_PKG_VERSION"));

    {
        let mut cat = pdf.catalog(catalog);
        cat.pages(tree).lang(TextStr("da")).metadata(metadata);
        cat.pair(Name(b"StructTreeRoot"), struct_root);
        cat.mark_info().marked(true);
        cat.viewer_preferences().display_doc_title(true);
    }
    pdf.pages(tree).kids(page_ids.iter().map(|(p, _)| *p)).count(pages as i32);
    let c = letter.created;
    pdf.document_info(info).title(TextStr(&letter.title)).producer(TextStr(PRODUCER)).creation_date(
        pdf_writer::Date::new(c.year() as u16)
            .month(c.month() as u8)
            .day(c.day() as u8)
            .hour(c.hour() as u8)
            .minute(c.minute() as u8)
            .second(c.second() as u8)
            .utc_offset_hour(0)
            .utc_offset_minute(0),
    );
    let packet = xmp(&letter.title, &c.to_rfc3339_opts(SecondsFormat::Secs, true), PRODUCER);
    pdf.metadata(metadata, packet.as_bytes());

    let font_refs: Vec<Ref> = fonts.iter().map(|_| alloc()).collect();
    // Per page, the element each MCID belongs to (the parent tree's entry for the page).
    let mut parents: Vec<Vec<Ref>> = vec![vec![]; pages];
    for (n, (page_id, content_id)) in page_ids.iter().enumerate() {
        let mut content = Content::new();
        content.begin_text();
        for run in runs.iter().filter(|r| r.page == n) {
            match run.tag {
                Tag::Elem(e) => {
                    let mcid = parents[n].len() as i32;
                    parents[n].push(elem_ids[e]);
                    layout.elems[e].kids.push(Kid::Content(n, mcid));
                    content
                        .begin_marked_content_with_properties(layout.elems[e].role.tag())
                        .properties()
                        .identify(mcid);
                }
                Tag::LayoutArtifact => {
                    content
                        .begin_marked_content_with_properties(Name(b"Artifact"))
                        .properties()
                        .artifact()
                        .kind(ArtifactType::Layout);
                }
            }
            let f = &mut fonts[usize::from(run.weight == Weight::Bold)];
            content.set_font(f.resource, run.size);
            content.set_text_matrix([1.0, 0.0, 0.0, 1.0, run.x, run.y]);
            let glyphs = f.encode(&run.text);
            content.show(Str(&glyphs));
            content.end_marked_content();
        }
        // The page number: a pagination artifact.
        let footer = format!("Side {} af {}", n + 1, pages);
        let size = letter.sizes.footer;
        let w = fonts::regular().width(&footer, size);
        content
            .begin_marked_content_with_properties(Name(b"Artifact"))
            .properties()
            .artifact()
            .kind(ArtifactType::Pagination)
            .subtype(ArtifactSubtype::Footer);
        content.set_font(fonts[0].resource, size);
        content.set_text_matrix([1.0, 0.0, 0.0, 1.0, RIGHT - w, 12.0 * MM]);
        let glyphs = fonts[0].encode(&footer);
        content.show(Str(&glyphs));
        content.end_marked_content();
        content.end_text();
        if n == 0 {
            // A thin rule under the letterhead: decoration.
            content
                .begin_marked_content_with_properties(Name(b"Artifact"))
                .properties()
                .artifact()
                .kind(ArtifactType::Layout);
            content.set_line_width(0.5);
            content.move_to(LETTERHEAD_X, rule_y).line_to(RIGHT, rule_y).stroke();
            content.end_marked_content();
        }
        let raw = content.finish();
        // Text operators compress ~7:1, so this one is worth deflating.
        let compressed = miniz_oxide::deflate::compress_to_vec_zlib(&raw, 1);
        pdf.stream(*content_id, &compressed).filter(Filter::FlateDecode);

        let mut page = pdf.page(*page_id);
        page.media_box(Rect::new(0.0, 0.0, PAGE_W, PAGE_H))
            .parent(tree)
            .contents(*content_id)
            .struct_parents(n as i32)
            .tab_order(TabOrder::StructureOrder);
        let mut resources = page.resources();
        // Black text and rule are DeviceGray; PDF/A asks for a device-independent meaning:
        // CalGray with the D65 white point (no ICC profile to embed).
        resources.color_spaces().insert(Name(b"DefaultGray")).start::<pdf_writer::writers::ColorSpace>().cal_gray(
            [0.9505, 1.0, 1.089],
            None,
            None,
        );
        let mut font_dict = resources.fonts();
        for (f, id) in fonts.iter().zip(&font_refs) {
            font_dict.pair(f.resource, *id);
        }
    }

    // The structure tree, in reading order.
    {
        let mut root = pdf.indirect(struct_root).start::<pdf_writer::writers::StructTreeRoot>();
        root.child(elem_ids[0]);
        let mut roles = root.role_map();
        for role in [Role::Letterhead, Role::Address, Role::Signature] {
            roles.insert(Name(role.custom().expect("a custom role")), StructRole::Div);
        }
        roles.finish();
        let mut tree = root.parent_tree();
        let mut nums = tree.nums();
        for (n, id) in parent_arrays.iter().enumerate() {
            nums.insert(n as i32, *id);
        }
        nums.finish();
        tree.finish();
        root.parent_tree_next_key(pages as i32);
    }
    for (n, refs) in parents.iter().enumerate() {
        pdf.indirect(parent_arrays[n]).array().items(refs.iter().copied());
    }
    for (i, e) in layout.elems.iter().enumerate() {
        let mut el = pdf.struct_element(elem_ids[i]);
        match e.role.custom() {
            Some(name) => el.custom_kind(Name(name)),
            None => el.kind(match e.role {
                Role::Document => StructRole::Document,
                Role::H1 => StructRole::H1,
                _ => StructRole::P,
            }),
        };
        el.parent(e.parent.map_or(struct_root, |p| elem_ids[p]));
        let mut kids = el.children();
        for k in &e.kids {
            match *k {
                Kid::Elem(c) => {
                    kids.struct_element(elem_ids[c]);
                }
                Kid::Content(page, mcid) => {
                    kids.marked_content_ref().marked_content_id(mcid).page(page_ids[page].0);
                }
            }
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
    // PDF/A wants a file identifier: a hash of what the letter says, so the same letter
    // gets the same one and the output stays reproducible.
    use sha2::Digest;
    let mut h = sha2::Sha256::new();
    h.update(packet.as_bytes());
    for r in runs {
        h.update(r.text.as_bytes());
    }
    let id = h.finalize()[..16].to_vec();
    pdf.set_file_id((id.clone(), id));
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
