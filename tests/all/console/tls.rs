//! The console over TLS (rustls): with `tls_cert` and `tls_key` in `[server]` it speaks only
//! HTTPS, may listen beyond loopback, and marks its cookies Secure; a client that trusts the
//! hospital's CA signs in, one that does not is refused, and plain HTTP gets no page.

use super::*;
use crate::common::{test_ca, TestCa};

/// `curl ARGS URL`: its exit code, and the headers and body it got.
fn curl(args: &[&str], url: &str) -> (i32, String) {
    let out = Command::new(crate::common::ensure_tool("curl", "curl"))
        .args(["-sS", "--max-time", "10", "-D", "-"])
        .args(args)
        .arg(url)
        .output()
        .unwrap();
    (out.status.code().unwrap_or(-1), String::from_utf8_lossy(&out.stdout).into_owned())
}

#[test]
fn with_a_certificate_the_console_speaks_tls_beyond_loopback_and_its_cookies_are_secure() {
    let mut w = World::new();
    let cfg = bad_morning(&mut w);
    let TestCa { ca, cert, key } = test_ca(&w);
    let mut text = std::fs::read_to_string(&cfg).unwrap();
    text.push_str(&format!(
        "\n[server]\nlisten = \"0.0.0.0:0\"\ntls_cert = \"{}\"\ntls_key = \"{}\"\n",
        cert.display(),
        key.display()
    ));
    std::fs::write(&cfg, text).unwrap();
    let s = Server::start(&w, &cfg);
    assert!(s.url.starts_with("https://"), "{}", s.url);
    let port = s.addr.rsplit(':').next().unwrap().to_string();
    let url = format!("https://127.0.0.1:{port}/login");

    let (code, got) = curl(&["--cacert", ca.to_str().unwrap()], &url);
    assert_eq!(code, 0, "{got}");
    assert!(got.starts_with("HTTP/1.1 200") || got.starts_with("HTTP/2 200"), "{got}");
    let cookies: Vec<&str> = got.lines().filter(|l| l.to_ascii_lowercase().starts_with("set-cookie:")).collect();
    assert!(!cookies.is_empty(), "{got}");
    for c in &cookies {
        assert!(c.contains("Secure") && c.contains("HttpOnly") && c.contains("SameSite=Strict"), "{c}");
    }
    // A client that does not trust the hospital's CA, and one that speaks plain HTTP.
    let (untrusted, _) = curl(&[], &url);
    assert_eq!(untrusted, 60, "curl: the peer's certificate is not trusted");
    let (plain, got) = curl(&[], &format!("http://127.0.0.1:{port}/login"));
    assert!(plain != 0 || !got.contains("200"), "plain HTTP got a page: {got}");
    let (code, log) = s.stop();
    assert_eq!(code, 0, "{log}");
}
