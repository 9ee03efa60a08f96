//! The journal's bytes are the truth, so flspost checks them: bytes that no longer match
//! their stored SHA-256 are never handed over, restored or rebuilt from.

use crate::common::*;

/// Overwrites four bytes in the middle of message `id`'s stored bytes, as a damaged disk
/// would, and checks that SQLite itself (on an SQLite journal) still sees nothing wrong.
fn damage_message(w: &World, id: i64) {
    let c = w.db();
    let mut bytes: Vec<u8> =
        c.query_row("SELECT bytes FROM message_bytes WHERE message_id = ?1", [id], |r| r.get(0)).unwrap();
    let mid = bytes.len() / 2;
    bytes[mid..mid + 4].copy_from_slice(b"XXXX");
    c.execute("UPDATE message_bytes SET bytes = ?2 WHERE message_id = ?1", (id, bytes)).unwrap();
    if let Some(c) = c.sqlite() {
        let ok: String = c.query_row("PRAGMA integrity_check", [], |r| r.get(0)).unwrap();
        assert_eq!(ok, "ok");
    }
}

#[test]
fn damaged_bytes_are_not_sent_and_the_message_fails_saying_why() {
    let w = World::new();
    w.generate(&sample("group-2a.json")).ok();
    damage_message(&w, 1);
    let cfg = w.outbox_config();
    let r = w.run_with(&cfg, &["send"]);
    assert_eq!(r.code, 1, "{}\n{}", r.stdout, r.stderr);
    assert!(tree(&w.path("vans")).is_empty(), "damaged bytes were handed over");
    let m = w.show("1");
    assert_eq!(m["message"]["status"], "failed");
    assert!(m["message"]["reason"].as_str().unwrap().contains("SHA-256"), "{m}");
    assert!(r.stderr.contains("SHA-256"), "{}", r.stderr);
    // The intact patient letter went.
    assert_eq!(tree(&w.path("dp")).len(), 1);
    assert_eq!(w.show("2")["message"]["status"], "sent");
    // Nothing left to send: a second run does not try the damaged message again.
    assert!(w.run_with(&cfg, &["send"]).ok().stderr.contains("nothing to send"));
}

#[test]
fn damaged_bytes_are_not_restored_to_the_output_folder() {
    let w = World::new();
    let s = w.generate(&sample("group-1.json")).ok().one();
    let gp = std::path::PathBuf::from(s["messages"][0]["path"].as_str().unwrap());
    std::fs::remove_file(&gp).unwrap();
    damage_message(&w, 1);
    let r = w.generate(&sample("group-1.json"));
    assert_eq!(r.code, 1, "{}\n{}", r.stdout, r.stderr);
    assert_eq!(r.one()["outcome"], "error");
    assert!(r.stderr.contains("SHA-256"), "{}", r.stderr);
    assert!(!gp.exists());
    assert_eq!(w.show("1")["message"]["status"], "failed");
}

#[test]
fn a_damaged_stored_input_is_not_regenerated_from() {
    let w = World::new();
    w.generate(&sample("group-3.json")).ok();
    let cfg = w.config("c.toml", &ConfigOf { gp: Some(Transport::Outbox("vans")), ..ConfigOf::default() });
    w.run_with(&cfg, &["send"]).ok();
    let c = w.db();
    c.execute("UPDATE inputs SET input_json = replace(input_json, 'Berggren', 'Berggrex')", []).unwrap();
    let r = w.run(&["regenerate", "1"]);
    assert_eq!(r.code, 1, "{}\n{}", r.stdout, r.stderr);
    assert!(r.stderr.contains("SHA-256"), "{}", r.stderr);
    assert!(w.show("1")["regenerated_as"].is_null());
}

#[test]
fn journal_verify_names_every_damaged_message() {
    let w = World::new();
    for s in SAMPLES {
        w.generate(&sample(s)).ok();
    }
    let clean = w.run(&["journal", "verify"]).ok();
    assert!(clean.stderr.contains("8 messages"), "{}", clean.stderr);
    damage_message(&w, 3);
    damage_message(&w, 8);
    let r = w.run(&["journal", "verify"]);
    assert_eq!(r.code, 1, "{}\n{}", r.stdout, r.stderr);
    let damaged: Vec<&str> = r.stdout.lines().collect();
    assert_eq!(damaged.len(), 2, "{}", r.stdout);
    assert!(damaged[0].starts_with("message 3 ") && damaged[1].starts_with("message 8 "), "{}", r.stdout);
    let json = w.run(&["journal", "verify", "--json"]).json();
    assert_eq!(json.iter().map(|v| v["id"].as_i64().unwrap()).collect::<Vec<_>>(), [3, 8]);
    // Only reads: the statuses are as they were.
    assert_eq!(w.show("3")["message"]["status"], "generated");
}

/// Message 5's bytes row gone and, on SQLite, message 3's stored as TEXT: damage SQLite does
/// not see (a PostgreSQL BYTEA column holds only bytes, so there it cannot be mistyped).
/// Returns the ids of the messages broken.
fn break_bytes_rows(w: &World) -> Vec<i64> {
    let c = w.db();
    c.execute("DELETE FROM message_bytes WHERE message_id = 5", []).unwrap();
    if on_postgres() {
        return vec![5];
    }
    c.execute("UPDATE message_bytes SET bytes = CAST(CAST(bytes AS BLOB) AS TEXT) WHERE message_id = 3", []).unwrap();
    vec![3, 5]
}

#[test]
fn a_missing_or_mistyped_bytes_row_fails_that_message_and_the_rest_are_sent() {
    let w = World::new();
    for s in SAMPLES {
        w.generate(&sample(s)).ok();
    }
    let broken = break_bytes_rows(&w);
    let r = w.run(&["journal", "verify", "--json"]);
    assert_eq!(r.code, 1, "{}\n{}", r.stdout, r.stderr);
    assert_eq!(r.json().iter().map(|v| v["id"].as_i64().unwrap()).collect::<Vec<_>>(), broken, "{}", r.stdout);
    assert!(r.stderr.contains("8 messages"), "{}", r.stderr);

    let cfg = w.outbox_config();
    let r = w.run_with(&cfg, &["send"]);
    assert_eq!(r.code, 1, "{}\n{}", r.stdout, r.stderr);
    for id in broken.iter().map(i64::to_string) {
        let id = id.as_str();
        let m = w.show(id);
        assert_eq!(m["message"]["status"], "failed", "{m}");
        let reason = m["message"]["reason"].as_str().unwrap();
        assert!(reason.contains(&format!("message {id} ")) && reason.contains("damaged"), "{reason}");
        assert!(r.stderr.contains(&format!("message {id} ")), "{}", r.stderr);
    }
    for id in (1..=8).filter(|id| !broken.contains(id)) {
        assert_eq!(w.show(&id.to_string())["message"]["status"], "sent", "message {id}");
    }
}

#[test]
fn a_missing_bytes_row_is_reported_as_damage_when_restoring_output() {
    let w = World::new();
    let s = w.generate(&sample("group-1.json")).ok().one();
    let gp = std::path::PathBuf::from(s["messages"][0]["path"].as_str().unwrap());
    std::fs::remove_file(&gp).unwrap();
    w.db().execute("DELETE FROM message_bytes WHERE message_id = 1", []).unwrap();
    let r = w.generate(&sample("group-1.json"));
    assert_eq!(r.code, 1, "{}\n{}", r.stdout, r.stderr);
    assert_eq!(r.one()["outcome"], "error");
    assert!(r.stderr.contains("message 1 ") && r.stderr.contains("missing"), "{}", r.stderr);
    assert!(!gp.exists());
}

#[test]
fn journal_verify_reports_an_input_stored_as_a_blob_and_goes_on() {
    // A BLOB in a TEXT column is damage only SQLite's loose typing allows.
    if sqlite_only() {
        return;
    }
    let w = World::new();
    for s in SAMPLES {
        w.generate(&sample(s)).ok();
    }
    // Input 2's JSON stored as a BLOB instead of TEXT (same bytes): SQLite sees nothing wrong.
    let c = w.db();
    c.execute("UPDATE inputs SET input_json = CAST(input_json AS BLOB) WHERE id = 2", []).unwrap();
    let ok: String = c.query_row("PRAGMA integrity_check", [], |r| r.get(0)).unwrap();
    assert_eq!(ok, "ok");
    let r = w.run(&["journal", "verify"]);
    assert_eq!(r.code, 1, "{}\n{}", r.stdout, r.stderr);
    let damaged: Vec<&str> = r.stdout.lines().collect();
    assert_eq!(damaged.len(), 1, "{}", r.stdout);
    assert!(damaged[0].starts_with("input 2 "), "{}", r.stdout);
    assert!(damaged[0].contains("not stored as text"), "{}", r.stdout);
    assert!(r.stderr.contains("8 messages and 4 inputs checked") && r.stderr.contains("1 damaged"), "{}", r.stderr);
    let json = w.run(&["journal", "verify", "--json"]).json();
    assert_eq!(
        json.iter().map(|v| (v["what"].clone(), v["id"].as_i64().unwrap())).collect::<Vec<_>>(),
        [("input".into(), 2)]
    );
}
