//! Every test problem at its optimizers, and never below its optimum elsewhere.

use nasbo_tuner::space::ParamKind;
use nasbo_tuner::strategy::random_assignment;
use nasbo_tuner::testfns::Problem;
use rand::SeedableRng;

/// `p` attains its optimum at its optimizers and is never below it at `draws` random points.
fn attains_its_optimum(p: &Problem, draws: usize, rng: &mut rand_chacha::ChaCha8Rng) {
    assert!(!p.optimizers.is_empty(), "{}", p.name);
    for x in &p.optimizers {
        p.space.validate(x).unwrap();
        let v = p.eval(x);
        assert!(
            (v - p.optimum).abs() <= p.tolerance,
            "{}: f(optimizer) = {v}, optimum {}",
            p.name,
            p.optimum
        );
    }
    for _ in 0..draws {
        let a = random_assignment(&p.space, rng);
        assert!(
            p.eval(&a) >= p.optimum - 1e-9,
            "{}: below the optimum at {a:?}",
            p.name
        );
    }
}

#[test]
fn every_problem_attains_its_optimum_at_its_optimizers() {
    let mut rng = rand_chacha::ChaCha8Rng::seed_from_u64(0);
    for p in Problem::all() {
        attains_its_optimum(&p, 2000, &mut rng);
    }
    assert_eq!(Problem::by_name("Ackley5").unwrap().dim(), 5);
    assert_eq!(Problem::by_name("rosenbrock4").unwrap().dim(), 4);
    assert!(Problem::by_name("nope").is_none());
}

#[test]
fn held_out_problems_resolve_by_name_with_their_minimum_off_the_centre() {
    for p in Problem::held_out() {
        let q = Problem::by_name(&p.name).unwrap();
        assert_eq!(q.dim(), p.dim(), "{}", p.name);
        // The minimizer is at least 15% of the width away from the box's centre on some axis.
        let x = &p.optimizers[0];
        let off = p.space.params().iter().zip(x).any(|(param, v)| {
            let (lo, hi) = match param.kind {
                ParamKind::Float { low, high, .. } => (low, high),
                ref k => panic!("{}: {k:?} is not a float", p.name),
            };
            let v = v.as_ref().unwrap().as_f64().unwrap();
            ((v - lo) / (hi - lo) - 0.5).abs() >= 0.15
        });
        assert!(off, "{}: minimizer at the centre of the box", p.name);
    }
    // Published minima.
    let m5 = Problem::by_name("michalewicz5").unwrap();
    assert!((m5.optimum + 4.687658).abs() < 1e-6, "{}", m5.optimum);
    let st = Problem::by_name("styblinskitang8").unwrap();
    assert!((st.optimum + 39.16617 * 8.0).abs() < 1e-3, "{}", st.optimum);
    assert!(Problem::by_name("michalewicz11").is_none());
    assert!(Problem::by_name("shiftedlevy0").is_none());
    assert!(Problem::by_name("rosenbrock1").is_none());
}

#[test]
fn the_second_held_out_set_resolves_by_name_and_attains_its_optima() {
    let mut rng = rand_chacha::ChaCha8Rng::seed_from_u64(1);
    let set = Problem::held_out_second();
    assert_eq!(set.len(), 12);
    for p in &set {
        let q = Problem::by_name(&p.name).unwrap();
        assert_eq!(q.dim(), p.dim(), "{}", p.name);
        assert!(
            Problem::held_out().iter().all(|h| h.name != p.name),
            "{} is in both sets",
            p.name
        );
        attains_its_optimum(p, 500, &mut rng);
    }
}
