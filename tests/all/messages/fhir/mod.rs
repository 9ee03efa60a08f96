//! The FHIR CareCommunication letter to the GP, its VANS envelope and the Acknowledgement:
//! what flspost builds against the official FHIR R4 schema and MedCom's FHIRPath invariants
//! (the oracle in ../shared), and what `flspost validate` says about MedCom's own examples
//! and the broken cases.

use crate::common::{self, *};
use flspost::formats::fhir::carecommunication::{self as cc, Attachment, CareCommunication, Identity};
use flspost::formats::fhir::{self, ack, codes, vans};
use flspost::letters::Letters;
use flspost::model::Addressee;
use flspost::model::FlsResult;
use flspost::schema::{MessageKind, Schema};
use serde_json::{json, Value};
use std::path::{Path, PathBuf};

fn now() -> chrono::DateTime<chrono::Utc> {
    FAKE_NOW.parse().unwrap()
}

/// A sample input with the fields FHIR needs (fictitious SOR ids, structured author name).
fn fhir_input(sample_name: &str) -> Value {
    let mut v: Value = serde_json::from_str(&std::fs::read_to_string(sample(sample_name)).unwrap()).unwrap();
    v["gp"]["sor_id"] = json!("1017421000016003");
    v["sender"]["sor_id"] = v["sender"]["identifier"].clone();
    if v["sender"]["identifier_code"] != "sorkode" {
        v["sender"]["sor_id"] = json!("265281000016008");
    }
    v["author"]["given_name"] = json!("Karen");
    v["author"]["surname"] = json!("Østergaard");
    v
}

fn checked(v: &Value) -> Result<FlsResult, flspost::input::InputError> {
    let input = flspost::input::parse(&v.to_string())?;
    flspost::input::check(&input, &flspost::model::policy::RolloutPolicy::default(), now())
}

struct Built {
    name: String,
    bytes: Vec<u8>,
    result: FlsResult,
    identity_message_id: String,
}

/// Builds (write + validate with flspost's own schema and rules) one message.
fn build(name: &str, r: &FlsResult, revision: u32, attempt: u32, pdf: bool) -> Built {
    let letters = Letters::shipped();
    let date = now().date_naive();
    let text = letters.render(Addressee::Gp, r, date).unwrap();
    let pdf_bytes = pdf.then(|| {
        let patient_text = letters.render(Addressee::Patient, r, date).unwrap();
        flspost::formats::pdf::letter_pdf(r, &patient_text, date, now(), false).unwrap().0
    });
    let mut identity = Identity::derive(r, revision, attempt, now());
    let attachment_id = identity.attachment_id();
    identity.attachment = pdf_bytes.as_deref().map(|p| Attachment {
        pdf: p,
        title: "Knogleskanning.pdf",
        identifier: attachment_id,
        date: r.classified_at,
    });
    let bytes = cc::build(&CareCommunication { result: r, text: &text, identity: &identity })
        .unwrap_or_else(|e| panic!("{name}: {e}"));
    Built {
        name: name.to_string(),
        bytes,
        result: r.clone(),
        identity_message_id: identity.message_id.hyphenated().to_string(),
    }
}

/// Every group with and without the PDF, with and without the patient's address, and every
/// mapped author title plus one that maps to no code.
fn all_variants() -> Vec<Built> {
    let mut out = vec![];
    for s in SAMPLES {
        for with_address in [true, false] {
            let mut v = fhir_input(s);
            if !with_address {
                v["patient"].as_object_mut().unwrap().remove("address");
            }
            let r = checked(&v).unwrap();
            for pdf in [false, true] {
                out.push(build(&format!("{s}-address-{with_address}-pdf-{pdf}"), &r, 0, 1, pdf));
            }
        }
    }
    for (code, display) in codes::ROLES.iter().copied().chain([("uncoded", "Klinisk assistent")]) {
        let mut v = fhir_input("group-2a.json");
        v["author"]["title"] = json!(format!("{display}, ph.d."));
        out.push(build(&format!("title-{code}"), &checked(&v).unwrap(), 0, 1, false));
    }
    out
}

fn doc(bytes: &[u8]) -> roxmltree::Document<'_> {
    roxmltree::Document::parse(std::str::from_utf8(bytes).unwrap()).unwrap()
}

fn resource<'a>(d: &'a roxmltree::Document<'a>, kind: &str) -> roxmltree::Node<'a, 'a> {
    d.descendants().find(|n| n.has_tag_name(kind) && n.parent().is_some_and(|p| p.has_tag_name("resource"))).unwrap()
}

fn value_at<'a>(n: roxmltree::Node<'a, 'a>, path: &[&str]) -> Option<&'a str> {
    let mut cur = n;
    for p in path {
        cur = cur.children().find(|c| c.has_tag_name(*p))?;
    }
    cur.attribute("value")
}

fn medcom() -> Option<PathBuf> {
    reference().map(|r| r.join("medcom-fhir"))
}

#[test]
fn every_variant_passes_the_official_r4_schema_and_flspost_checks() {
    let variants = all_variants();
    assert_eq!(variants.len(), 16 + codes::ROLES.len() + 1);
    let Some(m) = medcom() else { return };
    // Compiling fhir-single.xsd takes a quarter of a second: once for this binary.
    let mut r4 = Schema::from_file(&m.join("fhir-r4-xsd/fhir-single.xsd")).unwrap();
    for b in &variants {
        r4.validate(&b.bytes).unwrap_or_else(|e| panic!("{}: official R4 schema: {e:?}", b.name));
        fhir::validate(MessageKind::CareCommunication, &b.bytes).unwrap_or_else(|e| panic!("{}: {e:?}", b.name));
    }
    // The envelope too, against MedCom's VANSEnvelope 1.0.4 schema.
    let mut official_vans =
        Schema::from_file(&m.join("../medcom-oioxml/vans-envelope/VANSEnvelope-1.0.4.extracted.xsd")).unwrap();
    let b = &variants[0];
    let env = envelope(b);
    official_vans.validate(&env).unwrap();
    fhir::validate(MessageKind::VansEnvelope, &env).unwrap();
    // MedCom's valid examples pass the official schema with the same compiled context.
    for f in carecommunication_examples(&m) {
        r4.validate(&std::fs::read(&f).unwrap()).unwrap_or_else(|e| panic!("{f:?}: {e:?}"));
    }
}

fn carecommunication_examples(m: &Path) -> Vec<PathBuf> {
    let mut files: Vec<PathBuf> =
        std::fs::read_dir(m.join("carecommunication")).unwrap().map(|e| e.unwrap().path()).collect();
    files.push(m.join("conversion-oioxml/Flow1-CareCommunication_Ex_from_OIOXML.xml"));
    files.push(m.join("conversion-oioxml/Flow3-CareCommunication_Ex_to_OIOXML.xml"));
    files.sort();
    files
}

fn envelope(b: &Built) -> Vec<u8> {
    let d = doc(&b.bytes);
    let bundle_id = value_at(d.root_element(), &["id"]).unwrap().parse().unwrap();
    vans::write(&vans::Envelope {
        sender_ean: b.result.sender.ean.as_str(),
        receiver_ean: b.result.gp.ean.as_str(),
        bundle_id,
        sent: now(),
        document_name: &vans::care_communication_name(codes::FLS_CATEGORY),
        bundle: &b.bytes,
    })
}

// ---- the FHIRPath oracle -----------------------------------------------------------------

/// The oracle (`tools/invariant-check`, Node + fhirpath.js), copied under target/ and
/// installed with `npm ci` on first use; `None` with a notice where Node or ../shared is absent.
fn oracle() -> Option<(PathBuf, PathBuf)> {
    let m = medcom()?;
    let tool = m.join("tools/invariant-check");
    if !tool.is_dir() || which("node").is_none() || which("npm").is_none() {
        eprintln!("NOTICE: node/npm or {} is absent; skipping the FHIRPath oracle", tool.display());
        return None;
    }
    static SETUP: std::sync::Mutex<()> = std::sync::Mutex::new(());
    let _guard = SETUP.lock().unwrap_or_else(|e| e.into_inner());
    let dir = root().join("target/invariant-check");
    if !dir.join("node_modules/fhirpath").is_dir() {
        std::fs::create_dir_all(&dir).unwrap();
        for f in ["check-invariants.js", "package.json", "package-lock.json"] {
            std::fs::copy(tool.join(f), dir.join(f)).unwrap();
        }
        let st = std::process::Command::new("npm")
            .args(["ci", "--no-audit", "--no-fund"])
            .current_dir(&dir)
            .status()
            .unwrap();
        assert!(st.success(), "npm ci for the FHIRPath oracle failed");
    }
    Some((dir, m))
}

fn which(program: &str) -> Option<PathBuf> {
    std::env::var_os("PATH")?.to_str()?.split(':').map(|d| Path::new(d).join(program)).find(|p| p.is_file())
}

/// Runs the oracle on `files` (CareCommunication 5.0.4 profiles); returns, per file name, the
/// keys of the error-severity invariants that failed.
fn oracle_errors(files: &[PathBuf]) -> Option<Vec<(String, Vec<String>)>> {
    let (dir, m) = oracle()?;
    let p = m.join("fhir-packages");
    let out = std::process::Command::new("node")
        .arg(dir.join("check-invariants.js"))
        .args(
            [
                "medcom.fhir.dk.carecommunication-5.0.2.tgz",
                "medcom.fhir.dk.core-3.0.1.tgz",
                "medcom.fhir.dk.messaging-4.0.2.tgz",
                "medcom.fhir.dk.terminology-2.0.1.tgz",
                "medcom.fhir.dk.messagedefinitions-1.0.0.tgz",
                "hl7.fhir.dk.core-3.4.0.tgz",
            ]
            .map(|f| p.join(f)),
        )
        .arg("--sd")
        .arg(m.join("structuredefinitions/carecommunication-5.0.4-sushi"))
        .arg("--")
        .args(files)
        .output()
        .unwrap();
    let text = String::from_utf8_lossy(&out.stdout).to_string();
    let mut result: Vec<(String, Vec<String>)> = vec![];
    for line in text.lines() {
        if let Some(rest) = line.strip_prefix("  ERROR ") {
            let key = rest.split_whitespace().next().unwrap().to_string();
            result.last_mut().expect("a file line first").1.push(key);
        } else if !line.starts_with(' ') && line.contains(" error(s)") {
            result.push((line.split(": ").next().unwrap().to_string(), vec![]));
        }
    }
    assert_eq!(result.len(), files.len(), "oracle output:\n{text}\n{}", String::from_utf8_lossy(&out.stderr));
    for (_, keys) in result.iter_mut() {
        keys.sort();
        keys.dedup();
    }
    Some(result)
}

/// The rule names flspost's checks give that are FHIRPath invariants (what the oracle sees):
/// not the slice, binding, fixed-value and cardinality rules, which it does not evaluate.
fn flspost_invariant_keys(bytes: &[u8]) -> Vec<String> {
    let problems = fhir::validate(MessageKind::CareCommunication, bytes).err().unwrap_or_default();
    let not_invariants =
        ["slice", "binding", "fixed", "cardinality", "bundled", "reference type", "profile", "Element"];
    let mut keys: Vec<String> = problems
        .iter()
        .map(|p| p.message.split(':').next().unwrap().to_string())
        .filter(|k| !not_invariants.iter().any(|n| k.starts_with(n)))
        .collect();
    keys.sort();
    keys.dedup();
    keys
}

#[test]
fn the_fhirpath_oracle_finds_no_error_in_what_flspost_builds() {
    let variants = all_variants();
    let dir = tempfile::tempdir().unwrap();
    let files: Vec<PathBuf> = variants
        .iter()
        .map(|b| {
            let p = dir.path().join(format!("{}.xml", b.name));
            std::fs::write(&p, &b.bytes).unwrap();
            p
        })
        .collect();
    let Some(verdicts) = oracle_errors(&files) else { return };
    for (file, keys) in verdicts {
        assert!(keys.is_empty(), "{file}: the oracle reports {keys:?}");
    }
}

#[test]
fn flspost_checks_agree_with_the_oracle_on_medcom_examples_and_broken_cases() {
    let Some(m) = medcom() else { return };
    let mut files = carecommunication_examples(&m);
    let mut cases: Vec<PathBuf> =
        std::fs::read_dir(m.join("validation-cases")).unwrap().map(|e| e.unwrap().path()).collect();
    cases.retain(|p| p.extension().is_some_and(|e| e == "xml"));
    cases.sort();
    files.extend(cases);
    let Some(verdicts) = oracle_errors(&files) else { return };
    for (path, (name, oracle_keys)) in files.iter().zip(verdicts) {
        let ours = flspost_invariant_keys(&std::fs::read(path).unwrap());
        assert_eq!(ours, oracle_keys, "{name}: flspost's invariants vs the oracle's");
    }
}

// ---- MedCom's examples and broken cases through `flspost validate` -------------------------

/// `flspost validate FILE` -> (exit code, the problem lines without the file name).
fn validate_cli(path: &Path) -> (i32, Vec<String>) {
    let run = World::new().run(&["validate", path.to_str().unwrap()]);
    let prefix = format!("{}:", path.display());
    let lines = run.stdout.lines().map(|l| l.strip_prefix(&prefix).unwrap_or(l).trim().to_string()).collect();
    (run.code, lines)
}

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

// ---- what the message says and how it is identified ----------------------------------------

#[test]
fn touchstone_send_assertions_hold() {
    // Research note §4.3: what every MedCom send test script asserts.
    for b in all_variants().iter().filter(|b| b.name.contains("pdf")) {
        let d = doc(&b.bytes);
        assert!(d.root_element().has_tag_name(("http://hl7.org/fhir", "Bundle")));
        let header = resource(&d, "MessageHeader");
        assert_eq!(value_at(header, &["eventCoding", "code"]), Some("care-communication-message"));
        let prov = resource(&d, "Provenance");
        assert_eq!(value_at(prov, &["activity", "coding", "code"]), Some("new-message"));
        assert!(value_at(prov, &["target", "reference"]).unwrap().contains(&b.identity_message_id));
        let thread = value_at(resource(&d, "Communication"), &["identifier", "value"]).unwrap();
        let uuid = thread.strip_prefix("urn:uuid:").unwrap();
        assert_eq!(uuid.len(), 36);
        assert!(uuid.chars().all(|c| c.is_ascii_digit() || ('a'..='f').contains(&c) || c == '-'), "{thread}");
        // Receiver GLN and SOR as given.
        let orgs: Vec<_> = d.descendants().filter(|n| n.has_tag_name("Organization")).collect();
        let ids: Vec<&str> = orgs[1].descendants().filter_map(|n| n.attribute("value")).collect();
        assert!(ids.contains(&b.result.gp.ean.as_str()) && ids.contains(&"1017421000016003"), "{ids:?}");
    }
}

#[test]
fn the_payload_carries_the_same_letter_text_as_the_xdis91() {
    let r = checked(&fhir_input("group-2b.json")).unwrap();
    let b = build("2b", &r, 0, 1, false);
    let d = doc(&b.bytes);
    let content = value_at(resource(&d, "Communication"), &["payload", "contentString"]).unwrap();
    // The XDIS91 text for the same result: <Break/> is a line break.
    let letters = Letters::shipped();
    let text = letters.render(Addressee::Gp, &r, now().date_naive()).unwrap();
    let xdis = flspost::formats::xdis91::write::write(&flspost::formats::xdis91::write::Xdis91 {
        result: &r,
        text: &text,
        letter_id: "L",
        envelope_id: "E",
        sent: now().naive_utc(),
        authorised: now().naive_utc(),
        status: flspost::model::LetterStatus::New,
    })
    .unwrap();
    let latin1: String = xdis.bytes.iter().map(|&b| b as char).collect();
    let body = latin1.split("<Text01>").nth(1).unwrap().split("</Text01>").next().unwrap();
    let xdis_text = body.replace("<Break/>", "\n").replace("&amp;", "&").replace("&lt;", "<").replace("&gt;", ">");
    assert_eq!(content, xdis_text);
    assert!(content.contains("Med venlig hilsen\nKaren Østergaard"), "{content}");
    assert_eq!(value_at(resource(&d, "Communication"), &["topic", "text"]), Some(text.subject.as_str()));
    // Written as &#xA; so the breaks survive XML attribute normalisation.
    assert!(String::from_utf8_lossy(&b.bytes).contains("&#xA;&#xA;"));
}

#[test]
fn narratives_show_what_medcom_requires_and_never_base64() {
    let r = checked(&fhir_input("group-2a.json")).unwrap();
    let b = build("2a", &r, 0, 1, true);
    let d = doc(&b.bytes);
    let narrative = |kind: &str| -> String {
        let res = resource(&d, kind);
        let div = res.descendants().find(|n| n.has_tag_name(("http://www.w3.org/1999/xhtml", "div"))).unwrap();
        div.descendants().filter(|n| n.is_text()).map(|n| n.text().unwrap()).collect()
    };
    let patient = narrative("Patient");
    assert!(
        patient.contains("0211223989") && patient.contains("Åge Test Berggren") && patient.contains("Hindbærvej 23")
    );
    let comm = narrative("Communication");
    for needle in [
        "Undersøgelsessvar",
        "examination-results",
        "FLS-resultat",
        "Karen Østergaard",
        "+4578450000",
        "urn:uuid:",
        "Knogleskanning",
        "2025-03-11T14:05:00+01:00",
    ] {
        assert!(comm.contains(needle), "Communication narrative lacks {needle}: {comm}");
    }
    let orgs: String = d
        .descendants()
        .filter(|n| n.has_tag_name(("http://www.w3.org/1999/xhtml", "div")))
        .flat_map(|div| div.descendants().filter(|n| n.is_text()).map(|n| n.text().unwrap().to_string()))
        .collect();
    for needle in
        ["5790000128686", "1017421000016003", "5790002727016", "265281000016008", "new-message", "Overlæge (overlaege)"]
    {
        assert!(orgs.contains(needle), "narratives lack {needle}");
    }
    let data = value_at(
        resource(&d, "Communication").children().filter(|c| c.has_tag_name("payload")).nth(1).unwrap(),
        &["contentAttachment", "data"],
    )
    .unwrap();
    assert!(data.len() > 1000);
    assert!(!orgs.contains(&data[..40]), "base64 in a narrative");
    // Every resource but the Bundle has one.
    let resources =
        d.descendants().filter(|n| n.is_element() && n.parent().is_some_and(|p| p.has_tag_name("resource"))).count();
    let narratives = d.descendants().filter(|n| n.has_tag_name(("http://www.w3.org/1999/xhtml", "div"))).count();
    assert_eq!((resources, narratives), (8, 8));
}

#[test]
fn attachment_is_a_pdf_payload_with_its_own_identifier_and_date_and_a_provenance_entity() {
    let r = checked(&fhir_input("group-3.json")).unwrap();
    let b = build("3", &r, 0, 1, true);
    let d = doc(&b.bytes);
    let comm = resource(&d, "Communication");
    let payloads: Vec<_> = comm.children().filter(|c| c.has_tag_name("payload")).collect();
    assert_eq!(payloads.len(), 2);
    let att = payloads[1];
    assert_eq!(value_at(att, &["contentAttachment", "contentType"]), Some("application/pdf"));
    assert_eq!(value_at(att, &["contentAttachment", "title"]), Some("Knogleskanning"));
    use base64::Engine;
    let pdf = base64::engine::general_purpose::STANDARD
        .decode(value_at(att, &["contentAttachment", "data"]).unwrap())
        .unwrap();
    assert!(pdf.starts_with(b"%PDF-"));
    let att_id = value_at(
        att.children().find(|c| c.attribute("url") == Some(fhir::EXT_IDENTIFIER)).unwrap(),
        &["valueIdentifier", "value"],
    )
    .unwrap();
    let entities: Vec<&str> = resource(&d, "Provenance")
        .children()
        .filter(|c| c.has_tag_name("entity"))
        .map(|e| value_at(e, &["what", "identifier", "value"]).unwrap())
        .collect();
    assert_eq!(entities.len(), 2);
    assert_eq!(entities[1], att_id);
}

#[test]
fn a_resend_keeps_the_message_id_and_a_correction_is_a_new_message() {
    let r = checked(&fhir_input("group-1.json")).unwrap();
    let first = build("first", &r, 0, 1, false);
    let later = FAKE_NOW.parse::<chrono::DateTime<chrono::Utc>>().unwrap() + chrono::Duration::minutes(45);
    let resend_identity = Identity::derive(&r, 0, 2, later);
    let text = Letters::shipped().render(Addressee::Gp, &r, now().date_naive()).unwrap();
    let resend = cc::build(&CareCommunication { result: &r, text: &text, identity: &resend_identity }).unwrap();
    let correction = build("correction", &r, 1, 1, false);
    let (a, b, c) = (doc(&first.bytes), doc(&resend), doc(&correction.bytes));
    let id =
        |d: &roxmltree::Document<'_>, kind: &str, path: &[&str]| value_at(resource(d, kind), path).unwrap().to_string();
    let bundle_id = |d: &roxmltree::Document<'_>| value_at(d.root_element(), &["id"]).unwrap().to_string();
    assert_eq!(id(&a, "MessageHeader", &["id"]), id(&b, "MessageHeader", &["id"]), "resend: same MessageHeader.id");
    assert_ne!(bundle_id(&a), bundle_id(&b), "resend: new Bundle.id");
    assert_eq!(id(&b, "Provenance", &["occurredDateTime"]), "2025-03-20T11:15:00+01:00", "Provenance time = send time");
    assert_eq!(value_at(b.root_element(), &["timestamp"]), Some("2025-03-20T11:15:00+01:00"));
    assert_ne!(id(&a, "MessageHeader", &["id"]), id(&c, "MessageHeader", &["id"]), "changed content: new message");
    // A new message starts a new thread (MedCom governance); a resend stays in its thread.
    assert_ne!(id(&a, "Communication", &["identifier", "value"]), id(&c, "Communication", &["identifier", "value"]));
    assert_eq!(id(&a, "Communication", &["identifier", "value"]), id(&b, "Communication", &["identifier", "value"]));
    assert_eq!(id(&c, "Provenance", &["activity", "coding", "code"]), "new-message");
    // Payload date is the clinician's approval, the same on every send.
    assert_eq!(
        a.descendants().find(|n| n.has_tag_name("valueDateTime")).unwrap().attribute("value"),
        b.descendants().find(|n| n.has_tag_name("valueDateTime")).unwrap().attribute("value")
    );
}

#[test]
fn author_titles_map_to_medcom_role_codes_or_travel_as_text() {
    let mut v = fhir_input("group-2a.json");
    v["author"]["title"] = json!("Overlæge, ph.d.");
    let d_bytes = build("coded", &checked(&v).unwrap(), 0, 1, false).bytes;
    let d = doc(&d_bytes);
    let role = resource(&d, "PractitionerRole");
    assert_eq!(value_at(role, &["code", "coding", "code"]), Some("overlaege"));
    assert_eq!(value_at(role, &["code", "coding", "system"]), Some(codes::ROLE_SYSTEM));
    assert_eq!(value_at(role, &["code", "text"]), None);
    v["author"]["title"] = json!("Professor, overlæge");
    let d_bytes = build("text", &checked(&v).unwrap(), 0, 1, false).bytes;
    let d = doc(&d_bytes);
    let role = resource(&d, "PractitionerRole");
    assert_eq!(value_at(role, &["code", "text"]), Some("Professor, overlæge"));
    assert_eq!(value_at(role, &["code", "coding", "code"]), None);
    let name = resource(&d, "Practitioner");
    assert_eq!(value_at(name, &["name", "family"]), Some("Østergaard"));
    assert_eq!(value_at(name, &["name", "given"]), Some("Karen"));
}

// ---- the input fields FHIR needs ------------------------------------------------------------

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

// ---- the envelope ----------------------------------------------------------------------------

#[test]
fn the_envelope_carries_the_bundle_and_says_what_it_is() {
    let r = checked(&fhir_input("group-2a.json")).unwrap();
    let b = build("2a", &r, 0, 1, false);
    let env = envelope(&b);
    fhir::validate(MessageKind::VansEnvelope, &env).unwrap();
    let d = doc(&env);
    let text = |name: &str| d.descendants().find(|n| n.has_tag_name(name)).unwrap().text().unwrap().to_string();
    assert_eq!(text("Name"), "MCM:FDIS91#examination-results");
    assert_eq!(text("Format"), "HL7");
    assert_eq!(text("ServiceTag"), "application/fhir+xml");
    assert_eq!(text("EnvelopeIdentifier"), value_at(doc(&b.bytes).root_element(), &["id"]).unwrap());
    use base64::Engine;
    assert_eq!(base64::engine::general_purpose::STANDARD.decode(text("Data")).unwrap(), b.bytes);
    assert_eq!(text("SizeInBytes"), b.bytes.len().to_string());

    // What the envelope's schema cannot see: its Bundle's faults, its size, its identifiers.
    let dir = tempfile::tempdir().unwrap();
    let broken_bundle = String::from_utf8(b.bytes.clone()).unwrap().replace("examination-results", "dxa-results");
    let wrong = vans::write(&vans::Envelope {
        sender_ean: r.sender.ean.as_str(),
        receiver_ean: r.gp.ean.as_str(),
        bundle_id: uuid::Uuid::new_v4(),
        sent: now(),
        document_name: "MCM:FDIS91#examination-results",
        bundle: broken_bundle.as_bytes(),
    });
    let p = dir.path().join("env.xml");
    std::fs::write(&p, &wrong).unwrap();
    let (code, lines) = validate_cli(&p);
    assert_eq!(code, 1);
    let data_line = String::from_utf8_lossy(&wrong).lines().position(|l| l.contains("<Data>")).unwrap() + 1;
    assert!(
        lines.iter().any(|l| l.starts_with(&format!("{data_line}:5: enveloped Bundle: "))
            && l.contains("binding:")
            && l.contains("dxa-results")),
        "{lines:#?}"
    );
    assert!(lines.iter().any(|l| l.contains("MR7: EnvelopeIdentifier")), "{lines:#?}");
    assert!(
        lines.iter().any(|l| l.contains("Document/Name `MCM:FDIS91#examination-results` does not match the Bundle")),
        "{lines:#?}"
    );
    let resized =
        String::from_utf8(env.clone()).unwrap().replace(&format!("<SizeInBytes>{}<", b.bytes.len()), "<SizeInBytes>7<");
    std::fs::write(&p, resized).unwrap();
    let (_, lines) = validate_cli(&p);
    assert!(lines.iter().any(|l| l.contains("SizeInBytes is 7")), "{lines:#?}");
}

// ---- the Acknowledgement ---------------------------------------------------------------------

#[test]
fn medcoms_acknowledgement_is_read() {
    let Some(m) = medcom() else { return };
    let path = m.join("acknowledgement/Flow2-Acknowledgement_Ex_to_OIOXML.xml");
    let a = ack::read(&std::fs::read(&path).unwrap()).unwrap();
    assert_eq!(a.code, ack::ResponseCode::Ok);
    assert_eq!(a.acknowledges, "60098c38-6fe1-41ba-aa92-d4809022de88");
    assert_eq!(a.message_id, "ec45ab9f-f918-42e3-9536-f6c00fbb8b1e");
    assert_eq!(a.bundle_id, "e90e15ae-e019-496b-aa65-95aab4983f0d");
    assert_eq!(a.sender_gln.as_deref(), Some("5790000121441"));
    assert!(a.issues.is_empty());
    let (code, lines) = validate_cli(&path);
    assert_eq!((code, lines[0].as_str()), (0, "valid FHIR Acknowledgement (flspost-acknowledgement.xsd)"));

    // A fatal-error must carry its OperationOutcome (medcom-acknowledgement-1) ...
    let text = std::fs::read_to_string(&path).unwrap();
    let fatal = text.replace(r#"<code value="ok"/>"#, r#"<code value="fatal-error"/>"#);
    let e = ack::read(fatal.as_bytes()).unwrap_err();
    assert!(e.0.iter().any(|p| p.message.starts_with("medcom-acknowledgement-1: ")), "{e}");
    // ... and with one it is read, issue and all.
    let outcome = r#"  <entry>
    <fullUrl value="OperationOutcome/4f7c5b2e-8a8b-4a5e-9a43-2f1d3c4b5a6e"/>
    <resource>
      <OperationOutcome>
        <id value="4f7c5b2e-8a8b-4a5e-9a43-2f1d3c4b5a6e"/>
        <text><status value="generated"/><div xmlns="http://www.w3.org/1999/xhtml"><p>Ukendt modtager</p></div></text>
        <issue>
          <severity value="error"/>
          <code value="value"/>
          <details>
            <coding>
              <system value="http://terminology.hl7.org/CodeSystem/operation-outcome"/>
              <code value="MSG_Receiver_Identifier_UNKNOWN"/>
            </coding>
            <text value="Modtageren kendes ikke"/>
          </details>
        </issue>
      </OperationOutcome>
    </resource>
  </entry>
</Bundle>"#;
    let with_outcome = fatal.replace("</Bundle>", outcome);
    let a = ack::read(with_outcome.as_bytes()).unwrap();
    assert_eq!(a.code, ack::ResponseCode::FatalError);
    assert_eq!(a.issues.len(), 1);
    assert_eq!(a.issues[0].details_code.as_deref(), Some("MSG_Receiver_Identifier_UNKNOWN"));
    assert_eq!(a.issues[0].text.as_deref(), Some("Modtageren kendes ikke"));
    let transient = with_outcome.replace(r#"<code value="fatal-error"/>"#, r#"<code value="transient-error"/>"#);
    assert_eq!(ack::read(transient.as_bytes()).unwrap().code, ack::ResponseCode::TransientError);
    let unknown = text.replace(r#"<code value="ok"/>"#, r#"<code value="maybe"/>"#);
    let e = ack::read(unknown.as_bytes()).unwrap_err();
    assert!(e.0.iter().any(|p| p.message.contains("response.code `maybe`")), "{e}");
}

#[test]
fn validate_accepts_a_generated_message_and_gives_file_line_col() {
    let r = checked(&fhir_input("group-2a.json")).unwrap();
    let b = build("2a", &r, 0, 1, true);
    let dir = tempfile::tempdir().unwrap();
    let p = dir.path().join("gp-carecommunication.xml");
    std::fs::write(&p, &b.bytes).unwrap();
    let (code, lines) = validate_cli(&p);
    assert_eq!((code, lines[0].as_str()), (0, "valid FHIR CareCommunication (flspost-carecommunication.xsd)"));
    let broken =
        String::from_utf8(b.bytes).unwrap().replace(r#"<status value="unknown"/>"#, r#"<status value="completed"/>"#);
    std::fs::write(&p, &broken).unwrap();
    let (code, lines) = validate_cli(&p);
    let line = broken.lines().position(|l| l.contains(r#"<status value="completed"/>"#)).unwrap() + 1;
    assert_eq!(code, 1);
    assert_eq!(lines, vec![format!("{line}:9: fixed: Bundle.entry[2].resource.Communication.status: Communication.status is `completed`; the profile fixes `unknown`")]);
}

#[test]
fn cut_or_garbled_documents_are_refused_never_a_panic() {
    let r = checked(&fhir_input("group-2b.json")).unwrap();
    let b = build("2b", &r, 0, 1, false);
    let env = envelope(&b);
    for (kind, bytes) in [(MessageKind::CareCommunication, &b.bytes), (MessageKind::VansEnvelope, &env)] {
        for cut in (0..bytes.len()).step_by(97) {
            assert!(fhir::validate(kind, &bytes[..cut]).is_err(), "{kind:?} cut at {cut} validated");
        }
    }
    assert!(ack::read(&b.bytes).is_err(), "a CareCommunication is not an Acknowledgement");
    assert!(
        fhir::validate(MessageKind::CareCommunication, "<Bundle xmlns=\"http://hl7.org/fhir\"/>".as_bytes()).is_err()
    );
}

// ---- end to end: what `generate` hands over --------------------------------------------------

/// Every group through the binary, with the GP marked FHIR in a receiver table and the PDF
/// attached: each envelope passes MedCom's VANSEnvelope schema, each Bundle in it the
/// official R4 schema and the FHIRPath oracle.
#[test]
fn what_generate_hands_over_for_a_fhir_gp_passes_the_official_schemas_and_the_oracle() {
    let w = World::new();
    w.write("receivers.csv", "EAN;SOR;Formats\n5790000128686;1017421000016003;CareCommunication\n");
    let cfg = w.write("config.toml", "[gp]\nreceivers = \"receivers.csv\"\nattach_pdf = true\n");
    let out = w.out();
    let mut args = vec!["generate", "--config", cfg.to_str().unwrap(), "--out-dir", out.to_str().unwrap()];
    let inputs: Vec<String> = SAMPLES.map(|s| sample(s).display().to_string()).to_vec();
    args.extend(inputs.iter().map(String::as_str));
    w.run(&args).ok();
    let envelopes: Vec<Vec<u8>> =
        tree(&w.out()).into_iter().filter(|(p, _)| p.ends_with("gp-carecommunication.xml")).map(|(_, b)| b).collect();
    assert_eq!(envelopes.len(), 4, "one CareCommunication per result");
    let dir = tempfile::tempdir().unwrap();
    let bundles: Vec<PathBuf> = envelopes
        .iter()
        .enumerate()
        .map(|(i, env)| {
            let p = dir.path().join(format!("bundle-{i}.xml"));
            std::fs::write(&p, bundle_in_envelope(env)).unwrap();
            p
        })
        .collect();
    let Some(m) = medcom() else { return };
    let mut r4 = Schema::from_file(&m.join("fhir-r4-xsd/fhir-single.xsd")).unwrap();
    let mut official_vans =
        Schema::from_file(&m.join("../medcom-oioxml/vans-envelope/VANSEnvelope-1.0.4.extracted.xsd")).unwrap();
    for (env, bundle) in envelopes.iter().zip(&bundles) {
        official_vans.validate(env).unwrap_or_else(|e| panic!("official VANSEnvelope schema: {e:?}"));
        let bytes = std::fs::read(bundle).unwrap();
        r4.validate(&bytes).unwrap_or_else(|e| panic!("{bundle:?}: official R4 schema: {e:?}"));
        assert!(String::from_utf8_lossy(&bytes).contains("application/pdf"), "the PDF is attached");
    }
    let Some(verdicts) = oracle_errors(&bundles) else { return };
    for (file, keys) in verdicts {
        assert!(keys.is_empty(), "{file}: the oracle reports {keys:?}");
    }
}

/// The PDF a CareCommunication (in its VANSEnvelope) attaches.
fn attached_pdf(envelope: &[u8]) -> Vec<u8> {
    use base64::Engine;
    let data = fhir_value(&bundle_in_envelope(envelope), "contentAttachment", "data");
    base64::engine::general_purpose::STANDARD.decode(data).unwrap()
}

/// The PDFs of result FLS-AUH-2025-0002 in the output folder: (the GP's CareCommunication
/// attaches, the patient's MeMo carries).
fn gp_and_patient_pdfs(w: &World) -> (Vec<u8>, Vec<u8>) {
    let dir = w.out().join("FLS-AUH-2025-0002");
    let gp = std::fs::read(dir.join("gp-carecommunication.xml")).unwrap();
    let memo = std::fs::read(dir.join("patient-memo.xml")).unwrap();
    (attached_pdf(&gp), pdf_of_memo(&memo))
}

/// Group 2a to a GP on FHIR with `attach_pdf` (samples/carecommunication.toml): the first
/// letters, whose PDFs are the same.
fn first_letters_with_the_pdf(w: &World) -> Vec<u8> {
    let s = w.generate_with(&root().join("samples/carecommunication.toml"), &sample("group-2a.json")).ok().one();
    assert_eq!(s["messages"][0]["kind"], "gp-carecommunication", "{s}");
    let (gp_pdf, patient_pdf) = gp_and_patient_pdfs(w);
    assert!(gp_pdf == patient_pdf, "a first letter: the GP's PDF is not the patient's");
    patient_pdf
}

/// (kind, state, status code) of each message a summary names.
fn states(s: &Value) -> Vec<(String, String, String)> {
    let text = |m: &Value, k: &str| m[k].as_str().unwrap().to_string();
    s["messages"]
        .as_array()
        .unwrap()
        .iter()
        .map(|m| (text(m, "kind"), text(m, "state"), text(m, "status_code")))
        .collect()
}

/// With `attach_pdf`, the GP gets the PDF the patient got, byte for byte: after a correction
/// of the GP's part only, on a later day, the patient's letter is kept and so is its PDF.
#[test]
fn the_pdf_attached_to_a_corrected_gp_letter_is_the_kept_patient_letter_s() {
    let mut w = World::new();
    let patient_pdf = first_letters_with_the_pdf(&w);
    w.fake_now = Some("2025-04-02T08:00:00Z".into());
    let mut v = sample_json("group-2a.json");
    v["gp"]["name"] = json!("Lægerne i Vestergade, Odense");
    let gp_only = w.write("gp-only.json", &v.to_string());
    let s = w.generate_with(&root().join("samples/carecommunication.toml"), &gp_only).ok().one();
    let expected = [("gp-carecommunication", "new", "rettetbrev"), ("patient-memo", "kept", "nytbrev")];
    assert_eq!(states(&s), expected.map(|(k, s, c)| (k.into(), s.into(), c.into())), "{s}");
    let (gp_pdf, kept_pdf) = gp_and_patient_pdfs(&w);
    assert!(kept_pdf == patient_pdf, "the patient's letter was kept");
    assert!(gp_pdf == kept_pdf, "the GP's PDF is not the one the patient got (rendered again, dated 2 April?)");
}

/// With `attach_pdf`, a correction of the patient's part gives the GP the patient's corrected
/// letter, not the letter rendered again as uncorrected.
#[test]
fn the_pdf_attached_to_a_corrected_gp_letter_is_the_corrected_patient_letter_s() {
    let w = World::new();
    let patient_pdf = first_letters_with_the_pdf(&w);
    let mut v = sample_json("group-2a.json");
    v["patient"]["address"]["street"] = json!("Hindbærvej 25");
    let both = w.write("both.json", &v.to_string());
    let s = w.generate_with(&root().join("samples/carecommunication.toml"), &both).ok().one();
    let expected = [("gp-carecommunication", "new", "rettetbrev"), ("patient-memo", "new", "rettetbrev")];
    assert_eq!(states(&s), expected.map(|(k, s, c)| (k.into(), s.into(), c.into())), "{s}");
    let (gp_pdf, corrected_pdf) = gp_and_patient_pdfs(&w);
    assert!(corrected_pdf != patient_pdf, "the patient's letter is new");
    assert!(gp_pdf == corrected_pdf, "the GP's PDF is not the patient's corrected letter");
}

/// As above with the kombi hand-off: the kept letter's PDF is taken from its stored kombi
/// request (its MeMo part).
#[test]
fn the_pdf_attached_to_a_corrected_gp_letter_is_the_kept_kombi_letter_s() {
    let mut w = World::new();
    let table = sample_receivers();
    let kombi_cc = ConfigOf {
        receivers: Some(&table),
        attach_pdf: Some(true),
        patient: Some(Transport::Kombi("dp")),
        ..ConfigOf::default()
    };
    let cfg = w.config("kombi-cc.toml", &kombi_cc);
    let pdfs = |w: &World| {
        let dir = w.out().join("FLS-AUH-2025-0002");
        let gp = std::fs::read(dir.join("gp-carecommunication.xml")).unwrap();
        (attached_pdf(&gp), pdf_of_memo(&std::fs::read(dir.join("patient-kombi.xml")).unwrap()))
    };
    w.generate_with(&cfg, &sample("group-2a.json")).ok();
    let (first_gp, patient_pdf) = pdfs(&w);
    assert!(first_gp == patient_pdf);
    w.fake_now = Some("2025-04-02T08:00:00Z".into());
    let mut v = sample_json("group-2a.json");
    v["gp"]["name"] = json!("Lægerne i Vestergade, Odense");
    let s = w.generate_with(&cfg, &w.write("gp-only.json", &v.to_string())).ok().one();
    let expected = [("gp-carecommunication", "new", "rettetbrev"), ("patient-kombi", "kept", "nytbrev")];
    assert_eq!(states(&s), expected.map(|(k, s, c)| (k.into(), s.into(), c.into())), "{s}");
    let (gp_pdf, kept_pdf) = pdfs(&w);
    assert!(kept_pdf == patient_pdf && gp_pdf == kept_pdf, "the GP's PDF is not the one the patient got");
}

/// `bytes` with a DOCTYPE after the XML declaration declaring entity `&e;` as `value`, and
/// `from` (its first occurrence) replaced by `to`, which can use it.
fn with_doctype(bytes: &[u8], value: &str, from: &str, to: &str) -> Vec<u8> {
    let text = String::from_utf8(bytes.to_vec()).unwrap();
    let (decl, rest) = text.split_once('\n').unwrap();
    assert!(decl.starts_with("<?xml"), "{decl}");
    let root = rest.trim_start().trim_start_matches('<').split([' ', '>']).next().unwrap().to_string();
    assert!(rest.contains(from), "{from}");
    format!("{decl}\n<!DOCTYPE {root} [<!ENTITY e \"{value}\">]>\n{}", rest.replacen(from, to, 1)).into_bytes()
}

#[test]
fn a_document_with_a_doctype_is_refused_naming_its_line() {
    let r = checked(&fhir_input("group-2a.json")).unwrap();
    let b = build("2a", &r, 0, 1, true);
    let ack = common::acknowledgement("ok", &common::uuid(1), &common::uuid(2), &common::uuid(3), &[]);
    let dir = tempfile::tempdir().unwrap();
    // An entity in a `value` attribute hid the whole document from the profile rules: a broken
    // rule (here a Communication.status the profile fixes) went unseen, and so did the envelope's
    // own checks (its Data is checked as the Bundle it holds).
    let broken = String::from_utf8(b.bytes.clone()).unwrap().replacen(
        r#"<status value="unknown"/>"#,
        r#"<status value="completed"/>"#,
        1,
    );
    let cases = [
        ("cc.xml", with_doctype(broken.as_bytes(), "message", r#"<type value="message"/>"#, r#"<type value="&e;"/>"#)),
        ("env.xml", with_doctype(&envelope(&b), "HL7", "<Format>HL7</Format>", "<Format>&e;</Format>")),
        ("ack.xml", with_doctype(&ack, "ok", r#"<code value="ok"/>"#, r#"<code value="&e;"/>"#)),
    ];
    for (name, bytes) in cases {
        let p = dir.path().join(name);
        std::fs::write(&p, &bytes).unwrap();
        let (code, lines) = validate_cli(&p);
        assert_eq!(code, 1, "{name}: {lines:?}");
        assert_eq!(lines.len(), 1, "{name}: {lines:?}");
        assert!(lines[0].starts_with("2:1: DOCTYPE: "), "{name}: {lines:?}");
        assert!(lines[0].contains("MedCom's messages have none"), "{name}: {lines:?}");
    }
    // A DOCTYPE without any entity is refused all the same: the document is not one MedCom's.
    let plain = String::from_utf8(b.bytes).unwrap().replacen("\n<Bundle", "\n<!DOCTYPE Bundle>\n<Bundle", 1);
    let p = dir.path().join("plain.xml");
    std::fs::write(&p, plain).unwrap();
    let (code, lines) = validate_cli(&p);
    assert_eq!((code, lines.len()), (1, 1), "{lines:?}");
    assert!(lines[0].starts_with("2:1: DOCTYPE: "), "{lines:?}");
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

#[test]
fn validate_says_a_json_acknowledgement_is_json_not_xml() {
    // FHIR JSON, as a receiver could send it: its narrative is an XHTML string, whose `<div`
    // was taken for the document's root element.
    let json = r#"{
  "resourceType": "Bundle",
  "id": "e90e15ae-e019-496b-aa65-95aab4983f0d",
  "type": "message",
  "entry": [{
    "fullUrl": "MessageHeader/ec45ab9f-f918-42e3-9536-f6c00fbb8b1e",
    "resource": {
      "resourceType": "MessageHeader",
      "text": {"status": "generated", "div": "<div xmlns=\"http://www.w3.org/1999/xhtml\"><p>ok</p></div>"},
      "response": {"identifier": "60098c38-6fe1-41ba-aa92-d4809022de88", "code": "ok"}
    }
  }]
}
"#;
    let dir = tempfile::tempdir().unwrap();
    let p = dir.path().join("ack.json");
    // With a byte order mark and leading white space too.
    for text in [json.to_string(), format!("\u{FEFF}\n  {json}")] {
        std::fs::write(&p, text).unwrap();
        let (code, lines) = validate_cli(&p);
        assert_eq!((code, lines.len()), (1, 1), "{lines:?}");
        assert!(lines[0].starts_with("1:1: a JSON document, not XML"), "{lines:?}");
        assert!(lines[0].contains("flspost reads FHIR XML"), "{lines:?}");
        assert!(!lines[0].contains("div"), "{lines:?}");
    }
}
