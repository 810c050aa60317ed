//! `nasbo tune`: tunes any program. Each trial runs the command with `{name}` in its arguments
//! replaced by the parameter's value (and `{trial}` by the trial number); the parameters are
//! also in the environment as JSON (`NASBO_PARAMS`) with the trial number (`NASBO_TRIAL`). The
//! objective is the last non-empty line of the command's standard output: a number, or a JSON
//! object whose `"value"` is the objective and whose other numeric keys become metrics
//! (`nasbo_tuner::run::CommandObjective`).

use std::path::PathBuf;
use std::process::ExitCode;

use anyhow::{bail, Context as _, Result};
use clap::Args;
use nasbo::tuner::run::{run as run_loop, CommandObjective, Event, RunConfig};
use nasbo::tuner::space::format_float;
use nasbo::tuner::{Assignment, Direction, Space, StudyConfig, TrialState};

use super::progress::Progress;
use super::session::{self, Plan, RunArgs, StrategyArgs, StudyArgs};

/// Arguments of `nasbo tune`.
#[derive(Args, Debug)]
pub struct TuneArgs {
    /// The search space (TOML, one [[param]] table per parameter); needed to create the
    /// study, optional when joining one that exists.
    #[arg(long)]
    space: Option<PathBuf>,
    /// The study's total number of trials (warm-start trials not counted): workers stop
    /// starting trials when the study holds this many.
    #[arg(long, default_value_t = 50)]
    trials: usize,
    /// Where to write the trials as CSV (rewritten atomically after every trial). Without
    /// --storage the study itself is kept beside it (OUT with the extension .db), and the
    /// trials' logs in a folder OUT with the extension .logs.
    #[arg(long, default_value = "trials.csv")]
    out: PathBuf,
    /// minimize or maximize the objective.
    #[arg(long, default_value = "minimize")]
    direction: String,
    /// KEY:DIRECTION, repeatable: several objectives, each read from KEY of the command's
    /// JSON line (`value` or any numeric key), e.g. --objective accuracy:maximize --objective
    /// latency:minimize. Each is in the CSV as metric_KEY, with a `pareto` column marking the
    /// trials on the non-dominated front. Instead of --direction.
    #[arg(
        long = "objective",
        value_name = "KEY:DIRECTION",
        conflicts_with = "direction"
    )]
    objectives: Vec<String>,
    #[command(flatten)]
    proposals: StrategyArgs,
    /// Start from the results in this CSV (same space) without counting them as trials of
    /// this study (imported once).
    #[arg(long)]
    warm_start: Option<PathBuf>,
    #[command(flatten)]
    run: RunArgs,
    #[command(flatten)]
    study: StudyArgs,
    /// The command and its arguments, after `--`.
    #[arg(last = true, required = true)]
    command: Vec<String>,
}

/// `name=value` of the active parameters.
pub fn describe(space: &Space, a: &Assignment) -> String {
    space
        .params()
        .iter()
        .zip(a)
        .filter_map(|(p, v)| v.as_ref().map(|v| format!("{}={v}", p.name)))
        .collect::<Vec<_>>()
        .join(" ")
}

/// Runs `nasbo tune`.
pub fn run(args: TuneArgs) -> Result<ExitCode> {
    if args.trials == 0 {
        bail!("--trials must be at least 1");
    }
    let timeout = args.run.timeout()?;
    let direction = Direction::parse(&args.direction)
        .with_context(|| format!("--direction `{}`: use minimize or maximize", args.direction))?;
    let space = match &args.space {
        Some(p) => Some(Space::from_file(p).context("reading the search space")?),
        None => None,
    };
    let (directions, keys) = session::objectives(&args.objectives, direction)?;
    let mut objective = CommandObjective::new(args.command.clone())?;
    if let Some(k) = &keys {
        objective = objective.keys(k.clone());
    }
    if let Some(s) = &space {
        use nasbo::tuner::run::Objective;
        objective.check(s)?;
    } else if args.study.storage.is_none() && !session::default_storage(&args.out).exists() {
        bail!("--space is needed to create the study");
    }
    let plan = Plan {
        out: args.out.clone(),
        space,
        config: StudyConfig {
            seed: args.proposals.seed,
            strategy: args.proposals.kind()?.with_budget(args.trials),
            directions: directions.clone(),
            ..StudyConfig::new(direction)
        },
        directions,
        keys: keys.clone(),
        resume: args.run.resume.clone(),
        warm_start: args.warm_start.clone(),
    };
    let mut opened = session::open(&args.study, plan)?;
    let space = opened.study.space().clone();
    let logs = session::log_dir(&args.out);
    let config = RunConfig {
        parallel: args.run.parallel,
        timeout,
        checkpoint: Some(args.out.clone()),
        log_dir: Some(logs.clone()),
        stop: session::stop_flag()?,
        pruner: args.run.pruner(None)?,
        ..RunConfig::trials(args.trials)
    };
    eprintln!(
        "trial logs (standard output and error) in {}",
        logs.display()
    );
    let progress = Progress::new(args.trials as u64, "trials");
    let summary = run_loop(&mut opened.study, &objective, &config, &mut |e| match e {
        Event::Warning(w) => progress.println(&format!("warning: {w}")),
        Event::Finished { trial: t, study } => {
            let line = match t.state {
                TrialState::Complete => match &keys {
                    Some(k) => format!(
                        "trial {} complete: {}",
                        t.number,
                        session::describe_values(k, &t.values)
                    ),
                    None => format!(
                        "trial {} complete: {}",
                        t.number,
                        t.value().map(format_float).unwrap_or_default()
                    ),
                },
                TrialState::Failed => format!(
                    "trial {} failed: {}",
                    t.number,
                    t.error.as_deref().unwrap_or("")
                ),
                TrialState::Queued => {
                    format!("trial {} interrupted, queued to run again", t.number)
                }
                TrialState::Pruned => format!(
                    "trial {} pruned at step {}: {}",
                    t.number,
                    t.last_step()
                        .map(|s| s.to_string())
                        .unwrap_or_else(|| "-".into()),
                    t.value().map(format_float).unwrap_or_else(|| "-".into())
                ),
                s => format!("trial {} {}", t.number, s.name()),
            };
            progress.println(&format!(
                "{line}  [{}] ({:.2} s)",
                describe(study.space(), &t.params),
                t.duration_s().unwrap_or(0.0)
            ));
            let best = if keys.is_some() {
                format!("front {}", session::front(study).len())
            } else {
                study
                    .best()
                    .and_then(|b| b.value())
                    .map(format_float)
                    .map(|b| format!("best {b}"))
                    .unwrap_or_else(|| "best -".into())
            };
            let done = study
                .trials()
                .iter()
                .filter(|t| t.state.is_finished() && t.source != nasbo::tuner::Source::WarmStart)
                .count();
            progress.update(
                done as u64,
                &format!(
                    "{best}, last trial {:.2} s, suggest {:.1} ms",
                    t.duration_s().unwrap_or(0.0),
                    t.suggest_s * 1e3
                ),
            );
        }
        _ => {}
    })?;
    progress.finish();
    if let Some(k) = &keys {
        let front = session::front(&opened.study);
        println!(
            "Pareto front ({}): {}",
            k.join(", "),
            super::plural(front.len(), "trial")
        );
        for t in front {
            println!(
                "  trial {}: {} [{}]",
                t.number,
                session::describe_values(k, &t.values),
                describe(&space, &t.params)
            );
        }
        return Ok(session::ending(&summary, &opened, &args.out));
    }
    match opened.study.best() {
        Some(b) => println!(
            "best: trial {} value {} [{}]",
            b.number,
            b.value().map(format_float).unwrap_or_default(),
            describe(&space, &b.params)
        ),
        None => println!("no trial completed"),
    }
    Ok(session::ending(&summary, &opened, &args.out))
}
