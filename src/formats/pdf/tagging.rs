//! What a run of text is in the structure tree (PDF/UA): the structure elements, their
//! roles (custom groups role-mapped to `Div`), and the positioned runs that belong to them.

use super::fonts::{self, Face};
use pdf_writer::Name;

#[derive(Clone, Copy, PartialEq)]
pub(super) enum Weight {
    Regular,
    Bold,
}

/// The structure types flspost uses. The groups are custom types role-mapped to `Div`, so
/// a reviewer reading the tree sees what each is.
#[derive(Clone, Copy, Debug, PartialEq)]
pub(super) enum Role {
    Document,
    Letterhead,
    Address,
    Signature,
    H1,
    P,
}

impl Role {
    pub(super) fn custom(self) -> Option<&'static [u8]> {
        match self {
            Role::Letterhead => Some(b"Letterhead"),
            Role::Address => Some(b"Address"),
            Role::Signature => Some(b"Signature"),
            _ => None,
        }
    }
    pub(super) fn tag(self) -> Name<'static> {
        match self {
            Role::H1 => Name(b"H1"),
            _ => Name(b"P"),
        }
    }
}

/// A structure element: its role, its parent (an index; `None` for the document) and its
/// children in reading order.
pub(super) struct Elem {
    pub(super) role: Role,
    pub(super) parent: Option<usize>,
    pub(super) kids: Vec<Kid>,
}

pub(super) enum Kid {
    Elem(usize),
    /// Marked content on a page: (page, MCID).
    Content(usize, i32),
}

/// What a run of text is in the structure: part of an element, or an artifact.
#[derive(Clone, Copy, PartialEq)]
pub(super) enum Tag {
    Elem(usize),
    /// The return line: a repeat of the letterhead for the post office.
    LayoutArtifact,
}

/// One positioned run of text.
pub(super) struct Run {
    pub(super) page: usize,
    pub(super) x: f32,
    pub(super) y: f32,
    pub(super) size: f32,
    pub(super) weight: Weight,
    pub(super) text: String,
    pub(super) tag: Tag,
}

impl Weight {
    pub(super) fn face(self) -> &'static Face {
        match self {
            Weight::Regular => fonts::regular(),
            Weight::Bold => fonts::bold(),
        }
    }
}
