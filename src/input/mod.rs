//! The input contract: one JSON object per classified result, as the EDI gateway sends it.
//!
//! [`parse`] reads the JSON (unknown fields are errors) and [`check`] turns it into the
//! checked [`FlsResult`], or a one-line [`InputError`] naming the field and the reason.
//! Field names here are the gateway's contract: do not rename them.

pub mod batch;
pub mod error;

pub use error::InputError;

use crate::model::identifiers::{Cpr, Cvr, Gln, OrgIdentifier, Sor};
use crate::model::policy::RolloutPolicy;
use crate::model::{Address, Author, FlsResult, Gp, Group, Patient, Scan, Sender, Site};
use chrono::{DateTime, NaiveDate, Utc};
use chrono_tz::Europe::Copenhagen;
use serde::{Deserialize, Serialize};

// ---- the raw contract -------------------------------------------------------------------

#[derive(Debug, Clone, Deserialize, Serialize, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct ResultInput {
    pub result_id: String,
    pub site: String,
    pub group: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub rescan_after_years: Option<i64>,
    pub scan: ScanInput,
    pub classified_at: String,
    pub patient: PatientInput,
    pub gp: GpInput,
    pub sender: SenderInput,
    pub author: AuthorInput,
}

#[derive(Debug, Clone, Deserialize, Serialize, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct ScanInput {
    pub date: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub t_score_spine: Option<f64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub t_score_hip: Option<f64>,
}

#[derive(Debug, Clone, Deserialize, Serialize, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct AddressInput {
    pub street: String,
    pub postcode: String,
    pub city: String,
}

#[derive(Debug, Clone, Deserialize, Serialize, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct PatientInput {
    pub cpr: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub given_name: Option<String>,
    pub surname: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub address: Option<AddressInput>,
    /// The letter in large print (14 pt), for a patient known to need it; absent: the
    /// config's `[patient_letter] large_print` decides.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub large_print: Option<bool>,
}

#[derive(Debug, Clone, Deserialize, Serialize, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct GpInput {
    pub ean: String,
    pub identifier: String,
    pub identifier_code: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub name: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub address: Option<AddressInput>,
    /// The practice's SOR id: FHIR CareCommunication needs it, XDIS91 did not.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub sor_id: Option<String>,
}

#[derive(Debug, Clone, Deserialize, Serialize, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct SenderInput {
    pub ean: String,
    pub identifier: String,
    pub identifier_code: String,
    pub organisation: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub department: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub phone: Option<String>,
    pub cvr: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub address: Option<AddressInput>,
    /// The sending unit's SOR id (FHIR only).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub sor_id: Option<String>,
}

#[derive(Debug, Clone, Deserialize, Serialize, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct AuthorInput {
    pub name: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub title: Option<String>,
    /// The structured name FHIR's Practitioner needs (`name` is what letters print).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub given_name: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub surname: Option<String>,
}

/// Parses one JSON document. The error names the field path and the position.
pub fn parse(text: &str) -> Result<ResultInput, InputError> {
    // Windows tools (Notepad, PowerShell's Out-File) start UTF-8 with a byte-order mark:
    // it says nothing here (the contract is UTF-8 either way), so it is skipped.
    let text = text.strip_prefix('\u{FEFF}').unwrap_or(text);
    // serde's wording for a line that is not an object at all ("expected ident") does
    // not say what is wrong.
    if !text.trim_start().starts_with('{') {
        let what = match text.trim_start().chars().next() {
            None => "is empty".to_string(),
            Some('[') => "is a JSON array".to_string(),
            Some(_) => "is not a JSON object".to_string(),
        };
        return Err(InputError::new("input", format!("{what}: a result is one JSON object, {{ \"result_id\": ... }}")));
    }
    let mut de = serde_json::Deserializer::from_str(text);
    let value = serde_path_to_error::deserialize(&mut de).map_err(|e| {
        let path = e.path().to_string();
        let field = if path == "." || path.is_empty() { "input".to_string() } else { path };
        // serde_json's message ends in "at line L column C", which helps find the spot. It
        // may quote the value; a CPR number must not reach a log that way.
        InputError::new(field, crate::support::redact::redact_cpr_like(&e.into_inner().to_string()))
    })?;
    de.end().map_err(|e| InputError::new("input", format!("{e}: expected one JSON object")))?;
    Ok(value)
}

// ---- limits (XDIS91 unless noted) -------------------------------------------------------

/// PersonSurnameName / PersonGivenName.
pub(crate) const NAME_MAX: usize = 70;
/// OrganisationName, DepartmentName, StreetName, DistrictName.
pub(crate) const ORG_TEXT_MAX: usize = 35;
/// PostCodeIdentifier.
pub(crate) const POSTCODE_MAX: usize = 9;
/// TelephoneSubscriberIdentifier.
pub(crate) const PHONE_MAX: usize = 25;
/// Author name and title are printed in letters; 70 matches XDIS91's name fields.
pub(crate) const AUTHOR_MAX: usize = 70;

/// Allowed IdentifierCode values per role (XDIS91 allows more; these are what FLS uses).
pub const GP_IDENTIFIER_CODES: &[&str] = &["ydernummer", "lokationsnummer", "sorkode"];
pub const SENDER_IDENTIFIER_CODES: &[&str] = &["sygehusafdelingsnummer", "sorkode", "lokationsnummer"];

/// How far in the future `classified_at` may be (clock skew between hosts).
const CLOCK_SKEW_MINUTES: i64 = 5;

/// Turns the raw input into the checked model.
///
/// `now` is the generation clock (future timestamps are refused); `policy` decides which
/// sites may send.
pub fn check(input: &ResultInput, policy: &RolloutPolicy, now: DateTime<Utc>) -> Result<FlsResult, InputError> {
    let result_id = check_result_id(&input.result_id)?;
    let site = Site::from_code(&input.site).ok_or_else(|| {
        InputError::new(
            "site",
            format!("unknown site `{}` (expected AUH, HEM, GODSTRUP, HORSENS or RANDERS)", input.site),
        )
    })?;
    let group = match (input.group.as_str(), input.rescan_after_years) {
        ("2a", Some(n)) if (2..=10).contains(&n) => Group::Osteopenia { rescan_after_years: n as u8 },
        ("2a", Some(n)) => return Err(InputError::new("rescan_after_years", format!("{n} is outside 2..10"))),
        ("2a", None) => return Err(InputError::new("rescan_after_years", "required for group 2a (2..10 years)")),
        ("1" | "2b" | "3", Some(_)) => {
            return Err(InputError::new(
                "rescan_after_years",
                format!("only allowed for group 2a, not group {}", input.group),
            ))
        }
        ("1", None) => Group::Normal,
        ("2b", None) => Group::Osteoporosis,
        ("3", None) => Group::SevereOsteoporosis,
        (other, _) => {
            return Err(InputError::new(
                "group",
                format!("unknown group `{other}` (expected \"1\", \"2a\", \"2b\" or \"3\")"),
            ))
        }
    };

    let classified_at = DateTime::parse_from_rfc3339(&input.classified_at).map_err(|e| {
        InputError::new(
            "classified_at",
            format!("not an RFC 3339 timestamp with offset ({e}), e.g. 2025-03-14T10:22:00+01:00"),
        )
    })?;
    if classified_at.with_timezone(&Utc) > now + chrono::Duration::minutes(CLOCK_SKEW_MINUTES) {
        return Err(InputError::new("classified_at", "is in the future"));
    }
    let classified_local = classified_at.with_timezone(&Copenhagen).date_naive();

    let scan_date = NaiveDate::parse_from_str(&input.scan.date, "%Y-%m-%d")
        .ok()
        .filter(|_| input.scan.date.len() == 10)
        .ok_or_else(|| InputError::new("scan.date", format!("`{}` is not a date YYYY-MM-DD", input.scan.date)))?;
    if scan_date > classified_local {
        return Err(InputError::new("scan.date", "is after classified_at: a result is classified after its scan"));
    }
    let scan = Scan {
        date: scan_date,
        t_score_spine: check_t_score("scan.t_score_spine", input.scan.t_score_spine)?,
        t_score_hip: check_t_score("scan.t_score_hip", input.scan.t_score_hip)?,
    };

    policy.check(site, classified_local).map_err(|reason| InputError::new("site", reason))?;

    let p = &input.patient;
    let patient = Patient {
        cpr: Cpr::parse(&p.cpr).map_err(|r| InputError::new("patient.cpr", r))?,
        given_name: opt_text("patient.given_name", &p.given_name, NAME_MAX)?,
        surname: text("patient.surname", &p.surname, NAME_MAX)?,
        address: check_address("patient.address", &p.address)?,
        large_print: p.large_print,
    };
    if patient.cpr.birth_date() > scan.date {
        return Err(InputError::new("patient.cpr", "birth date is after the scan date"));
    }

    let g = &input.gp;
    let gp = Gp {
        ean: Gln::parse(&g.ean).map_err(|r| InputError::new("gp.ean", r))?,
        identifier: org_identifier("gp", &g.identifier_code, &g.identifier, GP_IDENTIFIER_CODES)?,
        name: opt_text("gp.name", &g.name, ORG_TEXT_MAX)?,
        address: check_address("gp.address", &g.address)?,
        sor_id: opt_sor("gp.sor_id", &g.sor_id, &g.identifier_code, &g.identifier)?,
    };

    let s = &input.sender;
    let sender = Sender {
        ean: Gln::parse(&s.ean).map_err(|r| InputError::new("sender.ean", r))?,
        identifier: org_identifier("sender", &s.identifier_code, &s.identifier, SENDER_IDENTIFIER_CODES)?,
        organisation: text("sender.organisation", &s.organisation, ORG_TEXT_MAX)?,
        department: opt_text("sender.department", &s.department, ORG_TEXT_MAX)?,
        phone: match &s.phone {
            None => None,
            Some(ph) => Some(check_phone(ph)?),
        },
        cvr: Cvr::parse(&s.cvr).map_err(|r| InputError::new("sender.cvr", r))?,
        address: check_address("sender.address", &s.address)?,
        sor_id: opt_sor("sender.sor_id", &s.sor_id, &s.identifier_code, &s.identifier)?,
    };

    let author = Author {
        name: text("author.name", &input.author.name, AUTHOR_MAX)?,
        title: opt_text("author.title", &input.author.title, AUTHOR_MAX)?,
        given_name: opt_text("author.given_name", &input.author.given_name, NAME_MAX)?,
        surname: opt_text("author.surname", &input.author.surname, NAME_MAX)?,
    };

    Ok(FlsResult { result_id, site, group, scan, classified_at, patient, gp, sender, author })
}

/// `[A-Za-z0-9._-]{1,64}`, and not `.`/`..` or a hidden name: it becomes a folder name.
pub(crate) fn check_result_id(id: &str) -> Result<String, InputError> {
    let ok_chars = id.bytes().all(|b| b.is_ascii_alphanumeric() || b"._-".contains(&b));
    if id.is_empty() || id.len() > 64 || !ok_chars {
        return Err(InputError::new("result_id", "must be 1 to 64 of the characters A-Z a-z 0-9 . _ -"));
    }
    if id.starts_with('.') {
        return Err(InputError::new("result_id", "must not start with `.` (it names a folder)"));
    }
    Ok(id.to_string())
}

fn check_t_score(field: &str, v: Option<f64>) -> Result<Option<f64>, InputError> {
    match v {
        Some(t) if !(-10.0..=10.0).contains(&t) => {
            Err(InputError::new(field, format!("{t} is not a plausible T-score (-10..10)")))
        }
        other => Ok(other),
    }
}

fn org_identifier(role: &str, code: &str, value: &str, allowed: &[&str]) -> Result<OrgIdentifier, InputError> {
    OrgIdentifier::parse(code, value, allowed)
        .map_err(|(field, reason)| InputError::new(format!("{role}.{field}"), reason))
}

/// An optional SOR id: 11-17 digits (DK-core min-digits-sor; 17 is XDIS91's Identifier
/// length). When the organisation's `identifier` is already a SOR code, the two must agree.
fn opt_sor(field: &str, v: &Option<String>, code: &str, identifier: &str) -> Result<Option<Sor>, InputError> {
    let Some(v) = v else { return Ok(None) };
    let sor = Sor::parse(v).map_err(|r| InputError::new(field, r))?;
    if code == "sorkode" && identifier != v {
        return Err(InputError::new(field, "differs from the identifier, which is a SOR code too"));
    }
    Ok(Some(sor))
}

fn check_phone(ph: &str) -> Result<String, InputError> {
    let ph = text("sender.phone", ph, PHONE_MAX)?;
    if !ph.chars().all(|c| c.is_ascii_digit() || c == ' ' || c == '+') || !ph.chars().any(|c| c.is_ascii_digit()) {
        return Err(InputError::new("sender.phone", "may hold only digits, spaces and a leading +"));
    }
    Ok(ph)
}

fn check_address(field: &str, a: &Option<AddressInput>) -> Result<Option<Address>, InputError> {
    let Some(a) = a else { return Ok(None) };
    let postcode = text(&format!("{field}.postcode"), &a.postcode, POSTCODE_MAX)?;
    if !postcode.chars().all(|c| c.is_ascii_alphanumeric() || c == '-' || c == ' ') {
        return Err(InputError::new(format!("{field}.postcode"), "may hold only letters, digits, spaces and -"));
    }
    Ok(Some(Address {
        street: text(&format!("{field}.street"), &a.street, ORG_TEXT_MAX)?,
        postcode,
        city: text(&format!("{field}.city"), &a.city, ORG_TEXT_MAX)?,
    }))
}

fn opt_text(field: &str, v: &Option<String>, max: usize) -> Result<Option<String>, InputError> {
    v.as_deref().map(|s| text(field, s, max)).transpose()
}

/// A required text: not blank, no control characters, no surrounding spaces, at most
/// `max` characters. Never shortened: an over-long value is an error.
fn text(field: &str, v: &str, max: usize) -> Result<String, InputError> {
    if v.trim().is_empty() {
        return Err(InputError::new(field, "must not be empty"));
    }
    if v.trim() != v {
        return Err(InputError::new(field, "has leading or trailing spaces"));
    }
    if let Some(c) = v.chars().find(|c| c.is_control()) {
        return Err(InputError::new(field, format!("contains the control character U+{:04X}", c as u32)));
    }
    let n = v.chars().count();
    if n > max {
        return Err(InputError::new(field, format!("is {n} characters long; the limit is {max}")));
    }
    Ok(v.to_string())
}

/// Whether a stored input is still what was recorded: its canonical form (the parsed input
/// serialised again, as `generate` hashes it) hashes to `sha256`.
pub fn input_intact(text: &str, sha256: &str) -> bool {
    parse(text).is_ok_and(|i| {
        crate::support::digest::sha256_hex(&serde_json::to_vec(&i).expect("serialising a parsed input cannot fail"))
            == sha256
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn errors_never_quote_a_cpr_number() {
        let text = crate::testdata::GROUP_1.replace("\"2512489996\"", "2512489996");
        let e = parse(&text).unwrap_err();
        assert_eq!(e.field, "patient.cpr");
        assert!(!e.reason.contains("2512489996"), "{e}");
        assert!(e.reason.contains("xxxxxxxxxx"), "{e}");
    }
}
