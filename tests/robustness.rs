//! No input makes flspost panic: every mutation of a valid document is either accepted or
//! refused with an error naming a field.

use flspost::compose::{Composer, Kind, Plan};
use flspost::generate::prepare;
use flspost::letters::Letters;
use flspost::medcom::xdis91::LetterStatus;
use flspost::policy::RolloutPolicy;
use serde_json::{json, Value};

const BASE: &str = include_str!("../samples/input/group-2a.json");

/// Values that have broken parsers before: wrong types, extremes, odd Unicode.
fn nasty() -> Vec<Value> {
    vec![
        json!(null),
        json!(true),
        json!(0),
        json!(-1),
        json!(1e308),
        json!(-0.0),
        json!(18446744073709551615u64),
        json!(""),
        json!(" "),
        json!("x".repeat(10_000)),
        json!("Æ".repeat(71)),
        json!("\u{0}"),
        json!("a\u{202E}b"),
        json!("😀"),
        json!("Ωμέγα"),
        json!("<![CDATA[x]]>&amp;"),
        json!("]]>"),
        json!("Łódź “ok” – €"),
        json!("9999999999999"),
        json!("0000000000"),
        json!("2025-02-29"),
        json!("2025-03-10T25:61:00+01:00"),
        json!([]),
        json!({}),
        json!({"street": "x", "postcode": "1", "city": "y"}),
    ]
}

/// Every path to a leaf or object in `v`.
fn paths(v: &Value, prefix: Vec<String>, out: &mut Vec<Vec<String>>) {
    if let Value::Object(m) = v {
        for (k, child) in m {
            let mut p = prefix.clone();
            p.push(k.clone());
            out.push(p.clone());
            paths(child, p, out);
        }
    }
}

fn set(v: &mut Value, path: &[String], new: Value) {
    let mut cur = v;
    for k in &path[..path.len() - 1] {
        cur = &mut cur[k];
    }
    cur[&path[path.len() - 1]] = new;
}

#[test]
fn no_mutation_of_an_input_panics() {
    let policy = RolloutPolicy::default();
    let now = "2025-03-20T09:30:00Z".parse().unwrap();
    let composer = Composer::new(Letters::shipped());
    let base: Value = serde_json::from_str(BASE).unwrap();
    let mut all = vec![];
    paths(&base, vec![], &mut all);
    let (mut accepted, mut refused) = (0, 0);
    for path in &all {
        for value in nasty() {
            let mut doc = base.clone();
            set(&mut doc, path, value);
            match prepare(&doc.to_string(), &policy, now) {
                Ok(p) => {
                    accepted += 1;
                    for kind in Kind::ALL {
                        let plan = Plan { kind, letter_revision: 0, attempt: 1, status: LetterStatus::New };
                        // Building may refuse (a character XDIS91 cannot hold), never panic.
                        if let Err(e) = composer.build(&p.result, &plan, now) {
                            assert_ne!(e.exit_code(), 3, "{path:?}: a built message failed its own schema: {e}");
                        }
                    }
                }
                Err(e) => {
                    refused += 1;
                    assert!(!e.field.is_empty() && !e.reason.is_empty());
                }
            }
        }
    }
    assert!(accepted > 0 && refused > 0);
    // Truncations of the document at every byte.
    for cut in 0..BASE.trim_end().len() {
        if BASE.is_char_boundary(cut) {
            assert!(prepare(&BASE[..cut], &policy, now).is_err());
        }
    }
}
