//! The report's page: one self-contained HTML file (styles inline, figures inline as SVG, no
//! network access), with the summary, the figures, the importances and the ten best trials.

use std::collections::BTreeMap;
use std::fmt::Write as _;

use super::{Figure, ImportanceRow};
use crate::tuner::space::format_float;
use crate::tuner::study::csv::metric_names;
use crate::tuner::{Direction, Space, Trial, TrialState};

/// Text for HTML.
pub fn escape(s: &str) -> String {
    s.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
        .replace('"', "&quot;")
}

const STYLE: &str = "body{font-family:system-ui,-apple-system,'Segoe UI',sans-serif;margin:2em auto;max-width:1100px;padding:0 1em;color:#222}
h1{font-size:1.6em}h2{font-size:1.25em;margin-top:2em;border-bottom:1px solid #ddd;padding-bottom:.2em}
table{border-collapse:collapse;margin:.5em 0;font-size:.9em}td,th{border:1px solid #ddd;padding:.25em .6em;text-align:left}
th{background:#f4f4f4}td.n{text-align:right;font-variant-numeric:tabular-nums}
.figs{display:flex;flex-wrap:wrap;gap:1em}figure{margin:0;flex:0 0 auto}figcaption{font-size:.85em;color:#555;max-width:480px}
.note{color:#8a5300}code{background:#f4f4f4;padding:0 .2em}";

/// A check the page runs on load: how many figures it holds and how many drew with a size.
const SCRIPT: &str = "window.addEventListener('load',function(){var s=document.querySelectorAll('figure svg'),d=0;for(var i=0;i<s.length;i++){var b=s[i].getBBox();if(b.width>0&&b.height>0)d++;}document.body.setAttribute('data-figures',String(s.length));document.body.setAttribute('data-drawn',String(d));});";

fn num(v: f64) -> String {
    format_float(if v.abs() >= 1e-3 && v.abs() < 1e6 {
        (v * 1e4).round() / 1e4
    } else {
        v
    })
}

/// The page.
#[allow(clippy::too_many_arguments)]
pub fn page(
    title: &str,
    space: &Space,
    trials: &[Trial],
    direction: Direction,
    best: &Trial,
    figures: &[Figure],
    importance: &[ImportanceRow],
    notes: &[String],
) -> String {
    let mut h = String::new();
    let _ = write!(
        h,
        "<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\"><title>{t}</title><style>{STYLE}</style><script>{SCRIPT}</script></head><body>\n<h1>{t}</h1>\n",
        t = escape(title)
    );
    // Summary.
    let mut by_state: BTreeMap<&str, usize> = BTreeMap::new();
    for t in trials {
        *by_state.entry(t.state.name()).or_default() += 1;
    }
    let states = by_state
        .iter()
        .map(|(s, n)| format!("{n} {s}"))
        .collect::<Vec<_>>()
        .join(", ");
    let busy: f64 = trials.iter().filter_map(|t| t.duration_s()).sum();
    let first = trials.iter().filter_map(|t| t.started_at).min();
    let last = trials.iter().filter_map(|t| t.finished_at).max();
    let wall = match (first, last) {
        (Some(a), Some(b)) => b.duration_since(a).map(|d| d.as_secs_f64()).unwrap_or(0.0),
        _ => 0.0,
    };
    let _ = write!(
        h,
        "<h2>Summary</h2>\n<p>{} trials ({states}); the objective is to {}. Trials ran for {} in all, over {} from the first start to the last finish.</p>\n",
        trials.len(),
        direction.name(),
        duration(busy),
        duration(wall)
    );
    let _ = write!(
        h,
        "<p>Best trial: <b>{}</b>, objective <b>{}</b>.</p>\n<table><tr><th>parameter</th><th>value</th></tr>",
        best.number,
        best.value().map(num).unwrap_or_default()
    );
    for (p, v) in space.params().iter().zip(&best.params) {
        let v = v
            .as_ref()
            .map(|v| v.to_string())
            .unwrap_or_else(|| "(inactive)".into());
        let _ = write!(
            h,
            "<tr><td>{}</td><td>{}</td></tr>",
            escape(&p.name),
            escape(&v)
        );
    }
    for (m, v) in &best.metrics {
        let _ = write!(
            h,
            "<tr><td>metric {}</td><td class=\"n\">{}</td></tr>",
            escape(m),
            num(*v)
        );
    }
    h.push_str("</table>\n");
    if !notes.is_empty() {
        h.push_str("<h2>Not drawn</h2>\n<ul>");
        for n in notes {
            let _ = write!(h, "<li class=\"note\">{}</li>", escape(n));
        }
        h.push_str("</ul>\n");
    }
    // Figures.
    h.push_str("<h2>Figures</h2>\n<div class=\"figs\">\n");
    for f in figures {
        let _ = writeln!(
            h,
            "<figure id=\"fig-{}\">{}<figcaption><b>{}.</b> {}</figcaption></figure>",
            escape(&f.name),
            f.svg
                .trim_start_matches("<?xml version=\"1.0\" encoding=\"UTF-8\"?>"),
            escape(&f.title),
            escape(&f.caption)
        );
    }
    h.push_str("</div>\n");
    // Importances as a table.
    if !importance.is_empty() {
        let mut targets: Vec<&str> = Vec::new();
        for r in importance {
            if !targets.contains(&r.target.as_str()) {
                targets.push(&r.target);
            }
        }
        h.push_str("<h2>Importance (main effects; total effects in brackets)</h2>\n<table><tr><th>parameter</th>");
        for t in &targets {
            let _ = write!(h, "<th>{}</th>", escape(t));
        }
        h.push_str("</tr>");
        for p in space.params() {
            let _ = write!(h, "<tr><td>{}</td>", escape(&p.name));
            for t in &targets {
                match importance
                    .iter()
                    .find(|r| r.target == *t && r.param == p.name)
                {
                    Some(r) => {
                        let _ = write!(h, "<td class=\"n\">{:.3} ({:.3})</td>", r.main, r.total);
                    }
                    None => h.push_str("<td></td>"),
                }
            }
            h.push_str("</tr>");
        }
        h.push_str("</table>\n");
    }
    // The ten best trials.
    let mut complete: Vec<&Trial> = trials
        .iter()
        .filter(|t| t.state == TrialState::Complete && t.value().is_some())
        .collect();
    complete.sort_by(|a, b| {
        let (x, y) = (
            direction.to_max(a.value().unwrap_or(f64::NAN)),
            direction.to_max(b.value().unwrap_or(f64::NAN)),
        );
        y.total_cmp(&x)
    });
    let metrics = metric_names(trials);
    h.push_str("<h2>The ten best trials</h2>\n<table><tr><th>trial</th><th>objective</th>");
    for p in space.params() {
        let _ = write!(h, "<th>{}</th>", escape(&p.name));
    }
    for m in &metrics {
        let _ = write!(h, "<th>{}</th>", escape(m));
    }
    h.push_str("</tr>");
    for t in complete.iter().take(10) {
        let _ = write!(
            h,
            "<tr><td class=\"n\">{}</td><td class=\"n\">{}</td>",
            t.number,
            t.value().map(num).unwrap_or_default()
        );
        for v in &t.params {
            let _ = write!(
                h,
                "<td>{}</td>",
                escape(&v.as_ref().map(|v| v.to_string()).unwrap_or_default())
            );
        }
        for m in &metrics {
            let _ = write!(
                h,
                "<td class=\"n\">{}</td>",
                t.metric(m).map(num).unwrap_or_default()
            );
        }
        h.push_str("</tr>");
    }
    h.push_str("</table>\n<p><small>Written by nasbo report.</small></p>\n</body></html>\n");
    h
}

fn duration(s: f64) -> String {
    if s >= 3600.0 {
        format!("{:.1} h", s / 3600.0)
    } else if s >= 60.0 {
        format!("{:.1} min", s / 60.0)
    } else {
        format!("{s:.1} s")
    }
}
