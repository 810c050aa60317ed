//! [`PostgresStorage`]: studies in a PostgreSQL database
//! (`postgres://user:password@host:port/db`), shared by workers on any number of machines.
//! The tables are prefixed `nasbo_`, so the database may hold others. A reservation locks the
//! study's row (`SELECT … FOR UPDATE`) while the strategy chooses, so workers reserve one at
//! a time and each sees the others' pending trials; the trial's number is also its primary
//! key. Connections time out after 5 s; TLS is not supported (use a tunnel or a private
//! network).

use std::time::{Duration, SystemTime};

use postgres::{Client, GenericClient, NoTls};

use super::rows::{
    check_same, directions_json, from_secs, migrations_to_run, parse_directions, redact,
    space_json, to_secs, worker_name, Dialect, StudySummary, TrialRow,
};
use super::storage::{
    finished, reported, requeue_note, Finish, Reservation, Storage, StudyRecord,
    STALE_AFTER_HEARTBEATS,
};
use crate::space::Space;
use crate::trial::{Direction, Trial, TrialState};
use crate::TunerError;

/// The advisory lock that serializes schema creation and migration.
const SCHEMA_LOCK: i64 = 0x6e61_7362_6f00;

/// A study in a PostgreSQL database.
pub struct PostgresStorage {
    client: Client,
    url: String,
    id: i64,
    record: StudyRecord,
    worker: String,
}

fn err(url: &str, e: impl std::fmt::Display) -> TunerError {
    TunerError::Storage {
        url: redact(url),
        reason: e.to_string(),
    }
}

/// A client error with the server's message when there is one.
fn pg_err(url: &str, e: postgres::Error) -> TunerError {
    let reason = match e.as_db_error() {
        Some(db) => format!("{}: {}", db.severity(), db.message()),
        None => {
            let mut m = e.to_string();
            let mut src = std::error::Error::source(&e);
            while let Some(s) = src {
                m = format!("{m}: {s}");
                src = s.source();
            }
            m
        }
    };
    err(url, reason)
}

fn connect(url: &str) -> Result<Client, TunerError> {
    let mut config: postgres::Config = url
        .parse()
        .map_err(|e| err(url, format!("malformed PostgreSQL URL ({e})")))?;
    config.connect_timeout(Duration::from_secs(5));
    config.keepalives(true);
    config.application_name("nasbo");
    let mut client = config.connect(NoTls).map_err(|e| pg_err(url, e))?;
    migrate(&mut client, url)?;
    Ok(client)
}

fn migrate(client: &mut Client, url: &str) -> Result<(), TunerError> {
    let mut tx = client.transaction().map_err(|e| pg_err(url, e))?;
    tx.execute("SELECT pg_advisory_xact_lock($1)", &[&SCHEMA_LOCK])
        .map_err(|e| pg_err(url, e))?;
    let has_meta: bool = tx
        .query_one("SELECT to_regclass('nasbo_meta') IS NOT NULL", &[])
        .map_err(|e| pg_err(url, e))?
        .get(0);
    let version: i64 = if has_meta {
        tx.query_opt(
            "SELECT value FROM nasbo_meta WHERE key = 'schema_version'",
            &[],
        )
        .map_err(|e| pg_err(url, e))?
        .and_then(|r| r.get::<_, String>(0).parse().ok())
        .ok_or_else(|| err(url, "the nasbo tables have no readable schema version"))?
    } else {
        0
    };
    for (to, m) in migrations_to_run(version, Dialect::Postgres, url)? {
        tx.batch_execute(&m)
            .map_err(|e| err(url, format!("migration to schema version {to}: {e}")))?;
        tx.execute(
            "INSERT INTO nasbo_meta (key, value) VALUES ('schema_version', $1)
             ON CONFLICT (key) DO UPDATE SET value = EXCLUDED.value",
            &[&to.to_string()],
        )
        .map_err(|e| pg_err(url, e))?;
    }
    tx.commit().map_err(|e| pg_err(url, e))
}

fn read_trials(
    c: &mut impl GenericClient,
    id: i64,
    space: &Space,
    url: &str,
) -> Result<Vec<Trial>, TunerError> {
    let rows = c
        .query(
            "SELECT number, state, params, vals, metrics, source, started_at, finished_at, suggest_s, error, strategy_state
             FROM nasbo_trials WHERE study_id = $1 ORDER BY number",
            &[&id],
        )
        .map_err(|e| pg_err(url, e))?;
    let mut trials = rows
        .into_iter()
        .map(|r| {
            TrialRow {
                number: r.get(0),
                state: r.get(1),
                params: r.get(2),
                values: r.get(3),
                metrics: r.get(4),
                source: r.get(5),
                started_at: r.get(6),
                finished_at: r.get(7),
                suggest_s: r.get(8),
                error: r.get(9),
                strategy_state: r.get(10),
            }
            .into_trial(space, url)
        })
        .collect::<Result<Vec<_>, _>>()?;
    if trials.iter().enumerate().any(|(i, t)| t.number != i) {
        return Err(err(url, "the study's trials are not numbered 0, 1, 2, …"));
    }
    let reports = c
        .query(
            "SELECT number, step, value FROM nasbo_reports WHERE study_id = $1 ORDER BY number, step",
            &[&id],
        )
        .map_err(|e| pg_err(url, e))?;
    for r in reports {
        let (n, step, value): (i64, i64, f64) = (r.get(0), r.get(1), r.get(2));
        if let Some(t) = trials.get_mut(n as usize) {
            t.intermediate.push((step as u64, value));
        }
    }
    Ok(trials)
}

/// Locks the study's row for the rest of the transaction: reservations of the study wait
/// for each other.
fn lock_study(tx: &mut impl GenericClient, id: i64, url: &str) -> Result<(), TunerError> {
    tx.execute(
        "SELECT id FROM nasbo_studies WHERE id = $1 FOR UPDATE",
        &[&id],
    )
    .map_err(|e| pg_err(url, e))?;
    Ok(())
}

fn insert_trial(c: &mut impl GenericClient, id: i64, t: &Trial) -> Result<u64, postgres::Error> {
    let x = TrialRow::of(t);
    c.execute(
        "INSERT INTO nasbo_trials (study_id, number, state, params, vals, metrics, source, started_at, finished_at, suggest_s, error, strategy_state)
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12)",
        &[&id, &x.number, &x.state, &x.params, &x.values, &x.metrics, &x.source, &x.started_at, &x.finished_at, &x.suggest_s, &x.error, &x.strategy_state],
    )
}

impl PostgresStorage {
    /// Opens study `name` in the database at `url`. With `create` (its space and directions),
    /// a study that does not exist is created, and one that exists must have that definition;
    /// without, the study must exist.
    pub fn open(
        url: &str,
        name: &str,
        create: Option<(&Space, &[Direction])>,
    ) -> Result<Self, TunerError> {
        if name.is_empty() {
            return Err(err(url, "a study needs a name"));
        }
        let mut client = connect(url)?;
        let mut tx = client.transaction().map_err(|e| pg_err(url, e))?;
        if let Some((space, directions)) = create {
            space.check()?;
            tx.execute(
                "INSERT INTO nasbo_studies (name, space, directions, created_at) VALUES ($1, $2, $3, $4)
                 ON CONFLICT (name) DO NOTHING",
                &[&name, &space_json(space), &directions_json(directions), &to_secs(SystemTime::now())],
            )
            .map_err(|e| pg_err(url, e))?;
        }
        let row = tx
            .query_opt(
                "SELECT id, space, directions FROM nasbo_studies WHERE name = $1",
                &[&name],
            )
            .map_err(|e| pg_err(url, e))?;
        let Some(row) = row else {
            let known = tx
                .query("SELECT name FROM nasbo_studies ORDER BY id", &[])
                .map_err(|e| pg_err(url, e))?
                .into_iter()
                .map(|r| r.get(0))
                .collect();
            return Err(TunerError::UnknownStudy {
                name: name.into(),
                url: redact(url),
                known,
            });
        };
        let (id, space, dirs): (i64, String, String) = (row.get(0), row.get(1), row.get(2));
        let space: Space = serde_json::from_str(&space)
            .map_err(|e| err(url, format!("study `{name}`: its space: {e}")))?;
        let directions = parse_directions(&dirs)
            .ok_or_else(|| err(url, format!("study `{name}`: its directions")))?;
        if let Some((s, d)) = create {
            check_same(name, &space, &directions, s, d)?;
        }
        tx.commit().map_err(|e| pg_err(url, e))?;
        Ok(PostgresStorage {
            client,
            url: url.to_string(),
            id,
            record: StudyRecord {
                name: name.into(),
                space,
                directions,
            },
            worker: worker_name(),
        })
    }

    /// The studies in the database at `url`, with their trials counted by state.
    pub fn studies(url: &str) -> Result<Vec<StudySummary>, TunerError> {
        let mut client = connect(url)?;
        let studies = client
            .query(
                "SELECT id, name, directions FROM nasbo_studies ORDER BY id",
                &[],
            )
            .map_err(|e| pg_err(url, e))?;
        let mut out = Vec::new();
        for s in studies {
            let (id, name, dirs): (i64, String, String) = (s.get(0), s.get(1), s.get(2));
            let counts = client
                .query(
                    "SELECT state, count(*) FROM nasbo_trials WHERE study_id = $1 GROUP BY state",
                    &[&id],
                )
                .map_err(|e| pg_err(url, e))?
                .into_iter()
                .map(|r| (r.get::<_, String>(0), r.get::<_, i64>(1) as usize))
                .collect();
            out.push(StudySummary {
                name,
                directions: parse_directions(&dirs).unwrap_or_default(),
                counts,
            });
        }
        Ok(out)
    }
}

impl Storage for PostgresStorage {
    fn shared(&self) -> bool {
        true
    }
    fn study(&self) -> &StudyRecord {
        &self.record
    }

    fn trials(&mut self) -> Result<Vec<Trial>, TunerError> {
        read_trials(&mut self.client, self.id, &self.record.space, &self.url)
    }

    fn reserve(
        &mut self,
        heartbeat: Option<Duration>,
        choose: &mut dyn FnMut(&[Trial]) -> Result<Reservation, TunerError>,
    ) -> Result<Trial, TunerError> {
        let url = self.url.clone();
        let id = self.id;
        let mut tx = self.client.transaction().map_err(|e| pg_err(&url, e))?;
        lock_study(&mut tx, id, &url)?;
        let trials = read_trials(&mut tx, id, &self.record.space, &url)?;
        let now = to_secs(SystemTime::now());
        let hb = heartbeat.map(|h| h.as_secs_f64());
        let mut trial = match choose(&trials)?.resolve(trials.len()) {
            Ok(t) => {
                insert_trial(&mut tx, id, &t).map_err(|e| pg_err(&url, e))?;
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
                    "DELETE FROM nasbo_reports WHERE study_id = $1 AND number = $2",
                    &[&id, &(n as i64)],
                )
                .map_err(|e| pg_err(&url, e))?;
                t.clone()
            }
        };
        tx.execute(
            "UPDATE nasbo_trials SET state = 'running', started_at = $3, worker = $4, heartbeat_at = $3,
                    heartbeat_s = $5, attempts = attempts + 1
             WHERE study_id = $1 AND number = $2",
            &[&id, &(trial.number as i64), &now, &self.worker, &hb],
        )
        .map_err(|e| pg_err(&url, e))?;
        tx.commit().map_err(|e| pg_err(&url, e))?;
        trial.state = TrialState::Running;
        trial.started_at = Some(from_secs(now));
        trial.intermediate.clear();
        Ok(trial)
    }

    fn finish(&mut self, f: &Finish) -> Result<(), TunerError> {
        let values = serde_json::to_string(&f.values).unwrap_or_default();
        let metrics = serde_json::to_string(&f.metrics).unwrap_or_default();
        let changed = self
            .client
            .execute(
                "UPDATE nasbo_trials SET state = $3, vals = $4, metrics = $5, error = $6, finished_at = $7
                 WHERE study_id = $1 AND number = $2 AND state IN ('running', 'queued')",
                &[
                    &self.id,
                    &(f.number as i64),
                    &f.state.name(),
                    &values,
                    &metrics,
                    &f.error,
                    &f.finished_at.map(to_secs),
                ],
            )
            .map_err(|e| pg_err(&self.url, e))?;
        finished(changed, f, || self.trials())
    }

    fn report(&mut self, number: usize, step: u64, value: f64) -> Result<(), TunerError> {
        let changed = self
            .client
            .execute(
                "INSERT INTO nasbo_reports (study_id, number, step, value)
                 SELECT $1, $2, $3, $4 WHERE EXISTS
                   (SELECT 1 FROM nasbo_trials WHERE study_id = $1 AND number = $2 AND state = 'running')
                 ON CONFLICT (study_id, number, step) DO UPDATE SET value = EXCLUDED.value",
                &[&self.id, &(number as i64), &(step as i64), &value],
            )
            .map_err(|e| pg_err(&self.url, e))?;
        reported(changed, number)
    }

    fn heartbeat(&mut self, numbers: &[usize]) -> Result<(), TunerError> {
        let now = to_secs(SystemTime::now());
        let numbers: Vec<i64> = numbers.iter().map(|&n| n as i64).collect();
        self.client
            .execute(
                "UPDATE nasbo_trials SET heartbeat_at = $3
                 WHERE study_id = $1 AND number = ANY($2) AND worker = $4 AND state = 'running'",
                &[&self.id, &numbers, &now, &self.worker],
            )
            .map_err(|e| pg_err(&self.url, e))?;
        Ok(())
    }

    fn requeue_lost(&mut self) -> Result<Vec<usize>, TunerError> {
        let url = self.url.clone();
        let now = to_secs(SystemTime::now());
        let mut tx = self.client.transaction().map_err(|e| pg_err(&url, e))?;
        let lost = tx
            .query(
                "SELECT number, error, attempts, $2 - heartbeat_at FROM nasbo_trials
                 WHERE study_id = $1 AND state = 'running' AND heartbeat_s IS NOT NULL
                   AND $2 - heartbeat_at > $3 * heartbeat_s
                 FOR UPDATE",
                &[&self.id, &now, &(STALE_AFTER_HEARTBEATS as f64)],
            )
            .map_err(|e| pg_err(&url, e))?;
        let mut numbers = Vec::new();
        for r in lost {
            let (n, error, attempts, silent): (i64, Option<String>, i64, f64) =
                (r.get(0), r.get(1), r.get(2), r.get(3));
            let why = format!("worker lost (no heartbeat for {silent:.0} s)");
            let (state, note) = requeue_note(error.as_deref(), attempts as u32, &why);
            let finished = (state == TrialState::Failed).then_some(now);
            tx.execute(
                "UPDATE nasbo_trials SET state = $3, error = $4, finished_at = $5
                 WHERE study_id = $1 AND number = $2",
                &[&self.id, &n, &state.name(), &note, &finished],
            )
            .map_err(|e| pg_err(&url, e))?;
            numbers.push(n as usize);
        }
        tx.commit().map_err(|e| pg_err(&url, e))?;
        Ok(numbers)
    }

    fn import(&mut self, trials: Vec<Trial>) -> Result<Vec<usize>, TunerError> {
        let url = self.url.clone();
        let id = self.id;
        let mut tx = self.client.transaction().map_err(|e| pg_err(&url, e))?;
        lock_study(&mut tx, id, &url)?;
        let start: i64 = tx
            .query_one(
                "SELECT count(*) FROM nasbo_trials WHERE study_id = $1",
                &[&id],
            )
            .map_err(|e| pg_err(&url, e))?
            .get(0);
        let mut numbers = Vec::with_capacity(trials.len());
        for (i, mut t) in trials.into_iter().enumerate() {
            t.number = start as usize + i;
            insert_trial(&mut tx, id, &t).map_err(|e| pg_err(&url, e))?;
            for (step, v) in &t.intermediate {
                tx.execute(
                    "INSERT INTO nasbo_reports (study_id, number, step, value) VALUES ($1, $2, $3, $4)
                     ON CONFLICT (study_id, number, step) DO UPDATE SET value = EXCLUDED.value",
                    &[&id, &(t.number as i64), &(*step as i64), v],
                )
                .map_err(|e| pg_err(&url, e))?;
            }
            numbers.push(t.number);
        }
        tx.commit().map_err(|e| pg_err(&url, e))?;
        Ok(numbers)
    }
}
