//! End-to-end: `nasbo tune` on real external commands, including one that fails on some
//! inputs, one that hangs past the timeout and one that prints garbage; then resume, a bad
//! space, and Ctrl-C; and `nasbo bench` with its `bo` ablation flags and table protocols.

use std::path::{Path, PathBuf};

use std::process::Command;
use std::time::Duration;

mod common;
use common::{nasbo, x_space};

fn workdir(name: &str) -> PathBuf {
    common::workdir("e2e", name)
}

const SPACE: &str = r#"
[[param]]
name = "x"
type = "float"
low = -1.0
high = 1.0
[[param]]
name = "n"
type = "int"
low = 1
high = 5
[[param]]
name = "mode"
type = "categorical"
choices = ["ok", "bad", "slow", "junk"]
"#;

/// An objective in plain sh + awk: fails with exit 3 for mode=bad, hangs for mode=slow,
/// prints text for mode=junk, and checks the environment it is given.
const SCRIPT: &str = r#"#!/bin/sh
x="$1"; n="$2"; mode="$3"
case "$NASBO_PARAMS" in *"\"mode\":\"$mode\""*) ;; *) echo "bad NASBO_PARAMS: $NASBO_PARAMS" >&2; exit 9;; esac
[ -n "$NASBO_TRIAL" ] || exit 8
echo "training trial $NASBO_TRIAL..."
case "$mode" in
  bad) echo "diverged at step 3" >&2; exit 3;;
  slow) sleep 30; echo 1.0;;
  junk) echo "loss is going down";;
  *) awk -v x="$x" -v n="$n" 'BEGIN { v = (x - 0.3) * (x - 0.3) + (n - 2) * (n - 2) / 10; printf "{\"value\": %.10f, \"width\": %d}\n", v, n * 8 }';;
esac
"#;

fn setup(dir: &Path) -> (PathBuf, PathBuf) {
    let space = dir.join("space.toml");
    std::fs::write(&space, SPACE).unwrap();
    let script = dir.join("objective.sh");
    std::fs::write(&script, SCRIPT).unwrap();
    (space, script)
}

fn read_csv(path: &Path) -> (Vec<String>, Vec<Vec<String>>) {
    let mut r = csv::Reader::from_path(path).unwrap();
    let header = r.headers().unwrap().iter().map(String::from).collect();
    let rows = r
        .records()
        .map(|r| r.unwrap().iter().map(String::from).collect())
        .collect();
    (header, rows)
}

#[test]
fn tunes_an_external_command_with_failures_and_timeouts() {
    let dir = workdir("tune");
    let (space, script) = setup(&dir);
    let out = dir.join("trials.csv");
    let res = nasbo()
        .args(["tune", "--space"])
        .arg(&space)
        .args([
            "--trials",
            "12",
            "--seed",
            "4",
            "--trial-timeout",
            "1",
            "--parallel",
            "2",
            "--out",
        ])
        .arg(&out)
        .args(["--", "sh"])
        .arg(&script)
        .args(["{x}", "{n}", "{mode}"])
        .output()
        .unwrap();
    let stderr = String::from_utf8_lossy(&res.stderr);
    assert!(res.status.success(), "nasbo tune failed: {stderr}");
    assert!(String::from_utf8_lossy(&res.stdout).contains("best: trial"));
    let (header, rows) = read_csv(&out);
    assert_eq!(
        header,
        [
            "trial",
            "state",
            "value",
            "param_x",
            "param_n",
            "param_mode",
            "metric_width",
            "source",
            "started_at",
            "finished_at",
            "duration_s",
            "suggest_s",
            "error"
        ]
    );
    assert_eq!(rows.len(), 12);
    let mut seen = std::collections::HashSet::new();
    for r in &rows {
        let (state, mode, error) = (&r[1], &r[5], &r[12]);
        seen.insert(mode.clone());
        match mode.as_str() {
            "ok" => {
                assert_eq!(state, "complete", "{r:?}");
                let x: f64 = r[3].parse().unwrap();
                let n: f64 = r[4].parse().unwrap();
                let v: f64 = r[2].parse().unwrap();
                assert!((v - ((x - 0.3).powi(2) + (n - 2.0).powi(2) / 10.0)).abs() < 1e-8);
                assert_eq!(r[6], format!("{}", n as i64 * 8));
            }
            "bad" => {
                assert_eq!(state, "failed");
                assert!(
                    error.contains("exit status 3") && error.contains("diverged at step 3"),
                    "{error}"
                );
            }
            "slow" => {
                assert_eq!(state, "failed");
                assert!(error.contains("timed out after 1.0 s"), "{error}");
                let d: f64 = r[10].parse().unwrap();
                assert!(d < 10.0, "the hung command was not stopped: {d} s");
            }
            _ => {
                assert_eq!(state, "failed");
                assert!(error.contains("not a number"), "{error}");
            }
        }
        assert!(
            r[8].ends_with('Z') && r[8].contains('T'),
            "ISO 8601 time: {}",
            r[8]
        );
        let s: f64 = r[11].parse().unwrap();
        assert!(s >= 0.0);
        assert!(
            ["initial", "model"].contains(&r[7].as_str()),
            "source {}",
            r[7]
        );
    }
    assert_eq!(seen.len(), 4, "every mode was tried: {seen:?}");
    // Each trial's output is kept, and a failure says where.
    let bad = rows.iter().find(|r| r[5] == "bad").unwrap();
    let log = dir
        .join("trials.logs")
        .join(format!("trial-{}.stderr", bad[0]));
    let text = std::fs::read_to_string(&log).unwrap();
    assert!(text.contains("diverged at step 3"), "{text}");
    assert!(bad[12].contains(&log.display().to_string()), "{}", bad[12]);
    let ok = rows.iter().find(|r| r[5] == "ok").unwrap();
    let text = std::fs::read_to_string(
        dir.join("trials.logs")
            .join(format!("trial-{}.stdout", ok[0])),
    )
    .unwrap();
    assert!(text.contains("training trial"), "{text}");

    // Re-running the command continues the study (kept beside the CSV) to 15 trials.
    let res = nasbo()
        .args(["tune", "--space"])
        .arg(&space)
        .args(["--trials", "15", "--seed", "4", "--trial-timeout", "1"])
        .arg("--out")
        .arg(&out)
        .args(["--", "sh"])
        .arg(&script)
        .args(["{x}", "{n}", "{mode}"])
        .output()
        .unwrap();
    assert!(
        res.status.success(),
        "{}",
        String::from_utf8_lossy(&res.stderr)
    );
    let (_, resumed) = read_csv(&out);
    assert_eq!(resumed.len(), 15);
    for (a, b) in rows.iter().zip(&resumed) {
        assert_eq!(a[..7], b[..7], "an earlier trial changed on resume");
    }
    std::fs::remove_dir_all(&dir).ok();
}

#[test]
fn a_bad_space_is_refused_naming_the_parameter() {
    let dir = workdir("badspace");
    let space = dir.join("bad.toml");
    std::fs::write(
        &space,
        "[[param]]\nname = \"lr\"\ntype = \"float\"\nlow = 0.0\nhigh = 1.0\nlog = true\n",
    )
    .unwrap();
    let res = nasbo()
        .args(["tune", "--space"])
        .arg(&space)
        .args(["--trials", "2", "--out"])
        .arg(dir.join("t.csv"))
        .args(["--", "true"])
        .output()
        .unwrap();
    assert!(!res.status.success());
    let err = String::from_utf8_lossy(&res.stderr);
    assert!(
        err.contains("parameter `lr`") && err.contains("log-scale"),
        "{err}"
    );
    assert!(
        !dir.join("t.csv").exists(),
        "nothing is written for a bad space"
    );
    std::fs::remove_dir_all(&dir).ok();
}

#[test]
fn ctrl_c_stops_cleanly_and_the_printed_command_continues() {
    let dir = workdir("ctrlc").join("a dir with spaces");
    std::fs::create_dir_all(&dir).unwrap();
    let space = x_space(&dir, 0.0, 1.0);
    let out = dir.join("t.csv");
    let child = nasbo()
        .args(["tune", "--space"])
        .arg(&space)
        .args(["--trials", "8", "--out"])
        .arg(&out)
        .args(["--", "sh", "-c", "sleep 0.4; echo \"$1\"", "sh", "{x}"])
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    std::thread::sleep(Duration::from_millis(1500));
    unsafe {
        libc::kill(child.id() as i32, libc::SIGINT);
    }
    let res = child.wait_with_output().unwrap();
    assert_eq!(res.status.code(), Some(130));
    let err = String::from_utf8_lossy(&res.stderr);
    assert!(err.contains("run the same command again"), "{err}");
    let (header, rows) = read_csv(&out);
    assert!(!rows.is_empty() && rows.len() < 8, "{rows:?}");
    assert!(rows.iter().filter(|r| r[1] == "complete").count() >= 1);
    // The interrupted trial is not a failure: it waits to be run again.
    let err_col = header.iter().position(|h| h == "error").unwrap();
    assert!(
        rows.iter().all(|r| r[1] == "complete"
            || (r[1] == "queued" && r[err_col].contains("interrupted"))),
        "{rows:?}"
    );
    let queued: Vec<String> = rows
        .iter()
        .filter(|r| r[1] == "queued")
        .map(|r| r[3].clone())
        .collect();
    // The printed command, pasted into a shell, continues the study to its 8 trials.
    let line = err.lines().last().unwrap().trim();
    let again = Command::new("sh").arg("-c").arg(line).output().unwrap();
    assert!(
        again.status.success(),
        "`{line}`: {}",
        String::from_utf8_lossy(&again.stderr)
    );
    let (_, rows) = read_csv(&out);
    assert_eq!(rows.len(), 8);
    assert!(rows.iter().all(|r| r[1] == "complete"), "{rows:?}");
    for x in queued {
        assert!(
            rows.iter().any(|r| r[3] == x),
            "the interrupted trial ({x}) was run again"
        );
    }
    std::fs::remove_dir_all(dir.parent().unwrap()).ok();
}

#[test]
fn bench_ablation_flags_run_and_bad_values_are_refused() {
    let dir = workdir("benchflags");
    let out = dir.join("c.csv");
    let ok = nasbo()
        .args([
            "bench",
            "--problem",
            "branin",
            "--strategy",
            "bo",
            "--seeds",
            "1",
            "--trials",
            "8",
            "--boundary-prior",
            "0",
            "--output-warp",
            "off",
            "--prior-mean",
            "average",
            "--out",
        ])
        .arg(&out)
        .output()
        .unwrap();
    assert!(
        ok.status.success(),
        "{}",
        String::from_utf8_lossy(&ok.stderr)
    );
    let (header, rows) = read_csv(&out);
    assert_eq!(header[0], "strategy");
    assert_eq!(rows.len(), 8);
    let bad = nasbo()
        .args(["bench", "--boundary-prior=-1", "--out"])
        .arg(dir.join("bad.csv"))
        .output()
        .unwrap();
    assert!(!bad.status.success());
    let err = String::from_utf8_lossy(&bad.stderr);
    assert!(err.contains("--boundary-prior -1"), "{err}");
    assert!(!dir.join("bad.csv").exists());

    // Table protocols: one seed per trial and the best-mean incumbent on HPOBench's shipped
    // table; an unknown protocol is refused by name.
    let tab = dir.join("t.csv");
    let ok = nasbo()
        .args([
            "bench",
            "--problem",
            "hpobench-mlp",
            "--strategy",
            "random",
            "--seeds",
            "1",
            "--trials",
            "6",
            "--observe",
            "seed",
            "--incumbent",
            "mean",
            "--out",
        ])
        .arg(&tab)
        .output()
        .unwrap();
    assert!(
        ok.status.success(),
        "{}",
        String::from_utf8_lossy(&ok.stderr)
    );
    let (_, rows) = read_csv(&tab);
    assert_eq!(rows.len(), 6);
    let best: Vec<f64> = rows.iter().map(|r| r[5].parse().unwrap()).collect();
    assert!(
        best.windows(2).all(|w| w[1] >= w[0]),
        "best mean never drops: {best:?}"
    );
    let bad = nasbo()
        .args([
            "bench",
            "--problem",
            "hpobench-mlp",
            "--observe",
            "median",
            "--out",
        ])
        .arg(dir.join("bad2.csv"))
        .output()
        .unwrap();
    assert!(!bad.status.success());
    let err = String::from_utf8_lossy(&bad.stderr);
    assert!(err.contains("--observe"), "{err}");
    std::fs::remove_dir_all(&dir).ok();
}

#[test]
fn noisy_objective_with_noisy_flag() {
    let dir = workdir("noisy");
    let space = x_space(&dir, -1.0, 1.0);
    let script = dir.join("noisy.sh");
    // (x − 0.3)² plus noise of sd ≈ 0.03 that depends on the trial number.
    std::fs::write(
        &script,
        "#!/bin/sh\nawk -v x=\"$1\" -v t=\"$NASBO_TRIAL\" 'BEGIN { srand(t + 1); e = 0; \
         for (i = 0; i < 12; i++) e += rand(); printf \"%.10f\\n\", (x - 0.3) ^ 2 + 0.03 * (e - 6) }'\n",
    )
    .unwrap();
    let out = dir.join("trials.csv");
    let res = nasbo()
        .args(["tune", "--space"])
        .arg(&space)
        .args(["--trials", "16", "--noisy", "--out"])
        .arg(&out)
        .args(["--", "sh"])
        .arg(&script)
        .arg("{x}")
        .output()
        .unwrap();
    assert!(
        res.status.success(),
        "{}",
        String::from_utf8_lossy(&res.stderr)
    );
    let (header, rows) = read_csv(&out);
    let (state, value, x) = (
        header.iter().position(|h| h == "state").unwrap(),
        header.iter().position(|h| h == "value").unwrap(),
        header.iter().position(|h| h == "param_x").unwrap(),
    );
    assert_eq!(rows.len(), 16);
    assert!(rows.iter().all(|r| r[state] == "complete"));
    let best = rows
        .iter()
        .min_by(|a, b| {
            let (va, vb): (f64, f64) = (a[value].parse().unwrap(), b[value].parse().unwrap());
            va.total_cmp(&vb)
        })
        .unwrap();
    let bx: f64 = best[x].parse().unwrap();
    assert!((bx - 0.3).abs() < 0.3, "best x {bx}");
    std::fs::remove_dir_all(&dir).ok();
}
