//! MedCom's Acknowledgement is read: ok, transient-error, fatal-error (only with its OperationOutcome), no other code.

use super::*;

#[test]
fn medcoms_acknowledgement_is_read() {
    let Some(m) = medcom() else { return };
    let path = m.join("acknowledgement/Flow2-Acknowledgement_Ex_to_OIOXML.xml");
    let a = ack::read(&std::fs::read(&path).unwrap()).unwrap();
    assert_eq!(a.code, ack::ResponseCode::Ok);
    assert_eq!(a.acknowledges, "60098c38-6fe1-41ba-aa92-d4809022de88");
    assert_eq!(a.message_id, "ec45ab9f-f918-42e3-9536-f6c00fbb8b1e");
    assert_eq!(a.bundle_id, "e90e15ae-e019-496b-aa65-95aab4983f0d");
    assert_eq!(a.sender_gln.as_deref(), Some("5790000121441"));
    assert!(a.issues.is_empty());
    let (code, lines) = validate_cli(&path);
    assert_eq!(
        (code, lines[0].as_str()),
        (0, "valid FHIR Acknowledgement: to MedCom's standard (flspost-fhir-standard.xsd and MedCom's rules) and to flspost's profile (flspost-acknowledgement.xsd and flspost's rules)")
    );

    // A fatal-error must carry its OperationOutcome (medcom-acknowledgement-1) ...
    let text = std::fs::read_to_string(&path).unwrap();
    let fatal = text.replace(r#"<code value="ok"/>"#, r#"<code value="fatal-error"/>"#);
    let e = ack::read(fatal.as_bytes()).unwrap_err();
    assert!(e.0.iter().any(|p| p.message.starts_with("medcom-acknowledgement-1: ")), "{e}");
    // ... and with one it is read, issue and all.
    let outcome = r#"  <entry>
    <fullUrl value="OperationOutcome/4f7c5b2e-8a8b-4a5e-9a43-2f1d3c4b5a6e"/>
    <resource>
      <OperationOutcome>
        <id value="4f7c5b2e-8a8b-4a5e-9a43-2f1d3c4b5a6e"/>
        <text><status value="generated"/><div xmlns="http://www.w3.org/1999/xhtml"><p>Ukendt modtager</p></div></text>
        <issue>
          <severity value="error"/>
          <code value="value"/>
          <details>
            <coding>
              <system value="http://terminology.hl7.org/CodeSystem/operation-outcome"/>
              <code value="MSG_Receiver_Identifier_UNKNOWN"/>
            </coding>
            <text value="Modtageren kendes ikke"/>
          </details>
        </issue>
      </OperationOutcome>
    </resource>
  </entry>
</Bundle>"#;
    let with_outcome = fatal.replace("</Bundle>", outcome);
    let a = ack::read(with_outcome.as_bytes()).unwrap();
    assert_eq!(a.code, ack::ResponseCode::FatalError);
    assert_eq!(a.issues.len(), 1);
    assert_eq!(a.issues[0].details_code.as_deref(), Some("MSG_Receiver_Identifier_UNKNOWN"));
    assert_eq!(a.issues[0].text.as_deref(), Some("Modtageren kendes ikke"));
    let transient = with_outcome.replace(r#"<code value="fatal-error"/>"#, r#"<code value="transient-error"/>"#);
    assert_eq!(ack::read(transient.as_bytes()).unwrap().code, ack::ResponseCode::TransientError);
    let unknown = text.replace(r#"<code value="ok"/>"#, r#"<code value="maybe"/>"#);
    let e = ack::read(unknown.as_bytes()).unwrap_err();
    assert!(e.0.iter().any(|p| p.message.contains("response.code `maybe`")), "{e}");
}
