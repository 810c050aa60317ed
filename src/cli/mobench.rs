//! Multi-objective table problems of `nasbo bench`: NAS-Bench-201's cells scored on their mean
//! validation accuracy (maximized) against their latency or their parameter count (minimized).
//!
//! | problem | objectives (columns) |
//! |---|---|
//! | `nb201-latency` | `val_acc_mean` (max), `latency_s` (min) |
//! | `nb201-params` | `val_acc_mean` (max), `params_m` (min) |
//!
//! Any table with `op0`…`op5` and those columns works (`--table`, e.g. NAS-Bench-201 on
//! CIFAR-100 or ImageNet16-120). A trial observes the row's values. The curves' `best` is the
//! **normalized hypervolume** of the trials so far: each objective scaled to [0, 1] over the
//! table (1 the best value in the table), the reference point the worst corner, divided by
//! the hypervolume of the table's whole Pareto front; `regret` is `1 − best`.

use std::collections::HashMap;
use std::path::Path;

use anyhow::{bail, Context as _, Result};
use nasbo::tuner::pareto::hypervolume;
use nasbo::tuner::run::{run as run_loop, RunConfig, TrialHandle};
use nasbo::tuner::{Direction, Outcome, Param, Space, StrategyKind, Study, StudyConfig, Value};

use super::bench::CurvePoint;

struct Kind {
    name: &'static str,
    objectives: &'static [(&'static str, Direction)],
}

const KINDS: &[Kind] = &[
    Kind {
        name: "nb201-latency",
        objectives: &[
            ("val_acc_mean", Direction::Maximize),
            ("latency_s", Direction::Minimize),
        ],
    },
    Kind {
        name: "nb201-params",
        objectives: &[
            ("val_acc_mean", Direction::Maximize),
            ("params_m", Direction::Minimize),
        ],
    },
];

const OPS: [&str; 6] = ["op0", "op1", "op2", "op3", "op4", "op5"];

/// Whether `name` is a multi-objective problem.
pub fn is_mo(name: &str) -> bool {
    KINDS.iter().any(|k| k.name == name)
}

/// The names of the multi-objective problems.
pub fn names() -> Vec<&'static str> {
    KINDS.iter().map(|k| k.name).collect()
}

/// A multi-objective table problem.
pub struct MoProblem {
    /// `<kind>:<table stem>`.
    pub name: String,
    space: Space,
    directions: Vec<Direction>,
    /// Per configuration (the ops' choices), its objectives.
    lookup: HashMap<Vec<String>, Vec<f64>>,
    /// Per objective, the table's (worst, best) in "larger is better" orientation.
    bounds: Vec<(f64, f64)>,
    /// The hypervolume of the table's Pareto front, normalized.
    max_hv: f64,
}

impl MoProblem {
    /// Loads the problem `name` from the table at `path`.
    pub fn load(name: &str, path: &Path) -> Result<Self> {
        let kind = KINDS
            .iter()
            .find(|k| k.name == name)
            .with_context(|| format!("no multi-objective problem `{name}`"))?;
        let p = path.display().to_string();
        let mut r = csv::Reader::from_reader(super::tables::open(path)?);
        let header: Vec<String> = r.headers()?.iter().map(|h| h.trim().to_string()).collect();
        let col = |c: &str| {
            header
                .iter()
                .position(|h| h == c)
                .with_context(|| format!("{p}, line 1: no column `{c}` (a {name} table needs it)"))
        };
        let ops: Vec<usize> = OPS.iter().map(|c| col(c)).collect::<Result<_>>()?;
        let ocols: Vec<usize> = kind
            .objectives
            .iter()
            .map(|(c, _)| col(c))
            .collect::<Result<_>>()?;
        let mut lookup = HashMap::new();
        let mut choices: Vec<Vec<String>> = vec![Vec::new(); OPS.len()];
        for (i, rec) in r.records().enumerate() {
            let line = i + 2;
            let rec = rec.with_context(|| format!("{p}, line {line}"))?;
            let key: Vec<String> = ops
                .iter()
                .map(|&c| rec.get(c).unwrap_or("").trim().to_string())
                .collect();
            let mut values = Vec::with_capacity(ocols.len());
            for &c in &ocols {
                let s = rec.get(c).unwrap_or("").trim();
                let v: f64 = s.parse().with_context(|| {
                    format!("{p}, line {line}: `{s}` in `{}` is not a number", header[c])
                })?;
                if !v.is_finite() {
                    bail!("{p}, line {line}: `{s}` in `{}` is not finite", header[c]);
                }
                values.push(v);
            }
            for (c, k) in choices.iter_mut().zip(&key) {
                if !c.contains(k) {
                    c.push(k.clone());
                }
            }
            lookup.insert(key, values);
        }
        if lookup.is_empty() {
            bail!("{p}: no rows");
        }
        let directions: Vec<Direction> = kind.objectives.iter().map(|o| o.1).collect();
        let bounds: Vec<(f64, f64)> = (0..directions.len())
            .map(|j| {
                lookup
                    .values()
                    .map(|v| directions[j].to_max(v[j]))
                    .fold((f64::INFINITY, f64::NEG_INFINITY), |(lo, hi), x| {
                        (lo.min(x), hi.max(x))
                    })
            })
            .collect();
        if let Some(j) = bounds.iter().position(|(lo, hi)| hi <= lo) {
            bail!("{p}: `{}` takes one value only", kind.objectives[j].0);
        }
        let mut problem = MoProblem {
            name: format!("{name}:{}", super::tables::stem(path)),
            space: Space::new(
                OPS.iter()
                    .zip(&choices)
                    .map(|(n, c)| {
                        let mut c: Vec<&str> = c.iter().map(String::as_str).collect();
                        c.sort();
                        Param::categorical(n, &c)
                    })
                    .collect(),
            )?,
            directions,
            lookup,
            bounds,
            max_hv: 1.0,
        };
        let all: Vec<Vec<f64>> = problem.lookup.values().cloned().collect();
        problem.max_hv = problem.raw_hv(&all)?;
        Ok(problem)
    }

    fn normalized(&self, v: &[f64]) -> Vec<f64> {
        v.iter()
            .zip(&self.directions)
            .zip(&self.bounds)
            .map(|((x, d), (lo, hi))| (d.to_max(*x) - lo) / (hi - lo))
            .collect()
    }

    fn raw_hv(&self, values: &[Vec<f64>]) -> Result<f64> {
        let pts: Vec<Vec<f64>> = values.iter().map(|v| self.normalized(v)).collect();
        // The worst corner, a hair below so that the table's extremes count.
        let reference = vec![-1e-9; self.directions.len()];
        Ok(hypervolume(&pts, &reference)?)
    }

    /// The normalized hypervolume of these objective vectors (1: the table's front).
    pub fn normalized_hv(&self, values: &[Vec<f64>]) -> Result<f64> {
        Ok(self.raw_hv(values)? / self.max_hv)
    }

    fn eval(&self, a: &[Option<Value>]) -> Option<Vec<f64>> {
        let key: Vec<String> = a
            .iter()
            .map(|v| match v {
                Some(Value::Cat(c)) => c.clone(),
                _ => String::new(),
            })
            .collect();
        self.lookup.get(&key).cloned()
    }
}

/// Runs one strategy on a multi-objective problem with one seed: per trial, the first
/// objective as `value` and the normalized hypervolume so far as `best` (`regret` = 1 − it).
pub fn run_one(
    problem: &MoProblem,
    strategy: &StrategyKind,
    seed: u64,
    trials: usize,
) -> Result<Vec<CurvePoint>> {
    let mut study = Study::new(
        problem.space.clone(),
        StudyConfig {
            seed,
            strategy: strategy.clone(),
            directions: problem.directions.clone(),
            ..StudyConfig::default()
        },
    )?;
    let objective = |t: &TrialHandle| match problem.eval(t.params()) {
        Some(values) => Outcome::Complete {
            values,
            metrics: vec![],
        },
        None => Outcome::failed("the table has no row for this cell"),
    };
    run_loop(
        &mut study,
        &objective,
        &RunConfig::trials(trials),
        &mut |_| {},
    )?;
    let mut seen: Vec<Vec<f64>> = Vec::new();
    let mut curve = Vec::with_capacity(trials);
    for (i, t) in study.trials().iter().enumerate() {
        if t.values.len() == problem.directions.len() {
            seen.push(t.values.clone());
        }
        let hv = problem.normalized_hv(&seen)?;
        curve.push(CurvePoint {
            trial: i + 1,
            value: t.values.first().copied().unwrap_or(f64::NAN),
            best: hv,
            regret: (1.0 - hv).max(0.0),
        });
    }
    Ok(curve)
}

/// The table of median normalized hypervolume at the given trial counts, per problem and
/// strategy (markdown).
pub fn summary(runs: &super::curves::Runs, at: &[usize]) -> String {
    let mut keys: Vec<(String, String)> = Vec::new();
    for (s, p, _, _) in runs {
        let k = (p.clone(), s.clone());
        if is_mo(p.split(':').next().unwrap_or("")) && !keys.contains(&k) {
            keys.push(k);
        }
    }
    let mut out = format!(
        "| problem | strategy | {} |\n|---|---|{}\n",
        at.iter()
            .map(|n| format!("median normalized HV at {n} (IQR)"))
            .collect::<Vec<_>>()
            .join(" | "),
        "---|".repeat(at.len())
    );
    for (p, s) in keys {
        let cells: Vec<String> = at
            .iter()
            .map(|&n| {
                let mut v: Vec<f64> = runs
                    .iter()
                    .filter(|(rs, rp, _, _)| *rs == s && *rp == p)
                    .filter_map(|(_, _, _, c)| c.get(n.min(c.len()).saturating_sub(1)))
                    .map(|c| c.best)
                    .collect();
                v.sort_by(f64::total_cmp);
                if v.is_empty() {
                    return "-".into();
                }
                let q = |f: f64| v[((v.len() - 1) as f64 * f).round() as usize];
                format!("{:.4} ({:.4}–{:.4})", q(0.5), q(0.25), q(0.75))
            })
            .collect();
        out.push_str(&format!("| {p} | {s} | {} |\n", cells.join(" | ")));
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn table() -> std::path::PathBuf {
        nasbo::train::data::datasets_dir()
            .join("benchmarks")
            .join("nasbench201_cifar10.csv.gz")
    }

    #[test]
    fn the_tables_front_has_hypervolume_one_and_random_search_less() {
        let p = MoProblem::load("nb201-latency", &table()).unwrap();
        assert_eq!(p.space.len(), 6);
        let all: Vec<Vec<f64>> = p.lookup.values().cloned().collect();
        assert!((p.normalized_hv(&all).unwrap() - 1.0).abs() < 1e-12);
        let curve = run_one(&p, &StrategyKind::Random, 0, 30).unwrap();
        assert_eq!(curve.len(), 30);
        // The hypervolume never falls and stays below the table's.
        assert!(curve.windows(2).all(|w| w[1].best >= w[0].best));
        let last = curve.last().unwrap();
        assert!(last.best > 0.0 && last.best < 1.0, "{}", last.best);
        assert!((last.regret - (1.0 - last.best)).abs() < 1e-12);
    }

    #[test]
    fn a_table_without_the_columns_is_refused_by_name() {
        let dir = std::env::temp_dir().join(format!("nasbo-mobench-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let path = dir.join("t.csv");
        std::fs::write(
            &path,
            "op0,op1,op2,op3,op4,op5,val_acc_mean\na,a,a,a,a,a,1\n",
        )
        .unwrap();
        let e = MoProblem::load("nb201-params", &path)
            .err()
            .unwrap()
            .to_string();
        assert!(e.contains("no column `params_m`"), "{e}");
    }
}
