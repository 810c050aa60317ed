//! Several proposals at once (q > 1) and proposals while other trials are pending: the
//! surrogate is conditioned on fantasized outcomes at the pending and already chosen points,
//! so parallel workers do not get the same point.

use nalgebra::{DMatrix, DVector};

use crate::domain::Domain;
use crate::functions::{AcqKind, Incumbent};
use crate::optimize::{optimize_around, Candidate, OptimizerConfig};
use crate::surrogate::Surrogate;
use crate::AcqError;

/// The outcome assumed at a pending point.
#[derive(Clone, Copy, Debug, PartialEq, Default)]
pub enum Fantasy {
    /// The posterior mean there ("Kriging believer", the default).
    #[default]
    KrigingBeliever,
    /// A constant lie (Ginsbourger et al. 2010).
    ConstantLiar(Liar),
}

/// Which constant a [`Fantasy::ConstantLiar`] uses.
#[derive(Clone, Copy, Debug, PartialEq)]
pub enum Liar {
    /// The worst observed value: pessimistic, spreads points the most.
    Min,
    /// The mean of the observed values.
    Mean,
    /// The best observed value: optimistic.
    Max,
}

/// A map from a point to its canonical form (see [`crate::optimize_with`]).
pub type Canonicalize<'a> = dyn Fn(&mut [f64]) + Sync + 'a;

/// What [`propose`] needs besides the model.
#[derive(Clone)]
pub struct ProposalRequest<'a> {
    /// The acquisition function.
    pub kind: AcqKind,
    /// The incumbent for improvement-based functions.
    pub incumbent: Incumbent,
    /// Where to search.
    pub domain: &'a Domain,
    /// Optimizer settings.
    pub config: &'a OptimizerConfig,
    /// How many points to propose (≥ 1).
    pub q: usize,
    /// Points being evaluated now, whose outcomes are unknown.
    pub pending: &'a [Vec<f64>],
    /// Points already evaluated (never proposed again unless duplicates are allowed).
    pub evaluated: &'a [Vec<f64>],
    /// What to assume at pending and chosen points.
    pub fantasy: Fantasy,
    /// Maps a point to its canonical form before comparisons (see
    /// [`crate::optimize_with`]); `None` for the identity.
    pub canonicalize: Option<&'a Canonicalize<'a>>,
}

fn lie<S: Surrogate>(model: &S, fantasy: Fantasy, x: &[f64]) -> Result<f64, AcqError> {
    let y = model.observed_outputs();
    Ok(match fantasy {
        Fantasy::KrigingBeliever => model.mean_var(x)?.0,
        Fantasy::ConstantLiar(Liar::Min) => y.iter().copied().fold(f64::INFINITY, f64::min),
        Fantasy::ConstantLiar(Liar::Max) => y.iter().copied().fold(f64::NEG_INFINITY, f64::max),
        Fantasy::ConstantLiar(Liar::Mean) => y.mean(),
    })
}

fn as_matrix(points: &[Vec<f64>], d: usize) -> DMatrix<f64> {
    DMatrix::from_fn(points.len(), d, |i, k| points[i][k])
}

/// How many of the best observed points anchor the optimizer's raw points
/// ([`OptimizerConfig::around_best`]).
pub const ANCHORS: usize = 3;

/// The `k` observed inputs of `model` with the largest observed outputs (none when `wanted` is 0).
fn best_observed<S: Surrogate>(model: &S, k: usize, wanted: usize) -> Vec<Vec<f64>> {
    if wanted == 0 {
        return Vec::new();
    }
    let x = model.observed_inputs();
    let y = model.observed_outputs();
    let mut order: Vec<usize> = (0..y.len().min(x.nrows()))
        .filter(|&i| y[i].is_finite())
        .collect();
    order.sort_by(|&a, &b| y[b].total_cmp(&y[a]));
    order
        .into_iter()
        .take(k)
        .map(|i| x.row(i).iter().copied().collect())
        .collect()
}

/// Proposes `q` points, accounting for pending ones.
pub fn propose<S: Surrogate + Sync>(
    model: &S,
    req: &ProposalRequest<'_>,
) -> Result<Vec<Candidate>, AcqError> {
    if req.q == 0 {
        return Err(AcqError::InvalidConfig {
            name: "q",
            value: "0".into(),
            reason: "at least 1".into(),
        });
    }
    let d = req.domain.len();
    let best_f = req.incumbent.resolve(model)?;
    let mut owned: Option<S> = None;
    if !req.pending.is_empty() {
        let ys: Vec<f64> = req
            .pending
            .iter()
            .map(|p| lie(model, req.fantasy, p))
            .collect::<Result<_, _>>()?;
        owned = Some(model.condition(&as_matrix(req.pending, d), &DVector::from_vec(ys))?);
    }
    let anchors = best_observed(model, ANCHORS, req.config.around_best);
    let mut exclude: Vec<Vec<f64>> = req.evaluated.to_vec();
    exclude.extend(req.pending.iter().cloned());
    let mut chosen = Vec::with_capacity(req.q);
    for i in 0..req.q {
        let current: &S = owned.as_ref().unwrap_or(model);
        let acq = req.kind.build(current, best_f)?;
        let config = OptimizerConfig {
            seed: req.config.seed.wrapping_add(i as u64),
            ..req.config.clone()
        };
        let identity = |_: &mut [f64]| {};
        let canon = req.canonicalize.unwrap_or(&identity);
        let cand = optimize_around(&acq, req.domain, &config, &exclude, canon, &anchors)?;
        drop(acq);
        if i + 1 < req.q {
            let y = lie(current, req.fantasy, &cand.x)?;
            let next = current.condition(
                &as_matrix(std::slice::from_ref(&cand.x), d),
                &DVector::from_element(1, y),
            )?;
            owned = Some(next);
        }
        exclude.push(cand.x.clone());
        chosen.push(cand);
    }
    Ok(chosen)
}
