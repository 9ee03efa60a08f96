//! The rules of MedCom's profiles that no XSD expresses, checked on a parsed document:
//! invariants (FHIRPath constraints, re-implemented with their exact semantics), required
//! slices, fixed/pattern values and required bindings (code lists embedded in
//! [`codes`](crate::formats::fhir::codes)).
//!
//! Semantics follow the HL7 validator, as the research note (fhir-validation.md §6) sets
//! out: an invariant passes only when it evaluates to exactly `true` (an empty result
//! fails); FHIRPath `matches()` is a partial match unless the regex is anchored; `resolve()`
//! finds Bundle entries by `fullUrl` or `Type/id`. Each problem names its rule (the
//! invariant's key, or `slice`/`fixed`/`binding`/`cardinality`) and where it is.
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

#[cfg(test)]
mod tests;
