//! Proposal time of `bo` against the number of observations: a study of a 6-D test function
//! warm-started with `n` random trials, then `--proposals` trials proposed by `bo` (each told
//! its value before the next is asked), for each `n`.
//!
//! ```text
//! cargo run --release --example proposal_scaling -- --n 100,500,1000,2000,5000 --proposals 10
//! ```
//!
//! Other flags: `--problem NAME` (a 6-D test function of `nasbo bench`, default `hartmann6`,
//! or `ridge6`, the sine-plus-quadratic data of `benches/gp.rs`),
//! `--seed S`, `--fit-limit N` and `--model-limit N` (`BoConfig`'s subset sizes),
//! `--around-best N` (the acquisition's raw points around the best trials),
//! `--cold-fit-every N` (hyperparameter fits from scratch every N trials; 0: never),
//! `--cold-fit-starts N` (their L-BFGS runs) and `--exploit-every N` (a greedy step every N
//! trials; 0: never).
//!
//! Prints one JSON line per `n`: the median and largest `suggest_s` of the proposals, and the
//! fraction of the warm-start trials that the best proposal beats.

use std::time::Instant;

use nasbo::tuner::testfns::Problem;
use nasbo::tuner::{
    BoConfig, Direction, Outcome, Param, Source, Space, StrategyKind, Study, StudyConfig,
};

fn median(mut v: Vec<f64>) -> f64 {
    v.sort_by(f64::total_cmp);
    v[v.len() / 2]
}

fn main() -> anyhow::Result<()> {
    let args: Vec<String> = std::env::args().collect();
    let get = |flag: &str| {
        args.iter()
            .position(|a| a == flag)
            .and_then(|i| args.get(i + 1))
            .cloned()
    };
    let ns: Vec<usize> = get("--n")
        .unwrap_or_else(|| "100,500,1000,2000,5000".into())
        .split(',')
        .map(str::parse)
        .collect::<Result<_, _>>()?;
    let proposals: usize = get("--proposals")
        .map(|s| s.parse())
        .transpose()?
        .unwrap_or(10);
    let name = get("--problem").unwrap_or_else(|| "hartmann6".into());
    let seed: u64 = get("--seed").map(|s| s.parse()).transpose()?.unwrap_or(0);
    let mut bo = BoConfig::default();
    if let Some(v) = get("--fit-limit") {
        bo.fit_limit = v.parse()?;
    }
    if let Some(v) = get("--model-limit") {
        bo.model_limit = v.parse()?;
    }
    if let Some(v) = get("--around-best") {
        bo.optimizer.around_best = v.parse()?;
    }
    if let Some(v) = get("--cold-fit-every") {
        bo.cold_fit_every = Some(v.parse()?);
    }
    if let Some(v) = get("--cold-fit-starts") {
        bo.cold_fit_starts = Some(v.parse()?);
    }
    if let Some(v) = get("--exploit-every") {
        bo.exploit_every = Some(v.parse()?);
    }
    let problem = match name.as_str() {
        // The data of `benches/gp.rs` (sine plus quadratic, nearly noise-free), whose
        // likelihood has a long ridge: the slowest fits measured (docs §1).
        "ridge6" => Problem::custom(
            "ridge6",
            Space::new(
                (0..6)
                    .map(|k| Param::float(&format!("x{k}"), 0.0, 1.0))
                    .collect(),
            )?,
            -1.0,
            |a| {
                let x: Vec<f64> = a
                    .iter()
                    .map(|v| v.as_ref().and_then(|v| v.as_f64()).unwrap_or(0.0))
                    .collect();
                (5.0 * x[0]).sin() + x.iter().map(|v| (v - 0.4).powi(2)).sum::<f64>()
            },
        ),
        _ => Problem::by_name(&name).ok_or_else(|| anyhow::anyhow!("unknown problem `{name}`"))?,
    };
    for &n in &ns {
        // The warm start: n uniform random trials.
        let mut random = Study::new(
            problem.space.clone(),
            StudyConfig {
                seed: seed ^ 0xA5A5,
                strategy: StrategyKind::Random,
                ..StudyConfig::new(Direction::Minimize)
            },
        )?;
        for _ in 0..n {
            let (t, a) = random.ask()?;
            random.tell(t, Outcome::value(problem.eval(&a)))?;
        }
        let warm: Vec<f64> = random.trials().iter().filter_map(|t| t.value()).collect();
        let mut study = Study::new(
            problem.space.clone(),
            StudyConfig {
                seed,
                strategy: StrategyKind::Bo(bo.clone()),
                ..StudyConfig::new(Direction::Minimize)
            },
        )?;
        study.add_trials(random.trials().to_vec(), Some(Source::WarmStart))?;
        let started = Instant::now();
        let (mut times, mut best) = (Vec::new(), f64::INFINITY);
        for _ in 0..proposals {
            let t = study.ask_trial()?;
            let v = problem.eval(&t.params);
            best = best.min(v);
            times.push(t.suggest_s);
            study.tell(t.number, Outcome::value(v))?;
        }
        let beaten = warm.iter().filter(|w| **w > best).count() as f64 / warm.len().max(1) as f64;
        let largest = times.iter().copied().fold(0.0, f64::max);
        println!(
            "{}",
            serde_json::json!({
                "problem": name, "n": n, "proposals": proposals, "seed": seed,
                "fit_limit": bo.fit_limit, "model_limit": bo.model_limit,
                "median_suggest_s": median(times), "max_suggest_s": largest,
                "best": best, "best_warm": warm.iter().copied().fold(f64::INFINITY, f64::min),
                "beats_fraction_of_warm": beaten,
                "wall_s": started.elapsed().as_secs_f64(),
            })
        );
    }
    Ok(())
}
