//! A failing transport is not a failing letter (issue 19): a gateway that answers the same
//! permanent reply (5xx) for several different receivers in a row holds that transport's
//! queue, instead of failing every letter for good; a genuine 5xx for one receiver among
//! successes still fails that letter. Through the real binary and a real SMTP server
//! (aiosmtpd, `tests/support/smtp_server.py`).

use crate::common::*;
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

/// The reply of a gateway refusing every receiver alike (it quotes the RCPT address).
const REFUSE_ALL: &str = "rcpt:550 5.1.1 <{rcpt}>: Recipient address rejected: User unknown in virtual mailbox table";

/// A GLN with a valid GS1 check digit: `579000001nnn` and its check digit.
fn gln(n: u32) -> String {
    let base = format!("579000001{n:03}");
    let sum: u32 =
        base.chars().enumerate().map(|(i, c)| c.to_digit(10).unwrap() * if i % 2 == 0 { 1 } else { 3 }).sum();
    format!("{base}{}", (10 - sum % 10) % 10)
}

/// Generates one result per entry of `gps`, each to the GP numbered so ([`gln`]): the GP
/// letters are queued in this order.
fn generate_for(w: &World, gps: &[u32]) {
    let lines: Vec<String> = gps
        .iter()
        .enumerate()
        .map(|(i, gp)| {
            let mut v = sample_json("group-1.json");
            v["result_id"] = serde_json::json!(format!("HOLD-{i:03}"));
            v["gp"]["ean"] = serde_json::json!(gln(*gp));
            v.to_string()
        })
        .collect();
    let input = w.write("in/batch.jsonl", &lines.join("\n"));
    w.run(&["generate", input.to_str().unwrap()]).ok();
}

fn config(w: &World, port: u16, extra: &str) -> PathBuf {
    w.write(
        "hold.toml",
        &format!(
            "[send]\nmax_attempts = 5\n{extra}\n[transport.gp]\ntype = \"smtp\"\nurl = \"smtp://127.0.0.1:{port}\"\n\
             from = \"fls@auh.example.dk\"\nto = \"vans@vans.example.dk\"\ntimeout_seconds = 5\n\n\
             [transport.patient]\ntype = \"outbox\"\ndir = \"dp\"\n"
        ),
    )
}

fn send(w: &World, cfg: &Path) -> Run {
    w.run(&["send", "--config", cfg.to_str().unwrap()])
}

/// (id, status, reason) of every GP letter, oldest first.
fn gp_letters(w: &World) -> Vec<(i64, String, Option<String>)> {
    let mut v: Vec<_> = w
        .run(&["journal", "list", "--json"])
        .ok()
        .json()
        .into_iter()
        .filter(|m| m["kind"] == "gp-xdis91")
        .map(|m| {
            (
                m["id"].as_i64().unwrap(),
                m["status"].as_str().unwrap().to_string(),
                m["reason"].as_str().map(String::from),
            )
        })
        .collect();
    v.sort();
    v
}

fn attempts(w: &World, id: i64) -> Vec<serde_json::Value> {
    w.run(&["journal", "show", &id.to_string(), "--json"]).ok().one()["attempts"].as_array().unwrap().clone()
}

/// The replies the server gave that refused a mail.
fn refusals(server: &SmtpServer) -> Vec<String> {
    std::fs::read_to_string(server.dir.join("refused.log")).unwrap_or_default().lines().map(String::from).collect()
}

#[test]
fn a_gateway_refusing_every_receiver_alike_holds_its_queue_and_fails_no_letter() {
    let w = World::new();
    let server = SmtpServer::start(&w.path("smtp"));
    // Ten GP letters to five GPs, interleaved: 1 2 3 4 5 1 2 3 4 5.
    generate_for(&w, &[1, 2, 3, 4, 5, 1, 2, 3, 4, 5]);
    server.set_mode(REFUSE_ALL);
    let cfg = config(&w, server.port, "");
    let r = send(&w, &cfg);
    assert_eq!(r.code, 1, "stdout:\n{}\nstderr:\n{}", r.stdout, r.stderr);

    // The default threshold, 3: three letters were tried, and none failed.
    assert_eq!(refusals(&server).len(), 3, "{:?}", refusals(&server));
    let gp = gp_letters(&w);
    assert_eq!(gp.len(), 10);
    assert!(gp.iter().all(|(_, s, _)| s != "failed"), "{gp:?}");
    let held: Vec<i64> = gp.iter().filter(|(_, s, _)| s == "retry").map(|(id, _, _)| *id).collect();
    let waiting: Vec<i64> = gp.iter().filter(|(_, s, _)| s == "generated").map(|(id, _, _)| *id).collect();
    assert_eq!((held.len(), waiting.len()), (3, 7), "{gp:?}");
    assert_eq!(held, gp[..3].iter().map(|m| m.0).collect::<Vec<_>>(), "the first three of the queue were tried");
    for (id, _, reason) in &gp[..3] {
        let reason = reason.as_deref().unwrap();
        assert!(
            reason.starts_with("transport held: 3 identical permanent replies from smtp smtp://127.0.0.1:"),
            "{reason}"
        );
        assert!(reason.contains("550") && reason.contains("5.1.1"), "{reason}");
        let a = attempts(&w, *id);
        assert_eq!(a.len(), 1);
        assert_eq!(a[0]["outcome"], "permanent", "{a:?}");
    }
    for id in &waiting {
        assert!(attempts(&w, *id).is_empty(), "message {id} was tried");
    }

    // What the gateway reads: each held letter's line, and the transport's.
    let lines = r.json();
    for id in &held {
        let line = lines.iter().find(|l| l["id"] == *id).unwrap_or_else(|| panic!("no line for {id}: {}", r.stdout));
        assert_eq!((line["status"].as_str(), line["code"].as_str()), (Some("retry"), Some("transport_held")), "{line}");
    }
    let stop: Vec<_> = lines.iter().filter(|l| l["outcome"] == "held").collect();
    assert_eq!(stop.len(), 1, "{}", r.stdout);
    let stop = stop[0];
    assert_eq!(stop["code"], "transport_held");
    assert_eq!(stop["addressee"], "gp");
    assert_eq!((stop["replies"].as_u64(), stop["receivers"].as_u64()), (Some(3), Some(3)), "{stop}");
    assert_eq!(stop["held"], serde_json::json!(held));
    assert_eq!(stop["waiting"], serde_json::json!(waiting));
    assert!(stop["reason"].as_str().unwrap().contains("5.1.1"), "{stop}");
    // And the person: the hold, and the count of letters waiting behind it.
    assert!(
        r.stderr.contains("flspost: held: 3 identical permanent replies from smtp smtp://127.0.0.1:"),
        "{}",
        r.stderr
    );
    assert!(r.stderr.contains("7 waiting (transport held)"), "{}", r.stderr);
    assert!(r.stderr.contains("10 sent"), "the patients' letters went regardless: {}", r.stderr);
    let table = w.run(&["journal", "list", "--status", "retry"]).ok().stdout;
    assert_eq!(table.matches("transport held").count(), 3, "{table}");

    // The gateway is still broken: the next run is held again after as many letters (the next
    // three of the queue: the letters held before wait behind the rest).
    let again = send(&w, &cfg);
    assert_eq!(again.code, 1);
    assert_eq!(refusals(&server).len(), 6);
    assert!(gp_letters(&w).iter().all(|(_, s, _)| s != "failed"));
    assert!(again.stderr.contains("7 waiting (transport held)"), "{}", again.stderr);

    // Healthy again: every letter goes, in its first envelope (a held letter was never
    // handed over, so it is no resend).
    server.set_mode("accept");
    let ok = send(&w, &cfg).ok();
    assert!(ok.stderr.contains("10 sent"), "{}", ok.stderr);
    assert_eq!(server.mails(), 10);
    let gp = gp_letters(&w);
    assert!(gp.iter().all(|(_, s, _)| s == "sent"), "{gp:?}");
    let first = w.run(&["journal", "show", &held[0].to_string(), "--json"]).ok().one();
    assert_eq!(first["message"]["transmission"], 1);
    assert_eq!(first["message"]["send_failures"], 0, "a hold is not the letter's failure");
    let outcomes: Vec<_> = first["attempts"].as_array().unwrap().iter().map(|a| a["outcome"].clone()).collect();
    assert_eq!(outcomes, ["permanent", "sent"], "held first, then tried after the others");
}

#[test]
fn a_reply_quoting_each_message_id_is_still_the_same_reply() {
    let w = World::new();
    let server = SmtpServer::start(&w.path("smtp"));
    generate_for(&w, &[1, 2, 3, 4]);
    server.set_mode("reply:550 5.7.1 Message {message_id} refused: relay gateway misconfigured");
    let cfg = config(&w, server.port, "hold_after_identical_permanent = 2\n");
    let r = send(&w, &cfg);
    assert_eq!(r.code, 1, "{}", r.stderr);
    let quoted = refusals(&server);
    assert_eq!(quoted.len(), 2, "{quoted:?}");
    assert_ne!(quoted[0], quoted[1], "the server quoted each message's own Message-ID");
    let gp = gp_letters(&w);
    let st: Vec<&str> = gp.iter().map(|m| m.1.as_str()).collect();
    assert_eq!(st, ["retry", "retry", "generated", "generated"], "{gp:?}");
    assert!(r.stderr.contains("held: 2 identical permanent replies"), "{}", r.stderr);
}

#[test]
fn a_genuine_550_for_one_receiver_among_successes_fails_that_letter_as_before() {
    let w = World::new();
    let server = SmtpServer::start(&w.path("smtp"));
    // GP 3 gets two letters in a row: the same receiver twice is no sign of a broken gateway.
    generate_for(&w, &[1, 2, 3, 3, 4, 5]);
    server.set_mode(&format!("match:{}:reply:550 5.1.1 Receiver {} unknown", gln(3), gln(3)));
    let cfg = config(&w, server.port, "");
    let r = send(&w, &cfg);
    assert_eq!(r.code, 1, "{}", r.stderr);
    assert_eq!(refusals(&server).len(), 2);
    assert_eq!(server.mails(), 4);
    let gp = gp_letters(&w);
    let st: Vec<&str> = gp.iter().map(|m| m.1.as_str()).collect();
    assert_eq!(st, ["sent", "sent", "failed", "failed", "sent", "sent"], "{gp:?}");
    for (_, _, reason) in &gp[2..4] {
        let reason = reason.as_deref().unwrap();
        assert!(reason.starts_with("SMTP server refused") && reason.contains("550"), "{reason}");
    }
    let lines = r.json();
    assert!(lines.iter().all(|l| l["outcome"] != "held"), "{}", r.stdout);
    let failed: Vec<_> = lines.iter().filter(|l| l["status"] == "failed").collect();
    assert_eq!(failed.len(), 2);
    assert!(failed.iter().all(|l| l["code"] == "smtp_permanent"), "{failed:?}");
    assert!(!r.stderr.contains("held"), "{}", r.stderr);
    // `failed` counts one send failure, as it always did.
    let show = w.run(&["journal", "show", &gp[2].0.to_string(), "--json"]).ok().one();
    assert_eq!(show["message"]["send_failures"], 1);
}

#[test]
fn with_the_rule_off_every_permanent_reply_fails_its_letter() {
    let w = World::new();
    let server = SmtpServer::start(&w.path("smtp"));
    generate_for(&w, &[1, 2, 3, 4]);
    server.set_mode(REFUSE_ALL);
    let cfg = config(&w, server.port, "hold_after_identical_permanent = 0\n");
    let r = send(&w, &cfg);
    assert_eq!(r.code, 1);
    assert_eq!(refusals(&server).len(), 4);
    assert!(gp_letters(&w).iter().all(|(_, s, _)| s == "failed"), "{:?}", gp_letters(&w));
    // And 1 is no streak: refused, naming the key.
    let bad = config(&w, server.port, "hold_after_identical_permanent = 1\n");
    let r = send(&w, &bad);
    assert_eq!(r.code, 2, "{}", r.stderr);
    assert!(r.stderr.contains("hold_after_identical_permanent"), "{}", r.stderr);
    assert_eq!(r.one()["error"]["code"], "config");
}

#[test]
fn a_short_streak_at_the_end_of_the_queue_fails_its_letters() {
    let w = World::new();
    let server = SmtpServer::start(&w.path("smtp"));
    // Two receivers only: fewer than the threshold cannot show the gateway is broken.
    generate_for(&w, &[1, 2]);
    server.set_mode(REFUSE_ALL);
    let cfg = config(&w, server.port, "");
    let r = send(&w, &cfg);
    assert_eq!(r.code, 1);
    assert!(gp_letters(&w).iter().all(|(_, s, _)| s == "failed"), "{:?}", gp_letters(&w));
    assert_eq!(r.json().iter().filter(|l| l["code"] == "smtp_permanent").count(), 2, "{}", r.stdout);
}

/// SIGKILL in the middle of a streak: the letters already refused are `retry` (never
/// `failed` by a decision that was not made), every attempt row is there, and the next
/// `send` closes the one left open and delivers every letter once.
#[test]
fn a_send_killed_during_a_streak_leaves_nothing_claimed_for_ever() {
    let w = World::new();
    let server = SmtpServer::start(&w.path("smtp"));
    generate_for(&w, &[1, 2, 3, 4, 5]);
    // Each refusal comes 1.5 s after the RCPT: the kill falls inside the second one's wait.
    server.set_mode(&format!("wait:1.5:{REFUSE_ALL}"));
    let cfg = config(&w, server.port, "");
    let mut child = w
        .cmd()
        .args(["send", "--config", cfg.to_str().unwrap()])
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::null())
        .spawn()
        .unwrap();
    let deadline = Instant::now() + Duration::from_secs(30);
    // Until the first refusal is recorded.
    loop {
        assert!(Instant::now() < deadline, "the first refusal was never recorded");
        let first = gp_letters(&w)[0].0;
        if attempts(&w, first).first().is_some_and(|a| a["outcome"] == "permanent") {
            break;
        }
        std::thread::sleep(Duration::from_millis(20));
    }
    std::thread::sleep(Duration::from_millis(300));
    child.kill().unwrap(); // SIGKILL
    child.wait().unwrap();

    let gp = gp_letters(&w);
    assert!(gp.iter().all(|(_, s, _)| s != "failed"), "{gp:?}");
    assert_eq!(gp[0].1, "retry", "{gp:?}");
    let provisional = gp[0].2.as_deref().unwrap();
    assert!(provisional.contains("550") && provisional.contains("not yet decided"), "{provisional}");
    let open: usize =
        gp.iter().map(|(id, _, _)| attempts(&w, *id).iter().filter(|a| a["outcome"].is_null()).count()).sum();
    assert_eq!(open, 1, "the second letter's hand-over was under way: {gp:?}");

    server.set_mode("accept");
    w.leases_run_out();
    send(&w, &cfg).ok();
    assert_eq!(server.mails(), 5);
    let gp = gp_letters(&w);
    assert!(gp.iter().all(|(_, s, _)| s == "sent"), "{gp:?}");
    for (id, _, _) in &gp {
        assert!(attempts(&w, *id).iter().all(|a| !a["outcome"].is_null()), "message {id} is still claimed");
    }
    let second: Vec<_> = attempts(&w, gp[1].0).iter().map(|a| a["outcome"].clone()).collect();
    assert_eq!(second, ["interrupted", "sent"]);
    let first: Vec<_> = attempts(&w, gp[0].0).iter().map(|a| a["outcome"].clone()).collect();
    assert_eq!(first, ["permanent", "sent"]);
}

#[test]
fn letters_held_before_go_after_the_rest_and_fail_on_their_own_once_the_transport_takes_others() {
    let w = World::new();
    let server = SmtpServer::start(&w.path("smtp"));
    // Three GPs unknown to the gateway, answered alike; a fourth it knows, queued behind them.
    generate_for(&w, &[11, 12, 13, 20]);
    server.set_mode("match:57900000101:reply:550 5.1.1 <gp>: Recipient address rejected: User unknown");
    let cfg = config(&w, server.port, "");
    send(&w, &cfg);
    let st = |w: &World| gp_letters(w).iter().map(|m| m.1.clone()).collect::<Vec<_>>();
    assert_eq!(st(&w), ["retry", "retry", "retry", "generated"], "held: the fourth waits");
    // The next run tries the waiting letter first; the gateway takes it, so the same reply
    // again for the three held ones is theirs: they fail, and nothing stays held for ever.
    let r = send(&w, &cfg);
    assert_eq!(st(&w), ["failed", "failed", "failed", "sent"], "{}{}", r.stdout, r.stderr);
    assert_eq!(server.mails(), 1);
}
