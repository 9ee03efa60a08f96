//! The VANSEnvelope carries the Bundle and names it; what its schema cannot see (Bundle, size, identifiers) is checked.

use super::*;

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
        lines.iter().any(|l| l.starts_with(&format!("{data_line}:5: [standard] enveloped Bundle: "))
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
