//! [`GpParams`]: the unchecked settings of a Gaussian process, and `fit`, which turns them and
//! data into a [`GaussianProcess`].

use argmin::core::{Executor, State};
use argmin::solver::linesearch::MoreThuenteLineSearch;
use argmin::solver::quasinewton::LBFGS;
use nalgebra::{DMatrix, DVector};
use rand::SeedableRng;
use rand_chacha::ChaCha8Rng;
use rand_distr::{Distribution, Normal};
use serde::{Deserialize, Serialize};

use crate::kernel::{Kernel, ParamKind};
use crate::likelihood::{Data, NoiseMode, Objective};
use crate::model::GaussianProcess;
use crate::prior::Priors;
use crate::GpError;

/// How the observation noise is treated.
#[derive(Clone, Copy, Debug, PartialEq, Serialize, Deserialize)]
pub enum Noise {
    /// Learned with the other hyperparameters (the default), above a floor.
    Learned,
    /// Fixed variance, in the user's output units squared.
    Fixed(f64),
}

/// The GP's constant prior mean: what it predicts far from the data.
#[derive(Clone, Copy, Debug, Default, PartialEq, Serialize, Deserialize)]
pub enum PriorMean {
    /// The outputs' sample mean (the default, as scikit-learn's `normalize_y` and BoTorch's
    /// standardization do).
    #[default]
    SampleMean,
    /// This value, in the user's output units. A value at the low end of the outputs is a
    /// pessimistic prior for maximization: regions without data are expected to be poor
    /// rather than average (see `nasbo-tuner`'s BO).
    Constant(f64),
}

/// Which priors the MAP objective uses.
#[derive(Clone, Copy, Debug, PartialEq, Serialize, Deserialize)]
pub enum PriorSpec {
    /// [`Priors::default_for`] the data's dimension (the default).
    Default,
    /// No priors: maximum likelihood.
    Flat,
    /// These priors.
    Custom(Priors),
}

/// Hyperparameter values in the user's units.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Hyperparameters {
    /// Lengthscales in the kernel's parameter order (leaves left to right, each leaf's
    /// dimensions in the order given); stationary ones in input units, Hamming ones unitless.
    pub lengthscales: Vec<f64>,
    /// Weights of the terms of sum kernels, in order (empty when there is no sum).
    pub sum_weights: Vec<f64>,
    /// Output scale (variance), in output units squared.
    pub outputscale: f64,
    /// Noise variance, in output units squared.
    pub noise: f64,
}

/// Whether the hyperparameters are fitted or given.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub enum Tuning {
    /// Maximize the log marginal likelihood plus log priors (the default).
    Optimize,
    /// Use these values as they are.
    Fixed(Hyperparameters),
}

/// Settings of a Gaussian process, checked when it is fitted.
///
/// | setting | default | meaning | valid range |
/// |---|---|---|---|
/// | `kernel` | Matérn 5/2, ARD | covariance function ([`Kernel`]) | dimensions `< d` |
/// | `noise` | `Learned` | learned or fixed noise variance ([`Noise`]) | fixed: `≥ 0`, finite |
/// | `noise_floor` | `1e-4` (BoTorch's) | smallest learned noise variance, standardized units | `[0, 1)` |
/// | `priors` | `Default` | priors of the MAP objective ([`PriorSpec`]) | scales `> 0` |
/// | `restarts` | `8` | random starts drawn from the priors, screened by their objective with the prior mode and the warm start | `≤ 1000` |
/// | `local_starts` | auto: 2, or 1 when n > 200 | L-BFGS runs, from the best screened starts | `1..=100` |
/// | `max_iters` | `200` | L-BFGS iterations per start | `≥ 1` |
/// | `seed` | `0` | seed of the random starts | any |
/// | `warm_start` | none | a previous fit's hyperparameters, tried first | same kernel and dimension |
/// | `input_bounds` | data min/max | box mapped to the unit cube | `low ≤ high`, finite |
/// | `tuning` | `Optimize` | fit or fix the hyperparameters ([`Tuning`]) | |
/// | `prior_mean` | `SampleMean` | the constant prior mean ([`PriorMean`]) | constant: finite |
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct GpParams {
    kernel: Kernel,
    noise: Noise,
    noise_floor: f64,
    priors: PriorSpec,
    restarts: usize,
    local_starts: Option<usize>,
    max_iters: u64,
    seed: u64,
    warm_start: Option<Vec<f64>>,
    input_bounds: Option<(Vec<f64>, Vec<f64>)>,
    tuning: Tuning,
    #[serde(default)]
    prior_mean: PriorMean,
}

impl Default for GpParams {
    fn default() -> Self {
        GpParams::new(Kernel::default())
    }
}

/// Default smallest learned noise variance, in standardized output units.
pub const DEFAULT_NOISE_FLOOR: f64 = 1e-4;

impl GpParams {
    /// Settings with the given kernel and every other setting at its default.
    pub fn new(kernel: Kernel) -> Self {
        GpParams {
            kernel,
            noise: Noise::Learned,
            noise_floor: DEFAULT_NOISE_FLOOR,
            priors: PriorSpec::Default,
            restarts: 8,
            local_starts: None,
            max_iters: 200,
            seed: 0,
            warm_start: None,
            input_bounds: None,
            tuning: Tuning::Optimize,
            prior_mean: PriorMean::SampleMean,
        }
    }

    /// Sets the noise treatment.
    pub fn noise(mut self, noise: Noise) -> Self {
        self.noise = noise;
        self
    }
    /// Sets the smallest learned noise variance (standardized units).
    pub fn noise_floor(mut self, floor: f64) -> Self {
        self.noise_floor = floor;
        self
    }
    /// Sets the priors.
    pub fn priors(mut self, priors: PriorSpec) -> Self {
        self.priors = priors;
        self
    }
    /// Sets the number of random starts.
    pub fn restarts(mut self, restarts: usize) -> Self {
        self.restarts = restarts;
        self
    }
    /// Sets the number of L-BFGS runs (from the best of the screened starts).
    pub fn local_starts(mut self, local_starts: usize) -> Self {
        self.local_starts = Some(local_starts);
        self
    }
    /// Sets the L-BFGS iteration limit per start.
    pub fn max_iters(mut self, max_iters: u64) -> Self {
        self.max_iters = max_iters;
        self
    }
    /// Sets the seed of the random starts.
    pub fn seed(mut self, seed: u64) -> Self {
        self.seed = seed;
        self
    }
    /// Starts the optimization from a previous fit's hyperparameters (ignored when the kernel
    /// layout differs).
    pub fn warm_start(mut self, previous: &GaussianProcess) -> Self {
        self.warm_start = Some(previous.log_params().to_vec());
        self
    }
    /// [`GpParams::warm_start`] from a fit's log-parameter vector
    /// ([`GaussianProcess::log_params`], e.g. saved with a study's trials); ignored when its
    /// length does not match the kernel's.
    pub fn warm_start_log_params(mut self, log_params: Vec<f64>) -> Self {
        self.warm_start = Some(log_params);
        self
    }
    /// Maps this box to the unit cube instead of the data's min/max (useful when the search
    /// space is known, so the scaling does not move as data arrives).
    pub fn input_bounds(mut self, low: Vec<f64>, high: Vec<f64>) -> Self {
        self.input_bounds = Some((low, high));
        self
    }
    /// Fits or fixes the hyperparameters.
    pub fn tuning(mut self, tuning: Tuning) -> Self {
        self.tuning = tuning;
        self
    }
    /// Sets the constant prior mean.
    pub fn prior_mean(mut self, mean: PriorMean) -> Self {
        self.prior_mean = mean;
        self
    }
    /// The kernel specification.
    pub fn kernel(&self) -> &Kernel {
        &self.kernel
    }

    /// Checks every setting that does not depend on the data.
    pub fn check(&self) -> Result<(), GpError> {
        let bad = |name: &'static str, value: String, reason: &str| {
            Err(GpError::InvalidParameter {
                name,
                value,
                reason: reason.to_string(),
            })
        };
        if let Noise::Fixed(v) = self.noise {
            if !(v.is_finite() && v >= 0.0) {
                return bad(
                    "noise",
                    v.to_string(),
                    "a fixed noise variance must be finite and ≥ 0",
                );
            }
        }
        if !(self.noise_floor.is_finite() && (0.0..1.0).contains(&self.noise_floor)) {
            return bad(
                "noise_floor",
                self.noise_floor.to_string(),
                "must be in [0, 1) (standardized units)",
            );
        }
        if self.restarts > 1000 {
            return bad("restarts", self.restarts.to_string(), "at most 1000");
        }
        if let Some(l) = self.local_starts {
            if !(1..=100).contains(&l) {
                return bad("local_starts", l.to_string(), "between 1 and 100");
            }
        }
        if self.max_iters == 0 {
            return bad("max_iters", "0".into(), "at least 1");
        }
        if let PriorMean::Constant(m) = self.prior_mean {
            if !m.is_finite() {
                return bad("prior_mean", m.to_string(), "must be finite");
            }
        }
        if let PriorSpec::Custom(p) = &self.priors {
            for (name, prior) in [
                ("priors.lengthscale", p.lengthscale),
                ("priors.outputscale", p.outputscale),
                ("priors.noise", p.noise),
                ("priors.sum_weight", p.sum_weight),
            ] {
                if let Some(prior) = prior {
                    if !prior.is_valid() {
                        return bad(name, format!("{prior:?}"), "loc must be finite, scale > 0");
                    }
                }
            }
        }
        if let Some((lo, hi)) = &self.input_bounds {
            if lo.len() != hi.len() {
                return bad(
                    "input_bounds",
                    format!("{} low, {} high", lo.len(), hi.len()),
                    "low and high need one value per dimension",
                );
            }
            for (k, (a, b)) in lo.iter().zip(hi).enumerate() {
                if !(a.is_finite() && b.is_finite() && a <= b) {
                    return bad(
                        "input_bounds",
                        format!("dimension {k}: [{a}, {b}]"),
                        "need finite low ≤ high",
                    );
                }
            }
        }
        if let Tuning::Fixed(h) = &self.tuning {
            let all = h
                .lengthscales
                .iter()
                .chain(&h.sum_weights)
                .chain([&h.outputscale]);
            for v in all {
                if !(v.is_finite() && *v > 0.0) {
                    return bad(
                        "tuning",
                        v.to_string(),
                        "fixed hyperparameters must be finite and > 0",
                    );
                }
            }
            if !(h.noise.is_finite() && h.noise >= 0.0) {
                return bad(
                    "tuning.noise",
                    h.noise.to_string(),
                    "must be finite and ≥ 0",
                );
            }
        }
        Ok(())
    }

    /// Fits the model to `x` (one row per observation) and `y`.
    ///
    /// Errors: [`GpError::EmptyData`], [`GpError::ShapeMismatch`], [`GpError::NonFinite`],
    /// [`GpError::InvalidParameter`], [`GpError::InvalidKernel`], and
    /// [`GpError::FitFailed`] when every start failed.
    pub fn fit(&self, x: &DMatrix<f64>, y: &DVector<f64>) -> Result<GaussianProcess, GpError> {
        self.check()?;
        let (n, d) = x.shape();
        if n == 0 {
            return Err(GpError::EmptyData { what: "x" });
        }
        if d == 0 {
            return Err(GpError::EmptyData {
                what: "x (no columns)",
            });
        }
        if y.len() != n {
            return Err(GpError::ShapeMismatch {
                what: "y (one value per row of x)",
                expected: n,
                got: y.len(),
            });
        }
        check_finite_matrix(x, "x")?;
        check_finite_vector(y, "y")?;
        let node = self.kernel.resolve(d)?;
        // Input transform.
        let (lo, scale) = match &self.input_bounds {
            Some((lo, hi)) => {
                if lo.len() != d {
                    return Err(GpError::ShapeMismatch {
                        what: "input_bounds",
                        expected: d,
                        got: lo.len(),
                    });
                }
                let scale = lo
                    .iter()
                    .zip(hi)
                    .map(|(a, b)| if b > a { b - a } else { 1.0 })
                    .collect();
                (lo.clone(), scale)
            }
            None => data_bounds(x),
        };
        let mut xu = vec![0.0; n * d];
        for i in 0..n {
            for k in 0..d {
                xu[i * d + k] = (x[(i, k)] - lo[k]) / scale[k];
            }
        }
        // Output transform: scaled by the outputs' spread about their mean, centred on the
        // prior mean.
        let sample_mean = y.mean();
        let var = y.iter().map(|v| (v - sample_mean).powi(2)).sum::<f64>() / n as f64;
        let mut y_scale = var.sqrt();
        if y_scale <= 1e-14 * sample_mean.abs() || !y_scale.is_normal() {
            y_scale = if sample_mean != 0.0 {
                sample_mean.abs()
            } else {
                1.0
            };
        }
        let y_mean = match self.prior_mean {
            PriorMean::SampleMean => sample_mean,
            PriorMean::Constant(m) => m,
        };
        let ys: Vec<f64> = y.iter().map(|v| (v - y_mean) / y_scale).collect();

        let priors = match self.priors {
            PriorSpec::Default => Priors::default_for(d),
            PriorSpec::Flat => Priors::flat(),
            PriorSpec::Custom(p) => p,
        };
        let kinds = node.param_kinds();
        let kp = node.n_params();
        let (noise_mode, fixed_theta) = match &self.tuning {
            Tuning::Optimize => {
                let mode = match self.noise {
                    Noise::Learned => NoiseMode::Learned {
                        floor: self.noise_floor,
                    },
                    Noise::Fixed(v) => NoiseMode::Fixed(v / (y_scale * y_scale)),
                };
                (mode, None)
            }
            Tuning::Fixed(h) => {
                let n_ls = kinds
                    .iter()
                    .filter(|k| !matches!(k, ParamKind::SumWeight))
                    .count();
                let n_w = kp - n_ls;
                if h.lengthscales.len() != n_ls {
                    return Err(GpError::ShapeMismatch {
                        what: "fixed lengthscales",
                        expected: n_ls,
                        got: h.lengthscales.len(),
                    });
                }
                if h.sum_weights.len() != n_w {
                    return Err(GpError::ShapeMismatch {
                        what: "fixed sum weights",
                        expected: n_w,
                        got: h.sum_weights.len(),
                    });
                }
                let mut theta = Vec::with_capacity(kp + 1);
                let (mut il, mut iw) = (0, 0);
                for kind in &kinds {
                    match kind {
                        ParamKind::Lengthscale { dim } => {
                            theta.push((h.lengthscales[il] / scale[*dim]).ln());
                            il += 1;
                        }
                        ParamKind::CategoricalLengthscale { .. } => {
                            theta.push(h.lengthscales[il].ln());
                            il += 1;
                        }
                        ParamKind::SumWeight => {
                            theta.push(h.sum_weights[iw].ln());
                            iw += 1;
                        }
                    }
                }
                theta.push((h.outputscale / (y_scale * y_scale)).ln());
                (NoiseMode::Fixed(h.noise / (y_scale * y_scale)), Some(theta))
            }
        };

        let data = Data {
            x: &xu,
            y: &ys,
            n,
            d,
        };
        let objective = Objective::new(data, &node, priors, noise_mode);
        let theta = match fixed_theta {
            Some(t) => t,
            None => self.optimize(&objective, d)?,
        };
        let nll = objective.factorize(&theta)?;
        let ws = objective.ws.into_inner();
        let (outputscale, noise) = {
            let s = theta[kp].exp();
            let noise = match noise_mode {
                NoiseMode::Learned { floor } => floor + theta[kp + 1].exp(),
                NoiseMode::Fixed(v) => v,
            };
            (s, noise)
        };
        Ok(GaussianProcess::from_parts(crate::model::Parts {
            kernel: self.kernel.clone(),
            node,
            theta: theta[..=kp].to_vec(),
            noise_theta: match noise_mode {
                NoiseMode::Learned { .. } => Some(theta[kp + 1]),
                NoiseMode::Fixed(_) => None,
            },
            outputscale,
            noise,
            jitter: ws.jitter,
            d,
            x: xu,
            y: ys,
            x_lo: lo,
            x_scale: scale,
            y_mean,
            y_scale,
            l: ws.l,
            alpha: ws.alpha.column(0).iter().copied().collect(),
            nll_std: nll,
        }))
    }

    /// The starting points of the optimization, in `θ` space.
    fn starts(&self, objective: &Objective<'_>, d: usize) -> Vec<Vec<f64>> {
        let n_theta = objective.n_theta();
        let kp = objective.node.n_params();
        let learned_noise = n_theta > kp + 1;
        // Where to start (and draw starts from) when a group has a flat prior: the default
        // prior, or a log-normal with mode 1 for the output scale and sum weights.
        let default = Priors::default_for(d);
        let unit = crate::LogNormal::new(1.0, 1.0);
        let ls = objective
            .priors
            .lengthscale
            .or(default.lengthscale)
            .unwrap_or(unit);
        let os = objective.priors.outputscale.unwrap_or(unit);
        let nz = objective.priors.noise.or(default.noise).unwrap_or(unit);
        let sw = objective.priors.sum_weight.unwrap_or(unit);
        let mut starts = Vec::new();
        if let Some(w) = &self.warm_start {
            if w.len() == n_theta && w.iter().all(|v| v.is_finite()) {
                starts.push(w.clone());
            }
        }
        let mode = |kind: &ParamKind| match kind {
            ParamKind::SumWeight => sw.log_mode(),
            _ => ls.log_mode(),
        };
        let mut m: Vec<f64> = objective.kinds.iter().map(mode).collect();
        m.push(os.log_mode());
        if learned_noise {
            m.push(nz.log_mode());
        }
        starts.push(m);
        let mut rng = ChaCha8Rng::seed_from_u64(self.seed);
        let std: Normal<f64> = Normal::new(0.0, 1.0).expect("unit normal");
        for _ in 0..self.restarts {
            let mut t: Vec<f64> = objective
                .kinds
                .iter()
                .map(|kind| {
                    let p = match kind {
                        ParamKind::SumWeight => sw,
                        _ => ls,
                    };
                    // Draws of ln ψ, kept within 2.5 standard deviations.
                    p.loc + p.scale * std.sample(&mut rng).clamp(-2.5, 2.5)
                })
                .collect();
            t.push(os.loc + 0.5 * os.scale * std.sample(&mut rng).clamp(-2.5, 2.5));
            if learned_noise {
                t.push(nz.loc + nz.scale * std.sample(&mut rng).clamp(-2.5, 2.5));
            }
            starts.push(t);
        }
        starts
    }

    fn optimize(&self, objective: &Objective<'_>, d: usize) -> Result<Vec<f64>, GpError> {
        let mut best: Option<(f64, Vec<f64>)> = None;
        let mut failures = Vec::new();
        // Screen every start by its objective (one factorization each), then search locally
        // from the best few.
        let mut screened: Vec<(f64, Vec<f64>)> = Vec::new();
        let starts = self.starts(objective, d);
        let local = self
            .local_starts
            .unwrap_or(if objective.data.n > 200 { 1 } else { 2 });
        // Nothing to choose between: skip the screening factorization.
        let starts_len = starts.len();
        for start in starts {
            if starts_len <= local {
                screened.push((0.0, start));
                continue;
            }
            match objective.cost_only(&start) {
                Ok(f) => screened.push((f, start)),
                Err(e) => failures.push(format!("start rejected: {e}")),
            }
        }
        screened.sort_by(|a, b| a.0.total_cmp(&b.0));
        for (_, start) in screened.into_iter().take(local) {
            match run_lbfgs(objective, start.clone(), self.max_iters) {
                Ok((f, t)) => {
                    if best.as_ref().is_none_or(|(bf, _)| f < *bf) {
                        best = Some((f, t));
                    }
                }
                Err(e) => {
                    // The start itself may still be usable when the search failed.
                    if let Ok(f) = objective.cost_only(&start) {
                        if best.as_ref().is_none_or(|(bf, _)| f < *bf) {
                            best = Some((f, start));
                        }
                    }
                    failures.push(e)
                }
            }
        }
        best.map(|(_, t)| t)
            .ok_or_else(|| GpError::FitFailed(failures.join("; ")))
    }
}

fn run_lbfgs(
    objective: &Objective<'_>,
    start: Vec<f64>,
    max_iters: u64,
) -> Result<(f64, Vec<f64>), String> {
    let linesearch = MoreThuenteLineSearch::new();
    // The adapter divides the objective by n: these tolerances are per observation (a change
    // of 1e-7 nats per observation does not move the predictions).
    let n = objective.data.n.max(1) as f64;
    let solver = LBFGS::new(linesearch, 10)
        .with_tolerance_grad(1e-4 / n.sqrt())
        .and_then(|s| s.with_tolerance_cost(1e-7))
        .map_err(|e| e.to_string())?;
    let result = Executor::new(crate::likelihood::ArgminObjective(objective), solver)
        .configure(|state| state.param(DVector::from_vec(start)).max_iters(max_iters))
        .timer(false)
        .run()
        .map_err(|e| e.to_string())?;
    let state = result.state();
    let param = state
        .get_best_param()
        .ok_or_else(|| "L-BFGS returned no parameter".to_string())?;
    // The solver saw the cost per observation; report the total.
    let cost = state.get_best_cost() * n;
    if !cost.is_finite() || state.get_best_cost() >= 1e10 {
        return Err("L-BFGS ended where the covariance cannot be factorized".into());
    }
    Ok((cost, param.as_slice().to_vec()))
}

pub(crate) fn check_finite_matrix(x: &DMatrix<f64>, what: &'static str) -> Result<(), GpError> {
    for i in 0..x.nrows() {
        for k in 0..x.ncols() {
            let v = x[(i, k)];
            if !v.is_finite() {
                return Err(GpError::NonFinite {
                    what,
                    row: i,
                    col: k,
                    value: v,
                });
            }
        }
    }
    Ok(())
}

/// The first non-finite value of `y` as [`GpError::NonFinite`] (row = its index, column 0).
pub(crate) fn check_finite_vector(y: &DVector<f64>, what: &'static str) -> Result<(), GpError> {
    match y.iter().enumerate().find(|(_, v)| !v.is_finite()) {
        Some((i, v)) => Err(GpError::NonFinite {
            what,
            row: i,
            col: 0,
            value: *v,
        }),
        None => Ok(()),
    }
}

fn data_bounds(x: &DMatrix<f64>) -> (Vec<f64>, Vec<f64>) {
    let d = x.ncols();
    let mut lo = vec![f64::INFINITY; d];
    let mut hi = vec![f64::NEG_INFINITY; d];
    for i in 0..x.nrows() {
        for k in 0..d {
            lo[k] = lo[k].min(x[(i, k)]);
            hi[k] = hi[k].max(x[(i, k)]);
        }
    }
    let scale = lo
        .iter()
        .zip(&hi)
        .map(|(a, b)| {
            let r = b - a;
            if r > 1e-12 * (a.abs().max(b.abs())) && r > 0.0 {
                r
            } else {
                1.0
            }
        })
        .collect();
    (lo, scale)
}
