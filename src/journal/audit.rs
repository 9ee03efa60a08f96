//! The audit log: what a person asked flspost to do or show (a problem closed by hand, a CPR
//! number shown, stored data written out), who and when. It names what was acted on (`message
//! 17`, `refused 3`), never a CPR number.

use super::types::AuditRow;
use super::{now_text, Journal, Writer};
use crate::error::Result;
use rusqlite::params;

impl Writer<'_> {
    /// Records that `who` did `action` to `target` (with an optional `detail`: a note, a
    /// file name), in the caller's transaction, so that the act and its record commit together.
    pub fn audit(&self, who: &str, action: &str, target: &str, detail: Option<&str>) -> Result<()> {
        self.conn.execute(
            "INSERT INTO audit (at, who, action, target, detail) VALUES (?1, ?2, ?3, ?4, ?5)",
            params![now_text(), who, action, target, detail],
        )?;
        Ok(())
    }
}

impl Journal {
    /// The audit log, newest first (at most `limit` rows).
    pub fn audit_log(&self, limit: u32) -> Result<Vec<AuditRow>> {
        let mut st = self
            .conn
            .prepare_cached("SELECT id, at, who, action, target, detail FROM audit ORDER BY id DESC LIMIT ?1")?;
        let rows = st.query_map([limit], |r| {
            Ok(AuditRow {
                id: r.get("id")?,
                at: r.get("at")?,
                who: r.get("who")?,
                action: r.get("action")?,
                target: r.get("target")?,
                detail: r.get("detail")?,
            })
        })?;
        Ok(rows.collect::<rusqlite::Result<_>>()?)
    }
}
