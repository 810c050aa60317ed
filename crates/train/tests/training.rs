//! A tiny network trains for a few steps: the loss falls and the metrics are consistent.

use candle_core::Device;
use nasbo_train::data::{self, Dataset};
use nasbo_train::net::{ArchConfig, Connection, Network};
use nasbo_train::{train, OptimizerKind, Schedule, TrainConfig, TrainError};
use rand::SeedableRng;

/// Two Gaussian blobs per class in 4-D, 3 classes, as an in-memory data set.
fn blobs(n: usize, image: bool) -> Dataset {
    let mut x = Vec::new();
    let mut y = Vec::new();
    for i in 0..n {
        let c = (i % 3) as u32;
        for k in 0..16 {
            let centre = if k % 3 == c as usize { 1.5 } else { -0.5 };
            let noise = (((i * 31 + k * 17) % 97) as f32 / 97.0 - 0.5) * 0.8;
            x.push(centre + noise);
        }
        y.push(c);
    }
    Dataset {
        name: "blobs".into(),
        x,
        y,
        d: 16,
        classes: 3,
        image: if image { Some((1, 4, 4)) } else { None },
    }
}

#[test]
fn loss_falls_and_metrics_are_consistent() {
    for (image, conn) in [
        (false, Connection::Conv),
        (false, Connection::Skip),
        (true, Connection::Pool),
        (true, Connection::Skip),
    ] {
        let ds = blobs(150, image);
        let splits = data::split(&ds, None, 0.2, 0.2, 3).unwrap();
        let arch = ArchConfig {
            depth: 2,
            width: 8,
            connections: vec![conn],
            dropout: 0.1,
        };
        let config = TrainConfig {
            learning_rate: 0.01,
            weight_decay: 1e-4,
            batch_size: 16,
            epochs: 8,
            optimizer: OptimizerKind::AdamW,
            schedule: Schedule::Cosine,
            seed: 1,
        };
        let mut seen = Vec::new();
        let r = train(&splits, &arch, &config, &Device::Cpu, |e| {
            seen.push(e.epoch);
            true
        })
        .unwrap();
        assert_eq!(seen, (1..=8).collect::<Vec<_>>());
        let first = r.epochs.first().unwrap().train_loss;
        let last = r.epochs.last().unwrap().train_loss;
        assert!(last < 0.7 * first, "{conn:?}: loss {first} → {last}");
        for a in [r.val_accuracy, r.test_accuracy] {
            assert!((0.0..=1.0).contains(&a));
        }
        assert!(r.val_accuracy > 0.6, "{conn:?}: val {}", r.val_accuracy);
        // Parameter count from the architecture.
        let expected = if image {
            // stem conv 1→8 (9·1·8 + 8), two blocks of 3×3 convs 8→8, head 8→3.
            let conv = 9 * 8 * 8 + 8;
            let blocks = if conn == Connection::Skip {
                4 * conv
            } else {
                2 * conv
            };
            (9 * 8 + 8) + blocks + (8 * 3 + 3)
        } else {
            (16 * 8 + 8) + 2 * (8 * 8 + 8) + (8 * 3 + 3)
        };
        assert_eq!(r.parameters, expected, "{conn:?}");
        assert!(r.flops_per_example > 2 * r.parameters as u64 / 2);
        assert!(
            r.latency_per_example_s > 0.0
                && r.train_seconds > 0.0
                && r.peak_tensor_bytes > 4 * r.parameters as u64
        );
        // Same seed, same run.
        let again = train(&splits, &arch, &config, &Device::Cpu, |_| true).unwrap();
        assert_eq!(r.epochs, again.epochs);
        assert_eq!(r.test_accuracy, again.test_accuracy);
    }
}

#[test]
fn early_stop_from_the_callback_and_bad_settings() {
    let ds = blobs(60, false);
    let splits = data::split(&ds, None, 0.2, 0.2, 0).unwrap();
    let arch = ArchConfig {
        depth: 1,
        width: 4,
        connections: vec![Connection::Conv],
        dropout: 0.0,
    };
    let r = train(
        &splits,
        &arch,
        &TrainConfig {
            epochs: 10,
            ..Default::default()
        },
        &Device::Cpu,
        |e| e.epoch < 3,
    )
    .unwrap();
    assert_eq!(r.epochs.len(), 3);
    let pool = ArchConfig {
        connections: vec![Connection::Pool],
        ..arch.clone()
    };
    let e = train(
        &splits,
        &pool,
        &TrainConfig::default(),
        &Device::Cpu,
        |_| true,
    )
    .unwrap_err();
    assert!(
        matches!(
            e,
            TrainError::Config {
                name: "connection",
                ..
            }
        ),
        "{e}"
    );
    for (cfg, name) in [
        (
            TrainConfig {
                learning_rate: 0.0,
                ..Default::default()
            },
            "learning_rate",
        ),
        (
            TrainConfig {
                batch_size: 0,
                ..Default::default()
            },
            "batch_size",
        ),
        (
            TrainConfig {
                epochs: 0,
                ..Default::default()
            },
            "epochs",
        ),
        (
            TrainConfig {
                optimizer: OptimizerKind::Sgd { momentum: 1.5 },
                ..Default::default()
            },
            "momentum",
        ),
    ] {
        match train(&splits, &arch, &cfg, &Device::Cpu, |_| true).unwrap_err() {
            TrainError::Config { name: got, .. } => assert_eq!(got, name),
            e => panic!("{e}"),
        }
    }
    let mut rng = rand_chacha::ChaCha8Rng::seed_from_u64(0);
    assert!(Network::new(
        &ArchConfig { depth: 0, ..arch },
        16,
        None,
        3,
        &mut rng,
        &Device::Cpu
    )
    .is_err());
    assert!(nasbo_train::device("tpu").is_err());
    assert!(nasbo_train::device("cpu").is_ok());
}

#[test]
fn shipped_data_sets_load() {
    for (name, n, d, classes) in [
        ("iris", 150, 4, 3),
        ("wine", 178, 13, 3),
        ("breast_cancer", 569, 30, 2),
        ("digits", 1797, 64, 10),
    ] {
        let ds = data::load(name).unwrap();
        assert_eq!((ds.len(), ds.d, ds.classes), (n, d, classes), "{name}");
    }
    assert_eq!(data::load("digits").unwrap().image, Some((1, 8, 8)));
    assert!(data::load("no-such-data")
        .unwrap_err()
        .to_string()
        .contains("not a built-in data set"));
}

/// Real digits, real training through the CPU kernels of `nasbo_train::cpu`: pooling and
/// residual CNNs reach 95 % test accuracy on a fixed seed, and a second run with that seed
/// gives the same numbers.
#[test]
fn digits_train_to_95_percent_reproducibly() {
    let ds = data::load("digits").unwrap();
    let splits = data::split(&ds, None, 0.2, 0.2, 0).unwrap();
    let config = TrainConfig {
        learning_rate: 0.01,
        weight_decay: 1e-4,
        batch_size: 32,
        epochs: 15,
        optimizer: OptimizerKind::AdamW,
        schedule: Schedule::Cosine,
        seed: 3,
    };
    for conn in [Connection::Pool, Connection::Skip, Connection::Conv] {
        let arch = ArchConfig {
            depth: 2,
            width: 24,
            connections: vec![conn],
            dropout: 0.0,
        };
        let r = train(&splits, &arch, &config, &Device::Cpu, |_| true).unwrap();
        // Plain 3×3 convolutions on 8×8 images keep no position after the global average
        // pooling and reach about 0.93 (so did candle's own convolution, with this seed).
        let floor = if conn == Connection::Conv { 0.9 } else { 0.95 };
        assert!(
            r.test_accuracy >= floor,
            "{conn:?}: test accuracy {}",
            r.test_accuracy
        );
        let again = train(&splits, &arch, &config, &Device::Cpu, |_| true).unwrap();
        assert_eq!(r.epochs, again.epochs, "{conn:?}");
        assert_eq!(r.test_accuracy, again.test_accuracy, "{conn:?}");
    }
}
