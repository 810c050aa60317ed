//! `Proposer`: the `bo` strategy on trials kept elsewhere (Optuna's), for `NasboSampler`. A
//! strategy proposes from what it is shown, so the proposal for trial `number` is the one a
//! nasbo study with the same trials and seed would make.

use std::sync::Mutex;

use nasbo_tuner::strategy::{Context, Strategy};
use nasbo_tuner::{BoConfig, Direction, Space, StrategyKind, Trial, TrialState};
use pyo3::exceptions::{PyRuntimeError, PyValueError};
use pyo3::prelude::*;
use pyo3::types::PyDict;

use crate::convert::{params_from_py, params_to_py, state as state_of, to_py};

/// A space, its directions and a `bo` strategy.
#[pyclass(module = "nasbo._nasbo", frozen)]
pub(crate) struct Proposer {
    space: Space,
    directions: Vec<Direction>,
    seed: u64,
    strategy: Mutex<Box<dyn Strategy>>,
}

#[pymethods]
impl Proposer {
    /// `bo` (with `noisy` as `nasbo tune --noisy`) on the space given as TOML text.
    #[new]
    #[pyo3(signature = (space_toml, direction_names, seed, noisy = false))]
    fn new(
        space_toml: &str,
        direction_names: Vec<String>,
        seed: u64,
        noisy: bool,
    ) -> PyResult<Self> {
        let space = Space::from_toml(space_toml).map_err(to_py)?;
        space.check().map_err(to_py)?;
        let directions = direction_names
            .iter()
            .map(|n| {
                Direction::parse(n).ok_or_else(|| {
                    PyValueError::new_err(format!("direction `{n}`: use minimize or maximize"))
                })
            })
            .collect::<PyResult<Vec<_>>>()?;
        if directions.is_empty() {
            return Err(PyValueError::new_err("at least one direction"));
        }
        let kind = StrategyKind::Bo(BoConfig {
            noisy,
            ..BoConfig::default()
        });
        let strategy = kind.build(&space).map_err(to_py)?;
        Ok(Proposer {
            space,
            directions,
            seed,
            strategy: Mutex::new(strategy),
        })
    }

    /// The proposal for trial `number` given `trials`: `(state, params, values)` each, the
    /// state's name as in nasbo (`complete`, `pruned` with its last value, `running` for a
    /// pending one, `failed`), and `state`, what the latest proposal returned (the fitted
    /// GP's hyperparameters, from which this fit starts, as in a nasbo study). Returns the
    /// parameters, where they came from (`initial`, `model`, `fallback: ...`) and the state
    /// to give the next call.
    #[pyo3(signature = (trials, number, state = None))]
    fn suggest<'py>(
        &self,
        py: Python<'py>,
        trials: Vec<(String, Bound<'py, PyDict>, Vec<f64>)>,
        number: usize,
        state: Option<String>,
    ) -> PyResult<(Bound<'py, PyDict>, String, Option<String>)> {
        let mut records = Vec::with_capacity(trials.len());
        for (i, (s, params, values)) in trials.iter().enumerate() {
            let st = state_of(s)?;
            let a = params_from_py(&self.space, params)?;
            self.space
                .validate(&a)
                .map_err(|e| PyValueError::new_err(format!("trial {i}: {e}")))?;
            let k = self.directions.len();
            if st == TrialState::Complete && values.len() != k {
                return Err(PyValueError::new_err(format!(
                    "trial {i}: {} values for {k} objectives",
                    values.len()
                )));
            }
            if let Some(v) = values.iter().find(|v| !v.is_finite()) {
                return Err(PyValueError::new_err(format!(
                    "trial {i}: value {v} is not finite"
                )));
            }
            let mut t = Trial::new(i, a);
            t.state = st;
            t.values = values.clone();
            records.push(t);
        }
        if let Some(last) = records.last_mut() {
            last.strategy_state = state;
        }
        let proposal = py.detach(|| {
            let mut strategy = self
                .strategy
                .lock()
                .map_err(|_| PyRuntimeError::new_err("the proposer's lock was poisoned"))?;
            let ctx = Context {
                space: &self.space,
                trials: &records,
                direction: self.directions[0],
                directions: &self.directions,
                seed: self.seed,
                number,
            };
            strategy.suggest(&ctx).map_err(to_py)
        })?;
        Ok((
            params_to_py(py, &self.space, &proposal.params)?,
            proposal.source.text(),
            proposal.state,
        ))
    }
}
