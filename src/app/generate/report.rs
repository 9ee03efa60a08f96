//! What `generate` and `regenerate` report per input (one JSON line each).

use super::decide::{current, Decision};
use super::output::heal_files;
use super::{Engine, Refused, Source, Task};
use crate::compose::{Addressee, Built, PDF_FILE_NAME};
use crate::error::Error;
use crate::input::InputError;
use crate::journal::Status;
use crate::journal::{MessageRow, Writer};
use crate::model::Kind;
use crate::model::Warning;
use serde::Serialize;
use std::path::PathBuf;

/// What happened to one input, as printed (one JSON line each).
#[derive(Clone, Debug, Serialize)]
pub struct Summary {
    /// Masked as on standard error: a file may be named after the patient.
    #[serde(serialize_with = "crate::support::redact::serialize_redacted")]
    pub source: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub line: Option<u64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub result_id: Option<String>,
    pub outcome: Outcome,
    #[serde(skip_serializing_if = "Option::is_none", serialize_with = "lossy_path")]
    pub dir: Option<PathBuf>,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub messages: Vec<MessageSummary>,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub warnings: Vec<Warning>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub error: Option<ErrorSummary>,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum Outcome {
    /// First messages for this result.
    Generated,
    /// Changed content for a known result: new letters replace the earlier ones.
    Corrected,
    /// Same result, same content: nothing new was made.
    Exists,
    /// A message rebuilt for resending.
    Regenerated,
    Error,
}

/// What this run did with a message of the result.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum MessageState {
    /// Made by this run.
    New,
    /// A correction did not change this message: the earlier one stands.
    Kept,
    /// The result was generated before with the same content.
    Existing,
}

#[derive(Clone, Debug, Serialize)]
pub struct MessageSummary {
    pub id: i64,
    pub kind: Kind,
    pub state: MessageState,
    #[serde(skip_serializing_if = "Option::is_none", serialize_with = "lossy_path")]
    pub path: Option<PathBuf>,
    #[serde(skip_serializing_if = "Option::is_none", serialize_with = "lossy_path")]
    pub pdf: Option<PathBuf>,
    pub letter_id: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub envelope_id: Option<String>,
    pub status_code: String,
    /// 1 for the letter's first transmission, +1 per regeneration (each a new envelope).
    #[serde(rename = "transmission")]
    pub transmission: u32,
    pub status: Status,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub replaces: Option<i64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub regenerated_from: Option<i64>,
}

/// A path as JSON text: one that is not UTF-8 (an `--out-dir` named so) with U+FFFD for what
/// is not, instead of failing the summary's serialisation after the work was recorded.
/// The summaries the pipeline prints, from what it recorded or found.
impl Engine {
    pub(crate) fn message_summary(&self, m: &MessageRow, state: MessageState) -> MessageSummary {
        let dir = self.result_dir(&m.result_id);
        MessageSummary {
            id: m.id,
            kind: m.kind,
            state,
            path: dir.as_ref().map(|d| d.join(m.kind.file_name())),
            pdf: dir.as_ref().filter(|_| m.kind.addressee() == Addressee::Patient).map(|d| d.join(PDF_FILE_NAME)),
            letter_id: m.letter_id.clone(),
            envelope_id: m.envelope_id.clone(),
            status_code: m.status_code.clone(),
            transmission: m.transmission,
            status: m.status,
            replaces: m.replaces,
            regenerated_from: m.regenerated_from,
        }
    }

    pub(super) fn summary_exists(&self, w: &Writer<'_>, task: &Task) -> Summary {
        let rid = &task.prepared.result.result_id;
        let Decision::Exists { messages } = &task.decision else { unreachable!("only for existing results") };
        let current = current(messages);
        // The output folder mirrors the journal: put back what is missing or altered. When
        // that fails the caller asked for files it does not get: a failure naming no file.
        if let Some(dir) = self.result_dir(rid) {
            if let Err(e) = heal_files(w, &dir, &current) {
                return Summary::failed(&task.source, Some(rid.clone()), &e);
            }
        }
        Summary {
            source: task.source.origin.clone(),
            line: task.source.line,
            result_id: Some(rid.clone()),
            outcome: Outcome::Exists,
            dir: self.result_dir(rid),
            messages: current.iter().map(|m| self.message_summary(m, MessageState::Existing)).collect(),
            warnings: vec![],
            error: None,
        }
    }

    pub(super) fn summary_built(
        &self,
        task: &Task,
        built: &[(Built, Option<i64>)],
        ids: &[i64],
        kept: &[MessageRow],
    ) -> Summary {
        let rid = &task.prepared.result.result_id;
        let dir = self.result_dir(rid);
        let mut messages: Vec<MessageSummary> = built
            .iter()
            .zip(ids)
            .map(|((b, replaces), id)| MessageSummary {
                id: *id,
                kind: b.kind,
                state: MessageState::New,
                path: dir.as_ref().map(|d| d.join(b.kind.file_name())),
                pdf: dir.as_ref().filter(|_| b.kind.addressee() == Addressee::Patient).map(|d| d.join(PDF_FILE_NAME)),
                letter_id: b.letter_id.clone(),
                envelope_id: b.envelope_id.clone(),
                status_code: b.status.code().to_string(),
                transmission: b.transmission,
                status: Status::Generated,
                replaces: *replaces,
                regenerated_from: None,
            })
            .collect();
        messages.extend(kept.iter().map(|m| self.message_summary(m, MessageState::Kept)));
        messages.sort_by_key(|m| m.kind);
        let corrected = built.iter().any(|(_, r)| r.is_some()) || !kept.is_empty();
        Summary {
            source: task.source.origin.clone(),
            line: task.source.line,
            result_id: Some(rid.clone()),
            outcome: if corrected { Outcome::Corrected } else { Outcome::Generated },
            dir,
            messages,
            warnings: built.iter().flat_map(|(b, _)| b.warnings.iter().cloned()).collect(),
            error: None,
        }
    }
}

fn lossy_path<S: serde::Serializer>(p: &Option<PathBuf>, s: S) -> Result<S::Ok, S::Error> {
    match p {
        Some(p) => s.serialize_str(&p.to_string_lossy()),
        None => s.serialize_none(),
    }
}

#[derive(Clone, Debug, Serialize)]
pub struct ErrorSummary {
    /// Both quote the input (a value, an unknown key), which can be a CPR number.
    #[serde(
        skip_serializing_if = "Option::is_none",
        serialize_with = "crate::support::redact::serialize_redacted_opt"
    )]
    pub field: Option<String>,
    /// A stable name of the kind of failure ([`Error::code`]): a gateway retries
    /// `journal_busy` and `conflict`, and hands the rest to a person.
    pub code: &'static str,
    #[serde(serialize_with = "crate::support::redact::serialize_redacted")]
    pub reason: String,
    pub exit_code: i32,
}

impl Summary {
    pub fn failed(source: &Source, result_id: Option<String>, e: &Error) -> Summary {
        Summary::failed_at(source.origin.clone(), source.line, result_id, e)
    }

    /// A failure of the input from `origin` (and `line`) with `e`.
    pub fn failed_at(origin: String, line: Option<u64>, result_id: Option<String>, e: &Error) -> Summary {
        let (field, reason) = match e {
            Error::Input(InputError { field, reason }) => (Some(field.clone()), reason.clone()),
            // libxml2's messages (a bug's report) quote values, which can be the CPR number.
            other => (None, crate::support::redact::redact_cpr_like(&other.to_string())),
        };
        Summary {
            source: origin,
            line,
            result_id,
            outcome: Outcome::Error,
            dir: None,
            messages: vec![],
            warnings: vec![],
            error: Some(ErrorSummary { field, code: e.code(), reason, exit_code: e.exit_code() }),
        }
    }

    /// The failure of a document whose file could not be read, if it is one.
    pub fn unreadable(source: &Source) -> Option<Summary> {
        let reason = source.read_error.as_ref()?;
        Some(Summary {
            source: source.origin.clone(),
            line: source.line,
            result_id: None,
            outcome: Outcome::Error,
            dir: None,
            messages: vec![],
            warnings: vec![],
            error: Some(ErrorSummary {
                field: None,
                code: "input_unreadable",
                reason: format!("cannot be read: {reason}"),
                exit_code: 1,
            }),
        })
    }

    /// A document that failed its checks (named by its result_id when that much parses).
    pub fn refused(source: &Source, r: Refused) -> Summary {
        Summary::failed(source, r.result_id, &Error::Input(r.error))
    }

    pub fn exit_code(&self) -> i32 {
        self.error.as_ref().map_or(0, |e| e.exit_code)
    }

    /// The one line a person reads on standard error for a failure.
    pub fn error_line(&self) -> Option<String> {
        let e = self.error.as_ref()?;
        // A person reading stderr may not know `-`: say where the input came from.
        let place = if self.source == "-" { "standard input: ".to_string() } else { format!("{}: ", self.source) };
        Some(match &e.field {
            Some(f) => format!("{place}{f}: {}", e.reason),
            None => format!("{place}{}", e.reason),
        })
    }
}
