//! `StudyCore`: a tuner `Study` on any storage, behind the Python class `nasbo.Study`. One
//! lock guards the study; every call releases the GIL while it waits for it and while it
//! works, so threads of `optimize(n_jobs=...)` evaluate in parallel and propose in turn.

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::{Duration, Instant};

use nasbo_tuner::prune::{Pruner, PrunerConfig, PrunerKind};
use nasbo_tuner::study::csv::write_atomic;
use nasbo_tuner::study::{open_storage, Lease, MemoryStorage, Storage};
use nasbo_tuner::{
    BoConfig, Direction, Outcome, Space, StrategyKind, Study, StudyConfig, StudyRecord, TrialState,
    TunerError,
};
use pyo3::exceptions::{PyRuntimeError, PyValueError};
use pyo3::prelude::*;
use pyo3::types::{PyDict, PyList};

use crate::convert::{params_to_py, state, to_py, trial_to_py};

/// The leases the heartbeat thread keeps alive.
#[derive(Default)]
struct Beats {
    leases: Mutex<Vec<Lease>>,
    done: AtomicBool,
}

impl Beats {
    fn hold(&self, lease: Lease) {
        if let Ok(mut l) = self.leases.lock() {
            l.push(lease);
        }
    }
    fn release(&self, number: usize) {
        if let Ok(mut l) = self.leases.lock() {
            l.retain(|l| l.number != number);
        }
    }
}

/// Every `interval`, refreshes the held leases on a connection of its own (so a long
/// evaluation in Python, or a proposal on the main connection, never delays them).
fn beat(mut storage: Box<dyn Storage>, interval: Duration, beats: Arc<Beats>) {
    let mut last = Instant::now();
    while !beats.done.load(Ordering::SeqCst) {
        std::thread::sleep(interval.min(Duration::from_millis(50)));
        if last.elapsed() < interval {
            continue;
        }
        last = Instant::now();
        let leases = beats.leases.lock().map(|l| l.clone()).unwrap_or_default();
        if !leases.is_empty() {
            // A failed heartbeat is retried at the next interval; a lost lease shows at tell.
            let _ = storage.heartbeat(&leases);
        }
    }
}

fn directions(names: &[String]) -> PyResult<Vec<Direction>> {
    names
        .iter()
        .map(|n| {
            Direction::parse(n).ok_or_else(|| {
                PyValueError::new_err(format!("direction `{n}`: use minimize or maximize"))
            })
        })
        .collect()
}

/// A study and what the Python side configured with it.
#[pyclass(module = "nasbo._nasbo", frozen)]
pub(crate) struct StudyCore {
    study: Mutex<Study>,
    pruner: Option<Arc<dyn Pruner>>,
    beats: Option<Arc<Beats>>,
    name: String,
}

impl Drop for StudyCore {
    fn drop(&mut self) {
        if let Some(b) = &self.beats {
            b.done.store(true, Ordering::SeqCst);
        }
    }
}

impl StudyCore {
    fn lock(&self) -> PyResult<MutexGuard<'_, Study>> {
        self.study
            .lock()
            .map_err(|_| PyRuntimeError::new_err("the study's lock was poisoned by a panic"))
    }
}

/// What [`StudyCore::ask`] hands to Python: `(number, params, lease)`.
type Asked<'py> = (usize, Bound<'py, PyDict>, Option<u64>);

#[pymethods]
impl StudyCore {
    /// Opens (or creates) study `name` in `storage` (`None`: in memory), with the space as
    /// TOML text (needed to create it; checked against a stored one) and one direction per
    /// objective (`None`: the stored ones).
    #[new]
    #[pyo3(signature = (
        storage, name, space_toml, direction_names, seed, strategy, noisy, heartbeat,
        pruner, max_step, min_step, reduction_factor, startup_trials, budget = None
    ))]
    #[allow(clippy::too_many_arguments)]
    fn new(
        py: Python<'_>,
        storage: Option<String>,
        name: String,
        space_toml: Option<String>,
        direction_names: Option<Vec<String>>,
        seed: u64,
        strategy: &str,
        noisy: bool,
        heartbeat: Option<f64>,
        pruner: &str,
        max_step: Option<u64>,
        min_step: u64,
        reduction_factor: u64,
        startup_trials: usize,
        budget: Option<usize>,
    ) -> PyResult<Self> {
        let space = space_toml
            .as_deref()
            .map(Space::from_toml)
            .transpose()
            .map_err(to_py)?;
        let dirs = direction_names.as_deref().map(directions).transpose()?;
        let kind = StrategyKind::parse(strategy).ok_or_else(|| {
            PyValueError::new_err(format!(
                "strategy `{strategy}`: use {}",
                StrategyKind::NAMES.join(", ")
            ))
        })?;
        let kind = match kind {
            StrategyKind::Bo(c) => StrategyKind::Bo(BoConfig { noisy, budget, ..c }),
            k => k,
        };
        let heartbeat = match heartbeat {
            None => None,
            Some(h) if h.is_finite() && h > 0.0 => Some(Duration::from_secs_f64(h)),
            Some(h) => {
                return Err(PyValueError::new_err(format!(
                    "heartbeat = {h}: a positive number of seconds, or None"
                )))
            }
        };
        let pruner = {
            let kind = PrunerKind::parse(pruner).map_err(to_py)?;
            let max_step = match (kind, max_step) {
                (PrunerKind::None, m) => m.unwrap_or(1),
                (_, Some(m)) => m,
                (_, None) => {
                    return Err(PyValueError::new_err(format!(
                        "pruner `{}`: needs max_step (a trial's full budget in steps)",
                        kind.name()
                    )))
                }
            };
            PrunerConfig {
                kind,
                max_step,
                min_step,
                reduction_factor,
                startup_trials,
            }
            .build()
            .map_err(to_py)?
        };
        let opened: Result<(Study, Option<Box<dyn Storage>>), TunerError> = py.detach(|| {
            let storage: Box<dyn Storage> = match &storage {
                None => {
                    let space = space.clone().ok_or_else(|| TunerError::InvalidConfig {
                        name: "space",
                        value: "None".into(),
                        reason: "a study in memory needs its space".into(),
                    })?;
                    Box::new(MemoryStorage::new(StudyRecord {
                        name: name.clone(),
                        space,
                        directions: dirs.clone().unwrap_or(vec![Direction::Minimize]),
                    }))
                }
                Some(url) => {
                    let d = dirs.clone().unwrap_or(vec![Direction::Minimize]);
                    open_storage(url, &name, space.as_ref().map(|s| (s, &d[..])))?
                }
            };
            let config = StudyConfig {
                directions: dirs.clone().unwrap_or(storage.study().directions.clone()),
                seed,
                strategy: kind,
                heartbeat,
            };
            let study = Study::open(storage, config)?;
            let second = match heartbeat {
                Some(_) => study.connect_again().transpose()?,
                None => None,
            };
            Ok((study, second))
        });
        let (study, second) = opened.map_err(to_py)?;
        let beats = match (second, heartbeat) {
            (Some(handle), Some(interval)) => {
                let beats = Arc::new(Beats::default());
                let b = beats.clone();
                std::thread::spawn(move || beat(handle, interval, b));
                Some(beats)
            }
            _ => None,
        };
        Ok(StudyCore {
            study: Mutex::new(study),
            pruner,
            beats,
            name,
        })
    }

    /// The study's name.
    #[getter]
    fn name(&self) -> &str {
        &self.name
    }

    /// The directions, by name.
    fn directions(&self, py: Python<'_>) -> PyResult<Vec<&'static str>> {
        py.detach(|| {
            let s = self.lock()?;
            Ok(s.record().directions.iter().map(|d| d.name()).collect())
        })
    }

    /// The parameters' names, in the space's order.
    fn param_names(&self, py: Python<'_>) -> PyResult<Vec<String>> {
        py.detach(|| {
            let s = self.lock()?;
            Ok(s.space().params().iter().map(|p| p.name.clone()).collect())
        })
    }

    /// Reserves the next trial: `(number, params, lease)`; `None` when `limit` is given and
    /// the study holds that many trials already.
    #[pyo3(signature = (limit = None))]
    fn ask<'py>(&self, py: Python<'py>, limit: Option<usize>) -> PyResult<Option<Asked<'py>>> {
        let got = py.detach(|| -> PyResult<_> {
            let mut s = self.lock()?;
            let t = s.ask_within(limit).map_err(to_py)?;
            Ok(t.map(|t| {
                let lease = s.lease(t.number);
                (t, lease, s.space().clone())
            }))
        })?;
        let Some((t, lease, space)) = got else {
            return Ok(None);
        };
        if let (Some(b), Some(l)) = (&self.beats, lease) {
            b.hold(l);
        }
        Ok(Some((
            t.number,
            params_to_py(py, &space, &t.params)?,
            lease.map(|l| l.token),
        )))
    }

    /// Records trial `number`'s outcome: `state` complete (with `values`), failed (with
    /// `reason`), pruned (its last reported value, if any) or queued (put back to be asked
    /// again).
    #[pyo3(signature = (number, state_name, values, metrics, reason))]
    fn tell(
        &self,
        py: Python<'_>,
        number: usize,
        state_name: &str,
        values: Vec<f64>,
        metrics: Vec<(String, f64)>,
        reason: Option<String>,
    ) -> PyResult<()> {
        let outcome = match state(state_name)? {
            TrialState::Complete => Outcome::Complete { values, metrics },
            TrialState::Failed => Outcome::failed(reason.unwrap_or_else(|| "failed".into())),
            TrialState::Pruned => {
                if values.len() > 1 {
                    return Err(PyValueError::new_err(format!(
                        "trial {number}: a pruned trial keeps one value (its last report), not {}",
                        values.len()
                    )));
                }
                Outcome::Pruned {
                    value: values.first().copied(),
                }
            }
            TrialState::Queued => Outcome::Interrupted {
                reason: reason.unwrap_or_else(|| "put back from Python".into()),
            },
            TrialState::Running => {
                return Err(PyValueError::new_err(format!(
                    "trial {number}: tell complete, failed, pruned or queued, not running"
                )))
            }
        };
        if let Some(b) = &self.beats {
            b.release(number);
        }
        py.detach(|| self.lock()?.tell(number, outcome).map_err(to_py))
    }

    /// Records an intermediate value of running trial `number`.
    fn report(&self, py: Python<'_>, number: usize, step: u64, value: f64) -> PyResult<()> {
        py.detach(|| self.lock()?.report(number, step, value).map_err(to_py))
    }

    /// Whether the study's pruner would stop running trial `number` now (always `False`
    /// without one).
    fn should_prune(&self, py: Python<'_>, number: usize) -> PyResult<bool> {
        let Some(p) = self.pruner.clone() else {
            // Still an error for a trial that is not running, as with a pruner.
            return py.detach(|| {
                let mut s = self.lock()?;
                s.refresh().map_err(to_py)?;
                match s.trials().get(number) {
                    Some(t) if t.state == TrialState::Running => Ok(false),
                    Some(t) => Err(PyValueError::new_err(format!(
                        "trial {number}: is {}, not running",
                        t.state.name()
                    ))),
                    None => Err(PyValueError::new_err(format!(
                        "trial {number}: the study has no trial {number}"
                    ))),
                }
            });
        };
        py.detach(|| self.lock()?.should_prune(number, &*p).map_err(to_py))
    }

    /// Every trial (read from the storage again), as dicts.
    fn trials<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyList>> {
        let (space, trials) = py.detach(|| -> PyResult<_> {
            let mut s = self.lock()?;
            s.refresh().map_err(to_py)?;
            Ok((s.space().clone(), s.trials().to_vec()))
        })?;
        let rows = trials
            .iter()
            .map(|t| trial_to_py(py, &space, t))
            .collect::<PyResult<Vec<_>>>()?;
        PyList::new(py, rows)
    }

    /// Writes every trial as the CSV of `nasbo tune --out` (atomically).
    fn export_csv(&self, py: Python<'_>, path: std::path::PathBuf) -> PyResult<()> {
        py.detach(|| {
            let mut s = self.lock()?;
            s.refresh().map_err(to_py)?;
            let r = s.record();
            write_atomic(&r.space, &r.directions, s.trials(), &path).map_err(to_py)
        })
    }
}
