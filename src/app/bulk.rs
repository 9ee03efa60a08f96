//! `regenerate` over a filter: the messages it names, what `regenerate` would do with each
//! (shown before a person confirms), then each one regenerated in a journal transaction of its
//! own, each with its own outcome. MedCom's rules decide per message, as for one
//! ([`crate::reliable::resend`]): one the rules refuse is reported with why, and the rest go on.

use super::generate::{Engine, Summary};
use super::queue::{self, Query};
use crate::error::{Error, Result};
use crate::journal::{Journal, MessageRow};
use crate::model::Kind;

/// What `regenerate` would do with one message, as decided when the plan was made.
#[derive(Debug)]
pub enum Action {
    /// Resend it: transmission `transmission` of its letter.
    Resend { transmission: u32 },
    /// Send it as the same letter in `kind` (`--reroute`): transmission `transmission` there.
    Reroute { kind: Kind, transmission: u32 },
    /// Not regenerated: MedCom's rules (or the receiver table, for a re-route) refuse it, or it
    /// cannot be read; the error says why.
    Refused(Error),
}

/// One message a filter named, and what would be done with it.
#[derive(Debug)]
pub struct Planned {
    pub message: MessageRow,
    pub action: Action,
}

impl Planned {
    /// Whether running it records anything (a new message).
    pub fn acts(&self) -> bool {
        !matches!(self.action, Action::Refused(_))
    }
}

impl Engine {
    /// The messages `query` names (oldest first) and what `regenerate` (with `reroute`:
    /// `regenerate --reroute`) would do with each now. With a cause, the messages are the work
    /// queue's open problems of that cause under the filter ([`queue::queue`]). Reads only.
    pub fn plan_bulk(&self, journal: &Journal, query: &Query, reroute: bool) -> Result<Vec<Planned>> {
        if query.filter.is_empty() && query.cause.is_none() {
            return Err(Error::Usage(
                "regenerate over a filter needs at least one of --status, --cause, --kind, --transport, --since, \
                 --until, --result, --cpr, --gp (it never regenerates the whole journal)"
                    .into(),
            ));
        }
        let now = crate::support::clock::now();
        let messages = match &query.cause {
            None => journal.matching(&query.filter)?,
            Some(_) => {
                let mut ids: Vec<i64> =
                    queue::queue(journal, query, now)?.iter().filter_map(|p| p.message_id).collect();
                ids.sort_unstable();
                ids.dedup();
                ids.into_iter().filter_map(|id| journal.message(id).transpose()).collect::<Result<Vec<_>>>()?
            }
        };
        let mut planned = vec![];
        for message in messages {
            // A problem a person closed ("sent by letter post") is not resent behind their back.
            if let Some(h) = journal.handled(message.id)? {
                let why = format!("message {} was closed by {} at {}: {}", message.id, h.by, h.at, h.note);
                planned.push(Planned { message, action: Action::Refused(Error::Usage(why)) });
                continue;
            }
            let action = if reroute {
                match self.reroute_to(journal, &message, now) {
                    Ok(to) => Action::Reroute { kind: to.kind, transmission: to.transmission },
                    Err(e) => Action::Refused(e),
                }
            } else {
                match self.regenerate_decision(journal, &message, now) {
                    Ok(transmission) => Action::Resend { transmission },
                    Err(e) => Action::Refused(e),
                }
            };
            planned.push(Planned { message, action });
        }
        Ok(planned)
    }

    /// Runs a plan: each message that would act is regenerated (or re-routed) in a transaction
    /// of its own, its rules asked again at that moment; `emit` gets one summary per message, in
    /// order: today's `regenerate` line for each made, an error line (with why) for each refused,
    /// then or in the plan, and for each that failed. One failing never stops the rest.
    pub fn run_bulk(&self, journal: &mut Journal, plan: Vec<Planned>, mut emit: impl FnMut(Summary)) {
        for Planned { message: m, action } in plan {
            let done = match action {
                Action::Refused(e) => Err(e),
                Action::Resend { .. } => self.resend_unless_handled(journal, &m.id.to_string()),
                Action::Reroute { .. } => self.reroute(journal, &m.id.to_string()),
            };
            emit(done.unwrap_or_else(|e| {
                Summary::failed_at(format!("journal message {}", m.id), None, Some(m.result_id.clone()), &e)
            }));
        }
    }
}
