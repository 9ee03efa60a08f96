//! Many clients at once: 8 threads × 50 results (two threads sending the same ones) beside a
//! `generate` batch on the same journal, each result recorded once and `journal verify`
//! clean; a SIGKILL mid-load loses no result the server answered, and the clients' retries
//! record none twice; a SIGTERM answers every request the server had taken, then exit 0.

use super::{bearer, intake_world, try_post};
use crate::common::{exclusive, sample_lines, World};
use crate::console::Server;
use std::collections::BTreeMap;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Mutex;

/// How many input versions the journal holds per result whose id starts with `prefix`.
fn versions(w: &World, prefix: &str) -> BTreeMap<String, i64> {
    let db = w.db();
    let mut st =
        db.prepare("SELECT result_id, COUNT(*) FROM inputs WHERE result_id LIKE ?1 GROUP BY result_id").unwrap();
    st.query_map([format!("{prefix}%")], |r| Ok((r.get(0)?, r.get(1)?))).unwrap().map(Result::unwrap).collect()
}

fn messages_of(w: &World, prefix: &str) -> i64 {
    w.db()
        .query_row("SELECT COUNT(*) FROM messages WHERE result_id LIKE ?1", [format!("{prefix}%")], |r| r.get(0))
        .unwrap()
}

/// POSTs `line` until it is recorded or found: a `conflict` or `journal_busy` (another
/// process had the journal) is sent again, as the gateway's contract says. The outcome.
fn send_until_done(addr: &str, line: &str) -> std::io::Result<String> {
    let (k, v) = bearer();
    loop {
        let a = try_post(addr, line.as_bytes(), &[(k, v.as_str())])?;
        // An answer cut off by the server's death is no answer.
        let l: serde_json::Value = serde_json::from_str(a.text().trim())
            .map_err(|e| std::io::Error::new(std::io::ErrorKind::UnexpectedEof, e))?;
        let code = l["error"]["code"].as_str().unwrap_or("");
        if a.status == 503 && matches!(code, "conflict" | "journal_busy" | "server_busy") {
            continue;
        }
        assert_eq!(a.status, 200, "{}", a.text());
        return Ok(l["outcome"].as_str().unwrap().to_string());
    }
}

/// Counts a thread as finished however it ends (a failed assertion too), so no one waits for it.
struct Finished<'a>(&'a AtomicUsize);

impl Drop for Finished<'_> {
    fn drop(&mut self) {
        self.0.fetch_add(1, Ordering::SeqCst);
    }
}

fn verify_clean(w: &World) {
    let v = w.run(&["journal", "verify"]);
    assert_eq!(v.code, 0, "journal verify: {}{}", v.stdout, v.stderr);
}

#[test]
fn many_clients_beside_a_generate_record_every_result_once() {
    let _exclusive = exclusive();
    let (w, cfg) = intake_world("");
    let s = Server::start(&w, &cfg);
    // The batch shares thread 0's results: the server and the batch race for them.
    let mut cli_lines = sample_lines("FLS-AUH-2025-LD0", 50);
    cli_lines.extend(sample_lines("FLS-AUH-2025-CLI", 150));
    let batch = w.write("batch.jsonl", &(cli_lines.join("\n") + "\n"));
    let generate = {
        let mut c = w.cmd();
        c.args(["generate", batch.to_str().unwrap()]);
        c.stdout(std::process::Stdio::piped()).stderr(std::process::Stdio::piped());
        c.spawn().unwrap()
    };
    const THREADS: usize = 8;
    const EACH: usize = 50;
    std::thread::scope(|scope| {
        for t in 0..THREADS {
            let s = &s;
            scope.spawn(move || {
                // Threads 0 and 1 send the same results, as a gateway retrying on two links would.
                let lines = sample_lines(&format!("FLS-AUH-2025-LD{}", if t == 1 { 0 } else { t }), EACH);
                for line in &lines {
                    let outcome = send_until_done(&s.addr, line).unwrap();
                    assert!(outcome == "generated" || outcome == "exists", "thread {t}: {outcome}");
                }
            });
        }
    });
    let out = generate.wait_with_output().unwrap();
    if out.status.code() != Some(0) {
        // A line the server recorded at the same moment is the batch's `conflict`: run it again.
        for l in String::from_utf8_lossy(&out.stdout).lines() {
            let v: serde_json::Value = serde_json::from_str(l).unwrap();
            let code = v["error"]["code"].as_str();
            assert!(code.is_none() || matches!(code, Some("conflict" | "journal_busy")), "{l}");
        }
        assert_eq!(w.run(&["generate", batch.to_str().unwrap()]).code, 0);
    }
    let recorded = versions(&w, "FLS-AUH-2025-");
    assert_eq!(recorded.len(), 7 * EACH + 150, "every result is in the journal");
    assert!(recorded.values().all(|n| *n == 1), "none twice: {:?}", recorded.iter().find(|(_, n)| **n != 1));
    assert_eq!(messages_of(&w, "FLS-AUH-2025-"), 2 * (7 * EACH as i64 + 150));
    verify_clean(&w);
    let (code, log) = s.stop();
    assert_eq!(code, 0, "{log}");
}

#[test]
fn a_sigkill_loses_no_answered_result_and_retries_record_none_twice() {
    let _exclusive = exclusive();
    let (w, cfg) = intake_world("");
    let s = Server::start(&w, &cfg);
    const THREADS: usize = 8;
    const EACH: usize = 40;
    let answered: Mutex<Vec<String>> = Mutex::default();
    let (count, finished) = (AtomicUsize::new(0), AtomicUsize::new(0));
    let lines_of = |t: usize| sample_lines(&format!("FLS-AUH-2025-K{t}"), EACH);
    std::thread::scope(|scope| {
        for t in 0..THREADS {
            let (addr, answered, count, lines) = (s.addr.clone(), &answered, &count, lines_of(t));
            let finished = &finished;
            scope.spawn(move || {
                let _done = Finished(finished);
                for line in &lines {
                    match send_until_done(&addr, line) {
                        Ok(_) => {
                            let v: serde_json::Value = serde_json::from_str(line).unwrap();
                            answered.lock().unwrap().push(v["result_id"].as_str().unwrap().to_string());
                            count.fetch_add(1, Ordering::SeqCst);
                        }
                        Err(_) => return, // the server is gone
                    }
                }
            });
        }
        // Killed mid-load, once some results were answered.
        while count.load(Ordering::SeqCst) < 40 && finished.load(Ordering::SeqCst) < THREADS {
            std::thread::yield_now();
        }
        unsafe { libc::kill(s.pid(), libc::SIGKILL) };
    });
    drop(s);
    let answered = answered.into_inner().unwrap();
    assert!(answered.len() >= 40 && answered.len() < THREADS * EACH, "killed mid-load: {}", answered.len());
    let recorded = versions(&w, "FLS-AUH-2025-K");
    for id in &answered {
        assert_eq!(recorded.get(id), Some(&1), "{id} was answered, so it is in the journal");
    }
    verify_clean(&w);

    // Started again (the dead server's socket is replaced), every client sends all again.
    let s = Server::start(&w, &cfg);
    std::thread::scope(|scope| {
        for t in 0..THREADS {
            let (addr, lines, answered) = (s.addr.clone(), lines_of(t), &answered);
            scope.spawn(move || {
                for line in &lines {
                    let outcome = send_until_done(&addr, line).unwrap();
                    let v: serde_json::Value = serde_json::from_str(line).unwrap();
                    if answered.contains(&v["result_id"].as_str().unwrap().to_string()) {
                        assert_eq!(outcome, "exists", "answered before the kill");
                    }
                }
            });
        }
    });
    let recorded = versions(&w, "FLS-AUH-2025-K");
    assert_eq!(recorded.len(), THREADS * EACH);
    assert!(recorded.values().all(|n| *n == 1), "none twice");
    assert_eq!(messages_of(&w, "FLS-AUH-2025-K"), 2 * (THREADS * EACH) as i64);
    verify_clean(&w);
    let (code, log) = s.stop();
    assert_eq!(code, 0, "{log}");
}

#[test]
fn a_sigterm_answers_every_request_taken_then_exits_0() {
    let _exclusive = exclusive();
    let (w, cfg) = intake_world("");
    let s = Server::start(&w, &cfg);
    const CLIENTS: usize = 4;
    const LINES: usize = 30;
    let answers: Mutex<Vec<(usize, Option<crate::console::Answer>)>> = Mutex::default();
    let (code, log) = std::thread::scope(|scope| {
        for c in 0..CLIENTS {
            let (addr, answers) = (s.addr.clone(), &answers);
            scope.spawn(move || {
                let body = sample_lines(&format!("FLS-AUH-2025-T{c}"), LINES).join("\n") + "\n";
                let (k, v) = bearer();
                let a = try_post(&addr, body.as_bytes(), &[(k, v.as_str()), ("Content-Type", "application/x-ndjson")]);
                answers.lock().unwrap().push((c, a.ok()));
            });
        }
        // Stopped while it works: once the first results are in the journal.
        while versions(&w, "FLS-AUH-2025-T").is_empty() && answers.lock().unwrap().len() < CLIENTS {
            std::thread::yield_now();
        }
        s.stop()
    });
    assert_eq!(code, 0, "{log}");
    let answers = answers.into_inner().unwrap();
    let mut answered = 0;
    for (c, a) in answers {
        let recorded = versions(&w, &format!("FLS-AUH-2025-T{c}"));
        match a {
            Some(a) => {
                assert_eq!(a.status, 200, "client {c}: {}", a.text());
                let lines = super::lines(&a);
                assert_eq!(lines.len(), LINES, "client {c} got every line");
                assert!(lines.iter().all(|l| l["outcome"] == "generated"));
                assert_eq!(recorded.len(), LINES, "client {c}'s answer is in the journal");
                answered += 1;
            }
            // Not taken before the signal: then nothing of it is recorded.
            None => assert!(recorded.is_empty(), "client {c} got no answer, yet {} were recorded", recorded.len()),
        }
    }
    assert!(answered >= 1, "the request under way when the signal came was answered");
    verify_clean(&w);
}
