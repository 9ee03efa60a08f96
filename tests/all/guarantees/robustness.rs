//! No input makes flspost panic: every mutation of a valid document is either accepted or
//! refused with an error naming a field.

use flspost::app::generate::prepare;
use flspost::compose::{Composer, Kind, Plan};
use flspost::letters::Letters;
use flspost::model::policy::RolloutPolicy;
use flspost::model::LetterStatus;
use serde_json::{json, Value};

const BASE: &str = include_str!(concat!(env!("CARGO_MANIFEST_DIR"), "/samples/input/group-2a.json"));

/// Values that have broken parsers before: wrong types, extremes, odd Unicode.
fn nasty() -> Vec<Value> {
    vec![
        json!(null),
        json!(true),
        json!(0),
        json!(-1),
        json!(1e308),
        json!(-0.0),
        json!(18446744073709551615u64),
        json!(""),
        json!(" "),
        json!("x".repeat(10_000)),
        json!("Æ".repeat(71)),
        json!("\u{0}"),
        json!("a\u{202E}b"),
        json!("😀"),
        json!("Ωμέγα"),
        json!("<![CDATA[x]]>&amp;"),
        json!("]]>"),
        json!("Łódź “ok” – €"),
        json!("9999999999999"),
        json!("0000000000"),
        json!("2025-02-29"),
        json!("2025-03-10T25:61:00+01:00"),
        json!([]),
        json!({}),
        json!({"street": "x", "postcode": "1", "city": "y"}),
    ]
}

/// Every path to a leaf or object in `v`.
fn paths(v: &Value, prefix: Vec<String>, out: &mut Vec<Vec<String>>) {
    if let Value::Object(m) = v {
        for (k, child) in m {
            let mut p = prefix.clone();
            p.push(k.clone());
            out.push(p.clone());
            paths(child, p, out);
        }
    }
}

fn set(v: &mut Value, path: &[String], new: Value) {
    let mut cur = v;
    for k in &path[..path.len() - 1] {
        cur = &mut cur[k];
    }
    cur[&path[path.len() - 1]] = new;
}

#[test]
fn no_mutation_of_an_input_panics() {
    let policy = RolloutPolicy::default();
    let now = "2025-03-20T09:30:00Z".parse().unwrap();
    let composer = Composer::new(Letters::shipped());
    let base: Value = serde_json::from_str(BASE).unwrap();
    let mut all = vec![];
    paths(&base, vec![], &mut all);
    let (mut accepted, mut refused) = (0, 0);
    for path in &all {
        for value in nasty() {
            let mut doc = base.clone();
            set(&mut doc, path, value);
            match prepare(&doc.to_string(), &policy, now) {
                Ok(p) => {
                    accepted += 1;
                    for &kind in Kind::ALL {
                        let plan = Plan { kind, letter_revision: 0, transmission: 1, status: LetterStatus::New };
                        // Building may refuse (a character XDIS91 cannot hold), never panic.
                        if let Err(e) = composer.build(&p.result, &plan, now) {
                            assert_ne!(e.exit_code(), 3, "{path:?}: a built message failed its own schema: {e}");
                        }
                    }
                }
                Err(e) => {
                    refused += 1;
                    assert!(!e.field.is_empty() && !e.reason.is_empty());
                }
            }
        }
    }
    assert!(accepted > 0 && refused > 0);
    // Truncations of the document at every byte.
    for cut in 0..BASE.trim_end().len() {
        if BASE.is_char_boundary(cut) {
            assert!(prepare(&BASE[..cut], &policy, now).is_err());
        }
    }
}

/// A receipt and a generated XDIS91 cut at every byte: `validate` and the receipt reader
/// answer (valid, or an error with a position) and never panic.
#[test]
fn truncated_messages_are_refused_not_panicked_on() {
    use flspost::formats::xdis91::receipt;
    use flspost::schema::{self, MessageKind};
    let receipt_xml = br#"<?xml version="1.0" encoding="ISO-8859-1"?>
<Emessage xmlns="http://rep.oio.dk/sundcom.dk/medcom.dk/xml/schemas/2005/08/07/">
  <Envelope><Sent><Date>2025-03-21</Date><Time>08:15</Time></Sent><Identifier>K1</Identifier><AcknowledgementCode>minuspositivkvitt</AcknowledgementCode></Envelope>
  <NegativeReceipt>
    <Letter><Identifier>B1</Identifier><VersionCode>XC0230Q</VersionCode><StatisticalCode>XCTL02</StatisticalCode></Letter>
    <Sender><EANIdentifier>5790000128686</EANIdentifier></Sender>
    <Receiver><EANIdentifier>5790002727016</EANIdentifier></Receiver>
    <OriginalEmessage>
      <OriginalEnvelopeIdentifier>ENV</OriginalEnvelopeIdentifier>
      <OriginalSender><EANIdentifier>5790002727016</EANIdentifier></OriginalSender>
      <OriginalReceiver><EANIdentifier>5790000128686</EANIdentifier></OriginalReceiver>
      <OriginalLetter><OriginalLetterIdentifier>L</OriginalLetterIdentifier><OriginalVersionCode>XD9134L</OriginalVersionCode><RefuseCode>syntaksfejl</RefuseCode><RefuseText>Fejl &amp; mangler<Break/>linje 2</RefuseText></OriginalLetter>
    </OriginalEmessage>
  </NegativeReceipt>
</Emessage>
"#;
    assert!(schema::validate(MessageKind::Receipt, receipt_xml).is_ok());
    let parsed = receipt::parse(receipt_xml).unwrap();
    assert_eq!(parsed.letters[0].refuse_text.as_deref(), Some("Fejl & mangler\nlinje 2"));
    for cut in 0..receipt_xml.len() - 1 {
        let part = &receipt_xml[..cut];
        assert!(schema::validate(MessageKind::Receipt, part).is_err(), "cut at {cut} validated");
        let _ = receipt::parse(part);
    }

    let policy = RolloutPolicy::default();
    let now = "2025-03-20T09:30:00Z".parse().unwrap();
    let result = prepare(BASE, &policy, now).unwrap().result;
    let plan = Plan { kind: Kind::GpXdis91, letter_revision: 0, transmission: 1, status: LetterStatus::New };
    let xdis = Composer::new(Letters::shipped()).build(&result, &plan, now).unwrap().bytes;
    for cut in (0..xdis.len() - 1).step_by(7) {
        let errs = schema::validate(MessageKind::Xdis91, &xdis[..cut]).unwrap_err();
        assert!(!errs.is_empty() && errs.iter().all(|e| !e.message.is_empty()));
    }
}
