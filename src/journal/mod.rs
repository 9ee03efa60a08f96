//! The journal: a database of every input, every message built from it (with its exact
//! bytes), every send attempt and every receipt or FHIR Acknowledgement. An SQLite file by
//! default (no server needed, one host); a PostgreSQL database that several hosts share.
//!
//! It is the source of truth for support staff and for `send`: a message is sent from
//! the bytes stored here, never rebuilt on the way. Rows are never deleted, and every
//! change of state happens inside one transaction, so a killed process leaves the journal
//! as it was before or after a step, never between.
//!
//! The rest of the crate sees only the records (`types.rs`) and operations in its own words
//! on [`Journal`] and [`Writer`]; no store's type leaves this folder. The operations are
//! written once, over `db/` (one connection type over SQLite or PostgreSQL, rusqlite's
//! words, SQL both take); where a journal is, in `location.rs`. One file per job:
//! `open.rs` (a journal file opened safely, set up or migrated), `postgres/` (a PostgreSQL
//! journal connected and its schema set up), `copy.rs` (`journal copy` between stores),
//! `sql.rs` (conversions, row mappers, shared SQL), `queries.rs` (reading), `record.rs` (the write transaction,
//! [`Writer`]), `sending.rs` (a hand-over claimed, with a lease on a shared journal, and its outcome recorded), `integrity.rs`
//! (stored bytes, inputs and refused inputs against their hashes), `history.rs` (a letter's
//! history for MedCom's rules in [`crate::reliable`], which decide what an answer or a resend
//! does), `refused.rs` (the inputs `generate` refused, until a later input closes them),
//! `receipts.rs` (XCTL), `acknowledgements.rs`, `answers.rs` and `ack_outcome.rs` (FHIR), `unanswered.rs` (the
//! letters awaiting an answer), `queue.rs` (what needs a person, the messages a filter names,
//! and a person closing a problem), `audit.rs` (what a person asked for), `users.rs` (who may sign in to the console), `erase.rs` (a patient
//! erased), `retention.rs` (`journal prune`: a final result's bytes and inputs removed); the
//! schema's history in `migrations.rs`, a verified copy (`journal backup`, and before a
//! migration) in `backup.rs`, the `send` lock in
//! `lock.rs`.

mod ack_outcome;
mod acknowledgements;
mod answers;
mod audit;
mod backup;
mod bytes;
mod copy;
mod counts;
/// The journal's SQL over either store. Public for the tests, which look at (and damage) what
/// flspost stored the same way on both; not an interface for other programs.
#[doc(hidden)]
pub mod db;
mod erase;
pub mod error;
mod history;
mod integrity;
mod location;
mod lock;
mod migrations;
mod open;
mod packing;
mod postgres;
mod queries;
mod queue;
mod receipts;
mod record;
mod refused;
mod restore;
mod retention;
mod sending;
mod sql;
mod types;
mod unanswered;
mod users;

pub use ack_outcome::{AckApplied, AckOutcome, Rebuild, Rebuilt, ResendRequest};
pub use backup::BackedUp;
pub use copy::Copied;
pub use counts::TransportHealth;
pub use erase::Erased;
pub use error::StoreError;
pub use location::{Location, PgAccess};
pub use lock::SendLock;
pub use open::{default_path, Journal, Migrated, DEFAULT_BUSY_TIMEOUT};
pub use queue::{Filter, Handled, QueuedMessage};
pub use receipts::ReceiptOutcome;
pub use record::Writer;
pub(crate) use restore::next_revision;
pub use retention::{Pruned, PrunedMessage, Retention};
pub use sending::{Claim, Settle};
pub use sql::now_text;
pub use types::*;
pub use unanswered::Unanswered;
