//! Ask/tell from the shell, for drivers in any language: `nasbo ask`, `nasbo tell`,
//! `nasbo export` and `nasbo studies`, on a study in a storage.

use std::path::PathBuf;
use std::process::ExitCode;
use std::time::Duration;

use anyhow::{bail, Context as _, Result};
use clap::Args;
use nasbo::tuner::study::csv::write_atomic;
use nasbo::tuner::study::{list_studies, open_storage, STALE_AFTER_HEARTBEATS};
use nasbo::tuner::{Direction, Outcome, Space, Study, StudyConfig};

/// Arguments of `nasbo ask`.
#[derive(Args, Debug)]
pub struct AskArgs {
    /// The storage: sqlite:PATH or postgres://user:password@host:port/db.
    #[arg(long)]
    storage: String,
    /// The study's name.
    #[arg(long)]
    study: String,
    /// The space, to create the study on first use (or checked against the stored one).
    #[arg(long)]
    space: Option<PathBuf>,
    /// minimize or maximize (with --space, when creating the study).
    #[arg(long, default_value = "minimize")]
    direction: String,
    /// Seconds the trial is reserved for: untold after that, it goes back to the queue and
    /// the next `ask` or worker gets it (`tell` under the old lease is then refused).
    #[arg(long, default_value_t = 86400.0)]
    lease: f64,
    #[command(flatten)]
    proposals: super::session::StrategyArgs,
}

/// Arguments of `nasbo tell`.
#[derive(Args, Debug)]
pub struct TellArgs {
    /// The storage.
    #[arg(long)]
    storage: String,
    /// The study's name.
    #[arg(long)]
    study: String,
    /// The trial number `nasbo ask` printed.
    #[arg(long)]
    trial: usize,
    /// The lease `nasbo ask` printed with the trial: the result is refused if the trial was
    /// given to another worker since. Without it, any pending trial is told.
    #[arg(long)]
    lease: Option<u64>,
    /// The objective's value.
    #[arg(
        long,
        conflicts_with_all = ["failed", "requeue"],
        required_unless_present_any = ["failed", "requeue"]
    )]
    value: Option<f64>,
    /// Extra metrics, `key=value` (repeatable).
    #[arg(long = "metric", value_parser = parse_metric)]
    metrics: Vec<(String, f64)>,
    /// The trial failed, for this reason.
    #[arg(long, conflicts_with = "requeue")]
    failed: Option<String>,
    /// Put the trial back in the queue, to be asked again.
    #[arg(long)]
    requeue: bool,
}

fn parse_metric(s: &str) -> Result<(String, f64), String> {
    let (k, v) = s
        .split_once('=')
        .ok_or_else(|| format!("`{s}`: a metric is key=value"))?;
    let v: f64 = v
        .trim()
        .parse()
        .map_err(|_| format!("`{s}`: `{v}` is not a number"))?;
    if k.trim().is_empty() {
        return Err(format!("`{s}`: the metric has no name"));
    }
    Ok((k.trim().to_string(), v))
}

/// Arguments of `nasbo export`.
#[derive(Args, Debug)]
pub struct ExportArgs {
    /// The storage.
    #[arg(long)]
    storage: String,
    /// The study's name.
    #[arg(long)]
    study: String,
    /// The CSV to write (the format of `nasbo tune --out`).
    #[arg(long)]
    out: PathBuf,
}

/// Arguments of `nasbo studies`.
#[derive(Args, Debug)]
pub struct StudiesArgs {
    /// The storage.
    #[arg(long)]
    storage: String,
}

/// `nasbo ask`: reserves a trial and prints `{"trial": N, "params": {...}}`.
pub fn ask(args: AskArgs) -> Result<ExitCode> {
    let direction = Direction::parse(&args.direction)
        .with_context(|| format!("--direction `{}`: use minimize or maximize", args.direction))?;
    let space = match &args.space {
        Some(p) => Some(Space::from_file(p).context("reading the search space")?),
        None => None,
    };
    if !(args.lease.is_finite() && args.lease > 0.0) {
        bail!(
            "--lease {}: must be a positive number of seconds",
            args.lease
        );
    }
    let dirs = [direction];
    let storage = open_storage(
        &args.storage,
        &args.study,
        space.as_ref().map(|s| (s, &dirs[..])),
    )?;
    let config = StudyConfig {
        directions: storage.study().directions.clone(),
        seed: args.proposals.seed,
        strategy: args.proposals.kind()?,
        // No heartbeats come from a shell driver: the lease is the whole allowance.
        heartbeat: Some(Duration::from_secs_f64(
            args.lease / STALE_AFTER_HEARTBEATS as f64,
        )),
    };
    let mut study = Study::open(storage, config)?;
    let t = study.ask_trial()?;
    let line = serde_json::json!({
        "trial": t.number,
        "params": study.space().to_json(&t.params),
        "lease": study.lease(t.number).map(|l| l.token),
    });
    println!("{line}");
    Ok(ExitCode::SUCCESS)
}

/// `nasbo tell`: records a trial's result.
pub fn tell(args: TellArgs) -> Result<ExitCode> {
    let storage = open_storage(&args.storage, &args.study, None)?;
    let config = StudyConfig {
        directions: storage.study().directions.clone(),
        strategy: nasbo::tuner::StrategyKind::Random,
        ..StudyConfig::default()
    };
    let mut study = Study::open(storage, config)?;
    let outcome = match (args.value, args.failed, args.requeue) {
        (Some(v), None, false) => Outcome::with_metrics(v, args.metrics),
        (None, Some(reason), false) => Outcome::failed(reason),
        (None, None, true) => Outcome::Interrupted {
            reason: "requeued with nasbo tell --requeue".into(),
        },
        _ => bail!("give one of --value, --failed and --requeue"),
    };
    study
        .tell_under(args.trial, args.lease, outcome)
        .with_context(|| format!("study `{}`", args.study))?;
    Ok(ExitCode::SUCCESS)
}

/// `nasbo export`: writes the study as CSV.
pub fn export(args: ExportArgs) -> Result<ExitCode> {
    let mut storage = open_storage(&args.storage, &args.study, None)?;
    let trials = storage.trials()?;
    let space = storage.study().space.clone();
    write_atomic(&space, &storage.study().directions, &trials, &args.out)?;
    eprintln!("{} trials written to {}", trials.len(), args.out.display());
    Ok(ExitCode::SUCCESS)
}

/// `nasbo studies`: lists the studies with their trials by state.
pub fn studies(args: StudiesArgs) -> Result<ExitCode> {
    let list = list_studies(&args.storage)?;
    if list.is_empty() {
        eprintln!("no study in {}", nasbo::tuner::study::redact(&args.storage));
    }
    for s in list {
        let total: usize = s.counts.values().sum();
        let counts = s
            .counts
            .iter()
            .map(|(k, v)| format!("{v} {k}"))
            .collect::<Vec<_>>()
            .join(", ");
        let dirs = s
            .directions
            .iter()
            .map(|d| d.name())
            .collect::<Vec<_>>()
            .join(",");
        println!(
            "{}\t{dirs}\t{total} trials{}",
            s.name,
            if counts.is_empty() {
                String::new()
            } else {
                format!(": {counts}")
            }
        );
    }
    Ok(ExitCode::SUCCESS)
}
