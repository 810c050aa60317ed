//! Hard inputs that must fit and predict, and bad inputs that must be typed errors.

use nalgebra::{DMatrix, DVector};
use nasbo_gp::{
    GpError, GpParams, Hyperparameters, Kernel, LogNormal, Noise, PriorMean, PriorSpec, Priors,
    Tuning,
};

fn grid(n: usize, d: usize) -> DMatrix<f64> {
    DMatrix::from_fn(n, d, |i, k| {
        ((i * (2 * k + 3) + k) % n.max(1)) as f64 / n.max(2) as f64
    })
}

fn fits_and_predicts(x: &DMatrix<f64>, y: &DVector<f64>) -> nasbo_gp::GaussianProcess {
    let gp = GpParams::default().fit(x, y).expect("fit");
    let q = DMatrix::from_fn(5, x.ncols(), |i, k| 0.2 * i as f64 + 0.01 * k as f64);
    let p = gp.predict_var(&q).expect("predict");
    for j in 0..5 {
        assert!(p.mean[j].is_finite() && p.var_f[j] > 0.0 && p.var_y[j] >= p.var_f[j]);
    }
    let g = gp
        .predict_gradients(&vec![0.3; x.ncols()])
        .expect("gradients");
    assert!(g.dmean.iter().chain(&g.dvar).all(|v| v.is_finite()));
    gp
}

#[test]
fn duplicate_inputs() {
    let mut x = grid(10, 2);
    for i in 5..10 {
        for k in 0..2 {
            x[(i, k)] = x[(i - 5, k)];
        }
    }
    let y = DVector::from_fn(10, |i, _| i as f64 * 0.1);
    fits_and_predicts(&x, &y);
}

#[test]
fn exactly_duplicated_points_without_noise_get_jitter() {
    let x = DMatrix::from_row_slice(3, 1, &[0.5, 0.5, 0.1]);
    let y = DVector::from_vec(vec![1.0, 1.0, 0.0]);
    let gp = GpParams::default()
        .noise(Noise::Fixed(0.0))
        .fit(&x, &y)
        .unwrap();
    assert!(gp.jitter() > 0.0);
    assert!(gp.predict(&x).unwrap().iter().all(|v| v.is_finite()));
}

#[test]
fn constant_outputs() {
    let x = grid(8, 3);
    let y = DVector::from_element(8, 3.25);
    let gp = fits_and_predicts(&x, &y);
    let p = gp.predict(&DMatrix::from_element(1, 3, 0.4)).unwrap();
    assert!((p[0] - 3.25).abs() < 1e-6);
}

#[test]
fn outputs_at_extreme_scales() {
    let x = grid(12, 2);
    for scale in [1e-12, 1e12] {
        let y = DVector::from_fn(12, |i, _| scale * ((i as f64).sin() + 2.0));
        let gp = fits_and_predicts(&x, &y);
        let p = gp.predict(&x).unwrap();
        for i in 0..12 {
            assert!(
                (p[i] - y[i]).abs() < 0.5 * scale,
                "scale {scale}: {} vs {}",
                p[i],
                y[i]
            );
        }
        assert!(gp.noise() > 0.0 && gp.noise() < scale * scale);
    }
}

#[test]
fn one_and_two_observations() {
    let x1 = DMatrix::from_row_slice(1, 2, &[0.3, 0.7]);
    let y1 = DVector::from_vec(vec![5.0]);
    let gp = fits_and_predicts(&x1, &y1);
    assert!((gp.predict(&x1).unwrap()[0] - 5.0).abs() < 1e-6);
    let x2 = DMatrix::from_row_slice(2, 2, &[0.3, 0.7, 0.9, 0.1]);
    let y2 = DVector::from_vec(vec![5.0, -1.0]);
    fits_and_predicts(&x2, &y2);
}

#[test]
fn constant_input_column() {
    let mut x = grid(10, 3);
    for i in 0..10 {
        x[(i, 1)] = 7.0;
    }
    let y = DVector::from_fn(10, |i, _| x[(i, 0)] * 2.0);
    fits_and_predicts(&x, &y);
}

#[test]
fn mixed_kernel_with_categories() {
    let x = DMatrix::from_fn(12, 2, |i, k| {
        if k == 0 {
            i as f64 / 11.0
        } else {
            (i % 3) as f64
        }
    });
    let y = DVector::from_fn(12, |i, _| x[(i, 0)] + if i % 3 == 1 { 2.0 } else { 0.0 });
    let gp = GpParams::new(Kernel::matern52().on(vec![0]) * Kernel::hamming().on(vec![1]))
        .fit(&x, &y)
        .unwrap();
    assert!(gp.is_categorical(1) && !gp.is_categorical(0));
    let g = gp.predict_gradients(&[0.5, 1.0]).unwrap();
    assert_eq!(g.dmean[1], 0.0);
    let p = gp
        .predict(&DMatrix::from_row_slice(2, 2, &[0.5, 1.0, 0.5, 0.0]))
        .unwrap();
    assert!(p[0] - p[1] > 1.0, "category 1 is higher: {p}");
}

#[test]
fn bad_inputs_are_typed_errors() {
    let x = grid(5, 2);
    let y = DVector::from_element(5, 1.0);
    let p = GpParams::default();
    assert_eq!(
        p.fit(&DMatrix::zeros(0, 2), &DVector::zeros(0))
            .unwrap_err(),
        GpError::EmptyData { what: "x" }
    );
    assert!(matches!(
        p.fit(&x, &DVector::zeros(4)).unwrap_err(),
        GpError::ShapeMismatch {
            expected: 5,
            got: 4,
            ..
        }
    ));
    let mut xn = x.clone();
    xn[(3, 1)] = f64::NAN;
    let e = p.fit(&xn, &y).unwrap_err();
    assert!(
        matches!(
            e,
            GpError::NonFinite {
                what: "x",
                row: 3,
                col: 1,
                ..
            }
        ),
        "{e}"
    );
    assert!(e.to_string().contains("row 3, column 1"));
    let mut yn = y.clone();
    yn[2] = f64::INFINITY;
    assert!(matches!(
        p.fit(&x, &yn).unwrap_err(),
        GpError::NonFinite {
            what: "y",
            row: 2,
            ..
        }
    ));
    let gp = p.fit(&x, &y).unwrap();
    assert!(matches!(
        gp.predict(&DMatrix::zeros(1, 3)).unwrap_err(),
        GpError::ShapeMismatch {
            expected: 2,
            got: 3,
            ..
        }
    ));
    assert!(matches!(
        gp.predict_gradients(&[0.1, f64::NAN]).unwrap_err(),
        GpError::NonFinite { col: 1, .. }
    ));
    assert!(matches!(
        gp.condition(&DMatrix::zeros(2, 2), &DVector::zeros(1))
            .unwrap_err(),
        GpError::ShapeMismatch { .. }
    ));
    assert!(matches!(
        GpParams::new(Kernel::rbf().on(vec![5]))
            .fit(&x, &y)
            .unwrap_err(),
        GpError::InvalidKernel(_)
    ));
}

#[test]
fn invalid_settings_each_name_the_setting() {
    let x = grid(5, 2);
    let y = DVector::from_fn(5, |i, _| i as f64);
    let bad_prior = Priors {
        lengthscale: Some(LogNormal::new(0.0, -1.0)),
        ..Priors::default_for(2)
    };
    let cases: Vec<(GpParams, &str)> = vec![
        (GpParams::default().noise(Noise::Fixed(-1.0)), "noise"),
        (GpParams::default().noise(Noise::Fixed(f64::NAN)), "noise"),
        (GpParams::default().noise_floor(1.5), "noise_floor"),
        (GpParams::default().restarts(1001), "restarts"),
        (GpParams::default().local_starts(0), "local_starts"),
        (GpParams::default().max_iters(0), "max_iters"),
        (
            GpParams::default().prior_mean(PriorMean::Constant(f64::INFINITY)),
            "prior_mean",
        ),
        (
            GpParams::default().priors(PriorSpec::Custom(bad_prior)),
            "priors.lengthscale",
        ),
        (
            GpParams::default().input_bounds(vec![0.0], vec![1.0, 2.0]),
            "input_bounds",
        ),
        (
            GpParams::default().input_bounds(vec![0.0, 3.0], vec![1.0, 2.0]),
            "input_bounds",
        ),
        (
            GpParams::default().tuning(Tuning::Fixed(Hyperparameters {
                lengthscales: vec![1.0, -2.0],
                sum_weights: vec![],
                outputscale: 1.0,
                noise: 0.1,
            })),
            "tuning",
        ),
    ];
    for (params, name) in cases {
        match params.fit(&x, &y).unwrap_err() {
            GpError::InvalidParameter { name: got, .. } => assert_eq!(got, name),
            e => panic!("expected InvalidParameter {name}, got {e}"),
        }
    }
    // Fixed hyperparameters of the wrong length.
    let e = GpParams::default()
        .tuning(Tuning::Fixed(Hyperparameters {
            lengthscales: vec![1.0],
            sum_weights: vec![],
            outputscale: 1.0,
            noise: 0.1,
        }))
        .fit(&x, &y)
        .unwrap_err();
    assert!(matches!(
        e,
        GpError::ShapeMismatch {
            expected: 2,
            got: 1,
            ..
        }
    ));
}

/// Above 256 observations the kernel and gradient passes run on all cores; the fit must still
/// be the same from run to run (the gradient's parallel sums are taken in a fixed order).
#[test]
fn large_fits_are_reproducible() {
    let (n, d) = (300, 4);
    let mut s = 0x2545_F491_4F6C_DD1Du64;
    let mut next = || {
        s ^= s << 13;
        s ^= s >> 7;
        s ^= s << 17;
        (s >> 11) as f64 / (1u64 << 53) as f64
    };
    let x = DMatrix::from_fn(n, d, |_, _| next());
    let y = DVector::from_fn(n, |i, _| {
        (5.0 * x[(i, 0)]).sin()
            + (0..d).map(|k| (x[(i, k)] - 0.4).powi(2)).sum::<f64>()
            + 0.01 * next()
    });
    let fit = || GpParams::default().fit(&x, &y).expect("fit");
    let first = fit();
    for _ in 0..3 {
        let again = fit();
        assert_eq!(again.log_params(), first.log_params());
        assert_eq!(
            again.log_marginal_likelihood(),
            first.log_marginal_likelihood()
        );
    }
}

/// Far from the data the prediction returns to the prior mean: the sample mean by default, the
/// given constant otherwise; at the data both fit the observations.
#[test]
fn prior_mean_is_what_is_predicted_far_from_the_data() {
    // 1-D data on [0, 0.3]; bounds [0, 10] so that x = 10 is many lengthscales away.
    let x = DMatrix::from_fn(12, 1, |i, _| 0.3 * i as f64 / 11.0);
    let y = DVector::from_fn(12, |i, _| 2.0 + (8.0 * x[(i, 0)]).sin());
    let far = DMatrix::from_element(1, 1, 10.0);
    let fit = |mean: PriorMean| {
        GpParams::default()
            .input_bounds(vec![0.0], vec![10.0])
            .prior_mean(mean)
            .fit(&x, &y)
            .expect("fit")
    };
    let sample = fit(PriorMean::SampleMean);
    let low = fit(PriorMean::Constant(1.0));
    assert!((sample.predict(&far).unwrap()[0] - y.mean()).abs() < 1e-3);
    assert!((low.predict(&far).unwrap()[0] - 1.0).abs() < 1e-3);
    for gp in [&sample, &low] {
        let at = gp.predict(&x).unwrap();
        assert!((at - &y).amax() < 0.02, "both interpolate the data");
    }
}
