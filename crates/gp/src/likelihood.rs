//! The MAP objective: negative log marginal likelihood plus negative log priors, with its
//! analytic gradient in log-parameter space, and the adapter that lets argmin's L-BFGS
//! minimize it.
//!
//! Parameter vector `θ` (all natural logarithms):
//! `[kernel parameters (lengthscales, sum weights)…, ln outputscale, ln(noise − floor)]`,
//! the last entry only when the noise is learned.

use std::cell::RefCell;

use argmin::core::{CostFunction, Error as ArgminError, Gradient};
use nalgebra::{DMatrix, DVector};
use rayon::prelude::*;

use crate::kernel::{Natural, Node, ParamKind};
use crate::linalg;
use crate::prior::Priors;
use crate::GpError;

/// How the noise enters the objective.
#[derive(Clone, Copy, Debug, PartialEq)]
pub(crate) enum NoiseMode {
    /// `σ² = floor + exp(θ_noise)`.
    Learned { floor: f64 },
    /// A fixed variance in standardized units.
    Fixed(f64),
}

/// Training data in model units: inputs in the unit cube (row-major), outputs standardized.
pub(crate) struct Data<'a> {
    pub x: &'a [f64],
    pub y: &'a [f64],
    pub n: usize,
    pub d: usize,
}

impl Data<'_> {
    #[inline]
    pub fn row(&self, i: usize) -> &[f64] {
        &self.x[i * self.d..(i + 1) * self.d]
    }
}

/// Smallest n for which the O(n²) kernel passes run on all cores.
const PARALLEL_MIN_N: usize = 256;
/// Columns per block of the parallel gradient pass.
const GRAD_BLOCK: usize = 8;

/// Per-thread accumulator of the gradient pass.
struct GradAcc {
    grad: Vec<f64>,
    g_scale: f64,
    trace_w: f64,
}

impl GradAcc {
    fn new(np: usize) -> Self {
        GradAcc {
            grad: vec![0.0; np],
            g_scale: 0.0,
            trace_w: 0.0,
        }
    }
    fn merge(mut self, other: GradAcc) -> GradAcc {
        for (a, b) in self.grad.iter_mut().zip(&other.grad) {
            *a += b;
        }
        self.g_scale += other.g_scale;
        self.trace_w += other.trace_w;
        self
    }
}

/// Buffers reused across evaluations: nothing of size n² is allocated inside the loop.
pub(crate) struct Workspace {
    pub k: DMatrix<f64>,
    pub l: DMatrix<f64>,
    pub kinv: DMatrix<f64>,
    pub alpha: DMatrix<f64>,
    pub nat: Natural,
    pub grad: Vec<f64>,
    pub jitter: f64,
    /// `dk/d(r²)` per pair (lower triangle), kept by `factorize` on the single-stationary-kernel
    /// fast path so the gradient pass needs no `exp`.
    pub slope: DMatrix<f64>,
}

impl Workspace {
    pub fn new(n: usize, n_theta: usize) -> Self {
        Workspace {
            k: DMatrix::zeros(n, n),
            l: DMatrix::zeros(n, n),
            kinv: DMatrix::zeros(n, n),
            alpha: DMatrix::zeros(n, 1),
            nat: Natural::default(),
            grad: vec![0.0; n_theta],
            jitter: 0.0,
            slope: DMatrix::zeros(0, 0),
        }
    }
}

/// A point with its cost and gradient.
type CachedEval = (Vec<f64>, f64, Vec<f64>);

/// The objective for one data set and kernel.
pub(crate) struct Objective<'a> {
    pub data: Data<'a>,
    pub node: &'a Node,
    pub kinds: Vec<ParamKind>,
    pub priors: Priors,
    pub noise: NoiseMode,
    pub ws: RefCell<Workspace>,
    /// Last evaluated point with its cost and gradient (argmin asks for cost and gradient
    /// separately at the same point).
    cache: RefCell<Option<CachedEval>>,
}

impl<'a> Objective<'a> {
    pub fn new(data: Data<'a>, node: &'a Node, priors: Priors, noise: NoiseMode) -> Self {
        let kp = node.n_params();
        let n_theta = kp + 1 + usize::from(matches!(noise, NoiseMode::Learned { .. }));
        let n = data.n;
        Objective {
            data,
            node,
            kinds: node.param_kinds(),
            priors,
            noise,
            ws: RefCell::new(Workspace::new(n, n_theta)),
            cache: RefCell::new(None),
        }
    }

    pub fn n_theta(&self) -> usize {
        self.node.n_params() + 1 + usize::from(matches!(self.noise, NoiseMode::Learned { .. }))
    }

    /// Output scale and noise variance (standardized units) for `θ`.
    pub fn scale_and_noise(&self, theta: &[f64]) -> (f64, f64) {
        let kp = self.node.n_params();
        let s = theta[kp].exp();
        let noise = match self.noise {
            NoiseMode::Learned { floor } => floor + theta[kp + 1].exp(),
            NoiseMode::Fixed(v) => v,
        };
        (s, noise)
    }

    /// Builds the covariance, factorizes it and solves for α. Returns the negative log marginal
    /// likelihood (without priors). The factor, α and the jitter stay in the workspace.
    pub fn factorize(&self, theta: &[f64]) -> Result<f64, GpError> {
        let mut guard = self.ws.borrow_mut();
        let ws = &mut *guard;
        let n = self.data.n;
        let kp = self.node.n_params();
        ws.nat.set_from_log(&theta[..kp]);
        let (s, noise) = self.scale_and_noise(theta);
        let data = &self.data;
        let node = self.node;
        let nat = &ws.nat;
        let parallel = n >= PARALLEL_MIN_N;
        if let Node::Stationary { family, dims, .. } = node {
            // Fast path: one stationary kernel. Keep dk/d(r²) for the gradient pass.
            if ws.slope.shape() != (n, n) {
                ws.slope = DMatrix::zeros(n, n);
            }
            let inv = &nat.inv;
            let fill = |j: usize, kcol: &mut [f64], scol: &mut [f64]| {
                let xj = data.row(j);
                for i in j..n {
                    let xi = data.row(i);
                    let mut r2 = 0.0;
                    for (q, &k) in dims.iter().enumerate() {
                        let t = (xi[k] - xj[k]) * inv[q];
                        r2 += t * t;
                    }
                    let (v, slope) = family.value_and_slope(r2);
                    kcol[i] = s * v;
                    scol[i] = slope;
                }
                kcol[j] += noise;
            };
            if parallel {
                ws.k.as_mut_slice()
                    .par_chunks_mut(n)
                    .zip(ws.slope.as_mut_slice().par_chunks_mut(n))
                    .enumerate()
                    .for_each(|(j, (kcol, scol))| fill(j, kcol, scol));
            } else {
                let kc = ws.k.as_mut_slice().chunks_mut(n.max(1));
                let sc = ws.slope.as_mut_slice().chunks_mut(n.max(1));
                for (j, (kcol, scol)) in kc.zip(sc).enumerate() {
                    fill(j, kcol, scol);
                }
            }
        } else {
            let fill = |j: usize, kcol: &mut [f64]| {
                let xj = data.row(j);
                for (i, kv) in kcol.iter_mut().enumerate().skip(j) {
                    *kv = s * node.value(nat, data.row(i), xj);
                }
                kcol[j] += noise;
            };
            if parallel {
                ws.k.as_mut_slice()
                    .par_chunks_mut(n)
                    .enumerate()
                    .for_each(|(j, kcol)| fill(j, kcol));
            } else {
                for (j, kcol) in ws.k.as_mut_slice().chunks_mut(n.max(1)).enumerate() {
                    fill(j, kcol);
                }
            }
        }
        ws.jitter = linalg::cholesky_jittered(&ws.k, &mut ws.l)?;
        for i in 0..n {
            ws.alpha[(i, 0)] = self.data.y[i];
        }
        linalg::solve_lower_in_place(&ws.l, &mut ws.alpha);
        let quad: f64 = ws.alpha.iter().map(|v| v * v).sum();
        linalg::solve_upper_t_in_place(&ws.l, &mut ws.alpha);
        let logdet: f64 = (0..n).map(|i| ws.l[(i, i)].ln()).sum();
        let nll = 0.5 * quad + logdet + 0.5 * n as f64 * (2.0 * std::f64::consts::PI).ln();
        if !nll.is_finite() {
            return Err(GpError::NotPositiveDefinite { jitter: ws.jitter });
        }
        Ok(nll)
    }

    /// Negative log prior and its gradient (added into `grad`).
    fn add_priors(&self, theta: &[f64], grad: &mut [f64]) -> f64 {
        let kp = self.node.n_params();
        let mut f = 0.0;
        for (j, kind) in self.kinds.iter().enumerate() {
            let prior = match kind {
                ParamKind::Lengthscale { .. } | ParamKind::CategoricalLengthscale { .. } => {
                    self.priors.lengthscale
                }
                ParamKind::SumWeight => self.priors.sum_weight,
            };
            if let Some(p) = prior {
                let (v, g) = p.neg_log_density(theta[j]);
                f += v;
                grad[j] += g;
            }
        }
        if let Some(p) = self.priors.outputscale {
            let (v, g) = p.neg_log_density(theta[kp]);
            f += v;
            grad[kp] += g;
        }
        if let (NoiseMode::Learned { .. }, Some(p)) = (self.noise, self.priors.noise) {
            let (v, g) = p.neg_log_density(theta[kp + 1]);
            f += v;
            grad[kp + 1] += g;
        }
        f
    }

    /// Cost only: negative log posterior (up to a constant).
    pub fn cost_only(&self, theta: &[f64]) -> Result<f64, GpError> {
        let nll = self.factorize(theta)?;
        let mut scratch = vec![0.0; theta.len()];
        Ok(nll + self.add_priors(theta, &mut scratch))
    }

    /// Cost and gradient of the negative log posterior.
    pub fn cost_and_grad(&self, theta: &[f64]) -> Result<(f64, Vec<f64>), GpError> {
        if let Some((t, f, g)) = self.cache.borrow().as_ref() {
            if t.as_slice() == theta {
                return Ok((*f, g.clone()));
            }
        }
        let nll = self.factorize(theta)?;
        let mut guard = self.ws.borrow_mut();
        let ws = &mut *guard;
        let n = self.data.n;
        let kp = self.node.n_params();
        let (s, _) = self.scale_and_noise(theta);
        linalg::inverse_from_cholesky(&ws.l, &mut ws.kinv);
        // dNLL/dθ = -½ tr(W ∂K/∂θ), W = ααᵀ − K⁻¹; sum over the lower triangle, one column
        // at a time (in parallel for large n).
        let (_, noise) = self.scale_and_noise(theta);
        let np = ws.grad.len();
        let data = &self.data;
        let node = self.node;
        let (k, kinv, alpha, slope, nat) = (&ws.k, &ws.kinv, &ws.alpha, &ws.slope, &ws.nat);
        let column = |j: usize, acc: &mut GradAcc| {
            let xj = data.row(j);
            let aj = alpha[(j, 0)];
            match node {
                Node::Stationary { dims, .. } => {
                    let inv = &nat.inv;
                    let w = alpha[(j, 0)] * aj - kinv[(j, j)];
                    acc.trace_w += w;
                    acc.g_scale += -0.5 * w * (k[(j, j)] - noise);
                    for i in (j + 1)..n {
                        let w = alpha[(i, 0)] * aj - kinv[(i, j)];
                        acc.g_scale -= w * k[(i, j)];
                        let xi = data.row(i);
                        let f = 2.0 * w * s * slope[(i, j)];
                        for (q, &kk) in dims.iter().enumerate() {
                            let t = (xi[kk] - xj[kk]) * inv[q];
                            acc.grad[q] += f * t * t;
                        }
                    }
                }
                _ => {
                    for i in j..n {
                        let w = alpha[(i, 0)] * aj - kinv[(i, j)];
                        let c = if i == j {
                            acc.trace_w += w;
                            -0.5 * w
                        } else {
                            -w
                        };
                        let kv =
                            node.accumulate_param_grad(nat, data.row(i), xj, c * s, &mut acc.grad);
                        acc.g_scale += c * s * kv;
                    }
                }
            }
        };
        let acc = if n >= PARALLEL_MIN_N {
            // Fixed blocks of columns, summed in block order: the result does not depend on
            // how the work was split between threads (a fold/reduce would sum in a different
            // order from run to run, and the fit would not be reproducible).
            let blocks: Vec<GradAcc> = (0..n.div_ceil(GRAD_BLOCK))
                .into_par_iter()
                .map(|b| {
                    let mut acc = GradAcc::new(np);
                    for j in (b * GRAD_BLOCK)..((b + 1) * GRAD_BLOCK).min(n) {
                        column(j, &mut acc);
                    }
                    acc
                })
                .collect();
            blocks.into_iter().fold(GradAcc::new(np), GradAcc::merge)
        } else {
            let mut acc = GradAcc::new(np);
            for j in 0..n {
                column(j, &mut acc);
            }
            acc
        };
        let grad = &mut ws.grad;
        grad.copy_from_slice(&acc.grad);
        let (g_scale, trace_w) = (acc.g_scale, acc.trace_w);
        grad[kp] = g_scale;
        if let NoiseMode::Learned { .. } = self.noise {
            grad[kp + 1] = -0.5 * theta[kp + 1].exp() * trace_w;
        }
        let mut g = grad.clone();
        drop(guard);
        let f = nll + self.add_priors(theta, &mut g);
        if !f.is_finite() || g.iter().any(|v| !v.is_finite()) {
            return Err(GpError::NotPositiveDefinite { jitter: 0.0 });
        }
        *self.cache.borrow_mut() = Some((theta.to_vec(), f, g.clone()));
        Ok((f, g))
    }
}

/// argmin adapter. The objective is divided by the number of observations so that its
/// gradient is O(1) whatever n is (L-BFGS's first step is a plain gradient step); a point where
/// the covariance cannot be factorized gets a large finite cost, so the line search backs off
/// instead of ending the run.
pub(crate) struct ArgminObjective<'o, 'a>(pub &'o Objective<'a>);

/// Cost (per observation) reported where the covariance cannot be factorized.
const WALL: f64 = 1e10;

impl ArgminObjective<'_, '_> {
    fn eval(&self, p: &DVector<f64>) -> (f64, Vec<f64>) {
        let scale = 1.0 / self.0.data.n.max(1) as f64;
        match self.0.cost_and_grad(p.as_slice()) {
            Ok((f, g)) => (f * scale, g.into_iter().map(|v| v * scale).collect()),
            Err(_) => (WALL, vec![0.0; p.len()]),
        }
    }
}

impl CostFunction for ArgminObjective<'_, '_> {
    type Param = DVector<f64>;
    type Output = f64;
    fn cost(&self, p: &Self::Param) -> Result<f64, ArgminError> {
        Ok(self.eval(p).0)
    }
}

impl Gradient for ArgminObjective<'_, '_> {
    type Param = DVector<f64>;
    type Gradient = DVector<f64>;
    fn gradient(&self, p: &Self::Param) -> Result<DVector<f64>, ArgminError> {
        Ok(DVector::from_vec(self.eval(p).1))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::Kernel;
    use proptest::prelude::*;

    fn data(n: usize, d: usize, seed: u64) -> (Vec<f64>, Vec<f64>) {
        // A deterministic scatter in the unit cube with a smooth response.
        let mut x = Vec::with_capacity(n * d);
        let mut s = seed
            .wrapping_mul(6364136223846793005)
            .wrapping_add(1442695040888963407);
        for _ in 0..n * d {
            s = s
                .wrapping_mul(6364136223846793005)
                .wrapping_add(1442695040888963407);
            x.push((s >> 11) as f64 / (1u64 << 53) as f64);
        }
        let y: Vec<f64> = (0..n)
            .map(|i| (5.0 * x[i * d]).sin() + x[i * d + d - 1] * 0.5 - 0.2)
            .collect();
        (x, y)
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(24))]
        #[test]
        fn log_posterior_gradient_matches_finite_differences(
            which in 0usize..4,
            seed in 0u64..1000,
            theta in prop::collection::vec(-1.0f64..1.0, 8),
            learned in any::<bool>(),
        ) {
            let kernel = [
                Kernel::matern52(),
                Kernel::rbf() * Kernel::hamming().on(vec![2]),
                Kernel::matern32().on(vec![0]) + Kernel::matern12().on(vec![1, 2]),
                Kernel::matern52().on(vec![0, 1]),
            ][which].clone();
            let (mut x, y) = data(12, 3, seed);
            // Make the third column categorical-looking for the Hamming kernel.
            for i in 0..12 { x[i * 3 + 2] = (i % 3) as f64; }
            let node = kernel.resolve(3).unwrap();
            let noise = if learned { NoiseMode::Learned { floor: 1e-6 } } else { NoiseMode::Fixed(0.05) };
            let obj = Objective::new(Data { x: &x, y: &y, n: 12, d: 3 }, &node, Priors::default_for(3), noise);
            let nt = obj.n_theta();
            let mut t: Vec<f64> = theta[..nt].to_vec();
            if learned { t[nt - 1] -= 3.0; }
            let (f, g) = obj.cost_and_grad(&t).unwrap();
            prop_assert!((f - obj.cost_only(&t).unwrap()).abs() < 1e-9);
            let h = 1e-5;
            for j in 0..nt {
                let mut tp = t.clone();
                let mut tm = t.clone();
                tp[j] += h;
                tm[j] -= h;
                let fd = (obj.cost_only(&tp).unwrap() - obj.cost_only(&tm).unwrap()) / (2.0 * h);
                prop_assert!((fd - g[j]).abs() < 1e-5 * (1.0 + fd.abs()),
                    "kernel {which} θ[{j}]: analytic {} vs fd {fd}", g[j]);
            }
        }
    }
}

#[cfg(test)]
mod parallel_tests {
    use super::*;
    use crate::Kernel;

    /// The gradient pass runs in parallel from `PARALLEL_MIN_N` points: check it there, on the
    /// fast path and on the general one.
    #[test]
    fn parallel_gradient_matches_finite_differences() {
        let n = PARALLEL_MIN_N + 20;
        let d = 2;
        let x: Vec<f64> = (0..n * d)
            .map(|i| ((i * 7919) % 1009) as f64 / 1009.0)
            .collect();
        let y: Vec<f64> = (0..n)
            .map(|i| (4.0 * x[i * d]).sin() + x[i * d + 1])
            .collect();
        for kernel in [
            Kernel::matern52(),
            Kernel::rbf().on(vec![0]) * Kernel::matern32().on(vec![1]),
        ] {
            let node = kernel.resolve(d).unwrap();
            let obj = Objective::new(
                Data { x: &x, y: &y, n, d },
                &node,
                Priors::default_for(d),
                NoiseMode::Learned { floor: 1e-6 },
            );
            let t = vec![-1.0, -0.5, 0.2, -3.0];
            let (_, g) = obj.cost_and_grad(&t).unwrap();
            for j in 0..t.len() {
                let h = 1e-5;
                let mut tp = t.clone();
                let mut tm = t.clone();
                tp[j] += h;
                tm[j] -= h;
                let fd = (obj.cost_only(&tp).unwrap() - obj.cost_only(&tm).unwrap()) / (2.0 * h);
                assert!(
                    (fd - g[j]).abs() < 1e-5 * (1.0 + fd.abs()),
                    "θ[{j}]: {} vs {fd}",
                    g[j]
                );
            }
        }
    }
}
