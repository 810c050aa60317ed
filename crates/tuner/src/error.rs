//! The one error type of `nasbo-tuner`.

use thiserror::Error;

/// Everything that can go wrong in a study.
#[derive(Debug, Error)]
#[non_exhaustive]
pub enum TunerError {
    /// A malformed search space; names the parameter.
    #[error("parameter `{param}`: {reason}")]
    InvalidParam {
        /// The parameter's name (or its position when it has none).
        param: String,
        /// What is wrong.
        reason: String,
    },
    /// A space file that is not valid TOML or not a list of `[[param]]` tables.
    #[error("space file: {0}")]
    SpaceFile(String),
    /// A value that does not belong to its parameter's domain.
    #[error("parameter `{param}`: value {value} {reason}")]
    InvalidValue {
        /// The parameter.
        param: String,
        /// The value, formatted.
        value: String,
        /// Why it does not fit.
        reason: String,
    },
    /// A trial number that the study does not know, or that is not pending.
    #[error("trial {trial}: {reason}")]
    InvalidTrial {
        /// The trial number.
        trial: usize,
        /// What is wrong.
        reason: String,
    },
    /// A worker's lease on a trial that no longer holds it: the trial was taken for lost and
    /// claimed again (fencing). The result told under it is not recorded.
    #[error("trial {trial}: lease {token} no longer holds it: {reason}")]
    LeaseLost {
        /// The trial number.
        trial: usize,
        /// The lease's token.
        token: u64,
        /// What happened to the trial.
        reason: String,
    },
    /// An import that starts a study from a CSV (`--resume`) into a study that has trials.
    #[error("study `{study}` already has {trials} trial{}", if *trials == 1 { "" } else { "s" })]
    NotEmpty {
        /// The study.
        study: String,
        /// How many it has.
        trials: usize,
    },
    /// A malformed CSV file; names the line.
    #[error("{path}, line {line}: {reason}")]
    Csv {
        /// The file.
        path: String,
        /// 1-based line number (1 is the header).
        line: usize,
        /// What is wrong.
        reason: String,
    },
    /// A setting outside its range.
    #[error("invalid setting `{name}` = {value}: {reason}")]
    InvalidConfig {
        /// The setting.
        name: &'static str,
        /// Its value.
        value: String,
        /// The valid range.
        reason: String,
    },
    /// The surrogate model failed.
    #[error(transparent)]
    Model(#[from] nasbo_gp::GpError),
    /// The acquisition optimizer failed.
    #[error(transparent)]
    Acquisition(#[from] nasbo_acq::AcqError),
    /// A storage (database) that cannot be opened, read or written; `url` has no password.
    #[error("storage {url}: {reason}")]
    Storage {
        /// The storage's URL, its password hidden.
        url: String,
        /// What went wrong.
        reason: String,
    },
    /// A study name the storage does not hold.
    #[error("storage {url} has no study `{name}`{}", known_studies(known))]
    UnknownStudy {
        /// The name asked for.
        name: String,
        /// The storage's URL, its password hidden.
        url: String,
        /// The studies it holds.
        known: Vec<String>,
    },
    /// A study that exists with another definition than the one given.
    #[error("study `{name}`: {reason}")]
    StudyMismatch {
        /// The study.
        name: String,
        /// What differs, and what to do.
        reason: String,
    },
    /// Reading or writing a file.
    #[error("{path}: {source}")]
    Io {
        /// The file.
        path: String,
        /// The cause.
        #[source]
        source: std::io::Error,
    },
}

fn known_studies(known: &[String]) -> String {
    if known.is_empty() {
        " (it holds none)".into()
    } else {
        format!(" (it holds: {})", known.join(", "))
    }
}
