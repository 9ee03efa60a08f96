//! The Patient of a CareCommunication: a DK-core CPR identifier and one official name.

use super::message::Bundle;
use crate::formats::fhir::consts::CPR_SYSTEM;
use crate::formats::fhir::dom::El;

/// DK-core `cpr`: `^((((0[1-9]|1[0-9]|2[0-9]|3[0-1])(01|03|05|07|08|10|12))|((0[1-9]|1[0-9]|2[0-9]|30)(04|06|09|11))|((0[1-9]|1[0-9]|2[0-9])(02)))[0-9]{6})$`.
pub(super) fn dk_core_cpr(v: &str) -> bool {
    if v.len() != 10 || !v.bytes().all(|b| b.is_ascii_digit()) {
        return false;
    }
    let (day, month): (u32, u32) = (v[..2].parse().unwrap_or(0), v[2..4].parse().unwrap_or(0));
    let max = match month {
        1 | 3 | 5 | 7 | 8 | 10 | 12 => 31,
        4 | 6 | 9 | 11 => 30,
        2 => 29,
        _ => 0,
    };
    (1..=max).contains(&day)
}

pub(super) fn patient_rules<'d>(b: &mut Bundle<'d>, p: El<'d>) {
    let ids: Vec<El<'d>> = p.children_named("identifier").collect();
    if ids.is_empty() {
        b.report(p, "cardinality", "Patient.identifier is 1..*");
    }
    for i in ids.iter().filter(|i| i.value_at(&["system"]) == Some(CPR_SYSTEM)) {
        let v = i.value_at(&["value"]).unwrap_or("");
        if !dk_core_cpr(v) {
            // The value is not repeated: it may be a CPR number.
            b.report(*i, "cpr", "the CPR identifier is not 10 digits starting with a valid DDMM");
        }
        b.fixed_use(*i);
    }
    let official: Vec<El<'d>> = p.children_named("name").filter(|n| n.value_at(&["use"]) == Some("official")).collect();
    match official.as_slice() {
        [n] if n.child("family").is_some() => {}
        [n] => b.report(*n, "cardinality", "Patient.name:official.family 1..1 is missing"),
        _ => b.report(p, "slice", format!("Patient.name:official has {}; exactly 1 is required", official.len())),
    }
}
