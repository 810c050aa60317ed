//! What `nasbo bench` writes: the curves CSV (`strategy,problem,seed,trial,value,best,regret`),
//! the summary table (median and quartiles of the regret at 25%, 50% and 100% of the budget)
//! and the median regret curves with their interquartile band as SVG.

use std::fmt::Write as _;
use std::path::Path;

use anyhow::{Context as _, Result};

use super::bench::CurvePoint;

pub fn quantile(sorted: &[f64], q: f64) -> f64 {
    if sorted.is_empty() {
        return f64::NAN;
    }
    let pos = q * (sorted.len() - 1) as f64;
    let (lo, hi) = (pos.floor() as usize, pos.ceil() as usize);
    sorted[lo] + (sorted[hi] - sorted[lo]) * (pos - lo as f64)
}

/// One run: strategy, problem, seed, curve.
pub type Run = (String, String, u64, Vec<CurvePoint>);
pub type Runs = Vec<Run>;
/// Curves grouped by (problem, strategy).
type Groups<'a> = Vec<((String, String), Vec<&'a Vec<CurvePoint>>)>;

/// Writes the curves CSV.
pub fn write_curves(path: &Path, runs: &Runs) -> Result<()> {
    let mut w =
        csv::Writer::from_path(path).with_context(|| format!("writing {}", path.display()))?;
    w.write_record([
        "strategy", "problem", "seed", "trial", "value", "best", "regret",
    ])?;
    for (s, p, seed, curve) in runs {
        for c in curve {
            w.write_record([
                s.clone(),
                p.clone(),
                seed.to_string(),
                c.trial.to_string(),
                c.value.to_string(),
                c.best.to_string(),
                c.regret.to_string(),
            ])?;
        }
    }
    w.flush()?;
    Ok(())
}

/// Groups runs by (problem, strategy) in first-seen order.
fn groups(runs: &Runs) -> Groups<'_> {
    let mut out: Groups<'_> = Vec::new();
    for (s, p, _, c) in runs {
        let key = (p.clone(), s.clone());
        match out.iter_mut().find(|(k, _)| *k == key) {
            Some((_, v)) => v.push(c),
            None => out.push((key, vec![c])),
        }
    }
    out
}

/// The summary table (markdown).
pub fn summary(runs: &Runs) -> String {
    let mut s = String::new();
    let _ = writeln!(
        s,
        "| problem | strategy | seeds | regret @25% median [q1, q3] | @50% | @100% |"
    );
    let _ = writeln!(s, "|---|---|---|---|---|---|");
    for ((p, st), curves) in groups(runs) {
        let cell = |frac: f64| {
            let mut v: Vec<f64> = curves
                .iter()
                .filter_map(|c| {
                    let k = ((frac * c.len() as f64).ceil() as usize).clamp(1, c.len());
                    c.get(k - 1).map(|x| x.regret)
                })
                .collect();
            v.sort_by(f64::total_cmp);
            format!(
                "{:.3e} [{:.2e}, {:.2e}]",
                quantile(&v, 0.5),
                quantile(&v, 0.25),
                quantile(&v, 0.75)
            )
        };
        let _ = writeln!(
            s,
            "| {p} | {st} | {} | {} | {} | {} |",
            curves.len(),
            cell(0.25),
            cell(0.5),
            cell(1.0)
        );
    }
    s
}

/// Median regret curves with interquartile bands, one panel per problem, log-scaled.
pub fn svg(runs: &Runs) -> String {
    let colors = [
        "#1f77b4", "#d62728", "#2ca02c", "#9467bd", "#ff7f0e", "#8c564b",
    ];
    let gs = groups(runs);
    let mut problems: Vec<String> = Vec::new();
    for ((p, _), _) in &gs {
        if !problems.contains(p) {
            problems.push(p.clone());
        }
    }
    let (pw, ph, margin) = (420.0, 300.0, 60.0);
    let width = pw * problems.len() as f64;
    let mut out = format!(
        "<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"{width}\" height=\"{}\" font-family=\"sans-serif\" font-size=\"11\">\n<rect width=\"100%\" height=\"100%\" fill=\"white\"/>\n",
        ph + 40.0
    );
    for (pi, p) in problems.iter().enumerate() {
        let x0 = pi as f64 * pw + margin;
        let (w, h) = (pw - margin - 20.0, ph - 60.0);
        let y0 = 30.0;
        let series: Vec<_> = gs.iter().filter(|((q, _), _)| q == p).collect();
        let floor = 1e-12;
        let mut lo = f64::INFINITY;
        let mut hi = f64::NEG_INFINITY;
        let mut max_t = 1;
        let mut stats = Vec::new();
        for ((_, st), curves) in &series {
            let len = curves.iter().map(|c| c.len()).min().unwrap_or(0);
            max_t = max_t.max(len);
            let mut med = Vec::with_capacity(len);
            for t in 0..len {
                let mut v: Vec<f64> = curves
                    .iter()
                    .map(|c| c[t].regret.max(floor).log10())
                    .collect();
                v.sort_by(f64::total_cmp);
                let q = (quantile(&v, 0.25), quantile(&v, 0.5), quantile(&v, 0.75));
                lo = lo.min(q.0);
                hi = hi.max(q.2);
                med.push(q);
            }
            stats.push((st.clone(), med));
        }
        if !lo.is_finite() {
            continue;
        }
        let (lo, hi) = (lo.floor(), hi.ceil().max(lo.floor() + 1.0));
        let sx = |t: usize| x0 + w * (t as f64) / (max_t.max(2) - 1) as f64;
        let sy = |v: f64| y0 + h * (hi - v) / (hi - lo);
        let _ = writeln!(out, "<text x=\"{}\" y=\"18\" font-size=\"13\">{p}: regret (log10), median and quartiles</text>", x0);
        let _ = writeln!(out, "<rect x=\"{x0}\" y=\"{y0}\" width=\"{w}\" height=\"{h}\" fill=\"none\" stroke=\"#888\"/>");
        let mut tick = lo;
        while tick <= hi + 1e-9 {
            let y = sy(tick);
            let _ = writeln!(out, "<line x1=\"{x0}\" x2=\"{}\" y1=\"{y}\" y2=\"{y}\" stroke=\"#eee\"/><text x=\"{}\" y=\"{}\" text-anchor=\"end\">1e{tick}</text>", x0 + w, x0 - 4.0, y + 4.0);
            tick += ((hi - lo) / 6.0).ceil().max(1.0);
        }
        let _ = writeln!(
            out,
            "<text x=\"{}\" y=\"{}\" text-anchor=\"middle\">trial (1 … {max_t})</text>",
            x0 + w / 2.0,
            y0 + h + 18.0
        );
        for (k, (st, med)) in stats.iter().enumerate() {
            let c = colors[k % colors.len()];
            let upper: Vec<String> = med
                .iter()
                .enumerate()
                .map(|(t, q)| format!("{:.1},{:.1}", sx(t), sy(q.2)))
                .collect();
            let lower: Vec<String> = med
                .iter()
                .enumerate()
                .rev()
                .map(|(t, q)| format!("{:.1},{:.1}", sx(t), sy(q.0)))
                .collect();
            let _ = writeln!(
                out,
                "<polygon points=\"{} {}\" fill=\"{c}\" fill-opacity=\"0.15\" stroke=\"none\"/>",
                upper.join(" "),
                lower.join(" ")
            );
            let line: Vec<String> = med
                .iter()
                .enumerate()
                .map(|(t, q)| format!("{:.1},{:.1}", sx(t), sy(q.1)))
                .collect();
            let _ = writeln!(
                out,
                "<polyline points=\"{}\" fill=\"none\" stroke=\"{c}\" stroke-width=\"2\"/>",
                line.join(" ")
            );
            let _ = writeln!(
                out,
                "<text x=\"{}\" y=\"{}\" fill=\"{c}\">{st}</text>",
                x0 + w - 70.0,
                y0 + 14.0 + 13.0 * k as f64
            );
        }
    }
    out.push_str("</svg>\n");
    out
}
