//! `flspost send`: every generated (or retry) message goes to the transport configured
//! for its kind; each attempt and its outcome is journaled before and after.

use super::{print_json, shown, Common};
use flspost::app::send::{send, Sent};
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
    let report = send(&mut journal, &config, |sent| match sent {
        Sent::Damaged { message: m, reason } => {
            errln!("flspost: {reason}; not sent");
            print_json(&outcome_line(m, Status::Failed, Some(reason)));
        }
        Sent::Handed { message: m, status, reason } => {
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
            print_json(&outcome_line(m, status, reason));
        }
    })?;
    let summary: Vec<String> = report.counts.iter().map(|(k, v)| format!("{v} {k}")).collect();
    errln!("flspost: {}", if summary.is_empty() { "nothing to send".to_string() } else { summary.join(", ") });
    Ok(if report.failed() { 1 } else { 0 })
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
        "reason": reason.map(flspost::support::redact::redact_cpr_like),
    })
}
