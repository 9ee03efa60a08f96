//! Recording: the write transaction ([`Journal::write`], [`Writer`]), the inserts of inputs
//! and messages, and what a correction supersedes.

use super::error::StoreError;
use super::history::letter_history;
use super::refused::close_refused;
use super::types::*;
use super::Journal;
use super::{integrity, now_text};
use crate::error::{Error, Result};
use crate::model::Kind;
use crate::reliable::history::LetterHistory;
use crate::reliable::resend::{self, Change};
use super::db::{params, Connection, OptionalExtension, Transaction, TransactionBehavior};

/// Write-ahead log size past which a writer checkpoints and empties it, unless it commits many
/// times ([`Journal::set_many_commits`]); and the size a writer that did leaves it at.
///
/// A process that opens the journal alone reads the whole log first (SQLite rebuilds its index
/// of it), so a small log keeps the gateway's process-per-message start cheap. A writer that
/// commits many times pays for that: each commit of one result adds some 350 KB of log (every
/// table's and index's leaf it touched, 16 KB pages), so at 1 MB the server's intake emptied the
/// log every third answer, copying the same pages into the file again and again (a checkpoint
/// took half of its time; its median answer 4.6 ms against 1.8 ms with SQLite's own).
const WAL_CHECKPOINT_BYTES: u64 = 1 << 20;

/// The size SQLite cuts the log back to when it starts it again after a checkpoint, if it
/// grew larger. Above SQLite's own checkpoints (1,000 pages, 16 MB) and a round's commit, so
/// a writer of many commits overwrites its log in place: cutting it to 1 MB made each cycle
/// grow the file anew, and the intake's answers 1.6 times as costly (the file system finding
/// new blocks at every flush).
pub(super) const WAL_SIZE_LIMIT: i64 = 32 << 20;

impl Journal {
    /// Runs `f` inside one write transaction (taken at once, so concurrent flspost
    /// processes queue instead of interleaving), committing only when it succeeds.
    pub fn write<T>(&mut self, f: impl FnOnce(&Writer<'_>) -> Result<T>) -> Result<T> {
        self.write_as(true, f)
    }

    /// [`Journal::write`] with results recorded all or nothing: [`Writer::record_result`] keeps
    /// no savepoint of its own, so a result that fails has to fail the whole transaction (`f`
    /// returns its error, and nothing is committed). A round of `generate` records this way
    /// first, and with a savepoint per result only when another process recorded one of its
    /// results at the same moment: a savepoint makes SQLite copy every page the result then
    /// touches (some 160 KB a result at 16 KB pages, 7% of a batch result's work), for that
    /// rare clash.
    pub fn write_all_or_nothing<T>(&mut self, f: impl FnOnce(&Writer<'_>) -> Result<T>) -> Result<T> {
        self.write_as(false, f)
    }

    fn write_as<T>(&mut self, savepoints: bool, f: impl FnOnce(&Writer<'_>) -> Result<T>) -> Result<T> {
        let policy = self.resend_policy;
        self.transaction(|tx| f(&Writer { conn: tx, policy, savepoints }))
    }

    /// [`Journal::write`] for a change that depends on what the journal holds: `f` reads
    /// through the journal and writes through the writer inside one write transaction, so
    /// what it read cannot change before it writes (another writer waits for the commit).
    pub fn write_checked<T>(&mut self, f: impl FnOnce(&Journal, &Writer<'_>) -> Result<T>) -> Result<T> {
        let v = {
            let tx = Transaction::new_unchecked(&self.conn, TransactionBehavior::Immediate)?;
            let v = f(self, &Writer { conn: &tx, policy: self.resend_policy, savepoints: true })?;
            tx.commit()?;
            v
        };
        self.checkpoint_if_large()?;
        Ok(v)
    }

    pub(super) fn transaction<T>(&mut self, f: impl FnOnce(&Transaction<'_>) -> Result<T>) -> Result<T> {
        let tx = self.conn.transaction_with_behavior(TransactionBehavior::Immediate)?;
        let v = f(&tx)?;
        tx.commit()?;
        self.checkpoint_if_large()?;
        Ok(v)
    }

    /// This handle will commit many times (a batch, the server's intake): its log is left to
    /// SQLite's own checkpoints (passive, every 1,000 pages: 16 MB at the journal's page
    /// size), and emptied when the handle closes, so the next process to open the journal
    /// alone finds a small one.
    pub fn set_many_commits(&mut self) {
        self.many_commits = true;
    }

    fn checkpoint_if_large(&mut self) -> Result<()> {
        if self.many_commits {
            return Ok(());
        }
        self.checkpoint_past(WAL_CHECKPOINT_BYTES);
        Ok(())
    }

    /// Checkpoints and empties the log if it is larger than `bytes`. Waiting briefly: another
    /// process's read or write in progress leaves it to a later writer, rather than hold the
    /// write lock (a checkpoint that empties the log takes it) while readers finish.
    fn checkpoint_past(&self, bytes: u64) {
        let Some(c) = self.conn.sqlite() else { return };
        if self.wal.as_ref().is_some_and(|wal| std::fs::metadata(wal).is_ok_and(|m| m.len() > bytes)) {
            let _ = c.busy_timeout(CHECKPOINT_WAIT);
            let _: rusqlite::Result<(i64, i64, i64)> =
                c.query_row("PRAGMA wal_checkpoint(TRUNCATE)", [], |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)));
            let _ = c.busy_timeout(self.busy);
        }
    }
}

/// The longest an opportunistic checkpoint waits for another process (see `checkpoint_past`).
const CHECKPOINT_WAIT: std::time::Duration = std::time::Duration::from_millis(100);

impl Drop for Journal {
    fn drop(&mut self) {
        if self.many_commits {
            self.checkpoint_past(WAL_CHECKPOINT_BYTES);
        }
    }
}

/// Inserts an input version; returns its id.
fn insert_input(tx: &Connection, i: &NewInput<'_>) -> Result<i64> {
    Ok(tx.insert_returning_id(
        "INSERT INTO inputs (result_id, revision, input_json, input_sha256, site, grp, cpr_masked, received_at) \
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8)",
        params![i.result_id, i.revision, i.input_json, i.input_sha256, i.site, i.group, i.cpr_masked, now_text()],
    )?)
}

/// Inserts a message in status `generated`; returns its id.
pub(super) fn insert_message(tx: &Connection, input_id: i64, m: &NewMessage<'_>) -> Result<i64> {
    let now = now_text();
    let id = tx.insert_returning_id(
        "INSERT INTO messages (input_id, result_id, kind, content_sha256, letter_revision, letter_id, envelope_id, \
         attempt, status_code, status, sha256, created_at, updated_at, regenerated_from, replaces) \
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, 'generated', ?10, ?11, ?11, ?12, ?13)",
        params![
            input_id,
            m.result_id,
            m.kind,
            m.content_sha256,
            m.letter_revision,
            m.letter_id,
            m.envelope_id,
            m.transmission,
            m.status_code,
            m.sha256,
            now,
            m.regenerated_from,
            m.replaces,
        ],
    )?;
    super::bytes::store(tx, id, m.result_id, m.bytes, m.carries)?;
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
    pub(super) conn: &'a Connection,
    /// The journal's resend policy, for the rules asked again under the write lock.
    pub(super) policy: crate::reliable::resend::Policy,
    /// Whether each result is recorded inside a savepoint of its own (see
    /// [`Journal::write_all_or_nothing`]).
    savepoints: bool,
}

impl Writer<'_> {
    /// Records a result's new input version and its messages, as one unit: a failure
    /// (say, another process recorded the same revision first) undoes only this result,
    /// not the rest of the transaction (unless the transaction records all or nothing:
    /// [`Journal::write_all_or_nothing`]). A message that replaces an earlier letter
    /// supersedes the waiting messages to the same addressee, and the new input closes the
    /// result's open refused inputs. Returns the messages' ids.
    pub(crate) fn record_result(&self, input: &NewInput<'_>, messages: &[NewMessage<'_>]) -> Result<Vec<i64>> {
        let run = |sql: &str| -> Result<()> { Ok(self.conn.prepare_cached(sql)?.execute([]).map(|_| ())?) };
        let record = || {
            let input_id = insert_input(self.conn, input).map_err(|e| concurrent(e, input.result_id))?;
            // A later input for the result settles what was refused of it before.
            close_refused(self.conn, input.result_id, input_id)?;
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
        };
        if !self.savepoints {
            return record();
        }
        run("SAVEPOINT result")?;
        match record() {
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
    pub(crate) fn changed_since(&self, m: &MessageRow, transmission: u32) -> Result<Option<String>> {
        let h = letter_history(self.conn, m.kind, &m.letter_id, self.policy)?;
        let now = h.get(m.id).ok_or(super::db::DbError::NoRows)?;
        Ok(resend::changed_since(&h, now, m.status, transmission).map(|change| match change {
            Change::Status { from, to } => format!("its status changed from {} to {}", from.code(), to.code()),
            Change::Regenerated { resend_id: n } => format!("it was regenerated as message {n}"),
            Change::Answered { by: n, status: st } => {
                format!("message {n}, a transmission of its letter, is {}", st.code())
            }
            Change::Replaced { by } => format!("message {by}, a later letter, replaced it"),
            Change::Recorded { last } => format!("transmission {last} of its letter was recorded meanwhile"),
        }))
    }

    /// Letter `letter_id` of `kind` as it stands under the write lock, for a decision made on
    /// an earlier reading to be made again before it is recorded (a re-route).
    pub(crate) fn letter_history(&self, kind: Kind, letter_id: &str) -> Result<LetterHistory> {
        letter_history(self.conn, kind, letter_id, self.policy)
    }

    /// Records a new transmission of a stored letter, built again for input `input_id`.
    pub(crate) fn record_regenerated(&self, input_id: i64, m: &NewMessage<'_>) -> Result<i64> {
        insert_message(self.conn, input_id, m).map_err(|e| concurrent(e, m.result_id))
    }

    /// The size of message `id`'s stored bytes (`None`: missing or damaged, which
    /// [`Writer::verified_bytes`] reports).
    pub(crate) fn stored_len(&self, id: i64) -> Result<Option<u64>> {
        let row: Option<(Option<Vec<u8>>, Option<i64>)> = self
            .conn
            .prepare_cached("SELECT substr(bytes, 1, ?2), length(bytes) FROM message_bytes WHERE message_id = ?1")?
            .query_row(params![id, super::bytes::PREFIX_LEN as i64], |r| Ok((r.get(0).ok().flatten(), r.get(1)?)))
            .optional()?;
        Ok(row.and_then(|(prefix, len)| super::bytes::made_len(&prefix?, u64::try_from(len?).ok()?)))
    }

    /// See [`Journal::verified_bytes`].
    pub(crate) fn verified_bytes(&self, m: &MessageRow) -> Result<Vec<u8>> {
        integrity::verified_bytes(self.conn, m)
    }

    /// See [`Journal::fail_damaged`].
    pub(crate) fn fail_damaged(&self, id: i64, reason: &str) -> Result<()> {
        integrity::fail_damaged(self.conn, id, reason)
    }
}

/// A uniqueness clash on insert: another flspost process recorded the same result at the
/// same moment. Running again settles it.
fn concurrent(e: Error, result_id: &str) -> Error {
    match e {
        Error::Journal(StoreError(e)) if e.is_constraint() => {
            Error::Conflict(format!(
                "result {result_id} was recorded by another flspost process at the same time; run again"
            ))
        }
        other => other,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Commits `n` writes of some 200 KB each (random, so nothing compresses them away).
    fn commit_writes(journal: &mut Journal, n: usize) {
        for _ in 0..n {
            journal
                .write(|w| {
                    w.conn.execute(
                        "INSERT INTO audit (at, who, action, target, detail) \
                         VALUES ('t', 'test', 'test', 'x', hex(randomblob(100000)))",
                        [],
                    )?;
                    Ok(())
                })
                .unwrap();
        }
    }

    fn wal_len(journal: &Journal) -> u64 {
        std::fs::metadata(journal.wal.as_ref().unwrap()).map(|m| m.len()).unwrap_or(0)
    }

    #[test]
    fn a_writer_of_one_command_keeps_the_log_small() {
        let dir = tempfile::tempdir().unwrap();
        let mut journal = Journal::open(&dir.path().join("j.sqlite")).unwrap();
        commit_writes(&mut journal, 20);
        assert!(wal_len(&journal) <= WAL_CHECKPOINT_BYTES + 300_000, "{}", wal_len(&journal));
    }

    #[test]
    fn a_writer_of_many_commits_leaves_checkpoints_to_sqlite_and_the_log_small_when_it_closes() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("j.sqlite");
        let mut journal = Journal::open(&path).unwrap();
        journal.set_many_commits();
        commit_writes(&mut journal, 20);
        // 4 MB of writes: not emptied at each megabyte (SQLite's own comes at 16 MB).
        let wal = journal.wal.clone().unwrap();
        assert!(wal_len(&journal) > 3 * WAL_CHECKPOINT_BYTES, "{}", wal_len(&journal));
        drop(journal);
        let left = std::fs::metadata(&wal).map(|m| m.len()).unwrap_or(0);
        assert!(left <= WAL_CHECKPOINT_BYTES, "{left}");
        // What was written is in the file.
        let journal = Journal::open(&path).unwrap();
        let n: i64 = journal.conn.query_row("SELECT COUNT(*) FROM audit", [], |r| r.get(0)).unwrap();
        assert_eq!(n, 20);
    }

    #[test]
    fn a_log_grown_past_its_limit_is_cut_back_once_sqlite_starts_it_again() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("j.sqlite");
        let mut journal = Journal::open(&path).unwrap();
        journal.set_many_commits();
        // A reader's snapshot keeps SQLite from starting the log again: it grows past the limit.
        let reader = rusqlite::Connection::open(&path).unwrap();
        reader.execute_batch("BEGIN; SELECT COUNT(*) FROM audit;").unwrap();
        commit_writes(&mut journal, 200);
        let grown = wal_len(&journal);
        assert!(grown > WAL_SIZE_LIMIT as u64, "{grown}");
        reader.execute_batch("COMMIT").unwrap();
        commit_writes(&mut journal, 10);
        assert!(wal_len(&journal) <= WAL_SIZE_LIMIT as u64, "{} after {grown}", wal_len(&journal));
    }
}
