//! What the letters say, apart from the wire formats that carry them.
//!
//! The wording lives in template files (MiniJinja, plain text), one per group and reader,
//! shipped in the binary from `templates/` and overridable file by file from a folder named
//! in the config. A rendered template's first line is the subject; the rest is the body,
//! where a blank line starts a new paragraph and a single newline is a line break.
//! [`LetterText`] is that result: the XDIS91 writer, the PDF and (later) FHIR
//! CareCommunication all render it their own way.

mod context;

pub mod error;

use crate::model::Addressee;
use crate::model::{FlsResult, Group};
use chrono::NaiveDate;
pub use error::TemplateError;
use minijinja::{syntax::SyntaxConfig, Environment, UndefinedBehavior};
use std::collections::BTreeSet;
use std::path::{Path, PathBuf};

pub use context::{danish_date, KNOWN_FIELDS};

/// The work one rendering may do (MiniJinja's fuel: about one unit per instruction and per
/// 64 bytes of data made). The shipped templates use under 200; a hospital's template that
/// loops or repeats without bound (`{{ "x" * 100000000 }}`, nested loops) stops here, in
/// milliseconds, with an error naming it.
pub(crate) const TEMPLATE_FUEL: u64 = 100_000;
/// The largest template file a folder may hold.
pub(crate) const TEMPLATE_MAX_BYTES: u64 = 64 << 10;
/// The most characters a patient letter (subject and body) may have: some six pages.
pub(crate) const PATIENT_LETTER_MAX_CHARS: usize = 20_000;
/// The most characters a GP letter may have: XDIS91's ten text blocks of 3,150.
pub(crate) const GP_LETTER_MAX_CHARS: usize = 31_500;

/// The shipped templates: name and text.
const SHIPPED: &[(&str, &str)] = &[
    ("patient-1.txt", include_str!("../../templates/patient-1.txt")),
    ("patient-2a.txt", include_str!("../../templates/patient-2a.txt")),
    ("patient-2b.txt", include_str!("../../templates/patient-2b.txt")),
    ("patient-3.txt", include_str!("../../templates/patient-3.txt")),
    ("signature.txt", include_str!("../../templates/signature.txt")),
    ("gp-1.txt", include_str!("../../templates/gp-1.txt")),
    ("gp-2a.txt", include_str!("../../templates/gp-2a.txt")),
    ("gp-2b.txt", include_str!("../../templates/gp-2b.txt")),
    ("gp-3.txt", include_str!("../../templates/gp-3.txt")),
    ("gp-common.txt", include_str!("../../templates/gp-common.txt")),
    ("gp-signature.txt", include_str!("../../templates/gp-signature.txt")),
    ("notification.txt", include_str!("../../templates/notification.txt")),
];

/// A rendered letter: a subject and paragraphs of lines.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct LetterText {
    pub subject: String,
    pub paragraphs: Vec<Vec<String>>,
    /// Where the sign-off starts: the letter's last paragraphs are what `signature.txt`
    /// rendered (the patient letter tags them as its signature). `None` when a template
    /// does not end with it.
    pub signature_start: Option<usize>,
    /// The template it came from (`patient-2a.txt`), for errors about its text.
    pub template: String,
}

/// Lines into paragraphs: a blank line ends one.
fn paragraphs<'a>(lines: impl Iterator<Item = &'a str>) -> Vec<Vec<String>> {
    let mut paragraphs: Vec<Vec<String>> = vec![];
    let mut current: Vec<String> = vec![];
    for line in lines.map(str::trim_end) {
        if line.trim().is_empty() {
            if !current.is_empty() {
                paragraphs.push(std::mem::take(&mut current));
            }
        } else {
            current.push(line.to_string());
        }
    }
    if !current.is_empty() {
        paragraphs.push(current);
    }
    paragraphs
}

impl LetterText {
    fn from_rendered(template: &str, text: &str) -> LetterText {
        let mut lines = text.lines().map(str::trim_end).skip_while(|l| l.trim().is_empty());
        let subject = lines.next().unwrap_or_default().trim().to_string();
        LetterText { subject, paragraphs: paragraphs(lines), signature_start: None, template: template.to_string() }
    }

    /// The body before the signature.
    pub fn main_paragraphs(&self) -> &[Vec<String>] {
        &self.paragraphs[..self.signature_start.unwrap_or(self.paragraphs.len())]
    }

    /// The signature's paragraphs (empty when there is none).
    pub fn signature(&self) -> &[Vec<String>] {
        &self.paragraphs[self.signature_start.unwrap_or(self.paragraphs.len())..]
    }

    /// Characters in the subject and the body.
    pub fn chars(&self) -> usize {
        self.subject.chars().count() + self.paragraphs.iter().flatten().map(|l| l.chars().count()).sum::<usize>()
    }

    /// The body as plain text (paragraphs separated by a blank line).
    pub(crate) fn body_text(&self) -> String {
        self.paragraphs.iter().map(|p| p.join("\n")).collect::<Vec<_>>().join("\n\n")
    }
}

/// The loaded, checked templates. Load once per process and share: rendering is cheap.
pub struct Letters {
    env: Environment<'static>,
}

impl Letters {
    /// The shipped wording.
    pub fn shipped() -> Letters {
        Self::load(None).expect("shipped templates are checked by the tests")
    }

    /// The shipped wording with any same-named file in `override_dir` taking its place.
    /// Every template is compiled and checked for unknown fields now, not at first use.
    pub fn load(override_dir: Option<&Path>) -> Result<Letters, TemplateError> {
        let mut env = Environment::new();
        env.set_syntax(SyntaxConfig::builder().trim_blocks(true).lstrip_blocks(true).build().expect("static syntax"));
        env.set_undefined_behavior(UndefinedBehavior::Strict);
        env.set_fuel(Some(TEMPLATE_FUEL));
        let mut origins = vec![];
        for (name, shipped) in SHIPPED {
            // symlink_metadata: a link (even a dangling one) is there, and refused below.
            let (source, origin) = match override_dir.map(|d| d.join(name)).filter(|p| p.symlink_metadata().is_ok()) {
                Some(path) => {
                    let text = read_template(&path).map_err(|reason| TemplateError {
                        name: name.to_string(),
                        origin: path.display().to_string(),
                        reason,
                    })?;
                    (text, path.display().to_string())
                }
                None => (shipped.to_string(), "shipped".to_string()),
            };
            env.add_template_owned(name.to_string(), source).map_err(|e| TemplateError {
                name: name.to_string(),
                origin: origin.clone(),
                reason: e.to_string(),
            })?;
            origins.push((*name, origin));
        }
        let known: BTreeSet<&str> = KNOWN_FIELDS.iter().copied().collect();
        for (name, origin) in origins {
            let tmpl = env.get_template(name).expect("just added");
            let mut unknown: Vec<String> =
                tmpl.undeclared_variables(true).into_iter().filter(|v| !known.contains(v.as_str())).collect();
            unknown.sort();
            if let Some(first) = unknown.first() {
                return Err(TemplateError {
                    name: name.to_string(),
                    origin,
                    reason: format!("unknown field `{first}`; the known fields are: {}", KNOWN_FIELDS.join(", ")),
                });
            }
        }
        if let Some(dir) = override_dir {
            check_no_strays(dir)?;
        }
        Ok(Letters { env })
    }

    /// The letter for `reader`, dated `letter_date` (Danish local date).
    pub fn render(
        &self,
        reader: Addressee,
        result: &FlsResult,
        letter_date: NaiveDate,
    ) -> Result<LetterText, TemplateError> {
        self.render_letter(reader, result, letter_date, false)
    }

    /// [`Letters::render`] for a first letter or, with `corrected`, one that corrects a
    /// letter already sent (the templates' `corrected`).
    pub(crate) fn render_letter(
        &self,
        reader: Addressee,
        result: &FlsResult,
        letter_date: NaiveDate,
        corrected: bool,
    ) -> Result<LetterText, TemplateError> {
        let name = template_name(reader, result.group);
        let text = self.render_named(&name, result, letter_date, corrected)?;
        let mut letter = LetterText::from_rendered(&name, &text);
        if reader == Addressee::Patient {
            let signature = paragraphs(self.render_named("signature.txt", result, letter_date, corrected)?.lines());
            if !signature.is_empty() && letter.paragraphs.ends_with(&signature) {
                letter.signature_start = Some(letter.paragraphs.len() - signature.len());
            }
        }
        let rendered = |reason: String| TemplateError { name: name.clone(), origin: "rendered".into(), reason };
        if letter.subject.is_empty() || letter.paragraphs.is_empty() {
            return Err(rendered("must render a subject line and a body".into()));
        }
        let (max, whose) = match reader {
            Addressee::Patient => (PATIENT_LETTER_MAX_CHARS, "a patient letter"),
            Addressee::Gp => (GP_LETTER_MAX_CHARS, "a GP letter"),
        };
        if letter.chars() > max {
            return Err(rendered(format!("renders {} characters; {whose} may have at most {max}", letter.chars())));
        }
        Ok(letter)
    }

    /// The short notification text Digital Post shows (one line).
    pub fn notification(&self, result: &FlsResult, letter_date: NaiveDate) -> Result<String, TemplateError> {
        let text = self.render_named("notification.txt", result, letter_date, false)?;
        Ok(text.split_whitespace().collect::<Vec<_>>().join(" "))
    }

    fn render_named(
        &self,
        name: &str,
        result: &FlsResult,
        letter_date: NaiveDate,
        corrected: bool,
    ) -> Result<String, TemplateError> {
        let tmpl = self.env.get_template(name).expect("all names are loaded");
        tmpl.render(context::build(result, letter_date, corrected)).map_err(|e| TemplateError {
            name: name.to_string(),
            origin: "rendering".into(),
            reason: match e.kind() {
                minijinja::ErrorKind::OutOfFuel => format!(
                    "does more work than a letter template may (fuel {TEMPLATE_FUEL}): a loop or repetition too large"
                ),
                _ => e.to_string(),
            },
        })
    }
}

/// A template file from a hospital's folder: a regular file, not a symbolic link (which
/// could point anywhere, or at something that never ends), of at most TEMPLATE_MAX_BYTES.
fn read_template(path: &Path) -> Result<String, String> {
    use crate::support::files::NotRead;
    let bytes = crate::support::files::read_regular_file(path, TEMPLATE_MAX_BYTES).map_err(|e| match e {
        NotRead::Link => "is a symbolic link; templates are read only from regular files in the folder".to_string(),
        NotRead::TooLong => format!("is longer than {} KiB, the limit for a template", TEMPLATE_MAX_BYTES >> 10),
        e => e.to_string(),
    })?;
    String::from_utf8(bytes).map_err(|_| "is not UTF-8 text".to_string())
}

fn template_name(reader: Addressee, group: Group) -> String {
    let who: &str = reader.into();
    format!("{who}-{}.txt", group.code())
}

/// A file in the override folder that matches no template is almost certainly a typo
/// (`patient-2A.txt`), which would otherwise silently keep the shipped wording. A symbolic
/// link, whatever its name, is refused.
fn check_no_strays(dir: &Path) -> Result<(), TemplateError> {
    let entries = std::fs::read_dir(dir).map_err(|e| TemplateError {
        name: "(folder)".into(),
        origin: dir.display().to_string(),
        reason: e.to_string(),
    })?;
    for entry in entries.flatten() {
        let file = entry.file_name().to_string_lossy().to_string();
        if entry.file_type().is_ok_and(|t| t.is_symlink()) {
            return Err(TemplateError {
                name: file,
                origin: PathBuf::from(dir).display().to_string(),
                reason: "is a symbolic link; templates are read only from regular files in the folder".into(),
            });
        }
        if file.ends_with(".txt") && !SHIPPED.iter().any(|(n, _)| *n == file) {
            return Err(TemplateError {
                name: file,
                origin: PathBuf::from(dir).display().to_string(),
                reason: format!(
                    "is not a template flspost knows; expected one of {}",
                    SHIPPED.iter().map(|(n, _)| *n).collect::<Vec<_>>().join(", ")
                ),
            });
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests;
