//! The audit log for operators: who signed in, showed which CPR number, downloaded, resent,
//! corrected, handled or uploaded what, when and from where; newest first.

use super::{render, v, who};
use crate::server::auth::Signed;
use crate::server::fail::Fail;
use crate::server::state::Shared;
use axum::extract::State;
use axum::response::Html;

pub async fn page(State(state): State<Shared>, s: Signed) -> Result<Html<String>, Fail> {
    if !s.is_operator() {
        return Err(Fail::Forbidden("the audit log is for operators".into()));
    }
    let rows = state.journal(|j| flspost::app::audit::log(j, 500)).await?;
    render(&state, "audit.html", minijinja::context! { who => who(&s), title => "Audit log", rows => v(&rows) })
}
