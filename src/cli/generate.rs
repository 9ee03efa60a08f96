//! `flspost generate` and `flspost regenerate` (one message, or the messages a filter names).

use super::{print_json, Common};
use flspost::app::bulk::Action;
use flspost::app::generate::{Engine, Outcome};
use flspost::error::{Error, Result};
use flspost::input::batch::{Inputs, CHUNK};
use indicatif::{ProgressBar, ProgressStyle};
use std::io::IsTerminal;
use std::path::PathBuf;

#[derive(clap::Args)]
pub struct Args {
    /// Folder for copies of the messages (and the PDF): one sub-folder per result, named
    /// by its result_id. Without it the messages go to the journal only, for `send`.
    #[arg(long, value_name = "DIR")]
    out_dir: Option<PathBuf>,
    /// Read every input as JSON Lines (one result per line), also standard input.
    /// Files named *.jsonl or *.ndjson are read that way anyway.
    #[arg(long)]
    jsonl: bool,
    #[command(flatten)]
    common: Common,
    /// Input files (one JSON result each, or JSON Lines); `-` reads standard input.
    #[arg(required = true, value_name = "INPUT")]
    inputs: Vec<PathBuf>,
}

fn engine(common: &Common, out_dir: Option<PathBuf>) -> Result<(Engine, flspost::app::config::Config)> {
    let config = common.config()?;
    Ok((Engine::from_config(&config, out_dir)?, config))
}

pub fn run(args: Args) -> Result<i32> {
    let (engine, config) = engine(&args.common, args.out_dir.clone())?;
    let batch = args.jsonl || args.inputs.len() > 1 || args.inputs.iter().any(|p| flspost::input::batch::is_jsonl(p));
    let paths = args.inputs.clone();
    let mut inputs = Inputs::new(args.inputs, args.jsonl);
    // One document is checked before anything is built (`Engine::check_single`); a refused one
    // is journaled alone (creating the journal if need be) and reported once it is recorded.
    let now = flspost::support::clock::now();
    let mut single = vec![];
    if !batch {
        for source in inputs.next_chunk(1)? {
            let journal_exists = match args.common.journal_location(&config)?.0 {
                flspost::journal::Location::File(path) => std::fs::symlink_metadata(path).is_ok(),
                flspost::journal::Location::Postgres(_) => true,
            };
            let checked = engine.check_single(&source, now, journal_exists);
            match checked {
                Ok(p) => single.push((source, Ok(p))),
                Err(refusal) => {
                    let s = &refusal.summary;
                    let error_line = super::shown(&s.error_line().unwrap_or_default());
                    let recorded = args.common.open_journal(&config, super::Use::Create).and_then(|mut journal| {
                        journal.refuse_own_files(paths.iter().map(|p| p.as_path()))?;
                        refusal.record_alone(&mut journal)
                    });
                    if let Err(e) = recorded {
                        // Not journaled: the command fails with the journal's error (its JSON
                        // line), and a person still reads why the input was refused.
                        errln!("flspost: {error_line} (not journaled)");
                        return Err(e);
                    }
                    print_json(s);
                    errln!("flspost: {error_line}");
                    return Ok(s.exit_code());
                }
            }
        }
    }
    let mut journal = args.common.open_journal(&config, super::Use::Create)?;
    if batch {
        journal.set_many_commits();
    }
    journal.refuse_own_files(paths.iter().map(|p| p.as_path()))?;
    if let Some(dir) = &args.out_dir {
        flspost::support::files::sweep_temporaries(dir);
    }

    // A progress bar only for a person watching a batch (never for the gateway's pipes).
    let progress = (batch && std::io::stdout().is_terminal() && std::io::stderr().is_terminal()).then(|| {
        match flspost::input::batch::count_documents(&paths, args.jsonl) {
            Some(total) => {
                let pb = ProgressBar::new(total);
                pb.set_style(
                    ProgressStyle::with_template("{bar:40} {pos}/{len} results  {per_sec}  ETA {eta}")
                        .expect("static template"),
                );
                pb
            }
            None => {
                let pb = ProgressBar::new_spinner();
                pb.set_style(
                    ProgressStyle::with_template("{spinner} {pos} results  {per_sec}").expect("static template"),
                );
                pb
            }
        }
    });
    // Counted in the order the closing line prints them (the README's order).
    const LABELS: [&str; 5] = ["generated", "corrected", "already generated", "regenerated", "failed"];
    let mut counts = [0u64; LABELS.len()];
    let mut exit = 0;
    let emit = |s: flspost::app::generate::Summary| {
        let slot = match s.outcome {
            Outcome::Generated => 0,
            Outcome::Corrected => 1,
            Outcome::Exists => 2,
            Outcome::Regenerated => 3,
            Outcome::Error => 4,
        };
        counts[slot] += 1;
        exit = exit.max(s.exit_code());
        let show = || {
            print_json(&s);
            if let Some(line) = s.error_line() {
                errln!("flspost: {}", super::shown(&line));
            }
            for w in &s.warnings {
                errln!("flspost: warning: {}", super::shown(&format!("{}: {w}", s.source)));
            }
        };
        match &progress {
            Some(pb) => {
                pb.suspend(show);
                pb.inc(1);
            }
            None => show(),
        }
    };
    if batch {
        // A second connection decides while the first records (see `Engine::run_stream`).
        let reader = journal.another_connection()?;
        engine.run_stream(&mut journal, &reader, || inputs.next_chunk(CHUNK), emit)?;
    } else {
        let mut emit = emit;
        for s in engine.run_prepared(&mut journal, single, now)? {
            emit(s);
        }
    }
    if let Some(pb) = progress {
        pb.finish_and_clear();
    }
    if let Some(dir) = &args.out_dir {
        flspost::support::files::remove_staging_if_empty(dir);
    }
    if batch {
        let parts: Vec<String> =
            LABELS.iter().zip(counts).filter(|(_, n)| *n > 0).map(|(label, n)| format!("{n} {label}")).collect();
        errln!("flspost: {}", if parts.is_empty() { "no results in the input".to_string() } else { parts.join(", ") });
    }
    Ok(exit)
}

#[derive(clap::Args)]
pub struct RegenerateArgs {
    /// The message: its journal id (from `journal list`), letter identifier, envelope
    /// identifier or MeMo UUID (a letter identifier or UUID names its latest transmission).
    #[arg(
        required_unless_present_any = FILTERS,
        conflicts_with_all = FILTERS
    )]
    id: Option<String>,
    /// A corrected input for the same result_id; without it a CareCommunication is resent as
    /// stored and any other message rebuilt from the stored input.
    #[arg(long, value_name = "FILE", requires = "id", conflicts_with = "reroute")]
    input: Option<PathBuf>,
    /// Send the GP letter again as the same letter (not a correction) in the format today's
    /// receiver table gives its GP: for a letter refused for its format (FHIR
    /// MSG_RECEIVER_UNABLE_TO_RECEIVE_MSG_TYPE, XCTL problem_med_version), or any other failed or
    /// refused GP letter whose format the table no longer gives. Refused when the table gives
    /// the same format.
    #[arg(long)]
    reroute: bool,
    /// Which messages, instead of an ID: the work queue's filters (`--status failed`,
    /// `--cause smtp_permanent`, `--since today`, ...; see `flspost journal queue --help`).
    #[command(flatten)]
    filter: super::queue::FilterArgs,
    /// With a filter: regenerate without asking (what it does is printed first all the same).
    /// Without a terminal to ask on, a filter needs it.
    #[arg(long)]
    yes: bool,
    /// Also copy the new message into DIR/<result_id>/.
    #[arg(long, value_name = "DIR")]
    out_dir: Option<PathBuf>,
    #[command(flatten)]
    common: Common,
}

pub fn regenerate(args: RegenerateArgs) -> Result<i32> {
    let (engine, config) = engine(&args.common, args.out_dir.clone())?;
    let Some(id) = &args.id else { return regenerate_filtered(&args, &engine, &config) };
    let mut journal = args.common.open_journal(&config, super::Use::Write)?;
    journal.refuse_own_files(args.input.as_deref())?;
    let corrected = match &args.input {
        None => None,
        Some(p) => Some((p.display().to_string(), flspost::input::batch::read_document(p)?)),
    };
    let summary = if args.reroute {
        engine.reroute(&mut journal, id)?
    } else {
        engine.regenerate(&mut journal, id, corrected)?
    };
    if let Some(dir) = &args.out_dir {
        flspost::support::files::remove_staging_if_empty(dir);
    }
    print_json(&summary);
    if let Some(line) = summary.error_line() {
        errln!("flspost: {}", super::shown(&line));
    }
    Ok(summary.exit_code())
}

/// The work-queue filters that name messages for `regenerate` instead of an ID.
const FILTERS: [&str; 9] = ["status", "cause", "kind", "transport", "since", "until", "result", "cpr", "gp"];

/// `regenerate` over a filter: what it would do with each message first (stderr), then, once
/// confirmed (on a terminal, or by --yes), each message in a transaction of its own, one JSON
/// line each (as `regenerate ID` prints; an error line for each refused). Exit code: the worst.
fn regenerate_filtered(args: &RegenerateArgs, engine: &Engine, config: &flspost::app::config::Config) -> Result<i32> {
    let query = args.filter.query(flspost::support::clock::now())?;
    let mut journal = args.common.open_journal(config, super::Use::Write)?;
    let plan = engine.plan_bulk(&journal, &query, args.reroute)?;
    if plan.is_empty() {
        errln!("flspost: no message matches the filter; nothing was regenerated");
        return Ok(0);
    }
    let acting = plan.iter().filter(|p| p.acts()).count();
    errln!(
        "flspost: {} {} the filter; {}:",
        plan.len(),
        if plan.len() == 1 { "message matches" } else { "messages match" },
        if args.reroute { "regenerate --reroute would" } else { "regenerate would" }
    );
    for p in &plan {
        let m = &p.message;
        let does = match &p.action {
            Action::Resend { transmission } => format!("resend: transmission {transmission}"),
            Action::Reroute { kind, transmission } => {
                format!("re-route: as {} transmission {transmission}", kind.code())
            }
            Action::Refused(e) => format!("not regenerated: {}", e.to_string().replace('\n', " ")),
        };
        let reason = m.reason.as_deref().map(|r| format!("  (reason: {r})")).unwrap_or_default();
        errln!(
            "  {:>6}  {:<20}  {:<24}  {:<12}  {}",
            m.id,
            m.kind.code(),
            m.result_id,
            m.status.code(),
            super::shown(&format!("{does}{reason}"))
        );
    }
    let refused = plan.len() - acting;
    if refused == 0 {
        errln!("flspost: {acting} to regenerate");
    } else {
        errln!(
            "flspost: {acting} to regenerate, {refused} not (MedCom's rules{} say why, above)",
            if args.reroute { " or the receiver table" } else { "" }
        );
    }
    if acting > 0 && !args.yes {
        if !(std::io::stdin().is_terminal() && std::io::stderr().is_terminal()) {
            return Err(Error::Usage(format!(
                "regenerating {acting} {} over a filter needs a person's confirmation: run it on a terminal, or \
                 add --yes; nothing was regenerated",
                if acting == 1 { "message" } else { "messages" }
            )));
        }
        if !confirmed(acting)? {
            errln!("flspost: nothing was regenerated");
            return Ok(0);
        }
    }
    // Why one was refused when planned was printed above; only what happens now is said again.
    let told: std::collections::HashSet<String> =
        plan.iter().filter(|p| !p.acts()).map(|p| format!("journal message {}", p.message.id)).collect();
    let mut exit = 0;
    let mut counts = [0u64; 2];
    engine.run_bulk(&mut journal, plan, |s| {
        exit = exit.max(s.exit_code());
        counts[usize::from(s.error.is_some())] += 1;
        print_json(&s);
        if let Some(line) = s.error_line().filter(|_| !told.contains(&s.source)) {
            errln!("flspost: {}", super::shown(&line));
        }
    });
    if let Some(dir) = &args.out_dir {
        flspost::support::files::remove_staging_if_empty(dir);
    }
    errln!("flspost: {} regenerated, {} not", counts[0], counts[1]);
    Ok(exit)
}

/// Asks on the terminal whether to go on with `n` messages.
fn confirmed(n: usize) -> Result<bool> {
    use std::io::Write as _;
    let mut err = std::io::stderr().lock();
    let _ = write!(err, "Regenerate {n} {}? [y/N] ", if n == 1 { "message" } else { "messages" });
    let _ = err.flush();
    drop(err);
    let mut answer = String::new();
    std::io::stdin().read_line(&mut answer).map_err(|e| Error::io("standard input", e))?;
    Ok(matches!(answer.trim().to_ascii_lowercase().as_str(), "y" | "yes"))
}
