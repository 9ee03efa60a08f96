//! Why a request is refused or failed, as the answer a browser gets: a sign-in first (a page
//! asked without a session goes to the login page), forbidden (no session for a change, a
//! missing or wrong CSRF token, a cross-site request, a viewer asking for an operator's act),
//! a person's mistake (the app's usage errors, with its words), or the journal's trouble.
//! Every text is masked for CPR-like numbers.

use axum::http::StatusCode;
use axum::response::{Html, IntoResponse, Redirect, Response};
use flspost::error::Error;
use flspost::support::redact::redact_cpr_like;

#[derive(Debug)]
pub enum Fail {
    SignIn,
    Forbidden(String),
    NotFound(String),
    TooMany(String),
    App(Error),
}

impl From<Error> for Fail {
    fn from(e: Error) -> Fail {
        Fail::App(e)
    }
}

fn page(status: StatusCode, title: &str, text: &str) -> Response {
    let esc = |s: &str| s.replace('&', "&amp;").replace('<', "&lt;").replace('>', "&gt;").replace('"', "&quot;");
    let body = format!(
        "<!doctype html><html lang=\"en\"><head><meta charset=\"utf-8\"><title>{}</title>\
         <link rel=\"stylesheet\" href=\"/static/console.css\"></head><body><main><h1>{}</h1>\
         <p class=\"error\">{}</p><p><a href=\"/\">Back to the summary</a></p></main></body></html>",
        esc(title),
        esc(title),
        esc(&redact_cpr_like(text))
    );
    (status, Html(body)).into_response()
}

impl IntoResponse for Fail {
    fn into_response(self) -> Response {
        match self {
            Fail::SignIn => Redirect::to("/login").into_response(),
            Fail::Forbidden(why) => page(StatusCode::FORBIDDEN, "Not allowed", &why),
            Fail::NotFound(what) => page(StatusCode::NOT_FOUND, "Not found", &what),
            Fail::TooMany(why) => page(StatusCode::TOO_MANY_REQUESTS, "Too many attempts", &why),
            Fail::App(e) => {
                let status = match &e {
                    Error::Usage(_) => StatusCode::UNPROCESSABLE_ENTITY,
                    Error::Busy(_) | Error::Conflict(_) => StatusCode::SERVICE_UNAVAILABLE,
                    _ => StatusCode::INTERNAL_SERVER_ERROR,
                };
                let title = if status == StatusCode::UNPROCESSABLE_ENTITY { "Not done" } else { "Something failed" };
                // The journal's path is the server's business, not the page's.
                let text = e.to_string();
                let text = text.trim_start_matches("usage: ");
                let text = match text.find(" in the journal /") {
                    Some(at) => &text[..at],
                    None => text,
                };
                page(status, title, &format!("{text} ({})", e.code()))
            }
        }
    }
}
