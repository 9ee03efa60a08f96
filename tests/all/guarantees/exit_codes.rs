//! Exit codes that say what happened (1 the environment, 2 the caller's mistake, 3 a bug),
//! the same rule in every command, and output that survives a reader going away.

use crate::common::*;
use std::os::unix::process::CommandExt;
use std::process::Stdio;

#[test]
fn a_missing_file_is_the_environment_in_every_command() {
    let w = World::new();
    w.generate(&sample("group-1.json")).ok(); // a journal, so `receipt` gets as far as its file
    let missing = w.path("no-such-file.xml");
    for cmd in ["generate", "validate", "receipt"] {
        let r = w.run(&[cmd, missing.to_str().unwrap()]);
        assert_eq!(r.code, 1, "{cmd}: {}", r.stderr);
        let line = r.stderr.lines().find(|l| l.contains("no-such-file.xml")).unwrap_or_default();
        assert!(line.starts_with("flspost: "), "{cmd}: {}", r.stderr);
    }
}

/// A pipe whose reader is already gone: every write to it fails with EPIPE. Both ends are
/// close-on-exec (`std::io::pipe`), so a child another test spawns meanwhile cannot inherit
/// the read end and keep the pipe open.
fn closed_pipe() -> Stdio {
    let (reader, writer) = std::io::pipe().unwrap();
    drop(reader);
    Stdio::from(writer)
}

#[test]
fn a_closed_standard_output_is_not_a_panic() {
    let w = World::new();
    w.generate(&sample("group-1.json")).ok();
    for args in [vec!["journal", "list", "--json"], vec!["journal", "list"], vec!["journal", "show", "1"]] {
        let out = w.cmd().args(&args).stdout(closed_pipe()).output().unwrap();
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert!(!stderr.contains("panicked"), "{args:?}: {stderr}");
        // The reader chose to stop reading: nothing went wrong.
        assert_eq!(out.status.code(), Some(0), "{args:?}: {stderr}");
    }
    // A command that changes the journal says its report was lost (exit 1), after doing the work.
    let out =
        w.cmd().args(["generate", sample("group-3.json").to_str().unwrap()]).stdout(closed_pipe()).output().unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(!stderr.contains("panicked"), "{stderr}");
    assert_eq!(out.status.code(), Some(1), "{stderr}");
    assert!(stderr.contains("standard output"), "{stderr}");
    assert_eq!(w.run(&["journal", "list", "--json", "--result", "FLS-AUH-2025-0004"]).ok().json().len(), 2);
}

#[test]
fn a_full_disk_while_recording_a_batch_gives_every_line_its_outcome() {
    // A full disk for the SQLite file (the process's own file size limit); PostgreSQL's server
    // writes its files in its own process.
    if sqlite_only() {
        return;
    }
    let w = World::new();
    // The journal exists; then the process may not grow any file past 1 MB, as on a disk
    // that is full: SQLite's writes fail while a round of 300 results (~6 MB) is recorded.
    w.generate(&sample("group-1.json")).ok();
    let input = w.write("in.jsonl", &(sample_lines("FULL", 300).join("\n") + "\n"));
    let mut cmd = w.cmd();
    cmd.args(["generate", input.to_str().unwrap()]);
    // SAFETY: only async-signal-safe calls between fork and exec. SIGXFSZ ignored (kept
    // across exec) turns "file too large" into a failing write instead of a killed process.
    unsafe {
        cmd.pre_exec(|| {
            libc::signal(libc::SIGXFSZ, libc::SIG_IGN);
            let limit = libc::rlimit { rlim_cur: 1 << 20, rlim_max: 1 << 20 };
            if libc::setrlimit(libc::RLIMIT_FSIZE, &limit) != 0 {
                return Err(std::io::Error::last_os_error());
            }
            Ok(())
        });
    }
    let r = Run::from(cmd.output().unwrap());
    assert_eq!(r.code, 1, "{}", r.stderr);
    let lines = r.json();
    assert_eq!(lines.len(), 300, "every line gets its outcome:\n{}", r.stderr);
    for (i, l) in lines.iter().enumerate() {
        assert_eq!(l["line"], (i + 1) as u64);
        assert_eq!(l["outcome"], "error", "{l}");
        assert_eq!(l["error"]["exit_code"], 1, "{l}");
        assert!(l["error"]["reason"].as_str().unwrap().starts_with("journal: "), "{l}");
    }
    assert!(r.stderr.contains("300 failed"), "{}", r.stderr);
    // Nothing was half-recorded: with room again, the same batch is generated whole.
    let again = w.run(&["generate", input.to_str().unwrap()]).ok();
    assert!(again.json().iter().all(|l| l["outcome"] == "generated"));
    assert_eq!(again.json().len(), 300);
}
