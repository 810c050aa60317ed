//! Priors on the GP hyperparameters.

use serde::{Deserialize, Serialize};

/// A log-normal prior on a positive hyperparameter `ψ`: `ln ψ ~ Normal(loc, scale²)`.
///
/// As in GPyTorch/BoTorch, the density is evaluated on `ψ` itself, so the MAP objective includes
/// the `-ln ψ` term of the log-normal density and the prior's mode is `exp(loc - scale²)`.
#[derive(Clone, Copy, Debug, PartialEq, Serialize, Deserialize)]
pub struct LogNormal {
    /// Mean of `ln ψ`.
    pub loc: f64,
    /// Standard deviation of `ln ψ` (> 0).
    pub scale: f64,
}

impl LogNormal {
    /// A log-normal prior; `scale` must be positive (checked by [`crate::GpParams::check`]).
    pub fn new(loc: f64, scale: f64) -> Self {
        LogNormal { loc, scale }
    }

    /// The mode of `ψ`, `exp(loc - scale²)`, in log space: `loc - scale²`.
    pub fn log_mode(&self) -> f64 {
        self.loc - self.scale * self.scale
    }

    /// Negative log density of `ψ = exp(θ)` (up to a constant) and its derivative in `θ`.
    #[inline]
    pub(crate) fn neg_log_density(&self, theta: f64) -> (f64, f64) {
        let z = (theta - self.loc) / self.scale;
        (theta + 0.5 * z * z, 1.0 + z / self.scale)
    }

    pub(crate) fn is_valid(&self) -> bool {
        self.loc.is_finite() && self.scale.is_finite() && self.scale > 0.0
    }
}

/// The priors of a model. `None` means a flat prior (maximum likelihood for that group).
///
/// Defaults ([`Priors::default_for`]), in the units of the model: inputs scaled to the unit cube,
/// outputs standardized to mean 0 and variance 1.
///
/// | hyperparameter | default prior | mode | source |
/// |---|---|---|---|
/// | lengthscale (each, stationary and Hamming) | `LogNormal(√2 + ½·ln d, √3)` | `exp(√2 + ½ ln d − 3)` (0.50 at d = 6) | BoTorch ≥ 0.12, Hvarfner et al. 2024 |
/// | noise variance | `LogNormal(−4, 1)` above a floor of `1e-4` | `exp(−5)` ≈ 0.0067 | BoTorch ≥ 0.12 |
/// | output scale | flat (none) | — | BoTorch ≥ 0.12 has no output scale (fixed at 1); nasbo learns it by maximum likelihood |
/// | weight of each term of a sum | `LogNormal(1, 1)` | 1 | nasbo |
///
/// `d` is the number of input dimensions of the model.
#[derive(Clone, Copy, Debug, PartialEq, Serialize, Deserialize)]
pub struct Priors {
    /// Prior on every lengthscale.
    pub lengthscale: Option<LogNormal>,
    /// Prior on the output scale.
    pub outputscale: Option<LogNormal>,
    /// Prior on the learned part of the noise variance (above the floor).
    pub noise: Option<LogNormal>,
    /// Prior on the weight of each term of a sum kernel.
    pub sum_weight: Option<LogNormal>,
}

impl Priors {
    /// The default priors for a model on `d` input dimensions (see the table above).
    pub fn default_for(d: usize) -> Self {
        let d = d.max(1) as f64;
        Priors {
            lengthscale: Some(LogNormal::new(
                std::f64::consts::SQRT_2 + 0.5 * d.ln(),
                3f64.sqrt(),
            )),
            outputscale: None,
            noise: Some(LogNormal::new(-4.0, 1.0)),
            sum_weight: Some(LogNormal::new(1.0, 1.0)),
        }
    }

    /// Flat priors everywhere, the noise's included: plain maximum likelihood, as
    /// scikit-learn does (the noise floor still applies).
    pub fn flat() -> Self {
        Priors {
            lengthscale: None,
            outputscale: None,
            noise: None,
            sum_weight: None,
        }
    }
}
