//! Training throughput of the two benchmark models on digits (examples per second of the
//! training loop, evaluation excluded), for the side-by-side with PyTorch in
//! `benches/compare/train_torch.py`:
//!
//! ```text
//! cargo run --release --example train_throughput
//! ```

// The allocator the `nasbo` binary uses.
#[global_allocator]
static ALLOC: mimalloc::MiMalloc = mimalloc::MiMalloc;

use nasbo::train::net::{ArchConfig, Connection};
use nasbo::train::{data, train, OptimizerKind, Schedule, TrainConfig};

fn main() -> Result<(), nasbo::train::TrainError> {
    nasbo::train::cpu::fix_thread_count();
    let ds = data::load("digits")?;
    let image = data::split(&ds, None, 0.2, 0.2, 0)?;
    let mut tabular = image.clone();
    for s in [&mut tabular.train, &mut tabular.val, &mut tabular.test] {
        s.image = None;
    }
    let config = TrainConfig {
        learning_rate: 1e-3,
        weight_decay: 0.0,
        batch_size: 64,
        epochs: 5,
        optimizer: OptimizerKind::AdamW,
        schedule: Schedule::Constant,
        seed: 0,
    };
    let models = [
        (
            "mlp_2x64",
            ArchConfig {
                depth: 2,
                width: 64,
                connections: vec![Connection::Conv],
                dropout: 0.0,
            },
            &tabular,
        ),
        (
            "cnn_2conv_32ch_8x8",
            ArchConfig {
                depth: 1,
                width: 32,
                connections: vec![Connection::Conv],
                dropout: 0.0,
            },
            &image,
        ),
    ];
    for (name, arch, splits) in models {
        let r = train(splits, &arch, &config, &candle_core::Device::Cpu, |_| true)?;
        let examples = (splits.train.len() * config.epochs) as f64;
        println!(
            "{name}: {:.0} training examples/s ({} parameters)",
            examples / r.train_seconds,
            r.parameters
        );
    }
    Ok(())
}
