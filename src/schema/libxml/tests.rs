//! The streaming path against the tree path: the stream may say "clean" only where the tree
//! finds the document valid, and `validate` answers exactly as the tree path does.

use super::stream;
use super::tree::Schema;
use crate::model::MessageKind;
use crate::schema::problem::Problem;
use crate::schema::validate;

/// A CareCommunication as flspost writes it (group 2a), unvalidated.
fn care_communication() -> Vec<u8> {
    use crate::formats::fhir::carecommunication::{self as cc, CareCommunication, Identity};
    let now: chrono::DateTime<chrono::Utc> = "2025-03-20T09:30:00Z".parse().unwrap();
    let mut input: serde_json::Value =
        serde_json::from_str(include_str!("../../../samples/input/group-2a.json")).unwrap();
    input["gp"]["sor_id"] = "1017421000016003".into();
    input["author"]["given_name"] = "Karen".into();
    input["author"]["surname"] = "Østergaard".into();
    let result = crate::app::generate::prepare(&input.to_string(), &Default::default(), now).unwrap().result;
    let text =
        crate::letters::Letters::shipped().render(crate::model::Addressee::Gp, &result, now.date_naive()).unwrap();
    let identity = Identity::derive(&result, 0, 1, now);
    cc::write(&CareCommunication { result: &result, text: &text, identity: &identity }).unwrap()
}

fn samples() -> Vec<(MessageKind, Vec<u8>)> {
    vec![
        (MessageKind::Xdis91, include_bytes!("../../../samples/output/FLS-AUH-2025-0001/gp-xdis91.xml").to_vec()),
        (MessageKind::Memo, include_bytes!("../../../samples/output/FLS-AUH-2025-0001/patient-memo.xml").to_vec()),
        (MessageKind::Kombi, include_bytes!("../../../samples/kombi/FLS-AUH-2025-0004/patient-kombi.xml").to_vec()),
        (MessageKind::Receipt, include_bytes!("../../../samples/receipts/negative-group-2a.xml").to_vec()),
        (MessageKind::CareCommunication, care_communication()),
    ]
}

fn replace_first(doc: &[u8], from: &str, to: &str) -> Vec<u8> {
    let text = String::from_utf8_lossy(doc);
    assert!(text.contains(from), "{from} not in the sample");
    // Byte-wise, so an ISO-8859-1 sample keeps its other bytes.
    let at = doc.windows(from.len()).position(|w| w == from.as_bytes()).unwrap();
    [&doc[..at], to.as_bytes(), &doc[at + from.len()..]].concat()
}

/// The start tag of the root element, e.g. `<Emessage xmlns="...">`.
fn root_tag(doc: &[u8]) -> String {
    let text = String::from_utf8_lossy(doc);
    let start = text
        .match_indices('<')
        .map(|(i, _)| i)
        .find(|&i| !matches!(text[i + 1..].chars().next(), Some('?' | '!')))
        .unwrap();
    let end = start + text[start..].find('>').unwrap() + 1;
    text[start..end].to_string()
}

/// What the tree path says of a variant, and whether the stream may vouch for it.
#[derive(Clone, Copy, Debug, PartialEq)]
enum Expect {
    /// Refused (so never clean in the stream).
    Refused,
    /// Accepted, and the stream says so.
    Streams,
    /// Accepted, but only the tree path may say so (what only its builder sees).
    TreeOnly,
}

/// Variants of a document, most of them broken.
fn variants(kind: MessageKind, doc: &[u8]) -> Vec<(String, Expect, Vec<u8>)> {
    let root = root_tag(doc);
    let name = root[1..].split(|c: char| c.is_whitespace() || c == '>' || c == '/').next().unwrap().to_string();
    let local = name.rsplit(':').next().unwrap().to_string();
    let refused = |what: &str, bytes: Vec<u8>| (what.to_string(), Expect::Refused, bytes);
    let mut out = vec![
        refused("truncated", doc[..doc.len() * 2 / 3].to_vec()),
        refused("not XML", b"this is not XML".to_vec()),
        refused("empty", vec![]),
        refused("a control character", replace_first(doc, &root, &format!("{root}\u{1}"))),
        // Well-formed, but a namespace error: libxml2's stream alone would accept it
        // where the schema has no namespace (kombi).
        refused(
            "undeclared prefix on the root",
            replace_first(
                &replace_first(doc, &format!("<{name}"), &format!("<undeclared:{local}")),
                &format!("</{name}>"),
                &format!("</undeclared:{local}>"),
            ),
        ),
        refused(
            "an element in another namespace",
            replace_first(doc, &root, &format!("{root}<x:Stray xmlns:x=\"urn:other\"/>")),
        ),
        refused("an unknown element", replace_first(doc, &root, &format!("{root}<Bogus/>"))),
        refused("an undeclared entity", replace_first(doc, &root, &format!("{root}&undeclared;"))),
        refused(
            "an entity from the internal subset",
            replace_first(doc, &root, &format!("<!DOCTYPE {name} [<!ENTITY e \"x\">]>{root}&e;")),
        ),
        // Not loaded by either path (no network, no DTD loading): accepted; any DOCTYPE is
        // left to the tree path.
        (
            "an external DTD".to_string(),
            Expect::TreeOnly,
            replace_first(doc, &root, &format!("<!DOCTYPE {name} SYSTEM \"http://127.0.0.1:9/x.dtd\">{root}")),
        ),
        ("a comment".to_string(), Expect::Streams, replace_first(doc, &root, &format!("{root}<!-- c -->"))),
    ];
    if let Some(ns) = root.split("xmlns").nth(1).and_then(|r| r.split('"').nth(1)) {
        out.push(refused("the wrong namespace", replace_first(doc, ns, &format!("{ns}wrong"))));
        out.push(refused("no namespace", replace_first(doc, &format!("\"{ns}\""), "\"\"")));
    }
    let text = String::from_utf8_lossy(doc).into_owned();
    // The first element without children (a line `<x>...</x>` or `<x .../>`), removed.
    if let Some(line) = text
        .lines()
        .skip(2)
        .map(str::trim)
        .find(|l| l.starts_with('<') && !l.starts_with("</") && (l.ends_with("/>") || l.matches('<').count() == 2))
    {
        out.push(refused("a missing element", replace_first(doc, line, "")));
        out.push(refused("a doubled element", replace_first(doc, line, &format!("{line}{line}"))));
    }
    // What libxml2's tree builder checks and its parser alone does not: declarations in a
    // DOCTYPE, and ids (xml:id; attributes a DOCTYPE declares ID).
    out.push(refused(
        "an element declared twice in a DOCTYPE",
        replace_first(doc, &root, &format!("<!DOCTYPE {name} [<!ELEMENT x ANY><!ELEMENT x ANY>]>{root}")),
    ));
    out.push(refused(
        "xml:id declared CDATA in a DOCTYPE",
        replace_first(doc, &root, &format!("<!DOCTYPE {name} [<!ATTLIST x xml:id CDATA #IMPLIED>]>{root}")),
    ));
    match kind {
        MessageKind::CareCommunication => {
            // Inside a narrative, whose content the schema skips.
            let div = "<div xmlns=\"http://www.w3.org/1999/xhtml\">";
            out.push(refused(
                "an xml:id that is no NCName",
                replace_first(doc, div, &format!("{div}<p xml:id=\"a b\">x</p>")),
            ));
            out.push(refused(
                "an xml:id twice",
                replace_first(doc, div, &format!("{div}<p xml:id=\"a\">x</p><p xml:id=\"a\">y</p>")),
            ));
            out.push(refused(
                "an ID attribute twice",
                replace_first(
                    &replace_first(doc, &root, &format!("<!DOCTYPE {name} [<!ATTLIST p id ID #IMPLIED>]>{root}")),
                    div,
                    &format!("{div}<p id=\"a\">x</p><p id=\"a\">y</p>"),
                ),
            ));
            out.push((
                "an xml:id".to_string(),
                Expect::TreeOnly,
                replace_first(doc, div, &format!("{div}<p xml:id=\"a\">x</p>")),
            ));
            out.push((
                "an escaped ampersand in a value".to_string(),
                Expect::Streams,
                replace_first(doc, "<family value=\"", "<family value=\"&amp;"),
            ));
            out.push((
                "an ampersand in text".to_string(),
                Expect::Streams,
                replace_first(doc, div, &format!("{div}<p>a &amp; b &#38; c</p>")),
            ));
            out.push(refused("a bad instant", replace_first(doc, "T10:30:00+01:00", "T25:30:00+01:00")));
            out.push(refused(
                "a bad code",
                replace_first(doc, "<type value=\"message\"/>", "<type value=\" message\"/>"),
            ));
            out.push(refused("an empty string", replace_first(doc, "<family value=\"", "<family value=\"\" x=\"")));
            out.push(refused(
                "a bad narrative status",
                replace_first(doc, "<status value=\"generated\"/>", "<status value=\"made\"/>"),
            ));
            out.push(refused(
                "a narrative outside XHTML",
                replace_first(doc, "<div xmlns=\"http://www.w3.org/1999/xhtml\">", "<div>"),
            ));
            out.push(refused(
                "a fixed url changed",
                replace_first(doc, "destinationUseExtension\"", "destinationUseExtensionX\""),
            ));
        }
        MessageKind::Xdis91 | MessageKind::Receipt => {
            out.push(refused("a bad date", replace_first(doc, "2025-03-20", "2025-13-45")));
        }
        MessageKind::Memo => {
            // Valid base64, but one text node over libxml2's 10,000,000 bytes, which only
            // its tree builder refuses (when the text comes in pieces: a character
            // reference splits it here).
            let content = "<memo:content>";
            let half = "QUFB".repeat(1_300_000);
            out.push(refused(
                "a huge text node",
                replace_first(doc, content, &format!("{content}{half}&#81;UFB{half}")),
            ));
        }
        _ => {}
    }
    out
}

#[test]
fn the_stream_passes_only_what_the_tree_passes() {
    for (kind, doc) in samples() {
        let mut schema = Schema::from_text(kind.bundled_schema().1).unwrap();
        assert_eq!(schema.validate_tree(&doc), Ok(()), "{kind:?} sample");
        assert!(stream::is_clean(&mut schema.ctx, &doc), "{kind:?}: a valid sample streams clean");
        for (what, expect, variant) in variants(kind, &doc) {
            let tree = schema.validate_tree(&variant);
            let short = |r: &Result<(), Vec<Problem>>| format!("{:?}", r.as_ref().map_err(|e| &e[..e.len().min(2)]));
            assert_eq!(
                tree.is_err(),
                expect == Expect::Refused,
                "{kind:?} {what}: the tree path says {}",
                short(&tree)
            );
            let clean = stream::is_clean(&mut schema.ctx, &variant);
            assert_eq!(clean, expect == Expect::Streams, "{kind:?} {what}: streamed clean: {clean}");
            // What `validate` says is the tree's answer, problems and positions alike,
            // also right after a stream that failed on the same context.
            assert_eq!(schema.validate(&variant), tree, "{kind:?} {what}");
            assert_eq!(validate(kind, &variant), tree, "{kind:?} {what}: the bundled validator");
        }
        // The context is reusable after all that: the sample streams clean again.
        assert!(stream::is_clean(&mut schema.ctx, &doc), "{kind:?}: clean again");
    }
}

#[test]
fn an_ampersand_in_a_value_is_judged_as_the_tree_decodes_it() {
    // libxml2's SAX passes `&amp;` in a value as `&#38;`; were that five characters to
    // its validator, the stream would pass `<a v='&amp;'/>`.
    let xsd = r#"<xs:schema xmlns:xs="http://www.w3.org/2001/XMLSchema">
  <xs:element name="a"><xs:complexType><xs:attribute name="v" use="required"><xs:simpleType>
<xs:restriction base="xs:string"><xs:minLength value="2"/></xs:restriction>
  </xs:simpleType></xs:attribute></xs:complexType></xs:element>
</xs:schema>"#;
    let mut schema = Schema::from_text(xsd).unwrap();
    for (doc, valid) in [(&b"<a v='&amp;'/>"[..], false), (b"<a v='&#38;'/>", false), (b"<a v='&amp;&amp;'/>", true)] {
        let tree = schema.validate_tree(doc);
        assert_eq!(tree.is_ok(), valid, "{tree:?}");
        assert_eq!(schema.validate(doc), tree);
        assert_eq!(stream::is_clean(&mut schema.ctx, doc), valid);
    }
    assert_eq!(schema.validate(b"<a v='ab'/>"), Ok(()));
    assert!(stream::is_clean(&mut schema.ctx, b"<a v='ab'/>"));
}

#[test]
fn a_schema_error_keeps_its_line_and_column() {
    let doc = care_communication();
    let broken = replace_first(&doc, "<type value=\"message\"/>", "<type value=\"message\"/><Bogus/>");
    let errs = validate(MessageKind::CareCommunication, &broken).unwrap_err();
    assert_eq!(errs.len(), 1, "{errs:?}");
    assert_eq!((errs[0].line, errs[0].column), (Some(7), Some(26)), "{errs:?}");
    assert!(errs[0].message.starts_with("Element 'Bogus': This element is not expected."), "{errs:?}");
}

#[test]
fn a_malformed_document_keeps_file_line_col_problems() {
    let doc = care_communication();
    let broken = replace_first(&doc, "<type value=\"message\"/>", "<type value=\"message\">");
    let errs = validate(MessageKind::CareCommunication, &broken).unwrap_err();
    assert!(errs.iter().all(|e| e.line.is_some() && e.column.is_some()), "{errs:?}");
    assert!(errs[0].to_string().starts_with(&format!("{}:{}: ", errs[0].line.unwrap(), errs[0].column.unwrap())));
    assert!(errs.iter().any(|e| e.message.contains("mismatch")), "{errs:?}");
}

#[test]
fn a_tree_without_a_root_is_refused_and_the_context_still_streams() {
    let doc = care_communication();
    let mut schema = Schema::from_text(MessageKind::CareCommunication.bundled_schema().1).unwrap();
    let empty = libxml::tree::Document::new().unwrap();
    let errs = schema.validate_parsed(&empty, b"").unwrap_err();
    assert_eq!(errs[0].message, "The document has no document element");
    drop(empty);
    assert!(stream::is_clean(&mut schema.ctx, &doc));
    assert_eq!(schema.validate(&doc), Ok(()));
}

#[test]
fn the_stream_leaves_this_threads_error_handler_as_it_was() {
    let mut schema = Schema::from_text(MessageKind::Receipt.bundled_schema().1).unwrap();
    // SAFETY: reads this thread's handler slot, as `Counting` does.
    let before = unsafe { *libxml::bindings::__xmlStructuredErrorContext() };
    assert!(!stream::is_clean(&mut schema.ctx, b"<a><b></a>"));
    assert_eq!(unsafe { *libxml::bindings::__xmlStructuredErrorContext() }, before);
}
