//! Hyperband (Li et al. 2018) over asynchronous successive halving, as Optuna's
//! `HyperbandPruner`.

use super::asha::AshaPruner;
use super::Pruner;
use crate::trial::{Direction, Trial};

/// Hyperband: several ASHA brackets, bracket `b` with its first rung at
/// `min_step · factor^b` (the last bracket never prunes). A trial's bracket is a function of
/// its number, drawn with each bracket's share of the budget (Optuna's allocation:
/// `⌈B · factor^s / (s + 1)⌉` with `s = B − 1 − b`); trials compete only within their bracket.
#[derive(Clone, Debug)]
pub struct HyperbandPruner {
    brackets: Vec<AshaPruner>,
    /// Cumulative budget shares.
    shares: Vec<u64>,
    max_step: u64,
}

impl HyperbandPruner {
    /// Brackets for `min_step..=max_step` with reduction factor `factor`.
    pub fn new(min_step: u64, max_step: u64, factor: u64) -> Self {
        let factor = factor.max(2);
        let mut n = 0u32;
        let mut step = min_step.max(1);
        while step <= max_step && n < 32 {
            n += 1;
            step = step.saturating_mul(factor);
        }
        let n = n.max(1);
        let brackets = (0..n)
            .map(|b| AshaPruner::new(min_step, max_step, factor, b))
            .collect();
        let mut total = 0u64;
        let shares = (0..n)
            .map(|b| {
                let s = n - 1 - b;
                let share = (n as u64)
                    .saturating_mul(factor.saturating_pow(s))
                    .div_ceil(s as u64 + 1);
                total = total.saturating_add(share.max(1));
                total
            })
            .collect();
        HyperbandPruner {
            brackets,
            shares,
            max_step,
        }
    }
    /// The number of brackets.
    pub fn brackets(&self) -> usize {
        self.brackets.len()
    }
    /// The bracket of trial `number`.
    pub fn bracket(&self, number: usize) -> usize {
        let total = *self.shares.last().unwrap_or(&1);
        let r = splitmix(number as u64) % total.max(1);
        self.shares.iter().position(|&c| r < c).unwrap_or(0)
    }
}

fn splitmix(mut z: u64) -> u64 {
    z = z.wrapping_add(0x9E37_79B9_7F4A_7C15);
    z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
    z ^ (z >> 31)
}

impl Pruner for HyperbandPruner {
    fn prune(&self, trial: &Trial, trials: &[Trial], direction: Direction) -> bool {
        let b = self.bracket(trial.number);
        let same = trials.iter().filter(|t| self.bracket(t.number) == b);
        self.brackets[b].prune_among(trial, same, direction)
    }
    fn max_step(&self) -> Option<u64> {
        Some(self.max_step)
    }
}
