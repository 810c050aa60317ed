//! # nasbo
//!
//! Finds good neural-network architectures and training settings in few trials, with Bayesian
//! optimization. This crate holds the `nasbo` command-line program and re-exports the library
//! crates:
//!
//! - [`gp`] (`nasbo-gp`): the Gaussian-process surrogate;
//! - [`acq`] (`nasbo-acq`): acquisition functions and their optimizer;
//! - [`tuner`] (`nasbo-tuner`): search spaces, ask/tell studies, strategies, CSV;
//! - [`train`] (`nasbo-train`): builds and trains networks with candle;
//!
//! and [`nas`], the main job as a library: the default search spaces and the objective that
//! trains a trial's network.
#![warn(missing_docs)]

pub mod nas;
pub mod report;

pub use nasbo_acq as acq;
pub use nasbo_gp as gp;
pub use nasbo_train as train;
pub use nasbo_tuner as tuner;
