//! `resend-due`: the CareCommunications whose answer is overdue by the resend policy
//! (`[resend]`), each resent when the policy makes that automatic and its limit allows, else
//! listed for a person. Made for a timer (cron, a systemd timer, every minute): a run finds
//! only what is due *now*, and each resend is the one `regenerate` makes, decided on a reading
//! and decided again under the journal's write lock before it is recorded
//! ([`crate::journal::Writer::changed_since`]), so two runs at once (on one host, or several
//! on one journal) never make two resends of one transmission: the second finds it changed and
//! skips it. A run killed half-way leaves each letter resent or not, never half.
//!
//! XDIS91 letters are never resent here: MedCom asks no positive XCTL of them, many GP systems
//! send none, and its governance advises against "program logic that sends messages" keyed on
//! a missing positive receipt (020, legacy standards). They stay in `journal list --unanswered`.

use super::generate::Engine;
use crate::error::{Error, Result};
use crate::journal::{Filter, Journal};
use crate::model::Kind;
use crate::reliable::resend::{self, Asked, Held, Resend, Unanswered};
use chrono::{DateTime, Utc};
use serde::Serialize;

/// What a run did with one overdue letter.
#[derive(Clone, Debug, Serialize)]
pub struct Due {
    /// The transmission that is overdue (the letter's newest handed over).
    pub message_id: i64,
    pub result_id: String,
    pub letter_id: String,
    pub transmission: u32,
    /// When its last hand-over finished (RFC 3339, UTC).
    pub handed_over_at: String,
    pub outcome: DueOutcome,
    /// The resend made: its message id and transmission number.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub resend_id: Option<i64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub resend_transmission: Option<u32>,
    /// Why it was not resent, in words (CPR numbers never: the reasons name ids and rules).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub reason: Option<String>,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum DueOutcome {
    /// Resent: the new transmission is queued for `send`.
    Resent,
    /// Due, and the policy leaves the resend to a person (`unanswered = "manual"`).
    Due,
    /// Sent as often as the policy allows: in the work queue for a person (`unanswered_limit`).
    Limit,
    /// Another process resent or answered it meanwhile: nothing to do.
    Skipped,
    /// It could not be resent (its stored bytes are damaged, ...): the reason says why.
    Failed,
}

/// Finds the CareCommunications unanswered at `now` by `journal`'s resend policy and resends
/// (or lists) each. Journal errors end the run (what was resent before them is recorded); a
/// letter that cannot be resent is reported and the rest go on.
pub fn run(engine: &Engine, journal: &mut Journal, now: DateTime<Utc>) -> Result<Vec<Due>> {
    let policy = journal.resend_policy();
    let by = super::period::stored(now.checked_sub_signed(policy.wait()).unwrap_or(DateTime::<Utc>::MIN_UTC));
    let filter = Filter { kinds: vec![Kind::GpCareCommunication], ..Filter::default() };
    let mut done = vec![];
    for u in journal.unanswered_where(&by, &filter)? {
        let m = u.message;
        let mut due = Due {
            message_id: m.id,
            result_id: m.result_id.clone(),
            letter_id: m.letter_id.clone(),
            transmission: m.transmission,
            handed_over_at: u.handed_over_at,
            outcome: DueOutcome::Due,
            resend_id: None,
            resend_transmission: None,
            reason: None,
        };
        // A person closed it ("phoned the GP"): not resent behind their back.
        if let Some(h) = journal.handled(m.id)? {
            due.outcome = DueOutcome::Skipped;
            due.reason = Some(format!("closed by {} at {}", h.by, h.at));
            done.push(due);
            continue;
        }
        let h = journal.letter_history(m.kind, &m.letter_id)?;
        let Some(of) = h.get(m.id) else { continue };
        match resend::resend(&h, of, Asked::Regenerate { now }) {
            Resend::Held(Held::Limit { sent, max_resends }) => {
                due.outcome = DueOutcome::Limit;
                due.reason = Some(resend::limit_reason(sent, max_resends));
            }
            Resend::Make { .. } if policy.unanswered == Unanswered::Manual => {
                due.reason = Some(
                    "the resend policy leaves resends after no answer to a person (`[resend] unanswered = \
                     \"manual\"`): `flspost regenerate ID`"
                        .into(),
                );
            }
            Resend::Make { .. } => match engine.resend_unless_handled(journal, &m.id.to_string()) {
                Ok(summary) => {
                    let new = summary.messages.first();
                    due.outcome = DueOutcome::Resent;
                    due.resend_id = new.map(|n| n.id);
                    due.resend_transmission = new.map(|n| n.transmission);
                }
                // Decided on this reading; under the write lock another run had resent it, or
                // an answer had come: the rule said no on the reading it was asked on then.
                Err(e @ (Error::Conflict(_) | Error::Usage(_))) => {
                    due.outcome = DueOutcome::Skipped;
                    due.reason = Some(e.to_string());
                }
                // This letter's own trouble (damaged bytes, a file it could not write): the
                // others go on. The journal's (busy, broken) ends the run.
                Err(e @ (Error::Damaged(_) | Error::Io { .. } | Error::Invalid { .. } | Error::Internal(_))) => {
                    due.outcome = DueOutcome::Failed;
                    due.reason = Some(e.to_string());
                }
                Err(e) => return Err(e),
            },
            // Anything else (answered, replaced, too early on this clock): not due after all.
            other => {
                due.outcome = DueOutcome::Skipped;
                due.reason = Some(format!("not due: {other:?}"));
            }
        }
        done.push(due);
    }
    Ok(done)
}
