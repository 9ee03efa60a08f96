//! The output folder: flspost writes only into folders it can see are real, and a summary
//! names only files that were written.

use crate::common::*;

fn generate_to(w: &World, out: &std::path::Path, input: &str) -> Run {
    w.run(&["generate", "--out-dir", out.to_str().unwrap(), sample(input).to_str().unwrap()])
}

/// A folder of someone else's with a file flspost would otherwise overwrite.
fn victim(w: &World) -> std::path::PathBuf {
    let v = w.path("elsewhere");
    std::fs::create_dir_all(&v).unwrap();
    std::fs::write(v.join("gp-xdis91.xml"), "precious").unwrap();
    v
}

#[test]
fn a_result_folder_that_is_a_symbolic_link_is_refused_not_followed() {
    let w = World::new();
    let v = victim(&w);
    std::fs::create_dir_all(w.out()).unwrap();
    let link = w.out().join("FLS-AUH-2025-0001");
    std::os::unix::fs::symlink(&v, &link).unwrap();
    let r = generate_to(&w, &w.out(), "group-1.json");
    assert_eq!(r.code, 1, "{}\n{}", r.stdout, r.stderr);
    assert!(r.stderr.contains(&link.display().to_string()) && r.stderr.contains("symbolic link"), "{}", r.stderr);
    assert_eq!(tree(&v), [("gp-xdis91.xml".to_string(), b"precious".to_vec())]);

    // The same for a result already in the journal, whose files would be restored, and for
    // a correction, which replaces files in an existing folder.
    w.run(&["generate", sample("group-2a.json").to_str().unwrap()]).ok();
    let link2 = w.out().join("FLS-AUH-2025-0002");
    std::os::unix::fs::symlink(&v, &link2).unwrap();
    let r = generate_to(&w, &w.out(), "group-2a.json");
    assert_eq!(r.code, 1, "{}\n{}", r.stdout, r.stderr);
    assert_eq!(r.one()["outcome"], "error");
    assert!(r.stderr.contains(&link2.display().to_string()), "{}", r.stderr);
    let mut v2 = sample_json("group-2a.json");
    v2["gp"]["ean"] = serde_json::json!("5790000121441");
    let fixed = w.write("fixed.json", &v2.to_string());
    let r = w.run(&["generate", "--out-dir", w.out().to_str().unwrap(), fixed.to_str().unwrap()]);
    assert_eq!(r.code, 1, "{}\n{}", r.stdout, r.stderr);
    assert_eq!(tree(&v), [("gp-xdis91.xml".to_string(), b"precious".to_vec())]);
}

#[test]
fn an_unusable_output_folder_for_an_existing_result_fails_and_names_no_file() {
    let w = World::new();
    w.run(&["generate", sample("group-1.json").to_str().unwrap()]).ok();
    let file = w.write("a-file", "x");
    let long = w.path(&"n".repeat(300));
    for out in [&file, &long] {
        let r = generate_to(&w, out, "group-1.json");
        assert_eq!(r.code, 1, "{out:?}: {}\n{}", r.stdout, r.stderr);
        let s = r.one();
        assert_eq!(s["outcome"], "error", "{s}");
        assert!(s.get("messages").is_none() && s.get("dir").is_none(), "names files that were not written: {s}");
        assert!(!r.stderr.contains("warning"), "{}", r.stderr);
    }
    assert_eq!(std::fs::read(&file).unwrap(), b"x");
}

/// Runs `generate` with a deadline (a FIFO would block a reader forever); returns the run
/// and the process's peak RSS in KB (a huge file read whole would show there).
// The child is reaped by wait4 (which also gives its rusage), which clippy cannot see.
#[allow(clippy::zombie_processes)]
fn generate_bounded(w: &World, input: &str) -> (Run, i64) {
    let _exclusive = exclusive();
    use std::io::Read;
    let mut cmd = w.cmd();
    cmd.args(["generate", "--out-dir", w.out().to_str().unwrap(), sample(input).to_str().unwrap()]);
    cmd.stdout(std::process::Stdio::piped()).stderr(std::process::Stdio::piped());
    let mut child = cmd.spawn().unwrap();
    let pid = child.id() as libc::pid_t;
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(30);
    // SAFETY: zeroed rusage is a valid value; wait4 on our own child.
    let mut usage: libc::rusage = unsafe { std::mem::zeroed() };
    let mut status = 0;
    loop {
        // SAFETY: as above.
        let r = unsafe { libc::wait4(pid, &mut status, libc::WNOHANG, &mut usage) };
        assert!(r >= 0, "wait4: {}", std::io::Error::last_os_error());
        if r == pid {
            break;
        }
        if std::time::Instant::now() > deadline {
            let _ = child.kill();
            let _ = child.wait();
            panic!("generate did not finish within 30 s");
        }
        std::thread::sleep(std::time::Duration::from_millis(50));
    }
    let (mut stdout, mut stderr) = (String::new(), String::new());
    child.stdout.take().unwrap().read_to_string(&mut stdout).unwrap();
    child.stderr.take().unwrap().read_to_string(&mut stderr).unwrap();
    let code = if libc::WIFEXITED(status) { libc::WEXITSTATUS(status) } else { -1 };
    (Run { code, stdout, stderr }, usage.ru_maxrss)
}

#[test]
fn a_fifo_or_link_in_place_of_an_output_file_is_refused_not_read() {
    let w = World::new();
    let s = generate_to(&w, &w.out(), "group-1.json").ok().one();
    let gp = std::path::PathBuf::from(s["messages"][0]["path"].as_str().unwrap());
    let good = std::fs::read(&gp).unwrap();
    std::fs::remove_file(&gp).unwrap();
    let c = std::ffi::CString::new(gp.to_str().unwrap()).unwrap();
    // SAFETY: mkfifo with a valid C string.
    assert_eq!(unsafe { libc::mkfifo(c.as_ptr(), 0o600) }, 0);
    let (r, _) = generate_bounded(&w, "group-1.json");
    assert_eq!(r.code, 1, "{}\n{}", r.stdout, r.stderr);
    assert!(r.stderr.contains(&gp.display().to_string()) && r.stderr.contains("regular file"), "{}", r.stderr);

    // A link to a file with the right content is not read through either.
    std::fs::remove_file(&gp).unwrap();
    let elsewhere = w.write("elsewhere/gp.xml", "");
    std::fs::write(&elsewhere, &good).unwrap();
    std::os::unix::fs::symlink(&elsewhere, &gp).unwrap();
    let (r, _) = generate_bounded(&w, "group-1.json");
    assert_eq!(r.code, 1, "{}\n{}", r.stdout, r.stderr);
    assert!(r.stderr.contains(&gp.display().to_string()), "{}", r.stderr);
    assert_eq!(std::fs::read(&elsewhere).unwrap(), good);
}

#[test]
fn a_huge_file_in_place_of_an_output_file_is_replaced_without_reading_it() {
    let w = World::new();
    let s = generate_to(&w, &w.out(), "group-1.json").ok().one();
    let gp = std::path::PathBuf::from(s["messages"][0]["path"].as_str().unwrap());
    let good = std::fs::read(&gp).unwrap();
    // Sparse: 512 MB that take no disk, but would take as much memory to read whole.
    std::fs::OpenOptions::new().write(true).open(&gp).unwrap().set_len(512 << 20).unwrap();
    let (r, peak_kb) = generate_bounded(&w, "group-1.json");
    assert_eq!(r.code, 0, "{}\n{}", r.stdout, r.stderr);
    assert!(peak_kb < 200 * 1024, "peak RSS {} MB: the file was read", peak_kb / 1024);
    assert_eq!(std::fs::read(&gp).unwrap(), good);
}

/// An output folder whose name is not UTF-8 is written, and its summary names it (with
/// U+FFFD for the bytes that are not), instead of a panic after the result was recorded.
#[test]
fn an_output_folder_named_in_bytes_that_are_not_utf8_is_reported_not_panicked_on() {
    use std::os::unix::ffi::OsStrExt;
    let w = World::new();
    let out = w.dir.path().join(std::ffi::OsStr::from_bytes(b"out-\xff"));
    let r = Run::from(w.cmd().arg("generate").arg("--out-dir").arg(&out).arg(sample("group-1.json")).output().unwrap());
    assert_eq!(r.code, 0, "{}\n{}", r.stdout, r.stderr);
    let s = r.one();
    assert!(s["dir"].as_str().unwrap().contains("out-\u{fffd}"), "{s}");
    assert!(out.join("FLS-AUH-2025-0001").join("gp-xdis91.xml").is_file());
}
