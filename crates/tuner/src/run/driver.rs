//! [`run`]: the one loop that `nasbo tune`, `nasbo nas` and `nasbo bench` use. It asks the
//! study for trials, evaluates up to `parallel` of them at once on worker threads, stores their
//! intermediate values, stops trials that run past the timeout or when the run is
//! interrupted, tells the results, rewrites the CSV checkpoint after each finished trial and
//! keeps the heartbeats of its running trials.

use std::collections::BTreeMap;
use std::path::PathBuf;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::mpsc::{self, RecvTimeoutError};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use super::objective::{Message, Objective, Report, Signal, StopReason, TrialHandle};
use crate::prune::Pruner;
use crate::study::csv::write_atomic;
use crate::study::{Lease, Storage, Study};
use crate::trial::{Outcome, Source, Trial, TrialState};
use crate::TunerError;

/// Settings of a run.
///
/// | setting | default | meaning |
/// |---|---|---|
/// | `trials` | — | the study's total: no trial is started once the study's trials (finished and pending, warm-start ones not counted) reach it |
/// | `parallel` | 1 | trials evaluated at once |
/// | `timeout` | none | a trial running longer is stopped and recorded as failed |
/// | `checkpoint` | none | a CSV rewritten (atomically) after every finished trial |
/// | `log_dir` | none | a folder the objective may keep each trial's logs in |
/// | `stop` | a fresh flag | set it (e.g. from a Ctrl-C handler) to stop: running trials are interrupted and queued to run again |
/// | `grace` | 30 s | how long a stopped trial may take to return before the loop records it and moves on |
/// | `pruner` | none | asked after each intermediate value whether to stop the trial (recorded as pruned) |
/// | `max_reports` | 10,000 | intermediate values stored per trial; later ones are dropped (with one warning) |
///
/// Intermediate values are checked as they come: a value that is not finite, a step not
/// after the trial's previous one, or (with a pruner) a step beyond its `max_step` gets one
/// warning per trial and kind and is not stored (the last kind is stored, not judged); the trial goes on.
#[derive(Clone, Debug)]
pub struct RunConfig {
    /// The study's total number of trials.
    pub trials: usize,
    /// Trials evaluated at once.
    pub parallel: usize,
    /// Per-trial time limit.
    pub timeout: Option<Duration>,
    /// The CSV checkpoint.
    pub checkpoint: Option<PathBuf>,
    /// The log folder.
    pub log_dir: Option<PathBuf>,
    /// The stop flag.
    pub stop: Arc<AtomicBool>,
    /// Time a stopped trial has to return.
    pub grace: Duration,
    /// The pruner.
    pub pruner: Option<Arc<dyn Pruner>>,
    /// Intermediate values stored per trial.
    pub max_reports: usize,
}

impl RunConfig {
    /// A run to `trials` trials, one at a time, with no timeout, checkpoint or logs.
    pub fn trials(trials: usize) -> Self {
        RunConfig {
            trials,
            parallel: 1,
            timeout: None,
            checkpoint: None,
            log_dir: None,
            stop: Arc::new(AtomicBool::new(false)),
            grace: Duration::from_secs(30),
            pruner: None,
            max_reports: 10_000,
        }
    }

    fn check(&self) -> Result<(), TunerError> {
        let bad = |name: &'static str, value: String, reason: &str| {
            Err(TunerError::InvalidConfig {
                name,
                value,
                reason: reason.into(),
            })
        };
        if self.trials == 0 {
            return bad("trials", "0".into(), "at least 1");
        }
        if self.parallel == 0 {
            return bad("parallel", "0".into(), "at least 1");
        }
        if self.timeout.is_some_and(|t| t.is_zero()) {
            return bad("timeout", "0".into(), "a positive number of seconds");
        }
        Ok(())
    }
}

/// What the run loop reports as it goes (for progress bars and logs).
pub enum Event<'a> {
    /// A trial started.
    Started {
        /// The trial as stored.
        trial: &'a Trial,
    },
    /// A trial reported an intermediate value.
    Report(Report),
    /// A trial's progress line.
    Note {
        /// The trial.
        number: usize,
        /// The line.
        text: &'a str,
    },
    /// A trial finished (or went back to the queue).
    Finished {
        /// The trial as stored after its tell.
        trial: &'a Trial,
        /// The study (for its best trial, its counts).
        study: &'a Study,
    },
    /// Something the user should know that is not an error (a fallback, a lost worker).
    Warning(String),
}

/// How a run ended.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct RunSummary {
    /// Trials this run finished (told complete, failed or pruned).
    pub finished: usize,
    /// Complete trials in the study at the end.
    pub complete: usize,
    /// Trials in the study at the end, warm-start ones not counted.
    pub counted: usize,
    /// Whether the run was interrupted (the stop flag was set).
    pub interrupted: bool,
    /// Trials this run interrupted and queued to run again.
    pub requeued: usize,
}

struct InFlight {
    signal: Arc<Signal>,
    /// Whether this worker's lease on it was lost (its result is not told).
    lease_lost: bool,
    started: Instant,
    /// When it was told to stop.
    stopped: Option<Instant>,
    /// Its last stored step.
    last_step: Option<u64>,
    /// Intermediate values stored.
    reports: usize,
    /// Kinds of bad reports already warned about (bits of [`BadReport`]).
    warned: u8,
}

/// What is wrong with an intermediate value.
#[derive(Clone, Copy)]
enum BadReport {
    NotFinite = 1,
    Backwards = 2,
    BeyondMax = 4,
    TooMany = 8,
}

impl InFlight {
    /// Checks report `r`: `Ok((judge, warning))` to store it (asking the pruner when `judge`,
    /// warning when the step is beyond the budget the first time), or the kind of problem and
    /// whether it is new for this trial.
    #[allow(clippy::type_complexity)]
    fn check(
        &mut self,
        r: &Report,
        config: &RunConfig,
    ) -> Result<(bool, Option<BadReport>), (BadReport, bool)> {
        let mut bad = |kind: BadReport| {
            let new = self.warned & kind as u8 == 0;
            self.warned |= kind as u8;
            (kind, new)
        };
        if !r.value.is_finite() {
            return Err(bad(BadReport::NotFinite));
        }
        if self.last_step.is_some_and(|s| r.step <= s) {
            return Err(bad(BadReport::Backwards));
        }
        if self.reports >= config.max_reports {
            return Err(bad(BadReport::TooMany));
        }
        let max = config.pruner.as_ref().and_then(|p| p.max_step());
        let judge = max.is_none_or(|m| r.step <= m);
        // Beyond the budget: stored, not judged, said once.
        let warn = match judge {
            false => Some(bad(BadReport::BeyondMax)).filter(|b| b.1).map(|b| b.0),
            true => None,
        };
        self.last_step = Some(r.step);
        self.reports += 1;
        Ok((judge, warn))
    }
}

fn bad_report_text(kind: BadReport, r: &Report, config: &RunConfig) -> String {
    let n = r.number;
    match kind {
        BadReport::NotFinite => format!(
            "trial {n}: intermediate value {} at step {} is not finite; ignored (and any more like it)",
            r.value, r.step
        ),
        BadReport::Backwards => format!(
            "trial {n}: step {} does not come after the trial's previous step; ignored (and any more like it)",
            r.step
        ),
        BadReport::BeyondMax => format!(
            "trial {n}: step {} is beyond --max-step {}; stored, not used for pruning",
            r.step,
            config
                .pruner
                .as_ref()
                .and_then(|p| p.max_step())
                .unwrap_or_default()
        ),
        BadReport::TooMany => format!(
            "trial {n}: more than {} intermediate values; the rest are not stored",
            config.max_reports
        ),
    }
}

fn counted(trials: &[Trial]) -> usize {
    trials
        .iter()
        .filter(|t| t.source != Source::WarmStart)
        .count()
}

/// Runs `objective` on `study` until it holds `config.trials` trials, all finished (or the
/// stop flag is set). Errors of the storage or of a strategy end the run (after the running
/// trials are interrupted and queued again); an objective's failures are failed trials.
pub fn run(
    study: &mut Study,
    objective: &dyn Objective,
    config: &RunConfig,
    on_event: &mut dyn FnMut(Event<'_>),
) -> Result<RunSummary, TunerError> {
    config.check()?;
    objective.check(study.space())?;
    if let Some(dir) = &config.log_dir {
        std::fs::create_dir_all(dir).map_err(|source| TunerError::Io {
            path: dir.display().to_string(),
            source,
        })?;
    }
    checkpoint(study, config)?;
    let space = Arc::new(study.space().clone());
    let heartbeat = study.config().heartbeat;
    // Heartbeats come from a thread of their own, on a connection of their own, so that a
    // long proposal or tell on the main connection never delays them.
    let beats = Arc::new(Beats::default());
    let beater = match heartbeat.map(|_| study.connect_again()) {
        Some(Some(Ok(handle))) => Some(handle),
        Some(Some(Err(e))) => {
            on_event(Event::Warning(format!(
                "no second connection for the heartbeats ({e}); they are sent between trials' events"
            )));
            None
        }
        _ => None,
    };
    let (tx, rx) = mpsc::channel::<Message>();
    let mut summary = RunSummary::default();
    let mut inflight: BTreeMap<usize, InFlight> = BTreeMap::new();
    let mut last_beat = Instant::now();
    let mut last_refresh = Instant::now();
    let mut failure: Option<TunerError> = None;
    let mut waiting = false;
    std::thread::scope(|scope| {
        let threaded = match (beater, heartbeat) {
            (Some(handle), Some(interval)) => {
                let (beats, tx) = (beats.clone(), tx.clone());
                scope.spawn(move || beat(handle, interval, &beats, &tx));
                true
            }
            _ => false,
        };
        loop {
            let stopping = config.stop.load(Ordering::SeqCst) || failure.is_some();
            // Start trials while there are free slots and trials to run.
            while !stopping && inflight.len() < config.parallel {
                let trials = study.trials();
                let queued = trials.iter().any(|t| t.state == TrialState::Queued);
                if !queued && counted(trials) >= config.trials {
                    break;
                }
                // The limit is checked again in the reservation's transaction: workers racing
                // for the last trials make exactly `trials`.
                let trial = match study.ask_within(Some(config.trials)) {
                    Ok(Some(t)) => t,
                    Ok(None) => break,
                    Err(e) => {
                        failure = Some(e);
                        break;
                    }
                };
                if let Some(l) = study.lease(trial.number) {
                    beats.hold(l);
                }
                if let Source::Fallback { reason } = &trial.source {
                    on_event(Event::Warning(format!(
                        "trial {}: the strategy fell back: {reason}",
                        trial.number
                    )));
                }
                on_event(Event::Started { trial: &trial });
                let signal = Arc::new(Signal::default());
                let handle = TrialHandle {
                    number: trial.number,
                    params: trial.params.clone(),
                    space: space.clone(),
                    signal: signal.clone(),
                    tx: tx.clone(),
                    log_dir: config.log_dir.clone(),
                    timeout: config.timeout,
                    wait_judged: config.pruner.is_some(),
                };
                inflight.insert(
                    trial.number,
                    InFlight {
                        signal,
                        lease_lost: false,
                        started: Instant::now(),
                        stopped: None,
                        last_step: trial.last_step(),
                        reports: trial.intermediate.len(),
                        warned: 0,
                    },
                );
                scope.spawn(move || {
                    // A panicking objective is a failed trial, not a hung run.
                    let outcome = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
                        objective.evaluate(&handle)
                    }))
                    .unwrap_or_else(|panic| {
                        let what = panic
                            .downcast_ref::<&str>()
                            .map(|s| s.to_string())
                            .or_else(|| panic.downcast_ref::<String>().cloned())
                            .unwrap_or_else(|| "a panic without a message".into());
                        Outcome::failed(format!("the objective panicked: {what}"))
                    });
                    let _ = handle.tx.send(Message::Done {
                        number: handle.number,
                        outcome,
                    });
                });
            }
            let stopping = config.stop.load(Ordering::SeqCst) || failure.is_some();
            if inflight.is_empty() {
                if stopping {
                    break;
                }
                let trials = study.trials();
                let queued = trials.iter().any(|t| t.state == TrialState::Queued);
                let others_running = trials.iter().any(|t| t.state == TrialState::Running);
                if !queued && counted(trials) >= config.trials {
                    // Other workers' trials still running: wait for them (one may be lost and
                    // come back to the queue), so that the study ends with all its trials.
                    if others_running && heartbeat.is_some() {
                        if !waiting {
                            on_event(Event::Warning(
                                "all trials started; waiting for the other workers' running trials"
                                    .into(),
                            ));
                            waiting = true;
                        }
                        std::thread::sleep(Duration::from_millis(200));
                        match study.requeue_lost() {
                            Ok(lost) => {
                                for n in lost {
                                    on_event(Event::Warning(format!(
                                        "trial {n}: its worker was lost; queued to run again"
                                    )));
                                }
                            }
                            Err(e) => failure = Some(e),
                        }
                        continue;
                    }
                    break;
                }
            }
            match rx.recv_timeout(Duration::from_millis(50)) {
                Ok(Message::Report(r)) => {
                    if let Some(f) = inflight.get_mut(&r.number) {
                        match f.check(&r, config) {
                            Err((kind, new)) => {
                                if new {
                                    on_event(Event::Warning(bad_report_text(kind, &r, config)));
                                }
                            }
                            Ok((judge, warn)) => {
                                if let Some(kind) = warn {
                                    on_event(Event::Warning(bad_report_text(kind, &r, config)));
                                }
                                if let Err(e) = study.report(r.number, r.step, r.value) {
                                    on_event(Event::Warning(format!(
                                        "trial {}: intermediate value not stored: {e}",
                                        r.number
                                    )));
                                } else if let Some(p) = config.pruner.as_ref().filter(|_| judge) {
                                    // Other workers' trials count too: read the study again
                                    // (at most once a second) when it is shared.
                                    if study.is_shared()
                                        && last_refresh.elapsed() >= Duration::from_secs(1)
                                    {
                                        if let Err(e) = study.refresh() {
                                            on_event(Event::Warning(format!(
                                                "the study could not be read again for pruning: {e}"
                                            )));
                                        }
                                        last_refresh = Instant::now();
                                    }
                                    let trials = study.trials();
                                    if let Some(t) = trials.get(r.number) {
                                        if f.signal.get().is_none()
                                            && p.prune(t, trials, study.config().direction())
                                        {
                                            f.signal.raise(StopReason::Prune);
                                        }
                                    }
                                }
                                on_event(Event::Report(r));
                            }
                        }
                        f.signal.judged(r.step);
                    }
                }
                Ok(Message::Warning(text)) => on_event(Event::Warning(text)),
                Ok(Message::Note { number, text }) => on_event(Event::Note {
                    number,
                    text: &text,
                }),
                Ok(Message::Done { number, outcome }) => {
                    if let Some(f) = inflight.remove(&number) {
                        beats.release(number);
                        if f.lease_lost {
                            study.release(number);
                            on_event(Event::Warning(format!(
                                "trial {number}: its result is not recorded (this worker's lease was lost; another worker runs the trial)"
                            )));
                            continue;
                        }
                        let outcome = settle(f.signal.get(), outcome, study, number, config);
                        if let Err(e) = tell(study, number, outcome, config, &mut summary, on_event)
                        {
                            failure.get_or_insert(e);
                        }
                    }
                }
                Err(RecvTimeoutError::Timeout) | Err(RecvTimeoutError::Disconnected) => {}
            }
            // Timeouts, interruptions, and trials that do not return after a stop.
            let now = Instant::now();
            let stopping = config.stop.load(Ordering::SeqCst) || failure.is_some();
            let mut abandoned = Vec::new();
            for (&n, f) in inflight.iter_mut() {
                if stopping {
                    f.signal.raise(StopReason::Interrupt);
                } else if config.timeout.is_some_and(|t| now - f.started > t) {
                    f.signal.raise(StopReason::Timeout);
                }
                if f.signal.get().is_some() {
                    let since = *f.stopped.get_or_insert(now);
                    if now - since > config.grace {
                        abandoned.push(n);
                    }
                }
            }
            for n in abandoned {
                // The objective ignores the stop: record the trial and leave its thread.
                if let Some(f) = inflight.remove(&n) {
                    beats.release(n);
                    if f.lease_lost {
                        study.release(n);
                        continue;
                    }
                    let outcome = settle(f.signal.get(), Outcome::failed(""), study, n, config);
                    on_event(Event::Warning(format!(
                        "trial {n} did not stop within {:.0} s of being told to",
                        config.grace.as_secs_f64()
                    )));
                    if let Err(e) = tell(study, n, outcome, config, &mut summary, on_event) {
                        failure.get_or_insert(e);
                    }
                }
            }
            let mut lost = beats.take_lost();
            if let Some(h) = heartbeat.filter(|_| !threaded) {
                if last_beat.elapsed() >= h && !inflight.is_empty() {
                    let numbers: Vec<usize> = inflight.keys().copied().collect();
                    match study.heartbeat(&numbers) {
                        Ok(l) => lost.extend(l),
                        Err(e) => on_event(Event::Warning(format!("heartbeat not stored: {e}"))),
                    }
                    last_beat = Instant::now();
                }
            }
            for n in lost {
                if let Some(f) = inflight.get_mut(&n).filter(|f| !f.lease_lost) {
                    f.lease_lost = true;
                    f.signal.raise(StopReason::LeaseLost);
                    beats.release(n);
                    on_event(Event::Warning(format!(
                        "trial {n}: this worker's lease on it was lost (it was taken for lost and claimed by another worker); stopping it"
                    )));
                }
            }
        }
        beats.done.store(true, Ordering::SeqCst);
        // Threads of abandoned trials are joined here, when they end.
    });
    if let Some(e) = failure {
        return Err(e);
    }
    summary.interrupted = config.stop.load(Ordering::SeqCst);
    summary.complete = study
        .trials()
        .iter()
        .filter(|t| t.state == TrialState::Complete)
        .count();
    summary.counted = counted(study.trials());
    Ok(summary)
}

/// The outcome to record, given why (and whether) the trial was told to stop.
fn settle(
    stop: Option<StopReason>,
    outcome: Outcome,
    study: &Study,
    number: usize,
    config: &RunConfig,
) -> Outcome {
    match stop {
        None => outcome,
        Some(StopReason::Interrupt) | Some(StopReason::LeaseLost) => Outcome::Interrupted {
            reason: "the run was stopped".into(),
        },
        Some(StopReason::Timeout) => Outcome::failed(format!(
            "timed out after {:.1} s",
            config.timeout.unwrap_or_default().as_secs_f64()
        )),
        Some(StopReason::Prune) => Outcome::Pruned {
            value: study
                .trials()
                .get(number)
                .and_then(|t| t.intermediate.last())
                .map(|s| s.1),
        },
    }
}

fn tell(
    study: &mut Study,
    number: usize,
    outcome: Outcome,
    config: &RunConfig,
    summary: &mut RunSummary,
    on_event: &mut dyn FnMut(Event<'_>),
) -> Result<(), TunerError> {
    let requeued = matches!(outcome, Outcome::Interrupted { .. });
    if let Err(e) = study.tell(number, outcome.clone()) {
        match e {
            // Another worker holds the trial now: its result stands, this one is dropped.
            e @ TunerError::LeaseLost { .. } => {
                on_event(Event::Warning(format!(
                    "{e}; this worker's result is not recorded"
                )));
                return Ok(());
            }
            // A value the study cannot take (a wrong count of values, a bad metric name) is
            // the trial's failure, not the run's.
            TunerError::InvalidTrial { reason, .. } if !requeued => {
                study.tell(number, Outcome::failed(format!("bad result: {reason}")))?;
            }
            other => return Err(other),
        }
    }
    if requeued {
        summary.requeued += 1;
    } else {
        summary.finished += 1;
    }
    checkpoint(study, config)?;
    if let Some(t) = study.trials().get(number) {
        on_event(Event::Finished { trial: t, study });
    }
    Ok(())
}

fn checkpoint(study: &Study, config: &RunConfig) -> Result<(), TunerError> {
    match &config.checkpoint {
        Some(path) => write_atomic(
            study.space(),
            &study.config().directions,
            study.trials(),
            path,
        ),
        None => Ok(()),
    }
}

/// The leases the heartbeat thread keeps alive, and the ones it found lost.
#[derive(Default)]
struct Beats {
    leases: Mutex<Vec<Lease>>,
    lost: Mutex<Vec<usize>>,
    done: AtomicBool,
}

impl Beats {
    fn hold(&self, lease: Lease) {
        if let Ok(mut l) = self.leases.lock() {
            l.push(lease);
        }
    }
    /// Stops the heartbeats of trial `number` (before its tell, so that a trial given back
    /// to the queue is not taken again by a late heartbeat).
    fn release(&self, number: usize) {
        if let Ok(mut l) = self.leases.lock() {
            l.retain(|l| l.number != number);
        }
    }
    fn take_lost(&self) -> Vec<usize> {
        self.lost
            .lock()
            .map(|mut l| std::mem::take(&mut *l))
            .unwrap_or_default()
    }
}

/// The heartbeat thread: every `interval`, refreshes the held leases on its own handle.
fn beat(
    mut storage: Box<dyn Storage>,
    interval: Duration,
    beats: &Beats,
    tx: &mpsc::Sender<Message>,
) {
    let mut last = Instant::now();
    while !beats.done.load(Ordering::SeqCst) {
        std::thread::sleep(interval.min(Duration::from_millis(20)));
        if last.elapsed() < interval {
            continue;
        }
        last = Instant::now();
        let leases = beats.leases.lock().map(|l| l.clone()).unwrap_or_default();
        if leases.is_empty() {
            continue;
        }
        match storage.heartbeat(&leases) {
            Ok(lost) if !lost.is_empty() => {
                // A lease released while the heartbeat was on its way is not lost.
                let held = beats.leases.lock().map(|l| l.clone()).unwrap_or_default();
                if let Ok(mut l) = beats.lost.lock() {
                    l.extend(lost.iter().filter(|x| held.contains(x)).map(|x| x.number));
                }
            }
            Ok(_) => {}
            Err(e) => {
                let _ = tx.send(Message::Warning(format!("heartbeat not stored: {e}")));
            }
        }
    }
}
