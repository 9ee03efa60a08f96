//! Where a message's exact bytes are kept: its `message_bytes` row, packed ([`packing`])
//! when it carries a part another message of its result also carries, and the `parts` rows.

use super::packing::{self, Unpack};
use crate::error::{Error, Result};
use rusqlite::{params, Connection};

/// Stores message `id`'s `bytes` (of result `result_id`): a part is shared with the
/// result's other messages when one already holds the same bytes, and a recipe is stored
/// only when it gives back every byte.
pub(super) fn store(conn: &Connection, id: i64, result_id: &str, bytes: &[u8]) -> Result<()> {
    let stored = match packing::pack(bytes) {
        Some((pieces, parts)) => {
            let ids = parts.iter().map(|p| part_id(conn, result_id, p)).collect::<Result<Vec<i64>>>()?;
            let recipe = packing::encode(&pieces, &ids, bytes.len());
            let mut by_id = |want: i64| Ok(ids.iter().position(|&i| i == want).map(|n| parts[n].clone()));
            match packing::unpack(&recipe, &mut by_id) {
                Ok(made) if made == bytes => {
                    let mut link = conn
                        .prepare_cached("INSERT OR IGNORE INTO message_parts (message_id, part_id) VALUES (?1, ?2)")?;
                    for part in &ids {
                        link.execute(params![id, part])?;
                    }
                    Some(recipe)
                }
                _ => {
                    forget_unused(conn, &ids)?;
                    None
                }
            }
        }
        None => None,
    };
    conn.prepare_cached("INSERT INTO message_bytes (message_id, bytes) VALUES (?1, ?2)")?
        .execute(params![id, stored.as_deref().unwrap_or(bytes)])?;
    Ok(())
}

/// The row in `parts` holding `bytes` for `result_id`: found among the result's parts
/// (byte for byte), or made.
fn part_id(conn: &Connection, result_id: &str, bytes: &[u8]) -> Result<i64> {
    let mut same =
        conn.prepare_cached("SELECT id, bytes FROM parts WHERE result_id = ?1 AND length(bytes) = ?2 ORDER BY id")?;
    let mut rows = same.query(params![result_id, bytes.len() as i64])?;
    while let Some(r) = rows.next()? {
        if r.get_ref(1)?.as_blob().ok() == Some(bytes) {
            return Ok(r.get(0)?);
        }
    }
    conn.prepare_cached("INSERT INTO parts (result_id, bytes) VALUES (?1, ?2)")?.execute(params![result_id, bytes])?;
    Ok(conn.last_insert_rowid())
}

/// Removes those of `ids` no message uses.
fn forget_unused(conn: &Connection, ids: &[i64]) -> Result<()> {
    let mut st = conn.prepare_cached(
        "DELETE FROM parts WHERE id = ?1 AND NOT EXISTS (SELECT 1 FROM message_parts WHERE part_id = ?1)",
    )?;
    for id in ids {
        st.execute([id])?;
    }
    Ok(())
}

const PART_MISTYPED: &str = "a part its stored bytes use is not stored as bytes (the journal is damaged)";

/// A stored `message_bytes.bytes` value as the message it makes: the value itself, or what
/// its recipe makes. `Err(Ok(problem))` is damage to report for this one message.
pub(super) fn made(conn: &Connection, stored: &[u8]) -> Result<std::result::Result<Vec<u8>, &'static str>> {
    if !packing::is_packed(stored) {
        return Ok(Ok(stored.to_vec()));
    }
    let mut part = |id: i64| -> Result<Option<Vec<u8>>> {
        let mut st = conn.prepare_cached("SELECT bytes FROM parts WHERE id = ?1")?;
        let mut rows = st.query([id])?;
        let Some(row) = rows.next()? else { return Ok(None) };
        match row.get_ref(0)? {
            rusqlite::types::ValueRef::Blob(b) => Ok(Some(b.to_vec())),
            _ => Err(Error::Damaged(PART_MISTYPED.into())),
        }
    };
    match packing::unpack(stored, &mut part) {
        Ok(b) => Ok(Ok(b)),
        Err(Unpack::Damaged(problem)) => Ok(Err(problem)),
        Err(Unpack::Read(Error::Damaged(_))) => Ok(Err(PART_MISTYPED)),
        Err(Unpack::Read(e)) => Err(e),
    }
}

/// The length of the message a stored value makes (without making it).
pub(super) fn made_len(stored_prefix: &[u8], stored_len: u64) -> Option<u64> {
    if packing::is_packed(stored_prefix) {
        packing::packed_len(stored_prefix)
    } else {
        Some(stored_len)
    }
}

/// How many bytes of a stored value [`made_len`] needs.
pub(super) const PREFIX_LEN: usize = packing::MAGIC.len() + 8;

/// Removes the `message_bytes` rows of the messages `messages` selects (SQL: `SELECT id ...`)
/// and the parts no other message uses. Returns how many rows went.
pub(super) fn remove(conn: &Connection, messages: &str, params: impl rusqlite::Params + Clone) -> Result<usize> {
    conn.execute_batch(
        "CREATE TEMP TABLE IF NOT EXISTS removed_parts (id INTEGER PRIMARY KEY); DELETE FROM temp.removed_parts;",
    )?;
    conn.execute(
        &format!("INSERT OR IGNORE INTO temp.removed_parts SELECT part_id FROM message_parts WHERE message_id IN ({messages})"),
        params.clone(),
    )?;
    conn.execute(&format!("DELETE FROM message_parts WHERE message_id IN ({messages})"), params.clone())?;
    let n = conn.execute(&format!("DELETE FROM message_bytes WHERE message_id IN ({messages})"), params)?;
    conn.execute(
        "DELETE FROM parts WHERE id IN (SELECT id FROM temp.removed_parts) \
         AND NOT EXISTS (SELECT 1 FROM message_parts WHERE part_id = parts.id)",
        [],
    )?;
    conn.execute("DELETE FROM temp.removed_parts", [])?;
    Ok(n)
}
