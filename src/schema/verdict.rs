//! The two verdicts `validate` gives a message another system wrote: is it valid to MedCom's
//! standard, and does it fit flspost's own narrower profile (what flspost writes)? A message
//! can be the first and not the second; then it is no less valid, only unlike flspost's.

use super::problem::Problem;

/// Which verdict a problem counts against.
#[derive(Clone, Copy, Debug, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Verdict {
    /// Invalid to MedCom's standard (and so outside flspost's profile too).
    Standard,
    /// Valid to the standard as far as this goes, outside flspost's narrower profile only.
    Profile,
    /// Found by flspost's schema for a kind whose standard flspost does not judge apart (no
    /// schema of the whole standard bundled or given): it may or may not break the standard.
    Unsplit,
}

impl Verdict {
    /// The word the text output and the JSON give it.
    pub fn name(self) -> &'static str {
        match self {
            Verdict::Standard => "standard",
            Verdict::Profile => "profile",
            Verdict::Unsplit => "unsplit",
        }
    }
}

/// One document judged: its problems, each with its verdict, and what judged each verdict.
#[derive(Clone, Debug, Default)]
pub struct Judged {
    pub problems: Vec<(Verdict, Problem)>,
    /// What judged the standard (`None`: not judged apart from flspost's profile).
    pub standard_by: Option<String>,
    /// What judged flspost's profile (the bundled schema, and for FHIR its rules).
    pub profile_by: String,
}

impl Judged {
    /// Valid to MedCom's standard: `None` when the standard was not judged apart.
    pub fn standard_valid(&self) -> Option<bool> {
        self.standard_by.as_ref()?;
        Some(!self.problems.iter().any(|(v, _)| matches!(v, Verdict::Standard | Verdict::Unsplit)))
    }

    /// Inside flspost's profile (and so valid to the standard).
    pub fn profile_valid(&self) -> bool {
        self.problems.is_empty()
    }

    /// `validate`'s exit code: 0 valid to both; 4 valid to the standard, outside flspost's
    /// profile; 1 invalid to the standard, or invalid where the standard was not judged apart.
    pub fn exit_code(&self) -> i32 {
        match (self.standard_valid(), self.profile_valid()) {
            (_, true) => 0,
            (Some(true), false) => 4,
            _ => 1,
        }
    }
}
