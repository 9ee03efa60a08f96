//! A patient erased (`journal erase`): their inputs and message bytes removed, the personal
//! fields of what stays replaced, in one transaction with SQLite's `secure_delete` on, so the
//! old content is overwritten in the file, not only unlinked. The rows stay (ids, result ids,
//! site, group, statuses, times: what the journal's history and MedCom's resend rules need),
//! marked `erased_at`, so `journal verify` tells an erased row from a damaged one.
//!
//! Which of the patient's letters are still open is the work queue's question
//! ([`crate::app::erase`] asks it before); this file only removes.

use super::sql::now_text;
use super::Writer;
use crate::error::Result;
use super::db::params;
use serde::Serialize;

/// What stands in for an erased input: still JSON, saying what happened, naming no one.
pub const ERASED_INPUT: &str = r#"{"erased":true}"#;
/// What stands in for an erased text (a reason, a note, a masked CPR).
pub const ERASED: &str = "erased";
/// SHA-256 of no bytes: an erased refused input holds none, and still matches its hash.
const EMPTY_SHA256: &str = "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855";

/// How many rows of each kind an erasure emptied.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize)]
pub struct Erased {
    pub inputs: u64,
    pub messages: u64,
    pub receipts: u64,
    pub refused: u64,
    /// The results whose letters were erased (ids name no one): what the gateway removes of
    /// its own copies (`--out-dir` folders, files a transport handed on), which flspost
    /// never touches.
    pub results: Vec<String>,
}

impl Erased {
    pub fn is_empty(&self) -> bool {
        *self == Erased::default()
    }
}

/// The patient's inputs (by the CPR in the stored input, as the search index has it).
fn patient_inputs(c: &super::db::Connection) -> String {
    format!("SELECT id FROM inputs WHERE erased_at IS NULL AND {} = ?1", c.json_text("input_json", "'$.patient.cpr'"))
}

impl Writer<'_> {
    /// Erases the patient with CPR number `cpr` (10 digits), in the caller's transaction;
    /// `who` closes the problems their rows leave. Their inputs become [`ERASED_INPUT`], their
    /// messages' bytes and receipts' bytes are deleted, every text that may quote them (a
    /// reason, a refuse text, a note, an audit detail about those rows) is replaced, and their
    /// refused inputs (by the CPR in them, or by one of their results) are emptied. A message
    /// still to be sent is failed (it has nothing left to send); every problem is closed.
    pub fn erase_patient(&self, cpr: &str, who: &str) -> Result<Erased> {
        let c = self.conn;
        let Some(sqlite) = c.sqlite() else {
            // PostgreSQL keeps a deleted or updated row's old version until VACUUM, which
            // `journal erase` runs after the commit (`Journal::checkpoint_truncate`).
            return erase(c, cpr, who);
        };
        let was: i64 = sqlite.pragma_query_value(None, "secure_delete", |r| r.get(0))?;
        sqlite.pragma_update(None, "secure_delete", true)?;
        let erased = erase(c, cpr, who);
        sqlite.pragma_update(None, "secure_delete", was)?;
        erased
    }
}

fn erase(c: &super::db::Connection, cpr: &str, who: &str) -> Result<Erased> {
    let now = now_text();
    c.execute_batch(
        "CREATE TEMP TABLE IF NOT EXISTS erase_inputs (id INTEGER PRIMARY KEY);
         CREATE TEMP TABLE IF NOT EXISTS erase_messages (id INTEGER PRIMARY KEY);
         CREATE TEMP TABLE IF NOT EXISTS erase_refused (id INTEGER PRIMARY KEY);
         DELETE FROM erase_inputs; DELETE FROM erase_messages; DELETE FROM erase_refused;",
    )?;
    c.execute(&format!("INSERT INTO erase_inputs {}", patient_inputs(c)), [cpr])?;
    c.execute(
        "INSERT INTO erase_messages SELECT id FROM messages WHERE input_id IN (SELECT id FROM erase_inputs)",
        [],
    )?;
    c.execute(
        &format!(
            "INSERT INTO erase_refused SELECT id FROM refused_inputs WHERE {} = ?1 \
             OR result_id IN (SELECT result_id FROM inputs WHERE id IN (SELECT id FROM erase_inputs))",
            c.json_text_of_bytes("input_bytes", "'$.patient.cpr'")
        ),
        [cpr],
    )?;
    let messages_where = "id IN (SELECT id FROM erase_messages)";
    // Nothing left to send: a letter still queued fails (before its problem is closed, which
    // a change of status would reopen).
    c.execute(
        &format!(
            "UPDATE messages SET status = 'failed', updated_at = ?1 WHERE {messages_where} \
             AND status IN ('generated', 'retry')"
        ),
        [&now],
    )?;
    let messages = c.execute(
        &format!(
            "UPDATE messages SET erased_at = ?1, \
               reason = CASE WHEN reason IS NULL THEN NULL ELSE ?2 END, \
               refuse_code = CASE WHEN {} THEN ?2 ELSE refuse_code END, \
               handled_note = ?2, \
               handled_by = COALESCE(handled_by, ?3), handled_at = COALESCE(handled_at, ?1) \
             WHERE {messages_where}",
            c.has_char_outside_code("refuse_code")
        ),
        params![now, ERASED, who],
    )?;
    super::bytes::remove(c, "SELECT id FROM erase_messages", [])?;
    c.execute(
        "UPDATE attempts SET reason = ?1 WHERE reason IS NOT NULL \
         AND message_id IN (SELECT id FROM erase_messages)",
        [ERASED],
    )?;
    // Their letters' receipts, and any receipt that matched no letter but quotes the number.
    let dashed = format!("{}-{}", &cpr[..cpr.len().min(6)], &cpr[cpr.len().min(6)..]);
    let receipts = c.execute(
        &format!(
            "UPDATE receipts SET bytes = ?4, refuse_text = CASE WHEN refuse_text IS NULL THEN NULL ELSE ?1 END \
             WHERE message_id IN (SELECT id FROM erase_messages) \
                OR (message_id IS NULL AND ({} OR {} OR {} OR {}))",
            c.bytes_contain("bytes", "?2"),
            c.bytes_contain("bytes", "?3"),
            c.text_contains("coalesce(refuse_text, '')", "?2"),
            c.text_contains("coalesce(refuse_text, '')", "?3"),
        ),
        params![ERASED, cpr, dashed, Vec::<u8>::new()],
    )?;
    let inputs = c.execute(
        "UPDATE inputs SET input_json = ?1, cpr_masked = ?2, erased_at = ?3 \
         WHERE id IN (SELECT id FROM erase_inputs)",
        params![ERASED_INPUT, ERASED, now],
    )?;
    let refused = c.execute(
        "UPDATE refused_inputs SET input_bytes = ?5, input_sha256 = ?1, reason = ?2, \
           handled_note = ?2, handled_by = COALESCE(handled_by, ?3), \
           handled_at = COALESCE(handled_at, ?4) \
         WHERE id IN (SELECT id FROM erase_refused)",
        params![EMPTY_SHA256, ERASED, who, now, Vec::<u8>::new()],
    )?;
    // A search for the patient in the console kept their birth date (the masked number).
    c.execute(
        "UPDATE audit SET detail = ?1 WHERE action = 'cpr-search' AND detail = ?2",
        params![ERASED, format!("{}-xxxx", &cpr[..cpr.len().min(6)])],
    )?;
    // A note someone wrote about one of these rows (`journal handle`) may name the patient.
    c.execute(
        "UPDATE audit SET detail = ?1 WHERE detail IS NOT NULL AND ( \
           target IN (SELECT 'message ' || id FROM erase_messages) \
           OR target IN (SELECT 'refused ' || id FROM erase_refused))",
        [ERASED],
    )?;
    let results = c
        .prepare(
            "SELECT DISTINCT result_id FROM inputs WHERE id IN (SELECT id FROM erase_inputs) ORDER BY result_id",
        )?
        .query_map([], |r| r.get(0))?
        .collect::<super::db::Result<Vec<String>>>()?;
    c.execute_batch("DELETE FROM erase_inputs; DELETE FROM erase_messages; DELETE FROM erase_refused;")?;
    let n = |x: usize| x as u64;
    Ok(Erased { inputs: n(inputs), messages: n(messages), receipts: n(receipts), refused: n(refused), results })
}

impl super::Journal {
    /// After an erasure or a prune, what the store still keeps of the rows as they were.
    /// SQLite: copies the write-ahead log into the file and empties it (`PRAGMA
    /// wal_checkpoint(TRUNCATE)`), so the old pages are in neither (`secure_delete` zeroed
    /// them in the file); `false` when another process's reading kept it from completing.
    /// PostgreSQL: `VACUUM` of the tables that held them, so their old row versions are
    /// dead space to be reused; until then they, the server's write-ahead log and its
    /// backups may hold the bytes (docs/operations.md says what to do about those).
    pub fn checkpoint_truncate(&mut self) -> Result<bool> {
        if self.conn.dialect() == super::db::Dialect::Postgres {
            self.conn.execute_batch(
                "VACUUM inputs, messages, message_bytes, parts, message_parts, attempts, receipts, refused_inputs, audit",
            )?;
            return Ok(true);
        }
        let busy: i64 = self.conn.query_row("PRAGMA wal_checkpoint(TRUNCATE)", [], |r| r.get(0))?;
        Ok(busy == 0)
    }
}
