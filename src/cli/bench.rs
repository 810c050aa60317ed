//! `nasbo bench`: runs strategies × problems × seeds, writes the curves CSV
//! (`strategy,problem,seed,trial,value,best,regret`), prints a summary table (median and
//! quartiles of the regret at 25%, 50% and 100% of the budget) and draws the median regret
//! curves with their interquartile band as SVG.

use std::fmt::Write as _;
use std::path::PathBuf;
use std::process::ExitCode;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};

use anyhow::{bail, Context as _, Result};
use clap::{Args, ValueEnum};
use nasbo::tuner::run::{run as run_loop, RunConfig, TrialHandle};
use nasbo::tuner::testfns::Problem;
use nasbo::tuner::{
    Assignment, BoConfig, Direction, MeanLevel, Outcome, OutputWarp, Space, StrategyKind, Study,
    StudyConfig,
};
use rand::SeedableRng;
use rand_chacha::ChaCha8Rng;
use rayon::prelude::*;

use super::progress::Progress;
use super::tables::{Observe, Pick};

/// Arguments of `nasbo bench`.
#[derive(Args, Debug)]
pub struct BenchArgs {
    /// Problems, comma-separated: branin, hartmann3, hartmann6, ackley<d>,
    /// shiftedackley<d>, rosenbrock<d>, mixed, or a table problem.
    #[arg(long, value_delimiter = ',', default_value = "branin")]
    problem: Vec<String>,
    /// Strategies, comma-separated: bo, random, sobol, evolution, reinforce.
    #[arg(long, value_delimiter = ',', default_value = "bo,random")]
    strategy: Vec<String>,
    /// Tables for the table problems (nb201, hpobench-mlp, fcnet), comma-separated; each table
    /// problem runs on each table given (default: the shipped table of that kind).
    #[arg(long, value_delimiter = ',')]
    table: Vec<PathBuf>,
    /// Trials per run (default: the problem's usual budget).
    #[arg(long)]
    trials: Option<usize>,
    /// Number of seeds (0, 1, …).
    #[arg(long, default_value_t = 10)]
    seeds: u64,
    /// Runs at once (threads).
    #[arg(long, default_value_t = 1)]
    jobs: usize,
    /// The curves CSV.
    #[arg(long, default_value = "curves.csv")]
    out: PathBuf,
    /// The plot (SVG); default: the CSV's path with `.svg`.
    #[arg(long)]
    plot: Option<PathBuf>,
    /// `bo`: depth of the quadratic prior mean, in standard deviations from the centre of the
    /// box to a face (0: a constant prior mean).
    #[arg(long, default_value_t = 0.25)]
    boundary_prior: f64,
    /// `bo`: power transform of the values before the GP: auto (on for deterministic
    /// problems, off for noisy ones), on, off.
    #[arg(long, value_enum, default_value_t = WarpArg::Auto)]
    output_warp: WarpArg,
    /// `bo`: level of the GP's constant prior mean: auto (the worst value seen for
    /// deterministic problems, the average for noisy ones), average, worst.
    #[arg(long, value_enum, default_value_t = MeanArg::Auto)]
    prior_mean: MeanArg,
    /// Table problems: what a trial observes: auto (as the benchmark's reference code does:
    /// one seed for nb201 and fcnet, the mean over seeds for hpobench-mlp), seed (one seed
    /// drawn at random per trial), mean (the mean over the seeds).
    #[arg(long, value_enum, default_value_t = ObserveArg::Auto)]
    observe: ObserveArg,
    /// Table problems: the incumbent whose mean the regret measures: auto (as the benchmark's
    /// reference code does: best mean for fcnet, best observed otherwise), observed (the trial
    /// with the best observed value), mean (the evaluated configuration with the best mean).
    #[arg(long, value_enum, default_value_t = IncumbentArg::Auto)]
    incumbent: IncumbentArg,
}

/// `--prior-mean`.
#[derive(Clone, Copy, Debug, ValueEnum)]
enum MeanArg {
    Auto,
    Average,
    Worst,
}

impl From<MeanArg> for MeanLevel {
    fn from(m: MeanArg) -> Self {
        match m {
            MeanArg::Auto => MeanLevel::Auto,
            MeanArg::Average => MeanLevel::Average,
            MeanArg::Worst => MeanLevel::Worst,
        }
    }
}

/// `--observe`.
#[derive(Clone, Copy, Debug, ValueEnum)]
enum ObserveArg {
    Auto,
    Seed,
    Mean,
}

impl ObserveArg {
    fn get(self) -> Option<Observe> {
        match self {
            ObserveArg::Auto => None,
            ObserveArg::Seed => Some(Observe::OneSeed),
            ObserveArg::Mean => Some(Observe::Mean),
        }
    }
}

/// `--incumbent`.
#[derive(Clone, Copy, Debug, ValueEnum)]
enum IncumbentArg {
    Auto,
    Observed,
    Mean,
}

impl IncumbentArg {
    fn get(self) -> Option<Pick> {
        match self {
            IncumbentArg::Auto => None,
            IncumbentArg::Observed => Some(Pick::Observed),
            IncumbentArg::Mean => Some(Pick::Mean),
        }
    }
}

/// `--output-warp`.
#[derive(Clone, Copy, Debug, ValueEnum)]
enum WarpArg {
    Auto,
    On,
    Off,
}

impl From<WarpArg> for OutputWarp {
    fn from(w: WarpArg) -> Self {
        match w {
            WarpArg::Auto => OutputWarp::Auto,
            WarpArg::On => OutputWarp::PowerTransform,
            WarpArg::Off => OutputWarp::Identity,
        }
    }
}

/// A problem as the bench sees it.
pub struct BenchProblem {
    /// Its name in the curves.
    pub name: String,
    /// Its space.
    pub space: Space,
    /// Minimize or maximize.
    pub direction: Direction,
    /// Best achievable (mean) value, for regret.
    pub optimum: f64,
    /// Default budget.
    pub budget: usize,
    /// Whether observations are noisy (then `bo` runs with its noisy settings).
    pub noisy: bool,
    /// Which trial is the incumbent: the best observed, or the best by the regret-value.
    pub pick: Pick,
    /// (observed value, value used for regret) of an assignment; the generator serves noisy
    /// problems.
    #[allow(clippy::type_complexity)]
    pub eval: Box<dyn Fn(&Assignment, &mut ChaCha8Rng) -> (f64, f64) + Send + Sync>,
}

fn test_problem(name: &str) -> Option<BenchProblem> {
    let p: Problem = Problem::by_name(name)?;
    let budget = match p.name.as_str() {
        "branin" => 40,
        "rosenbrock4" => 80,
        _ => 100,
    };
    let f = p.clone();
    Some(BenchProblem {
        name: p.name.clone(),
        space: p.space.clone(),
        direction: Direction::Minimize,
        optimum: p.optimum,
        budget,
        noisy: false,
        pick: Pick::Observed,
        eval: Box::new(move |a, _| {
            let v = f.eval(a);
            (v, v)
        }),
    })
}

/// Resolves a problem name.
pub fn problem(name: &str) -> Result<BenchProblem> {
    test_problem(name).with_context(|| {
        format!(
            "unknown problem `{name}` (branin, hartmann3, hartmann6, ackley<d>, shiftedackley<d>, rosenbrock<d>, mixed, {})",
            super::tables::names().join(", ")
        )
    })
}

/// One point of a curve.
#[derive(Clone, Debug)]
pub struct CurvePoint {
    /// Trial number (1-based).
    pub trial: usize,
    /// Observed value.
    pub value: f64,
    /// Regret-value of the incumbent (the best trial so far, observed or by mean as the
    /// problem picks).
    pub best: f64,
    /// Regret of the incumbent (≥ 0).
    pub regret: f64,
}

/// Runs one strategy on one problem with one seed, through the shared run loop.
pub fn run_one(
    problem: &BenchProblem,
    strategy: &StrategyKind,
    seed: u64,
    trials: usize,
) -> Result<Vec<CurvePoint>> {
    let strategy = match strategy {
        StrategyKind::Bo(c) if problem.noisy => StrategyKind::Bo(nasbo::tuner::BoConfig {
            noisy: true,
            ..c.clone()
        }),
        s => s.clone(),
    };
    let mut study = Study::new(
        problem.space.clone(),
        StudyConfig {
            seed,
            strategy,
            ..StudyConfig::new(problem.direction)
        },
    )?;
    // One generator per run, drawn in trial order (the loop runs one trial at a time).
    let rng = Mutex::new(ChaCha8Rng::seed_from_u64(seed ^ 0xBE9C_4000));
    let truths = Mutex::new(Vec::with_capacity(trials));
    let objective = |t: &TrialHandle| {
        let (observed, truth) = match rng.lock() {
            Ok(mut r) => (problem.eval)(t.params(), &mut r),
            Err(_) => return Outcome::failed("the generator's lock is poisoned"),
        };
        if let Ok(mut v) = truths.lock() {
            v.push((t.number(), truth));
        }
        Outcome::value(observed)
    };
    run_loop(
        &mut study,
        &objective,
        &RunConfig::trials(trials),
        &mut |_| {},
    )?;
    let truths = truths.into_inner().unwrap_or_default();
    let mut incumbent: Option<(f64, f64)> = None; // (picked on, regret-value)
    let mut curve = Vec::with_capacity(trials);
    for (i, t) in study.trials().iter().enumerate() {
        let observed = t.value().context("a bench trial has no value")?;
        let truth = truths
            .iter()
            .find(|(n, _)| *n == t.number)
            .map(|x| x.1)
            .context("a bench trial has no regret value")?;
        let key = match problem.pick {
            Pick::Observed => observed,
            Pick::Mean => truth,
        };
        if incumbent.is_none_or(|(k, _)| problem.direction.better(key, k)) {
            incumbent = Some((key, truth));
        }
        let best = incumbent.map(|(_, t)| t).unwrap_or(truth);
        let regret = match problem.direction {
            Direction::Minimize => best - problem.optimum,
            Direction::Maximize => problem.optimum - best,
        }
        .max(0.0);
        curve.push(CurvePoint {
            trial: i + 1,
            value: observed,
            best,
            regret,
        });
    }
    Ok(curve)
}

fn quantile(sorted: &[f64], q: f64) -> f64 {
    if sorted.is_empty() {
        return f64::NAN;
    }
    let pos = q * (sorted.len() - 1) as f64;
    let (lo, hi) = (pos.floor() as usize, pos.ceil() as usize);
    sorted[lo] + (sorted[hi] - sorted[lo]) * (pos - lo as f64)
}

/// One run: strategy, problem, seed, curve.
type Run = (String, String, u64, Vec<CurvePoint>);
type Runs = Vec<Run>;
/// Curves grouped by (problem, strategy).
type Groups<'a> = Vec<((String, String), Vec<&'a Vec<CurvePoint>>)>;

/// Runs `nasbo bench`.
pub fn run(args: BenchArgs) -> Result<ExitCode> {
    if args.seeds == 0 {
        bail!("--seeds must be at least 1");
    }
    if args.jobs == 0 {
        bail!("--jobs must be at least 1");
    }
    if !(args.boundary_prior.is_finite() && args.boundary_prior >= 0.0) {
        bail!(
            "--boundary-prior {}: must be finite and ≥ 0",
            args.boundary_prior
        );
    }
    let (observe, pick) = (args.observe.get(), args.incumbent.get());
    let mut problems: Vec<Arc<BenchProblem>> = Vec::new();
    // With several table problems, each table goes to the problems whose columns it has.
    let table_problems: Vec<&String> = args
        .problem
        .iter()
        .filter(|p| super::tables::is_table_problem(p))
        .collect();
    let mut used = vec![false; args.table.len()];
    for p in &args.problem {
        if super::tables::is_table_problem(p) {
            if args.table.is_empty() {
                let t = super::tables::default_table(p).expect("known table problem");
                problems.push(Arc::new(super::tables::load(p, &t, observe, pick)?));
                continue;
            }
            for (i, t) in args.table.iter().enumerate() {
                if table_problems.len() > 1 && !super::tables::fits(p, t)? {
                    continue;
                }
                problems.push(Arc::new(super::tables::load(p, t, observe, pick)?));
                used[i] = true;
            }
        } else {
            problems.push(Arc::new(problem(p)?));
        }
    }
    if let Some(i) = used.iter().position(|u| !u) {
        if !table_problems.is_empty() {
            bail!(
                "--table {}: its columns fit none of the table problems given ({})",
                args.table[i].display(),
                table_problems
                    .iter()
                    .map(|s| s.as_str())
                    .collect::<Vec<_>>()
                    .join(", ")
            );
        }
    }
    let strategies: Vec<(String, StrategyKind)> = args
        .strategy
        .iter()
        .map(|s| {
            StrategyKind::parse(s)
                .map(|k| match k {
                    StrategyKind::Bo(c) => StrategyKind::Bo(BoConfig {
                        boundary_prior: args.boundary_prior,
                        output_warp: args.output_warp.into(),
                        prior_mean: args.prior_mean.into(),
                        ..c
                    }),
                    k => k,
                })
                .map(|k| (s.clone(), k))
                .with_context(|| {
                    format!("unknown strategy `{s}` (bo, random, sobol, evolution, reinforce)")
                })
        })
        .collect::<Result<_>>()?;
    let mut tasks = Vec::new();
    for p in &problems {
        for (sname, s) in &strategies {
            for seed in 0..args.seeds {
                tasks.push((p.clone(), sname.clone(), s.clone(), seed));
            }
        }
    }
    let total = tasks.len();
    let progress = Progress::new(total as u64, "runs");
    let done = AtomicUsize::new(0);
    let pool = rayon::ThreadPoolBuilder::new()
        .num_threads(args.jobs.min(total.max(1)))
        .build()
        .context("starting the bench's threads")?;
    let results: Vec<Result<Run>> = pool.install(|| {
        tasks
            .into_par_iter()
            .map(|(p, sname, s, seed)| {
                let budget = args.trials.unwrap_or(p.budget);
                let started = std::time::Instant::now();
                let r =
                    run_one(&p, &s, seed, budget).map(|c| (sname.clone(), p.name.clone(), seed, c));
                let msg = match &r {
                    Ok((_, _, _, c)) => format!(
                        "{sname} on {} seed {seed}: final regret {:.4e} ({:.1} s)",
                        p.name,
                        c.last().map_or(f64::NAN, |c| c.regret),
                        started.elapsed().as_secs_f64()
                    ),
                    Err(e) => format!("{sname} on {} seed {seed}: error {e}", p.name),
                };
                let n = done.fetch_add(1, Ordering::SeqCst) + 1;
                progress.update(n as u64, &msg);
                r
            })
            .collect()
    });
    progress.finish();
    let runs: Runs = results.into_iter().collect::<Result<_>>()?;
    write_curves(&args.out, &runs)?;
    println!("{}", summary(&runs));
    let plot = args
        .plot
        .clone()
        .unwrap_or_else(|| args.out.with_extension("svg"));
    std::fs::write(&plot, svg(&runs)).with_context(|| format!("writing {}", plot.display()))?;
    eprintln!("curves: {}, plot: {}", args.out.display(), plot.display());
    Ok(ExitCode::SUCCESS)
}

fn write_curves(path: &PathBuf, runs: &Runs) -> Result<()> {
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
