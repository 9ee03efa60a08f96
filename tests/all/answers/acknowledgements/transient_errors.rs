//! A transient-error queues one resend (same MessageHeader.id, new Bundle.id), at most two, else a person is told why.

use super::*;

#[test]
fn transient_error_queues_a_resend_that_send_delivers_with_the_same_message_id_and_a_new_bundle_id() {
    let mut w = World::new();
    let gp = sent(&w, "group-2a.json");
    let (id, letter, env) =
        (gp["id"].as_i64().unwrap(), gp["letter_id"].as_str().unwrap(), gp["envelope_id"].as_str().unwrap());
    let first = outbox(&w);
    assert_eq!(first.len(), 1);
    at(&mut w, "2025-03-20T09:45:00Z");
    let f = ack(&w, 1, "transient-error", letter, &[ack_issue("MSG_Mailbox_Out_Of_Operation", "Postkassen er lukket")]);
    let r = receipt(&w, &f).ok();
    let line = r.one();
    assert_eq!(line["result"]["outcome"], "resend-queued", "{line}");
    assert_eq!(line["result"]["message_id"], id);
    assert_eq!(line["result"]["transmission"], 2);
    let resend = line["result"]["resend_id"].as_i64().unwrap();
    assert!(r.stderr.contains(&format!("message {resend}")) && r.stderr.contains("flspost send"), "{}", r.stderr);
    let m = w.show(&id.to_string());
    assert_eq!(m["message"]["status"], "failed");
    let reason = m["message"]["reason"].as_str().unwrap();
    assert!(reason.starts_with("FHIR transient-error MSG_Mailbox_Out_Of_Operation: Postkassen er lukket"), "{reason}");
    assert!(reason.contains(&format!("resend queued as message {resend}")), "{reason}");
    let queued = w.show(&resend.to_string());
    assert_eq!(queued["message"]["status"], "generated");
    assert_eq!(queued["message"]["letter_id"], letter);
    assert_eq!(queued["message"]["regenerated_from"], id);
    assert_eq!(queued["message"]["transmission"], 2);
    // One answer, one resend: reading it again queues nothing more.
    assert_eq!(receipt(&w, &f).ok().one()["result"]["outcome"], "duplicate");
    // Another transient-error while the resend waits: the answer the transmission has already.
    let other = ack(&w, 3, "transient-error", letter, &[ack_issue("MSG_Mailbox_Out_Of_Operation", "stadig lukket")]);
    assert_eq!(receipt(&w, &other).ok().one()["result"]["outcome"], "unchanged");
    assert_eq!(gp_rows(&w).len(), 2);

    at(&mut w, "2025-03-20T09:50:00Z");
    fl(&w, &["send"]).ok();
    let files = outbox(&w);
    assert_eq!(files.len(), 2);
    let new_env = queued["message"]["envelope_id"].as_str().unwrap();
    assert_ne!(new_env, env);
    let (_, bytes) = files.iter().find(|(e, _)| e == new_env).expect("the resend's envelope in the outbox");
    assert_eq!(
        flspost::support::digest::sha256_hex(bytes),
        queued["message"]["sha256"],
        "the outbox holds the journal's bytes"
    );
    let (old, new) = (bundle_in_envelope(&first[0].1), bundle_in_envelope(bytes));
    assert_eq!(fhir_value(&new, "MessageHeader", "id"), letter, "same MessageHeader.id");
    assert_eq!(fhir_value(&old, "MessageHeader", "id"), letter);
    assert_eq!(fhir_value(&new, "Bundle", "id"), new_env, "new Bundle.id = envelope id");
    assert_eq!(fhir_value(&old, "Bundle", "id"), env);
    assert_eq!(fhir_value(&old, "Provenance", "occurredDateTime"), "2025-03-20T10:30:00+01:00");
    assert_eq!(fhir_value(&new, "Provenance", "occurredDateTime"), "2025-03-20T10:45:00+01:00", "new Provenance time");
    assert_eq!(status(&w, &resend.to_string()), "sent");

    // The same Acknowledgement again in a new envelope (MedCom's answer to a duplicate): it
    // answered the first transmission, so the resend now handed over is not resent again.
    let repeat = ack_file(
        &w,
        "repeat.xml",
        &acknowledgement(
            "transient-error",
            &uuid(9),
            &uuid(1001),
            letter,
            &[ack_issue("MSG_Mailbox_Out_Of_Operation", "x")],
        ),
    );
    let line = receipt(&w, &repeat).ok().one();
    assert_eq!(outcome_of(&line), ("unchanged".into(), id.into()));
    assert_eq!(status(&w, &resend.to_string()), "sent");
    assert_eq!(gp_rows(&w).len(), 2);

    // The next answer is for the resend: its copy of our Provenance has the resend's time.
    let ok = ack_file(
        &w,
        "ack-2.xml",
        &acknowledgement_of("ok", &uuid(2), &uuid(1002), letter, "2025-03-20T10:45:00+01:00", &[]),
    );
    let line = receipt(&w, &ok).ok().one();
    assert_eq!(line["result"]["message_id"], resend);
    assert_eq!(line["original_envelope_id"], new_env);
    assert_eq!(status(&w, &resend.to_string()), "acknowledged");
    assert_eq!(status(&w, &id.to_string()), "failed");
}

#[test]
fn after_two_resends_a_transient_error_is_left_to_a_person() {
    let mut w = World::new();
    let gp = sent(&w, "group-2a.json");
    let letter = gp["letter_id"].as_str().unwrap();
    // Each answers the transmission sent last (its Provenance time); each resend is made
    // at the time of the answer.
    let sent = ["2025-03-20T10:30:00+01:00", "2025-03-20T10:40:00+01:00", "2025-03-20T10:50:00+01:00"];
    for (n, t) in [(1, "2025-03-20T09:40:00Z"), (2, "2025-03-20T09:50:00Z")] {
        at(&mut w, t);
        // Over VANS the Acknowledgement comes in its envelope.
        let bundle = acknowledgement_of(
            "transient-error",
            &uuid(n),
            &uuid(1000 + n),
            letter,
            sent[n as usize - 1],
            &[ack_issue("MSG_Mailbox_Out_Of_Operation", "lukket")],
        );
        let f = ack_file(&w, &format!("env-{n}.xml"), &in_vans_envelope(&bundle, &uuid(n), "transient-error"));
        let line = receipt(&w, &f).ok().one();
        assert_eq!(line["result"]["outcome"], "resend-queued", "{line}");
        assert_eq!(line["acknowledgement"]["enveloped"], true);
        fl(&w, &["send"]).ok();
    }
    assert_eq!(outbox(&w).len(), 3, "the letter and two resends");
    at(&mut w, "2025-03-20T10:00:00Z");
    let f = ack_file(
        &w,
        "ack-3.xml",
        &acknowledgement_of(
            "transient-error",
            &uuid(3),
            &uuid(1003),
            letter,
            sent[2],
            &[ack_issue("MSG_Mailbox_Out_Of_Operation", "lukket")],
        ),
    );
    let r = receipt(&w, &f);
    assert_eq!(r.code, 1, "{}", r.stderr);
    let line = r.one();
    assert_eq!(line["result"]["outcome"], "resend-held", "{line}");
    assert!(r.stderr.contains("a person must look"), "{}", r.stderr);
    let rows = gp_rows(&w);
    assert_eq!(rows.iter().map(|r| r.1.as_str()).collect::<Vec<_>>(), ["failed", "failed", "failed"], "{rows:?}");
    let third = rows[2].0.to_string();
    let reason = w.show(&third)["message"]["reason"].as_str().unwrap().to_string();
    assert!(reason.contains("sent 3 times") && reason.contains("allows 2 resends"), "{reason}");
    // Nor does `regenerate` resend it.
    let regen = fl(&w, &["regenerate", &third]);
    assert_eq!(regen.code, 2, "{}", regen.stderr);
    assert!(regen.stderr.contains("allows 2 resends"), "{}", regen.stderr);
    assert_eq!(gp_rows(&w).len(), 3);
}

#[test]
fn a_transient_error_uses_a_resend_already_queued_or_says_why_none_was_made() {
    let mut w = World::new();
    let gp = sent(&w, "group-2a.json");
    let (id, letter) = (gp["id"].to_string(), gp["letter_id"].as_str().unwrap());
    at(&mut w, "2025-03-20T10:00:00Z");
    let queued = fl(&w, &["regenerate", &id]).ok().one()["messages"][0]["id"].as_i64().unwrap();
    let f = ack(&w, 1, "transient-error", letter, &[ack_issue("MSG_Mailbox_Out_Of_Operation", "lukket")]);
    let line = receipt(&w, &f).ok().one();
    assert_eq!(
        (line["result"]["outcome"].clone(), line["result"]["resend_id"].clone()),
        ("resend-queued".into(), queued.into())
    );
    assert_eq!(gp_rows(&w).len(), 2, "no second resend");

    // A resend that cannot be made (here: the stored bytes it is made from are damaged)
    // leaves the answer recorded, the letter failed with why, and exit 1.
    let gp3 = sent(&w, "group-3.json");
    let c = w.db();
    let id3 = gp3["id"].as_i64().unwrap();
    let mut bytes: Vec<u8> =
        c.query_row("SELECT bytes FROM message_bytes WHERE message_id = ?1", [id3], |r| r.get(0)).unwrap();
    let mid = bytes.len() / 2;
    bytes[mid..mid + 4].copy_from_slice(b"XXXX");
    c.execute("UPDATE message_bytes SET bytes = ?2 WHERE message_id = ?1", (id3, bytes)).unwrap();
    let f = ack(
        &w,
        2,
        "transient-error",
        gp3["letter_id"].as_str().unwrap(),
        &[ack_issue("MSG_Mailbox_Out_Of_Operation", "lukket")],
    );
    let r = receipt(&w, &f);
    assert_eq!(r.code, 1, "{}", r.stderr);
    assert_eq!(r.one()["result"]["outcome"], "resend-held");
    assert!(r.stderr.contains("could not be made") && r.stderr.contains("SHA-256"), "{}", r.stderr);
    let m = w.show(&gp3["id"].to_string());
    assert_eq!(m["message"]["status"], "failed");
    assert!(m["message"]["reason"].as_str().unwrap().contains("could not be made"), "{m}");
    assert_eq!(gp_rows(&w).len(), 3, "nothing queued");
    // Nor does `regenerate` resend damaged bytes.
    let regen = fl(&w, &["regenerate", &gp3["id"].to_string()]);
    assert_eq!(regen.code, 1, "{}", regen.stderr);
    assert!(regen.stderr.contains("SHA-256"), "{}", regen.stderr);
}
