//! `flspost validate` on all of MedCom's valid CareCommunication and Acknowledgement examples
//! (valid to the standard; where outside flspost's profile, exactly why) and on the broken cases
//! (each invalid to the standard, naming its rule), with flspost's schema of the standard and
//! with the official R4 XSD.

use super::*;

/// The valid CareCommunications: the testscripts' send examples, the VANS conversion flows,
/// and the 5.0.2 package's Bundles (JSON); the Acknowledgements: Flow2 and the 2.0.3 package's.
fn valid_examples(m: &Path) -> Vec<PathBuf> {
    let mut files: Vec<PathBuf> =
        std::fs::read_dir(m.join("carecommunication")).unwrap().map(|e| e.unwrap().path()).collect();
    files.push(m.join("conversion-oioxml/Flow1-CareCommunication_Ex_from_OIOXML.xml"));
    files.push(m.join("conversion-oioxml/Flow3-CareCommunication_Ex_to_OIOXML.xml"));
    files.push(m.join("acknowledgement/Flow2-Acknowledgement_Ex_to_OIOXML.xml"));
    for package in ["medcom.fhir.dk.carecommunication-5.0.2", "medcom.fhir.dk.acknowledgement-2.0.3"] {
        let dir = unpacked(&m.join(format!("fhir-packages/{package}.tgz")), package).join("package/example");
        files.extend(
            std::fs::read_dir(dir)
                .unwrap()
                .map(|e| e.unwrap().path())
                .filter(|p| p.file_name().unwrap().to_str().unwrap().starts_with("Bundle-")),
        );
    }
    // Not an Acknowledgement: the 2.0.3 package's example of the message it answers (an
    // `empty-message`), which flspost has no kind for.
    files.retain(|p| !p.ends_with("Bundle-eb26be85-fdb7-454d-a980-95cba6d1745b.json"));
    files.sort();
    files
}

/// `package` unpacked once under target/ (with `tar`).
fn unpacked(tgz: &Path, package: &str) -> PathBuf {
    static LOCK: std::sync::Mutex<()> = std::sync::Mutex::new(());
    let _guard = LOCK.lock().unwrap_or_else(|e| e.into_inner());
    let dir = root().join("target").join(package);
    if !dir.join("package/example").is_dir() {
        std::fs::create_dir_all(&dir).unwrap();
        let ok = std::process::Command::new(ensure_tool("tar", "tar"))
            .arg("xzf")
            .arg(tgz)
            .arg("-C")
            .arg(&dir)
            .status()
            .unwrap();
        assert!(ok.success(), "tar xzf {}", tgz.display());
    }
    dir
}

/// `validate` with `extra` arguments on `file`: (exit code, lines without the file prefix).
fn validate_with(extra: &[&str], file: &Path) -> (i32, Vec<String>) {
    let mut args = vec!["validate"];
    args.extend(extra);
    args.push(file.to_str().unwrap());
    let run = World::new().run(&args);
    let prefix = format!("{}:", file.display());
    (run.code, run.stdout.lines().map(|l| l.strip_prefix(&prefix).unwrap_or(l).trim().to_string()).collect())
}

/// Why each example outside flspost's profile is (the rest are inside it): MedCom allows these
/// and an FLS letter never has them.
fn outside_profile(file: &str) -> &'static [&'static str] {
    match file {
        "Bundle-S-B-new-720f68cf-21bf-4c40-a90c-a113e00e88a8.xml" => {
            &["94:9: [profile] Element 'priority': This element is not expected. Expected is ( subject )."]
        }
        "Bundle-S-Tek-A-new-episodeOfCare-b43146a2-99ec-4b05-bb8f-5b44af4fe424.xml" => &[
            "102:9: [profile] Element 'encounter': This element is not expected. Expected is ( payload ).",
            "178:7: [profile] Element 'Encounter': This element is not expected. Expected is one of ( MessageHeader, Patient, Communication, PractitionerRole, Practitioner, Organization, Provenance ).",
        ],
        "Flow3-CareCommunication_Ex_to_OIOXML.xml" => &["238:9: [profile] Element 'telecom': This element is not expected."],
        "Bundle-0d5b3c18-fab6-4d93-9d88-c9c8abf1f18c.json" => &[
            "[profile] JSON Bundle.entry[1].resource(Patient).identifier[0].use: Element 'use': This element is not expected. Expected is one of ( system, value ).",
        ],
        "Bundle-d11968f5-4bdf-4b50-b146-a8e1cc890fc3.json" => &[
            "[profile] JSON Bundle.entry[2].resource(Communication).payload[5].contentAttachment: flspost-profile: Bundle.entry[2].resource.Communication.payload[5].contentAttachment: contentType is required by flspost's profile (MedCom: 0..1, bound when present)",
            "[profile] JSON Bundle.entry[2].resource(Communication).payload[5].contentAttachment.url: Element 'url': This element is not expected. Expected is ( contentType ).",
        ],
        "Bundle-gfd00bc2-9c26-4174-934e-f6e4360845de.json" => &[
            "[profile] JSON Bundle.entry[2].resource(Communication).extension[0]: Element 'extension': This element is not expected. Expected is ( identifier ).",
            "[profile] JSON Bundle.entry[2].resource(Communication).payload[2].contentAttachment: flspost-profile: Bundle.entry[2].resource.Communication.payload[2].contentAttachment: contentType is required by flspost's profile (MedCom: 0..1, bound when present)",
            "[profile] JSON Bundle.entry[3].resource(Encounter): Element 'Encounter': This element is not expected. Expected is one of ( MessageHeader, Patient, Communication, PractitionerRole, Practitioner, Organization, Provenance ).",
            "[profile] JSON Bundle.entry[6].resource(CareTeam): Element 'CareTeam': This element is not expected. Expected is one of ( MessageHeader, Patient, Communication, PractitionerRole, Practitioner, Organization, Provenance ).",
        ],
        "Bundle-k7bfbc0c-553d-11ed-bdc3-0242ac120002.json" => &[
            "[profile] JSON Bundle.entry[2].resource(Communication).encounter: Element 'encounter': This element is not expected. Expected is one of ( topic, payload ).",
            "[profile] JSON Bundle.entry[5].resource(Encounter): Element 'Encounter': This element is not expected. Expected is one of ( MessageHeader, Patient, Communication, PractitionerRole, Practitioner, Organization, Provenance ).",
        ],
        _ => &[],
    }
}

#[test]
fn every_medcom_example_is_valid_to_the_standard_and_outside_flspost_profile_only_where_named() {
    let Some(m) = medcom() else { return };
    let files = valid_examples(&m);
    // 5 XML and 8 JSON CareCommunications; Flow2 and 3 JSON Acknowledgements.
    assert_eq!(files.len(), 13 + 4, "{files:#?}");
    let r4 = m.join("fhir-r4-xsd");
    for file in &files {
        let name = file.file_name().unwrap().to_str().unwrap();
        let expected = outside_profile(name);
        let kind = if name.contains("Acknowledgement")
            || std::fs::read_to_string(file).unwrap().contains("acknowledgement-message")
        {
            "FHIR Acknowledgement"
        } else {
            "FHIR CareCommunication"
        };
        for extra in [&[][..], &["--schema-dir", r4.to_str().unwrap()][..]] {
            let (code, lines) = validate_with(extra, file);
            let by = if extra.is_empty() {
                "flspost-fhir-standard.xsd and MedCom's rules"
            } else {
                "the official R4 schema, flspost-fhir-standard.xsd and MedCom's rules"
            };
            let own = if kind == "FHIR Acknowledgement" {
                "flspost-acknowledgement.xsd"
            } else {
                "flspost-carecommunication.xsd"
            };
            let (summary, problems) = lines.split_last().unwrap();
            if expected.is_empty() {
                assert_eq!(code, 0, "{name} {extra:?}: {lines:#?}");
                assert!(problems.is_empty(), "{name}: {lines:#?}");
                assert_eq!(
                    summary,
                    &format!("valid {kind}: to MedCom's standard ({by}) and to flspost's profile ({own} and flspost's rules)")
                );
            } else {
                assert_eq!(code, 4, "{name} {extra:?}: {lines:#?}");
                assert_eq!(problems, expected, "{name} {extra:?}");
                assert_eq!(
                    summary,
                    &format!(
                        "{kind} valid to MedCom's standard ({by}), outside flspost's profile ({own} and flspost's rules): {} [profile] problems",
                        expected.len()
                    )
                );
            }
        }
    }
    // In JSON: the verdicts, each problem's, and the exit code.
    let sb = m.join("carecommunication/Bundle-S-B-new-720f68cf-21bf-4c40-a90c-a113e00e88a8.xml");
    let run = World::new().run(&["validate", "--json", sb.to_str().unwrap()]);
    assert_eq!(run.code, 4);
    let v: Value = serde_json::from_str(run.stdout.trim()).unwrap();
    assert_eq!(v["standard"], json!({"valid": true, "judged_by": "flspost-fhir-standard.xsd and MedCom's rules"}));
    assert_eq!(v["profile"]["valid"], false);
    assert_eq!(
        v["problems"],
        json!([{"verdict": "profile", "line": 94, "column": 9, "message": "Element 'priority': This element is not expected. Expected is ( subject )."}])
    );
    assert_eq!(v["exit_code"], 4);
}

#[test]
fn every_broken_case_is_invalid_to_the_standard_naming_its_rule() {
    let Some(m) = medcom() else { return };
    let expected: &[(&str, &str)] = &[
        ("01-no-eventCoding.xml", "Element 'destination': This element is not expected."),
        ("02-patient-first.xml", "bdl-12: Bundle.entry[0]"),
        ("03-uppercase-uuid-communication-identifier.xml", "medcom-uuidv4: Bundle.entry[2].resource.Communication.identifier"),
        ("04-uppercase-uuid-payload-identifier.xml", "medcom-uuidv4: Bundle.entry[2].resource.Communication.payload.extension[1].valueIdentifier"),
        ("05-wrong-element-order.xml", "Element 'status': This element is not expected."),
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
    let r4 = m.join("fhir-r4-xsd");
    for (file, rule) in expected {
        let path = m.join("validation-cases").join(file);
        for extra in [&[][..], &["--schema-dir", r4.to_str().unwrap()][..]] {
            let (code, lines) = validate_with(extra, &path);
            assert_eq!(code, 1, "{file} {extra:?}: {lines:#?}");
            let (summary, lines) = lines.split_last().unwrap();
            assert!(summary.starts_with("FHIR CareCommunication invalid to MedCom's standard"), "{file}: {summary}");
            let hit = lines
                .iter()
                .find(|l| l.contains(rule))
                .unwrap_or_else(|| panic!("{file} {extra:?}: no `{rule}` in {lines:#?}"));
            assert!(hit.contains(": [standard] "), "{file}: {hit}");
            // FILE:LINE:COL, the position a real line and column.
            let mut pos = hit.split(':');
            assert!(pos.next().unwrap().parse::<u32>().unwrap() > 0 && pos.next().unwrap().parse::<u32>().unwrap() > 0);
            // Against the standard nothing but the broken rule; against flspost's profile only
            // what S-Tek-A, which each case was made from, already has outside it.
            for l in lines {
                if l.contains("[profile]") {
                    assert!(l.contains("ncounter'") || l.contains("Element 'priority'"), "{file}: unexpected {l}");
                } else {
                    assert!(l.contains(rule) || is_same_fault(file, l), "{file} {extra:?}: unexpected {l}");
                }
            }
        }
    }
}

/// A second report of the same single fault (schema and rule both see it).
fn is_same_fault(file: &str, line: &str) -> bool {
    match file {
        "01-no-eventCoding.xml" => line.contains("MessageHeader.eventCoding 1..1 is missing"),
        "02-patient-first.xml" => line.contains("medcom-careCommunication-1:"),
        "05-wrong-element-order.xml" => line.contains("Element 'identifier': This element is not expected."),
        "14-organization-without-sor-id.xml" => {
            line.contains("SOR-ID has 0")
                || line.contains("identifier has 1")
                || line.contains("Element 'name': This element is not expected. Expected is ( identifier ).")
        }
        _ => false,
    }
}

/// What flspost writes is valid to both verdicts: every generated variant, and the committed sample Bundle.
#[test]
fn what_flspost_builds_is_valid_to_the_standard_and_to_its_profile() {
    for b in all_variants() {
        let judged = fhir::judge(MessageKind::CareCommunication, &b.bytes, None);
        assert!(judged.problems.is_empty(), "{}: {:?}", b.name, judged.problems);
        assert_eq!((judged.standard_valid(), judged.exit_code()), (Some(true), 0), "{}", b.name);
    }
    let (code, lines) = validate_with(&[], &root().join("samples/carecommunication-bundle.xml"));
    assert_eq!((code, lines.as_slice()), (0, &[VALID_TO_BOTH.to_string()][..]));
}

/// A VANSEnvelope is judged as the Bundle it carries: MedCom's S-B example, valid to the
/// standard and outside flspost's profile (`priority`), stays so in an envelope (exit 4, its
/// problem `[profile]` at `Data`), and the envelope's own rules count against the standard.
#[test]
fn an_envelope_gets_the_two_verdicts_of_its_bundle() {
    let Some(m) = medcom() else { return };
    let bundle =
        std::fs::read(m.join("carecommunication/Bundle-S-B-new-720f68cf-21bf-4c40-a90c-a113e00e88a8.xml")).unwrap();
    // Its Bundle.id (`S-B-new-…`) made a UUID, as VANS envelope identifiers are (MR7: the same).
    let id = "6f1d7c2e-3b4a-4c5d-8e9f-0a1b2c3d4e5f".to_string();
    let theirs = fhir_value(&bundle, "Bundle", "id");
    let bundle = String::from_utf8(bundle).unwrap().replace(&theirs, &id).into_bytes();
    let env = vans::write(&vans::Envelope {
        sender_ean: "5790001382445",
        receiver_ean: "5790000121526",
        bundle_id: id.parse().unwrap(),
        sent: now(),
        document_name: "MCM:FDIS91#regarding-referral",
        bundle: &bundle,
    });
    let dir = tempfile::tempdir().unwrap();
    let p = dir.path().join("env.xml");
    std::fs::write(&p, &env).unwrap();
    let data_line = String::from_utf8_lossy(&env).lines().position(|l| l.contains("<Data>")).unwrap() + 1;
    let (code, lines) = validate_with(&[], &p);
    assert_eq!(code, 4, "{lines:#?}");
    let (summary, problems) = lines.split_last().unwrap();
    assert_eq!(
        problems,
        [format!(
            "{data_line}:5: [profile] enveloped Bundle: 94:9: Element 'priority': This element is not expected. Expected is ( subject )."
        )]
    );
    assert!(summary.starts_with("VANSEnvelope valid to MedCom's standard ("), "{summary}");
    let run = World::new().run(&["validate", "--json", p.to_str().unwrap()]);
    let v: Value = serde_json::from_str(run.stdout.trim()).unwrap();
    assert_eq!(
        (v["standard"]["valid"].as_bool(), v["profile"]["valid"].as_bool(), v["exit_code"].as_i64()),
        (Some(true), Some(false), Some(4))
    );
    assert_eq!(v["problems"][0]["verdict"], "profile");
    // MR7 broken: the envelope itself is invalid to the standard.
    let other = String::from_utf8(env).unwrap().replacen(
        &format!("<EnvelopeIdentifier>{id}<"),
        "<EnvelopeIdentifier>6b0e1e0c-0d4c-4b8f-9a57-6e3a9c1c2d10<",
        1,
    );
    std::fs::write(&p, other).unwrap();
    let (code, lines) = validate_with(&[], &p);
    assert_eq!(code, 1, "{lines:#?}");
    assert!(lines.iter().any(|l| l.contains("[standard] MR7: EnvelopeIdentifier")), "{lines:#?}");
}

/// A MedCom message of another kind (the Acknowledgement package's `empty-message`, which an
/// Acknowledgement answers) is named as not judged, never read as a CareCommunication with
/// false faults; `receipt` says it is not a receipt.
#[test]
fn a_fhir_message_of_another_kind_is_named_not_judged_by_the_wrong_rules() {
    let Some(m) = medcom() else { return };
    let package = "medcom.fhir.dk.acknowledgement-2.0.3";
    let file = unpacked(&m.join(format!("fhir-packages/{package}.tgz")), package)
        .join("package/example/Bundle-eb26be85-fdb7-454d-a980-95cba6d1745b.json");
    let (code, lines) = validate_with(&[], &file);
    assert_eq!(code, 1, "{lines:?}");
    assert_eq!(lines.len(), 1, "one line, not the CareCommunication rules' faults: {lines:?}");
    assert!(lines[0].contains("does not judge") && lines[0].contains("empty-message"), "{lines:?}");
    let w = World::new();
    w.generate(&sample("group-1.json")).ok();
    let r = w.run(&["receipt", file.to_str().unwrap()]);
    assert_ne!(r.code, 0);
    assert!(r.stderr.contains("empty-message") || r.stdout.contains("empty-message"), "{}{}", r.stdout, r.stderr);
}
