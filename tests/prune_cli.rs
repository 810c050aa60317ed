//! End-to-end: pruning in `nasbo tune` and `nasbo nas` with real commands and real training:
//! pruned trials recorded with their last value and step, their processes really stopped
//! (also one that ignores SIGTERM), bad step lines recorded as warnings while the study goes
//! on, and bad pruner settings refused before any trial.

use std::path::{Path, PathBuf};

mod common;
use common::{csv_rows as rows, nasbo, x_space};

fn workdir(name: &str) -> PathBuf {
    common::workdir("prune", name)
}

fn write(dir: &Path, name: &str, text: &str) -> PathBuf {
    let p = dir.join(name);
    std::fs::write(&p, text).unwrap();
    p
}

fn alive(pid: i32) -> bool {
    // SAFETY: kill with signal 0 only checks whether the process exists.
    unsafe { libc::kill(pid, 0) == 0 }
}

/// A curve `(x − 0.4)² + 1/t` over 9 steps; the command records its PID, and with `$2 = trap`
/// ignores SIGTERM.
const CURVE: &str = r#"#!/bin/sh
x="$1"
echo $$ >> "$PIDS"
[ "$2" = trap ] && trap '' TERM
t=1
while [ $t -le 9 ]; do
  awk -v x="$x" -v t="$t" 'BEGIN { printf "{\"step\": %d, \"value\": %.10f}\n", t, (x - 0.4) * (x - 0.4) + 1 / t }'
  sleep 0.05
  t=$((t + 1))
done
awk -v x="$x" 'BEGIN { printf "%.10f\n", (x - 0.4) * (x - 0.4) + 1 / 9 }'
"#;

/// `nasbo tune` of CURVE with ASHA over 9 steps, to `trials` trials.
fn tune_curve(dir: &Path, trials: usize) -> std::process::Output {
    nasbo()
        .env("PIDS", dir.join("pids"))
        .args(["tune", "--space"])
        .arg(dir.join("space.toml"))
        .args(["--trials", &trials.to_string(), "--seed", "2"])
        .args(["--pruner", "asha", "--max-step", "9", "--out"])
        .arg(dir.join("t.csv"))
        .args(["--", "sh"])
        .arg(dir.join("curve.sh"))
        .arg("{x}")
        .output()
        .unwrap()
}

#[test]
fn asha_prunes_and_stops_the_commands() {
    let dir = workdir("asha");
    x_space(&dir, 0.0, 1.0);
    write(&dir, "curve.sh", CURVE);
    let out = dir.join("t.csv");
    let o = tune_curve(&dir, 16);
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    let table = rows(&out);
    assert_eq!(table.len(), 16);
    let pruned: Vec<_> = table.iter().filter(|r| r["state"] == "pruned").collect();
    let complete: Vec<_> = table.iter().filter(|r| r["state"] == "complete").collect();
    assert!(!pruned.is_empty() && !complete.is_empty(), "{table:?}");
    for r in &pruned {
        // The last value reported, at a rung (1 or 3): (x - 0.4)^2 + 1/step.
        let step: u64 = r["step"].parse().unwrap();
        assert!(step == 1 || step == 3, "pruned at step {step}");
        let x: f64 = r["param_x"].parse().unwrap();
        let v: f64 = r["value"].parse().unwrap();
        assert!((v - ((x - 0.4).powi(2) + 1.0 / step as f64)).abs() < 1e-6);
    }
    for r in &complete {
        assert_eq!(r["step"], "9");
    }
    // Every command has ended: none keeps running after its trial was pruned.
    let list = std::fs::read_to_string(dir.join("pids")).unwrap();
    assert_eq!(list.lines().count(), 16);
    for pid in list.lines() {
        assert!(
            !alive(pid.trim().parse().unwrap()),
            "process {pid} still runs"
        );
    }
    // The study beside the CSV keeps the intermediate values: a second run continues it.
    let o = tune_curve(&dir, 18);
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    assert_eq!(rows(&out).len(), 18);
}

#[test]
fn a_command_that_ignores_sigterm_is_killed_after_the_grace_period() {
    let dir = workdir("trap");
    let space = x_space(&dir, 0.0, 1.0);
    let script = write(&dir, "curve.sh", CURVE);
    let pids = dir.join("pids");
    let out = dir.join("t.csv");
    // Median pruning from step 1 once one trial is complete: the later trials far from 0.4
    // are pruned; their commands ignore SIGTERM.
    let o = nasbo()
        .env("PIDS", &pids)
        .args(["tune", "--space"])
        .arg(&space)
        .args([
            "--trials",
            "4",
            "--seed",
            "0",
            "--strategy",
            "sobol",
            "--pruner",
            "asha",
        ])
        .args(["--max-step", "9", "--out"])
        .arg(&out)
        .args(["--", "sh"])
        .arg(&script)
        .args(["{x}", "trap"])
        .output()
        .unwrap();
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    let rows = rows(&out);
    let pruned = rows.iter().filter(|r| r["state"] == "pruned").count();
    assert!(pruned >= 1, "{rows:?}");
    for pid in std::fs::read_to_string(&pids).unwrap().lines() {
        assert!(
            !alive(pid.trim().parse().unwrap()),
            "process {pid} still runs"
        );
    }
}

#[test]
fn bad_step_lines_are_warnings_and_the_study_goes_on() {
    let dir = workdir("bad");
    let space = x_space(&dir, 0.0, 1.0);
    // A non-numeric value, NaN, a negative step, a step going backwards, a step beyond
    // --max-step and 12,000 step lines, then the objective.
    let script = write(
        &dir,
        "bad.sh",
        r#"#!/bin/sh
echo '{"step": 1, "value": "abc"}'
echo '{"step": 2, "value": NaN}'
echo '{"step": -3, "value": 0.5}'
echo '{"step": 5, "value": 0.5}'
echo '{"step": 4, "value": 0.4}'
echo '{"step": 50, "value": 0.3}'
awk 'BEGIN { for (t = 51; t <= 12050; t++) printf "{\"step\": %d, \"value\": 0.2}\n", t }'
echo 0.25
"#,
    );
    let out = dir.join("t.csv");
    let o = nasbo()
        .args(["tune", "--space"])
        .arg(&space)
        .args([
            "--trials",
            "2",
            "--pruner",
            "median",
            "--max-step",
            "9",
            "--out",
        ])
        .arg(&out)
        .args(["--", "sh"])
        .arg(&script)
        .output()
        .unwrap();
    let err = String::from_utf8_lossy(&o.stderr);
    assert!(o.status.success(), "{err}");
    for what in [
        "the value is not a number",
        "the step is not a whole number >= 0",
        "not valid JSON (NaN and Infinity are not JSON numbers)",
        "does not come after the trial's previous step",
        "beyond --max-step 9",
        "intermediate values; the rest are not stored",
    ] {
        assert!(err.contains(what), "no warning `{what}` in:\n{err}");
    }
    // Said once per trial, not once per line.
    assert!(err.matches("the rest are not stored").count() <= 2, "{err}");
    let rows = rows(&out);
    assert_eq!(rows.len(), 2);
    for r in &rows {
        assert_eq!(r["state"], "complete", "{r:?}");
        assert_eq!(r["value"], "0.25");
        // Steps 5, 50, 51, ... up to the 10,000 stored.
        assert_eq!(r["step"], "10048");
    }
}

#[test]
fn bad_pruner_settings_are_refused_before_any_trial() {
    let dir = workdir("settings");
    let space = x_space(&dir, 0.0, 1.0);
    let cases: [(&[&str], &str); 5] = [
        (&["--pruner", "asha"], "needs --max-step"),
        (&["--pruner", "fast", "--max-step", "9"], "fast"),
        (
            &[
                "--pruner",
                "asha",
                "--max-step",
                "9",
                "--reduction-factor",
                "1",
            ],
            "reduction-factor",
        ),
        (
            &[
                "--pruner",
                "hyperband",
                "--max-step",
                "9",
                "--min-step",
                "10",
            ],
            "min-step",
        ),
        (&["--pruner", "median", "--max-step", "0"], "max-step"),
    ];
    for (args, what) in cases {
        let out = dir.join("t.csv");
        let o = nasbo()
            .args(["tune", "--space"])
            .arg(&space)
            .args(["--trials", "2"])
            .args(args)
            .arg("--out")
            .arg(&out)
            .args(["--", "echo", "1"])
            .output()
            .unwrap();
        let err = String::from_utf8_lossy(&o.stderr);
        assert_eq!(o.status.code(), Some(2), "{args:?}: {err}");
        assert!(err.contains(what), "{args:?}: {err}");
        assert!(!out.exists(), "{args:?}: a trial ran");
    }
}

#[test]
fn nas_with_asha_trains_prunes_and_records_epochs() {
    let dir = workdir("nas");
    let out = dir.join("n.csv");
    let o = nasbo()
        .args([
            "nas",
            "--dataset",
            "iris",
            "--trials",
            "8",
            "--epochs",
            "9",
            "--seed",
            "1",
        ])
        .args(["--pruner", "asha", "--out"])
        .arg(&out)
        .output()
        .unwrap();
    let err = String::from_utf8_lossy(&o.stderr);
    assert!(o.status.success(), "{err}");
    let rows = rows(&out);
    assert_eq!(rows.len(), 8);
    assert!(rows.iter().any(|r| r["state"] == "pruned"), "{err}");
    for r in &rows {
        match r["state"].as_str() {
            "pruned" => {
                let s: u64 = r["step"].parse().unwrap();
                assert!(s == 1 || s == 3, "pruned after epoch {s}");
                let v: f64 = r["value"].parse().unwrap();
                assert!((0.0..=1.0).contains(&v));
            }
            "complete" => assert_eq!(r["step"], "9"),
            s => panic!("state {s}: {r:?}"),
        }
    }
    // --max-step other than the epochs is refused.
    let o = nasbo()
        .args(["nas", "--dataset", "iris", "--trials", "2", "--epochs", "9"])
        .args(["--pruner", "asha", "--max-step", "5", "--out"])
        .arg(dir.join("m.csv"))
        .output()
        .unwrap();
    assert_eq!(o.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&o.stderr).contains("the steps are the epochs"));
}
