//! The one error type of `nasbo-train`.

use thiserror::Error;

/// Everything that can go wrong when loading data or training.
#[derive(Debug, Error)]
#[non_exhaustive]
pub enum TrainError {
    /// A malformed data file; names the line (1 is the header).
    #[error("{path}, line {line}: {reason}")]
    Data {
        /// The file.
        path: String,
        /// 1-based line number.
        line: usize,
        /// What is wrong.
        reason: String,
    },
    /// A data set that cannot be used as a whole (one class, too few rows...).
    #[error("{path}: {reason}")]
    Dataset {
        /// The file or data set name.
        path: String,
        /// What is wrong.
        reason: String,
    },
    /// A model file that cannot be written or read back (not safetensors, not a nasbo model,
    /// a tensor missing or of another shape).
    #[error("model {path}: {reason}")]
    Model {
        /// The file.
        path: String,
        /// What is wrong.
        reason: String,
    },
    /// A setting outside its range, or an architecture that does not fit the data.
    #[error("invalid setting `{name}` = {value}: {reason}")]
    Config {
        /// The setting.
        name: &'static str,
        /// Its value.
        value: String,
        /// The valid range or why it does not fit.
        reason: String,
    },
    /// The requested device is not available.
    #[error("device `{device}`: {reason}")]
    Device {
        /// What was asked for.
        device: String,
        /// Why it cannot be used.
        reason: String,
    },
    /// Training diverged (a non-finite loss).
    #[error("training diverged at epoch {epoch}: the loss is {loss}")]
    Diverged {
        /// The epoch (1-based).
        epoch: usize,
        /// The loss.
        loss: f32,
    },
    /// An error from candle.
    #[error("candle: {0}")]
    Candle(#[from] candle_core::Error),
    /// Reading a file.
    #[error("{path}: {source}")]
    Io {
        /// The file.
        path: String,
        /// The cause.
        #[source]
        source: std::io::Error,
    },
}
