//! Acquisition functions. Convention: the objective is **maximized** and so is every
//! acquisition function (the tuner negates a minimized objective before it gets here).

use nalgebra::DMatrix;
use rand::RngCore;

use crate::special::{dlog_ei_h, dlog_norm_cdf, ei_h, log_ei_h, log_norm_cdf, norm_cdf, norm_pdf};
use crate::surrogate::{Moments, Surrogate};
use crate::AcqError;

/// Smallest posterior variance used, so that `σ > 0` everywhere.
pub const MIN_VARIANCE: f64 = 1e-24;

/// Something the optimizer can maximize: a value and a gradient at a point. `Sync`, so that
/// the optimizer can run its local searches on several threads.
pub trait AcquisitionFunction: Sync {
    /// Input dimension.
    fn dim(&self) -> usize;
    /// Value at `x`.
    fn value(&self, x: &[f64]) -> Result<f64, AcqError>;
    /// Value and gradient at `x`.
    fn value_and_gradient(&self, x: &[f64]) -> Result<(f64, Vec<f64>), AcqError>;
    /// Values at the rows of `xs`.
    fn values(&self, xs: &DMatrix<f64>) -> Result<Vec<f64>, AcqError>;
}

/// Which value counts as the incumbent (the best so far) for improvement-based functions.
#[derive(Clone, Copy, Debug, PartialEq)]
pub enum Incumbent {
    /// The best observed output (noise-free objectives).
    BestObserved,
    /// The best posterior mean among the observed points: the noisy variant, for objectives
    /// such as a validation accuracy, where the best observation is optimistic.
    BestPosteriorMean,
    /// A given value.
    Value(f64),
}

impl Incumbent {
    /// The incumbent's value for `model`.
    pub fn resolve<S: Surrogate>(&self, model: &S) -> Result<f64, AcqError> {
        match self {
            Incumbent::Value(v) => Ok(*v),
            Incumbent::BestObserved => Ok(model
                .observed_outputs()
                .iter()
                .copied()
                .fold(f64::NEG_INFINITY, f64::max)),
            Incumbent::BestPosteriorMean => {
                let (means, _) = model.mean_var_batch(&model.observed_inputs())?;
                Ok(means.into_iter().fold(f64::NEG_INFINITY, f64::max))
            }
        }
    }
}

fn sigma_parts(m: &Moments) -> (f64, Vec<f64>) {
    let var = m.var.max(MIN_VARIANCE);
    let sigma = var.sqrt();
    let clamped = m.var < MIN_VARIANCE;
    let dsigma = m
        .dvar
        .iter()
        .map(|dv| if clamped { 0.0 } else { dv / (2.0 * sigma) })
        .collect();
    (sigma, dsigma)
}

macro_rules! batch_values {
    () => {
        fn values(&self, xs: &DMatrix<f64>) -> Result<Vec<f64>, AcqError> {
            let (means, vars) = self.model.mean_var_batch(xs)?;
            Ok(means
                .iter()
                .zip(&vars)
                .map(|(&m, &v)| self.at_moments(m, v.max(MIN_VARIANCE).sqrt()))
                .collect())
        }
        fn value(&self, x: &[f64]) -> Result<f64, AcqError> {
            let (m, v) = self.model.mean_var(x)?;
            Ok(self.at_moments(m, v.max(MIN_VARIANCE).sqrt()))
        }
        fn dim(&self) -> usize {
            self.model.dim()
        }
    };
}

/// Log expected improvement (LogEI, Ament et al. 2023), the default: `ln E[max(f(x) − f*, 0)]`
/// computed without underflow, so it stays finite and informative (with a useful gradient)
/// even 40 standard deviations below the incumbent.
pub struct LogExpectedImprovement<'m, S> {
    model: &'m S,
    best_f: f64,
}

impl<'m, S: Surrogate> LogExpectedImprovement<'m, S> {
    /// LogEI over the incumbent `best_f`.
    pub fn new(model: &'m S, best_f: f64) -> Self {
        LogExpectedImprovement { model, best_f }
    }
    fn at_moments(&self, mean: f64, sigma: f64) -> f64 {
        log_ei_h((mean - self.best_f) / sigma) + sigma.ln()
    }
}

impl<S: Surrogate + Sync> AcquisitionFunction for LogExpectedImprovement<'_, S> {
    batch_values!();
    fn value_and_gradient(&self, x: &[f64]) -> Result<(f64, Vec<f64>), AcqError> {
        let m = self.model.moments(x)?;
        let (sigma, dsigma) = sigma_parts(&m);
        let z = (m.mean - self.best_f) / sigma;
        let dlh = dlog_ei_h(z);
        let grad = m
            .dmean
            .iter()
            .zip(&dsigma)
            .map(|(dm, ds)| dlh * (dm - z * ds) / sigma + ds / sigma)
            .collect();
        Ok((log_ei_h(z) + sigma.ln(), grad))
    }
}

/// Expected improvement `E[max(f(x) − f*, 0)] = σ h(z)`. Underflows to 0 far from the
/// incumbent; prefer [`LogExpectedImprovement`].
pub struct ExpectedImprovement<'m, S> {
    model: &'m S,
    best_f: f64,
}

impl<'m, S: Surrogate> ExpectedImprovement<'m, S> {
    /// EI over the incumbent `best_f`.
    pub fn new(model: &'m S, best_f: f64) -> Self {
        ExpectedImprovement { model, best_f }
    }
    fn at_moments(&self, mean: f64, sigma: f64) -> f64 {
        sigma * ei_h((mean - self.best_f) / sigma)
    }
}

impl<S: Surrogate + Sync> AcquisitionFunction for ExpectedImprovement<'_, S> {
    batch_values!();
    fn value_and_gradient(&self, x: &[f64]) -> Result<(f64, Vec<f64>), AcqError> {
        let m = self.model.moments(x)?;
        let (sigma, dsigma) = sigma_parts(&m);
        let z = (m.mean - self.best_f) / sigma;
        let (cdf, pdf) = (norm_cdf(z), norm_pdf(z));
        let grad = m
            .dmean
            .iter()
            .zip(&dsigma)
            .map(|(dm, ds)| cdf * dm + pdf * ds)
            .collect();
        Ok((sigma * ei_h(z), grad))
    }
}

/// Log probability of improvement `ln P(f(x) > f*) = ln Φ(z)`, stable in the lower tail.
pub struct LogProbabilityOfImprovement<'m, S> {
    model: &'m S,
    best_f: f64,
}

impl<'m, S: Surrogate> LogProbabilityOfImprovement<'m, S> {
    /// Log PI over the incumbent `best_f`.
    pub fn new(model: &'m S, best_f: f64) -> Self {
        LogProbabilityOfImprovement { model, best_f }
    }
    fn at_moments(&self, mean: f64, sigma: f64) -> f64 {
        log_norm_cdf((mean - self.best_f) / sigma)
    }
}

impl<S: Surrogate + Sync> AcquisitionFunction for LogProbabilityOfImprovement<'_, S> {
    batch_values!();
    fn value_and_gradient(&self, x: &[f64]) -> Result<(f64, Vec<f64>), AcqError> {
        let m = self.model.moments(x)?;
        let (sigma, dsigma) = sigma_parts(&m);
        let z = (m.mean - self.best_f) / sigma;
        let d = dlog_norm_cdf(z);
        let grad = m
            .dmean
            .iter()
            .zip(&dsigma)
            .map(|(dm, ds)| d * (dm - z * ds) / sigma)
            .collect();
        Ok((log_norm_cdf(z), grad))
    }
}

/// Upper confidence bound `μ(x) + √β σ(x)`. BoTorch's convention: `β` multiplies the
/// variance, so `β = 4` means two standard deviations; the default
/// [`UpperConfidenceBound::DEFAULT_BETA`] is 2.
pub struct UpperConfidenceBound<'m, S> {
    model: &'m S,
    sqrt_beta: f64,
}

impl<'m, S: Surrogate> UpperConfidenceBound<'m, S> {
    /// The default `β`: 2 (√2 ≈ 1.41 standard deviations).
    pub const DEFAULT_BETA: f64 = 2.0;
    /// UCB with exploration weight `beta ≥ 0` (on the variance).
    pub fn new(model: &'m S, beta: f64) -> Result<Self, AcqError> {
        if !(beta.is_finite() && beta >= 0.0) {
            return Err(AcqError::InvalidConfig {
                name: "beta",
                value: beta.to_string(),
                reason: "must be finite and ≥ 0".into(),
            });
        }
        Ok(UpperConfidenceBound {
            model,
            sqrt_beta: beta.sqrt(),
        })
    }
    fn at_moments(&self, mean: f64, sigma: f64) -> f64 {
        mean + self.sqrt_beta * sigma
    }
}

impl<S: Surrogate + Sync> AcquisitionFunction for UpperConfidenceBound<'_, S> {
    batch_values!();
    fn value_and_gradient(&self, x: &[f64]) -> Result<(f64, Vec<f64>), AcqError> {
        let m = self.model.moments(x)?;
        let (sigma, dsigma) = sigma_parts(&m);
        let grad = m
            .dmean
            .iter()
            .zip(&dsigma)
            .map(|(dm, ds)| dm + self.sqrt_beta * ds)
            .collect();
        Ok((m.mean + self.sqrt_beta * sigma, grad))
    }
}

/// Thompson sampling: draws one joint posterior sample on the rows of `candidates` and returns
/// the index of its maximum, with the sampled value.
pub fn thompson_sample<S: Surrogate>(
    model: &S,
    candidates: &DMatrix<f64>,
    rng: &mut dyn RngCore,
) -> Result<(usize, f64), AcqError> {
    let draws = model.joint_samples(candidates, 1, rng)?;
    let mut best = (0, f64::NEG_INFINITY);
    for j in 0..candidates.nrows() {
        let v = draws[(0, j)];
        if v > best.1 {
            best = (j, v);
        }
    }
    if !best.1.is_finite() {
        return Err(AcqError::NonFinite);
    }
    Ok(best)
}

/// Which acquisition function to build (for configs and the tuner).
#[derive(Clone, Copy, Debug, PartialEq, Default)]
pub enum AcqKind {
    /// [`LogExpectedImprovement`] (the default).
    #[default]
    LogEi,
    /// [`ExpectedImprovement`].
    Ei,
    /// [`LogProbabilityOfImprovement`].
    LogPi,
    /// [`UpperConfidenceBound`] with this `β`.
    Ucb {
        /// Exploration weight on the variance.
        beta: f64,
    },
}

impl AcqKind {
    /// Builds the function on `model` with the given incumbent value.
    pub fn build<'m, S: Surrogate + Sync>(
        self,
        model: &'m S,
        best_f: f64,
    ) -> Result<Box<dyn AcquisitionFunction + 'm>, AcqError> {
        Ok(match self {
            AcqKind::LogEi => Box::new(LogExpectedImprovement::new(model, best_f)),
            AcqKind::Ei => Box::new(ExpectedImprovement::new(model, best_f)),
            AcqKind::LogPi => Box::new(LogProbabilityOfImprovement::new(model, best_f)),
            AcqKind::Ucb { beta } => Box::new(UpperConfidenceBound::new(model, beta)?),
        })
    }
}

impl<A: AcquisitionFunction + ?Sized> AcquisitionFunction for Box<A> {
    fn dim(&self) -> usize {
        (**self).dim()
    }
    fn value(&self, x: &[f64]) -> Result<f64, AcqError> {
        (**self).value(x)
    }
    fn value_and_gradient(&self, x: &[f64]) -> Result<(f64, Vec<f64>), AcqError> {
        (**self).value_and_gradient(x)
    }
    fn values(&self, xs: &DMatrix<f64>) -> Result<Vec<f64>, AcqError> {
        (**self).values(xs)
    }
}
