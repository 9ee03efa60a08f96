//! What the intake answers is what `generate` prints: the same summary line, byte for byte,
//! for a result and for a JSON Lines batch (against `generate` reading the same bytes on
//! standard input, in a journal of its own), with an output folder as with `--out-dir`; a bad
//! input gets its error line and code and is journaled as refused, as `generate` does.

use super::{counts, intake_world, lines, post_ok, socket_of};
use crate::common::{sample, sample_lines, World};
use crate::console::Server;

/// What `generate` prints for `stdin` in a journal of its own (`--jsonl` for a batch).
fn generate_elsewhere(args: &[&str], stdin: &[u8]) -> (String, i32) {
    let other = World::new();
    let mut all = vec!["generate"];
    all.extend_from_slice(args);
    all.push("-");
    let r = other.run_stdin(&all, stdin);
    (r.stdout, r.code)
}

#[test]
fn a_result_and_a_batch_get_the_lines_generate_prints_for_them() {
    let (w, cfg) = intake_world("");
    let s = Server::start(&w, &cfg);
    let one = std::fs::read(sample("group-1.json")).unwrap();
    let a = post_ok(&s, &one, &[("Content-Type", "application/json")]);
    assert_eq!(a.status, 200, "{}", a.text());
    assert_eq!(a.header("flspost-exit-code"), Some("0"));
    let (printed, code) = generate_elsewhere(&[], &one);
    assert_eq!(code, 0);
    assert_eq!(a.text(), printed, "the intake's answer is generate's line");
    let validator = crate::guarantees::json_schemas::validator("generate-summary");
    for l in lines(&a) {
        assert!(validator.is_valid(&l), "{l}");
    }

    // A batch (the first line again, now known: `exists`), and the same with a name for it.
    let mut batch = String::from_utf8(one.clone()).unwrap().replace('\n', "");
    batch.push('\n');
    batch.push_str(&(sample_lines("FLS-AUH-2025-IN", 5).join("\n") + "\n"));
    let a =
        post_ok(&s, batch.as_bytes(), &[("Content-Type", "application/x-ndjson"), ("Flspost-Source", "morning.jsonl")]);
    assert_eq!(a.status, 200, "{}", a.text());
    let other = World::new();
    other.run_stdin(&["generate", "-"], &one).ok();
    let morning = other.write("morning.jsonl", &batch);
    let r = other.run(&["generate", morning.to_str().unwrap()]);
    assert_eq!(r.code, 0);
    let expected: String = r.stdout.replace(morning.to_str().unwrap(), "morning.jsonl");
    assert_eq!(a.text(), expected, "a batch's lines are generate's, in order");
    let outcomes: Vec<String> = lines(&a).iter().map(|l| l["outcome"].as_str().unwrap().to_string()).collect();
    assert_eq!(outcomes, ["exists", "generated", "generated", "generated", "generated", "generated"]);
    assert_eq!(counts(&w), (6, 12, 0), "each result recorded once");

    // Over the socket too (no token: the socket's permissions are the access).
    let a = super::post_socket(&socket_of(&w), &std::fs::read(sample("group-2a.json")).unwrap(), &[]);
    assert_eq!(a.status, 200, "{}", a.text());
    let (printed, _) = generate_elsewhere(&[], &std::fs::read(sample("group-2a.json")).unwrap());
    assert_eq!(a.text(), printed.replace("\"id\":1,", "\"id\":13,").replace("\"id\":2,", "\"id\":14,"));
    let (code, log) = s.stop();
    assert_eq!(code, 0, "{log}");
}

#[test]
fn with_an_output_folder_the_files_are_there_as_generate_writes_them() {
    let (w, cfg) = intake_world("out_dir = \"out\"\n");
    let s = Server::start(&w, &cfg);
    let one = std::fs::read(sample("group-1.json")).unwrap();
    let a = post_ok(&s, &one, &[]);
    assert_eq!(a.status, 200, "{}", a.text());
    let other = World::new();
    let r = other.run_stdin(&["generate", "--out-dir", other.out().to_str().unwrap(), "-"], &one);
    let expected = r.stdout.replace(other.out().to_str().unwrap(), w.out().to_str().unwrap());
    assert_eq!(a.text(), expected, "the summary names the files as generate --out-dir does");
    for name in crate::common::names(&other.out().join("FLS-AUH-2025-0001")) {
        let ours = std::fs::read(w.out().join("FLS-AUH-2025-0001").join(&name)).unwrap();
        assert_eq!(ours, std::fs::read(other.out().join("FLS-AUH-2025-0001").join(&name)).unwrap(), "{name}");
    }
    let (code, log) = s.stop();
    assert_eq!(code, 0, "{log}");
    assert!(!w.out().join(".flspost-tmp").exists(), "no staging folder left behind");
}

#[test]
fn a_bad_input_gets_its_error_line_and_is_journaled_as_refused() {
    let (w, cfg) = intake_world("");
    let s = Server::start(&w, &cfg);
    let mut bad = crate::common::sample_json("group-1.json");
    bad["gp"]["ean"] = "5790000128687".into();
    let body = bad.to_string().into_bytes();
    let a = post_ok(&s, &body, &[]);
    assert_eq!(a.status, 422, "{}", a.text());
    assert_eq!(a.header("flspost-exit-code"), Some("2"));
    let (printed, code) = generate_elsewhere(&[], &body);
    assert_eq!(code, 2);
    assert_eq!(a.text(), printed);
    let l = &lines(&a)[0];
    assert_eq!((l["error"]["code"].as_str(), l["error"]["field"].as_str()), (Some("input_invalid"), Some("gp.ean")));
    assert_eq!(counts(&w), (0, 0, 1), "journaled as a refused input, nothing else");
    // Not JSON at all, in a batch beside a good line: each line on its own.
    let batch = format!("this is not json\n{}\n", sample_lines("FLS-AUH-2025-BAD", 1)[0]);
    let a = post_ok(&s, batch.as_bytes(), &[("Content-Type", "application/x-ndjson")]);
    assert_eq!(a.status, 422);
    let ls = lines(&a);
    assert_eq!(
        (ls[0]["error"]["code"].as_str(), ls[1]["outcome"].as_str()),
        (Some("input_invalid"), Some("generated"))
    );
    assert_eq!(counts(&w), (1, 2, 2));
    let log = s.log();
    for cpr in crate::console::sample_cprs() {
        assert!(!log.contains(&cpr), "the log holds a CPR number");
    }
}
