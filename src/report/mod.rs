//! `nasbo report`: what the search learned, as one self-contained page of SVG figures
//! ([`build`], [`write`]). From a study's trials it draws the convergence, the objective
//! against each parameter with the model's mean ± 2 sd through the best trial, the importance
//! of each parameter for the objective and for every numeric metric (Sobol main effects of
//! the fitted model, [`nasbo_tuner::importance`]), the Pareto front of the objective against
//! each resource metric, and, for `nasbo nas` studies, accuracy against depth and width
//! coloured by connection pattern; plus a summary and the ten best trials.
//!
//! ```
//! use nasbo::report::{build, write};
//! use nasbo::tuner::{Direction, Outcome, Param, Space, Study, StudyConfig, StrategyKind};
//!
//! let space = Space::new(vec![Param::float("x", 0.0, 1.0), Param::int("n", 1, 5)])?;
//! let config = StudyConfig { strategy: StrategyKind::Random, ..StudyConfig::new(Direction::Minimize) };
//! let mut study = Study::new(space.clone(), config)?;
//! for _ in 0..12 {
//!     let (k, a) = study.ask()?;
//!     let x = a[0].as_ref().unwrap().as_f64().unwrap();
//!     study.tell(k, Outcome::with_metrics((x - 0.3).powi(2), vec![("seconds".into(), 1.0 + x)]))?;
//! }
//! let report = build(&space, study.trials(), Direction::Minimize, "demo")?;
//! assert!(report.html.contains("<svg"));
//! assert!(report.importance.iter().any(|r| r.target == "value" && r.param == "x"));
//! let dir = std::env::temp_dir().join("nasbo-report-doc");
//! write(&report, &dir)?;
//! assert!(dir.join("index.html").exists() && dir.join("importance.csv").exists());
//! # Ok::<(), nasbo::tuner::TunerError>(())
//! ```

use std::path::Path;

use crate::tuner::bo::{fit_surrogate, FitOptions, StudyModel, Target};
use crate::tuner::importance::{
    importance, importance_of_model, prepare, report_model, ImportanceConfig,
};
use crate::tuner::pareto::non_dominated;
use crate::tuner::space::format_float;
use crate::tuner::study::csv::metric_names;
use crate::tuner::{Assignment, Direction, ParamKind, Space, Trial, TrialState, TunerError, Value};

mod html;
pub mod plot;

use plot::{BandSeries, Chart, Scale, Series};

/// One figure of the report.
#[derive(Clone, Debug, PartialEq)]
pub struct Figure {
    /// File name without `.svg`.
    pub name: String,
    /// Its heading on the page.
    pub title: String,
    /// What it shows.
    pub caption: String,
    /// The SVG.
    pub svg: String,
}

/// One row of `importance.csv`.
#[derive(Clone, Debug, PartialEq)]
pub struct ImportanceRow {
    /// `value`, or a metric's name without its `metric_` prefix.
    pub target: String,
    /// The parameter's name.
    pub param: String,
    /// Main effect (fraction of the target's variance the parameter explains alone).
    pub main: f64,
    /// Total effect (with interactions).
    pub total: f64,
}

/// A built report.
#[derive(Clone, Debug)]
pub struct Report {
    /// The figures, in page order.
    pub figures: Vec<Figure>,
    /// The importances of every target.
    pub importance: Vec<ImportanceRow>,
    /// What could not be drawn, and why.
    pub notes: Vec<String>,
    /// The page.
    pub html: String,
}

/// The numeric metrics a report looks at as resource costs (lower is better): names that
/// speak of time, size or memory.
pub fn is_resource(metric: &str) -> bool {
    let m = metric.to_ascii_lowercase();
    [
        "second", "time", "latency", "param", "flop", "_mb", "memory", "bytes", "size",
    ]
    .iter()
    .any(|k| m.contains(k))
}

fn num(v: &Option<Value>) -> Option<f64> {
    match v {
        Some(Value::Cat(s)) => s.parse().ok(),
        Some(v) => v.as_f64(),
        None => None,
    }
}

/// The report of `trials` (of `space`, the objective in `direction`), titled `title`. No
/// complete trial is an error (nothing can be drawn); whatever else cannot be drawn is left
/// out with a note on the page.
pub fn build(
    space: &Space,
    trials: &[Trial],
    direction: Direction,
    title: &str,
) -> Result<Report, TunerError> {
    let complete: Vec<&Trial> = trials
        .iter()
        .filter(|t| t.state == TrialState::Complete && t.value().is_some())
        .collect();
    if complete.is_empty() {
        return Err(TunerError::InvalidConfig {
            name: "report",
            value: format!("{} trials", trials.len()),
            reason: "no complete trial: there is nothing to draw".into(),
        });
    }
    let mut figures = Vec::new();
    let mut notes = Vec::new();
    let mut add = |f: Result<Figure, String>, notes: &mut Vec<String>| match f {
        Ok(f) => figures.push(f),
        Err(e) => notes.push(e),
    };
    add(convergence(&complete, direction), &mut notes);
    let target = Target::objective(direction);
    let config = ImportanceConfig::default();
    let model = if complete.len() >= 4 {
        let (used, _) = prepare(trials, &target);
        match fit_surrogate(
            space,
            &used,
            &target,
            &report_model(),
            &FitOptions {
                seed: config.seed,
                warm_start: None,
                local_starts: None,
            },
        ) {
            Ok(m) => Some(m),
            Err(e) => {
                notes.push(format!("no model of the objective: {e}"));
                None
            }
        }
    } else {
        notes.push(format!(
            "{} complete trial{}: the model curves and importances need at least 4",
            complete.len(),
            if complete.len() == 1 { "" } else { "s" }
        ));
        None
    };
    let best = best_trial(&complete, direction);
    for (k, _) in space.params().iter().enumerate() {
        add(
            slice(space, &complete, k, model.as_ref(), best, direction),
            &mut notes,
        );
    }
    // Importances: the objective, then every numeric metric.
    let metrics = metric_names(trials);
    let mut importances = Vec::new();
    let mut targets: Vec<(String, Target)> = vec![("value".into(), target.clone())];
    for m in &metrics {
        targets.push((
            m.clone(),
            Target::Metric {
                name: m.clone(),
                direction: Direction::Minimize,
            },
        ));
    }
    let mut columns = Vec::new();
    for (name, t) in &targets {
        if complete.len() < config.min_trials {
            break;
        }
        let (used, log) = prepare(trials, t);
        let values: Vec<f64> = used.iter().filter_map(|x| t.of(x)).collect();
        if values.windows(2).all(|w| w[0] == w[1]) {
            notes.push(format!(
                "`{name}` is the same in every trial: no importance"
            ));
            continue;
        }
        // The objective's model is the one the slices drew (same trials, settings, seed).
        let result = match (t, model.as_ref()) {
            (Target::Objective { .. }, Some(m)) => importance_of_model(space, m, &config),
            _ => importance(space, trials, t, &config),
        };
        match result {
            Ok(rows) => {
                columns.push(if log {
                    format!("{name} (log)")
                } else {
                    name.clone()
                });
                for r in rows {
                    importances.push(ImportanceRow {
                        target: name.clone(),
                        param: r.param,
                        main: r.main,
                        total: r.total,
                    });
                }
            }
            Err(e) => notes.push(format!("importance of `{name}`: {e}")),
        }
    }
    if importances.iter().any(|r| r.target == "value") {
        let rows: Vec<(String, f64, f64)> = importances
            .iter()
            .filter(|r| r.target == "value")
            .map(|r| (r.param.clone(), r.main, r.total))
            .collect();
        add(
            plot::bars("importance for the objective", &rows, (620, 60 + 34 * rows.len() as u32))
                .map(|svg| Figure {
                    name: "importance".into(),
                    title: "Which parameters matter for the objective".into(),
                    caption: "Fraction of the objective's variance each parameter explains, from the model fitted to the complete trials (functional ANOVA: main effect alone, total effect with its interactions)".into(),
                    svg,
                })
                .map_err(|e| format!("importance figure: {e}")),
            &mut notes,
        );
    }
    let target_names: Vec<String> = {
        let mut seen: Vec<String> = Vec::new();
        for r in &importances {
            if !seen.contains(&r.target) {
                seen.push(r.target.clone());
            }
        }
        seen
    };
    if target_names.len() > 1 {
        let params: Vec<String> = space.params().iter().map(|p| p.name.clone()).collect();
        let values: Vec<Vec<f64>> = params
            .iter()
            .map(|p| {
                target_names
                    .iter()
                    .map(|t| {
                        importances
                            .iter()
                            .find(|r| &r.target == t && &r.param == p)
                            .map_or(0.0, |r| r.main)
                    })
                    .collect()
            })
            .collect();
        add(
            plot::heatmap("importance by target (main effects)", &params, &columns, &values)
                .map(|svg| Figure {
                    name: "importance-by-target".into(),
                    title: "What each parameter costs and buys".into(),
                    caption: "Main effect of each parameter (rows) on the objective and on each metric (columns): which settings buy accuracy and which cost time, size or memory. Metrics spanning more than two decades are modelled on a log scale.".into(),
                    svg,
                })
                .map_err(|e| format!("importance by target: {e}")),
            &mut notes,
        );
    }
    for m in metrics.iter().filter(|m| is_resource(m)) {
        add(pareto(&complete, m, direction), &mut notes);
    }
    if ["depth", "width", "connection"]
        .iter()
        .all(|p| space.index(p).is_some())
    {
        for (k, p) in ["depth", "width"].iter().enumerate() {
            add(nas_figure(space, &complete, p, k), &mut notes);
        }
    }
    let html = html::page(
        title,
        space,
        trials,
        direction,
        best,
        &figures,
        &importances,
        &notes,
    );
    Ok(Report {
        figures,
        importance: importances,
        notes,
        html,
    })
}

fn best_trial<'a>(complete: &[&'a Trial], direction: Direction) -> &'a Trial {
    let mut best = complete[0];
    for t in complete {
        if let (Some(v), Some(b)) = (t.value(), best.value()) {
            if direction.better(v, b) {
                best = t;
            }
        }
    }
    best
}

fn convergence(complete: &[&Trial], direction: Direction) -> Result<Figure, String> {
    let pts: Vec<(f64, f64)> = complete
        .iter()
        .filter_map(|t| t.value().map(|v| (t.number as f64, v)))
        .collect();
    let mut best: Vec<(f64, f64)> = Vec::with_capacity(pts.len());
    for &(x, v) in &pts {
        let b = match best.last() {
            Some(&(_, b)) if !direction.better(v, b) => b,
            _ => v,
        };
        best.push((x, b));
    }
    let svg = plot::chart(&Chart {
        title: "objective per trial",
        x_label: "trial",
        y_label: "objective",
        x_scale: Scale::Linear,
        bands: vec![],
        series: vec![
            Series {
                label: "trial".into(),
                points: pts,
                colour: 0,
                line: false,
                steps: false,
            },
            Series {
                label: "best so far".into(),
                points: best,
                colour: 4,
                line: true,
                steps: true,
            },
        ],
        size: (720, 380),
        legend_low: direction == Direction::Maximize,
    })
    .map_err(|e| format!("convergence figure: {e}"))?;
    Ok(Figure {
        name: "convergence".into(),
        title: "Convergence".into(),
        caption: format!(
            "The objective ({}) of each complete trial and the best so far",
            direction.name()
        ),
        svg,
    })
}

/// The x scale and plotted position of parameter `k`'s values.
fn axis(space: &Space, k: usize) -> Scale {
    match &space.params()[k].kind {
        ParamKind::Categorical { choices } => Scale::Categories(choices.clone()),
        ParamKind::Float { log: true, .. } | ParamKind::Int { log: true, .. } => Scale::Log,
        _ => Scale::Linear,
    }
}

fn position(space: &Space, k: usize, v: &Value) -> Option<f64> {
    match (&space.params()[k].kind, v) {
        (ParamKind::Categorical { choices }, Value::Cat(c)) => {
            choices.iter().position(|x| x == c).map(|i| i as f64)
        }
        (_, v) => v.as_f64(),
    }
}

/// A small deterministic jitter in [−0.15, 0.15] for points on a categorical axis.
fn jitter(i: usize) -> f64 {
    let h = (i as u64).wrapping_mul(0x9E37_79B9_7F4A_7C15) >> 40;
    (h as f64 / (1u64 << 24) as f64 - 0.5) * 0.3
}

fn slice(
    space: &Space,
    complete: &[&Trial],
    k: usize,
    model: Option<&StudyModel>,
    best: &Trial,
    direction: Direction,
) -> Result<Figure, String> {
    let p = &space.params()[k];
    let scale = axis(space, k);
    let categorical = matches!(scale, Scale::Categories(_));
    let pts: Vec<(f64, f64)> = complete
        .iter()
        .enumerate()
        .filter_map(|(i, t)| {
            let x = position(space, k, t.params[k].as_ref()?)?;
            Some((if categorical { x + jitter(i) } else { x }, t.value()?))
        })
        .collect();
    let mut bands = Vec::new();
    let mut series = vec![Series {
        label: "trials".into(),
        points: pts,
        colour: 0,
        line: false,
        steps: false,
    }];
    let mut curve_note = "";
    if let Some(model) = model {
        let along: Vec<Value> = match &p.kind {
            ParamKind::Categorical { choices } => {
                choices.iter().map(|c| Value::Cat(c.clone())).collect()
            }
            _ => (0..=60).map(|i| p.from_unit(i as f64 / 60.0)).collect(),
        };
        let fill: Vec<Value> = space
            .params()
            .iter()
            .zip(&best.params)
            .map(|(q, v)| v.clone().unwrap_or_else(|| q.from_unit(0.5)))
            .collect();
        let points: Vec<Assignment> = along
            .iter()
            .map(|v| {
                let mut values = fill.clone();
                values[k] = v.clone();
                space.assign(values)
            })
            .collect();
        if points.iter().all(|a| a[k].is_some()) {
            match model.predict(&points) {
                Ok(b) => {
                    let xs: Vec<f64> = along.iter().filter_map(|v| position(space, k, v)).collect();
                    bands.push(BandSeries {
                        points: xs
                            .iter()
                            .zip(&b)
                            .map(|(&x, b)| (x, b.lower, b.upper))
                            .collect(),
                        colour: 1,
                        label: "model ± 2 sd".into(),
                    });
                    series.push(Series {
                        label: "model mean".into(),
                        points: xs.iter().zip(&b).map(|(&x, b)| (x, b.median)).collect(),
                        colour: 1,
                        line: true,
                        steps: false,
                    });
                }
                Err(e) => return Err(format!("model curve for `{}`: {e}", p.name)),
            }
        } else {
            curve_note = " (no model curve: the parameter is inactive at the best trial)";
        }
    }
    let title = format!("objective against {}", p.name);
    let svg = plot::chart(&Chart {
        title: &title,
        x_label: &p.name,
        y_label: "objective",
        x_scale: scale,
        bands,
        series,
        size: (480, 340),
        legend_low: direction == Direction::Maximize,
    })
    .map_err(|e| format!("figure of `{}`: {e}", p.name))?;
    Ok(Figure {
        name: format!("param-{}", p.name),
        title: format!("The objective against {}", p.name),
        caption: format!(
            "Each complete trial, and the model's mean ± 2 sd along `{}` with the other parameters at the best trial's values ({}){curve_note}",
            p.name,
            direction.name()
        ),
        svg,
    })
}

fn pareto(complete: &[&Trial], metric: &str, direction: Direction) -> Result<Figure, String> {
    let pts: Vec<(f64, f64)> = complete
        .iter()
        .filter_map(|t| Some((t.metric(metric)?, t.value()?)))
        .collect();
    if pts.len() < 2 {
        return Err(format!(
            "Pareto front against `{metric}`: fewer than 2 trials have it"
        ));
    }
    let flags = non_dominated(
        &pts.iter()
            .map(|&(m, v)| vec![-m, direction.to_max(v)])
            .collect::<Vec<_>>(),
    );
    let mut front: Vec<(f64, f64)> = pts
        .iter()
        .zip(&flags)
        .filter(|(_, &f)| f)
        .map(|(p, _)| *p)
        .collect();
    front.sort_by(|a, b| a.0.total_cmp(&b.0));
    let (lo, hi) = pts
        .iter()
        .fold((f64::INFINITY, f64::NEG_INFINITY), |(a, b), p| {
            (a.min(p.0), b.max(p.0))
        });
    let scale = if lo > 0.0 && hi / lo > 50.0 {
        Scale::Log
    } else {
        Scale::Linear
    };
    let title = format!("objective against {metric}");
    let svg = plot::chart(&Chart {
        title: &title,
        x_label: metric,
        y_label: "objective",
        x_scale: scale,
        bands: vec![],
        series: vec![
            Series {
                label: "trials".into(),
                points: pts,
                colour: 0,
                line: false,
                steps: false,
            },
            Series {
                label: "Pareto front".into(),
                points: front,
                colour: 1,
                line: true,
                steps: false,
            },
        ],
        size: (480, 340),
        legend_low: direction == Direction::Maximize,
    })
    .map_err(|e| format!("Pareto figure of `{metric}`: {e}"))?;
    Ok(Figure {
        name: format!("pareto-{metric}"),
        title: format!("Objective against {metric}"),
        caption: format!(
            "The trials that no other trial beats in both the objective ({}) and {metric} (lower is better) form the front: the best trade-offs between them",
            direction.name()
        ),
        svg,
    })
}

fn nas_figure(space: &Space, complete: &[&Trial], param: &str, k: usize) -> Result<Figure, String> {
    let (pi, ci) = match (space.index(param), space.index("connection")) {
        (Some(p), Some(c)) => (p, c),
        _ => return Err("nas figure: no depth, width or connection".into()),
    };
    let choices = match &space.params()[ci].kind {
        ParamKind::Categorical { choices } => choices.clone(),
        _ => return Err("nas figure: connection is not categorical".into()),
    };
    let integer = matches!(space.params()[pi].kind, ParamKind::Int { .. });
    let series: Vec<Series> = choices
        .iter()
        .enumerate()
        .map(|(j, c)| Series {
            label: c.clone(),
            points: complete
                .iter()
                .enumerate()
                .filter(|(_, t)| t.params[ci] == Some(Value::Cat(c.clone())))
                .filter_map(|(i, t)| {
                    let x = num(&t.params[pi])?;
                    let x = if integer && k == 0 { x + jitter(i) } else { x };
                    Some((x, t.value()?))
                })
                .collect(),
            colour: j,
            line: false,
            steps: false,
        })
        .collect();
    let scale = if k == 1 {
        axis(space, pi)
    } else {
        Scale::Linear
    };
    let title = format!("accuracy against {param}, by connection");
    let svg = plot::chart(&Chart {
        title: &title,
        x_label: param,
        y_label: "objective",
        x_scale: scale,
        bands: vec![],
        series,
        size: (480, 340),
        legend_low: true,
    })
    .map_err(|e| format!("nas figure: {e}"))?;
    Ok(Figure {
        name: format!("nas-{param}"),
        title: format!("Accuracy against {param}, coloured by connection pattern"),
        caption: format!(
            "How {param} and the connection pattern (conv, pool, skip) change the objective, one dot per complete trial"
        ),
        svg,
    })
}

/// Writes `index.html`, `importance.csv` (`target,param,importance`, the main effects) and
/// `figures/NAME.svg` into `dir` (created if needed).
pub fn write(report: &Report, dir: &Path) -> Result<(), TunerError> {
    let io = |path: &Path, source: std::io::Error| TunerError::Io {
        path: path.display().to_string(),
        source,
    };
    let figures = dir.join("figures");
    std::fs::create_dir_all(&figures).map_err(|e| io(&figures, e))?;
    for f in &report.figures {
        let p = figures.join(format!("{}.svg", f.name));
        std::fs::write(&p, &f.svg).map_err(|e| io(&p, e))?;
    }
    let index = dir.join("index.html");
    std::fs::write(&index, &report.html).map_err(|e| io(&index, e))?;
    let path = dir.join("importance.csv");
    let mut w = csv::Writer::from_path(&path).map_err(|e| io(&path, std::io::Error::other(e)))?;
    let rows = std::iter::once(["target".to_string(), "param".into(), "importance".into()]).chain(
        report
            .importance
            .iter()
            .map(|r| [r.target.clone(), r.param.clone(), format_float(r.main)]),
    );
    for r in rows {
        w.write_record(&r)
            .map_err(|e| io(&path, std::io::Error::other(e)))?;
    }
    w.flush().map_err(|e| io(&path, e))
}
