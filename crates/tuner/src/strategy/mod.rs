//! Strategies behind one trait: `bo` (the default), `random`, `sobol`, `evolution` and
//! `reinforce`. A strategy's proposal is a function of what it is shown (the space, the
//! stored trials, the seed and the trial's number) and of nothing it kept from earlier
//! proposals, so a resumed study proposes what the uninterrupted one would have.

use rand::{Rng, RngCore, SeedableRng};
use rand_chacha::ChaCha8Rng;

use nasbo_acq::sobol_point;

use crate::bo::BoConfig;
use crate::space::{Assignment, Space};
use crate::trial::{Direction, Source, Trial, TrialState};
use crate::TunerError;

mod bo;
mod evolution;
mod mobo;
mod random;
mod reinforce;

pub use bo::Bo;
pub use evolution::{mutate, EvolutionConfig};
pub use reinforce::{Reinforce, ReinforceConfig};

/// What a strategy sees when it proposes trial `number`.
pub struct Context<'a> {
    /// The space.
    pub space: &'a Space,
    /// Every trial so far (pending ones are running or queued).
    pub trials: &'a [Trial],
    /// The first objective's direction.
    pub direction: Direction,
    /// Every objective's direction.
    pub directions: &'a [Direction],
    /// The study's seed.
    pub seed: u64,
    /// The number of the trial being proposed.
    pub number: usize,
}

impl Context<'_> {
    /// A generator seeded by the study's seed and the trial number, so that a proposal does not
    /// depend on how many random numbers earlier proposals drew.
    pub fn rng(&self, salt: u64) -> ChaCha8Rng {
        ChaCha8Rng::seed_from_u64(
            self.seed
                .wrapping_mul(0x9E37_79B9_7F4A_7C15)
                .wrapping_add(self.number as u64)
                .wrapping_mul(0xBF58_476D_1CE4_E5B9)
                ^ salt,
        )
    }
    /// Complete trials with their (first) values in "larger is better" orientation.
    pub fn complete(&self) -> Vec<(&Trial, f64)> {
        self.trials
            .iter()
            .filter(|t| t.state == TrialState::Complete)
            .filter_map(|t| t.value().map(|v| (t, self.direction.to_max(v))))
            .collect()
    }
    /// Whether an assignment equals that of an existing trial.
    pub fn seen(&self, a: &Assignment) -> bool {
        self.trials.iter().any(|t| &t.params == a)
    }
}

/// A strategy's proposal: the parameters and where they came from.
#[derive(Clone, Debug, PartialEq)]
pub struct Proposal {
    /// The parameters.
    pub params: Assignment,
    /// [`Source::Model`], [`Source::Initial`] or [`Source::Fallback`].
    pub source: Source,
    /// What the strategy keeps with the trial ([`Trial::strategy_state`]).
    pub state: Option<String>,
}

impl Proposal {
    /// Parameters proposed by the strategy's own rule.
    pub fn model(params: Assignment) -> Self {
        Proposal {
            params,
            source: Source::Model,
            state: None,
        }
    }
}

/// Proposes the next trial's parameters.
pub trait Strategy: Send {
    /// The strategy's name (`bo`, `random`, ...).
    fn name(&self) -> &'static str;
    /// The parameters of trial `ctx.number`.
    fn suggest(&mut self, ctx: &Context<'_>) -> Result<Proposal, TunerError>;
}

/// Which strategy a study uses.
#[derive(Clone, Debug, PartialEq)]
pub enum StrategyKind {
    /// Bayesian optimization: Sobol initial design, then a GP with LogEI.
    Bo(BoConfig),
    /// Uniform random search (log-uniform on log scales).
    Random,
    /// A scrambled Sobol sequence.
    Sobol,
    /// Regularized evolution.
    Evolution(EvolutionConfig),
    /// REINFORCE over the parameters' choices.
    Reinforce(ReinforceConfig),
}

impl StrategyKind {
    /// The names [`StrategyKind::parse`] knows.
    pub const NAMES: [&'static str; 5] = ["bo", "random", "sobol", "evolution", "reinforce"];

    /// Parses a strategy name with default settings: `bo`, `random`, `sobol`, `evolution`,
    /// `reinforce`.
    pub fn parse(name: &str) -> Option<Self> {
        Some(match name {
            "bo" => StrategyKind::Bo(BoConfig::default()),
            "random" => StrategyKind::Random,
            "sobol" => StrategyKind::Sobol,
            "evolution" => StrategyKind::Evolution(EvolutionConfig::default()),
            "reinforce" => StrategyKind::Reinforce(ReinforceConfig::default()),
            _ => return None,
        })
    }

    /// The strategy told the study's budget in trials ([`BoConfig::budget`], which sizes
    /// `bo`'s initial design); the other strategies do not use one.
    pub fn with_budget(self, trials: usize) -> Self {
        match self {
            StrategyKind::Bo(c) => StrategyKind::Bo(BoConfig {
                budget: Some(trials),
                ..c
            }),
            s => s,
        }
    }

    /// The strategy's name.
    pub fn name(&self) -> &'static str {
        match self {
            StrategyKind::Bo(_) => "bo",
            StrategyKind::Random => "random",
            StrategyKind::Sobol => "sobol",
            StrategyKind::Evolution(_) => "evolution",
            StrategyKind::Reinforce(_) => "reinforce",
        }
    }

    /// Checks the settings.
    pub fn check(&self) -> Result<(), TunerError> {
        match self {
            StrategyKind::Bo(c) => c.check(),
            StrategyKind::Random | StrategyKind::Sobol => Ok(()),
            StrategyKind::Evolution(c) => c.check(),
            StrategyKind::Reinforce(c) => c.check(),
        }
    }

    /// Builds the strategy for a space.
    pub fn build(&self, space: &Space) -> Result<Box<dyn Strategy>, TunerError> {
        self.check()?;
        Ok(match self {
            StrategyKind::Bo(c) => Box::new(Bo::new(space, c.clone())),
            StrategyKind::Random => Box::new(random::RandomSearch),
            StrategyKind::Sobol => Box::new(random::SobolSearch),
            StrategyKind::Evolution(c) => Box::new(evolution::Evolution::new(c.clone())),
            StrategyKind::Reinforce(c) => Box::new(Reinforce::new(space, c.clone())),
        })
    }
}

/// Uniformly random values for every parameter.
pub fn random_assignment(space: &Space, rng: &mut dyn RngCore) -> Assignment {
    let values = space
        .params()
        .iter()
        .map(|p| p.from_unit(rng.random::<f64>()))
        .collect();
    space.assign(values)
}

/// A random assignment not equal to any existing trial's (after a few tries, whatever comes).
pub(crate) fn fresh_random(ctx: &Context<'_>, rng: &mut dyn RngCore) -> Assignment {
    let mut a = random_assignment(ctx.space, rng);
    for _ in 0..100 {
        if !ctx.seen(&a) {
            break;
        }
        a = random_assignment(ctx.space, rng);
    }
    a
}

/// Point `index` of the space's scrambled Sobol sequence.
pub fn sobol_assignment(space: &Space, index: usize, seed: u64) -> Assignment {
    let u = sobol_point(index as u32, space.len(), seed);
    space.assign(
        space
            .params()
            .iter()
            .zip(u)
            .map(|(p, u)| p.from_unit(u))
            .collect(),
    )
}
