//! The durability promise: when a command reports something (a summary on stdout) or exits,
//! what it reported is on stable storage, not only in the page cache, so a power cut cannot
//! take back a letter the gateway was told exists or was sent.
//!
//! The real binary runs under `strace`, which shows the order of its writes, renames and
//! flushes (`fsync`/`fdatasync`). The checks are on that order, never on timing:
//!
//! - nothing flspost wrote to a file (journal, log, output or outbox file) is still unflushed
//!   when a line is written to stdout, or when the process exits;
//! - a file is flushed before it is renamed into place;
//! - a folder a file (or result folder) was renamed into is flushed before the next line on
//!   stdout, and an outbox folder before the journal records the message as `sent`;
//! - a batch flushes the journal once per round, not once per line.

use crate::common::*;
use std::collections::{BTreeMap, BTreeSet};
use std::path::Path;
use std::process::Command;

/// One system call from the trace, in the order it completed (`start` for the order it began).
#[derive(Debug, Clone)]
struct Call {
    name: String,
    /// The path of the first argument's descriptor (`strace -y`), if it has one.
    fd_path: Option<String>,
    /// The descriptor number of the first argument.
    fd: Option<i32>,
    /// Quoted strings among the arguments (rename's two paths).
    strings: Vec<String>,
    /// The arguments as strace printed them (what a write to stdout wrote, escaped).
    raw: String,
    /// Only on a completed call.
    ok: bool,
}

fn strace_bin() -> std::path::PathBuf {
    ensure_tool("strace", "strace") // Debian package strace; scripts/test-deps.sh installs it
}

/// Runs flspost under strace in `w`'s world.
fn traced(w: &World, args: &[&str], stdin: Option<&[u8]>) -> (Run, Vec<Call>) {
    let log = w.path(&format!("strace-{}.txt", std::process::id() ^ rand_suffix()));
    let mut c = Command::new(strace_bin());
    // On PostgreSQL, also what goes to its server (the client sends with sendto).
    let calls = if on_postgres() { ",sendto" } else { "" };
    c.args(["-f", "-qq", "-y", "-s", "4096", "-o"])
        .arg(&log)
        .args(["-e", &format!("trace=openat,write,pwrite64,writev,fsync,fdatasync,rename,renameat,renameat2{calls}")])
        .arg(env!("CARGO_BIN_EXE_flspost"))
        .args(args)
        .env("FLSPOST_JOURNAL", w.journal_location())
        .env("FLSPOST_FAKE_NOW", FAKE_NOW)
        .env_remove("FLSPOST_CONFIG");
    let run = match stdin {
        None => Run::from(c.stdin(std::process::Stdio::null()).output().unwrap()),
        Some(bytes) => {
            use std::io::Write;
            let mut child = c
                .stdin(std::process::Stdio::piped())
                .stdout(std::process::Stdio::piped())
                .stderr(std::process::Stdio::piped())
                .spawn()
                .unwrap();
            child.stdin.take().unwrap().write_all(bytes).unwrap();
            Run::from(child.wait_with_output().unwrap())
        }
    };
    let text = std::fs::read_to_string(&log).unwrap();
    std::fs::remove_file(&log).unwrap();
    (run, parse(&text))
}

fn rand_suffix() -> u32 {
    use std::sync::atomic::{AtomicU32, Ordering};
    static N: AtomicU32 = AtomicU32::new(1);
    N.fetch_add(1, Ordering::Relaxed) << 16
}

/// strace's lines: `PID name(args) = ret`, or a call split across threads as
/// `PID name(args <unfinished ...>` and later `PID <... name resumed>rest) = ret`. A split
/// call is taken as one call at the moment it completed, except writes, which count from
/// the moment they began (what matters is that nothing was unflushed when output began).
fn parse(text: &str) -> Vec<Call> {
    let mut pending: BTreeMap<String, String> = BTreeMap::new();
    let mut calls = vec![];
    for line in text.lines() {
        let Some((pid, rest)) = line.split_once(' ') else { continue };
        let rest = rest.trim_start();
        if let Some(head) = rest.strip_suffix(" <unfinished ...>") {
            if head.starts_with("write(") || head.starts_with("pwrite64(") || head.starts_with("writev(") {
                calls.push(call(head, true));
            } else {
                pending.insert(pid.to_string(), head.to_string());
            }
            continue;
        }
        if let Some(tail) = rest.strip_prefix("<... ") {
            let (name, after) = tail.split_once(" resumed>").unwrap_or((tail, ""));
            if let Some(head) = pending.remove(pid) {
                let ok = !after.contains("= -1");
                let mut c = call(&head, ok);
                c.name = name.to_string();
                calls.push(c);
            }
            continue;
        }
        if rest.starts_with("+++") || rest.starts_with("---") {
            continue;
        }
        let ok = !rest.rsplit_once(" = ").is_some_and(|(_, r)| r.starts_with('-'));
        calls.push(call(rest, ok));
    }
    calls
}

fn call(text: &str, ok: bool) -> Call {
    let (name, args) = text.split_once('(').unwrap_or((text, ""));
    let digits: String = args.chars().take_while(|c| c.is_ascii_digit()).collect();
    let fd = digits.parse().ok();
    let fd_path = args
        .strip_prefix(&digits)
        .and_then(|a| a.strip_prefix('<'))
        .and_then(|a| a.split_once('>'))
        .map(|(p, _)| p.to_string());
    let strings = args.split('"').skip(1).step_by(2).map(String::from).collect();
    Call { name: name.to_string(), fd_path, fd, strings, raw: args.to_string(), ok }
}

fn is_write(c: &Call) -> bool {
    matches!(c.name.as_str(), "write" | "pwrite64" | "writev")
}

fn is_flush(c: &Call) -> bool {
    matches!(c.name.as_str(), "fsync" | "fdatasync") && c.ok
}

fn is_stdout(c: &Call) -> bool {
    is_write(c) && c.fd == Some(1)
}

/// A file whose contents matter after a power cut: not a pipe, terminal or device, not
/// SQLite's shared-memory index (rebuilt from the log) nor an unlinked scratch file.
fn is_data_file(path: &str) -> bool {
    path.starts_with('/')
        && !path.starts_with("/dev/")
        && !path.ends_with("-shm")
        // SQLite's scratch files (O_TMPFILE: never linked, named `#INODE`)
        && !path.contains("/#")
        && !path.contains("(deleted)")
}

fn parent(path: &str) -> String {
    Path::new(path).parent().unwrap().display().to_string()
}

/// The checks every command must pass (see the module's documentation). Returns the number
/// of lines written to stdout, so a caller can tell the check had something to check.
///
/// A batch builds the next round (writing its files under temporary names, renaming its
/// folders into place) while it prints the summaries of the last: so at a line on stdout,
/// the journal must be flushed, and so must every file or folder that line names.
fn assert_durable_order(calls: &[Call], journal: &Path) -> usize {
    let journal = journal.display().to_string();
    // Files written and not flushed since; per folder, names renamed into it since its last flush.
    let mut dirty_files: BTreeSet<String> = BTreeSet::new();
    let mut dirty_dirs: BTreeMap<String, BTreeSet<String>> = BTreeMap::new();
    let mut lines = 0;
    for (i, c) in calls.iter().enumerate() {
        if is_stdout(c) {
            let unflushed_journal: Vec<_> = dirty_files.iter().filter(|f| f.starts_with(&journal)).collect();
            assert!(
                unflushed_journal.is_empty(),
                "call {i}: stdout written while {unflushed_journal:?} is not flushed"
            );
            for f in &dirty_files {
                assert!(!c.raw.contains(f.as_str()), "call {i}: stdout names {f}, which is not flushed");
            }
            for (dir, names) in &dirty_dirs {
                for n in names {
                    assert!(!c.raw.contains(n.as_str()), "call {i}: stdout names {n}, but {dir} is not flushed");
                }
            }
            lines += 1;
        } else if is_write(c) {
            if let Some(p) = c.fd_path.as_deref().filter(|p| is_data_file(p)) {
                dirty_files.insert(p.to_string());
            }
        } else if is_flush(c) {
            if let Some(p) = &c.fd_path {
                dirty_files.remove(p);
                dirty_dirs.remove(p);
            }
        } else if c.name.starts_with("rename") && c.ok {
            let (from, to) = (&c.strings[0], &c.strings[1]);
            assert!(
                !dirty_files.iter().any(|f| f == from || f.starts_with(&format!("{from}/"))),
                "call {i}: {from} renamed to {to} before its contents were flushed: {dirty_files:?}"
            );
            dirty_dirs.entry(parent(to)).or_default().insert(to.clone());
        }
    }
    assert!(dirty_files.is_empty() && dirty_dirs.is_empty(), "exit with {dirty_files:?} / {dirty_dirs:?} unflushed");
    lines
}

fn flushes_of(calls: &[Call], pred: impl Fn(&str) -> bool) -> usize {
    calls.iter().filter(|c| is_flush(c) && c.fd_path.as_deref().is_some_and(&pred)).count()
}

#[test]
fn generate_prints_a_summary_only_after_the_journal_and_the_files_are_on_disk() {
    let _exclusive = exclusive();
    let w = World::new();
    let out = w.out();
    let out_s = out.to_str().unwrap();
    // A new journal (in a new folder, state/, whose name must be flushed into its parent).
    let (r, calls) = traced(&w, &["generate", sample("group-3.json").to_str().unwrap()], None);
    r.ok();
    assert_eq!(assert_durable_order(&calls, &w.journal()), 1);
    let world = w.dir.path().display().to_string();
    // (A PostgreSQL journal has no folder here; its server makes its commits durable.)
    assert!(on_postgres() || flushes_of(&calls, |p| p == world) >= 1, "the new journal folder's name is never flushed");
    // With an output folder, new and then existing (the gateway's everyday call).
    for s in ["group-1.json", "group-2a.json"] {
        let (r, calls) = traced(&w, &["generate", "--out-dir", out_s, sample(s).to_str().unwrap()], None);
        r.ok();
        assert_eq!(assert_durable_order(&calls, &w.journal()), 1);
        let wal = format!("{}-wal", w.journal().display());
        assert!(on_postgres() || flushes_of(&calls, |p| p == wal) >= 1, "the journal's log is never flushed");
        assert!(flushes_of(&calls, |p| p == out_s) >= 1, "the output folder is never flushed");
    }
    // An existing result whose file went missing: restored, and flushed before "exists".
    std::fs::remove_file(out.join("FLS-AUH-2025-0002/patient-letter.pdf")).unwrap();
    let (r, calls) = traced(&w, &["generate", "--out-dir", out_s, sample("group-2a.json").to_str().unwrap()], None);
    assert_eq!(r.ok().one()["outcome"], "exists");
    assert_eq!(assert_durable_order(&calls, &w.journal()), 1);
    assert!(flushes_of(&calls, |p| p.ends_with("FLS-AUH-2025-0002")) >= 1);
    assert!(out.join("FLS-AUH-2025-0002/patient-letter.pdf").exists());
    // The restored file was staged in the staging folder, never beside the result's files,
    // where a killed run would leave it for the gateway to find.
    let staged: Vec<&str> = calls
        .iter()
        .filter(|c| is_write(c))
        .filter_map(|c| c.fd_path.as_deref())
        .filter(|p| p.contains(".tmp-"))
        .collect();
    assert!(!staged.is_empty());
    for p in staged {
        assert!(p.starts_with(&format!("{out_s}/.flspost-tmp/")), "a temporary file in a result folder: {p}");
    }
}

#[test]
fn a_batch_flushes_the_journal_once_per_round_not_once_per_line() {
    let _exclusive = exclusive();
    let w = World::new();
    let n = 300; // two rounds of at most 256
    let lines = sample_lines("DUR", n).join("\n");
    let (r, calls) =
        traced(&w, &["generate", "--jsonl", "--out-dir", w.out().to_str().unwrap(), "-"], Some(lines.as_bytes()));
    let r = r.ok();
    assert_eq!(r.json().len(), n);
    assert_eq!(assert_durable_order(&calls, &w.journal()), n);
    let journal = w.journal().display().to_string();
    let journal_flushes = flushes_of(&calls, |p| p.starts_with(&journal));
    // Per round: the commit, and a checkpoint once the log passes 1 MB (log and database);
    // plus creating the journal. Far fewer than one per line. (On PostgreSQL its server
    // flushes what a commit wrote.)
    assert!(
        on_postgres() || (2..=12).contains(&journal_flushes),
        "{journal_flushes} flushes of the journal for {n} lines"
    );
    let out = w.out().display().to_string();
    assert_eq!(flushes_of(&calls, |p| p == out), 2, "the output folder: one flush per round");
}

#[test]
fn send_flushes_the_outbox_folder_before_the_journal_says_sent() {
    let _exclusive = exclusive();
    let w = World::new();
    for s in SAMPLES {
        w.generate(&sample(s)).ok();
    }
    let cfg = w.outbox_config();
    let (r, calls) = traced(&w, &["send", "--config", cfg.to_str().unwrap()], None);
    assert!(r.ok().stderr.contains("8 sent"));
    assert_eq!(assert_durable_order(&calls, &w.journal()), 8);
    // After each hand-over (the rename into the outbox), the outbox folder is flushed before
    // the journal is written again (the commit that says `sent`): the SQLite journal's log,
    // or the PostgreSQL server (the statements of that commit, sent over its socket).
    let wal = format!("{}-wal", w.journal().display());
    let to_journal = |c: &Call| match c.fd_path.as_deref() {
        Some(p) if on_postgres() => c.name == "sendto" && p.starts_with("socket:"),
        p => is_write(c) && p == Some(wal.as_str()),
    };
    let mut handed_over = 0;
    for (i, c) in calls.iter().enumerate().filter(|(_, c)| c.name.starts_with("rename") && c.ok) {
        let folder = parent(&c.strings[1]);
        let next_journal_write = calls[i..].iter().position(to_journal).expect("a commit follows");
        let folder_flush = calls[i..].iter().position(|c| is_flush(c) && c.fd_path.as_deref() == Some(&folder));
        assert!(
            folder_flush.is_some_and(|f| f < next_journal_write),
            "{} was handed over, but {folder} was not flushed before the journal recorded it",
            c.strings[1]
        );
        handed_over += 1;
    }
    assert_eq!(handed_over, 8);
}

#[test]
fn regenerate_and_receipt_report_only_what_is_on_disk() {
    let _exclusive = exclusive();
    let w = World::new();
    let cfg = w.config("c.toml", &ConfigOf { gp: Some(Transport::Outbox("vans")), ..ConfigOf::default() });
    let gp = w.sent(&cfg, &sample("group-1.json"));
    let (env, letter) = (gp["envelope_id"].as_str().unwrap(), gp["letter_id"].as_str().unwrap());

    let (r, calls) = traced(&w, &["regenerate", env, "--out-dir", w.out().to_str().unwrap()], None);
    let regenerated = r.ok().one();
    assert_eq!(regenerated["outcome"], "regenerated");
    assert_eq!(assert_durable_order(&calls, &w.journal()), 1);

    let f = w.path("receipt.xml");
    std::fs::write(&f, receipt("XCTL03", "DUR1", env, letter, None)).unwrap();
    let (r, calls) = traced(&w, &["receipt", f.to_str().unwrap()], None);
    let line = r.ok().one();
    assert_eq!(line["result"]["outcome"], "acknowledged", "{line}");
    assert_eq!(assert_durable_order(&calls, &w.journal()), 1);
}
