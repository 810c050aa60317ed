//! `nasbo report`: the page of figures for a study (`nasbo::report`), from a trials CSV or a
//! study in a storage.

use std::path::PathBuf;
use std::process::ExitCode;
use std::time::Instant;

use anyhow::{bail, Context as _, Result};
use clap::Args;
use nasbo::tuner::study::csv::read_trials;
use nasbo::tuner::study::{infer_space, list_studies, open_storage};
use nasbo::tuner::{Direction, Space, Trial};

use super::session::default_storage;

/// Arguments of `nasbo report`.
#[derive(Args, Debug)]
pub struct ReportArgs {
    /// A trials CSV (written by `tune`, `nas` or `export`). The study kept beside it (the same
    /// name with `.db`) gives the exact space and direction; without it they are read off the
    /// CSV.
    csv: Option<PathBuf>,
    /// The folder to write: index.html, importance.csv, figures/*.svg.
    #[arg(long, default_value = "report")]
    out: PathBuf,
    /// Report the study in this storage instead of a CSV (sqlite:PATH or postgres://…).
    #[arg(long, requires = "study", conflicts_with = "csv")]
    storage: Option<String>,
    /// The study's name (in --storage, or in the study beside the CSV).
    #[arg(long)]
    study: Option<String>,
    /// minimize or maximize, for a CSV without its study (default: minimize).
    #[arg(long)]
    direction: Option<String>,
}

/// Where the trials, the space and the direction come from.
fn load(args: &ReportArgs) -> Result<(Space, Vec<Trial>, Direction, String)> {
    if let Some(url) = &args.storage {
        let name = args.study.clone().unwrap_or_default();
        let mut s = open_storage(url, &name, None)?;
        let trials = s.trials()?;
        let rec = s.study().clone();
        return Ok((
            rec.space,
            trials,
            rec.directions[0],
            format!("study {name}"),
        ));
    }
    let Some(csv) = &args.csv else {
        bail!("give a trials CSV, or --storage URL --study NAME");
    };
    if !csv.exists() {
        bail!("{}: no such file", csv.display());
    }
    let db = default_storage(csv);
    let given = match &args.direction {
        Some(d) => Some(
            Direction::parse(d)
                .with_context(|| format!("--direction `{d}`: use minimize or maximize"))?,
        ),
        None => None,
    };
    let title = csv.display().to_string();
    if db.exists() {
        let url = format!("sqlite:{}", db.display());
        let name = match &args.study {
            Some(n) => n.clone(),
            None => match list_studies(&url).as_deref() {
                Ok([one]) => one.name.clone(),
                _ => "default".into(),
            },
        };
        match open_storage(&url, &name, None) {
            Err(e) => eprintln!(
                "note: the study beside the CSV cannot be used ({e}); reading the space off the CSV"
            ),
            Ok(s) => {
                let rec = s.study().clone();
                let trials = read_trials(&rec.space, csv).with_context(|| {
                    format!(
                        "reading {} with the space of {}",
                        csv.display(),
                        db.display()
                    )
                })?;
                return Ok((rec.space, trials, given.unwrap_or(rec.directions[0]), title));
            }
        }
    }
    let space = infer_space(csv).with_context(|| format!("reading {}", csv.display()))?;
    let trials = read_trials(&space, csv)?;
    let direction = given.unwrap_or_else(|| {
        eprintln!(
            "note: no study beside {} says which way is better; assuming minimize (give --direction maximize for accuracies)",
            csv.display()
        );
        Direction::Minimize
    });
    Ok((space, trials, direction, title))
}

/// Runs `nasbo report`.
pub fn run(args: ReportArgs) -> Result<ExitCode> {
    let started = Instant::now();
    let (space, trials, direction, title) = load(&args)?;
    let report = nasbo::report::build(
        &space,
        &trials,
        direction,
        &format!("nasbo report: {title}"),
    )?;
    nasbo::report::write(&report, &args.out)?;
    for n in &report.notes {
        eprintln!("not drawn: {n}");
    }
    println!(
        "{} figures and {} importances of {} trials written to {} ({:.1} s)",
        report.figures.len(),
        report.importance.len(),
        trials.len(),
        args.out.join("index.html").display(),
        started.elapsed().as_secs_f64()
    );
    Ok(ExitCode::SUCCESS)
}
