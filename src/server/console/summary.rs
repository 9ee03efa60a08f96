//! The summary: today's counts, open problems by cause (each a link to the queue of that
//! cause, with what to do), the transports' health, the oldest waiting and the unanswered.

use super::{render, v, who};
use crate::server::auth::Signed;
use crate::server::fail::Fail;
use crate::server::state::Shared;
use axum::extract::State;
use axum::response::Html;
use flspost::app::period;
use flspost::app::queue::{self, Query};
use flspost::journal::Filter;

pub async fn page(State(state): State<Shared>, s: Signed) -> Result<Html<String>, Fail> {
    let now = flspost::support::clock::now();
    let (all, today) = state
        .journal(move |j| {
            let all = queue::summary(j, &Query::default(), now)?;
            let since = period::stored(period::parse("today", period::End::Start, now)?);
            let today = queue::summary(
                j,
                &Query { filter: Filter { since: Some(since), ..Filter::default() }, ..Query::default() },
                now,
            )?;
            Ok((all, today))
        })
        .await?;
    let today_total: i64 = today.by_status.values().sum();
    render(
        &state,
        "summary.html",
        minijinja::context! { who => who(&s), all => v(&all), today => v(&today), today_total => today_total, title => "Summary" },
    )
}
