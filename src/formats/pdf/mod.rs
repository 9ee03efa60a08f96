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
//!
//! The files: [`letter_pdf`] (`letter.rs`) makes the FLS letter's [`Letter`] (`page.rs`: the
//! page's geometry and what goes on it); [`render()`] (`render.rs`) lays it out (`layout.rs`,
//! each run tagged as `tagging.rs` says) and writes the file (`write.rs`, with the font
//! subsets of `embed.rs` and the metadata of `xmp.rs`).

mod embed;
mod fonts;
mod layout;
mod letter;
mod page;
mod render;
mod tagging;
mod write;
mod xmp;

pub use letter::letter_pdf;
pub use page::{Letter, Line, Sizes, LARGE, MAX_PAGES, NORMAL, WINDOW_MM};
pub use render::{render, Rendered};

#[cfg(test)]
mod tests;
