//! The CareCommunication writer: one FHIR R4 message Bundle (XML, UTF-8) carrying the GP's
//! copy of an FLS result, as MedCom's IG 5.0.x and its examples describe it.
//!
//! Entries, in the order of MedCom's examples: MessageHeader (first, bdl-12), Patient,
//! Communication, PractitionerRole, Practitioner, the sending Organization, the GP practice's
//! Organization, and one Provenance `new-message`. Every resource but the Bundle has a Danish
//! narrative showing what MedCom requires in narrative; the PDF's base64 never appears there.
//!
//! What the letter says is the GP text `letters` renders, the same text XDIS91 carries: its
//! subject is `Communication.topic`, its body (paragraphs, line breaks as `&#xA;`) the string
//! payload. Identity comes from [`Identity`], which the caller derives ([`Identity::derive`]).
//!
//! A correction of a letter already sent is a new message: activity `new-message` (the
//! CareCommunication activities are new/reply/forward; there is no `modify`), a new
//! `MessageHeader.id` (changed content, MedCom reliable messaging) and, as every new message,
//! a new thread. MedCom's XDIS91 mapping (January 2026) maps `Letter.StatusCode`, so also
//! `rettetbrev`, to `Provenance.activity` "Default: new-message". See README, "Corrections".

use super::codes;
use super::consts::*;
use super::time::fhir_time;
use super::validation::validate;
use crate::error::Error;
use crate::formats::identity;
use crate::input::InputError;
use crate::letters::LetterText;
use crate::model::MessageKind;
use crate::model::{Address, FlsResult};
use chrono::{DateTime, FixedOffset, Utc};
use quick_xml::events::{BytesDecl, BytesEnd, BytesStart, BytesText, Event};
use quick_xml::Writer;
use std::borrow::Cow;
use uuid::Uuid;

/// The optional PDF for the GP: a second payload, `application/pdf`.
#[derive(Clone, Debug)]
pub struct Attachment<'a> {
    pub pdf: &'a [u8],
    /// Shown to the GP; MedCom: without a `.pdf` suffix (it is cut here if present).
    pub title: &'a str,
    /// The payload identifier (`urn:uuid:` + this, lower case).
    pub identifier: Uuid,
    /// The payload date (when the document was approved).
    pub date: DateTime<FixedOffset>,
}

/// Who this message is and when it is sent; MedCom's identity rules
/// (research note §3.3): `message_id` identifies the letter and stays the same when the same
/// content is resent; `bundle_id` is new on every send (it is the VANS envelope identifier);
/// `sent` gives Bundle.timestamp and the Provenance times.
#[derive(Clone, Debug)]
pub struct Identity<'a> {
    /// `MessageHeader.id`.
    pub message_id: Uuid,
    /// `Bundle.id`.
    pub bundle_id: Uuid,
    /// `Communication.identifier`: the thread (new for every new message, kept on resend).
    pub thread_id: Uuid,
    pub sent: DateTime<Utc>,
    pub attachment: Option<Attachment<'a>>,
}

impl Identity<'static> {
    /// The identity of send `attempt` (1, 2, ...) of revision `revision` (0, 1, ...) of a
    /// result's GP letter, derived like the XDIS91 identifiers (`ids`), so a regeneration
    /// cannot mint a second letter.
    pub fn derive(r: &FlsResult, revision: u32, attempt: u32, sent: DateTime<Utc>) -> Identity<'static> {
        let message_id = identity::fhir_message_id(r.sender.ean.as_str(), &r.result_id, revision);
        Identity {
            message_id,
            bundle_id: identity::fhir_bundle_id(&message_id, attempt, sent.timestamp_nanos_opt().unwrap_or_default()),
            thread_id: identity::fhir_thread_id(r.sender.ean.as_str(), &r.result_id, revision),
            sent,
            attachment: None,
        }
    }
}

impl<'a> Identity<'a> {
    /// The identifier of the PDF payload of this message: fixed by the message id.
    pub fn attachment_id(&self) -> Uuid {
        identity::fhir_part_id(&self.message_id, "payload-attachment")
    }
}

/// Everything one CareCommunication needs.
pub struct CareCommunication<'a> {
    pub result: &'a FlsResult,
    /// The GP letter (`format::Addressee::Gp`), as XDIS91 gets it.
    pub text: &'a LetterText,
    pub identity: &'a Identity<'a>,
}

/// The ids of the resources inside one message (fixed by `MessageHeader.id`).
struct Ids {
    header: String,
    patient: String,
    communication: String,
    role: String,
    practitioner: String,
    sender: String,
    receiver: String,
    provenance: String,
    text_payload: String,
}

impl Ids {
    fn of(message_id: &Uuid) -> Ids {
        let part = |role: &str| identity::fhir_part_id(message_id, role).hyphenated().to_string();
        Ids {
            header: message_id.hyphenated().to_string(),
            patient: part("Patient"),
            communication: part("Communication"),
            role: part("PractitionerRole"),
            practitioner: part("Practitioner"),
            sender: part("Organization/sender"),
            receiver: part("Organization/receiver"),
            provenance: part("Provenance"),
            text_payload: format!("urn:uuid:{}", part("payload-text")),
        }
    }
}

/// Appends an attribute value escaped for XML, line breaks included: an unescaped newline in
/// an attribute would be read back as a space (XML attribute normalisation).
fn push_escaped_attr(out: &mut String, v: &str) {
    // The characters escaped are ASCII, so each run between them is whole characters.
    let mut rest = v;
    while let Some(i) = rest.bytes().position(|b| matches!(b, b'&' | b'<' | b'>' | b'"' | b'\n' | b'\r' | b'\t')) {
        out.push_str(&rest[..i]);
        out.push_str(match rest.as_bytes()[i] {
            b'&' => "&amp;",
            b'<' => "&lt;",
            b'>' => "&gt;",
            b'"' => "&quot;",
            b'\n' => "&#xA;",
            b'\r' => "&#xD;",
            _ => "&#x9;",
        });
        rest = &rest[i + 1..];
    }
    out.push_str(rest);
}

fn esc(v: &str) -> Cow<'_, str> {
    quick_xml::escape::escape(v)
}

struct Out {
    w: Writer<Vec<u8>>,
    /// The start tag being written, kept between tags (one allocation per message, not one
    /// per element).
    tag: String,
}

impl Out {
    fn event(&mut self, e: Event<'_>) {
        self.w.write_event(e).expect("writing to a Vec cannot fail");
    }
    fn open(&mut self, name: &str) {
        self.event(Event::Start(BytesStart::new(name)));
    }
    fn close(&mut self, name: &str) {
        self.event(Event::End(BytesEnd::new(name)));
    }
    fn with_attr(&mut self, name: &str, attr: &'static str, value: &str, empty: bool) {
        self.start_tag(name, attr, |tag| push_escaped_attr(tag, value));
        self.end_start_tag(name, empty);
    }
    /// Begins `name attr="` + what `value` appends + `"` in `self.tag`: the content
    /// `BytesStart::push_attribute` makes, without an allocation of its own.
    fn start_tag(&mut self, name: &str, attr: &'static str, value: impl FnOnce(&mut String)) {
        self.tag.clear();
        self.tag.push_str(name);
        self.tag.push(' ');
        self.tag.push_str(attr);
        self.tag.push_str("=\"");
        value(&mut self.tag);
        self.tag.push('"');
    }
    fn end_start_tag(&mut self, name: &str, empty: bool) {
        let e = BytesStart::from_content(self.tag.as_str(), name.len());
        self.w
            .write_event(if empty { Event::Empty(e) } else { Event::Start(e) })
            .expect("writing to a Vec cannot fail");
    }
    /// `<name value="..."/>`: every FHIR primitive.
    fn prim(&mut self, name: &str, value: &str) {
        self.with_attr(name, "value", value, true);
    }
    fn ext_open(&mut self, url: &str) {
        self.with_attr("extension", "url", url, false);
    }
    fn reference(&mut self, name: &str, target: &str) {
        self.open(name);
        self.prim("reference", target);
        self.close(name);
    }
    fn coding(&mut self, name: &str, system: &str, code: &str) {
        self.open(name);
        self.prim("system", system);
        self.prim("code", code);
        self.close(name);
    }
    /// id, meta.profile and the narrative: how every resource here starts.
    fn resource_start(&mut self, kind: &str, id: &str, profile: &str, status: &str, html: &mut Html) {
        self.open(kind);
        self.prim("id", id);
        self.open("meta");
        self.prim("profile", profile);
        self.close("meta");
        self.open("text");
        self.prim("status", status);
        self.with_attr("div", "xmlns", XHTML, false);
        // One pre-escaped run: the indenting writer must not add whitespace inside it.
        self.event(Event::Text(BytesText::from_escaped(html.0.as_str())));
        html.0.clear();
        self.close("div");
        self.close("text");
    }
    fn entry_start(&mut self, kind: &str, id: &str) {
        self.open("entry");
        self.prim("fullUrl", &format!("{FULL_URL_BASE}{kind}/{id}"));
        self.open("resource");
    }
    fn entry_end(&mut self, kind: &str) {
        self.close(kind);
        self.close("resource");
        self.close("entry");
    }
}

/// Narrative XHTML: paragraphs of `label: value`, values escaped.
#[derive(Default)]
struct Html(String);

impl Html {
    fn push_all(&mut self, parts: &[&str]) {
        for part in parts {
            self.0.push_str(part);
        }
    }
    fn title(&mut self, t: &str) -> &mut Self {
        self.push_all(&["<p><b>", &esc(t), "</b></p>"]);
        self
    }
    fn p(&mut self, label: &str, value: &str) -> &mut Self {
        self.push_all(&["<p>", &esc(label), ": ", &esc(value), "</p>"]);
        self
    }
    /// A multi-line value: each line break a `<br/>`.
    fn lines(&mut self, label: &str, value: &str) -> &mut Self {
        self.push_all(&["<p>", &esc(label), ":<br/>"]);
        for (i, line) in value.split('\n').enumerate() {
            if i > 0 {
                self.0.push_str("<br/>");
            }
            self.0.push_str(&esc(line));
        }
        self.0.push_str("</p>");
        self
    }
}

fn address_text(a: &Address) -> String {
    format!("{}, {} {}", a.street, a.postcode, a.city)
}

/// The phone number as MedCom's contact extension wants it: digits with an optional leading
/// `+` (`+45 78 45 00 00` -> `+4578450000`).
pub fn phone_digits(phone: &str) -> String {
    phone.chars().filter(|c| c.is_ascii_digit() || *c == '+').collect()
}

/// The sending Organization's name: organisation and department in one field, as SOR gives them.
fn sender_name(r: &FlsResult) -> String {
    match &r.sender.department {
        Some(d) => format!("{}, {d}", r.sender.organisation),
        None => r.sender.organisation.clone(),
    }
}

/// The first input text the Bundle carries that holds a character XML 1.0 has not (U+FFFE,
/// U+FFFF: the input refuses control characters, and a Rust string holds no surrogate), with
/// its field. The XDIS91 and the patient's letter refuse it by their own character sets, but
/// some of these only this letter carries (`gp.name`, the author's structured name): without
/// this they reached the schema check after writing, a bug's exit 3, not the input's exit 2.
fn not_xml(r: &FlsResult) -> Option<(String, char)> {
    let (p, g, s, a) = (&r.patient, &r.gp, &r.sender, &r.author);
    let mut texts: Vec<(String, Option<&str>)> = [
        ("patient.given_name", p.given_name.as_deref()),
        ("patient.surname", Some(p.surname.as_str())),
        ("gp.name", g.name.as_deref()),
        ("sender.organisation", Some(s.organisation.as_str())),
        ("sender.department", s.department.as_deref()),
        ("sender.phone", s.phone.as_deref()),
        ("author.name", Some(a.name.as_str())),
        ("author.title", a.title.as_deref()),
        ("author.given_name", a.given_name.as_deref()),
        ("author.surname", a.surname.as_deref()),
    ]
    .into_iter()
    .map(|(field, v)| (field.to_string(), v))
    .collect();
    for (party, address) in [("patient", &p.address), ("gp", &g.address), ("sender", &s.address)] {
        if let Some(ad) = address {
            texts.push((format!("{party}.address.street"), Some(ad.street.as_str())));
            texts.push((format!("{party}.address.city"), Some(ad.city.as_str())));
        }
    }
    texts
        .into_iter()
        .find_map(|(field, v)| v?.chars().find(|c| matches!(c, '\u{FFFE}' | '\u{FFFF}')).map(|c| (field, c)))
}

/// Writes the message. An error names the input field a FHIR letter needs and the result
/// lacks (see [`FlsResult::missing_for_fhir`]); anything else wrong would be a bug, which the
/// validation after writing catches.
pub fn write(m: &CareCommunication<'_>) -> Result<Vec<u8>, InputError> {
    let r = m.result;
    if let Some((field, why)) = r.missing_for_fhir() {
        return Err(InputError::new(field, format!("required for a FHIR CareCommunication: {why}")));
    }
    if let Some((field, c)) = not_xml(r) {
        return Err(InputError::new(
            field,
            format!(
                "character U+{:04X} cannot be written in a FHIR CareCommunication: XML has no such character",
                c as u32
            ),
        ));
    }
    let (gp_sor, sender_sor) = (r.gp.sor().expect("checked"), r.sender.sor().expect("checked"));
    let phone = phone_digits(r.sender.phone.as_deref().expect("checked"));
    let (surname, given) =
        (r.author.surname.as_deref().expect("checked"), r.author.given_name.as_deref().expect("checked"));
    let title = r.author.title.as_deref().expect("checked");
    let role = codes::role_for_title(title);
    let id = m.identity;
    let ids = Ids::of(&id.message_id);
    let sent = fhir_time(&id.sent);
    let payload_date = fhir_time(&r.classified_at);
    let body = m.text.body_text();
    let attachment = id.attachment.as_ref();
    let attachment_id = attachment.map(|a| format!("urn:uuid:{}", a.identifier.hyphenated()));
    let (category, category_da) = (codes::FLS_CATEGORY, codes::category_display(codes::FLS_CATEGORY).expect("listed"));
    let sender_label = sender_name(r);
    let gp_label = r.gp.name.clone().unwrap_or_else(|| "Egen læge".to_string());
    let header_ref = format!("MessageHeader/{}", ids.header);
    let (sender_ref, receiver_ref) = (format!("Organization/{}", ids.sender), format!("Organization/{}", ids.receiver));
    let role_ref = format!("PractitionerRole/{}", ids.role);
    let role_text = role.map(|(_, d)| d).unwrap_or(title);

    let capacity = 16_384 + body.len() * 2 + attachment.map_or(0, |a| a.pdf.len() * 4 / 3 + 4);
    let mut o =
        Out { w: Writer::new_with_indent(Vec::with_capacity(capacity), b' ', 2), tag: String::with_capacity(256) };
    let mut h = Html::default();
    o.event(Event::Decl(BytesDecl::new("1.0", Some("UTF-8"), None)));
    o.with_attr("Bundle", "xmlns", NAMESPACE, false);
    o.prim("id", &id.bundle_id.hyphenated().to_string());
    o.open("meta");
    o.prim("profile", PROFILE_CC_MESSAGE);
    o.close("meta");
    o.prim("type", "message");
    o.prim("timestamp", &sent);

    // MessageHeader
    let gp_endpoint = format!("{SOR_ENDPOINT_PREFIX}{gp_sor}");
    let sender_endpoint = format!("{SOR_ENDPOINT_PREFIX}{sender_sor}");
    h.title("Meddelelseshoved (MessageHeader)")
        .p("Id", &ids.header)
        .p("Hændelse (event)", "care-communication-message: Korrespondancemeddelelse (Care Communication Message)")
        .p(
            "Primær modtager (primary destination)",
            &format!("{gp_label}, SOR {gp_sor}, EAN {} ({receiver_ref})", r.gp.ean.as_str()),
        )
        .p("Modtagers endepunkt (destination endpoint)", &gp_endpoint)
        .p(
            "Afsender (sender)",
            &format!("{sender_label}, SOR {sender_sor}, EAN {} ({sender_ref})", r.sender.ean.as_str()),
        )
        .p("Afsenders endepunkt (source endpoint)", &sender_endpoint)
        .p("Fokus (focus)", &format!("Communication/{}", ids.communication))
        .p("Definition", CC_DEFINITION);
    o.entry_start("MessageHeader", &ids.header);
    o.resource_start("MessageHeader", &ids.header, PROFILE_CC_HEADER, "generated", &mut h);
    o.coding("eventCoding", codes::EVENT_SYSTEM, "care-communication-message");
    o.open("destination");
    o.ext_open(EXT_DESTINATION_USE);
    o.coding("valueCoding", codes::DESTINATION_USE_SYSTEM, "primary");
    o.close("extension");
    o.prim("endpoint", &gp_endpoint);
    o.reference("receiver", &receiver_ref);
    o.close("destination");
    o.reference("sender", &sender_ref);
    o.open("source");
    o.prim("endpoint", &sender_endpoint);
    o.close("source");
    o.reference("focus", &format!("Communication/{}", ids.communication));
    o.prim("definition", CC_DEFINITION);
    o.entry_end("MessageHeader");

    // Patient
    let p = &r.patient;
    h.title("Patient")
        .p("Id", &ids.patient)
        .p("CPR-nummer (CPR)", p.cpr.expose())
        .p("Navn (official name)", &p.full_name());
    if let Some(a) = &p.address {
        h.p("Adresse (address)", &address_text(a));
    }
    o.entry_start("Patient", &ids.patient);
    o.resource_start("Patient", &ids.patient, PROFILE_PATIENT, "generated", &mut h);
    o.open("identifier");
    o.prim("system", CPR_SYSTEM);
    o.prim("value", p.cpr.expose());
    o.close("identifier");
    o.open("name");
    o.prim("use", "official");
    o.prim("family", &p.surname);
    for g in p.given_name.iter().flat_map(|g| g.split_whitespace()) {
        o.prim("given", g);
    }
    o.close("name");
    if let Some(a) = &p.address {
        o.open("address");
        o.prim("line", &a.street);
        o.prim("city", &a.city);
        o.prim("postalCode", &a.postcode);
        o.close("address");
    }
    o.entry_end("Patient");

    // Communication
    h.title("Korrespondancemeddelelse (Communication)")
        .p("Id", &ids.communication)
        .p("Tråd-id (identifier)", &format!("urn:uuid:{}", id.thread_id.hyphenated()))
        .p("Status", "ukendt (unknown)")
        .p("Kategori (category)", &format!("{category_da} ({category})"))
        .p("Emne (topic)", &m.text.subject)
        .p("Patient (subject)", &format!("{}, CPR {} (Patient/{})", p.full_name(), p.cpr.expose(), ids.patient))
        .title("Tekst (payload)")
        .p("Dato (date)", &payload_date)
        .p("Id (identifier)", &ids.text_payload)
        .p("Forfatter (author)", &format!("{}, {role_text} ({role_ref})", r.author.name))
        .p("Telefon (contact)", &phone)
        .lines("Tekst (text)", &body);
    if let (Some(a), Some(aid)) = (attachment, &attachment_id) {
        h.title("Bilag (attachment)")
            .p("Titel (title)", title_without_pdf(a.title))
            .p("Type", "application/pdf")
            .p("Dato (date)", &fhir_time(&a.date))
            .p("Id (identifier)", aid);
    }
    o.entry_start("Communication", &ids.communication);
    o.resource_start("Communication", &ids.communication, PROFILE_CC_COMMUNICATION, "extensions", &mut h);
    o.open("identifier");
    o.prim("value", &format!("urn:uuid:{}", id.thread_id.hyphenated()));
    o.close("identifier");
    o.prim("status", "unknown");
    o.open("category");
    o.coding("coding", codes::CATEGORY_SYSTEM, category);
    o.close("category");
    o.reference("subject", &format!("Patient/{}", ids.patient));
    o.open("topic");
    o.prim("text", &m.text.subject);
    o.close("topic");
    o.open("payload");
    o.ext_open(EXT_DATETIME);
    o.prim("valueDateTime", &payload_date);
    o.close("extension");
    payload_identifier(&mut o, &ids.text_payload, &sender_ref);
    o.ext_open(EXT_PRACTITIONER);
    o.reference("valueReference", &role_ref);
    o.close("extension");
    o.ext_open(EXT_CONTACT);
    o.open("valueContactPoint");
    o.prim("system", "phone");
    o.prim("value", &phone);
    o.close("valueContactPoint");
    o.close("extension");
    o.prim("contentString", &body);
    o.close("payload");
    if let (Some(a), Some(aid)) = (attachment, &attachment_id) {
        o.open("payload");
        o.ext_open(EXT_DATETIME);
        o.prim("valueDateTime", &fhir_time(&a.date));
        o.close("extension");
        payload_identifier(&mut o, aid, &sender_ref);
        o.open("contentAttachment");
        o.prim("contentType", "application/pdf");
        // Base64 has no character that needs escaping: the value goes in as it is.
        o.start_tag("data", "value", |tag| {
            use base64::Engine;
            base64::engine::general_purpose::STANDARD.encode_string(a.pdf, tag)
        });
        o.end_start_tag("data", true);
        o.prim("title", title_without_pdf(a.title));
        o.close("contentAttachment");
        o.close("payload");
    }
    o.entry_end("Communication");

    // PractitionerRole + Practitioner (the signing clinician)
    let author_name = format!("{given} {surname}");
    h.title("Forfatterens rolle (PractitionerRole)").p("Id", &ids.role);
    match role {
        Some((code, display)) => h.p("Rolle (code)", &format!("{display} ({code})")),
        None => h.p("Rolle (code.text)", title),
    };
    h.p("Behandler (practitioner)", &format!("{author_name} (Practitioner/{})", ids.practitioner))
        .p("Organisation (organization)", &format!("{sender_label} ({sender_ref})"));
    o.entry_start("PractitionerRole", &ids.role);
    o.resource_start("PractitionerRole", &ids.role, PROFILE_PRACTITIONER_ROLE, "generated", &mut h);
    o.reference("practitioner", &format!("Practitioner/{}", ids.practitioner));
    o.reference("organization", &sender_ref);
    o.open("code");
    match role {
        Some((code, _)) => o.coding("coding", codes::ROLE_SYSTEM, code),
        None => o.prim("text", title),
    }
    o.close("code");
    o.entry_end("PractitionerRole");

    h.title("Behandler (Practitioner)").p("Id", &ids.practitioner).p("Navn (name)", &author_name);
    o.entry_start("Practitioner", &ids.practitioner);
    o.resource_start("Practitioner", &ids.practitioner, PROFILE_PRACTITIONER, "generated", &mut h);
    o.open("name");
    o.prim("family", surname);
    for g in given.split_whitespace() {
        o.prim("given", g);
    }
    o.close("name");
    o.entry_end("Practitioner");

    // The two Organizations
    organization(
        &mut o,
        &mut h,
        &ids.sender,
        Some(&sender_label),
        r.sender.ean.as_str(),
        sender_sor,
        "Afsender (sender)",
    );
    organization(&mut o, &mut h, &ids.receiver, r.gp.name.as_deref(), r.gp.ean.as_str(), gp_sor, "Modtager (receiver)");

    // Provenance: one new-message, sent now, one source entity per payload.
    h.title("Hændelseslog (Provenance)")
        .p("Id", &ids.provenance)
        .p("Mål (target)", &header_ref)
        .p("Aktivitet (activity)", "Ny meddelelse (new-message)")
        .p("Tidspunkt (occurred)", &sent)
        .p("Registreret (recorded)", &sent)
        .p("Udført af (agent)", &format!("{sender_label} ({sender_ref})"))
        .p("Kilde (entity source)", &ids.text_payload);
    if let Some(aid) = &attachment_id {
        h.p("Kilde (entity source)", aid);
    }
    o.entry_start("Provenance", &ids.provenance);
    o.resource_start("Provenance", &ids.provenance, PROFILE_CC_PROVENANCE, "generated", &mut h);
    o.reference("target", &header_ref);
    o.prim("occurredDateTime", &sent);
    o.prim("recorded", &sent);
    o.open("activity");
    o.coding("coding", codes::ACTIVITY_SYSTEM, "new-message");
    o.close("activity");
    o.open("agent");
    o.reference("who", &sender_ref);
    o.close("agent");
    for source in std::iter::once(&ids.text_payload).chain(attachment_id.as_ref()) {
        o.open("entity");
        o.prim("role", "source");
        o.open("what");
        o.open("identifier");
        o.prim("value", source);
        o.close("identifier");
        o.close("what");
        o.close("entity");
    }
    o.entry_end("Provenance");

    o.close("Bundle");
    let mut xml = o.w.into_inner();
    xml.push(b'\n');
    Ok(xml)
}

fn payload_identifier(o: &mut Out, value: &str, assigner: &str) {
    o.ext_open(EXT_IDENTIFIER);
    o.open("valueIdentifier");
    o.prim("value", value);
    o.reference("assigner", assigner);
    o.close("valueIdentifier");
    o.close("extension");
}

#[allow(clippy::too_many_arguments)]
fn organization(o: &mut Out, h: &mut Html, id: &str, name: Option<&str>, ean: &str, sor: &str, role: &str) {
    h.title(&format!("Organisation (Organization): {role}")).p("Id", id);
    if let Some(n) = name {
        h.p("Navn (name)", n);
    }
    h.p("EAN-lokationsnummer (GLN)", ean).p("SOR-id", sor);
    o.entry_start("Organization", id);
    o.resource_start("Organization", id, PROFILE_ORGANIZATION, "generated", h);
    o.open("identifier");
    o.prim("system", GLN_SYSTEM);
    o.prim("value", ean);
    o.close("identifier");
    o.open("identifier");
    o.prim("system", SOR_SYSTEM);
    o.prim("value", sor);
    o.close("identifier");
    if let Some(n) = name {
        o.prim("name", n);
    }
    o.entry_end("Organization");
}

/// MedCom: an attachment's title carries no automatic `.pdf` suffix.
fn title_without_pdf(title: &str) -> &str {
    let t = title.trim();
    match t.len().checked_sub(4).filter(|&i| t.is_char_boundary(i) && t[i..].eq_ignore_ascii_case(".pdf")) {
        Some(i) => t[..i].trim_end(),
        None => t,
    }
}

/// Writes the message and validates it (flspost's schema and the profile rules): the bytes
/// that may be handed on. A message that fails is a bug ([`Error::Invalid`], exit 3).
pub fn build(m: &CareCommunication<'_>) -> Result<Vec<u8>, Error> {
    let bytes = write(m)?;
    validate(MessageKind::CareCommunication, &bytes)
        .map_err(|problems| Error::Invalid { kind: MessageKind::CareCommunication, problems })?;
    Ok(bytes)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn attribute_values_escape_markup_quotes_and_line_breaks_in_runs() {
        let mut out = String::from("x=\"");
        push_escaped_attr(&mut out, "a&b<c>d\"e\nf\r\ng\th 'æ' ø&");
        assert_eq!(out, "x=\"a&amp;b&lt;c&gt;d&quot;e&#xA;f&#xD;&#xA;g&#x9;h 'æ' ø&amp;");
        let mut plain = String::new();
        push_escaped_attr(&mut plain, "Østergaard");
        assert_eq!(plain, "Østergaard");
    }
}
