//! `flspost send`: every generated (or retry) message goes to the transport configured
//! for its kind; each attempt and its outcome is journaled before and after.

use super::{print_json, shown, Common};
use flspost::compose::Addressee;
use flspost::error::{Error, Result};
use flspost::journal::{MessageRow, Outcome, Status};
use flspost::transport::{self, Outgoing, SendError, Transport};
use std::collections::{BTreeMap, HashSet};

#[derive(clap::Args)]
pub struct Args {
    #[command(flatten)]
    common: Common,
}

pub fn run(args: Args) -> Result<i32> {
    let config = args.common.config()?;
    let mut journal = args.common.open_journal(&config, super::Use::Write)?;
    let _one_sender = journal.lock_for_sending()?;
    // One transport per addressee: the patient's takes their letter in whichever hand-off
    // it was built (a letter generated before the hospital changed hand-off goes as built).
    let mut transports: BTreeMap<Addressee, Box<dyn Transport>> = BTreeMap::new();
    for (to, cfg) in [(Addressee::Gp, &config.transport.gp), (Addressee::Patient, &config.transport.patient)] {
        if let Some(cfg) = cfg {
            transports.insert(to, transport::from_config(cfg)?);
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
    let mut counts: BTreeMap<&str, u32> = BTreeMap::new();
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
                errln!("flspost: {reason}; not sent");
                print_json(&outcome_line(&m, Status::Failed, Some(&reason)));
                continue;
            }
            Err(e) => return Err(e),
        };
        let attempt_id = journal.start_attempt(&m, &t.describe())?;
        let out = Outgoing {
            kind: m.kind,
            bytes: &bytes,
            letter_id: &m.letter_id,
            envelope_id: m.envelope_id.as_deref(),
            attempt: m.attempt,
        };
        let outcome = match t.send(&out) {
            Ok(()) => Outcome::Sent,
            Err(SendError::Transient(r)) => {
                paused.insert(m.kind.addressee());
                Outcome::Transient(r)
            }
            Err(SendError::Permanent(r)) => Outcome::Permanent(r),
        };
        let status = journal.finish_attempt(attempt_id, &m, &outcome, max_attempts)?;
        *counts.entry(status.code()).or_default() += 1;
        let reason = match &outcome {
            Outcome::Sent => None,
            Outcome::Transient(r) | Outcome::Permanent(r) => Some(r.clone()),
        };
        if let Some(r) = &reason {
            errln!("flspost: message {} ({} {}): {}: {}", m.id, m.kind.code(), m.letter_id, status.code(), shown(r));
        }
        print_json(&outcome_line(&m, status, reason.as_deref()));
    }
    let summary: Vec<String> = counts.iter().map(|(k, v)| format!("{v} {k}")).collect();
    errln!("flspost: {}", if summary.is_empty() { "nothing to send".to_string() } else { summary.join(", ") });
    let failed = counts.keys().any(|k| *k == "retry" || *k == "failed");
    Ok(if failed { 1 } else { 0 })
}

/// The JSON line for one message's outcome; a reason from outside is masked.
fn outcome_line(m: &MessageRow, status: Status, reason: Option<&str>) -> serde_json::Value {
    serde_json::json!({
        "id": m.id,
        "result_id": m.result_id,
        "kind": m.kind,
        "letter_id": m.letter_id,
        "envelope_id": m.envelope_id,
        "status": status,
        "reason": reason.map(flspost::identifiers::redact_cpr_like),
    })
}
