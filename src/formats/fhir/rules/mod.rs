//! The rules of MedCom's profiles that no XSD expresses, checked on a parsed document:
//! invariants (FHIRPath constraints, re-implemented with their exact semantics), required
//! slices, fixed/pattern values and required bindings (code lists embedded in
//! [`codes`](crate::formats::fhir::codes)).
//!
//! Semantics follow the HL7 validator, as the research note (fhir-validation.md §6) sets
//! out: an invariant passes only when it evaluates to exactly `true` (an empty result
//! fails); FHIRPath `matches()` is a partial match unless the regex is anchored; `resolve()`
//! finds Bundle entries by `fullUrl` or `Type/id`. Each problem names its rule (the
//! invariant's key, or `slice`/`fixed`/`binding`/`cardinality`) and where it is, and counts
//! against MedCom's standard (`Bundle::report`: the profiles' own rules, each citing its
//! source) or only against flspost's narrower profile (`Bundle::report_profile_only`: what
//! MedCom allows and an FLS letter never has), so `validate` can give both verdicts.
//!
//! By resource, in the order the checks run: what every message Bundle shares
//! (`message.rs`), the MessageHeader (`header.rs`), then a CareCommunication's own invariants
//! (`care_communication.rs`) and its Communication, Provenance and Patient; an
//! Acknowledgement's (`acknowledgement.rs`).

mod acknowledgement;
mod care_communication;
mod communication;
mod header;
mod message;
mod patient;
mod provenance;

pub use acknowledgement::acknowledgement;
pub use care_communication::care_communication;
pub(crate) use message::Entries;

use crate::schema::problem::Problem;

/// What the rules found in one Bundle, by the verdict each problem counts against.
#[derive(Debug, Default)]
pub struct Findings {
    /// Against MedCom's standard (and so against flspost's profile too).
    pub standard: Vec<Problem>,
    /// Against flspost's narrower profile only.
    pub profile_only: Vec<Problem>,
}

impl Findings {
    /// Every problem, as flspost's own profile counts them (both kinds).
    pub fn all(self) -> Vec<Problem> {
        let mut all = self.standard;
        all.extend(self.profile_only);
        all
    }
}

#[cfg(test)]
mod tests;
