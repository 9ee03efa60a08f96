//! The checked-in samples are what flspost generates today (regenerate them with
//! `scripts/make-samples.sh` after changing the wording or the writers).

mod common;
use common::*;

#[test]
fn checked_in_samples_are_current() {
    let w = World::new(); // same fixed clock as scripts/make-samples.sh
    let mut args = vec!["generate".to_string(), "--out-dir".into(), w.out().display().to_string()];
    args.extend(SAMPLES.iter().map(|s| sample(s).display().to_string()));
    let args: Vec<&str> = args.iter().map(String::as_str).collect();
    w.run(&args).ok();
    let fresh: Vec<_> = tree(&w.out()).into_iter().filter(|(p, _)| !p.starts_with('.')).collect();
    let checked_in = tree(&root().join("samples/output"));
    let names = |t: &[(String, Vec<u8>)]| t.iter().map(|(p, _)| p.clone()).collect::<Vec<_>>();
    assert_eq!(names(&fresh), names(&checked_in));
    for ((path, a), (_, b)) in fresh.iter().zip(&checked_in) {
        assert!(a == b, "samples/output/{path} is out of date: run scripts/make-samples.sh");
    }
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
fn sample_config_is_valid() {
    let c = flspost::config::Config::load(Some(&root().join("samples/config.toml"))).unwrap();
    assert!(c.transport.gp.is_some() && c.transport.patient.is_some());
    assert_eq!(c.send.max_attempts, 5);
}
