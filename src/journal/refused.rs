//! Refused inputs: every input `generate` refused, recorded so that "what failed today" finds
//! it, with its bytes as received; closed when a later input for the same result is recorded.
//!
//! A repeat is folded: an input refused again while an identical refusal is open (the same
//! bytes, by their SHA-256, the same result, field and reason, and, when none of the document
//! could be kept, the same source) is not recorded again; the open row stands for it. A gateway
//! that resends the same bad line every minute makes one problem for a person, not 1440 rows a
//! day; the repeat tells that person nothing the open row does not. Once that row is closed (a
//! later input for the result, or a person), the same refusal is a new problem and a new row.

use super::sql::now_text;
use super::types::*;
use super::{Journal, Writer};
use crate::error::Result;
use crate::support::digest::sha256_hex;
use super::db::ToSql;
use super::db::{params, Connection, OptionalExtension, Row};

const REFUSED_COLUMNS: &str = "id, source, result_id, field, reason, length(input_bytes) AS input_len, input_sha256, \
    received_at, closed_by, handled_at, handled_by, handled_note";

/// Open: neither closed by a later input nor by a person.
const OPEN: &str = "closed_by IS NULL AND handled_at IS NULL";

fn refused_row(r: &Row<'_>) -> super::db::Result<RefusedRow> {
    let len: Option<i64> = r.get("input_len")?;
    Ok(RefusedRow {
        id: r.get("id")?,
        source: r.get("source")?,
        result_id: r.get("result_id")?,
        field: r.get("field")?,
        reason: r.get("reason")?,
        input_len: len.and_then(|l| u64::try_from(l).ok()).unwrap_or(0),
        input_sha256: r.get("input_sha256")?,
        received_at: r.get("received_at")?,
        closed_by: r.get("closed_by")?,
        handled_at: r.get("handled_at")?,
        handled_by: r.get("handled_by")?,
        handled_note: r.get("handled_note")?,
    })
}

impl Writer<'_> {
    /// Records a refused input in the caller's transaction, or finds the open identical
    /// refusal it repeats (see the module's doc); returns the row's id either way.
    pub(crate) fn record_refused(&self, r: &NewRefused<'_>) -> Result<i64> {
        let sha256 = sha256_hex(r.input_bytes);
        let same = self
            .conn
            .prepare_cached(&format!(
                "SELECT id FROM refused_inputs WHERE input_sha256 = ?1 AND result_id IS NOT DISTINCT FROM ?2 AND field = ?3 \
                 AND reason = ?4 AND (length(input_bytes) > 0 OR source = ?5) AND {OPEN} ORDER BY id LIMIT 1"
            ))?
            .query_row(params![sha256, r.result_id, r.field, r.reason, r.source], |row| row.get(0))
            .optional()?;
        if let Some(id) = same {
            return Ok(id);
        }
        Ok(self.conn.insert_returning_id(
            "INSERT INTO refused_inputs (source, result_id, field, reason, input_bytes, input_sha256, received_at) \
             VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)",
            params![r.source, r.result_id, r.field, r.reason, r.input_bytes, sha256, now_text()],
        )?)
    }
}

/// Closes every open refused input of `result_id`: input `input_id`, recorded for it, is the
/// later input that settles them.
pub(super) fn close_refused(conn: &Connection, result_id: &str, input_id: i64) -> Result<()> {
    conn.prepare_cached(&format!("UPDATE refused_inputs SET closed_by = ?2 WHERE result_id = ?1 AND {OPEN}"))?
        .execute(params![result_id, input_id])?;
    Ok(())
}

impl Journal {
    /// Refused input `id` (the number in `R<id>`).
    pub fn refused_input(&self, id: i64) -> Result<Option<RefusedRow>> {
        Ok(self
            .conn
            .query_row(&format!("SELECT {REFUSED_COLUMNS} FROM refused_inputs WHERE id = ?1"), [id], refused_row)
            .optional()?)
    }

    /// Refused inputs under a work-queue filter, newest first (none when the filter asks for
    /// message statuses, a kind or a transport: an input has none of them). A CPR or GP filter
    /// reads the stored bytes as JSON where they are.
    pub(crate) fn refused_where(&self, filter: &super::queue::Filter) -> Result<Vec<RefusedRow>> {
        if !filter.statuses.is_empty() || !filter.kinds.is_empty() || filter.transport.is_some() {
            return Ok(vec![]);
        }
        let mut clauses = vec!["1 = 1".to_string()];
        let mut values: Vec<&dyn ToSql> = vec![];
        let json = |path: &str| self.conn.json_text_of_bytes("input_bytes", path);
        filter.common_sql("received_at", &json, "result_id", &mut clauses, &mut values);
        let mut st = self.conn.prepare(&format!(
            "SELECT {REFUSED_COLUMNS} FROM refused_inputs WHERE {} ORDER BY received_at DESC, id DESC",
            clauses.join(" AND ")
        ))?;
        let rows = st.query_map(values.as_slice(), refused_row)?.collect::<super::db::Result<Vec<_>>>()?;
        Ok(rows)
    }

    /// What `journal list` shows, newest first: messages (by [`Journal::matching`]) and refused
    /// inputs, merged by when each was made or received. A message status shows messages only;
    /// `refused` or `refused-closed` shows those refused inputs only.
    pub fn listing(&self, status: Option<ListStatus>, filter: &super::queue::Filter) -> Result<Vec<Listed>> {
        let messages = |statuses: Vec<Status>| -> Result<Vec<MessageRow>> {
            let mut rows = self.matching(&super::queue::Filter { statuses, ..filter.clone() })?;
            rows.reverse();
            Ok(rows)
        };
        let refused = |open: Option<bool>| -> Result<Vec<RefusedRow>> {
            let mut rows = self.refused_where(&super::queue::Filter { statuses: vec![], ..filter.clone() })?;
            rows.retain(|r| open.is_none_or(|o| r.is_open() == o));
            rows.sort_by(|a, b| b.id.cmp(&a.id));
            Ok(rows)
        };
        let (messages, refused) = match status {
            None => (messages(vec![])?, refused(None)?),
            Some(ListStatus::Message(st)) => (messages(vec![st])?, vec![]),
            Some(ListStatus::Refused) => (vec![], refused(Some(true))?),
            Some(ListStatus::RefusedClosed) => (vec![], refused(Some(false))?),
        };
        let mut out = Vec::with_capacity(messages.len() + refused.len());
        let (mut messages, mut refused) = (messages.into_iter().peekable(), refused.into_iter().peekable());
        loop {
            let message_first = match (messages.peek(), refused.peek()) {
                (Some(m), Some(r)) => m.created_at >= r.received_at,
                (Some(_), None) => true,
                (None, Some(_)) => false,
                (None, None) => break,
            };
            out.push(if message_first {
                Listed::Message(messages.next().expect("peeked"))
            } else {
                Listed::Refused(refused.next().expect("peeked"))
            });
        }
        Ok(out)
    }
}
