//! The input fields a FHIR letter needs, and characters it cannot carry: refused naming the field.

use super::*;

#[test]
fn a_fhir_letter_names_the_first_missing_field() {
    // Without its SOR id, a GP known by its ydernummer cannot get a FHIR letter.
    let mut without: Value = serde_json::from_str(&std::fs::read_to_string(sample("group-2a.json")).unwrap()).unwrap();
    without["gp"].as_object_mut().unwrap().remove("sor_id");
    let r = checked(&without).unwrap();
    assert_eq!(r.missing_for_fhir().map(|m| m.0), Some("gp.sor_id"));
    let text = Letters::shipped().render(Addressee::Gp, &r, now().date_naive()).unwrap();
    let identity = Identity::derive(&r, 0, 1, now());
    let e = cc::build(&CareCommunication { result: &r, text: &text, identity: &identity }).unwrap_err();
    assert_eq!(e.exit_code(), 2);
    assert!(e.to_string().starts_with("gp.sor_id: required for a FHIR CareCommunication"), "{e}");
    let mut v = fhir_input("group-2a.json");
    for (field, expected) in [
        (&["author", "given_name"][..], "author.given_name"),
        (&["author", "surname"], "author.surname"),
        (&["sender", "phone"], "sender.phone"),
    ] {
        let mut w = v.clone();
        w[field[0]].as_object_mut().unwrap().remove(field[1]);
        assert_eq!(checked(&w).unwrap().missing_for_fhir().map(|m| m.0), Some(expected));
    }
    assert_eq!(checked(&v).unwrap().missing_for_fhir(), None);
    // Checked when present.
    v["gp"]["sor_id"] = json!("12345");
    let e = checked(&v).unwrap_err();
    assert_eq!((e.field.as_str(), e.reason.as_str()), ("gp.sor_id", "a SOR id is 11 to 17 digits"));
    let mut v = fhir_input("group-2a.json");
    v["sender"]["sor_id"] = json!("265281000016009");
    let e = checked(&v).unwrap_err();
    assert_eq!(e.field, "sender.sor_id");
    assert!(e.reason.contains("differs from the identifier"), "{e}");
}

#[test]
fn a_noncharacter_in_a_fhir_gps_name_or_the_authors_is_the_callers_mistake_naming_the_field() {
    let w = World::new();
    w.write("receivers.csv", "EAN;SOR;Formats\n5790000128686;1017421000016003;CareCommunication\n");
    let cfg = w.write("config.toml", "[gp]\nreceivers = \"receivers.csv\"\nattach_pdf = true\n");
    // U+FFFE and U+FFFF are no XML characters: the CareCommunication cannot carry them, as
    // ISO-8859-1 cannot for XDIS91. The input is wrong, not flspost.
    for (n, field) in ["gp.name", "author.given_name", "author.surname"].into_iter().enumerate() {
        for c in ['\u{FFFE}', '\u{FFFF}'] {
            let mut v = sample_json("group-2a.json");
            let (a, b) = field.split_once('.').unwrap();
            v[a][b] = json!(format!("{}{c}", v[a][b].as_str().unwrap()));
            v["result_id"] = json!(format!("NONCHAR-{n}-{:X}", c as u32));
            let input = w.write(&format!("in-{n}.json"), &v.to_string());
            let r = w.generate_with(&cfg, &input);
            assert_eq!(r.code, 2, "{field} U+{:X}: {}", c as u32, r.stderr);
            assert!(r.stderr.contains(&format!("{field}: ")), "{field}: {}", r.stderr);
            assert!(r.stderr.contains(&format!("U+{:X}", c as u32)), "{field}: {}", r.stderr);
            assert!(!r.stderr.contains("internal error"), "{field}: {}", r.stderr);
        }
    }
    assert!(tree(&w.out()).is_empty(), "nothing was written");
}
