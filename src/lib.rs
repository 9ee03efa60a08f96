//! flspost: letters for the Fracture Liaison Service (FLS) of Region Midtjylland.
//!
//! One classified DXA result comes in as JSON ([`input`]); it is checked into a
//! [`model::FlsResult`], worded by [`letters`], and carried by two messages ([`compose`]):
//! a MedCom correspondence letter to the GP, XDIS91 ([`formats::xdis91`]) or FHIR
//! CareCommunication ([`formats::fhir`]) as [`compose::routing`] chooses per GP, and a MeMo
//! Digital Post message with a PDF letter to the patient ([`formats::memo`],
//! [`formats::pdf`]). Every message is validated against the bundled schemas ([`schema`])
//! before it is written, recorded in the [`journal`] and handed to a [`transport`]. The
//! commands' work is in [`app`]; the binary's `cli` only parses arguments and prints.
//!
//! Data flows one way, and the modules are layered the same way (bottom first; a module
//! names only modules below it, which `tests/layers.rs` checks):
//!
//! | layer | modules |
//! |---|---|
//! | no domain words | [`support`] |
//! | vocabulary | [`model`] |
//! | errors | [`error`] and each module's `error` leaf |
//! | input -> model, letter text, validated bytes | [`input`], [`letters`], [`schema`] |
//! | wire formats | [`formats`] |
//! | one result's messages | [`compose`] |
//! | MedCom's reliable messaging | [`reliable`] |
//! | storage, hand-over | [`journal`], [`transport`] |
//! | use cases | [`app`] |

// The items a module keeps to the crate are documented with `cargo doc --document-private-items`,
// where public docs may link them.
#![allow(rustdoc::private_intra_doc_links)]

pub mod app;
pub mod compose;
pub mod error;
pub mod formats;
pub mod input;
pub mod journal;
pub mod letters;
pub mod model;
pub mod reliable;
pub mod schema;
pub mod support;
pub mod transport;

#[cfg(test)]
mod testdata;
