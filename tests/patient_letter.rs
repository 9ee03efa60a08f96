//! The patient's letter: the MeMo message and the PDF inside it, read with poppler's tools
//! (the same `pdftotext` a reviewer would use).

mod common;
use common::*;
use std::process::Command;

fn poppler(tool: &str, pdf: &[u8]) -> String {
    let exe = ensure_tool(tool, "poppler-utils");
    let d = tempfile::tempdir().unwrap();
    let p = d.path().join("letter.pdf");
    std::fs::write(&p, pdf).unwrap();
    let mut c = Command::new(exe);
    if tool == "pdftotext" {
        c.arg(&p).arg("-");
    } else {
        c.arg(&p);
    }
    let out = c.output().unwrap();
    assert!(out.status.success(), "{tool}: {}", String::from_utf8_lossy(&out.stderr));
    String::from_utf8(out.stdout).unwrap()
}

#[test]
fn every_group_letter_says_its_key_words_to_the_named_patient() {
    let w = World::new();
    let expectations: [(&str, &[&str]); 4] = [
        ("group-1.json", &["normal knogletæthed", "rask"]),
        ("group-2a.json", &["osteopeni", "5 år", "2030", "egen læge"]),
        ("group-2b.json", &["osteoporose", "årskontrol", "egen læge"]),
        ("group-3.json", &["svær osteoporose", "ambulatorium"]),
    ];
    let dates = ["10. marts 2025", "11. marts 2025", "12. marts 2025", "13. marts 2025"];
    for ((file, words), date) in expectations.iter().zip(dates) {
        let s = w.generate(&sample(file)).ok().one();
        let memo = std::fs::read(s["messages"][1]["path"].as_str().unwrap()).unwrap();
        let pdf = pdf_of_memo(&memo);
        // The PDF beside the MeMo is the same document.
        assert_eq!(std::fs::read(s["messages"][1]["pdf"].as_str().unwrap()).unwrap(), pdf);
        let text = poppler("pdftotext", &pdf);
        let flat = text.split_whitespace().collect::<Vec<_>>().join(" ");
        for word in *words {
            assert!(flat.contains(word), "{file}: {word:?} missing from the PDF text:\n{text}");
        }
        let input = sample_json(file);
        let name = format!(
            "{} {}",
            input["patient"]["given_name"].as_str().unwrap(),
            input["patient"]["surname"].as_str().unwrap()
        );
        assert!(flat.contains(&name), "{file}: patient name missing:\n{text}");
        assert!(flat.contains(date), "{file}: scan date missing:\n{text}");
        assert!(flat.contains("Karen Østergaard"), "{file}: signature missing");
        assert!(flat.contains(input["patient"]["address"]["street"].as_str().unwrap()), "{file}: address missing");
        assert!(!flat.contains(input["patient"]["cpr"].as_str().unwrap()), "{file}: the letter does not print the CPR");
    }
}

#[test]
fn the_pdf_is_a4_with_embedded_fonts() {
    let w = World::new();
    let s = w.generate(&sample("group-2b.json")).ok().one();
    let pdf = std::fs::read(s["messages"][1]["pdf"].as_str().unwrap()).unwrap();
    let info = poppler("pdfinfo", &pdf);
    let field =
        |name: &str| info.lines().find_map(|l| l.strip_prefix(name)).map(str::trim).unwrap_or_default().to_string();
    assert_eq!(field("Page size:"), "595.276 x 841.89 pts (A4)", "{info}");
    assert_eq!(field("Pages:"), "1", "{info}");
    let fonts = poppler("pdffonts", &pdf);
    let rows: Vec<&str> = fonts.lines().skip(2).collect();
    assert_eq!(rows.len(), 2, "{fonts}");
    for r in rows {
        assert!(r.contains("DejaVuSans") && r.contains("TrueType") && r.contains("yes"), "font not embedded: {r}");
    }
}

#[test]
fn the_memo_header_carries_sender_recipient_and_a_short_notification() {
    let w = World::new();
    let s = w.generate(&sample("group-3.json")).ok().one();
    let memo = std::fs::read_to_string(s["messages"][1]["path"].as_str().unwrap()).unwrap();
    let doc = roxmltree::Document::parse(&memo).unwrap();
    let ns = "https://DigitalPost.dk/MeMo-1";
    let text = |path: &[&str]| -> String {
        let mut node = doc.root_element();
        for p in path {
            node = node.children().find(|c| c.has_tag_name((ns, *p))).unwrap_or_else(|| panic!("{p}"));
        }
        node.text().unwrap_or("").to_string()
    };
    assert_eq!(doc.root_element().attribute("memoVersion"), Some("1.2"));
    assert_eq!(text(&["MessageHeader", "messageType"]), "DIGITALPOST");
    let uuid = uuid::Uuid::parse_str(&text(&["MessageHeader", "messageUUID"])).unwrap();
    assert_eq!(uuid.get_version_num(), 4);
    assert_eq!(text(&["MessageHeader", "Sender", "senderID"]), "29190925");
    assert_eq!(text(&["MessageHeader", "Sender", "idType"]), "CVR");
    assert_eq!(text(&["MessageHeader", "Sender", "label"]), "Aarhus Universitetshospital");
    assert_eq!(text(&["MessageHeader", "Recipient", "recipientID"]), "2911829996");
    assert_eq!(text(&["MessageHeader", "Recipient", "idType"]), "CPR");
    assert!(text(&["MessageHeader", "notification"]).chars().count() <= 150);
    assert_eq!(text(&["MessageBody", "createdDateTime"]), "2025-03-20T09:30:00Z");
    assert_eq!(text(&["MessageBody", "MainDocument", "File", "encodingFormat"]), "application/pdf");
    assert_eq!(text(&["MessageBody", "MainDocument", "File", "language"]), "da");
    let filename = text(&["MessageBody", "MainDocument", "File", "filename"]);
    assert!(!filename.contains(['<', '>', ':', '"', '/', '\\', '|', '?', '*', '\n']), "{filename}");
    assert!(filename.ends_with(".pdf"));
}
