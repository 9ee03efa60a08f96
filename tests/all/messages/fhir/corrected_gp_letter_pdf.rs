//! With `attach_pdf` the GP's CareCommunication attaches the PDF the patient got, byte for byte, after corrections too.

use super::*;

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
