//! `flspost validate` on MedCom's own examples (no false errors) and broken cases (each refused naming its rule).

use super::*;

#[test]
fn medcom_examples_are_judged_without_false_errors() {
    let Some(m) = medcom() else { return };
    let cases: &[(&str, &[&str])] = &[
        // Within flspost's profile (a reply, and the VANS converter's output): valid.
        ("carecommunication/Bundle-S-Tek-C-new-7be9d2ba-6026-4f19-850c-896de206f2c2.xml", &[]),
        ("conversion-oioxml/Flow1-CareCommunication_Ex_from_OIOXML.xml", &[]),
        // Valid MedCom messages using what an FLS letter never has: exactly those elements.
        (
            "carecommunication/Bundle-S-B-new-720f68cf-21bf-4c40-a90c-a113e00e88a8.xml",
            &["94:9: Element 'priority': This element is not expected. Expected is ( subject )."],
        ),
        (
            "carecommunication/Bundle-S-Tek-A-new-episodeOfCare-b43146a2-99ec-4b05-bb8f-5b44af4fe424.xml",
            &[
                "102:9: Element 'encounter': This element is not expected. Expected is ( payload ).",
                "178:7: Element 'Encounter': This element is not expected. Expected is one of ( MessageHeader, Patient, Communication, PractitionerRole, Practitioner, Organization, Provenance ).",
            ],
        ),
        (
            "conversion-oioxml/Flow3-CareCommunication_Ex_to_OIOXML.xml",
            &["238:9: Element 'telecom': This element is not expected."],
        ),
    ];
    for (file, expected) in cases {
        let (code, lines) = validate_cli(&m.join(file));
        if expected.is_empty() {
            assert_eq!(code, 0, "{file}: {lines:?}");
            assert!(lines[0].contains("valid FHIR CareCommunication"), "{lines:?}");
        } else {
            assert_eq!(code, 1, "{file}");
            assert_eq!(lines, *expected, "{file}");
        }
    }
}

#[test]
fn every_broken_case_is_refused_naming_its_rule() {
    let Some(m) = medcom() else { return };
    let expected: &[(&str, &str)] = &[
        ("01-no-eventCoding.xml", "Element 'destination': This element is not expected. Expected is ( eventCoding )"),
        ("02-patient-first.xml", "bdl-12: Bundle.entry[0]"),
        ("03-uppercase-uuid-communication-identifier.xml", "medcom-uuidv4: Bundle.entry[2].resource.Communication.identifier"),
        ("04-uppercase-uuid-payload-identifier.xml", "medcom-uuidv4: Bundle.entry[2].resource.Communication.payload.extension[1].valueIdentifier"),
        ("05-wrong-element-order.xml", "Element 'status': This element is not expected. Expected is ( identifier )"),
        ("06-priority-with-examination-results.xml", "medcom-careCommunication-5: Bundle.entry[2].resource.Communication.priority"),
        ("07-category-code-not-in-valueset.xml", "binding: Bundle.entry[2].resource.Communication.category.coding: code `dxa-results` is not in medcom-careCommunication-categories"),
        ("08-timestamp-without-timezone.xml", "Element 'timestamp', attribute 'value': [facet 'pattern'] The value '2024-09-15T15:20:00'"),
        ("09-no-provenance.xml", "medcom-messaging-2: Bundle"),
        ("10-messageheader-without-meta-profile.xml", "medcom-careCommunication-1: Bundle.entry[0].resource.MessageHeader"),
        ("11-invalid-cpr.xml", "cpr: Bundle.entry[1].resource.Patient.identifier"),
        ("12-encounter-not-referenced.xml", "medcom-careCommunication-15: Bundle"),
        ("13-unknown-element.xml", "Element 'foo': This element is not expected"),
        ("14-organization-without-sor-id.xml", "dk-core-organization-mandatory-identifier: Bundle.entry[6].resource.Organization"),
        ("15-wrong-messagedefinition-version.xml", "medcom-carecommunication-definition-url: Bundle.entry[0].resource.MessageHeader.definition"),
    ];
    for (file, rule) in expected {
        let (code, lines) = validate_cli(&m.join("validation-cases").join(file));
        assert_eq!(code, 1, "{file}");
        let hit =
            lines.iter().find(|l| l.contains(rule)).unwrap_or_else(|| panic!("{file}: no `{rule}` in {lines:#?}"));
        // FILE:LINE:COL, the position a real line and column.
        let mut pos = hit.split(':');
        assert!(pos.next().unwrap().parse::<u32>().unwrap() > 0 && pos.next().unwrap().parse::<u32>().unwrap() > 0);
        // Nothing but the broken rule and the two elements outside flspost's profile.
        for l in &lines {
            assert!(l.contains(rule) || l.contains("ncounter'") || is_same_fault(file, l), "{file}: unexpected {l}");
        }
    }
}

/// A second report of the same single fault (schema and rule both see it).
fn is_same_fault(file: &str, line: &str) -> bool {
    match file {
        "01-no-eventCoding.xml" => line.contains("MessageHeader.eventCoding 1..1 is missing"),
        "02-patient-first.xml" => line.contains("medcom-careCommunication-1:"),
        "06-priority-with-examination-results.xml" => line.contains("Element 'priority'"),
        "14-organization-without-sor-id.xml" => line.contains("SOR-ID has 0") || line.contains("identifier has 1"),
        _ => false,
    }
}
