//! The vocabulary at the bottom of the crate, importing nothing above it (only
//! [`crate::support`]'s masking): the checked result ([`result`]), Danish identifiers
//! ([`identifiers`]), the words for letters and messages ([`letter`], [`message_kind`]), the
//! roll-out policy ([`policy`]) and warnings ([`warning`]).

pub mod identifiers;
pub mod letter;
pub mod message_kind;
pub mod policy;
pub mod result;
pub mod status;
pub mod warning;

pub use letter::{Addressee, GpFormat, Kind, LetterStatus};
pub use message_kind::MessageKind;
pub use result::*;
pub use status::Status;
pub use warning::Warning;
