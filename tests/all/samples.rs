//! The checked-in samples are what flspost generates today (regenerate them with
//! `scripts/make-samples.sh` after changing the wording or the writers).

use crate::common::*;

/// Generates `inputs` (with `extra` arguments) into a fresh folder and compares it with
/// the checked-in `samples/<folder>`.
fn assert_current(folder: &str, extra: &[&str], inputs: &[std::path::PathBuf]) {
    let w = World::new(); // same fixed clock as scripts/make-samples.sh
    let mut args = vec!["generate".to_string(), "--out-dir".into(), w.out().display().to_string()];
    args.extend(extra.iter().map(|s| s.to_string()));
    args.extend(inputs.iter().map(|s| s.display().to_string()));
    let args: Vec<&str> = args.iter().map(String::as_str).collect();
    w.run(&args).ok();
    let fresh: Vec<_> = tree(&w.out()).into_iter().filter(|(p, _)| !p.starts_with('.')).collect();
    let checked_in = tree(&root().join("samples").join(folder));
    let names = |t: &[(String, Vec<u8>)]| t.iter().map(|(p, _)| p.clone()).collect::<Vec<_>>();
    assert_eq!(names(&fresh), names(&checked_in));
    for ((path, a), (_, b)) in fresh.iter().zip(&checked_in) {
        assert!(a == b, "samples/{folder}/{path} is out of date: run scripts/make-samples.sh");
    }
}

#[test]
fn checked_in_samples_are_current() {
    assert_current("output", &[], &SAMPLES.map(sample));
    let kombi = root().join("samples/kombi.toml");
    assert_current("kombi", &["--config", kombi.to_str().unwrap()], &[sample("group-3.json")]);
    assert_current("large-print", &[], &[root().join("samples/large-print.json")]);
    let fhir = root().join("samples/carecommunication.toml");
    assert_current("carecommunication", &["--config", fhir.to_str().unwrap()], &[sample("group-2a.json")]);
    let envelope =
        std::fs::read(root().join("samples/carecommunication/FLS-AUH-2025-0002/gp-carecommunication.xml")).unwrap();
    assert!(
        bundle_in_envelope(&envelope) == std::fs::read(root().join("samples/carecommunication-bundle.xml")).unwrap(),
        "samples/carecommunication-bundle.xml is out of date: run scripts/make-samples.sh"
    );
}

#[test]
fn checked_in_samples_validate() {
    let w = World::new();
    let files: Vec<String> = tree(&root().join("samples/output"))
        .into_iter()
        .filter(|(p, _)| p.ends_with(".xml"))
        .map(|(p, _)| root().join("samples/output").join(p).display().to_string())
        .collect();
    assert_eq!(files.len(), 8);
    let mut args = vec!["validate"];
    args.extend(files.iter().map(String::as_str));
    let r = w.run(&args).ok();
    assert_eq!(r.stdout.lines().filter(|l| l.contains(": valid ")).count(), 8);
}

#[test]
fn the_kombi_and_large_print_samples_are_what_they_say() {
    let kombi = std::fs::read_to_string(root().join("samples/kombi/FLS-AUH-2025-0004/patient-kombi.xml")).unwrap();
    assert!(kombi.contains("<KombiValgKode>Automatisk Valg</KombiValgKode>"));
    let w = World::new();
    let r =
        w.run(&["validate", root().join("samples/kombi/FLS-AUH-2025-0004/patient-kombi.xml").to_str().unwrap()]).ok();
    assert!(r.stdout.contains("valid SF1601 kombi_request"), "{}", r.stdout);
    let large = sample_json("../large-print.json");
    assert_eq!(large["patient"]["large_print"], true);
}

#[test]
fn sample_config_is_valid() {
    let c = flspost::app::config::Config::load(Some(&root().join("samples/config.toml"))).unwrap();
    assert!(c.transport.gp.is_some() && c.transport.patient.is_some());
    assert_eq!(c.send.max_attempts, 5);
}
