//! The resources of the Bundle, each written with its narrative, in the order of MedCom's
//! examples: MessageHeader, Patient, Communication, PractitionerRole and Practitioner, the two
//! Organizations, Provenance. What they share is derived once ([`Parts`]).

use super::narrative::{address_text, phone_digits, sender_name, title_without_pdf, Html};
use super::out::Out;
use super::{Attachment, CareCommunication, Identity};
use crate::formats::fhir::codes;
use crate::formats::fhir::consts::*;
use crate::formats::fhir::time::fhir_time;
use crate::formats::identity;
use crate::letters::LetterText;
use crate::model::FlsResult;
use uuid::Uuid;

/// The ids of the resources inside one message (fixed by `MessageHeader.id`).
pub(super) struct Ids {
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

/// What the resources share: the input, the letter, the identity, and what is derived from them
/// once (ids, references, times, labels). Made after the checks, so the fields a FHIR letter
/// needs are there.
pub(super) struct Parts<'a> {
    r: &'a FlsResult,
    text: &'a LetterText,
    id: &'a Identity<'a>,
    pub(super) ids: Ids,
    gp_sor: &'a str,
    sender_sor: &'a str,
    phone: String,
    surname: &'a str,
    given: &'a str,
    title: &'a str,
    role: Option<(&'static str, &'static str)>,
    pub(super) sent: String,
    payload_date: String,
    pub(super) body: String,
    pub(super) attachment: Option<&'a Attachment<'a>>,
    attachment_id: Option<String>,
    category: &'static str,
    category_da: &'static str,
    sender_label: String,
    gp_label: String,
    header_ref: String,
    sender_ref: String,
    receiver_ref: String,
    role_ref: String,
    role_text: &'a str,
}

impl<'a> Parts<'a> {
    pub(super) fn of(m: &CareCommunication<'a>) -> Parts<'a> {
        let r = m.result;
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
        let (category, category_da) =
            (codes::FLS_CATEGORY, codes::category_display(codes::FLS_CATEGORY).expect("listed"));
        let sender_label = sender_name(r);
        let gp_label = r.gp.name.clone().unwrap_or_else(|| "Egen læge".to_string());
        let header_ref = format!("MessageHeader/{}", ids.header);
        let (sender_ref, receiver_ref) =
            (format!("Organization/{}", ids.sender), format!("Organization/{}", ids.receiver));
        let role_ref = format!("PractitionerRole/{}", ids.role);
        let role_text = role.map(|(_, d)| d).unwrap_or(title);
        Parts {
            r,
            text: m.text,
            id,
            ids,
            gp_sor,
            sender_sor,
            phone,
            surname,
            given,
            title,
            role,
            sent,
            payload_date,
            body,
            attachment,
            attachment_id,
            category,
            category_da,
            sender_label,
            gp_label,
            header_ref,
            sender_ref,
            receiver_ref,
            role_ref,
            role_text,
        }
    }
}

/// The MessageHeader: first (bdl-12), the event, the GP as primary destination, the focus.
pub(super) fn header(o: &mut Out, h: &mut Html, parts: &Parts<'_>) {
    let Parts { r, ids, gp_sor, sender_sor, gp_label, sender_label, receiver_ref, sender_ref, .. } = parts;
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
    o.resource_start("MessageHeader", &ids.header, PROFILE_CC_HEADER, "generated", h);
    o.coding("eventCoding", codes::EVENT_SYSTEM, "care-communication-message");
    o.open("destination");
    o.ext_open(EXT_DESTINATION_USE);
    o.coding("valueCoding", codes::DESTINATION_USE_SYSTEM, "primary");
    o.close("extension");
    o.prim("endpoint", &gp_endpoint);
    o.reference("receiver", receiver_ref);
    o.close("destination");
    o.reference("sender", sender_ref);
    o.open("source");
    o.prim("endpoint", &sender_endpoint);
    o.close("source");
    o.reference("focus", &format!("Communication/{}", ids.communication));
    o.prim("definition", CC_DEFINITION);
    o.entry_end("MessageHeader");
}

/// The Patient: CPR, official name, address.
pub(super) fn patient(o: &mut Out, h: &mut Html, parts: &Parts<'_>) {
    let Parts { r, ids, .. } = parts;
    let p = &r.patient;
    h.title("Patient")
        .p("Id", &ids.patient)
        .p("CPR-nummer (CPR)", p.cpr.expose())
        .p("Navn (official name)", &p.full_name());
    if let Some(a) = &p.address {
        h.p("Adresse (address)", &address_text(a));
    }
    o.entry_start("Patient", &ids.patient);
    o.resource_start("Patient", &ids.patient, PROFILE_PATIENT, "generated", h);
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
}

/// The Communication: thread, category, topic, the text payload and the PDF's when there is one.
pub(super) fn communication(o: &mut Out, h: &mut Html, parts: &Parts<'_>) {
    let Parts { r, text, id, ids, phone, payload_date, body, attachment, attachment_id, category, category_da, .. } =
        parts;
    let Parts { sender_ref, role_ref, role_text, .. } = parts;
    let p = &r.patient;
    h.title("Korrespondancemeddelelse (Communication)")
        .p("Id", &ids.communication)
        .p("Tråd-id (identifier)", &format!("urn:uuid:{}", id.thread_id.hyphenated()))
        .p("Status", "ukendt (unknown)")
        .p("Kategori (category)", &format!("{category_da} ({category})"))
        .p("Emne (topic)", &text.subject)
        .p("Patient (subject)", &format!("{}, CPR {} (Patient/{})", p.full_name(), p.cpr.expose(), ids.patient))
        .title("Tekst (payload)")
        .p("Dato (date)", payload_date)
        .p("Id (identifier)", &ids.text_payload)
        .p("Forfatter (author)", &format!("{}, {role_text} ({role_ref})", r.author.name))
        .p("Telefon (contact)", phone)
        .lines("Tekst (text)", body);
    if let (Some(a), Some(aid)) = (attachment, &attachment_id) {
        h.title("Bilag (attachment)")
            .p("Titel (title)", title_without_pdf(a.title))
            .p("Type", "application/pdf")
            .p("Dato (date)", &fhir_time(&a.date))
            .p("Id (identifier)", aid);
    }
    o.entry_start("Communication", &ids.communication);
    o.resource_start("Communication", &ids.communication, PROFILE_CC_COMMUNICATION, "extensions", h);
    o.open("identifier");
    o.prim("value", &format!("urn:uuid:{}", id.thread_id.hyphenated()));
    o.close("identifier");
    o.prim("status", "unknown");
    o.open("category");
    o.coding("coding", codes::CATEGORY_SYSTEM, category);
    o.close("category");
    o.reference("subject", &format!("Patient/{}", ids.patient));
    o.open("topic");
    o.prim("text", &text.subject);
    o.close("topic");
    o.open("payload");
    o.ext_open(EXT_DATETIME);
    o.prim("valueDateTime", payload_date);
    o.close("extension");
    payload_identifier(o, &ids.text_payload, sender_ref);
    o.ext_open(EXT_PRACTITIONER);
    o.reference("valueReference", role_ref);
    o.close("extension");
    o.ext_open(EXT_CONTACT);
    o.open("valueContactPoint");
    o.prim("system", "phone");
    o.prim("value", phone);
    o.close("valueContactPoint");
    o.close("extension");
    o.prim("contentString", body);
    o.close("payload");
    if let (Some(a), Some(aid)) = (attachment, &attachment_id) {
        o.open("payload");
        o.ext_open(EXT_DATETIME);
        o.prim("valueDateTime", &fhir_time(&a.date));
        o.close("extension");
        payload_identifier(o, aid, sender_ref);
        o.open("contentAttachment");
        o.prim("contentType", "application/pdf");
        // Base64 has no character that needs escaping: the value goes in as it is.
        o.0.with_attr_from(
            "data",
            "value",
            |tag| {
                use base64::Engine;
                base64::engine::general_purpose::STANDARD.encode_string(a.pdf, tag)
            },
            true,
        );
        o.prim("title", title_without_pdf(a.title));
        o.close("contentAttachment");
        o.close("payload");
    }
    o.entry_end("Communication");
}

/// The signing clinician: PractitionerRole and Practitioner.
pub(super) fn practitioners(o: &mut Out, h: &mut Html, parts: &Parts<'_>) {
    let Parts { ids, surname, given, title, role, sender_label, sender_ref, .. } = parts;
    let author_name = format!("{given} {surname}");
    h.title("Forfatterens rolle (PractitionerRole)").p("Id", &ids.role);
    match role {
        Some((code, display)) => h.p("Rolle (code)", &format!("{display} ({code})")),
        None => h.p("Rolle (code.text)", title),
    };
    h.p("Behandler (practitioner)", &format!("{author_name} (Practitioner/{})", ids.practitioner))
        .p("Organisation (organization)", &format!("{sender_label} ({sender_ref})"));
    o.entry_start("PractitionerRole", &ids.role);
    o.resource_start("PractitionerRole", &ids.role, PROFILE_PRACTITIONER_ROLE, "generated", h);
    o.reference("practitioner", &format!("Practitioner/{}", ids.practitioner));
    o.reference("organization", sender_ref);
    o.open("code");
    match role {
        Some((code, _)) => o.coding("coding", codes::ROLE_SYSTEM, code),
        None => o.prim("text", title),
    }
    o.close("code");
    o.entry_end("PractitionerRole");

    h.title("Behandler (Practitioner)").p("Id", &ids.practitioner).p("Navn (name)", &author_name);
    o.entry_start("Practitioner", &ids.practitioner);
    o.resource_start("Practitioner", &ids.practitioner, PROFILE_PRACTITIONER, "generated", h);
    o.open("name");
    o.prim("family", surname);
    for g in given.split_whitespace() {
        o.prim("given", g);
    }
    o.close("name");
    o.entry_end("Practitioner");
}

/// The sending Organization and the GP practice's.
pub(super) fn organizations(o: &mut Out, h: &mut Html, parts: &Parts<'_>) {
    let Parts { r, ids, gp_sor, sender_sor, sender_label, .. } = parts;
    organization(o, h, &ids.sender, Some(sender_label), r.sender.ean.as_str(), sender_sor, "Afsender (sender)");
    organization(o, h, &ids.receiver, r.gp.name.as_deref(), r.gp.ean.as_str(), gp_sor, "Modtager (receiver)");
}

/// One new-message, sent now, one source entity per payload.
pub(super) fn provenance(o: &mut Out, h: &mut Html, parts: &Parts<'_>) {
    let Parts { ids, sent, header_ref, sender_label, sender_ref, attachment_id, .. } = parts;
    h.title("Hændelseslog (Provenance)")
        .p("Id", &ids.provenance)
        .p("Mål (target)", header_ref)
        .p("Aktivitet (activity)", "Ny meddelelse (new-message)")
        .p("Tidspunkt (occurred)", sent)
        .p("Registreret (recorded)", sent)
        .p("Udført af (agent)", &format!("{sender_label} ({sender_ref})"))
        .p("Kilde (entity source)", &ids.text_payload);
    if let Some(aid) = &attachment_id {
        h.p("Kilde (entity source)", aid);
    }
    o.entry_start("Provenance", &ids.provenance);
    o.resource_start("Provenance", &ids.provenance, PROFILE_CC_PROVENANCE, "generated", h);
    o.reference("target", header_ref);
    o.prim("occurredDateTime", sent);
    o.prim("recorded", sent);
    o.open("activity");
    o.coding("coding", codes::ACTIVITY_SYSTEM, "new-message");
    o.close("activity");
    o.open("agent");
    o.reference("who", sender_ref);
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
