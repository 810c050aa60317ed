//! Every test problem at its optimizers, and never below its optimum elsewhere.

use nasbo_tuner::strategy::random_assignment;
use nasbo_tuner::testfns::Problem;
use rand::SeedableRng;

#[test]
fn every_problem_attains_its_optimum_at_its_optimizers() {
    let mut rng = rand_chacha::ChaCha8Rng::seed_from_u64(0);
    for p in Problem::all() {
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
        for _ in 0..2000 {
            let a = random_assignment(&p.space, &mut rng);
            assert!(
                p.eval(&a) >= p.optimum - 1e-9,
                "{}: below the optimum at {a:?}",
                p.name
            );
        }
    }
    assert_eq!(Problem::by_name("Ackley5").unwrap().dim(), 5);
    assert_eq!(Problem::by_name("rosenbrock4").unwrap().dim(), 4);
    assert!(Problem::by_name("nope").is_none());
}
