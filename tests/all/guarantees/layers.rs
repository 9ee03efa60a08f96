//! The imports run one way: each top-level module of `src/` sits on a layer and names
//! (`crate::X`, in the binary `flspost::X`) only itself or a module on a lower layer. Modules on one layer do not name each other. The crate's
//! error sits just above the modules whose errors it wraps; a module's own error is a leaf
//! file (`journal/error.rs`) that the crate's error names by its path, so every module can
//! return the crate's error without a circle. Unit tests (a `#[cfg(test)] mod … {` to the
//! end of a file, `tests.rs`, `testdata.rs`) are not counted.
//!

use std::path::{Path, PathBuf};

/// Bottom first; the same map as the crate doc (`src/lib.rs`) and docs/design.md.
const LAYERS: &[&[&str]] = &[
    // No domain words: files, clock, digests, CPR masking.
    &["support"],
    // The vocabulary: the checked result, identifiers, letter and message kinds, policy.
    &["model"],
    // The crate's error, composed of the module errors' leaf files.
    &["error"],
    // JSON in -> model; what the letters say; validated bytes.
    &["input", "letters", "schema"],
    // One folder per wire format.
    &["formats"],
    // One result's messages, built and validated.
    &["compose"],
    // MedCom's reliable messaging: what an answer does, the one resend rule.
    &["reliable"],
    // Storage and hand-over.
    &["journal", "transport"],
    // The commands' work.
    &["app"],
    // The front ends (the binary): arguments and printing; the server's pages and endpoints.
    &["cli", "server"],
];

fn rank(unit: &str) -> Option<usize> {
    LAYERS.iter().position(|l| l.contains(&unit))
}

/// The module a file belongs to, from its path under `src/`; `None` for files not counted.
fn unit_of(rel: &Path) -> Option<String> {
    let s = rel.to_str().unwrap();
    let name = rel.file_name().unwrap().to_str().unwrap();
    if s == "lib.rs" || s == "main.rs" || name == "tests.rs" || s == "testdata.rs" {
        return None;
    }
    if name == "error.rs" || s == "schema/problem.rs" {
        return Some("error".into());
    }
    Some(s.split('/').next().unwrap().trim_end_matches(".rs").to_string())
}

/// The module a path after `crate::` names; a module's own error leaf (`X::error::…`) counts
/// as the crate's error.
fn unit_named(segments: &[String]) -> String {
    match segments {
        [_, second, ..] if second == "error" => "error".into(),
        [first, second, ..] if first == "schema" && second == "problem" => "error".into(),
        [first, ..] => first.clone(),
        [] => String::new(),
    }
}

/// The code of a file without comments and without its unit-test module at the end.
fn code_of(text: &str) -> String {
    let mut out = String::new();
    let mut lines = text.lines().peekable();
    while let Some(line) = lines.next() {
        let t = line.trim_start();
        if t.starts_with("#[cfg(test)]") && lines.peek().is_some_and(|n| n.trim_start().starts_with("mod ")) {
            if lines.peek().is_some_and(|n| n.trim_end().ends_with('{')) {
                break;
            }
            lines.next(); // `mod tests;`: a file of its own, not counted
            continue;
        }
        if !t.starts_with("//") {
            out.push_str(line);
            out.push('\n');
        }
    }
    out
}

/// Every path named after `prefix`, a brace group expanded one level.
fn named(code: &str, prefix: &str) -> Vec<Vec<String>> {
    let segs = |p: &str| -> Vec<String> {
        p.split("::")
            .map(|s| s.trim().chars().take_while(|c| c.is_alphanumeric() || *c == '_').collect::<String>())
            .take_while(|s| !s.is_empty())
            .collect()
    };
    let bytes = code.as_bytes();
    let mut found = vec![];
    let mut from = 0;
    while let Some(at) = code[from..].find(prefix) {
        let start = from + at;
        from = start + prefix.len();
        if start > 0 && (bytes[start - 1].is_ascii_alphanumeric() || b"_$:".contains(&bytes[start - 1])) {
            continue;
        }
        let rest = &code[from..];
        if let Some(group) = rest.strip_prefix('{') {
            let end = group.find('}').unwrap_or(group.len());
            found.extend(group[..end].split(',').map(|item| segs(item)).filter(|s| !s.is_empty()));
        } else {
            let s = segs(rest);
            if !s.is_empty() {
                found.push(s);
            }
        }
    }
    found
}

fn rust_files(dir: &Path, out: &mut Vec<PathBuf>) {
    for e in std::fs::read_dir(dir).unwrap() {
        let p = e.unwrap().path();
        if p.is_dir() {
            rust_files(&p, out)
        } else if p.extension().is_some_and(|x| x == "rs") {
            out.push(p)
        }
    }
}

/// Every (file, named module) pair that breaks the rule, in words.
fn violations(src: &Path) -> Vec<String> {
    let mut files = vec![];
    rust_files(src, &mut files);
    files.sort();
    let mut wrong = vec![];
    for f in &files {
        let rel = f.strip_prefix(src).unwrap();
        let Some(unit) = unit_of(rel) else { continue };
        let Some(own) = rank(&unit) else {
            wrong.push(format!("src/{}: module `{unit}` is on no layer; add it to LAYERS", rel.display()));
            continue;
        };
        let prefix = if unit == "cli" { "flspost::" } else { "crate::" };
        for path in named(&code_of(&std::fs::read_to_string(f).unwrap()), prefix) {
            let target = unit_named(&path);
            if target == unit || target.is_empty() {
                continue;
            }
            match rank(&target) {
                Some(r) if r < own => {}
                Some(r) if r == own => {
                    wrong.push(format!("src/{}: `{unit}` names `{target}`, a peer on its layer", rel.display()))
                }
                Some(_) => wrong.push(format!("src/{}: `{unit}` names `{target}`, a higher layer", rel.display())),
                None => wrong.push(format!("src/{}: names `{target}`, which is on no layer", rel.display())),
            }
        }
    }
    wrong.sort();
    wrong.dedup();
    wrong
}

#[test]
fn no_module_imports_a_higher_layer_or_a_peer() {
    let src = Path::new(env!("CARGO_MANIFEST_DIR")).join("src");
    let wrong = violations(&src);
    assert!(wrong.is_empty(), "{} imports against the layers:\n{}", wrong.len(), wrong.join("\n"));
}

/// The check itself sees an import up the layers and a peer's (so a pass means something).
#[test]
fn the_check_catches_an_import_upwards_and_between_peers() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("model.rs"), "use crate::journal::Journal;\n").unwrap();
    std::fs::write(dir.path().join("input.rs"), "fn f() { crate::letters::x(); }\n// crate::cli::y\n").unwrap();
    std::fs::create_dir(dir.path().join("journal")).unwrap();
    std::fs::write(
        dir.path().join("journal/store.rs"),
        "use crate::{error::Error, formats};\n#[cfg(test)]\nmod tests {\n use crate::cli::z;\n}\n",
    )
    .unwrap();
    let wrong = violations(dir.path());
    assert_eq!(
        wrong,
        [
            "src/input.rs: `input` names `letters`, a peer on its layer",
            "src/model.rs: `model` names `journal`, a higher layer",
        ],
        "{wrong:?}"
    );
}
