//! The acquisition optimizer, organized like BoTorch's `optimize_acqf`: one validated
//! [`OptimizerConfig`] drives separate steps —
//! [`raw_samples`] (quasi-random Sobol points, or every discrete combination when there are few)
//! → [`select_starts`] (the best raw points plus a few spread ones) → [`local_search`]
//! (L-BFGS on the continuous coordinates inside their bounds, alternating with moves to better
//! discrete neighbours) → [`best_candidate`] (the best point that is not already evaluated or
//! pending).

use nalgebra::DMatrix;
use rand::seq::SliceRandom;
use rand::SeedableRng;
use rand_chacha::ChaCha8Rng;
use rayon::prelude::*;

use crate::bounded::{maximize_in_box, SineBox};
use crate::domain::{Dim, Domain};
use crate::functions::AcquisitionFunction;
use crate::AcqError;

/// Whether the optimizer may return a point that was already evaluated or is pending.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Duplicates {
    /// Never (the default).
    Forbid,
    /// Allowed: for noisy objectives where re-evaluating a point is informative.
    Allow,
}

/// Settings of the optimizer.
///
/// | setting | default | meaning | valid range |
/// |---|---|---|---|
/// | `raw_samples` | 1024 | quasi-random points evaluated first | ≥ 1 |
/// | `num_restarts` | 10 | local searches, from the best raw points | ≥ 1, ≤ `raw_samples` |
/// | `spread_starts` | 2 | of those, starts drawn at random from the rest of the raw points | ≤ `num_restarts` − 1 |
/// | `around_best` | 0 | raw points drawn around the anchors (the best observed points, given by [`crate::propose`]) | any |
/// | `max_iters` | 100 | L-BFGS iterations per local search | ≥ 1 |
/// | `enumerate_limit` | 256 | discrete combinations enumerated exhaustively (more: neighbour search) | ≥ 1 |
/// | `neighbour_rounds` | 8 | alternations of continuous search and discrete moves | ≥ 1 |
/// | `duplicates` | `Forbid` | may an evaluated or pending point be returned | |
/// | `duplicate_tol` | 1e-6 | continuous coordinates closer than this fraction of their range are the same | `[0, 1)` |
/// | `seed` | 0 | seed of the Sobol scrambling and the spread starts | any |
#[derive(Clone, Debug, PartialEq)]
pub struct OptimizerConfig {
    /// Quasi-random points evaluated first.
    pub raw_samples: usize,
    /// Number of local searches.
    pub num_restarts: usize,
    /// Local searches started from random raw points rather than the best ones.
    pub spread_starts: usize,
    /// Raw points drawn around the anchors ([`optimize_around`]): each a Gaussian step from one
    /// anchor on the continuous coordinates, of 0.1%, 1% or 10% of each range in turn, as
    /// BoTorch's `sample_around_best`; none without anchors or without continuous coordinates.
    pub around_best: usize,
    /// L-BFGS iterations per local search.
    pub max_iters: u64,
    /// Largest number of discrete combinations that is enumerated.
    pub enumerate_limit: usize,
    /// Alternations of continuous search and discrete neighbour moves.
    pub neighbour_rounds: usize,
    /// Whether duplicates may be returned.
    pub duplicates: Duplicates,
    /// Relative tolerance for "the same point" on continuous coordinates.
    pub duplicate_tol: f64,
    /// Seed.
    pub seed: u64,
}

impl Default for OptimizerConfig {
    fn default() -> Self {
        OptimizerConfig {
            raw_samples: 1024,
            num_restarts: 10,
            spread_starts: 2,
            around_best: 0,
            max_iters: 100,
            enumerate_limit: 256,
            neighbour_rounds: 8,
            duplicates: Duplicates::Forbid,
            duplicate_tol: 1e-6,
            seed: 0,
        }
    }
}

impl OptimizerConfig {
    /// Checks every setting.
    pub fn check(&self) -> Result<(), AcqError> {
        let bad = |name: &'static str, value: String, reason: &str| {
            Err(AcqError::InvalidConfig {
                name,
                value,
                reason: reason.into(),
            })
        };
        if self.raw_samples == 0 {
            return bad("raw_samples", "0".into(), "at least 1");
        }
        if self.num_restarts == 0 || self.num_restarts > self.raw_samples {
            return bad(
                "num_restarts",
                self.num_restarts.to_string(),
                "between 1 and raw_samples",
            );
        }
        if self.spread_starts >= self.num_restarts {
            return bad(
                "spread_starts",
                self.spread_starts.to_string(),
                "less than num_restarts",
            );
        }
        if self.max_iters == 0 {
            return bad("max_iters", "0".into(), "at least 1");
        }
        if self.enumerate_limit == 0 {
            return bad("enumerate_limit", "0".into(), "at least 1");
        }
        if self.neighbour_rounds == 0 {
            return bad("neighbour_rounds", "0".into(), "at least 1");
        }
        if !(self.duplicate_tol.is_finite() && (0.0..1.0).contains(&self.duplicate_tol)) {
            return bad("duplicate_tol", self.duplicate_tol.to_string(), "in [0, 1)");
        }
        Ok(())
    }
}

/// A proposed point with its acquisition value.
#[derive(Clone, Debug, PartialEq)]
pub struct Candidate {
    /// The point, in the domain.
    pub x: Vec<f64>,
    /// Its acquisition value.
    pub value: f64,
}

/// Point `index` of a scrambled Sobol sequence in `[0, 1)^d` (Owen-scrambled, Burley 2020).
/// Dimensions beyond 256 fall back to a hashed sequence.
pub fn sobol_point(index: u32, d: usize, seed: u64) -> Vec<f64> {
    let s = (seed ^ (seed >> 32)) as u32;
    (0..d)
        .map(|k| {
            if k < sobol_burley::NUM_DIMENSIONS as usize {
                sobol_burley::sample(index, k as u32, s) as f64
            } else {
                // Beyond the table: a well-mixed hash of (index, k, seed).
                let mut h = (index as u64) << 32 ^ (k as u64) ^ seed.rotate_left(17);
                h ^= h >> 33;
                h = h.wrapping_mul(0xff51afd7ed558ccd);
                h ^= h >> 33;
                h = h.wrapping_mul(0xc4ceb9fe1a85ec53);
                h ^= h >> 33;
                (h >> 11) as f64 / (1u64 << 53) as f64
            }
        })
        .collect()
}

/// Step 1: the raw points. When the discrete part has at most `enumerate_limit` combinations,
/// every combination appears (with Sobol values for the continuous part); otherwise all
/// coordinates come from a Sobol sequence.
pub fn raw_samples(domain: &Domain, config: &OptimizerConfig) -> DMatrix<f64> {
    let d = domain.len();
    let dims = domain.dims();
    let disc = domain.discrete_dims();
    let cont = domain.continuous_dims();
    let combos = domain.discrete_combinations();
    if !disc.is_empty() && combos <= config.enumerate_limit {
        let per = if cont.is_empty() {
            1
        } else {
            config.raw_samples.div_ceil(combos).max(1)
        };
        let mut out = DMatrix::zeros(combos * per, d);
        let mut row = 0;
        for c in 0..combos {
            // Mixed-radix decoding of the combination index.
            let mut rest = c;
            let mut disc_vals = Vec::with_capacity(disc.len());
            for &k in &disc {
                let card = dims[k].cardinality().unwrap_or(1);
                disc_vals.push(dims[k].value_at(rest % card));
                rest /= card;
            }
            for p in 0..per {
                let u = sobol_point((c * per + p) as u32, cont.len(), config.seed);
                for (j, &k) in cont.iter().enumerate() {
                    out[(row, k)] = dims[k].from_unit(u[j]);
                }
                for (j, &k) in disc.iter().enumerate() {
                    out[(row, k)] = disc_vals[j];
                }
                row += 1;
            }
        }
        out
    } else {
        let n = config.raw_samples;
        let mut out = DMatrix::zeros(n, d);
        for i in 0..n {
            let u = sobol_point(i as u32, d, config.seed);
            for k in 0..d {
                out[(i, k)] = dims[k].from_unit(u[k]);
            }
        }
        out
    }
}

/// Step 2: indices of the starting points: the `num_restarts − spread_starts` best raw points,
/// plus `spread_starts` drawn at random from the others.
pub fn select_starts(values: &[f64], config: &OptimizerConfig) -> Vec<usize> {
    let mut order: Vec<usize> = (0..values.len())
        .filter(|&i| values[i].is_finite())
        .collect();
    order.sort_by(|&a, &b| values[b].total_cmp(&values[a]));
    let n_best = (config.num_restarts - config.spread_starts).min(order.len());
    let mut starts: Vec<usize> = order[..n_best].to_vec();
    let mut rest: Vec<usize> = order[n_best..].to_vec();
    let mut rng = ChaCha8Rng::seed_from_u64(config.seed ^ 0x5eed_5eed);
    rest.shuffle(&mut rng);
    starts.extend(rest.into_iter().take(config.spread_starts));
    starts
}

/// The discrete neighbours of `x`: every other category of each categorical dimension, and
/// steps of ±1, ±2, ±4, … positions along each ordinal dimension.
pub fn discrete_neighbours(domain: &Domain, x: &[f64]) -> Vec<Vec<f64>> {
    let mut out = Vec::new();
    for (k, dim) in domain.dims().iter().enumerate() {
        match dim {
            Dim::Continuous { .. } => {}
            Dim::Categorical { n } => {
                for c in 0..*n {
                    if c as f64 != x[k] {
                        let mut y = x.to_vec();
                        y[k] = c as f64;
                        out.push(y);
                    }
                }
            }
            Dim::Ordinal { values } => {
                let i = dim.index_of(x[k]) as i64;
                let mut step = 1i64;
                while step < values.len() as i64 {
                    for j in [i - step, i + step] {
                        if j >= 0 && (j as usize) < values.len() {
                            let mut y = x.to_vec();
                            y[k] = values[j as usize];
                            out.push(y);
                        }
                    }
                    step *= 2;
                }
            }
        }
    }
    out
}

/// Step 3: from `start`, alternate L-BFGS on the continuous coordinates (inside their bounds,
/// discrete ones fixed) with moves to the best improving discrete neighbour, until neither
/// improves. Discrete coordinates only ever take admissible values.
pub fn local_search<A: AcquisitionFunction + ?Sized>(
    acq: &A,
    domain: &Domain,
    start: &[f64],
    start_value: f64,
    config: &OptimizerConfig,
) -> Candidate {
    let cont = domain.continuous_dims();
    let map = SineBox {
        low: cont
            .iter()
            .map(|&k| match domain.dims()[k] {
                Dim::Continuous { low, .. } => low,
                _ => unreachable!("continuous_dims lists continuous dimensions"),
            })
            .collect(),
        high: cont
            .iter()
            .map(|&k| match domain.dims()[k] {
                Dim::Continuous { high, .. } => high,
                _ => unreachable!("continuous_dims lists continuous dimensions"),
            })
            .collect(),
        coords: cont,
    };
    let has_discrete = !domain.discrete_dims().is_empty();
    let mut x = start.to_vec();
    let mut value = start_value;
    for _ in 0..config.neighbour_rounds {
        let (nx, nv) = maximize_in_box(acq, &map, &x, value, config.max_iters);
        if nv > value {
            x = nx;
            value = nv;
        }
        if !has_discrete {
            break;
        }
        let neighbours = discrete_neighbours(domain, &x);
        if neighbours.is_empty() {
            break;
        }
        let m = DMatrix::from_fn(neighbours.len(), x.len(), |i, k| neighbours[i][k]);
        let vals = match acq.values(&m) {
            Ok(v) => v,
            Err(_) => break,
        };
        let best = vals
            .iter()
            .enumerate()
            .filter(|(_, v)| v.is_finite())
            .max_by(|a, b| a.1.total_cmp(b.1));
        match best {
            Some((i, &v)) if v > value + 1e-12 * value.abs().max(1.0) => {
                x = neighbours[i].clone();
                value = v;
            }
            _ => break,
        }
    }
    domain.project(&mut x);
    Candidate { x, value }
}

/// Step 4: the best of `candidates` that is not the same point as any of `exclude` (unless
/// duplicates are allowed).
pub fn best_candidate(
    domain: &Domain,
    mut candidates: Vec<Candidate>,
    exclude: &[Vec<f64>],
    config: &OptimizerConfig,
) -> Result<Candidate, AcqError> {
    let examined = candidates.len();
    candidates.retain(|c| c.value.is_finite() || c.value == f64::NEG_INFINITY);
    if examined > 0 && candidates.is_empty() {
        // Nothing was excluded: the acquisition is NaN or +∞ at every candidate.
        return Err(AcqError::NonFinite);
    }
    candidates.sort_by(|a, b| b.value.total_cmp(&a.value));
    let tried = candidates.len();
    candidates
        .into_iter()
        .find(|c| {
            config.duplicates == Duplicates::Allow
                || !exclude
                    .iter()
                    .any(|e| domain.same_point(&c.x, e, config.duplicate_tol))
        })
        .ok_or(AcqError::Exhausted { tried })
}

/// Maximizes `acq` over `domain`, never returning a point of `exclude` (evaluated or pending)
/// unless `config.duplicates` allows it. Deterministic for a given config.
pub fn optimize<A: AcquisitionFunction + ?Sized>(
    acq: &A,
    domain: &Domain,
    config: &OptimizerConfig,
    exclude: &[Vec<f64>],
) -> Result<Candidate, AcqError> {
    optimize_with(acq, domain, config, exclude, &|_: &mut [f64]| {})
}

/// Raw points around `anchors`: `config.around_best` of them, anchor `i mod k` moved by a
/// Gaussian step on every continuous coordinate, of a standard deviation that cycles through
/// 0.1%, 1% and 10% of the coordinate's range (clamped to the box); discrete coordinates keep
/// the anchor's value. None when the domain has no continuous coordinate (the discrete
/// neighbours of the local search already cover an anchor's surroundings there; measured on the
/// tabular benchmarks, starts at the anchors themselves were no better).
pub fn samples_around(
    domain: &Domain,
    config: &OptimizerConfig,
    anchors: &[Vec<f64>],
) -> DMatrix<f64> {
    const SCALES: [f64; 3] = [1e-3, 1e-2, 1e-1];
    let d = domain.len();
    let anchors: Vec<&Vec<f64>> = anchors.iter().filter(|a| a.len() == d).collect();
    if anchors.is_empty() || config.around_best == 0 || domain.continuous_dims().is_empty() {
        return DMatrix::zeros(0, d);
    }
    let mut rng = ChaCha8Rng::seed_from_u64(config.seed ^ 0xa11c_0de5);
    let normal = rand_distr::StandardNormal;
    let k = anchors.len();
    let mut out = DMatrix::zeros(config.around_best, d);
    for i in 0..config.around_best {
        let a = anchors[i % k];
        let scale = SCALES[(i / k) % SCALES.len()];
        for (j, dim) in domain.dims().iter().enumerate() {
            out[(i, j)] = match dim {
                Dim::Continuous { low, high } => {
                    let z: f64 = rand_distr::Distribution::sample(&normal, &mut rng);
                    (a[j] + z * scale * (high - low)).clamp(*low, *high)
                }
                _ => a[j],
            };
        }
    }
    out
}

/// [`optimize`], with every candidate first mapped to a canonical form by `canonicalize`
/// before it is compared with `exclude` and returned. A caller whose points have equivalent
/// forms (e.g. coordinates of inactive conditional parameters) passes its canonical map, so
/// that two forms of the same configuration count as one.
pub fn optimize_with<A: AcquisitionFunction + ?Sized>(
    acq: &A,
    domain: &Domain,
    config: &OptimizerConfig,
    exclude: &[Vec<f64>],
    canonicalize: &(dyn Fn(&mut [f64]) + Sync),
) -> Result<Candidate, AcqError> {
    optimize_around(acq, domain, config, exclude, canonicalize, &[])
}

/// [`optimize_with`], with [`samples_around`] `anchors` (e.g. the best observed points) added to
/// the raw points, so that local searches also start where the data are best.
pub fn optimize_around<A: AcquisitionFunction + ?Sized>(
    acq: &A,
    domain: &Domain,
    config: &OptimizerConfig,
    exclude: &[Vec<f64>],
    canonicalize: &(dyn Fn(&mut [f64]) + Sync),
    anchors: &[Vec<f64>],
) -> Result<Candidate, AcqError> {
    config.check()?;
    domain.check()?;
    if acq.dim() != domain.len() {
        return Err(AcqError::DimensionMismatch {
            expected: domain.len(),
            got: acq.dim(),
        });
    }
    for e in exclude {
        if e.len() != domain.len() {
            return Err(AcqError::DimensionMismatch {
                expected: domain.len(),
                got: e.len(),
            });
        }
    }
    let mut raw = raw_samples(domain, config);
    let around = samples_around(domain, config, anchors);
    if around.nrows() > 0 {
        let n = raw.nrows();
        raw = raw.resize_vertically(n + around.nrows(), 0.0);
        raw.rows_mut(n, around.nrows()).copy_from(&around);
    }
    let values = acq.values(&raw)?;
    if values.iter().all(|v| v.is_nan()) {
        return Err(AcqError::NonFinite);
    }
    let row = |i: usize| -> Vec<f64> { raw.row(i).iter().copied().collect() };
    let starts = select_starts(&values, config);
    // Local searches are independent: run them on all cores (results in start order, so the
    // outcome does not depend on the number of threads).
    let mut candidates: Vec<Candidate> = starts
        .par_iter()
        .map(|&i| local_search(acq, domain, &row(i), values[i], config))
        .collect();
    // Raw points back the local results up when those are duplicates.
    candidates.extend((0..raw.nrows()).map(|i| Candidate {
        x: row(i),
        value: values[i],
    }));
    for c in candidates.iter_mut() {
        canonicalize(&mut c.x);
    }
    let best = best_candidate(domain, candidates, exclude, config)?;
    if best.value.is_nan() {
        return Err(AcqError::NonFinite);
    }
    Ok(best)
}
