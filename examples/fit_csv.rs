//! Fits a Gaussian process to a CSV file and predicts at the rows of another.
//!
//! ```text
//! cargo run --release --example fit_csv -- --train train.csv --query query.csv --out pred.csv
//! ```
//!
//! `train.csv` has a header; its column `y` is the target and every other column a numeric
//! feature. `query.csv` has the same feature columns (a `y` column there is ignored). Writes
//! `pred.csv` with `mean,std_f,std_y` per query row and prints a JSON summary of the fit.

use std::collections::HashMap;
use std::path::{Path, PathBuf};

use anyhow::{bail, Context, Result};
use clap::Parser;
use nalgebra::{DMatrix, DVector};
use nasbo::gp::{GpParams, Kernel, PriorSpec, Stationary};

#[derive(Parser)]
#[command(about = "Fit a Gaussian process to a CSV file and predict at the rows of another")]
struct Args {
    /// Training data: a header, a `y` column (the target) and numeric feature columns.
    #[arg(long)]
    train: PathBuf,
    /// Query points: the same feature columns (a `y` column is ignored).
    #[arg(long)]
    query: PathBuf,
    /// Where to write `mean,std_f,std_y`, one row per query row.
    #[arg(long)]
    out: PathBuf,
    /// Kernel: rbf, matern12, matern32 or matern52 (the crate's default, Matérn 5/2 with
    /// one lengthscale per feature).
    #[arg(long, default_value = "matern52")]
    kernel: String,
    /// Seed of the random restarts of the hyperparameter fit.
    #[arg(long, default_value_t = 0)]
    seed: u64,
    /// Priors of the hyperparameter fit: `default` (BoTorch's, MAP) or `flat` (maximum
    /// likelihood).
    #[arg(long, default_value = "default")]
    priors: String,
    /// Random starts screened before the local searches.
    #[arg(long, default_value_t = 8)]
    restarts: usize,
    /// Smallest noise variance the fit may learn, in standardized units (default: the
    /// crate's, 1e-4, BoTorch's).
    #[arg(long)]
    noise_floor: Option<f64>,
    /// Fit this many times and report the median fit time as `fit_seconds` (for benchmarks).
    #[arg(long, default_value_t = 1)]
    repeat: usize,
}

/// A CSV read into feature names, rows of features, and `y` when present.
type Table = (Vec<String>, Vec<Vec<f64>>, Vec<f64>);

/// Reads a CSV with a header into (feature names, rows of features, y if present).
fn read_table(path: &Path, features: Option<&[String]>) -> Result<Table> {
    let mut reader =
        csv::Reader::from_path(path).with_context(|| format!("cannot open {}", path.display()))?;
    let header: Vec<String> = reader
        .headers()
        .with_context(|| format!("{}: cannot read the header", path.display()))?
        .iter()
        .map(|h| h.trim().to_string())
        .collect();
    let index: HashMap<&str, usize> = header
        .iter()
        .enumerate()
        .map(|(i, h)| (h.as_str(), i))
        .collect();
    let names: Vec<String> = match features {
        Some(f) => f.to_vec(),
        None => header
            .iter()
            .filter(|h| h.as_str() != "y")
            .cloned()
            .collect(),
    };
    if names.is_empty() {
        bail!("{}: no feature column besides `y`", path.display());
    }
    let cols: Vec<usize> = names
        .iter()
        .map(|n| {
            index
                .get(n.as_str())
                .copied()
                .with_context(|| format!("{}: missing column `{n}`", path.display()))
        })
        .collect::<Result<_>>()?;
    let ycol = index.get("y").copied();
    if features.is_none() && ycol.is_none() {
        bail!("{}: no `y` column (the target)", path.display());
    }
    let mut rows = Vec::new();
    let mut ys = Vec::new();
    for (i, rec) in reader.records().enumerate() {
        let line = i + 2;
        let rec = rec.with_context(|| format!("{}: line {line}", path.display()))?;
        let parse = |c: usize, name: &str| -> Result<f64> {
            let s = rec.get(c).unwrap_or("").trim();
            let v: f64 = s.parse().with_context(|| {
                format!(
                    "{}: line {line}, column `{name}`: `{s}` is not a number",
                    path.display()
                )
            })?;
            if !v.is_finite() {
                bail!(
                    "{}: line {line}, column `{name}`: {v} is not finite",
                    path.display()
                );
            }
            Ok(v)
        };
        let row = cols
            .iter()
            .zip(&names)
            .map(|(&c, n)| parse(c, n))
            .collect::<Result<Vec<_>>>()?;
        rows.push(row);
        if features.is_none() {
            ys.push(parse(ycol.unwrap(), "y")?);
        }
    }
    Ok((names, rows, ys))
}

fn main() -> Result<()> {
    let args = Args::parse();
    let family = Stationary::from_name(&args.kernel).with_context(|| {
        format!(
            "unknown kernel `{}` (rbf, matern12, matern32, matern52)",
            args.kernel
        )
    })?;
    let (names, rows, y) = read_table(&args.train, None)?;
    if rows.is_empty() {
        bail!("{}: no data rows", args.train.display());
    }
    let (_, qrows, _) = read_table(&args.query, Some(&names))?;
    let d = names.len();
    let x = DMatrix::from_fn(rows.len(), d, |i, k| rows[i][k]);
    let q = DMatrix::from_fn(qrows.len(), d, |i, k| qrows[i][k]);
    let y = DVector::from_vec(y);
    let priors = match args.priors.as_str() {
        "default" => PriorSpec::Default,
        "flat" => PriorSpec::Flat,
        other => bail!("unknown --priors `{other}` (default, flat)"),
    };
    let mut params = GpParams::new(Kernel::stationary(family))
        .seed(args.seed)
        .priors(priors)
        .restarts(args.restarts);
    if let Some(f) = args.noise_floor {
        params = params.noise_floor(f);
    }
    params.check().context("the fit's settings")?;
    let mut times = Vec::new();
    let mut fitted = None;
    for _ in 0..args.repeat.max(1) {
        let start = std::time::Instant::now();
        let gp = params.fit(&x, &y).context("fitting the Gaussian process")?;
        times.push(start.elapsed().as_secs_f64());
        fitted = Some(gp);
    }
    let gp = fitted.expect("at least one fit");
    times.sort_by(f64::total_cmp);
    let fit_seconds = times[times.len() / 2];
    let pred = gp.predict_var(&q).context("predicting")?;
    let mut w = csv::Writer::from_path(&args.out)
        .with_context(|| format!("cannot write {}", args.out.display()))?;
    w.write_record(["mean", "std_f", "std_y"])?;
    for j in 0..q.nrows() {
        w.write_record([
            pred.mean[j].to_string(),
            pred.var_f[j].sqrt().to_string(),
            pred.var_y[j].sqrt().to_string(),
        ])?;
    }
    w.flush()?;
    let summary = serde_json::json!({
        "log_marginal_likelihood": gp.log_marginal_likelihood(),
        "kernel": family.name(),
        "features": names,
        "lengthscales": gp.lengthscales(),
        "outputscale": gp.outputscale(),
        "noise": gp.noise(),
        "n": gp.n(),
        "fit_seconds": fit_seconds,
    });
    println!("{summary}");
    Ok(())
}
