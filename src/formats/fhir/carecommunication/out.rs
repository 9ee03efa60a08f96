//! The Bundle's XML as FHIR writes it: primitives as `<name value="..."/>`, extensions,
//! references, codings, and the start and end every resource and entry share. One start-tag
//! buffer serves the whole message (one allocation per message, not one per element).

use super::narrative::Html;
use crate::formats::fhir::consts::{FULL_URL_BASE, XHTML};
use quick_xml::events::{BytesEnd, BytesStart, BytesText, Event};
use quick_xml::Writer;

/// Appends an attribute value escaped for XML, line breaks included: an unescaped newline in
/// an attribute would be read back as a space (XML attribute normalisation).
pub(super) fn push_escaped_attr(out: &mut String, v: &str) {
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

pub(super) struct Out {
    pub(super) w: Writer<Vec<u8>>,
    /// The start tag being written, kept between tags (one allocation per message, not one
    /// per element).
    pub(super) tag: String,
}

impl Out {
    pub(super) fn event(&mut self, e: Event<'_>) {
        self.w.write_event(e).expect("writing to a Vec cannot fail");
    }
    pub(super) fn open(&mut self, name: &str) {
        self.event(Event::Start(BytesStart::new(name)));
    }
    pub(super) fn close(&mut self, name: &str) {
        self.event(Event::End(BytesEnd::new(name)));
    }
    pub(super) fn with_attr(&mut self, name: &str, attr: &'static str, value: &str, empty: bool) {
        self.start_tag(name, attr, |tag| push_escaped_attr(tag, value));
        self.end_start_tag(name, empty);
    }
    /// Begins `name attr="` + what `value` appends + `"` in `self.tag`: the content
    /// `BytesStart::push_attribute` makes, without an allocation of its own.
    pub(super) fn start_tag(&mut self, name: &str, attr: &'static str, value: impl FnOnce(&mut String)) {
        self.tag.clear();
        self.tag.push_str(name);
        self.tag.push(' ');
        self.tag.push_str(attr);
        self.tag.push_str("=\"");
        value(&mut self.tag);
        self.tag.push('"');
    }
    pub(super) fn end_start_tag(&mut self, name: &str, empty: bool) {
        let e = BytesStart::from_content(self.tag.as_str(), name.len());
        self.w
            .write_event(if empty { Event::Empty(e) } else { Event::Start(e) })
            .expect("writing to a Vec cannot fail");
    }
    /// `<name value="..."/>`: every FHIR primitive.
    pub(super) fn prim(&mut self, name: &str, value: &str) {
        self.with_attr(name, "value", value, true);
    }
    pub(super) fn ext_open(&mut self, url: &str) {
        self.with_attr("extension", "url", url, false);
    }
    pub(super) fn reference(&mut self, name: &str, target: &str) {
        self.open(name);
        self.prim("reference", target);
        self.close(name);
    }
    pub(super) fn coding(&mut self, name: &str, system: &str, code: &str) {
        self.open(name);
        self.prim("system", system);
        self.prim("code", code);
        self.close(name);
    }
    /// id, meta.profile and the narrative: how every resource here starts.
    pub(super) fn resource_start(&mut self, kind: &str, id: &str, profile: &str, status: &str, html: &mut Html) {
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
    pub(super) fn entry_start(&mut self, kind: &str, id: &str) {
        self.open("entry");
        self.prim("fullUrl", &format!("{FULL_URL_BASE}{kind}/{id}"));
        self.open("resource");
    }
    pub(super) fn entry_end(&mut self, kind: &str) {
        self.close(kind);
        self.close("resource");
        self.close("entry");
    }
}
