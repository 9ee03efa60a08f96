//! `journal copy`: a journal moved from one store to another (an SQLite file into the
//! PostgreSQL database two hosts will share, or back), row for row with the same ids, in one
//! transaction on the target, which must be empty. The copy is then checked like any journal
//! (`journal verify`), and row counts are compared table by table.

use super::db::{Connection, Dialect, ToSql, TransactionBehavior, Value};
use super::types::Verified;
use super::Journal;
use crate::error::{Error, Result};
use serde::Serialize;

/// The tables in an order that keeps every reference to a row already copied, each with its
/// key and the columns both stores have. (`attempts` on PostgreSQL has two more, the claim's
/// holder and lease, which a copied attempt leaves empty.)
const TABLES: [(&str, &str, &str); 11] = [
    ("inputs", "id", "id, result_id, revision, input_json, input_sha256, site, grp, cpr_masked, received_at, erased_at, pruned_at"),
    (
        "messages",
        "id",
        "id, input_id, result_id, kind, content_sha256, letter_revision, letter_id, envelope_id, attempt, status_code, \
         status, reason, refuse_code, send_failures, sha256, created_at, updated_at, regenerated_from, replaces, \
         handled_at, handled_by, handled_note, erased_at, pruned_at",
    ),
    ("message_bytes", "message_id", "message_id, bytes"),
    ("parts", "id", "id, result_id, bytes"),
    ("message_parts", "message_id, part_id", "message_id, part_id"),
    ("attempts", "id", "id, message_id, envelope_id, transport, started_at, finished_at, outcome, reason"),
    (
        "receipts",
        "id",
        "id, receipt_type, envelope_id, letter_id, original_envelope_id, original_letter_id, message_id, refuse_code, \
         refuse_text, outcome, bytes, received_at",
    ),
    (
        "refused_inputs",
        "id",
        "id, source, result_id, field, reason, input_bytes, input_sha256, received_at, closed_by, handled_at, \
         handled_by, handled_note",
    ),
    ("audit", "id", "id, at, who, action, target, detail, origin"),
    ("users", "name", "name, role, password_hash, created_at, changed_at"),
    ("journal_meta", "key", "key, value"),
];

/// What a copy moved, and what the target's check found.
#[derive(Clone, Debug, Default, Serialize)]
pub struct Copied {
    pub from: String,
    pub to: String,
    /// Rows per table, in the order copied.
    pub rows: Vec<(String, u64)>,
    /// `journal verify` on the target.
    pub verified: Verified,
}

impl Journal {
    /// Copies this journal into `target`, an empty journal of this release's schema. Nothing
    /// is written to `target` unless all of it is: one transaction, committed after every row.
    pub fn copy_to(&self, target: &mut Journal) -> Result<Copied> {
        if self.schema_version()? != Journal::SCHEMA_VERSION {
            return Err(Error::Usage(format!(
                "journal {}: schema {}, not this release's {}: run `flspost journal migrate` on it first",
                self.location(),
                self.schema_version()?,
                Journal::SCHEMA_VERSION
            )));
        }
        let mut copied =
            Copied { from: self.location().to_string(), to: target.location().to_string(), ..Copied::default() };
        {
            // One state of the source for every table (a receipt applied between two tables'
            // reads would otherwise be copied without its letter's new status).
            let _snapshot = super::db::Transaction::new_unchecked(&self.conn, TransactionBehavior::Snapshot)?;
            let tx = super::db::Transaction::new_unchecked(&target.conn, TransactionBehavior::Immediate)?;
            for (table, _, _) in TABLES {
                let n: i64 = tx.query_row(&format!("SELECT COUNT(*) FROM {table}"), [], |r| r.get(0))?;
                if n != 0 {
                    return Err(Error::Usage(format!(
                        "journal {}: not empty ({n} rows in {table}); a copy goes into a new, empty journal only",
                        target.location()
                    )));
                }
            }
            for (table, key, columns) in TABLES {
                let n = copy_table(&self.conn, &tx, table, key, columns)?;
                copied.rows.push((table.to_string(), n));
            }
            // A copy of a backup copy is one too: its first write then picks a new range of
            // letter revisions (`restore.rs`).
            if super::restore::is_backup_copy(&self.conn)? {
                super::restore::mark_copy(&tx)?;
            }
            if tx.dialect() == Dialect::Postgres {
                // The next row of each table gets the id after the largest copied.
                for (table, key, _) in TABLES.iter().filter(|(_, key, _)| *key == "id") {
                    tx.query_row(
                        &format!(
                            "SELECT setval(pg_get_serial_sequence('{table}', '{key}'), \
                             GREATEST((SELECT MAX({key}) FROM {table}), 1), (SELECT MAX({key}) FROM {table}) IS NOT NULL)"
                        ),
                        [],
                        |r| r.get::<_, i64>(0),
                    )?;
                }
            }
            tx.commit()?;
        }
        let mut damaged = Vec::new();
        copied.verified = target.verify(|d| damaged.push(d))?;
        if let Some(d) = damaged.first() {
            return Err(Error::Damaged(format!(
                "the copy in {} has {} stored messages and inputs that do not match their SHA-256 (first: {} {}): \
                 the source is damaged too; run `flspost journal verify` on it",
                target.location(),
                damaged.len(),
                d.what,
                d.id
            )));
        }
        for (table, n) in &copied.rows {
            let there: i64 = target.conn.query_row(&format!("SELECT COUNT(*) FROM {table}"), [], |r| r.get(0))?;
            if there as u64 != *n {
                return Err(Error::Damaged(format!("the copy's {table} holds {there} rows, not the {n} copied")));
            }
        }
        Ok(copied)
    }
}

/// Copies `table`'s rows in key order, a page at a time (PostgreSQL's client holds a query's
/// rows whole, and a journal's bytes are gigabytes); returns how many.
fn copy_table(from: &Connection, to: &Connection, table: &str, key: &str, columns: &str) -> Result<u64> {
    const PAGE: usize = 256;
    let names: Vec<&str> = columns.split(',').map(str::trim).collect();
    let keys: Vec<usize> = key
        .split(',')
        .map(|k| names.iter().position(|n| *n == k.trim()).expect("a key is among the columns"))
        .collect();
    let marks: Vec<String> = (1..=names.len()).map(|i| format!("?{i}")).collect();
    let mut insert = to.prepare(&format!("INSERT INTO {table} ({columns}) VALUES ({})", marks.join(", ")))?;
    let first = format!("SELECT {columns} FROM {table} ORDER BY {key} LIMIT {PAGE}");
    let key_marks: Vec<String> = (1..=keys.len()).map(|i| format!("?{i}")).collect();
    let next =
        format!("SELECT {columns} FROM {table} WHERE ({key}) > ({}) ORDER BY {key} LIMIT {PAGE}", key_marks.join(", "));
    let (mut n, mut last): (u64, Option<Vec<Value>>) = (0, None);
    loop {
        let mut select = from.prepare(if last.is_some() { &next } else { &first })?;
        let bound: Vec<&dyn ToSql> = last.iter().flatten().map(|v| v as &dyn ToSql).collect();
        let mut rows = select.query(bound)?;
        let mut page = 0;
        let mut row_values = None;
        while let Some(row) = rows.next()? {
            let values: Vec<Value> =
                (0..names.len()).map(|i| row.get::<_, Value>(i)).collect::<super::db::Result<_>>()?;
            let params: Vec<&dyn ToSql> = values.iter().map(|v| v as &dyn ToSql).collect();
            insert.execute(params)?;
            (n, page) = (n + 1, page + 1);
            row_values = Some(values);
        }
        match row_values {
            Some(values) if page == PAGE => last = Some(keys.iter().map(|&k| values[k].clone()).collect()),
            _ => return Ok(n),
        }
    }
}
