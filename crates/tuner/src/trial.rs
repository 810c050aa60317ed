//! The records: [`Trial`], its [`TrialState`], where its parameters came from ([`Source`]),
//! what an evaluation reports ([`Outcome`]) and which way is better ([`Direction`]). They sit
//! beneath the study, the storages and the strategies, which all read them.

use std::time::SystemTime;

use crate::space::Assignment;

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
    /// Parses `minimize` or `maximize` (also `min`, `max`).
    pub fn parse(s: &str) -> Option<Self> {
        match s {
            "minimize" | "min" => Some(Direction::Minimize),
            "maximize" | "max" => Some(Direction::Maximize),
            _ => None,
        }
    }
    /// `minimize` or `maximize`.
    pub fn name(self) -> &'static str {
        match self {
            Direction::Minimize => "minimize",
            Direction::Maximize => "maximize",
        }
    }
}

/// Where a trial stands.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum TrialState {
    /// Asked, being evaluated (pending).
    Running,
    /// Its parameters are fixed and it waits for a worker: an interrupted trial put back to be
    /// run again, or a configuration enqueued by hand. Pending like a running one.
    Queued,
    /// Told a value.
    Complete,
    /// Told a failure.
    Failed,
    /// Stopped early by a pruner.
    Pruned,
}

impl TrialState {
    /// The CSV name: `running`, `queued`, `complete`, `failed`, `pruned`.
    pub fn name(self) -> &'static str {
        match self {
            TrialState::Running => "running",
            TrialState::Queued => "queued",
            TrialState::Complete => "complete",
            TrialState::Failed => "failed",
            TrialState::Pruned => "pruned",
        }
    }
    /// Parses [`TrialState::name`].
    pub fn parse(s: &str) -> Option<Self> {
        match s {
            "running" => Some(TrialState::Running),
            "queued" => Some(TrialState::Queued),
            "complete" => Some(TrialState::Complete),
            "failed" => Some(TrialState::Failed),
            "pruned" => Some(TrialState::Pruned),
            _ => None,
        }
    }
    /// Whether the trial is finished (complete, failed or pruned).
    pub fn is_finished(self) -> bool {
        matches!(
            self,
            TrialState::Complete | TrialState::Failed | TrialState::Pruned
        )
    }
    /// Whether the trial waits for its result (running or queued).
    pub fn is_pending(self) -> bool {
        !self.is_finished()
    }
}

/// Where a trial's parameters came from.
#[derive(Clone, Debug, PartialEq, Eq, Default)]
pub enum Source {
    /// The strategy's own rule: for `bo` its model, for `evolution` a mutation, for `random`
    /// a random draw.
    #[default]
    Model,
    /// `bo`'s initial design (Sobol points before the model is used).
    Initial,
    /// The strategy could not follow its rule and proposed by a simpler one; `reason` says
    /// why and what proposed instead (a model that failed to fit: a random point; EHVI's box
    /// decomposition too large: ParEGO's scalarization; an exhausted neighbourhood, ...).
    Fallback {
        /// Why.
        reason: String,
    },
    /// Copied from an earlier study to warm-start this one; not counted as one of its trials.
    WarmStart,
    /// Given by hand (an enqueued configuration, or a result told from outside).
    Manual,
}

impl Source {
    /// The CSV text: `model`, `initial`, `fallback: <reason>`, `warm-start`, `manual`.
    pub fn text(&self) -> String {
        match self {
            Source::Model => "model".into(),
            Source::Initial => "initial".into(),
            Source::Fallback { reason } => format!("fallback: {reason}"),
            Source::WarmStart => "warm-start".into(),
            Source::Manual => "manual".into(),
        }
    }
    /// Parses [`Source::text`].
    pub fn parse(s: &str) -> Option<Self> {
        Some(match s {
            "model" => Source::Model,
            "initial" => Source::Initial,
            "warm-start" => Source::WarmStart,
            "manual" => Source::Manual,
            _ => Source::Fallback {
                reason: s
                    .strip_prefix("fallback")?
                    .trim_start_matches(':')
                    .trim()
                    .into(),
            },
        })
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
    /// The objectives' values when complete, one per direction of the study (for a pruned
    /// trial: its last reported value; empty otherwise).
    pub values: Vec<f64>,
    /// Extra metrics, in the order reported.
    pub metrics: Vec<(String, f64)>,
    /// Intermediate values `(step, value)` reported while it ran.
    pub intermediate: Vec<(u64, f64)>,
    /// Where its parameters came from.
    pub source: Source,
    /// When it was asked (for a re-queued trial: when it last started).
    pub started_at: Option<SystemTime>,
    /// When it was told.
    pub finished_at: Option<SystemTime>,
    /// Seconds the strategy spent proposing it.
    pub suggest_s: f64,
    /// Why it failed, or a note on its history (an interruption it was re-queued after).
    pub error: Option<String>,
    /// What the strategy kept from proposing it (for `bo`: the fitted GP's hyperparameters,
    /// from which the next fit starts), stored with the trial so that a resumed study
    /// proposes as the uninterrupted one. Not in the CSV.
    pub strategy_state: Option<String>,
}

impl Trial {
    /// A pending trial with these parameters and nothing else recorded.
    pub fn new(number: usize, params: Assignment) -> Self {
        Trial {
            number,
            state: TrialState::Running,
            params,
            values: Vec::new(),
            metrics: Vec::new(),
            intermediate: Vec::new(),
            source: Source::Model,
            started_at: None,
            finished_at: None,
            suggest_s: 0.0,
            error: None,
            strategy_state: None,
        }
    }
    /// The first objective's value (the only one of a single-objective study).
    pub fn value(&self) -> Option<f64> {
        self.values.first().copied()
    }
    /// Seconds between asking and telling.
    pub fn duration_s(&self) -> Option<f64> {
        match (self.started_at, self.finished_at) {
            (Some(a), Some(b)) => Some(b.duration_since(a).map(|d| d.as_secs_f64()).unwrap_or(0.0)),
            _ => None,
        }
    }
    /// A metric by name.
    pub fn metric(&self, name: &str) -> Option<f64> {
        self.metrics.iter().find(|(n, _)| n == name).map(|m| m.1)
    }
    /// The last reported step, if any.
    pub fn last_step(&self) -> Option<u64> {
        self.intermediate.last().map(|s| s.0)
    }
}

/// What an evaluation reports.
#[derive(Clone, Debug, PartialEq)]
pub enum Outcome {
    /// The objectives' values (one per direction of the study) and optional extra metrics.
    Complete {
        /// The objectives.
        values: Vec<f64>,
        /// Extra metrics.
        metrics: Vec<(String, f64)>,
    },
    /// The evaluation failed.
    Failed {
        /// Why.
        reason: String,
    },
    /// Stopped early by a pruner, with the last intermediate value if any.
    Pruned {
        /// Last value seen.
        value: Option<f64>,
    },
    /// The evaluation was stopped before it finished for a reason that says nothing about the
    /// configuration (Ctrl-C, a signal, a lost worker): the trial goes back to the queue with
    /// its number and parameters, to be run again, and stays out of the model meanwhile.
    Interrupted {
        /// What stopped it.
        reason: String,
    },
}

impl Outcome {
    /// A complete single-objective result without metrics.
    pub fn value(v: f64) -> Self {
        Outcome::Complete {
            values: vec![v],
            metrics: vec![],
        }
    }
    /// A complete single-objective result with metrics.
    pub fn with_metrics(v: f64, metrics: Vec<(String, f64)>) -> Self {
        Outcome::Complete {
            values: vec![v],
            metrics,
        }
    }
    /// A failure.
    pub fn failed(reason: impl Into<String>) -> Self {
        Outcome::Failed {
            reason: reason.into(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_round_trip() {
        for s in [
            TrialState::Running,
            TrialState::Queued,
            TrialState::Complete,
            TrialState::Failed,
            TrialState::Pruned,
        ] {
            assert_eq!(TrialState::parse(s.name()), Some(s));
        }
        for s in [
            Source::Model,
            Source::Initial,
            Source::WarmStart,
            Source::Manual,
            Source::Fallback {
                reason: "the GP: not positive definite".into(),
            },
        ] {
            assert_eq!(Source::parse(&s.text()), Some(s));
        }
        assert_eq!(Source::parse("oracle"), None);
    }
}
