//! Box bounds for argmin's L-BFGS, which has none: a smooth reparameterization.
//!
//! Each bounded coordinate `x ∈ [low, high]` is written `x = low + (high − low)(1 + sin t)/2`
//! with `t` unconstrained. The map is onto the closed box (a maximum on a bound is a stationary
//! point `t = ±π/2`, reached exactly), smooth, and its derivative `(high − low) cos(t)/2` is
//! bounded, so L-BFGS works on `t` unchanged. Only the continuous coordinates move; the others
//! stay at the values of a template point.
//!
//! On a face the map's derivative is zero (`cos(±π/2) = 0`), so a search that *starts* there
//! could never leave it, even when the maximum is inside (as after a discrete move made at a
//! face). Each search therefore starts from the point moved inside by [`FACE_MARGIN`] of the
//! range (`SineBox::to_t_inside`); the start itself is kept if nothing better is found.

use std::cell::RefCell;

use argmin::core::{CostFunction, Error as ArgminError, Executor, Gradient, State};
use argmin::solver::linesearch::MoreThuenteLineSearch;
use argmin::solver::quasinewton::LBFGS;
use nalgebra::DVector;

use crate::functions::AcquisitionFunction;

/// How far inside the box (as a fraction of each range) a search starts from a point on or
/// near a face: the sine map's slope there is about `2√margin` ≈ 0.06 of its largest, enough
/// for L-BFGS to move.
pub const FACE_MARGIN: f64 = 1e-3;

/// Maps between box coordinates and the unconstrained `t`.
#[derive(Clone, Debug)]
pub struct SineBox {
    /// Which coordinates of the full point move.
    pub coords: Vec<usize>,
    /// Their lower bounds.
    pub low: Vec<f64>,
    /// Their upper bounds.
    pub high: Vec<f64>,
}

impl SineBox {
    /// `x` from `t`.
    pub fn to_x(&self, t: &[f64], x: &mut [f64]) {
        for (j, &k) in self.coords.iter().enumerate() {
            let v = self.low[j] + (self.high[j] - self.low[j]) * 0.5 * (1.0 + t[j].sin());
            x[k] = v.clamp(self.low[j], self.high[j]);
        }
    }
    /// `t` from `x` (the principal branch, `t ∈ [−π/2, π/2]`).
    pub fn to_t(&self, x: &[f64]) -> Vec<f64> {
        self.coords
            .iter()
            .enumerate()
            .map(|(j, &k)| {
                let s = 2.0 * (x[k] - self.low[j]) / (self.high[j] - self.low[j]) - 1.0;
                s.clamp(-1.0, 1.0).asin()
            })
            .collect()
    }
    /// [`SineBox::to_t`] of `x` with every coordinate at least [`FACE_MARGIN`] of its range
    /// inside its bounds, where the map's slope is not zero.
    pub fn to_t_inside(&self, x: &[f64]) -> Vec<f64> {
        let edge = 1.0 - 2.0 * FACE_MARGIN;
        self.coords
            .iter()
            .enumerate()
            .map(|(j, &k)| {
                let s = 2.0 * (x[k] - self.low[j]) / (self.high[j] - self.low[j]) - 1.0;
                s.clamp(-edge, edge).asin()
            })
            .collect()
    }
    /// `dx_k/dt_j` for the moving coordinates.
    pub fn jacobian(&self, t: &[f64]) -> Vec<f64> {
        (0..self.coords.len())
            .map(|j| 0.5 * (self.high[j] - self.low[j]) * t[j].cos())
            .collect()
    }
}

/// A point `t` with the cost and gradient there.
type CachedEval = (Vec<f64>, f64, Vec<f64>);

/// `−acq(x(t))` as an argmin problem.
pub struct BoxedNegated<'a, A: ?Sized> {
    acq: &'a A,
    map: &'a SineBox,
    template: Vec<f64>,
    cache: RefCell<Option<CachedEval>>,
}

impl<'a, A: AcquisitionFunction + ?Sized> BoxedNegated<'a, A> {
    /// The problem of moving `map.coords` of `template`.
    pub fn new(acq: &'a A, map: &'a SineBox, template: Vec<f64>) -> Self {
        BoxedNegated {
            acq,
            map,
            template,
            cache: RefCell::new(None),
        }
    }

    /// The full point for `t`.
    pub fn point(&self, t: &[f64]) -> Vec<f64> {
        let mut x = self.template.clone();
        self.map.to_x(t, &mut x);
        x
    }

    /// `(−acq, −∂acq/∂t)` at `t`.
    pub fn eval(&self, t: &[f64]) -> Result<(f64, Vec<f64>), crate::AcqError> {
        if let Some((tc, f, g)) = self.cache.borrow().as_ref() {
            if tc.as_slice() == t {
                return Ok((*f, g.clone()));
            }
        }
        let x = self.point(t);
        let (v, gx) = self.acq.value_and_gradient(&x)?;
        if !v.is_finite() || gx.iter().any(|g| !g.is_finite()) {
            return Err(crate::AcqError::NonFinite);
        }
        let jac = self.map.jacobian(t);
        let g: Vec<f64> = self
            .map
            .coords
            .iter()
            .enumerate()
            .map(|(j, &k)| -gx[k] * jac[j])
            .collect();
        *self.cache.borrow_mut() = Some((t.to_vec(), -v, g.clone()));
        Ok((-v, g))
    }
}

impl<A: AcquisitionFunction + ?Sized> CostFunction for BoxedNegated<'_, A> {
    type Param = DVector<f64>;
    type Output = f64;
    fn cost(&self, t: &DVector<f64>) -> Result<f64, ArgminError> {
        Ok(self.eval(t.as_slice())?.0)
    }
}

impl<A: AcquisitionFunction + ?Sized> Gradient for BoxedNegated<'_, A> {
    type Param = DVector<f64>;
    type Gradient = DVector<f64>;
    fn gradient(&self, t: &DVector<f64>) -> Result<DVector<f64>, ArgminError> {
        Ok(DVector::from_vec(self.eval(t.as_slice())?.1))
    }
}

/// Maximizes `acq` over the coordinates `map.coords` of `start` inside their bounds with
/// L-BFGS. Returns the best point found and its value; the start itself if the search fails.
pub fn maximize_in_box<A: AcquisitionFunction + ?Sized>(
    acq: &A,
    map: &SineBox,
    start: &[f64],
    start_value: f64,
    max_iters: u64,
) -> (Vec<f64>, f64) {
    if map.coords.is_empty() {
        return (start.to_vec(), start_value);
    }
    let problem = BoxedNegated::new(acq, map, start.to_vec());
    let t0 = map.to_t_inside(start);
    let solver = match LBFGS::new(MoreThuenteLineSearch::new(), 7)
        .with_tolerance_grad(1e-7)
        .and_then(|s| s.with_tolerance_cost(1e-9))
    {
        Ok(s) => s,
        Err(_) => return (start.to_vec(), start_value),
    };
    let result = Executor::new(problem, solver)
        .configure(|s| s.param(DVector::from_vec(t0)).max_iters(max_iters))
        .timer(false)
        .run();
    match result {
        Ok(res) => {
            let state = res.state();
            match state.get_best_param() {
                Some(t)
                    if state.get_best_cost().is_finite()
                        && -state.get_best_cost() > start_value =>
                {
                    let mut x = start.to_vec();
                    map.to_x(t.as_slice(), &mut x);
                    (x, -state.get_best_cost())
                }
                _ => (start.to_vec(), start_value),
            }
        }
        Err(_) => (start.to_vec(), start_value),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::AcqError;
    use nalgebra::DMatrix;

    /// A concave quadratic `−Σ (x_k − c_k)²` with a known maximizer.
    struct Quadratic {
        center: Vec<f64>,
    }

    impl AcquisitionFunction for Quadratic {
        fn dim(&self) -> usize {
            self.center.len()
        }
        fn value(&self, x: &[f64]) -> Result<f64, AcqError> {
            Ok(-x
                .iter()
                .zip(&self.center)
                .map(|(a, c)| (a - c).powi(2))
                .sum::<f64>())
        }
        fn value_and_gradient(&self, x: &[f64]) -> Result<(f64, Vec<f64>), AcqError> {
            let g = x
                .iter()
                .zip(&self.center)
                .map(|(a, c)| -2.0 * (a - c))
                .collect();
            Ok((self.value(x)?, g))
        }
        fn values(&self, xs: &DMatrix<f64>) -> Result<Vec<f64>, AcqError> {
            (0..xs.nrows())
                .map(|i| self.value(&xs.row(i).iter().copied().collect::<Vec<_>>()))
                .collect()
        }
    }

    fn unit_box(d: usize) -> SineBox {
        SineBox {
            coords: (0..d).collect(),
            low: vec![0.0; d],
            high: vec![1.0; d],
        }
    }

    #[test]
    fn the_map_stays_in_the_box_and_round_trips() {
        let b = SineBox {
            coords: vec![0, 2],
            low: vec![-1.0, 10.0],
            high: vec![3.0, 10.5],
        };
        let mut x = vec![0.0, 7.0, 0.0];
        for k in -50..50 {
            let t = [k as f64 * 0.37, k as f64 * -1.3];
            b.to_x(&t, &mut x);
            assert!((-1.0..=3.0).contains(&x[0]) && (10.0..=10.5).contains(&x[2]));
            assert_eq!(x[1], 7.0, "fixed coordinate moved");
            let back = b.to_t(&x);
            let mut y = x.clone();
            b.to_x(&back, &mut y);
            assert!((y[0] - x[0]).abs() < 1e-12 && (y[2] - x[2]).abs() < 1e-12);
        }
    }

    #[test]
    fn gradient_in_t_matches_finite_differences() {
        let acq = Quadratic {
            center: vec![0.3, 1.7, -0.2],
        };
        let b = SineBox {
            coords: vec![0, 1, 2],
            low: vec![0.0, 0.0, -1.0],
            high: vec![1.0, 2.0, 1.0],
        };
        let p = BoxedNegated::new(&acq, &b, vec![0.0; 3]);
        let t = [0.4, -1.1, 2.5];
        let (_, g) = p.eval(&t).unwrap();
        for j in 0..3 {
            let h = 1e-6;
            let mut tp = t;
            let mut tm = t;
            tp[j] += h;
            tm[j] -= h;
            let fd = (p.eval(&tp).unwrap().0 - p.eval(&tm).unwrap().0) / (2.0 * h);
            assert!((fd - g[j]).abs() < 1e-7, "{fd} vs {}", g[j]);
        }
    }

    #[test]
    fn finds_interior_and_boundary_maxima() {
        // Interior.
        let acq = Quadratic {
            center: vec![0.3, 0.8],
        };
        let (x, v) = maximize_in_box(
            &acq,
            &unit_box(2),
            &[0.9, 0.1],
            acq.value(&[0.9, 0.1]).unwrap(),
            100,
        );
        assert!(
            (x[0] - 0.3).abs() < 1e-5 && (x[1] - 0.8).abs() < 1e-5,
            "{x:?}"
        );
        assert!(v > -1e-9);
        // Outside the box: the maximizer is on the bound and stays feasible.
        let acq = Quadratic {
            center: vec![1.7, -0.4],
        };
        let (x, _) = maximize_in_box(
            &acq,
            &unit_box(2),
            &[0.5, 0.5],
            acq.value(&[0.5, 0.5]).unwrap(),
            100,
        );
        assert!((x[0] - 1.0).abs() < 1e-6 && x[1].abs() < 1e-6, "{x:?}");
        assert!(x.iter().all(|v| (0.0..=1.0).contains(v)));
    }
}
