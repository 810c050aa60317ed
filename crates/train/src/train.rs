//! Training one configuration and measuring it.

use std::time::Instant;

use candle_core::{DType, Device, Tensor};
use rand::seq::SliceRandom;
use rand::SeedableRng;
use rand_chacha::ChaCha8Rng;
use serde::{Deserialize, Serialize};

use crate::data::{Dataset, Splits};
use crate::net::{ArchConfig, Network};
use crate::optim::{Optimizer, OptimizerKind, Schedule};
use crate::TrainError;

/// Training settings.
///
/// | setting | meaning | valid range |
/// |---|---|---|
/// | `learning_rate` | base rate | `(0, 10]` |
/// | `weight_decay` | AdamW's decoupled decay, SGD's L2 | `[0, 1)` |
/// | `batch_size` | examples per step | `1..=65536` |
/// | `epochs` | passes over the training split | `1..=10000` |
/// | `optimizer` | AdamW or SGD with momentum | momentum in `[0, 1)` |
/// | `schedule` | constant or cosine | |
/// | `seed` | initialization, shuffling, dropout | any |
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct TrainConfig {
    /// Base learning rate.
    pub learning_rate: f64,
    /// Weight decay.
    pub weight_decay: f64,
    /// Batch size.
    pub batch_size: usize,
    /// Epochs.
    pub epochs: usize,
    /// Optimizer.
    pub optimizer: OptimizerKind,
    /// Learning-rate schedule.
    pub schedule: Schedule,
    /// Seed.
    pub seed: u64,
}

impl Default for TrainConfig {
    fn default() -> Self {
        TrainConfig {
            learning_rate: 1e-3,
            weight_decay: 1e-4,
            batch_size: 64,
            epochs: 10,
            optimizer: OptimizerKind::AdamW,
            schedule: Schedule::Cosine,
            seed: 0,
        }
    }
}

impl TrainConfig {
    /// Checks the ranges.
    pub fn check(&self) -> Result<(), TrainError> {
        let bad = |name: &'static str, value: String, reason: &str| {
            Err(TrainError::Config {
                name,
                value,
                reason: reason.into(),
            })
        };
        if !(self.learning_rate > 0.0 && self.learning_rate <= 10.0) {
            return bad(
                "learning_rate",
                self.learning_rate.to_string(),
                "in (0, 10]",
            );
        }
        if !(0.0..1.0).contains(&self.weight_decay) {
            return bad("weight_decay", self.weight_decay.to_string(), "in [0, 1)");
        }
        if !(1..=65536).contains(&self.batch_size) {
            return bad(
                "batch_size",
                self.batch_size.to_string(),
                "between 1 and 65536",
            );
        }
        if !(1..=10000).contains(&self.epochs) {
            return bad("epochs", self.epochs.to_string(), "between 1 and 10000");
        }
        if let OptimizerKind::Sgd { momentum } = self.optimizer {
            if !(0.0..1.0).contains(&momentum) {
                return bad("momentum", momentum.to_string(), "in [0, 1)");
            }
        }
        Ok(())
    }
}

/// Loss and accuracies after one epoch.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct EpochStats {
    /// 1-based epoch.
    pub epoch: usize,
    /// Mean training loss over the epoch.
    pub train_loss: f64,
    /// Training accuracy over the epoch (with dropout active).
    pub train_accuracy: f64,
    /// Validation accuracy at the end of the epoch.
    pub val_accuracy: f64,
}

/// What one trained configuration measured.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct TrainReport {
    /// Validation accuracy after the last epoch (the tuner's objective).
    pub val_accuracy: f64,
    /// Test accuracy (reported only).
    pub test_accuracy: f64,
    /// Wall seconds of training (evaluation excluded).
    pub train_seconds: f64,
    /// Trainable parameters.
    pub parameters: usize,
    /// Forward FLOPs per example (2 per multiply-add).
    pub flops_per_example: u64,
    /// Inference seconds per example, batched by the training batch size, on the test split.
    pub latency_per_example_s: f64,
    /// Peak bytes of the model's tensors during training: parameters, gradients, optimizer
    /// state, and the activations autograd keeps for one batch (computed from the shapes).
    pub peak_tensor_bytes: u64,
    /// Per-epoch statistics.
    pub epochs: Vec<EpochStats>,
}

/// Parses `auto`, `cpu` or `cuda:N` (`cuda` = `cuda:0`). `auto` takes the first CUDA device when
/// the crate is built with the `cuda` feature and one is present, else the CPU.
pub fn device(spec: &str) -> Result<Device, TrainError> {
    let err = |reason: String| TrainError::Device {
        device: spec.into(),
        reason,
    };
    match spec {
        "cpu" => Ok(Device::Cpu),
        "auto" => Ok(Device::cuda_if_available(0).unwrap_or(Device::Cpu)),
        s if s == "cuda" || s.starts_with("cuda:") => {
            let n: usize = s
                .strip_prefix("cuda:")
                .unwrap_or("0")
                .parse()
                .map_err(|_| err("expected cuda:N".into()))?;
            if !candle_core::utils::cuda_is_available() {
                return Err(err(
                    "this build has no CUDA support (build with --features cuda)".into(),
                ));
            }
            // The first line: candle appends a backtrace to its CUDA errors.
            Device::new_cuda(n)
                .map_err(|e| err(e.to_string().lines().next().unwrap_or_default().to_string()))
        }
        _ => Err(err("use auto, cpu or cuda:N".into())),
    }
}

fn to_tensors(ds: &Dataset, idx: &[usize], dev: &Device) -> candle_core::Result<(Tensor, Tensor)> {
    let mut x = Vec::with_capacity(idx.len() * ds.d);
    for &i in idx {
        x.extend_from_slice(ds.row(i));
    }
    let y: Vec<u32> = idx.iter().map(|&i| ds.y[i]).collect();
    Ok((
        Tensor::from_vec(x, (idx.len(), ds.d), dev)?,
        Tensor::from_vec(y, idx.len(), dev)?,
    ))
}

/// Accuracy of `net` on `ds`, evaluated in batches of `batch`.
pub fn accuracy(
    net: &Network,
    ds: &Dataset,
    batch: usize,
    dev: &Device,
) -> Result<f64, TrainError> {
    let mut correct = 0usize;
    let idx: Vec<usize> = (0..ds.len()).collect();
    for chunk in idx.chunks(batch.max(1)) {
        let (x, y) = to_tensors(ds, chunk, dev)?;
        let pred = net.forward(&x, None)?.argmax(1)?;
        correct += pred
            .eq(&y)?
            .to_dtype(DType::F32)?
            .sum_all()?
            .to_scalar::<f32>()? as usize;
    }
    Ok(correct as f64 / ds.len().max(1) as f64)
}

/// Trains `arch` with `config` on `splits.train`, calling `on_epoch` after each epoch (the
/// tuner's intermediate values; returning `false` stops training early), and measures it.
pub fn train(
    splits: &Splits,
    arch: &ArchConfig,
    config: &TrainConfig,
    dev: &Device,
    on_epoch: impl FnMut(&EpochStats) -> bool,
) -> Result<TrainReport, TrainError> {
    train_model(splits, arch, config, dev, on_epoch).map(|(r, _)| r)
}

/// [`train()`], also returning the trained network (to save with [`crate::model::save`]).
/// An empty validation split gets a validation accuracy of NaN.
pub fn train_model(
    splits: &Splits,
    arch: &ArchConfig,
    config: &TrainConfig,
    dev: &Device,
    mut on_epoch: impl FnMut(&EpochStats) -> bool,
) -> Result<(TrainReport, Network), TrainError> {
    config.check()?;
    let tr = &splits.train;
    let mut rng = ChaCha8Rng::seed_from_u64(config.seed);
    let net = Network::new(arch, tr.d, tr.image, tr.classes, &mut rng, dev)?;
    let mut opt = Optimizer::new(config.optimizer, net.vars(), config.weight_decay)?;
    let batch = config.batch_size.min(tr.len()).max(1);
    let steps_per_epoch = tr.len().div_ceil(batch);
    let total_steps = steps_per_epoch * config.epochs;
    let mut order: Vec<usize> = (0..tr.len()).collect();
    let mut epochs = Vec::with_capacity(config.epochs);
    let mut train_seconds = 0.0;
    let mut step = 0;
    for epoch in 1..=config.epochs {
        let started = Instant::now();
        order.shuffle(&mut rng);
        let (mut loss_sum, mut correct) = (0.0f64, 0usize);
        for chunk in order.chunks(batch) {
            let (x, y) = to_tensors(tr, chunk, dev)?;
            let logits = net.forward(&x, Some(&mut rng))?;
            let loss = candle_nn::loss::cross_entropy(&logits, &y)?;
            let grads = loss.backward()?;
            opt.step(
                &grads,
                config
                    .schedule
                    .rate(config.learning_rate, step, total_steps),
            )?;
            step += 1;
            let l = loss.to_scalar::<f32>()?;
            if !l.is_finite() {
                return Err(TrainError::Diverged { epoch, loss: l });
            }
            loss_sum += l as f64 * chunk.len() as f64;
            correct += logits
                .argmax(1)?
                .eq(&y)?
                .to_dtype(DType::F32)?
                .sum_all()?
                .to_scalar::<f32>()? as usize;
        }
        train_seconds += started.elapsed().as_secs_f64();
        let stats = EpochStats {
            epoch,
            train_loss: loss_sum / tr.len() as f64,
            train_accuracy: correct as f64 / tr.len() as f64,
            val_accuracy: if splits.val.is_empty() {
                f64::NAN
            } else {
                accuracy(&net, &splits.val, 512, dev)?
            },
        };
        let go_on = on_epoch(&stats);
        epochs.push(stats);
        if !go_on {
            break;
        }
    }
    let started = Instant::now();
    let test_accuracy = accuracy(&net, &splits.test, batch, dev)?;
    let latency = started.elapsed().as_secs_f64() / splits.test.len().max(1) as f64;
    let params = net.parameter_count() as u64;
    let peak = 4
        * (params * (2 + opt.state_per_param() as u64)
            + batch as u64 * (net.activations_per_example() + tr.d as u64));
    let report = TrainReport {
        val_accuracy: epochs.last().map_or(0.0, |e| e.val_accuracy),
        test_accuracy,
        train_seconds,
        parameters: params as usize,
        flops_per_example: net.flops_per_example(),
        latency_per_example_s: latency,
        peak_tensor_bytes: peak,
        epochs,
    };
    Ok((report, net))
}
