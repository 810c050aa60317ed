//! The report's figures as SVG, with plotters: scatter plots with lines and bands on linear,
//! log or categorical x axes, horizontal bar charts and a heat map. Each function returns the
//! SVG text.

use plotters::prelude::*;
use plotters::style::text_anchor::{HPos, Pos, VPos};

/// The series colours (Tableau 10).
pub const PALETTE: [RGBColor; 6] = [
    RGBColor(31, 119, 180),
    RGBColor(214, 39, 40),
    RGBColor(44, 160, 44),
    RGBColor(148, 103, 189),
    RGBColor(255, 127, 14),
    RGBColor(140, 86, 75),
];

/// How an x axis maps values.
#[derive(Clone, Debug, PartialEq)]
pub enum Scale {
    /// As they are.
    Linear,
    /// Base-10 logarithm (values > 0); ticks labelled in the original units.
    Log,
    /// Category positions 0, 1, …, labelled with the names.
    Categories(Vec<String>),
}

impl Scale {
    /// The plotted coordinate of a value.
    pub fn to_plot(&self, v: f64) -> f64 {
        match self {
            Scale::Log => v.max(f64::MIN_POSITIVE).log10(),
            _ => v,
        }
    }
    fn label(&self, x: f64) -> String {
        match self {
            Scale::Linear => short(x),
            Scale::Log => short(10f64.powf(x)),
            Scale::Categories(names) => {
                let i = x.round();
                if (x - i).abs() < 1e-6 && i >= 0.0 {
                    names.get(i as usize).cloned().unwrap_or_default()
                } else {
                    String::new()
                }
            }
        }
    }
}

/// A number for an axis label: few digits, an exponent when very small or large.
pub fn short(x: f64) -> String {
    let a = x.abs();
    if x == 0.0 {
        "0".into()
    } else if !(1e-3..1e5).contains(&a) {
        format!("{x:.1e}")
    } else if a >= 100.0 {
        format!("{x:.0}")
    } else {
        let s = format!("{x:.3}");
        s.trim_end_matches('0').trim_end_matches('.').to_string()
    }
}

/// One set of points, drawn as dots or joined.
pub struct Series {
    /// Legend text (`""`: not in the legend).
    pub label: String,
    /// Points in data units (x before the scale is applied).
    pub points: Vec<(f64, f64)>,
    /// Index into [`PALETTE`].
    pub colour: usize,
    /// Joined by a line (else dots).
    pub line: bool,
    /// A step line (horizontal, then vertical), for a best-so-far curve.
    pub steps: bool,
}

/// A shaded band between two curves over the same x values.
pub struct BandSeries {
    /// `(x, lower, upper)`.
    pub points: Vec<(f64, f64, f64)>,
    /// Index into [`PALETTE`].
    pub colour: usize,
    /// Legend text.
    pub label: String,
}

/// A scatter/line chart.
pub struct Chart<'a> {
    /// Title above the plot.
    pub title: &'a str,
    /// The x axis's caption.
    pub x_label: &'a str,
    /// The y axis's caption.
    pub y_label: &'a str,
    /// The x axis's scale.
    pub x_scale: Scale,
    /// Bands, drawn under the series.
    pub bands: Vec<BandSeries>,
    /// The series.
    pub series: Vec<Series>,
    /// Size in pixels.
    pub size: (u32, u32),
    /// The legend in the lower right corner (else the upper right): away from the best
    /// points of a maximized objective.
    pub legend_low: bool,
}

fn range(values: impl Iterator<Item = f64>) -> (f64, f64) {
    let (lo, hi) = values
        .filter(|v| v.is_finite())
        .fold((f64::INFINITY, f64::NEG_INFINITY), |(a, b), v| {
            (a.min(v), b.max(v))
        });
    if !lo.is_finite() {
        return (0.0, 1.0);
    }
    let pad = if hi > lo {
        0.05 * (hi - lo)
    } else {
        0.5 * lo.abs().max(1.0)
    };
    (lo - pad, hi + pad)
}

type DrawResult<T> = Result<T, Box<dyn std::error::Error>>;

/// The chart as SVG.
pub fn chart(c: &Chart<'_>) -> DrawResult<String> {
    let mut svg = String::new();
    {
        let root = SVGBackend::with_string(&mut svg, c.size).into_drawing_area();
        root.fill(&WHITE)?;
        let xs = c
            .series
            .iter()
            .flat_map(|s| s.points.iter().map(|p| c.x_scale.to_plot(p.0)))
            .chain(
                c.bands
                    .iter()
                    .flat_map(|b| b.points.iter().map(|p| c.x_scale.to_plot(p.0))),
            );
        let (mut x0, mut x1) = range(xs);
        if let Scale::Categories(names) = &c.x_scale {
            (x0, x1) = (-0.5, names.len() as f64 - 0.5);
        }
        let ys = c
            .series
            .iter()
            .flat_map(|s| s.points.iter().map(|p| p.1))
            .chain(
                c.bands
                    .iter()
                    .flat_map(|b| b.points.iter().flat_map(|p| [p.1, p.2])),
            );
        let (y0, y1) = range(ys);
        let mut chart = ChartBuilder::on(&root)
            .caption(c.title, ("sans-serif", 17))
            .margin(12)
            .x_label_area_size(44)
            .y_label_area_size(64)
            .build_cartesian_2d(x0..x1, y0..y1)?;
        let n_labels = match &c.x_scale {
            Scale::Categories(names) => names.len().max(1),
            _ => 8,
        };
        let fmt_x = |x: &f64| c.x_scale.label(*x);
        let fmt_y = |y: &f64| short(*y);
        chart
            .configure_mesh()
            .x_desc(c.x_label)
            .y_desc(c.y_label)
            .x_labels(n_labels)
            .x_label_formatter(&fmt_x)
            .y_label_formatter(&fmt_y)
            .label_style(("sans-serif", 12))
            .axis_desc_style(("sans-serif", 13))
            .light_line_style(RGBColor(238, 238, 238))
            .draw()?;
        let mut legend = false;
        let categorical = matches!(c.x_scale, Scale::Categories(_));
        for b in &c.bands {
            let colour = PALETTE[b.colour % PALETTE.len()];
            let s = if categorical {
                // One box per category, not a band across them.
                chart.draw_series(b.points.iter().map(|p| {
                    Rectangle::new(
                        [(p.0 - 0.3, p.1), (p.0 + 0.3, p.2)],
                        colour.mix(0.18).filled(),
                    )
                }))?
            } else {
                let mut poly: Vec<(f64, f64)> = b
                    .points
                    .iter()
                    .map(|p| (c.x_scale.to_plot(p.0), p.2))
                    .collect();
                poly.extend(b.points.iter().rev().map(|p| (c.x_scale.to_plot(p.0), p.1)));
                chart.draw_series(std::iter::once(Polygon::new(
                    poly,
                    colour.mix(0.18).filled(),
                )))?
            };
            if !b.label.is_empty() {
                legend = true;
                s.label(b.label.clone()).legend(move |(x, y)| {
                    Rectangle::new([(x, y - 5), (x + 16, y + 5)], colour.mix(0.3).filled())
                });
            }
        }
        for s in &c.series {
            let colour = PALETTE[s.colour % PALETTE.len()];
            let pts: Vec<(f64, f64)> = s
                .points
                .iter()
                .map(|p| (c.x_scale.to_plot(p.0), p.1))
                .filter(|p| p.0.is_finite() && p.1.is_finite())
                .collect();
            let drawn = if s.line && categorical {
                // Categories are not ordered: a short level per category.
                chart.draw_series(pts.into_iter().map(|p| {
                    PathElement::new(
                        vec![(p.0 - 0.3, p.1), (p.0 + 0.3, p.1)],
                        colour.stroke_width(2),
                    )
                }))?
            } else if s.line {
                let path: Vec<(f64, f64)> = if s.steps {
                    let mut out = Vec::with_capacity(2 * pts.len());
                    for (i, p) in pts.iter().enumerate() {
                        if i > 0 {
                            out.push((p.0, pts[i - 1].1));
                        }
                        out.push(*p);
                    }
                    out
                } else {
                    pts
                };
                chart.draw_series(LineSeries::new(path, colour.stroke_width(2)))?
            } else {
                chart.draw_series(
                    pts.into_iter()
                        .map(|p| Circle::new(p, 3, colour.mix(0.75).filled())),
                )?
            };
            if !s.label.is_empty() {
                legend = true;
                let line = s.line;
                drawn.label(s.label.clone()).legend(move |(x, y)| {
                    if line {
                        PathElement::new(vec![(x, y), (x + 16, y)], colour.stroke_width(2))
                            .into_dyn()
                    } else {
                        Circle::new((x + 8, y), 3, colour.filled()).into_dyn()
                    }
                });
            }
        }
        if legend {
            chart
                .configure_series_labels()
                .background_style(WHITE.mix(0.85))
                .border_style(RGBColor(180, 180, 180))
                .label_font(("sans-serif", 12))
                .position(if c.legend_low {
                    SeriesLabelPosition::LowerRight
                } else {
                    SeriesLabelPosition::UpperRight
                })
                .draw()?;
        }
        root.present()?;
    }
    Ok(svg)
}

/// Horizontal bars: one row per label, a dark bar for `main` and a light one behind it for
/// `total` (both fractions in [0, 1]).
pub fn bars(title: &str, rows: &[(String, f64, f64)], size: (u32, u32)) -> DrawResult<String> {
    let mut svg = String::new();
    {
        let root = SVGBackend::with_string(&mut svg, size).into_drawing_area();
        root.fill(&WHITE)?;
        let n = rows.len().max(1);
        let labels: Vec<String> = rows.iter().map(|r| r.0.clone()).collect();
        let mut chart = ChartBuilder::on(&root)
            .caption(title, ("sans-serif", 17))
            .margin(12)
            .x_label_area_size(40)
            .y_label_area_size(120)
            .build_cartesian_2d(0f64..1f64, -0.5f64..n as f64 - 0.5)?;
        let fmt_y = |y: &f64| {
            let i = y.round();
            if (y - i).abs() < 1e-6 && i >= 0.0 {
                labels.get(n - 1 - i as usize).cloned().unwrap_or_default()
            } else {
                String::new()
            }
        };
        chart
            .configure_mesh()
            .y_labels(n)
            .y_label_formatter(&fmt_y)
            .x_desc("fraction of the variance")
            .label_style(("sans-serif", 12))
            .axis_desc_style(("sans-serif", 13))
            .disable_y_mesh()
            .light_line_style(RGBColor(238, 238, 238))
            .draw()?;
        let (dark, light) = (PALETTE[0], PALETTE[0].mix(0.3));
        chart
            .draw_series(rows.iter().enumerate().map(|(i, r)| {
                let y = (n - 1 - i) as f64;
                Rectangle::new(
                    [(0.0, y - 0.35), (r.2.clamp(0.0, 1.0), y + 0.35)],
                    light.filled(),
                )
            }))?
            .label("total effect (with interactions)")
            .legend(move |(x, y)| Rectangle::new([(x, y - 5), (x + 16, y + 5)], light.filled()));
        chart
            .draw_series(rows.iter().enumerate().map(|(i, r)| {
                let y = (n - 1 - i) as f64;
                Rectangle::new(
                    [(0.0, y - 0.2), (r.1.clamp(0.0, 1.0), y + 0.2)],
                    dark.filled(),
                )
            }))?
            .label("main effect")
            .legend(move |(x, y)| Rectangle::new([(x, y - 5), (x + 16, y + 5)], dark.filled()));
        chart
            .configure_series_labels()
            .background_style(WHITE.mix(0.85))
            .border_style(RGBColor(180, 180, 180))
            .label_font(("sans-serif", 12))
            .position(SeriesLabelPosition::LowerRight)
            .draw()?;
        root.present()?;
    }
    Ok(svg)
}

/// A heat map: `values[r][c]` in [0, 1] for row labels × column labels, each cell with its
/// number.
pub fn heatmap(
    title: &str,
    rows: &[String],
    cols: &[String],
    values: &[Vec<f64>],
) -> DrawResult<String> {
    let (cell_w, cell_h, left, top) = (96i32, 26i32, 130i32, 64i32);
    let width = (left + cell_w * cols.len() as i32 + 20).max(320) as u32;
    let height = (top + cell_h * rows.len() as i32 + 20) as u32;
    let mut svg = String::new();
    {
        let root = SVGBackend::with_string(&mut svg, (width, height)).into_drawing_area();
        root.fill(&WHITE)?;
        let centre = Pos::new(HPos::Center, VPos::Center);
        root.draw(&Text::new(
            title.to_string(),
            (width as i32 / 2, 16),
            ("sans-serif", 17).into_font().color(&BLACK).pos(centre),
        ))?;
        for (j, c) in cols.iter().enumerate() {
            let x = left + cell_w * j as i32 + cell_w / 2;
            root.draw(&Text::new(
                c.clone(),
                (x, top - 12),
                ("sans-serif", 12).into_font().color(&BLACK).pos(centre),
            ))?;
        }
        for (i, r) in rows.iter().enumerate() {
            let y = top + cell_h * i as i32;
            root.draw(&Text::new(
                r.clone(),
                (left - 8, y + cell_h / 2),
                ("sans-serif", 12)
                    .into_font()
                    .color(&BLACK)
                    .pos(Pos::new(HPos::Right, VPos::Center)),
            ))?;
            for j in 0..cols.len() {
                let v = values
                    .get(i)
                    .and_then(|r| r.get(j))
                    .copied()
                    .unwrap_or(0.0)
                    .clamp(0.0, 1.0);
                let x = left + cell_w * j as i32;
                let shade = RGBColor(
                    (255.0 - v * (255.0 - 31.0)) as u8,
                    (255.0 - v * (255.0 - 119.0)) as u8,
                    (255.0 - v * (255.0 - 180.0)) as u8,
                );
                root.draw(&Rectangle::new(
                    [(x + 1, y + 1), (x + cell_w - 1, y + cell_h - 1)],
                    shade.filled(),
                ))?;
                let ink = if v > 0.55 { WHITE } else { BLACK };
                root.draw(&Text::new(
                    format!("{v:.2}"),
                    (x + cell_w / 2, y + cell_h / 2),
                    ("sans-serif", 12).into_font().color(&ink).pos(centre),
                ))?;
            }
        }
        root.present()?;
    }
    Ok(svg)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn charts_are_svg_with_their_labels() {
        let c = Chart {
            title: "lr",
            x_label: "lr",
            y_label: "value",
            x_scale: Scale::Log,
            bands: vec![BandSeries {
                points: vec![(1e-4, 0.1, 0.3), (1e-2, 0.4, 0.6)],
                colour: 1,
                label: "model ± 2 sd".into(),
            }],
            series: vec![Series {
                label: "trials".into(),
                points: vec![(1e-4, 0.2), (1e-3, 0.5), (1e-2, 0.55)],
                colour: 0,
                line: false,
                steps: false,
            }],
            size: (480, 320),
            legend_low: false,
        };
        let svg = chart(&c).unwrap();
        assert!(svg.starts_with("<svg") && svg.contains("model ± 2 sd") && svg.contains("trials"));
        assert!(svg.contains("\n0.001\n"), "log ticks in units: {svg}");
        let h = heatmap("imp", &["a".into()], &["value".into()], &[vec![0.7]]).unwrap();
        assert!(h.contains("0.70"));
        let b = bars("imp", &[("a".into(), 0.6, 0.7)], (400, 200)).unwrap();
        assert!(b.contains("main effect"));
        assert_eq!(short(0.000123), "1.2e-4");
        assert_eq!(short(12.3456), "12.346");
        assert_eq!(short(1234.4), "1234");
    }
}
