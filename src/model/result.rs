//! The checked model of one classified DXA result: what `input` produces once every rule
//! holds. Everything downstream (letters, messages) reads this, never the raw JSON.

use crate::model::identifiers::{Cpr, Cvr, Gln, OrgIdentifier, Sor};
use chrono::{DateTime, FixedOffset, NaiveDate};
use serde::Serialize;
use std::fmt;

/// The FLS classification after the DXA scan.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Group {
    /// Normal bone density.
    Normal,
    /// Osteopenia: GP consultation before a rescan in N years (2..=10).
    Osteopenia { rescan_after_years: u8 },
    /// Uncomplicated osteoporosis: annual check-up and treatment at the GP.
    Osteoporosis,
    /// Severe osteoporosis: treated at the hospital.
    SevereOsteoporosis,
}

impl Group {
    /// The code used in the input contract and in file names: `1`, `2a`, `2b`, `3`.
    pub fn code(&self) -> &'static str {
        match self {
            Group::Normal => "1",
            Group::Osteopenia { .. } => "2a",
            Group::Osteoporosis => "2b",
            Group::SevereOsteoporosis => "3",
        }
    }
}

impl fmt::Display for Group {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.code())
    }
}

/// The hospitals of Region Midtjylland that may send FLS letters.
#[derive(
    Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, strum::IntoStaticStr, strum::EnumString,
)]
#[strum(serialize_all = "UPPERCASE")]
pub enum Site {
    #[serde(rename = "AUH")]
    Auh,
    #[serde(rename = "HEM")]
    Hem,
    #[serde(rename = "GODSTRUP")]
    Godstrup,
    #[serde(rename = "HORSENS")]
    Horsens,
    #[serde(rename = "RANDERS")]
    Randers,
}

impl Site {
    pub fn code(&self) -> &'static str {
        self.into()
    }

    pub fn from_code(s: &str) -> Option<Site> {
        s.parse().ok()
    }
}

#[derive(Clone, Debug, PartialEq)]
pub struct Scan {
    pub date: NaiveDate,
    pub t_score_spine: Option<f64>,
    pub t_score_hip: Option<f64>,
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Address {
    pub street: String,
    pub postcode: String,
    pub city: String,
}

#[derive(Clone, Debug, PartialEq)]
pub struct Patient {
    pub cpr: Cpr,
    pub given_name: Option<String>,
    pub surname: String,
    pub address: Option<Address>,
    /// Large print asked for in the input (`None`: as the config says).
    pub large_print: Option<bool>,
}

impl Patient {
    /// "Given Surname", as a letter addresses the patient.
    pub fn full_name(&self) -> String {
        match &self.given_name {
            Some(g) => format!("{g} {}", self.surname),
            None => self.surname.clone(),
        }
    }
}

/// The patient's own GP practice, the receiver of the MedCom copy.
#[derive(Clone, Debug, PartialEq)]
pub struct Gp {
    pub ean: Gln,
    pub identifier: OrgIdentifier,
    pub name: Option<String>,
    pub address: Option<Address>,
    /// SOR id, needed for FHIR (see [`Gp::sor`]).
    pub sor_id: Option<Sor>,
}

impl Gp {
    /// The practice's SOR id: given, or its identifier when that is a SOR code.
    pub fn sor(&self) -> Option<&str> {
        sor_of(self.sor_id.as_ref(), &self.identifier)
    }
}

fn sor_of<'a>(given: Option<&'a Sor>, identifier: &'a OrgIdentifier) -> Option<&'a str> {
    match (given, identifier) {
        (Some(s), _) => Some(s.as_str()),
        (None, OrgIdentifier::Sorkode(s)) => Some(s),
        _ => None,
    }
}

/// The hospital department that sends both letters.
#[derive(Clone, Debug, PartialEq)]
pub struct Sender {
    pub ean: Gln,
    pub identifier: OrgIdentifier,
    pub organisation: String,
    pub department: Option<String>,
    pub phone: Option<String>,
    pub cvr: Cvr,
    pub address: Option<Address>,
    /// SOR id of the sending unit, needed for FHIR (see [`Sender::sor`]).
    pub sor_id: Option<Sor>,
}

impl Sender {
    /// The unit's SOR id: given, or its identifier when that is a SOR code.
    pub fn sor(&self) -> Option<&str> {
        sor_of(self.sor_id.as_ref(), &self.identifier)
    }
}

/// The clinician who approved the result and signs the letters.
#[derive(Clone, Debug, PartialEq)]
pub struct Author {
    pub name: String,
    pub title: Option<String>,
    /// The structured name (FHIR Practitioner.name); `name` is what letters print.
    pub given_name: Option<String>,
    pub surname: Option<String>,
}

/// One classified result, every field checked.
#[derive(Clone, Debug, PartialEq)]
pub struct FlsResult {
    pub result_id: String,
    pub site: Site,
    pub group: Group,
    pub scan: Scan,
    pub classified_at: DateTime<FixedOffset>,
    pub patient: Patient,
    pub gp: Gp,
    pub sender: Sender,
    pub author: Author,
}

impl FlsResult {
    /// The first input field a FHIR CareCommunication needs that this result lacks, by its
    /// name in the input contract, with the reason; `None` when a FHIR letter can be built.
    /// XDIS91 needs none of them, so they are optional in the contract.
    pub fn missing_for_fhir(&self) -> Option<(&'static str, &'static str)> {
        let a = &self.author;
        [
            (
                self.gp.sor().is_none(),
                "gp.sor_id",
                "the GP practice's SOR id (MessageHeader destination, Organization SOR-ID)",
            ),
            (
                self.sender.sor().is_none(),
                "sender.sor_id",
                "the sending unit's SOR id (MessageHeader source, Organization SOR-ID)",
            ),
            (
                self.sender.phone.is_none(),
                "sender.phone",
                "the payload's contact phone (medcom-core-contact-extension, 1..1)",
            ),
            (a.surname.is_none(), "author.surname", "the author's family name (Practitioner.name, cc-4/cc-8)"),
            (a.given_name.is_none(), "author.given_name", "the author's given name (Practitioner.name.given)"),
            (a.title.is_none(), "author.title", "the author's role (PractitionerRole code or text, cc-7)"),
        ]
        .into_iter()
        .find(|(missing, _, _)| *missing)
        .map(|(_, field, why)| (field, why))
    }
}
