//! A PostgreSQL journal reached over TCP with TLS, as a gateway host reaches the region's
//! database server: the server's certificate checked against the CA file the config names, the
//! password from an owner-only file and never printed. Against a server of its own (TLS only,
//! scram passwords), whichever store the rest of the suite uses.

use crate::common::*;
use std::path::{Path, PathBuf};
use std::process::Command;

const PASSWORD: &str = "fictitious-Pa55word";

/// A PostgreSQL server that takes only TLS connections over TCP on 127.0.0.1, stopped and
/// removed when dropped.
struct TlsServer {
    dir: PathBuf,
    bin: PathBuf,
    port: u16,
}

fn as_postgres(cmd: &Path) -> Command {
    if unsafe { libc::geteuid() } == 0 {
        let mut c = Command::new("runuser");
        c.args(["-u", "postgres", "--"]).arg(cmd);
        c
    } else {
        Command::new(cmd)
    }
}

fn ok(mut c: Command) {
    let out = c.output().unwrap();
    assert!(
        out.status.success(),
        "{c:?}: {}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
}

impl TlsServer {
    fn start(cert: &Path, key: &Path) -> TlsServer {
        let bin = std::fs::read_dir("/usr/lib/postgresql")
            .expect("PostgreSQL's server: run `bash scripts/test-deps.sh`")
            .flatten()
            .map(|e| e.path().join("bin"))
            .max()
            .unwrap();
        static N: std::sync::atomic::AtomicUsize = std::sync::atomic::AtomicUsize::new(0);
        let n = N.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
        // In /tmp: as root the server runs as the postgres user, who may not reach the test's
        // own folder.
        let dir = PathBuf::from(format!("/tmp/flspost-tls-pg-{}-{n}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(&dir).unwrap();
        std::fs::copy(cert, dir.join("server.crt")).unwrap();
        std::fs::copy(key, dir.join("server.key")).unwrap();
        use std::os::unix::fs::PermissionsExt;
        std::fs::set_permissions(dir.join("server.key"), std::fs::Permissions::from_mode(0o600)).unwrap();
        if unsafe { libc::geteuid() } == 0 {
            ok({
                let mut c = Command::new("chown");
                c.args(["-R", "postgres:"]).arg(&dir);
                c
            });
        }
        let data = dir.join("data");
        ok({
            let mut c = as_postgres(&bin.join("initdb"));
            c.arg("-D").arg(&data).args(["-U", "postgres", "--auth-local=trust", "--auth-host=scram-sha-256"]);
            c.args(["--locale=C", "--encoding=UTF8"]);
            c
        });
        // TCP only with TLS: a client that does not ask for it is refused.
        std::fs::write(
            data.join("pg_hba.conf"),
            "local all all trust\nhostssl all all 127.0.0.1/32 scram-sha-256\nhostnossl all all 0.0.0.0/0 reject\n",
        )
        .unwrap();
        let port = free_port();
        let options = format!(
            "-c listen_addresses=127.0.0.1 -p {port} -c unix_socket_directories={} -c ssl=on \
             -c ssl_cert_file={} -c ssl_key_file={}",
            dir.display(),
            dir.join("server.crt").display(),
            dir.join("server.key").display()
        );
        ok({
            let mut c = as_postgres(&bin.join("pg_ctl"));
            c.arg("-D")
                .arg(&data)
                .arg("-l")
                .arg(dir.join("server.log"))
                .args(["-w", "-t", "60", "-o", &options, "start"]);
            c
        });
        let server = TlsServer { dir, bin, port };
        ok({
            let mut c = Command::new(server.bin.join("psql"));
            c.args(["-q", "-h"]).arg(&server.dir).args(["-p", &port.to_string(), "-U", "postgres", "-d", "postgres"]);
            c.args([
                "-c",
                &format!("CREATE ROLE flspost LOGIN PASSWORD '{PASSWORD}'"),
                "-c",
                "CREATE DATABASE flspost OWNER flspost",
            ]);
            c
        });
        server
    }
}

impl Drop for TlsServer {
    fn drop(&mut self) {
        let mut c = as_postgres(&self.bin.join("pg_ctl"));
        let _ = c.arg("-D").arg(self.dir.join("data")).args(["-m", "immediate", "stop"]).output();
        let _ = std::fs::remove_dir_all(&self.dir);
    }
}

#[test]
fn a_postgresql_journal_over_tls_checks_the_servers_certificate_and_never_shows_its_password() {
    let _exclusive = exclusive();
    let w = World::new();
    let ca = test_ca(&w);
    let server = TlsServer::start(&ca.cert, &ca.key);
    let password = w.write("pg-password", &format!("{PASSWORD}\n"));
    use std::os::unix::fs::PermissionsExt;
    std::fs::set_permissions(&password, std::fs::Permissions::from_mode(0o600)).unwrap();
    let url = format!("postgresql://flspost@localhost:{}/flspost", server.port);
    let config = |name: &str, extra: &str| {
        w.write(name, &format!("[journal]\nurl = \"{url}\"\npassword_file = \"{}\"\n{extra}", password.display()))
    };
    let run = |cfg: &Path, args: &[&str]| {
        let mut c = w.cmd();
        c.env_remove("FLSPOST_JOURNAL").args(args).arg("--config").arg(cfg);
        Run::from(c.output().unwrap())
    };
    let input = sample("group-1.json");
    let input = input.to_str().unwrap();

    // With the hospital's CA: over TLS, recorded, and readable.
    let good = config("good.toml", &format!("ca_file = \"{}\"\n", ca.ca.display()));
    let r = run(&good, &["generate", input]);
    assert_eq!(r.code, 0, "{}{}", r.stdout, r.stderr);
    let listed = run(&good, &["journal", "list"]);
    assert_eq!(listed.code, 0, "{}", listed.stderr);
    assert!(listed.stdout.contains("FLS-AUH-2025-0001"), "{}", listed.stdout);
    for out in [&r.stdout, &r.stderr, &listed.stdout, &listed.stderr] {
        assert!(!out.contains(PASSWORD), "the password was printed: {out}");
    }
    // A server whose certificate another CA signed is refused: nothing is sent to it.
    let other = World::new();
    let stranger = test_ca(&other);
    let wrong = config("wrong.toml", &format!("ca_file = \"{}\"\n", stranger.ca.display()));
    let r = run(&wrong, &["journal", "list"]);
    assert_ne!(r.code, 0, "{}", r.stdout);
    assert!(r.stderr.to_lowercase().contains("certificate"), "{}", r.stderr);
    // Without a CA file flspost asks for no TLS, and this server takes none without it.
    let plain = config("plain.toml", "");
    let r = run(&plain, &["journal", "list"]);
    assert_ne!(r.code, 0, "{}", r.stdout);
    assert!(r.stderr.contains("pg_hba.conf") || r.stderr.contains("28000"), "{}", r.stderr);
    // A password file others may read is refused before anything connects.
    std::fs::set_permissions(&password, std::fs::Permissions::from_mode(0o644)).unwrap();
    let r = run(&good, &["journal", "list"]);
    assert_eq!(r.code, 2, "{}", r.stderr);
    assert!(r.stderr.contains("password_file") && r.stderr.contains("chmod 600"), "{}", r.stderr);
}
