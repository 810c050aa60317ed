//! `nasbo bench`: runs strategies × problems × seeds through the shared run loop, then writes
//! the curves, the summary table and the plot ([`super::curves`]).

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
    /// shiftedackley<d>, rosenbrock<d>, mixed, the held-out shiftedlevy<d>, shiftedgriewank<d>,
    /// shiftedrastrigin<d>, schwefel<d>, michalewicz<d> (d ≤ 10), styblinskitang<d> (issue 24's
    /// list: `heldout`; a second set at other dimensions: `heldout2`), a table problem, a two-objective table problem
    /// (nb201-latency, nb201-params: the curves' `best` is the normalized hypervolume so far,
    /// `regret` 1 minus it), or a learning-curve problem
    /// lc-<hartmann6|shiftedackley6|rosenbrock6>-<rank|cross> (27 steps a trial; --trials is
    /// then the budget in full trials' steps, default 20).
    #[arg(long, value_delimiter = ',', default_value = "branin")]
    problem: Vec<String>,
    /// Strategies, comma-separated: bo, random, sobol, evolution, reinforce (and bo-parego:
    /// `bo` with ParEGO instead of EHVI on the multi-objective problems).
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
    /// `bo`: raw points of the acquisition search drawn around the three best trials
    /// (default: `bo`'s own setting).
    #[arg(long)]
    around_best: Option<usize>,
    /// `bo`: every this many trials a hyperparameter fit from scratch instead of from the
    /// previous trial's (0: never; default: `bo`'s own, 4 for deterministic problems and never
    /// for noisy ones).
    #[arg(long)]
    cold_fit_every: Option<usize>,
    /// `bo`: every this many trials a greedy step (the posterior mean's maximum) instead of
    /// the acquisition's (0: never; default: `bo`'s own, 4 for deterministic problems and
    /// never for noisy ones).
    #[arg(long)]
    exploit_every: Option<usize>,
    /// `bo`: L-BFGS runs of a hyperparameter fit from scratch (default: `bo`'s own setting).
    #[arg(long)]
    cold_fit_starts: Option<usize>,
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
    /// Learning-curve problems: pruners, comma-separated (none, median, asha, hyperband);
    /// each strategy runs with each (named `<strategy>+<pruner>` in the curves).
    #[arg(long, value_delimiter = ',', default_value = "none")]
    pruner: Vec<String>,
    /// `bo`: what a pruned trial tells the model: shifted (its last value moved by how much
    /// complete trials changed from that step on), worst (as a failure), ignored.
    #[arg(long, default_value = "shifted")]
    pruned_as: String,
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
            "unknown problem `{name}` (branin, hartmann3, hartmann6, ackley<d>, shiftedackley<d>, rosenbrock<d>, mixed, shiftedlevy<d>, shiftedgriewank<d>, shiftedrastrigin<d>, schwefel<d>, michalewicz<d> (d ≤ 10), styblinskitang<d>, heldout, heldout2, {}, {}, {})",
            super::tables::names().join(", "),
            super::mobench::names().join(", "),
            super::learning::names().join(", ")
        )
    })
}

/// A run's problem.
enum Task {
    Plain(Arc<BenchProblem>),
    Curves(
        Arc<super::learning::LcProblem>,
        Option<Arc<dyn nasbo::tuner::prune::Pruner>>,
    ),
    Multi(Arc<super::mobench::MoProblem>),
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
    }
    .with_budget(trials);
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

/// Runs `nasbo bench`.
pub fn run(mut args: BenchArgs) -> Result<ExitCode> {
    // `heldout`, `heldout2`: issue 24's held-out problems, and the second set.
    args.problem = args
        .problem
        .iter()
        .flat_map(|p| {
            if p.eq_ignore_ascii_case("heldout") {
                Problem::held_out().into_iter().map(|q| q.name).collect()
            } else if p.eq_ignore_ascii_case("heldout2") {
                Problem::held_out_second()
                    .into_iter()
                    .map(|q| q.name)
                    .collect()
            } else {
                vec![p.clone()]
            }
        })
        .collect();
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
    let mut multi: Vec<Arc<super::mobench::MoProblem>> = Vec::new();
    for p in &args.problem {
        if super::mobench::is_mo(p) {
            if args.table.is_empty() {
                let t = super::tables::default_table("nb201").expect("known table problem");
                multi.push(Arc::new(super::mobench::MoProblem::load(p, &t)?));
            }
            for (i, t) in args.table.iter().enumerate() {
                if super::tables::fits("nb201", t)? {
                    multi.push(Arc::new(super::mobench::MoProblem::load(p, t)?));
                    used[i] = true;
                }
            }
        } else if super::tables::is_table_problem(p) {
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
        } else if !super::learning::is_lc(p) {
            problems.push(Arc::new(problem(p)?));
        }
    }
    let lc: Vec<Arc<super::learning::LcProblem>> = args
        .problem
        .iter()
        .filter(|p| super::learning::is_lc(p))
        .map(|p| super::learning::problem(p).map(Arc::new))
        .collect::<Result<_>>()?;
    let pruned_as = nasbo::tuner::PrunedAs::parse(&args.pruned_as).with_context(|| {
        format!(
            "--pruned-as {}: one of shifted, worst, ignored",
            args.pruned_as
        )
    })?;
    let mut pruners = Vec::new();
    for name in &args.pruner {
        let kind = nasbo::tuner::prune::PrunerKind::parse(name)?;
        let pruner =
            nasbo::tuner::prune::PrunerConfig::new(kind, super::learning::STEPS).build()?;
        pruners.push((kind, pruner));
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
            // `bo-parego`: `bo` with ParEGO's scalarizations in a study of several objectives.
            let parego = s == "bo-parego";
            StrategyKind::parse(if parego { "bo" } else { s })
                .map(|k| match k {
                    StrategyKind::Bo(c) if parego => StrategyKind::Bo(BoConfig {
                        multi: nasbo::tuner::MultiObjective::Parego,
                        ..c
                    }),
                    k => k,
                })
                .map(|k| match k {
                    StrategyKind::Bo(c) => StrategyKind::Bo(BoConfig {
                        optimizer: nasbo::acq::OptimizerConfig {
                            around_best: args.around_best.unwrap_or(c.optimizer.around_best),
                            ..c.optimizer.clone()
                        },
                        cold_fit_every: args.cold_fit_every.or(c.cold_fit_every),
                        cold_fit_starts: args.cold_fit_starts.or(c.cold_fit_starts),
                        exploit_every: args.exploit_every.or(c.exploit_every),
                        boundary_prior: args.boundary_prior,
                        output_warp: args.output_warp.into(),
                        prior_mean: args.prior_mean.into(),
                        pruned: pruned_as,
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
                tasks.push((Task::Plain(p.clone()), sname.clone(), s.clone(), seed));
            }
        }
    }
    for p in &multi {
        for (sname, s) in &strategies {
            for seed in 0..args.seeds {
                tasks.push((Task::Multi(p.clone()), sname.clone(), s.clone(), seed));
            }
        }
    }
    for p in &lc {
        for (sname, s) in &strategies {
            for (kind, pruner) in &pruners {
                let label = match kind {
                    nasbo::tuner::prune::PrunerKind::None => sname.clone(),
                    k => format!("{sname}+{}", k.name()),
                };
                for seed in 0..args.seeds {
                    tasks.push((
                        Task::Curves(p.clone(), pruner.clone()),
                        label.clone(),
                        s.clone(),
                        seed,
                    ));
                }
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
    let results: Vec<Result<super::curves::Run>> = pool.install(|| {
        tasks
            .into_par_iter()
            .map(|(p, sname, s, seed)| {
                let started = std::time::Instant::now();
                let (name, r) = match &p {
                    Task::Plain(p) => (
                        p.name.clone(),
                        run_one(p, &s, seed, args.trials.unwrap_or(p.budget)),
                    ),
                    Task::Multi(p) => (
                        p.name.clone(),
                        super::mobench::run_one(p, &s, seed, args.trials.unwrap_or(100)),
                    ),
                    Task::Curves(p, pruner) => (
                        p.name.clone(),
                        super::learning::run_one(
                            p,
                            &s,
                            pruner.clone(),
                            seed,
                            args.trials.unwrap_or(20),
                        ),
                    ),
                };
                let r = r.map(|c| (sname.clone(), name.clone(), seed, c));
                let msg = match &r {
                    Ok((_, _, _, c)) => format!(
                        "{sname} on {name} seed {seed}: final regret {:.4e} ({:.1} s)",
                        c.last().map_or(f64::NAN, |c| c.regret),
                        started.elapsed().as_secs_f64()
                    ),
                    Err(e) => format!("{sname} on {name} seed {seed}: error {e}"),
                };
                let n = done.fetch_add(1, Ordering::SeqCst) + 1;
                progress.update(n as u64, &msg);
                r
            })
            .collect()
    });
    progress.finish();
    let runs: super::curves::Runs = results.into_iter().collect::<Result<_>>()?;
    super::curves::write_curves(&args.out, &runs)?;
    println!("{}", super::curves::summary(&runs));
    if !multi.is_empty() {
        let n = args.trials.unwrap_or(100);
        let at: Vec<usize> = [n / 2, n].into_iter().filter(|&k| k > 0).collect();
        println!("{}", super::mobench::summary(&runs, &at));
    }
    let plot = args
        .plot
        .clone()
        .unwrap_or_else(|| args.out.with_extension("svg"));
    std::fs::write(&plot, super::curves::svg(&runs))
        .with_context(|| format!("writing {}", plot.display()))?;
    eprintln!("curves: {}, plot: {}", args.out.display(), plot.display());
    Ok(ExitCode::SUCCESS)
}
