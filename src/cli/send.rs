//! `flspost send`: every generated (or retry) message goes to the transport configured
//! for its kind; each attempt and its outcome is journaled before and after.

use super::{print_json, shown, Common};
use flspost::app::send::{send, Sent, StopKind, Stopped};
use flspost::error::Result;
use flspost::journal::{MessageRow, Status};

#[derive(clap::Args)]
pub struct Args {
    #[command(flatten)]
    common: Common,
}

pub fn run(args: Args) -> Result<i32> {
    let config = args.common.config()?;
    let mut journal = args.common.open_journal(&config, super::Use::Write)?;
    // Each letter is claimed and recorded in commits of its own: many of them.
    journal.set_many_commits();
    let report = send(&mut journal, &config, |sent| match sent {
        Sent::Damaged { message: m, reason } => {
            errln!("flspost: {reason}; not sent");
            print_json(&outcome_line(m, Status::Failed, Some(reason), Some("journal_damaged")));
        }
        Sent::Handed { message: m, status, reason, code } => {
            if let Some(r) = reason {
                errln!(
                    "flspost: message {} ({} {}): {}: {}",
                    m.id,
                    m.kind.code(),
                    m.letter_id,
                    status.code(),
                    shown(r)
                );
            }
            print_json(&outcome_line(m, status, reason, code));
        }
    })?;
    for stop in &report.stopped {
        if let StopKind::Held { replies, .. } = stop.kind {
            errln!(
                "flspost: held: {replies} identical permanent replies from {}: {}; {} more of its messages wait \
                 for the next `flspost send`",
                shown(&stop.transport),
                shown(&stop.reason),
                stop.waiting.len()
            );
        }
        if matches!(stop.kind, StopKind::Held { .. }) || !stop.waiting.is_empty() {
            print_json(&stopped_line(stop));
        }
    }
    let summary: Vec<String> = report.counts.iter().map(|(k, v)| format!("{v} {k}")).collect();
    errln!("flspost: {}", if summary.is_empty() { "nothing to send".to_string() } else { summary.join(", ") });
    Ok(if report.failed() { 1 } else { 0 })
}

/// The JSON line for one message's outcome; a reason from outside is masked. `code` names
/// why it is not `sent` (`smtp_permanent`, `transport_held`, ...), `null` when it is.
fn outcome_line(m: &MessageRow, status: Status, reason: Option<&str>, code: Option<&str>) -> serde_json::Value {
    serde_json::json!({
        "id": m.id,
        "result_id": m.result_id,
        "kind": m.kind,
        "letter_id": m.letter_id,
        "envelope_id": m.envelope_id,
        "status": status,
        "code": code,
        "reason": reason.map(flspost::support::redact::redact_cpr_like),
    })
}

/// The JSON line for a transport whose queue waits for the next `send`: `held` after a
/// streak of identical permanent replies, `paused` after a transient failure (printed when
/// messages were left waiting), naming the messages held and those not tried.
fn stopped_line(stop: &Stopped) -> serde_json::Value {
    let mut line = serde_json::json!({
        "outcome": match stop.kind { StopKind::Held { .. } => "held", StopKind::Failing => "paused" },
        "code": stop.code,
        "addressee": <&str>::from(stop.addressee),
        "transport": stop.transport,
        "reason": flspost::support::redact::redact_cpr_like(&stop.reason),
    });
    if let StopKind::Held { replies, receivers } = stop.kind {
        line["replies"] = replies.into();
        line["receivers"] = receivers.into();
        line["held"] = stop.held.clone().into();
    }
    line["waiting"] = stop.waiting.clone().into();
    line
}
