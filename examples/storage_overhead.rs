//! What a storage adds to each trial: the median milliseconds of `ask` and of `tell` over a
//! study of `n` trials with the `random` strategy (whose proposal costs microseconds), in
//! memory, in an SQLite file and, when a URL is given, in PostgreSQL:
//!
//! ```text
//! cargo run --release --example storage_overhead -- 200 [postgres://user:password@host:port/db]
//! ```

use std::time::{Duration, Instant};

use nasbo::tuner::study::open_storage;
use nasbo::tuner::{Direction, Outcome, Param, Space, StrategyKind, Study, StudyConfig};

fn median(mut v: Vec<f64>) -> f64 {
    v.sort_by(f64::total_cmp);
    v[v.len() / 2]
}

fn measure(mut study: Study, n: usize) -> anyhow::Result<(f64, f64)> {
    let (mut ask, mut tell) = (Vec::new(), Vec::new());
    for _ in 0..n {
        let t = Instant::now();
        let (k, a) = study.ask()?;
        ask.push(t.elapsed().as_secs_f64() * 1e3);
        let x = a[0].as_ref().and_then(|v| v.as_f64()).unwrap_or(0.0);
        let t = Instant::now();
        study.tell(k, Outcome::with_metrics(x * x, vec![("m".into(), x)]))?;
        tell.push(t.elapsed().as_secs_f64() * 1e3);
    }
    Ok((median(ask), median(tell)))
}

fn main() -> anyhow::Result<()> {
    let args: Vec<String> = std::env::args().collect();
    let n: usize = args.get(1).map(|s| s.parse()).transpose()?.unwrap_or(200);
    let space = Space::new(vec![
        Param::float("x", 0.0, 1.0),
        Param::int("depth", 1, 8),
        Param::categorical("c", &["a", "b", "c"]),
    ])?;
    let config = StudyConfig {
        strategy: StrategyKind::Random,
        heartbeat: Some(Duration::from_secs(30)),
        ..StudyConfig::new(Direction::Minimize)
    };
    let dir = std::env::temp_dir().join(format!("nasbo-overhead-{}", std::process::id()));
    std::fs::create_dir_all(&dir)?;
    let mut urls = vec![format!("sqlite:{}", dir.join("s.db").display())];
    urls.extend(args.get(2).cloned());
    let memory = Study::new(space.clone(), config.clone())?;
    let (a, t) = measure(memory, n)?;
    println!("memory: ask {a:.3} ms, tell {t:.3} ms (median of {n})");
    for url in urls {
        let name = format!("overhead-{}", std::process::id());
        let storage = open_storage(&url, &name, Some((&space, &[Direction::Minimize])))?;
        let (a, t) = measure(Study::open(storage, config.clone())?, n)?;
        let kind = url.split(':').next().unwrap_or("?");
        println!("{kind}: ask {a:.3} ms, tell {t:.3} ms (median of {n})");
    }
    std::fs::remove_dir_all(&dir).ok();
    Ok(())
}
