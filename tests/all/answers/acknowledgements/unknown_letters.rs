//! An answer naming no letter of ours is reported and changes nothing; a foreign id shows CPR-like digits masked.

use super::*;

#[test]
fn medcoms_example_acknowledgement_answers_no_letter_of_ours_and_changes_nothing() {
    let Some(reference) = reference() else { return };
    let w = World::new();
    let gp = sent(&w, "group-2a.json");
    let example = reference.join("medcom-fhir/acknowledgement/Flow2-Acknowledgement_Ex_to_OIOXML.xml");
    let before = w.run(&["journal", "list", "--json"]).ok().stdout;
    let r = receipt(&w, example.to_str().unwrap());
    assert_eq!(r.code, 1, "{}", r.stderr);
    let line = r.one();
    assert_eq!(line["result"]["outcome"], "unknown-letter", "{line}");
    assert_eq!(line["receipt"], "FHIR ok");
    assert_eq!(line["original_letter_id"], "60098c38-6fe1-41ba-aa92-d4809022de88");
    assert_eq!(line["acknowledgement"]["bundle_id"], "e90e15ae-e019-496b-aa65-95aab4983f0d");
    assert_eq!(line["acknowledgement"]["sender_gln"], "5790000121441");
    assert!(
        r.stderr.contains("letter 60098c38-6fe1-41ba-aa92-d4809022de88: unknown-letter"),
        "reported for a person: {}",
        r.stderr
    );
    assert_eq!(w.run(&["journal", "list", "--json"]).ok().stdout, before, "nothing changed");
    assert_eq!(status(&w, gp["letter_id"].as_str().unwrap()), "sent");
    // Stored, and evaluated again when read again (not a duplicate): still reported.
    let again = receipt(&w, example.to_str().unwrap());
    assert_eq!((again.code, again.one()["result"]["outcome"].clone()), (1, "unknown-letter".into()));
}

#[test]
fn an_identifier_not_of_this_journal_is_printed_with_cpr_like_digits_masked() {
    let w = World::new();
    let gp = sent(&w, "group-2a.json");
    // An Acknowledgement naming no letter of ours, by an identifier hiding a CPR number.
    let unknown = "00000000-0000-4000-8000-000211223989";
    let r = receipt(&w, &ack(&w, 1, "ok", unknown, &[]));
    assert_eq!(r.code, 1, "{}", r.stderr);
    let line = r.one();
    assert_eq!(line["result"]["outcome"], "unknown-letter", "{line}");
    assert_eq!(line["original_letter_id"], "xxxxxxxx-xxxx-xxxx-xxxx-xxxxxxxxxxxx");
    assert!(r.stderr.contains("letter xxxxxxxx-xxxx-xxxx-xxxx-xxxxxxxxxxxx: unknown-letter"), "{}", r.stderr);
    for out in [&r.stdout, &r.stderr] {
        assert!(!out.contains("0211223989"), "a CPR number in the output: {out}");
    }
    // Ours are shown whole: the letter and the envelope it was matched to.
    let line = receipt(&w, &ack(&w, 2, "ok", gp["letter_id"].as_str().unwrap(), &[])).ok().one();
    assert_eq!((&line["original_letter_id"], &line["original_envelope_id"]), (&gp["letter_id"], &gp["envelope_id"]));
}
