//! Validation of message bytes against XML schemas with libxml2 (a complete XSD 1.0 engine).
//!
//! - [`catalogue`]: which bundled schema judges each [`MessageKind`] (the schemas in
//!   `schemas/` are compiled into the binary), and the schemas they import.
//! - [`namespaces`]: the messages' namespaces, once, for the writers and for [`detect()`].
//! - [`document`]: what a message file is before a schema judges it (read capped, JSON, a
//!   DOCTYPE refused, the root element and the kind it names).
//! - [`problem`]: a [`Problem`] and how libxml2's reports are made readable (a leaf, so the
//!   crate's error can carry problems without naming libxml2).
//! - `libxml`: the binding: bundled-schema IO callbacks, the tree path every problem comes
//!   from ([`Schema`]) and the stream path that only vouches for a clean document.
//! - `base64`: the large xs:base64Binary values (a MeMo's PDF) checked in Rust, strictly,
//!   and shown to libxml2 as a short placeholder (its own check of them was a quarter of a batch).
//! - [`verdict`]: the two verdicts `validate` gives, MedCom's standard and flspost's profile.
//! - [`cache`]: each bundled schema compiled once per thread ([`Validator`]): libxml2
//!   validation contexts are not thread-safe, so each thread keeps its own (see
//!   [`with_validator`]).

mod base64;
pub mod cache;
pub mod catalogue;
pub mod document;
mod libxml;
pub mod namespaces;
pub mod problem;
pub mod verdict;

pub use crate::model::MessageKind;
pub use cache::{with_validator, Validator};
pub use document::{detect, doctype, is_json, read_message, root_of, Root, MAX_MESSAGE_BYTES};
pub use libxml::tree::Schema;
pub use namespaces::*;
pub use problem::Problem;
pub use verdict::{Judged, Verdict};

/// Validates with the bundled schema for `kind`.
pub fn validate(kind: MessageKind, bytes: &[u8]) -> Result<(), Vec<Problem>> {
    with_validator(|v| v.validate(kind, bytes))
}

#[cfg(test)]
mod tests;
