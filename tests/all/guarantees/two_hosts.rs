//! Two gateway hosts on one PostgreSQL journal: each with its own working folder, outbox and
//! processes, both running `generate`, `send` and `receipt` at once on the same results and
//! the same receipts, one of them SIGKILLed at a random point of each round. Afterwards every
//! result is recorded once, every transmission handed over once (in the journal, in the
//! outboxes and at a real SMTP server; a second copy only where a killed `send` left its
//! outcome unknown, retried with the same bytes and envelope), no claim is left open once its
//! lease has run out, and `journal verify` is clean.
//!
//! It runs on PostgreSQL whichever store the rest of the suite uses: it is what PostgreSQL
//! is for.

use crate::common::*;
use std::collections::{BTreeMap, BTreeSet};
use std::path::PathBuf;
use std::process::{Child, Stdio};
use std::time::{Duration, Instant};

const ROUNDS: usize = 6;
const PER_ROUND: usize = 12;

/// One host: its folder (config, patient outbox `dp/`), and the process it runs now.
struct Host {
    name: &'static str,
    dir: tempfile::TempDir,
    config: PathBuf,
}

impl Host {
    fn new(name: &'static str, journal: &str, smtp_port: u16) -> Host {
        let dir = tempfile::tempdir().unwrap();
        let config = dir.path().join("flspost.toml");
        // A claim holds 10 s of the database's clock (the least the config allows; the SMTP
        // deadline is under half of it): a killed send's claims hold until the final pass,
        // which waits them out.
        std::fs::write(
            &config,
            format!(
                "[journal]\nurl = \"{journal}\"\nlease_seconds = 10\n\n\
                 [transport.gp]\ntype = \"smtp\"\nurl = \"smtp://127.0.0.1:{smtp_port}\"\n\
                 from = \"fls@auh.example.dk\"\nto = \"vans@vans.example.dk\"\ntimeout_seconds = 2\n\n\
                 [transport.patient]\ntype = \"outbox\"\ndir = \"dp\"\n"
            ),
        )
        .unwrap();
        Host { name, dir, config }
    }

    fn spawn(&self, args: &[&str], now: &str) -> Child {
        std::process::Command::new(env!("CARGO_BIN_EXE_flspost"))
            .args(args)
            .args(["--config", self.config.to_str().unwrap()])
            .current_dir(self.dir.path())
            .env_remove("FLSPOST_JOURNAL")
            .env_remove("FLSPOST_CONFIG")
            .env("FLSPOST_FAKE_NOW", now)
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::piped())
            .spawn()
            .unwrap()
    }

    /// Runs the steps one after another; with `kill_after`, SIGKILLs the step under way then.
    /// Returns the problems seen, and the command killed.
    fn run_steps(
        &self,
        steps: &[Vec<String>],
        now: &str,
        kill_after: Option<Duration>,
    ) -> (Vec<String>, Option<String>) {
        let start = Instant::now();
        let mut problems = vec![];
        for step in steps {
            let args: Vec<&str> = step.iter().map(String::as_str).collect();
            let mut child = self.spawn(&args, now);
            loop {
                if let Some(status) = child.try_wait().unwrap() {
                    let mut err = String::new();
                    std::io::Read::read_to_string(&mut child.stderr.take().unwrap(), &mut err).unwrap();
                    if std::env::var_os("FLSPOST_TEST_VERBOSE").is_some() {
                        eprintln!("{} {} -> {status:?}: {}", self.name, step[0], err.lines().last().unwrap_or(""));
                    }
                    // A crash or a failure is a problem; `generate` refusing to record what the
                    // other host is recording at the same moment ("run again") is not.
                    let raced = step[0] == "generate" && err.contains("at the same time; run again");
                    if status.code().is_none() || err.contains("panicked") || (!status.success() && !raced) {
                        problems.push(format!("{} {}: {status:?}\n{err}", self.name, step[0]));
                    }
                    break;
                }
                if kill_after.is_some_and(|d| start.elapsed() >= d) {
                    let _ = child.kill();
                    let _ = child.wait();
                    return (problems, Some(step[0].clone()));
                }
                std::thread::sleep(Duration::from_millis(2));
            }
        }
        (problems, None)
    }

    fn outbox(&self) -> BTreeSet<String> {
        match std::fs::read_dir(self.dir.path().join("dp")) {
            Ok(d) => d.flatten().map(|e| e.file_name().to_string_lossy().into_owned()).collect(),
            Err(_) => BTreeSet::new(),
        }
    }
}

/// A small deterministic generator, seeded per run (the seed is printed for a rerun).
struct Rng(u64);

impl Rng {
    fn below(&mut self, n: u64) -> u64 {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        self.0 % n
    }
}

fn count(db: &mut postgres::Client, sql: &str) -> i64 {
    db.query_one(sql, &[]).unwrap().get(0)
}

#[test]
fn two_hosts_on_one_postgresql_journal_lose_nothing_and_hand_over_each_transmission_once() {
    let _exclusive = exclusive();
    let db = PgDatabase::new();
    let scratch = tempfile::tempdir().unwrap();
    let smtp = SmtpServer::start(&scratch.path().join("smtp").tap_mkdir());
    let hosts = [Host::new("A", &db.url, smtp.port), Host::new("B", &db.url, smtp.port)];
    let seed = std::env::var("FLSPOST_TEST_SEED").ok().and_then(|s| s.parse().ok()).unwrap_or_else(|| {
        std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).unwrap().as_nanos() as u64 | 1
    });
    eprintln!("two hosts: seed {seed} (FLSPOST_TEST_SEED={seed} repeats this run)");
    let mut rng = Rng(seed);
    let lines = sample_lines("HOST", ROUNDS * PER_ROUND);
    let receipts = scratch.path().join("receipts").tap_mkdir();
    let mut batches = vec![];
    let mut problems = vec![];
    let mut killed_sends = 0;
    // Operations set the database up before the gateway starts (any first write would).
    assert!(hosts[0].run_steps(&[vec!["journal".into(), "migrate".into()]], FAKE_NOW, None).0.is_empty());
    let mut reader = db.client();
    for round in 0..ROUNDS {
        // This round's results and the last round's again: both hosts get the same batch.
        let from = round.saturating_sub(1) * PER_ROUND;
        let batch = scratch.path().join(format!("batch-{round}.jsonl"));
        std::fs::write(&batch, lines[from..(round + 1) * PER_ROUND].join("\n") + "\n").unwrap();
        batches.push(batch.clone());
        // Receipts for the GP letters handed over so far, read by both hosts.
        let sent = "SELECT envelope_id, letter_id FROM messages WHERE kind = 'gp-xdis91' AND status = 'sent'";
        for row in reader.query(sent, &[]).unwrap() {
            let (env, letter): (String, String) = (row.get(0), row.get(1));
            let file = receipts.join(format!("{env}.xml"));
            if !file.exists() {
                // The receipt's own envelope identifier: at most 14 characters, K and 13.
                let own = format!("H{:05}", std::fs::read_dir(&receipts).unwrap().count());
                std::fs::write(&file, receipt("XCTL03", &own, &env, &letter, None)).unwrap();
            }
        }
        let mut steps = vec![vec!["generate".to_string(), batch.display().to_string()], vec!["send".to_string()]];
        let mut answers = vec!["receipt".to_string()];
        answers.extend(std::fs::read_dir(&receipts).unwrap().flatten().map(|e| e.path().display().to_string()));
        if answers.len() > 1 {
            steps.push(answers);
        }
        let victim = rng.below(2) as usize;
        let delay = Duration::from_millis(20 + rng.below(1500));
        std::thread::scope(|s| {
            let runs: Vec<_> = hosts
                .iter()
                .enumerate()
                .map(|(i, h)| {
                    let steps = &steps;
                    s.spawn(move || h.run_steps(steps, FAKE_NOW, (i == victim).then_some(delay)))
                })
                .collect();
            for r in runs {
                let (seen, killed) = r.join().unwrap();
                problems.extend(seen);
                killed_sends += usize::from(killed.as_deref() == Some("send"));
            }
        });
        // Whatever was killed, no two hand-overs of one message ever both succeeded.
        let twice = count(
            &mut reader,
            "SELECT COUNT(*) FROM (SELECT message_id FROM attempts WHERE outcome = 'sent' \
             GROUP BY message_id HAVING COUNT(*) > 1) t",
        );
        assert_eq!(twice, 0, "round {round}: a transmission was handed over twice (seed {seed})");
    }
    assert!(problems.is_empty(), "seed {seed}:\n{}", problems.join("\n"));

    // The final pass, once every lease has run out (leases are in the database's clock, which
    // the pinned clock of the commands does not move): host A records what the killed runs
    // left and hands over what they had claimed.
    std::thread::sleep(Duration::from_secs(11));
    let later = (chrono::DateTime::parse_from_rfc3339(FAKE_NOW).unwrap() + chrono::Duration::minutes(1)).to_rfc3339();
    let mut finish: Vec<Vec<String>> =
        batches.iter().map(|b| vec!["generate".to_string(), b.display().to_string()]).collect();
    finish.push(vec!["send".into()]);
    assert!(hosts[0].run_steps(&finish, &later, None).0.is_empty());

    // Every result recorded once, with its two letters, none waiting, none claimed.
    assert_eq!(count(&mut reader, "SELECT COUNT(DISTINCT result_id) FROM inputs"), (ROUNDS * PER_ROUND) as i64);
    assert_eq!(count(&mut reader, "SELECT COUNT(*) FROM inputs"), (ROUNDS * PER_ROUND) as i64, "a result twice");
    assert_eq!(count(&mut reader, "SELECT COUNT(*) FROM messages"), (2 * ROUNDS * PER_ROUND) as i64);
    assert_eq!(count(&mut reader, "SELECT COUNT(*) FROM messages WHERE status IN ('generated', 'retry')"), 0);
    assert_eq!(count(&mut reader, "SELECT COUNT(*) FROM attempts WHERE outcome IS NULL"), 0, "a claim left open");
    // Each receipt applied once, whichever host read it first.
    let files = std::fs::read_dir(&receipts).unwrap().count() as i64;
    assert_eq!(count(&mut reader, "SELECT COUNT(*) FROM receipts"), files);
    assert_eq!(count(&mut reader, "SELECT COUNT(*) FROM messages WHERE status = 'acknowledged'"), files);

    // Handed over once: at the SMTP server, one mail per GP letter; in the two outboxes one
    // file per patient letter. A second copy only of a message whose first hand-over a kill
    // left unknown (an `interrupted` attempt, retried with the same bytes and envelope).
    let interrupted: BTreeMap<String, i64> = reader
        .query(
            "SELECT m.kind, COUNT(DISTINCT m.id) FROM attempts a JOIN messages m ON m.id = a.message_id \
             WHERE a.outcome = 'interrupted' GROUP BY m.kind",
            &[],
        )
        .unwrap()
        .iter()
        .map(|r| (r.get(0), r.get(1)))
        .collect();
    let gp_letters = (ROUNDS * PER_ROUND) as i64;
    // A `send` hands over one message at a time: each one killed leaves at most one hand-over
    // open, which the final pass found cut short. Any other would be a claim taken from a
    // sender that was alive.
    let cut_short: i64 = interrupted.values().sum();
    assert!(
        cut_short <= killed_sends as i64,
        "{cut_short} hand-overs cut short, {killed_sends} sends killed (seed {seed})"
    );
    let attempts = count(&mut reader, "SELECT COUNT(*) FROM attempts");
    eprintln!(
        "two hosts: {attempts} attempts for {} messages, interrupted by kills: {interrupted:?} ({killed_sends} sends \
         killed), {} mails, receipts {files}",
        2 * gp_letters,
        smtp.mails()
    );
    let mails = smtp.mails() as i64;
    let gp_retried = interrupted.get("gp-xdis91").copied().unwrap_or(0);
    assert!(
        mails >= gp_letters && mails <= gp_letters + gp_retried,
        "{mails} mails for {gp_letters} GP letters, {gp_retried} retried after a kill (seed {seed})"
    );
    let (a, b) = (hosts[0].outbox(), hosts[1].outbox());
    let both: BTreeSet<_> = a.union(&b).collect();
    assert_eq!(both.len() as i64, gp_letters, "one outbox file per patient letter (seed {seed})");
    let in_both = a.intersection(&b).count() as i64;
    assert!(in_both <= interrupted.get("patient-memo").copied().unwrap_or(0), "seed {seed}");
    assert!(both.iter().all(|n| !n.starts_with('.')), "a temporary file left in an outbox");

    let mut check = hosts[1].spawn(&["journal", "verify"], &later);
    assert!(check.wait().unwrap().success(), "journal verify found damage (seed {seed})");
}

trait TapMkdir {
    fn tap_mkdir(self) -> Self;
}

impl TapMkdir for PathBuf {
    fn tap_mkdir(self) -> PathBuf {
        std::fs::create_dir_all(&self).unwrap();
        self
    }
}
