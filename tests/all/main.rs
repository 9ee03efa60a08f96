//! flspost from the outside, by what a user does: one test binary (`cargo test --test all`),
//! one module per journey. New tests go in the journey they serve; shared helpers live in
//! `common` (mostly on `common::World`), never copied into a file.
//!
//! Filter by module path: `cargo test --test all answers::`, or
//! `cargo test --test all guarantees::properties -- --ignored`. `tests/memory.rs` is a
//! binary of its own (it measures its process's children).

// What comes back: receipts, Acknowledgements, resends, regenerate.
mod answers;
// MedCom's Acknowledgement test protocol (receive), step by step.
mod certification;
// World, Run, SmtpServer, message builders.
mod common;
// README.md and docs/ lead where they say.
mod docs;
// The README walk-through.
mod first_hour;
// The support console: flspost serve over HTTP and in a real browser.
mod console;
// The gateway's generate: contract, batches, limits, output folder, templates, routing.
mod generate;
// Promises under stress: crash, durability, exit codes, CPR masking, concurrency, robustness,
// properties, layers.
mod guarantees;
// The resident intake: flspost serve taking results as generate does.
mod intake;
// The journal file: path safety, released fixtures, integrity.
mod journal;
// What each message holds: patient letter, kombi, FHIR, official schemas.
mod messages;
// The checked-in samples are current.
mod samples;
// Transports: outbox, SMTP, deadlines.
mod send;
