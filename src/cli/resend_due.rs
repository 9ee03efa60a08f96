//! `flspost resend-due`: the CareCommunications whose Acknowledgement is overdue by the resend
//! policy, resent (queued for `send`) or listed for a person; one JSON line each. For a timer:
//! `flspost resend-due && flspost send`.

use super::{print_json, shown, Common};
use flspost::app::generate::Engine;
use flspost::app::resend_due::{run as resend_due, DueOutcome};
use flspost::error::Result;

#[derive(clap::Args)]
pub struct Args {
    #[command(flatten)]
    common: Common,
}

pub fn run(args: Args) -> Result<i32> {
    let config = args.common.config()?;
    let engine = Engine::from_config(&config, None)?;
    let mut journal = args.common.open_journal(&config, super::Use::Write)?;
    let policy = journal.resend_policy();
    let done = resend_due(&engine, &mut journal, flspost::support::clock::now())?;
    let count = |o: DueOutcome| done.iter().filter(|d| d.outcome == o).count();
    for d in &done {
        print_json(d);
        if let (DueOutcome::Limit | DueOutcome::Failed, Some(reason)) = (d.outcome, &d.reason) {
            errln!("flspost: message {} (letter {}): {}", d.message_id, d.letter_id, shown(reason));
        }
    }
    errln!(
        "flspost: resend-due ({} minutes, at most {} resends, {}): {} resent, {} due for a person, {} at the \
         limit, {} skipped, {} failed",
        policy.after_minutes,
        policy.max_resends,
        policy.unanswered.code(),
        count(DueOutcome::Resent),
        count(DueOutcome::Due),
        count(DueOutcome::Limit),
        count(DueOutcome::Skipped),
        count(DueOutcome::Failed)
    );
    Ok(if count(DueOutcome::Failed) > 0 { 1 } else { 0 })
}
