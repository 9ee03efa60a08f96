//! A resend of a CareCommunication is the message that went, restamped: the same Bundle with
//! a new Bundle.id, timestamp and Provenance times, in a new envelope. Today's config (the
//! receiver table's SOR id, `attach_pdf`, a GP since moved to XDIS91) has no say in it,
//! whether `regenerate` or a `transient-error` Acknowledgement asks for it.

use crate::common::*;
use serde_json::json;
use std::path::{Path, PathBuf};

const SOR_THEN: &str = "1017421000016003";
const SOR_NOW: &str = "1017421000016010";

/// A config whose receiver table lists the sample GP with `formats` and `sor`, with
/// `attach_pdf`, and outboxes. Each `name` its own files.
fn config(w: &World, name: &str, sor: &str, formats: &str, attach_pdf: bool) -> PathBuf {
    let table = format!("receivers-{name}.csv");
    w.write(&table, &format!("EAN;SOR;Formats\n5790000128686;{sor};{formats}\n"));
    let c = ConfigOf {
        receivers: Some(&table),
        default_format: Some("xdis91"),
        attach_pdf: Some(attach_pdf),
        ..ConfigOf::outboxes()
    };
    w.config(&format!("{name}.toml"), &c)
}

/// Group 2a without the GP's SOR id in the input: the receiver table gives it.
fn input(w: &World) -> PathBuf {
    let mut v = sample_json("group-2a.json");
    v["gp"].as_object_mut().unwrap().remove("sor_id");
    w.write("in.json", &v.to_string())
}

/// Generates and sends the letter under `cfg`; returns the GP message's summary.
fn sent(w: &World, cfg: &Path) -> serde_json::Value {
    let gp = w.sent(cfg, &input(w));
    assert_eq!(gp["kind"], "gp-carecommunication", "{gp}");
    gp
}

/// The outbox file of the transmission with envelope id `env`.
fn handed(w: &World, env: &str) -> Vec<u8> {
    std::fs::read(w.path(&format!("vans/carecommunication-{env}.xml"))).unwrap()
}

fn text(b: &[u8]) -> String {
    String::from_utf8(b.to_vec()).unwrap()
}

/// What a transmission stamps: Bundle.id, Bundle.timestamp, the Provenance times.
fn stamps(bundle: &[u8]) -> (String, String, Vec<String>) {
    let t = text(bundle);
    let doc = roxmltree::Document::parse(&t).unwrap();
    let root = doc.root_element();
    fn value(n: roxmltree::Node) -> String {
        n.attribute("value").unwrap().to_string()
    }
    fn child<'a, 'i>(n: roxmltree::Node<'a, 'i>, name: &str) -> roxmltree::Node<'a, 'i> {
        n.children().find(|c| c.has_tag_name(name)).unwrap()
    }
    let times = doc
        .descendants()
        .filter(|n| n.has_tag_name("Provenance"))
        .flat_map(|p| [value(child(p, "occurredDateTime")), value(child(p, "recorded"))])
        .collect();
    (value(child(root, "id")), value(child(root, "timestamp")), times)
}

/// The Bundle's text with what a transmission stamps masked.
fn masked(bundle: &[u8]) -> String {
    let (id, timestamp, times) = stamps(bundle);
    let mut t = text(bundle).replace(&id, "{BUNDLE-ID}");
    for time in std::iter::once(timestamp).chain(times) {
        t = t.replace(&time, "{SENT}");
    }
    t
}

/// The base64 of the PDF payload, if the Bundle has one.
fn pdf_payload(bundle: &[u8]) -> Option<String> {
    let t = text(bundle);
    let at = t.find("<contentType value=\"application/pdf\"/>")?;
    let rest = &t[at..];
    let data = &rest[rest.find("<data value=\"").unwrap() + 13..];
    Some(data[..data.find('"').unwrap()].to_string())
}

fn envelope_field(envelope: &[u8], tag: &str) -> String {
    let t = text(envelope);
    let from = t.find(&format!("<{tag}")).unwrap();
    let from = from + t[from..].find('>').unwrap() + 1;
    t[from..from + t[from..].find('<').unwrap()].to_string()
}

/// `resend` is `original` sent again at `sent` (a FHIR time) under a new Bundle.id: the same
/// Bundle but for what a transmission stamps, in a new envelope to the same receiver.
fn assert_resent(original: &[u8], resend: &[u8], sent: &str) {
    let (old, new) = (bundle_in_envelope(original), bundle_in_envelope(resend));
    assert_eq!(masked(&new), masked(&old), "the resend changed the message");
    let ((old_id, old_ts, _), (new_id, new_ts, new_times)) = (stamps(&old), stamps(&new));
    assert_ne!(new_id, old_id, "a new Bundle.id");
    assert_ne!(new_ts, old_ts);
    assert_eq!(new_ts, sent);
    assert_eq!(new_times, [sent, sent], "the Provenance times are the resend's");
    assert_eq!(fhir_value(&new, "MessageHeader", "id"), fhir_value(&old, "MessageHeader", "id"));
    assert_eq!(envelope_field(resend, "EnvelopeIdentifier"), new_id, "envelope id = Bundle.id");
    assert_eq!(envelope_field(resend, "SentDateTime"), sent);
    for tag in ["SenderID", "ReceiverID", "Name"] {
        assert_eq!(envelope_field(resend, tag), envelope_field(original, tag), "{tag}");
    }
    assert_eq!(pdf_payload(&new), pdf_payload(&old), "the PDF payload, byte for byte");
}

#[test]
fn regenerate_resends_the_stored_message_whatever_the_receiver_table_and_attach_pdf_say_now() {
    let mut w = World::new();
    let then = config(&w, "then", SOR_THEN, "XDIS91 CareCommunication", true);
    let gp = sent(&w, &then);
    let original = handed(&w, gp["envelope_id"].as_str().unwrap());
    assert!(pdf_payload(&bundle_in_envelope(&original)).is_some(), "sent with the PDF");
    // Since then the table gives the practice another SOR id, and no PDF is attached.
    let now = config(&w, "now", SOR_NOW, "XDIS91 CareCommunication", false);
    w.fake_now = Some("2025-03-20T10:00:00Z".into());
    let out = w.out();
    let r = w.run_with(&now, &["regenerate", &gp["id"].to_string(), "--out-dir", out.to_str().unwrap()]).ok().one();
    let resend = r["messages"][0].clone();
    assert_eq!((resend["kind"].clone(), resend["transmission"].clone()), (json!("gp-carecommunication"), json!(2)));
    w.run_with(&now, &["send"]).ok();
    let bytes = handed(&w, resend["envelope_id"].as_str().unwrap());
    assert_resent(&original, &bytes, "2025-03-20T11:00:00+01:00");
    let bundle = text(&bundle_in_envelope(&bytes));
    assert!(bundle.contains(SOR_THEN) && !bundle.contains(SOR_NOW), "the SOR id the letter went with");
    assert_eq!(flspost::support::digest::sha256_hex(&bytes), w.show(&resend["id"].to_string())["message"]["sha256"]);
    assert_eq!(std::fs::read(resend["path"].as_str().unwrap()).unwrap(), bytes, "the output folder has it too");
}

#[test]
fn a_transient_errors_resend_is_the_stored_message_whatever_the_config_says_now() {
    let mut w = World::new();
    let then = config(&w, "then", SOR_THEN, "XDIS91 CareCommunication", false);
    let gp = sent(&w, &then);
    let original = handed(&w, gp["envelope_id"].as_str().unwrap());
    assert!(pdf_payload(&bundle_in_envelope(&original)).is_none(), "sent without the PDF");
    // Since then the table gives another SOR id and the PDF is attached; and the config
    // names templates that are not there: a resend needs none.
    let now = config(&w, "now", SOR_NOW, "XDIS91 CareCommunication", true);
    let now_text = std::fs::read_to_string(&now).unwrap();
    std::fs::write(&now, format!("templates = \"{}\"\n{now_text}", w.path("no-such-templates").display())).unwrap();
    w.fake_now = Some("2025-03-20T09:45:00Z".into());
    let letter = gp["letter_id"].as_str().unwrap();
    let ack = w.path("ack.xml");
    let issue = ack_issue("MSG_Mailbox_Out_Of_Operation", "lukket");
    std::fs::write(&ack, acknowledgement("transient-error", &uuid(1), &uuid(1001), letter, &[issue])).unwrap();
    let line = w.run_with(&now, &["receipt", ack.to_str().unwrap()]).ok().one();
    assert_eq!(line["result"]["outcome"], "resend-queued", "{line}");
    let resend = w.show(&line["result"]["resend_id"].to_string())["message"].clone();
    let cfg = config(&w, "send", SOR_NOW, "XDIS91", false);
    w.run_with(&cfg, &["send"]).ok();
    let bytes = handed(&w, resend["envelope_id"].as_str().unwrap());
    assert_resent(&original, &bytes, "2025-03-20T10:45:00+01:00");
    assert!(!text(&bundle_in_envelope(&bytes)).contains(SOR_NOW));
}

#[test]
fn a_gp_moved_to_xdis91_only_still_gets_its_carecommunication_resent() {
    let mut w = World::new();
    let then = config(&w, "then", SOR_THEN, "CareCommunication", true);
    let gp = sent(&w, &then);
    let original = handed(&w, gp["envelope_id"].as_str().unwrap());
    // The table now lists the practice for XDIS91 only, without a SOR id.
    let now = config(&w, "now", "", "XDIS91", true);
    let letter = gp["letter_id"].as_str().unwrap();
    // An Acknowledgement's resend,
    w.fake_now = Some("2025-03-20T09:45:00Z".into());
    let ack = w.path("ack.xml");
    let issue = ack_issue("MSG_Mailbox_Out_Of_Operation", "lukket");
    std::fs::write(&ack, acknowledgement("transient-error", &uuid(1), &uuid(1001), letter, &[issue])).unwrap();
    let line = w.run_with(&now, &["receipt", ack.to_str().unwrap()]).ok().one();
    assert_eq!(line["result"]["outcome"], "resend-queued", "{line}");
    let second = w.show(&line["result"]["resend_id"].to_string())["message"].clone();
    assert_eq!(second["kind"], "gp-carecommunication");
    w.run_with(&now, &["send"]).ok();
    assert_resent(&original, &handed(&w, second["envelope_id"].as_str().unwrap()), "2025-03-20T10:45:00+01:00");
    // and, 30 minutes unanswered, `regenerate`'s.
    w.fake_now = Some("2025-03-20T10:20:00Z".into());
    let third = w.run_with(&now, &["regenerate", &second["id"].to_string()]).ok().one()["messages"][0].clone();
    assert_eq!((third["kind"].clone(), third["transmission"].clone()), (json!("gp-carecommunication"), json!(3)));
    w.run_with(&now, &["send"]).ok();
    assert_resent(&original, &handed(&w, third["envelope_id"].as_str().unwrap()), "2025-03-20T11:20:00+01:00");
}
