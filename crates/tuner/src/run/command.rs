//! [`CommandObjective`]: a trial is a run of an external command (Unix only).
//!
//! `{name}` in the command's arguments becomes the parameter's value (empty when inactive),
//! `{trial}` the trial number; `{{` and `}}` are literal braces, and `${NAME}` is left to the
//! shell. The parameters are also in the environment as JSON (`NASBO_PARAMS`), with the
//! trial number (`NASBO_TRIAL`). The command runs in its own process group; stopping a trial
//! sends the group SIGTERM, then SIGKILL after a grace period.
//!
//! Standard output is read as it comes: a line `{"step": 3, "value": 0.71}` (other numeric
//! keys allowed) is an intermediate value; the last other non-empty line is the objective — a
//! number, or a JSON object whose `"value"` is the objective and whose other numeric keys
//! become metrics. A non-zero exit, or a last line that is neither, is a failure with its
//! reason. With a log folder, each trial's standard output and error are kept there as
//! `trial-<N>.stdout` and `trial-<N>.stderr` (appended to when a trial runs again).

use std::fs::{File, OpenOptions};
use std::io::{BufRead, BufReader, Read, Write};
use std::os::unix::process::CommandExt;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, ExitStatus, Stdio};
use std::time::{Duration, Instant};

use wait_timeout::ChildExt;

use super::objective::{Objective, TrialHandle};
use crate::space::{Assignment, Space};
use crate::trial::Outcome;
use crate::TunerError;

/// The objective parsed from a command's output.
#[derive(Debug, PartialEq)]
pub struct Parsed {
    /// The objective.
    pub value: f64,
    /// Other numeric keys of a JSON line.
    pub metrics: Vec<(String, f64)>,
}

/// A step line: `{"step": N, "value": V, ...}`, as `(N, V)`; `None` for any other line,
/// including a malformed step line (see [`classify_step`]).
pub fn parse_step(line: &str) -> Option<(u64, f64)> {
    match classify_step(line) {
        StepLine::Step(step, value) => Some((step, value)),
        _ => None,
    }
}

/// What a line of a command's output is, as far as steps go.
#[derive(Clone, Debug, PartialEq)]
pub enum StepLine {
    /// Not a step line (an objective line, a log line).
    Other,
    /// A step line.
    Step(u64, f64),
    /// A line that means to be one (a JSON object with a `"step"` key) but is not.
    Bad {
        /// What is wrong (one fixed text per kind of problem).
        what: &'static str,
        /// The line, shortened.
        line: String,
    },
}

/// Classifies a line of output: a JSON object with a `"step"` key is a step line; one whose
/// step is not a whole number ≥ 0, or whose `"value"` is missing, not a number or not finite,
/// is a bad step line (never the objective).
pub fn classify_step(line: &str) -> StepLine {
    let line = line.trim();
    if !line.starts_with('{') || !line.contains("\"step\"") {
        return StepLine::Other;
    }
    let bad = |what| StepLine::Bad {
        what,
        line: line.chars().take(80).collect(),
    };
    let Ok(json) = serde_json::from_str::<serde_json::Value>(line) else {
        return bad(if ["NaN", "Infinity"].iter().any(|w| line.contains(w)) {
            "not valid JSON (NaN and Infinity are not JSON numbers)"
        } else {
            "not valid JSON"
        });
    };
    let Some(step) = json.as_object().and_then(|o| o.get("step")) else {
        return StepLine::Other;
    };
    let Some(step) = step.as_u64() else {
        return bad("the step is not a whole number >= 0");
    };
    match json.get("value").map(|v| v.as_f64()) {
        None => bad("a step line needs a \"value\""),
        Some(None) => bad("the value is not a number"),
        Some(Some(v)) if !v.is_finite() => bad("the value is not finite"),
        Some(Some(v)) => StepLine::Step(step, v),
    }
}

/// Reads the objective from a command's standard output: the last non-empty line that is
/// not a step line.
pub fn parse_output(stdout: &str) -> Result<Parsed, String> {
    let Some(line) = stdout
        .lines()
        .map(str::trim)
        .rev()
        .find(|l| !l.is_empty() && classify_step(l) == StepLine::Other)
    else {
        return Err("the command printed no objective on standard output".into());
    };
    parse_line(line)
}

fn parse_line(line: &str) -> Result<Parsed, String> {
    let short: String = line.chars().take(120).collect();
    let (value, metrics) = parse_any(line)?;
    let value = value.ok_or_else(|| format!("the JSON line `{short}` has no numeric \"value\""))?;
    Ok(Parsed { value, metrics })
}

/// An output line's value, if it has one, and its numeric keys.
type ValueAndMetrics = (Option<f64>, Vec<(String, f64)>);

/// A number, or a JSON object with an optional `"value"` and other numeric keys.
fn parse_any(line: &str) -> Result<ValueAndMetrics, String> {
    let short: String = line.chars().take(120).collect();
    if let Ok(v) = line.parse::<f64>() {
        if !v.is_finite() {
            return Err(format!("the objective `{short}` is not finite"));
        }
        return Ok((Some(v), vec![]));
    }
    if line.starts_with('{') {
        let json: serde_json::Value = serde_json::from_str(line)
            .map_err(|e| format!("the last line `{short}` is not valid JSON: {e}"))?;
        let obj = json
            .as_object()
            .ok_or("the last line is not a JSON object")?;
        let value = match obj.get("value") {
            None => None,
            Some(v) => Some(
                v.as_f64()
                    .ok_or_else(|| format!("the JSON line `{short}` has no numeric \"value\""))?,
            ),
        };
        if let Some(v) = value.filter(|v| !v.is_finite()) {
            return Err(format!("the objective {v} is not finite"));
        }
        let metrics = obj
            .iter()
            .filter(|(k, _)| k.as_str() != "value")
            .filter_map(|(k, v)| v.as_f64().filter(|x| x.is_finite()).map(|x| (k.clone(), x)))
            .filter(|(k, _)| !k.is_empty() && !k.contains([',', '\n', '\r', '"']))
            .collect();
        return Ok((value, metrics));
    }
    Err(format!(
        "the last line of output `{short}` is not a number or a JSON object"
    ))
}

/// The outcome of a line of output: with `keys`, the values of those keys in order (and every
/// numeric key as a metric); without, the line's value.
fn outcome_of(line: &str, keys: Option<&[String]>) -> Outcome {
    let Some(keys) = keys else {
        return match parse_line(line) {
            Ok(p) => Outcome::with_metrics(p.value, p.metrics),
            Err(reason) => Outcome::failed(reason),
        };
    };
    match parse_any(line) {
        Ok((value, metrics)) => match super::keys::pick_values(keys, value, &metrics, &[]) {
            Ok(values) => Outcome::Complete {
                metrics: super::keys::with_objective_metrics(keys, &values, metrics),
                values,
            },
            Err(reason) => Outcome::failed(reason),
        },
        Err(reason) => Outcome::failed(reason),
    }
}

/// One piece of an argument: literal text or a placeholder's name.
#[derive(Debug, PartialEq)]
enum Piece<'a> {
    Text(&'a str),
    Brace(char),
    Name(&'a str),
}

fn is_name(s: &str) -> bool {
    let mut c = s.chars();
    c.next()
        .is_some_and(|f| f.is_ascii_alphabetic() || f == '_')
        && s.chars()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, '_' | '-' | '.'))
}

/// Splits an argument into literal text and `{name}` placeholders.
fn pieces(arg: &str) -> Vec<Piece<'_>> {
    let mut out = Vec::new();
    let b = arg.as_bytes();
    let (mut i, mut lit) = (0, 0);
    while i < b.len() {
        if b[i] == b'{' && b.get(i + 1) == Some(&b'{') {
            out.push(Piece::Text(&arg[lit..i]));
            out.push(Piece::Brace('{'));
            i += 2;
            lit = i;
        } else if b[i] == b'}' && b.get(i + 1) == Some(&b'}') {
            out.push(Piece::Text(&arg[lit..i]));
            out.push(Piece::Brace('}'));
            i += 2;
            lit = i;
        } else if b[i] == b'{' && (i == 0 || b[i - 1] != b'$') {
            match arg[i + 1..].find('}') {
                Some(end) if is_name(&arg[i + 1..i + 1 + end]) => {
                    out.push(Piece::Text(&arg[lit..i]));
                    out.push(Piece::Name(&arg[i + 1..i + 1 + end]));
                    i += end + 2;
                    lit = i;
                }
                _ => i += 1,
            }
        } else {
            i += 1;
        }
    }
    out.push(Piece::Text(&arg[lit..]));
    out.retain(|p| *p != Piece::Text(""));
    out
}

/// The command's arguments with `{name}` replaced by the parameters' values (empty for
/// inactive ones) and `{trial}` by the trial number.
pub fn substitute(
    args: &[String],
    space: &Space,
    params: &Assignment,
    trial: usize,
) -> Vec<String> {
    args.iter()
        .map(|a| {
            let mut s = String::with_capacity(a.len());
            for p in pieces(a) {
                match p {
                    Piece::Text(t) => s.push_str(t),
                    Piece::Brace(c) => s.push(c),
                    Piece::Name("trial") => s.push_str(&trial.to_string()),
                    Piece::Name(n) => match space.index(n) {
                        Some(i) => {
                            if let Some(v) = params.get(i).and_then(|v| v.as_ref()) {
                                s.push_str(&v.to_string());
                            }
                        }
                        None => {
                            s.push('{');
                            s.push_str(n);
                            s.push('}');
                        }
                    },
                }
            }
            s
        })
        .collect()
}

/// Runs an external command per trial.
#[derive(Clone, Debug)]
pub struct CommandObjective {
    argv: Vec<String>,
    grace: Duration,
    keys: Option<Vec<String>>,
}

impl CommandObjective {
    /// The command `argv[0]` with arguments `argv[1..]` (placeholders as above).
    pub fn new(argv: Vec<String>) -> Result<Self, TunerError> {
        if argv.is_empty() || argv[0].is_empty() {
            return Err(TunerError::InvalidConfig {
                name: "command",
                value: format!("{argv:?}"),
                reason: "no command to run".into(),
            });
        }
        Ok(CommandObjective {
            argv,
            grace: Duration::from_secs(5),
            keys: None,
        })
    }
    /// Reads the objectives from these keys of the output's JSON line, in order (`value` is
    /// the line's value), instead of its `"value"`: one value per key, and a trial whose
    /// output lacks a key fails with a reason that names it.
    pub fn keys(mut self, keys: Vec<String>) -> Self {
        self.keys = Some(keys);
        self
    }
    /// How long a stopped command has between SIGTERM and SIGKILL (default 5 s).
    pub fn grace(mut self, grace: Duration) -> Self {
        self.grace = grace;
        self
    }
    /// The command line.
    pub fn argv(&self) -> &[String] {
        &self.argv
    }
}

fn signal_group(pid: u32, signal: i32) {
    // SAFETY: kill(2) with a negative pid signals a process group; it has no memory effects.
    unsafe {
        libc::kill(-(pid as i32), signal);
    }
}

fn log_file(dir: Option<&Path>, number: usize, ext: &str) -> Option<(PathBuf, File)> {
    let dir = dir?;
    let path = dir.join(format!("trial-{number}.{ext}"));
    let f = OpenOptions::new()
        .create(true)
        .append(true)
        .open(&path)
        .ok()?;
    Some((path, f))
}

impl Objective for CommandObjective {
    fn check(&self, space: &Space) -> Result<(), TunerError> {
        for a in &self.argv {
            for p in pieces(a) {
                if let Piece::Name(n) = p {
                    if n != "trial" && space.index(n).is_none() {
                        let names: Vec<&str> =
                            space.params().iter().map(|p| p.name.as_str()).collect();
                        return Err(TunerError::InvalidConfig {
                            name: "command",
                            value: format!("`{a}`"),
                            reason: format!(
                                "the placeholder {{{n}}} is not a parameter of the space ({}, or {{trial}}); write {{{{{n}}}}} for a literal {{{n}}}",
                                names.join(", ")
                            ),
                        });
                    }
                }
            }
        }
        Ok(())
    }

    fn evaluate(&self, h: &TrialHandle) -> Outcome {
        let argv = substitute(&self.argv, h.space(), h.params(), h.number());
        let mut cmd = Command::new(&argv[0]);
        cmd.args(&argv[1..])
            .env("NASBO_PARAMS", h.params_json().to_string())
            .env("NASBO_TRIAL", h.number().to_string())
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .process_group(0);
        let out_log = log_file(h.log_dir(), h.number(), "stdout");
        let err_log = log_file(h.log_dir(), h.number(), "stderr");
        let mut child = match cmd.spawn() {
            Ok(c) => c,
            Err(e) => return Outcome::failed(format!("cannot start `{}`: {e}", argv[0])),
        };
        let (Some(out), Some(err)) = (child.stdout.take(), child.stderr.take()) else {
            return Outcome::failed("the command's output could not be read");
        };
        let pid = child.id();
        let (status, last_out, last_err) = std::thread::scope(|s| {
            let out_reader = s.spawn(|| read_stdout(out, out_log.map(|l| l.1), h));
            let err_reader = s.spawn(|| read_stderr(err, err_log.as_ref().map(|l| &l.1)));
            let status = self.wait(&mut child, pid, h);
            // Whatever the command left running in its group goes with it, so the pipes close.
            signal_group(pid, libc::SIGKILL);
            let last_out = out_reader.join().unwrap_or_default();
            let last_err = err_reader.join().unwrap_or_default();
            (status, last_out, last_err)
        });
        let where_err = err_log
            .as_ref()
            .map(|(p, _)| format!(" (stderr in {})", p.display()))
            .unwrap_or_default();
        match status {
            Err(reason) => Outcome::failed(reason),
            Ok(status) if !status.success() => {
                let code = status
                    .code()
                    .map(|c| format!("exit status {c}"))
                    .unwrap_or_else(|| "killed by a signal".into());
                Outcome::failed(if last_err.is_empty() {
                    format!("{code}{where_err}")
                } else {
                    format!("{code}: {last_err}{where_err}")
                })
            }
            Ok(_) => match last_out {
                None => Outcome::failed("the command printed no objective on standard output"),
                Some(line) => outcome_of(&line, self.keys.as_deref()),
            },
        }
    }
}

impl CommandObjective {
    /// Waits for the command; on a stop, SIGTERM to its group, then SIGKILL after the grace.
    fn wait(&self, child: &mut Child, pid: u32, h: &TrialHandle) -> Result<ExitStatus, String> {
        let mut terminated: Option<Instant> = None;
        loop {
            match child.wait_timeout(Duration::from_millis(25)) {
                Ok(Some(status)) => {
                    return match terminated {
                        Some(_) => Err("stopped".into()),
                        None => Ok(status),
                    }
                }
                Ok(None) => {}
                Err(e) => {
                    signal_group(pid, libc::SIGKILL);
                    let _ = child.wait();
                    return Err(format!("waiting for the command: {e}"));
                }
            }
            match terminated {
                None if h.should_stop() => {
                    signal_group(pid, libc::SIGTERM);
                    terminated = Some(Instant::now());
                }
                Some(t) if t.elapsed() > self.grace => {
                    signal_group(pid, libc::SIGKILL);
                    let _ = child.wait();
                    return Err("stopped (killed after the grace period)".into());
                }
                _ => {}
            }
        }
    }
}

/// Reads standard output line by line: step lines become reports, the last other non-empty
/// line is returned; everything is copied to the log.
fn read_stdout(out: impl Read, mut log: Option<File>, h: &TrialHandle) -> Option<String> {
    let mut last = None;
    let mut warned: Vec<&'static str> = Vec::new();
    for line in BufReader::new(out).split(b'\n').map_while(|l| l.ok()) {
        if let Some(f) = log.as_mut() {
            let _ = f.write_all(&line).and_then(|_| f.write_all(b"\n"));
        }
        let text = String::from_utf8_lossy(&line);
        let t = text.trim();
        if t.is_empty() {
            continue;
        }
        match classify_step(t) {
            StepLine::Step(step, value) => {
                h.report(step, value);
            }
            StepLine::Bad { what, line } => {
                if !warned.contains(&what) {
                    h.warn(format!(
                        "trial {}: bad step line `{line}` ignored (and any more like it): {what}",
                        h.number()
                    ));
                    warned.push(what);
                }
            }
            StepLine::Other => last = Some(t.chars().take(10_000).collect()),
        }
    }
    last
}

/// Reads standard error into the log; returns its last non-empty line (shortened).
fn read_stderr(err: impl Read, log: Option<&File>) -> String {
    let mut last = String::new();
    let mut log = log;
    for line in BufReader::new(err).split(b'\n').map_while(|l| l.ok()) {
        if let Some(f) = log.as_mut() {
            let _ = f.write_all(&line).and_then(|_| f.write_all(b"\n"));
        }
        if !line.iter().all(u8::is_ascii_whitespace) {
            last = String::from_utf8_lossy(&line)
                .trim()
                .chars()
                .take(200)
                .collect();
        }
    }
    last
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::space::{Param, Value};

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
        // Step lines are intermediate values, not the objective.
        let p = parse_output("0.9\n{\"step\": 1, \"value\": 0.3}\n").unwrap();
        assert_eq!(p.value, 0.9);
        assert_eq!(
            parse_step("{\"step\": 4, \"value\": 0.25, \"loss\": 1}"),
            Some((4, 0.25))
        );
        assert_eq!(parse_step("{\"step\": -1, \"value\": 0.25}"), None);
        // Lines that mean to be step lines and are not: never the objective.
        for (line, what) in [
            ("{\"step\": 2, \"value\": NaN}", "NaN and Infinity"),
            ("{\"step\": 2.5, \"value\": 1}", "whole number"),
            ("{\"step\": 2}", "needs a \"value\""),
            ("{\"step\": 2, \"value\": \"x\"}", "not a number"),
            ("{\"step\": 2, \"value\": 1e999}", "not valid JSON"),
        ] {
            match classify_step(line) {
                StepLine::Bad { what: w, .. } => assert!(w.contains(what), "{line}: {w}"),
                other => panic!("{line}: {other:?}"),
            }
        }
        assert_eq!(classify_step("0.5"), StepLine::Other);
        assert_eq!(classify_step("{\"value\": 0.5}"), StepLine::Other);
        let p = parse_output("0.7\n{\"step\": 3, \"value\": NaN}\n").unwrap();
        assert_eq!(p.value, 0.7);
        for (out, msg) in [
            ("", "printed no objective"),
            ("{\"step\": 1, \"value\": 0.3}", "printed no objective"),
            ("loss: 0.3", "not a number"),
            ("nan", "not finite"),
            ("{\"loss\": 1}", "no numeric \"value\""),
            ("{oops", "not valid JSON"),
        ] {
            let e = parse_output(out).unwrap_err();
            assert!(e.contains(msg), "{out:?}: {e}");
        }
    }

    fn space() -> Space {
        Space::new(vec![
            Param::float("lr", 0.001, 1.0),
            Param::categorical("c", &["a", "b"]),
        ])
        .unwrap()
    }

    #[test]
    fn placeholders_are_substituted_and_unknown_ones_refused() {
        let space = space();
        let a = vec![Some(Value::Float(0.01)), Some(Value::Cat("b".into()))];
        let args: Vec<String> = [
            "--lr",
            "{lr}",
            "--c={c}",
            "{trial}",
            "{{other}}",
            "${HOME}",
            "{\"value\": 1}",
            "awk '{print $1}'",
        ]
        .iter()
        .map(|s| s.to_string())
        .collect();
        assert_eq!(
            substitute(&args, &space, &a, 7),
            vec![
                "--lr",
                "0.01",
                "--c=b",
                "7",
                "{other}",
                "${HOME}",
                "{\"value\": 1}",
                "awk '{print $1}'"
            ]
        );
        let ok = CommandObjective::new(args).unwrap();
        ok.check(&space).unwrap();
        let typo = CommandObjective::new(vec!["echo".into(), "{y}".into()]).unwrap();
        let err = typo.check(&space).unwrap_err().to_string();
        assert!(
            err.contains("{y} is not a parameter of the space (lr, c, or {trial})"),
            "{err}"
        );
        // Tiny values keep an exponent instead of hundreds of digits.
        let tiny = vec![Some(Value::Float(1e-300)), None];
        assert_eq!(
            substitute(&["{lr}{c}".into()], &space, &tiny, 0),
            vec!["1e-300"]
        );
    }
}
