//! Setting lines on the page: fitted to the letter font, wrapped, shrunk to fit a box, and
//! flowed onto further pages; each run tagged with the structure element it belongs to.

use super::fonts::Face;
use super::page::{Line, BOTTOM, LEADING, LEFT, MAX_PAGES, MIN_SIZE, MM, PAGE_H, RIGHT};
use super::tagging::{Elem, Kid, Role, Run, Tag, Weight};
use crate::formats::charset::{self, Repertoire};
use crate::input::InputError;
use crate::model::Warning;

impl Repertoire for Face {
    fn name(&self) -> &str {
        "the letter font"
    }
    fn contains(&self, c: char) -> bool {
        self.has(c)
    }
}

pub(super) struct Layout {
    pub(super) runs: Vec<Run>,
    pub(super) elems: Vec<Elem>,
    pub(super) warnings: Vec<Warning>,
    pub(super) page: usize,
    pub(super) y: f32,
}

impl Layout {
    /// The line's text with every character the font lacks transliterated (or an error).
    pub(super) fn fit(&mut self, line: &Line, weight: Weight) -> Result<String, InputError> {
        Ok(charset::fit(weight.face(), &line.field, &line.text, &mut self.warnings)?.into_owned())
    }

    /// A new structure element under `parent` (the document when `None`).
    pub(super) fn open(&mut self, role: Role, parent: Option<usize>) -> usize {
        let id = self.elems.len();
        // The first element is the document itself, whose parent is the tree's root.
        let parent = (id > 0).then(|| parent.unwrap_or(0));
        self.elems.push(Elem { role, parent, kids: vec![] });
        if let Some(p) = parent {
            self.elems[p].kids.push(Kid::Elem(id));
        }
        id
    }

    pub(super) fn put(&mut self, x: f32, y: f32, size: f32, weight: Weight, text: String, tag: Tag) {
        self.runs.push(Run { page: self.page, x, y, size, weight, text, tag });
    }

    /// Sets `line` at the cursor as part of `elem`, wrapped to the body width, moving down
    /// (and to a new page when the bottom margin is reached). A line that is not the last
    /// of its element keeps a space at its end (also where wrapping broke it), so the text
    /// read through the structure tree has its words apart.
    pub(super) fn flow(
        &mut self,
        line: &Line,
        size: f32,
        weight: Weight,
        elem: usize,
        last: bool,
    ) -> Result<(), InputError> {
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
    pub(super) fn block(
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
pub(super) fn wrap(text: &str, advance: impl Fn(char) -> f32, max: f32) -> Vec<&str> {
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
