//! Who may hand the intake results, and how much: the bearer token on TCP (none or a wrong
//! one: 401, nothing read or recorded), the socket owner-only in a folder of its own (a path
//! that is no socket flspost made is refused, a link never followed), a request over the
//! size or count limit refused whole (413), every refusal an error line with a stable code.

use super::{counts, intake_world, lines, post, post_ok, socket_of, TOKEN};
use crate::common::{sample, sample_lines};
use crate::console::Server;
use std::os::unix::fs::PermissionsExt;

#[test]
fn no_token_or_a_wrong_one_is_refused_and_nothing_is_recorded() {
    let (w, cfg) = intake_world("");
    let s = Server::start(&w, &cfg);
    let body = std::fs::read(sample("group-1.json")).unwrap();
    let wrong = format!("Bearer {}x", TOKEN);
    let short = format!("Bearer {}", &TOKEN[..TOKEN.len() - 1]);
    let basic = format!("Basic {TOKEN}");
    let cases: Vec<Vec<(&str, &str)>> = vec![
        vec![],
        vec![("Authorization", &wrong)],
        vec![("Authorization", &short)],
        vec![("Authorization", &basic)],
        vec![("Authorization", TOKEN)],
        vec![("Cookie", "flspost_session=whatever")],
    ];
    let validator = crate::guarantees::json_schemas::validator("error-line");
    for h in &cases {
        let a = post(&s, &body, h);
        assert_eq!(a.status, 401, "{h:?}: {}", a.text());
        assert_eq!(a.header("www-authenticate"), Some("Bearer"));
        let l = &lines(&a)[0];
        assert_eq!(l["error"]["code"], "unauthorized", "{l}");
        assert!(validator.is_valid(l), "{l}");
    }
    assert_eq!(counts(&w), (0, 0, 0), "a refused request records nothing");
    let lowercase = format!("bearer {TOKEN}");
    assert_eq!(post(&s, &body, &[("Authorization", &lowercase)]).status, 200, "the right token (any case of Bearer)");
    assert_eq!(counts(&w).0, 1);
}

#[test]
fn a_request_over_the_size_or_count_limit_is_refused_whole() {
    let (w, cfg) = intake_world("max_results = 2\n");
    let text = std::fs::read_to_string(&cfg).unwrap().replace("listen = ", "max_body_kib = 4\nlisten = ");
    std::fs::write(&cfg, text).unwrap();
    let s = Server::start(&w, &cfg);
    let validator = crate::guarantees::json_schemas::validator("error-line");
    // Over 4 KiB: eight results on lines.
    let big = sample_lines("FLS-AUH-2025-BIG", 8).join("\n") + "\n";
    assert!(big.len() > 4 * 1024, "{}", big.len());
    let a = post_ok(&s, big.as_bytes(), &[("Content-Type", "application/x-ndjson")]);
    assert_eq!(a.status, 413, "{}", a.text());
    assert_eq!(lines(&a)[0]["error"]["code"], "too_large");
    assert!(validator.is_valid(&lines(&a)[0]));
    // Within the size, over the count.
    let four = sample_lines("FLS-AUH-2025-FOUR", 3).join("\n") + "\n";
    assert!(four.len() < 4 * 1024);
    let a = post_ok(&s, four.as_bytes(), &[("Content-Type", "application/x-ndjson")]);
    assert_eq!(a.status, 413, "{}", a.text());
    assert_eq!(lines(&a)[0]["error"]["code"], "too_large");
    assert_eq!(counts(&w), (0, 0, 0), "nothing of a refused request is recorded");
    let three = sample_lines("FLS-AUH-2025-FOUR", 2).join("\n") + "\n";
    let a = post_ok(&s, three.as_bytes(), &[("Content-Type", "application/x-ndjson")]);
    assert_eq!(a.status, 200, "{}", a.text());
    assert_eq!(counts(&w).0, 2);
}

#[test]
fn the_socket_is_owner_only_in_a_folder_of_its_own_and_never_replaces_what_it_did_not_make() {
    let (w, cfg) = intake_world("");
    let s = Server::start(&w, &cfg);
    let sock = socket_of(&w);
    let mode = |p: &std::path::Path| std::fs::symlink_metadata(p).unwrap().permissions().mode() & 0o777;
    assert_eq!((mode(&sock), mode(sock.parent().unwrap())), (0o600, 0o700));
    let a = super::post_socket(&sock, &std::fs::read(sample("group-1.json")).unwrap(), &[]);
    assert_eq!((a.status, lines(&a)[0]["outcome"].as_str()), (200, Some("generated")), "{}", a.text());
    // A second server on the same socket is refused while the first listens.
    let (code, err) = Server::try_start(&w, &cfg).map(|_| ()).unwrap_err();
    assert_eq!(code, 2, "{err}");
    assert!(err.contains("another server listens"), "{err}");
    let (code, log) = s.stop();
    assert_eq!(code, 0, "{log}");
    assert!(!sock.exists(), "the socket is removed at the end");

    // A file in its place is not replaced; nor is a socket with others' permissions.
    std::fs::write(&sock, "a file of someone's").unwrap();
    let (code, err) = Server::try_start(&w, &cfg).map(|_| ()).unwrap_err();
    assert_eq!(code, 2, "{err}");
    assert!(err.contains("is not a socket flspost made"), "{err}");
    assert_eq!(std::fs::read_to_string(&sock).unwrap(), "a file of someone's");
    std::fs::remove_file(&sock).unwrap();
    drop(std::os::unix::net::UnixListener::bind(&sock).unwrap());
    std::fs::set_permissions(&sock, std::fs::Permissions::from_mode(0o666)).unwrap();
    let (code, err) = Server::try_start(&w, &cfg).map(|_| ()).unwrap_err();
    assert_eq!(code, 2, "{err}");
    assert!(err.contains("is not a socket flspost made"), "{err}");
    assert_eq!(mode(&sock), 0o666, "left as it was");
    std::fs::remove_file(&sock).unwrap();
    // A folder others may enter, or a link to one, is refused.
    std::fs::set_permissions(sock.parent().unwrap(), std::fs::Permissions::from_mode(0o755)).unwrap();
    let (code, err) = Server::try_start(&w, &cfg).map(|_| ()).unwrap_err();
    assert_eq!(code, 2, "{err}");
    assert!(err.contains("mode 0700"), "{err}");
    std::fs::remove_dir(sock.parent().unwrap()).unwrap();
    let elsewhere = w.path("elsewhere");
    std::fs::create_dir(&elsewhere).unwrap();
    std::fs::set_permissions(&elsewhere, std::fs::Permissions::from_mode(0o700)).unwrap();
    std::os::unix::fs::symlink(&elsewhere, sock.parent().unwrap()).unwrap();
    let (code, err) = Server::try_start(&w, &cfg).map(|_| ()).unwrap_err();
    assert_eq!(code, 2, "{err}");
    assert!(std::fs::read_dir(&elsewhere).unwrap().next().is_none(), "nothing was made through the link");
}
