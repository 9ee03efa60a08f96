//! A resend of a CareCommunication, made from the bytes of the transmission it resends.
//!
//! MedCom (research note §3.3, rule MR7): a resend is the *same* message (same
//! `MessageHeader.id`, same content) with a new `Bundle.id`, a new `Bundle.timestamp`, new
//! Provenance times (`occurredDateTime`, `recorded`) and a new envelope (envelope id =
//! `Bundle.id`, new `SentDateTime`). Rebuilding it from the input with today's config could
//! change its content (a receiver table's SOR id, `attach_pdf`, the PDF's date) under the same
//! `MessageHeader.id`, or fail (a GP since marked XDIS91-only), so a resend is the stored
//! Bundle with exactly those per-transmission fields rewritten, nothing else:
//!
//! - `Bundle.id` and `Bundle.timestamp`;
//! - in each Provenance of our message (its `target` is our `MessageHeader`):
//!   `occurredDateTime`, `recorded`, and those times where its narrative shows them.
//!
//! The rewrite streams the Bundle through quick-xml, event by event, in two passes (the
//! first finds the values to replace, since a Provenance's narrative comes before its times):
//! every other byte comes out as it went in. A Bundle it does not recognise is an
//! [`Unrecognised`] error, never a panic.

use super::consts::*;
use super::dom::Document;
use super::time::fhir_time;
use super::validation::validate;
use super::vans;
use crate::error::Error;
use crate::formats::identity;
use crate::model::MessageKind;
use chrono::{DateTime, Utc};
use quick_xml::events::attributes::Attribute;
use quick_xml::events::{BytesStart, BytesText, Event};
use quick_xml::name::QName;
use quick_xml::{Reader, Writer};
use std::borrow::Cow;
use std::fmt;
use uuid::Uuid;

/// A Bundle (or envelope) that is not a CareCommunication this module can restamp; says why.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Unrecognised(pub String);

impl fmt::Display for Unrecognised {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "not a CareCommunication flspost can resend: {}", self.0)
    }
}

impl std::error::Error for Unrecognised {}

fn unrecognised<T>(why: impl Into<String>) -> Result<T, Unrecognised> {
    Err(Unrecognised(why.into()))
}

/// The per-transmission values of a stored CareCommunication Bundle.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Stamps {
    /// `MessageHeader.id` (the first entry's): the letter, the same on every transmission.
    pub message_id: Uuid,
    /// `Bundle.id`.
    pub bundle_id: String,
    /// `Bundle.timestamp`.
    pub timestamp: String,
    /// Per Provenance of our message (target `MessageHeader/<message_id>`), in document order:
    /// its `occurredDateTime` and `recorded`.
    pub provenance: Vec<(String, String)>,
    /// Per Provenance of the Bundle, in document order: whether it is one of our message's.
    ours: Vec<bool>,
}

/// A resource of the Bundle, as the first pass sees it.
#[derive(Default)]
struct Resource {
    kind: String,
    id: Option<String>,
    target: Option<String>,
    occurred: Option<String>,
    recorded: Option<String>,
}

/// The local name of an element (FHIR XML uses the default namespace; a prefix is not ours).
fn local(name: QName<'_>) -> Result<String, Unrecognised> {
    if name.prefix().is_some() {
        return unrecognised(format!(
            "element `{}` has a namespace prefix; flspost writes FHIR in the default namespace",
            name.into_inner()
        ));
    }
    Ok(name.local_name().into_inner().to_string())
}

/// The raw (escaped) `value` attribute of a FHIR primitive; `None` when it has none.
fn raw_value(e: &BytesStart<'_>) -> Result<Option<String>, Unrecognised> {
    for a in e.attributes() {
        let a = a.map_err(|err| Unrecognised(format!("a malformed attribute: {err}")))?;
        if a.key.into_inner() == "value" {
            return Ok(Some(a.value.into_owned()));
        }
    }
    Ok(None)
}

/// Where an element sits: `Bundle/<name>` (depth 1), or in resource `index` (the `index`-th
/// `Bundle/entry/resource/*`) at `path` below the resource element (empty: the resource).
enum Place<'p> {
    Bundle(&'p str),
    Resource { index: usize, path: &'p [String] },
    Other,
}

fn place<'p>(stack: &'p [String], resource_index: usize) -> Place<'p> {
    match stack {
        [_, name] => Place::Bundle(name),
        [_, entry, resource, _, rest @ ..] if entry == "entry" && resource == "resource" => {
            Place::Resource { index: resource_index, path: rest }
        }
        _ => Place::Other,
    }
}

fn reader(bundle: &[u8]) -> Result<Reader<&[u8]>, Unrecognised> {
    let text = std::str::from_utf8(bundle).map_err(|e| Unrecognised(format!("the Bundle is not UTF-8: {e}")))?;
    // Every byte matters: no trimming, empty elements kept as written.
    Ok(Reader::from_str(text))
}

fn xml_error(e: impl fmt::Display, r: &Reader<&[u8]>) -> Unrecognised {
    Unrecognised(format!("not well-formed XML at byte {}: {e}", r.buffer_position()))
}

/// Reads the per-transmission values of a CareCommunication Bundle (the first pass).
pub fn stamps(bundle: &[u8]) -> Result<Stamps, Unrecognised> {
    let mut r = reader(bundle)?;
    let mut stack: Vec<String> = vec![];
    let (mut bundle_id, mut timestamp) = (vec![], vec![]);
    let mut resources: Vec<Resource> = vec![];
    let mut root_seen = false;
    loop {
        let ev = r.read_event().map_err(|e| xml_error(e, &r))?;
        let (e, empty) = match &ev {
            Event::Start(e) => (e, false),
            Event::Empty(e) => (e, true),
            Event::End(_) => {
                stack.pop();
                continue;
            }
            Event::Eof => break,
            _ => continue,
        };
        let name = local(e.name())?;
        if stack.is_empty() {
            if root_seen {
                return unrecognised("more than one root element");
            }
            root_seen = true;
            let ns = e.attributes().flatten().find(|a| a.key.into_inner() == "xmlns").map(|a| a.value.into_owned());
            if name != "Bundle" || ns.as_deref() != Some(NAMESPACE) {
                return unrecognised(format!("the root is `{name}`, not a Bundle in namespace {NAMESPACE}"));
            }
        }
        stack.push(name);
        if stack.len() == 4 && stack[1] == "entry" && stack[2] == "resource" {
            resources.push(Resource { kind: stack[3].clone(), ..Resource::default() });
        }
        let index = resources.len().saturating_sub(1);
        match place(&stack, index) {
            Place::Bundle("id") => bundle_id.push(raw_value(e)?),
            Place::Bundle("timestamp") => timestamp.push(raw_value(e)?),
            Place::Resource { index, path } => {
                let res = &mut resources[index];
                let path: Vec<&str> = path.iter().map(String::as_str).collect();
                match path.as_slice() {
                    ["id"] => res.id = raw_value(e)?,
                    ["target", "reference"] if res.kind == "Provenance" => {
                        if res.target.is_some() {
                            return unrecognised("a Provenance has more than one target");
                        }
                        res.target = raw_value(e)?;
                    }
                    ["occurredDateTime"] if res.kind == "Provenance" => res.occurred = raw_value(e)?,
                    ["recorded"] if res.kind == "Provenance" => res.recorded = raw_value(e)?,
                    _ => {}
                }
            }
            _ => {}
        }
        if empty {
            stack.pop();
        }
    }
    if !root_seen {
        return unrecognised("no root element");
    }
    if let Some(open) = stack.last() {
        return unrecognised(format!("not well-formed XML: it ends inside `{open}`"));
    }
    let one = |v: Vec<Option<String>>, what: &str| match v.as_slice() {
        [Some(x)] => Ok(x.clone()),
        _ => unrecognised(format!("{what} is not there exactly once with a value")),
    };
    let bundle_id = one(bundle_id, "Bundle.id")?;
    let timestamp = one(timestamp, "Bundle.timestamp")?;
    let header = match resources.first() {
        Some(h) if h.kind == "MessageHeader" => h,
        _ => return unrecognised("the first entry is not a MessageHeader"),
    };
    let message_id = header
        .id
        .as_deref()
        .and_then(|id| Uuid::parse_str(id).ok())
        .ok_or_else(|| Unrecognised("MessageHeader.id is not a UUID".into()))?;
    let ours = format!("MessageHeader/{}", message_id.hyphenated());
    let (mut provenance, mut is_ours) = (vec![], vec![]);
    for p in resources.iter().filter(|r| r.kind == "Provenance") {
        let mine = p.target.as_deref().is_some_and(|t| t == ours || t.ends_with(&format!("/{ours}")));
        is_ours.push(mine);
        if mine {
            match (&p.occurred, &p.recorded) {
                (Some(o), Some(r)) => provenance.push((o.clone(), r.clone())),
                _ => return unrecognised("a Provenance of the message lacks occurredDateTime or recorded"),
            }
        }
    }
    if provenance.is_empty() {
        return unrecognised(format!("no Provenance targets {ours}"));
    }
    Ok(Stamps { message_id, bundle_id, timestamp, provenance, ours: is_ours })
}

/// `e` with its `value` attribute set to `value` (escaped already), every other attribute as
/// it was.
fn with_value(e: &BytesStart<'_>, value: &str) -> Result<BytesStart<'static>, Unrecognised> {
    let mut out = BytesStart::new(e.name().into_inner().to_string());
    for a in e.attributes() {
        let a = a.map_err(|err| Unrecognised(format!("a malformed attribute: {err}")))?;
        let value = if a.key.into_inner() == "value" { value.to_string() } else { a.value.into_owned() };
        out.push_attribute(Attribute { key: QName(a.key.into_inner()), value: Cow::Owned(value) });
    }
    Ok(out)
}

/// The Bundle with new per-transmission values: `bundle_id` and `sent` (FHIR time, Danish
/// offset, as the writer gives it). Every other byte is as it was.
pub(crate) fn rewrite(
    bundle: &[u8],
    old: &Stamps,
    bundle_id: &Uuid,
    sent: DateTime<Utc>,
) -> Result<Vec<u8>, Unrecognised> {
    let (new_id, new_time) = (bundle_id.hyphenated().to_string(), fhir_time(&sent));
    let mut r = reader(bundle)?;
    let mut w = Writer::new(Vec::with_capacity(bundle.len() + 64));
    let mut stack: Vec<String> = vec![];
    let mut resources = 0usize;
    let mut ours_by_resource: Vec<bool> = vec![];
    // Which Provenances are our message's needs their target, which comes after their
    // narrative: the first pass read it (the n-th Provenance there is the n-th one here).
    let mut provenance_seen = 0;
    let old_times: Vec<&str> =
        old.provenance.iter().flat_map(|(o, r)| [o.as_str(), r.as_str()]).filter(|t| !t.is_empty()).collect();
    let (mut ids_done, mut stamps_done, mut times_done) = (0, 0, 0);
    loop {
        let ev = r.read_event().map_err(|e| xml_error(e, &r))?;
        let out: Event<'_> = match ev {
            Event::Eof => break,
            Event::End(e) => {
                stack.pop();
                Event::End(e)
            }
            Event::Start(ref e) | Event::Empty(ref e) => {
                let empty = matches!(ev, Event::Empty(_));
                stack.push(local(e.name())?);
                if stack.len() == 4 && stack[1] == "entry" && stack[2] == "resource" {
                    resources += 1;
                    let is_ours = stack[3] == "Provenance" && {
                        provenance_seen += 1;
                        old.ours.get(provenance_seen - 1) == Some(&true)
                    };
                    ours_by_resource.push(is_ours);
                }
                let index = resources.saturating_sub(1);
                let replaced = match place(&stack, index) {
                    Place::Bundle("id") => {
                        ids_done += 1;
                        Some(with_value(e, &new_id)?)
                    }
                    Place::Bundle("timestamp") => {
                        stamps_done += 1;
                        Some(with_value(e, &new_time)?)
                    }
                    Place::Resource { index, path }
                        if ours_by_resource.get(index) == Some(&true)
                            && matches!(path, [p] if p == "occurredDateTime" || p == "recorded") =>
                    {
                        times_done += 1;
                        Some(with_value(e, &new_time)?)
                    }
                    _ => None,
                };
                let event = match (replaced, empty) {
                    (Some(n), true) => Event::Empty(n),
                    (Some(n), false) => Event::Start(n),
                    (None, _) => ev.clone(),
                };
                if empty {
                    stack.pop();
                }
                event
            }
            Event::Text(t) => {
                // A time the narrative of one of our Provenances shows.
                let in_narrative = matches!(
                    place(&stack, resources.saturating_sub(1)),
                    Place::Resource { index, path: [text, div, ..] }
                        if text == "text" && div == "div" && ours_by_resource.get(index) == Some(&true)
                );
                if in_narrative && old_times.iter().any(|o| t.contains(o)) {
                    let mut s = t.to_string();
                    for o in &old_times {
                        s = s.replace(o, &new_time);
                    }
                    Event::Text(BytesText::from_escaped(s))
                } else {
                    Event::Text(t)
                }
            }
            other => other,
        };
        w.write_event(out).map_err(|e| Unrecognised(format!("writing: {e}")))?;
    }
    if ids_done != 1 || stamps_done != 1 || times_done != 2 * old.provenance.len() {
        return unrecognised("the Bundle changed between reading its stamps and rewriting them");
    }
    Ok(w.into_inner())
}

/// The Bundle `bundle` restamped for transmission `attempt`, sent at `sent`: `Bundle.id` is
/// [`identity::fhir_bundle_id`] of its `MessageHeader.id`, `attempt` and `sent`, as for any send.
/// Returns the old stamps, the new `Bundle.id` and the new Bundle.
pub(crate) fn restamp(
    bundle: &[u8],
    transmission: u32,
    sent: DateTime<Utc>,
) -> Result<(Stamps, Uuid, Vec<u8>), Unrecognised> {
    let old = stamps(bundle)?;
    let bundle_id =
        identity::fhir_bundle_id(&old.message_id, transmission, sent.timestamp_nanos_opt().unwrap_or_default());
    let bytes = rewrite(bundle, &old, &bundle_id, sent)?;
    Ok((old, bundle_id, bytes))
}

/// The parts of a stored VANSEnvelope a resend keeps, and the Bundle it carries.
struct Stored {
    sender_ean: String,
    receiver_ean: String,
    document_name: String,
    bundle: Vec<u8>,
}

fn open_envelope(envelope: &[u8]) -> Result<Stored, Unrecognised> {
    let doc = Document::parse(envelope).map_err(|e| Unrecognised(format!("the envelope cannot be read: {e}")))?;
    let root = doc.root();
    if root.name() != "VANSEnvelope" {
        return unrecognised(format!("the stored message is a `{}`, not a VANSEnvelope", root.name()));
    }
    let text = |path: &[&str]| {
        root.at(path)
            .map(|e| e.text().trim().to_string())
            .filter(|t| !t.is_empty())
            .ok_or_else(|| Unrecognised(format!("the envelope has no {}", path.join("/"))))
    };
    let (_, bundle) = vans::data(&doc).map_err(Unrecognised)?;
    Ok(Stored {
        sender_ean: text(&["SenderID"])?,
        receiver_ean: text(&["ReceiverID"])?,
        document_name: text(&["Message", "MetaInformation", "Document", "Name"])?,
        bundle,
    })
}

/// The stamps of the Bundle a stored VANSEnvelope carries (when that transmission was sent).
pub(crate) fn envelope_stamps(envelope: &[u8]) -> Result<Stamps, Unrecognised> {
    stamps(&open_envelope(envelope)?.bundle)
}

/// A resend, ready to record.
#[derive(Debug, Clone)]
pub struct Resent {
    /// `MessageHeader.id`, as stored (the same letter).
    pub message_id: String,
    /// The new `Bundle.id`, which is also the envelope identifier.
    pub bundle_id: String,
    /// The new VANSEnvelope.
    pub bytes: Vec<u8>,
    pub sha256: String,
}

/// Transmission `attempt` of CareCommunication `message_id` (its `MessageHeader.id`), whose
/// stored VANSEnvelope is `stored`, sent at `now`: its Bundle restamped ([`restamp()`]) in a new
/// envelope (same sender, receiver and document name; envelope id = the new `Bundle.id`,
/// `SentDateTime` = `now`), validated like any message flspost builds. Stored bytes it does
/// not recognise, that carry another letter, or a result that fails validation, are
/// flspost's own fault: [`Error::Internal`] / [`Error::Invalid`], exit 3.
pub fn resend(stored: &[u8], message_id: &str, transmission: u32, now: DateTime<Utc>) -> Result<Resent, Error> {
    let internal = |e: Unrecognised| Error::Internal(format!("the stored message of letter {message_id}: {e}"));
    let s = open_envelope(stored).map_err(internal)?;
    let (old, bundle_id, bundle) = restamp(&s.bundle, transmission, now).map_err(internal)?;
    if old.message_id.hyphenated().to_string() != message_id {
        return Err(Error::Internal(format!(
            "the stored message of letter {message_id} carries MessageHeader.id {}",
            old.message_id.hyphenated()
        )));
    }
    let bytes = vans::write(&vans::Envelope {
        sender_ean: &s.sender_ean,
        receiver_ean: &s.receiver_ean,
        bundle_id,
        sent: now,
        document_name: &s.document_name,
        bundle: &bundle,
    });
    validate(MessageKind::VansEnvelope, &bytes)
        .map_err(|problems| Error::Invalid { kind: MessageKind::VansEnvelope, problems })?;
    Ok(Resent {
        message_id: old.message_id.hyphenated().to_string(),
        bundle_id: bundle_id.hyphenated().to_string(),
        sha256: crate::support::digest::sha256_hex(&bytes),
        bytes,
    })
}

#[cfg(test)]
mod tests;
