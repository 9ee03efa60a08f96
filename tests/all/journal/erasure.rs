//! `journal erase --cpr`: a patient removed from every table and from the file itself (and its
//! write-ahead log), refused while one of their letters is open unless forced, confirmed by a
//! person, audited without the CPR number; `journal verify` stays clean.

use crate::common::*;

/// The group 2a patient (message 3, rejected: an open problem) and what names them.
const CPR: &str = "0211223989";
/// The samples' patients share a name: this one is given one of their own.
const TRACES: [&str; 4] = ["0211223989", "021122-3989", "Sletbæk", "Glemmevej"];

/// The four samples generated and sent to outboxes, the two sample receipts read (group 1
/// acknowledged, group 2a rejected), and one refused input of the group 2a patient.
fn morning(w: &World) -> std::path::PathBuf {
    let cfg = w.outbox_config();
    let mut own = sample_json("group-2a.json");
    own["patient"]["surname"] = "Test Sletbæk".into();
    own["patient"]["address"]["street"] = "Glemmevej 7".into();
    let own = w.write("own-2a.json", &own.to_string());
    w.morning_of(&cfg, &SAMPLES.map(|s| if s == "group-2a.json" { own.clone() } else { sample(s) }));
    let mut bad: serde_json::Value = serde_json::from_str(&std::fs::read_to_string(&own).unwrap()).unwrap();
    bad["result_id"] = "FLS-AUH-2025-0099".into();
    bad["group"] = "9z".into();
    let bad = w.write("bad-2a.json", &bad.to_string());
    assert_ne!(w.generate_with(&cfg, &bad).code, 0, "the bad input is refused");
    cfg
}

/// Whether the journal file or its write-ahead log holds `needle`, after a checkpoint. Only an
/// SQLite journal has a file to look into (PostgreSQL's files are its server's): nothing on
/// PostgreSQL.
fn in_file(w: &World, needle: &str) -> Vec<String> {
    if on_postgres() {
        return vec![];
    }
    let db = w.db();
    let _: (i64, i64, i64) =
        db.query_row("PRAGMA wal_checkpoint(TRUNCATE)", [], |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?))).unwrap();
    drop(db);
    let mut found = vec![];
    for suffix in ["", "-wal"] {
        let path = format!("{}{suffix}", w.journal().display());
        let Ok(bytes) = std::fs::read(&path) else { continue };
        if bytes.windows(needle.len()).any(|win| win == needle.as_bytes()) {
            found.push(path);
        }
    }
    found
}

/// Every text and blob in every table that holds `needle`: `table.column` of each.
fn in_tables(w: &World, needle: &str) -> Vec<String> {
    use flspost::journal::db::Dialect;
    let db = w.db();
    // Every column of every table, and how to look for the needle in it.
    let columns = match db.dialect() {
        Dialect::Sqlite => {
            "SELECT t.name, c.name, 'any' FROM sqlite_schema t, pragma_table_info(t.name) c \
             WHERE t.type = 'table' AND t.name NOT LIKE 'sqlite_%' ORDER BY t.name, c.cid"
        }
        Dialect::Postgres => {
            "SELECT CAST(c.table_name AS TEXT), CAST(c.column_name AS TEXT), CAST(c.data_type AS TEXT) \
             FROM information_schema.columns c JOIN information_schema.tables t USING (table_schema, table_name) \
             WHERE c.table_schema = current_schema() AND t.table_type = 'BASE TABLE' \
             ORDER BY c.table_name, c.ordinal_position"
        }
    };
    let cols: Vec<(String, String, String)> = db
        .prepare(columns)
        .unwrap()
        .query_map([], |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)))
        .unwrap()
        .collect::<Result<_, _>>()
        .unwrap();
    let mut found = vec![];
    for (t, c, data_type) in cols {
        let holds = match data_type.as_str() {
            "any" => format!("instr(CAST({c} AS BLOB), CAST(?1 AS BLOB)) > 0"),
            "bytea" => format!("position(convert_to(?1, 'UTF8') IN {c}) > 0"),
            _ => format!("strpos(CAST({c} AS TEXT), ?1) > 0"),
        };
        let n: i64 = db.query_row(&format!("SELECT count(*) FROM {t} WHERE {holds}"), [needle], |r| r.get(0)).unwrap();
        if n > 0 {
            found.push(format!("{t}.{c}"));
        }
    }
    found
}

fn erase(w: &World, args: &[&str]) -> Run {
    let mut all = vec!["journal", "erase", "--cpr", CPR];
    all.extend(args);
    w.run(&all)
}

#[test]
fn erase_removes_a_patient_from_every_table_and_the_file() {
    let w = World::new();
    morning(&w);
    // (The written form DDMMYY-XXXX is in no stored row today; it is searched for after.)
    for t in TRACES.iter().filter(|t| !t.contains('-')) {
        assert!(!in_tables(&w, t).is_empty(), "{t} is in the journal before");
        assert!(on_postgres() || !in_file(&w, t).is_empty(), "{t} is in the journal's file before");
    }
    let before: i64 = w.db().query_row("SELECT count(*) FROM messages", [], |r| r.get(0)).unwrap();

    // Message 3 is rejected and open: refused, nothing changed.
    let r = erase(&w, &["--yes"]);
    assert_eq!(r.code, 2, "{}", r.stderr);
    assert!(r.stderr.contains("open letter") && r.stderr.contains("message 3"), "{}", r.stderr);
    assert!(!in_tables(&w, CPR).is_empty());
    // Forced, but no terminal and no --yes: refused too.
    let r = erase(&w, &["--force"]);
    assert_eq!(r.code, 2, "{}", r.stderr);
    assert!(r.stderr.contains("confirmation"), "{}", r.stderr);
    assert!(!in_tables(&w, CPR).is_empty());

    let r = erase(&w, &["--force", "--yes", "--json"]).ok();
    let e = r.one();
    assert!(e["inputs"].as_u64().unwrap() >= 1, "{e}");
    assert!(e["messages"].as_u64().unwrap() >= 1, "{e}");
    assert!(e["receipts"].as_u64().unwrap() >= 1, "{e}");
    assert_eq!(e["refused"], 1, "{e}");
    assert!(!r.stderr.contains(CPR) && !r.stdout.contains(CPR));

    for t in TRACES {
        assert_eq!(in_tables(&w, t), Vec::<String>::new(), "{t} left in the journal's tables");
        assert_eq!(in_file(&w, t), Vec::<String>::new(), "{t} left in the journal's file");
    }
    // The rows stay (the history), marked; nothing of theirs is in the queue any more.
    let db = w.db();
    let after: i64 = db.query_row("SELECT count(*) FROM messages", [], |r| r.get(0)).unwrap();
    assert_eq!(after, before);
    let masked: String =
        db.query_row("SELECT cpr_masked FROM inputs WHERE result_id = 'FLS-AUH-2025-0002'", [], |r| r.get(0)).unwrap();
    assert_eq!(masked, "erased");
    drop(db);
    assert_eq!(w.run(&["journal", "queue", "--json"]).ok().json().len(), 0);
    // The other patients are as they were, and verify is clean.
    assert!(!in_tables(&w, "2512489996").is_empty(), "group 1's patient is kept");
    let v = w.run(&["journal", "verify"]);
    assert_eq!(v.code, 0, "{}{}", v.stdout, v.stderr);
    // The audit log says an erasure happened, not whose.
    let a = w.run(&["journal", "audit", "--json"]).ok().json();
    let row = a.iter().find(|r| r["action"] == "erase").expect("an audit row");
    assert_eq!(row["target"], "patient");
    assert!(row["detail"].as_str().unwrap().contains("forced"), "{row}");
    for t in TRACES {
        assert!(!row.to_string().contains(t), "{row}");
    }
    // Showing an erased message says so, without its bytes.
    let s = w.run(&["journal", "show", "3", "--bytes"]);
    assert_ne!(s.code, 0);
    assert!(s.stderr.contains("erased"), "{}", s.stderr);
}

#[test]
fn a_patient_with_nothing_open_is_erased_without_force_and_again_is_nothing() {
    let w = World::new();
    morning(&w);
    // Group 1: its GP letter acknowledged, its MeMo handed over (no answer awaited).
    let r = w.run(&["journal", "erase", "--cpr", "251248-9996", "--yes"]).ok();
    assert!(r.stdout.starts_with("erased: "), "{}", r.stdout);
    assert_eq!(in_tables(&w, "2512489996"), Vec::<String>::new());
    assert!(!in_tables(&w, CPR).is_empty(), "the other patient is kept");
    let again = w.run(&["journal", "erase", "--cpr", "2512489996", "--yes"]).ok();
    assert!(again.stderr.contains("nothing of that patient"), "{}", again.stderr);
    assert_eq!(w.run(&["journal", "verify"]).code, 0);
}

/// A journal grown past a few pages: SQLite moved rows between pages as it grew (a split copies
/// a page's rows), and those copies are zeroed as they are left, so an erasure leaves no trace
/// of the patient anywhere in the file.
#[test]
fn erase_leaves_no_copy_in_pages_sqlite_moved_while_the_journal_grew() {
    // SQLite's pages, looked at in the file.
    if sqlite_only() {
        return;
    }
    let _one = exclusive();
    let w = World::new();
    let lines = sample_lines("FLS-AUH-2026", 160).join("\n");
    let batch = w.write("batch.jsonl", &lines);
    w.run(&["generate", batch.to_str().unwrap()]).ok();
    assert!(!in_file(&w, "0211223989").is_empty());
    w.run(&["journal", "erase", "--cpr", "0211223989", "--force", "--yes"]).ok();
    for t in ["0211223989", "021122-3989"] {
        assert_eq!(in_file(&w, t), Vec::<String>::new(), "{t} left in the journal's file");
    }
    assert!(!in_file(&w, "2911829996").is_empty(), "the other patients are still there");
}

/// A receipt that matched none of flspost's letters but quotes the patient's number in its
/// refuse text is emptied too, and the erasure names the results whose copies outside the
/// journal (output folders, handed-on files) the gateway removes itself.
#[test]
fn erase_empties_an_unmatched_receipt_quoting_the_patient_and_names_the_results() {
    let w = World::new();
    w.generate(&sample("group-2a.json")).ok();
    let stray = receipt(
        "XCTL01",
        "STRAY01",
        "NOSUCHENVELOPE",
        "NOSUCHLETTER",
        Some(("problem_med_modtagerID", "CPR 021122-3989 ukendt")),
    );
    std::fs::write(w.path("stray.xml"), stray).unwrap();
    let _ = w.run(&["receipt", w.path("stray.xml").to_str().unwrap()]);
    let stored: i64 =
        w.db().query_row("SELECT count(*) FROM receipts WHERE message_id IS NULL", [], |r| r.get(0)).unwrap();
    assert_eq!(stored, 1, "the unmatched receipt is kept");
    let e = w.run(&["journal", "erase", "--cpr", CPR, "--force", "--yes", "--json"]).ok().one();
    assert_eq!(e["results"], serde_json::json!(["FLS-AUH-2025-0002"]), "{e}");
    assert_eq!(in_tables(&w, "021122-3989"), Vec::<String>::new());
    assert_eq!(in_file(&w, "021122-3989"), Vec::<String>::new());
}

/// The backup a migration left beside the journal holds the patient as they were: the erasure
/// says so, by name.
#[test]
fn erase_names_the_migration_backups_beside_the_journal() {
    // A schema-5 SQLite fixture and the `.v5.bak` its migration leaves beside it.
    if sqlite_only() {
        return;
    }
    let w = World::new();
    std::fs::create_dir_all(w.journal().parent().unwrap()).unwrap();
    std::fs::copy(root().join("tests/fixtures/journal-v5.sqlite"), w.journal()).unwrap();
    w.generate(&sample("group-2a.json")).ok();
    let r = w.run(&["journal", "erase", "--cpr", "2911829996", "--force", "--yes"]).ok();
    assert!(r.stderr.contains("journal.sqlite.v5.bak"), "{}", r.stderr);
}
