//! What the database storages share: how a trial's fields are written into columns and read
//! back, the worker's name, and the list of a storage's studies.

use std::collections::BTreeMap;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use crate::space::{Assignment, Space};
use crate::trial::{Direction, Source, Trial, TrialState};
use crate::TunerError;

/// A study in a storage, with its trials counted by state.
#[derive(Clone, Debug, PartialEq)]
pub struct StudySummary {
    /// Its name.
    pub name: String,
    /// Its directions.
    pub directions: Vec<Direction>,
    /// Trials by state name (`complete`, `failed`, ...), states without trials left out.
    pub counts: BTreeMap<String, usize>,
}

/// The version of the schema this build writes. Each database records its own; an older one
/// is migrated when opened, a newer one refused.
pub const SCHEMA_VERSION: i64 = 1;

/// The SQL dialects of the database storages.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Dialect {
    Sqlite,
    Postgres,
}

/// The schema, one entry per version: entry `k` brings a database from version `k` to
/// `k + 1`. The same tables in both dialects, prefixed `nasbo_` so that a database may hold
/// others.
pub(crate) fn migrations(dialect: Dialect) -> Vec<String> {
    let (int, real, id) = match dialect {
        Dialect::Sqlite => ("INTEGER", "REAL", "INTEGER PRIMARY KEY"),
        Dialect::Postgres => ("BIGINT", "DOUBLE PRECISION", "BIGSERIAL PRIMARY KEY"),
    };
    vec![format!(
        "CREATE TABLE nasbo_meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);
CREATE TABLE nasbo_studies (
    id {id},
    name TEXT NOT NULL UNIQUE,
    space TEXT NOT NULL,
    directions TEXT NOT NULL,
    created_at {real} NOT NULL
);
CREATE TABLE nasbo_trials (
    study_id {int} NOT NULL REFERENCES nasbo_studies(id),
    number {int} NOT NULL,
    state TEXT NOT NULL,
    params TEXT NOT NULL,
    vals TEXT NOT NULL,
    metrics TEXT NOT NULL,
    source TEXT NOT NULL,
    started_at {real},
    finished_at {real},
    suggest_s {real} NOT NULL,
    error TEXT,
    strategy_state TEXT,
    worker TEXT,
    heartbeat_at {real},
    heartbeat_s {real},
    attempts {int} NOT NULL DEFAULT 0,
    PRIMARY KEY (study_id, number)
);
CREATE TABLE nasbo_reports (
    study_id {int} NOT NULL,
    number {int} NOT NULL,
    step {int} NOT NULL,
    value {real} NOT NULL,
    PRIMARY KEY (study_id, number, step)
);"
    )]
}

/// The migrations a database at schema `version` needs, each with the version it brings the
/// database to; a database newer than this build is refused.
pub(crate) fn migrations_to_run(
    version: i64,
    dialect: Dialect,
    url: &str,
) -> Result<Vec<(i64, String)>, TunerError> {
    if version > SCHEMA_VERSION {
        return Err(TunerError::Storage {
            url: redact(url),
            reason: format!(
                "schema version {version} is newer than this nasbo's ({SCHEMA_VERSION}): upgrade nasbo"
            ),
        });
    }
    Ok(migrations(dialect)
        .into_iter()
        .enumerate()
        .skip(version.max(0) as usize)
        .map(|(k, m)| (k as i64 + 1, m))
        .collect())
}

/// Seconds since the Unix epoch.
pub(crate) fn to_secs(t: SystemTime) -> f64 {
    t.duration_since(UNIX_EPOCH)
        .map(|d| d.as_secs_f64())
        .unwrap_or(0.0)
}

pub(crate) fn from_secs(s: f64) -> SystemTime {
    UNIX_EPOCH + Duration::from_secs_f64(s.max(0.0))
}

/// This process's name for its leases: host, process id and a random tag.
pub(crate) fn worker_name() -> String {
    let mut buf = [0u8; 256];
    // SAFETY: gethostname writes at most `len` bytes into the buffer we own.
    let host = unsafe {
        if libc::gethostname(buf.as_mut_ptr().cast(), buf.len()) == 0 {
            let end = buf.iter().position(|&b| b == 0).unwrap_or(buf.len());
            String::from_utf8_lossy(&buf[..end]).into_owned()
        } else {
            "host".into()
        }
    };
    let tag: u32 = rand::random();
    format!("{host}:{}:{tag:08x}", std::process::id())
}

pub(crate) fn directions_json(ds: &[Direction]) -> String {
    serde_json::to_string(&ds.iter().map(|d| d.name()).collect::<Vec<_>>()).unwrap_or_default()
}

pub(crate) fn parse_directions(text: &str) -> Option<Vec<Direction>> {
    let names: Vec<String> = serde_json::from_str(text).ok()?;
    names.iter().map(|n| Direction::parse(n)).collect()
}

pub(crate) fn space_json(space: &Space) -> String {
    serde_json::to_string(space).unwrap_or_default()
}

/// A trial's columns in a database, as written and read.
pub(crate) struct TrialRow {
    pub number: i64,
    pub state: String,
    pub params: String,
    pub values: String,
    pub metrics: String,
    pub source: String,
    pub started_at: Option<f64>,
    pub finished_at: Option<f64>,
    pub suggest_s: f64,
    pub error: Option<String>,
    pub strategy_state: Option<String>,
}

impl TrialRow {
    /// The columns of `t`; a value that cannot be written is an error naming the trial.
    pub(crate) fn of(t: &Trial, url: &str) -> Result<Self, TunerError> {
        let json = |what: &str, r: serde_json::Result<String>| {
            r.map_err(|e| TunerError::Storage {
                url: redact(url),
                reason: format!("trial {}: its {what} cannot be written: {e}", t.number),
            })
        };
        Ok(TrialRow {
            number: t.number as i64,
            state: t.state.name().to_string(),
            params: json("parameters", serde_json::to_string(&t.params))?,
            values: json("values", serde_json::to_string(&t.values))?,
            metrics: json("metrics", serde_json::to_string(&t.metrics))?,
            source: t.source.text(),
            started_at: t.started_at.map(to_secs),
            finished_at: t.finished_at.map(to_secs),
            suggest_s: t.suggest_s,
            error: t.error.clone(),
            strategy_state: t.strategy_state.clone(),
        })
    }

    /// A finish's values and metrics as written.
    pub(crate) fn result_json(
        number: usize,
        values: &[f64],
        metrics: &[(String, f64)],
        url: &str,
    ) -> Result<(String, String), TunerError> {
        let bad = |e: serde_json::Error| TunerError::Storage {
            url: redact(url),
            reason: format!("trial {number}: its result cannot be written: {e}"),
        };
        Ok((
            serde_json::to_string(values).map_err(bad)?,
            serde_json::to_string(metrics).map_err(bad)?,
        ))
    }

    pub(crate) fn into_trial(self, space: &Space, url: &str) -> Result<Trial, TunerError> {
        let bad = |what: &str| TunerError::Storage {
            url: url.to_string(),
            reason: format!("trial {}: its {what} cannot be read", self.number),
        };
        let params: Assignment =
            serde_json::from_str(&self.params).map_err(|_| bad("parameters"))?;
        if params.len() != space.len() {
            return Err(bad("parameters"));
        }
        Ok(Trial {
            number: usize::try_from(self.number).map_err(|_| bad("number"))?,
            state: TrialState::parse(&self.state).ok_or_else(|| bad("state"))?,
            params,
            values: serde_json::from_str(&self.values).map_err(|_| bad("values"))?,
            metrics: serde_json::from_str(&self.metrics).map_err(|_| bad("metrics"))?,
            intermediate: Vec::new(),
            source: Source::parse(&self.source).ok_or_else(|| bad("source"))?,
            started_at: self.started_at.map(from_secs),
            finished_at: self.finished_at.map(from_secs),
            suggest_s: self.suggest_s,
            error: self.error,
            strategy_state: self.strategy_state,
        })
    }
}

/// `url` with its password replaced by `***`.
pub fn redact(url: &str) -> String {
    match (url.find("://"), url.rfind('@')) {
        (Some(s), Some(at)) if at > s => {
            let creds = &url[s + 3..at];
            match creds.find(':') {
                Some(c) => format!("{}{}:***{}", &url[..s + 3], &creds[..c], &url[at..]),
                None => url.to_string(),
            }
        }
        _ => url.to_string(),
    }
}

/// Checks that a stored study's definition is the one given.
pub(crate) fn check_same(
    name: &str,
    stored_space: &Space,
    stored_dirs: &[Direction],
    space: &Space,
    dirs: &[Direction],
) -> Result<(), TunerError> {
    if stored_dirs != dirs {
        return Err(TunerError::StudyMismatch {
            name: name.into(),
            reason: format!(
                "it is stored with direction {}, not {}: use the stored direction, or another study name",
                names(stored_dirs),
                names(dirs)
            ),
        });
    }
    if stored_space != space {
        let what = describe_difference(stored_space, space);
        return Err(TunerError::StudyMismatch {
            name: name.into(),
            reason: format!(
                "its stored space differs from the one given ({what}): use the stored space, or another study name"
            ),
        });
    }
    Ok(())
}

fn names(ds: &[Direction]) -> String {
    ds.iter().map(|d| d.name()).collect::<Vec<_>>().join(", ")
}

fn describe_difference(a: &Space, b: &Space) -> String {
    let an: Vec<&str> = a.params().iter().map(|p| p.name.as_str()).collect();
    let bn: Vec<&str> = b.params().iter().map(|p| p.name.as_str()).collect();
    if an != bn {
        return format!(
            "stored parameters {}, given {}",
            an.join(", "),
            bn.join(", ")
        );
    }
    for (p, q) in a.params().iter().zip(b.params()) {
        if p != q {
            return format!("parameter `{}` is defined differently", p.name);
        }
    }
    "they differ".into()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn passwords_are_hidden() {
        assert_eq!(
            redact("postgres://nasbo:s3cret@db.example:5432/studies"),
            "postgres://nasbo:***@db.example:5432/studies"
        );
        assert_eq!(redact("postgres://nasbo@db/x"), "postgres://nasbo@db/x");
        assert_eq!(redact("sqlite:/tmp/a@b.db"), "sqlite:/tmp/a@b.db");
    }
}
