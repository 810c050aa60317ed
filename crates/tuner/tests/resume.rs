//! Exact resume: a study stopped after 10 trials and resumed to 16 proposes what an
//! uninterrupted 16-trial study proposes, on continuous, integer × float and mixed
//! (categorical, log, int) spaces; also when the stop left a trial running (a crash) or
//! interrupted one (Ctrl-C).

use std::path::PathBuf;
use std::time::Duration;

use nasbo_tuner::run::{run, RunConfig, TrialHandle};
use nasbo_tuner::study::{open_storage, SqliteStorage};
use nasbo_tuner::testfns::Problem;
use nasbo_tuner::{
    Assignment, Direction, Outcome, Param, Space, StrategyKind, Study, StudyConfig, TrialState,
};

fn dir(name: &str) -> PathBuf {
    let d = std::env::temp_dir().join(format!("nasbo-resume-{name}-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&d);
    std::fs::create_dir_all(&d).unwrap();
    d
}

fn problems() -> Vec<Problem> {
    let int_float = Space::new(vec![
        Param::int("depth", 1, 12),
        Param::float("dropout", 0.0, 0.5),
        Param::int("width", 8, 256).log(),
    ])
    .unwrap();
    let mixed = Space::new(vec![
        Param::log_float("lr", 1e-4, 1e-1),
        Param::int("depth", 1, 6),
        Param::categorical("connection", &["conv", "pool", "skip"]),
        Param::float("x", -1.0, 1.0),
    ])
    .unwrap();
    let num = |a: &Assignment, i: usize| a[i].as_ref().and_then(|v| v.as_f64()).unwrap_or(0.0);
    vec![
        nasbo_tuner::testfns::branin(),
        Problem::custom("int-float", int_float, 0.0, move |a: &Assignment| {
            (num(a, 0) - 5.0).powi(2) / 10.0
                + (num(a, 1) - 0.2).powi(2)
                + (num(a, 2).ln() - 4.0).powi(2)
        }),
        Problem::custom("mixed-log", mixed, 0.0, move |a: &Assignment| {
            let c = match &a[2] {
                Some(nasbo_tuner::Value::Cat(c)) if c == "skip" => 0.0,
                _ => 0.4,
            };
            (num(a, 0).log10() + 2.5).powi(2)
                + (num(a, 1) - 3.0).abs() / 5.0
                + c
                + (num(a, 3) - 0.3).powi(2)
        }),
    ]
}

fn config() -> StudyConfig {
    StudyConfig {
        seed: 11,
        heartbeat: Some(Duration::from_millis(50)),
        ..StudyConfig::new(Direction::Minimize)
    }
}

fn open(path: &std::path::Path, p: &Problem) -> Study {
    let storage = SqliteStorage::open(path, "s", Some((&p.space, &[Direction::Minimize]))).unwrap();
    Study::open(Box::new(storage), config()).unwrap()
}

fn drive(study: &mut Study, p: &Problem, to: usize) {
    let f = p.clone();
    let objective = move |t: &TrialHandle| Outcome::value(f.eval(t.params()));
    run(study, &objective, &RunConfig::trials(to), &mut |_| {}).unwrap();
}

fn params(study: &Study) -> Vec<Assignment> {
    study.trials().iter().map(|t| t.params.clone()).collect()
}

#[test]
fn stopped_after_10_and_resumed_to_16_proposes_as_an_uninterrupted_run() {
    let d = dir("exact");
    for p in problems() {
        let mut whole = open(&d.join(format!("{}-whole.db", p.name)), &p);
        drive(&mut whole, &p, 16);
        let expected = params(&whole);
        assert_eq!(expected.len(), 16);
        assert!(
            whole
                .trials()
                .iter()
                .any(|t| t.source == nasbo_tuner::Source::Model),
            "{}: the model proposed some of them",
            p.name
        );

        // Stopped cleanly after 10, reopened from the file (a new process would do the same).
        let path = d.join(format!("{}-resumed.db", p.name));
        drive(&mut open(&path, &p), &p, 10);
        let mut resumed = open(&path, &p);
        drive(&mut resumed, &p, 16);
        assert_eq!(params(&resumed), expected, "{}: clean stop", p.name);

        // A crash with trial 10 running: its worker is gone, so after its heartbeats stop the
        // trial is queued and run again with its number and parameters.
        let path = d.join(format!("{}-crash.db", p.name));
        drive(&mut open(&path, &p), &p, 10);
        {
            let mut dying = open(&path, &p);
            let (n, a) = dying.ask().unwrap();
            assert_eq!((n, &a), (10, &expected[10]));
        }
        std::thread::sleep(Duration::from_millis(300));
        let mut after = open(&path, &p);
        drive(&mut after, &p, 16);
        assert_eq!(params(&after), expected, "{}: crash", p.name);
        assert!(after
            .trials()
            .iter()
            .all(|t| t.state == TrialState::Complete));
        assert!(after.trials()[10]
            .error
            .as_deref()
            .is_some_and(|e| e.contains("worker lost")));

        // Interrupted (the stop flag, as Ctrl-C sets it) while trial 10 runs.
        let path = d.join(format!("{}-ctrlc.db", p.name));
        drive(&mut open(&path, &p), &p, 10);
        {
            let mut study = open(&path, &p);
            let config = RunConfig::trials(16);
            let stop = config.stop.clone();
            let f = p.clone();
            let objective = move |t: &TrialHandle| {
                stop.store(true, std::sync::atomic::Ordering::SeqCst);
                while !t.should_stop() {
                    std::thread::sleep(Duration::from_millis(5));
                }
                Outcome::value(f.eval(t.params()))
            };
            let summary = run(&mut study, &objective, &config, &mut |_| {}).unwrap();
            assert!(summary.interrupted && summary.requeued == 1);
            assert_eq!(study.trials()[10].state, TrialState::Queued);
        }
        let mut after = open(&path, &p);
        drive(&mut after, &p, 16);
        assert_eq!(params(&after), expected, "{}: interruption", p.name);
    }
    std::fs::remove_dir_all(&d).ok();
}

#[test]
fn every_strategy_resumes_exactly_in_memory_and_sqlite() {
    let d = dir("strategies");
    let p = nasbo_tuner::testfns::mixed();
    for name in StrategyKind::NAMES {
        let cfg = StudyConfig {
            strategy: StrategyKind::parse(name).unwrap(),
            ..config()
        };
        let url = format!("sqlite:{}", d.join(format!("{name}.db")).display());
        let make = || {
            let s = open_storage(&url, name, Some((&p.space, &[Direction::Minimize]))).unwrap();
            Study::open(s, cfg.clone()).unwrap()
        };
        let mut whole = Study::new(p.space.clone(), cfg.clone()).unwrap();
        drive(&mut whole, &p, 14);
        drive(&mut make(), &p, 7);
        let mut resumed = make();
        drive(&mut resumed, &p, 14);
        assert_eq!(params(&resumed), params(&whole), "{name}");
    }
    std::fs::remove_dir_all(&d).ok();
}
