//! The output folder: flspost writes only into folders it can see are real, and a summary
//! names only files that were written.

mod common;
use common::*;

fn generate_to(w: &World, out: &std::path::Path, input: &str) -> Run {
    w.run(&["generate", "--out-dir", out.to_str().unwrap(), sample(input).to_str().unwrap()])
}

/// A folder of someone else's with a file flspost would otherwise overwrite.
fn victim(w: &World) -> std::path::PathBuf {
    let v = w.path("elsewhere");
    std::fs::create_dir_all(&v).unwrap();
    std::fs::write(v.join("gp-xdis91.xml"), "precious").unwrap();
    v
}

#[test]
fn a_result_folder_that_is_a_symbolic_link_is_refused_not_followed() {
    let w = World::new();
    let v = victim(&w);
    std::fs::create_dir_all(w.out()).unwrap();
    let link = w.out().join("FLS-AUH-2025-0001");
    std::os::unix::fs::symlink(&v, &link).unwrap();
    let r = generate_to(&w, &w.out(), "group-1.json");
    assert_eq!(r.code, 1, "{}\n{}", r.stdout, r.stderr);
    assert!(r.stderr.contains(&link.display().to_string()) && r.stderr.contains("symbolic link"), "{}", r.stderr);
    assert_eq!(tree(&v), [("gp-xdis91.xml".to_string(), b"precious".to_vec())]);

    // The same for a result already in the journal, whose files would be restored, and for
    // a correction, which replaces files in an existing folder.
    w.run(&["generate", sample("group-2a.json").to_str().unwrap()]).ok();
    let link2 = w.out().join("FLS-AUH-2025-0002");
    std::os::unix::fs::symlink(&v, &link2).unwrap();
    let r = generate_to(&w, &w.out(), "group-2a.json");
    assert_eq!(r.code, 1, "{}\n{}", r.stdout, r.stderr);
    assert_eq!(r.one()["outcome"], "error");
    assert!(r.stderr.contains(&link2.display().to_string()), "{}", r.stderr);
    let mut v2 = sample_json("group-2a.json");
    v2["gp"]["ean"] = serde_json::json!("5790000121441");
    let fixed = w.write("fixed.json", &v2.to_string());
    let r = w.run(&["generate", "--out-dir", w.out().to_str().unwrap(), fixed.to_str().unwrap()]);
    assert_eq!(r.code, 1, "{}\n{}", r.stdout, r.stderr);
    assert_eq!(tree(&v), [("gp-xdis91.xml".to_string(), b"precious".to_vec())]);
}

#[test]
fn an_unusable_output_folder_for_an_existing_result_fails_and_names_no_file() {
    let w = World::new();
    w.run(&["generate", sample("group-1.json").to_str().unwrap()]).ok();
    let file = w.write("a-file", "x");
    let long = w.path(&"n".repeat(300));
    for out in [&file, &long] {
        let r = generate_to(&w, out, "group-1.json");
        assert_eq!(r.code, 1, "{out:?}: {}\n{}", r.stdout, r.stderr);
        let s = r.one();
        assert_eq!(s["outcome"], "error", "{s}");
        assert!(s.get("messages").is_none() && s.get("dir").is_none(), "names files that were not written: {s}");
        assert!(!r.stderr.contains("warning"), "{}", r.stderr);
    }
    assert_eq!(std::fs::read(&file).unwrap(), b"x");
}
