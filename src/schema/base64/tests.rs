use super::*;
use crate::model::MessageKind;
use crate::schema::{validate, Schema};

const MEMO_SAMPLE: &[u8] = include_bytes!("../../../samples/output/FLS-AUH-2025-0001/patient-memo.xml");
const KOMBI_SAMPLE: &[u8] = include_bytes!("../../../samples/kombi/FLS-AUH-2025-0004/patient-kombi.xml");

/// The sample with its MeMo content replaced by `content`.
fn memo_with(content: &str) -> Vec<u8> {
    let text = std::str::from_utf8(MEMO_SAMPLE).unwrap();
    let start = text.find("<memo:content>").unwrap() + "<memo:content>".len();
    let end = text.find("</memo:content>").unwrap();
    format!("{}{content}{}", &text[..start], &text[end..]).into_bytes()
}

#[test]
fn the_lexical_space_of_base64_binary() {
    let long = format!("{}QQ==", "QUFB".repeat(8));
    for ok in ["", "QUFB", "QUE=", "QQ==", " QU FB\n\tQUFB\r\n", "QQ= =", "+/+/", "QUFBQUE=", long.as_str()] {
        assert_eq!(lexical_error(ok.as_bytes()), None, "{ok:?}");
    }
    for (bad, why) in [
        ("QUF", "not a multiple of four"),
        ("QUFBQ", "not a multiple of four"),
        ("QUF=", "bits set"),
        ("QR==", "bits set"),
        ("Q===", "more than two"),
        ("QU=B", "before its end"),
        ("QUF!", "'!' at character 4"),
        ("QU\u{e6}B", "byte 0xC3"),
        ("QUFB-_==", "'-' at character 5"),
        (format!("{}QUF!", "QUFB".repeat(20)).as_str(), "'!' at character 84"),
        (format!("{}QUF=QUFB", "QUFB".repeat(20)).as_str(), "before its end"),
        (format!("{}QUF=", "QUFB".repeat(8)).as_str(), "bits set"),
    ] {
        let e = lexical_error(bad.as_bytes()).unwrap_or_default();
        assert!(e.contains(why), "{bad:?}: {e}");
    }
}

#[test]
fn the_values_are_found_by_namespace_and_parent() {
    let memo = find(MEMO_SAMPLE, MessageKind::Memo.binaries());
    assert_eq!(memo.len(), 1);
    assert!(MEMO_SAMPLE[memo[0].text.clone()].starts_with(b"JVBERi0"), "the PDF");
    assert_eq!(&MEMO_SAMPLE[memo[0].start_tag..memo[0].text.start], b"<memo:content>");
    let kombi = find(KOMBI_SAMPLE, MessageKind::Kombi.binaries());
    assert_eq!(kombi.iter().map(|v| v.local).collect::<Vec<_>>(), ["content", "MeddelelseIndholdData"]);
    // Not plain text: left to libxml2.
    for inside in ["QUFB<!-- c -->QUFB", "<![CDATA[QUFB]]>", "QUFB&#65;AAA", "<x/>QUFB"] {
        assert_eq!(find(&memo_with(inside), MessageKind::Memo.binaries()), vec![], "{inside}");
    }
    // Empty: left to libxml2 and its minLength.
    assert_eq!(find(&memo_with(""), MessageKind::Memo.binaries()), vec![]);
    // The same name in another namespace, or under another parent, is not the MeMo's content.
    let other = String::from_utf8(MEMO_SAMPLE.to_vec()).unwrap().replace("<memo:content>", "<content xmlns=\"urn:x\">");
    let other = other.replace("</memo:content>", "</content>");
    assert_eq!(find(other.as_bytes(), MessageKind::Memo.binaries()), vec![]);
    let moved = b"<m:Message xmlns:m=\"https://DigitalPost.dk/MeMo-1\"><m:content>QUFB</m:content></m:Message>";
    assert_eq!(find(moved, MessageKind::Memo.binaries()), vec![]);
    // Not ASCII-compatible, or not read: nothing.
    assert_eq!(find(&[b"\xFF\xFE<\0".as_slice(), &MEMO_SAMPLE[1..]].concat(), MessageKind::Memo.binaries()), vec![]);
    let utf16 = String::from_utf8(MEMO_SAMPLE.to_vec()).unwrap().replacen("UTF-8", "UTF-16", 1);
    assert_eq!(find(utf16.as_bytes(), MessageKind::Memo.binaries()), vec![]);
}

#[test]
fn the_placeholder_keeps_every_line() {
    let doc = memo_with("QUFB\nQUFB\r\nQUFB\rQUFB");
    let values = find(&doc, MessageKind::Memo.binaries());
    let copy = with_placeholders(&doc, &values);
    let lines = |b: &[u8]| b.iter().filter(|c| **c == b'\n' || **c == b'\r').count();
    assert_eq!(lines(&copy), lines(&doc));
    assert!(copy.windows(20).any(|w| w == b"<memo:content>AAAA\n\r"), "{}", String::from_utf8_lossy(&copy));
    assert!(with_placeholders(MEMO_SAMPLE, &find(MEMO_SAMPLE, MessageKind::Memo.binaries())).len() < 4000);
}

#[test]
fn a_value_libxml2_lets_through_is_refused_where_its_element_is() {
    // libxml2 2.9 skips characters outside the alphabet; xs:base64Binary has none of them.
    let doc = memo_with("QU!FB");
    let mut tree = Schema::from_text(MessageKind::Memo.bundled_schema().1).unwrap();
    assert_eq!(tree.validate_tree(&doc), Ok(()), "libxml2 alone accepts it");
    let problems = validate(MessageKind::Memo, &doc).unwrap_err();
    assert_eq!(problems.len(), 1, "{problems:?}");
    let line = MEMO_SAMPLE.split(|b| *b == b'\n').position(|l| l.ends_with(b"</memo:content>")).unwrap() + 1;
    assert_eq!((problems[0].line, problems[0].column), (Some(line as u32), Some(9)));
    assert_eq!(
        problems[0].message,
        "Element 'content': not a valid value of the atomic type 'xs:base64Binary': '!' at character 3 is not in \
         the base64 alphabet (A-Z, a-z, 0-9, +, /, = at the end)."
    );
    // The same in the kombi request's print part.
    let kombi = String::from_utf8(KOMBI_SAMPLE.to_vec()).unwrap().replacen(
        "<dkal:MeddelelseIndholdData>",
        "<dkal:MeddelelseIndholdData>*",
        1,
    );
    let problems = validate(MessageKind::Kombi, kombi.as_bytes()).unwrap_err();
    assert!(
        problems.iter().any(|p| p.message.starts_with("Element 'MeddelelseIndholdData': not a valid")),
        "{problems:?}"
    );
}

#[test]
fn a_value_libxml2_refuses_keeps_its_words_and_the_rest_of_the_document_is_judged() {
    let mut tree = Schema::from_text(MessageKind::Memo.bundled_schema().1).unwrap();
    for content in ["QUF=", "QUFB=", ""] {
        let doc = memo_with(content);
        assert_eq!(validate(MessageKind::Memo, &doc), tree.validate_tree(&doc), "{content:?}");
        assert!(validate(MessageKind::Memo, &doc).is_err());
    }
    // A valid value, and a problem elsewhere: the tree path's answer, as before.
    let doc = String::from_utf8(MEMO_SAMPLE.to_vec()).unwrap().replacen("application/pdf", "application/zip", 1);
    let answer = validate(MessageKind::Memo, doc.as_bytes());
    assert!(answer.is_err());
    assert_eq!(answer, tree.validate_tree(doc.as_bytes()));
    // Both: the value's problem in its place among libxml2's.
    let doc = String::from_utf8(memo_with("QU*FB")).unwrap().replacen("application/pdf", "application/zip", 1);
    let problems = validate(MessageKind::Memo, doc.as_bytes()).unwrap_err();
    assert_eq!(problems.len(), 2, "{problems:?}");
    assert!(problems[0].message.starts_with("Element 'encodingFormat'"), "{problems:?}");
    assert!(problems[1].message.starts_with("Element 'content': not a valid"), "{problems:?}");
}

#[test]
fn the_samples_are_valid_with_the_placeholder() {
    assert_eq!(validate(MessageKind::Memo, MEMO_SAMPLE), Ok(()));
    assert_eq!(validate(MessageKind::Kombi, KOMBI_SAMPLE), Ok(()));
    let mut tree = Schema::from_text(MessageKind::Memo.bundled_schema().1).unwrap();
    let copy = with_placeholders(MEMO_SAMPLE, &find(MEMO_SAMPLE, MessageKind::Memo.binaries()));
    assert_eq!(tree.validate_tree(&copy), Ok(()));
}
