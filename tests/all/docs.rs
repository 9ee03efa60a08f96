//! The README and `docs/` lead where they say: every relative link in `README.md` and in
//! `docs/*.md` names a file that exists, and every `#anchor` in such a link matches a heading
//! of the file it names, by GitHub's rule (lower case, spaces to `-`, punctuation dropped; a
//! heading that repeats gets `-1`, `-2`, ...). `docs/plans/` holds working notes and is not read.
//! Links inside fenced code blocks and inline code are not links.

use std::collections::HashSet;
use std::path::{Path, PathBuf};

/// The lines of a Markdown text that are not inside a fenced code block, with their numbers.
fn prose(text: &str) -> Vec<(usize, &str)> {
    let mut out = vec![];
    let mut fence: Option<&str> = None;
    for (n, line) in text.lines().enumerate() {
        let t = line.trim_start();
        let marker = ["```", "~~~"].into_iter().find(|m| t.starts_with(m));
        match (fence, marker) {
            (None, Some(m)) => fence = Some(m),
            (Some(f), Some(m)) if f == m => fence = None,
            (None, None) => out.push((n + 1, line)),
            _ => {}
        }
    }
    out
}

/// A heading's anchor as GitHub makes it: the text as shown (a link's text, not its target),
/// lower case, every character but letters, digits, `-`, `_` and spaces dropped, spaces to `-`.
fn slug(heading: &str) -> String {
    let mut shown = String::new();
    let mut rest = heading;
    while let Some(at) = rest.find("](") {
        let end = rest[at..].find(')').map_or(rest.len(), |e| at + e + 1);
        shown.push_str(&rest[..at]);
        rest = &rest[end..];
    }
    shown.push_str(rest);
    shown
        .trim()
        .to_lowercase()
        .chars()
        .filter(|c| c.is_alphanumeric() || matches!(c, '-' | '_' | ' '))
        .map(|c| if c == ' ' { '-' } else { c })
        .collect()
}

/// Every anchor a Markdown text's headings give, repeats numbered as GitHub numbers them.
fn anchors(text: &str) -> HashSet<String> {
    let mut seen = HashSet::new();
    for (_, line) in prose(text) {
        let hashes = line.chars().take_while(|&c| c == '#').count();
        if !(1..=6).contains(&hashes) || !line[hashes..].starts_with(' ') {
            continue;
        }
        let base = slug(&line[hashes..]);
        let mut anchor = base.clone();
        let mut n = 0;
        while seen.contains(&anchor) {
            n += 1;
            anchor = format!("{base}-{n}");
        }
        seen.insert(anchor);
    }
    seen
}

/// A line without its inline code spans (`` `...` ``), which hold no links.
fn without_code(line: &str) -> String {
    line.split('`').step_by(2).collect::<Vec<_>>().join(" ")
}

/// The targets of the links on a line: what stands between `](` and the closing `)`, without
/// a title.
fn targets(line: &str) -> Vec<String> {
    let line = without_code(line);
    let mut found = vec![];
    let mut rest = line.as_str();
    while let Some(at) = rest.find("](") {
        rest = &rest[at + 2..];
        let end = rest.find(')').unwrap_or(rest.len());
        let target = rest[..end].split_whitespace().next().unwrap_or("");
        found.push(target.to_string());
        rest = &rest[end..];
    }
    found
}

fn is_external(target: &str) -> bool {
    target.contains("://") || target.starts_with("mailto:")
}

/// Every broken link in the Markdown files under `root` that are checked (`README.md` and
/// `docs/*.md`), each as `file:line: link `target`: what is wrong`.
fn broken_links(root: &Path) -> Vec<String> {
    let mut files = vec![root.join("README.md")];
    if let Ok(dir) = std::fs::read_dir(root.join("docs")) {
        let mut docs: Vec<PathBuf> = dir
            .map(|e| e.unwrap().path())
            .filter(|p| p.is_file() && p.extension().is_some_and(|x| x == "md"))
            .collect();
        docs.sort();
        files.extend(docs);
    }
    let mut wrong = vec![];
    for file in &files {
        let text = std::fs::read_to_string(file).unwrap_or_else(|e| panic!("{}: {e}", file.display()));
        let shown = file.strip_prefix(root).unwrap().display().to_string();
        for (n, line) in prose(&text) {
            for target in targets(line) {
                if target.is_empty() || is_external(&target) {
                    continue;
                }
                let (path, anchor) = match target.split_once('#') {
                    Some((p, a)) => (p, Some(a)),
                    None => (target.as_str(), None),
                };
                let named = if path.is_empty() { file.clone() } else { file.parent().unwrap().join(path) };
                if !named.exists() {
                    wrong.push(format!("{shown}:{n}: link `{target}`: no file {}", named.display()));
                    continue;
                }
                let Some(anchor) = anchor else { continue };
                if named.extension().is_none_or(|x| x != "md") {
                    wrong.push(format!("{shown}:{n}: link `{target}`: an anchor into a file that is not Markdown"));
                    continue;
                }
                let theirs = anchors(&std::fs::read_to_string(&named).unwrap());
                if !theirs.contains(anchor) {
                    let mut known: Vec<_> = theirs.into_iter().collect();
                    known.sort();
                    wrong.push(format!(
                        "{shown}:{n}: link `{target}`: no heading `#{anchor}` in {path_shown} (its anchors: {})",
                        known.join(", "),
                        path_shown = if path.is_empty() { shown.as_str() } else { path }
                    ));
                }
            }
        }
    }
    wrong
}

#[test]
fn every_docs_link_resolves() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let wrong = broken_links(root);
    assert!(wrong.is_empty(), "{} broken links:\n{}", wrong.len(), wrong.join("\n"));
}

/// The check sees what it is for, so a pass means something: a missing file, a missing
/// heading, a repeated heading's number, and it leaves code alone.
#[test]
fn the_check_sees_a_missing_file_and_a_missing_heading() {
    let root = std::env::temp_dir().join(format!("flspost-docs-links-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&root);
    std::fs::create_dir_all(root.join("docs")).unwrap();
    std::fs::write(
        root.join("README.md"),
        "# flspost\n\n## Quick start (a fresh machine of this project's kind)\n\n\
         [ok](docs/a.md#samples-1) [ok](#quick-start-a-fresh-machine-of-this-projects-kind) \
         [gone](docs/gone.md) `[code](docs/gone.md)`\n\n```\n[fenced](docs/gone.md)\n# not a heading\n```\n",
    )
    .unwrap();
    std::fs::write(
        root.join("docs/a.md"),
        "# A\n\n## Samples\n\n## Samples\n\n### generate: the input contract\n\n\
         [ok](../README.md) [ok](#generate-the-input-contract) [ok](https://example.org/x#y)\n\
         [no heading](#samples-2) [no heading](../README.md#not-a-heading)\n",
    )
    .unwrap();
    let wrong = broken_links(&root);
    std::fs::remove_dir_all(&root).unwrap();
    assert_eq!(wrong.len(), 3, "{wrong:#?}");
    assert!(wrong[0].starts_with("README.md:5: link `docs/gone.md`: no file"), "{wrong:#?}");
    assert!(wrong[1].starts_with("docs/a.md:10: link `#samples-2`: no heading"), "{wrong:#?}");
    assert!(wrong[2].starts_with("docs/a.md:10: link `../README.md#not-a-heading`: no heading"), "{wrong:#?}");
}

#[test]
fn anchors_follow_githubs_rule() {
    assert_eq!(
        slug(" Quick start (a fresh machine of this project's kind)"),
        "quick-start-a-fresh-machine-of-this-projects-kind"
    );
    assert_eq!(
        slug(" Walk-through: generate, send, a rejection, a resend"),
        "walk-through-generate-send-a-rejection-a-resend"
    );
    assert_eq!(slug(" Acknowledgements (FHIR)"), "acknowledgements-fhir");
    assert_eq!(slug(" `journal_busy` and Gødstrup"), "journal_busy-and-gødstrup");
    assert_eq!(slug(" See [the plan](plans/x.md)"), "see-the-plan");
}
