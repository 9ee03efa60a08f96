//! The page and what goes on it: A4 geometry in points, the window of the envelope, the type
//! sizes of the two print variants, and the [`Letter`] as lines, each with the input field it
//! came from.

use chrono::{DateTime, Utc};

pub(super) const MM: f32 = 72.0 / 25.4;
pub(super) const PAGE_W: f32 = 210.0 * MM;
pub(super) const PAGE_H: f32 = 297.0 * MM;
pub(super) const LEFT: f32 = 25.0 * MM;
pub(super) const RIGHT: f32 = PAGE_W - 20.0 * MM;
pub(super) const BOTTOM: f32 = 25.0 * MM;
/// Where the letterhead starts (x) and how wide it may be.
pub(super) const LETTERHEAD_X: f32 = 125.0 * MM;
/// The address field of a DIN 5008 form B letter, which the window of a C5/C65 (and a
/// C4) window envelope shows: 20-105 mm from the left edge, 45-90 mm from the top. The
/// text keeps 5 mm from the window's edges (25-100 mm) so a letter that shifts in its
/// envelope still shows the whole address.
pub const WINDOW_MM: [f32; 4] = [20.0, 45.0, 105.0, 90.0];
pub(super) const ADDRESS_RIGHT: f32 = 100.0 * MM;
/// The smallest type a line is shrunk to so that it fits its box (address, letterhead).
pub(super) const MIN_SIZE: f32 = 8.0;

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
pub(super) const LEADING: f32 = 15.0 / 11.0;
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
