//! `flspost validate FILE...`: each file's type is recognised by its root element and
//! namespace and checked against the bundled schema; each problem is printed as
//! `FILE:LINE:COL: message`.

use flspost::error::Result;
use flspost::schema::{self, MessageKind};
use std::path::PathBuf;

#[derive(clap::Args)]
pub struct Args {
    /// Message files: XDIS91, MeMo, MedCom receipts, FHIR CareCommunications and
    /// Acknowledgements, VANSEnvelopes.
    #[arg(required = true, value_name = "FILE")]
    files: Vec<PathBuf>,
}

/// The verdict on one file: `Ok(kind)` when valid, else the lines to print.
pub fn check(path: &std::path::Path, bytes: &[u8]) -> std::result::Result<MessageKind, Vec<String>> {
    let name = path.display();
    if schema::is_json(bytes) {
        return Err(vec![format!(
            "{name}:1:1: a JSON document, not XML: flspost reads FHIR XML (and MedCom's XML messages); FHIR JSON is \
             not supported yet"
        )]);
    }
    if let Some(p) = schema::doctype(bytes) {
        return Err(vec![format!("{name}:{p}")]);
    }
    let Some(root) = schema::root_of(bytes) else {
        return Err(vec![format!("{name}:1:1: not an XML document (no root element)")]);
    };
    let Some(mut kind) = schema::detect(&root) else {
        return Err(vec![format!(
            "{name}:1:1: not a message flspost knows: root element `{}` in namespace `{}` (expected XDIS91 Emessage, MeMo Message, a MedCom receipt, a FHIR Bundle or a VANSEnvelope)",
            root.local_name,
            root.namespace.as_deref().unwrap_or("(none)")
        )]);
    };
    let mut lines = vec![];
    if kind == MessageKind::Memo && root.memo_version.as_deref() != Some("1.2") {
        lines.push(format!(
            "{name}:1:1: MeMo version {} message; flspost's schema is MeMo 1.2 (1.1 messages carry memoSchVersion, which 1.2 dropped)",
            root.memo_version.as_deref().unwrap_or("(none)")
        ));
    }
    if kind == MessageKind::CareCommunication {
        kind = flspost::formats::fhir::bundle_kind(bytes);
    }
    let verdict =
        if kind.is_fhir() { flspost::formats::fhir::validate(kind, bytes) } else { schema::validate(kind, bytes) };
    match verdict {
        Ok(()) if lines.is_empty() => Ok(kind),
        Ok(()) => Err(lines),
        Err(problems) => {
            lines.extend(problems.iter().map(|p| format!("{name}:{p}")));
            Err(lines)
        }
    }
}

pub fn run(args: Args) -> Result<i32> {
    let mut code = 0;
    for path in &args.files {
        let bytes = match flspost::schema::read_message(path) {
            Ok(b) => b,
            Err(line) => {
                errln!("flspost: {}", super::shown(&line));
                code = code.max(1);
                continue;
            }
        };
        match check(path, &bytes) {
            Ok(kind) => outln!("{}: valid {} ({})", path.display(), kind.name(), kind.bundled_schema().0),
            Err(lines) => {
                // libxml2 quotes the offending value, which can be a (malformed) CPR number.
                for l in lines {
                    outln!("{}", super::shown(&l));
                }
                code = code.max(1);
            }
        }
    }
    Ok(code)
}
