//! The journal's lifecycle: a backup while others write, what an upgrade does (a command that
//! only reads never migrates; a migration backs the journal up first; `journal migrate`), and
//! an older flspost's refusal of a newer schema.

use crate::common::*;

/// This release's schema.
const CURRENT: i64 = flspost::journal::Journal::SCHEMA_VERSION;
use sha2::{Digest, Sha256};
use std::collections::BTreeMap;
use std::os::unix::fs::PermissionsExt;
use std::path::{Path, PathBuf};

fn sha256(path: &Path) -> String {
    format!("{:x}", Sha256::digest(std::fs::read(path).unwrap()))
}

fn mode(path: &Path) -> u32 {
    std::fs::metadata(path).unwrap().permissions().mode() & 0o777
}

fn with_v3() -> World {
    let w = World::new();
    std::fs::create_dir_all(w.journal().parent().unwrap()).unwrap();
    std::fs::copy(root().join("tests/fixtures/journal-v3.sqlite"), w.journal()).unwrap();
    w
}

fn beside(path: &Path, suffix: &str) -> PathBuf {
    let mut name = path.file_name().unwrap().to_os_string();
    name.push(suffix);
    path.with_file_name(name)
}

/// A copy opened with a plain SQLite client, read only: its schema version, after SQLite's
/// integrity check.
fn schema_of(path: &Path) -> i64 {
    let c = rusqlite::Connection::open_with_flags(path, rusqlite::OpenFlags::SQLITE_OPEN_READ_ONLY).unwrap();
    let ok: String = c.query_row("PRAGMA integrity_check", [], |r| r.get(0)).unwrap();
    assert_eq!(ok, "ok", "{}", path.display());
    c.pragma_query_value(None, "user_version", |r| r.get(0)).unwrap()
}

/// Messages per result in the journal at `path`.
fn messages_per_result(path: &Path) -> BTreeMap<String, i64> {
    let c = rusqlite::Connection::open_with_flags(path, rusqlite::OpenFlags::SQLITE_OPEN_READ_ONLY).unwrap();
    let mut st = c.prepare("SELECT result_id, COUNT(*) FROM messages GROUP BY result_id").unwrap();
    st.query_map([], |r| Ok((r.get(0)?, r.get(1)?))).unwrap().map(Result::unwrap).collect()
}

#[test]
fn a_backup_taken_while_a_batch_runs_is_a_whole_verified_prefix_of_it() {
    // `journal backup` copies the SQLite file (PostgreSQL is backed up with pg_dump).
    if sqlite_only() {
        return;
    }
    let w = World::new();
    w.generate(&w.write("seed.json", &sample_lines("SEED", 1)[0])).ok();
    const N: usize = 300;
    let batch = w.write("batch.jsonl", &(sample_lines("BATCH", N).join("\n") + "\n"));
    let mut child = w
        .cmd()
        .args(["generate", batch.to_str().unwrap()])
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::null())
        .spawn()
        .unwrap();
    let mut copies = Vec::new();
    let mut during = 0;
    for i in 0.. {
        let running = child.try_wait().unwrap().is_none();
        if !running && i >= 2 {
            break;
        }
        let copy = w.path(&format!("backup-{i}.sqlite"));
        let r = w.run(&["journal", "backup", "--json", copy.to_str().unwrap()]).ok();
        let line = r.one();
        if running && child.try_wait().unwrap().is_none() {
            during += 1;
        }
        assert_eq!(line["path"], copy.to_str().unwrap(), "{line}");
        assert_eq!(line["schema_version"], CURRENT, "{line}");
        assert_eq!(line["size"], std::fs::metadata(&copy).unwrap().len(), "{line}");
        // One file: no -wal or -shm left beside it.
        for side in ["-wal", "-shm", "-journal"] {
            assert!(!beside(&copy, side).exists(), "{side} beside {}", copy.display());
        }
        copies.push((copy, line));
    }
    assert!(child.wait().unwrap().success());
    assert!(during > 0, "no backup was taken while the batch ran");
    let last = messages_per_result(&w.journal());
    assert_eq!(last.len(), N + 1);
    for (copy, line) in &copies {
        assert_eq!(mode(copy), 0o600, "{}", copy.display());
        assert_eq!(schema_of(copy), CURRENT);
        w.run(&["journal", "verify", "--journal", copy.to_str().unwrap()]).ok();
        let held = messages_per_result(copy);
        assert_eq!(line["messages"], held.values().sum::<i64>(), "{line}");
        assert_eq!(line["inputs"], held.len(), "{line}");
        // Every result in it is whole (all its messages), and they are the first ones.
        for (result, n) in &held {
            assert_eq!(Some(n), last.get(result), "{result} in {}", copy.display());
        }
        let batch: Vec<&String> = held.keys().filter(|r| r.starts_with("BATCH-")).collect();
        let prefix: Vec<String> = (0..batch.len()).map(|i| format!("BATCH-{i:05}")).collect();
        assert_eq!(batch, prefix.iter().collect::<Vec<_>>(), "{} holds a prefix of the batch", copy.display());
    }
    let names = names(&w.dir.path().to_path_buf());
    assert!(names.iter().all(|n| !n.starts_with('.')), "{names:?}");
}

#[test]
fn a_backup_never_writes_over_anything_nor_through_a_link() {
    // `journal backup` copies the SQLite file (PostgreSQL is backed up with pg_dump).
    if sqlite_only() {
        return;
    }
    let w = World::new();
    w.generate(&sample("group-1.json")).ok();
    let existing = w.write("existing.sqlite", "keep me");
    let r = w.run(&["journal", "backup", existing.to_str().unwrap()]);
    assert_eq!(r.code, 2, "{}", r.stderr);
    assert!(r.stderr.contains("exists"), "{}", r.stderr);
    assert_eq!(std::fs::read_to_string(&existing).unwrap(), "keep me");
    let target = w.path("target.sqlite");
    let link = w.path("link.sqlite");
    std::os::unix::fs::symlink(&target, &link).unwrap();
    let r = w.run(&["journal", "backup", link.to_str().unwrap()]);
    assert_eq!(r.code, 2, "{}", r.stderr);
    assert!(!target.exists(), "the link was followed");
    assert!(std::fs::symlink_metadata(&link).unwrap().file_type().is_symlink());
    let names = names(&w.dir.path().to_path_buf());
    assert!(names.iter().all(|n| !n.starts_with('.')), "{names:?}");
}

#[test]
fn commands_that_only_read_never_migrate_nor_change_an_old_journal() {
    // A schema-3 SQLite fixture, its file compared byte for byte.
    if sqlite_only() {
        return;
    }
    let w = with_v3();
    let before = sha256(&w.journal());
    let copy = w.path("copy.sqlite");
    for args in [
        vec!["journal", "list"],
        vec!["journal", "list", "--json"],
        vec!["journal", "show", "1"],
        vec!["journal", "show", "1", "--json"],
        vec!["journal", "queue"],
        vec!["journal", "summary"],
        vec!["journal", "verify"],
        vec!["journal", "migrate", "--dry-run"],
        vec!["journal", "audit", "--json"],
        vec!["journal", "prune", "--dry-run"],
        vec!["user", "list", "--json"],
        vec!["status", "--json"],
        vec!["journal", "backup", copy.to_str().unwrap()],
    ] {
        w.run(&args).ok();
        assert_eq!(sha256(&w.journal()), before, "{args:?} changed the journal");
        let wal = beside(&w.journal(), "-wal");
        assert!(std::fs::metadata(&wal).map_or(true, |m| m.len() == 0), "{args:?} wrote to the -wal");
    }
    assert_eq!(schema_of(&w.journal()), 3);
    assert_eq!(schema_of(&copy), 3, "a backup of an old journal is the old journal");
    let names = names(w.journal().parent().unwrap());
    assert!(!names.iter().any(|n| n.contains(".bak")), "{names:?}");
}

#[test]
fn a_migration_backs_the_journal_up_first_beside_it_as_the_schema_it_had() {
    // A schema-3 SQLite fixture and its `.v3.bak` beside it.
    if sqlite_only() {
        return;
    }
    let w = with_v3();
    let before = sha256(&w.journal());
    let bak = w.path("state/journal.sqlite.v3.bak");
    w.generate(&sample("group-2a.json")).ok();
    assert_eq!(schema_of(&w.journal()), CURRENT);
    assert_eq!(mode(&bak), 0o600);
    assert_eq!(schema_of(&bak), 3);
    // The journal as it was: what it lists is the fixture's, row for row.
    let fixture = with_v3();
    assert_eq!(sha256(&fixture.journal()), before);
    let listed =
        |w: &World, j: &Path| w.run(&["journal", "list", "--json", "--journal", j.to_str().unwrap()]).ok().stdout;
    assert_eq!(listed(&w, &bak), listed(&fixture, &fixture.journal()));
    let verified = w.run(&["journal", "verify", "--journal", bak.to_str().unwrap()]).ok();
    assert!(verified.stderr.contains("9 messages and 4 inputs checked"), "{}", verified.stderr);
    let names = names(w.journal().parent().unwrap());
    assert_eq!(names.iter().filter(|n| n.ends_with(".bak")).count(), 1, "{names:?}");
}

#[test]
fn the_config_can_say_a_migration_makes_no_backup() {
    // A schema-3 SQLite fixture and its `.vN.bak` backups.
    if sqlite_only() {
        return;
    }
    let w = with_v3();
    let cfg = w.write("config.toml", "[journal]\nbackup_before_migrate = false\n");
    w.run_with(&cfg, &["journal", "migrate"]).ok();
    assert_eq!(schema_of(&w.journal()), CURRENT);
    let names = names(w.journal().parent().unwrap());
    assert!(!names.iter().any(|n| n.contains(".bak")), "{names:?}");
}

#[test]
fn two_processes_migrating_at_once_migrate_once_and_back_up_once() {
    // A schema-3 SQLite fixture and its `.v3.bak` beside it.
    if sqlite_only() {
        return;
    }
    for _ in 0..3 {
        let w = with_v3();
        let spawn = || {
            w.cmd()
                .args(["journal", "migrate", "--json"])
                .stdout(std::process::Stdio::piped())
                .stderr(std::process::Stdio::piped())
                .spawn()
                .unwrap()
        };
        let (a, b) = (spawn(), spawn());
        let outs: Vec<serde_json::Value> = [a, b]
            .into_iter()
            .map(|c| {
                let o = c.wait_with_output().unwrap();
                assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
                serde_json::from_slice(&o.stdout).unwrap()
            })
            .collect();
        assert_eq!(outs.iter().filter(|o| o["migrated"] == true).count(), 1, "{outs:?}");
        let names = names(w.journal().parent().unwrap());
        assert_eq!(names.iter().filter(|n| n.contains(".bak")).collect::<Vec<_>>(), ["journal.sqlite.v3.bak"]);
        assert_eq!(schema_of(&w.journal()), CURRENT);
        assert_eq!(schema_of(&w.path("state/journal.sqlite.v3.bak")), 3);
    }
}

#[test]
fn journal_migrate_says_what_it_does_and_with_dry_run_does_nothing() {
    // A schema-3 SQLite fixture, migrated step by step, with its `.v3.bak`.
    if sqlite_only() {
        return;
    }
    let w = with_v3();
    let before = sha256(&w.journal());
    let dry = w.run(&["journal", "migrate", "--dry-run"]).ok();
    assert!(dry.stdout.contains(&format!("schema 3 to {CURRENT}")), "{}", dry.stdout);
    assert!(
        dry.stdout.contains("3 -> 4: ") && dry.stdout.contains("4 -> 5: ") && dry.stdout.contains("5 -> 6: "),
        "{}",
        dry.stdout
    );
    assert!(dry.stdout.contains("journal.sqlite.v3.bak"), "{}", dry.stdout);
    assert!(dry.stdout.contains("nothing was changed"), "{}", dry.stdout);
    assert_eq!(sha256(&w.journal()), before);
    assert!(!w.path("state/journal.sqlite.v3.bak").exists());

    let done = w.run(&["journal", "migrate", "--json"]).ok().one();
    assert_eq!(
        (done["from"].as_i64(), done["to"].as_i64(), done["migrated"].as_bool()),
        (Some(3), Some(CURRENT), Some(true))
    );
    assert_eq!(done["steps"].as_array().unwrap().len(), (CURRENT - 3) as usize, "{done}");
    assert_eq!(done["backup"]["schema_version"], 3, "{done}");
    assert_eq!(done["backup"]["messages"], 9, "{done}");
    assert_eq!(schema_of(&w.journal()), CURRENT);
    let again = w.run(&["journal", "migrate"]).ok();
    assert!(again.stdout.contains("nothing to migrate"), "{}", again.stdout);
}

/// What a command that changed nothing left as it was: the SQLite file's bytes, or the
/// PostgreSQL journal's rows (a count and the latest change of each table a command writes).
fn unchanged(w: &World) -> String {
    if !on_postgres() {
        return sha256(&w.journal());
    }
    let c = w.db();
    ["messages", "inputs", "attempts", "receipts", "audit", "refused_inputs", "flspost_schema"]
        .iter()
        .map(|t| {
            let n: i64 = c.query_row(&format!("SELECT COUNT(*) FROM {t}"), [], |r| r.get(0)).unwrap();
            format!("{t}: {n}")
        })
        .chain(std::iter::once({
            let m: Option<String> = c.query_row("SELECT MAX(updated_at) FROM messages", [], |r| r.get(0)).unwrap();
            format!("updated: {m:?}")
        }))
        .collect::<Vec<_>>()
        .join(", ")
}

#[test]
fn a_journal_of_a_newer_schema_is_refused_by_every_command_naming_both_versions() {
    let w = World::new();
    w.generate(&sample("group-1.json")).ok();
    let c = w.db();
    match c.sqlite() {
        Some(c) => {
            c.pragma_update(None, "user_version", CURRENT + 1).unwrap();
            c.execute_batch("PRAGMA wal_checkpoint(TRUNCATE)").unwrap();
        }
        None => {
            c.execute("INSERT INTO flspost_schema (version, applied_at) VALUES (?1, ?2)", (CURRENT + 1, FAKE_NOW))
                .unwrap();
        }
    }
    drop(c);
    let before = unchanged(&w);
    let input = sample("group-2a.json");
    let receipt = w.write("receipt.xml", "<x/>");
    let copy = w.path("copy.sqlite");
    let runs: Vec<Vec<&str>> = vec![
        vec!["generate", input.to_str().unwrap()],
        vec!["send"],
        vec!["receipt", receipt.to_str().unwrap()],
        vec!["regenerate", "1"],
        vec!["journal", "list"],
        vec!["journal", "show", "1"],
        vec!["journal", "queue"],
        vec!["journal", "summary"],
        vec!["journal", "verify"],
        vec!["journal", "audit"],
        vec!["journal", "handle", "1", "--note", "x"],
        vec!["journal", "backup", copy.to_str().unwrap()],
        vec!["journal", "migrate"],
        vec!["journal", "migrate", "--dry-run"],
    ];
    for args in runs {
        if on_postgres() && args.starts_with(&["journal", "backup"]) {
            continue; // refused on PostgreSQL whatever its schema (pg_dump backs it up)
        }
        let r = w.run(&args);
        assert_eq!(r.code, 2, "{args:?}: {}", r.stderr);
        assert!(r.stderr.contains(&format!("schema version {}, newer than", CURRENT + 1)), "{args:?}: {}", r.stderr);
        assert!(r.stderr.contains(&format!("knows ({CURRENT})")), "{args:?}: {}", r.stderr);
        assert_eq!(unchanged(&w), before, "{args:?} changed it");
    }
    assert!(!copy.exists());
}

#[test]
fn a_journal_of_this_schema_without_its_columns_is_named_plainly() {
    // An SQLite journal left by a build made while schema 5 was being written; a PostgreSQL
    // journal's schema was made whole at version 6 (its columns are not checked on open).
    if sqlite_only() {
        return;
    }
    let w = World::new();
    w.generate(&sample("group-1.json")).ok();
    // As a build made while schema 5 was being written left it: the version, not the column.
    w.db().execute_batch("ALTER TABLE messages DROP COLUMN pruned_at").unwrap();
    let r = w.run(&["journal", "list"]);
    assert_eq!(r.code, 2, "{}", r.stderr);
    assert!(r.stderr.contains(&format!("says schema {CURRENT} but has no messages.pruned_at")), "{}", r.stderr);
}
