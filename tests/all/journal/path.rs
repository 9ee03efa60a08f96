//! `--journal` names the journal and nothing else: flspost never writes to, creates beside,
//! or changes the mode of a file that is not its journal, and read-only commands change nothing.

use crate::common::*;
use std::os::unix::fs::{FileTypeExt, PermissionsExt};
use std::path::Path;

fn mode(p: &Path) -> u32 {
    std::fs::metadata(p).unwrap().permissions().mode() & 0o777
}

fn generate_into(w: &World, journal: &Path) -> Run {
    w.run(&["generate", "--journal", journal.to_str().unwrap(), sample("group-1.json").to_str().unwrap()])
}

fn list(w: &World, journal: &Path) -> Run {
    w.run(&["journal", "list", "--journal", journal.to_str().unwrap()])
}

#[test]
fn a_file_that_is_not_a_journal_is_refused_and_left_as_it_was() {
    let w = World::new();
    let dir = w.path("files");
    std::fs::create_dir(&dir).unwrap();
    let text = dir.join("notes.txt");
    std::fs::write(&text, "not a journal\n").unwrap();
    std::fs::set_permissions(&text, std::fs::Permissions::from_mode(0o644)).unwrap();
    // A SQLite database of another program.
    let other = dir.join("other.sqlite");
    rusqlite::Connection::open(&other).unwrap().execute_batch("CREATE TABLE t (x); INSERT INTO t VALUES (1);").unwrap();
    std::fs::set_permissions(&other, std::fs::Permissions::from_mode(0o644)).unwrap();
    let link = dir.join("link.sqlite");
    std::os::unix::fs::symlink(&text, &link).unwrap();
    let before: Vec<(String, Vec<u8>)> = tree(&dir);

    for path in [&text, &other, &link] {
        for r in [
            list(&w, path),
            generate_into(&w, path),
            w.run(&["journal", "show", "--journal", path.to_str().unwrap(), "1"]),
        ] {
            assert_eq!(r.code, 2, "{path:?}: {}", r.stderr);
            assert!(r.stderr.contains(&path.display().to_string()), "{path:?}: {}", r.stderr);
            // Nothing but, for the gateway's `generate`, the failure as one JSON line.
            let lines: Vec<serde_json::Value> = r.json();
            assert!(lines.iter().all(|l| l["outcome"] == "error" && l["error"]["exit_code"] == 2), "{}", r.stdout);
            assert_eq!(r.stdout.lines().count(), lines.len(), "{}", r.stdout);
        }
    }
    let link_err = list(&w, &link).stderr;
    assert!(link_err.contains("symbolic link"), "{link_err}");
    assert!(list(&w, &text).stderr.contains("not a flspost journal"));
    assert_eq!(tree(&dir), before);
    assert_eq!(mode(&text), 0o644);
    assert_eq!(mode(&other), 0o644);
    assert_eq!(names(&dir), ["link.sqlite", "notes.txt", "other.sqlite"]);
}

#[test]
fn folders_and_fifos_are_refused_and_nothing_is_created_beside_them() {
    let w = World::new();
    let dir = w.path("files");
    std::fs::create_dir(&dir).unwrap();
    let fifo = dir.join("fifo");
    let c = std::ffi::CString::new(fifo.to_str().unwrap()).unwrap();
    // SAFETY: mkfifo with a valid C string.
    assert_eq!(unsafe { libc::mkfifo(c.as_ptr(), 0o644) }, 0);
    let folder = dir.join("folder");
    std::fs::create_dir(&folder).unwrap();
    std::fs::set_permissions(&folder, std::fs::Permissions::from_mode(0o755)).unwrap();
    for (path, what) in [(&fifo, "FIFO"), (&folder, "folder")] {
        for r in [generate_into(&w, path), list(&w, path)] {
            assert_eq!(r.code, 2, "{path:?}: {}", r.stderr);
            assert!(r.stderr.contains(&path.display().to_string()) && r.stderr.contains(what), "{}", r.stderr);
        }
    }
    assert!(std::fs::metadata(&fifo).unwrap().file_type().is_fifo());
    assert_eq!(mode(&fifo), 0o644);
    assert_eq!(mode(&folder), 0o755);
    assert_eq!(names(&dir), ["fifo", "folder"]);
    assert!(names(&folder).is_empty());
}

#[test]
fn read_only_commands_create_and_change_nothing() {
    let w = World::new();
    let absent = w.path("nowhere/journal.sqlite");
    let r = list(&w, &absent);
    assert_eq!(r.code, 2, "{}", r.stderr);
    assert!(r.stderr.contains(&absent.display().to_string()), "{}", r.stderr);
    assert!(!w.path("nowhere").exists());
    let r = w.run(&["journal", "show", "--journal", absent.to_str().unwrap(), "1"]);
    assert_eq!(r.code, 2, "{}", r.stderr);
    assert!(!w.path("nowhere").exists());

    // A journal someone made readable to others: listing it leaves it so; a writing
    // command puts it back to owner-only.
    let j = w.journal();
    generate_into(&w, &j).ok();
    std::fs::set_permissions(&j, std::fs::Permissions::from_mode(0o640)).unwrap();
    assert!(list(&w, &j).ok().stdout.contains("FLS-AUH-2025-0001"));
    assert_eq!(mode(&j), 0o640);
    w.run(&["generate", "--journal", j.to_str().unwrap(), sample("group-3.json").to_str().unwrap()]).ok();
    assert_eq!(mode(&j), 0o600);
}

#[test]
fn a_new_journal_is_owner_only_in_an_owner_only_folder() {
    let w = World::new();
    let j = w.path("new/state/journal.sqlite");
    generate_into(&w, &j).ok();
    assert_eq!(mode(&j), 0o600);
    assert_eq!(mode(&w.path("new/state")), 0o700);
}

/// The journal and the files SQLite keeps beside it (`-wal` holds whole messages, CPR numbers
/// included), as `(name, mode)` for those present.
fn journal_modes(j: &Path) -> Vec<(String, u32)> {
    ["", "-wal", "-shm"]
        .iter()
        .filter_map(|s| {
            let p = j.with_file_name(format!("{}{s}", j.file_name().unwrap().to_str().unwrap()));
            std::fs::symlink_metadata(&p).ok().map(|m| (s.to_string(), m.permissions().mode() & 0o777))
        })
        .collect()
}

#[test]
fn the_files_beside_a_journal_made_readable_to_others_are_owner_only() {
    let w = World::new();
    let j = w.path("p/j.sqlite");
    generate_into(&w, &j).ok();
    std::fs::set_permissions(&j, std::fs::Permissions::from_mode(0o644)).unwrap();
    for s in ["-wal", "-shm"] {
        let _ = std::fs::remove_file(w.path(&format!("p/j.sqlite{s}")));
    }
    w.run(&["generate", "--journal", j.to_str().unwrap(), sample("group-2a.json").to_str().unwrap()]).ok();
    let modes = journal_modes(&j);
    assert!(modes.len() == 3 && modes.iter().all(|(_, m)| *m == 0o600), "{modes:?}");

    // Side files someone (or an older flspost) left readable to others are put back too.
    for s in ["-wal", "-shm"] {
        std::fs::set_permissions(w.path(&format!("p/j.sqlite{s}")), std::fs::Permissions::from_mode(0o644)).unwrap();
    }
    w.run(&["generate", "--journal", j.to_str().unwrap(), sample("group-3.json").to_str().unwrap()]).ok();
    let modes = journal_modes(&j);
    assert!(modes.iter().all(|(_, m)| *m == 0o600), "{modes:?}");
}

#[test]
fn an_empty_file_readable_to_others_becomes_an_owner_only_journal() {
    let w = World::new();
    let j = w.path("p/j.sqlite");
    std::fs::create_dir_all(w.path("p")).unwrap();
    std::fs::write(&j, "").unwrap();
    std::fs::set_permissions(&j, std::fs::Permissions::from_mode(0o644)).unwrap();
    generate_into(&w, &j).ok();
    let modes = journal_modes(&j);
    assert!(modes.len() == 3 && modes.iter().all(|(_, m)| *m == 0o600), "{modes:?}");
}

#[test]
fn a_journal_path_ending_in_a_slash_is_a_usage_error_naming_it() {
    let w = World::new();
    let j = format!("{}/", w.path("new").display());
    let r = w.run(&["generate", "--journal", &j, sample("group-1.json").to_str().unwrap()]);
    assert_eq!(r.code, 2, "{}", r.stderr);
    assert!(r.stderr.contains(&j), "{}", r.stderr);
    assert!(!w.path("new").exists());
}
