//! What the CareCommunication says (payload, narratives, PDF, author role) and its ids across resends and corrections.

use super::*;

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
