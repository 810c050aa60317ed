//! Studies of two objectives: `bo` (EHVI and ParEGO) and `evolution` (NSGA-II) against random
//! search on ZDT1 (2-D), by hypervolume; pending trials with parallel workers.

use nasbo_tuner::pareto::{front_of, hypervolume};
use nasbo_tuner::run::{run, RunConfig, TrialHandle};
use nasbo_tuner::{
    BoConfig, Direction, MultiObjective, Outcome, Param, Space, StrategyKind, Study, StudyConfig,
};

fn zdt1(t: &TrialHandle) -> Outcome {
    let x0 = t.get("x0").and_then(|v| v.as_f64()).unwrap_or(0.0);
    let x1 = t.get("x1").and_then(|v| v.as_f64()).unwrap_or(0.0);
    let g = 1.0 + 9.0 * x1;
    Outcome::Complete {
        values: vec![x0, g * (1.0 - (x0 / g).sqrt())],
        metrics: vec![],
    }
}

fn hv(strategy: StrategyKind, seed: u64, trials: usize, parallel: usize) -> f64 {
    let space = Space::new(vec![
        Param::float("x0", 0.0, 1.0),
        Param::float("x1", 0.0, 1.0),
    ])
    .unwrap();
    let dirs = vec![Direction::Minimize, Direction::Minimize];
    let mut study = Study::new(
        space,
        StudyConfig {
            seed,
            strategy,
            directions: dirs.clone(),
            ..StudyConfig::default()
        },
    )
    .unwrap();
    let config = RunConfig {
        parallel,
        ..RunConfig::trials(trials)
    };
    run(&mut study, &zdt1, &config, &mut |_| {}).unwrap();
    let trials = study.trials();
    assert_eq!(
        trials.len(),
        trials.iter().filter(|t| t.values.len() == 2).count()
    );
    let front = front_of(trials, &dirs);
    let pts: Vec<Vec<f64>> = trials
        .iter()
        .zip(front)
        .filter(|(_, on)| *on)
        .map(|(t, _)| t.values.iter().map(|v| -v).collect())
        .collect();
    hypervolume(&pts, &[-1.1, -11.0]).unwrap()
}

fn median(mut v: Vec<f64>) -> f64 {
    v.sort_by(f64::total_cmp);
    v[v.len() / 2]
}

#[test]
fn model_based_strategies_beat_random_search_by_hypervolume() {
    let seeds = 0..3;
    let random = median(
        seeds
            .clone()
            .map(|s| hv(StrategyKind::Random, s, 30, 1))
            .collect(),
    );
    let ehvi = median(
        seeds
            .clone()
            .map(|s| hv(StrategyKind::parse("bo").unwrap(), s, 30, 1))
            .collect(),
    );
    let parego = StrategyKind::Bo(BoConfig {
        multi: MultiObjective::Parego,
        ..BoConfig::default()
    });
    let parego = median(
        seeds
            .clone()
            .map(|s| hv(parego.clone(), s, 30, 1))
            .collect(),
    );
    assert!(
        ehvi > random && parego > random,
        "EHVI {ehvi}, ParEGO {parego}, random {random}"
    );
    // The true front's hypervolume above this reference is 1.1·11 − 1/3 ≈ 11.77.
    assert!(ehvi > 11.3, "EHVI {ehvi}");
}

#[test]
fn pending_trials_and_nsga2_run_and_are_reproducible() {
    // Two workers: each proposal sees the other's pending trial.
    let a = hv(StrategyKind::parse("bo").unwrap(), 5, 16, 2);
    assert!(a > 9.0, "{a}");
    let evo = StrategyKind::parse("evolution").unwrap();
    let (x, y) = (hv(evo.clone(), 1, 60, 1), hv(evo, 1, 60, 1));
    assert_eq!(x, y, "same seed, same study");
    assert!(x > hv(StrategyKind::Random, 1, 20, 1) * 0.9);
}

/// Five objectives on a front where every trial is non-dominated: 40 front points would need
/// 41⁴ ≈ 2.8 M hypervolume boxes, past EHVI's limit, so `bo` says so and proposes with ParEGO's
/// scalarization of the same trials (not a random point); with 12 trials EHVI proposes.
#[test]
fn ehvi_past_its_box_limit_falls_back_to_parego_and_says_so() {
    let space = Space::new(
        (0..4)
            .map(|i| Param::float(&format!("x{i}"), 0.0, 1.0))
            .collect(),
    )
    .unwrap();
    let config = |strategy: &str| StudyConfig {
        seed: 3,
        strategy: StrategyKind::parse(strategy).unwrap(),
        directions: vec![Direction::Minimize; 5],
        ..StudyConfig::default()
    };
    // The trials come from random search (fast); `bo` proposes the next one from them.
    let mut random = Study::new(space.clone(), config("random")).unwrap();
    for _ in 0..40 {
        let (number, a) = random.ask().unwrap();
        let x: Vec<f64> = (0..4)
            .map(|i| a[i].as_ref().and_then(|v| v.as_f64()).unwrap())
            .collect();
        // (x₀, …, x₃, −Σx): a point dominating another would have to equal it.
        let mut values = x.clone();
        values.push(-x.iter().sum::<f64>());
        random
            .tell(
                number,
                Outcome::Complete {
                    values,
                    metrics: vec![],
                },
            )
            .unwrap();
    }
    let next_source = |n: usize| {
        let mut study = Study::new(space.clone(), config("bo")).unwrap();
        study
            .add_trials(random.trials()[..n].to_vec(), None)
            .unwrap();
        let t = study.ask_trial().unwrap();
        t.source
    };
    assert_eq!(
        next_source(12),
        nasbo_tuner::Source::Model,
        "EHVI at 12 trials"
    );
    match next_source(40) {
        nasbo_tuner::Source::Fallback { reason } => {
            assert!(reason.contains("hypervolume boxes"), "{reason}");
            assert!(reason.contains("ParEGO"), "{reason}");
            assert!(!reason.contains("random"), "{reason}");
        }
        other => panic!("expected the ParEGO fallback, got {other:?}"),
    }
}
