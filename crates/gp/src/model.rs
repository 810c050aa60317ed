//! [`GaussianProcess`]: a fitted model. It has no setters; refit through [`crate::GpParams`] or
//! add observations with [`GaussianProcess::condition`].

use nalgebra::{DMatrix, DVector};
use rand::Rng;
use rand_distr::StandardNormal;
use serde::{Deserialize, Serialize};

use crate::kernel::{Kernel, Natural, Node, ParamKind};
use crate::linalg;
use crate::params::check_finite_matrix;
use crate::GpError;

/// Smallest latent variance reported, in standardized units (guards against round-off making
/// a variance negative at a training point).
pub const MIN_VARIANCE: f64 = 1e-12;

/// Posterior mean and variances at a set of points, in the user's units.
#[derive(Clone, Debug, PartialEq)]
pub struct Prediction {
    /// Posterior mean.
    pub mean: DVector<f64>,
    /// Variance of the latent function.
    pub var_f: DVector<f64>,
    /// Variance of a new observation (latent variance plus noise).
    pub var_y: DVector<f64>,
}

/// Posterior mean and latent variance at one point with their gradients with respect to the
/// point, in the user's units.
#[derive(Clone, Debug, PartialEq)]
pub struct PointGradients {
    /// Posterior mean.
    pub mean: f64,
    /// Latent variance.
    pub var_f: f64,
    /// ∂mean/∂x.
    pub dmean: Vec<f64>,
    /// ∂var_f/∂x.
    pub dvar: Vec<f64>,
}

/// What a fitted model is made of; also its saved form (the rest is derived when loading).
#[derive(Clone, Serialize, Deserialize)]
pub(crate) struct Parts {
    pub kernel: Kernel,
    pub node: Node,
    pub theta: Vec<f64>,
    pub noise_theta: Option<f64>,
    pub outputscale: f64,
    pub noise: f64,
    pub jitter: f64,
    pub d: usize,
    pub x: Vec<f64>,
    pub y: Vec<f64>,
    pub x_lo: Vec<f64>,
    pub x_scale: Vec<f64>,
    pub y_mean: f64,
    pub y_scale: f64,
    pub l: DMatrix<f64>,
    pub alpha: Vec<f64>,
    pub nll_std: f64,
}

/// A fitted Gaussian process. Inputs are mapped to the unit cube and outputs standardized
/// inside; every method takes and returns the user's units.
///
/// Saves and loads with serde (`serde_json::to_string(&gp)`), factorization included; a loaded
/// model is checked (shapes, finite values, kernel layout), so a damaged file is an error, not
/// a panic at the first prediction.
#[derive(Clone, Debug, Serialize, Deserialize)]
#[serde(into = "Parts", try_from = "Parts")]
pub struct GaussianProcess {
    kernel: Kernel,
    node: Node,
    /// `[kernel log-parameters…, ln outputscale]` (standardized units).
    theta: Vec<f64>,
    noise_theta: Option<f64>,
    nat: Natural,
    outputscale: f64,
    noise: f64,
    jitter: f64,
    d: usize,
    x: Vec<f64>,
    y: Vec<f64>,
    x_lo: Vec<f64>,
    x_scale: Vec<f64>,
    y_mean: f64,
    y_scale: f64,
    l: DMatrix<f64>,
    alpha: Vec<f64>,
    nll_std: f64,
    categorical: Vec<bool>,
}

impl TryFrom<Parts> for GaussianProcess {
    type Error = GpError;
    fn try_from(r: Parts) -> Result<Self, GpError> {
        let bad = |what: &'static str, expected: usize, got: usize| GpError::ShapeMismatch {
            what,
            expected,
            got,
        };
        let n = r.y.len();
        let d = r.d;
        if d == 0 || n == 0 {
            return Err(GpError::EmptyData {
                what: "the saved model's data",
            });
        }
        if r.x.len() != n * d {
            return Err(bad("saved inputs (n × d values)", n * d, r.x.len()));
        }
        for (what, v) in [("saved x_lo", &r.x_lo), ("saved x_scale", &r.x_scale)] {
            if v.len() != d {
                return Err(bad(what, d, v.len()));
            }
        }
        if (r.l.nrows(), r.l.ncols()) != (n, n) {
            return Err(bad(
                "saved Cholesky factor (n × n values)",
                n * n,
                r.l.nrows() * r.l.ncols(),
            ));
        }
        if r.alpha.len() != n {
            return Err(bad("saved alpha", n, r.alpha.len()));
        }
        let kp = r.node.n_params();
        if r.kernel.resolve(d).map(|k| k != r.node).unwrap_or(true) {
            return Err(GpError::InvalidKernel(format!(
                "the saved kernel does not match its layout on {d} inputs"
            )));
        }
        if r.theta.len() != kp + 1 {
            return Err(bad("saved log-parameters", kp + 1, r.theta.len()));
        }
        let finite =
            r.x.iter()
                .chain(&r.y)
                .chain(&r.x_lo)
                .chain(&r.theta)
                .chain(&r.alpha)
                .all(|v| v.is_finite())
                && r.l.iter().all(|v| v.is_finite())
                && r.x_scale.iter().all(|v| v.is_finite() && *v > 0.0)
                && [r.outputscale, r.noise, r.y_mean, r.jitter]
                    .iter()
                    .all(|v| v.is_finite())
                && r.y_scale.is_finite()
                && r.y_scale > 0.0
                && r.outputscale > 0.0
                && r.noise >= 0.0
                && r.noise_theta.is_none_or(f64::is_finite);
        if !finite {
            return Err(GpError::InvalidParameter {
                name: "saved model",
                value: "(a stored number)".into(),
                reason: "a value is not finite, or a scale is not positive".into(),
            });
        }
        Ok(GaussianProcess::from_parts(r))
    }
}

impl From<GaussianProcess> for Parts {
    fn from(g: GaussianProcess) -> Self {
        Parts {
            kernel: g.kernel,
            node: g.node,
            theta: g.theta,
            noise_theta: g.noise_theta,
            outputscale: g.outputscale,
            noise: g.noise,
            jitter: g.jitter,
            d: g.d,
            x: g.x,
            y: g.y,
            x_lo: g.x_lo,
            x_scale: g.x_scale,
            y_mean: g.y_mean,
            y_scale: g.y_scale,
            l: g.l,
            alpha: g.alpha,
            nll_std: g.nll_std,
        }
    }
}

impl GaussianProcess {
    pub(crate) fn from_parts(p: Parts) -> Self {
        let kp = p.node.n_params();
        let nat = Natural::from_log(&p.theta[..kp]);
        let categorical = (0..p.d).map(|k| p.node.is_categorical_dim(k)).collect();
        GaussianProcess {
            kernel: p.kernel,
            node: p.node,
            theta: p.theta,
            noise_theta: p.noise_theta,
            nat,
            outputscale: p.outputscale,
            noise: p.noise,
            jitter: p.jitter,
            d: p.d,
            x: p.x,
            y: p.y,
            x_lo: p.x_lo,
            x_scale: p.x_scale,
            y_mean: p.y_mean,
            y_scale: p.y_scale,
            l: p.l,
            alpha: p.alpha,
            nll_std: p.nll_std,
            categorical,
        }
    }

    /// Number of observations.
    pub fn n(&self) -> usize {
        self.y.len()
    }
    /// Input dimension.
    pub fn dim(&self) -> usize {
        self.d
    }
    /// The kernel specification.
    pub fn kernel(&self) -> &Kernel {
        &self.kernel
    }
    /// The log-parameter vector the optimizer works on (for warm starts).
    pub fn log_params(&self) -> Vec<f64> {
        let mut t = self.theta.clone();
        if let Some(n) = self.noise_theta {
            t.push(n);
        }
        t
    }
    /// Whether input dimension `k` enters only through categorical (Hamming) kernels.
    pub fn is_categorical(&self, k: usize) -> bool {
        self.categorical.get(k).copied().unwrap_or(false)
    }

    /// Log marginal likelihood of the observations, in the user's output units
    /// (`ln p(y | θ)`, priors excluded).
    pub fn log_marginal_likelihood(&self) -> f64 {
        -self.nll_std - self.n() as f64 * self.y_scale.ln()
    }
    /// Log marginal likelihood of the standardized outputs (what scikit-learn reports with
    /// `normalize_y=True`).
    pub fn log_marginal_likelihood_standardized(&self) -> f64 {
        -self.nll_std
    }

    /// Lengthscales in the kernel's parameter order, stationary ones in input units.
    pub fn lengthscales(&self) -> Vec<f64> {
        self.node
            .param_kinds()
            .iter()
            .enumerate()
            .filter_map(|(j, kind)| match kind {
                ParamKind::Lengthscale { dim } => Some(self.nat.val[j] * self.x_scale[*dim]),
                ParamKind::CategoricalLengthscale { .. } => Some(self.nat.val[j]),
                ParamKind::SumWeight => None,
            })
            .collect()
    }
    /// Weights of the terms of sum kernels.
    pub fn sum_weights(&self) -> Vec<f64> {
        self.node
            .param_kinds()
            .iter()
            .enumerate()
            .filter(|(_, k)| matches!(k, ParamKind::SumWeight))
            .map(|(j, _)| self.nat.val[j])
            .collect()
    }
    /// Output scale (prior variance of the latent function), in output units squared.
    pub fn outputscale(&self) -> f64 {
        self.outputscale * self.y_scale * self.y_scale
    }
    /// Noise variance, in output units squared (jitter excluded).
    pub fn noise(&self) -> f64 {
        self.noise * self.y_scale * self.y_scale
    }
    /// Jitter that had to be added to the diagonal, in standardized units (0 normally).
    pub fn jitter(&self) -> f64 {
        self.jitter
    }
    /// All hyperparameters in the user's units.
    pub fn hyperparameters(&self) -> crate::Hyperparameters {
        crate::Hyperparameters {
            lengthscales: self.lengthscales(),
            sum_weights: self.sum_weights(),
            outputscale: self.outputscale(),
            noise: self.noise(),
        }
    }
    /// The observed inputs, in the user's units (one row per observation).
    pub fn train_inputs(&self) -> DMatrix<f64> {
        DMatrix::from_fn(self.n(), self.d, |i, k| {
            self.x[i * self.d + k] * self.x_scale[k] + self.x_lo[k]
        })
    }
    /// The observed outputs, in the user's units.
    pub fn train_outputs(&self) -> DVector<f64> {
        DVector::from_iterator(
            self.n(),
            self.y.iter().map(|v| v * self.y_scale + self.y_mean),
        )
    }

    #[inline]
    fn row(&self, i: usize) -> &[f64] {
        &self.x[i * self.d..(i + 1) * self.d]
    }

    fn to_unit(&self, x: &[f64], out: &mut [f64]) {
        for k in 0..self.d {
            out[k] = (x[k] - self.x_lo[k]) / self.x_scale[k];
        }
    }

    fn check_query(&self, x: &DMatrix<f64>) -> Result<(), GpError> {
        if x.ncols() != self.d {
            return Err(GpError::ShapeMismatch {
                what: "query points (columns)",
                expected: self.d,
                got: x.ncols(),
            });
        }
        check_finite_matrix(x, "query points")
    }

    fn units(&self, x: &DMatrix<f64>) -> Vec<f64> {
        let m = x.nrows();
        let mut u = vec![0.0; m * self.d];
        let mut row = vec![0.0; self.d];
        for j in 0..m {
            for k in 0..self.d {
                row[k] = x[(j, k)];
            }
            self.to_unit(&row, &mut u[j * self.d..(j + 1) * self.d]);
        }
        u
    }

    /// Cross-covariance `K(X_train, U)` (n × m) and the prior variances at `U`, standardized.
    fn cross(&self, u: &[f64], m: usize) -> (DMatrix<f64>, Vec<f64>) {
        use rayon::prelude::*;
        let n = self.n();
        let s = self.outputscale;
        let d = self.d;
        let mut ks = DMatrix::zeros(n, m);
        let fill = |j: usize, col: &mut [f64]| {
            let uj = &u[j * d..(j + 1) * d];
            for (i, c) in col.iter_mut().enumerate() {
                *c = s * self.node.value(&self.nat, self.row(i), uj);
            }
        };
        if n * m >= 1 << 18 && n > 0 {
            ks.as_mut_slice()
                .par_chunks_mut(n)
                .enumerate()
                .for_each(|(j, col)| fill(j, col));
        } else if n > 0 {
            for (j, col) in ks.as_mut_slice().chunks_mut(n).enumerate() {
                fill(j, col);
            }
        }
        let prior = (0..m)
            .map(|j| {
                let uj = &u[j * d..(j + 1) * d];
                s * self.node.value(&self.nat, uj, uj)
            })
            .collect();
        (ks, prior)
    }

    /// Posterior mean at each row of `x`.
    pub fn predict(&self, x: &DMatrix<f64>) -> Result<DVector<f64>, GpError> {
        self.check_query(x)?;
        let m = x.nrows();
        let u = self.units(x);
        let (ks, _) = self.cross(&u, m);
        let alpha = DVector::from_column_slice(&self.alpha);
        let mean = ks.tr_mul(&alpha);
        Ok(mean.map(|v| v * self.y_scale + self.y_mean))
    }

    /// Posterior mean, latent variance and observation variance at each row of `x`.
    pub fn predict_var(&self, x: &DMatrix<f64>) -> Result<Prediction, GpError> {
        self.check_query(x)?;
        let m = x.nrows();
        let u = self.units(x);
        let (mut ks, prior) = self.cross(&u, m);
        let alpha = DVector::from_column_slice(&self.alpha);
        let mean = ks.tr_mul(&alpha);
        linalg::solve_lower_in_place(&self.l, &mut ks);
        let ys2 = self.y_scale * self.y_scale;
        let mut var_f = DVector::zeros(m);
        for j in 0..m {
            let q: f64 = ks.column(j).iter().map(|v| v * v).sum();
            var_f[j] = (prior[j] - q).max(MIN_VARIANCE);
        }
        let noise = self.noise + self.jitter;
        Ok(Prediction {
            mean: mean.map(|v| v * self.y_scale + self.y_mean),
            var_y: var_f.map(|v| (v + noise) * ys2),
            var_f: var_f.map(|v| v * ys2),
        })
    }

    /// Posterior mean and the joint covariance of the latent function at the rows of `x`.
    pub fn predict_cov(&self, x: &DMatrix<f64>) -> Result<(DVector<f64>, DMatrix<f64>), GpError> {
        self.check_query(x)?;
        let m = x.nrows();
        let u = self.units(x);
        let (mut ks, _) = self.cross(&u, m);
        let alpha = DVector::from_column_slice(&self.alpha);
        let mean = ks.tr_mul(&alpha);
        linalg::solve_lower_in_place(&self.l, &mut ks);
        let s = self.outputscale;
        let mut cov = DMatrix::from_fn(m, m, |a, b| {
            s * self.node.value(
                &self.nat,
                &u[a * self.d..(a + 1) * self.d],
                &u[b * self.d..(b + 1) * self.d],
            )
        });
        cov -= ks.tr_mul(&ks);
        let ys2 = self.y_scale * self.y_scale;
        for a in 0..m {
            cov[(a, a)] = cov[(a, a)].max(MIN_VARIANCE);
        }
        // Symmetrize against round-off.
        let cov = DMatrix::from_fn(m, m, |a, b| 0.5 * (cov[(a, b)] + cov[(b, a)]) * ys2);
        Ok((mean.map(|v| v * self.y_scale + self.y_mean), cov))
    }

    /// Mean and latent variance at one point (user units), without allocating a matrix. The
    /// fast path for acquisition functions.
    pub fn predict_point(&self, x: &[f64]) -> Result<(f64, f64), GpError> {
        self.check_point(x)?;
        let mut u = vec![0.0; self.d];
        self.to_unit(x, &mut u);
        let n = self.n();
        let s = self.outputscale;
        let mut k: Vec<f64> = (0..n)
            .map(|i| s * self.node.value(&self.nat, self.row(i), &u))
            .collect();
        let mean = linalg::dot(&k, &self.alpha);
        linalg::solve_lower_vec(&self.l, &mut k);
        let q = linalg::dot(&k, &k);
        let var = (s * self.node.value(&self.nat, &u, &u) - q).max(MIN_VARIANCE);
        Ok((
            mean * self.y_scale + self.y_mean,
            var * self.y_scale * self.y_scale,
        ))
    }

    fn check_point(&self, x: &[f64]) -> Result<(), GpError> {
        if x.len() != self.d {
            return Err(GpError::ShapeMismatch {
                what: "query point",
                expected: self.d,
                got: x.len(),
            });
        }
        for (k, v) in x.iter().enumerate() {
            if !v.is_finite() {
                return Err(GpError::NonFinite {
                    what: "query point",
                    row: 0,
                    col: k,
                    value: *v,
                });
            }
        }
        Ok(())
    }

    /// Mean and latent variance at one point with their gradients with respect to the point
    /// (user units). Categorical dimensions get a zero gradient.
    pub fn predict_gradients(&self, x: &[f64]) -> Result<PointGradients, GpError> {
        self.check_point(x)?;
        let d = self.d;
        let mut u = vec![0.0; d];
        self.to_unit(x, &mut u);
        let n = self.n();
        let s = self.outputscale;
        // One kernel evaluation per training point gives k*_i and ∂k*_i/∂u (rows of `g`).
        let mut kvec = vec![0.0; n];
        let mut g = vec![0.0; n * d];
        for i in 0..n {
            kvec[i] = s * self.node.accumulate_input_grad(
                &self.nat,
                &u,
                self.row(i),
                s,
                &mut g[i * d..(i + 1) * d],
            );
        }
        let mean = linalg::dot(&kvec, &self.alpha);
        let mut v = kvec;
        linalg::solve_lower_vec(&self.l, &mut v);
        let q = linalg::dot(&v, &v);
        let raw_var = s * self.node.value(&self.nat, &u, &u) - q;
        let var = raw_var.max(MIN_VARIANCE);
        // w = K⁻¹ k*
        let mut w = v;
        linalg::solve_upper_t_vec(&self.l, &mut w);
        let mut dmean = vec![0.0; d];
        let mut dvar = vec![0.0; d];
        for i in 0..n {
            let (a, b) = (self.alpha[i], -2.0 * w[i]);
            for (k, gk) in g[i * d..(i + 1) * d].iter().enumerate() {
                dmean[k] += a * gk;
                dvar[k] += b * gk;
            }
        }
        let clamped = raw_var < MIN_VARIANCE;
        let ys = self.y_scale;
        for k in 0..d {
            dmean[k] *= ys / self.x_scale[k];
            dvar[k] = if clamped {
                0.0
            } else {
                dvar[k] * ys * ys / self.x_scale[k]
            };
        }
        Ok(PointGradients {
            mean: mean * ys + self.y_mean,
            var_f: var * ys * ys,
            dmean,
            dvar,
        })
    }

    /// `n_samples` joint draws of the latent function at the rows of `x` (one draw per row of
    /// the result, one column per point), for Thompson sampling.
    pub fn sample<R: Rng + ?Sized>(
        &self,
        x: &DMatrix<f64>,
        n_samples: usize,
        rng: &mut R,
    ) -> Result<DMatrix<f64>, GpError> {
        let (mean, cov) = self.predict_cov(x)?;
        let m = x.nrows();
        let mut l = DMatrix::zeros(m, m);
        linalg::cholesky_jittered(&cov, &mut l)?;
        let mut out = DMatrix::zeros(n_samples, m);
        let mut z = vec![0.0; m];
        for s in 0..n_samples {
            for zi in z.iter_mut() {
                *zi = rng.sample(StandardNormal);
            }
            for a in 0..m {
                let mut v = mean[a];
                for b in 0..=a {
                    v += l[(a, b)] * z[b];
                }
                out[(s, a)] = v;
            }
        }
        Ok(out)
    }

    /// The posterior after also observing `y_new` at `x_new`, with the same hyperparameters and
    /// the same input/output scaling (no refit). Used for pending trials and fantasies. Costs
    /// O(n²m) by extending the Cholesky factor ([`GaussianProcess::add_observations`] on a
    /// copy).
    pub fn condition(
        &self,
        x_new: &DMatrix<f64>,
        y_new: &DVector<f64>,
    ) -> Result<GaussianProcess, GpError> {
        let mut out = self.clone();
        out.add_observations(x_new, y_new)?;
        Ok(out)
    }

    /// Adds the observations `y_new` at the rows of `x_new` to the model in place, keeping its
    /// hyperparameters and its input/output scaling: the Cholesky factor is extended by the
    /// new rows (O(n²m) for m new points, against O((n + m)³) for a refactorization), so a
    /// study that grows by one trial at a time pays O(n²) per trial. The result is the exact
    /// posterior of the enlarged data under the old hyperparameters (the same, to rounding, as
    /// a fit with [`crate::Tuning::Fixed`] of these hyperparameters and this scaling).
    ///
    /// ```
    /// use nasbo_gp::nalgebra::{DMatrix, DVector};
    /// use nasbo_gp::GpParams;
    /// let x = DMatrix::from_fn(12, 1, |i, _| i as f64 / 11.0);
    /// let y = x.map(|v| (5.0 * v).sin()).column(0).into_owned();
    /// let mut gp = GpParams::default().fit(&x, &y)?;
    /// gp.add_observations(&DMatrix::from_element(1, 1, 0.53), &DVector::from_element(1, 0.48))?;
    /// assert_eq!(gp.n(), 13);
    /// assert!((gp.predict_point(&[0.53])?.0 - 0.48).abs() < 0.01);
    /// # Ok::<(), nasbo_gp::GpError>(())
    /// ```
    ///
    /// Errors (the model is unchanged): [`GpError::ShapeMismatch`], [`GpError::NonFinite`],
    /// and [`GpError::NotPositiveDefinite`] when the new block stays indefinite with jitter.
    pub fn add_observations(
        &mut self,
        x_new: &DMatrix<f64>,
        y_new: &DVector<f64>,
    ) -> Result<(), GpError> {
        self.check_query(x_new)?;
        let m = x_new.nrows();
        if y_new.len() != m {
            return Err(GpError::ShapeMismatch {
                what: "y_new (one value per row of x_new)",
                expected: m,
                got: y_new.len(),
            });
        }
        crate::params::check_finite_vector(y_new, "y_new")?;
        if m == 0 {
            return Ok(());
        }
        let n = self.n();
        let u = self.units(x_new);
        let (mut b, _) = self.cross(&u, m);
        linalg::solve_lower_in_place(&self.l, &mut b); // B = L⁻¹ K₁₂
        let s = self.outputscale;
        let diag = self.noise + self.jitter;
        let mut schur = DMatrix::from_fn(m, m, |a, c| {
            s * self.node.value(
                &self.nat,
                &u[a * self.d..(a + 1) * self.d],
                &u[c * self.d..(c + 1) * self.d],
            ) + if a == c { diag } else { 0.0 }
        });
        schur -= b.tr_mul(&b);
        let mut c = DMatrix::zeros(m, m);
        let extra = linalg::cholesky_jittered(&schur, &mut c)?;
        let total = n + m;
        let mut l = DMatrix::zeros(total, total);
        l.view_mut((0, 0), (n, n)).copy_from(&self.l);
        l.view_mut((n, 0), (m, n)).copy_from(&b.transpose());
        l.view_mut((n, n), (m, m)).copy_from(&c);
        self.x.extend_from_slice(&u);
        self.y
            .extend(y_new.iter().map(|v| (v - self.y_mean) / self.y_scale));
        let mut alpha = DMatrix::from_column_slice(total, 1, &self.y);
        linalg::solve_lower_in_place(&l, &mut alpha);
        let quad: f64 = alpha.iter().map(|v| v * v).sum();
        linalg::solve_upper_t_in_place(&l, &mut alpha);
        let logdet: f64 = (0..total).map(|i| l[(i, i)].ln()).sum();
        self.nll_std = 0.5 * quad + logdet + 0.5 * total as f64 * (2.0 * std::f64::consts::PI).ln();
        self.l = l;
        self.alpha = alpha.as_slice().to_vec();
        self.jitter = self.jitter.max(extra);
        Ok(())
    }
}
