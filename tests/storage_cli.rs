//! End-to-end storage: a study whose worker is killed with SIGKILL five times (once during a
//! tell) ends with exactly its trials, each once with its value; four worker processes share
//! one study on SQLite and on PostgreSQL; ask/tell/export/studies from the shell; bad input
//! refused with a clear message and the stored study unchanged. PostgreSQL runs against the
//! server named by `NASBO_TEST_POSTGRES` (`.ci/run` starts one), skipped when it is not set.

use std::collections::{HashMap, HashSet};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Output, Stdio};
use std::time::{Duration, Instant};

mod common;
use common::{csv_rows as read_csv, nasbo};

fn workdir(name: &str) -> PathBuf {
    common::workdir("store", name)
}

fn postgres() -> Option<String> {
    nasbo::tuner::study::test_postgres_url()
}

fn unique(name: &str) -> String {
    nasbo::tuner::study::unique_study_name(name)
}

const SPACE: &str = common::XY_SPACE;

/// `(x − 0.3)² + (y − 0.6)²` after `sleep`; logs `trial pid x y` to `evaluated.log` and touches
/// `finishing` just before printing the value.
fn setup(dir: &Path, sleep: f64) -> (PathBuf, PathBuf) {
    let space = dir.join("space.toml");
    std::fs::write(&space, SPACE).unwrap();
    let script = dir.join("objective.sh");
    std::fs::write(
        &script,
        format!(
            "#!/bin/sh\nsleep {sleep}\necho \"$NASBO_TRIAL $PPID $1 $2\" >> {log}\ntouch {fin}\n\
             awk -v x=\"$1\" -v y=\"$2\" 'BEGIN {{ printf \"%.17g\\n\", (x - 0.3) * (x - 0.3) + (y - 0.6) * (y - 0.6) }}'\n",
            log = dir.join("evaluated.log").display(),
            fin = dir.join("finishing").display(),
        ),
    )
    .unwrap();
    (space, script)
}

fn value_of(row: &HashMap<String, String>) -> f64 {
    let x: f64 = row["param_x"].parse().unwrap();
    let y: f64 = row["param_y"].parse().unwrap();
    (x - 0.3) * (x - 0.3) + (y - 0.6) * (y - 0.6)
}

fn tune(space: &Path, script: &Path, out: &Path, extra: &[&str]) -> Command {
    let mut c = nasbo();
    c.args(["tune", "--space"])
        .arg(space)
        .arg("--out")
        .arg(out)
        .args(extra)
        .args(["--", "sh"])
        .arg(script)
        .args(["{x}", "{y}"]);
    c
}

fn kill(child: &mut Child) {
    unsafe {
        libc::kill(child.id() as i32, libc::SIGKILL);
    }
    let _ = child.wait();
}

#[test]
fn a_worker_killed_five_times_loses_and_duplicates_nothing() {
    let dir = workdir("crash");
    let (space, script) = setup(&dir, 0.02);
    let out = dir.join("t.csv");
    let args = ["--trials", "40", "--seed", "1", "--heartbeat", "0.2"];
    // Pseudo-random moments from a fixed seed; the third and fifth kills land right after a
    // command finished, while nasbo reads its output and tells the result.
    let mut state: u64 = 0x9E37_79B9_7F4A_7C15;
    for k in 0..5 {
        let _ = std::fs::remove_file(dir.join("finishing"));
        let mut child = tune(&space, &script, &out, &args)
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .unwrap();
        if k == 2 || k == 4 {
            // Wait for a command to run to its end, then kill at once.
            std::thread::sleep(Duration::from_millis(300));
            let _ = std::fs::remove_file(dir.join("finishing"));
            let t = Instant::now();
            while !dir.join("finishing").exists() && t.elapsed() < Duration::from_secs(20) {
                std::thread::sleep(Duration::from_micros(200));
            }
        } else {
            state ^= state << 13;
            state ^= state >> 7;
            state ^= state << 17;
            std::thread::sleep(Duration::from_millis(400 + state % 1200));
        }
        kill(&mut child);
    }
    let res = tune(&space, &script, &out, &args).output().unwrap();
    assert!(
        res.status.success(),
        "{}",
        String::from_utf8_lossy(&res.stderr)
    );
    let rows = read_csv(&out);
    assert_eq!(rows.len(), 40, "exactly the 40 trials");
    let mut numbers = HashSet::new();
    let mut configs = HashSet::new();
    for r in &rows {
        assert!(
            numbers.insert(r["trial"].clone()),
            "trial {} twice",
            r["trial"]
        );
        assert_eq!(r["state"], "complete", "{r:?}");
        assert_eq!(r["value"].parse::<f64>().unwrap(), value_of(r), "{r:?}");
        assert!(
            configs.insert((r["param_x"].clone(), r["param_y"].clone())),
            "{r:?}"
        );
    }
    // Only trials a kill interrupted ran more than once (each time with its parameters).
    let log = std::fs::read_to_string(dir.join("evaluated.log")).unwrap();
    let mut runs: HashMap<String, usize> = HashMap::new();
    for line in log.lines() {
        *runs
            .entry(line.split(' ').next().unwrap().to_string())
            .or_default() += 1;
    }
    let repeated = runs.values().filter(|&&n| n > 1).count();
    assert!(
        repeated <= 5,
        "{repeated} trials ran more than once: {runs:?}"
    );
    std::fs::remove_dir_all(&dir).ok();
}

/// Four workers on one storage: the requested number of trials, unique numbers, no
/// configuration run twice, and about a quarter of the serial time.
fn four_workers(storage: &str, dir: &Path) {
    let (space, script) = setup(dir, 0.3);
    let study = unique("four");
    let started = Instant::now();
    let children: Vec<Child> = (0..4)
        .map(|k| {
            tune(
                &space,
                &script,
                &dir.join(format!("w{k}.csv")),
                &[
                    "--storage",
                    storage,
                    "--study",
                    &study,
                    "--trials",
                    "60",
                    "--seed",
                    "3",
                    "--heartbeat",
                    "1",
                ],
            )
            .stdout(Stdio::null())
            .stderr(Stdio::piped())
            .spawn()
            .unwrap()
        })
        .collect();
    for c in children {
        let o = c.wait_with_output().unwrap();
        assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    }
    let wall = started.elapsed().as_secs_f64();
    let serial = 60.0 * 0.3;
    eprintln!("4 workers, 60 trials of 0.3 s: {wall:.1} s (serial ≥ {serial:.0} s)");
    assert!(wall < 0.6 * serial, "{wall:.1} s: not run in parallel");
    let export = dir.join("export.csv");
    let o = nasbo()
        .args(["export", "--storage", storage, "--study", &study, "--out"])
        .arg(&export)
        .output()
        .unwrap();
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    let rows = read_csv(&export);
    assert_eq!(rows.len(), 60);
    let numbers: HashSet<usize> = rows.iter().map(|r| r["trial"].parse().unwrap()).collect();
    assert_eq!(numbers, (0..60).collect());
    let configs: HashSet<(String, String)> = rows
        .iter()
        .map(|r| (r["param_x"].clone(), r["param_y"].clone()))
        .collect();
    assert_eq!(configs.len(), 60, "a configuration was proposed twice");
    assert!(rows.iter().all(|r| r["state"] == "complete"));
    let log = std::fs::read_to_string(dir.join("evaluated.log")).unwrap();
    let lines: Vec<&str> = log.lines().collect();
    assert_eq!(lines.len(), 60, "each trial ran once");
    let workers: HashSet<&str> = lines.iter().map(|l| l.split(' ').nth(1).unwrap()).collect();
    assert!(
        workers.len() >= 3,
        "the trials spread over the workers: {workers:?}"
    );
}

fn on_both(name: &str, test: fn(&str, &Path)) {
    common::on_both("store", name, test)
}

#[test]
fn four_workers_share_a_study_on_sqlite_and_postgres() {
    on_both("four", four_workers);
}

fn run(args: &[&str]) -> Output {
    nasbo().args(args).output().unwrap()
}

fn export(storage: &str, study: &str, dir: &Path) -> String {
    let out = dir.join("snapshot.csv");
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
    std::fs::read_to_string(out).unwrap()
}

/// Ask/tell from the shell, and the bad input around them.
fn shell_driver(storage: &str, dir: &Path) {
    let space = dir.join("space.toml");
    std::fs::write(&space, SPACE).unwrap();
    let study = unique("shell");
    let sp = space.to_str().unwrap();
    let on = |verb: &str, rest: &[&str]| -> Vec<String> {
        [verb, "--storage", storage, "--study", &study]
            .iter()
            .chain(rest)
            .map(|s| s.to_string())
            .collect()
    };
    let run_on = |verb: &str, rest: &[&str]| {
        let args = on(verb, rest);
        run(&args.iter().map(String::as_str).collect::<Vec<_>>())
    };
    let o = run(&[
        "ask",
        "--storage",
        storage,
        "--study",
        &study,
        "--space",
        sp,
    ]);
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    let j: serde_json::Value =
        serde_json::from_str(String::from_utf8_lossy(&o.stdout).trim()).unwrap();
    assert_eq!(j["trial"], 0);
    assert!(
        j["params"]["x"].is_f64() && j["params"]["y"].is_f64(),
        "{j}"
    );
    let o = run_on(
        "tell",
        &["--trial", "0", "--value", "0.5", "--metric", "seconds=1.5"],
    );
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    let o = run(&["ask", "--storage", storage, "--study", &study]);
    assert!(o.status.success());
    let o = run_on("tell", &["--trial", "1", "--failed", "out of memory"]);
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    let before = export(storage, &study, dir);
    assert!(
        before.contains("0,complete,0.5,") && before.contains("out of memory"),
        "{before}"
    );
    let o = run(&["studies", "--storage", storage]);
    let listed = String::from_utf8_lossy(&o.stdout);
    assert!(
        listed
            .lines()
            .any(|l| l.starts_with(&study) && l.contains("1 complete, 1 failed")),
        "{listed}"
    );
    let other = dir.join("other.toml");
    std::fs::write(&other, SPACE.replace("high = 1.0", "high = 2.0")).unwrap();
    let other = other.to_str().unwrap();
    let bad: Vec<(Vec<String>, &str)> = vec![
        (
            on("tell", &["--trial", "7", "--value", "1"]),
            "trial 7: no such trial",
        ),
        (
            on("tell", &["--trial", "0", "--value", "1"]),
            "trial 0: already finished (complete)",
        ),
        (on("tell", &["--trial", "0"]), "--value"),
        (
            on(
                "tell",
                &["--trial", "0", "--value", "1", "--metric", "oops"],
            ),
            "a metric is key=value",
        ),
        (
            on("ask", &["--space", other]),
            "parameter `x` is defined differently",
        ),
        (
            on("ask", &["--space", sp, "--direction", "maximize"]),
            "stored with direction minimize",
        ),
        (
            ["ask", "--storage", storage, "--study", "nobody"]
                .iter()
                .map(|s| s.to_string())
                .collect(),
            "has no study `nobody`",
        ),
        (
            [
                "export",
                "--storage",
                storage,
                "--study",
                "nobody",
                "--out",
                "/dev/null",
            ]
            .iter()
            .map(|s| s.to_string())
            .collect(),
            "has no study `nobody`",
        ),
    ];
    for (args, msg) in bad {
        let o = run(&args.iter().map(String::as_str).collect::<Vec<_>>());
        let err = String::from_utf8_lossy(&o.stderr);
        assert!(!o.status.success(), "{args:?} was accepted");
        assert!(err.contains(msg), "{args:?}: expected `{msg}` in `{err}`");
        assert!(!err.contains("panicked"), "{err}");
    }
    assert_eq!(
        export(storage, &study, dir),
        before,
        "a refused command changed the study"
    );
}

#[test]
fn ask_tell_export_from_the_shell_on_sqlite_and_postgres() {
    on_both("shell", shell_driver);
}

#[test]
fn storages_that_cannot_be_used_are_refused_clearly() {
    let dir = workdir("unusable");
    // Storages that cannot be used: each a clear error, no panic.
    let junk = dir.join("junk.db");
    std::fs::write(&junk, "not a database at all, but text ".repeat(10)).unwrap();
    for (storage, msg) in [
        (
            format!("sqlite:{}", junk.display()),
            "not an SQLite database",
        ),
        (
            format!("sqlite:{}", dir.join("none.db").display()),
            "no such file",
        ),
        ("mysql://u:pw@h/db".to_string(), "unknown kind of storage"),
        ("sqlite:".to_string(), "no file after sqlite:"),
        (
            "postgres://u:secret@127.0.0.1:1/db".to_string(),
            "storage postgres://u:***@127.0.0.1:1/db",
        ),
    ] {
        let started = Instant::now();
        let o = run(&["studies", "--storage", &storage]);
        let err = String::from_utf8_lossy(&o.stderr);
        assert!(!o.status.success() && err.contains(msg), "{storage}: {err}");
        assert!(!err.contains("secret"), "{err}");
        assert!(started.elapsed() < Duration::from_secs(10));
    }
    std::fs::remove_dir_all(&dir).ok();
}

#[test]
fn a_wrong_postgres_password_is_named() {
    let Some(url) = postgres() else { return };
    let at = url.rfind('@').unwrap();
    let s = url.find("://").unwrap() + 3;
    let user = url[s..at].split(':').next().unwrap();
    let wrong = format!("{}{user}:wrong{}", &url[..s], &url[at..]);
    let o = run(&["studies", "--storage", &wrong]);
    let err = String::from_utf8_lossy(&o.stderr);
    assert!(
        !o.status.success() && err.contains("password authentication failed"),
        "{err}"
    );
}
