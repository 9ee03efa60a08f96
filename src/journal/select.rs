//! The messages a filter names, for work over many at once (`regenerate` over a filter).

use super::sql::{message_row, MESSAGE_COLUMNS};
use super::types::*;
use super::Journal;
use crate::error::Result;
use crate::model::Kind;
use rusqlite::types::ToSql;

/// Which messages: each part given narrows the set (all of them hold); an empty part
/// (no statuses, no kinds) does not narrow it.
#[derive(Clone, Debug, Default)]
pub struct MessageFilter {
    /// In one of these statuses.
    pub statuses: Vec<Status>,
    /// Of one of these kinds.
    pub kinds: Vec<Kind>,
    /// Last handed to this transport: its description as `journal show` prints it (`smtp
    /// smtp://host:25`, `outbox /var/spool/vans`), or its type alone (`smtp`, `outbox`).
    pub transport: Option<String>,
    /// Changed (`updated_at`) at or after this instant (RFC 3339, UTC, as the journal writes it).
    pub since: Option<String>,
    /// Changed before this instant.
    pub until: Option<String>,
}

impl MessageFilter {
    /// Whether the filter names no condition at all (every message).
    pub fn is_empty(&self) -> bool {
        self.statuses.is_empty()
            && self.kinds.is_empty()
            && self.transport.is_none()
            && self.since.is_none()
            && self.until.is_none()
    }
}

impl Journal {
    /// The messages `filter` names, oldest first (by journal id).
    pub fn matching(&self, filter: &MessageFilter) -> Result<Vec<MessageRow>> {
        let mut clauses: Vec<String> = vec![];
        let mut values: Vec<&dyn ToSql> = vec![];
        if !filter.statuses.is_empty() {
            clauses.push(format!("m.status IN ({})", vec!["?"; filter.statuses.len()].join(", ")));
            values.extend(filter.statuses.iter().map(|s| s as &dyn ToSql));
        }
        if !filter.kinds.is_empty() {
            clauses.push(format!("m.kind IN ({})", vec!["?"; filter.kinds.len()].join(", ")));
            values.extend(filter.kinds.iter().map(|k| k as &dyn ToSql));
        }
        if let Some(t) = &filter.transport {
            // The latest hand-over's transport, whole or by its type (the word before the space).
            clauses.push(
                "EXISTS (SELECT 1 FROM attempts a WHERE a.id = (SELECT MAX(b.id) FROM attempts b \
                 WHERE b.message_id = m.id) AND (a.transport = ? OR substr(a.transport, 1, length(?) + 1) = ? || ' '))"
                    .into(),
            );
            values.extend([t as &dyn ToSql, t, t]);
        }
        if let Some(since) = &filter.since {
            clauses.push("m.updated_at >= ?".into());
            values.push(since);
        }
        if let Some(until) = &filter.until {
            clauses.push("m.updated_at < ?".into());
            values.push(until);
        }
        let filter = if clauses.is_empty() {
            String::new()
        } else {
            format!("WHERE {}", clauses.iter().map(|c| format!("({c})")).collect::<Vec<_>>().join(" AND "))
        };
        let mut st = self.conn.prepare(&format!(
            "SELECT {MESSAGE_COLUMNS} FROM messages m JOIN inputs i ON i.id = m.input_id {filter} ORDER BY m.id"
        ))?;
        let rows = st.query_map(values.as_slice(), message_row)?.collect::<rusqlite::Result<Vec<_>>>()?;
        Ok(rows)
    }
}
