//! The support console: server-rendered pages that work without JavaScript (none is sent; the
//! Content-Security-Policy forbids it), over the app's use cases. One file per page or group
//! of acts: the summary, the work queue (with its bulk acts), a message's page (with its CPR
//! reveal and downloads), the acts on one message (resend, re-route, correct, handle), the
//! upload of answers, the audit log. Templates are MiniJinja, as the letters' are, compiled
//! into the binary, HTML-escaped.

mod actions;
mod audit;
mod message;
mod queue;
mod summary;
mod upload;

use super::auth::{self, Signed};
use super::fail::Fail;
use super::state::Shared;
use axum::http::header;
use axum::response::{Html, IntoResponse};
use axum::routing::{get, post};
use flspost::error::{Error, Result};

pub fn router() -> axum::Router<Shared> {
    axum::Router::new()
        .route("/login", get(auth::login_page).post(auth::login))
        .route("/logout", post(auth::logout))
        .route("/", get(summary::page))
        .route("/queue", get(queue::page).post(queue::search))
        .route("/queue/act", post(actions::bulk))
        .route("/messages/{id}", get(message::page))
        .route("/messages/{id}/reveal", post(message::reveal))
        .route("/messages/{id}/pdf", get(message::pdf))
        .route("/messages/{id}/download/{part}", get(message::download))
        .route("/messages/{id}/resend", post(actions::resend))
        .route("/messages/{id}/reroute", post(actions::reroute))
        .route("/messages/{id}/handle", post(actions::handle_one))
        .route("/messages/{id}/correct", get(actions::correct_form).post(actions::correct))
        .route("/upload", get(upload::page).post(upload::upload))
        .route("/audit", get(audit::page))
        .route("/static/console.css", get(css))
}

async fn css() -> impl IntoResponse {
    (
        [(header::CONTENT_TYPE, "text/css; charset=utf-8"), (header::CACHE_CONTROL, "max-age=3600")],
        include_str!("console.css"),
    )
}

pub fn templates() -> Result<minijinja::Environment<'static>> {
    let mut env = minijinja::Environment::new();
    for (name, text) in [
        ("base.html", include_str!("templates/base.html")),
        ("login.html", include_str!("templates/login.html")),
        ("summary.html", include_str!("templates/summary.html")),
        ("queue.html", include_str!("templates/queue.html")),
        ("message.html", include_str!("templates/message.html")),
        ("done.html", include_str!("templates/done.html")),
        ("correct.html", include_str!("templates/correct.html")),
        ("upload.html", include_str!("templates/upload.html")),
        ("audit.html", include_str!("templates/audit.html")),
    ] {
        env.add_template(name, text).map_err(|e| Error::Internal(format!("console template {name}: {e}")))?;
    }
    env.add_filter("local", |t: String| flspost::app::period::local(&t));
    Ok(env)
}

pub fn render(state: &Shared, name: &str, ctx: minijinja::Value) -> std::result::Result<Html<String>, Fail> {
    let t = state.templates.get_template(name).map_err(|e| Fail::App(Error::Internal(format!("{name}: {e}"))))?;
    t.render(ctx).map(Html).map_err(|e| Fail::App(Error::Internal(format!("{name}: {e}"))))
}

/// What every signed-in page's frame shows: who, their role, the sign-out form's token.
pub fn who(s: &Signed) -> minijinja::Value {
    minijinja::context! { name => s.user.name.clone(), role => s.user.role.code(), operator => s.is_operator(), csrf => s.csrf.clone() }
}

/// Any serialisable value for a template (rows serialise with their CPR-like values masked).
pub fn v<T: serde::Serialize>(x: &T) -> minijinja::Value {
    minijinja::Value::from(minijinja::value::Serde(x))
}

/// `{id}` of a message's routes: a journal message id.
pub fn message_id(id: &str) -> std::result::Result<i64, Fail> {
    // A journal id: digits without a leading zero, at most 9 of them. Nothing of what was
    // asked for is echoed (a CPR number typed into the address would be shown back).
    let plain = !id.is_empty() && id.len() <= 9 && !id.starts_with('0') && id.bytes().all(|b| b.is_ascii_digit());
    match id.parse() {
        Ok(n) if plain => Ok(n),
        _ => Err(Fail::NotFound("that is not a message id (a journal id is a number, as the queue links it)".into())),
    }
}
