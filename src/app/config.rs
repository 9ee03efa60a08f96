//! The TOML configuration file (`--config FILE` or `FLSPOST_CONFIG`). Every table is
//! optional; without a file flspost uses the region's rollout policy, the shipped letter
//! wording and the default journal, and has no transports.
//!
//! ```toml
//! journal = "/var/lib/flspost/journal.sqlite"   # or a [journal] table:
//! # [journal]
//! # path = "/var/lib/flspost/journal.sqlite"
//! # busy_timeout_seconds = 30                   # the longest wait for another process
//! # backup_before_migrate = true                # a verified copy beside it before a migration
//! # Or a PostgreSQL database several hosts share (instead of path):
//! # url = "postgresql://flspost@db.region.dk/flspost"
//! # password_file = "/etc/flspost/pg-password"  # owner-only; or password_env = "FLSPOST_PG_PASSWORD"
//! # ca_file = "/etc/flspost/db-ca.pem"          # TLS to the server, its certificate checked
//! # lease_seconds = 300                         # a claimed hand-over another host may take over after
//! templates = "/etc/flspost/templates"     # overrides, file by file
//!
//! [policy]                                 # site = first date, or false
//! RANDERS = "2026-03-01"
//!
//! [send]
//! max_attempts = 5                         # transient failures before `failed`
//! hold_after_identical_permanent = 3       # identical permanent replies (5xx) for this many
//!                                          # different receivers in a row hold that
//!                                          # transport's queue instead of failing the letters
//!                                          # (0: off, each 5xx fails its letter; 1 is refused)
//!
//! [transport.gp]                           # XDIS91 to the GP, via VANS
//! type = "smtp"
//! url = "smtp://vans.example.dk:25?tls=required"
//! from = "fls@hospital.example.dk"
//! to = "edi@vans.example.dk"
//! username = "fls"                          # optional
//! password_env = "FLSPOST_SMTP_PASSWORD"    # optional: read from this variable
//! ca_file = "vans-ca.pem"                   # optional: a CA beyond the system's trust store
//! timeout_seconds = 30
//!
//! [transport.patient]                      # the patient's letter
//! type = "outbox"
//! dir = "/var/spool/flspost/digitalpost"
//! handoff = "memo"                         # "memo": MeMo to a Digital Post client (default);
//!                                          # "kombi": SF1601 request, Digital Post or print
//! print_type_id = 123                      # kombi only, optional: ForsendelseTypeIdentifikator
//!
//! [patient_letter]
//! large_print = false                      # 14 pt for every patient (input can say per patient)
//!
//! [gp]                                     # which format each GP's copy travels in
//! receivers = "/etc/flspost/receivers.csv" # SOR-EDI export: EAN, SOR, accepted formats
//! default_format = "xdis91"                # for a GP not in the table: "xdis91" or
//!                                          # "carecommunication"
//! attach_pdf = false                       # CareCommunication: the patient's PDF attached
//!
//! [resend]                                 # MedCom's texts disagree; each left out: the
//!                                          # strictest (governance 020/043)
//! preset = "governance"                    # or "certification" (test protocol 2.0.4: 30, 3,
//!                                          # automatic) or "region" (VANS conversion use
//!                                          # cases §4.5: 120, 3, automatic); keys below win
//! after_minutes = 30                       # no answer this long after the hand-over:
//!                                          # unanswered, a resend allowed (30 to 10080)
//! max_resends = 2                          # resends of one message at most (0 to 3)
//! unanswered = "manual"                    # "automatic": `flspost resend-due` resends
//! xdis91_positive = "expected"             # "optional": an XDIS91 letter without a
//!                                          # positive XCTL is no one's problem (many GP
//!                                          # systems send none); XDIS91 is never resent
//!
//! [retention]                              # `journal prune`; each left out: kept for ever
//! bytes_days = 90                          # message bytes, days after the result's letters
//!                                          # are all final (acknowledged, superseded, handled)
//! inputs_days = 90                         # the inputs (JSON as received), likewise
//! archive_dir = "/var/lib/flspost/archive" # optional: each pruned message's bytes go here
//!                                          # first, one owner-only file per message
//!
//! [server]                                 # `flspost serve`: the support console, /healthz, /metrics
//! listen = "127.0.0.1:8470"                # the default; any other address needs TLS:
//! tls_cert = "/etc/flspost/console.pem"    # certificate chain (PEM) and
//! tls_key = "/etc/flspost/console.key"     # its private key (PEM), served with rustls
//! behind_tls_proxy = false                 # or: a reverse proxy on this host terminates TLS
//!                                          # (then cookies are Secure; listen stays as given)
//! idle_timeout_minutes = 30                # a session unused this long signs out
//! max_body_kib = 2048                      # the largest request body (an uploaded receipt)
//! max_concurrent_requests = 32             # more wait; each request at most
//! request_timeout_seconds = 30
//! log = "text"                             # or "json": one JSON object per line on stderr
//! ```

use crate::compose::routing::{GpRouting, ReceiverTable};
use crate::error::{Error, Result};
use crate::model::policy::RolloutPolicy;
use crate::model::GpFormat;
use crate::model::Site;
use crate::reliable::resend::{Policy, Unanswered, Xdis91Positive};
use crate::transport::{self, Transport};
use chrono::NaiveDate;
use serde::Deserialize;
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Config {
    #[serde(default)]
    pub journal: JournalConfig,
    pub templates: Option<PathBuf>,
    #[serde(default)]
    pub policy: BTreeMap<String, PolicyEntry>,
    #[serde(default)]
    pub send: SendConfig,
    #[serde(default)]
    pub transport: Transports,
    #[serde(default)]
    pub patient_letter: PatientLetterConfig,
    #[serde(default)]
    pub gp: GpConfig,
    #[serde(default)]
    pub retention: RetentionConfig,
    #[serde(default)]
    pub resend: ResendConfig,
    #[serde(default)]
    pub server: ServerConfig,
    /// Where the file was read from (relative paths in it are relative to its folder).
    #[serde(skip)]
    pub source: Option<PathBuf>,
}

/// `[server]`: how `flspost serve` listens and bounds what a request can cause.
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ServerConfig {
    /// `host:port`; 127.0.0.1:8470 when absent.
    pub listen: Option<String>,
    pub tls_cert: Option<PathBuf>,
    pub tls_key: Option<PathBuf>,
    /// The config's statement that a reverse proxy terminates TLS in front of this server.
    #[serde(default)]
    pub behind_tls_proxy: bool,
    pub idle_timeout_minutes: Option<u64>,
    pub max_body_kib: Option<u64>,
    pub max_concurrent_requests: Option<usize>,
    pub request_timeout_seconds: Option<u64>,
    /// `text` (the default) or `json`.
    pub log: Option<String>,
    /// `[server.intake]`: results taken over HTTP as `generate` takes them; absent: off.
    pub intake: Option<IntakeConfig>,
}

/// `[server.intake]`: who may hand results to the resident intake, and where. On TCP a
/// request needs the bearer token (from `token_file` or the environment variable
/// `token_env`); on the Unix `socket` its permissions (owner-only) are the access.
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct IntakeConfig {
    pub token_file: Option<PathBuf>,
    pub token_env: Option<String>,
    pub socket: Option<PathBuf>,
    /// Copies of the messages, as `generate --out-dir DIR` writes them.
    pub out_dir: Option<PathBuf>,
    /// Results in one request at most (a JSON Lines batch); 1000 when absent.
    pub max_results: Option<usize>,
}

impl ServerConfig {
    /// The address `flspost serve` listens on when the config names none.
    pub const DEFAULT_LISTEN: &'static str = "127.0.0.1:8470";
}

/// `journal = "PATH"`, or a `[journal]` table with `path` and `busy_timeout_seconds`.
#[derive(Debug, Default)]
pub struct JournalConfig {
    pub path: Option<PathBuf>,
    /// How long a command waits, each time it must, for a journal another process holds;
    /// past it the command fails with `journal_busy` (exit 1) and records nothing.
    pub busy_timeout: Option<std::time::Duration>,
    /// Whether a migration first copies the journal beside itself (`journal.sqlite.v3.bak`,
    /// verified); `None`: yes.
    pub backup_before_migrate: Option<bool>,
    /// A PostgreSQL journal instead of a file: `postgresql://user@host[:port]/database`.
    pub url: Option<String>,
    /// The PostgreSQL password: the name of an environment variable that holds it, or an
    /// owner-only file.
    pub password_env: Option<String>,
    pub password_file: Option<PathBuf>,
    /// TLS to the PostgreSQL server, whose certificate this CA must have signed.
    pub ca_file: Option<PathBuf>,
    /// `tls = false`: plain text to a PostgreSQL server on another host, on purpose.
    pub tls: Option<bool>,
    /// How long a `send` on a shared journal holds a hand-over it claimed before another
    /// host may take it over as cut short (seconds; longer than any transport's timeout).
    pub lease: Option<std::time::Duration>,
}

impl JournalConfig {
    /// The longest wait for a busy journal: the config's, else
    /// [`crate::journal::DEFAULT_BUSY_TIMEOUT`].
    pub fn busy_timeout(&self) -> std::time::Duration {
        self.busy_timeout.unwrap_or(crate::journal::DEFAULT_BUSY_TIMEOUT)
    }

    /// Whether a migration backs the journal up first (yes, unless the config says false).
    pub fn backup_before_migrate(&self) -> bool {
        self.backup_before_migrate.unwrap_or(true)
    }

    /// The claim's lease on a shared journal: the config's, else five minutes.
    pub fn lease(&self) -> std::time::Duration {
        self.lease.unwrap_or(std::time::Duration::from_secs(300))
    }

    /// How to reach a PostgreSQL journal: the password (from the environment variable or the
    /// owner-only file the config names) and the CA file for TLS.
    pub fn pg_access(&self) -> Result<crate::journal::PgAccess> {
        let password = match (&self.password_env, &self.password_file) {
            (Some(_), Some(_)) => {
                return Err(Error::Usage("[journal]: password_env or password_file, not both".into()))
            }
            (Some(var), None) => Some(std::env::var(var).map_err(|_| {
                Error::Usage(format!("[journal] password_env: the environment variable {var} is not set"))
            })?),
            (None, Some(file)) => Some(read_secret(file)?),
            (None, None) => None,
        };
        if self.tls == Some(false) && self.ca_file.is_some() {
            return Err(Error::Usage("[journal]: ca_file (TLS) or tls = false, not both".into()));
        }
        Ok(crate::journal::PgAccess { password, ca_file: self.ca_file.clone(), plaintext: self.tls == Some(false) })
    }
}

/// A secret from an owner-only file, without its final line break.
fn read_secret(path: &Path) -> Result<String> {
    use std::os::unix::fs::{OpenOptionsExt, PermissionsExt};
    let file = std::fs::OpenOptions::new()
        .read(true)
        .custom_flags(libc::O_NOFOLLOW | libc::O_NONBLOCK)
        .open(path)
        .map_err(|e| Error::io(path, e))?;
    let meta = file.metadata().map_err(|e| Error::io(path, e))?;
    if !meta.is_file() || meta.permissions().mode() & 0o077 != 0 {
        return Err(Error::Usage(format!(
            "[journal] password_file {}: must be a regular file only its owner may read (chmod 600)",
            path.display()
        )));
    }
    let mut text = String::new();
    std::io::Read::read_to_string(&mut std::io::Read::take(file, 4096), &mut text).map_err(|e| Error::io(path, e))?;
    Ok(text.trim_end_matches(['\n', '\r']).to_string())
}

impl<'de> Deserialize<'de> for JournalConfig {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> std::result::Result<Self, D::Error> {
        use serde::de::Error as _;
        #[derive(Deserialize)]
        #[serde(deny_unknown_fields)]
        struct Table {
            path: Option<PathBuf>,
            busy_timeout_seconds: Option<f64>,
            backup_before_migrate: Option<bool>,
            url: Option<String>,
            password_env: Option<String>,
            password_file: Option<PathBuf>,
            ca_file: Option<PathBuf>,
            tls: Option<bool>,
            lease_seconds: Option<u64>,
        }
        // Through a value, not an untagged enum, so a typo in the table keeps serde's words.
        match toml::Value::deserialize(d)? {
            toml::Value::String(p) if p.starts_with("postgresql://") || p.starts_with("postgres://") => {
                Ok(JournalConfig { url: Some(p), ..JournalConfig::default() })
            }
            toml::Value::String(p) => Ok(JournalConfig { path: Some(PathBuf::from(p)), ..JournalConfig::default() }),
            v @ toml::Value::Table(_) => {
                let t = Table::deserialize(v).map_err(D::Error::custom)?;
                let busy_timeout = match t.busy_timeout_seconds {
                    None => None,
                    // An hour at most: a gateway needs an answer, and SQLite takes milliseconds.
                    Some(s) if s.is_finite() && (0.0..=3600.0).contains(&s) => {
                        Some(std::time::Duration::from_secs_f64(s))
                    }
                    Some(_) => {
                        return Err(D::Error::custom("busy_timeout_seconds: a number of seconds from 0 to 3600"))
                    }
                };
                if t.path.is_some() && t.url.is_some() {
                    return Err(D::Error::custom("journal: path (an SQLite file) or url (PostgreSQL), not both"));
                }
                let lease = match t.lease_seconds {
                    None => None,
                    Some(s @ 10..=86_400) => Some(std::time::Duration::from_secs(s)),
                    Some(_) => return Err(D::Error::custom("lease_seconds: from 10 to 86400")),
                };
                Ok(JournalConfig {
                    path: t.path,
                    busy_timeout,
                    backup_before_migrate: t.backup_before_migrate,
                    url: t.url,
                    password_env: t.password_env,
                    password_file: t.password_file,
                    ca_file: t.ca_file,
                    tls: t.tls,
                    lease,
                })
            }
            _ => Err(D::Error::custom(
                "journal: a path, or a [journal] table with path, busy_timeout_seconds and backup_before_migrate",
            )),
        }
    }
}

/// `[retention]`: how long a final result's message bytes and inputs are kept (`journal
/// prune`); the metadata is kept for ever. Without a value, kept for ever.
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RetentionConfig {
    pub bytes_days: Option<u32>,
    pub inputs_days: Option<u32>,
    pub archive_dir: Option<PathBuf>,
}

impl RetentionConfig {
    /// The cut-offs at `now`, as the journal's times are written.
    pub fn at(&self, now: chrono::DateTime<chrono::Utc>) -> crate::journal::Retention {
        let before = |days: Option<u32>| {
            days.map(|d| {
                (now - chrono::Duration::days(i64::from(d))).to_rfc3339_opts(chrono::SecondsFormat::Millis, true)
            })
        };
        crate::journal::Retention { bytes_before: before(self.bytes_days), inputs_before: before(self.inputs_days) }
    }
}

/// `[resend]`: MedCom's resend policy where its texts disagree ([`Policy`] cites each source).
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ResendConfig {
    /// `governance` (the default), `certification` or `region`: the values each source gives.
    pub preset: Option<String>,
    pub after_minutes: Option<u32>,
    pub max_resends: Option<u32>,
    pub unanswered: Option<Unanswered>,
    /// `expected` (the default) or `optional` ([`Xdis91Positive`] cites both readings).
    pub xdis91_positive: Option<Xdis91Positive>,
}

impl ResendConfig {
    /// The policy: the preset's values, each key given overriding its own; `Err` names the key.
    pub fn policy(&self) -> std::result::Result<Policy, String> {
        let base = match self.preset.as_deref() {
            None => Policy::default(),
            Some(name) => Policy::preset(name).ok_or_else(|| {
                format!("resend.preset `{name}`: expected \"governance\", \"certification\" or \"region\"")
            })?,
        };
        let p = Policy {
            after_minutes: self.after_minutes.unwrap_or(base.after_minutes),
            max_resends: self.max_resends.unwrap_or(base.max_resends),
            unanswered: self.unanswered.unwrap_or(base.unanswered),
            xdis91_positive: self.xdis91_positive.unwrap_or(base.xdis91_positive),
        };
        // No MedCom text allows a resend sooner than 30 minutes or more than 3 resends; a week
        // without an answer is a case for a person, not a timer.
        if !(30..=10080).contains(&p.after_minutes) {
            return Err(format!(
                "resend.after_minutes = {}: from 30 (MedCom's shortest wait, 020/043 and the test protocol) to \
                 10080 (a week)",
                p.after_minutes
            ));
        }
        if p.max_resends > 3 {
            return Err(format!(
                "resend.max_resends = {}: at most 3 (the test protocol and the regions' practice; MedCom's \
                 governance says 2)",
                p.max_resends
            ));
        }
        Ok(p)
    }
}

#[derive(Debug, Deserialize)]
#[serde(untagged)]
pub enum PolicyEntry {
    Start(NaiveDate),
    Enabled(bool),
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SendConfig {
    #[serde(default = "default_max_attempts")]
    pub max_attempts: u32,
    /// How many different receivers a run of identical permanent replies from one transport
    /// must cover to hold that transport's queue ([`crate::app::send::hold`]); 0 turns the
    /// rule off.
    #[serde(default = "default_hold_after")]
    pub hold_after_identical_permanent: u32,
}

impl Default for SendConfig {
    fn default() -> Self {
        SendConfig { max_attempts: default_max_attempts(), hold_after_identical_permanent: default_hold_after() }
    }
}

fn default_max_attempts() -> u32 {
    5
}

fn default_hold_after() -> u32 {
    3
}

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PatientLetterConfig {
    /// Large print (14 pt body text) for every patient; an input's `patient.large_print`
    /// decides for its own patient.
    #[serde(default)]
    pub large_print: bool,
}

/// `[gp]`: which format each GP gets (see [`crate::compose::routing`]) and what goes with it.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct GpConfig {
    /// The receiver table (a CSV export of SOR-EDI).
    pub receivers: Option<PathBuf>,
    /// The format for a GP the table does not list (or every GP, without a table).
    #[serde(default = "default_gp_format")]
    pub default_format: GpFormat,
    /// Attach the patient's PDF letter to a CareCommunication.
    #[serde(default)]
    pub attach_pdf: bool,
}

impl Default for GpConfig {
    fn default() -> Self {
        GpConfig { receivers: None, default_format: default_gp_format(), attach_pdf: false }
    }
}

fn default_gp_format() -> GpFormat {
    GpFormat::Xdis91
}

/// How the patient's letter is handed off.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Handoff {
    /// The MeMo message, for the hospital's Digital Post client.
    #[default]
    Memo,
    /// An SF1601 KombiPostAfsend request: MeMo plus fjernprint, Digital Post or print.
    Kombi,
}

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Transports {
    /// For XDIS91 letters to the GP.
    pub gp: Option<TransportConfig>,
    /// For MeMo letters to the patient.
    pub patient: Option<TransportConfig>,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(tag = "type", rename_all = "lowercase", deny_unknown_fields)]
pub enum TransportConfig {
    Outbox {
        dir: PathBuf,
        /// Patient transport only.
        handoff: Option<Handoff>,
        /// Patient transport with the kombi hand-off only.
        print_type_id: Option<u32>,
    },
    Smtp {
        url: String,
        from: String,
        to: String,
        username: Option<String>,
        password_env: Option<String>,
        /// PEM file with the CA that signed the gateway's certificate, when it is not in
        /// the system's trust store (which is used too).
        ca_file: Option<PathBuf>,
        #[serde(default = "default_timeout")]
        timeout_seconds: u64,
        /// Patient transport only.
        handoff: Option<Handoff>,
        /// Patient transport with the kombi hand-off only.
        print_type_id: Option<u32>,
    },
}

fn default_timeout() -> u64 {
    30
}

impl TransportConfig {
    fn handoff_settings(&self) -> (Option<Handoff>, Option<u32>) {
        match self {
            TransportConfig::Outbox { handoff, print_type_id, .. }
            | TransportConfig::Smtp { handoff, print_type_id, .. } => (*handoff, *print_type_id),
        }
    }
}

impl Config {
    /// Reads `path`, or `FLSPOST_CONFIG`, or returns the defaults.
    pub fn load(path: Option<&Path>) -> Result<Config> {
        let path = path.map(Path::to_path_buf).or_else(|| std::env::var_os("FLSPOST_CONFIG").map(PathBuf::from));
        let Some(path) = path else { return Ok(Config::default()) };
        let text = std::fs::read_to_string(&path).map_err(|e| Error::io(&path, e))?;
        let mut cfg: Config = toml::from_str(&text).map_err(|e| syntax_error(&path, &text, &e))?;
        let base = path.parent().map(Path::to_path_buf).unwrap_or_default();
        let resolve = |p: &mut PathBuf| {
            if p.is_relative() {
                *p = base.join(&*p);
            }
        };
        cfg.journal.path.as_mut().map(resolve);
        cfg.journal.password_file.as_mut().map(resolve);
        cfg.journal.ca_file.as_mut().map(resolve);
        cfg.templates.as_mut().map(resolve);
        cfg.gp.receivers.as_mut().map(resolve);
        cfg.retention.archive_dir.as_mut().map(resolve);
        cfg.server.tls_cert.as_mut().map(resolve);
        cfg.server.tls_key.as_mut().map(resolve);
        if let Some(i) = cfg.server.intake.as_mut() {
            for p in [&mut i.token_file, &mut i.socket, &mut i.out_dir] {
                p.as_mut().map(resolve);
            }
        }
        for t in [&mut cfg.transport.gp, &mut cfg.transport.patient].into_iter().flatten() {
            match t {
                TransportConfig::Outbox { dir, .. } => resolve(dir),
                TransportConfig::Smtp { ca_file: Some(f), .. } => resolve(f),
                TransportConfig::Smtp { .. } => {}
            }
        }
        let bad = |reason: &str| Err(Error::Config { path: path.clone(), reason: reason.into() });
        if cfg.transport.gp.as_ref().is_some_and(|t| t.handoff_settings() != (None, None)) {
            return bad("[transport.gp]: handoff and print_type_id are for [transport.patient]");
        }
        if let Some((handoff, Some(_))) = cfg.transport.patient.as_ref().map(TransportConfig::handoff_settings) {
            if handoff != Some(Handoff::Kombi) {
                return bad("[transport.patient] print_type_id is for handoff = \"kombi\"");
            }
        }
        if cfg.send.max_attempts == 0 {
            return Err(Error::Config { path, reason: "send.max_attempts must be at least 1".into() });
        }
        if cfg.send.hold_after_identical_permanent == 1 {
            return Err(Error::Config {
                path,
                reason: "send.hold_after_identical_permanent = 1 would hold a transport for any one permanent \
                         reply: give 2 or more identical replies (default 3), or 0 to fail each letter at once"
                    .into(),
            });
        }
        if cfg.server.tls_cert.is_some() != cfg.server.tls_key.is_some() {
            return bad("[server]: tls_cert and tls_key go together (the certificate chain and its key)");
        }
        if !matches!(cfg.server.log.as_deref(), None | Some("text") | Some("json")) {
            return bad("[server] log: \"text\" or \"json\"");
        }
        cfg.policy()?;
        if let Err(reason) = cfg.resend.policy() {
            return Err(Error::Config { path, reason });
        }
        cfg.source = Some(path);
        Ok(cfg)
    }

    /// How the patient's letter is made: hand-off (from `[transport.patient]`) and print size.
    pub(crate) fn patient_options(&self) -> crate::compose::PatientOptions {
        let (handoff, print_type) = self.transport.patient.as_ref().map_or((None, None), |t| t.handoff_settings());
        crate::compose::PatientOptions {
            kombi: handoff == Some(Handoff::Kombi),
            print_type,
            large_print: self.patient_letter.large_print,
        }
    }

    /// How the GP's copy is made: options, and the routing (reads the receiver table).
    pub(crate) fn gp_routing(&self) -> Result<(crate::compose::GpOptions, GpRouting)> {
        let table = self.gp.receivers.as_deref().map(ReceiverTable::load).transpose()?;
        Ok((
            crate::compose::GpOptions { attach_pdf: self.gp.attach_pdf },
            GpRouting { table, default: self.gp.default_format },
        ))
    }

    /// The default rollout policy with this file's `[policy]` entries applied.
    pub fn policy(&self) -> Result<RolloutPolicy> {
        let mut p = RolloutPolicy::default();
        for (site, entry) in &self.policy {
            let s = Site::from_code(site).ok_or_else(|| Error::Config {
                path: self.source.clone().unwrap_or_default(),
                reason: format!(
                    "[policy] names unknown site `{site}` (expected AUH, HEM, GODSTRUP, HORSENS or RANDERS)"
                ),
            })?;
            match entry {
                PolicyEntry::Start(d) => p.set_start(s, Some(*d)),
                PolicyEntry::Enabled(false) => p.set_start(s, None),
                PolicyEntry::Enabled(true) => {
                    return Err(Error::Config {
                        path: self.source.clone().unwrap_or_default(),
                        reason: format!("[policy] {site} = true: give the start date instead"),
                    })
                }
            }
        }
        Ok(p)
    }
}

/// `FILE:LINE:COL: message`, the way compilers and editors point at a place in a file.
fn syntax_error(path: &Path, text: &str, e: &toml::de::Error) -> Error {
    let offset = e.span().map_or(0, |s| s.start.min(text.len()));
    let before = text.get(..offset).unwrap_or("");
    let line = before.matches('\n').count() + 1;
    let column = before.rsplit('\n').next().unwrap_or("").chars().count() + 1;
    Error::ConfigSyntax { path: path.to_path_buf(), line, column, message: e.message().trim().to_string() }
}

impl TransportConfig {
    /// Builds the transport this config section describes.
    pub fn open(&self) -> Result<Box<dyn Transport>> {
        Ok(match self {
            TransportConfig::Outbox { dir, .. } => Box::new(transport::outbox::Outbox::new(dir.clone())),
            TransportConfig::Smtp { url, from, to, username, password_env, ca_file, timeout_seconds, .. } => {
                Box::new(transport::smtp::Smtp::new(&transport::smtp::Settings {
                    url,
                    from,
                    to,
                    username: username.as_deref(),
                    password_env: password_env.as_deref(),
                    ca_file: ca_file.as_deref(),
                    timeout: std::time::Duration::from_secs(*timeout_seconds),
                })?)
            }
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn policy_overrides_and_unknown_keys() {
        let d = tempfile::tempdir().unwrap();
        let p = d.path().join("c.toml");
        std::fs::write(&p, "[policy]\nRANDERS = \"2026-03-01\"\nAUH = false\n").unwrap();
        let c = Config::load(Some(&p)).unwrap();
        let pol = c.policy().unwrap();
        assert_eq!(pol.start(Site::Randers), NaiveDate::from_ymd_opt(2026, 3, 1));
        assert_eq!(pol.start(Site::Auh), None);

        std::fs::write(&p, "[policy]\nODENSE = \"2026-03-01\"\n").unwrap();
        assert!(Config::load(Some(&p)).unwrap_err().to_string().contains("unknown site `ODENSE`"));
        std::fs::write(&p, "jornal = \"x\"\n").unwrap();
        let e = Config::load(Some(&p)).unwrap_err().to_string();
        assert!(e.starts_with(&format!("{}:1:1: unknown field `jornal`", p.display())), "{e}");
        std::fs::write(&p, "[send]\nmax_attempts = \"five\"\n").unwrap();
        let e = Config::load(Some(&p)).unwrap_err().to_string();
        assert!(e.starts_with(&format!("{}:2:16: invalid type", p.display())), "{e}");
        std::fs::write(&p, "[send]\nhold_after_identical_permanent = 1\n").unwrap();
        let e = Config::load(Some(&p)).unwrap_err().to_string();
        assert!(e.contains("hold_after_identical_permanent = 1"), "{e}");
        std::fs::write(&p, "[send]\nhold_after_identical_permanent = 0\n").unwrap();
        assert_eq!(Config::load(Some(&p)).unwrap().send.hold_after_identical_permanent, 0);
        assert_eq!(Config::default().send.hold_after_identical_permanent, 3);
        std::fs::write(&p, "[transport.gp]\ntype = \"outbox\"\ndir = \"out\"\n").unwrap();
        match Config::load(Some(&p)).unwrap().transport.gp.unwrap() {
            TransportConfig::Outbox { dir, .. } => assert_eq!(dir, d.path().join("out")),
            other => panic!("{other:?}"),
        }
    }
}
