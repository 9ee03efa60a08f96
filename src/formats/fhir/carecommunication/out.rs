//! The Bundle's XML as FHIR writes it: primitives as `<name value="..."/>`, extensions,
//! references, codings, and the start and end every resource and entry share, on the shared
//! writer's attribute fast path (one start-tag buffer for the whole message).

use super::narrative::Html;
use crate::formats::fhir::consts::{FULL_URL_BASE, XHTML};
use crate::formats::xml::Xml;

/// The Bundle being written: the shared writer, every start tag with an attribute on its
/// fast path.
pub(super) struct Out(pub(super) Xml);

impl Out {
    pub(super) fn open(&mut self, name: &str) {
        self.0.start(name);
    }
    pub(super) fn close(&mut self, name: &str) {
        self.0.end(name);
    }
    pub(super) fn with_attr(&mut self, name: &str, attr: &'static str, value: &str, empty: bool) {
        self.0.with_attr(name, attr, value, empty);
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
        self.0.raw(&html.0);
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
