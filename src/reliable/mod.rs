//! MedCom's reliable messaging, as pure rules over what the journal knows of one letter
//! ([`history::LetterHistory`]): whether a letter is resent, and when ([`resend`]), what a
//! FHIR Acknowledgement does to the transmission it answers ([`acknowledgement`]), and what an
//! XCTL receipt does to the XDIS91 letter it names ([`receipt`]), and an answer VANS's
//! conversion service leaves in the other format ([`conversion`]). Nothing here reads or writes
//! the journal: the journal loads a letter's history, asks, and applies the answer; `regenerate`
//! asks the same questions of the same history. So each rule is written once, here. What a
//! letter's problem means for a person, a stable cause and an action in words, is [`cause`].
//!
//! The rules, as MedCom's governance states them (the texts are quoted in the research notes
//! `../shared/research/operations-and-certification.md` §2 and `medcom-fhir.md` §3.3):
//! - **043 Reliable Messaging – FHIR**: a sender MAY resend a message when its Acknowledgement
//!   has not come within 30 minutes, and MUST NOT resend it more than 2 times: the default
//!   [`resend::Policy`], which the config's `[resend]` may set to the test protocol's or the
//!   regions' numbers (where the texts disagree). A resend is the same message (the same
//!   `MessageHeader.id`, the letter) with a new `Bundle.id` and timestamp (rule MR7); changed
//!   content is a new message. Re-dispatches are a person's decision (020, 032).
//! - **MR3/MR4, MR5**: a `fatal-error` marks the message failed for good (never resent as it
//!   is: only a corrected letter goes); a `transient-error` asks for a resend within the limit.
//! - **KR1/KR2**: every FHIR message is acknowledged; an Acknowledgement never is.
//! - **020 / 032 Reliable messaging**: a receiver answers a duplicate as it answered the
//!   original and never turns its verdict around, so an answer read before changes nothing and
//!   one that contradicts an earlier answer is reported, not applied. The same holds for the
//!   XDIS91 receipts (XCTL03 positive, XCTL01/02 negative).
//!
//! Where MedCom's texts differ (the rule lists say "x" resends, the certification protocol 3,
//! regional practice 120 minutes), the policy is configurable and defaults to 043's stricter
//! numbers ([`resend::Policy`] cites each).

pub mod acknowledgement;
pub mod cause;
pub mod conversion;
pub mod history;
pub mod receipt;
pub mod resend;
