//! The library's doors for code outside the crate: a study with a strategy of the caller's
//! own (`Study::with_strategy`) and pruning from ask/tell (`Study::should_prune`), on a real
//! SQLite file shared by two handles, as two workers would.

use nasbo_tuner::prune::MedianPruner;
use nasbo_tuner::strategy::{Context, Proposal, Strategy};
use nasbo_tuner::study::open_storage;
use nasbo_tuner::{
    Direction, Outcome, Param, Source, Space, Study, StudyConfig, TrialState, TunerError, Value,
};

fn space() -> Space {
    Space::new(vec![Param::float("x", 0.0, 1.0), Param::int("n", 1, 4)]).unwrap()
}

fn sqlite(dir: &tempfile::TempDir, study: &str) -> Box<dyn nasbo_tuner::Storage> {
    let url = format!("sqlite:{}", dir.path().join("s.db").display());
    open_storage(&url, study, Some((&space(), &[Direction::Minimize]))).unwrap()
}

/// Walks x = 0.1, 0.2, ... with n = 2; or, when `bad`, proposes n = 9, outside the space.
struct Walk {
    bad: bool,
}

impl Strategy for Walk {
    fn name(&self) -> &'static str {
        "walk"
    }
    fn suggest(&mut self, ctx: &Context<'_>) -> Result<Proposal, TunerError> {
        let x = 0.1 * (ctx.number + 1) as f64;
        let n = if self.bad { 9 } else { 2 };
        Ok(Proposal::model(vec![
            Some(Value::Float(x)),
            Some(Value::Int(n)),
        ]))
    }
}

#[test]
fn a_strategy_of_ones_own_proposes_and_its_bad_proposals_are_refused() {
    let dir = tempfile::tempdir().unwrap();
    let mut study = Study::with_strategy(
        sqlite(&dir, "own"),
        StudyConfig::default(),
        Box::new(Walk { bad: false }),
    )
    .unwrap();
    for _ in 0..3 {
        let (n, a) = study.ask().unwrap();
        let x = a[0].as_ref().unwrap().as_f64().unwrap();
        study.tell(n, Outcome::value(x)).unwrap();
    }
    let xs: Vec<f64> = study
        .trials()
        .iter()
        .map(|t| t.params[0].as_ref().unwrap().as_f64().unwrap())
        .collect();
    assert_eq!(xs.len(), 3);
    for (got, want) in xs.iter().zip([0.1, 0.2, 0.3]) {
        assert!((got - want).abs() < 1e-12, "{xs:?}");
    }
    assert!(study.trials().iter().all(|t| t.source == Source::Model));
    drop(study);

    // The same study, reopened with a strategy whose proposal leaves the space: refused
    // with the parameter named, and nothing recorded.
    let mut study = Study::with_strategy(
        sqlite(&dir, "own"),
        StudyConfig::default(),
        Box::new(Walk { bad: true }),
    )
    .unwrap();
    let e = study.ask().unwrap_err().to_string();
    assert!(e.contains('n') && e.contains('9'), "{e}");
    assert_eq!(study.trials().len(), 3);
    // And a built-in strategy goes on from the trials the custom one left.
    let mut study = Study::open(sqlite(&dir, "own"), StudyConfig::default()).unwrap();
    let (n, _) = study.ask().unwrap();
    assert_eq!(n, 3);
}

#[test]
fn should_prune_judges_against_the_other_workers_trials() {
    let dir = tempfile::tempdir().unwrap();
    let config = || StudyConfig {
        strategy: nasbo_tuner::StrategyKind::Random,
        ..StudyConfig::default()
    };
    // Worker B opens first, so what A writes reaches B only from the storage.
    let mut b = Study::open(sqlite(&dir, "prune"), config()).unwrap();
    let mut a = Study::open(sqlite(&dir, "prune"), config()).unwrap();
    let pruner = MedianPruner {
        min_step: 1,
        max_step: 3,
        startup_trials: 2,
    };
    for v in [0.2, 0.3] {
        let (n, _) = a.ask().unwrap();
        for step in 1..=3 {
            a.report(n, step, v).unwrap();
        }
        a.tell(n, Outcome::value(v)).unwrap();
    }
    let (good, _) = b.ask().unwrap();
    let (bad, _) = b.ask().unwrap();
    b.report(good, 1, 0.1).unwrap();
    b.report(bad, 1, 0.8).unwrap();
    assert!(!b.should_prune(good, &pruner).unwrap(), "below the median");
    assert!(
        b.should_prune(bad, &pruner).unwrap(),
        "above A's median of 0.25"
    );
    b.tell(bad, Outcome::Pruned { value: Some(0.8) }).unwrap();
    assert_eq!(b.trials()[bad].state, TrialState::Pruned);

    // Bad input: a trial that is not running, and one that does not exist.
    let e = b.should_prune(bad, &pruner).unwrap_err().to_string();
    assert!(e.contains("pruned") && e.contains("not running"), "{e}");
    let e = b.should_prune(99, &pruner).unwrap_err().to_string();
    assert!(e.contains("no trial 99"), "{e}");
}
