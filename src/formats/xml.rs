//! Writing XML, the one way every writer here does it: quick-xml's writer, indenting by two
//! spaces, into a `Vec` (which cannot fail, so no call returns an error), driven by chained
//! calls (`x.start("Envelope").leaf("Identifier", id).end("Envelope")`).
//!
//! Text and attribute values are escaped as quick-xml escapes them ([`escape`]), except on the
//! attribute fast path ([`Xml::with_attr`]), which the CareCommunication writes every FHIR
//! primitive with: one start-tag buffer for the whole message instead of an allocation per
//! element, and line breaks escaped too ([`push_escaped_attr`]), as a FHIR string may hold them.

use quick_xml::events::{BytesDecl, BytesEnd, BytesStart, BytesText, Event};
use quick_xml::Writer;
use std::borrow::Cow;

/// A document being written.
pub(crate) struct Xml {
    w: Writer<Vec<u8>>,
    /// The start tag being written on the fast path, kept between tags (one allocation per
    /// message, not one per element).
    tag: String,
}

impl Xml {
    /// A document in a buffer of `capacity` bytes.
    pub(crate) fn indented(capacity: usize) -> Xml {
        Xml::after(Vec::with_capacity(capacity))
    }

    /// Elements written after `written`, bytes already in the buffer (which are kept as they
    /// are, and indentation starts afresh after them).
    pub fn after(written: Vec<u8>) -> Xml {
        Xml { w: Writer::new_with_indent(written, b' ', 2), tag: String::new() }
    }

    /// A start-tag buffer of `capacity` for [`Xml::with_attr`].
    pub(crate) fn with_tag_capacity(mut self, capacity: usize) -> Xml {
        self.tag.reserve(capacity);
        self
    }

    fn event(&mut self, e: Event<'_>) -> &mut Self {
        self.w.write_event(e).expect("writing to a Vec cannot fail");
        self
    }

    /// `<?xml version="1.0" encoding="ENCODING"?>`.
    pub fn decl(&mut self, encoding: &str) -> &mut Self {
        self.event(Event::Decl(BytesDecl::new("1.0", Some(encoding), None)))
    }

    /// `<name>`.
    pub fn start(&mut self, name: &str) -> &mut Self {
        self.event(Event::Start(BytesStart::new(name)))
    }

    /// `<name a="v" ...>`, values escaped.
    pub fn start_with(&mut self, name: &str, attrs: &[(&str, &str)]) -> &mut Self {
        self.event(Event::Start(BytesStart::new(name).with_attributes(attrs.iter().copied())))
    }

    /// `</name>`.
    pub fn end(&mut self, name: &str) -> &mut Self {
        self.event(Event::End(BytesEnd::new(name)))
    }

    /// `<name>text</name>`, the text escaped.
    pub fn leaf(&mut self, name: &str, text: &str) -> &mut Self {
        self.start(name).text(text).end(name)
    }

    /// `<name a="v" ...>text</name>`.
    pub(crate) fn leaf_with(&mut self, name: &str, attrs: &[(&str, &str)], text: &str) -> &mut Self {
        self.start_with(name, attrs).text(text).end(name)
    }

    /// Text, escaped.
    pub fn text(&mut self, text: &str) -> &mut Self {
        self.event(Event::Text(BytesText::new(text)))
    }

    /// Text already escaped (or needing none, as base64), written as one run: the indenting
    /// writer puts no whitespace inside it, so mixed content (text and `<Break/>`, XHTML)
    /// goes in this way.
    pub fn raw(&mut self, escaped: &str) -> &mut Self {
        self.event(Event::Text(BytesText::from_escaped(escaped)))
    }

    /// The fast path: `<name attr="value">`, or `<name attr="value"/>` when `empty`, the value
    /// escaped with its line breaks ([`push_escaped_attr`]).
    pub(crate) fn with_attr(&mut self, name: &str, attr: &str, value: &str, empty: bool) -> &mut Self {
        self.with_attr_from(name, attr, |tag| push_escaped_attr(tag, value), empty)
    }

    /// [`Xml::with_attr`] with the value appended by `value`, as it appends it (unescaped:
    /// for a value that needs no escaping, such as base64 encoded straight into the tag).
    ///
    /// Makes in the kept buffer the content `BytesStart::push_attribute` makes, without an
    /// allocation of its own.
    pub(crate) fn with_attr_from(
        &mut self,
        name: &str,
        attr: &str,
        value: impl FnOnce(&mut String),
        empty: bool,
    ) -> &mut Self {
        self.tag.clear();
        self.tag.push_str(name);
        self.tag.push(' ');
        self.tag.push_str(attr);
        self.tag.push_str("=\"");
        value(&mut self.tag);
        self.tag.push('"');
        let e = BytesStart::from_content(self.tag.as_str(), name.len());
        self.w
            .write_event(if empty { Event::Empty(e) } else { Event::Start(e) })
            .expect("writing to a Vec cannot fail");
        self
    }

    /// The bytes written, ending with a line break.
    pub fn finish(self) -> Vec<u8> {
        let mut out = self.into_inner();
        out.push(b'\n');
        out
    }

    /// The bytes written, as they are.
    pub fn into_inner(self) -> Vec<u8> {
        self.w.into_inner()
    }
}

/// Text or an attribute value escaped as quick-xml escapes them (`&`, `<`, `>`, `'`, `"`,
/// carriage return).
pub fn escape(text: &str) -> Cow<'_, str> {
    quick_xml::escape::escape(text)
}

/// Appends an attribute value escaped for XML, line breaks included: an unescaped newline in
/// an attribute would be read back as a space (XML attribute normalisation).
pub(crate) fn push_escaped_attr(out: &mut String, v: &str) {
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

    #[test]
    fn elements_text_and_the_fast_path_come_out_as_quick_xml_writes_them() {
        let mut x = Xml::indented(64);
        x.decl("UTF-8").start_with("a", &[("xmlns", "urn:x")]).leaf("b", "1 < 2 & 'q'");
        x.with_attr("c", "value", "l1\nl2", true).start("d").raw("t<Break/>u").end("d");
        x.leaf_with("e", &[("k", "v")], "").end("a");
        assert_eq!(
            String::from_utf8(x.finish()).unwrap(),
            "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<a xmlns=\"urn:x\">\n  <b>1 &lt; 2 &amp; &apos;q&apos;</b>\n  \
             <c value=\"l1&#xA;l2\"/>\n  <d>t<Break/>u</d>\n  <e k=\"v\"></e>\n</a>\n"
        );
    }
}
