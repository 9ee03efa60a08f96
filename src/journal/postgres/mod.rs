//! A journal in a PostgreSQL database: connecting, and its schema (`schema.sql`), versioned
//! in `flspost_schema`. A command that writes sets up an empty database (as `generate` sets
//! up a new SQLite file) under the journal's write lock, so two hosts starting at once set it
//! up once; a read never changes it. The operations themselves are the journal's one set
//! (`journal/*.rs` over [`super::db`]).

use super::db::{self, Connection, PgConnection, PgTarget, TransactionBehavior};
use super::open::Migrated;
use super::types::Access;
use crate::error::{Error, Result};

/// The PostgreSQL schema, whole. Its version counts with the SQLite journal's: schema 6
/// here holds what SQLite's schema 6 holds, plus the claim columns of `attempts`.
const SCHEMA: &str = include_str!("schema.sql");
pub(super) const SCHEMA_VERSION: i64 = 6;

fn refused(target: &PgTarget, why: impl std::fmt::Display) -> Error {
    Error::Usage(format!("journal {}: {why}", target.url))
}

/// Connects to the journal at `target` and checks (or, for a writer, sets up) its schema.
pub(super) fn open(
    target: &PgTarget,
    access: Access,
    busy: std::time::Duration,
    create: bool,
) -> Result<(Connection, Option<Migrated>)> {
    let pg = PgConnection::connect(target, busy).map_err(|e| refused(target, e))?;
    let conn = Connection::Postgres(pg);
    let version = match schema_version(&conn) {
        Ok(v) => v,
        Err(e) => return Err(e),
    };
    let mut migrated = None;
    if version == 0 {
        if access == Access::ReadOnly || !create {
            return Err(refused(
                target,
                "no flspost journal in this database yet (`flspost journal migrate` or the first `flspost generate` \
                 sets it up; check the database's name)",
            ));
        }
        let tx = db::Transaction::new_unchecked(&conn, TransactionBehavior::Immediate)?;
        if schema_version(&tx)? == 0 {
            if other_tables(&tx)? != 0 {
                return Err(refused(
                    target,
                    "the database holds other tables and no flspost journal; give flspost a database of its own",
                ));
            }
            tx.execute_batch(SCHEMA)?;
            tx.execute(
                "INSERT INTO flspost_schema (version, applied_at) VALUES (?1, ?2)",
                db::params![SCHEMA_VERSION, super::now_text()],
            )?;
            migrated = Some(Migrated { from: 0, to: SCHEMA_VERSION, backup: None });
        }
        tx.commit()?;
    }
    match schema_version(&conn)? {
        SCHEMA_VERSION => Ok((conn, migrated)),
        v if v > SCHEMA_VERSION => Err(refused(
            target,
            format!(
                "has schema version {v}, newer than this flspost ({}) knows ({SCHEMA_VERSION}): a newer release wrote it; \
                 nothing was read or changed. Use that release (or a newer one) on every host",
                env!("CARGO_PKG_VERSION")
            ),
        )),
        v => Err(refused(target, format!("has schema version {v}; this flspost knows {SCHEMA_VERSION}"))),
    }
}

/// The schema version (0: no flspost journal here yet).
pub(super) fn schema_version(conn: &Connection) -> Result<i64> {
    // to_regclass, not information_schema: that view costs a new connection ~12 ms of the
    // server's catalog reading, more than the rest of a `generate`.
    let exists: bool = conn.query_row("SELECT to_regclass('flspost_schema') IS NOT NULL", [], |r| r.get(0))?;
    if !exists {
        return Ok(0);
    }
    Ok(conn.query_row("SELECT CAST(COALESCE(MAX(version), 0) AS BIGINT) FROM flspost_schema", [], |r| r.get(0))?)
}

fn other_tables(conn: &Connection) -> Result<i64> {
    Ok(conn.query_row(
        "SELECT COUNT(*) FROM information_schema.tables WHERE table_schema = current_schema()",
        [],
        |r| r.get(0),
    )?)
}
