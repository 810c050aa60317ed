//! Large data: observations added in place against conditioning at once and against a refit
//! with fixed hyperparameters, and subset-of-data fits (subset choice, cost bound, accuracy
//! near the best observations, bad settings).

mod common;
use common::scatter;

use nalgebra::{DMatrix, DVector};
use nasbo_gp::{Emphasis, GpError, GpParams, SubsetOfData, Tuning};

/// A smooth function with one clear maximum near (0.3, 0.7, 0.5, ...).
fn bump(x: &DMatrix<f64>) -> DVector<f64> {
    DVector::from_fn(x.nrows(), |i, _| {
        let r = x.row(i);
        let c = [0.3, 0.7, 0.5, 0.2];
        let d2: f64 = r
            .iter()
            .zip(c.iter().cycle())
            .map(|(v, c)| (v - c).powi(2))
            .sum();
        (-4.0 * d2).exp() + 0.3 * (3.0 * r[0]).sin()
    })
}

fn rows(x: &DMatrix<f64>, from: usize, to: usize) -> DMatrix<f64> {
    x.rows(from, to - from).into_owned()
}

#[test]
fn adding_observations_one_at_a_time_equals_conditioning_on_all_at_once() {
    let x = scatter(40, 3, 1);
    let y = bump(&x);
    let gp = GpParams::default()
        .fit(&rows(&x, 0, 30), &y.rows(0, 30).into_owned())
        .unwrap();
    let (xn, yn) = (rows(&x, 30, 40), y.rows(30, 10).into_owned());
    let at_once = gp.condition(&xn, &yn).unwrap();
    let mut stepwise = gp.clone();
    for i in 0..10 {
        stepwise
            .add_observations(&rows(&xn, i, i + 1), &DVector::from_element(1, yn[i]))
            .unwrap();
    }
    assert_eq!(stepwise.n(), 40);
    let q = scatter(25, 3, 99);
    let (a, b) = (
        at_once.predict_var(&q).unwrap(),
        stepwise.predict_var(&q).unwrap(),
    );
    for j in 0..25 {
        assert!((a.mean[j] - b.mean[j]).abs() < 1e-8, "mean at {j}");
        assert!((a.var_f[j] - b.var_f[j]).abs() < 1e-8, "variance at {j}");
    }
    assert!((at_once.log_marginal_likelihood() - stepwise.log_marginal_likelihood()).abs() < 1e-6);
}

#[test]
fn added_observations_give_the_fixed_hyperparameter_posterior() {
    // Inputs on the unit cube with explicit bounds, so that both models scale inputs alike;
    // the outputs' standardization differs, which the posterior does not depend on except
    // through the prior mean: fix that at 0.
    let x = scatter(60, 2, 5);
    let y = bump(&x);
    let params = GpParams::default()
        .input_bounds(vec![0.0; 2], vec![1.0; 2])
        .prior_mean(nasbo_gp::PriorMean::Constant(0.0));
    let mut gp = params
        .fit(&rows(&x, 0, 45), &y.rows(0, 45).into_owned())
        .unwrap();
    let refit = params
        .clone()
        .tuning(Tuning::Fixed(gp.hyperparameters()))
        .fit(&x, &y)
        .unwrap();
    gp.add_observations(&rows(&x, 45, 60), &y.rows(45, 15).into_owned())
        .unwrap();
    let q = scatter(30, 2, 7);
    let (a, b) = (gp.predict_var(&q).unwrap(), refit.predict_var(&q).unwrap());
    for j in 0..30 {
        assert!(
            (a.mean[j] - b.mean[j]).abs() < 1e-6,
            "mean at {j}: {} {}",
            a.mean[j],
            b.mean[j]
        );
        assert!((a.var_f[j] - b.var_f[j]).abs() < 1e-6, "variance at {j}");
    }
}

#[test]
fn bad_added_observations_are_errors_and_change_nothing() {
    let x = scatter(20, 2, 3);
    let mut gp = GpParams::default().fit(&x, &bump(&x)).unwrap();
    let before = gp.predict_point(&[0.4, 0.4]).unwrap();
    let one = DMatrix::from_element(1, 2, 0.5);
    assert!(matches!(
        gp.add_observations(&one, &DVector::from_element(1, f64::NAN)),
        Err(GpError::NonFinite { what: "y_new", .. })
    ));
    assert!(matches!(
        gp.add_observations(&one, &DVector::zeros(2)),
        Err(GpError::ShapeMismatch { .. })
    ));
    assert!(matches!(
        gp.add_observations(&DMatrix::from_element(1, 3, 0.5), &DVector::zeros(1)),
        Err(GpError::ShapeMismatch { .. })
    ));
    assert_eq!(gp.n(), 20);
    assert_eq!(gp.predict_point(&[0.4, 0.4]).unwrap(), before);
}

#[test]
fn subsets_hold_the_best_their_neighbours_and_a_deterministic_draw() {
    let x = scatter(1000, 3, 11);
    let y = bump(&x);
    let settings = SubsetOfData {
        emphasis: Emphasis::Largest,
        seed: 4,
        ..SubsetOfData::default()
    };
    let s = settings.select(&x, &y, 200);
    assert_eq!(s.len(), 200);
    assert!(s.windows(2).all(|w| w[0] < w[1]), "increasing, no repeats");
    assert_eq!(s, settings.select(&x, &y, 200), "same seed, same subset");
    let other = SubsetOfData {
        seed: 5,
        ..settings.clone()
    };
    assert_ne!(
        s,
        other.select(&x, &y, 200),
        "the random part follows the seed"
    );
    // The 50 largest outputs are all in.
    let mut order: Vec<usize> = (0..1000).collect();
    order.sort_by(|&a, &b| y[b].total_cmp(&y[a]));
    assert!(order[..50].iter().all(|i| s.contains(i)));
    // Smallest: the 50 smallest instead.
    let low = SubsetOfData {
        emphasis: Emphasis::Smallest,
        ..settings.clone()
    }
    .select(&x, &y, 200);
    assert!(order[950..].iter().all(|i| low.contains(i)));
    // Uniform keeps no preference: about a fifth of the best 50 (40 expected of 200/1000).
    let uni = SubsetOfData {
        emphasis: Emphasis::Uniform,
        ..settings.clone()
    }
    .select(&x, &y, 200);
    let kept = order[..50].iter().filter(|i| uni.contains(i)).count();
    assert!((2..=25).contains(&kept), "{kept}");
    // Everything when there are at most m.
    assert_eq!(settings.select(&x, &y, 5000), (0..1000).collect::<Vec<_>>());
}

#[test]
fn subset_fit_is_bounded_and_accurate_near_the_best_observations() {
    let n = 3000;
    let x = scatter(n, 4, 21);
    let y = bump(&x);
    let settings = SubsetOfData {
        fit: 150,
        condition: 300,
        emphasis: Emphasis::Largest,
        seed: 1,
    };
    let fit = GpParams::default().fit_subset(&x, &y, &settings).unwrap();
    assert_eq!(fit.model.n(), 300);
    assert_eq!(fit.hyperparameter_fit.n(), 150);
    assert_eq!(
        fit.model.hyperparameters().lengthscales,
        fit.hyperparameter_fit.hyperparameters().lengthscales
    );
    // Near the maximum (0.3, 0.7, 0.5, 0.2) the emphasized subset predicts better than a
    // uniform one of the same size.
    let uniform = GpParams::default()
        .fit_subset(
            &x,
            &y,
            &SubsetOfData {
                emphasis: Emphasis::Uniform,
                ..settings.clone()
            },
        )
        .unwrap();
    let near = DMatrix::from_fn(200, 4, |i, k| {
        let c = [0.3, 0.7, 0.5, 0.2][k];
        (c + 0.1 * (scatter(200, 4, 77)[(i, k)] - 0.5)).clamp(0.0, 1.0)
    });
    let truth = bump(&near);
    let rmse = |gp: &nasbo_gp::GaussianProcess| {
        let p = gp.predict(&near).unwrap();
        ((p - &truth).map(|e| e * e).sum() / 200.0).sqrt()
    };
    let (emph, unif) = (rmse(&fit.model), rmse(&uniform.model));
    assert!(emph < unif, "emphasized {emph} vs uniform {unif}");
    assert!(emph < 0.01, "{emph}");
    // At most `fit` observations: the plain fit.
    let small = GpParams::default()
        .fit_subset(&rows(&x, 0, 100), &y.rows(0, 100).into_owned(), &settings)
        .unwrap();
    assert_eq!(small.model.n(), 100);
}

#[test]
fn bad_subset_settings_are_named() {
    let x = scatter(50, 2, 2);
    let y = bump(&x);
    let bad = |s: SubsetOfData| GpParams::default().fit_subset(&x, &y, &s).unwrap_err();
    let zero = SubsetOfData {
        fit: 0,
        ..SubsetOfData::default()
    };
    assert!(matches!(
        bad(zero),
        GpError::InvalidParameter { name: "fit", .. }
    ));
    let inverted = SubsetOfData {
        fit: 100,
        condition: 50,
        ..SubsetOfData::default()
    };
    let e = bad(inverted);
    assert!(matches!(
        e,
        GpError::InvalidParameter {
            name: "condition",
            ..
        }
    ));
    assert!(e.to_string().contains("at least `fit` (100)"), "{e}");
}

#[test]
fn a_bad_value_outside_the_subsets_is_still_reported_where_it_is() {
    let x = scatter(600, 2, 8);
    let mut y = bump(&x);
    let settings = SubsetOfData {
        fit: 20,
        condition: 40,
        emphasis: Emphasis::Largest,
        seed: 0,
    };
    // The smallest output is in neither subset (largest emphasized, 40 of 600).
    let worst = (0..600).min_by(|&a, &b| y[a].total_cmp(&y[b])).unwrap();
    y[worst] = f64::NAN;
    let e = GpParams::default()
        .fit_subset(&x, &y, &settings)
        .unwrap_err();
    assert!(
        matches!(e, GpError::NonFinite { what: "y", row, .. } if row == worst),
        "{e}"
    );
    let mut x2 = x.clone();
    x2[(worst, 1)] = f64::INFINITY;
    let e = GpParams::default()
        .fit_subset(&x2, &bump(&x), &settings)
        .unwrap_err();
    assert!(
        matches!(e, GpError::NonFinite { what: "x", row, col: 1, .. } if row == worst),
        "{e}"
    );
}
