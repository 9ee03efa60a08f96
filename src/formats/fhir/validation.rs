//! A FHIR document judged whole: flspost's own schema for its kind, then the profile rules
//! no XSD expresses, problems sorted by position and capped.

use super::{dom, rules, vans};
use crate::model::MessageKind;
use crate::schema::{self, Problem};

/// Validates a FHIR document flspost knows: its own schema for `kind`, then the rules no
/// XSD expresses. Every problem is returned (schema ones first), each with its position.
pub fn validate(kind: MessageKind, bytes: &[u8]) -> Result<(), Vec<Problem>> {
    // Refused before anything reads it (see `schema::doctype`); an enveloped Bundle too.
    if let Some(p) = schema::doctype(bytes) {
        return Err(vec![p]);
    }
    let mut problems = schema::validate(kind, bytes).err().unwrap_or_default();
    // The rules read the document themselves; a document libxml2 cannot parse is reported
    // once, by the schema step. One libxml2 reads and the rules' reader cannot is refused
    // all the same: a document the rules did not see is never "valid".
    match dom::Document::parse(bytes) {
        Ok(doc) => problems.extend(match kind {
            MessageKind::CareCommunication => rules::care_communication(&doc),
            MessageKind::Acknowledgement => rules::acknowledgement(&doc),
            MessageKind::VansEnvelope => vans::check(&doc, validate),
            _ => vec![],
        }),
        Err(e) if problems.is_empty() => problems.push(Problem {
            line: None,
            column: None,
            message: format!("flspost cannot read the document for its profile checks: {e}"),
        }),
        Err(_) => {}
    }
    if problems.is_empty() {
        Ok(())
    } else {
        problems.sort_by_key(|p| (p.line.unwrap_or(0), p.column.unwrap_or(0)));
        cap(&mut problems);
        Err(problems)
    }
}

/// The most problems reported of one document: a hostile or broken one can have tens of
/// thousands, and the first ones say what is wrong.
pub const MAX_PROBLEMS: usize = 100;

/// Keeps the first [`MAX_PROBLEMS`] (sorted by position) and, in place of the rest, one line
/// at the first of them saying how many there are.
fn cap(problems: &mut Vec<Problem>) {
    if problems.len() <= MAX_PROBLEMS {
        return;
    }
    let more = problems.len() - MAX_PROBLEMS;
    let next = &problems[MAX_PROBLEMS];
    let summary = Problem {
        line: next.line,
        column: next.column,
        message: format!("... and {more} more problems not shown (flspost stops after {MAX_PROBLEMS})"),
    };
    problems.truncate(MAX_PROBLEMS);
    problems.push(summary);
}
