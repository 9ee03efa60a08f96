//! CPR numbers from outside (a receipt's RefuseText, an SMTP server's reply, a malformed
//! value libxml2 quotes) are masked in every output, JSON included, in both forms
//! (`2512489996` and `251248-9996`); text from outside cannot forge a table row.

use crate::common::*;

const RAW: [&str; 2] = ["2512489996", "251248-9996"];

fn assert_masked(what: &str, text: &str) {
    for cpr in RAW {
        assert!(!text.contains(cpr), "{what} shows {cpr}:\n{text}");
    }
}

/// Every view support staff and programs have of message 1, stdout and stderr.
fn all_views(w: &World) -> Vec<(String, String)> {
    let mut out = vec![];
    for args in [
        vec!["journal", "list"],
        vec!["journal", "list", "--json"],
        vec!["journal", "show", "1"],
        vec!["journal", "show", "1", "--json"],
    ] {
        let r = w.run(&args).ok();
        out.push((args.join(" "), format!("{}\n{}", r.stdout, r.stderr)));
    }
    out
}

/// The table has its header and one line per message: no row was forged.
fn assert_rows(w: &World, messages: usize) {
    let table = w.run(&["journal", "list"]).ok().stdout;
    assert_eq!(table.lines().count(), 1 + messages, "{table}");
}

#[test]
fn a_cpr_number_in_a_refuse_text_is_masked_everywhere() {
    let w = World::new();
    let cfg = w.config("c.toml", &ConfigOf { gp: Some(Transport::Outbox("vans")), ..ConfigOf::default() });
    let gp = w.sent(&cfg, &sample("group-1.json"));
    let (env, letter) = (gp["envelope_id"].as_str().unwrap(), gp["letter_id"].as_str().unwrap());
    let refuse = (
        "problem_med_modtagerID",
        "Patient 2512489996 (251248-9996) kendes ikke\n    99  FAKE-ROW  gp-xdis91  forged  acknowledged",
    );
    let f = w.path("neg.xml");
    std::fs::write(&f, receipt("XCTL02", "R1", env, letter, Some(refuse))).unwrap();
    let r = w.run(&["receipt", f.to_str().unwrap()]).ok();
    assert_eq!(r.one()["result"]["outcome"], "rejected");
    assert_masked("receipt", &format!("{}\n{}", r.stdout, r.stderr));
    assert_eq!(r.stderr.lines().count(), 1, "{}", r.stderr);
    for (what, text) in all_views(&w) {
        assert_masked(&what, &text);
    }
    assert_rows(&w, 2);
    // The text is kept, masked: support staff still read why.
    let show = w.run(&["journal", "show", "1"]).ok().stdout;
    assert!(show.contains("kendes ikke"), "{show}");
    assert!(w.run(&["journal", "show", "1", "--reveal-cpr"]).ok().stdout.contains("2512489996"));
}

#[test]
fn a_cpr_number_in_an_smtp_reply_is_masked_everywhere() {
    let w = World::new();
    w.generate(&sample("group-1.json")).ok();
    let server = SmtpServer::start(&w.path("smtp"));
    server.set_mode("reply:554-5.7.1 recipient 2512489996 refused\\r\\n554 5.7.1 see 251248-9996");
    let smtp = ConfigOf { gp: Some(Transport::Smtp { port: server.port, timeout_seconds: 5 }), ..ConfigOf::default() };
    let cfg = w.config("c.toml", &smtp);
    let r = w.run_with(&cfg, &["send"]);
    assert_eq!(r.code, 1, "{}", r.stderr);
    assert!(r.stderr.contains("refused"), "{}", r.stderr);
    assert_masked("send", &format!("{}\n{}", r.stdout, r.stderr));
    for (what, text) in all_views(&w) {
        assert_masked(&what, &text);
    }
    assert_rows(&w, 2);
}

#[test]
fn validate_masks_a_malformed_cpr_libxml2_quotes() {
    let w = World::new();
    let s = w.generate(&sample("group-1.json")).ok().one();
    let gp = std::fs::read(s["messages"][0]["path"].as_str().unwrap()).unwrap();
    let text: String = gp.iter().map(|&b| b as char).collect();
    let bad = text.replace("<CivilRegistrationNumber>2512489996<", "<CivilRegistrationNumber>251248-9996<").replacen(
        "<EANIdentifier>5790000128686<",
        "<EANIdentifier>2512489996<",
        1,
    );
    assert_ne!(bad, text);
    let f = w.path("bad.xml");
    std::fs::write(&f, bad.chars().map(|c| c as u8).collect::<Vec<u8>>()).unwrap();
    let r = w.run(&["validate", f.to_str().unwrap()]);
    assert_eq!(r.code, 1);
    assert!(r.stdout.lines().count() >= 2, "{}", r.stdout);
    assert_masked("validate", &format!("{}\n{}", r.stdout, r.stderr));
}

#[test]
fn a_cpr_number_in_an_input_field_is_masked_in_generate_s_json_too() {
    let w = World::new();
    let mut n = 0;
    for value in ["2512489996", "x 251248-9996"] {
        for path in [
            &["group"][..],
            &["site"],
            &["scan", "date"],
            &["scan", "t_score_spine"],
            &["gp", "identifier_code"],
            &["sender", "identifier_code"],
        ] {
            let mut v = sample_json("group-1.json");
            let (last, parents) = path.split_last().unwrap();
            let mut at = &mut v;
            for p in parents {
                at = &mut at[*p];
            }
            at[*last] = serde_json::json!(value);
            n += 1;
            let f = w.write(&format!("in-{n}.json"), &v.to_string());
            // One document alone and in a batch (two code paths).
            for r in [
                w.run(&["generate", f.to_str().unwrap()]),
                w.run(&["generate", f.to_str().unwrap(), f.to_str().unwrap()]),
            ] {
                assert_ne!(r.code, 0, "{path:?} = {value}: {}", r.stdout);
                assert!(!r.json().is_empty(), "{path:?}: {}", r.stdout);
                assert_masked(&format!("{path:?} = {value}"), &format!("{}\n{}", r.stdout, r.stderr));
            }
        }
    }
    let mut v = sample_json("group-1.json");
    v["patient"]["2512489996"] = serde_json::json!("x");
    let f = w.write("unknown-key.json", &v.to_string());
    let r = w.run(&["generate", f.to_str().unwrap()]);
    assert_ne!(r.code, 0, "{}", r.stdout);
    assert_masked("an unknown key", &format!("{}\n{}", r.stdout, r.stderr));
    assert!(r.one()["error"]["field"].as_str().unwrap().starts_with("patient."), "{}", r.stdout);
}

#[test]
fn bidi_controls_from_outside_are_escaped_in_text_output() {
    let w = World::new();
    let cfg = w.config("c.toml", &ConfigOf { gp: Some(Transport::Outbox("vans")), ..ConfigOf::default() });
    let gp = w.sent(&cfg, &sample("group-1.json"));
    let (env, letter) = (gp["envelope_id"].as_str().unwrap(), gp["letter_id"].as_str().unwrap());
    let refuse = ("syntaksfejl", "a&#x202E;b&#x2066;c&#x200F;d");
    let f = w.path("neg.xml");
    std::fs::write(&f, receipt("XCTL02", "R2", env, letter, Some(refuse))).unwrap();
    let r = w.run(&["receipt", f.to_str().unwrap()]);
    let list = w.run(&["journal", "list"]).ok();
    let show = w.run(&["journal", "show", "1"]).ok();
    for (what, text) in [("receipt stderr", &r.stderr), ("list", &list.stdout), ("show", &show.stdout)] {
        assert!(!text.contains(['\u{202e}', '\u{2066}', '\u{200f}']), "{what} shows a bidi control:\n{text}");
    }
    assert!(r.stderr.contains("\\u{202e}"), "{}", r.stderr);
}

#[test]
fn a_cpr_number_in_an_acknowledgement_s_issue_code_is_masked_in_every_json_output() {
    let w = World::new();
    let table = sample_receivers();
    let cc = ConfigOf { receivers: Some(&table), default_format: Some("xdis91"), ..ConfigOf::outboxes() };
    let cfg = w.config("cc.toml", &cc);
    let c = cfg.to_str().unwrap();
    let gp = w.generate_with(&cfg, &sample("group-1.json")).ok().one()["messages"][0].clone();
    assert_eq!(gp["kind"], "gp-carecommunication", "{gp}");
    w.run(&["send", "--config", c]).ok();
    // The receiver codes its refusal with a code of its own that quotes the patient.
    let issue = ack_issue("Patient_2512489996", "Patient 251248-9996 kendes ikke");
    let bytes = acknowledgement("fatal-error", &uuid(1), &uuid(1001), gp["letter_id"].as_str().unwrap(), &[issue]);
    let f = w.path("fatal.xml");
    std::fs::write(&f, bytes).unwrap();
    let r = w.run(&["receipt", f.to_str().unwrap(), "--config", c]).ok();
    assert_eq!(r.one()["result"]["outcome"], "rejected", "{}", r.stdout);
    assert_eq!(r.one()["result"]["refuse_code"], "Patient_xxxxxxxxxx", "{}", r.stdout);
    assert_masked("receipt", &format!("{}\n{}", r.stdout, r.stderr));
    for (what, text) in all_views(&w) {
        assert_masked(&what, &text);
    }
    let list = w.run(&["journal", "list", "--json"]).ok();
    let row = list.json().into_iter().find(|m| m["id"] == 1).unwrap();
    assert_eq!(row["refuse_code"], "Patient_xxxxxxxxxx", "kept, masked: {row}");
    let show = w.show("1");
    assert_eq!(show["message"]["refuse_code"], "Patient_xxxxxxxxxx", "{show}");
    assert_eq!(show["receipts"][0]["refuse_code"], "Patient_xxxxxxxxxx", "{show}");
    // Only the patient's own CPR, and only when asked for.
    let revealed = w.run(&["journal", "show", "1", "--json", "--reveal-cpr"]).ok().one();
    assert_eq!(revealed["cpr"], "2512489996");
    assert_eq!(revealed["message"]["refuse_code"], "Patient_xxxxxxxxxx", "{revealed}");
}

#[test]
fn identifiers_a_receipt_names_that_are_not_ours_are_masked_as_identifiers() {
    let w = World::new();
    w.generate(&sample("group-1.json")).ok();
    // A receiver's identifiers, with a CPR number inside a longer run of digits (which the
    // masking of prose keeps, as it keeps a GLN).
    let (env, letter) = ("K0002512489996", "B0002512489996");
    let f = w.path("pos.xml");
    std::fs::write(&f, receipt("XCTL03", "0002512489996", env, letter, None)).unwrap();
    let r = w.run(&["receipt", f.to_str().unwrap()]);
    assert_eq!(r.code, 1, "{}", r.stderr);
    let line = r.one();
    assert_eq!(line["result"]["outcome"], "unknown-envelope", "{line}");
    assert_eq!(line["original_envelope_id"], "Kxxxxxxxxxxxxx", "{line}");
    assert_eq!(line["original_letter_id"], "Bxxxxxxxxxxxxx", "{line}");
    assert_masked("receipt", &format!("{}\n{}", r.stdout, r.stderr));
    // The same identifiers read again in a receipt of another type: its own envelope is named.
    std::fs::write(&f, receipt("XCTL02", "0002512489996", env, letter, Some(("syntaksfejl", "x")))).unwrap();
    let r = w.run(&["receipt", f.to_str().unwrap()]);
    assert_eq!(r.one()["result"]["outcome"], "envelope-reused", "{}", r.stdout);
    assert_eq!(r.one()["result"]["envelope_id"], "Kxxxxxxxxxxxxx", "{}", r.stdout);
    assert_masked("receipt", &format!("{}\n{}", r.stdout, r.stderr));
}
