//! `bo` in a study of several objectives: one GP per objective and the exact log expected
//! hypervolume improvement ([`MultiObjective::Ehvi`], the default), or ParEGO's random
//! Chebyshev scalarizations ([`MultiObjective::Parego`]).

use std::sync::Arc;

use nalgebra::{DMatrix, DVector};
use nasbo_acq::{optimize_with, AcqError, Domain, LogExpectedHypervolumeImprovement, Surrogate};
use rand::Rng;
use serde::{Deserialize, Serialize};

use super::Context;
use crate::bo::encode::Encoder;
use crate::bo::{fit_data, BoConfig, FitOptions, MultiObjective, StudyModel, Target, TrainingData};
use crate::pareto::non_dominated;
use crate::space::Assignment;
use crate::trial::{Direction, TrialState};
use crate::TunerError;

/// What `bo` keeps with a trial it proposed in a study of several objectives: each model's
/// fitted log-parameters (one for ParEGO's scalarization).
#[derive(Serialize, Deserialize)]
struct MoState {
    gps: Vec<Vec<f64>>,
}

/// The trials as rows of objective values ("larger is better"), aligned across objectives:
/// complete trials with their values, failed and pruned ones with each objective's worst
/// complete value, pending ones as pending points.
struct Rows {
    xs: Vec<Vec<f64>>,
    /// Per row, the objectives.
    ys: Vec<Vec<f64>>,
    /// Per row, whether the trial completed (the others stand in for failures).
    complete: Vec<bool>,
    pending: Vec<Vec<f64>>,
}

impl Rows {
    fn new(enc: &Encoder, ctx: &Context<'_>) -> Self {
        let dirs = ctx.directions;
        let k = dirs.len();
        let oriented = |t: &crate::Trial| crate::pareto::oriented(t, dirs);
        let mut worst = vec![f64::INFINITY; k];
        for y in ctx.trials.iter().filter_map(oriented) {
            for (w, v) in worst.iter_mut().zip(&y) {
                *w = w.min(*v);
            }
        }
        let mut rows = Rows {
            xs: Vec::new(),
            ys: Vec::new(),
            complete: Vec::new(),
            pending: Vec::new(),
        };
        for t in ctx.trials {
            match t.state {
                TrialState::Complete => {
                    if let Some(y) = oriented(t) {
                        rows.xs.push(enc.encode(&t.params));
                        rows.ys.push(y);
                        rows.complete.push(true);
                    }
                }
                TrialState::Failed | TrialState::Pruned if worst.iter().all(|w| w.is_finite()) => {
                    rows.xs.push(enc.encode(&t.params));
                    rows.ys.push(worst.clone());
                    rows.complete.push(false);
                }
                TrialState::Running | TrialState::Queued => {
                    rows.pending.push(enc.encode(&t.params))
                }
                _ => {}
            }
        }
        rows
    }
}

/// Objective `j`'s training data, built as the single objective's is
/// ([`TrainingData::from_trials`]): failures at its worst complete value, pruned trials as
/// [`BoConfig::pruned`] says (intermediate values are the first objective's), pending trials
/// pending.
fn objective_data(enc: &Encoder, ctx: &Context<'_>, j: usize, config: &BoConfig) -> TrainingData {
    let target = Target::Objective {
        index: j,
        direction: ctx.directions[j],
    };
    TrainingData::from_trials(enc, ctx.trials, &target, config.pruned)
}

/// The proposal of `bo` in a study of several objectives, the state to keep with it, and
/// why it is not the configured rule's when it is not (EHVI's box decomposition too large for
/// the front: ParEGO's scalarization of the same trials proposes instead).
pub(super) fn step(
    config: &BoConfig,
    enc: &Arc<Encoder>,
    ctx: &Context<'_>,
) -> Result<(Assignment, String, Option<String>), TunerError> {
    let rows = Rows::new(enc, ctx);
    let warm = super::bo::latest_state::<MoState>(ctx)
        .map(|s| s.gps)
        .unwrap_or_default();
    let domain: Domain = enc.domain()?;
    let optimizer = super::bo::optimizer_for(config, ctx);
    let options = |j: usize| FitOptions {
        seed: ctx.seed ^ ctx.number as u64 ^ (j as u64).wrapping_mul(0xA24B_AED4_963E_E407),
        warm_start: warm.get(j).cloned(),
        local_starts: None,
    };
    let canon = |v: &mut [f64]| enc.impute(v);
    let mut exclude = rows.xs.clone();
    exclude.extend(rows.pending.iter().cloned());
    let parego = |warm_start: bool| -> Result<_, TunerError> {
        let data = parego_data(&rows, ctx);
        let mut opts = options(0);
        if !warm_start {
            opts.warm_start = None;
        }
        let fitted = fit_data(enc.clone(), data, Direction::Maximize, config, &opts)?;
        let x = super::bo::propose_one(config.acquisition, config, enc, &fitted, ctx)?;
        Ok((x, fitted.warm_start_params()))
    };
    let mut note = None;
    let (x, gps) = match config.multi {
        MultiObjective::Ehvi => {
            let fitted: Vec<StudyModel> = (0..ctx.directions.len())
                .map(|j| {
                    fit_data(
                        enc.clone(),
                        objective_data(enc, ctx, j, config),
                        Direction::Maximize,
                        config,
                        &options(j),
                    )
                })
                .collect::<Result<_, _>>()?;
            match ehvi(
                config, &rows, &fitted, &domain, &optimizer, &exclude, &canon,
            ) {
                Ok(x) => (x, fitted.iter().map(|f| f.warm_start_params()).collect()),
                Err(TunerError::Acquisition(e @ AcqError::TooManyBoxes { .. })) => {
                    // The per-objective models stay the warm start of the next EHVI step;
                    // the scalarized model starts cold (its target differs every step).
                    note = Some(format!("{e}; proposed by ParEGO's scalarization instead"));
                    (
                        parego(false)?.0,
                        fitted.iter().map(|f| f.warm_start_params()).collect(),
                    )
                }
                Err(e) => return Err(e),
            }
        }
        MultiObjective::Parego => {
            let (x, gp) = parego(true)?;
            (x, vec![gp])
        }
    };
    let state = serde_json::to_string(&MoState { gps }).unwrap_or_default();
    Ok((enc.decode(&x), state, note))
}

/// Maximizes LogEHVI over the models' front (pending points believed at their means).
fn ehvi(
    config: &BoConfig,
    rows: &Rows,
    fitted: &[StudyModel],
    domain: &Domain,
    optimizer: &nasbo_acq::OptimizerConfig,
    exclude: &[Vec<f64>],
    canon: &(dyn Fn(&mut [f64]) + Sync),
) -> Result<Vec<f64>, TunerError> {
    let d = domain.len();
    let mut models = Vec::with_capacity(fitted.len());
    for f in fitted {
        let m = f.surrogate();
        if rows.pending.is_empty() {
            models.push(m);
        } else {
            let px = DMatrix::from_fn(rows.pending.len(), d, |i, q| rows.pending[i][q]);
            let (mean, _) = m.mean_var_batch(&px)?;
            models.push(m.condition(&px, &DVector::from_vec(mean))?);
        }
    }
    // The front on the models' scales: observed values (posterior means when noisy) of the
    // complete trials, and the believed values of the pending ones.
    let complete: Vec<usize> = (0..rows.xs.len()).filter(|&i| rows.complete[i]).collect();
    let cx = DMatrix::from_fn(complete.len(), d, |i, q| rows.xs[complete[i]][q]);
    let px = DMatrix::from_fn(rows.pending.len(), d, |i, q| rows.pending[i][q]);
    let mut cols: Vec<Vec<f64>> = Vec::with_capacity(fitted.len());
    for (j, (f, m)) in fitted.iter().zip(&models).enumerate() {
        let mut c: Vec<f64> = if config.noisy {
            m.mean_var_batch(&cx)?.0
        } else {
            complete
                .iter()
                .map(|&i| f.to_model_scale(rows.ys[i][j]))
                .collect()
        };
        if !rows.pending.is_empty() {
            c.extend(m.mean_var_batch(&px)?.0);
        }
        cols.push(c);
    }
    let n = cols[0].len();
    let points: Vec<Vec<f64>> = (0..n)
        .map(|i| cols.iter().map(|c| c[i]).collect())
        .collect();
    // The reference: a tenth of each objective's range below its worst observed value.
    let reference: Vec<f64> = cols
        .iter()
        .map(|c| {
            let lo = c.iter().copied().fold(f64::INFINITY, f64::min);
            let hi = c.iter().copied().fold(f64::NEG_INFINITY, f64::max);
            let range = if hi > lo { hi - lo } else { 1.0 };
            lo - 0.1 * range
        })
        .collect();
    let front: Vec<Vec<f64>> = points
        .iter()
        .zip(non_dominated(&points))
        .filter(|(_, on)| *on)
        .map(|(p, _)| p.clone())
        .collect();
    let refs: Vec<&_> = models.iter().collect();
    let acq = LogExpectedHypervolumeImprovement::new(refs, &front, &reference)?;
    Ok(optimize_with(&acq, domain, optimizer, exclude, canon)?.x)
}

/// ParEGO's data: the augmented Chebyshev scalarization `min_j λ_j f̃_j + 0.05 Σ_j λ_j f̃_j`
/// of the objectives normalized to [0, 1] over the study, with a weight `λ` drawn uniformly
/// on the simplex from the trial's generator.
fn parego_data(rows: &Rows, ctx: &Context<'_>) -> TrainingData {
    let k = ctx.directions.len();
    let mut rng = ctx.rng(7);
    let raw: Vec<f64> = (0..k).map(|_| -(1.0 - rng.random::<f64>()).ln()).collect();
    let total: f64 = raw.iter().sum();
    let lambda: Vec<f64> = raw.iter().map(|r| r / total).collect();
    let lo: Vec<f64> = (0..k)
        .map(|j| rows.ys.iter().map(|y| y[j]).fold(f64::INFINITY, f64::min))
        .collect();
    let hi: Vec<f64> = (0..k)
        .map(|j| {
            rows.ys
                .iter()
                .map(|y| y[j])
                .fold(f64::NEG_INFINITY, f64::max)
        })
        .collect();
    let ys = rows
        .ys
        .iter()
        .map(|y| {
            let f: Vec<f64> = (0..k)
                .map(|j| {
                    let span = hi[j] - lo[j];
                    lambda[j]
                        * if span > 0.0 {
                            (y[j] - lo[j]) / span
                        } else {
                            0.5
                        }
                })
                .collect();
            f.iter().copied().fold(f64::INFINITY, f64::min) + 0.05 * f.iter().sum::<f64>()
        })
        .collect();
    TrainingData {
        xs: rows.xs.clone(),
        ys,
        pending: rows.pending.clone(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::bo::PrunedAs;
    use crate::space::{Param, Space, Value};
    use crate::trial::Trial;

    /// Each objective's model gets the single objective's rows: a pruned trial follows
    /// `BoConfig::pruned` for the first objective (whose intermediate values it reported) and
    /// stands at the worst value for the others; a failure is at each objective's worst.
    #[test]
    fn objectives_are_modelled_from_the_single_objective_training_data() {
        let space = Space::new(vec![Param::float("x", 0.0, 1.0)]).unwrap();
        let enc = Encoder::new(&space);
        let mut trials: Vec<Trial> = (0..5)
            .map(|n| Trial::new(n, vec![Some(Value::Float(0.2 * n as f64))]))
            .collect();
        for (t, y) in trials.iter_mut().zip([[1.0, 5.0], [2.0, 4.0], [3.0, 3.0]]) {
            t.state = TrialState::Complete;
            t.values = y.to_vec();
        }
        trials[3].state = TrialState::Pruned;
        trials[3].intermediate = vec![(1, 9.0)];
        trials[4].state = TrialState::Failed;
        let dirs = [Direction::Minimize, Direction::Minimize];
        let ctx = Context {
            space: &space,
            trials: &trials,
            direction: dirs[0],
            directions: &dirs,
            seed: 0,
            number: 5,
        };
        let with = |pruned| BoConfig {
            pruned,
            ..BoConfig::default()
        };
        // Larger is better: minimized values enter negated; the worst is -3 and -5.
        let ignored = objective_data(&enc, &ctx, 0, &with(PrunedAs::Ignored));
        assert_eq!(ignored.ys, vec![-1.0, -2.0, -3.0, -3.0], "pruned left out");
        let second = objective_data(&enc, &ctx, 1, &with(PrunedAs::Ignored));
        assert_eq!(second.ys, vec![-5.0, -4.0, -3.0, -5.0, -5.0]);
        let worst = objective_data(&enc, &ctx, 0, &with(PrunedAs::Worst));
        assert_eq!(worst.ys, vec![-1.0, -2.0, -3.0, -3.0, -3.0]);
    }
}
