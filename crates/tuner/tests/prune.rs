//! Pruning through the run loop: pruned trials are recorded with their last value and step
//! and stop at the step they were judged; bad intermediate values are dropped with one
//! warning each; `bo` learns from pruned trials as `PrunedAs` says.

use std::sync::atomic::{AtomicUsize, Ordering};

use nasbo_tuner::bo::encode::Encoder;
use nasbo_tuner::bo::{Target, TrainingData};
use nasbo_tuner::prune::{PrunerConfig, PrunerKind};
use nasbo_tuner::run::{run, Event, RunConfig, TrialHandle};
use nasbo_tuner::{
    Direction, Outcome, Param, PrunedAs, Space, StrategyKind, Study, StudyConfig, Trial,
    TrialState, Value,
};

fn study(strategy: StrategyKind) -> Study {
    let space = Space::new(vec![Param::float("x", 0.0, 1.0)]).unwrap();
    Study::new(
        space,
        StudyConfig {
            seed: 3,
            strategy,
            ..StudyConfig::new(Direction::Minimize)
        },
    )
    .unwrap()
}

#[test]
fn pruned_trials_stop_at_the_judged_step_with_their_last_value() {
    for kind in [PrunerKind::Asha, PrunerKind::Hyperband, PrunerKind::Median] {
        let mut s = study(StrategyKind::Random);
        let steps_run = AtomicUsize::new(0);
        let objective = |h: &TrialHandle| {
            let x = h.get("x").and_then(|v| v.as_f64()).unwrap();
            for t in 1..=27u64 {
                steps_run.fetch_add(1, Ordering::SeqCst);
                let y = (x - 0.3).powi(2) + 1.0 / t as f64;
                if !h.report(t, y) {
                    return Outcome::value(y);
                }
            }
            Outcome::value((x - 0.3).powi(2) + 1.0 / 27.0)
        };
        let config = RunConfig {
            pruner: PrunerConfig::new(kind, 27).build().unwrap(),
            ..RunConfig::trials(30)
        };
        run(&mut s, &objective, &config, &mut |_| {}).unwrap();
        let pruned: Vec<&Trial> = s
            .trials()
            .iter()
            .filter(|t| t.state == TrialState::Pruned)
            .collect();
        assert!(!pruned.is_empty(), "{kind:?}: nothing pruned");
        let mut steps = 0;
        for t in s.trials() {
            steps += t.last_step().unwrap() as usize;
            if t.state == TrialState::Pruned {
                let (step, v) = *t.intermediate.last().unwrap();
                assert!(step < 27);
                assert_eq!(t.value(), Some(v), "{kind:?}: the last reported value");
            } else {
                assert_eq!(t.state, TrialState::Complete);
                assert_eq!(t.last_step(), Some(27));
            }
        }
        // A pruned trial stops at the step it was judged: no step runs beyond its last report.
        assert_eq!(steps, steps_run.load(Ordering::SeqCst), "{kind:?}");
        assert!(steps < 30 * 27, "{kind:?}: pruning saved no steps");
    }
}

#[test]
fn bad_intermediate_values_are_dropped_with_one_warning_each() {
    let mut s = study(StrategyKind::Random);
    let objective = |h: &TrialHandle| {
        h.report(1, f64::NAN);
        h.report(1, f64::INFINITY);
        h.report(2, 0.5);
        h.report(2, 0.4); // not after step 2
        h.report(1, 0.4); // backwards
        h.report(40, 0.3); // beyond max_step 9: stored, not judged
        for t in 41..200 {
            h.report(t, 0.2);
        }
        Outcome::value(0.1)
    };
    let config = RunConfig {
        pruner: PrunerConfig::new(PrunerKind::Median, 9).build().unwrap(),
        max_reports: 50,
        ..RunConfig::trials(2)
    };
    let mut warnings = Vec::new();
    run(&mut s, &objective, &config, &mut |e| {
        if let Event::Warning(w) = e {
            warnings.push(w);
        }
    })
    .unwrap();
    for t in s.trials() {
        assert_eq!(t.state, TrialState::Complete);
        assert_eq!(t.intermediate.len(), 50);
        assert_eq!(t.intermediate[0], (2, 0.5));
        assert_eq!(t.intermediate[1], (40, 0.3));
    }
    for (what, n) in [
        ("not finite", 2),
        ("does not come after", 2),
        ("beyond --max-step 9", 2),
        ("more than 50 intermediate values", 2),
    ] {
        let found = warnings.iter().filter(|w| w.contains(what)).count();
        assert_eq!(found, n, "`{what}` in {warnings:#?}");
    }
}

fn trial(n: usize, x: f64, state: TrialState, value: f64, reports: &[(u64, f64)]) -> Trial {
    let mut t = Trial::new(n, vec![Some(Value::Float(x))]);
    t.state = state;
    t.values = vec![value];
    t.intermediate = reports.to_vec();
    t
}

#[test]
fn bo_takes_a_pruned_trial_as_its_value_moved_by_the_complete_trials_change() {
    let space = Space::new(vec![Param::float("x", 0.0, 1.0)]).unwrap();
    let enc = Encoder::new(&space);
    let target = Target::objective(Direction::Minimize);
    // Complete trials improved by 0.5, 0.6 and 0.7 from step 3 to their end (median 0.6).
    let mut trials = vec![
        trial(
            0,
            0.1,
            TrialState::Complete,
            1.0,
            &[(1, 2.0), (3, 1.5), (9, 1.0)],
        ),
        trial(
            1,
            0.2,
            TrialState::Complete,
            1.2,
            &[(1, 2.0), (3, 1.8), (9, 1.2)],
        ),
        trial(
            2,
            0.3,
            TrialState::Complete,
            0.8,
            &[(1, 2.0), (3, 1.5), (9, 0.8)],
        ),
        trial(3, 0.9, TrialState::Pruned, 1.7, &[(1, 2.5), (3, 1.7)]),
    ];
    let ys = |trials: &[Trial], how| TrainingData::from_trials(&enc, trials, &target, how).ys;
    // Larger is better: the pruned trial at −(1.7 − 0.6) = −1.1.
    let shifted = ys(&trials, PrunedAs::Shifted);
    assert_eq!(shifted.len(), 4);
    assert!((shifted[3] + 1.1).abs() < 1e-12, "{shifted:?}");
    assert_eq!(ys(&trials, PrunedAs::Worst)[3], -1.2);
    assert_eq!(ys(&trials, PrunedAs::Ignored).len(), 3);
    // Never better than the best complete trial.
    trials[3].intermediate = vec![(1, 0.1), (3, 0.1)];
    assert_eq!(ys(&trials, PrunedAs::Shifted)[3], -0.8);
    // Without a complete trial that reported that early: the worst value.
    trials[3].intermediate = vec![(1, 2.5)];
    for t in &mut trials[..3] {
        t.intermediate.retain(|s| s.0 > 1);
    }
    assert_eq!(ys(&trials, PrunedAs::Shifted)[3], -1.2);
}
