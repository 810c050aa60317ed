//! `nasbo tune`: tunes any program. Each trial runs the command with `{name}` in its arguments
//! replaced by the parameter's value (and `{trial}` by the trial number); the parameters are
//! also in the environment as JSON (`NASBO_PARAMS`) with the trial number (`NASBO_TRIAL`). The
//! objective is the last non-empty line of the command's standard output: a number, or a JSON
//! object whose `"value"` is the objective and whose other numeric keys become metrics.

use std::io::{BufRead, BufReader, Read};
use std::os::unix::process::CommandExt;
use std::path::PathBuf;
use std::process::{Command, ExitCode, Stdio};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::mpsc;
use std::sync::Arc;
use std::time::{Duration, Instant};

use anyhow::{bail, Context as _, Result};
use clap::Args;
use nasbo::tuner::csv_io::{read_trials, write_atomic};
use nasbo::tuner::{
    Assignment, Direction, Outcome, Space, StrategyKind, Study, StudyConfig, TrialState, Value,
};
use wait_timeout::ChildExt;

use super::progress::Progress;

/// Arguments of `nasbo tune`.
#[derive(Args, Debug)]
pub struct TuneArgs {
    /// The search space (TOML, one [[param]] table per parameter).
    #[arg(long)]
    space: PathBuf,
    /// Number of trials to run (in total, counting those of --resume).
    #[arg(long, default_value_t = 50)]
    trials: usize,
    /// Seed of every proposal.
    #[arg(long, default_value_t = 0)]
    seed: u64,
    /// Where to write the trials (rewritten atomically after every trial).
    #[arg(long, default_value = "trials.csv")]
    out: PathBuf,
    /// minimize or maximize the objective.
    #[arg(long, default_value = "minimize")]
    direction: String,
    /// bo, random, sobol, evolution or reinforce.
    #[arg(long, default_value = "bo")]
    strategy: String,
    /// The objective is noisy (e.g. a validation accuracy that changes with the training seed):
    /// `bo` then learns the noise level (BoTorch's prior), ranks by posterior mean and may
    /// re-evaluate a configuration.
    #[arg(long)]
    noisy: bool,
    /// Commands run at once (proposals account for the pending ones).
    #[arg(long, default_value_t = 1)]
    parallel: usize,
    /// Seconds after which a trial is stopped and recorded as failed.
    #[arg(long)]
    trial_timeout: Option<f64>,
    /// Continue the study recorded in this CSV (its trials count towards --trials).
    #[arg(long)]
    resume: Option<PathBuf>,
    /// Start from the results in this CSV (same space) without counting them as trials of this
    /// run.
    #[arg(long)]
    warm_start: Option<PathBuf>,
    /// The command and its arguments, after `--`.
    #[arg(last = true, required = true)]
    command: Vec<String>,
}

/// The objective parsed from a command's output.
#[derive(Debug, PartialEq)]
pub struct Parsed {
    /// The objective.
    pub value: f64,
    /// Other numeric keys of a JSON line.
    pub metrics: Vec<(String, f64)>,
}

/// Reads the objective from a command's standard output.
pub fn parse_output(stdout: &str) -> Result<Parsed, String> {
    let Some(line) = stdout.lines().map(str::trim).rev().find(|l| !l.is_empty()) else {
        return Err("the command printed nothing on standard output".into());
    };
    let short: String = line.chars().take(120).collect();
    if let Ok(v) = line.parse::<f64>() {
        if !v.is_finite() {
            return Err(format!("the objective `{short}` is not finite"));
        }
        return Ok(Parsed {
            value: v,
            metrics: vec![],
        });
    }
    if line.starts_with('{') {
        let json: serde_json::Value = serde_json::from_str(line)
            .map_err(|e| format!("the last line `{short}` is not valid JSON: {e}"))?;
        let obj = json
            .as_object()
            .ok_or("the last line is not a JSON object")?;
        let value = obj
            .get("value")
            .and_then(|v| v.as_f64())
            .ok_or_else(|| format!("the JSON line `{short}` has no numeric \"value\""))?;
        if !value.is_finite() {
            return Err(format!("the objective {value} is not finite"));
        }
        let metrics = obj
            .iter()
            .filter(|(k, _)| k.as_str() != "value")
            .filter_map(|(k, v)| v.as_f64().filter(|x| x.is_finite()).map(|x| (k.clone(), x)))
            .filter(|(k, _)| !k.is_empty() && !k.contains([',', '\n', '"']))
            .collect();
        return Ok(Parsed { value, metrics });
    }
    Err(format!(
        "the last line of output `{short}` is not a number or a JSON object"
    ))
}

/// The command's arguments with `{name}` replaced by the parameters' values (empty for inactive
/// ones) and `{trial}` by the trial number.
pub fn substitute(
    args: &[String],
    space: &Space,
    params: &Assignment,
    trial: usize,
) -> Vec<String> {
    args.iter()
        .map(|a| {
            let mut s = a.replace("{trial}", &trial.to_string());
            for (p, v) in space.params().iter().zip(params) {
                let key = format!("{{{}}}", p.name);
                if s.contains(&key) {
                    s = s.replace(&key, &v.as_ref().map(Value::to_string).unwrap_or_default());
                }
            }
            s
        })
        .collect()
}

struct Finished {
    trial: usize,
    outcome: Outcome,
}

fn tail_line(bytes: &[u8]) -> String {
    String::from_utf8_lossy(bytes)
        .lines()
        .map(str::trim)
        .rev()
        .find(|l| !l.is_empty())
        .map(|l| l.chars().take(200).collect())
        .unwrap_or_default()
}

fn kill_group(pid: u32) {
    // The command runs in its own process group: stop it and anything it started.
    unsafe {
        libc::kill(-(pid as i32), libc::SIGKILL);
    }
}

/// Runs one trial's command to completion (or timeout, or interruption).
fn run_trial(
    argv: Vec<String>,
    env_params: String,
    trial: usize,
    timeout: Option<Duration>,
    stop: Arc<AtomicBool>,
) -> Outcome {
    let mut cmd = Command::new(&argv[0]);
    cmd.args(&argv[1..])
        .env("NASBO_PARAMS", env_params)
        .env("NASBO_TRIAL", trial.to_string())
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .process_group(0);
    let mut child = match cmd.spawn() {
        Ok(c) => c,
        Err(e) => {
            return Outcome::Failed {
                reason: format!("cannot start `{}`: {e}", argv[0]),
            }
        }
    };
    let pid = child.id();
    let mut out = child.stdout.take().expect("piped stdout");
    let err = child.stderr.take().expect("piped stderr");
    let out_reader = std::thread::spawn(move || {
        let mut buf = Vec::new();
        let _ = out.read_to_end(&mut buf);
        buf
    });
    let err_reader = std::thread::spawn(move || {
        // Keep the last lines of standard error for the failure message.
        let mut last: Vec<u8> = Vec::new();
        for line in BufReader::new(err).split(b'\n').map_while(|l| l.ok()) {
            if !line.iter().all(u8::is_ascii_whitespace) {
                last = line;
            }
        }
        last
    });
    let started = Instant::now();
    let status = loop {
        match child.wait_timeout(Duration::from_millis(50)) {
            Ok(Some(status)) => break Ok(status),
            Ok(None) => {}
            Err(e) => break Err(format!("waiting for the command: {e}")),
        }
        if stop.load(Ordering::SeqCst) {
            kill_group(pid);
            let _ = child.wait();
            break Err("interrupted (Ctrl-C)".into());
        }
        if let Some(t) = timeout {
            if started.elapsed() > t {
                kill_group(pid);
                let _ = child.wait();
                break Err(format!("timed out after {:.1} s", t.as_secs_f64()));
            }
        }
    };
    // A killed group closes the pipes; a lingering grandchild that kept them open would block
    // here, so the readers are joined only after the group is gone.
    let stdout = out_reader.join().unwrap_or_default();
    let stderr_last = err_reader.join().unwrap_or_default();
    match status {
        Err(reason) => Outcome::Failed { reason },
        Ok(status) if !status.success() => {
            let code = status
                .code()
                .map(|c| format!("exit status {c}"))
                .unwrap_or_else(|| "killed by a signal".into());
            let last = tail_line(&stderr_last);
            Outcome::Failed {
                reason: if last.is_empty() {
                    code
                } else {
                    format!("{code}: {last}")
                },
            }
        }
        Ok(_) => match parse_output(&String::from_utf8_lossy(&stdout)) {
            Ok(p) => Outcome::Complete {
                value: p.value,
                metrics: p.metrics,
            },
            Err(reason) => Outcome::Failed { reason },
        },
    }
}

fn describe(space: &Space, a: &Assignment) -> String {
    space
        .params()
        .iter()
        .zip(a)
        .filter_map(|(p, v)| v.as_ref().map(|v| format!("{}={v}", p.name)))
        .collect::<Vec<_>>()
        .join(" ")
}

/// Runs `nasbo tune`.
pub fn run(args: TuneArgs) -> Result<ExitCode> {
    let space = Space::from_file(&args.space).context("reading the search space")?;
    let direction = Direction::parse(&args.direction)
        .with_context(|| format!("--direction `{}`: use minimize or maximize", args.direction))?;
    let strategy = match StrategyKind::parse(&args.strategy).with_context(|| {
        format!(
            "--strategy `{}`: use bo, random, sobol, evolution or reinforce",
            args.strategy
        )
    })? {
        StrategyKind::Bo(c) => StrategyKind::Bo(nasbo::tuner::BoConfig {
            noisy: args.noisy,
            ..c
        }),
        s => s,
    };
    if args.parallel == 0 {
        bail!("--parallel must be at least 1");
    }
    if let Some(t) = args.trial_timeout {
        if !(t.is_finite() && t > 0.0) {
            bail!("--trial-timeout must be a positive number of seconds");
        }
    }
    let timeout = args.trial_timeout.map(Duration::from_secs_f64);
    let mut study = Study::new(
        space.clone(),
        StudyConfig {
            direction,
            seed: args.seed,
            strategy,
        },
    )?;
    let mut target = args.trials;
    if let Some(w) = &args.warm_start {
        let trials = read_trials(&space, w).context("reading --warm-start")?;
        let n = study.add_trials(trials)?;
        target += n;
        eprintln!("warm start: {n} earlier trials from {}", w.display());
    }
    if let Some(r) = &args.resume {
        let trials = read_trials(&space, r).context("reading --resume")?;
        let n = study.add_trials(trials)?;
        eprintln!("resuming: {n} trials from {}", r.display());
    }
    let stop = Arc::new(AtomicBool::new(false));
    {
        let stop = stop.clone();
        ctrlc::set_handler(move || stop.store(true, Ordering::SeqCst))
            .context("installing the Ctrl-C handler")?;
    }
    let progress = Progress::new(target as u64, "trials");
    let (tx, rx) = mpsc::channel::<Finished>();
    let mut running = 0usize;
    let mut done = study
        .trials()
        .iter()
        .filter(|t| t.state != TrialState::Running)
        .count();
    let mut last_suggest = 0.0;
    write_atomic(&study, &args.out)?;
    while (done < target || running > 0) && !(stop.load(Ordering::SeqCst) && running == 0) {
        while !stop.load(Ordering::SeqCst)
            && running < args.parallel
            && study.trials().len() < target
        {
            let (trial, params) = study.ask()?;
            last_suggest = study.trials()[trial].suggest_s;
            let argv = substitute(&args.command, &space, &params, trial);
            let env_params = space.to_json(&params).to_string();
            let (tx, stop) = (tx.clone(), stop.clone());
            std::thread::spawn(move || {
                let outcome = run_trial(argv, env_params, trial, timeout, stop);
                let _ = tx.send(Finished { trial, outcome });
            });
            running += 1;
        }
        let Ok(f) = rx.recv_timeout(Duration::from_millis(100)) else {
            continue;
        };
        running -= 1;
        done += 1;
        let line = match &f.outcome {
            Outcome::Complete { value, .. } => format!("trial {} complete: {value}", f.trial),
            Outcome::Failed { reason } => format!("trial {} failed: {reason}", f.trial),
            Outcome::Pruned { .. } => format!("trial {} pruned", f.trial),
        };
        study.tell(f.trial, f.outcome)?;
        write_atomic(&study, &args.out)?;
        let t = &study.trials()[f.trial];
        let best = study
            .best()
            .and_then(|b| b.value)
            .map(|v| format!("{v:.6}"))
            .unwrap_or_else(|| "-".into());
        progress.println(&format!(
            "{line}  [{}] ({:.2} s)",
            describe(&space, &t.params),
            t.duration_s().unwrap_or(0.0)
        ));
        progress.update(
            done as u64,
            &format!(
                "best {best}, last trial {:.2} s, suggest {:.1} ms",
                t.duration_s().unwrap_or(0.0),
                last_suggest * 1e3
            ),
        );
    }
    progress.finish();
    let interrupted = stop.load(Ordering::SeqCst);
    match study.best() {
        Some(b) => println!(
            "best: trial {} value {} [{}]",
            b.number,
            b.value.unwrap_or(f64::NAN),
            describe(&space, &b.params)
        ),
        None => println!("no trial completed"),
    }
    println!("trials written to {}", args.out.display());
    if interrupted {
        let mut cmdline: Vec<String> = std::env::args().collect();
        if let Some(i) = cmdline.iter().position(|a| a == "--resume") {
            cmdline.drain(i..i + 2);
        }
        let pos = cmdline
            .iter()
            .position(|a| a == "--")
            .unwrap_or(cmdline.len());
        cmdline.insert(pos, format!("--resume {}", args.out.display()));
        eprintln!(
            "stopped by Ctrl-C after {done} finished trials; resume with:\n  {}",
            cmdline.join(" ")
        );
        return Ok(ExitCode::from(130));
    }
    Ok(ExitCode::SUCCESS)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn objectives_are_read_from_the_last_line() {
        assert_eq!(
            parse_output("epoch 1\n0.5\n\n").unwrap(),
            Parsed {
                value: 0.5,
                metrics: vec![]
            }
        );
        let p =
            parse_output("training\n{\"value\": 2.5, \"seconds\": 1.5, \"name\": \"x\"}").unwrap();
        assert_eq!(p.value, 2.5);
        assert_eq!(p.metrics, vec![("seconds".to_string(), 1.5)]);
        for (out, msg) in [
            ("", "printed nothing"),
            ("loss: 0.3", "not a number"),
            ("nan", "not finite"),
            ("{\"loss\": 1}", "no numeric \"value\""),
            ("{oops", "not valid JSON"),
        ] {
            let e = parse_output(out).unwrap_err();
            assert!(e.contains(msg), "{out:?}: {e}");
        }
    }

    #[test]
    fn placeholders_are_substituted() {
        let space = Space::from_toml(
            "[[param]]\nname = \"lr\"\ntype = \"float\"\nlow = 0.001\nhigh = 1.0\n[[param]]\nname = \"c\"\ntype = \"categorical\"\nchoices = [\"a\", \"b\"]\n",
        )
        .unwrap();
        let a = vec![Some(Value::Float(0.01)), Some(Value::Cat("b".into()))];
        let args: Vec<String> = ["--lr", "{lr}", "--c={c}", "{trial}", "{other}"]
            .iter()
            .map(|s| s.to_string())
            .collect();
        assert_eq!(
            substitute(&args, &space, &a, 7),
            vec!["--lr", "0.01", "--c=b", "7", "{other}"]
        );
    }
}
