//! Upload receipts and Acknowledgements (XCTL01/02/03, FHIR, bare or in a VANSEnvelope): each
//! file validated and applied exactly as `flspost receipt` does it, its outcome shown per
//! letter, and the upload recorded in the audit log. Operators only; the body is bounded by
//! `[server] max_body_kib`.

use super::{render, v, who};
use crate::server::auth::Signed;
use crate::server::fail::Fail;
use crate::server::form::Form;
use crate::server::state::Shared;
use axum::extract::{Multipart, State};
use axum::http::HeaderMap;
use axum::response::Html;
use flspost::app::receipt::{self, Applied};
use flspost::app::users::Role;
use flspost::error::Error;
use flspost::support::redact::redact_cpr_like;

/// The most files one upload applies.
const MAX_FILES: usize = 200;

pub async fn page(State(state): State<Shared>, s: Signed) -> Result<Html<String>, Fail> {
    if !s.is_operator() {
        return Err(Fail::Forbidden("uploading answers needs the operator role".into()));
    }
    render(&state, "upload.html", minijinja::context! { who => who(&s), title => "Upload answers" })
}

#[derive(serde::Serialize)]
struct FileOutcome {
    name: String,
    ok: bool,
    lines: Vec<String>,
}

fn describe(a: &Applied) -> (bool, Vec<String>) {
    match a {
        Applied::Unreadable(line) => (false, vec![line.clone()]),
        Applied::NotAReceipt(what) => (
            false,
            vec![format!(
                "not a receipt or Acknowledgement{}",
                what.as_ref().map(|w| format!(" (a {w})")).unwrap_or_default()
            )],
        ),
        Applied::Invalid(problems) => (false, problems.iter().take(20).map(|p| p.to_string()).collect()),
        Applied::Unparsable(why) => (false, vec![why.clone()]),
        Applied::Applied { receipt, outcomes } => (
            true,
            outcomes
                .iter()
                .map(|(letter, o)| {
                    format!(
                        "{:?} for letter {letter}: {}",
                        receipt.receipt_type,
                        serde_json::to_string(o).unwrap_or_else(|_| o.code().into())
                    )
                })
                .collect(),
        ),
        Applied::Acknowledgement { ack, outcome, .. } => (
            true,
            vec![format!(
                "FHIR {} Acknowledgement: {}",
                ack.code.code(),
                serde_json::to_string(outcome).unwrap_or_else(|_| outcome.code().into())
            )],
        ),
    }
}

pub async fn upload(
    State(state): State<Shared>,
    s: Signed,
    headers: HeaderMap,
    mut multipart: Multipart,
) -> Result<Html<String>, Fail> {
    // The CSRF token comes first in the form: nothing is read further before it is checked.
    let mut files: Vec<(String, Vec<u8>)> = vec![];
    let mut csrf = None;
    while let Some(field) = multipart.next_field().await.map_err(|e| Fail::App(Error::Usage(format!("upload: {e}"))))? {
        match field.name() {
            Some("csrf") => {
                csrf = Some(field.text().await.map_err(|e| Fail::App(Error::Usage(format!("upload: {e}"))))?)
            }
            Some("file") => {
                let pairs = [("csrf".to_string(), csrf.clone().unwrap_or_default())];
                s.may_change(&headers, &Form::from_pairs(pairs.to_vec()), Role::Operator)?;
                let name = field.file_name().unwrap_or("upload").to_string();
                let bytes = field.bytes().await.map_err(|e| Fail::App(Error::Usage(format!("upload: {e}"))))?;
                if !bytes.is_empty() {
                    files.push((name, bytes.to_vec()));
                }
                if files.len() > MAX_FILES {
                    return Err(Fail::App(Error::Usage(format!("at most {MAX_FILES} files in one upload"))));
                }
            }
            _ => {}
        }
    }
    s.may_change(&headers, &Form::from_pairs(vec![("csrf".into(), csrf.unwrap_or_default())]), Role::Operator)?;
    if files.is_empty() {
        return Err(Fail::App(Error::Usage("choose one or more receipt or Acknowledgement files".into())));
    }
    let by = s.actor();
    let outcomes = state
        .journal(move |j| {
            let dir = tempfile::tempdir().map_err(|e| Error::Internal(format!("upload: a scratch folder: {e}")))?;
            let mut rebuild = receipt::resend;
            let mut out = vec![];
            for (n, (name, bytes)) in files.into_iter().enumerate() {
                // Named by its place, not by the sender's name (which can say anything).
                let path = dir.path().join(format!("upload-{n}"));
                flspost::support::files::write_new(&path, &bytes).map_err(|e| Error::io(&path, e))?;
                let applied = receipt::apply(j, &path, &mut rebuild)?;
                let (ok, lines) = describe(&applied);
                let shown = redact_cpr_like(&name);
                let detail = format!(
                    "{shown}: {} bytes (sha256 {}): {}",
                    bytes.len(),
                    flspost::support::digest::sha256_hex(&bytes),
                    lines.join("; ")
                );
                flspost::app::audit::record(j, &by, "upload", "answers", Some(&detail))?;
                out.push(FileOutcome {
                    name: shown,
                    ok,
                    lines: lines
                        .iter()
                        .map(|l| redact_cpr_like(&l.replace(&path.display().to_string(), "the file")))
                        .collect(),
                });
            }
            Ok(out)
        })
        .await?;
    render(
        &state,
        "upload.html",
        minijinja::context! { who => who(&s), title => "Upload answers", outcomes => v(&outcomes) },
    )
}
