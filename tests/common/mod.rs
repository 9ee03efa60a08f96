//! Helpers shared by the integration tests: running the real `flspost` binary against a
//! private journal and output folder, and finding the reference material in `../shared`.
#![allow(dead_code)]

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

/// A private world for one test: its own journal, output folder and scratch space.
pub struct World {
    pub dir: tempfile::TempDir,
    pub fake_now: Option<String>,
}

impl World {
    pub fn new() -> World {
        World { dir: tempfile::tempdir().unwrap(), fake_now: Some(FAKE_NOW.to_string()) }
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
        c.env("FLSPOST_JOURNAL", self.journal());
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
    /// came from FLSPOST_JOURNAL; `tests/first_hour.rs` checks that line), so tests can
    /// count the lines that are about their case.
    fn quiet(&self, mut r: Run) -> Run {
        let line = format!("flspost: journal {} (from FLSPOST_JOURNAL", self.journal().display());
        let named = |l: &str| l.strip_prefix(&line).is_some_and(|rest| rest == ")" || rest == ", new: creating it)");
        r.stderr = r.stderr.lines().filter(|l| !named(l)).map(|l| format!("{l}\n")).collect();
        r
    }

    /// The run as the process wrote it.
    pub fn run_raw(&self, args: &[&str]) -> Run {
        Run::from(self.cmd().args(args).output().unwrap())
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

/// The FHIR Bundle inside a VANSEnvelope (`Message/Data`, base64).
pub fn bundle_of_envelope(envelope: &[u8]) -> Vec<u8> {
    use base64::Engine;
    let text = std::str::from_utf8(envelope).unwrap();
    let start = text.find("<Data>").expect("an envelope with Data") + "<Data>".len();
    let end = text.find("</Data>").unwrap();
    let b64: String = text[start..end].chars().filter(|c| !c.is_ascii_whitespace()).collect();
    base64::engine::general_purpose::STANDARD.decode(b64).unwrap()
}
