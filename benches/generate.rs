//! Per-result costs of the generate pipeline (`cargo bench`): checking the input, building
//! each message, validating each, and the one-off costs a process pays once (schema
//! compilation, font preparation). Numbers go into docs/speed.md with the machine.

use criterion::{criterion_group, criterion_main, Criterion};
use flspost::app::generate::prepare;
use flspost::compose::{Composer, Kind, PatientOptions, Plan};
use flspost::letters::Letters;
use flspost::model::policy::RolloutPolicy;
use flspost::model::LetterStatus;
use flspost::schema::{self, MessageKind, Schema};
use std::hint::black_box;

const INPUT: &str = include_str!("../samples/input/group-2a.json");

fn benches(c: &mut Criterion) {
    let now = "2025-03-20T09:30:00Z".parse().unwrap();
    let policy = RolloutPolicy::default();
    let composer = Composer::new(Letters::shipped());
    let result = prepare(INPUT, &policy, now).unwrap().result;
    let plan = |kind| Plan { kind, letter_revision: 0, transmission: 1, status: LetterStatus::New };
    let xdis = composer.build(&result, &plan(Kind::GpXdis91), now).unwrap().bytes;
    let memo = composer.build(&result, &plan(Kind::PatientMemo), now).unwrap().bytes;
    let kombi_composer =
        Composer::with_options(Letters::shipped(), PatientOptions { kombi: true, ..PatientOptions::default() });
    let kombi = kombi_composer.build(&result, &plan(Kind::PatientKombi), now).unwrap().bytes;

    let mut g = c.benchmark_group("per result");
    g.bench_function("parse and check input", |b| b.iter(|| prepare(black_box(INPUT), &policy, now).unwrap()));
    g.bench_function("build XDIS91 (validated)", |b| {
        b.iter(|| composer.build(&result, &plan(Kind::GpXdis91), now).unwrap())
    });
    g.bench_function("build MeMo with PDF (validated)", |b| {
        b.iter(|| composer.build(&result, &plan(Kind::PatientMemo), now).unwrap())
    });
    g.bench_function("build kombi request with PDF (validated)", |b| {
        b.iter(|| kombi_composer.build(&result, &plan(Kind::PatientKombi), now).unwrap())
    });
    let letters = Letters::shipped();
    let text = letters.render(flspost::model::Addressee::Patient, &result, now.date_naive()).unwrap();
    g.bench_function("tagged PDF letter alone", |b| {
        b.iter(|| flspost::formats::pdf::letter_pdf(&result, &text, now.date_naive(), now, false).unwrap())
    });
    g.bench_function("tagged PDF letter alone, large print", |b| {
        b.iter(|| flspost::formats::pdf::letter_pdf(&result, &text, now.date_naive(), now, true).unwrap())
    });
    g.bench_function("validate XDIS91", |b| {
        b.iter(|| schema::validate(MessageKind::Xdis91, black_box(&xdis)).unwrap())
    });
    g.bench_function("validate MeMo", |b| b.iter(|| schema::validate(MessageKind::Memo, black_box(&memo)).unwrap()));
    g.bench_function("validate kombi request", |b| {
        b.iter(|| schema::validate(MessageKind::Kombi, black_box(&kombi)).unwrap())
    });
    g.finish();

    let mut g = c.benchmark_group("once per process");
    for kind in MessageKind::ALL {
        g.bench_function(format!("compile {} schema", kind.name()), |b| {
            b.iter(|| Schema::from_text(kind.bundled_schema().1).unwrap())
        });
    }
    g.bench_function("load letter templates", |b| b.iter(Letters::shipped));
    g.finish();
}

criterion_group! {
    name = generate;
    config = Criterion::default().sample_size(50).measurement_time(std::time::Duration::from_secs(3));
    targets = benches
}
criterion_main!(generate);
