//! The support console (`flspost serve`) from the outside: HTTP-level checks with a plain
//! HTTP/1.1 client (`http`), the metrics read by Prometheus' own parser (`metrics`), the
//! server beside batch work on one journal (`load`), and a real browser driving the pages
//! (`browser`).

mod browser;
mod http;
mod load;
mod metrics;
mod tls;

pub use crate::common::console::Server;
use crate::common::{root, sample, World, SAMPLES};
use std::io::{Read, Write};
use std::path::{Path, PathBuf};
use std::process::Command;

pub const OPERATOR: (&str, &str) = ("olivia", "operator-password-1");
pub const VIEWER: (&str, &str) = ("viktor", "viewer-password-12");

/// The bad morning: the four samples generated, sent and two receipts read (group 1
/// acknowledged, message 3 rejected with `problem_med_modtagerID`), a result refused
/// (RANDERS has no FLS), an hour later; an operator and a viewer who may sign in.
pub fn bad_morning(w: &mut World) -> PathBuf {
    let cfg = w.config("c.toml", &crate::common::ConfigOf::outboxes());
    w.morning_of(&cfg, &SAMPLES.map(sample));
    let mut randers = crate::common::sample_json("group-2b.json");
    randers["result_id"] = "FLS-RAN-2025-0006".into();
    randers["site"] = "RANDERS".into();
    let bad = w.write("randers.json", &randers.to_string());
    assert_eq!(w.generate_with(&cfg, &bad).code, 2);
    w.later_by(chrono::Duration::hours(1));
    for (name, password, role) in [(OPERATOR.0, OPERATOR.1, "operator"), (VIEWER.0, VIEWER.1, "viewer")] {
        w.run_stdin(&["user", "add", name, "--role", role, "--config", cfg.to_str().unwrap()], password.as_bytes()).ok();
    }
    cfg
}

/// Every CPR number the samples hold, as 10 digits and as DDMMYY-XXXX.
pub fn sample_cprs() -> Vec<String> {
    let mut out = vec![];
    for s in SAMPLES {
        let cpr = crate::common::sample_json(s)["patient"]["cpr"].as_str().unwrap().to_string();
        out.push(format!("{}-{}", &cpr[..6], &cpr[6..]));
        out.push(cpr);
    }
    out
}

/// One HTTP answer.
#[derive(Debug)]
pub struct Answer {
    pub status: u16,
    pub headers: Vec<(String, String)>,
    pub body: Vec<u8>,
}

impl Answer {
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers.iter().find(|(k, _)| k.eq_ignore_ascii_case(name)).map(|(_, v)| v.as_str())
    }

    pub fn text(&self) -> String {
        String::from_utf8_lossy(&self.body).into_owned()
    }

    /// Every header line and the body, as text: what must not hold a CPR number.
    pub fn everything(&self) -> String {
        let mut s: String = self.headers.iter().map(|(k, v)| format!("{k}: {v}\n")).collect();
        s.push_str(&self.text());
        s
    }
}

/// A browser-like client of one server: keeps its cookies, sends `Host`, speaks HTTP/1.1
/// with a connection per request.
pub struct Client {
    pub addr: String,
    pub cookies: Vec<(String, String)>,
    /// Headers every request carries (a browser's `Sec-Fetch-Site`, a forged `Origin`).
    pub extra: Vec<(String, String)>,
}

impl Client {
    pub fn new(s: &Server) -> Client {
        Client { addr: s.addr.clone(), cookies: vec![], extra: vec![] }
    }

    pub fn get(&mut self, path: &str) -> Answer {
        self.send("GET", path, None, &[])
    }

    /// A form POST (`application/x-www-form-urlencoded`).
    pub fn post(&mut self, path: &str, form: &[(&str, &str)]) -> Answer {
        let body: String = url::form_urlencoded::Serializer::new(String::new()).extend_pairs(form).finish();
        self.send("POST", path, Some(("application/x-www-form-urlencoded", body.into_bytes())), &[])
    }

    pub fn send(&mut self, method: &str, path: &str, body: Option<(&str, Vec<u8>)>, headers: &[(&str, &str)]) -> Answer {
        let mut req = format!("{method} {path} HTTP/1.1\r\nHost: {}\r\nConnection: close\r\n", self.addr);
        if !self.cookies.is_empty() {
            let c: Vec<String> = self.cookies.iter().map(|(k, v)| format!("{k}={v}")).collect();
            req.push_str(&format!("Cookie: {}\r\n", c.join("; ")));
        }
        for (k, v) in self.extra.iter().map(|(k, v)| (k.as_str(), v.as_str())).chain(headers.iter().copied()) {
            req.push_str(&format!("{k}: {v}\r\n"));
        }
        let mut bytes = req.into_bytes();
        if let Some((ctype, b)) = body {
            bytes.extend(format!("Content-Type: {ctype}\r\nContent-Length: {}\r\n\r\n", b.len()).into_bytes());
            bytes.extend(b);
        } else {
            bytes.extend(b"\r\n");
        }
        let mut s = std::net::TcpStream::connect(&self.addr).unwrap();
        s.write_all(&bytes).unwrap();
        let mut raw = vec![];
        s.read_to_end(&mut raw).unwrap();
        let a = parse(&raw);
        for (k, v) in &a.headers {
            if k.eq_ignore_ascii_case("set-cookie") {
                let pair = v.split(';').next().unwrap();
                let (name, value) = pair.split_once('=').unwrap();
                self.cookies.retain(|(n, _)| n != name);
                if !value.is_empty() && !v.contains("Max-Age=0") {
                    self.cookies.push((name.to_string(), value.to_string()));
                }
            }
        }
        a
    }

    /// Signs in as `who` through the login form; panics unless it worked.
    pub fn sign_in(&mut self, who: (&str, &str)) {
        let a = self.try_sign_in(who.0, who.1);
        assert_eq!(a.status, 303, "sign-in as {}: {}", who.0, a.text());
    }

    pub fn try_sign_in(&mut self, name: &str, password: &str) -> Answer {
        let page = self.get("/login").text();
        let token = value_of(&page, "login_token").expect("the login form has its token");
        self.post("/login", &[("login_token", &token), ("name", name), ("password", password)])
    }

    /// The CSRF token of the session (from the sign-out form every page has).
    pub fn csrf(&mut self) -> String {
        value_of(&self.get("/").text(), "csrf").expect("a signed-in page carries the CSRF token")
    }
}

/// The `value` of the form input named `name` in `html`.
pub fn value_of(html: &str, name: &str) -> Option<String> {
    let at = html.find(&format!("name=\"{name}\" value=\""))?;
    let rest = &html[at + name.len() + 15..];
    Some(rest[..rest.find('"')?].to_string())
}

pub fn parse(raw: &[u8]) -> Answer {
    let end = raw.windows(4).position(|w| w == b"\r\n\r\n").expect("an HTTP answer has a head");
    let head = String::from_utf8_lossy(&raw[..end]).into_owned();
    let mut lines = head.split("\r\n");
    let status: u16 = lines.next().unwrap().split(' ').nth(1).unwrap().parse().unwrap();
    let headers: Vec<(String, String)> = lines
        .filter_map(|l| l.split_once(':'))
        .map(|(k, v)| (k.trim().to_ascii_lowercase(), v.trim().to_string()))
        .collect();
    let mut body = raw[end + 4..].to_vec();
    if headers.iter().any(|(k, v)| k == "transfer-encoding" && v.contains("chunked")) {
        let mut out = vec![];
        let mut rest = &body[..];
        loop {
            let nl = rest.windows(2).position(|w| w == b"\r\n").unwrap();
            let n = usize::from_str_radix(std::str::from_utf8(&rest[..nl]).unwrap().trim(), 16).unwrap();
            if n == 0 {
                break;
            }
            out.extend(&rest[nl + 2..nl + 2 + n]);
            rest = &rest[nl + 4 + n..];
        }
        body = out;
    }
    Answer { status, headers, body }
}

/// The test venv's Python (`scripts/test-deps.sh` makes it) with `module` importable.
pub fn python_with(module: &str) -> PathBuf {
    let venv = root().join("target/test-venv/bin/python");
    let has = |py: &Path| Command::new(py).args(["-c", &format!("import {module}")]).output().is_ok_and(|o| o.status.success());
    assert!(has(&venv), "this test needs Python's {module} in target/test-venv: run `bash scripts/test-deps.sh`");
    venv
}
