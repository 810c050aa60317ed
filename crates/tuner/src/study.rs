//! A study: trials asked and told, with a strategy that proposes the next parameters.

use std::time::{Instant, SystemTime};

use crate::space::{Assignment, Space};
use crate::strategy::{Context, Strategy, StrategyKind};
use crate::TunerError;

/// Whether smaller or larger values are better.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Default)]
pub enum Direction {
    /// Smaller is better (the default).
    #[default]
    Minimize,
    /// Larger is better.
    Maximize,
}

impl Direction {
    /// Whether `a` is better than `b`.
    pub fn better(self, a: f64, b: f64) -> bool {
        match self {
            Direction::Minimize => a < b,
            Direction::Maximize => a > b,
        }
    }
    /// The value in "larger is better" orientation.
    pub fn to_max(self, v: f64) -> f64 {
        match self {
            Direction::Minimize => -v,
            Direction::Maximize => v,
        }
    }
    /// Parses `minimize` or `maximize`.
    pub fn parse(s: &str) -> Option<Self> {
        match s {
            "minimize" | "min" => Some(Direction::Minimize),
            "maximize" | "max" => Some(Direction::Maximize),
            _ => None,
        }
    }
}

/// Where a trial stands.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum TrialState {
    /// Asked, not told yet (pending).
    Running,
    /// Told a value.
    Complete,
    /// Told a failure.
    Failed,
    /// Stopped early.
    Pruned,
}

impl TrialState {
    /// The CSV name: `running`, `complete`, `failed`, `pruned`.
    pub fn name(self) -> &'static str {
        match self {
            TrialState::Running => "running",
            TrialState::Complete => "complete",
            TrialState::Failed => "failed",
            TrialState::Pruned => "pruned",
        }
    }
    /// Parses [`TrialState::name`].
    pub fn parse(s: &str) -> Option<Self> {
        match s {
            "running" => Some(TrialState::Running),
            "complete" => Some(TrialState::Complete),
            "failed" => Some(TrialState::Failed),
            "pruned" => Some(TrialState::Pruned),
            _ => None,
        }
    }
}

/// One trial.
#[derive(Clone, Debug, PartialEq)]
pub struct Trial {
    /// Its number, from 0 in the order asked.
    pub number: usize,
    /// Its state.
    pub state: TrialState,
    /// Its parameters (`None` for inactive ones).
    pub params: Assignment,
    /// The objective, when complete (or the last value of a pruned trial).
    pub value: Option<f64>,
    /// Extra metrics, in the order reported.
    pub metrics: Vec<(String, f64)>,
    /// Intermediate values `(step, value)` reported while it ran.
    pub intermediate: Vec<(usize, f64)>,
    /// When it was asked.
    pub started_at: Option<SystemTime>,
    /// When it was told.
    pub finished_at: Option<SystemTime>,
    /// Seconds the strategy spent proposing it.
    pub suggest_s: f64,
    /// Why it failed.
    pub error: Option<String>,
}

impl Trial {
    /// Seconds between asking and telling.
    pub fn duration_s(&self) -> Option<f64> {
        match (self.started_at, self.finished_at) {
            (Some(a), Some(b)) => Some(b.duration_since(a).map(|d| d.as_secs_f64()).unwrap_or(0.0)),
            _ => None,
        }
    }
}

/// What a finished trial reports.
#[derive(Clone, Debug, PartialEq)]
pub enum Outcome {
    /// The objective's value and optional extra metrics.
    Complete {
        /// The objective.
        value: f64,
        /// Extra metrics.
        metrics: Vec<(String, f64)>,
    },
    /// The evaluation failed.
    Failed {
        /// Why.
        reason: String,
    },
    /// Stopped early, with the last intermediate value if any.
    Pruned {
        /// Last value seen.
        value: Option<f64>,
    },
}

/// Settings of a study.
#[derive(Clone, Debug, PartialEq)]
pub struct StudyConfig {
    /// Minimize or maximize.
    pub direction: Direction,
    /// Seed of every proposal.
    pub seed: u64,
    /// Which strategy proposes.
    pub strategy: StrategyKind,
}

impl Default for StudyConfig {
    fn default() -> Self {
        StudyConfig {
            direction: Direction::Minimize,
            seed: 0,
            strategy: StrategyKind::Bo(crate::strategy::BoConfig::default()),
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
///     study.tell(number, Outcome::Complete { value: (x - 0.5).powi(2), metrics: vec![] })?;
/// }
/// assert!(study.best().unwrap().value.unwrap() < 0.5);
/// # Ok::<(), TunerError>(())
/// ```
pub struct Study {
    space: Space,
    config: StudyConfig,
    strategy: Box<dyn Strategy>,
    trials: Vec<Trial>,
}

impl Study {
    /// A new, empty study.
    pub fn new(space: Space, config: StudyConfig) -> Result<Self, TunerError> {
        space.check()?;
        let strategy = config.strategy.build(&space)?;
        Ok(Study {
            space,
            config,
            strategy,
            trials: Vec::new(),
        })
    }

    /// The space.
    pub fn space(&self) -> &Space {
        &self.space
    }
    /// The settings.
    pub fn config(&self) -> &StudyConfig {
        &self.config
    }
    /// Every trial, in order.
    pub fn trials(&self) -> &[Trial] {
        &self.trials
    }
    /// The trials asked and not told.
    pub fn pending(&self) -> impl Iterator<Item = &Trial> {
        self.trials
            .iter()
            .filter(|t| t.state == TrialState::Running)
    }
    /// The best complete trial.
    pub fn best(&self) -> Option<&Trial> {
        let dir = self.config.direction;
        self.trials
            .iter()
            .filter(|t| t.state == TrialState::Complete)
            .filter_map(|t| t.value.map(|v| (t, v)))
            .fold(None, |best: Option<(&Trial, f64)>, (t, v)| match best {
                Some((_, bv)) if !dir.better(v, bv) => best,
                _ => Some((t, v)),
            })
            .map(|(t, _)| t)
    }

    /// Proposes the next trial: its number and parameters. The trial is pending until told.
    pub fn ask(&mut self) -> Result<(usize, Assignment), TunerError> {
        let number = self.trials.len();
        let started = Instant::now();
        let params = {
            let ctx = Context {
                space: &self.space,
                trials: &self.trials,
                direction: self.config.direction,
                seed: self.config.seed,
                number,
            };
            self.strategy.suggest(&ctx)?
        };
        let suggest_s = started.elapsed().as_secs_f64();
        self.space.validate(&params)?;
        self.trials.push(Trial {
            number,
            state: TrialState::Running,
            params: params.clone(),
            value: None,
            metrics: Vec::new(),
            intermediate: Vec::new(),
            started_at: Some(SystemTime::now()),
            finished_at: None,
            suggest_s,
            error: None,
        });
        Ok((number, params))
    }

    /// Records the outcome of pending trial `number`. A bad call (unknown trial, one already
    /// told, a non-finite value) is an error and changes nothing.
    pub fn tell(&mut self, number: usize, outcome: Outcome) -> Result<(), TunerError> {
        let trial = self
            .trials
            .get(number)
            .ok_or_else(|| TunerError::InvalidTrial {
                trial: number,
                reason: format!("no such trial (the study has {})", self.trials.len()),
            })?;
        if trial.state != TrialState::Running {
            return Err(TunerError::InvalidTrial {
                trial: number,
                reason: format!("already told ({})", trial.state.name()),
            });
        }
        match &outcome {
            Outcome::Complete { value, metrics } => {
                if !value.is_finite() {
                    return Err(TunerError::InvalidTrial {
                        trial: number,
                        reason: format!("the value {value} is not finite (tell a failure instead)"),
                    });
                }
                for (name, v) in metrics {
                    if name.is_empty() || name.contains(',') || name.contains('\n') {
                        return Err(TunerError::InvalidTrial {
                            trial: number,
                            reason: format!("bad metric name {name:?}"),
                        });
                    }
                    if !v.is_finite() {
                        return Err(TunerError::InvalidTrial {
                            trial: number,
                            reason: format!("metric `{name}` = {v} is not finite"),
                        });
                    }
                }
            }
            Outcome::Pruned { value: Some(v) } if !v.is_finite() => {
                return Err(TunerError::InvalidTrial {
                    trial: number,
                    reason: format!("the value {v} is not finite"),
                });
            }
            _ => {}
        }
        let trial = &mut self.trials[number];
        trial.finished_at = Some(SystemTime::now());
        match outcome {
            Outcome::Complete { value, metrics } => {
                trial.state = TrialState::Complete;
                trial.value = Some(value);
                trial.metrics = metrics;
            }
            Outcome::Failed { reason } => {
                trial.state = TrialState::Failed;
                trial.error = Some(reason.replace(['\n', '\r'], " "));
            }
            Outcome::Pruned { value } => {
                trial.state = TrialState::Pruned;
                trial.value = value;
            }
        }
        Ok(())
    }

    /// Records an intermediate value of a pending trial (e.g. validation accuracy after an
    /// epoch).
    pub fn report(&mut self, number: usize, step: usize, value: f64) -> Result<(), TunerError> {
        match self.trials.get_mut(number) {
            Some(t) if t.state == TrialState::Running && value.is_finite() => {
                t.intermediate.push((step, value));
                Ok(())
            }
            Some(_) => Err(TunerError::InvalidTrial {
                trial: number,
                reason: "not pending, or a non-finite value".into(),
            }),
            None => Err(TunerError::InvalidTrial {
                trial: number,
                reason: "no such trial".into(),
            }),
        }
    }

    /// Adds finished trials from elsewhere (a CSV of an earlier run): to resume, or to
    /// warm-start with earlier results. They are renumbered after the existing ones; running
    /// trials among them are recorded as failed ("interrupted"). Every trial is validated
    /// against the space first; on an error nothing is added.
    pub fn add_trials(&mut self, trials: Vec<Trial>) -> Result<usize, TunerError> {
        for t in &trials {
            self.space
                .validate(&t.params)
                .map_err(|e| TunerError::InvalidTrial {
                    trial: t.number,
                    reason: e.to_string(),
                })?;
        }
        let n = trials.len();
        for mut t in trials {
            t.number = self.trials.len();
            if t.state == TrialState::Running {
                t.state = TrialState::Failed;
                t.error = Some("interrupted: the run stopped before this trial finished".into());
            }
            self.trials.push(t);
        }
        Ok(n)
    }
}
