//! The audit log as the console and `journal audit` read it, and the console's acts recorded
//! in it (a resend, a correction, an upload, a sign-in), who and from where.

use crate::error::Result;
use crate::journal::{AuditRow, Journal};
use crate::support::person::Actor;
use crate::support::redact::redact_cpr_like;

/// Records that `by` did `action` to `target`; the detail is masked for CPR-like numbers.
pub fn record(journal: &mut Journal, by: &Actor, action: &str, target: &str, detail: Option<&str>) -> Result<()> {
    let detail = detail.map(redact_cpr_like);
    journal.write(|w| w.audit_from(&by.name, by.origin.as_deref(), action, target, detail.as_deref()))
}

/// The newest `limit` entries, newest first.
pub fn log(journal: &Journal, limit: u32) -> Result<Vec<AuditRow>> {
    journal.audit_log(limit)
}
