//! The run loop under faults in the objective and the storage: a panicking objective is a
//! failed trial with the panic's message (the run goes on and ends); a worker whose lease is
//! lost while its trial runs (taken for lost and claimed by another worker) stops the trial,
//! records nothing for it and ends normally, while the other worker's result stands.

use std::sync::mpsc;
use std::time::Duration;

use nasbo_tuner::run::{run, Event, RunConfig, TrialHandle};
use nasbo_tuner::study::{open_storage, Storage};
use nasbo_tuner::{Direction, Outcome, Param, Space, StrategyKind, Study, StudyConfig, TrialState};

fn space() -> Space {
    Space::new(vec![Param::float("x", 0.0, 1.0)]).unwrap()
}

fn config(heartbeat: Option<Duration>) -> StudyConfig {
    StudyConfig {
        strategy: StrategyKind::Random,
        heartbeat,
        ..StudyConfig::new(Direction::Minimize)
    }
}

/// Runs `f` on a thread; fails the test if it takes longer than `limit` (a hung run).
fn within<T: Send + 'static>(limit: Duration, f: impl FnOnce() -> T + Send + 'static) -> T {
    let (tx, rx) = mpsc::channel();
    std::thread::spawn(move || {
        let _ = tx.send(f());
    });
    rx.recv_timeout(limit).expect("the run hung")
}

fn panicking(storage: Option<Box<dyn Storage>>) {
    let (trials, warnings) = within(Duration::from_secs(60), move || {
        let cfg = config(Some(Duration::from_millis(200)));
        let mut study = match storage {
            Some(s) => Study::open(s, cfg).unwrap(),
            None => Study::new(space(), cfg).unwrap(),
        };
        let objective = |h: &TrialHandle| {
            if h.number() == 2 {
                panic!("boom in trial {}", h.number());
            }
            Outcome::value(h.get("x").and_then(|v| v.as_f64()).unwrap())
        };
        let mut warnings = Vec::new();
        let summary = run(
            &mut study,
            &objective,
            &RunConfig {
                parallel: 2,
                ..RunConfig::trials(6)
            },
            &mut |e| {
                if let Event::Warning(w) = e {
                    warnings.push(w)
                }
            },
        )
        .unwrap();
        assert_eq!(summary.finished, 6);
        (study.trials().to_vec(), warnings)
    });
    assert_eq!(trials.len(), 6);
    let t = &trials[2];
    assert_eq!(t.state, TrialState::Failed);
    assert!(
        t.error
            .as_deref()
            .unwrap()
            .contains("panicked: boom in trial 2"),
        "{:?}",
        t.error
    );
    assert_eq!(
        trials
            .iter()
            .filter(|t| t.state == TrialState::Complete)
            .count(),
        5,
        "{warnings:?}"
    );
}

#[test]
fn a_panicking_objective_is_a_failed_trial_not_a_hung_run() {
    panicking(None);
    let d = std::env::temp_dir().join(format!("nasbo-run-faults-{}", std::process::id()));
    std::fs::create_dir_all(&d).unwrap();
    let url = format!("sqlite:{}", d.join("p.db").display());
    panicking(Some(
        open_storage(&url, "p", Some((&space(), &[Direction::Minimize]))).unwrap(),
    ));
    std::fs::remove_dir_all(&d).ok();
}

/// Worker A runs trial 0 slowly. Meanwhile worker B finds it silent (its stored heartbeat
/// moved an hour back, as a long pause of A would leave it), requeues it, claims it and
/// completes it. A's next heartbeat finds its lease gone: A stops the trial, records nothing
/// for it and finishes its run; B's result stands.
fn lease_lost_mid_trial(url: &str, name: &str) {
    open_storage(url, name, Some((&space(), &[Direction::Minimize]))).unwrap();
    let hb = Duration::from_millis(100);
    let (url2, name2) = (url.to_string(), name.to_string());
    let (trials, warnings) = within(Duration::from_secs(60), move || {
        let mut a =
            Study::open(open_storage(&url2, &name2, None).unwrap(), config(Some(hb))).unwrap();
        let (url3, name3) = (url2.clone(), name2.clone());
        let objective = move |h: &TrialHandle| {
            if h.number() == 0 {
                let mut b =
                    Study::open(open_storage(&url3, &name3, None).unwrap(), config(Some(hb)))
                        .unwrap();
                steal(&url3, &name3, &mut b);
                for _ in 0..100 {
                    if h.stop_reason().is_some() {
                        return Outcome::value(99.0);
                    }
                    std::thread::sleep(Duration::from_millis(20));
                }
                return Outcome::value(98.0);
            }
            Outcome::value(h.get("x").and_then(|v| v.as_f64()).unwrap())
        };
        let mut warnings = Vec::new();
        run(&mut a, &objective, &RunConfig::trials(3), &mut |e| {
            if let Event::Warning(w) = e {
                warnings.push(w)
            }
        })
        .unwrap();
        (a.trials().to_vec(), warnings)
    });
    assert_eq!(trials[0].values, vec![0.5], "B's result stands: {trials:?}");
    assert!(
        warnings.iter().any(|w| w.contains("lease")),
        "A says its lease was lost: {warnings:?}"
    );
    assert!(trials.iter().all(|t| t.state == TrialState::Complete));
}

/// Makes trial 0 look silent (its heartbeat far in the past), requeues it from `b`, claims it
/// and completes it with 0.5.
fn steal(url: &str, name: &str, b: &mut Study) {
    let path = url.strip_prefix("sqlite:").unwrap();
    let c = rusqlite::Connection::open(path).unwrap();
    c.busy_timeout(Duration::from_secs(30)).unwrap();
    // A's heartbeat may land between the two statements: try again until it does not.
    for _ in 0..50 {
        c.execute(
            "UPDATE nasbo_trials SET heartbeat_at = heartbeat_at - 3600 WHERE number = 0 AND study_id = (SELECT id FROM nasbo_studies WHERE name = ?1)",
            [name],
        )
        .unwrap();
        if b.requeue_lost().unwrap() == vec![0] {
            break;
        }
    }
    let t = b.ask_trial().unwrap();
    assert_eq!(t.number, 0);
    b.tell(0, Outcome::value(0.5)).unwrap();
}

#[test]
fn a_worker_whose_lease_is_lost_mid_trial_stops_it_and_records_nothing() {
    let d = std::env::temp_dir().join(format!("nasbo-run-lease-{}", std::process::id()));
    std::fs::create_dir_all(&d).unwrap();
    lease_lost_mid_trial(&format!("sqlite:{}", d.join("l.db").display()), "l");
    std::fs::remove_dir_all(&d).ok();
}
