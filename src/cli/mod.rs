//! Command-line interface. Each subcommand lives in its own file; all of them print
//! machine-readable results on stdout and one-line errors on stderr, and never a CPR
//! number in full (unless `journal show --reveal-cpr` asks for it).

/// `println!` that never panics: see [`print_line`].
macro_rules! outln {
    ($($arg:tt)*) => { $crate::cli::print_line(&format!($($arg)*)) };
}

/// `eprintln!` that never panics: a closed standard error loses the line, nothing more.
macro_rules! errln {
    ($($arg:tt)*) => {{
        use std::io::Write as _;
        let _ = writeln!(std::io::stderr().lock(), $($arg)*);
    }};
}

mod generate;
mod journal;
mod lifecycle;
mod queue;
mod receipt;
mod resend_due;
mod send;
mod show;
mod status;
mod user;
mod validate;

use clap::{Parser, Subcommand};
use flspost::app::config::Config;
use flspost::error::{Error, Result};
use flspost::journal::{Access, Journal, Location};
use std::path::PathBuf;

#[derive(Parser)]
#[command(
    name = "flspost",
    version,
    about = "FLS (DXA) result letters: MedCom XDIS91 to the GP, MeMo Digital Post to the patient"
)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

/// Options every command that touches the journal shares.
#[derive(clap::Args, Clone)]
pub struct Common {
    /// Configuration file (TOML); also FLSPOST_CONFIG.
    #[arg(long, global = true, value_name = "FILE")]
    config: Option<PathBuf>,
    /// The journal database; also FLSPOST_JOURNAL, else the config's `journal`, else
    /// $XDG_STATE_HOME/flspost/journal.sqlite (~/.local/state/flspost/journal.sqlite).
    #[arg(long, global = true, value_name = "PATH")]
    journal: Option<PathBuf>,
}

/// How a command uses the journal.
#[derive(Clone, Copy, PartialEq)]
pub enum Use {
    /// `generate`: the first run starts the journal.
    Create,
    /// `send`, `receipt`, `regenerate` change what was generated, and `journal show --input/
    /// --bytes/--pdf` records its export in the audit log: a missing journal means the wrong
    /// path, never "nothing to do".
    Write,
    /// `journal list/show/verify`: never creates or changes anything.
    Read,
}

impl Common {
    fn config(&self) -> Result<Config> {
        Config::load(self.config.as_deref())
    }

    /// The journal the options, FLSPOST_JOURNAL, the config or the default name (a file, or
    /// a `postgresql://` URL), and where that came from (`None`: from --journal).
    pub fn journal_location(&self, config: &Config) -> Result<(Location, Option<String>)> {
        let env = std::env::var_os("FLSPOST_JOURNAL").filter(|p| !p.is_empty()).map(PathBuf::from);
        let named = |p: &std::path::Path| -> Result<Location> {
            match p.to_str() {
                Some(text) => Location::parse(text, &config.journal.pg_access()?).map_err(Error::Usage),
                None => Ok(Location::File(p.to_path_buf())),
            }
        };
        let config_file = || config.source.as_deref().unwrap_or(std::path::Path::new("the config")).display().to_string();
        Ok(if let Some(p) = &self.journal {
            (named(p)?, None)
        } else if let Some(p) = env {
            (named(&p)?, Some("from FLSPOST_JOURNAL".to_string()))
        } else if let Some(url) = &config.journal.url {
            (named(std::path::Path::new(url))?, Some(format!("from {}", config_file())))
        } else if let Some(p) = &config.journal.path {
            (Location::File(p.clone()), Some(format!("from {}", config_file())))
        } else {
            (
                Location::File(flspost::journal::default_path()),
                Some("the default; --journal PATH names another".to_string()),
            )
        })
    }

    /// Opens the journal the options, FLSPOST_JOURNAL, the config or the default name. One
    /// not given with --journal is named on stderr with where it came from, so an operator
    /// never reads or fills a journal by surprise.
    fn open_journal(&self, config: &Config, how: Use) -> Result<Journal> {
        let (location, from) = self.journal_location(config)?;
        // A PostgreSQL journal's database is there or not; opening it says which.
        let exists = match &location {
            Location::File(path) => std::fs::symlink_metadata(path).is_ok(),
            Location::Postgres(_) => true,
        };
        if let Some(from) = &from {
            let new = if exists { "" } else { ", new: creating it" };
            if exists || how == Use::Create {
                errln!("flspost: journal {location} ({from}{new})");
            }
        }
        if !exists && how != Use::Create {
            // Where it came from, and how to name another when the user did not name this one.
            let hint = match &from {
                Some(f) => format!(" ({f}; name the journal with --journal PATH)"),
                None => String::new(),
            };
            return Err(Error::Usage(format!("no journal at {location}: nothing was generated there{hint}")));
        }
        let access = if how == Use::Read { Access::ReadOnly } else { Access::ReadWrite };
        let policy = config.resend.policy().map_err(Error::Usage)?;
        let (busy, backup_first) = (config.journal.busy_timeout(), config.journal.backup_before_migrate());
        let mut journal = match how {
            Use::Create => Journal::create_at(&location, busy, backup_first)?,
            _ => Journal::open_at(&location, access, busy, backup_first)?,
        };
        // MedCom's resend rules, with the numbers the config sets where MedCom's texts disagree.
        journal.set_resend_policy(policy);
        journal.set_lease(config.journal.lease());
        Ok(journal)
    }
}

#[derive(Subcommand)]
enum Command {
    /// Build and validate the GP's XDIS91 and the patient's MeMo (with PDF) for each result.
    Generate(generate::Args),
    /// Validate message files (XDIS91, MeMo, kombi requests, MedCom receipts, FHIR CareCommunication,
    /// Acknowledgements, VANSEnvelopes) against the bundled schemas.
    Validate(validate::Args),
    /// Hand every generated, unsent message to the transport configured for its kind.
    Send(send::Args),
    /// Resend a failed (or unanswered) message: a CareCommunication as stored (new Bundle.id and
    /// times), another rebuilt from its stored input; or send a corrected input's letter, or the
    /// letter in the other GP format (--reroute). Without an ID: the messages a filter names
    /// (--status, --kind, --transport, --since, --until), shown first and confirmed.
    Regenerate(generate::RegenerateArgs),
    /// Read MedCom receipts (XCTL01/02/03) and FHIR Acknowledgements, and mark the letters they answer.
    Receipt(receipt::Args),
    /// Resend the CareCommunications whose Acknowledgement is overdue by the resend policy
    /// (`[resend]`: when it makes resends after no answer automatic, within its limit), or list
    /// them for a person; safe to run every minute, from several processes at once.
    ResendDue(resend_due::Args),
    /// List and inspect what the journal holds; back it up; migrate it.
    #[command(subcommand)]
    Journal(journal::Command),
    /// Who may sign in to the support console (`serve`), and with which role.
    #[command(subcommand)]
    User(user::Command),
    /// The numbers operations watches (what `serve` gives Prometheus at /metrics), as JSON.
    Status(status::Args),
    /// The support console in the browser, /healthz and /metrics, over this journal
    /// (`[server]` in the config: 127.0.0.1 unless TLS is set up). Stops on SIGTERM or Ctrl-C.
    Serve(ServeArgs),
}

#[derive(clap::Args)]
pub struct ServeArgs {
    #[command(flatten)]
    common: Common,
}

/// What runs `flspost serve`: the server front end, which sits beside this one (main.rs
/// joins them), given the config and the journal's location.
pub type Serve = fn(Config, Location) -> Result<i32>;

fn serve(args: ServeArgs, server: Serve) -> Result<i32> {
    let config = args.common.config()?;
    let (location, from) = args.common.journal_location(&config)?;
    if let Some(from) = &from {
        errln!("flspost: journal {location} ({from})");
    }
    if let Location::File(path) = &location {
        if std::fs::symlink_metadata(path).is_err() {
            return Err(Error::Usage(format!("no journal at {}: nothing was generated there", path.display())));
        }
    }
    // Opened once here: a journal that needs migrating is migrated (with its backup) before
    // the server starts, and a wrong path fails now rather than on the first request.
    drop(args.common.open_journal(&config, Use::Write)?);
    server(config, location)
}

/// Runs the command line; returns the process exit code.
pub fn run(server: Serve) -> i32 {
    let cli = match Cli::try_parse() {
        Ok(c) => c,
        Err(e) => {
            let code = if e.use_stderr() { 2 } else { 0 };
            let _ = e.print();
            return code;
        }
    };
    // Reading commands whose reader may stop early (`journal list --json | head -1`).
    let only_reads =
        matches!(&cli.command, Command::Journal(c) if !c.writes()) || matches!(cli.command, Command::Validate(_));
    // Commands whose standard output is JSON lines for a program (the gateway, and `journal
    // ... --json`): a command that fails as a whole says so there too, with a stable code to
    // act on.
    let json_out = match &cli.command {
        Command::Generate(_)
        | Command::Send(_)
        | Command::Regenerate(_)
        | Command::Receipt(_)
        | Command::ResendDue(_) => true,
        Command::Journal(c) => c.json(),
        Command::User(c) => c.json(),
        Command::Status(_) => true,
        Command::Validate(_) | Command::Serve(_) => false,
    };
    let result = match cli.command {
        Command::Generate(a) => generate::run(a),
        Command::Validate(a) => validate::run(a),
        Command::Send(a) => send::run(a),
        Command::Regenerate(a) => generate::regenerate(a),
        Command::Receipt(a) => receipt::run(a),
        Command::ResendDue(a) => resend_due::run(a),
        Command::Journal(c) => journal::run(c),
        Command::User(c) => user::run(c),
        Command::Status(a) => status::run(a),
        Command::Serve(a) => serve(a, server),
    };
    let code = match result {
        Ok(code) => code,
        Err(e) => {
            if json_out {
                print_json(&ErrorLine::of(&e));
            }
            report(&e)
        }
    };
    match STDOUT_LOST.get() {
        // The reader stopped reading what it did not want: nothing went wrong.
        Some(e) if only_reads && e.kind() == std::io::ErrorKind::BrokenPipe => code,
        // The work was done (it is in the journal), but the caller did not get the report.
        Some(e) => {
            errln!("flspost: standard output: {e}; the rest of the report was not printed");
            code.max(1)
        }
        None => code,
    }
}

/// The first error writing standard output, if any: from then on nothing more is written.
static STDOUT_LOST: std::sync::OnceLock<std::io::Error> = std::sync::OnceLock::new();

/// Prints one line on stdout. A write error (the reader went away: EPIPE) is remembered
/// instead of panicking as `println!` does; the command finishes its work and [`run`]
/// decides what the lost output means for the exit code.
pub fn print_line(line: &str) {
    use std::io::Write;
    if STDOUT_LOST.get().is_some() {
        return;
    }
    let mut out = std::io::stdout().lock();
    if let Err(e) = writeln!(out, "{line}").and_then(|()| out.flush()) {
        let _ = STDOUT_LOST.set(e);
    }
}

/// The JSON line of a command that failed as a whole (`{"outcome":"error","error":{...}}`),
/// its `error` the one a failed input's line in `generate` has (which masks the reason).
#[derive(serde::Serialize)]
struct ErrorLine {
    outcome: &'static str,
    error: flspost::app::generate::ErrorSummary,
}

impl ErrorLine {
    fn of(e: &Error) -> ErrorLine {
        let error = flspost::app::generate::ErrorSummary {
            field: None,
            code: e.code(),
            reason: e.to_string().replace('\n', " "),
            exit_code: e.exit_code(),
        };
        ErrorLine { outcome: "error", error }
    }
}

/// Prints an error as one line and returns its exit code.
pub fn report(e: &Error) -> i32 {
    errln!("flspost: {}", shown(&e.to_string().replace('\n', " ")));
    e.exit_code()
}

/// Text from outside (refuse texts, server replies, libxml2's messages, which quote values)
/// as it goes into text output: CPR numbers masked, and control characters escaped so that
/// it cannot start a line or a table row of its own.
pub fn shown(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in flspost::support::redact::redact_cpr_like(text).chars() {
        match c {
            '\n' => out.push_str("\\n"),
            '\r' => out.push_str("\\r"),
            '\t' => out.push_str("\\t"),
            // Line separators, and bidi controls, which can reorder what a terminal shows
            // (a reason that reads differently from what it says).
            c if c.is_control()
                || matches!(c, '\u{2028}' | '\u{2029}' | '\u{202a}'..='\u{202e}' | '\u{2066}'..='\u{2069}')
                || matches!(c, '\u{200e}' | '\u{200f}' | '\u{061c}') =>
            {
                out.push_str(&format!("\\u{{{:04x}}}", c as u32))
            }
            c => out.push(c),
        }
    }
    out
}

/// Prints one JSON line on stdout.
pub fn print_json(value: &impl serde::Serialize) {
    print_line(&serde_json::to_string(value).expect("summaries serialise"));
}
