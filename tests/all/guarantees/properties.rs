//! Property tests that generate results across the whole input contract, rather than
//! mutate the four samples: every group and site, every identifier code, Danish and other
//! Latin letters (and XML's special characters) in every text field, optional fields present
//! and absent, lengths at their limits, dates at the rollout start and at the clock-skew
//! edge, CPR numbers of every century rule.
//!
//! - every valid result is accepted, and both messages build and pass the bundled schemas
//!   and, where `../shared` is present, the official ones: thousands of cases in process
//!   through the library, a smaller sample through the binary (which writes the files);
//! - every single-field corruption of a valid result is refused with exit code 2, naming the
//!   field, and nothing is written.
//!
//! `cargo test --test all guarantees::properties -- --ignored` runs the same properties on 50,000 cases.
//!
//! Long because it is one suite: most of it is the generator of valid results and the table of
//! corruptions that breaks them one field at a time (and knows the generator's fields), and the
//! four tests are those two properties run in process, at size and through the binary. Split,
//! the tests would be files of a few lines each, apart from the generator they are read against.

use crate::common::*;
use chrono::{DateTime, Duration, FixedOffset, NaiveDate, TimeZone, Utc};
use chrono_tz::Europe::Copenhagen;
use flspost::compose::{Composer, Kind, Plan};
use flspost::letters::Letters;
use flspost::model::policy::RolloutPolicy;
use flspost::model::LetterStatus;
use flspost::schema::Schema;
use proptest::collection::vec;
use proptest::prelude::*;
use proptest::sample::select;
use proptest::test_runner::{Config, TestCaseError, TestRunner};
use serde_json::{json, Value};
use std::cell::RefCell;

fn now() -> DateTime<Utc> {
    FAKE_NOW.parse().unwrap()
}

// ---- valid results -----------------------------------------------------------------------

/// Letters for names: ASCII, Danish, other Latin letters with diacritics (transliterated for
/// XDIS91 where Latin-1 lacks them), and characters XML must escape.
const NAME_CHARS: &[char] = &[
    'a', 'b', 'e', 'k', 'n', 'o', 's', 't', 'z', 'A', 'K', 'N', 'T', 'Z', ' ', ' ', '-', '\'', '.', 'æ', 'ø', 'å', 'Æ',
    'Ø', 'Å', 'é', 'ü', 'ö', 'ä', 'ñ', 'ç', 'È', 'Ł', 'ł', 'ą', 'ę', 'ś', 'ź', 'ż', 'Ś', 'č', 'ř', 'ő', '&', '<', '>',
    '"',
];
const PLACE_CHARS: &[char] = &[
    'a', 'e', 'g', 'r', 'v', 'B', 'H', 'V', ' ', ' ', '-', '.', ',', '0', '1', '7', '9', 'æ', 'ø', 'å', 'Ø', 'é', 'ł',
    '&',
];
const ALNUM: &[char] = &['0', '1', '2', '5', '9', 'A', 'B', 'Z', 'a', 'q', 'z'];
const ID_CHARS: &[char] = &['A', 'z', '0', '9', '.', '_', '-'];

/// A text of 1..=max characters from `chars`, at the limit and at one character often,
/// without surrounding spaces (the contract refuses those).
fn text(max: usize, chars: &'static [char]) -> impl Strategy<Value = String> {
    prop_oneof![4 => 1..=max, 1 => Just(max), 1 => Just(1)].prop_flat_map(move |n| vec(select(chars), n)).prop_map(
        |cs| {
            let mut s: Vec<char> = cs;
            let last = s.len() - 1;
            for i in [0, last] {
                if s[i] == ' ' {
                    s[i] = 'x';
                }
            }
            s.into_iter().collect()
        },
    )
}

fn digits(min: usize, max: usize) -> impl Strategy<Value = String> {
    vec(0u8..10, min..=max).prop_map(|d| d.into_iter().map(|x| char::from(b'0' + x)).collect())
}

fn gln() -> impl Strategy<Value = String> {
    vec(0u32..10, 12).prop_map(|d| {
        let check = flspost::model::identifiers::gs1_check_digit(&d);
        d.iter().chain([&check]).map(|x| char::from_digit(*x, 10).unwrap()).collect()
    })
}

fn address() -> impl Strategy<Value = Option<Value>> {
    let postcode = text(9, ALNUM);
    proptest::option::of((text(35, PLACE_CHARS), postcode, text(35, PLACE_CHARS)))
        .prop_map(|a| a.map(|(street, postcode, city)| json!({"street": street, "postcode": postcode, "city": city})))
}

/// (identifier_code, identifier) for a GP or a sender.
fn org_identifier(codes: &'static [&'static str]) -> impl Strategy<Value = (String, String)> {
    select(codes).prop_flat_map(|code| {
        let value: BoxedStrategy<String> = match code {
            "ydernummer" => digits(6, 6).boxed(),
            "lokationsnummer" => gln().boxed(),
            "sorkode" => digits(11, 17).boxed(),
            _ => vec(select(ALNUM), 4..=17).prop_map(|c| c.into_iter().collect()).boxed(),
        };
        value.prop_map(move |v| (code.to_string(), v))
    })
}

fn t_score() -> impl Strategy<Value = Option<f64>> {
    proptest::option::of(prop_oneof![
        4 => (-100i32..=100).prop_map(|t| f64::from(t) / 10.0),
        1 => -10.0f64..=10.0,
        1 => select(vec![-10.0, 10.0, 0.0, -0.05]),
    ])
}

/// A CPR number for `birth` (a 7th digit the century rule maps to its year) and 3 digits.
fn cpr_for(birth: NaiveDate, pick: u32, serial: u32) -> String {
    use chrono::Datelike;
    let (y, yy) = (birth.year(), birth.year() % 100);
    let sevenths: Vec<u32> = (0..10)
        .filter(|&s| {
            let century = match s {
                0..=3 => 1900,
                4 | 9 if yy <= 36 => 2000,
                4 | 9 => 1900,
                _ if yy <= 57 => 2000,
                _ => 1800,
            };
            century + yy == y
        })
        .collect();
    let seventh = sevenths[pick as usize % sevenths.len()];
    format!("{:02}{:02}{:02}{seventh}{:03}", birth.day(), birth.month(), yy, serial % 1000)
}

const SITES: &[(&str, (i32, u32, u32))] =
    &[("AUH", (2023, 11, 1)), ("HEM", (2023, 11, 1)), ("GODSTRUP", (2023, 11, 27)), ("HORSENS", (2024, 1, 1))];
const OFFSETS: &[i32] = &[0, 3600, 7200, -5 * 3600, 14 * 3600, 5 * 3600 + 1800];

/// The dated part: site, classification instant (from the site's first local midnight to
/// the clock-skew edge), scan date, birth date (CPR).
#[derive(Clone, Debug)]
struct Dates {
    site: &'static str,
    classified_at: String,
    scan: NaiveDate,
    cpr: String,
}

fn dates() -> impl Strategy<Value = Dates> {
    (
        select(SITES),
        select(OFFSETS),
        prop_oneof![3 => 0.0f64..=1.0, 1 => Just(0.0), 1 => Just(1.0)],
        prop_oneof![3 => 0u32..800, 1 => Just(0u32)],
        any::<u32>(),
        any::<u32>(),
        any::<u32>(),
    )
        .prop_map(|((site, (y, m, d)), offset, where_, scan_back, birth_pick, seventh, serial)| {
            let start = Copenhagen
                .from_local_datetime(&NaiveDate::from_ymd_opt(y, m, d).unwrap().and_hms_opt(0, 0, 0).unwrap())
                .unwrap()
                .with_timezone(&Utc);
            let end = now() + Duration::minutes(5);
            let span = (end - start).num_seconds() as f64;
            let instant = start + Duration::seconds((span * where_) as i64);
            let classified_at = instant.with_timezone(&FixedOffset::east_opt(offset).unwrap()).to_rfc3339();
            let local = instant.with_timezone(&Copenhagen).date_naive();
            let scan = local - Duration::days(i64::from(scan_back));
            let oldest = NaiveDate::from_ymd_opt(1858, 1, 1).unwrap();
            let birth = oldest + Duration::days(i64::from(birth_pick) % (scan - oldest).num_days().max(1));
            Dates { site, classified_at, scan, cpr: cpr_for(birth, seventh, serial) }
        })
}

/// A valid result across the contract, as the gateway would send it.
fn valid_result() -> impl Strategy<Value = Value> {
    let result_id = (select(&ID_CHARS[..2]), vec(select(ID_CHARS), 0..=63))
        .prop_map(|(first, rest)| std::iter::once(first).chain(rest).collect::<String>());
    let group = prop_oneof![
        Just(("1", None)),
        (2i64..=10).prop_map(|n| ("2a", Some(n))),
        Just(("2b", None)),
        Just(("3", None))
    ];
    let patient = (proptest::option::of(text(70, NAME_CHARS)), text(70, NAME_CHARS), address());
    let gp = (
        gln(),
        org_identifier(flspost::input::GP_IDENTIFIER_CODES),
        proptest::option::of(text(35, NAME_CHARS)),
        address(),
    );
    let phone = proptest::option::of(
        (any::<bool>(), vec(prop_oneof![4 => (0u8..10).prop_map(|d| char::from(b'0' + d)), 1 => Just(' ')], 1..=24))
            .prop_map(|(plus, mut cs)| {
                cs[0] = '4';
                let last = cs.len() - 1;
                cs[last] = '5';
                format!("{}{}", if plus { "+" } else { "" }, cs.into_iter().collect::<String>())
            }),
    );
    let sender = (
        gln(),
        org_identifier(flspost::input::SENDER_IDENTIFIER_CODES),
        text(35, NAME_CHARS),
        proptest::option::of(text(35, NAME_CHARS)),
        phone,
        digits(8, 8),
        address(),
    );
    let author = (text(70, NAME_CHARS), proptest::option::of(text(70, NAME_CHARS)));
    (result_id, group, dates(), (t_score(), t_score()), patient, gp, sender, author).prop_map(
        |(result_id, (group, rescan), d, (spine, hip), (given, surname, paddr), gp, sender, (author, title))| {
            let mut scan = json!({"date": d.scan.to_string()});
            put(&mut scan, "t_score_spine", spine.map(Value::from));
            put(&mut scan, "t_score_hip", hip.map(Value::from));
            let mut patient = json!({"cpr": d.cpr, "surname": surname});
            put(&mut patient, "given_name", given.map(Value::from));
            put(&mut patient, "address", paddr);
            let (gp_ean, (gp_code, gp_id), gp_name, gp_addr) = gp;
            let mut gp = json!({"ean": gp_ean, "identifier": gp_id, "identifier_code": gp_code});
            put(&mut gp, "name", gp_name.map(Value::from));
            put(&mut gp, "address", gp_addr);
            let (s_ean, (s_code, s_id), org, dept, phone, cvr, s_addr) = sender;
            let mut sender =
                json!({"ean": s_ean, "identifier": s_id, "identifier_code": s_code, "organisation": org, "cvr": cvr});
            put(&mut sender, "department", dept.map(Value::from));
            put(&mut sender, "phone", phone.map(Value::from));
            put(&mut sender, "address", s_addr);
            let mut author = json!({"name": author});
            put(&mut author, "title", title.map(Value::from));
            let mut v = json!({
                "result_id": result_id, "site": d.site, "group": group, "scan": scan,
                "classified_at": d.classified_at, "patient": patient, "gp": gp, "sender": sender, "author": author,
            });
            put(&mut v, "rescan_after_years", rescan.map(Value::from));
            v
        },
    )
}

fn put(obj: &mut Value, key: &str, value: Option<Value>) {
    if let Some(v) = value {
        obj[key] = v;
    }
}

// ---- corruptions -------------------------------------------------------------------------

const CORRUPTIONS: usize = 38;

/// Breaks one field of a valid result; returns the field the error must name.
fn corrupt(v: &mut Value, which: usize) -> &'static str {
    let long = |n: usize| "x".repeat(n);
    match which {
        0 => set(v, "/result_id", json!(""), "result_id"),
        1 => set(v, "/result_id", json!(long(65)), "result_id"),
        2 => set(v, "/result_id", json!(".hidden"), "result_id"),
        3 => set(v, "/result_id", json!("a/b"), "result_id"),
        4 => set(v, "/site", json!("XYZ"), "site"),
        5 => set(v, "/site", json!("RANDERS"), "site"),
        6 => set(v, "/group", json!("4"), "group"),
        7 if v["group"] == "2a" => remove(v, "rescan_after_years"),
        7 => set(v, "/rescan_after_years", json!(5), "rescan_after_years"),
        8 if v["group"] == "2a" => set(v, "/rescan_after_years", json!(11), "rescan_after_years"),
        8 => set(v, "/rescan_after_years", json!("5"), "rescan_after_years"),
        9 => set(v, "/scan/date", json!("2024-02-30"), "scan.date"),
        10 => {
            let at = DateTime::parse_from_rfc3339(v["classified_at"].as_str().unwrap()).unwrap();
            let next = at.with_timezone(&Copenhagen).date_naive() + Duration::days(1);
            set(v, "/scan/date", json!(next.to_string()), "scan.date")
        }
        11 => set(v, "/scan/t_score_spine", json!(10.01), "scan.t_score_spine"),
        12 => set(v, "/scan/t_score_hip", json!(-10.5), "scan.t_score_hip"),
        13 => set(v, "/classified_at", json!("2025-03-11 14:05"), "classified_at"),
        14 => set(v, "/classified_at", json!((now() + Duration::minutes(6)).to_rfc3339()), "classified_at"),
        15 => set(v, "/patient/cpr", json!("251248999"), "patient.cpr"),
        16 => {
            let cpr = format!("3202{}", &v["patient"]["cpr"].as_str().unwrap()[4..]);
            set(v, "/patient/cpr", json!(cpr), "patient.cpr")
        }
        17 => set(v, "/patient/surname", json!(""), "patient.surname"),
        18 => set(v, "/patient/surname", json!(long(71)), "patient.surname"),
        19 => set(v, "/patient/given_name", json!("Anne\u{7}"), "patient.given_name"),
        20 => set(v, "/patient/given_name", json!(" Anne"), "patient.given_name"),
        21 => set(
            v,
            "/patient/address",
            json!({"street": "Vej 1", "postcode": "12#4", "city": "By"}),
            "patient.address.postcode",
        ),
        22 => {
            let ean = v["gp"]["ean"].as_str().unwrap();
            let last = (ean.as_bytes()[12] - b'0' + 1) % 10;
            let bad = format!("{}{last}", &ean[..12]);
            set(v, "/gp/ean", json!(bad), "gp.ean")
        }
        23 => {
            let wrong = if v["gp"]["identifier_code"] == "ydernummer" { "12345" } else { "12a" };
            set(v, "/gp/identifier", json!(wrong), "gp.identifier")
        }
        24 => set(v, "/gp/identifier_code", json!("cpr"), "gp.identifier_code"),
        25 => set(v, "/gp/name", json!(long(36)), "gp.name"),
        26 => set(v, "/sender/ean", json!("579000012868"), "sender.ean"),
        27 => set(v, "/sender/identifier_code", json!("ydernummer"), "sender.identifier_code"),
        28 => set(v, "/sender/organisation", json!("   "), "sender.organisation"),
        29 => set(v, "/sender/phone", json!("12a"), "sender.phone"),
        30 => set(v, "/sender/cvr", json!("1234567"), "sender.cvr"),
        31 => set(
            v,
            "/sender/address",
            json!({"street": "Vej 1", "postcode": "8000", "city": long(36)}),
            "sender.address.city",
        ),
        32 => set(v, "/author/name", json!(""), "author.name"),
        33 => set(v, "/author/title", json!(long(71)), "author.title"),
        34 => set(v, "/extra", json!(1), "extra"),
        35 => set(v, "/patient/middle_name", json!("x"), "patient.middle_name"),
        36 => {
            v["patient"].as_object_mut().unwrap().remove("surname");
            "patient"
        }
        37 => set(v, "/group", json!(1), "group"),
        _ => unreachable!("{which}"),
    }
}

fn set(v: &mut Value, pointer: &str, value: Value, field: &'static str) -> &'static str {
    let (parent, key) = pointer.rsplit_once('/').unwrap();
    let target = if parent.is_empty() { v } else { v.pointer_mut(parent).unwrap() };
    target[key] = value;
    field
}

fn remove(v: &mut Value, key: &str) -> &'static str {
    v.as_object_mut().unwrap().remove(key);
    "rescan_after_years"
}

// ---- in process ----------------------------------------------------------------------------

/// The official schemas, when `../shared` has them.
struct Official {
    xdis91: Schema,
    memo: Schema,
}

fn official() -> Option<Official> {
    let r = reference()?;
    Some(Official {
        xdis91: Schema::from_file(&r.join("medcom-oioxml/os2korrespondance/xsd/2006/07/01/EMessage.xsd")).unwrap(),
        memo: Schema::from_file(&r.join("memo/xsd/mortenm12-memo/Version1.2/MeMo_core.xsd")).unwrap(),
    })
}

fn runner(cases: u32) -> TestRunner {
    // Failures are reported with the shrunk case; no persistence file in the tree.
    TestRunner::new(Config { cases, failure_persistence: None, ..Config::default() })
}

/// Every generated result is accepted, and both messages build (which validates them against
/// the bundled schemas) and pass the official ones.
fn valid_results_build_and_validate(cases: u32) {
    let composer = Composer::new(Letters::shipped());
    let policy = RolloutPolicy::default();
    let official = RefCell::new(official());
    let strategy = (valid_result(), 0u32..3, 1u32..4, any::<bool>());
    runner(cases)
        .run(&strategy, |(v, revision, transmission, corrected)| {
            let text = v.to_string();
            let p = flspost::app::generate::prepare(&text, &policy, now())
                .map_err(|e| TestCaseError::fail(format!("refused: {e}\n{text}")))?;
            // The default hand-offs; the kombi request (which needs an address) has messages::kombi.
            for kind in [Kind::GpXdis91, Kind::PatientMemo] {
                let status = if corrected { LetterStatus::Corrected } else { LetterStatus::New };
                let plan = Plan { kind, letter_revision: revision, transmission, status };
                let built = match composer.build(&p.result, &plan, now()) {
                    Ok(b) => b,
                    // The one limit the contract's field lengths do not bound: the patient's
                    // name and address, wrapped, may not fit the envelope window. The letter is
                    // then refused naming the address, never cut; every other case must build.
                    Err(e)
                        if kind == Kind::PatientMemo
                            && e.to_string()
                                .contains("patient.address: has more lines than the envelope window shows") =>
                    {
                        continue
                    }
                    Err(e) => return Err(TestCaseError::fail(format!("{kind:?} not built: {e}\n{text}"))),
                };
                if let Some(o) = official.borrow_mut().as_mut() {
                    let schema = if kind == Kind::GpXdis91 { &mut o.xdis91 } else { &mut o.memo };
                    schema.validate(&built.bytes).map_err(|e| {
                        TestCaseError::fail(format!("{kind:?} fails the official schema: {e:?}\n{text}"))
                    })?;
                }
            }
            Ok(())
        })
        .unwrap();
}

/// Every single-field corruption of a generated result is refused, naming the field.
fn corruptions_are_refused(cases: u32) {
    let policy = RolloutPolicy::default();
    runner(cases)
        .run(&(valid_result(), 0..CORRUPTIONS), |(mut v, which)| {
            let field = corrupt(&mut v, which);
            let text = v.to_string();
            match flspost::app::generate::prepare(&text, &policy, now()) {
                Ok(_) => Err(TestCaseError::fail(format!("corruption {which} ({field}) was accepted:\n{text}"))),
                Err(e) if e.field == field => Ok(()),
                Err(e) => Err(TestCaseError::fail(format!("corruption {which}: expected {field}, got {e}\n{text}"))),
            }
        })
        .unwrap();
}

#[test]
fn thousands_of_valid_results_build_and_pass_the_schemas() {
    valid_results_build_and_validate(2_000);
}

#[test]
fn thousands_of_corrupted_results_are_refused_naming_the_field() {
    corruptions_are_refused(3_000);
}

#[test]
#[ignore = "50,000 cases each: run with --ignored"]
fn many_more_cases() {
    valid_results_build_and_validate(50_000);
    corruptions_are_refused(50_000);
}

// ---- through the binary ------------------------------------------------------------------

#[test]
fn a_sample_through_the_binary_writes_valid_files_or_refuses_with_nothing_written() {
    let w = World::new();
    let out = w.out();
    let n = RefCell::new(0);
    let refused = RefCell::new(std::collections::HashSet::new());
    runner(24)
        .run(&(valid_result(), proptest::option::of(0..CORRUPTIONS)), |(mut v, corruption)| {
            *n.borrow_mut() += 1;
            let field = corruption.map(|c| corrupt(&mut v, c));
            let file = w.write(&format!("in-{}.json", n.borrow()), &v.to_string());
            let before = tree(&out);
            let r = w.run(&["generate", "--out-dir", out.to_str().unwrap(), file.to_str().unwrap()]);
            match field {
                None => {
                    prop_assert_eq!(r.code, 0, "{}\n{}", r.stderr, v);
                    let s = r.one();
                    let paths: Vec<String> = s["messages"]
                        .as_array()
                        .unwrap()
                        .iter()
                        .map(|m| m["path"].as_str().unwrap().to_string())
                        .collect();
                    let check = w.run(&["validate", &paths[0], &paths[1]]);
                    prop_assert_eq!(check.code, 0, "{}", check.stdout);
                }
                Some(field) => {
                    prop_assert_eq!(r.code, 2, "{}\n{}", r.stderr, v);
                    let summary = r.one();
                    prop_assert_eq!(summary["error"]["field"].as_str(), Some(field));
                    prop_assert!(tree(&out) == before, "files were written for a refused input");
                    refused.borrow_mut().insert(v.to_string());
                }
            }
            Ok(())
        })
        .unwrap();
    // What was generated also passes the official schemas (xmllint, independently of flspost).
    let Some(reference) = reference() else { return };
    let tool = reference.join("../tools/check-official");
    if tool.exists() && out.exists() {
        ensure_tool("xmllint", "libxml2-utils");
        let o = std::process::Command::new("bash").arg(&tool).arg(&out).output().unwrap();
        assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stdout));
    }
    // Refused inputs left no message in the journal either: every message there is one of the
    // files; each refused input is there as one (distinct inputs, so none repeats another).
    let listed = w.run(&["journal", "list", "--json"]).ok().json();
    let (inputs, messages): (Vec<_>, Vec<_>) = listed.iter().partition(|r| r["kind"] == "input");
    assert_eq!(messages.len(), tree(&out).iter().filter(|(p, _)| p.ends_with(".xml")).count());
    assert_eq!(inputs.len(), refused.borrow().len(), "{inputs:?}");
}
