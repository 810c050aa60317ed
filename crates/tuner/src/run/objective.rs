//! [`Objective`]: what evaluates a trial, seen by the run loop through a [`TrialHandle`] that
//! carries the trial's parameters, takes its intermediate values and tells it to stop.

use std::path::PathBuf;
use std::sync::atomic::{AtomicU64, AtomicU8, Ordering};
use std::sync::mpsc::Sender;
use std::sync::Arc;
use std::time::Duration;

use crate::space::{Assignment, Space, Value};
use crate::trial::Outcome;
use crate::TunerError;

/// Evaluates trials. Called from worker threads, several at once with `parallel > 1`.
///
/// Any `Fn(&TrialHandle) -> Outcome` closure is an objective:
///
/// ```
/// use nasbo_tuner::run::{run, RunConfig, TrialHandle};
/// use nasbo_tuner::{Outcome, Param, Space, Study, StudyConfig, TunerError};
///
/// let space = Space::new(vec![Param::float("x", -2.0, 2.0)])?;
/// let mut study = Study::new(space, StudyConfig::default())?;
/// let objective = |t: &TrialHandle| {
///     let x = t.get("x").and_then(|v| v.as_f64()).unwrap_or(0.0);
///     Outcome::value((x - 0.5).powi(2))
/// };
/// let summary = run(&mut study, &objective, &RunConfig::trials(10), &mut |_| {})?;
/// assert_eq!(summary.complete, 10);
/// # Ok::<(), TunerError>(())
/// ```
pub trait Objective: Send + Sync {
    /// Checks what can be checked before the first trial (for a command: that its
    /// placeholders name parameters of the space). The default accepts every space.
    fn check(&self, _space: &Space) -> Result<(), TunerError> {
        Ok(())
    }
    /// Evaluates one trial. When [`TrialHandle::should_stop`] turns true it should return
    /// soon; the run loop then records the trial as its stop reason says (whatever is
    /// returned).
    fn evaluate(&self, trial: &TrialHandle) -> Outcome;
}

impl<F: Fn(&TrialHandle) -> Outcome + Send + Sync> Objective for F {
    fn evaluate(&self, trial: &TrialHandle) -> Outcome {
        self(trial)
    }
}

/// Why a trial is told to stop.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum StopReason {
    /// The run is interrupted (Ctrl-C, a signal): the trial is queued to run again.
    Interrupt,
    /// It ran past the trial timeout: recorded as failed.
    Timeout,
    /// A pruner stopped it: recorded as pruned.
    Prune,
    /// This worker's lease on the trial was lost (it was taken for lost, and another worker
    /// runs it now): its result would not be recorded.
    LeaseLost,
}

/// The stop flag shared between the run loop and a trial, with the last step the run loop
/// has judged (plus one), which a reporting trial waits for when a pruner is set.
#[derive(Debug, Default)]
pub(crate) struct Signal(AtomicU8, AtomicU64);

impl Signal {
    pub(crate) fn raise(&self, why: StopReason) {
        let code = match why {
            StopReason::Interrupt => 1,
            StopReason::Timeout => 2,
            StopReason::Prune => 3,
            StopReason::LeaseLost => 4,
        };
        // The first reason wins.
        let _ = self
            .0
            .compare_exchange(0, code, Ordering::SeqCst, Ordering::SeqCst);
    }
    /// The run loop has dealt with the report at `step`.
    pub(crate) fn judged(&self, step: u64) {
        self.1.fetch_max(step.saturating_add(1), Ordering::SeqCst);
    }
    fn is_judged(&self, step: u64) -> bool {
        self.1.load(Ordering::SeqCst) > step
    }
    pub(crate) fn get(&self) -> Option<StopReason> {
        match self.0.load(Ordering::SeqCst) {
            1 => Some(StopReason::Interrupt),
            2 => Some(StopReason::Timeout),
            3 => Some(StopReason::Prune),
            4 => Some(StopReason::LeaseLost),
            _ => None,
        }
    }
}

/// An intermediate value a trial reported.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Report {
    /// The trial.
    pub number: usize,
    /// The step (an epoch, say).
    pub step: u64,
    /// The value.
    pub value: f64,
}

/// What a trial sends the run loop while it runs.
#[derive(Debug)]
pub(crate) enum Message {
    Report(Report),
    Note { number: usize, text: String },
    Warning(String),
    Done { number: usize, outcome: Outcome },
}

/// One trial as its objective sees it.
pub struct TrialHandle {
    pub(crate) number: usize,
    pub(crate) params: Assignment,
    pub(crate) space: Arc<Space>,
    pub(crate) signal: Arc<Signal>,
    pub(crate) tx: Sender<Message>,
    pub(crate) log_dir: Option<PathBuf>,
    pub(crate) timeout: Option<Duration>,
    /// Wait for the run loop's decision after each report (a pruner is set).
    pub(crate) wait_judged: bool,
}

impl TrialHandle {
    /// A handle for calling an objective outside the run loop (tests, one-off evaluations):
    /// reports and notes go nowhere, and it is never told to stop.
    pub fn detached(number: usize, space: Arc<Space>, params: Assignment) -> Self {
        let (tx, _) = std::sync::mpsc::channel();
        TrialHandle {
            number,
            params,
            space,
            signal: Arc::new(Signal::default()),
            tx,
            log_dir: None,
            timeout: None,
            wait_judged: false,
        }
    }
    /// The trial's number.
    pub fn number(&self) -> usize {
        self.number
    }
    /// Its parameters, aligned with the space (`None` where inactive).
    pub fn params(&self) -> &Assignment {
        &self.params
    }
    /// The space.
    pub fn space(&self) -> &Space {
        &self.space
    }
    /// The value of the parameter called `name`, when it exists and is active.
    pub fn get(&self, name: &str) -> Option<&Value> {
        self.space
            .index(name)
            .and_then(|i| self.params.get(i))
            .and_then(|v| v.as_ref())
    }
    /// The active parameters as a JSON object.
    pub fn params_json(&self) -> serde_json::Value {
        self.space.to_json(&self.params)
    }
    /// Records an intermediate value (e.g. the validation accuracy after an epoch). Returns
    /// `false` when the trial should stop now. With a pruner, it returns once the run loop
    /// has judged the value (at most a few seconds), so a pruned trial stops at this step.
    pub fn report(&self, step: u64, value: f64) -> bool {
        let sent = self
            .tx
            .send(Message::Report(Report {
                number: self.number,
                step,
                value,
            }))
            .is_ok();
        if sent && self.wait_judged {
            let until = std::time::Instant::now() + Duration::from_secs(5);
            while !self.signal.is_judged(step)
                && !self.should_stop()
                && std::time::Instant::now() < until
            {
                std::thread::sleep(Duration::from_micros(200));
            }
        }
        !self.should_stop()
    }
    /// A line of progress for the user (shown above the progress bars, or printed).
    pub fn note(&self, text: impl Into<String>) {
        let _ = self.tx.send(Message::Note {
            number: self.number,
            text: text.into(),
        });
    }
    /// A warning about the trial (bad output it printed, say), shown to the user.
    pub fn warn(&self, text: impl Into<String>) {
        let _ = self.tx.send(Message::Warning(text.into()));
    }
    /// Whether the trial has been told to stop.
    pub fn should_stop(&self) -> bool {
        self.signal.get().is_some()
    }
    /// Why it has been told to stop, if it has.
    pub fn stop_reason(&self) -> Option<StopReason> {
        self.signal.get()
    }
    /// The folder where the trial may keep its logs, when the run keeps logs.
    pub fn log_dir(&self) -> Option<&std::path::Path> {
        self.log_dir.as_deref()
    }
    /// The trial timeout of the run, if any.
    pub fn timeout(&self) -> Option<Duration> {
        self.timeout
    }
}
