//! The support work queue: every problem that needs a person (`journal queue`), a summary of
//! the journal's state (`journal summary`), and a person closing problems (`journal handle`).
//! What each problem's cause is and what to do about it is MedCom's and flspost's rule
//! ([`crate::reliable::cause`]); which rows there are is the journal's ([`Journal`]).

use crate::app::period;
use crate::error::{Error, Result};
use crate::journal::{Filter, Handled, Journal, QueuedMessage, RefusedRow, TransportHealth};
use crate::model::{Kind, Status};
use crate::reliable::cause::{self, Cause, Facts};
use crate::reliable::resend::{self, Asked, Held, Resend};
use chrono::{DateTime, Duration, Utc};
use serde::Serialize;
use std::collections::BTreeMap;

/// Where a problem stands.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum State {
    /// Needs a person.
    Open,
    /// A person closed it (`journal handle`).
    Handled,
    /// Closed by itself: its resend or correction was sent or answered, or a later input for
    /// the result was recorded.
    Resolved,
    /// Its resend or correction has a problem of its own, which the queue lists instead.
    Continued,
}

/// One problem in the queue.
#[derive(Clone, Debug, Serialize)]
pub struct Problem {
    /// What `journal handle` and `journal show` take: a message id (`17`), or `R` and a
    /// refused input's id (`R3`).
    pub key: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub message_id: Option<i64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub refused_id: Option<i64>,
    pub result_id: Option<String>,
    /// The message's kind; `input` for a refused input (as `journal list` says).
    #[serde(serialize_with = "kind_or_input")]
    pub kind: Option<Kind>,
    /// The message's status, `refused` for an input, `sent` for one waiting for an answer.
    pub status: &'static str,
    pub cause: String,
    pub action: &'static str,
    pub state: State,
    /// The reason as recorded (a server's reply, a refuse text): masked for CPR numbers.
    #[serde(serialize_with = "crate::support::redact::serialize_redacted")]
    pub reason: String,
    /// When it became a problem (RFC 3339, UTC): the message's last change, the input's arrival,
    /// the last hand-over of a letter waiting for its answer.
    pub since: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub cpr_masked: Option<String>,
    /// The transport of the last hand-over attempt.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub transport: Option<String>,
    /// The message that resends or corrects this one, or the input that closed a refused one.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub followed_by: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub handled: Option<Handled>,
}

fn kind_or_input<S: serde::Serializer>(kind: &Option<Kind>, s: S) -> std::result::Result<S::Ok, S::Error> {
    s.serialize_str(kind.map(|k| k.code()).unwrap_or("input"))
}

/// What the queue reads.
#[derive(Clone, Debug, Default)]
pub struct Query {
    pub filter: Filter,
    /// Also the problems already closed (handled, resolved, continued).
    pub closed_too: bool,
    /// Only causes that start with this (`smtp_permanent`, `xctl_refused`, `input_refused/gp`).
    pub cause: Option<String>,
    /// A GP letter counts as unanswered this long after its last hand-over.
    pub unanswered_after: Option<Duration>,
}

/// The queue: open problems first (oldest first: they have waited longest), then, when asked,
/// the closed ones (newest first).
pub fn queue(journal: &Journal, q: &Query, now: DateTime<Utc>) -> Result<Vec<Problem>> {
    let mut problems: Vec<Problem> = journal.problem_messages(&q.filter)?.iter().filter_map(of_message).collect();
    if q.filter.statuses.is_empty() || q.filter.statuses.contains(&Status::Sent) {
        let after = q.unanswered_after.unwrap_or(journal.resend_policy().wait());
        let by = period::stored(now.checked_sub_signed(after).unwrap_or(DateTime::<Utc>::MIN_UTC));
        for u in journal.unanswered_where(&by, &q.filter)? {
            let m = &u.message;
            let handled = u.handled.clone();
            let (c, reason) = match tried_to_the_limit(journal, m)? {
                Some(tried) => (cause::unanswered_limit(), tried),
                None if m.kind == Kind::GpXdis91 => {
                    (cause::unanswered_xdis91(), "no XCTL receipt since its hand-over".to_string())
                }
                None => (cause::unanswered(), "no receipt or Acknowledgement since its hand-over".to_string()),
            };
            problems.push(Problem {
                key: m.id.to_string(),
                message_id: Some(m.id),
                refused_id: None,
                result_id: Some(m.result_id.clone()),
                kind: Some(m.kind),
                status: "sent",
                cause: c.code,
                action: c.action,
                state: if handled.is_some() { State::Handled } else { State::Open },
                reason,
                since: u.handed_over_at.clone(),
                cpr_masked: Some(m.cpr_masked.clone()),
                transport: None,
                followed_by: None,
                handled,
            });
        }
    }
    problems.extend(journal.refused_where(&q.filter)?.iter().map(of_input));
    problems.retain(|p| q.closed_too || p.state == State::Open);
    if let Some(prefix) = &q.cause {
        problems.retain(|p| p.cause.starts_with(prefix.as_str()));
    }
    problems.sort_by(|a, b| match (a.state == State::Open, b.state == State::Open) {
        (true, true) => a.since.cmp(&b.since).then((a.message_id, a.refused_id).cmp(&(b.message_id, b.refused_id))),
        (false, false) => b.since.cmp(&a.since),
        (open, _) => open.cmp(&false).reverse(),
    });
    Ok(problems)
}

/// For a CareCommunication the resend policy allows no more resends of ([`resend::resend`]
/// says `Limit`): what was tried, in words (each transmission and when it was handed over).
/// `None` while a resend is still allowed, and for an XDIS91 letter (MedCom sets it no limit).
fn tried_to_the_limit(journal: &Journal, m: &crate::journal::MessageRow) -> Result<Option<String>> {
    if m.kind != Kind::GpCareCommunication {
        return Ok(None);
    }
    let h = journal.letter_history(m.kind, &m.letter_id)?;
    let Some(of) = h.get(m.id) else { return Ok(None) };
    // Asked as the timer would ask, once the wait is over: only the limit holds it then.
    let later = of.handed_over_at.map(|at| at + h.policy.wait()).unwrap_or_else(Utc::now);
    let Resend::Held(Held::Limit { sent, max_resends }) = resend::resend(&h, of, Asked::Regenerate { now: later })
    else {
        return Ok(None);
    };
    let local = |t: DateTime<Utc>| t.with_timezone(&chrono_tz::Europe::Copenhagen).format("%Y-%m-%d %H:%M").to_string();
    let each: Vec<String> = h
        .transmissions
        .iter()
        .filter(|t| t.handed_over)
        .map(|t| match t.handed_over_at {
            Some(at) => format!("transmission {} (message {}) at {}", t.number, t.message_id, local(at)),
            None => format!("transmission {} (message {})", t.number, t.message_id),
        })
        .collect();
    Ok(Some(format!(
        "sent {sent} times, no receipt or Acknowledgement: {}; the resend policy allows {max_resends} resends",
        each.join(", ")
    )))
}

fn of_message(q: &QueuedMessage) -> Option<Problem> {
    let m = &q.message;
    let facts = Facts {
        status: m.status,
        reason: m.reason.as_deref(),
        refuse_code: m.refuse_code.as_deref(),
        last_attempt: q.last_attempt.as_ref().map(|(o, t)| (o.as_str(), t.as_str())),
    };
    let Cause { code, action } = cause::of_message(&facts)?;
    let state = match (&q.handled, q.next) {
        (Some(_), _) => State::Handled,
        (None, Some((_, Status::Sent | Status::Acknowledged))) => State::Resolved,
        // Its resend has a problem of its own (listed itself); a resend superseded by this
        // letter's own answer leaves the problem here.
        (None, Some((_, Status::Failed | Status::Rejected | Status::Retry))) => State::Continued,
        _ => State::Open,
    };
    Some(Problem {
        key: m.id.to_string(),
        message_id: Some(m.id),
        refused_id: None,
        result_id: Some(m.result_id.clone()),
        kind: Some(m.kind),
        status: m.status.code(),
        cause: code,
        action,
        state,
        reason: m.reason.clone().unwrap_or_default(),
        since: m.updated_at.clone(),
        cpr_masked: Some(m.cpr_masked.clone()),
        transport: q.last_attempt.as_ref().map(|(_, t)| t.clone()),
        followed_by: q.next.map(|(id, status)| format!("message {id} ({})", status.code())),
        handled: q.handled.clone(),
    })
}

fn of_input(r: &RefusedRow) -> Problem {
    let c = cause::of_refused_input(&r.field, r.input_len);
    Problem {
        key: r.label(),
        message_id: None,
        refused_id: Some(r.id),
        result_id: r.result_id.clone(),
        kind: None,
        status: "refused",
        cause: c.code,
        action: c.action,
        state: match (r.handled_at.is_some(), r.closed_by) {
            (true, _) => State::Handled,
            (false, Some(_)) => State::Resolved,
            (false, None) => State::Open,
        },
        reason: format!("{}: {}: {}", r.source, r.field, r.reason),
        since: r.received_at.clone(),
        cpr_masked: None,
        transport: None,
        followed_by: r.closed_by.map(|i| format!("input {i}")),
        handled: r.handled_at.clone().map(|at| Handled {
            at,
            by: r.handled_by.clone().unwrap_or_default(),
            note: r.handled_note.clone().unwrap_or_default(),
        }),
    }
}

/// The journal at a glance.
#[derive(Clone, Debug, Serialize)]
pub struct Summary {
    /// The period counted (RFC 3339, UTC), when one was asked for.
    pub since: Option<String>,
    pub until: Option<String>,
    pub by_status: BTreeMap<&'static str, i64>,
    pub by_kind: BTreeMap<&'static str, i64>,
    /// Problems per cause: open, handled, resolved (by themselves).
    pub problems: BTreeMap<String, CauseCount>,
    pub open_problems: u64,
    pub transports: Vec<TransportHealth>,
    /// The message waiting longest to be sent.
    pub oldest_waiting: Option<Waiting>,
    pub refused_inputs_today: u64,
    pub unanswered: u64,
    /// Minutes the GP letter waiting longest for its answer has waited.
    pub longest_unanswered_minutes: Option<i64>,
}

#[derive(Clone, Debug, Default, Serialize)]
pub struct CauseCount {
    pub open: u64,
    pub handled: u64,
    pub resolved: u64,
    /// What to do about it (the same for every problem of the cause).
    pub action: &'static str,
}

#[derive(Clone, Debug, Serialize)]
pub struct Waiting {
    pub message_id: i64,
    pub created_at: String,
}

pub fn summary(journal: &Journal, q: &Query, now: DateTime<Utc>) -> Result<Summary> {
    let (statuses, kinds) = journal.message_counts(&q.filter)?;
    let all = queue(journal, &Query { closed_too: true, ..q.clone() }, now)?;
    let mut problems: BTreeMap<String, CauseCount> = BTreeMap::new();
    for p in &all {
        let c = problems.entry(p.cause.clone()).or_default();
        c.action = p.action;
        match p.state {
            State::Open => c.open += 1,
            State::Handled => c.handled += 1,
            State::Resolved | State::Continued => c.resolved += 1,
        }
    }
    let today = period::stored(period::parse("today", period::End::Start, now)?);
    let refused_today = journal.refused_where(&Filter { since: Some(today), ..Filter::default() })?.len() as u64;
    let waiting = |p: &&Problem| matches!(p.cause.as_str(), "unanswered" | "unanswered_xdis91");
    let unanswered: Vec<&Problem> = all.iter().filter(|p| waiting(p) && p.state == State::Open).collect();
    let longest = unanswered
        .iter()
        .filter_map(|p| DateTime::parse_from_rfc3339(&p.since).ok())
        .map(|t| (now - t.to_utc()).num_minutes())
        .max();
    Ok(Summary {
        since: q.filter.since.clone(),
        until: q.filter.until.clone(),
        by_status: statuses.into_iter().map(|(s, n)| (s.code(), n)).collect(),
        by_kind: kinds.into_iter().map(|(k, n)| (k.code(), n)).collect(),
        open_problems: all.iter().filter(|p| p.state == State::Open).count() as u64,
        problems,
        transports: journal.transport_health(q.filter.since.as_deref(), q.filter.until.as_deref())?,
        oldest_waiting: journal.oldest_waiting()?.map(|(message_id, created_at)| Waiting { message_id, created_at }),
        refused_inputs_today: refused_today,
        unanswered: unanswered.len() as u64,
        longest_unanswered_minutes: longest,
    })
}

/// What `journal handle` did with one key.
#[derive(Clone, Debug, Serialize)]
pub struct HandleOutcome {
    pub key: String,
    /// `handled`, or `already-handled` (nothing changed).
    pub outcome: &'static str,
}

/// A person closes the problems named by `keys` (`17`, `R3`) with `note`: each recorded with
/// who and when, and in the audit log, in one transaction. A key that names no problem (a
/// message sent and answered) is refused before anything is written.
pub fn handle(journal: &mut Journal, keys: &[String], note: &str, who: &str) -> Result<Vec<HandleOutcome>> {
    handle_by(journal, keys, note, &crate::support::person::Actor { name: who.to_string(), origin: None })
}

/// [`handle`] for `by` (a console user, from their client's address).
pub fn handle_by(
    journal: &mut Journal,
    keys: &[String],
    note: &str,
    by: &crate::support::person::Actor,
) -> Result<Vec<HandleOutcome>> {
    let who = by.name.as_str();
    if note.trim().is_empty() {
        return Err(Error::Usage("--note: say why the problem is closed (it is kept with who and when)".into()));
    }
    enum Target {
        Message(i64),
        Refused(i64),
    }
    let mut targets = vec![];
    for key in keys {
        let target = if key.starts_with(['R', 'r']) {
            let n = crate::journal::parse_refused_label(key)
                .ok_or_else(|| Error::Usage(format!("`{key}`: not a refused input (R and a number)")))?;
            Target::Refused(n)
        } else {
            let id: i64 = key
                .parse()
                .map_err(|_| Error::Usage(format!("`{key}`: expected a message id (17) or a refused input (R3)")))?;
            let m = journal.message(id)?.ok_or_else(|| Error::Usage(format!("no message {id} in the journal")))?;
            if matches!(m.status, Status::Generated | Status::Acknowledged | Status::Superseded) {
                return Err(Error::Usage(format!(
                    "message {id} is {}: not a problem to close (a failed, rejected, retrying or unanswered one is)",
                    m.status.code()
                )));
            }
            Target::Message(id)
        };
        targets.push((key.clone(), target));
    }
    journal.write(|w| {
        let mut out = vec![];
        for (key, target) in &targets {
            let (done, what) = match target {
                Target::Message(id) => (w.handle_message(*id, who, note)?, format!("message {id}")),
                Target::Refused(id) => (w.handle_refused(*id, who, note)?, format!("refused {id}")),
            };
            if done {
                // The audit log never holds a CPR number: a note naming one is kept masked there.
                let note = crate::support::redact::redact_cpr_like(note);
                w.audit_from(who, by.origin.as_deref(), "handle", &what, Some(&note))?;
            }
            out.push(HandleOutcome { key: key.clone(), outcome: if done { "handled" } else { "already-handled" } });
        }
        Ok(out)
    })
}

/// Message `m`'s problem in the queue (open or closed), if it has one: its cause, what to do,
/// where it stands.
pub fn problem_of(journal: &Journal, m: &crate::journal::MessageRow, now: DateTime<Utc>) -> Result<Option<Problem>> {
    let q = Query {
        filter: Filter { result_prefix: Some(m.result_id.clone()), ..Filter::default() },
        closed_too: true,
        ..Query::default()
    };
    Ok(queue(journal, &q, now)?.into_iter().find(|p| p.message_id == Some(m.id)))
}
