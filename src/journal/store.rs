//! The SQLite store: opening a journal file safely, its pragmas, and every query.

use super::error::StoreError;
use super::migrations::{self, SCHEMA, SCHEMA_VERSION};
use super::types::*;
use crate::error::{Error, Result};
use crate::model::Kind;
use crate::support::files;
use rusqlite::types::{FromSql, FromSqlError, FromSqlResult, ToSql, ToSqlOutput, ValueRef};
use rusqlite::{params, Connection, OptionalExtension, Row, Transaction, TransactionBehavior};
use std::path::{Path, PathBuf};

/// Write-ahead log size at which a writer checkpoints and empties it.
const WAL_CHECKPOINT_BYTES: u64 = 1 << 20;

pub(super) const MESSAGE_COLUMNS: &str = "m.id, m.input_id, m.result_id, m.kind, m.content_sha256, m.letter_revision, \
    m.letter_id, m.envelope_id, m.attempt, m.status_code, m.status, m.reason, m.refuse_code, m.send_failures, \
    m.sha256, m.created_at, m.updated_at, m.regenerated_from, m.replaces, i.cpr_masked";

impl ToSql for Status {
    fn to_sql(&self) -> rusqlite::Result<ToSqlOutput<'_>> {
        Ok(self.code().into())
    }
}

impl FromSql for Status {
    fn column_result(v: ValueRef<'_>) -> FromSqlResult<Self> {
        let s = v.as_str()?;
        Status::from_code(s).ok_or_else(|| unknown_value(s))
    }
}

impl ToSql for Kind {
    fn to_sql(&self) -> rusqlite::Result<ToSqlOutput<'_>> {
        Ok(self.code().into())
    }
}

impl FromSql for Kind {
    fn column_result(v: ValueRef<'_>) -> FromSqlResult<Self> {
        let s = v.as_str()?;
        Kind::from_code(s).ok_or_else(|| unknown_value(s))
    }
}

fn unknown_value(v: &str) -> FromSqlError {
    FromSqlError::Other(format!("unknown value `{v}`").into())
}

impl From<rusqlite::Error> for Error {
    fn from(e: rusqlite::Error) -> Error {
        use rusqlite::ErrorCode::{DatabaseBusy, DatabaseLocked, FileLockingProtocolFailed};
        match &e {
            // Another process held the journal past the wait the config allows (or, for
            // the locking protocol, kept changing it while this one looked): run again.
            rusqlite::Error::SqliteFailure(f, _)
                if matches!(f.code, DatabaseBusy | DatabaseLocked | FileLockingProtocolFailed) =>
            {
                Error::Busy(e.to_string())
            }
            _ => Error::Journal(StoreError(e)),
        }
    }
}

pub(super) fn message_row(r: &Row<'_>) -> rusqlite::Result<MessageRow> {
    Ok(MessageRow {
        id: r.get(0)?,
        input_id: r.get(1)?,
        result_id: r.get(2)?,
        kind: r.get(3)?,
        content_sha256: r.get(4)?,
        letter_revision: r.get(5)?,
        letter_id: r.get(6)?,
        envelope_id: r.get(7)?,
        attempt: r.get(8)?,
        status_code: r.get(9)?,
        status: r.get(10)?,
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

pub(super) fn input_row(r: &Row<'_>) -> rusqlite::Result<InputRow> {
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

pub(super) const INPUT_COLUMNS: &str =
    "id, result_id, revision, input_json, input_sha256, site, grp, cpr_masked, received_at";

pub struct Journal {
    pub(super) conn: Connection,
    path: PathBuf,
    /// SQLite's write-ahead log beside the journal (its size decides checkpoints).
    wal: PathBuf,
    /// The longest wait for another process, each time (SQLite's busy timeout).
    busy: std::time::Duration,
    /// Keeps this process's count of connections to the file (see [`open_files`]).
    _open: OpenFile,
}

/// SQL over `attempts a` for message `m`: some hand-over of it may have delivered it, as far
/// as flspost knows: accepted (`sent`), or cut short with its outcome unknown (`interrupted`
/// by a killed process, `unknown` after a timeout awaiting the reply, or still open). A
/// transmission the transport refused (`transient`, `permanent`) never left. The one rule
/// receipts, Acknowledgements and MedCom's resend limit count by.
pub(super) const HANDED_OVER: &str = "EXISTS (SELECT 1 FROM attempts a WHERE a.message_id = m.id \
     AND (a.outcome IS NULL OR a.outcome IN ('sent', 'interrupted', 'unknown')))";

/// How long a command waits for a journal another process is writing, unless the config
/// says otherwise (`[journal] busy_timeout_seconds`).
pub const DEFAULT_BUSY_TIMEOUT: std::time::Duration = std::time::Duration::from_secs(30);

/// The journal files this process has an SQLite connection to, by device and inode, with
/// how many. POSIX locks belong to a process, not a descriptor: closing *any* descriptor of
/// a file drops every lock the process holds on it (SQLite's "How To Corrupt", 2.2), after
/// which other processes see no reader and reset the write-ahead log under this one. So
/// flspost opens a journal's files itself (to check and fix their mode) only while this
/// process has no connection to it; SQLite then does all the rest.
fn open_files() -> &'static std::sync::Mutex<std::collections::HashMap<(u64, u64), usize>> {
    static OPEN: std::sync::OnceLock<std::sync::Mutex<std::collections::HashMap<(u64, u64), usize>>> =
        std::sync::OnceLock::new();
    OPEN.get_or_init(Default::default)
}

/// One connection's place in [`open_files`], given back when the journal is dropped.
struct OpenFile((u64, u64));

impl Drop for OpenFile {
    fn drop(&mut self) {
        let mut open = open_files().lock().unwrap_or_else(|e| e.into_inner());
        if let Some(n) = open.get_mut(&self.0) {
            *n -= 1;
            if *n == 0 {
                open.remove(&self.0);
            }
        }
    }
}

fn file_key(meta: &std::fs::Metadata) -> (u64, u64) {
    use std::os::unix::fs::MetadataExt;
    (meta.dev(), meta.ino())
}

/// `PATH` with `suffix` added to its file name (`journal.sqlite` -> `journal.sqlite-wal`).
pub(super) fn beside(path: &Path, suffix: &str) -> PathBuf {
    let mut name = path.file_name().unwrap_or_default().to_os_string();
    name.push(suffix);
    path.with_file_name(name)
}

/// `$XDG_STATE_HOME/flspost/journal.sqlite`, else `~/.local/state/flspost/journal.sqlite`:
/// the journal when neither `--journal`, `FLSPOST_JOURNAL` nor the config names one.
pub fn default_path() -> PathBuf {
    dirs::state_dir().unwrap_or_else(|| PathBuf::from(".")).join("flspost").join("journal.sqlite")
}

/// Creates an empty journal file, owner-only from the start (never a link: `create_new`
/// fails on anything already there), in an owner-only folder when that is missing too.
/// Another process creating it at the same moment is fine: both then open the same file.
fn create_journal_file(path: &Path) -> Result<()> {
    use std::os::unix::fs::OpenOptionsExt;
    if let Some(dir) = path.parent().filter(|d| !d.as_os_str().is_empty()) {
        // Durable: SQLite flushes the journal's folder when it creates its files, but not
        // the folder's own name in its parent.
        files::create_private_dir_durable(dir).map_err(|e| Error::io(dir, e))?;
    }
    match std::fs::OpenOptions::new().write(true).create_new(true).mode(0o600).open(path) {
        Ok(_) => Ok(()),
        Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => match std::fs::symlink_metadata(path) {
            Ok(meta) if meta.file_type().is_file() => Ok(()),
            _ => Err(not_a_journal(path, "was replaced by something else while flspost created it")),
        },
        Err(e) => Err(Error::io(path, e)),
    }
}

/// Puts a journal that someone made readable to others back to owner-only (it holds CPR
/// numbers), and SQLite's `-wal` (whole messages) and `-shm` beside it when present.
/// Through descriptors opened without following links, so only those files are changed.
fn restrict_mode(path: &Path) -> Result<()> {
    restrict_file_mode(path, true)?;
    for side in ["-wal", "-shm"] {
        restrict_file_mode(&beside(path, side), false)?;
    }
    Ok(())
}

fn restrict_file_mode(path: &Path, must_exist: bool) -> Result<()> {
    use std::os::unix::fs::{OpenOptionsExt, PermissionsExt};
    // NONBLOCK: a FIFO put in place of a side file must not hang the open.
    let file = match std::fs::OpenOptions::new().read(true).custom_flags(libc::O_NOFOLLOW | libc::O_NONBLOCK).open(path)
    {
        Ok(f) => f,
        Err(e) if !must_exist && e.kind() == std::io::ErrorKind::NotFound => return Ok(()),
        Err(e) => return Err(Error::io(path, e)),
    };
    let meta = file.metadata().map_err(|e| Error::io(path, e))?;
    if meta.is_file() && meta.permissions().mode() & 0o077 != 0 {
        file.set_permissions(std::fs::Permissions::from_mode(0o600)).map_err(|e| Error::io(path, e))?;
    }
    Ok(())
}

/// Whether the regular file at `path` is, judging from its first page alone, empty or a
/// flspost journal: then its mode may be made 0600 before SQLite opens it. SQLite gives a
/// `-wal`/`-shm` it creates the main file's mode, so this must come first. Anything else
/// is left to the checks after opening (and left alone if it turns out not to be ours).
fn looks_like_ours(path: &Path) -> bool {
    use std::io::Read;
    use std::os::unix::fs::OpenOptionsExt;
    let Ok(file) = std::fs::OpenOptions::new().read(true).custom_flags(libc::O_NOFOLLOW | libc::O_NONBLOCK).open(path)
    else {
        return false;
    };
    if !file.metadata().is_ok_and(|m| m.is_file()) {
        return false;
    }
    let mut head = Vec::with_capacity(108);
    if file.take(108).read_to_end(&mut head).is_err() {
        return false;
    }
    if head.is_empty() {
        return true;
    }
    if head.len() < 108 || &head[..16] != b"SQLite format 3\0" {
        return false;
    }
    let user_version = i32::from_be_bytes([head[60], head[61], head[62], head[63]]);
    // Version 0 with a schema table holding nothing (a leaf page with no cells): an empty
    // database, which flspost sets up as a journal.
    let empty_schema = head[100] == 0x0d && head[103] == 0 && head[104] == 0;
    // Any schema flspost has written: an older one is migrated in the same run, and its
    // `-wal`/`-shm` must be created owner-only then too.
    (1..=SCHEMA_VERSION).contains(&i64::from(user_version)) || (user_version == 0 && empty_schema)
}

pub fn now_text() -> String {
    crate::support::clock::now().to_rfc3339_opts(chrono::SecondsFormat::Millis, true)
}

/// What is at `path` when it is not something flspost may use as its journal, in words.
fn refuse_kind(meta: &std::fs::Metadata) -> Option<&'static str> {
    use std::os::unix::fs::FileTypeExt;
    let t = meta.file_type();
    Some(if t.is_file() {
        return None;
    } else if t.is_symlink() {
        "a symbolic link (give the journal's own path)"
    } else if t.is_dir() {
        "a folder"
    } else if t.is_fifo() {
        "a FIFO"
    } else if t.is_char_device() || t.is_block_device() {
        "a device"
    } else if t.is_socket() {
        "a socket"
    } else {
        "not a regular file"
    })
}

fn not_a_journal(path: &Path, why: impl std::fmt::Display) -> Error {
    Error::Usage(format!("journal {}: {why}", path.display()))
}

/// The tables every flspost journal has: a database without them is someone else's.
const TABLES: [&str; 5] = ["inputs", "messages", "message_bytes", "attempts", "receipts"];

impl Journal {
    /// Opens the journal at `path` for writing, creating it (mode 0600 from the start, in a
    /// 0700 folder) when absent.
    pub fn open(path: &Path) -> Result<Journal> {
        Journal::open_with(path, Access::ReadWrite)
    }

    /// Opens the journal at `path`. Only an absent path (when writing) or a regular file
    /// holding a flspost journal is used: a symbolic link, folder, device or FIFO, or a file
    /// of another kind, is refused before anything is written, and its mode is left alone.
    pub fn open_with(path: &Path, access: Access) -> Result<Journal> {
        Journal::open_bounded(path, access, DEFAULT_BUSY_TIMEOUT)
    }

    /// [`Journal::open_with`], waiting at most `busy` for a journal another process holds
    /// (each time it must wait); past it a command fails with [`Error::Busy`].
    pub fn open_bounded(path: &Path, access: Access, busy: std::time::Duration) -> Result<Journal> {
        // Held until the connection is counted, so no other thread of this process opens
        // the file's descriptors meanwhile.
        let mut open = open_files().lock().unwrap_or_else(|e| e.into_inner());
        let conn = Journal::connect(path, access, busy, &open)?;
        let key = std::fs::metadata(path).map(|m| file_key(&m)).map_err(|e| Error::io(path, e))?;
        *open.entry(key).or_insert(0) += 1;
        drop(open);
        let journal = Journal { conn, path: path.to_path_buf(), wal: beside(path, "-wal"), busy, _open: OpenFile(key) };
        journal.set_up(access)?;
        Ok(journal)
    }

    /// Checks what is at `path` and opens an SQLite connection to it; `open` lists the files
    /// this process has connections to already.
    fn connect(
        path: &Path,
        access: Access,
        busy: std::time::Duration,
        open: &std::collections::HashMap<(u64, u64), usize>,
    ) -> Result<Connection> {
        use rusqlite::OpenFlags;
        match std::fs::symlink_metadata(path) {
            Ok(meta) => {
                if let Some(kind) = refuse_kind(&meta) {
                    return Err(not_a_journal(path, format!("is {kind}, not a journal file")));
                }
                // Only before this process holds locks on the file: see `open_files`.
                if access == Access::ReadWrite && !open.contains_key(&file_key(&meta)) && looks_like_ours(path) {
                    restrict_mode(path)?;
                }
            }
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
                if access == Access::ReadOnly {
                    return Err(not_a_journal(path, "no such journal (`flspost generate` creates it)"));
                }
                if std::os::unix::ffi::OsStrExt::as_bytes(path.as_os_str()).ends_with(b"/") {
                    return Err(not_a_journal(path, "ends in `/`, so it names a folder; name the journal file"));
                }
                create_journal_file(path)?;
            }
            Err(e) => return Err(Error::io(path, e)),
        }
        // NOFOLLOW: the path was checked above; a link put there since is refused by SQLite.
        let flags = OpenFlags::SQLITE_OPEN_NO_MUTEX
            | OpenFlags::SQLITE_OPEN_NOFOLLOW
            | match access {
                Access::ReadWrite => OpenFlags::SQLITE_OPEN_READ_WRITE,
                Access::ReadOnly => OpenFlags::SQLITE_OPEN_READ_ONLY,
            };
        let conn = Connection::open_with_flags(path, flags).map_err(|e| not_a_journal(path, e))?;
        conn.busy_timeout(busy)?;
        // The gateway starts one process per message. A checkpoint (two flushes to disk)
        // at every close would cost each of them ~2 ms; instead the log is checkpointed
        // and emptied once it passes WAL_CHECKPOINT_BYTES (see `write`), which also keeps
        // small what the next process has to read when it opens the journal.
        conn.set_db_config(rusqlite::config::DbConfig::SQLITE_DBCONFIG_NO_CKPT_ON_CLOSE, true)?;
        Ok(conn)
    }

    /// Sets up a new journal, migrates an older one and checks it is a flspost journal.
    fn set_up(&self, access: Access) -> Result<()> {
        let (conn, path) = (&self.conn, self.path.as_path());
        let version = migrations::user_version;
        // "file is not a database" and the like: someone else's file, untouched so far. A
        // journal another process holds is busy, not someone else's.
        let v = version(conn).map_err(|e| match Error::from(e) {
            busy @ Error::Busy(_) => busy,
            Error::Journal(StoreError(e)) => not_a_journal(path, format!("not a flspost journal ({e})")),
            other => other,
        })?;
        let tables = |c: &Connection| -> rusqlite::Result<i64> {
            c.query_row("SELECT COUNT(*) FROM sqlite_master WHERE type = 'table'", [], |r| r.get(0))
        };
        if v == 0 {
            // Only an empty database (a journal flspost created and has yet to set up) is
            // set up here; a database of another program is left alone.
            if tables(conn)? != 0 || access == Access::ReadOnly {
                return Err(not_a_journal(path, "not a flspost journal (no flspost schema)"));
            }
            // A new journal. Both settings stick to the file: 16 KB pages hold most 3-30 KB
            // messages in one page instead of an overflow chain; WAL lets readers (support
            // staff) work while the gateway writes.
            conn.execute_batch("PRAGMA page_size = 16384; PRAGMA journal_mode = WAL;")?;
            // Under the write lock, so two processes creating it at once do it once.
            let tx = rusqlite::Transaction::new_unchecked(conn, TransactionBehavior::Immediate)?;
            if version(&tx)? == 0 {
                if tables(&tx)? != 0 {
                    return Err(not_a_journal(path, "not a flspost journal (no flspost schema)"));
                }
                tx.execute_batch(SCHEMA)?;
                tx.pragma_update(None, "user_version", SCHEMA_VERSION)?;
            }
            tx.commit()?;
        }
        // An older journal is migrated by the first command that writes; one that only
        // reads may read it as it is where the migrations allow that.
        if (1..SCHEMA_VERSION).contains(&version(conn)?) && access == Access::ReadWrite {
            migrations::migrate(conn)?;
        }
        match version(conn)? {
            SCHEMA_VERSION => {}
            v if access == Access::ReadOnly && migrations::readable_as_is(v) => {}
            v => {
                return Err(Error::Usage(format!(
                    "journal {} has schema version {v}; this flspost knows {SCHEMA_VERSION}",
                    path.display()
                )))
            }
        }
        let found: i64 = conn.query_row(
            &format!(
                "SELECT COUNT(*) FROM sqlite_master WHERE type = 'table' AND name IN ({})",
                TABLES.map(|t| format!("'{t}'")).join(", ")
            ),
            [],
            |r| r.get(0),
        )?;
        if found != TABLES.len() as i64 {
            return Err(not_a_journal(path, "not a flspost journal (its tables are missing)"));
        }
        // The modes were checked before SQLite opened the file, never after: see
        // `open_files`. A `-wal` or `-shm` SQLite creates gets the journal's own mode (0600).
        // Per connection, and after the page size is known (SQLite sizes the cache in pages):
        // 16 MB of page cache, so a batch round's transaction mostly fits and memory stays
        // flat. FULL sync: every commit flushes the write-ahead log before it returns, so
        // what a command reported survives a power cut, not only a killed process (NORMAL
        // may lose the last commits). A batch commits once per round: one flush per round.
        conn.execute_batch("PRAGMA cache_size = -16384; PRAGMA synchronous = FULL; PRAGMA foreign_keys = ON;")?;
        Ok(())
    }

    pub fn path(&self) -> &Path {
        &self.path
    }

    /// Refuses `paths` (files a command is about to read) that are this journal or its
    /// `-wal`/`-shm`: opening and closing one while this process is connected would drop the
    /// process's SQLite locks on it (see `open_files`). By device and inode, with `stat` only.
    pub fn refuse_own_files<'p>(&self, paths: impl IntoIterator<Item = &'p Path>) -> Result<()> {
        let own: Vec<(u64, u64)> = ["", "-wal", "-shm"]
            .iter()
            .filter_map(|side| std::fs::metadata(beside(&self.path, side)).ok())
            .map(|m| file_key(&m))
            .collect();
        for p in paths {
            if std::fs::metadata(p).is_ok_and(|m| own.contains(&file_key(&m))) {
                return Err(Error::Usage(format!(
                    "{}: is this command's journal (or a file SQLite keeps beside it), not an input",
                    p.display()
                )));
            }
        }
        Ok(())
    }

    /// A second connection to this journal, for a reader beside a writer in one process.
    pub fn another_connection(&self) -> Result<Journal> {
        Journal::open_bounded(&self.path, Access::ReadWrite, self.busy)
    }

    /// Runs `f` inside one write transaction (taken at once, so concurrent flspost
    /// processes queue instead of interleaving), committing only when it succeeds.
    pub fn write<T>(&mut self, f: impl FnOnce(&Writer<'_>) -> Result<T>) -> Result<T> {
        self.transaction(|tx| f(&Writer { conn: tx }))
    }

    pub(super) fn transaction<T>(&mut self, f: impl FnOnce(&Transaction<'_>) -> Result<T>) -> Result<T> {
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

    /// A message's stored bytes, checked against their SHA-256 before anyone uses them.
    pub fn verified_bytes(&self, m: &MessageRow) -> Result<Vec<u8>> {
        verified_bytes(&self.conn, m)
    }

    /// Whether `id` is the letter or envelope identifier of a message of this journal (one
    /// flspost made: derived from digests, never from a CPR number).
    pub fn is_own_identifier(&self, id: &str) -> Result<bool> {
        // `kind IN (...)` lets SQLite use the (kind, letter_id, attempt) index.
        let kinds = Kind::ALL.iter().map(|k| format!("'{}'", k.code())).collect::<Vec<_>>().join(", ");
        Ok(self.conn.query_row(
            &format!(
                "SELECT EXISTS (SELECT 1 FROM messages WHERE kind IN ({kinds}) AND letter_id = ?1) \
                 OR EXISTS (SELECT 1 FROM messages WHERE envelope_id = ?1)"
            ),
            [id],
            |r| r.get(0),
        )?)
    }

    /// Marks a queued message whose stored bytes are damaged `failed`, so it is never sent.
    pub fn fail_damaged(&mut self, id: i64, reason: &str) -> Result<()> {
        self.transaction(|tx| fail_damaged(tx, id, reason))
    }

    /// Checks every message's bytes against their SHA-256 and every input against its
    /// hash, one row at a time; `damaged` gets each that does not match. Returns how many
    /// messages and inputs were checked.
    pub fn verify(&self, mut damaged: impl FnMut(Damage)) -> Result<(u64, u64)> {
        let mut messages = 0;
        let mut st = self.conn.prepare(
            "SELECT m.id, m.result_id, m.kind, m.letter_id, m.sha256, b.bytes FROM messages m \
             LEFT JOIN message_bytes b ON b.message_id = m.id ORDER BY m.id",
        )?;
        let mut rows = st.query([])?;
        while let Some(r) = rows.next()? {
            messages += 1;
            let sha256: String = r.get(4)?;
            let problem = match stored_bytes(Some(r.get_ref(5)?)) {
                Err(problem) => problem,
                Ok(b) if crate::support::digest::sha256_hex(b) != sha256 => BYTES_DAMAGED,
                Ok(_) => continue,
            };
            let kind: String = r.get(2)?;
            damaged(Damage {
                what: "message",
                id: r.get(0)?,
                result_id: r.get(1)?,
                kind: Kind::from_code(&kind),
                letter_id: Some(r.get(3)?),
                problem: problem.to_string(),
            });
        }
        let mut inputs = 0;
        let mut st = self.conn.prepare("SELECT id, result_id, input_json, input_sha256 FROM inputs ORDER BY id")?;
        let mut rows = st.query([])?;
        while let Some(r) = rows.next()? {
            inputs += 1;
            let sha256: String = r.get(3)?;
            // Read as it is stored: an input that is not TEXT (a BLOB, say) is damage to report
            // like any other, not a reason to stop checking the rest.
            let problem = match r.get_ref(2)? {
                rusqlite::types::ValueRef::Text(t) => match std::str::from_utf8(t) {
                    Ok(text) if crate::input::input_intact(text, &sha256) => continue,
                    _ => INPUT_DAMAGED.to_string(),
                },
                other => {
                    let is = match other.data_type() {
                        rusqlite::types::Type::Blob => "a BLOB",
                        rusqlite::types::Type::Null => "NULL",
                        _ => "a number",
                    };
                    format!("the input is not stored as text (it is {is}): the journal is damaged")
                }
            };
            damaged(Damage {
                what: "input",
                id: r.get(0)?,
                result_id: r.get(1)?,
                kind: None,
                letter_id: None,
                problem,
            });
        }
        Ok((messages, inputs))
    }

    /// The message that regenerated `id`, if any.
    pub fn regenerated_as(&self, id: i64) -> Result<Option<i64>> {
        regenerated_as(&self.conn, id)
    }

    /// The highest send attempt of a letter so far.
    pub fn max_attempt(&self, kind: Kind, letter_id: &str) -> Result<u32> {
        max_attempt(&self.conn, kind, letter_id)
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

    /// Claims message `m` for a hand-over by `transport`, checking its state again at this
    /// moment: `send` read its queue earlier, and since then a receipt may have cancelled a
    /// queued resend, a correction superseded the letter, or a fatal-error refused it.
    /// Returns the attempt's id and the message as it stands now, or `None` when it is no
    /// longer waiting. An attempt a killed process left open is closed as `interrupted`
    /// first: the bytes are the same, so sending them again is a resend of the same
    /// envelope, which MedCom receivers recognise.
    pub fn claim(&mut self, m: &MessageRow, transport: &str) -> Result<Option<(i64, MessageRow)>> {
        self.transaction(|tx| {
            let now: Option<MessageRow> = tx
                .prepare_cached(&format!(
                    "SELECT {MESSAGE_COLUMNS} FROM messages m JOIN inputs i ON i.id = m.input_id \
                     WHERE m.id = ?1 AND m.status IN ('generated', 'retry')"
                ))?
                .query_row([m.id], message_row)
                .optional()?;
            let Some(now) = now else { return Ok(None) };
            tx.execute(
                "UPDATE attempts SET outcome = 'interrupted', finished_at = ?2, \
                 reason = 'flspost stopped before the outcome was known' WHERE message_id = ?1 AND outcome IS NULL",
                params![m.id, now_text()],
            )?;
            tx.execute(
                "INSERT INTO attempts (message_id, envelope_id, transport, started_at) VALUES (?1, ?2, ?3, ?4)",
                params![m.id, now.envelope_id, transport, now_text()],
            )?;
            Ok(Some((tx.last_insert_rowid(), now)))
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
        self.transaction(|tx| {
            let now = now_text();
            let (code, reason) = match outcome {
                Outcome::Sent => ("sent", None),
                Outcome::Transient(r) => ("transient", Some(r.as_str())),
                Outcome::Permanent(r) => ("permanent", Some(r.as_str())),
                Outcome::Unknown(r) => ("unknown", Some(r.as_str())),
            };
            tx.execute(
                "UPDATE attempts SET outcome = ?2, reason = ?3, finished_at = ?4 WHERE id = ?1",
                params![attempt_id, code, reason, now],
            )?;
            let failures = m.send_failures + u32::from(!matches!(outcome, Outcome::Sent));
            let (status, reason) = match outcome {
                Outcome::Sent => (Status::Sent, None),
                Outcome::Transient(r) | Outcome::Unknown(r) if failures < max_attempts => {
                    (Status::Retry, Some(r.clone()))
                }
                Outcome::Transient(r) | Outcome::Unknown(r) => {
                    (Status::Failed, Some(format!("gave up after {failures} attempts; last: {r}")))
                }
                Outcome::Permanent(r) => (Status::Failed, Some(r.clone())),
            };
            // Only move a message that is still waiting (a receipt may have overtaken us).
            tx.execute(
                "UPDATE messages SET status = ?2, reason = ?3, send_failures = ?4, updated_at = ?5 \
                 WHERE id = ?1 AND status IN ('generated', 'retry')",
                params![m.id, status, reason, failures, now],
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
        let mut values: Vec<&dyn ToSql> = vec![];
        if let Some(st) = &status {
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

const BYTES_DAMAGED: &str = "its stored bytes do not match their SHA-256 (the journal is damaged)";

const BYTES_MISSING: &str = "its stored bytes are missing (the journal is damaged)";
const BYTES_MISTYPED: &str = "its stored bytes are not stored as bytes (the journal is damaged)";

/// The bytes in a `message_bytes.bytes` value (`None`: no row, or NULL). A row that is gone
/// or holds another type than a BLOB is damage to report for that one message, not an error
/// that stops the whole command.
fn stored_bytes(v: Option<rusqlite::types::ValueRef<'_>>) -> std::result::Result<&[u8], &'static str> {
    use rusqlite::types::ValueRef;
    match v {
        None | Some(ValueRef::Null) => Err(BYTES_MISSING),
        Some(ValueRef::Blob(b)) => Ok(b),
        Some(_) => Err(BYTES_MISTYPED),
    }
}

/// Message `m`'s stored bytes, or [`Error::Damaged`] when they are missing, not a BLOB or
/// do not match their SHA-256.
pub(super) fn verified_bytes(conn: &Connection, m: &MessageRow) -> Result<Vec<u8>> {
    let damaged = |problem: &str| {
        Error::Damaged(format!(
            "message {} ({} {}, result {}): {problem}",
            m.id,
            m.kind.code(),
            m.letter_id,
            m.result_id
        ))
    };
    let mut st = conn.prepare_cached("SELECT bytes FROM message_bytes WHERE message_id = ?1")?;
    let mut rows = st.query([m.id])?;
    let row = rows.next()?;
    let bytes = stored_bytes(row.map(|r| r.get_ref(0)).transpose()?).map_err(damaged)?;
    if crate::support::digest::sha256_hex(bytes) != m.sha256 {
        return Err(damaged(BYTES_DAMAGED));
    }
    Ok(bytes.to_vec())
}

/// The message that regenerated `id`, if any.
fn regenerated_as(conn: &Connection, id: i64) -> Result<Option<i64>> {
    Ok(conn
        .query_row("SELECT id FROM messages WHERE regenerated_from = ?1 ORDER BY id LIMIT 1", [id], |r| r.get(0))
        .optional()?)
}

/// The highest transmission of a letter so far.
fn max_attempt(conn: &Connection, kind: Kind, letter_id: &str) -> Result<u32> {
    Ok(conn.query_row(
        "SELECT COALESCE(MAX(attempt), 0) FROM messages WHERE kind = ?1 AND letter_id = ?2",
        params![kind, letter_id],
        |r| r.get(0),
    )?)
}

/// Marks a queued message `failed` because its bytes are damaged: it must never be sent.
/// Messages already sent keep their status (what was sent was checked then).
fn fail_damaged(conn: &Connection, id: i64, reason: &str) -> Result<()> {
    conn.execute(
        "UPDATE messages SET status = 'failed', reason = ?2, updated_at = ?3 WHERE id = ?1 \
         AND status IN ('generated', 'retry')",
        params![id, reason, now_text()],
    )?;
    Ok(())
}

/// Inserts an input version; returns its id.
fn insert_input(tx: &Connection, i: &NewInput<'_>) -> Result<i64> {
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
pub(super) fn insert_message(tx: &Connection, input_id: i64, m: &NewMessage<'_>) -> Result<i64> {
    let now = now_text();
    tx.prepare_cached(
        "INSERT INTO messages (input_id, result_id, kind, content_sha256, letter_revision, letter_id, envelope_id, \
         attempt, status_code, status, sha256, created_at, updated_at, regenerated_from, replaces) \
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, 'generated', ?10, ?11, ?11, ?12, ?13)",
    )?
    .execute(params![
        input_id,
        m.result_id,
        m.kind,
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
fn supersede_waiting(tx: &Connection, result_id: &str, kind: Kind, by: i64) -> Result<()> {
    tx.prepare_cached(
        "UPDATE messages SET status = 'superseded', reason = ?4, updated_at = ?5 \
         WHERE result_id = ?1 AND kind = ?2 AND id <> ?3 AND status IN ('generated', 'retry', 'failed')",
    )?
    .execute(params![
        result_id,
        kind,
        by,
        format!("replaced by message {by} before it was delivered"),
        now_text()
    ])?;
    Ok(())
}

/// The journal inside one write transaction ([`Journal::write`]): what a round of
/// `generate` or a `regenerate` records, and what healing the output folder reads.
pub struct Writer<'a> {
    conn: &'a Connection,
}

impl Writer<'_> {
    /// Records a result's new input version and its messages, as one unit: a failure
    /// (say, another process recorded the same revision first) undoes only this result,
    /// not the rest of the transaction. A message that replaces an earlier letter
    /// supersedes the waiting messages to the same addressee. Returns the messages' ids.
    pub fn record_result(&self, input: &NewInput<'_>, messages: &[NewMessage<'_>]) -> Result<Vec<i64>> {
        let run = |sql: &str| -> Result<()> { Ok(self.conn.prepare_cached(sql)?.execute([]).map(|_| ())?) };
        run("SAVEPOINT result")?;
        let r = (|| {
            let input_id = insert_input(self.conn, input).map_err(|e| concurrent(e, input.result_id))?;
            let mut ids = vec![];
            for m in messages {
                let id = insert_message(self.conn, input_id, m).map_err(|e| concurrent(e, m.result_id))?;
                if m.replaces.is_some() {
                    for kind in Kind::ALL.iter().copied().filter(|k| k.addressee() == m.kind.addressee()) {
                        supersede_waiting(self.conn, m.result_id, kind, id)?;
                    }
                }
                ids.push(id);
            }
            Ok(ids)
        })();
        match r {
            Ok(ids) => {
                run("RELEASE result")?;
                Ok(ids)
            }
            Err(e) => {
                run("ROLLBACK TO result")?;
                run("RELEASE result")?;
                Err(e)
            }
        }
    }

    /// What changed about message `m` since `regenerate` read it and decided to make
    /// transmission `attempt` of its letter (`None`: nothing). Checked inside the transaction
    /// that records the resend, so an answer or a correction recorded meanwhile by another
    /// process is never overtaken: the status moved on, it was regenerated already, a
    /// transmission of its letter was acknowledged (or, for a CareCommunication, refused with
    /// fatal-error), a later letter replaced it, or another transmission was recorded.
    pub fn changed_since(&self, m: &MessageRow, attempt: u32) -> Result<Option<String>> {
        let c = self.conn;
        let status: Status = c.query_row("SELECT status FROM messages WHERE id = ?1", [m.id], |r| r.get(0))?;
        if status != m.status {
            return Ok(Some(format!("its status changed from {} to {}", m.status.code(), status.code())));
        }
        if let Some(n) = regenerated_as(c, m.id)? {
            return Ok(Some(format!("it was regenerated as message {n}")));
        }
        let answered =
            if m.kind == Kind::GpCareCommunication { "'acknowledged', 'rejected'" } else { "'acknowledged'" };
        let verdict: Option<(i64, Status)> = c
            .query_row(
                &format!(
                    "SELECT id, status FROM messages WHERE kind = ?1 AND letter_id = ?2 AND id <> ?3 \
                     AND status IN ({answered}) ORDER BY id LIMIT 1"
                ),
                params![m.kind, m.letter_id, m.id],
                |r| Ok((r.get(0)?, r.get(1)?)),
            )
            .optional()?;
        if let Some((n, st)) = verdict {
            return Ok(Some(format!("message {n}, a transmission of its letter, is {}", st.code())));
        }
        let kinds: Vec<String> = Kind::ALL
            .iter()
            .filter(|k| k.addressee() == m.kind.addressee())
            .map(|k| format!("'{}'", k.code()))
            .collect();
        let newest: (i64, String) = c.query_row(
            &format!(
                "SELECT id, letter_id FROM messages WHERE result_id = ?1 AND kind IN ({}) ORDER BY id DESC LIMIT 1",
                kinds.join(", ")
            ),
            [&m.result_id],
            |r| Ok((r.get(0)?, r.get(1)?)),
        )?;
        if newest.1 != m.letter_id {
            return Ok(Some(format!("message {}, a later letter, replaced it", newest.0)));
        }
        let last = max_attempt(c, m.kind, &m.letter_id)?;
        if last + 1 != attempt {
            return Ok(Some(format!("transmission {last} of its letter was recorded meanwhile")));
        }
        Ok(None)
    }

    /// Records a new transmission of a stored letter, built again for input `input_id`.
    pub fn record_regenerated(&self, input_id: i64, m: &NewMessage<'_>) -> Result<i64> {
        insert_message(self.conn, input_id, m).map_err(|e| concurrent(e, m.result_id))
    }

    /// The size of message `id`'s stored bytes (`None`: missing or damaged, which
    /// [`Writer::verified_bytes`] reports).
    pub fn stored_len(&self, id: i64) -> Result<Option<u64>> {
        let len: Option<i64> = self
            .conn
            .prepare_cached("SELECT length(bytes) FROM message_bytes WHERE message_id = ?1")?
            .query_row([id], |r| r.get(0))
            .optional()?
            .flatten();
        Ok(len.and_then(|l| u64::try_from(l).ok()))
    }

    /// See [`Journal::verified_bytes`].
    pub fn verified_bytes(&self, m: &MessageRow) -> Result<Vec<u8>> {
        verified_bytes(self.conn, m)
    }

    /// See [`Journal::fail_damaged`].
    pub fn fail_damaged(&self, id: i64, reason: &str) -> Result<()> {
        fail_damaged(self.conn, id, reason)
    }
}

/// A uniqueness clash on insert: another flspost process recorded the same result at the
/// same moment. Running again settles it.
fn concurrent(e: Error, result_id: &str) -> Error {
    match e {
        Error::Journal(StoreError(rusqlite::Error::SqliteFailure(f, _)))
            if f.code == rusqlite::ErrorCode::ConstraintViolation =>
        {
            Error::Conflict(format!(
                "result {result_id} was recorded by another flspost process at the same time; run again"
            ))
        }
        other => other,
    }
}
