//! The values the journal stores, as both stores see them: NULL, a 64-bit integer, a real,
//! text or bytes (SQLite's five storage classes; PostgreSQL's `bigint`, `double precision`,
//! `text` and `bytea`, and `boolean` read as 0 or 1).

/// A value read, borrowed from its row.
#[derive(Clone, Copy, Debug, PartialEq)]
pub enum ValueRef<'a> {
    Null,
    Integer(i64),
    Real(f64),
    /// UTF-8 text, as bytes (SQLite does not check it).
    Text(&'a [u8]),
    Blob(&'a [u8]),
}

/// A value owned.
#[derive(Clone, Debug, PartialEq)]
pub enum Value {
    Null,
    Integer(i64),
    Real(f64),
    Text(String),
    Blob(Vec<u8>),
}

impl<'a> From<rusqlite::types::ValueRef<'a>> for ValueRef<'a> {
    fn from(v: rusqlite::types::ValueRef<'a>) -> ValueRef<'a> {
        use rusqlite::types::ValueRef as R;
        match v {
            R::Null => ValueRef::Null,
            R::Integer(i) => ValueRef::Integer(i),
            R::Real(f) => ValueRef::Real(f),
            R::Text(t) => ValueRef::Text(t),
            R::Blob(b) => ValueRef::Blob(b),
        }
    }
}

impl<'a> ValueRef<'a> {
    pub fn as_str(&self) -> FromSqlResult<&'a str> {
        match *self {
            ValueRef::Text(t) => std::str::from_utf8(t).map_err(|e| FromSqlError::Other(e.to_string())),
            _ => Err(self.wrong_type("text")),
        }
    }

    pub fn as_blob(&self) -> FromSqlResult<&'a [u8]> {
        match *self {
            ValueRef::Blob(b) => Ok(b),
            _ => Err(self.wrong_type("bytes")),
        }
    }

    pub fn as_i64(&self) -> FromSqlResult<i64> {
        match *self {
            ValueRef::Integer(i) => Ok(i),
            _ => Err(self.wrong_type("an integer")),
        }
    }

    /// What kind of value this is, in words.
    pub fn type_name(&self) -> &'static str {
        match self {
            ValueRef::Null => "NULL",
            ValueRef::Integer(_) => "an integer",
            ValueRef::Real(_) => "a real",
            ValueRef::Text(_) => "text",
            ValueRef::Blob(_) => "a BLOB",
        }
    }

    fn wrong_type(&self, wanted: &str) -> FromSqlError {
        FromSqlError::Other(format!("{} where {wanted} was expected", self.type_name()))
    }

    pub fn to_owned(self) -> Value {
        match self {
            ValueRef::Null => Value::Null,
            ValueRef::Integer(i) => Value::Integer(i),
            ValueRef::Real(f) => Value::Real(f),
            ValueRef::Text(t) => Value::Text(String::from_utf8_lossy(t).into_owned()),
            ValueRef::Blob(b) => Value::Blob(b.to_vec()),
        }
    }
}

impl Value {
    fn as_ref(&self) -> ValueRef<'_> {
        match self {
            Value::Null => ValueRef::Null,
            Value::Integer(i) => ValueRef::Integer(*i),
            Value::Real(f) => ValueRef::Real(*f),
            Value::Text(t) => ValueRef::Text(t.as_bytes()),
            Value::Blob(b) => ValueRef::Blob(b),
        }
    }
}

#[derive(Debug, thiserror::Error)]
pub enum FromSqlError {
    #[error("integer {0} out of range")]
    OutOfRange(i64),
    #[error("{0}")]
    Other(String),
}

pub type FromSqlResult<T> = std::result::Result<T, FromSqlError>;

/// A Rust value read from a column.
pub trait FromSql: Sized {
    fn column_result(v: ValueRef<'_>) -> FromSqlResult<Self>;
}

impl FromSql for i64 {
    fn column_result(v: ValueRef<'_>) -> FromSqlResult<Self> {
        v.as_i64()
    }
}

macro_rules! from_int {
    ($($t:ty)*) => {$(
        impl FromSql for $t {
            fn column_result(v: ValueRef<'_>) -> FromSqlResult<Self> {
                let i = v.as_i64()?;
                <$t>::try_from(i).map_err(|_| FromSqlError::OutOfRange(i))
            }
        }
    )*};
}
from_int!(i32 u32 u64 usize u16 u8);

impl FromSql for bool {
    fn column_result(v: ValueRef<'_>) -> FromSqlResult<Self> {
        Ok(v.as_i64()? != 0)
    }
}

impl FromSql for f64 {
    fn column_result(v: ValueRef<'_>) -> FromSqlResult<Self> {
        match v {
            ValueRef::Real(f) => Ok(f),
            ValueRef::Integer(i) => Ok(i as f64),
            _ => Err(v.wrong_type("a number")),
        }
    }
}

impl FromSql for String {
    fn column_result(v: ValueRef<'_>) -> FromSqlResult<Self> {
        v.as_str().map(str::to_string)
    }
}

impl FromSql for Vec<u8> {
    fn column_result(v: ValueRef<'_>) -> FromSqlResult<Self> {
        match v {
            ValueRef::Blob(b) | ValueRef::Text(b) => Ok(b.to_vec()),
            _ => Err(v.wrong_type("bytes")),
        }
    }
}

impl FromSql for Value {
    fn column_result(v: ValueRef<'_>) -> FromSqlResult<Self> {
        Ok(v.to_owned())
    }
}

impl<T: FromSql> FromSql for Option<T> {
    fn column_result(v: ValueRef<'_>) -> FromSqlResult<Self> {
        match v {
            ValueRef::Null => Ok(None),
            v => T::column_result(v).map(Some),
        }
    }
}

/// A value to bind, borrowed from the Rust value.
pub enum ToSqlOutput<'a> {
    Borrowed(ValueRef<'a>),
}

impl ToSqlOutput<'_> {
    pub fn value(&self) -> ValueRef<'_> {
        match self {
            ToSqlOutput::Borrowed(v) => *v,
        }
    }
}

impl<'a> From<&'a str> for ToSqlOutput<'a> {
    fn from(s: &'a str) -> Self {
        ToSqlOutput::Borrowed(ValueRef::Text(s.as_bytes()))
    }
}

impl From<i64> for ToSqlOutput<'_> {
    fn from(i: i64) -> Self {
        ToSqlOutput::Borrowed(ValueRef::Integer(i))
    }
}

/// A Rust value bound to a parameter.
pub trait ToSql {
    fn to_sql(&self) -> FromSqlResult<ToSqlOutput<'_>>;
}

impl<T: ToSql + ?Sized> ToSql for &T {
    fn to_sql(&self) -> FromSqlResult<ToSqlOutput<'_>> {
        (**self).to_sql()
    }
}

impl<T: ToSql + ?Sized> ToSql for Box<T> {
    fn to_sql(&self) -> FromSqlResult<ToSqlOutput<'_>> {
        (**self).to_sql()
    }
}

impl<T: ToSql> ToSql for Option<T> {
    fn to_sql(&self) -> FromSqlResult<ToSqlOutput<'_>> {
        match self {
            Some(v) => v.to_sql(),
            None => Ok(ToSqlOutput::Borrowed(ValueRef::Null)),
        }
    }
}

impl ToSql for str {
    fn to_sql(&self) -> FromSqlResult<ToSqlOutput<'_>> {
        Ok(ToSqlOutput::Borrowed(ValueRef::Text(self.as_bytes())))
    }
}

impl ToSql for String {
    fn to_sql(&self) -> FromSqlResult<ToSqlOutput<'_>> {
        self.as_str().to_sql()
    }
}

impl ToSql for std::borrow::Cow<'_, str> {
    fn to_sql(&self) -> FromSqlResult<ToSqlOutput<'_>> {
        self.as_ref().to_sql()
    }
}

impl ToSql for [u8] {
    fn to_sql(&self) -> FromSqlResult<ToSqlOutput<'_>> {
        Ok(ToSqlOutput::Borrowed(ValueRef::Blob(self)))
    }
}

impl ToSql for Vec<u8> {
    fn to_sql(&self) -> FromSqlResult<ToSqlOutput<'_>> {
        self.as_slice().to_sql()
    }
}

impl<const N: usize> ToSql for [u8; N] {
    fn to_sql(&self) -> FromSqlResult<ToSqlOutput<'_>> {
        self.as_slice().to_sql()
    }
}

impl ToSql for Value {
    fn to_sql(&self) -> FromSqlResult<ToSqlOutput<'_>> {
        Ok(ToSqlOutput::Borrowed(self.as_ref()))
    }
}

impl ToSql for bool {
    fn to_sql(&self) -> FromSqlResult<ToSqlOutput<'_>> {
        Ok(ToSqlOutput::Borrowed(ValueRef::Integer(i64::from(*self))))
    }
}

impl ToSql for f64 {
    fn to_sql(&self) -> FromSqlResult<ToSqlOutput<'_>> {
        Ok(ToSqlOutput::Borrowed(ValueRef::Real(*self)))
    }
}

macro_rules! to_int {
    ($($t:ty)*) => {$(
        impl ToSql for $t {
            fn to_sql(&self) -> FromSqlResult<ToSqlOutput<'_>> {
                #[allow(irrefutable_let_patterns)]
                let Ok(i) = i64::try_from(*self) else {
                    return Err(FromSqlError::Other(format!("{} does not fit in a 64-bit integer", self)));
                };
                Ok(ToSqlOutput::Borrowed(ValueRef::Integer(i)))
            }
        }
    )*};
}
to_int!(i64 i32 i16 i8 u32 u16 u8 u64 usize);

/// A value bound through rusqlite.
pub(super) struct SqliteBind<'a>(pub &'a dyn ToSql);

impl rusqlite::ToSql for SqliteBind<'_> {
    fn to_sql(&self) -> rusqlite::Result<rusqlite::types::ToSqlOutput<'_>> {
        use rusqlite::types::{ToSqlOutput as O, ValueRef as R};
        let out = self.0.to_sql().map_err(|e| rusqlite::Error::ToSqlConversionFailure(Box::new(e)))?;
        Ok(match out {
            ToSqlOutput::Borrowed(v) => O::Borrowed(match v {
                ValueRef::Null => R::Null,
                ValueRef::Integer(i) => R::Integer(i),
                ValueRef::Real(f) => R::Real(f),
                ValueRef::Text(t) => R::Text(t),
                ValueRef::Blob(b) => R::Blob(b),
            }),
        })
    }
}
