//! A study: a [`Storage`] of trials and a strategy that proposes the next one. `ask` reserves a
//! trial in the storage with the strategy's proposal (or a queued trial); `tell` writes its
//! result. Every proposal is computed from the stored trials alone, so a study resumed from
//! its storage proposes what the uninterrupted study would have.

use std::collections::HashMap;
use std::time::{Duration, Instant, SystemTime};

use crate::prune::Pruner;
use crate::space::{Assignment, Space};
use crate::strategy::{Context, Strategy, StrategyKind};
use crate::trial::{Direction, Outcome, Source, Trial, TrialState};
use crate::TunerError;

pub mod csv;
mod csv_storage;
mod infer;
mod memory;
#[cfg(feature = "postgres")]
mod postgres;
mod rows;
#[cfg(feature = "sqlite")]
mod sqlite;
mod storage;
mod url;

pub use csv_storage::CsvStorage;
pub use infer::infer_space;
pub use memory::MemoryStorage;
#[cfg(feature = "postgres")]
pub use postgres::PostgresStorage;
pub use rows::{redact, StudySummary, SCHEMA_VERSION};
#[cfg(feature = "sqlite")]
pub use sqlite::SqliteStorage;
pub use storage::{
    import_key, Finish, Import, Imported, Lease, Request, Reservation, Storage, StudyRecord,
    MAX_ATTEMPTS, PROPOSAL_LOCK_WAIT, STALE_AFTER_HEARTBEATS,
};
pub use url::{list_studies, open_storage, test_postgres_url, unique_study_name, StorageUrl};

/// Settings of a study.
#[derive(Clone, Debug, PartialEq)]
pub struct StudyConfig {
    /// Minimize or maximize, one per objective (one objective: one direction).
    pub directions: Vec<Direction>,
    /// Seed of every proposal.
    pub seed: u64,
    /// Which strategy proposes.
    pub strategy: StrategyKind,
    /// The heartbeat interval a worker promises for its running trials (`None`: none; such
    /// trials are never taken for lost). See [`Storage::requeue_lost`].
    pub heartbeat: Option<Duration>,
}

impl StudyConfig {
    /// One objective in `direction`, the default strategy, seed 0.
    pub fn new(direction: Direction) -> Self {
        StudyConfig {
            directions: vec![direction],
            ..StudyConfig::default()
        }
    }
    /// The first (for one objective: the only) direction.
    pub fn direction(&self) -> Direction {
        self.directions.first().copied().unwrap_or_default()
    }
}

impl Default for StudyConfig {
    fn default() -> Self {
        StudyConfig {
            directions: vec![Direction::Minimize],
            seed: 0,
            strategy: StrategyKind::Bo(crate::bo::BoConfig::default()),
            heartbeat: None,
        }
    }
}

/// A study with ask/tell.
///
/// ```
/// use nasbo_tuner::{Outcome, Param, Space, Study, StudyConfig, TunerError};
/// let space = Space::new(vec![Param::float("x", -2.0, 2.0)])?;
/// let mut study = Study::new(space, StudyConfig::default())?;
/// for _ in 0..8 {
///     let (number, params) = study.ask()?;
///     let x = params[0].as_ref().unwrap().as_f64().unwrap();
///     study.tell(number, Outcome::value((x - 0.5).powi(2)))?;
/// }
/// assert!(study.best().unwrap().value().unwrap() < 0.5);
/// # Ok::<(), TunerError>(())
/// ```
pub struct Study {
    storage: Box<dyn Storage>,
    config: StudyConfig,
    strategy: Box<dyn Strategy>,
    /// The trials as last read from the storage.
    trials: Vec<Trial>,
    /// The leases of the trials this study reserved and has not told: trial → token.
    leases: HashMap<usize, u64>,
}

impl Study {
    /// A new, empty study in memory.
    pub fn new(space: Space, config: StudyConfig) -> Result<Self, TunerError> {
        space.check()?;
        let record = StudyRecord {
            name: "study".into(),
            space,
            directions: config.directions.clone(),
        };
        Study::open(Box::new(MemoryStorage::new(record)), config)
    }

    /// The study kept in `storage` (new or with trials), proposing with `config`'s strategy
    /// and seed. `config.directions` must be the stored ones.
    pub fn open(storage: Box<dyn Storage>, config: StudyConfig) -> Result<Self, TunerError> {
        let strategy = config.strategy.build(&storage.study().space)?;
        Study::with_strategy(storage, config, strategy)
    }

    /// [`Study::open`] with a strategy of the caller's own (any [`Strategy`]: one written
    /// outside this crate, or a built-in one configured by hand); `config.strategy` is then
    /// not used.
    ///
    /// ```
    /// use nasbo_tuner::strategy::{Context, Proposal, Strategy};
    /// use nasbo_tuner::study::MemoryStorage;
    /// use nasbo_tuner::{Direction, Outcome, Param, Space, Study, StudyConfig, StudyRecord};
    /// use nasbo_tuner::{TunerError, Value};
    ///
    /// /// Proposes the middle of the first parameter's range, then its ends.
    /// struct Thirds;
    /// impl Strategy for Thirds {
    ///     fn name(&self) -> &'static str { "thirds" }
    ///     fn suggest(&mut self, ctx: &Context<'_>) -> Result<Proposal, TunerError> {
    ///         let x = [0.5, 0.0, 1.0][ctx.number % 3];
    ///         Ok(Proposal::model(vec![Some(Value::Float(x))]))
    ///     }
    /// }
    /// let space = Space::new(vec![Param::float("x", 0.0, 1.0)])?;
    /// let record = StudyRecord { name: "s".into(), space, directions: vec![Direction::Minimize] };
    /// let storage = Box::new(MemoryStorage::new(record));
    /// let mut study = Study::with_strategy(storage, StudyConfig::default(), Box::new(Thirds))?;
    /// let (n, params) = study.ask()?;
    /// assert_eq!(params[0], Some(Value::Float(0.5)));
    /// study.tell(n, Outcome::value(1.0))?;
    /// # Ok::<(), TunerError>(())
    /// ```
    pub fn with_strategy(
        mut storage: Box<dyn Storage>,
        config: StudyConfig,
        strategy: Box<dyn Strategy>,
    ) -> Result<Self, TunerError> {
        let record = storage.study().clone();
        record.space.check()?;
        if config.directions.is_empty() {
            return Err(TunerError::InvalidConfig {
                name: "directions",
                value: "[]".into(),
                reason: "a study needs at least one objective".into(),
            });
        }
        if config.directions != record.directions {
            return Err(TunerError::InvalidConfig {
                name: "directions",
                value: names(&config.directions),
                reason: format!(
                    "the stored study `{}` has {}",
                    record.name,
                    names(&record.directions)
                ),
            });
        }
        if let Some(h) = config.heartbeat {
            if h.is_zero() {
                return Err(TunerError::InvalidConfig {
                    name: "heartbeat",
                    value: "0".into(),
                    reason: "must be positive".into(),
                });
            }
        }
        let trials = storage.trials()?;
        Ok(Study {
            storage,
            config,
            strategy,
            trials,
            leases: HashMap::new(),
        })
    }

    /// The space.
    pub fn space(&self) -> &Space {
        &self.storage.study().space
    }
    /// The stored study.
    pub fn record(&self) -> &StudyRecord {
        self.storage.study()
    }
    /// The settings.
    pub fn config(&self) -> &StudyConfig {
        &self.config
    }
    /// The first (for one objective: the only) direction.
    pub fn direction(&self) -> Direction {
        self.config.direction()
    }
    /// Every trial, in order, as last read from the storage (ask, tell and
    /// [`Study::refresh`] read it again).
    pub fn trials(&self) -> &[Trial] {
        &self.trials
    }
    /// Whether other workers may share the study's storage.
    pub fn is_shared(&self) -> bool {
        self.storage.shared()
    }
    /// Reads the trials from the storage again (other workers may have added some).
    pub fn refresh(&mut self) -> Result<(), TunerError> {
        self.trials = self.storage.trials()?;
        Ok(())
    }
    /// The trials asked and not told (running or queued).
    pub fn pending(&self) -> impl Iterator<Item = &Trial> {
        self.trials.iter().filter(|t| t.state.is_pending())
    }
    /// The best complete trial by the first objective.
    pub fn best(&self) -> Option<&Trial> {
        let dir = self.direction();
        self.trials
            .iter()
            .filter(|t| t.state == TrialState::Complete)
            .filter_map(|t| t.value().map(|v| (t, v)))
            .fold(None, |best: Option<(&Trial, f64)>, (t, v)| match best {
                Some((_, bv)) if !dir.better(v, bv) => best,
                _ => Some((t, v)),
            })
            .map(|(t, _)| t)
    }

    /// The next trial to evaluate: a queued one if there is one (an interrupted trial put
    /// back), else a new one with the strategy's proposal. Its number and parameters.
    pub fn ask(&mut self) -> Result<(usize, Assignment), TunerError> {
        let t = self.ask_trial()?;
        Ok((t.number, t.params))
    }

    /// [`Study::ask`], returning the whole trial record (with its [`Source`]).
    pub fn ask_trial(&mut self) -> Result<Trial, TunerError> {
        match self.ask_within(None)? {
            Some(t) => Ok(t),
            None => Err(TunerError::InvalidTrial {
                trial: self.trials.len(),
                reason: "no trial reserved".into(),
            }),
        }
    }

    /// [`Study::ask_trial`] while the study holds fewer than `limit` trials (warm-start ones
    /// not counted; queued trials are claimed at any count), checked atomically with the
    /// reservation: `None` at the limit. The trial's [`Lease`] is in [`Study::lease`].
    pub fn ask_within(&mut self, limit: Option<usize>) -> Result<Option<Trial>, TunerError> {
        self.storage.requeue_lost()?;
        let (space, strategy) = (self.storage.study().space.clone(), &mut self.strategy);
        let (directions, seed) = (self.config.directions.clone(), self.config.seed);
        let request = Request {
            heartbeat: self.config.heartbeat,
            limit,
        };
        let reserved = self.storage.reserve(&request, &mut |trials| {
            if let Some(q) = trials.iter().find(|t| t.state == TrialState::Queued) {
                return Ok(Reservation::Claim(q.number));
            }
            let started = Instant::now();
            let ctx = Context {
                space: &space,
                trials,
                direction: directions[0],
                directions: &directions,
                seed,
                number: trials.len(),
            };
            let proposal = strategy.suggest(&ctx)?;
            space.validate(&proposal.params)?;
            Ok(Reservation::New {
                params: proposal.params,
                source: proposal.source,
                suggest_s: started.elapsed().as_secs_f64(),
                state: proposal.state,
            })
        })?;
        if let Some((_, lease)) = &reserved {
            self.leases.insert(lease.number, lease.token);
        }
        self.refresh()?;
        Ok(reserved.map(|r| r.0))
    }

    /// The lease under which this study reserved trial `number`, while it is not told.
    pub fn lease(&self, number: usize) -> Option<Lease> {
        self.leases
            .get(&number)
            .map(|&token| Lease { number, token })
    }

    /// The leases this study holds (trials it reserved and has not told).
    pub fn leases(&self) -> Vec<Lease> {
        let mut l: Vec<Lease> = self
            .leases
            .iter()
            .map(|(&number, &token)| Lease { number, token })
            .collect();
        l.sort_by_key(|l| l.number);
        l
    }

    /// Forgets a lease (its trial went to another worker, or the run loop gives it up).
    pub fn release(&mut self, number: usize) {
        self.leases.remove(&number);
    }

    /// Records the outcome of pending trial `number`. A bad call (unknown trial, one already
    /// told, a non-finite value, the wrong number of values) is an error and changes nothing.
    /// [`Outcome::Interrupted`] puts the trial back in the queue. A trial this study reserved
    /// is told under its lease: if the trial was taken for lost and claimed again meanwhile,
    /// the result is refused with [`TunerError::LeaseLost`] and the other worker's stands.
    pub fn tell(&mut self, number: usize, outcome: Outcome) -> Result<(), TunerError> {
        let token = self.leases.get(&number).copied();
        self.tell_under(number, token, outcome)
    }

    /// [`Study::tell`] under the lease `token` (a lease printed by `nasbo ask`), or by hand
    /// (`None`: accepted while the trial is pending, whoever holds it).
    pub fn tell_under(
        &mut self,
        number: usize,
        token: Option<u64>,
        outcome: Outcome,
    ) -> Result<(), TunerError> {
        let bad = |reason: String| TunerError::InvalidTrial {
            trial: number,
            reason,
        };
        let previous = self
            .trials
            .get(number)
            .and_then(|t| t.error.clone())
            .filter(|e| !e.is_empty());
        let now = SystemTime::now();
        let finish = match outcome {
            Outcome::Complete { values, metrics } => {
                let k = self.config.directions.len();
                if values.len() != k {
                    return Err(bad(format!(
                        "{} values told for a study of {k} objective{}",
                        values.len(),
                        if k == 1 { "" } else { "s" }
                    )));
                }
                if let Some(v) = values.iter().find(|v| !v.is_finite()) {
                    return Err(bad(format!(
                        "the value {v} is not finite (tell a failure instead)"
                    )));
                }
                for (name, v) in &metrics {
                    if name.is_empty() || name.contains([',', '\n', '\r', '"']) {
                        return Err(bad(format!("bad metric name {name:?}")));
                    }
                    if !v.is_finite() {
                        return Err(bad(format!("metric `{name}` = {v} is not finite")));
                    }
                }
                Finish {
                    number,
                    token,
                    state: TrialState::Complete,
                    values,
                    metrics,
                    error: previous,
                    finished_at: Some(now),
                }
            }
            Outcome::Failed { reason } => Finish {
                number,
                token,
                state: TrialState::Failed,
                values: vec![],
                metrics: vec![],
                error: Some(reason.replace(['\n', '\r'], " ")),
                finished_at: Some(now),
            },
            Outcome::Pruned { value } => {
                if let Some(v) = value.filter(|v| !v.is_finite()) {
                    return Err(bad(format!("the value {v} is not finite")));
                }
                Finish {
                    number,
                    token,
                    state: TrialState::Pruned,
                    values: value.into_iter().collect(),
                    metrics: vec![],
                    error: previous,
                    finished_at: Some(now),
                }
            }
            Outcome::Interrupted { reason } => {
                let history = previous.map(|p| format!("{p}; ")).unwrap_or_default();
                Finish {
                    number,
                    token,
                    state: TrialState::Queued,
                    values: vec![],
                    metrics: vec![],
                    error: Some(format!(
                        "{history}interrupted ({}); queued to run again",
                        reason.replace(['\n', '\r'], " ")
                    )),
                    finished_at: None,
                }
            }
        };
        let result = self.storage.finish(&finish);
        if matches!(result, Ok(()) | Err(TunerError::LeaseLost { .. })) {
            self.leases.remove(&number);
        }
        self.refresh()?;
        result
    }

    /// Records an intermediate value of a running trial (e.g. validation accuracy after an
    /// epoch).
    pub fn report(&mut self, number: usize, step: u64, value: f64) -> Result<(), TunerError> {
        if !value.is_finite() {
            return Err(TunerError::InvalidTrial {
                trial: number,
                reason: format!("intermediate value {value} at step {step} is not finite"),
            });
        }
        let token = self.leases.get(&number).copied();
        self.storage.report(number, token, step, value)?;
        if let Some(t) = self.trials.get_mut(number) {
            t.intermediate.push((step, value));
        }
        Ok(())
    }

    /// Whether `pruner` would stop running trial `number` now, judged against every trial
    /// of the study as the storage holds them (other workers' included: the study is read
    /// again first when it is shared). The ask/tell form of the run loop's pruning: report a
    /// step, ask this, and tell [`Outcome::Pruned`] when it says so.
    ///
    /// ```
    /// use nasbo_tuner::prune::MedianPruner;
    /// use nasbo_tuner::{Outcome, Param, Space, Study, StudyConfig, TunerError};
    /// let space = Space::new(vec![Param::float("x", 0.0, 1.0)])?;
    /// let mut study = Study::new(space, StudyConfig::default())?;
    /// let pruner = MedianPruner { min_step: 1, max_step: 10, startup_trials: 1 };
    /// let (a, _) = study.ask()?;
    /// study.report(a, 1, 0.3)?;
    /// assert!(!study.should_prune(a, &pruner)?); // nothing to compare with yet
    /// study.tell(a, Outcome::value(0.3))?;
    /// let (b, _) = study.ask()?;
    /// study.report(b, 1, 0.9)?; // minimizing: worse than the median at step 1
    /// assert!(study.should_prune(b, &pruner)?);
    /// study.tell(b, Outcome::Pruned { value: Some(0.9) })?;
    /// # Ok::<(), TunerError>(())
    /// ```
    pub fn should_prune(&mut self, number: usize, pruner: &dyn Pruner) -> Result<bool, TunerError> {
        if self.is_shared() {
            self.refresh()?;
        }
        let direction = self.config.direction();
        match self.trials.get(number) {
            Some(t) if t.state == TrialState::Running => {
                Ok(pruner.prune(t, &self.trials, direction))
            }
            Some(t) => Err(TunerError::InvalidTrial {
                trial: number,
                reason: format!(
                    "is {}, not running: only a running trial can be pruned",
                    t.state.name()
                ),
            }),
            None => Err(TunerError::InvalidTrial {
                trial: number,
                reason: format!("the study has no trial {number}"),
            }),
        }
    }

    /// Puts running trials whose worker was lost back in the queue (see
    /// [`Storage::requeue_lost`]), reads the trials again, and returns the numbers.
    pub fn requeue_lost(&mut self) -> Result<Vec<usize>, TunerError> {
        let lost = self.storage.requeue_lost()?;
        self.refresh()?;
        Ok(lost)
    }

    /// Refreshes the heartbeat of these running trials of this study's leases (the run loop
    /// does this); returns the trials whose lease no longer holds them (taken for lost and
    /// claimed by another worker, or finished), which this study forgets.
    pub fn heartbeat(&mut self, numbers: &[usize]) -> Result<Vec<usize>, TunerError> {
        let leases: Vec<Lease> = numbers.iter().filter_map(|&n| self.lease(n)).collect();
        let lost = self.storage.heartbeat(&leases)?;
        for l in &lost {
            self.leases.remove(&l.number);
        }
        Ok(lost.into_iter().map(|l| l.number).collect())
    }

    /// A second handle on this study's storage for the same worker (its own connection), for
    /// a heartbeat thread; `None` for storages without one (memory, CSV).
    pub fn connect_again(&self) -> Option<Result<Box<dyn Storage>, TunerError>> {
        self.storage.connect_again()
    }

    /// Adds trials from elsewhere (a CSV of an earlier run), renumbered after the existing
    /// ones, with `source` when given (e.g. [`Source::WarmStart`]). Every trial is validated
    /// against the space first; on an error nothing is added. Trials that were running
    /// when the earlier run stopped are queued to run again; queued or running trials of a
    /// warm start, which have no result, are left out. Returns the number added.
    pub fn add_trials(
        &mut self,
        trials: Vec<Trial>,
        source: Option<Source>,
    ) -> Result<usize, TunerError> {
        self.import_trials(trials, source, None, false)
            .map(|n| n.unwrap_or(0))
    }

    /// [`Study::add_trials`] as one atomic import named `key` (see [`Import`]): `None` when
    /// the study already holds that import (another worker started with the same command
    /// made it), so N workers importing one file add it once; with `into_empty`, only into a
    /// study without trials ([`TunerError::NotEmpty`] otherwise).
    pub fn import_trials(
        &mut self,
        trials: Vec<Trial>,
        source: Option<Source>,
        key: Option<String>,
        into_empty: bool,
    ) -> Result<Option<usize>, TunerError> {
        let space = self.space().clone();
        let warm = source == Some(Source::WarmStart);
        let mut keep = Vec::with_capacity(trials.len());
        for mut t in trials {
            space
                .validate(&t.params)
                .map_err(|e| TunerError::InvalidTrial {
                    trial: t.number,
                    reason: e.to_string(),
                })?;
            if t.state.is_pending() {
                if warm {
                    continue;
                }
                t.state = TrialState::Queued;
                t.error = Some(
                    "interrupted: the run stopped before it finished; queued to run again".into(),
                );
            }
            if let Some(s) = &source {
                t.source = s.clone();
            }
            keep.push(t);
        }
        let n = keep.len();
        let done = self.storage.import(Import {
            trials: keep,
            key,
            into_empty,
        })?;
        self.refresh()?;
        Ok(match done {
            Imported::Added(_) => Some(n),
            Imported::Already => None,
        })
    }
}

fn names(ds: &[Direction]) -> String {
    ds.iter().map(|d| d.name()).collect::<Vec<_>>().join(", ")
}
