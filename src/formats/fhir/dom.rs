//! A small read-only tree of a FHIR XML document, for the rules no XSD expresses.
//!
//! FHIR XML keeps every primitive in a `value` attribute and extension URLs in `url`, so a
//! node needs only its local name, those two attributes, its children and where it starts
//! (line and column, for `FILE:LINE:COL`). Narrative XHTML is not descended into: only
//! whether it has content is kept.

use quick_xml::events::Event;
use quick_xml::Reader;
use quick_xml::XmlVersion;

/// Where a name or value lies in [`Document::strings`].
#[derive(Clone, Copy)]
struct Span {
    start: usize,
    end: usize,
}

struct Node {
    name: Span,
    value: Option<Span>,
    url: Option<Span>,
    parent: Option<usize>,
    first_child: Option<usize>,
    last_child: Option<usize>,
    next_sibling: Option<usize>,
    line: u32,
    column: u32,
    /// For an XHTML `div`: whether it holds any text or element.
    has_content: bool,
    /// Character content outside narratives (non-FHIR XML such as the VANS envelope).
    text: String,
}

/// The parsed tree. Names and attribute values live in one string, nodes in one vector and
/// children are linked: a few allocations for the whole document instead of several per
/// element (which was most of the reader's time).
pub struct Document {
    nodes: Vec<Node>,
    strings: String,
    /// Each node's position among its parent's children of the same name (`UNIQUE` when it is
    /// the only one), for [`El::path`]: made on the first path asked for, so a valid document
    /// never pays for it, and an invalid one once, not once per problem (counting siblings
    /// per path was quadratic in a Bundle's entries).
    sibling_index: std::sync::OnceLock<Vec<u32>>,
}

const UNIQUE: u32 = u32::MAX;

/// A handle on one element.
#[derive(Clone, Copy)]
pub struct El<'d> {
    doc: &'d Document,
    i: usize,
}

/// Whether `t` is empty once trimmed (`str::trim`, with a fast path for the ASCII whitespace
/// that indentation is made of).
fn blank(t: &str) -> bool {
    t.bytes().all(|b| b.is_ascii_whitespace()) || t.trim().is_empty()
}

/// How many bytes of `run` satisfy `f`: summed in bytes over runs of 255, which the compiler
/// turns into wide vector additions (a plain `filter().count()` here went 4 bytes a step).
fn count(run: &[u8], f: impl Fn(u8) -> bool) -> usize {
    run.chunks(255).map(|c| c.iter().fold(0u8, |n, &b| n + u8::from(f(b))) as usize).sum()
}

fn push(strings: &mut String, s: &str) -> Span {
    let start = strings.len();
    strings.push_str(s);
    Span { start, end: strings.len() }
}

impl Document {
    /// Parses well-formed XML; `Err` carries quick-xml's reason.
    pub fn parse(bytes: &[u8]) -> Result<Document, String> {
        // Borrowing events from the slice (`read_event`): nothing is copied into a buffer.
        let mut reader = Reader::from_reader(bytes);
        reader.config_mut().check_end_names = true;
        let mut nodes: Vec<Node> = Vec::with_capacity(bytes.len() / 48);
        let mut strings = String::with_capacity(bytes.len() / 2);
        let mut stack: Vec<usize> = vec![];
        // Position bookkeeping: line, the byte where it starts and the characters from there to
        // `scanned`, advanced lazily (once over the bytes, however long a line is). Valid UTF-8
        // counts a character per non-continuation byte; other bytes as a lossy decoding would.
        let utf8 = std::str::from_utf8(bytes).is_ok();
        let (mut scanned, mut line, mut line_start, mut chars) = (0usize, 1u32, 0usize, 0usize);
        let count_chars = |run: &[u8]| count(run, |b| b & 0xC0 != 0x80);
        let mut position = |to: usize| -> (u32, u32) {
            let to = to.clamp(scanned, bytes.len());
            let run = &bytes[scanned..to];
            match run.iter().rposition(|b| *b == b'\n') {
                Some(last) => {
                    let newlines = count(run, |b| b == b'\n');
                    line = line.saturating_add(u32::try_from(newlines).unwrap_or(u32::MAX));
                    line_start = scanned + last + 1;
                    chars = count_chars(&bytes[line_start..to]);
                }
                None => chars += count_chars(run),
            }
            scanned = to;
            let column = if utf8 { chars } else { String::from_utf8_lossy(&bytes[line_start..to]).chars().count() };
            (line, u32::try_from(column).unwrap_or(u32::MAX).saturating_add(1))
        };
        // Depth inside a narrative div (its XHTML is skipped).
        let mut in_div = 0usize;
        loop {
            let start = reader.buffer_position() as usize;
            let event = reader.read_event().map_err(|e| e.to_string())?;
            match event {
                Event::Start(ref e) | Event::Empty(ref e) => {
                    let empty = matches!(event, Event::Empty(_));
                    if in_div > 0 {
                        if let Some(&top) = stack.last() {
                            nodes[top].has_content = true;
                        }
                        if !empty {
                            in_div += 1;
                        }
                        continue;
                    }
                    let local = e.local_name();
                    let is_div = local.as_ref() == "div";
                    let name = push(&mut strings, local.as_ref());
                    let (mut value, mut url) = (None, None);
                    for a in e.attributes() {
                        let a = a.map_err(|e| e.to_string())?;
                        let key = a.key.local_name();
                        if key.as_ref() == "value" || key.as_ref() == "url" {
                            let v = a.normalized_value(XmlVersion::Implicit1_0).map_err(|e| e.to_string())?;
                            let span = Some(push(&mut strings, &v));
                            if key.as_ref() == "value" {
                                value = span;
                            } else {
                                url = span;
                            }
                        }
                    }
                    let (line, column) = position(start);
                    let i = nodes.len();
                    let parent = stack.last().copied();
                    nodes.push(Node {
                        name,
                        value,
                        url,
                        parent,
                        first_child: None,
                        last_child: None,
                        next_sibling: None,
                        line,
                        column,
                        has_content: false,
                        text: String::new(),
                    });
                    if let Some(p) = parent {
                        match nodes[p].last_child.replace(i) {
                            Some(previous) => nodes[previous].next_sibling = Some(i),
                            None => nodes[p].first_child = Some(i),
                        }
                    }
                    if !empty {
                        stack.push(i);
                        if is_div {
                            in_div = 1;
                        }
                    }
                }
                Event::End(_) => {
                    if in_div > 1 {
                        in_div -= 1;
                    } else {
                        in_div = 0;
                        stack.pop();
                    }
                }
                Event::Text(ref t) if in_div > 0 && !blank(t) => {
                    if let Some(&top) = stack.last() {
                        nodes[top].has_content = true;
                    }
                }
                Event::Text(_) if in_div > 0 => {}
                Event::GeneralRef(_) if in_div > 0 => {
                    if let Some(&top) = stack.last() {
                        nodes[top].has_content = true;
                    }
                }
                Event::Text(ref t) => {
                    if let (Some(&top), false) = (stack.last(), blank(t)) {
                        nodes[top].text.push_str(t);
                    }
                }
                Event::Eof => break,
                _ => {}
            }
        }
        if nodes.is_empty() {
            return Err("no root element".into());
        }
        Ok(Document { nodes, strings, sibling_index: std::sync::OnceLock::new() })
    }

    pub fn root(&self) -> El<'_> {
        El { doc: self, i: 0 }
    }

    fn str(&self, span: Span) -> &str {
        self.strings.get(span.start..span.end).unwrap_or("")
    }

    /// See `sibling_index`: each parent's children sorted by name once, O(n log n) in all.
    fn sibling_index(&self) -> &[u32] {
        self.sibling_index.get_or_init(|| {
            let mut index = vec![UNIQUE; self.nodes.len()];
            let mut children: Vec<(&str, usize)> = vec![];
            for node in &self.nodes {
                children.clear();
                let chain = std::iter::successors(node.first_child, |&i| self.nodes[i].next_sibling);
                children.extend(chain.map(|i| (self.str(self.nodes[i].name), i)));
                if children.len() < 2 {
                    continue;
                }
                // By name, then in document order (a later node has a higher number).
                children.sort_unstable();
                for same in children.chunk_by(|a, b| a.0 == b.0).filter(|same| same.len() > 1) {
                    for (k, &(_, i)) in same.iter().enumerate() {
                        index[i] = u32::try_from(k).unwrap_or(UNIQUE - 1);
                    }
                }
            }
            index
        })
    }
}

impl<'d> El<'d> {
    fn node(&self) -> &'d Node {
        &self.doc.nodes[self.i]
    }
    pub fn name(&self) -> &'d str {
        self.doc.str(self.node().name)
    }
    /// The `value` attribute (every FHIR primitive).
    pub fn value(&self) -> Option<&'d str> {
        self.node().value.map(|v| self.doc.str(v))
    }
    /// The `url` attribute (extensions).
    pub fn url(&self) -> Option<&'d str> {
        self.node().url.map(|u| self.doc.str(u))
    }
    pub fn line(&self) -> u32 {
        self.node().line
    }
    pub fn column(&self) -> u32 {
        self.node().column
    }
    pub(crate) fn has_content(&self) -> bool {
        self.node().has_content
    }
    /// The element's character content (trimmed), for the non-FHIR envelope.
    pub fn text(&self) -> &'d str {
        self.node().text.trim()
    }
    /// The text of the child at a path of names.
    pub fn text_at(&self, path: &[&str]) -> Option<&'d str> {
        self.at(path).map(|e| e.text())
    }
    pub fn parent(&self) -> Option<El<'d>> {
        self.node().parent.map(|i| El { doc: self.doc, i })
    }
    pub fn children(&self) -> impl Iterator<Item = El<'d>> + 'd {
        let doc = self.doc;
        std::iter::successors(self.node().first_child, move |&i| doc.nodes[i].next_sibling).map(move |i| El { doc, i })
    }
    pub(crate) fn children_named(&self, name: &'d str) -> impl Iterator<Item = El<'d>> + 'd {
        self.children().filter(move |c| c.name() == name)
    }
    pub(crate) fn first_child(&self) -> Option<El<'d>> {
        self.children().next()
    }
    pub fn child(&self, name: &str) -> Option<El<'d>> {
        self.children().find(|c| c.name() == name)
    }
    /// The element at a path of child names, first match at each step.
    pub fn at(&self, path: &[&str]) -> Option<El<'d>> {
        path.iter().try_fold(*self, |el, name| el.child(name))
    }
    /// The `value` at a path of child names.
    pub fn value_at(&self, path: &[&str]) -> Option<&'d str> {
        self.at(path).and_then(|e| e.value())
    }
    /// Every element at a path, all matches at each step (FHIRPath's navigation).
    pub fn all(&self, path: &[&'d str]) -> Vec<El<'d>> {
        let mut current = vec![*self];
        for name in path {
            current = current.iter().flat_map(|e| e.children_named(name)).collect();
        }
        current
    }
    /// The extensions with `url`.
    pub(crate) fn extensions(&self, url: &'d str) -> impl Iterator<Item = El<'d>> + 'd {
        self.children_named("extension").filter(move |e| e.url() == Some(url))
    }
    /// The path of element names from the root, as rules name a location (`Bundle.entry[2]...`).
    pub fn path(&self) -> String {
        let mut parts = vec![];
        let mut cur = Some(*self);
        while let Some(el) = cur {
            let name = el.name();
            parts.push(match self.doc.sibling_index()[el.i] {
                UNIQUE => name.to_string(),
                n => format!("{name}[{n}]"),
            });
            cur = el.parent();
        }
        parts.reverse();
        parts.join(".")
    }
    pub fn same(&self, other: &El<'_>) -> bool {
        std::ptr::eq(self.doc, other.doc) && self.i == other.i
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn positions_values_and_narrative_content() {
        let xml = "<?xml version=\"1.0\"?>\n<Bundle xmlns=\"http://hl7.org/fhir\">\n  <id value=\"a&amp;b\"/>\n  <text><div xmlns=\"http://www.w3.org/1999/xhtml\"><p>Æ<b>x</b></p></div></text>\n  <extension url=\"u\"><valueString value=\"line&#xA;two\"/></extension>\n</Bundle>";
        let doc = Document::parse(xml.as_bytes()).unwrap();
        let root = doc.root();
        assert_eq!((root.name(), root.line(), root.column()), ("Bundle", 2, 1));
        let id = root.child("id").unwrap();
        assert_eq!((id.value(), id.line(), id.column()), (Some("a&b"), 3, 3));
        assert!(root.at(&["text", "div"]).unwrap().has_content());
        assert_eq!(root.at(&["text", "div"]).unwrap().first_child().map(|c| c.name()), None);
        assert_eq!(root.extensions("u").next().unwrap().value_at(&["valueString"]), Some("line\ntwo"));
        assert_eq!(root.at(&["extension", "valueString"]).unwrap().path(), "Bundle.extension.valueString");
    }

    #[test]
    fn children_keep_document_order_and_columns_count_characters_on_long_lines() {
        // Over 255 bytes (a counting run) of multi-byte text before elements on one line.
        let pad = "æ".repeat(300);
        let xml = format!("<r>\n<a url=\"1\"/><b/><a url=\"2\"><c/></a>{pad}<a url=\"3\"/>\n\n<b value=\"x\"/></r>");
        let doc = Document::parse(xml.as_bytes()).unwrap();
        let root = doc.root();
        let names: Vec<&str> = root.children().map(|c| c.name()).collect();
        assert_eq!(names, ["a", "b", "a", "a", "b"]);
        let urls: Vec<Option<&str>> = root.children_named("a").map(|a| a.url()).collect();
        assert_eq!(urls, [Some("1"), Some("2"), Some("3")]);
        let third = root.children_named("a").nth(2).unwrap();
        assert_eq!((third.line(), third.column()), (2, 35 + 300 + 1));
        assert_eq!(third.path(), "r.a[2]");
        let last_b = root.children_named("b").nth(1).unwrap();
        assert_eq!((last_b.line(), last_b.column(), last_b.value()), (4, 1, Some("x")));
        assert_eq!(root.at(&["a", "c"]).map(|c| c.name()), None, "the first <a> has no child");
        assert_eq!(root.children_named("a").nth(1).unwrap().first_child().unwrap().path(), "r.a[1].c");
        assert!(root
            .children_named("a")
            .nth(1)
            .unwrap()
            .first_child()
            .unwrap()
            .parent()
            .unwrap()
            .same(&root.children().nth(2).unwrap()));
    }

    #[test]
    fn malformed_xml_is_an_error() {
        assert!(Document::parse(b"<a><b></a>").is_err());
        assert!(Document::parse(b"").is_err());
    }
}
