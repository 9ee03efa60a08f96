//! `flspost send`: every generated (or retry) message goes to the transport configured
//! for its kind; each attempt and its outcome is journaled before and after.

use super::{print_json, Common};
use flspost::compose::Addressee;
use flspost::error::{Error, Result};
use flspost::journal::Outcome;
use flspost::transport::{self, Outgoing, SendError, Transport};
use std::collections::{BTreeMap, HashSet};

#[derive(clap::Args)]
pub struct Args {
    #[command(flatten)]
    common: Common,
}

pub fn run(args: Args) -> Result<i32> {
    let config = args.common.config()?;
    let mut journal = args.common.open_journal(&config)?;
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
        return Err(Error::Usage(format!(
            "{} messages are waiting, but the config has no [transport.gp] or [transport.patient]",
            pending.len()
        )));
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
        let bytes = journal.message_bytes(m.id)?;
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
            let r = flspost::identifiers::redact_cpr_like(r);
            eprintln!("flspost: message {} ({} {}): {}: {r}", m.id, m.kind.code(), m.letter_id, status.code());
        }
        print_json(&serde_json::json!({
            "id": m.id,
            "result_id": m.result_id,
            "kind": m.kind,
            "letter_id": m.letter_id,
            "envelope_id": m.envelope_id,
            "status": status,
            "reason": reason.as_deref().map(flspost::identifiers::redact_cpr_like),
        }));
    }
    let summary: Vec<String> = counts.iter().map(|(k, v)| format!("{v} {k}")).collect();
    eprintln!("flspost: {}", if summary.is_empty() { "nothing to send".to_string() } else { summary.join(", ") });
    let failed = counts.keys().any(|k| *k == "retry" || *k == "failed");
    Ok(if failed { 1 } else { 0 })
}
