//! Expected hypervolume improvement over a Pareto front, for several objectives modelled by
//! independent surrogates: [`LogExpectedHypervolumeImprovement`].
//!
//! The region above the reference point that the front does not dominate is cut into disjoint
//! boxes on the grid of the front's coordinates (the first `k − 1` objectives' intervals; the
//! last objective's extent is open above a per-cell lower bound). A point `y` adds
//! `Σ_boxes Π_j max(0, min(y_j, u_j) − l_j)` of hypervolume, and with independent Gaussian
//! objectives each factor has a closed-form expectation,
//! `E[max(0, min(Y, u) − l)] = σ (h((μ − l)/σ) − h((μ − u)/σ))` with `h(z) = φ(z) + zΦ(z)`.
//! The sum is exact (not a Monte Carlo estimate) and is computed in log space, like LogEI, so
//! it stays finite and informative far from the front.

use nalgebra::DMatrix;

use crate::functions::{AcquisitionFunction, MIN_VARIANCE};
use crate::special::{dlog_ei_h, log1mexp, log_ei_h, log_norm_cdf};
use crate::surrogate::Surrogate;
use crate::AcqError;

/// The most boxes a decomposition may have (`(front size + 1)^(k − 1)`).
pub const MAX_BOXES: usize = 1 << 20;

/// Log expected hypervolume improvement (LogEHVI) of one new point over a front, every
/// objective **maximized**, each modelled by its own surrogate (taken as independent).
///
/// ```
/// use nalgebra::DMatrix;
/// use nasbo_acq::{AcqError, AcquisitionFunction, Domain, LogExpectedHypervolumeImprovement,
///     OptimizerConfig, optimize};
/// use nasbo_gp::GpParams;
///
/// // Two conflicting objectives of x in [0, 1], both maximized: -x² and -(x - 1)².
/// let x = DMatrix::from_column_slice(5, 1, &[0.0, 0.1, 0.5, 0.9, 1.0]);
/// let f1 = x.map(|v| -v * v).column(0).into_owned();
/// let f2 = x.map(|v| -(v - 1.0) * (v - 1.0)).column(0).into_owned();
/// let (g1, g2) = (GpParams::default().fit(&x, &f1)?, GpParams::default().fit(&x, &f2)?);
/// let front: Vec<Vec<f64>> = (0..5).map(|i| vec![f1[i], f2[i]]).collect();
/// let acq = LogExpectedHypervolumeImprovement::new(vec![&g1, &g2], &front, &[-1.1, -1.1])?;
/// let evaluated: Vec<Vec<f64>> = x.row_iter().map(|r| vec![r[0]]).collect();
/// let next = optimize(&acq, &Domain::continuous(&[0.0], &[1.0])?, &OptimizerConfig::default(), &evaluated)?;
/// // The largest gaps of the front are between 0.1 and 0.5 and between 0.5 and 0.9.
/// assert!((0.15..0.85).contains(&next.x[0]) && (next.x[0] - 0.5).abs() > 0.05, "{:?}", next.x);
/// # Ok::<(), AcqError>(())
/// ```
pub struct LogExpectedHypervolumeImprovement<'m, S> {
    models: Vec<&'m S>,
    /// Per objective, the sorted grid coordinates above the reference (the reference first).
    grid: Vec<Vec<f64>>,
    /// Per box: for each of the first `k − 1` objectives the interval index, then the index of
    /// the last objective's lower bound in its grid.
    boxes: Vec<Vec<usize>>,
}

impl<'m, S: Surrogate> LogExpectedHypervolumeImprovement<'m, S> {
    /// LogEHVI over `front` (points in the models' output space, one coordinate per model;
    /// dominated points are allowed and ignored) above `reference`. Needs at least two
    /// models of the same input dimension and a finite reference with one coordinate per model.
    pub fn new(
        models: Vec<&'m S>,
        front: &[Vec<f64>],
        reference: &[f64],
    ) -> Result<Self, AcqError> {
        let k = models.len();
        let bad = |reason: String| AcqError::InvalidConfig {
            name: "hypervolume improvement",
            value: format!("{k} models"),
            reason,
        };
        if k < 2 {
            return Err(bad("needs at least two objectives".into()));
        }
        if models.iter().any(|m| m.dim() != models[0].dim()) {
            return Err(bad("the models' input dimensions differ".into()));
        }
        if reference.len() != k || !reference.iter().all(|r| r.is_finite()) {
            return Err(bad(format!(
                "the reference point must be finite with {k} coordinates, got {reference:?}"
            )));
        }
        if let Some(p) = front.iter().find(|p| p.len() != k) {
            return Err(bad(format!("a front point has {} coordinates", p.len())));
        }
        // Only points strictly above the reference everywhere matter.
        let pts: Vec<&Vec<f64>> = front
            .iter()
            .filter(|p| p.iter().zip(reference).all(|(v, r)| v.is_finite() && v > r))
            .collect();
        let grid: Vec<Vec<f64>> = (0..k)
            .map(|j| {
                let mut c: Vec<f64> = pts.iter().map(|p| p[j]).collect();
                c.push(reference[j]);
                c.sort_by(f64::total_cmp);
                c.dedup();
                c
            })
            .collect();
        let cells: usize = grid[..k - 1]
            .iter()
            .try_fold(1usize, |acc, g| acc.checked_mul(g.len()))
            .unwrap_or(usize::MAX);
        if cells > MAX_BOXES {
            return Err(AcqError::TooManyBoxes {
                front: pts.len(),
                objectives: k,
                boxes: cells,
                max: MAX_BOXES,
            });
        }
        let mut boxes = Vec::with_capacity(cells);
        let mut idx = vec![0usize; k - 1];
        loop {
            // The cell's upper corner in the first k − 1 objectives (∞ past the last coordinate).
            let upper: Vec<f64> = (0..k - 1)
                .map(|j| grid[j].get(idx[j] + 1).copied().unwrap_or(f64::INFINITY))
                .collect();
            let low = pts
                .iter()
                .filter(|p| (0..k - 1).all(|j| p[j] >= upper[j]))
                .map(|p| p[k - 1])
                .fold(reference[k - 1], f64::max);
            let li = grid[k - 1]
                .binary_search_by(|c| c.total_cmp(&low))
                .unwrap_or(0);
            let mut b = idx.clone();
            b.push(li);
            boxes.push(b);
            // Next multi-index.
            let mut j = 0;
            loop {
                if j == k - 1 {
                    return Ok(LogExpectedHypervolumeImprovement {
                        models,
                        grid,
                        boxes,
                    });
                }
                idx[j] += 1;
                if idx[j] < grid[j].len() {
                    break;
                }
                idx[j] = 0;
                j += 1;
            }
        }
    }

    /// The number of boxes of the decomposition.
    pub fn boxes(&self) -> usize {
        self.boxes.len()
    }

    /// Per objective and grid interval, the log of the expected clipped improvement and its
    /// derivatives with respect to the mean and standard deviation.
    fn terms(&self, j: usize, mean: f64, sigma: f64, grads: bool) -> Vec<(f64, f64, f64)> {
        let g = &self.grid[j];
        let last = j + 1 == self.grid.len();
        (0..g.len())
            .map(|i| {
                let upper = if last {
                    f64::INFINITY
                } else {
                    g.get(i + 1).copied().unwrap_or(f64::INFINITY)
                };
                interval_term(mean, sigma, g[i], upper, grads)
            })
            .collect()
    }

    fn log_value(&self, moments: &[(f64, f64)]) -> f64 {
        let terms: Vec<Vec<(f64, f64, f64)>> = moments
            .iter()
            .enumerate()
            .map(|(j, &(m, s))| self.terms(j, m, s, false))
            .collect();
        let logs = self.boxes.iter().map(|b| {
            b.iter()
                .enumerate()
                .map(|(j, &i)| terms[j][i].0)
                .sum::<f64>()
        });
        log_sum_exp(logs)
    }
}

/// `ln E[max(0, min(Y, u) − l)]` for `Y ~ N(mean, sigma²)`, `l < u ≤ ∞`, with its derivatives
/// in `mean` and `sigma` when `grads`.
fn interval_term(mean: f64, sigma: f64, l: f64, u: f64, grads: bool) -> (f64, f64, f64) {
    let zl = (mean - l) / sigma;
    let a = log_ei_h(zl);
    if u.is_infinite() {
        let value = a + sigma.ln();
        if !grads {
            return (value, 0.0, 0.0);
        }
        let d = dlog_ei_h(zl);
        return (value, d / sigma, 1.0 / sigma - d * zl / sigma);
    }
    let zu = (mean - u) / sigma;
    let b = log_ei_h(zu);
    // ln(h(zl) − h(zu)), zl > zu; h is increasing with h' = Φ.
    let dlog = a + log1mexp((b - a).min(-f64::MIN_POSITIVE));
    let value = dlog + sigma.ln();
    if !grads {
        return (value, 0.0, 0.0);
    }
    let dl = (log_norm_cdf(zl) - dlog).exp();
    let du = -(log_norm_cdf(zu) - dlog).exp();
    (
        value,
        (dl + du) / sigma,
        1.0 / sigma - (dl * zl + du * zu) / sigma,
    )
}

fn log_sum_exp(values: impl Iterator<Item = f64> + Clone) -> f64 {
    let m = values.clone().fold(f64::NEG_INFINITY, f64::max);
    if !m.is_finite() {
        return m;
    }
    m + values.map(|v| (v - m).exp()).sum::<f64>().ln()
}

impl<S: Surrogate + Sync> AcquisitionFunction for LogExpectedHypervolumeImprovement<'_, S> {
    fn dim(&self) -> usize {
        self.models[0].dim()
    }
    fn value(&self, x: &[f64]) -> Result<f64, AcqError> {
        let moments = self
            .models
            .iter()
            .map(|m| {
                let (mu, v) = m.mean_var(x)?;
                Ok((mu, v.max(MIN_VARIANCE).sqrt()))
            })
            .collect::<Result<Vec<_>, AcqError>>()?;
        Ok(self.log_value(&moments))
    }
    fn values(&self, xs: &DMatrix<f64>) -> Result<Vec<f64>, AcqError> {
        let per_model = self
            .models
            .iter()
            .map(|m| m.mean_var_batch(xs))
            .collect::<Result<Vec<_>, AcqError>>()?;
        Ok((0..xs.nrows())
            .map(|i| {
                let moments: Vec<(f64, f64)> = per_model
                    .iter()
                    .map(|(mu, v)| (mu[i], v[i].max(MIN_VARIANCE).sqrt()))
                    .collect();
                self.log_value(&moments)
            })
            .collect())
    }
    fn value_and_gradient(&self, x: &[f64]) -> Result<(f64, Vec<f64>), AcqError> {
        let k = self.models.len();
        let mut moments = Vec::with_capacity(k);
        let mut terms = Vec::with_capacity(k);
        for (j, m) in self.models.iter().enumerate() {
            let mo = m.moments(x)?;
            let var = mo.var.max(MIN_VARIANCE);
            let sigma = var.sqrt();
            let clamped = mo.var < MIN_VARIANCE;
            let dsigma: Vec<f64> = mo
                .dvar
                .iter()
                .map(|dv| if clamped { 0.0 } else { dv / (2.0 * sigma) })
                .collect();
            terms.push(self.terms(j, mo.mean, sigma, true));
            moments.push((mo.dmean, dsigma));
        }
        let logs: Vec<f64> = self
            .boxes
            .iter()
            .map(|b| {
                b.iter()
                    .enumerate()
                    .map(|(j, &i)| terms[j][i].0)
                    .sum::<f64>()
            })
            .collect();
        let value = log_sum_exp(logs.iter().copied());
        let d = self.dim();
        let mut grad = vec![0.0; d];
        if !value.is_finite() {
            return Ok((value, grad));
        }
        // Weight of each (objective, interval) term: the softmax mass of the boxes using it.
        let mut weight: Vec<Vec<f64>> = terms.iter().map(|t| vec![0.0; t.len()]).collect();
        for (b, l) in self.boxes.iter().zip(&logs) {
            let w = (l - value).exp();
            for (j, &i) in b.iter().enumerate() {
                weight[j][i] += w;
            }
        }
        for j in 0..k {
            let (dmu, dsig) = weight[j]
                .iter()
                .zip(&terms[j])
                .fold((0.0, 0.0), |(a, b), (w, t)| (a + w * t.1, b + w * t.2));
            let (dmean, dsigma) = &moments[j];
            for q in 0..d {
                grad[q] += dmu * dmean[q] + dsig * dsigma[q];
            }
        }
        Ok((value, grad))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use nalgebra::DVector;
    use nasbo_gp::{GaussianProcess, GpParams};
    use rand::{Rng, SeedableRng};

    fn models() -> (GaussianProcess, GaussianProcess) {
        let mut rng = rand_chacha::ChaCha8Rng::seed_from_u64(3);
        let x = DMatrix::from_fn(12, 2, |_, _| rng.random::<f64>());
        let f1 = DVector::from_fn(12, |i, _| (3.0 * x[(i, 0)]).sin() + x[(i, 1)]);
        let f2 = DVector::from_fn(12, |i, _| {
            -(x[(i, 0)] - 0.3).powi(2) - x[(i, 1)] * x[(i, 1)]
        });
        (
            GpParams::default().fit(&x, &f1).unwrap(),
            GpParams::default().fit(&x, &f2).unwrap(),
        )
    }

    /// Monte Carlo estimate of the expected hypervolume improvement with independent normals.
    fn mc_ehvi(front: &[Vec<f64>], r: &[f64], mu: &[f64], sd: &[f64]) -> f64 {
        use rand_distr::{Distribution, StandardNormal};
        let mut rng = rand_chacha::ChaCha8Rng::seed_from_u64(9);
        let pts: Vec<Vec<f64>> = front.to_vec();
        let base = hv(&pts, r);
        let n = 200_000;
        let mut sum = 0.0;
        for _ in 0..n {
            let y: Vec<f64> = (0..mu.len())
                .map(|j| {
                    let z: f64 = StandardNormal.sample(&mut rng);
                    mu[j] + sd[j] * z
                })
                .collect();
            let mut with = pts.clone();
            with.push(y);
            sum += hv(&with, r) - base;
        }
        sum / n as f64
    }

    /// Brute-force hypervolume on the grid of coordinates (any k).
    fn hv(pts: &[Vec<f64>], r: &[f64]) -> f64 {
        let k = r.len();
        let pts: Vec<&Vec<f64>> = pts
            .iter()
            .filter(|p| p.iter().zip(r).all(|(a, b)| a > b))
            .collect();
        let grid: Vec<Vec<f64>> = (0..k)
            .map(|j| {
                let mut c: Vec<f64> = pts.iter().map(|p| p[j]).chain([r[j]]).collect();
                c.sort_by(f64::total_cmp);
                c.dedup();
                c
            })
            .collect();
        let mut total = 0.0;
        let mut idx = vec![0usize; k];
        'outer: loop {
            if (0..k).all(|j| idx[j] + 1 < grid[j].len()) {
                let upper: Vec<f64> = (0..k).map(|j| grid[j][idx[j] + 1]).collect();
                if pts.iter().any(|p| (0..k).all(|j| p[j] >= upper[j])) {
                    total += (0..k)
                        .map(|j| grid[j][idx[j] + 1] - grid[j][idx[j]])
                        .product::<f64>();
                }
            }
            for j in 0..k {
                idx[j] += 1;
                if idx[j] < grid[j].len() {
                    continue 'outer;
                }
                idx[j] = 0;
            }
            break;
        }
        total
    }

    #[test]
    fn matches_monte_carlo_in_two_and_three_objectives() {
        type Case = (Vec<Vec<f64>>, Vec<f64>, Vec<f64>, Vec<f64>);
        let cases: Vec<Case> = vec![
            (
                vec![
                    vec![1.0, 3.0],
                    vec![2.0, 2.0],
                    vec![3.0, 0.5],
                    vec![1.5, 1.0],
                ],
                vec![0.0, 0.0],
                vec![2.2, 2.1],
                vec![0.5, 0.8],
            ),
            (
                vec![
                    vec![1.0, 2.0, 0.5],
                    vec![2.0, 0.5, 1.0],
                    vec![0.5, 1.0, 2.0],
                ],
                vec![0.0, 0.0, 0.0],
                vec![1.2, 1.1, 1.0],
                vec![0.6, 0.4, 0.7],
            ),
        ];
        for (front, r, mu, sd) in cases {
            let k = r.len();
            // The models only set the count here: the moments are given.
            let (a, b) = models();
            let ms: Vec<&GaussianProcess> =
                (0..k).map(|j| if j % 2 == 0 { &a } else { &b }).collect();
            let acq = LogExpectedHypervolumeImprovement::new(ms, &front, &r).unwrap();
            let moments: Vec<(f64, f64)> = mu.iter().zip(&sd).map(|(&m, &s)| (m, s)).collect();
            let exact = acq.log_value(&moments).exp();
            let mc = mc_ehvi(&front, &r, &mu, &sd);
            assert!(
                (exact - mc).abs() < 0.01 * mc.max(0.05),
                "k = {k}: {exact} vs MC {mc}"
            );
        }
    }

    #[test]
    fn gradient_matches_finite_differences() {
        let (a, b) = models();
        let front = vec![vec![1.2, -0.1], vec![0.6, -0.02], vec![1.5, -0.5]];
        let acq =
            LogExpectedHypervolumeImprovement::new(vec![&a, &b], &front, &[0.0, -1.5]).unwrap();
        for x in [[0.2, 0.3], [0.7, 0.1], [0.45, 0.8], [0.95, 0.95]] {
            let (v, g) = acq.value_and_gradient(&x).unwrap();
            assert!((v - acq.value(&x).unwrap()).abs() < 1e-12);
            for q in 0..2 {
                let h = 1e-6;
                let mut xp = x;
                let mut xm = x;
                xp[q] += h;
                xm[q] -= h;
                let fd = (acq.value(&xp).unwrap() - acq.value(&xm).unwrap()) / (2.0 * h);
                assert!(
                    (fd - g[q]).abs() < 1e-4 * (1.0 + fd.abs()),
                    "x {x:?} dim {q}: {} vs fd {fd}",
                    g[q]
                );
            }
        }
    }

    #[test]
    fn finite_far_below_the_front() {
        let (a, b) = models();
        // A front far above anything the models predict: EHVI underflows, its log does not.
        let front = vec![vec![40.0, 40.0]];
        let acq =
            LogExpectedHypervolumeImprovement::new(vec![&a, &b], &front, &[-1.0, -1.0]).unwrap();
        let (v, g) = acq.value_and_gradient(&[0.5, 0.5]).unwrap();
        assert!(
            v.is_finite() && g.iter().all(|x| x.is_finite()),
            "{v} {g:?}"
        );
        // An empty front: the improvement is the dominated volume above the reference.
        let acq =
            LogExpectedHypervolumeImprovement::new(vec![&a, &b], &[], &[-10.0, -10.0]).unwrap();
        assert_eq!(acq.boxes(), 1);
        assert!(acq.value(&[0.5, 0.5]).unwrap().is_finite());
    }

    #[test]
    fn bad_settings_are_named() {
        let (a, b) = models();
        let err = |r: Result<LogExpectedHypervolumeImprovement<GaussianProcess>, AcqError>| {
            r.err().map(|e| e.to_string()).unwrap_or_default()
        };
        assert!(err(LogExpectedHypervolumeImprovement::new(
            vec![&a],
            &[],
            &[0.0]
        ))
        .contains("two objectives"));
        assert!(err(LogExpectedHypervolumeImprovement::new(
            vec![&a, &b],
            &[],
            &[0.0]
        ))
        .contains("reference"));
        assert!(err(LogExpectedHypervolumeImprovement::new(
            vec![&a, &b],
            &[],
            &[0.0, f64::NAN]
        ))
        .contains("finite"));
        assert!(err(LogExpectedHypervolumeImprovement::new(
            vec![&a, &b],
            &[vec![1.0]],
            &[0.0, 0.0]
        ))
        .contains("coordinates"));
    }
}
