//! `flspost generate` from the outside: what the EDI gateway and a developer rely on.

use crate::common::*;
use serde_json::json;
use std::os::unix::fs::PermissionsExt;

#[test]
fn each_sample_gives_a_folder_with_both_messages_and_a_json_summary() {
    let w = World::new();
    for s in SAMPLES {
        let r = w.generate(&sample(s)).ok();
        let summary = r.one();
        assert_eq!(summary["outcome"], "generated");
        let dir = std::path::PathBuf::from(summary["dir"].as_str().unwrap());
        assert_eq!(dir, w.out().join(summary["result_id"].as_str().unwrap()));
        let msgs = summary["messages"].as_array().unwrap();
        assert_eq!(msgs.len(), 2);
        let gp = &msgs[0];
        assert_eq!(gp["kind"], "gp-xdis91");
        assert_eq!(gp["letter_id"].as_str().unwrap().len(), 14);
        assert_eq!(gp["envelope_id"].as_str().unwrap().len(), 14);
        assert_eq!(gp["status_code"], "nytbrev");
        let memo = &msgs[1];
        assert_eq!(memo["kind"], "patient-memo");
        for p in [&gp["path"], &memo["path"], &memo["pdf"]] {
            let p = std::path::Path::new(p.as_str().unwrap());
            assert!(p.is_file(), "{p:?}");
            assert_eq!(std::fs::metadata(p).unwrap().permissions().mode() & 0o777, 0o600, "{p:?}");
        }
        assert_eq!(std::fs::metadata(&dir).unwrap().permissions().mode() & 0o777, 0o700);
        // No CPR in ordinary output.
        let cpr = sample_json(s)["patient"]["cpr"].as_str().unwrap().to_string();
        assert!(!r.stdout.contains(&cpr) && !r.stderr.contains(&cpr));
    }
    if !on_postgres() {
        assert_eq!(std::fs::metadata(w.journal()).unwrap().permissions().mode() & 0o777, 0o600);
    }
}

#[test]
fn xdis91_is_iso_8859_1_with_danish_local_times_and_escaped_text() {
    let mut w = World::new();
    let mut input = sample_json("group-2a.json");
    input["patient"]["surname"] = json!("Berggren & \"Søn\" <Test>");
    // 14:05 in Copenhagen summer time is 12:05 UTC.
    input["classified_at"] = json!("2025-03-31T12:05:00Z");
    input["scan"]["date"] = json!("2025-03-31");
    w.fake_now = Some("2025-04-01T09:30:00Z".into());
    let p = w.write("in.json", &input.to_string());
    let s = w.generate(&p).ok().one();
    let bytes = std::fs::read(s["messages"][0]["path"].as_str().unwrap()).unwrap();
    assert!(bytes.starts_with(b"<?xml version=\"1.0\" encoding=\"ISO-8859-1\"?>"));
    assert!(std::str::from_utf8(&bytes).is_err(), "Danish letters must be Latin-1 bytes, not UTF-8");
    let text: String = bytes.iter().map(|&b| b as char).collect();
    assert!(text.contains("<PersonGivenName>Åge</PersonGivenName>"));
    assert!(
        text.contains("Berggren &amp; \"Søn\" &lt;Test&gt;")
            || text.contains("Berggren &amp; &quot;Søn&quot; &lt;Test&gt;"),
        "{text}"
    );
    // Authorisation: classified_at in Danish summer time; Sent: the clock in winter... also summer (1 April).
    assert!(text.contains("<Authorisation>\n        <Date>2025-03-31</Date>\n        <Time>14:05</Time>"), "{text}");
    assert!(text.contains("<Sent>\n      <Date>2025-04-01</Date>\n      <Time>11:30</Time>"), "{text}");
    assert!(text.contains("<Break/>"));
    let doc = roxmltree::Document::parse(&text).unwrap();
    let t01 = doc.descendants().find(|n| n.has_tag_name("Text01")).unwrap();
    assert!(t01.children().all(|c| c.is_text() || c.has_tag_name("Break")));
}

#[test]
fn winter_time_is_utc_plus_one() {
    let w = World::new();
    let s = w.generate(&sample("group-1.json")).ok().one();
    let text: String =
        std::fs::read(s["messages"][0]["path"].as_str().unwrap()).unwrap().iter().map(|&b| b as char).collect();
    // classified_at 2025-03-10T14:05:00+01:00; clock 2025-03-20T09:30Z = 10:30 in Copenhagen.
    assert!(text.contains("<Date>2025-03-10</Date>\n        <Time>14:05</Time>"), "{text}");
    assert!(text.contains("<Date>2025-03-20</Date>\n      <Time>10:30</Time>"), "{text}");
}

#[test]
fn characters_outside_latin1_are_transliterated_with_a_warning_or_refused() {
    let w = World::new();
    let mut input = sample_json("group-1.json");
    input["patient"]["given_name"] = json!("Łucja");
    let p = w.write("pl.json", &input.to_string());
    let r = w.generate(&p).ok();
    let s = r.one();
    let warnings = s["warnings"].as_array().unwrap();
    assert!(
        warnings
            .iter()
            .any(|w| w["field"] == "patient.given_name" && w["message"].as_str().unwrap().contains("U+0141")),
        "{warnings:?}"
    );
    assert!(r.stderr.contains("warning"), "{}", r.stderr);
    let xdis: String =
        std::fs::read(s["messages"][0]["path"].as_str().unwrap()).unwrap().iter().map(|&b| b as char).collect();
    assert!(xdis.contains("<PersonGivenName>Lucja</PersonGivenName>"));
    // The MeMo is UTF-8 and keeps the name as written.
    let memo = std::fs::read_to_string(s["messages"][1]["path"].as_str().unwrap()).unwrap();
    assert!(memo.contains("Łucja Test Berggren"));

    input["result_id"] = json!("emoji-1");
    input["patient"]["given_name"] = json!("Anna 🦴");
    let p = w.write("emoji.json", &input.to_string());
    let r = w.generate(&p);
    assert_eq!(r.code, 2);
    assert!(r.stderr.contains("patient.given_name") && r.stderr.contains("U+1F9B4"), "{}", r.stderr);
    assert!(!w.out().join("emoji-1").exists());
}

/// (what to change, the change, the field the error must name, words the reason must contain)
type BadInput = (&'static str, Box<dyn Fn(&mut serde_json::Value)>, &'static str, &'static str);

fn bad_inputs() -> Vec<BadInput> {
    vec![
        ("unknown field", Box::new(|v| v["colour"] = json!("blue")), "colour", "unknown field `colour`"),
        (
            "unknown nested field",
            Box::new(|v| v["patient"]["middle"] = json!("x")),
            "patient.middle",
            "unknown field `middle`",
        ),
        (
            "missing field",
            Box::new(|v| {
                v["patient"].as_object_mut().unwrap().remove("surname");
            }),
            "patient",
            "missing field `surname`",
        ),
        ("bad CPR date", Box::new(|v| v["patient"]["cpr"] = json!("3102489996")), "patient.cpr", "not a real date"),
        ("CPR with hyphen", Box::new(|v| v["patient"]["cpr"] = json!("251248-9996")), "patient.cpr", "10 digits"),
        ("bad EAN check digit", Box::new(|v| v["gp"]["ean"] = json!("5790000128687")), "gp.ean", "check digit"),
        ("bad sender EAN", Box::new(|v| v["sender"]["ean"] = json!("579000272701")), "sender.ean", "13 digits"),
        (
            "2a without interval",
            Box::new(|v| {
                v["group"] = json!("2a");
            }),
            "rescan_after_years",
            "required for group 2a",
        ),
        (
            "interval for group 3",
            Box::new(|v| {
                v["group"] = json!("3");
                v["rescan_after_years"] = json!(4);
            }),
            "rescan_after_years",
            "only allowed for group 2a",
        ),
        (
            "interval out of range",
            Box::new(|v| {
                v["group"] = json!("2a");
                v["rescan_after_years"] = json!(11);
            }),
            "rescan_after_years",
            "outside 2..10",
        ),
        ("unknown group", Box::new(|v| v["group"] = json!("4")), "group", "unknown group"),
        ("unsafe result_id", Box::new(|v| v["result_id"] = json!("../etc")), "result_id", "characters"),
        ("hidden result_id", Box::new(|v| v["result_id"] = json!(".x")), "result_id", "must not start"),
        ("site without FLS", Box::new(|v| v["site"] = json!("RANDERS")), "site", "no Fracture Liaison Service"),
        (
            "before rollout",
            Box::new(|v| {
                v["site"] = json!("HORSENS");
                v["classified_at"] = json!("2023-12-15T10:00:00+01:00");
                v["scan"]["date"] = json!("2023-12-14");
            }),
            "site",
            "from 2024-01-01",
        ),
        ("unknown site", Box::new(|v| v["site"] = json!("ODENSE")), "site", "unknown site"),
        (
            "timestamp without offset",
            Box::new(|v| v["classified_at"] = json!("2025-03-10T14:05:00")),
            "classified_at",
            "RFC 3339",
        ),
        (
            "future timestamp",
            Box::new(|v| v["classified_at"] = json!("2026-01-01T10:00:00+01:00")),
            "classified_at",
            "future",
        ),
        ("bad scan date", Box::new(|v| v["scan"]["date"] = json!("2025-02-30")), "scan.date", "not a date"),
        (
            "scan after classification",
            Box::new(|v| v["scan"]["date"] = json!("2025-03-11")),
            "scan.date",
            "after classified_at",
        ),
        (
            "surname too long",
            Box::new(|v| v["patient"]["surname"] = json!("x".repeat(71))),
            "patient.surname",
            "limit is 70",
        ),
        (
            "organisation too long",
            Box::new(|v| v["sender"]["organisation"] = json!("y".repeat(36))),
            "sender.organisation",
            "limit is 35",
        ),
        (
            "street too long",
            Box::new(|v| v["patient"]["address"]["street"] = json!("z".repeat(36))),
            "patient.address.street",
            "limit is 35",
        ),
        ("empty surname", Box::new(|v| v["patient"]["surname"] = json!(" ")), "patient.surname", "empty"),
        ("newline in name", Box::new(|v| v["patient"]["surname"] = json!("a\nb")), "patient.surname", "U+000A"),
        (
            "bad GP identifier code",
            Box::new(|v| v["gp"]["identifier_code"] = json!("kommunenummer")),
            "gp.identifier_code",
            "not one of",
        ),
        ("bad ydernummer", Box::new(|v| v["gp"]["identifier"] = json!("54496")), "gp.identifier", "6 digits"),
        ("bad CVR", Box::new(|v| v["sender"]["cvr"] = json!("2919092")), "sender.cvr", "8 digits"),
        (
            "t-score as text",
            Box::new(|v| v["scan"]["t_score_spine"] = json!("-2,5")),
            "scan.t_score_spine",
            "invalid type",
        ),
        ("group as number", Box::new(|v| v["group"] = json!(1)), "group", "invalid type"),
    ]
}

#[test]
fn bad_input_is_one_line_naming_the_field_exit_2_and_nothing_written() {
    let w = World::new();
    for (what, change, field, words) in bad_inputs() {
        let mut v = sample_json("group-1.json");
        change(&mut v);
        let p = w.write("bad.json", &v.to_string());
        let r = w.generate(&p);
        assert_eq!(r.code, 2, "{what}: exit {}\n{}", r.code, r.stderr);
        let lines: Vec<&str> = r.stderr.lines().collect();
        assert_eq!(lines.len(), 1, "{what}: one line expected:\n{}", r.stderr);
        assert!(lines[0].contains(&format!("{field}:")), "{what}: field {field} not named in: {}", lines[0]);
        assert!(lines[0].contains(words), "{what}: {words:?} not in: {}", lines[0]);
        let s = r.one();
        assert_eq!(s["outcome"], "error");
        assert_eq!(s["error"]["field"], field, "{what}");
        assert!(!w.out().exists(), "{what}: output written");
        // Only the refusals are journaled, this one newest; no message was made.
        let rows = w.run(&["journal", "list", "--json"]).ok().json();
        assert!(rows.iter().all(|r| r["kind"] == "input" && r["status"] == "refused"), "{what}: {rows:?}");
        assert_eq!(rows[0]["field"], field, "{what}: {rows:?}");
    }
}

#[test]
fn malformed_json_and_non_utf8_fail_cleanly() {
    let w = World::new();
    let two = [std::fs::read(sample("group-1.json")).unwrap(), b" {}".to_vec()].concat();
    for (name, bytes, words) in [
        ("trunc.json", &b"{\"result_id\": \"x\""[..], "EOF"),
        ("two.json", &two[..], "trailing"),
        ("latin1.json", &b"{\"result_id\": \"\xe6\"}"[..], "not UTF-8"),
        ("empty.json", &b""[..], "is empty"),
    ] {
        let p = w.path(name);
        std::fs::write(&p, bytes).unwrap();
        let r = w.generate(&p);
        assert_eq!(r.code, 2, "{name}: {}", r.stderr);
        assert_eq!(r.stderr.lines().count(), 1, "{name}: {}", r.stderr);
        assert!(r.stderr.contains(words), "{name}: {}", r.stderr);
    }
    assert!(!w.out().exists());
    let r = w.run(&["generate", "--out-dir", w.out().to_str().unwrap(), "/nonexistent.json"]);
    assert_ne!(r.code, 0);
    assert!(r.stderr.contains("/nonexistent.json"), "{}", r.stderr);
}

#[test]
fn standard_input_works_like_a_file() {
    let w = World::new();
    let text = std::fs::read(sample("group-3.json")).unwrap();
    let r = w.run_stdin(&["generate", "--out-dir", w.out().to_str().unwrap(), "-"], &text).ok();
    let s = r.one();
    assert_eq!(s["source"], "-");
    assert_eq!(s["outcome"], "generated");
    assert!(w.out().join("FLS-AUH-2025-0004/gp-xdis91.xml").is_file());
}

#[test]
fn same_content_is_not_generated_twice_and_missing_files_are_restored() {
    let w = World::new();
    let first = w.generate(&sample("group-2b.json")).ok().one();
    // Same content, different key order and spacing.
    let v = sample_json("group-2b.json");
    let p = w.write("again.json", &serde_json::to_string_pretty(&v).unwrap().replace("  ", "\t"));
    std::fs::remove_file(w.out().join("FLS-AUH-2025-0003/patient-letter.pdf")).unwrap();
    let again = w.generate(&p).ok().one();
    assert_eq!(again["outcome"], "exists");
    assert_eq!(again["messages"][0]["id"], first["messages"][0]["id"]);
    assert_eq!(again["messages"][0]["letter_id"], first["messages"][0]["letter_id"]);
    assert!(w.out().join("FLS-AUH-2025-0003/patient-letter.pdf").is_file());
    let list = w.run(&["journal", "list", "--json"]).ok().json();
    assert_eq!(list.len(), 2);
}

#[test]
fn changed_content_is_a_correction_that_only_replaces_the_changed_letters() {
    let w = World::new();
    let first = w.generate(&sample("group-2a.json")).ok().one();
    let (gp1, memo1) = (&first["messages"][0], &first["messages"][1]);

    // A corrected GP address changes only the GP letter; the patient letter is kept.
    let mut v = sample_json("group-2a.json");
    v["gp"]["name"] = json!("Lægehuset Vestergade");
    let p = w.write("gp-fix.json", &v.to_string());
    let s = w.generate(&p).ok().one();
    assert_eq!(s["outcome"], "corrected");
    let (gp2, memo2) = (&s["messages"][0], &s["messages"][1]);
    assert_eq!(gp2["state"], "new");
    assert_ne!(gp2["letter_id"], gp1["letter_id"]);
    assert_eq!(gp2["replaces"], gp1["id"]);
    // A correction, even of a letter the journal holds as unsent (a gateway may have taken
    // it from the output folder); the unsent one is superseded, not sent as well.
    assert_eq!(gp2["status_code"], "rettetbrev");
    assert_eq!(memo2["state"], "kept");
    assert_eq!(memo2["letter_id"], memo1["letter_id"]);
    let old = w.show(&gp1["id"].to_string());
    assert_eq!(old["message"]["status"], "superseded");

    // After a GP letter was sent, the next change is again a `rettetbrev`, replacing it.
    let vans = w.path("vans").display().to_string();
    let cfg = w.config("c.toml", &ConfigOf { gp: Some(Transport::Outbox(&vans)), ..ConfigOf::default() });
    w.run_with(&cfg, &["send"]).ok();
    let mut v2 = v.clone();
    v2["rescan_after_years"] = json!(3);
    let p = w.write("interval-fix.json", &v2.to_string());
    let s = w.generate(&p).ok().one();
    let (gp3, memo3) = (&s["messages"][0], &s["messages"][1]);
    assert_eq!(gp3["status_code"], "rettetbrev");
    assert_eq!(gp3["replaces"], gp2["id"]);
    assert_eq!(memo3["state"], "new", "the patient's letter says the interval too");
    let xdis: String = std::fs::read(gp3["path"].as_str().unwrap()).unwrap().iter().map(|&b| b as char).collect();
    assert!(xdis.contains("<StatusCode>rettetbrev</StatusCode>"));
    assert!(xdis.contains("om 3 år"));
}

#[test]
fn config_policy_and_templates_override_the_defaults() {
    let w = World::new();
    w.write("tpl/patient-1.txt", "Dit resultat\n\nKære {{ patient.full_name }}. Alt er normalt.\n");
    let cfg = w.write("c.toml", "templates = \"tpl\"\n[policy]\nRANDERS = \"2025-01-01\"\n");
    let mut v = sample_json("group-1.json");
    v["site"] = json!("RANDERS");
    let p = w.write("randers.json", &v.to_string());
    let r = w.generate_with(&cfg, &p).ok();
    let memo = std::fs::read(r.one()["messages"][1]["path"].as_str().unwrap()).unwrap();
    let pdf = pdf_of_memo(&memo);
    let text = poppler("pdftotext", &["-layout"], &pdf);
    assert!(text.contains("Alt er normalt."), "{text}");

    w.write("tpl/gp-1.txt", "Emne\n\n{{ patient.cpr }}\n");
    let r = w.generate_with(&cfg, &p);
    assert_eq!(r.code, 2);
    assert!(r.stderr.contains("gp-1.txt") && r.stderr.contains("unknown field `patient.cpr`"), "{}", r.stderr);
}
