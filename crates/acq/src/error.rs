//! The one error type of `nasbo-acq`.

use thiserror::Error;

/// Everything that can go wrong when evaluating or optimizing an acquisition function.
#[derive(Debug, Error, Clone, PartialEq)]
#[non_exhaustive]
pub enum AcqError {
    /// The surrogate model failed (bad input, factorization).
    #[error("surrogate model: {0}")]
    Surrogate(#[from] nasbo_gp::GpError),
    /// A setting outside its valid range.
    #[error("invalid setting `{name}` = {value}: {reason}")]
    InvalidConfig {
        /// The setting's name.
        name: &'static str,
        /// Its value, formatted.
        value: String,
        /// What the valid range is.
        reason: String,
    },
    /// The search domain is malformed.
    #[error("invalid domain, dimension {dim}: {reason}")]
    InvalidDomain {
        /// Dimension index, 0-based.
        dim: usize,
        /// What is wrong with it.
        reason: String,
    },
    /// A point of the wrong length.
    #[error("point of dimension {got}, expected {expected}")]
    DimensionMismatch {
        /// The domain's dimension.
        expected: usize,
        /// The point's.
        got: usize,
    },
    /// Every candidate was already evaluated or pending (a small discrete space is exhausted).
    #[error("no new candidate: all {tried} candidates examined were already evaluated or pending")]
    Exhausted {
        /// How many candidates were examined.
        tried: usize,
    },
    /// The hypervolume's box decomposition would be too large (a big front in many objectives).
    #[error(
        "{front} front points in {objectives} objectives need {boxes} hypervolume boxes (at most {max})"
    )]
    TooManyBoxes {
        /// The front's size.
        front: usize,
        /// The number of objectives.
        objectives: usize,
        /// The boxes the decomposition would need (saturating).
        boxes: usize,
        /// The limit, [`crate::MAX_BOXES`].
        max: usize,
    },
    /// The acquisition function was not finite anywhere it was evaluated.
    #[error("the acquisition function is not finite at any candidate")]
    NonFinite,
}
