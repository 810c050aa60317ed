//! Optimizers (AdamW, SGD with momentum) and the learning-rate schedule; candle-nn has no
//! momentum SGD and no schedule.

use candle_core::{backprop::GradStore, Tensor, Var};
use serde::{Deserialize, Serialize};

/// Which optimizer.
#[derive(Clone, Copy, Debug, PartialEq, Serialize, Deserialize)]
pub enum OptimizerKind {
    /// AdamW (β = 0.9, 0.999; ε = 1e-8; decoupled weight decay).
    AdamW,
    /// SGD with (heavy-ball) momentum and L2 weight decay.
    Sgd {
        /// Momentum in `[0, 1)`.
        momentum: f64,
    },
}

/// Learning-rate schedule over the training steps.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub enum Schedule {
    /// Constant.
    Constant,
    /// Cosine decay from the base rate to 0 over all steps (Loshchilov & Hutter 2017).
    Cosine,
}

impl Schedule {
    /// The rate at `step` of `total`.
    pub fn rate(self, base: f64, step: usize, total: usize) -> f64 {
        match self {
            Schedule::Constant => base,
            Schedule::Cosine => {
                let t = step as f64 / total.max(1) as f64;
                base * 0.5 * (1.0 + (std::f64::consts::PI * t).cos())
            }
        }
    }
}

/// An optimizer's state over a set of variables.
pub struct Optimizer {
    kind: OptimizerKind,
    vars: Vec<Var>,
    weight_decay: f64,
    first: Vec<Tensor>,
    second: Vec<Tensor>,
    step: i32,
}

impl Optimizer {
    /// A new optimizer over `vars`.
    pub fn new(
        kind: OptimizerKind,
        vars: Vec<Var>,
        weight_decay: f64,
    ) -> candle_core::Result<Self> {
        let zeros = |v: &Var| v.as_tensor().zeros_like();
        let first = vars.iter().map(zeros).collect::<candle_core::Result<_>>()?;
        let second = match kind {
            OptimizerKind::AdamW => vars.iter().map(zeros).collect::<candle_core::Result<_>>()?,
            OptimizerKind::Sgd { .. } => Vec::new(),
        };
        Ok(Optimizer {
            kind,
            vars,
            weight_decay,
            first,
            second,
            step: 0,
        })
    }

    /// Number of state tensors per parameter (for memory accounting).
    pub fn state_per_param(&self) -> usize {
        match self.kind {
            OptimizerKind::AdamW => 2,
            OptimizerKind::Sgd { .. } => 1,
        }
    }

    /// One update with learning rate `lr`.
    pub fn step(&mut self, grads: &GradStore, lr: f64) -> candle_core::Result<()> {
        self.step += 1;
        for (i, var) in self.vars.iter().enumerate() {
            let Some(g) = grads.get(var.as_tensor()) else {
                continue;
            };
            let w = var.as_tensor();
            match self.kind {
                OptimizerKind::AdamW => {
                    let (b1, b2, eps) = (0.9f64, 0.999f64, 1e-8);
                    let m = ((&self.first[i] * b1)? + (g * (1.0 - b1))?)?;
                    let v = ((&self.second[i] * b2)? + (g.sqr()? * (1.0 - b2))?)?;
                    let mhat = (&m / (1.0 - b1.powi(self.step)))?;
                    let vhat = (&v / (1.0 - b2.powi(self.step)))?;
                    let update = (mhat / (vhat.sqrt()? + eps)?)?;
                    let decayed = (w * (1.0 - lr * self.weight_decay))?;
                    var.set(&(decayed - (update * lr)?)?)?;
                    self.first[i] = m;
                    self.second[i] = v;
                }
                OptimizerKind::Sgd { momentum } => {
                    let g = (g + (w * self.weight_decay)?)?;
                    let buf = ((&self.first[i] * momentum)? + g)?;
                    var.set(&(w - (&buf * lr)?)?)?;
                    self.first[i] = buf;
                }
            }
        }
        Ok(())
    }
}
