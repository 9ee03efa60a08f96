//! Which transmission an answer answers: late ones, resends gone or queued, refused, corrected or never-sent letters.

use super::*;

#[test]
fn an_acknowledgement_for_a_letter_never_handed_over_is_stored_and_applied_once_it_is() {
    let w = World::new();
    let gp = generated(&w, "group-2a.json");
    let (id, letter) = (gp["id"].to_string(), gp["letter_id"].as_str().unwrap());
    let f = ack(&w, 1, "ok", letter, &[]);
    let r = receipt(&w, &f);
    assert_eq!(r.code, 1, "{}", r.stderr);
    assert_eq!(r.one()["result"]["outcome"], "not-sent");
    assert!(r.stderr.contains("never handed over"), "{}", r.stderr);
    let m = w.show(&id);
    assert_eq!(m["message"]["status"], "generated");
    assert_eq!(m["receipts"][0]["outcome"], "not-sent", "stored: {m}");
    fl(&w, &["send"]).ok();
    assert_eq!(status(&w, &id), "sent", "send still hands it over");
    assert_eq!(receipt(&w, &f).ok().one()["result"]["outcome"], "acknowledged");
    assert_eq!(status(&w, &id), "acknowledged");
    assert_eq!(w.show(&id)["receipts"].as_array().unwrap().len(), 1);
    assert_eq!(receipt(&w, &f).ok().one()["result"]["outcome"], "duplicate");
}

#[test]
fn a_transmission_the_transport_refused_or_a_correction_superseded_is_not_what_an_answer_answers() {
    let w = World::new();
    let server = SmtpServer::start(&w.path("smtp"));
    let cfg = smtp_config(&w, server.port);
    let cfg = cfg.to_str().unwrap();
    // Refused by the mail server (5xx): it never left, so nothing can answer it.
    server.set_mode("permfail");
    let gp = generated(&w, "group-2a.json");
    w.run(&["send", "--config", cfg]);
    assert_eq!(status(&w, &gp["id"].to_string()), "failed");
    let f = ack(&w, 1, "ok", gp["letter_id"].as_str().unwrap(), &[]);
    let r = w.run(&["receipt", &f, "--config", cfg]);
    assert_eq!((r.code, r.one()["result"]["outcome"].clone()), (1, "not-sent".into()), "{}", r.stderr);
    assert_eq!(status(&w, &gp["id"].to_string()), "failed");

    // Handed over once (451: it may come again), then replaced by a correction: a late answer
    // to it leaves it superseded.
    server.set_mode("tempfail");
    let old = generated(&w, "group-3.json");
    w.run(&["send", "--config", cfg]);
    assert_eq!(status(&w, &old["id"].to_string()), "retry");
    let mut v = sample_json("group-3.json");
    v["scan"]["t_score_hip"] = serde_json::json!(-2.9);
    let fixed = w.write("fixed3.json", &v.to_string());
    assert_eq!(fl(&w, &["generate", fixed.to_str().unwrap()]).ok().one()["outcome"], "corrected");
    assert_eq!(status(&w, &old["id"].to_string()), "superseded");
    let f = ack(&w, 2, "ok", old["letter_id"].as_str().unwrap(), &[]);
    let r = w.run(&["receipt", &f, "--config", cfg]);
    assert_eq!((r.code, r.one()["result"]["outcome"].clone()), (1, "not-sent".into()), "{}", r.stderr);
    assert_eq!(status(&w, &old["id"].to_string()), "superseded");
}

#[test]
fn a_late_answer_for_an_earlier_transmission_answers_that_one_and_the_resends_answer_stays_pending() {
    let mut w = World::new();
    let gp = sent(&w, "group-2a.json");
    let (first, letter) = (gp["id"].as_i64().unwrap(), gp["letter_id"].as_str().unwrap());
    let (sent1, sent2) = ("2025-03-20T10:30:00+01:00", "2025-03-20T10:45:00+01:00");
    let lukket = [ack_issue("MSG_Mailbox_Out_Of_Operation", "lukket")];
    at(&mut w, "2025-03-20T09:45:00Z");
    let line = receipt(&w, &ack_of(&w, 1, "transient-error", letter, sent1, &lukket)).ok().one();
    let second = line["result"]["resend_id"].as_i64().unwrap();
    fl(&w, &["send"]).ok();
    assert_eq!(status(&w, &second.to_string()), "sent");

    // The receiver's ok for transmission 1 comes late: it answers 1, not the resend.
    at(&mut w, "2025-03-20T10:00:00Z");
    let line = receipt(&w, &ack_of(&w, 2, "ok", letter, sent1, &[])).ok().one();
    assert_eq!(outcome_of(&line), ("acknowledged".into(), first.into()), "{line}");
    assert_eq!(line["original_envelope_id"], gp["envelope_id"]);
    assert_eq!(status(&w, &first.to_string()), "acknowledged");
    assert_eq!(status(&w, &second.to_string()), "sent", "its own answer is still pending");
    // The letter is delivered: not waiting for an answer, and not resent.
    at(&mut w, "2025-03-20T10:30:00Z");
    assert!(w.run(&["journal", "list", "--unanswered", "--json"]).ok().json().is_empty());
    let regen = fl(&w, &["regenerate", &second.to_string()]);
    assert_eq!(regen.code, 2, "{}", regen.stderr);
    assert!(regen.stderr.contains(&format!("acknowledged (message {first}")), "{}", regen.stderr);

    // The resend's own answers apply to it: a transient-error needs no resend of a delivered
    // letter, and the ok that follows is how it went after all.
    let r = receipt(&w, &ack_of(&w, 3, "transient-error", letter, sent2, &lukket)).ok();
    let line = r.one();
    assert_eq!(outcome_of(&line), ("resend-not-needed".into(), second.into()), "{line}");
    assert!(line["result"]["reason"].as_str().unwrap().contains("delivered"), "{line}");
    assert!(r.stderr.contains("no resend is needed"), "{}", r.stderr);
    assert_eq!(gp_rows(&w).len(), 2, "no third transmission");
    assert_eq!(status(&w, &second.to_string()), "failed");
    let line = receipt(&w, &ack_of(&w, 4, "ok", letter, sent2, &[])).ok().one();
    assert_eq!(outcome_of(&line), ("acknowledged".into(), second.into()));
    assert_eq!(status(&w, &first.to_string()), "acknowledged");
}

#[test]
fn a_late_transient_error_for_a_transmission_already_resent_queues_nothing() {
    let mut w = World::new();
    let gp = sent(&w, "group-2a.json");
    let (first, letter) = (gp["id"].as_i64().unwrap(), gp["letter_id"].as_str().unwrap());
    // Unanswered for 30 minutes: resent, and the resend handed over.
    at(&mut w, "2025-03-20T10:00:00Z");
    let second = fl(&w, &["regenerate", letter]).ok().one()["messages"][0].clone();
    fl(&w, &["send"]).ok();
    // Then the first transmission's transient-error: its resend went already.
    let lukket = [ack_issue("MSG_Mailbox_Out_Of_Operation", "lukket")];
    let r = receipt(&w, &ack_of(&w, 1, "transient-error", letter, "2025-03-20T10:30:00+01:00", &lukket));
    assert_eq!(r.code, 0, "{}", r.stderr);
    let line = r.one();
    assert_eq!(outcome_of(&line), ("resend-not-needed".into(), first.into()), "{line}");
    assert_eq!(gp_rows(&w).len(), 2, "no third transmission");
    assert_eq!(status(&w, &first.to_string()), "failed");
    assert_eq!(status(&w, &second["id"].to_string()), "sent");
    // A copy whose time is no transmission's answers the newest handed over.
    let line = receipt(&w, &ack_of(&w, 2, "ok", letter, "2025-03-20T09:00:00Z", &[])).ok().one();
    assert_eq!(line["result"]["message_id"], second["id"], "{line}");
    assert_eq!(status(&w, &second["id"].to_string()), "acknowledged");
    // The same instant in another offset is that transmission's: the first one's
    // transient-error again (in UTC) is the answer it has, not a contradiction of the second's.
    let line = receipt(&w, &ack_of(&w, 3, "transient-error", letter, "2025-03-20T09:30:00Z", &lukket)).ok().one();
    assert_eq!(outcome_of(&line), ("unchanged".into(), first.into()), "{line}");
}

#[test]
fn a_letter_refused_on_any_transmission_is_neither_unanswered_nor_resent() {
    let mut w = World::new();
    let gp = sent(&w, "group-2a.json");
    let (first, letter) = (gp["id"].as_i64().unwrap(), gp["letter_id"].as_str().unwrap());
    // Unanswered for 30 minutes: resent, and the resend handed over.
    at(&mut w, "2025-03-20T10:00:00Z");
    let second = fl(&w, &["regenerate", letter]).ok().one()["messages"][0]["id"].as_i64().unwrap();
    fl(&w, &["send"]).ok();
    // The first transmission's answer comes late: refused.
    let unknown = [ack_issue("MSG_VALUESET_VALUE_UNKNOWN", "Ukendt kode")];
    let line = receipt(&w, &ack_of(&w, 1, "fatal-error", letter, "2025-03-20T10:30:00+01:00", &unknown)).ok().one();
    assert_eq!(outcome_of(&line), ("rejected".into(), first.into()));
    // The letter is refused: the second transmission waits for nothing a resend could give.
    at(&mut w, "2025-03-20T10:31:00Z");
    assert!(w.run(&["journal", "list", "--unanswered", "--json"]).ok().json().is_empty());
    let regen = fl(&w, &["regenerate", &second.to_string()]);
    assert_eq!(regen.code, 2, "{}", regen.stderr);
    assert!(regen.stderr.contains(&format!("refused with fatal-error (message {first}")), "{}", regen.stderr);
    assert_eq!(gp_rows(&w).len(), 2, "no third transmission");
    // Nor does a transient-error for the second transmission queue one.
    let lukket = [ack_issue("MSG_Mailbox_Out_Of_Operation", "lukket")];
    let line = receipt(&w, &ack_of(&w, 2, "transient-error", letter, "2025-03-20T11:00:00+01:00", &lukket)).ok().one();
    assert_eq!(outcome_of(&line), ("resend-not-needed".into(), second.into()), "{line}");
    assert!(line["result"]["reason"].as_str().unwrap().contains("refused"), "{line}");
    assert_eq!(gp_rows(&w).len(), 2, "no third transmission");
    assert_eq!(status(&w, &first.to_string()), "rejected");
}

#[test]
fn a_letter_a_correction_replaced_is_neither_unanswered_nor_resent_by_a_transient_error() {
    let mut w = World::new();
    let gp = sent(&w, "group-2a.json");
    let (old, letter) = (gp["id"].as_i64().unwrap(), gp["letter_id"].as_str().unwrap());
    // A corrected input: a new letter replaces the one sent, and goes too.
    let mut v = sample_json("group-2a.json");
    v["scan"]["t_score_hip"] = serde_json::json!(-2.9);
    let fixed = w.write("fixed.json", &v.to_string());
    fl(&w, &["generate", fixed.to_str().unwrap()]).ok();
    fl(&w, &["send"]).ok();
    let rows = gp_rows(&w);
    assert_eq!(rows.len(), 2, "{rows:?}");
    let correction = rows[1].0;
    assert_eq!(w.show(&correction.to_string())["message"]["replaces"], old);
    // Past 30 minutes only the correction waits for its answer.
    at(&mut w, "2025-03-20T10:10:00Z");
    let waiting: Vec<i64> = w
        .run(&["journal", "list", "--unanswered", "--json"])
        .ok()
        .json()
        .into_iter()
        .map(|m| m["id"].as_i64().unwrap())
        .collect();
    assert_eq!(waiting, [correction]);
    // A transient-error for the old letter: the uncorrected letter is not sent again.
    let lukket = [ack_issue("MSG_Mailbox_Out_Of_Operation", "lukket")];
    let r = receipt(&w, &ack(&w, 1, "transient-error", letter, &lukket));
    assert_eq!(r.code, 0, "{}", r.stderr);
    let line = r.one();
    assert_eq!(outcome_of(&line), ("resend-not-needed".into(), old.into()), "{line}");
    assert!(line["result"]["reason"].as_str().unwrap().contains(&format!("message {correction}")), "{line}");
    assert_eq!(gp_rows(&w).len(), 2, "nothing queued");
    assert_eq!(status(&w, &old.to_string()), "failed");
}

#[test]
fn transmissions_the_transport_refused_count_neither_towards_the_resend_limit_nor_as_answered() {
    let mut w = World::new();
    let server = SmtpServer::start(&w.path("smtp"));
    let cfg = smtp_config(&w, server.port);
    let cfg = w.write("smtp1.toml", &format!("{}\n[send]\nmax_attempts = 1\n", std::fs::read_to_string(&cfg).unwrap()));
    let cfg = cfg.to_str().unwrap();
    let gp = generated(&w, "group-2a.json");
    let (first, letter) = (gp["id"].as_i64().unwrap(), gp["letter_id"].as_str().unwrap());
    w.run(&["send", "--config", cfg]).ok();
    assert_eq!(server.mails(), 1);
    // The receiver asks for a resend, but the mail server refuses it for now (451).
    server.set_mode("tempfail");
    at(&mut w, "2025-03-20T09:45:00Z");
    let lukket = [ack_issue("MSG_Mailbox_Out_Of_Operation", "lukket")];
    let line = w.run(&["receipt", &ack(&w, 1, "transient-error", letter, &lukket), "--config", cfg]).ok().one();
    let second = line["result"]["resend_id"].as_i64().unwrap();
    w.run(&["send", "--config", cfg]);
    assert_eq!(status(&w, &second.to_string()), "failed", "{:?}", gp_rows(&w));
    // It never left: an answer whose copy names no transmission is the first one's.
    let line = w.run(&[
        "receipt",
        &ack_of(&w, 2, "transient-error", letter, "2025-03-20T09:00:00Z", &lukket),
        "--config",
        cfg,
    ]);
    let line = line.one();
    assert_eq!(line["result"]["message_id"], first, "{line}");
    // Regenerated twice more, refused by the transport each time: one mail went, so MedCom's
    // limit of two resends is not reached.
    at(&mut w, "2025-03-20T10:30:00Z");
    let third = w.run(&["regenerate", &second.to_string(), "--config", cfg]).ok().one()["messages"][0]["id"].clone();
    w.run(&["send", "--config", cfg]);
    assert_eq!(status(&w, &third.to_string()), "failed");
    let fourth = w.run(&["regenerate", &third.to_string(), "--config", cfg]);
    assert_eq!(fourth.code, 0, "{}", fourth.stderr);
    server.set_mode("ok");
    w.run(&["send", "--config", cfg]).ok();
    assert_eq!(server.mails(), 2);
    assert_eq!(gp_rows(&w).len(), 4);
}

#[test]
fn a_late_transient_error_when_a_later_resend_is_queued_or_went_needs_no_resend_and_no_person() {
    let mut w = World::new();
    let gp = sent(&w, "group-2a.json");
    let (first, letter) = (gp["id"].as_i64().unwrap(), gp["letter_id"].as_str().unwrap());
    let lukket = [ack_issue("MSG_Mailbox_Out_Of_Operation", "lukket")];
    // Transmission 2 (regenerated after 30 minutes) went, and its transient-error queued 3.
    at(&mut w, "2025-03-20T10:00:00Z");
    let second = fl(&w, &["regenerate", letter]).ok().one()["messages"][0]["id"].as_i64().unwrap();
    fl(&w, &["send"]).ok();
    at(&mut w, "2025-03-20T10:05:00Z");
    let line = receipt(&w, &ack_of(&w, 1, "transient-error", letter, "2025-03-20T11:00:00+01:00", &lukket)).ok().one();
    assert_eq!(line["result"]["message_id"], second, "{line}");
    let third = line["result"]["resend_id"].as_i64().unwrap();
    // Then transmission 1's transient-error, late: transmission 3 is queued.
    let r = receipt(&w, &ack_of(&w, 2, "transient-error", letter, "2025-03-20T10:30:00+01:00", &lukket));
    assert_eq!(r.code, 0, "{}", r.stderr);
    let line = r.one();
    assert_eq!(outcome_of(&line), ("resend-not-needed".into(), first.into()), "{line}");
    assert!(line["result"]["reason"].as_str().unwrap().contains(&format!("message {third}")), "{line}");
    assert_eq!(gp_rows(&w).len(), 3, "no fourth transmission");
    assert_eq!(status(&w, &first.to_string()), "failed");
    assert_eq!(status(&w, &third.to_string()), "generated");
}
