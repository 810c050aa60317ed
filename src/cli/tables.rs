//! Tabular benchmarks: every configuration of a search space was trained in advance, so a
//! trial is a table lookup. Each problem reads any file with its columns (given by path), so a
//! new table of the same kind works without code changes; the grids are read from the file.
//!
//! | problem | parameters | objective (observed) | regret against |
//! |---|---|---|---|
//! | `nb201` | `op0`…`op5`, each one of the five cell operations | validation accuracy (%) of one seed drawn at random per trial | the best mean validation accuracy in the table |
//! | `hpobench-mlp` | `alpha`, `batch_size`, `depth`, `learning_rate_init`, `width` (grid positions) | balanced validation accuracy of one random seed | the best mean |
//! | `fcnet` | `activation_fn_1/2`, `lr_schedule` (categorical); `batch_size`, `dropout_1/2`, `init_lr`, `n_units_1/2` (grid positions) | validation MSE of one random seed (minimized) | the lowest mean |
//!
//! Numeric grids become integer parameters over the grid positions (the grids are log-spaced
//! where the original space was), categorical columns categorical parameters. The regret uses
//! the mean over seeds of the incumbent (the best observed trial).

use std::collections::HashMap;
use std::io::Read;
use std::path::Path;

use anyhow::{bail, Context as _, Result};
use nasbo::tuner::{Assignment, Direction, Param, Space, Value};
use rand::Rng;

use super::bench::BenchProblem;

struct Kind {
    name: &'static str,
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
fn open(path: &Path) -> Result<Box<dyn Read>> {
    let f = std::fs::File::open(path).with_context(|| format!("reading {}", path.display()))?;
    Ok(if path.extension().is_some_and(|e| e == "gz") {
        Box::new(flate2::read::GzDecoder::new(std::io::BufReader::new(f)))
    } else {
        Box::new(std::io::BufReader::new(f))
    })
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

/// Loads the table problem `name` from `path`.
pub fn load(name: &str, path: &Path) -> Result<BenchProblem> {
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
    let stem = path
        .file_name()
        .map(|s| {
            s.to_string_lossy()
                .replace(".csv.gz", "")
                .replace(".csv", "")
        })
        .unwrap_or_default();
    let g2 = grids.clone();
    Ok(BenchProblem {
        name: format!("{name}:{stem}"),
        space,
        direction: kind.direction,
        optimum,
        budget: 100,
        // One seed drawn at random per trial: a noisy observation of the mean.
        noisy: true,
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
                Some((seeds, mean)) => (seeds[rng.random_range(0..seeds.len())], *mean),
                None => (worst, worst),
            }
        }),
    })
}
