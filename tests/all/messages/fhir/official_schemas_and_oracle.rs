//! What flspost builds and `generate` hands over passes the official R4 and VANSEnvelope schemas and FHIRPath oracle.

use super::*;

#[test]
fn every_variant_passes_the_official_r4_schema_and_flspost_checks() {
    let variants = all_variants();
    assert_eq!(variants.len(), 16 + codes::ROLES.len() + 1);
    let Some(m) = medcom() else { return };
    // Compiling fhir-single.xsd takes a quarter of a second: once for this binary.
    let mut r4 = Schema::from_file(&m.join("fhir-r4-xsd/fhir-single.xsd")).unwrap();
    for b in &variants {
        r4.validate(&b.bytes).unwrap_or_else(|e| panic!("{}: official R4 schema: {e:?}", b.name));
        fhir::validate(MessageKind::CareCommunication, &b.bytes).unwrap_or_else(|e| panic!("{}: {e:?}", b.name));
    }
    // The envelope too, against MedCom's VANSEnvelope 1.0.4 schema.
    let mut official_vans =
        Schema::from_file(&m.join("../medcom-oioxml/vans-envelope/VANSEnvelope-1.0.4.extracted.xsd")).unwrap();
    let b = &variants[0];
    let env = envelope(b);
    official_vans.validate(&env).unwrap();
    fhir::validate(MessageKind::VansEnvelope, &env).unwrap();
    // MedCom's valid examples pass the official schema with the same compiled context.
    for f in carecommunication_examples(&m) {
        r4.validate(&std::fs::read(&f).unwrap()).unwrap_or_else(|e| panic!("{f:?}: {e:?}"));
    }
}

fn carecommunication_examples(m: &Path) -> Vec<PathBuf> {
    let mut files: Vec<PathBuf> =
        std::fs::read_dir(m.join("carecommunication")).unwrap().map(|e| e.unwrap().path()).collect();
    files.push(m.join("conversion-oioxml/Flow1-CareCommunication_Ex_from_OIOXML.xml"));
    files.push(m.join("conversion-oioxml/Flow3-CareCommunication_Ex_to_OIOXML.xml"));
    files.sort();
    files
}

// ---- the FHIRPath oracle -----------------------------------------------------------------

/// The oracle (`tools/invariant-check`, Node + fhirpath.js), copied under target/ and
/// installed with `npm ci` on first use; `None` with a notice where Node or ../shared is absent.
fn oracle() -> Option<(PathBuf, PathBuf)> {
    let m = medcom()?;
    let tool = m.join("tools/invariant-check");
    if !tool.is_dir() || which("node").is_none() || which("npm").is_none() {
        eprintln!("NOTICE: node/npm or {} is absent; skipping the FHIRPath oracle", tool.display());
        return None;
    }
    static SETUP: std::sync::Mutex<()> = std::sync::Mutex::new(());
    let _guard = SETUP.lock().unwrap_or_else(|e| e.into_inner());
    let dir = root().join("target/invariant-check");
    if !dir.join("node_modules/fhirpath").is_dir() {
        std::fs::create_dir_all(&dir).unwrap();
        for f in ["check-invariants.js", "package.json", "package-lock.json"] {
            std::fs::copy(tool.join(f), dir.join(f)).unwrap();
        }
        let st = std::process::Command::new("npm")
            .args(["ci", "--no-audit", "--no-fund"])
            .current_dir(&dir)
            .status()
            .unwrap();
        assert!(st.success(), "npm ci for the FHIRPath oracle failed");
    }
    Some((dir, m))
}

fn which(program: &str) -> Option<PathBuf> {
    std::env::var_os("PATH")?.to_str()?.split(':').map(|d| Path::new(d).join(program)).find(|p| p.is_file())
}

/// Runs the oracle on `files` (CareCommunication 5.0.4 profiles); returns, per file name, the
/// keys of the error-severity invariants that failed.
fn oracle_errors(files: &[PathBuf]) -> Option<Vec<(String, Vec<String>)>> {
    let (dir, m) = oracle()?;
    let p = m.join("fhir-packages");
    let out = std::process::Command::new("node")
        .arg(dir.join("check-invariants.js"))
        .args(
            [
                "medcom.fhir.dk.carecommunication-5.0.2.tgz",
                "medcom.fhir.dk.core-3.0.1.tgz",
                "medcom.fhir.dk.messaging-4.0.2.tgz",
                "medcom.fhir.dk.terminology-2.0.1.tgz",
                "medcom.fhir.dk.messagedefinitions-1.0.0.tgz",
                "hl7.fhir.dk.core-3.4.0.tgz",
            ]
            .map(|f| p.join(f)),
        )
        .arg("--sd")
        .arg(m.join("structuredefinitions/carecommunication-5.0.4-sushi"))
        .arg("--")
        .args(files)
        .output()
        .unwrap();
    let text = String::from_utf8_lossy(&out.stdout).to_string();
    let mut result: Vec<(String, Vec<String>)> = vec![];
    for line in text.lines() {
        if let Some(rest) = line.strip_prefix("  ERROR ") {
            let key = rest.split_whitespace().next().unwrap().to_string();
            result.last_mut().expect("a file line first").1.push(key);
        } else if !line.starts_with(' ') && line.contains(" error(s)") {
            result.push((line.split(": ").next().unwrap().to_string(), vec![]));
        }
    }
    assert_eq!(result.len(), files.len(), "oracle output:\n{text}\n{}", String::from_utf8_lossy(&out.stderr));
    for (_, keys) in result.iter_mut() {
        keys.sort();
        keys.dedup();
    }
    Some(result)
}

/// The rule names flspost's checks give that are FHIRPath invariants (what the oracle sees):
/// not the slice, binding, fixed-value and cardinality rules, which it does not evaluate.
fn flspost_invariant_keys(bytes: &[u8]) -> Vec<String> {
    let problems = fhir::validate(MessageKind::CareCommunication, bytes).err().unwrap_or_default();
    let not_invariants =
        ["slice", "binding", "fixed", "cardinality", "bundled", "reference type", "profile", "Element"];
    let mut keys: Vec<String> = problems
        .iter()
        .map(|p| p.message.split(':').next().unwrap().to_string())
        .filter(|k| !not_invariants.iter().any(|n| k.starts_with(n)))
        .collect();
    keys.sort();
    keys.dedup();
    keys
}

#[test]
fn the_fhirpath_oracle_finds_no_error_in_what_flspost_builds() {
    let variants = all_variants();
    let dir = tempfile::tempdir().unwrap();
    let files: Vec<PathBuf> = variants
        .iter()
        .map(|b| {
            let p = dir.path().join(format!("{}.xml", b.name));
            std::fs::write(&p, &b.bytes).unwrap();
            p
        })
        .collect();
    let Some(verdicts) = oracle_errors(&files) else { return };
    for (file, keys) in verdicts {
        assert!(keys.is_empty(), "{file}: the oracle reports {keys:?}");
    }
}

#[test]
fn flspost_checks_agree_with_the_oracle_on_medcom_examples_and_broken_cases() {
    let Some(m) = medcom() else { return };
    let mut files = carecommunication_examples(&m);
    let mut cases: Vec<PathBuf> =
        std::fs::read_dir(m.join("validation-cases")).unwrap().map(|e| e.unwrap().path()).collect();
    cases.retain(|p| p.extension().is_some_and(|e| e == "xml"));
    cases.sort();
    files.extend(cases);
    let Some(verdicts) = oracle_errors(&files) else { return };
    for (path, (name, oracle_keys)) in files.iter().zip(verdicts) {
        let ours = flspost_invariant_keys(&std::fs::read(path).unwrap());
        assert_eq!(ours, oracle_keys, "{name}: flspost's invariants vs the oracle's");
    }
}

// ---- end to end: what `generate` hands over --------------------------------------------------

/// Every group through the binary, with the GP marked FHIR in a receiver table and the PDF
/// attached: each envelope passes MedCom's VANSEnvelope schema, each Bundle in it the
/// official R4 schema and the FHIRPath oracle.
#[test]
fn what_generate_hands_over_for_a_fhir_gp_passes_the_official_schemas_and_the_oracle() {
    let w = World::new();
    w.write("receivers.csv", "EAN;SOR;Formats\n5790000128686;1017421000016003;CareCommunication\n");
    let cfg = w.write("config.toml", "[gp]\nreceivers = \"receivers.csv\"\nattach_pdf = true\n");
    let out = w.out();
    let mut args = vec!["generate", "--config", cfg.to_str().unwrap(), "--out-dir", out.to_str().unwrap()];
    let inputs: Vec<String> = SAMPLES.map(|s| sample(s).display().to_string()).to_vec();
    args.extend(inputs.iter().map(String::as_str));
    w.run(&args).ok();
    let envelopes: Vec<Vec<u8>> =
        tree(&w.out()).into_iter().filter(|(p, _)| p.ends_with("gp-carecommunication.xml")).map(|(_, b)| b).collect();
    assert_eq!(envelopes.len(), 4, "one CareCommunication per result");
    let dir = tempfile::tempdir().unwrap();
    let bundles: Vec<PathBuf> = envelopes
        .iter()
        .enumerate()
        .map(|(i, env)| {
            let p = dir.path().join(format!("bundle-{i}.xml"));
            std::fs::write(&p, bundle_in_envelope(env)).unwrap();
            p
        })
        .collect();
    let Some(m) = medcom() else { return };
    let mut r4 = Schema::from_file(&m.join("fhir-r4-xsd/fhir-single.xsd")).unwrap();
    let mut official_vans =
        Schema::from_file(&m.join("../medcom-oioxml/vans-envelope/VANSEnvelope-1.0.4.extracted.xsd")).unwrap();
    for (env, bundle) in envelopes.iter().zip(&bundles) {
        official_vans.validate(env).unwrap_or_else(|e| panic!("official VANSEnvelope schema: {e:?}"));
        let bytes = std::fs::read(bundle).unwrap();
        r4.validate(&bytes).unwrap_or_else(|e| panic!("{bundle:?}: official R4 schema: {e:?}"));
        assert!(String::from_utf8_lossy(&bytes).contains("application/pdf"), "the PDF is attached");
    }
    let Some(verdicts) = oracle_errors(&bundles) else { return };
    for (file, keys) in verdicts {
        assert!(keys.is_empty(), "{file}: the oracle reports {keys:?}");
    }
}
