//! [`SqliteStorage`]: studies in an SQLite file (`sqlite:PATH`), shared by every process on
//! the machine. WAL journal, `synchronous = FULL`: a committed tell survives a crash of the
//! process and of the machine. A reservation holds the database's write lock (`BEGIN
//! IMMEDIATE`) while the strategy chooses, so workers reserve one at a time and each sees the
//! others' pending trials.

use std::path::{Path, PathBuf};
use std::time::{Duration, SystemTime};

use rusqlite::{params, Connection, OptionalExtension, TransactionBehavior};

use super::rows::{
    check_same, directions_json, migrations_to_run, parse_directions, space_json, to_secs,
    worker_name, Dialect, StudySummary, TrialRow,
};
use super::storage::{
    finished, reported, requeue_note, Finish, Reservation, Storage, StudyRecord,
    STALE_AFTER_HEARTBEATS,
};
use crate::space::Space;
use crate::trial::{Direction, Trial, TrialState};
use crate::TunerError;

/// A study in an SQLite database.
pub struct SqliteStorage {
    conn: Connection,
    url: String,
    id: i64,
    record: StudyRecord,
    worker: String,
}

fn err(url: &str, e: impl std::fmt::Display) -> TunerError {
    TunerError::Storage {
        url: url.to_string(),
        reason: e.to_string(),
    }
}

fn connect(path: &Path, url: &str, create: bool) -> Result<Connection, TunerError> {
    if !create && !path.exists() {
        return Err(err(url, "no such file"));
    }
    let conn = Connection::open(path).map_err(|e| err(url, e))?;
    conn.busy_timeout(Duration::from_secs(120))
        .map_err(|e| err(url, e))?;
    // The first read tells a database from another kind of file.
    let tables: Vec<String> = conn
        .prepare("SELECT name FROM sqlite_master WHERE type = 'table' ORDER BY name")
        .and_then(|mut s| {
            s.query_map([], |r| r.get(0))?
                .collect::<Result<Vec<String>, _>>()
        })
        .map_err(|e| match e.sqlite_error_code() {
            Some(rusqlite::ErrorCode::NotADatabase) => err(
                url,
                "the file is not an SQLite database (nor a nasbo study)",
            ),
            _ => err(url, e),
        })?;
    if !tables.is_empty() && !tables.iter().any(|t| t == "nasbo_meta") {
        return Err(err(
            url,
            format!(
                "the database is not a nasbo study database (its tables: {})",
                tables.join(", ")
            ),
        ));
    }
    set_wal(&conn, url)?;
    conn.pragma_update(None, "synchronous", "FULL")
        .map_err(|e| err(url, e))?;
    migrate(&conn, url)?;
    Ok(conn)
}

/// Puts the database in WAL mode, unless it is already. Switching the mode takes an exclusive
/// lock for which SQLite does not call the busy handler, so several workers opening a new
/// database at once retry here (for as long as the busy timeout) instead of failing with
/// "database is locked".
fn set_wal(conn: &Connection, url: &str) -> Result<(), TunerError> {
    let deadline = std::time::Instant::now() + Duration::from_secs(120);
    let mut wait = Duration::from_millis(5);
    loop {
        let attempt = conn
            .query_row("PRAGMA journal_mode", [], |r| r.get::<_, String>(0))
            .and_then(|mode| {
                if mode.eq_ignore_ascii_case("wal") {
                    Ok(())
                } else {
                    conn.pragma_update(None, "journal_mode", "WAL")
                }
            });
        match attempt {
            Ok(()) => return Ok(()),
            Err(e)
                if e.sqlite_error_code() == Some(rusqlite::ErrorCode::DatabaseBusy)
                    && std::time::Instant::now() < deadline =>
            {
                std::thread::sleep(wait);
                wait = (wait * 2).min(Duration::from_millis(200));
            }
            Err(e) => return Err(err(url, e)),
        }
    }
}

/// Brings the schema to [`super::SCHEMA_VERSION`] (creating it in an empty database).
fn migrate(conn: &Connection, url: &str) -> Result<(), TunerError> {
    let tx = rusqlite::Transaction::new_unchecked(conn, TransactionBehavior::Immediate)
        .map_err(|e| err(url, e))?;
    let has_meta: bool = tx
        .query_row(
            "SELECT count(*) FROM sqlite_master WHERE type = 'table' AND name = 'nasbo_meta'",
            [],
            |r| r.get::<_, i64>(0),
        )
        .map_err(|e| err(url, e))?
        > 0;
    let version: i64 = if has_meta {
        tx.query_row(
            "SELECT value FROM nasbo_meta WHERE key = 'schema_version'",
            [],
            |r| r.get::<_, String>(0),
        )
        .optional()
        .map_err(|e| err(url, e))?
        .and_then(|v| v.parse().ok())
        .ok_or_else(|| err(url, "the database has no readable schema version"))?
    } else {
        0
    };
    for (to, m) in migrations_to_run(version, Dialect::Sqlite, url)? {
        tx.execute_batch(&m)
            .map_err(|e| err(url, format!("migration to schema version {to}: {e}")))?;
        tx.execute(
            "INSERT OR REPLACE INTO nasbo_meta (key, value) VALUES ('schema_version', ?1)",
            params![to.to_string()],
        )
        .map_err(|e| err(url, e))?;
    }
    tx.commit().map_err(|e| err(url, e))
}

fn read_studies(
    conn: &Connection,
    url: &str,
) -> Result<Vec<(i64, String, String, String)>, TunerError> {
    let mut s = conn
        .prepare("SELECT id, name, space, directions FROM nasbo_studies ORDER BY id")
        .map_err(|e| err(url, e))?;
    let rows = s
        .query_map([], |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?, r.get(3)?)))
        .map_err(|e| err(url, e))?
        .collect::<Result<Vec<_>, _>>()
        .map_err(|e| err(url, e))?;
    Ok(rows)
}

impl SqliteStorage {
    /// Opens study `name` in the database at `path`. With `create` (its space and
    /// directions), a study that does not exist is created (with the database), and one that
    /// exists must have that definition; without, the study must exist.
    pub fn open(
        path: &Path,
        name: &str,
        create: Option<(&Space, &[Direction])>,
    ) -> Result<Self, TunerError> {
        let url = format!("sqlite:{}", path.display());
        if name.is_empty() {
            return Err(err(&url, "a study needs a name"));
        }
        let conn = connect(path, &url, create.is_some())?;
        let tx = rusqlite::Transaction::new_unchecked(&conn, TransactionBehavior::Immediate)
            .map_err(|e| err(&url, e))?;
        let found: Option<(i64, String, String)> = tx
            .query_row(
                "SELECT id, space, directions FROM nasbo_studies WHERE name = ?1",
                params![name],
                |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)),
            )
            .optional()
            .map_err(|e| err(&url, e))?;
        let (id, record) = match (found, create) {
            (Some((id, space, dirs)), _) => {
                let space: Space = serde_json::from_str(&space)
                    .map_err(|e| err(&url, format!("study `{name}`: its space: {e}")))?;
                let directions = parse_directions(&dirs)
                    .ok_or_else(|| err(&url, format!("study `{name}`: its directions")))?;
                if let Some((s, d)) = create {
                    check_same(name, &space, &directions, s, d)?;
                }
                (
                    id,
                    StudyRecord {
                        name: name.into(),
                        space,
                        directions,
                    },
                )
            }
            (None, Some((space, directions))) => {
                space.check()?;
                tx.execute(
                    "INSERT INTO nasbo_studies (name, space, directions, created_at) VALUES (?1, ?2, ?3, ?4)",
                    params![name, space_json(space), directions_json(directions), to_secs(SystemTime::now())],
                )
                .map_err(|e| err(&url, e))?;
                (
                    tx.last_insert_rowid(),
                    StudyRecord {
                        name: name.into(),
                        space: space.clone(),
                        directions: directions.to_vec(),
                    },
                )
            }
            (None, None) => {
                let known = read_studies(&tx, &url)?.into_iter().map(|s| s.1).collect();
                return Err(TunerError::UnknownStudy {
                    name: name.into(),
                    url,
                    known,
                });
            }
        };
        tx.commit().map_err(|e| err(&url, e))?;
        Ok(SqliteStorage {
            conn,
            url,
            id,
            record,
            worker: worker_name(),
        })
    }

    /// The studies in the database at `path`, with their trials counted by state.
    pub fn studies(path: &Path) -> Result<Vec<StudySummary>, TunerError> {
        let url = format!("sqlite:{}", path.display());
        let conn = connect(path, &url, false)?;
        let mut out = Vec::new();
        for (id, name, _, dirs) in read_studies(&conn, &url)? {
            let mut s = conn
                .prepare(
                    "SELECT state, count(*) FROM nasbo_trials WHERE study_id = ?1 GROUP BY state",
                )
                .map_err(|e| err(&url, e))?;
            let counts = s
                .query_map(params![id], |r| {
                    Ok((r.get::<_, String>(0)?, r.get::<_, i64>(1)? as usize))
                })
                .map_err(|e| err(&url, e))?
                .collect::<Result<_, _>>()
                .map_err(|e| err(&url, e))?;
            out.push(StudySummary {
                name,
                directions: parse_directions(&dirs).unwrap_or_default(),
                counts,
            });
        }
        Ok(out)
    }

    /// The file this storage is in.
    pub fn path(&self) -> PathBuf {
        PathBuf::from(self.url.trim_start_matches("sqlite:"))
    }

    fn read_trials(&self, conn: &Connection) -> Result<Vec<Trial>, TunerError> {
        let url = &self.url;
        let mut s = conn
            .prepare_cached(
                "SELECT number, state, params, vals, metrics, source, started_at, finished_at, suggest_s, error, strategy_state
                 FROM nasbo_trials WHERE study_id = ?1 ORDER BY number",
            )
            .map_err(|e| err(url, e))?;
        let rows = s
            .query_map(params![self.id], |r| {
                Ok(TrialRow {
                    number: r.get(0)?,
                    state: r.get(1)?,
                    params: r.get(2)?,
                    values: r.get(3)?,
                    metrics: r.get(4)?,
                    source: r.get(5)?,
                    started_at: r.get(6)?,
                    finished_at: r.get(7)?,
                    suggest_s: r.get(8)?,
                    error: r.get(9)?,
                    strategy_state: r.get(10)?,
                })
            })
            .map_err(|e| err(url, e))?
            .collect::<Result<Vec<_>, _>>()
            .map_err(|e| err(url, e))?;
        let mut trials = rows
            .into_iter()
            .map(|r| r.into_trial(&self.record.space, url))
            .collect::<Result<Vec<_>, _>>()?;
        if trials.iter().enumerate().any(|(i, t)| t.number != i) {
            return Err(err(url, "the study's trials are not numbered 0, 1, 2, …"));
        }
        let mut s = conn
            .prepare_cached(
                "SELECT number, step, value FROM nasbo_reports WHERE study_id = ?1 ORDER BY number, step",
            )
            .map_err(|e| err(url, e))?;
        let reports = s
            .query_map(params![self.id], |r| {
                Ok((
                    r.get::<_, i64>(0)?,
                    r.get::<_, i64>(1)?,
                    r.get::<_, f64>(2)?,
                ))
            })
            .map_err(|e| err(url, e))?;
        for r in reports {
            let (n, step, value) = r.map_err(|e| err(url, e))?;
            if let Some(t) = trials.get_mut(n as usize) {
                t.intermediate.push((step as u64, value));
            }
        }
        Ok(trials)
    }
}

fn insert_trial(tx: &Connection, id: i64, t: &Trial) -> rusqlite::Result<usize> {
    let x = TrialRow::of(t);
    tx.execute(
        "INSERT INTO nasbo_trials (study_id, number, state, params, vals, metrics, source, started_at, finished_at, suggest_s, error, strategy_state)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12)",
        params![id, x.number, x.state, x.params, x.values, x.metrics, x.source, x.started_at, x.finished_at, x.suggest_s, x.error, x.strategy_state],
    )
}

impl Storage for SqliteStorage {
    fn shared(&self) -> bool {
        true
    }
    fn study(&self) -> &StudyRecord {
        &self.record
    }

    fn trials(&mut self) -> Result<Vec<Trial>, TunerError> {
        self.read_trials(&self.conn)
    }

    fn reserve(
        &mut self,
        heartbeat: Option<Duration>,
        choose: &mut dyn FnMut(&[Trial]) -> Result<Reservation, TunerError>,
    ) -> Result<Trial, TunerError> {
        let url = self.url.clone();
        let tx = rusqlite::Transaction::new_unchecked(&self.conn, TransactionBehavior::Immediate)
            .map_err(|e| err(&url, e))?;
        let trials = self.read_trials(&tx)?;
        let now = to_secs(SystemTime::now());
        let hb = heartbeat.map(|h| h.as_secs_f64());
        let mut trial = match choose(&trials)?.resolve(trials.len()) {
            Ok(t) => {
                insert_trial(&tx, self.id, &t).map_err(|e| err(&url, e))?;
                t
            }
            Err(n) => {
                let Some(t) = trials.get(n).filter(|t| t.state == TrialState::Queued) else {
                    return Err(TunerError::InvalidTrial {
                        trial: n,
                        reason: "not queued".into(),
                    });
                };
                tx.execute(
                    "DELETE FROM nasbo_reports WHERE study_id = ?1 AND number = ?2",
                    params![self.id, n as i64],
                )
                .map_err(|e| err(&url, e))?;
                t.clone()
            }
        };
        let number = trial.number;
        tx.execute(
            "UPDATE nasbo_trials SET state = 'running', started_at = ?3, worker = ?4, heartbeat_at = ?3,
                    heartbeat_s = ?5, attempts = attempts + 1
             WHERE study_id = ?1 AND number = ?2",
            params![self.id, number as i64, now, self.worker, hb],
        )
        .map_err(|e| err(&url, e))?;
        tx.commit().map_err(|e| err(&url, e))?;
        trial.state = TrialState::Running;
        trial.started_at = Some(super::rows::from_secs(now));
        trial.intermediate.clear();
        Ok(trial)
    }

    fn finish(&mut self, f: &Finish) -> Result<(), TunerError> {
        let url = &self.url;
        let values = serde_json::to_string(&f.values).unwrap_or_default();
        let metrics = serde_json::to_string(&f.metrics).unwrap_or_default();
        let changed = self
            .conn
            .execute(
                "UPDATE nasbo_trials SET state = ?3, vals = ?4, metrics = ?5, error = ?6, finished_at = ?7
                 WHERE study_id = ?1 AND number = ?2 AND state IN ('running', 'queued')",
                params![
                    self.id,
                    f.number as i64,
                    f.state.name(),
                    values,
                    metrics,
                    f.error,
                    f.finished_at.map(to_secs)
                ],
            )
            .map_err(|e| err(url, e))?;
        finished(changed as u64, f, || self.read_trials(&self.conn))
    }

    fn report(&mut self, number: usize, step: u64, value: f64) -> Result<(), TunerError> {
        let changed = self
            .conn
            .execute(
                "INSERT OR REPLACE INTO nasbo_reports (study_id, number, step, value)
                 SELECT ?1, ?2, ?3, ?4 WHERE EXISTS
                   (SELECT 1 FROM nasbo_trials WHERE study_id = ?1 AND number = ?2 AND state = 'running')",
                params![self.id, number as i64, step as i64, value],
            )
            .map_err(|e| err(&self.url, e))?;
        reported(changed as u64, number)
    }

    fn heartbeat(&mut self, numbers: &[usize]) -> Result<(), TunerError> {
        let now = to_secs(SystemTime::now());
        let tx = rusqlite::Transaction::new_unchecked(&self.conn, TransactionBehavior::Immediate)
            .map_err(|e| err(&self.url, e))?;
        for &n in numbers {
            tx.execute(
                "UPDATE nasbo_trials SET heartbeat_at = ?3
                 WHERE study_id = ?1 AND number = ?2 AND worker = ?4 AND state = 'running'",
                params![self.id, n as i64, now, self.worker],
            )
            .map_err(|e| err(&self.url, e))?;
        }
        tx.commit().map_err(|e| err(&self.url, e))
    }

    fn requeue_lost(&mut self) -> Result<Vec<usize>, TunerError> {
        let url = self.url.clone();
        let now = to_secs(SystemTime::now());
        let tx = rusqlite::Transaction::new_unchecked(&self.conn, TransactionBehavior::Immediate)
            .map_err(|e| err(&url, e))?;
        let lost: Vec<(i64, Option<String>, i64, f64)> = {
            let mut s = tx
                .prepare(
                    "SELECT number, error, attempts, ?2 - heartbeat_at FROM nasbo_trials
                     WHERE study_id = ?1 AND state = 'running' AND heartbeat_s IS NOT NULL
                       AND ?2 - heartbeat_at > ?3 * heartbeat_s",
                )
                .map_err(|e| err(&url, e))?;
            let rows = s
                .query_map(params![self.id, now, STALE_AFTER_HEARTBEATS as f64], |r| {
                    Ok((r.get(0)?, r.get(1)?, r.get(2)?, r.get(3)?))
                })
                .map_err(|e| err(&url, e))?
                .collect::<Result<_, _>>()
                .map_err(|e| err(&url, e))?;
            rows
        };
        for (n, error, attempts, silent) in &lost {
            let why = format!("worker lost (no heartbeat for {silent:.0} s)");
            let (state, note) = requeue_note(error.as_deref(), *attempts as u32, &why);
            let finished = (state == TrialState::Failed).then_some(now);
            tx.execute(
                "UPDATE nasbo_trials SET state = ?3, error = ?4, finished_at = ?5
                 WHERE study_id = ?1 AND number = ?2",
                params![self.id, n, state.name(), note, finished],
            )
            .map_err(|e| err(&url, e))?;
        }
        tx.commit().map_err(|e| err(&url, e))?;
        Ok(lost.into_iter().map(|l| l.0 as usize).collect())
    }

    fn import(&mut self, trials: Vec<Trial>) -> Result<Vec<usize>, TunerError> {
        let url = self.url.clone();
        let tx = rusqlite::Transaction::new_unchecked(&self.conn, TransactionBehavior::Immediate)
            .map_err(|e| err(&url, e))?;
        let start: i64 = tx
            .query_row(
                "SELECT count(*) FROM nasbo_trials WHERE study_id = ?1",
                params![self.id],
                |r| r.get(0),
            )
            .map_err(|e| err(&url, e))?;
        let mut numbers = Vec::with_capacity(trials.len());
        for (i, mut t) in trials.into_iter().enumerate() {
            t.number = start as usize + i;
            insert_trial(&tx, self.id, &t).map_err(|e| err(&url, e))?;
            for (step, v) in &t.intermediate {
                tx.execute(
                    "INSERT OR REPLACE INTO nasbo_reports (study_id, number, step, value) VALUES (?1, ?2, ?3, ?4)",
                    params![self.id, t.number as i64, *step as i64, v],
                )
                .map_err(|e| err(&url, e))?;
            }
            numbers.push(t.number);
        }
        tx.commit().map_err(|e| err(&url, e))?;
        Ok(numbers)
    }
}
