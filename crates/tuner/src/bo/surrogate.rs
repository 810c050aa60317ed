//! [`fit_surrogate`]: the one way to get a study's model — the GP that `bo` proposes with,
//! with its encoding, output transform, prior mean and imputation of failures — for `bo`
//! itself, a report, or a second objective.

use std::borrow::Cow;
use std::sync::Arc;

use nalgebra::{DMatrix, DVector};
use nasbo_acq::Surrogate;
use nasbo_gp::{Emphasis, GaussianProcess, GpParams, SubsetFit, SubsetOfData};

use super::config::{BoConfig, PrunedAs};
use super::encode::Encoder;
use super::model::{Bowl, ImputedModel};
use super::warp::{Tails, YeoJohnson};
use crate::space::{Assignment, Space};
use crate::trial::{Direction, Trial, TrialState};
use crate::TunerError;

/// What a model is fitted to.
#[derive(Clone, Debug, PartialEq)]
pub enum Target {
    /// Objective `index` of the study (0 for the only one), in its direction. Failed and pruned
    /// trials enter at the worst complete value, so the model steers away from their region.
    Objective {
        /// Which objective.
        index: usize,
        /// Its direction.
        direction: Direction,
    },
    /// A metric the trials report (`train_seconds`, ...), from the complete trials that have
    /// it; `direction` says which way is better.
    Metric {
        /// The metric's name.
        name: String,
        /// Which way is better.
        direction: Direction,
    },
}

impl Target {
    /// The study's first objective.
    pub fn objective(direction: Direction) -> Self {
        Target::Objective {
            index: 0,
            direction,
        }
    }
    /// The direction of the target.
    pub fn direction(&self) -> Direction {
        match self {
            Target::Objective { direction, .. } | Target::Metric { direction, .. } => *direction,
        }
    }
    /// The target's value of a complete trial.
    pub fn of(&self, t: &Trial) -> Option<f64> {
        match self {
            Target::Objective { index, .. } => t.values.get(*index).copied(),
            Target::Metric { name, .. } => t.metric(name),
        }
    }
}

/// Settings of one fit that are not model settings.
#[derive(Clone, Debug, Default)]
pub struct FitOptions {
    /// Seed of the hyperparameter search's random starts.
    pub seed: u64,
    /// Start the hyperparameter search from these log-parameters of an earlier fit
    /// ([`GaussianProcess::log_params`]), with one local search instead of two.
    pub warm_start: Option<Vec<f64>>,
    /// L-BFGS runs of the hyperparameter search, from the best of the screened starts (`None`:
    /// one with a warm start, else nasbo-gp's default, two for up to 200 observations).
    pub local_starts: Option<usize>,
}

/// The data a model is fitted to: encoded inputs with their values in "larger is better"
/// orientation, and the encoded inputs of the pending trials.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct TrainingData {
    /// Encoded inputs.
    pub xs: Vec<Vec<f64>>,
    /// Their values, larger is better.
    pub ys: Vec<f64>,
    /// Encoded inputs of pending trials (running or queued).
    pub pending: Vec<Vec<f64>>,
}

impl TrainingData {
    /// The data of `trials` for `target`, pruned trials taken as `pruned` says.
    pub fn from_trials(
        encoder: &Encoder,
        trials: &[Trial],
        target: &Target,
        pruned: PrunedAs,
    ) -> Self {
        let dir = target.direction();
        let complete = || {
            trials
                .iter()
                .filter(|t| t.state == TrialState::Complete)
                .filter_map(|t| target.of(t).map(|v| (t, dir.to_max(v))))
        };
        let worst = complete().map(|c| c.1).fold(f64::INFINITY, f64::min);
        let best = complete().map(|c| c.1).fold(f64::NEG_INFINITY, f64::max);
        let objective = matches!(target, Target::Objective { .. });
        // Intermediate values are the first objective's.
        let first = matches!(target, Target::Objective { index: 0, .. });
        let mut data = TrainingData::default();
        for t in trials {
            let value = match t.state {
                TrialState::Complete => target.of(t).map(|v| dir.to_max(v)),
                TrialState::Pruned if first && pruned == PrunedAs::Ignored => None,
                TrialState::Pruned if first && pruned == PrunedAs::Shifted => {
                    shifted(t, complete(), dir)
                        .map(|v| v.min(best))
                        .or(Some(worst).filter(|w| w.is_finite()))
                }
                // A failure: the worst complete value, so the model steers away from it.
                TrialState::Failed | TrialState::Pruned if objective && worst.is_finite() => {
                    Some(worst)
                }
                TrialState::Failed | TrialState::Pruned => None,
                TrialState::Running | TrialState::Queued => {
                    data.pending.push(encoder.encode(&t.params));
                    None
                }
            };
            if let Some(v) = value {
                data.xs.push(encoder.encode(&t.params));
                data.ys.push(v);
            }
        }
        data
    }
}

/// A pruned trial's last value (larger is better) plus the median change, from that step to
/// their final value, of the complete trials that reported at or before that step; `None`
/// without any.
fn shifted<'a>(
    t: &Trial,
    complete: impl Iterator<Item = (&'a Trial, f64)>,
    dir: Direction,
) -> Option<f64> {
    let &(step, v) = t.intermediate.last()?;
    let mut changes: Vec<f64> = complete
        .filter_map(|(c, end)| {
            let at = c
                .intermediate
                .iter()
                .take_while(|(s, _)| *s <= step)
                .last()?;
            Some(end - dir.to_max(at.1))
        })
        .filter(|d| d.is_finite())
        .collect();
    if changes.is_empty() {
        return None;
    }
    changes.sort_by(f64::total_cmp);
    Some(dir.to_max(v) + super::warp::quantile(&changes, 0.5)).filter(|x| x.is_finite())
}

/// A study's model: the fitted GP with the transforms that map the target's values to what it
/// models. [`StudyModel::surrogate`] is what the acquisition functions see (values warped,
/// larger is better); [`StudyModel::predict`] answers in the target's own units.
#[derive(Clone)]
pub struct StudyModel {
    gp: GaussianProcess,
    encoder: Arc<Encoder>,
    bowl: Bowl,
    tails: Tails,
    warp: Option<YeoJohnson>,
    direction: Direction,
    data: TrainingData,
    /// Log-parameters of the fit the hyperparameters came from (to warm-start the next fit).
    fitted_log_params: Vec<f64>,
}

/// A prediction in the target's units: the median and a central band of about ±2 standard
/// deviations of the model (mapped through the inverse of the output transform, so the band
/// may be asymmetric).
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Band {
    /// The posterior median.
    pub median: f64,
    /// The lower end of the band (2.3rd percentile).
    pub lower: f64,
    /// The upper end of the band (97.7th percentile).
    pub upper: f64,
}

impl StudyModel {
    /// The model as the acquisition functions see it.
    pub fn surrogate(&self) -> ImputedModel<'_> {
        ImputedModel {
            gp: Cow::Borrowed(&self.gp),
            encoder: self.encoder.clone(),
            conditional: self.encoder.has_conditions(),
            bowl: self.bowl.clone(),
        }
    }
    /// The fitted GP (of the residuals after the prior mean, in warped units).
    pub fn gp(&self) -> &GaussianProcess {
        &self.gp
    }
    /// The encoder between assignments and model inputs.
    pub fn encoder(&self) -> &Encoder {
        &self.encoder
    }
    /// The data it was fitted to.
    pub fn data(&self) -> &TrainingData {
        &self.data
    }
    /// Takes the fitted GP out.
    pub fn into_gp(self) -> GaussianProcess {
        self.gp
    }
    /// A value of the target ("larger is better" orientation, as in [`TrainingData::ys`]) on
    /// the model's output scale (after the tail and power transforms), where its predictions
    /// are. Monotone, so it keeps the order of values and Pareto dominance.
    pub fn to_model_scale(&self, v: f64) -> f64 {
        let t = self.tails.apply(v);
        match &self.warp {
            Some(w) => w.apply(t),
            None => t,
        }
    }
    /// The log-parameters the next fit starts from ([`FitOptions::warm_start`]): those of the
    /// GP itself, or above [`BoConfig::fit_limit`] observations those of the fit on a subset
    /// that its hyperparameters come from.
    pub fn warm_start_params(&self) -> Vec<f64> {
        self.fitted_log_params.clone()
    }

    /// Predictions at `points` in the target's units and direction.
    pub fn predict(&self, points: &[Assignment]) -> Result<Vec<Band>, TunerError> {
        let d = self.encoder.dim();
        let rows: Vec<Vec<f64>> = points.iter().map(|p| self.encoder.encode(p)).collect();
        let xs = DMatrix::from_fn(points.len(), d, |i, k| rows[i][k]);
        let (mean, var) = self.surrogate().mean_var_batch(&xs)?;
        let back = |v: f64| {
            let y = self.tails.invert(match &self.warp {
                Some(w) => w.invert(v),
                None => v,
            });
            // Back from "larger is better".
            match self.direction {
                Direction::Maximize => y,
                Direction::Minimize => -y,
            }
        };
        Ok(mean
            .iter()
            .zip(&var)
            .map(|(&m, &v)| {
                let sd = v.max(0.0).sqrt();
                let (a, b) = (back(m - 2.0 * sd), back(m + 2.0 * sd));
                Band {
                    median: back(m),
                    lower: a.min(b),
                    upper: a.max(b),
                }
            })
            .collect())
    }
}

/// The prior of the noise variance (above [`DETERMINISTIC_FLOOR`], standardized units) for a
/// deterministic objective. With the earlier `LogNormal(−8, 1)` and floor 1e-6 the fitted noise
/// (about 1e-6) blurred the differences between trials near the optimum (1e-4 on Branin): the
/// posterior mean's optimum sat 1e-3 of the range off the true one and the last trials
/// crept instead of converging (`docs/benchmarks.md` §3, third round).
const DETERMINISTIC_NOISE: nasbo_gp::LogNormal = nasbo_gp::LogNormal {
    loc: -25.0,
    scale: 1.0,
};

/// The floor of the noise variance (standardized units) for a deterministic objective; the
/// Cholesky factorization adds jitter where the covariance of nearby trials needs it.
const DETERMINISTIC_FLOOR: f64 = 1e-12;

/// The GP's priors: nasbo-gp's defaults (BoTorch's) for a noisy objective; otherwise the
/// same with the noise prior moved down to `LogNormal(−25, 1)` (mode ≈ 5e-12 in standardized
/// units, [`DETERMINISTIC_NOISE`]), so that a deterministic objective is interpolated.
fn priors(config: &BoConfig, d: usize) -> nasbo_gp::Priors {
    let mut p = nasbo_gp::Priors::default_for(d);
    if !config.noisy {
        p.noise = Some(DETERMINISTIC_NOISE);
    }
    p
}

/// Fits the study's model of `target` to `trials`, as `bo` does before each proposal.
///
/// ```
/// use nasbo_tuner::bo::{fit_surrogate, BoConfig, FitOptions, Target};
/// use nasbo_tuner::{Direction, Outcome, Param, Space, Study, StudyConfig, StrategyKind, TunerError};
///
/// let space = Space::new(vec![Param::float("x", 0.0, 1.0)])?;
/// let config = StudyConfig { strategy: StrategyKind::Random, ..StudyConfig::default() };
/// let mut study = Study::new(space.clone(), config)?;
/// for _ in 0..12 {
///     let (n, a) = study.ask()?;
///     let x = a[0].as_ref().unwrap().as_f64().unwrap();
///     study.tell(n, Outcome::value((x - 0.3).powi(2)))?;
/// }
/// let target = Target::objective(Direction::Minimize);
/// let model = fit_surrogate(&space, study.trials(), &target, &BoConfig::default(), &FitOptions::default())?;
/// let at = |x: f64| vec![Some(nasbo_tuner::Value::Float(x))];
/// let bands = model.predict(&[at(0.3), at(0.9)])?;
/// assert!(bands[0].median < bands[1].median);
/// # Ok::<(), TunerError>(())
/// ```
pub fn fit_surrogate(
    space: &Space,
    trials: &[Trial],
    target: &Target,
    config: &BoConfig,
    options: &FitOptions,
) -> Result<StudyModel, TunerError> {
    let encoder = Arc::new(Encoder::new(space));
    let data = TrainingData::from_trials(&encoder, trials, target, config.pruned);
    fit_data(encoder, data, target.direction(), config, options)
}

/// [`fit_surrogate`] on data already encoded by `encoder`.
pub(crate) fn fit_data(
    encoder: Arc<Encoder>,
    data: TrainingData,
    direction: Direction,
    config: &BoConfig,
    options: &FitOptions,
) -> Result<StudyModel, TunerError> {
    let d = encoder.dim();
    let xs = &data.xs;
    if xs.is_empty() {
        return Err(TunerError::Model(nasbo_gp::GpError::EmptyData {
            what: "the set of trials with a value for the target",
        }));
    }
    let x = DMatrix::from_fn(xs.len(), d, |i, k| xs[i][k]);
    let tails = Tails::fit(&data.ys, config.extreme_band);
    let mut ys: Vec<f64> = data.ys.iter().map(|&v| tails.apply(v)).collect();
    let warp = config.warps().then(|| YeoJohnson::fit(&ys));
    if let Some(w) = &warp {
        for v in ys.iter_mut() {
            *v = w.apply(*v);
        }
    }
    let bowl = Bowl::new(&encoder, config.boundary_prior, &ys);
    for (v, x) in ys.iter_mut().zip(xs.iter()) {
        *v -= bowl.value(x);
    }
    // The worst residual, when the prior mean sits there (else the GP's sample mean).
    let prior_mean = config
        .worst_mean()
        .then(|| ys.iter().copied().fold(f64::INFINITY, f64::min))
        .filter(|v| v.is_finite());
    let y = DVector::from_vec(ys);
    let (lo, hi) = encoder.bounds();
    let mut params = GpParams::new(encoder.kernel())
        .input_bounds(lo, hi)
        .seed(options.seed)
        .priors(nasbo_gp::PriorSpec::Custom(priors(config, d)));
    if let Some(m) = prior_mean {
        params = params.prior_mean(nasbo_gp::PriorMean::Constant(m));
    }
    if !config.noisy {
        // A deterministic objective is interpolated: the floor of the noise variance goes
        // from nasbo-gp's default 1e-4 (BoTorch's) down to DETERMINISTIC_FLOOR.
        params = params.noise_floor(DETERMINISTIC_FLOOR);
    }
    if let Some(prev) = &options.warm_start {
        params = params.warm_start_log_params(prev.clone()).local_starts(1);
    }
    if let Some(k) = options.local_starts {
        params = params.local_starts(k);
    }
    // Above `fit_limit` observations, a subset-of-data model: the best, their neighbours and a
    // uniform draw of the rest (nasbo_gp::subset), for a bounded cost per proposal.
    let subset = SubsetOfData {
        fit: config.fit_limit,
        condition: config.model_limit,
        emphasis: match config.subset {
            super::SubsetDraw::BestFirst => Emphasis::Largest,
            super::SubsetDraw::Uniform => Emphasis::Uniform,
        },
        seed: options.seed,
    };
    let SubsetFit {
        model: gp,
        hyperparameter_fit,
    } = params.fit_subset(&x, &y, &subset)?;
    Ok(StudyModel {
        fitted_log_params: hyperparameter_fit.log_params(),
        gp,
        encoder,
        bowl,
        tails,
        warp,
        direction,
        data,
    })
}
