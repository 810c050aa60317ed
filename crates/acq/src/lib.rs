//! # nasbo-acq: acquisition functions and their optimizer
//!
//! Decides where a Bayesian optimization loop looks next. Acquisition functions see the model
//! only through the small [`Surrogate`] trait (mean, variance and their gradients at a point);
//! [`nasbo_gp::GaussianProcess`] implements it.
//!
//! - [`LogExpectedImprovement`] (the default; Ament et al. 2023), [`ExpectedImprovement`],
//!   [`LogProbabilityOfImprovement`], [`UpperConfidenceBound`], [`thompson_sample`]; the noisy
//!   variant uses [`Incumbent::BestPosteriorMean`].
//! - [`optimize`]: raw Sobol samples → starting points → L-BFGS inside the bounds (argmin, with
//!   our smooth box reparameterization, [`bounded`]) alternating with discrete neighbour moves →
//!   the best point that is not already evaluated or pending. Integer and categorical
//!   dimensions only ever take admissible values.
//! - [`propose`]: q > 1 points and proposals with pending trials, by conditioning on
//!   fantasies (Kriging believer or constant liar).
//!
//! Convention: everything is **maximized**.
//!
//! ## Example
//!
//! ```
//! use nalgebra::{DMatrix, DVector};
//! use nasbo_acq::{optimize, AcqError, Domain, LogExpectedImprovement, OptimizerConfig};
//! use nasbo_gp::GpParams;
//!
//! // Observations of f(x) = -(x - 0.3)², to be maximized.
//! let x = DMatrix::from_column_slice(6, 1, &[0.0, 0.2, 0.45, 0.6, 0.8, 1.0]);
//! let y = x.map(|v| -(v - 0.3) * (v - 0.3)).column(0).into_owned();
//! let gp = GpParams::default().fit(&x, &y)?;
//! let best = y.max();
//! let acq = LogExpectedImprovement::new(&gp, best);
//! let domain = Domain::continuous(&[0.0], &[1.0])?;
//! let evaluated: Vec<Vec<f64>> = x.row_iter().map(|r| r.iter().copied().collect()).collect();
//! let next = optimize(&acq, &domain, &OptimizerConfig::default(), &evaluated)?;
//! assert!((next.x[0] - 0.3).abs() < 0.15, "{:?}", next.x);
//! # Ok::<(), AcqError>(())
//! ```
#![warn(missing_docs)]

mod batch;
pub mod bounded;
mod domain;
mod error;
mod functions;
mod hypervolume;
mod optimize;
pub mod special;
mod surrogate;

pub use batch::{propose, Canonicalize, Fantasy, Liar, ProposalRequest};
pub use domain::{Dim, Domain};
pub use error::AcqError;
pub use functions::{
    thompson_sample, AcqKind, AcquisitionFunction, ExpectedImprovement, Incumbent,
    LogExpectedImprovement, LogProbabilityOfImprovement, UpperConfidenceBound, MIN_VARIANCE,
};
pub use hypervolume::{LogExpectedHypervolumeImprovement, MAX_BOXES};
pub use optimize::{
    best_candidate, discrete_neighbours, local_search, optimize, optimize_around, optimize_with,
    raw_samples, samples_around, select_starts, sobol_point, Candidate, Duplicates,
    OptimizerConfig,
};
pub use surrogate::{Moments, Surrogate};
