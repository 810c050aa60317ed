//! `nasbo train`: trains one configuration (a trial's parameters, as the JSON `nasbo nas`
//! prints), shows progress, saves the weights as safetensors with the architecture in the
//! metadata, and prints a JSON summary as its last line.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::process::ExitCode;

use anyhow::{anyhow, bail, Context as _, Result};
use clap::Args;
use indicatif::{ProgressBar, ProgressStyle};
use nasbo::nas::{check_ranges, configs_from_json};
use nasbo::train::data::{self, Dataset};
use nasbo::train::{device, model, train_model};

use super::session;

#[derive(Args, Debug)]
pub struct TrainArgs {
    /// Built-in data set (digits, mnist, iris, wine, breast_cancer) or a CSV with a `label`
    /// column.
    #[arg(long, default_value = "digits")]
    dataset: String,
    /// The configuration: a JSON object of `nas` parameters, as `nasbo nas` prints a trial.
    #[arg(long)]
    params: String,
    /// Epochs (default: the parameters' `epochs`, else 12 for images and 40 for tabular
    /// data, as `nasbo nas`).
    #[arg(long)]
    epochs: Option<usize>,
    /// Seed of initialization, shuffling and dropout (a `nas` trial N of seed S used S + N).
    #[arg(long, default_value_t = 0)]
    seed: u64,
    /// Seed of the train/validation/test split (default: --seed; a `nas` run's --seed gives
    /// its split).
    #[arg(long)]
    split_seed: Option<u64>,
    /// Train on the training and validation splits together (then no validation accuracy is
    /// reported). By default the validation split is held out, as in `nas`.
    #[arg(long)]
    full: bool,
    /// auto, cpu or cuda:N.
    #[arg(long, default_value = "cpu")]
    device: String,
    /// Where to write the weights (safetensors).
    #[arg(long)]
    out: PathBuf,
}

/// Fails early, before any training, when `out` cannot be written.
fn check_writable(out: &Path) -> Result<()> {
    session::check_out(out)?;
    let name = out
        .file_name()
        .ok_or_else(|| anyhow!("--out {}: not a file name", out.display()))?;
    let probe = out.with_file_name(format!(
        ".{}.{}.probe",
        name.to_string_lossy(),
        std::process::id()
    ));
    std::fs::File::create(&probe)
        .with_context(|| format!("--out {}: cannot write there", out.display()))?;
    std::fs::remove_file(&probe).ok();
    Ok(())
}

fn concat(a: &Dataset, b: &Dataset) -> Dataset {
    let mut d = a.clone();
    d.x.extend_from_slice(&b.x);
    d.y.extend_from_slice(&b.y);
    d
}

fn json_number(x: f64) -> serde_json::Value {
    if x.is_finite() {
        serde_json::Value::from(x)
    } else {
        serde_json::Value::Null
    }
}

pub fn run(args: TrainArgs) -> Result<ExitCode> {
    if args.epochs == Some(0) {
        bail!("--epochs must be at least 1");
    }
    let params: serde_json::Value =
        serde_json::from_str(&args.params).map_err(|e| anyhow!("--params: not valid JSON: {e}"))?;
    check_writable(&args.out)?;
    let dev = device(&args.device)?;
    let ds = data::load(&args.dataset)
        .with_context(|| format!("loading the data set `{}`", args.dataset))?;
    let image = ds.image.is_some();
    let (arch, config) =
        configs_from_json(&params, args.epochs, if image { 12 } else { 40 }, args.seed)
            .map_err(|e| anyhow!("--params: {e}"))?;
    check_ranges(&arch, &config, image).map_err(|e| anyhow!("--params: {e}"))?;
    let test_set = data::builtin_test(&args.dataset)?;
    let split_seed = args.split_seed.unwrap_or(args.seed);
    let mut splits = data::split(&ds, test_set.as_ref(), 0.2, 0.2, split_seed)?;
    if args.full {
        splits.train = concat(&splits.train, &splits.val);
        splits.val = splits.val.subset(&[]);
    }
    eprintln!(
        "{}: training on {} examples ({}), {} epochs, testing on {}; {:?}",
        ds.name,
        splits.train.len(),
        if args.full {
            "training and validation splits"
        } else {
            "validation held out"
        },
        config.epochs,
        splits.test.len(),
        dev
    );
    let terminal = std::io::IsTerminal::is_terminal(&std::io::stderr());
    let bar = terminal.then(|| {
        let b = ProgressBar::new(config.epochs as u64);
        b.set_style(
            ProgressStyle::with_template(
                "epochs {bar:30.green/white} {pos}/{len} [{elapsed_precise}] {msg}",
            )
            .unwrap_or_else(|_| ProgressStyle::default_bar()),
        );
        b
    });
    let epochs = config.epochs;
    let (report, net) = train_model(&splits, &arch, &config, &dev, |e| {
        let msg = if e.val_accuracy.is_nan() {
            format!("loss {:.4} train acc {:.4}", e.train_loss, e.train_accuracy)
        } else {
            format!(
                "loss {:.4} train acc {:.4} val {:.4}",
                e.train_loss, e.train_accuracy, e.val_accuracy
            )
        };
        match &bar {
            Some(b) => {
                b.set_position(e.epoch as u64);
                b.set_message(msg);
            }
            None => eprintln!("epoch {}/{epochs}: {msg}", e.epoch),
        }
        true
    })?;
    if let Some(b) = &bar {
        b.finish_and_clear();
    }
    let mut meta = BTreeMap::new();
    meta.insert("nasbo.params".to_string(), params.to_string());
    meta.insert("nasbo.dataset".to_string(), ds.name.clone());
    meta.insert("nasbo.epochs".to_string(), report.epochs.len().to_string());
    meta.insert("nasbo.seed".to_string(), args.seed.to_string());
    meta.insert("nasbo.split_seed".to_string(), split_seed.to_string());
    meta.insert(
        "nasbo.test_accuracy".to_string(),
        report.test_accuracy.to_string(),
    );
    if !args.full {
        meta.insert(
            "nasbo.val_accuracy".to_string(),
            report.val_accuracy.to_string(),
        );
    }
    let input = model::Input {
        features: ds.d,
        image: ds.image,
        classes: ds.classes,
        standardization: &splits.standardization,
    };
    model::save(&net, &arch, &input, &meta, &args.out)
        .with_context(|| format!("--out {}", args.out.display()))?;
    eprintln!(
        "saved {} ({} parameters)",
        args.out.display(),
        report.parameters
    );
    let summary = serde_json::json!({
        "dataset": ds.name,
        "train_examples": splits.train.len(),
        "validation": if args.full { "trained on" } else { "held out" },
        "epochs": report.epochs.len(),
        "train_seconds": report.train_seconds,
        "val_accuracy": json_number(report.val_accuracy),
        "test_accuracy": report.test_accuracy,
        "parameters": report.parameters,
        "flops_per_example": report.flops_per_example,
        "seed": args.seed,
        "split_seed": split_seed,
        "out": args.out.display().to_string(),
    });
    println!("{summary}");
    Ok(ExitCode::SUCCESS)
}
