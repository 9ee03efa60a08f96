//! What every request is held to: a place among `[server] max_concurrent_requests` (waited for
//! at most the request timeout), the request timeout itself, the headers every answer carries
//! (a Content-Security-Policy that allows no script at all, no framing by others, no caching of
//! patients' data, no referrer to another site: `same-origin`, since `no-referrer` makes a
//! browser send `Origin: null` with its own forms), and one log line, without the query (the console never puts a
//! CPR number in a URL, but a person could type one).

use super::state::Shared;
use axum::extract::{Request, State};
use axum::http::{header, HeaderValue, StatusCode};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};

const CSP: &str = "default-src 'none'; style-src 'self'; img-src 'self'; frame-src 'self'; object-src 'self'; \
                   form-action 'self'; frame-ancestors 'self'; base-uri 'none'";

pub async fn bound(State(state): State<Shared>, req: Request, next: Next) -> Response {
    let (method, path) = (req.method().to_string(), req.uri().path().to_string());
    let timeout = state.limits.timeout;
    // The intake answers a program, in its error lines (with a stable code).
    let intake = path == super::intake::PATH;
    let answer = match tokio::time::timeout(timeout, state.places.acquire()).await {
        Ok(Ok(_place)) => match tokio::time::timeout(timeout, next.run(req)).await {
            Ok(r) => r,
            Err(_) if intake => super::intake::refusal(
                StatusCode::SERVICE_UNAVAILABLE,
                super::intake::code::TIMEOUT,
                "the answer took longer than [server] request_timeout_seconds; the inputs may be recorded: send them \
                 again (one recorded answers exists)",
                1,
            ),
            Err(_) => (StatusCode::SERVICE_UNAVAILABLE, "the request took too long; nothing more is done for it\n")
                .into_response(),
        },
        _ if intake => super::intake::refusal(
            StatusCode::SERVICE_UNAVAILABLE,
            super::intake::code::SERVER_BUSY,
            "the server is busy; nothing was recorded: try again",
            1,
        ),
        _ => (StatusCode::SERVICE_UNAVAILABLE, "the server is busy; try again\n").into_response(),
    };
    let mut r = answer;
    let h = r.headers_mut();
    let html = h.get(header::CONTENT_TYPE).and_then(|v| v.to_str().ok()).is_some_and(|t| t.starts_with("text/html"));
    if html {
        h.insert(header::CONTENT_SECURITY_POLICY, HeaderValue::from_static(CSP));
    }
    h.insert(header::X_CONTENT_TYPE_OPTIONS, HeaderValue::from_static("nosniff"));
    h.insert(header::X_FRAME_OPTIONS, HeaderValue::from_static("SAMEORIGIN"));
    h.insert(header::REFERRER_POLICY, HeaderValue::from_static("same-origin"));
    h.entry(header::CACHE_CONTROL).or_insert(HeaderValue::from_static("no-store"));
    if path != "/metrics" && path != "/healthz" {
        state.log.event("request", &[("method", method), ("path", path), ("status", r.status().as_u16().to_string())]);
    }
    r
}
