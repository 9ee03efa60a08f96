//! The patient's letter: the MeMo message and the PDF inside it, read with poppler's tools
//! (the same `pdftotext` a reviewer would use).

use crate::common::*;

#[test]
fn every_group_letter_says_its_key_words_to_the_named_patient() {
    let w = World::new();
    let expectations: [(&str, &[&str]); 4] = [
        ("group-1.json", &["normal knogletæthed", "rask"]),
        ("group-2a.json", &["osteopeni", "5 år", "2030", "egen læge"]),
        ("group-2b.json", &["osteoporose", "årskontrol.", "egen læge"]),
        ("group-3.json", &["svær osteoporose", "ambulatorium"]),
    ];
    let dates = ["10. marts 2025", "11. marts 2025", "12. marts 2025", "13. marts 2025"];
    for ((file, words), date) in expectations.iter().zip(dates) {
        let s = w.generate(&sample(file)).ok().one();
        let memo = std::fs::read(s["messages"][1]["path"].as_str().unwrap()).unwrap();
        let pdf = pdf_of_memo(&memo);
        // The PDF beside the MeMo is the same document.
        assert_eq!(std::fs::read(s["messages"][1]["pdf"].as_str().unwrap()).unwrap(), pdf);
        let text = poppler("pdftotext", &[], &pdf);
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
    let info = poppler("pdfinfo", &[], &pdf);
    let field =
        |name: &str| info.lines().find_map(|l| l.strip_prefix(name)).map(str::trim).unwrap_or_default().to_string();
    assert_eq!(field("Page size:"), "595.276 x 841.89 pts (A4)", "{info}");
    assert_eq!(field("Pages:"), "1", "{info}");
    let fonts = poppler("pdffonts", &[], &pdf);
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

/// The leaf elements of `pdfinfo -struct-text`, in order: (path of element types, text
/// with runs of whitespace made one space).
fn structure(pdf: &[u8]) -> Vec<(String, String)> {
    let text = poppler("pdfinfo", &["-struct-text"], pdf);
    let mut path: Vec<(usize, String)> = vec![];
    let mut leaves: Vec<(String, String)> = vec![];
    for line in text.lines() {
        let indent = line.len() - line.trim_start().len();
        let t = line.trim();
        if let Some(q) = t.strip_prefix('"').and_then(|t| t.strip_suffix('"')) {
            let p: Vec<&str> = path.iter().map(|(_, n)| n.as_str()).collect();
            let key = p.join("/");
            match leaves.last_mut() {
                Some((k, text)) if *k == key && !text.is_empty() => text.push_str(q),
                _ => leaves.push((key, q.to_string())),
            }
        } else if !t.is_empty() {
            path.retain(|(i, _)| *i < indent);
            path.push((indent, t.split_whitespace().next().unwrap().to_string()));
            // A new element: its text starts afresh.
            leaves.push((path.iter().map(|(_, n)| n.as_str()).collect::<Vec<_>>().join("/"), String::new()));
        }
    }
    leaves
        .into_iter()
        .filter(|(_, t)| !t.is_empty())
        .map(|(k, t)| (k, t.split_whitespace().collect::<Vec<_>>().join(" ")))
        .collect()
}

/// What the patient's letter says, part by part, from the same templates and input.
fn expected_reading(input_file: &str) -> Vec<(String, String)> {
    use flspost::letters::{danish_date, Letters};
    use flspost::model::Addressee;
    let text = std::fs::read_to_string(sample(input_file)).unwrap();
    let now: chrono::DateTime<chrono::Utc> = FAKE_NOW.parse().unwrap();
    let r =
        flspost::app::generate::prepare(&text, &flspost::model::policy::RolloutPolicy::default(), now).unwrap().result;
    let letter = Letters::shipped().render(Addressee::Patient, &r, now.date_naive()).unwrap();
    let v = sample_json(input_file);
    let s = &v["sender"];
    let p = |k: &str, t: String| (k.to_string(), t);
    let mut out = vec![p("Document/Div/P", s["organisation"].as_str().unwrap().into())];
    out.push(p("Document/Div/P", s["department"].as_str().unwrap().into()));
    out.push(p("Document/Div/P", s["address"]["street"].as_str().unwrap().into()));
    let town = |a: &serde_json::Value| format!("{} {}", a["postcode"].as_str().unwrap(), a["city"].as_str().unwrap());
    out.push(p("Document/Div/P", town(&s["address"])));
    out.push(p("Document/Div/P", format!("Telefon {}", s["phone"].as_str().unwrap())));
    let a = &v["patient"]["address"];
    out.push(p("Document/Div/P", r.patient.full_name()));
    out.push(p("Document/Div/P", a["street"].as_str().unwrap().into()));
    out.push(p("Document/Div/P", town(a)));
    out.push(p("Document/P", format!("{}, {}", s["address"]["city"].as_str().unwrap(), danish_date(now.date_naive()))));
    out.push(p("Document/H1", letter.subject.clone()));
    for para in letter.main_paragraphs() {
        out.push(p("Document/P", para.join(" ")));
    }
    assert!(!letter.signature().is_empty());
    for para in letter.signature() {
        out.push(p("Document/Div/P", para.join(" ")));
    }
    out
}

#[test]
fn a_screen_reader_reads_every_group_letter_in_order() {
    let w = World::new();
    for file in SAMPLES {
        let s = w.generate(&sample(file)).ok().one();
        let pdf = std::fs::read(s["messages"][1]["pdf"].as_str().unwrap()).unwrap();
        let info = poppler("pdfinfo", &[], &pdf);
        assert!(info.lines().any(|l| l.starts_with("Tagged:") && l.ends_with("yes")), "{info}");
        let read = structure(&pdf);
        assert_eq!(read, expected_reading(file), "{file}: the structure tree does not read as the letter");

        // Nothing on the page is left out of the tree but the artifacts: the page number
        // and the return line (which repeats the letterhead for the post office).
        let raw = poppler("pdftotext", &["-raw"], &pdf); // the text in content-stream order
        let v = sample_json(file);
        let a = &v["sender"]["address"];
        let artifacts = format!(
            "{} {}, {} {} Side 1 af 1",
            v["sender"]["organisation"].as_str().unwrap(),
            a["street"].as_str().unwrap(),
            a["postcode"].as_str().unwrap(),
            a["city"].as_str().unwrap()
        );
        // Compared as multisets of words: pdftotext orders words by position on the page.
        let tagged: String = read.iter().map(|(_, t)| t.as_str()).collect::<Vec<_>>().join(" ");
        let mut page_words: Vec<&str> = raw.split_whitespace().collect();
        for word in artifacts.split_whitespace() {
            let i = page_words.iter().position(|w| *w == word).unwrap_or_else(|| panic!("{word} not on the page"));
            page_words.remove(i);
        }
        let mut tagged_words: Vec<&str> = tagged.split_whitespace().collect();
        page_words.sort_unstable();
        tagged_words.sort_unstable();
        assert_eq!(page_words, tagged_words, "{file}: the page and the tree differ");
        assert!(!tagged.contains("Side 1 af 1"));
    }
}

#[test]
fn the_pdf_declares_language_title_tagging_and_its_conformance_claims() {
    let w = World::new();
    let s = w.generate(&sample("group-3.json")).ok().one();
    let pdf = std::fs::read(s["messages"][1]["pdf"].as_str().unwrap()).unwrap();
    // Objects (not content streams) are written uncompressed: read the catalog directly.
    let text = String::from_utf8_lossy(&pdf).replace(['\n', ' '], "");
    for needle in ["/Lang(da)", "/MarkInfo<</Markedtrue>>", "/DisplayDocTitletrue", "/StructTreeRoot", "/RoleMap"] {
        assert!(text.contains(needle), "{needle} missing");
    }
    let xmp_start = text.find("<x:xmpmeta").expect("XMP metadata");
    let xmp = &text[xmp_start..text.find("</x:xmpmeta>").unwrap()];
    for needle in [
        "<pdfuaid:part>1</pdfuaid:part>",
        "<pdfaid:part>2</pdfaid:part>",
        "<pdfaid:conformance>A</pdfaid:conformance>",
        "<rdf:lixml:lang=\"x-default\">Resultatafdinknogleskanning</rdf:li>",
        "<pdfaSchema:prefix>pdfuaid</pdfaSchema:prefix>",
    ] {
        assert!(xmp.contains(needle), "{needle} missing from the XMP");
    }
    let info = poppler("pdfinfo", &[], &pdf);
    assert!(info.contains("Metadata Stream: yes") && info.contains("Title:           Resultat af din knogleskanning"));
}

/// Word boxes from `pdftotext -bbox`: (text, x_min, y_min, x_max, y_max) in points from the
/// top left of page 1.
fn words(pdf: &[u8]) -> Vec<(String, f32, f32, f32, f32)> {
    let html = poppler("pdftotext", &["-bbox", "-f", "1", "-l", "1"], pdf);
    let num = |l: &str, k: &str| -> f32 {
        let at = l.find(&format!("{k}=\"")).unwrap() + k.len() + 2;
        l[at..at + l[at..].find('"').unwrap()].parse().unwrap()
    };
    html.lines()
        .filter(|l| l.trim_start().starts_with("<word "))
        .map(|l| {
            let t = &l[l.find('>').unwrap() + 1..l.rfind("</word>").unwrap()];
            (t.replace("&amp;", "&"), num(l, "xMin"), num(l, "yMin"), num(l, "xMax"), num(l, "yMax"))
        })
        .collect()
}

const MM: f32 = 72.0 / 25.4;

/// Every word of the patient's name and address lies inside the envelope window
/// (DIN 5008 form B's address field: 20-105 mm from the left, 45-90 mm from the top).
fn assert_address_in_window(pdf: &[u8], address_words: &[&str], what: &str) {
    let ws = words(pdf);
    for word in address_words {
        let (_, x0, y0, x1, y1) = ws
            .iter()
            .find(|w| w.0 == *word && w.2 > 40.0 * MM && w.2 < 95.0 * MM)
            .unwrap_or_else(|| panic!("{what}: {word} not near the window"));
        assert!(
            *x0 >= 20.0 * MM && *x1 <= 105.0 * MM && *y0 >= 45.0 * MM && *y1 <= 90.0 * MM,
            "{what}: {word} at ({x0:.0},{y0:.0})-({x1:.0},{y1:.0}) pt is outside the window"
        );
    }
}

fn word_height(pdf: &[u8], word: &str) -> f32 {
    let ws = words(pdf);
    let w = ws.iter().find(|w| w.0 == word).unwrap_or_else(|| panic!("{word} missing"));
    w.4 - w.2
}

#[test]
fn large_print_is_larger_and_still_fits_the_envelope_window() {
    let w = World::new();
    let normal = {
        let s = w.generate(&sample("group-2b.json")).ok().one();
        std::fs::read(s["messages"][1]["pdf"].as_str().unwrap()).unwrap()
    };
    let mut v = sample_json("group-2b.json");
    v["result_id"] = serde_json::json!("FLS-AUH-2025-9003");
    v["patient"]["large_print"] = serde_json::json!(true);
    // The longest street the input allows for print (34 characters), in wide letters.
    v["patient"]["address"]["street"] = serde_json::json!("Wilhelm Wassermanns Møllevej 188 W");
    let large = {
        let s = w.generate(&w.write("large.json", &v.to_string())).ok().one();
        std::fs::read(s["messages"][1]["pdf"].as_str().unwrap()).unwrap()
    };
    // Body text: 14 pt against 11 pt.
    let ratio = word_height(&large, "årskontrol.") / word_height(&normal, "årskontrol.");
    assert!((ratio - 14.0 / 11.0).abs() < 0.05, "body text ratio {ratio}");
    let info = poppler("pdfinfo", &[], &large);
    assert!(info.contains("Tagged:          yes"));
    let read = structure(&large);
    assert!(read.iter().any(|(k, t)| k == "Document/H1" && t == "Resultat af din knogleskanning"));

    let name_and_town = ["Schwendlund", "Test", "Mosebryggersen", "8000", "Aarhus"];
    assert_address_in_window(&normal, &name_and_town, "normal print");
    assert_address_in_window(&large, &name_and_town, "large print");
    assert_address_in_window(&large, &["Wilhelm", "Wassermanns", "Møllevej", "188", "W"], "large print, long street");

    // The config can ask for large print for everyone; an input's false still wins.
    let config = w.write("large.toml", "[patient_letter]\nlarge_print = true\n");
    let run = |v: &serde_json::Value, name: &str| {
        let input = w.write(name, &v.to_string());
        let s = w.generate_with(&config, &input).ok().one();
        std::fs::read(s["messages"][1]["pdf"].as_str().unwrap()).unwrap()
    };
    let mut v = sample_json("group-2b.json");
    v["result_id"] = serde_json::json!("FLS-AUH-2025-9004");
    let by_config = run(&v, "c1.json");
    // Larger in large print too, shrunk as far as this 30-character name needs to fit the window.
    let r = word_height(&by_config, "Schwendlund") / word_height(&normal, "Schwendlund");
    assert!(r > 1.05, "address ratio {r}");
    assert_address_in_window(&by_config, &name_and_town, "large print by config");
    assert!((word_height(&by_config, "årskontrol.") / word_height(&normal, "årskontrol.") - 14.0 / 11.0).abs() < 0.05);
    v["result_id"] = serde_json::json!("FLS-AUH-2025-9005");
    v["patient"]["large_print"] = serde_json::json!(false);
    let declined = run(&v, "c2.json");
    assert!((word_height(&declined, "årskontrol.") - word_height(&normal, "årskontrol.")).abs() < 0.1);
}

#[test]
fn a_name_as_long_as_the_contract_allows_wraps_inside_the_window_instead_of_being_refused() {
    let w = World::new();
    let mut v = sample_json("group-1.json");
    // 70 + 70 characters, the XDIS91 limits, of wide capitals and Danish letters, in words.
    let given = "WÆMØW ÅWMWÆ ØMWÅW WWMÆØ MÅWWM ÆWØMW WMÅÆW MWØWÅ ÆMWWØ WÅMWÆ ØWMÅW MWÆW";
    let surname = "MØWÆW-ÅWMWØ WÆMWÅ ØWWMÆ WÅMØW ÆWMWÅ WØMWÆ ÅWMÆW ØMWWÅ ÆWMØW WÅMWÆ MWØW";
    assert_eq!((given.chars().count(), surname.chars().count()), (70, 70));
    v["patient"]["given_name"] = serde_json::json!(given);
    v["patient"]["surname"] = serde_json::json!(surname);
    for (large, name) in [(false, "normal.json"), (true, "large.json")] {
        v["result_id"] = serde_json::json!(format!("FLS-AUH-2025-98{}", u8::from(large)));
        v["patient"]["large_print"] = serde_json::json!(large);
        let s = w.generate(&w.write(name, &v.to_string())).ok().one();
        let pdf = std::fs::read(s["messages"][1]["pdf"].as_str().unwrap()).unwrap();
        let words: Vec<&str> = given.split(' ').chain(surname.split(' ')).collect();
        assert_address_in_window(&pdf, &words, if large { "large print, longest name" } else { "longest name" });
        // Read through the structure tree, the wrapped name is still one paragraph, whole.
        let read = structure(&pdf);
        let full = format!("{given} {surname}");
        assert!(read.iter().any(|(k, t)| k.ends_with("/P") && *t == full), "{read:?}");
    }
}
