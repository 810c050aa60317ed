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

/// Buffers reused across evaluations: nothing of size n² is allocated inside the loop.
pub(crate) struct Workspace {
    pub k: DMatrix<f64>,
    pub l: DMatrix<f64>,
    pub kinv: DMatrix<f64>,
    pub alpha: DMatrix<f64>,
    pub nat: Natural,
    pub grad: Vec<f64>,
    pub jitter: f64,
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
        }
    }
}

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
    cache: RefCell<Option<(Vec<f64>, f64, Vec<f64>)>>,
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
        for j in 0..n {
            let xj = self.data.row(j);
            for i in j..n {
                let v = s * self.node.value(&ws.nat, self.data.row(i), xj);
                ws.k[(i, j)] = v;
            }
            ws.k[(j, j)] += noise;
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
        let grad = &mut ws.grad;
        grad.iter_mut().for_each(|g| *g = 0.0);
        // dNLL/dθ = -½ tr(W ∂K/∂θ), W = ααᵀ − K⁻¹; sum over the lower triangle.
        let mut g_scale = 0.0;
        let mut trace_w = 0.0;
        for j in 0..n {
            let xj = self.data.row(j);
            let aj = ws.alpha[(j, 0)];
            for i in j..n {
                let w = ws.alpha[(i, 0)] * aj - ws.kinv[(i, j)];
                let c = if i == j {
                    trace_w += w;
                    -0.5 * w
                } else {
                    -w
                };
                let k =
                    self.node
                        .accumulate_param_grad(&ws.nat, self.data.row(i), xj, c * s, grad);
                g_scale += c * s * k;
            }
        }
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

/// argmin adapter.
pub(crate) struct ArgminObjective<'o, 'a>(pub &'o Objective<'a>);

impl CostFunction for ArgminObjective<'_, '_> {
    type Param = DVector<f64>;
    type Output = f64;
    fn cost(&self, p: &Self::Param) -> Result<f64, ArgminError> {
        Ok(self.0.cost_and_grad(p.as_slice())?.0)
    }
}

impl Gradient for ArgminObjective<'_, '_> {
    type Param = DVector<f64>;
    type Gradient = DVector<f64>;
    fn gradient(&self, p: &Self::Param) -> Result<DVector<f64>, ArgminError> {
        Ok(DVector::from_vec(self.0.cost_and_grad(p.as_slice())?.1))
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
        let mut s = seed.wrapping_mul(6364136223846793005).wrapping_add(1442695040888963407);
        for _ in 0..n * d {
            s = s.wrapping_mul(6364136223846793005).wrapping_add(1442695040888963407);
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
