//! The size of `bo`'s initial design (`BoConfig::n_initial`, `BoConfig::budget`): `max(5, d + 1)`
//! Sobol points without a budget, and with one two per continuous parameter, at most a fifth
//! of the budget; a discrete space keeps `max(5, d + 1)`.

use nasbo_tuner::{
    BoConfig, Direction, Outcome, Param, Source, Space, StrategyKind, Study, StudyConfig, Value,
};

/// How many of a study's first `trials` trials come from the initial design.
fn initial_trials(space: &Space, config: BoConfig, trials: usize) -> usize {
    let mut study = Study::new(
        space.clone(),
        StudyConfig {
            seed: 3,
            strategy: StrategyKind::Bo(config),
            ..StudyConfig::new(Direction::Minimize)
        },
    )
    .unwrap();
    for _ in 0..trials {
        let (n, a) = study.ask().unwrap();
        let v: f64 = a
            .iter()
            .enumerate()
            .map(|(k, v)| match v {
                Some(Value::Float(x)) => (x - 0.1 * k as f64).powi(2),
                Some(Value::Cat(c)) => f64::from(u8::from(c != "b")),
                _ => 0.0,
            })
            .sum();
        study.tell(n, Outcome::value(v)).unwrap();
    }
    study
        .trials()
        .iter()
        .filter(|t| t.source == Source::Initial)
        .count()
}

fn continuous(d: usize) -> Space {
    Space::new(
        (0..d)
            .map(|k| Param::float(&format!("x{k}"), 0.0, 1.0))
            .collect(),
    )
    .unwrap()
}

#[test]
fn a_known_budget_doubles_the_design_on_continuous_spaces_up_to_a_fifth_of_it() {
    let space = continuous(6);
    let with = |budget: Option<usize>| BoConfig {
        budget,
        ..BoConfig::default()
    };
    // No budget: max(5, d + 1).
    assert_eq!(initial_trials(&space, with(None), 16), 7);
    // 100 trials: 2d = 12 (below a fifth, 20).
    assert_eq!(initial_trials(&space, with(Some(100)), 16), 12);
    // 40 trials: a fifth, 8.
    assert_eq!(initial_trials(&space, with(Some(40)), 16), 8);
    // 20 trials: a fifth is 4, below d + 1, which stays.
    assert_eq!(initial_trials(&space, with(Some(20)), 16), 7);
    // A configured size wins.
    let fixed = BoConfig {
        n_initial: Some(3),
        ..with(Some(100))
    };
    assert_eq!(initial_trials(&space, fixed, 8), 3);
    // Two dimensions: at least 5.
    assert_eq!(initial_trials(&continuous(2), with(Some(100)), 10), 5);
}

#[test]
fn a_discrete_space_keeps_its_design_with_a_budget() {
    let space = Space::new(
        (0..6)
            .map(|k| Param::categorical(&format!("op{k}"), &["a", "b", "c"]))
            .collect(),
    )
    .unwrap();
    let config = BoConfig {
        budget: Some(100),
        ..BoConfig::default()
    };
    assert_eq!(initial_trials(&space, config, 12), 7);
}
