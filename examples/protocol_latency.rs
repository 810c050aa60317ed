//! The storage protocol's costs, measured from outside through `Study` (docs/benchmarks.md §6):
//!
//! 1. `--workers` threads (each its own connection, as separate processes would have) on one
//!    study with three objectives and `bo` (EHVI): each asks, heartbeats, "trains" 20 ms and
//!    tells; the longest and median tell and heartbeat latencies show whether a worker's writes
//!    wait on another worker's proposal;
//! 2. one worker with `random` (no model): the median time of an ask and of a tell, the
//!    protocol's own overhead.
//!
//! `cargo run --release --example protocol_latency -- [--storage URL] [--trials N] [--workers W]`
//! (default: an SQLite file in the temporary folder, 48 trials, 4 workers).

use std::time::{Duration, Instant};

use nasbo::tuner::study::open_storage;
use nasbo::tuner::{Direction, Outcome, Param, Space, StrategyKind, Study, StudyConfig};

fn arg(name: &str, default: &str) -> String {
    let args: Vec<String> = std::env::args().collect();
    args.iter()
        .position(|a| a == name)
        .and_then(|i| args.get(i + 1).cloned())
        .unwrap_or_else(|| default.to_string())
}

fn stats(mut v: Vec<f64>) -> (f64, f64) {
    v.sort_by(f64::total_cmp);
    (v[v.len() / 2] * 1e3, v[v.len() - 1] * 1e3)
}

fn space() -> Space {
    Space::new(
        (0..4)
            .map(|i| Param::float(&format!("x{i}"), 0.0, 1.0))
            .collect(),
    )
    .unwrap()
}

fn main() {
    let dir = std::env::temp_dir().join(format!("nasbo-latency-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let storage = arg(
        "--storage",
        &format!("sqlite:{}", dir.join("l.db").display()),
    );
    let trials: usize = arg("--trials", "48").parse().unwrap();
    let workers: usize = arg("--workers", "4").parse().unwrap();
    let stamp = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_nanos();
    let dirs = [Direction::Minimize; 3];
    let name = format!("latency-{stamp}");
    open_storage(&storage, &name, Some((&space(), &dirs))).unwrap();
    let per = trials / workers;
    let handles: Vec<_> = (0..workers)
        .map(|w| {
            let (storage, name) = (storage.clone(), name.clone());
            std::thread::spawn(move || {
                let config = StudyConfig {
                    directions: dirs.to_vec(),
                    seed: w as u64,
                    heartbeat: Some(Duration::from_secs(30)),
                    ..StudyConfig::default()
                };
                let mut study =
                    Study::open(open_storage(&storage, &name, None).unwrap(), config).unwrap();
                let (mut asks, mut tells, mut beats) = (vec![], vec![], vec![]);
                for _ in 0..per {
                    let t = Instant::now();
                    let (n, a) = study.ask().unwrap();
                    asks.push(t.elapsed().as_secs_f64());
                    let x: Vec<f64> = a
                        .iter()
                        .map(|v| v.as_ref().unwrap().as_f64().unwrap())
                        .collect();
                    let t = Instant::now();
                    let _ = study.heartbeat(&[n]);
                    beats.push(t.elapsed().as_secs_f64());
                    std::thread::sleep(Duration::from_millis(20));
                    let f1 = x[0];
                    let g = 1.0 + x[1..].iter().map(|v| (v - 0.5).powi(2)).sum::<f64>();
                    let values = vec![f1 * g, (1.0 - f1.sqrt()) * g, (x[1] - 0.3).abs() + g - 1.0];
                    let t = Instant::now();
                    study
                        .tell(
                            n,
                            Outcome::Complete {
                                values,
                                metrics: vec![],
                            },
                        )
                        .unwrap();
                    tells.push(t.elapsed().as_secs_f64());
                }
                (asks, tells, beats)
            })
        })
        .collect();
    let (mut asks, mut tells, mut beats) = (vec![], vec![], vec![]);
    for h in handles {
        let (a, t, b) = h.join().unwrap();
        asks.extend(a);
        tells.extend(t);
        beats.extend(b);
    }
    let (a50, amax) = stats(asks);
    let (t50, tmax) = stats(tells);
    let (b50, bmax) = stats(beats);
    println!(
        "{workers} workers, 3 objectives, bo, {trials} trials: ask median {a50:.1} ms max {amax:.1} ms; tell median {t50:.2} ms max {tmax:.1} ms; heartbeat median {b50:.2} ms max {bmax:.1} ms"
    );
    // The protocol alone: one worker, random proposals.
    let one = format!("{name}-one");
    open_storage(&storage, &one, Some((&space(), &[Direction::Minimize]))).unwrap();
    let config = StudyConfig {
        strategy: StrategyKind::Random,
        heartbeat: Some(Duration::from_secs(30)),
        ..StudyConfig::new(Direction::Minimize)
    };
    let mut study = Study::open(open_storage(&storage, &one, None).unwrap(), config).unwrap();
    let (mut asks, mut tells) = (vec![], vec![]);
    for _ in 0..200 {
        let t = Instant::now();
        let (n, _) = study.ask().unwrap();
        asks.push(t.elapsed().as_secs_f64());
        let t = Instant::now();
        study.tell(n, Outcome::value(1.0)).unwrap();
        tells.push(t.elapsed().as_secs_f64());
    }
    let (a50, _) = stats(asks);
    let (t50, _) = stats(tells);
    println!("1 worker, random, 200 trials: ask median {a50:.2} ms, tell median {t50:.2} ms");
    std::fs::remove_dir_all(&dir).ok();
}
