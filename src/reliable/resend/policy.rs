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
//!
//! An XDIS91 letter is never resent by the timer, and whether a missing positive XCTL is news
//! for a person is [`Xdis91Positive`] (the texts disagree there too; see it).

/// Whether an XDIS91 letter without a positive receipt (XCTL03) waits for one. MedCom's texts
/// disagree: 020 Reliable Messaging, Scenario #1, says a receiving system "SHALL always send a
/// positive acknowledgement" when asked (flspost asks: `pluspositivkvitt`), and the regions
/// "opfatte afsendelsen som fejlet" without a receipt after 120 minutes (VANS conversion use
/// cases 3.1.0 §4.5.1); but 020 also says there has been "no requirement to use positive
/// acknowledgements for some of MedComs old Messaging Standards", so a sender "may therefore
/// experience that there is no acknowledgement", and the use cases (§1.4.2.1) that "Praksis i
/// dag er flere steder, at der ikke returneres en positiv kvittering ..., selvom der anmodes
/// om en". Either way a missing XCTL03 is no failure: the letter stays `sent`, nothing resends
/// it (020: "not recommended to make program logic that sends messages"); the setting says
/// whether a person is told.
#[derive(Clone, Copy, Debug, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Xdis91Positive {
    /// The stricter reading, the default: after the wait an XDIS91 letter without any receipt
    /// is unanswered (`journal list --unanswered`, the work queue as `unanswered_xdis91`).
    Expected,
    /// Many GP systems send none: an XDIS91 letter without a receipt waits for nothing, and
    /// only a negative receipt (XCTL01/02) puts it in front of a person.
    Optional,
}

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
    /// Whether an XDIS91 letter without a positive receipt counts as unanswered.
    pub xdis91_positive: Xdis91Positive,
}

impl Policy {
    /// MedCom's governance (020, 043): the strictest; flspost's default.
    pub const GOVERNANCE: Policy = Policy {
        after_minutes: 30,
        max_resends: 2,
        unanswered: Unanswered::Manual,
        xdis91_positive: Xdis91Positive::Expected,
    };
    /// MedCom's Acknowledgement test protocol (receive) 2.0.4, 3.3.3.1 and 3.3.4.1 (it is about
    /// FHIR: XDIS91 keeps the stricter reading).
    pub const CERTIFICATION: Policy = Policy {
        after_minutes: 30,
        max_resends: 3,
        unanswered: Unanswered::Automatic,
        xdis91_positive: Xdis91Positive::Expected,
    };
    /// The regions' practice as the VANS conversion use cases (3.1.0, §4.5) record it: no
    /// receipt after 120 minutes is a failed sending.
    pub const REGION: Policy = Policy {
        after_minutes: 120,
        max_resends: 3,
        unanswered: Unanswered::Automatic,
        xdis91_positive: Xdis91Positive::Expected,
    };

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
