//! Many flspost processes on one journal at once, as a gateway runs them: parallel
//! `generate`s (single and batch), `send`s, `receipt`s and readers (flspost's and a plain
//! client of the store), some killed with SIGKILL at random moments. Nothing may crash, nothing
//! reported may be missing from the journal, the journal stays whole, and no transmission
//! is handed over twice. Bounded: a few rounds of a few seconds each.

use crate::common::*;
use flspost::journal::db::TransactionBehavior;
use std::collections::BTreeMap;
use std::os::unix::process::ExitStatusExt;
use std::process::{Child, Stdio};
use std::time::{Duration, Instant};

/// A small xorshift, seeded from the clock and printed, so a failing round can be replayed
/// (`FLSPOST_STRESS_SEED=...`).
struct Rng(u64);

impl Rng {
    fn new() -> Rng {
        let seed = std::env::var("FLSPOST_STRESS_SEED").ok().and_then(|s| s.parse().ok()).unwrap_or_else(|| {
            std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).unwrap().as_nanos() as u64 | 1
        });
        eprintln!("FLSPOST_STRESS_SEED={seed}");
        Rng(seed)
    }

    fn below(&mut self, n: u64) -> u64 {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        self.0 % n
    }
}

enum Role {
    /// A `generate` of these result ids (one document, or a JSON Lines batch).
    Generate(Vec<String>),
    Send,
    Receipt,
    Reader,
}

struct Proc {
    role: Role,
    child: Child,
    out: std::path::PathBuf,
    err: std::path::PathBuf,
    /// When the test kills it (`None`: it runs to its end).
    kill_at: Option<Instant>,
}

/// A plain client of the store (SQLite read only, or PostgreSQL) reading the journal over and
/// over until `stop` (as a support person's tool or a monitoring script would), counting what
/// it read.
fn plain_reader(w: &World, stop: std::sync::Arc<std::sync::atomic::AtomicBool>) -> std::thread::JoinHandle<u64> {
    use flspost::journal::db::{Connection, PgConnection, PgTarget};
    let (path, pg) = (w.journal(), w.pg.as_ref().map(|db| db.url.clone()));
    let open = move || match &pg {
        None => {
            let c = rusqlite::Connection::open_with_flags(&path, rusqlite::OpenFlags::SQLITE_OPEN_READ_ONLY).ok()?;
            c.busy_timeout(Duration::from_secs(10)).unwrap();
            Some(Connection::Sqlite(c))
        }
        Some(url) => {
            let target = PgTarget { url: url.clone(), password: None, ca_file: None };
            PgConnection::connect(&target, Duration::from_secs(10)).ok().map(Connection::Postgres)
        }
    };
    std::thread::spawn(move || {
        let mut reads = 0;
        while !stop.load(std::sync::atomic::Ordering::Relaxed) {
            if let Some(c) = open() {
                let n: flspost::journal::db::Result<i64> =
                    c.query_row("SELECT COUNT(*) FROM messages m JOIN inputs i ON i.id = m.input_id", [], |r| r.get(0));
                if n.is_ok() {
                    reads += 1;
                }
            }
            std::thread::sleep(Duration::from_millis(3));
        }
        reads
    })
}

#[test]
fn many_processes_at_once_lose_nothing_and_hand_over_each_transmission_once() {
    let _exclusive = exclusive();
    const ROUNDS: usize = 4;
    const SINGLES: usize = 20;
    let w = World::new();
    let cfg = w.outbox_config();
    let cfg = cfg.to_str().unwrap().to_string();
    let mut rng = Rng::new();
    // Result id -> the message ids a process reported for it with exit 0.
    let mut reported: BTreeMap<String, Vec<i64>> = BTreeMap::new();
    let mut receipts_written = 0;
    // The journal exists before the rounds (a gateway's first call creates it).
    w.run(&["generate", sample("group-1.json").to_str().unwrap()]).ok();
    let stop = std::sync::Arc::new(std::sync::atomic::AtomicBool::new(false));
    let reader = plain_reader(&w, stop.clone());
    for round in 0..ROUNDS {
        let mut procs = vec![];
        let start = Instant::now();
        let kill = |rng: &mut Rng| (rng.below(5) == 0).then(|| start + Duration::from_millis(rng.below(400)));
        // Output to files, not pipes: a reader's listing outgrows a pipe nobody reads yet.
        let mut n_out = 0;
        let mut spawn = |args: &[&str]| {
            n_out += 1;
            let (out, err) = (w.path(&format!("log/{round}-{n_out}.out")), w.path(&format!("log/{round}-{n_out}.err")));
            std::fs::create_dir_all(out.parent().unwrap()).unwrap();
            let (o, e) = (std::fs::File::create(&out).unwrap(), std::fs::File::create(&err).unwrap());
            let child = w.cmd().args(args).stdout(o).stderr(e).spawn().unwrap();
            (child, out, err)
        };
        for i in 0..SINGLES {
            let id = format!("C{round}-{i:03}");
            let line = sample_lines(&id, 1).pop().unwrap().replace(&format!("{id}-00000"), &id);
            let file = w.write(&format!("in/{id}.json"), &line);
            let (child, out, err) = spawn(&["generate", file.to_str().unwrap()]);
            procs.push(Proc { role: Role::Generate(vec![id]), child, out, err, kill_at: kill(&mut rng) });
        }
        // A batch beside them.
        let ids: Vec<String> = (0..12).map(|i| format!("B{round}-{i:05}")).collect();
        let batch =
            w.write(&format!("in/batch-{round}.jsonl"), &(sample_lines(&format!("B{round}"), 12).join("\n") + "\n"));
        let (child, out, err) = spawn(&["generate", batch.to_str().unwrap()]);
        procs.push(Proc { role: Role::Generate(ids), child, out, err, kill_at: kill(&mut rng) });
        for _ in 0..3 {
            let (child, out, err) = spawn(&["send", "--config", &cfg]);
            procs.push(Proc { role: Role::Send, child, out, err, kill_at: kill(&mut rng) });
        }
        // Positive receipts for GP letters an earlier round sent.
        let c = w.db();
        let sent: Vec<(String, String)> = c
            .prepare(
                "SELECT letter_id, envelope_id FROM messages WHERE kind = 'gp-xdis91' AND status = 'sent' \
                 ORDER BY id LIMIT 6",
            )
            .unwrap()
            .query_map([], |r| Ok((r.get(0)?, r.get(1)?)))
            .unwrap()
            .collect::<flspost::journal::db::Result<_>>()
            .unwrap();
        drop(c);
        for (letter, envelope) in sent {
            receipts_written += 1;
            let own = format!("{receipts_written:08}");
            let file = w.path(&format!("receipts/{own}.xml"));
            std::fs::create_dir_all(file.parent().unwrap()).unwrap();
            std::fs::write(&file, receipt("XCTL03", &own, &envelope, &letter, None)).unwrap();
            let (child, out, err) = spawn(&["receipt", file.to_str().unwrap()]);
            procs.push(Proc { role: Role::Receipt, child, out, err, kill_at: kill(&mut rng) });
        }
        for args in
            [&["journal", "list", "--json"][..], &["journal", "verify"], &["journal", "list", "--status", "sent"]]
        {
            let (child, out, err) = spawn(args);
            procs.push(Proc { role: Role::Reader, child, out, err, kill_at: None });
        }

        // Kill the chosen ones at their moment; collect everyone.
        let deadline = Instant::now() + Duration::from_secs(60);
        let mut done: Vec<Option<(std::process::ExitStatus, String, String)>> = procs.iter().map(|_| None).collect();
        while done.iter().any(Option::is_none) {
            assert!(Instant::now() < deadline, "round {round}: processes still running after 60 s");
            for (p, slot) in procs.iter_mut().zip(done.iter_mut()).filter(|(_, s)| s.is_none()) {
                if p.kill_at.is_some_and(|t| Instant::now() >= t) {
                    let _ = p.child.kill();
                    p.kill_at = None;
                }
                if let Some(status) = p.child.try_wait().unwrap() {
                    let read = |f: &std::path::Path| std::fs::read_to_string(f).unwrap();
                    *slot = Some((status, read(&p.out), read(&p.err)));
                }
            }
            std::thread::sleep(Duration::from_millis(5));
        }
        // Every problem of the round is counted before the round fails, so the closing
        // message says how bad it was (the numbers before a fix).
        let mut problems: Vec<String> = vec![];
        for (p, result) in procs.iter().zip(done) {
            let (status, out, err) = result.unwrap();
            if status.signal() == Some(libc_sigkill()) {
                continue; // ours
            }
            let Some(code) = status.code() else {
                problems.push(format!("crashed: {status:?}"));
                continue;
            };
            let mut expect_ok = |what: &str| {
                if code != 0 {
                    problems.push(format!("{what} exit {code}: {}", err.trim()));
                }
            };
            match &p.role {
                Role::Generate(ids) => {
                    expect_ok(&format!("generate {}", ids[0]));
                    for line in out.lines().filter(|l| l.starts_with('{')) {
                        let v: serde_json::Value = serde_json::from_str(line).unwrap();
                        assert_eq!(v["outcome"], "generated", "{line}");
                        let id = v["result_id"].as_str().unwrap().to_string();
                        let msgs = v["messages"].as_array().unwrap().iter().map(|m| m["id"].as_i64().unwrap());
                        reported.insert(id, msgs.collect());
                    }
                }
                // A send may find a transport's answer to report (exit 1 only for failed
                // hand-overs, which an outbox does not give).
                Role::Send => expect_ok("send"),
                Role::Receipt => expect_ok("receipt"),
                Role::Reader => expect_ok("reader"),
            }
        }

        // After the round: whole, verified, and everything reported is there.
        let c = w.db();
        w.run(&["journal", "verify"]).ok();
        for (id, msgs) in &reported {
            for m in msgs {
                let found: Option<String> =
                    c.query_row("SELECT result_id FROM messages WHERE id = ?1", [m], |r| r.get(0)).ok();
                if found.as_deref() != Some(id.as_str()) {
                    problems.push(format!("lost: message {m} of {id} was reported but is not in the journal"));
                }
            }
        }
        let crashed = problems.iter().filter(|p| p.starts_with("crashed")).count();
        let lost = problems.iter().filter(|p| p.starts_with("lost")).count();
        assert!(
            problems.is_empty(),
            "round {round}: {crashed} crashed, {lost} lost, {} failed of {} processes:\n{}",
            problems.len() - crashed - lost,
            procs.len(),
            problems.join("\n")
        );
        // A transmission is handed over once: a second hand-over of the same message is only
        // the retry of one a killed `send` left open (same bytes, same envelope).
        let twice: i64 = c
            .query_row(
                "SELECT COUNT(*) FROM (SELECT message_id FROM attempts WHERE outcome = 'sent' \
                 GROUP BY message_id HAVING COUNT(*) > 1) AS twice",
                [],
                |r| r.get(0),
            )
            .unwrap();
        assert_eq!(twice, 0, "round {round}: a transmission was handed over twice");
    }
    stop.store(true, std::sync::atomic::Ordering::Relaxed);
    let reads = reader.join().unwrap();
    assert!(reads > 0, "the plain reader never read the journal");
    // Finish the work: every result reported is still there, and one last `send` hands over
    // what the killed ones left, each transmission once (on PostgreSQL once their claims'
    // leases have run out: a killed `send` between its claim and its outcome leaves one).
    w.leases_run_out();
    w.run(&["send", "--config", &cfg]).ok();
    let c = w.db();
    let waiting: i64 =
        c.query_row("SELECT COUNT(*) FROM messages WHERE status IN ('generated', 'retry')", [], |r| r.get(0)).unwrap();
    assert_eq!(waiting, 0);
    assert!(reported.len() >= ROUNDS * SINGLES / 2, "too few results got through: {}", reported.len());
}

fn libc_sigkill() -> i32 {
    9
}

/// Another client (a support person's `sqlite3` or `psql`, a backup script) holding the
/// journal's write lock and then closing: flspost waits within its bound, and never reports
/// a result that is not in the journal. (The lock every flspost writer takes: SQLite's
/// `BEGIN IMMEDIATE`, the same as EXCLUSIVE in WAL mode; PostgreSQL's advisory lock.)
#[test]
fn another_client_holding_the_journal_never_makes_flspost_report_an_unrecorded_result() {
    let w = World::new();
    w.run(&["generate", sample("group-1.json").to_str().unwrap()]).ok();
    for round in 0..3 {
        let (tx, rx) = std::sync::mpsc::channel();
        let c = w.db();
        let holder = std::thread::spawn(move || {
            let t = c.transaction_with_behavior(TransactionBehavior::Immediate).unwrap();
            tx.send(()).unwrap();
            std::thread::sleep(Duration::from_millis(1500));
            t.commit().unwrap();
            drop(c);
        });
        rx.recv().unwrap();
        let children: Vec<(String, Child)> = (0..4)
            .map(|i| {
                let id = format!("H{round}-{i}");
                let line = sample_lines(&id, 1).pop().unwrap().replace(&format!("{id}-00000"), &id);
                let file = w.write(&format!("in/{id}.json"), &line);
                let child = w
                    .cmd()
                    .args(["generate", file.to_str().unwrap()])
                    .stdout(Stdio::piped())
                    .stderr(Stdio::piped())
                    .spawn()
                    .unwrap();
                (id, child)
            })
            .collect();
        holder.join().unwrap();
        for (id, child) in children {
            let out = child.wait_with_output().unwrap();
            let stdout = String::from_utf8_lossy(&out.stdout);
            assert!(out.status.success(), "{id}: {:?}\n{}", out.status, String::from_utf8_lossy(&out.stderr));
            let v: serde_json::Value = serde_json::from_str(stdout.lines().next().unwrap()).unwrap();
            assert_eq!(v["outcome"], "generated");
            let c = w.db();
            for m in v["messages"].as_array().unwrap() {
                let n: i64 = c
                    .query_row(
                        "SELECT COUNT(*) FROM messages WHERE id = ?1 AND result_id = ?2",
                        (m["id"].as_i64().unwrap(), &id),
                        |r| r.get(0),
                    )
                    .unwrap();
                assert_eq!(n, 1, "{id}: message {} was reported but is not in the journal", m["id"]);
            }
        }
    }
}

/// Past the wait the config allows, a busy journal fails the command with exit 1 and the
/// code `journal_busy` in its JSON line, and records nothing of it; running again does.
#[test]
fn a_journal_busy_past_the_configured_wait_fails_with_journal_busy_and_records_nothing() {
    let w = World::new();
    w.run(&["generate", sample("group-1.json").to_str().unwrap()]).ok();
    let cfg = w.write("busy.toml", "[journal]\nbusy_timeout_seconds = 0.3\n");
    let line = sample_lines("BUSY", 1).pop().unwrap();
    let input = w.write("in/busy.json", &line);
    let batch = w.write("in/busy.jsonl", &(sample_lines("BUSYB", 3).join("\n") + "\n"));
    let (tx, rx) = std::sync::mpsc::channel();
    let (release_tx, release) = std::sync::mpsc::channel::<()>();
    let c = w.db();
    let holder = std::thread::spawn(move || {
        let t = c.transaction_with_behavior(TransactionBehavior::Immediate).unwrap();
        tx.send(()).unwrap();
        release.recv().unwrap();
        t.commit().unwrap();
    });
    rx.recv().unwrap();
    let cfg = cfg.to_str().unwrap();
    for input in [&input, &batch] {
        let r = w.run(&["generate", "--config", cfg, input.to_str().unwrap()]);
        assert_eq!(r.code, 1, "{}\n{}", r.stdout, r.stderr);
        let lines = r.json();
        assert!(!lines.is_empty(), "no JSON line: {}", r.stdout);
        for v in &lines {
            assert_eq!(v["error"]["code"], "journal_busy", "{v}");
            assert_eq!(v["error"]["exit_code"], 1, "{v}");
        }
        assert!(r.stderr.contains("journal busy"), "{}", r.stderr);
    }
    release_tx.send(()).unwrap();
    holder.join().unwrap();
    let c = w.db();
    let n: i64 = c.query_row("SELECT COUNT(*) FROM inputs WHERE result_id LIKE 'BUSY%'", [], |r| r.get(0)).unwrap();
    assert_eq!(n, 0, "a busy journal half-recorded a result");
    for input in [&input, &batch] {
        let r = w.run(&["generate", "--config", cfg, input.to_str().unwrap()]).ok();
        assert!(r.json().iter().all(|v| v["outcome"] == "generated"), "{}", r.stdout);
    }
}

/// A command never reads the journal's own files as inputs (a glob over the journal's
/// folder): opening and closing one while connected would drop the process's SQLite locks.
#[test]
fn the_journal_and_its_side_files_are_refused_as_inputs() {
    // The SQLite file and its -shm beside it.
    if sqlite_only() {
        return;
    }
    let w = World::new();
    w.run(&["generate", sample("group-1.json").to_str().unwrap()]).ok();
    let shm = std::path::PathBuf::from(format!("{}-shm", w.journal().display()));
    // A reader keeps the -shm there while the commands run.
    let reader = rusqlite::Connection::open(w.journal()).unwrap();
    let _: i64 = reader.query_row("SELECT COUNT(*) FROM messages", [], |r| r.get(0)).unwrap();
    assert!(shm.exists());
    let journal = w.journal();
    for args in [
        vec!["receipt", shm.to_str().unwrap()],
        vec!["receipt", journal.to_str().unwrap()],
        vec!["generate", sample("group-2a.json").to_str().unwrap(), shm.to_str().unwrap()],
    ] {
        let r = w.run(&args);
        assert_eq!(r.code, 2, "{args:?}: {}\n{}", r.stdout, r.stderr);
        assert!(r.stderr.contains("is this command's journal"), "{args:?}: {}", r.stderr);
    }
    w.run(&["journal", "verify"]).ok();
}
