//! Every storage behaves the same: numbering, reservations under concurrency, results only on
//! pending trials, intermediate values, heartbeats and lost workers, imports, reopening, and
//! clear errors for bad input that leave the study unchanged. SQLite on real files;
//! PostgreSQL on the real server named by `NASBO_TEST_POSTGRES` (`.ci/run` starts one),
//! skipped with a message when it is not set.

use std::path::PathBuf;
use std::time::Duration;

use nasbo_tuner::study::{
    list_studies, open_storage, CsvStorage, Finish, Import, Imported, Lease, MemoryStorage,
    Request, Reservation, Storage, StudyRecord,
};
use nasbo_tuner::{Direction, Param, Source, Space, Trial, TrialState, TunerError, Value};

fn space() -> Space {
    Space::new(vec![
        Param::float("x", 0.0, 1.0),
        Param::categorical("c", &["a", "b"]),
    ])
    .unwrap()
}

fn tmp(name: &str) -> PathBuf {
    let d = std::env::temp_dir().join(format!("nasbo-storage-{name}-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&d);
    std::fs::create_dir_all(&d).unwrap();
    d
}

/// The PostgreSQL URL of the test server, or `None` (and a note) when there is none.
fn postgres() -> Option<String> {
    nasbo_tuner::study::test_postgres_url()
}

fn unique(name: &str) -> String {
    nasbo_tuner::study::unique_study_name(name)
}

fn new_trial(x: f64) -> Reservation {
    Reservation::New {
        params: vec![Some(Value::Float(x)), Some(Value::Cat("a".into()))],
        source: Source::Manual,
        suggest_s: 0.01,
        state: Some(format!("{{\"x\": {x}}}")),
    }
}

/// Reserves with heartbeat interval `hb` (no limit): the trial and its lease.
fn reserve(
    s: &mut Box<dyn Storage>,
    hb: Option<Duration>,
    choose: &mut dyn FnMut(&[Trial]) -> Result<Reservation, TunerError>,
) -> Result<(Trial, Lease), TunerError> {
    let request = Request {
        heartbeat: hb,
        limit: None,
    };
    s.reserve(&request, choose)
        .map(|r| r.expect("no limit, so a trial"))
}

/// Completes trial `number` by hand (no lease).
fn complete(number: usize, v: f64) -> Finish {
    Finish {
        number,
        token: None,
        state: TrialState::Complete,
        values: vec![v],
        metrics: vec![("m".into(), 2.0 * v)],
        error: None,
        finished_at: Some(std::time::SystemTime::now()),
    }
}

/// The behaviour every storage shares; `reopen` gives a fresh handle on the same study
/// (`None` for memory, which has nothing to reopen).
fn conformance(mut s: Box<dyn Storage>, reopen: &dyn Fn() -> Option<Box<dyn Storage>>) {
    // Another worker's handle (the same one for memory): only it takes this one's trials for
    // lost.
    let mut other = reopen();
    assert_eq!(s.study().directions, vec![Direction::Minimize]);
    assert!(s.trials().unwrap().is_empty());
    // Numbering from 0; the chooser sees what is stored.
    for i in 0..3 {
        let (t, lease) = reserve(&mut s, Some(Duration::from_secs(30)), &mut |trials| {
            assert_eq!(trials.len(), i);
            Ok(new_trial(0.1 * i as f64))
        })
        .unwrap();
        assert_eq!((t.number, t.state), (i, TrialState::Running));
        assert_eq!(
            lease,
            Lease {
                number: i,
                token: 1
            }
        );
        assert_eq!(
            t.strategy_state.as_deref(),
            Some(format!("{{\"x\": {}}}", 0.1 * i as f64).as_str())
        );
    }
    // An error of the chooser stores nothing.
    let e = reserve(&mut s, None, &mut |_| {
        Err(TunerError::SpaceFile("no".into()))
    });
    assert!(e.is_err());
    assert_eq!(s.trials().unwrap().len(), 3);
    // Results and intermediate values only on pending trials.
    s.report(0, None, 1, 0.5).unwrap();
    s.report(0, Some(1), 2, 0.25).unwrap();
    s.finish(&complete(0, 0.25)).unwrap();
    let again = s.finish(&complete(0, 9.0)).unwrap_err().to_string();
    assert!(again.contains("already finished (complete)"), "{again}");
    assert!(s
        .finish(&complete(7, 1.0))
        .unwrap_err()
        .to_string()
        .contains("no such trial"));
    assert!(
        s.report(0, None, 3, 1.0).is_err(),
        "a finished trial takes no report"
    );
    // Interrupted: back to the queue, then claimed with its parameters.
    s.finish(&Finish {
        number: 1,
        token: Some(1),
        state: TrialState::Queued,
        values: vec![],
        metrics: vec![],
        error: Some("interrupted".into()),
        finished_at: None,
    })
    .unwrap();
    let (claimed, lease) = reserve(&mut s, None, &mut |trials| {
        assert_eq!(trials[1].state, TrialState::Queued);
        Ok(Reservation::Claim(1))
    })
    .unwrap();
    assert_eq!(claimed.number, 1);
    assert_eq!(lease.token, 2, "a second claim, a larger token");
    assert_eq!(claimed.params[0], Some(Value::Float(0.1)));
    assert!(
        reserve(&mut s, None, &mut |_| Ok(Reservation::Claim(0))).is_err(),
        "only queued trials are claimed"
    );
    s.finish(&complete(1, 0.5)).unwrap();
    // A lost worker: trial 2's heartbeat interval was 30 s and it is fresh: not lost.
    assert!(s.requeue_lost().unwrap().is_empty());
    let (t3, _) = reserve(&mut s, Some(Duration::from_millis(20)), &mut |_| {
        Ok(new_trial(0.9))
    })
    .unwrap();
    std::thread::sleep(Duration::from_millis(150));
    match other.as_mut() {
        Some(o) => {
            assert!(s.requeue_lost().unwrap().is_empty(), "never its own trials");
            assert_eq!(o.requeue_lost().unwrap(), vec![t3.number]);
        }
        None => assert_eq!(s.requeue_lost().unwrap(), vec![t3.number]),
    }
    let trials = s.trials().unwrap();
    assert_eq!(trials[3].state, TrialState::Queued);
    assert!(trials[3].error.as_deref().unwrap().contains("worker lost"));
    // Heartbeats keep a trial alive: 1.5 s in all, past the 4 × 300 ms after which a silent
    // trial is lost, with a heartbeat every 150 ms (a margin of about 1 s for a loaded machine).
    let (_, lease) = reserve(&mut s, Some(Duration::from_millis(300)), &mut |_| {
        Ok(Reservation::Claim(3))
    })
    .unwrap();
    for _ in 0..10 {
        std::thread::sleep(Duration::from_millis(150));
        assert!(s.heartbeat(&[lease]).unwrap().is_empty(), "still held");
        let o = other.as_mut().unwrap_or(&mut s);
        assert!(o.requeue_lost().unwrap().is_empty());
    }
    s.finish(&complete(3, 0.75)).unwrap();
    // Import: renumbered after the existing trials, intermediate values kept.
    let mut old = Trial::new(
        99,
        vec![Some(Value::Float(0.33)), Some(Value::Cat("b".into()))],
    );
    old.state = TrialState::Complete;
    old.values = vec![0.11];
    old.source = Source::WarmStart;
    old.intermediate = vec![(1, 0.2), (2, 0.11)];
    let import = Import {
        trials: vec![old],
        key: Some("warm-start:abc".into()),
        into_empty: false,
    };
    assert_eq!(s.import(import.clone()).unwrap(), Imported::Added(vec![4]));
    assert_eq!(s.import(import.clone()).unwrap(), Imported::Already, "once");
    let into_empty = Import {
        key: Some("resume:def".into()),
        into_empty: true,
        ..import
    };
    let e = s.import(into_empty).unwrap_err();
    assert!(matches!(e, TunerError::NotEmpty { trials: 5, .. }), "{e}");
    let trials = s.trials().unwrap();
    assert_eq!(trials.len(), 5);
    assert_eq!(trials[0].intermediate, vec![(1, 0.5), (2, 0.25)]);
    assert_eq!(trials[0].values, vec![0.25]);
    assert_eq!(trials[0].metrics, vec![("m".to_string(), 0.5)]);
    assert_eq!(trials[4].source, Source::WarmStart);
    assert_eq!(trials[4].intermediate, vec![(1, 0.2), (2, 0.11)]);
    // Reopened, everything is there, exactly.
    if let Some(mut r) = reopen() {
        let back = r.trials().unwrap();
        assert_eq!(back.len(), trials.len());
        for (a, b) in back.iter().zip(&trials) {
            assert_eq!(
                (
                    &a.state,
                    &a.params,
                    &a.values,
                    &a.metrics,
                    &a.source,
                    &a.intermediate,
                    &a.error,
                    &a.strategy_state
                ),
                (
                    &b.state,
                    &b.params,
                    &b.values,
                    &b.metrics,
                    &b.source,
                    &b.intermediate,
                    &b.error,
                    &b.strategy_state
                )
            );
            assert_eq!(a.suggest_s, b.suggest_s);
        }
    }
}

fn record(name: &str) -> StudyRecord {
    StudyRecord {
        name: name.into(),
        space: space(),
        directions: vec![Direction::Minimize],
    }
}

#[test]
fn memory_and_csv_storages_conform() {
    conformance(Box::new(MemoryStorage::new(record("m"))), &|| None);
    let d = tmp("csv");
    let path = d.join("t.csv");
    conformance(
        Box::new(CsvStorage::open(record("c"), &path).unwrap()),
        &|| None,
    );
    std::fs::remove_dir_all(&d).ok();
}

#[test]
fn sqlite_storage_conforms() {
    let d = tmp("sqlite");
    let url = format!("sqlite:{}", d.join("s.db").display());
    let create = || open_storage(&url, "s", Some((&space(), &[Direction::Minimize]))).unwrap();
    conformance(create(), &|| Some(open_storage(&url, "s", None).unwrap()));
    std::fs::remove_dir_all(&d).ok();
}

#[test]
fn postgres_storage_conforms() {
    let Some(url) = postgres() else { return };
    let name = unique("conform");
    let create = || open_storage(&url, &name, Some((&space(), &[Direction::Minimize]))).unwrap();
    conformance(create(), &|| Some(open_storage(&url, &name, None).unwrap()));
}

/// Workers (threads with their own connections) reserving at once get distinct, gapless
/// numbers, and each sees the others' reservations.
fn concurrent(url: &str, name: &str) {
    open_storage(url, name, Some((&space(), &[Direction::Minimize]))).unwrap();
    let handles: Vec<_> = (0..4)
        .map(|w| {
            let (url, name) = (url.to_string(), name.to_string());
            std::thread::spawn(move || {
                let mut s = open_storage(&url, &name, None).unwrap();
                let mut got = Vec::new();
                for i in 0..15 {
                    let (t, _) = reserve(&mut s, Some(Duration::from_secs(30)), &mut |trials| {
                        // Everything reserved so far is visible, numbered without gaps.
                        assert!(trials.iter().enumerate().all(|(k, t)| t.number == k));
                        Ok(new_trial((w * 15 + i) as f64 / 60.0))
                    })
                    .unwrap();
                    s.finish(&complete(t.number, t.number as f64)).unwrap();
                    got.push(t.number);
                }
                got
            })
        })
        .collect();
    let mut all: Vec<usize> = handles
        .into_iter()
        .flat_map(|h| h.join().unwrap())
        .collect();
    all.sort();
    assert_eq!(all, (0..60).collect::<Vec<_>>());
    let mut s = open_storage(url, name, None).unwrap();
    let trials = s.trials().unwrap();
    assert_eq!(trials.len(), 60);
    assert!(trials
        .iter()
        .all(|t| t.state == TrialState::Complete && t.values == vec![t.number as f64]));
    // Racing for the last 20 under a limit of 80: exactly 80.
    let handles: Vec<_> = (0..4)
        .map(|_| {
            let (url, name) = (url.to_string(), name.to_string());
            std::thread::spawn(move || {
                let mut s = open_storage(&url, &name, None).unwrap();
                let request = Request {
                    heartbeat: None,
                    limit: Some(80),
                };
                let mut got = 0;
                while let Some((t, _)) = s.reserve(&request, &mut |_| Ok(new_trial(0.5))).unwrap() {
                    s.finish(&complete(t.number, 1.0)).unwrap();
                    got += 1;
                }
                got
            })
        })
        .collect();
    let made: usize = handles.into_iter().map(|h| h.join().unwrap()).sum();
    assert_eq!(made, 20);
    assert_eq!(s.trials().unwrap().len(), 80);
}

#[test]
fn concurrent_reservations_get_distinct_numbers() {
    let d = tmp("concurrent");
    concurrent(&format!("sqlite:{}", d.join("c.db").display()), "c");
    std::fs::remove_dir_all(&d).ok();
    if let Some(url) = postgres() {
        concurrent(&url, &unique("concurrent"));
    }
}

/// Opening with bad input: a clear error that names the cause, and the stored study as it was.
fn bad_opens(url: &str, name: &str) {
    let mut s = open_storage(url, name, Some((&space(), &[Direction::Minimize]))).unwrap();
    reserve(&mut s, None, &mut |_| Ok(new_trial(0.5))).unwrap();
    let before = s.trials().unwrap();
    drop(s);
    let other = Space::new(vec![
        Param::float("x", 0.0, 2.0),
        Param::categorical("c", &["a", "b"]),
    ])
    .unwrap();
    type Opened = Result<Box<dyn Storage>, TunerError>;
    let cases: Vec<(Opened, &str)> = vec![
        (
            open_storage(url, name, Some((&other, &[Direction::Minimize]))),
            "parameter `x` is defined differently",
        ),
        (
            open_storage(url, name, Some((&space(), &[Direction::Maximize]))),
            "stored with direction minimize, not maximize",
        ),
        (
            open_storage(url, "no-such-study", None),
            "has no study `no-such-study`",
        ),
    ];
    for (r, msg) in cases {
        let e = r.err().expect("refused").to_string();
        assert!(e.contains(msg), "expected `{msg}` in `{e}`");
    }
    let after = open_storage(url, name, None).unwrap().trials().unwrap();
    assert_eq!(after, before);
    let names: Vec<String> = list_studies(url)
        .unwrap()
        .into_iter()
        .map(|s| s.name)
        .collect();
    assert!(names.contains(&name.to_string()), "{names:?}");
}

#[test]
fn bad_input_is_refused_clearly_and_changes_nothing() {
    let d = tmp("bad");
    bad_opens(&format!("sqlite:{}", d.join("b.db").display()), "b");
    // Files that are not nasbo studies.
    let junk = d.join("junk.db");
    std::fs::write(&junk, b"this is not a database, just some text.............................................................").unwrap();
    let e = open_storage(
        &format!("sqlite:{}", junk.display()),
        "s",
        Some((&space(), &[Direction::Minimize])),
    )
    .err()
    .unwrap()
    .to_string();
    assert!(e.contains("not an SQLite database"), "{e}");
    let other = d.join("other.db");
    {
        let c = rusqlite_free_table(&other);
        assert!(c, "made a foreign SQLite file");
    }
    let e = open_storage(
        &format!("sqlite:{}", other.display()),
        "s",
        Some((&space(), &[Direction::Minimize])),
    )
    .err()
    .unwrap()
    .to_string();
    assert!(
        e.contains("not a nasbo study database (its tables: people)"),
        "{e}"
    );
    let missing = d.join("missing.db");
    let e = open_storage(&format!("sqlite:{}", missing.display()), "s", None)
        .err()
        .unwrap()
        .to_string();
    assert!(e.contains("no such file"), "{e}");
    assert!(!missing.exists(), "opening without a space creates nothing");
    for (url, msg) in [
        ("mysql://u@h/db", "unknown kind of storage"),
        (
            "postgres://u:secret@127.0.0.1:notaport/db",
            "malformed PostgreSQL URL",
        ),
    ] {
        let e = open_storage(url, "s", None).err().unwrap().to_string();
        assert!(e.contains(msg) && !e.contains("secret"), "{url}: {e}");
    }
    // A server that does not answer: an error within seconds, with the password hidden.
    let started = std::time::Instant::now();
    let e = open_storage("postgres://nasbo:secret@127.0.0.1:1/db", "s", None)
        .err()
        .unwrap()
        .to_string();
    assert!(
        started.elapsed() < Duration::from_secs(10),
        "{:?}",
        started.elapsed()
    );
    assert!(e.contains("***") && !e.contains("secret"), "{e}");
    std::fs::remove_dir_all(&d).ok();
    if let Some(url) = postgres() {
        bad_opens(&url, &unique("bad"));
        // A wrong password names the cause.
        let wrong = match url.rfind('@') {
            Some(at) => {
                let s = url.find("://").unwrap() + 3;
                let user = url[s..at].split(':').next().unwrap();
                format!("{}{user}:wrong-password{}", &url[..s], &url[at..])
            }
            None => url.clone(),
        };
        let e = open_storage(&wrong, "s", None).err().unwrap().to_string();
        assert!(e.contains("password authentication failed"), "{e}");
        assert!(!e.contains("wrong-password"), "{e}");
    }
}

/// Writes an SQLite file with a table of its own (not a nasbo study).
fn rusqlite_free_table(path: &std::path::Path) -> bool {
    let c = rusqlite::Connection::open(path).unwrap();
    c.execute_batch("CREATE TABLE people (name TEXT); INSERT INTO people VALUES ('ada');")
        .is_ok()
}

/// Asserts `e` is the lease-lost error of `lease`.
fn lease_lost(e: TunerError, lease: Lease) {
    assert!(
        matches!(e, TunerError::LeaseLost { trial, token, .. } if trial == lease.number && token == lease.token),
        "{e}"
    );
}

/// Two workers on one study (each its own handle). A's heartbeats stop past four intervals
/// (a pause); B takes the trial for lost. Not claimed yet, A's next heartbeat takes it back
/// and nothing is lost. Lost again and claimed by B, every write under A's lease (finish,
/// report, interrupt) is refused with `LeaseLost` and changes nothing, A's heartbeat says the
/// lease is gone, and B's result stands. A trial its owner gave back (interrupted) is not taken
/// again by a late heartbeat.
fn fencing(open: &dyn Fn() -> Box<dyn Storage>) {
    let (mut a, mut b) = (open(), open());
    let hb = Some(Duration::from_millis(50));
    let (t, la) = reserve(&mut a, hb, &mut |_| Ok(new_trial(0.2))).unwrap();
    let n = t.number;
    a.report(n, Some(la.token), 1, 0.9).unwrap();
    std::thread::sleep(Duration::from_millis(400));
    assert!(a.requeue_lost().unwrap().is_empty(), "never its own trial");
    assert_eq!(b.requeue_lost().unwrap(), vec![n]);
    assert!(a.heartbeat(&[la]).unwrap().is_empty(), "taken back");
    assert_eq!(b.trials().unwrap()[n].state, TrialState::Running);
    a.report(n, Some(la.token), 2, 0.8).unwrap();
    std::thread::sleep(Duration::from_millis(400));
    assert_eq!(b.requeue_lost().unwrap(), vec![n]);
    let (_, lb) = reserve(&mut b, hb, &mut |trials| {
        assert_eq!(trials[n].state, TrialState::Queued);
        Ok(Reservation::Claim(n))
    })
    .unwrap();
    assert!(lb.token > la.token);
    let before = b.trials().unwrap();
    let stale = |state: TrialState, values: Vec<f64>| Finish {
        number: n,
        token: Some(la.token),
        state,
        values,
        metrics: vec![],
        error: None,
        finished_at: None,
    };
    lease_lost(
        a.finish(&stale(TrialState::Complete, vec![0.5]))
            .unwrap_err(),
        la,
    );
    lease_lost(
        a.finish(&stale(TrialState::Queued, vec![])).unwrap_err(),
        la,
    );
    lease_lost(
        a.finish(&stale(TrialState::Failed, vec![])).unwrap_err(),
        la,
    );
    lease_lost(a.report(n, Some(la.token), 3, 0.1).unwrap_err(), la);
    assert_eq!(a.heartbeat(&[la]).unwrap(), vec![la]);
    assert_eq!(
        b.trials().unwrap(),
        before,
        "the stale worker changed nothing"
    );
    b.report(n, Some(lb.token), 1, 0.4).unwrap();
    b.finish(&Finish {
        token: Some(lb.token),
        ..complete(n, 0.25)
    })
    .unwrap();
    lease_lost(
        a.finish(&stale(TrialState::Complete, vec![0.5]))
            .unwrap_err(),
        la,
    );
    let after = a.trials().unwrap();
    assert_eq!(after[n].state, TrialState::Complete);
    assert_eq!(after[n].values, vec![0.25]);
    assert_eq!(after[n].intermediate, vec![(1, 0.4)]);
    // Given back by its owner: a late heartbeat does not take it again.
    let (t2, l2) = reserve(&mut a, hb, &mut |_| Ok(new_trial(0.3))).unwrap();
    a.finish(&Finish {
        number: t2.number,
        token: Some(l2.token),
        error: Some("interrupted".into()),
        ..stale(TrialState::Queued, vec![])
    })
    .unwrap();
    assert_eq!(a.heartbeat(&[l2]).unwrap(), vec![l2]);
    assert_eq!(a.trials().unwrap()[t2.number].state, TrialState::Queued);
}

#[test]
fn stale_owners_are_fenced_on_sqlite_and_postgres() {
    let d = tmp("fence");
    let url = format!("sqlite:{}", d.join("f.db").display());
    open_storage(&url, "f", Some((&space(), &[Direction::Minimize]))).unwrap();
    fencing(&|| open_storage(&url, "f", None).unwrap());
    std::fs::remove_dir_all(&d).ok();
    if let Some(url) = postgres() {
        let name = unique("fence");
        open_storage(&url, &name, Some((&space(), &[Direction::Minimize]))).unwrap();
        fencing(&|| open_storage(&url, &name, None).unwrap());
    }
}

/// The limit: no new trial at it (warm-start trials not counted), a queued trial still
/// claimed. Values that are not finite are refused at the boundary and the study stays
/// readable and unchanged.
fn limits_and_bad_values(mut s: Box<dyn Storage>) {
    let at = |limit| Request {
        heartbeat: None,
        limit: Some(limit),
    };
    for _ in 0..2 {
        assert!(s
            .reserve(&at(2), &mut |_| Ok(new_trial(0.5)))
            .unwrap()
            .is_some());
    }
    assert!(s
        .reserve(&at(2), &mut |_| Ok(new_trial(0.5)))
        .unwrap()
        .is_none());
    assert_eq!(s.trials().unwrap().len(), 2);
    s.finish(&Finish {
        state: TrialState::Queued,
        values: vec![],
        error: Some("interrupted".into()),
        finished_at: None,
        ..complete(1, 0.0)
    })
    .unwrap();
    let (t, _) = s
        .reserve(&at(2), &mut |_| Ok(Reservation::Claim(1)))
        .unwrap()
        .unwrap();
    assert_eq!(t.number, 1);
    let mut warm = Trial::new(
        0,
        vec![Some(Value::Float(0.7)), Some(Value::Cat("a".into()))],
    );
    warm.state = TrialState::Complete;
    warm.values = vec![0.7];
    warm.source = Source::WarmStart;
    s.import(Import {
        trials: vec![warm.clone()],
        ..Import::default()
    })
    .unwrap();
    assert!(s
        .reserve(&at(3), &mut |_| Ok(new_trial(0.1)))
        .unwrap()
        .is_some());
    assert!(s
        .reserve(&at(3), &mut |_| Ok(new_trial(0.1)))
        .unwrap()
        .is_none());
    let before = s.trials().unwrap();
    for v in [f64::NAN, f64::INFINITY] {
        assert!(s.finish(&complete(0, v)).is_err());
        let mut f = complete(0, 1.0);
        f.metrics = vec![("m".into(), v)];
        assert!(s.finish(&f).is_err());
        assert!(s.report(0, None, 1, v).is_err());
        let mut bad = warm.clone();
        bad.values = vec![v];
        assert!(s
            .import(Import {
                trials: vec![bad],
                ..Import::default()
            })
            .is_err());
    }
    assert_eq!(
        s.trials().unwrap(),
        before,
        "nothing stored, still readable"
    );
}

#[test]
fn every_storage_keeps_the_limit_and_refuses_values_that_are_not_finite() {
    limits_and_bad_values(Box::new(MemoryStorage::new(record("m"))));
    let d = tmp("limits");
    limits_and_bad_values(Box::new(
        CsvStorage::open(record("c"), &d.join("c.csv")).unwrap(),
    ));
    let url = format!("sqlite:{}", d.join("l.db").display());
    limits_and_bad_values(
        open_storage(&url, "l", Some((&space(), &[Direction::Minimize]))).unwrap(),
    );
    std::fs::remove_dir_all(&d).ok();
    if let Some(url) = postgres() {
        let name = unique("limits");
        limits_and_bad_values(
            open_storage(&url, &name, Some((&space(), &[Direction::Minimize]))).unwrap(),
        );
    }
}

/// The CSV export from several threads at once (one process): each write is whole, none
/// collides with another's temporary file, and none is left behind; a write into a folder
/// that does not exist fails and leaves nothing.
#[test]
fn atomic_csv_writes_from_threads_do_not_collide_or_leave_files() {
    let d = tmp("atomic");
    let path = d.join("t.csv");
    let trials: Vec<Trial> = (0..50)
        .map(|i| {
            let mut t = Trial::new(
                i,
                vec![Some(Value::Float(0.5)), Some(Value::Cat("a".into()))],
            );
            t.state = TrialState::Complete;
            t.values = vec![i as f64];
            t
        })
        .collect();
    std::thread::scope(|s| {
        for k in 0..4 {
            let (path, trials) = (&path, &trials);
            s.spawn(move || {
                for _ in 0..25 {
                    nasbo_tuner::study::csv::write_atomic(
                        &space(),
                        &[Direction::Minimize],
                        &trials[..40 + k],
                        path,
                    )
                    .unwrap();
                }
            });
        }
    });
    let text = std::fs::read_to_string(&path).unwrap();
    let rows = text.lines().count() - 1;
    assert!((40..44).contains(&rows), "{rows} rows");
    let left: Vec<_> = std::fs::read_dir(&d)
        .unwrap()
        .map(|e| e.unwrap().file_name())
        .collect();
    assert_eq!(left, vec![std::ffi::OsString::from("t.csv")], "{left:?}");
    let missing = d.join("no-such-folder").join("t.csv");
    assert!(nasbo_tuner::study::csv::write_atomic(
        &space(),
        &[Direction::Minimize],
        &trials,
        &missing
    )
    .is_err());
    std::fs::remove_dir_all(&d).ok();
}
