//! The [`Storage`] trait: where a study's trials live. A [`Study`](super::Study) talks to its
//! storage only through it, so a new backend is a new file: memory ([`MemoryStorage`](super::MemoryStorage)),
//! a CSV file ([`CsvStorage`](super::CsvStorage)), and the database storages.
//!
//! What every implementation guarantees (the protocol is written down in docs/benchmarks.md §6):
//! - trials are numbered `0, 1, 2, …` without gaps, in the order they were reserved;
//! - [`Storage::reserve`] gives a trial to one worker at a time, under a [`Lease`] whose token
//!   grows with every claim of the trial; the function that chooses sees every trial stored
//!   when it starts, and proposals are serialized (by a lock of their own, outside the write
//!   transactions, so a slow proposal delays no other worker's finish or heartbeat); with a
//!   `limit`, no new trial is made once the study has that many, checked in the transaction
//!   that inserts it;
//! - [`Storage::finish`], [`Storage::report`] and [`Storage::heartbeat`] given a lease change
//!   the trial only while that lease still holds it (fencing): a worker taken for lost whose
//!   trial went to another worker gets [`TunerError::LeaseLost`] and changes nothing;
//! - a finish is durable when it returns (for the storages that persist); values that are not
//!   finite are refused at this boundary, never stored;
//! - [`Storage::requeue_lost`] never takes the caller's own trials for lost.

use std::time::{Duration, Instant, SystemTime};

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

/// A worker's hold on a running trial: the trial and the fencing token of this claim of it.
/// Tokens of one trial grow with each claim (its first run holds token 1), so a worker that
/// was taken for lost holds a smaller token than the worker that runs the trial now.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct Lease {
    /// The trial.
    pub number: usize,
    /// The claim's token.
    pub token: u64,
}

/// What [`Storage::reserve`] is asked for besides the choice.
#[derive(Clone, Copy, Debug, Default, PartialEq)]
pub struct Request {
    /// The heartbeat interval the worker promises (`None`: none; the trial is never taken for
    /// lost). After [`STALE_AFTER_HEARTBEATS`] intervals without one, the trial is lost.
    pub heartbeat: Option<Duration>,
    /// The most trials the study may hold, warm-start ones not counted: a new trial is made
    /// only below it (queued trials are claimed at any count). `None`: no limit.
    pub limit: Option<usize>,
}

/// What [`Storage::finish`] writes: the trial's new state and result.
#[derive(Clone, Debug, PartialEq)]
pub struct Finish {
    /// The trial.
    pub number: usize,
    /// The lease it is told under (`None`: by hand, e.g. `nasbo tell` without `--lease`,
    /// accepted while the trial is pending whoever holds it).
    pub token: Option<u64>,
    /// Its new state: complete, failed, pruned, or queued (an interrupted trial put back).
    pub state: TrialState,
    /// The objectives' values (complete), or the last reported value (pruned).
    pub values: Vec<f64>,
    /// Extra metrics.
    pub metrics: Vec<(String, f64)>,
    /// A failure's reason, or the note of an interruption.
    pub error: Option<String>,
    /// When it finished (`None` when it goes back to the queue). Storages with a server
    /// record the server's time instead.
    pub finished_at: Option<SystemTime>,
}

/// Trials from elsewhere for [`Storage::import`].
#[derive(Clone, Debug, Default, PartialEq)]
pub struct Import {
    /// The trials, renumbered after the stored ones.
    pub trials: Vec<Trial>,
    /// A name for this import (e.g. the kind and a hash of the file): an import whose key the
    /// study already holds adds nothing, so workers started with the same command import once.
    pub key: Option<String>,
    /// Import only into a study without trials (`--resume`); otherwise
    /// [`TunerError::NotEmpty`].
    pub into_empty: bool,
}

/// What [`Storage::import`] did.
#[derive(Clone, Debug, PartialEq)]
pub enum Imported {
    /// The trials were added with these numbers.
    Added(Vec<usize>),
    /// The study already holds this import (by its key); nothing was added.
    Already,
}

/// How long a worker may go without a heartbeat before its running trials are taken for
/// lost: this many heartbeat intervals.
pub const STALE_AFTER_HEARTBEATS: u32 = 4;

/// A trial that went back to the queue this many times (its worker lost or interrupted each
/// time) is recorded as failed instead: the configuration itself may be what kills workers.
pub const MAX_ATTEMPTS: u32 = 3;

/// How long a proposal waits for another worker's proposal to end before it goes ahead
/// without the proposal lock (a worker paused while proposing must not stop the others; the
/// only cost is a proposal that does not see the paused one's).
pub const PROPOSAL_LOCK_WAIT: Duration = Duration::from_secs(60);

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

    /// Lets `choose` pick a new trial or a queued one from the stored trials, and stores it as
    /// running under a new lease of this worker. Returns the trial as stored and its lease, or
    /// `None` when `choose` wants a new trial and the study already holds `request.limit`.
    /// An error from `choose` stores nothing.
    #[allow(clippy::type_complexity)]
    fn reserve(
        &mut self,
        request: &Request,
        choose: &mut dyn FnMut(&[Trial]) -> Result<Reservation, TunerError>,
    ) -> Result<Option<(Trial, Lease)>, TunerError>;

    /// Writes a pending trial's result. A trial that is not pending (unknown, or already
    /// finished) is an error, a lease that no longer holds the trial is
    /// [`TunerError::LeaseLost`], a value that is not finite is refused; in each case nothing
    /// changes.
    fn finish(&mut self, finish: &Finish) -> Result<(), TunerError>;

    /// Records an intermediate value of a running trial (under `token`, when given).
    fn report(
        &mut self,
        number: usize,
        token: Option<u64>,
        step: u64,
        value: f64,
    ) -> Result<(), TunerError>;

    /// Refreshes the heartbeat of these leases of this worker; a lease whose trial was put
    /// back in the queue and not claimed since takes it back. Returns the leases that no
    /// longer hold their trial (another worker claimed it, or it finished).
    fn heartbeat(&mut self, leases: &[Lease]) -> Result<Vec<Lease>, TunerError>;

    /// Puts every running trial of another worker that missed [`STALE_AFTER_HEARTBEATS`]
    /// heartbeats back in the queue (or records it as failed after [`MAX_ATTEMPTS`]); returns
    /// their numbers. Time is the storage's: the server's clock for PostgreSQL, the kernel's
    /// real-time clock for SQLite, so a worker whose clock is wrong takes nobody's live trials.
    fn requeue_lost(&mut self) -> Result<Vec<usize>, TunerError>;

    /// A second handle on the same study for the same worker (its own connection), for a
    /// heartbeat thread; `None` when the storage has no such thing (memory, CSV).
    fn connect_again(&self) -> Option<Result<Box<dyn Storage>, TunerError>> {
        None
    }

    /// Appends trials from elsewhere (an earlier run's CSV), renumbered after the existing
    /// ones, atomically: all or nothing, the key recorded with them.
    fn import(&mut self, import: Import) -> Result<Imported, TunerError>;
}

/// Refuses values that are not finite (serde would write them as `null`, and the study could
/// not be read back).
pub(crate) fn check_finite(
    number: usize,
    values: &[f64],
    metrics: &[(String, f64)],
) -> Result<(), TunerError> {
    let bad = |reason: String| {
        Err(TunerError::InvalidTrial {
            trial: number,
            reason,
        })
    };
    if let Some(v) = values.iter().find(|v| !v.is_finite()) {
        return bad(format!("the value {v} is not finite"));
    }
    if let Some((k, v)) = metrics.iter().find(|m| !m.1.is_finite()) {
        return bad(format!("metric `{k}` = {v} is not finite"));
    }
    Ok(())
}

/// Checks a trial from elsewhere before it is stored.
pub(crate) fn check_import(t: &Trial) -> Result<(), TunerError> {
    check_finite(t.number, &t.values, &t.metrics)?;
    if let Some((s, v)) = t.intermediate.iter().find(|s| !s.1.is_finite()) {
        return Err(TunerError::InvalidTrial {
            trial: t.number,
            reason: format!("intermediate value {v} at step {s} is not finite"),
        });
    }
    Ok(())
}

/// Checks an intermediate value before it is stored.
pub(crate) fn check_report(number: usize, step: u64, value: f64) -> Result<(), TunerError> {
    if !value.is_finite() {
        return Err(TunerError::InvalidTrial {
            trial: number,
            reason: format!("intermediate value {value} at step {step} is not finite"),
        });
    }
    if i64::try_from(step).is_err() {
        return Err(TunerError::InvalidTrial {
            trial: number,
            reason: format!("step {step} is too large"),
        });
    }
    Ok(())
}

/// The result of a conditional report insert that changed `changed` rows: on none, why.
pub(crate) fn reported(
    changed: u64,
    number: usize,
    token: Option<u64>,
    stored: impl FnOnce() -> Result<Option<(TrialState, u64)>, TunerError>,
) -> Result<(), TunerError> {
    if changed > 0 {
        return Ok(());
    }
    match (stored()?, token) {
        (Some((_, held)), Some(t)) if held != t => Err(lease_lost(number, t, held)),
        _ => Err(TunerError::InvalidTrial {
            trial: number,
            reason: "not a running trial".into(),
        }),
    }
}

/// The error for a lease `token` of trial `number` whose trial is now on claim `held`.
pub(crate) fn lease_lost(number: usize, token: u64, held: u64) -> TunerError {
    TunerError::LeaseLost {
        trial: number,
        token,
        reason: format!(
            "the trial was taken for lost and claimed again (lease {held} holds it now)"
        ),
    }
}

/// The result of a conditional finish update that changed `changed` rows: on none, why, from
/// the stored trial's state and lease token (read only then).
pub(crate) fn finished(
    changed: u64,
    finish: &Finish,
    stored: impl FnOnce() -> Result<Option<(TrialState, u64)>, TunerError>,
) -> Result<(), TunerError> {
    if changed == 1 {
        return Ok(());
    }
    let found = stored()?;
    check_finish(found, finish)?;
    Err(TunerError::InvalidTrial {
        trial: finish.number,
        reason: "was not updated".into(),
    })
}

/// Checks a [`Finish`] against the stored trial's state and lease token; shared by the
/// storages.
pub(crate) fn check_finish(
    stored: Option<(TrialState, u64)>,
    finish: &Finish,
) -> Result<(), TunerError> {
    match (stored, finish.token) {
        (None, _) => Err(TunerError::InvalidTrial {
            trial: finish.number,
            reason: "no such trial".into(),
        }),
        (Some((_, held)), Some(t)) if held != t => Err(lease_lost(finish.number, t, held)),
        (Some((state, _)), _) if !state.is_pending() => Err(TunerError::InvalidTrial {
            trial: finish.number,
            reason: format!("already finished ({})", state.name()),
        }),
        (Some(_), _) => Ok(()),
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

/// A running trial of another worker, as [`Storage::requeue_lost`] reads it.
#[derive(Clone, Debug)]
pub(crate) struct Running {
    pub number: usize,
    pub token: u64,
    /// Its last heartbeat, as stored (the storage's clock).
    pub beat: f64,
    /// Its heartbeat interval, seconds.
    pub interval: f64,
    /// Seconds since its last heartbeat, by the storage's clock.
    pub silent: f64,
    pub error: Option<String>,
}

/// The running trials that missed [`STALE_AFTER_HEARTBEATS`] heartbeats.
pub(crate) fn silent(running: Vec<Running>) -> Vec<Running> {
    running
        .into_iter()
        .filter(|r| r.silent > r.interval * STALE_AFTER_HEARTBEATS as f64)
        .collect()
}

/// A name for an import of `bytes` as `kind` (`resume`, `warm-start`): FNV-1a over the bytes,
/// with their length.
pub fn import_key(kind: &str, bytes: &[u8]) -> String {
    let mut h: u64 = 0xcbf2_9ce4_8422_2325;
    for &b in bytes {
        h ^= b as u64;
        h = h.wrapping_mul(0x0100_0000_01b3);
    }
    format!("{kind}:{h:016x}:{}", bytes.len())
}

/// Waits for a lock with `try_lock` (polling, at most `wait`): `Ok(true)` when it was
/// taken, `Ok(false)` when the wait ran out.
pub(crate) fn poll_lock(
    wait: Duration,
    mut try_lock: impl FnMut() -> Result<bool, TunerError>,
) -> Result<bool, TunerError> {
    let deadline = Instant::now() + wait;
    let mut pause = Duration::from_micros(200);
    loop {
        if try_lock()? {
            return Ok(true);
        }
        if Instant::now() >= deadline {
            return Ok(false);
        }
        std::thread::sleep(pause);
        pause = (pause * 2).min(Duration::from_millis(2));
    }
}

/// How many times a reservation re-reads the study when another worker claimed the queued
/// trial it chose first.
pub(crate) const RESERVE_TRIES: usize = 16;

/// The error when every try of a reservation lost its queued trial to another worker.
pub(crate) fn reserve_gave_up(url: &str) -> TunerError {
    TunerError::Storage {
        url: url.to_string(),
        reason: format!(
            "no trial reserved after {RESERVE_TRIES} tries: other workers kept claiming the queued trials first"
        ),
    }
}
