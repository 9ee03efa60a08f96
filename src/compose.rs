//! From one checked result to validated message bytes: the letter texts are rendered,
//! each wire format is written, and each message is validated against its bundled schema.
//! A message that fails validation is never returned.

use crate::digitalpost::{self, kombi, memo};
use crate::error::{Error, Result};
use crate::ids;
use crate::letters::{Letters, Reader};
use crate::medcom::xdis91::{self, LetterStatus};
use crate::model::FlsResult;
use crate::schema::{self, MessageKind};
use crate::Warning;
use chrono::{DateTime, Utc};
use chrono_tz::Europe::Copenhagen;

/// The messages a result gives: the GP's copy, and the patient's letter in the hand-off
/// the patient transport is configured for.
#[derive(
    Clone,
    Copy,
    Debug,
    PartialEq,
    Eq,
    Hash,
    PartialOrd,
    Ord,
    serde::Serialize,
    strum::IntoStaticStr,
    strum::EnumString,
    strum::VariantArray,
)]
#[strum(serialize_all = "kebab-case")]
pub enum Kind {
    /// The copy to the patient's GP, MedCom XDIS91.
    #[serde(rename = "gp-xdis91")]
    GpXdis91,
    /// The letter to the patient, MeMo with a PDF (for a Digital Post client).
    #[serde(rename = "patient-memo")]
    PatientMemo,
    /// The letter to the patient as an SF1601 kombi request: the MeMo plus a fjernprint
    /// ForsendelseI with the same PDF, so the platform prints it for an exempt patient.
    #[serde(rename = "patient-kombi")]
    PatientKombi,
}

/// Who a message is for. A result has one current letter per addressee; the patient's
/// letter may change hand-off (MeMo or kombi) between revisions and keeps its numbering.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Addressee {
    Gp,
    Patient,
}

impl Kind {
    pub const ALL: &[Kind] = <Kind as strum::VariantArray>::VARIANTS;

    pub fn code(self) -> &'static str {
        self.into()
    }

    pub fn addressee(self) -> Addressee {
        match self {
            Kind::GpXdis91 => Addressee::Gp,
            Kind::PatientMemo | Kind::PatientKombi => Addressee::Patient,
        }
    }

    pub fn from_code(s: &str) -> Option<Kind> {
        s.parse().ok()
    }

    pub fn schema(self) -> MessageKind {
        match self {
            Kind::GpXdis91 => MessageKind::Xdis91,
            Kind::PatientMemo => MessageKind::Memo,
            Kind::PatientKombi => MessageKind::Kombi,
        }
    }

    /// The file name in a result's output folder.
    pub fn file_name(self) -> &'static str {
        match self {
            Kind::GpXdis91 => "gp-xdis91.xml",
            Kind::PatientMemo => "patient-memo.xml",
            Kind::PatientKombi => "patient-kombi.xml",
        }
    }
}

/// The patient letter's PDF in the output folder, beside its MeMo message.
pub const PDF_FILE_NAME: &str = "patient-letter.pdf";

/// What to build for one message: which revision of its letter, which send attempt.
#[derive(Clone, Copy, Debug)]
pub struct Plan {
    pub kind: Kind,
    /// 0 for the first letter of this kind for the result, +1 for each content change.
    pub letter_revision: u32,
    /// 1 for the first send of this letter, +1 for each regeneration (new envelope).
    pub attempt: u32,
    pub status: LetterStatus,
}

/// One built, validated message.
#[derive(Clone, Debug)]
pub struct Built {
    pub kind: Kind,
    pub bytes: Vec<u8>,
    /// SHA-256 of `bytes`, hex (computed here, on the building thread).
    pub sha256: String,
    /// XDIS91 letter identifier, or the MeMo message UUID.
    pub letter_id: String,
    /// XDIS91 envelope identifier (MeMo has none).
    pub envelope_id: Option<String>,
    pub status: LetterStatus,
    pub attempt: u32,
    pub letter_revision: u32,
    /// The PDF letter inside a MeMo message.
    pub pdf: Option<Vec<u8>>,
    pub warnings: Vec<Warning>,
}

/// How the patient's letter is made, from the config.
#[derive(Clone, Copy, Debug, Default)]
pub struct PatientOptions {
    /// Build a kombi request (MeMo plus print) instead of a MeMo alone.
    pub kombi: bool,
    /// ForsendelseTypeIdentifikator for the kombi request's print part.
    pub print_type: Option<u32>,
    /// Large print for every patient (an input's `patient.large_print` decides for its own).
    pub large_print: bool,
}

pub struct Composer {
    letters: Letters,
    patient: PatientOptions,
}

impl Composer {
    pub fn new(letters: Letters) -> Composer {
        Composer::with_options(letters, PatientOptions::default())
    }

    pub fn with_options(letters: Letters, patient: PatientOptions) -> Composer {
        Composer { letters, patient }
    }

    /// The kind of message a new patient letter is.
    pub fn patient_kind(&self) -> Kind {
        if self.patient.kombi {
            Kind::PatientKombi
        } else {
            Kind::PatientMemo
        }
    }

    /// Builds and validates the message `plan` asks for, at instant `now`.
    pub fn build(&self, r: &FlsResult, plan: &Plan, now: DateTime<Utc>) -> Result<Built> {
        let letter_date = now.with_timezone(&Copenhagen).date_naive();
        let built = match plan.kind {
            Kind::GpXdis91 => {
                let text = self.letters.render(Reader::Gp, r, letter_date)?;
                let letter_id = ids::letter_id(r.sender.ean.as_str(), &r.result_id, plan.letter_revision);
                let envelope_id =
                    ids::envelope_id(&letter_id, plan.attempt, now.timestamp_nanos_opt().unwrap_or_default());
                let encoded = xdis91::write(&xdis91::Xdis91 {
                    result: r,
                    text: &text,
                    letter_id: &letter_id,
                    envelope_id: &envelope_id,
                    sent: now.with_timezone(&Copenhagen).naive_local(),
                    authorised: r.classified_at.with_timezone(&Copenhagen).naive_local(),
                    status: plan.status,
                })?;
                Built {
                    kind: plan.kind,
                    sha256: crate::sha256_hex(&encoded.bytes),
                    bytes: encoded.bytes,
                    letter_id,
                    envelope_id: Some(envelope_id),
                    status: plan.status,
                    attempt: plan.attempt,
                    letter_revision: plan.letter_revision,
                    pdf: None,
                    warnings: encoded.warnings,
                }
            }
            Kind::PatientMemo | Kind::PatientKombi => {
                let text = self.letters.render(Reader::Patient, r, letter_date)?;
                let notification = self.letters.notification(r, letter_date)?;
                let large_print = r.patient.large_print.unwrap_or(self.patient.large_print);
                let (pdf, warnings) = digitalpost::letter_pdf(r, &text, letter_date, now, large_print)?;
                let uuid = ids::memo_uuid(r.sender.cvr.as_str(), &r.result_id, plan.letter_revision);
                let filename = memo::safe_filename(&format!("Knogleskanning {}.pdf", r.scan.date));
                let bytes = memo::write(&memo::Memo {
                    uuid,
                    label: &text.subject,
                    notification: &notification,
                    sender_cvr: r.sender.cvr.as_str(),
                    sender_label: &r.sender.organisation,
                    recipient_cpr: r.patient.cpr.expose(),
                    recipient_label: &r.patient.full_name(),
                    created: now,
                    document_label: &text.subject,
                    filename: &filename,
                    pdf: &pdf,
                })?;
                let bytes = match plan.kind {
                    Kind::PatientKombi => {
                        // Validated once, whole, below: its schema imports the MeMo profile.
                        kombi::write(&kombi::Kombi {
                            memo: &bytes,
                            shipment_id: &uuid.hyphenated().to_string(),
                            print_type: self.patient.print_type,
                            recipient_name: &r.patient.full_name(),
                            address: r.patient.address.as_ref(),
                            title: &text.subject,
                            pdf: &pdf,
                        })?
                    }
                    _ => bytes,
                };
                Built {
                    kind: plan.kind,
                    sha256: crate::sha256_hex(&bytes),
                    bytes,
                    letter_id: uuid.hyphenated().to_string(),
                    envelope_id: None,
                    status: plan.status,
                    attempt: plan.attempt,
                    letter_revision: plan.letter_revision,
                    pdf: Some(pdf),
                    warnings,
                }
            }
        };
        schema::validate(plan.kind.schema(), &built.bytes)
            .map_err(|problems| Error::Invalid { kind: plan.kind.schema(), problems })?;
        Ok(built)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::testdata;

    fn plan(kind: Kind) -> Plan {
        Plan { kind, letter_revision: 0, attempt: 1, status: LetterStatus::New }
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
