//! The identity decision: from what the journal holds for a result, whether an input
//! exists already, or which letters to build (new, or corrections) and which to keep.

use super::Prepared;
use crate::compose::{Addressee, Kind, Plan};
use crate::error::Result;
use crate::journal::{Journal, MessageRow};
use crate::model::LetterStatus;

/// What the journal says to do with a prepared input.
pub(super) enum Decision {
    Exists { messages: Vec<MessageRow> },
    Build { revision: u32, plans: Vec<(Plan, Option<i64>)>, kept: Vec<MessageRow> },
}

/// `gp_kind`: the format a new GP letter gets (XDIS91 or CareCommunication, by the receiver
/// table), asked only when one is needed: an input that exists already, or whose GP letter is
/// unchanged, is not refused because its GP has since moved to a format it lacks fields for.
/// `patient_kind`: the hand-off a new patient letter gets (MeMo or kombi).
pub(super) fn decide(
    journal: &Journal,
    p: &Prepared,
    gp_kind: impl Fn() -> Result<Kind>,
    patient_kind: Kind,
) -> Result<Decision> {
    let id = &p.result.result_id;
    let latest = journal.latest_input(id)?;
    let messages = journal.messages_of(id)?;
    if latest.as_ref().is_some_and(|i| i.input_sha256 == p.input_sha256) {
        return Ok(Decision::Exists { messages });
    }
    let revision = latest.map_or(0, |i| i.revision + 1);
    let floor = journal.revision_floor()?;
    let mut plans = vec![];
    let mut kept = vec![];
    for addressee in [Addressee::Gp, Addressee::Patient] {
        // A letter counts its revisions across formats: a MeMo UUID is never reused when a
        // hospital moves from MeMo to kombi, nor a letter number when a GP moves to FHIR.
        // A letter whose content is unchanged is kept in the format it went in.
        let of_kind: Vec<&MessageRow> = messages.iter().filter(|m| m.kind.addressee() == addressee).collect();
        match of_kind.last() {
            Some(last) if last.content_sha256 == p.content(last.kind) => kept.push((*last).clone()),
            last => {
                let kind = match addressee {
                    Addressee::Gp => gp_kind()?,
                    Addressee::Patient => patient_kind,
                };
                // Counted from the journal's floor: a restored journal never mints again
                // the identifier of a letter made after its backup was taken.
                let letter_revision = crate::journal::next_revision(floor, of_kind.iter().map(|m| m.letter_revision));
                // Any earlier letter may have reached the GP, even one the journal still
                // holds as unsent (a gateway can take it from the output folder), so a
                // changed letter is always sent as a correction.
                let status = if last.is_some() { LetterStatus::Corrected } else { LetterStatus::New };
                plans.push((Plan { kind, letter_revision, transmission: 1, status }, last.map(|m| m.id)));
            }
        }
    }
    Ok(Decision::Build { revision, plans, kept })
}

/// The current message for each addressee (the newest), for output files.
pub(crate) fn current(messages: &[MessageRow]) -> Vec<&MessageRow> {
    [Addressee::Gp, Addressee::Patient]
        .iter()
        .filter_map(|a| messages.iter().filter(|m| m.kind.addressee() == *a).max_by_key(|m| m.id))
        .collect()
}
