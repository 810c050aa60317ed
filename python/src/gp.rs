//! The GP: `fit` and the fitted model behind `nasbo.GaussianProcess`.

use nasbo_gp::nalgebra::{DMatrix, DVector};
use nasbo_gp::{GaussianProcess, GpError, GpParams, Kernel};
use pyo3::exceptions::{PyRuntimeError, PyValueError};
use pyo3::prelude::*;
use rand::SeedableRng;

pub(crate) fn to_py(e: GpError) -> PyErr {
    match e {
        GpError::NotPositiveDefinite { .. } | GpError::FitFailed(_) => {
            PyRuntimeError::new_err(e.to_string())
        }
        _ => PyValueError::new_err(e.to_string()),
    }
}

/// Rows of equal length as a matrix; `what` names the argument in the error.
fn matrix(rows: &[Vec<f64>], what: &str) -> PyResult<DMatrix<f64>> {
    let d = rows.first().map_or(0, Vec::len);
    if let Some((i, r)) = rows.iter().enumerate().find(|(_, r)| r.len() != d) {
        return Err(PyValueError::new_err(format!(
            "{what}: row {i} has {} columns, row 0 has {d}",
            r.len()
        )));
    }
    Ok(DMatrix::from_fn(rows.len(), d, |i, k| rows[i][k]))
}

fn kernel(name: &str) -> PyResult<Kernel> {
    Ok(match name {
        "matern52" => Kernel::matern52(),
        "matern32" => Kernel::matern32(),
        "matern12" => Kernel::matern12(),
        "rbf" => Kernel::rbf(),
        other => {
            return Err(PyValueError::new_err(format!(
                "kernel `{other}`: use matern52, matern32, matern12 or rbf"
            )))
        }
    })
}

/// A fitted GP (the Python class `GaussianProcess` wraps it).
#[pyclass(module = "nasbo._nasbo", frozen)]
pub(crate) struct FittedGp {
    gp: GaussianProcess,
}

#[pymethods]
impl FittedGp {
    /// Posterior mean and standard deviation (of the observations when `noisy_std`, of the
    /// latent function otherwise) at the rows of `x`.
    fn predict(&self, x: Vec<Vec<f64>>, noisy_std: bool) -> PyResult<(Vec<f64>, Vec<f64>)> {
        let x = matrix(&x, "X")?;
        let p = self.gp.predict_var(&x).map_err(to_py)?;
        let var = if noisy_std { &p.var_y } else { &p.var_f };
        Ok((
            p.mean.iter().copied().collect(),
            var.iter().map(|v| v.max(0.0).sqrt()).collect(),
        ))
    }

    /// `n_samples` joint draws of the latent function at the rows of `x` (one row per draw).
    fn sample(&self, x: Vec<Vec<f64>>, n_samples: usize, seed: u64) -> PyResult<Vec<Vec<f64>>> {
        let x = matrix(&x, "X")?;
        let mut rng = rand_chacha::ChaCha8Rng::seed_from_u64(seed);
        let s = self.gp.sample(&x, n_samples, &mut rng).map_err(to_py)?;
        // One draw per row, one column per point, as nasbo-gp gives them.
        Ok((0..s.nrows())
            .map(|i| s.row(i).iter().copied().collect())
            .collect())
    }

    /// The fitted lengthscales, in the units of `X`.
    fn lengthscales(&self) -> Vec<f64> {
        self.gp.lengthscales()
    }

    /// The fitted noise variance, in the units of `y` squared.
    fn noise(&self) -> f64 {
        self.gp.noise()
    }

    /// The log marginal likelihood of the data under the fitted hyperparameters.
    fn log_marginal_likelihood(&self) -> f64 {
        self.gp.log_marginal_likelihood()
    }
}

/// Fits a GP to rows `x` and values `y` (MAP hyperparameters, BoTorch's priors).
#[pyfunction]
#[pyo3(signature = (x, y, kernel_name = "matern52", seed = 0, noise_floor = None))]
pub(crate) fn fit(
    py: Python<'_>,
    x: Vec<Vec<f64>>,
    y: Vec<f64>,
    kernel_name: &str,
    seed: u64,
    noise_floor: Option<f64>,
) -> PyResult<FittedGp> {
    let x = matrix(&x, "X")?;
    let y = DVector::from_vec(y);
    let mut params = GpParams::new(kernel(kernel_name)?).seed(seed);
    if let Some(f) = noise_floor {
        params = params.noise_floor(f);
    }
    let gp = py.detach(|| params.fit(&x, &y)).map_err(to_py)?;
    Ok(FittedGp { gp })
}
