//! The small surface that acquisition functions see of a model: mean and variance at a point
//! with their gradients, joint samples, the observed data and conditioning on fantasies.

use nalgebra::{DMatrix, DVector};
use rand::RngCore;

use crate::AcqError;

/// Posterior mean and latent variance at a point with their gradients.
#[derive(Clone, Debug, PartialEq)]
pub struct Moments {
    /// Posterior mean.
    pub mean: f64,
    /// Posterior variance of the latent function.
    pub var: f64,
    /// ∂mean/∂x.
    pub dmean: Vec<f64>,
    /// ∂var/∂x.
    pub dvar: Vec<f64>,
}

/// A probabilistic model of the objective. [`nasbo_gp::GaussianProcess`] implements it; so can
/// a test double or another model.
pub trait Surrogate {
    /// Input dimension.
    fn dim(&self) -> usize;
    /// Mean and latent variance at `x`.
    fn mean_var(&self, x: &[f64]) -> Result<(f64, f64), AcqError>;
    /// Mean, variance and their gradients at `x`.
    fn moments(&self, x: &[f64]) -> Result<Moments, AcqError>;
    /// Means and variances at the rows of `xs` (override for a faster batch path).
    fn mean_var_batch(&self, xs: &DMatrix<f64>) -> Result<(Vec<f64>, Vec<f64>), AcqError> {
        let mut means = Vec::with_capacity(xs.nrows());
        let mut vars = Vec::with_capacity(xs.nrows());
        let mut row = vec![0.0; xs.ncols()];
        for i in 0..xs.nrows() {
            for (k, r) in row.iter_mut().enumerate() {
                *r = xs[(i, k)];
            }
            let (m, v) = self.mean_var(&row)?;
            means.push(m);
            vars.push(v);
        }
        Ok((means, vars))
    }
    /// `n_samples` joint posterior draws at the rows of `xs` (one draw per row of the result).
    fn joint_samples(
        &self,
        xs: &DMatrix<f64>,
        n_samples: usize,
        rng: &mut dyn RngCore,
    ) -> Result<DMatrix<f64>, AcqError>;
    /// The observed inputs, one row per observation.
    fn observed_inputs(&self) -> DMatrix<f64>;
    /// The observed outputs.
    fn observed_outputs(&self) -> DVector<f64>;
    /// The model after also observing `y` at `x`, hyperparameters unchanged.
    fn condition(&self, x: &DMatrix<f64>, y: &DVector<f64>) -> Result<Self, AcqError>
    where
        Self: Sized;
}

impl Surrogate for nasbo_gp::GaussianProcess {
    fn dim(&self) -> usize {
        nasbo_gp::GaussianProcess::dim(self)
    }
    fn mean_var(&self, x: &[f64]) -> Result<(f64, f64), AcqError> {
        Ok(self.predict_point(x)?)
    }
    fn moments(&self, x: &[f64]) -> Result<Moments, AcqError> {
        let g = self.predict_gradients(x)?;
        Ok(Moments {
            mean: g.mean,
            var: g.var_f,
            dmean: g.dmean,
            dvar: g.dvar,
        })
    }
    fn mean_var_batch(&self, xs: &DMatrix<f64>) -> Result<(Vec<f64>, Vec<f64>), AcqError> {
        let p = self.predict_var(xs)?;
        Ok((
            p.mean.iter().copied().collect(),
            p.var_f.iter().copied().collect(),
        ))
    }
    fn joint_samples(
        &self,
        xs: &DMatrix<f64>,
        n_samples: usize,
        rng: &mut dyn RngCore,
    ) -> Result<DMatrix<f64>, AcqError> {
        Ok(self.sample(xs, n_samples, rng)?)
    }
    fn observed_inputs(&self) -> DMatrix<f64> {
        self.train_inputs()
    }
    fn observed_outputs(&self) -> DVector<f64> {
        self.train_outputs()
    }
    fn condition(&self, x: &DMatrix<f64>, y: &DVector<f64>) -> Result<Self, AcqError> {
        Ok(nasbo_gp::GaussianProcess::condition(self, x, y)?)
    }
}
