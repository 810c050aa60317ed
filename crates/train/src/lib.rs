//! # nasbo-train: builds and trains the networks a trial describes, with candle
//!
//! - [`data`]: the shipped data sets (digits, iris, wine, breast cancer, an MNIST subset) and
//!   any CSV with a `label` column; seeded stratified splits; standardization with training
//!   statistics only.
//! - [`net`]: `depth` blocks of `width` units or channels with a connection pattern
//!   (`conv`, `pool`, `skip`), for images and tabular data.
//! - [`model`]: a trained network saved as safetensors with its architecture, and loaded back.
//! - [`train()`]: AdamW or SGD with momentum, cosine schedule, weight decay, dropout; reports
//!   validation and test accuracy, training time, parameters, FLOPs, latency and tensor memory,
//!   and per-epoch loss and accuracy. Seeded and deterministic on CPU.
//!
//! It knows nothing of Bayesian optimization: the tuner sees a training run as one objective.
//!
//! ```
//! use nasbo_train::{data, net::{ArchConfig, Connection}, train, TrainConfig, TrainError};
//!
//! let ds = data::load("iris")?;
//! let splits = data::split(&ds, None, 0.2, 0.2, 0)?;
//! let arch = ArchConfig { depth: 1, width: 16, connections: vec![Connection::Skip], dropout: 0.0 };
//! let config = TrainConfig { learning_rate: 0.02, epochs: 30, batch_size: 16, ..Default::default() };
//! let report = train(&splits, &arch, &config, &candle_core::Device::Cpu, |_| true)?;
//! assert!(report.test_accuracy > 0.8);
//! # Ok::<(), TrainError>(())
//! ```
#![warn(missing_docs)]

pub mod cpu;
pub mod data;
mod error;
pub mod model;
pub mod net;
pub mod optim;
mod train;

pub use error::TrainError;
pub use optim::{OptimizerKind, Schedule};
pub use train::{accuracy, device, train, train_model, EpochStats, TrainConfig, TrainReport};
