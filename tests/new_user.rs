//! What a new user hits, end to end: mistakes caught before the first trial, an existing
//! study never clobbered, exit codes that say whether anything completed, messages that name
//! the problem once, readable numbers; and `nasbo nas`, the main job, on a small data set with
//! the shared run loop's --parallel, --trial-timeout and continuing a study.

use std::path::{Path, PathBuf};
use std::process::Output;

mod common;
use common::{nasbo, x_space};

fn workdir(name: &str) -> PathBuf {
    common::workdir("user", name)
}

fn tune(space: &Path, out: &Path, extra: &[&str], command: &[&str]) -> Output {
    nasbo()
        .args(["tune", "--space"])
        .arg(space)
        .arg("--out")
        .arg(out)
        .args(extra)
        .arg("--")
        .args(command)
        .output()
        .unwrap()
}

fn stderr(o: &Output) -> String {
    String::from_utf8_lossy(&o.stderr).into_owned()
}

fn rows(path: &Path) -> Vec<csv::StringRecord> {
    csv::Reader::from_path(path)
        .unwrap()
        .records()
        .map(|r| r.unwrap())
        .collect()
}

const SQUARE: [&str; 4] = [
    "sh",
    "-c",
    "awk -v x=\"$1\" 'BEGIN { print (x - 0.3) ^ 2 }'",
    "sh",
];

fn square(x: &str) -> Vec<&str> {
    let mut v = SQUARE.to_vec();
    v.push(x);
    v
}

#[test]
fn an_existing_study_is_continued_or_protected_never_clobbered() {
    let dir = workdir("clobber");
    let space = x_space(&dir, 0.0, 1.0);
    let out = dir.join("t.csv");
    // A CSV that is not this study's: refused, untouched, and the message says what to do.
    std::fs::write(&out, "my own notes\n").unwrap();
    let o = tune(&space, &out, &["--trials", "3"], &square("{x}"));
    assert!(!o.status.success());
    assert!(stderr(&o).contains("--resume"), "{}", stderr(&o));
    assert_eq!(std::fs::read_to_string(&out).unwrap(), "my own notes\n");
    std::fs::remove_file(&out).unwrap();
    // A study, then the same command again with a larger budget: continued.
    let o = tune(&space, &out, &["--trials", "3"], &square("{x}"));
    assert!(o.status.success(), "{}", stderr(&o));
    let first = rows(&out);
    let o = tune(&space, &out, &["--trials", "5"], &square("{x}"));
    assert!(o.status.success(), "{}", stderr(&o));
    assert!(stderr(&o).contains("continuing study"), "{}", stderr(&o));
    let again = rows(&out);
    assert_eq!(again.len(), 5);
    assert_eq!(&again[..3], &first[..]);
    // The other direction on the same study: refused, the study unchanged.
    let o = tune(
        &space,
        &out,
        &["--trials", "8", "--direction", "maximize"],
        &square("{x}"),
    );
    assert!(!o.status.success());
    assert!(
        stderr(&o).contains("stored with direction minimize, not maximize"),
        "{}",
        stderr(&o)
    );
    assert_eq!(rows(&out), again);
    // --resume into a study that has trials: refused.
    let o = tune(
        &space,
        &out,
        &["--trials", "8", "--resume", out.to_str().unwrap()],
        &square("{x}"),
    );
    assert!(
        !o.status.success() && stderr(&o).contains("already has 5 trials"),
        "{}",
        stderr(&o)
    );
    // A CSV with a trial twice: refused with its line.
    let dup = dir.join("dup.csv");
    let text = std::fs::read_to_string(&out).unwrap();
    let second_line = text.lines().nth(1).unwrap();
    std::fs::write(&dup, format!("{text}{second_line}\n")).unwrap();
    let o = tune(
        &space,
        &dir.join("fresh.csv"),
        &["--trials", "8", "--resume", dup.to_str().unwrap()],
        &square("{x}"),
    );
    assert!(!o.status.success());
    assert!(
        stderr(&o).contains("line 7") && stderr(&o).contains("trial 0 appears twice"),
        "{}",
        stderr(&o)
    );
    std::fs::remove_dir_all(&dir).ok();
}

#[test]
fn mistakes_are_caught_before_the_first_trial() {
    let dir = workdir("early");
    let space = x_space(&dir, 0.0, 1.0);
    let out = dir.join("t.csv");
    let cases: Vec<(Vec<&str>, Vec<&str>, &str)> = vec![
        (
            vec!["--trials", "0"],
            square("{x}"),
            "--trials must be at least 1",
        ),
        (
            vec!["--trials", "2"],
            vec!["echo", "{y}"],
            "{y} is not a parameter of the space (x, or {trial})",
        ),
        (
            vec!["--trials", "2", "--trial-timeout=-1"],
            square("{x}"),
            "--trial-timeout -1",
        ),
        (
            vec!["--trials", "2", "--parallel", "0"],
            square("{x}"),
            "--parallel must be at least 1",
        ),
        (
            vec!["--trials", "2", "--heartbeat", "0"],
            square("{x}"),
            "--heartbeat 0",
        ),
        (
            vec!["--trials", "2", "--strategy", "tpe"],
            square("{x}"),
            "--strategy `tpe`: use bo, random, sobol, evolution, reinforce",
        ),
    ];
    for (extra, command, msg) in cases {
        let o = tune(&space, &out, &extra, &command);
        assert!(!o.status.success(), "{extra:?} was accepted");
        assert!(
            stderr(&o).contains(msg),
            "{extra:?}: expected `{msg}` in {}",
            stderr(&o)
        );
        assert!(
            !out.exists(),
            "{extra:?}: a trial ran or a file was written"
        );
    }
    let o = tune(
        &space,
        &dir.join("nodir").join("t.csv"),
        &["--trials", "2"],
        &square("{x}"),
    );
    assert!(
        stderr(&o).contains("the folder") && stderr(&o).contains("does not exist"),
        "{}",
        stderr(&o)
    );
    // A missing space file is named once, its cause once.
    let o = tune(&dir.join("missing.toml"), &out, &[], &square("{x}"));
    let e = stderr(&o);
    assert_eq!(e.matches("No such file or directory").count(), 1, "{e}");
    assert!(e.contains("missing.toml"), "{e}");
    // A TOML syntax error has its line and column.
    let broken = dir.join("broken.toml");
    std::fs::write(
        &broken,
        "[[param]]\nname = \"x\"\ntype = \"float\"\nlow = \nhigh = 1.0\n",
    )
    .unwrap();
    let o = tune(&broken, &out, &[], &square("{x}"));
    assert!(stderr(&o).contains("line 4, column 7"), "{}", stderr(&o));
    std::fs::remove_dir_all(&dir).ok();
}

#[test]
fn exit_codes_say_whether_anything_completed_and_numbers_stay_short() {
    let dir = workdir("exit");
    let space = x_space(&dir, 0.0, 1.0);
    // Every trial fails: a non-zero exit, and the reasons are in the CSV.
    let out = dir.join("fail.csv");
    let o = tune(
        &space,
        &out,
        &["--trials", "3"],
        &["sh", "-c", "echo broken >&2; exit 4"],
    );
    assert_eq!(o.status.code(), Some(1), "{}", stderr(&o));
    assert!(stderr(&o).contains("no trial completed"), "{}", stderr(&o));
    assert!(rows(&out)
        .iter()
        .all(|r| &r[1] == "failed" && r[r.len() - 1].contains("exit status 4: broken")));
    // Tiny values print with an exponent, in the summary, the CSV and the placeholders.
    let out = dir.join("tiny.csv");
    let o = tune(
        &space,
        &out,
        &["--trials", "2", "--strategy", "random"],
        &["sh", "-c", "echo 1e-300"],
    );
    assert!(o.status.success(), "{}", stderr(&o));
    let stdout = String::from_utf8_lossy(&o.stdout);
    assert!(stdout.contains("value 1e-300"), "{stdout}");
    assert!(rows(&out).iter().all(|r| &r[2] == "1e-300"));
    std::fs::remove_dir_all(&dir).ok();
}

#[test]
fn warm_start_rows_are_marked_and_not_counted() {
    let dir = workdir("warm");
    let space = x_space(&dir, 0.0, 1.0);
    let earlier = dir.join("earlier.csv");
    let o = tune(
        &space,
        &earlier,
        &["--trials", "4", "--strategy", "random"],
        &square("{x}"),
    );
    assert!(o.status.success(), "{}", stderr(&o));
    let out = dir.join("t.csv");
    let o = tune(
        &space,
        &out,
        &["--trials", "3", "--warm-start", earlier.to_str().unwrap()],
        &square("{x}"),
    );
    assert!(o.status.success(), "{}", stderr(&o));
    let mut r = csv::Reader::from_path(&out).unwrap();
    let h: Vec<String> = r.headers().unwrap().iter().map(String::from).collect();
    let source = h.iter().position(|c| c == "source").unwrap();
    let sources: Vec<String> = r
        .records()
        .map(|x| x.unwrap()[source].to_string())
        .collect();
    assert_eq!(
        sources.iter().filter(|s| *s == "warm-start").count(),
        4,
        "{sources:?}"
    );
    assert_eq!(
        sources.iter().filter(|s| *s != "warm-start").count(),
        3,
        "{sources:?}"
    );
    // Running the same command again does not import the warm start twice.
    let o = tune(
        &space,
        &out,
        &["--trials", "3", "--warm-start", earlier.to_str().unwrap()],
        &square("{x}"),
    );
    assert!(
        o.status.success() && stderr(&o).contains("already in the study"),
        "{}",
        stderr(&o)
    );
    assert_eq!(rows(&out).len(), 7);
    std::fs::remove_dir_all(&dir).ok();
}

#[test]
fn nas_runs_the_main_job_with_the_shared_run_loop() {
    let dir = workdir("nas");
    let out = dir.join("nas.csv");
    let nas = |extra: &[&str]| {
        nasbo()
            .args([
                "nas",
                "--dataset",
                "iris",
                "--epochs",
                "8",
                "--seed",
                "2",
                "--out",
            ])
            .arg(&out)
            .args(extra)
            .output()
            .unwrap()
    };
    let o = nas(&["--trials", "3", "--parallel", "2"]);
    assert!(o.status.success(), "{}", stderr(&o));
    assert!(
        stderr(&o).contains("3 trials of 8 epochs"),
        "{}",
        stderr(&o)
    );
    let stdout = String::from_utf8_lossy(&o.stdout);
    assert!(
        stdout.contains("best configuration (trial") && stdout.contains("test accuracy"),
        "{stdout}"
    );
    let mut r = csv::Reader::from_path(&out).unwrap();
    let h: Vec<String> = r.headers().unwrap().iter().map(String::from).collect();
    for m in [
        "metric_test_accuracy",
        "metric_train_seconds",
        "metric_parameters",
        "metric_latency_ms",
        "source",
    ] {
        assert!(h.contains(&m.to_string()), "{m} in {h:?}");
    }
    let first: Vec<csv::StringRecord> = r.records().map(|x| x.unwrap()).collect();
    assert_eq!(first.len(), 3);
    for row in &first {
        assert_eq!(&row[1], "complete", "{row:?}");
        let v: f64 = row[2].parse().unwrap();
        assert!((0.0..=1.0).contains(&v));
    }
    // The same command with a larger budget continues the study.
    let o = nas(&["--trials", "4"]);
    assert!(o.status.success(), "{}", stderr(&o));
    let all = rows(&out);
    assert_eq!(all.len(), 4);
    assert_eq!(&all[..3], &first[..]);
    // A timeout stops a long training (at an epoch's end) and records it.
    let slow = dir.join("slow.csv");
    let o = nasbo()
        .args([
            "nas",
            "--dataset",
            "digits",
            "--trials",
            "1",
            "--epochs",
            "400",
            "--trial-timeout",
            "1",
            "--out",
        ])
        .arg(&slow)
        .output()
        .unwrap();
    assert_eq!(o.status.code(), Some(1), "{}", stderr(&o));
    let r = rows(&slow);
    assert!(
        &r[0][1] == "failed" && r[0][r[0].len() - 1].contains("timed out after 1.0 s"),
        "{r:?}"
    );
    // Mistakes caught before any training; "1 trial of 1 epoch".
    let bad = dir.join("bad.toml");
    std::fs::write(
        &bad,
        "[[param]]\nname = \"depht\"\ntype = \"int\"\nlow = 1\nhigh = 3\n",
    )
    .unwrap();
    for (extra, msg) in [
        (vec!["--epochs", "0"], "--epochs must be at least 1"),
        (
            vec!["--space", bad.to_str().unwrap()],
            "parameter `depht`: `nas` does not know this parameter",
        ),
        (vec!["--out", "no/such/dir/x.csv"], "does not exist"),
        (vec!["--trials", "0"], "--trials must be at least 1"),
    ] {
        let o = nasbo()
            .args(["nas", "--dataset", "iris"])
            .args(&extra)
            .output()
            .unwrap();
        assert!(
            !o.status.success() && stderr(&o).contains(msg),
            "{extra:?}: {}",
            stderr(&o)
        );
    }
    let one = dir.join("one.csv");
    let o = nasbo()
        .args([
            "nas",
            "--dataset",
            "iris",
            "--trials",
            "1",
            "--epochs",
            "1",
            "--out",
        ])
        .arg(&one)
        .output()
        .unwrap();
    assert!(
        stderr(&o).contains("1 trial of 1 epoch on"),
        "{}",
        stderr(&o)
    );
    std::fs::remove_dir_all(&dir).ok();
}
