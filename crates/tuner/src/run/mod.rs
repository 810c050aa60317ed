//! Running a study: an [`Objective`] evaluates trials, [`run`] is the loop that asks, evaluates
//! in parallel, enforces timeouts, handles interruptions and checkpoints the CSV.
//! [`CommandObjective`] evaluates a trial by running an external command.

mod command;
mod driver;
mod keys;
mod objective;

pub use command::{
    classify_step, parse_output, parse_step, substitute, CommandObjective, Parsed, StepLine,
};
pub use driver::{run, Event, RunConfig, RunSummary};
pub use keys::{pick_values, with_objective_metrics, ObjectiveKey};
pub use objective::{Objective, Report, StopReason, TrialHandle};
