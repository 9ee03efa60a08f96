//! `timeout_seconds` is a deadline for the whole exchange of one message, not for each
//! read: a server that answers a byte at a time (each read well within the timeout) cannot
//! keep `send` on one message for longer.
//!
//! The slow server here speaks correct SMTP and would accept the message, only slowly: a
//! `send` without a deadline ends with the message `sent`; with one it is `retry`, with the
//! deadline as the reason. The check is on that outcome, not on a measured time.

use crate::common::*;
use std::io::{BufRead, BufReader, Write};
use std::net::{TcpListener, TcpStream};
use std::time::Duration;

/// Answers SMTP on `listener`, one byte every `drip` (and never faster than that).
fn drip_server(listener: TcpListener, drip: Duration) {
    for conn in listener.incoming() {
        let Ok(conn) = conn else { return };
        std::thread::spawn(move || {
            let _ = serve(conn, drip);
        });
    }
}

fn serve(conn: TcpStream, drip: Duration) -> std::io::Result<()> {
    let mut out = conn.try_clone()?;
    let mut say = |text: &str| -> std::io::Result<()> {
        for b in text.bytes() {
            out.write_all(&[b])?;
            out.flush()?;
            std::thread::sleep(drip);
        }
        Ok(())
    };
    say("220 drip.example ESMTP\r\n")?;
    let mut reader = BufReader::new(conn);
    let mut line = String::new();
    loop {
        line.clear();
        if reader.read_line(&mut line)? == 0 {
            return Ok(());
        }
        let verb = line.get(..4).unwrap_or("").to_ascii_uppercase();
        match verb.as_str() {
            "EHLO" | "HELO" => say("250 drip.example\r\n")?,
            "MAIL" | "RCPT" => say("250 ok\r\n")?,
            "DATA" => {
                say("354 go on\r\n")?;
                loop {
                    line.clear();
                    if reader.read_line(&mut line)? == 0 || line == ".\r\n" {
                        break;
                    }
                }
                say("250 queued\r\n")?;
            }
            "QUIT" => return say("221 bye\r\n"),
            _ => say("500 what\r\n")?,
        }
    }
}

#[test]
fn a_server_that_drips_one_byte_at_a_time_is_cut_off_at_the_deadline() {
    let _exclusive = exclusive();
    let w = World::new();
    w.generate(&sample("group-1.json")).ok();
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let port = listener.local_addr().unwrap().port();
    // ~100 bytes of replies at 0.15 s each: some 15 s in all, every read within 0.2 s.
    std::thread::spawn(move || drip_server(listener, Duration::from_millis(150)));
    let smtp = ConfigOf { gp: Some(Transport::Smtp { port, timeout_seconds: 2 }), ..ConfigOf::default() };
    let cfg = w.config("c.toml", &smtp);
    let r = w.run_with(&cfg, &["send"]);
    assert_eq!(r.code, 1, "stdout:\n{}\nstderr:\n{}", r.stdout, r.stderr);
    let line = r.one();
    assert_eq!(line["status"], "retry", "{line}");
    let reason = line["reason"].as_str().unwrap();
    assert!(reason.contains("the exchange did not complete within 2 s"), "{reason}");
}

/// A server that never got the message cannot have taken it: one that is silent after the
/// TCP connect, one that closes at once, and one that greets with garbage leave the hand-over
/// `transient` (nothing was handed over), never `unknown` (it may have been).
#[test]
fn a_server_that_fails_before_the_message_was_sent_is_transient_not_unknown() {
    let _exclusive = exclusive();
    for behaviour in ["silent", "close", "garbage"] {
        let w = World::new();
        w.generate(&sample("group-1.json")).ok();
        let listener = TcpListener::bind("127.0.0.1:0").unwrap();
        let port = listener.local_addr().unwrap().port();
        std::thread::spawn(move || {
            for conn in listener.incoming() {
                let Ok(mut conn) = conn else { return };
                match behaviour {
                    "silent" => {
                        std::thread::spawn(move || {
                            std::thread::sleep(Duration::from_secs(5));
                            drop(conn);
                        });
                    }
                    "close" => drop(conn),
                    _ => {
                        let _ = conn.write_all(b"hello there, this is not SMTP\r\n");
                    }
                }
            }
        });
        let smtp = ConfigOf { gp: Some(Transport::Smtp { port, timeout_seconds: 1 }), ..ConfigOf::default() };
        let cfg = w.config("c.toml", &smtp);
        let r = w.run_with(&cfg, &["send"]);
        assert_eq!(r.code, 1, "{behaviour}: {}", r.stderr);
        assert_eq!(r.one()["status"], "retry", "{behaviour}: {}", r.stdout);
        let show = w.show("1");
        assert_eq!(show["attempts"][0]["outcome"], "transient", "{behaviour}: {show}");
    }
}
