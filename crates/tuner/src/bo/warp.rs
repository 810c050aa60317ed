//! Output warping: a Yeo–Johnson power transform fitted by maximum likelihood.
//!
//! Objectives that BO meets in practice are skewed: a few diverged trainings at chance-level
//! accuracy below a crowd of good ones, or a Rosenbrock valley thousands of times below its
//! rim. A stationary GP fitted on such values spends its lengthscales and output scale on the
//! cliff and smooths away the differences near the top, where the search must decide. Mapping
//! the values through a monotone power transform that makes them closer to normal (as HEBO
//! does) keeps the ranking, and so the argmax of any acquisition of the mean, while letting the
//! GP model the region that matters.
//!
//! The transform is applied to standardized values `z = (y − mean) / sd`:
//!
//! ```text
//! ψ(z; λ) = ((z + 1)^λ − 1) / λ            z ≥ 0, λ ≠ 0      ln(z + 1)     z ≥ 0, λ = 0
//!         = −((1 − z)^(2−λ) − 1) / (2 − λ)  z < 0, λ ≠ 2      −ln(1 − z)    z < 0, λ = 2
//! ```
//!
//! and `λ` maximizes the profile log-likelihood of a normal model for `ψ(z; λ)`,
//! `−n/2 · ln σ̂²(λ) + (λ − 1) Σ sign(z) ln(|z| + 1)`, over `[−2, 4]` by argmin's golden-section
//! search started at λ = 1 (the likelihood is unimodal in `λ` in all cases met in testing;
//! the identity is kept unless the search finds better).

use argmin::core::{CostFunction, Executor, State};
use argmin::solver::goldensectionsearch::GoldenSectionSearch;

/// A monotone compression of values far outside the bulk of the data, applied before the
/// power transform: a diverged training reported as `1e300`, or a failure coded as a huge
/// number, would otherwise overflow the standardization (and turn every prediction into NaN)
/// or set the scale of everything the model learns.
///
/// With `m` the median and `s` a robust scale (the median absolute deviation / 0.6745, which
/// tolerates up to half the values being outliers; else the interquartile range / 1.349; else
/// 1), a value at `z = (y − m)/s` with `|z| > k` goes to
/// `sign(z) (k + ln(1 + ln(1 + |z| − k)))`; values within `k` scales of the median are unchanged.
/// The ranking is kept.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Tails {
    /// The median.
    pub centre: f64,
    /// The robust scale.
    pub scale: f64,
    /// The half-width, in scales, of the unchanged band.
    pub k: f64,
}

/// The default half-width of [`Tails`]' unchanged band, in robust scales.
pub const TAILS_K: f64 = 50.0;

/// The `q`-quantile of non-empty `sorted` values, interpolated linearly (0.5: the median).
pub(crate) fn quantile(sorted: &[f64], q: f64) -> f64 {
    let pos = q * (sorted.len() - 1) as f64;
    let (lo, hi) = (pos.floor() as usize, pos.ceil() as usize);
    // Halves first, so that the difference of two huge values does not overflow.
    sorted[lo] + (sorted[hi] / 2.0 - sorted[lo] / 2.0) * 2.0 * (pos - lo as f64)
}

impl Tails {
    /// Fits the band to `y` (finite values) with half-width `k` scales.
    pub fn fit(y: &[f64], k: f64) -> Self {
        let mut v: Vec<f64> = y.iter().copied().filter(|x| x.is_finite()).collect();
        if v.is_empty() {
            return Tails {
                centre: 0.0,
                scale: 1.0,
                k,
            };
        }
        v.sort_by(f64::total_cmp);
        let centre = quantile(&v, 0.5);
        let iqr = (quantile(&v, 0.75) / 2.0 - quantile(&v, 0.25) / 2.0) * 2.0 / 1.349;
        let mut dev: Vec<f64> = v
            .iter()
            .map(|x| (x / 2.0 - centre / 2.0).abs() * 2.0)
            .collect();
        dev.sort_by(f64::total_cmp);
        let mad = quantile(&dev, 0.5) / 0.6745;
        let scale = [mad, iqr]
            .into_iter()
            .find(|s| s.is_finite() && *s > 0.0)
            .unwrap_or(1.0);
        Tails { centre, scale, k }
    }

    /// The compressed value of `y`.
    pub fn apply(&self, y: f64) -> f64 {
        let z = y / self.scale - self.centre / self.scale;
        if z.is_nan() || z.abs() <= self.k {
            return y;
        }
        let c = self.k + (1.0 + (1.0 + (z.abs().min(f64::MAX) - self.k)).ln()).ln();
        self.centre + self.scale * c * z.signum()
    }

    /// The value whose compression is `t`.
    pub fn invert(&self, t: f64) -> f64 {
        let z = (t - self.centre) / self.scale;
        if z.abs() <= self.k {
            return t;
        }
        // Beyond about u = 6.56 the double exponential passes the largest float.
        let u = (z.abs() - self.k).min(6.56);
        let back = self.k + (u.exp() - 1.0).exp() - 1.0;
        self.centre + self.scale * back * z.signum()
    }
}

/// A fitted Yeo–Johnson transform of standardized values.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct YeoJohnson {
    /// Mean subtracted before the transform.
    pub mean: f64,
    /// Standard deviation divided out before the transform (1 when the values are constant).
    pub sd: f64,
    /// The power.
    pub lambda: f64,
}

const LAMBDA_RANGE: (f64, f64) = (-2.0, 4.0);

fn psi(z: f64, lambda: f64) -> f64 {
    if z >= 0.0 {
        if lambda.abs() < 1e-8 {
            z.ln_1p()
        } else {
            ((lambda * z.ln_1p()).exp() - 1.0) / lambda
        }
    } else {
        let l2 = 2.0 - lambda;
        if l2.abs() < 1e-8 {
            -(-z).ln_1p()
        } else {
            -((l2 * (-z).ln_1p()).exp() - 1.0) / l2
        }
    }
}

fn psi_inverse(t: f64, lambda: f64) -> f64 {
    if t >= 0.0 {
        if lambda.abs() < 1e-8 {
            t.exp_m1()
        } else {
            let base = 1.0 + lambda * t;
            if base <= 0.0 {
                return f64::INFINITY;
            }
            (base.ln() / lambda).exp_m1()
        }
    } else {
        let l2 = 2.0 - lambda;
        if l2.abs() < 1e-8 {
            -(-t).exp_m1()
        } else {
            let base = 1.0 - l2 * t;
            if base <= 0.0 {
                return f64::NEG_INFINITY;
            }
            -(base.ln() / l2).exp_m1()
        }
    }
}

/// The negative profile log-likelihood in λ, as argmin's golden-section search minimizes it.
struct NegProfile<'a>(&'a [f64]);

impl CostFunction for NegProfile<'_> {
    type Param = f64;
    type Output = f64;
    fn cost(&self, lambda: &f64) -> Result<f64, argmin::core::Error> {
        let v = -profile_loglik(self.0, *lambda);
        // The search compares costs: a degenerate power is merely the worst.
        Ok(if v.is_nan() { f64::INFINITY } else { v })
    }
}

/// `(λ, profile log-likelihood)` at the best power found on [`LAMBDA_RANGE`] by golden-section
/// search from λ = 1 (the identity), or λ = 1 itself when nothing better is found.
fn maximize_profile(z: &[f64]) -> (f64, f64) {
    let identity = (1.0, profile_loglik(z, 1.0));
    let solver = match GoldenSectionSearch::new(LAMBDA_RANGE.0, LAMBDA_RANGE.1)
        .and_then(|s| s.with_tolerance(1e-5))
    {
        Ok(s) => s,
        Err(_) => return identity,
    };
    let result = Executor::new(NegProfile(z), solver)
        .configure(|s| s.param(1.0).max_iters(60))
        .run();
    match result {
        Ok(r) => {
            let state = r.state();
            match state.get_best_param() {
                Some(&l) if -state.get_best_cost() > identity.1 => (l, -state.get_best_cost()),
                _ => identity,
            }
        }
        Err(_) => identity,
    }
}

fn profile_loglik(z: &[f64], lambda: f64) -> f64 {
    let n = z.len() as f64;
    let t: Vec<f64> = z.iter().map(|&v| psi(v, lambda)).collect();
    let mean = t.iter().sum::<f64>() / n;
    let var = t.iter().map(|v| (v - mean) * (v - mean)).sum::<f64>() / n;
    if !(var.is_finite() && var > 0.0) {
        return f64::NEG_INFINITY;
    }
    let jac: f64 = z.iter().map(|&v| v.signum() * v.abs().ln_1p()).sum();
    -0.5 * n * var.ln() + (lambda - 1.0) * jac
}

impl YeoJohnson {
    /// Fits the transform to `y` (finite values). With fewer than three values, or constant
    /// values, the result is the identity on standardized values (`λ = 1`).
    pub fn fit(y: &[f64]) -> Self {
        let n = y.len();
        let mean = if n == 0 {
            0.0
        } else {
            y.iter().sum::<f64>() / n as f64
        };
        let var = if n < 2 {
            0.0
        } else {
            y.iter().map(|v| (v - mean) * (v - mean)).sum::<f64>() / (n - 1) as f64
        };
        let sd = if var > 0.0 && var.is_finite() {
            var.sqrt()
        } else {
            1.0
        };
        let identity = YeoJohnson {
            mean,
            sd,
            lambda: 1.0,
        };
        if n < 3 || var <= 0.0 || !var.is_finite() {
            return identity;
        }
        let z: Vec<f64> = y.iter().map(|v| (v - mean) / sd).collect();
        let best = maximize_profile(&z);
        if !best.1.is_finite() {
            return identity;
        }
        YeoJohnson {
            lambda: best.0,
            ..identity
        }
    }

    /// The transformed value of `y`.
    pub fn apply(&self, y: f64) -> f64 {
        psi((y - self.mean) / self.sd, self.lambda)
    }

    /// The value whose transform is `t` (the inverse of [`YeoJohnson::apply`]; ±∞ beyond the
    /// transform's range, which is bounded on one side for λ < 0 or λ > 2).
    pub fn invert(&self, t: f64) -> f64 {
        self.mean + self.sd * psi_inverse(t, self.lambda)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn monotone_and_identity_at_one() {
        for &l in &[-2.0, -0.5, 0.0, 0.5, 1.0, 2.0, 3.5] {
            let mut prev = f64::NEG_INFINITY;
            for i in -50..=50 {
                let z = i as f64 / 10.0;
                let v = psi(z, l);
                assert!(v > prev, "ψ not increasing at z = {z}, λ = {l}");
                prev = v;
            }
        }
        for i in -20..=20 {
            let z = i as f64 / 7.0;
            assert!((psi(z, 1.0) - z).abs() < 1e-12);
        }
        // continuity at the special powers
        assert!((psi(0.7, 1e-9) - psi(0.7, 0.0)).abs() < 1e-8);
        assert!((psi(-0.7, 2.0 - 1e-9) - psi(-0.7, 2.0)).abs() < 1e-8);
    }

    #[test]
    fn tails_pull_in_extreme_values_and_keep_the_rest() {
        let mut y: Vec<f64> = (0..30).map(|i| (i as f64 * 0.37).sin()).collect();
        y.push(-1e300);
        y.push(-f64::MAX);
        let t = Tails::fit(&y, TAILS_K);
        // A tiny scale: the largest values overflow z to infinity and still come out finite.
        let tiny = Tails::fit(&[1e-3, 2e-3, 3e-3, 4e-3], TAILS_K);
        assert!(tiny.apply(-f64::MAX).is_finite());
        for &v in &y[..30] {
            assert_eq!(t.apply(v), v);
        }
        let a = t.apply(-1e300);
        let b = t.apply(-f64::MAX);
        assert!(
            a.is_finite() && b.is_finite() && b < a && a < -1.0,
            "{a} {b}"
        );
        assert!(a > -100.0, "compressed to within a few band widths: {a}");
        // Monotone and invertible across the band's edges.
        let mut prev = f64::NEG_INFINITY;
        for i in -2000..=2000 {
            let v = t.centre + t.scale * i as f64 * 0.05;
            let c = t.apply(v);
            assert!(c >= prev, "not monotone at {v}");
            prev = c;
            assert!((t.invert(c) - v).abs() < 1e-6 * v.abs().max(1.0), "{v}");
        }
    }

    #[test]
    fn invert_undoes_apply() {
        for &l in &[-1.5, 0.0, 0.7, 1.0, 2.0, 3.5] {
            let t = YeoJohnson {
                mean: 2.0,
                sd: 3.0,
                lambda: l,
            };
            for i in -40..=40 {
                let y = 2.0 + i as f64 / 8.0;
                let back = t.invert(t.apply(y));
                assert!(
                    (back - y).abs() < 1e-9 * y.abs().max(1.0),
                    "λ = {l}, y = {y}: {back}"
                );
            }
        }
    }

    #[test]
    fn left_skewed_values_get_a_power_above_one() {
        // Accuracies: a crowd near the top and a few failures at chance level.
        let mut y: Vec<f64> = (0..40).map(|i| 0.9 + 0.001 * i as f64).collect();
        y.extend([0.5, 0.5, 0.52, 0.6]);
        let t = YeoJohnson::fit(&y);
        assert!(t.lambda > 1.5, "λ = {}", t.lambda);
        // The transformed values are less skewed.
        let skew = |v: &[f64]| {
            let n = v.len() as f64;
            let m = v.iter().sum::<f64>() / n;
            let s2 = v.iter().map(|x| (x - m).powi(2)).sum::<f64>() / n;
            v.iter().map(|x| (x - m).powi(3)).sum::<f64>() / n / s2.powf(1.5)
        };
        let ty: Vec<f64> = y.iter().map(|&v| t.apply(v)).collect();
        assert!(skew(&ty).abs() < skew(&y).abs());
    }

    #[test]
    fn normal_values_stay_near_identity_and_degenerate_inputs_are_identity() {
        // Symmetric, light-tailed values: λ near 1.
        let y: Vec<f64> = (0..101)
            .map(|i| ((i as f64 - 50.0) / 25.0).tanh())
            .collect();
        let t = YeoJohnson::fit(&y);
        assert!((t.lambda - 1.0).abs() < 0.5, "λ = {}", t.lambda);
        assert_eq!(YeoJohnson::fit(&[3.0, 3.0, 3.0]).lambda, 1.0);
        assert_eq!(YeoJohnson::fit(&[1.0, 2.0]).lambda, 1.0);
        assert_eq!(YeoJohnson::fit(&[]).lambda, 1.0);
    }
}
