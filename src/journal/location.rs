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
    /// Plain text to a server on another host (`[journal] tls = false`): only when the
    /// network between them is protected otherwise.
    pub plaintext: bool,
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
        // Patients' data never crosses a network in plain text by omission.
        if access.ca_file.is_none() && !access.plaintext {
            let config: postgres::Config = url.as_str().parse().map_err(|e| format!("journal URL: {e}"))?;
            let remote = config.get_hosts().iter().any(|h| match h {
                postgres::config::Host::Tcp(name) => {
                    !matches!(name.as_str(), "localhost" | "127.0.0.1" | "::1" | "[::1]")
                }
                postgres::config::Host::Unix(_) => false,
            });
            if remote {
                return Err(format!(
                    "journal {url}: a database on another host is reached over TLS: set `[journal] ca_file` to the \
                     CA that signed its certificate (or `tls = false` where the network is protected otherwise)"
                ));
            }
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
        let l = Location::parse("postgresql://flspost:s3cret@localhost:5432/journal", &PgAccess::default()).unwrap();
        assert_eq!(l.to_string(), "postgresql://flspost@localhost:5432/journal");
        let Location::Postgres(t) = l else { panic!() };
        assert_eq!(t.password.as_deref(), Some("s3cret"));
        assert!(matches!(Location::parse("state/journal.sqlite", &PgAccess::default()), Ok(Location::File(_))));
    }

    #[test]
    fn a_database_on_another_host_needs_tls_unless_the_config_says_otherwise() {
        let none = PgAccess::default();
        let err = Location::parse("postgresql://flspost@db1.region.dk/flspost", &none).unwrap_err();
        assert!(err.contains("ca_file"), "{err}");
        for local in [
            "postgresql://flspost@localhost/j",
            "postgresql://flspost@127.0.0.1:5433/j",
            "postgresql:///j?host=/run/pg",
        ] {
            assert!(Location::parse(local, &none).is_ok(), "{local}");
        }
        let tls = PgAccess { ca_file: Some("/etc/flspost/ca.pem".into()), ..PgAccess::default() };
        assert!(Location::parse("postgresql://flspost@db1.region.dk/flspost", &tls).is_ok());
        let plain = PgAccess { plaintext: true, ..PgAccess::default() };
        assert!(Location::parse("postgresql://flspost@db1.region.dk/flspost", &plain).is_ok());
    }
}
