//! Asynchronous successive halving (ASHA, Li et al. 2020), as Optuna's
//! `SuccessiveHalvingPruner`.

use super::{crosses, value_at, Pruner};
use crate::trial::{Direction, Trial};

/// Asynchronous successive halving: rungs at `min_step · factor^(k + rate)` below
/// `max_step`; a trial reaching a rung goes on only if its value there is among the best
/// `1/factor` of the values every trial reached that rung with (the best one always goes on).
/// Nothing waits: the comparison is with the trials that got there first.
#[derive(Clone, Debug)]
pub struct AshaPruner {
    rungs: Vec<u64>,
    max_step: u64,
    factor: u64,
}

impl AshaPruner {
    /// Rungs from `min_step · factor^rate` (rate is Optuna's `min_early_stopping_rate`).
    pub fn new(min_step: u64, max_step: u64, factor: u64, rate: u32) -> Self {
        let mut rungs = Vec::new();
        let mut step = min_step.max(1).saturating_mul(factor.saturating_pow(rate));
        while step < max_step {
            rungs.push(step);
            step = step.saturating_mul(factor.max(2));
        }
        AshaPruner {
            rungs,
            max_step,
            factor: factor.max(2),
        }
    }
    /// The steps at which trials are compared.
    pub fn rungs(&self) -> &[u64] {
        &self.rungs
    }

    /// The decision among `competitors` (the trials this one is compared with).
    pub(crate) fn prune_among<'a>(
        &self,
        trial: &Trial,
        competitors: impl Iterator<Item = &'a Trial> + Clone,
        direction: Direction,
    ) -> bool {
        let Some(&(step, _)) = trial.intermediate.last() else {
            return false;
        };
        if step > self.max_step {
            return false;
        }
        for &rung in self.rungs.iter().filter(|&&r| r <= step) {
            if !crosses(trial, rung) {
                continue;
            }
            let Some(mine) = value_at(trial, rung).map(|v| direction.to_max(v)) else {
                continue;
            };
            let mut values: Vec<f64> = competitors
                .clone()
                .filter(|t| t.number != trial.number)
                .filter_map(|t| value_at(t, rung))
                .map(|v| direction.to_max(v))
                .filter(|v| v.is_finite())
                .collect();
            values.push(mine);
            values.sort_by(|a, b| b.total_cmp(a));
            let keep = (values.len() / self.factor as usize).max(1);
            if mine < values[keep - 1] {
                return true;
            }
        }
        false
    }
}

impl Pruner for AshaPruner {
    fn prune(&self, trial: &Trial, trials: &[Trial], direction: Direction) -> bool {
        self.prune_among(trial, trials.iter(), direction)
    }
    fn max_step(&self) -> Option<u64> {
        Some(self.max_step)
    }
}
