//! What `tune` and `nas` share: where the study lives (`--storage`, `--study`, or an SQLite
//! file beside `--out`), joining or creating it, importing `--resume` and `--warm-start`
//! CSVs, the Ctrl-C handler, and how a run ends (exit codes and the hint to continue).

use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, OnceLock};
use std::time::Duration;

use anyhow::{bail, Context as _, Result};
use clap::Args;
use nasbo::tuner::prune::{Pruner, PrunerConfig, PrunerKind};
use nasbo::tuner::run::RunSummary;
use nasbo::tuner::study::csv::{read_trials, read_trials_keys};
use nasbo::tuner::study::{import_key, open_storage, redact};
use nasbo::tuner::{
    BoConfig, Direction, Source, Space, StrategyKind, Study, StudyConfig, Trial, TunerError,
};

use super::plural;
use super::shell;

/// Where the study lives.
#[derive(Args, Debug, Clone)]
pub struct StudyArgs {
    /// The study's storage: sqlite:PATH, or postgres://user:password@host:port/db for workers
    /// on several machines (default: an SQLite file beside --out, named like it with the
    /// extension .db). Any number of processes may run the same command on one storage.
    #[arg(long)]
    pub storage: Option<String>,
    /// The study's name in the storage.
    #[arg(long, default_value = "default")]
    pub study: String,
    /// Seconds between the heartbeats of this worker's running trials; a running trial
    /// without a heartbeat for 4 intervals is taken for lost and queued to run again.
    #[arg(long, default_value_t = 30.0)]
    pub heartbeat: f64,
}

/// How a worker proposes (`tune`, `ask`).
#[derive(Args, Debug, Clone)]
pub struct StrategyArgs {
    /// bo, random, sobol, evolution or reinforce.
    #[arg(long, default_value = "bo")]
    pub strategy: String,
    /// The objective is noisy (e.g. a validation accuracy that changes with the training
    /// seed): `bo` then learns the noise level (BoTorch's prior), ranks by posterior mean and
    /// may re-evaluate a configuration.
    #[arg(long)]
    pub noisy: bool,
    /// Seed of every proposal.
    #[arg(long, default_value_t = 0)]
    pub seed: u64,
}

impl StrategyArgs {
    /// The strategy, with `--noisy` for `bo`.
    pub fn kind(&self) -> Result<StrategyKind> {
        let kind = StrategyKind::parse(&self.strategy).with_context(|| {
            format!(
                "--strategy `{}`: use {}",
                self.strategy,
                StrategyKind::NAMES.join(", ")
            )
        })?;
        Ok(match kind {
            StrategyKind::Bo(c) => StrategyKind::Bo(BoConfig {
                noisy: self.noisy,
                ..c
            }),
            s => s,
        })
    }
}

/// How a worker runs its trials (`tune`, `nas`).
#[derive(Args, Debug, Clone)]
pub struct RunArgs {
    /// Trials this worker runs at once (proposals account for the pending ones).
    #[arg(long, default_value_t = 1)]
    pub parallel: usize,
    /// Seconds after which a trial is stopped and recorded as failed (`nas` stops a training
    /// at the end of an epoch).
    #[arg(long)]
    pub trial_timeout: Option<f64>,
    /// Start the study from the trials in this CSV (written by an earlier run's --out); they
    /// count towards --trials, and those it records as running are run again.
    #[arg(long)]
    pub resume: Option<PathBuf>,
    /// Stop unpromising trials early from their intermediate values (`{"step": N, "value":
    /// V}` lines; `nas`: each epoch's validation accuracy): none, median, asha or hyperband.
    #[arg(long, default_value = "none")]
    pub pruner: String,
    /// A trial's full budget in its steps (`tune`: needed with a pruner; `nas`: the epochs).
    #[arg(long)]
    pub max_step: Option<u64>,
    /// ASHA/Hyperband: the first rung; median: no pruning before this step.
    #[arg(long, default_value_t = 1)]
    pub min_step: u64,
    /// ASHA/Hyperband: one trial in this many goes on at each rung.
    #[arg(long, default_value_t = 3)]
    pub reduction_factor: u64,
}

impl RunArgs {
    /// The pruner asked for; `steps` is the full budget when the command knows it (`nas`).
    pub fn pruner(&self, steps: Option<u64>) -> Result<Option<Arc<dyn Pruner>>> {
        let kind = PrunerKind::parse(&self.pruner)?;
        if kind == PrunerKind::None {
            return Ok(None);
        }
        let max_step = match (self.max_step, steps) {
            (Some(m), Some(s)) if m != s => bail!(
                "--max-step {m}: the steps are the epochs here, {s}; leave --max-step out or give {s}"
            ),
            (Some(m), _) | (None, Some(m)) => m,
            (None, None) => bail!(
                "--pruner {}: needs --max-step N, a trial's full budget in the steps it reports",
                self.pruner
            ),
        };
        let config = PrunerConfig {
            min_step: self.min_step,
            reduction_factor: self.reduction_factor,
            ..PrunerConfig::new(kind, max_step)
        };
        Ok(config.build()?)
    }

    /// `--trial-timeout`, checked with `--parallel`.
    pub fn timeout(&self) -> Result<Option<Duration>> {
        if self.parallel == 0 {
            bail!("--parallel must be at least 1");
        }
        match self.trial_timeout {
            Some(t) if !(t.is_finite() && t > 0.0) => {
                bail!("--trial-timeout {t}: must be a positive number of seconds")
            }
            t => Ok(t.map(Duration::from_secs_f64)),
        }
    }
}

/// The study's objectives from `--objective KEY:DIRECTION` flags: their directions and keys,
/// or the one objective in `single` direction when there are none.
pub fn objectives(
    specs: &[String],
    single: Direction,
) -> Result<(Vec<Direction>, Option<Vec<String>>)> {
    if specs.is_empty() {
        return Ok((vec![single], None));
    }
    let keys = nasbo::tuner::run::ObjectiveKey::parse_all(specs).context("--objective")?;
    Ok((
        keys.iter().map(|k| k.direction).collect(),
        Some(keys.into_iter().map(|k| k.key).collect()),
    ))
}

/// `key=value` of a trial's objectives.
pub fn describe_values(keys: &[String], values: &[f64]) -> String {
    keys.iter()
        .zip(values)
        .map(|(k, v)| format!("{k}={}", nasbo::tuner::space::format_float(*v)))
        .collect::<Vec<_>>()
        .join(" ")
}

/// The complete trials on the study's non-dominated front.
pub fn front(study: &Study) -> Vec<&Trial> {
    let trials = study.trials();
    nasbo::tuner::pareto::front_of(trials, &study.config().directions)
        .into_iter()
        .zip(trials)
        .filter(|(on, _)| *on)
        .map(|(_, t)| t)
        .collect()
}

/// What a run of `tune` or `nas` asks for.
pub struct Plan {
    /// The CSV export, rewritten after every trial.
    pub out: PathBuf,
    /// The space given (`None`: the stored study's).
    pub space: Option<Space>,
    /// The directions.
    pub directions: Vec<Direction>,
    /// The objectives' keys, with `--objective` (CSVs read them from these columns).
    pub keys: Option<Vec<String>>,
    /// Strategy and seed.
    pub config: StudyConfig,
    /// A CSV to start the study from.
    pub resume: Option<PathBuf>,
    /// A CSV of earlier results to warm-start from.
    pub warm_start: Option<PathBuf>,
}

/// An opened study and where it is.
pub struct Opened {
    /// The study.
    pub study: Study,
    /// Its storage's URL, password hidden.
    pub url: String,
}

/// The default storage beside `out`.
pub fn default_storage(out: &Path) -> PathBuf {
    let db = out.with_extension("db");
    if db == out {
        out.with_extension("study.db")
    } else {
        db
    }
}

/// The folder for the trials' logs beside `out`.
pub fn log_dir(out: &Path) -> PathBuf {
    out.with_extension("logs")
}

/// Checks that `--out` can be written (its folder exists) before anything runs.
pub fn check_out(out: &Path) -> Result<()> {
    let dir = out.parent().filter(|p| !p.as_os_str().is_empty());
    if let Some(d) = dir {
        if !d.is_dir() {
            bail!(
                "--out {}: the folder {} does not exist",
                out.display(),
                d.display()
            );
        }
    }
    if out.is_dir() {
        bail!("--out {}: is a folder, not a file", out.display());
    }
    Ok(())
}

/// Opens (or creates) the study, with the `--resume` and `--warm-start` imports.
pub fn open(args: &StudyArgs, plan: Plan) -> Result<Opened> {
    check_out(&plan.out)?;
    if !(args.heartbeat.is_finite() && args.heartbeat > 0.0) {
        bail!(
            "--heartbeat {}: must be a positive number of seconds",
            args.heartbeat
        );
    }
    let (url, default) = match &args.storage {
        Some(u) => (u.clone(), false),
        None => {
            let db = default_storage(&plan.out);
            if !db.exists() && plan.out.exists() && plan.resume.is_none() {
                bail!(
                    "{} exists, and its study {} does not: to continue the study in that CSV, add --resume {}; to start a new one, choose another --out or remove {}",
                    plan.out.display(),
                    db.display(),
                    shell::quote(&plan.out.display().to_string()),
                    plan.out.display()
                );
            }
            (format!("sqlite:{}", db.display()), true)
        }
    };
    let shown = redact(&url);
    // The CSVs are read before the study is touched, so a bad one changes nothing.
    let keys = plan.keys.clone().filter(|k| k.len() > 1);
    let read = |p: &Option<PathBuf>, what: &str, space: &Space| -> Result<Option<Vec<Trial>>> {
        p.as_ref()
            .map(|p| {
                match &keys {
                    Some(k) => read_trials_keys(space, p, k),
                    None => read_trials(space, p),
                }
                .with_context(|| format!("reading {what}"))
            })
            .transpose()
    };
    let mut early = None;
    if let Some(space) = &plan.space {
        early = Some((
            read(&plan.resume, "--resume", space)?,
            read(&plan.warm_start, "--warm-start", space)?,
        ));
    }
    let create = plan.space.as_ref().map(|s| (s, plan.directions.as_slice()));
    let storage = open_storage(&url, &args.study, create)?;
    let mut config = plan.config;
    // Joining without a space: the stored study's directions (with one, they were checked).
    config.directions = storage.study().directions.clone();
    if config.directions.len() != plan.directions.len() {
        bail!(
            "study `{}` in {shown} has {}; this command gives {} (--objective)",
            args.study,
            plural(config.directions.len(), "objective"),
            plan.directions.len()
        );
    }
    config.heartbeat = Some(Duration::from_secs_f64(args.heartbeat));
    let mut study = Study::open(storage, config)?;
    let space = study.space().clone();
    let existing = study.trials().len();
    if existing > 0 {
        eprintln!(
            "continuing study `{}` in {shown}: {}",
            args.study,
            counts(&study)
        );
    } else if default {
        eprintln!("study `{}` in {shown}", args.study);
    }
    let (resume, warm) = match early {
        Some(e) => e,
        None => (
            read(&plan.resume, "--resume", &space)?,
            read(&plan.warm_start, "--warm-start", &space)?,
        ),
    };
    // Each import is atomic and named by its file's contents, so that workers started
    // together with the same command import it once.
    let key = |kind: &str, p: &Path| -> Result<String> {
        let bytes = std::fs::read(p).with_context(|| format!("reading {}", p.display()))?;
        Ok(import_key(kind, &bytes))
    };
    if let (Some(r), Some(trials)) = (&plan.resume, resume) {
        match study.import_trials(trials, None, Some(key("resume", r)?), true) {
            Ok(Some(n)) => eprintln!("resuming: {} from {}", plural(n, "trial"), r.display()),
            Ok(None) => eprintln!(
                "resuming: {} is already in the study (another worker imported it)",
                r.display()
            ),
            Err(TunerError::NotEmpty { trials, .. }) => bail!(
                "--resume {}: the study `{}` in {shown} already has {}; --resume starts a study from a CSV. To continue this one, leave --resume out",
                r.display(),
                args.study,
                plural(trials, "trial")
            ),
            Err(e) => return Err(e.into()),
        }
    }
    if let (Some(w), Some(trials)) = (&plan.warm_start, warm) {
        let already = study.trials().iter().any(|t| t.source == Source::WarmStart);
        match already {
            true => None,
            false => study.import_trials(
                trials,
                Some(Source::WarmStart),
                Some(key("warm-start", w)?),
                false,
            )?,
        }
        .map_or_else(
            || eprintln!("warm start: already in the study, not imported again"),
            |n| {
                eprintln!(
                    "warm start: {} from {} (not counted in --trials)",
                    plural(n, "earlier trial"),
                    w.display()
                )
            },
        );
    }
    Ok(Opened { study, url: shown })
}

fn counts(study: &Study) -> String {
    let mut by: std::collections::BTreeMap<&str, usize> = Default::default();
    for t in study.trials() {
        *by.entry(t.state.name()).or_default() += 1;
    }
    by.iter()
        .map(|(s, n)| format!("{n} {s}"))
        .collect::<Vec<_>>()
        .join(", ")
}

/// The stop flag, set by Ctrl-C, SIGTERM and SIGHUP (installed once per process).
pub fn stop_flag() -> Result<Arc<AtomicBool>> {
    static FLAG: OnceLock<Arc<AtomicBool>> = OnceLock::new();
    if let Some(f) = FLAG.get() {
        return Ok(f.clone());
    }
    let flag = Arc::new(AtomicBool::new(false));
    let f = flag.clone();
    ctrlc::set_handler(move || f.store(true, Ordering::SeqCst))
        .context("installing the Ctrl-C handler")?;
    let _ = FLAG.set(flag.clone());
    Ok(flag)
}

/// The exit code and closing lines of a run.
pub fn ending(summary: &RunSummary, opened: &Opened, out: &Path) -> ExitCode {
    println!("trials written to {}", out.display());
    if summary.interrupted {
        eprintln!(
            "stopped after {} in this run{}; the study is in {}. To continue it, run the same command again:\n  {}",
            plural(summary.finished, "finished trial"),
            if summary.requeued > 0 {
                format!(
                    " ({} queued to run again)",
                    plural(summary.requeued, "interrupted trial")
                )
            } else {
                String::new()
            },
            opened.url,
            shell::this_command_without(&["--resume"])
        );
        return ExitCode::from(130);
    }
    if summary.complete == 0 {
        eprintln!(
            "error: no trial completed; the reasons are in the error column of {}",
            out.display()
        );
        return ExitCode::from(1);
    }
    ExitCode::SUCCESS
}
