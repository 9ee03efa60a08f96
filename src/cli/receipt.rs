//! `flspost receipt FILE...`: validates MedCom receipts and marks the letters they answer.

use super::{print_json, shown, Common};
use flspost::error::Result;
use flspost::journal::ReceiptOutcome;
use flspost::usecase::receipt::{self, Applied};
use std::path::PathBuf;

#[derive(clap::Args)]
pub struct Args {
    /// Receipt files (XCTL01, XCTL02, XCTL03).
    #[arg(required = true, value_name = "FILE")]
    files: Vec<PathBuf>,
    #[command(flatten)]
    common: Common,
}

pub fn run(args: Args) -> Result<i32> {
    let config = args.common.config()?;
    let mut journal = args.common.open_journal(&config, super::Use::Write)?;
    let mut code = 0;
    for path in &args.files {
        let name = path.display();
        let (r, outcomes) = match receipt::apply(&mut journal, path)? {
            Applied::Applied { receipt, outcomes } => (receipt, outcomes),
            Applied::Unreadable(line) => {
                errln!("flspost: {}", shown(&line));
                code = code.max(1);
                continue;
            }
            Applied::NotAReceipt => {
                errln!("flspost: {name}: not a MedCom receipt (expected an Emessage in the 2005/08/07 namespace)");
                code = code.max(1);
                continue;
            }
            Applied::Invalid(problems) => {
                for p in problems {
                    errln!("flspost: {}", shown(&format!("{name}:{p}")));
                }
                code = code.max(1);
                continue;
            }
            Applied::Unparsable(e) => {
                errln!("flspost: {}", shown(&format!("{name}: {e}")));
                code = code.max(1);
                continue;
            }
        };
        for (letter, outcome) in outcomes {
            if outcome.needs_attention() {
                // One human line; stdout carries the same as JSON for programs.
                let letter = if letter.is_empty() { String::new() } else { format!(" letter {letter}") };
                errln!(
                    "flspost: {}",
                    shown(&format!(
                        "{name}: {} for envelope {}{letter}: {}: {}",
                        r.receipt_type.code(),
                        r.original_envelope_id,
                        outcome.code(),
                        describe(&outcome)
                    ))
                );
            }
            if outcome.not_applied() {
                code = code.max(1);
            }
            // Every string here comes from the receipt (or the caller's path): the refuse text
            // could quote a CPR number.
            let mut line = serde_json::json!({
                "file": path,
                "receipt": r.receipt_type,
                "original_envelope_id": r.original_envelope_id,
                "original_letter_id": letter,
                "result": outcome,
            });
            flspost::identifiers::redact_cpr_like_json(&mut line);
            print_json(&line);
        }
    }
    Ok(code)
}

/// What a receipt did, in words for the person reading stderr.
fn describe(outcome: &ReceiptOutcome) -> String {
    match outcome {
        ReceiptOutcome::Acknowledged { message_id } => format!("message {message_id} acknowledged"),
        ReceiptOutcome::Rejected { message_id, refuse_code, refuse_text } => format!(
            "message {message_id} rejected by the receiver{}{}",
            refuse_code.as_deref().map(|c| format!(", refuse code {c}")).unwrap_or_default(),
            refuse_text.as_deref().map(|t| format!(": {}", t.replace(['\n', '\r'], " "))).unwrap_or_default()
        ),
        ReceiptOutcome::Duplicate { .. } => "read before; nothing changed".to_string(),
        ReceiptOutcome::Unchanged { message_id, status } => {
            format!("message {message_id} is {} already; nothing changed", status.code())
        }
        ReceiptOutcome::Conflict { message_id, status } => format!(
            "contradicts an earlier receipt: message {message_id} stays {}; stored for a person to look at",
            status.code()
        ),
        ReceiptOutcome::NotSent { message_id, status } => format!(
            "message {message_id} was never handed over (it is {}): the receipt is stored, the letter left as it is",
            status.code()
        ),
        ReceiptOutcome::LetterMismatch { message_id, sent_letter_id } => format!(
            "that envelope (message {message_id}) carried letter {sent_letter_id}, not this one; stored for a person \
             to look at"
        ),
        ReceiptOutcome::EnvelopeReused { envelope_id, earlier_type, .. } => format!(
            "a receipt with envelope {envelope_id} for the same letter was read before as {earlier_type}; this one \
             is not applied or stored, for a person to look at"
        ),
        ReceiptOutcome::UnknownEnvelope => {
            "this journal sent no such envelope; stored for a person to look at".to_string()
        }
    }
}
