//! Tabular benchmarks: every configuration of a search space was trained in advance, so a
//! trial is a table lookup. Each problem reads any file with its columns (given by path), so a
//! new table of the same kind works without code changes; the grids are read from the file.
//!
//! | problem | parameters | objective (observed) | regret against |
//! |---|---|---|---|
//! | `nb201` | `op0`…`op5`, each one of the five cell operations | validation accuracy (%) of one seed drawn at random per trial | the best mean validation accuracy in the table |
//! | `hpobench-mlp` | `alpha`, `batch_size`, `depth`, `learning_rate_init`, `width` (grid positions) | balanced validation accuracy, mean over the seeds | the best mean |
//! | `fcnet` | `activation_fn_1/2`, `lr_schedule` (categorical); `batch_size`, `dropout_1/2`, `init_lr`, `n_units_1/2` (grid positions) | validation MSE of one seed drawn at random per trial (minimized) | the lowest mean |
//!
//! Numeric grids become integer parameters over the grid positions (the grids are log-spaced
//! where the original space was), categorical columns categorical parameters. The regret uses
//! the mean over seeds of the incumbent.
//!
//! What a trial observes and which trial is the incumbent follow, by default, each
//! benchmark's own reference code ([`Observe`], [`Pick`]):
//!
//! | problem | observed | incumbent | reference |
//! |---|---|---|---|
//! | `nb201` | one seed at random | best observed | NAS-Bench-201's `simulate_train_eval` / `get_more_info(is_random=True)` |
//! | `hpobench-mlp` | mean over the seeds | best observed (= best mean) | HPOBench `TabularBenchmark.objective_function`, `seed=None` averages the seeds |
//! | `fcnet` | one seed at random | best mean | `FCNetBenchmark.objective_function` / `get_results` (nas_benchmarks) |

use std::collections::HashMap;
use std::io::Read;
use std::path::Path;

use anyhow::{bail, Context as _, Result};
use nasbo::tuner::{Assignment, Direction, Param, Space, Value};
use rand::Rng;

use super::bench::BenchProblem;

/// What one trial of a table problem observes.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Observe {
    /// One seed's value, drawn at random per trial (a noisy objective).
    OneSeed,
    /// The mean over the seeds (a deterministic objective).
    Mean,
}

/// Which trial is the incumbent whose mean the regret measures.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Pick {
    /// The trial with the best observed value.
    Observed,
    /// The trial whose configuration has the best mean over seeds.
    Mean,
}

struct Kind {
    name: &'static str,
    /// The benchmark's own protocol.
    observe: Observe,
    pick: Pick,
    default_file: &'static str,
    /// (column, categorical?)
    params: &'static [(&'static str, bool)],
    seed_prefix: &'static str,
    mean: &'static str,
    direction: Direction,
}

const KINDS: &[Kind] = &[
    Kind {
        name: "nb201",
        observe: Observe::OneSeed,
        pick: Pick::Observed,
        default_file: "nasbench201_cifar10.csv.gz",
        params: &[
            ("op0", true),
            ("op1", true),
            ("op2", true),
            ("op3", true),
            ("op4", true),
            ("op5", true),
        ],
        seed_prefix: "val_acc_s",
        mean: "val_acc_mean",
        direction: Direction::Maximize,
    },
    Kind {
        name: "hpobench-mlp",
        observe: Observe::Mean,
        pick: Pick::Observed,
        default_file: "hpobench_mlp_australian.csv.gz",
        params: &[
            ("alpha", false),
            ("batch_size", false),
            ("depth", false),
            ("learning_rate_init", false),
            ("width", false),
        ],
        seed_prefix: "val_bal_acc_s",
        mean: "val_bal_acc_mean",
        direction: Direction::Maximize,
    },
    Kind {
        name: "fcnet",
        observe: Observe::OneSeed,
        pick: Pick::Mean,
        default_file: "hpolib_fcnet_protein_structure.csv.gz",
        params: &[
            ("activation_fn_1", true),
            ("activation_fn_2", true),
            ("batch_size", false),
            ("dropout_1", false),
            ("dropout_2", false),
            ("init_lr", false),
            ("lr_schedule", true),
            ("n_units_1", false),
            ("n_units_2", false),
        ],
        seed_prefix: "val_mse_s",
        mean: "val_mse_mean",
        direction: Direction::Minimize,
    },
];

/// Whether `name` is a table problem.
pub fn is_table_problem(name: &str) -> bool {
    KINDS.iter().any(|k| k.name == name)
}

/// The names of the table problems.
pub fn names() -> Vec<&'static str> {
    KINDS.iter().map(|k| k.name).collect()
}

/// The default table of a problem.
pub fn default_table(name: &str) -> Option<std::path::PathBuf> {
    let k = KINDS.iter().find(|k| k.name == name)?;
    Some(
        nasbo::train::data::datasets_dir()
            .join("benchmarks")
            .join(k.default_file),
    )
}

/// The file, decompressed on the fly when it ends in `.gz`.
/// Reads a table, gzipped or not.
pub fn open(path: &Path) -> Result<Box<dyn Read>> {
    let f = std::fs::File::open(path).with_context(|| format!("reading {}", path.display()))?;
    Ok(if path.extension().is_some_and(|e| e == "gz") {
        Box::new(flate2::read::GzDecoder::new(std::io::BufReader::new(f)))
    } else {
        Box::new(std::io::BufReader::new(f))
    })
}

/// A table's name in the curves: its file name without `.csv` or `.csv.gz`.
pub fn stem(path: &Path) -> String {
    path.file_name()
        .map(|s| {
            s.to_string_lossy()
                .replace(".csv.gz", "")
                .replace(".csv", "")
        })
        .unwrap_or_default()
}

/// Whether the table at `path` has every column the problem `name` needs.
pub fn fits(name: &str, path: &Path) -> Result<bool> {
    let kind = KINDS
        .iter()
        .find(|k| k.name == name)
        .with_context(|| format!("no table problem `{name}`"))?;
    // Only the header is read.
    let mut r = csv::Reader::from_reader(open(path)?);
    let header: Vec<String> = r.headers()?.iter().map(String::from).collect();
    Ok(kind
        .params
        .iter()
        .all(|(c, _)| header.iter().any(|h| h == c))
        && header.iter().any(|h| h == kind.mean))
}

/// Loads the table problem `name` from `path`, observing and picking the incumbent as given
/// (`None`: as the benchmark's reference code does).
pub fn load(
    name: &str,
    path: &Path,
    observe: Option<Observe>,
    pick: Option<Pick>,
) -> Result<BenchProblem> {
    let kind = KINDS
        .iter()
        .find(|k| k.name == name)
        .with_context(|| format!("no table problem `{name}`"))?;
    let p = path.display().to_string();
    let mut r = csv::Reader::from_reader(open(path)?);
    let header: Vec<String> = r.headers()?.iter().map(String::from).collect();
    let col = |c: &str| {
        header
            .iter()
            .position(|h| h == c)
            .with_context(|| format!("{p}, line 1: no column `{c}` (a {name} table needs it)"))
    };
    let pcols: Vec<usize> = kind
        .params
        .iter()
        .map(|(c, _)| col(c))
        .collect::<Result<_>>()?;
    let mean_col = col(kind.mean)?;
    let seed_cols: Vec<usize> = (0..header.len())
        .filter(|&i| header[i].starts_with(kind.seed_prefix))
        .collect();
    if seed_cols.is_empty() {
        bail!(
            "{p}, line 1: no column {}0, {}1, …",
            kind.seed_prefix,
            kind.seed_prefix
        );
    }
    let mut raw: Vec<(Vec<String>, Vec<f64>, f64)> = Vec::new();
    for (i, rec) in r.records().enumerate() {
        let line = i + 2;
        let rec = rec.with_context(|| format!("{p}, line {line}"))?;
        let key: Vec<String> = pcols
            .iter()
            .map(|&c| rec.get(c).unwrap_or("").trim().to_string())
            .collect();
        let num = |c: usize| -> Result<Option<f64>> {
            let s = rec.get(c).unwrap_or("").trim();
            if s.is_empty() {
                return Ok(None);
            }
            let v: f64 = s.parse().with_context(|| {
                format!("{p}, line {line}: `{s}` in `{}` is not a number", header[c])
            })?;
            Ok(Some(v).filter(|v| v.is_finite()))
        };
        let seeds: Vec<f64> = seed_cols
            .iter()
            .map(|&c| num(c))
            .collect::<Result<Vec<_>>>()?
            .into_iter()
            .flatten()
            .collect();
        let mean =
            num(mean_col)?.with_context(|| format!("{p}, line {line}: no `{}`", kind.mean))?;
        raw.push((key, if seeds.is_empty() { vec![mean] } else { seeds }, mean));
    }
    if raw.is_empty() {
        bail!("{p}: no rows");
    }
    // Grids from the file: numeric columns sorted numerically, others as strings.
    let mut grids: Vec<Vec<String>> = Vec::new();
    for (j, (cname, categorical)) in kind.params.iter().enumerate() {
        let mut vals: Vec<String> = raw.iter().map(|r| r.0[j].clone()).collect();
        vals.sort();
        vals.dedup();
        if !categorical {
            for v in &vals {
                v.parse::<f64>()
                    .with_context(|| format!("{p}: `{v}` in `{cname}` is not a number"))?;
            }
            vals.sort_by(|a, b| {
                a.parse::<f64>()
                    .unwrap_or(0.0)
                    .total_cmp(&b.parse::<f64>().unwrap_or(0.0))
            });
        }
        if vals.len() < 2 {
            bail!("{p}: `{cname}` takes one value only");
        }
        grids.push(vals);
    }
    let mut lookup: HashMap<Vec<u16>, (Vec<f64>, f64)> = HashMap::with_capacity(raw.len());
    for (key, seeds, mean) in raw {
        let idx: Vec<u16> = key
            .iter()
            .zip(&grids)
            .map(|(v, g)| g.iter().position(|x| x == v).unwrap_or(0) as u16)
            .collect();
        lookup.insert(idx, (seeds, mean));
    }
    let optimum = lookup
        .values()
        .map(|(_, m)| *m)
        .fold(None, |best: Option<f64>, m| match best {
            Some(b) if !kind.direction.better(m, b) => Some(b),
            _ => Some(m),
        })
        .expect("rows");
    let params: Vec<Param> = kind
        .params
        .iter()
        .zip(&grids)
        .map(|((c, categorical), g)| {
            if *categorical {
                let choices: Vec<&str> = g.iter().map(String::as_str).collect();
                Param::categorical(c, &choices)
            } else {
                Param::int(c, 0, g.len() as i64 - 1)
            }
        })
        .collect();
    let space = Space::new(params)?;
    let missing = grids.iter().map(|g| g.len()).product::<usize>() - lookup.len();
    if missing > 0 {
        eprintln!(
            "{p}: {missing} configurations of the grid have no row; they score as the worst value"
        );
    }
    let worst = lookup
        .values()
        .map(|(_, m)| *m)
        .fold(None, |w: Option<f64>, m| match w {
            Some(x) if kind.direction.better(x, m) => Some(m),
            Some(x) => Some(x),
            None => Some(m),
        });
    let worst = worst.unwrap_or(optimum);
    let stem = stem(path);
    let g2 = grids.clone();
    let observe = observe.unwrap_or(kind.observe);
    Ok(BenchProblem {
        name: format!("{name}:{stem}"),
        space,
        direction: kind.direction,
        optimum,
        budget: 100,
        // One seed drawn at random per trial is a noisy observation of the mean.
        noisy: observe == Observe::OneSeed,
        pick: pick.unwrap_or(kind.pick),
        eval: Box::new(move |a: &Assignment, rng| {
            let idx: Vec<u16> = a
                .iter()
                .zip(&g2)
                .map(|(v, g)| match v {
                    Some(Value::Int(i)) => *i as u16,
                    Some(Value::Cat(c)) => g.iter().position(|x| x == c).unwrap_or(0) as u16,
                    _ => 0,
                })
                .collect();
            match lookup.get(&idx) {
                Some((seeds, mean)) => match observe {
                    Observe::OneSeed => (seeds[rng.random_range(0..seeds.len())], *mean),
                    Observe::Mean => (*mean, *mean),
                },
                None => (worst, worst),
            }
        }),
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::cli::bench::run_one;
    use nasbo::tuner::StrategyKind;
    use rand::SeedableRng;
    use rand_chacha::ChaCha8Rng;

    /// A small HPOBench-MLP-shaped table (2 values per parameter, 32 rows) whose five seeds
    /// differ from their mean; returns its path and the rows' (seeds, mean).
    fn hpobench_table(name: &str) -> (std::path::PathBuf, Vec<(Vec<f64>, f64)>) {
        let dir = std::env::temp_dir().join(format!("nasbo-tables-{name}-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let path = dir.join("t.csv");
        let mut text = String::from(
            "alpha,batch_size,depth,learning_rate_init,width,val_bal_acc_s0,val_bal_acc_s1,\
             val_bal_acc_s2,val_bal_acc_s3,val_bal_acc_s4,val_bal_acc_mean\n",
        );
        let mut rows = Vec::new();
        for i in 0..32u32 {
            let b = |k: u32| (i >> k) & 1;
            let mean = 0.6 + 0.01 * i as f64;
            let seeds: Vec<f64> = (0..5).map(|s| mean + 0.004 * (s as f64 - 2.0)).collect();
            text.push_str(&format!(
                "{},{},{},{},{},{},{}\n",
                [1e-4, 1e-2][b(0) as usize],
                [32, 256][b(1) as usize],
                1 + b(2),
                [1e-3, 1e-1][b(3) as usize],
                [16, 1024][b(4) as usize],
                seeds
                    .iter()
                    .map(|v| v.to_string())
                    .collect::<Vec<_>>()
                    .join(","),
                mean
            ));
            rows.push((seeds, mean));
        }
        std::fs::write(&path, text).unwrap();
        (path, rows)
    }

    #[test]
    fn hpobench_observes_the_seed_mean_by_default_and_one_seed_when_asked() {
        let (path, rows) = hpobench_table("observe");
        let mut rng = ChaCha8Rng::seed_from_u64(1);
        let means: Vec<f64> = rows.iter().map(|r| r.1).collect();
        let p = load("hpobench-mlp", &path, None, None).unwrap();
        assert!(!p.noisy, "the seed mean is a deterministic objective");
        assert_eq!(p.pick, Pick::Observed);
        assert!((p.optimum - 0.91).abs() < 1e-12);
        let mut study = nasbo::tuner::Study::new(
            p.space.clone(),
            nasbo::tuner::StudyConfig {
                seed: 3,
                strategy: StrategyKind::Random,
                ..nasbo::tuner::StudyConfig::new(p.direction)
            },
        )
        .unwrap();
        let assignments: Vec<Assignment> = (0..20).map(|_| study.ask().unwrap().1).collect();
        for a in &assignments {
            let (obs, truth) = (p.eval)(a, &mut rng);
            assert_eq!(obs, truth);
            assert!(means.iter().any(|m| (m - truth).abs() < 1e-12), "{truth}");
        }
        let q = load("hpobench-mlp", &path, Some(Observe::OneSeed), None).unwrap();
        assert!(q.noisy);
        let mut differ = 0;
        for a in &assignments {
            let (obs, truth) = (q.eval)(a, &mut rng);
            let row = rows.iter().find(|r| (r.1 - truth).abs() < 1e-12).unwrap();
            assert!(
                row.0.iter().any(|s| (s - obs).abs() < 1e-12),
                "{obs} not a seed"
            );
            differ += usize::from(obs != truth);
        }
        assert!(
            differ >= 10,
            "one seed should rarely equal the mean: {differ}"
        );
        std::fs::remove_dir_all(path.parent().unwrap()).ok();
    }

    /// A problem whose observations rank the trials differently from their true values.
    fn misleading(pick: Pick) -> BenchProblem {
        BenchProblem {
            name: "misleading".into(),
            space: Space::new(vec![Param::int("x", 0, 99)]).unwrap(),
            direction: Direction::Maximize,
            optimum: 99.0,
            budget: 30,
            noisy: true,
            pick,
            eval: Box::new(|a, _| {
                let x = match a[0] {
                    Some(Value::Int(i)) => i as f64,
                    _ => unreachable!(),
                };
                // Odd x look 200 better than they are.
                (x + if x as i64 % 2 == 1 { 200.0 } else { 0.0 }, x)
            }),
        }
    }

    #[test]
    fn the_incumbent_is_the_best_observed_or_the_best_mean_as_asked() {
        let by_obs = run_one(&misleading(Pick::Observed), &StrategyKind::Random, 5, 30).unwrap();
        let by_mean = run_one(&misleading(Pick::Mean), &StrategyKind::Random, 5, 30).unwrap();
        let truth = |v: f64| if v >= 200.0 { v - 200.0 } else { v };
        let (mut best_obs, mut inc_obs, mut best_true) =
            (f64::NEG_INFINITY, 0.0, f64::NEG_INFINITY);
        for (o, m) in by_obs.iter().zip(&by_mean) {
            assert_eq!(o.value, m.value, "same seed, same trials");
            if o.value > best_obs {
                best_obs = o.value;
                inc_obs = truth(o.value);
            }
            best_true = best_true.max(truth(o.value));
            assert_eq!(o.best, inc_obs);
            assert_eq!(m.best, best_true);
            assert_eq!(m.regret, 99.0 - best_true);
        }
        assert!(
            by_mean.last().unwrap().best > by_obs.last().unwrap().best,
            "the test should separate the two picks"
        );
    }
}
