use super::document::{detect, root_of};
use super::libxml::tree::Schema;
use super::validate;
use crate::model::MessageKind;

#[test]
fn bundled_schemas_compile() {
    for kind in MessageKind::ALL {
        Schema::from_text(kind.bundled_schema().1).unwrap();
    }
}

#[test]
fn roots_are_recognised() {
    let r = root_of(b"<?xml version='1.0'?><!-- c --><Emessage xmlns='http://rep.oio.dk/sundcom.dk/medcom.dk/xml/schemas/2005/08/07/'/>").unwrap();
    assert_eq!(detect(&r), Some(MessageKind::Receipt));
    let r = root_of(br#"<memo:Message xmlns:memo="https://DigitalPost.dk/MeMo-1" memoVersion="1.2"></memo:Message>"#)
        .unwrap();
    assert_eq!(detect(&r), Some(MessageKind::Memo));
    assert_eq!(r.memo_version.as_deref(), Some("1.2"));
    assert_eq!(detect(&root_of(b"<Emessage/>").unwrap()), None);
    assert_eq!(root_of(b"not xml"), None);
}

#[test]
fn schema_errors_get_the_column_of_the_element() {
    let doc = b"<?xml version='1.0'?>\n<memo:Message xmlns:memo='https://DigitalPost.dk/MeMo-1' memoVersion='1.2'>\n  <memo:Bogus/>\n</memo:Message>";
    let errs = validate(MessageKind::Memo, doc).unwrap_err();
    assert_eq!((errs[0].line, errs[0].column), (Some(3), Some(3)), "{errs:?}");
    assert!(errs[0].message.starts_with("Element 'Bogus'"), "{errs:?}");
}

#[test]
fn malformed_xml_reports_line_and_column() {
    let errs = validate(MessageKind::Xdis91, b"<?xml version='1.0'?>\n<Emessage>\n<a></b>").unwrap_err();
    assert!(errs[0].line == Some(3), "{errs:?}");
}
