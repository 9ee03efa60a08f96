//! A stored message's bytes and an input against their hashes: checked before use, and
//! all of them (and every refused input's bytes) by `journal verify`.

use super::db::{params, Connection, OptionalExtension};
use super::types::*;
use super::{now_text, Journal};
use crate::error::{Error, Result};
use crate::model::Kind;

impl Journal {
    /// A message's stored bytes, checked against their SHA-256 before anyone uses them.
    pub(crate) fn verified_bytes(&self, m: &MessageRow) -> Result<Vec<u8>> {
        verified_bytes(&self.conn, m)
    }

    /// Marks a queued message whose stored bytes are damaged `failed`, so it is never sent.
    pub(crate) fn fail_damaged(&mut self, id: i64, reason: &str) -> Result<()> {
        self.transaction(|tx| fail_damaged(tx, id, reason))
    }

    /// Checks every message's bytes against their SHA-256, every input against its hash and
    /// every refused input's bytes against theirs, one row at a time; `damaged` gets each that
    /// does not match. What `journal erase` emptied (`erased_at`) is not checked: it is gone
    /// on purpose. Returns how many of each were checked.
    pub fn verify(&self, mut damaged: impl FnMut(Damage)) -> Result<Verified> {
        // A page at a time, by id: PostgreSQL's client holds a query's rows whole, and a
        // journal's bytes are gigabytes.
        let messages = each_by_id(
            &self.conn,
            &format!(
                "SELECT m.id, m.result_id, m.kind, m.letter_id, m.sha256, b.bytes FROM messages m \
             LEFT JOIN message_bytes b ON b.message_id = m.id WHERE m.erased_at IS NULL AND m.pruned_at IS NULL \
             AND m.id > ?1 ORDER BY m.id LIMIT {PAGE}"
            ),
            |r| {
                let sha256: String = r.get("sha256")?;
                let problem = match stored_bytes(Some(r.get_ref("bytes")?)) {
                    Err(problem) => problem,
                    Ok(b) => match super::bytes::made(&self.conn, b)? {
                        Err(problem) => problem,
                        Ok(b) if crate::support::digest::sha256_hex(&b) != sha256 => BYTES_DAMAGED,
                        Ok(_) => return Ok(()),
                    },
                };
                let kind: String = r.get("kind")?;
                damaged(Damage {
                    what: "message",
                    id: r.get("id")?,
                    result_id: r.get("result_id")?,
                    kind: Kind::from_code(&kind),
                    letter_id: Some(r.get("letter_id")?),
                    code: "journal_damaged",
                    problem: problem.to_string(),
                });
                Ok(())
            },
        )?;
        // What schema 6 stores apart: a part no message uses, or one a message without bytes
        // still claims, is patient data that no prune or erasure would ever remove.
        let mut st = self.conn.prepare(
            "SELECT p.id, p.result_id, 'no message uses it' AS problem FROM parts p \
               WHERE NOT EXISTS (SELECT 1 FROM message_parts mp WHERE mp.part_id = p.id) \
             UNION ALL \
             SELECT mp.part_id, m.result_id, 'message ' || m.id || ' claims it but has no stored bytes' FROM message_parts mp \
               JOIN messages m ON m.id = mp.message_id \
               WHERE NOT EXISTS (SELECT 1 FROM message_bytes b WHERE b.message_id = mp.message_id) \
             ORDER BY 1",
        )?;
        let mut rows = st.query([])?;
        while let Some(r) = rows.next()? {
            let why: String = r.get(2)?;
            damaged(Damage {
                what: "part",
                id: r.get(0)?,
                result_id: r.get(1)?,
                kind: None,
                letter_id: None,
                code: "journal_damaged",
                problem: format!(
                    "a stored part (a patient's PDF) that {why}: nothing would remove it (the journal is damaged)"
                ),
            });
        }
        // An erased or pruned message's bytes and input are gone by design, not damage.
        let inputs = each_by_id(
            &self.conn,
            &format!(
            "SELECT id, result_id, input_json, input_sha256 FROM inputs WHERE erased_at IS NULL AND pruned_at IS NULL \
             AND id > ?1 ORDER BY id LIMIT {PAGE}"
        ),
            |r| {
                let sha256: String = r.get("input_sha256")?;
                // Read as it is stored: an input that is not TEXT (a BLOB, say) is damage to report
                // like any other, not a reason to stop checking the rest.
                let problem = match r.get_ref("input_json")? {
                    super::db::ValueRef::Text(t) => match std::str::from_utf8(t) {
                        Ok(text) if crate::input::input_intact(text, &sha256) => return Ok(()),
                        _ => INPUT_DAMAGED.to_string(),
                    },
                    other => {
                        let is = match other {
                            super::db::ValueRef::Blob(_) | super::db::ValueRef::Null => other.type_name(),
                            _ => "a number",
                        };
                        format!("the input is not stored as text (it is {is}): the journal is damaged")
                    }
                };
                damaged(Damage {
                    what: "input",
                    id: r.get("id")?,
                    result_id: r.get("result_id")?,
                    kind: None,
                    letter_id: None,
                    code: "journal_damaged",
                    problem,
                });
                Ok(())
            },
        )?;
        let refused_inputs = each_by_id(
            &self.conn,
            &format!(
            "SELECT id, result_id, input_bytes, input_sha256 FROM refused_inputs WHERE id > ?1 ORDER BY id LIMIT {PAGE}"
        ),
            |r| {
                let sha256: String = r.get("input_sha256")?;
                let problem = match r.get_ref("input_bytes")? {
                    super::db::ValueRef::Blob(b) if crate::support::digest::sha256_hex(b) == sha256 => return Ok(()),
                    super::db::ValueRef::Blob(_) => REFUSED_DAMAGED,
                    _ => REFUSED_MISTYPED,
                };
                let result_id: Option<String> = r.get("result_id")?;
                damaged(Damage {
                    what: "refused",
                    id: r.get("id")?,
                    result_id: result_id.unwrap_or_default(),
                    kind: None,
                    letter_id: None,
                    code: "journal_damaged",
                    problem: problem.to_string(),
                });
                Ok(())
            },
        )?;
        Ok(Verified { messages, inputs, refused_inputs })
    }
}

/// Rows read at a time by the checks that go through a whole journal.
const PAGE: usize = 256;

/// Runs `f` on every row `sql` selects, a page at a time by the column `id`: `sql` takes the
/// last id seen as `?1` and reads at most [`PAGE`] rows in id order. Returns how many rows.
fn each_by_id(
    conn: &super::db::Connection,
    sql: &str,
    mut f: impl FnMut(&super::db::Row<'_>) -> Result<()>,
) -> Result<u64> {
    let mut st = conn.prepare(sql)?;
    let (mut after, mut n) = (0i64, 0);
    loop {
        let mut rows = st.query([after])?;
        let mut seen = false;
        while let Some(r) = rows.next()? {
            (seen, after, n) = (true, r.get("id")?, n + 1);
            f(&r)?;
        }
        if !seen {
            return Ok(n);
        }
    }
}

const BYTES_DAMAGED: &str = "its stored bytes do not match their SHA-256 (the journal is damaged)";

const REFUSED_DAMAGED: &str = "its stored input does not match its SHA-256 (the journal is damaged)";
const REFUSED_MISTYPED: &str = "its stored input is not stored as bytes (the journal is damaged)";

const BYTES_MISSING: &str = "its stored bytes are missing (the journal is damaged)";
const BYTES_MISTYPED: &str = "its stored bytes are not stored as bytes (the journal is damaged)";

/// The bytes in a `message_bytes.bytes` value (`None`: no row, or NULL). A row that is gone
/// or holds another type than a BLOB is damage to report for that one message, not an error
/// that stops the whole command.
fn stored_bytes(v: Option<super::db::ValueRef<'_>>) -> std::result::Result<&[u8], &'static str> {
    use super::db::ValueRef;
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
    if let Some(at) = &m.pruned_at {
        return Err(Error::Usage(format!(
            "message {} ({} {}, result {}): its bytes were pruned on {at} (retention, `journal prune`); \
             the journal keeps its metadata only",
            m.id,
            m.kind.code(),
            m.letter_id,
            m.result_id
        )));
    }
    let mut st = conn.prepare_cached("SELECT bytes FROM message_bytes WHERE message_id = ?1")?;
    let mut rows = st.query([m.id])?;
    let row = rows.next()?;
    if row.is_none() {
        let erased: Option<String> =
            conn.query_row("SELECT erased_at FROM messages WHERE id = ?1", [m.id], |r| r.get(0)).optional()?.flatten();
        if let Some(at) = erased {
            return Err(Error::Usage(format!(
                "message {} ({} {}, result {}): its bytes were erased at {at} (journal erase)",
                m.id,
                m.kind.code(),
                m.letter_id,
                m.result_id
            )));
        }
    }
    let value = match &row {
        Some(r) => Some(r.get_ref(0)?),
        None => None,
    };
    let stored = stored_bytes(value).map_err(damaged)?;
    let bytes = super::bytes::made(conn, stored)?.map_err(damaged)?;
    if crate::support::digest::sha256_hex(&bytes) != m.sha256 {
        return Err(damaged(BYTES_DAMAGED));
    }
    Ok(bytes)
}

/// Marks a queued message `failed` because its bytes are damaged: it must never be sent.
/// Messages already sent keep their status (what was sent was checked then).
pub(super) fn fail_damaged(conn: &Connection, id: i64, reason: &str) -> Result<()> {
    conn.execute(
        "UPDATE messages SET status = 'failed', reason = ?2, updated_at = ?3 WHERE id = ?1 \
         AND status IN ('generated', 'retry')",
        params![id, reason, now_text()],
    )?;
    Ok(())
}
