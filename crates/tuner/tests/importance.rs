//! Importance against analytic Sobol indices: a function of a float, an int and a
//! categorical parameter with a fourth that does not matter, first exactly (the estimator on
//! the function itself), then through the model fitted to trials of it; and a 60/40 split.

use nasbo_tuner::bo::Target;
use nasbo_tuner::importance::{importance, sobol_indices, ImportanceConfig};
use nasbo_tuner::strategy::random_assignment;
use nasbo_tuner::{Assignment, Direction, Param, Space, Trial, TrialState, Value};
use rand::SeedableRng;
use rand_chacha::ChaCha8Rng;

fn space() -> Space {
    Space::new(vec![
        Param::float("x", 0.0, 1.0),
        Param::int("n", 0, 4),
        Param::categorical("c", &["a", "b", "c"]),
        Param::float("z", -1.0, 1.0),
    ])
    .unwrap()
}

/// `2(x − ½) + n/2 + {a: 0, b: 1, c: −1}`, additive: the variances are `1/3`, `1/2` and `2/3`
/// (x uniform on [0, 1], n uniform on 0…4, c uniform on three choices), so the main effects
/// are 2/9, 1/3, 4/9 and 0 for z.
fn f(a: &Assignment) -> f64 {
    let num = |i: usize| a[i].as_ref().and_then(|v| v.as_f64()).unwrap_or(0.0);
    let c = match &a[2] {
        Some(Value::Cat(c)) if c == "b" => 1.0,
        Some(Value::Cat(c)) if c == "c" => -1.0,
        _ => 0.0,
    };
    2.0 * (num(0) - 0.5) + num(1) / 2.0 + c
}

const EXPECTED: [f64; 4] = [2.0 / 9.0, 1.0 / 3.0, 4.0 / 9.0, 0.0];

fn trials(space: &Space, n: usize, g: &dyn Fn(&Assignment) -> f64) -> Vec<Trial> {
    let mut rng = ChaCha8Rng::seed_from_u64(9);
    (0..n)
        .map(|i| {
            let mut t = Trial::new(i, random_assignment(space, &mut rng));
            t.state = TrialState::Complete;
            t.values = vec![g(&t.params)];
            t
        })
        .collect()
}

#[test]
fn the_estimator_recovers_analytic_indices() {
    let s = sobol_indices(&space(), &|p| p.iter().map(f).collect(), 8192, 1);
    for (got, want) in s.iter().zip(EXPECTED) {
        assert!(
            (got.main - want).abs() < 0.02,
            "{}: {} vs {want}",
            got.param,
            got.main
        );
        // Additive: the total effect is the main effect.
        assert!(
            (got.total - want).abs() < 0.02,
            "{}: total {}",
            got.param,
            got.total
        );
    }
    // An interaction: f = x·y on [−1, 1]² has no main effects and all of it is interaction.
    let sq = Space::new(vec![
        Param::float("x", -1.0, 1.0),
        Param::float("y", -1.0, 1.0),
    ])
    .unwrap();
    let prod = |p: &[Assignment]| -> Vec<f64> {
        p.iter()
            .map(|a| {
                a[0].as_ref().unwrap().as_f64().unwrap() * a[1].as_ref().unwrap().as_f64().unwrap()
            })
            .collect()
    };
    for s in sobol_indices(&sq, &prod, 8192, 2) {
        assert!(s.main < 0.03 && (s.total - 1.0).abs() < 0.05, "{s:?}");
    }
}

#[test]
fn the_model_recovers_them_from_trials() {
    let space = space();
    let t = trials(&space, 120, &f);
    let s = importance(
        &space,
        &t,
        &Target::objective(Direction::Minimize),
        &ImportanceConfig::default(),
    )
    .unwrap();
    for (got, want) in s.iter().zip(EXPECTED) {
        assert!(
            (got.main - want).abs() < 0.08,
            "{}: {} vs {want}",
            got.param,
            got.main
        );
    }
    assert!(s[3].main < 0.05, "z does not matter: {}", s[3].main);
    let sum: f64 = s.iter().map(|s| s.main).sum();
    assert!(sum <= 1.0 + 1e-12);
}

#[test]
fn a_sixty_forty_split_comes_out_in_order() {
    let space = Space::new(
        (0..5)
            .map(|k| Param::float(&format!("p{k}"), 0.0, 1.0))
            .collect(),
    )
    .unwrap();
    // Var(w u) = w²/12 for u uniform on [0, 1]: weights √0.6 and √0.4 on p1 and p3 split the
    // variance 60/40; p0, p2, p4 do not matter.
    let g = |a: &Assignment| {
        let u = |i: usize| a[i].as_ref().unwrap().as_f64().unwrap();
        0.6f64.sqrt() * u(1) + 0.4f64.sqrt() * u(3)
    };
    let truth = [0.0, 0.6, 0.0, 0.4, 0.0];
    let t = trials(&space, 60, &g);
    let s = importance(
        &space,
        &t,
        &Target::objective(Direction::Maximize),
        &ImportanceConfig::default(),
    )
    .unwrap();
    assert!(s[1].main > s[3].main, "{s:?}");
    for k in [1, 3] {
        assert!((s[k].main - truth[k]).abs() < 0.15, "{k}: {s:?}");
    }
    for k in [0, 2, 4] {
        assert!(s[k].main < 0.05, "p{k} does not matter: {s:?}");
    }
    // Too few trials: a clear error.
    let err = importance(
        &space,
        &t[..3],
        &Target::objective(Direction::Maximize),
        &ImportanceConfig::default(),
    )
    .unwrap_err()
    .to_string();
    assert!(err.contains("at least 4 complete trials"), "{err}");
}

/// Above 800 trials the report's model conditions on a uniform subset: its training inputs
/// cover the space as the trials do, where `bo`'s subset crowds around the best trials.
#[test]
fn the_report_model_draws_a_uniform_subset_of_a_large_study() {
    use nasbo_tuner::bo::{fit_surrogate, FitOptions, SubsetDraw};
    use nasbo_tuner::importance::report_model;
    let space = Space::new(vec![Param::float("x", 0.0, 1.0)]).unwrap();
    let trials: Vec<Trial> = (0..1200)
        .map(|n| {
            let x = (n as f64 + 0.5) / 1200.0;
            let mut t = Trial::new(n, vec![Some(Value::Float(x))]);
            t.state = TrialState::Complete;
            t.values = vec![x];
            t
        })
        .collect();
    let target = Target::objective(Direction::Minimize);
    // The share of the model's training inputs in the best fifth of the range (x < 0.2).
    let low_share = |config: &nasbo_tuner::BoConfig| {
        let m = fit_surrogate(&space, &trials, &target, config, &FitOptions::default()).unwrap();
        let xs = m.gp().train_inputs();
        assert_eq!(xs.nrows(), 800);
        xs.column(0).iter().filter(|&&x| x < 0.2).count() as f64 / xs.nrows() as f64
    };
    let uniform = low_share(&report_model());
    assert_eq!(report_model().subset, SubsetDraw::Uniform);
    let best_first = low_share(&nasbo_tuner::BoConfig {
        subset: SubsetDraw::BestFirst,
        ..report_model()
    });
    assert!((uniform - 0.2).abs() < 0.05, "uniform subset: {uniform}");
    assert!(best_first > uniform + 0.05, "{best_first} vs {uniform}");
}
