//! Subset-of-data fits for large data sets: [`GpParams::fit_subset`].
//!
//! An exact fit costs O(n³) per evaluation of the marginal likelihood, and the hyperparameter
//! search evaluates it tens of times; prediction costs O(n) per mean and O(n²) per variance.
//! Above a few thousand observations neither fits a budget of a second. A subset-of-data (SoD)
//! model keeps the exact GP's machinery on a well-chosen subset:
//!
//! 1. the hyperparameters are fitted on at most [`SubsetOfData::fit`] observations;
//! 2. with those hyperparameters fixed, the model is conditioned on at most
//!    [`SubsetOfData::condition`] observations (one factorization).
//!
//! The cost is then bounded whatever n is: O(fit³) per likelihood evaluation, one O(condition³)
//! factorization, and O(condition²) per predicted variance, plus O(n log n) to choose the
//! subsets. Memory is the exact model's at n = `condition`.
//!
//! The subsets are chosen for optimization: with [`Emphasis::Largest`] (or `Smallest`), a
//! quarter of each subset is the observations with the largest (smallest) outputs, a quarter
//! their nearest neighbours around the best one, and the rest a uniform random draw of the
//! others, so the model is detailed where the optimum is and coarse elsewhere; with
//! [`Emphasis::Uniform`] the whole subset is a uniform draw (plain SoD regression).
//!
//! The accuracy cost, measured in `docs/benchmarks.md` (§9, `examples/subset_accuracy.rs`):
//! on noise-free Hartmann-6 data, a 400/800 subset of n = 5,000 observations emphasizing the
//! smallest outputs has the exact GP's test error at n = 1,000 over the cube (RMSE 0.078
//! against 0.077) and at n = 2,000 near the minimum (0.173 against 0.176), fitted in 0.14 s
//! where the exact fit at n = 2,000 takes 4.6 s; a uniform subset of the same size is worse in
//! both places (0.099 and 0.44). What is lost is the exact model's accuracy at n = 5,000.

use nalgebra::{DMatrix, DVector};
use rand::seq::SliceRandom;
use rand::SeedableRng;
use rand_chacha::ChaCha8Rng;
use serde::{Deserialize, Serialize};

use crate::{GaussianProcess, GpError, GpParams, Tuning};

/// Which observations a subset favours.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Default, Serialize, Deserialize)]
pub enum Emphasis {
    /// A uniform random subset.
    #[default]
    Uniform,
    /// The largest outputs and their neighbourhood (for maximization).
    Largest,
    /// The smallest outputs and their neighbourhood (for minimization).
    Smallest,
}

/// Settings of [`GpParams::fit_subset`].
///
/// | setting | default | meaning | valid range |
/// |---|---|---|---|
/// | `fit` | 400 | observations the hyperparameters are fitted on | `≥ 1` |
/// | `condition` | 800 | observations the model is conditioned on | `≥ fit` |
/// | `emphasis` | `Uniform` | which observations the subsets favour ([`Emphasis`]) | |
/// | `seed` | 0 | seed of the random part of the subsets | any |
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct SubsetOfData {
    /// Observations the hyperparameters are fitted on.
    pub fit: usize,
    /// Observations the model is conditioned on.
    pub condition: usize,
    /// Which observations the subsets favour.
    pub emphasis: Emphasis,
    /// Seed of the random part of the subsets.
    pub seed: u64,
}

impl Default for SubsetOfData {
    fn default() -> Self {
        SubsetOfData {
            fit: 400,
            condition: 800,
            emphasis: Emphasis::Uniform,
            seed: 0,
        }
    }
}

impl SubsetOfData {
    /// Checks the settings; names the one that is wrong.
    pub fn check(&self) -> Result<(), GpError> {
        if self.fit == 0 {
            return Err(GpError::InvalidParameter {
                name: "fit",
                value: "0".into(),
                reason: "at least 1 observation to fit the hyperparameters on".into(),
            });
        }
        if self.condition < self.fit {
            return Err(GpError::InvalidParameter {
                name: "condition",
                value: self.condition.to_string(),
                reason: format!("at least `fit` ({})", self.fit),
            });
        }
        Ok(())
    }

    /// The indices of at most `m` of the rows of `x` (outputs `y`), chosen as the settings
    /// say, in increasing order. All of them when there are at most `m`.
    pub fn select(&self, x: &DMatrix<f64>, y: &DVector<f64>, m: usize) -> Vec<usize> {
        let n = x.nrows().min(y.len());
        if n <= m {
            return (0..n).collect();
        }
        let mut chosen = vec![false; n];
        let mut count = 0;
        let mut take = |i: usize, chosen: &mut Vec<bool>| {
            if !chosen[i] {
                chosen[i] = true;
                count += 1;
            }
        };
        let sign = match self.emphasis {
            Emphasis::Uniform => None,
            Emphasis::Largest => Some(-1.0),
            Emphasis::Smallest => Some(1.0),
        };
        if let Some(sign) = sign {
            // The best quarter by output (ties by index).
            let mut order: Vec<usize> = (0..n).collect();
            order.sort_by(|&a, &b| (sign * y[a]).total_cmp(&(sign * y[b])).then(a.cmp(&b)));
            let best = order[0];
            for &i in order.iter().take(m / 4) {
                take(i, &mut chosen);
            }
            // A quarter more: the nearest others to the best, in coordinates scaled to the
            // data's range.
            let d = x.ncols();
            let span: Vec<f64> = (0..d)
                .map(|k| {
                    let col = x.column(k);
                    let r = col.max() - col.min();
                    if r > 0.0 && r.is_finite() {
                        r
                    } else {
                        1.0
                    }
                })
                .collect();
            let dist = |i: usize| -> f64 {
                (0..d)
                    .map(|k| ((x[(i, k)] - x[(best, k)]) / span[k]).powi(2))
                    .sum()
            };
            let mut near: Vec<(f64, usize)> = (0..n)
                .filter(|&i| !chosen[i])
                .map(|i| (dist(i), i))
                .collect();
            let want = (m / 4).min(near.len());
            if want > 0 && want < near.len() {
                near.select_nth_unstable_by(want - 1, |a, b| {
                    a.0.total_cmp(&b.0).then(a.1.cmp(&b.1))
                });
            }
            for &(_, i) in near.iter().take(want) {
                take(i, &mut chosen);
            }
        }
        // The rest: a uniform draw of the others.
        let mut rest: Vec<usize> = (0..n).filter(|&i| !chosen[i]).collect();
        rest.shuffle(&mut ChaCha8Rng::seed_from_u64(self.seed));
        let room = m.saturating_sub(count);
        for &i in rest.iter().take(room) {
            chosen[i] = true;
        }
        (0..n).filter(|&i| chosen[i]).collect()
    }
}

/// What [`GpParams::fit_subset`] returns.
#[derive(Clone, Debug)]
pub struct SubsetFit {
    /// The model conditioned on the conditioning subset, hyperparameters fixed.
    pub model: GaussianProcess,
    /// The model whose hyperparameters were fitted (on the fitting subset); its
    /// [`GaussianProcess::log_params`] warm-start the next fit.
    pub hyperparameter_fit: GaussianProcess,
}

fn rows(x: &DMatrix<f64>, idx: &[usize]) -> DMatrix<f64> {
    DMatrix::from_fn(idx.len(), x.ncols(), |i, k| x[(idx[i], k)])
}

impl GpParams {
    /// A subset-of-data fit ([module docs](crate::subset)): the hyperparameters fitted on at
    /// most `subset.fit` observations, then the model conditioned on at most
    /// `subset.condition` of them with those hyperparameters fixed. With at most `subset.fit`
    /// observations it is [`GpParams::fit`]. The model is an ordinary [`GaussianProcess`]
    /// (of the subset), so it predicts, conditions and saves as any other.
    ///
    /// ```
    /// use nasbo_gp::nalgebra::{DMatrix, DVector};
    /// use nasbo_gp::{Emphasis, GpParams, SubsetOfData};
    /// let x = DMatrix::from_fn(3000, 2, |i, k| ((i * (7 + 6 * k) + 3 * k) % 3000) as f64 / 2999.0);
    /// let y = DVector::from_fn(3000, |i, _| (4.0 * x[(i, 0)]).sin() + x[(i, 1)]);
    /// let subset = SubsetOfData { fit: 200, condition: 400, emphasis: Emphasis::Largest, ..Default::default() };
    /// let gp = GpParams::default().fit_subset(&x, &y, &subset)?.model;
    /// assert_eq!(gp.n(), 400);
    /// let best = gp.predict_point(&[0.39, 1.0])?.0;
    /// assert!((best - ((4.0f64 * 0.39).sin() + 1.0)).abs() < 0.05);
    /// # Ok::<(), nasbo_gp::GpError>(())
    /// ```
    ///
    /// Errors: those of [`GpParams::fit`], and [`GpError::InvalidParameter`] for bad subset
    /// settings.
    pub fn fit_subset(
        &self,
        x: &DMatrix<f64>,
        y: &DVector<f64>,
        subset: &SubsetOfData,
    ) -> Result<SubsetFit, GpError> {
        subset.check()?;
        let n = x.nrows();
        if n <= subset.fit || y.len() != n {
            // Small data, or a shape error that `fit` reports.
            let model = self.fit(x, y)?;
            return Ok(SubsetFit {
                hyperparameter_fit: model.clone(),
                model,
            });
        }
        // Every observation is checked, not only those a subset keeps (rows and columns as
        // in the caller's data).
        crate::params::check_finite_matrix(x, "x")?;
        crate::params::check_finite_vector(y, "y")?;
        let pick = |m: usize| {
            let idx = subset.select(x, y, m);
            (rows(x, &idx), DVector::from_fn(idx.len(), |i, _| y[idx[i]]))
        };
        let (xf, yf) = pick(subset.fit);
        let fitted = self.fit(&xf, &yf)?;
        let (xc, yc) = if n <= subset.condition {
            (x.clone(), y.clone())
        } else {
            pick(subset.condition)
        };
        let model = self
            .clone()
            .tuning(Tuning::Fixed(fitted.hyperparameters()))
            .fit(&xc, &yc)?;
        Ok(SubsetFit {
            model,
            hyperparameter_fit: fitted,
        })
    }
}
