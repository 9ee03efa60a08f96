//! A journal restored from a backup must never give a new letter an identifier an earlier,
//! different letter already had. Letter identifiers are derived from the result and the
//! letter's revision (`formats::identity`), and the revisions a journal made after the backup
//! was taken are lost with it: counting on from the copy would mint them again, for letters
//! with other content.
//!
//! So every copy `journal backup` (or a migration) makes is marked ([`MARK`]), and the first
//! command that writes to a marked journal (a restored copy, put in place) picks a new,
//! random revision floor before anything else is written: from then on, a result's new
//! letters count from that floor, in a range no earlier journal used (two restores of one
//! backup pick ranges that meet with a probability of about 2^-26 per pair of letters of one
//! result). The floor is kept in `journal_meta`, the mark dropped, both in one transaction,
//! and the audit log says so.

use super::sql::now_text;
use crate::error::Result;
use super::db::{params, Connection, Dialect, OptionalExtension, TransactionBehavior};

/// The table a backup copy carries: it exists in copies only (any schema version: a
/// migration's backup is of the old schema), and the first write removes it.
pub(super) const MARK: &str = "flspost_backup_copy";

/// How many revisions of one letter a floor leaves room for before the next range might
/// begin; far more than a result ever gets (a correction each).
pub(crate) const REVISIONS_PER_FLOOR: u32 = 1 << 16;

/// Marks the copy `conn` has open as a backup taken now.
pub(super) fn mark_copy(conn: &Connection) -> Result<()> {
    // A copy of a marked journal (a backup of a backup, a restored one not yet written) has
    // the mark already: one more row says when this copy was taken.
    conn.execute_batch(&format!("CREATE TABLE IF NOT EXISTS {MARK} (taken_at TEXT NOT NULL);"))?;
    conn.execute(&format!("INSERT INTO {MARK} (taken_at) VALUES (?1)"), [now_text()])?;
    Ok(())
}

/// When `conn`'s journal is a restored copy: the new floor, under the write lock, once
/// (another process that opened it at the same moment finds the mark gone). The journal is
/// of this schema here (migrated first).
pub(super) fn settle_if_restored(conn: &Connection) -> Result<Option<u32>> {
    if !is_backup_copy(conn)? {
        return Ok(None);
    }
    let tx = super::db::Transaction::new_unchecked(conn, TransactionBehavior::Immediate)?;
    if !is_backup_copy(&tx)? {
        return Ok(None);
    }
    let taken: Option<String> =
        tx.query_row(&format!("SELECT max(taken_at) FROM {MARK}"), [], |r| r.get(0)).optional()?.flatten();
    let floor = new_floor(revision_floor(&tx)?);
    tx.execute(
        "INSERT INTO journal_meta (key, value) VALUES ('revision_floor', ?1) \
         ON CONFLICT (key) DO UPDATE SET value = excluded.value",
        [floor.to_string()],
    )?;
    tx.execute_batch(&format!("DROP TABLE {MARK};"))?;
    let detail = format!(
        "first write to a copy of a backup taken {}: new letters take revisions from {floor}",
        taken.as_deref().unwrap_or("(time unknown)")
    );
    tx.execute(
        "INSERT INTO audit (at, who, action, target, detail) VALUES (?1, ?2, 'restored', 'journal', ?3)",
        params![now_text(), crate::support::person::who(), detail],
    )?;
    tx.commit()?;
    Ok(Some(floor))
}

/// Whether `conn`'s journal is a backup copy not yet written to (it carries [`MARK`]).
pub(super) fn is_backup_copy(conn: &Connection) -> Result<bool> {
    let sql = match conn.dialect() {
        Dialect::Sqlite => "SELECT EXISTS (SELECT 1 FROM sqlite_schema WHERE type = 'table' AND name = ?1)",
        Dialect::Postgres => "SELECT to_regclass(?1) IS NOT NULL",
    };
    Ok(conn.query_row(sql, [MARK], |r| r.get(0))?)
}

/// The journal's revision floor (0: never restored).
pub(super) fn revision_floor(conn: &Connection) -> Result<u32> {
    let v: Option<String> =
        conn.query_row("SELECT value FROM journal_meta WHERE key = 'revision_floor'", [], |r| r.get(0)).optional()?;
    Ok(v.and_then(|v| v.parse().ok()).unwrap_or(0))
}

/// A random floor in [2^16, 2^31 - 2^16), other than `old`'s range.
fn new_floor(old: u32) -> u32 {
    let span = (1u32 << 31) - 2 * REVISIONS_PER_FLOOR;
    loop {
        let floor = REVISIONS_PER_FLOOR + (uuid::Uuid::new_v4().as_u128() % u128::from(span)) as u32;
        if floor.abs_diff(old) >= REVISIONS_PER_FLOOR {
            return floor;
        }
    }
}

/// The revision a new letter of a result gets, given the revisions its earlier letters (of
/// the same addressee) have and the journal's `floor`: the next after the highest in the
/// floor's range, or the floor itself.
pub(crate) fn next_revision(floor: u32, earlier: impl IntoIterator<Item = u32>) -> u32 {
    let range = floor..floor.saturating_add(REVISIONS_PER_FLOOR);
    earlier.into_iter().filter(|r| range.contains(r)).map(|r| r + 1).max().unwrap_or(floor)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_journal_never_restored_counts_from_zero_as_before() {
        assert_eq!(next_revision(0, []), 0);
        assert_eq!(next_revision(0, [0, 1, 2]), 3);
    }

    #[test]
    fn after_a_restore_revisions_count_from_the_floor_whatever_came_before() {
        assert_eq!(next_revision(700_000, [0, 1, 2]), 700_000);
        assert_eq!(next_revision(700_000, [0, 700_000]), 700_001);
        // An earlier restore's range below or above this one is not continued.
        assert_eq!(next_revision(700_000, [123_456_789, 5]), 700_000);
    }

    #[test]
    fn a_new_floor_leaves_the_old_range() {
        for _ in 0..1000 {
            let f = new_floor(1 << 20);
            assert!(f >= REVISIONS_PER_FLOOR && f < (1 << 31) - REVISIONS_PER_FLOOR);
            assert!(f.abs_diff(1 << 20) >= REVISIONS_PER_FLOOR);
        }
    }
}
