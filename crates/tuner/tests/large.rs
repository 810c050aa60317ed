//! `bo` on large studies: above `BoConfig::fit_limit` observations the model is a
//! subset-of-data GP of at most `model_limit` of them, its proposals still good and still a
//! function of the stored trials. Small limits here stand for the defaults (400 / 800), which
//! `benches/compare/large_warm_start.py` and `examples/proposal_scaling.rs` check at n = 5,000.

use nasbo_tuner::bo::{fit_surrogate, FitOptions, Target};
use nasbo_tuner::testfns::Problem;
use nasbo_tuner::{
    BoConfig, Direction, Outcome, Source, StrategyKind, Study, StudyConfig, Trial, TunerError,
};

fn limits() -> BoConfig {
    BoConfig {
        fit_limit: 40,
        model_limit: 80,
        ..BoConfig::default()
    }
}

/// `n` uniform random trials of `p`.
fn warm(p: &Problem, n: usize, seed: u64) -> Vec<Trial> {
    let mut random = Study::new(
        p.space.clone(),
        StudyConfig {
            seed,
            strategy: StrategyKind::Random,
            ..StudyConfig::new(Direction::Minimize)
        },
    )
    .unwrap();
    for _ in 0..n {
        let (t, a) = random.ask().unwrap();
        random.tell(t, Outcome::value(p.eval(&a))).unwrap();
    }
    random.trials().to_vec()
}

/// A bo study warm-started with `trials`, after `proposals` more trials.
fn run(p: &Problem, trials: &[Trial], proposals: usize) -> Study {
    let mut study = Study::new(
        p.space.clone(),
        StudyConfig {
            seed: 3,
            strategy: StrategyKind::Bo(limits()),
            ..StudyConfig::new(Direction::Minimize)
        },
    )
    .unwrap();
    study
        .add_trials(trials.to_vec(), Some(Source::WarmStart))
        .unwrap();
    for _ in 0..proposals {
        let t = study.ask_trial().unwrap();
        assert_eq!(t.source, Source::Model, "trial {}: {:?}", t.number, t.error);
        study
            .tell(t.number, Outcome::value(p.eval(&t.params)))
            .unwrap();
    }
    study
}

#[test]
fn above_the_limits_the_model_is_a_bounded_subset_and_proposals_stay_good() {
    for name in ["hartmann6", "shiftedackley6"] {
        let p = Problem::by_name(name).unwrap();
        let trials = warm(&p, 600, 1);
        let target = Target::objective(Direction::Minimize);
        let model = fit_surrogate(
            &p.space,
            &trials,
            &target,
            &limits(),
            &FitOptions::default(),
        )
        .unwrap();
        assert_eq!(
            model.gp().n(),
            80,
            "{name}: conditioned on model_limit trials"
        );
        assert_eq!(
            model.data().xs.len(),
            600,
            "{name}: every trial still in the data"
        );
        // The subset holds the best trial (its inputs are a row of the GP's).
        let best_trial = trials
            .iter()
            .min_by(|a, b| a.value().unwrap().total_cmp(&b.value().unwrap()))
            .unwrap();
        let enc = model.encoder().encode(&best_trial.params);
        let inputs = model.gp().train_inputs();
        assert!(
            inputs
                .row_iter()
                .any(|r| r.iter().zip(&enc).all(|(a, b)| (a - b).abs() < 1e-9)),
            "{name}: the best trial is in the model's subset"
        );

        let study = run(&p, &trials, 6);
        let new: Vec<f64> = study
            .trials()
            .iter()
            .filter(|t| t.source != Source::WarmStart)
            .filter_map(|t| t.value())
            .collect();
        let best = new.iter().copied().fold(f64::INFINITY, f64::min);
        let warm_values: Vec<f64> = trials.iter().filter_map(|t| t.value()).collect();
        let beaten = warm_values.iter().filter(|w| **w > best).count() as f64 / 600.0;
        assert!(
            beaten >= 0.99,
            "{name}: the best proposal beats {beaten} of the warm start"
        );
    }
}

#[test]
fn large_studies_propose_the_same_for_the_same_trials() {
    let p = Problem::by_name("hartmann6").unwrap();
    let trials = warm(&p, 300, 2);
    let params = |s: &Study| -> Vec<_> { s.trials().iter().map(|t| t.params.clone()).collect() };
    assert_eq!(params(&run(&p, &trials, 3)), params(&run(&p, &trials, 3)));
}

#[test]
fn bad_limits_are_refused_by_name() {
    let p = Problem::by_name("branin").unwrap();
    for (config, name) in [
        (
            BoConfig {
                fit_limit: 0,
                ..BoConfig::default()
            },
            "fit_limit",
        ),
        (
            BoConfig {
                fit_limit: 100,
                model_limit: 99,
                ..BoConfig::default()
            },
            "model_limit",
        ),
    ] {
        let e = Study::new(
            p.space.clone(),
            StudyConfig {
                strategy: StrategyKind::Bo(config),
                ..StudyConfig::default()
            },
        )
        .err()
        .expect("refused");
        assert!(
            matches!(&e, TunerError::InvalidConfig { name: n, .. } if *n == name),
            "{e}"
        );
    }
}
