//! `validate`: what a message file is (by its root element and namespace) and whether it is
//! valid: its bundled schema, and for FHIR the profile rules too.

use crate::formats::fhir;
use crate::model::MessageKind;
use crate::schema::{self, Problem};

/// The verdict on one document: its kind when valid, else every problem found (a document
/// flspost does not recognise is one problem at 1:1).
pub fn validate(bytes: &[u8]) -> Result<MessageKind, Vec<Problem>> {
    let at_start = |message: String| Problem { line: Some(1), column: Some(1), message };
    if schema::is_json(bytes) {
        // FHIR JSON: judged as the FHIR XML it stands for, its problems named by JSON key.
        let j = fhir::json::to_xml(bytes).map_err(|p| vec![p])?;
        let kind = match schema::root_of(&j.xml).and_then(|r| schema::detect(&r)) {
            Some(MessageKind::CareCommunication) => fhir::bundle_kind(&j.xml),
            _ => {
                return Err(vec![at_start(
                    "a FHIR JSON resource flspost does not judge: it knows a Bundle (CareCommunication, \
                     Acknowledgement)"
                        .into(),
                )])
            }
        };
        return fhir::validate(kind, &j.xml).map(|()| kind).map_err(|p| j.located(p));
    }
    if let Some(p) = schema::doctype(bytes) {
        return Err(vec![p]);
    }
    let Some(root) = schema::root_of(bytes) else {
        return Err(vec![at_start("not an XML document (no root element)".into())]);
    };
    let Some(mut kind) = schema::detect(&root) else {
        return Err(vec![at_start(format!(
            "not a message flspost knows: root element `{}` in namespace `{}` (expected XDIS91 Emessage, MeMo \
             Message, a MedCom receipt, a FHIR Bundle or a VANSEnvelope)",
            root.local_name,
            root.namespace.as_deref().unwrap_or("(none)")
        ))]);
    };
    let mut problems = vec![];
    if kind == MessageKind::Memo && root.memo_version.as_deref() != Some("1.2") {
        problems.push(at_start(format!(
            "MeMo version {} message; flspost's schema is MeMo 1.2 (1.1 messages carry memoSchVersion, which 1.2 \
             dropped)",
            root.memo_version.as_deref().unwrap_or("(none)")
        )));
    }
    if kind == MessageKind::CareCommunication {
        kind = fhir::bundle_kind(bytes);
    }
    let verdict = if kind.is_fhir() { fhir::validate(kind, bytes) } else { schema::validate(kind, bytes) };
    if let Err(found) = verdict {
        problems.extend(found);
    }
    if problems.is_empty() {
        Ok(kind)
    } else {
        Err(problems)
    }
}
