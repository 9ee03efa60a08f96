//! Which format each GP's copy travels in: the receiver table and the default in the
//! config, the FHIR fields an input needs only when FHIR is chosen, a GP that moves to
//! FHIR between letters, and the VANSEnvelope handed to the outbox unchanged.

use crate::common::*;
use serde_json::{json, Value};
use std::path::PathBuf;

const SAMPLE_GP: &str = "5790000128686";
/// Valid GS1 check digit, not the sample GP.
const OTHER_GP: &str = "5790000201747";

/// A config routing by `table` (CSV text) with `default`, `attach_pdf`, and an outbox for the
/// GP's letters.
fn config(w: &World, table: Option<&str>, default: &str, attach_pdf: bool) -> PathBuf {
    if let Some(t) = table {
        w.write("receivers.csv", t);
    }
    let c = ConfigOf {
        receivers: table.map(|_| "receivers.csv"),
        default_format: Some(default),
        attach_pdf: Some(attach_pdf),
        gp: Some(Transport::Outbox("outbox")),
        ..ConfigOf::default()
    };
    w.config("config.toml", &c)
}

fn input(w: &World, name: &str, v: &Value) -> PathBuf {
    w.write(name, &v.to_string())
}

fn kinds(s: &Value) -> Vec<String> {
    s["messages"].as_array().unwrap().iter().map(|m| m["kind"].as_str().unwrap().to_string()).collect()
}

#[test]
fn a_gp_the_table_lists_for_carecommunication_gets_it_every_other_gp_xdis91() {
    let w = World::new();
    let cfg = config(&w, Some(&format!("EAN;SOR;Formats\n{SAMPLE_GP};;XDIS91 CareCommunication\n")), "xdis91", false);
    let s = w.generate_with(&cfg, &sample("group-2a.json")).ok().one();
    assert_eq!(kinds(&s), ["gp-carecommunication", "patient-memo"], "{s}");
    let dir = w.out().join("FLS-AUH-2025-0002");
    let envelope = std::fs::read(dir.join("gp-carecommunication.xml")).unwrap();
    let r = w.run(&["validate", dir.join("gp-carecommunication.xml").to_str().unwrap()]).ok();
    assert!(r.stdout.contains("valid VANSEnvelope"), "{}", r.stdout);
    let bundle = String::from_utf8(bundle_in_envelope(&envelope)).unwrap();
    let gp = &s["messages"][0];
    assert!(bundle.contains(&format!("<id value=\"{}\"/>", gp["envelope_id"].as_str().unwrap())), "Bundle.id");
    assert!(bundle.contains(&format!("MessageHeader/{}", gp["letter_id"].as_str().unwrap())));

    // Another GP, not in the table: XDIS91 as before.
    let mut other = sample_json("group-2b.json");
    other["gp"]["ean"] = json!(OTHER_GP);
    let s = w.generate_with(&cfg, &input(&w, "other.json", &other)).ok().one();
    assert_eq!(kinds(&s), ["gp-xdis91", "patient-memo"], "{s}");

    // The journal says which format each letter went in.
    let list = w.run(&["journal", "list"]).ok().stdout;
    assert!(list.contains("gp-carecommunication") && list.contains("gp-xdis91"), "{list}");
    let show = w.run(&["journal", "show", gp["id"].to_string().as_str()]).ok().stdout;
    assert!(show.contains("format          CareCommunication"), "{show}");

    // `send` hands the envelope to the outbox byte for byte, named by its Bundle.id.
    w.run_with(&cfg, &["send"]).ok();
    let handed =
        std::fs::read(w.path(&format!("outbox/carecommunication-{}.xml", gp["envelope_id"].as_str().unwrap())))
            .unwrap();
    assert_eq!(handed, envelope);
}

#[test]
fn the_default_format_applies_to_gps_the_table_does_not_list() {
    let w = World::new();
    let cfg = config(&w, None, "carecommunication", false);
    let s = w.generate_with(&cfg, &sample("group-1.json")).ok().one();
    assert_eq!(kinds(&s), ["gp-carecommunication", "patient-memo"], "{s}");
    // A GP the table lists with XDIS91 only keeps XDIS91 under a FHIR default.
    let w = World::new();
    let cfg = config(&w, Some(&format!("ean,formats\n{SAMPLE_GP},XDIS91\n")), "carecommunication", false);
    let s = w.generate_with(&cfg, &sample("group-1.json")).ok().one();
    assert_eq!(kinds(&s), ["gp-xdis91", "patient-memo"], "{s}");
}

#[test]
fn a_fhir_field_missing_is_an_error_naming_it_only_when_fhir_is_chosen_and_nothing_is_written() {
    let mut v = sample_json("group-2a.json");
    v["gp"].as_object_mut().unwrap().remove("sor_id");
    v["author"].as_object_mut().unwrap().remove("given_name");

    // XDIS91 does not need them.
    let w = World::new();
    let cfg = config(&w, None, "xdis91", false);
    w.generate_with(&cfg, &input(&w, "in.json", &v)).ok();

    let w = World::new();
    let cfg = config(&w, None, "carecommunication", false);
    let r = w.generate_with(&cfg, &input(&w, "in.json", &v));
    assert_eq!(r.code, 2, "{}{}", r.stdout, r.stderr);
    assert!(r.stderr.contains("gp.sor_id: required: this GP gets a FHIR CareCommunication"), "{}", r.stderr);
    assert!(!w.out().exists(), "no output folder for a refused input");
    // The refusal is journaled (the journal created for it), and no message was made.
    let rows = w.run(&["journal", "list", "--json"]).ok().json();
    assert_eq!(rows.len(), 1, "{rows:?}");
    assert_eq!((rows[0]["kind"].as_str(), rows[0]["status"].as_str()), (Some("input"), Some("refused")), "{rows:?}");
    assert_eq!(rows[0]["code"], "input_refused/gp.sor_id", "{rows:?}");

    // The table's SOR id stands in for the input's; the next missing field is named.
    let w = World::new();
    let cfg = config(&w, Some(&format!("ean;sor;formats\n{SAMPLE_GP};1017421000016003;FDIS91\n")), "xdis91", false);
    let r = w.generate_with(&cfg, &input(&w, "in.json", &v));
    assert_eq!(r.code, 2, "{}{}", r.stdout, r.stderr);
    assert!(r.stderr.contains("author.given_name: required"), "{}", r.stderr);
    v["author"]["given_name"] = json!("Karen");
    let s = w.generate_with(&cfg, &input(&w, "in.json", &v)).ok().one();
    assert_eq!(kinds(&s), ["gp-carecommunication", "patient-memo"], "{s}");
    let envelope = std::fs::read(w.out().join("FLS-AUH-2025-0002/gp-carecommunication.xml")).unwrap();
    let bundle = String::from_utf8(bundle_in_envelope(&envelope)).unwrap();
    assert!(bundle.contains("<value value=\"1017421000016003\"/>"), "the table's SOR id is the GP's");
}

#[test]
fn a_gp_the_table_excludes_and_a_broken_table_are_refused_with_file_and_line() {
    let w = World::new();
    let cfg = config(&w, Some(&format!("ean;formats\n{SAMPLE_GP};XREF14\n")), "xdis91", false);
    let r = w.generate_with(&cfg, &sample("group-1.json"));
    assert_eq!(r.code, 2, "{}{}", r.stdout, r.stderr);
    assert!(
        r.stderr.contains("gp.ean:") && r.stderr.contains("receivers.csv:2 lists this GP with neither"),
        "{}",
        r.stderr
    );

    let w = World::new();
    let cfg = config(&w, Some("ean;formats\n5790000128687;XDIS91\n"), "xdis91", false);
    let r = w.generate_with(&cfg, &sample("group-1.json"));
    assert_eq!(r.code, 2, "{}{}", r.stdout, r.stderr);
    assert!(r.stderr.contains("receivers.csv:2:1: ean `5790000128687`: bad GS1 check digit"), "{}", r.stderr);
}

#[test]
fn a_gp_that_moves_to_fhir_gets_the_correction_as_a_carecommunication() {
    let w = World::new();
    let xdis = config(&w, None, "xdis91", false);
    let first = w.generate_with(&xdis, &sample("group-2a.json")).ok().one();
    assert_eq!(kinds(&first), ["gp-xdis91", "patient-memo"]);
    // Same content, GP now on FHIR: the letter already went; nothing new.
    let fhir = config(&w, None, "carecommunication", false);
    let again = w.generate_with(&fhir, &sample("group-2a.json")).ok().one();
    assert_eq!(again["outcome"], "exists", "{again}");
    // Changed content: the correction goes in the GP's format now, replacing the XDIS91.
    let mut v = sample_json("group-2a.json");
    v["scan"]["t_score_hip"] = json!(-1.9);
    let s = w.generate_with(&fhir, &input(&w, "corrected.json", &v)).ok().one();
    assert_eq!(s["outcome"], "corrected", "{s}");
    let gp = s["messages"].as_array().unwrap().iter().find(|m| m["kind"] == "gp-carecommunication").unwrap();
    assert_eq!(gp["replaces"], first["messages"][0]["id"], "{s}");
    // With no `rettetbrev` in FHIR, the letter says it is a correction.
    let envelope = std::fs::read(w.out().join("FLS-AUH-2025-0002/gp-carecommunication.xml")).unwrap();
    let bundle = String::from_utf8(bundle_in_envelope(&envelope)).unwrap();
    assert!(bundle.contains("<text value=\"Rettet FLS-resultat: osteopeni (gruppe 2a)\"/>"), "{bundle}");
    assert!(bundle.contains("Rettelse: dette brev erstatter det brev om samme DXA-skanning"));
}

#[test]
fn the_gps_pdf_is_the_patients_letter() {
    let w = World::new();
    let cfg = config(&w, None, "carecommunication", true);
    w.generate_with(&cfg, &sample("group-3.json")).ok();
    let dir = w.out().join("FLS-AUH-2025-0004");
    let bundle =
        String::from_utf8(bundle_in_envelope(&std::fs::read(dir.join("gp-carecommunication.xml")).unwrap())).unwrap();
    let start = bundle.find("<contentType value=\"application/pdf\"/>").expect("a PDF payload");
    let data = &bundle[start..];
    let data = &data[data.find("<data value=\"").unwrap() + 13..];
    let data = &data[..data.find('"').unwrap()];
    use base64::Engine;
    let pdf = base64::engine::general_purpose::STANDARD.decode(data).unwrap();
    assert_eq!(pdf, std::fs::read(dir.join("patient-letter.pdf")).unwrap(), "the same PDF the patient got");
}

#[test]
fn an_input_already_sent_is_not_refused_when_its_gp_has_moved_to_fhir_since() {
    let mut v = sample_json("group-2a.json");
    v["gp"].as_object_mut().unwrap().remove("sor_id");
    let w = World::new();
    let original = input(&w, "in.json", &v);
    let first = w.generate_with(&config(&w, None, "xdis91", false), &original).ok().one();
    assert_eq!(kinds(&first), ["gp-xdis91", "patient-memo"]);
    // The gateway sends the same input again after the GP moved to FHIR: it exists.
    let fhir = config(&w, None, "carecommunication", false);
    let again = w.generate_with(&fhir, &original).ok().one();
    assert_eq!(again["outcome"], "exists", "{again}");
    // A changed letter for that GP needs the FHIR fields now: refused naming the field,
    // nothing recorded but the refusal.
    v["scan"]["t_score_hip"] = json!(-1.9);
    let r = w.generate_with(&fhir, &input(&w, "changed.json", &v));
    assert_eq!(r.code, 2, "{}{}", r.stdout, r.stderr);
    assert!(r.stderr.contains("gp.sor_id: required"), "{}", r.stderr);
    let rows = w.run(&["journal", "list", "--json"]).ok().json();
    let messages = rows.iter().filter(|r| r["kind"] != "input").count();
    assert_eq!(messages, 2, "no new message: {rows:?}");
    let refused: Vec<_> = rows.iter().filter(|r| r["kind"] == "input").collect();
    assert_eq!(refused.len(), 1, "{rows:?}");
    assert_eq!(refused[0]["code"], "input_refused/gp.sor_id", "{rows:?}");
}

#[test]
fn an_input_sor_id_that_differs_from_the_tables_is_used_with_a_warning() {
    let w = World::new();
    let cfg = config(
        &w,
        Some(&format!("ean;sor;formats\n{SAMPLE_GP};1017431000016004;CareCommunication\n")),
        "xdis91",
        false,
    );
    let s = w.generate_with(&cfg, &sample("group-2a.json")).ok().one();
    let warning = &s["warnings"][0];
    assert_eq!(warning["field"], "gp.sor_id", "{s}");
    assert!(warning["message"].as_str().unwrap().contains("1017431000016004"), "{s}");
    let envelope = std::fs::read(w.out().join("FLS-AUH-2025-0002/gp-carecommunication.xml")).unwrap();
    let bundle = String::from_utf8(bundle_in_envelope(&envelope)).unwrap();
    assert!(bundle.contains("1017421000016003") && !bundle.contains("1017431000016004"), "the input's SOR is used");
}
