//! A refused input on its way to the journal: a document that failed its checks, could not be
//! read, or asks for a letter it cannot make (a field the GP's format needs, a value too long
//! for it). It is journaled as a refused input, with its bytes as received, before its line is
//! printed: "what failed today" finds it, and a later input for the result closes it.

use super::Summary;
use crate::error::{Error, Result};
use crate::journal::{Journal, NewRefused, Writer};

/// A refused input: its summary (what is printed) and the document as received.
#[derive(Clone, Debug)]
pub struct Refusal {
    pub summary: Summary,
    /// As received; empty when it could not be read (not UTF-8, too long, no such file).
    text: String,
}

impl Refusal {
    /// `summary` must be a failure.
    pub(super) fn new(summary: Summary, text: String) -> Refusal {
        debug_assert!(summary.error.is_some(), "a refusal is a failure");
        Refusal { summary, text }
    }

    /// Whether failing with `e` is the input's refusal (the caller's mistake in it), rather
    /// than the environment's failure or flspost's.
    pub(super) fn is_refusal(e: &Error) -> bool {
        matches!(e, Error::Input(_))
    }

    /// Records it in the caller's transaction (or finds the open refusal it repeats, see
    /// [`Writer::record_refused`]); returns the refused input's id.
    pub fn record(&self, w: &Writer<'_>) -> Result<i64> {
        let error = self.summary.error.as_ref().expect("a refusal is a failure");
        // A result_id that failed its own check names no result a later input could close.
        let result_id = self.summary.result_id.as_deref().filter(|id| crate::input::check_result_id(id).is_ok());
        w.record_refused(&NewRefused {
            source: &self.summary.source,
            result_id,
            field: error.field.as_deref().unwrap_or("input"),
            reason: &error.reason,
            input_bytes: self.text.as_bytes(),
        })
    }

    /// Records it in a transaction of its own (a single input, refused before anything else).
    pub fn record_alone(&self, journal: &mut Journal) -> Result<i64> {
        journal.write(|w| self.record(w))
    }
}
