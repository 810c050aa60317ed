//! Workers that are slow, paused, skewed or racing, against real storages (an SQLite file, and
//! the PostgreSQL server named by `NASBO_TEST_POSTGRES`, skipped when it is not set), with real
//! faults: SIGSTOP/SIGCONT, a clock 5 minutes ahead (libfaketime, skipped with a message when
//! `faketime` is not installed; `.ci/run` installs it), eight processes racing for the last
//! trials, four processes importing one CSV at once, an `ask` never told, and the negative
//! values a shell loop passes to `tell`.

use std::collections::{HashMap, HashSet};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Output, Stdio};
use std::time::{Duration, Instant};

mod common;
use common::{csv_rows, nasbo};

fn unique(name: &str) -> String {
    nasbo::tuner::study::unique_study_name(name)
}

const SPACE: &str = common::XY_SPACE;

/// A space file and an objective script: `(x − 0.3)² + (y − 0.6)²` after `sleep` seconds; the
/// script logs `start TRIAL WORKER` and `end TRIAL WORKER` to `runs.log` (the worker is the
/// nasbo process that started it).
fn setup(dir: &Path, sleep: f64) -> (PathBuf, PathBuf) {
    let space = dir.join("space.toml");
    std::fs::write(&space, SPACE).unwrap();
    let script = dir.join("objective.sh");
    std::fs::write(
        &script,
        format!(
            "#!/bin/sh\necho \"start $NASBO_TRIAL $PPID\" >> {log}\nsleep {sleep}\n\
             echo \"end $NASBO_TRIAL $PPID\" >> {log}\n\
             awk -v x=\"$1\" -v y=\"$2\" 'BEGIN {{ printf \"%.17g\\n\", (x - 0.3) * (x - 0.3) + (y - 0.6) * (y - 0.6) }}'\n",
            log = dir.join("runs.log").display(),
        ),
    )
    .unwrap();
    (space, script)
}

/// `nasbo tune` on the study, its output in `dir/w{k}.csv`, stderr piped.
fn worker(
    prefix: &[&str],
    dir: &Path,
    k: usize,
    storage: &str,
    study: &str,
    extra: &[&str],
) -> Child {
    let mut c = match prefix.split_first() {
        Some((p, rest)) => {
            let mut c = Command::new(p);
            c.args(rest).arg(env!("CARGO_BIN_EXE_nasbo"));
            c
        }
        None => nasbo(),
    };
    c.args(["tune", "--space"])
        .arg(dir.join("space.toml"))
        .arg("--out")
        .arg(dir.join(format!("w{k}.csv")))
        .args(["--storage", storage, "--study", study])
        .args(extra)
        .args(["--", "sh"])
        .arg(dir.join("objective.sh"))
        .args(["{x}", "{y}"])
        .stdout(Stdio::null())
        .stderr(Stdio::piped());
    c.spawn().unwrap()
}

fn finish(c: Child) -> (bool, String) {
    let o = c.wait_with_output().unwrap();
    (
        o.status.success(),
        String::from_utf8_lossy(&o.stderr).into_owned(),
    )
}

fn run(args: &[&str]) -> Output {
    nasbo().args(args).output().unwrap()
}

fn export(storage: &str, study: &str, dir: &Path) -> Vec<HashMap<String, String>> {
    let out = dir.join("export.csv");
    let o = run(&[
        "export",
        "--storage",
        storage,
        "--study",
        study,
        "--out",
        out.to_str().unwrap(),
    ]);
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    csv_rows(&out)
}

/// Every row complete with the objective's value for its parameters, numbered 0..n.
fn check_rows(rows: &[HashMap<String, String>], n: usize) {
    assert_eq!(rows.len(), n, "exactly {n} trials: {rows:?}");
    let numbers: HashSet<usize> = rows.iter().map(|r| r["trial"].parse().unwrap()).collect();
    assert_eq!(numbers, (0..n).collect());
    for r in rows {
        assert_eq!(r["state"], "complete", "{r:?}");
        let x: f64 = r["param_x"].parse().unwrap();
        let y: f64 = r["param_y"].parse().unwrap();
        let v = (x - 0.3) * (x - 0.3) + (y - 0.6) * (y - 0.6);
        assert_eq!(r["value"].parse::<f64>().unwrap(), v, "{r:?}");
    }
}

/// `runs.log` as (event, trial, worker) triples.
fn runs(dir: &Path) -> Vec<(String, usize, String)> {
    std::fs::read_to_string(dir.join("runs.log"))
        .unwrap_or_default()
        .lines()
        .map(|l| {
            let mut p = l.split(' ');
            (
                p.next().unwrap().to_string(),
                p.next().unwrap().parse().unwrap(),
                p.next().unwrap().to_string(),
            )
        })
        .collect()
}

fn on_both(name: &str, test: fn(&str, &Path)) {
    common::on_both("faults", name, test)
}

fn signal(c: &Child, sig: i32) {
    unsafe {
        libc::kill(c.id() as i32, sig);
    }
}

fn wait_for(what: &str, limit: Duration, mut ready: impl FnMut() -> bool) {
    let t = Instant::now();
    while !ready() {
        assert!(t.elapsed() < limit, "timed out waiting for {what}");
        std::thread::sleep(Duration::from_millis(10));
    }
}

// ---------------------------------------------------------------------------------------

fn negative_values(storage: &str, dir: &Path) {
    let (space, _) = setup(dir, 0.0);
    let study = unique("neg");
    let o = run(&[
        "ask",
        "--storage",
        storage,
        "--study",
        &study,
        "--space",
        space.to_str().unwrap(),
    ]);
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    let o = run(&[
        "tell",
        "--storage",
        storage,
        "--study",
        &study,
        "--trial",
        "0",
        "--value",
        "-0.5",
        "--metric",
        "k=-1",
    ]);
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    let rows = export(storage, &study, dir);
    assert_eq!(rows[0]["value"], "-0.5");
    assert_eq!(rows[0]["metric_k"], "-1");
}

#[test]
fn tell_takes_negative_values() {
    on_both("negative", negative_values);
}

fn racing(storage: &str, dir: &Path) {
    setup(dir, 0.02);
    let study = unique("race");
    let args = [
        "--trials",
        "24",
        "--parallel",
        "2",
        "--strategy",
        "random",
        "--heartbeat",
        "5",
    ];
    let workers: Vec<Child> = (0..8)
        .map(|k| worker(&[], dir, k, storage, &study, &args))
        .collect();
    for w in workers {
        let (ok, err) = finish(w);
        assert!(ok, "{err}");
    }
    check_rows(&export(storage, &study, dir), 24);
    let started = runs(dir).iter().filter(|r| r.0 == "start").count();
    assert_eq!(started, 24, "each trial ran once");
}

#[test]
fn eight_workers_racing_for_the_last_trials_make_exactly_the_trials() {
    on_both("race", racing);
}

fn resuming_together(storage: &str, dir: &Path) {
    setup(dir, 0.0);
    // An earlier run's CSV of 6 trials, in a study of its own.
    let old = dir.join("old.csv");
    let o = nasbo()
        .args(["tune", "--space"])
        .arg(dir.join("space.toml"))
        .args(["--trials", "6", "--strategy", "random", "--out"])
        .arg(&old)
        .args(["--", "sh"])
        .arg(dir.join("objective.sh"))
        .args(["{x}", "{y}"])
        .output()
        .unwrap();
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    let earlier = csv_rows(&old);
    let study = unique("resume");
    let old_arg = old.to_str().unwrap();
    let args = [
        "--resume",
        old_arg,
        "--trials",
        "10",
        "--strategy",
        "random",
        "--heartbeat",
        "5",
    ];
    let workers: Vec<Child> = (0..4)
        .map(|k| worker(&[], dir, k, storage, &study, &args))
        .collect();
    for w in workers {
        let (ok, err) = finish(w);
        assert!(ok, "{err}");
    }
    let rows = export(storage, &study, dir);
    check_rows(&rows, 10);
    for (a, b) in earlier.iter().zip(&rows) {
        assert_eq!(
            (&a["param_x"], &a["value"]),
            (&b["param_x"], &b["value"]),
            "the earlier trials first, once"
        );
    }
}

#[test]
fn four_workers_resuming_from_one_csv_import_it_once() {
    on_both("resume", resuming_together);
}

fn paused(storage: &str, dir: &Path) {
    setup(dir, 1.0);
    let study = unique("pause");
    let args = [
        "--trials",
        "8",
        "--strategy",
        "random",
        "--heartbeat",
        "0.2",
    ];
    let a = worker(&[], dir, 0, storage, &study, &args);
    let b = worker(&[], dir, 1, storage, &study, &args);
    let a_pid = a.id().to_string();
    // Pause A while its command runs, for 15 lease periods (4 × 0.2 s each), then resume it.
    wait_for("worker A's first trial", Duration::from_secs(30), || {
        runs(dir).iter().any(|r| r.0 == "start" && r.2 == a_pid)
    });
    signal(&a, libc::SIGSTOP);
    std::thread::sleep(Duration::from_secs(3));
    signal(&a, libc::SIGCONT);
    let (ok_a, err_a) = finish(a);
    let (ok_b, err_b) = finish(b);
    assert!(ok_a, "the paused worker aborted: {err_a}");
    assert!(ok_b, "{err_b}");
    let rows = export(storage, &study, dir);
    check_rows(&rows, 8);
    assert!(
        err_a.contains("lease"),
        "the paused worker says its lease was lost: {err_a}"
    );
}

#[test]
fn a_worker_paused_past_its_lease_loses_and_aborts_nothing() {
    on_both("pause", paused);
}

fn skewed(storage: &str, dir: &Path) {
    setup(dir, 0.8);
    let study = unique("skew");
    let args = [
        "--trials",
        "10",
        "--strategy",
        "random",
        "--heartbeat",
        "0.3",
    ];
    let a = worker(&[], dir, 0, storage, &study, &args);
    let b = worker(&["faketime", "-f", "+5m"], dir, 1, storage, &study, &args);
    let (ok_a, err_a) = finish(a);
    let (ok_b, err_b) = finish(b);
    assert!(ok_a, "{err_a}");
    assert!(ok_b, "{err_b}");
    let rows = export(storage, &study, dir);
    check_rows(&rows, 10);
    for r in &rows {
        assert!(
            !r["error"].contains("lost"),
            "a live trial was requeued: {r:?}"
        );
    }
    let starts = runs(dir).iter().filter(|r| r.0 == "start").count();
    assert_eq!(starts, 10, "each trial ran once: {:?}", runs(dir));
    assert!(
        !err_a.contains("lost") && !err_b.contains("lost"),
        "{err_a}\n{err_b}"
    );
}

#[test]
fn a_worker_five_minutes_ahead_requeues_nobodys_live_trials() {
    if Command::new("faketime")
        .args(["-f", "+5m", "true"])
        .status()
        .map_or(true, |s| !s.success())
    {
        eprintln!("skipped: `faketime` (Debian's faketime package) is not installed");
        return;
    }
    on_both("skew", skewed);
}

fn ask_json(o: &Output) -> serde_json::Value {
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    serde_json::from_str(String::from_utf8_lossy(&o.stdout).trim()).unwrap()
}

fn untold_ask(storage: &str, dir: &Path) {
    let (space, _) = setup(dir, 0.0);
    let study = unique("lease");
    let sp = space.to_str().unwrap();
    let base = ["--storage", storage, "--study", &study];
    let ask = |extra: &[&str]| {
        let mut a = vec!["ask"];
        a.extend(base);
        a.extend(extra);
        ask_json(&run(&a))
    };
    let tell = |extra: &[&str]| {
        let mut a = vec!["tell"];
        a.extend(base);
        a.extend(extra);
        run(&a)
    };
    let first = ask(&["--space", sp, "--lease", "1"]);
    assert_eq!(first["trial"], 0);
    let l1 = first["lease"]
        .as_u64()
        .expect("ask prints its lease")
        .to_string();
    // Within the lease: a second ask gets a new trial.
    let second = ask(&["--lease", "60"]);
    assert_eq!(second["trial"], 1);
    std::thread::sleep(Duration::from_millis(1600));
    // Past it: trial 0 goes back to the queue and the next ask gets it again.
    let again = ask(&["--lease", "60"]);
    assert_eq!(again["trial"], 0, "{again}");
    let l2 = again["lease"].as_u64().unwrap().to_string();
    assert_ne!(l1, l2);
    let stale = tell(&["--trial", "0", "--lease", &l1, "--value", "1"]);
    let err = String::from_utf8_lossy(&stale.stderr);
    assert!(!stale.status.success(), "a stale lease's tell was accepted");
    assert!(err.contains("lease"), "{err}");
    let o = tell(&["--trial", "0", "--lease", &l2, "--value", "2"]);
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    // Put back by hand: trial 1 is asked again.
    let o = tell(&["--trial", "1", "--requeue"]);
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    let next = ask(&[]);
    assert_eq!(next["trial"], 1, "{next}");
    let rows = export(storage, &study, dir);
    assert_eq!(rows.len(), 2);
    assert_eq!(
        (rows[0]["state"].as_str(), rows[0]["value"].as_str()),
        ("complete", "2")
    );
    assert_eq!(rows[1]["state"], "running");
}

#[test]
fn an_untold_ask_is_queued_again_after_its_lease() {
    on_both("lease", untold_ask);
}
