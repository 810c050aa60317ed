//! Strategies behind one trait: `bo` (the default), `random`, `sobol`, `evolution` and
//! `reinforce`.

use std::borrow::Cow;
use std::sync::Arc;

use nalgebra::{DMatrix, DVector};
use nasbo_acq::{
    propose, sobol_point, AcqError, AcqKind, Domain, Fantasy, Incumbent, Moments, OptimizerConfig,
    ProposalRequest, Surrogate,
};
use nasbo_gp::{GaussianProcess, GpParams};
use rand::{Rng, RngCore, SeedableRng};
use rand_chacha::ChaCha8Rng;

use crate::encode::Encoder;
use crate::space::{Assignment, ParamKind, Space, Value};
use crate::study::{Direction, Trial, TrialState};
use crate::warp::YeoJohnson;
use crate::TunerError;

/// What a strategy sees when it proposes trial `number`.
pub struct Context<'a> {
    /// The space.
    pub space: &'a Space,
    /// Every trial so far (pending ones have state `Running`).
    pub trials: &'a [Trial],
    /// Minimize or maximize.
    pub direction: Direction,
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
    /// Complete trials with their values in "larger is better" orientation.
    pub fn complete(&self) -> Vec<(&Trial, f64)> {
        self.trials
            .iter()
            .filter(|t| t.state == TrialState::Complete)
            .filter_map(|t| t.value.map(|v| (t, self.direction.to_max(v))))
            .collect()
    }
    /// Whether an assignment equals that of an existing trial.
    pub fn seen(&self, a: &Assignment) -> bool {
        self.trials.iter().any(|t| &t.params == a)
    }
}

/// Proposes the next trial's parameters.
pub trait Strategy: Send {
    /// The strategy's name (`bo`, `random`, ...).
    fn name(&self) -> &'static str;
    /// The parameters of trial `ctx.number`.
    fn suggest(&mut self, ctx: &Context<'_>) -> Result<Assignment, TunerError>;
}

/// Settings of the `bo` strategy.
///
/// | setting | default | meaning |
/// |---|---|---|
/// | `n_initial` | `max(5, d + 1)` | Sobol points before the model is used (`d` = number of parameters) |
/// | `acquisition` | LogEI | the acquisition function |
/// | `noisy` | `false` | a noisy objective: BoTorch's noise prior `LogNormal(−4, 1)` and floor `1e-4` instead of `LogNormal(−8, 1)` and `1e-6`, incumbent = best posterior mean, re-evaluating a point allowed |
/// | `output_warp` | `Auto` | a Yeo–Johnson power transform of the values before the GP sees them: on for a deterministic objective, off for a noisy one ([`OutputWarp`]) |
/// | `boundary_prior` | `0.25` | depth of the quadratic prior mean, in standard deviations of the values, from the centre of the box to a face; 0 turns it off |
/// | `prior_mean` | `Auto` | level of the GP's constant prior mean: the worst value seen for a deterministic objective, the average for a noisy one ([`MeanLevel`]) |
/// | `optimizer` | 1,024 raw samples, 10 starts | the acquisition optimizer |
/// | `fantasy` | Kriging believer | what is assumed at pending trials |
///
/// What `output_warp` and `boundary_prior` change, measured on the test functions and tables
/// (`docs/benchmarks.md`): the power transform lets the GP model the region near the optimum
/// of a skewed objective (Rosenbrock's valley) instead of its rim; the prior mean keeps the
/// proposals off the faces of the box, where a constant-mean GP's variance is largest; the
/// worst-value prior mean stops BO from spending late trials in regions without data, which a
/// GP centred on the average of its (mostly good) observations expects to be as good as that
/// average.
#[derive(Clone, Debug, PartialEq)]
pub struct BoConfig {
    /// Initial design size (`None`: `max(5, d + 1)`).
    pub n_initial: Option<usize>,
    /// Acquisition function.
    pub acquisition: AcqKind,
    /// Noisy objective.
    pub noisy: bool,
    /// Optimizer settings.
    pub optimizer: OptimizerConfig,
    /// Fantasies at pending trials.
    pub fantasy: Fantasy,
    /// Transform of the values before the GP sees them.
    pub output_warp: OutputWarp,
    /// Depth of the quadratic prior mean (standard deviations from the centre to a face).
    pub boundary_prior: f64,
    /// Level of the constant prior mean.
    pub prior_mean: MeanLevel,
}

impl Default for BoConfig {
    fn default() -> Self {
        BoConfig {
            n_initial: None,
            acquisition: AcqKind::default(),
            noisy: false,
            optimizer: OptimizerConfig::default(),
            fantasy: Fantasy::default(),
            output_warp: OutputWarp::Auto,
            boundary_prior: 0.25,
            prior_mean: MeanLevel::Auto,
        }
    }
}

/// Level of BO's constant prior mean: what the GP expects where it has no data (the boundary
/// prior's bowl is added to it).
///
/// BO's observations gather where the values are good, so their average overstates the
/// average of the space; a GP centred on it expects unexplored regions to be about as good as
/// the explored good ones, and late in a study expected improvement sends trials there.
/// Centring on the worst value seen makes an unexplored region look poor until data say
/// otherwise. Measured over 30 seeds on the test functions (`docs/benchmarks.md`), the worst
/// level lowers the final regret on all five; on noisy tables it did not help.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Default)]
pub enum MeanLevel {
    /// [`Worst`](Self::Worst) for a deterministic objective, [`Average`](Self::Average) for a
    /// noisy one (whose lowest value is mostly its noise).
    #[default]
    Auto,
    /// The average of the values seen (the usual standardization).
    Average,
    /// The worst value seen.
    Worst,
}

/// Transform of the objective's values before BO's GP sees them. Monotone, so the ranking of
/// the trials is kept.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Default)]
pub enum OutputWarp {
    /// [`PowerTransform`](Self::PowerTransform) for a deterministic objective,
    /// [`Identity`](Self::Identity) for a noisy one (a power transform makes the noise level
    /// depend on the value, which the GP's single noise variance cannot follow).
    #[default]
    Auto,
    /// A Yeo–Johnson transform of the standardized values, its power fitted by maximum
    /// likelihood at every step ([`crate::warp`]).
    PowerTransform,
    /// The values as observed.
    Identity,
}

/// Settings of the `evolution` strategy (regularized evolution, Real et al. 2019).
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

    /// Builds the strategy for a space.
    pub fn build(&self, space: &Space) -> Result<Box<dyn Strategy>, TunerError> {
        Ok(match self {
            StrategyKind::Bo(c) => {
                c.optimizer.check()?;
                if !(c.boundary_prior.is_finite() && c.boundary_prior >= 0.0) {
                    return Err(TunerError::InvalidConfig {
                        name: "boundary_prior",
                        value: c.boundary_prior.to_string(),
                        reason: "must be finite and ≥ 0".into(),
                    });
                }
                Box::new(Bo::new(space, c.clone()))
            }
            StrategyKind::Random => Box::new(RandomSearch),
            StrategyKind::Sobol => Box::new(SobolSearch),
            StrategyKind::Evolution(c) => {
                if c.population < 2 || c.sample < 1 || c.sample > c.population {
                    return Err(TunerError::InvalidConfig {
                        name: "evolution",
                        value: format!("population {}, sample {}", c.population, c.sample),
                        reason: "need population ≥ 2 and 1 ≤ sample ≤ population".into(),
                    });
                }
                Box::new(Evolution { config: c.clone() })
            }
            StrategyKind::Reinforce(c) => {
                if !(c.learning_rate > 0.0
                    && (0.0..1.0).contains(&c.baseline_momentum)
                    && c.bins >= 2)
                {
                    return Err(TunerError::InvalidConfig {
                        name: "reinforce",
                        value: format!("{c:?}"),
                        reason: "need learning_rate > 0, baseline_momentum in [0, 1), bins ≥ 2"
                            .into(),
                    });
                }
                Box::new(crate::reinforce::Reinforce::new(space, c.clone()))
            }
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
fn fresh_random(ctx: &Context<'_>, rng: &mut dyn RngCore) -> Assignment {
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

struct RandomSearch;

impl Strategy for RandomSearch {
    fn name(&self) -> &'static str {
        "random"
    }
    fn suggest(&mut self, ctx: &Context<'_>) -> Result<Assignment, TunerError> {
        Ok(random_assignment(ctx.space, &mut ctx.rng(1)))
    }
}

struct SobolSearch;

impl Strategy for SobolSearch {
    fn name(&self) -> &'static str {
        "sobol"
    }
    fn suggest(&mut self, ctx: &Context<'_>) -> Result<Assignment, TunerError> {
        Ok(sobol_assignment(ctx.space, ctx.number, ctx.seed))
    }
}

struct Evolution {
    config: EvolutionConfig,
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

impl Strategy for Evolution {
    fn name(&self) -> &'static str {
        "evolution"
    }
    fn suggest(&mut self, ctx: &Context<'_>) -> Result<Assignment, TunerError> {
        let mut rng = ctx.rng(2);
        let complete = ctx.complete();
        if complete.len() < self.config.population {
            return Ok(fresh_random(ctx, &mut rng));
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
        let parent = &best.expect("sample ≥ 1").0.params;
        let mut child = mutate(ctx.space, parent, &mut rng);
        for _ in 0..50 {
            if !ctx.seen(&child) {
                break;
            }
            child = mutate(ctx.space, parent, &mut rng);
        }
        Ok(child)
    }
}

/// A GP seen through the encoder: inactive coordinates are imputed before every prediction,
/// so the model never sees the value of an inactive parameter.
#[derive(Clone)]
struct ImputedModel<'a> {
    gp: Cow<'a, GaussianProcess>,
    encoder: Arc<Encoder>,
    conditional: bool,
    /// The prior mean; the GP models the residual.
    bowl: Bowl,
}

/// A quadratic prior mean `m(x) = −c · Σ_k w_k (x_k − ½)²`, highest at the centre of the box
/// (`w_k` is 1 on unconditional numeric coordinates, 0 on the others).
///
/// Far from the data a GP falls back to its prior mean while its variance grows, so with a
/// constant prior mean every acquisition function prefers the faces and corners of the box,
/// the points farthest from everything observed; on a problem where a parameter matters little,
/// most proposals end up on its bounds. A prior mean that is lower toward the faces (Snoek et
/// al., 2015, used a quadratic one for this) keeps that preference in check: the data
/// override it where they show the optimum near a bound.
#[derive(Clone, Debug, Default)]
struct Bowl {
    c: f64,
    weights: Vec<f64>,
}

impl Bowl {
    /// The bowl for `encoder` of depth `depth` standard deviations of `ys` per coordinate
    /// (from the centre to a face).
    fn new(encoder: &Encoder, depth: f64, ys: &[f64]) -> Self {
        let n = ys.len().max(1) as f64;
        let mean = ys.iter().sum::<f64>() / n;
        let sd = (ys.iter().map(|v| (v - mean) * (v - mean)).sum::<f64>() / n).sqrt();
        // (x − ½)² is ¼ on a face: c = 4 · depth · sd puts a face `depth` sd below the centre.
        let c = if sd.is_finite() && sd > 0.0 {
            4.0 * depth * sd
        } else {
            0.0
        };
        Bowl {
            c,
            weights: encoder
                .unconditional_numeric()
                .into_iter()
                .map(|b| if b { 1.0 } else { 0.0 })
                .collect(),
        }
    }
    fn value(&self, x: &[f64]) -> f64 {
        self.value_of(x)
    }
    fn value_of<'x>(&self, x: impl IntoIterator<Item = &'x f64>) -> f64 {
        if self.c == 0.0 {
            return 0.0;
        }
        -self.c
            * self
                .weights
                .iter()
                .zip(x)
                .map(|(w, v)| w * (v - 0.5) * (v - 0.5))
                .sum::<f64>()
    }
    /// The value at each row of `xs`.
    fn row_values(&self, xs: &DMatrix<f64>) -> Vec<f64> {
        (0..xs.nrows())
            .map(|i| self.value_of(xs.row(i).iter()))
            .collect()
    }
    fn grad(&self, x: &[f64], k: usize) -> f64 {
        -self.c * self.weights[k] * 2.0 * (x[k] - 0.5)
    }
}

impl ImputedModel<'_> {
    fn point<'x>(&self, x: &'x [f64]) -> Cow<'x, [f64]> {
        if self.conditional {
            let mut v = x.to_vec();
            self.encoder.impute(&mut v);
            Cow::Owned(v)
        } else {
            Cow::Borrowed(x)
        }
    }
    fn rows(&self, xs: &DMatrix<f64>) -> DMatrix<f64> {
        let mut out = xs.clone();
        if self.conditional {
            for i in 0..xs.nrows() {
                let mut v: Vec<f64> = xs.row(i).iter().copied().collect();
                self.encoder.impute(&mut v);
                for (k, x) in v.into_iter().enumerate() {
                    out[(i, k)] = x;
                }
            }
        }
        out
    }
}

impl Surrogate for ImputedModel<'_> {
    fn dim(&self) -> usize {
        self.gp.dim()
    }
    fn mean_var(&self, x: &[f64]) -> Result<(f64, f64), AcqError> {
        let p = self.point(x);
        let (m, v) = self.gp.as_ref().mean_var(&p)?;
        Ok((m + self.bowl.value(&p), v))
    }
    fn moments(&self, x: &[f64]) -> Result<Moments, AcqError> {
        let p = self.point(x);
        let mut m = self.gp.as_ref().moments(&p)?;
        m.mean += self.bowl.value(&p);
        for k in 0..x.len() {
            m.dmean[k] += self.bowl.grad(&p, k);
        }
        if self.conditional {
            // Coordinates that imputation changed do not move the prediction.
            for k in 0..x.len() {
                if p[k] != x[k] {
                    m.dmean[k] = 0.0;
                    m.dvar[k] = 0.0;
                }
            }
        }
        Ok(m)
    }
    fn mean_var_batch(&self, xs: &DMatrix<f64>) -> Result<(Vec<f64>, Vec<f64>), AcqError> {
        let rows = self.rows(xs);
        let (mut m, v) = self.gp.as_ref().mean_var_batch(&rows)?;
        for (mi, b) in m.iter_mut().zip(self.bowl.row_values(&rows)) {
            *mi += b;
        }
        Ok((m, v))
    }
    fn joint_samples(
        &self,
        xs: &DMatrix<f64>,
        n_samples: usize,
        rng: &mut dyn RngCore,
    ) -> Result<DMatrix<f64>, AcqError> {
        let rows = self.rows(xs);
        let mut s = self.gp.as_ref().joint_samples(&rows, n_samples, rng)?;
        // One draw per row, one point per column.
        for (mut col, b) in s.column_iter_mut().zip(self.bowl.row_values(&rows)) {
            col.add_scalar_mut(b);
        }
        Ok(s)
    }
    fn observed_inputs(&self) -> DMatrix<f64> {
        self.gp.train_inputs()
    }
    fn observed_outputs(&self) -> DVector<f64> {
        let bowl = self.bowl.row_values(&self.gp.train_inputs());
        self.gp.train_outputs() + DVector::from_vec(bowl)
    }
    fn condition(&self, x: &DMatrix<f64>, y: &DVector<f64>) -> Result<Self, AcqError> {
        let rows = self.rows(x);
        let r = y - DVector::from_vec(self.bowl.row_values(&rows));
        Ok(ImputedModel {
            gp: Cow::Owned(self.gp.as_ref().condition(&rows, &r)?),
            encoder: self.encoder.clone(),
            conditional: self.conditional,
            bowl: self.bowl.clone(),
        })
    }
}

/// The data a [`Bo`] model is fitted to.
#[derive(Default)]
struct TrainingData {
    xs: Vec<Vec<f64>>,
    ys: Vec<f64>,
    pending: Vec<Vec<f64>>,
}

/// Bayesian optimization.
///
/// Failed trials stay in the record and steer the model away from their region: each is added
/// to the model's data with the worst value observed among complete trials, so the posterior
/// mean is low there and LogEI avoids the region (without letting a failure set the scale).
/// Pending trials enter as fantasies (Kriging believer by default).
pub struct Bo {
    config: BoConfig,
    encoder: Arc<Encoder>,
    previous: Option<GaussianProcess>,
}

impl Bo {
    /// The strategy for a space.
    pub fn new(space: &Space, config: BoConfig) -> Self {
        Bo {
            config,
            encoder: Arc::new(Encoder::new(space)),
            previous: None,
        }
    }

    /// The GP's priors: nasbo-gp's defaults (BoTorch's) for a noisy objective; otherwise the
    /// same with the noise prior moved down to `LogNormal(−8, 1)` (mode ≈ 1.2e-4 in
    /// standardized units), so that a deterministic objective is interpolated closely.
    fn priors(&self, d: usize) -> nasbo_gp::Priors {
        let mut p = nasbo_gp::Priors::default_for(d);
        if !self.config.noisy {
            p.noise = Some(nasbo_gp::LogNormal::new(-8.0, 1.0));
        }
        p
    }

    fn n_initial(&self) -> usize {
        self.config
            .n_initial
            .unwrap_or_else(|| (self.encoder.dim() + 1).max(5))
    }

    /// The model's data: encoded inputs and "larger is better" values of complete trials,
    /// failed and pruned trials at the worst complete value, and the pending trials' inputs.
    fn training_data(&self, ctx: &Context<'_>) -> TrainingData {
        let enc = &self.encoder;
        let worst = ctx
            .complete()
            .iter()
            .map(|(_, v)| *v)
            .fold(f64::INFINITY, f64::min);
        let mut data = TrainingData::default();
        for t in ctx.trials {
            let value = match t.state {
                TrialState::Complete => t.value.map(|v| ctx.direction.to_max(v)),
                // A pruned trial was stopped because it looked bad: treat like a failure.
                TrialState::Failed | TrialState::Pruned => Some(worst),
                TrialState::Running => {
                    data.pending.push(enc.encode(&t.params));
                    None
                }
            };
            if let Some(v) = value {
                data.xs.push(enc.encode(&t.params));
                data.ys.push(v);
            }
        }
        data
    }

    /// Fits the GP (to the warped values minus the boundary prior), warm-started from the
    /// previous fit.
    fn fit(
        &self,
        ctx: &Context<'_>,
        data: &TrainingData,
    ) -> Result<(GaussianProcess, Bowl), TunerError> {
        let enc = &self.encoder;
        let d = enc.dim();
        let xs = &data.xs;
        let x = DMatrix::from_fn(xs.len(), d, |i, k| xs[i][k]);
        let mut ys = data.ys.clone();
        let warp = match self.config.output_warp {
            OutputWarp::Auto => !self.config.noisy,
            OutputWarp::PowerTransform => true,
            OutputWarp::Identity => false,
        };
        if warp {
            let w = YeoJohnson::fit(&ys);
            for v in ys.iter_mut() {
                *v = w.apply(*v);
            }
        }
        let bowl = Bowl::new(enc, self.config.boundary_prior, &ys);
        for (v, x) in ys.iter_mut().zip(xs.iter()) {
            *v -= bowl.value(x);
        }
        let worst_mean = match self.config.prior_mean {
            MeanLevel::Auto => !self.config.noisy,
            MeanLevel::Worst => true,
            MeanLevel::Average => false,
        };
        // The worst residual, when the prior mean sits there (else the GP's sample mean).
        let prior_mean = worst_mean
            .then(|| ys.iter().copied().fold(f64::INFINITY, f64::min))
            .filter(|v| v.is_finite());
        let y = DVector::from_vec(ys);
        let (lo, hi) = enc.bounds();
        let mut params = GpParams::new(enc.kernel())
            .input_bounds(lo, hi)
            .seed(ctx.seed ^ ctx.number as u64);
        params = params.priors(nasbo_gp::PriorSpec::Custom(self.priors(d)));
        if let Some(m) = prior_mean {
            params = params.prior_mean(nasbo_gp::PriorMean::Constant(m));
        }
        if !self.config.noisy {
            // A deterministic objective is interpolated closely: the floor of the noise
            // variance goes from nasbo-gp's default 1e-4 (BoTorch's) down to 1e-6.
            params = params.noise_floor(1e-6);
        }
        if let Some(prev) = &self.previous {
            params = params.warm_start(prev).local_starts(1);
        }
        Ok((params.fit(&x, &y)?, bowl))
    }

    fn model_step(&mut self, ctx: &Context<'_>) -> Result<Assignment, TunerError> {
        let enc = self.encoder.clone();
        let data = self.training_data(ctx);
        let (gp, bowl) = self.fit(ctx, &data)?;
        let (xs, pending) = (&data.xs, &data.pending);
        let model = ImputedModel {
            gp: Cow::Borrowed(&gp),
            encoder: enc.clone(),
            conditional: enc.has_conditions(),
            bowl,
        };
        let domain: Domain = enc.domain()?;
        let mut optimizer = self.config.optimizer.clone();
        optimizer.seed = optimizer.seed ^ ctx.seed ^ (ctx.number as u64).wrapping_mul(0x9E37_79B9);
        if self.config.noisy {
            optimizer.duplicates = nasbo_acq::Duplicates::Allow;
        }
        let canon = |v: &mut [f64]| enc.impute(v);
        let req = ProposalRequest {
            kind: self.config.acquisition,
            incumbent: if self.config.noisy {
                Incumbent::BestPosteriorMean
            } else {
                Incumbent::BestObserved
            },
            domain: &domain,
            config: &optimizer,
            q: 1,
            pending,
            evaluated: xs,
            fantasy: self.config.fantasy,
            canonicalize: if enc.has_conditions() {
                Some(&canon)
            } else {
                None
            },
        };
        let cand = propose(&model, &req)?;
        drop(model);
        self.previous = Some(gp);
        let a = enc.decode(&cand[0].x);
        Ok(a)
    }
}

impl Strategy for Bo {
    fn name(&self) -> &'static str {
        "bo"
    }
    fn suggest(&mut self, ctx: &Context<'_>) -> Result<Assignment, TunerError> {
        let n_complete = ctx.complete().len();
        if ctx.number < self.n_initial() || n_complete < 2 {
            let a = sobol_assignment(ctx.space, ctx.number, ctx.seed);
            if !ctx.seen(&a) {
                return Ok(a);
            }
            return Ok(fresh_random(ctx, &mut ctx.rng(3)));
        }
        match self.model_step(ctx) {
            Ok(a) if !ctx.seen(&a) || self.config.noisy => Ok(a),
            // The model failed, or the space is exhausted near the proposal: fall back to a
            // random point rather than stopping the study.
            _ => Ok(fresh_random(ctx, &mut ctx.rng(4))),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::space::Param;

    /// An `ImputedModel` with a boundary prior on a mixed space, fitted to values of a smooth
    /// function, and the values it was fitted to.
    fn model() -> (GaussianProcess, Arc<Encoder>, Bowl, Vec<Vec<f64>>, Vec<f64>) {
        let space = Space::new(vec![
            Param::float("a", 0.0, 1.0),
            Param::int("b", 0, 9),
            Param::categorical("c", &["p", "q", "r"]),
        ])
        .unwrap();
        let enc = Arc::new(Encoder::new(&space));
        let mut rng = ChaCha8Rng::seed_from_u64(3);
        let xs: Vec<Vec<f64>> = (0..25)
            .map(|_| {
                vec![
                    rng.random::<f64>(),
                    rng.random_range(0..10) as f64 / 9.0,
                    rng.random_range(0..3) as f64,
                ]
            })
            .collect();
        let ys: Vec<f64> = xs
            .iter()
            .map(|x| (3.0 * x[0]).sin() + x[1] * x[1] + 0.3 * x[2])
            .collect();
        let bowl = Bowl::new(&enc, 0.25, &ys);
        let r: Vec<f64> = xs.iter().zip(&ys).map(|(x, y)| y - bowl.value(x)).collect();
        let x = DMatrix::from_fn(xs.len(), 3, |i, k| xs[i][k]);
        let gp = GpParams::new(enc.kernel())
            .seed(1)
            .fit(&x, &DVector::from_vec(r))
            .unwrap();
        (gp, enc, bowl, xs, ys)
    }

    /// The model BO fits to trials gathered in one corner of the unit square, with its prior
    /// mean at the given level; returns the predicted means (as the objective is maximized) at
    /// the far corner and the values' (min, mean).
    fn corner_model(level: MeanLevel) -> (f64, (f64, f64)) {
        let space = Space::new(vec![
            Param::float("a", 0.0, 1.0),
            Param::float("b", 0.0, 1.0),
        ])
        .unwrap();
        let mut rng = ChaCha8Rng::seed_from_u64(5);
        let trials: Vec<Trial> = (0..20)
            .map(|i| {
                let (a, b) = (0.3 * rng.random::<f64>(), 0.3 * rng.random::<f64>());
                Trial {
                    number: i,
                    state: TrialState::Complete,
                    params: vec![Some(Value::Float(a)), Some(Value::Float(b))],
                    // Wiggles without a trend, so the GP has nothing to extrapolate.
                    value: Some(1.0 + 0.1 * (20.0 * a).sin() * (20.0 * b).cos()),
                    metrics: vec![],
                    intermediate: vec![],
                    started_at: None,
                    finished_at: None,
                    suggest_s: 0.0,
                    error: None,
                }
            })
            .collect();
        let values: Vec<f64> = trials.iter().filter_map(|t| t.value).collect();
        let low = values.iter().copied().fold(f64::INFINITY, f64::min);
        let mean = values.iter().sum::<f64>() / values.len() as f64;
        let ctx = Context {
            space: &space,
            trials: &trials,
            direction: Direction::Maximize,
            seed: 1,
            number: 20,
        };
        let bo = Bo::new(
            &space,
            BoConfig {
                prior_mean: level,
                // The model's values in the objective's units.
                output_warp: OutputWarp::Identity,
                ..BoConfig::default()
            },
        );
        let data = bo.training_data(&ctx);
        let (gp, bowl) = bo.fit(&ctx, &data).unwrap();
        let m = ImputedModel {
            gp: Cow::Borrowed(&gp),
            encoder: bo.encoder.clone(),
            conditional: false,
            bowl,
        };
        (m.mean_var(&[0.95, 0.95]).unwrap().0, (low, mean))
    }

    #[test]
    fn worst_prior_mean_makes_a_region_without_data_look_poor() {
        let (far_avg, (low, mean)) = corner_model(MeanLevel::Average);
        let (far_worst, _) = corner_model(MeanLevel::Worst);
        // Deterministic objective: `Auto` is `Worst`.
        assert_eq!(corner_model(MeanLevel::Auto).0, far_worst);
        assert!(
            far_worst <= low,
            "far corner {far_worst} should be no better than the worst value seen {low}"
        );
        assert!(
            far_avg > low + 0.3 * (mean - low),
            "with the average level the far corner ({far_avg}) looks about as good as the data \
             (worst {low}, mean {mean})"
        );
    }

    #[test]
    fn bowl_is_zero_on_categorical_and_lowest_on_faces() {
        let (_, _, bowl, _, _) = model();
        assert_eq!(bowl.weights, vec![1.0, 1.0, 0.0]);
        assert!(bowl.c > 0.0);
        let centre = bowl.value(&[0.5, 0.5, 2.0]);
        assert_eq!(centre, 0.0);
        assert!(bowl.value(&[0.0, 0.5, 0.0]) < centre);
        assert_eq!(bowl.value(&[1.0, 1.0, 0.0]), bowl.value(&[0.0, 0.0, 2.0]));
    }

    #[test]
    fn mean_gradient_with_the_bowl_matches_finite_differences() {
        let (gp, enc, bowl, xs, ys) = model();
        let m = ImputedModel {
            gp: Cow::Borrowed(&gp),
            encoder: enc,
            conditional: false,
            bowl,
        };
        // The data seen through the model are the values it was given, not the residuals.
        let obs = m.observed_outputs();
        for (a, b) in obs.iter().zip(&ys) {
            assert!((a - b).abs() < 1e-9 * b.abs().max(1.0), "{a} vs {b}");
        }
        for x in [[0.2, 0.1, 1.0], [0.9, 0.7, 0.0], [0.5, 0.4, 2.0]] {
            let mo = m.moments(&x).unwrap();
            let (mean, var) = m.mean_var(&x).unwrap();
            assert!((mo.mean - mean).abs() < 1e-10 && (mo.var - var).abs() < 1e-10);
            for k in 0..2 {
                let h = 1e-6;
                let (mut up, mut dn) = (x, x);
                up[k] += h;
                dn[k] -= h;
                let fd = (m.mean_var(&up).unwrap().0 - m.mean_var(&dn).unwrap().0) / (2.0 * h);
                assert!(
                    (fd - mo.dmean[k]).abs() < 1e-5 * fd.abs().max(1.0),
                    "∂mean/∂x{k}: analytic {}, finite differences {fd}",
                    mo.dmean[k]
                );
            }
        }
        // Batch predictions and conditioning agree with the point predictions.
        let q = DMatrix::from_row_slice(2, 3, &[0.1, 0.3, 1.0, 0.8, 0.6, 2.0]);
        let (bm, _) = m.mean_var_batch(&q).unwrap();
        assert!((bm[1] - m.mean_var(&[0.8, 0.6, 2.0]).unwrap().0).abs() < 1e-10);
        // Joint samples are the GP's draws (same generator) shifted by the bowl at each point.
        let with = m
            .joint_samples(&q, 3, &mut ChaCha8Rng::seed_from_u64(5))
            .unwrap();
        let without = gp.sample(&q, 3, &mut ChaCha8Rng::seed_from_u64(5)).unwrap();
        for j in 0..2 {
            let b = m.bowl.value(&q.row(j).iter().copied().collect::<Vec<_>>());
            for s in 0..3 {
                assert!((with[(s, j)] - without[(s, j)] - b).abs() < 1e-10);
            }
        }
        let x0 = DMatrix::from_row_slice(1, 3, &xs[0]);
        let c = m.condition(&x0, &DVector::from_vec(vec![ys[0]])).unwrap();
        let n = c.observed_outputs().len();
        assert!((c.observed_outputs()[n - 1] - ys[0]).abs() < 1e-9);
    }
}
