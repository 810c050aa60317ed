//! Optimizers (candle-nn's AdamW; SGD with momentum) and the learning-rate schedule; candle-nn
//! has no momentum SGD and no schedule.

use candle_core::{backprop::GradStore, Tensor, Var};
use candle_nn::Optimizer as _;
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

/// An optimizer's state over a set of variables: candle-nn's AdamW, or SGD with momentum
/// (which candle-nn does not have).
pub enum Optimizer {
    /// candle-nn's AdamW (β = 0.9, 0.999; ε = 1e-8; decoupled weight decay).
    AdamW(candle_nn::AdamW),
    /// SGD with heavy-ball momentum and L2 weight decay.
    Sgd {
        /// Momentum.
        momentum: f64,
        /// The variables.
        vars: Vec<Var>,
        /// L2 weight decay.
        weight_decay: f64,
        /// The momentum buffers.
        buffers: Vec<Tensor>,
    },
}

impl Optimizer {
    /// A new optimizer over `vars`.
    pub fn new(
        kind: OptimizerKind,
        vars: Vec<Var>,
        weight_decay: f64,
    ) -> candle_core::Result<Self> {
        Ok(match kind {
            OptimizerKind::AdamW => Optimizer::AdamW(candle_nn::AdamW::new(
                vars,
                candle_nn::ParamsAdamW {
                    lr: 1e-3,
                    beta1: 0.9,
                    beta2: 0.999,
                    eps: 1e-8,
                    weight_decay,
                },
            )?),
            OptimizerKind::Sgd { momentum } => {
                let buffers = vars
                    .iter()
                    .map(|v| v.as_tensor().zeros_like())
                    .collect::<candle_core::Result<_>>()?;
                Optimizer::Sgd {
                    momentum,
                    vars,
                    weight_decay,
                    buffers,
                }
            }
        })
    }

    /// Number of state tensors per parameter (for memory accounting).
    pub fn state_per_param(&self) -> usize {
        match self {
            Optimizer::AdamW(_) => 2,
            Optimizer::Sgd { .. } => 1,
        }
    }

    /// One update with learning rate `lr`.
    pub fn step(&mut self, grads: &GradStore, lr: f64) -> candle_core::Result<()> {
        match self {
            Optimizer::AdamW(opt) => {
                opt.set_learning_rate(lr);
                opt.step(grads)
            }
            Optimizer::Sgd {
                momentum,
                vars,
                weight_decay,
                buffers,
            } => {
                for (var, buf) in vars.iter().zip(buffers.iter_mut()) {
                    let Some(g) = grads.get(var.as_tensor()) else {
                        continue;
                    };
                    let w = var.as_tensor();
                    let g = (g + (w * *weight_decay)?)?;
                    let next = ((&*buf * *momentum)? + g)?;
                    var.set(&(w - (&next * lr)?)?)?;
                    *buf = next;
                }
                Ok(())
            }
        }
    }
}
