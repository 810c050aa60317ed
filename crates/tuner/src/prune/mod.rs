//! Pruners: stop trials whose intermediate values say they will not win.
//!
//! A trial reports `(step, value)` pairs as it runs ([`crate::run::TrialHandle::report`], or a
//! command's `{"step": N, "value": V}` lines); after each report the run loop asks the study's
//! [`Pruner`] whether to stop it. A pruned trial is recorded with state `pruned` and its last
//! reported value and step, and `bo` learns from it (see [`crate::bo::TrainingData`]).
//!
//! | pruner | stops a trial at step `s` when | compared with |
//! |---|---|---|
//! | [`MedianPruner`] | its best value so far is worse than the median of the complete trials' values at `s` (from `min_step` on, once 5 trials are complete) | complete trials |
//! | [`AshaPruner`] | it reaches a rung (`min_step · factorᵏ`) and is not in the best `1/factor` of the trials that reached that rung | every trial that reached the rung |
//! | [`HyperbandPruner`] | as ASHA, in the bracket its number falls in (brackets start their rungs at `min_step · factorᵇ`) | the trials of its bracket |
//!
//! The semantics are Optuna's (`MedianPruner`, `SuccessiveHalvingPruner` with
//! `min_early_stopping_rate = 0`, `HyperbandPruner`), with its defaults: `min_step = 1`,
//! `reduction_factor = 3`. Pruners are functions of the stored trials, so several workers
//! sharing a study prune alike.
//!
//! ```
//! use nasbo_tuner::prune::{PrunerConfig, PrunerKind};
//! use nasbo_tuner::{Direction, Trial, TrialState};
//!
//! let pruner = PrunerConfig::new(PrunerKind::Asha, 9).build()?.unwrap();
//! // Three trials reached step 1 (the first rung), minimizing: 0.2, 0.5 and now 0.9.
//! let mut trials: Vec<Trial> = (0..3).map(|n| Trial::new(n, vec![])).collect();
//! for (t, v) in trials.iter_mut().zip([0.2, 0.5, 0.9]) {
//!     t.intermediate.push((1, v));
//! }
//! assert!(pruner.prune(&trials[2], &trials, Direction::Minimize));
//! assert!(!pruner.prune(&trials[0], &trials, Direction::Minimize));
//! # Ok::<(), nasbo_tuner::TunerError>(())
//! ```

mod asha;
mod hyperband;
mod median;

pub use asha::AshaPruner;
pub use hyperband::HyperbandPruner;
pub use median::MedianPruner;

use std::sync::Arc;

use crate::trial::{Direction, Trial};
use crate::TunerError;

/// Decides whether a running trial should stop, from the study's stored trials.
pub trait Pruner: Send + Sync + std::fmt::Debug {
    /// Whether `trial` (running, its latest report last in `intermediate`) should stop now.
    /// `trials` are all the study's trials (it among them).
    fn prune(&self, trial: &Trial, trials: &[Trial], direction: Direction) -> bool;
    /// The full budget in steps, when the pruner has one: reports beyond it are flagged.
    fn max_step(&self) -> Option<u64> {
        None
    }
}

/// The pruners by name, for command lines and configuration files.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum PrunerKind {
    /// No pruning.
    None,
    /// [`MedianPruner`].
    Median,
    /// [`AshaPruner`].
    Asha,
    /// [`HyperbandPruner`].
    Hyperband,
}

impl PrunerKind {
    /// Parses `none`, `median`, `asha` or `hyperband`.
    pub fn parse(s: &str) -> Result<Self, TunerError> {
        match s.to_ascii_lowercase().as_str() {
            "none" => Ok(PrunerKind::None),
            "median" => Ok(PrunerKind::Median),
            "asha" | "sha" | "successive-halving" => Ok(PrunerKind::Asha),
            "hyperband" => Ok(PrunerKind::Hyperband),
            _ => Err(TunerError::InvalidConfig {
                name: "pruner",
                value: s.into(),
                reason: "one of none, median, asha, hyperband".into(),
            }),
        }
    }
    /// The name.
    pub fn name(self) -> &'static str {
        match self {
            PrunerKind::None => "none",
            PrunerKind::Median => "median",
            PrunerKind::Asha => "asha",
            PrunerKind::Hyperband => "hyperband",
        }
    }
}

/// A pruner's settings (the params type; [`PrunerConfig::build`] checks them).
///
/// | setting | default | meaning |
/// |---|---|---|
/// | `kind` | — | which pruner |
/// | `max_step` | — | the full budget, in the objective's steps (epochs) |
/// | `min_step` | 1 | ASHA/Hyperband: the first rung; median: no pruning before it |
/// | `reduction_factor` | 3 | ASHA/Hyperband: one in `reduction_factor` trials goes on at each rung |
/// | `startup_trials` | 5 | median: complete trials needed before it prunes |
#[derive(Clone, Debug, PartialEq)]
pub struct PrunerConfig {
    /// Which pruner.
    pub kind: PrunerKind,
    /// The full budget in steps.
    pub max_step: u64,
    /// The first rung (or the warm-up of the median pruner).
    pub min_step: u64,
    /// The reduction factor.
    pub reduction_factor: u64,
    /// Complete trials the median pruner waits for.
    pub startup_trials: usize,
}

impl PrunerConfig {
    /// `kind` with a budget of `max_step` steps and Optuna's defaults for the rest.
    pub fn new(kind: PrunerKind, max_step: u64) -> Self {
        PrunerConfig {
            kind,
            max_step,
            min_step: 1,
            reduction_factor: 3,
            startup_trials: 5,
        }
    }

    /// The pruner (`None` for [`PrunerKind::None`]), or what is wrong with the settings.
    pub fn build(&self) -> Result<Option<Arc<dyn Pruner>>, TunerError> {
        let bad = |name: &'static str, value: String, reason: &str| {
            Err(TunerError::InvalidConfig {
                name,
                value,
                reason: reason.into(),
            })
        };
        if self.kind == PrunerKind::None {
            return Ok(None);
        }
        if self.max_step == 0 {
            return bad(
                "max-step",
                "0".into(),
                "at least 1 (the full budget in steps)",
            );
        }
        if self.min_step == 0 {
            return bad("min-step", "0".into(), "at least 1");
        }
        if self.min_step > self.max_step {
            return bad(
                "min-step",
                self.min_step.to_string(),
                &format!("at most --max-step ({})", self.max_step),
            );
        }
        if self.reduction_factor < 2 {
            return bad(
                "reduction-factor",
                self.reduction_factor.to_string(),
                "at least 2",
            );
        }
        Ok(Some(match self.kind {
            PrunerKind::None => unreachable!("handled above"),
            PrunerKind::Median => Arc::new(MedianPruner {
                min_step: self.min_step,
                max_step: self.max_step,
                startup_trials: self.startup_trials,
            }),
            PrunerKind::Asha => Arc::new(AshaPruner::new(
                self.min_step,
                self.max_step,
                self.reduction_factor,
                0,
            )),
            PrunerKind::Hyperband => Arc::new(HyperbandPruner::new(
                self.min_step,
                self.max_step,
                self.reduction_factor,
            )),
        }))
    }
}

/// The value a trial reported at `step`: its first report at or after it (reports may skip
/// steps), so that trials are compared at the same point of their budget.
pub(crate) fn value_at(t: &Trial, step: u64) -> Option<f64> {
    t.intermediate
        .iter()
        .find(|(s, _)| *s >= step)
        .map(|&(_, v)| v)
}

/// Whether the trial's latest report is the first one at or beyond `step`.
pub(crate) fn crosses(t: &Trial, step: u64) -> bool {
    let n = t.intermediate.len();
    match n {
        0 => false,
        _ => t.intermediate[n - 1].0 >= step && (n == 1 || t.intermediate[n - 2].0 < step),
    }
}

#[cfg(test)]
mod tests;
