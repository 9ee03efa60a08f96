//! MedCom FHIR Acknowledgements: `flspost receipt` applies them to the CareCommunications they
//! answer (ok, fatal-error, transient-error with its resend), `journal list --unanswered`
//! finds letters waiting past MedCom's 30 minutes, `regenerate` resends them under MedCom's
//! rules, and both transports carry the VANSEnvelope bytes as the journal holds them.
//!
//! One file per kind of check; the helpers they share (the configs, sending a letter, writing
//! an Acknowledgement, reading the journal and the outbox) are here.

use crate::common::{self, *};
use std::path::PathBuf;

mod duplicates_and_conflicts;
mod json;
mod refused_files;
mod transient_errors;
mod transmissions;
mod transports;
mod unanswered;
mod unknown_letters;
mod verdicts;
mod wrong_senders;

/// The samples' receiver table (which routes their GP to CareCommunication), XDIS91 for
/// every other GP, the PDF attached, and outbox transports.
fn cc(table: &str) -> ConfigOf<'_> {
    ConfigOf { receivers: Some(table), default_format: Some("xdis91"), attach_pdf: Some(true), ..ConfigOf::outboxes() }
}

/// Outbox transports, and a receiver table that routes the samples' GP to CareCommunication.
fn cc_config(w: &World) -> PathBuf {
    w.config("cc.toml", &cc(&sample_receivers()))
}

/// As [`cc_config`], the GP's letters over SMTP to 127.0.0.1:`port`.
fn smtp_config(w: &World, port: u16) -> PathBuf {
    let table = sample_receivers();
    w.config("smtp.toml", &ConfigOf { gp: Some(Transport::Smtp { port, timeout_seconds: 5 }), ..cc(&table) })
}

/// `flspost ARGS --config cc.toml`.
fn fl(w: &World, args: &[&str]) -> Run {
    w.run_with(&cc_config(w), args)
}

fn at(w: &mut World, instant: &str) {
    w.fake_now = Some(instant.to_string());
}

/// Generates `sample` as a CareCommunication; returns the GP message's summary.
fn generated(w: &World, sample_name: &str) -> serde_json::Value {
    let out = w.out();
    let s = fl(w, &["generate", "--out-dir", out.to_str().unwrap(), sample(sample_name).to_str().unwrap()]).ok().one();
    let gp = s["messages"][0].clone();
    assert_eq!(gp["kind"], "gp-carecommunication", "{s}");
    gp
}

/// Generates and sends (outbox) `sample` as a CareCommunication.
fn sent(w: &World, sample_name: &str) -> serde_json::Value {
    let gp = w.sent(&cc_config(w), &sample(sample_name));
    assert_eq!(gp["kind"], "gp-carecommunication", "{gp}");
    gp
}

fn status(w: &World, id: &str) -> String {
    w.show(id)["message"]["status"].as_str().unwrap().to_string()
}

/// Writes an Acknowledgement file; returns its path.
fn ack_file(w: &World, name: &str, bytes: &[u8]) -> String {
    let p = w.path(name);
    std::fs::write(&p, bytes).unwrap();
    p.to_str().unwrap().to_string()
}

/// An Acknowledgement `n` (own ids uuid(n), uuid(1000 + n)) with `code` for letter `letter`.
fn ack(w: &World, n: u32, code: &str, letter: &str, issues: &[String]) -> String {
    ack_file(w, &format!("ack-{n}.xml"), &acknowledgement(code, &uuid(n), &uuid(1000 + n), letter, issues))
}

/// An Acknowledgement (own ids uuid(n), uuid(1000 + n)) answering the transmission of `letter`
/// whose Provenance time is `sent`.
fn ack_of(w: &World, n: u32, code: &str, letter: &str, sent: &str, issues: &[String]) -> String {
    ack_file(w, &format!("ack-{n}.xml"), &acknowledgement_of(code, &uuid(n), &uuid(1000 + n), letter, sent, issues))
}

/// What an applied answer did, and to which message: `(outcome, message_id)` of a JSON line.
fn outcome_of(line: &serde_json::Value) -> (serde_json::Value, serde_json::Value) {
    (line["result"]["outcome"].clone(), line["result"]["message_id"].clone())
}

fn receipt(w: &World, file: &str) -> Run {
    fl(w, &["receipt", file])
}

/// The GP messages of the journal, oldest first: (id, status, transmission).
fn gp_rows(w: &World) -> Vec<(i64, String, i64)> {
    carecommunication_rows(&w.run(&["journal", "list", "--json"]).ok())
}

/// The outbox's CareCommunication files: envelope id -> bytes.
fn outbox(w: &World) -> Vec<(String, Vec<u8>)> {
    tree(&w.path("vans"))
        .into_iter()
        .map(|(name, b)| {
            let env = name.strip_prefix("carecommunication-").unwrap().strip_suffix(".xml").unwrap().to_string();
            (env, b)
        })
        .collect()
}
