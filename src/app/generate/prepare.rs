//! Input preparation: a document parsed, checked against the contract and hashed, once.

use super::{Engine, Refusal, Summary};
use crate::compose::{Addressee, Kind};
use crate::input::{self, InputError};
use crate::model::policy::RolloutPolicy;
use crate::model::FlsResult;
use crate::support::digest::sha256_hex;
use chrono::{DateTime, Utc};

pub use crate::input::batch::Source;

/// A checked input, with the hashes that decide what is new.
pub struct Prepared {
    /// The document as received (what the journal keeps).
    pub text: String,
    pub result: FlsResult,
    /// Of the canonical input (field order and spacing do not matter).
    pub input_sha256: String,
    /// Per addressee: of the input fields that letter says (the patient letter does not
    /// mention the GP, so a corrected GP address leaves it alone).
    pub content_sha256: [(Addressee, String); 2],
}

impl Prepared {
    pub fn content(&self, kind: Kind) -> &str {
        &self.content_sha256.iter().find(|(a, _)| *a == kind.addressee()).expect("both addressees").1
    }
}

/// A document that failed its checks, named by its result_id when that much parsed (so a
/// failure is reported without parsing the document again).
#[derive(Clone, Debug)]
pub struct Refused {
    pub error: InputError,
    pub result_id: Option<String>,
}

/// Checks one document as read (UTF-8, not too long), then [`prepare`].
pub fn prepare_source(source: &Source, policy: &RolloutPolicy, now: DateTime<Utc>) -> Result<Prepared, Refused> {
    if let Some(e) = &source.refused {
        return Err(Refused { error: e.clone(), result_id: None });
    }
    prepare_named(&source.text, policy, now)
}

/// Parses and checks one document and hashes it.
pub fn prepare(text: &str, policy: &RolloutPolicy, now: DateTime<Utc>) -> Result<Prepared, InputError> {
    prepare_named(text, policy, now).map_err(|r| r.error)
}

fn prepare_named(text: &str, policy: &RolloutPolicy, now: DateTime<Utc>) -> Result<Prepared, Refused> {
    let mut input = input::parse(text).map_err(|error| Refused { error, result_id: None })?;
    let result = input::check(&input, policy, now)
        .map_err(|error| Refused { error, result_id: Some(input.result_id.clone()) })?;
    let canonical = serde_json::to_vec(&input).expect("serialising a parsed input cannot fail");
    // What the patient's letter says: everything but the GP.
    input.gp = input::GpInput {
        ean: String::new(),
        identifier: String::new(),
        identifier_code: String::new(),
        name: None,
        address: None,
        sor_id: None,
    };
    let patient_view = serde_json::to_vec(&input).expect("serialisable");
    let input_sha256 = sha256_hex(&canonical);
    Ok(Prepared {
        text: text.to_string(),
        result,
        content_sha256: [(Addressee::Gp, input_sha256.clone()), (Addressee::Patient, sha256_hex(&patient_view))],
        input_sha256,
    })
}

pub use crate::input::input_intact;

impl Engine {
    /// Checks one document as read ([`prepare_source`]), and that the patient's letter can
    /// go by the configured hand-off (the kombi request needs a printable address). Whether
    /// the GP's letter can go in the format the receiver table gives the GP (FHIR needs fields
    /// XDIS91 does not) is checked when a new GP letter is decided on (`decide`).
    pub fn prepare_source(&self, source: &Source, now: DateTime<Utc>) -> Result<Prepared, Refused> {
        let p = prepare_source(source, &self.policy, now)?;
        if self.composer.patient_kind() == Kind::PatientKombi {
            let patient = &p.result.patient;
            crate::formats::memo::kombi::check_recipient(&patient.full_name(), patient.address.as_ref())
                .map_err(|error| Refused { error, result_id: Some(p.result.result_id.clone()) })?;
        }
        Ok(p)
    }

    /// Checks the one document of a single `generate` before anything is built or written:
    /// a bad input is refused (then journaled alone, [`Refusal::record_alone`], with no output
    /// folder and no message); what it prepared is what is then recorded (one parse, one
    /// clock). The GP's format is checked where a new GP letter is decided on (an input
    /// already journaled keeps its letter); with no journal yet every letter is new, so a
    /// GP it cannot reach is refused here.
    pub fn check_single(
        &self,
        source: &Source,
        now: DateTime<Utc>,
        journal_exists: bool,
    ) -> Result<Prepared, Box<Refusal>> {
        if let Some(s) = Summary::unreadable(source) {
            return Err(Box::new(Refusal::new(s, String::new())));
        }
        self.prepare_source(source, now)
            .and_then(|p| match self.composer.gp_route(&p.result) {
                Err(error) if !journal_exists => Err(Refused { error, result_id: Some(p.result.result_id.clone()) }),
                _ => Ok(p),
            })
            .map_err(|e| Box::new(Refusal::new(Summary::refused(source, e), source.text.clone())))
    }
}
