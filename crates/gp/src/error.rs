//! The one error type of `nasbo-gp`.

use thiserror::Error;

/// Everything that can go wrong when building, fitting or querying a Gaussian process.
///
/// Every variant carries enough context (which argument, which row and column) for a user to
/// find the offending value.
#[derive(Debug, Error, Clone, PartialEq)]
#[non_exhaustive]
pub enum GpError {
    /// No observations were given to `fit` (or no query points where at least one is required).
    #[error("no data: {what} is empty")]
    EmptyData {
        /// Which argument was empty.
        what: &'static str,
    },
    /// Two arguments disagree in shape.
    #[error("shape mismatch in {what}: expected {expected}, got {got}")]
    ShapeMismatch {
        /// Which argument has the wrong shape.
        what: &'static str,
        /// The expected size.
        expected: usize,
        /// The size found.
        got: usize,
    },
    /// A NaN or infinite value in the inputs or outputs.
    #[error("non-finite value {value} in {what} at row {row}, column {col}")]
    NonFinite {
        /// Which argument holds the value.
        what: &'static str,
        /// Row (observation) index, 0-based.
        row: usize,
        /// Column (feature) index, 0-based; 0 for the outputs.
        col: usize,
        /// The offending value.
        value: f64,
    },
    /// A setting outside its valid range.
    #[error("invalid parameter `{name}` = {value}: {reason}")]
    InvalidParameter {
        /// The setting's name.
        name: &'static str,
        /// Its value, formatted.
        value: String,
        /// What the valid range is.
        reason: String,
    },
    /// The kernel specification does not fit the data (dimension out of range, empty group...).
    #[error("invalid kernel: {0}")]
    InvalidKernel(String),
    /// The covariance matrix stayed non positive-definite after adding the largest jitter.
    #[error("covariance matrix is not positive definite even with jitter {jitter:e} added to its diagonal")]
    NotPositiveDefinite {
        /// The largest jitter tried, in standardized units.
        jitter: f64,
    },
    /// Every start of the hyperparameter optimization failed.
    #[error("hyperparameter fitting failed from every start: {0}")]
    FitFailed(String),
}
