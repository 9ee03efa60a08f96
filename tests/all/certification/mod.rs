//! MedCom's Acknowledgement test protocol (receive side, v2.0.4, 2024-12-05,
//! `docs/Acknowledgement_Testprotocol_Receive.docx` in `medcomdk/dk-medcom-acknowledgement`),
//! step by step: one test per step, named after its number, each run under a pinned clock with
//! the protocol's resend policy (`preset = "certification"`: 30 minutes, 3 resends, automatic)
//! and again with the regions' (`preset = "region"`: 120 minutes, 3).
//!
//! With `FLSPOST_EVIDENCE_DIR` set (`scripts/certification-evidence.sh` sets it), every step
//! writes its evidence there: `<policy>/<step>/` holds each command run with its output
//! (`log.txt`), the Acknowledgement files read, and `journal show`/`journal queue` as a person
//! sees them, and a screenshot of the console's page of the message the step is about
//! (`console-message-<id>.png`: `flspost serve` on the step's journal, signed in as an
//! operator in headless Chromium), whose text the step checks as it checks `journal show`.

use crate::common::console::{browser, png, sign_in, text, Driver, Server};
use crate::common::*;
use std::path::{Path, PathBuf};

const POLICIES: [(&str, i64); 2] = [("certification", 30), ("region", 120)];
/// The first transmission's Provenance time (the samples' send time, [`FAKE_NOW`]).
const SENT: &str = "2025-03-20T10:30:00+01:00";
/// No transmission's time: the answer is for the newest transmission handed over.
const NEWEST: &str = "2025-03-20T08:00:00+01:00";

/// One step's world: a journal, the samples' GP on CareCommunication, outbox transports, the
/// resend policy, and where its evidence goes.
struct Step {
    w: World,
    cfg: PathBuf,
    evidence: Option<PathBuf>,
    letter: String,
    n: u32,
}

impl Step {
    /// Group 2a's letter generated and sent at [`FAKE_NOW`] under `policy`.
    fn new(step: &str, policy: &str) -> Step {
        let w = World::new();
        let table = sample_receivers();
        let resend = format!("preset = \"{policy}\"");
        let cfg =
            w.config("c.toml", &ConfigOf { receivers: Some(&table), resend: Some(&resend), ..ConfigOf::outboxes() });
        let evidence = std::env::var_os("FLSPOST_EVIDENCE_DIR").map(|d| PathBuf::from(d).join(policy).join(step));
        if let Some(d) = &evidence {
            let _ = std::fs::remove_dir_all(d);
            std::fs::create_dir_all(d).unwrap();
            std::fs::copy(&cfg, d.join("config.toml")).unwrap();
        }
        let mut s = Step { w, cfg, evidence, letter: String::new(), n: 0 };
        let out = s.w.out();
        let gen = s.run(&["generate", "--out-dir", out.to_str().unwrap(), sample("group-2a.json").to_str().unwrap()]);
        let gp = gen.ok().one()["messages"][0].clone();
        assert_eq!(gp["kind"], "gp-carecommunication");
        s.letter = gp["letter_id"].as_str().unwrap().to_string();
        s.run(&["send"]).ok();
        s
    }

    /// `flspost ARGS --config c.toml` at the step's clock, logged to the evidence.
    fn run(&self, args: &[&str]) -> Run {
        let r = self.w.run_with(&self.cfg, args);
        if let Some(d) = &self.evidence {
            use std::io::Write;
            let mut log = std::fs::OpenOptions::new().create(true).append(true).open(d.join("log.txt")).unwrap();
            let now = self.w.fake_now.clone().unwrap_or_default();
            writeln!(log, "$ FLSPOST_FAKE_NOW={now} flspost {}\n# exit {}", args.join(" "), r.code).unwrap();
            writeln!(log, "{}{}", r.stdout, r.stderr).unwrap();
        }
        r
    }

    /// The clock `minutes` after the first hand-over.
    fn at(&mut self, minutes: i64) {
        self.w.later_by(chrono::Duration::minutes(minutes));
    }

    /// An Acknowledgement with `code` for the transmission whose Provenance time is `sent`,
    /// in `format` (`xml`, `json`, `json-envelope`), written where the evidence keeps it.
    fn ack(&mut self, code: &str, sent: &str, format: &str) -> Option<String> {
        self.n += 1;
        let (bundle, header) = (uuid(self.n), uuid(1000 + self.n));
        let issues = match code {
            "ok" => vec![],
            "fatal-error" => vec![ack_issue("MSG_VALUESET_VALUE_UNKNOWN", "Ukendt værdi")],
            _ => vec![ack_issue("MSG_Mailbox_Out_Of_Operation", "Postkassen er lukket")],
        };
        let example = match code {
            "ok" => "a8c041b8-c65a-4fde-a90f-962076918834",
            "fatal-error" => "bc9535ef-ed94-4060-a928-7baddec7ee71",
            _ => "c9c2b2f6-0807-11ed-861d-0242ac120002",
        };
        let (bytes, ext) = match format {
            "xml" => (
                in_vans_envelope(
                    &acknowledgement_of(code, &bundle, &header, &self.letter, sent, &issues),
                    &bundle,
                    code,
                ),
                "xml",
            ),
            "json" => (medcom_json_ack(example, &bundle, &header, &self.letter, sent)?, "json"),
            _ => (
                in_vans_envelope_json(&medcom_json_ack(example, &bundle, &header, &self.letter, sent)?, &bundle, code),
                "xml",
            ),
        };
        let name = format!("ack-{}-{code}-{format}.{ext}", self.n);
        let p = self.w.path(&name);
        std::fs::write(&p, &bytes).unwrap();
        if let Some(d) = &self.evidence {
            std::fs::write(d.join(&name), &bytes).unwrap();
        }
        Some(p.to_str().unwrap().to_string())
    }

    /// Reads an Acknowledgement file (`flspost receipt`); its one JSON line (a conflict
    /// exits 1, as a receipt that cannot be applied does).
    fn receipt(&self, file: &str) -> serde_json::Value {
        self.run(&["receipt", file]).one()
    }

    /// `flspost validate FILE` (it takes no config); its exit code.
    fn validate(&self, file: &str) -> i32 {
        let r = self.w.run(&["validate", file]);
        if let Some(d) = &self.evidence {
            use std::io::Write;
            let mut log = std::fs::OpenOptions::new().create(true).append(true).open(d.join("log.txt")).unwrap();
            writeln!(log, "$ flspost validate {file}\n# exit {}\n{}{}", r.code, r.stdout, r.stderr).unwrap();
        }
        r.code
    }

    fn show(&self, id: &str) -> serde_json::Value {
        self.run(&["journal", "show", id]).ok();
        self.run(&["journal", "show", "--json", id]).ok().one()
    }

    fn queue(&self) -> Vec<serde_json::Value> {
        self.run(&["journal", "queue"]).ok();
        self.run(&["journal", "queue", "--json"]).ok().json()
    }

    /// The CareCommunication rows: (id, status, transmission), oldest first.
    fn rows(&self) -> Vec<(i64, String, i64)> {
        carecommunication_rows(&self.run(&["journal", "list", "--json"]).ok())
    }

    /// With evidence kept: the console's page of message `id` as a person sees it, saved as
    /// `console-message-<id>.png` beside the step's files, showing each of `shows`.
    fn console(&self, id: i64, shows: &[&str]) {
        if let Some(page) = self.photograph(id) {
            // What the page shows, not how its style writes it (a status badge in capitals).
            let seen = page.to_lowercase();
            for what in shows {
                assert!(
                    seen.contains(&what.to_lowercase()),
                    "the console's page of message {id} shows {what:?}:\n{page}"
                );
            }
        }
    }

    fn photograph(&self, id: i64) -> Option<String> {
        let d = self.evidence.as_ref()?;
        let (name, password) = ("certifier", "certification-password-1");
        let add = ["user", "add", name, "--role", "operator", "--config", self.cfg.to_str().unwrap()];
        if !self.w.db().query_row("SELECT COUNT(*) > 0 FROM users", [], |r| r.get::<_, bool>(0)).unwrap() {
            self.w.run_stdin(&add, password.as_bytes()).ok();
        }
        let server = Server::start(&self.w, &self.cfg);
        let driver = Driver::start();
        let rt = tokio::runtime::Builder::new_current_thread().enable_all().build().unwrap();
        let shown = rt.block_on(async {
            let b = browser(&driver, &self.w.path("profile")).await;
            // Tall enough for the status, the facts, the hand-overs and the answers.
            b.set_window_size(1366, 1150).await.unwrap();
            sign_in(&b, &server.url, (name, password)).await;
            b.goto(&format!("{}/messages/{id}", server.url)).await.unwrap();
            let shown = text(&b).await;
            std::fs::write(d.join(format!("console-message-{id}.png")), png(&b).await).unwrap();
            b.close().await.unwrap();
            shown
        });
        use std::io::Write;
        let mut log = std::fs::OpenOptions::new().append(true).open(d.join("log.txt")).unwrap();
        writeln!(log, "$ flspost serve: message {id} in the console, signed in as {name} (console-message-{id}.png)\n")
            .unwrap();
        Some(shown)
    }

    /// What the outbox to VANS holds (file names).
    fn outbox(&self) -> Vec<String> {
        let dir = self.w.path("vans");
        let files = names(&dir);
        if let Some(d) = &self.evidence {
            for f in &files {
                std::fs::copy(dir.join(f), d.join(format!("outbox-{f}"))).unwrap();
            }
        }
        files
    }
}

fn both(step: &str, f: impl Fn(&mut Step, i64)) {
    for (policy, wait) in POLICIES {
        let mut s = Step::new(step, policy);
        f(&mut s, wait);
    }
}

fn reference_present() -> bool {
    reference().is_some()
}

#[test]
fn step_3_3_1_2_and_3_an_aa_is_validated_loaded_and_linked_to_the_message_sent() {
    both("3.3.1.2-3", |s, _| {
        let file = s.ack("ok", SENT, "xml").unwrap();
        assert_eq!(s.validate(&file), 0);
        let line = s.receipt(&file);
        assert_eq!(
            (line["result"]["outcome"].as_str(), line["result"]["message_id"].as_i64()),
            (Some("acknowledged"), Some(1))
        );
        let shown = s.show("1");
        assert_eq!(shown["message"]["status"], "acknowledged");
        assert_eq!(shown["letter_answers"].as_array().unwrap().len(), 1);
        assert_eq!(shown["letter_answers"][0]["type"], "FHIR ok");
        s.console(1, &["acknowledged", "FHIR ok to transmission 1 (message"]);
    });
}

#[test]
fn step_3_3_2_3_an_ae_tells_the_user_the_message_has_invalid_content() {
    both("3.3.2.3", |s, _| {
        let file = s.ack("fatal-error", SENT, "xml").unwrap();
        assert_eq!(s.receipt(&file)["result"]["outcome"], "rejected");
        let q = s.queue();
        assert_eq!(q.len(), 1, "{q:?}");
        assert_eq!(q[0]["cause"], "fhir_fatal/MSG_VALUESET_VALUE_UNKNOWN");
        assert!(q[0]["action"].as_str().unwrap().contains("invalid content"), "{}", q[0]["action"]);
        s.console(1, &["rejected", "fhir_fatal/MSG_VALUESET_VALUE_UNKNOWN", "invalid content"]);
        s.at(300);
        assert!(s.run(&["resend-due"]).ok().json().is_empty(), "a refused message is never resent");
    });
}

#[test]
fn step_3_3_3_1_and_4_an_ar_sends_the_original_message_again() {
    both("3.3.3.1-4", |s, _| {
        let file = s.ack("transient-error", SENT, "xml").unwrap();
        assert_eq!(s.receipt(&file)["result"]["outcome"], "resend-queued");
        s.run(&["send"]).ok();
        assert_eq!(s.rows(), [(1, "failed".into(), 1), (3, "sent".into(), 2)]);
        let files = s.outbox();
        assert_eq!(files.len(), 2, "the original and its resend: {files:?}");
        let bundles: Vec<Vec<u8>> =
            files.iter().map(|f| bundle_in_envelope(&std::fs::read(s.w.path("vans").join(f)).unwrap())).collect();
        assert_eq!(
            fhir_value(&bundles[0], "MessageHeader", "id"),
            fhir_value(&bundles[1], "MessageHeader", "id"),
            "the same message"
        );
        assert_ne!(fhir_value(&bundles[0], "Bundle", "id"), fhir_value(&bundles[1], "Bundle", "id"), "a new Bundle.id");
        s.console(3, &["sent", "2, envelope", "FHIR transient-error to transmission 1 (message"]);
    });
}

#[test]
fn step_3_3_3_2_an_ar_tells_the_user_a_technical_error_occurred() {
    both("3.3.3.2", |s, _| {
        let file = s.ack("transient-error", SENT, "xml").unwrap();
        s.receipt(&file);
        let q = s.queue();
        let p = q.iter().find(|p| p["key"] == "1").unwrap_or_else(|| panic!("{q:?}"));
        assert_eq!(p["cause"], "fhir_transient/MSG_Mailbox_Out_Of_Operation");
        assert!(p["action"].as_str().unwrap().starts_with("A technical error"), "{}", p["action"]);
        assert!(p["action"].as_str().unwrap().contains("resent the message"), "{}", p["action"]);
        s.console(1, &["fhir_transient/MSG_Mailbox_Out_Of_Operation", "A technical error"]);
    });
}

#[test]
fn step_3_3_3_3_and_6_an_aa_or_ae_after_an_ar_is_shown_as_the_latest() {
    for (code, status) in [("ok", "acknowledged"), ("fatal-error", "rejected")] {
        both(&format!("3.3.3.3-6-{code}"), |s, _| {
            let ar = s.ack("transient-error", SENT, "xml").unwrap();
            s.receipt(&ar);
            s.at(5);
            s.run(&["send"]).ok();
            let after = s.ack(code, NEWEST, "xml").unwrap();
            s.receipt(&after);
            let shown = s.show("3");
            assert_eq!(shown["message"]["status"], status);
            let answers: Vec<&str> =
                shown["letter_answers"].as_array().unwrap().iter().map(|a| a["type"].as_str().unwrap()).collect();
            assert_eq!(answers, ["FHIR transient-error", format!("FHIR {code}").as_str()], "in order, the latest last");
            let text = s.run(&["journal", "show", "3"]).ok().stdout;
            assert!(text.contains(&format!("latest answer   FHIR {code} to transmission 2 (message 3)")), "{text}");
            s.console(3, &[status, &format!("FHIR {code} to transmission 2 (message 3)")]);
        });
    }
}

#[test]
fn step_3_3_4_1_no_answer_is_resent_after_the_wait_at_most_3_times_then_a_person_looks() {
    both("3.3.4.1", |s, wait| {
        let mut outcomes = vec![];
        for k in 0..6 {
            s.at(k * wait - 1);
            let early = s.run(&["resend-due"]).ok().json();
            assert!(early.iter().all(|l| l["outcome"] != "resent"), "a minute early: {early:?}");
            s.at(k * wait);
            outcomes
                .extend(s.run(&["resend-due"]).ok().json().iter().map(|l| l["outcome"].as_str().unwrap().to_string()));
            s.run(&["send"]).ok();
        }
        assert_eq!(outcomes, ["resent", "resent", "resent", "limit", "limit"]);
        let rows = s.rows();
        assert_eq!(rows.iter().map(|r| r.2).collect::<Vec<_>>(), [1, 2, 3, 4], "the original and 3 resends");
        let q = s.queue();
        assert_eq!(q.len(), 1);
        assert_eq!(q[0]["cause"], "unanswered_limit");
        assert!(q[0]["reason"].as_str().unwrap().starts_with("sent 4 times"), "{}", q[0]["reason"]);
        s.console(rows[3].0, &["unanswered_limit", "sent 4 times"]);
        s.outbox();
    });
}

#[test]
fn step_3_4_1_the_acknowledgement_is_not_acknowledged() {
    both("3.4.1", |s, _| {
        let before = s.outbox();
        let file = s.ack("ok", SENT, "xml").unwrap();
        s.receipt(&file);
        s.run(&["send"]).ok();
        assert_eq!(s.outbox(), before, "nothing goes back");
        assert_eq!(s.rows().len(), 1, "no message was made");
        s.console(1, &["acknowledged"]);
    });
}

#[test]
fn step_3_4_2_a_duplicate_changes_nothing_and_is_shown_once() {
    both("3.4.2", |s, _| {
        let file = s.ack("ok", SENT, "xml").unwrap();
        s.receipt(&file);
        let again = s.receipt(&file);
        assert_eq!(again["result"]["outcome"], "duplicate");
        // The first one decides: a contrary answer later is a conflict, not applied.
        let ae = s.ack("fatal-error", SENT, "xml").unwrap();
        assert_eq!(s.receipt(&ae)["result"]["outcome"], "conflict");
        let shown = s.show("1");
        assert_eq!(shown["message"]["status"], "acknowledged");
        let types: Vec<&str> =
            shown["letter_answers"].as_array().unwrap().iter().map(|a| a["type"].as_str().unwrap()).collect();
        assert_eq!(types, ["FHIR ok", "FHIR fatal-error"], "the duplicate once; the conflict recorded");
        s.console(1, &["acknowledged", "FHIR fatal-error to transmission 1 (message"]);
    });
}

#[test]
fn step_3_4_3_and_4_an_acknowledgement_is_loaded_as_xml_and_as_json() {
    if !reference_present() {
        return;
    }
    for format in ["xml", "json", "json-envelope"] {
        both(&format!("3.4.3-4-{format}"), |s, _| {
            let file = s.ack("ok", SENT, format).unwrap();
            assert_eq!(s.validate(&file), 0);
            assert_eq!(s.receipt(&file)["result"]["outcome"], "acknowledged");
            assert_eq!(s.show("1")["message"]["status"], "acknowledged");
            s.console(1, &["acknowledged", "FHIR ok to transmission 1 (message"]);
        });
    }
}

/// Where the evidence of a run went (for the script's summary).
#[allow(dead_code)]
fn evidence_root() -> Option<PathBuf> {
    std::env::var_os("FLSPOST_EVIDENCE_DIR").map(PathBuf::from).filter(|p| Path::new(p).is_dir())
}
