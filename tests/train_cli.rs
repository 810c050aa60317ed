//! `nasbo train`: the retrain command `nasbo nas` prints reproduces its best trial, the saved
//! safetensors rebuild the network with the same test accuracy, `--full`, and bad input (real
//! processes, real candle training on digits).

mod common;

use common::{csv_rows, nasbo, workdir};
use nasbo::train::{accuracy, data, model};

/// The words of a command line as a POSIX shell splits them (single quotes only, which is all
/// `nasbo nas` uses).
fn words(line: &str) -> Vec<String> {
    let (mut out, mut cur, mut quoted, mut any) = (Vec::new(), String::new(), false, false);
    for c in line.chars() {
        match c {
            '\'' => {
                quoted = !quoted;
                any = true;
            }
            c if c.is_whitespace() && !quoted => {
                if any {
                    out.push(std::mem::take(&mut cur));
                    any = false;
                }
            }
            c => {
                cur.push(c);
                any = true;
            }
        }
    }
    if any {
        out.push(cur);
    }
    out
}

fn last_json(stdout: &[u8]) -> serde_json::Value {
    let text = String::from_utf8_lossy(stdout);
    let line = text.lines().rfind(|l| !l.trim().is_empty()).unwrap_or("");
    serde_json::from_str(line).unwrap_or_else(|e| panic!("last line {line:?}: {e}"))
}

#[test]
fn the_retrain_command_reproduces_the_best_trial_and_the_model_loads_back() {
    let dir = workdir("train", "retrain");
    let out = nasbo()
        .current_dir(&dir)
        .args([
            "nas",
            "--dataset",
            "digits",
            "--trials",
            "3",
            "--epochs",
            "3",
        ])
        .args(["--seed", "5", "--out", "nas.csv"])
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let stdout = String::from_utf8_lossy(&out.stdout);
    let line = stdout
        .lines()
        .find_map(|l| l.strip_prefix("retrain it and keep its weights: "))
        .unwrap_or_else(|| panic!("no retrain command in {stdout}"));
    let w = words(line);
    assert_eq!(&w[..2], ["nasbo", "train"], "{line}");
    let best: usize = stdout
        .lines()
        .find_map(|l| l.strip_prefix("best configuration (trial "))
        .and_then(|r| r.split(')').next())
        .and_then(|n| n.parse().ok())
        .unwrap();
    assert!(
        w.contains(&format!("{}", 5 + best)),
        "{line}: the trial's seed"
    );
    let run = nasbo().current_dir(&dir).args(&w[1..]).output().unwrap();
    assert!(
        run.status.success(),
        "{}",
        String::from_utf8_lossy(&run.stderr)
    );
    let j = last_json(&run.stdout);
    let rows = csv_rows(&dir.join("nas.csv"));
    let trial = &rows[best];
    let num = |k: &str| trial[k].parse::<f64>().unwrap();
    // Same split, same seed, same epochs: the same network, to the last bit.
    assert_eq!(j["val_accuracy"].as_f64().unwrap(), num("value"));
    assert_eq!(
        j["test_accuracy"].as_f64().unwrap(),
        num("metric_test_accuracy")
    );
    assert_eq!(j["parameters"].as_f64().unwrap(), num("metric_parameters"));
    assert_eq!(j["epochs"], 3);
    assert_eq!(j["train_examples"], 1079);
    assert_eq!(j["validation"], "held out");
    assert!(j["train_seconds"].as_f64().unwrap() > 0.0);
    // The weights rebuild the network: the same test accuracy on the same test split.
    let dev = candle_core::Device::Cpu;
    let model::Model {
        net,
        metadata: meta,
        standardization,
    } = model::load(&dir.join("best.safetensors"), &dev).unwrap();
    assert_eq!(meta["format"], "nasbo-train");
    assert_eq!(meta["nasbo.dataset"], "digits");
    assert!(meta["nasbo.arch"].contains("depth"));
    let params: serde_json::Value = serde_json::from_str(&meta["nasbo.params"]).unwrap();
    assert_eq!(params["depth"].to_string(), trial["param_depth"]);
    let splits = data::split(&data::load("digits").unwrap(), None, 0.2, 0.2, 5).unwrap();
    // The input standardization travels with the weights.
    assert_eq!(standardization, splits.standardization);
    let acc = accuracy(&net, &splits.test, 256, &dev).unwrap();
    assert_eq!(acc, j["test_accuracy"].as_f64().unwrap());
    assert_eq!(net.parameter_count() as f64, num("metric_parameters"));
}

const P: &str = r#"{"depth":1,"width":8,"connection":"pool","lr":0.01,"batch_size":"32"}"#;

#[test]
fn full_trains_on_validation_too_and_reports_no_validation_accuracy() {
    let dir = workdir("train", "full");
    let run = nasbo()
        .current_dir(&dir)
        .args([
            "train",
            "--params",
            P,
            "--epochs",
            "2",
            "--full",
            "--out",
            "m.safetensors",
        ])
        .output()
        .unwrap();
    assert!(
        run.status.success(),
        "{}",
        String::from_utf8_lossy(&run.stderr)
    );
    let j = last_json(&run.stdout);
    assert_eq!(j["train_examples"], 1079 + 359);
    assert!(j["val_accuracy"].is_null());
    assert_eq!(j["validation"], "trained on");
    assert!(j["test_accuracy"].as_f64().unwrap() > 0.3);
    // Plain progress lines when stderr is not a terminal.
    let err = String::from_utf8_lossy(&run.stderr);
    assert!(err.contains("epoch 2/2: loss"), "{err}");
}

#[test]
fn bad_input_is_named_and_writes_nothing() {
    let dir = workdir("train", "bad");
    let ok = r#"{"depth":1,"width":8,"lr":0.01}"#;
    let cases: &[(&str, &str, &str)] = &[
        (r#"{"depth":1,"#, "m.safetensors", "not valid JSON"),
        ("[1, 2]", "m.safetensors", "expected a JSON object"),
        (
            r#"{"depth":1,"width":8}"#,
            "m.safetensors",
            "missing parameter `lr`",
        ),
        (
            r#"{"depth":1,"width":8,"lr":0.01,"depht":2}"#,
            "m.safetensors",
            "unknown parameter `depht`",
        ),
        (
            r#"{"depth":0,"width":8,"lr":0.01}"#,
            "m.safetensors",
            "`depth`: 0 is not a positive whole number",
        ),
        (
            r#"{"depth":2.5,"width":8,"lr":0.01}"#,
            "m.safetensors",
            "`depth`: 2.5",
        ),
        (
            r#"{"depth":1,"width":8,"lr":50}"#,
            "m.safetensors",
            "`lr` = 50",
        ),
        (
            r#"{"depth":1,"width":8,"lr":0.01,"dropout":0.95}"#,
            "m.safetensors",
            "`dropout` = 0.95",
        ),
        (
            r#"{"depth":1,"width":8,"lr":0.01,"connection":"ring"}"#,
            "m.safetensors",
            "unknown connection `ring`",
        ),
        (
            r#"{"depth":1,"width":8,"lr":"fast"}"#,
            "m.safetensors",
            "`lr`: expected a number",
        ),
        (
            r#"{"depth":1,"width":8,"lr":0.01,"optimizer":3}"#,
            "m.safetensors",
            "`optimizer`: expected a string",
        ),
        (
            r#"{"depth":1,"width":100000,"lr":0.01}"#,
            "m.safetensors",
            "`width` = 100000",
        ),
        (ok, "no/such/folder/m.safetensors", "does not exist"),
        (ok, ".", "is a folder"),
    ];
    for (params, out, want) in cases {
        let run = nasbo()
            .current_dir(&dir)
            .args(["train", "--params", params, "--epochs", "1", "--out", out])
            .output()
            .unwrap();
        let err = String::from_utf8_lossy(&run.stderr);
        assert_eq!(run.status.code(), Some(2), "{params} → {err}");
        assert!(err.contains(want), "{params}: wanted {want:?} in {err}");
        assert!(!err.contains("panicked"), "{err}");
    }
    // A pooling block on tabular data is refused by name too.
    let run = nasbo()
        .current_dir(&dir)
        .args([
            "train",
            "--dataset",
            "iris",
            "--params",
            P,
            "--epochs",
            "1",
            "--out",
            "m.safetensors",
        ])
        .output()
        .unwrap();
    let err = String::from_utf8_lossy(&run.stderr);
    assert!(err.contains("`connection` = pool"), "{err}");
    assert_eq!(
        std::fs::read_dir(&dir).unwrap().count(),
        0,
        "nothing written"
    );
}

#[cfg(unix)]
#[test]
fn an_unwritable_out_fails_before_training() {
    use std::os::unix::fs::PermissionsExt;
    let dir = workdir("train", "readonly");
    let ro = dir.join("ro");
    std::fs::create_dir(&ro).unwrap();
    std::fs::set_permissions(&ro, std::fs::Permissions::from_mode(0o555)).unwrap();
    // Root ignores the mode; then the check is that training succeeds and writes the file.
    let root = std::fs::File::create(ro.join("probe")).is_ok();
    std::fs::remove_file(ro.join("probe")).ok();
    let run = nasbo()
        .current_dir(&dir)
        .args([
            "train",
            "--params",
            P,
            "--epochs",
            "1",
            "--out",
            "ro/m.safetensors",
        ])
        .output()
        .unwrap();
    let err = String::from_utf8_lossy(&run.stderr);
    if root {
        assert!(run.status.success(), "{err}");
    } else {
        assert_eq!(run.status.code(), Some(2), "{err}");
        assert!(err.contains("cannot write there"), "{err}");
        assert!(
            !err.contains("epoch 1/1"),
            "it failed before training: {err}"
        );
    }
}
