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
mod receipt;
mod send;
mod validate;

use clap::{Parser, Subcommand};
use flspost::config::Config;
use flspost::error::{Error, Result};
use flspost::journal::Journal;
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
    /// ~/.local/state/flspost/journal.sqlite.
    #[arg(long, global = true, value_name = "PATH")]
    journal: Option<PathBuf>,
}

impl Common {
    fn config(&self) -> Result<Config> {
        Config::load(self.config.as_deref())
    }

    fn open_journal(&self, config: &Config) -> Result<Journal> {
        Journal::open(&self.journal_path(config))
    }

    /// For commands that only read: never creates or changes the journal.
    fn open_journal_read_only(&self, config: &Config) -> Result<Journal> {
        Journal::open_with(&self.journal_path(config), flspost::journal::Access::ReadOnly)
    }

    fn journal_path(&self, config: &Config) -> PathBuf {
        self.journal
            .clone()
            .or_else(|| std::env::var_os("FLSPOST_JOURNAL").filter(|p| !p.is_empty()).map(PathBuf::from))
            .or_else(|| config.journal.clone())
            .unwrap_or_else(flspost::journal::default_path)
    }
}

#[derive(Subcommand)]
enum Command {
    /// Build and validate the GP's XDIS91 and the patient's MeMo (with PDF) for each result.
    Generate(generate::Args),
    /// Validate message files (XDIS91, MeMo, MedCom receipts) against the bundled schemas.
    Validate(validate::Args),
    /// Hand every generated, unsent message to the transport configured for its kind.
    Send(send::Args),
    /// Rebuild a failed (or unanswered) message for resending, from its stored input or a corrected one.
    Regenerate(generate::RegenerateArgs),
    /// Read MedCom receipts (XCTL01/02/03) and mark the letters they answer.
    Receipt(receipt::Args),
    /// List and inspect what the journal holds.
    #[command(subcommand)]
    Journal(journal::Command),
}

/// Runs the command line; returns the process exit code.
pub fn run() -> i32 {
    let cli = match Cli::try_parse() {
        Ok(c) => c,
        Err(e) => {
            let code = if e.use_stderr() { 2 } else { 0 };
            let _ = e.print();
            return code;
        }
    };
    // Reading commands whose reader may stop early (`journal list --json | head -1`).
    let only_reads = matches!(cli.command, Command::Journal(_) | Command::Validate(_));
    let result = match cli.command {
        Command::Generate(a) => generate::run(a),
        Command::Validate(a) => validate::run(a),
        Command::Send(a) => send::run(a),
        Command::Regenerate(a) => generate::regenerate(a),
        Command::Receipt(a) => receipt::run(a),
        Command::Journal(c) => journal::run(c),
    };
    let code = match result {
        Ok(code) => code,
        Err(e) => report(&e),
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
    for c in flspost::identifiers::redact_cpr_like(text).chars() {
        match c {
            '\n' => out.push_str("\\n"),
            '\r' => out.push_str("\\r"),
            '\t' => out.push_str("\\t"),
            c if c.is_control() || c == '\u{2028}' || c == '\u{2029}' => {
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
