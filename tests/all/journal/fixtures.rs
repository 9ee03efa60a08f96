//! Journals written by released schemas, kept in tests/fixtures: each must keep opening
//! with all its data. journal-v2.sqlite (schema 2): the walk-through's four results, sent,
//! both sample receipts, a regeneration, and a correction that went out as a kombi request.
//! journal-v3.sqlite (schema 3): XDIS91 and CareCommunication letters, an XCTL03 and two FHIR
//! Acknowledgements, a queued resend. journal-v5.sqlite (schema 5): the same, a refused input
//! and a problem closed by a person. Both made by `make_journal_fixture` below as it was then.
//! When the schema changes, these tests are what show the migration keeps every row.

use crate::common::*;

fn with_fixture(name: &str) -> World {
    let w = World::new();
    std::fs::create_dir_all(w.journal().parent().unwrap()).unwrap();
    std::fs::copy(root().join("tests/fixtures").join(name), w.journal()).unwrap();
    w
}

#[test]
fn a_journal_of_the_previous_release_opens_with_every_message_attempt_and_receipt() {
    // A released SQLite journal file (tests/fixtures), opened and migrated.
    if sqlite_only() {
        return;
    }
    let w = with_fixture("journal-v2.sqlite");
    w.run(&["journal", "verify"]).ok();
    let messages = w.run(&["journal", "list", "--json"]).ok().json();
    assert_eq!(messages.len(), 11, "every message is there");
    let count = |key: &str, value: &str| messages.iter().filter(|m| m[key] == value).count();
    assert_eq!((count("kind", "gp-xdis91"), count("kind", "patient-memo"), count("kind", "patient-kombi")), (6, 4, 1));
    assert_eq!((count("status", "acknowledged"), count("status", "rejected")), (1, 1));
    let rejected = w.show("3");
    assert_eq!(rejected["regenerated_as"], 9, "{rejected}");
    assert_eq!(rejected["attempts"].as_array().unwrap().len(), 1, "{rejected}");
    assert_eq!(rejected["receipts"].as_array().unwrap().len(), 1, "{rejected}");

    // A command that writes keeps all of it and adds its own. (The sample as it was then,
    // before it showed the optional FHIR fields.)
    let mut v2_sample = sample_json("group-2b.json");
    v2_sample["gp"].as_object_mut().unwrap().remove("sor_id");
    v2_sample["author"].as_object_mut().unwrap().retain(|k, _| k == "name" || k == "title");
    w.generate(&w.write("group-2b.json", &v2_sample.to_string())).ok();
    let after = w.run(&["journal", "list", "--json"]).ok().json();
    assert_eq!(after.len(), 11, "the same content exists already: nothing new");
    w.run(&["journal", "verify"]).ok();
}

/// Two outbox transports and the GP's format by `table` (a receiver table's text).
fn routed_config(w: &World, table: &str) -> std::path::PathBuf {
    w.write("receivers.csv", table);
    let c = ConfigOf { receivers: Some("receivers.csv"), attach_pdf: Some(true), ..ConfigOf::outboxes() };
    w.config("config.toml", &c)
}

const XDIS91_ONLY: &str = "ean;formats\n5790000128686;XDIS91\n";
const FHIR: &str = "ean;sor;formats\n5790000128686;1017421000016003;XDIS91 CareCommunication\n";

#[test]
fn a_journal_of_the_previous_release_takes_carecommunications_after_migrating() {
    // A released SQLite journal file (tests/fixtures), migrated.
    if sqlite_only() {
        return;
    }
    let w = with_fixture("journal-v2.sqlite");
    let cfg = routed_config(&w, FHIR);
    let mut v = sample_json("group-1.json");
    v["result_id"] = serde_json::json!("FLS-AUH-2025-0099");
    let s = w.generate_with(&cfg, &w.write("new.json", &v.to_string())).ok().one();
    assert_eq!(s["messages"][0]["kind"], "gp-carecommunication", "{s}");
    let messages = w.run(&["journal", "list", "--json"]).ok().json();
    assert_eq!(messages.len(), 13, "the 11 old messages and the 2 new");
    w.run(&["journal", "verify"]).ok();
}

#[test]
fn a_journal_of_this_release_opens_with_its_carecommunications_and_acknowledgements() {
    // A released SQLite journal file (tests/fixtures).
    if sqlite_only() {
        return;
    }
    let w = with_fixture("journal-v3.sqlite");
    w.run(&["journal", "verify"]).ok();
    let messages = w.run(&["journal", "list", "--json"]).ok().json();
    let count = |key: &str, value: &str| messages.iter().filter(|m| m[key] == value).count();
    assert_eq!(
        (count("kind", "gp-xdis91"), count("kind", "gp-carecommunication"), count("kind", "patient-memo")),
        (2, 3, 4)
    );
    assert_eq!((count("status", "acknowledged"), count("status", "failed"), count("status", "generated")), (2, 1, 1));
    let failed = messages.iter().find(|m| m["status"] == "failed").unwrap();
    let detail = w.show(&failed["id"].to_string());
    assert_eq!(detail["format"], "CareCommunication");
    assert_eq!(detail["receipts"][0]["type"], "FHIR transient-error", "{detail}");
    assert!(detail["regenerated_as"].is_i64(), "{detail}");
}

#[test]
fn a_journal_of_schema_5_opens_with_its_refused_input_and_handled_problem() {
    // A released SQLite journal file (tests/fixtures).
    if sqlite_only() {
        return;
    }
    let w = with_fixture("journal-v5.sqlite");
    w.run(&["journal", "verify"]).ok();
    let messages = w.run(&["journal", "list", "--json"]).ok().json();
    assert_eq!(messages.len(), 10, "every message and the refused input are there");
    let failed = messages.iter().find(|m| m["status"] == "failed").unwrap();
    let detail = w.show(&failed["id"].to_string());
    assert_eq!(detail["handled"]["note"], "phoned the GP", "{detail}");
    let refused = w.run(&["journal", "queue", "--json"]).ok().json();
    assert!(refused.iter().any(|r| r["key"] == "R1" && r["state"] == "open"), "{refused:?}");
    // What retention would remove is counted without writing to it.
    for fixture in ["journal-v3.sqlite", "journal-v5.sqlite"] {
        let w = with_fixture(fixture);
        let before = std::fs::read(w.journal()).unwrap();
        w.write("retention.toml", "[retention]\nbytes_days = 1\ninputs_days = 1\n");
        let dry =
            w.run(&["journal", "prune", "--dry-run", "--json", "--config", w.path("retention.toml").to_str().unwrap()]);
        assert_eq!(dry.code, 0, "{fixture}: {}", dry.stderr);
        assert_eq!(std::fs::read(w.journal()).unwrap(), before, "{fixture}: a dry run wrote");
    }
    // Writing to it (a migration, when the schema moved on) keeps every letter readable.
    w.generate(&sample("group-1.json")).ok();
    w.run(&["journal", "verify"]).ok();
    for id in messages.iter().filter_map(|m| m["id"].as_i64()) {
        w.run(&["journal", "show", &id.to_string(), "--bytes"]).ok();
    }
}

/// Writes `tests/fixtures/journal-vN.sqlite` for this build's schema N (never over one that
/// exists: each fixture is what a released schema wrote, kept as it was): what the v3 fixture
/// holds ([`journal_v3_content`]), then a refused input and the failed CareCommunication's
/// problem closed by a person. journal-v3 and journal-v5 were made this way by those releases.
/// Run once per new schema, when it is released:
/// `cargo test --test all journal::fixtures::make_journal_fixture -- --ignored`.
#[test]
#[ignore]
fn make_journal_fixture() {
    // Writes an SQLite fixture file.
    if sqlite_only() {
        return;
    }
    let path = root().join(format!("tests/fixtures/journal-v{}.sqlite", flspost::journal::Journal::SCHEMA_VERSION));
    assert!(!path.exists(), "{} exists: a released schema's fixture is never written again", path.display());
    let w = journal_v3_content();
    let refused = w.generate(&w.write("broken.json", "{\"result_id\": \"FLS-AUH-2025-0077\", "));
    assert_eq!(refused.code, 2, "{}", refused.stderr);
    let listed = w.run(&["journal", "list", "--json"]).ok().json();
    let failed = listed.iter().find(|m| m["status"] == "failed").unwrap();
    w.run(&["journal", "handle", &failed["id"].to_string(), "--note", "phoned the GP"]).ok();
    w.run(&["journal", "verify"]).ok();
    // One file, no WAL beside it.
    let conn = rusqlite::Connection::open(w.journal()).unwrap();
    conn.pragma_update(None, "journal_mode", "DELETE").unwrap();
    drop(conn);
    std::fs::copy(w.journal(), path).unwrap();
}

/// Groups 1 and 2a to a GP on XDIS91 (sent; group 1 acknowledged by XCTL03), then the GP
/// moved to FHIR: groups 2b and 3 as CareCommunications with the PDF (sent; 2b answered
/// `ok`, 3 `transient-error`, its resend queued).
fn journal_v3_content() -> World {
    let w = World::new();
    let xdis = routed_config(&w, XDIS91_ONLY);
    for s in ["group-1.json", "group-2a.json"] {
        w.generate_with(&xdis, &sample(s)).ok();
    }
    w.run_with(&xdis, &["send"]).ok();
    let listed = w.run(&["journal", "list", "--json"]).ok().json();
    let g1 = listed.iter().find(|m| m["result_id"] == "FLS-AUH-2025-0001" && m["kind"] == "gp-xdis91").unwrap();
    let positive =
        receipt("XCTL03", "FIXTURE01", g1["envelope_id"].as_str().unwrap(), g1["letter_id"].as_str().unwrap(), None);
    std::fs::write(w.path("positive.xml"), positive).unwrap();
    w.run(&["receipt", w.path("positive.xml").to_str().unwrap()]).ok();

    let fhir = routed_config(&w, FHIR);
    let mut letters = vec![];
    for s in ["group-2b.json", "group-3.json"] {
        let out = w.generate_with(&fhir, &sample(s)).ok().one();
        letters.push(out["messages"][0]["letter_id"].as_str().unwrap().to_string());
    }
    w.run_with(&fhir, &["send"]).ok();
    for (n, (code, letter)) in [("ok", &letters[0]), ("transient-error", &letters[1])].into_iter().enumerate() {
        let issues =
            if code == "ok" { vec![] } else { vec![ack_issue("MSG_Mailbox_Out_Of_Operation", "Postkassen er lukket")] };
        let ack = acknowledgement(code, &uuid(n as u32 + 1), &uuid(n as u32 + 101), letter, &issues);
        std::fs::write(w.path("ack.xml"), ack).unwrap();
        w.run_with(&fhir, &["receipt", w.path("ack.xml").to_str().unwrap()]).ok();
    }
    w.run(&["journal", "verify"]).ok();
    w
}

/// How SQLite runs `sql` on the journal at `path`: the EXPLAIN QUERY PLAN lines, joined.
fn plan(path: &std::path::Path, sql: &str) -> String {
    let conn = rusqlite::Connection::open(path).unwrap();
    let mut st = conn.prepare(&format!("EXPLAIN QUERY PLAN {sql}")).unwrap();
    let rows = st.query_map([], |r| r.get::<_, String>(3)).unwrap();
    rows.map(Result::unwrap).collect::<Vec<_>>().join("; ")
}

#[test]
fn acknowledgement_lookups_use_indexes_in_a_new_and_in_a_migrated_journal() {
    // SQLite's EXPLAIN QUERY PLAN, on a fresh and a migrated SQLite fixture.
    if sqlite_only() {
        return;
    }
    let fresh = World::new();
    fresh.generate(&sample("group-1.json")).ok();
    let migrated = with_fixture("journal-v2.sqlite");
    migrated.generate_with(&routed_config(&migrated, FHIR), &sample("group-1.json")).ok();
    for w in [&fresh, &migrated] {
        // The earlier Acknowledgements of a letter, and the answers a transmission has.
        let earlier = plan(
            &w.journal(),
            "SELECT receipt_type, message_id FROM receipts WHERE letter_id = 'x' AND original_letter_id IN ('y', \
             upper('y')) AND original_envelope_id = '' ORDER BY id LIMIT 1",
        );
        assert!(earlier.contains("INDEX receipts_original_letter"), "{earlier}");
        let answers = plan(&w.journal(), "SELECT 1 FROM receipts WHERE message_id = 1");
        assert!(answers.contains("INDEX receipts_message"), "{answers}");
        // A letter's transmissions: the UNIQUE (kind, letter_id, attempt) index.
        let transmissions = plan(&w.journal(), "SELECT id FROM messages WHERE kind = 'x' AND letter_id = 'y'");
        assert!(transmissions.contains("(kind=? AND letter_id=?)"), "{transmissions}");
    }
}

/// An older journal others may read is put back to owner-only by the first command that
/// writes, before SQLite opens it, as a current one is: the run that migrates it creates its
/// `-wal` and `-shm` (whole messages) with the journal's mode.
#[test]
fn an_older_journal_others_can_read_is_owner_only_from_the_first_write() {
    // The mode of an SQLite fixture file and its -wal/-shm.
    if sqlite_only() {
        return;
    }
    use std::os::unix::fs::PermissionsExt;
    let w = with_fixture("journal-v2.sqlite");
    std::fs::set_permissions(w.journal(), std::fs::Permissions::from_mode(0o644)).unwrap();
    let cfg = w.outbox_config();
    w.run_with(&cfg, &["send"]).ok();
    let mode = |p: &std::path::Path| std::fs::metadata(p).unwrap().permissions().mode() & 0o777;
    assert_eq!(mode(&w.journal()), 0o600);
}
