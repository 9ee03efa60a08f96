//! The same answer again (read twice, re-enveloped, in capitals) changes nothing; a contradicting one is a conflict.

use super::*;

#[test]
fn duplicates_repeats_in_a_new_envelope_and_contradictions() {
    let w = World::new();
    let gp = sent(&w, "group-2a.json");
    let (id, letter) = (gp["id"].to_string(), gp["letter_id"].as_str().unwrap());
    let f = ack(&w, 1, "ok", letter, &[]);
    receipt(&w, &f).ok();
    let listed = w.run(&["journal", "list", "--json"]).ok().stdout;

    // The same Acknowledgement read again.
    let dup = receipt(&w, &f).ok();
    assert_eq!(dup.one()["result"]["outcome"], "duplicate");
    assert!(dup.stderr.is_empty(), "{}", dup.stderr);
    // The same Acknowledgement (its MessageHeader.id) in a new envelope: MedCom's answer to a
    // duplicate.
    let again = ack_file(&w, "again.xml", &acknowledgement("ok", &uuid(2), &uuid(1001), letter, &[]));
    assert_eq!(receipt(&w, &again).ok().one()["result"]["outcome"], "unchanged");
    // Another ok for the letter (its id in capitals, as a receiver might echo it).
    let other_ok = ack(&w, 3, "ok", &letter.to_uppercase(), &[]);
    assert_eq!(receipt(&w, &other_ok).ok().one()["result"]["outcome"], "unchanged");
    assert_eq!(w.run(&["journal", "list", "--json"]).ok().stdout, listed, "nothing changed");

    // A fatal-error after the ok contradicts it: recorded, reported, not applied.
    let fatal = ack(&w, 4, "fatal-error", letter, &[ack_issue("MSG_DUPLICATE_ID", "Dublet")]);
    let r = receipt(&w, &fatal);
    assert_eq!(r.code, 1, "{}", r.stderr);
    assert_eq!(r.one()["result"]["outcome"], "conflict");
    assert!(r.stderr.contains("conflict: contradicts an earlier answer"), "{}", r.stderr);
    assert_eq!(status(&w, &id), "acknowledged");
    // Read again it is evaluated again: still a conflict, still exit 1, one row.
    let r = receipt(&w, &fatal);
    assert_eq!((r.code, r.one()["result"]["outcome"].clone()), (1, "conflict".into()));
    // The ok in a new envelope with the fatal-error's MessageHeader.id: a contradiction too.
    let flipped = ack_file(&w, "flipped.xml", &acknowledgement("ok", &uuid(5), &uuid(1004), letter, &[]));
    let r = receipt(&w, &flipped);
    assert_eq!(r.code, 0, "{}", r.stderr);
    assert_eq!(r.one()["result"]["outcome"], "unchanged", "the conflict was not applied, so ok agrees");
    let types: Vec<String> = w.show(&id)["receipts"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| format!("{} {}", r["type"].as_str().unwrap(), r["outcome"].as_str().unwrap()))
        .collect();
    assert_eq!(
        types,
        [
            "FHIR ok acknowledged",
            "FHIR ok unchanged",
            "FHIR ok unchanged",
            "FHIR fatal-error conflict",
            "FHIR ok unchanged"
        ]
    );

    // The same Bundle.id and MessageHeader.id with another code: one of the two is wrong.
    let reused = ack_file(
        &w,
        "reused.xml",
        &acknowledgement("fatal-error", &uuid(1), &uuid(1001), letter, &[ack_issue("MSG_DUPLICATE_ID", "x")]),
    );
    let r = receipt(&w, &reused);
    assert_eq!(r.code, 1);
    assert_eq!(r.one()["result"]["outcome"], "envelope-reused");
    assert_eq!(status(&w, &id), "acknowledged");
    assert_eq!(w.show(&id)["receipts"].as_array().unwrap().len(), 5, "not stored");
}

#[test]
fn a_repeat_naming_the_letter_in_capitals_is_the_same_answer_and_queues_no_third_transmission() {
    let mut w = World::new();
    let gp = sent(&w, "group-2a.json");
    let (id, letter) = (gp["id"].as_i64().unwrap(), gp["letter_id"].as_str().unwrap());
    at(&mut w, "2025-03-20T09:45:00Z");
    let issues = [ack_issue("MSG_Mailbox_Out_Of_Operation", "lukket")];
    let first = ack(&w, 1, "transient-error", letter, &issues);
    let line = receipt(&w, &first).ok().one();
    assert_eq!(line["result"]["outcome"], "resend-queued", "{line}");
    fl(&w, &["send"]).ok();
    assert_eq!(gp_rows(&w).len(), 2);

    // MedCom's answer to a duplicate (the same Acknowledgement in a new envelope), with the
    // letter's MessageHeader.id in capitals: the answer it gave, not one for the resend.
    let caps = letter.to_uppercase();
    let repeat = ack_file(&w, "repeat.xml", &acknowledgement("transient-error", &uuid(9), &uuid(1001), &caps, &issues));
    let line = receipt(&w, &repeat).ok().one();
    assert_eq!(outcome_of(&line), ("unchanged".into(), id.into()), "{line}");
    assert_eq!(line["original_letter_id"], letter, "shown and stored as ours, in lower case");
    // The first one again, in capitals: read before.
    let again = ack_file(&w, "again.xml", &acknowledgement("transient-error", &uuid(1), &uuid(1001), &caps, &issues));
    assert_eq!(receipt(&w, &again).ok().one()["result"]["outcome"], "duplicate");
    assert_eq!(gp_rows(&w).len(), 2, "no third transmission");
    let receipts = w.show(&id.to_string())["receipts"].clone();
    assert_eq!(receipts.as_array().unwrap().len(), 2, "{receipts}");
}

#[test]
fn ok_for_one_transmission_and_fatal_error_for_another_is_a_conflict_in_either_order() {
    let (sent1, sent2) = ("2025-03-20T10:30:00+01:00", "2025-03-20T11:00:00+01:00");
    let unknown = [ack_issue("MSG_VALUESET_VALUE_UNKNOWN", "Ukendt kode")];
    for (first_code, second_code) in [("ok", "fatal-error"), ("fatal-error", "ok")] {
        let mut w = World::new();
        let gp = sent(&w, "group-2a.json");
        let (t1, letter) = (gp["id"].as_i64().unwrap(), gp["letter_id"].as_str().unwrap());
        // Unanswered for 30 minutes: resent, and the resend handed over.
        at(&mut w, "2025-03-20T10:00:00Z");
        let t2 = fl(&w, &["regenerate", letter]).ok().one()["messages"][0]["id"].as_i64().unwrap();
        fl(&w, &["send"]).ok();
        let issues = |code: &str| if code == "ok" { vec![] } else { unknown.to_vec() };
        let line = receipt(&w, &ack_of(&w, 1, first_code, letter, sent1, &issues(first_code))).ok().one();
        assert_eq!(line["result"]["message_id"], t1, "{line}");
        let verdict = status(&w, &t1.to_string());
        // One MessageHeader.id is one message: a receiver never turns its verdict around, so
        // the other transmission's opposite verdict is for a person, not applied.
        let r = receipt(&w, &ack_of(&w, 2, second_code, letter, sent2, &issues(second_code)));
        assert_eq!(r.code, 1, "{first_code} then {second_code}: {}", r.stderr);
        let line = r.one();
        assert_eq!(outcome_of(&line), ("conflict".into(), t2.into()), "{first_code} then {second_code}: {line}");
        assert_eq!(line["result"]["contradicts"], t1, "{line}");
        assert!(r.stderr.contains(&format!("message {t1} is {verdict}")), "{}", r.stderr);
        assert_eq!((status(&w, &t1.to_string()), status(&w, &t2.to_string())), (verdict, "sent".to_string()));
        // Stored, and evaluated again when read again: still a conflict.
        let again = receipt(&w, w.path("ack-2.xml").to_str().unwrap());
        assert_eq!((again.code, again.one()["result"]["outcome"].clone()), (1, "conflict".into()));
    }
}
