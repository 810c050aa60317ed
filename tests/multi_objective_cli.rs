//! `nasbo tune` with several objectives: `--objective KEY:DIRECTION`, the metric_KEY and
//! pareto columns, resuming, and bad input (real processes, real SQLite).

mod common;

use common::{csv_rows, nasbo, workdir, x_space};

const TWO: &str = "import json, sys; x = float(sys.argv[1]); print(json.dumps({'f1': x * x, 'f2': (x - 1) ** 2, 'other': 3}))";

fn tune(dir: &std::path::Path, extra: &[&str], trials: &str) -> std::process::Output {
    let space = x_space(dir, -1.0, 2.0);
    let mut c = nasbo();
    c.current_dir(dir)
        .args(["tune", "--space"])
        .arg(&space)
        .args(["--trials", trials, "--seed", "3", "--out", "mo.csv"])
        .args(extra)
        .args(["--", "python3", "-c", TWO, "{x}"]);
    c.output().unwrap()
}

#[test]
fn two_objectives_mark_the_front_and_resume() {
    let dir = workdir("mo", "front");
    let objectives = ["--objective", "f1:minimize", "--objective", "f2:minimize"];
    let out = tune(&dir, &objectives, "12");
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(stdout.contains("Pareto front (f1, f2)"), "{stdout}");
    let rows = csv_rows(&dir.join("mo.csv"));
    assert_eq!(rows.len(), 12);
    let v =
        |r: &std::collections::HashMap<String, String>, k: &str| -> f64 { r[k].parse().unwrap() };
    for a in &rows {
        // The first objective is also the value column.
        assert_eq!(a["value"], a["metric_f1"]);
        let dominated = rows.iter().any(|b| {
            v(b, "metric_f1") <= v(a, "metric_f1")
                && v(b, "metric_f2") <= v(a, "metric_f2")
                && (v(b, "metric_f1") < v(a, "metric_f1") || v(b, "metric_f2") < v(a, "metric_f2"))
        });
        assert_eq!(a["pareto"] == "1", !dominated, "{a:?}");
    }
    // Points outside [0, 1] are dominated: the model's proposals stay mostly inside.
    let model: Vec<_> = rows.iter().filter(|r| r["source"] == "model").collect();
    assert!(!model.is_empty());
    let inside = model
        .iter()
        .filter(|r| (0.0..=1.0).contains(&v(r, "param_x")))
        .count();
    assert!(
        inside * 4 >= model.len() * 3,
        "{inside} of {} inside",
        model.len()
    );
    // Continuing the study (same storage) adds trials, with the same objectives.
    let out = tune(&dir, &objectives, "15");
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert_eq!(csv_rows(&dir.join("mo.csv")).len(), 15);
    // A different number of objectives on the same study is refused, nothing lost.
    let out = tune(&dir, &["--direction", "minimize"], "16");
    assert!(!out.status.success());
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("direction minimize, minimize"), "{err}");
    assert_eq!(csv_rows(&dir.join("mo.csv")).len(), 15);
}

#[test]
fn bad_objectives_are_named() {
    let dir = workdir("mo", "bad");
    for (args, want) in [
        (
            vec!["--objective", "f1:minimize", "--objective", "f1:maximize"],
            "`f1` is given twice",
        ),
        (
            vec!["--objective", "f1:minimize", "--objective", "f2:upward"],
            "unknown direction `upward`",
        ),
        (vec!["--objective", "f1"], "KEY:DIRECTION"),
        (
            vec!["--direction", "maximize", "--objective", "f1:minimize"],
            "cannot be used with",
        ),
    ] {
        let out = tune(&dir, &args, "3");
        assert!(!out.status.success(), "{args:?}");
        let err = String::from_utf8_lossy(&out.stderr);
        assert!(err.contains(want), "{args:?}: {err}");
        assert!(!err.contains("panicked"), "{err}");
    }
    // A key the command never prints: each trial fails with that reason.
    let out = tune(
        &dir,
        &[
            "--objective",
            "f1:minimize",
            "--objective",
            "latency:minimize",
        ],
        "2",
    );
    assert!(!out.status.success());
    let rows = csv_rows(&dir.join("mo.csv"));
    assert_eq!(rows.len(), 2);
    for r in rows {
        assert_eq!(r["state"], "failed");
        assert!(
            r["error"].contains("no numeric `latency`") && r["error"].contains("f1, f2, other"),
            "{r:?}"
        );
    }
}
