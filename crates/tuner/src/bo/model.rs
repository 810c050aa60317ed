//! [`ImputedModel`]: BO's GP as the acquisition functions see it: inactive coordinates
//! imputed, and the quadratic prior mean ([`Bowl`]) added back to the GP of the residuals.

use std::borrow::Cow;
use std::sync::Arc;

use nalgebra::{DMatrix, DVector};
use nasbo_acq::{AcqError, Moments, Surrogate};
use nasbo_gp::GaussianProcess;
use rand::RngCore;

use super::encode::Encoder;

/// A GP seen through the encoder: inactive coordinates are imputed before every prediction,
/// so the model never sees the value of an inactive parameter.
#[derive(Clone)]
pub struct ImputedModel<'a> {
    pub(crate) gp: Cow<'a, GaussianProcess>,
    pub(crate) encoder: Arc<Encoder>,
    pub(crate) conditional: bool,
    /// The prior mean; the GP models the residual.
    pub(crate) bowl: Bowl,
}

/// A quadratic prior mean `m(x) = −c · Σ_k w_k (x_k − ½)²`, highest at the centre of the box
/// (`w_k` is 1 on unconditional numeric coordinates, 0 on the others).
///
/// Far from the data a GP falls back to its prior mean while its variance grows, so with a
/// constant prior mean every acquisition function prefers the faces and corners of the box,
/// the points farthest from everything observed; on a problem where a parameter matters little,
/// most proposals end up on its bounds. A prior mean that is lower toward the faces (Snoek et
/// al., 2015, used a quadratic one for this) keeps that preference in check: the data
/// override it where they show the optimum near a bound.
#[derive(Clone, Debug, Default)]
pub(crate) struct Bowl {
    pub(crate) c: f64,
    pub(crate) weights: Vec<f64>,
}

impl Bowl {
    /// The bowl for `encoder` of depth `depth` standard deviations of `ys` per coordinate
    /// (from the centre to a face).
    pub(crate) fn new(encoder: &Encoder, depth: f64, ys: &[f64]) -> Self {
        let n = ys.len().max(1) as f64;
        let mean = ys.iter().sum::<f64>() / n;
        let sd = (ys.iter().map(|v| (v - mean) * (v - mean)).sum::<f64>() / n).sqrt();
        // (x − ½)² is ¼ on a face: c = 4 · depth · sd puts a face `depth` sd below the centre.
        let c = if sd.is_finite() && sd > 0.0 {
            4.0 * depth * sd
        } else {
            0.0
        };
        Bowl {
            c,
            weights: encoder
                .unconditional_numeric()
                .into_iter()
                .map(|b| if b { 1.0 } else { 0.0 })
                .collect(),
        }
    }
    pub(crate) fn value(&self, x: &[f64]) -> f64 {
        self.value_of(x)
    }
    fn value_of<'x>(&self, x: impl IntoIterator<Item = &'x f64>) -> f64 {
        if self.c == 0.0 {
            return 0.0;
        }
        -self.c
            * self
                .weights
                .iter()
                .zip(x)
                .map(|(w, v)| w * (v - 0.5) * (v - 0.5))
                .sum::<f64>()
    }
    /// The value at each row of `xs`.
    pub(crate) fn row_values(&self, xs: &DMatrix<f64>) -> Vec<f64> {
        (0..xs.nrows())
            .map(|i| self.value_of(xs.row(i).iter()))
            .collect()
    }
    fn grad(&self, x: &[f64], k: usize) -> f64 {
        -self.c * self.weights[k] * 2.0 * (x[k] - 0.5)
    }
}

impl ImputedModel<'_> {
    fn point<'x>(&self, x: &'x [f64]) -> Cow<'x, [f64]> {
        if self.conditional {
            let mut v = x.to_vec();
            self.encoder.impute(&mut v);
            Cow::Owned(v)
        } else {
            Cow::Borrowed(x)
        }
    }
    fn rows(&self, xs: &DMatrix<f64>) -> DMatrix<f64> {
        let mut out = xs.clone();
        if self.conditional {
            for i in 0..xs.nrows() {
                let mut v: Vec<f64> = xs.row(i).iter().copied().collect();
                self.encoder.impute(&mut v);
                for (k, x) in v.into_iter().enumerate() {
                    out[(i, k)] = x;
                }
            }
        }
        out
    }
}

impl Surrogate for ImputedModel<'_> {
    fn dim(&self) -> usize {
        self.gp.dim()
    }
    fn mean_var(&self, x: &[f64]) -> Result<(f64, f64), AcqError> {
        let p = self.point(x);
        let (m, v) = self.gp.as_ref().mean_var(&p)?;
        Ok((m + self.bowl.value(&p), v))
    }
    fn moments(&self, x: &[f64]) -> Result<Moments, AcqError> {
        let p = self.point(x);
        let mut m = self.gp.as_ref().moments(&p)?;
        m.mean += self.bowl.value(&p);
        for k in 0..x.len() {
            m.dmean[k] += self.bowl.grad(&p, k);
        }
        if self.conditional {
            // Coordinates that imputation changed do not move the prediction.
            for k in 0..x.len() {
                if p[k] != x[k] {
                    m.dmean[k] = 0.0;
                    m.dvar[k] = 0.0;
                }
            }
        }
        Ok(m)
    }
    fn mean_var_batch(&self, xs: &DMatrix<f64>) -> Result<(Vec<f64>, Vec<f64>), AcqError> {
        let rows = self.rows(xs);
        let (mut m, v) = self.gp.as_ref().mean_var_batch(&rows)?;
        for (mi, b) in m.iter_mut().zip(self.bowl.row_values(&rows)) {
            *mi += b;
        }
        Ok((m, v))
    }
    fn joint_samples(
        &self,
        xs: &DMatrix<f64>,
        n_samples: usize,
        rng: &mut dyn RngCore,
    ) -> Result<DMatrix<f64>, AcqError> {
        let rows = self.rows(xs);
        let mut s = self.gp.as_ref().joint_samples(&rows, n_samples, rng)?;
        // One draw per row, one point per column.
        for (mut col, b) in s.column_iter_mut().zip(self.bowl.row_values(&rows)) {
            col.add_scalar_mut(b);
        }
        Ok(s)
    }
    fn observed_inputs(&self) -> DMatrix<f64> {
        self.gp.train_inputs()
    }
    fn observed_outputs(&self) -> DVector<f64> {
        let bowl = self.bowl.row_values(&self.gp.train_inputs());
        self.gp.train_outputs() + DVector::from_vec(bowl)
    }
    fn condition(&self, x: &DMatrix<f64>, y: &DVector<f64>) -> Result<Self, AcqError> {
        let rows = self.rows(x);
        let r = y - DVector::from_vec(self.bowl.row_values(&rows));
        Ok(ImputedModel {
            gp: Cow::Owned(self.gp.as_ref().condition(&rows, &r)?),
            encoder: self.encoder.clone(),
            conditional: self.conditional,
            bowl: self.bowl.clone(),
        })
    }
}
