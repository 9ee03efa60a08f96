//! Batches: JSON Lines and several files in one `generate`, each line on its own.

use crate::common::*;
use serde_json::json;

fn lines(n: usize) -> Vec<String> {
    sample_lines("B", n)
}

#[test]
fn a_bad_line_fails_alone_and_is_named_by_its_line_number() {
    let w = World::new();
    let mut l = lines(6);
    l[2] = l[2]
        .replace("\"2512489996\"", "\"3102489996\"")
        .replace("\"0211223989\"", "\"3102489996\"")
        .replace("\"0108589995\"", "\"3102489996\"");
    l.insert(4, "not json".into());
    let p = w.write("in.jsonl", &(l.join("\n") + "\n"));
    let r = w.run(&["generate", "--out-dir", w.out().to_str().unwrap(), p.to_str().unwrap()]);
    assert_eq!(r.code, 2, "{}", r.stderr);
    let out = r.json();
    assert_eq!(out.len(), 7);
    for (i, s) in out.iter().enumerate() {
        assert_eq!(s["line"], (i + 1) as u64);
    }
    assert_eq!(out[2]["outcome"], "error");
    assert_eq!(out[2]["error"]["field"], "patient.cpr");
    assert_eq!(out[4]["outcome"], "error");
    assert!(r.stderr.contains(&format!("{}:3: patient.cpr:", p.display())), "{}", r.stderr);
    assert!(r.stderr.contains(&format!("{}:5: ", p.display())), "{}", r.stderr);
    // The closing line, in the README's order: generated, corrected, already generated, regenerated, failed.
    assert_eq!(r.stderr.lines().last(), Some("flspost: 5 generated, 2 failed"), "{}", r.stderr);
    // Each result's folder, and no litter beside them (the staging folder goes when empty).
    let names: Vec<String> =
        std::fs::read_dir(w.out()).unwrap().flatten().map(|e| e.file_name().to_string_lossy().into_owned()).collect();
    assert_eq!(names.len(), 5, "{names:?}");
    assert!(names.iter().all(|n| !n.starts_with('.')), "{names:?}");
    let again = w.run(&["generate", "--out-dir", w.out().to_str().unwrap(), p.to_str().unwrap()]);
    assert_eq!(again.stderr.lines().last(), Some("flspost: 5 already generated, 2 failed"), "{}", again.stderr);
}

#[test]
fn output_is_the_same_whatever_the_thread_count() {
    let l = lines(40);
    let mut results = vec![];
    for threads in ["1", "2"] {
        let w = World::new();
        let p = w.write("in.jsonl", &(l.join("\n") + "\n"));
        let out = w
            .cmd()
            .env("RAYON_NUM_THREADS", threads)
            .args(["generate", "--out-dir", w.out().to_str().unwrap(), p.to_str().unwrap()])
            .output()
            .unwrap();
        assert!(out.status.success());
        let stdout = String::from_utf8(out.stdout).unwrap().replace(w.dir.path().to_str().unwrap(), "WORLD");
        results.push((stdout, tree(&w.out())));
    }
    assert_eq!(results[0].0, results[1].0, "summaries differ between 1 and 2 threads");
    assert!(results[0].1 == results[1].1, "output files differ between 1 and 2 threads");
    assert_eq!(results[0].1.len(), 40 * 3);
}

#[test]
fn several_files_and_repeated_results_in_one_batch() {
    let w = World::new();
    let mut v = sample_json("group-1.json");
    let first = v.to_string();
    v["author"]["title"] = json!("Afdelingslæge");
    let changed = v.to_string();
    let a = w.write("a.jsonl", &format!("{first}\n{first}\n{changed}\n"));
    let b = sample("group-3.json");
    let r = w.run(&["generate", "--out-dir", w.out().to_str().unwrap(), a.to_str().unwrap(), b.to_str().unwrap()]).ok();
    let out = r.json();
    let outcomes: Vec<&str> = out.iter().map(|s| s["outcome"].as_str().unwrap()).collect();
    assert_eq!(outcomes, ["generated", "exists", "corrected", "generated"]);
    assert_eq!(out[3]["source"], b.display().to_string());
}

#[test]
fn a_long_batch_streams() {
    // More lines than one chunk, so chunking and ordering across chunks are exercised.
    let w = World::new();
    let l = lines(1200);
    let p = w.write("big.jsonl", &l.join("\n"));
    let r = w.run(&["generate", "--out-dir", w.out().to_str().unwrap(), p.to_str().unwrap()]).ok();
    let out = r.json();
    assert_eq!(out.len(), 1200);
    assert!(out.iter().enumerate().all(|(i, s)| s["result_id"] == format!("B-{i:05}")));
    assert!(r.stderr.contains("1200 generated"), "{}", r.stderr);
}

#[test]
fn a_missing_file_in_a_batch_fails_alone_and_the_others_are_generated() {
    let w = World::new();
    let missing = w.path("missing.json");
    let r = w.run(&["generate", missing.to_str().unwrap(), sample("group-1.json").to_str().unwrap()]);
    assert_eq!(r.code, 1, "{}\n{}", r.stdout, r.stderr);
    let lines = r.json();
    assert_eq!(lines.len(), 2, "{}", r.stdout);
    assert_eq!(lines[0]["outcome"], "error");
    assert_eq!(lines[0]["error"]["exit_code"], 1);
    assert_eq!(lines[1]["outcome"], "generated");
    assert!(r.stderr.contains(&missing.display().to_string()), "{}", r.stderr);
    assert!(r.stderr.contains("1 generated, 1 failed"), "{}", r.stderr);
}
