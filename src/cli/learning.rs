//! Learning-curve problems for `nasbo bench` (`--problem lc-<base>-<regime>`): each
//! configuration of `[0, 1]^6` has a curve over `STEPS` steps that ends at a test function's
//! value, and a run has a budget in steps, so that pruning and unpruned search compare at
//! equal cost. `benches/compare/curves.py` computes the same curves for Optuna.
//!
//! `y(u, t) = f(u) + A(u) · (t^−r(u) − T^−r(u)) / (1 − T^−r(u))`, `t = 1..T`, `y(u, T) = f(u)`,
//! with `r(u) = 0.7 + 0.4 sin(2π w₁·u)` (how fast it converges) and
//! `A(u) = K · (0.2 + 0.5 (1 + cos(2π w₂·u + 0.3)))` (how far it starts): curves cross. `K`
//! is set per base so that the rank correlation between the value at step 3 (a tenth of the
//! budget) and the final value over random configurations is 0.87 (`rank`: early values rank
//! well) or 0.70 (`cross`: they mislead).

use std::f64::consts::PI;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;

use anyhow::{bail, Context as _, Result};
use nasbo::tuner::prune::Pruner;
use nasbo::tuner::run::{run as run_loop, RunConfig, TrialHandle};
use nasbo::tuner::testfns::Problem;
use nasbo::tuner::{
    Assignment, Direction, Outcome, Param, Space, StrategyKind, Study, StudyConfig, TrialState,
    Value,
};

use super::bench::CurvePoint;

/// Steps of a full trial.
pub const STEPS: u64 = 27;
const W1: [f64; 6] = [0.9, -0.4, 0.7, 0.3, -0.8, 0.5];
const W2: [f64; 6] = [-0.6, 0.8, 0.2, -0.9, 0.4, 0.7];

/// A learning-curve problem.
pub struct LcProblem {
    /// `lc-<base>-<regime>`.
    pub name: String,
    base: Problem,
    /// Map of `[0, 1]` to the base's box, per coordinate.
    bounds: Vec<(f64, f64)>,
    /// Post-transform of the base's value (`log1p` for Rosenbrock).
    log: bool,
    scale: f64,
    /// The minimum of the final values.
    pub optimum: f64,
}

/// Whether `name` is a learning-curve problem's name.
pub fn is_lc(name: &str) -> bool {
    name.to_ascii_lowercase().starts_with("lc-")
}

/// The learning-curve problems' names.
pub fn names() -> Vec<String> {
    let mut v = Vec::new();
    for b in ["hartmann6", "shiftedackley6", "rosenbrock6"] {
        for r in ["rank", "cross"] {
            v.push(format!("lc-{b}-{r}"));
        }
    }
    v
}

/// Resolves `lc-<base>-<regime>`.
pub fn problem(name: &str) -> Result<LcProblem> {
    let n = name.to_ascii_lowercase();
    let rest = n
        .strip_prefix("lc-")
        .context("not a learning-curve problem")?;
    let (base, regime) = rest.rsplit_once('-').with_context(|| {
        format!(
            "`{name}`: lc-<base>-<regime>, one of {}",
            names().join(", ")
        )
    })?;
    // Calibrated constants (benches/compare/curves.py); 3.141 is not π.
    #[allow(clippy::approx_constant)]
    let scale = match (base, regime) {
        ("hartmann6", "rank") => 0.472,
        ("hartmann6", "cross") => 1.209,
        ("shiftedackley6", "rank") => 1.414,
        ("shiftedackley6", "cross") => 2.780,
        ("rosenbrock6", "rank") => 3.141,
        ("rosenbrock6", "cross") => 6.394,
        _ => bail!(
            "unknown learning-curve problem `{name}` ({})",
            names().join(", ")
        ),
    };
    let p = Problem::by_name(base).context("a built-in base")?;
    let bounds = p
        .space
        .params()
        .iter()
        .map(|q| match q.kind {
            nasbo::tuner::ParamKind::Float { low, high, .. } => (low, high),
            _ => (0.0, 1.0),
        })
        .collect();
    Ok(LcProblem {
        name: format!("lc-{base}-{regime}"),
        optimum: if base == "rosenbrock6" {
            p.optimum.ln_1p()
        } else {
            p.optimum
        },
        log: base == "rosenbrock6",
        base: p,
        bounds,
        scale,
    })
}

impl LcProblem {
    /// The space: six floats in `[0, 1]`.
    pub fn space() -> Space {
        Space::new(
            (0..6)
                .map(|k| Param::float(&format!("x{k}"), 0.0, 1.0))
                .collect(),
        )
        .expect("a valid space")
    }
    /// The curve at `u`, steps 1..=STEPS.
    pub fn curve(&self, u: &[f64]) -> Vec<f64> {
        let x: Assignment = u
            .iter()
            .zip(&self.bounds)
            .map(|(v, (lo, hi))| Some(Value::Float(lo + (hi - lo) * v)))
            .collect();
        let f = self.base.eval(&x);
        let f = if self.log { f.ln_1p() } else { f };
        let dot = |w: &[f64; 6]| w.iter().zip(u).map(|(a, b)| a * b).sum::<f64>();
        let r = 0.7 + 0.4 * (2.0 * PI * dot(&W1)).sin();
        let amp = self.scale * (0.2 + 0.5 * (1.0 + (2.0 * PI * dot(&W2) + 0.3).cos()));
        let t_max = STEPS as f64;
        let end = t_max.powf(-r);
        (1..=STEPS)
            .map(|t| f + amp * ((t as f64).powf(-r) - end) / (1.0 - end))
            .collect()
    }
}

/// Runs `strategy` (with `pruner`) on `p` with a budget of `full_trials · STEPS` steps; one
/// curve point per trial, the incumbent being the best complete trial.
pub fn run_one(
    p: &LcProblem,
    strategy: &StrategyKind,
    pruner: Option<Arc<dyn Pruner>>,
    seed: u64,
    full_trials: usize,
) -> Result<Vec<CurvePoint>> {
    let budget = full_trials as u64 * STEPS;
    let used = AtomicU64::new(0);
    let mut study = Study::new(
        LcProblem::space(),
        StudyConfig {
            seed,
            // The budget in full trials sizes `bo`'s initial design.
            strategy: strategy.clone().with_budget(full_trials),
            ..StudyConfig::new(Direction::Minimize)
        },
    )?;
    let objective = |h: &TrialHandle| {
        let u: Vec<f64> = h
            .params()
            .iter()
            .map(|v| v.as_ref().and_then(|v| v.as_f64()).unwrap_or(0.0))
            .collect();
        let c = p.curve(&u);
        for (t, &y) in (1..=STEPS).zip(&c) {
            if used.fetch_add(1, Ordering::SeqCst) >= budget {
                return Outcome::failed("the step budget is spent");
            }
            if !h.report(t, y) {
                return Outcome::value(y);
            }
        }
        Outcome::value(c[c.len() - 1])
    };
    let mut n = 0;
    while used.load(Ordering::SeqCst) < budget {
        n += 1;
        let config = RunConfig {
            pruner: pruner.clone(),
            ..RunConfig::trials(n)
        };
        run_loop(&mut study, &objective, &config, &mut |_| {})?;
        if n > 100 * full_trials.max(1) {
            bail!("{}: the run does not spend its step budget", p.name);
        }
    }
    let mut best = f64::INFINITY;
    let mut curve = Vec::new();
    for (i, t) in study.trials().iter().enumerate() {
        let value = t.value().unwrap_or(f64::NAN);
        if t.state == TrialState::Complete && t.last_step() == Some(STEPS) {
            best = best.min(value);
        }
        curve.push(CurvePoint {
            trial: i + 1,
            value,
            best,
            regret: (best - p.optimum).max(0.0),
        });
    }
    Ok(curve)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn curves_end_at_the_base_and_match_the_python_copy() {
        for name in names() {
            let p = problem(&name).unwrap();
            let u = [0.2, 0.4, 0.6, 0.8, 0.1, 0.3];
            let c = p.curve(&u);
            assert_eq!(c.len(), STEPS as usize);
            assert!(c[0] > c[26], "{name}: curves go down");
        }
        // Values from benches/compare/curves.py (curve(base, regime, u)).
        let p = problem("lc-hartmann6-rank").unwrap();
        let c = p.curve(&[0.2, 0.4, 0.6, 0.8, 0.1, 0.3]);
        assert!(
            (c[0] - PY_H6_RANK[0]).abs() < 1e-9 && (c[26] - PY_H6_RANK[1]).abs() < 1e-9,
            "{} {}",
            c[0],
            c[26]
        );
        assert!(problem("lc-hartmann6-bogus").is_err());
    }

    const PY_H6_RANK: [f64; 2] = [0.417950271440816, -0.10139453076179229];
}
