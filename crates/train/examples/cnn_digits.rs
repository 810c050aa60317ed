//! Trains four CNNs on digits and prints their accuracy and time, for profiling
//! (`perf record ./target/release/examples/cnn_digits`).

use nasbo_train::net::{ArchConfig, Connection};
use nasbo_train::{data, train, OptimizerKind, TrainConfig};
fn main() -> Result<(), nasbo_train::TrainError> {
    if std::env::var_os("FTZ").is_some() {
        #[allow(deprecated)]
        unsafe {
            std::arch::x86_64::_mm_setcsr(std::arch::x86_64::_mm_getcsr() | 0x8040);
        }
    }
    let ds = data::load("digits")?;
    let splits = data::split(&ds, None, 0.2, 0.2, 0)?;
    for (conn, depth, width, epochs) in [
        (Connection::Pool, 3, 32, 12),
        (Connection::Pool, 3, 24, 20),
        (Connection::Pool, 2, 32, 15),
        (Connection::Skip, 3, 16, 12),
    ] {
        let dropout = 0.0;
        let arch = ArchConfig {
            depth,
            width,
            connections: vec![conn],
            dropout,
        };
        let cfg = TrainConfig {
            learning_rate: 3e-3,
            epochs,
            batch_size: 64,
            optimizer: OptimizerKind::AdamW,
            ..Default::default()
        };
        let t = std::time::Instant::now();
        let r = train(&splits, &arch, &cfg, &candle_core::Device::Cpu, |_| true)?;
        println!("{conn:?} depth {depth} width {width} epochs {epochs}: val {:.4} test {:.4} loss {:.4} ({:.2} s, {} params)", r.val_accuracy, r.test_accuracy, r.epochs.last().unwrap().train_loss, t.elapsed().as_secs_f64(), r.parameters);
    }
    Ok(())
}
