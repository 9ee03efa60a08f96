//! Reading the journal: inputs, messages, attempts, listings.

use super::sql::{input_row, message_row, INPUT_COLUMNS, MESSAGE_COLUMNS};
use super::types::*;
use super::Journal;
use crate::error::Result;
use crate::model::Kind;
use super::db::{params, Connection, OptionalExtension};

impl Journal {
    pub(crate) fn latest_input(&self, result_id: &str) -> Result<Option<InputRow>> {
        // Cached: a batch asks once per result.
        Ok(self
            .conn
            .prepare_cached(&format!(
                "SELECT {INPUT_COLUMNS} FROM inputs WHERE result_id = ?1 ORDER BY revision DESC LIMIT 1"
            ))?
            .query_row([result_id], input_row)
            .optional()?)
    }

    pub fn input(&self, id: i64) -> Result<InputRow> {
        Ok(self.conn.query_row(&format!("SELECT {INPUT_COLUMNS} FROM inputs WHERE id = ?1"), [id], input_row)?)
    }

    /// Messages of a result, oldest first.
    pub(crate) fn messages_of(&self, result_id: &str) -> Result<Vec<MessageRow>> {
        let mut st = self.conn.prepare_cached(&format!(
            "SELECT {MESSAGE_COLUMNS} FROM messages m JOIN inputs i ON i.id = m.input_id WHERE m.result_id = ?1 ORDER BY m.id"
        ))?;
        let rows = st.query_map([result_id], message_row)?.collect::<super::db::Result<Vec<_>>>()?;
        Ok(rows)
    }

    pub fn message(&self, id: i64) -> Result<Option<MessageRow>> {
        Ok(self
            .conn
            .query_row(
                &format!("SELECT {MESSAGE_COLUMNS} FROM messages m JOIN inputs i ON i.id = m.input_id WHERE m.id = ?1"),
                [id],
                message_row,
            )
            .optional()?)
    }

    /// Finds a message by journal id, letter identifier or MeMo UUID (latest attempt).
    pub(crate) fn find_message(&self, key: &str) -> Result<Option<MessageRow>> {
        if let Ok(id) = key.parse::<i64>() {
            return self.message(id);
        }
        Ok(self
            .conn
            .query_row(
                &format!(
                    "SELECT {MESSAGE_COLUMNS} FROM messages m JOIN inputs i ON i.id = m.input_id \
                     WHERE m.letter_id = ?1 OR m.envelope_id = ?1 ORDER BY m.id DESC LIMIT 1"
                ),
                [key],
                message_row,
            )
            .optional()?)
    }

    /// Whether `id` is the letter or envelope identifier of a message of this journal (one
    /// flspost made: derived from digests, never from a CPR number).
    pub fn is_own_identifier(&self, id: &str) -> Result<bool> {
        // `kind IN (...)` lets SQLite use the (kind, letter_id, attempt) index.
        let kinds = Kind::ALL.iter().map(|k| format!("'{}'", k.code())).collect::<Vec<_>>().join(", ");
        Ok(self.conn.query_row(
            &format!(
                "SELECT EXISTS (SELECT 1 FROM messages WHERE kind IN ({kinds}) AND letter_id = ?1) \
                 OR EXISTS (SELECT 1 FROM messages WHERE envelope_id = ?1)"
            ),
            [id],
            |r| r.get(0),
        )?)
    }

    /// The message that regenerated `id`, if any.
    pub fn regenerated_as(&self, id: i64) -> Result<Option<i64>> {
        regenerated_as(&self.conn, id)
    }

    /// Links a message built by a correction to the failed message it answers.
    pub(crate) fn set_regenerated_from(&mut self, id: i64, from: i64) -> Result<()> {
        // Under the write lock, as every change: on a shared journal a bare statement would
        // land between another host's check and its commit.
        self.transaction(|tx| {
            tx.execute("UPDATE messages SET regenerated_from = ?2 WHERE id = ?1", params![id, from])?;
            Ok(())
        })
    }

    /// Messages waiting for `send`, oldest first; those an earlier `send` held because their
    /// transport was failing (`transport held: ...`) after the rest.
    pub fn pending(&self) -> Result<Vec<MessageRow>> {
        let mut st = self.conn.prepare_cached(&format!(
            "SELECT {MESSAGE_COLUMNS} FROM messages m JOIN inputs i ON i.id = m.input_id \
             WHERE m.status IN ('generated', 'retry') \
             ORDER BY (m.status = 'retry' AND m.reason LIKE 'transport held:%'), m.id"
        ))?;
        let rows = st.query_map([], message_row)?.collect::<super::db::Result<Vec<_>>>()?;
        Ok(rows)
    }

    pub fn attempts(&self, message_id: i64) -> Result<Vec<AttemptRow>> {
        let mut st = self.conn.prepare_cached(
            "SELECT id, envelope_id, transport, started_at, finished_at, outcome, reason FROM attempts \
             WHERE message_id = ?1 ORDER BY id",
        )?;
        let rows = st
            .query_map([message_id], |r| {
                Ok(AttemptRow {
                    id: r.get("id")?,
                    envelope_id: r.get("envelope_id")?,
                    transport: r.get("transport")?,
                    started_at: r.get("started_at")?,
                    finished_at: r.get("finished_at")?,
                    outcome: r.get("outcome")?,
                    reason: r.get("reason")?,
                })
            })?
            .collect::<super::db::Result<Vec<_>>>()?;
        Ok(rows)
    }
}

/// The message that regenerated `id`, if any.
fn regenerated_as(conn: &Connection, id: i64) -> Result<Option<i64>> {
    Ok(conn
        .query_row("SELECT id FROM messages WHERE regenerated_from = ?1 ORDER BY id LIMIT 1", [id], |r| r.get(0))
        .optional()?)
}
