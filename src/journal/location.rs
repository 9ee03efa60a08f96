//! Where a journal is: an SQLite file (the default, no server needed) or a PostgreSQL
//! database that several hosts share.

use super::db::PgTarget;
use std::path::PathBuf;

#[derive(Clone, Debug)]
pub enum Location {
    File(PathBuf),
    Postgres(PgTarget),
}

/// How flspost reaches a PostgreSQL journal, besides its URL (`[journal]` in the config).
#[derive(Clone, Debug, Default)]
pub struct PgAccess {
    /// The password, read from an environment variable or an owner-only file.
    pub password: Option<String>,
    /// TLS to the server, which must show a certificate this CA signed for its host name.
    pub ca_file: Option<PathBuf>,
}

impl Location {
    /// `postgresql://…` (or `postgres://…`) names a PostgreSQL journal; anything else is a
    /// file path. A password written into the URL is taken out of it (so it is never shown),
    /// and one from `access` wins over it.
    pub fn parse(text: &str, access: &PgAccess) -> Result<Location, String> {
        if !(text.starts_with("postgresql://") || text.starts_with("postgres://")) {
            return Ok(Location::File(PathBuf::from(text)));
        }
        let mut url = url::Url::parse(text).map_err(|e| format!("journal URL: {e}"))?;
        let in_url = url.password().map(|p| percent_encoding::percent_decode_str(p).decode_utf8_lossy().into_owned());
        let _ = url.set_password(None);
        if url.query_pairs().any(|(k, _)| k == "password") {
            return Err(
                "journal URL: a password goes in `[journal] password_env` or `password_file`, not the URL".into()
            );
        }
        Ok(Location::Postgres(PgTarget {
            url: url.to_string(),
            password: access.password.clone().or(in_url),
            ca_file: access.ca_file.clone(),
        }))
    }

    pub fn is_postgres(&self) -> bool {
        matches!(self, Location::Postgres(_))
    }
}

impl std::fmt::Display for Location {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Location::File(p) => write!(f, "{}", p.display()),
            Location::Postgres(t) => f.write_str(&t.url),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_password_in_the_url_is_never_shown() {
        let l = Location::parse("postgresql://flspost:s3cret@db1:5432/journal", &PgAccess::default()).unwrap();
        assert_eq!(l.to_string(), "postgresql://flspost@db1:5432/journal");
        let Location::Postgres(t) = l else { panic!() };
        assert_eq!(t.password.as_deref(), Some("s3cret"));
        assert!(matches!(Location::parse("state/journal.sqlite", &PgAccess::default()), Ok(Location::File(_))));
    }
}
