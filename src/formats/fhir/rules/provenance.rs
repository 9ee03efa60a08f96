//! The Provenance of a CareCommunication: one target, the time, the activity, bundled
//! agents, and its entities' closed slicing.

use super::message::Bundle;
use crate::formats::fhir::codes;
use crate::formats::fhir::dom::El;

pub(super) fn provenance_rules<'d>(b: &mut Bundle<'d>, p: El<'d>) {
    let targets: Vec<El<'d>> = p.children_named("target").collect();
    if targets.len() != 1 {
        b.report(p, "cardinality", format!("Provenance.target has {}; exactly 1 is required", targets.len()));
    }
    if p.child("occurredDateTime").is_none() {
        b.report(p, "slice", "Provenance.occurred[x]:occurredDateTime 1..1 is missing");
    }
    let codings: Vec<El<'d>> = p.all(&["activity", "coding"]);
    match codings.as_slice() {
        [coding] => b.coding_in(
            *coding,
            codes::ACTIVITY_SYSTEM,
            codes::CC_ACTIVITIES,
            "medcom-careCommunication-messagingActivities",
        ),
        _ => b.report(p, "cardinality", "Provenance.activity.coding is 1..1"),
    }
    for w in p.all(&["agent", "who"]) {
        b.bundled(w, &["Organization"]);
    }
    let entities: Vec<El<'d>> = p.children_named("entity").collect();
    let (mut sources, mut revisions) = (0, 0);
    for e in &entities {
        match e.value_at(&["role"]) {
            Some("source") => {
                sources += 1;
                if e.at(&["what", "identifier"]).is_none() {
                    b.report(*e, "slice", "Provenance.entity:payload.what.identifier 1..1 is missing");
                }
            }
            Some("revision") => revisions += 1,
            other => b.report(
                *e,
                "slice",
                format!(
                    "entity role `{}` matches no slice (payload `source`, preceedingMessage `revision`; closed)",
                    other.unwrap_or("")
                ),
            ),
        }
    }
    if sources == 0 {
        b.report(p, "slice", "Provenance.entity:payload (role source) is 1..*");
    }
    if revisions > 1 {
        b.report(p, "slice", "Provenance.entity:preceedingMessage (role revision) is 0..1");
    }
}
