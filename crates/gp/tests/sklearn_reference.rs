//! Log marginal likelihood and predictions for fixed hyperparameters against scikit-learn's
//! GaussianProcessRegressor (1.9.1), to 1e-8 relative. The numbers come from
//! `reference/sklearn_reference.py` (kernel `C(1.3) * K(ℓ = [0.4, 0.9, 1.7]) + White(0.02)`,
//! `normalize_y=True`, `alpha=0`, `optimizer=None`), pasted here with its output.

use nalgebra::{DMatrix, DVector};
use nasbo_gp::{GpParams, Hyperparameters, Kernel, Stationary, Tuning};

const N: usize = 15;
const D: usize = 3;
const Y_STD: f64 = 1.628764585090311;

fn data() -> (DMatrix<f64>, DVector<f64>) {
    let x = DMatrix::from_fn(N, D, |i, k| {
        ((i * 7 + k * 3) % 15) as f64 / 14.0 * (k + 1) as f64
    });
    let y = DVector::from_fn(N, |i, _| {
        (3.0 * x[(i, 0)]).sin() + x[(i, 1)].powi(2) - 0.5 * x[(i, 2)]
            + 0.1 * (((i * 5) % 7) as f64 - 3.0) / 3.0
    });
    (x, y)
}

struct Reference {
    family: Stationary,
    lml: f64,
    mean: [f64; 4],
    std: [f64; 4],
}

const REFERENCES: [Reference; 4] = [
    Reference {
        family: Stationary::Rbf,
        lml: -3.4735723889791377,
        mean: [
            -0.12123925296991978,
            4.190042240469182,
            1.2076453011197898,
            1.234717340557802,
        ],
        std: [
            0.5665290487139629,
            0.6267593334990573,
            0.8139675265873826,
            1.871282940570573,
        ],
    },
    Reference {
        family: Stationary::Matern12,
        lml: -13.773951613750604,
        mean: [
            0.04301891741798847,
            3.6216055581899056,
            1.1699724270752205,
            1.1973373697337002,
        ],
        std: [
            1.1699765254942394,
            1.2789276803785932,
            1.4236168446390045,
            1.8701168310933751,
        ],
    },
    Reference {
        family: Stationary::Matern32,
        lml: -7.791495779127716,
        mean: [
            -0.050876324273255724,
            4.075828219498769,
            1.1786583542221412,
            1.208775784737945,
        ],
        std: [
            0.7886903735492704,
            0.8769798845992407,
            1.1542710351900038,
            1.870909099483822,
        ],
    },
    Reference {
        family: Stationary::Matern52,
        lml: -5.732085177079149,
        mean: [
            -0.0740500163247082,
            4.153889477262714,
            1.1828399785039947,
            1.2142584383948891,
        ],
        std: [
            0.6890834715315692,
            0.7640888198904928,
            1.0433123441186674,
            1.8710686318583023,
        ],
    },
];

fn rel(a: f64, b: f64) -> f64 {
    (a - b).abs() / b.abs().max(1e-300)
}

#[test]
fn fixed_hyperparameters_match_scikit_learn() {
    let (x, y) = data();
    assert!(
        rel(
            y.iter().map(|v| (v - y.mean()).powi(2)).sum::<f64>().sqrt() / (N as f64).sqrt(),
            Y_STD
        ) < 1e-14
    );
    let q = DMatrix::from_row_slice(
        4,
        3,
        &[0.1, 0.5, 2.0, 0.9, 1.9, 0.3, 0.45, 1.0, 1.5, 2.0, -1.0, 4.0],
    );
    for r in &REFERENCES {
        let hyper = Hyperparameters {
            lengthscales: vec![0.4, 0.9, 1.7],
            sum_weights: vec![],
            // scikit-learn's amplitudes act on the standardized outputs.
            outputscale: 1.3 * Y_STD * Y_STD,
            noise: 0.02 * Y_STD * Y_STD,
        };
        let gp = GpParams::new(Kernel::stationary(r.family))
            .tuning(Tuning::Fixed(hyper))
            .fit(&x, &y)
            .unwrap();
        assert_eq!(gp.jitter(), 0.0);
        let lml = gp.log_marginal_likelihood_standardized();
        assert!(
            rel(lml, r.lml) < 1e-8,
            "{:?}: lml {lml} vs {}",
            r.family,
            r.lml
        );
        // In the user's units the Jacobian of the standardization enters.
        let user = gp.log_marginal_likelihood();
        assert!(rel(user, r.lml - N as f64 * Y_STD.ln()) < 1e-8);
        let pred = gp.predict_var(&q).unwrap();
        for j in 0..4 {
            assert!(
                rel(pred.mean[j], r.mean[j]) < 1e-8,
                "{:?} mean {j}: {} vs {}",
                r.family,
                pred.mean[j],
                r.mean[j]
            );
            let std_y = pred.var_y[j].sqrt();
            assert!(
                rel(std_y, r.std[j]) < 1e-8,
                "{:?} std {j}: {std_y} vs {}",
                r.family,
                r.std[j]
            );
        }
    }
}
