//! A consistent copy of a journal while other processes write to it (`journal backup`, and
//! the copy a migration makes first): SQLite's online backup API, all pages in one step, so
//! the copy is one read transaction's snapshot (WAL writers go on meanwhile). Through the
//! journal's own connection: no other descriptor of its files is opened (see
//! `open::open_files`), and a migration can copy the file under the write lock it migrates in.
//!
//! The copy goes to a new owner-only file beside the destination, is checked there (opened as
//! a journal, read only: every stored message and input against its SHA-256, and `PRAGMA
//! integrity_check`), flushed, and only then linked to its name, which never replaces anything.

use super::types::Verified;
use crate::error::{Error, Result};
use crate::support::files;
use crate::support::files::beside;
use rusqlite::{Connection, OpenFlags};
use std::path::{Path, PathBuf};

/// A verified copy of a journal.
#[derive(Clone, Debug, serde::Serialize)]
pub struct BackedUp {
    pub path: PathBuf,
    /// The copy's size in bytes.
    pub size: u64,
    pub schema_version: i64,
    /// What `verify` checked in the copy (every one matched its SHA-256).
    pub messages: u64,
    pub inputs: u64,
    pub refused_inputs: u64,
}

/// Opens a copy as a journal and checks it whole (SQLite's integrity check and every stored
/// SHA-256): its schema version and what was checked. The journal's opening passes it in
/// (`open.rs`), so a copy is checked by the same code that opens a journal, without this file
/// naming it.
pub(super) type CheckCopy = fn(&Path, std::time::Duration) -> Result<(i64, Verified)>;

/// Copies the main database of `conn` (inside the transaction it holds, if any) to the new
/// file `dest`, verified; `busy` bounds the wait for a source another process locks.
pub(super) fn backup_to(
    conn: &Connection,
    dest: &Path,
    busy: std::time::Duration,
    check: CheckCopy,
) -> Result<BackedUp> {
    let refuse = |why: &str| Error::Usage(format!("backup {}: {why}", dest.display()));
    let name = dest.file_name().ok_or_else(|| refuse("names no file"))?;
    if std::fs::symlink_metadata(dest).is_ok() {
        return Err(refuse("exists; a backup never writes over anything (a file, a folder or a link)"));
    }
    let dir = files::parent_of(dest);
    if !std::fs::metadata(dir).is_ok_and(|m| m.is_dir()) {
        return Err(refuse("its folder does not exist"));
    }
    let tmp = dir.join(files::temp_name(name));
    let result = copy_and_check(conn, &tmp, busy, check).and_then(|mut b| {
        // link(2) never replaces what is at `dest`, a dangling symbolic link included.
        std::fs::hard_link(&tmp, dest).map_err(|e| match e.kind() {
            std::io::ErrorKind::AlreadyExists => refuse("exists; a backup never writes over anything"),
            _ => Error::io(dest, e),
        })?;
        files::sync_dir(dir).map_err(|e| Error::io(dir, e))?;
        b.path = dest.to_path_buf();
        Ok(b)
    });
    for side in ["", "-journal", "-wal", "-shm"] {
        let _ = std::fs::remove_file(beside(&tmp, side));
    }
    result
}

/// The copy at `tmp` (a new name), checked and flushed.
fn copy_and_check(conn: &Connection, tmp: &Path, busy: std::time::Duration, check: CheckCopy) -> Result<BackedUp> {
    use std::os::unix::fs::OpenOptionsExt;
    let io = |e| Error::io(tmp, e);
    // Owner-only from the start, and never through a link: SQLite then opens this file.
    let file = std::fs::OpenOptions::new()
        .write(true)
        .create_new(true)
        .mode(0o600)
        .custom_flags(libc::O_NOFOLLOW)
        .open(tmp)
        .map_err(io)?;
    let flags = OpenFlags::SQLITE_OPEN_READ_WRITE | OpenFlags::SQLITE_OPEN_NOFOLLOW | OpenFlags::SQLITE_OPEN_NO_MUTEX;
    {
        let mut dst = Connection::open_with_flags(tmp, flags)?;
        {
            let copy = rusqlite::backup::Backup::new(conn, &mut dst)?;
            let until = std::time::Instant::now() + busy;
            loop {
                use rusqlite::backup::StepResult;
                // -1: every page in one step, one read transaction: a snapshot that another
                // process's commit cannot restart or tear.
                match copy.step(-1)? {
                    StepResult::Done => break,
                    StepResult::More => {}
                    _ if std::time::Instant::now() < until => std::thread::sleep(std::time::Duration::from_millis(20)),
                    _ => return Err(Error::Busy("the journal is locked by another process; no backup made".into())),
                }
            }
        }
        // A copy put back in place is known for one at its first write (see `restore`).
        let dst = super::db::Connection::Sqlite(dst);
        super::restore::mark_copy(&dst)?;
        let super::db::Connection::Sqlite(dst) = dst else { unreachable!("made above") };
        // One self-contained file while it is checked (no `-wal` beside it), set back below.
        let mode: String = dst.query_row("PRAGMA journal_mode = DELETE", [], |r| r.get(0))?;
        if mode != "delete" {
            return Err(Error::Usage(format!("backup {}: journal mode stays {mode}", tmp.display())));
        }
        dst.close().map_err(|(_, e)| e)?;
    }
    let (schema_version, checked) = { check(tmp, busy)? };
    {
        // Back to WAL, as the journal is (the mode sticks to the file): a restored copy lets
        // readers work beside the writers again. The last connection's close folds the log in
        // and removes it.
        let dst = Connection::open_with_flags(tmp, flags)?;
        let mode: String = dst.query_row("PRAGMA journal_mode = WAL", [], |r| r.get(0))?;
        if mode != "wal" {
            return Err(Error::Usage(format!("backup {}: journal mode stays {mode}", tmp.display())));
        }
        dst.close().map_err(|(_, e)| e)?;
    }
    file.sync_all().map_err(io)?;
    let size = file.metadata().map_err(io)?.len();
    Ok(BackedUp {
        path: tmp.to_path_buf(),
        size,
        schema_version,
        messages: checked.messages,
        inputs: checked.inputs,
        refused_inputs: checked.refused_inputs,
    })
}

/// The backup a migration of a schema-`from` journal at `path` makes first, beside it:
/// `journal.sqlite.v3.bak`, or `.v3.2.bak` and on when an earlier one is there. Called while
/// this process's migrating connection holds the write lock: SQLite copies no source that its
/// own connection is writing, so a second, read-only connection (SQLite's own: no descriptor
/// of the file is closed behind its back) copies what is committed, which nobody can change
/// until the migration commits.
pub(super) fn before_migration(
    path: &Path,
    from: i64,
    busy: std::time::Duration,
    check: CheckCopy,
) -> Result<BackedUp> {
    let failed = |e: Error| match e {
        busy @ Error::Busy(_) => busy,
        e => Error::Usage(format!(
            "journal {}: the backup before migrating it from schema {from} failed, so it was not migrated: {e}",
            path.display()
        )),
    };
    let dest =
        (1..100)
            .map(|n| {
                if n == 1 {
                    beside(path, &format!(".v{from}.bak"))
                } else {
                    beside(path, &format!(".v{from}.{n}.bak"))
                }
            })
            .find(|p| std::fs::symlink_metadata(p).is_err())
            .ok_or_else(|| {
                Error::Usage(format!("journal {}: 99 backups of schema {from} beside it already", path.display()))
            })?;
    let flags = OpenFlags::SQLITE_OPEN_READ_ONLY | OpenFlags::SQLITE_OPEN_NOFOLLOW | OpenFlags::SQLITE_OPEN_NO_MUTEX;
    let reader = Connection::open_with_flags(path, flags).map_err(|e| failed(e.into()))?;
    reader.busy_timeout(busy).map_err(|e| failed(e.into()))?;
    let b = backup_to(&reader, &dest, busy, check).map_err(failed)?;
    if b.schema_version != from {
        let _ = std::fs::remove_file(&dest);
        return Err(failed(Error::Usage(format!("the copy has schema {}", b.schema_version))));
    }
    Ok(b)
}
