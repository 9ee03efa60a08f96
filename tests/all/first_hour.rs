//! What a newcomer, a support person and a gateway developer meet first: the README's
//! walk-through with the shipped local config and sample receipts, journals that are named
//! when they were not asked for, and the messages and help texts along the way.

use crate::common::*;
use std::process::Command;

/// flspost as the walk-through runs it: from a folder holding a copy of `samples/`, with
/// FLSPOST_CONFIG naming the local config and no FLSPOST_JOURNAL.
fn walk(w: &World, args: &[&str]) -> Run {
    let mut c: Command = w.cmd();
    c.env_remove("FLSPOST_JOURNAL").env("FLSPOST_CONFIG", "samples/config-local.toml").current_dir(w.dir.path());
    Run::from(c.args(args).output().unwrap())
}

fn copy_samples(w: &World) {
    for sub in ["input", "receipts"] {
        for e in std::fs::read_dir(root().join("samples").join(sub)).unwrap().flatten() {
            let to = w.path(&format!("samples/{sub}/{}", e.file_name().to_string_lossy()));
            std::fs::create_dir_all(to.parent().unwrap()).unwrap();
            std::fs::copy(e.path(), to).unwrap();
        }
    }
    std::fs::copy(root().join("samples/config-local.toml"), w.path("samples/config-local.toml")).unwrap();
}

#[test]
fn the_readme_walk_through_works_with_the_shipped_config_and_receipts() {
    let w = World::new(); // the clock make-samples.sh pins, so the sample receipts match
    copy_samples(&w);
    let inputs: Vec<String> = SAMPLES.iter().map(|s| format!("samples/input/{s}")).collect();
    let mut args = vec!["generate"];
    args.extend(inputs.iter().map(String::as_str));

    // 1. generate: the journal comes from the config, so flspost says which, and that it is new.
    let r = walk(&w, &args).ok();
    assert_eq!(r.json().len(), 4);
    let first = r.stderr.lines().next().unwrap_or_default();
    assert_eq!(
        first, "flspost: journal samples/../local/journal.sqlite (from samples/config-local.toml, new: creating it)",
        "{}",
        r.stderr
    );
    assert_eq!(r.stderr.lines().last(), Some("flspost: 4 generated"));
    assert!(w.path("local/journal.sqlite").is_file());

    // 2. send: everything to the two local outboxes.
    let r = walk(&w, &["send"]).ok();
    assert_eq!(r.json().len(), 8);
    assert!(r
        .stderr
        .starts_with("flspost: journal samples/../local/journal.sqlite (from samples/config-local.toml)\n"));
    assert_eq!(r.stderr.lines().last(), Some("flspost: 8 sent"));
    assert_eq!(names(&w.path("local/outbox/vans")).len(), 4);
    assert_eq!(names(&w.path("local/outbox/digitalpost")).len(), 4);

    // 3. receipts: the shipped positive and negative answer two of the sample letters.
    let r = walk(&w, &["receipt", "samples/receipts/positive-group-1.xml", "samples/receipts/negative-group-2a.xml"]);
    assert_eq!(r.code, 0, "{}", r.stderr);
    let out = r.json();
    assert_eq!(out[0]["result"]["outcome"], "acknowledged");
    assert_eq!(out[1]["result"]["outcome"], "rejected");
    assert_eq!(out[1]["result"]["refuse_code"], "problem_med_modtagerID");
    // stderr is for people: one plain line about the rejection, no JSON.
    let human: Vec<&str> = r.stderr.lines().filter(|l| !l.starts_with("flspost: journal ")).collect();
    assert_eq!(human.len(), 1, "{}", r.stderr);
    assert!(human[0].contains("rejected by the receiver, refuse code problem_med_modtagerID"), "{}", human[0]);
    assert!(!human[0].contains('{'), "{}", human[0]);

    // 4. the failure, as support staff find it.
    let r = walk(&w, &["journal", "list", "--status", "rejected", "--json"]).ok();
    let rejected = r.one();
    assert_eq!(rejected["result_id"], "FLS-AUH-2025-0002");
    let id = rejected["id"].to_string();

    // 5. regenerate it: same letter, a new envelope, queued; then send it.
    let r = walk(&w, &["regenerate", &id]).ok();
    let again = r.one();
    assert_eq!(again["outcome"], "regenerated");
    let m = &again["messages"][0];
    assert_eq!(m["letter_id"], rejected["letter_id"]);
    assert_ne!(m["envelope_id"], rejected["envelope_id"]);
    assert_eq!(m["transmission"], 2);
    let r = walk(&w, &["send"]).ok();
    assert_eq!(r.stderr.lines().last(), Some("flspost: 1 sent"));
    assert_eq!(names(&w.path("local/outbox/vans")).len(), 5);

    // 6. journal show words each number for what it is.
    let r = walk(&w, &["journal", "show", &id]).ok();
    for words in ["transmission    1", "send failures   0", "hand-overs to a transport", "receipt         XCTL02"] {
        assert!(r.stdout.contains(words), "`{words}` in\n{}", r.stdout);
    }
    assert!(!r.stdout.lines().any(|l| l.trim_start().starts_with("attempt")), "{}", r.stdout);
}

#[test]
fn commands_that_only_use_a_journal_refuse_one_that_does_not_exist() {
    let w = World::new();
    let cfg = w.write("etc/flspost.toml", "journal = \"/nonexistent/flspost/journal.sqlite\"\n");
    for args in [vec!["send"], vec!["journal", "list"], vec!["receipt", "x.xml"], vec!["regenerate", "1"]] {
        let mut c = w.cmd();
        c.env_remove("FLSPOST_JOURNAL").arg(args[0]).args(&args[1..]).args(["--config", cfg.to_str().unwrap()]);
        let r = Run::from(c.output().unwrap());
        assert_eq!(r.code, 2, "{args:?}: {}", r.stderr);
        assert_eq!(
            r.stderr.trim(),
            format!(
                "flspost: no journal at /nonexistent/flspost/journal.sqlite: nothing was generated there (from {}; \
                 name the journal with --journal PATH)",
                cfg.display()
            ),
            "{args:?}"
        );
    }
    assert!(!std::path::Path::new("/nonexistent").exists());
}

#[test]
fn a_journal_given_with_the_flag_is_not_announced() {
    let w = World::new();
    let j = w.path("j.sqlite");
    let mut c = w.cmd();
    c.env_remove("FLSPOST_JOURNAL").args(["generate", "--journal", j.to_str().unwrap()]).arg(sample("group-1.json"));
    let r = Run::from(c.output().unwrap()).ok();
    assert_eq!(r.stderr, "", "the caller named it");
}

#[test]
fn send_without_a_config_says_how_to_give_one() {
    let w = World::new();
    w.generate(&sample("group-1.json")).ok();
    let r = w.run(&["send"]);
    assert_eq!(r.code, 2);
    assert!(
        r.stderr
            .contains("2 messages are waiting, but no config was given: name one with --config FILE or FLSPOST_CONFIG"),
        "{}",
        r.stderr
    );
}

#[test]
fn a_config_error_points_at_its_line_and_column() {
    let w = World::new();
    let cfg = w.write("c.toml", "[send]\nmax_attempts = 3\nbogus = 1\n");
    let r = w.run_with(&cfg, &["send"]);
    assert_eq!(r.code, 2);
    let line = r.stderr.trim();
    assert!(line.starts_with(&format!("flspost: {}:3:1: unknown field `bogus`", cfg.display())), "{line}");
    assert_eq!(r.stderr.lines().count(), 1);
}

#[test]
fn a_byte_order_mark_is_accepted_and_a_line_that_is_no_object_is_named_so() {
    let w = World::new();
    let text = std::fs::read(sample("group-2b.json")).unwrap();
    let p = w.path("bom.json");
    std::fs::write(&p, [&b"\xef\xbb\xbf"[..], &text].concat()).unwrap();
    assert_eq!(w.generate(&p).ok().one()["outcome"], "generated");

    let lines = w.write("b.jsonl", "hello\n[1, 2]\n");
    let r = w.run(&["generate", lines.to_str().unwrap()]);
    assert_eq!(r.code, 2);
    let errs = r.json();
    assert_eq!(errs[0]["error"]["reason"], "is not a JSON object: a result is one JSON object, { \"result_id\": ... }");
    assert_eq!(errs[1]["error"]["reason"], "is a JSON array: a result is one JSON object, { \"result_id\": ... }");
}

#[test]
fn help_texts_say_what_each_option_and_id_is() {
    let w = World::new();
    let show = w.run(&["journal", "show", "--help"]).ok().stdout;
    let json_line = show.lines().find(|l| l.trim_start().starts_with("--json")).unwrap();
    assert!(json_line.trim().len() > "--json".len(), "--json has no text:\n{show}");
    let regenerate = w.run(&["regenerate", "--help"]).ok().stdout;
    // The <ID> argument's text, however clap wraps it (regenerate's is optional: `[ID]`, a
    // filter instead).
    let id_text = |help: &str| {
        let args = &help[help.find("Arguments:").unwrap()..help.find("Options:").unwrap()];
        args.replace("<ID>", "").replace("[ID]", "").split_whitespace().collect::<Vec<_>>().join(" ")
    };
    assert_eq!(id_text(&show), id_text(&regenerate));
    assert!(id_text(&show).contains("envelope identifier"), "{}", id_text(&show));
}

#[test]
fn errors_name_where_the_input_and_the_journal_came_from() {
    let w = World::new();
    // Standard input is named as such, not left out or shown as `-`.
    let r = w.run_stdin(&["generate", "-"], b"\"x\"");
    assert_eq!(r.code, 2);
    assert!(r.stderr.starts_with("flspost: standard input: input: is not a JSON object"), "{}", r.stderr);
    // A journal the user named with --journal gets no hint to name it with --journal.
    let nope = w.path("nope.sqlite");
    let r = w.run(&["journal", "list", "--journal", nope.to_str().unwrap()]);
    assert_eq!(r.code, 2);
    assert_eq!(r.stderr.trim(), format!("flspost: no journal at {}: nothing was generated there", nope.display()));
}

/// The fenced block under `heading` in a Markdown file, as written.
pub fn fenced_block_under(markdown: &str, heading: &str) -> String {
    let after = markdown.split_once(heading).unwrap_or_else(|| panic!("no `{heading}`")).1;
    let start = after.find("```sh\n").expect("a ```sh block under the heading") + "```sh\n".len();
    let len = after[start..].find("\n```").expect("the block ends");
    after[start..start + len].to_string()
}

/// Runs a shell block from the docs as written, with `flspost` the binary under test on the
/// PATH (the block's own `export PATH=...target/debug...` line is left out: the test's binary
/// stands in), in `w`'s folder holding a copy of `samples/`; every command must succeed.
pub fn run_doc_block(w: &World, block: &str) -> Run {
    let bin = std::path::Path::new(env!("CARGO_BIN_EXE_flspost")).parent().unwrap().to_path_buf();
    let script: String = block.lines().filter(|l| !l.starts_with("export PATH=")).map(|l| format!("{l}\n")).collect();
    let mut c = Command::new("bash");
    c.args(["-euo", "pipefail", "-c", &script])
        .current_dir(w.dir.path())
        .env("PATH", format!("{}:{}", bin.display(), std::env::var("PATH").unwrap_or_default()))
        .env_remove("FLSPOST_JOURNAL")
        .env_remove("FLSPOST_CONFIG")
        .env_remove("FLSPOST_FAKE_NOW");
    Run::from(c.output().unwrap())
}

#[test]
fn the_readme_walk_through_runs_as_it_is_written() {
    let w = World::new();
    copy_samples(&w);
    let readme = std::fs::read_to_string(root().join("README.md")).unwrap();
    let block = fenced_block_under(&readme, "## Walk-through");
    assert!(
        block.contains("flspost journal queue") && block.contains("regenerate 3 --input corrected.json"),
        "{block}"
    );
    let r = run_doc_block(&w, &block);
    assert_eq!(r.code, 0, "the walk-through as written failed:\n{}\n{}", r.stdout, r.stderr);
    // Where it ends: the rejected letter replaced by a sent rettetbrev, nothing left to do.
    assert!(r.stderr.lines().any(|l| l == "flspost: 1 sent"), "{}", r.stderr);
    let list = walk(&w, &["journal", "list", "--json", "--result", "FLS-AUH-2025-0002"]).ok().json();
    let correction = list.iter().find(|m| m["replaces"] == 3).expect("a correction of letter 3");
    assert_eq!((correction["status_code"].as_str(), correction["status"].as_str()), (Some("rettetbrev"), Some("sent")));
    assert!(walk(&w, &["journal", "queue", "--json"]).ok().stdout.is_empty());
}

#[test]
fn the_support_guides_bad_morning_runs_as_it_is_written_and_leaves_one_problem() {
    let mut w = World::new();
    copy_samples(&w);
    std::fs::copy(root().join("samples/morning.jsonl"), w.path("samples/morning.jsonl")).unwrap();
    let guide = std::fs::read_to_string(root().join("docs/support.md")).unwrap();
    let block = fenced_block_under(&guide, "## A bad morning, from flspost alone");
    let r = run_doc_block(&w, &block);
    assert_eq!(r.code, 0, "the bad morning as written failed:\n{}\n{}", r.stdout, r.stderr);
    assert!(r.stderr.lines().any(|l| l == "flspost: 3 sent"), "{}", r.stderr);
    w.fake_now = Some("2025-03-20T10:30:00Z".into()); // where the block's clock ended
    let open = walk(&w, &["journal", "queue", "--json"]).ok().json();
    let keys: Vec<(&str, &str)> =
        open.iter().map(|p| (p["key"].as_str().unwrap(), p["cause"].as_str().unwrap())).collect();
    assert_eq!(keys, [("R1", "input_refused/gp.ean")], "{open:?}");
    let audit = walk(&w, &["journal", "audit", "--json"]).ok().json();
    let actions: Vec<&str> = audit.iter().map(|a| a["action"].as_str().unwrap()).collect();
    assert_eq!(actions, ["handle", "export-input"], "newest first");
}
