use super::*;
use crate::trial::TrialState;

fn trial(n: usize, reports: &[(u64, f64)]) -> Trial {
    let mut t = Trial::new(n, vec![]);
    t.intermediate = reports.to_vec();
    t
}

#[test]
fn asha_rungs_and_decisions() {
    let p = AshaPruner::new(1, 27, 3, 0);
    assert_eq!(p.rungs(), &[1, 3, 9]);
    assert_eq!(AshaPruner::new(1, 27, 3, 1).rungs(), &[3, 9]);
    assert!(AshaPruner::new(1, 27, 3, 3).rungs().is_empty());
    let dir = Direction::Minimize;
    // The first trial at a rung goes on.
    let a = trial(0, &[(1, 0.5)]);
    assert!(!p.prune(&a, std::slice::from_ref(&a), dir));
    // Below three competitors only the best goes on; with six, the best two.
    let mut ts: Vec<Trial> = [0.5, 0.4, 0.6, 0.3, 0.45, 0.35]
        .iter()
        .enumerate()
        .map(|(n, &v)| trial(n, &[(1, v)]))
        .collect();
    assert!(!p.prune(&ts[1], &ts[..2], dir));
    assert!(p.prune(&ts[2], &ts[..3], dir));
    let six = ts.clone();
    assert!(!p.prune(&six[5], &six, dir)); // 0.35 is second of six
    assert!(p.prune(&six[4], &six, dir)); // 0.45 is fourth
                                          // Maximizing turns it around.
    assert!(!p.prune(&six[2], &six, Direction::Maximize));
    // Judged only when crossing a rung: a report at step 2 after one at 1 is not judged again.
    ts[4].intermediate.push((2, 0.45));
    assert!(!p.prune(&ts[4], &ts, dir));
    // A report that skips past two rungs is judged at both.
    let mut skip = trial(9, &[(5, 0.9)]);
    let mut others = six.clone();
    others.push(skip.clone());
    assert!(p.prune(&skip, &others, dir));
    // Beyond the budget nothing is judged.
    skip.intermediate = vec![(40, 9.0)];
    assert!(!p.prune(&skip, &others, dir));
}

#[test]
fn hyperband_brackets_share_the_budget() {
    let h = HyperbandPruner::new(1, 27, 3);
    assert_eq!(h.brackets(), 4);
    let mut counts = [0usize; 4];
    for n in 0..4000 {
        counts[h.bracket(n)] += 1;
    }
    // Optuna's shares: ceil(4·27/4)=27, ceil(4·9/3)=12, ceil(4·3/2)=6, 4 of 49.
    let expect = [27.0, 12.0, 6.0, 4.0];
    for (c, e) in counts.iter().zip(expect) {
        let share = *c as f64 / 4000.0;
        assert!((share - e / 49.0).abs() < 0.03, "{counts:?}");
    }
    assert_eq!(h.bracket(17), h.bracket(17));
    // The last bracket never prunes.
    let last = (0..200).find(|&n| h.bracket(n) == 3).unwrap();
    let bad = trial(last, &[(1, 9.0), (3, 9.0), (9, 9.0)]);
    let mut ts: Vec<Trial> = (1000..1010)
        .map(|n| trial(n, &[(1, 0.0), (3, 0.0), (9, 0.0)]))
        .collect();
    ts.push(bad.clone());
    assert!(!h.prune(&bad, &ts, Direction::Minimize));
}

#[test]
fn median_waits_then_prunes_below_the_median() {
    let p = MedianPruner {
        min_step: 2,
        max_step: 10,
        startup_trials: 3,
    };
    let dir = Direction::Maximize;
    let mut ts: Vec<Trial> = [0.5, 0.6, 0.7]
        .iter()
        .enumerate()
        .map(|(n, &v)| {
            let mut t = trial(n, &[(1, v - 0.1), (2, v), (3, v + 0.1)]);
            t.state = TrialState::Complete;
            t
        })
        .collect();
    let mut r = trial(3, &[(1, 0.1)]);
    ts.push(r.clone());
    assert!(!p.prune(&r, &ts, dir), "before min_step");
    r.intermediate.push((2, 0.55));
    ts[3] = r.clone();
    assert!(p.prune(&r, &ts, dir), "0.55 < median 0.6");
    r.intermediate[1].1 = 0.65;
    ts[3] = r.clone();
    assert!(!p.prune(&r, &ts, dir));
    // Too few complete trials: no pruning.
    ts[2].state = TrialState::Running;
    r.intermediate[1].1 = 0.0;
    ts[3] = r.clone();
    assert!(!p.prune(&r, &ts, dir));
}

#[test]
fn bad_settings_are_refused() {
    let bad = |c: PrunerConfig, what: &str| {
        let e = c.build().unwrap_err().to_string();
        assert!(e.contains(what), "{e}");
    };
    let c = PrunerConfig::new(PrunerKind::Asha, 9);
    bad(
        PrunerConfig {
            max_step: 0,
            ..c.clone()
        },
        "max-step",
    );
    bad(
        PrunerConfig {
            min_step: 0,
            ..c.clone()
        },
        "min-step",
    );
    bad(
        PrunerConfig {
            min_step: 10,
            ..c.clone()
        },
        "min-step",
    );
    bad(
        PrunerConfig {
            reduction_factor: 1,
            ..c.clone()
        },
        "reduction-factor",
    );
    assert!(PrunerConfig::new(PrunerKind::None, 0)
        .build()
        .unwrap()
        .is_none());
    assert!(PrunerKind::parse("bogus")
        .unwrap_err()
        .to_string()
        .contains("bogus"));
    assert_eq!(
        PrunerKind::parse("Hyperband").unwrap(),
        PrunerKind::Hyperband
    );
}
