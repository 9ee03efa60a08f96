//! The journal: an embedded SQLite database of every input, every message built from it
//! (with its exact bytes), every send attempt and every receipt.
//!
//! It is the source of truth for support staff and for `send`: a message is sent from
//! the bytes stored here, never rebuilt on the way. Rows are never deleted, and every
//! change of state happens inside one transaction, so a killed process leaves the journal
//! as it was before or after a step, never between.

mod receipts;
pub use receipts::ReceiptOutcome;

use crate::compose::Kind;
use crate::error::{Error, Result};
use crate::fsutil;
use rusqlite::{params, Connection, OptionalExtension, Row, TransactionBehavior};
use serde::Serialize;
use std::path::{Path, PathBuf};

const SCHEMA: &str = include_str!("schema.sql");
const SCHEMA_VERSION: i64 = 1;
/// Write-ahead log size at which a writer checkpoints and empties it.
const WAL_CHECKPOINT_BYTES: u64 = 1 << 20;

/// Where a message stands.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Status {
    /// Built and validated, waiting for `send`.
    Generated,
    /// A send failed for a reason that may pass (VANS down, 4xx); the next `send` retries.
    Retry,
    /// Handed to the transport.
    Sent,
    /// Given up: a permanent failure, or too many transient ones. Needs `regenerate`.
    Failed,
    /// The receiver's positive receipt (XCTL03) arrived.
    Acknowledged,
    /// A negative receipt (XCTL01/XCTL02) arrived, with MedCom's refuse code and text.
    Rejected,
    /// Replaced before it was sent (by a correction).
    Superseded,
}

impl Status {
    pub const ALL: [Status; 7] = [
        Status::Generated,
        Status::Retry,
        Status::Sent,
        Status::Failed,
        Status::Acknowledged,
        Status::Rejected,
        Status::Superseded,
    ];

    pub fn code(self) -> &'static str {
        match self {
            Status::Generated => "generated",
            Status::Retry => "retry",
            Status::Sent => "sent",
            Status::Failed => "failed",
            Status::Acknowledged => "acknowledged",
            Status::Rejected => "rejected",
            Status::Superseded => "superseded",
        }
    }

    pub fn from_code(s: &str) -> Option<Status> {
        Status::ALL.into_iter().find(|st| st.code() == s)
    }
}

/// A stored input version.
#[derive(Clone, Debug, Serialize)]
pub struct InputRow {
    pub id: i64,
    pub result_id: String,
    pub revision: u32,
    #[serde(skip)]
    pub input_json: String,
    pub input_sha256: String,
    pub site: String,
    pub group: String,
    pub cpr_masked: String,
    pub received_at: String,
}

/// A stored message (without its bytes; see [`Journal::message_bytes`]).
#[derive(Clone, Debug, Serialize)]
pub struct MessageRow {
    pub id: i64,
    pub input_id: i64,
    pub result_id: String,
    pub kind: Kind,
    #[serde(skip)]
    pub content_sha256: String,
    pub letter_revision: u32,
    pub letter_id: String,
    pub envelope_id: Option<String>,
    pub attempt: u32,
    pub status_code: String,
    pub status: Status,
    pub reason: Option<String>,
    pub refuse_code: Option<String>,
    pub send_failures: u32,
    pub sha256: String,
    pub created_at: String,
    pub updated_at: String,
    pub regenerated_from: Option<i64>,
    pub replaces: Option<i64>,
    pub cpr_masked: String,
}

const MESSAGE_COLUMNS: &str = "m.id, m.input_id, m.result_id, m.kind, m.content_sha256, m.letter_revision, \
    m.letter_id, m.envelope_id, m.attempt, m.status_code, m.status, m.reason, m.refuse_code, m.send_failures, \
    m.sha256, m.created_at, m.updated_at, m.regenerated_from, m.replaces, i.cpr_masked";

fn message_row(r: &Row<'_>) -> rusqlite::Result<MessageRow> {
    let kind: String = r.get(3)?;
    let status: String = r.get(10)?;
    Ok(MessageRow {
        id: r.get(0)?,
        input_id: r.get(1)?,
        result_id: r.get(2)?,
        kind: Kind::from_code(&kind).ok_or_else(|| bad_value(3, &kind))?,
        content_sha256: r.get(4)?,
        letter_revision: r.get(5)?,
        letter_id: r.get(6)?,
        envelope_id: r.get(7)?,
        attempt: r.get(8)?,
        status_code: r.get(9)?,
        status: Status::from_code(&status).ok_or_else(|| bad_value(10, &status))?,
        reason: r.get(11)?,
        refuse_code: r.get(12)?,
        send_failures: r.get(13)?,
        sha256: r.get(14)?,
        created_at: r.get(15)?,
        updated_at: r.get(16)?,
        regenerated_from: r.get(17)?,
        replaces: r.get(18)?,
        cpr_masked: r.get(19)?,
    })
}

fn bad_value(col: usize, v: &str) -> rusqlite::Error {
    rusqlite::Error::FromSqlConversionFailure(col, rusqlite::types::Type::Text, format!("unknown value `{v}`").into())
}

fn input_row(r: &Row<'_>) -> rusqlite::Result<InputRow> {
    Ok(InputRow {
        id: r.get(0)?,
        result_id: r.get(1)?,
        revision: r.get(2)?,
        input_json: r.get(3)?,
        input_sha256: r.get(4)?,
        site: r.get(5)?,
        group: r.get(6)?,
        cpr_masked: r.get(7)?,
        received_at: r.get(8)?,
    })
}

const INPUT_COLUMNS: &str = "id, result_id, revision, input_json, input_sha256, site, grp, cpr_masked, received_at";

/// A send attempt.
#[derive(Clone, Debug, Serialize)]
pub struct AttemptRow {
    pub id: i64,
    pub envelope_id: Option<String>,
    pub transport: String,
    pub started_at: String,
    pub finished_at: Option<String>,
    pub outcome: Option<String>,
    pub reason: Option<String>,
}

/// A new input version to store.
pub struct NewInput<'a> {
    pub result_id: &'a str,
    pub revision: u32,
    pub input_json: &'a str,
    pub input_sha256: &'a str,
    pub site: &'a str,
    pub group: &'a str,
    pub cpr_masked: &'a str,
}

/// A new message to store.
pub struct NewMessage<'a> {
    pub input_id: i64,
    pub result_id: &'a str,
    pub kind: Kind,
    pub content_sha256: &'a str,
    pub letter_revision: u32,
    pub letter_id: &'a str,
    pub envelope_id: Option<&'a str>,
    pub attempt: u32,
    pub status_code: &'a str,
    pub bytes: &'a [u8],
    /// SHA-256 of `bytes` (hex), computed where the message was built.
    pub sha256: &'a str,
    pub regenerated_from: Option<i64>,
    pub replaces: Option<i64>,
}

/// The result of a send attempt, as the journal records it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Outcome {
    Sent,
    Transient(String),
    Permanent(String),
}

pub struct Journal {
    conn: Connection,
    path: PathBuf,
    /// SQLite's write-ahead log beside the journal (its size decides checkpoints).
    wal: PathBuf,
}

/// `PATH` with `suffix` added to its file name (`journal.sqlite` -> `journal.sqlite-wal`).
fn beside(path: &Path, suffix: &str) -> PathBuf {
    let mut name = path.file_name().unwrap_or_default().to_os_string();
    name.push(suffix);
    path.with_file_name(name)
}

/// Held while a `send` runs; released when dropped or when the process ends.
pub struct SendLock {
    _file: std::fs::File,
}

/// `$XDG_STATE_HOME/flspost/journal.sqlite`, else `~/.local/state/flspost/journal.sqlite`:
/// the journal when neither `--journal`, `FLSPOST_JOURNAL` nor the config names one.
pub fn default_path() -> PathBuf {
    let base = std::env::var_os("XDG_STATE_HOME")
        .filter(|p| !p.is_empty())
        .map(PathBuf::from)
        .or_else(|| std::env::var_os("HOME").map(|h| PathBuf::from(h).join(".local/state")))
        .unwrap_or_else(|| PathBuf::from("."));
    base.join("flspost").join("journal.sqlite")
}

pub fn now_text() -> String {
    crate::clock::now().to_rfc3339_opts(chrono::SecondsFormat::Millis, true)
}

impl Journal {
    /// Opens (creating if needed, mode 0600 in a 0700 folder) the journal at `path`.
    pub fn open(path: &Path) -> Result<Journal> {
        if let Some(dir) = path.parent().filter(|d| !d.as_os_str().is_empty()) {
            // Durable: SQLite flushes the journal's folder when it creates its files, but not
            // the folder's own name in its parent.
            fsutil::create_private_dir_durable(dir).map_err(|e| Error::io(dir, e))?;
        }
        let conn = Connection::open(path)?;
        conn.busy_timeout(std::time::Duration::from_secs(30))?;
        // The gateway starts one process per message. A checkpoint (two flushes to disk)
        // at every close would cost each of them ~2 ms; instead the log is checkpointed
        // and emptied once it passes WAL_CHECKPOINT_BYTES (see `write`), which also keeps
        // small what the next process has to read when it opens the journal.
        conn.set_db_config(rusqlite::config::DbConfig::SQLITE_DBCONFIG_NO_CKPT_ON_CLOSE, true)?;
        {
            use std::os::unix::fs::PermissionsExt;
            let _ = std::fs::set_permissions(path, std::fs::Permissions::from_mode(0o600));
        }
        let version =
            |c: &Connection| -> rusqlite::Result<i64> { c.pragma_query_value(None, "user_version", |r| r.get(0)) };
        if version(&conn)? == 0 {
            // A new journal. Both settings stick to the file: 16 KB pages hold most 3-30 KB
            // messages in one page instead of an overflow chain; WAL lets readers (support
            // staff) work while the gateway writes.
            conn.execute_batch("PRAGMA page_size = 16384; PRAGMA journal_mode = WAL;")?;
            // Under the write lock, so two processes creating it at once do it once.
            let tx = rusqlite::Transaction::new_unchecked(&conn, TransactionBehavior::Immediate)?;
            if version(&tx)? == 0 {
                tx.execute_batch(SCHEMA)?;
                tx.pragma_update(None, "user_version", SCHEMA_VERSION)?;
            }
            tx.commit()?;
        }
        // Per connection, and after the page size is known (SQLite sizes the cache in pages):
        // 16 MB of page cache, so a batch round's transaction mostly fits and memory stays
        // flat. FULL sync: every commit flushes the write-ahead log before it returns, so
        // what a command reported survives a power cut, not only a killed process (NORMAL
        // may lose the last commits). A batch commits once per round: one flush per round.
        conn.execute_batch("PRAGMA cache_size = -16384; PRAGMA synchronous = FULL; PRAGMA foreign_keys = ON;")?;
        match version(&conn)? {
            SCHEMA_VERSION => {}
            v => {
                return Err(Error::Usage(format!(
                    "journal {} has schema version {v}; this flspost knows {SCHEMA_VERSION}",
                    path.display()
                )))
            }
        }
        Ok(Journal { conn, path: path.to_path_buf(), wal: beside(path, "-wal") })
    }

    pub fn path(&self) -> &Path {
        &self.path
    }

    /// Serialises `send`: holds an exclusive lock (beside the journal) until dropped, so two
    /// `send` processes never hand over the same message. The lock goes with the process,
    /// also when it is killed. A second `send` waits for the first to finish.
    pub fn lock_for_sending(&self) -> Result<SendLock> {
        use std::os::unix::fs::OpenOptionsExt;
        use std::os::unix::io::AsRawFd;
        let path = beside(&self.path, ".send-lock");
        let file = std::fs::OpenOptions::new()
            .create(true)
            .truncate(false)
            .write(true)
            .mode(0o600)
            .open(&path)
            .map_err(|e| Error::io(&path, e))?;
        // SAFETY: flock on a descriptor we own; blocks until the other holder is done.
        if unsafe { libc::flock(file.as_raw_fd(), libc::LOCK_EX) } != 0 {
            return Err(Error::io(&path, std::io::Error::last_os_error()));
        }
        Ok(SendLock { _file: file })
    }

    /// Runs `f` inside one write transaction (taken at once, so concurrent flspost
    /// processes queue instead of interleaving), committing only when it succeeds.
    pub fn write<T>(&mut self, f: impl FnOnce(&rusqlite::Transaction<'_>) -> Result<T>) -> Result<T> {
        let tx = self.conn.transaction_with_behavior(TransactionBehavior::Immediate)?;
        let v = f(&tx)?;
        tx.commit()?;
        self.checkpoint_if_large()?;
        Ok(v)
    }

    fn checkpoint_if_large(&mut self) -> Result<()> {
        if std::fs::metadata(&self.wal).is_ok_and(|m| m.len() > WAL_CHECKPOINT_BYTES) {
            // Busy (another process reading) is fine: a later writer will do it.
            let _: rusqlite::Result<(i64, i64, i64)> =
                self.conn.query_row("PRAGMA wal_checkpoint(TRUNCATE)", [], |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)));
        }
        Ok(())
    }

    pub fn latest_input(&self, result_id: &str) -> Result<Option<InputRow>> {
        Ok(self
            .conn
            .query_row(
                &format!("SELECT {INPUT_COLUMNS} FROM inputs WHERE result_id = ?1 ORDER BY revision DESC LIMIT 1"),
                [result_id],
                input_row,
            )
            .optional()?)
    }

    pub fn input(&self, id: i64) -> Result<InputRow> {
        Ok(self.conn.query_row(&format!("SELECT {INPUT_COLUMNS} FROM inputs WHERE id = ?1"), [id], input_row)?)
    }

    /// Messages of a result, oldest first.
    pub fn messages_of(&self, result_id: &str) -> Result<Vec<MessageRow>> {
        let mut st = self.conn.prepare_cached(&format!(
            "SELECT {MESSAGE_COLUMNS} FROM messages m JOIN inputs i ON i.id = m.input_id WHERE m.result_id = ?1 ORDER BY m.id"
        ))?;
        let rows = st.query_map([result_id], message_row)?.collect::<rusqlite::Result<Vec<_>>>()?;
        Ok(rows)
    }

    pub fn message(&self, id: i64) -> Result<Option<MessageRow>> {
        Ok(self
            .conn
            .query_row(
                &format!("SELECT {MESSAGE_COLUMNS} FROM messages m JOIN inputs i ON i.id = m.input_id WHERE m.id = ?1"),
                [id],
                message_row,
            )
            .optional()?)
    }

    /// Finds a message by journal id, letter identifier or MeMo UUID (latest attempt).
    pub fn find_message(&self, key: &str) -> Result<Option<MessageRow>> {
        if let Ok(id) = key.parse::<i64>() {
            return self.message(id);
        }
        Ok(self
            .conn
            .query_row(
                &format!(
                    "SELECT {MESSAGE_COLUMNS} FROM messages m JOIN inputs i ON i.id = m.input_id \
                     WHERE m.letter_id = ?1 OR m.envelope_id = ?1 ORDER BY m.id DESC LIMIT 1"
                ),
                [key],
                message_row,
            )
            .optional()?)
    }

    pub fn message_bytes(&self, id: i64) -> Result<Vec<u8>> {
        Ok(self.conn.query_row("SELECT bytes FROM message_bytes WHERE message_id = ?1", [id], |r| r.get(0))?)
    }

    /// The message that regenerated `id`, if any.
    pub fn regenerated_as(&self, id: i64) -> Result<Option<i64>> {
        Ok(self
            .conn
            .query_row("SELECT id FROM messages WHERE regenerated_from = ?1 ORDER BY id LIMIT 1", [id], |r| r.get(0))
            .optional()?)
    }

    /// The highest send attempt of a letter so far.
    pub fn max_attempt(&self, kind: Kind, letter_id: &str) -> Result<u32> {
        Ok(self.conn.query_row(
            "SELECT COALESCE(MAX(attempt), 0) FROM messages WHERE kind = ?1 AND letter_id = ?2",
            params![kind.code(), letter_id],
            |r| r.get(0),
        )?)
    }

    /// Links a message built by a correction to the failed message it answers.
    pub fn set_regenerated_from(&mut self, id: i64, from: i64) -> Result<()> {
        self.conn.execute("UPDATE messages SET regenerated_from = ?2 WHERE id = ?1", params![id, from])?;
        Ok(())
    }

    /// Messages waiting for `send`, oldest first.
    pub fn pending(&self) -> Result<Vec<MessageRow>> {
        let mut st = self.conn.prepare_cached(&format!(
            "SELECT {MESSAGE_COLUMNS} FROM messages m JOIN inputs i ON i.id = m.input_id \
             WHERE m.status IN ('generated', 'retry') ORDER BY m.id"
        ))?;
        let rows = st.query_map([], message_row)?.collect::<rusqlite::Result<Vec<_>>>()?;
        Ok(rows)
    }

    /// Records that a send is starting. An attempt a killed process left open is closed
    /// as `interrupted` first: the bytes are the same, so sending them again is a resend
    /// of the same envelope, which MedCom receivers recognise.
    pub fn start_attempt(&mut self, m: &MessageRow, transport: &str) -> Result<i64> {
        self.write(|tx| {
            tx.execute(
                "UPDATE attempts SET outcome = 'interrupted', finished_at = ?2, \
                 reason = 'flspost stopped before the outcome was known' WHERE message_id = ?1 AND outcome IS NULL",
                params![m.id, now_text()],
            )?;
            tx.execute(
                "INSERT INTO attempts (message_id, envelope_id, transport, started_at) VALUES (?1, ?2, ?3, ?4)",
                params![m.id, m.envelope_id, transport, now_text()],
            )?;
            Ok(tx.last_insert_rowid())
        })
    }

    /// Records the outcome of an attempt and moves the message on. Transient failures
    /// become `retry` until `max_attempts` failures, then `failed`.
    pub fn finish_attempt(
        &mut self,
        attempt_id: i64,
        m: &MessageRow,
        outcome: &Outcome,
        max_attempts: u32,
    ) -> Result<Status> {
        self.write(|tx| {
            let now = now_text();
            let (code, reason) = match outcome {
                Outcome::Sent => ("sent", None),
                Outcome::Transient(r) => ("transient", Some(r.as_str())),
                Outcome::Permanent(r) => ("permanent", Some(r.as_str())),
            };
            tx.execute(
                "UPDATE attempts SET outcome = ?2, reason = ?3, finished_at = ?4 WHERE id = ?1",
                params![attempt_id, code, reason, now],
            )?;
            let failures = m.send_failures + u32::from(!matches!(outcome, Outcome::Sent));
            let (status, reason) = match outcome {
                Outcome::Sent => (Status::Sent, None),
                Outcome::Transient(r) if failures < max_attempts => (Status::Retry, Some(r.clone())),
                Outcome::Transient(r) => {
                    (Status::Failed, Some(format!("gave up after {failures} attempts; last: {r}")))
                }
                Outcome::Permanent(r) => (Status::Failed, Some(r.clone())),
            };
            // Only move a message that is still waiting (a receipt may have overtaken us).
            tx.execute(
                "UPDATE messages SET status = ?2, reason = ?3, send_failures = ?4, updated_at = ?5 \
                 WHERE id = ?1 AND status IN ('generated', 'retry')",
                params![m.id, status.code(), reason, failures, now],
            )?;
            Ok(status)
        })
    }

    pub fn attempts(&self, message_id: i64) -> Result<Vec<AttemptRow>> {
        let mut st = self.conn.prepare_cached(
            "SELECT id, envelope_id, transport, started_at, finished_at, outcome, reason FROM attempts \
             WHERE message_id = ?1 ORDER BY id",
        )?;
        let rows = st
            .query_map([message_id], |r| {
                Ok(AttemptRow {
                    id: r.get(0)?,
                    envelope_id: r.get(1)?,
                    transport: r.get(2)?,
                    started_at: r.get(3)?,
                    finished_at: r.get(4)?,
                    outcome: r.get(5)?,
                    reason: r.get(6)?,
                })
            })?
            .collect::<rusqlite::Result<Vec<_>>>()?;
        Ok(rows)
    }

    /// Messages for `journal list`, newest first. Only the filters given go into the query,
    /// so the status and result indexes serve them.
    pub fn list(
        &self,
        status: Option<Status>,
        since: Option<&str>,
        result_id: Option<&str>,
    ) -> Result<Vec<MessageRow>> {
        let mut clauses = vec![];
        let mut values: Vec<&dyn rusqlite::ToSql> = vec![];
        let status_code = status.map(Status::code);
        if let Some(st) = &status_code {
            clauses.push("m.status = ?");
            values.push(st);
        }
        if let Some(since) = &since {
            clauses.push("m.updated_at >= ?");
            values.push(since);
        }
        if let Some(rid) = &result_id {
            clauses.push("m.result_id = ?");
            values.push(rid);
        }
        let filter = if clauses.is_empty() { String::new() } else { format!("WHERE {}", clauses.join(" AND ")) };
        let mut st = self.conn.prepare(&format!(
            "SELECT {MESSAGE_COLUMNS} FROM messages m JOIN inputs i ON i.id = m.input_id {filter} ORDER BY m.id DESC"
        ))?;
        let rows = st.query_map(values.as_slice(), message_row)?.collect::<rusqlite::Result<Vec<_>>>()?;
        Ok(rows)
    }
}

/// Inserts an input version; returns its id.
pub fn insert_input(tx: &rusqlite::Transaction<'_>, i: &NewInput<'_>) -> Result<i64> {
    tx.prepare_cached(
        "INSERT INTO inputs (result_id, revision, input_json, input_sha256, site, grp, cpr_masked, received_at) \
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8)",
    )?
    .execute(params![
        i.result_id,
        i.revision,
        i.input_json,
        i.input_sha256,
        i.site,
        i.group,
        i.cpr_masked,
        now_text()
    ])?;
    Ok(tx.last_insert_rowid())
}

/// Inserts a message in status `generated`; returns its id.
pub fn insert_message(tx: &rusqlite::Transaction<'_>, m: &NewMessage<'_>) -> Result<i64> {
    let now = now_text();
    tx.prepare_cached(
        "INSERT INTO messages (input_id, result_id, kind, content_sha256, letter_revision, letter_id, envelope_id, \
         attempt, status_code, status, sha256, created_at, updated_at, regenerated_from, replaces) \
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, 'generated', ?10, ?11, ?11, ?12, ?13)",
    )?
    .execute(params![
        m.input_id,
        m.result_id,
        m.kind.code(),
        m.content_sha256,
        m.letter_revision,
        m.letter_id,
        m.envelope_id,
        m.attempt,
        m.status_code,
        m.sha256,
        now,
        m.regenerated_from,
        m.replaces,
    ])?;
    let id = tx.last_insert_rowid();
    tx.prepare_cached("INSERT INTO message_bytes (message_id, bytes) VALUES (?1, ?2)")?
        .execute(params![id, m.bytes])?;
    Ok(id)
}

/// Marks waiting messages of `result_id`/`kind` as superseded by `by`.
pub fn supersede_waiting(tx: &rusqlite::Transaction<'_>, result_id: &str, kind: Kind, by: i64) -> Result<()> {
    tx.prepare_cached(
        "UPDATE messages SET status = 'superseded', reason = ?4, updated_at = ?5 \
         WHERE result_id = ?1 AND kind = ?2 AND id <> ?3 AND status IN ('generated', 'retry', 'failed')",
    )?
    .execute(params![
        result_id,
        kind.code(),
        by,
        format!("replaced by message {by} before it was delivered"),
        now_text()
    ])?;
    Ok(())
}
