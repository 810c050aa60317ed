//! `nasbo._nasbo`: the Rust side of the Python package. Plain lists and dicts cross the
//! boundary (the Python side converts numpy arrays and builds the friendly classes); every
//! error of the Rust crates becomes a Python exception (`ValueError` for bad input,
//! `KeyError` for a study that is not there, `OSError` for a storage, `RuntimeError` for a
//! numerical failure, `LeaseLost` for a trial another worker holds now), never a panic.

use pyo3::prelude::*;

mod convert;
mod gp;
mod proposer;
mod study;

pyo3::create_exception!(
    _nasbo,
    LeaseLost,
    pyo3::exceptions::PyRuntimeError,
    "The trial was taken for lost and given to another worker: this result was not recorded."
);

#[pymodule]
fn _nasbo(m: &Bound<'_, PyModule>) -> PyResult<()> {
    m.add_function(wrap_pyfunction!(gp::fit, m)?)?;
    m.add_class::<gp::FittedGp>()?;
    m.add_class::<study::StudyCore>()?;
    m.add_class::<proposer::Proposer>()?;
    m.add("LeaseLost", m.py().get_type::<LeaseLost>())?;
    Ok(())
}
