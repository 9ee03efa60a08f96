//! The vocabulary at the bottom of the crate, importing nothing above it: the checked
//! result ([`result`]) and the words for letters and messages ([`letter`]).

pub mod letter;
pub mod result;

pub use letter::{Addressee, Format, Kind, LetterStatus};
pub use result::*;
