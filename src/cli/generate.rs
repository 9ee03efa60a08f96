//! `flspost generate` and `flspost regenerate`.

use super::{print_json, Common};
use flspost::app::generate::{Engine, Outcome};
use flspost::error::Result;
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
    // One document is checked before the journal is touched (`Engine::check_single`).
    let now = flspost::support::clock::now();
    let mut single = vec![];
    if !batch {
        for source in inputs.next_chunk(1)? {
            let journal_exists = std::fs::symlink_metadata(args.common.journal_path(&config).0).is_ok();
            let checked = engine.check_single(&source, now, journal_exists);
            match checked {
                Ok(p) => single.push((source, Ok(p))),
                Err(s) => {
                    print_json(&s);
                    errln!("flspost: {}", super::shown(&s.error_line().unwrap_or_default()));
                    return Ok(s.exit_code());
                }
            }
        }
    }
    let mut journal = args.common.open_journal(&config, super::Use::Create)?;
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
    id: String,
    /// A corrected input for the same result_id; without it a CareCommunication is resent as
    /// stored and any other message rebuilt from the stored input.
    #[arg(long, value_name = "FILE", conflicts_with = "reroute")]
    input: Option<PathBuf>,
    /// Send the GP letter again as the same letter (not a correction) in the format today's
    /// receiver table gives its GP: for a letter refused for its format (FHIR
    /// MSG_RECEIVER_UNABLE_TO_RECEIVE_MSG_TYPE, XCTL problem_med_version) or any GP letter
    /// whose format the table no longer gives. Refused when the table gives the same format.
    #[arg(long)]
    reroute: bool,
    /// Also copy the new message into DIR/<result_id>/.
    #[arg(long, value_name = "DIR")]
    out_dir: Option<PathBuf>,
    #[command(flatten)]
    common: Common,
}

pub fn regenerate(args: RegenerateArgs) -> Result<i32> {
    let (engine, config) = engine(&args.common, args.out_dir.clone())?;
    let mut journal = args.common.open_journal(&config, super::Use::Write)?;
    journal.refuse_own_files(args.input.as_deref())?;
    let corrected = match &args.input {
        None => None,
        Some(p) => Some((p.display().to_string(), flspost::input::batch::read_document(p)?)),
    };
    let summary = if args.reroute {
        engine.reroute(&mut journal, &args.id)?
    } else {
        engine.regenerate(&mut journal, &args.id, corrected)?
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
