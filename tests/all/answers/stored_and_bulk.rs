//! What support staff get from the journal and do in bulk (issue 19): `journal show ID --input /
//! --bytes / --pdf` write exactly what is stored (checked, owner-only, never over a file, each
//! in the audit log); `regenerate` over a filter shows what it will do, asks (or `--yes`), and
//! reports each message; `regenerate ID --reroute` sends a letter refused for its format again,
//! as the same letter, in the format today's receiver table gives its GP.

use crate::common::*;
use serde_json::Value;
use std::os::unix::fs::PermissionsExt;
use std::path::{Path, PathBuf};

/// Outbox transports, no receiver table (every GP gets XDIS91).
fn outbox_config(w: &World) -> PathBuf {
    w.config("outbox.toml", &ConfigOf::outboxes())
}

/// `flspost ARGS --config CONFIG`.
fn fl(w: &World, config: &Path, args: &[&str]) -> Run {
    let mut all = args.to_vec();
    all.extend(["--config", config.to_str().unwrap()]);
    w.run(&all)
}

/// The result's messages as `generate` summarised them: (GP message, patient message).
fn generated(w: &World, config: &Path, input: &Path) -> (Value, Value) {
    let s = w.generate_with(config, input).ok().one();
    let of = |to: &str| {
        s["messages"].as_array().unwrap().iter().find(|m| m["kind"].as_str().unwrap().starts_with(to)).unwrap().clone()
    };
    (of("gp-"), of("patient-"))
}

fn id(m: &Value) -> String {
    m["id"].to_string()
}

fn show(w: &World, id: &str) -> Value {
    w.run(&["journal", "show", "--json", id]).ok().one()
}

/// The audit log, oldest first: (who, action, target, detail).
fn audit(w: &World) -> Vec<(String, String, String, Option<String>)> {
    let c = w.db();
    let mut st = c.prepare("SELECT who, action, target, detail FROM audit ORDER BY id").unwrap();
    st.query_map([], |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?, r.get(3)?))).unwrap().map(Result::unwrap).collect()
}

fn messages_in_journal(w: &World) -> usize {
    w.run(&["journal", "list", "--json"]).ok().json().len()
}

/// The one file in `dir` whose name starts with `prefix`.
fn only_file(dir: &Path, prefix: &str) -> Vec<u8> {
    let files: Vec<_> = tree(dir).into_iter().filter(|(n, _)| n.starts_with(prefix)).collect();
    assert_eq!(files.len(), 1, "{:?}", files.iter().map(|f| &f.0).collect::<Vec<_>>());
    files.into_iter().next().unwrap().1
}

const CPR: &str = "0211223989";

#[test]
fn the_stored_input_comes_out_as_it_was_received_and_a_correction_of_it_goes_back_in() {
    let w = World::new();
    let cfg = outbox_config(&w);
    let (gp, _) = generated(&w, &cfg, &sample("group-2a.json"));
    fl(&w, &cfg, &["send"]).ok();
    // To standard output (not a terminal here), and to a new file.
    let out = w.cmd().args(["journal", "show", &id(&gp), "--input"]).output().unwrap();
    assert_eq!(out.status.code(), Some(0), "{}", String::from_utf8_lossy(&out.stderr));
    assert_eq!(out.stdout, std::fs::read(sample("group-2a.json")).unwrap(), "exactly as received");
    let file = w.path("stored.json");
    w.run(&["journal", "show", &id(&gp), "--input", "--output", file.to_str().unwrap()]).ok();
    assert_eq!(std::fs::read(&file).unwrap(), out.stdout);
    assert_eq!(std::fs::metadata(&file).unwrap().permissions().mode() & 0o777, 0o600);

    // A person corrects a field and sends it back: a correction of the letter.
    let mut v: Value = serde_json::from_slice(&std::fs::read(&file).unwrap()).unwrap();
    v["gp"]["identifier"] = "077124".into();
    let corrected = w.write("corrected.json", &serde_json::to_string_pretty(&v).unwrap());
    let r = fl(&w, &cfg, &["regenerate", &id(&gp), "--input", corrected.to_str().unwrap()]).ok().one();
    assert_eq!(r["outcome"], "corrected", "{r}");
    let new_gp = r["messages"].as_array().unwrap().iter().find(|m| m["kind"] == "gp-xdis91").unwrap();
    assert_eq!(new_gp["status_code"], "rettetbrev", "{r}");
    assert_eq!(new_gp["replaces"], gp["id"], "{r}");
    assert_eq!(new_gp["regenerated_from"], gp["id"], "{r}");

    // Each export is in the audit log, naming the message and where it went, never the CPR.
    let log = audit(&w);
    assert_eq!(log.len(), 2, "{log:?}");
    for (who, action, target, detail) in &log {
        assert!(!who.is_empty());
        assert_eq!(action, "export-input");
        assert_eq!(target, &format!("message {}", gp["id"]));
        assert!(!detail.as_deref().unwrap_or("").contains(CPR), "{detail:?}");
    }
    assert!(log[0].3.as_deref().unwrap().ends_with("to standard output"), "{log:?}");
    assert!(log[1].3.as_deref().unwrap().ends_with(&format!("to {}", file.display())), "{log:?}");
}

#[test]
fn the_stored_bytes_are_what_went_to_the_gp_byte_for_byte_and_validate() {
    let w = World::new();
    let cfg = outbox_config(&w);
    let (gp, _) = generated(&w, &cfg, &sample("group-2a.json"));
    fl(&w, &cfg, &["send"]).ok();
    let sent = only_file(&w.path("vans"), "xdis91-");
    let file = w.path("bytes.xml");
    let r = w.run(&["journal", "show", &id(&gp), "--bytes", "--output", file.to_str().unwrap()]).ok();
    assert!(r.stdout.is_empty(), "{}", r.stdout);
    assert_eq!(std::fs::read(&file).unwrap(), sent);
    let v = w.run(&["validate", file.to_str().unwrap()]).ok();
    assert!(v.stdout.contains("valid XDIS91"), "{}", v.stdout);
    // To standard output too, the same bytes (ISO-8859-1: not text a terminal shows).
    let out = w.cmd().args(["journal", "show", &id(&gp), "--bytes"]).output().unwrap();
    assert_eq!(out.stdout, sent);
    let log = audit(&w);
    assert_eq!(
        log.iter().map(|a| (a.1.as_str(), a.2.clone())).collect::<Vec<_>>(),
        [("export-bytes", format!("message {}", gp["id"])), ("export-bytes", format!("message {}", gp["id"]))]
    );
}

#[test]
fn the_pdf_inside_a_patient_letter_is_the_letter_the_patient_got() {
    let pdfinfo = ensure_tool("pdfinfo", "poppler-utils");
    let w = World::new();
    let cfg = outbox_config(&w);
    let (gp, patient) = generated(&w, &cfg, &sample("group-2a.json"));
    fl(&w, &cfg, &["send"]).ok();
    let file = w.path("letter.pdf");
    w.run(&["journal", "show", &id(&patient), "--pdf", "--output", file.to_str().unwrap()]).ok();
    let pdf = std::fs::read(&file).unwrap();
    assert_eq!(pdf, pdf_of_memo(&only_file(&w.path("dp"), "memo-")));
    let info = std::process::Command::new(pdfinfo).arg(&file).output().unwrap();
    assert!(info.status.success());
    assert!(String::from_utf8_lossy(&info.stdout).contains("Pages:"), "{}", String::from_utf8_lossy(&info.stdout));
    // The GP's XDIS91 carries no PDF: refused, and nothing recorded.
    let r = w.run(&["journal", "show", &id(&gp), "--pdf", "--output", w.path("gp.pdf").to_str().unwrap()]);
    assert_eq!(r.code, 2, "{}", r.stderr);
    assert!(r.stderr.contains("only a patient letter"), "{}", r.stderr);
    assert!(!w.path("gp.pdf").exists());
    assert_eq!(
        audit(&w).iter().map(|a| (a.1.clone(), a.2.clone())).collect::<Vec<_>>(),
        [("export-pdf".to_string(), format!("message {}", patient["id"]))]
    );
}

#[test]
fn a_damaged_message_or_input_is_refused_and_nothing_is_written_or_recorded() {
    let w = World::new();
    let cfg = outbox_config(&w);
    let (gp, _) = generated(&w, &cfg, &sample("group-2a.json"));
    let c = w.db();
    let mut bytes: Vec<u8> = c
        .query_row("SELECT bytes FROM message_bytes WHERE message_id = ?1", [gp["id"].as_i64()], |r| r.get(0))
        .unwrap();
    bytes[200] ^= 0x01;
    c.execute("UPDATE message_bytes SET bytes = ?2 WHERE message_id = ?1", (gp["id"].as_i64(), bytes)).unwrap();
    let file = w.path("bytes.xml");
    let r = w.run(&["journal", "show", &id(&gp), "--bytes", "--output", file.to_str().unwrap()]);
    assert_eq!(r.code, 1, "{}", r.stderr);
    assert!(r.stderr.contains("do not match their SHA-256"), "{}", r.stderr);
    assert!(r.stderr.contains("nothing was written"), "{}", r.stderr);
    assert!(!file.exists());
    let out = w.cmd().args(["journal", "show", &id(&gp), "--bytes"]).output().unwrap();
    assert_eq!(out.status.code(), Some(1));
    assert!(out.stdout.is_empty());
    c.execute("UPDATE inputs SET input_json = replace(input_json, '\"2a\"', '\"2b\"')", []).unwrap();
    let r = w.run(&["journal", "show", &id(&gp), "--input"]);
    assert_eq!(r.code, 1, "{}", r.stderr);
    assert!(r.stderr.contains("the stored input does not match its SHA-256"), "{}", r.stderr);
    assert!(r.stdout.is_empty());
    assert!(audit(&w).is_empty(), "{:?}", audit(&w));
}

#[test]
fn an_export_never_writes_over_a_file_nor_through_a_link() {
    let w = World::new();
    let cfg = outbox_config(&w);
    let (gp, _) = generated(&w, &cfg, &sample("group-2a.json"));
    let existing = w.write("existing.json", "keep me");
    let r = w.run(&["journal", "show", &id(&gp), "--input", "--output", existing.to_str().unwrap()]);
    assert_eq!(r.code, 2, "{}", r.stderr);
    assert!(r.stderr.contains("never writes over a file"), "{}", r.stderr);
    assert_eq!(std::fs::read_to_string(&existing).unwrap(), "keep me");
    let target = w.path("target.json");
    let link = w.path("link.json");
    std::os::unix::fs::symlink(&target, &link).unwrap();
    let r = w.run(&["journal", "show", &id(&gp), "--input", "--output", link.to_str().unwrap()]);
    assert_eq!(r.code, 2, "{}", r.stderr);
    assert!(!target.exists(), "written through a link");
    assert!(audit(&w).is_empty(), "a refused export records nothing: {:?}", audit(&w));
    // The other options of `show` do not mix with an export.
    let r = w.run(&["journal", "show", &id(&gp), "--input", "--json"]);
    assert_eq!(r.code, 2, "{}", r.stderr);
}

/// A config sending the GP's letters over SMTP to 127.0.0.1:`port`, the patient's to an outbox.
fn smtp_config(w: &World, port: u16) -> PathBuf {
    w.write(
        "smtp.toml",
        &format!(
            "[transport.gp]\ntype = \"smtp\"\nurl = \"smtp://127.0.0.1:{port}\"\nfrom = \"fls@auh.example.dk\"\n\
             to = \"vans@vans.example.dk\"\ntimeout_seconds = 5\n\n[transport.patient]\ntype = \"outbox\"\ndir = \"dp\"\n"
        ),
    )
}

/// Sample `name` as result `result_id`.
fn input_as(w: &World, name: &str, result_id: &str) -> PathBuf {
    let mut v = sample_json(name);
    v["result_id"] = result_id.into();
    w.write(&format!("{result_id}.json"), &v.to_string())
}

#[test]
fn regenerate_over_a_filter_resends_exactly_the_failed_group_once_confirmed() {
    let w = World::new();
    let server = SmtpServer::start(&w.path("smtp"));
    let cfg = smtp_config(&w, server.port);
    // One letter delivered, then three the server refuses for good (550), each in its own run.
    let (ok, _) = generated(&w, &cfg, &input_as(&w, "group-1.json", "R-OK"));
    fl(&w, &cfg, &["send"]).ok();
    let mut failed = vec![];
    for (i, name) in ["group-2a.json", "group-2b.json", "group-3.json"].iter().enumerate() {
        server.set_mode(&format!("reply:550 5.7.1 Relaying denied ({i})"));
        let (gp, _) = generated(&w, &cfg, &input_as(&w, name, &format!("R-FAIL-{i}")));
        fl(&w, &cfg, &["send"]);
        assert_eq!(show(&w, &id(&gp))["message"]["status"], "failed");
        failed.push(gp["id"].as_i64().unwrap());
    }
    server.set_mode("accept");
    assert_eq!(show(&w, &id(&ok))["message"]["status"], "sent");
    // One of them a person resent already.
    let single = fl(&w, &cfg, &["regenerate", &failed[2].to_string()]).ok().one();
    let before = messages_in_journal(&w);

    // No terminal to ask on and no --yes: what it would do is shown, nothing is done.
    let filter = ["regenerate", "--status", "failed", "--transport", "smtp", "--kind", "gp-xdis91"];
    let r = fl(&w, &cfg, &filter);
    assert_eq!(r.code, 2, "{}", r.stderr);
    // As for any command that fails as a whole, one JSON error line for a program.
    assert_eq!(r.one()["error"]["code"], "usage", "{}", r.stdout);
    assert!(r.stderr.contains("needs a person's confirmation"), "{}", r.stderr);
    assert!(r.stderr.contains("3 messages match the filter"), "{}", r.stderr);
    for id in &failed {
        assert!(r.stderr.contains(&format!("  {id:>6}  gp-xdis91")), "message {id} not shown:\n{}", r.stderr);
    }
    assert!(r.stderr.contains("Relaying denied (0)"), "{}", r.stderr);
    assert!(!r.stderr.contains(&format!("  {:>6}  ", ok["id"])), "{}", r.stderr);
    assert!(r.stderr.contains("2 to regenerate, 1 not"), "{}", r.stderr);
    assert_eq!(messages_in_journal(&w), before, "nothing was regenerated");

    // With --yes: one JSON line each, as `regenerate ID` prints it; the one resent already is
    // refused by MedCom's rule with why, and the batch goes on; the exit code is the worst.
    let mut args = filter.to_vec();
    args.push("--yes");
    let r = fl(&w, &cfg, &args);
    assert_eq!(r.code, 2, "{}", r.stderr);
    let lines = r.json();
    assert_eq!(lines.len(), 3, "{}", r.stdout);
    for (line, from) in lines[..2].iter().zip(&failed) {
        assert_eq!(line["outcome"], "regenerated", "{line}");
        assert_eq!(line["source"], format!("journal message {from}"));
        assert_eq!(line["messages"][0]["regenerated_from"], *from, "{line}");
        assert_eq!(line["messages"][0]["status"], "generated", "{line}");
    }
    assert_eq!(lines[2]["outcome"], "error", "{}", lines[2]);
    assert_eq!(lines[2]["source"], format!("journal message {}", failed[2]));
    assert_eq!(lines[2]["error"]["code"], "usage");
    let reason = lines[2]["error"]["reason"].as_str().unwrap();
    assert!(reason.contains(&format!("already regenerated as message {}", single["messages"][0]["id"])), "{reason}");
    assert_eq!(messages_in_journal(&w), before + 2);

    // The resends go: the two, and the one resent by hand.
    let mails = server.mails();
    fl(&w, &cfg, &["send"]).ok();
    assert_eq!(server.mails(), mails + 3);

    // Nothing matches: nothing to do, exit 0.
    let r = fl(&w, &cfg, &["regenerate", "--status", "rejected", "--yes"]).ok();
    assert!(r.stdout.is_empty() && r.stderr.contains("no message matches"), "{}", r.stderr);
    // A filter is needed; an unknown status is named.
    assert_eq!(fl(&w, &cfg, &["regenerate"]).code, 2);
    let r = fl(&w, &cfg, &["regenerate", "--status", "broken"]);
    assert!(r.code == 2 && r.stderr.contains("--status `broken`: expected generated"), "{}", r.stderr);
}

/// Outbox transports and the receiver table `table` (CSV), attaching the patient's PDF.
fn routed_config(w: &World, table: &str) -> PathBuf {
    w.write("receivers.csv", table);
    w.config(
        "routed.toml",
        &ConfigOf {
            receivers: Some("receivers.csv"),
            default_format: Some("xdis91"),
            attach_pdf: Some(true),
            ..ConfigOf::outboxes()
        },
    )
}

const FHIR_TABLE: &str = "EAN;SOR;Formats\n5790000128686;1017421000016003;XDIS91 CareCommunication\n";
const XDIS91_TABLE: &str = "EAN;SOR;Formats\n5790000128686;1017421000016003;XDIS91\n";

/// The XDIS91 letter identifier of the group 2a sample (its identity rule, revision 0).
fn sample_xdis91_letter_id() -> String {
    let xml = std::fs::read(root().join("samples/output/FLS-AUH-2025-0002/gp-xdis91.xml")).unwrap();
    let text = String::from_utf8_lossy(&xml);
    let letter = &text[text.find("<Letter>").unwrap()..];
    let at = letter.find("<Identifier>").unwrap() + "<Identifier>".len();
    letter[at..at + letter[at..].find('<').unwrap()].to_string()
}

#[test]
fn a_carecommunication_refused_for_its_format_reaches_the_gp_as_the_same_letter_in_xdis91() {
    let w = World::new();
    let cfg = routed_config(&w, FHIR_TABLE);
    let (gp, _) = generated(&w, &cfg, &sample("group-2a.json"));
    assert_eq!(gp["kind"], "gp-carecommunication");
    fl(&w, &cfg, &["send"]).ok();
    let letter = gp["letter_id"].as_str().unwrap();
    let issue = ack_issue("MSG_RECEIVER_UNABLE_TO_RECEIVE_MSG_TYPE", "Modtager kan ikke modtage denne meddelelsestype");
    let ack = w.path("ack.xml");
    std::fs::write(&ack, acknowledgement("fatal-error", &uuid(1), &uuid(1001), letter, &[issue])).unwrap();
    fl(&w, &cfg, &["receipt", ack.to_str().unwrap()]).ok();
    assert_eq!(show(&w, &id(&gp))["message"]["status"], "rejected");

    // Not a dead end: a resend is refused (MedCom), and the refusal names the way on.
    let r = fl(&w, &cfg, &["regenerate", &id(&gp)]);
    assert_eq!(r.code, 2, "{}", r.stderr);
    assert!(r.stderr.contains(&format!("flspost regenerate {} --reroute", gp["id"])), "{}", r.stderr);
    // While the table still gives the GP CareCommunication, there is nowhere else to go.
    let r = fl(&w, &cfg, &["regenerate", &id(&gp), "--reroute"]);
    assert_eq!(r.code, 2, "{}", r.stderr);
    assert!(r.stderr.contains("gives its GP a CareCommunication too"), "{}", r.stderr);

    // The table is corrected: the GP takes XDIS91 only.
    w.write("receivers.csv", XDIS91_TABLE);
    let r = fl(&w, &cfg, &["regenerate", &id(&gp), "--reroute"]).ok().one();
    assert_eq!(r["outcome"], "regenerated", "{r}");
    let new = &r["messages"][0];
    assert_eq!(new["kind"], "gp-xdis91", "{r}");
    assert_eq!(new["status_code"], "nytbrev", "the same letter, not a correction: {r}");
    assert_eq!(new["regenerated_from"], gp["id"], "{r}");
    assert_eq!(new["transmission"], 1, "{r}");
    assert!(new["replaces"].is_null(), "{r}");
    // XDIS91's own identity rule for the same letter: as a first XDIS91 of it would have.
    assert_eq!(new["letter_id"], sample_xdis91_letter_id(), "{r}");
    assert_ne!(new["envelope_id"], gp["envelope_id"]);

    fl(&w, &cfg, &["send"]).ok();
    let xdis = only_file(&w.path("vans"), "xdis91-");
    let text = String::from_utf8_lossy(&xdis);
    assert!(text.contains("<StatusCode>nytbrev</StatusCode>"), "{text}");
    assert!(!text.contains("Rettet") && !text.contains("rettet"), "the GP never got the letter: {text}");
    let file = w.path("rerouted.xml");
    std::fs::write(&file, &xdis).unwrap();
    assert!(w.run(&["validate", file.to_str().unwrap()]).ok().stdout.contains("valid XDIS91"));

    // The journal links the two, both ways.
    let new_id = new["id"].to_string();
    assert_eq!(show(&w, &id(&gp))["regenerated_as"], new["id"]);
    assert_eq!(show(&w, &new_id)["message"]["status"], "sent");
    let text = w.run(&["journal", "show", &new_id]).ok().stdout;
    assert!(text.contains(&format!("regenerates     message {}", gp["id"])), "{text}");
    let text = w.run(&["journal", "show", &id(&gp)]).ok().stdout;
    assert!(text.contains(&format!("regenerated as  message {new_id}")), "{text}");
    // Once is enough: the refused letter was regenerated.
    let r = fl(&w, &cfg, &["regenerate", &id(&gp), "--reroute"]);
    assert_eq!(r.code, 2, "{}", r.stderr);
    assert!(r.stderr.contains(&format!("already regenerated as message {new_id}")), "{}", r.stderr);
    // The XDIS91 is a letter of its own: its resend is its transmission 2, same identifier.
    let (env, xletter) = (new["envelope_id"].as_str().unwrap(), new["letter_id"].as_str().unwrap());
    let xctl = w.path("xctl.xml");
    std::fs::write(&xctl, receipt("XCTL02", "R1", env, xletter, Some(("ikke_specificeret", "Fejl")))).unwrap();
    fl(&w, &cfg, &["receipt", xctl.to_str().unwrap()]).ok();
    let resend = fl(&w, &cfg, &["regenerate", &new_id]).ok().one();
    assert_eq!(resend["messages"][0]["kind"], "gp-xdis91", "{resend}");
    assert_eq!(resend["messages"][0]["letter_id"], new["letter_id"], "{resend}");
    assert_eq!(resend["messages"][0]["transmission"], 2, "{resend}");
}

#[test]
fn an_xdis91_the_receiver_cannot_take_goes_as_a_carecommunication_when_the_table_says_so() {
    let w = World::new();
    let cfg = routed_config(&w, XDIS91_TABLE);
    let (gp, _) = generated(&w, &cfg, &sample("group-2a.json"));
    assert_eq!(gp["kind"], "gp-xdis91");
    fl(&w, &cfg, &["send"]).ok();
    let env = gp["envelope_id"].as_str().unwrap();
    let letter = gp["letter_id"].as_str().unwrap();
    let xctl = receipt("XCTL02", "R1", env, letter, Some(("problem_med_version", "Modtager kan ikke modtage XDIS91")));
    let file = w.path("xctl.xml");
    std::fs::write(&file, xctl).unwrap();
    fl(&w, &cfg, &["receipt", file.to_str().unwrap()]).ok();
    assert_eq!(show(&w, &id(&gp))["message"]["status"], "rejected");
    w.write("receivers.csv", FHIR_TABLE);
    // Over a filter as well: every rejected GP letter, re-routed.
    let r = fl(&w, &cfg, &["regenerate", "--status", "rejected", "--reroute", "--yes"]).ok();
    assert!(r.stderr.contains("re-route: as gp-carecommunication transmission 1"), "{}", r.stderr);
    let line = r.one();
    let new = &line["messages"][0];
    assert_eq!(new["kind"], "gp-carecommunication", "{line}");
    assert_eq!(new["status_code"], "nytbrev", "{line}");
    assert_eq!(new["regenerated_from"], gp["id"], "{line}");
    fl(&w, &cfg, &["send"]).ok();
    let envelope = only_file(&w.path("vans"), "carecommunication-");
    let file = w.path("rerouted.xml");
    std::fs::write(&file, &envelope).unwrap();
    w.run(&["validate", file.to_str().unwrap()]).ok();
    let bundle = bundle_in_envelope(&envelope);
    let text = String::from_utf8_lossy(&bundle);
    assert!(text.contains("new-message"), "{text}");
    assert!(!text.contains("Rettet") && !text.contains("rettet"), "{text}");
    assert_eq!(fhir_value(&bundle, "MessageHeader", "id"), new["letter_id"].as_str().unwrap());
}

#[test]
fn only_a_gp_letter_is_rerouted_and_never_one_still_on_its_way() {
    let w = World::new();
    let cfg = routed_config(&w, XDIS91_TABLE);
    let (gp, patient) = generated(&w, &cfg, &sample("group-2a.json"));
    fl(&w, &cfg, &["send"]).ok();
    w.write("receivers.csv", FHIR_TABLE);
    let r = fl(&w, &cfg, &["regenerate", &id(&patient), "--reroute"]);
    assert_eq!(r.code, 2, "{}", r.stderr);
    assert!(r.stderr.contains("the patient's letter"), "{}", r.stderr);
    // Sent, no answer yet: it may still reach the GP (VANS converts), so it is not sent twice.
    let r = fl(&w, &cfg, &["regenerate", &id(&gp), "--reroute"]);
    assert_eq!(r.code, 2, "{}", r.stderr);
    assert!(r.stderr.contains("may still reach the GP"), "{}", r.stderr);
    assert_eq!(messages_in_journal(&w), 2);
}

/// `flspost ARGS` on a terminal (a pseudo-terminal `script` gives it), `answer` typed in.
fn on_terminal(w: &World, args: &[&str], answer: &str) -> Run {
    use std::io::Write;
    let script = ensure_tool("script", "bsdutils");
    let line = std::iter::once(env!("CARGO_BIN_EXE_flspost").to_string())
        .chain(args.iter().map(|a| format!("'{a}'")))
        .collect::<Vec<_>>()
        .join(" ");
    let mut child = std::process::Command::new(script)
        .args(["-qec", &line, "/dev/null"])
        .env("FLSPOST_JOURNAL", w.journal_location())
        .env("FLSPOST_FAKE_NOW", FAKE_NOW)
        .env_remove("FLSPOST_CONFIG")
        .stdin(std::process::Stdio::piped())
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    child.stdin.take().unwrap().write_all(answer.as_bytes()).unwrap();
    Run::from(child.wait_with_output().unwrap())
}

#[test]
fn on_a_terminal_regenerate_over_a_filter_asks_first() {
    let w = World::new();
    let cfg = outbox_config(&w);
    let (gp, _) = generated(&w, &cfg, &sample("group-2a.json"));
    fl(&w, &cfg, &["send"]).ok();
    let (env, letter) = (gp["envelope_id"].as_str().unwrap(), gp["letter_id"].as_str().unwrap());
    let file = w.path("xctl.xml");
    std::fs::write(&file, receipt("XCTL02", "R1", env, letter, Some(("ikke_specificeret", "Fejl")))).unwrap();
    fl(&w, &cfg, &["receipt", file.to_str().unwrap()]).ok();
    let before = messages_in_journal(&w);
    let args = ["regenerate", "--status", "rejected", "--config", cfg.to_str().unwrap()];
    // The terminal shows stdout and stderr as one stream.
    let no = on_terminal(&w, &args, "n\n");
    assert_eq!(no.code, 0, "{}{}", no.stdout, no.stderr);
    assert!(no.stdout.contains("Regenerate 1 message? [y/N]"), "{}", no.stdout);
    assert!(no.stdout.contains("nothing was regenerated"), "{}", no.stdout);
    assert_eq!(messages_in_journal(&w), before);
    let yes = on_terminal(&w, &args, "y\n");
    assert_eq!(yes.code, 0, "{}{}", yes.stdout, yes.stderr);
    assert!(yes.stdout.contains("\"outcome\":\"regenerated\""), "{}", yes.stdout);
    assert_eq!(messages_in_journal(&w), before + 1);
}
