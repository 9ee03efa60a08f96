//! Opening a journal file safely: what may be at its path, its mode, its pragmas, setting up
//! or migrating its schema, and the process-wide count that keeps SQLite's locks intact.

use super::error::StoreError;
use super::migrations::{self, SCHEMA, SCHEMA_VERSION};
use super::types::*;
use crate::error::{Error, Result};
use crate::support::files;
use crate::support::files::beside;
use super::db;
use super::Location;
use rusqlite::{Connection, TransactionBehavior};
use std::path::{Path, PathBuf};

pub struct Journal {
    pub(super) conn: db::Connection,
    location: Location,
    /// SQLite's write-ahead log beside the journal (its size decides checkpoints).
    pub(super) wal: Option<PathBuf>,
    /// This handle commits many times in one process (a batch, the server's intake): its
    /// checkpoints are SQLite's own, far apart ([`Journal::set_many_commits`]).
    pub(super) many_commits: bool,
    /// The longest wait for another process, each time (SQLite's busy timeout; PostgreSQL's
    /// lock timeout).
    pub(super) busy: std::time::Duration,
    /// Keeps this process's count of connections to an SQLite file (see [`open_files`]).
    _open: Option<OpenFile>,
    /// The migration this opening made, if it made one.
    migrated: Option<Migrated>,
    /// The resend policy MedCom's rules apply to the letters of this journal
    /// ([`Journal::set_resend_policy`]; the strictest by default).
    pub(super) resend_policy: crate::reliable::resend::Policy,
    /// How long a `send`'s claim on a shared journal holds (`sending.rs`).
    pub(super) lease: std::time::Duration,
}

/// A claim's lease unless the config sets one: five minutes, far above a transport's timeouts.
pub const DEFAULT_LEASE: std::time::Duration = std::time::Duration::from_secs(300);

/// A migration an opening made: from which schema, to which, and the backup it made first.
#[derive(Clone, Debug)]
pub struct Migrated {
    pub from: i64,
    pub to: i64,
    /// `None` when the config said not to (`[journal] backup_before_migrate = false`).
    pub backup: Option<super::backup::BackedUp>,
}

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
    pub(crate) fn open_with(path: &Path, access: Access) -> Result<Journal> {
        Journal::open_bounded(path, access, DEFAULT_BUSY_TIMEOUT)
    }

    /// [`Journal::open_with`], waiting at most `busy` for a journal another process holds
    /// (each time it must wait); past it a command fails with [`Error::Busy`].
    pub fn open_bounded(path: &Path, access: Access, busy: std::time::Duration) -> Result<Journal> {
        Journal::open_upgrading(path, access, busy, true)
    }

    /// [`Journal::open_bounded`]; an older journal opened for writing is migrated, after a
    /// verified backup beside it (`journal.sqlite.v3.bak`) unless `backup_first` is false.
    pub fn open_upgrading(
        path: &Path,
        access: Access,
        busy: std::time::Duration,
        backup_first: bool,
    ) -> Result<Journal> {
        // Held until the connection is counted, so no other thread of this process opens
        // the file's descriptors meanwhile.
        let mut open = open_files().lock().unwrap_or_else(|e| e.into_inner());
        let conn = Journal::connect(path, access, busy, &open)?;
        let key = std::fs::metadata(path).map(|m| file_key(&m)).map_err(|e| Error::io(path, e))?;
        *open.entry(key).or_insert(0) += 1;
        drop(open);
        let open = OpenFile(key);
        let migrated = set_up(&conn, path, busy, access, backup_first)?;
        Ok(Journal {
            conn: db::Connection::Sqlite(conn),
            location: Location::File(path.to_path_buf()),
            wal: Some(beside(path, "-wal")),
            many_commits: false,
            busy,
            _open: Some(open),
            migrated,
            resend_policy: crate::reliable::resend::Policy::default(),
            lease: DEFAULT_LEASE,
        })
    }

    /// Opens the journal `location` names: an SQLite file ([`Journal::open_upgrading`]) or a
    /// PostgreSQL database whose journal is set up already (`postgres/`).
    pub fn open_at(location: &Location, access: Access, busy: std::time::Duration, backup_first: bool) -> Result<Journal> {
        Journal::open_location(location, access, busy, backup_first, false)
    }

    /// [`Journal::open_at`] for a command that may start the journal (`generate`, `journal
    /// migrate`, `journal copy`'s target): an empty PostgreSQL database gets the journal's
    /// tables. Any other command pointed at an empty database (a mistyped name) is refused,
    /// as a missing SQLite file is, rather than start a second journal.
    pub fn create_at(location: &Location, busy: std::time::Duration, backup_first: bool) -> Result<Journal> {
        Journal::open_location(location, Access::ReadWrite, busy, backup_first, true)
    }

    fn open_location(
        location: &Location,
        access: Access,
        busy: std::time::Duration,
        backup_first: bool,
        create: bool,
    ) -> Result<Journal> {
        match location {
            Location::File(path) => Journal::open_upgrading(path, access, busy, backup_first),
            Location::Postgres(target) => {
                let (conn, migrated) = super::postgres::open(target, access, busy, create)?;
                Ok(Journal {
                    conn,
                    location: location.clone(),
                    wal: None,
                    many_commits: false,
                    busy,
                    _open: None,
                    migrated,
                    resend_policy: crate::reliable::resend::Policy::default(),
            lease: DEFAULT_LEASE,
                })
            }
        }
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
        // Before anything is read, as changing it drops the temporary schema (where an older
        // journal read as it is gets its views). MEMORY: a result's SAVEPOINT journals the
        // pages it changes (some 160 KB a result inside a batch's transaction) to a temporary
        // file otherwise, written and thrown away. Nothing there needs to survive a crash: the
        // transaction is rolled back from the write-ahead log.
        conn.pragma_update(None, "temp_store", "MEMORY").map_err(|e| not_a_journal(path, e))?;
        // The query planner's stability guarantee: a plan does not depend on the values bound,
        // so a cached statement is not compiled again at every use (without it SQLite expires
        // one whose `col = ?` term the planner looked at as soon as its bindings are cleared,
        // which rusqlite's statement cache does each time it takes a statement back).
        conn.set_db_config(rusqlite::config::DbConfig::SQLITE_DBCONFIG_ENABLE_QPSG, true)?;
        // The gateway starts one process per message. A checkpoint (two flushes to disk)
        // at every close would cost each of them ~2 ms; instead a command's handle empties
        // the log once it passes WAL_CHECKPOINT_BYTES (see `record.rs`; a handle of many
        // commits when it closes), which also keeps small what the next process has to read
        // when it opens the journal.
        conn.set_db_config(rusqlite::config::DbConfig::SQLITE_DBCONFIG_NO_CKPT_ON_CLOSE, true)?;
        // A writer that leaves checkpoints to SQLite (`set_many_commits`) reuses the log from
        // its start after each one; without a limit the file would keep its largest size (a
        // reader's long snapshot lets it grow), and old page images (an erased patient's too)
        // beyond what is written since. See `record::WAL_SIZE_LIMIT`.
        conn.pragma_update(None, "journal_size_limit", super::record::WAL_SIZE_LIMIT)
            .map_err(|e| not_a_journal(path, e))?;
        Ok(conn)
    }

    /// The migration opening this journal made, if it made one.
    pub fn migrated(&self) -> Option<&Migrated> {
        self.migrated.as_ref()
    }

    /// The revision a result's new letters count from (0 unless the journal was restored
    /// from a backup: see `restore`).
    pub(crate) fn revision_floor(&self) -> Result<u32> {
        super::restore::revision_floor(&self.conn)
    }

    /// Before a command makes letters: when this journal is a restored backup copy, picks
    /// its new revision floor (once, audited). Only commands that may give a letter an
    /// identifier call it, so erasing or pruning a backup file leaves its mark in place.
    pub fn settle_if_restored(&mut self) -> Result<Option<u32>> {
        super::restore::settle_if_restored(&self.conn)
    }

    /// The journal file's schema version (`user_version`); this release's is
    /// [`Journal::SCHEMA_VERSION`].
    pub fn schema_version(&self) -> Result<i64> {
        match &self.conn {
            db::Connection::Sqlite(c) => Ok(migrations::user_version(c)?),
            db::Connection::Postgres(_) => super::postgres::schema_version(&self.conn),
        }
    }

    /// The schema this release writes.
    pub const SCHEMA_VERSION: i64 = SCHEMA_VERSION;

    /// What migrating this journal would do: each step's schema before and after, and what
    /// it changes (nothing for a journal of this release's schema).
    pub fn migration_steps(&self) -> Result<Vec<(i64, i64, &'static str)>> {
        let v = self.schema_version()?;
        Ok(if v < SCHEMA_VERSION { migrations::steps_from(v) } else { Vec::new() })
    }

    /// Where this journal is (the SQLite file, or the PostgreSQL URL without a password).
    pub fn location(&self) -> &Location {
        &self.location
    }

    /// The SQLite file, for a journal kept in one.
    pub fn file(&self) -> Option<&Path> {
        match &self.location {
            Location::File(p) => Some(p),
            Location::Postgres(_) => None,
        }
    }

    /// Refuses `paths` (files a command is about to read) that are this journal or its
    /// `-wal`/`-shm`: opening and closing one while this process is connected would drop the
    /// process's SQLite locks on it (see `open_files`). By device and inode, with `stat` only.
    pub fn refuse_own_files<'p>(&self, paths: impl IntoIterator<Item = &'p Path>) -> Result<()> {
        let own: Vec<(u64, u64)> = ["", "-wal", "-shm"]
            .iter()
            .filter_map(|side| self.file().and_then(|f| std::fs::metadata(beside(f, side)).ok()))
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
        Journal::open_at(&self.location, Access::ReadWrite, self.busy, true)
    }
}

impl Journal {
    /// Copies this journal, as one consistent snapshot, to the new file `dest` (`backup.rs`).
    pub fn backup(&self, dest: &Path) -> Result<super::backup::BackedUp> {
        match &self.conn {
            db::Connection::Sqlite(c) => super::backup::backup_to(c, dest, self.busy, check_copy),
            db::Connection::Postgres(_) => Err(Error::Usage(
                "journal backup copies an SQLite journal; back up a PostgreSQL journal with the database's own \
                 tools (pg_dump, or the server's base backups): see docs/operations.md"
                    .into(),
            )),
        }
    }
}

/// Sets up a new SQLite journal, migrates an older one (returning what it did) and checks it
/// is a flspost journal.
fn set_up(
    conn: &Connection,
    path: &Path,
    busy: std::time::Duration,
    access: Access,
    backup_first: bool,
) -> Result<Option<Migrated>> {
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
    // An older journal is migrated by the first command that writes, after a backup of it
    // as it is (taken under the migration's write lock, so made once); one that only reads
    // may read it as it is where the migrations allow that.
    let mut migrated = None;
    if (1..SCHEMA_VERSION).contains(&version(conn)?) && access == Access::ReadWrite {
        let mut backup = None;
        let from = migrations::migrate(conn, |_, from| {
            if backup_first {
                backup = Some(super::backup::before_migration(path, from, busy, check_copy)?);
            }
            Ok(())
        })?;
        migrated = from.map(|from| Migrated { from, to: SCHEMA_VERSION, backup });
    }
    match version(conn)? {
        SCHEMA_VERSION => migrations::check_columns(conn).map_err(|missing| {
            Error::Usage(format!(
                "journal {} says schema {SCHEMA_VERSION} but has no {missing}: a development build before \
                 this release made it; restore a backup or start a new journal",
                path.display()
            ))
        })?,
        v if access == Access::ReadOnly && migrations::readable_as_is(v) => {
            if v < 5 {
                migrations::read_as_schema_5(conn)?;
            }
            if v < 6 {
                migrations::read_as_schema_6(conn)?;
            }
        }
        v if (1..SCHEMA_VERSION).contains(&v) => {
            return Err(Error::Usage(format!(
                "journal {} has schema version {v}, older than this flspost's {SCHEMA_VERSION}; reading never \
                 changes a journal, so the next command that writes (generate, send, receipt) brings it up to date",
                path.display()
            )))
        }
        v if v > SCHEMA_VERSION => {
            return Err(Error::Usage(format!(
                "journal {} has schema version {v}, newer than this flspost ({}) knows ({SCHEMA_VERSION}): a newer \
                 release wrote it; nothing was read or changed. Use that release (or a newer one) on every host \
                 that opens this journal",
                path.display(),
                env!("CARGO_PKG_VERSION")
            )))
        }
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
    // secure_delete: what SQLite frees or moves (a page split copies a leaf's rows, a
    // delete frees their space) is zeroed then, so a patient's bytes erased or pruned
    // later leave no copy behind in a page that once held them.
    conn.execute_batch(
        "PRAGMA cache_size = -16384; PRAGMA synchronous = FULL; PRAGMA foreign_keys = ON; PRAGMA secure_delete = ON;",
    )?;
    Ok(migrated)
}

/// A copy opened as a journal and checked whole, for `backup.rs`.
fn check_copy(tmp: &Path, busy: std::time::Duration) -> Result<(i64, super::types::Verified)> {
    let copy = Journal::open_bounded(tmp, Access::ReadOnly, busy)?;
    let integrity: String = copy.conn.query_row("PRAGMA integrity_check", [], |r| r.get(0))?;
    if integrity != "ok" {
        return Err(Error::Damaged(format!("the copy fails SQLite's integrity check ({integrity}); no backup made")));
    }
    let mut damaged = Vec::new();
    let checked: super::types::Verified = copy.verify(|d| damaged.push(d))?;
    if let Some(d) = damaged.first() {
        return Err(Error::Damaged(format!(
            "{} of the journal's stored messages and inputs do not match their SHA-256 (first: {} {}, result \
         {}: {}); no backup made, run `flspost journal verify`",
            damaged.len(),
            d.what,
            d.id,
            d.result_id,
            d.problem
        )));
    }
    Ok((copy.schema_version()?, checked))
}
