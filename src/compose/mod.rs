//! From one checked result to validated message bytes: the letter texts are rendered,
//! each wire format is written, and each message is validated against its bundled schema.
//! A message that fails validation is never returned.

use crate::compose::routing::GpRouting;
use crate::error::{Error, Result};
use crate::formats::memo::write::MainDocument;
use crate::formats::Letter;
pub use crate::formats::{Carried, GpOptions, PatientOptions};
use crate::input::InputError;
use crate::letters::Letters;
pub use crate::model::Addressee;
use crate::model::FlsResult;
use crate::model::GpFormat;
use crate::model::LetterStatus;
use crate::model::Warning;
use chrono::{DateTime, Utc};
use chrono_tz::Europe::Copenhagen;
use std::borrow::Cow;

pub use crate::model::Kind;

pub mod routing;

/// The patient letter's PDF in the output folder, beside its MeMo message.
pub(crate) const PDF_FILE_NAME: &str = "patient-letter.pdf";

/// What to build for one message: which revision of its letter, which send attempt.
#[derive(Clone, Copy, Debug)]
pub struct Plan {
    pub kind: Kind,
    /// 0 for the first letter of this kind for the result, +1 for each content change.
    pub letter_revision: u32,
    /// 1 for the first send of this letter, +1 for each regeneration (new envelope).
    pub transmission: u32,
    pub status: LetterStatus,
}

/// One built, validated message.
#[derive(Clone, Debug)]
pub struct Built {
    pub kind: Kind,
    pub bytes: Vec<u8>,
    /// SHA-256 of `bytes`, hex (computed here, on the building thread).
    pub sha256: String,
    /// XDIS91 letter identifier, FHIR MessageHeader.id, or the MeMo message UUID.
    pub letter_id: String,
    /// XDIS91 envelope identifier or FHIR Bundle.id (MeMo has none).
    pub envelope_id: Option<String>,
    pub status: LetterStatus,
    pub transmission: u32,
    pub letter_revision: u32,
    /// The PDF letter inside a MeMo message.
    pub pdf: Option<Vec<u8>>,
    /// What `bytes` carry in base64 as built (the PDF; an envelope's document and the PDF
    /// it attaches), for the journal to store the PDF once per result without decoding the
    /// message; `None` when not known (a message made from stored bytes).
    pub carried: Option<Vec<Carried>>,
    pub warnings: Vec<Warning>,
}

/// What [`Composer::gp_route`] decided for a new GP letter.
pub(crate) struct GpRoute<'r> {
    pub kind: Kind,
    /// The result as the format needs it (a SOR id filled in from the receiver table).
    pub result: Cow<'r, FlsResult>,
    pub warning: Option<Warning>,
}

pub struct Composer {
    letters: Letters,
    patient: PatientOptions,
    gp: GpOptions,
    routing: GpRouting,
}

impl Composer {
    pub fn new(letters: Letters) -> Composer {
        Composer::with_options(letters, PatientOptions::default())
    }

    pub fn with_options(letters: Letters, patient: PatientOptions) -> Composer {
        Composer { letters, patient, gp: GpOptions::default(), routing: GpRouting::default() }
    }

    /// Sets how the GP's copy is made and which format each GP gets.
    pub(crate) fn with_gp(mut self, gp: GpOptions, routing: GpRouting) -> Composer {
        self.gp = gp;
        self.routing = routing;
        self
    }

    /// The kind of message a new letter to `r`'s GP is, with the result as that format
    /// needs it: the practice's SOR id from the receiver table when the input gives none, and
    /// a warning when both give one and they differ (the input's is used; one of the two is
    /// out of date). `Err` names the input field that is missing or the table line that
    /// excludes the GP.
    pub(crate) fn gp_route<'r>(&self, r: &'r FlsResult) -> std::result::Result<GpRoute<'r>, InputError> {
        let route = self.routing.route(&r.gp).map_err(|reason| InputError::new("gp.ean", reason))?;
        if route.format == GpFormat::Xdis91 {
            return Ok(GpRoute { kind: Kind::GpXdis91, result: Cow::Borrowed(r), warning: None });
        }
        let (result, warning) = match (route.table_sor, r.gp.sor()) {
            (Some(sor), None) => {
                let mut filled = r.clone();
                filled.gp.sor_id = Some(sor);
                (Cow::Owned(filled), None)
            }
            (Some(table), Some(given)) if table.as_str() != given => {
                let warning = Warning {
                    field: "gp.sor_id".into(),
                    message: format!(
                        "differs from the receiver table's SOR id {} for this GP; the input's {given} is used",
                        table.as_str()
                    ),
                };
                (Cow::Borrowed(r), Some(warning))
            }
            _ => (Cow::Borrowed(r), None),
        };
        if let Some((field, why)) = result.missing_for_fhir() {
            let also = if field == "gp.sor_id" { "; the receiver table's sor column can give it too" } else { "" };
            return Err(InputError::new(
                field,
                format!("required: this GP gets a FHIR CareCommunication, which needs {why}{also}"),
            ));
        }
        Ok(GpRoute { kind: Kind::GpCareCommunication, result, warning })
    }

    /// The kind of message a new patient letter is.
    pub(crate) fn patient_kind(&self) -> Kind {
        if self.patient.kombi {
            Kind::PatientKombi
        } else {
            Kind::PatientMemo
        }
    }

    /// Whether a message of `kind` attaches the patient's letter (a CareCommunication with
    /// `[gp] attach_pdf`): then [`Composer::build_with`] needs that letter.
    pub(crate) fn attaches_patient_letter(&self, kind: Kind) -> bool {
        kind == Kind::GpCareCommunication && self.gp.attach_pdf
    }

    /// Builds and validates the message `plan` asks for, at instant `now`: one that attaches
    /// no patient letter ([`Composer::attaches_patient_letter`]).
    pub fn build(&self, r: &FlsResult, plan: &Plan, now: DateTime<Utc>) -> Result<Built> {
        self.build_with(r, plan, now, None)
    }

    /// As [`Composer::build`], with the patient's current letter (as its MeMo carries it) for
    /// a GP copy that attaches it.
    pub(crate) fn build_with(
        &self,
        r: &FlsResult,
        plan: &Plan,
        now: DateTime<Utc>,
        patient_letter: Option<&MainDocument>,
    ) -> Result<Built> {
        let letter_date = now.with_timezone(&Copenhagen).date_naive();
        let addressee = plan.kind.addressee();
        // A CareCommunication may need the GP's SOR id from the receiver table.
        let (r, warning) = match plan.kind {
            Kind::GpCareCommunication => {
                let route = self.gp_route(r)?;
                (route.result, route.warning)
            }
            _ => (Cow::Borrowed(r), None),
        };
        let r = r.as_ref();
        let text = self.letters.render_letter(addressee, r, letter_date, plan.status == LetterStatus::Corrected)?;
        let notification = match addressee {
            Addressee::Patient => Some(self.letters.notification(r, letter_date)?),
            Addressee::Gp => None,
        };
        let wire = plan.kind.wire();
        let letter_id = wire.letter_id(r, plan.letter_revision);
        let encoded = wire.build(&Letter {
            result: r,
            text: &text,
            notification: notification.as_deref(),
            patient_letter: patient_letter.filter(|_| self.attaches_patient_letter(plan.kind)),
            letter_date,
            now,
            letter_id: &letter_id,
            letter_revision: plan.letter_revision,
            transmission: plan.transmission,
            status: plan.status,
            patient: &self.patient,
            gp: &self.gp,
        })?;
        wire.validate(&encoded.bytes).map_err(|problems| Error::Invalid { kind: wire.schema(), problems })?;
        Ok(Built {
            kind: plan.kind,
            sha256: crate::support::digest::sha256_hex(&encoded.bytes),
            bytes: encoded.bytes,
            letter_id,
            envelope_id: encoded.envelope_id,
            status: plan.status,
            transmission: plan.transmission,
            letter_revision: plan.letter_revision,
            carried: Some(encoded.pdf.as_deref().map(Carried::of).into_iter().chain(encoded.carried).collect()),
            pdf: encoded.pdf,
            warnings: warning.into_iter().chain(encoded.warnings).collect(),
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::schema;
    use crate::testdata;

    fn plan(kind: Kind) -> Plan {
        Plan { kind, letter_revision: 0, transmission: 1, status: LetterStatus::New }
    }

    #[test]
    fn every_sample_gives_two_valid_messages() {
        let c = Composer::new(Letters::shipped());
        for input in testdata::ALL {
            let r = testdata::checked(input);
            for &kind in Kind::ALL {
                let b = c.build(&r, &plan(kind), testdata::now()).unwrap();
                assert!(schema::validate(kind.schema(), &b.bytes).is_ok());
                assert!(b.warnings.is_empty(), "{:?}", b.warnings);
            }
        }
    }

    #[test]
    fn same_plan_and_clock_give_the_same_bytes() {
        let c = Composer::new(Letters::shipped());
        let r = testdata::checked(testdata::GROUP_2A);
        for &kind in Kind::ALL {
            let a = c.build(&r, &plan(kind), testdata::now()).unwrap();
            let b = c.build(&r, &plan(kind), testdata::now()).unwrap();
            assert_eq!(a.bytes, b.bytes);
        }
    }
}
