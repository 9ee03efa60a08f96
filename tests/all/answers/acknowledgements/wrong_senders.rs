//! An answer not from the letter's receiver (by its sender, however referenced, or by envelope) is stored, not applied.

use super::*;

#[test]
fn an_acknowledgement_not_sent_by_the_letters_receiver_is_stored_not_applied() {
    let w = World::new();
    let gp = sent(&w, "group-2a.json");
    let (first, letter) = (gp["id"].as_i64().unwrap(), gp["letter_id"].as_str().unwrap());
    // An ok whose sender is the hospital, not the GP the letter went to (GLNs swapped).
    let b = String::from_utf8(acknowledgement("ok", &uuid(1), &uuid(1001), letter, &[])).unwrap();
    let (gp_gln, hospital_gln) = ("5790000128686", "5790002727016");
    let b = b.replace(gp_gln, "GLN").replace(hospital_gln, gp_gln).replace("GLN", hospital_gln);
    let file = ack_file(&w, "wrong-sender.xml", b.as_bytes());
    let r = receipt(&w, &file);
    assert_eq!(r.code, 1, "{}", r.stderr);
    let line = r.one();
    assert_eq!(outcome_of(&line), ("wrong-sender".into(), first.into()), "{line}");
    assert_eq!(
        (&line["result"]["sender_gln"], &line["result"]["receiver_gln"]),
        (&hospital_gln.into(), &gp_gln.into())
    );
    assert!(r.stderr.contains(&format!("sent by GLN {hospital_gln}")), "{}", r.stderr);
    assert!(r.stderr.contains(&format!("sent to GLN {gp_gln}")), "{}", r.stderr);
    assert_eq!(status(&w, &first.to_string()), "sent");
    // Read again, it is evaluated again (not a duplicate), and still not applied.
    let again = receipt(&w, &file);
    assert_eq!((again.code, again.one()["result"]["outcome"].clone()), (1, "wrong-sender".into()));
    // The GP's own answer applies.
    let line = receipt(&w, &ack(&w, 2, "ok", letter, &[])).ok().one();
    assert_eq!(line["result"]["outcome"], "acknowledged", "{line}");
}

#[test]
fn a_sender_referenced_by_its_urn_uuid_full_url_is_checked_like_any_other() {
    let w = World::new();
    let gp = sent(&w, "group-2a.json");
    let (first, letter) = (gp["id"].as_i64().unwrap(), gp["letter_id"].as_str().unwrap());
    let (gp_gln, hospital_gln) = ("5790000128686", "5790002727016");
    // The Organizations' fullUrls are `urn:uuid:`s and every reference names them so, as a
    // receiver's system may write them (FHIR resolves a reference by fullUrl first).
    let by_urn = |b: Vec<u8>| String::from_utf8(b).unwrap().replace("\"Organization/", "\"urn:uuid:");
    // Another practice's ok (the GLNs swapped): not the letter's receiver.
    let other = by_urn(acknowledgement("ok", &uuid(1), &uuid(1001), letter, &[]));
    assert!(other.contains("<sender><reference value=\"urn:uuid:"), "{other}");
    let other = other.replace(gp_gln, "GLN").replace(hospital_gln, gp_gln).replace("GLN", hospital_gln);
    let r = receipt(&w, &ack_file(&w, "other.xml", other.as_bytes()));
    assert_eq!(r.code, 1, "{}", r.stderr);
    let line = r.one();
    assert_eq!(outcome_of(&line), ("wrong-sender".into(), first.into()), "{line}");
    assert_eq!(line["result"]["sender_gln"], hospital_gln, "{line}");
    assert_eq!(status(&w, &first.to_string()), "sent");
    // The GP's own, referenced the same way, applies and names the GP as its sender.
    let own = by_urn(acknowledgement("ok", &uuid(2), &uuid(1002), letter, &[]));
    let line = receipt(&w, &ack_file(&w, "own.xml", own.as_bytes())).ok().one();
    assert_eq!(outcome_of(&line), ("acknowledged".into(), first.into()), "{line}");
    assert_eq!(line["acknowledgement"]["sender_gln"], gp_gln, "{line}");
}

#[test]
fn an_envelope_whose_sender_or_receiver_is_not_the_letters_is_stored_not_applied() {
    let w = World::new();
    let gp = sent(&w, "group-2a.json");
    let (first, letter) = (gp["id"].as_i64().unwrap(), gp["letter_id"].as_str().unwrap());
    let (gp_gln, hospital_gln, elsewhere) = ("5790000128686", "5790002727016", "5790000121441");
    // The GP's own ok, in an envelope from another end point, or to another: what VANS says
    // and what the Acknowledgement says disagree, and neither is taken on trust.
    for (n, field, from, to) in [(1, "SenderID", elsewhere, hospital_gln), (2, "ReceiverID", gp_gln, elsewhere)] {
        let bundle = acknowledgement("ok", &uuid(n), &uuid(1000 + n), letter, &[]);
        let env = String::from_utf8(in_vans_envelope(&bundle, &uuid(n), "ok")).unwrap();
        let env = env
            .replace(
                &format!("<SenderID EndPointType=\"EAN\">{gp_gln}"),
                &format!("<SenderID EndPointType=\"EAN\">{from}"),
            )
            .replace(
                &format!("<ReceiverID EndPointType=\"EAN\">{hospital_gln}"),
                &format!("<ReceiverID EndPointType=\"EAN\">{to}"),
            );
        let file = ack_file(&w, &format!("env-{n}.xml"), env.as_bytes());
        let r = receipt(&w, &file);
        assert_eq!(r.code, 1, "{field}: {}", r.stderr);
        let line = r.one();
        assert_eq!(outcome_of(&line), ("envelope-mismatch".into(), first.into()), "{field}: {line}");
        assert_eq!(line["result"]["envelope_field"], field, "{line}");
        assert!(r.stderr.contains(&format!("{field} {}", if n == 1 { from } else { to })), "{}", r.stderr);
        assert_eq!(status(&w, &first.to_string()), "sent", "{field}");
        // Read again, it is evaluated again (not a duplicate), and still not applied.
        let again = receipt(&w, &file);
        assert_eq!((again.code, again.one()["result"]["outcome"].clone()), (1, "envelope-mismatch".into()));
    }
    // The same answer in the envelope VANS would deliver it in applies.
    let bundle = acknowledgement("ok", &uuid(3), &uuid(1003), letter, &[]);
    let env = ack_file(&w, "env-3.xml", &in_vans_envelope(&bundle, &uuid(3), "ok"));
    let line = receipt(&w, &env).ok().one();
    assert_eq!(outcome_of(&line), ("acknowledged".into(), first.into()), "{line}");
}
