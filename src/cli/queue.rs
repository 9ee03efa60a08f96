//! `flspost journal queue`, `summary`, `handle` and `audit`: the support work queue and the
//! record of what people did with it.
//! Times on screen are Danish local time; JSON has RFC 3339 in UTC. CPR numbers appear
//! masked; a CPR number searched for is read from the arguments or standard input (`--cpr -`,
//! so it stays out of the process list) and never printed.

use super::{print_json, shown, Common};
use flspost::app::period::{self, End};
use flspost::app::queue::{self, Problem, Query, State};
use flspost::error::{Error, Result};
use flspost::journal::Filter;
use flspost::model::{Kind, Status};

/// The filters every queue command shares.
#[derive(clap::Args, Clone, Default)]
pub struct FilterArgs {
    /// Only these statuses: generated, retry, sent, failed, acknowledged, rejected, superseded
    /// (several: `--status failed,rejected`, or the option again).
    #[arg(long, value_name = "STATUS", value_delimiter = ',')]
    status: Vec<String>,
    #[command(flatten)]
    search: SearchArgs,
    /// Only results whose id starts with this.
    #[arg(long, value_name = "RESULT_ID")]
    result: Option<String>,
    /// Only these kinds: gp-xdis91, gp-carecommunication, patient-memo, patient-kombi
    /// (several: `--kind gp-xdis91,gp-carecommunication`).
    #[arg(long, value_name = "KIND", value_delimiter = ',')]
    kind: Vec<String>,
    /// Only messages last handed to this transport, as `journal show` names it
    /// (`smtp smtp://vans.example.dk:25`), or its type alone (`smtp`, `outbox`).
    #[arg(long, value_name = "TRANSPORT")]
    transport: Option<String>,
    /// Only problems whose cause starts with this (`smtp_permanent`, `xctl_refused`, `fhir_fatal/MSG_`).
    #[arg(long, value_name = "CAUSE")]
    cause: Option<String>,
}

/// The search every listing of the journal takes (`journal list` and the queue's filters): a
/// period, and a patient or a GP.
#[derive(clap::Args, Clone, Default)]
pub struct SearchArgs {
    /// From this time (a message's last change, an input's arrival): today, yesterday, a span
    /// back from now (30m, 2h, 7d), a date (YYYY-MM-DD, from Danish midnight) or an RFC 3339
    /// instant.
    #[arg(long, value_name = "WHEN")]
    since: Option<String>,
    /// Up to this time (a date: to the end of that day, Danish time); as --since.
    #[arg(long, value_name = "WHEN")]
    until: Option<String>,
    /// Only this patient's (exact CPR number, 10 digits or DDMMYY-XXXX; `-` reads it from
    /// standard input). Never printed.
    #[arg(long, value_name = "CPR")]
    cpr: Option<String>,
    /// Only letters to this GP (EAN).
    #[arg(long, value_name = "EAN")]
    gp: Option<String>,
}

impl SearchArgs {
    /// The filter this search names, read at `now` (for `today`, `2h`, ...).
    pub fn filter(&self, now: chrono::DateTime<chrono::Utc>) -> Result<Filter> {
        Ok(Filter {
            since: when(self.since.as_deref(), End::Start, "since", now)?,
            until: when(self.until.as_deref(), End::Until, "until", now)?,
            cpr: self.cpr.as_deref().map(read_cpr).transpose()?,
            gp: self.gp.clone(),
            ..Filter::default()
        })
    }
}

impl FilterArgs {
    pub fn query(&self, now: chrono::DateTime<chrono::Utc>) -> Result<Query> {
        let statuses = self
            .status
            .iter()
            .filter(|s| !s.is_empty())
            .map(|s| {
                Status::from_code(s.trim()).ok_or_else(|| {
                    Error::Usage(format!(
                        "--status `{s}`: expected {}",
                        Status::ALL.iter().map(|s| s.code()).collect::<Vec<_>>().join(", ")
                    ))
                })
            })
            .collect::<Result<Vec<_>>>()?;
        let kinds = self
            .kind
            .iter()
            .map(|k| {
                Kind::from_code(k.trim()).ok_or_else(|| {
                    Error::Usage(format!(
                        "--kind `{k}`: expected {}",
                        Kind::ALL.iter().map(|k| k.code()).collect::<Vec<_>>().join(", ")
                    ))
                })
            })
            .collect::<Result<Vec<_>>>()?;
        Ok(Query {
            filter: Filter {
                statuses,
                result_prefix: self.result.clone(),
                kinds,
                transport: self.transport.clone(),
                ..self.search.filter(now)?
            },
            closed_too: false,
            cause: self.cause.clone(),
            unanswered_after: None,
        })
    }
}

/// A time a person gave for `--NAME`, as the journal stores times.
pub fn when(t: Option<&str>, end: End, name: &str, now: chrono::DateTime<chrono::Utc>) -> Result<Option<String>> {
    t.map(|t| {
        period::parse(t, end, now)
            .map(period::stored)
            .map_err(|e| Error::Usage(format!("--{name} {}", e.to_string().trim_start_matches("usage: "))))
    })
    .transpose()
}

/// The CPR number searched for, checked (a typo is an error, not an empty result).
pub fn read_cpr(arg: &str) -> Result<String> {
    let text = if arg == "-" {
        let mut s = String::new();
        std::io::Read::read_to_string(&mut std::io::Read::take(std::io::stdin(), 64), &mut s)
            .map_err(|e| Error::Usage(format!("--cpr -: cannot read standard input: {e}")))?;
        s
    } else {
        arg.to_string()
    };
    let digits: String = text.trim().chars().filter(|c| *c != '-').collect();
    flspost::model::identifiers::Cpr::parse(&digits)
        .map(|c| c.expose().to_string())
        .map_err(|e| Error::Usage(format!("--cpr: not a CPR number ({e})")))
}

#[derive(clap::Args)]
pub struct QueueArgs {
    #[command(flatten)]
    filter: FilterArgs,
    /// Also problems already closed (handled by a person, or resolved by a resend, a
    /// correction or a later input).
    #[arg(long)]
    all: bool,
    /// One JSON object per line instead of a table.
    #[arg(long)]
    pub(super) json: bool,
    #[command(flatten)]
    common: Common,
}

pub fn run_queue(args: QueueArgs) -> Result<i32> {
    let now = flspost::support::clock::now();
    let mut q = args.filter.query(now)?;
    q.closed_too = args.all;
    let config = args.common.config()?;
    let journal = args.common.open_journal(&config, super::Use::Read)?;
    let problems = queue::queue(&journal, &q, now)?;
    if args.json {
        problems.iter().for_each(print_json);
    } else {
        print_problems(&problems);
    }
    Ok(0)
}

fn print_problems(problems: &[Problem]) {
    outln!(
        "{:>6}  {:<22}  {:<20}  {:<8}  {:<40}  {:<9}  {:<16}  REASON",
        "ID",
        "RESULT",
        "KIND",
        "STATUS",
        "CAUSE",
        "STATE",
        "SINCE"
    );
    for p in problems {
        let state = match p.state {
            State::Open => "open",
            State::Handled => "handled",
            State::Resolved => "resolved",
            State::Continued => "continued",
        };
        outln!(
            "{:>6}  {:<22}  {:<20}  {:<8}  {:<40}  {:<9}  {:<16}  {}",
            p.key,
            shown(p.result_id.as_deref().unwrap_or("")),
            p.kind.map(|k| k.code()).unwrap_or("input"),
            p.status,
            shown(&p.cause),
            state,
            period::local(&p.since),
            cut(&shown(&p.reason), 60)
        );
    }
    // The action once per cause, under the table, rather than on every row.
    let mut seen = std::collections::BTreeSet::new();
    for p in problems.iter().filter(|p| seen.insert(p.cause.clone())) {
        outln!("{}: {}", shown(&p.cause), p.action);
    }
}

/// At most `n` characters, the rest shown as `…` (the whole text is in `journal show` and JSON).
fn cut(s: &str, n: usize) -> String {
    if s.chars().count() <= n {
        s.to_string()
    } else {
        format!("{}…", s.chars().take(n - 1).collect::<String>())
    }
}

#[derive(clap::Args)]
pub struct SummaryArgs {
    #[command(flatten)]
    filter: FilterArgs,
    /// One JSON object instead of text.
    #[arg(long)]
    pub(super) json: bool,
    #[command(flatten)]
    common: Common,
}

pub fn run_summary(args: SummaryArgs) -> Result<i32> {
    let now = flspost::support::clock::now();
    let q = args.filter.query(now)?;
    let config = args.common.config()?;
    let journal = args.common.open_journal(&config, super::Use::Read)?;
    let s = queue::summary(&journal, &q, now)?;
    if args.json {
        print_json(&s);
        return Ok(0);
    }
    let period = match (&s.since, &s.until) {
        (None, None) => "the whole journal".to_string(),
        (since, until) => format!(
            "{} to {}",
            since.as_deref().map(period::local).unwrap_or_else(|| "the start".into()),
            until.as_deref().map(period::local).unwrap_or_else(|| "now".into())
        ),
    };
    outln!("journal {} ({period}; times are Danish)", journal.location());
    let line = |m: &std::collections::BTreeMap<&str, i64>| {
        m.iter().map(|(k, n)| format!("{n} {k}")).collect::<Vec<_>>().join(", ")
    };
    outln!("messages   {}", if s.by_status.is_empty() { "none".into() } else { line(&s.by_status) });
    outln!("by kind    {}", if s.by_kind.is_empty() { "none".into() } else { line(&s.by_kind) });
    outln!("problems   {} open", s.open_problems);
    for (cause, c) in &s.problems {
        outln!("  {:<46} {:>4} open  {:>4} handled  {:>4} resolved", shown(cause), c.open, c.handled, c.resolved);
    }
    for t in &s.transports {
        outln!(
            "transport  {}: {} sent, {} failed for now, {} for good; last sent {}; {} failures since",
            shown(&t.transport),
            t.sent,
            t.failed_for_now,
            t.failed_for_good,
            t.last_sent_at.as_deref().map(period::local).unwrap_or_else(|| "never".into()),
            t.consecutive_failures
        );
    }
    if let Some(w) = &s.oldest_waiting {
        outln!("waiting    oldest unsent: message {} since {}", w.message_id, period::local(&w.created_at));
    }
    outln!(
        "answers    {} GP letters unanswered{}",
        s.unanswered,
        s.longest_unanswered_minutes.map(|m| format!(", the longest for {m} min")).unwrap_or_default()
    );
    outln!("inputs     {} refused today", s.refused_inputs_today);
    Ok(0)
}

#[derive(clap::Args)]
pub struct HandleArgs {
    /// The problems: message ids (17) and refused inputs (R3), as `journal queue` lists them.
    #[arg(required = true, value_name = "ID")]
    ids: Vec<String>,
    /// Why it is closed (kept with who and when): "sent by letter post", "the patient has died".
    #[arg(long, value_name = "TEXT")]
    note: String,
    /// One JSON object per problem instead of text.
    #[arg(long)]
    pub(super) json: bool,
    #[command(flatten)]
    common: Common,
}

pub fn run_handle(args: HandleArgs) -> Result<i32> {
    let config = args.common.config()?;
    let mut journal = args.common.open_journal(&config, super::Use::Write)?;
    let who = flspost::support::person::who();
    let outcomes = queue::handle(&mut journal, &args.ids, &args.note, &who)?;
    for o in &outcomes {
        if args.json {
            print_json(o);
        } else {
            outln!("{}: {}", o.key, o.outcome);
        }
    }
    Ok(0)
}

#[derive(clap::Args)]
pub struct AuditArgs {
    /// The newest N entries.
    #[arg(long, value_name = "N", default_value_t = 100)]
    limit: u32,
    /// One JSON object per line instead of a table.
    #[arg(long)]
    pub(super) json: bool,
    #[command(flatten)]
    common: Common,
}

pub fn run_audit(args: AuditArgs) -> Result<i32> {
    let config = args.common.config()?;
    let journal = args.common.open_journal(&config, super::Use::Read)?;
    let rows = journal.audit_log(args.limit)?;
    if args.json {
        rows.iter().for_each(print_json);
        return Ok(0);
    }
    outln!("{:<16}  {:<16}  {:<15}  {:<14}  {:<14}  DETAIL", "AT", "WHO", "FROM", "ACTION", "TARGET");
    for r in &rows {
        outln!(
            "{:<16}  {:<16}  {:<15}  {:<14}  {:<14}  {}",
            period::local(&r.at),
            shown(&r.who),
            shown(r.origin.as_deref().unwrap_or("command line")),
            r.action,
            r.target,
            shown(r.detail.as_deref().unwrap_or(""))
        );
    }
    Ok(0)
}
