//! Problems held out from tuning `bo`'s defaults (issue 24): Levy, Schwefel, Michalewicz,
//! Griewank, Rastrigin and Styblinski–Tang, 4–10 dimensions, as in Surjanovic & Bingham's
//! Virtual Library of Simulation Experiments. They were chosen and written down before any
//! measurement with them. Where the usual box has the minimum at its centre (Levy near it,
//! Griewank, Rastrigin), the box keeps its usual width and is moved so that the minimum sits
//! at a different fraction of each axis ([`SHIFT`]), off the centre and off the diagonal; the
//! others have their minimum off the centre already (Schwefel at 92% of each axis,
//! Styblinski–Tang at 21%, Michalewicz's varies by axis).

use std::f64::consts::PI;

use super::Problem;

/// Where the minimum of a shifted problem sits on axis `k`: `SHIFT[k % 10]` of the way from
/// the lower bound.
pub const SHIFT: [f64; 10] = [0.3, 0.7, 0.2, 0.6, 0.35, 0.8, 0.25, 0.65, 0.4, 0.75];

/// A box of `width` per axis with `centre` (the minimizer's coordinate) at `SHIFT[k]` of axis k.
fn shifted_box(d: usize, width: f64, minimizer: f64) -> Vec<(f64, f64)> {
    (0..d)
        .map(|k| {
            let lo = minimizer - SHIFT[k % SHIFT.len()] * width;
            (lo, lo + width)
        })
        .collect()
}

fn levy_fn(x: &[f64]) -> f64 {
    let w: Vec<f64> = x.iter().map(|v| 1.0 + (v - 1.0) / 4.0).collect();
    let d = w.len();
    let mut s = (PI * w[0]).sin().powi(2);
    for wi in &w[..d - 1] {
        s += (wi - 1.0).powi(2) * (1.0 + 10.0 * (PI * wi + 1.0).sin().powi(2));
    }
    let wd = w[d - 1];
    s + (wd - 1.0).powi(2) * (1.0 + (2.0 * PI * wd).sin().powi(2))
}

/// Levy in `d` dimensions on a box of width 20 per axis (the usual `[-10, 10]`) moved by
/// [`SHIFT`]; minimum 0 at (1, …, 1).
pub fn shifted_levy(d: usize) -> Problem {
    let ones = vec![1.0; d];
    Problem::continuous(
        &format!("shiftedlevy{d}"),
        &shifted_box(d, 20.0, 1.0),
        0.0,
        &[&ones],
        1e-12,
        levy_fn,
    )
}

fn griewank_fn(x: &[f64]) -> f64 {
    let s: f64 = x.iter().map(|v| v * v).sum::<f64>() / 4000.0;
    let p: f64 = x
        .iter()
        .enumerate()
        .map(|(i, v)| (v / ((i + 1) as f64).sqrt()).cos())
        .product();
    s - p + 1.0
}

/// Griewank in `d` dimensions on a box of width 1200 per axis (the usual `[-600, 600]`) moved
/// by [`SHIFT`]; minimum 0 at the origin.
pub fn shifted_griewank(d: usize) -> Problem {
    let zero = vec![0.0; d];
    Problem::continuous(
        &format!("shiftedgriewank{d}"),
        &shifted_box(d, 1200.0, 0.0),
        0.0,
        &[&zero],
        1e-12,
        griewank_fn,
    )
}

fn rastrigin_fn(x: &[f64]) -> f64 {
    x.iter()
        .map(|v| v * v - 10.0 * (2.0 * PI * v).cos() + 10.0)
        .sum()
}

/// Rastrigin in `d` dimensions on a box of width 10.24 per axis (the usual `[-5.12, 5.12]`)
/// moved by [`SHIFT`]; minimum 0 at the origin.
pub fn shifted_rastrigin(d: usize) -> Problem {
    let zero = vec![0.0; d];
    Problem::continuous(
        &format!("shiftedrastrigin{d}"),
        &shifted_box(d, 10.24, 0.0),
        0.0,
        &[&zero],
        1e-12,
        rastrigin_fn,
    )
}

/// Schwefel's minimum per axis: `x sin(√|x|)` is largest on `[-500, 500]` at this point.
pub const SCHWEFEL_X: f64 = 420.968_746_811_630_8;
/// `x sin(√|x|)` at [`SCHWEFEL_X`] (the usual formula's 418.9829, to full precision, so that
/// the minimum is 0 and not 1.3e-5 per axis).
const SCHWEFEL_C: f64 = 418.982_887_272_433_74;

fn schwefel_fn(x: &[f64]) -> f64 {
    x.iter()
        .map(|v| SCHWEFEL_C - v * v.abs().sqrt().sin())
        .sum()
}

/// Schwefel in `d` dimensions on `[-500, 500]^d`; minimum 0 at (420.9687, …): near a corner,
/// with the second-best region far from it.
pub fn schwefel(d: usize) -> Problem {
    let opt = vec![SCHWEFEL_X; d];
    Problem::continuous(
        &format!("schwefel{d}"),
        &vec![(-500.0, 500.0); d],
        0.0,
        &[&opt],
        1e-9,
        schwefel_fn,
    )
}

/// Michalewicz's minimizer on axes 1–10 (the function is separable; each coordinate is the
/// maximizer of `sin(x) sin²⁰(i x²/π)` on `[0, π]`, found by a fine grid and golden-section).
const MICHALEWICZ_X: [f64; 10] = [
    2.202_905_519_169_125,
    1.570_796_332_063_252_5,
    1.284_991_569_229_948_7,
    1.923_058_470_152_364_3,
    1.720_469_771_955_814_4,
    1.570_796_328_551_015_4,
    1.454_413_972_182_807_8,
    1.756_086_520_968_058_3,
    1.655_717_416_889_273,
    1.570_796_327_848_568,
];

fn michalewicz_fn(x: &[f64]) -> f64 {
    -x.iter()
        .enumerate()
        .map(|(i, v)| v.sin() * ((i + 1) as f64 * v * v / PI).sin().powi(20))
        .sum::<f64>()
}

/// Michalewicz (m = 10) in `d ≤ 10` dimensions on `[0, π]^d`; minimum −4.687658 in 5-D
/// (−1.8013 in 2-D, −9.66015 in 10-D): steep narrow valleys on flat plateaus.
pub fn michalewicz(d: usize) -> Problem {
    let opt = &MICHALEWICZ_X[..d.min(10)];
    let optimum = michalewicz_fn(opt);
    Problem::continuous(
        &format!("michalewicz{d}"),
        &vec![(0.0, PI); d],
        optimum,
        &[opt],
        1e-12,
        michalewicz_fn,
    )
}

fn styblinski_tang_fn(x: &[f64]) -> f64 {
    x.iter()
        .map(|v| 0.5 * (v.powi(4) - 16.0 * v * v + 5.0 * v))
        .sum()
}

/// Styblinski–Tang's minimizer per axis.
pub const STYBLINSKI_TANG_X: f64 = -2.903_534_020_556_906;

/// Styblinski–Tang in `d` dimensions on `[-5, 5]^d`; minimum −39.166166 d at (−2.903534, …),
/// with a local minimum at +2.7468 on every axis (2^d − 1 of them).
pub fn styblinski_tang(d: usize) -> Problem {
    let opt = vec![STYBLINSKI_TANG_X; d];
    let optimum = styblinski_tang_fn(&opt);
    Problem::continuous(
        &format!("styblinskitang{d}"),
        &vec![(-5.0, 5.0); d],
        optimum,
        &[&opt],
        1e-12,
        styblinski_tang_fn,
    )
}
