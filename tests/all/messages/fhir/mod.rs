//! The FHIR CareCommunication letter to the GP, its VANS envelope and the Acknowledgement:
//! what flspost builds against the official FHIR R4 schema and MedCom's FHIRPath invariants
//! (the oracle in ../shared), and what `flspost validate` says about MedCom's own examples
//! and the broken cases.
//!
//! One file per kind of check; the helpers they share (the inputs, building a message and its
//! envelope, reading the XML, `flspost validate`, where ../shared is) are here.

use crate::common::{self, *};
use flspost::formats::fhir::carecommunication::{self as cc, Attachment, CareCommunication, Identity};
use flspost::formats::fhir::{self, ack, codes, vans};
use flspost::letters::Letters;
use flspost::model::Addressee;
use flspost::model::FlsResult;
use flspost::schema::{MessageKind, Schema};
use serde_json::{json, Value};
use std::path::{Path, PathBuf};

mod broken_documents;
mod content_and_identity;
mod corrected_gp_letter_pdf;
mod input_fields;
mod medcom_examples;
mod official_schemas_and_oracle;
mod reading_acknowledgements;
mod vans_envelope;

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
fn build(name: &str, r: &FlsResult, revision: u32, transmission: u32, pdf: bool) -> Built {
    let letters = Letters::shipped();
    let date = now().date_naive();
    let text = letters.render(Addressee::Gp, r, date).unwrap();
    let pdf_bytes = pdf.then(|| {
        let patient_text = letters.render(Addressee::Patient, r, date).unwrap();
        flspost::formats::pdf::letter_pdf(r, &patient_text, date, now(), false).unwrap().0
    });
    let mut identity = Identity::derive(r, revision, transmission, now());
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

/// `flspost validate FILE` -> (exit code, the problem lines without the file name).
/// What `validate` says of a CareCommunication valid to MedCom's standard and inside flspost's profile.
const VALID_TO_BOTH: &str = "valid FHIR CareCommunication: to MedCom's standard (flspost-fhir-standard.xsd and MedCom's rules) and to flspost's profile (flspost-carecommunication.xsd and flspost's rules)";

fn validate_cli(path: &Path) -> (i32, Vec<String>) {
    let run = World::new().run(&["validate", path.to_str().unwrap()]);
    let prefix = format!("{}:", path.display());
    let lines = run.stdout.lines().map(|l| l.strip_prefix(&prefix).unwrap_or(l).trim().to_string()).collect();
    (run.code, lines)
}
