//! Helpers shared by the integration tests: running the real `flspost` binary against a
//! private journal and output folder, and finding the reference material in `../shared`.

mod config;
pub mod console;
pub use config::{ConfigOf, Transport};

use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};

pub const FAKE_NOW: &str = "2025-03-20T09:30:00Z";

pub fn root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

pub fn sample(name: &str) -> PathBuf {
    root().join("samples/input").join(name)
}

pub const SAMPLES: [&str; 4] = ["group-1.json", "group-2a.json", "group-2b.json", "group-3.json"];

/// The samples' receiver table, which lists their GP for XDIS91 and CareCommunication.
pub fn sample_receivers() -> String {
    root().join("samples/receivers.csv").display().to_string()
}

/// The public reference material (`../shared/reference`), when this checkout has it.
/// Tests that need it print a notice and skip when it is absent (a user's own clone).
pub fn reference() -> Option<PathBuf> {
    let p = root().join("../shared/reference");
    if p.is_dir() {
        Some(p)
    } else {
        eprintln!(
            "NOTICE: ../shared/reference is absent; skipping the checks against MedCom's and MeMo's official material"
        );
        None
    }
}

/// One at a time: held for its whole run by each test that loads the machine on purpose
/// (SIGKILL rounds, many processes at once, strace, a deadline measured under load), and by
/// each whose timing window such load could close. When every file was a binary of its own,
/// cargo ran those files one after another; in one binary they would run beside each other.
/// The light tests still run beside them.
///
/// `let _exclusive = exclusive();` at the top of the test (not `let _ =`, which drops it).
pub fn exclusive() -> std::sync::MutexGuard<'static, ()> {
    static HEAVY: std::sync::Mutex<()> = std::sync::Mutex::new(());
    // A test that failed while holding it must not fail the next one too.
    HEAVY.lock().unwrap_or_else(|poisoned| poisoned.into_inner())
}

/// The store the suite runs against: `FLSPOST_TEST_STORE=postgres` runs every world's
/// journal in a PostgreSQL database of its own (on the server `FLSPOST_TEST_PG` names, else a
/// private one `scripts/pg-test-server.sh` starts under target/pg); SQLite otherwise.
pub fn on_postgres() -> bool {
    std::env::var("FLSPOST_TEST_STORE").is_ok_and(|s| s == "postgres")
}

/// Skips the rest of a test that looks at what only an SQLite journal has (its file, its
/// pages, its write-ahead log, a fixture file): `if sqlite_only() { return; }`.
pub fn sqlite_only() -> bool {
    if on_postgres() {
        eprintln!("NOTICE: this test looks inside an SQLite journal file; skipped on PostgreSQL");
    }
    on_postgres()
}

/// The URL of the PostgreSQL server's maintenance database the worlds make theirs in.
fn pg_server() -> &'static str {
    static URL: std::sync::OnceLock<String> = std::sync::OnceLock::new();
    URL.get_or_init(|| {
        if let Ok(url) = std::env::var("FLSPOST_TEST_PG") {
            return url;
        }
        let out = Command::new(root().join("scripts/pg-test-server.sh")).output().unwrap();
        assert!(out.status.success(), "scripts/pg-test-server.sh: {}", String::from_utf8_lossy(&out.stderr));
        String::from_utf8(out.stdout).unwrap().trim().to_string()
    })
}

/// A PostgreSQL database for one world, dropped with it.
pub struct PgDatabase {
    pub name: String,
    pub url: String,
}

impl PgDatabase {
    pub fn new() -> PgDatabase {
        static N: std::sync::atomic::AtomicUsize = std::sync::atomic::AtomicUsize::new(0);
        let n = N.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
        let name = format!("flspost_test_{}_{n}", std::process::id());
        let server = pg_server();
        let mut admin = postgres::Client::connect(server, postgres::NoTls).unwrap();
        admin.batch_execute(&format!("DROP DATABASE IF EXISTS {name}")).unwrap();
        admin.batch_execute(&format!("CREATE DATABASE {name}")).unwrap();
        let url = server.replacen("/postgres?", &format!("/{name}?"), 1);
        assert_ne!(url, server, "FLSPOST_TEST_PG must name the database `postgres`: {server}");
        PgDatabase { name, url }
    }

    /// A client of this database, to look at or damage what flspost stored.
    pub fn client(&self) -> postgres::Client {
        postgres::Client::connect(&self.url, postgres::NoTls).unwrap()
    }
}

impl Drop for PgDatabase {
    fn drop(&mut self) {
        if let Ok(mut admin) = postgres::Client::connect(pg_server(), postgres::NoTls) {
            let _ = admin.batch_execute(&format!("DROP DATABASE IF EXISTS {} WITH (FORCE)", self.name));
        }
    }
}

/// A private world for one test: its own journal, output folder and scratch space.
pub struct World {
    pub dir: tempfile::TempDir,
    pub fake_now: Option<String>,
    /// On PostgreSQL ([`on_postgres`]): the world's database.
    pub pg: Option<PgDatabase>,
}

impl World {
    pub fn new() -> World {
        let pg = on_postgres().then(PgDatabase::new);
        World { dir: tempfile::tempdir().unwrap(), fake_now: Some(FAKE_NOW.to_string()), pg }
    }

    /// What FLSPOST_JOURNAL says for this world: the SQLite file, or the database's URL.
    pub fn journal_location(&self) -> String {
        match &self.pg {
            Some(db) => db.url.clone(),
            None => self.journal().display().to_string(),
        }
    }

    pub fn path(&self, rel: &str) -> PathBuf {
        self.dir.path().join(rel)
    }

    pub fn journal(&self) -> PathBuf {
        self.path("state/journal.sqlite")
    }

    pub fn out(&self) -> PathBuf {
        self.path("out")
    }

    pub fn cmd(&self) -> Command {
        let mut c = Command::new(env!("CARGO_BIN_EXE_flspost"));
        c.env("FLSPOST_JOURNAL", self.journal_location());
        c.env_remove("FLSPOST_CONFIG");
        match &self.fake_now {
            Some(n) => c.env("FLSPOST_FAKE_NOW", n),
            None => c.env_remove("FLSPOST_FAKE_NOW"),
        };
        c.stdin(Stdio::null());
        c
    }

    pub fn run(&self, args: &[&str]) -> Run {
        let out = self.cmd().args(args).output().unwrap();
        self.quiet(Run::from(out))
    }

    /// The run without the line naming this world's journal (flspost names a journal that
    /// came from FLSPOST_JOURNAL; `first_hour` checks that line), so tests can
    /// count the lines that are about their case.
    fn quiet(&self, mut r: Run) -> Run {
        let line = format!("flspost: journal {} (from FLSPOST_JOURNAL", self.journal_location());
        let named = |l: &str| l.strip_prefix(&line).is_some_and(|rest| rest == ")" || rest == ", new: creating it)");
        r.stderr = r.stderr.lines().filter(|l| !named(l)).map(|l| format!("{l}\n")).collect();
        r
    }

    pub fn run_stdin(&self, args: &[&str], stdin: &[u8]) -> Run {
        use std::io::Write;
        let mut child =
            self.cmd().args(args).stdin(Stdio::piped()).stdout(Stdio::piped()).stderr(Stdio::piped()).spawn().unwrap();
        child.stdin.take().unwrap().write_all(stdin).unwrap();
        self.quiet(Run::from(child.wait_with_output().unwrap()))
    }

    pub fn generate(&self, input: &Path) -> Run {
        self.run(&["generate", "--out-dir", self.out().to_str().unwrap(), input.to_str().unwrap()])
    }

    /// `generate` with a config file.
    pub fn generate_with(&self, config: &Path, input: &Path) -> Run {
        let (config, out) = (config.to_str().unwrap(), self.out());
        self.run(&["generate", "--config", config, "--out-dir", out.to_str().unwrap(), input.to_str().unwrap()])
    }

    /// The journal as the store holds it, for a test to look at or damage what flspost
    /// stored, with the same SQL on both stores: the SQLite file (once SQLite finds it whole),
    /// or the world's PostgreSQL database.
    pub fn db(&self) -> flspost::journal::db::Connection {
        use flspost::journal::db::{Connection, PgConnection, PgTarget};
        match &self.pg {
            None => {
                let c = rusqlite::Connection::open(self.journal()).unwrap();
                let ok: String = c.query_row("PRAGMA integrity_check", [], |r| r.get(0)).unwrap();
                assert_eq!(ok, "ok", "the journal is damaged");
                Connection::Sqlite(c)
            }
            Some(db) => {
                let target = PgTarget { url: db.url.clone(), password: None, ca_file: None };
                Connection::Postgres(PgConnection::connect(&target, std::time::Duration::from_secs(30)).unwrap())
            }
        }
    }

    /// On PostgreSQL, the claims that killed `send`s left open made to have run out, as they
    /// have once their lease has passed: on a shared journal another host's `send` may still
    /// be handing the message over, so a claim is taken over only after its lease (at least
    /// ten seconds, in the database's clock, which the pinned clock of the commands does not
    /// move). On SQLite the send lock says the sender is gone: nothing to do.
    pub fn leases_run_out(&self) {
        if self.pg.is_some() {
            let expired = "UPDATE attempts SET lease_until = '1970-01-01T00:00:00.000Z' WHERE outcome IS NULL";
            self.db().execute(expired, []).unwrap();
        }
    }

    /// Runs `command` while another client holds the journal's write lock (the one every
    /// flspost writer takes) and then applies `update` (SQL, `?1` the message `id`), as another
    /// process would: the command reads and decides before that, and records after.
    pub fn changed_meanwhile(&self, update: &'static str, id: i64, command: impl FnOnce() -> Run) -> Run {
        use flspost::journal::db::TransactionBehavior;
        let _exclusive = exclusive();
        let (tx, rx) = std::sync::mpsc::channel();
        let c = self.db();
        let holder = std::thread::spawn(move || {
            let t = c.transaction_with_behavior(TransactionBehavior::Immediate).unwrap();
            tx.send(()).unwrap();
            // Long enough for the command to read, decide and build, and then wait for the lock.
            std::thread::sleep(std::time::Duration::from_millis(1500));
            t.execute(update, [id]).unwrap();
            t.commit().unwrap();
        });
        rx.recv().unwrap();
        let r = command();
        holder.join().unwrap();
        r
    }

    /// `flspost ARGS --config CFG`.
    pub fn run_with(&self, cfg: &Path, args: &[&str]) -> Run {
        let mut all = args.to_vec();
        all.extend(["--config", cfg.to_str().unwrap()]);
        self.run(&all)
    }

    /// A morning: `inputs` (the samples, or versions of them) generated and sent under `cfg`,
    /// then the two sample receipts read: group 1's letter acknowledged, group 2a's (message 3
    /// when the samples go in order) rejected with `problem_med_modtagerID`.
    pub fn morning_of(&self, cfg: &Path, inputs: &[PathBuf]) {
        for input in inputs {
            self.generate_with(cfg, input).ok();
        }
        self.run_with(cfg, &["send"]).ok();
        let receipts = [
            root().join("samples/receipts/positive-group-1.xml"),
            root().join("samples/receipts/negative-group-2a.xml"),
        ];
        let mut args = vec!["receipt"];
        args.extend(receipts.iter().map(|p| p.to_str().unwrap()));
        self.run_with(cfg, &args).ok();
    }

    /// The clock pinned `by` after [`FAKE_NOW`], the samples' send time.
    pub fn later_by(&mut self, by: chrono::Duration) {
        let t = chrono::DateTime::parse_from_rfc3339(FAKE_NOW).unwrap() + by;
        self.fake_now = Some(t.to_rfc3339());
    }

    /// Generates `input` and sends what is waiting, both under `cfg`; returns the GP message's
    /// summary.
    pub fn sent(&self, cfg: &Path, input: &Path) -> serde_json::Value {
        let gp = self.generate_with(cfg, input).ok().one()["messages"][0].clone();
        self.run_with(cfg, &["send"]).ok();
        gp
    }

    /// `c.toml`: both transports as outbox folders ([`ConfigOf::outboxes`]).
    pub fn outbox_config(&self) -> PathBuf {
        self.config("c.toml", &ConfigOf::outboxes())
    }

    /// `flspost journal show --json ID`: the message, its attempts and its receipts.
    pub fn show(&self, id: &str) -> serde_json::Value {
        self.run(&["journal", "show", "--json", id]).ok().one()
    }

    pub fn write(&self, rel: &str, text: &str) -> PathBuf {
        let p = self.path(rel);
        std::fs::create_dir_all(p.parent().unwrap()).unwrap();
        std::fs::write(&p, text).unwrap();
        p
    }
}

pub struct Run {
    pub code: i32,
    pub stdout: String,
    pub stderr: String,
}

impl From<Output> for Run {
    fn from(o: Output) -> Run {
        Run {
            code: o.status.code().unwrap_or(-1),
            stdout: String::from_utf8_lossy(&o.stdout).into_owned(),
            stderr: String::from_utf8_lossy(&o.stderr).into_owned(),
        }
    }
}

impl Run {
    pub fn ok(self) -> Run {
        assert_eq!(self.code, 0, "exit {}\nstdout:\n{}\nstderr:\n{}", self.code, self.stdout, self.stderr);
        self
    }

    /// The stdout JSON lines.
    pub fn json(&self) -> Vec<serde_json::Value> {
        self.stdout.lines().filter(|l| l.starts_with('{')).map(|l| serde_json::from_str(l).unwrap()).collect()
    }

    pub fn one(&self) -> serde_json::Value {
        let v = self.json();
        assert_eq!(v.len(), 1, "expected one JSON line:\n{}", self.stdout);
        v.into_iter().next().unwrap()
    }
}

/// The CareCommunication rows of a `journal list --json` run: (id, status, transmission),
/// oldest first.
pub fn carecommunication_rows(listed: &Run) -> Vec<(i64, String, i64)> {
    let mut v: Vec<_> = listed
        .json()
        .into_iter()
        .filter(|m| m["kind"] == "gp-carecommunication")
        .map(|m| (m["id"].as_i64().unwrap(), m["status"].as_str().unwrap().to_string(), m["transmission"].as_i64().unwrap()))
        .collect();
    v.sort();
    v
}

/// The SHA-256 of `bytes` in hex, as the journal writes it.
pub fn sha256_hex(bytes: &[u8]) -> String {
    use sha2::Digest;
    sha2::Sha256::digest(bytes).iter().map(|b| format!("{b:02x}")).collect()
}

/// A sample input as JSON, to change for a test.
pub fn sample_json(name: &str) -> serde_json::Value {
    serde_json::from_str(&std::fs::read_to_string(sample(name)).unwrap()).unwrap()
}

/// `n` valid results cycling through the four samples, with result ids `PREFIX-00000`...,
/// one JSON document per element (join with newlines for JSON Lines).
pub fn sample_lines(prefix: &str, n: usize) -> Vec<String> {
    let bases: Vec<serde_json::Value> = SAMPLES.iter().map(|s| sample_json(s)).collect();
    (0..n)
        .map(|i| {
            let mut v = bases[i % 4].clone();
            v["result_id"] = serde_json::json!(format!("{prefix}-{i:05}"));
            v.to_string()
        })
        .collect()
}

/// The names in `dir` (which must exist), sorted.
pub fn names(dir: &Path) -> Vec<String> {
    let mut v: Vec<String> =
        std::fs::read_dir(dir).unwrap().flatten().map(|e| e.file_name().to_string_lossy().into_owned()).collect();
    v.sort();
    v
}

/// Every file under `dir`, relative path and bytes, sorted.
pub fn tree(dir: &Path) -> Vec<(String, Vec<u8>)> {
    let mut out = vec![];
    fn walk(base: &Path, dir: &Path, out: &mut Vec<(String, Vec<u8>)>) {
        for e in std::fs::read_dir(dir).unwrap().flatten() {
            let p = e.path();
            if p.is_dir() {
                walk(base, &p, out);
            } else {
                out.push((p.strip_prefix(base).unwrap().display().to_string(), std::fs::read(&p).unwrap()));
            }
        }
    }
    if dir.exists() {
        walk(dir, dir, &mut out);
    }
    out.sort();
    out
}

/// A program the tests need from Debian's packages. The tests install nothing themselves
/// (that needs root and hides what happened): `scripts/test-deps.sh` does, and a missing tool
/// fails the test with the command that installs it.
pub fn ensure_tool(program: &str, package: &str) -> PathBuf {
    let found = Command::new("sh")
        .arg("-c")
        .arg(format!("command -v {program}"))
        .output()
        .ok()
        .filter(|o| o.status.success())
        .map(|o| PathBuf::from(String::from_utf8_lossy(&o.stdout).trim()));
    found.unwrap_or_else(|| {
        panic!(
            "`{program}` is needed by this test and is not installed: run `bash scripts/test-deps.sh` \
             (as root; it runs `apt-get install {package}`)"
        )
    })
}

/// Runs poppler's `tool` (`pdftotext`, `pdfinfo`, `pdffonts`) with `args` on `pdf`, which
/// must succeed; returns what it printed (`pdftotext` is told to print, with `-`).
pub fn poppler(tool: &str, args: &[&str], pdf: &[u8]) -> String {
    let exe = ensure_tool(tool, "poppler-utils");
    let d = tempfile::tempdir().unwrap();
    let p = d.path().join("letter.pdf");
    std::fs::write(&p, pdf).unwrap();
    let mut c = Command::new(exe);
    c.args(args).arg(&p);
    if tool == "pdftotext" {
        c.arg("-");
    }
    let out = c.output().unwrap();
    assert!(out.status.success(), "{tool}: {}", String::from_utf8_lossy(&out.stderr));
    String::from_utf8(out.stdout).unwrap()
}

/// The PDF inside a MeMo file.
pub fn pdf_of_memo(memo: &[u8]) -> Vec<u8> {
    use base64::Engine;
    let text = std::str::from_utf8(memo).unwrap();
    let start = text.find("<memo:content>").unwrap() + "<memo:content>".len();
    let end = text.find("</memo:content>").unwrap();
    base64::engine::general_purpose::STANDARD.decode(text[start..end].trim()).unwrap()
}

/// A Python with aiosmtpd: FLSPOST_TEST_PYTHON, the system one if it has it, else the venv
/// `scripts/test-deps.sh` makes under target/.
pub fn smtp_python() -> PathBuf {
    static PY: std::sync::OnceLock<PathBuf> = std::sync::OnceLock::new();
    PY.get_or_init(|| {
        let has =
            |py: &Path| Command::new(py).args(["-c", "import aiosmtpd"]).output().is_ok_and(|o| o.status.success());
        if let Some(py) = std::env::var_os("FLSPOST_TEST_PYTHON").map(PathBuf::from) {
            return py;
        }
        let system = PathBuf::from("python3");
        if has(&system) {
            return system;
        }
        let venv = root().join("target/test-venv/bin/python");
        assert!(
            has(&venv),
            "the SMTP tests need Python's aiosmtpd and it is not installed: run `bash scripts/test-deps.sh` \
             (it makes target/test-venv with `pip install aiosmtpd`)"
        );
        venv
    })
    .clone()
}

/// A real SMTP server (aiosmtpd) on 127.0.0.1, stopped when dropped.
pub struct SmtpServer {
    pub port: u16,
    pub dir: PathBuf,
    child: std::process::Child,
}

impl SmtpServer {
    pub fn start(dir: &Path) -> SmtpServer {
        Self::start_with(dir, None)
    }

    /// With `Some((cert, key))`, a server that offers STARTTLS and requires it.
    pub fn start_with(dir: &Path, tls: Option<(&Path, &Path)>) -> SmtpServer {
        let port = free_port();
        let mut cmd = Command::new(smtp_python());
        cmd.arg(root().join("tests/support/smtp_server.py")).arg(port.to_string()).arg(dir);
        if let Some((cert, key)) = tls {
            cmd.arg(cert).arg(key);
        }
        let mut child = cmd.stdout(Stdio::piped()).spawn().unwrap();
        let mut line = String::new();
        use std::io::BufRead;
        std::io::BufReader::new(child.stdout.take().unwrap()).read_line(&mut line).unwrap();
        assert_eq!(line.trim(), "ready", "SMTP server did not start");
        SmtpServer { port, dir: dir.to_path_buf(), child }
    }

    pub fn set_mode(&self, mode: &str) {
        std::fs::write(self.dir.join("mode"), mode).unwrap();
    }

    /// Attachments received, in arrival order: (file name, bytes).
    pub fn attachments(&self) -> Vec<(String, Vec<u8>)> {
        let mut v: Vec<(u32, String, Vec<u8>)> = std::fs::read_dir(&self.dir)
            .unwrap()
            .flatten()
            .filter_map(|e| {
                let name = e.file_name().to_string_lossy().to_string();
                let rest = name.strip_prefix("mail-")?;
                let (n, file) = rest.split_once('-')?;
                Some((n.parse().ok()?, file.to_string(), std::fs::read(e.path()).ok()?))
            })
            .collect();
        v.sort();
        v.into_iter().map(|(_, f, b)| (f, b)).collect()
    }

    pub fn mails(&self) -> usize {
        std::fs::read_dir(&self.dir)
            .unwrap()
            .flatten()
            .filter(|e| e.file_name().to_string_lossy().ends_with(".eml"))
            .count()
    }
}

impl Drop for SmtpServer {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// A test certificate authority (as a hospital's own) and a server certificate it signed for
/// `localhost` and 127.0.0.1, made by openssl in `w`.
pub struct TestCa {
    pub ca: PathBuf,
    pub cert: PathBuf,
    pub key: PathBuf,
}

pub fn test_ca(w: &World) -> TestCa {
    let openssl = ensure_tool("openssl", "openssl");
    let (ca, ca_key, cert, key, csr, ext) = (
        w.path("ca.pem"),
        w.path("ca.key"),
        w.path("cert.pem"),
        w.path("key.pem"),
        w.path("server.csr"),
        w.path("ext.cnf"),
    );
    std::fs::write(&ext, "subjectAltName=DNS:localhost,IP:127.0.0.1\nbasicConstraints=CA:FALSE\n").unwrap();
    let run = |args: &[&str]| {
        let out = Command::new(&openssl).args(args).output().unwrap();
        assert!(out.status.success(), "openssl: {}", String::from_utf8_lossy(&out.stderr));
    };
    let p = |p: &PathBuf| p.to_str().unwrap().to_string();
    let (ca_s, ca_key_s, cert_s, key_s, csr_s, ext_s) = (p(&ca), p(&ca_key), p(&cert), p(&key), p(&csr), p(&ext));
    run(&[
        "req",
        "-x509",
        "-newkey",
        "rsa:2048",
        "-nodes",
        "-days",
        "2",
        "-subj",
        "/CN=flspost test CA",
        "-keyout",
        &ca_key_s,
        "-out",
        &ca_s,
    ]);
    run(&["req", "-newkey", "rsa:2048", "-nodes", "-subj", "/CN=localhost", "-keyout", &key_s, "-out", &csr_s]);
    run(&[
        "x509",
        "-req",
        "-in",
        &csr_s,
        "-CA",
        &ca_s,
        "-CAkey",
        &ca_key_s,
        "-CAcreateserial",
        "-days",
        "2",
        "-extfile",
        &ext_s,
        "-out",
        &cert_s,
    ]);
    TestCa { ca, cert, key }
}

/// A port on 127.0.0.1 nothing listens on (right now).
pub fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port()
}

/// A MedCom receipt as a receiver's system writes it (ISO-8859-1).
pub fn receipt(kind: &str, own: &str, orig_env: &str, orig_letter: &str, refuse: Option<(&str, &str)>) -> Vec<u8> {
    let (root, version) = match kind {
        "XCTL01" => ("NegativeVansReceipt", "XC0130Q"),
        "XCTL02" => ("NegativeReceipt", "XC0230Q"),
        _ => ("PositiveReceipt", "XC0330Q"),
    };
    let refuse =
        refuse.map(|(c, t)| format!("<RefuseCode>{c}</RefuseCode><RefuseText>{t}</RefuseText>")).unwrap_or_default();
    let xml = format!(
        r#"<?xml version="1.0" encoding="ISO-8859-1"?>
<Emessage xmlns="http://rep.oio.dk/sundcom.dk/medcom.dk/xml/schemas/2005/08/07/">
  <Envelope><Sent><Date>2025-03-21</Date><Time>08:15</Time></Sent><Identifier>K{own}</Identifier><AcknowledgementCode>minuspositivkvitt</AcknowledgementCode></Envelope>
  <{root}>
    <Letter><Identifier>B{own}</Identifier><VersionCode>{version}</VersionCode><StatisticalCode>{kind}</StatisticalCode></Letter>
    <Sender><EANIdentifier>5790000128686</EANIdentifier></Sender>
    <Receiver><EANIdentifier>5790002727016</EANIdentifier></Receiver>
    <OriginalEmessage>
      <OriginalEnvelopeIdentifier>{orig_env}</OriginalEnvelopeIdentifier>
      <OriginalSender><EANIdentifier>5790002727016</EANIdentifier></OriginalSender>
      <OriginalReceiver><EANIdentifier>5790000128686</EANIdentifier></OriginalReceiver>
      <OriginalLetter><OriginalLetterIdentifier>{orig_letter}</OriginalLetterIdentifier><OriginalVersionCode>XD9134L</OriginalVersionCode>{refuse}</OriginalLetter>
    </OriginalEmessage>
  </{root}>
</Emessage>
"#
    );
    xml.chars().map(|c| u8::try_from(c as u32).unwrap()).collect()
}

/// A lower-case UUID (version 4 form) made from `n`, for the identifiers of a test's
/// Acknowledgements.
pub fn uuid(n: u32) -> String {
    format!("{n:08x}-a11c-4ac4-8ac4-{n:012x}")
}

/// An `OperationOutcome.issue` coded from MedCom's issue-details value set, with its text.
pub fn ack_issue(details_code: &str, text: &str) -> String {
    format!(
        r#"<issue><severity value="error"/><code value="processing"/><details><coding><system value="http://medcomfhir.dk/ig/terminology/CodeSystem/medcom-acknowledgement-issue-details"/><code value="{details_code}"/></coding><text value="{text}"/></details></issue>"#
    )
}

/// An `OperationOutcome.issue` with only FHIR's issue code and a `diagnostics` text.
pub fn ack_issue_plain(code: &str, diagnostics: &str) -> String {
    format!(r#"<issue><severity value="error"/><code value="{code}"/><diagnostics value="{diagnostics}"/></issue>"#)
}

/// A MedCom FHIR Acknowledgement (IG medcom.fhir.dk.acknowledgement) from the GP of the
/// samples (GLN 5790000128686) to the sending hospital (GLN 5790002727016), built like
/// MedCom's example `Flow2-Acknowledgement_Ex_to_OIOXML.xml`: its own Bundle.id and
/// MessageHeader.id, `response.identifier` = `acknowledges` (our MessageHeader.id) with
/// `code`, the copy of our Provenance and the acknowledgement Provenance, both
/// Organizations, and an OperationOutcome with `issues` when any are given. The copy is of
/// a transmission sent at [`FAKE_NOW`] (`2025-03-20T10:30:00+01:00`), the first one in most
/// tests; [`acknowledgement_of`] answers another.
pub fn acknowledgement(code: &str, bundle_id: &str, header_id: &str, acknowledges: &str, issues: &[String]) -> Vec<u8> {
    acknowledgement_of(code, bundle_id, header_id, acknowledges, "2025-03-20T10:30:00+01:00", issues)
}

/// [`acknowledgement`] of the transmission whose Provenance time is `sent` (its copy of our
/// Provenance carries it: that is how it names the transmission it answers).
pub fn acknowledgement_of(
    code: &str,
    bundle_id: &str,
    header_id: &str,
    acknowledges: &str,
    sent: &str,
    issues: &[String],
) -> Vec<u8> {
    let div = |text: &str| {
        format!(
            r#"<text><status value="generated"/><div xmlns="http://www.w3.org/1999/xhtml"><p>{text}</p></div></text>"#
        )
    };
    let (us, gp) = ("75b01d94-009a-45c8-a195-c0e0a60bacc9", "0fe78a1e-99dd-41bc-aa30-7e35f37e3e2d");
    let outcome_id = "4f7c5b2e-8a8b-4a5e-9a43-2f1d3c4b5a6e";
    let details = if issues.is_empty() {
        String::new()
    } else {
        format!(r#"<details><reference value="OperationOutcome/{outcome_id}"/></details>"#)
    };
    let outcome = if issues.is_empty() {
        String::new()
    } else {
        format!(
            r#"<entry><fullUrl value="OperationOutcome/{outcome_id}"/><resource><OperationOutcome><id value="{outcome_id}"/>{}{}</OperationOutcome></resource></entry>"#,
            div("Acknowledgement issues"),
            issues.concat()
        )
    };
    let org = |id: &str, gln: &str, sor: &str| {
        format!(
            r#"<entry><fullUrl value="Organization/{id}"/><resource><Organization><id value="{id}"/><meta><profile value="http://medcomfhir.dk/ig/messaging/StructureDefinition/medcom-messaging-organization"/></meta>{}<identifier><system value="https://www.gs1.org/gln"/><value value="{gln}"/></identifier><identifier><system value="urn:oid:1.2.208.176.1.1"/><value value="{sor}"/></identifier></Organization></resource></entry>"#,
            div(&format!("Organization {gln}"))
        )
    };
    let xml = format!(
        r#"<?xml version="1.0" encoding="UTF-8"?>
<Bundle xmlns="http://hl7.org/fhir">
  <id value="{bundle_id}"/>
  <meta><profile value="http://medcomfhir.dk/ig/acknowledgement/StructureDefinition/medcom-messaging-acknowledgement"/></meta>
  <type value="message"/>
  <timestamp value="2025-03-20T10:45:00+01:00"/>
  <entry><fullUrl value="MessageHeader/{header_id}"/><resource><MessageHeader><id value="{header_id}"/><meta><profile value="http://medcomfhir.dk/ig/acknowledgement/StructureDefinition/medcom-messaging-acknowledgementHeader"/></meta>{head_text}<eventCoding><system value="http://medcomfhir.dk/ig/terminology/CodeSystem/medcom-messaging-eventCodes"/><code value="acknowledgement-message"/></eventCoding><destination><extension url="http://medcomfhir.dk/ig/messaging/StructureDefinition/medcom-messaging-destinationUseExtension"><valueCoding><system value="http://medcomfhir.dk/ig/terminology/CodeSystem/medcom-messaging-destinationUse"/><code value="primary"/></valueCoding></extension><endpoint value="https://sor2.sum.dsdn.dk/#id=265281000016008"/><receiver><reference value="Organization/{us}"/></receiver></destination><sender><reference value="Organization/{gp}"/></sender><source><endpoint value="https://sor2.sum.dsdn.dk/#id=1017421000016003"/></source><response><identifier value="{acknowledges}"/><code value="{code}"/>{details}</response></MessageHeader></resource></entry>
  <entry><fullUrl value="Provenance/844b884e-390e-42c9-9de0-7cb82b9aebfa"/><resource><Provenance><id value="844b884e-390e-42c9-9de0-7cb82b9aebfa"/><meta><profile value="http://medcomfhir.dk/ig/messaging/StructureDefinition/medcom-messaging-provenance"/></meta>{prov1_text}<target><reference value="MessageHeader/{acknowledges}"/></target><occurredDateTime value="{sent}"/><recorded value="{sent}"/><activity><coding><system value="http://medcomfhir.dk/ig/terminology/CodeSystem/medcom-messaging-activityCodes"/><code value="new-message"/></coding></activity><agent><who><reference value="Organization/{us}"/></who></agent></Provenance></resource></entry>
  <entry><fullUrl value="Provenance/900cb30b-fb71-4bb0-80d1-3cf503be03e3"/><resource><Provenance><id value="900cb30b-fb71-4bb0-80d1-3cf503be03e3"/><meta><profile value="http://medcomfhir.dk/ig/messaging/StructureDefinition/medcom-messaging-provenance"/></meta>{prov2_text}<target><reference value="MessageHeader/{header_id}"/></target><occurredDateTime value="2025-03-20T10:45:00+01:00"/><recorded value="2025-03-20T10:45:00+01:00"/><activity><coding><system value="http://medcomfhir.dk/ig/terminology/CodeSystem/medcom-messaging-activityCodes"/><code value="acknowledgement"/></coding></activity><agent><who><reference value="Organization/{gp}"/></who></agent><entity><role value="revision"/><what><reference value="MessageHeader/{acknowledges}"/></what></entity></Provenance></resource></entry>
  {org_us}
  {org_gp}
  {outcome}
</Bundle>
"#,
        head_text = div(&format!("Acknowledgement {code} of {acknowledges}")),
        prov1_text = div("A new message has been sent"),
        prov2_text = div("Acknowledgement message has been sent"),
        org_us = org(us, "5790002727016", "265281000016008"),
        org_gp = org(gp, "5790000128686", "1017421000016003"),
    );
    xml.into_bytes()
}

/// `bundle` (an Acknowledgement, Bundle.id `bundle_id`, response code `code`) in the
/// VANSEnvelope it arrives in over VANS, from the GP to the hospital.
pub fn in_vans_envelope(bundle: &[u8], bundle_id: &str, code: &str) -> Vec<u8> {
    use base64::Engine;
    let data = base64::engine::general_purpose::STANDARD.encode(bundle);
    format!(
        r#"<?xml version="1.0" encoding="UTF-8"?>
<VANSEnvelope xmlns="urn:oio:medcom:vans-envelope:1.0.4">
  <SenderID EndPointType="EAN">5790000128686</SenderID>
  <ReceiverID EndPointType="EAN">5790002727016</ReceiverID>
  <EnvelopeIdentifier>{bundle_id}</EnvelopeIdentifier>
  <SentDateTime>2025-03-20T10:45:00+01:00</SentDateTime>
  <Message>
    <MetaInformation>
      <Identifier>{bundle_id}</Identifier>
      <Document><Format>HL7</Format><Name>MCM:FCTL#{code}</Name><Version>1.0</Version><SizeInBytes>{}</SizeInBytes></Document>
      <Transport><Type>reliable</Type><TransformMessage>false</TransformMessage><ServiceTag name="MCM:MIME">application/fhir+xml</ServiceTag></Transport>
    </MetaInformation>
    <Data>{data}</Data>
  </Message>
</VANSEnvelope>
"#,
        bundle.len()
    )
    .into_bytes()
}

/// The FHIR Bundle inside a VANSEnvelope's `Message/Data`, decoded.
pub fn bundle_in_envelope(envelope: &[u8]) -> Vec<u8> {
    use base64::Engine;
    let text = std::str::from_utf8(envelope).unwrap();
    let start = text.find("<Data>").unwrap() + "<Data>".len();
    let end = text.find("</Data>").unwrap();
    let compact: String = text[start..end].chars().filter(|c| !c.is_ascii_whitespace()).collect();
    base64::engine::general_purpose::STANDARD.decode(compact).unwrap()
}

/// The `value` of the first `<NAME value="..."/>` after the first `<AFTER>` in a FHIR XML
/// text: e.g. `fhir_value(b, "MessageHeader", "id")`, `fhir_value(b, "Bundle", "id")`.
pub fn fhir_value(bundle: &[u8], after: &str, name: &str) -> String {
    let text = std::str::from_utf8(bundle).unwrap();
    let from = text.find(&format!("<{after}")).unwrap();
    let rest = &text[from..];
    let at = rest.find(&format!("<{name} value=\"")).unwrap() + name.len() + 9;
    rest[at..at + rest[at..].find('"').unwrap()].to_string()
}

/// MedCom's Acknowledgement example `Bundle-<name>.json` from the IG package
/// `medcom.fhir.dk.acknowledgement-2.0.3.tgz` in `../shared/reference` (unpacked once, with
/// `tar`, under target/), made to answer our letter `acknowledges` (transmission sent at
/// `sent`) from the samples' GP to the hospital, with its own ids `bundle_id` and `header_id`:
/// the JSON a GP system on FHIR JSON returns. `None` without the reference material.
pub fn medcom_json_ack(
    name: &str,
    bundle_id: &str,
    header_id: &str,
    acknowledges: &str,
    sent: &str,
) -> Option<Vec<u8>> {
    let package = reference()?.join("medcom-fhir/fhir-packages/medcom.fhir.dk.acknowledgement-2.0.3.tgz");
    static DIR: std::sync::OnceLock<PathBuf> = std::sync::OnceLock::new();
    let dir = DIR.get_or_init(|| {
        let dir = root().join("target/medcom-acknowledgement-2.0.3");
        if !dir.join("package/example").is_dir() {
            std::fs::create_dir_all(&dir).unwrap();
            let tar = ensure_tool("tar", "tar");
            let ok = Command::new(tar).arg("xzf").arg(&package).arg("-C").arg(&dir).status().unwrap();
            assert!(ok.success(), "tar xzf {}", package.display());
        }
        dir
    });
    let file = dir.join(format!("package/example/Bundle-{name}.json"));
    let text = std::fs::read_to_string(&file).unwrap();
    // Edited as text: the keys keep MedCom's order (a serde_json Value would sort them).
    let v: serde_json::Value = serde_json::from_str(&text).unwrap();
    let header = &v["entry"][0]["resource"];
    let (own_bundle, own_header) = (v["id"].as_str().unwrap(), header["id"].as_str().unwrap());
    let answered = header["response"]["identifier"].as_str().unwrap();
    let text = text
        .replace(own_bundle, bundle_id)
        .replace(own_header, header_id)
        .replace(answered, acknowledges)
        // The copy of the answered message's Provenance names it by another id in two examples.
        .replace("42cb9200-f421-4d08-8391-7d51a2503cb4", acknowledges)
        .replace("2022-09-01T12:01:20+02:00", sent)
        // The example's sender (the GP) and receiver (us), as the samples have them.
        .replace("5790001348120", "5790000128686")
        .replace("5790000209354", "5790002727016");
    Some(text.into_bytes())
}

/// `bundle` (FHIR JSON) in a VANSEnvelope as [`in_vans_envelope`] makes one, its ServiceTag
/// `application/fhir+json`.
pub fn in_vans_envelope_json(bundle: &[u8], bundle_id: &str, code: &str) -> Vec<u8> {
    let xml = String::from_utf8(in_vans_envelope(bundle, bundle_id, code)).unwrap();
    xml.replace("application/fhir+xml", "application/fhir+json").into_bytes()
}
