//! [`PostgresStorage`]: studies in a PostgreSQL database
//! (`postgres://user:password@host:port/db`), shared by workers on any number of machines.
//! The tables are prefixed `nasbo_`, so the database may hold others. Proposals of a study are
//! serialized by a session advisory lock (released by the server when a worker's connection
//! dies), taken while the strategy chooses from a snapshot of the trials; the insert or claim
//! is one short transaction that locks the study's row (`SELECT … FOR UPDATE`) and checks the
//! trial limit and the queued state again, so no write waits on a proposal. Every time is
//! the server's clock (`clock_timestamp()`), so the workers' clocks do not matter. The
//! trial's number is also its primary key. Connections time out after 5 s; TLS is not
//! supported (use a tunnel or a private network).

use std::time::{Duration, SystemTime};

use postgres::{Client, GenericClient, NoTls};

use super::rows::{
    check_same, directions_json, from_secs, migrations_to_run, parse_directions, redact,
    space_json, to_secs, worker_name, Dialect, StudySummary, TrialRow,
};
use super::storage::{
    check_finite, check_import, check_report, finished, poll_lock, reported, requeue_note,
    reserve_gave_up, silent, Finish, Import, Imported, Lease, Request, Reservation, Running,
    Storage, StudyRecord, PROPOSAL_LOCK_WAIT, RESERVE_TRIES,
};
use crate::space::Space;
use crate::trial::{Direction, Trial, TrialState};
use crate::TunerError;

/// The advisory lock that serializes schema creation and migration.
const SCHEMA_LOCK: i64 = 0x6e61_7362_6f00;

/// The first key of the advisory locks that serialize a study's proposals (the second is the
/// study's id).
const PROPOSAL_LOCK: i32 = 0x6e62_7072;

/// The server's clock, in seconds since the Unix epoch.
const NOW: &str = "extract(epoch from clock_timestamp())::float8";

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

fn insert_trial(c: &mut impl GenericClient, id: i64, x: &TrialRow) -> Result<u64, postgres::Error> {
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

    /// The state and lease token of trial `number`, if it exists.
    fn stored(&mut self, number: usize) -> Result<Option<(TrialState, u64)>, TunerError> {
        let row = self
            .client
            .query_opt(
                "SELECT state, attempts FROM nasbo_trials WHERE study_id = $1 AND number = $2",
                &[&self.id, &(number as i64)],
            )
            .map_err(|e| pg_err(&self.url, e))?;
        Ok(row.map(|r| {
            (
                TrialState::parse(r.get(0)).unwrap_or(TrialState::Failed),
                r.get::<_, i64>(1).max(0) as u64,
            )
        }))
    }

    /// Takes the study's proposal lock (waiting at most [`PROPOSAL_LOCK_WAIT`]): whether it
    /// was taken.
    fn proposal_lock(&mut self) -> Result<bool, TunerError> {
        let (url, id) = (self.url.clone(), self.id as i32);
        let client = &mut self.client;
        poll_lock(PROPOSAL_LOCK_WAIT, || {
            client
                .query_one(
                    "SELECT pg_try_advisory_lock($1, $2)",
                    &[&PROPOSAL_LOCK, &id],
                )
                .map(|r| r.get::<_, bool>(0))
                .map_err(|e| pg_err(&url, e))
        })
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
        let id = self.id;
        let trials = {
            let mut tx = self
                .client
                .build_transaction()
                .isolation_level(postgres::IsolationLevel::RepeatableRead)
                .read_only(true)
                .start()
                .map_err(|e| pg_err(&url, e))?;
            let t = read_trials(&mut tx, id, &self.record.space, &url)?;
            tx.commit().map_err(|e| pg_err(&url, e))?;
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
        let hb = request.heartbeat.map(|h| h.as_secs_f64());
        let mut tx = self.client.transaction().map_err(|e| pg_err(&url, e))?;
        lock_study(&mut tx, id, &url)?;
        let set_running = format!(
            "UPDATE nasbo_trials SET state = 'running', started_at = {NOW}, worker = $3, heartbeat_at = {NOW},
                    heartbeat_s = $4, attempts = attempts + 1
             WHERE study_id = $1 AND number = $2"
        );
        let counts = tx
            .query_one(
                "SELECT count(*), count(*) FILTER (WHERE source <> 'warm-start') FROM nasbo_trials WHERE study_id = $1",
                &[&id],
            )
            .map_err(|e| pg_err(&url, e))?;
        let (count, counted): (i64, i64) = (counts.get(0), counts.get(1));
        let (mut trial, n) = match choice.resolve(count as usize) {
            Ok(t) => {
                if request.limit.is_some_and(|l| counted as usize >= l) {
                    let queued: i64 = tx
                        .query_one(
                            "SELECT count(*) FROM nasbo_trials WHERE study_id = $1 AND state = 'queued'",
                            &[&id],
                        )
                        .map_err(|e| pg_err(&url, e))?
                        .get(0);
                    // A trial queued since the snapshot is claimed on the next try.
                    return if queued > 0 { Err(None) } else { Ok(None) };
                }
                let row = TrialRow::of(&t, &url)?;
                insert_trial(&mut tx, id, &row).map_err(|e| pg_err(&url, e))?;
                let n = t.number as i64;
                (t, n)
            }
            Err(n) => (trials[n].clone(), n as i64),
        };
        let sql = match trial.state {
            TrialState::Queued => {
                format!("{set_running} AND state = 'queued' RETURNING started_at, attempts")
            }
            _ => format!("{set_running} RETURNING started_at, attempts"),
        };
        let Some(row) = tx
            .query_opt(sql.as_str(), &[&id, &n, &self.worker, &hb])
            .map_err(|e| pg_err(&url, e))?
        else {
            return Err(None);
        };
        let (started, token): (f64, i64) = (row.get(0), row.get(1));
        if trial.state == TrialState::Queued {
            tx.execute(
                "DELETE FROM nasbo_reports WHERE study_id = $1 AND number = $2",
                &[&id, &n],
            )
            .map_err(|e| pg_err(&url, e))?;
        }
        tx.commit().map_err(|e| pg_err(&url, e))?;
        trial.state = TrialState::Running;
        trial.started_at = Some(from_secs(started));
        trial.intermediate.clear();
        let lease = Lease {
            number: trial.number,
            token: token.max(0) as u64,
        };
        Ok(Some((trial, lease)))
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
        request: &Request,
        choose: &mut dyn FnMut(&[Trial]) -> Result<Reservation, TunerError>,
    ) -> Result<Option<(Trial, Lease)>, TunerError> {
        let locked = self.proposal_lock()?;
        let mut result = Err(reserve_gave_up(&redact(&self.url)));
        for _ in 0..RESERVE_TRIES {
            match self.try_reserve(request, choose) {
                Ok(r) => {
                    result = Ok(r);
                    break;
                }
                Err(Some(e)) => {
                    result = Err(e);
                    break;
                }
                Err(None) => continue,
            }
        }
        if locked {
            let unlocked = self
                .client
                .execute(
                    "SELECT pg_advisory_unlock($1, $2)",
                    &[&PROPOSAL_LOCK, &(self.id as i32)],
                )
                .map_err(|e| pg_err(&self.url, e));
            if result.is_ok() {
                unlocked?;
            }
        }
        result
    }

    fn finish(&mut self, f: &Finish) -> Result<(), TunerError> {
        check_finite(f.number, &f.values, &f.metrics)?;
        let (values, metrics) = TrialRow::result_json(f.number, &f.values, &f.metrics, &self.url)?;
        let token = f.token.map(|t| t as i64);
        // An interruption gives the trial back: no heartbeat of this worker takes it again.
        let changed = self
            .client
            .execute(
                &format!(
                    "UPDATE nasbo_trials SET state = $3, vals = $4, metrics = $5, error = $6,
                            finished_at = CASE WHEN $7 THEN {NOW} END,
                            worker = CASE WHEN $3 = 'queued' THEN NULL ELSE worker END
                     WHERE study_id = $1 AND number = $2 AND state IN ('running', 'queued')
                       AND ($8::bigint IS NULL OR attempts = $8)"
                ),
                &[
                    &self.id,
                    &(f.number as i64),
                    &f.state.name(),
                    &values,
                    &metrics,
                    &f.error,
                    &f.finished_at.is_some(),
                    &token,
                ],
            )
            .map_err(|e| pg_err(&self.url, e))?;
        finished(changed, f, || self.stored(f.number))
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
            .client
            .execute(
                "INSERT INTO nasbo_reports (study_id, number, step, value)
                 SELECT $1, $2, $3, $4 WHERE EXISTS
                   (SELECT 1 FROM nasbo_trials WHERE study_id = $1 AND number = $2 AND state = 'running'
                      AND ($5::bigint IS NULL OR attempts = $5))
                 ON CONFLICT (study_id, number, step) DO UPDATE SET value = EXCLUDED.value",
                &[
                    &self.id,
                    &(number as i64),
                    &(step as i64),
                    &value,
                    &token.map(|t| t as i64),
                ],
            )
            .map_err(|e| pg_err(&self.url, e))?;
        reported(changed, number, token, || self.stored(number))
    }

    fn heartbeat(&mut self, leases: &[Lease]) -> Result<Vec<Lease>, TunerError> {
        if leases.is_empty() {
            return Ok(Vec::new());
        }
        let numbers: Vec<i64> = leases.iter().map(|l| l.number as i64).collect();
        let tokens: Vec<i64> = leases.iter().map(|l| l.token as i64).collect();
        let held = self
            .client
            .query(
                &format!(
                    "UPDATE nasbo_trials t SET heartbeat_at = {NOW}, state = 'running'
                     FROM unnest($2::bigint[], $3::bigint[]) AS l(number, token)
                     WHERE t.study_id = $1 AND t.number = l.number AND t.attempts = l.token
                       AND t.worker = $4 AND t.state IN ('running', 'queued')
                     RETURNING t.number"
                ),
                &[&self.id, &numbers, &tokens, &self.worker],
            )
            .map_err(|e| pg_err(&self.url, e))?;
        let held: std::collections::HashSet<i64> = held.iter().map(|r| r.get(0)).collect();
        Ok(leases
            .iter()
            .filter(|l| !held.contains(&(l.number as i64)))
            .copied()
            .collect())
    }

    fn requeue_lost(&mut self) -> Result<Vec<usize>, TunerError> {
        let url = self.url.clone();
        // Read first, outside any write transaction: most calls find nothing to do.
        let rows = self
            .client
            .query(
                &format!(
                    "SELECT number, attempts, heartbeat_at, heartbeat_s, error, {NOW} - heartbeat_at
                     FROM nasbo_trials
                     WHERE study_id = $1 AND state = 'running' AND heartbeat_s IS NOT NULL
                       AND heartbeat_at IS NOT NULL AND (worker IS NULL OR worker <> $2)"
                ),
                &[&self.id, &self.worker],
            )
            .map_err(|e| pg_err(&url, e))?;
        let running = rows
            .iter()
            .map(|r| Running {
                number: r.get::<_, i64>(0).max(0) as usize,
                token: r.get::<_, i64>(1).max(0) as u64,
                beat: r.get(2),
                interval: r.get(3),
                error: r.get(4),
                silent: r.get(5),
            })
            .collect();
        let lost = silent(running);
        if lost.is_empty() {
            return Ok(Vec::new());
        }
        let mut tx = self.client.transaction().map_err(|e| pg_err(&url, e))?;
        let mut numbers = Vec::new();
        for r in &lost {
            let why = format!("worker lost (no heartbeat for {:.0} s)", r.silent);
            let (state, note) = requeue_note(r.error.as_deref(), r.token as u32, &why);
            // Only if nothing changed since it was read (a heartbeat or a finish in between).
            let changed = tx
                .execute(
                    &format!(
                        "UPDATE nasbo_trials SET state = $3, error = $4,
                                finished_at = CASE WHEN $3 = 'failed' THEN {NOW} END
                         WHERE study_id = $1 AND number = $2 AND state = 'running' AND attempts = $5
                           AND heartbeat_at = $6"
                    ),
                    &[
                        &self.id,
                        &(r.number as i64),
                        &state.name(),
                        &note,
                        &(r.token as i64),
                        &r.beat,
                    ],
                )
                .map_err(|e| pg_err(&url, e))?;
            if changed == 1 {
                numbers.push(r.number);
            }
        }
        tx.commit().map_err(|e| pg_err(&url, e))?;
        Ok(numbers)
    }

    fn connect_again(&self) -> Option<Result<Box<dyn Storage>, TunerError>> {
        Some(
            PostgresStorage::open(&self.url, &self.record.name, None).map(|mut s| {
                s.worker = self.worker.clone();
                Box::new(s) as Box<dyn Storage>
            }),
        )
    }

    fn import(&mut self, import: Import) -> Result<Imported, TunerError> {
        let url = self.url.clone();
        let id = self.id;
        for t in &import.trials {
            check_import(t)?;
        }
        let rows = import
            .trials
            .iter()
            .map(|t| TrialRow::of(t, &url))
            .collect::<Result<Vec<_>, _>>()?;
        let mut tx = self.client.transaction().map_err(|e| pg_err(&url, e))?;
        lock_study(&mut tx, id, &url)?;
        let key = import.key.as_ref().map(|k| format!("import:{id}:{k}"));
        if let Some(k) = &key {
            let done: i64 = tx
                .query_one("SELECT count(*) FROM nasbo_meta WHERE key = $1", &[k])
                .map_err(|e| pg_err(&url, e))?
                .get(0);
            if done > 0 {
                return Ok(Imported::Already);
            }
        }
        let start: i64 = tx
            .query_one(
                "SELECT count(*) FROM nasbo_trials WHERE study_id = $1",
                &[&id],
            )
            .map_err(|e| pg_err(&url, e))?
            .get(0);
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
            insert_trial(&mut tx, id, &row).map_err(|e| pg_err(&url, e))?;
            for (step, v) in &t.intermediate {
                tx.execute(
                    "INSERT INTO nasbo_reports (study_id, number, step, value) VALUES ($1, $2, $3, $4)
                     ON CONFLICT (study_id, number, step) DO UPDATE SET value = EXCLUDED.value",
                    &[&id, &number, &(*step as i64), v],
                )
                .map_err(|e| pg_err(&url, e))?;
            }
            numbers.push(number as usize);
        }
        if let Some(k) = &key {
            tx.execute(
                &format!("INSERT INTO nasbo_meta (key, value) VALUES ($1, {NOW}::text)"),
                &[k],
            )
            .map_err(|e| pg_err(&url, e))?;
        }
        tx.commit().map_err(|e| pg_err(&url, e))?;
        Ok(Imported::Added(numbers))
    }
}
