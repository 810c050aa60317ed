//! The [`Storage`] trait: where a study's trials live. A [`Study`](super::Study) talks to its
//! storage only through it, so a new backend is a new file: memory ([`MemoryStorage`](super::MemoryStorage)),
//! a CSV file ([`CsvStorage`](super::CsvStorage)), and the database storages.
//!
//! What every implementation guarantees:
//! - trials are numbered `0, 1, 2, …` without gaps, in the order they were reserved;
//! - [`Storage::reserve`] is atomic: the function that chooses the new trial sees every trial
//!   stored at that moment, and no other worker reserves a trial until it returns, so two
//!   workers never get the same number and a strategy always sees the other workers' pending
//!   trials;
//! - [`Storage::finish`] changes a trial only while it is pending (running or queued), and is
//!   durable when it returns (for the storages that persist).

use std::time::{Duration, SystemTime};

use crate::space::{Assignment, Space};
use crate::trial::{Direction, Source, Trial, TrialState};
use crate::TunerError;

/// A study as a storage keeps it, besides its trials.
#[derive(Clone, Debug, PartialEq)]
pub struct StudyRecord {
    /// Its name (unique in its storage).
    pub name: String,
    /// The search space.
    pub space: Space,
    /// One direction per objective.
    pub directions: Vec<Direction>,
}

/// What [`Storage::reserve`]'s chooser decided.
#[derive(Clone, Debug, PartialEq)]
pub enum Reservation {
    /// Store a new trial (numbered after the last one) with these parameters.
    New {
        /// Its parameters.
        params: Assignment,
        /// Where they came from.
        source: Source,
        /// Seconds spent choosing them.
        suggest_s: f64,
        /// What the strategy keeps with the trial ([`Trial::strategy_state`]).
        state: Option<String>,
    },
    /// Run the queued trial with this number.
    Claim(usize),
}

impl Reservation {
    /// The trial to store as `number` for a new one, or the number of the queued trial to
    /// claim.
    pub fn resolve(self, number: usize) -> Result<Trial, usize> {
        match self {
            Reservation::New {
                params,
                source,
                suggest_s,
                state,
            } => {
                let mut t = Trial::new(number, params);
                t.source = source;
                t.suggest_s = suggest_s;
                t.strategy_state = state;
                Ok(t)
            }
            Reservation::Claim(n) => Err(n),
        }
    }
}

/// What [`Storage::finish`] writes: the trial's new state and result.
#[derive(Clone, Debug, PartialEq)]
pub struct Finish {
    /// The trial.
    pub number: usize,
    /// Its new state: complete, failed, pruned, or queued (an interrupted trial put back).
    pub state: TrialState,
    /// The objectives' values (complete), or the last reported value (pruned).
    pub values: Vec<f64>,
    /// Extra metrics.
    pub metrics: Vec<(String, f64)>,
    /// A failure's reason, or the note of an interruption.
    pub error: Option<String>,
    /// When it finished (`None` when it goes back to the queue).
    pub finished_at: Option<SystemTime>,
}

/// How long a worker may go without a heartbeat before its running trials are taken for
/// lost: this many heartbeat intervals.
pub const STALE_AFTER_HEARTBEATS: u32 = 4;

/// A trial that went back to the queue this many times (its worker lost or interrupted each
/// time) is recorded as failed instead: the configuration itself may be what kills workers.
pub const MAX_ATTEMPTS: u32 = 3;

/// Where a study's trials live.
pub trait Storage: Send {
    /// The stored study.
    fn study(&self) -> &StudyRecord;

    /// Whether other processes may write to the same study (a database), so that what this
    /// process holds goes stale. The default: no.
    fn shared(&self) -> bool {
        false
    }

    /// Every trial, in number order.
    fn trials(&mut self) -> Result<Vec<Trial>, TunerError>;

    /// Atomically: reads the trials, lets `choose` pick a new trial or a queued one, and
    /// stores it as running, owned by this handle's worker, with `heartbeat` as the promised
    /// heartbeat interval (`None`: no heartbeats, never taken for lost). Returns the trial as
    /// stored. An error from `choose` stores nothing.
    fn reserve(
        &mut self,
        heartbeat: Option<Duration>,
        choose: &mut dyn FnMut(&[Trial]) -> Result<Reservation, TunerError>,
    ) -> Result<Trial, TunerError>;

    /// Writes a pending trial's result. A trial that is not pending (unknown, or already
    /// finished) is an error and nothing changes.
    fn finish(&mut self, finish: &Finish) -> Result<(), TunerError>;

    /// Records an intermediate value of a running trial.
    fn report(&mut self, number: usize, step: u64, value: f64) -> Result<(), TunerError>;

    /// Refreshes the heartbeat of these running trials of this worker.
    fn heartbeat(&mut self, numbers: &[usize]) -> Result<(), TunerError>;

    /// Puts every running trial whose worker has missed [`STALE_AFTER_HEARTBEATS`] heartbeats
    /// back in the queue (or records it as failed after [`MAX_ATTEMPTS`]); returns their
    /// numbers.
    fn requeue_lost(&mut self) -> Result<Vec<usize>, TunerError>;

    /// Appends trials from elsewhere (an earlier run's CSV), renumbered after the existing
    /// ones, atomically: all or nothing. Returns their new numbers.
    fn import(&mut self, trials: Vec<Trial>) -> Result<Vec<usize>, TunerError>;
}

/// The result of a conditional report insert that changed `changed` rows.
pub(crate) fn reported(changed: u64, number: usize) -> Result<(), TunerError> {
    if changed == 0 {
        return Err(TunerError::InvalidTrial {
            trial: number,
            reason: "not a running trial".into(),
        });
    }
    Ok(())
}

/// The result of a conditional finish update that changed `changed` rows: on none, why (from
/// the stored trials, read only then).
pub(crate) fn finished(
    changed: u64,
    finish: &Finish,
    stored: impl FnOnce() -> Result<Vec<Trial>, TunerError>,
) -> Result<(), TunerError> {
    if changed == 1 {
        return Ok(());
    }
    let trials = stored()?;
    check_finish(trials.get(finish.number), finish)?;
    Err(TunerError::InvalidTrial {
        trial: finish.number,
        reason: "was not updated".into(),
    })
}

/// Checks a [`Finish`] against the stored trial it changes; shared by the storages.
pub(crate) fn check_finish(stored: Option<&Trial>, finish: &Finish) -> Result<(), TunerError> {
    match stored {
        None => Err(TunerError::InvalidTrial {
            trial: finish.number,
            reason: "no such trial".into(),
        }),
        Some(t) if !t.state.is_pending() => Err(TunerError::InvalidTrial {
            trial: finish.number,
            reason: format!("already finished ({})", t.state.name()),
        }),
        Some(_) => Ok(()),
    }
}

/// The note left on a trial put back in the queue, and whether it has been put back too
/// often and fails instead.
pub(crate) fn requeue_note(
    previous: Option<&str>,
    attempts: u32,
    why: &str,
) -> (TrialState, String) {
    let history = previous
        .filter(|p| !p.is_empty())
        .map(|p| format!("{p}; "))
        .unwrap_or_default();
    if attempts >= MAX_ATTEMPTS {
        (
            TrialState::Failed,
            format!("{history}{why}; failed after {attempts} attempts"),
        )
    } else {
        (
            TrialState::Queued,
            format!("{history}{why}; queued to run again"),
        )
    }
}
