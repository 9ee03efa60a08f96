//! The work queue: everything that needs a person, in one place. A message that failed, was
//! rejected, waits for a retry, or was sent and not answered in time; an input `generate`
//! refused. Each is read with what decides its cause ([`crate::reliable::cause`]) and whether
//! it is still open: a problem closes when a person handles it (`handled_*`), when a resend or
//! correction of it was sent or answered, or when that resend or correction has a problem of
//! its own (which the queue then lists instead); a refused input closes when a later input
//! for its result is recorded.

use super::sql::{message_row, MESSAGE_COLUMNS};
use super::types::*;
use super::{now_text, Journal, Writer};
use crate::error::{Error, Result};
use crate::model::{Kind, Status};
use super::db::ToSql;
use super::db::{params, OptionalExtension};

/// Which rows a listing or summary reads. Every filter given narrows it; none given reads all.
#[derive(Clone, Debug, Default)]
pub struct Filter {
    /// Any of these statuses (refused inputs have none: a status filter leaves them out).
    pub statuses: Vec<Status>,
    /// Changed (a message) or received (an input) at or after / before this instant
    /// (RFC 3339 in UTC, as the journal writes its times).
    pub since: Option<String>,
    pub until: Option<String>,
    /// Result ids that start with this.
    pub result_prefix: Option<String>,
    /// This result only.
    pub result_id: Option<String>,
    /// The patient's CPR number, matched exactly against the stored input.
    pub cpr: Option<String>,
    /// The GP's EAN, as in the stored input.
    pub gp: Option<String>,
    /// Of one of these kinds.
    pub kinds: Vec<Kind>,
    /// Last handed to this transport: its description as `journal show` prints it (`smtp
    /// smtp://host:25`, `outbox /var/spool/vans`), or its type alone (`smtp`, `outbox`).
    pub transport: Option<String>,
}

impl Filter {
    /// Whether the filter names no condition at all (every message).
    pub fn is_empty(&self) -> bool {
        self.statuses.is_empty()
            && self.since.is_none()
            && self.until.is_none()
            && self.result_prefix.is_none()
            && self.result_id.is_none()
            && self.cpr.is_none()
            && self.gp.is_none()
            && self.kinds.is_empty()
            && self.transport.is_none()
    }

    /// Whether the filter's SQL looks into the stored input (`i`): a patient or a GP.
    pub(super) fn reads_inputs(&self) -> bool {
        self.cpr.is_some() || self.gp.is_some()
    }

    /// The filter as SQL over `messages m JOIN inputs i`, with its values.
    pub(super) fn messages_sql(&self, conn: &super::db::Connection) -> (Vec<String>, Vec<&dyn ToSql>) {
        let mut clauses = vec![];
        let mut values: Vec<&dyn ToSql> = vec![];
        if !self.statuses.is_empty() {
            clauses.push(format!("m.status IN ({})", vec!["?"; self.statuses.len()].join(", ")));
            values.extend(self.statuses.iter().map(|s| s as &dyn ToSql));
        }
        let json = |path: &str| conn.json_text("i.input_json", path);
        self.common_sql("m.updated_at", &json, "m.result_id", &mut clauses, &mut values);
        if !self.kinds.is_empty() {
            clauses.push(format!("m.kind IN ({})", vec!["?"; self.kinds.len()].join(", ")));
            values.extend(self.kinds.iter().map(|k| k as &dyn ToSql));
        }
        if let Some(t) = &self.transport {
            // The latest hand-over's transport, whole or by its type (the word before the space).
            clauses.push(
                "EXISTS (SELECT 1 FROM attempts a WHERE a.id = (SELECT MAX(b.id) FROM attempts b \
                 WHERE b.message_id = m.id) AND (a.transport = ? OR substr(a.transport, 1, length(CAST(? AS TEXT)) + 1) \
                 = CAST(? AS TEXT) || ' '))"
                    .into(),
            );
            values.extend([t as &dyn ToSql, t, t]);
        }
        (clauses, values)
    }

    pub(super) fn common_sql<'a>(
        &'a self,
        time: &str,
        json: &dyn Fn(&str) -> String,
        result: &str,
        clauses: &mut Vec<String>,
        values: &mut Vec<&'a dyn ToSql>,
    ) {
        if let Some(since) = &self.since {
            clauses.push(format!("{time} >= ?"));
            values.push(since);
        }
        if let Some(until) = &self.until {
            clauses.push(format!("{time} < ?"));
            values.push(until);
        }
        if let Some(p) = &self.result_prefix {
            clauses.push(format!("substr({result}, 1, length(CAST(? AS TEXT))) = ?"));
            values.push(p);
            values.push(p);
        }
        if let Some(r) = &self.result_id {
            clauses.push(format!("{result} = ?"));
            values.push(r);
        }
        if let Some(cpr) = &self.cpr {
            // As the index has it: a damaged input (not JSON) is no match, never an error.
            clauses.push(format!("{} = ?", json("'$.patient.cpr'")));
            values.push(cpr);
        }
        if let Some(gp) = &self.gp {
            clauses.push(format!("{} = ?", json("'$.gp.ean'")));
            values.push(gp);
        }
    }
}

/// One message with what its place in the queue depends on.
#[derive(Clone, Debug)]
pub struct QueuedMessage {
    pub message: MessageRow,
    pub handled: Option<Handled>,
    /// Outcome and transport of its last hand-over attempt.
    pub last_attempt: Option<(String, String)>,
    /// Its first resend or correction, and that one's status.
    pub next: Option<(i64, Status)>,
}

/// A person closed a problem: when, who, and their note.
#[derive(Clone, Debug, serde::Serialize)]
pub struct Handled {
    pub at: String,
    pub by: String,
    #[serde(serialize_with = "crate::support::redact::serialize_redacted")]
    pub note: String,
}

pub(super) fn handled(at: Option<String>, by: Option<String>, note: Option<String>) -> Option<Handled> {
    at.map(|at| Handled { at, by: by.unwrap_or_default(), note: note.unwrap_or_default() })
}

impl Journal {
    /// Who closed message `id`'s problem, when and why (`None`: nobody has).
    pub(crate) fn handled_of(&self, id: i64) -> Result<Option<Handled>> {
        let row = self
            .conn
            .prepare_cached("SELECT handled_at, handled_by, handled_note FROM messages WHERE id = ?1")?
            .query_row([id], |r| Ok(handled(r.get(0)?, r.get(1)?, r.get(2)?)))
            .optional()?;
        Ok(row.flatten())
    }

    /// Messages in a problem status (failed, rejected, retry), or of `filter.statuses` when
    /// given, newest change first.
    pub(crate) fn problem_messages(&self, filter: &Filter) -> Result<Vec<QueuedMessage>> {
        let (mut clauses, values) = filter.messages_sql(&self.conn);
        if filter.statuses.is_empty() {
            clauses.push("m.status IN ('failed', 'rejected', 'retry')".into());
        }
        let sql = format!(
            "SELECT {MESSAGE_COLUMNS}, m.handled_at, m.handled_by, m.handled_note, \
               la.outcome AS last_outcome, la.transport AS last_transport, \
               nx.id AS next_id, nx.status AS next_status \
             FROM messages m JOIN inputs i ON i.id = m.input_id \
             LEFT JOIN attempts la ON la.id = (SELECT MAX(a.id) FROM attempts a WHERE a.message_id = m.id) \
             LEFT JOIN messages nx ON nx.id = (SELECT MIN(n.id) FROM messages n \
                                               WHERE n.regenerated_from = m.id OR n.replaces = m.id) \
             WHERE {} ORDER BY m.updated_at DESC, m.id DESC",
            clauses.join(" AND ")
        );
        let mut st = self.conn.prepare(&sql)?;
        let rows = st
            .query_map(values.as_slice(), |r| {
                let outcome: Option<String> = r.get("last_outcome")?;
                let transport: Option<String> = r.get("last_transport")?;
                let next_id: Option<i64> = r.get("next_id")?;
                let next_status: Option<Status> = r.get("next_status")?;
                Ok(QueuedMessage {
                    message: message_row(r)?,
                    handled: handled(r.get("handled_at")?, r.get("handled_by")?, r.get("handled_note")?),
                    last_attempt: transport.map(|t| (outcome.unwrap_or_default(), t)),
                    next: next_id.zip(next_status),
                })
            })?
            .collect::<super::db::Result<Vec<_>>>()?;
        Ok(rows)
    }

    /// Who closed message `id`'s problem by hand, if anyone.
    pub fn handled(&self, id: i64) -> Result<Option<Handled>> {
        handled_of_message(&self.conn, id)
    }
}

impl Writer<'_> {
    /// [`Journal::handled`] as it stands under the write lock: a resend decided on an earlier
    /// reading asks again before it is recorded.
    pub(crate) fn handled(&self, id: i64) -> Result<Option<Handled>> {
        handled_of_message(self.conn, id)
    }
}

fn handled_of_message(conn: &super::db::Connection, id: i64) -> Result<Option<Handled>> {
    Ok(conn
        .query_row("SELECT handled_at, handled_by, handled_note FROM messages WHERE id = ?1", [id], |r| {
            Ok(handled(r.get(0)?, r.get(1)?, r.get(2)?))
        })
        .optional()?
        .flatten())
}

impl Journal {
    /// The messages `filter` names, oldest first (by journal id).
    pub(crate) fn matching(&self, filter: &Filter) -> Result<Vec<MessageRow>> {
        let (clauses, values) = filter.messages_sql(&self.conn);
        let filter = if clauses.is_empty() { String::new() } else { format!("WHERE {}", clauses.join(" AND ")) };
        let mut st = self.conn.prepare(&format!(
            "SELECT {MESSAGE_COLUMNS} FROM messages m JOIN inputs i ON i.id = m.input_id {filter} ORDER BY m.id"
        ))?;
        let rows = st.query_map(values.as_slice(), message_row)?.collect::<super::db::Result<Vec<_>>>()?;
        Ok(rows)
    }
}

impl Writer<'_> {
    /// A person closes message `id`'s problem with `note`; `false` when it was closed already.
    pub(crate) fn handle_message(&self, id: i64, who: &str, note: &str) -> Result<bool> {
        let n = self.conn.execute(
            "UPDATE messages SET handled_at = ?2, handled_by = ?3, handled_note = ?4 WHERE id = ?1 AND handled_at IS NULL",
            params![id, now_text(), who, note],
        )?;
        Ok(n == 1)
    }

    /// A person closes refused input `id` with `note`; `false` when it was closed already.
    pub(crate) fn handle_refused(&self, id: i64, who: &str, note: &str) -> Result<bool> {
        let exists: bool =
            self.conn.query_row("SELECT EXISTS (SELECT 1 FROM refused_inputs WHERE id = ?1)", [id], |r| r.get(0))?;
        if !exists {
            return Err(Error::Usage(format!("no refused input R{id} in the journal")));
        }
        let n = self.conn.execute(
            "UPDATE refused_inputs SET handled_at = ?2, handled_by = ?3, handled_note = ?4 \
             WHERE id = ?1 AND handled_at IS NULL AND closed_by IS NULL",
            params![id, now_text(), who, note],
        )?;
        Ok(n == 1)
    }
}
