//! Bounded work for any input: a document (file or JSON Lines line) over 1 MiB is refused
//! with its place and the limit, without being held in memory, and the rest of a batch goes
//! on; a line that never ends (`/dev/zero`) ends the reading of that input only.

use crate::common::*;

const LIMIT: usize = 1 << 20;

/// A valid result padded with spaces (inside the object) to exactly `len` bytes.
fn padded(result_id: &str, len: usize) -> String {
    let mut v = sample_json("group-1.json");
    v["result_id"] = serde_json::json!(result_id);
    let text = v.to_string();
    let body = text.strip_suffix('}').unwrap();
    let pad = len - text.len();
    format!("{body}{}}}", " ".repeat(pad))
}

/// What the journal holds after one over-long document was refused: its refusal (as
/// unreadable, none of its bytes kept) and no message.
fn only_its_refusal_journaled(w: &World) {
    let rows = w.run(&["journal", "list", "--json"]).ok().json();
    assert_eq!(rows.len(), 1, "{rows:?}");
    assert_eq!((rows[0]["kind"].as_str(), rows[0]["code"].as_str()), (Some("input"), Some("input_unreadable")));
    assert_eq!(rows[0]["input_size"], 0, "{rows:?}");
}

#[test]
fn a_line_that_never_ends_is_refused_and_the_next_input_is_still_generated() {
    let w = World::new();
    let good = w.write("good.jsonl", &sample_lines("NEXT", 2).join("\n"));
    let r = w.run(&["generate", "--jsonl", "/dev/zero", good.to_str().unwrap()]);
    assert_eq!(r.code, 2, "{}", r.stderr);
    assert!(!r.stderr.contains("panicked") && !r.stderr.contains("backtrace"), "{}", r.stderr);
    assert!(
        r.stderr.contains(
            "/dev/zero:1: input: line longer than 1 MiB (1048576 bytes), the limit for one result, with no line end"
        ),
        "{}",
        r.stderr
    );
    assert!(r.stderr.contains("2 generated, 1 failed"), "{}", r.stderr);
    let lines = r.json();
    assert_eq!(lines[0]["error"]["exit_code"], 2);
    assert_eq!(lines[0]["line"], 1);
    assert_eq!((lines[1]["outcome"].as_str(), lines[2]["outcome"].as_str()), (Some("generated"), Some("generated")));
}

#[test]
fn a_single_document_from_an_endless_file_is_refused_with_nothing_written() {
    let w = World::new();
    let r = w.run(&["generate", "--out-dir", w.out().to_str().unwrap(), "/dev/zero"]);
    assert_eq!(r.code, 2, "{}", r.stderr);
    assert!(r.stderr.contains("/dev/zero: input: document longer than 1 MiB (1048576 bytes)"), "{}", r.stderr);
    assert!(!w.out().exists());
    only_its_refusal_journaled(&w);
}

#[test]
fn lines_at_the_limit_pass_and_one_byte_more_is_refused_while_the_batch_goes_on() {
    let w = World::new();
    let at = padded("AT-LIMIT", LIMIT);
    let over = padded("OVER-LIMIT", LIMIT + 1);
    assert_eq!((at.len(), over.len()), (LIMIT, LIMIT + 1));
    let after = &sample_lines("AFTER", 1)[0];
    let f = w.write("b.jsonl", &format!("{at}\r\n{over}\n{after}\n"));
    let r = w.run(&["generate", f.to_str().unwrap()]);
    assert_eq!(r.code, 2, "{}", r.stderr);
    let lines = r.json();
    assert_eq!(lines.len(), 3, "{}", r.stdout);
    assert_eq!(lines[0]["outcome"], "generated");
    assert_eq!(lines[1]["outcome"], "error");
    assert_eq!(lines[1]["error"]["field"], "input");
    assert!(r.stderr.contains("b.jsonl:2: input: line longer than 1 MiB (1048576 bytes)"), "{}", r.stderr);
    assert_eq!(lines[2]["outcome"], "generated");
    assert_eq!(lines[2]["line"], 3);
}

#[test]
fn two_hundred_megabytes_of_spaces_before_an_object_are_refused_unread() {
    let w = World::new();
    // Through a pipe, so the test never holds or stores 200 MB: flspost stops reading after
    // the limit, refuses, and the writer sees the pipe close.
    let mut child = w
        .cmd()
        .args(["generate", "-"])
        .stdin(std::process::Stdio::piped())
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    let mut stdin = child.stdin.take().unwrap();
    let writer = std::thread::spawn(move || {
        use std::io::Write;
        let spaces = vec![b' '; 1 << 20];
        let mut written = 0usize;
        for _ in 0..200 {
            if stdin.write_all(&spaces).is_err() {
                return written;
            }
            written += spaces.len();
        }
        let _ = stdin.write_all(sample_json("group-1.json").to_string().as_bytes());
        written
    });
    let r = Run::from(child.wait_with_output().unwrap());
    let written = writer.join().unwrap();
    assert_eq!(r.code, 2, "{}", r.stderr);
    assert!(r.stderr.contains("input: document longer than 1 MiB"), "{}", r.stderr);
    assert!(written < 200 << 20, "flspost read all {written} bytes");
    only_its_refusal_journaled(&w);
}

#[test]
fn a_corrected_input_for_regenerate_is_bounded_too() {
    let w = World::new();
    let gp = w.generate(&sample("group-1.json")).ok().one()["messages"][0]["id"].to_string();
    let big = w.write("big.json", &padded("FLS-AUH-2025-0001", LIMIT + 1));
    let r = w.run(&["regenerate", &gp, "--input", big.to_str().unwrap()]);
    assert_eq!(r.code, 2, "{}", r.stderr);
    assert!(r.stderr.contains("big.json: document longer than 1 MiB"), "{}", r.stderr);
}

#[test]
fn validate_and_receipt_read_no_more_than_16_mib_of_a_file() {
    let w = World::new();
    w.generate(&sample("group-1.json")).ok(); // a journal for `receipt`
    for cmd in ["validate", "receipt"] {
        let r = w.run(&[cmd, "/dev/zero"]);
        // An unusable file given to validate/receipt is the environment's failure (README).
        assert_eq!(r.code, 1, "{cmd}: {}", r.stderr);
        assert!(
            r.stderr.contains("/dev/zero: longer than 16 MiB, the most flspost reads of one message"),
            "{}",
            r.stderr
        );
        assert!(!r.stderr.contains("panicked"), "{}", r.stderr);
    }
    // A real message is read as before.
    let path = w.generate(&sample("group-1.json")).ok().one()["messages"][0]["path"].as_str().unwrap().to_string();
    w.run(&["validate", &path]).ok();
}
