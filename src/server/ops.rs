//! What operations polls, without a session (neither holds a patient's data): `GET /healthz`
//! (the journal reachable, its schema version) and `GET /metrics` (the numbers
//! `flspost status --json` gives, in Prometheus' text format).

use super::state::Shared;
use axum::extract::State;
use axum::http::{header, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use flspost::app::status::Numbers;
use std::fmt::Write;

pub fn router() -> axum::Router<Shared> {
    axum::Router::new().route("/healthz", get(healthz)).route("/metrics", get(metrics))
}

async fn healthz(State(state): State<Shared>) -> Response {
    let json = |status: StatusCode, v: serde_json::Value| {
        (status, [(header::CONTENT_TYPE, "application/json")], v.to_string()).into_response()
    };
    match state.journal(|j| j.schema_version()).await {
        Ok(v) => json(StatusCode::OK, serde_json::json!({"status": "ok", "journal": "reachable", "schema_version": v})),
        Err(e) => json(
            StatusCode::SERVICE_UNAVAILABLE,
            serde_json::json!({"status": "error", "journal": "unreachable", "code": e.code(),
                               "error": flspost::support::redact::redact_cpr_like(&e.to_string())}),
        ),
    }
}

async fn metrics(State(state): State<Shared>) -> Response {
    let now = flspost::support::clock::now();
    match state.journal(move |j| flspost::app::status::numbers(j, now)).await {
        Ok(n) => (StatusCode::OK, [(header::CONTENT_TYPE, "text/plain; version=0.0.4; charset=utf-8")], prometheus(&n))
            .into_response(),
        Err(e) => (StatusCode::SERVICE_UNAVAILABLE, format!("# the journal could not be read: {}\n", e.code()))
            .into_response(),
    }
}

/// A label value as the text format writes it.
fn label(v: &str) -> String {
    v.replace('\\', "\\\\").replace('"', "\\\"").replace('\n', "\\n")
}

/// The numbers in Prometheus' text exposition format (0.0.4): a HELP and TYPE line per family.
pub fn prometheus(n: &Numbers) -> String {
    let mut o = String::new();
    let family = |o: &mut String, name: &str, kind: &str, help: &str| {
        let _ = writeln!(o, "# HELP {name} {help}\n# TYPE {name} {kind}");
    };
    family(&mut o, "flspost_messages", "gauge", "Messages in the journal by status and kind.");
    for m in &n.messages {
        let _ = writeln!(o, "flspost_messages{{status=\"{}\",kind=\"{}\"}} {}", m.status, m.kind, m.count);
    }
    family(&mut o, "flspost_open_problems", "gauge", "Open problems in the work queue by cause.");
    for (cause, count) in &n.open_problems {
        let _ = writeln!(o, "flspost_open_problems{{cause=\"{}\"}} {count}", label(cause));
    }
    family(
        &mut o,
        "flspost_oldest_unsent_seconds",
        "gauge",
        "Age of the message waiting longest to be handed over (0: none).",
    );
    let _ = writeln!(o, "flspost_oldest_unsent_seconds {}", n.oldest_unsent_seconds.unwrap_or(0));
    family(
        &mut o,
        "flspost_longest_unanswered_seconds",
        "gauge",
        "Seconds since the hand-over of the GP letter waiting longest for its answer past the resend policy's wait (0: none).",
    );
    let _ = writeln!(o, "flspost_longest_unanswered_seconds {}", n.longest_unanswered_seconds.unwrap_or(0));
    family(
        &mut o,
        "flspost_transport_last_success_timestamp_seconds",
        "gauge",
        "When each transport last took a message (Unix time; absent: never).",
    );
    for t in n.transports.iter().filter(|t| t.last_success_unix.is_some()) {
        let _ = writeln!(
            o,
            "flspost_transport_last_success_timestamp_seconds{{transport=\"{}\"}} {}",
            label(&t.transport),
            t.last_success_unix.unwrap_or(0)
        );
    }
    family(
        &mut o,
        "flspost_transport_consecutive_failures",
        "gauge",
        "Failed hand-overs since each transport's last success.",
    );
    for t in &n.transports {
        let _ = writeln!(
            o,
            "flspost_transport_consecutive_failures{{transport=\"{}\"}} {}",
            label(&t.transport),
            t.consecutive_failures
        );
    }
    family(&mut o, "flspost_refused_inputs_total", "counter", "Inputs generate refused, ever.");
    let _ = writeln!(o, "flspost_refused_inputs_total {}", n.refused_inputs);
    family(&mut o, "flspost_refused_inputs_open", "gauge", "Refused inputs still open.");
    let _ = writeln!(o, "flspost_refused_inputs_open {}", n.refused_inputs_open);
    family(&mut o, "flspost_journal_bytes", "gauge", "The journal's size on disk (database and write-ahead log).");
    let _ = writeln!(o, "flspost_journal_bytes {}", n.journal_bytes);
    family(&mut o, "flspost_journal_schema_version", "gauge", "The journal's schema version.");
    let _ = writeln!(o, "flspost_journal_schema_version {}", n.schema_version);
    o
}
