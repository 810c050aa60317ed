//! Storage URLs: `sqlite:PATH` (also `sqlite:///abs/path`) and
//! `postgres://user:password@host:port/db` (also `postgresql://`).

use std::path::PathBuf;

use super::rows::{redact, StudySummary};
use super::storage::Storage;
use crate::space::Space;
use crate::trial::Direction;
use crate::TunerError;

/// A parsed storage URL.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum StorageUrl {
    /// An SQLite file.
    Sqlite(PathBuf),
    /// A PostgreSQL server (the URL as given).
    Postgres(String),
}

impl StorageUrl {
    /// Parses a URL; a malformed one is refused with what the forms are.
    pub fn parse(url: &str) -> Result<Self, TunerError> {
        let bad = |reason: &str| TunerError::Storage {
            url: redact(url),
            reason: format!(
                "{reason}; a storage is sqlite:PATH or postgres://user:password@host:port/db"
            ),
        };
        if let Some(rest) = url.strip_prefix("sqlite:") {
            let path = rest.strip_prefix("//").unwrap_or(rest);
            if path.is_empty() {
                return Err(bad("no file after sqlite:"));
            }
            return Ok(StorageUrl::Sqlite(PathBuf::from(path)));
        }
        if url.starts_with("postgres://") || url.starts_with("postgresql://") {
            #[cfg(feature = "postgres")]
            {
                url.parse::<postgres::Config>()
                    .map_err(|e| bad(&format!("malformed PostgreSQL URL ({e})")))?;
            }
            return Ok(StorageUrl::Postgres(url.to_string()));
        }
        Err(bad("unknown kind of storage"))
    }
}

/// Opens study `name` in the storage at `url`: with `create` (space and directions), a study
/// that does not exist is created and one that exists must match; without, it must exist.
pub fn open_storage(
    url: &str,
    name: &str,
    create: Option<(&Space, &[Direction])>,
) -> Result<Box<dyn Storage>, TunerError> {
    match StorageUrl::parse(url)? {
        #[cfg(feature = "sqlite")]
        StorageUrl::Sqlite(path) => Ok(Box::new(super::SqliteStorage::open(&path, name, create)?)),
        #[cfg(feature = "postgres")]
        StorageUrl::Postgres(u) => Ok(Box::new(super::PostgresStorage::open(&u, name, create)?)),
        #[allow(unreachable_patterns)]
        _ => Err(TunerError::Storage {
            url: redact(url),
            reason: "this build of nasbo has no support for this kind of storage".into(),
        }),
    }
}

/// The studies in the storage at `url`.
pub fn list_studies(url: &str) -> Result<Vec<StudySummary>, TunerError> {
    match StorageUrl::parse(url)? {
        #[cfg(feature = "sqlite")]
        StorageUrl::Sqlite(path) => super::SqliteStorage::studies(&path),
        #[cfg(feature = "postgres")]
        StorageUrl::Postgres(u) => super::PostgresStorage::studies(&u),
        #[allow(unreachable_patterns)]
        _ => Err(TunerError::Storage {
            url: redact(url),
            reason: "this build of nasbo has no support for this kind of storage".into(),
        }),
    }
}

/// For tests against a real PostgreSQL server: the URL in `NASBO_TEST_POSTGRES`, or `None`
/// with a note on standard error that the test is skipped and why (`.ci/run` starts a
/// throw-away server and sets the variable).
pub fn test_postgres_url() -> Option<String> {
    match std::env::var("NASBO_TEST_POSTGRES") {
        Ok(u) if !u.is_empty() => Some(u),
        _ => {
            eprintln!(
                "PostgreSQL test skipped: NASBO_TEST_POSTGRES is not set (.ci/run starts a \
                 throw-away server and sets it)"
            );
            None
        }
    }
}

/// A study name no other run uses (`prefix`, the process id and the time), for tests that
/// share a storage.
pub fn unique_study_name(prefix: &str) -> String {
    let nanos = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_nanos())
        .unwrap_or(0);
    format!("{prefix}-{}-{nanos}", std::process::id())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn urls_parse_or_say_what_is_wrong() {
        assert_eq!(
            StorageUrl::parse("sqlite:runs/a.db").unwrap(),
            StorageUrl::Sqlite("runs/a.db".into())
        );
        assert_eq!(
            StorageUrl::parse("sqlite:///tmp/a.db").unwrap(),
            StorageUrl::Sqlite("/tmp/a.db".into())
        );
        assert!(matches!(
            StorageUrl::parse("postgresql://u:p@localhost:5432/db").unwrap(),
            StorageUrl::Postgres(_)
        ));
        for (url, msg) in [
            ("sqlite:", "no file after sqlite:"),
            ("mysql://u@h/db", "unknown kind of storage"),
            ("trials.db", "unknown kind of storage"),
            (
                "postgres://u:secret@h:notaport/db",
                "malformed PostgreSQL URL",
            ),
        ] {
            let e = StorageUrl::parse(url).unwrap_err().to_string();
            assert!(e.contains(msg), "{url}: {e}");
            assert!(!e.contains("secret"), "the password is shown: {e}");
        }
    }
}
