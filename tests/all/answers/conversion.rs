//! Answers in the other format, as VANS's conversion service can leave them (MedCom's use cases
//! for it, 3.1.0, §4.1, §4.3 and §4.5.1; `reliable::conversion`): an Acknowledgement naming a
//! letter sent as XDIS91 by its Letter/Identifier is applied as the XCTL VANS converts it to; one
//! naming the identifier VANS minted, and an XCTL naming the XDIS91 identifiers VANS gave a
//! converted CareCommunication, match nothing of ours and stay unmatched. And an XDIS91 letter
//! without a positive receipt is no failure: what the work queue says of it, and the setting.

use crate::common::*;

/// An XDIS91 letter (group 2b to the samples' GP) sent through the outbox.
fn xdis91(w: &World) -> serde_json::Value {
    let gp = w.sent(&w.outbox_config(), &sample("group-2b.json"));
    assert_eq!(gp["kind"], "gp-xdis91", "{gp}");
    gp
}

fn answer_file(w: &World, name: &str, bytes: &[u8]) -> String {
    let p = w.path(name);
    std::fs::write(&p, bytes).unwrap();
    p.to_str().unwrap().to_string()
}

#[test]
fn an_acknowledgement_naming_an_xdis91_letter_is_applied_as_the_xctl03_vans_makes_of_it() {
    let w = World::new();
    let gp = xdis91(&w);
    let (letter, env) = (gp["letter_id"].as_str().unwrap(), gp["envelope_id"].as_str().unwrap());
    // The GP's system on FHIR answers the converted letter; VANS forwards it unconverted, its
    // response.identifier our Letter/Identifier (as the mapping pairs them; a receiver may write
    // it in lower case).
    let ok = answer_file(&w, "ok.xml", &acknowledgement("ok", &uuid(1), &uuid(1001), &letter.to_lowercase(), &[]));
    let line = w.run(&["receipt", &ok]).ok().one();
    assert_eq!(line["result"]["outcome"], "acknowledged", "{line}");
    assert_eq!(line["read_as"], "XCTL03");
    assert_eq!((&line["original_letter_id"], &line["original_envelope_id"]), (&gp["letter_id"], &gp["envelope_id"]));
    assert_eq!(line["code"], serde_json::Value::Null);
    let shown = w.show(env);
    assert_eq!(shown["message"]["status"], "acknowledged");
    assert_eq!(shown["receipts"][0]["type"], "FHIR ok", "{shown}");
    // Read again: a duplicate, nothing changes.
    assert_eq!(w.run(&["receipt", &ok]).ok().one()["result"]["outcome"], "duplicate");
}

#[test]
fn a_negative_acknowledgement_for_an_xdis91_letter_rejects_it_as_an_xctl02_and_regenerate_resends_it() {
    for code in ["fatal-error", "transient-error"] {
        let w2 = World::new();
        let gp = xdis91(&w2);
        let letter = gp["letter_id"].as_str().unwrap();
        let issue = ack_issue("MSG_Mailbox_Out_Of_Operation", "Modtagers postkasse er lukket");
        let f = answer_file(&w2, "neg.xml", &acknowledgement(code, &uuid(2), &uuid(1002), letter, &[issue]));
        let r = w2.run(&["receipt", &f]).ok();
        let line = r.one();
        assert_eq!((&line["result"]["outcome"], &line["read_as"]), (&"rejected".into(), &"XCTL02".into()), "{line}");
        assert_eq!(line["code"], "xctl_refused", "an XDIS91 letter's refusal: {line}");
        assert!(r.stderr.contains("read as XCTL02"), "{}", r.stderr);
        let m = w2.show(letter)["message"].clone();
        assert_eq!(m["status"], "rejected");
        assert_eq!(m["refuse_code"], "MSG_Mailbox_Out_Of_Operation");
        let q = w2.run(&["journal", "queue", "--json"]).ok().json();
        assert_eq!(q[0]["cause"], "xctl_refused/MSG_Mailbox_Out_Of_Operation", "{code}: {q:?}");
        // No automatic resend (an XDIS91 has none); a person resends it.
        assert_eq!(w2.run(&["journal", "list", "--json"]).ok().json().len(), 2, "nothing queued by itself");
        let again = w2.run(&["regenerate", &m["id"].to_string()]).ok().one();
        assert_eq!(again["messages"][0]["letter_id"], letter);
    }
}

#[test]
fn an_acknowledgement_for_an_xdis91_letter_from_another_gp_is_not_applied() {
    let w = World::new();
    let gp = xdis91(&w);
    let letter = gp["letter_id"].as_str().unwrap();
    let other = String::from_utf8(acknowledgement("ok", &uuid(3), &uuid(1003), letter, &[]))
        .unwrap()
        .replace("5790000128686", "5790000121441");
    let f = answer_file(&w, "other.xml", other.as_bytes());
    let r = w.run(&["receipt", &f]);
    assert_eq!(r.code, 1, "{}", r.stderr);
    assert_eq!(r.one()["result"]["outcome"], "wrong-sender");
    assert_eq!(w.show(letter)["message"]["status"], "sent");
}

#[test]
fn an_acknowledgement_naming_the_identifier_vans_minted_stays_unmatched() {
    let w = World::new();
    let gp = xdis91(&w);
    // MedCom's Flow1/Flow2: VANS gave the converted letter a MessageHeader.id of its own; an
    // Acknowledgement naming it names nothing flspost sent.
    let minted = "60098c38-6fe1-41ba-aa92-d4809022de88";
    let f = answer_file(&w, "minted.xml", &acknowledgement("ok", &uuid(4), &uuid(1004), minted, &[]));
    let r = w.run(&["receipt", &f]);
    assert_eq!(r.code, 1, "{}", r.stderr);
    let line = r.one();
    assert_eq!(line["result"]["outcome"], "unknown-letter", "{line}");
    assert!(line.get("read_as").is_none(), "{line}");
    assert_eq!(w.show(gp["letter_id"].as_str().unwrap())["message"]["status"], "sent");
}

#[test]
fn an_unconverted_xctl_for_a_carecommunication_stays_unmatched_and_says_what_it_may_be() {
    let w = World::new();
    let table = sample_receivers();
    let cfg =
        w.config("cc.toml", &ConfigOf { receivers: Some(&table), attach_pdf: Some(true), ..ConfigOf::outboxes() });
    let gp = w.sent(&cfg, &sample("group-2a.json"));
    assert_eq!(gp["kind"], "gp-carecommunication", "{gp}");
    // VANS converted it to XDIS91 + XBIN01 with identifiers of its own (§4.1.2) and, 3 months
    // on, forwards the XBIN01's late XCTL03 unconverted (§4.5.1).
    let f = answer_file(&w, "late.xml", &receipt("XCTL03", "L1", "XBIN0162528", "XBIN0100169", None));
    let r = w.run_with(&cfg, &["receipt", &f]);
    assert_eq!(r.code, 1, "{}", r.stderr);
    assert_eq!(r.one()["result"]["outcome"], "unknown-envelope");
    assert!(r.stderr.contains("forwarded unconverted for one of our CareCommunications"), "{}", r.stderr);
    assert_eq!(w.show(gp["letter_id"].as_str().unwrap())["message"]["status"], "sent");
}

/// The morning of the samples (groups 1 and 2a answered, 2b and 3 not), an hour later, under
/// `[resend]` `lines`.
fn an_hour_after_the_morning(w: &mut World, lines: Option<&str>) -> std::path::PathBuf {
    let cfg = w.config("m.toml", &ConfigOf { resend: lines, ..ConfigOf::outboxes() });
    let inputs: Vec<_> = ["group-1.json", "group-2a.json", "group-2b.json", "group-3.json"].map(sample).into();
    w.morning_of(&cfg, &inputs);
    w.later_by(chrono::Duration::minutes(60));
    cfg
}

#[test]
fn an_xdis91_letter_without_a_positive_receipt_is_no_failure_and_says_so() {
    let mut w = World::new();
    let cfg = an_hour_after_the_morning(&mut w, None);
    let q = w.run_with(&cfg, &["journal", "queue", "--json"]).ok().json();
    let waiting: Vec<_> = q.iter().filter(|p| p["status"] == "sent").collect();
    assert_eq!(waiting.len(), 2, "{q:?}");
    for p in &waiting {
        assert_eq!(p["cause"], "unanswered_xdis91", "{p}");
        let action = p["action"].as_str().unwrap();
        assert!(action.contains("no failure") && action.contains("Nothing resends it"), "{action}");
    }
    let s = w.run_with(&cfg, &["journal", "summary", "--json"]).ok().one();
    assert_eq!(s["unanswered"], 2, "{s}");
    assert_eq!(w.run_with(&cfg, &["journal", "list", "--unanswered", "--json"]).ok().json().len(), 2);
    // The timer resends no XDIS91, whatever the policy.
    let due = w.run_with(&cfg, &["resend-due", "--json"]);
    assert!(due.stdout.trim().is_empty(), "{}", due.stdout);
}

#[test]
fn with_xdis91_positive_optional_a_letter_without_a_receipt_waits_for_nothing() {
    let mut w = World::new();
    let cfg = an_hour_after_the_morning(&mut w, Some("xdis91_positive = \"optional\""));
    let q = w.run_with(&cfg, &["journal", "queue", "--json"]).ok().json();
    assert_eq!(q.len(), 1, "only the rejection: {q:?}");
    assert_eq!(q[0]["status"], "rejected");
    assert!(w.run_with(&cfg, &["journal", "list", "--unanswered", "--json"]).ok().json().is_empty());
    assert_eq!(w.run_with(&cfg, &["journal", "summary", "--json"]).ok().one()["unanswered"], 0);
    let bad = w.config("bad.toml", &ConfigOf { resend: Some("xdis91_positive = \"never\""), ..ConfigOf::outboxes() });
    let r = w.run_with(&bad, &["journal", "queue"]);
    assert_eq!(r.code, 2, "{}", r.stderr);
    assert!(r.stderr.contains("bad.toml:2") && r.stderr.contains("`expected` or `optional`"), "{}", r.stderr);
}
