//! Tunes a Rust closure with ask/tell: a synthetic "validation accuracy" of a network as a
//! function of its learning rate, depth, width and connection pattern.
//!
//! ```text
//! cargo run --release --example ask_tell
//! ```

use nasbo::tuner::{Direction, Outcome, Param, Space, Study, StudyConfig, TunerError, Value};

fn accuracy(lr: f64, depth: i64, width: i64, connection: &str) -> f64 {
    let lr_term = (lr.log10() + 2.5).powi(2) * 0.03;
    let depth_term = ((depth as f64) - 6.0).abs() * 0.006;
    let width_term = ((width as f64).log2() - 6.0).abs() * 0.01;
    let conn = match connection {
        "skip" => 0.0,
        "conv" => 0.01,
        _ => 0.02,
    };
    0.97 - lr_term - depth_term - width_term - conn
}

fn main() -> Result<(), TunerError> {
    let space = Space::new(vec![
        Param::log_float("lr", 1e-4, 1e-1),
        Param::int("depth", 2, 12),
        Param::int("width", 16, 256).log(),
        Param::categorical("connection", &["conv", "pool", "skip"]),
    ])?;
    let config = StudyConfig {
        seed: 42,
        ..StudyConfig::new(Direction::Maximize)
    };
    let mut study = Study::new(space, config)?;
    for _ in 0..30 {
        let (trial, p) = study.ask()?;
        let get = |i: usize| p[i].clone().expect("always active");
        let (Value::Float(lr), Value::Int(depth), Value::Int(width), Value::Cat(conn)) =
            (get(0), get(1), get(2), get(3))
        else {
            unreachable!("the space fixes the types")
        };
        let acc = accuracy(lr, depth, width, &conn);
        study.tell(trial, Outcome::value(acc))?;
        println!(
            "trial {trial:2}: lr={lr:.2e} depth={depth:2} width={width:3} {conn:4} → {acc:.4}"
        );
    }
    let best = study.best().expect("complete trials");
    println!(
        "best: trial {} accuracy {:.4} {}",
        best.number,
        best.value().unwrap_or(f64::NAN),
        study.space().to_json(&best.params)
    );
    Ok(())
}
