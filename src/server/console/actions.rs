//! The operator's acts: resend (one message, or the queue's selected ones), re-route to the
//! other GP format, mark handled with a note (one, or the selected), and correct the stored
//! input (edited in the page, checked by the same contract as `generate`'s, sent as a
//! correction). Each passes the session, CSRF and role check first; each is the app's use case
//! as `regenerate` and `journal handle` run it, and each is recorded in the audit log.

use super::{message_id, render, v, who};
use crate::server::auth::Signed;
use crate::server::fail::Fail;
use crate::server::form::Form;
use crate::server::state::Shared;
use axum::extract::{Path, State};
use axum::http::HeaderMap;
use axum::response::Html;
use flspost::app::generate::{Engine, Outcome, Summary};
use flspost::app::users::Role;
use flspost::error::{Error, Result};
use flspost::journal::Journal;
use flspost::support::person::Actor;
use flspost::support::redact::redact_cpr_like;

/// What one act did to one message, for the page that reports it.
#[derive(serde::Serialize)]
struct Done {
    key: String,
    ok: bool,
    text: String,
    /// The message it made, to open next.
    made: Option<i64>,
}

fn done_of(key: &str, r: Result<Summary>) -> Done {
    match r {
        Ok(s) if s.outcome != Outcome::Error => {
            let made = s.messages.first().map(|m| m.id);
            let text = match (&s.outcome, s.messages.first()) {
                (Outcome::Regenerated, Some(m)) => {
                    format!(
                        "resent as message {} (transmission {}); the next `send` hands it over",
                        m.id, m.transmission
                    )
                }
                (_, Some(m)) => format!(
                    "{}: message {} ({})",
                    serde_json::to_value(s.outcome)
                        .ok()
                        .and_then(|v| v.as_str().map(str::to_string))
                        .unwrap_or_default(),
                    m.id,
                    m.kind.code()
                ),
                _ => "nothing new was made".to_string(),
            };
            Done { key: key.to_string(), ok: true, text, made }
        }
        Ok(s) => Done {
            key: key.to_string(),
            ok: false,
            text: s.error.map(|e| e.reason).unwrap_or_else(|| "refused".into()),
            made: None,
        },
        Err(e) => Done {
            key: key.to_string(),
            ok: false,
            text: e.to_string().trim_start_matches("usage: ").to_string(),
            made: None,
        },
    }
}

fn engine(state: &Shared) -> Result<Engine> {
    Engine::from_config(&state.config, None)
}

/// Runs `act` on message `key` and records it in the audit log as `action` with its outcome.
fn act(j: &mut Journal, by: &Actor, action: &str, key: &str, r: Result<Summary>) -> Result<Done> {
    let d = done_of(key, r);
    let detail = if d.ok { d.text.clone() } else { format!("refused: {}", d.text) };
    flspost::app::audit::record(j, by, action, &format!("message {key}"), Some(&detail))?;
    Ok(Done { text: redact_cpr_like(&d.text), ..d })
}

async fn report(state: &Shared, s: &Signed, title: &str, done: Vec<Done>) -> std::result::Result<Html<String>, Fail> {
    render(state, "done.html", minijinja::context! { who => who(s), title => title, done => v(&done) })
}

/// The most problems one bulk form acts on.
const MAX_BULK: usize = 500;

/// The queue's bulk form: `action` resend or handle, over the checked `id`s.
pub async fn bulk(
    State(state): State<Shared>,
    s: Signed,
    headers: HeaderMap,
    body: axum::body::Bytes,
) -> std::result::Result<Html<String>, Fail> {
    let form = Form::parse(&body);
    s.may_change(&headers, &form, Role::Operator)?;
    let mut keys = form.all("id");
    keys.sort();
    keys.dedup();
    if keys.is_empty() {
        return Err(Fail::App(Error::Usage("select at least one problem in the queue".into())));
    }
    // One form's worth: the work (and the journal's write lock) a request can cause is bounded.
    if keys.len() > MAX_BULK {
        return Err(Fail::App(Error::Usage(format!(
            "at most {MAX_BULK} problems at once ({} selected): narrow the queue's filters",
            keys.len()
        ))));
    }
    match form.get("action") {
        Some("resend") => resend_keys(&state, &s, keys).await,
        Some("handle") => handle_keys(&state, &s, keys, form.get("note").unwrap_or("")).await,
        _ => Err(Fail::App(Error::Usage("choose resend or mark handled".into()))),
    }
}

async fn resend_keys(state: &Shared, s: &Signed, keys: Vec<String>) -> std::result::Result<Html<String>, Fail> {
    let (st, by) = (state.clone(), s.actor());
    let done = state
        .journal(move |j| {
            let e = engine(&st)?;
            let mut out = vec![];
            for key in &keys {
                if key.starts_with(['R', 'r']) {
                    out.push(Done {
                        key: key.clone(),
                        ok: false,
                        text: "a refused input is corrected at its sender, not resent".into(),
                        made: None,
                    });
                    continue;
                }
                let r = e.regenerate(j, key, None);
                out.push(act(j, &by, "resend", key, r)?);
            }
            Ok(out)
        })
        .await?;
    report(state, s, "Resend", done).await
}

async fn handle_keys(
    state: &Shared,
    s: &Signed,
    keys: Vec<String>,
    note: &str,
) -> std::result::Result<Html<String>, Fail> {
    let (by, note) = (s.actor(), note.to_string());
    let outcomes = state.journal(move |j| flspost::app::queue::handle_by(j, &keys, &note, &by)).await?;
    let done = outcomes
        .into_iter()
        .map(|o| Done { ok: o.outcome == "handled", text: o.outcome.replace('-', " "), key: o.key, made: None })
        .collect();
    report(state, s, "Marked handled", done).await
}

pub async fn resend(
    State(state): State<Shared>,
    s: Signed,
    Path(id): Path<String>,
    headers: HeaderMap,
    body: axum::body::Bytes,
) -> std::result::Result<Html<String>, Fail> {
    s.may_change(&headers, &Form::parse(&body), Role::Operator)?;
    resend_keys(&state, &s, vec![message_id(&id)?.to_string()]).await
}

pub async fn handle_one(
    State(state): State<Shared>,
    s: Signed,
    Path(id): Path<String>,
    headers: HeaderMap,
    body: axum::body::Bytes,
) -> std::result::Result<Html<String>, Fail> {
    let form = Form::parse(&body);
    s.may_change(&headers, &form, Role::Operator)?;
    handle_keys(&state, &s, vec![message_id(&id)?.to_string()], form.get("note").unwrap_or("")).await
}

pub async fn reroute(
    State(state): State<Shared>,
    s: Signed,
    Path(id): Path<String>,
    headers: HeaderMap,
    body: axum::body::Bytes,
) -> std::result::Result<Html<String>, Fail> {
    s.may_change(&headers, &Form::parse(&body), Role::Operator)?;
    let key = message_id(&id)?.to_string();
    let (st, by) = (state.clone(), s.actor());
    let d = state
        .journal(move |j| {
            let r = engine(&st)?.reroute(j, &key);
            act(j, &by, "reroute", &key, r)
        })
        .await?;
    report(&state, &s, "Re-route", vec![d]).await
}

/// The stored input in an editor: it holds the CPR number, so opening it is recorded as the
/// command line's `journal show --input` is. Operators only.
pub async fn correct_form(
    State(state): State<Shared>,
    s: Signed,
    Path(id): Path<String>,
) -> std::result::Result<Html<String>, Fail> {
    if !s.is_operator() {
        return Err(Fail::Forbidden("correcting an input needs the operator role".into()));
    }
    let id = message_id(&id)?;
    let by = s.actor();
    let text = state
        .journal(move |j| {
            let st = flspost::app::export::stored(j, &id.to_string(), flspost::app::export::Part::Input)?;
            flspost::app::export::record_by(j, &st, "the console's correction form", &by)?;
            String::from_utf8(st.bytes).map_err(|_| Error::Usage("the stored input is not UTF-8 text".into()))
        })
        .await?;
    render(
        &state,
        "correct.html",
        minijinja::context! { who => who(&s), title => format!("Correct message {id}"), id => id, input => text },
    )
}

/// The edited input, checked by the input contract and sent as a correction of message `id`
/// (`regenerate ID --input`): an unchanged one is a plain resend, under MedCom's rules.
pub async fn correct(
    State(state): State<Shared>,
    s: Signed,
    Path(id): Path<String>,
    headers: HeaderMap,
    body: axum::body::Bytes,
) -> std::result::Result<Html<String>, Fail> {
    let form = Form::parse(&body);
    s.may_change(&headers, &form, Role::Operator)?;
    let key = message_id(&id)?.to_string();
    let text = form.get("input").unwrap_or("").replace("\r\n", "\n");
    let (st, by) = (state.clone(), s.actor());
    let d = state
        .journal(move |j| {
            let origin = format!("console correction of message {key} by {}", by.name);
            let r = engine(&st)?.regenerate(j, &key, Some((origin, text)));
            act(j, &by, "correct", &key, r)
        })
        .await?;
    report(&state, &s, "Correction", vec![d]).await
}
