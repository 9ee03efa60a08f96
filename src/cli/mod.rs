//! Command-line interface. Each subcommand lives in its own file; all of them print
//! machine-readable results on stdout and one-line errors on stderr, and never a CPR
//! number in full (unless `journal show --reveal-cpr` asks for it).

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

/// Whether a command may start a new journal when the path names none.
#[derive(Clone, Copy, PartialEq)]
pub enum Create {
    /// `generate`: the first run starts the journal.
    Allowed,
    /// Every other command reads or changes what was generated: a missing journal means
    /// the wrong path, never "nothing to do".
    Refused,
}

impl Common {
    fn config(&self) -> Result<Config> {
        Config::load(self.config.as_deref())
    }

    /// Opens the journal the options, FLSPOST_JOURNAL, the config or the default name. One
    /// not given with --journal is named on stderr with where it came from, so an operator
    /// never reads or fills a journal by surprise.
    fn open_journal(&self, config: &Config, create: Create) -> Result<Journal> {
        let env = std::env::var_os("FLSPOST_JOURNAL").filter(|p| !p.is_empty()).map(PathBuf::from);
        let (path, from) = if let Some(p) = &self.journal {
            (p.clone(), None)
        } else if let Some(p) = env {
            (p, Some("from FLSPOST_JOURNAL".to_string()))
        } else if let Some(p) = &config.journal {
            let file = config.source.as_deref().unwrap_or(std::path::Path::new("the config"));
            (p.clone(), Some(format!("from {}", file.display())))
        } else {
            (flspost::journal::default_path(), Some("the default; --journal PATH names another".to_string()))
        };
        let exists = std::fs::symlink_metadata(&path).is_ok();
        if let Some(from) = &from {
            let new = if exists { "" } else { ", new: creating it" };
            if exists || create == Create::Allowed {
                eprintln!("flspost: journal {} ({from}{new})", path.display());
            }
        }
        if !exists && create == Create::Refused {
            return Err(Error::Usage(format!(
                "no journal at {}{}: nothing was generated there (name the journal with --journal PATH)",
                path.display(),
                from.map(|f| format!(" ({f})")).unwrap_or_default()
            )));
        }
        Journal::open(&path)
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
    let result = match cli.command {
        Command::Generate(a) => generate::run(a),
        Command::Validate(a) => validate::run(a),
        Command::Send(a) => send::run(a),
        Command::Regenerate(a) => generate::regenerate(a),
        Command::Receipt(a) => receipt::run(a),
        Command::Journal(c) => journal::run(c),
    };
    match result {
        Ok(code) => code,
        Err(e) => report(&e),
    }
}

/// Prints an error as one line and returns its exit code.
pub fn report(e: &Error) -> i32 {
    eprintln!("flspost: {}", e.to_string().replace('\n', " "));
    e.exit_code()
}

/// Prints one JSON line on stdout.
pub fn print_json(value: &impl serde::Serialize) {
    println!("{}", serde_json::to_string(value).expect("summaries serialise"));
}
