//! Training throughput on MNIST 28×28 of CNNs of nasbo's three block kinds (examples per
//! second of the training loop, evaluation excluded), for the side-by-side with PyTorch in
//! `benches/compare/train_mnist_torch.py`, which builds the same networks:
//!
//! ```text
//! cargo run --release --example train_mnist [-- --examples 1280]
//! ```
//!
//! Each configuration trains one epoch over the first `--examples` (default 1,280) shuffled
//! training images of the shipped 10,000-image MNIST subset, batch 64, AdamW (lr 1e-3), after
//! one warm-up step. The MLP line is the tabular network on the same pixels.

// The allocator the `nasbo` binary uses.
#[global_allocator]
static ALLOC: mimalloc::MiMalloc = mimalloc::MiMalloc;

use nasbo::train::net::{ArchConfig, Connection};
use nasbo::train::{data, train, OptimizerKind, Schedule, TrainConfig};

/// The measured configurations: name, block kind, depth, width.
pub const CONFIGS: &[(&str, &str, usize, usize)] = &[
    ("conv_d2_w32", "conv", 2, 32),
    ("conv_d3_w64", "conv", 3, 64),
    ("pool_d2_w32", "pool", 2, 32),
    ("pool_d3_w64", "pool", 3, 64),
    ("skip_d2_w32", "skip", 2, 32),
    ("skip_d3_w64", "skip", 3, 64),
    ("mlp_d3_w256", "dense", 3, 256),
];

fn main() -> Result<(), nasbo::train::TrainError> {
    nasbo::train::cpu::fix_thread_count();
    let args: Vec<String> = std::env::args().collect();
    let examples: usize = args
        .iter()
        .position(|a| a == "--examples")
        .and_then(|i| args.get(i + 1)?.parse().ok())
        .unwrap_or(1280);
    let only: Option<&String> = args
        .iter()
        .position(|a| a == "--only")
        .and_then(|i| args.get(i + 1));
    let ds = data::load("mnist")?;
    let mut splits = data::split(&ds, None, 0.1, 0.1, 0)?;
    let keep: Vec<usize> = (0..examples.min(splits.train.len())).collect();
    splits.train = splits.train.subset(&keep);
    splits.val = splits.val.subset(&(0..64).collect::<Vec<_>>());
    splits.test = splits.test.subset(&(0..64).collect::<Vec<_>>());
    let mut tabular = splits.clone();
    for s in [&mut tabular.train, &mut tabular.val, &mut tabular.test] {
        s.image = None;
    }
    let config = TrainConfig {
        learning_rate: 1e-3,
        weight_decay: 0.0,
        batch_size: 64,
        epochs: 1,
        optimizer: OptimizerKind::AdamW,
        schedule: Schedule::Constant,
        seed: 0,
    };
    println!(
        "nasbo {} (candle), {} threads, {} training examples, batch 64",
        env!("CARGO_PKG_VERSION"),
        candle_core::utils::get_num_threads(),
        splits.train.len()
    );
    for &(name, kind, depth, width) in CONFIGS {
        if only.is_some_and(|o| !name.starts_with(o.as_str())) {
            continue;
        }
        let arch = ArchConfig {
            depth,
            width,
            connections: vec![Connection::parse(kind).expect("a known kind")],
            dropout: 0.0,
        };
        let s = if kind == "dense" { &tabular } else { &splits };
        // Warm-up: one step (first-touch allocation, thread start).
        let mut warm = s.clone();
        warm.train = s.train.subset(&(0..64).collect::<Vec<_>>());
        train(&warm, &arch, &config, &candle_core::Device::Cpu, |_| true)?;
        let r = train(s, &arch, &config, &candle_core::Device::Cpu, |_| true)?;
        println!(
            "{name}: {:.0} training examples/s ({} parameters)",
            s.train.len() as f64 / r.train_seconds,
            r.parameters
        );
    }
    Ok(())
}
