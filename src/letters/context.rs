//! The values a template can use, with Danish formatting (dates, decimal commas).

use crate::model::{FlsResult, Group};
use chrono::{Datelike, NaiveDate};
use minijinja::{context, Value};

/// Every field a template may name. A template naming anything else fails at load.
pub const KNOWN_FIELDS: &[&str] = &[
    "patient",
    "patient.given_name",
    "patient.surname",
    "patient.full_name",
    "scan",
    "scan.date",
    "scan.t_score_spine",
    "scan.t_score_hip",
    "group",
    "rescan_after_years",
    "rescan_year",
    "letter_date",
    "sender",
    "sender.organisation",
    "sender.department",
    "sender.phone",
    "sender.street",
    "sender.postcode",
    "sender.city",
    "author",
    "author.name",
    "author.title",
    "corrected",
];

const MONTHS: [&str; 12] = [
    "januar",
    "februar",
    "marts",
    "april",
    "maj",
    "juni",
    "juli",
    "august",
    "september",
    "oktober",
    "november",
    "december",
];

/// `14. marts 2025`.
pub fn danish_date(d: NaiveDate) -> String {
    format!("{}. {} {}", d.day(), MONTHS[d.month0() as usize], d.year())
}

/// `-2,7`: one decimal, Danish decimal comma.
fn t_score(t: Option<f64>) -> Value {
    t.map(|t| Value::from(format!("{t:.1}").replace('.', ","))).unwrap_or(Value::from(()))
}

/// `corrected`: the letter corrects one already sent (XDIS91 says so with `rettetbrev`; a
/// CareCommunication has no such status, so the words must).
pub(super) fn build(r: &FlsResult, letter_date: NaiveDate, corrected: bool) -> Value {
    let (rescan_after_years, rescan_year) = match r.group {
        Group::Osteopenia { rescan_after_years: n } => (Value::from(n), Value::from(r.scan.date.year() + n as i32)),
        _ => (Value::from(()), Value::from(())),
    };
    let addr = r.sender.address.as_ref();
    context! {
        patient => context! {
            given_name => &r.patient.given_name,
            surname => &r.patient.surname,
            full_name => r.patient.full_name(),
        },
        scan => context! {
            date => danish_date(r.scan.date),
            t_score_spine => t_score(r.scan.t_score_spine),
            t_score_hip => t_score(r.scan.t_score_hip),
        },
        group => r.group.code(),
        rescan_after_years,
        rescan_year,
        letter_date => danish_date(letter_date),
        sender => context! {
            organisation => &r.sender.organisation,
            department => &r.sender.department,
            phone => &r.sender.phone,
            street => addr.map(|a| a.street.clone()),
            postcode => addr.map(|a| a.postcode.clone()),
            city => addr.map(|a| a.city.clone()),
        },
        author => context! {
            name => &r.author.name,
            title => &r.author.title,
        },
        corrected,
    }
}
