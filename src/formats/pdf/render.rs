//! A [`Letter`] laid out on its pages (letterhead, the envelope window, place and date,
//! subject, body, signature) and written as a tagged PDF: the module's entry point.

use super::fonts;
use super::layout::{wrap, Layout};
use super::page::{Letter, Line, ADDRESS_RIGHT, LEADING, LEFT, LETTERHEAD_X, MM, PAGE_H, RIGHT, WINDOW_MM};
use super::tagging::{Role, Tag, Weight};
use super::write::write_pdf;
use crate::input::InputError;
use crate::model::Warning;

pub struct Rendered {
    pub bytes: Vec<u8>,
    pub warnings: Vec<Warning>,
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
