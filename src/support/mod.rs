//! Helpers with no domain words: files written safely ([`files`]), the clock ([`clock`]),
//! digests ([`digest`]) and the masking of CPR-like numbers ([`redact`]).

pub mod clock;
pub mod digest;
pub mod files;
pub mod redact;
