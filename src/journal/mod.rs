//! The journal: an embedded SQLite database of every input, every message built from it
//! (with its exact bytes), every send attempt and every receipt or FHIR Acknowledgement.
//!
//! It is the source of truth for support staff and for `send`: a message is sent from
//! the bytes stored here, never rebuilt on the way. Rows are never deleted, and every
//! change of state happens inside one transaction, so a killed process leaves the journal
//! as it was before or after a step, never between.
//!
//! The rest of the crate sees only the records (`types.rs`) and operations in its own words
//! on [`Journal`] and [`Writer`]; SQLite stays inside `store.rs`, the schema's history in
//! `migrations.rs`, the `send` lock in `lock.rs`.

mod acknowledgements;
pub mod error;
mod lock;
mod migrations;
mod receipts;
mod store;
mod types;

pub use acknowledgements::{
    limit_reason, AckApplied, AckOutcome, Rebuild, Rebuilt, ResendRequest, Unanswered, MAX_RESENDS,
    RESEND_AFTER_MINUTES,
};
pub use error::StoreError;
pub use lock::SendLock;
pub use receipts::ReceiptOutcome;
pub use store::{default_path, now_text, Journal, Writer, DEFAULT_BUSY_TIMEOUT};
pub use types::*;
