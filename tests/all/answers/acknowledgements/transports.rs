//! SMTP and the outbox carry the VANSEnvelope bytes the journal holds, a resend's too.

use super::*;

#[test]
fn smtp_and_outbox_carry_the_envelope_bytes_the_journal_holds() {
    let mut w = World::new();
    let server = SmtpServer::start(&w.path("smtp"));
    let cfg = smtp_config(&w, server.port);
    let cfg = cfg.to_str().unwrap();
    let gp = generated(&w, "group-2a.json");
    let generated_file = std::fs::read(gp["path"].as_str().unwrap()).unwrap();
    w.run(&["send", "--config", cfg]).ok();
    at(&mut w, "2025-03-20T09:45:00Z");
    let f = ack(
        &w,
        1,
        "transient-error",
        gp["letter_id"].as_str().unwrap(),
        &[ack_issue("MSG_Mailbox_Out_Of_Operation", "lukket")],
    );
    let resend = w.run(&["receipt", &f, "--config", cfg]).ok().one()["result"]["resend_id"].to_string();
    w.run(&["send", "--config", cfg]).ok();
    let got = server.attachments();
    assert_eq!(got.len(), 2);
    for ((name, bytes), id) in got.iter().zip([gp["id"].to_string(), resend]) {
        let m = w.show(&id)["message"].clone();
        assert_eq!(name, &format!("carecommunication-{}.xml", m["envelope_id"].as_str().unwrap()));
        assert_eq!(flspost::support::digest::sha256_hex(bytes), m["sha256"], "the attachment is the journal's bytes");
        assert_eq!(fhir_value(&bundle_in_envelope(bytes), "MessageHeader", "id"), gp["letter_id"].as_str().unwrap());
    }
    assert_eq!(got[0].1, generated_file);
    let eml = std::fs::read_to_string(server.dir.join("mail-1.eml")).unwrap();
    assert!(eml.to_ascii_lowercase().contains("content-type: application/xml; charset=utf-8"), "{eml}");

    // The outbox: the file is the journal's bytes too.
    let w2 = World::new();
    let gp = sent(&w2, "group-2a.json");
    let m = w2.show(&gp["id"].to_string())["message"].clone();
    let files = outbox(&w2);
    assert_eq!(files.len(), 1);
    assert_eq!(files[0].0, m["envelope_id"].as_str().unwrap());
    assert_eq!(flspost::support::digest::sha256_hex(&files[0].1), m["sha256"]);
    assert_eq!(files[0].1, std::fs::read(gp["path"].as_str().unwrap()).unwrap());
}
