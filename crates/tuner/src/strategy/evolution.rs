//! `evolution`: regularized evolution (Real et al. 2019): tournament selection among the most
//! recent complete trials, one mutation per child. In a study of several objectives, NSGA-II
//! (Deb et al. 2002) in steady state: the population is the best `population` complete trials
//! by non-dominated sorting and crowding distance, parents are picked by binary tournaments on
//! that order, and a child is their uniform crossover, mutated once.

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
        if ctx.directions.len() > 1 {
            return Ok(self.nsga2(ctx));
        }
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
        Ok(unseen_child(ctx, &mut rng, |rng| {
            mutate(ctx.space, &parent.params, rng)
        }))
    }
}

/// The first child `make` draws that is not an existing trial (50 tries).
fn unseen_child(
    ctx: &Context<'_>,
    rng: &mut dyn RngCore,
    mut make: impl FnMut(&mut dyn RngCore) -> Assignment,
) -> Proposal {
    let mut child = make(rng);
    for _ in 0..50 {
        if !ctx.seen(&child) {
            return Proposal::model(child);
        }
        child = make(rng);
    }
    Proposal {
        params: child,
        source: Source::Fallback {
            reason: "every child of the parents tried was already evaluated".into(),
        },
        state: None,
    }
}

/// Each parameter from either parent with equal odds (inactive ones filled at random), then
/// made consistent with the space's conditions.
fn crossover(space: &Space, a: &Assignment, b: &Assignment, rng: &mut dyn RngCore) -> Assignment {
    let values: Vec<Value> = space
        .params()
        .iter()
        .zip(a.iter().zip(b))
        .map(|(p, (x, y))| {
            let pick = if rng.random::<bool>() { x } else { y };
            pick.clone()
                .or_else(|| x.clone())
                .or_else(|| y.clone())
                .unwrap_or_else(|| p.from_unit(rng.random::<f64>()))
        })
        .collect();
    space.assign(values)
}

impl Evolution {
    /// NSGA-II's proposal in a study of several objectives.
    fn nsga2(&self, ctx: &Context<'_>) -> Proposal {
        let mut rng = ctx.rng(2);
        let scored: Vec<(&Trial, Vec<f64>)> = ctx
            .trials
            .iter()
            .filter_map(|t| crate::pareto::oriented(t, ctx.directions).map(|y| (t, y)))
            .collect();
        if scored.len() < self.config.population {
            return Proposal::model(fresh_random(ctx, &mut rng));
        }
        let points: Vec<Vec<f64>> = scored.iter().map(|(_, y)| y.clone()).collect();
        let rank = crate::pareto::ranks(&points);
        let mut crowd = vec![0.0; points.len()];
        let top = rank
            .iter()
            .copied()
            .filter(|&r| r != usize::MAX)
            .max()
            .unwrap_or(0);
        for r in 0..=top {
            let members: Vec<usize> = (0..points.len()).filter(|&i| rank[i] == r).collect();
            for (i, c) in members
                .iter()
                .zip(crate::pareto::crowding(&points, &members))
            {
                crowd[*i] = c;
            }
        }
        // Survivors: by front, then by crowding distance (larger first), then by age.
        let mut order: Vec<usize> = (0..points.len()).collect();
        order.sort_by(|&a, &b| rank[a].cmp(&rank[b]).then(crowd[b].total_cmp(&crowd[a])));
        order.truncate(self.config.population);
        // Binary tournaments on that order (a smaller position is better).
        let pick = |rng: &mut dyn RngCore| {
            let a = rng.random_range(0..order.len());
            let b = rng.random_range(0..order.len());
            scored[order[a.min(b)]].0
        };
        let (p1, p2) = (pick(&mut rng), pick(&mut rng));
        unseen_child(ctx, &mut rng, |rng| {
            let child = crossover(ctx.space, &p1.params, &p2.params, rng);
            mutate(ctx.space, &child, rng)
        })
    }
}
