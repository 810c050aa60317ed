//! Acquisition functions on a fitted GP: gradients against finite differences, LogEI against
//! ln(EI), behaviour deep in the tail, incumbents and Thompson sampling.

use nalgebra::{DMatrix, DVector};
use nasbo_acq::{
    thompson_sample, AcqKind, AcquisitionFunction, ExpectedImprovement, Incumbent,
    LogExpectedImprovement, LogProbabilityOfImprovement, Surrogate, UpperConfidenceBound,
};
use nasbo_gp::{GaussianProcess, GpParams, Kernel};
use proptest::prelude::*;
use rand::SeedableRng;

fn model(seed: u64, d: usize) -> GaussianProcess {
    let mut s = seed.wrapping_mul(0x9E3779B97F4A7C15) | 1;
    let mut next = || {
        s ^= s << 13;
        s ^= s >> 7;
        s ^= s << 17;
        (s >> 11) as f64 / (1u64 << 53) as f64
    };
    let x = DMatrix::from_fn(12, d, |_, _| next());
    let y = DVector::from_fn(12, |i, _| {
        (5.0 * x[(i, 0)]).sin() - (x[(i, d - 1)] - 0.5).powi(2)
    });
    GpParams::new(Kernel::matern52())
        .max_iters(40)
        .fit(&x, &y)
        .unwrap()
}

fn check_gradient(acq: &dyn AcquisitionFunction, x: &[f64], tol: f64) -> Result<(), TestCaseError> {
    let (v, g) = acq.value_and_gradient(x).unwrap();
    prop_assert!((v - acq.value(x).unwrap()).abs() <= 1e-9 * (1.0 + v.abs()));
    for k in 0..x.len() {
        // Central differences at steps h and h/2, Richardson-extrapolated: truncation error
        // O(h⁴), so the step can stay large enough that rounding in the value (|LogEI| is in
        // the thousands deep in the tail) does not swamp the difference.
        let central = |h: f64| {
            let mut xp = x.to_vec();
            let mut xm = x.to_vec();
            xp[k] += h;
            xm[k] -= h;
            (acq.value(&xp).unwrap() - acq.value(&xm).unwrap()) / (2.0 * h)
        };
        let h = 1e-4;
        let fd = (4.0 * central(h / 2.0) - central(h)) / 3.0;
        prop_assert!(
            (fd - g[k]).abs() < tol * (1.0 + fd.abs()),
            "dim {k}: analytic {} vs fd {fd}",
            g[k]
        );
    }
    Ok(())
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(32))]

    #[test]
    fn gradients_match_finite_differences(
        seed in 0u64..1000,
        x in prop::collection::vec(0.0f64..1.0, 3),
        offset in -2.0f64..3.0,
        beta in 0.1f64..9.0,
    ) {
        let gp = model(seed, 3);
        let best = gp.train_outputs().max() + offset;
        check_gradient(&LogExpectedImprovement::new(&gp, best), &x, 1e-5)?;
        check_gradient(&ExpectedImprovement::new(&gp, best), &x, 1e-5)?;
        check_gradient(&LogProbabilityOfImprovement::new(&gp, best), &x, 1e-5)?;
        check_gradient(&UpperConfidenceBound::new(&gp, beta).unwrap(), &x, 1e-5)?;
    }

    #[test]
    fn log_ei_gradient_is_useful_deep_in_the_tail(
        seed in 0u64..1000,
        x in prop::collection::vec(0.05f64..0.95, 2),
        sds in 20.0f64..60.0,
    ) {
        let gp = model(seed, 2);
        let (m, v) = gp.mean_var(&x).unwrap();
        // An incumbent `sds` standard deviations above the mean at x.
        let acq = LogExpectedImprovement::new(&gp, m + sds * v.sqrt());
        let (val, g) = acq.value_and_gradient(&x).unwrap();
        prop_assert!(val.is_finite() && val < -150.0);
        prop_assert!(g.iter().all(|v| v.is_finite()) && g.iter().any(|v| v.abs() > 1e-8));
        check_gradient(&acq, &x, 1e-4)?;
    }
}

#[test]
fn log_ei_equals_log_of_ei_where_ei_is_representable() {
    let gp = model(7, 2);
    let top = gp.train_outputs().max();
    let pts = DMatrix::from_fn(50, 2, |i, k| ((i * (k + 3)) % 50) as f64 / 49.0);
    for offset in [-1.0, 0.0, 0.5, 2.0, 5.0] {
        let log_ei = LogExpectedImprovement::new(&gp, top + offset)
            .values(&pts)
            .unwrap();
        let ei = ExpectedImprovement::new(&gp, top + offset)
            .values(&pts)
            .unwrap();
        for (a, b) in log_ei.iter().zip(&ei) {
            if *b > 1e-250 {
                assert!(
                    (a - b.ln()).abs() < 1e-6 * b.ln().abs().max(1.0),
                    "{a} vs ln {b}"
                );
            } else {
                assert!(a.is_finite(), "LogEI stays finite where EI underflows");
            }
        }
    }
}

#[test]
fn log_ei_is_finite_and_monotone_as_the_incumbent_recedes() {
    let gp = model(3, 2);
    let x = [0.4, 0.6];
    let (_, v) = gp.mean_var(&x).unwrap();
    let sd = v.sqrt();
    let mut prev = f64::INFINITY;
    for k in 0..200 {
        let acq = LogExpectedImprovement::new(&gp, gp.train_outputs().max() + 0.5 * k as f64 * sd);
        let val = acq.value(&x).unwrap();
        assert!(val.is_finite() && val < prev, "step {k}: {val}");
        prev = val;
    }
}

#[test]
fn incumbents() {
    let gp = model(11, 2);
    let y = gp.train_outputs();
    assert_eq!(Incumbent::BestObserved.resolve(&gp).unwrap(), y.max());
    assert_eq!(Incumbent::Value(3.5).resolve(&gp).unwrap(), 3.5);
    let noisy = Incumbent::BestPosteriorMean.resolve(&gp).unwrap();
    let (means, _) = gp.mean_var_batch(&gp.train_inputs()).unwrap();
    assert_eq!(
        noisy,
        means.iter().copied().fold(f64::NEG_INFINITY, f64::max)
    );
    assert!(UpperConfidenceBound::new(&gp, -1.0).is_err());
    assert!(AcqKind::Ucb { beta: f64::NAN }.build(&gp, 0.0).is_err());
}

#[test]
fn thompson_sampling_is_seeded_and_finds_the_peak() {
    // A sharp, well-observed peak at 0.5: samples agree on it.
    let x = DMatrix::from_fn(21, 1, |i, _| i as f64 / 20.0);
    let y = x
        .map(|v| -30.0 * (v - 0.5) * (v - 0.5))
        .column(0)
        .into_owned();
    let gp = GpParams::default().fit(&x, &y).unwrap();
    let cand = DMatrix::from_fn(101, 1, |i, _| i as f64 / 100.0);
    let mut rng = rand_chacha::ChaCha8Rng::seed_from_u64(1);
    let mut rng2 = rand_chacha::ChaCha8Rng::seed_from_u64(1);
    for _ in 0..10 {
        let (i, v) = thompson_sample(&gp, &cand, &mut rng).unwrap();
        assert_eq!((i, v), thompson_sample(&gp, &cand, &mut rng2).unwrap());
        assert!((cand[(i, 0)] - 0.5).abs() < 0.1, "picked {}", cand[(i, 0)]);
    }
}
