//! `evolution`: regularized evolution (Real et al. 2019): tournament selection among the most
//! recent complete trials, one mutation per child.

use rand::{Rng, RngCore};

use super::{fresh_random, Context, Proposal, Strategy};
use crate::space::{Assignment, ParamKind, Space, Value};
use crate::trial::{Source, Trial};
use crate::TunerError;

/// Settings of the `evolution` strategy.
#[derive(Clone, Debug, PartialEq)]
pub struct EvolutionConfig {
    /// Population: the most recent complete trials (default 20).
    pub population: usize,
    /// Tournament size (default 5).
    pub sample: usize,
}

impl Default for EvolutionConfig {
    fn default() -> Self {
        EvolutionConfig {
            population: 20,
            sample: 5,
        }
    }
}

impl EvolutionConfig {
    /// Checks the settings: population ≥ 2, 1 ≤ sample ≤ population.
    pub fn check(&self) -> Result<(), TunerError> {
        if self.population < 2 || self.sample < 1 || self.sample > self.population {
            return Err(TunerError::InvalidConfig {
                name: "evolution",
                value: format!("population {}, sample {}", self.population, self.sample),
                reason: "need population ≥ 2 and 1 ≤ sample ≤ population".into(),
            });
        }
        Ok(())
    }
}

/// Changes one active parameter of `parent` to another value (a different choice, or a fresh
/// draw on a numeric scale); parameters that become active get random values.
pub fn mutate(space: &Space, parent: &Assignment, rng: &mut dyn RngCore) -> Assignment {
    let active: Vec<usize> = (0..parent.len()).filter(|&i| parent[i].is_some()).collect();
    let fill: Vec<Value> = space
        .params()
        .iter()
        .zip(parent)
        .map(|(p, v)| {
            v.clone()
                .unwrap_or_else(|| p.from_unit(rng.random::<f64>()))
        })
        .collect();
    let mut values = fill;
    if let Some(&k) = active.get(rng.random_range(0..active.len().max(1))) {
        let p = &space.params()[k];
        let old = values[k].clone();
        for _ in 0..20 {
            let v = match &p.kind {
                ParamKind::Categorical { choices } if choices.len() > 1 => {
                    Value::Cat(choices[rng.random_range(0..choices.len())].clone())
                }
                _ => p.from_unit(rng.random::<f64>()),
            };
            if v != old {
                values[k] = v;
                break;
            }
        }
    }
    space.assign(values)
}

/// Regularized evolution.
pub(crate) struct Evolution {
    config: EvolutionConfig,
}

impl Evolution {
    pub(crate) fn new(config: EvolutionConfig) -> Self {
        Evolution { config }
    }
}

impl Strategy for Evolution {
    fn name(&self) -> &'static str {
        "evolution"
    }
    fn suggest(&mut self, ctx: &Context<'_>) -> Result<Proposal, TunerError> {
        let mut rng = ctx.rng(2);
        let complete = ctx.complete();
        if complete.len() < self.config.population {
            return Ok(Proposal::model(fresh_random(ctx, &mut rng)));
        }
        // The population is the most recent complete trials (aging).
        let population = &complete[complete.len() - self.config.population..];
        let mut best: Option<(&Trial, f64)> = None;
        for _ in 0..self.config.sample {
            let (t, v) = population[rng.random_range(0..population.len())];
            if best.is_none_or(|(_, bv)| v > bv) {
                best = Some((t, v));
            }
        }
        let Some((parent, _)) = best else {
            return Ok(Proposal::model(fresh_random(ctx, &mut rng)));
        };
        let mut child = mutate(ctx.space, &parent.params, &mut rng);
        for _ in 0..50 {
            if !ctx.seen(&child) {
                return Ok(Proposal::model(child));
            }
            child = mutate(ctx.space, &parent.params, &mut rng);
        }
        Ok(Proposal {
            params: child,
            source: Source::Fallback {
                reason: "every mutation of the parent tried was already evaluated".into(),
            },
            state: None,
        })
    }
}
