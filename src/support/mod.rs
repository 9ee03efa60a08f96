//! Helpers with no domain words: files written safely ([`files`]), the clock ([`clock`]),
//! digests ([`digest`]), who is acting ([`person`]), passwords kept as hashes ([`password`])
//! and the masking of CPR-like numbers ([`redact`]).

pub mod clock;
pub mod digest;
pub mod files;
pub mod password;
pub mod person;
pub mod redact;
