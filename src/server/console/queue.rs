//! The work queue: every open problem (or, with "all", the closed too), filtered by status,
//! cause, GP, kind and time; a patient's problems found by CPR number through a POST, so the
//! number is never in a URL, a log line or the browser's history. Operators get a checkbox per
//! message and the bulk acts (resend the selected, mark them handled with a note).

use super::{render, v, who};
use crate::server::auth::Signed;
use crate::server::fail::Fail;
use crate::server::form::Form;
use crate::server::state::Shared;
use axum::extract::{RawQuery, State};
use axum::response::Html;
use flspost::app::period::{self, End};
use flspost::app::queue::{self, Query};
use flspost::error::{Error, Result};
use flspost::journal::Filter;
use flspost::model::{Kind, Status};

/// The filters as the form names them, read from a query string or a posted form.
#[derive(serde::Serialize, Default, Clone)]
pub struct Filters {
    pub status: Vec<String>,
    pub cause: String,
    pub gp: String,
    pub kind: String,
    pub since: String,
    pub until: String,
    pub all: bool,
}

impl Filters {
    pub fn read(f: &Form) -> Filters {
        let one = |k: &str| f.get(k).unwrap_or("").trim().to_string();
        Filters {
            status: f
                .all("status")
                .into_iter()
                .flat_map(|s| s.split(',').map(str::to_string).collect::<Vec<_>>())
                .filter(|s| !s.is_empty())
                .collect(),
            cause: one("cause"),
            gp: one("gp"),
            kind: one("kind"),
            since: one("since"),
            until: one("until"),
            all: f.get("all").is_some_and(|v| !v.is_empty()),
        }
    }

    pub fn query(&self, cpr: Option<String>, now: chrono::DateTime<chrono::Utc>) -> Result<Query> {
        let when = |t: &str, end: End, name: &str| -> Result<Option<String>> {
            if t.is_empty() {
                return Ok(None);
            }
            period::parse(t, end, now)
                .map(|t| Some(period::stored(t)))
                .map_err(|e| Error::Usage(format!("{name}: {}", e.to_string().trim_start_matches("usage: "))))
        };
        let statuses = self
            .status
            .iter()
            .map(|s| Status::from_code(s).ok_or_else(|| Error::Usage(format!("status `{s}`: not a status"))))
            .collect::<Result<Vec<_>>>()?;
        let kinds = match self.kind.as_str() {
            "" => vec![],
            k => vec![Kind::from_code(k).ok_or_else(|| Error::Usage(format!("kind `{k}`: not a kind")))?],
        };
        Ok(Query {
            filter: Filter {
                statuses,
                kinds,
                gp: (!self.gp.is_empty()).then(|| self.gp.clone()),
                since: when(&self.since, End::Start, "since")?,
                until: when(&self.until, End::Until, "until")?,
                cpr,
                ..Filter::default()
            },
            closed_too: self.all,
            cause: (!self.cause.is_empty()).then(|| self.cause.clone()),
            unanswered_after: None,
        })
    }
}

pub async fn page(State(state): State<Shared>, s: Signed, RawQuery(q): RawQuery) -> Result<Html<String>, Fail> {
    let f = Filters::read(&Form::parse(q.unwrap_or_default().as_bytes()));
    show(&state, &s, f, None).await
}

/// A patient's problems: the CPR number arrives in the body, is checked, used and forgotten.
pub async fn search(State(state): State<Shared>, s: Signed, body: axum::body::Bytes) -> Result<Html<String>, Fail> {
    let form = Form::parse(&body);
    let f = Filters::read(&form);
    let digits: String = form.get("cpr").unwrap_or("").trim().chars().filter(|c| *c != '-').collect();
    if digits.is_empty() {
        return show(&state, &s, f, None).await;
    }
    let cpr = flspost::model::identifiers::Cpr::parse(&digits)
        .map(|c| c.expose().to_string())
        .map_err(|e| Fail::App(Error::Usage(format!("CPR number: {e}"))))?;
    // Who looked for which patient is kept, as a reveal is (masked: the audit log names no
    // one; `journal erase` empties it with the patient).
    let (by, masked) = (s.actor(), format!("{}-xxxx", &cpr[..6]));
    state.journal(move |j| flspost::app::audit::record(j, &by, "cpr-search", "console", Some(&masked))).await?;
    show(&state, &s, f, Some(cpr)).await
}

async fn show(state: &Shared, s: &Signed, f: Filters, cpr: Option<String>) -> Result<Html<String>, Fail> {
    let now = flspost::support::clock::now();
    let searched = cpr.is_some();
    let query = f.query(cpr, now)?;
    let problems = state.journal(move |j| queue::queue(j, &query, now)).await?;
    let statuses: Vec<&str> = Status::ALL.iter().map(|s| s.code()).collect();
    let kinds: Vec<&str> = Kind::ALL.iter().map(|k| k.code()).collect();
    render(
        state,
        "queue.html",
        minijinja::context! {
            who => who(s), title => "Work queue", problems => v(&problems), filters => v(&f),
            statuses => statuses, kinds => kinds, searched => searched,
        },
    )
}
