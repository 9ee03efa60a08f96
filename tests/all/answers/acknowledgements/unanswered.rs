//! `journal list --unanswered` finds GP letters waiting past MedCom's 30 minutes; `regenerate` resends at most twice.

use super::*;

#[test]
fn journal_list_unanswered_shows_gp_letters_waiting_30_minutes_or_more() {
    let mut w = World::new();
    // An XDIS91 letter (no receiver table) and a CareCommunication, both handed over at 09:30.
    let xdis = w.generate(&sample("group-1.json")).ok().one()["messages"][0].clone();
    assert_eq!(xdis["kind"], "gp-xdis91");
    let cc = sent(&w, "group-2a.json");
    let ids = |r: Run| r.json().iter().map(|m| m["id"].as_i64().unwrap()).collect::<Vec<_>>();
    at(&mut w, "2025-03-20T09:59:59Z");
    assert!(ids(w.run(&["journal", "list", "--unanswered", "--json"]).ok()).is_empty());
    at(&mut w, "2025-03-20T10:00:00Z");
    let r = w.run(&["journal", "list", "--unanswered", "--json"]).ok();
    let rows = r.json();
    assert_eq!(ids(r), [xdis["id"].as_i64().unwrap(), cc["id"].as_i64().unwrap()], "patient letters are not listed");
    assert_eq!(rows[1]["handed_over_at"], "2025-03-20T09:30:00.000Z");
    assert_eq!(rows[1]["waiting_minutes"], 30);
    assert_eq!(rows[1]["cpr_masked"], "021122-xxxx");
    let text = w.run(&["journal", "list", "--unanswered"]).ok().stdout;
    assert_eq!(text.lines().count(), 3, "{text}");
    assert!(text.contains("HANDED OVER") && text.contains("30 min") && !text.contains("0211223989"), "{text}");
    assert!(ids(w.run(&["journal", "list", "--unanswered=45", "--json"]).ok()).is_empty());
    assert_eq!(
        ids(w.run(&["journal", "list", "--unanswered=30", "--result", "FLS-AUH-2025-0002", "--json"]).ok()).len(),
        1
    );

    // Answered letters leave the list: an Acknowledgement for the one, an XCTL03 for the other.
    let f = ack(&w, 1, "ok", cc["letter_id"].as_str().unwrap(), &[]);
    receipt(&w, &f).ok();
    assert_eq!(ids(w.run(&["journal", "list", "--unanswered", "--json"]).ok()), [xdis["id"].as_i64().unwrap()]);
    let x = w.path("xctl03.xml");
    std::fs::write(
        &x,
        common::receipt(
            "XCTL03",
            "R1",
            xdis["envelope_id"].as_str().unwrap(),
            xdis["letter_id"].as_str().unwrap(),
            None,
        ),
    )
    .unwrap();
    w.run(&["receipt", x.to_str().unwrap()]).ok();
    assert!(ids(w.run(&["journal", "list", "--unanswered", "--json"]).ok()).is_empty());

    let both = w.run(&["journal", "list", "--unanswered", "--status", "sent"]);
    assert_eq!(both.code, 2, "{}", both.stderr);
}

#[test]
fn regenerate_resends_an_unanswered_carecommunication_only_after_30_minutes_and_at_most_twice() {
    let mut w = World::new();
    let gp = sent(&w, "group-2a.json");
    let (id, letter, env) =
        (gp["id"].to_string(), gp["letter_id"].as_str().unwrap(), gp["envelope_id"].as_str().unwrap());
    at(&mut w, "2025-03-20T09:59:00Z");
    let early = fl(&w, &["regenerate", &id]);
    assert_eq!(early.code, 2, "{}", early.stderr);
    assert!(
        early.stderr.contains("within 30 minutes: from 2025-03-20 11:00:00 CET"),
        "says when MedCom allows it: {}",
        early.stderr
    );
    assert_eq!(gp_rows(&w).len(), 1);

    at(&mut w, "2025-03-20T10:00:00Z");
    assert_eq!(w.run(&["journal", "list", "--unanswered", "--json"]).ok().json().len(), 1);
    let second = fl(&w, &["regenerate", &id]).ok().one()["messages"][0].clone();
    assert_eq!((second["letter_id"].as_str(), second["transmission"].as_i64()), (Some(letter), Some(2)));
    assert!(
        w.run(&["journal", "list", "--unanswered", "--json"]).ok().json().is_empty(),
        "its resend is what waits now"
    );
    fl(&w, &["send"]).ok();
    let bytes = &outbox(&w).into_iter().find(|(e, _)| e == second["envelope_id"].as_str().unwrap()).unwrap().1;
    let bundle = bundle_in_envelope(bytes);
    assert_eq!(fhir_value(&bundle, "MessageHeader", "id"), letter, "same MessageHeader.id");
    let new_bundle_id = fhir_value(&bundle, "Bundle", "id");
    assert_eq!(new_bundle_id, second["envelope_id"].as_str().unwrap());
    assert_ne!(new_bundle_id, env, "new Bundle.id");

    at(&mut w, "2025-03-20T10:30:00Z");
    let third = fl(&w, &["regenerate", &second["id"].to_string()]).ok().one()["messages"][0].clone();
    fl(&w, &["send"]).ok();
    at(&mut w, "2025-03-20T11:30:00Z");
    let fourth = fl(&w, &["regenerate", &third["id"].to_string()]);
    assert_eq!(fourth.code, 2, "{}", fourth.stderr);
    assert!(fourth.stderr.contains("sent 3 times") && fourth.stderr.contains("allows 2 resends"), "{}", fourth.stderr);
    assert_eq!(gp_rows(&w).len(), 3);
}
