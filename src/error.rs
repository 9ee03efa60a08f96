//! The crate's error, and the exit code each kind maps to.

use crate::input::error::InputError;
use crate::letters::error::TemplateError;
use crate::model::MessageKind;
use crate::schema::problem::Problem;
use std::path::PathBuf;

#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// The input breaks the contract: exit 2.
    #[error("{0}")]
    Input(#[from] InputError),
    /// Configuration or templates are unusable: exit 2.
    #[error("{0}")]
    Template(#[from] TemplateError),
    #[error("config {path}: {reason}")]
    Config { path: PathBuf, reason: String },
    /// The config file is not the TOML flspost reads, at a known place: exit 2.
    #[error("{}:{line}:{column}: {message}", path.display())]
    ConfigSyntax { path: PathBuf, line: usize, column: usize, message: String },
    /// A command used the wrong way (unknown id, conflicting request): exit 2.
    #[error("{0}")]
    Usage(String),
    /// flspost built a message its own schema rejects: a bug, exit 3. Nothing is written.
    #[error("internal error: the generated {} message fails flspost's bundled schema ({}); nothing was written", kind.name(), problems.iter().map(|p| p.to_string()).collect::<Vec<_>>().join("; "))]
    Invalid { kind: MessageKind, problems: Vec<Problem> },
    #[error("{path}: {source}")]
    Io { path: PathBuf, source: std::io::Error },
    #[error("journal: {0}")]
    Journal(#[from] crate::journal::error::StoreError),
    /// Another process held the journal longer than this one may wait: nothing was
    /// recorded, running again does it; exit 1, code `journal_busy`.
    #[error(
        "journal busy: another process held it longer than the wait allowed ({0}); nothing was recorded, run again"
    )]
    Busy(String),
    /// A hand-over happened, but its outcome could not be recorded: the message may be
    /// handed over again by the next `send` (same envelope); exit 1, code `outcome_unrecorded`.
    #[error("{0}")]
    Unrecorded(String),
    /// Another flspost process did the same work at the same moment: running again settles
    /// it, so it is the environment's, exit 1 (not the caller's mistake).
    #[error("{0}")]
    Conflict(String),
    /// An invariant flspost keeps was broken: a bug, exit 3.
    #[error("internal error: {0}")]
    Internal(String),
    /// Stored bytes no longer match their SHA-256 (a damaged disk or a hand edit): exit 1.
    #[error("{0}")]
    Damaged(String),
}

impl Error {
    pub fn io(path: impl Into<PathBuf>, source: std::io::Error) -> Error {
        Error::Io { path: path.into(), source }
    }

    /// 2 for the caller's mistakes, 3 for flspost's own, 1 for the environment's.
    pub fn exit_code(&self) -> i32 {
        match self {
            Error::Input(_)
            | Error::Template(_)
            | Error::Config { .. }
            | Error::ConfigSyntax { .. }
            | Error::Usage(_) => 2,
            Error::Invalid { .. } | Error::Internal(_) => 3,
            Error::Io { .. }
            | Error::Journal(_)
            | Error::Busy(_)
            | Error::Unrecorded(_)
            | Error::Damaged(_)
            | Error::Conflict(_) => 1,
        }
    }

    /// A stable, machine-readable name of the kind of error, for the `code` in JSON: a
    /// gateway retries `journal_busy` and `conflict`, and hands the rest to a person.
    pub fn code(&self) -> &'static str {
        match self {
            Error::Input(_) => "input_invalid",
            Error::Template(_) => "template",
            Error::Config { .. } | Error::ConfigSyntax { .. } => "config",
            Error::Usage(_) => "usage",
            Error::Invalid { .. } => "internal_invalid_message",
            Error::Io { .. } => "io",
            Error::Journal(_) => "journal",
            Error::Busy(_) => "journal_busy",
            Error::Unrecorded(_) => "outcome_unrecorded",
            Error::Conflict(_) => "conflict",
            Error::Internal(_) => "internal",
            Error::Damaged(_) => "journal_damaged",
        }
    }
}

pub type Result<T, E = Error> = std::result::Result<T, E>;
