//! Every input `generate` refuses is journaled as a refused input (issue 19): its source,
//! result id, field, a stable code and the reason, its bytes exactly as received; listed with
//! the messages (`R<n>`, kind `input`), shown by `journal show R<n>` without a CPR number or
//! its bytes, checked by `journal verify`, and closed when a later input for its result is
//! generated. A refusal repeated while it is open is the same problem: it is not recorded again.

use crate::common::*;
use serde_json::{json, Value};

/// The patients' numbers these tests use, in both written forms: none may appear in any output.
const CPRS: [&str; 4] = ["2512489996", "251248-9996", "3213221234", "321322-1234"];

fn assert_no_cpr(what: &str, text: &str) {
    for cpr in CPRS {
        assert!(!text.contains(cpr), "{what} shows {cpr}:\n{text}");
    }
}

/// A sample result with another result_id and a change.
fn line(result_id: &str, change: impl FnOnce(&mut Value)) -> String {
    let mut v = sample_json("group-1.json");
    v["result_id"] = json!(result_id);
    change(&mut v);
    v.to_string()
}

/// The trial's three bad lines among good ones: a wrong GS1 check digit in gp.ean, a site
/// without FLS (RANDERS), a CPR number whose date is 32.13.22.
fn trial_batch(w: &World) -> std::path::PathBuf {
    let lines = [
        line("FLS-AUH-2025-0101", |_| {}),
        line("FLS-AUH-2025-0102", |v| v["gp"]["ean"] = json!("5790000128687")),
        line("FLS-AUH-2025-0103", |v| v["site"] = json!("RANDERS")),
        line("FLS-AUH-2025-0104", |v| v["patient"]["cpr"] = json!("3213221234")),
        line("FLS-AUH-2025-0105", |_| {}),
    ];
    w.write("morning.jsonl", &(lines.join("\n") + "\n"))
}

fn list(w: &World, extra: &[&str]) -> Vec<Value> {
    let mut args = vec!["journal", "list", "--json"];
    args.extend_from_slice(extra);
    let r = w.run(&args).ok();
    assert_no_cpr("journal list --json", &format!("{}{}", r.stdout, r.stderr));
    r.json()
}

fn refused(w: &World) -> Vec<Value> {
    list(w, &[]).into_iter().filter(|r| r["kind"] == "input").collect()
}

fn show(w: &World, id: &str) -> Value {
    let r = w.run(&["journal", "show", id, "--json"]).ok();
    assert_no_cpr("journal show --json", &format!("{}{}", r.stdout, r.stderr));
    r.one()
}

/// Every view of the journal support staff have, stdout and stderr together.
fn all_views(w: &World, ids: &[&str]) -> String {
    let mut out = String::new();
    let mut views: Vec<Vec<&str>> = vec![
        vec!["journal", "list"],
        vec!["journal", "list", "--json"],
        vec!["journal", "list", "--status", "refused"],
        vec!["journal", "verify"],
    ];
    for id in ids {
        views.push(vec!["journal", "show", id]);
        views.push(vec!["journal", "show", id, "--json"]);
    }
    for args in views {
        let r = w.run(&args);
        out += &format!("$ {}\n{}{}", args.join(" "), r.stdout, r.stderr);
    }
    out
}

/// A refused input's stored bytes, read from the journal's own table.
fn stored_bytes(w: &World, id: i64) -> (Vec<u8>, String) {
    let c = w.db();
    c.query_row("SELECT input_bytes, input_sha256 FROM refused_inputs WHERE id = ?1", [id], |r| {
        Ok((r.get(0)?, r.get(1)?))
    })
    .unwrap()
}

#[test]
fn the_trials_three_bad_lines_are_journaled_as_refused_beside_the_good_ones() {
    let w = World::new();
    let r = w.run(&["generate", trial_batch(&w).to_str().unwrap()]);
    assert_eq!(r.code, 2, "{}{}", r.stdout, r.stderr);
    assert_no_cpr("generate", &format!("{}{}", r.stdout, r.stderr));
    assert!(r.stderr.contains("2 generated, 3 failed"), "{}", r.stderr);

    let rows = list(&w, &[]);
    assert_eq!(rows.iter().filter(|r| r["kind"] != "input").count(), 4, "two results, two letters each");
    // Newest first, recorded in input order: R3 is the last bad line.
    let refused: Vec<&Value> = rows.iter().filter(|r| r["kind"] == "input").collect();
    let got: Vec<[&str; 4]> = refused
        .iter()
        .map(|r| ["id", "status", "result_id", "code"].map(|k| r[k].as_str().unwrap_or_else(|| panic!("{k} in {r}"))))
        .collect();
    assert_eq!(
        got,
        [
            ["R3", "refused", "FLS-AUH-2025-0104", "input_refused/patient.cpr"],
            ["R2", "refused", "FLS-AUH-2025-0103", "input_refused/site"],
            ["R1", "refused", "FLS-AUH-2025-0102", "input_refused/gp.ean"],
        ],
        "{refused:?}"
    );
    // The source names the line, with the file's path as given.
    for (r, n) in refused.iter().zip([4, 3, 2]) {
        assert!(r["source"].as_str().unwrap().ends_with(&format!("morning.jsonl:{n}")), "{r}");
        assert!(r["closed_by"].is_null() && r["handled_at"].is_null(), "{r}");
    }
    assert_eq!(refused[0]["field"], "patient.cpr");
    assert_eq!(refused[1]["field"], "site");
    assert!(
        refused[1]["reason"].as_str().unwrap().contains("RANDERS has no Fracture Liaison Service"),
        "{}",
        refused[1]
    );
    assert_eq!(refused[2]["field"], "gp.ean");
    assert!(refused[2]["reason"].as_str().unwrap().contains("GS1 check digit"), "{}", refused[2]);

    // `--status refused` lists just them; a message status just messages.
    assert_eq!(list(&w, &["--status", "refused"]).len(), 3);
    assert!(list(&w, &["--status", "generated"]).iter().all(|r| r["kind"] != "input"));
    assert_eq!(list(&w, &["--result", "FLS-AUH-2025-0103"]).len(), 1);

    // The table has a row per refused input, `R<n>`, kind input, its field and reason.
    let table = w.run(&["journal", "list"]).ok().stdout;
    assert_eq!(table.lines().count(), 1 + 4 + 3, "{table}");
    let r2 = table.lines().find(|l| l.trim_start().starts_with("R2 ")).expect("a row for R2");
    for word in ["FLS-AUH-2025-0103", "input", "refused", "site: RANDERS has no Fracture Liaison Service"] {
        assert!(r2.contains(word), "{word:?} not in {r2:?}");
    }

    // One of them in full, without its bytes.
    let s = w.run(&["journal", "show", "R1"]).ok().stdout;
    for word in ["refused input R1", "FLS-AUH-2025-0102", "gp.ean", "input_refused/gp.ean", "GS1 check digit", "open"] {
        assert!(s.contains(word), "{word:?} not in:\n{s}");
    }
    assert!(!s.contains("\"site\""), "the input's bytes are not printed:\n{s}");
    let j = show(&w, "R3");
    assert_eq!(j["refused"]["code"], "input_refused/patient.cpr", "{j}");
    assert!(j["closed_by_input"].is_null(), "{j}");

    assert_no_cpr("every view", &all_views(&w, &["R1", "R2", "R3", "1"]));
}

#[test]
fn a_refused_single_input_creates_the_journal_with_its_refusal_and_nothing_else() {
    let w = World::new();
    let bad = w.write("bad.json", &line("FLS-AUH-2025-0201", |v| v["gp"]["ean"] = json!("5790000128687")));
    assert!(!w.journal().exists());
    let r = w.generate(&bad);
    assert_eq!(r.code, 2, "{}{}", r.stdout, r.stderr);
    // The same line as ever, printed once the refusal is committed.
    let s = r.one();
    assert_eq!(s["outcome"], "error");
    assert_eq!(s["error"]["field"], "gp.ean");
    assert_eq!(s["error"]["code"], "input_invalid");
    assert_eq!(r.stderr.lines().count(), 1, "{}", r.stderr);
    assert!(r.stderr.contains("bad.json: gp.ean: bad GS1 check digit"), "{}", r.stderr);
    assert!(!w.out().exists(), "no output folder for a refused input");

    if !on_postgres() {
        use std::os::unix::fs::PermissionsExt;
        let mode = std::fs::metadata(w.journal()).unwrap().permissions().mode() & 0o777;
        assert_eq!(mode, 0o600, "the journal file is the owner's alone");
    }
    let rows = list(&w, &[]);
    assert_eq!(rows.len(), 1, "the refusal and no message: {rows:?}");
    assert_eq!(rows[0]["id"], "R1");
    assert_eq!(rows[0]["code"], "input_refused/gp.ean");
    assert_eq!(rows[0]["result_id"], "FLS-AUH-2025-0201");
    assert!(rows[0]["source"].as_str().unwrap().ends_with("bad.json"), "{}", rows[0]);
}

#[test]
fn a_document_that_cannot_be_read_is_journaled_as_unreadable_with_nothing_stored() {
    let w = World::new();
    let missing = w.path("no-such.json");
    let r = w.generate(&missing);
    assert_eq!(r.code, 1, "{}", r.stderr);
    let not_utf8 = w.path("latin1.json");
    std::fs::write(&not_utf8, b"{\"result_id\": \"FLS-\xe6\"}").unwrap();
    assert_eq!(w.generate(&not_utf8).code, 2);
    let batch = w.write("b.jsonl", &(line("FLS-AUH-2025-0301", |_| {}) + "\nnot json\n"));
    assert_eq!(w.run(&["generate", batch.to_str().unwrap()]).code, 2);

    let refused = refused(&w);
    let by_code: Vec<(&str, &str, u64)> = refused
        .iter()
        .map(|r| (r["id"].as_str().unwrap(), r["code"].as_str().unwrap(), r["input_size"].as_u64().unwrap()))
        .collect();
    // A line that is no JSON object is kept (it can be read, and corrected); the other two are
    // unreadable: the journal holds none of them.
    assert_eq!(
        by_code,
        [("R3", "input_refused/input", 9), ("R2", "input_unreadable", 0), ("R1", "input_unreadable", 0)],
        "{refused:?}"
    );
    assert!(refused[2]["reason"].as_str().unwrap().starts_with("cannot be read: "), "{}", refused[2]);
    assert!(refused[1]["reason"].as_str().unwrap().contains("not UTF-8"), "{}", refused[1]);
    assert!(refused.iter().all(|r| r["result_id"].is_null()), "{refused:?}");
}

#[test]
fn a_later_input_for_the_result_closes_its_refusal_and_no_other() {
    let w = World::new();
    let bad = w.write("bad.json", &line("FLS-AUH-2025-0401", |v| v["site"] = json!("RANDERS")));
    let other = w.write("other.json", &line("FLS-AUH-2025-0402", |v| v["site"] = json!("RANDERS")));
    assert_eq!(w.generate(&bad).code, 2);
    assert_eq!(w.generate(&other).code, 2);
    assert_eq!(list(&w, &["--status", "refused"]).len(), 2);

    let corrected = w.write("fixed.json", &line("FLS-AUH-2025-0401", |_| {}));
    let s = w.generate(&corrected).ok().one();
    assert_eq!(s["outcome"], "generated", "{s}");

    let open = list(&w, &["--status", "refused"]);
    assert_eq!(open.iter().map(|r| r["id"].as_str().unwrap()).collect::<Vec<_>>(), ["R2"], "{open:?}");
    let closed = list(&w, &["--status", "refused-closed"]);
    assert_eq!(closed.len(), 1, "{closed:?}");
    assert_eq!((closed[0]["id"].as_str(), closed[0]["status"].as_str()), (Some("R1"), Some("refused-closed")));
    assert_eq!(closed[0]["closed_by"], 1, "the corrected input, input 1, closed it");
    let j = show(&w, "R1");
    assert_eq!(j["closed_by_input"]["input_id"], 1, "{j}");
    assert_eq!(j["closed_by_input"]["result_id"], "FLS-AUH-2025-0401", "{j}");
    let text = w.run(&["journal", "show", "R1"]).ok().stdout;
    assert!(text.contains("closed by       input 1"), "{text}");

    // In one batch, in input order: a refusal before the good line is closed by it, one
    // after it stays open.
    let batch = w.write(
        "b.jsonl",
        &[
            line("FLS-AUH-2025-0403", |v| v["gp"]["ean"] = json!("5790000128687")),
            line("FLS-AUH-2025-0403", |_| {}),
            line("FLS-AUH-2025-0404", |_| {}),
            line("FLS-AUH-2025-0404", |v| v["gp"]["ean"] = json!("5790000128687")),
        ]
        .join("\n"),
    );
    assert_eq!(w.run(&["generate", batch.to_str().unwrap()]).code, 2);
    let status = |id: &str| show(&w, id)["refused"]["status"].as_str().unwrap().to_string();
    assert_eq!((status("R3"), status("R4")), ("refused-closed".into(), "refused".into()));
}

#[test]
fn the_stored_input_is_the_file_byte_for_byte_and_verify_checks_it() {
    let w = World::new();
    // What a gateway may send: a byte-order mark, CRLF, Danish letters, odd spacing.
    let text = line("FLS-AUH-2025-0501", |v| v["gp"]["ean"] = json!("5790000128687"));
    let text = format!("\u{feff}{}\r\n  \r\n", text.replace(",\"", ",\r\n  \"").replace("Nancy Ann", "Åse Ærø"));
    let bad = w.path("bad.json");
    std::fs::write(&bad, text.as_bytes()).unwrap();
    assert_eq!(w.generate(&bad).code, 2);
    // A JSON Lines line is stored as its line was read.
    let jsonl_line = line("FLS-AUH-2025-0502", |v| v["site"] = json!("RANDERS")) + "\n";
    let batch = w.write("b.jsonl", &(line("FLS-AUH-2025-0503", |_| {}) + "\n" + &jsonl_line));
    assert_eq!(w.run(&["generate", batch.to_str().unwrap()]).code, 2);

    let (bytes, sha) = stored_bytes(&w, 1);
    assert_eq!(bytes, std::fs::read(&bad).unwrap(), "the file as received");
    assert_eq!(sha, sha256_hex(&bytes));
    let (bytes, _) = stored_bytes(&w, 2);
    assert_eq!(String::from_utf8(bytes).unwrap(), jsonl_line);
    let r1 = show(&w, "R1");
    assert_eq!(r1["refused"]["input_sha256"], sha256_hex(&std::fs::read(&bad).unwrap()));
    assert_eq!(r1["refused"]["input_size"], text.len());

    let r = w.run(&["journal", "verify"]).ok();
    assert!(r.stderr.contains("2 refused inputs checked") && r.stderr.contains("all match"), "{}", r.stderr);

    // A changed byte is damage `verify` names, and the rest still checks out.
    let c = w.db();
    let (mut bytes, _) = stored_bytes(&w, 1);
    bytes[5] ^= 1;
    c.execute("UPDATE refused_inputs SET input_bytes = ?1 WHERE id = 1", [bytes]).unwrap();
    let r = w.run(&["journal", "verify"]);
    assert_eq!(r.code, 1, "{}{}", r.stdout, r.stderr);
    assert!(r.stdout.contains("refused input R1 (result FLS-AUH-2025-0501)"), "{}", r.stdout);
    assert!(r.stderr.contains("1 damaged"), "{}", r.stderr);
    let j = w.run(&["journal", "verify", "--json"]).json();
    assert_eq!((j.len(), j[0]["what"].as_str(), j[0]["id"].as_i64()), (1, Some("refused"), Some(1)), "{j:?}");
}

#[test]
fn a_refusal_repeated_while_it_is_open_is_one_row_and_after_it_is_closed_a_new_one() {
    let w = World::new();
    let bad = w.write("bad.json", &line("FLS-AUH-2025-0601", |v| v["gp"]["ean"] = json!("5790000128687")));
    // The gateway sends the same bad input every minute: the same problem, one row.
    for _ in 0..3 {
        assert_eq!(w.generate(&bad).code, 2);
    }
    let lines = w.write("b.jsonl", &(std::fs::read_to_string(&bad).unwrap() + "\n"));
    assert_eq!(w.run(&["generate", lines.to_str().unwrap()]).code, 2, "other bytes (a line end): a new row");
    assert_eq!(refused(&w).len(), 2, "{:?}", refused(&w));
    // Two files that cannot be read are two problems, though nothing of either is stored.
    assert_eq!(w.generate(&w.path("a.json")).code, 1);
    assert_eq!(w.generate(&w.path("b.json")).code, 1);
    assert_eq!(w.generate(&w.path("b.json")).code, 1);
    assert_eq!(refused(&w).len(), 4, "{:?}", refused(&w));

    // Closed by a correction, the same bad input again is a new problem.
    w.generate(&w.write("fixed.json", &line("FLS-AUH-2025-0601", |_| {}))).ok();
    assert_eq!(list(&w, &["--status", "refused-closed"]).len(), 2);
    assert_eq!(w.generate(&bad).code, 2);
    let open: Vec<Value> = list(&w, &["--status", "refused"]);
    assert_eq!(open.len(), 3, "{open:?}");
    assert_eq!(open[0]["id"], "R5", "{open:?}");
}

#[test]
fn what_the_caller_wrote_is_masked_in_every_view_of_a_refused_input() {
    let w = World::new();
    // A file named after the patient, an unknown key that is a CPR number, a bad CPR date.
    let named = w.write("2512489996.json", &line("FLS-AUH-2025-0701", |v| v["2512489996"] = json!("x")));
    let r = w.generate(&named);
    assert_eq!(r.code, 2, "{}", r.stderr);
    assert_no_cpr("generate", &format!("{}{}", r.stdout, r.stderr));
    let bad_date =
        w.write("251248-9996.json", &line("FLS-AUH-2025-0702", |v| v["patient"]["cpr"] = json!("3213221234")));
    assert_eq!(w.generate(&bad_date).code, 2);
    let rows = refused(&w);
    assert_eq!(rows.len(), 2, "{rows:?}");
    assert_eq!(rows[1]["code"], "input_refused/xxxxxxxxxx", "{}", rows[1]);
    assert!(rows[1]["source"].as_str().unwrap().ends_with("xxxxxxxxxx.json"), "{}", rows[1]);
    assert_eq!(rows[0]["code"], "input_refused/patient.cpr", "{}", rows[0]);
    // A refused input has no CPR to reveal.
    let r = w.run(&["journal", "show", "R2", "--reveal-cpr"]);
    assert_eq!(r.code, 2, "{}{}", r.stdout, r.stderr);
    assert_no_cpr("journal show R2 --reveal-cpr", &format!("{}{}", r.stdout, r.stderr));
    assert_no_cpr("every view", &all_views(&w, &["R1", "R2"]));
}

#[test]
fn a_refused_single_input_the_journal_cannot_record_fails_with_the_journals_error() {
    // The journal file's folder cannot be made (a file stands there): SQLite file semantics.
    if sqlite_only() {
        return;
    }
    let w = World::new();
    let bad = w.write("bad.json", &line("FLS-AUH-2025-0801", |v| v["site"] = json!("RANDERS")));
    // The journal's folder cannot be made: a file stands where it would be.
    w.write("state", "not a folder");
    let r = w.generate(&bad);
    assert_eq!(r.code, 1, "{}{}", r.stdout, r.stderr);
    let line = r.one();
    assert_eq!(line["outcome"], "error");
    assert_ne!(line["error"]["code"], "input_invalid", "{line}");
    assert!(r.stderr.contains("bad.json: site: RANDERS") && r.stderr.contains("(not journaled)"), "{}", r.stderr);
    assert!(!w.out().exists());
}

#[test]
fn an_unknown_status_names_the_refused_ones_too() {
    let w = World::new();
    w.generate(&sample("group-1.json")).ok();
    let r = w.run(&["journal", "list", "--status", "bogus"]);
    assert_eq!(r.code, 2);
    assert!(r.stderr.contains("refused, refused-closed"), "{}", r.stderr);
    let r = w.run(&["journal", "show", "R9"]);
    assert_eq!(r.code, 2, "{}", r.stderr);
    assert!(r.stderr.contains("no refused input R9"), "{}", r.stderr);
}
