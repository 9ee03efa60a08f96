//! Retention (`journal prune`): the message bytes and inputs of results whose every letter is
//! final (acknowledged, superseded, a failure or rejection a person handled, a patient's letter
//! handed over) since before
//! a cut-off are removed; their rows (ids, times, statuses, masked CPR, reasons, hashes) stay.
//!
//! A result is pruned whole or not at all: while any of its letters is open (generated,
//! retry, sent and unanswered, failed or rejected and not handled) nothing of it is touched,
//! so a resend is always built from the stored bytes and input, and MedCom's duplicate rule
//! (an input already recorded is not a new letter) needs only `input_sha256`, which stays.
//! The deleting transaction runs with `secure_delete` on and the write-ahead log is emptied
//! after it, so the bytes are gone from the file, not only from the tables.

use super::{now_text, Journal};
use crate::error::{Error, Result};
use super::db::{params, Connection};
use serde::Serialize;

/// The cut-offs: bytes (inputs) of results final since before this time are pruned; `None`
/// keeps them.
#[derive(Clone, Debug, Default)]
pub struct Retention {
    pub bytes_before: Option<String>,
    pub inputs_before: Option<String>,
}

/// What a prune removed (or, dry run, would remove).
#[derive(Clone, Debug, Default, Serialize, PartialEq, Eq)]
pub struct Pruned {
    pub dry_run: bool,
    /// Results whose messages' bytes were pruned.
    pub results: u64,
    pub messages: u64,
    pub message_bytes: u64,
    pub inputs: u64,
    pub input_bytes: u64,
    /// Whether the write-ahead log could be emptied afterwards (`false`: a reader held it;
    /// the old pages leave it at the next checkpoint).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub wal_emptied: Option<bool>,
}

/// A message in a final state: nothing will be sent or answered for it any more. A patient's
/// letter handed over (`sent`) gets no answer; a GP letter `sent` again is done once another
/// transmission of it was acknowledged.
const FINAL: &str = "(m.status IN ('acknowledged', 'superseded') \
     OR (m.status IN ('failed', 'rejected') AND m.handled_at IS NOT NULL) \
     OR (m.status = 'sent' AND m.kind IN ('patient-memo', 'patient-kombi')) \
     OR (m.status = 'sent' AND EXISTS (SELECT 1 FROM messages d WHERE d.kind = m.kind \
         AND d.letter_id = m.letter_id AND d.status = 'acknowledged')))";

/// The results whose every message is final, the latest of their changes (status, handling,
/// input) before `?1`.
fn expired_results(conn: &Connection) -> String {
    format!(
        "SELECT m.result_id FROM messages m GROUP BY m.result_id \
         HAVING COUNT(*) FILTER (WHERE NOT {FINAL}) = 0 \
            AND MAX({}) < ?1 \
            AND (SELECT MAX(i.received_at) FROM inputs i WHERE i.result_id = m.result_id) < ?1",
        conn.greatest("m.updated_at", "coalesce(m.handled_at, '')")
    )
}

impl Journal {
    /// Applies `r` (with `dry_run`, only counts). `who` is recorded in the audit log with the
    /// counts (never a CPR number). `archive` gets each message's bytes before they go
    /// (`message id`, `result id`, bytes); an error there stops the prune with nothing removed.
    pub fn prune(
        &mut self,
        r: &Retention,
        dry_run: bool,
        who: &str,
        mut archive: impl FnMut(&PrunedMessage<'_>) -> Result<()>,
    ) -> Result<Pruned> {
        let mut p = Pruned { dry_run, ..Pruned::default() };
        let never = "0000";
        let bytes_before = r.bytes_before.as_deref().unwrap_or(never);
        let inputs_before = r.inputs_before.as_deref().unwrap_or(never);
        let results = expired_results(&self.conn);
        let msgs = format!(
            "FROM messages m JOIN message_bytes b ON b.message_id = m.id \
             WHERE m.pruned_at IS NULL AND m.result_id IN ({results})"
        );
        let ins = format!("FROM inputs WHERE pruned_at IS NULL AND input_json <> '' AND result_id IN ({results})");
        let count = |conn: &Connection, from: &str, len: &str, before: &str| -> Result<(u64, u64, u64)> {
            Ok(conn.query_row(
                &format!("SELECT COUNT(*), CAST(COALESCE(SUM({len}), 0) AS BIGINT), COUNT(DISTINCT result_id) {from}"),
                [before],
                |r| Ok((r.get::<_, i64>(0)? as u64, r.get::<_, i64>(1)? as u64, r.get::<_, i64>(2)? as u64)),
            )?)
        };
        // The parts those messages use go with them (a result's parts are its own).
        let ms = |conn: &Connection| -> Result<(u64, u64, u64)> {
            let (n, len, res) = count(conn, &msgs, "length(b.bytes)", bytes_before)?;
            let parts: i64 = conn.query_row(
                &format!(
                    "SELECT CAST(COALESCE(SUM(length(p.bytes)), 0) AS BIGINT) FROM parts p WHERE p.id IN \
                     (SELECT mp.part_id FROM message_parts mp WHERE mp.message_id IN (SELECT m.id {msgs}))"
                ),
                [bytes_before],
                |r| r.get(0),
            )?;
            Ok((n, len + parts as u64, res))
        };
        if dry_run {
            let (n, len, res) = ms(&self.conn)?;
            let (i, ilen, _) = count(&self.conn, &ins, "octet_length(input_json)", inputs_before)?;
            (p.messages, p.message_bytes, p.results, p.inputs, p.input_bytes) = (n, len, res, i, ilen);
            return Ok(p);
        }
        // On for every connection (open.rs); said again here because prune depends on it.
        if let Some(sqlite) = self.conn.sqlite() {
            sqlite.pragma_update(None, "secure_delete", true)?;
        }
        let done = self.transaction(|tx| {
            let (n, len, res) = ms(tx)?;
            let (i, ilen, _) = count(tx, &ins, "octet_length(input_json)", inputs_before)?;
            {
                let mut st = tx.prepare(&format!(
                    "SELECT m.id, m.result_id, m.kind, m.letter_id, b.bytes, m.sha256 {msgs} ORDER BY m.id"
                ))?;
                let mut rows = st.query([bytes_before])?;
                while let Some(row) = rows.next()? {
                    let kind: String = row.get(2)?;
                    let id: i64 = row.get(0)?;
                    let result_id = row.get_ref(1)?.as_str().unwrap_or_default();
                    let damaged =
                        |p: &str| Error::Damaged(format!("message {id} (result {result_id}): {p}; nothing pruned"));
                    let bytes =
                        super::bytes::made(tx, row.get_ref(4)?.as_blob().unwrap_or_default())?.map_err(damaged)?;
                    // What goes to the archive is what was sent, or nothing goes.
                    let sha256: String = row.get(5)?;
                    if crate::support::digest::sha256_hex(&bytes) != sha256 {
                        return Err(damaged("its stored bytes do not match their SHA-256 (the journal is damaged)"));
                    }
                    archive(&PrunedMessage {
                        id,
                        result_id,
                        kind: &kind,
                        letter_id: row.get_ref(3)?.as_str().unwrap_or_default(),
                        bytes: &bytes,
                    })?;
                }
            }
            let now = now_text();
            tx.execute(
                &format!(
                    "UPDATE messages SET pruned_at = ?2 WHERE pruned_at IS NULL AND id IN \
                     (SELECT m.id {msgs})"
                ),
                params![bytes_before, now],
            )?;
            super::bytes::remove(tx, "SELECT id FROM messages WHERE pruned_at = ?1", [&now])?;
            tx.execute(
                &format!("UPDATE inputs SET input_json = '', pruned_at = ?2 WHERE id IN (SELECT id {ins})"),
                params![inputs_before, now],
            )?;
            let detail = format!("{n} messages ({len} bytes) of {res} results, {i} inputs ({ilen} bytes)");
            tx.execute(
                "INSERT INTO audit (at, who, action, target, detail) VALUES (?1, ?2, 'prune', 'journal', ?3)",
                params![now, who, detail],
            )?;
            Ok((n, len, res, i, ilen))
        });
        (p.messages, p.message_bytes, p.results, p.inputs, p.input_bytes) = done?;
        // The pages as they were before are still in the write-ahead log until a checkpoint
        // (on PostgreSQL: dead row versions until a VACUUM).
        p.wal_emptied = Some(self.checkpoint_truncate().unwrap_or(false));
        Ok(p)
    }
}

/// A message whose bytes a prune is about to remove, for an archive.
pub struct PrunedMessage<'a> {
    pub id: i64,
    pub result_id: &'a str,
    pub kind: &'a str,
    pub letter_id: &'a str,
    pub bytes: &'a [u8],
}
