//! Retention: `journal prune` with a pinned clock keeps open letters and removes exactly the
//! expired bytes and inputs, from the tables and from the file.

use crate::common::*;

/// group 2a's patient (in its input JSON and its letters).
const CPR: &[u8] = b"0211223989";

/// The four samples generated and sent, group 1 acknowledged, group 2a rejected; the config
/// with `[retention]` (`extra` appended).
fn morning(w: &World, extra: &str) -> std::path::PathBuf {
    let cfg = w.outbox_config();
    let mut text = std::fs::read_to_string(&cfg).unwrap();
    text.push_str(&format!("[retention]\nbytes_days = 30\ninputs_days = 30\n{extra}"));
    std::fs::write(&cfg, text).unwrap();
    w.morning_of(&cfg, &SAMPLES.map(sample));
    cfg
}

fn days_later(w: &mut World, days: i64) {
    w.later_by(chrono::Duration::days(days));
}

fn statuses(w: &World) -> Vec<(i64, String, String, Option<String>)> {
    let db = w.db();
    let mut st = db.prepare("SELECT id, result_id, status, pruned_at FROM messages ORDER BY id").unwrap();
    st.query_map([], |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?, r.get(3)?))).unwrap().map(|r| r.unwrap()).collect()
}

fn prune(w: &World, cfg: &std::path::Path, dry_run: bool) -> serde_json::Value {
    let mut args = vec!["journal", "prune", "--json"];
    if dry_run {
        args.push("--dry-run");
    }
    w.run_with(cfg, &args).ok().one()
}

/// Whether the journal's files (the database and its write-ahead log) hold `needle` anywhere.
fn in_file(w: &World, needle: &[u8]) -> bool {
    let mut wal = w.journal().into_os_string();
    wal.push("-wal");
    [w.journal(), wal.into()]
        .iter()
        .filter_map(|p| std::fs::read(p).ok())
        .any(|b| b.windows(needle.len()).any(|x| x == needle))
}

fn stored(w: &World) -> (Vec<i64>, Vec<String>) {
    let db = w.db();
    let bytes = db
        .prepare("SELECT message_id FROM message_bytes ORDER BY 1")
        .unwrap()
        .query_map([], |r| r.get(0))
        .unwrap()
        .map(|r| r.unwrap())
        .collect();
    let inputs = db
        .prepare("SELECT result_id FROM inputs WHERE input_json <> '' ORDER BY 1")
        .unwrap()
        .query_map([], |r| r.get(0))
        .unwrap()
        .map(|r| r.unwrap())
        .collect();
    (bytes, inputs)
}

#[test]
fn prune_keeps_open_letters_and_removes_exactly_the_expired_bytes_from_the_file() {
    let mut w = World::new();
    let cfg = morning(&w, "");
    let all: Vec<i64> = (1..=8).collect();
    // Not yet 30 days: nothing is due.
    days_later(&mut w, 29);
    let p = prune(&w, &cfg, false);
    assert_eq!((p["messages"].as_u64(), p["inputs"].as_u64()), (Some(0), Some(0)), "{p}");
    assert_eq!(stored(&w).0, all);

    // 31 days on: group 1 (GP letter acknowledged, patient's letter handed over) is due; 2a is
    // rejected and not handled, 2b and 3 await their answers: open, kept. A dry run counts.
    days_later(&mut w, 31);
    let dry = prune(&w, &cfg, true);
    assert_eq!(dry["dry_run"], true);
    assert_eq!(
        (dry["results"].as_u64(), dry["messages"].as_u64(), dry["inputs"].as_u64()),
        (Some(1), Some(2), Some(1)),
        "{dry}"
    );
    assert!(dry["message_bytes"].as_u64().unwrap() > 1000 && dry["input_bytes"].as_u64().unwrap() > 100, "{dry}");
    assert_eq!(stored(&w).0, all, "a dry run changes nothing");
    let p = prune(&w, &cfg, false);
    assert_eq!(p["messages"], dry["messages"]);
    assert_eq!(p["message_bytes"], dry["message_bytes"]);
    assert_eq!(p["wal_emptied"], true);
    let (bytes, inputs) = stored(&w);
    assert_eq!(bytes, [3, 4, 5, 6, 7, 8]);
    assert_eq!(inputs, ["FLS-AUH-2025-0002", "FLS-AUH-2025-0003", "FLS-AUH-2025-0004"]);
    let rows = statuses(&w);
    assert!(rows[0].3.is_some() && rows[1].3.is_some() && rows[2..].iter().all(|r| r.3.is_none()), "{rows:?}");
    assert_eq!(rows[0].2, "acknowledged", "the metadata stays");

    // Group 2a's rejection handled today: final, but only from today. (The SQLite file looked
    // into; PostgreSQL's files are its server's.)
    assert!(on_postgres() || in_file(&w, CPR), "the patient's CPR is in the journal while it is kept");
    w.run(&["journal", "handle", "3", "--note", "sent by post", "--json"]).ok();
    assert_eq!(prune(&w, &cfg, false)["messages"], 0);
    days_later(&mut w, 62);
    let p = prune(&w, &cfg, false);
    assert_eq!((p["messages"].as_u64(), p["inputs"].as_u64()), (Some(2), Some(1)), "{p}");
    assert_eq!(stored(&w), (vec![5, 6, 7, 8], vec!["FLS-AUH-2025-0003".to_string(), "FLS-AUH-2025-0004".to_string()]));
    // Gone from the file too, not only from the tables (secure_delete, the log emptied).
    assert!(on_postgres() || !in_file(&w, CPR), "a pruned patient's CPR is still in the journal file");

    // Verify does not call a pruned message damaged; the open letters' bytes are checked.
    let v = w.run(&["journal", "verify"]);
    assert_eq!(v.code, 0, "{}{}", v.stdout, v.stderr);
    // Show says when; regenerate refuses with the reason.
    let s = w.show("1");
    assert!(s["message"]["pruned_at"].as_str().is_some_and(|t| t.starts_with("2025-04-20")), "{s}");
    assert!(w.show("5")["message"].get("pruned_at").is_none());
    let r = w.run_with(&cfg, &["regenerate", "1"]);
    assert_ne!(r.code, 0);
    assert!(r.stderr.contains("pruned"), "{}", r.stderr);
    // Send has nothing of it to send; the open letters are still there for their resends.
    w.run_with(&cfg, &["send"]).ok();
    // The audit log has each run, counts only.
    let audit = w.run(&["journal", "audit", "--json"]).ok().json();
    let runs: Vec<_> = audit.iter().filter(|a| a["action"] == "prune").collect();
    assert_eq!(runs.len(), 4, "{audit:?}");
    assert!(runs.iter().all(|a| !a.to_string().contains("0211223989") && !a.to_string().contains("021122")));
    assert!(runs[0]["detail"].as_str().unwrap().starts_with("2 messages"), "{:?}", runs[0]);
}

#[test]
fn without_retention_nothing_is_pruned() {
    let mut w = World::new();
    let cfg = w.outbox_config();
    w.sent(&cfg, &sample("group-1.json"));
    days_later(&mut w, 3650);
    let r = w.run_with(&cfg, &["journal", "prune", "--json"]).ok();
    assert_eq!(r.one()["messages"], 0);
    assert!(r.stderr.contains("everything is kept"), "{}", r.stderr);
    assert_eq!(stored(&w).0, [1, 2]);
}

#[test]
fn an_archive_gets_each_pruned_message_first_owner_only() {
    use std::os::unix::fs::PermissionsExt;
    let mut w = World::new();
    let cfg = morning(&w, "archive_dir = \"archive\"\n");
    days_later(&mut w, 31);
    // The messages as they were sent (the stored value may be a recipe: the archive holds the
    // bytes it makes).
    let kept: Vec<String> = {
        let db = w.db();
        let mut st = db.prepare("SELECT sha256 FROM messages WHERE id IN (1, 2) ORDER BY id").unwrap();
        st.query_map([], |r| r.get(0)).unwrap().map(|r| r.unwrap()).collect()
    };
    prune(&w, &cfg, false);
    let dir = w.path("archive");
    assert_eq!(std::fs::metadata(&dir).unwrap().permissions().mode() & 0o777, 0o700);
    let files = names(&dir);
    assert_eq!(files.len(), 2, "{files:?}");
    for (name, bytes) in files.iter().zip(&kept) {
        let p = dir.join(name);
        assert_eq!(std::fs::metadata(&p).unwrap().permissions().mode() & 0o777, 0o600, "{name}");
        assert_eq!(&sha256_hex(&std::fs::read(&p).unwrap()), bytes, "{name}");
    }
}
