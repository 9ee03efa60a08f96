//! The support work queue: `journal queue`, `journal summary` and `journal handle` over a
//! morning with a rejected letter, an acknowledged one and GP letters waiting for answers.

use crate::common::*;

/// The four samples generated and sent to outboxes, and the two sample receipts read: the
/// group 2a letter (message 3, patient 0211223989) rejected with `problem_med_modtagerID`,
/// the group 1 letter acknowledged.
fn morning(w: &World) -> std::path::PathBuf {
    let cfg = w.outbox_config();
    w.morning_of(&cfg, &SAMPLES.map(sample));
    cfg
}

fn queue(w: &World, args: &[&str]) -> Vec<serde_json::Value> {
    let mut all = vec!["journal", "queue", "--json"];
    all.extend(args);
    w.run(&all).ok().json()
}

/// Later than the pinned send time by `minutes`.
fn later(w: &mut World, minutes: i64) {
    w.later_by(chrono::Duration::minutes(minutes));
}

#[test]
fn a_rejected_letter_is_in_the_queue_with_its_cause_and_what_to_do() {
    let w = World::new();
    morning(&w);
    let q = queue(&w, &[]);
    assert_eq!(q.len(), 1, "{q:?}");
    let p = &q[0];
    assert_eq!(p["key"], "3");
    assert_eq!(p["result_id"], "FLS-AUH-2025-0002");
    assert_eq!(p["status"], "rejected");
    assert_eq!(p["cause"], "xctl_refused/problem_med_modtagerID");
    assert_eq!(p["state"], "open");
    assert!(p["action"].as_str().unwrap().contains("correct `gp.identifier`"), "{p}");
    assert_eq!(p["cpr_masked"], "021122-xxxx");

    // The table says the same, with the action once under it, in Danish time.
    let r = w.run(&["journal", "queue"]).ok();
    assert!(r.stdout.contains("xctl_refused/problem_med_modtagerID"), "{}", r.stdout);
    assert!(r.stdout.contains("2025-03-20 10:30"), "Danish time on screen:\n{}", r.stdout);
    assert!(r.stdout.lines().last().unwrap().starts_with("xctl_refused/problem_med_modtagerID: The receiver id"));
}

#[test]
fn letters_sent_and_unanswered_past_thirty_minutes_join_the_queue() {
    let mut w = World::new();
    morning(&w);
    later(&mut w, 29);
    assert_eq!(queue(&w, &[]).len(), 1, "not yet: MedCom's 30 minutes have not passed");
    later(&mut w, 31);
    let q = queue(&w, &[]);
    // XDIS91 letters: no failure, but the stricter reading of MedCom expects a receipt.
    let unanswered: Vec<_> = q.iter().filter(|p| p["cause"] == "unanswered_xdis91").collect();
    // Groups 2b and 3 (groups 1 and 2a were answered); patient letters get no answer.
    assert_eq!(unanswered.len(), 2, "{q:?}");
    assert!(unanswered.iter().all(|p| p["kind"] == "gp-xdis91" && p["status"] == "sent"));
    // Oldest first (the pinned clock gives them one instant: then by message).
    let order: Vec<(&str, &str)> =
        q.iter().map(|p| (p["since"].as_str().unwrap(), p["key"].as_str().unwrap())).collect();
    assert_eq!(order.iter().map(|o| o.1).collect::<Vec<_>>(), ["3", "5", "7"], "{order:?}");
}

#[test]
fn a_summary_counts_statuses_kinds_causes_and_transports() {
    let mut w = World::new();
    morning(&w);
    later(&mut w, 60);
    let s = w.run(&["journal", "summary", "--json"]).ok().one();
    assert_eq!(s["by_status"], serde_json::json!({"acknowledged": 1, "rejected": 1, "sent": 6}));
    assert_eq!(s["by_kind"], serde_json::json!({"gp-xdis91": 4, "patient-memo": 4}));
    assert_eq!(s["open_problems"], 3);
    assert_eq!(s["problems"]["xctl_refused/problem_med_modtagerID"]["open"], 1);
    assert_eq!(s["problems"]["unanswered_xdis91"]["open"], 2);
    assert_eq!(s["unanswered"], 2);
    assert_eq!(s["longest_unanswered_minutes"], 60);
    assert_eq!(s["refused_inputs_today"], 0);
    let transports = s["transports"].as_array().unwrap();
    assert_eq!(transports.len(), 2, "{s}");
    assert!(transports.iter().all(|t| t["sent"] == 4 && t["consecutive_failures"] == 0), "{s}");
    // A period before the morning: no messages and no hand-overs in it.
    let before = w.run(&["journal", "summary", "--until", "2025-03-19", "--json"]).ok().one();
    assert_eq!(
        (before["by_status"].as_object().unwrap().len(), before["transports"].as_array().unwrap().len()),
        (0, 0),
        "{before}"
    );
    let text = w.run(&["journal", "summary"]).ok().stdout;
    assert!(text.contains("messages   1 acknowledged, 1 rejected, 6 sent"), "{text}");
    assert!(text.contains("problems   3 open"), "{text}");
}

#[test]
fn a_person_closes_a_problem_with_a_note_and_it_is_kept_and_audited() {
    let w = World::new();
    morning(&w);
    let r = w.run(&["journal", "handle", "3", "--note", "phoned the GP, the letter went by post", "--json"]).ok();
    assert_eq!(r.one()["outcome"], "handled");
    assert!(queue(&w, &[]).is_empty(), "a handled problem leaves the queue");
    let all = queue(&w, &["--all"]);
    assert_eq!(all[0]["state"], "handled");
    assert_eq!(all[0]["handled"]["note"], "phoned the GP, the letter went by post");
    assert!(!all[0]["handled"]["by"].as_str().unwrap().is_empty());
    // Once is enough; what is no problem cannot be closed; a note is required.
    assert_eq!(
        w.run(&["journal", "handle", "3", "--note", "again", "--json"]).ok().one()["outcome"],
        "already-handled"
    );
    let r = w.run(&["journal", "handle", "1", "--note", "x"]);
    assert_eq!(r.code, 2);
    assert!(r.stderr.contains("message 1 is acknowledged: not a problem to close"), "{}", r.stderr);
    assert_eq!(w.run(&["journal", "handle", "5", "--note", " "]).code, 2);
    let db = w.db();
    let audit: Vec<(String, String, String)> = db
        .prepare("SELECT action, target, detail FROM audit ORDER BY id")
        .unwrap()
        .query_map([], |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)))
        .unwrap()
        .map(Result::unwrap)
        .collect();
    assert_eq!(audit, [("handle".into(), "message 3".into(), "phoned the GP, the letter went by post".into())]);
    let listed = w.run(&["journal", "audit", "--json"]).ok().one();
    assert_eq!((listed["action"].as_str(), listed["target"].as_str()), (Some("handle"), Some("message 3")));
}

#[test]
fn a_resend_keeps_the_problem_open_until_it_is_sent_then_it_resolves_itself() {
    let w = World::new();
    let cfg = morning(&w);
    w.run_with(&cfg, &["regenerate", "3"]).ok();
    let q = queue(&w, &[]);
    assert_eq!(q.len(), 1);
    assert_eq!(q[0]["followed_by"], "message 9 (generated)", "{q:?}");
    w.run_with(&cfg, &["send"]).ok();
    assert!(queue(&w, &[]).is_empty());
    let all = queue(&w, &["--all"]);
    assert_eq!(all[0]["state"], "resolved");
    assert_eq!(all[0]["followed_by"], "message 9 (sent)");
}

#[test]
fn search_by_cpr_finds_the_patients_problems_and_prints_no_cpr() {
    let mut w = World::new();
    morning(&w);
    later(&mut w, 60);
    let hits = queue(&w, &["--cpr", "0211223989"]);
    assert_eq!(hits.len(), 1);
    assert_eq!(hits[0]["key"], "3");
    // Also the hyphenated form, and from standard input (out of the process list).
    assert_eq!(queue(&w, &["--cpr", "021122-3989"]).len(), 1);
    let r = w.run_stdin(&["journal", "queue", "--json", "--cpr", "-"], b"0211223989\n").ok();
    assert_eq!(r.json().len(), 1);
    // Group 3's patient has an unanswered letter and no other problem.
    let g3 = queue(&w, &["--cpr", "2911829996"]);
    assert_eq!(g3.len(), 1);
    assert_eq!(g3[0]["cause"], "unanswered_xdis91");
    assert!(queue(&w, &["--cpr", "0101011234"]).is_empty());
    for args in [vec!["journal", "queue", "--cpr", "0211223989"], vec!["journal", "summary", "--cpr", "0211223989"]] {
        let r = w.run(&args).ok();
        for out in [&r.stdout, &r.stderr] {
            assert!(!out.contains("0211223989") && !out.contains("3989"), "{args:?}:\n{out}");
        }
    }
    let r = w.run(&["journal", "queue", "--cpr", "12345"]);
    assert_eq!(r.code, 2);
    assert!(r.stderr.contains("--cpr: not a CPR number"), "{}", r.stderr);
}

#[test]
fn filters_take_several_statuses_danish_days_spans_and_prefixes() {
    let mut w = World::new();
    morning(&w);
    later(&mut w, 60);
    assert_eq!(queue(&w, &["--status", "rejected"]).len(), 1);
    assert_eq!(queue(&w, &["--status", "failed,rejected"]).len(), 1);
    assert_eq!(queue(&w, &["--status", "sent"]).len(), 2, "only the unanswered");
    assert_eq!(queue(&w, &["--status", "failed", "--status", "retry"]).len(), 0);
    assert_eq!(queue(&w, &["--cause", "xctl_refused"]).len(), 1);
    assert_eq!(queue(&w, &["--result", "FLS-AUH-2025-000"]).len(), 3);
    assert_eq!(queue(&w, &["--result", "FLS-AUH-2025-0002"]).len(), 1);
    assert_eq!(queue(&w, &["--kind", "patient-memo"]).len(), 0);
    // The pinned clock is 11:30 Danish time on 20 March 2025.
    assert_eq!(queue(&w, &["--since", "today"]).len(), 3);
    assert_eq!(queue(&w, &["--since", "2h"]).len(), 3);
    assert_eq!(queue(&w, &["--since", "30m"]).len(), 0);
    assert_eq!(queue(&w, &["--until", "2025-03-19"]).len(), 0);
    assert_eq!(queue(&w, &["--since", "2025-03-20", "--until", "2025-03-20"]).len(), 3);
    for (args, says) in [
        (vec!["--status", "lost"], "--status `lost`: expected generated, retry"),
        (vec!["--since", "tomorrow"], "--since `tomorrow`: expected today"),
        (vec!["--kind", "letter"], "--kind `letter`: expected gp-xdis91"),
    ] {
        let mut all = vec!["journal", "queue"];
        all.extend(args.iter());
        let r = w.run(&all);
        assert_eq!(r.code, 2, "{args:?}");
        assert!(r.stderr.contains(says), "{args:?}: {}", r.stderr);
    }
}

#[test]
fn reading_the_queue_of_a_journal_of_the_previous_release_changes_nothing() {
    // A schema-3 SQLite fixture, its file compared byte for byte.
    if sqlite_only() {
        return;
    }
    let w = World::new();
    std::fs::create_dir_all(w.journal().parent().unwrap()).unwrap();
    std::fs::copy(root().join("tests/fixtures/journal-v3.sqlite"), w.journal()).unwrap();
    let before = std::fs::read(w.journal()).unwrap();
    w.run(&["journal", "queue", "--all"]).ok();
    w.run(&["journal", "summary", "--json"]).ok();
    assert_eq!(std::fs::read(w.journal()).unwrap(), before, "reading never migrates");
}

#[test]
fn refused_inputs_are_in_the_queue_until_a_corrected_input_or_a_person_closes_them() {
    let w = World::new();
    let mut bad_ean = sample_json("group-1.json");
    bad_ean["gp"]["ean"] = serde_json::json!("5790000128687");
    let mut randers = sample_json("group-2a.json");
    randers["site"] = serde_json::json!("RANDERS");
    let batch = w.write("in.jsonl", &format!("{bad_ean}\n{randers}\n"));
    assert_eq!(w.run(&["generate", batch.to_str().unwrap()]).code, 2);
    let q = queue(&w, &[]);
    let causes: Vec<(&str, &str)> =
        q.iter().map(|p| (p["key"].as_str().unwrap(), p["cause"].as_str().unwrap())).collect();
    assert_eq!(causes, [("R1", "input_refused/gp.ean"), ("R2", "input_refused/site")], "{q:?}");
    assert_eq!(queue(&w, &["--cause", "input_refused/site"]).len(), 1);
    assert_eq!(queue(&w, &["--cpr", "2512489996"]).len(), 1, "the CPR of a refused input's stored bytes");
    assert_eq!(w.run(&["journal", "summary", "--json"]).ok().one()["refused_inputs_today"], 2);

    // The corrected input for group 1's result closes R1; a person closes R2 (RANDERS has no FLS).
    w.generate(&sample("group-1.json")).ok();
    w.run(&["journal", "handle", "R2", "--note", "RANDERS: no FLS arrangement"]).ok();
    assert!(queue(&w, &[]).is_empty());
    let all = queue(&w, &["--all"]);
    let states: Vec<(&str, &str)> =
        all.iter().map(|p| (p["key"].as_str().unwrap(), p["state"].as_str().unwrap())).collect();
    assert!(states.contains(&("R1", "resolved")) && states.contains(&("R2", "handled")), "{states:?}");
}

#[test]
fn regenerate_takes_the_queues_filters_and_resends_one_cause_in_bulk() {
    let mut w = World::new();
    let cfg = morning(&w);
    later(&mut w, 60);
    // Without a terminal or --yes nothing happens; with --yes exactly the unanswered group goes.
    let r = w.run_with(&cfg, &["regenerate", "--cause", "unanswered"]);
    assert_eq!(r.code, 2, "{}", r.stderr);
    let r = w.run_with(&cfg, &["regenerate", "--cause", "unanswered", "--yes"]).ok();
    let made: Vec<i64> = r.json().iter().map(|s| s["messages"][0]["regenerated_from"].as_i64().unwrap()).collect();
    assert_eq!(made, [5, 7], "{}", r.stdout);
    assert!(
        r.stderr.contains("FLS-AUH-2025-0003") && r.stderr.contains("FLS-AUH-2025-0004"),
        "the plan first: {}",
        r.stderr
    );
    // The rejection was left alone, and the two resends wait for `send`.
    let open = queue(&w, &[]);
    let keys: Vec<(&str, &str)> =
        open.iter().map(|p| (p["key"].as_str().unwrap(), p["cause"].as_str().unwrap())).collect();
    assert_eq!(keys, [("3", "xctl_refused/problem_med_modtagerID")], "{open:?}");
    // A filter that names nothing regenerates nothing; an ID and a filter together are refused.
    let r = w.run_with(&cfg, &["regenerate", "--cause", "smtp_permanent", "--yes"]).ok();
    assert!(r.stdout.is_empty());
    assert_eq!(w.run_with(&cfg, &["regenerate", "3", "--cause", "xctl_refused"]).code, 2);
}

#[test]
fn a_cpr_number_shown_is_in_the_audit_log_and_a_plain_show_is_not() {
    let w = World::new();
    morning(&w);
    w.run(&["journal", "show", "3"]).ok();
    assert!(w.run(&["journal", "audit", "--json"]).ok().stdout.is_empty(), "a masked show audits nothing");
    let r = w.run(&["journal", "show", "3", "--reveal-cpr"]).ok();
    assert!(r.stdout.contains("0211223989"), "{}", r.stdout);
    let a = w.run(&["journal", "audit", "--json"]).ok().one();
    assert_eq!((a["action"].as_str(), a["target"].as_str()), (Some("reveal-cpr"), Some("message 3")), "{a}");
    assert!(!a["who"].as_str().unwrap().is_empty());
    // The audit log names the message, never the number.
    let table = w.run(&["journal", "audit"]).ok().stdout;
    assert!(!table.contains("0211223989") && !table.contains("3989"), "{table}");
}

#[test]
fn journal_list_finds_all_of_a_patients_messages_by_cpr_gp_and_danish_days() {
    let w = World::new();
    morning(&w);
    let list = |args: &[&str]| {
        let mut all = vec!["journal", "list", "--json"];
        all.extend(args);
        w.run(&all).ok().json()
    };
    let hers = list(&["--cpr", "0211223989"]);
    let kinds: Vec<&str> = hers.iter().map(|m| m["kind"].as_str().unwrap()).collect();
    assert_eq!(kinds, ["patient-memo", "gp-xdis91"], "both her letters, newest first: {hers:?}");
    assert!(hers.iter().all(|m| m["result_id"] == "FLS-AUH-2025-0002"));
    let r = w.run(&["journal", "list", "--cpr", "0211223989"]).ok();
    assert!(!r.stdout.contains("0211223989") && !r.stdout.contains("3989"), "{}", r.stdout);
    // The samples' patients share one GP: all eight letters are its results'; another GP has none.
    let gp = sample_json("group-1.json")["gp"]["ean"].as_str().unwrap().to_string();
    assert_eq!(list(&["--gp", &gp]).len(), 8);
    assert!(list(&["--gp", "5790000201747"]).is_empty());
    assert_eq!(list(&["--since", "today"]).len(), 8);
    assert_eq!(list(&["--until", "2025-03-19"]).len(), 0);
    assert_eq!(list(&["--result", "FLS-AUH-2025-000"]).len(), 0, "--result names one result exactly");
}

#[test]
fn a_problem_closed_by_hand_opens_again_when_the_letter_moves_on_and_bulk_leaves_it_alone() {
    let mut w = World::new();
    let cfg = morning(&w);
    later(&mut w, 60);
    w.run(&["journal", "handle", "5", "--note", "phoned the GP: it came"]).ok();
    assert!(queue(&w, &[]).iter().all(|p| p["key"] != "5"), "handled");
    // Bulk resending by cause leaves the handled letter alone.
    let r = w.run_with(&cfg, &["regenerate", "--cause", "unanswered", "--status", "sent", "--yes"]).ok();
    let made: Vec<i64> = r.json().iter().filter_map(|s| s["messages"][0]["regenerated_from"].as_i64()).collect();
    assert_eq!(made, [7], "{}", r.stdout);
    let r = w.run_with(&cfg, &["regenerate", "--status", "sent", "--kind", "gp-xdis91", "--yes"]);
    assert!(r.stderr.contains("message 5 was closed by"), "{}", r.stderr);
    // Then the GP system refuses it after all: a new problem, open again.
    let m = w.show("5")["message"].clone();
    let xctl = receipt(
        "XCTL02",
        "RCPTHANDLED01",
        m["envelope_id"].as_str().unwrap(),
        m["letter_id"].as_str().unwrap(),
        Some(("syntaksfejl", "Brevet kunne ikke indlæses")),
    );
    let file = w.path("xctl.xml");
    std::fs::write(&file, xctl).unwrap();
    w.run_with(&cfg, &["receipt", file.to_str().unwrap()]).ok();
    let open = queue(&w, &[]);
    let five = open.iter().find(|p| p["key"] == "5").unwrap_or_else(|| panic!("5 is open again: {open:?}"));
    assert_eq!((five["cause"].as_str(), five["state"].as_str()), (Some("xctl_refused/syntaksfejl"), Some("open")));
}
