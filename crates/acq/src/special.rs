//! Numerically stable special functions for log-space acquisition functions (Ament et al.
//! 2023, "Unexpected Improvements to Expected Improvement for Bayesian Optimization").

use std::f64::consts::{FRAC_1_SQRT_2, PI, SQRT_2};

/// ln(2π)/2.
const HALF_LN_2PI: f64 = 0.918_938_533_204_672_7;

/// Standard normal density.
#[inline]
pub fn norm_pdf(z: f64) -> f64 {
    (-0.5 * z * z - HALF_LN_2PI).exp()
}

/// Standard normal distribution function, accurate in both tails.
#[inline]
pub fn norm_cdf(z: f64) -> f64 {
    0.5 * libm::erfc(-z * FRAC_1_SQRT_2)
}

/// Scaled complementary error function `erfcx(x) = exp(x²) erfc(x)`, finite for all finite x
/// (it overflows to +∞ only for x < -26.6, where `exp(x²)` does).
pub fn erfcx(x: f64) -> f64 {
    if x < 0.0 {
        // erfcx(-x) = 2 exp(x²) - erfcx(x)
        return 2.0 * (x * x).exp() - erfcx(-x);
    }
    if x < 8.0 {
        return (x * x).exp() * libm::erfc(x);
    }
    // Continued fraction: erfc(x) = exp(-x²)/√π · 1/(x + (1/2)/(x + 1/(x + (3/2)/(x + …)))).
    let mut f = x;
    for k in (1..=60).rev() {
        f = x + 0.5 * k as f64 / f;
    }
    1.0 / (f * PI.sqrt())
}

/// `ln(1 - exp(x))` for x < 0, accurate near 0 and for very negative x.
#[inline]
pub fn log1mexp(x: f64) -> f64 {
    if x > -std::f64::consts::LN_2 {
        (-x.exp_m1()).ln()
    } else {
        (-x.exp()).ln_1p()
    }
}

/// `ln Φ(z)`, accurate deep in the lower tail.
pub fn log_norm_cdf(z: f64) -> f64 {
    if z > -5.0 {
        norm_cdf(z).ln()
    } else {
        // Φ(z) = erfc(t)/2 with t = -z/√2 = erfcx(t) exp(-t²)/2
        let t = -z * FRAC_1_SQRT_2;
        erfcx(t).ln() - t * t - std::f64::consts::LN_2
    }
}

/// `h(z) = φ(z) + zΦ(z)`, the expected improvement of a standard normal over `-z`.
#[inline]
pub fn ei_h(z: f64) -> f64 {
    norm_pdf(z) + z * norm_cdf(z)
}

/// Below this `z`, [`log_ei_h`] and [`dlog_ei_h`] come from the asymptotic series of
/// `h(z)/φ(z)` instead of `1 − |z|Φ(z)/φ(z)`, whose cancellation costs `ε z²` of relative
/// accuracy (at `z = −1/√ε` ≈ −6.7e7 all of it). At −30 both agree to 2e-13; the series,
/// summed to eight terms, is then exact to rounding.
pub const ASYMPTOTIC_BELOW: f64 = -30.0;

/// `S(u) − 1` for `h(z)/φ(z) = u S(u)`, `u = 1/z²`: `S(u) = Σ_k (−1)^k (2k+1)!! u^k`
/// (asymptotic; its terms shrink up to `k ≈ 1/(2u)`, far beyond the eight used here).
fn tail_series_minus_one(u: f64) -> f64 {
    let mut term = 1.0;
    let mut sum = 0.0;
    for k in 1..=8 {
        term *= -((2 * k + 1) as f64) * u;
        sum += term;
    }
    sum
}

/// `ln h(z)`, finite and accurate to rounding for every finite z (about `−z²/2 − 2 ln|z|`
/// deep in the lower tail).
pub fn log_ei_h(z: f64) -> f64 {
    if z > -1.0 {
        return ei_h(z).ln();
    }
    let log_phi = -0.5 * z * z - HALF_LN_2PI;
    if z < ASYMPTOTIC_BELOW {
        // h = φ u S(u): ln h = ln φ − 2 ln|z| + ln S.
        let u = 1.0 / (z * z);
        return log_phi - 2.0 * z.abs().ln() + tail_series_minus_one(u).ln_1p();
    }
    // h(z) = φ(z) (1 - |z| Φ(z)/φ(z)) for z < 0, and |z|Φ(z)/φ(z) = |z| erfcx(-z/√2) √(π/2).
    let w = (erfcx(-z * FRAC_1_SQRT_2) * z.abs()).ln() + 0.5 * (PI / 2.0).ln();
    log_phi + log1mexp(w)
}

/// `d ln h(z) / dz = Φ(z)/h(z)`, accurate in the lower tail (where it tends to `|z|`): from
/// `exp(ln Φ(z) − ln h(z))` down to [`ASYMPTOTIC_BELOW`], then `|z|/S(u) − 1/|z|`.
pub fn dlog_ei_h(z: f64) -> f64 {
    if z > -1.0 {
        norm_cdf(z) / ei_h(z)
    } else if z < ASYMPTOTIC_BELOW {
        let u = 1.0 / (z * z);
        z.abs() / (1.0 + tail_series_minus_one(u)) - 1.0 / z.abs()
    } else {
        (log_norm_cdf(z) - log_ei_h(z)).exp()
    }
}

/// `d ln Φ(z)/dz = φ(z)/Φ(z)` (the inverse Mills ratio), stable in the lower tail.
pub fn dlog_norm_cdf(z: f64) -> f64 {
    if z > -5.0 {
        norm_pdf(z) / norm_cdf(z)
    } else {
        // φ(z)/Φ(z) = √(2/π) / erfcx(-z/√2)
        SQRT_2 / PI.sqrt() / erfcx(-z * FRAC_1_SQRT_2)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn erfcx_matches_its_definition_and_asymptote() {
        for x in [-3.0f64, -0.5, 0.0, 0.3, 1.0, 4.0, 7.9] {
            let direct = (x * x).exp() * libm::erfc(x);
            assert!((erfcx(x) - direct).abs() < 1e-13 * direct, "x = {x}");
        }
        // Across the switch to the continued fraction.
        let below = (64.0f64).exp() * libm::erfc(8.0);
        assert!((erfcx(8.0) - below).abs() < 1e-12 * below);
        for x in [10.0, 30.0, 1e3, 1e6] {
            let asym = 1.0 / (x * PI.sqrt())
                * (1.0 - 0.5 / (x * x) + 0.75 / x.powi(4) - 1.875 / x.powi(6));
            assert!((erfcx(x) - asym).abs() < 2e-7 * asym, "x = {x}");
        }
    }

    #[test]
    fn log_h_agrees_with_the_direct_formula_where_representable() {
        let mut z = -35.0;
        while z < 6.0 {
            let direct = ei_h(z);
            if direct > 1e-300 && direct.is_normal() {
                let rel = (log_ei_h(z) - direct.ln()).abs() / direct.ln().abs().max(1.0);
                // Cancellation in φ + zΦ limits the direct formula to about 1e-8 relative
                // below z = -10; above that both agree to round-off.
                let tol = if z > -10.0 { 1e-12 } else { 1e-6 };
                assert!(rel < tol, "z = {z}: {} vs {}", log_ei_h(z), direct.ln());
            }
            z += 0.37;
        }
    }

    #[test]
    fn log_h_is_finite_and_increasing_deep_in_the_tail() {
        let mut prev = f64::NEG_INFINITY;
        for k in 0..400 {
            let z = -1e4 + 25.0 * k as f64;
            let v = log_ei_h(z);
            assert!(v.is_finite() && v > prev, "z = {z}: {v}");
            let d = dlog_ei_h(z);
            // Φ/h → |z| (1 + 2/z² + O(z⁻⁴)).
            let expected = z.abs() * (1.0 + 2.0 / (z * z));
            assert!(
                d.is_finite() && (d / expected - 1.0).abs() < 1e-4,
                "z = {z}: slope {d}"
            );
            prev = v;
        }
        assert!(log_ei_h(-1e10).is_finite());
    }

    #[test]
    fn derivatives_match_finite_differences() {
        for z in [
            -60.0, -40.0, -12.0, -5.5, -1.2, -1.0, -0.99, -0.3, 0.0, 0.8, 3.0,
        ] {
            let h = 1e-6 * (1.0 + f64::abs(z));
            let fd = (log_ei_h(z + h) - log_ei_h(z - h)) / (2.0 * h);
            assert!(
                (fd - dlog_ei_h(z)).abs() < 1e-6 * (1.0 + fd.abs()),
                "z = {z}: {fd} vs {}",
                dlog_ei_h(z)
            );
            let fd2 = (log_norm_cdf(z + h) - log_norm_cdf(z - h)) / (2.0 * h);
            assert!(
                (fd2 - dlog_norm_cdf(z)).abs() < 1e-6 * (1.0 + fd2.abs()),
                "z = {z}"
            );
        }
    }

    /// Reference values from mpmath at 100 digits:
    ///
    /// ```python
    /// from mpmath import mp, mpf, exp, log, erfc, sqrt, pi
    /// mp.dps = 100
    /// def h(z):  # phi(z) + z Phi(z), and Phi(z)
    ///     phi = exp(-z*z/2)/sqrt(2*pi); Phi = erfc(-z/sqrt(2))/2
    ///     return phi + z*Phi, Phi
    /// for z in ["-1", "-5", "-10", "-38", "-100", "-1e3", "-1e4", "-1e5", "-1e6", "-1e7",
    ///           "-6.7e7", "-9e7", "-1e8", "-1e9", "-1e10", "-1e12"]:
    ///     hv, Phi = h(mpf(z))
    ///     print(f"({z}, {mp.nstr(log(hv), 20)}, {mp.nstr(Phi/hv, 20)}),")
    /// ```
    #[test]
    // The mpmath digits are pasted as printed.
    #[allow(clippy::excessive_precision)]
    fn log_h_and_its_slope_match_mpmath_to_minus_1e12() {
        let reference = [
            (-1.0, -2.4851210257126413368, 1.9042712333296918229),
            (-5.0, -16.744301162660990143, 5.3618162412880885298),
            (-10.0, -55.553122036122355927, 10.194383033412553306),
            (-38.0, -730.19618340211373916, 38.052522760041328294),
            (-100.0, -5010.1295788002497923, 100.01999400419586505),
            (-1e3, -500014.73445209115845, 1000.001999994000042),
            (-1e4, -50000019.339619307157, 10000.000199999994),
            (-1e5, -5000000023.9447894634, 100000.00001999999999),
            (-1e6, -500000000028.54995965, 1000000.000002),
            (-1e7, -50000000000033.15513, 10000000.0000002),
            (-6.7e7, -2244500000000036.9593, 67000000.000000029851),
            (-9e7, -4050000000000037.5496, 90000000.000000022222),
            (-1e8, -5000000000000037.7603, 100000000.00000002),
            (-1e9, -500000000000000042.37, 1000000000.000000002),
            (-1e10, -50000000000000000047.0, 10000000000.0),
            (-1e12, -5.0e+23, 1000000000000.0),
        ];
        for (z, log_h, slope) in reference {
            let (a, b) = (log_ei_h(z), dlog_ei_h(z));
            // Above the switch the cancellation in 1 − |z|Φ/φ costs up to ε z² (2e-13 at −30).
            let (tol_h, tol_slope) = if z < ASYMPTOTIC_BELOW {
                (4e-16, 1e-15)
            } else {
                (1e-13, 1e-12)
            };
            assert!(
                ((a - log_h) / log_h).abs() < tol_h,
                "z = {z}: ln h {a} vs {log_h}"
            );
            assert!(
                ((b - slope) / slope).abs() < tol_slope,
                "z = {z}: slope {b} vs {slope}"
            );
        }
        // The two formulas meet at the switch.
        let z = ASYMPTOTIC_BELOW;
        let w = (erfcx(-z * FRAC_1_SQRT_2) * z.abs()).ln() + 0.5 * (PI / 2.0).ln();
        let direct = -0.5 * z * z - HALF_LN_2PI + log1mexp(w);
        assert!((direct - log_ei_h(z - 1e-12)).abs() < 1e-10 * direct.abs());
    }

    #[test]
    fn log1mexp_is_accurate_at_both_ends() {
        assert!((log1mexp(-1e-20) - (1e-20f64).ln()).abs() < 1e-12);
        assert!((log1mexp(-50.0) + (-50.0f64).exp()).abs() < 1e-30);
        assert!((log1mexp(-1.0) - (1.0 - (-1.0f64).exp()).ln()).abs() < 1e-15);
    }
}
