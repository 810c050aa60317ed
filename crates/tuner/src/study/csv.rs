//! CSV, the exchange format: one row per trial, columns
//! `trial,state,value,param_<name>...,metric_<name>...,[step,]source,started_at,finished_at,duration_s,suggest_s,error`.
//! `pareto`, present in a study of several objectives (before `source`), is `1` for the
//! complete trials on the current non-dominated front and `0` for the others.
//! `step`, present when some trial reported intermediate values, is each trial's last
//! reported step (for a pruned trial, the step its `value` was reported at).
//! Times are ISO 8601 (RFC 3339, UTC, milliseconds). Empty cells: an inactive parameter, a
//! missing value or metric, a trial not finished. `source` says where the parameters came
//! from ([`Source::text`]: `model`, `initial`, `fallback: <reason>`, `warm-start`, `manual`).
//! Files without a `source` column (written before it existed) read as `model`.

use std::io::Write;
use std::path::Path;
use std::time::SystemTime;

use crate::space::{format_float, Space};
use crate::trial::{Direction, Source, Trial, TrialState};
use crate::TunerError;

/// The fixed columns after the metrics.
pub const TAIL: [&str; 5] = [
    "started_at",
    "finished_at",
    "duration_s",
    "suggest_s",
    "error",
];

fn time(t: Option<SystemTime>) -> String {
    t.map(|t| humantime::format_rfc3339_millis(t).to_string())
        .unwrap_or_default()
}

/// Metric names in order of first appearance.
pub fn metric_names(trials: &[Trial]) -> Vec<String> {
    let mut names: Vec<String> = Vec::new();
    for t in trials {
        for (n, _) in &t.metrics {
            if !names.contains(n) {
                names.push(n.clone());
            }
        }
    }
    names
}

/// Writes the trials of a single-objective study as CSV.
pub fn write_trials<W: Write>(space: &Space, trials: &[Trial], out: W) -> Result<(), csv::Error> {
    write_study(space, &[], trials, out)
}

/// Writes the trials as CSV, with a `pareto` column when `directions` has several objectives.
pub fn write_study<W: Write>(
    space: &Space,
    directions: &[Direction],
    trials: &[Trial],
    out: W,
) -> Result<(), csv::Error> {
    let front = (directions.len() > 1).then(|| crate::pareto::front_of(trials, directions));
    let metrics = metric_names(trials);
    let mut w = csv::Writer::from_writer(out);
    let mut header: Vec<String> = vec!["trial".into(), "state".into(), "value".into()];
    header.extend(space.params().iter().map(|p| format!("param_{}", p.name)));
    header.extend(metrics.iter().map(|m| format!("metric_{m}")));
    let steps = trials.iter().any(|t| !t.intermediate.is_empty());
    if steps {
        header.push("step".into());
    }
    if front.is_some() {
        header.push("pareto".into());
    }
    header.push("source".into());
    header.extend(TAIL.iter().map(|s| s.to_string()));
    w.write_record(&header)?;
    for (i, t) in trials.iter().enumerate() {
        let mut row: Vec<String> = vec![
            t.number.to_string(),
            t.state.name().into(),
            t.value().map(format_float).unwrap_or_default(),
        ];
        row.extend(
            t.params
                .iter()
                .map(|v| v.as_ref().map(|v| v.to_string()).unwrap_or_default()),
        );
        row.extend(metrics.iter().map(|m| {
            t.metrics
                .iter()
                .find(|(n, _)| n == m)
                .map(|(_, v)| format_float(*v))
                .unwrap_or_default()
        }));
        if steps {
            row.push(t.last_step().map(|s| s.to_string()).unwrap_or_default());
        }
        if let Some(f) = &front {
            row.push(if f[i] { "1" } else { "0" }.into());
        }
        row.push(t.source.text());
        row.push(time(t.started_at));
        row.push(time(t.finished_at));
        row.push(
            t.duration_s()
                .map(|d| format!("{d:.6}"))
                .unwrap_or_default(),
        );
        row.push(format!("{:.6}", t.suggest_s));
        row.push(t.error.clone().unwrap_or_default());
        w.write_record(&row)?;
    }
    w.flush()?;
    Ok(())
}

/// Writes the study's CSV atomically: to a temporary file beside `path`, then renamed over it,
/// so a reader (or an interruption) never sees half a file.
pub fn write_atomic(
    space: &Space,
    directions: &[Direction],
    trials: &[Trial],
    path: &Path,
) -> Result<(), TunerError> {
    let io = |source: std::io::Error| TunerError::Io {
        path: path.display().to_string(),
        source,
    };
    let dir = path
        .parent()
        .filter(|p| !p.as_os_str().is_empty())
        .unwrap_or(Path::new("."));
    let name = path
        .file_name()
        .map(|n| n.to_string_lossy().to_string())
        .unwrap_or_else(|| "trials.csv".into());
    let mut buf = Vec::new();
    write_study(space, directions, trials, &mut buf).map_err(|e| io(std::io::Error::other(e)))?;
    persist_atomic(&buf, dir, &name, path)
}

/// Writes `bytes` to `path` atomically and durably: a temporary file of a unique name in the
/// same folder (removed on any error), synced, renamed over `path`, and the folder synced so
/// the rename survives a crash.
pub(crate) fn persist_atomic(
    bytes: &[u8],
    dir: &Path,
    name: &str,
    path: &Path,
) -> Result<(), TunerError> {
    let io = |source: std::io::Error| TunerError::Io {
        path: path.display().to_string(),
        source,
    };
    let mut tmp = tempfile::Builder::new()
        .prefix(&format!(".{name}."))
        .suffix(".tmp")
        .tempfile_in(dir)
        .map_err(io)?;
    tmp.write_all(bytes).map_err(io)?;
    tmp.as_file().sync_all().map_err(io)?;
    tmp.persist(path).map_err(|e| io(e.error))?;
    // The folder's entry: without this a crash can lose the rename.
    if let Ok(d) = std::fs::File::open(dir) {
        let _ = d.sync_all();
    }
    Ok(())
}

/// Opens a trials CSV and reads its header (trimmed), refusing a file without a `value`
/// column.
pub(crate) fn open_trials(
    path: &Path,
) -> Result<(csv::Reader<std::fs::File>, Vec<String>), TunerError> {
    let p = path.display().to_string();
    let mut r = csv::ReaderBuilder::new()
        .flexible(true)
        .from_path(path)
        .map_err(|e| TunerError::Io {
            path: p.clone(),
            source: std::io::Error::other(e),
        })?;
    let header: Vec<String> = r
        .headers()
        .map_err(|e| TunerError::Csv {
            path: p.clone(),
            line: 1,
            reason: format!("cannot read the header: {e}"),
        })?
        .iter()
        .map(|s| s.trim().to_string())
        .collect();
    if !header.iter().any(|h| h == "value") {
        return Err(TunerError::Csv {
            path: p,
            line: 1,
            reason: "no `value` column (a trials CSV starts trial,state,value)".into(),
        });
    }
    Ok((r, header))
}

/// Reads trials written by [`write_trials`] for `space`. A malformed file is refused with the
/// line number and the reason, and nothing is returned.
pub fn read_trials(space: &Space, path: &Path) -> Result<Vec<Trial>, TunerError> {
    let p = path.display().to_string();
    let err = |line: usize, reason: String| TunerError::Csv {
        path: p.clone(),
        line,
        reason,
    };
    let (mut r, header) = open_trials(path)?;
    if header.len() < 3 || header[..3] != ["trial", "state", "value"] {
        return Err(err(
            1,
            "the header must start with trial,state,value".into(),
        ));
    }
    let col = |name: &str| header.iter().position(|h| h == name);
    let mut param_cols = Vec::with_capacity(space.len());
    for prm in space.params() {
        let c = col(&format!("param_{}", prm.name)).ok_or_else(|| {
            err(
                1,
                format!("no column param_{} for parameter `{}`", prm.name, prm.name),
            )
        })?;
        param_cols.push(c);
    }
    for h in &header {
        if let Some(n) = h.strip_prefix("param_") {
            if space.index(n).is_none() {
                return Err(err(
                    1,
                    format!("column {h}: the space has no parameter `{n}`"),
                ));
            }
        }
    }
    let metric_cols: Vec<(String, usize)> = header
        .iter()
        .enumerate()
        .filter_map(|(i, h)| h.strip_prefix("metric_").map(|n| (n.to_string(), i)))
        .collect();
    let tail: Vec<Option<usize>> = TAIL.iter().map(|n| col(n)).collect();
    let source_col = col("source");
    let step_col = col("step");
    let mut trials = Vec::new();
    let mut seen = std::collections::HashMap::new();
    for (i, rec) in r.records().enumerate() {
        let rec = rec.map_err(|e| err(i + 2, e.to_string()))?;
        let line = rec.position().map(|p| p.line() as usize).unwrap_or(i + 2);
        if rec.len() != header.len() {
            return Err(err(
                line,
                format!("{} fields, the header has {}", rec.len(), header.len()),
            ));
        }
        let cell = |c: usize| rec.get(c).unwrap_or("").trim();
        let number: usize = cell(0)
            .parse()
            .map_err(|_| err(line, format!("trial `{}` is not a number", cell(0))))?;
        if let Some(first) = seen.insert(number, line) {
            return Err(err(
                line,
                format!(
                    "trial {number} appears twice (first on line {first}); remove one of the rows"
                ),
            ));
        }
        let state = TrialState::parse(cell(1)).ok_or_else(|| {
            err(
                line,
                format!(
                    "state `{}` is not complete, failed, pruned, running or queued",
                    cell(1)
                ),
            )
        })?;
        let num = |c: usize, what: &str| -> Result<Option<f64>, TunerError> {
            let s = cell(c);
            if s.is_empty() {
                return Ok(None);
            }
            let v: f64 = s
                .parse()
                .map_err(|_| err(line, format!("{what} `{s}` is not a number")))?;
            if !v.is_finite() {
                return Err(err(line, format!("{what} `{s}` is not finite")));
            }
            Ok(Some(v))
        };
        let value = num(2, "value")?;
        if state == TrialState::Complete && value.is_none() {
            return Err(err(line, "a complete trial needs a value".into()));
        }
        let mut params = Vec::with_capacity(space.len());
        for (prm, &c) in space.params().iter().zip(&param_cols) {
            let s = cell(c);
            params.push(if s.is_empty() {
                None
            } else {
                Some(prm.parse(s).map_err(|e| err(line, e.to_string()))?)
            });
        }
        space
            .validate(&params)
            .map_err(|e| err(line, e.to_string()))?;
        let mut metrics = Vec::new();
        for (name, c) in &metric_cols {
            if let Some(v) = num(*c, &format!("metric_{name}"))? {
                metrics.push((name.clone(), v));
            }
        }
        let when = |k: usize| -> Result<Option<SystemTime>, TunerError> {
            match tail[k].map(cell) {
                None | Some("") => Ok(None),
                Some(s) => humantime::parse_rfc3339_weak(s)
                    .map(Some)
                    .map_err(|e| err(line, format!("{} `{s}`: {e}", TAIL[k]))),
            }
        };
        let started_at = when(0)?;
        let finished_at = when(1)?;
        let suggest_s = match tail[3] {
            Some(c) => num(c, "suggest_s")?.unwrap_or(0.0),
            None => 0.0,
        };
        let error = tail[4]
            .map(cell)
            .filter(|s| !s.is_empty())
            .map(String::from);
        let source = match source_col.map(cell) {
            None | Some("") => Source::Model,
            Some(s) => Source::parse(s).ok_or_else(|| {
                err(
                    line,
                    format!(
                        "source `{s}` is not model, initial, fallback: …, warm-start or manual"
                    ),
                )
            })?,
        };
        let step = match step_col.map(cell) {
            None | Some("") => None,
            Some(s) => Some(
                s.parse::<u64>()
                    .map_err(|_| err(line, format!("step `{s}` is not a whole number >= 0")))?,
            ),
        };
        // A pruned trial's value was reported at its last step.
        let intermediate = match (state, step, value) {
            (TrialState::Pruned, Some(s), Some(v)) => vec![(s, v)],
            _ => Vec::new(),
        };
        trials.push(Trial {
            number,
            state,
            params,
            values: value.into_iter().collect(),
            metrics,
            intermediate,
            source,
            started_at,
            finished_at,
            suggest_s,
            error,
            strategy_state: None,
        });
    }
    Ok(trials)
}

/// [`read_trials`] for a study of several objectives: each complete trial's values are read
/// from the columns of `keys` (`value` is the `value` column, any other key `metric_KEY`). A
/// complete trial without one of them is an error that names the trial and the key.
pub fn read_trials_keys(
    space: &Space,
    path: &Path,
    keys: &[String],
) -> Result<Vec<Trial>, TunerError> {
    let mut trials = read_trials(space, path)?;
    for t in trials.iter_mut() {
        let value = t.values.first().copied();
        if t.state != TrialState::Complete {
            continue;
        }
        let values = crate::run::pick_values(keys, value, &t.metrics, &[]).map_err(|reason| {
            TunerError::Csv {
                path: path.display().to_string(),
                line: 0,
                reason: format!(
                    "trial {}: {}",
                    t.number,
                    reason.replace("the output has", "the row has")
                ),
            }
        })?;
        t.values = values;
    }
    Ok(trials)
}
