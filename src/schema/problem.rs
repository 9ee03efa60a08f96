//! A problem found in a document: a leaf, so the crate's error can carry problems without
//! naming libxml2.

use std::fmt;

/// One problem, with its position in the document when libxml2 knows it.
#[derive(Clone, Debug, PartialEq, Eq, serde::Serialize)]
pub struct Problem {
    pub line: Option<u32>,
    pub column: Option<u32>,
    pub message: String,
}

impl fmt::Display for Problem {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}:{}: {}", self.line.unwrap_or(0), self.column.unwrap_or(0), self.message)
    }
}
