//! `flspost journal ...`: the subcommands, and `list` and `verify` (messages, and the inputs
//! `generate` refused). `show` is in `show.rs`, the work queue's `queue`, `summary`, `handle`
//! and `audit` in `queue.rs`, `backup`, `migrate` and `erase` in `lifecycle.rs`. CPR numbers appear
//! masked (`DDMMYY-xxxx`).

use super::{print_json, shown, Common};
use flspost::error::{Error, Result};
use flspost::journal::{refused_label, ListStatus, Listed, MessageRow, RefusedRow, Unanswered, Verified};
use std::path::PathBuf;

#[derive(clap::Subcommand)]
pub enum Command {
    /// Messages and refused inputs (`R<n>`, kind `input`), newest first.
    List {
        /// Only messages in this status (generated, retry, sent, failed, acknowledged, rejected,
        /// superseded), or only refused inputs: `refused` (open) or `refused-closed`.
        #[arg(long, value_name = "STATUS", conflicts_with = "unanswered")]
        status: Option<String>,
        /// Only GP letters (XDIS91 and CareCommunication) still `sent` whose last hand-over
        /// finished at least MINUTES ago (default: the resend policy's `[resend] after_minutes`,
        /// 30 unless set: after that a resend is allowed, which `flspost regenerate ID` makes)
        /// with no receipt or Acknowledgement since; longest waiting first, with when each was
        /// handed over and for how many minutes it has waited.
        #[arg(long, value_name = "MINUTES", num_args = 0..=1, require_equals = true)]
        unanswered: Option<Option<u32>>,
        #[command(flatten)]
        search: super::queue::SearchArgs,
        /// Only the messages (and refused inputs) of this result.
        #[arg(long, value_name = "RESULT_ID")]
        result: Option<String>,
        /// One JSON object per line instead of a table.
        #[arg(long)]
        json: bool,
        #[command(flatten)]
        common: Common,
    },
    /// One message: its state, links, send attempts and receipts; or one refused input (`R<n>`).
    Show {
        /// The message: its journal id (from `journal list`), letter identifier, envelope
        /// identifier or MeMo UUID (a letter identifier or UUID names its latest transmission).
        id: String,
        /// The message, its input's metadata, attempts and receipts as one JSON object.
        #[arg(long)]
        json: bool,
        /// Also print the patient's full CPR number (it is sensitive: only when needed; who
        /// asked, and when, is recorded in the audit log).
        #[arg(long)]
        reveal_cpr: bool,
        /// Write the input the message was built from, exactly as the journal holds it (JSON,
        /// checked against its SHA-256), instead: to correct it and give it to `regenerate ID
        /// --input`. It holds the CPR number: recorded in the audit log.
        #[arg(long, group = "export", conflicts_with_all = ["json", "reveal_cpr"])]
        input: bool,
        /// Write the message's stored bytes, exactly as handed to its transport (checked against
        /// their SHA-256), instead: for `flspost validate`. Recorded in the audit log.
        #[arg(long, group = "export", conflicts_with_all = ["json", "reveal_cpr"])]
        bytes: bool,
        /// Write the PDF letter inside a patient letter (MeMo or kombi request), instead.
        /// Recorded in the audit log.
        #[arg(long, group = "export", conflicts_with_all = ["json", "reveal_cpr"])]
        pdf: bool,
        /// Where --input, --bytes or --pdf go: a new file (owner-only; never over an existing
        /// file, nor through a symbolic link). Without it, standard output (not a terminal for
        /// what is not plain text).
        #[arg(long, value_name = "FILE", requires = "export")]
        output: Option<PathBuf>,
        #[command(flatten)]
        common: Common,
    },
    /// Everything that needs a person: failed, rejected, retrying and unanswered letters and
    /// refused inputs, each with its cause and what to do; oldest first.
    Queue(super::queue::QueueArgs),
    /// The journal at a glance: messages per status and kind, problems per cause (open and
    /// handled), the transports' health, the oldest waiting, today's refused inputs.
    Summary(super::queue::SummaryArgs),
    /// Close problems by hand, with a note (who and when are recorded, and audited).
    Handle(super::queue::HandleArgs),
    /// What people asked of the journal (problems closed, CPR numbers shown, stored data
    /// written out): who, when, what; newest first.
    Audit(super::queue::AuditArgs),
    /// A consistent copy of the journal while others write to it, to a new owner-only file,
    /// verified (every stored message and input against its SHA-256, and SQLite's integrity
    /// check) before it is put at PATH; exit 0 only then.
    Backup {
        /// The copy: a new file (never over an existing file, nor through a symbolic link).
        path: PathBuf,
        /// One JSON object (path, size, schema version, what was checked) instead of a line of text.
        #[arg(long)]
        json: bool,
        #[command(flatten)]
        common: Common,
    },
    /// Copy a journal into a new, empty one in another store: an SQLite file into the
    /// PostgreSQL database several hosts share (`--to postgresql://...`), or back. Row for row
    /// with the same ids, in one transaction, then checked as `journal verify` checks. Stop
    /// every flspost writing to the source first.
    Copy {
        /// The journal copied: an SQLite file (`sqlite:PATH` or `PATH`) or a `postgresql://` URL.
        #[arg(long, value_name = "JOURNAL")]
        from: String,
        /// The new journal: a `postgresql://` URL (its password from `[journal] password_env` or
        /// `password_file`) or an SQLite file that does not exist yet.
        #[arg(long, value_name = "JOURNAL")]
        to: String,
        /// One JSON object (rows per table, what was verified) instead of lines of text.
        #[arg(long)]
        json: bool,
        #[command(flatten)]
        common: Common,
    },
    /// Bring a journal of an older schema up to this release's, after a verified backup beside
    /// it (`journal.sqlite.v3.bak`; unless `[journal] backup_before_migrate = false`). Any
    /// command that writes does the same; this one says what it does.
    Migrate {
        /// Say from which schema to which and which steps, and change nothing.
        #[arg(long)]
        dry_run: bool,
        /// One JSON object instead of lines of text.
        #[arg(long)]
        json: bool,
        #[command(flatten)]
        common: Common,
    },
    /// Erase a patient (the right to erasure): their inputs, message and receipt bytes and
    /// refused inputs removed from the journal file, personal fields of what stays replaced
    /// (`erased`); ids, results, statuses and times stay. Refused while one of their letters is
    /// open (in `journal queue`, not yet sent, or awaiting its answer) unless --force. Asks for
    /// confirmation on a terminal (or --yes); audited without the CPR number.
    Erase {
        /// The patient's CPR number (10 digits or DDMMYY-XXXX; `-` reads it from standard input).
        #[arg(long, value_name = "CPR")]
        cpr: String,
        /// Erase even while one of the patient's letters is open (it is failed and closed).
        #[arg(long)]
        force: bool,
        /// Do not ask for confirmation (needed without a terminal).
        #[arg(long)]
        yes: bool,
        /// One JSON object (how many inputs, messages, receipts and refused inputs) instead of
        /// a line of text.
        #[arg(long)]
        json: bool,
        #[command(flatten)]
        common: Common,
    },
    /// Apply `[retention]`: remove the message bytes and inputs of results whose letters have
    /// all been final (acknowledged, superseded, handled) for longer than the config says; the
    /// metadata stays, open letters are never touched, and the run is audited. The bytes are
    /// overwritten in the file, not only unlinked.
    Prune {
        /// Say how many messages and inputs (and bytes) would go, and change nothing.
        #[arg(long)]
        dry_run: bool,
        /// One JSON object instead of a line of text.
        #[arg(long)]
        json: bool,
        #[command(flatten)]
        common: Common,
    },
    /// Check every stored message (and input) against its SHA-256; exit 1 naming any that differ.
    Verify {
        /// One JSON object per damaged message or input instead of a line of text.
        #[arg(long)]
        json: bool,
        #[command(flatten)]
        common: Common,
    },
}

impl Command {
    /// Whether the command changes the journal (the others only read it).
    pub fn writes(&self) -> bool {
        matches!(
            self,
            Command::Handle(_)
                | Command::Erase { .. }
                | Command::Migrate { dry_run: false, .. }
                | Command::Prune { dry_run: false, .. }
        )
    }

    /// Whether its standard output is JSON lines for a program (`--json`): then a failure of
    /// the whole command is a JSON error line there too.
    pub fn json(&self) -> bool {
        match self {
            Command::List { json, .. }
            | Command::Show { json, .. }
            | Command::Verify { json, .. }
            | Command::Backup { json, .. }
            | Command::Copy { json, .. }
            | Command::Erase { json, .. }
            | Command::Migrate { json, .. }
            | Command::Prune { json, .. } => *json,
            Command::Queue(a) => a.json,
            Command::Summary(a) => a.json,
            Command::Handle(a) => a.json,
            Command::Audit(a) => a.json,
        }
    }
}

pub fn run(cmd: Command) -> Result<i32> {
    match cmd {
        Command::Queue(a) => super::queue::run_queue(a),
        Command::Summary(a) => super::queue::run_summary(a),
        Command::Handle(a) => super::queue::run_handle(a),
        Command::Audit(a) => super::queue::run_audit(a),
        Command::Backup { path, json, common } => super::lifecycle::backup(&common, &path, json),
        Command::Copy { from, to, json, common } => super::lifecycle::copy(&common, &from, &to, json),
        Command::Migrate { dry_run, json, common } => super::lifecycle::migrate(&common, dry_run, json),
        Command::Erase { cpr, force, yes, json, common } => super::lifecycle::erase(&common, &cpr, force, yes, json),
        Command::Prune { dry_run, json, common } => super::lifecycle::prune(&common, dry_run, json),
        Command::Verify { json, common } => {
            let config = common.config()?;
            let journal = common.open_journal(&config, super::Use::Read)?;
            let mut damaged = 0;
            let checked = journal.verify(|d| {
                damaged += 1;
                if json {
                    print_json(&d);
                } else if d.what == "refused" {
                    let result =
                        if d.result_id.is_empty() { String::new() } else { format!(" (result {})", d.result_id) };
                    outln!("refused input {}{result}: {}", refused_label(d.id), d.problem);
                } else {
                    let what = match (&d.kind, &d.letter_id) {
                        (Some(k), Some(l)) => format!("{} {l}, result {}", k.code(), d.result_id),
                        _ => format!("result {}", d.result_id),
                    };
                    outln!("{} {} ({what}): {}", d.what, d.id, d.problem);
                }
            })?;
            let Verified { messages, inputs, refused_inputs } = checked;
            let counted = match refused_inputs {
                0 => format!("{messages} messages and {inputs} inputs"),
                n => format!(
                    "{messages} messages, {inputs} inputs and {n} refused input{}",
                    if n == 1 { "" } else { "s" }
                ),
            };
            errln!(
                "flspost: {counted} checked in {}: {}",
                journal.location(),
                if damaged == 0 { "all match their SHA-256".to_string() } else { format!("{damaged} damaged") }
            );
            Ok(if damaged == 0 { 0 } else { 1 })
        }
        Command::List { status, unanswered, search, result, json, common } => {
            let status = status
                .map(|s| {
                    ListStatus::from_code(&s).ok_or_else(|| {
                        Error::Usage(format!("unknown status `{s}` (expected {})", ListStatus::all_codes().join(", ")))
                    })
                })
                .transpose()?;
            let now = flspost::support::clock::now();
            let filter = flspost::journal::Filter { result_id: result, ..search.filter(now)? };
            let config = common.config()?;
            let journal = common.open_journal(&config, super::Use::Read)?;
            if let Some(minutes) = unanswered {
                let minutes = minutes.unwrap_or(journal.resend_policy().after_minutes);
                let by = flspost::app::period::stored(
                    now.checked_sub_signed(chrono::Duration::minutes(i64::from(minutes)))
                        .unwrap_or(chrono::DateTime::<chrono::Utc>::MIN_UTC),
                );
                let rows = journal.unanswered_where(&by, &filter)?;
                let waited = |at: &str| {
                    chrono::DateTime::parse_from_rfc3339(at).map(|t| (now - t.to_utc()).num_minutes()).unwrap_or(0)
                };
                if json {
                    for u in &rows {
                        let mut v = serde_json::to_value(u).expect("rows serialise");
                        v["waiting_minutes"] = waited(&u.handed_over_at).into();
                        print_json(&v);
                    }
                } else {
                    print_unanswered(&rows, waited);
                }
                return Ok(0);
            }
            let rows = journal.listing(status, &filter)?;
            if json {
                rows.iter().for_each(print_json);
            } else {
                print_table(&rows);
            }
            Ok(0)
        }
        Command::Show { id, input, bytes, pdf, output, common, .. } if input || bytes || pdf => {
            super::show::export(&common, &id, input, bytes, output.as_deref())
        }
        Command::Show { id, json, reveal_cpr, common, .. } => super::show::show(&common, &id, json, reveal_cpr),
    }
}

fn print_table(rows: &[Listed]) {
    outln!(
        "{:>6}  {:<24}  {:<20}  {:<36}  {:<14}  {:<11}  {:<24}  REASON",
        "ID",
        "RESULT",
        "KIND",
        "LETTER",
        "STATUS",
        "CPR",
        "UPDATED"
    );
    for row in rows {
        match row {
            Listed::Message(m) => print_message_row(m),
            Listed::Refused(r) => print_refused_row(r),
        }
    }
}

fn print_message_row(m: &MessageRow) {
    outln!(
        "{:>6}  {:<24}  {:<20}  {:<36}  {:<14}  {:<11}  {:<24}  {}",
        m.id,
        m.result_id,
        m.kind.code(),
        m.letter_id,
        m.status.code(),
        m.cpr_masked,
        m.updated_at,
        shown(m.reason.as_deref().unwrap_or(""))
    );
}

/// A refused input's row: no letter and no CPR (nothing of it was checked); its reason reads
/// as `generate` said it on standard error, `source: field: reason`.
fn print_refused_row(r: &RefusedRow) {
    outln!(
        "{:>6}  {:<24}  {:<20}  {:<36}  {:<14}  {:<11}  {:<24}  {}",
        r.label(),
        r.result_id.as_deref().unwrap_or("-"),
        flspost::journal::REFUSED_KIND,
        "-",
        r.status(),
        "-",
        r.received_at,
        shown(&format!("{}: {}: {}", r.source, r.field, r.reason))
    );
}

fn print_unanswered(rows: &[Unanswered], waited: impl Fn(&str) -> i64) {
    outln!(
        "{:>6}  {:<24}  {:<20}  {:<36}  {:>12}  {:<11}  {:<24}  WAITING",
        "ID",
        "RESULT",
        "KIND",
        "LETTER",
        "TRANSMISSION",
        "CPR",
        "HANDED OVER"
    );
    for u in rows {
        let m = &u.message;
        outln!(
            "{:>6}  {:<24}  {:<20}  {:<36}  {:>12}  {:<11}  {:<24}  {} min",
            m.id,
            m.result_id,
            m.kind.code(),
            m.letter_id,
            m.transmission,
            m.cpr_masked,
            u.handed_over_at,
            waited(&u.handed_over_at)
        );
    }
}
