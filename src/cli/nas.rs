//! `nasbo nas`: architecture and training-settings search on a data set, with candle
//! (`nasbo::nas::TrainObjective` in the shared run loop).

use std::path::PathBuf;
use std::process::ExitCode;
use std::sync::Arc;

use anyhow::{bail, Context as _, Result};
use clap::Args;
use indicatif::{MultiProgress, ProgressBar, ProgressStyle};
use nasbo::nas::{check_space, default_space, TrainObjective};
use nasbo::train::{data, device};
use nasbo::tuner::run::{run as run_loop, Event, RunConfig};
use nasbo::tuner::strategy::StrategyKind;
use nasbo::tuner::{BoConfig, Direction, ParamKind, Space, StudyConfig, TrialState};

use super::plural;
use super::session::{self, Plan, RunArgs, StudyArgs};

/// Arguments of `nasbo nas`.
#[derive(Args, Debug)]
pub struct NasArgs {
    /// A built-in data set (digits, iris, wine, breast_cancer, mnist) or a CSV file with a
    /// `label` column (gzip allowed).
    #[arg(long, default_value = "digits")]
    dataset: String,
    /// The study's total number of trials.
    #[arg(long, default_value_t = 30)]
    trials: usize,
    /// Seed of the proposals, the data split and every training run.
    #[arg(long, default_value_t = 0)]
    seed: u64,
    /// Where to write the trials as CSV. Without --storage the study itself is kept beside
    /// it (OUT with the extension .db).
    #[arg(long, default_value = "nas.csv")]
    out: PathBuf,
    /// The search space: `default` (sized for a few seconds per trial on 2 CPU cores),
    /// `classic` (depth 6–12, width 32–128, conv/pool/skip: for bigger machines), or a TOML
    /// file whose parameters are among depth, width, connection, lr, weight_decay,
    /// batch_size, dropout, optimizer, momentum and epochs (depth, width and lr required).
    #[arg(long, default_value = "default")]
    space: String,
    /// Epochs per trial (default: 12 for images, 40 for tabular data); a space parameter
    /// named `epochs` overrides it.
    #[arg(long)]
    epochs: Option<usize>,
    /// bo, random, sobol, evolution or reinforce.
    #[arg(long, default_value = "bo")]
    strategy: String,
    /// auto, cpu or cuda:N.
    #[arg(long, default_value = "cpu")]
    device: String,
    /// KEY:DIRECTION, repeatable: several objectives among the trial's results
    /// (val_accuracy, test_accuracy, latency_ms, parameters, flops_per_example,
    /// train_seconds, peak_tensor_mb, final_train_loss), e.g. --objective
    /// val_accuracy:maximize --objective latency_ms:minimize. Default: val_accuracy alone.
    #[arg(long = "objective", value_name = "KEY:DIRECTION")]
    objectives: Vec<String>,
    #[command(flatten)]
    run: RunArgs,
    #[command(flatten)]
    study: StudyArgs,
}

/// Runs `nasbo nas`.
pub fn run(args: NasArgs) -> Result<ExitCode> {
    if args.trials == 0 {
        bail!("--trials must be at least 1");
    }
    if args.epochs == Some(0) {
        bail!("--epochs must be at least 1");
    }
    let timeout = args.run.timeout()?;
    session::check_out(&args.out)?;
    let dev = device(&args.device)?;
    let ds = data::load(&args.dataset)
        .with_context(|| format!("loading the data set `{}`", args.dataset))?;
    let test_set = data::builtin_test(&args.dataset)?;
    let splits = data::split(&ds, test_set.as_ref(), 0.2, 0.2, args.seed)?;
    let image = ds.image.is_some();
    let space = match args.space.as_str() {
        "default" => default_space(image, false)?,
        "classic" => {
            if !image {
                bail!("the classic preset is for image data sets (digits, mnist)");
            }
            default_space(true, true)?
        }
        path => Space::from_file(std::path::Path::new(path)).context("reading --space")?,
    };
    check_space(&space).context("--space")?;
    let epochs = args.epochs.unwrap_or(if image { 12 } else { 40 });
    let strategy = match args.strategy.as_str() {
        // Validation accuracy is a noisy objective.
        "bo" => StrategyKind::Bo(BoConfig {
            noisy: true,
            ..Default::default()
        }),
        s => StrategyKind::parse(s)
            .with_context(|| format!("--strategy `{s}`: use {}", StrategyKind::NAMES.join(", ")))?,
    };
    let (directions, keys) = session::objectives(&args.objectives, Direction::Maximize)?;
    let plan = Plan {
        out: args.out.clone(),
        space: Some(space),
        config: StudyConfig {
            seed: args.seed,
            strategy,
            directions: directions.clone(),
            ..StudyConfig::new(Direction::Maximize)
        },
        directions,
        keys: keys.clone(),
        resume: args.run.resume.clone(),
        warm_start: None,
    };
    let mut opened = session::open(&args.study, plan)?;
    eprintln!(
        "{}: {} train / {} validation / {} test examples, {} features, {} class{}{}; {} of {} on {:?}",
        ds.name,
        splits.train.len(),
        splits.val.len(),
        splits.test.len(),
        ds.d,
        ds.classes,
        if ds.classes == 1 { "" } else { "es" },
        ds.image
            .map(|(c, h, w)| format!(" ({c}×{h}×{w} images)"))
            .unwrap_or_default(),
        plural(args.trials, "trial"),
        plural(epochs, "epoch"),
        dev
    );
    let mut objective = TrainObjective::new(Arc::new(splits), epochs, dev, args.seed);
    if let Some(k) = &keys {
        objective = objective.keys(k.clone());
    }
    let config = RunConfig {
        parallel: args.run.parallel,
        timeout,
        checkpoint: Some(args.out.clone()),
        stop: session::stop_flag()?,
        pruner: args
            .run
            .pruner(Some(max_epochs(opened.study.space(), epochs)))?,
        ..RunConfig::trials(args.trials)
    };
    let terminal = std::io::IsTerminal::is_terminal(&std::io::stderr());
    let multi = MultiProgress::new();
    let bars = terminal.then(|| {
        let t = multi.add(ProgressBar::new(args.trials as u64));
        t.set_style(
            ProgressStyle::with_template(
                "trials {bar:30.cyan/blue} {pos}/{len} [{elapsed_precise}] {msg}",
            )
            .unwrap_or_else(|_| ProgressStyle::default_bar()),
        );
        let e = multi.add(ProgressBar::new(epochs as u64));
        e.set_style(
            ProgressStyle::with_template("epochs {bar:30.green/white} {pos}/{len} {msg}")
                .unwrap_or_else(|_| ProgressStyle::default_bar()),
        );
        (t, e)
    });
    let total = args.trials;
    let summary = run_loop(&mut opened.study, &objective, &config, &mut |e| match e {
        Event::Started { trial } => {
            if let Some((_, e)) = &bars {
                e.set_position(0);
                e.set_message(format!("trial {}", trial.number));
            }
        }
        Event::Report(r) => {
            if let Some((_, e)) = &bars {
                e.set_position(r.step);
                e.set_message(format!("val {:.4}", r.value));
            }
        }
        Event::Note { text, .. } => {
            if bars.is_none() {
                eprintln!("  {text}");
            }
        }
        Event::Warning(w) => match &bars {
            Some((t, _)) => t.println(format!("warning: {w}")),
            None => eprintln!("warning: {w}"),
        },
        Event::Finished { trial: t, study } => {
            let params = study.space().to_json(&t.params);
            let line = match t.state {
                TrialState::Complete if keys.is_some() => format!(
                    "trial {}: {} ({:.1} s) {params}",
                    t.number,
                    session::describe_values(keys.as_deref().unwrap_or_default(), &t.values),
                    t.metric("train_seconds").unwrap_or(f64::NAN),
                ),
                TrialState::Complete => format!(
                    "trial {}: val {:.4} test {:.4} ({:.1} s) {params}",
                    t.number,
                    t.value().unwrap_or(f64::NAN),
                    t.metric("test_accuracy").unwrap_or(f64::NAN),
                    t.metric("train_seconds").unwrap_or(f64::NAN),
                ),
                TrialState::Pruned => format!(
                    "trial {}: pruned after epoch {} at val {:.4} {params}",
                    t.number,
                    t.last_step().unwrap_or(0),
                    t.value().unwrap_or(f64::NAN),
                ),
                TrialState::Queued => {
                    format!(
                        "trial {} interrupted, queued to run again {params}",
                        t.number
                    )
                }
                _ => format!(
                    "trial {} {}: {} {params}",
                    t.number,
                    t.state.name(),
                    t.error.as_deref().unwrap_or("")
                ),
            };
            let best = if keys.is_some() {
                format!("front {}", session::front(study).len())
            } else {
                study
                    .best()
                    .and_then(|b| b.value())
                    .map_or("best val -".to_string(), |v| format!("best val {v:.4}"))
            };
            let done = study
                .trials()
                .iter()
                .filter(|t| t.state.is_finished())
                .count();
            match &bars {
                Some((bar, _)) => {
                    bar.println(&line);
                    bar.set_position(done as u64);
                    bar.set_message(best);
                }
                None => eprintln!("[{done}/{total} trials] {line} | {best}"),
            }
        }
    })?;
    if let Some((t, e)) = &bars {
        t.finish_and_clear();
        e.finish_and_clear();
    }
    if let Some(k) = &keys {
        let front = session::front(&opened.study);
        println!(
            "Pareto front ({}): {}",
            k.join(", "),
            plural(front.len(), "trial")
        );
        for t in front {
            println!(
                "  trial {}: {} {}",
                t.number,
                session::describe_values(k, &t.values),
                opened.study.space().to_json(&t.params)
            );
        }
        return Ok(session::ending(&summary, &opened, &args.out));
    }
    match opened.study.best() {
        Some(b) => {
            println!(
                "best configuration (trial {}): {}",
                b.number,
                opened.study.space().to_json(&b.params)
            );
            println!(
                "validation accuracy {:.4}, test accuracy {:.4}",
                b.value().unwrap_or(f64::NAN),
                b.metric("test_accuracy").unwrap_or(f64::NAN)
            );
            // A space's own `epochs` parameter is in the JSON and must not be overridden.
            let epochs_flag = match opened.study.space().index("epochs") {
                Some(_) => String::new(),
                None => format!(" --epochs {epochs}"),
            };
            println!(
                "retrain it and keep its weights: nasbo train --dataset {} --params {}{epochs_flag} \
                 --seed {} --split-seed {} --out best.safetensors",
                shell_word(&args.dataset),
                shell_word(&opened.study.space().to_json(&b.params).to_string()),
                args.seed.wrapping_add(b.number as u64),
                args.seed
            );
        }
        None => println!("no trial completed"),
    }
    Ok(session::ending(&summary, &opened, &args.out))
}

/// A trial's full budget in epochs: the largest `epochs` of the space, else `--epochs`.
/// `s` as one word for a POSIX shell: as it is when it holds only safe characters, else in
/// single quotes.
fn shell_word(s: &str) -> String {
    let safe = |c: char| c.is_ascii_alphanumeric() || "-_./:=,+@%".contains(c);
    if !s.is_empty() && s.chars().all(safe) {
        s.to_string()
    } else {
        format!("'{}'", s.replace('\'', r"'\''"))
    }
}

fn max_epochs(space: &Space, epochs: usize) -> u64 {
    space
        .index("epochs")
        .and_then(|i| match space.params()[i].kind {
            ParamKind::Int { high, .. } => u64::try_from(high).ok(),
            _ => None,
        })
        .unwrap_or(epochs as u64)
}
