//! `journal erase`: a patient's data removed from the journal on request (the right to
//! erasure), by an operator, audited without naming whom. Refused while one of the patient's
//! letters is still open (in the work queue, not yet sent, or sent and awaiting its answer)
//! unless forced: erasing it would lose what a person still needs to finish it.

use crate::app::queue::{self, Query, State};
use crate::error::{Error, Result};
use crate::journal::{Erased, Filter, Journal};
use crate::model::Status;
use chrono::{DateTime, Utc};
use serde::Serialize;
use std::collections::BTreeSet;

/// What an erasure of one patient would touch, before it is done.
#[derive(Clone, Debug, Serialize)]
pub struct Plan {
    /// Their messages (journal ids) and refused inputs.
    pub messages: Vec<i64>,
    pub refused: Vec<i64>,
    /// Their letters still open: a problem in the queue, not yet sent, or awaiting an answer.
    pub open: Vec<i64>,
}

impl Plan {
    pub fn is_empty(&self) -> bool {
        self.messages.is_empty() && self.refused.is_empty()
    }
}

fn patient(cpr: &str) -> Filter {
    Filter { cpr: Some(cpr.to_string()), ..Filter::default() }
}

/// What erasing patient `cpr` touches, and which of their letters are open.
pub fn plan(journal: &Journal, cpr: &str, now: DateTime<Utc>) -> Result<Plan> {
    let filter = patient(cpr);
    let messages = journal.matching(&filter)?;
    let refused = journal.refused_where(&filter)?.into_iter().map(|r| r.id).collect();
    let mut open = BTreeSet::new();
    // The work queue's open problems; a letter awaiting its answer counts from its hand-over,
    // not only after MedCom's thirty minutes.
    let q = Query { filter: filter.clone(), unanswered_after: Some(chrono::Duration::zero()), ..Query::default() };
    for p in queue::queue(journal, &q, now)? {
        if let (Some(id), State::Open) = (p.message_id, p.state) {
            open.insert(id);
        }
    }
    for m in &messages {
        if matches!(m.status, Status::Generated | Status::Retry) && journal.handled(m.id)?.is_none() {
            open.insert(m.id);
        }
    }
    Ok(Plan { messages: messages.iter().map(|m| m.id).collect(), refused, open: open.into_iter().collect() })
}

/// Erases patient `cpr` (10 digits) as `who`: refused (a usage error, nothing changed) while
/// one of their letters is open, unless `force`. One transaction: the erasure and its audit
/// row ("erase", `patient`, how many rows; never the CPR or a name) commit together. Then the
/// write-ahead log is checkpointed and emptied, so the old pages leave it too (`false` in the
/// second value when another process's reading kept it: the next writer's checkpoint does it).
pub fn erase(journal: &mut Journal, cpr: &str, force: bool, who: &str, now: DateTime<Utc>) -> Result<(Erased, bool)> {
    // The plan is made again under the write lock: a letter recorded since a person saw
    // the plan is open too, and refused the same way.
    let erased = journal.write_checked(|journal, w| {
        let plan = plan(journal, cpr, now)?;
        if !plan.open.is_empty() && !force {
            let ids: Vec<String> = plan.open.iter().map(|i| i.to_string()).collect();
            return Err(Error::Usage(format!(
                "the patient has {} open letter{} (message {}): finish {} first (`journal queue`), or add --force; \
                 nothing was erased",
                ids.len(),
                if ids.len() == 1 { "" } else { "s" },
                ids.join(", "),
                if ids.len() == 1 { "it" } else { "them" }
            )));
        }
        let e = w.erase_patient(cpr, who)?;
        if !e.is_empty() {
            let detail = format!(
                "{} inputs, {} messages, {} receipts, {} refused inputs{}",
                e.inputs,
                e.messages,
                e.receipts,
                e.refused,
                if force && !plan.open.is_empty() { ", forced over open letters" } else { "" }
            );
            w.audit(who, "erase", "patient", Some(&detail))?;
        }
        Ok(e)
    })?;
    let emptied = journal.checkpoint_truncate()?;
    Ok((erased, emptied))
}
