//! The rules of MedCom's profiles that no XSD expresses, checked on a parsed document:
//! invariants (FHIRPath constraints, re-implemented with their exact semantics), required
//! slices, fixed/pattern values and required bindings (code lists embedded in [`codes`]).
//!
//! Semantics follow the HL7 validator, as the research note (fhir-validation.md §6) sets
//! out: an invariant passes only when it evaluates to exactly `true` (an empty result
//! fails); FHIRPath `matches()` is a partial match unless the regex is anchored; `resolve()`
//! finds Bundle entries by `fullUrl` or `Type/id`. Each problem names its rule (the
//! invariant's key, or `slice`/`fixed`/`binding`/`cardinality`) and where it is.

use super::codes;
use super::consts::*;
use super::dom::{Document, El};
use crate::model::identifiers::gs1_check_digit;
use crate::schema::Problem;
use std::collections::{HashMap, HashSet};

/// One problem at an element: `rule: Path: reason`, with the element's line and column.
fn problem(el: El<'_>, rule: &str, reason: impl std::fmt::Display) -> Problem {
    Problem { line: Some(el.line()), column: Some(el.column()), message: format!("{rule}: {}: {reason}", el.path()) }
}

/// A Bundle's entries, (entry, resource) in document order, and FHIR `resolve()` among them.
pub(crate) struct Entries<'d> {
    pub list: Vec<(El<'d>, El<'d>)>,
    /// The first entry with each `fullUrl`, and with each (resource type, id): a reference is
    /// looked up, not searched for (a search per reference was quadratic in the entries).
    by_url: HashMap<&'d str, usize>,
    by_type_id: HashMap<(&'d str, &'d str), usize>,
}

impl<'d> Entries<'d> {
    pub fn new(doc: &'d Document) -> Entries<'d> {
        let list: Vec<(El<'d>, El<'d>)> = doc
            .root()
            .children_named("entry")
            .filter_map(|e| e.child("resource").and_then(|r| r.first_child()).map(|r| (e, r)))
            .collect();
        let (mut by_url, mut by_type_id) = (HashMap::new(), HashMap::new());
        for (i, (e, r)) in list.iter().enumerate() {
            if let Some(url) = e.value_at(&["fullUrl"]) {
                by_url.entry(url).or_insert(i);
            }
            if let Some(id) = r.value_at(&["id"]) {
                by_type_id.entry((r.name(), id)).or_insert(i);
            }
        }
        Entries { list, by_url, by_type_id }
    }

    /// FHIR `resolve()` inside a Bundle: the first entry whose `fullUrl` is the reference (a
    /// `urn:uuid:` one too), or whose resource is `Type/id` (relative, or absolute: ending in
    /// `/Type/id`). The rules and what reads a message (`ack::read`) resolve alike.
    pub fn resolve(&self, reference: &str) -> Option<El<'d>> {
        let by_url = self.by_url.get(reference).copied();
        let by_id = reference.rsplit_once('/').and_then(|(t, id)| {
            let kind = t.rsplit_once('/').map_or(t, |(_, kind)| kind);
            self.by_type_id.get(&(kind, id)).copied()
        });
        let i = match (by_url, by_id) {
            (Some(a), Some(b)) => a.min(b),
            (a, b) => a.or(b)?,
        };
        Some(self.list[i].1)
    }
}

/// The Bundle's entries and how references resolve among them.
struct Bundle<'d> {
    root: El<'d>,
    entries: Entries<'d>,
    problems: Vec<Problem>,
}

impl<'d> Bundle<'d> {
    fn new(doc: &'d Document) -> Bundle<'d> {
        Bundle { root: doc.root(), entries: Entries::new(doc), problems: vec![] }
    }

    fn report(&mut self, el: El<'d>, rule: &str, reason: impl std::fmt::Display) {
        self.problems.push(problem(el, rule, reason));
    }

    fn of_type(&self, kind: &str) -> Vec<El<'d>> {
        self.entries.list.iter().filter(|(_, r)| r.name() == kind).map(|(_, r)| *r).collect()
    }

    fn resolve(&self, reference: &str) -> Option<El<'d>> {
        self.entries.resolve(reference)
    }

    /// The resource a Reference element points to.
    fn target(&self, reference_el: Option<El<'d>>) -> Option<El<'d>> {
        reference_el.and_then(|r| r.value_at(&["reference"])).and_then(|v| self.resolve(v))
    }

    /// A Reference that must point into the Bundle (profile aggregation `bundled`) and, when
    /// `kinds` is not empty, at one of those resource types.
    fn bundled(&mut self, reference_el: El<'d>, kinds: &[&str]) {
        let Some(v) = reference_el.value_at(&["reference"]) else {
            self.report(reference_el, "cardinality", "Reference.reference is required here (aggregation bundled)");
            return;
        };
        match self.resolve(v) {
            None => self.report(reference_el, "bundled", format!("`{v}` is not an entry of this Bundle")),
            Some(t) if !kinds.is_empty() && !kinds.contains(&t.name()) => self.report(
                reference_el,
                "reference type",
                format!("`{v}` is a {}, expected {}", t.name(), kinds.join(" or ")),
            ),
            Some(_) => {}
        }
    }

    fn common(&mut self, message_profile: &str) {
        let root = self.root;
        if root.name() != "Bundle" {
            self.report(root, "type", format!("the root is `{}`, not a FHIR Bundle", root.name()));
            return;
        }
        let profiles: Vec<&str> = root.all(&["meta", "profile"]).iter().filter_map(|p| p.value()).collect();
        if !profiles.contains(&message_profile) {
            self.report(root, "profile", format!("Bundle.meta.profile must declare {message_profile}"));
        }
        if let Some(t) = root.child("type").filter(|t| t.value() != Some("message")) {
            self.report(
                t,
                "fixed",
                format!("Bundle.type is `{}`; the profile fixes `message`", t.value().unwrap_or("")),
            );
        }
        // bdl-12: type = 'message' implies entry.first().resource.is(MessageHeader)
        if root.value_at(&["type"]) == Some("message") {
            match self.entries.list.first() {
                Some((_, r)) if r.name() == "MessageHeader" => {}
                Some((e, r)) => {
                    let (e, name) = (*e, r.name());
                    self.report(
                        e,
                        "bdl-12",
                        format!("a message Bundle must start with its MessageHeader, not a {name}"),
                    )
                }
                None => {
                    self.report(root, "bdl-12", "a message Bundle must start with its MessageHeader; it has no entry")
                }
            }
        }
        // bdl-7: fullUrl unique
        let mut seen: HashSet<&str> = HashSet::new();
        for (e, _) in self.entries.list.clone() {
            if let Some(u) = e.value_at(&["fullUrl"]) {
                if !seen.insert(u) {
                    self.report(e, "bdl-7", format!("fullUrl `{u}` appears twice"));
                }
            }
        }
        for (_, r) in self.entries.list.clone() {
            if r.at(&["text", "div"]).is_some_and(|d| !d.has_content()) {
                self.report(
                    r.at(&["text", "div"]).expect("checked"),
                    "txt-2",
                    "the narrative must have non-whitespace content",
                );
            }
        }
        for org in self.of_type("Organization") {
            self.organization(org);
        }
    }

    /// medcom-messaging-organization (via medcom-core-organization and DK-core).
    fn organization(&mut self, org: El<'d>) {
        let ids: Vec<El<'d>> = org.children_named("identifier").collect();
        let with =
            |system: &str| ids.iter().copied().filter(|i| i.value_at(&["system"]) == Some(system)).collect::<Vec<_>>();
        let (gln, sor) = (with(GLN_SYSTEM), with(SOR_SYSTEM));
        let mandatory =
            ["urn:oid:1.2.208.176.1.1", "https://kombit.dk/sts/organisation", "urn:oid:2.16.840.1.113883.2.24.1.1"];
        if !ids.iter().any(|i| i.value_at(&["system"]).is_some_and(|s| mandatory.contains(&s))) {
            self.report(
                org,
                "dk-core-organization-mandatory-identifier",
                "an Organization needs a SOR, KOMBIT or Danish municipality identifier",
            );
        }
        if ids.len() < 2 {
            self.report(
                org,
                "cardinality",
                format!("Organization.identifier has {}; the profile needs at least 2", ids.len()),
            );
        }
        for (slice, found) in [("EAN-ID", &gln), ("SOR-ID", &sor)] {
            if found.len() != 1 {
                self.report(
                    org,
                    "slice",
                    format!("Organization.identifier:{slice} has {} entries; the profile needs exactly 1", found.len()),
                );
            }
        }
        for g in gln {
            let v = g.value_at(&["value"]).unwrap_or("");
            if !(v.len() == 13 && v.bytes().all(|b| b.is_ascii_digit())) {
                self.report(g, "gln-length", format!("GLN `{v}` is not 13 digits"));
            } else {
                let d: Vec<u32> = v.bytes().map(|b| (b - b'0') as u32).collect();
                if gs1_check_digit(&d[..12]) != d[12] {
                    self.report(g, "gln-modulus-10", format!("GLN `{v}` has a bad check digit"));
                }
            }
            self.fixed_use(g);
        }
        for s in sor {
            let v = s.value_at(&["value"]).unwrap_or("");
            if !(v.len() >= 11 && v.bytes().all(|b| b.is_ascii_digit())) {
                self.report(s, "min-digits-sor", format!("SOR id `{v}` is not 11 or more digits"));
            }
            self.fixed_use(s);
        }
    }

    /// DK-core identifier profiles fix `use` to `official` when it is present.
    fn fixed_use(&mut self, identifier: El<'d>) {
        if let Some(u) = identifier.child("use").filter(|u| u.value() != Some("official")) {
            self.report(
                u,
                "fixed",
                format!("Identifier.use is `{}`; DK-core fixes `official`", u.value().unwrap_or("")),
            );
        }
    }

    /// A coding with a fixed system and a code from `allowed` (a required binding).
    fn coding_in(&mut self, coding: El<'d>, system: &str, allowed: &[&str], value_set: &str) {
        let (s, c) = (coding.value_at(&["system"]), coding.value_at(&["code"]));
        if s.is_none() || c.is_none() {
            self.report(coding, "cardinality", "Coding.system and Coding.code are both required here");
        }
        if let Some(s) = s.filter(|s| *s != system) {
            self.report(coding, "binding", format!("system `{s}` is not {system} (required binding {value_set})"));
        } else if let Some(c) = c.filter(|c| !allowed.contains(c)) {
            self.report(coding, "binding", format!("code `{c}` is not in {value_set} (required binding)"));
        }
    }
}

/// Does `v` contain a lower-case `urn:uuid:` UUID (medcom-uuidv4's unanchored `matches`)?
fn matches_uuid(v: &str) -> bool {
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

/// DK-core `cpr`: `^((((0[1-9]|1[0-9]|2[0-9]|3[0-1])(01|03|05|07|08|10|12))|((0[1-9]|1[0-9]|2[0-9]|30)(04|06|09|11))|((0[1-9]|1[0-9]|2[0-9])(02)))[0-9]{6})$`.
fn dk_core_cpr(v: &str) -> bool {
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

/// The 5.0.3+ `medcom-carecommunication-definition-url`:
/// `^http://medcomfhir.dk/ig/messagedefinitions/MessageDefinition/MedComCareCommunicationMessageDefinition[|]5[.][0-9]{1,2}$`.
fn definition_url_ok(v: &str) -> bool {
    let prefix =
        "http://medcomfhir.dk/ig/messagedefinitions/MessageDefinition/MedComCareCommunicationMessageDefinition|5.";
    v.strip_prefix(prefix)
        .is_some_and(|minor| (1..=2).contains(&minor.len()) && minor.bytes().all(|b| b.is_ascii_digit()))
}

/// Checks a CareCommunication message Bundle (medcom-careCommunication-message 5.0.4 and
/// what it inherits).
pub fn care_communication(doc: &Document) -> Vec<Problem> {
    let mut b = Bundle::new(doc);
    b.common(PROFILE_CC_MESSAGE);
    if b.root.name() != "Bundle" {
        return b.problems;
    }
    let root = b.root;
    let headers = b.of_type("MessageHeader");
    let communications = b.of_type("Communication");
    let provenances = b.of_type("Provenance");

    // medcom-careCommunication-1: entry[0].resource.ofType(MessageHeader).meta.profile.startsWith(...)
    let first_header = b.entries.list.first().map(|(_, r)| *r).filter(|r| r.name() == "MessageHeader");
    let cc1 = first_header.is_some_and(|h| {
        let p: Vec<&str> = h.all(&["meta", "profile"]).iter().filter_map(|p| p.value()).collect();
        p.len() == 1 && p[0].starts_with(PROFILE_CC_HEADER)
    });
    if !cc1 {
        b.report(
            first_header.unwrap_or(root),
            "medcom-careCommunication-1",
            "the first entry must be a MessageHeader whose meta.profile is medcom-careCommunication-messageHeader",
        );
    }
    // medcom-careCommunication-2
    let patients = b.of_type("Patient");
    if patients.len() != 1 {
        b.report(
            root,
            "medcom-careCommunication-2",
            format!("the Bundle holds {} Patient resources; exactly one is required", patients.len()),
        );
    }
    // medcom-careCommunication-3
    for p in &provenances {
        let prof: Vec<&str> = p.all(&["meta", "profile"]).iter().filter_map(|x| x.value()).collect();
        if !(prof.len() == 1 && prof[0].starts_with(PROFILE_CC_PROVENANCE)) {
            b.report(
                *p,
                "medcom-careCommunication-3",
                "every Provenance must declare meta.profile medcom-careCommunication-provenance",
            );
        }
    }
    // medcom-careCommunication-4: entry.resource.ofType(Practitioner).name.exists()
    if !b.of_type("Practitioner").iter().any(|p| p.child("name").is_some()) {
        b.report(root, "medcom-careCommunication-4", "a Practitioner with a name is required");
    }
    // medcom-careCommunication-13
    if !b.of_type("PractitionerRole").iter().any(|r| r.value_at(&["practitioner", "reference"]).is_some()) {
        b.report(root, "medcom-careCommunication-13", "a PractitionerRole referencing its Practitioner is required");
    }
    // medcom-messaging-2
    if provenances.is_empty() {
        b.report(root, "medcom-messaging-2", "a message needs at least one Provenance");
    }
    let header = headers.first().copied();
    let sender_org = header.and_then(|h| b.target(h.child("sender")));
    let receiver_orgs: Vec<El<'_>> = header
        .map(|h| h.children_named("destination").filter_map(|d| b.target(d.child("receiver"))).collect())
        .unwrap_or_default();
    let communication = communications.first().copied();
    if let Some(c) = communication {
        // medcom-careCommunication-11: a more specific sender belongs to the MessageHeader's sender.
        let exts: Vec<El<'_>> = c.children_named("extension").collect();
        if !exts.is_empty() {
            let ok = exts.iter().filter_map(|e| b.target(e.child("valueReference"))).any(|t| {
                ["managingOrganization", "organization"]
                    .iter()
                    .any(|f| b.target(t.child(f)).zip(sender_org).is_some_and(|(o, s)| o.same(&s)))
            });
            if !ok {
                b.report(
                    c,
                    "medcom-careCommunication-11",
                    "Communication.extension:sender must belong to the MessageHeader's sender organization",
                );
            }
        }
        // medcom-careCommunication-12
        if let Some(rec) = c.child("recipient") {
            let ok = b.target(Some(rec)).is_some_and(|t| {
                ["managingOrganization", "organization"]
                    .iter()
                    .any(|f| b.target(t.child(f)).is_some_and(|o| receiver_orgs.iter().any(|r| r.same(&o))))
            });
            if !ok {
                b.report(
                    rec,
                    "medcom-careCommunication-12",
                    "Communication.recipient must belong to the MessageHeader's receiver",
                );
            }
        }
        // medcom-careCommunication-15 (5.0.4)
        let encounters = b.of_type("Encounter");
        let encounter_ref = c.child("encounter");
        let cc15 = if encounters.is_empty() {
            encounter_ref.is_none()
        } else {
            let target = b.target(encounter_ref);
            encounters.len() == 1 && target.is_some_and(|t| t.same(&encounters[0]))
        };
        if !cc15 {
            b.report(encounter_ref.unwrap_or(root), "medcom-careCommunication-15", "an Encounter in the Bundle must be referenced by Communication.encounter, and Communication.encounter needs that Encounter");
        }
    }
    if communications.len() != 1 {
        b.report(
            root,
            "cardinality",
            format!(
                "the Bundle holds {} Communication resources; a CareCommunication has exactly one",
                communications.len()
            ),
        );
    }
    if headers.len() != 1 {
        b.report(
            root,
            "cardinality",
            format!("the Bundle holds {} MessageHeader resources; a message has exactly one", headers.len()),
        );
    }
    if let Some(h) = header {
        header_rules(&mut b, h, codes::MESSAGE_TYPES, "care-communication-message");
        if let Some(f) = h.child("focus") {
            b.bundled(f, &["Communication"]);
        } else {
            b.report(h, "cardinality", "MessageHeader.focus 1..1 is missing");
        }
        match h.child("definition") {
            None => b.report(h, "cardinality", "MessageHeader.definition 1..1 is missing"),
            Some(d) if !definition_url_ok(d.value().unwrap_or("")) => b.report(
                d,
                "medcom-carecommunication-definition-url",
                format!("`{}` is not MedComCareCommunicationMessageDefinition|5.x", d.value().unwrap_or("")),
            ),
            Some(_) => {}
        }
    }
    if let Some(c) = communication {
        communication_rules(&mut b, c);
    }
    for p in provenances {
        provenance_rules(&mut b, p);
    }
    for p in patients {
        patient_rules(&mut b, p);
    }
    b.problems
}

fn header_rules<'d>(b: &mut Bundle<'d>, h: El<'d>, types: &[&str], event: &str) {
    match h.child("eventCoding") {
        Some(ev) => {
            b.coding_in(ev, codes::EVENT_SYSTEM, types, "medcom-messaging-messageTypes");
            if let Some(c) = ev.child("code").filter(|c| c.value() != Some(event)) {
                b.report(c, "fixed", format!("event code `{}`; the profile fixes `{event}`", c.value().unwrap_or("")));
            }
        }
        None => b.report(h, "cardinality", "MessageHeader.eventCoding 1..1 is missing"),
    }
    let mut primaries = 0;
    for d in h.children_named("destination").collect::<Vec<_>>() {
        let uses: Vec<El<'d>> = d.extensions(EXT_DESTINATION_USE).collect();
        let code = uses.first().and_then(|u| u.at(&["valueCoding"]));
        match code.and_then(|c| c.value_at(&["code"])) {
            Some("primary") if uses.len() == 1 => {
                primaries += 1;
                b.coding_in(
                    code.expect("matched"),
                    codes::DESTINATION_USE_SYSTEM,
                    &["primary"],
                    "medcom-messaging-destinationUse",
                );
            }
            Some("cc") => b.report(d, "slice", "MessageHeader.destination:cc is 0..0 for this message"),
            _ => b.report(
                d,
                "slice",
                "each destination needs one destinationUseExtension `primary` (the slicing is closed)",
            ),
        }
        match d.child("receiver") {
            Some(r) => b.bundled(r, &["Organization"]),
            None => b.report(d, "cardinality", "MessageHeader.destination.receiver 1..1 is missing"),
        }
    }
    if primaries != 1 {
        b.report(
            h,
            "slice",
            format!("MessageHeader.destination:primary has {primaries} entries; exactly 1 is required"),
        );
    }
    match h.child("sender") {
        Some(s) => b.bundled(s, &["Organization"]),
        None => b.report(h, "cardinality", "MessageHeader.sender 1..1 is missing"),
    }
    if h.value_at(&["id"]).is_none() {
        b.report(h, "cardinality", "MessageHeader.id 1..1 is missing");
    }
}

fn communication_rules<'d>(b: &mut Bundle<'d>, c: El<'d>) {
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
            if d.child("valueDateTime").is_none() {
                b.report(*d, "cardinality", "medcom-core-datetime-extension needs valueDateTime");
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
                None => b.report(att, "binding", "contentType from medcom-core-attachmentMimeTypes is required"),
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

fn provenance_rules<'d>(b: &mut Bundle<'d>, p: El<'d>) {
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

fn patient_rules<'d>(b: &mut Bundle<'d>, p: El<'d>) {
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

/// Checks an Acknowledgement message Bundle (medcom-messaging-acknowledgement 2.0.3).
pub fn acknowledgement(doc: &Document) -> Vec<Problem> {
    let mut b = Bundle::new(doc);
    b.common(PROFILE_ACK_MESSAGE);
    if b.root.name() != "Bundle" {
        return b.problems;
    }
    let root = b.root;
    let headers = b.of_type("MessageHeader");
    let Some(h) = headers.first().copied() else {
        b.report(root, "cardinality", "an Acknowledgement needs a MessageHeader");
        return b.problems;
    };
    // medcom-acknowledgement-2 (conformsTo the acknowledgement header): its declared profile,
    // the event and the response it must carry.
    let profiles: Vec<&str> = h.all(&["meta", "profile"]).iter().filter_map(|p| p.value()).collect();
    if !profiles.contains(&PROFILE_ACK_HEADER) {
        b.report(
            h,
            "medcom-acknowledgement-2",
            "the MessageHeader must conform to medcom-messaging-acknowledgementHeader (declare it in meta.profile)",
        );
    }
    header_rules(&mut b, h, codes::MESSAGE_TYPES, "acknowledgement-message");
    let code = h.value_at(&["response", "code"]);
    match h.child("response") {
        None => b.report(h, "cardinality", "MessageHeader.response 1..1 is missing"),
        Some(r) => {
            if r.value_at(&["identifier"]).is_none() {
                b.report(r, "cardinality", "MessageHeader.response.identifier 1..1 is missing");
            }
            match code {
                Some(c) if codes::RESPONSE_CODES.contains(&c) => {}
                c => b.report(
                    r,
                    "binding",
                    format!("response.code `{}` is not ok, transient-error or fatal-error", c.unwrap_or("")),
                ),
            }
        }
    }
    // medcom-acknowledgement-1
    if code != Some("ok") && b.of_type("OperationOutcome").is_empty() {
        b.report(h, "medcom-acknowledgement-1", "a response other than `ok` must include an OperationOutcome");
    }
    b.problems
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn uuid_rule_is_an_unanchored_lower_case_match() {
        assert!(matches_uuid("urn:uuid:c29f6032-28bf-4a11-af98-6f451fa77fee"));
        assert!(matches_uuid("x urn:uuid:c29f6032-28bf-4a11-af98-6f451fa77fee y"));
        assert!(!matches_uuid("urn:uuid:C29F6032-28bf-4a11-af98-6f451fa77fee"));
        assert!(!matches_uuid("c29f6032-28bf-4a11-af98-6f451fa77fee"));
        assert!(!matches_uuid("urn:uuid:c29f6032-28bf-4a11-af98-6f451fa77fe"));
    }

    #[test]
    fn resolve_by_full_url_relative_or_absolute_type_and_id() {
        let xml = r#"<Bundle xmlns="http://hl7.org/fhir">
  <entry><fullUrl value="urn:uuid:1"/><resource><Organization><id value="a"/></Organization></resource></entry>
  <entry><fullUrl value="https://x/Patient/b"/><resource><Patient><id value="b"/></Patient></resource></entry>
</Bundle>"#;
        let doc = Document::parse(xml.as_bytes()).unwrap();
        let b = Bundle::new(&doc);
        let found = |reference: &str| b.resolve(reference).map(|r| r.name());
        assert_eq!(found("urn:uuid:1"), Some("Organization"));
        assert_eq!(found("Organization/a"), Some("Organization"));
        assert_eq!(found("https://elsewhere/fhir/Organization/a"), Some("Organization"));
        assert_eq!(found("https://x/Patient/b"), Some("Patient"));
        assert_eq!(found("Patient/b"), Some("Patient"));
        assert_eq!(found("XOrganization/a"), None);
        assert_eq!(found("Patient/a"), None);
        assert_eq!(found("Organization/b"), None);
        assert_eq!(found("a"), None);
    }

    #[test]
    fn cpr_and_definition_rules() {
        assert!(dk_core_cpr("2509479989"));
        assert!(dk_core_cpr("2902004234"));
        assert!(!dk_core_cpr("3002001234"));
        assert!(!dk_core_cpr("2509479"));
        assert!(definition_url_ok(CC_DEFINITION));
        assert!(definition_url_ok(&CC_DEFINITION.replace("|5.0", "|5.12")));
        assert!(!definition_url_ok(&CC_DEFINITION.replace("|5.0", "|4.0")));
        assert!(!definition_url_ok(&CC_DEFINITION.replace("|5.0", "|5.123")));
    }
}
