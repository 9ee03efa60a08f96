//! Schema setup and migrations, keyed by SQLite's `user_version`.

use crate::error::{Error, Result};
use rusqlite::{Connection, Transaction, TransactionBehavior};

pub(super) const SCHEMA: &str = include_str!("schema.sql");
/// 1: the first; 2: message kind `patient-kombi`; 3: message kind `gp-carecommunication`;
/// 4: attempt outcome `unknown`; 5: refused inputs, problems handled by a person, the audit
/// log, search indexes, erasure and retention marks; 6: parts several messages carry (the
/// patient's PDF) stored once, the console's people and where an audited act came from (see
/// [`STEPS`]).
pub(super) const SCHEMA_VERSION: i64 = 6;

/// The CHECK on `messages.kind` as each schema has it.
const KIND_CHECK_1: &str = "CHECK (kind IN ('gp-xdis91', 'patient-memo'))";
const KIND_CHECK_2: &str = "CHECK (kind IN ('gp-xdis91', 'patient-memo', 'patient-kombi'))";
const KIND_CHECK_3: &str = "CHECK (kind IN ('gp-xdis91', 'patient-memo', 'patient-kombi', 'gp-carecommunication'))";

/// The CHECK on `attempts.outcome` before and from schema 4.
const OUTCOME_CHECK_3: &str = "CHECK (outcome IN ('sent', 'transient', 'permanent', 'interrupted'))";
const OUTCOME_CHECK_4: &str = "CHECK (outcome IN ('sent', 'transient', 'permanent', 'interrupted', 'unknown'))";

/// One step from schema `from` to `from + 1`, run inside a write transaction that sets
/// `user_version` after it.
struct Step {
    from: i64,
    /// Whether a command that only reads may read a journal of `from` as it is (the next
    /// schema only allows more), so that reading never has to write.
    readable_as_is: bool,
    /// What the step changes, for `journal migrate`.
    pub(super) what: &'static str,
    apply: fn(&Transaction<'_>) -> Result<()>,
}

/// Every migration, oldest first. A new schema adds its step here and bumps
/// [`SCHEMA_VERSION`]; tests/fixtures keeps a journal of each released schema.
const STEPS: &[Step] = &[
    Step { from: 1, readable_as_is: true, what: "message kind patient-kombi", apply: allow_patient_kombi },
    Step {
        from: 2,
        readable_as_is: true,
        what: "message kind gp-carecommunication, receipts indexes",
        apply: allow_gp_carecommunication,
    },
    Step { from: 3, readable_as_is: true, what: "hand-over outcome unknown", apply: allow_unknown_outcome },
    // Read as it is through stand-ins ([`read_as_schema_5`]).
    Step {
        from: 4,
        readable_as_is: true,
        what:
            "refused inputs, problems handled by a person, the audit log, search indexes, erasure and retention marks",
        apply: add_work_queue,
    },
    // A schema-5 journal holds no recipe, so reading it never looks for a part.
    Step {
        from: 5,
        readable_as_is: true,
        what: "shared parts stored once (the patient's PDF), the journal's facts (letter revisions after a restore), \
               the console's people, where an audited act came from",
        apply: add_parts,
    },
];

/// Brings a journal of an older schema up to [`SCHEMA_VERSION`], every step in one write
/// transaction: the version is read again under the write lock, so two processes that open
/// the same old journal at once migrate it (and call `first`) once, and a migration that
/// fails leaves the journal as it was. `first` runs under that lock before any step, with the
/// version found (the backup a migration makes first). Returns that version when this call
/// migrated, `None` when another process had.
pub(super) fn migrate(conn: &Connection, first: impl FnOnce(&Connection, i64) -> Result<()>) -> Result<Option<i64>> {
    let tx = Transaction::new_unchecked(conn, TransactionBehavior::Immediate)?;
    let from = user_version(&tx)?;
    if !(1..SCHEMA_VERSION).contains(&from) {
        return Ok(None);
    }
    first(&tx, from)?;
    for step in STEPS.iter().filter(|s| s.from >= from) {
        (step.apply)(&tx)?;
        tx.pragma_update(None, "user_version", step.from + 1)?;
    }
    tx.commit()?;
    Ok(Some(from))
}

/// The steps from schema `from` to [`SCHEMA_VERSION`]: `(from, to, what it changes)`.
pub(super) fn steps_from(from: i64) -> Vec<(i64, i64, &'static str)> {
    STEPS.iter().filter(|s| s.from >= from).map(|s| (s.from, s.from + 1, s.what)).collect()
}

/// The columns schema 5 added, each of which a journal of this schema has (the first one
/// missing, as `table.column`, when not). A journal that lacks one was made while schema 5 was
/// still being built; it is named plainly instead of failing in some query later.
pub(super) fn check_columns(conn: &Connection) -> std::result::Result<(), String> {
    // Asked in one statement first (every invocation opens a journal; five were 6% of one
    // `generate`'s instructions); the columns one at a time only to name the one missing.
    let all: bool = conn
        .query_row(
            "SELECT (SELECT COUNT(*) FROM pragma_table_info('messages') \
                     WHERE name IN ('handled_at', 'erased_at', 'pruned_at')) = 3 \
                AND (SELECT COUNT(*) FROM pragma_table_info('inputs') WHERE name IN ('erased_at', 'pruned_at')) = 2",
            [],
            |r| r.get(0),
        )
        .unwrap_or(false);
    if all {
        return Ok(());
    }
    for (table, column) in [
        ("messages", "handled_at"),
        ("messages", "erased_at"),
        ("messages", "pruned_at"),
        ("inputs", "erased_at"),
        ("inputs", "pruned_at"),
    ] {
        let found: bool = conn
            .query_row(
                &format!("SELECT EXISTS (SELECT 1 FROM pragma_table_info('{table}') WHERE name = ?1)"),
                [column],
                |r| r.get(0),
            )
            .unwrap_or(false);
        if !found {
            return Err(format!("{table}.{column}"));
        }
    }
    Ok(())
}

/// Whether a journal of schema `version` can be read as it is, without migrating.
pub(super) fn readable_as_is(version: i64) -> bool {
    version == SCHEMA_VERSION
        || STEPS.iter().any(|s| s.from == version)
            && STEPS.iter().filter(|s| s.from >= version).all(|s| s.readable_as_is)
}

pub(super) fn user_version(conn: &Connection) -> rusqlite::Result<i64> {
    conn.pragma_query_value(None, "user_version", |r| r.get(0))
}

/// Schema 1 to 2: `messages.kind` may also be `patient-kombi`.
fn allow_patient_kombi(tx: &Transaction<'_>) -> Result<()> {
    widen_kind_check(tx, 1, KIND_CHECK_1, KIND_CHECK_2)
}

/// Schema 2 to 3: `messages.kind` may also be `gp-carecommunication`; the receipts indexes
/// every Acknowledgement's lookups use (as in `schema.sql`), with FHIR rows'
/// `original_letter_id` in lower case as they are stored now (a row that would then equal
/// another is left as it is; the lookups also try the identifier in capitals).
fn allow_gp_carecommunication(tx: &Transaction<'_>) -> Result<()> {
    widen_kind_check(tx, 2, KIND_CHECK_2, KIND_CHECK_3)?;
    tx.execute_batch(
        "UPDATE OR IGNORE receipts SET original_letter_id = lower(original_letter_id) \
           WHERE receipt_type LIKE 'FHIR %' AND original_letter_id <> lower(original_letter_id);
         CREATE INDEX IF NOT EXISTS receipts_original_letter ON receipts(original_letter_id);
         CREATE INDEX IF NOT EXISTS receipts_message ON receipts(message_id) WHERE message_id IS NOT NULL;",
    )?;
    Ok(())
}

/// Schema 3 to 4: an attempt's outcome may be `unknown` (a timeout awaiting the gateway's
/// reply: it may have taken the message).
fn allow_unknown_outcome(tx: &Transaction<'_>) -> Result<()> {
    widen_check(tx, 3, "attempts", OUTCOME_CHECK_3, OUTCOME_CHECK_4)
}

/// Schema 4 to 5: what the work queue needs (`schema.sql` has the same): refused inputs, a
/// person's closing of a problem, the audit log, and the indexes its searches use. Columns are
/// added, none changed, so every existing row stays as it is.
fn add_work_queue(tx: &Transaction<'_>) -> Result<()> {
    let schema = SCHEMA;
    let start = schema.find("CREATE TABLE refused_inputs").expect("schema.sql has the work queue's tables");
    let end = schema.find("-- (end of what schema 5 added)").expect("schema.sql marks where schema 5 ends");
    tx.execute_batch(&format!(
        "ALTER TABLE messages ADD COLUMN handled_at TEXT;
         ALTER TABLE messages ADD COLUMN handled_by TEXT;
         ALTER TABLE messages ADD COLUMN handled_note TEXT;
         ALTER TABLE inputs ADD COLUMN erased_at TEXT;
         ALTER TABLE messages ADD COLUMN erased_at TEXT;
         ALTER TABLE messages ADD COLUMN pruned_at TEXT;
         ALTER TABLE inputs ADD COLUMN pruned_at TEXT;
         CREATE INDEX messages_replaces ON messages(replaces) WHERE replaces IS NOT NULL;
         CREATE INDEX messages_updated ON messages(updated_at);
         CREATE INDEX attempts_transport ON attempts(transport, id);
         CREATE INDEX inputs_cpr ON inputs((CASE WHEN json_valid(input_json) THEN json_extract(input_json, '$.patient.cpr') END));
         CREATE INDEX inputs_gp ON inputs((CASE WHEN json_valid(input_json) THEN json_extract(input_json, '$.gp.ean') END));
         {}",
        &schema[start..end]
    ))?;
    Ok(())
}

/// Schema 5 to 6: the `parts` tables, the console's `users`, `audit.origin` and `journal_meta`
/// (`schema.sql` has the same). Stored messages stay as
/// they are; those recorded from now on are packed.
fn add_parts(tx: &Transaction<'_>) -> Result<()> {
    let schema = SCHEMA;
    let start = schema.find("CREATE TABLE parts").expect("schema.sql has the parts table");
    let end = schema.find("-- (end of what schema 6 added)").expect("schema.sql marks where schema 6 ends");
    tx.execute_batch(&schema[start..end])?;
    let start = schema.find("CREATE TABLE journal_meta").expect("schema.sql has the journal's facts");
    let end = schema.find("-- (end of the journal's facts)").expect("schema.sql marks where they end");
    tx.execute_batch(&schema[start..end])?;
    Ok(())
}

/// For a command that only reads a journal older than schema 6: its tables, empty, in the
/// connection's TEMP schema (nothing was stored apart, and it was never restored), so the
/// queries that count or read parts work on it unchanged and the file is never written.
pub(super) fn read_as_schema_6(conn: &Connection) -> Result<()> {
    let schema = SCHEMA;
    let mut tables = String::new();
    for (start, end) in [
        ("CREATE TABLE parts", "-- (end of what schema 6 added)"),
        ("CREATE TABLE journal_meta", "-- (end of the journal's facts)"),
    ] {
        let from = schema.find(start).expect("schema.sql has the schema-6 tables");
        let to = schema[from..].find(end).map(|n| from + n).expect("schema.sql marks where they end");
        tables.push_str(&schema[from..to]);
    }
    // Tables only: indexes and changes to existing tables are for a journal that is written
    // (`audit.origin` is read as NULL by `journal audit` itself).
    let tables: String = tables
        .lines()
        .filter(|l| !l.starts_with("CREATE INDEX") && !l.starts_with("ALTER TABLE"))
        .collect::<Vec<_>>()
        .join("\n")
        .replace("CREATE TABLE ", "CREATE TEMP TABLE ")
        .replace(" REFERENCES messages(id)", "")
        .replace(" REFERENCES parts(id)", "");
    conn.execute_batch(&tables)?;
    Ok(())
}

/// For a command that only reads a journal older than schema 5: what schema 5 added, as empty
/// stand-ins in the connection's own TEMP schema (which SQLite searches first), so the same
/// queries read it and the file is never written. Nothing was refused, handled or audited
/// before schema 5.
pub(super) fn read_as_schema_5(conn: &Connection) -> Result<()> {
    let schema = SCHEMA;
    let start = schema.find("CREATE TABLE refused_inputs").expect("schema.sql has the work queue's tables");
    let end = schema.find("-- (end of what schema 5 added)").expect("schema.sql marks where schema 5 ends");
    // Tables only: the indexes and the trigger are for a journal that is written.
    let part = &schema[start..end];
    let part = &part[..part.find("-- A person's closing of a problem").unwrap_or(part.len())];
    let tables: String = part
        .lines()
        .filter(|l| !l.starts_with("CREATE INDEX"))
        .collect::<Vec<_>>()
        .join("\n")
        .replace("CREATE TABLE ", "CREATE TEMP TABLE ")
        .replace(" REFERENCES inputs(id)", "");
    conn.execute_batch(&format!(
        "{tables}
         CREATE TEMP VIEW messages AS SELECT *, NULL AS handled_at, NULL AS handled_by, NULL AS handled_note,
           NULL AS erased_at, NULL AS pruned_at FROM main.messages;
         CREATE TEMP VIEW inputs AS SELECT *, NULL AS erased_at, NULL AS pruned_at FROM main.inputs;"
    ))?;
    Ok(())
}

fn widen_kind_check(tx: &Transaction<'_>, from: i64, old: &str, new: &str) -> Result<()> {
    widen_check(tx, from, "messages", old, new)
}

/// Replaces a CHECK on `table` by one that allows more. Only the constraint
/// changes, and it only allows more, so the table's definition is edited in place (SQLite's
/// documented procedure for changes that leave the stored rows valid): instant on a journal
/// of any size, where rebuilding the table would copy every row.
fn widen_check(tx: &Transaction<'_>, from: i64, table: &str, old: &str, new: &str) -> Result<()> {
    let sql: String =
        tx.query_row("SELECT sql FROM sqlite_schema WHERE type = 'table' AND name = ?1", [table], |r| r.get(0))?;
    if !sql.contains(old) {
        return Err(Error::Usage(format!(
            "journal schema {from} without the expected {table} rule ({old}); not migrated"
        )));
    }
    let schema_version: i64 = tx.pragma_query_value(None, "schema_version", |r| r.get(0))?;
    tx.pragma_update(None, "writable_schema", true)?;
    tx.execute(
        "UPDATE sqlite_schema SET sql = ?1 WHERE type = 'table' AND name = ?2",
        [sql.replace(old, new), table.to_string()],
    )?;
    tx.pragma_update(None, "schema_version", schema_version + 1)?;
    tx.pragma_update(None, "writable_schema", false)?;
    Ok(())
}
