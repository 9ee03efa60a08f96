//! Every line a command prints on stdout is valid against the JSON Schema of its kind in
//! `schemas/json/` (draft 2020-12, checked with the `jsonschema` crate): the real binary runs
//! over the samples and the scenarios a gateway meets (generate, exists, corrected, refused
//! inputs; send to outboxes and to a real SMTP server that refuses, holds and fails; MedCom
//! receipts and FHIR Acknowledgements, good and bad; regenerate; journal list, show, verify;
//! whole-command errors), and each schema is strict: a renamed field anywhere in a line fails
//! it. The error codes the schemas allow are the ones the docs' table lists.

use crate::common::*;
use serde_json::Value;
use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};

/// The kinds of stdout line, each `schemas/json/<kind>.schema.json`.
const KINDS: [&str; 17] = [
    "generate-summary",
    "error-line",
    "send-message",
    "send-transport",
    "receipt",
    "journal-list",
    "journal-show",
    "journal-verify",
    "journal-queue",
    "journal-summary",
    "journal-handle",
    "journal-audit",
    "journal-erase",
    "resend-due",
    "validate",
    "status",
    "user-list",
];

fn schema_path(kind: &str) -> PathBuf {
    root().join(format!("schemas/json/{kind}.schema.json"))
}

fn schema(kind: &str) -> Value {
    let p = schema_path(kind);
    serde_json::from_str(&std::fs::read_to_string(&p).unwrap_or_else(|e| panic!("{}: {e}", p.display())))
        .unwrap_or_else(|e| panic!("{}: {e}", p.display()))
}

pub fn validator(kind: &str) -> jsonschema::Validator {
    let s = schema(kind);
    if let Err(e) = jsonschema::meta::validate(&s) {
        panic!("{kind}.schema.json is no valid JSON Schema: {e}");
    }
    assert_eq!(s["$schema"], "https://json-schema.org/draft/2020-12/schema", "{kind}: draft 2020-12");
    jsonschema::draft202012::new(&s).unwrap_or_else(|e| panic!("{kind}.schema.json: {e}"))
}

/// Every stdout line of the runs, by kind, with what printed it.
#[derive(Default)]
struct Lines {
    by_kind: BTreeMap<&'static str, Vec<(String, Value)>>,
}

impl Lines {
    /// Takes `r`'s stdout, every line of which must be JSON, naming the kind of each.
    fn take(&mut self, what: &str, r: &Run) -> Vec<Value> {
        let command = what.split_whitespace().next().unwrap();
        let mut out = vec![];
        for line in r.stdout.lines() {
            let v: Value = serde_json::from_str(line).unwrap_or_else(|e| panic!("{what}: not JSON ({e}): {line}"));
            let failed_whole = v["outcome"] == "error" && v.get("source").is_none() && v.get("file").is_none();
            let kind = match command {
                _ if failed_whole => "error-line",
                "generate" | "regenerate" => "generate-summary",
                "send" if v.get("outcome").is_some() => "send-transport",
                "send" => "send-message",
                "receipt" => "receipt",
                "list" => "journal-list",
                "show" => "journal-show",
                "verify" => "journal-verify",
                "queue" => "journal-queue",
                "summary" => "journal-summary",
                "handle" => "journal-handle",
                "audit" => "journal-audit",
                "erase" => "journal-erase",
                "resend-due" => "resend-due",
                "validate" => "validate",
                "status" => "status",
                "user" => "user-list",
                other => panic!("no kind for {other}"),
            };
            self.by_kind.entry(kind).or_default().push((format!("{what}: {line}"), v.clone()));
            out.push(v);
        }
        out
    }
}

/// Runs `args` in `w` (`--config cfg` added when given) and takes its lines.
fn run(lines: &mut Lines, w: &World, cfg: Option<&Path>, args: &[&str]) -> Run {
    let mut all: Vec<&str> = args.to_vec();
    if let Some(c) = cfg {
        all.extend(["--config", c.to_str().unwrap()]);
    }
    let r = w.run(&all);
    let what = args.iter().filter(|a| *a != &"journal").copied().collect::<Vec<_>>().join(" ");
    lines.take(&what, &r);
    r
}

/// The journal's every message and row, as `journal list`, `list --unanswered`, `show` and
/// `verify` print them; then a patient erased.
fn read_journal(lines: &mut Lines, w: &World) {
    // A message's id is a number, a refused input's a string (`R3`).
    let ids: Vec<String> = run(lines, w, None, &["journal", "list", "--json"])
        .json()
        .iter()
        .map(|m| m["id"].as_str().map(str::to_string).unwrap_or_else(|| m["id"].to_string()))
        .collect();
    run(lines, w, None, &["journal", "list", "--unanswered=0", "--json"]);
    for id in ids {
        run(lines, w, None, &["journal", "show", &id, "--json"]);
    }
    run(lines, w, None, &["journal", "show", "1", "--json", "--reveal-cpr"]);
    run(lines, w, None, &["journal", "verify", "--json"]);
    // The work queue: every problem, the summary, one closed by hand, and the audit log.
    let open = run(lines, w, None, &["journal", "queue", "--all", "--json"]).json();
    run(lines, w, None, &["journal", "summary", "--json"]);
    if let Some(p) = open.iter().find(|p| p["state"] == "open") {
        run(lines, w, None, &["journal", "handle", p["key"].as_str().unwrap(), "--note", "checked", "--json"]);
    }
    run(lines, w, None, &["journal", "audit", "--json"]);
    // Last, as it empties a patient's rows: the group 1 patient erased (or nothing, where
    // there is none), and the journal read again.
    run(lines, w, None, &["journal", "erase", "--cpr", "2512489996", "--force", "--yes", "--json"]);
    // The audit log after it: the erasure's row; a backup put back and written to: `restored`
    // (on SQLite, whose `journal backup` marks its copies; PostgreSQL is backed up with pg_dump).
    run(lines, w, None, &["journal", "audit", "--json"]);
    if !on_postgres() {
        let copy = w.path("audit-backup.sqlite");
        w.run(&["journal", "backup", copy.to_str().unwrap()]).ok();
        let mut restored = World::new();
        restored.fake_now = w.fake_now.clone();
        std::fs::create_dir_all(restored.journal().parent().unwrap()).unwrap();
        std::fs::copy(&copy, restored.journal()).unwrap();
        let mut v = sample_json("group-2a.json");
        v["result_id"] = "FLS-AUH-2025-0098".into();
        restored.generate(&restored.write("new.json", &v.to_string())).ok();
        run(lines, &restored, None, &["journal", "audit", "--json"]);
    }
    // The numbers for a host without the console, and the console's people.
    run(lines, w, None, &["status", "--json"]);
    let added = w.run_stdin(&["user", "add", "anna", "--role", "operator"], b"a-long-enough-password");
    assert_eq!(added.code, 0, "{}", added.stderr);
    run(lines, w, None, &["user", "list", "--json"]);
    run(lines, w, None, &["journal", "list", "--json"]);
    run(lines, w, None, &["journal", "verify", "--json"]);
}

/// A GLN with a valid GS1 check digit: `579000001nnn` and its check digit.
fn gln(n: u32) -> String {
    let base = format!("579000001{n:03}");
    let sum: u32 =
        base.chars().enumerate().map(|(i, c)| c.to_digit(10).unwrap() * if i % 2 == 0 { 1 } else { 3 }).sum();
    format!("{base}{}", (10 - sum % 10) % 10)
}

/// The scenarios: every kind of line, and within a kind its variants.
fn scenarios() -> Lines {
    let mut lines = Lines::default();
    let l = &mut lines;

    // The samples, to outboxes: generated, exists, corrected, refused, unreadable, a warning.
    let w = World::new();
    let out = w.out();
    let outbox = w.outbox_config();
    let mut gen = vec!["generate", "--out-dir", out.to_str().unwrap()];
    let inputs: Vec<String> = SAMPLES.iter().map(|s| sample(s).to_str().unwrap().to_string()).collect();
    gen.extend(inputs.iter().map(String::as_str));
    run(l, &w, Some(&outbox), &gen).ok();
    run(l, &w, Some(&outbox), &["generate", inputs[0].as_str()]).ok();
    let mut corrected = sample_json("group-1.json");
    corrected["gp"]["name"] = "Lægehuset Nord".into();
    corrected["patient"]["given_name"] = "Łucja".into(); // transliterated in XDIS91: a warning
    let corrected = w.write("in/corrected.json", &corrected.to_string());
    let bad =
        w.write("in/bad.json", &sample_json("group-2a.json").to_string().replace("5790000128686", "5790000128687"));
    let batch = w.write("in/batch.jsonl", &sample_lines("BATCH", 3).join("\n"));
    let missing = w.path("in/missing.json");
    // Sent; the negative and positive sample receipts, again (duplicate), an unknown envelope,
    // files that are no receipt, not valid, absent.
    run(l, &w, Some(&outbox), &["send"]).ok();
    let receipts = root().join("samples/receipts");
    let (neg, pos) = (receipts.join("negative-group-2a.xml"), receipts.join("positive-group-1.xml"));
    run(l, &w, None, &["receipt", neg.to_str().unwrap(), pos.to_str().unwrap()]).ok();
    run(l, &w, None, &["receipt", pos.to_str().unwrap()]).ok();
    run(l, &w, Some(&outbox), &["generate", corrected.to_str().unwrap()]).ok();
    run(l, &w, Some(&outbox), &["generate", bad.to_str().unwrap(), missing.to_str().unwrap(), batch.to_str().unwrap()]);
    run(l, &w, Some(&outbox), &["send"]).ok();
    let unknown = w.path("in/unknown.xml");
    std::fs::write(&unknown, receipt("XCTL03", "90000001", "NOSUCHENVELOPE", "NOSUCHLETTER", None)).unwrap();
    let invalid = w.path("in/invalid.xml");
    let text = String::from_utf8_lossy(&std::fs::read(&pos).unwrap()).replace("<Letter>", "<Letter><Bogus/>");
    std::fs::write(&invalid, text.as_bytes()).unwrap();
    let not_receipt = w.write("in/not-a-receipt.txt", "hello\n");
    let absent = w.path("in/absent.xml");
    run(
        l,
        &w,
        None,
        &[
            "receipt",
            unknown.to_str().unwrap(),
            invalid.to_str().unwrap(),
            not_receipt.to_str().unwrap(),
            absent.to_str().unwrap(),
            out.join("FLS-AUH-2025-0001/patient-memo.xml").to_str().unwrap(),
        ],
    );
    // Acknowledgements naming letters sent as XDIS91, as VANS forwards them unconverted: read as
    // XCTL03 and XCTL02.
    let xdis91_sent: Vec<String> = run(l, &w, None, &["journal", "list", "--status", "sent", "--json"])
        .ok()
        .json()
        .iter()
        .filter(|m| m["kind"] == "gp-xdis91")
        .map(|m| m["letter_id"].as_str().unwrap().to_string())
        .collect();
    assert!(xdis91_sent.len() >= 2, "{xdis91_sent:?}");
    let as_xctl: Vec<String> = [("ok", 0), ("fatal-error", 1)]
        .iter()
        .map(|(code, i)| {
            let issues = [ack_issue("MSG_Mailbox_Out_Of_Operation", "lukket")];
            let issues: &[String] = if *code == "ok" { &[] } else { &issues };
            let f = w.path(&format!("in/as-xctl-{i}.xml"));
            let n = 700 + *i as u32;
            std::fs::write(&f, acknowledgement(code, &uuid(n), &uuid(n + 1000), &xdis91_sent[*i], issues)).unwrap();
            f.to_str().unwrap().to_string()
        })
        .collect();
    run(l, &w, None, &["receipt", as_xctl[0].as_str(), as_xctl[1].as_str()]).ok();
    // The rejected letter resent; then a damaged message (found by send) and a damaged input.
    run(l, &w, None, &["regenerate", "3"]).ok();
    let extra = w.write("in/extra.json", &sample_lines("DAMAGED", 1).pop().unwrap());
    let extra_ids: Vec<i64> = run(l, &w, Some(&outbox), &["generate", extra.to_str().unwrap()]).ok().one()["messages"]
        .as_array()
        .unwrap()
        .iter()
        .map(|m| m["id"].as_i64().unwrap())
        .collect();
    {
        let c = w.db();
        c.execute("UPDATE message_bytes SET bytes = ?2 WHERE message_id = ?1", (extra_ids[0], vec![0u8])).unwrap();
        c.execute("UPDATE inputs SET input_json = replace(input_json, 'AUH', 'HEM') WHERE id = 1", []).unwrap();
    }
    run(l, &w, Some(&outbox), &["send"]);
    read_journal(l, &w);
    // Whole commands that fail: no config for waiting messages, a bad config, no journal,
    // no such message.
    let w2 = World::new();
    w2.generate(&sample("group-1.json")).ok();
    run(l, &w2, None, &["send"]);
    let broken = w2.write("broken.toml", "[send]\nmax_attempts = \"five\"\n");
    run(l, &w2, Some(&broken), &["generate", inputs[1].as_str()]);
    run(l, &w2, Some(&broken), &["receipt", pos.to_str().unwrap()]);
    let nowhere = w2.path("nowhere.sqlite");
    for args in [
        vec!["journal", "list", "--json", "--journal", nowhere.to_str().unwrap()],
        vec!["journal", "verify", "--json", "--journal", nowhere.to_str().unwrap()],
        vec!["journal", "show", "999", "--json"],
        vec!["regenerate", "999"],
    ] {
        let r = run(l, &w2, None, &args);
        assert_ne!(r.code, 0, "{args:?}");
    }

    // A real SMTP server: a hold, a paused transport with messages waiting, a genuine 5xx.
    let w = World::new();
    let server = SmtpServer::start(&w.path("smtp"));
    let smtp = w.write(
        "smtp.toml",
        &format!(
            "[send]\nhold_after_identical_permanent = 2\n\n[transport.gp]\ntype = \"smtp\"\n\
             url = \"smtp://127.0.0.1:{}\"\nfrom = \"fls@auh.example.dk\"\nto = \"vans@vans.example.dk\"\n\
             timeout_seconds = 5\n\n[transport.patient]\ntype = \"outbox\"\ndir = \"dp\"\n",
            server.port
        ),
    );
    let gps: Vec<String> = (1..=4).map(gln).collect();
    let many: Vec<String> = gps
        .iter()
        .enumerate()
        .map(|(i, gp)| {
            let mut v = sample_json(SAMPLES[i]);
            v["result_id"] = format!("SMTP-{i}").into();
            v["gp"]["ean"] = gp.as_str().into();
            v.to_string()
        })
        .collect();
    let many = w.write("in/many.jsonl", &many.join("\n"));
    run(l, &w, Some(&smtp), &["generate", many.to_str().unwrap()]).ok();
    server.set_mode("rcpt:550 5.1.1 <{rcpt}>: Recipient address rejected");
    run(l, &w, Some(&smtp), &["send"]);
    server.set_mode("tempfail");
    run(l, &w, Some(&smtp), &["send"]);
    server.set_mode(&format!("match:{}:reply:554 5.7.1 refused", gps[3]));
    run(l, &w, Some(&smtp), &["send"]);
    read_journal(l, &w);
    drop(server);

    // CareCommunication (FHIR) to the GP: Acknowledgements ok, fatal-error, transient-error,
    // one for no letter of ours; and the kombi hand-off for the patient.
    let mut w = World::new();
    let cc = w.write(
        "cc.toml",
        &format!(
            "[gp]\nreceivers = \"{}\"\ndefault_format = \"xdis91\"\nattach_pdf = true\n\n\
             [transport.gp]\ntype = \"outbox\"\ndir = \"vans\"\n\n[transport.patient]\ntype = \"outbox\"\n\
             dir = \"dp\"\nhandoff = \"kombi\"\n",
            root().join("samples/receivers.csv").display()
        ),
    );
    let fhir: Vec<String> = ["group-2a.json", "group-2b.json", "group-3.json"]
        .iter()
        .map(|s| sample(s).to_str().unwrap().to_string())
        .collect();
    let out = w.out();
    let mut gen = vec!["generate", "--out-dir", out.to_str().unwrap()];
    gen.extend(fhir.iter().map(String::as_str));
    let letters: Vec<String> = run(l, &w, Some(&cc), &gen)
        .ok()
        .json()
        .iter()
        .map(|s| {
            let gp = s["messages"].as_array().unwrap().iter().find(|m| m["kind"] == "gp-carecommunication");
            gp.unwrap_or_else(|| panic!("no CareCommunication: {s}"))["letter_id"].as_str().unwrap().to_string()
        })
        .collect();
    run(l, &w, Some(&cc), &["send"]).ok();
    let acks = [
        acknowledgement("ok", &uuid(1), &uuid(1001), &letters[0], &[]),
        acknowledgement(
            "fatal-error",
            &uuid(2),
            &uuid(1002),
            &letters[1],
            &[ack_issue("MSG_VALUESET_VALUE_UNKNOWN", "Værdien findes ikke i værdisættet")],
        ),
        acknowledgement(
            "transient-error",
            &uuid(3),
            &uuid(1003),
            &letters[2],
            &[ack_issue("MSG_Mailbox_Out_Of_Operation", "Postkassen er lukket")],
        ),
        acknowledgement("ok", &uuid(4), &uuid(1004), &uuid(4444), &[]),
    ];
    let files: Vec<String> = acks
        .iter()
        .enumerate()
        .map(|(i, b)| {
            let p = w.path(&format!("ack-{i}.xml"));
            std::fs::write(&p, b).unwrap();
            p.to_str().unwrap().to_string()
        })
        .collect();
    let mut rec = vec!["receipt"];
    rec.extend(files.iter().map(String::as_str));
    run(l, &w, Some(&cc), &rec);
    run(l, &w, Some(&cc), &["receipt", files[0].as_str()]).ok();
    w.fake_now = Some("2025-03-20T11:00:00Z".into());
    run(l, &w, Some(&cc), &["send"]).ok();
    // The letter without an answer: due for a person (the default policy), resent (the test
    // protocol's), at the limit (one resend allowed, made).
    run(l, &w, Some(&cc), &["resend-due"]).ok();
    let policy = |name: &str, table: &str| {
        let text = std::fs::read_to_string(&cc).unwrap();
        w.write(name, &format!("{text}\n[resend]\n{table}\n"))
    };
    let automatic = policy("auto.toml", "preset = \"certification\"");
    let one = policy("one.toml", "preset = \"certification\"\nmax_resends = 1");
    run(l, &w, Some(&automatic), &["resend-due"]).ok();
    run(l, &w, Some(&automatic), &["send"]).ok();
    w.fake_now = Some("2025-03-20T12:00:00Z".into());
    run(l, &w, Some(&one), &["resend-due"]).ok();
    read_journal(l, &w);
    // `validate --json`: valid to both, unsplit (XDIS91 without MedCom's schema), not a message;
    // with MedCom's material: outside flspost's profile only, invalid to the standard, and XDIS91
    // given the official schema.
    let sample = |p: &str| root().join("samples").join(p).display().to_string();
    let mut files = vec![
        sample("carecommunication-bundle.xml"),
        sample("output/FLS-AUH-2025-0001/gp-xdis91.xml"),
        sample("receivers.csv"),
    ];
    let mut extra = vec![];
    if let Some(r) = reference() {
        let m = r.join("medcom-fhir");
        files.push(
            m.join("carecommunication/Bundle-S-B-new-720f68cf-21bf-4c40-a90c-a113e00e88a8.xml").display().to_string(),
        );
        files.push(m.join("validation-cases/01-no-eventCoding.xml").display().to_string());
        extra.push("--xdis91-schema".to_string());
        extra.push(r.join("medcom-oioxml/os2korrespondance/xsd/2006/07/01/EMessage.xsd").display().to_string());
    }
    let mut args = vec!["validate", "--json"];
    args.extend(files.iter().map(String::as_str));
    run(l, &w, None, &args);
    if !extra.is_empty() {
        let mut args = vec!["validate", "--json"];
        args.extend(extra.iter().map(String::as_str));
        args.push(files[1].as_str());
        run(l, &w, None, &args);
    }
    lines
}

/// Objects whose keys are data, not fields: the summary's problems by cause (a cause code holds
/// the receiver's own refuse code, any text).
const KEYED_BY_DATA: &[&str] = &["problems", "open_problems"];

/// A copy of `v` with the key at `path` (object keys, from the top) renamed, for every
/// object key anywhere in `v` (the keys of [`KEYED_BY_DATA`] objects aside).
fn renamed_everywhere(v: &Value) -> Vec<(String, Value)> {
    fn walk(v: &Value, at: &mut Vec<String>, out: &mut Vec<Vec<String>>) {
        match v {
            Value::Object(m) => {
                let data_keys = at.last().is_some_and(|k| KEYED_BY_DATA.contains(&k.as_str()));
                for (k, x) in m {
                    at.push(k.clone());
                    if !data_keys {
                        out.push(at.clone());
                    }
                    walk(x, at, out);
                    at.pop();
                }
            }
            Value::Array(a) => {
                for (i, x) in a.iter().enumerate().take(1) {
                    at.push(format!("[{i}]"));
                    walk(x, at, out);
                    at.pop();
                }
            }
            _ => {}
        }
    }
    let mut paths = vec![];
    walk(v, &mut vec![], &mut paths);
    paths
        .into_iter()
        .map(|path| {
            let mut copy = v.clone();
            let mut node = &mut copy;
            for step in &path[..path.len() - 1] {
                node = match step.strip_prefix('[').and_then(|s| s.strip_suffix(']')) {
                    Some(i) => &mut node[i.parse::<usize>().unwrap()],
                    None => &mut node[step.as_str()],
                };
            }
            let last = path.last().unwrap();
            let m = node.as_object_mut().unwrap();
            let x = m.remove(last).unwrap();
            m.insert(format!("{last}_renamed"), x);
            (path.join("."), copy)
        })
        .collect()
}

#[test]
fn every_stdout_line_is_valid_against_its_schema_and_a_renamed_field_is_not() {
    let lines = scenarios();
    let validators: BTreeMap<&str, jsonschema::Validator> = KINDS.iter().map(|k| (*k, validator(k))).collect();
    let mut problems = vec![];
    for kind in KINDS {
        let seen = lines.by_kind.get(kind).map(Vec::as_slice).unwrap_or(&[]);
        assert!(!seen.is_empty(), "no `{kind}` line was printed by the scenarios");
        let v = &validators[kind];
        for (what, line) in seen {
            for e in v.iter_errors(line) {
                problems.push(format!("{kind}: {what}\n    at {}: {e}", e.instance_path()));
            }
        }
        // Strict: renaming any field of the first lines of each kind makes them invalid.
        for (what, line) in seen.iter().take(25) {
            for (path, copy) in renamed_everywhere(line) {
                if v.is_valid(&copy) {
                    problems.push(format!("{kind}: still valid with `{path}` renamed: {what}"));
                }
            }
        }
    }
    assert!(problems.is_empty(), "{} problems:\n{}", problems.len(), problems.join("\n"));

    // The variants that matter to a program were all met (so the schemas were tried on them).
    let values = |kind: &str, pointer: &str| -> BTreeSet<String> {
        lines.by_kind[kind].iter().filter_map(|(_, v)| v.pointer(pointer)).map(|x| x.to_string()).collect()
    };
    let codes = values("send-message", "/code");
    for code in ["null", "\"transport_held\"", "\"smtp_permanent\"", "\"smtp_transient\"", "\"journal_damaged\""] {
        assert!(codes.contains(code), "no send line with code {code}: {codes:?}");
    }
    let stops = values("send-transport", "/outcome");
    assert_eq!(stops, ["\"held\"", "\"paused\""].iter().map(|s| s.to_string()).collect());
    let outcomes = values("generate-summary", "/outcome");
    for o in ["generated", "exists", "corrected", "regenerated", "error"] {
        assert!(outcomes.contains(&format!("\"{o}\"")), "no generate line {o}: {outcomes:?}");
    }
    let receipt_codes =
        values("receipt", "/code").into_iter().chain(values("receipt", "/error/code")).collect::<BTreeSet<_>>();
    for code in [
        "null",
        "\"xctl_refused\"",
        "\"fhir_fatal\"",
        "\"receipt_unknown_envelope\"",
        "\"receipt_unknown_letter\"",
        "\"receipt_invalid\"",
        "\"receipt_unrecognised\"",
        "\"receipt_unreadable\"",
    ] {
        assert!(receipt_codes.contains(code), "no receipt line with code {code}: {receipt_codes:?}");
    }
    let results = values("receipt", "/result/outcome");
    for o in ["acknowledged", "rejected", "duplicate", "unknown-envelope", "resend-queued", "unknown-letter"] {
        assert!(results.contains(&format!("\"{o}\"")), "no receipt line {o}: {results:?}");
    }
    assert!(values("receipt", "/acknowledgement/code").len() == 3, "ok, fatal-error, transient-error");
    assert_eq!(values("receipt", "/read_as"), ["\"XCTL02\"", "\"XCTL03\""].iter().map(|s| s.to_string()).collect());
    assert!(lines.by_kind["generate-summary"].iter().any(|(_, v)| v.get("warnings").is_some()), "no warning");
    assert!(lines.by_kind["generate-summary"].iter().any(|(_, v)| v.get("line").is_some()), "no batch line");
    let kinds = values("journal-list", "/kind");
    assert_eq!(kinds.len(), 5, "every kind of message listed, and a refused input: {kinds:?}");
    assert!(lines.by_kind["journal-list"].iter().any(|(_, v)| v.get("waiting_minutes").is_some()));
    let verify = values("journal-verify", "/what");
    assert_eq!(verify.len(), 2, "a damaged message and a damaged input: {verify:?}");
}

/// Every code a schema allows, wherever it sits.
fn codes_in(v: &Value, under_code: bool, out: &mut BTreeSet<String>) {
    match v {
        Value::String(s) if under_code => {
            out.insert(s.clone());
        }
        Value::Object(m) => {
            for (k, x) in m {
                let code = under_code || (k == "code" && !m.contains_key("bundle_id"));
                // Inside `code`, only the values it may take: `const` and `enum`.
                match (under_code, k.as_str()) {
                    (true, "const" | "enum" | "anyOf" | "not") | (false, _) => codes_in(x, code, out),
                    _ => {}
                }
            }
        }
        Value::Array(a) => a.iter().for_each(|x| codes_in(x, under_code, out)),
        _ => {}
    }
}

#[test]
fn the_error_codes_the_schemas_allow_are_the_ones_the_docs_list() {
    let mut allowed = BTreeSet::new();
    for kind in KINDS {
        codes_in(&schema(kind), false, &mut allowed);
    }
    // The Acknowledgement's own code (ok, fatal-error) is the receiver's word, not ours.
    for theirs in ["ok", "fatal-error", "transient-error", "string", "null"] {
        allowed.remove(theirs);
    }
    let doc = std::fs::read_to_string(root().join("docs/gateway.md")).unwrap();
    let section = doc.split("## Error codes").nth(1).unwrap().split("\n## ").next().unwrap();
    let mut listed = BTreeSet::new();
    for row in section.lines().filter(|l| l.starts_with("| `")) {
        let first = row.split('|').nth(1).unwrap();
        for code in first.split('`').skip(1).step_by(2) {
            listed.insert(code.to_string());
        }
    }
    assert_eq!(allowed, listed, "schemas/json allow these codes, docs/gateway.md's Error codes table lists those");
    // And the error objects several schemas share are the same.
    let generate = schema("generate-summary");
    let line = schema("error-line");
    let (mut a, b) = (generate["$defs"]["error"].clone(), line["$defs"]["error"].clone());
    let codes = a["properties"]["code"]["enum"].as_array_mut().unwrap();
    codes.retain(|c| c != "input_unreadable");
    // What `serve`'s intake refuses a whole request with, before any input is read.
    let mut b = b;
    let request_only = ["unauthorized", "too_large", "server_busy", "timeout", "bad_request"];
    b["properties"]["code"]["enum"].as_array_mut().unwrap().retain(|c| !request_only.contains(&c.as_str().unwrap()));
    assert_eq!(a, b, "generate-summary's error is error-line's, less the intake's refusals, plus input_unreadable");
}

/// The strictness check itself sees a broken schema: one whose field was renamed no longer
/// validates the line it was written for.
#[test]
fn a_schema_with_a_renamed_field_rejects_real_output() {
    let w = World::new();
    let r = w.generate(&sample("group-1.json")).ok();
    let line = r.one();
    let mut s = schema("generate-summary");
    assert!(jsonschema::draft202012::new(&s).unwrap().is_valid(&line), "{line}");
    let props = s["$defs"]["message"]["properties"].as_object_mut().unwrap();
    let letter = props.remove("letter_id").unwrap();
    props.insert("letter_identifier".into(), letter);
    let broken = jsonschema::draft202012::new(&s).unwrap();
    assert!(!broken.is_valid(&line), "a schema naming `letter_identifier` accepted `letter_id`");
}
