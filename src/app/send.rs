//! Sending: every generated (or retry) message goes to the transport configured for its
//! addressee; each attempt and its outcome is journaled before and after.

use crate::app::config::Config;
use crate::error::{Error, Result};
use crate::journal::{Journal, MessageRow, AttemptOutcome, Status};
use crate::model::Addressee;
use crate::transport::{Outgoing, SendError, Transport};
use std::collections::{BTreeMap, HashSet};

/// What happened to one message that was due, reported as it happens.
pub enum Sent<'a> {
    /// Its stored bytes are damaged: marked `failed`, never handed over.
    Damaged { message: &'a MessageRow, reason: &'a str },
    /// Handed to its transport; `status` is where it stands now, `reason` the transport's
    /// words when it failed.
    Handed { message: &'a MessageRow, status: Status, reason: Option<&'a str> },
}

/// How many messages ended in each state (a status code, or why one is still waiting).
#[derive(Debug, Default)]
pub struct SendReport {
    pub counts: BTreeMap<&'static str, u32>,
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
fn record_outcome(
    journal: &mut Journal,
    attempt_id: i64,
    m: &MessageRow,
    outcome: &AttemptOutcome,
    max_attempts: u32,
) -> Result<Status> {
    let give_up = std::time::Instant::now() + RECORD_OUTCOME_FOR;
    loop {
        match journal.finish_attempt(attempt_id, m, outcome, max_attempts) {
            Err(Error::Busy(_)) if std::time::Instant::now() < give_up => {
                std::thread::sleep(std::time::Duration::from_millis(50));
            }
            Err(Error::Busy(why)) => {
                return Err(Error::Unrecorded(format!(
                    "message {} was handed to its transport, but the journal stayed busy for {} s and its \
                     outcome is not recorded ({why}); the next `flspost send` hands it over again with the \
                     same envelope, which the receiver recognises",
                    m.id,
                    RECORD_OUTCOME_FOR.as_secs()
                )))
            }
            other => return other,
        }
    }
}

/// Sends every message waiting in `journal`, holding the send lock meanwhile. `each` hears
/// of every message that was handed over or found damaged, in order.
pub fn send(journal: &mut Journal, config: &Config, mut each: impl FnMut(Sent<'_>)) -> Result<SendReport> {
    let _one_sender = journal.lock_for_sending()?;
    // One transport per addressee: the patient's takes their letter in whichever hand-off
    // it was built (a letter generated before the hospital changed hand-off goes as built).
    let mut transports: BTreeMap<Addressee, Box<dyn Transport>> = BTreeMap::new();
    for (to, cfg) in [(Addressee::Gp, &config.transport.gp), (Addressee::Patient, &config.transport.patient)] {
        if let Some(cfg) = cfg {
            transports.insert(to, cfg.open()?);
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
    let mut report = SendReport::default();
    let counts = &mut report.counts;
    // After a transient failure the peer is likely down: leave its other messages queued
    // for the next run instead of waiting out a timeout for each.
    let mut paused: HashSet<Addressee> = HashSet::new();
    for m in pending {
        let Some(t) = transports.get_mut(&m.kind.addressee()) else {
            *counts.entry("waiting (no transport configured)").or_default() += 1;
            continue;
        };
        if paused.contains(&m.kind.addressee()) {
            *counts.entry("waiting (peer failing)").or_default() += 1;
            continue;
        }
        // Only the bytes that were validated and hashed when built are handed over.
        let bytes = match journal.verified_bytes(&m) {
            Ok(b) => b,
            Err(Error::Damaged(reason)) => {
                journal.fail_damaged(m.id, &reason)?;
                *counts.entry(Status::Failed.code()).or_default() += 1;
                each(Sent::Damaged { message: &m, reason: &reason });
                continue;
            }
            Err(e) => return Err(e),
        };
        // Checked again at the moment of the hand-over: the queue was read before.
        let Some((attempt_id, m)) = journal.claim(&m, &t.describe())? else {
            *counts.entry("skipped (changed meanwhile)").or_default() += 1;
            continue;
        };
        let out = Outgoing {
            kind: m.kind,
            bytes: &bytes,
            letter_id: &m.letter_id,
            envelope_id: m.envelope_id.as_deref(),
            attempt: m.attempt,
        };
        let outcome = match t.send(&out) {
            Ok(()) => AttemptOutcome::Sent,
            Err(SendError::Transient(r)) => {
                paused.insert(m.kind.addressee());
                AttemptOutcome::Transient(r)
            }
            Err(SendError::Permanent(r)) => AttemptOutcome::Permanent(r),
            Err(SendError::Unknown(r)) => {
                paused.insert(m.kind.addressee());
                AttemptOutcome::Unknown(r)
            }
        };
        let status = record_outcome(journal, attempt_id, &m, &outcome, max_attempts)?;
        *counts.entry(status.code()).or_default() += 1;
        let reason = match &outcome {
            AttemptOutcome::Sent => None,
            AttemptOutcome::Transient(r) | AttemptOutcome::Permanent(r) | AttemptOutcome::Unknown(r) => Some(r.as_str()),
        };
        each(Sent::Handed { message: &m, status, reason });
    }
    Ok(report)
}
