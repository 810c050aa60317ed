//! Criterion benchmark of training throughput (examples per second, one epoch of digits) for
//! an MLP and a small CNN (two 3×3 convolutions with 32 channels on 8×8 inputs).
//!
//! `cargo bench --bench train`.

use criterion::{criterion_group, criterion_main, Criterion, Throughput};
use nasbo::train::net::{ArchConfig, Connection};
use nasbo::train::{data, train, OptimizerKind, Schedule, TrainConfig};

fn training(c: &mut Criterion) {
    let ds = data::load("digits").expect("digits ships with the repository");
    let image = data::split(&ds, None, 0.2, 0.2, 0).unwrap();
    let mut tabular = image.clone();
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
    let mut g = c.benchmark_group("train_epoch_digits");
    g.sample_size(10);
    g.throughput(Throughput::Elements(image.train.len() as u64));
    let mlp = ArchConfig {
        depth: 2,
        width: 64,
        connections: vec![Connection::Conv],
        dropout: 0.0,
    };
    g.bench_function("mlp_2x64", |b| {
        b.iter(|| train(&tabular, &mlp, &config, &candle_core::Device::Cpu, |_| true).unwrap())
    });
    // Stem 3×3 conv (1 → 32) and one 3×3 conv block (32 → 32): two convolutions.
    let cnn = ArchConfig {
        depth: 1,
        width: 32,
        connections: vec![Connection::Conv],
        dropout: 0.0,
    };
    g.bench_function("cnn_2conv_32ch_8x8", |b| {
        b.iter(|| train(&image, &cnn, &config, &candle_core::Device::Cpu, |_| true).unwrap())
    });
    g.finish();
}

criterion_group!(benches, training);
criterion_main!(benches);
