//! REINFORCE (Williams 1992) over the parameters' choices, with a moving-average baseline: the
//! reinforcement-learning search that NAS started with (Zoph & Le 2017), in the form the
//! NAS-Bench-201 paper uses as a baseline.
//!
//! The policy is a product of independent categorical distributions, one per parameter:
//! categorical parameters over their choices, integers with at most `bins` values over their
//! values, and other numeric parameters over `bins` equal slices of their scale (a value is
//! drawn uniformly inside the chosen slice). After each complete trial, in order, with reward
//! `r` (the objective in "larger is better" orientation, divided by the standard deviation of
//! the rewards seen so far), the baseline moves to `b ← m b + (1 − m) r` and every active
//! parameter's logits take the step `lr (r − b) ∇ log π(choice)`. The policy is rebuilt from
//! the record at every proposal, so it depends only on the trials told.

use rand::{Rng, RngCore};

use super::{Context, Proposal, Strategy};
use crate::space::{Assignment, Param, ParamKind, Space, Value};
use crate::trial::{Source, TrialState};
use crate::TunerError;

/// Settings of the `reinforce` strategy (REINFORCE with a moving-average baseline, as in the
/// NAS-Bench-201 paper's baselines).
#[derive(Clone, Debug, PartialEq)]
pub struct ReinforceConfig {
    /// Learning rate of the policy logits (default 0.1).
    pub learning_rate: f64,
    /// Momentum of the moving-average baseline (default 0.9).
    pub baseline_momentum: f64,
    /// Bins for numeric parameters (default 10).
    pub bins: usize,
}

impl Default for ReinforceConfig {
    fn default() -> Self {
        ReinforceConfig {
            learning_rate: 0.1,
            baseline_momentum: 0.9,
            bins: 10,
        }
    }
}

impl ReinforceConfig {
    /// Checks the settings: learning_rate > 0, baseline_momentum in [0, 1), bins ≥ 2.
    pub fn check(&self) -> Result<(), TunerError> {
        if !(self.learning_rate > 0.0
            && self.learning_rate.is_finite()
            && (0.0..1.0).contains(&self.baseline_momentum)
            && self.bins >= 2)
        {
            return Err(TunerError::InvalidConfig {
                name: "reinforce",
                value: format!("{self:?}"),
                reason: "need learning_rate > 0, baseline_momentum in [0, 1), bins ≥ 2".into(),
            });
        }
        Ok(())
    }
}

/// The `reinforce` strategy.
pub struct Reinforce {
    config: ReinforceConfig,
    arms: Vec<usize>,
}

impl Reinforce {
    /// The strategy for a space.
    pub fn new(space: &Space, config: ReinforceConfig) -> Self {
        let arms = space
            .params()
            .iter()
            .map(|p| match &p.kind {
                ParamKind::Categorical { choices } => choices.len(),
                ParamKind::Int {
                    low,
                    high,
                    step,
                    log: false,
                } if Param::int_count(*low, *high, *step) <= config.bins as u64 => {
                    Param::int_count(*low, *high, *step) as usize
                }
                _ => config.bins,
            })
            .collect();
        Reinforce { config, arms }
    }

    /// The arm (choice index) a value falls in.
    fn arm_of(&self, space: &Space, k: usize, v: &Value) -> usize {
        let p = &space.params()[k];
        let arms = self.arms[k];
        match (&p.kind, v) {
            (ParamKind::Categorical { choices }, Value::Cat(c)) => {
                choices.iter().position(|x| x == c).unwrap_or(0)
            }
            (
                ParamKind::Int {
                    low,
                    step,
                    log: false,
                    high,
                },
                Value::Int(i),
            ) if Param::int_count(*low, *high, *step) == arms as u64 => {
                ((*i as i128 - *low as i128) / *step as i128) as usize
            }
            _ => {
                // Position on the scale, sliced into `arms` bins.
                let u = unit_position(&p.kind, v);
                ((u * arms as f64) as usize).min(arms - 1)
            }
        }
    }

    fn value_of(&self, space: &Space, k: usize, arm: usize, rng: &mut dyn RngCore) -> Value {
        let p = &space.params()[k];
        let arms = self.arms[k];
        match &p.kind {
            ParamKind::Categorical { choices } => Value::Cat(choices[arm].clone()),
            ParamKind::Int {
                low,
                step,
                log: false,
                high,
            } if Param::int_count(*low, *high, *step) == arms as u64 => {
                Value::Int(Param::int_value(*low, *high, *step, arm as u64))
            }
            _ => {
                let u = (arm as f64 + rng.random::<f64>()) / arms as f64;
                p.from_unit(u)
            }
        }
    }

    /// The logits after learning from the complete trials of `ctx`.
    fn logits(&self, ctx: &Context<'_>) -> Vec<Vec<f64>> {
        let mut logits: Vec<Vec<f64>> = self.arms.iter().map(|&a| vec![0.0; a]).collect();
        let rewards: Vec<(usize, f64)> = ctx
            .trials
            .iter()
            .filter(|t| t.state == TrialState::Complete)
            .filter_map(|t| t.value().map(|v| (t.number, ctx.direction.to_max(v))))
            .collect();
        let mut baseline: Option<f64> = None;
        let (mut sum, mut sum2) = (0.0, 0.0);
        for (count, &(number, r)) in rewards.iter().enumerate() {
            sum += r;
            sum2 += r * r;
            let n = (count + 1) as f64;
            let var = (sum2 / n - (sum / n).powi(2)).max(0.0);
            let scale = if var > 0.0 { var.sqrt() } else { 1.0 };
            let r = r / scale;
            let b = baseline.map_or(r, |b| b / scale);
            let advantage = r - b;
            let trial = &ctx.trials[number];
            for (k, v) in trial.params.iter().enumerate() {
                let Some(v) = v else { continue };
                let arm = self.arm_of(ctx.space, k, v);
                let probs = softmax(&logits[k]);
                for (j, l) in logits[k].iter_mut().enumerate() {
                    let grad = if j == arm { 1.0 - probs[j] } else { -probs[j] };
                    *l += self.config.learning_rate * advantage * grad;
                }
            }
            // The baseline is kept in raw units.
            let raw = r * scale;
            baseline = Some(match baseline {
                None => raw,
                Some(b) => {
                    self.config.baseline_momentum * b + (1.0 - self.config.baseline_momentum) * raw
                }
            });
        }
        logits
    }
}

fn unit_position(kind: &ParamKind, v: &Value) -> f64 {
    let x = v.as_f64().unwrap_or(0.0);
    let u = match kind {
        ParamKind::Float {
            low,
            high,
            log: true,
        } => (x.ln() - low.ln()) / (high.ln() - low.ln()),
        ParamKind::Float {
            low,
            high,
            log: false,
        } => (x - low) / (high - low),
        ParamKind::Int {
            low,
            high,
            log: true,
            ..
        } => (x.ln() - (*low as f64).ln()) / ((*high as f64).ln() - (*low as f64).ln()),
        ParamKind::Int { low, high, .. } => (x - *low as f64) / (*high - *low) as f64,
        ParamKind::Categorical { .. } => 0.0,
    };
    u.clamp(0.0, 1.0)
}

fn softmax(logits: &[f64]) -> Vec<f64> {
    let m = logits.iter().copied().fold(f64::NEG_INFINITY, f64::max);
    let e: Vec<f64> = logits.iter().map(|l| (l - m).exp()).collect();
    let s: f64 = e.iter().sum();
    e.into_iter().map(|v| v / s).collect()
}

impl Strategy for Reinforce {
    fn name(&self) -> &'static str {
        "reinforce"
    }
    fn suggest(&mut self, ctx: &Context<'_>) -> Result<Proposal, TunerError> {
        let logits = self.logits(ctx);
        let mut rng = ctx.rng(5);
        let draw = |rng: &mut dyn RngCore| -> Assignment {
            let values = (0..ctx.space.len())
                .map(|k| {
                    let probs = softmax(&logits[k]);
                    let u: f64 = rng.random();
                    let mut acc = 0.0;
                    let mut arm = probs.len() - 1;
                    for (j, p) in probs.iter().enumerate() {
                        acc += p;
                        if u < acc {
                            arm = j;
                            break;
                        }
                    }
                    self.value_of(ctx.space, k, arm, rng)
                })
                .collect();
            ctx.space.assign(values)
        };
        let mut a = draw(&mut rng);
        for _ in 0..50 {
            if !ctx.seen(&a) {
                return Ok(Proposal::model(a));
            }
            a = draw(&mut rng);
        }
        Ok(Proposal {
            params: a,
            source: Source::Fallback {
                reason: "the policy's draws tried were all evaluated already".into(),
            },
            state: None,
        })
    }
}
