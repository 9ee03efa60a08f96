//! Reading a MedCom receipt file: validated, parsed, and applied to the letters it answers.

use crate::error::Result;
use crate::journal::{Journal, ReceiptOutcome};
use crate::medcom::receipt::{self, Receipt};
use crate::schema::{self, MessageKind, Problem};
use std::path::Path;

/// What reading one receipt file gave.
pub enum Applied {
    /// The file could not be read as a message; the line says why, naming the file.
    Unreadable(String),
    /// The file is XML but not a MedCom receipt.
    NotAReceipt,
    /// A receipt its schema rejects.
    Invalid(Vec<Problem>),
    /// Valid, but its content could not be read.
    Unparsable(String),
    /// Applied: per letter it names, what it did.
    Applied { receipt: Receipt, outcomes: Vec<(String, ReceiptOutcome)> },
}

/// Validates the receipt at `path` and applies it to `journal`. Only a failure of the
/// journal is an error; anything wrong with the file is an [`Applied`] variant.
pub fn apply(journal: &mut Journal, path: &Path) -> Result<Applied> {
    let bytes = match schema::read_message(path) {
        Ok(b) => b,
        Err(line) => return Ok(Applied::Unreadable(line)),
    };
    let kind = schema::root_of(&bytes).and_then(|r| schema::detect(&r));
    if kind != Some(MessageKind::Receipt) {
        return Ok(Applied::NotAReceipt);
    }
    if let Err(problems) = schema::validate(MessageKind::Receipt, &bytes) {
        return Ok(Applied::Invalid(problems));
    }
    let receipt = match receipt::parse(&bytes) {
        Ok(r) => r,
        Err(e) => return Ok(Applied::Unparsable(e)),
    };
    let outcomes = journal.apply_receipt(&receipt, &bytes)?;
    Ok(Applied::Applied { receipt, outcomes })
}
