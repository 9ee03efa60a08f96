//! Between Rust and SQL: the conversions of the journal's words to and from SQLite values,
//! the column lists and the row mappers, the SQL every part shares, and SQLite's errors in
//! the crate's words.

use super::error::StoreError;
use super::types::*;
use crate::error::Error;
use crate::model::Kind;
use super::db::{DbError, FromSql, FromSqlError, FromSqlResult, ToSql, ToSqlOutput, ValueRef};
use super::db::Row;

pub(super) const MESSAGE_COLUMNS: &str = "m.id, m.input_id, m.result_id, m.kind, m.content_sha256, m.letter_revision, \
    m.letter_id, m.envelope_id, m.attempt, m.status_code, m.status, m.reason, m.refuse_code, m.send_failures, \
    m.sha256, m.created_at, m.updated_at, m.regenerated_from, m.replaces, i.cpr_masked, m.pruned_at, \
    (SELECT MIN(n.id) FROM messages n WHERE n.regenerated_from = m.id) AS regenerated_as";

pub(super) const INPUT_COLUMNS: &str =
    "id, result_id, revision, input_json, input_sha256, site, grp, cpr_masked, received_at, pruned_at";

/// SQL over `attempts a` for message `m`: some hand-over of it may have delivered it, as far
/// as flspost knows: accepted (`sent`), or cut short with its outcome unknown (`interrupted`
/// by a killed process, `unknown` after a timeout awaiting the reply, or still open). A
/// transmission the transport refused (`transient`, `permanent`) never left. The one rule
/// receipts, Acknowledgements and MedCom's resend limit count by.
pub(super) const HANDED_OVER: &str = "EXISTS (SELECT 1 FROM attempts a WHERE a.message_id = m.id \
     AND (a.outcome IS NULL OR a.outcome IN ('sent', 'interrupted', 'unknown')))";

/// SQL over `receipts r` for message `m`: a `transient-error` Acknowledgement was applied to
/// it (so its `failed` is that answer, and it waits for its resend).
pub(super) const TRANSIENT_ANSWERED: &str = "EXISTS (SELECT 1 FROM receipts r WHERE r.message_id = m.id \
     AND r.receipt_type = 'FHIR transient-error' AND r.outcome IN ('resend-queued', 'resend-held', 'resend-not-needed'))";

impl ToSql for Status {
    fn to_sql(&self) -> FromSqlResult<ToSqlOutput<'_>> {
        Ok(self.code().into())
    }
}

impl FromSql for Status {
    fn column_result(v: ValueRef<'_>) -> FromSqlResult<Self> {
        let s = v.as_str()?;
        Status::from_code(s).ok_or_else(|| unknown_value(s))
    }
}

impl ToSql for Kind {
    fn to_sql(&self) -> FromSqlResult<ToSqlOutput<'_>> {
        Ok(self.code().into())
    }
}

impl FromSql for Kind {
    fn column_result(v: ValueRef<'_>) -> FromSqlResult<Self> {
        let s = v.as_str()?;
        Kind::from_code(s).ok_or_else(|| unknown_value(s))
    }
}

fn unknown_value(v: &str) -> FromSqlError {
    FromSqlError::Other(format!("unknown value `{v}`"))
}

impl From<DbError> for Error {
    fn from(e: DbError) -> Error {
        // Another process held the journal past the wait the config allows (or, for
        // SQLite's locking protocol, kept changing it while this one looked): run again.
        if e.is_busy() {
            Error::Busy(e.to_string())
        } else {
            Error::Journal(StoreError(e))
        }
    }
}

impl From<rusqlite::Error> for Error {
    fn from(e: rusqlite::Error) -> Error {
        Error::from(DbError::from(e))
    }
}

/// A message row from a query that selects [`MESSAGE_COLUMNS`] (by their names).
pub(super) fn message_row(r: &Row<'_>) -> super::db::Result<MessageRow> {
    Ok(MessageRow {
        id: r.get("id")?,
        input_id: r.get("input_id")?,
        result_id: r.get("result_id")?,
        kind: r.get("kind")?,
        content_sha256: r.get("content_sha256")?,
        letter_revision: r.get("letter_revision")?,
        letter_id: r.get("letter_id")?,
        envelope_id: r.get("envelope_id")?,
        transmission: r.get("attempt")?,
        status_code: r.get("status_code")?,
        status: r.get("status")?,
        reason: r.get("reason")?,
        refuse_code: r.get("refuse_code")?,
        send_failures: r.get("send_failures")?,
        sha256: r.get("sha256")?,
        created_at: r.get("created_at")?,
        updated_at: r.get("updated_at")?,
        regenerated_from: r.get("regenerated_from")?,
        replaces: r.get("replaces")?,
        regenerated_as: r.get("regenerated_as")?,
        cpr_masked: r.get("cpr_masked")?,
        pruned_at: r.get("pruned_at")?,
    })
}

/// An input row from a query that selects [`INPUT_COLUMNS`] (by their names).
pub(super) fn input_row(r: &Row<'_>) -> super::db::Result<InputRow> {
    Ok(InputRow {
        id: r.get("id")?,
        result_id: r.get("result_id")?,
        revision: r.get("revision")?,
        input_json: r.get("input_json")?,
        input_sha256: r.get("input_sha256")?,
        site: r.get("site")?,
        group: r.get("grp")?,
        cpr_masked: r.get("cpr_masked")?,
        received_at: r.get("received_at")?,
        pruned_at: r.get("pruned_at")?,
    })
}

pub fn now_text() -> String {
    crate::support::clock::now().to_rfc3339_opts(chrono::SecondsFormat::Millis, true)
}
