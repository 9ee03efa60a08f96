//! A FHIR document judged whole: flspost's own schema for its kind, then the profile rules
//! no XSD expresses, problems sorted by position and capped; and, for `validate`, the same
//! judged twice ([`judge`]): by MedCom's standard and by flspost's narrower profile.

use super::{dom, rules, vans};
use crate::model::MessageKind;
use crate::schema::{self, Judged, Problem, Schema, Verdict};

/// Validates a FHIR document flspost knows: its own schema for `kind`, then the rules no
/// XSD expresses. Every problem is returned (schema ones first), each with its position.
pub fn validate(kind: MessageKind, bytes: &[u8]) -> Result<(), Vec<Problem>> {
    // Refused before anything reads it (see `schema::doctype`); an enveloped Bundle too.
    if let Some(p) = schema::doctype(bytes) {
        return Err(vec![p]);
    }
    let mut problems = schema::validate(kind, bytes).err().unwrap_or_default();
    // The rules read the document themselves; a document libxml2 cannot parse is reported
    // once, by the schema step. One libxml2 reads and the rules' reader cannot is refused
    // all the same: a document the rules did not see is never "valid".
    match dom::Document::parse(bytes) {
        Ok(doc) => problems.extend(match kind {
            MessageKind::CareCommunication => rules::care_communication(&doc).all(),
            MessageKind::Acknowledgement => rules::acknowledgement(&doc).all(),
            MessageKind::VansEnvelope => vans::check(&doc, |kind, bundle| {
                validate(kind, bundle).err().unwrap_or_default().into_iter().map(|p| (Verdict::Unsplit, p)).collect()
            })
            .into_iter()
            .map(|(_, p)| p)
            .collect(),
            _ => vec![],
        }),
        Err(e) if problems.is_empty() => problems.push(Problem {
            line: None,
            column: None,
            message: format!("flspost cannot read the document for its profile checks: {e}"),
        }),
        Err(_) => {}
    }
    if problems.is_empty() {
        Ok(())
    } else {
        problems.sort_by_key(|p| (p.line.unwrap_or(0), p.column.unwrap_or(0)));
        cap(&mut problems);
        Err(problems)
    }
}

/// Judges a CareCommunication or an Acknowledgement twice. MedCom's standard: the schema of
/// its whole standard (`flspost-fhir-standard.xsd`; with `official_r4`, the official R4 XSD
/// too, whose problems replace its own on the same line) and the rules that are MedCom's.
/// flspost's profile: its own schema for `kind` and the rules that are only flspost's. The own
/// schema judges only a document the standard's schema passes: otherwise it would name the same
/// fault again, in its narrower words. A VANSEnvelope is judged as its Bundle is
/// ([`judge_envelope`]); other kinds are judged once ([`validate`], unsplit).
pub fn judge(kind: MessageKind, bytes: &[u8], official_r4: Option<&mut Schema>) -> Judged {
    let (own, _) = kind.bundled_schema();
    let mut judged = Judged { profile_by: format!("{own} and flspost's rules"), ..Judged::default() };
    if kind == MessageKind::VansEnvelope {
        return judge_envelope(bytes, official_r4);
    }
    if !matches!(kind, MessageKind::CareCommunication | MessageKind::Acknowledgement) {
        judged.problems =
            validate(kind, bytes).err().unwrap_or_default().into_iter().map(|p| (Verdict::Unsplit, p)).collect();
        return judged;
    }
    let standard_schema = schema::cache::STANDARD_FHIR.0;
    judged.standard_by = Some(match official_r4 {
        Some(_) => format!("the official R4 schema, {standard_schema} and MedCom's rules"),
        None => format!("{standard_schema} and MedCom's rules"),
    });
    if let Some(p) = schema::doctype(bytes) {
        judged.problems.push((Verdict::Standard, p));
        return judged;
    }
    let mut standard = schema::with_validator(|v| v.validate_standard_fhir(bytes)).err().unwrap_or_default();
    if let Some(r4) = official_r4 {
        let official = r4.validate(bytes).err().unwrap_or_default();
        standard.retain(|p| !official.iter().any(|o| o.line == p.line));
        standard.extend(official);
    }
    let mut profile =
        if standard.is_empty() { schema::validate(kind, bytes).err().unwrap_or_default() } else { vec![] };
    match dom::Document::parse(bytes) {
        Ok(doc) => {
            let found = match kind {
                MessageKind::CareCommunication => rules::care_communication(&doc),
                _ => rules::acknowledgement(&doc),
            };
            standard.extend(found.standard);
            profile.extend(found.profile_only);
        }
        Err(e) if standard.is_empty() => standard.push(Problem {
            line: None,
            column: None,
            message: format!("flspost cannot read the document for its profile checks: {e}"),
        }),
        Err(_) => {}
    }
    let mut all: Vec<(Verdict, Problem)> = standard.into_iter().map(|p| (Verdict::Standard, p)).collect();
    all.extend(profile.into_iter().map(|p| (Verdict::Profile, p)));
    all.sort_by_key(|(v, p)| (p.line.unwrap_or(0), p.column.unwrap_or(0), *v != Verdict::Standard));
    capped(&mut all);
    judged.problems = all;
    judged
}

/// A VANSEnvelope judged twice: the Bundle it carries by [`judge`], each of its problems
/// keeping its verdict (a Bundle valid to MedCom's standard and outside flspost's profile
/// leaves the envelope so too), and the envelope's own rules (MR7, the Name, the size) against
/// the standard. flspost's envelope schema is the only one it has, narrower than VANS's (fixed
/// values): what it finds is unsplit.
fn judge_envelope(bytes: &[u8], mut official_r4: Option<&mut Schema>) -> Judged {
    let kind = MessageKind::VansEnvelope;
    let standard_schema = schema::cache::STANDARD_FHIR.0;
    let r4 = if official_r4.is_some() { "the official R4 schema, " } else { "" };
    let mut judged = Judged {
        profile_by: format!(
            "{} and flspost's rules, for the Bundle flspost's schema of its kind",
            kind.bundled_schema().0
        ),
        standard_by: Some(format!("MedCom's envelope rules, for the Bundle {r4}{standard_schema} and MedCom's rules")),
        problems: vec![],
    };
    if let Some(p) = schema::doctype(bytes) {
        judged.problems.push((Verdict::Standard, p));
        return judged;
    }
    let mut all: Vec<(Verdict, Problem)> =
        schema::validate(kind, bytes).err().unwrap_or_default().into_iter().map(|p| (Verdict::Unsplit, p)).collect();
    match dom::Document::parse(bytes) {
        Ok(doc) => {
            all.extend(vans::check(&doc, |kind, bundle| judge(kind, bundle, official_r4.as_deref_mut()).problems))
        }
        Err(e) if all.is_empty() => all.push((
            Verdict::Unsplit,
            Problem { line: None, column: None, message: format!("flspost cannot read the envelope: {e}") },
        )),
        Err(_) => {}
    }
    all.sort_by_key(|(v, p)| (p.line.unwrap_or(0), p.column.unwrap_or(0), *v != Verdict::Standard));
    capped(&mut all);
    judged.problems = all;
    judged
}

/// [`cap`] for judged problems: the summary line counts against the standard if any of the
/// rest does, else against the profile if all of them do, else it is unsplit.
fn capped(all: &mut Vec<(Verdict, Problem)>) {
    if all.len() <= MAX_PROBLEMS {
        return;
    }
    let mut shown: Vec<Problem> = all.iter().map(|(_, p)| p.clone()).collect();
    cap(&mut shown);
    let summary = shown.pop().expect("capped");
    let rest = &all[MAX_PROBLEMS..];
    let verdict = if rest.iter().any(|(v, _)| *v == Verdict::Standard) {
        Verdict::Standard
    } else if rest.iter().all(|(v, _)| *v == Verdict::Profile) {
        Verdict::Profile
    } else {
        Verdict::Unsplit
    };
    all.truncate(MAX_PROBLEMS);
    all.push((verdict, summary));
}

/// The most problems reported of one document: a hostile or broken one can have tens of
/// thousands, and the first ones say what is wrong.
pub const MAX_PROBLEMS: usize = 100;

/// Keeps the first [`MAX_PROBLEMS`] (sorted by position) and, in place of the rest, one line
/// at the first of them saying how many there are.
fn cap(problems: &mut Vec<Problem>) {
    if problems.len() <= MAX_PROBLEMS {
        return;
    }
    let more = problems.len() - MAX_PROBLEMS;
    let next = &problems[MAX_PROBLEMS];
    let summary = Problem {
        line: next.line,
        column: next.column,
        message: format!("... and {more} more problems not shown (flspost stops after {MAX_PROBLEMS})"),
    };
    problems.truncate(MAX_PROBLEMS);
    problems.push(summary);
}
