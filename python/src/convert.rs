//! Between Python and the tuner's types: errors, parameter values, trials.

use std::time::{SystemTime, UNIX_EPOCH};

use nasbo_tuner::{Assignment, ParamKind, Space, Trial, TrialState, TunerError, Value};
use pyo3::exceptions::{PyKeyError, PyOSError, PyRuntimeError, PyValueError};
use pyo3::prelude::*;
use pyo3::types::{PyBool, PyDict, PyFloat, PyInt, PyList, PyString};

/// The tuner's error as the Python exception a caller would expect.
pub(crate) fn to_py(e: TunerError) -> PyErr {
    let text = e.to_string();
    match e {
        TunerError::LeaseLost { .. } => crate::LeaseLost::new_err(text),
        TunerError::UnknownStudy { .. } => PyKeyError::new_err(text),
        TunerError::Storage { .. } | TunerError::Io { .. } => PyOSError::new_err(text),
        TunerError::Model(g) => crate::gp::to_py(g),
        TunerError::Acquisition(_) => PyRuntimeError::new_err(text),
        _ => PyValueError::new_err(text),
    }
}

/// A parameter's value as Python's int, float or str.
pub(crate) fn value_to_py<'py>(py: Python<'py>, v: &Value) -> PyResult<Bound<'py, PyAny>> {
    Ok(match v {
        Value::Int(i) => i.into_pyobject(py)?.into_any(),
        Value::Float(f) => PyFloat::new(py, *f).into_any(),
        Value::Cat(s) => PyString::new(py, s).into_any(),
    })
}

/// The active parameters of `a` as a dict name → value.
pub(crate) fn params_to_py<'py>(
    py: Python<'py>,
    space: &Space,
    a: &Assignment,
) -> PyResult<Bound<'py, PyDict>> {
    let d = PyDict::new(py);
    for (p, v) in space.params().iter().zip(a) {
        if let Some(v) = v {
            d.set_item(&p.name, value_to_py(py, v)?)?;
        }
    }
    Ok(d)
}

/// A dict name → value as an assignment of `space` (inactive parameters left out of the
/// dict); a name the space does not have, or a value of the wrong kind, is a `ValueError`.
pub(crate) fn params_from_py(space: &Space, d: &Bound<'_, PyDict>) -> PyResult<Assignment> {
    let mut a: Assignment = vec![None; space.len()];
    for (k, v) in d.iter() {
        let name: String = k
            .extract()
            .map_err(|_| PyValueError::new_err(format!("parameter name {k}: not a string")))?;
        let i = space.index(&name).ok_or_else(|| {
            PyValueError::new_err(format!(
                "parameter `{name}`: the space has no such parameter"
            ))
        })?;
        let bad =
            |what: &str| PyValueError::new_err(format!("parameter `{name}`: {v} is not {what}"));
        a[i] = Some(match &space.params()[i].kind {
            ParamKind::Float { .. } => {
                if v.is_instance_of::<PyBool>() || v.is_instance_of::<PyString>() {
                    return Err(bad("a number"));
                }
                Value::Float(v.extract::<f64>().map_err(|_| bad("a number"))?)
            }
            ParamKind::Int { .. } => {
                if v.is_instance_of::<PyBool>() {
                    return Err(bad("an integer"));
                }
                if v.is_instance_of::<PyInt>() {
                    Value::Int(v.extract::<i64>().map_err(|_| bad("an integer"))?)
                } else {
                    let f: f64 = v.extract().map_err(|_| bad("an integer"))?;
                    if f.fract() != 0.0 || !f.is_finite() || f.abs() > 9.0e15 {
                        return Err(bad("an integer"));
                    }
                    Value::Int(f as i64)
                }
            }
            ParamKind::Categorical { .. } => Value::Cat(
                v.extract::<String>()
                    .map_err(|_| bad("a string (a choice)"))?,
            ),
        });
    }
    Ok(a)
}

fn unix(t: Option<SystemTime>) -> Option<f64> {
    t.and_then(|t| t.duration_since(UNIX_EPOCH).ok())
        .map(|d| d.as_secs_f64())
}

/// A trial as a dict of plain values (the Python side makes its records from it).
pub(crate) fn trial_to_py<'py>(
    py: Python<'py>,
    space: &Space,
    t: &Trial,
) -> PyResult<Bound<'py, PyDict>> {
    let d = PyDict::new(py);
    d.set_item("number", t.number)?;
    d.set_item("state", t.state.name())?;
    d.set_item("values", PyList::new(py, &t.values)?)?;
    d.set_item("params", params_to_py(py, space, &t.params)?)?;
    let metrics = PyDict::new(py);
    for (k, v) in &t.metrics {
        metrics.set_item(k, v)?;
    }
    d.set_item("metrics", metrics)?;
    d.set_item("intermediate", PyList::new(py, &t.intermediate)?)?;
    d.set_item("source", t.source.text())?;
    d.set_item("error", t.error.as_deref())?;
    d.set_item("started_at", unix(t.started_at))?;
    d.set_item("finished_at", unix(t.finished_at))?;
    d.set_item("duration_s", t.duration_s())?;
    d.set_item("suggest_s", t.suggest_s)?;
    Ok(d)
}

/// A trial state by its name (`complete`, `failed`, `pruned`, `running`, `queued`).
pub(crate) fn state(name: &str) -> PyResult<TrialState> {
    TrialState::parse(name).ok_or_else(|| {
        PyValueError::new_err(format!(
            "state `{name}`: use complete, failed, pruned, running or queued"
        ))
    })
}
