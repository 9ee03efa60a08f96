//! The audit log: what a person asked flspost to do or show (a problem closed by hand, a CPR
//! number shown, stored data written out), who and when. It names what was acted on (`message
//! 17`, `refused 3`), never a CPR number, and where from (a console client's address).

use super::types::AuditRow;
use super::{now_text, Journal, Writer};
use crate::error::Result;
use super::db::params;

impl Writer<'_> {
    /// Records that `who` did `action` to `target` (with an optional `detail`: a note, a
    /// file name), in the caller's transaction, so that the act and its record commit together.
    pub fn audit(&self, who: &str, action: &str, target: &str, detail: Option<&str>) -> Result<()> {
        self.audit_from(who, None, action, target, detail)
    }

    /// [`Writer::audit`] for an act done from `origin` (a console client's address); `None`
    /// is the command line.
    pub fn audit_from(
        &self,
        who: &str,
        origin: Option<&str>,
        action: &str,
        target: &str,
        detail: Option<&str>,
    ) -> Result<()> {
        self.conn.execute(
            "INSERT INTO audit (at, who, action, target, detail, origin) VALUES (?1, ?2, ?3, ?4, ?5, ?6)",
            params![now_text(), who, action, target, detail, origin],
        )?;
        Ok(())
    }
}

impl Journal {
    /// The audit log, newest first (at most `limit` rows).
    pub fn audit_log(&self, limit: u32) -> Result<Vec<AuditRow>> {
        // A schema-5 journal read as it is has no `origin`: everything in it was done on the
        // command line.
        let origin = if self.schema_version()? >= 6 { "origin" } else { "NULL AS origin" };
        let mut st = self.conn.prepare_cached(&format!(
            "SELECT id, at, who, action, target, detail, {origin} FROM audit ORDER BY id DESC LIMIT ?1"
        ))?;
        let rows = st.query_map([limit], |r| {
            Ok(AuditRow {
                id: r.get("id")?,
                at: r.get("at")?,
                who: r.get("who")?,
                action: r.get("action")?,
                target: r.get("target")?,
                detail: r.get("detail")?,
                origin: r.get("origin")?,
            })
        })?;
        Ok(rows.collect::<super::db::Result<_>>()?)
    }
}
