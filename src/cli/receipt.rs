//! `flspost receipt FILE...`: validates MedCom receipts and FHIR Acknowledgements and marks
//! the letters they answer.

use super::{print_json, shown, Common};
use flspost::app::receipt::{self, Applied};
use flspost::error::Result;
use flspost::journal::{AckOutcome, Journal, ReceiptOutcome};
use std::path::PathBuf;

#[derive(clap::Args)]
#[command(after_help = "A FHIR Acknowledgement (bare Bundle or in its VANSEnvelope) answers the CareCommunication \
whose MessageHeader.id its response.identifier names: ok -> acknowledged; fatal-error -> rejected with the \
OperationOutcome's code and text; transient-error -> that transmission failed and a resend (same MessageHeader.id, \
new Bundle.id) is queued for `flspost send`, at most 2 resends per message (MedCom). A resend is the stored \
message with a new Bundle.id and send times, as `flspost regenerate` makes it: today's config does not change it. \
One whose response.identifier is a Letter/Identifier of ours sent as XDIS91 (VANS forwarding it unconverted) \
is applied to that letter as the XCTL VANS converts it to: ok as XCTL03, an error as XCTL02 (docs/formats.md, \
Answers in the other format). Nothing is ever sent back: MedCom Acknowledgements are not acknowledged.")]
pub struct Args {
    /// Receipt files: MedCom XCTL01, XCTL02, XCTL03, and FHIR Acknowledgements, bare or in a VANSEnvelope.
    #[arg(required = true, value_name = "FILE")]
    files: Vec<PathBuf>,
    #[command(flatten)]
    common: Common,
}

pub fn run(args: Args) -> Result<i32> {
    let config = args.common.config()?;
    let mut journal = args.common.open_journal(&config, super::Use::Write)?;
    journal.refuse_own_files(args.files.iter().map(|p| p.as_path()))?;
    // A transient-error's resend is the stored message restamped: no templates or routing.
    let mut rebuild = receipt::resend;
    let mut code = 0;
    for path in &args.files {
        let name = path.display();
        let (r, outcomes) = match receipt::apply(&mut journal, path, &mut rebuild)? {
            Applied::Applied { receipt, outcomes } => (receipt, outcomes),
            Applied::Acknowledgement { ack, enveloped, outcome, answered_envelope, read_as } => {
                let kind = format!("FHIR {}", ack.code.code());
                // An answer to a letter sent as XDIS91 is named as that letter is (upper case).
                let letter =
                    if read_as.is_some() { ack.acknowledges.to_ascii_uppercase() } else { ack.acknowledges.clone() };
                // A queued resend (or why none is needed) is no one's problem, but says what the
                // next `send` does.
                if outcome.needs_attention()
                    || matches!(outcome, AckOutcome::ResendQueued { .. } | AckOutcome::ResendNotNeeded { .. })
                {
                    errln!(
                        "flspost: {}: {kind} Acknowledgement for letter {}: {}: {}",
                        shown(&name.to_string()),
                        id_shown(&journal, &letter)?,
                        outcome.code(),
                        shown(&match read_as {
                            Some(x) => format!("read as {x} (the letter went as XDIS91): {}", describe_ack(&outcome)),
                            None => describe_ack(&outcome),
                        })
                    );
                }
                if outcome.not_applied() {
                    code = code.max(1);
                }
                // Issue texts come from the receiver and could quote a CPR number; so could an
                // identifier that is not one of ours. (AckOutcome does not mask its own fields
                // when serialised, as ReceiptOutcome does: it is masked here, whole.)
                // A negative one read as XCTL02 is an XDIS91 letter's refusal, as the queue names it.
                let problem = match (&outcome, read_as) {
                    (AckOutcome::Rejected { .. }, Some(_)) => Some("xctl_refused"),
                    _ => outcome.problem_code(),
                };
                let mut line = serde_json::json!({
                    "file": file_shown(path),
                    "receipt": kind,
                    "code": problem,
                    "result": outcome,
                });
                flspost::support::redact::redact_cpr_like_json(&mut line);
                line["original_envelope_id"] = match answered_envelope.as_deref() {
                    Some(env) => id_shown(&journal, env)?.into(),
                    None => serde_json::Value::Null,
                };
                line["original_letter_id"] = id_shown(&journal, &letter)?.into();
                if let Some(x) = read_as {
                    line["read_as"] = x.into();
                }
                line["acknowledgement"] = serde_json::json!({
                    "bundle_id": id_shown(&journal, &ack.bundle_id)?,
                    "message_id": id_shown(&journal, &ack.message_id)?,
                    "code": ack.code.code(),
                    "sender_gln": ack.sender_gln,
                    "enveloped": enveloped,
                });
                if let AckOutcome::EnvelopeReused { envelope_id, .. } = &outcome {
                    line["result"]["envelope_id"] = id_shown(&journal, envelope_id)?.into();
                }
                print_json(&line);
                continue;
            }
            Applied::Unreadable(line) => {
                errln!("flspost: {}", shown(&line));
                print_json(&file_error(path, "receipt_unreadable", &line));
                code = code.max(1);
                continue;
            }
            Applied::NotAReceipt(what) => {
                let what = what.map(|w| format!(" (it is a {w})")).unwrap_or_default();
                let reason = format!(
                    "{name}: not a MedCom receipt or FHIR Acknowledgement{what}: expected an Emessage in the \
                     2005/08/07 namespace, or an Acknowledgement Bundle, bare or in a VANSEnvelope"
                );
                errln!("flspost: {}", shown(&reason));
                print_json(&file_error(path, "receipt_unrecognised", &reason));
                code = code.max(1);
                continue;
            }
            Applied::Invalid(problems) => {
                for p in &problems {
                    errln!("flspost: {}", shown(&format!("{name}:{p}")));
                }
                let all = problems.iter().map(|p| format!("{name}:{p}")).collect::<Vec<_>>().join("; ");
                print_json(&file_error(path, "receipt_invalid", &all));
                code = code.max(1);
                continue;
            }
            Applied::Unparsable(e) => {
                let reason = format!("{name}: {e}");
                errln!("flspost: {}", shown(&reason));
                print_json(&file_error(path, "receipt_unparsable", &reason));
                code = code.max(1);
                continue;
            }
        };
        for (letter, outcome) in outcomes {
            if outcome.needs_attention() {
                // One human line; stdout carries the same as JSON for programs.
                let letter =
                    if letter.is_empty() { String::new() } else { format!(" letter {}", id_shown(&journal, &letter)?) };
                errln!(
                    "flspost: {}",
                    shown(&format!(
                        "{name}: {} for envelope {}{letter}: {}: {}",
                        r.receipt_type.code(),
                        id_shown(&journal, &r.original_envelope_id)?,
                        outcome.code(),
                        describe(&outcome)
                    ))
                );
            }
            if outcome.not_applied() {
                code = code.max(1);
            }
            // The identifiers the receipt names are whole when they are ours; the outcome masks
            // what came from the receipt (refuse code and text, its own envelope) itself.
            let line = serde_json::json!({
                "file": file_shown(path),
                "receipt": r.receipt_type,
                "original_envelope_id": id_shown(&journal, &r.original_envelope_id)?,
                "original_letter_id": id_shown(&journal, &letter)?,
                "code": outcome.problem_code(),
                "result": outcome,
            });
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
            "a receipt with envelope {} for the same letter was read before as {earlier_type}; this one \
             is not applied or stored, for a person to look at",
            flspost::support::redact::redact_cpr_like_id(envelope_id)
        ),
        // MedCom's VANS conversion use cases 3.1.0 §4.5.1 and §4.1.2 (see reliable::conversion).
        ReceiptOutcome::UnknownEnvelope => "this journal sent no XDIS91 in such an envelope; stored for a person to \
            look at. If the GP takes only XDIS91, this may be a receipt VANS forwarded unconverted for one of our \
            CareCommunications (after its 3 months of waiting to merge receipts): it names the identifiers VANS \
            gave the converted XDIS91, which flspost never saw, so look for the CareCommunication to that GP"
            .to_string(),
    }
}

/// What an Acknowledgement did, in words for the person reading stderr.
fn describe_ack(outcome: &AckOutcome) -> String {
    let cancelled = |ids: &[i64]| match ids {
        [] => String::new(),
        ids => format!(
            "; its queued resend (message {}) is superseded",
            ids.iter().map(|i| i.to_string()).collect::<Vec<_>>().join(", message ")
        ),
    };
    match outcome {
        AckOutcome::Acknowledged { message_id, cancelled: c } => {
            format!("message {message_id} acknowledged{}", cancelled(c))
        }
        AckOutcome::Rejected { message_id, refuse_code, refuse_text, cancelled: c } => format!(
            "message {message_id} rejected by the receiver{}{}{}",
            refuse_code.as_deref().map(|c| format!(", code {c}")).unwrap_or_default(),
            refuse_text.as_deref().map(|t| format!(": {}", t.replace(['\n', '\r'], " "))).unwrap_or_default(),
            cancelled(c)
        ),
        AckOutcome::ResendQueued { message_id, resend_id, transmission } => format!(
            "message {message_id} failed; its resend, message {resend_id} (transmission {transmission}, same \
             MessageHeader.id, new Bundle.id), waits for `flspost send`"
        ),
        AckOutcome::ResendHeld { message_id, reason } => {
            format!("message {message_id} failed and is not resent: {}", reason.replace(['\n', '\r'], " "))
        }
        AckOutcome::ResendNotNeeded { message_id, reason } => {
            format!("message {message_id} failed; no resend is needed: {reason}")
        }
        AckOutcome::Duplicate { .. } => "read before; nothing changed".to_string(),
        AckOutcome::Unchanged { message_id, status } => {
            format!("the same answer again: message {message_id} is {} already; nothing changed", status.code())
        }
        AckOutcome::Conflict { message_id, status, contradicts, contradicts_status } => format!(
            "contradicts an earlier answer{}: message {message_id} stays {}; stored for a person to look at",
            match (contradicts, contradicts_status) {
                (Some(other), Some(s)) => format!(
                    " (message {other} is {}, another transmission of the same message: a verdict is never \
                     turned around)",
                    s.code()
                ),
                _ => String::new(),
            },
            status.code()
        ),
        AckOutcome::NotSent { message_id, status } => format!(
            "message {message_id} was never handed over (it is {}): the Acknowledgement is stored, the letter left \
             as it is",
            status.code()
        ),
        AckOutcome::UnknownLetter => {
            "this journal generated no CareCommunication with that MessageHeader.id; stored for a person to look at"
                .to_string()
        }
        AckOutcome::WrongSender { message_id, sender_gln, receiver_gln } => format!(
            "{}, but the letter (message {message_id}) was sent to GLN {receiver_gln}: only its receiver answers \
             it; stored, not applied, for a person to look at",
            match sender_gln {
                Some(g) => format!("sent by GLN {g}"),
                None => "its MessageHeader.sender names no Organization with a GLN".to_string(),
            }
        ),
        AckOutcome::EnvelopeMismatch { message_id, envelope_field, envelope_gln, expected_gln } => {
            let whose = if *envelope_field == "SenderID" {
                "the GP the letter was sent to"
            } else {
                "the letter's sender (us)"
            };
            format!(
                "came in a VANSEnvelope whose {envelope_field} {envelope_gln} is not GLN {expected_gln}, {whose} \
                 (message {message_id}): the envelope and the letter disagree; stored, not applied, for a person \
                 to look at"
            )
        }
        AckOutcome::EnvelopeReused { earlier_type, .. } => format!(
            "an Acknowledgement with the same Bundle.id and MessageHeader.id was read before as {earlier_type}; \
             this one is not applied or stored, for a person to look at"
        ),
    }
}

/// An identifier as printed: as it is only when it is one of this journal's own letter or
/// envelope identifiers (flspost derives them from digests, never from a CPR number, and
/// support needs them whole to find the letter). Being UUID-shaped proves nothing: a UUID's
/// hex can hold ten digits in a row, and a receiver's identifier, or one an Acknowledgement
/// names that is not ours, could carry a CPR number. Anything else has its CPR-like digit
/// runs masked ([`flspost::support::redact::redact_cpr_like_id`]).
fn id_shown(journal: &Journal, id: &str) -> Result<String> {
    if journal.is_own_identifier(id)? {
        Ok(id.to_string())
    } else {
        Ok(shown(&flspost::support::redact::redact_cpr_like_id(id)))
    }
}

/// The JSON line of a file that could not be read as a receipt at all: the whole-command
/// error line's shape (`{"outcome":"error","error":{...}}`) with the file it is about.
/// `code`: `receipt_unreadable`, `receipt_unrecognised`, `receipt_invalid` (every problem in
/// `reason`, `; ` between them), `receipt_unparsable`. Masked as every reason is.
fn file_error(path: &std::path::Path, code: &'static str, reason: &str) -> serde_json::Value {
    serde_json::json!({
        "file": file_shown(path),
        "outcome": "error",
        "error": {
            "code": code,
            "reason": flspost::support::redact::redact_cpr_like(&reason.replace('\n', " ")),
            "exit_code": 1,
        },
    })
}

/// The caller's file name as a JSON line carries it: CPR-like numbers masked (a file can be
/// named after a patient), and a name that is not UTF-8 shown lossily rather than failing.
fn file_shown(path: &std::path::Path) -> String {
    flspost::support::redact::redact_cpr_like(&path.to_string_lossy())
}
