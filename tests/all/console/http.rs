//! The console over plain HTTP: what a change needs (a session, the operator role, the CSRF
//! token, a same-origin request), that no page or header holds a CPR number unless a person
//! asked for it, sign-in slowed after failures, and where the server may listen.

use super::{bad_morning, sample_cprs, value_of, Client, Server, OPERATOR, VIEWER};
use crate::common::World;

/// Every route that changes something, with a form that would do it.
fn changes() -> Vec<(&'static str, Vec<(&'static str, &'static str)>)> {
    vec![
        ("/queue/act", vec![("action", "resend"), ("id", "3")]),
        ("/queue/act", vec![("action", "handle"), ("id", "R1"), ("note", "closed by a forgery")]),
        ("/messages/3/resend", vec![]),
        ("/messages/3/reroute", vec![]),
        ("/messages/3/handle", vec![("note", "closed by a forgery")]),
        ("/messages/3/correct", vec![("input", "{}")]),
        ("/messages/3/reveal", vec![]),
        ("/logout", vec![]),
    ]
}

fn audit_rows(w: &World) -> i64 {
    w.db().query_row("SELECT COUNT(*) FROM audit WHERE action NOT IN ('sign-in', 'sign-in-failed')", [], |r| r.get(0)).unwrap()
}

fn messages(w: &World) -> i64 {
    w.db().query_row("SELECT COUNT(*) FROM messages", [], |r| r.get(0)).unwrap()
}

#[test]
fn every_change_needs_a_session_the_operator_role_and_the_csrf_token() {
    let mut w = World::new();
    let cfg = bad_morning(&mut w);
    let s = Server::start(&w, &cfg);
    let (before_audit, before_messages) = (audit_rows(&w), messages(&w));

    let mut operator = Client::new(&s);
    operator.sign_in(OPERATOR);
    let good = operator.csrf();
    let mut viewer = Client::new(&s);
    viewer.sign_in(VIEWER);
    let viewer_csrf = viewer.csrf();
    for (path, form) in changes() {
        // No session at all.
        let a = Client::new(&s).post(path, &[&form[..], &[("csrf", &good)]].concat());
        assert_ne!(a.status / 100, 2, "{path} without a session: {}", a.text());
        if a.status == 303 {
            assert_eq!(a.header("location"), Some("/login"), "{path}");
        }
        // A session without the token, and with another's.
        let a = operator.post(path, &form);
        assert_eq!(a.status, 403, "{path} without the CSRF token: {}", a.text());
        let a = operator.post(path, &[&form[..], &[("csrf", &viewer_csrf)]].concat());
        assert_eq!(a.status, 403, "{path} with another session's CSRF token");
        // The right token, sent by another site (the browser says so, or the Origin does).
        let body = url::form_urlencoded::Serializer::new(String::new()).extend_pairs(&form).append_pair("csrf", &good).finish();
        for forged in [("Sec-Fetch-Site", "cross-site"), ("Origin", "http://evil.example")] {
            let a = operator.send("POST", path, Some(("application/x-www-form-urlencoded", body.clone().into_bytes())), &[forged]);
            assert_eq!(a.status, 403, "{path} forged with {forged:?}: {}", a.text());
        }
        // A viewer may reveal and sign out, nothing else.
        if !matches!(path, "/messages/3/reveal" | "/logout") {
            let a = viewer.post(path, &[&form[..], &[("csrf", &viewer_csrf)]].concat());
            assert_eq!(a.status, 403, "{path} as a viewer: {}", a.text());
        }
    }
    // The upload takes its token from a multipart form.
    let multipart = |csrf: &str| {
        let b = "XyZboundary";
        let body = format!(
            "--{b}\r\nContent-Disposition: form-data; name=\"csrf\"\r\n\r\n{csrf}\r\n--{b}\r\nContent-Disposition: form-data; \
             name=\"file\"; filename=\"r.xml\"\r\nContent-Type: text/xml\r\n\r\n<x/>\r\n--{b}--\r\n"
        );
        (format!("multipart/form-data; boundary={b}"), body.into_bytes())
    };
    let (ct, body) = multipart("wrong");
    assert_eq!(operator.send("POST", "/upload", Some((&ct, body)), &[]).status, 403);
    let (ct, body) = multipart(&viewer_csrf);
    assert_eq!(viewer.send("POST", "/upload", Some((&ct, body)), &[]).status, 403);
    let (ct, body) = multipart(&good);
    assert_ne!(Client::new(&s).send("POST", "/upload", Some((&ct, body)), &[]).status / 100, 2);

    assert_eq!(audit_rows(&w), before_audit, "a refused request recorded an act");
    assert_eq!(messages(&w), before_messages, "a refused request made a message");
    let handled: i64 = w.db().query_row("SELECT COUNT(*) FROM messages WHERE handled_at IS NOT NULL", [], |r| r.get(0)).unwrap();
    assert_eq!(handled, 0);

    // And with all of it, the act is done and recorded.
    let a = operator.post("/messages/3/handle", &[("csrf", &good), ("note", "sent by letter post")]);
    assert_eq!(a.status, 200, "{}", a.text());
    assert_eq!(audit_rows(&w), before_audit + 1);
    let row: (String, Option<String>) =
        w.db().query_row("SELECT who, origin FROM audit WHERE action = 'handle'", [], |r| Ok((r.get(0)?, r.get(1)?))).unwrap();
    assert_eq!(row, (OPERATOR.0.to_string(), Some("127.0.0.1".to_string())));
}

#[test]
fn no_page_or_header_holds_a_cpr_number_until_a_person_asks_and_that_is_audited() {
    let mut w = World::new();
    let cfg = bad_morning(&mut w);
    let s = Server::start(&w, &cfg);
    let cprs = sample_cprs();
    let leaks = |what: &str, text: &str| {
        for c in &cprs {
            assert!(!text.contains(c.as_str()), "{what} holds the CPR number {c}");
        }
    };
    for who in [OPERATOR, VIEWER] {
        let mut c = Client::new(&s);
        leaks("the login page", &c.get("/login").everything());
        c.sign_in(who);
        let ids: Vec<i64> = {
            let db = w.db();
            let mut st = db.prepare("SELECT id FROM messages").unwrap();
            st.query_map([], |r| r.get(0)).unwrap().map(Result::unwrap).collect()
        };
        let mut pages = vec!["/".to_string(), "/queue".into(), "/queue?all=1".into(), "/audit".into(), "/upload".into(), "/metrics".into(), "/healthz".into()];
        pages.extend(ids.iter().map(|id| format!("/messages/{id}")));
        pages.extend(ids.iter().map(|id| format!("/messages/{id}/pdf")));
        for p in &pages {
            let a = c.get(p);
            assert!(a.status == 200 || (a.status == 403 && who == VIEWER) || (a.status == 422 && p.ends_with("/pdf")), "{p}: {}", a.status);
            leaks(p, &a.everything());
        }
        // A patient's problems found by number: the number is in the request, not the answer.
        let csrf = c.csrf();
        let a = c.post("/queue", &[("cpr", &cprs[2]), ("csrf", &csrf)]);
        assert_eq!(a.status, 200);
        leaks("the queue searched by CPR", &a.everything());
        assert!(a.text().contains("/messages/3\""), "the search finds the patient's rejected letter");
    }
    leaks("the server's log", &s.log());

    // Asked for: shown, and the audit log says who asked, for which message, from where.
    let mut c = Client::new(&s);
    c.sign_in(VIEWER);
    let csrf = c.csrf();
    let a = c.post("/messages/3/reveal", &[("csrf", &csrf)]);
    assert_eq!(a.status, 200);
    assert!(a.text().contains(&cprs[3]), "the revealed page shows message 3's CPR number");
    let (who, target, origin): (String, String, Option<String>) = w
        .db()
        .query_row("SELECT who, target, origin FROM audit WHERE action = 'reveal-cpr'", [], |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)))
        .unwrap();
    assert_eq!((who.as_str(), target.as_str(), origin.as_deref()), (VIEWER.0, "message 3", Some("127.0.0.1")));
    // The next visit masks it again, and the log never had it.
    leaks("the page after a reveal", &c.get("/messages/3").everything());
    leaks("the server's log", &s.log());
    let audit = w.run(&["journal", "audit"]).ok().stdout;
    assert!(audit.contains("reveal-cpr") && audit.contains("127.0.0.1"), "{audit}");
}

#[test]
fn headers_sessions_and_sign_in() {
    let mut w = World::new();
    let cfg = bad_morning(&mut w);
    let s = Server::start(&w, &cfg);
    let mut c = Client::new(&s);
    // Pages need a session; the login page is the way in.
    let a = c.get("/queue");
    assert_eq!((a.status, a.header("location")), (303, Some("/login")));
    let a = c.get("/login");
    let csp = a.header("content-security-policy").unwrap().to_string();
    assert!(csp.contains("default-src 'none'") && !csp.contains("script-src"), "{csp}");
    assert!(!a.text().contains("<script"), "no script on any page");
    // Wrong passwords: refused, then held off for a while, whatever the password then.
    for _ in 0..3 {
        assert_eq!(c.try_sign_in(OPERATOR.0, "not the password").status, 401);
    }
    assert_eq!(c.try_sign_in(OPERATOR.0, OPERATOR.1).status, 429, "the fourth try after three failures waits");
    // Another person from another session signs in; the cookie is HttpOnly and SameSite=Strict.
    let mut v = Client::new(&s);
    let page = v.get("/login").text();
    let token = value_of(&page, "login_token").unwrap();
    let a = v.post("/login", &[("login_token", &token), ("name", VIEWER.0), ("password", VIEWER.1)]);
    // Not locked out with them: a colleague behind the same address (everyone on one proxy)
    // signs in.
    assert_eq!(a.status, 303, "another person from the same address: {}", a.text());
    let failed: i64 = w.db().query_row("SELECT COUNT(*) FROM audit WHERE action = 'sign-in-failed'", [], |r| r.get(0)).unwrap();
    assert_eq!(failed, 3);
}

/// Guesses sent in parallel get no more tries than one after another would: a try counts the
/// moment it is let through, before its password is checked.
#[test]
fn parallel_guesses_get_no_more_tries_than_sequential_ones() {
    let mut w = World::new();
    let cfg = bad_morning(&mut w);
    let s = Server::start(&w, &cfg);
    let checked: Vec<u16> = std::thread::scope(|scope| {
        let runs: Vec<_> = (0..12)
            .map(|_| {
                let s = &s;
                scope.spawn(move || Client::new(s).try_sign_in(OPERATOR.0, "not the password").status)
            })
            .collect();
        runs.into_iter().map(|r| r.join().unwrap()).collect()
    });
    let wrong = checked.iter().filter(|c| **c == 401).count();
    assert!(wrong <= 3, "{wrong} of 12 parallel guesses were checked: {checked:?}");
    assert!(checked.iter().all(|c| *c == 401 || *c == 429), "{checked:?}");
}

/// A session is over once the person's password changes, or the name is removed and given
/// again (even with another role), however active it was.
#[test]
fn a_password_change_or_a_name_given_again_ends_the_sessions_before() {
    let mut w = World::new();
    let cfg = bad_morning(&mut w);
    let s = Server::start(&w, &cfg);
    let config = cfg.to_str().unwrap();
    let mut v = Client::new(&s);
    v.sign_in(VIEWER);
    assert_eq!(v.get("/queue").status, 200);
    w.run_stdin(&["user", "passwd", VIEWER.0, "--config", config], b"another-password-34").ok();
    let a = v.get("/queue");
    assert_eq!((a.status, a.header("location")), (303, Some("/login")), "after the password change");

    let mut again = Client::new(&s);
    again.sign_in((VIEWER.0, "another-password-34"));
    assert_eq!(again.get("/queue").status, 200);
    w.run(&["user", "remove", VIEWER.0, "--config", config]).ok();
    w.run_stdin(&["user", "add", VIEWER.0, "--role", "operator", "--config", config], b"another-password-34").ok();
    let a = again.get("/queue");
    assert_eq!(a.status, 303, "the old session does not come back as the new operator: {}", a.text());
}

/// Looking a patient up by CPR number is kept in the audit log (masked), and an address that
/// holds a CPR number instead of a message id is not echoed back, nor the journal's path.
#[test]
fn a_cpr_search_is_audited_and_a_cpr_in_the_address_is_not_echoed() {
    let mut w = World::new();
    let cfg = bad_morning(&mut w);
    let s = Server::start(&w, &cfg);
    let mut v = Client::new(&s);
    v.sign_in(VIEWER);
    let csrf = v.csrf();
    let a = v.post("/queue", &[("cpr", "0211223989"), ("csrf", &csrf)]);
    assert_eq!(a.status, 200, "{}", a.text());
    let searched: Vec<(String, String)> = w
        .db()
        .prepare("SELECT who, detail FROM audit WHERE action = 'cpr-search'")
        .unwrap()
        .query_map([], |r| Ok((r.get(0)?, r.get(1)?)))
        .unwrap()
        .map(Result::unwrap)
        .collect();
    assert_eq!(searched, vec![(VIEWER.0.to_string(), "021122-xxxx".to_string())]);
    for path in ["/messages/0211223989", "/messages/2111223989"] {
        let a = v.get(path);
        assert_eq!(a.status, 404, "{path}");
        let text = a.everything();
        assert!(!text.contains("211223989") && !text.contains("journal.sqlite"), "{path}: {text}");
    }
}


#[test]
fn a_session_cookie_is_httponly_strict_and_a_viewer_sees_no_operator_buttons() {
    let mut w = World::new();
    let cfg = bad_morning(&mut w);
    let s = Server::start(&w, &cfg);
    let mut c = Client::new(&s);
    let page = c.get("/login").text();
    let token = value_of(&page, "login_token").unwrap();
    let a = c.post("/login", &[("login_token", &token), ("name", VIEWER.0), ("password", VIEWER.1)]);
    let cookie = a.headers.iter().find(|(k, v)| k == "set-cookie" && v.starts_with("flspost_session=")).unwrap().1.clone();
    assert!(cookie.contains("HttpOnly") && cookie.contains("SameSite=Strict") && !cookie.contains("Secure"), "{cookie}");
    let m = c.get("/messages/3").text();
    assert!(m.contains("problem_med_modtagerID"), "the rejected letter's reason");
    assert!(!m.contains("/messages/3/resend") && !m.contains("/download/input"), "a viewer has no resend button");
    assert!(!c.get("/queue").text().contains("value=\"resend\""));
    assert_eq!(c.get("/messages/3/download/input").status, 403);
    let healthz = c.get("/healthz");
    assert_eq!(healthz.status, 200);
    let v: serde_json::Value = serde_json::from_slice(&healthz.body).unwrap();
    assert_eq!((v["journal"].as_str(), v["schema_version"].as_i64()), (Some("reachable"), Some(6)));
    // SIGTERM: it stops taking requests and exits 0.
    let (code, log) = s.stop();
    assert_eq!(code, 0, "{log}");
    assert!(log.contains("stopped"), "{log}");
}

#[test]
fn the_server_never_listens_beyond_loopback_without_tls() {
    let mut w = World::new();
    let cfg = bad_morning(&mut w);
    let base = std::fs::read_to_string(&cfg).unwrap();
    for listen in ["0.0.0.0:0", "[::]:0"] {
        std::fs::write(&cfg, format!("{base}\n[server]\nlisten = \"{listen}\"\n")).unwrap();
        let Err((code, err)) = Server::try_start(&w, &cfg) else { panic!("serve listened on {listen} without TLS") };
        assert_eq!(code, 2, "{err}");
        assert!(err.contains("tls_cert") && err.contains("behind_tls_proxy"), "{err}");
    }
    // Said explicitly that a proxy terminates TLS: it listens, and its cookies are Secure.
    std::fs::write(&cfg, format!("{base}\n[server]\nlisten = \"0.0.0.0:0\"\nbehind_tls_proxy = true\n")).unwrap();
    let s = Server::start(&w, &cfg);
    let mut c = Client::new(&s);
    c.addr = format!("127.0.0.1:{}", s.addr.rsplit(':').next().unwrap());
    let page = c.get("/login");
    assert!(page.header("set-cookie").unwrap().contains("Secure"));
}

/// MedCom's test protocol 3.3.3.3/3.3.3.6: the latest answer is what the screen shows as the
/// letter's answer, on its page as in `journal show`; a letter with none names none.
#[test]
fn a_message_page_names_the_letter_s_latest_answer() {
    let mut w = World::new();
    let cfg = bad_morning(&mut w);
    let s = Server::start(&w, &cfg);
    let mut c = Client::new(&s);
    c.sign_in(VIEWER);
    let rejected = c.get("/messages/3").text();
    assert!(
        rejected.contains("<dt>Latest answer</dt><dd class=\"latest\">XCTL02 to transmission 1 (message 3), rejected,"),
        "{rejected}"
    );
    let unanswered = c.get("/messages/5").text();
    assert!(
        unanswered.contains("No receipt or Acknowledgement.") && !unanswered.contains("Latest answer"),
        "{unanswered}"
    );
}

/// A letter no one answered has no reason of its own: its page says what the work queue says
/// was tried (`sent 4 times ...` once the resend policy's limit is reached).
#[test]
fn a_message_page_gives_its_problem_s_reason() {
    let mut w = World::new();
    let cfg = bad_morning(&mut w);
    let queue = w.run_with(&cfg, &["journal", "queue", "--json"]).ok().json();
    let problem = queue.iter().find(|p| p["key"] == "5").unwrap_or_else(|| panic!("{queue:?}"));
    assert!(problem["cause"].as_str().unwrap().starts_with("unanswered"), "{problem}");
    let s = Server::start(&w, &cfg);
    let mut c = Client::new(&s);
    c.sign_in(VIEWER);
    let page = c.get("/messages/5").text();
    let reason = problem["reason"].as_str().unwrap();
    assert!(page.contains(&format!("<p class=\"reason problem\">{reason}</p>")), "{reason}:\n{page}");
}
