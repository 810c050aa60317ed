//! Raw points around the best observed points (`OptimizerConfig::around_best`): where they lie,
//! and a narrow peak next to an anchor that the quasi-random points alone miss.

use nalgebra::DMatrix;
use nasbo_acq::{
    optimize_around, optimize_with, samples_around, AcqError, AcquisitionFunction, Dim, Domain,
    OptimizerConfig,
};

/// A broad bump of height 1 at `broad`, and a needle of height 2 and width `w` at `needle`.
struct Needle {
    broad: Vec<f64>,
    needle: Vec<f64>,
    w: f64,
}

impl Needle {
    fn parts(&self, x: &[f64]) -> (f64, f64) {
        let d2 = |c: &[f64]| x.iter().zip(c).map(|(a, b)| (a - b).powi(2)).sum::<f64>();
        let b = (-d2(&self.broad) / (2.0 * 0.3f64.powi(2))).exp();
        let n = 2.0 * (-d2(&self.needle) / (2.0 * self.w * self.w)).exp();
        (b, n)
    }
}

impl AcquisitionFunction for Needle {
    fn dim(&self) -> usize {
        self.broad.len()
    }
    fn value(&self, x: &[f64]) -> Result<f64, AcqError> {
        let (b, n) = self.parts(x);
        Ok(b + n)
    }
    fn value_and_gradient(&self, x: &[f64]) -> Result<(f64, Vec<f64>), AcqError> {
        let (b, n) = self.parts(x);
        let g = (0..x.len())
            .map(|k| {
                -b * (x[k] - self.broad[k]) / 0.09 - n * (x[k] - self.needle[k]) / (self.w * self.w)
            })
            .collect();
        Ok((b + n, g))
    }
    fn values(&self, xs: &DMatrix<f64>) -> Result<Vec<f64>, AcqError> {
        (0..xs.nrows())
            .map(|i| self.value(&xs.row(i).iter().copied().collect::<Vec<_>>()))
            .collect()
    }
}

#[test]
fn a_narrow_peak_beside_the_best_point_is_found_only_with_anchors() {
    let d = 8;
    let domain = Domain::continuous(&vec![0.0; d], &vec![1.0; d]).unwrap();
    let anchor: Vec<f64> = (0..d).map(|k| 0.8 - 0.02 * k as f64).collect();
    let needle: Vec<f64> = anchor.iter().map(|a| a + 0.0015).collect();
    let acq = Needle {
        broad: vec![0.3; d],
        needle: needle.clone(),
        w: 0.003,
    };
    let config = OptimizerConfig {
        around_best: 16,
        ..OptimizerConfig::default()
    };
    let id = |_: &mut [f64]| {};
    let without = optimize_with(&acq, &domain, &config, &[], &id).unwrap();
    assert!(
        without.value < 1.01,
        "the Sobol points found the needle: {}",
        without.value
    );
    let with = optimize_around(&acq, &domain, &config, &[], &id, &[anchor]).unwrap();
    assert!(with.value > 1.99, "{}", with.value);
    let dist = with
        .x
        .iter()
        .zip(&needle)
        .map(|(a, b)| (a - b).abs())
        .fold(0.0, f64::max);
    assert!(dist < 1e-3, "{:?}", with.x);
    // Off by default: the same call with `around_best: 0` ignores the anchors.
    let off = OptimizerConfig::default();
    let ignored = optimize_around(&acq, &domain, &off, &[], &id, &[needle]).unwrap();
    assert!(ignored.value < 1.01, "{}", ignored.value);
}

#[test]
fn points_around_anchors_stay_in_the_box_and_keep_the_discrete_coordinates() {
    let domain = Domain::new(vec![
        Dim::Continuous {
            low: -1.0,
            high: 3.0,
        },
        Dim::Categorical { n: 4 },
        Dim::Ordinal {
            values: vec![1.0, 2.0, 4.0, 8.0],
        },
    ])
    .unwrap();
    let config = OptimizerConfig {
        around_best: 30,
        ..OptimizerConfig::default()
    };
    // An anchor on the upper face: its steps of 10% of the range are clamped into the box.
    let anchors = vec![vec![3.0, 2.0, 4.0], vec![0.0, 1.0, 8.0]];
    let m = samples_around(&domain, &config, &anchors);
    assert_eq!(m.nrows(), 30);
    let mut moved_far = 0;
    for i in 0..m.nrows() {
        let a = &anchors[i % 2];
        let x: Vec<f64> = m.row(i).iter().copied().collect();
        assert!(domain.contains(&x), "{x:?}");
        assert_eq!((x[1], x[2]), (a[1], a[2]), "row {i}");
        moved_far += ((x[0] - a[0]).abs() > 0.05) as usize;
    }
    // A third of the steps have a standard deviation of 0.4 (10% of 4): most move by > 0.05.
    assert!(moved_far >= 5, "{moved_far}");
    // Same seed, same points; another seed, others.
    assert_eq!(m, samples_around(&domain, &config, &anchors));
    let other = OptimizerConfig {
        seed: 7,
        ..config.clone()
    };
    assert_ne!(m, samples_around(&domain, &other, &anchors));
    // Nothing without anchors, without continuous coordinates, or with anchors of another length.
    assert_eq!(samples_around(&domain, &config, &[]).nrows(), 0);
    assert_eq!(
        samples_around(&domain, &config, &[vec![0.0, 1.0]]).nrows(),
        0
    );
    let discrete = Domain::new(vec![Dim::Categorical { n: 3 }]).unwrap();
    assert_eq!(samples_around(&discrete, &config, &[vec![1.0]]).nrows(), 0);
}
