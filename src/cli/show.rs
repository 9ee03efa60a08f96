//! `flspost journal show`: one message with everything the journal knows of it, or one refused
//! input; and what is stored, written out (`--input`, `--bytes`, `--pdf`), which the audit log
//! records first. CPR numbers appear masked unless `--reveal-cpr` is given, which is audited.

use super::{print_json, shown, Common};
use flspost::app::export::Part;
use flspost::app::show::{show as detail, MessageDetail};
use flspost::error::{Error, Result};
use flspost::journal::refused_label;
use std::path::Path;

/// `journal show ID --input | --bytes | --pdf [--output FILE]`.
pub fn export(common: &Common, id: &str, input: bool, bytes: bool, output: Option<&Path>) -> Result<i32> {
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
    write_out(&mut journal, id, part, output)
}

/// `journal show ID [--json] [--reveal-cpr]`.
pub fn show(common: &Common, id: &str, json: bool, reveal_cpr: bool) -> Result<i32> {
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
    let MessageDetail { message: m, input, attempts, receipts, letter_answers, regenerated_as, handled, cpr } =
        detail(&journal, id, reveal_cpr)?;
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
        "handled": handled,
        "attempts": attempts,
        "receipts": receipts,
        "letter_answers": letter_answers,
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
        outln!("  send failures   {} (transient failures so far; [send] max_attempts bounds them)", m.send_failures);
        outln!("  patient CPR     {}", cpr.as_str().unwrap_or(&m.cpr_masked));
        outln!(
            "  input           revision {} received {} (site {}, group {})",
            input.revision,
            input.received_at,
            input.site,
            input.group
        );
        if let Some(at) = &m.pruned_at {
            outln!("  bytes           pruned {at} (retention, `journal prune`; the metadata is kept)");
        }
        if let Some(at) = &input.pruned_at {
            outln!("  input JSON      pruned {at} (retention)");
        }
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
        if let Some(h) = &handled {
            outln!("  handled         {} by {}: {}", h.at, shown(&h.by), shown(&h.note));
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
        // The letter's answers on all its transmissions: the latest is its answer on screen.
        if let Some(latest) = letter_answers.last() {
            outln!(
                "  latest answer   {} to transmission {} (message {}), {}",
                latest.receipt.receipt_type,
                latest.transmission,
                latest.message_id,
                latest.receipt.received_at
            );
            outln!("  answers to the letter, in the order they came (each once; duplicates are logged, not listed):");
        }
        for a in &letter_answers {
            let r = &a.receipt;
            outln!(
                "    {}  {} to transmission {} (message {}): {}{}",
                r.received_at,
                r.receipt_type,
                a.transmission,
                a.message_id,
                r.outcome,
                r.refuse_code.as_deref().map(|c| format!(" {}", shown(c))).unwrap_or_default()
            );
        }
    }
    Ok(0)
}

/// Writes `part` of message `key` to `output` (a new file) or standard output, exactly as the
/// journal holds it, once the export is in the audit log.
fn write_out(journal: &mut flspost::journal::Journal, key: &str, part: Part, output: Option<&Path>) -> Result<i32> {
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

/// `journal show R<n>`: a refused input, what closed it, never its bytes or a CPR number.
fn show_refused(journal: &flspost::journal::Journal, id: i64, json: bool) -> Result<i32> {
    let r = journal.refused_input(id)?.ok_or_else(|| {
        Error::Usage(format!("no refused input {} in the journal {}", refused_label(id), journal.location()))
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
