//! Tests of the model: the prior mean's shape and level, and its gradients.

use std::borrow::Cow;
use std::sync::Arc;

use nalgebra::{DMatrix, DVector};
use nasbo_acq::Surrogate;
use nasbo_gp::{GaussianProcess, GpParams};
use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;

use super::encode::Encoder;
use super::model::{Bowl, ImputedModel};
use super::{fit_surrogate, BoConfig, FitOptions, MeanLevel, OutputWarp, Target};
use crate::space::{Param, Space, Value};
use crate::trial::{Direction, Trial, TrialState};

/// An `ImputedModel` with a boundary prior on a mixed space, fitted to values of a smooth
/// function, and the values it was fitted to.
fn model() -> (GaussianProcess, Arc<Encoder>, Bowl, Vec<Vec<f64>>, Vec<f64>) {
    let space = Space::new(vec![
        Param::float("a", 0.0, 1.0),
        Param::int("b", 0, 9),
        Param::categorical("c", &["p", "q", "r"]),
    ])
    .unwrap();
    let enc = Arc::new(Encoder::new(&space));
    let mut rng = ChaCha8Rng::seed_from_u64(3);
    let xs: Vec<Vec<f64>> = (0..25)
        .map(|_| {
            vec![
                rng.random::<f64>(),
                rng.random_range(0..10) as f64 / 9.0,
                rng.random_range(0..3) as f64,
            ]
        })
        .collect();
    let ys: Vec<f64> = xs
        .iter()
        .map(|x| (3.0 * x[0]).sin() + x[1] * x[1] + 0.3 * x[2])
        .collect();
    let bowl = Bowl::new(&enc, 0.25, &ys);
    let r: Vec<f64> = xs.iter().zip(&ys).map(|(x, y)| y - bowl.value(x)).collect();
    let x = DMatrix::from_fn(xs.len(), 3, |i, k| xs[i][k]);
    let gp = GpParams::new(enc.kernel())
        .seed(1)
        .fit(&x, &DVector::from_vec(r))
        .unwrap();
    (gp, enc, bowl, xs, ys)
}

/// The model BO fits to trials gathered in one corner of the unit square, with its prior
/// mean at the given level; returns the predicted means (as the objective is maximized) at
/// the far corner and the values' (min, mean).
fn corner_model(level: MeanLevel) -> (f64, (f64, f64)) {
    let space = Space::new(vec![
        Param::float("a", 0.0, 1.0),
        Param::float("b", 0.0, 1.0),
    ])
    .unwrap();
    let mut rng = ChaCha8Rng::seed_from_u64(5);
    let trials: Vec<Trial> = (0..20)
        .map(|i| {
            let (a, b) = (0.3 * rng.random::<f64>(), 0.3 * rng.random::<f64>());
            let mut t = Trial::new(i, vec![Some(Value::Float(a)), Some(Value::Float(b))]);
            t.state = TrialState::Complete;
            // Wiggles without a trend, so the GP has nothing to extrapolate.
            t.values = vec![1.0 + 0.1 * (20.0 * a).sin() * (20.0 * b).cos()];
            t
        })
        .collect();
    let values: Vec<f64> = trials.iter().filter_map(|t| t.value()).collect();
    let low = values.iter().copied().fold(f64::INFINITY, f64::min);
    let mean = values.iter().sum::<f64>() / values.len() as f64;
    let config = BoConfig {
        prior_mean: level,
        // The model's values in the objective's units.
        output_warp: OutputWarp::Identity,
        ..BoConfig::default()
    };
    let options = FitOptions {
        seed: 1 ^ 20,
        warm_start: None,
        local_starts: None,
    };
    let fitted = fit_surrogate(
        &space,
        &trials,
        &Target::objective(Direction::Maximize),
        &config,
        &options,
    )
    .unwrap();
    let m = fitted.surrogate();
    (m.mean_var(&[0.95, 0.95]).unwrap().0, (low, mean))
}

#[test]
fn worst_prior_mean_makes_a_region_without_data_look_poor() {
    let (far_avg, (low, mean)) = corner_model(MeanLevel::Average);
    let (far_worst, _) = corner_model(MeanLevel::Worst);
    // Deterministic objective: `Auto` is `Worst`.
    assert_eq!(corner_model(MeanLevel::Auto).0, far_worst);
    assert!(
        far_worst <= low,
        "far corner {far_worst} should be no better than the worst value seen {low}"
    );
    assert!(
        far_avg > low + 0.3 * (mean - low),
        "with the average level the far corner ({far_avg}) looks about as good as the data \
             (worst {low}, mean {mean})"
    );
}

#[test]
fn bowl_is_zero_on_categorical_and_lowest_on_faces() {
    let (_, _, bowl, _, _) = model();
    assert_eq!(bowl.weights, vec![1.0, 1.0, 0.0]);
    assert!(bowl.c > 0.0);
    let centre = bowl.value(&[0.5, 0.5, 2.0]);
    assert_eq!(centre, 0.0);
    assert!(bowl.value(&[0.0, 0.5, 0.0]) < centre);
    assert_eq!(bowl.value(&[1.0, 1.0, 0.0]), bowl.value(&[0.0, 0.0, 2.0]));
}

#[test]
fn mean_gradient_with_the_bowl_matches_finite_differences() {
    let (gp, enc, bowl, xs, ys) = model();
    let m = ImputedModel {
        gp: Cow::Borrowed(&gp),
        encoder: enc,
        conditional: false,
        bowl,
    };
    // The data seen through the model are the values it was given, not the residuals.
    let obs = m.observed_outputs();
    for (a, b) in obs.iter().zip(&ys) {
        assert!((a - b).abs() < 1e-9 * b.abs().max(1.0), "{a} vs {b}");
    }
    for x in [[0.2, 0.1, 1.0], [0.9, 0.7, 0.0], [0.5, 0.4, 2.0]] {
        let mo = m.moments(&x).unwrap();
        let (mean, var) = m.mean_var(&x).unwrap();
        assert!((mo.mean - mean).abs() < 1e-10 && (mo.var - var).abs() < 1e-10);
        for k in 0..2 {
            let h = 1e-6;
            let (mut up, mut dn) = (x, x);
            up[k] += h;
            dn[k] -= h;
            let fd = (m.mean_var(&up).unwrap().0 - m.mean_var(&dn).unwrap().0) / (2.0 * h);
            assert!(
                (fd - mo.dmean[k]).abs() < 1e-5 * fd.abs().max(1.0),
                "∂mean/∂x{k}: analytic {}, finite differences {fd}",
                mo.dmean[k]
            );
        }
    }
    // Batch predictions and conditioning agree with the point predictions.
    let q = DMatrix::from_row_slice(2, 3, &[0.1, 0.3, 1.0, 0.8, 0.6, 2.0]);
    let (bm, _) = m.mean_var_batch(&q).unwrap();
    assert!((bm[1] - m.mean_var(&[0.8, 0.6, 2.0]).unwrap().0).abs() < 1e-10);
    // Joint samples are the GP's draws (same generator) shifted by the bowl at each point.
    let with = m
        .joint_samples(&q, 3, &mut ChaCha8Rng::seed_from_u64(5))
        .unwrap();
    let without = gp.sample(&q, 3, &mut ChaCha8Rng::seed_from_u64(5)).unwrap();
    for j in 0..2 {
        let b = m.bowl.value(&q.row(j).iter().copied().collect::<Vec<_>>());
        for s in 0..3 {
            assert!((with[(s, j)] - without[(s, j)] - b).abs() < 1e-10);
        }
    }
    let x0 = DMatrix::from_row_slice(1, 3, &xs[0]);
    let c = m.condition(&x0, &DVector::from_vec(vec![ys[0]])).unwrap();
    let n = c.observed_outputs().len();
    assert!((c.observed_outputs()[n - 1] - ys[0]).abs() < 1e-9);
}

#[test]
fn fits_from_scratch_every_fourth_trial_for_deterministic_objectives_only() {
    let det = BoConfig::default();
    assert_eq!(det.cold_fit_period(), 4);
    let noisy = BoConfig {
        noisy: true,
        ..BoConfig::default()
    };
    assert_eq!(noisy.cold_fit_period(), 0);
    let never = BoConfig {
        cold_fit_every: Some(0),
        ..BoConfig::default()
    };
    assert_eq!(never.cold_fit_period(), 0);
    let set = BoConfig {
        noisy: true,
        cold_fit_every: Some(3),
        ..BoConfig::default()
    };
    assert_eq!(set.cold_fit_period(), 3);
    let cold: Vec<usize> = (0..12).filter(|&n| det.cold_fit(n)).collect();
    assert_eq!(cold, vec![0, 4, 8]);
}

#[test]
fn greedy_steps_follow_their_period_every_fourth_trial_by_default() {
    let det = BoConfig::default();
    assert_eq!(det.exploit_period(), 4);
    let greedy: Vec<usize> = (0..14).filter(|&n| det.exploits(n)).collect();
    // Between the fits from scratch (0, 4, 8, 12).
    assert_eq!(greedy, vec![1, 5, 9, 13]);
    let noisy = BoConfig {
        noisy: true,
        ..BoConfig::default()
    };
    assert_eq!(noisy.exploit_period(), 0);
    assert!((0..50).all(|n| !noisy.exploits(n)));
    let five = BoConfig {
        exploit_every: Some(5),
        ..BoConfig::default()
    };
    let greedy: Vec<usize> = (0..20).filter(|&n| five.exploits(n)).collect();
    // Halfway between the fits from scratch (0, 4, 8, ...).
    assert_eq!(greedy, vec![2, 7, 12, 17]);
    let never = BoConfig {
        exploit_every: Some(0),
        ..BoConfig::default()
    };
    assert!((0..50).all(|n| !never.exploits(n)));
    let always = BoConfig {
        exploit_every: Some(1),
        ..BoConfig::default()
    };
    assert!((0..50).all(|n| always.exploits(n)));
}
