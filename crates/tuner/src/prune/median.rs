//! The median stopping rule (Golovin et al. 2017), as Optuna's `MedianPruner`.

use super::Pruner;
use crate::trial::{Direction, Trial, TrialState};

/// Stops a trial at step `s` (from `min_step` on) when its best value so far is worse than
/// the median of the complete trials' values at `s`, once `startup_trials` trials are
/// complete.
#[derive(Clone, Debug)]
pub struct MedianPruner {
    /// No pruning before this step.
    pub min_step: u64,
    /// The full budget (reports beyond it are not judged).
    pub max_step: u64,
    /// Complete trials needed first.
    pub startup_trials: usize,
}

impl Pruner for MedianPruner {
    fn prune(&self, trial: &Trial, trials: &[Trial], direction: Direction) -> bool {
        let Some(&(step, _)) = trial.intermediate.last() else {
            return false;
        };
        if step < self.min_step || step > self.max_step {
            return false;
        }
        let complete: Vec<&Trial> = trials
            .iter()
            .filter(|t| t.state == TrialState::Complete && t.number != trial.number)
            .collect();
        if complete.len() < self.startup_trials.max(1) {
            return false;
        }
        // Each complete trial's value at `step`: the last one reported at or before it.
        let mut at: Vec<f64> = complete
            .iter()
            .filter_map(|t| {
                t.intermediate
                    .iter()
                    .take_while(|(s, _)| *s <= step)
                    .last()
                    .map(|&(_, v)| direction.to_max(v))
            })
            .filter(|v| v.is_finite())
            .collect();
        if at.is_empty() {
            return false;
        }
        at.sort_by(f64::total_cmp);
        let median = crate::bo::warp::quantile(&at, 0.5);
        let best = trial
            .intermediate
            .iter()
            .map(|&(_, v)| direction.to_max(v))
            .fold(f64::NEG_INFINITY, f64::max);
        best < median
    }
    fn max_step(&self) -> Option<u64> {
        Some(self.max_step)
    }
}
