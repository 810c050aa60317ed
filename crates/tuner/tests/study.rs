//! Ask/tell, strategies, reproducibility, failures, conditions and CSV.

use std::io::Write;

use nasbo_tuner::study::csv::{read_trials, write_atomic, write_trials};
use nasbo_tuner::testfns::Problem;
use nasbo_tuner::{
    Condition, Direction, Outcome, Param, Space, StrategyKind, Study, StudyConfig, TrialState,
    TunerError, Value,
};

fn run(problem: &Problem, strategy: &str, trials: usize, seed: u64) -> Study {
    let config = StudyConfig {
        seed,
        strategy: StrategyKind::parse(strategy).unwrap(),
        ..StudyConfig::new(Direction::Minimize)
    };
    let mut study = Study::new(problem.space.clone(), config).unwrap();
    for _ in 0..trials {
        let (n, a) = study.ask().unwrap();
        study
            .tell(
                n,
                Outcome::Complete {
                    values: vec![problem.eval(&a)],
                    metrics: vec![("twice".into(), 2.0 * problem.eval(&a))],
                },
            )
            .unwrap();
    }
    study
}

fn best(study: &Study) -> f64 {
    study.best().unwrap().value().unwrap()
}

#[test]
fn every_strategy_proposes_valid_distinct_points() {
    for name in ["bo", "random", "sobol", "evolution", "reinforce"] {
        for p in [
            nasbo_tuner::testfns::mixed(),
            nasbo_tuner::testfns::branin(),
        ] {
            let study = run(&p, name, 25, 1);
            for t in study.trials() {
                p.space.validate(&t.params).unwrap();
                assert_eq!(t.state, TrialState::Complete);
            }
            if name != "random" {
                let distinct: std::collections::HashSet<String> = study
                    .trials()
                    .iter()
                    .map(|t| format!("{:?}", t.params))
                    .collect();
                assert_eq!(distinct.len(), 25, "{name} on {} repeated a point", p.name);
            }
        }
    }
}

#[test]
fn same_seed_same_proposals() {
    let p = nasbo_tuner::testfns::hartmann3();
    for name in ["bo", "random", "evolution", "reinforce", "sobol"] {
        let a = run(&p, name, 14, 5);
        let b = run(&p, name, 14, 5);
        let pa: Vec<_> = a.trials().iter().map(|t| t.params.clone()).collect();
        let pb: Vec<_> = b.trials().iter().map(|t| t.params.clone()).collect();
        assert_eq!(pa, pb, "{name}");
        let c = run(&p, name, 14, 6);
        assert_ne!(
            pa,
            c.trials()
                .iter()
                .map(|t| t.params.clone())
                .collect::<Vec<_>>(),
            "{name}: seed ignored"
        );
    }
}

#[test]
fn bo_beats_random_search_on_branin() {
    let p = nasbo_tuner::testfns::branin();
    let mut wins = 0;
    for seed in 0..3 {
        let bo = best(&run(&p, "bo", 30, seed)) - p.optimum;
        let rs = best(&run(&p, "random", 30, seed)) - p.optimum;
        assert!(bo < 0.05, "seed {seed}: BO regret {bo}");
        if bo < rs {
            wins += 1;
        }
    }
    assert_eq!(wins, 3);
}

#[test]
fn pending_trials_get_different_proposals() {
    let p = nasbo_tuner::testfns::hartmann3();
    let mut study = Study::new(
        p.space.clone(),
        StudyConfig {
            seed: 2,
            ..Default::default()
        },
    )
    .unwrap();
    for _ in 0..8 {
        let (n, a) = study.ask().unwrap();
        study
            .tell(
                n,
                Outcome::Complete {
                    values: vec![p.eval(&a)],
                    metrics: vec![],
                },
            )
            .unwrap();
    }
    // Four workers ask before anyone tells.
    let asked: Vec<_> = (0..4).map(|_| study.ask().unwrap()).collect();
    for i in 0..4 {
        for j in 0..i {
            assert_ne!(asked[i].1, asked[j].1);
        }
    }
    assert_eq!(study.pending().count(), 4);
    for (n, a) in asked {
        study
            .tell(
                n,
                Outcome::Complete {
                    values: vec![p.eval(&a)],
                    metrics: vec![],
                },
            )
            .unwrap();
    }
}

#[test]
fn failures_are_kept_and_bad_tells_change_nothing() {
    let p = nasbo_tuner::testfns::branin();
    let mut study = Study::new(p.space.clone(), StudyConfig::default()).unwrap();
    for i in 0..15 {
        let (n, a) = study.ask().unwrap();
        let x0 = a[0].as_ref().unwrap().as_f64().unwrap();
        if x0 > 5.0 {
            study
                .tell(
                    n,
                    Outcome::Failed {
                        reason: format!("diverged\nat {i}"),
                    },
                )
                .unwrap();
        } else {
            study
                .tell(
                    n,
                    Outcome::Complete {
                        values: vec![p.eval(&a)],
                        metrics: vec![],
                    },
                )
                .unwrap();
        }
    }
    let failed = study
        .trials()
        .iter()
        .filter(|t| t.state == TrialState::Failed)
        .count();
    assert!(failed > 0);
    assert!(study
        .trials()
        .iter()
        .all(|t| t.error.as_deref().is_none_or(|e| !e.contains('\n'))));
    let before = study.trials().to_vec();
    assert!(matches!(
        study.tell(
            0,
            Outcome::Complete {
                values: vec![1.0],
                metrics: vec![]
            }
        ),
        Err(TunerError::InvalidTrial { trial: 0, .. })
    ));
    assert!(study
        .tell(99, Outcome::Failed { reason: "x".into() })
        .is_err());
    let (n, _) = study.ask().unwrap();
    assert!(study
        .tell(
            n,
            Outcome::Complete {
                values: vec![f64::NAN],
                metrics: vec![]
            }
        )
        .is_err());
    assert!(study
        .tell(
            n,
            Outcome::Complete {
                values: vec![1.0],
                metrics: vec![("m".into(), f64::INFINITY)]
            }
        )
        .is_err());
    assert_eq!(&study.trials()[..before.len()], &before[..]);
    assert_eq!(study.trials()[n].state, TrialState::Running);
    study.tell(n, Outcome::Pruned { value: Some(3.0) }).unwrap();
    assert_eq!(study.trials()[n].state, TrialState::Pruned);
}

#[test]
fn conditional_parameters_are_absent_when_inactive() {
    let space = Space::new(vec![
        Param::int("depth", 1, 4),
        Param::int("width3", 8, 64).when(Condition::at_least("depth", 3.0)),
        Param::categorical("opt", &["adam", "sgd"]),
        Param::float("momentum", 0.5, 0.99)
            .when(Condition::one_of("opt", vec![Value::Cat("sgd".into())])),
    ])
    .unwrap();
    for strategy in ["bo", "evolution", "reinforce", "random"] {
        let mut study = Study::new(
            space.clone(),
            StudyConfig {
                strategy: StrategyKind::parse(strategy).unwrap(),
                ..Default::default()
            },
        )
        .unwrap();
        for _ in 0..20 {
            let (n, a) = study.ask().unwrap();
            let depth = a[0].as_ref().unwrap().as_f64().unwrap();
            assert_eq!(a[1].is_some(), depth >= 3.0);
            assert_eq!(a[3].is_some(), a[2] == Some(Value::Cat("sgd".into())));
            let v = (depth - 3.0).abs()
                + a[3]
                    .as_ref()
                    .map_or(0.5, |m| (m.as_f64().unwrap() - 0.9).abs());
            study
                .tell(
                    n,
                    Outcome::Complete {
                        values: vec![v],
                        metrics: vec![],
                    },
                )
                .unwrap();
        }
    }
}

#[test]
fn csv_round_trips_and_resumes() {
    let p = nasbo_tuner::testfns::mixed();
    let mut study = run(&p, "bo", 12, 3);
    let (n, _) = study.ask().unwrap();
    study
        .tell(
            n,
            Outcome::Failed {
                reason: "exit status 3, \"quoted\"".into(),
            },
        )
        .unwrap();
    study.ask().unwrap(); // left running
    let dir = std::env::temp_dir().join(format!("nasbo-csv-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let path = dir.join("t.csv");
    write_atomic(study.space(), &[], study.trials(), &path).unwrap();
    let text = std::fs::read_to_string(&path).unwrap();
    assert!(text.starts_with("trial,state,value,param_x,param_n,param_c,metric_twice,source,started_at,finished_at,duration_s,suggest_s,error\n"), "{text}");
    let back = read_trials(&p.space, &path).unwrap();
    assert_eq!(back.len(), 14);
    for (a, b) in study.trials().iter().zip(&back) {
        assert_eq!(a.params, b.params);
        assert_eq!(a.values, b.values);
        assert_eq!(a.source, b.source);
        assert_eq!(a.state, b.state);
        assert_eq!(a.metrics, b.metrics);
        assert_eq!(a.error, b.error);
    }
    // Resuming: a new study continues from the record; the running trial is queued and run
    // again first, with its number and parameters.
    let mut resumed = Study::new(
        p.space.clone(),
        StudyConfig {
            seed: 3,
            ..Default::default()
        },
    )
    .unwrap();
    resumed.add_trials(back, None).unwrap();
    assert_eq!(resumed.trials()[13].state, TrialState::Queued);
    let (n, a) = resumed.ask().unwrap();
    assert_eq!((n, &a), (13, &study.trials()[13].params));
    let (n, a) = resumed.ask().unwrap();
    assert_eq!(n, 14);
    assert!(!resumed.trials()[..14].iter().any(|t| t.params == a));
    std::fs::remove_dir_all(&dir).ok();
}

#[test]
fn malformed_csv_is_refused_with_its_line() {
    let p = nasbo_tuner::testfns::mixed();
    let dir = std::env::temp_dir().join(format!("nasbo-bad-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let study = run(&p, "random", 3, 0);
    let mut good = Vec::new();
    write_trials(study.space(), study.trials(), &mut good).unwrap();
    let good = String::from_utf8(good).unwrap();
    let lines: Vec<&str> = good.lines().collect();
    let header = lines[0];
    let cases: Vec<(String, usize, &str)> = vec![
        (
            format!("{}\n{}\n3,complete,1.0", header, lines[1]),
            3,
            "fields",
        ),
        (
            format!(
                "{}\n{}",
                header,
                lines[1].replacen("complete", "finished", 1)
            ),
            2,
            "state `finished`",
        ),
        (
            format!(
                "{}\n{}\n{}",
                header,
                lines[1],
                lines[2]
                    .replacen(",b,", ",z,", 1)
                    .replacen(",a,", ",z,", 1)
                    .replacen(",c,", ",z,", 1)
            ),
            3,
            "param",
        ),
        (
            good.replacen("param_n", "param_m", 1),
            1,
            "no column param_n",
        ),
        ("foo,bar\n1,2\n".to_string(), 1, "no `value` column"),
        (
            format!(
                "{}\n{}",
                header,
                lines[1].replacen("complete,", "complete,abc", 1)
            ),
            2,
            "not a number",
        ),
    ];
    for (text, line, msg) in cases {
        let path = dir.join("bad.csv");
        std::fs::File::create(&path)
            .unwrap()
            .write_all(text.as_bytes())
            .unwrap();
        match read_trials(&p.space, &path) {
            Err(TunerError::Csv {
                line: got, reason, ..
            }) => {
                assert_eq!(got, line, "{reason}");
                assert!(reason.contains(msg), "`{reason}` should contain `{msg}`");
            }
            other => panic!("expected a CSV error for {msg}, got {other:?}"),
        }
    }
    std::fs::remove_dir_all(&dir).ok();
}

/// BO on a function of 2 of 6 parameters: with the default boundary prior, the 4 parameters
/// that do not matter stay off the faces of the box in most proposals; with a constant prior
/// mean (`boundary_prior = 0`) most proposals put at least one of them on a bound.
#[test]
fn boundary_prior_keeps_irrelevant_parameters_off_the_faces() {
    let space = Space::new(
        (0..6)
            .map(|k| Param::float(&format!("x{k}"), 0.0, 1.0))
            .collect(),
    )
    .unwrap();
    let on_faces = |boundary_prior: f64| -> f64 {
        let mut count = 0;
        let mut total = 0;
        for seed in 0..3 {
            let config = StudyConfig {
                seed,
                strategy: StrategyKind::Bo(nasbo_tuner::BoConfig {
                    boundary_prior,
                    ..Default::default()
                }),
                ..StudyConfig::new(Direction::Minimize)
            };
            let mut study = Study::new(space.clone(), config).unwrap();
            for i in 0..30 {
                let (n, a) = study.ask().unwrap();
                let x: Vec<f64> = a
                    .iter()
                    .map(|v| v.as_ref().unwrap().as_f64().unwrap())
                    .collect();
                if i >= 10 {
                    total += 1;
                    if x[2..].iter().any(|v| !(1e-3..=1.0 - 1e-3).contains(v)) {
                        count += 1;
                    }
                }
                let value = (x[0] - 0.3).powi(2) + (x[1] - 0.6).powi(2);
                study.tell(n, Outcome::value(value)).unwrap();
            }
        }
        count as f64 / total as f64
    };
    let with = on_faces(0.25);
    let without = on_faces(0.0);
    eprintln!("on faces: with prior {with:.2}, without {without:.2}");
    assert!(
        with < 0.5 && with < without,
        "with {with}, without {without}"
    );
}

#[test]
fn bad_bo_settings_are_refused_by_name() {
    let space = Space::new(vec![Param::float("x", 0.0, 1.0)]).unwrap();
    for bad in [-0.1, f64::NAN, f64::INFINITY] {
        let config = StudyConfig {
            strategy: StrategyKind::Bo(nasbo_tuner::BoConfig {
                boundary_prior: bad,
                ..Default::default()
            }),
            ..Default::default()
        };
        let err = Study::new(space.clone(), config).err().unwrap();
        assert!(err.to_string().contains("boundary_prior"), "{err}");
    }
}

/// One region of Branin returns 1e300 (a diverged run, say): BO keeps modelling (no fallback
/// to random points) and still finds the optimum outside the region.
#[test]
fn bo_keeps_modelling_when_a_region_returns_1e300() {
    let p = nasbo_tuner::testfns::branin();
    let mut regrets = Vec::new();
    for seed in 0..3 {
        let config = StudyConfig {
            seed,
            ..StudyConfig::default()
        };
        let mut study = Study::new(p.space.clone(), config).unwrap();
        let mut best = f64::INFINITY;
        for _ in 0..40 {
            let t = study.ask_trial().unwrap();
            assert!(
                !matches!(t.source, nasbo_tuner::Source::Fallback { .. }),
                "seed {seed}, trial {}: {:?}",
                t.number,
                t.source
            );
            let x0 = t.params[0].as_ref().unwrap().as_f64().unwrap();
            let v = if x0 > 7.0 { 1e300 } else { p.eval(&t.params) };
            best = best.min(v);
            study.tell(t.number, Outcome::value(v)).unwrap();
        }
        regrets.push(best - p.optimum);
    }
    regrets.sort_by(f64::total_cmp);
    assert!(regrets[1] < 0.01, "median regret {regrets:?}");
}

/// Four configurations and six trials: once all four are evaluated the model has no new
/// point to offer, and the proposal says so in its source (and in the CSV).
#[test]
fn an_exhausted_space_falls_back_and_says_why() {
    let space = Space::new(vec![
        Param::int("a", 0, 1),
        Param::categorical("b", &["p", "q"]),
    ])
    .unwrap();
    let config = StudyConfig {
        strategy: StrategyKind::Bo(nasbo_tuner::BoConfig {
            n_initial: Some(2),
            ..Default::default()
        }),
        ..StudyConfig::default()
    };
    let mut study = Study::new(space, config).unwrap();
    for _ in 0..6 {
        let (n, a) = study.ask().unwrap();
        let v = a[0].as_ref().unwrap().as_f64().unwrap();
        study.tell(n, Outcome::value(v)).unwrap();
    }
    let fallbacks: Vec<&nasbo_tuner::Trial> = study
        .trials()
        .iter()
        .filter(|t| matches!(t.source, nasbo_tuner::Source::Fallback { .. }))
        .collect();
    assert!(!fallbacks.is_empty(), "{:?}", study.trials());
    assert!(
        fallbacks[0].source.text().contains("no new candidate"),
        "{}",
        fallbacks[0].source.text()
    );
    let mut csv = Vec::new();
    write_trials(study.space(), study.trials(), &mut csv).unwrap();
    assert!(String::from_utf8(csv)
        .unwrap()
        .contains("fallback: no new candidate"));
}
