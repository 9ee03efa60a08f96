//! The kombi hand-off: one SF1601 KombiPostAfsend request per patient letter, which the
//! platform delivers by Digital Post or, for a patient exempt from it, prints and posts.
//! Checked through the real binary, and part by part against the official schemas
//! (MeMo 1.2 core; KOMBIT's SF1600 ForsendelseI) with xmllint.

use crate::common::*;
use base64::Engine;
use std::path::{Path, PathBuf};
use std::process::Command;

const FJERNPRINT: &str = "urn:oio:fjernprint:1.0.0";
const MEMO: &str = "https://DigitalPost.dk/MeMo-1";

fn kombi_config(w: &World) -> PathBuf {
    w.config("kombi.toml", &ConfigOf { patient: Some(Transport::Kombi("outbox")), ..ConfigOf::default() })
}

fn generate_kombi(w: &World, input: &Path) -> Run {
    w.generate_with(&kombi_config(w), input)
}

fn child<'a, 'i>(n: roxmltree::Node<'a, 'i>, ns: &str, name: &str) -> roxmltree::Node<'a, 'i> {
    n.children()
        .find(|c| c.tag_name().name() == name && c.tag_name().namespace().unwrap_or("") == ns)
        .unwrap_or_else(|| panic!("no {name} in {:?}", n.tag_name()))
}

fn text_at(n: roxmltree::Node<'_, '_>, path: &[(&str, &str)]) -> String {
    let mut n = n;
    for (ns, name) in path {
        n = child(n, ns, name);
    }
    n.text().unwrap_or_default().to_string()
}

/// The text of the element `<prefix:name ...>...</prefix:name>` as a document of its own
/// (each part declares its namespaces on itself, so it stands alone).
fn part(doc: &str, open: &str, close: &str) -> String {
    let start = doc.find(open).unwrap_or_else(|| panic!("{open} missing"));
    let end = doc.find(close).unwrap_or_else(|| panic!("{close} missing")) + close.len();
    format!("<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n{}\n", &doc[start..end])
}

#[test]
fn every_patient_gets_one_request_for_digital_post_or_print() {
    let w = World::new();
    for file in SAMPLES {
        let s = generate_kombi(&w, &sample(file)).ok().one();
        let m = &s["messages"][1];
        assert_eq!(m["kind"], "patient-kombi", "{s}");
        let path = m["path"].as_str().unwrap();
        assert!(path.ends_with("patient-kombi.xml"));
        let bytes = std::fs::read(path).unwrap();
        let text = String::from_utf8(bytes.clone()).unwrap();
        assert!(text.starts_with("<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<kombi_request>"), "{file}");
        let doc = roxmltree::Document::parse(&text).unwrap();
        let root = doc.root_element();
        assert_eq!(root.tag_name().name(), "kombi_request");
        assert_eq!(text_at(root, &[("", "KombiValgKode")]), "Automatisk Valg");

        let memo = child(root, MEMO, "Message");
        let uuid = text_at(memo, &[(MEMO, "MessageHeader"), (MEMO, "messageUUID")]);
        assert_eq!(uuid, m["letter_id"].as_str().unwrap());
        let input = sample_json(file);
        assert_eq!(
            text_at(memo, &[(MEMO, "MessageHeader"), (MEMO, "Recipient"), (MEMO, "recipientID")]),
            input["patient"]["cpr"].as_str().unwrap()
        );
        let memo_pdf = base64::engine::general_purpose::STANDARD
            .decode(text_at(memo, &[(MEMO, "MessageBody"), (MEMO, "MainDocument"), (MEMO, "File"), (MEMO, "content")]))
            .unwrap();

        let f = child(child(root, FJERNPRINT, "ForsendelseISamling"), FJERNPRINT, "ForsendelseI");
        assert_eq!(text_at(f, &[(FJERNPRINT, "AfsendelseIdentifikator")]), uuid, "both parts name one letter");
        assert_eq!(text_at(f, &[("urn:oio:dkal:1.0.0", "FilformatNavn")]), "PDF");
        let print_pdf = base64::engine::general_purpose::STANDARD
            .decode(text_at(f, &[("urn:oio:dkal:1.0.0", "MeddelelseIndholdData")]))
            .unwrap();
        assert_eq!(print_pdf, memo_pdf, "{file}: print and Digital Post carry the same PDF");
        assert_eq!(print_pdf, std::fs::read(m["pdf"].as_str().unwrap()).unwrap());
        let address = child(child(f, FJERNPRINT, "ForsendelseModtager"), FJERNPRINT, "ModtagerAdresse");
        let a = &input["patient"]["address"];
        let lines: Vec<&str> = address.children().filter(|c| c.is_element()).map(|c| c.text().unwrap_or("")).collect();
        let name = format!(
            "{} {}",
            input["patient"]["given_name"].as_str().unwrap(),
            input["patient"]["surname"].as_str().unwrap()
        );
        let town = format!("{} {}", a["postcode"].as_str().unwrap(), a["city"].as_str().unwrap());
        assert_eq!(lines, [name.as_str(), a["street"].as_str().unwrap(), &town, a["postcode"].as_str().unwrap(), "DK"]);
        // The print part names no CPR: "unknown", with the address (the MeMo part has it).
        let ftext = &text[text.find("<fjernprint:ForsendelseI ").unwrap()..];
        assert!(!ftext.contains(input["patient"]["cpr"].as_str().unwrap()));
        assert_eq!(
            text_at(f, &[(FJERNPRINT, "DokumentParametre"), ("urn:oio:sagdok:3.0.0", "TitelTekst")]),
            "Resultat af din knogleskanning"
        );

        let v = w.run(&["validate", path]).ok();
        assert!(v.stdout.contains("valid SF1601 kombi_request"), "{}", v.stdout);
        // Files holding a CPR number are the owner's only.
        use std::os::unix::fs::PermissionsExt;
        assert_eq!(std::fs::metadata(path).unwrap().permissions().mode() & 0o777, 0o600);
    }

    // send hands the request to the patient transport, byte for byte; the journal says
    // which hand-off it was.
    let config = kombi_config(&w);
    w.run_with(&config, &["send"]);
    let outbox: Vec<(String, Vec<u8>)> = tree(&w.path("outbox"));
    assert_eq!(outbox.len(), 4, "{:?}", outbox.iter().map(|f| &f.0).collect::<Vec<_>>());
    for (name, bytes) in &outbox {
        assert!(name.starts_with("kombi-") && name.ends_with("-1.xml"), "{name}");
        assert!(bytes.starts_with(b"<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<kombi_request>"));
    }
    let list = w.run(&["journal", "list", "--json"]).ok();
    let kinds: Vec<String> = list.json().iter().map(|m| m["kind"].as_str().unwrap().to_string()).collect();
    assert_eq!(kinds.iter().filter(|k| *k == "patient-kombi").count(), 4, "{kinds:?}");
    assert!(!kinds.iter().any(|k| k == "patient-memo"));
}

/// A schema that pulls in every official SF1600 file ForsendelseI.xsd reaches, one wrapper
/// per namespace: libxml2 (so xmllint) reads only the first file imported for a namespace,
/// and the OIO files import each namespace from several.
fn official_forsendelse_schema(reference: &Path, dir: &Path) -> PathBuf {
    // Canonical: libxml2 tells included files apart by path, and the files' own relative
    // imports resolve to the canonical one.
    let oio = reference
        .join("memo/xsd/fjernprint_sf1600_itk-dev-serviceplatformen/SF1600_EP_SP1-2/xsd/oio")
        .canonicalize()
        .unwrap();
    let attr = |text: &str, name: &str, from: usize| -> Option<(String, usize)> {
        let at = text[from..].find(&format!("{name}=\""))? + from + name.len() + 2;
        let end = text[at..].find('"')? + at;
        Some((text[at..end].to_string(), end))
    };
    let (mut seen, mut todo) = (vec![], vec!["ForsendelseI.xsd".to_string()]);
    while let Some(f) = todo.pop() {
        if seen.contains(&f) {
            continue;
        }
        let text = std::fs::read_to_string(oio.join(&f)).unwrap();
        let mut at = 0;
        while let Some((loc, end)) = attr(&text, "schemaLocation", at) {
            todo.push(loc);
            at = end;
        }
        seen.push(f);
    }
    let mut by_ns: Vec<(String, Vec<String>)> = vec![];
    for f in seen {
        let text = std::fs::read_to_string(oio.join(&f)).unwrap();
        let ns = attr(&text, "targetNamespace", 0).unwrap().0;
        match by_ns.iter_mut().find(|(n, _)| *n == ns) {
            Some((_, files)) => files.push(f),
            None => by_ns.push((ns, vec![f])),
        }
    }
    // Namespaces with the fewest files first, so one file's own import of a namespace
    // never comes before that namespace's wrapper.
    by_ns.sort_by_key(|(_, files)| files.len());
    let mut imports = String::new();
    for (i, (ns, files)) in by_ns.iter().enumerate() {
        let includes: String =
            files.iter().map(|f| format!("  <xs:include schemaLocation=\"{}\"/>\n", oio.join(f).display())).collect();
        std::fs::write(
            dir.join(format!("ns{i}.xsd")),
            format!("<?xml version=\"1.0\"?>\n<xs:schema xmlns:xs=\"http://www.w3.org/2001/XMLSchema\" targetNamespace=\"{ns}\">\n{includes}</xs:schema>\n"),
        )
        .unwrap();
        imports.push_str(&format!("  <xs:import namespace=\"{ns}\" schemaLocation=\"ns{i}.xsd\"/>\n"));
    }
    let all = dir.join("forsendelse-official.xsd");
    std::fs::write(&all, format!("<?xml version=\"1.0\"?>\n<xs:schema xmlns:xs=\"http://www.w3.org/2001/XMLSchema\">\n{imports}</xs:schema>\n")).unwrap();
    all
}

fn xmllint(schema: &Path, doc: &Path) -> (bool, String) {
    let exe = ensure_tool("xmllint", "libxml2-utils");
    let out = Command::new(exe).args(["--noout", "--schema"]).arg(schema).arg(doc).output().unwrap();
    let messages: String = String::from_utf8_lossy(&out.stderr)
        .lines()
        .filter(|l| !l.contains("Skipping import")) // the duplicate imports the wrappers answer
        .map(|l| format!("{l}\n"))
        .collect();
    (out.status.success(), messages)
}

#[test]
fn both_parts_validate_against_the_official_schemas() {
    let Some(reference) = reference() else { return };
    let w = World::new();
    let forsendelse_xsd = official_forsendelse_schema(&reference, w.dir.path());
    let memo_xsd = reference.join("memo/xsd/mortenm12-memo/Version1.2/MeMo_core.xsd");
    for file in SAMPLES {
        let s = generate_kombi(&w, &sample(file)).ok().one();
        let text = std::fs::read_to_string(s["messages"][1]["path"].as_str().unwrap()).unwrap();
        let memo = w.write(&format!("{file}.memo.xml"), &part(&text, "<memo:Message", "</memo:Message>"));
        let forsendelse = w.write(
            &format!("{file}.print.xml"),
            &part(&text, "<fjernprint:ForsendelseI ", "</fjernprint:ForsendelseI>"),
        );
        let (ok, msg) = xmllint(&memo_xsd, &memo);
        assert!(ok, "{file}: MeMo part against MeMo 1.2 core:\n{msg}");
        let (ok, msg) = xmllint(&forsendelse_xsd, &forsendelse);
        assert!(ok, "{file}: ForsendelseI against SF1600:\n{msg}");
    }
    // The official check can fail: a file format name over SF1600's 10 characters, and a
    // postcode that is not 4 digits.
    let s = generate_kombi(&w, &sample("group-1.json")).ok().one();
    let text = std::fs::read_to_string(s["messages"][1]["path"].as_str().unwrap()).unwrap();
    let good = part(&text, "<fjernprint:ForsendelseI ", "</fjernprint:ForsendelseI>");
    let postcode = sample_json("group-1.json")["patient"]["address"]["postcode"].as_str().unwrap().to_string();
    let (postcode, dk_postcode) =
        (format!("PostCodeIdentifier>{postcode}<"), format!("PostCodeIdentifier>DK-{postcode}<"));
    for (from, to) in [(">PDF<", ">PDF-DOKUMENT<"), (postcode.as_str(), dk_postcode.as_str())] {
        assert!(good.contains(from), "{from}");
        let bad = w.write("bad.xml", &good.replace(from, to));
        let (ok, msg) = xmllint(&forsendelse_xsd, &bad);
        assert!(!ok, "{to} passed the official schema");
        assert!(msg.contains("fails to validate") || msg.contains("validity error"), "{msg}");
        // flspost's own profile refuses it too.
        let mut doc = text.clone();
        doc = doc.replace(from, to);
        let bad_kombi = w.write("bad-kombi.xml", &doc);
        assert_eq!(w.run(&["validate", bad_kombi.to_str().unwrap()]).code, 1);
    }
}

#[test]
fn a_letter_that_cannot_be_printed_is_refused_and_nothing_is_written() {
    let w = World::new();
    type Change = fn(&mut serde_json::Value);
    let cases: [(&str, Change); 3] = [
        ("patient.address", |v| {
            v["patient"].as_object_mut().unwrap().remove("address");
        }),
        ("patient.address.postcode", |v| v["patient"]["address"]["postcode"] = serde_json::json!("DK-8000")),
        ("patient.address.street", |v| {
            v["patient"]["address"]["street"] = serde_json::json!("Christian den Niendes Allé 12, 4.tv")
        }),
    ];
    for (field, change) in cases {
        let mut v = sample_json("group-1.json");
        change(&mut v);
        let input = w.write("input.json", &v.to_string());
        let r = generate_kombi(&w, &input);
        assert_eq!(r.code, 2, "{field}: {}{}", r.stdout, r.stderr);
        assert!(r.stderr.contains(&format!("{field}: ")), "{field}: {}", r.stderr);
        assert_eq!(r.one()["error"]["field"], field);
        assert!(!r.stderr.contains(v["patient"]["cpr"].as_str().unwrap()), "no CPR in errors");
        // Only the refusals are journaled, this one newest; no message was made.
        let rows = w.run(&["journal", "list", "--json"]).ok().json();
        assert!(rows.iter().all(|r| r["kind"] == "input" && r["status"] == "refused"), "{field}: {rows:?}");
        assert_eq!(rows[0]["code"], format!("input_refused/{field}"), "{field}: {rows:?}");
        assert!(!w.out().exists(), "{field}: an output folder was made");
        assert!(!w.out().exists(), "{field}: output was written");
    }
    // With the MeMo hand-off the address stays optional.
    let mut v = sample_json("group-1.json");
    v["patient"].as_object_mut().unwrap().remove("address");
    let input = w.write("input.json", &v.to_string());
    let s = w.generate(&input).ok().one();
    assert_eq!(s["messages"][1]["kind"], "patient-memo");
}

#[test]
fn a_journal_written_before_kombi_opens_and_takes_kombi_letters() {
    // A schema-1 SQLite journal file (tests/fixtures), migrated through every step.
    if sqlite_only() {
        return;
    }
    let w = World::new();
    std::fs::create_dir_all(w.journal().parent().unwrap()).unwrap();
    std::fs::copy(root().join("tests/fixtures/journal-v1.sqlite"), w.journal()).unwrap();
    let before = w.run(&["journal", "list", "--json"]).ok().json();
    assert_eq!(before.len(), 4, "the old journal's messages are all there");
    let old_memo =
        before.iter().find(|m| m["result_id"] == "FLS-AUH-2025-0001" && m["kind"] == "patient-memo").unwrap();

    // A new result goes out as kombi; a correction of an old one too, with a new MeMo UUID
    // (the letter's revisions count across hand-offs), and the waiting MeMo is superseded.
    generate_kombi(&w, &sample("group-2a.json")).ok();
    let mut v = sample_json("group-1.json");
    v["patient"]["address"]["street"] = serde_json::json!("Nørregade 2");
    let corrected = w.write("corrected.json", &v.to_string());
    let s = generate_kombi(&w, &corrected).ok().one();
    assert_eq!(s["outcome"], "corrected", "{s}");
    let kombi = s["messages"].as_array().unwrap().iter().find(|m| m["kind"] == "patient-kombi").unwrap();
    assert_ne!(kombi["letter_id"], old_memo["letter_id"]);
    assert_eq!(kombi["replaces"], old_memo["id"]);
    let after = w.run(&["journal", "list", "--json", "--result", "FLS-AUH-2025-0001"]).ok().json();
    let memo_now = after.iter().find(|m| m["id"] == old_memo["id"]).unwrap();
    assert_eq!(memo_now["status"], "superseded", "{memo_now}");

    let conn = rusqlite::Connection::open(w.journal()).unwrap();
    let version: i64 = conn.pragma_query_value(None, "user_version", |r| r.get(0)).unwrap();
    assert_eq!(version, flspost::journal::Journal::SCHEMA_VERSION, "migrated through every step to the current schema");
    let check: String = conn.pragma_query_value(None, "integrity_check", |r| r.get(0)).unwrap();
    assert_eq!(check, "ok");
}
