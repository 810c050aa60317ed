//! The optimizer on synthetic acquisition surfaces with known maxima, on bounds and discrete
//! domains, and with exclusions; batches with pending points on a GP.

use nalgebra::{DMatrix, DVector};
use nasbo_acq::{
    optimize, propose, AcqError, AcqKind, AcquisitionFunction, Dim, Domain, Duplicates, Fantasy,
    Incumbent, Liar, OptimizerConfig, ProposalRequest,
};
use nasbo_gp::GpParams;

/// `f(x) = −Σ w_k (x_k − c_k)²` plus a bonus per category: a known maximizer.
struct Surface {
    center: Vec<f64>,
    bonus: Vec<Vec<f64>>,
    categorical: Vec<usize>,
}

impl Surface {
    fn eval(&self, x: &[f64]) -> f64 {
        let mut v = 0.0;
        for (k, (xi, c)) in x.iter().zip(&self.center).enumerate() {
            if let Some(pos) = self.categorical.iter().position(|&j| j == k) {
                v += self.bonus[pos][*xi as usize];
            } else {
                v -= (1.0 + k as f64) * (xi - c).powi(2);
            }
        }
        v
    }
}

impl AcquisitionFunction for Surface {
    fn dim(&self) -> usize {
        self.center.len()
    }
    fn value(&self, x: &[f64]) -> Result<f64, AcqError> {
        Ok(self.eval(x))
    }
    fn value_and_gradient(&self, x: &[f64]) -> Result<(f64, Vec<f64>), AcqError> {
        let g = x
            .iter()
            .zip(&self.center)
            .enumerate()
            .map(|(k, (xi, c))| {
                if self.categorical.contains(&k) {
                    0.0
                } else {
                    -2.0 * (1.0 + k as f64) * (xi - c)
                }
            })
            .collect();
        Ok((self.eval(x), g))
    }
    fn values(&self, xs: &DMatrix<f64>) -> Result<Vec<f64>, AcqError> {
        Ok((0..xs.nrows())
            .map(|i| self.eval(&xs.row(i).iter().copied().collect::<Vec<_>>()))
            .collect())
    }
}

fn continuous(center: Vec<f64>) -> Surface {
    Surface {
        center,
        bonus: vec![],
        categorical: vec![],
    }
}

#[test]
fn finds_an_interior_maximum_in_six_dimensions() {
    let center = vec![0.13, 0.71, 0.42, 0.95, 0.05, 0.6];
    let s = continuous(center.clone());
    let d = Domain::continuous(&[0.0; 6], &[1.0; 6]).unwrap();
    let c = optimize(&s, &d, &OptimizerConfig::default(), &[]).unwrap();
    for (a, b) in c.x.iter().zip(&center) {
        assert!((a - b).abs() < 1e-4, "{:?}", c.x);
    }
}

#[test]
fn respects_bounds_when_the_maximum_is_outside() {
    let s = continuous(vec![-3.0, 0.5, 9.0]);
    let d = Domain::continuous(&[-1.0, 0.0, 2.0], &[1.0, 1.0, 4.0]).unwrap();
    let c = optimize(&s, &d, &OptimizerConfig::default(), &[]).unwrap();
    assert!(d.contains(&c.x), "{:?}", c.x);
    assert!(
        (c.x[0] + 1.0).abs() < 1e-6 && (c.x[1] - 0.5).abs() < 1e-4 && (c.x[2] - 4.0).abs() < 1e-6,
        "{:?}",
        c.x
    );
}

#[test]
fn mixed_domain_small_discrete_part_is_enumerated() {
    // Continuous, integer 1..=8, categorical with 3 choices; best: x0 = 0.3, int 6, cat 2.
    let s = Surface {
        center: vec![0.3, 6.0, 0.0],
        bonus: vec![vec![0.0, 0.5, 1.0]],
        categorical: vec![2],
    };
    let d = Domain::new(vec![
        Dim::Continuous {
            low: 0.0,
            high: 1.0,
        },
        Dim::Ordinal {
            values: (1..=8).map(f64::from).collect(),
        },
        Dim::Categorical { n: 3 },
    ])
    .unwrap();
    let c = optimize(&s, &d, &OptimizerConfig::default(), &[]).unwrap();
    assert!(d.contains(&c.x), "{:?}", c.x);
    assert_eq!((c.x[1], c.x[2]), (6.0, 2.0));
    assert!((c.x[0] - 0.3).abs() < 1e-4);
}

#[test]
fn mixed_domain_large_discrete_part_uses_neighbour_search() {
    // 6 ordinal dims with 20 values each (64 million combinations) and one continuous.
    let mut center = vec![0.77];
    let mut dims = vec![Dim::Continuous {
        low: 0.0,
        high: 1.0,
    }];
    for k in 0..6 {
        center.push((3 + 2 * k) as f64);
        dims.push(Dim::Ordinal {
            values: (0..20).map(f64::from).collect(),
        });
    }
    let s = continuous(center.clone());
    let d = Domain::new(dims).unwrap();
    assert!(d.discrete_combinations() > OptimizerConfig::default().enumerate_limit);
    let c = optimize(&s, &d, &OptimizerConfig::default(), &[]).unwrap();
    assert!(d.contains(&c.x));
    assert!((c.x[0] - 0.77).abs() < 1e-4);
    assert_eq!(&c.x[1..], &center[1..], "{:?}", c.x);
}

#[test]
fn never_returns_an_excluded_point() {
    // Purely categorical: 2 × 3 = 6 configurations, the best ones excluded in turn.
    let s = Surface {
        center: vec![0.0, 0.0],
        bonus: vec![vec![0.0, 1.0], vec![0.0, 0.1, 0.2]],
        categorical: vec![0, 1],
    };
    let d = Domain::new(vec![Dim::Categorical { n: 2 }, Dim::Categorical { n: 3 }]).unwrap();
    let config = OptimizerConfig::default();
    let mut excluded: Vec<Vec<f64>> = Vec::new();
    let mut seen = Vec::new();
    for _ in 0..6 {
        let c = optimize(&s, &d, &config, &excluded).unwrap();
        assert!(
            !excluded.contains(&c.x),
            "returned an excluded point {:?}",
            c.x
        );
        seen.push(s.eval(&c.x));
        excluded.push(c.x);
    }
    // Best first, in decreasing order.
    assert!(seen.windows(2).all(|w| w[0] >= w[1]), "{seen:?}");
    assert!(matches!(
        optimize(&s, &d, &config, &excluded).unwrap_err(),
        AcqError::Exhausted { .. }
    ));
    // Duplicates allowed: the best point again.
    let allow = OptimizerConfig {
        duplicates: Duplicates::Allow,
        ..config
    };
    assert_eq!(
        optimize(&s, &d, &allow, &excluded).unwrap().x,
        vec![1.0, 2.0]
    );
    // Continuous: excluding the maximizer moves the proposal away from it.
    let s = continuous(vec![0.5, 0.5]);
    let d = Domain::continuous(&[0.0, 0.0], &[1.0, 1.0]).unwrap();
    let c = optimize(&s, &d, &OptimizerConfig::default(), &[vec![0.5, 0.5]]).unwrap();
    assert!(!d.same_point(&c.x, &[0.5, 0.5], 1e-6));
}

#[test]
fn deterministic_for_a_seed_and_invalid_settings_are_refused() {
    let s = continuous(vec![0.2, 0.9]);
    let d = Domain::continuous(&[0.0, 0.0], &[1.0, 1.0]).unwrap();
    let cfg = OptimizerConfig {
        seed: 9,
        ..Default::default()
    };
    assert_eq!(
        optimize(&s, &d, &cfg, &[]).unwrap(),
        optimize(&s, &d, &cfg, &[]).unwrap()
    );
    let bad = [
        (
            OptimizerConfig {
                raw_samples: 0,
                ..Default::default()
            },
            "raw_samples",
        ),
        (
            OptimizerConfig {
                num_restarts: 0,
                ..Default::default()
            },
            "num_restarts",
        ),
        (
            OptimizerConfig {
                spread_starts: 10,
                ..Default::default()
            },
            "spread_starts",
        ),
        (
            OptimizerConfig {
                max_iters: 0,
                ..Default::default()
            },
            "max_iters",
        ),
        (
            OptimizerConfig {
                duplicate_tol: 2.0,
                ..Default::default()
            },
            "duplicate_tol",
        ),
    ];
    for (cfg, name) in bad {
        match optimize(&s, &d, &cfg, &[]).unwrap_err() {
            AcqError::InvalidConfig { name: got, .. } => assert_eq!(got, name),
            e => panic!("{e}"),
        }
    }
    let d3 = Domain::continuous(&[0.0; 3], &[1.0; 3]).unwrap();
    assert!(matches!(
        optimize(&s, &d3, &cfg, &[]),
        Err(AcqError::DimensionMismatch { .. })
    ));
}

#[test]
fn batches_and_pending_points_do_not_collide() {
    let x = DMatrix::from_fn(8, 2, |i, k| ((i * (3 + 2 * k) + k) % 8) as f64 / 7.0);
    let y = DVector::from_fn(8, |i, _| {
        -(x[(i, 0)] - 0.6).powi(2) - (x[(i, 1)] - 0.3).powi(2)
    });
    let gp = GpParams::default().fit(&x, &y).unwrap();
    let domain = Domain::continuous(&[0.0, 0.0], &[1.0, 1.0]).unwrap();
    let config = OptimizerConfig::default();
    let evaluated: Vec<Vec<f64>> = x.row_iter().map(|r| r.iter().copied().collect()).collect();
    for fantasy in [
        Fantasy::KrigingBeliever,
        Fantasy::ConstantLiar(Liar::Min),
        Fantasy::ConstantLiar(Liar::Mean),
    ] {
        let req = ProposalRequest {
            kind: AcqKind::LogEi,
            incumbent: Incumbent::BestObserved,
            domain: &domain,
            config: &config,
            q: 4,
            pending: &[],
            evaluated: &evaluated,
            fantasy,
            canonicalize: None,
        };
        let batch = propose(&gp, &req).unwrap();
        assert_eq!(batch.len(), 4);
        for i in 0..4 {
            for j in 0..i {
                let dist: f64 = (0..2)
                    .map(|k| (batch[i].x[k] - batch[j].x[k]).powi(2))
                    .sum::<f64>()
                    .sqrt();
                assert!(
                    dist > 1e-3,
                    "{fantasy:?}: points {i} and {j} coincide: {:?}",
                    batch[i].x
                );
            }
        }
        // A single proposal made while the first batch point is pending differs from it.
        let pending = vec![batch[0].x.clone()];
        let one = propose(
            &gp,
            &ProposalRequest {
                q: 1,
                pending: &pending,
                ..req.clone()
            },
        )
        .unwrap();
        let dist: f64 = (0..2)
            .map(|k| (one[0].x[k] - pending[0][k]).powi(2))
            .sum::<f64>()
            .sqrt();
        assert!(
            dist > 1e-3,
            "{fantasy:?}: proposal equals the pending point"
        );
    }
}

/// `2x` in category 0 (its maximum on the face x = 1) and `3 − 2(x − 0.3)²` in category 1:
/// a local search from (0.5, category 0) climbs to the face, moves to category 1 there, and
/// must then leave the face for the maximum (0.3, 1) = 3.
struct FaceThenInterior;

impl FaceThenInterior {
    fn f(x: &[f64]) -> f64 {
        if x[1] < 0.5 {
            2.0 * x[0]
        } else {
            3.0 - 2.0 * (x[0] - 0.3).powi(2)
        }
    }
}

impl AcquisitionFunction for FaceThenInterior {
    fn dim(&self) -> usize {
        2
    }
    fn value(&self, x: &[f64]) -> Result<f64, AcqError> {
        Ok(Self::f(x))
    }
    fn value_and_gradient(&self, x: &[f64]) -> Result<(f64, Vec<f64>), AcqError> {
        let g = if x[1] < 0.5 { 2.0 } else { -4.0 * (x[0] - 0.3) };
        Ok((Self::f(x), vec![g, 0.0]))
    }
    fn values(&self, xs: &DMatrix<f64>) -> Result<Vec<f64>, AcqError> {
        Ok((0..xs.nrows())
            .map(|i| Self::f(&[xs[(i, 0)], xs[(i, 1)]]))
            .collect())
    }
}

#[test]
fn a_local_search_leaves_a_face_after_a_discrete_move() {
    let domain = Domain::new(vec![
        Dim::Continuous {
            low: 0.0,
            high: 1.0,
        },
        Dim::Categorical { n: 2 },
    ])
    .unwrap();
    let start = [0.5, 0.0];
    let c = nasbo_acq::local_search(
        &FaceThenInterior,
        &domain,
        &start,
        FaceThenInterior::f(&start),
        &OptimizerConfig::default(),
    );
    assert_eq!(c.x[1], 1.0, "{c:?}");
    assert!(
        (c.x[0] - 0.3).abs() < 1e-5 && (c.value - 3.0).abs() < 1e-9,
        "{c:?}"
    );
}

/// An acquisition that is NaN everywhere is reported as such, not as an exhausted space.
#[test]
fn a_non_finite_acquisition_is_reported_as_non_finite() {
    struct Nan;
    impl AcquisitionFunction for Nan {
        fn dim(&self) -> usize {
            2
        }
        fn value(&self, _: &[f64]) -> Result<f64, AcqError> {
            Ok(f64::NAN)
        }
        fn value_and_gradient(&self, _: &[f64]) -> Result<(f64, Vec<f64>), AcqError> {
            Ok((f64::NAN, vec![f64::NAN; 2]))
        }
        fn values(&self, xs: &DMatrix<f64>) -> Result<Vec<f64>, AcqError> {
            Ok(vec![f64::NAN; xs.nrows()])
        }
    }
    let domain = Domain::continuous(&[0.0, 0.0], &[1.0, 1.0]).unwrap();
    let r = optimize(&Nan, &domain, &OptimizerConfig::default(), &[]);
    assert_eq!(r, Err(AcqError::NonFinite));
}
