//! What every MedCom message Bundle is checked for, and what the checks work with: the
//! Bundle's entries and FHIR `resolve()` among them ([`Entries`]), the problems found so far,
//! and the rules all messages share (bdl-12, bdl-7, txt-2, the Organizations, bindings).

use super::Findings;
use crate::formats::fhir::consts::{GLN_SYSTEM, SOR_SYSTEM};
use crate::formats::fhir::dom::{Document, El};
use crate::model::identifiers::gs1_check_digit;
use crate::schema::problem::Problem;
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
pub(super) struct Bundle<'d> {
    pub(super) root: El<'d>,
    pub(super) entries: Entries<'d>,
    /// Against MedCom's standard (its profiles' rules and invariants, and what they inherit).
    pub(super) problems: Vec<Problem>,
    /// Only against flspost's narrower profile: what MedCom allows and flspost never writes.
    pub(super) profile_only: Vec<Problem>,
}

impl<'d> Bundle<'d> {
    pub(super) fn new(doc: &'d Document) -> Bundle<'d> {
        Bundle { root: doc.root(), entries: Entries::new(doc), problems: vec![], profile_only: vec![] }
    }

    /// A problem by MedCom's standard.
    pub(super) fn report(&mut self, el: El<'d>, rule: &str, reason: impl std::fmt::Display) {
        self.problems.push(problem(el, rule, reason));
    }

    /// A problem by flspost's narrower profile only (the message is no less valid to MedCom).
    pub(super) fn report_profile_only(&mut self, el: El<'d>, rule: &str, reason: impl std::fmt::Display) {
        self.profile_only.push(problem(el, rule, reason));
    }

    /// What the checks found, by verdict.
    pub(super) fn findings(self) -> Findings {
        Findings { standard: self.problems, profile_only: self.profile_only }
    }

    pub(super) fn of_type(&self, kind: &str) -> Vec<El<'d>> {
        self.entries.list.iter().filter(|(_, r)| r.name() == kind).map(|(_, r)| *r).collect()
    }

    pub(super) fn resolve(&self, reference: &str) -> Option<El<'d>> {
        self.entries.resolve(reference)
    }

    /// The resource a Reference element points to.
    pub(super) fn target(&self, reference_el: Option<El<'d>>) -> Option<El<'d>> {
        reference_el.and_then(|r| r.value_at(&["reference"])).and_then(|v| self.resolve(v))
    }

    /// A Reference that must point into the Bundle (profile aggregation `bundled`) and, when
    /// `kinds` is not empty, at one of those resource types.
    pub(super) fn bundled(&mut self, reference_el: El<'d>, kinds: &[&str]) {
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

    pub(super) fn common(&mut self, message_profile: &str) {
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
    pub(super) fn fixed_use(&mut self, identifier: El<'d>) {
        if let Some(u) = identifier.child("use").filter(|u| u.value() != Some("official")) {
            self.report(
                u,
                "fixed",
                format!("Identifier.use is `{}`; DK-core fixes `official`", u.value().unwrap_or("")),
            );
        }
    }

    /// A coding with a fixed system and a code from `allowed` (a required binding).
    pub(super) fn coding_in(&mut self, coding: El<'d>, system: &str, allowed: &[&str], value_set: &str) {
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
