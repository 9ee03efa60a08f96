//! The resend policy: how long a letter waits for its answer, how many resends MedCom's texts
//! allow, and whether a resend after no answer is made by the timer (`flspost resend-due`) or
//! waits for a person. MedCom's texts disagree (research note
//! `operations-and-certification.md` §2.7), so each number is the config's (`[resend]`), and
//! the default is the strictest reading of each:
//!
//! | source | wait | resends | after no answer |
//! |---|---|---|---|
//! | 020 / 043 Reliable messaging (governance) | 30 min | at most 2 | "always done manually" |
//! | Acknowledgement test protocol (receive) 2.0.4, 3.3.4.1 | 30 min | "maximum of 3 times" | resent (and on AR, 3.3.3.1) |
//! | VANS conversion use cases 3.1.0 §4.5 (the regions' practice) | 120 min | "op til tre gange" | "starte gensendelse" |
//!
//! A `transient-error` (AR) is resent on receipt whatever `unanswered` says: MR5 and the test
//! protocol (3.3.3.1) ask for it, and it is the receiver asking, not a guess from silence.

/// Whether a resend after no answer is made without a person.
#[derive(Clone, Copy, Debug, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Unanswered {
    /// A person decides (`flspost regenerate ID`); `resend-due` only lists what is due.
    Manual,
    /// `flspost resend-due` makes the resend once the wait is over, within the limit.
    Automatic,
}

impl Unanswered {
    pub fn code(self) -> &'static str {
        match self {
            Unanswered::Manual => "manual",
            Unanswered::Automatic => "automatic",
        }
    }
}

/// The resend policy (see the module doc for the sources of each default).
#[derive(Clone, Copy, Debug, PartialEq, Eq, serde::Serialize)]
pub struct Policy {
    /// Minutes after its last hand-over before a letter without an answer counts as unanswered
    /// and may be resent.
    pub after_minutes: u32,
    /// Resends of one message at most (the first transmission not counted).
    pub max_resends: u32,
    /// Whether the resend after no answer is the timer's or a person's.
    pub unanswered: Unanswered,
}

impl Policy {
    /// MedCom's governance (020, 043): the strictest; flspost's default.
    pub const GOVERNANCE: Policy = Policy { after_minutes: 30, max_resends: 2, unanswered: Unanswered::Manual };
    /// MedCom's Acknowledgement test protocol (receive) 2.0.4, 3.3.3.1 and 3.3.4.1.
    pub const CERTIFICATION: Policy = Policy { after_minutes: 30, max_resends: 3, unanswered: Unanswered::Automatic };
    /// The regions' practice as the VANS conversion use cases (3.1.0, §4.5) record it.
    pub const REGION: Policy = Policy { after_minutes: 120, max_resends: 3, unanswered: Unanswered::Automatic };

    /// The wait as a duration.
    pub fn wait(&self) -> chrono::Duration {
        chrono::Duration::minutes(i64::from(self.after_minutes))
    }

    /// The policy a named preset stands for (`governance`, `certification`, `region`).
    pub fn preset(name: &str) -> Option<Policy> {
        match name {
            "governance" => Some(Policy::GOVERNANCE),
            "certification" => Some(Policy::CERTIFICATION),
            "region" => Some(Policy::REGION),
            _ => None,
        }
    }
}

impl Default for Policy {
    fn default() -> Self {
        Policy::GOVERNANCE
    }
}
