//! `validate`: what a message file is (by its root element and namespace) and two verdicts on
//! it: valid to MedCom's standard, and inside flspost's own narrower profile (what flspost
//! writes). A developer holding another system's message learns whether it is wrong, or only
//! unlike flspost's. For FHIR the standard is a schema of MedCom's whole profile plus MedCom's
//! rules (the official R4 XSD too when given); for XDIS91, MedCom's official schema when given.

use crate::formats::fhir;
use crate::model::MessageKind;
use crate::schema::{self, Judged, Problem, Schema, Verdict};
use std::path::Path;

/// The official schemas `validate` was given, each compiled once for all its files.
#[derive(Default)]
pub struct Official {
    /// The FHIR R4 XSDs' `fhir-single.xsd`.
    pub r4: Option<Schema>,
    /// MedCom's XDIS91 `EMessage.xsd` (namespace 2006/07/01).
    pub xdis91: Option<Schema>,
}

/// The file `--schema-dir` must hold: the entry point of the official R4 XSDs.
pub const R4_ENTRY: &str = "fhir-single.xsd";

impl Official {
    /// Compiles the schemas named; the error is the one line to print.
    pub fn load(schema_dir: Option<&Path>, xdis91: Option<&Path>) -> Result<Official, String> {
        let compile = |path: &Path, what: &str| {
            if !path.is_file() {
                return Err(format!("{}: {what}: no such file", path.display()));
            }
            Schema::from_file(path).map_err(|e| {
                let first = e.first().map(|p| p.message.clone()).unwrap_or_default();
                format!("{}: {what}: does not compile: {first}", path.display())
            })
        };
        Ok(Official {
            r4: schema_dir.map(|d| compile(&d.join(R4_ENTRY), "the official R4 schema")).transpose()?,
            xdis91: xdis91.map(|f| compile(f, "MedCom's official XDIS91 schema")).transpose()?,
        })
    }
}

/// The verdicts on one document, and its kind when flspost recognises it.
pub fn validate(bytes: &[u8], official: &mut Official) -> (Option<MessageKind>, Judged) {
    let unsplit = |message: String| Judged {
        problems: vec![(Verdict::Unsplit, Problem { line: Some(1), column: Some(1), message })],
        ..Judged::default()
    };
    if schema::is_json(bytes) {
        // FHIR JSON: judged as the FHIR XML it stands for, its problems named by JSON key.
        let j = match fhir::json::to_xml(bytes) {
            Ok(j) => j,
            Err(p) => return (None, Judged { problems: vec![(Verdict::Unsplit, p)], ..Judged::default() }),
        };
        let kind = match schema::root_of(&j.xml).and_then(|r| schema::detect(&r)) {
            Some(MessageKind::CareCommunication) => match fhir::bundle_kind(&j.xml) {
                Ok(kind) => kind,
                Err(why) => return (None, unsplit(why)),
            },
            _ => {
                return (
                    None,
                    unsplit(
                        "a FHIR JSON resource flspost does not judge: it knows a Bundle (CareCommunication, \
                         Acknowledgement)"
                            .into(),
                    ),
                )
            }
        };
        let mut judged = fhir::judge(kind, &j.xml, official.r4.as_mut());
        judged.problems =
            judged.problems.into_iter().map(|(v, p)| (v, j.located(vec![p]).pop().expect("one in, one out"))).collect();
        return (Some(kind), judged);
    }
    let Some(root) = schema::root_of(bytes) else {
        let judged = match schema::doctype(bytes) {
            Some(p) => Judged { problems: vec![(Verdict::Unsplit, p)], ..Judged::default() },
            None => unsplit("not an XML document (no root element)".into()),
        };
        return (None, judged);
    };
    let Some(mut kind) = schema::detect(&root) else {
        return (
            None,
            unsplit(format!(
                "not a message flspost knows: root element `{}` in namespace `{}` (expected XDIS91 Emessage, \
                 MeMo Message, a MedCom receipt, a FHIR Bundle or a VANSEnvelope)",
                root.local_name,
                root.namespace.as_deref().unwrap_or("(none)")
            )),
        );
    };
    if kind == MessageKind::CareCommunication {
        kind = match fhir::bundle_kind(bytes) {
            Ok(kind) => kind,
            Err(why) => return (None, unsplit(why)),
        };
    }
    if matches!(kind, MessageKind::CareCommunication | MessageKind::Acknowledgement | MessageKind::VansEnvelope) {
        return (Some(kind), fhir::judge(kind, bytes, official.r4.as_mut()));
    }
    let own = kind.bundled_schema().0.to_string();
    if let Some(p) = schema::doctype(bytes) {
        return (Some(kind), Judged { problems: vec![(Verdict::Unsplit, p)], profile_by: own, standard_by: None });
    }
    let mut judged = Judged { profile_by: own, ..Judged::default() };
    if kind == MessageKind::Memo && root.memo_version.as_deref() != Some("1.2") {
        judged.problems.push((
            Verdict::Unsplit,
            Problem {
                line: Some(1),
                column: Some(1),
                message: format!(
                    "MeMo version {} message; flspost's schema is MeMo 1.2 (1.1 messages carry memoSchVersion, \
                     which 1.2 dropped)",
                    root.memo_version.as_deref().unwrap_or("(none)")
                ),
            },
        ));
    }
    // XDIS91: flspost's schema is narrower than MedCom's (its head says how); given MedCom's
    // official one, that judges the standard and flspost's only what the official one passes.
    if let (MessageKind::Xdis91, Some(official)) = (kind, official.xdis91.as_mut()) {
        judged.standard_by = Some("MedCom's official XDIS91 schema".into());
        match official.validate(bytes) {
            Err(found) => judged.problems.extend(found.into_iter().map(|p| (Verdict::Standard, p))),
            Ok(()) => {
                let found = schema::validate(kind, bytes).err().unwrap_or_default();
                judged.problems.extend(found.into_iter().map(|p| (Verdict::Profile, p)));
            }
        }
        return (Some(kind), judged);
    }
    let verdict = if kind.is_fhir() { fhir::validate(kind, bytes) } else { schema::validate(kind, bytes) };
    if let Err(found) = verdict {
        judged.problems.extend(found.into_iter().map(|p| (Verdict::Unsplit, p)));
    }
    (Some(kind), judged)
}
