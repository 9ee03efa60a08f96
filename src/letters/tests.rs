use super::*;
use crate::testdata;

fn date() -> NaiveDate {
    NaiveDate::from_ymd_opt(2025, 3, 20).unwrap()
}

#[test]
fn every_group_says_what_the_patient_must_know() {
    let letters = Letters::shipped();
    let expect: [(&str, &[&str]); 4] = [
        (testdata::GROUP_1, &["normal", "rask"]),
        (testdata::GROUP_2A, &["osteopeni", "5 år", "2030", "egen læge"]),
        (testdata::GROUP_2B, &["osteoporose", "årskontrol", "egen læge"]),
        (testdata::GROUP_3, &["svær osteoporose", "ambulatorium"]),
    ];
    for (input, words) in expect {
        let r = testdata::checked(input);
        let text = letters.render(Addressee::Patient, &r, date()).unwrap();
        let body = text.body_text();
        for w in words {
            assert!(body.contains(w), "group {}: {w:?} missing in\n{body}", r.group);
        }
        assert!(body.contains(&r.patient.full_name()));
        assert!(body.contains(&danish_date(r.scan.date)));
        assert!(body.contains("Karen Østergaard"));
        assert_eq!(text.subject, "Resultat af din knogleskanning");
    }
}

#[test]
fn gp_text_states_group_measurements_and_expectation() {
    let letters = Letters::shipped();
    let r = testdata::checked(testdata::GROUP_2A);
    let t = letters.render(Addressee::Gp, &r, date()).unwrap();
    let body = t.body_text();
    assert!(t.subject.contains("gruppe 2a"), "{}", t.subject);
    assert!(body.contains("T-score, columna lumbalis: -1,8"), "{body}");
    assert!(body.contains("T-score, hofte: -1,6"), "{body}");
    assert!(body.contains("11. marts 2025"));
    assert!(body.contains("om 5 år"));
    assert!(body.contains("Telefon +45 78 45 00 00"));
    assert!(body.contains("Karen Østergaard, Overlæge, ph.d."));

    let r3 = testdata::checked(testdata::GROUP_3);
    assert!(letters
        .render(Addressee::Gp, &r3, date())
        .unwrap()
        .body_text()
        .contains("Hospitalet overtager behandlingen"));
    let r1 = testdata::checked(testdata::GROUP_1);
    assert!(letters.render(Addressee::Gp, &r1, date()).unwrap().body_text().contains("ingen opfølgning"));
}

#[test]
fn hip_score_line_is_left_out_when_not_measured() {
    let r = testdata::checked(testdata::GROUP_2B);
    let body = Letters::shipped().render(Addressee::Gp, &r, date()).unwrap().body_text();
    assert!(body.contains("columna lumbalis: -2,7"));
    assert!(!body.contains("hofte"), "{body}");
}

#[test]
fn override_folder_replaces_wording_and_unknown_fields_fail_at_load() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("patient-1.txt"), "Emne\n\nHej {{ patient.full_name }}, alt er normalt.\n").unwrap();
    let letters = Letters::load(Some(dir.path())).unwrap();
    let r = testdata::checked(testdata::GROUP_1);
    let t = letters.render(Addressee::Patient, &r, date()).unwrap();
    assert_eq!(t.subject, "Emne");
    assert_eq!(t.paragraphs, vec![vec!["Hej Nancy Ann Test Berggren, alt er normalt.".to_string()]]);

    std::fs::write(dir.path().join("gp-3.txt"), "Emne\n\n{{ patient.cpr }}\n").unwrap();
    let e = Letters::load(Some(dir.path())).err().unwrap().to_string();
    assert!(e.contains("gp-3.txt") && e.contains("unknown field `patient.cpr`"), "{e}");

    std::fs::remove_file(dir.path().join("gp-3.txt")).unwrap();
    std::fs::write(dir.path().join("patient-2A.txt"), "x").unwrap();
    let e = Letters::load(Some(dir.path())).err().unwrap().to_string();
    assert!(e.contains("patient-2A.txt") && e.contains("not a template"), "{e}");

    std::fs::remove_file(dir.path().join("patient-2A.txt")).unwrap();
    std::fs::write(dir.path().join("gp-1.txt"), "{% if %}").unwrap();
    let e = Letters::load(Some(dir.path())).err().unwrap().to_string();
    assert!(e.contains("gp-1.txt"), "{e}");
}

#[test]
fn the_patient_letter_knows_where_its_signature_starts() {
    let letters = Letters::shipped();
    for input in testdata::ALL {
        let r = testdata::checked(input);
        let t = letters.render(Addressee::Patient, &r, date()).unwrap();
        let sig = t.signature();
        assert_eq!(sig.first().map(|p| p.join(" ")), Some("Med venlig hilsen".to_string()), "{t:?}");
        assert_eq!(sig[1][0], "Karen Østergaard");
        assert!(t.main_paragraphs().last().unwrap()[0].starts_with("Har du spørgsmål"), "{t:?}");
        assert_eq!(t.main_paragraphs().len() + sig.len(), t.paragraphs.len());
    }
    // A hospital template that signs off in its own words has no tagged signature.
    let d = tempfile::tempdir().unwrap();
    std::fs::write(d.path().join("patient-1.txt"), "Emne\n\nTekst.\n\nHilsen os\n").unwrap();
    let t = Letters::load(Some(d.path())).unwrap().render(
        Addressee::Patient,
        &testdata::checked(testdata::GROUP_1),
        date(),
    );
    assert_eq!(t.unwrap().signature_start, None);
}

#[test]
fn a_gp_correction_says_so_in_its_subject_and_first_paragraph_a_first_letter_does_not() {
    let letters = Letters::shipped();
    for input in testdata::ALL {
        let r = testdata::checked(input);
        let first = letters.render_letter(Addressee::Gp, &r, date(), false).unwrap();
        let fix = letters.render_letter(Addressee::Gp, &r, date(), true).unwrap();
        assert_eq!(fix.subject, format!("Rettet {}", first.subject));
        assert!(fix.paragraphs[1].join(" ").starts_with("Rettelse: dette brev erstatter"), "{:?}", fix.paragraphs);
        assert!(!first.body_text().contains("Rettelse"));
        assert_eq!(fix.paragraphs[2..], first.paragraphs[1..], "the rest is the same letter");
    }
}

#[test]
fn a_patient_correction_says_it_replaces_the_earlier_letter() {
    let letters = Letters::shipped();
    for input in testdata::ALL {
        let r = testdata::checked(input);
        let first = letters.render_letter(Addressee::Patient, &r, date(), false).unwrap();
        let fix = letters.render_letter(Addressee::Patient, &r, date(), true).unwrap();
        assert_eq!(fix.subject, format!("Rettet: {}", first.subject));
        assert_eq!(
            fix.paragraphs[1].join(" "),
            "Dette brev erstatter brevet om samme skanning, som vi tidligere har sendt dig."
        );
        assert_eq!(fix.paragraphs[2..], first.paragraphs[1..]);
        assert_eq!(fix.signature_start.map(|s| s - 1), first.signature_start, "the signature is still found");
    }
}
