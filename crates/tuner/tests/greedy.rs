//! `bo`'s greedy steps (`BoConfig::exploit_every`): such a trial is the maximum of the model's
//! posterior mean, not of the acquisition function.

use nasbo_tuner::bo::{fit_surrogate, FitOptions, Target};
use nasbo_tuner::{
    Assignment, BoConfig, Direction, Outcome, Param, Space, StrategyKind, Study, StudyConfig, Value,
};

fn f(x: f64, y: f64) -> f64 {
    (6.0 * x).sin() * (4.0 * y).cos() + (x - 0.71).powi(2) + 3.0 * (y - 0.23).powi(2)
}

fn coords(a: &Assignment) -> (f64, f64) {
    let get = |i: usize| match &a[i] {
        Some(Value::Float(v)) => *v,
        other => panic!("a float, not {other:?}"),
    };
    (get(0), get(1))
}

/// For trial `number` of a study: the posterior median at the proposal, the lowest posterior
/// median on a grid, and the range of the posterior medians on that grid, under the model the
/// trial was proposed from (refitted from the hyperparameters kept with the trial).
fn model_at_proposal(
    study: &Study,
    space: &Space,
    config: &BoConfig,
    number: usize,
    seed: u64,
) -> (f64, f64, f64) {
    let trials = study.trials();
    let state: serde_json::Value =
        serde_json::from_str(trials[number].strategy_state.as_deref().unwrap()).unwrap();
    let gp: Vec<f64> = serde_json::from_value(state["gp"].clone()).unwrap();
    let options = FitOptions {
        seed: seed ^ number as u64,
        warm_start: Some(gp),
        local_starts: None,
    };
    let model = fit_surrogate(
        space,
        &trials[..number],
        &Target::objective(Direction::Minimize),
        config,
        &options,
    )
    .unwrap();
    let at = |x: f64, y: f64| vec![Some(Value::Float(x)), Some(Value::Float(y))];
    let grid: Vec<Assignment> = (0..=40)
        .flat_map(|i| (0..=40).map(move |j| (i as f64 / 40.0, j as f64 / 40.0)))
        .map(|(x, y)| at(x, y))
        .collect();
    let on_grid: Vec<f64> = model
        .predict(&grid)
        .unwrap()
        .iter()
        .map(|b| b.median)
        .collect();
    let lo = on_grid.iter().copied().fold(f64::INFINITY, f64::min);
    let hi = on_grid.iter().copied().fold(f64::NEG_INFINITY, f64::max);
    let (x, y) = coords(&trials[number].params);
    let here = model.predict(&[at(x, y)]).unwrap()[0].median;
    (here, lo, hi - lo)
}

#[test]
fn a_greedy_trial_is_the_posterior_means_optimum() {
    let space = Space::new(vec![
        Param::float("x", 0.0, 1.0),
        Param::float("y", 0.0, 1.0),
    ])
    .unwrap();
    let config = BoConfig {
        exploit_every: Some(5),
        ..BoConfig::default()
    };
    let greedy: Vec<usize> = (5..15).filter(|&n| config.exploits(n)).collect();
    assert_eq!(
        greedy,
        vec![7, 12],
        "the default schedule after the initial design"
    );
    for seed in 0..3 {
        let study_config = StudyConfig {
            strategy: StrategyKind::Bo(config.clone()),
            seed,
            ..StudyConfig::new(Direction::Minimize)
        };
        let mut study = Study::new(space.clone(), study_config).unwrap();
        for _ in 0..13 {
            let (n, a) = study.ask().unwrap();
            let (x, y) = coords(&a);
            study.tell(n, Outcome::value(f(x, y))).unwrap();
        }
        for &n in &greedy {
            let (here, lowest, range) = model_at_proposal(&study, &space, &config, n, seed);
            // At least as good as every point of a 41×41 grid, up to the grid's coarseness.
            assert!(
                here <= lowest + 1e-3 * range,
                "seed {seed}, trial {n}: posterior median {here} at the proposal, {lowest} on the grid"
            );
        }
    }
}
