//! The input's error: a leaf, so the crate's error can wrap it without naming the parser.

use std::fmt;

/// A rejected input: which field, and why. Its Display is the one line the user sees.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct InputError {
    /// Dotted path of the field (`patient.cpr`), or `input` for the document as a whole.
    pub field: String,
    pub reason: String,
}

impl InputError {
    pub fn new(field: impl Into<String>, reason: impl Into<String>) -> Self {
        InputError { field: field.into(), reason: reason.into() }
    }
}

impl fmt::Display for InputError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}: {}", self.field, self.reason)
    }
}

impl std::error::Error for InputError {}
