//! `nasbo report` end to end: a tuned study's page, its importances and figures, checked in a
//! real headless Chromium (Debian's `chromium`; `.ci/run` installs it, and the browser check
//! says it is skipped when none is found); and bad input.

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

mod common;
use common::nasbo;

fn workdir(name: &str) -> PathBuf {
    common::workdir("report", name)
}

fn stderr(o: &Output) -> String {
    String::from_utf8_lossy(&o.stderr).into_owned()
}

const SPACE: &str = r#"
[[param]]
name = "lr"
type = "float"
low = 1e-4
high = 1e-1
log = true
[[param]]
name = "depth"
type = "int"
low = 1
high = 6
[[param]]
name = "connection"
type = "categorical"
choices = ["conv", "pool", "skip"]
[[param]]
name = "noise"
type = "float"
low = 0.0
high = 1.0
"#;

/// An accuracy that depends on lr and the connection, not on `noise`; its cost grows with
/// depth.
const OBJECTIVE: &str = r#"awk -v lr="$1" -v d="$2" -v c="$3" 'BEGIN {
  l = log(lr) / log(10); acc = 0.95 - 0.08 * (l + 2) * (l + 2) - (c == "conv" ? 0.1 : 0) - (c == "pool" ? 0.05 : 0);
  printf "{\"value\": %.6f, \"train_seconds\": %.4f, \"parameters\": %d}\n", acc, 0.5 * d * d, 1000 * d }'"#;

fn tuned(dir: &Path, trials: &str) -> PathBuf {
    let space = dir.join("space.toml");
    std::fs::write(&space, SPACE).unwrap();
    let out = dir.join("t.csv");
    let o = nasbo()
        .args(["tune", "--space"])
        .arg(&space)
        .args([
            "--trials",
            trials,
            "--seed",
            "5",
            "--direction",
            "maximize",
            "--out",
        ])
        .arg(&out)
        .args([
            "--",
            "sh",
            "-c",
            OBJECTIVE,
            "sh",
            "{lr}",
            "{depth}",
            "{connection}",
        ])
        .output()
        .unwrap();
    assert!(o.status.success(), "{}", stderr(&o));
    out
}

fn chromium() -> Option<PathBuf> {
    ["chromium", "chromium-browser", "google-chrome"]
        .iter()
        .find_map(|b| {
            std::env::var_os("PATH").and_then(|paths| {
                std::env::split_paths(&paths)
                    .map(|p| p.join(b))
                    .find(|p| p.is_file())
            })
        })
}

#[test]
fn a_study_report_draws_every_figure_in_a_real_browser() {
    let dir = workdir("page");
    let csv = tuned(&dir, "40");
    let rep = dir.join("rep");
    let o = nasbo()
        .arg("report")
        .arg(&csv)
        .arg("--out")
        .arg(&rep)
        .output()
        .unwrap();
    assert!(o.status.success(), "{}", stderr(&o));
    // importance.csv: one row per (target, parameter), fractions summing to at most 1.
    let mut r = csv::Reader::from_path(rep.join("importance.csv")).unwrap();
    assert_eq!(
        r.headers().unwrap().iter().collect::<Vec<_>>(),
        ["target", "param", "importance"]
    );
    let rows: Vec<(String, String, f64)> = r
        .records()
        .map(|x| {
            let x = x.unwrap();
            (x[0].to_string(), x[1].to_string(), x[2].parse().unwrap())
        })
        .collect();
    for target in ["value", "train_seconds", "parameters"] {
        let of: Vec<&(String, String, f64)> = rows.iter().filter(|r| r.0 == target).collect();
        assert_eq!(of.len(), 4, "{target}: {rows:?}");
        let sum: f64 = of.iter().map(|r| r.2).sum();
        assert!(
            of.iter().all(|r| (0.0..=1.0).contains(&r.2)) && sum <= 1.0 + 1e-9,
            "{of:?}"
        );
    }
    let get = |t: &str, p: &str| rows.iter().find(|r| r.0 == t && r.1 == p).unwrap().2;
    assert!(get("value", "noise") < 0.05, "{rows:?}");
    assert!(get("value", "lr") > get("value", "depth"), "{rows:?}");
    assert!(get("train_seconds", "depth") > 0.8, "{rows:?}");
    // The page: self-contained, every figure inline.
    let html = std::fs::read_to_string(rep.join("index.html")).unwrap();
    assert!(
        !html.contains("<link") && !html.contains("src=\"http"),
        "no network resources"
    );
    let figures = std::fs::read_dir(rep.join("figures")).unwrap().count();
    assert!(figures >= 8, "{figures} figures");
    assert_eq!(html.matches("<figure").count(), figures);
    for id in [
        "fig-convergence",
        "fig-importance",
        "fig-importance-by-target",
        "fig-param-lr",
        "fig-pareto-train_seconds",
    ] {
        assert!(html.contains(id), "{id}");
    }
    // In a real browser: the page loads, its check script runs, and every figure has a size.
    let Some(browser) = chromium() else {
        eprintln!(
            "browser check skipped: no chromium on PATH (.ci/run installs Debian's chromium)"
        );
        return;
    };
    let profile = dir.join("profile");
    let out = Command::new(browser)
        .args([
            "--headless",
            "--no-sandbox",
            "--disable-gpu",
            "--disable-quic",
            "--no-first-run",
            "--disable-background-networking",
            "--disable-component-update",
            "--disable-sync",
            "--enable-logging=stderr",
            "--v=0",
        ])
        .arg(format!("--user-data-dir={}", profile.display()))
        .arg("--dump-dom")
        .arg(format!("file://{}", rep.join("index.html").display()))
        .output()
        .unwrap();
    let dom = String::from_utf8_lossy(&out.stdout);
    let log = String::from_utf8_lossy(&out.stderr);
    let body = dom
        .find("<body")
        .map(|i| &dom[i..i + 80.min(dom.len() - i)])
        .unwrap_or("");
    assert!(
        body.contains(&format!("data-figures=\"{figures}\""))
            && body.contains(&format!("data-drawn=\"{figures}\"")),
        "the browser drew {body:?} ({figures} figures); log: {log}"
    );
    assert!(!log.contains("Uncaught"), "a script error: {log}");
    std::fs::remove_dir_all(&dir).ok();
}

#[test]
fn bad_input_gets_a_clear_message_and_whatever_can_be_drawn() {
    let dir = workdir("bad");
    let run = |csv: &Path| {
        nasbo()
            .arg("report")
            .arg(csv)
            .arg("--out")
            .arg(dir.join("out"))
            .output()
            .unwrap()
    };
    let o = run(&dir.join("missing.csv"));
    assert!(
        !o.status.success() && stderr(&o).contains("missing.csv: no such file"),
        "{}",
        stderr(&o)
    );
    let no_value = dir.join("novalue.csv");
    std::fs::write(&no_value, "trial,state,param_x\n0,complete,0.5\n").unwrap();
    let o = run(&no_value);
    assert!(
        !o.status.success() && stderr(&o).contains("no `value` column"),
        "{}",
        stderr(&o)
    );
    let none = dir.join("none.csv");
    std::fs::write(
        &none,
        "trial,state,value,param_x\n0,failed,,0.5\n1,failed,,0.7\n",
    )
    .unwrap();
    let o = run(&none);
    assert!(
        !o.status.success() && stderr(&o).contains("no complete trial"),
        "{}",
        stderr(&o)
    );
    // One trial: a page with what can be drawn, and why the rest is not.
    let one = dir.join("one.csv");
    std::fs::write(
        &one,
        "trial,state,value,param_x\n0,complete,0.25,0.5\n1,failed,,0.7\n",
    )
    .unwrap();
    let o = run(&one);
    assert!(o.status.success(), "{}", stderr(&o));
    let html = std::fs::read_to_string(dir.join("out").join("index.html")).unwrap();
    assert!(
        html.contains("fig-convergence") && html.contains("need at least 4"),
        "{html}"
    );
    assert!(!stderr(&o).contains("panicked"));
    std::fs::remove_dir_all(&dir).ok();
}
