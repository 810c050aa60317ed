//! The model behind the `bo` strategy, on its own: its settings ([`BoConfig`]), the encoding
//! of a space as model inputs ([`encode`]), the output transform ([`warp`]) and
//! [`fit_surrogate`], which fits the study's model to stored trials for `bo`, a report or a
//! second objective.

mod config;
pub mod encode;
mod model;
mod surrogate;
pub mod warp;

pub use config::{BoConfig, MeanLevel, MultiObjective, OutputWarp, PrunedAs, SubsetDraw};
pub use model::ImputedModel;
pub(crate) use surrogate::fit_data;
pub use surrogate::{fit_surrogate, Band, FitOptions, StudyModel, Target, TrainingData};

#[cfg(test)]
mod tests;
