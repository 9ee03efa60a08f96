//! Sending: every generated (or retry) message goes to the transport configured for its
//! addressee; each attempt and its outcome is journaled before and after.
//!
//! A failing transport is not a failing letter. A transient failure (a 4xx, a refused
//! connection, a timeout) pauses that transport's queue until the next run. Several identical
//! permanent replies in a row for different receivers hold it the same way ([`hold`]: the
//! streak rule, `[send] hold_after_identical_permanent`), instead of failing every letter.
//!
//! Statuses only move forward, so a permanent reply is not recorded `failed` before the
//! streak it belongs to is decided: its attempt is finished at once (`permanent`, with the
//! reply), and the message is `retry` with a reason saying it is not yet decided
//! ([`Journal::finish_attempt_provisionally`]). When the streak is decided (it reaches the
//! threshold, or ends short of it: another reply, a success, the end of the run) each of its
//! messages is settled in a transaction of its own: `failed` with its reply, or `retry`
//! held, with the reason naming the reply ([`Journal::settle_permanent`]). Provisional, not
//! moved back: `retry` to `failed` is forward, `failed` to `retry` would undo a verdict
//! support may already have acted on, and a `send` killed before its decision leaves
//! messages `retry`, every attempt finished, which the next `send` simply tries again (a
//! permanent reply handed nothing over: no envelope was taken, MedCom's resend count is
//! unchanged). Each message's line is reported when its state is final, so a message of a
//! streak is reported at the decision, after later messages of another transport.

use crate::app::config::Config;
use crate::error::{Error, Result};
use crate::journal::{AttemptOutcome, Claim, Journal, MessageRow, Settle, Status};
use crate::model::Addressee;
use crate::transport::{Outgoing, SendError, Transport};
use std::collections::BTreeMap;

pub mod hold;

/// What happened to one message that was due, reported as it happens.
pub enum Sent<'a> {
    /// Its stored bytes are damaged: marked `failed`, never handed over.
    Damaged { message: &'a MessageRow, reason: &'a str },
    /// Handed to its transport; `status` is where it stands now, `reason` the transport's
    /// words when it failed (or why it is held), `code` the failure's stable name
    /// (`smtp_permanent`, `smtp_transient`, `smtp_unknown`, `outbox_permanent`,
    /// `outbox_transient`, `transport_held`).
    Handed { message: &'a MessageRow, status: Status, reason: Option<&'a str>, code: Option<&'static str> },
}

/// Why a transport's queue stopped before its end in this run.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum StopKind {
    /// A transient or unknown outcome: the peer looks down (`paused`).
    Failing,
    /// A streak of identical permanent replies ([`hold`]): `replies` messages, for
    /// `receivers` different receivers.
    Held { replies: usize, receivers: usize },
}

/// A transport whose queue waits for the next `send`, and why.
#[derive(Debug, Clone)]
pub struct Stopped {
    pub addressee: Addressee,
    /// The transport as the journal's attempts name it (`smtp smtp://host:25`).
    pub transport: String,
    pub kind: StopKind,
    /// The reply or failure that stopped it, as the transport gave it (not masked).
    pub reason: String,
    /// Its stable name: `transport_held`, or the failure's (`smtp_transient`, ...).
    pub code: &'static str,
    /// The messages held by the streak (empty for a failing peer).
    pub held: Vec<i64>,
    /// The messages of its queue not tried in this run.
    pub waiting: Vec<i64>,
}

/// How many messages ended in each state (a status code, or why one is still waiting).
#[derive(Debug, Default)]
pub struct SendReport {
    pub counts: BTreeMap<&'static str, u32>,
    /// Each transport that stopped before the end of its queue, in the order they stopped.
    pub stopped: Vec<Stopped>,
}

impl SendReport {
    /// Whether any message failed or has to be retried.
    pub fn failed(&self) -> bool {
        self.counts.keys().any(|k| *k == "retry" || *k == "failed")
    }
}

/// How long `send` keeps trying to record the outcome of a hand-over that happened, past the
/// configured busy wait: giving up there would leave the attempt open, and the next `send`
/// would hand the message over again.
const RECORD_OUTCOME_FOR: std::time::Duration = std::time::Duration::from_secs(600);

/// Records a hand-over's outcome, waiting out a busy journal up to [`RECORD_OUTCOME_FOR`]
/// (the transport already acted: this is no longer a request a gateway can simply repeat).
/// Past it the error says so: the message may have been handed over, and the next `send`
/// hands it over again with the same envelope, as after a killed `send`.
fn record_outcome<T>(
    journal: &mut Journal,
    m: &MessageRow,
    mut record: impl FnMut(&mut Journal) -> Result<T>,
) -> Result<T> {
    // On a shared journal no longer than the claim holds for certain: past it another host
    // may take the hand-over over, and this one's outcome is the interrupted one's.
    let window = if journal.is_shared() { RECORD_OUTCOME_FOR.min(journal.lease() / 2) } else { RECORD_OUTCOME_FOR };
    let give_up = std::time::Instant::now() + window;
    loop {
        match record(journal) {
            Err(Error::Busy(_)) if std::time::Instant::now() < give_up => {
                std::thread::sleep(std::time::Duration::from_millis(50));
            }
            Err(Error::Busy(why)) => {
                return Err(Error::Unrecorded(format!(
                    "message {} was handed to its transport, but the journal stayed busy for {} s and its \
                     outcome is not recorded ({why}); the next `flspost send` hands it over again with the \
                     same envelope, which the receiver recognises",
                    m.id,
                    window.as_secs()
                )))
            }
            other => return other,
        }
    }
}

/// Sends every message waiting in `journal`, holding the send lock meanwhile. `each` hears
/// of every message that was handed over or found damaged, once its state is final.
pub fn send(journal: &mut Journal, config: &Config, mut each: impl FnMut(Sent<'_>)) -> Result<SendReport> {
    let _one_sender = journal.lock_for_sending()?;
    // One transport per addressee: the patient's takes their letter in whichever hand-off
    // it was built (a letter generated before the hospital changed hand-off goes as built).
    let mut transports: BTreeMap<Addressee, Box<dyn Transport>> = BTreeMap::new();
    for (to, cfg) in [(Addressee::Gp, &config.transport.gp), (Addressee::Patient, &config.transport.patient)] {
        if let Some(cfg) = cfg {
            // A transport its section cannot build (a bad URL, an unset password variable) is
            // the config's mistake: code `config`, naming the section.
            let open = cfg.open().map_err(|e| match e {
                Error::Usage(reason) => Error::Config {
                    path: config.source.clone().unwrap_or_default(),
                    reason: format!("[transport.{}] {reason}", <&str>::from(to)),
                },
                other => other,
            });
            transports.insert(to, open?);
        }
    }
    // On a shared journal a claim must outlast the longest hand-over and the wait to record
    // its outcome, or another host could take over one still under way.
    if journal.is_shared() {
        for (to, t) in &transports {
            if journal.lease() < 2 * t.longest_wait() + std::time::Duration::from_secs(5) {
                return Err(Error::Config {
                    path: config.source.clone().unwrap_or_default(),
                    reason: format!(
                        "[journal] lease_seconds = {} is too short for [transport.{}], which may take {} s for one \
                         hand-over: make it at least {} s",
                        journal.lease().as_secs(),
                        <&str>::from(*to),
                        t.longest_wait().as_secs(),
                        2 * t.longest_wait().as_secs() + 5
                    ),
                });
            }
        }
    }
    let pending = journal.pending()?;
    if !pending.is_empty() && transports.is_empty() {
        let why = match &config.source {
            None => "no config was given: name one with --config FILE or FLSPOST_CONFIG \
                     (samples/config-local.toml sends to outbox folders on this machine)"
                .to_string(),
            Some(file) => format!("the config {} has no [transport.gp] or [transport.patient]", file.display()),
        };
        return Err(Error::Usage(format!("{} messages are waiting, but {why}", pending.len())));
    }
    let max_attempts = config.send.max_attempts;
    let threshold = config.send.hold_after_identical_permanent as usize;
    let mut report = SendReport::default();
    // After a transient failure the peer is likely down, and after a streak of identical
    // permanent replies the transport is: leave its other messages queued for the next run
    // instead of waiting out a timeout, or failing a letter, for each.
    let mut stopped: BTreeMap<Addressee, usize> = BTreeMap::new();
    let mut streaks: BTreeMap<Addressee, hold::Streak> = BTreeMap::new();
    // The transports that took a letter in this run: a letter held before that is refused
    // again after that fails on its own (see `hold`).
    let mut took: std::collections::BTreeSet<Addressee> = std::collections::BTreeSet::new();
    for m in pending {
        let to = m.kind.addressee();
        let Some(t) = transports.get_mut(&to) else {
            *report.counts.entry("waiting (no transport configured)").or_default() += 1;
            continue;
        };
        if let Some(&i) = stopped.get(&to) {
            let stop = &mut report.stopped[i];
            stop.waiting.push(m.id);
            let label = match stop.kind {
                StopKind::Failing => "waiting (peer failing)",
                StopKind::Held { .. } => "waiting (transport held)",
            };
            *report.counts.entry(label).or_default() += 1;
            continue;
        }
        // Only the bytes that were validated and hashed when built are handed over.
        let bytes = match journal.verified_bytes(&m) {
            Ok(b) => b,
            Err(Error::Damaged(reason)) => {
                journal.fail_damaged(m.id, &reason)?;
                *report.counts.entry(Status::Failed.code()).or_default() += 1;
                each(Sent::Damaged { message: &m, reason: &reason });
                continue;
            }
            Err(e) => return Err(e),
        };
        // Checked again at the moment of the hand-over: the queue was read before.
        let (attempt_id, m) = match journal.claim(&m, &t.describe())? {
            Claim::Taken(id, m) => (id, m),
            Claim::Gone => {
                *report.counts.entry("skipped (changed meanwhile)").or_default() += 1;
                continue;
            }
            Claim::HeldBy(_) => {
                *report.counts.entry("skipped (another send is handing it over)").or_default() += 1;
                continue;
            }
        };

        let out = Outgoing {
            kind: m.kind,
            bytes: &bytes,
            letter_id: &m.letter_id,
            envelope_id: m.envelope_id.as_deref(),
            transmission: m.transmission,
        };
        let result = t.send(&out);
        let (kind, describe) = (t.kind(), t.describe());
        if result.is_ok() {
            took.insert(to);
        }
        let streak_rule = threshold > 0 && !(hold::was_held(&m) && took.contains(&to));
        if let (Err(e @ SendError::Permanent(reply)), true) = (&result, streak_rule) {
            let key = hold::normalise(reply, &m);
            // Another reply ends the streak before it starts one of its own.
            if let Some(s) = streaks.remove(&to) {
                if s.key == key {
                    streaks.insert(to, s);
                } else {
                    settle_failed(journal, s, kind, &mut report, &mut each)?;
                }
            }
            let provisional = hold::provisional_reason(reply);
            record_outcome(journal, &m, |j| j.finish_attempt_provisionally(attempt_id, &m, reply, &provisional))?;
            let receiver = journal.receiver_of(&m)?;
            let streak = streaks.entry(to).or_insert_with(|| hold::Streak::new(key, reply));
            streak.push(m, reply.clone(), receiver);
            if streak.receivers() >= threshold {
                let streak = streaks.remove(&to).expect("just added");
                let (replies, receivers) = (streak.messages.len(), streak.receivers());
                let reason = hold::held_reason(replies, receivers, &describe, &streak.reply);
                let mut held = vec![];
                for p in &streak.messages {
                    let how = Settle::Held(reason.clone());
                    let status = record_outcome(journal, &p.message, |j| j.settle_permanent(p.message.id, &how))?;
                    *report.counts.entry(status.code()).or_default() += 1;
                    held.push(p.message.id);
                    let code = Some(if status == Status::Retry { "transport_held" } else { e.code(kind) });
                    each(Sent::Handed { message: &p.message, status, reason: Some(&reason), code });
                }
                stopped.insert(to, report.stopped.len());
                report.stopped.push(Stopped {
                    addressee: to,
                    transport: describe,
                    kind: StopKind::Held { replies, receivers },
                    reason: streak.reply,
                    code: "transport_held",
                    held,
                    waiting: vec![],
                });
            }
            continue;
        }
        // Any other outcome ends the transport's streak: its letters failed on their own.
        if let Some(s) = streaks.remove(&to) {
            settle_failed(journal, s, kind, &mut report, &mut each)?;
        }
        let code = result.as_ref().err().map(|e| e.code(kind));
        let outcome = match result {
            Ok(()) => AttemptOutcome::Sent,
            Err(SendError::Transient(r)) => AttemptOutcome::Transient(r),
            Err(SendError::Permanent(r)) => AttemptOutcome::Permanent(r),
            Err(SendError::Unknown(r)) => AttemptOutcome::Unknown(r),
        };
        let status = record_outcome(journal, &m, |j| j.finish_attempt(attempt_id, &m, &outcome, max_attempts))?;
        *report.counts.entry(status.code()).or_default() += 1;
        let reason = match &outcome {
            AttemptOutcome::Sent => None,
            AttemptOutcome::Transient(r) | AttemptOutcome::Permanent(r) | AttemptOutcome::Unknown(r) => {
                Some(r.as_str())
            }
        };
        if let (AttemptOutcome::Transient(r) | AttemptOutcome::Unknown(r), Some(code)) = (&outcome, code) {
            stopped.insert(to, report.stopped.len());
            report.stopped.push(Stopped {
                addressee: to,
                transport: describe,
                kind: StopKind::Failing,
                reason: r.clone(),
                code,
                held: vec![],
                waiting: vec![],
            });
        }
        each(Sent::Handed { message: &m, status, reason, code });
    }
    // A streak still short of the threshold when the queue ends: its letters' own failures.
    for (to, s) in std::mem::take(&mut streaks) {
        let kind = transports.get(&to).map_or("transport", |t| t.kind());
        settle_failed(journal, s, kind, &mut report, &mut each)?;
    }
    Ok(report)
}

/// Settles a streak that ended short of the threshold: each of its messages `failed` with
/// its own reply, as a permanent reply fails a letter without the streak rule.
fn settle_failed(
    journal: &mut Journal,
    streak: hold::Streak,
    kind: &str,
    report: &mut SendReport,
    each: &mut impl FnMut(Sent<'_>),
) -> Result<()> {
    let code = SendError::Permanent(String::new()).code(kind);
    for p in &streak.messages {
        let how = Settle::Failed(p.reply.clone());
        let status = record_outcome(journal, &p.message, |j| j.settle_permanent(p.message.id, &how))?;
        *report.counts.entry(status.code()).or_default() += 1;
        each(Sent::Handed { message: &p.message, status, reason: Some(&p.reply), code: Some(code) });
    }
    Ok(())
}
