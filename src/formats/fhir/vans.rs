//! The VANSEnvelope (`urn:oio:medcom:vans-envelope:1.0.4`) a FHIR message travels in over
//! VANS: the Bundle base64 in `Message/Data`, `Document/Format` HL7, `Name`
//! `MCM:FDIS91#<category>`, `Version` 1.0, `ServiceTag MCM:MIME` `application/fhir+xml`
//! (MedCom, "Enclosing envelope for FHIR messages"; research note medcom-fhir.md §0).
//!
//! The envelope identifier is the Bundle's id (MedCom rule MR7: "new envelopeid = Bundle.id"),
//! so it is new on every send exactly when the Bundle id is.

use super::bundle::bundle_kind;
use super::consts::*;
use super::dom::{Document, El};
use super::time::fhir_time;
use crate::formats::xml::Xml;
use crate::model::MessageKind;
use crate::schema::namespaces::{FHIR, VANS_ENVELOPE};
use crate::schema::{self, Problem, Verdict};
use base64::Engine;
use chrono::{DateTime, Utc};
use uuid::Uuid;

/// One FHIR message to wrap.
pub struct Envelope<'a> {
    pub sender_ean: &'a str,
    pub receiver_ean: &'a str,
    /// The Bundle's id: the envelope identifier.
    pub bundle_id: Uuid,
    pub sent: DateTime<Utc>,
    /// `MCM:FDIS91#examination-results` for an FLS CareCommunication.
    pub document_name: &'a str,
    /// The Bundle's bytes (FHIR XML).
    pub bundle: &'a [u8],
}

/// The `Document/Name` of a CareCommunication with category `category`.
pub fn care_communication_name(category: &str) -> String {
    format!("MCM:FDIS91#{category}")
}

/// Writes the envelope (UTF-8).
pub fn write(e: &Envelope<'_>) -> Vec<u8> {
    let b64 = base64::engine::general_purpose::STANDARD.encode(e.bundle);
    let mut x = Xml::indented(b64.len() + 1024);
    let id = e.bundle_id.hyphenated().to_string();
    x.decl("UTF-8").start_with("VANSEnvelope", &[("xmlns", VANS_ENVELOPE)]);
    x.leaf_with("SenderID", &[("EndPointType", "EAN")], e.sender_ean);
    x.leaf_with("ReceiverID", &[("EndPointType", "EAN")], e.receiver_ean);
    x.leaf("EnvelopeIdentifier", &id);
    x.leaf("SentDateTime", &fhir_time(&e.sent));
    x.start("Message");
    x.start("MetaInformation");
    x.leaf("Identifier", &id);
    x.start("Document");
    x.leaf("Format", "HL7");
    x.leaf("Name", e.document_name);
    x.leaf("Version", "1.0");
    x.leaf("SizeInBytes", &e.bundle.len().to_string());
    x.end("Document");
    x.start("Transport");
    x.leaf("Type", "reliable");
    // flspost sends FHIR only to receivers registered for it: no conversion is asked for.
    x.leaf("TransformMessage", "false");
    x.leaf_with("ServiceTag", &[("name", "MCM:MIME")], MIME_FHIR_XML);
    x.end("Transport");
    x.end("MetaInformation");
    x.leaf("Data", &b64);
    x.end("Message");
    x.end("VANSEnvelope");
    x.finish()
}

/// Who an envelope says it is from and to: its `SenderID` and `ReceiverID` (EAN end points,
/// GLNs), as VANS routes it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) struct EndPoints {
    pub sender: String,
    pub receiver: String,
}

/// The envelope's [`EndPoints`] (empty when absent; the schema requires both).
pub(crate) fn end_points(doc: &Document) -> EndPoints {
    let id = |name: &str| doc.root().text_at(&[name]).unwrap_or("").to_string();
    EndPoints { sender: id("SenderID"), receiver: id("ReceiverID") }
}

/// The enveloped message's bytes, decoded; `Err` says why they cannot be.
pub fn data(doc: &Document) -> Result<(El<'_>, Vec<u8>), String> {
    let data = doc.root().at(&["Message", "Data"]).ok_or("the envelope has no Message/Data")?;
    let compact: String = data.text().chars().filter(|c| !c.is_ascii_whitespace()).collect();
    let bytes = base64::engine::general_purpose::STANDARD
        .decode(compact.as_bytes())
        .map_err(|e| format!("Message/Data is not base64: {e}"))?;
    Ok((data, bytes))
}

fn at(el: El<'_>, rule: &str, reason: impl std::fmt::Display) -> Problem {
    Problem { line: Some(el.line()), column: Some(el.column()), message: format!("{rule}: {reason}") }
}

/// What the schema cannot see: the enveloped Bundle (recognised and judged as a
/// CareCommunication or an Acknowledgement; its problems are reported at `Data` with their
/// position inside the Bundle), its size, and that the envelope's identifiers and Name agree
/// with it. `judge` judges the enveloped Bundle, each problem with its verdict (it is
/// [`super::validate()`] or [`super::judge()`]; passed in, as an envelope is judged by the same
/// function that judges what it carries). The envelope's own problems here are MedCom's rules
/// (MR7, the Name, the size, a Bundle in `Data`): against the standard.
pub fn check(
    doc: &Document,
    mut judge: impl FnMut(MessageKind, &[u8]) -> Vec<(Verdict, Problem)>,
) -> Vec<(Verdict, Problem)> {
    let root = doc.root();
    let mut problems = vec![];
    let (data_el, bundle) = match data(doc) {
        Ok(d) => d,
        Err(reason) => {
            return vec![(Verdict::Standard, at(root.at(&["Message", "Data"]).unwrap_or(root), "envelope", reason))]
        }
    };
    if let Some(size) = root.at(&["Message", "MetaInformation", "Document", "SizeInBytes"]) {
        if size.text() != bundle.len().to_string() {
            problems.push((
                Verdict::Standard,
                at(size, "envelope", format!("SizeInBytes is {}, the Data holds {} bytes", size.text(), bundle.len())),
            ));
        }
    }
    // FHIR JSON (`application/fhir+json`) is judged as the FHIR XML it stands for.
    // The ServiceTag naming the FHIR format (its `name`, MCM:MIME, is not kept by the reader).
    let declared = root.at(&["Message", "MetaInformation", "Transport"]).and_then(|t| {
        t.children_named("ServiceTag").map(|s| (s, s.text())).find(|(_, m)| m.starts_with("application/fhir+"))
    });
    let json = if schema::is_json(&bundle) {
        match super::json::to_xml(&bundle) {
            Ok(j) => Some(j),
            Err(p) => {
                problems.push((Verdict::Standard, at(data_el, "enveloped Bundle", p.message)));
                return problems;
            }
        }
    } else {
        None
    };
    let format = if json.is_some() { MIME_FHIR_JSON } else { MIME_FHIR_XML };
    if let Some((tag, mime)) = declared.filter(|(_, m)| !m.is_empty() && *m != format) {
        problems.push((
            Verdict::Standard,
            at(tag, "envelope", format!("ServiceTag MCM:MIME is `{mime}`, but Data holds {format}")),
        ));
    }
    let bundle = json.as_ref().map(|j| j.xml.clone()).unwrap_or(bundle);
    let kind = match schema::root_of(&bundle) {
        Some(r) if r.local_name == "Bundle" && r.namespace.as_deref() == Some(FHIR) => match bundle_kind(&bundle) {
            Ok(kind) => kind,
            Err(why) => {
                problems.push((Verdict::Unsplit, at(data_el, "envelope", why)));
                return problems;
            }
        },
        _ => {
            problems.push((
                Verdict::Standard,
                at(
                    data_el,
                    "envelope",
                    "Data does not hold a FHIR Bundle (root Bundle, namespace http://hl7.org/fhir)",
                ),
            ));
            return problems;
        }
    };
    let inner = judge(kind, &bundle);
    let (verdicts, inner): (Vec<Verdict>, Vec<Problem>) = inner.into_iter().unzip();
    let inner = match &json {
        Some(j) => j.located(inner),
        None => inner,
    };
    problems.extend(verdicts.into_iter().zip(inner).map(|(v, p)| match p.line {
        Some(line) => (v, at(data_el, "enveloped Bundle", format!("{line}:{}: {}", p.column.unwrap_or(0), p.message))),
        None => (v, at(data_el, "enveloped Bundle", p.message)),
    }));
    let Ok(inner) = Document::parse(&bundle) else { return problems };
    let bundle_id = inner.root().value_at(&["id"]).unwrap_or("");
    for path in [&["EnvelopeIdentifier"][..], &["Message", "MetaInformation", "Identifier"]] {
        if let Some(el) = root.at(path).filter(|el| el.text() != bundle_id) {
            problems.push((
                Verdict::Standard,
                at(el, "MR7", format!("{} `{}` is not the Bundle.id `{bundle_id}`", path.join("/"), el.text())),
            ));
        }
    }
    let expected = match kind {
        MessageKind::Acknowledgement => {
            let code = first_resource(&inner, "MessageHeader").and_then(|h| h.value_at(&["response", "code"]));
            format!("MCM:FCTL#{}", code.unwrap_or(""))
        }
        _ => {
            let category =
                first_resource(&inner, "Communication").and_then(|c| c.value_at(&["category", "coding", "code"]));
            care_communication_name(category.unwrap_or(""))
        }
    };
    if let Some(name) = root.at(&["Message", "MetaInformation", "Document", "Name"]).filter(|n| n.text() != expected) {
        problems.push((
            Verdict::Standard,
            at(
                name,
                "envelope",
                format!("Document/Name `{}` does not match the Bundle: expected `{expected}`", name.text()),
            ),
        ));
    }
    problems
}

fn first_resource<'d>(doc: &'d Document, kind: &str) -> Option<El<'d>> {
    doc.root()
        .children_named("entry")
        .filter_map(|e| e.child("resource").and_then(|r| r.first_child()))
        .find(|r| r.name() == kind)
}
