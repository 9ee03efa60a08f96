//! The PostgreSQL store's own rules under the journal's one interface: a write lock not had
//! in time leaves the connection ready for the next try, a transaction that failed never
//! commits, and a command other than `generate` or `journal migrate` never starts a journal
//! in an empty database. Against the private test server, whichever store the rest of the
//! suite uses.

use crate::common::*;
use flspost::journal::db::{Connection, DbError, PgConnection, PgTarget, Transaction, TransactionBehavior};
use std::time::Duration;

fn connect(db: &PgDatabase, busy: Duration) -> Connection {
    let target = PgTarget { url: db.url.clone(), password: None, ca_file: None };
    Connection::Postgres(PgConnection::connect(&target, busy).unwrap())
}

#[test]
fn a_write_lock_not_had_in_time_is_busy_and_the_connection_takes_the_next_write() {
    let db = PgDatabase::new();
    let holder = connect(&db, Duration::from_secs(30));
    let waiter = connect(&db, Duration::from_millis(200));
    let held = Transaction::new_unchecked(&holder, TransactionBehavior::Immediate).unwrap();
    match Transaction::new_unchecked(&waiter, TransactionBehavior::Immediate) {
        Err(e) => assert!(e.is_busy(), "{e}"),
        Ok(_) => panic!("the write lock was had twice"),
    }
    held.commit().unwrap();
    // The same connection, as the intake's writer and `send`'s retry use it.
    let tx = Transaction::new_unchecked(&waiter, TransactionBehavior::Immediate).unwrap();
    tx.execute_batch("SELECT 1").unwrap();
    tx.commit().unwrap();
}

#[test]
fn a_transaction_in_which_a_statement_failed_does_not_commit() {
    let db = PgDatabase::new();
    let c = connect(&db, Duration::from_secs(30));
    c.execute_batch("CREATE TABLE t (x BIGINT)").unwrap();
    let tx = Transaction::new_unchecked(&c, TransactionBehavior::Immediate).unwrap();
    tx.execute("INSERT INTO t (x) VALUES (?1)", [1]).unwrap();
    // A failure the caller looked past (as a report of one result may): PostgreSQL has
    // aborted the transaction, and its COMMIT would quietly roll back.
    assert!(tx.execute("INSERT INTO t (x) VALUES (CAST('one' AS BIGINT))", []).is_err());
    let committed: Result<(), DbError> = tx.commit();
    assert!(committed.is_err(), "a failed transaction reported as committed");
    let n: i64 = c.query_row("SELECT COUNT(*) FROM t", [], |r| r.get(0)).unwrap();
    assert_eq!(n, 0);
    // And the connection goes on.
    let tx = Transaction::new_unchecked(&c, TransactionBehavior::Immediate).unwrap();
    tx.execute("INSERT INTO t (x) VALUES (?1)", [2]).unwrap();
    tx.commit().unwrap();
}

#[test]
fn only_generate_and_migrate_start_a_journal_in_an_empty_database() {
    let w = World::new();
    let db = PgDatabase::new();
    let run = |args: &[&str]| {
        let mut c = w.cmd();
        c.env("FLSPOST_JOURNAL", &db.url).args(args);
        Run::from(c.output().unwrap())
    };
    let cfg = w.outbox_config();
    for args in [
        vec!["send", "--config", cfg.to_str().unwrap()],
        vec!["receipt", root().join("samples/receipts/positive-group-1.xml").to_str().unwrap()],
        vec!["journal", "list"],
    ] {
        let r = run(&args);
        assert_ne!(r.code, 0, "{args:?}: {}", r.stdout);
        assert!(r.stderr.contains("no flspost journal in this database yet"), "{args:?}: {}", r.stderr);
    }
    let mut admin = db.client();
    let tables: i64 =
        admin.query_one("SELECT COUNT(*) FROM pg_tables WHERE schemaname = 'public'", &[]).unwrap().get(0);
    assert_eq!(tables, 0, "a command that may not start the journal created tables");
    let r = run(&["journal", "migrate"]);
    assert_eq!(r.code, 0, "{}", r.stderr);
    assert!(r.stdout.contains("schema 0 to 6"), "{}", r.stdout);
    let again = run(&["journal", "migrate"]);
    assert!(again.stdout.contains("nothing to migrate"), "{}", again.stdout);
    assert_eq!(run(&["generate", sample("group-1.json").to_str().unwrap()]).code, 0);
    assert_eq!(run(&["send", "--config", cfg.to_str().unwrap()]).code, 0);
}

/// `journal copy`: an SQLite journal with every kind of row (messages sent and answered, a
/// refused input, a person's handling in the audit log) into PostgreSQL and back, the same
/// journal each time as the commands show it; the copy goes on with the next ids; a target
/// that is not empty is refused with nothing written.
#[test]
fn journal_copy_moves_a_journal_to_postgresql_and_back_as_it_was() {
    if on_postgres() {
        return; // the source is this world's SQLite file
    }
    let w = World::new();
    let cfg = w.outbox_config();
    w.morning_of(&cfg, &SAMPLES.iter().map(|s| sample(s)).collect::<Vec<_>>());
    let bad = w.write("in/bad.json", "{\"result_id\": \"R-BAD\"");
    w.run(&["generate", bad.to_str().unwrap()]);
    w.run(&["journal", "handle", "R1", "--note", "the gateway resends it"]).ok();
    let db = PgDatabase::new();
    let back = w.path("back.sqlite");
    let listing = |journal: &str| {
        let mut c = w.cmd();
        c.env("FLSPOST_JOURNAL", journal).args(["journal", "list", "--json"]);
        let all = Run::from(c.output().unwrap()).ok().stdout;
        let mut c = w.cmd();
        c.env("FLSPOST_JOURNAL", journal).args(["journal", "show", "--json", "3"]);
        all + &Run::from(c.output().unwrap()).ok().stdout
    };
    let before = listing(w.journal().to_str().unwrap());
    let to_pg =
        w.run(&["journal", "copy", "--from", &format!("sqlite:{}", w.journal().display()), "--to", &db.url]).ok();
    assert!(
        to_pg.stdout.contains("refused_inputs: 1 rows") && to_pg.stdout.contains("audit: 1 rows"),
        "{}",
        to_pg.stdout
    );
    assert_eq!(listing(&db.url), before);
    w.run(&["journal", "copy", "--from", &db.url, "--to", back.to_str().unwrap()]).ok();
    assert_eq!(listing(back.to_str().unwrap()), before);
    // Into a journal that holds something: refused, and it is left as it was.
    let again = w.run(&["journal", "copy", "--from", w.journal().to_str().unwrap(), "--to", &db.url]);
    assert_eq!(again.code, 2, "{}", again.stderr);
    assert!(again.stderr.contains("not empty"), "{}", again.stderr);
    assert_eq!(listing(&db.url), before);
    // The copy goes on where the journal left off.
    let mut c = w.cmd();
    c.env("FLSPOST_JOURNAL", &db.url).args(["generate", sample("group-1.json").to_str().unwrap()]);
    let line = Run::from(c.output().unwrap()).ok().stdout;
    let next: serde_json::Value = serde_json::from_str(line.lines().next().unwrap()).unwrap();
    assert_eq!(next["outcome"], "exists", "{line}");
    let mut c = w.cmd();
    let fresh = w.write("in/fresh.json", &sample_lines("COPY", 1)[0]);
    c.env("FLSPOST_JOURNAL", &db.url).args(["generate", fresh.to_str().unwrap()]);
    let line = Run::from(c.output().unwrap()).ok().stdout;
    let fresh: serde_json::Value = serde_json::from_str(line.lines().next().unwrap()).unwrap();
    assert!(fresh["messages"][0]["id"].as_i64().unwrap() > 8, "{line}");
}
