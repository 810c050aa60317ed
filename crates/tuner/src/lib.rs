//! # nasbo-tuner: search spaces, ask/tell studies, strategies and CSV
//!
//! What users touch: define a [`Space`], let a [`Study`] propose ([`Study::ask`]), evaluate,
//! record the result ([`Study::tell`]), and export every trial to CSV
//! ([`csv_io::write_trials`]). Strategies ([`StrategyKind`]): `bo` (the default: a Sobol
//! initial design, then a Gaussian process from `nasbo-gp` with LogEI from `nasbo-acq`),
//! `random`, `sobol`, `evolution` (regularized evolution) and `reinforce`.
//!
//! ```
//! use nasbo_tuner::{Direction, Outcome, Param, Space, Study, StudyConfig, TunerError};
//!
//! let space = Space::new(vec![
//!     Param::log_float("lr", 1e-4, 1e-1),
//!     Param::int("depth", 1, 8),
//!     Param::categorical("connection", &["conv", "pool", "skip"]),
//! ])?;
//! let config = StudyConfig { direction: Direction::Maximize, seed: 7, ..Default::default() };
//! let mut study = Study::new(space, config)?;
//! for _ in 0..12 {
//!     let (trial, params) = study.ask()?;
//!     let lr = params[0].as_ref().unwrap().as_f64().unwrap();
//!     let depth = params[1].as_ref().unwrap().as_f64().unwrap();
//!     let accuracy = 0.9 - (lr.log10() + 2.0).powi(2) * 0.05 - (depth - 4.0).abs() * 0.01;
//!     study.tell(trial, Outcome::Complete { value: accuracy, metrics: vec![] })?;
//! }
//! let mut csv = Vec::new();
//! nasbo_tuner::csv_io::write_trials(study.space(), study.trials(), &mut csv).unwrap();
//! assert!(String::from_utf8(csv).unwrap().starts_with("trial,state,value,param_lr"));
//! # Ok::<(), TunerError>(())
//! ```
#![warn(missing_docs)]

pub mod csv_io;
pub mod encode;
mod error;
mod reinforce;
pub mod space;
pub mod strategy;
mod study;
pub mod testfns;
pub mod warp;

pub use error::TunerError;
pub use reinforce::Reinforce;
pub use space::{Assignment, Condition, Param, ParamKind, Space, Value};
pub use strategy::{
    BoConfig, Context, EvolutionConfig, MeanLevel, OutputWarp, ReinforceConfig, Strategy,
    StrategyKind,
};
pub use study::{Direction, Outcome, Study, StudyConfig, Trial, TrialState};
