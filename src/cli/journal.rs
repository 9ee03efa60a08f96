//! `flspost journal list`, `show` and `verify`: what support staff look at (messages, and the
//! inputs `generate` refused; the work queue's `queue`, `summary`, `handle` and `audit` are in
//! `queue.rs`). CPR numbers appear masked (`DDMMYY-xxxx`) unless `show --reveal-cpr` is given,
//! or a person asks for what is stored (`show --input`, `--bytes`, `--pdf`), which the audit
//! log records.

use super::{print_json, shown, Common};
use flspost::app::export::Part;
use flspost::app::show::{show, MessageDetail};
use flspost::error::{Error, Result};
use flspost::journal::{refused_label, ListStatus, Listed, MessageRow, RefusedRow, Unanswered, Verified};
use std::path::{Path, PathBuf};

#[derive(clap::Subcommand)]
pub enum Command {
    /// Messages and refused inputs (`R<n>`, kind `input`), newest first.
    List {
        /// Only messages in this status (generated, retry, sent, failed, acknowledged, rejected,
        /// superseded), or only refused inputs: `refused` (open) or `refused-closed`.
        #[arg(long, value_name = "STATUS", conflicts_with = "unanswered")]
        status: Option<String>,
        /// Only GP letters (XDIS91 and CareCommunication) still `sent` whose last hand-over
        /// finished at least MINUTES ago (default 30: after that MedCom allows a resend, which
        /// `flspost regenerate ID` makes) with no receipt or Acknowledgement since; longest
        /// waiting first, with when each was handed over and for how many minutes it has waited.
        #[arg(
            long,
            value_name = "MINUTES",
            num_args = 0..=1,
            require_equals = true,
            default_missing_value = "30"
        )]
        unanswered: Option<u32>,
        /// Only messages changed (refused inputs received) from this time: today, yesterday, a
        /// span back from now (30m, 2h, 7d), a date (YYYY-MM-DD, from Danish midnight) or an
        /// RFC 3339 instant.
        #[arg(long, value_name = "WHEN")]
        since: Option<String>,
        /// Up to this time (a date: to the end of that day, Danish time); as --since.
        #[arg(long, value_name = "WHEN")]
        until: Option<String>,
        /// Only the messages (and refused inputs) of this result.
        #[arg(long, value_name = "RESULT_ID")]
        result: Option<String>,
        /// Only this patient's (exact CPR number, 10 digits or DDMMYY-XXXX; `-` reads it from
        /// standard input). Never printed.
        #[arg(long, value_name = "CPR")]
        cpr: Option<String>,
        /// Only letters to this GP (EAN).
        #[arg(long, value_name = "EAN")]
        gp: Option<String>,
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
        matches!(self, Command::Handle(_) | Command::Migrate { dry_run: false, .. })
    }

    /// Whether its standard output is JSON lines for a program (`--json`): then a failure of
    /// the whole command is a JSON error line there too.
    pub fn json(&self) -> bool {
        match self {
            Command::List { json, .. }
            | Command::Show { json, .. }
            | Command::Verify { json, .. }
            | Command::Backup { json, .. }
            | Command::Migrate { json, .. } => *json,
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
        Command::Backup { path, json, common } => {
            let config = common.config()?;
            let journal = common.open_journal(&config, super::Use::Read)?;
            let started = std::time::Instant::now();
            let b = journal.backup(&path)?;
            if json {
                print_json(&b);
            } else {
                outln!(
                    "{}: {} bytes, schema {}, {} messages and {} inputs verified",
                    b.path.display(),
                    b.size,
                    b.schema_version,
                    b.messages,
                    b.inputs
                );
            }
            errln!(
                "flspost: backup of {} written to {} in {:.1} s and verified",
                journal.path().display(),
                b.path.display(),
                started.elapsed().as_secs_f64()
            );
            Ok(0)
        }
        Command::Migrate { dry_run, json, common } => migrate(&common, dry_run, json),
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
                journal.path().display(),
                if damaged == 0 { "all match their SHA-256".to_string() } else { format!("{damaged} damaged") }
            );
            Ok(if damaged == 0 { 0 } else { 1 })
        }
        Command::List { status, unanswered, since, until, result, cpr, gp, json, common } => {
            let status = status
                .map(|s| {
                    ListStatus::from_code(&s).ok_or_else(|| {
                        Error::Usage(format!("unknown status `{s}` (expected {})", ListStatus::all_codes().join(", ")))
                    })
                })
                .transpose()?;
            let now = flspost::support::clock::now();
            let filter = flspost::journal::Filter {
                since: super::queue::when(since.as_deref(), flspost::app::period::End::Start, "since", now)?,
                until: super::queue::when(until.as_deref(), flspost::app::period::End::Until, "until", now)?,
                result_id: result,
                cpr: cpr.as_deref().map(super::queue::read_cpr).transpose()?,
                gp,
                ..flspost::journal::Filter::default()
            };
            let config = common.config()?;
            let journal = common.open_journal(&config, super::Use::Read)?;
            if let Some(minutes) = unanswered {
                let now = flspost::support::clock::now();
                let by = now
                    .checked_sub_signed(chrono::Duration::minutes(i64::from(minutes)))
                    .unwrap_or(chrono::DateTime::<chrono::Utc>::MIN_UTC);
                let by = by.to_rfc3339_opts(chrono::SecondsFormat::Millis, true);
                let rows = journal.unanswered_where(&by, &filter, None)?;
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
            let part = if input {
                Part::Input
            } else if bytes {
                Part::Bytes
            } else {
                Part::Pdf
            };
            let config = common.config()?;
            // Writing the audit row is the one change: the journal opens for writing.
            let mut journal = common.open_journal(&config, super::Use::Write)?;
            export(&mut journal, &id, part, output.as_deref())
        }
        Command::Show { id, json, reveal_cpr, common, .. } => {
            let config = common.config()?;
            // A CPR number shown is recorded in the audit log first: the one change.
            let how = if reveal_cpr { super::Use::Write } else { super::Use::Read };
            let mut journal = common.open_journal(&config, how)?;
            if let Some(n) = flspost::journal::parse_refused_label(&id) {
                if reveal_cpr {
                    return Err(Error::Usage(format!(
                        "--reveal-cpr shows a message's patient; refused input {id} shows no CPR number"
                    )));
                }
                return show_refused(&journal, n, json);
            }
            let MessageDetail { message: m, input, attempts, receipts, regenerated_as, cpr } =
                show(&journal, &id, reveal_cpr)?;
            if reveal_cpr {
                flspost::app::show::record_reveal(&mut journal, m.id, &flspost::support::person::who())?;
            }
            // What came from outside (server replies, refuse codes and texts, the receivers'
            // identifiers) is masked by the rows' own serialisation, as in `journal list`.
            let doc = serde_json::json!({
                "message": m,
                "format": m.kind.wire().label(),
                "cpr": cpr,
                "input": { "id": input.id, "revision": input.revision, "received_at": input.received_at, "site": input.site, "group": input.group },
                "regenerated_as": regenerated_as,
                "attempts": attempts,
                "receipts": receipts,
            });
            if json {
                print_json(&doc);
            } else {
                outln!("message {}  {}  result {}", m.id, m.kind.code(), m.result_id);
                let reason = m.reason.as_deref().map(shown);
                outln!("  status          {}{}", m.status.code(), reason.map(|r| format!(": {r}")).unwrap_or_default());
                outln!("  format          {} (to the {})", m.kind.wire().label(), <&str>::from(m.kind.addressee()));
                outln!("  letter          {} ({}, letter revision {})", m.letter_id, m.status_code, m.letter_revision);
                outln!(
                    "  transmission    {} (1 = first sent; each regeneration is the next, in a new envelope)",
                    m.transmission
                );
                if let Some(e) = &m.envelope_id {
                    outln!("  envelope        {e}");
                }
                outln!(
                    "  send failures   {} (transient failures so far; [send] max_attempts bounds them)",
                    m.send_failures
                );
                outln!("  patient CPR     {}", cpr.as_str().unwrap_or(&m.cpr_masked));
                outln!(
                    "  input           revision {} received {} (site {}, group {})",
                    input.revision,
                    input.received_at,
                    input.site,
                    input.group
                );
                outln!("  bytes           sha256 {}", m.sha256);
                outln!("  created         {}   updated {}", m.created_at, m.updated_at);
                if let Some(f) = m.regenerated_from {
                    outln!("  regenerates     message {f}");
                }
                if let Some(r) = m.replaces {
                    outln!("  replaces        message {r}");
                }
                if let Some(n) = regenerated_as {
                    outln!("  regenerated as  message {n}");
                }
                if !attempts.is_empty() {
                    outln!("  hand-overs to a transport, oldest first:");
                }
                for a in &attempts {
                    outln!(
                        "    {} via {}: {}{}",
                        a.started_at,
                        a.transport,
                        a.outcome.as_deref().unwrap_or("in progress"),
                        a.reason.as_deref().map(|r| format!(" ({})", shown(r))).unwrap_or_default()
                    );
                }
                for r in &receipts {
                    outln!(
                        "  receipt         {} {} {}",
                        r.receipt_type,
                        r.outcome,
                        shown(r.refuse_text.as_deref().unwrap_or(""))
                    );
                }
            }
            Ok(0)
        }
    }
}

/// Writes `part` of message `key` to `output` (a new file) or standard output, exactly as the
/// journal holds it, once the export is in the audit log.
fn export(journal: &mut flspost::journal::Journal, key: &str, part: Part, output: Option<&Path>) -> Result<i32> {
    let stored = flspost::app::export::stored(journal, key, part)?;
    let what = match part {
        Part::Input => "input",
        Part::Bytes => "stored bytes",
        Part::Pdf => "PDF letter",
    };
    let to = match output {
        Some(path) => {
            // Checked before the audit row too, so that a refusal records nothing.
            if std::fs::symlink_metadata(path).is_ok() {
                return Err(Error::Usage(format!(
                    "{}: exists; flspost never writes over a file (nor through a link): name a new one",
                    path.display()
                )));
            }
            let folder = path.parent().filter(|p| !p.as_os_str().is_empty()).unwrap_or(Path::new("."));
            if path.file_name().is_none() || !folder.is_dir() {
                return Err(Error::Usage(format!(
                    "{}: names no new file in an existing folder; nothing was written",
                    path.display()
                )));
            }
            // The audit log names it as it is found again, from anywhere.
            std::path::absolute(path).unwrap_or_else(|_| path.to_path_buf()).display().to_string()
        }
        None => {
            use std::io::IsTerminal;
            if std::io::stdout().is_terminal() && !stored.is_plain_text() {
                return Err(Error::Usage(format!(
                    "the {what} of message {} is not plain UTF-8 text (a PDF, or ISO-8859-1 XDIS91), so it is not \
                     written to a terminal: give --output FILE, or redirect standard output",
                    stored.message.id
                )));
            }
            "standard output".to_string()
        }
    };
    flspost::app::export::record(journal, &stored, &to)?;
    match output {
        Some(path) => flspost::support::files::write_new(path, &stored.bytes).map_err(|e| Error::io(path, e))?,
        None => {
            use std::io::Write;
            let mut out = std::io::stdout().lock();
            out.write_all(&stored.bytes).and_then(|()| out.flush()).map_err(|e| Error::io("standard output", e))?;
        }
    }
    errln!(
        "flspost: {} of message {} ({} bytes) written to {}; recorded in the journal's audit log",
        what,
        stored.message.id,
        stored.bytes.len(),
        shown(&to)
    );
    Ok(0)
}

/// `journal migrate [--dry-run]`: what a migration does (and, without --dry-run, doing it).
fn migrate(common: &Common, dry_run: bool, json: bool) -> Result<i32> {
    let config = common.config()?;
    let backup_first = config.journal.backup_before_migrate();
    let to = flspost::journal::Journal::SCHEMA_VERSION;
    // Read only first: --dry-run never writes, and neither does a journal already up to date.
    let reader = common.open_journal(&config, super::Use::Read)?;
    let from = reader.schema_version()?;
    let steps = reader.migration_steps()?;
    let path = reader.path().to_path_buf();
    drop(reader);
    let mut backup = None;
    let mut migrated_here = false;
    if !dry_run && !steps.is_empty() {
        let journal = common.open_journal(&config, super::Use::Write)?;
        if let Some(m) = journal.migrated() {
            migrated_here = true;
            backup = m.backup.clone();
        }
    }
    let backup_name = |from: i64| {
        let mut name = path.file_name().unwrap_or_default().to_os_string();
        name.push(format!(".v{from}.bak"));
        path.with_file_name(name)
    };
    if json {
        print_json(&serde_json::json!({
            "journal": path,
            "from": from,
            "to": to,
            "steps": steps.iter().map(|(a, b, what)| serde_json::json!({"from": a, "to": b, "changes": what})).collect::<Vec<_>>(),
            "dry_run": dry_run,
            "migrated": migrated_here,
            "backup": backup,
        }));
    } else if steps.is_empty() {
        outln!("{}: schema {from}, this release's: nothing to migrate", path.display());
    } else {
        outln!("{}: schema {from} to {to}", path.display());
        for (a, b, what) in &steps {
            outln!("  {a} -> {b}: {what}");
        }
        match (&backup, dry_run) {
            (Some(b), _) => outln!("backup first: {} ({} bytes, verified)", b.path.display(), b.size),
            (None, true) if backup_first => {
                outln!("backup first: beside it, as {} (or the next free name)", backup_name(from).display())
            }
            (None, _) if !backup_first => outln!("no backup first: [journal] backup_before_migrate = false"),
            (None, _) => {}
        }
        if dry_run {
            outln!("--dry-run: nothing was changed");
        } else if migrated_here {
            outln!("migrated");
        } else {
            outln!("another process migrated it meanwhile");
        }
    }
    Ok(0)
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

/// `journal show R<n>`: a refused input, what closed it, never its bytes or a CPR number.
fn show_refused(journal: &flspost::journal::Journal, id: i64, json: bool) -> Result<i32> {
    let r = journal.refused_input(id)?.ok_or_else(|| {
        Error::Usage(format!("no refused input {} in the journal {}", refused_label(id), journal.path().display()))
    })?;
    let closing = r.closed_by.map(|i| journal.input(i)).transpose()?;
    if json {
        let closed_by = closing.as_ref().map(|i| {
            serde_json::json!({ "input_id": i.id, "result_id": i.result_id, "revision": i.revision, "received_at": i.received_at })
        });
        print_json(&serde_json::json!({ "refused": r, "closed_by_input": closed_by }));
        return Ok(0);
    }
    outln!("refused input {}  result {}", r.label(), r.result_id.as_deref().unwrap_or("- (none readable)"));
    outln!("  status          {}", r.status());
    outln!("  source          {}", shown(&r.source));
    outln!("  field           {}", shown(&r.field));
    outln!("  code            {}", shown(&r.code()));
    outln!("  reason          {}", shown(&r.reason));
    outln!("  received        {}", r.received_at);
    outln!("  input           {} bytes, sha256 {}", r.input_len, r.input_sha256);
    match &closing {
        Some(i) => outln!(
            "  closed by       input {} (result {}, revision {}, received {})",
            i.id,
            i.result_id,
            i.revision,
            i.received_at
        ),
        None => outln!("  closed by       - (open until a later input for its result is generated)"),
    }
    if let Some(at) = &r.handled_at {
        outln!(
            "  handled         {at} by {}{}",
            shown(r.handled_by.as_deref().unwrap_or("?")),
            r.handled_note.as_deref().map(|n| format!(": {}", shown(n))).unwrap_or_default()
        );
    }
    Ok(0)
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
