use super::*;
use crate::compose::routing::GpRouting;
use crate::compose::{Composer, GpOptions, Kind, Plan};
use crate::letters::Letters;
use crate::model::GpFormat;
use crate::model::LetterStatus;
use crate::testdata;

/// A CareCommunication envelope flspost builds for group 2a, with or without the PDF, at `now`.
fn built(attach_pdf: bool, now: DateTime<Utc>) -> Vec<u8> {
    let c = Composer::new(Letters::shipped())
        .with_gp(GpOptions { attach_pdf }, GpRouting { table: None, default: GpFormat::CareCommunication });
    let plan = Plan { kind: Kind::GpCareCommunication, letter_revision: 0, transmission: 1, status: LetterStatus::New };
    let r = testdata::checked(testdata::GROUP_2A);
    // The PDF attached is the patient's letter, as its MeMo carries it.
    let memo = Plan { kind: Kind::PatientMemo, ..plan };
    let letter = crate::formats::memo::write::read_main_document(&c.build(&r, &memo, now).unwrap().bytes).unwrap();
    c.build_with(&r, &plan, now, Some(&letter)).unwrap().bytes
}

fn bundle_of(envelope: &[u8]) -> Vec<u8> {
    let doc = Document::parse(envelope).unwrap();
    vans::data(&doc).unwrap().1
}

fn later() -> DateTime<Utc> {
    "2025-03-20T11:07:09.123456789Z".parse().unwrap()
}

/// `bundle` as text with its per-transmission values replaced by placeholders.
fn masked(bundle: &[u8]) -> String {
    let s = stamps(bundle).unwrap();
    let mut text = String::from_utf8(bundle.to_vec()).unwrap();
    text = text.replace(&s.bundle_id, "{BUNDLE-ID}");
    for t in std::iter::once(&s.timestamp).chain(s.provenance.iter().flat_map(|(o, r)| [o, r])) {
        text = text.replace(t.as_str(), "{SENT}");
    }
    text
}

#[test]
fn only_the_bundle_id_timestamp_and_provenance_times_change() {
    for pdf in [false, true] {
        let original = bundle_of(&built(pdf, testdata::now()));
        let (old, id, new) = restamp(&original, 2, later()).unwrap();
        let s = stamps(&new).unwrap();
        assert_eq!(s.message_id, old.message_id, "same MessageHeader.id");
        assert_eq!(s.bundle_id, id.hyphenated().to_string());
        assert_ne!(s.bundle_id, old.bundle_id);
        assert_eq!(s.timestamp, "2025-03-20T12:07:09+01:00");
        assert_eq!(s.provenance, [("2025-03-20T12:07:09+01:00".to_string(), "2025-03-20T12:07:09+01:00".into())]);
        assert_eq!(masked(&new), masked(&original), "pdf {pdf}: anything else changed");
        // The narrative shows the new times, and nowhere the old ones.
        let text = String::from_utf8(new.clone()).unwrap();
        assert!(text.contains("Tidspunkt (occurred): 2025-03-20T12:07:09+01:00"), "{text}");
        assert!(text.contains("Registreret (recorded): 2025-03-20T12:07:09+01:00"));
        assert!(!text.contains(&old.timestamp), "an old time is left");
        assert_eq!(validate(MessageKind::CareCommunication, &new), Ok(()));
    }
}

#[test]
fn the_same_stamps_give_the_same_bytes() {
    let original = bundle_of(&built(true, testdata::now()));
    let old = stamps(&original).unwrap();
    let same = rewrite(&original, &old, &Uuid::parse_str(&old.bundle_id).unwrap(), testdata::now()).unwrap();
    assert_eq!(same, original, "the stream rewrite changes nothing else, whitespace included");
}

#[test]
fn a_time_elsewhere_that_equals_the_send_time_is_kept() {
    // The payload date is the clinician's approval; here it happens to be the send time.
    let original = String::from_utf8(bundle_of(&built(false, testdata::now()))).unwrap();
    let old = stamps(original.as_bytes()).unwrap();
    let date = original.split("<valueDateTime value=\"").nth(1).unwrap().split('"').next().unwrap().to_string();
    let original = original.replace(&date, &old.timestamp);
    let (_, _, new) = restamp(original.as_bytes(), 2, later()).unwrap();
    let new = String::from_utf8(new).unwrap();
    assert!(new.contains(&format!("<valueDateTime value=\"{}\"/>", old.timestamp)), "{new}");
    assert!(new.contains(&format!("<p>Dato (date): {}</p>", old.timestamp)), "the Communication's narrative");
}

#[test]
fn only_our_messages_provenance_is_restamped() {
    // A Provenance of another message (as a reply chain carries) keeps its times.
    let original = String::from_utf8(bundle_of(&built(false, testdata::now()))).unwrap();
    let old = stamps(original.as_bytes()).unwrap();
    let start = original
        .find("  <entry>\n    <fullUrl value=\"https://medcomfhir.dk/ig/carecommunication/Provenance/")
        .unwrap();
    let end = original.rfind("</entry>").unwrap() + "</entry>\n".len();
    let other = original[start..end]
        .replace(&format!("MessageHeader/{}", old.message_id), "MessageHeader/0f3a1f4e-1111-4222-8333-944455556666");
    let with_other = format!("{}{other}{}", &original[..end], &original[end..]);
    let (_, _, new) = restamp(with_other.as_bytes(), 2, later()).unwrap();
    let new = String::from_utf8(new).unwrap();
    assert_eq!(new.matches(&old.timestamp).count(), 4, "the other Provenance's two times, twice each: {new}");
}

#[test]
fn a_bundle_it_does_not_recognise_is_an_error_not_a_panic() {
    let original = String::from_utf8(bundle_of(&built(false, testdata::now()))).unwrap();
    let old = stamps(original.as_bytes()).unwrap();
    let provenance_target = format!("<reference value=\"MessageHeader/{}\"/>\n        </target>", old.message_id);
    let cases: Vec<(String, &str)> = vec![
        ("".into(), "no root"),
        ("<Bundle/>".into(), "not a Bundle in namespace"),
        ("<x:Bundle xmlns:x=\"http://hl7.org/fhir\"/>".into(), "prefix"),
        ("<Bundle xmlns=\"http://hl7.org/fhir\"><id value=\"a\"/></Bundle>".into(), "Bundle.timestamp"),
        (original.replacen("<timestamp", "<timestamp value=\"x\"/><timestamp", 1), "Bundle.timestamp"),
        (
            original.replacen("<MessageHeader>", "<Basic>", 1).replacen("</MessageHeader>", "</Basic>", 1),
            "MessageHeader",
        ),
        (
            original.replace(&provenance_target, "<reference value=\"MessageHeader/x\"/>\n        </target>"),
            "no Provenance",
        ),
        (original.replacen("<recorded ", "<x ", 1), "lacks occurredDateTime or recorded"),
        (original[..original.len() / 2].to_string(), "not well-formed"),
        (
            "<Bundle xmlns=\"http://hl7.org/fhir\"><id value=\"a\"/><timestamp value=\"t\"/></Bundle>".into(),
            "MessageHeader",
        ),
    ];
    for (bytes, why) in cases {
        match restamp(bytes.as_bytes(), 2, later()) {
            Err(e) => assert!(e.to_string().contains(why), "{why}: {e}"),
            Ok(_) => panic!("restamped a Bundle it should not recognise ({why})"),
        }
    }
    let e = resend(b"<Emessage/>", "x", 2, later()).unwrap_err();
    assert!(matches!(&e, Error::Internal(m) if m.contains("not a VANSEnvelope")), "{e}");
}

#[test]
fn a_resend_is_a_valid_envelope_around_the_restamped_bundle() {
    let stored = built(true, testdata::now());
    let message_id = stamps(&bundle_of(&stored)).unwrap().message_id.hyphenated().to_string();
    let other = resend(&stored, "0f3a1f4e-1111-4222-8333-944455556666", 2, later()).unwrap_err();
    assert!(matches!(&other, Error::Internal(m) if m.contains("carries MessageHeader.id")), "{other}");
    let r = resend(&stored, &message_id, 2, later()).unwrap();
    assert_eq!(validate(MessageKind::VansEnvelope, &r.bytes), Ok(()));
    let text = String::from_utf8(r.bytes.clone()).unwrap();
    assert!(text.contains(&format!("<EnvelopeIdentifier>{}</EnvelopeIdentifier>", r.bundle_id)));
    assert!(text.contains("<SentDateTime>2025-03-20T12:07:09+01:00</SentDateTime>"));
    let (old, new) = (bundle_of(&stored), bundle_of(&r.bytes));
    assert_eq!(masked(&new), masked(&old));
    assert_eq!(r.message_id, message_id);
    assert_eq!(r.sha256, crate::support::digest::sha256_hex(&r.bytes));
    assert_eq!(envelope_stamps(&r.bytes).unwrap().provenance[0].0, "2025-03-20T12:07:09+01:00");
    // Sender, receiver and document name are the stored envelope's.
    for tag in ["SenderID", "ReceiverID", "Name"] {
        let pick = |t: &str| t.split(&format!("<{tag}")).nth(1).unwrap().split('<').next().unwrap().to_string();
        assert_eq!(pick(&text), pick(std::str::from_utf8(&stored).unwrap()), "{tag}");
    }
}
