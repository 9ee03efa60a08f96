//! The Communication of a CareCommunication: identifier, status, category and priority,
//! topic, subject, and every payload with its extensions (medcom-careCommunication-5 to -9).

use super::message::Bundle;
use crate::formats::fhir::codes;
use crate::formats::fhir::consts::{EXT_CONTACT, EXT_DATETIME, EXT_IDENTIFIER, EXT_PRACTITIONER};
use crate::formats::fhir::dom::El;

/// Does `v` contain a lower-case `urn:uuid:` UUID (medcom-uuidv4's unanchored `matches`)?
pub(super) fn matches_uuid(v: &str) -> bool {
    let pattern = [8, 4, 4, 4, 12];
    v.match_indices("urn:uuid:").any(|(i, _)| {
        let mut rest = &v[i + 9..];
        pattern.iter().enumerate().all(|(k, &n)| {
            let ok =
                rest.len() >= n && rest.as_bytes()[..n].iter().all(|b| b.is_ascii_digit() || (b'a'..=b'f').contains(b));
            rest = if ok { &rest[n..] } else { "" };
            ok && (k == 4 || rest.strip_prefix('-').map(|r| rest = r).is_some())
        })
    })
}

/// A dateTime with its time and time zone (`…T10:00:00+01:00`, `…Z`), as MedCom wants them.
fn full_date_time(v: &str) -> bool {
    let Some((_, time)) = v.split_once('T') else { return false };
    time.ends_with('Z')
        || time.rsplit_once(['+', '-']).is_some_and(|(_, zone)| zone.len() == 5 && zone.as_bytes()[2] == b':')
}

pub(super) fn communication_rules<'d>(b: &mut Bundle<'d>, c: El<'d>) {
    let ids: Vec<El<'d>> = c.children_named("identifier").collect();
    match ids.as_slice() {
        [id] => match id.value_at(&["value"]) {
            Some(v) if matches_uuid(v) => {}
            Some(v) => b.report(*id, "medcom-uuidv4", format!("`{v}` is not urn:uuid: + a lower-case UUID")),
            None => b.report(*id, "cardinality", "Communication.identifier.value 1..1 is missing"),
        },
        _ => b.report(c, "cardinality", format!("Communication.identifier has {}; exactly 1 is required", ids.len())),
    }
    if let Some(s) = c.child("status").filter(|s| s.value() != Some("unknown")) {
        b.report(
            s,
            "fixed",
            format!("Communication.status is `{}`; the profile fixes `unknown`", s.value().unwrap_or("")),
        );
    }
    let categories: Vec<El<'d>> = c.children_named("category").collect();
    let codings: Vec<El<'d>> = categories.iter().flat_map(|x| x.children_named("coding")).collect();
    if categories.len() != 1 || codings.len() != 1 {
        b.report(c, "cardinality", "Communication.category and its coding are 1..1");
    }
    if let Some(coding) = codings.first() {
        let all: Vec<&str> = codes::CATEGORIES.iter().map(|(c, _)| *c).collect();
        b.coding_in(*coding, codes::CATEGORY_SYSTEM, &all, "medcom-careCommunication-categories");
    }
    let category = codings.first().and_then(|x| x.value_at(&["code"]));
    // medcom-careCommunication-5: where(category.coding.code != 'regarding-referral').priority.empty()
    if let (Some(cat), Some(p)) = (category, c.child("priority")) {
        if cat != "regarding-referral" {
            b.report(
                p,
                "medcom-careCommunication-5",
                format!("priority is only allowed with category regarding-referral, not {cat}"),
            );
        }
    }
    if let Some(p) = c.child("priority") {
        if !p.value().is_some_and(|v| codes::PRIORITIES.contains(&v)) {
            b.report(
                p,
                "binding",
                format!("priority `{}` is not in medcom-careCommunication-requestPriority", p.value().unwrap_or("")),
            );
        }
    }
    // medcom-careCommunication-6
    let cc6 = match category {
        Some(cat) if cat != "other" => true,
        cat => cat == Some("other") && c.child("topic").is_some(),
    };
    if !cc6 {
        b.report(c, "medcom-careCommunication-6", "category `other` needs a topic");
    }
    if let Some(t) = c.child("topic").filter(|t| t.child("text").is_none()) {
        b.report(t, "cardinality", "Communication.topic.text 1..1 is missing");
    }
    match c.child("subject") {
        Some(s) => b.bundled(s, &["Patient"]),
        None => b.report(c, "cardinality", "Communication.subject 1..1 is missing"),
    }
    if let Some(r) = c.child("recipient") {
        b.bundled(r, &["PractitionerRole", "CareTeam"]);
    }
    // medcom-careCommunication-9
    if let Some(e) = c.child("encounter") {
        let ok = b.target(Some(e)).is_some_and(|t| t.at(&["episodeOfCare", "identifier"]).is_some());
        if !ok {
            b.report(e, "medcom-careCommunication-9", "the Encounter must carry an episodeOfCare identifier");
        }
    }
    let payloads: Vec<El<'d>> = c.children_named("payload").collect();
    let mut strings = 0;
    let mut cc8_names = false;
    for p in &payloads {
        let one = |url: &'d str| p.extensions(url).collect::<Vec<_>>();
        let (date, ident, author, contact) =
            (one(EXT_DATETIME), one(EXT_IDENTIFIER), one(EXT_PRACTITIONER), one(EXT_CONTACT));
        let is_string = p.child("contentString").is_some();
        let is_attachment = p.child("contentAttachment").is_some();
        strings += is_string as usize;
        let required: &[(&str, &Vec<El<'d>>)] = if is_string {
            &[("date", &date), ("identifier", &ident), ("author", &author), ("authorContact", &contact)]
        } else {
            &[("date", &date), ("identifier", &ident)]
        };
        for (slice, found) in required {
            if found.len() != 1 {
                let kind = if is_string { "string" } else { "attachment" };
                b.report(
                    *p,
                    "slice",
                    format!("payload:{kind}.extension:{slice} has {}; exactly 1 is required", found.len()),
                );
            }
        }
        for (slice, found) in [("author", &author), ("authorContact", &contact)] {
            if found.len() > 1 {
                b.report(*p, "slice", format!("payload.extension:{slice} is 0..1"));
            }
        }
        for d in &date {
            match d.child("valueDateTime") {
                None => b.report(*d, "cardinality", "medcom-core-datetime-extension needs valueDateTime"),
                // R4 allows a partial dateTime; MedCom's governance wants date, time and time
                // zone in every timestamp (research note medcom-fhir.md 1.8).
                Some(v) if !v.value().is_some_and(full_date_time) => b.report(
                    v,
                    "medcom-timestamp",
                    format!("`{}` needs a date, a time and a time zone", v.value().unwrap_or("")),
                ),
                Some(_) => {}
            }
        }
        for i in &ident {
            match i.child("valueIdentifier") {
                Some(vi) => {
                    match vi.value_at(&["value"]) {
                        Some(v) if matches_uuid(v) => {}
                        Some(v) => b.report(
                            vi,
                            "medcom-uuidv4",
                            format!("payload identifier `{v}` is not urn:uuid: + a lower-case UUID"),
                        ),
                        None => b.report(vi, "cardinality", "medcom-assigned-identifier.value 1..1 is missing"),
                    }
                    if vi.child("assigner").is_none() {
                        b.report(vi, "cardinality", "medcom-assigned-identifier.assigner 1..1 is missing");
                    }
                }
                None => b.report(*i, "cardinality", "medcom-core-identifier-extension needs valueIdentifier"),
            }
        }
        for a in &author {
            match a.child("valueReference") {
                Some(r) => {
                    b.bundled(r, &["PractitionerRole"]);
                    if let Some(role) = b.target(Some(r)) {
                        // medcom-careCommunication-7: code.coding.code.exists() xor code.text.exists()
                        let coded = role.all(&["code", "coding", "code"]).iter().any(|x| x.value().is_some());
                        let text = role.all(&["code", "text"]).iter().any(|x| x.value().is_some());
                        if coded == text {
                            b.report(
                                role,
                                "medcom-careCommunication-7",
                                "the author's PractitionerRole needs exactly one of code.coding.code and code.text",
                            );
                        }
                        // medcom-careCommunication-8 collects names across payloads.
                        if b.target(role.child("practitioner")).is_some_and(|pr| pr.child("name").is_some()) {
                            cc8_names = true;
                        }
                    }
                }
                None => b.report(*a, "cardinality", "medcom-core-practitioner-extension needs valueReference"),
            }
        }
        for k in &contact {
            let cp = k.child("valueContactPoint");
            if let Some(s) = cp.and_then(|cp| cp.child("system")).filter(|s| s.value() != Some("phone")) {
                b.report(
                    s,
                    "fixed",
                    format!("contact system `{}`; the profile fixes `phone`", s.value().unwrap_or("")),
                );
            }
            match cp.and_then(|cp| cp.value_at(&["value"])) {
                // medcom-core-contact: matches('[+]?[-0-9]'), unanchored.
                Some(v) if v.bytes().any(|b| b.is_ascii_digit() || b == b'-') => {}
                Some(v) => b.report(*k, "medcom-core-contact", format!("`{v}` is not a phone number")),
                None => b.report(*k, "cardinality", "medcom-core-contact-extension needs valueContactPoint.value"),
            }
        }
        if let Some(att) = p.child("contentAttachment").filter(|_| is_attachment) {
            match att.child("contentType") {
                Some(ct) if ct.value().is_some_and(|v| codes::ATTACHMENT_MIME_TYPES.contains(&v)) => {}
                Some(ct) => b.report(
                    ct,
                    "binding",
                    format!("contentType `{}` is not in medcom-core-attachmentMimeTypes", ct.value().unwrap_or("")),
                ),
                // MedCom binds contentType only when it is there (0..1: a link attachment may
                // leave it out); flspost always names the type of what it attaches.
                None => b.report_profile_only(
                    att,
                    "flspost-profile",
                    "contentType is required by flspost's profile (MedCom: 0..1, bound when present)",
                ),
            }
            if att.child("title").is_none() {
                b.report(att, "cardinality", "payload:attachment.content.title 1..1 is missing");
            }
        }
    }
    if strings == 0 {
        b.report(c, "slice", "Communication.payload:string is 1..*: a text payload is required");
    }
    // medcom-careCommunication-8: ...resolve().practitioner.resolve().name.exists()
    if !cc8_names {
        b.report(
            c,
            "medcom-careCommunication-8",
            "a payload author's PractitionerRole must lead to a Practitioner with a name",
        );
    }
}
