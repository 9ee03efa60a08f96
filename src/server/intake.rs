//! The resident intake: `POST /generate` takes one JSON result (or, as `application/x-ndjson`,
//! a JSON Lines batch) and answers exactly what `flspost generate` prints for it, one summary
//! line per input, once what each line reports is on disk. A machine interface, not the
//! console: no session, no CSRF; on TCP a bearer token from the config, compared in constant
//! time; on the Unix socket (`socket`) its owner-only permissions are the access.
//!
//! The requests of the moment are grouped into rounds by one writer (`writer`), so throughput
//! scales like a batch and each request waits for its round's commit only.

mod socket;
mod writer;

use super::state::Shared;
use axum::body::Body;
use axum::extract::State;
use axum::http::{header, HeaderMap, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use flspost::app::config::{Config, IntakeConfig};
use flspost::app::generate::{Engine, Summary};
use flspost::error::{Error, Result};
use flspost::input::batch::{Inputs, Source};
use std::path::PathBuf;
use std::sync::Mutex;

pub use socket::Socket;

/// The route, on TCP and on the socket.
pub const PATH: &str = "/generate";

/// The stable codes of what the intake refuses before any input is looked at (docs/gateway.md).
pub mod code {
    /// No bearer token, or the wrong one (401): nothing was read or recorded.
    pub const UNAUTHORIZED: &str = "unauthorized";
    /// The body is over `[server] max_body_kib`, or holds more than `max_results` inputs (413).
    pub const TOO_LARGE: &str = "too_large";
    /// No place within the request timeout, or the server is stopping (503): nothing recorded.
    pub const SERVER_BUSY: &str = "server_busy";
    /// The answer took longer than the request timeout (503): the inputs may be recorded;
    /// sending them again is safe (a recorded one answers `exists`).
    pub const TIMEOUT: &str = "timeout";
    /// The request itself is malformed (a `Flspost-Source` that is not short text) (400).
    pub const BAD_REQUEST: &str = "bad_request";
}

/// Content types read as JSON Lines; any other body is one document.
const JSONL_TYPES: [&str; 4] =
    ["application/x-ndjson", "application/jsonl", "application/x-jsonlines", "application/ndjson"];

pub struct Intake {
    /// SHA-256 of the token: compared digest to digest, the same length whatever is sent.
    token: Option<[u8; 32]>,
    max_results: usize,
    /// Taken at shutdown, so the writer sees the end of its queue once the last request is in.
    queue: Mutex<Option<tokio::sync::mpsc::Sender<writer::Job>>>,
    writer: Mutex<Option<std::thread::JoinHandle<()>>>,
    pub out_dir: Option<PathBuf>,
    pub socket: Option<PathBuf>,
}

impl Intake {
    /// The intake `[server.intake]` describes, its writer started; `None` when it is off.
    pub fn start(config: &Config, journal: flspost::journal::Location, log: super::log::Log, queue: usize) -> Result<Option<Intake>> {
        let Some(c) = &config.server.intake else { return Ok(None) };
        let token = read_token(c)?;
        if token.is_none() && c.socket.is_none() {
            return Err(Error::Usage(
                "[server.intake]: set token_file or token_env (for TCP), or socket (a Unix socket), or both".into(),
            ));
        }
        let engine = Engine::from_config(config, c.out_dir.clone())?;
        if let Some(dir) = &c.out_dir {
            flspost::support::files::sweep_temporaries(dir);
        }
        let busy = config.journal.busy_timeout();
        let policy = config.resend.policy().map_err(Error::Usage)?;
        let open = move || -> Result<flspost::journal::Journal> {
            let mut j =
                flspost::journal::Journal::open_at(&journal, flspost::journal::Access::ReadWrite, busy, true)?;
            j.set_resend_policy(policy);
            Ok(j)
        };
        let (tx, rx) = tokio::sync::mpsc::channel(queue.max(1));
        let handle = writer::spawn(engine, Box::new(open), rx, log)?;
        Ok(Some(Intake {
            token: token.map(|t| digest(t.as_bytes())),
            max_results: c.max_results.unwrap_or(1000).clamp(1, 100_000),
            queue: Mutex::new(Some(tx)),
            writer: Mutex::new(Some(handle)),
            out_dir: c.out_dir.clone(),
            socket: c.socket.clone(),
        }))
    }

    fn token_ok(&self, headers: &HeaderMap) -> bool {
        let Some(want) = &self.token else { return false };
        // The scheme's name is case-insensitive (RFC 9110); the token is not.
        let given = headers
            .get(header::AUTHORIZATION)
            .and_then(|v| v.to_str().ok())
            .and_then(|v| v.split_once(' '))
            .filter(|(scheme, _)| scheme.eq_ignore_ascii_case("bearer"))
            .map(|(_, t)| t.trim());
        let Some(given) = given else { return false };
        digest(given.as_bytes()).iter().zip(want).fold(0u8, |d, (a, b)| d | (a ^ b)) == 0
    }

    /// Hands `sources` to the writer; their summaries once recorded, in order. `None` when the
    /// intake is stopping (nothing was handed over) or its writer is gone.
    async fn submit(&self, sources: Vec<Source>) -> Option<Vec<Summary>> {
        let tx = self.queue.lock().unwrap_or_else(|e| e.into_inner()).clone()?;
        let (answer, answered) = tokio::sync::oneshot::channel();
        tx.send(writer::Job { sources, answer }).await.ok()?;
        drop(tx);
        answered.await.ok()
    }

    /// After the listeners have stopped: the writer records what it was given, answers it
    /// and ends; returns when it has.
    pub async fn close(&self) {
        drop(self.queue.lock().unwrap_or_else(|e| e.into_inner()).take());
        let handle = self.writer.lock().unwrap_or_else(|e| e.into_inner()).take();
        if let Some(h) = handle {
            let _ = tokio::task::spawn_blocking(move || h.join()).await;
        }
        if let Some(dir) = &self.out_dir {
            flspost::support::files::remove_staging_if_empty(dir);
        }
    }
}

fn digest(b: &[u8]) -> [u8; 32] {
    use sha2::Digest;
    sha2::Sha256::digest(b).into()
}

/// The token from its file (owner-only, as every secret flspost reads) or its environment
/// variable; at least 16 characters, so that it cannot be guessed.
fn read_token(c: &IntakeConfig) -> Result<Option<String>> {
    let bad = |what: String| Error::Usage(format!("[server.intake] {what}"));
    let token = match (&c.token_file, &c.token_env) {
        (Some(_), Some(_)) => return Err(bad("token_file and token_env: set one of them".into())),
        (None, None) => return Ok(None),
        (Some(path), None) => {
            use std::os::unix::fs::PermissionsExt;
            let meta = std::fs::metadata(path).map_err(|e| Error::io(path, e))?;
            if meta.permissions().mode() & 0o077 != 0 {
                return Err(bad(format!(
                    "token_file = \"{}\": others may read it (mode {:o}); chmod 600 it",
                    path.display(),
                    meta.permissions().mode() & 0o777
                )));
            }
            std::fs::read_to_string(path).map_err(|e| Error::io(path, e))?
        }
        (None, Some(var)) => std::env::var(var)
            .map_err(|_| bad(format!("token_env = \"{var}\": the environment variable is not set (or not UTF-8)")))?,
    };
    let token = token.trim().to_string();
    if token.chars().count() < 16 || token.chars().any(|c| c.is_whitespace() || c.is_control()) {
        return Err(bad("the token must be at least 16 characters, with no space or control character".into()));
    }
    Ok(Some(token))
}

/// `POST /generate` for TCP (`via_socket` false: the token is needed) or for the socket.
pub fn router(via_socket: bool) -> axum::Router<Shared> {
    axum::Router::new().route(
        PATH,
        axum::routing::post(move |State(state): State<Shared>, headers: HeaderMap, body: Body| {
            generate(state, via_socket, headers, body)
        }),
    )
}

/// A refusal as an error line (`schemas/json/error-line.schema.json`), with its status.
pub fn refusal(status: StatusCode, code: &str, reason: &str, exit_code: i32) -> Response {
    // In the order of `generate`'s error line: outcome, then error's code, reason, exit_code.
    #[derive(serde::Serialize)]
    struct Failure<'a> {
        code: &'a str,
        reason: &'a str,
        exit_code: i32,
    }
    #[derive(serde::Serialize)]
    struct Line<'a> {
        outcome: &'static str,
        error: Failure<'a>,
    }
    let line = serde_json::to_string(&Line { outcome: "error", error: Failure { code, reason, exit_code } })
        .expect("an error line serialises");
    let mut r = (status, [(header::CONTENT_TYPE, "application/json")], format!("{line}\n")).into_response();
    r.headers_mut().insert("flspost-exit-code", HeaderValue::from(exit_code));
    r
}

async fn generate(state: Shared, via_socket: bool, headers: HeaderMap, body: Body) -> Response {
    let Some(intake) = &state.intake else {
        return refusal(
            StatusCode::NOT_FOUND,
            "usage",
            "the intake is off: [server.intake] in the config turns it on",
            2,
        );
    };
    if !via_socket && !intake.token_ok(&headers) {
        let mut r = refusal(
            StatusCode::UNAUTHORIZED,
            code::UNAUTHORIZED,
            "no bearer token, or not the intake's ([server.intake] token_file or token_env); nothing was recorded",
            2,
        );
        r.headers_mut().insert(header::WWW_AUTHENTICATE, HeaderValue::from_static("Bearer"));
        return r;
    }
    let origin = match headers.get("flspost-source").map(|v| v.to_str()) {
        None => "-".to_string(),
        Some(Ok(s)) if !s.is_empty() && s.len() <= 255 => s.to_string(),
        Some(_) => {
            return refusal(
                StatusCode::BAD_REQUEST,
                code::BAD_REQUEST,
                "Flspost-Source: expected a name of 1 to 255 characters of visible ASCII",
                2,
            )
        }
    };
    let lines = headers
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .map(|t| t.split(';').next().unwrap_or("").trim().to_ascii_lowercase())
        .is_some_and(|t| JSONL_TYPES.contains(&t.as_str()));
    let limit = state.limits.max_body;
    let too_large = || {
        refusal(
            StatusCode::PAYLOAD_TOO_LARGE,
            code::TOO_LARGE,
            &format!("the request is longer than {} KiB ([server] max_body_kib); nothing was recorded", limit / 1024),
            2,
        )
    };
    let declared =
        headers.get(header::CONTENT_LENGTH).and_then(|v| v.to_str().ok()).and_then(|v| v.parse::<u64>().ok());
    if declared.is_some_and(|n| n > limit as u64) {
        return too_large();
    }
    let Ok(bytes) = axum::body::to_bytes(body, limit).await else { return too_large() };
    let reader: Box<dyn std::io::BufRead> = Box::new(std::io::Cursor::new(bytes));
    // Reading from memory cannot fail; the rules of a file (a line over 1 MiB, not UTF-8) apply.
    let sources = Inputs::from_reader(origin, reader, lines).next_chunk(intake.max_results + 1).unwrap_or_default();
    if sources.len() > intake.max_results {
        return refusal(
            StatusCode::PAYLOAD_TOO_LARGE,
            code::TOO_LARGE,
            &format!(
                "more than {} results in one request ([server.intake] max_results); nothing was recorded",
                intake.max_results
            ),
            2,
        );
    }
    if sources.is_empty() {
        return answer(&state, &[]);
    }
    match intake.submit(sources).await {
        Some(summaries) => answer(&state, &summaries),
        None => refusal(
            StatusCode::SERVICE_UNAVAILABLE,
            code::SERVER_BUSY,
            "the server is stopping; nothing was recorded: send it again",
            1,
        ),
    }
}

/// The summaries as `generate` prints them, one JSON line each. The status and the
/// `Flspost-Exit-Code` header are the worst line's, as `generate`'s exit code is.
fn answer(state: &Shared, summaries: &[Summary]) -> Response {
    let mut body = String::new();
    for s in summaries {
        body.push_str(&serde_json::to_string(s).expect("summaries serialise"));
        body.push('\n');
    }
    let exit = summaries.iter().map(Summary::exit_code).max().unwrap_or(0);
    let failed = summaries.iter().filter(|s| s.error.is_some()).count();
    let retry =
        summaries.iter().filter_map(|s| s.error.as_ref()).all(|e| matches!(e.code, "journal_busy" | "conflict"));
    let status = match exit {
        0 => StatusCode::OK,
        2 => StatusCode::UNPROCESSABLE_ENTITY,
        1 if retry => StatusCode::SERVICE_UNAVAILABLE,
        _ => StatusCode::INTERNAL_SERVER_ERROR,
    };
    // Counts only: a source name or a reason could hold what a log must not.
    state.log.event("intake", &[("results", summaries.len().to_string()), ("failed", failed.to_string())]);
    let mut r = (status, [(header::CONTENT_TYPE, "application/x-ndjson")], body).into_response();
    r.headers_mut().insert("flspost-exit-code", HeaderValue::from(exit));
    r
}
