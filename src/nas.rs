//! The main job as a library: architecture and training-settings search on a data set. The
//! default search spaces, the map from a trial's parameters to a network and its training
//! ([`configs`]), and [`TrainObjective`], the objective that trains one configuration with
//! candle and reports its validation accuracy after each epoch.
//!
//! ```no_run
//! use std::sync::Arc;
//! use nasbo::nas::{default_space, TrainObjective};
//! use nasbo::train::data;
//! use nasbo::tuner::run::{run, RunConfig};
//! use nasbo::tuner::{Direction, Study, StudyConfig};
//!
//! let ds = data::load("iris")?;
//! let splits = data::split(&ds, None, 0.2, 0.2, 0)?;
//! let space = default_space(false, false)?;
//! let mut study = Study::new(space, StudyConfig::new(Direction::Maximize))?;
//! let objective = TrainObjective::new(Arc::new(splits), 20, candle_core::Device::Cpu, 0);
//! run(&mut study, &objective, &RunConfig::trials(5), &mut |_| {})?;
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```

use std::sync::Arc;

use candle_core::Device;

use crate::train::data::Splits;
use crate::train::net::{ArchConfig, Connection};
use crate::train::{train, OptimizerKind, Schedule, TrainConfig};
use crate::tuner::run::{Objective, TrialHandle};
use crate::tuner::{Assignment, Condition, Outcome, Param, ParamKind, Space, TunerError, Value};

/// The parameters a `nas` space may have, and what each sets.
///
/// | name | kind | meaning | default when absent |
/// |---|---|---|---|
/// | `depth` | int | blocks | required |
/// | `width` | int | channels or units per block | required |
/// | `connection` | categorical of `conv`, `dense`, `pool`, `skip` | how blocks connect | `conv` |
/// | `lr` | float | base learning rate | required |
/// | `weight_decay` | float | AdamW's decoupled decay, SGD's L2 | 0 |
/// | `batch_size` | int, or categorical of integers | examples per step | 64 |
/// | `dropout` | float | dropout probability | 0 |
/// | `optimizer` | categorical of `adamw`, `sgd` | the optimizer | `adamw` |
/// | `momentum` | float | SGD's momentum | 0.9 |
/// | `epochs` | int | epochs (overrides `--epochs`) | `--epochs` |
pub const PARAMS: [&str; 10] = [
    "depth",
    "width",
    "connection",
    "lr",
    "weight_decay",
    "batch_size",
    "dropout",
    "optimizer",
    "momentum",
    "epochs",
];

/// The default search space for a data set of images or tabular data (`classic`: the classic
/// sweep's ranges, depth 6–12 and width 32–128, for images on bigger machines): depth, width
/// (log scale) and connection pattern, then the training settings shared by both.
pub fn default_space(image: bool, classic: bool) -> Result<Space, TunerError> {
    let mut params = match (image, classic) {
        (true, false) => vec![
            Param::int("depth", 1, 3),
            Param::int("width", 8, 32).log(),
            Param::categorical("connection", &["conv", "pool", "skip"]),
        ],
        (true, true) => vec![
            Param::int("depth", 6, 12),
            Param::int("width", 32, 128).log(),
            Param::categorical("connection", &["conv", "pool", "skip"]),
        ],
        (false, _) => vec![
            Param::int("depth", 1, 4),
            Param::int("width", 8, 128).log(),
            Param::categorical("connection", &["dense", "skip"]),
        ],
    };
    params.extend([
        Param::log_float("lr", 1e-3, 3e-2),
        Param::log_float("weight_decay", 1e-6, 1e-3),
        Param::categorical("batch_size", &["32", "64"]),
        Param::float("dropout", 0.0, 0.3),
        Param::categorical("optimizer", &["adamw", "sgd"]),
        Param::float("momentum", 0.8, 0.99).when(Condition::one_of(
            "optimizer",
            vec![Value::Cat("sgd".into())],
        )),
    ]);
    Space::new(params)
}

/// Checks that a space is one `nas` can train: every parameter is one of [`PARAMS`], the
/// required ones are there and numeric, and categorical choices are ones it knows.
pub fn check_space(space: &Space) -> Result<(), TunerError> {
    let bad = |param: &str, reason: String| TunerError::InvalidParam {
        param: param.into(),
        reason,
    };
    for p in space.params() {
        if !PARAMS.contains(&p.name.as_str()) {
            return Err(bad(
                &p.name,
                format!(
                    "`nas` does not know this parameter; a nas space holds only {}",
                    PARAMS.join(", ")
                ),
            ));
        }
        let allowed: Option<&[&str]> = match p.name.as_str() {
            "connection" => Some(&["conv", "dense", "pool", "skip"]),
            "optimizer" => Some(&["adamw", "sgd"]),
            _ => None,
        };
        match (&p.kind, allowed) {
            (ParamKind::Categorical { choices }, Some(allowed)) => {
                if let Some(c) = choices.iter().find(|c| !allowed.contains(&c.as_str())) {
                    return Err(bad(
                        &p.name,
                        format!("choice `{c}` is not one of {}", allowed.join(", ")),
                    ));
                }
            }
            (_, Some(_)) => {
                return Err(bad(&p.name, "must be categorical".into()));
            }
            (ParamKind::Categorical { choices }, None) => {
                if let Some(c) = choices.iter().find(|c| c.parse::<f64>().is_err()) {
                    return Err(bad(
                        &p.name,
                        format!(
                            "choice `{c}` is not a number (a categorical `{}` lists numbers)",
                            p.name
                        ),
                    ));
                }
            }
            _ => {}
        }
    }
    for required in ["depth", "width", "lr"] {
        match space.index(required) {
            None => {
                return Err(TunerError::SpaceFile(format!(
                    "a nas space needs a parameter `{required}`"
                )))
            }
            Some(i) if space.params()[i].condition.is_some() => {
                return Err(bad(required, "must not be conditional".into()))
            }
            Some(_) => {}
        }
    }
    Ok(())
}

fn get<'a>(space: &Space, a: &'a Assignment, name: &str) -> Option<&'a Value> {
    space.index(name).and_then(|i| a[i].as_ref())
}

fn as_num(v: &Value) -> Option<f64> {
    match v {
        Value::Cat(s) => s.parse().ok(),
        v => v.as_f64(),
    }
}

/// The training run a trial describes (`epochs` unless the space has an `epochs` parameter;
/// `seed` for initialization, shuffling and dropout).
pub fn configs(
    space: &Space,
    a: &Assignment,
    epochs: usize,
    seed: u64,
) -> Result<(ArchConfig, TrainConfig), String> {
    configs_from(&|name| get(space, a, name), epochs, seed)
}

/// The training run of a trial's parameters given as the JSON object that `nasbo nas` prints
/// (`{"depth":2,"width":16,"connection":"pool","lr":0.005,...}`), for `nasbo train`. Names are
/// those of [`PARAMS`]; numbers may be given as strings (`"batch_size":"32"`, as a
/// categorical prints them); `null` is an absent (inactive) parameter. `epochs` overrides an
/// `epochs` parameter. The error names the parameter. Ranges are checked by
/// [`ArchConfig::check`] and [`TrainConfig::check`].
pub fn configs_from_json(
    params: &serde_json::Value,
    epochs: Option<usize>,
    default_epochs: usize,
    seed: u64,
) -> Result<(ArchConfig, TrainConfig), String> {
    let serde_json::Value::Object(m) = params else {
        return Err(format!(
            "expected a JSON object of parameters, like {{\"depth\":2,\"width\":16,\"lr\":0.01}}, got {params}"
        ));
    };
    let mut values = std::collections::BTreeMap::new();
    for (k, v) in m {
        if !PARAMS.contains(&k.as_str()) {
            return Err(format!(
                "unknown parameter `{k}`; the parameters are {}",
                PARAMS.join(", ")
            ));
        }
        let value = match v {
            serde_json::Value::Null => continue,
            serde_json::Value::Number(n) => match n.as_i64() {
                Some(i) => Value::Int(i),
                None => Value::Float(n.as_f64().unwrap_or(f64::NAN)),
            },
            serde_json::Value::String(s) => Value::Cat(s.clone()),
            other => return Err(format!("`{k}`: expected a number or a string, got {other}")),
        };
        let textual = matches!(k.as_str(), "connection" | "optimizer");
        if textual && !matches!(value, Value::Cat(_)) {
            return Err(format!("`{k}`: expected a string, got {v}"));
        }
        if !textual && !as_num(&value).is_some_and(f64::is_finite) {
            return Err(format!("`{k}`: expected a number, got {v}"));
        }
        if matches!(k.as_str(), "depth" | "width" | "batch_size" | "epochs") {
            let x = as_num(&value).unwrap_or(f64::NAN);
            if !(x.fract() == 0.0 && (1.0..=1e9).contains(&x)) {
                return Err(format!("`{k}`: {v} is not a positive whole number"));
            }
        }
        values.insert(k.clone(), value);
    }
    for required in ["depth", "width", "lr"] {
        if !values.contains_key(required) {
            return Err(format!("missing parameter `{required}`"));
        }
    }
    let default = values
        .get("epochs")
        .and_then(as_num)
        .map_or(default_epochs, |e| e as usize);
    if epochs.is_some() {
        values.remove("epochs");
    }
    configs_from(&|name| values.get(name), epochs.unwrap_or(default), seed)
}

/// Checks the ranges of a configuration from [`configs_from_json`], naming the parameter as
/// the JSON does (`lr`, not the trainer's `learning_rate`).
pub fn check_ranges(arch: &ArchConfig, config: &TrainConfig, image: bool) -> Result<(), String> {
    let renamed = |e: crate::train::TrainError| match e {
        crate::train::TrainError::Config {
            name,
            value,
            reason,
        } => {
            let name = match name {
                "learning_rate" => "lr",
                "connections" => "connection",
                n => n,
            };
            format!("`{name}` = {value}: {reason}")
        }
        e => e.to_string(),
    };
    arch.check(image).map_err(renamed)?;
    config.check().map_err(renamed)
}

type Lookup<'a> = dyn Fn(&str) -> Option<&'a Value> + 'a;

fn configs_from<'a>(
    get: &Lookup<'a>,
    epochs: usize,
    seed: u64,
) -> Result<(ArchConfig, TrainConfig), String> {
    let num = |name: &str| get(name).and_then(as_num);
    let need = |name: &str| {
        num(name).ok_or_else(|| format!("the space has no numeric parameter `{name}`"))
    };
    let connection = match get("connection") {
        Some(Value::Cat(c)) => Connection::parse(c)
            .ok_or_else(|| format!("unknown connection `{c}` (conv, dense, pool, skip)"))?,
        _ => Connection::Conv,
    };
    let arch = ArchConfig {
        depth: need("depth")? as usize,
        width: need("width")? as usize,
        connections: vec![connection],
        dropout: num("dropout").unwrap_or(0.0),
    };
    let optimizer = match get("optimizer") {
        Some(Value::Cat(o)) if o == "sgd" => OptimizerKind::Sgd {
            momentum: num("momentum").unwrap_or(0.9),
        },
        Some(Value::Cat(o)) if o != "adamw" => {
            return Err(format!("unknown optimizer `{o}` (adamw, sgd)"))
        }
        _ => OptimizerKind::AdamW,
    };
    let config = TrainConfig {
        learning_rate: need("lr")?,
        weight_decay: num("weight_decay").unwrap_or(0.0),
        batch_size: num("batch_size").unwrap_or(64.0) as usize,
        epochs: num("epochs").map_or(epochs, |e| e as usize),
        optimizer,
        schedule: Schedule::Cosine,
        seed,
    };
    Ok((arch, config))
}

/// Trains the configuration a trial describes, on `splits`, reporting the validation accuracy
/// after each epoch (the step is the epoch). The objective is the final validation accuracy;
/// the metrics are `test_accuracy`, `train_seconds`, `parameters`, `flops_per_example`,
/// `latency_ms`, `peak_tensor_mb` and `final_train_loss`. Trial `n` trains with seed
/// `seed + n`. A stop (timeout, interruption) takes effect at the end of an epoch. With
/// [`TrainObjective::keys`], the objectives are those keys instead (`val_accuracy` or `value`
/// is the validation accuracy).
pub struct TrainObjective {
    splits: Arc<Splits>,
    epochs: usize,
    device: Device,
    seed: u64,
    keys: Option<Vec<String>>,
}

impl TrainObjective {
    /// The objective on `splits` with `epochs` per trial.
    pub fn new(splits: Arc<Splits>, epochs: usize, device: Device, seed: u64) -> Self {
        TrainObjective {
            splits,
            epochs,
            device,
            seed,
            keys: None,
        }
    }
    /// The objectives are these keys of a trial's result, in order: `val_accuracy` (or
    /// `value`) or a metric's name; a key the result lacks fails the trial, naming it.
    pub fn keys(mut self, keys: Vec<String>) -> Self {
        self.keys = Some(keys);
        self
    }
}

impl Objective for TrainObjective {
    fn check(&self, space: &Space) -> Result<(), TunerError> {
        if self.epochs == 0 {
            return Err(TunerError::InvalidConfig {
                name: "epochs",
                value: "0".into(),
                reason: "at least 1".into(),
            });
        }
        check_space(space)
    }

    fn evaluate(&self, h: &TrialHandle) -> Outcome {
        let seed = self.seed.wrapping_add(h.number() as u64);
        let (arch, config) = match configs(h.space(), h.params(), self.epochs, seed) {
            Ok(c) => c,
            Err(e) => return Outcome::failed(e),
        };
        let total = config.epochs;
        let result = train(&self.splits, &arch, &config, &self.device, |s| {
            h.note(format!(
                "trial {} epoch {}/{total}: loss {:.4}, val acc {:.4}",
                h.number(),
                s.epoch,
                s.train_loss,
                s.val_accuracy
            ));
            h.report(s.epoch as u64, s.val_accuracy)
        });
        match result {
            Ok(r) => {
                let metrics: Vec<(String, f64)> = vec![
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
                ]
                .into_iter()
                .filter(|(_, v)| v.is_finite())
                .collect();
                match &self.keys {
                    None => Outcome::with_metrics(r.val_accuracy, metrics),
                    Some(keys) => match crate::tuner::run::pick_values(
                        keys,
                        Some(r.val_accuracy),
                        &metrics,
                        &["val_accuracy"],
                    ) {
                        Ok(values) => Outcome::Complete {
                            metrics: crate::tuner::run::with_objective_metrics(
                                keys, &values, metrics,
                            ),
                            values,
                        },
                        Err(reason) => Outcome::failed(reason),
                    },
                }
            }
            Err(e) => Outcome::failed(e.to_string()),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn spaces_nas_cannot_train_are_refused_by_name() {
        check_space(&default_space(true, false).unwrap()).unwrap();
        check_space(&default_space(false, false).unwrap()).unwrap();
        check_space(&default_space(true, true).unwrap()).unwrap();
        let cases = [
            ("[[param]]\nname = \"depht\"\ntype = \"int\"\nlow = 1\nhigh = 3\n", "parameter `depht`: `nas` does not know this parameter"),
            ("[[param]]\nname = \"depth\"\ntype = \"int\"\nlow = 1\nhigh = 3\n[[param]]\nname = \"width\"\ntype = \"int\"\nlow = 8\nhigh = 16\n", "needs a parameter `lr`"),
            ("[[param]]\nname = \"connection\"\ntype = \"categorical\"\nchoices = [\"conv\", \"attention\"]\n", "parameter `connection`: choice `attention` is not one of"),
            ("[[param]]\nname = \"batch_size\"\ntype = \"categorical\"\nchoices = [\"big\"]\n", "parameter `batch_size`: choice `big` is not a number"),
        ];
        for (text, msg) in cases {
            let space = Space::from_toml(text).unwrap();
            let err = check_space(&space).unwrap_err().to_string();
            assert!(err.contains(msg), "expected `{msg}` in `{err}`");
        }
    }
}
