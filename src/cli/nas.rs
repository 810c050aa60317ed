//! `nasbo nas`: architecture and training-settings search on a data set, with candle.

use std::path::PathBuf;
use std::process::ExitCode;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;

use anyhow::{bail, Context as _, Result};
use clap::Args;
use indicatif::{MultiProgress, ProgressBar, ProgressStyle};
use nasbo::train::net::{ArchConfig, Connection};
use nasbo::train::{data, device, train, OptimizerKind, Schedule, TrainConfig};
use nasbo::tuner::csv_io::write_atomic;
use nasbo::tuner::strategy::BoConfig;
use nasbo::tuner::{
    Assignment, Direction, Outcome, Space, StrategyKind, Study, StudyConfig, Value,
};

/// Arguments of `nasbo nas`.
#[derive(Args, Debug)]
pub struct NasArgs {
    /// A built-in data set (digits, iris, wine, breast_cancer, mnist) or a CSV file with a
    /// `label` column (gzip allowed).
    #[arg(long, default_value = "digits")]
    dataset: String,
    /// Number of trials.
    #[arg(long, default_value_t = 30)]
    trials: usize,
    /// Seed of the proposals, the data split and every training run.
    #[arg(long, default_value_t = 0)]
    seed: u64,
    /// Where to write the trials.
    #[arg(long, default_value = "nas.csv")]
    out: PathBuf,
    /// The search space: `default` (sized for a few seconds per trial on 2 CPU cores),
    /// `classic` (depth 6–12, width 32–128, conv/pool/skip: for bigger machines), or a TOML
    /// file with the same parameter names.
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
}

fn image_space(classic: bool) -> String {
    let (depth, width) = if classic {
        ((6, 12), (32, 128))
    } else {
        ((1, 3), (8, 32))
    };
    format!(
        r#"
[[param]]
name = "depth"
type = "int"
low = {}
high = {}
[[param]]
name = "width"
type = "int"
low = {}
high = {}
log = true
[[param]]
name = "connection"
type = "categorical"
choices = ["conv", "pool", "skip"]
{COMMON}"#,
        depth.0, depth.1, width.0, width.1
    )
}

const TABULAR: &str = r#"
[[param]]
name = "depth"
type = "int"
low = 1
high = 4
[[param]]
name = "width"
type = "int"
low = 8
high = 128
log = true
[[param]]
name = "connection"
type = "categorical"
choices = ["dense", "skip"]
"#;

const COMMON: &str = r#"
[[param]]
name = "lr"
type = "float"
low = 1e-3
high = 3e-2
log = true
[[param]]
name = "weight_decay"
type = "float"
low = 1e-6
high = 1e-3
log = true
[[param]]
name = "batch_size"
type = "categorical"
choices = ["32", "64"]
[[param]]
name = "dropout"
type = "float"
low = 0.0
high = 0.3
[[param]]
name = "optimizer"
type = "categorical"
choices = ["adamw", "sgd"]
[[param]]
name = "momentum"
type = "float"
low = 0.8
high = 0.99
when = { param = "optimizer", in = ["sgd"] }
"#;

/// The default search space for a data set (`classic`: the classic sweep's ranges).
pub fn default_space(image: bool, classic: bool) -> Result<Space> {
    let text = if image {
        image_space(classic)
    } else {
        format!("{TABULAR}{COMMON}")
    };
    Ok(Space::from_toml(&text)?)
}

fn get<'a>(space: &Space, a: &'a Assignment, name: &str) -> Option<&'a Value> {
    space.index(name).and_then(|i| a[i].as_ref())
}

fn num(space: &Space, a: &Assignment, name: &str) -> Option<f64> {
    match get(space, a, name)? {
        Value::Cat(s) => s.parse().ok(),
        v => v.as_f64(),
    }
}

/// The training run a trial describes.
pub fn configs(
    space: &Space,
    a: &Assignment,
    epochs: usize,
    seed: u64,
) -> Result<(ArchConfig, TrainConfig)> {
    let need = |name: &str| {
        num(space, a, name).with_context(|| format!("the space has no numeric parameter `{name}`"))
    };
    let connection = match get(space, a, "connection") {
        Some(Value::Cat(c)) => Connection::parse(c)
            .with_context(|| format!("unknown connection `{c}` (conv, dense, pool, skip)"))?,
        _ => Connection::Conv,
    };
    let arch = ArchConfig {
        depth: need("depth")? as usize,
        width: need("width")? as usize,
        connections: vec![connection],
        dropout: num(space, a, "dropout").unwrap_or(0.0),
    };
    let optimizer = match get(space, a, "optimizer") {
        Some(Value::Cat(o)) if o == "sgd" => OptimizerKind::Sgd {
            momentum: num(space, a, "momentum").unwrap_or(0.9),
        },
        Some(Value::Cat(o)) if o != "adamw" => bail!("unknown optimizer `{o}` (adamw, sgd)"),
        _ => OptimizerKind::AdamW,
    };
    let config = TrainConfig {
        learning_rate: need("lr")?,
        weight_decay: num(space, a, "weight_decay").unwrap_or(0.0),
        batch_size: num(space, a, "batch_size").unwrap_or(64.0) as usize,
        epochs: num(space, a, "epochs").map_or(epochs, |e| e as usize),
        optimizer,
        schedule: Schedule::Cosine,
        seed,
    };
    Ok((arch, config))
}

fn describe(space: &Space, a: &Assignment) -> String {
    space.to_json(a).to_string()
}

/// Runs `nasbo nas`.
pub fn run(args: NasArgs) -> Result<ExitCode> {
    if args.trials == 0 {
        bail!("--trials must be at least 1");
    }
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
    let epochs = args.epochs.unwrap_or(if image { 12 } else { 40 });
    let strategy = match args.strategy.as_str() {
        // Validation accuracy is a noisy objective.
        "bo" => StrategyKind::Bo(BoConfig {
            noisy: true,
            ..Default::default()
        }),
        s => StrategyKind::parse(s).with_context(|| {
            format!("--strategy `{s}`: bo, random, sobol, evolution or reinforce")
        })?,
    };
    let mut study = Study::new(
        space.clone(),
        StudyConfig {
            direction: Direction::Maximize,
            seed: args.seed,
            strategy,
        },
    )?;
    eprintln!(
        "{}: {} train / {} validation / {} test examples, {} features, {} classes{}; {} trials of {epochs} epochs on {:?}",
        ds.name,
        splits.train.len(),
        splits.val.len(),
        splits.test.len(),
        ds.d,
        ds.classes,
        ds.image.map(|(c, h, w)| format!(" ({c}×{h}×{w} images)")).unwrap_or_default(),
        args.trials,
        dev
    );
    let stop = Arc::new(AtomicBool::new(false));
    {
        let stop = stop.clone();
        ctrlc::set_handler(move || stop.store(true, Ordering::SeqCst))
            .context("installing the Ctrl-C handler")?;
    }
    let terminal = std::io::IsTerminal::is_terminal(&std::io::stderr());
    let multi = MultiProgress::new();
    let (trial_bar, epoch_bar) = if terminal {
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
        (Some(t), Some(e))
    } else {
        (None, None)
    };
    for _ in 0..args.trials {
        if stop.load(Ordering::SeqCst) {
            break;
        }
        let (n, a) = study.ask()?;
        let outcome = match configs(&space, &a, epochs, args.seed.wrapping_add(n as u64)) {
            Err(e) => Outcome::Failed {
                reason: e.to_string(),
            },
            Ok((arch, config)) => {
                if let Some(e) = &epoch_bar {
                    e.set_length(config.epochs as u64);
                    e.set_position(0);
                }
                let mut inter = Vec::new();
                let result = train(&splits, &arch, &config, &dev, |s| {
                    inter.push((s.epoch, s.val_accuracy));
                    match &epoch_bar {
                        Some(e) => {
                            e.set_position(s.epoch as u64);
                            e.set_message(format!(
                                "loss {:.4} val {:.4}",
                                s.train_loss, s.val_accuracy
                            ));
                        }
                        None => eprintln!(
                            "  trial {n} epoch {}/{}: loss {:.4}, val acc {:.4}",
                            s.epoch, config.epochs, s.train_loss, s.val_accuracy
                        ),
                    }
                    !stop.load(Ordering::SeqCst)
                });
                for (epoch, v) in inter {
                    study.report(n, epoch, v)?;
                }
                match result {
                    Ok(_) if stop.load(Ordering::SeqCst) => Outcome::Failed {
                        reason: "interrupted (Ctrl-C)".into(),
                    },
                    Ok(r) => Outcome::Complete {
                        value: r.val_accuracy,
                        metrics: vec![
                            ("test_accuracy".into(), r.test_accuracy),
                            ("train_seconds".into(), r.train_seconds),
                            ("parameters".into(), r.parameters as f64),
                            ("flops_per_example".into(), r.flops_per_example as f64),
                            ("latency_ms".into(), r.latency_per_example_s * 1e3),
                            ("peak_tensor_mb".into(), r.peak_tensor_bytes as f64 / 1e6),
                            (
                                "final_train_loss".into(),
                                r.epochs.last().map_or(f64::NAN, |e| e.train_loss),
                            ),
                        ],
                    },
                    Err(e) => Outcome::Failed {
                        reason: e.to_string(),
                    },
                }
            }
        };
        let line = match &outcome {
            Outcome::Complete { value, metrics } => format!(
                "trial {n}: val {value:.4} test {:.4} ({:.1} s) {}",
                metrics[0].1,
                metrics[1].1,
                describe(&space, &a)
            ),
            Outcome::Failed { reason } => {
                format!("trial {n} failed: {reason} {}", describe(&space, &a))
            }
            Outcome::Pruned { .. } => format!("trial {n} pruned"),
        };
        study.tell(n, outcome)?;
        write_atomic(&study, &args.out)?;
        let best = study
            .best()
            .and_then(|b| b.value)
            .map_or("-".to_string(), |v| format!("{v:.4}"));
        match &trial_bar {
            Some(t) => {
                t.println(&line);
                t.set_position((n + 1) as u64);
                t.set_message(format!("best val {best}"));
            }
            None => eprintln!(
                "[{}/{} trials] {line} | best val {best}",
                n + 1,
                args.trials
            ),
        }
    }
    if let Some(t) = &trial_bar {
        t.finish_and_clear();
    }
    if let Some(e) = &epoch_bar {
        e.finish_and_clear();
    }
    match study.best() {
        Some(b) => {
            let test = b
                .metrics
                .iter()
                .find(|(k, _)| k == "test_accuracy")
                .map_or(f64::NAN, |m| m.1);
            println!(
                "best configuration (trial {}): {}",
                b.number,
                describe(&space, &b.params)
            );
            println!(
                "validation accuracy {:.4}, test accuracy {test:.4}",
                b.value.unwrap_or(f64::NAN)
            );
        }
        None => println!("no trial completed"),
    }
    println!("trials written to {}", args.out.display());
    if stop.load(Ordering::SeqCst) {
        eprintln!(
            "stopped by Ctrl-C; the finished trials are in {}",
            args.out.display()
        );
        return Ok(ExitCode::from(130));
    }
    Ok(ExitCode::SUCCESS)
}
