//! Which parameters matter: a functional-ANOVA (Sobol) decomposition of a model fitted to the
//! trials, as Optuna's fANOVA evaluator and Ax's sensitivity analysis do it.
//!
//! The function decomposed is the posterior median of the study's model
//! ([`crate::bo::fit_surrogate`]) in the target's own units, over the space with each
//! parameter drawn uniformly on its scale (log scale where the parameter has one; choices
//! equally likely). A conditional parameter is drawn like the others and dropped where its
//! condition does not hold, so it explains variance only where it is active; its parent
//! carries the effect of switching it on.
//!
//! For each parameter `i`, with `V` the variance of the function:
//! - the **main effect** `S_i = Var(E[f | x_i]) / V`: the fraction of the variance that `x_i`
//!   explains alone. Main effects lie in `[0, 1]` and sum to at most 1 (to 1 when the function
//!   is additive); the rest is interactions. This is what [`Importance::main`] and the report's
//!   `importance.csv` give.
//! - the **total effect** `S_Ti = E[Var(f | x_~i)] / V`: the fraction that involves `x_i` at all,
//!   interactions included (≥ `S_i`).
//!
//! They are estimated on two scrambled-Sobol samples `A`, `B` of `N` points and the `d` mixed
//! samples `AB_i` (`A` with column `i` from `B`), with Saltelli's (2010) estimator for the main
//! effect and Jansen's (1999) for the total: `N (d + 2)` model evaluations. Estimates are
//! clipped to `[0, 1]`, and main effects scaled down if their sum exceeds 1 by sampling error.
//!
//! ```
//! use nasbo_tuner::importance::sobol_indices;
//! use nasbo_tuner::{Param, Space};
//!
//! // f = 3a + b: a explains 9/10 of the variance, b 1/10, c nothing.
//! let space = Space::new(vec![Param::float("a", 0.0, 1.0), Param::float("b", 0.0, 1.0), Param::float("c", 0.0, 1.0)])?;
//! let f = |pts: &[nasbo_tuner::Assignment]| -> Vec<f64> {
//!     pts.iter().map(|p| 3.0 * p[0].as_ref().unwrap().as_f64().unwrap() + p[1].as_ref().unwrap().as_f64().unwrap()).collect()
//! };
//! let s = sobol_indices(&space, &f, 4096, 0);
//! assert!((s[0].main - 0.9).abs() < 0.02 && (s[1].main - 0.1).abs() < 0.02 && s[2].main < 0.01);
//! # Ok::<(), nasbo_tuner::TunerError>(())
//! ```

use nasbo_acq::sobol_point;

use crate::bo::{fit_surrogate, BoConfig, FitOptions, StudyModel, Target};
use crate::space::{Assignment, Space};
use crate::trial::{Trial, TrialState};
use crate::TunerError;

/// The importance of one parameter for one target.
#[derive(Clone, Debug, PartialEq)]
pub struct Importance {
    /// The parameter's name.
    pub param: String,
    /// Main effect (first-order Sobol index), in `[0, 1]`.
    pub main: f64,
    /// Total effect (total Sobol index), in `[0, 1]`.
    pub total: f64,
}

/// Settings of [`importance`].
///
/// | setting | default | meaning |
/// |---|---|---|
/// | `samples` | 2048 | `N`, points of each of the two Sobol samples (`N (d + 2)` model evaluations) |
/// | `seed` | 0 | scrambling of the Sobol samples and the model's fit |
/// | `min_trials` | 4 | fewest complete trials with a value to fit a model to |
#[derive(Clone, Debug, PartialEq)]
pub struct ImportanceConfig {
    /// Points per Sobol sample.
    pub samples: usize,
    /// Seed.
    pub seed: u64,
    /// Fewest complete trials needed.
    pub min_trials: usize,
}

impl Default for ImportanceConfig {
    fn default() -> Self {
        ImportanceConfig {
            samples: 2048,
            seed: 0,
            min_trials: 4,
        }
    }
}

/// Sobol indices of `f` (evaluated on batches of assignments) over `space`, from two samples
/// of `n` points; one entry per parameter, in the space's order.
pub fn sobol_indices(
    space: &Space,
    f: &dyn Fn(&[Assignment]) -> Vec<f64>,
    n: usize,
    seed: u64,
) -> Vec<Importance> {
    let d = space.len();
    let n = n.max(2);
    // Columns 0..d of a 2d-dimensional scrambled Sobol sequence are A, columns d..2d are B.
    let units: Vec<Vec<f64>> = (0..n)
        .map(|i| sobol_point(i as u32 + 1, 2 * d, seed))
        .collect();
    let assign = |row: &dyn Fn(usize) -> f64| -> Assignment {
        space.assign(
            space
                .params()
                .iter()
                .enumerate()
                .map(|(k, p)| p.from_unit(row(k)))
                .collect(),
        )
    };
    let a: Vec<Assignment> = units.iter().map(|u| assign(&|k| u[k])).collect();
    let b: Vec<Assignment> = units.iter().map(|u| assign(&|k| u[d + k])).collect();
    let fa = f(&a);
    let fb = f(&b);
    let all: Vec<f64> = fa.iter().chain(&fb).copied().collect();
    let mean = all.iter().sum::<f64>() / all.len() as f64;
    let var = all.iter().map(|v| (v - mean) * (v - mean)).sum::<f64>() / all.len() as f64;
    let mut out: Vec<Importance> = space
        .params()
        .iter()
        .enumerate()
        .map(|(i, p)| {
            if !(var.is_finite() && var > 0.0) {
                return Importance {
                    param: p.name.clone(),
                    main: 0.0,
                    total: 0.0,
                };
            }
            let ab: Vec<Assignment> = units
                .iter()
                .map(|u| assign(&|k| if k == i { u[d + k] } else { u[k] }))
                .collect();
            let fab = f(&ab);
            let nf = n as f64;
            let main = fb
                .iter()
                .zip(&fab)
                .zip(&fa)
                .map(|((b, ab), a)| b * (ab - a))
                .sum::<f64>()
                / nf
                / var;
            let total = fa
                .iter()
                .zip(&fab)
                .map(|(a, ab)| (a - ab) * (a - ab))
                .sum::<f64>()
                / (2.0 * nf)
                / var;
            let clip = |v: f64| {
                if v.is_finite() {
                    v.clamp(0.0, 1.0)
                } else {
                    0.0
                }
            };
            Importance {
                param: p.name.clone(),
                main: clip(main),
                total: clip(total),
            }
        })
        .collect();
    let sum: f64 = out.iter().map(|s| s.main).sum();
    if sum > 1.0 {
        for s in out.iter_mut() {
            s.main /= sum;
        }
    }
    for s in out.iter_mut() {
        s.total = s.total.max(s.main);
    }
    out
}

/// The importance of each parameter for `target`, from a model of the complete trials that
/// have a value for it (failed and pending trials are left out: a failure says nothing about
/// how a parameter moves the value). A positive target spanning more than two decades (a
/// parameter count, a training time) is modelled on a log scale, so that its importances are
/// about relative changes. Fewer than `config.min_trials` such trials is an error.
pub fn importance(
    space: &Space,
    trials: &[Trial],
    target: &Target,
    config: &ImportanceConfig,
) -> Result<Vec<Importance>, TunerError> {
    let (used, _log) = prepare(trials, target);
    if used.len() < config.min_trials.max(2) {
        return Err(TunerError::InvalidConfig {
            name: "importance",
            value: format!("{} complete trials", used.len()),
            reason: format!(
                "a model of the importances needs at least {} complete trials with a value",
                config.min_trials.max(2)
            ),
        });
    }
    let model = fit_surrogate(
        space,
        &used,
        target,
        &report_model(),
        &FitOptions {
            seed: config.seed,
            warm_start: None,
            local_starts: None,
        },
    )?;
    importance_of_model(space, &model, config)
}

/// The importances of [`importance`] from a model already fitted (a report fits the
/// objective's model once, for its slices and its importances).
pub fn importance_of_model(
    space: &Space,
    model: &StudyModel,
    config: &ImportanceConfig,
) -> Result<Vec<Importance>, TunerError> {
    let failed = std::cell::Cell::new(None);
    let f = |pts: &[Assignment]| -> Vec<f64> {
        match model.predict(pts) {
            Ok(b) => b.into_iter().map(|b| b.median).collect(),
            Err(e) => {
                failed.set(Some(e));
                vec![0.0; pts.len()]
            }
        }
    };
    let out = sobol_indices(space, &f, config.samples, config.seed);
    if let Some(e) = failed.take() {
        return Err(e);
    }
    Ok(out)
}

/// The model a report fits: `bo`'s model with its noisy-objective settings (it learns the
/// noise level, which real training runs have; no power transform), and values pulled in only
/// when they are more than a million robust scales out (a `1e300` from a diverged run), so
/// that it predicts in the target's own units: a study that gathered near its optimum has a
/// tiny robust scale, and `bo`'s band of 50 would bend the rest of its values. Above 800
/// trials it conditions on a uniform subset (`bo`'s subset favours the best trials, and the
/// importances would then describe their neighbourhood rather than the space).
pub fn report_model() -> BoConfig {
    BoConfig {
        noisy: true,
        extreme_band: 1e6,
        subset: crate::bo::SubsetDraw::Uniform,
        ..BoConfig::default()
    }
}

/// The trials a report models for `target` (complete, with a value), their metric on a log
/// scale when it is positive and spans more than two decades; and whether it is.
pub fn prepare(trials: &[Trial], target: &Target) -> (Vec<Trial>, bool) {
    let mut used: Vec<Trial> = trials
        .iter()
        .filter(|t| t.state == TrialState::Complete && target.of(t).is_some_and(f64::is_finite))
        .cloned()
        .collect();
    let values: Vec<f64> = used.iter().filter_map(|t| target.of(t)).collect();
    let (lo, hi) = values
        .iter()
        .fold((f64::INFINITY, f64::NEG_INFINITY), |(a, b), &v| {
            (a.min(v), b.max(v))
        });
    let log = matches!(target, Target::Metric { .. }) && lo > 0.0 && hi / lo > 100.0;
    if log {
        if let Target::Metric { name, .. } = target {
            for t in used.iter_mut() {
                for (n, v) in t.metrics.iter_mut() {
                    if n == name {
                        *v = v.ln();
                    }
                }
            }
        }
    }
    for (i, t) in used.iter_mut().enumerate() {
        t.number = i;
    }
    (used, log)
}
