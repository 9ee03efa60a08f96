//! A message's page: its status and reason with the cause and what to do, the letter as its
//! reader sees it (the patient's PDF in the page; the GP's XDIS91 or CareCommunication as
//! text), the stored input, every hand-over and answer, the letters it replaces or was
//! regenerated as, and the downloads of what is stored. CPR numbers in all of it are masked;
//! the patient's number is shown on a person's request (a POST with the CSRF token), which the
//! audit log records first. The PDF shown and every download are recorded too.

use super::{message_id, render, v, who};
use crate::server::auth::Signed;
use crate::server::fail::Fail;
use crate::server::form::Form;
use crate::server::state::Shared;
use axum::extract::{Path, State};
use axum::http::{header, HeaderMap};
use axum::response::{Html, IntoResponse, Response};
use flspost::app::export::{self, Part};
use flspost::app::users::Role;
use flspost::compose::Addressee;
use flspost::support::redact::redact_cpr_like;

/// The most of a stored text the page shows (a CareCommunication with its PDF attached is large).
const TEXT_SHOWN: usize = 256 * 1024;

fn text_of(bytes: &[u8]) -> String {
    // XDIS91 travels in ISO-8859-1, whose bytes are the first 256 code points.
    let text = match std::str::from_utf8(bytes) {
        Ok(t) => t.to_string(),
        Err(_) => bytes.iter().map(|&b| b as char).collect(),
    };
    let mut t = redact_cpr_like(&text);
    if t.len() > TEXT_SHOWN {
        let mut end = TEXT_SHOWN;
        while !t.is_char_boundary(end) {
            end -= 1;
        }
        t.truncate(end);
        t.push_str("\n… (the rest is in the download)");
    }
    t
}

async fn render_page(
    state: &Shared,
    s: &Signed,
    id: i64,
    reveal: bool,
    notice: Option<String>,
) -> Result<Html<String>, Fail> {
    let now = flspost::support::clock::now();
    let by = s.actor();
    let page = state
        .journal(move |j| {
            let d = flspost::app::show::show(j, &id.to_string(), reveal)?;
            if reveal {
                flspost::app::show::record_reveal_by(j, id, &by)?;
            }
            let problem = flspost::app::queue::problem_of(j, &d.message, now)?;
            let pdf = flspost::app::show::pdf_message(j, &d.message)?;
            let text = match d.message.kind.addressee() {
                Addressee::Gp if d.message.pruned_at.is_none() => {
                    Some(export::stored(j, &id.to_string(), Part::Bytes).map(|s| text_of(&s.bytes)).unwrap_or_else(|e| e.to_string()))
                }
                _ => None,
            };
            let input = match export::stored(j, &id.to_string(), Part::Input) {
                Ok(s) => {
                    let v: serde_json::Value = serde_json::from_slice(&s.bytes).unwrap_or_default();
                    let pretty = serde_json::to_string_pretty(&v).unwrap_or_default();
                    redact_cpr_like(&pretty)
                }
                Err(e) => redact_cpr_like(&e.to_string()),
            };
            Ok(minijinja::context! {
                m => v(&d.message), format => d.message.kind.wire().label(), addressee => <&str>::from(d.message.kind.addressee()),
                attempts => v(&d.attempts), receipts => v(&d.receipts), answers => v(&d.letter_answers),
                regenerated_as => d.regenerated_as, handled => v(&d.handled), input_meta => minijinja::context! {
                    revision => d.input.revision, received_at => d.input.received_at, site => d.input.site, group => d.input.group },
                cpr => if reveal { d.cpr.as_str().map(str::to_string) } else { None },
                problem => v(&problem), pdf => pdf, text => text, input => input,
            })
        })
        .await?;
    render(
        state,
        "message.html",
        minijinja::context! { who => who(s), title => format!("Message {id}"), id => id, notice => notice, ..page },
    )
}

pub async fn page(State(state): State<Shared>, s: Signed, Path(id): Path<String>) -> Result<Html<String>, Fail> {
    render_page(&state, &s, message_id(&id)?, false, None).await
}

/// The page with the patient's CPR number shown: recorded in the audit log before it is.
pub async fn reveal(
    State(state): State<Shared>,
    s: Signed,
    Path(id): Path<String>,
    headers: HeaderMap,
    body: axum::body::Bytes,
) -> Result<Html<String>, Fail> {
    s.may_change(&headers, &Form::parse(&body), Role::Viewer)?;
    let id = message_id(&id)?;
    state.log.event("reveal-cpr", &[("user", s.user.name.clone()), ("message_id", id.to_string())]);
    render_page(&state, &s, id, true, Some("The CPR number is shown; this is recorded in the audit log.".into())).await
}

/// `part` of message `id`, recorded in the audit log as `to` says, answered as `disposition`.
async fn stored(
    state: &Shared,
    s: &Signed,
    id: i64,
    part: Part,
    to: &'static str,
    disposition: &str,
) -> Result<Response, Fail> {
    let by = s.actor();
    let st = state
        .journal(move |j| {
            let st = export::stored(j, &id.to_string(), part)?;
            export::record_by(j, &st, to, &by)?;
            Ok(st)
        })
        .await?;
    state.log.event(part.action(), &[("user", s.user.name.clone()), ("message_id", id.to_string())]);
    let (ctype, ext) = match part {
        Part::Pdf => ("application/pdf", "pdf"),
        Part::Input => ("application/json", "json"),
        Part::Bytes if st.message.kind.addressee() == Addressee::Gp && st.message.kind.code() == "gp-xdis91" => {
            ("application/xml", "xml")
        }
        Part::Bytes => ("application/xml", "xml"),
    };
    // Named by the message's id, never by anything of the patient's.
    let name = format!(
        "message-{id}-{}.{ext}",
        match part {
            Part::Pdf => "letter",
            Part::Input => "input",
            Part::Bytes => "bytes",
        }
    );
    Ok((
        [
            (header::CONTENT_TYPE, ctype.to_string()),
            (header::CONTENT_DISPOSITION, format!("{disposition}; filename=\"{name}\"")),
        ],
        st.bytes,
    )
        .into_response())
}

/// The patient's letter as a PDF, for the page's frame: it holds the name and address, not
/// the CPR number; shown to anyone signed in, and recorded.
pub async fn pdf(State(state): State<Shared>, s: Signed, Path(id): Path<String>) -> Result<Response, Fail> {
    stored(&state, &s, message_id(&id)?, Part::Pdf, "the console's message page", "inline").await
}

/// What is stored, as a file. The input and the message's bytes hold the CPR number: for
/// operators only.
pub async fn download(
    State(state): State<Shared>,
    s: Signed,
    Path((id, part)): Path<(String, String)>,
) -> Result<Response, Fail> {
    let part = match part.as_str() {
        "pdf" => Part::Pdf,
        "input" => Part::Input,
        "bytes" => Part::Bytes,
        other => return Err(Fail::NotFound(format!("`{other}`: a download is pdf, input or bytes"))),
    };
    if part != Part::Pdf && !s.is_operator() {
        return Err(Fail::Forbidden("the stored input and bytes hold the CPR number: operators only".into()));
    }
    stored(&state, &s, message_id(&id)?, part, "a console download", "attachment").await
}
