//! Journals written by released schemas, kept in tests/fixtures: each must keep opening
//! with all its data. journal-v2.sqlite was written by this release (schema 2): the
//! walk-through's four results, sent, both sample receipts, a regeneration, and a
//! correction that went out as a kombi request. When the schema changes, this test is
//! what shows the migration keeps every row.

mod common;
use common::*;

fn with_fixture(name: &str) -> World {
    let w = World::new();
    std::fs::create_dir_all(w.journal().parent().unwrap()).unwrap();
    std::fs::copy(root().join("tests/fixtures").join(name), w.journal()).unwrap();
    w
}

#[test]
fn a_journal_of_this_release_opens_with_every_message_attempt_and_receipt() {
    let w = with_fixture("journal-v2.sqlite");
    w.run(&["journal", "verify"]).ok();
    let messages = w.run(&["journal", "list", "--json"]).ok().json();
    assert_eq!(messages.len(), 11, "every message is there");
    let count = |key: &str, value: &str| messages.iter().filter(|m| m[key] == value).count();
    assert_eq!((count("kind", "gp-xdis91"), count("kind", "patient-memo"), count("kind", "patient-kombi")), (6, 4, 1));
    assert_eq!((count("status", "acknowledged"), count("status", "rejected")), (1, 1));
    let rejected = w.run(&["journal", "show", "3", "--json"]).ok().one();
    assert_eq!(rejected["regenerated_as"], 9, "{rejected}");
    assert_eq!(rejected["attempts"].as_array().unwrap().len(), 1, "{rejected}");
    assert_eq!(rejected["receipts"].as_array().unwrap().len(), 1, "{rejected}");

    // A command that writes keeps all of it and adds its own. (The sample as it was then,
    // before it showed the optional FHIR fields.)
    let mut v2_sample = sample_json("group-2b.json");
    v2_sample["gp"].as_object_mut().unwrap().remove("sor_id");
    v2_sample["author"].as_object_mut().unwrap().retain(|k, _| k == "name" || k == "title");
    w.generate(&w.write("group-2b.json", &v2_sample.to_string())).ok();
    let after = w.run(&["journal", "list", "--json"]).ok().json();
    assert_eq!(after.len(), 11, "the same content exists already: nothing new");
    w.run(&["journal", "verify"]).ok();
}
