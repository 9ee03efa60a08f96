use super::care_communication::definition_url_ok;
use super::communication::matches_uuid;
use super::message::Bundle;
use super::patient::dk_core_cpr;
use crate::formats::fhir::consts::CC_DEFINITION;
use crate::formats::fhir::dom::Document;

#[test]
fn uuid_rule_is_an_unanchored_lower_case_match() {
    assert!(matches_uuid("urn:uuid:c29f6032-28bf-4a11-af98-6f451fa77fee"));
    assert!(matches_uuid("x urn:uuid:c29f6032-28bf-4a11-af98-6f451fa77fee y"));
    assert!(!matches_uuid("urn:uuid:C29F6032-28bf-4a11-af98-6f451fa77fee"));
    assert!(!matches_uuid("c29f6032-28bf-4a11-af98-6f451fa77fee"));
    assert!(!matches_uuid("urn:uuid:c29f6032-28bf-4a11-af98-6f451fa77fe"));
}

#[test]
fn resolve_by_full_url_relative_or_absolute_type_and_id() {
    let xml = r#"<Bundle xmlns="http://hl7.org/fhir">
  <entry><fullUrl value="urn:uuid:1"/><resource><Organization><id value="a"/></Organization></resource></entry>
  <entry><fullUrl value="https://x/Patient/b"/><resource><Patient><id value="b"/></Patient></resource></entry>
</Bundle>"#;
    let doc = Document::parse(xml.as_bytes()).unwrap();
    let b = Bundle::new(&doc);
    let found = |reference: &str| b.resolve(reference).map(|r| r.name());
    assert_eq!(found("urn:uuid:1"), Some("Organization"));
    assert_eq!(found("Organization/a"), Some("Organization"));
    assert_eq!(found("https://elsewhere/fhir/Organization/a"), Some("Organization"));
    assert_eq!(found("https://x/Patient/b"), Some("Patient"));
    assert_eq!(found("Patient/b"), Some("Patient"));
    assert_eq!(found("XOrganization/a"), None);
    assert_eq!(found("Patient/a"), None);
    assert_eq!(found("Organization/b"), None);
    assert_eq!(found("a"), None);
}

#[test]
fn cpr_and_definition_rules() {
    assert!(dk_core_cpr("2509479989"));
    assert!(dk_core_cpr("2902004234"));
    assert!(!dk_core_cpr("3002001234"));
    assert!(!dk_core_cpr("2509479"));
    assert!(definition_url_ok(CC_DEFINITION));
    assert!(definition_url_ok(&CC_DEFINITION.replace("|5.0", "|5.12")));
    assert!(!definition_url_ok(&CC_DEFINITION.replace("|5.0", "|4.0")));
    assert!(!definition_url_ok(&CC_DEFINITION.replace("|5.0", "|5.123")));
}
