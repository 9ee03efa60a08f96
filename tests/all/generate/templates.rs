//! A hospital's own templates are hostile input too: rendering is bounded (MiniJinja fuel),
//! so is the letter it renders (characters, and pages of the patient's PDF), and the folder
//! may hold only regular files. Every refusal names the template, exits 2, writes nothing.

use crate::common::*;

/// Generates the group 1 sample with `tpl/NAME` holding `text`.
fn generate_with(w: &World, name: &str, text: &str) -> Run {
    w.write(&format!("tpl/{name}"), text);
    generate_with_folder(w)
}

fn generate_with_folder(w: &World) -> Run {
    let cfg = w.write("c.toml", "templates = \"tpl\"\n");
    let out = w.out();
    w.run(&[
        "generate",
        "--config",
        cfg.to_str().unwrap(),
        "--out-dir",
        out.to_str().unwrap(),
        sample("group-1.json").to_str().unwrap(),
    ])
}

fn assert_refused(w: &World, r: &Run, needles: &[&str]) {
    assert_eq!(r.code, 2, "stdout:\n{}\nstderr:\n{}", r.stdout, r.stderr);
    for n in needles {
        assert!(r.stderr.contains(n), "{n:?} not in:\n{}", r.stderr);
    }
    assert!(!r.stderr.contains("panicked"), "{}", r.stderr);
    assert!(tree(&w.out()).is_empty(), "files were written: {:?}", tree(&w.out()).len());
}

#[test]
fn a_template_that_repeats_a_string_a_hundred_million_times_stops_at_once() {
    let w = World::new();
    let r = generate_with(&w, "patient-1.txt", "Emne\n\n{{ \"x\" * 100000000 }}\n");
    assert_refused(&w, &r, &["patient-1.txt", "more work than a letter template may"]);
}

#[test]
fn seven_nested_loops_over_a_name_stop_at_the_fuel_limit() {
    let w = World::new();
    let mut t = String::from("Emne\n\n");
    for i in 0..7 {
        t.push_str(&format!("{{% for c{i} in patient.full_name %}}"));
    }
    t.push_str("{{ c6 }}");
    for _ in 0..7 {
        t.push_str("{% endfor %}");
    }
    let r = generate_with(&w, "gp-1.txt", &format!("{t}\n"));
    assert_refused(&w, &r, &["gp-1.txt", "more work than a letter template may"]);
}

#[test]
fn a_patient_letter_over_the_character_limit_is_refused() {
    let w = World::new();
    // 25,000 characters: within the fuel, over the 20,000 a patient letter may have.
    let r = generate_with(&w, "patient-1.txt", "Emne\n\n{{ \"Lorem ipsum \" * 2000 }}..\n");
    assert_refused(&w, &r, &["patient-1.txt", "characters; a patient letter may have at most 20000"]);
}

#[test]
fn a_gp_letter_over_the_character_limit_is_refused() {
    let w = World::new();
    let r = generate_with(&w, "gp-1.txt", "Emne\n\n{% for i in \"x\" * 11 %}{{ \"ord \" * 750 }}\n\n{% endfor %}\n");
    assert_refused(&w, &r, &["gp-1.txt", "a GP letter may have at most 31500"]);
}

#[test]
fn a_patient_letter_of_more_than_ten_pages_is_refused() {
    let w = World::new();
    // 600 short lines: few characters, many pages.
    let r =
        generate_with(&w, "patient-1.txt", "Emne\n\n{% for i in \"x\" * 600 %}Linje {{ loop.index }}\n{% endfor %}\n");
    assert_refused(&w, &r, &["letter text (patient-1.txt): the letter needs more than 10 pages"]);
}

#[test]
fn a_symbolic_link_in_the_template_folder_is_refused() {
    let w = World::new();
    std::fs::create_dir_all(w.path("tpl")).unwrap();
    std::os::unix::fs::symlink("/dev/zero", w.path("tpl/patient-1.txt")).unwrap();
    let r = generate_with_folder(&w);
    assert_refused(&w, &r, &["patient-1.txt", "is a symbolic link"]);

    // Also to a harmless file, and also under a name that is not a template's.
    std::fs::remove_file(w.path("tpl/patient-1.txt")).unwrap();
    let real = w.write("elsewhere.txt", "Emne\n\nTekst\n");
    std::os::unix::fs::symlink(&real, w.path("tpl/notes")).unwrap();
    let r = generate_with_folder(&w);
    assert_refused(&w, &r, &["notes", "is a symbolic link"]);
}

#[test]
fn a_fifo_named_like_a_template_is_refused_without_waiting_for_a_writer() {
    let w = World::new();
    std::fs::create_dir_all(w.path("tpl")).unwrap();
    let fifo = w.path("tpl/patient-1.txt");
    let c = std::ffi::CString::new(fifo.to_str().unwrap()).unwrap();
    // SAFETY: mkfifo with a valid C string.
    assert_eq!(unsafe { libc::mkfifo(c.as_ptr(), 0o600) }, 0);
    let r = generate_with_folder(&w);
    assert_refused(&w, &r, &["patient-1.txt", "is not a regular file"]);
}

#[test]
fn an_oversized_template_file_is_refused() {
    let w = World::new();
    let r = generate_with(&w, "patient-1.txt", &format!("Emne\n\n{}\n", "x".repeat(70_000)));
    assert_refused(&w, &r, &["patient-1.txt", "longer than 64 KiB"]);
}
