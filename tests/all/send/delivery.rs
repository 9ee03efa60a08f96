//! `flspost send` to an outbox and to a real SMTP server (aiosmtpd on 127.0.0.1): the bytes
//! that arrive, and what happens when the server is down, busy (4xx) or refuses (5xx).

use crate::common::*;

fn smtp_config(w: &World, port: u16, max_attempts: u32) -> std::path::PathBuf {
    let dp = w.path("digitalpost").display().to_string();
    let c = ConfigOf {
        max_attempts: Some(max_attempts),
        gp: Some(Transport::Smtp { port, timeout_seconds: 5 }),
        patient: Some(Transport::Outbox(&dp)),
        ..ConfigOf::default()
    };
    w.config("smtp.toml", &c)
}

/// Waits (20 s at most) until the server has stored a mail: the hand-over is under way.
fn first_mail(server: &SmtpServer) {
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(20);
    while server.mails() == 0 {
        assert!(std::time::Instant::now() < deadline, "no mail reached the server");
        std::thread::sleep(std::time::Duration::from_millis(10));
    }
}

fn statuses(w: &World) -> Vec<(i64, String, String, Option<String>)> {
    let mut v: Vec<_> = w
        .run(&["journal", "list", "--json"])
        .ok()
        .json()
        .into_iter()
        .map(|m| {
            (
                m["id"].as_i64().unwrap(),
                m["kind"].as_str().unwrap().to_string(),
                m["status"].as_str().unwrap().to_string(),
                m["reason"].as_str().map(String::from),
            )
        })
        .collect();
    v.sort();
    v
}

#[test]
fn outbox_files_appear_once_with_the_journal_bytes() {
    let w = World::new();
    for s in SAMPLES {
        w.generate(&sample(s)).ok();
    }
    let cfg = w.outbox_config();
    let r = w.run_with(&cfg, &["send"]).ok();
    assert_eq!(r.json().len(), 8);
    assert!(r.stderr.contains("8 sent"), "{}", r.stderr);
    let vans = tree(&w.path("vans"));
    let dp = tree(&w.path("dp"));
    assert_eq!((vans.len(), dp.len()), (4, 4));
    for (name, bytes) in &vans {
        let env = name.strip_prefix("xdis91-").unwrap().strip_suffix(".xml").unwrap();
        let m = w.show(env);
        assert_eq!(m["message"]["sha256"], flspost::support::digest::sha256_hex(bytes));
        assert_eq!(m["message"]["status"], "sent");
        assert_eq!(m["attempts"].as_array().unwrap().len(), 1);
    }
    for (name, _) in &dp {
        assert!(name.starts_with("memo-") && name.ends_with("-1.xml"), "{name}");
    }
    let again = w.run_with(&cfg, &["send"]).ok();
    assert!(again.stderr.contains("nothing to send"), "{}", again.stderr);
    assert_eq!(tree(&w.path("vans")).len(), 4);
}

#[test]
fn smtp_delivers_the_xdis91_bytes_unchanged_as_an_attachment() {
    let w = World::new();
    let server = SmtpServer::start(&w.path("smtp"));
    let mut xdis = vec![];
    for s in SAMPLES {
        xdis.push(std::fs::read(w.generate(&sample(s)).ok().one()["messages"][0]["path"].as_str().unwrap()).unwrap());
    }
    let cfg = smtp_config(&w, server.port, 3);
    w.run_with(&cfg, &["send"]).ok();
    let got = server.attachments();
    assert_eq!(got.len(), 4);
    for ((name, bytes), sent) in got.iter().zip(&xdis) {
        assert!(name.starts_with("xdis91-"), "{name}");
        assert_eq!(bytes, sent, "attachment bytes differ from the generated message");
        assert!(bytes.contains(&0xE6) || bytes.contains(&0xF8) || bytes.contains(&0xE5), "Latin-1 bytes kept");
    }
    let eml = std::fs::read_to_string(server.dir.join("mail-1.eml")).unwrap();
    assert!(eml.to_ascii_lowercase().contains("content-type: application/xml; charset=iso-8859-1"), "{eml}");
    assert!(eml.contains("Content-Transfer-Encoding: base64"), "{eml}");
    assert!(eml.contains("From: fls@auh.example.dk") && eml.contains("To: vans@vans.example.dk"), "{eml}");
    assert!(statuses(&w).iter().all(|(_, _, s, _)| s == "sent"));
}

#[test]
fn server_down_is_transient_then_bounded_and_nothing_is_lost() {
    let w = World::new();
    w.generate(&sample("group-1.json")).ok();
    w.generate(&sample("group-3.json")).ok();
    let port = free_port(); // nothing listens here
    let cfg = smtp_config(&w, port, 2);
    let r = w.run_with(&cfg, &["send"]);
    assert_eq!(r.code, 1, "{}", r.stderr);
    // The first GP letter failed; the second waits for the next run (the peer is down).
    let st = statuses(&w);
    let gp: Vec<_> = st.iter().filter(|m| m.1 == "gp-xdis91").collect();
    assert_eq!(gp[0].2, "retry");
    assert!(gp[0].3.as_deref().unwrap().contains("SMTP"), "{:?}", gp[0]);
    assert_eq!(gp[1].2, "generated");
    assert!(r.stderr.contains("waiting (peer failing)"), "{}", r.stderr);
    // Patient letters went to their outbox regardless.
    assert!(st.iter().filter(|m| m.1 == "patient-memo").all(|m| m.2 == "sent"));

    w.run_with(&cfg, &["send"]);
    w.run_with(&cfg, &["send"]);
    let st = statuses(&w);
    let gp: Vec<_> = st.iter().filter(|m| m.1 == "gp-xdis91").collect();
    assert_eq!(gp[0].2, "failed");
    assert!(gp[0].3.as_deref().unwrap().starts_with("gave up after 2 attempts"), "{:?}", gp[0]);
    // Every message is sent or listed as failed with its reason, or still queued.
    for m in &st {
        assert!(m.2 == "sent" || (m.2 == "failed" && m.3.is_some()) || m.2 == "retry" || m.2 == "generated", "{m:?}");
    }
    let failed = w.run(&["journal", "list", "--status", "failed"]).ok();
    assert!(failed.stdout.contains("gave up after 2 attempts"), "{}", failed.stdout);
    assert!(failed.stdout.contains("251248-xxxx") || failed.stdout.contains("291182-xxxx"), "{}", failed.stdout);
    assert!(!failed.stdout.contains("2512489996"));

    // Once the server is up, the waiting letter goes; the failed one needs `regenerate`.
    let server = SmtpServer::start(&w.path("smtp"));
    let cfg = smtp_config(&w, server.port, 2);
    w.run_with(&cfg, &["send"]).ok();
    assert_eq!(server.mails(), 1);
    let failed_id = gp[0].0.to_string();
    let regen = w.run(&["regenerate", &failed_id]).ok().one();
    assert_eq!(regen["outcome"], "regenerated");
    w.run_with(&cfg, &["send"]).ok();
    assert_eq!(server.mails(), 2);
    let st = statuses(&w);
    assert_eq!(st.iter().filter(|m| m.2 == "sent").count(), 4, "{st:?}");
}

#[test]
fn a_4xx_reply_is_retried_and_delivered_once() {
    let w = World::new();
    w.generate(&sample("group-2a.json")).ok();
    let server = SmtpServer::start(&w.path("smtp"));
    server.set_mode("tempfail");
    let cfg = smtp_config(&w, server.port, 5);
    let r = w.run_with(&cfg, &["send"]);
    assert_eq!(r.code, 1);
    assert!(r.stderr.contains("451"), "{}", r.stderr);
    assert_eq!(statuses(&w)[0].2, "retry");
    server.set_mode("accept");
    w.run_with(&cfg, &["send"]).ok();
    w.run_with(&cfg, &["send"]).ok();
    assert_eq!(server.mails(), 1, "delivered exactly once");
    let show = w.run(&["journal", "show", "1"]).ok().stdout;
    assert!(show.contains("transient") && show.contains(": sent"), "{show}");
}

#[test]
fn a_5xx_reply_fails_the_message_at_once_with_the_servers_reason() {
    let w = World::new();
    w.generate(&sample("group-2b.json")).ok();
    let server = SmtpServer::start(&w.path("smtp"));
    server.set_mode("permfail");
    let cfg = smtp_config(&w, server.port, 5);
    assert_eq!(w.run_with(&cfg, &["send"]).code, 1);
    let st = statuses(&w);
    assert_eq!(st[0].2, "failed");
    assert!(st[0].3.as_deref().unwrap().contains("554"), "{:?}", st[0]);
    // A failed message is not retried by `send`.
    server.set_mode("accept");
    w.run_with(&cfg, &["send"]).ok();
    assert_eq!(server.mails(), 0);
}

#[test]
fn starttls_with_the_gateways_ca_delivers_and_an_untrusted_certificate_does_not() {
    let w = World::new();
    // A test CA (as a hospital's own) and the gateway's certificate for localhost, by openssl.
    let TestCa { ca, cert, key } = test_ca(&w);
    let server = SmtpServer::start_with(&w.path("smtp"), Some((&cert, &key)));
    w.generate(&sample("group-1.json")).ok();
    w.generate(&sample("group-3.json")).ok();

    let config = |trust: bool| {
        w.write(
            "tls.toml",
            &format!(
                "[transport.gp]\ntype = \"smtp\"\nurl = \"smtp://localhost:{}?tls=required\"\nfrom = \"fls@auh.example.dk\"\n\
                 to = \"vans@vans.example.dk\"\ntimeout_seconds = 5\n{}",
                server.port,
                if trust { format!("ca_file = \"{}\"\n", ca.display()) } else { String::new() }
            ),
        )
    };
    // Not trusted: no mail, the letter waits for a retry.
    let r = w.run_with(&config(false), &["send"]);
    assert_eq!(r.code, 1, "{}", r.stderr);
    assert_eq!(server.mails(), 0);
    assert!(r.stderr.to_lowercase().contains("certificate") || r.stderr.to_lowercase().contains("tls"), "{}", r.stderr);
    // With the gateway's CA: both letters, over TLS.
    w.run_with(&config(true), &["send"]).ok();
    assert_eq!(server.mails(), 2);
    assert!(statuses(&w).iter().filter(|m| m.1 == "gp-xdis91").all(|m| m.2 == "sent"));
}

/// `send` reads its queue once; a letter a correction superseded while `send` was busy with
/// an earlier one is checked again at its hand-over and not handed over (issue 17, item 2).
#[test]
fn a_letter_superseded_while_send_runs_is_not_handed_over() {
    let _exclusive = exclusive();
    let w = World::new();
    let server = SmtpServer::start(&w.path("smtp"));
    let cfg = smtp_config(&w, server.port, 5);
    let first = w.write("in/first.json", &sample_lines("SUP-A", 1).pop().unwrap());
    let second = w.write("in/second.json", &sample_lines("SUP-B", 1).pop().unwrap());
    w.run(&["generate", first.to_str().unwrap()]).ok();
    w.run(&["generate", second.to_str().unwrap()]).ok();
    // The gateway stores the first GP letter and answers 3 s later.
    server.set_mode("slow:3");
    let mut sender = w.cmd();
    sender.args(["send", "--config", cfg.to_str().unwrap()]);
    let sender = std::thread::spawn(move || sender.output());
    // Meanwhile the second result is corrected: its waiting GP letter is superseded.
    first_mail(&server);
    let mut corrected = sample_json("group-1.json");
    corrected["result_id"] = serde_json::json!("SUP-B-00000");
    corrected["gp"]["name"] = serde_json::json!("Lægehuset Nord");
    let corrected = w.write("in/second-corrected.json", &corrected.to_string());
    let r = w.run(&["generate", corrected.to_str().unwrap()]).ok();
    assert_eq!(r.one()["outcome"], "corrected", "{}", r.stdout);
    server.set_mode("accept");
    let out = sender.join().unwrap().unwrap();
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    // Only the first result's GP letter went; the superseded one stayed home.
    assert_eq!(
        server.mails(),
        1,
        "a superseded letter was handed over: {:?}\n{}",
        statuses(&w),
        String::from_utf8_lossy(&out.stdout)
    );
    let superseded = statuses(&w).into_iter().filter(|(_, k, s, _)| k == "gp-xdis91" && s == "superseded").count();
    assert_eq!(superseded, 1);
    assert!(
        String::from_utf8_lossy(&out.stderr).contains("skipped (changed meanwhile)"),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
}

/// A journal busy past the configured wait just after the gateway accepted a letter: the
/// outcome is still recorded (the hand-over happened; giving up would leave it open and the
/// next `send` would hand it over again), and the letter reaches the gateway once.
#[test]
fn a_busy_journal_after_a_hand_over_still_records_it_and_nothing_goes_twice() {
    let w = World::new();
    let server = SmtpServer::start(&w.path("smtp"));
    let cfg = w.write(
        "busy-smtp.toml",
        &format!(
            "[journal]\nbusy_timeout_seconds = 0.3\n\n[transport.gp]\ntype = \"smtp\"\nurl = \"smtp://127.0.0.1:{}\"\n\
             from = \"fls@auh.example.dk\"\nto = \"vans@vans.example.dk\"\ntimeout_seconds = 10\n\n\
             [transport.patient]\ntype = \"outbox\"\ndir = \"dp\"\n",
            server.port
        ),
    );
    w.run(&["generate", sample("group-1.json").to_str().unwrap()]).ok();
    // The gateway stores the mail and answers 1 s later; meanwhile another client takes the
    // journal's write lock for 2.5 s.
    server.set_mode("slow:1");
    let mut sender = w.cmd();
    sender.args(["send", "--config", cfg.to_str().unwrap()]);
    let sender = std::thread::spawn(move || sender.output());
    first_mail(&server);
    let c = w.db();
    let t = c.transaction_with_behavior(flspost::journal::db::TransactionBehavior::Immediate).unwrap();
    std::thread::sleep(std::time::Duration::from_millis(2500));
    t.commit().unwrap();
    drop(c);
    let out = sender.join().unwrap().unwrap();
    assert!(out.status.success(), "{}\n{}", String::from_utf8_lossy(&out.stdout), String::from_utf8_lossy(&out.stderr));
    server.set_mode("accept");
    assert!(w.run_with(&cfg, &["send"]).ok().stderr.contains("nothing to send"));
    assert_eq!(server.mails(), 1, "the letter was handed over twice");
    let gp = statuses(&w).into_iter().find(|(_, k, _, _)| k == "gp-xdis91").unwrap();
    assert_eq!(gp.2, "sent");
}
