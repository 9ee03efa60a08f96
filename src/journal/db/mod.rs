//! The journal's SQL, whichever store holds it: one connection type over SQLite (`rusqlite`)
//! or PostgreSQL (`postgres`), with the statements, rows, values and transactions the
//! journal's operations are written against. The operations are written once, in SQL both
//! stores take (`?N` parameters, `ON CONFLICT`, `RETURNING`, `COALESCE`), and ask
//! [`Connection::dialect`] where the two differ (JSON, patterns, pragmas).
//!
//! The names follow rusqlite's (`execute`, `query_row`, `prepare_cached`, `optional`), so the
//! operations read as they did when the journal was SQLite only.

mod pg;
mod value;

pub use pg::{PgConnection, PgTarget, WRITE_LOCK};
pub use value::{FromSql, FromSqlError, FromSqlResult, ToSql, ToSqlOutput, Value, ValueRef};

/// Which store a connection talks to.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Dialect {
    Sqlite,
    Postgres,
}

/// A failure of the store, or of turning a column into a Rust value.
#[derive(Debug, thiserror::Error)]
pub enum DbError {
    #[error(transparent)]
    Sqlite(#[from] rusqlite::Error),
    #[error("{}", pg::describe(.0))]
    Postgres(#[from] postgres::Error),
    /// A statement PostgreSQL would not prepare: which one, for the developer who wrote it.
    #[error("{} in `{sql}`", pg::describe(.source))]
    Prepare { sql: String, source: postgres::Error },
    #[error("query returned no rows")]
    NoRows,
    #[error("column {column}: {reason}")]
    Conversion { column: String, reason: String },
}

impl DbError {
    /// Another writer held what this one needed past the wait allowed: running again helps.
    pub fn is_busy(&self) -> bool {
        use rusqlite::ErrorCode::{DatabaseBusy, DatabaseLocked, FileLockingProtocolFailed};
        match self {
            DbError::Sqlite(rusqlite::Error::SqliteFailure(f, _)) => {
                matches!(f.code, DatabaseBusy | DatabaseLocked | FileLockingProtocolFailed)
            }
            DbError::Postgres(e) | DbError::Prepare { source: e, .. } => pg::is_busy(e),
            _ => false,
        }
    }

    /// A unique key (or other constraint) refused the row: another process recorded it first.
    pub fn is_constraint(&self) -> bool {
        match self {
            DbError::Sqlite(rusqlite::Error::SqliteFailure(f, _)) => f.code == rusqlite::ErrorCode::ConstraintViolation,
            DbError::Postgres(e) => pg::is_constraint(e),
            _ => false,
        }
    }
}

pub type Result<T, E = DbError> = std::result::Result<T, E>;

/// `Ok(None)` for a query that found no row (rusqlite's `OptionalExtension`).
pub trait OptionalExtension<T> {
    fn optional(self) -> Result<Option<T>>;
}

impl<T> OptionalExtension<T> for Result<T> {
    fn optional(self) -> Result<Option<T>> {
        match self {
            Ok(v) => Ok(Some(v)),
            Err(DbError::NoRows) | Err(DbError::Sqlite(rusqlite::Error::QueryReturnedNoRows)) => Ok(None),
            Err(e) => Err(e),
        }
    }
}

/// A connection to the journal's store.
pub enum Connection {
    Sqlite(rusqlite::Connection),
    Postgres(PgConnection),
}

/// How a transaction starts: `Immediate` takes the store's one write lock at once (SQLite's
/// `BEGIN IMMEDIATE`; on PostgreSQL a transaction-scoped advisory lock every flspost process
/// takes), so writers queue instead of interleaving and a check made inside holds until the
/// commit. `Snapshot` reads one consistent state and writes nothing (`journal copy`'s source).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum TransactionBehavior {
    Immediate,
    Snapshot,
}

impl Connection {
    pub fn dialect(&self) -> Dialect {
        match self {
            Connection::Sqlite(_) => Dialect::Sqlite,
            Connection::Postgres(_) => Dialect::Postgres,
        }
    }

    /// The SQLite connection, for what only SQLite has (pragmas, the backup API).
    pub fn sqlite(&self) -> Option<&rusqlite::Connection> {
        match self {
            Connection::Sqlite(c) => Some(c),
            Connection::Postgres(_) => None,
        }
    }

    pub fn execute<P: Params>(&self, sql: &str, params: P) -> Result<usize> {
        self.prepare(sql)?.execute(params)
    }

    /// Several statements without parameters.
    pub fn execute_batch(&self, sql: &str) -> Result<()> {
        match self {
            Connection::Sqlite(c) => Ok(c.execute_batch(sql)?),
            Connection::Postgres(c) => c.batch(sql),
        }
    }

    pub fn query_row<T, P: Params, F: FnOnce(&Row<'_>) -> Result<T>>(&self, sql: &str, params: P, f: F) -> Result<T> {
        self.prepare(sql)?.query_row(params, f)
    }

    pub fn prepare(&self, sql: &str) -> Result<Statement<'_>> {
        self.prepare_as(sql, false)
    }

    /// A statement kept for the next use of the same text (parsed and planned once).
    pub fn prepare_cached(&self, sql: &str) -> Result<Statement<'_>> {
        self.prepare_as(sql, true)
    }

    fn prepare_as(&self, sql: &str, cached: bool) -> Result<Statement<'_>> {
        Ok(match self {
            Connection::Sqlite(c) if cached => Statement::SqliteCached(c.prepare_cached(sql)?),
            Connection::Sqlite(c) => Statement::Sqlite(c.prepare(sql)?),
            Connection::Postgres(c) => Statement::Postgres(c, c.statement(sql, cached)?),
        })
    }

    /// Runs `sql`, an `INSERT` of one row into a table keyed by `id`, and returns the new row's
    /// id (the statement is cached). PostgreSQL is asked with `RETURNING id`; SQLite by its last
    /// rowid, because it runs `RETURNING` as a trigger, and a statement with a trigger that may
    /// fail on a constraint keeps a journal of its own: a copy of every page the insert changes
    /// (a message's bytes span several 16 KB pages), so that it alone can be undone.
    pub fn insert_returning_id<P: Params>(&self, sql: &str, params: P) -> Result<i64> {
        match self {
            Connection::Sqlite(c) => {
                self.prepare_cached(sql)?.execute(params)?;
                Ok(c.last_insert_rowid())
            }
            Connection::Postgres(_) => {
                self.prepare_cached(&format!("{sql} RETURNING id"))?.query_row(params, |r| r.get(0))
            }
        }
    }

    pub fn transaction_with_behavior(&self, behavior: TransactionBehavior) -> Result<Transaction<'_>> {
        Transaction::new_unchecked(self, behavior)
    }
}

/// A transaction on a shared connection, rolled back when dropped uncommitted.
pub struct Transaction<'c> {
    conn: &'c Connection,
    done: bool,
}

impl<'c> Transaction<'c> {
    pub fn new_unchecked(conn: &'c Connection, behavior: TransactionBehavior) -> Result<Transaction<'c>> {
        match conn {
            // A deferred transaction's first read fixes its snapshot (WAL).
            Connection::Sqlite(c) => c.execute_batch(match behavior {
                TransactionBehavior::Immediate => "BEGIN IMMEDIATE",
                TransactionBehavior::Snapshot => "BEGIN DEFERRED",
            })?,
            Connection::Postgres(c) => c.begin(behavior)?,
        }
        Ok(Transaction { conn, done: false })
    }

    /// Commits. On failure the transaction is rolled back (when dropped), never left open.
    pub fn commit(mut self) -> Result<()> {
        match self.conn {
            Connection::Sqlite(c) => c.execute_batch("COMMIT")?,
            Connection::Postgres(c) => c.commit()?,
        }
        self.done = true;
        Ok(())
    }
}

impl Drop for Transaction<'_> {
    fn drop(&mut self) {
        if !self.done {
            let _ = self.conn.execute_batch("ROLLBACK");
        }
    }
}

impl std::ops::Deref for Transaction<'_> {
    type Target = Connection;
    fn deref(&self) -> &Connection {
        self.conn
    }
}

/// A prepared statement.
pub enum Statement<'c> {
    Sqlite(rusqlite::Statement<'c>),
    SqliteCached(rusqlite::CachedStatement<'c>),
    Postgres(&'c PgConnection, postgres::Statement),
}

impl Statement<'_> {
    pub fn execute<P: Params>(&mut self, params: P) -> Result<usize> {
        let values = params.values();
        let bound = || rusqlite::params_from_iter(values.iter().map(|v| value::SqliteBind(*v)));
        match self {
            Statement::Sqlite(s) => Ok(s.execute(bound())?),
            Statement::SqliteCached(s) => Ok(s.execute(bound())?),
            Statement::Postgres(c, st) => c.execute(st, &values),
        }
    }

    /// The rows, one at a time.
    pub fn query<P: Params>(&mut self, params: P) -> Result<Rows<'_>> {
        let values = params.values();
        match self {
            Statement::Sqlite(s) => {
                Ok(Rows::Sqlite(s.query(rusqlite::params_from_iter(values.iter().map(|v| value::SqliteBind(*v))))?))
            }
            Statement::SqliteCached(s) => {
                Ok(Rows::Sqlite(s.query(rusqlite::params_from_iter(values.iter().map(|v| value::SqliteBind(*v))))?))
            }
            Statement::Postgres(c, st) => {
                let rows = c.query(st, &values)?;
                Ok(Rows::Postgres { rows, next: 0 })
            }
        }
    }

    pub fn query_row<T, P: Params, F: FnOnce(&Row<'_>) -> Result<T>>(&mut self, params: P, f: F) -> Result<T> {
        let mut rows = self.query(params)?;
        let row = rows.next()?.ok_or(DbError::NoRows)?;
        f(&row)
    }

    pub fn query_map<T, P: Params, F: FnMut(&Row<'_>) -> Result<T>>(
        &mut self,
        params: P,
        f: F,
    ) -> Result<MappedRows<'_, F>> {
        Ok(MappedRows { rows: self.query(params)?, f })
    }
}

/// The rows of a query.
pub enum Rows<'s> {
    Sqlite(rusqlite::Rows<'s>),
    Postgres { rows: Vec<postgres::Row>, next: usize },
}

impl<'s> Rows<'s> {
    /// The next row, or `None` after the last.
    #[allow(clippy::should_implement_trait)]
    pub fn next(&mut self) -> Result<Option<Row<'_>>> {
        match self {
            Rows::Sqlite(r) => Ok(r.next()?.map(Row::Sqlite)),
            Rows::Postgres { rows, next } => {
                let row = rows.get(*next);
                *next += 1;
                Ok(row.map(Row::Postgres))
            }
        }
    }
}

/// [`Statement::query_map`]: each row through `f`.
pub struct MappedRows<'s, F> {
    rows: Rows<'s>,
    f: F,
}

impl<T, F: FnMut(&Row<'_>) -> Result<T>> Iterator for MappedRows<'_, F> {
    type Item = Result<T>;
    fn next(&mut self) -> Option<Result<T>> {
        match self.rows.next() {
            Ok(Some(row)) => Some((self.f)(&row)),
            Ok(None) => None,
            Err(e) => Some(Err(e)),
        }
    }
}

/// One row of a query.
pub enum Row<'r> {
    Sqlite(&'r rusqlite::Row<'r>),
    Postgres(&'r postgres::Row),
}

/// A column by its position (from 0) or its name.
pub trait RowIndex: Copy + std::fmt::Display {
    fn sqlite(self, row: &rusqlite::Row<'_>) -> rusqlite::Result<usize>;
    fn postgres(self, row: &postgres::Row) -> Option<usize>;
}

impl RowIndex for usize {
    fn sqlite(self, _: &rusqlite::Row<'_>) -> rusqlite::Result<usize> {
        Ok(self)
    }
    fn postgres(self, row: &postgres::Row) -> Option<usize> {
        (self < row.len()).then_some(self)
    }
}

impl RowIndex for &str {
    fn sqlite(self, row: &rusqlite::Row<'_>) -> rusqlite::Result<usize> {
        row.as_ref().column_index(self)
    }
    fn postgres(self, row: &postgres::Row) -> Option<usize> {
        row.columns().iter().position(|c| c.name() == self)
    }
}

impl Row<'_> {
    pub fn get<I: RowIndex, T: FromSql>(&self, i: I) -> Result<T> {
        T::column_result(self.get_ref(i)?)
            .map_err(|e| DbError::Conversion { column: i.to_string(), reason: e.to_string() })
    }

    pub fn get_ref<I: RowIndex>(&self, i: I) -> Result<ValueRef<'_>> {
        match self {
            Row::Sqlite(r) => {
                let at = i.sqlite(r)?;
                Ok(ValueRef::from(r.get_ref(at)?))
            }
            Row::Postgres(r) => {
                let at = i
                    .postgres(r)
                    .ok_or_else(|| DbError::Conversion { column: i.to_string(), reason: "no such column".into() })?;
                pg::value_at(r, at).map_err(|reason| DbError::Conversion { column: i.to_string(), reason })
            }
        }
    }
}

/// The values bound to a statement's parameters `?1`, `?2`, … in order.
pub trait Params {
    fn values(&self) -> Vec<&dyn ToSql>;
}

impl Params for [&dyn ToSql; 0] {
    fn values(&self) -> Vec<&dyn ToSql> {
        Vec::new()
    }
}

impl Params for &[&dyn ToSql] {
    fn values(&self) -> Vec<&dyn ToSql> {
        self.to_vec()
    }
}

impl Params for &Vec<&dyn ToSql> {
    fn values(&self) -> Vec<&dyn ToSql> {
        self.to_vec()
    }
}

impl Params for Vec<&dyn ToSql> {
    fn values(&self) -> Vec<&dyn ToSql> {
        self.clone()
    }
}

macro_rules! array_params {
    ($($n:literal)*) => {$(
        impl<T: ToSql> Params for [T; $n] {
            fn values(&self) -> Vec<&dyn ToSql> {
                self.iter().map(|v| v as &dyn ToSql).collect()
            }
        }
        impl<T: ToSql> Params for &[T; $n] {
            fn values(&self) -> Vec<&dyn ToSql> {
                self.iter().map(|v| v as &dyn ToSql).collect()
            }
        }
    )*};
}
array_params!(1 2 3 4 5 6 7 8 9 10 11 12 13 14 15 16);

macro_rules! tuple_params {
    ($(($($t:ident $i:tt),+))*) => {$(
        impl<$($t: ToSql),+> Params for ($($t,)+) {
            fn values(&self) -> Vec<&dyn ToSql> {
                vec![$(&self.$i as &dyn ToSql),+]
            }
        }
    )*};
}
// Parameters of mixed types as a tuple: `(id, name)`.
tuple_params!((A 0) (A 0, B 1) (A 0, B 1, C 2) (A 0, B 1, C 2, D 3) (A 0, B 1, C 2, D 3, E 4)
    (A 0, B 1, C 2, D 3, E 4, F 5) (A 0, B 1, C 2, D 3, E 4, F 5, G 6) (A 0, B 1, C 2, D 3, E 4, F 5, G 6, H 7));

/// Parameters of mixed types: `params![id, name]`.
macro_rules! params {
    () => { &[] as &[&dyn $crate::journal::db::ToSql] };
    ($($p:expr),+ $(,)?) => { &[$(&$p as &dyn $crate::journal::db::ToSql),+] as &[&dyn $crate::journal::db::ToSql] };
}
pub(crate) use params;

/// SQL the two stores spell differently, for the operations to splice into their statements.
impl Connection {
    /// Field `path` (SQL for an SQLite-style path: `'$.patient.cpr'`, or a parameter) of the
    /// JSON text `doc`, as text; NULL when `doc` is not JSON. The journal's CPR and GP indexes
    /// are on this expression, so searches must spell it the same way.
    pub fn json_text(&self, doc: &str, path: &str) -> String {
        match self.dialect() {
            Dialect::Sqlite => format!("(CASE WHEN json_valid({doc}) THEN json_extract({doc}, {path}) END)"),
            Dialect::Postgres => format!("flspost_json_text({doc}, {path})"),
        }
    }

    /// [`Connection::json_text`] of bytes that may not be UTF-8 (a refused input as received).
    pub fn json_text_of_bytes(&self, doc: &str, path: &str) -> String {
        match self.dialect() {
            Dialect::Sqlite => self.json_text(&format!("CAST({doc} AS TEXT)"), path),
            Dialect::Postgres => format!("flspost_json_text({doc}, {path})"),
        }
    }

    /// The larger of two values.
    pub fn greatest(&self, a: &str, b: &str) -> String {
        match self.dialect() {
            Dialect::Sqlite => format!("max({a}, {b})"),
            Dialect::Postgres => format!("GREATEST({a}, {b})"),
        }
    }

    /// Whether bytes `haystack` contain the UTF-8 text `needle` (SQL expressions).
    pub fn bytes_contain(&self, haystack: &str, needle: &str) -> String {
        match self.dialect() {
            Dialect::Sqlite => format!("instr({haystack}, CAST({needle} AS BLOB)) > 0"),
            Dialect::Postgres => format!("position(convert_to({needle}, 'UTF8') in {haystack}) > 0"),
        }
    }

    /// Whether text `haystack` contains text `needle` (SQL expressions).
    pub fn text_contains(&self, haystack: &str, needle: &str) -> String {
        match self.dialect() {
            Dialect::Sqlite => format!("instr({haystack}, {needle}) > 0"),
            Dialect::Postgres => format!("strpos({haystack}, {needle}) > 0"),
        }
    }

    /// Whether text `value` holds a character outside `[A-Za-z0-9_.-]`.
    pub fn has_char_outside_code(&self, value: &str) -> String {
        match self.dialect() {
            Dialect::Sqlite => format!("{value} GLOB '*[^A-Za-z0-9_.-]*'"),
            Dialect::Postgres => format!("{value} ~ '[^A-Za-z0-9_.-]'"),
        }
    }
}
