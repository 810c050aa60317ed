//! Criterion benchmarks of one proposal: GP fit (warm-started from the previous fit, as the
//! tuner does, and from scratch) + LogEI + the optimizer (1,024 raw samples, 10 starts), for
//! n ∈ {20, 100, 500} and d ∈ {2, 6, 20}; and a batch of q = 4.
//!
//! `cargo bench --bench acq`.

use criterion::{criterion_group, criterion_main, BenchmarkId, Criterion};
use nalgebra::{DMatrix, DVector};
use nasbo::acq::{
    optimize, propose, AcqKind, Domain, Fantasy, Incumbent, LogExpectedImprovement,
    OptimizerConfig, ProposalRequest,
};
use nasbo::gp::GpParams;
use rand::{Rng, SeedableRng};

fn data(n: usize, d: usize) -> (DMatrix<f64>, DVector<f64>, Vec<Vec<f64>>) {
    let mut rng = rand::rngs::StdRng::seed_from_u64(7);
    let x = DMatrix::from_fn(n, d, |_, _| rng.random::<f64>());
    // Hartmann-like bumpy response, to be maximized.
    let y = DVector::from_fn(n, |i, _| {
        let r = x.row(i);
        (-(r.iter()
            .enumerate()
            .map(|(k, v)| (v - 0.2 - 0.1 * (k % 5) as f64).powi(2))
            .sum::<f64>())
            * 3.0)
            .exp()
            + 0.3 * (7.0 * r[0]).sin()
    });
    let rows = (0..n).map(|i| x.row(i).iter().copied().collect()).collect();
    (x, y, rows)
}

fn proposal(c: &mut Criterion) {
    let mut g = c.benchmark_group("proposal_logei");
    g.sample_size(10);
    let config = OptimizerConfig::default();
    for d in [2, 6, 20] {
        for n in [20, 100, 500] {
            let (x, y, rows) = data(n, d);
            let domain = Domain::continuous(&vec![0.0; d], &vec![1.0; d]).unwrap();
            let bounds = (vec![0.0; d], vec![1.0; d]);
            let params = GpParams::default().input_bounds(bounds.0.clone(), bounds.1.clone());
            // The previous iteration's model, fitted on all but the last point.
            let prev = params
                .fit(
                    &x.rows(0, n - 1).into_owned(),
                    &y.rows(0, n - 1).into_owned(),
                )
                .unwrap();
            g.bench_function(
                BenchmarkId::from_parameter(format!("warm/n={n}/d={d}")),
                |b| {
                    b.iter(|| {
                        let gp = params
                            .clone()
                            .warm_start(&prev)
                            .restarts(0)
                            .local_starts(1)
                            .fit(&x, &y)
                            .unwrap();
                        let acq = LogExpectedImprovement::new(&gp, y.max());
                        optimize(&acq, &domain, &config, &rows).unwrap()
                    })
                },
            );
            if d == 6 {
                g.bench_function(
                    BenchmarkId::from_parameter(format!("scratch/n={n}/d={d}")),
                    |b| {
                        b.iter(|| {
                            let gp = params.fit(&x, &y).unwrap();
                            let acq = LogExpectedImprovement::new(&gp, y.max());
                            optimize(&acq, &domain, &config, &rows).unwrap()
                        })
                    },
                );
            }
        }
    }
    g.finish();
    let mut g = c.benchmark_group("proposal_batch");
    g.sample_size(10);
    let (x, y, rows) = data(100, 6);
    let domain = Domain::continuous(&[0.0; 6], &[1.0; 6]).unwrap();
    let gp = GpParams::default().fit(&x, &y).unwrap();
    g.bench_function("q=4/n=100/d=6", |b| {
        b.iter(|| {
            let req = ProposalRequest {
                kind: AcqKind::LogEi,
                incumbent: Incumbent::BestObserved,
                domain: &domain,
                config: &config,
                q: 4,
                pending: &[],
                evaluated: &rows,
                fantasy: Fantasy::KrigingBeliever,
                canonicalize: None,
            };
            propose(&gp, &req).unwrap()
        })
    });
    g.finish();
}

criterion_group!(benches, proposal);
criterion_main!(benches);
