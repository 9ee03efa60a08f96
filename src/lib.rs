//! flspost: letters for the Fracture Liaison Service (FLS) of Region Midtjylland.
//!
//! One classified DXA result comes in as JSON ([`input`]); it is checked into a
//! [`model::FlsResult`], worded by [`letters`], and carried by two messages:
//! a MedCom XDIS91 correspondence letter to the GP ([`medcom`]) and a MeMo Digital Post
//! message with a PDF letter to the patient ([`digitalpost`]). Every message is validated
//! against the bundled schemas ([`schema`]) before it is written, recorded in the
//! [`journal`] and handed to a [`transport`].
//!
//! Data flows one way: input -> checked model -> letter text -> messages -> validated bytes
//! -> journal -> transport.

pub mod identifiers;
pub mod input;
pub mod letters;
pub mod model;
pub mod policy;

#[cfg(test)]
mod testdata;
