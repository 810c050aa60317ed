//! # nasbo-gp: Gaussian-process regression for Bayesian optimization
//!
//! A Gaussian process (GP) surrogate that is right with 5 to 100 observations, does not break
//! numerically, and is fast at 1,000. It is the model behind nasbo's tuner and usable on its
//! own.
//!
//! - Kernels ([`Kernel`]): squared exponential and Matérn 1/2, 3/2, 5/2 with one lengthscale
//!   per dimension (ARD), a Hamming (overlap) kernel for unordered categories, and products and
//!   sums of kernels over groups of dimensions.
//! - Fitting ([`GpParams::fit`]): maximum a posteriori hyperparameters (log marginal
//!   likelihood plus log priors, BoTorch's defaults, see [`Priors`]), with analytic gradients,
//!   by argmin's L-BFGS from several starts.
//! - Inputs are scaled to the unit cube and outputs standardized inside; the API speaks in the
//!   user's units.
//! - Prediction ([`GaussianProcess`]): mean and variances, joint covariance, gradients with
//!   respect to the input, joint posterior samples, and conditioning on new observations
//!   without refitting.
//! - Large data ([`GpParams::fit_subset`]): hyperparameters fitted on a subset and the model
//!   conditioned on a larger one, for a bounded cost at any n; observations added to a fitted
//!   model in O(n²) each ([`GaussianProcess::add_observations`]).
//! - Robust: a failed Cholesky factorization is retried with growing jitter, then reported as
//!   [`GpError::NotPositiveDefinite`]; bad input is a typed [`GpError`] that says where.
//!
//! Inputs are `nalgebra` 0.34 matrices (`DMatrix<f64>`, one row per observation) and vectors;
//! the crate re-exports [`nalgebra`] so that callers use the same version.
//!
//! ## Example
//!
//! ```
//! use nasbo_gp::nalgebra::{DMatrix, DVector};
//! use nasbo_gp::{GpError, GpParams, Kernel};
//!
//! // 20 noisy observations of sin(6 a) + b on [0, 1]².
//! let x = DMatrix::from_fn(20, 2, |i, k| ((i * (3 + 4 * k) + k) % 20) as f64 / 19.0);
//! let y = DVector::from_fn(20, |i, _| (6.0 * x[(i, 0)]).sin() + x[(i, 1)]);
//!
//! let gp = GpParams::new(Kernel::matern52()).seed(1).fit(&x, &y)?;
//! let query = DMatrix::from_row_slice(2, 2, &[0.25, 0.5, 0.9, 0.1]);
//! let pred = gp.predict_var(&query)?;
//! assert!((pred.mean[0] - ((1.5f64).sin() + 0.5)).abs() < 0.2);
//! assert!(pred.var_y[0] >= pred.var_f[0]);
//!
//! // Gradients of the mean and variance with respect to the point.
//! let g = gp.predict_gradients(&[0.25, 0.5])?;
//! assert_eq!(g.dmean.len(), 2);
//!
//! // A pending observation, without refitting the hyperparameters.
//! let gp2 = gp.condition(&DMatrix::from_row_slice(1, 2, &[0.25, 0.5]), &DVector::from_element(1, 1.5))?;
//! assert_eq!(gp2.n(), 21);
//! # Ok::<(), GpError>(())
//! ```
#![warn(missing_docs)]

mod error;
pub mod kernel;
mod likelihood;
mod linalg;
mod model;
mod params;
mod prior;
pub mod subset;

pub use nalgebra;

pub use error::GpError;
pub use kernel::{Kernel, Stationary};
pub use model::{GaussianProcess, PointGradients, Prediction, MIN_VARIANCE};
pub use params::{
    GpParams, Hyperparameters, Noise, PriorMean, PriorSpec, Tuning, DEFAULT_NOISE_FLOOR,
};
pub use prior::{LogNormal, Priors};
pub use subset::{Emphasis, SubsetFit, SubsetOfData};
