//! `flspost resend-due`: the resend policy (`[resend]`) under a pinned clock, a CareCommunication
//! resent when its Acknowledgement is overdue and no more than the policy's limit, then in the
//! work queue for a person with what was tried; a manual policy resends nothing; many runs at
//! once on one journal (one killed) make each resend exactly once.

use crate::common::*;
use std::path::PathBuf;
use std::time::Duration;

/// Outbox transports, the samples' GP on CareCommunication, and `[resend]` as `resend` says.
fn config(w: &World, resend: Option<&str>) -> PathBuf {
    let table = sample_receivers();
    let c = ConfigOf { receivers: Some(&table), resend, ..ConfigOf::outboxes() };
    w.config("c.toml", &c)
}

/// `resend-due` then `send` at `minutes` after the first hand-over; the outcomes it printed.
fn tick(w: &mut World, cfg: &std::path::Path, minutes: i64) -> Vec<String> {
    w.later_by(chrono::Duration::minutes(minutes));
    let r = w.run_with(cfg, &["resend-due"]).ok();
    w.run_with(cfg, &["send"]).ok();
    r.json().iter().map(|l| l["outcome"].as_str().unwrap().to_string()).collect()
}

/// Transmissions of the GP letters, by result: how many of each were recorded.
fn transmissions(w: &World) -> std::collections::BTreeMap<String, Vec<i64>> {
    let mut by = std::collections::BTreeMap::<String, Vec<i64>>::new();
    for m in w.run(&["journal", "list", "--json"]).ok().json() {
        if m["kind"] == "gp-carecommunication" {
            by.entry(m["result_id"].as_str().unwrap().to_string())
                .or_default()
                .push(m["transmission"].as_i64().unwrap());
            by.values_mut().for_each(|v| v.sort());
        }
    }
    by
}

fn queue_causes(w: &World, cfg: &std::path::Path) -> Vec<(String, String)> {
    w.run_with(cfg, &["journal", "queue", "--json"])
        .ok()
        .json()
        .iter()
        .map(|p| (p["cause"].as_str().unwrap().to_string(), p["reason"].as_str().unwrap().to_string()))
        .collect()
}

#[test]
fn the_test_protocols_policy_resends_three_times_after_30_minutes_then_a_person_looks() {
    let mut w = World::new();
    let cfg = config(&w, Some("preset = \"certification\""));
    w.sent(&cfg, &sample("group-1.json"));
    assert_eq!(tick(&mut w, &cfg, 29), Vec::<String>::new(), "not before 30 minutes");
    assert_eq!(tick(&mut w, &cfg, 30), ["resent"]);
    assert_eq!(tick(&mut w, &cfg, 30), Vec::<String>::new(), "the same minute again: nothing more");
    assert_eq!(tick(&mut w, &cfg, 59), Vec::<String>::new(), "the resend waits its own 30 minutes");
    assert_eq!(tick(&mut w, &cfg, 60), ["resent"]);
    assert_eq!(tick(&mut w, &cfg, 90), ["resent"]);
    assert_eq!(tick(&mut w, &cfg, 120), ["limit"]);
    assert_eq!(tick(&mut w, &cfg, 200), ["limit"]);
    assert_eq!(transmissions(&w)["FLS-AUH-2025-0001"], [1, 2, 3, 4]);
    let causes = queue_causes(&w, &cfg);
    assert_eq!(causes.len(), 1, "{causes:?}");
    assert_eq!(causes[0].0, "unanswered_limit");
    // What was tried: every transmission and when it went.
    let reason = &causes[0].1;
    assert!(reason.starts_with("sent 4 times, no receipt or Acknowledgement: transmission 1 (message 1) at 2025-03-20 10:30, transmission 2"), "{reason}");
    assert!(reason.contains("transmission 4 (message 5) at 2025-03-20 12:00"), "{reason}");
}

#[test]
fn the_regions_policy_waits_120_minutes_and_the_default_resends_only_by_hand_twice() {
    let mut w = World::new();
    let cfg = config(&w, Some("preset = \"region\""));
    w.sent(&cfg, &sample("group-1.json"));
    assert_eq!(tick(&mut w, &cfg, 119), Vec::<String>::new());
    assert_eq!(tick(&mut w, &cfg, 120), ["resent"]);
    assert_eq!(tick(&mut w, &cfg, 239), Vec::<String>::new());
    assert_eq!(tick(&mut w, &cfg, 240), ["resent"]);

    // The governance's (the default): due after 30 minutes, resent by nobody but a person.
    let mut m = World::new();
    let cfg = config(&m, None);
    m.sent(&cfg, &sample("group-1.json"));
    assert_eq!(tick(&mut m, &cfg, 30), ["due"]);
    assert_eq!(transmissions(&m)["FLS-AUH-2025-0001"], [1]);
    assert_eq!(queue_causes(&m, &cfg)[0].0, "unanswered");
    for (minutes, id) in [(31, "1"), (62, "3")] {
        m.later_by(chrono::Duration::minutes(minutes));
        m.run_with(&cfg, &["regenerate", id]).ok();
        m.run_with(&cfg, &["send"]).ok();
    }
    m.later_by(chrono::Duration::minutes(100));
    let r = m.run_with(&cfg, &["regenerate", "4"]);
    assert_eq!(r.code, 2, "{}", r.stderr);
    assert!(r.stderr.contains("allows 2 resends"), "{}", r.stderr);
    assert_eq!(queue_causes(&m, &cfg)[0].0, "unanswered_limit");
}

#[test]
fn a_resend_policy_outside_medcoms_texts_is_refused_naming_the_key() {
    let w = World::new();
    for (table, key) in [
        ("max_resends = 4", "resend.max_resends = 4"),
        ("after_minutes = 10", "resend.after_minutes = 10"),
        ("preset = \"fast\"", "resend.preset `fast`"),
    ] {
        let cfg = config(&w, Some(table));
        let r = w.run_with(&cfg, &["resend-due"]);
        assert_eq!(r.code, 2, "{table}: {}", r.stderr);
        assert!(r.stderr.contains(key), "{table}: {}", r.stderr);
    }
}

/// A person closes the overdue letter ("phoned the GP") while `resend-due` has read it and
/// waits for the write lock (another client holds it): the resend is asked again under the
/// lock and not made.
#[test]
fn a_letter_closed_by_hand_while_resend_due_decides_is_not_resent() {
    let mut w = World::new();
    let cfg = config(&w, Some("preset = \"certification\""));
    let id = w.sent(&cfg, &sample("group-1.json"))["id"].as_i64().unwrap();
    w.later_by(chrono::Duration::minutes(30));
    let closed = "UPDATE messages SET handled_at = '2025-03-20T10:45:00Z', handled_by = 'support', \
                  handled_note = 'phoned the GP' WHERE id = ?1";
    let r = w.changed_meanwhile(closed, id, || w.run_with(&cfg, &["resend-due"]));
    let lines = r.ok().json();
    assert_eq!(lines.len(), 1, "{lines:?}");
    assert_eq!(lines[0]["outcome"], "skipped", "{lines:?}");
    assert!(lines[0]["reason"].as_str().unwrap().contains("closed by support"), "{lines:?}");
    assert_eq!(transmissions(&w)["FLS-AUH-2025-0001"], [1], "resent behind the person's back");
}

/// Several `resend-due` at once on one journal, every minute as timers on several hosts
/// would, one of them killed: each overdue letter gets exactly one resend.
#[test]
fn many_resend_due_at_once_one_killed_resend_each_letter_once() {
    let _exclusive = exclusive();
    let mut w = World::new();
    let cfg = config(&w, Some("preset = \"certification\""));
    let lines = sample_lines("FLS-AUH-2025-RD", 12).join("\n");
    w.write("batch.jsonl", &lines);
    let out = w.out();
    w.run_with(
        &cfg,
        &["generate", "--jsonl", "--out-dir", out.to_str().unwrap(), w.path("batch.jsonl").to_str().unwrap()],
    )
    .ok();
    w.run_with(&cfg, &["send"]).ok();
    let letters = transmissions(&w).len();
    assert!(letters >= 6, "{letters} CareCommunications");
    w.later_by(chrono::Duration::minutes(31));
    let spawn = |i: usize| {
        let (o, e) = (w.path(&format!("rd-{i}.out")), w.path(&format!("rd-{i}.err")));
        let child = w
            .cmd()
            .args(["resend-due", "--config", cfg.to_str().unwrap()])
            .stdout(std::fs::File::create(&o).unwrap())
            .stderr(std::fs::File::create(&e).unwrap())
            .spawn()
            .unwrap();
        (child, o)
    };
    let mut runs: Vec<_> = (0..5).map(spawn).collect();
    std::thread::sleep(Duration::from_millis(30));
    let _ = runs[0].0.kill(); // SIGKILL, wherever it is
    let mut resent = 0;
    for (i, (child, o)) in runs.iter_mut().enumerate() {
        let status = child.wait().unwrap();
        let text = std::fs::read_to_string(&*o).unwrap();
        if i > 0 {
            assert_eq!(status.code(), Some(0), "run {i}: {text}");
        }
        for l in text.lines().filter(|l| l.starts_with('{')) {
            let v: serde_json::Value = serde_json::from_str(l).unwrap();
            assert!(["resent", "skipped"].contains(&v["outcome"].as_str().unwrap()), "run {i}: {l}");
            resent += usize::from(v["outcome"] == "resent");
        }
    }
    // What the killed run left undone, the next tick does; then nothing is left.
    let after = w.run_with(&cfg, &["resend-due"]).ok();
    resent += after.json().iter().filter(|v| v["outcome"] == "resent").count();
    // The killed run may have recorded resends and died before printing them: the journal
    // says what was made (below), and no run reported one twice.
    assert!(resent <= letters, "{resent} reported for {letters} letters");
    for i in 1..5 {
        eprintln!(
            "run {i}: {}",
            std::fs::read_to_string(w.path(&format!("rd-{i}.err"))).unwrap().lines().last().unwrap_or("")
        );
    }
    assert_eq!(w.run_with(&cfg, &["resend-due"]).ok().json().len(), 0, "idempotent");
    for (result, t) in transmissions(&w) {
        assert_eq!(t, [1, 2], "{result}: transmission 2 exactly once");
    }
    w.run(&["journal", "verify"]).ok();
}
