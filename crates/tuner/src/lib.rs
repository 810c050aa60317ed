//! # nasbo-tuner: search spaces, ask/tell studies, strategies, storage and the run loop
//!
//! What users touch: define a [`Space`], let a [`Study`] propose ([`Study::ask`]), evaluate,
//! record the result ([`Study::tell`]), and export every trial to CSV
//! ([`study::csv::write_trials`]). Or hand the study an [`run::Objective`] (a closure, an
//! external command, a training run) and let [`run::run`] drive it: parallel evaluations,
//! timeouts, Ctrl-C, a CSV rewritten after every trial.
//!
//! Strategies ([`StrategyKind`]): `bo` (the default: a Sobol initial design, then a Gaussian
//! process from `nasbo-gp` with LogEI from `nasbo-acq`; its model is [`bo::fit_surrogate`]),
//! `random`, `sobol`, `evolution` (regularized evolution) and `reinforce`. A study keeps its
//! trials in a [`Storage`]: in memory, a CSV file, or a database. A [`prune::Pruner`]
//! (median, ASHA, Hyperband) stops trials whose intermediate values say they will not win.
//!
//! The flow, one way: `space` (what may be tried) → `trial` (the records) → `study` (a storage
//! of trials, asked and told) → `strategy` (a proposal from the stored trials, via `bo`'s
//! model) → `run` (the loop that evaluates objectives).
//!
//! ```
//! use nasbo_tuner::{Direction, Outcome, Param, Space, Study, StudyConfig, TunerError};
//!
//! let space = Space::new(vec![
//!     Param::log_float("lr", 1e-4, 1e-1),
//!     Param::int("depth", 1, 8),
//!     Param::categorical("connection", &["conv", "pool", "skip"]),
//! ])?;
//! let config = StudyConfig { seed: 7, ..StudyConfig::new(Direction::Maximize) };
//! let mut study = Study::new(space, config)?;
//! for _ in 0..12 {
//!     let (trial, params) = study.ask()?;
//!     let lr = params[0].as_ref().unwrap().as_f64().unwrap();
//!     let depth = params[1].as_ref().unwrap().as_f64().unwrap();
//!     let accuracy = 0.9 - (lr.log10() + 2.0).powi(2) * 0.05 - (depth - 4.0).abs() * 0.01;
//!     study.tell(trial, Outcome::value(accuracy))?;
//! }
//! let mut csv = Vec::new();
//! nasbo_tuner::study::csv::write_trials(study.space(), study.trials(), &mut csv).unwrap();
//! assert!(String::from_utf8(csv).unwrap().starts_with("trial,state,value,param_lr"));
//! # Ok::<(), TunerError>(())
//! ```
#![warn(missing_docs)]

pub mod bo;
mod error;
pub mod importance;
pub mod pareto;
pub mod prune;
pub mod run;
pub mod space;
pub mod strategy;
pub mod study;
pub mod testfns;
mod trial;

pub use bo::{BoConfig, MeanLevel, MultiObjective, OutputWarp, PrunedAs};
pub use error::TunerError;
pub use space::{Assignment, Condition, Param, ParamKind, Space, Value};
pub use strategy::{
    Context, EvolutionConfig, Proposal, Reinforce, ReinforceConfig, Strategy, StrategyKind,
};
pub use study::{Storage, Study, StudyConfig, StudyRecord};
pub use trial::{Direction, Outcome, Source, Trial, TrialState};
