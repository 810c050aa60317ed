//! The accuracy cost of nasbo-gp's subset-of-data fits ([`nasbo::gp::subset`]): test error of
//! an exact GP and of subset fits on noise-free Hartmann-6 data, over the whole cube and near
//! the minimum, with the seconds each fit took.
//!
//! ```text
//! cargo run --release --example subset_accuracy -- 1000,2000,5000
//! ```
//!
//! One JSON line per (n, model). The exact fit is skipped above n = 2,000 (minutes).

use std::time::Instant;

use nalgebra::{DMatrix, DVector};
use nasbo::gp::{Emphasis, GaussianProcess, GpParams, SubsetOfData};
use rand::{Rng, SeedableRng};

const A: [[f64; 6]; 4] = [
    [10.0, 3.0, 17.0, 3.5, 1.7, 8.0],
    [0.05, 10.0, 17.0, 0.1, 8.0, 14.0],
    [3.0, 3.5, 1.7, 10.0, 17.0, 8.0],
    [17.0, 8.0, 0.05, 10.0, 0.1, 14.0],
];
const P: [[f64; 6]; 4] = [
    [0.1312, 0.1696, 0.5569, 0.0124, 0.8283, 0.5886],
    [0.2329, 0.4135, 0.8307, 0.3736, 0.1004, 0.9991],
    [0.2348, 0.1451, 0.3522, 0.2883, 0.3047, 0.6650],
    [0.4047, 0.8828, 0.8732, 0.5743, 0.1091, 0.0381],
];
const ALPHA: [f64; 4] = [1.0, 1.2, 3.0, 3.2];
const OPT: [f64; 6] = [0.20169, 0.150011, 0.476874, 0.275332, 0.311652, 0.6573];

fn hartmann6(x: &[f64]) -> f64 {
    -(0..4)
        .map(|i| {
            ALPHA[i]
                * (-(0..6)
                    .map(|j| A[i][j] * (x[j] - P[i][j]).powi(2))
                    .sum::<f64>())
                .exp()
        })
        .sum::<f64>()
}

fn data(n: usize, rng: &mut impl Rng, around: Option<f64>) -> (DMatrix<f64>, DVector<f64>) {
    let x = DMatrix::from_fn(n, 6, |_, k| match around {
        Some(r) => (OPT[k] + r * (2.0 * rng.random::<f64>() - 1.0)).clamp(0.0, 1.0),
        None => rng.random::<f64>(),
    });
    let y = DVector::from_fn(n, |i, _| {
        hartmann6(&x.row(i).iter().copied().collect::<Vec<_>>())
    });
    (x, y)
}

fn rmse(gp: &GaussianProcess, x: &DMatrix<f64>, y: &DVector<f64>) -> f64 {
    let p = gp.predict(x).expect("prediction");
    ((p - y).map(|e| e * e).sum() / y.len() as f64).sqrt()
}

fn main() -> anyhow::Result<()> {
    let ns: Vec<usize> = std::env::args()
        .nth(1)
        .unwrap_or_else(|| "1000,2000,5000".into())
        .split(',')
        .map(str::parse)
        .collect::<Result<_, _>>()?;
    let mut rng = rand::rngs::StdRng::seed_from_u64(7);
    let (xt, yt) = data(2000, &mut rng, None);
    let (xn, yn) = data(500, &mut rng, Some(0.1));
    let params = GpParams::default()
        .input_bounds(vec![0.0; 6], vec![1.0; 6])
        .noise_floor(1e-6);
    for &n in &ns {
        let (x, y) = data(n, &mut rand::rngs::StdRng::seed_from_u64(n as u64), None);
        let mut models: Vec<(&str, Option<SubsetOfData>)> = vec![
            (
                "subset-uniform-400/800",
                Some(SubsetOfData {
                    fit: 400,
                    condition: 800,
                    ..Default::default()
                }),
            ),
            (
                "subset-smallest-400/800",
                Some(SubsetOfData {
                    fit: 400,
                    condition: 800,
                    emphasis: Emphasis::Smallest,
                    ..Default::default()
                }),
            ),
        ];
        if n <= 2000 {
            models.insert(0, ("exact", None));
        }
        for (name, subset) in models {
            let t = Instant::now();
            let gp = match &subset {
                Some(s) => params.fit_subset(&x, &y, s)?.model,
                None => params.fit(&x, &y)?,
            };
            let secs = t.elapsed().as_secs_f64();
            println!(
                "{}",
                serde_json::json!({"n": n, "model": name, "fit_s": secs,
                    "rmse_cube": rmse(&gp, &xt, &yt), "rmse_near_min": rmse(&gp, &xn, &yn),
                    "sd_cube": yt.variance().sqrt(), "sd_near_min": yn.variance().sqrt()})
            );
        }
    }
    Ok(())
}
