//! The journal stores what a result's messages carry twice once: the patient's PDF is one
//! `parts` row that the MeMo (or kombi request) and the GP's CareCommunication both use, and
//! each message still comes back byte for byte, is checked against its SHA-256, and goes with
//! its parts when it is pruned or erased.

use crate::common::*;

const FHIR: &str = "ean;sor;formats\n5790000128686;1017421000016003;XDIS91 CareCommunication\n";

/// A CareCommunication with the PDF attached for the GP, and a MeMo for the patient.
fn fhir_config(w: &World) -> std::path::PathBuf {
    w.write("receivers.csv", FHIR);
    let c = ConfigOf { receivers: Some("receivers.csv"), attach_pdf: Some(true), ..ConfigOf::outboxes() };
    w.config("config.toml", &c)
}

fn count(w: &World, sql: &str) -> i64 {
    w.db().query_row(sql, [], |r| r.get(0)).unwrap()
}

/// The first byte of the (one) stored PDF changed to `X`, its length kept.
fn damage_part(w: &World) {
    let db = w.db();
    let (id, mut bytes): (i64, Vec<u8>) =
        db.query_row("SELECT id, bytes FROM parts", [], |r| Ok((r.get(0)?, r.get(1)?))).unwrap();
    bytes[0] = b'X';
    db.execute("UPDATE parts SET bytes = ?2 WHERE id = ?1", (id, bytes)).unwrap();
}

/// The stored bytes of each message `journal show --bytes` gives, by kind.
fn shown_bytes(w: &World, summary: &serde_json::Value) -> Vec<(String, Vec<u8>)> {
    summary["messages"]
        .as_array()
        .unwrap()
        .iter()
        .map(|m| {
            let id = m["id"].to_string();
            let out = w.cmd().args(["journal", "show", &id, "--bytes"]).output().unwrap();
            assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
            (m["kind"].as_str().unwrap().to_string(), out.stdout)
        })
        .collect()
}

#[test]
fn a_results_pdf_is_stored_once_and_every_message_comes_back_byte_for_byte() {
    let w = World::new();
    let cfg = fhir_config(&w);
    let s = w.generate_with(&cfg, &sample("group-2a.json")).ok().one();
    let dir = w.out().join("FLS-AUH-2025-0002");
    let pdf = std::fs::read(dir.join("patient-letter.pdf")).unwrap();

    assert_eq!(count(&w, "SELECT count(*) FROM parts"), 1, "one PDF, stored once");
    let part: Vec<u8> = w.db().query_row("SELECT bytes FROM parts", [], |r| r.get(0)).unwrap();
    assert_eq!(part, pdf, "the part is the patient's PDF itself");
    assert_eq!(count(&w, "SELECT count(*) FROM message_parts"), 2, "the MeMo and the CareCommunication use it");
    for (kind, bytes) in shown_bytes(&w, &s) {
        assert_eq!(bytes, std::fs::read(dir.join(format!("{kind}.xml"))).unwrap(), "{kind} byte for byte");
    }
    // What the rows hold: the PDF once, the rest far smaller than the messages.
    let stored = count(&w, "SELECT sum(length(bytes)) FROM message_bytes");
    let made: i64 = shown_bytes(&w, &s).iter().map(|(_, b)| b.len() as i64).sum();
    assert!(stored + (pdf.len() as i64) < made / 2, "stored {stored} + PDF {} of {made}", pdf.len());
    w.run(&["journal", "verify"]).ok();
}

#[test]
fn a_kombi_request_carries_its_pdf_twice_and_stores_it_once() {
    let w = World::new();
    let c = ConfigOf { patient: Some(Transport::Kombi("sp")), ..ConfigOf::outboxes() };
    let cfg = w.config("config.toml", &c);
    let s = w.generate_with(&cfg, &sample("group-1.json")).ok().one();
    let kombi = s["messages"].as_array().unwrap().iter().find(|m| m["kind"] == "patient-kombi").unwrap();
    let dir = w.out().join("FLS-AUH-2025-0001");
    let sent = std::fs::read(dir.join("patient-kombi.xml")).unwrap();
    let pdf = std::fs::read(dir.join("patient-letter.pdf")).unwrap();
    let stored: i64 = w
        .db()
        .query_row("SELECT length(bytes) FROM message_bytes WHERE message_id = ?1", [kombi["id"].as_i64()], |r| {
            r.get(0)
        })
        .unwrap();
    assert!((stored as usize) < sent.len() - pdf.len() * 2, "stored {stored} of {}", sent.len());
    assert_eq!(count(&w, "SELECT count(*) FROM parts"), 1);
    let (kind, bytes) = shown_bytes(&w, &s).into_iter().find(|(k, _)| k == "patient-kombi").unwrap();
    assert_eq!(bytes, sent, "{kind} byte for byte");
}

#[test]
fn a_damaged_part_is_named_by_verify_and_its_messages_are_never_sent() {
    let w = World::new();
    let cfg = fhir_config(&w);
    w.generate_with(&cfg, &sample("group-2a.json")).ok();
    // One byte of the PDF changed: both messages that carry it are damaged.
    damage_part(&w);
    let v = w.run(&["journal", "verify"]);
    assert_ne!(v.code, 0, "{}", v.stdout);
    let named = format!("{}{}", v.stdout, v.stderr);
    assert!(named.contains("patient-memo") && named.contains("gp-carecommunication"), "{named}");
    let r = w.run_with(&cfg, &["send"]);
    assert_ne!(r.code, 0, "{}", r.stderr);
    assert!(tree(&w.path("vans")).is_empty() && tree(&w.path("dp")).is_empty(), "nothing handed over");
    // A part stored as text (on SQLite: a BYTEA column holds only bytes), and a part that is
    // gone: the same.
    if !on_postgres() {
        w.db().execute("UPDATE parts SET bytes = 'not bytes'", []).unwrap();
        let v = w.run(&["journal", "verify"]);
        assert_ne!(v.code, 0);
        assert!(format!("{}{}", v.stdout, v.stderr).contains("not stored as bytes"), "{}", v.stdout);
    }
    w.db().execute_batch("DELETE FROM message_parts; DELETE FROM parts;").unwrap();
    let v = w.run(&["journal", "verify"]);
    assert_ne!(v.code, 0);
    assert!(format!("{}{}", v.stdout, v.stderr).contains("missing"), "{}", v.stdout);
}

#[test]
fn erase_and_prune_take_a_results_parts_with_its_messages() {
    let w = World::new();
    let cfg = fhir_config(&w);
    for s in ["group-1.json", "group-2a.json"] {
        w.generate_with(&cfg, &sample(s)).ok();
    }
    assert_eq!(count(&w, "SELECT count(*) FROM parts"), 2);
    // The group 2a patient (their letters not sent yet: forced).
    w.run(&["journal", "erase", "--cpr", "0211223989", "--force", "--yes"]).ok();
    assert_eq!(count(&w, "SELECT count(*) FROM parts"), 1, "the erased patient's PDF is gone");
    assert_eq!(count(&w, "SELECT count(*) FROM message_parts"), 2, "the other result's two messages keep theirs");
    assert_eq!(
        count(&w, "SELECT count(*) FROM parts WHERE id NOT IN (SELECT part_id FROM message_parts)"),
        0,
        "no part is left that no message uses"
    );
    w.run(&["journal", "verify"]).ok();
}

#[test]
fn verify_names_a_part_no_message_uses() {
    let w = World::new();
    let cfg = fhir_config(&w);
    w.generate_with(&cfg, &sample("group-2a.json")).ok();
    w.db()
        .execute("INSERT INTO parts (result_id, bytes) VALUES ('FLS-AUH-2025-0002', ?1)", [b"%PDF".to_vec()])
        .unwrap();
    let v = w.run(&["journal", "verify", "--json"]);
    assert_ne!(v.code, 0);
    let parts: Vec<_> = v.json().into_iter().filter(|d| d["what"] == "part").collect();
    assert_eq!(parts.len(), 1, "{}", v.stdout);
    assert!(parts[0]["problem"].as_str().unwrap().contains("no message uses it"), "{}", v.stdout);
}

#[test]
fn prune_archives_nothing_and_removes_nothing_when_a_part_is_damaged() {
    let mut w = World::new();
    let cfg = fhir_config(&w);
    let mut text = std::fs::read_to_string(&cfg).unwrap();
    text.push_str("[retention]\nbytes_days = 30\ninputs_days = 30\narchive_dir = \"archive\"\n");
    std::fs::write(&cfg, &text).unwrap();
    let s = w.generate_with(&cfg, &sample("group-2a.json")).ok().one();
    // Both letters final: handed over, the GP's acknowledged.
    w.run_with(&cfg, &["send"]).ok();
    let gp = s["messages"].as_array().unwrap().iter().find(|m| m["kind"] == "gp-carecommunication").unwrap();
    let ack = acknowledgement("ok", &uuid(1), &uuid(101), gp["letter_id"].as_str().unwrap(), &[]);
    std::fs::write(w.path("ack.xml"), ack).unwrap();
    w.run_with(&cfg, &["receipt", w.path("ack.xml").to_str().unwrap()]).ok();
    // One byte of the PDF changed, its length kept.
    damage_part(&w);
    w.later_by(chrono::Duration::days(31));
    let r = w.run_with(&cfg, &["journal", "prune"]);
    assert_ne!(r.code, 0, "{}", r.stdout);
    assert!(r.stderr.contains("nothing pruned"), "{}", r.stderr);
    assert_eq!(count(&w, "SELECT count(*) FROM messages WHERE pruned_at IS NOT NULL"), 0);
    assert!(tree(&w.path("archive")).is_empty(), "nothing archived");
}
