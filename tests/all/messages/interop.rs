//! Interoperability: what flspost generates against the official schemas, and what
//! `flspost validate` says about MedCom's and Digital Post's own samples.

use crate::common::*;
use flspost::schema::Schema;

/// Generates every sample into a fresh world; returns (xdis91 paths, memo paths).
fn generate_all(w: &World) -> (Vec<std::path::PathBuf>, Vec<std::path::PathBuf>) {
    let (mut x, mut m) = (vec![], vec![]);
    for s in SAMPLES {
        let sum = w.generate(&sample(s)).ok().one();
        x.push(sum["messages"][0]["path"].as_str().unwrap().into());
        m.push(sum["messages"][1]["path"].as_str().unwrap().into());
    }
    (x, m)
}

#[test]
fn generated_messages_validate_against_the_official_schemas() {
    let Some(reference) = reference() else { return };
    let w = World::new();
    let (xdis, memo) = generate_all(&w);
    let mut official_xdis =
        Schema::from_file(&reference.join("medcom-oioxml/os2korrespondance/xsd/2006/07/01/EMessage.xsd")).unwrap();
    let mut official_memo =
        Schema::from_file(&reference.join("memo/xsd/mortenm12-memo/Version1.2/MeMo_core.xsd")).unwrap();
    for p in &xdis {
        official_xdis.validate(&std::fs::read(p).unwrap()).unwrap_or_else(|e| panic!("{p:?}: {e:?}"));
    }
    for p in &memo {
        official_memo.validate(&std::fs::read(p).unwrap()).unwrap_or_else(|e| panic!("{p:?}: {e:?}"));
    }
    // The 1.1 core (memoSchVersion required) must reject them: they really are 1.2.
    let mut memo11 =
        Schema::from_file(&reference.join("memo/xsd/memo-1.1_python-serviceplatformen/MeMo_core.xsd")).unwrap();
    assert!(memo11.validate(&std::fs::read(&memo[0]).unwrap()).is_err());
}

#[test]
fn check_official_tool_agrees() {
    let Some(reference) = reference() else { return };
    let tool = reference.join("../tools/check-official");
    if !tool.exists() {
        eprintln!("NOTICE: ../shared/tools/check-official is absent; skipping");
        return;
    }
    ensure_tool("xmllint", "libxml2-utils");
    let w = World::new();
    generate_all(&w);
    let out = std::process::Command::new("bash").arg(&tool).arg(w.out()).output().unwrap();
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(out.status.success(), "{text}{}", String::from_utf8_lossy(&out.stderr));
    assert!(text.contains("8 passed, 0 failed"), "{text}");
}

#[test]
fn validate_accepts_what_generate_wrote() {
    let w = World::new();
    let (xdis, memo) = generate_all(&w);
    let mut args = vec!["validate".to_string()];
    args.extend(xdis.iter().chain(&memo).map(|p| p.display().to_string()));
    let args: Vec<&str> = args.iter().map(String::as_str).collect();
    let r = w.run(&args).ok();
    assert_eq!(
        r.stdout.lines().filter(|l| l.contains(": valid XDIS91 (flspost-xdis91.xsd)")).count(),
        4,
        "{}",
        r.stdout
    );
    assert_eq!(
        r.stdout.lines().filter(|l| l.contains(": valid MeMo (flspost-memo-1.2.xsd)")).count(),
        4,
        "{}",
        r.stdout
    );
}

#[test]
fn validate_reports_file_line_column_and_exits_non_zero() {
    let w = World::new();
    let (xdis, _) = generate_all(&w);
    let text: String = std::fs::read(&xdis[0]).unwrap().iter().map(|&b| b as char).collect();
    let broken = text.replace("<VersionCode>XD9134L</VersionCode>", "<VersionCode>XD9133L</VersionCode>");
    let p = w.path("broken.xml");
    std::fs::write(&p, broken.chars().map(|c| c as u8).collect::<Vec<u8>>()).unwrap();
    let garbage = w.write("garbage.xml", "<a><b></a>");
    let other = w.write("other.xml", "<html xmlns=\"http://www.w3.org/1999/xhtml\"/>");
    let r = w.run(&[
        "validate",
        p.to_str().unwrap(),
        xdis[1].to_str().unwrap(),
        garbage.to_str().unwrap(),
        other.to_str().unwrap(),
    ]);
    assert_eq!(r.code, 1, "{}", r.stdout);
    let line = r.stdout.lines().find(|l| l.starts_with(&format!("{}:", p.display()))).unwrap();
    // VersionCode is on line 14 of a generated message.
    assert!(line.starts_with(&format!("{}:14:", p.display())) && line.contains("XD9134L"), "{line}");
    assert!(r.stdout.contains(&format!("{}: valid XDIS91", xdis[1].display())));
    assert!(r.stdout.lines().any(|l| l.starts_with(&format!("{}:1:", garbage.display()))), "{}", r.stdout);
    assert!(r.stdout.contains("not a message flspost knows"), "{}", r.stdout);
}

#[test]
fn validate_explains_why_medcoms_flow1_sample_is_outside_flsposts_profile() {
    let Some(reference) = reference() else { return };
    let w = World::new();
    let flow1 = reference.join("medcom-oioxml/medcom-carecommunication-examples/Flow1-XDIS91_Ex_to_FHIR.xml");
    // It is valid MedCom XDIS91 ...
    let mut official =
        Schema::from_file(&reference.join("medcom-oioxml/os2korrespondance/xsd/2006/07/01/EMessage.xsd")).unwrap();
    official.validate(&std::fs::read(&flow1).unwrap()).unwrap();
    // ... that uses parts of XDIS91 an FLS letter never has, and `validate` names each.
    let r = w.run(&["validate", flow1.to_str().unwrap()]);
    assert_eq!(r.code, 1);
    let out = r.stdout;
    for expected in [
        ":28:1: Element 'MedicalSpecialityCode': This element is not expected. Expected is one of ( StreetName, DistrictName,",
        "'kommunenummer' is not an element of the set",
        "Priority': This element is not expected",
        "Reference': This element is not expected",
    ] {
        assert!(out.contains(expected), "{expected:?} not in:\n{out}");
    }
    assert_eq!(out.lines().count(), 4, "{out}");
}

/// Given MedCom's official XDIS91 schema, `validate` judges XDIS91 twice: MedCom's examples are
/// valid to the standard and outside flspost's profile only (exit 4, each problem `[profile]`);
/// what flspost writes is valid to both; a broken one is invalid to the standard.
#[test]
fn validate_gives_xdis91_both_verdicts_given_the_official_schema() {
    let Some(reference) = reference() else { return };
    let w = World::new();
    let official = reference.join("medcom-oioxml/os2korrespondance/xsd/2006/07/01/EMessage.xsd");
    let official = official.to_str().unwrap();
    let examples = reference.join("medcom-oioxml/medcom-carecommunication-examples");
    for (file, problems) in [("Flow1-XDIS91_Ex_to_FHIR.xml", 4), ("Flow3-XDIS91_Ex_from_FHIR.xml", 1)] {
        let r = w.run(&["validate", "--xdis91-schema", official, examples.join(file).to_str().unwrap()]);
        assert_eq!(r.code, 4, "{file}: {}", r.stdout);
        let lines: Vec<&str> = r.stdout.lines().collect();
        assert_eq!(lines.len(), problems + 1, "{}", r.stdout);
        assert!(lines[..problems].iter().all(|l| l.contains(": [profile] Element '")), "{}", r.stdout);
        assert!(
            lines[problems].ends_with(&format!(
                ": XDIS91 valid to MedCom's standard (MedCom's official XDIS91 schema), outside flspost's profile \
                 (flspost-xdis91.xsd): {problems} [profile] problems"
            )),
            "{}",
            r.stdout
        );
    }
    let (xdis, _) = generate_all(&w);
    let r = w.run(&["validate", "--xdis91-schema", official, xdis[0].to_str().unwrap()]).ok();
    assert!(
        r.stdout.contains(
            ": valid XDIS91: to MedCom's standard (MedCom's official XDIS91 schema) and to flspost's profile"
        ),
        "{}",
        r.stdout
    );
    // XDIS91 is ISO-8859-1: edited as bytes.
    let mut bytes = std::fs::read(&xdis[0]).unwrap();
    let at = bytes.windows(10).position(|w| w == b"<Envelope>").unwrap() + 10;
    bytes.splice(at..at, b"<Foo/>".iter().copied());
    let broken = w.write("broken.xml", "");
    std::fs::write(&broken, bytes).unwrap();
    let r = w.run(&["validate", "--xdis91-schema", official, broken.to_str().unwrap()]);
    assert_eq!(r.code, 1, "{}", r.stdout);
    assert!(r.stdout.contains(": [standard] Element 'Foo'"), "{}", r.stdout);
    // A schema that is not there is the caller's mistake, named.
    let r = w.run(&["validate", "--xdis91-schema", "/nonexistent/EMessage.xsd", broken.to_str().unwrap()]);
    assert_eq!(r.code, 2, "{}", r.stderr);
    assert!(
        r.stderr.contains("/nonexistent/EMessage.xsd: MedCom's official XDIS91 schema: no such file"),
        "{}",
        r.stderr
    );
}

#[test]
fn validate_judges_the_official_memo_samples() {
    let Some(reference) = reference() else { return };
    let w = World::new();
    let dir12 = reference.join("memo/samples/memo-1.2_python-serviceplatformen");
    let dir11 = reference.join("memo/samples/memo-1.1_official-via-python-serviceplatformen");
    // Minimum 1.2: a CVR sender, CPR recipient and one PDF: inside flspost's profile.
    let r = w.run(&["validate", dir12.join("MeMo_Minimum_Example.xml").to_str().unwrap()]).ok();
    assert!(r.stdout.contains("valid MeMo"), "{}", r.stdout);
    // Full 1.2: valid MeMo, but with header and body parts flspost never sends.
    let r = w.run(&["validate", dir12.join("MeMo_Full_Example.xml").to_str().unwrap()]);
    assert_eq!(r.code, 1);
    assert!(r.stdout.contains("messageID': This element is not expected"), "{}", r.stdout);
    // The official digst examples are MeMo 1.1: said so, plainly.
    for f in ["MeMo_Full_Example.xml", "MeMo_Minimum_Example.xml"] {
        let r = w.run(&["validate", dir11.join(f).to_str().unwrap()]);
        assert_eq!(r.code, 1, "{f}");
        assert!(r.stdout.contains("MeMo version 1.1 message"), "{f}: {}", r.stdout);
        assert!(r.stdout.contains("memoSchVersion"), "{f}: {}", r.stdout);
    }
}

#[test]
fn validate_reads_medcom_receipts() {
    let Some(reference) = reference() else { return };
    let w = World::new();
    let pos = reference.join("medcom-oioxml/medcom-carecommunication-examples/Flow2-XCTL03_Ex_from_FHIR_XDIS91.xml");
    let neg = reference.join("medcom-oioxml/os2korrespondance/fixtures/negative_receipt.xml");
    let r = w.run(&["validate", pos.to_str().unwrap(), neg.to_str().unwrap()]).ok();
    assert_eq!(r.stdout.matches("valid MedCom receipt").count(), 2, "{}", r.stdout);
}
