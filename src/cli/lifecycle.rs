//! `flspost journal backup`, `migrate`, `erase` and `prune`: the journal's lifecycle for
//! operations.

use super::{print_json, Common};
use flspost::error::{Error, Result};
use std::path::Path;

/// `journal backup PATH`: a verified copy while other processes write.
pub fn backup(common: &Common, path: &Path, json: bool) -> Result<i32> {
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
        journal.location(),
        b.path.display(),
        started.elapsed().as_secs_f64()
    );
    Ok(0)
}

/// `journal copy --from JOURNAL --to JOURNAL`: into a new, empty journal in another store.
pub fn copy(common: &Common, from: &str, to: &str, json: bool) -> Result<i32> {
    use flspost::journal::{Access, Journal, Location};
    let config = common.config()?;
    let access = config.journal.pg_access()?;
    let at = |text: &str| -> Result<Location> {
        Location::parse(text.strip_prefix("sqlite:").unwrap_or(text), &access).map_err(Error::Usage)
    };
    let (from, to) = (at(from)?, at(to)?);
    if let Location::File(path) = &to {
        if std::fs::symlink_metadata(path).is_ok() {
            return Err(Error::Usage(format!(
                "journal copy --to {}: already exists; a copy goes into a new journal only",
                path.display()
            )));
        }
    }
    let busy = config.journal.busy_timeout();
    let source = Journal::open_at(&from, Access::ReadOnly, busy, false)?;
    let mut target = Journal::create_at(&to, busy, false)?;
    let started = std::time::Instant::now();
    let copied = source.copy_to(&mut target)?;
    if json {
        print_json(&copied);
    } else {
        for (table, n) in &copied.rows {
            outln!("{table}: {n} rows");
        }
    }
    errln!(
        "flspost: {} copied to {} in {:.1} s; {} messages, {} inputs and {} refused inputs verified there",
        copied.from,
        copied.to,
        started.elapsed().as_secs_f64(),
        copied.verified.messages,
        copied.verified.inputs,
        copied.verified.refused_inputs
    );
    Ok(0)
}

/// `journal migrate [--dry-run]`: what a migration does (and, without --dry-run, doing it).
pub fn migrate(common: &Common, dry_run: bool, json: bool) -> Result<i32> {
    let config = common.config()?;
    let backup_first = config.journal.backup_before_migrate();
    let to = flspost::journal::Journal::SCHEMA_VERSION;
    if let (flspost::journal::Location::Postgres(_), _) = common.journal_location(&config)? {
        return migrate_postgres(common, &config, dry_run, json);
    }
    // Read only first: --dry-run never writes, and neither does a journal already up to date.
    let reader = common.open_journal(&config, super::Use::Read)?;
    let from = reader.schema_version()?;
    let steps = reader.migration_steps()?;
    let path = reader.file().map(|p| p.to_path_buf()).unwrap_or_default();
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

/// `journal migrate` of a PostgreSQL journal: sets up an empty database (every host's first
/// write would too; this says so, and lets operations do it before the gateway starts).
fn migrate_postgres(common: &Common, config: &flspost::app::config::Config, dry_run: bool, json: bool) -> Result<i32> {
    let to = flspost::journal::Journal::SCHEMA_VERSION;
    let (location, _) = common.journal_location(config)?;
    let (from, migrated) = if dry_run {
        match common.open_journal(config, super::Use::Read) {
            Ok(j) => (j.schema_version()?, false),
            Err(Error::Usage(why)) if why.contains("no flspost journal in this database yet") => (0, false),
            Err(e) => return Err(e),
        }
    } else {
        let j = common.open_journal(config, super::Use::Create)?;
        match j.migrated() {
            Some(m) => (m.from, true),
            None => (j.schema_version()?, false),
        }
    };
    if json {
        print_json(&serde_json::json!({
            "journal": location.to_string(), "from": from, "to": to, "dry_run": dry_run, "migrated": migrated,
            "steps": if from < to { vec![serde_json::json!({"from": from, "to": to, "changes": "the journal's tables"})] } else { vec![] },
            "backup": null,
        }));
    } else if from == to && !migrated {
        outln!("{location}: schema {from}, this release's: nothing to migrate");
    } else if dry_run {
        outln!("{location}: schema {from} to {to}: the journal's tables would be set up; --dry-run: nothing was changed");
    } else {
        outln!("{location}: schema {from} to {to}: the journal's tables set up");
    }
    Ok(0)
}

/// `journal erase --cpr NUMBER`: a patient's data removed (see [`flspost::app::erase`]), after a
/// person's confirmation on a terminal or `--yes`; without either and no terminal, refused.
pub fn erase(common: &Common, cpr: &str, force: bool, yes: bool, json: bool) -> Result<i32> {
    use std::io::IsTerminal as _;
    let cpr = super::queue::read_cpr(cpr)?;
    let config = common.config()?;
    let mut journal = common.open_journal(&config, super::Use::Write)?;
    let now = flspost::support::clock::now();
    let plan = flspost::app::erase::plan(&journal, &cpr, now)?;
    if plan.is_empty() {
        errln!("flspost: nothing of that patient in {}: nothing was erased", journal.location());
        if json {
            print_json(&flspost::journal::Erased::default());
        }
        return Ok(0);
    }
    let what = format!(
        "{} message{} and {} refused input{} of this patient{}",
        plan.messages.len(),
        if plan.messages.len() == 1 { "" } else { "s" },
        plan.refused.len(),
        if plan.refused.len() == 1 { "" } else { "s" },
        match plan.open.len() {
            0 => String::new(),
            n if force => format!(" ({n} of them open: forced)"),
            n => format!(" ({n} of them open)"),
        }
    );
    if !yes && (force || plan.open.is_empty()) {
        if !(std::io::stdin().is_terminal() && std::io::stderr().is_terminal()) {
            return Err(Error::Usage(format!(
                "erasing {what} needs a person's confirmation: run it on a terminal, or add --yes; nothing was erased"
            )));
        }
        if !confirmed(&what)? {
            errln!("flspost: nothing was erased");
            return Ok(0);
        }
    }
    let who = flspost::support::person::who();
    let (erased, emptied) = flspost::app::erase::erase(&mut journal, &cpr, force, &who, now)?;
    if json {
        print_json(&erased);
    } else {
        outln!(
            "erased: {} inputs, {} messages, {} receipts, {} refused inputs",
            erased.inputs,
            erased.messages,
            erased.receipts,
            erased.refused
        );
        if !erased.results.is_empty() {
            outln!(
                "results: {} (remove the gateway's own copies of these: --out-dir folders, handed-on files)",
                erased.results.join(" ")
            );
        }
    }
    if !emptied {
        errln!(
            "flspost: another process was reading the journal: the write-ahead log beside it still holds the old \
             pages until the next checkpoint"
        );
    }
    errln!("flspost: erasure recorded in the audit log (without the CPR number)");
    let backups = journal.file().map(migration_backups).unwrap_or_default();
    if !backups.is_empty() {
        errln!(
            "flspost: the backups a migration made beside the journal still hold the patient as they were: {} \
             (erase them by the same rule: `journal erase --journal FILE`, or delete them)",
            backups.join(", ")
        );
    }
    Ok(0)
}

/// The `NAME.vN.bak` files beside the journal (the backups migrations make there).
fn migration_backups(journal: &std::path::Path) -> Vec<String> {
    let (Some(dir), Some(name)) = (journal.parent(), journal.file_name().and_then(|n| n.to_str())) else {
        return vec![];
    };
    let prefix = format!("{name}.v");
    let mut found: Vec<String> = std::fs::read_dir(dir)
        .into_iter()
        .flatten()
        .flatten()
        .filter_map(|e| e.file_name().into_string().ok())
        .filter(|n| n.starts_with(&prefix) && n.ends_with(".bak"))
        .collect();
    found.sort();
    found
}

/// Asks on the terminal whether to erase `what`.
fn confirmed(what: &str) -> Result<bool> {
    use std::io::Write as _;
    let mut err = std::io::stderr().lock();
    let _ = write!(err, "Erase {what}? This cannot be undone. [y/N] ");
    let _ = err.flush();
    drop(err);
    let mut answer = String::new();
    std::io::stdin().read_line(&mut answer).map_err(|e| Error::io("standard input", e))?;
    Ok(matches!(answer.trim().to_ascii_lowercase().as_str(), "y" | "yes"))
}

/// `journal prune [--dry-run]`: `[retention]` applied (archived first when it names a folder).
pub fn prune(common: &Common, dry_run: bool, json: bool) -> Result<i32> {
    let config = common.config()?;
    let r = &config.retention;
    let how = if dry_run { super::Use::Read } else { super::Use::Write };
    let mut journal = common.open_journal(&config, how)?;
    let cut = r.at(flspost::support::clock::now());
    let who = flspost::support::person::who();
    let archive = r.archive_dir.clone();
    let p = journal.prune(&cut, dry_run, &who, |m| {
        let Some(dir) = &archive else { return Ok(()) };
        let name = format!("message-{}-{}.{}", m.id, m.kind, if m.kind.ends_with("memo") { "memo" } else { "xml" });
        flspost::support::files::archive_file(dir, &name, m.bytes)
            .map_err(|e| flspost::error::Error::io(dir.join(&name), e))
    })?;
    if json {
        print_json(&p);
    } else {
        let verb = if dry_run { "would prune" } else { "pruned" };
        outln!(
            "{verb}: {} messages' bytes ({} bytes) of {} results, {} inputs ({} bytes)",
            p.messages,
            p.message_bytes,
            p.results,
            p.inputs,
            p.input_bytes
        );
    }
    if r.bytes_days.is_none() && r.inputs_days.is_none() {
        errln!("flspost: no [retention] in the config: everything is kept");
    }
    if p.wal_emptied == Some(false) {
        errln!("flspost: another process was reading; the old pages leave the write-ahead log at its next checkpoint");
    }
    Ok(0)
}
