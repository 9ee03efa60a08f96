//! Acknowledgements in FHIR JSON (`application/fhir+json`, test protocol 3.4.3/3.4.4), bare or
//! in a VANSEnvelope: MedCom's own JSON examples (from the IG package), made to answer our
//! letters, give the journal the same states as the XML ones; `validate` judges them.

use super::*;

const SENT: &str = "2025-03-20T10:30:00+01:00";
/// No transmission's Provenance time: the answer is for the newest handed over.
const ANY: &str = "2025-03-20T08:00:00+01:00";

/// MedCom's examples: ok, fatal-error (MSG_VALUESET_VALUE_UNKNOWN), transient-error
/// (MSG_Mailbox_Out_Of_Operation).
fn example(code: &str) -> &'static str {
    match code {
        "ok" => "a8c041b8-c65a-4fde-a90f-962076918834",
        "fatal-error" => "bc9535ef-ed94-4060-a928-7baddec7ee71",
        _ => "c9c2b2f6-0807-11ed-861d-0242ac120002",
    }
}

fn issue(code: &str) -> Vec<String> {
    match code {
        "ok" => vec![],
        "fatal-error" => vec![ack_issue("MSG_VALUESET_VALUE_UNKNOWN", "Ukendt værdi")],
        _ => vec![ack_issue("MSG_Mailbox_Out_Of_Operation", "Postkassen er lukket")],
    }
}

#[derive(Clone, Copy, Debug)]
enum Format {
    Xml,
    Json,
    JsonInEnvelope,
}

/// Answers in `format`: (code, whose transmission) in turn; the journal's GP rows, the
/// outcomes and the work queue's causes after them.
fn answered(format: Format, answers: &[(&str, &str)]) -> Option<(Vec<(i64, String, i64)>, Vec<String>, Vec<String>)> {
    let mut w = World::new();
    let gp = sent(&w, "group-2a.json");
    let letter = gp["letter_id"].as_str().unwrap().to_string();
    let mut outcomes = vec![];
    for (i, (code, sent_at)) in answers.iter().enumerate() {
        let n = i as u32 + 1;
        let (bundle_id, header_id) = (uuid(n), uuid(1000 + n));
        let bytes = match format {
            Format::Xml => acknowledgement_of(code, &bundle_id, &header_id, &letter, sent_at, &issue(code)),
            Format::Json => medcom_json_ack(example(code), &bundle_id, &header_id, &letter, sent_at)?,
            Format::JsonInEnvelope => in_vans_envelope_json(
                &medcom_json_ack(example(code), &bundle_id, &header_id, &letter, sent_at)?,
                &bundle_id,
                code,
            ),
        };
        let file = ack_file(&w, &format!("ack-{n}"), &bytes);
        let v = validated(&w, &file);
        assert!(v.0 == 0, "{format:?} {code}: validate: {}", v.1);
        let line = receipt(&w, &file).ok().one();
        outcomes.push(line["result"]["outcome"].as_str().unwrap().to_string());
        at(&mut w, &format!("2025-03-20T{:02}:00:00Z", 10 + i));
        fl(&w, &["send"]).ok();
    }
    let causes = fl(&w, &["journal", "queue", "--json"])
        .ok()
        .json()
        .iter()
        .map(|p| p["cause"].as_str().unwrap().to_string())
        .collect();
    Some((gp_rows(&w), outcomes, causes))
}

fn validated(w: &World, file: &str) -> (i32, String) {
    let r = w.run(&["validate", file]);
    (r.code, r.stdout + &r.stderr)
}

#[test]
fn json_and_xml_acknowledgements_give_the_same_journal_states() {
    let cases: &[&[(&str, &str)]] = &[
        &[("ok", SENT)],
        &[("fatal-error", SENT)],
        &[("transient-error", SENT)],
        // 3.3.3.3: an ok shortly after a transient-error; 3.4.2: the same again.
        &[("transient-error", SENT), ("ok", ANY)],
        &[("transient-error", SENT), ("fatal-error", ANY)],
    ];
    for answers in cases {
        let Some(xml) = answered(Format::Xml, answers) else { return };
        for format in [Format::Json, Format::JsonInEnvelope] {
            let json = answered(format, answers).unwrap();
            assert_eq!(json, xml, "{format:?} {answers:?}");
        }
        eprintln!("{answers:?}: {xml:?}");
    }
}

#[test]
fn medcoms_json_examples_are_valid_acknowledgements_and_a_broken_one_is_named_by_its_key() {
    let w = World::new();
    sent(&w, "group-2a.json");
    for code in ["ok", "fatal-error", "transient-error"] {
        let Some(bytes) = medcom_json_ack(example(code), &uuid(1), &uuid(2), &uuid(3), SENT) else { return };
        let f = ack_file(&w, &format!("{code}.json"), &bytes);
        let (c, out) = validated(&w, &f);
        assert_eq!(c, 0, "{code}: {out}");
        assert!(out.contains("valid FHIR Acknowledgement"), "{out}");
    }
    let bytes = medcom_json_ack(example("ok"), &uuid(1), &uuid(2), &uuid(3), SENT).unwrap();
    let mut v: serde_json::Value = serde_json::from_slice(&bytes).unwrap();
    v["entry"][0]["resource"]["response"]["code"] = "maybe".into();
    let f = ack_file(&w, "broken.json", &serde_json::to_vec(&v).unwrap());
    let (c, out) = validated(&w, &f);
    assert_eq!(c, 1, "{out}");
    assert!(out.contains("JSON Bundle.entry[0].resource(MessageHeader).response: binding: "), "{out}");
    // And `receipt` refuses it the same way, changing nothing.
    let r = receipt(&w, &f);
    assert_ne!(r.code, 0, "{}", r.stdout);
    assert!(r.stderr.contains("response.code `maybe`"), "{}", r.stderr);
}
