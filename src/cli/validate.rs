//! `flspost validate FILE...`: each file's type is recognised by its root element and
//! namespace and judged twice where flspost can: valid to MedCom's standard, and inside
//! flspost's own narrower profile. Each problem is printed as `FILE:LINE:COL: [VERDICT] message`
//! (or, with `--json`, one JSON line per file); the exit code says which verdict failed.

use flspost::app::validate::{validate, Official};
use flspost::error::{Error, Result};
use flspost::schema::{Judged, Verdict};
use std::path::PathBuf;

#[derive(clap::Args)]
pub struct Args {
    /// Message files: XDIS91, MeMo, MedCom receipts, FHIR CareCommunications and
    /// Acknowledgements (XML or JSON), VANSEnvelopes.
    #[arg(required = true, value_name = "FILE")]
    files: Vec<PathBuf>,
    /// One JSON line per file (schemas/json/validate.schema.json).
    #[arg(long)]
    json: bool,
    /// A folder holding the official FHIR R4 XSDs (fhir-single.xsd): MedCom's standard is then
    /// judged by them too, beside flspost's schema of the whole profile.
    #[arg(long, value_name = "DIR")]
    schema_dir: Option<PathBuf>,
    /// MedCom's official XDIS91 EMessage.xsd (2006/07/01): XDIS91 files get both verdicts.
    #[arg(long, value_name = "FILE")]
    xdis91_schema: Option<PathBuf>,
}

pub fn run(args: Args) -> Result<i32> {
    let mut official = Official::load(args.schema_dir.as_deref(), args.xdis91_schema.as_deref())
        .map_err(|reason| Error::Usage(super::shown(&reason)))?;
    let mut code = 0;
    for path in &args.files {
        let bytes = match flspost::schema::read_message(path) {
            Ok(b) => b,
            Err(line) => {
                errln!("flspost: {}", super::shown(&line));
                code = worse(code, 1);
                continue;
            }
        };
        let (kind, judged) = validate(&bytes, &mut official);
        let exit = judged.exit_code();
        code = worse(code, exit);
        if args.json {
            outln!("{}", json_line(path, kind, &judged, exit));
        } else {
            text(path, kind, &judged);
        }
    }
    Ok(code)
}

/// Of two exit codes, the one that says more is wrong: 1 (invalid) over 4 (outside flspost's
/// profile only) over 0.
fn worse(a: i32, b: i32) -> i32 {
    let rank = |c: i32| match c {
        0 => 0,
        4 => 1,
        _ => 2,
    };
    if rank(b) > rank(a) {
        b
    } else {
        a
    }
}

fn text(path: &std::path::Path, kind: Option<flspost::model::MessageKind>, judged: &Judged) {
    for (verdict, p) in &judged.problems {
        let tag = match verdict {
            Verdict::Unsplit => String::new(),
            v => format!("[{}] ", v.name()),
        };
        // A FHIR JSON document's problems are named by their JSON key, not a line.
        let at = if p.line.is_none() {
            format!("{}: {tag}{}", path.display(), p.message)
        } else {
            format!("{}:{}:{}: {tag}{}", path.display(), p.line.unwrap_or(0), p.column.unwrap_or(0), p.message)
        };
        // libxml2 quotes the offending value, which can be a (malformed) CPR number.
        outln!("{}", super::shown(&at));
    }
    let Some(kind) = kind else { return };
    let file = path.display();
    match (&judged.standard_by, judged.standard_valid(), judged.profile_valid()) {
        (None, _, true) => outln!("{file}: valid {} ({})", kind.name(), kind.bundled_schema().0),
        (None, _, false) => {}
        (Some(by), _, true) => outln!(
            "{file}: valid {}: to MedCom's standard ({by}) and to flspost's profile ({})",
            kind.name(),
            judged.profile_by
        ),
        (Some(by), Some(true), false) => outln!(
            "{file}: {} valid to MedCom's standard ({by}), outside flspost's profile ({}): {} [profile] problems",
            kind.name(),
            judged.profile_by,
            judged.problems.len()
        ),
        (Some(by), _, false) => {
            let count = |of: Verdict| judged.problems.iter().filter(|(v, _)| *v == of).count();
            // Unsplit ones (flspost's envelope schema) count against it too: say so.
            let unsplit = match count(Verdict::Unsplit) {
                0 => String::new(),
                n => format!(" and {n} found by flspost's schema alone"),
            };
            outln!(
                "{file}: {} invalid to MedCom's standard ({by}): {} [standard] problems{unsplit}",
                kind.name(),
                count(Verdict::Standard)
            )
        }
    }
}

fn json_line(
    path: &std::path::Path,
    kind: Option<flspost::model::MessageKind>,
    judged: &Judged,
    exit: i32,
) -> serde_json::Value {
    let problems: Vec<serde_json::Value> = judged
        .problems
        .iter()
        .map(
            |(v, p)| serde_json::json!({"verdict": v.name(), "line": p.line, "column": p.column, "message": p.message}),
        )
        .collect();
    let mut line = serde_json::json!({
        "file": path.display().to_string(),
        "kind": kind.map(|k| k.name()),
        "standard": {"valid": judged.standard_valid(), "judged_by": judged.standard_by},
        "profile": {"valid": judged.profile_valid(), "judged_by": kind.map(|_| judged.profile_by.clone())},
        "problems": problems,
        "exit_code": exit,
    });
    flspost::support::redact::redact_cpr_like_json(&mut line);
    line
}
