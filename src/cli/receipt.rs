//! `flspost receipt FILE...`: validates MedCom receipts and marks the letters they answer.

use super::Common;
use flspost::error::Result;
use flspost::medcom::receipt;
use flspost::schema::{self, MessageKind};
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
    let mut journal = args.common.open_journal(&config)?;
    let mut code = 0;
    for path in &args.files {
        let name = path.display();
        let bytes = match schema::read_message(path) {
            Ok(b) => b,
            Err(line) => {
                eprintln!("flspost: {line}");
                code = 2;
                continue;
            }
        };
        let kind = schema::root_of(&bytes).and_then(|r| schema::detect(&r));
        if kind != Some(MessageKind::Receipt) {
            eprintln!("flspost: {name}: not a MedCom receipt (expected an Emessage in the 2005/08/07 namespace)");
            code = code.max(1);
            continue;
        }
        if let Err(problems) = schema::validate(MessageKind::Receipt, &bytes) {
            for p in problems {
                eprintln!("flspost: {name}:{p}");
            }
            code = code.max(1);
            continue;
        }
        let r = match receipt::parse(&bytes) {
            Ok(r) => r,
            Err(e) => {
                eprintln!("flspost: {name}: {e}");
                code = code.max(1);
                continue;
            }
        };
        for (letter, outcome) in journal.apply_receipt(&r, &bytes)? {
            if outcome.needs_attention() {
                eprintln!(
                    "flspost: {name}: {} for envelope {}{}: {}",
                    r.receipt_type.code(),
                    r.original_envelope_id,
                    if letter.is_empty() { String::new() } else { format!(" letter {letter}") },
                    flspost::identifiers::redact_cpr_like(&serde_json::to_string(&outcome).unwrap_or_default())
                );
            }
            if matches!(
                outcome,
                flspost::journal::ReceiptOutcome::UnknownEnvelope | flspost::journal::ReceiptOutcome::Conflict { .. }
            ) {
                code = code.max(1);
            }
            // The refuse text comes from the receiver's system: it could quote a CPR number.
            let line = serde_json::json!({
                "file": path,
                "receipt": r.receipt_type,
                "original_envelope_id": r.original_envelope_id,
                "original_letter_id": letter,
                "result": outcome,
            });
            println!("{}", flspost::identifiers::redact_cpr_like(&line.to_string()));
        }
    }
    Ok(code)
}
