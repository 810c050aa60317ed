//! [`BoConfig`]: the settings of the `bo` strategy and of the model it fits
//! ([`super::fit_surrogate`]), with their check.

use nasbo_acq::{AcqKind, Fantasy, OptimizerConfig};

use crate::TunerError;

/// Settings of the `bo` strategy.
///
/// | setting | default | meaning |
/// |---|---|---|
/// | `n_initial` | `max(5, d + 1)`, or `max(5, d + 1, min(2c, budget / 5))` with a `budget` | Sobol points before the model is used (`d` parameters, `c` of them continuous) |
/// | `budget` | `None` | the trials the study will run, when known (`nasbo tune --trials`, `nasbo bench`): it sizes the initial design |
/// | `acquisition` | LogEI | the acquisition function |
/// | `noisy` | `false` | a noisy objective: BoTorch's noise prior `LogNormal(−4, 1)` and floor `1e-4` instead of `LogNormal(−25, 1)` and `1e-12` (interpolation), incumbent = best posterior mean, re-evaluating a point allowed |
/// | `output_warp` | `Auto` | a Yeo–Johnson power transform of the values before the GP sees them: on for a deterministic objective, off for a noisy one ([`OutputWarp`]) |
/// | `boundary_prior` | `0.25` | depth of the quadratic prior mean, in standard deviations of the values, from the centre of the box to a face; 0 turns it off |
/// | `prior_mean` | `Auto` | level of the GP's constant prior mean: the worst value seen for a deterministic objective, the average for a noisy one ([`MeanLevel`]) |
/// | `extreme_band` | `50` | values farther than this many robust scales from the median are pulled in before the model sees them ([`crate::bo::warp::Tails`]); `f64::INFINITY` turns it off | `> 0` |
/// | `optimizer` | 1,024 raw samples and 16 around the 3 best trials, 10 starts | the acquisition optimizer ([`OptimizerConfig::around_best`]) |
/// | `cold_fit_every` | auto: `4` for a deterministic objective, never for a noisy one | every this many trials (by number) the hyperparameter fit starts afresh (the prior's mode and 8 random starts screened, L-BFGS from the best `cold_fit_starts`) instead of from the previous trial's optimum; `Some(0)`: never |
/// | `cold_fit_starts` | `Some(1)` | L-BFGS runs of such a fit (`None`: nasbo-gp's default) |
/// | `exploit_every` | auto: `4` for a deterministic objective, never for a noisy one | every this many trials (by number) a greedy step: the posterior mean's maximum instead of the acquisition's, never once a trial was pruned ([`BoConfig::exploit_period`]); `Some(0)`: never |
/// | `fantasy` | Kriging believer | what is assumed at pending trials |
/// | `pruned` | `Shifted` | what a pruned trial tells the model ([`PrunedAs`]) |
/// | `fit_limit` | `400` | above this many observations the hyperparameters are fitted on a subset of this many ([`nasbo_gp::subset`]) | `≥ 1` |
/// | `model_limit` | `800` | above this many observations the model is conditioned on a subset of this many (the best, their neighbours, a uniform draw of the rest) | `≥ fit_limit` |
/// | `subset` | `BestFirst` | how those subsets are drawn ([`SubsetDraw`]: `Uniform` for a model of the whole space, as a report's) |
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
    /// Initial design size (`None`: `max(5, d + 1)`, or with a [`BoConfig::budget`]
    /// `max(5, d + 1, min(2c, budget / 5))` for `d` parameters of which `c` are continuous).
    pub n_initial: Option<usize>,
    /// The number of trials the study will run, when known: with it the initial design grows
    /// to two points per continuous parameter, at most a fifth of the budget (Ax's rule;
    /// `docs/benchmarks.md` §3, fourth round). `None` (ask/tell, the Optuna sampler) keeps
    /// `max(5, d + 1)`, which suits a small budget.
    pub budget: Option<usize>,
    /// Acquisition function.
    pub acquisition: AcqKind,
    /// Noisy objective.
    pub noisy: bool,
    /// Optimizer settings.
    pub optimizer: OptimizerConfig,
    /// Every this many trials (by number), a hyperparameter fit without the warm start
    /// (`Some(0)`: always warm-started once there is a previous fit; `None`: 4 for a
    /// deterministic objective, never for a noisy one, see [`BoConfig::cold_fit_period`]).
    pub cold_fit_every: Option<usize>,
    /// L-BFGS runs of a fit from scratch, from the best of its screened random starts (`None`:
    /// nasbo-gp's default, two for up to 200 observations). One, the default, costs about half
    /// as much as two and did as well or better on every test function (30 seeds).
    pub cold_fit_starts: Option<usize>,
    /// Every this many trials (by number), the proposal maximizes the posterior mean instead
    /// of the acquisition function: a greedy step ("ε-greedy" BO, De Ath et al. 2021) that
    /// lands on the model's optimum instead of creeping towards it (`Some(0)`: never; `None`:
    /// see [`BoConfig::exploit_period`]). Not once a trial of the study was pruned (the model
    /// then rests on estimated final values).
    pub exploit_every: Option<usize>,
    /// Fantasies at pending trials.
    pub fantasy: Fantasy,
    /// Transform of the values before the GP sees them.
    pub output_warp: OutputWarp,
    /// Depth of the quadratic prior mean (standard deviations from the centre to a face).
    pub boundary_prior: f64,
    /// Level of the constant prior mean.
    pub prior_mean: MeanLevel,
    /// Half-width, in robust scales, of the band of values left as they are.
    pub extreme_band: f64,
    /// What a pruned trial tells the model.
    pub pruned: PrunedAs,
    /// Most observations the hyperparameters are fitted on.
    pub fit_limit: usize,
    /// Most observations the model is conditioned on.
    pub model_limit: usize,
    /// How the subsets above `fit_limit` and `model_limit` are drawn.
    pub subset: SubsetDraw,
    /// How a study of several objectives proposes.
    pub multi: MultiObjective,
}

/// How a model of more observations than [`BoConfig::fit_limit`] or [`BoConfig::model_limit`]
/// picks the ones it keeps.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Default)]
pub enum SubsetDraw {
    /// The best observations, their neighbours and a uniform draw of the rest: accurate where
    /// the next proposal is looked for (what `bo` uses).
    #[default]
    BestFirst,
    /// A uniform draw: the same accuracy everywhere, for a model of the whole space (the
    /// slices and importances of `nasbo report`).
    Uniform,
}

/// How `bo` proposes in a study of several objectives.
///
/// Measured against each other on the two-objective NAS-Bench-201 problems of `nasbo bench`
/// (`docs/benchmarks.md`, §10).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Default)]
pub enum MultiObjective {
    /// One GP per objective and the exact log expected hypervolume improvement over the
    /// current front ([`nasbo_acq::LogExpectedHypervolumeImprovement`]); pending trials enter
    /// every model and the front at their posterior means (Kriging believer). With a noisy
    /// objective the front is that of the posterior means at the observed points.
    #[default]
    Ehvi,
    /// ParEGO (Knowles 2006): at each proposal a random weight on the simplex, one GP on the
    /// augmented Chebyshev scalarization of the normalized objectives, LogEI.
    Parego,
}

impl MultiObjective {
    /// Parses `ehvi` or `parego`.
    pub fn parse(s: &str) -> Option<Self> {
        match s {
            "ehvi" => Some(MultiObjective::Ehvi),
            "parego" => Some(MultiObjective::Parego),
            _ => None,
        }
    }
}

/// What BO's model takes from a pruned trial (stopped early, its last value reported at some
/// step before the full budget).
///
/// Measured on the learning-curve problems of `nasbo bench` (`docs/benchmarks.md`, §8):
/// `Shifted` against `Worst` and `Ignored` at equal steps.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Default)]
pub enum PrunedAs {
    /// Its last value moved by the median change from that step to the end of the complete
    /// trials that reported at or before it (a learning-curve correction learned from the
    /// study), no better than the best complete value; the worst complete value while no
    /// complete trial reported that early.
    #[default]
    Shifted,
    /// The worst complete value, as a failure.
    Worst,
    /// Left out of the model.
    Ignored,
}

impl PrunedAs {
    /// Parses `shifted`, `worst` or `ignored`.
    pub fn parse(s: &str) -> Option<Self> {
        match s {
            "shifted" => Some(PrunedAs::Shifted),
            "worst" => Some(PrunedAs::Worst),
            "ignored" => Some(PrunedAs::Ignored),
            _ => None,
        }
    }
}

impl Default for BoConfig {
    fn default() -> Self {
        BoConfig {
            n_initial: None,
            budget: None,
            acquisition: AcqKind::default(),
            noisy: false,
            optimizer: OptimizerConfig {
                around_best: 16,
                ..OptimizerConfig::default()
            },
            cold_fit_every: None,
            cold_fit_starts: Some(1),
            exploit_every: None,
            fantasy: Fantasy::default(),
            output_warp: OutputWarp::Auto,
            boundary_prior: 0.25,
            prior_mean: MeanLevel::Auto,
            extreme_band: super::warp::TAILS_K,
            pruned: PrunedAs::Shifted,
            fit_limit: nasbo_gp::SubsetOfData::default().fit,
            model_limit: nasbo_gp::SubsetOfData::default().condition,
            subset: SubsetDraw::BestFirst,
            multi: MultiObjective::default(),
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

impl BoConfig {
    /// Checks every setting (the optimizer's included); names the one that is wrong.
    pub fn check(&self) -> Result<(), TunerError> {
        self.optimizer.check()?;
        if !(self.boundary_prior.is_finite() && self.boundary_prior >= 0.0) {
            return Err(TunerError::InvalidConfig {
                name: "boundary_prior",
                value: self.boundary_prior.to_string(),
                reason: "must be finite and ≥ 0".into(),
            });
        }
        if self.extreme_band.is_nan() || self.extreme_band <= 0.0 {
            return Err(TunerError::InvalidConfig {
                name: "extreme_band",
                value: self.extreme_band.to_string(),
                reason: "must be positive (infinity turns it off)".into(),
            });
        }
        if self.fit_limit == 0 {
            return Err(TunerError::InvalidConfig {
                name: "fit_limit",
                value: "0".into(),
                reason: "at least 1 observation to fit the hyperparameters on".into(),
            });
        }
        if self.model_limit < self.fit_limit {
            return Err(TunerError::InvalidConfig {
                name: "model_limit",
                value: self.model_limit.to_string(),
                reason: format!("at least fit_limit ({})", self.fit_limit),
            });
        }
        if self.n_initial == Some(0) {
            return Err(TunerError::InvalidConfig {
                name: "n_initial",
                value: "0".into(),
                reason: "at least 1 (the model needs data)".into(),
            });
        }
        Ok(())
    }

    /// The period of the fits from scratch (0: none).
    ///
    /// A fit that always starts from the previous trial's optimum stays in the basin of the
    /// likelihood it first found: on Ackley 5 (30 seeds) the warm-started fits kept a long
    /// lengthscale that smooths the function's global funnel away, and no run reached it;
    /// a fit from scratch every 4th trial (one L-BFGS run from the best screened start) took
    /// the mean log10 regret from −0.06 to −5.15 (docs/benchmarks.md §3) for about 5% more
    /// time per proposal (3 of 4 fits stay warm). On the noisy tables the same change was
    /// within the noise, and the default keeps the warm start there.
    pub fn cold_fit_period(&self) -> usize {
        self.cold_fit_every
            .unwrap_or(if self.noisy { 0 } else { 4 })
    }

    /// Whether trial `number`'s hyperparameter fit starts afresh ([`BoConfig::cold_fit_period`]).
    pub fn cold_fit(&self, number: usize) -> bool {
        let period = self.cold_fit_period();
        period > 0 && number.is_multiple_of(period)
    }

    /// The period of [`BoConfig::exploit_every`]: every 4th trial for a deterministic
    /// objective, never for a noisy one (whose posterior mean was not measured as a proposal).
    ///
    /// Measured on the twelve test functions of `docs/benchmarks.md` §3 (30 seeds), together
    /// with the interpolating noise prior of a deterministic objective: Branin's median regret
    /// 9.2e-6 → 9.8e-8 and the shifted Ackley5's 2.16 → 0.13 (both p < 0.001), none
    /// significantly worse. With the earlier noise floor (1e-6) greedy steps landed on a
    /// blurred optimum and did little for Branin. The price is on rippled functions: on the
    /// 6-D bowl with a cosine ripple of `python/tests/test_optuna.py` (30 seeds, 40 trials)
    /// the mean log10 regret improves (−1.80 → −1.96) but 10 runs against 8 end in a local
    /// basin.
    pub fn exploit_period(&self) -> usize {
        self.exploit_every.unwrap_or(if self.noisy { 0 } else { 4 })
    }

    /// Whether trial `number` maximizes the posterior mean ([`BoConfig::exploit_every`]); the
    /// greedy trials fall between the fits from scratch (trials 1, 5, 9, … for a period of 4;
    /// 2, 7, 12, … for 5).
    pub fn exploits(&self, number: usize) -> bool {
        let period = self.exploit_period();
        period > 0 && (number + period / 2 + 1).is_multiple_of(period)
    }

    /// Whether the values get the power transform.
    pub fn warps(&self) -> bool {
        match self.output_warp {
            OutputWarp::Auto => !self.noisy,
            OutputWarp::PowerTransform => true,
            OutputWarp::Identity => false,
        }
    }

    /// Whether the prior mean sits at the worst value seen.
    pub fn worst_mean(&self) -> bool {
        match self.prior_mean {
            MeanLevel::Auto => !self.noisy,
            MeanLevel::Worst => true,
            MeanLevel::Average => false,
        }
    }
}
