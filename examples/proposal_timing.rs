//! Times one LogEI proposal (GP fit + LogEI + optimizer with 1,024 raw samples and 10 starts)
//! on a CSV of observations (features, then `y`, to be maximized), for the side-by-side
//! comparison in `benches/compare/acq_compare.py`:
//!
//! ```text
//! cargo run --release --example proposal_timing -- data.csv 20
//! ```
//!
//! Prints JSON with the median milliseconds of a proposal with a warm-started fit (as the
//! tuner does: hyperparameters start from the fit on the first n − 1 points) and with a fit
//! from scratch.

use std::time::Instant;

use nalgebra::{DMatrix, DVector};
use nasbo::acq::{optimize, Domain, LogExpectedImprovement, OptimizerConfig};
use nasbo::gp::GpParams;

fn median(mut v: Vec<f64>) -> f64 {
    v.sort_by(f64::total_cmp);
    v[v.len() / 2]
}

fn main() -> anyhow::Result<()> {
    let args: Vec<String> = std::env::args().collect();
    let path = args.get(1).map(String::as_str).unwrap_or("data.csv");
    let repeat: usize = args.get(2).map(|s| s.parse()).transpose()?.unwrap_or(20);
    let mut reader = csv::Reader::from_path(path)?;
    let mut rows: Vec<Vec<f64>> = Vec::new();
    for rec in reader.records() {
        rows.push(
            rec?.iter()
                .map(|s| s.trim().parse::<f64>())
                .collect::<Result<_, _>>()?,
        );
    }
    let n = rows.len();
    let d = rows[0].len() - 1;
    let x = DMatrix::from_fn(n, d, |i, k| rows[i][k]);
    let y = DVector::from_fn(n, |i, _| rows[i][d]);
    let points: Vec<Vec<f64>> = rows.iter().map(|r| r[..d].to_vec()).collect();
    let params = GpParams::default().input_bounds(vec![0.0; d], vec![1.0; d]);
    let prev = params.fit(
        &x.rows(0, n - 1).into_owned(),
        &y.rows(0, n - 1).into_owned(),
    )?;
    let domain = Domain::continuous(&vec![0.0; d], &vec![1.0; d])?;
    let config = OptimizerConfig::default();
    let (mut warm, mut scratch) = (Vec::new(), Vec::new());
    for _ in 0..repeat {
        let t = Instant::now();
        let gp = params
            .clone()
            .warm_start(&prev)
            .restarts(0)
            .local_starts(1)
            .fit(&x, &y)?;
        let acq = LogExpectedImprovement::new(&gp, y.max());
        optimize(&acq, &domain, &config, &points)?;
        warm.push(t.elapsed().as_secs_f64() * 1e3);
        let t = Instant::now();
        let gp = params.fit(&x, &y)?;
        let acq = LogExpectedImprovement::new(&gp, y.max());
        optimize(&acq, &domain, &config, &points)?;
        scratch.push(t.elapsed().as_secs_f64() * 1e3);
    }
    println!(
        "{}",
        serde_json::json!({"n": n, "d": d, "warm_ms": median(warm), "scratch_ms": median(scratch)})
    );
    Ok(())
}
