//! Who is asking: sessions (a random token in an HttpOnly, SameSite=Strict cookie, Secure
//! under TLS, forgotten after the idle timeout or at sign-out), the CSRF token each session's
//! forms carry, the check every change passes (a session, its CSRF token, a same-origin
//! request, the role), and signing in: argon2id-checked, audited, and slowed down after
//! failures per name and per client address.

use super::fail::Fail;
use super::form::Form;
use super::state::Shared;
use axum::extract::{ConnectInfo, FromRequestParts, State};
use axum::http::{header, request::Parts, HeaderMap, HeaderValue};
use axum::response::{IntoResponse, Redirect, Response};
use flspost::app::users::{self, Role, User};
use flspost::support::person::Actor;
use std::collections::HashMap;
use std::net::SocketAddr;
use std::sync::Mutex;
use std::time::{Duration, Instant};

pub const SESSION_COOKIE: &str = "flspost_session";
const LOGIN_COOKIE: &str = "flspost_login";

/// 32 random bytes, hex: a session id or a CSRF token.
pub fn token() -> String {
    let mut b = [0u8; 32];
    getrandom::fill(&mut b).expect("the system has randomness");
    b.iter().map(|x| format!("{x:02x}")).collect()
}

/// Equal, in time that does not depend on where they differ.
fn same(a: &str, b: &str) -> bool {
    a.len() == b.len() && a.bytes().zip(b.bytes()).fold(0u8, |d, (x, y)| d | (x ^ y)) == 0
}

struct Session {
    user: String,
    /// The person's [`User::stamp`] when they signed in.
    stamp: String,
    csrf: String,
    last_seen: Instant,
    since: Instant,
}

/// However active, a session ends this long after its sign-in.
const SESSION_LIFETIME: Duration = Duration::from_secs(12 * 3600);

#[derive(Default)]
pub struct Sessions(Mutex<HashMap<String, Session>>);

impl Sessions {
    fn create(&self, user: &User, idle: Duration) -> String {
        let mut all = self.0.lock().unwrap_or_else(|e| e.into_inner());
        all.retain(|_, s| s.last_seen.elapsed() < idle && s.since.elapsed() < SESSION_LIFETIME);
        let t = token();
        let now = Instant::now();
        let session =
            Session { user: user.name.clone(), stamp: user.stamp.clone(), csrf: token(), last_seen: now, since: now };
        all.insert(t.clone(), session);
        t
    }

    /// The session's person and CSRF token, when it is known and has not been idle too long
    /// (then it is forgotten); using it counts as activity.
    fn find(&self, t: &str, idle: Duration) -> Option<(String, String, String)> {
        let mut all = self.0.lock().unwrap_or_else(|e| e.into_inner());
        match all.get_mut(t) {
            Some(s) if s.last_seen.elapsed() < idle && s.since.elapsed() < SESSION_LIFETIME => {
                s.last_seen = Instant::now();
                Some((s.user.clone(), s.stamp.clone(), s.csrf.clone()))
            }
            Some(_) => {
                all.remove(t);
                None
            }
            None => None,
        }
    }

    fn end(&self, t: &str) {
        self.0.lock().unwrap_or_else(|e| e.into_inner()).remove(t);
    }
}

/// Failed sign-ins per name from one client address, and per name from anywhere: past a
/// key's free tries, each further one waits twice as long as the last (from 2 s, at most
/// 5 min) before it is even checked; a success forgets its keys, and a key left alone for 15
/// minutes starts again. One password of a name is checked at a time (others for that name
/// wait their turn), so parallel guesses get no more tries than sequential ones. Not per
/// address alone: everyone behind one proxy (or on loopback) would lock everyone out.
#[derive(Default)]
pub struct Throttle(Mutex<ThrottleState>);

#[derive(Default)]
pub struct ThrottleState {
    failures: HashMap<String, (u32, Instant)>,
    checking: std::collections::HashSet<String>,
}

const THROTTLE_FORGETS: Duration = Duration::from_secs(15 * 60);

/// Why a try may not be checked now.
enum Held {
    /// Another try of this name is being checked: wait a moment.
    Turn,
    /// Too many failures: this long.
    For(Duration),
}

impl Throttle {
    /// Lets a try of `name` be checked now, holding its turn, unless a key is held.
    fn begin(&self, name: &str, keys: &[(&str, u32)]) -> Result<(), Held> {
        let mut st = self.0.lock().unwrap_or_else(|e| e.into_inner());
        if st.checking.contains(name) {
            return Err(Held::Turn);
        }
        for (key, free) in keys {
            if let Some((n, at)) = st.failures.get(*key) {
                if *n >= *free && at.elapsed() < THROTTLE_FORGETS {
                    let hold = Duration::from_secs((1u64 << (*n - free + 1).min(9)).min(300));
                    if let Some(left) = hold.checked_sub(at.elapsed()) {
                        return Err(Held::For(left));
                    }
                }
            }
        }
        st.checking.insert(name.to_string());
        Ok(())
    }

    /// The try of `name` was checked: its turn ends, and its keys are forgotten (`ok`) or
    /// count one more failure.
    fn end(&self, name: &str, keys: &[&str], ok: bool) {
        let mut st = self.0.lock().unwrap_or_else(|e| e.into_inner());
        st.checking.remove(name);
        if st.failures.len() > 10_000 {
            st.failures.retain(|_, (_, at)| at.elapsed() < THROTTLE_FORGETS);
        }
        for key in keys {
            if ok {
                st.failures.remove(*key);
                continue;
            }
            let e = st.failures.entry(key.to_string()).or_insert((0, Instant::now()));
            if e.1.elapsed() >= THROTTLE_FORGETS {
                e.0 = 0;
            }
            e.0 += 1;
            e.1 = Instant::now();
        }
    }
}

/// A name as a person may have one (`flspost user add`'s rule), for the throttle and the audit
/// log: what is longer or holds other characters is cut and masked, never kept as typed
/// (someone may type their password into the name field).
fn as_name(typed: &str) -> String {
    typed.chars().take(64).map(|c| if c.is_ascii_alphanumeric() || "._@-".contains(c) { c } else { '?' }).collect()
}

pub fn cookie(headers: &HeaderMap, name: &str) -> Option<String> {
    headers
        .get_all(header::COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(';'))
        .filter_map(|c| c.trim().split_once('='))
        .find(|(k, _)| *k == name)
        .map(|(_, v)| v.to_string())
}

fn set_cookie(state: &Shared, name: &str, value: &str, path: &str, max_age: Option<u64>) -> HeaderValue {
    let secure = if state.secure_cookies { "; Secure" } else { "" };
    let age = max_age.map(|a| format!("; Max-Age={a}")).unwrap_or_default();
    HeaderValue::from_str(&format!("{name}={value}; Path={path}; HttpOnly; SameSite=Strict{secure}{age}"))
        .expect("a cookie of hex digits is a header value")
}

/// Where the request came from, for the audit log: the peer's address, and behind a
/// reverse proxy the client it names; only a proxy on this host is believed (anyone who
/// reaches the port directly could name any client, and get a fresh throttle key each time).
pub fn origin(state: &Shared, parts: &Parts) -> String {
    let peer_ip = parts.extensions.get::<ConnectInfo<SocketAddr>>().map(|c| c.0.ip());
    let peer = peer_ip.map(|ip| ip.to_string()).unwrap_or_default();
    let from_this_host = peer_ip.is_some_and(|ip| ip.is_loopback());
    let forwarded =
        parts.headers.get("x-forwarded-for").and_then(|v| v.to_str().ok()).and_then(|v| v.rsplit(',').next()).map(
            |v| v.trim().chars().filter(|c| c.is_ascii_hexdigit() || ".:".contains(*c)).take(45).collect::<String>(),
        );
    match forwarded {
        Some(f) if state.config.server.behind_tls_proxy && from_this_host && !f.is_empty() => {
            format!("{f} (via {peer})")
        }
        _ => peer,
    }
}

/// Refuses a request another site made the browser send: a cross-site `Sec-Fetch-Site`, or
/// an `Origin` that is not this server.
fn same_origin(headers: &HeaderMap) -> Result<(), Fail> {
    if let Some(site) = headers.get("sec-fetch-site").and_then(|v| v.to_str().ok()) {
        if !matches!(site, "same-origin" | "none") {
            return Err(Fail::Forbidden(format!("a request from another site ({site}) changes nothing here")));
        }
    }
    if let Some(o) = headers.get(header::ORIGIN).and_then(|v| v.to_str().ok()) {
        let host = headers.get(header::HOST).and_then(|v| v.to_str().ok()).unwrap_or("");
        let o_host = o.split_once("://").map(|(_, h)| h).unwrap_or(o);
        if o == "null" || o_host != host {
            return Err(Fail::Forbidden("a request from another origin changes nothing here".into()));
        }
    }
    Ok(())
}

/// A person signed in, as the journal knows them now (a role changed or a person removed
/// takes effect at their next request).
pub struct Signed {
    pub user: User,
    pub csrf: String,
    token: String,
    pub origin: String,
}

impl Signed {
    pub fn actor(&self) -> Actor {
        Actor { name: self.user.name.clone(), origin: Some(self.origin.clone()) }
    }

    pub fn is_operator(&self) -> bool {
        self.user.role == Role::Operator
    }

    /// The check before any change: a same-origin request carrying this session's CSRF
    /// token, from a person with `role`.
    pub fn may_change(&self, headers: &HeaderMap, form: &Form, role: Role) -> Result<(), Fail> {
        same_origin(headers)?;
        if !form.get("csrf").is_some_and(|t| same(t, &self.csrf)) {
            return Err(Fail::Forbidden(
                "the form's CSRF token is missing or wrong: reload the page and try again".into(),
            ));
        }
        if self.user.role < role {
            return Err(Fail::Forbidden(format!(
                "this needs the {} role; {} is a {}",
                role.code(),
                self.user.name,
                self.user.role.code()
            )));
        }
        Ok(())
    }
}

impl FromRequestParts<Shared> for Signed {
    type Rejection = Fail;

    async fn from_request_parts(parts: &mut Parts, state: &Shared) -> Result<Signed, Fail> {
        let t = cookie(&parts.headers, SESSION_COOKIE).ok_or(Fail::SignIn)?;
        let (name, stamp, csrf) = state.sessions.find(&t, state.limits.idle).ok_or(Fail::SignIn)?;
        let lookup = name.clone();
        let user = state.journal(move |j| users::current(j, &lookup)).await?;
        // Removed, or its password changed (or removed and added again) since the sign-in.
        let Some(user) = user.filter(|u| u.stamp == stamp) else {
            state.sessions.end(&t);
            return Err(Fail::SignIn);
        };
        Ok(Signed { user, csrf, token: t, origin: origin(state, parts) })
    }
}

/// A session for a page that is not a change: a POST without one is refused outright rather
/// than sent to the login page.
pub async fn login_page(State(state): State<Shared>) -> Result<Response, Fail> {
    login_form(&state, None, axum::http::StatusCode::OK)
}

fn login_form(state: &Shared, error: Option<&str>, status: axum::http::StatusCode) -> Result<Response, Fail> {
    let t = token();
    let html =
        super::console::render(state, "login.html", minijinja::context! { login_token => t.clone(), error => error })?;
    let mut r = (status, html).into_response();
    r.headers_mut().append(header::SET_COOKIE, set_cookie(state, LOGIN_COOKIE, &t, "/login", Some(3600)));
    Ok(r)
}

pub async fn login(State(state): State<Shared>, req: axum::extract::Request) -> Result<Response, Fail> {
    let (parts, body) = req.into_parts();
    let body = axum::body::to_bytes(body, 64 * 1024)
        .await
        .map_err(|_| Fail::Forbidden("a sign-in form is small; this one was not".into()))?;
    let form = Form::parse(&body);
    same_origin(&parts.headers)?;
    // The login form's own token against the cookie set with it: a page on another site
    // cannot sign a browser in as someone else.
    let ok = match (cookie(&parts.headers, LOGIN_COOKIE), form.get("login_token")) {
        (Some(c), Some(f)) => same(&c, f),
        _ => false,
    };
    if !ok {
        return Err(Fail::Forbidden("the sign-in form has expired: open the login page again".into()));
    }
    let name = as_name(form.get("name").unwrap_or("").trim());
    let password = form.get("password").unwrap_or("").to_string();
    let from = origin(&state, &parts);
    let (by_name, by_pair) = (format!("name {name}"), format!("name {name} from {from}"));
    // Waits its turn behind another try of the same name (at most 10 s), then is held off or
    // checked.
    let mut waited = Duration::ZERO;
    loop {
        match state.throttle.begin(&name, &[(&by_pair, 3), (&by_name, 10)]) {
            Ok(()) => break,
            Err(Held::Turn) if waited < Duration::from_secs(10) => {
                tokio::time::sleep(Duration::from_millis(20)).await;
                waited += Duration::from_millis(20);
            }
            Err(Held::Turn) => return Err(Fail::TooMany("too many sign-ins at once: try again".into())),
            Err(Held::For(w)) => {
                return Err(Fail::TooMany(format!("too many failed sign-ins: try again in {} s", w.as_secs() + 1)))
            }
        }
    }
    let (n, p) = (name.clone(), password);
    let checked = state.journal(move |j| users::authenticate(j, &n, &p)).await;
    state.throttle.end(&name, &[&by_pair, &by_name], matches!(checked, Ok(Some(_))));
    let user = checked?;
    let actor =
        Actor { name: if user.is_some() { name.clone() } else { "(unknown)".into() }, origin: Some(from.clone()) };
    match user {
        Some(u) => {
            let a = actor.clone();
            state
                .journal(move |j| flspost::app::audit::record(j, &a, "sign-in", &format!("user {}", a.name), None))
                .await?;
            state.log.event("sign-in", &[("user", u.name.clone()), ("from", from)]);
            let t = state.sessions.create(&u, state.limits.idle);
            let mut r = Redirect::to("/").into_response();
            r.headers_mut().append(header::SET_COOKIE, set_cookie(&state, SESSION_COOKIE, &t, "/", None));
            r.headers_mut().append(header::SET_COOKIE, set_cookie(&state, LOGIN_COOKIE, "", "/login", Some(0)));
            Ok(r)
        }
        None => {
            let detail = format!("name {name}");
            state
                .journal(move |j| flspost::app::audit::record(j, &actor, "sign-in-failed", "console", Some(&detail)))
                .await?;
            state.log.warn("sign-in-failed", &[("from", from)]);
            // Every failure costs its sender a moment, on top of the throttle.
            tokio::time::sleep(Duration::from_millis(300)).await;
            login_form(&state, Some("Wrong name or password."), axum::http::StatusCode::UNAUTHORIZED)
        }
    }
}

pub async fn logout(
    State(state): State<Shared>,
    s: Signed,
    headers: HeaderMap,
    body: axum::body::Bytes,
) -> Result<Response, Fail> {
    s.may_change(&headers, &Form::parse(&body), Role::Viewer)?;
    state.sessions.end(&s.token);
    let mut r = Redirect::to("/login").into_response();
    r.headers_mut().append(header::SET_COOKIE, set_cookie(&state, SESSION_COOKIE, "", "/", Some(0)));
    Ok(r)
}
