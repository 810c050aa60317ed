//! [`SqliteStorage`]: studies in an SQLite file (`sqlite:PATH`), shared by every process on
//! the machine. WAL journal, `synchronous = FULL`: a committed tell survives a crash of the
//! process and of the machine. Proposals are serialized by a lock file beside the database
//! (`PATH.nasbo-lock`, an advisory `flock` the kernel releases when a process dies), taken
//! while the strategy chooses from a snapshot of the trials; the insert or claim is then one
//! short write transaction (`BEGIN IMMEDIATE`) that checks the trial limit and the queued
//! state again, so no write transaction waits on a proposal. Every time stored is the
//! kernel's real-time clock ([`machine_now`]), which every process sharing the file shares:
//! a process whose C library reports another time (libfaketime, a clock emulation) neither
//! writes heartbeats in the future nor takes live trials for lost.

use std::path::{Path, PathBuf};
use std::time::{Duration, SystemTime};

use rusqlite::{params, Connection, OptionalExtension, TransactionBehavior};

use super::rows::{
    check_same, directions_json, migrations_to_run, parse_directions, space_json, to_secs,
    worker_name, Dialect, StudySummary, TrialRow,
};
use super::storage::{
    check_finite, check_import, check_report, finished, poll_lock, reported, requeue_note,
    reserve_gave_up, silent, Finish, Import, Imported, Lease, Request, Reservation, Running,
    Storage, StudyRecord, PROPOSAL_LOCK_WAIT, RESERVE_TRIES,
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

/// The machine's real-time clock in seconds since the Unix epoch, read from the kernel by a
/// direct system call (on Linux; elsewhere the C library's clock): the one clock all the
/// processes on the file share, whatever time their C library is made to report.
pub(crate) fn machine_now() -> f64 {
    #[cfg(target_os = "linux")]
    {
        let mut ts = libc::timespec {
            tv_sec: 0,
            tv_nsec: 0,
        };
        // SAFETY: clock_gettime writes one timespec into the struct we own.
        let r = unsafe {
            libc::syscall(
                libc::SYS_clock_gettime,
                libc::CLOCK_REALTIME,
                &mut ts as *mut libc::timespec,
            )
        };
        if r == 0 {
            return ts.tv_sec as f64 + ts.tv_nsec as f64 * 1e-9;
        }
    }
    to_secs(SystemTime::now())
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
                    params![name, space_json(space), directions_json(directions), machine_now()],
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

    /// The lock file that serializes proposals.
    fn lock_path(&self) -> PathBuf {
        let mut p = self.path().into_os_string();
        p.push(".nasbo-lock");
        PathBuf::from(p)
    }

    /// Takes the proposal lock (waiting at most [`PROPOSAL_LOCK_WAIT`]); `None` when the
    /// wait ran out and the proposal goes ahead without it.
    fn proposal_lock(&self) -> Result<Option<std::fs::File>, TunerError> {
        let path = self.lock_path();
        let file = std::fs::OpenOptions::new()
            .create(true)
            .truncate(false)
            .write(true)
            .open(&path)
            .map_err(|source| TunerError::Io {
                path: path.display().to_string(),
                source,
            })?;
        let taken = poll_lock(PROPOSAL_LOCK_WAIT, || match file.try_lock() {
            Ok(()) => Ok(true),
            Err(std::fs::TryLockError::WouldBlock) => Ok(false),
            Err(std::fs::TryLockError::Error(source)) => Err(TunerError::Io {
                path: path.display().to_string(),
                source,
            }),
        })?;
        Ok(taken.then_some(file))
    }

    /// The state and lease token of trial `number`, if it exists.
    fn stored(&self, number: usize) -> Result<Option<(TrialState, u64)>, TunerError> {
        let row: Option<(String, i64)> = self
            .conn
            .query_row(
                "SELECT state, attempts FROM nasbo_trials WHERE study_id = ?1 AND number = ?2",
                params![self.id, number as i64],
                |r| Ok((r.get(0)?, r.get(1)?)),
            )
            .optional()
            .map_err(|e| err(&self.url, e))?;
        Ok(row.map(|(s, a)| {
            (
                TrialState::parse(&s).unwrap_or(TrialState::Failed),
                a.max(0) as u64,
            )
        }))
    }

    /// One try of a reservation: `Ok(None)` at the limit, `Err(None)` when the queued trial
    /// chosen was claimed by another worker first (try again).
    #[allow(clippy::type_complexity)]
    fn try_reserve(
        &mut self,
        request: &Request,
        choose: &mut dyn FnMut(&[Trial]) -> Result<Reservation, TunerError>,
    ) -> Result<Option<(Trial, Lease)>, Option<TunerError>> {
        let url = self.url.clone();
        let trials = {
            let tx =
                rusqlite::Transaction::new_unchecked(&self.conn, TransactionBehavior::Deferred)
                    .map_err(|e| err(&url, e))?;
            let t = self.read_trials(&tx)?;
            tx.commit().map_err(|e| err(&url, e))?;
            t
        };
        let choice = choose(&trials)?;
        if let Reservation::Claim(n) = &choice {
            if trials.get(*n).is_none_or(|t| t.state != TrialState::Queued) {
                return Err(Some(TunerError::InvalidTrial {
                    trial: *n,
                    reason: "not queued".into(),
                }));
            }
        }
        let tx = rusqlite::Transaction::new_unchecked(&self.conn, TransactionBehavior::Immediate)
            .map_err(|e| err(&url, e))?;
        let now = machine_now();
        let hb = request.heartbeat.map(|h| h.as_secs_f64());
        let set_running = "UPDATE nasbo_trials SET state = 'running', started_at = ?3, worker = ?4, heartbeat_at = ?3,
                    heartbeat_s = ?5, attempts = attempts + 1
             WHERE study_id = ?1 AND number = ?2";
        let (count, counted): (i64, i64) = tx
            .query_row(
                "SELECT count(*), coalesce(sum(source != 'warm-start'), 0) FROM nasbo_trials WHERE study_id = ?1",
                params![self.id],
                |r| Ok((r.get(0)?, r.get(1)?)),
            )
            .map_err(|e| err(&url, e))?;
        let mut trial = match choice.resolve(count as usize) {
            Ok(t) => {
                if request.limit.is_some_and(|l| counted as usize >= l) {
                    let queued: i64 = tx
                        .query_row(
                            "SELECT count(*) FROM nasbo_trials WHERE study_id = ?1 AND state = 'queued'",
                            params![self.id],
                            |r| r.get(0),
                        )
                        .map_err(|e| err(&url, e))?;
                    // A trial queued since the snapshot is claimed on the next try.
                    return if queued > 0 { Err(None) } else { Ok(None) };
                }
                let row = TrialRow::of(&t, &url)?;
                insert_trial(&tx, self.id, &row).map_err(|e| err(&url, e))?;
                tx.execute(
                    set_running,
                    params![self.id, t.number as i64, now, self.worker, hb],
                )
                .map_err(|e| err(&url, e))?;
                t
            }
            Err(n) => {
                let changed = tx
                    .execute(
                        &format!("{set_running} AND state = 'queued'"),
                        params![self.id, n as i64, now, self.worker, hb],
                    )
                    .map_err(|e| err(&url, e))?;
                if changed == 0 {
                    return Err(None);
                }
                tx.execute(
                    "DELETE FROM nasbo_reports WHERE study_id = ?1 AND number = ?2",
                    params![self.id, n as i64],
                )
                .map_err(|e| err(&url, e))?;
                trials[n].clone()
            }
        };
        let token: i64 = tx
            .query_row(
                "SELECT attempts FROM nasbo_trials WHERE study_id = ?1 AND number = ?2",
                params![self.id, trial.number as i64],
                |r| r.get(0),
            )
            .map_err(|e| err(&url, e))?;
        tx.commit().map_err(|e| err(&url, e))?;
        trial.state = TrialState::Running;
        trial.started_at = Some(super::rows::from_secs(now));
        trial.intermediate.clear();
        let lease = Lease {
            number: trial.number,
            token: token.max(0) as u64,
        };
        Ok(Some((trial, lease)))
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

fn insert_trial(tx: &Connection, id: i64, x: &TrialRow) -> rusqlite::Result<usize> {
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
        request: &Request,
        choose: &mut dyn FnMut(&[Trial]) -> Result<Reservation, TunerError>,
    ) -> Result<Option<(Trial, Lease)>, TunerError> {
        // Held until the reservation is stored; released when the file closes.
        let _lock = self.proposal_lock()?;
        for _ in 0..RESERVE_TRIES {
            match self.try_reserve(request, choose) {
                Ok(r) => return Ok(r),
                Err(Some(e)) => return Err(e),
                Err(None) => continue,
            }
        }
        Err(reserve_gave_up(&self.url))
    }

    fn finish(&mut self, f: &Finish) -> Result<(), TunerError> {
        let url = &self.url;
        check_finite(f.number, &f.values, &f.metrics)?;
        let (values, metrics) = TrialRow::result_json(f.number, &f.values, &f.metrics, url)?;
        // An interruption gives the trial back: no heartbeat of this worker takes it again.
        let changed = self
            .conn
            .execute(
                "UPDATE nasbo_trials SET state = ?3, vals = ?4, metrics = ?5, error = ?6, finished_at = ?7,
                        worker = CASE WHEN ?3 = 'queued' THEN NULL ELSE worker END
                 WHERE study_id = ?1 AND number = ?2 AND state IN ('running', 'queued')
                   AND (?8 IS NULL OR attempts = ?8)",
                params![
                    self.id,
                    f.number as i64,
                    f.state.name(),
                    values,
                    metrics,
                    f.error,
                    f.finished_at.map(|_| machine_now()),
                    f.token.map(|t| t as i64),
                ],
            )
            .map_err(|e| err(url, e))?;
        finished(changed as u64, f, || self.stored(f.number))
    }

    fn report(
        &mut self,
        number: usize,
        token: Option<u64>,
        step: u64,
        value: f64,
    ) -> Result<(), TunerError> {
        check_report(number, step, value)?;
        let changed = self
            .conn
            .execute(
                "INSERT OR REPLACE INTO nasbo_reports (study_id, number, step, value)
                 SELECT ?1, ?2, ?3, ?4 WHERE EXISTS
                   (SELECT 1 FROM nasbo_trials WHERE study_id = ?1 AND number = ?2 AND state = 'running'
                      AND (?5 IS NULL OR attempts = ?5))",
                params![
                    self.id,
                    number as i64,
                    step as i64,
                    value,
                    token.map(|t| t as i64)
                ],
            )
            .map_err(|e| err(&self.url, e))?;
        reported(changed as u64, number, token, || self.stored(number))
    }

    fn heartbeat(&mut self, leases: &[Lease]) -> Result<Vec<Lease>, TunerError> {
        if leases.is_empty() {
            return Ok(Vec::new());
        }
        let now = machine_now();
        let tx = rusqlite::Transaction::new_unchecked(&self.conn, TransactionBehavior::Immediate)
            .map_err(|e| err(&self.url, e))?;
        let mut lost = Vec::new();
        for l in leases {
            let changed = tx
                .execute(
                    "UPDATE nasbo_trials SET heartbeat_at = ?3, state = 'running'
                     WHERE study_id = ?1 AND number = ?2 AND attempts = ?4 AND worker = ?5
                       AND state IN ('running', 'queued')",
                    params![self.id, l.number as i64, now, l.token as i64, self.worker],
                )
                .map_err(|e| err(&self.url, e))?;
            if changed == 0 {
                lost.push(*l);
            }
        }
        tx.commit().map_err(|e| err(&self.url, e))?;
        Ok(lost)
    }

    fn requeue_lost(&mut self) -> Result<Vec<usize>, TunerError> {
        let url = self.url.clone();
        let now = machine_now();
        // Read first, outside any write transaction: most calls find nothing to do.
        let running: Vec<Running> = {
            let mut s = self
                .conn
                .prepare_cached(
                    "SELECT number, attempts, heartbeat_at, heartbeat_s, error FROM nasbo_trials
                     WHERE study_id = ?1 AND state = 'running' AND heartbeat_s IS NOT NULL
                       AND heartbeat_at IS NOT NULL AND (worker IS NULL OR worker != ?2)",
                )
                .map_err(|e| err(&url, e))?;
            let rows = s
                .query_map(params![self.id, self.worker], |r| {
                    let beat: f64 = r.get(2)?;
                    Ok(Running {
                        number: r.get::<_, i64>(0)?.max(0) as usize,
                        token: r.get::<_, i64>(1)?.max(0) as u64,
                        beat,
                        interval: r.get(3)?,
                        silent: now - beat,
                        error: r.get(4)?,
                    })
                })
                .map_err(|e| err(&url, e))?
                .collect::<Result<_, _>>()
                .map_err(|e| err(&url, e))?;
            rows
        };
        let lost = silent(running);
        if lost.is_empty() {
            return Ok(Vec::new());
        }
        let tx = rusqlite::Transaction::new_unchecked(&self.conn, TransactionBehavior::Immediate)
            .map_err(|e| err(&url, e))?;
        let mut numbers = Vec::new();
        for r in &lost {
            let why = format!("worker lost (no heartbeat for {:.0} s)", r.silent);
            let (state, note) = requeue_note(r.error.as_deref(), r.token as u32, &why);
            let finished = (state == TrialState::Failed).then_some(now);
            // Only if nothing changed since it was read (a heartbeat or a finish in between).
            let changed = tx
                .execute(
                    "UPDATE nasbo_trials SET state = ?3, error = ?4, finished_at = ?5
                     WHERE study_id = ?1 AND number = ?2 AND state = 'running' AND attempts = ?6
                       AND heartbeat_at = ?7",
                    params![
                        self.id,
                        r.number as i64,
                        state.name(),
                        note,
                        finished,
                        r.token as i64,
                        r.beat
                    ],
                )
                .map_err(|e| err(&url, e))?;
            if changed == 1 {
                numbers.push(r.number);
            }
        }
        tx.commit().map_err(|e| err(&url, e))?;
        Ok(numbers)
    }

    fn connect_again(&self) -> Option<Result<Box<dyn Storage>, TunerError>> {
        Some(
            SqliteStorage::open(&self.path(), &self.record.name, None).map(|mut s| {
                s.worker = self.worker.clone();
                Box::new(s) as Box<dyn Storage>
            }),
        )
    }

    fn import(&mut self, import: Import) -> Result<Imported, TunerError> {
        let url = self.url.clone();
        for t in &import.trials {
            check_import(t)?;
        }
        let rows = import
            .trials
            .iter()
            .map(|t| TrialRow::of(t, &url))
            .collect::<Result<Vec<_>, _>>()?;
        let tx = rusqlite::Transaction::new_unchecked(&self.conn, TransactionBehavior::Immediate)
            .map_err(|e| err(&url, e))?;
        let key = import
            .key
            .as_ref()
            .map(|k| format!("import:{}:{k}", self.id));
        if let Some(k) = &key {
            let done: i64 = tx
                .query_row(
                    "SELECT count(*) FROM nasbo_meta WHERE key = ?1",
                    params![k],
                    |r| r.get(0),
                )
                .map_err(|e| err(&url, e))?;
            if done > 0 {
                return Ok(Imported::Already);
            }
        }
        let start: i64 = tx
            .query_row(
                "SELECT count(*) FROM nasbo_trials WHERE study_id = ?1",
                params![self.id],
                |r| r.get(0),
            )
            .map_err(|e| err(&url, e))?;
        if import.into_empty && start > 0 {
            return Err(TunerError::NotEmpty {
                study: self.record.name.clone(),
                trials: start as usize,
            });
        }
        let mut numbers = Vec::with_capacity(rows.len());
        for (i, (mut row, t)) in rows.into_iter().zip(&import.trials).enumerate() {
            let number = start + i as i64;
            row.number = number;
            insert_trial(&tx, self.id, &row).map_err(|e| err(&url, e))?;
            for (step, v) in &t.intermediate {
                tx.execute(
                    "INSERT OR REPLACE INTO nasbo_reports (study_id, number, step, value) VALUES (?1, ?2, ?3, ?4)",
                    params![self.id, number, *step as i64, v],
                )
                .map_err(|e| err(&url, e))?;
            }
            numbers.push(number as usize);
        }
        if let Some(k) = &key {
            tx.execute(
                "INSERT INTO nasbo_meta (key, value) VALUES (?1, ?2)",
                params![k, machine_now().to_string()],
            )
            .map_err(|e| err(&url, e))?;
        }
        tx.commit().map_err(|e| err(&url, e))?;
        Ok(Imported::Added(numbers))
    }
}
