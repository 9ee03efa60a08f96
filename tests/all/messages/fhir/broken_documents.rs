//! `validate` accepts a generated message; broken, cut, DOCTYPE'd or JSON ones are refused at LINE:COL, never a panic.

use super::*;

#[test]
fn validate_accepts_a_generated_message_and_gives_file_line_col() {
    let r = checked(&fhir_input("group-2a.json")).unwrap();
    let b = build("2a", &r, 0, 1, true);
    let dir = tempfile::tempdir().unwrap();
    let p = dir.path().join("gp-carecommunication.xml");
    std::fs::write(&p, &b.bytes).unwrap();
    let (code, lines) = validate_cli(&p);
    assert_eq!((code, lines[0].as_str()), (0, VALID_TO_BOTH));
    let broken =
        String::from_utf8(b.bytes).unwrap().replace(r#"<status value="unknown"/>"#, r#"<status value="completed"/>"#);
    std::fs::write(&p, &broken).unwrap();
    let (code, lines) = validate_cli(&p);
    let line = broken.lines().position(|l| l.contains(r#"<status value="completed"/>"#)).unwrap() + 1;
    assert_eq!(code, 1);
    assert_eq!(
        lines,
        vec![
            format!("{line}:9: [standard] fixed: Bundle.entry[2].resource.Communication.status: Communication.status is `completed`; the profile fixes `unknown`"),
            "FHIR CareCommunication invalid to MedCom's standard (flspost-fhir-standard.xsd and MedCom's rules): 1 [standard] problems".into(),
        ]
    );
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
        // The verdicts end with their summary (an envelope's as a Bundle's).
        let lines: Vec<&String> =
            lines.iter().filter(|l| !l.starts_with("FHIR ") && !l.starts_with("VANSEnvelope ")).collect();
        assert_eq!(lines.len(), 1, "{name}: {lines:?}");
        assert!(lines[0].starts_with("2:1: [standard] DOCTYPE: "), "{name}: {lines:?}");
        assert!(lines[0].contains("MedCom's messages have none"), "{name}: {lines:?}");
    }
    // A DOCTYPE without any entity is refused all the same: the document is not one MedCom's.
    let plain = String::from_utf8(b.bytes).unwrap().replacen("\n<Bundle", "\n<!DOCTYPE Bundle>\n<Bundle", 1);
    let p = dir.path().join("plain.xml");
    std::fs::write(&p, plain).unwrap();
    let (code, lines) = validate_cli(&p);
    assert_eq!((code, lines.len()), (1, 2), "{lines:?}");
    assert!(lines[0].starts_with("2:1: [standard] DOCTYPE: "), "{lines:?}");
}

#[test]
fn validate_reads_a_json_acknowledgement_as_json_and_names_its_problems_by_key() {
    // FHIR JSON, as a receiver could send it: its narrative is an XHTML string, whose `<div`
    // was once taken for the document's root element. This one lacks most of what MedCom
    // requires: each problem is named by the JSON key it is at.
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
        assert_eq!(code, 1, "{lines:?}");
        let (summary, lines) = lines.split_last().unwrap();
        // Without its event code it is not told from a CareCommunication: judged as one.
        assert!(summary.starts_with("FHIR CareCommunication invalid to MedCom's standard"), "{summary}");
        assert!(lines.iter().all(|l| l.starts_with("[standard] JSON Bundle")), "{lines:?}");
        assert!(
            lines.iter().any(|l| l.starts_with("[standard] JSON Bundle.entry[0].resource(MessageHeader): ")
                && l.contains("MessageHeader.id 1..1 is missing")),
            "{lines:?}"
        );
        assert!(!lines.iter().any(|l| l.contains("root element")), "{lines:?}");
    }
}
