//! Build + validate of the FHIR CareCommunication against the XDIS91 it is to replace
//! (`cargo bench --bench fhir`; goal: no more than twice the XDIS91). Both include rendering
//! the GP letter, writing and validating; the CareCommunication with its rule checks. The
//! pieces after them (write, schema by either libxml2 path, the rules' reader) show where the
//! time goes.

use criterion::{criterion_group, criterion_main, Criterion};
use flspost::compose::{Composer, Kind, Plan};
use flspost::formats::fhir::carecommunication::{self as cc, Attachment, CareCommunication, Identity};
use flspost::letters::Letters;
use flspost::model::Addressee;
use flspost::model::LetterStatus;
use flspost::schema::{MessageKind, Schema};
use std::hint::black_box;

const INPUT: &str = include_str!("../samples/input/group-2a.json");

fn benches(c: &mut Criterion) {
    let now = "2025-03-20T09:30:00Z".parse().unwrap();
    let mut input: serde_json::Value = serde_json::from_str(INPUT).unwrap();
    input["gp"]["sor_id"] = "1017421000016003".into();
    input["author"]["given_name"] = "Karen".into();
    input["author"]["surname"] = "Østergaard".into();
    let result = flspost::app::generate::prepare(&input.to_string(), &Default::default(), now).unwrap().result;
    let letters = Letters::shipped();
    let composer = Composer::new(Letters::shipped());
    let plan = Plan { kind: Kind::GpXdis91, letter_revision: 0, transmission: 1, status: LetterStatus::New };
    let date = now.date_naive();
    let patient_text = letters.render(Addressee::Patient, &result, date).unwrap();
    let pdf = flspost::formats::pdf::letter_pdf(&result, &patient_text, date, now, false).unwrap().0;
    let build = |with_pdf: bool| {
        let text = letters.render(Addressee::Gp, &result, date).unwrap();
        let mut identity = Identity::derive(&result, 0, 1, now);
        let identifier = identity.attachment_id();
        identity.attachment =
            with_pdf.then(|| Attachment { pdf: &pdf, title: "Knogleskanning", identifier, date: result.classified_at });
        cc::build(&CareCommunication { result: &result, text: &text, identity: &identity }).unwrap()
    };
    let bundle = build(false);

    let mut g = c.benchmark_group("GP letter");
    g.bench_function("XDIS91 build + validate", |b| b.iter(|| composer.build(black_box(&result), &plan, now).unwrap()));
    g.bench_function("CareCommunication build + validate", |b| b.iter(|| build(black_box(false))));
    g.bench_function("CareCommunication with PDF build + validate", |b| b.iter(|| build(black_box(true))));
    g.bench_function("CareCommunication validate (schema + rules)", |b| {
        b.iter(|| flspost::formats::fhir::validate(MessageKind::CareCommunication, black_box(&bundle)).unwrap())
    });
    g.bench_function("CareCommunication rules alone", |b| {
        b.iter(|| {
            let doc = flspost::formats::fhir::dom::Document::parse(black_box(&bundle)).unwrap();
            assert!(flspost::formats::fhir::rules::care_communication(&doc).is_empty())
        })
    });
    // The pieces, to see where the time goes.
    let mut schema = Schema::from_text(MessageKind::CareCommunication.bundled_schema().1).unwrap();
    g.bench_function("CareCommunication write alone (with the letter text)", |b| {
        b.iter(|| {
            let text = letters.render(Addressee::Gp, &result, date).unwrap();
            let identity = Identity::derive(&result, 0, 1, now);
            cc::write(&CareCommunication { result: &result, text: &text, identity: &identity }).unwrap()
        })
    });
    g.bench_function("CareCommunication schema alone (streaming)", |b| {
        b.iter(|| schema.validate(black_box(&bundle)).unwrap())
    });
    g.bench_function("CareCommunication schema alone (tree, the fallback)", |b| {
        b.iter(|| schema.validate_tree(black_box(&bundle)).unwrap())
    });
    g.bench_function("CareCommunication rules reader alone", |b| {
        b.iter(|| flspost::formats::fhir::dom::Document::parse(black_box(&bundle)).unwrap())
    });
    g.finish();
}

criterion_group! {
    name = fhir;
    config = Criterion::default().sample_size(50).measurement_time(std::time::Duration::from_secs(3));
    targets = benches
}
criterion_main!(fhir);
