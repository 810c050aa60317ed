//! Criterion benchmarks of nasbo-gp: a fit with hyperparameter optimization, and prediction at
//! 1,000 points, for n ∈ {50, 100, 200, 500, 1000} and d ∈ {2, 6, 20}.
//!
//! `cargo bench --bench gp` (all), `cargo bench --bench gp -- 'gp_fit/n=500/d=6'` (one).

use criterion::{criterion_group, criterion_main, BenchmarkId, Criterion};
use nalgebra::{DMatrix, DVector};
use nasbo::gp::{Emphasis, GpParams, SubsetOfData};
use rand::{Rng, SeedableRng};

fn data(n: usize, d: usize, seed: u64) -> (DMatrix<f64>, DVector<f64>) {
    let mut rng = rand::rngs::StdRng::seed_from_u64(seed);
    let x = DMatrix::from_fn(n, d, |_, _| rng.random::<f64>());
    let y = DVector::from_fn(n, |i, _| {
        let r = x.row(i);
        (5.0 * r[0]).sin()
            + r.iter().map(|v| (v - 0.4).powi(2)).sum::<f64>()
            + 0.01 * rng.random::<f64>()
    });
    (x, y)
}

fn gp(c: &mut Criterion) {
    let mut fit = c.benchmark_group("gp_fit");
    fit.sample_size(10);
    for d in [2, 6, 20] {
        for n in [50, 100, 200, 500, 1000] {
            let (x, y) = data(n, d, 1);
            fit.bench_with_input(
                BenchmarkId::from_parameter(format!("n={n}/d={d}")),
                &(x, y),
                |b, (x, y)| b.iter(|| GpParams::default().fit(x, y).unwrap()),
            );
        }
    }
    fit.finish();
    let mut pred = c.benchmark_group("gp_predict_1000");
    pred.sample_size(10);
    for d in [2, 6, 20] {
        for n in [50, 100, 200, 500, 1000] {
            let (x, y) = data(n, d, 2);
            let model = GpParams::default().max_iters(20).fit(&x, &y).unwrap();
            let (q, _) = data(1000, d, 3);
            pred.bench_with_input(
                BenchmarkId::from_parameter(format!("n={n}/d={d}")),
                &q,
                |b, q| b.iter(|| model.predict_var(q).unwrap()),
            );
        }
    }
    pred.finish();
    // One point's mean and variance with their gradients (the acquisition optimizer's inner
    // loop), and the subset-of-data fit of large data.
    let mut point = c.benchmark_group("gp_point_gradients");
    for n in [100, 1000] {
        let (x, y) = data(n, 6, 4);
        let model = GpParams::default().max_iters(20).fit(&x, &y).unwrap();
        let q = [0.3, 0.6, 0.2, 0.9, 0.5, 0.1];
        point.bench_function(BenchmarkId::from_parameter(format!("n={n}/d=6")), |b| {
            b.iter(|| model.predict_gradients(&q).unwrap())
        });
    }
    point.finish();
    let mut large = c.benchmark_group("gp_fit_subset");
    large.sample_size(10);
    for n in [2000, 5000] {
        let (x, y) = data(n, 6, 5);
        let subset = SubsetOfData {
            emphasis: Emphasis::Largest,
            ..SubsetOfData::default()
        };
        large.bench_function(BenchmarkId::from_parameter(format!("n={n}/d=6")), |b| {
            b.iter(|| GpParams::default().fit_subset(&x, &y, &subset).unwrap())
        });
    }
    large.finish();
}

criterion_group!(benches, gp);
criterion_main!(benches);
