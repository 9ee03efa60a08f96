//! The server and the command line on one journal at once: a few thousand requests (reading
//! pages and metrics, and revealing CPR numbers, each an audited write) while a batch
//! `generate` records its results. No request fails, no result and no audit row is lost.

use super::{bad_morning, Client, Server, OPERATOR};
use crate::common::{exclusive, sample_lines, World};

#[test]
fn the_server_beside_a_batch_generate_loses_nothing() {
    let _exclusive = exclusive();
    let mut w = World::new();
    let cfg = bad_morning(&mut w);
    let s = Server::start(&w, &cfg);
    let batch = w.write("batch.jsonl", &(sample_lines("FLS-AUH-2025-LOAD", 200).join("\n") + "\n"));
    let reveals_before: i64 = w.db().query_row("SELECT COUNT(*) FROM audit WHERE action = 'reveal-cpr'", [], |r| r.get(0)).unwrap();

    let generate = {
        let mut c = w.cmd();
        c.args(["generate", "--config", cfg.to_str().unwrap(), batch.to_str().unwrap()]);
        c.stdout(std::process::Stdio::null()).stderr(std::process::Stdio::piped());
        c.spawn().unwrap()
    };
    const THREADS: usize = 4;
    const EACH: usize = 600;
    let reveals = std::sync::atomic::AtomicUsize::new(0);
    std::thread::scope(|scope| {
        for t in 0..THREADS {
            let (s, reveals) = (&s, &reveals);
            scope.spawn(move || {
                let mut c = Client::new(s);
                c.sign_in(OPERATOR);
                let csrf = c.csrf();
                for i in 0..EACH {
                    let a = match (i + t) % 6 {
                        0 => c.get("/"),
                        1 => c.get("/queue"),
                        2 => c.get("/metrics"),
                        3 => c.get("/messages/3"),
                        4 => c.get("/healthz"),
                        _ => {
                            reveals.fetch_add(1, std::sync::atomic::Ordering::SeqCst);
                            c.post("/messages/3/reveal", &[("csrf", &csrf)])
                        }
                    };
                    assert_eq!(a.status, 200, "request {i} of thread {t}: {}", a.text());
                }
            });
        }
    });
    let out = generate.wait_with_output().unwrap();
    assert!(out.status.success(), "generate beside the server: {}", String::from_utf8_lossy(&out.stderr));
    let db = w.db();
    let results: i64 =
        db.query_row("SELECT COUNT(DISTINCT result_id) FROM inputs WHERE result_id LIKE 'FLS-AUH-2025-LOAD-%'", [], |r| r.get(0)).unwrap();
    assert_eq!(results, 200, "every result of the batch is in the journal");
    let revealed: i64 = db.query_row("SELECT COUNT(*) FROM audit WHERE action = 'reveal-cpr'", [], |r| r.get(0)).unwrap();
    assert_eq!(revealed - reveals_before, reveals.load(std::sync::atomic::Ordering::SeqCst) as i64, "every reveal is audited");
    assert_eq!(THREADS * EACH, 2400);
    let (code, log) = s.stop();
    assert_eq!(code, 0, "{log}");
}
