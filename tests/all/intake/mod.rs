//! The resident intake (`flspost serve`, `POST /generate`) from the outside: what it answers
//! is what `generate` prints (`answers`), who may hand it results and how much (`access`),
//! and many clients at once, beside a `generate`, through a SIGKILL and a SIGTERM (`load`).

mod access;
mod answers;
mod load;

use crate::common::World;
use crate::console::{parse, Answer, Server};
use std::io::{Read, Write};
use std::path::{Path, PathBuf};

pub const TOKEN: &str = "intake-token-0123456789abcdef";

/// A world whose config turns the intake on (the token in an owner-only file, the socket in
/// `run/`), with `extra` added to `[server.intake]`, and a journal (made by a `generate` of
/// nothing, as `serve` needs one).
pub fn intake_world(extra: &str) -> (World, PathBuf) {
    use std::os::unix::fs::PermissionsExt;
    let w = World::new();
    let token = w.write("intake.token", &format!("{TOKEN}\n"));
    std::fs::set_permissions(&token, std::fs::Permissions::from_mode(0o600)).unwrap();
    let cfg = w.write(
        "c.toml",
        &format!(
            "[server]\nlisten = \"127.0.0.1:0\"\n\n[server.intake]\ntoken_file = \"intake.token\"\nsocket = \"{}\"\n{extra}",
            w.path("run/intake.sock").display()
        ),
    );
    let empty = w.write("empty.jsonl", "");
    w.run(&["generate", empty.to_str().unwrap()]).ok();
    (w, cfg)
}

pub fn socket_of(w: &World) -> PathBuf {
    w.path("run/intake.sock")
}

/// One POST of `body` to `/generate` over TCP, with `headers`, on a connection of its own.
pub fn post(s: &Server, body: &[u8], headers: &[(&str, &str)]) -> Answer {
    try_post(&s.addr, body, headers).expect("the server answers")
}

/// [`post`] to `addr`, or the I/O error when the server is gone.
pub fn try_post(addr: &str, body: &[u8], headers: &[(&str, &str)]) -> std::io::Result<Answer> {
    let mut c = std::net::TcpStream::connect(addr)?;
    exchange(&mut c, addr, body, headers)
}

/// One POST over the Unix socket (no token).
pub fn post_socket(path: &Path, body: &[u8], headers: &[(&str, &str)]) -> Answer {
    let mut c = std::os::unix::net::UnixStream::connect(path).expect("the socket takes a connection");
    exchange(&mut c, "localhost", body, headers).expect("the server answers")
}

fn exchange(c: &mut (impl Read + Write), host: &str, body: &[u8], headers: &[(&str, &str)]) -> std::io::Result<Answer> {
    let mut req =
        format!("POST /generate HTTP/1.1\r\nHost: {host}\r\nConnection: close\r\nContent-Length: {}\r\n", body.len());
    for (k, v) in headers {
        req.push_str(&format!("{k}: {v}\r\n"));
    }
    req.push_str("\r\n");
    let mut bytes = req.into_bytes();
    bytes.extend_from_slice(body);
    c.write_all(&bytes)?;
    let mut raw = vec![];
    c.read_to_end(&mut raw)?;
    if !raw.windows(4).any(|w| w == b"\r\n\r\n") {
        return Err(std::io::Error::new(std::io::ErrorKind::UnexpectedEof, "no answer"));
    }
    Ok(parse(&raw))
}

/// The bearer token header.
pub fn bearer() -> (&'static str, String) {
    ("Authorization", format!("Bearer {TOKEN}"))
}

/// POST with the token.
pub fn post_ok(s: &Server, body: &[u8], more: &[(&str, &str)]) -> Answer {
    let (k, v) = bearer();
    let mut h = vec![(k, v.as_str())];
    h.extend_from_slice(more);
    post(s, body, &h)
}

/// The answer's lines as JSON.
pub fn lines(a: &Answer) -> Vec<serde_json::Value> {
    a.text().lines().map(|l| serde_json::from_str(l).unwrap_or_else(|e| panic!("{e}: {l}"))).collect()
}

/// How many input versions, messages and refused inputs the journal holds.
pub fn counts(w: &World) -> (i64, i64, i64) {
    let db = w.db();
    let n = |t: &str| db.query_row(&format!("SELECT COUNT(*) FROM {t}"), [], |r| r.get(0)).unwrap();
    (n("inputs"), n("messages"), n("refused_inputs"))
}
