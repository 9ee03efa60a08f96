//! Where a message's exact bytes are kept: its `message_bytes` row, packed ([`packing`])
//! when it carries a part another message of its result also carries, and the `parts` rows.

use super::packing::{self, Unpack};
use crate::compose::Carried;
use crate::error::{Error, Result};
use super::db::{params, Connection};
use std::borrow::Cow;

/// Stores message `id`'s `bytes` (of result `result_id`): a part is shared with the
/// result's other messages when one already holds the same bytes, and a recipe is stored
/// only when it gives back every byte. `carries`: what the message's maker put in it in
/// base64 ([`NewMessage::carries`](super::NewMessage::carries)), the only runs decoded.
pub(super) fn store(
    conn: &Connection,
    id: i64,
    result_id: &str,
    bytes: &[u8],
    carries: Option<&[Carried]>,
) -> Result<()> {
    let recipe = match packing::pack(bytes, carries) {
        Some(packed) => verified_recipe(conn, result_id, bytes, packed)?,
        None => None,
    };
    if let Some((_, ids)) = &recipe {
        let mut link =
            conn.prepare_cached("INSERT INTO message_parts (message_id, part_id) VALUES (?1, ?2) ON CONFLICT DO NOTHING")?;
        for part in ids {
            link.execute(params![id, part])?;
        }
    }
    conn.prepare_cached("INSERT INTO message_bytes (message_id, bytes) VALUES (?1, ?2)")?
        .execute(params![id, recipe.as_ref().map_or(bytes, |(r, _)| r.as_slice())])?;
    Ok(())
}

/// The recipe for `packed` and the parts it uses, with the parts stored, when it makes
/// `bytes` exactly ([`packing::verify`]); else `None`, and no part is left that nothing uses.
fn verified_recipe(
    conn: &Connection,
    result_id: &str,
    bytes: &[u8],
    (pieces, parts): (Vec<packing::Piece>, Vec<Vec<u8>>),
) -> Result<Option<(Vec<u8>, Vec<i64>)>> {
    let ids = parts.iter().map(|p| part_id(conn, result_id, p)).collect::<Result<Vec<i64>>>()?;
    let recipe = packing::encode(&pieces, &ids, bytes.len());
    let mut by_id = |want: i64| Ok(ids.iter().position(|&i| i == want).map(|n| Cow::Borrowed(parts[n].as_slice())));
    if packing::verify(&recipe, &mut by_id, bytes) {
        Ok(Some((recipe, ids)))
    } else {
        forget_unused(conn, &ids)?;
        Ok(None)
    }
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
    Ok(conn.insert_returning_id("INSERT INTO parts (result_id, bytes) VALUES (?1, ?2)", params![result_id, bytes])?)
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
    let mut part = |id: i64| -> Result<Option<Cow<'static, [u8]>>> {
        let mut st = conn.prepare_cached("SELECT bytes FROM parts WHERE id = ?1")?;
        let mut rows = st.query([id])?;
        let Some(row) = rows.next()? else { return Ok(None) };
        match row.get_ref(0)? {
            super::db::ValueRef::Blob(b) => Ok(Some(Cow::Owned(b.to_vec()))),
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
pub(super) fn remove(conn: &Connection, messages: &str, params: impl super::db::Params + Clone) -> Result<usize> {
    conn.execute_batch(
        "CREATE TEMP TABLE IF NOT EXISTS removed_parts (id INTEGER PRIMARY KEY); DELETE FROM removed_parts;",
    )?;
    conn.execute(
        &format!(
            "INSERT INTO removed_parts SELECT part_id FROM message_parts WHERE message_id IN ({messages}) \
             ON CONFLICT DO NOTHING"
        ),
        params.clone(),
    )?;
    conn.execute(&format!("DELETE FROM message_parts WHERE message_id IN ({messages})"), params.clone())?;
    let n = conn.execute(&format!("DELETE FROM message_bytes WHERE message_id IN ({messages})"), params)?;
    conn.execute(
        "DELETE FROM parts WHERE id IN (SELECT id FROM removed_parts) \
         AND NOT EXISTS (SELECT 1 FROM message_parts WHERE part_id = parts.id)",
        [],
    )?;
    conn.execute("DELETE FROM removed_parts", [])?;
    Ok(n)
}

#[cfg(test)]
mod tests {
    use super::*;
    use base64::engine::general_purpose::STANDARD;
    use base64::Engine;

    fn conn() -> Connection {
        let c = Connection::Sqlite(rusqlite::Connection::open_in_memory().unwrap());
        c.execute_batch(
            "CREATE TABLE message_bytes (message_id INTEGER PRIMARY KEY, bytes BLOB NOT NULL);
             CREATE TABLE parts (id INTEGER PRIMARY KEY, result_id TEXT NOT NULL, bytes BLOB NOT NULL);
             CREATE TABLE message_parts (message_id INTEGER NOT NULL, part_id INTEGER NOT NULL,
                                         PRIMARY KEY (message_id, part_id)) WITHOUT ROWID;",
        )
        .unwrap();
        c
    }

    fn stored(c: &Connection, id: i64) -> Vec<u8> {
        let v: Vec<u8> =
            c.query_row("SELECT bytes FROM message_bytes WHERE message_id = ?1", [id], |r| r.get(0)).unwrap();
        made(c, &v).unwrap().unwrap()
    }

    fn count(c: &Connection, sql: &str) -> i64 {
        c.query_row(sql, [], |r| r.get(0)).unwrap()
    }

    #[test]
    fn a_part_is_shared_within_a_result_and_only_what_the_maker_names_is_looked_for() {
        let pdf: Vec<u8> = b"%PDF-1.7\n".iter().copied().chain((0..20_000u32).map(|i| (i * 7) as u8)).collect();
        let memo = [b"<m>".as_slice(), STANDARD.encode(&pdf).as_bytes(), b"</m>"].concat();
        let c = conn();
        let named = [Carried::of(&pdf)];
        // Named: packed, and the next message of the result shares the part.
        store(&c, 1, "R", &memo, Some(&named)).unwrap();
        store(&c, 2, "R", &memo, Some(&named)).unwrap();
        // Not known: found by decoding every long run, the same part.
        store(&c, 3, "R", &memo, None).unwrap();
        // Named nothing, or only what it does not hold: nothing decoded, stored as it is.
        store(&c, 4, "R", &memo, Some(&[])).unwrap();
        let unrelated: Vec<u8> = b"%PDF-1.4\n".iter().copied().chain(std::iter::repeat_n(9, 20_000)).collect();
        store(&c, 5, "R", &memo, Some(&[Carried::of(&unrelated)])).unwrap();
        // Another result's message gets its own part.
        store(&c, 6, "S", &memo, Some(&named)).unwrap();
        for id in 1..=6 {
            assert_eq!(stored(&c, id), memo, "message {id}");
        }
        assert_eq!(count(&c, "SELECT count(*) FROM parts"), 2);
        assert_eq!(count(&c, "SELECT count(*) FROM message_parts"), 4);
        assert_eq!(count(&c, "SELECT count(*) FROM message_bytes WHERE length(bytes) < 200"), 4);
    }
}
