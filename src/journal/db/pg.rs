//! PostgreSQL under the journal: connecting (password from the environment or a file, TLS
//! with a CA file), the journal's SQL turned into PostgreSQL's (`?N` becomes `$N`), values
//! bound and read by the column's type, and the one write lock every flspost process takes.

use super::value::{ToSql, ValueRef};
use super::{DbError, Result, TransactionBehavior};
use postgres::types::{IsNull, Type};
use std::cell::RefCell;
use std::collections::HashMap;

/// The advisory lock every write transaction takes (`pg_advisory_xact_lock`), so writers on
/// every host queue as SQLite's writers do: a check made inside a write transaction holds
/// until its commit. The number is flspost's own ("FLSPOST" in ASCII, cut to 63 bits).
pub const WRITE_LOCK: i64 = 0x464c_5350_4f53_54;

/// Where a PostgreSQL journal is and how to reach it.
#[derive(Clone)]
pub struct PgTarget {
    /// The connection URL as given, with any password in it removed.
    pub url: String,
    pub password: Option<String>,
    /// PEM file of the CA that signed the server's certificate: TLS, the server verified.
    pub ca_file: Option<std::path::PathBuf>,
}

impl std::fmt::Debug for PgTarget {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("PgTarget").field("url", &self.url).field("ca_file", &self.ca_file).finish_non_exhaustive()
    }
}

/// How many prepared statements a connection keeps without being asked to.
const KEPT_STATEMENTS: usize = 256;

/// A connection: the client, and the statements it prepared.
pub struct PgConnection {
    client: RefCell<postgres::Client>,
    cache: RefCell<HashMap<String, postgres::Statement>>,
}

impl PgConnection {
    /// Connects, waiting at most `busy` for a lock each time (PostgreSQL's `lock_timeout`).
    pub fn connect(target: &PgTarget, busy: std::time::Duration) -> std::result::Result<PgConnection, String> {
        let mut config: postgres::Config = target.url.parse().map_err(|e| format!("not a PostgreSQL URL: {e}"))?;
        if let Some(p) = &target.password {
            config.password(p);
        }
        config.application_name("flspost");
        // This side's keepalives find a server that vanished; the server's own (set below)
        // find a host that vanished while it held the write lock.
        config.keepalives(true).keepalives_idle(std::time::Duration::from_secs(30));
        config.connect_timeout(std::time::Duration::from_secs(10));
        let client = match &target.ca_file {
            // TLS or nothing: never a fallback to plain text when the handshake fails.
            Some(ca) => config.ssl_mode(postgres::config::SslMode::Require).connect(tls(ca)?),
            None => config.connect(postgres::NoTls),
        }
        .map_err(|e| describe(&e))?;
        let c = PgConnection { client: RefCell::new(client), cache: RefCell::new(HashMap::new()) };
        // A host that dies (power, network) while it holds the one write lock must not stop
        // every other host's writes for long: the server drops a connection whose peer stopped
        // answering within some 10 s (keepalives, TCP_USER_TIMEOUT), and one that sits in a
        // transaction for a minute (no flspost transaction waits on anything but the database).
        c.batch(&format!(
            "SET lock_timeout = {}; SET idle_in_transaction_session_timeout = '60s'; SET TIME ZONE 'UTC'; \
             SET client_min_messages = warning; SET tcp_keepalives_idle = 5; SET tcp_keepalives_interval = 2; \
             SET tcp_keepalives_count = 3; SET tcp_user_timeout = 10000",
            busy.as_millis().max(1)
        ))
        .map_err(|e| e.to_string())?;
        // Text is compared by bytes (COLLATE "C") and lengths are of UTF-8: a database of
        // another encoding would store and measure the journal's text otherwise.
        let encoding: String = c
            .client
            .borrow_mut()
            .query_one("SHOW server_encoding", &[])
            .and_then(|r| r.try_get(0))
            .map_err(|e| describe(&e))?;
        if encoding != "UTF8" {
            return Err(format!(
                "the database's encoding is {encoding}; a flspost journal needs UTF8 (createdb --encoding UTF8)"
            ));
        }
        Ok(c)
    }

    pub fn batch(&self, sql: &str) -> Result<()> {
        Ok(self.client.borrow_mut().batch_execute(sql)?)
    }

    pub(super) fn begin(&self, behavior: TransactionBehavior) -> Result<()> {
        self.batch("BEGIN")?;
        let lock = match behavior {
            TransactionBehavior::Immediate => self.batch(&format!("SELECT pg_advisory_xact_lock({WRITE_LOCK})")),
            TransactionBehavior::Snapshot => self.batch("SET TRANSACTION ISOLATION LEVEL REPEATABLE READ, READ ONLY"),
        };
        // A lock not had in time (busy) leaves the transaction aborted: ended here, so the
        // connection is ready for the next try.
        if lock.is_err() {
            let _ = self.batch("ROLLBACK");
        }
        lock
    }

    /// Commits; an error when the transaction had failed, which PostgreSQL would otherwise
    /// end with a rollback under COMMIT's name and no error.
    pub(super) fn commit(&self) -> Result<()> {
        self.batch("SELECT 1")?;
        self.batch("COMMIT")
    }

    /// A prepared statement for `sql`. Every one is kept for the next use of the same text
    /// (preparing costs a round trip to the server), up to [`KEPT_STATEMENTS`]: past it only
    /// those asked for as cached are (statements with values written into their text, lists
    /// of ids, are not).
    pub(super) fn statement(&self, sql: &str, cached: bool) -> Result<postgres::Statement> {
        if let Some(st) = self.cache.borrow().get(sql) {
            return Ok(st.clone());
        }
        let cached = cached || self.cache.borrow().len() < KEPT_STATEMENTS;
        let st = self
            .client
            .borrow_mut()
            .prepare(&translate(sql))
            .map_err(|source| DbError::Prepare { sql: sql.chars().take(160).collect(), source })?;
        if cached {
            self.cache.borrow_mut().insert(sql.to_string(), st.clone());
        }
        Ok(st)
    }

    pub(super) fn execute(&self, st: &postgres::Statement, values: &[&dyn ToSql]) -> Result<usize> {
        let outputs = outputs(values)?;
        let binds: Vec<PgBind<'_>> = outputs.iter().map(|v| PgBind(v.value())).collect();
        let refs: Vec<&(dyn postgres::types::ToSql + Sync)> = binds.iter().map(|b| b as _).collect();
        // A statement with RETURNING (or a SELECT) run for its effect: its rows are counted.
        let n = if st.columns().is_empty() {
            self.client.borrow_mut().execute(st, &refs)?
        } else {
            self.client.borrow_mut().query(st, &refs)?.len() as u64
        };
        Ok(n as usize)
    }

    pub(super) fn query(&self, st: &postgres::Statement, values: &[&dyn ToSql]) -> Result<Vec<postgres::Row>> {
        let outputs = outputs(values)?;
        let binds: Vec<PgBind<'_>> = outputs.iter().map(|v| PgBind(v.value())).collect();
        let refs: Vec<&(dyn postgres::types::ToSql + Sync)> = binds.iter().map(|b| b as _).collect();
        Ok(self.client.borrow_mut().query(st, &refs)?)
    }
}

fn tls(ca: &std::path::Path) -> std::result::Result<tokio_postgres_rustls::MakeRustlsConnect, String> {
    use rustls::pki_types::pem::PemObject;
    use rustls::pki_types::CertificateDer;
    let mut roots = rustls::RootCertStore::empty();
    let certs = CertificateDer::pem_file_iter(ca).map_err(|e| format!("{}: {e}", ca.display()))?;
    for cert in certs {
        let cert = cert.map_err(|e| format!("{}: not a PEM certificate: {e}", ca.display()))?;
        roots.add(cert).map_err(|e| format!("{}: {e}", ca.display()))?;
    }
    if roots.is_empty() {
        return Err(format!("{}: holds no certificate", ca.display()));
    }
    let provider = std::sync::Arc::new(rustls::crypto::ring::default_provider());
    let config = rustls::ClientConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()
        .map_err(|e| e.to_string())?
        .with_root_certificates(roots)
        .with_no_client_auth();
    Ok(tokio_postgres_rustls::MakeRustlsConnect::new(config))
}

/// The journal's SQL in PostgreSQL's words: parameters `?N` become `$N`, and a bare `?` the
/// number after the largest so far (SQLite's rule); string literals and quoted names are
/// left alone.
pub(super) fn translate(sql: &str) -> String {
    let mut out = String::with_capacity(sql.len() + 8);
    let mut chars = sql.chars().peekable();
    let (mut quote, mut largest) = (None::<char>, 0u32);
    while let Some(c) = chars.next() {
        match quote {
            Some(q) => {
                out.push(c);
                if c == q {
                    quote = None;
                }
            }
            None if c == '\'' || c == '"' => {
                quote = Some(c);
                out.push(c);
            }
            None if c == '?' => {
                let mut digits = String::new();
                while let Some(d) = chars.peek().filter(|d| d.is_ascii_digit()) {
                    digits.push(*d);
                    chars.next();
                }
                if digits.is_empty() {
                    largest += 1;
                    digits = largest.to_string();
                } else {
                    largest = largest.max(digits.parse().unwrap_or(0));
                }
                out.push('$');
                out.push_str(&digits);
            }
            None => out.push(c),
        }
    }
    out
}

/// Column `at` of `row` as one of the journal's values.
pub(super) fn value_at(row: &postgres::Row, at: usize) -> std::result::Result<ValueRef<'_>, String> {
    row.try_get::<_, Raw<'_>>(at).map(|r| r.0).map_err(|e| e.to_string())
}

/// Any column, decoded by its type.
struct Raw<'a>(ValueRef<'a>);

impl<'a> postgres::types::FromSql<'a> for Raw<'a> {
    fn from_sql(ty: &Type, raw: &'a [u8]) -> std::result::Result<Self, Box<dyn std::error::Error + Sync + Send>> {
        Ok(Raw(match *ty {
            Type::INT8 => ValueRef::Integer(i64::from_sql(ty, raw)?),
            Type::INT4 => ValueRef::Integer(i32::from_sql(ty, raw)?.into()),
            Type::INT2 => ValueRef::Integer(i16::from_sql(ty, raw)?.into()),
            Type::BOOL => ValueRef::Integer(bool::from_sql(ty, raw)?.into()),
            Type::FLOAT8 => ValueRef::Real(f64::from_sql(ty, raw)?),
            Type::FLOAT4 => ValueRef::Real(f32::from_sql(ty, raw)?.into()),
            Type::BYTEA => ValueRef::Blob(raw),
            Type::TEXT | Type::VARCHAR | Type::BPCHAR | Type::NAME | Type::UNKNOWN => ValueRef::Text(raw),
            ref other => return Err(format!("PostgreSQL type {other} (the journal's SQL casts it)").into()),
        }))
    }

    fn from_sql_null(_: &Type) -> std::result::Result<Self, Box<dyn std::error::Error + Sync + Send>> {
        Ok(Raw(ValueRef::Null))
    }

    fn accepts(_: &Type) -> bool {
        true
    }
}

fn outputs<'v>(values: &[&'v dyn ToSql]) -> Result<Vec<super::value::ToSqlOutput<'v>>> {
    values
        .iter()
        .enumerate()
        .map(|(i, v)| {
            let v: &'v dyn ToSql = *v;
            v.to_sql()
                .map_err(|e| DbError::Conversion { column: format!("parameter {}", i + 1), reason: e.to_string() })
        })
        .collect()
}

/// A value bound to a parameter of whichever type PostgreSQL gave it.
#[derive(Debug)]
struct PgBind<'a>(ValueRef<'a>);

impl postgres::types::ToSql for PgBind<'_> {
    fn to_sql(
        &self,
        ty: &Type,
        out: &mut bytes::BytesMut,
    ) -> std::result::Result<IsNull, Box<dyn std::error::Error + Sync + Send>> {
        use postgres::types::ToSql as T;
        let wrong = |what: &str| format!("{what} bound where PostgreSQL expects {ty}");
        match (self.0, ty) {
            (ValueRef::Null, _) => Ok(IsNull::Yes),
            (ValueRef::Integer(i), &Type::INT8) => T::to_sql(&i, ty, out),
            (ValueRef::Integer(i), &Type::INT4) => T::to_sql(&i32::try_from(i)?, ty, out),
            (ValueRef::Integer(i), &Type::INT2) => T::to_sql(&i16::try_from(i)?, ty, out),
            (ValueRef::Integer(i), &Type::BOOL) => T::to_sql(&(i != 0), ty, out),
            (ValueRef::Integer(i), &Type::FLOAT8) => T::to_sql(&(i as f64), ty, out),
            (ValueRef::Integer(i), &Type::TEXT | &Type::VARCHAR | &Type::UNKNOWN) => {
                T::to_sql(&i.to_string(), &Type::TEXT, out)
            }
            (ValueRef::Real(f), &Type::FLOAT8) => T::to_sql(&f, ty, out),
            (ValueRef::Text(t), &Type::TEXT | &Type::VARCHAR | &Type::BPCHAR | &Type::NAME | &Type::UNKNOWN) => {
                out.extend_from_slice(t);
                Ok(IsNull::No)
            }
            (ValueRef::Text(t) | ValueRef::Blob(t), &Type::BYTEA) => {
                out.extend_from_slice(t);
                Ok(IsNull::No)
            }
            (ValueRef::Text(t), &Type::INT8) => T::to_sql(&std::str::from_utf8(t)?.parse::<i64>()?, ty, out),
            (v, _) => Err(wrong(v.type_name()).into()),
        }
    }

    fn accepts(_: &Type) -> bool {
        true
    }

    postgres::types::to_sql_checked!();
}

/// PostgreSQL's error in words: its message and SQLSTATE code, or the client's.
pub(super) fn describe(e: &postgres::Error) -> String {
    match e.as_db_error() {
        Some(db) => format!("PostgreSQL: {} ({})", db.message(), db.code().code()),
        None => {
            // The client's own errors say what failed only in their causes (a TLS handshake:
            // which certificate, and why).
            let mut text = format!("PostgreSQL: {e}");
            let mut cause = std::error::Error::source(e);
            while let Some(c) = cause {
                text.push_str(&format!(": {c}"));
                cause = c.source();
            }
            text
        }
    }
}

pub(super) fn is_busy(e: &postgres::Error) -> bool {
    use postgres::error::SqlState;
    e.code().is_some_and(|c| {
        [SqlState::LOCK_NOT_AVAILABLE, SqlState::T_R_DEADLOCK_DETECTED, SqlState::T_R_SERIALIZATION_FAILURE].contains(c)
    })
}

pub(super) fn is_constraint(e: &postgres::Error) -> bool {
    e.code().is_some_and(|c| c.code().starts_with("23"))
}

impl From<DbError> for String {
    fn from(e: DbError) -> String {
        e.to_string()
    }
}

#[cfg(test)]
mod tests {
    #[test]
    fn parameters_numbered_literals_untouched() {
        assert_eq!(super::translate("a = ?1 AND b = ?2 OR c = '?3'"), "a = $1 AND b = $2 OR c = '?3'");
        assert_eq!(super::translate("x IN (?, ?) AND \"?\" = ?"), "x IN ($1, $2) AND \"?\" = $3");
        assert_eq!(super::translate("a = ?2 AND b = ?"), "a = $2 AND b = $3");
    }
}
