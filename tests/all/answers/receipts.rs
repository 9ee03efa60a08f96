//! MedCom receipts and regeneration: what support staff do after a letter went out.

use crate::common::*;

#[test]
fn positive_receipt_acknowledges_and_a_duplicate_changes_nothing() {
    let w = World::new();
    let gp = w.sent(&w.outbox_config(), &sample("group-1.json"));
    let (env, letter) = (gp["envelope_id"].as_str().unwrap(), gp["letter_id"].as_str().unwrap());
    let f = w.path("pos.xml");
    std::fs::write(&f, receipt("XCTL03", "R1", env, letter, None)).unwrap();
    let r = w.run(&["receipt", f.to_str().unwrap()]).ok().one();
    assert_eq!(r["result"]["outcome"], "acknowledged");
    assert_eq!(w.show(env)["message"]["status"], "acknowledged");
    let again = w.run(&["receipt", f.to_str().unwrap()]).ok().one();
    assert_eq!(again["result"]["outcome"], "duplicate");
    assert_eq!(w.show(env)["message"]["status"], "acknowledged");
    assert_eq!(w.show(env)["receipts"].as_array().unwrap().len(), 1);
}

#[test]
fn negative_receipt_rejects_with_refuse_code_and_text_and_regenerate_resends() {
    let w = World::new();
    let gp = w.sent(&w.outbox_config(), &sample("group-2b.json"));
    let (env, letter) = (gp["envelope_id"].as_str().unwrap(), gp["letter_id"].as_str().unwrap());
    let f = w.path("neg.xml");
    std::fs::write(
        &f,
        receipt(
            "XCTL02",
            "R2",
            env,
            letter,
            Some(("problem_med_modtagerID", "Ukendt ydernummer hos modtager: ærgerligt")),
        ),
    )
    .unwrap();
    let r = w.run(&["receipt", f.to_str().unwrap()]).ok();
    assert_eq!(r.one()["result"]["outcome"], "rejected");
    assert!(r.stderr.contains("XCTL02"), "{}", r.stderr);
    let m = w.show(env);
    assert_eq!(m["message"]["status"], "rejected");
    assert_eq!(m["message"]["refuse_code"], "problem_med_modtagerID");
    assert!(m["message"]["reason"].as_str().unwrap().contains("ærgerligt"), "{m}");
    let listed = w.run(&["journal", "list", "--status", "rejected"]).ok().stdout;
    assert!(listed.contains("problem_med_modtagerID"), "{listed}");

    // Unchanged resend: same letter, new envelope and time, linked to the original.
    let id = m["message"]["id"].to_string();
    let regen = w.run(&["regenerate", &id]).ok().one();
    let new = &regen["messages"][0];
    assert_eq!(new["letter_id"], letter);
    assert_ne!(new["envelope_id"], env);
    assert_eq!(new["transmission"], 2);
    assert_eq!(new["regenerated_from"].to_string(), id);
    assert_eq!(w.show(&id)["regenerated_as"], new["id"]);
    // A second regeneration of the same message is refused: no duplicates.
    let twice = w.run(&["regenerate", &id]);
    assert_eq!(twice.code, 2);
    assert!(twice.stderr.contains("already regenerated as message"), "{}", twice.stderr);
    // A queued message is not regenerated either.
    let queued = w.run(&["regenerate", &new["id"].to_string()]);
    assert!(queued.stderr.contains("still queued"), "{}", queued.stderr);
}

#[test]
fn regenerate_with_a_corrected_input_sends_a_corrected_letter_linked_to_the_failed_one() {
    let w = World::new();
    let gp = w.sent(&w.outbox_config(), &sample("group-3.json"));
    let (env, letter) = (gp["envelope_id"].as_str().unwrap(), gp["letter_id"].as_str().unwrap());
    let f = w.path("vansneg.xml");
    std::fs::write(
        &f,
        receipt("XCTL01", "R3", env, letter, Some(("ukendt_lokationsnummer", "Lokationsnummer findes ikke"))),
    )
    .unwrap();
    w.run(&["receipt", f.to_str().unwrap()]).ok();
    let mut v = sample_json("group-3.json");
    v["gp"]["ean"] = serde_json::json!("5790000121441");
    let fixed = w.write("fixed.json", &v.to_string());
    let id = gp["id"].to_string();
    // A corrected input for another result is refused.
    let other = w.run(&["regenerate", &id, "--input", sample("group-1.json").to_str().unwrap()]);
    assert_eq!(other.code, 2);
    assert!(other.stderr.contains("is for result FLS-AUH-2025-0001"), "{}", other.stderr);
    let s = w.run(&["regenerate", &id, "--input", fixed.to_str().unwrap()]).ok().one();
    assert_eq!(s["outcome"], "corrected");
    let new_gp = s["messages"].as_array().unwrap().iter().find(|m| m["kind"] == "gp-xdis91").unwrap().clone();
    assert_ne!(new_gp["letter_id"], letter);
    assert_eq!(new_gp["status_code"], "rettetbrev");
    assert_eq!(new_gp["replaces"].to_string(), id);
    assert_eq!(new_gp["regenerated_from"].to_string(), id);
    // The patient's letter does not mention the GP: it is kept, not sent twice.
    let memo = s["messages"].as_array().unwrap().iter().find(|m| m["kind"] == "patient-memo").unwrap();
    assert_eq!(memo["state"], "kept");
}

#[test]
fn unknown_envelopes_and_contradictions_are_reported_not_dropped() {
    let w = World::new();
    let gp = w.sent(&w.outbox_config(), &sample("group-1.json"));
    let (env, letter) = (gp["envelope_id"].as_str().unwrap(), gp["letter_id"].as_str().unwrap());
    let unknown = w.path("unknown.xml");
    std::fs::write(&unknown, receipt("XCTL03", "R4", "NOSUCHENVELOPE", "NOSUCHLETTER", None)).unwrap();
    let r = w.run(&["receipt", unknown.to_str().unwrap()]);
    assert_eq!(r.code, 1);
    assert_eq!(r.one()["result"]["outcome"], "unknown-envelope");
    assert!(r.stderr.contains("NOSUCHENVELOPE"), "{}", r.stderr);

    let pos = w.path("pos.xml");
    std::fs::write(&pos, receipt("XCTL03", "R5", env, letter, None)).unwrap();
    w.run(&["receipt", pos.to_str().unwrap()]).ok();
    let neg = w.path("neg.xml");
    std::fs::write(&neg, receipt("XCTL02", "R6", env, letter, Some(("syntaksfejl", "x")))).unwrap();
    let r = w.run(&["receipt", neg.to_str().unwrap()]);
    assert_eq!(r.code, 1);
    assert_eq!(r.one()["result"]["outcome"], "conflict");
    assert_eq!(w.show(env)["message"]["status"], "acknowledged");

    let bad = w.write(
        "bad.xml",
        "<Emessage xmlns=\"http://rep.oio.dk/sundcom.dk/medcom.dk/xml/schemas/2005/08/07/\"><Envelope/></Emessage>",
    );
    let r = w.run(&["receipt", bad.to_str().unwrap()]);
    assert_eq!(r.code, 1);
    assert!(r.stderr.contains("bad.xml:1:"), "{}", r.stderr);
}

#[test]
fn medcoms_own_receipt_samples_are_read() {
    let Some(reference) = reference() else { return };
    let w = World::new();
    w.generate(&sample("group-1.json")).ok(); // a journal that never sent these
    let pos = reference.join("medcom-oioxml/medcom-carecommunication-examples/Flow2-XCTL03_Ex_from_FHIR_XDIS91.xml");
    let neg = reference.join("medcom-oioxml/os2korrespondance/fixtures/negative_receipt.xml");
    let r = w.run(&["receipt", pos.to_str().unwrap(), neg.to_str().unwrap()]);
    // Both are valid receipts for letters this journal never sent.
    let lines = r.json();
    assert_eq!(lines.len(), 2, "{}", r.stderr);
    assert_eq!(lines[0]["original_envelope_id"], "KuvNrerwerwe99");
    assert_eq!(lines[0]["original_letter_id"], "Brevt23400929");
    assert_eq!(lines[1]["receipt"], "XCTL02");
    assert_eq!(lines[1]["original_envelope_id"], "AVfpQqbopagpQB");
    assert!(lines.iter().all(|l| l["result"]["outcome"] == "unknown-envelope"));
}

#[test]
fn journal_show_masks_the_cpr_unless_asked() {
    let w = World::new();
    w.generate(&sample("group-1.json")).ok();
    let plain = w.run(&["journal", "show", "1"]).ok().stdout;
    assert!(plain.contains("251248-xxxx") && !plain.contains("2512489996"), "{plain}");
    let list = w.run(&["journal", "list"]).ok().stdout;
    assert!(list.contains("251248-xxxx") && !list.contains("2512489996"), "{list}");
    let revealed = w.run(&["journal", "show", "1", "--reveal-cpr"]).ok().stdout;
    assert!(revealed.contains("2512489996"), "{revealed}");
    let since = w.run(&["journal", "list", "--since", "2999-01-01", "--json"]).ok();
    assert!(since.json().is_empty());
    w.generate(&sample("group-3.json")).ok();
    let one = w.run(&["journal", "list", "--result", "FLS-AUH-2025-0004", "--json"]).ok().json();
    assert_eq!(one.len(), 2);
    assert!(one.iter().all(|m| m["result_id"] == "FLS-AUH-2025-0004"));
    let bad = w.run(&["journal", "list", "--status", "lost"]);
    assert_eq!(bad.code, 2);
    assert!(bad.stderr.contains("unknown status `lost`"), "{}", bad.stderr);
}

#[test]
fn a_receipt_for_a_letter_never_handed_over_is_stored_and_reported_and_changes_nothing() {
    let w = World::new();
    let gp = w.generate(&sample("group-2a.json")).ok().one()["messages"][0].clone();
    let (env, letter) = (gp["envelope_id"].as_str().unwrap(), gp["letter_id"].as_str().unwrap());
    let f = w.path("pos.xml");
    std::fs::write(&f, receipt("XCTL03", "R7", env, letter, None)).unwrap();
    let r = w.run(&["receipt", f.to_str().unwrap()]);
    assert_eq!(r.code, 1, "{}", r.stderr);
    assert_eq!(r.one()["result"]["outcome"], "not-sent");
    assert!(r.stderr.contains("not-sent"), "{}", r.stderr);
    let m = w.show(env);
    assert_eq!(m["message"]["status"], "generated");
    assert_eq!(m["receipts"][0]["outcome"], "not-sent", "the receipt is stored: {m}");

    // send still hands the GP letter over.
    let cfg = w.outbox_config();
    w.run_with(&cfg, &["send"]).ok();
    assert!(w.path("vans").join(format!("xdis91-{env}.xml")).is_file());
    assert_eq!(w.show(env)["message"]["status"], "sent");
}

#[test]
fn a_receipt_for_a_superseded_letter_leaves_it_superseded() {
    let w = World::new();
    let gp = w.generate(&sample("group-2b.json")).ok().one()["messages"][0].clone();
    let (env, letter) = (gp["envelope_id"].as_str().unwrap(), gp["letter_id"].as_str().unwrap());
    let mut v = sample_json("group-2b.json");
    v["gp"]["ean"] = serde_json::json!("5790000121441");
    let fixed = w.write("fixed.json", &v.to_string());
    assert_eq!(w.generate(&fixed).ok().one()["outcome"], "corrected");
    assert_eq!(w.show(env)["message"]["status"], "superseded");
    let f = w.path("neg.xml");
    std::fs::write(&f, receipt("XCTL02", "R8", env, letter, Some(("syntaksfejl", "x")))).unwrap();
    let r = w.run(&["receipt", f.to_str().unwrap()]);
    assert_eq!(r.code, 1);
    assert_eq!(r.one()["result"]["outcome"], "not-sent");
    assert_eq!(w.show(env)["message"]["status"], "superseded");
}

#[test]
fn a_receipt_naming_another_letter_in_a_known_envelope_is_a_letter_mismatch() {
    let w = World::new();
    let gp = w.sent(&w.outbox_config(), &sample("group-1.json"));
    let env = gp["envelope_id"].as_str().unwrap();
    let f = w.path("pos.xml");
    std::fs::write(&f, receipt("XCTL03", "R9", env, "NOSUCHLETTER12", None)).unwrap();
    let r = w.run(&["receipt", f.to_str().unwrap()]);
    assert_eq!(r.code, 1);
    assert_eq!(r.one()["result"]["outcome"], "letter-mismatch");
    assert!(r.stderr.contains("letter-mismatch"), "{}", r.stderr);
    assert_eq!(w.show(env)["message"]["status"], "sent");
}

#[test]
fn a_receipt_stored_as_not_sent_is_applied_when_read_again_after_the_letter_is_sent() {
    let w = World::new();
    let gp = w.generate(&sample("group-2a.json")).ok().one()["messages"][0].clone();
    let (env, letter) = (gp["envelope_id"].as_str().unwrap(), gp["letter_id"].as_str().unwrap());
    let f = w.path("pos.xml");
    std::fs::write(&f, receipt("XCTL03", "R10", env, letter, None)).unwrap();
    assert_eq!(w.run(&["receipt", f.to_str().unwrap()]).one()["result"]["outcome"], "not-sent");
    // Read again before the letter is sent: still not-sent (exit 1), not a duplicate.
    let r = w.run(&["receipt", f.to_str().unwrap()]);
    assert_eq!((r.code, r.one()["result"]["outcome"].clone()), (1, "not-sent".into()), "{}", r.stderr);
    let cfg = w.outbox_config();
    w.run_with(&cfg, &["send"]).ok();
    let r = w.run(&["receipt", f.to_str().unwrap()]).ok();
    assert_eq!(r.one()["result"]["outcome"], "acknowledged");
    let m = w.show(env);
    assert_eq!(m["message"]["status"], "acknowledged");
    let receipts = m["receipts"].as_array().unwrap();
    assert_eq!(receipts.len(), 1, "{m}");
    assert_eq!(receipts[0]["outcome"], "acknowledged", "{m}");
    // Applied now: a further reading is a duplicate.
    assert_eq!(w.run(&["receipt", f.to_str().unwrap()]).ok().one()["result"]["outcome"], "duplicate");
}

#[test]
fn a_receipt_reusing_an_earlier_receipt_s_envelope_with_another_type_is_reported() {
    let w = World::new();
    let gp = w.sent(&w.outbox_config(), &sample("group-1.json"));
    let (env, letter) = (gp["envelope_id"].as_str().unwrap(), gp["letter_id"].as_str().unwrap());
    let pos = w.path("pos.xml");
    std::fs::write(&pos, receipt("XCTL03", "R11", env, letter, None)).unwrap();
    w.run(&["receipt", pos.to_str().unwrap()]).ok();
    let neg = w.path("neg.xml");
    std::fs::write(&neg, receipt("XCTL02", "R11", env, letter, Some(("syntaksfejl", "x")))).unwrap();
    let r = w.run(&["receipt", neg.to_str().unwrap()]);
    assert_eq!(r.code, 1, "{}", r.stdout);
    assert_eq!(r.one()["result"]["outcome"], "envelope-reused", "{}", r.stdout);
    assert!(r.stderr.contains("KR11") && r.stderr.contains("XCTL03"), "{}", r.stderr);
    assert_eq!(w.show(env)["message"]["status"], "acknowledged");
}

#[test]
fn a_late_positive_receipt_cancels_the_queued_resend_of_that_letter() {
    let w = World::new();
    let gp = w.sent(&w.outbox_config(), &sample("group-1.json"));
    let (env, letter) = (gp["envelope_id"].as_str().unwrap(), gp["letter_id"].as_str().unwrap());
    let regen = w.run(&["regenerate", "1"]).ok().one();
    let copy = regen["messages"][0]["id"].as_i64().unwrap().to_string();
    assert_eq!(w.show(&copy)["message"]["status"], "generated");
    let f = w.path("pos.xml");
    std::fs::write(&f, receipt("XCTL03", "R12", env, letter, None)).unwrap();
    assert_eq!(w.run(&["receipt", f.to_str().unwrap()]).ok().one()["result"]["outcome"], "acknowledged");
    let m = w.show(&copy);
    assert_eq!(m["message"]["status"], "superseded", "{m}");
    assert!(m["message"]["reason"].as_str().unwrap().contains("acknowledged"), "{m}");
    let cfg = w.outbox_config();
    w.run_with(&cfg, &["send"]).ok();
    assert_eq!(tree(&w.path("vans")).len(), 1, "the GP got the letter twice");
}

/// The GP's letters over SMTP to 127.0.0.1:`port`, the patient's to an outbox.
fn smtp_config(w: &World, port: u16) -> std::path::PathBuf {
    w.config("smtp.toml", &ConfigOf { gp: Some(Transport::Smtp { port, timeout_seconds: 5 }), ..ConfigOf::outboxes() })
}

#[test]
fn a_receipt_for_a_letter_the_transport_refused_is_not_sent_and_leaves_it_failed() {
    let w = World::new();
    let gp = w.generate(&sample("group-1.json")).ok().one()["messages"][0].clone();
    let (env, letter) = (gp["envelope_id"].as_str().unwrap(), gp["letter_id"].as_str().unwrap());
    let server = SmtpServer::start(&w.path("smtp"));
    server.set_mode("permfail");
    let cfg = smtp_config(&w, server.port);
    let r = w.run_with(&cfg, &["send"]);
    assert_eq!(r.code, 1, "{}", r.stderr);
    assert_eq!(w.show(env)["message"]["status"], "failed");
    assert_eq!(server.mails(), 0, "the letter never left");
    // A receipt, positive or negative, cannot answer it: stored, not applied.
    for (kind, own, refuse) in [("XCTL03", "R13", None), ("XCTL02", "R14", Some(("syntaksfejl", "x")))] {
        let f = w.path(&format!("{own}.xml"));
        std::fs::write(&f, receipt(kind, own, env, letter, refuse)).unwrap();
        let r = w.run(&["receipt", f.to_str().unwrap()]);
        assert_eq!(r.code, 1, "{kind}: {}", r.stderr);
        assert_eq!(r.one()["result"]["outcome"], "not-sent", "{kind}: {}", r.stdout);
        assert!(r.stderr.contains("never handed over (it is failed)"), "{kind}: {}", r.stderr);
        let m = w.show(env);
        assert_eq!(m["message"]["status"], "failed", "{kind}: {m}");
    }
    let receipts = w.show(env)["receipts"].clone();
    assert_eq!(receipts.as_array().unwrap().len(), 2, "both stored: {receipts}");
    let failed = w.run(&["journal", "list", "--status", "failed", "--json"]).ok().json();
    assert!(failed.iter().any(|m| m["envelope_id"] == env), "still for support to look at: {failed:?}");
}

#[test]
fn a_receipt_for_a_letter_refused_for_now_is_not_sent_until_a_send_succeeds() {
    let w = World::new();
    let gp = w.generate(&sample("group-1.json")).ok().one()["messages"][0].clone();
    let (env, letter) = (gp["envelope_id"].as_str().unwrap(), gp["letter_id"].as_str().unwrap());
    let server = SmtpServer::start(&w.path("smtp"));
    server.set_mode("tempfail");
    let cfg = smtp_config(&w, server.port);
    w.run_with(&cfg, &["send"]);
    assert_eq!(w.show(env)["message"]["status"], "retry");
    let f = w.path("pos.xml");
    std::fs::write(&f, receipt("XCTL03", "R15", env, letter, None)).unwrap();
    let r = w.run(&["receipt", f.to_str().unwrap()]);
    assert_eq!((r.code, r.one()["result"]["outcome"].clone()), (1, "not-sent".into()), "{}", r.stderr);
    assert_eq!(w.show(env)["message"]["status"], "retry");
    // Handed over at the next send: the stored receipt, read again, answers it.
    server.set_mode("accept");
    w.run_with(&cfg, &["send"]).ok();
    assert_eq!(w.show(env)["message"]["status"], "sent");
    assert_eq!(w.run(&["receipt", f.to_str().unwrap()]).ok().one()["result"]["outcome"], "acknowledged");
    assert_eq!(w.show(env)["message"]["status"], "acknowledged");
}

/// A hand-over that timed out after the gateway stored the mail has an unknown outcome: it
/// is retried with the same envelope, and a receipt for it applies (issue 17, item 8).
#[test]
fn a_receipt_for_a_hand_over_whose_outcome_is_unknown_applies() {
    let w = World::new();
    let gp = w.generate(&sample("group-1.json")).ok().one()["messages"][0].clone();
    let (env, letter) = (gp["envelope_id"].as_str().unwrap(), gp["letter_id"].as_str().unwrap());
    let server = SmtpServer::start(&w.path("smtp"));
    // Stored at once, answered after the client's one-second deadline.
    server.set_mode("slow:4");
    let slow = ConfigOf { gp: Some(Transport::Smtp { port: server.port, timeout_seconds: 1 }), ..ConfigOf::default() };
    let cfg = w.config("slow.toml", &slow);
    let r = w.run_with(&cfg, &["send"]);
    assert_eq!(r.code, 1, "{}", r.stderr);
    assert_eq!(server.mails(), 1, "the gateway has it");
    let m = w.show(env);
    assert_eq!(m["message"]["status"], "retry", "{m}");
    assert_eq!(m["attempts"][0]["outcome"], "unknown", "{m}");
    let f = w.path("pos.xml");
    std::fs::write(&f, receipt("XCTL03", "R21", env, letter, None)).unwrap();
    let r = w.run(&["receipt", f.to_str().unwrap()]);
    assert_eq!(r.code, 0, "{}\n{}", r.stdout, r.stderr);
    assert_eq!(w.show(env)["message"]["status"], "acknowledged");
}

/// Runs `args` while another process records message `id` acknowledged (a positive
/// receipt's effect) after the command has read and decided ([`World::changed_meanwhile`]).
fn acknowledged_meanwhile(w: &World, id: i64, args: &[&str]) -> Run {
    w.changed_meanwhile("UPDATE messages SET status = 'acknowledged' WHERE id = ?1", id, || w.run(args))
}

/// `regenerate` decides on what it read, then records under the write lock: an answer
/// recorded by another process in between (here a positive receipt's effect, while another
/// client holds the lock) makes it record nothing, exit 1 (issue 17, item 3).
#[test]
fn an_answer_recorded_while_regenerate_decides_stops_the_resend() {
    let w = World::new();
    let gp = w.sent(&w.outbox_config(), &sample("group-1.json"));
    let id = gp["id"].as_i64().unwrap();
    let r = acknowledged_meanwhile(&w, id, &["regenerate", &id.to_string()]);
    assert_eq!(r.code, 1, "{}\n{}", r.stdout, r.stderr);
    assert!(r.stderr.contains("changed while it was being regenerated"), "{}", r.stderr);
    assert_eq!(r.one()["error"]["code"], "conflict", "{}", r.stdout);
    let all = w.run(&["journal", "list", "--json"]).ok().json();
    assert_eq!(all.iter().filter(|m| m["kind"] == "gp-xdis91").count(), 1, "a resend was recorded: {all:?}");
}

/// `regenerate --input` with the stored input changes nothing: for an acknowledged letter
/// nothing is sent (issue 17, item 7).
#[test]
fn regenerate_with_an_unchanged_input_sends_nothing_for_an_acknowledged_letter() {
    let w = World::new();
    let cfg = w.outbox_config();
    let gp = w.sent(&cfg, &sample("group-1.json"));
    let (env, letter) = (gp["envelope_id"].as_str().unwrap(), gp["letter_id"].as_str().unwrap());
    let f = w.path("pos.xml");
    std::fs::write(&f, receipt("XCTL03", "R31", env, letter, None)).unwrap();
    w.run(&["receipt", f.to_str().unwrap()]).ok();
    let r = w.run(&["regenerate", env, "--input", sample("group-1.json").to_str().unwrap()]);
    assert_eq!(r.code, 2, "{}\n{}", r.stdout, r.stderr);
    assert!(r.stderr.contains("nothing to correct"), "{}", r.stderr);
    let all = w.run(&["journal", "list", "--json"]).ok().json();
    assert_eq!(all.len(), 2, "nothing new was recorded: {all:?}");
    assert!(w.run_with(&cfg, &["send"]).ok().stderr.contains("nothing to send"));
}

/// A resend that was not recorded (an answer came meanwhile) does not stay in the output
/// folder as the letter's file: the folder gets the journal's back.
#[test]
fn a_resend_that_was_not_recorded_leaves_the_output_folder_as_the_journal_has_it() {
    let w = World::new();
    let gp = w.generate(&sample("group-1.json")).ok().one()["messages"][0].clone();
    let id = gp["id"].as_i64().unwrap();
    let file = std::path::PathBuf::from(gp["path"].as_str().unwrap());
    let before = std::fs::read(&file).unwrap();
    let cfg = w.outbox_config();
    w.run_with(&cfg, &["send"]).ok();
    let r = acknowledged_meanwhile(&w, id, &["regenerate", &id.to_string(), "--out-dir", w.out().to_str().unwrap()]);
    assert_eq!(r.code, 1, "{}\n{}", r.stdout, r.stderr);
    let now = flspost::support::digest::sha256_hex(&std::fs::read(&file).unwrap());
    assert_eq!(now, flspost::support::digest::sha256_hex(&before), "the unrecorded resend is in the output folder");
}
