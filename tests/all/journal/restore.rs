//! A journal restored from a backup never gives a new letter an identifier that a letter made
//! after the backup (lost with the restore) already had: the copy is marked, and its first
//! write picks a new range of letter revisions, audited.

use crate::common::*;

fn letter_ids(s: &serde_json::Value) -> Vec<String> {
    s["messages"].as_array().unwrap().iter().map(|m| m["letter_id"].as_str().unwrap().to_string()).collect()
}

fn restore(w: &World, backup: &std::path::Path) {
    for side in ["-wal", "-shm"] {
        let _ = std::fs::remove_file(format!("{}{side}", w.journal().display()));
    }
    std::fs::copy(backup, w.journal()).unwrap();
}

fn corrected(w: &World, name: &str, note: &str) -> std::path::PathBuf {
    let mut v = sample_json("group-2a.json");
    v["patient"]["address"]["street"] = note.into();
    v["scan"]["t_score_spine"] = serde_json::json!(-2.2);
    w.write(name, &v.to_string())
}

#[test]
fn a_restored_journal_never_mints_the_identifier_of_a_letter_made_after_its_backup() {
    // `journal backup` and a restore by copying the file back: SQLite files (PostgreSQL is
    // backed up with pg_dump).
    if sqlite_only() {
        return;
    }
    let w = World::new();
    let first = letter_ids(&w.generate(&sample("group-2a.json")).ok().one());
    let backup = w.path("backup.sqlite");
    w.run(&["journal", "backup", backup.to_str().unwrap()]).ok();
    // After the backup: a correction, sent (its identifiers are out in the world).
    let lost = letter_ids(&w.generate(&corrected(&w, "c1.json", "Nyvej 1")).ok().one());
    assert_eq!(lost.len(), 2, "both letters corrected");

    // The disk is lost; the backup is put back. Reading it changes nothing.
    restore(&w, &backup);
    let before = std::fs::read(w.journal()).unwrap();
    w.run(&["journal", "list"]).ok();
    assert_eq!(std::fs::read(w.journal()).unwrap(), before, "a read settles nothing");

    // The same correction again, and another: never an identifier seen before.
    let again = letter_ids(&w.generate(&corrected(&w, "c1.json", "Nyvej 1")).ok().one());
    let other = letter_ids(&w.generate(&corrected(&w, "c2.json", "Nyvej 2")).ok().one());
    for id in again.iter().chain(&other) {
        assert!(!lost.contains(id) && !first.contains(id), "{id} was minted before the restore");
    }
    assert_ne!(again, other);
    let audit = w.run(&["journal", "audit", "--json"]).ok().json();
    let restored: Vec<_> = audit.iter().filter(|a| a["action"] == "restored").collect();
    assert_eq!(restored.len(), 1, "{audit:?}");
    w.run(&["journal", "verify"]).ok();

    // Restored from the same backup once more: a range of its own again.
    restore(&w, &backup);
    let third = letter_ids(&w.generate(&corrected(&w, "c2.json", "Nyvej 2")).ok().one());
    for id in &third {
        assert!(!lost.contains(id) && !again.contains(id) && !other.contains(id), "{id} again");
    }
}

#[test]
fn a_journal_never_restored_keeps_its_identifiers_as_before() {
    // The samples' identifiers are what they were: the floor of a journal never restored is 0.
    let w = World::new();
    let s = w.generate(&sample("group-2a.json")).ok().one();
    let xdis = std::fs::read(w.out().join("FLS-AUH-2025-0002/gp-xdis91.xml")).unwrap();
    let sample = std::fs::read(root().join("samples/output/FLS-AUH-2025-0002/gp-xdis91.xml")).unwrap();
    let id = |b: &[u8]| {
        let t = String::from_utf8_lossy(b).into_owned();
        t.split("<Identifier>").nth(2).unwrap().split('<').next().unwrap().to_string()
    };
    assert_eq!(id(&xdis), id(&sample), "{s}");
}

#[test]
fn a_backup_of_a_backup_and_a_restored_migration_backup_are_usable() {
    // `journal backup` and a restore by copying the file back: SQLite files (PostgreSQL is
    // backed up with pg_dump).
    if sqlite_only() {
        return;
    }
    let w = World::new();
    std::fs::create_dir_all(w.journal().parent().unwrap()).unwrap();
    std::fs::copy(root().join("tests/fixtures/journal-v5.sqlite"), w.journal()).unwrap();
    // A backup of the schema-5 journal, then a backup of that backup (both marked).
    let (b1, b2) = (w.path("b1.sqlite"), w.path("b2.sqlite"));
    w.run(&["journal", "backup", b1.to_str().unwrap()]).ok();
    w.run(&["journal", "backup", "--journal", b1.to_str().unwrap(), b2.to_str().unwrap()]).ok();
    // Put back in place: this release migrates it (backing it up first, marked already) and
    // writes to it.
    restore(&w, &b2);
    w.generate(&corrected(&w, "c1.json", "Nyvej 1")).ok();
    assert!(w.path("state/journal.sqlite.v5.bak").exists());
    let restored = w.run(&["journal", "audit", "--json"]).ok().json();
    assert_eq!(restored.iter().filter(|a| a["action"] == "restored").count(), 1, "{restored:?}");
    // A restored journal backed up before anything wrote to it: its copy is marked too.
    restore(&w, &b1);
    let b3 = w.path("b3.sqlite");
    w.run(&["journal", "backup", b3.to_str().unwrap()]).ok();
    w.run(&["journal", "verify", "--journal", b3.to_str().unwrap()]).ok();
}

#[test]
fn erasing_or_pruning_a_backup_file_leaves_its_mark_for_the_restore() {
    // `journal backup` and a restore by copying the file back: SQLite files (PostgreSQL is
    // backed up with pg_dump).
    if sqlite_only() {
        return;
    }
    let w = World::new();
    w.generate(&sample("group-2a.json")).ok();
    let backup = w.path("backup.sqlite");
    w.run(&["journal", "backup", backup.to_str().unwrap()]).ok();
    let b = backup.to_str().unwrap();
    w.run(&["journal", "erase", "--journal", b, "--cpr", "0211223989", "--force", "--yes"]).ok();
    let db = rusqlite::Connection::open(&backup).unwrap();
    let marked: bool = db
        .query_row("SELECT EXISTS (SELECT 1 FROM sqlite_schema WHERE name = 'flspost_backup_copy')", [], |r| r.get(0))
        .unwrap();
    assert!(marked, "the erasure used the backup's mark up");
    let restored: i64 = db.query_row("SELECT count(*) FROM audit WHERE action = 'restored'", [], |r| r.get(0)).unwrap();
    assert_eq!(restored, 0);
}
