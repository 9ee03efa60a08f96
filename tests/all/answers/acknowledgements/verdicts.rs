//! ok and fatal-error settle the letter (acknowledged, or rejected with code and text) and cancel its queued resend.

use super::*;

#[test]
fn ok_acknowledges_the_letter_and_cancels_its_queued_resend() {
    let mut w = World::new();
    let gp = sent(&w, "group-2a.json");
    let letter = gp["letter_id"].as_str().unwrap();
    // Unanswered for 30 minutes: a resend is queued, then the answer comes after all.
    at(&mut w, "2025-03-20T10:00:00Z");
    let resend = fl(&w, &["regenerate", letter]).ok().one()["messages"][0]["id"].as_i64().unwrap();
    let f = ack(&w, 1, "ok", letter, &[]);
    let r = receipt(&w, &f).ok();
    let line = r.one();
    assert_eq!(line["result"]["outcome"], "acknowledged", "{line}");
    assert_eq!(line["result"]["message_id"], gp["id"]);
    assert_eq!(line["result"]["cancelled"], serde_json::json!([resend]));
    assert_eq!(line["original_envelope_id"], gp["envelope_id"], "matched to the transmission handed over");
    assert_eq!(status(&w, &gp["id"].to_string()), "acknowledged");
    let cancelled = w.show(&resend.to_string());
    assert_eq!(cancelled["message"]["status"], "superseded", "{cancelled}");
    assert!(cancelled["message"]["reason"].as_str().unwrap().contains("was acknowledged"), "{cancelled}");
    fl(&w, &["send"]).ok();
    assert_eq!(outbox(&w).len(), 1, "the GP got the letter twice");
    let receipts = w.show(&gp["id"].to_string())["receipts"].clone();
    assert_eq!(receipts.as_array().unwrap().len(), 1, "{receipts}");
    assert_eq!(receipts[0]["type"], "FHIR ok");
    // The test's ids end in a long run of digits, which is masked like any CPR-like run.
    assert_eq!(receipts[0]["envelope_id"], "00000001-a11c-4ac4-8acx-xxxxxxxxxxxx");
}

#[test]
fn fatal_error_rejects_with_the_operation_outcome_code_and_text_and_masks_cpr_numbers() {
    let w = World::new();
    let gp = sent(&w, "group-2a.json");
    let (id, letter) = (gp["id"].to_string(), gp["letter_id"].as_str().unwrap());
    // The receiver's own bundle id, with a CPR-like number in a run of digits: not one of
    // ours, so masked wherever it is shown (receipt's line, journal show).
    let bundle_id = "e90e15ae-e019-496b-aa65-000211223989";
    let f = ack_file(
        &w,
        "fatal.xml",
        &acknowledgement(
            "fatal-error",
            bundle_id,
            &uuid(1001),
            letter,
            &[ack_issue("MSG_Receiver_Identifier_UNKNOWN", "Modtager ukendt for patient 0211223989")],
        ),
    );
    let r = receipt(&w, &f);
    assert_eq!(r.code, 0, "a refusal is the receiver's answer, not flspost's failure: {}", r.stderr);
    let line = r.one();
    assert_eq!(line["result"]["outcome"], "rejected", "{line}");
    assert_eq!(line["result"]["refuse_code"], "MSG_Receiver_Identifier_UNKNOWN");
    assert_eq!(line["result"]["refuse_text"], "Modtager ukendt for patient xxxxxxxxxx");
    assert_eq!(line["acknowledgement"]["bundle_id"], "e90e15ae-e019-496b-aaxx-xxxxxxxxxxxx");
    assert_eq!(line["original_letter_id"], letter, "ours: as it is");
    assert!(r.stderr.contains("rejected by the receiver, code MSG_Receiver_Identifier_UNKNOWN"), "{}", r.stderr);
    let m = w.show(&id);
    assert_eq!(m["message"]["status"], "rejected");
    assert_eq!(m["message"]["refuse_code"], "MSG_Receiver_Identifier_UNKNOWN");
    assert_eq!(
        m["message"]["reason"],
        "FHIR fatal-error MSG_Receiver_Identifier_UNKNOWN: Modtager ukendt for patient xxxxxxxxxx"
    );
    let text = w.run(&["journal", "show", &id]).ok().stdout;
    let list = w.run(&["journal", "list"]).ok().stdout;
    for out in [&r.stdout, &r.stderr, &m.to_string(), &text, &list] {
        assert!(!out.contains("0211223989"), "a CPR number in the output: {out}");
    }
    assert!(list.contains("Modtager ukendt for patient xxxxxxxxxx"), "{list}");
    // MedCom: a message refused with fatal-error is never resent as it is.
    let regen = fl(&w, &["regenerate", &id]);
    assert_eq!(regen.code, 2, "{}", regen.stderr);
    assert!(regen.stderr.contains("fatal-error"), "{}", regen.stderr);

    // Without MedCom's detail coding: the issue code and the diagnostics. A resend queued
    // meanwhile is cancelled: a refused message is never resent as it is.
    let mut w = w;
    let gp3 = sent(&w, "group-3.json");
    at(&mut w, "2025-03-20T10:00:00Z");
    let queued = fl(&w, &["regenerate", &gp3["id"].to_string()]).ok().one()["messages"][0]["id"].as_i64().unwrap();
    let f =
        ack(&w, 2, "fatal-error", gp3["letter_id"].as_str().unwrap(), &[ack_issue_plain("structure", "Ugyldig XML")]);
    let line = receipt(&w, &f).ok().one();
    assert_eq!(line["result"]["refuse_code"], "structure");
    assert_eq!(line["result"]["refuse_text"], "Ugyldig XML");
    assert_eq!(line["result"]["cancelled"], serde_json::json!([queued]));
    assert_eq!(w.show(&gp3["id"].to_string())["message"]["reason"], "FHIR fatal-error structure: Ugyldig XML");
    assert_eq!(status(&w, &queued.to_string()), "superseded");
}

#[test]
fn an_answer_after_a_transient_error_is_how_it_went_after_all_and_cancels_the_queued_resend() {
    for (code, verdict) in [("ok", "acknowledged"), ("fatal-error", "rejected")] {
        let mut w = World::new();
        let gp = sent(&w, "group-2a.json");
        let (id, letter) = (gp["id"].as_i64().unwrap(), gp["letter_id"].as_str().unwrap());
        at(&mut w, "2025-03-20T09:45:00Z");
        let t =
            ack(&w, 1, "transient-error", letter, &[ack_issue("MSG_Mailbox_Out_Of_Operation", "Postkassen er lukket")]);
        let resend = receipt(&w, &t).ok().one()["result"]["resend_id"].as_i64().unwrap();
        // Before the resend goes, the receiver answers the first transmission after all.
        let issues = if code == "ok" { vec![] } else { vec![ack_issue("MSG_VALUESET_VALUE_UNKNOWN", "Ukendt kode")] };
        let answer = ack(&w, 2, code, letter, &issues);
        let line = receipt(&w, &answer).ok().one();
        assert_eq!(line["result"]["cancelled"], serde_json::json!([resend]), "{line}");
        assert_eq!(status(&w, &id.to_string()), verdict, "{code}");
        assert_eq!(status(&w, &resend.to_string()), "superseded", "{code}: the GP must not get it twice");
        // A transient-error after that verdict contradicts it.
        let late = ack(&w, 3, "transient-error", letter, &[ack_issue("MSG_Mailbox_Out_Of_Operation", "igen")]);
        let r = receipt(&w, &late);
        assert_eq!((r.code, r.one()["result"]["outcome"].clone()), (1, "conflict".into()), "{code}");
    }
}
