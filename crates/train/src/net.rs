//! Networks built from a configuration: `depth` blocks of `width` units (tabular data) or
//! channels (images), each with a connection pattern.
//!
//! | data | stem | `dense` / `conv` block | `pool` block | `skip` block | head |
//! |---|---|---|---|---|---|
//! | tabular | linear(d → width) + ReLU | linear + ReLU | refused: pooling needs a spatial axis | `x + ReLU(linear(x))` | linear(width → classes) |
//! | image | 3×3 conv(c → width) + ReLU | 3×3 conv + ReLU | 3×3 conv + ReLU, then 2×2 max pooling while height and width are ≥ 2 | `ReLU(x + conv(ReLU(conv(x))))` | global average pool, linear |
//!
//! For tabular data `conv` means `dense`. Dropout (when > 0) follows every block and precedes
//! the head. Weights are initialized from the seed (Kaiming-uniform for layers followed by a
//! ReLU, LeCun-uniform for the head; biases zero), so a seed fixes the network.

use candle_core::{DType, Device, Tensor, Var, D};
use rand::Rng;
use rand_chacha::ChaCha8Rng;
use serde::{Deserialize, Serialize};

use crate::TrainError;

/// How a block is connected.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub enum Connection {
    /// Plain block (3×3 convolution or dense layer) with ReLU.
    Conv,
    /// Convolution followed by 2×2 max pooling (images only).
    Pool,
    /// Residual block.
    Skip,
}

impl Connection {
    /// Parses `conv`, `dense` (= conv), `pool`, `skip`.
    pub fn parse(s: &str) -> Option<Self> {
        match s {
            "conv" | "dense" => Some(Connection::Conv),
            "pool" => Some(Connection::Pool),
            "skip" => Some(Connection::Skip),
            _ => None,
        }
    }
}

/// The architecture.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct ArchConfig {
    /// Number of blocks (1..=64).
    pub depth: usize,
    /// Units or channels per block (1..=4096).
    pub width: usize,
    /// Connection of each block; one entry applies to every block.
    pub connections: Vec<Connection>,
    /// Dropout probability in `[0, 0.9]`.
    pub dropout: f64,
}

impl ArchConfig {
    /// Checks the ranges.
    pub fn check(&self, image: bool) -> Result<(), TrainError> {
        let bad = |name: &'static str, value: String, reason: &str| {
            Err(TrainError::Config {
                name,
                value,
                reason: reason.into(),
            })
        };
        if !(1..=64).contains(&self.depth) {
            return bad("depth", self.depth.to_string(), "between 1 and 64");
        }
        if !(1..=4096).contains(&self.width) {
            return bad("width", self.width.to_string(), "between 1 and 4096");
        }
        if self.connections.len() != 1 && self.connections.len() != self.depth {
            return bad(
                "connections",
                format!("{} entries", self.connections.len()),
                "one for all blocks, or one per block",
            );
        }
        if !image && self.connections.contains(&Connection::Pool) {
            return bad(
                "connection",
                "pool".into(),
                "pooling needs a spatial axis; tabular data take dense or skip blocks",
            );
        }
        if !(0.0..=0.9).contains(&self.dropout) {
            return bad("dropout", self.dropout.to_string(), "in [0, 0.9]");
        }
        Ok(())
    }

    fn connection(&self, block: usize) -> Connection {
        if self.connections.len() == 1 {
            self.connections[0]
        } else {
            self.connections[block]
        }
    }
}

#[derive(Debug)]
enum Layer {
    Dense { w: Var, b: Var },
    Conv { w: Var, b: Var },
}

#[derive(Debug)]
enum Block {
    Dense(Layer),
    DenseSkip(Layer),
    Conv(Layer),
    ConvPool(Layer, bool),
    ConvSkip(Layer, Layer),
}

/// A network with its parameters.
#[derive(Debug)]
pub struct Network {
    stem: Layer,
    blocks: Vec<Block>,
    head: Layer,
    image: Option<(usize, usize, usize)>,
    dropout: f64,
    /// Multiply-adds × 2 per example.
    flops: u64,
    /// Elements of every layer output per example (what autograd keeps).
    activations: u64,
}

/// 2×2 max pooling with stride 2. On the CPU [`crate::cpu::max_pool2x2`]; elsewhere two max
/// reductions over a reshaped view, whose backward gives each window's maximum the whole
/// gradient (candle 0.11's `max_pool2d` backward scales it by 1/4).
fn max_pool(x: &Tensor) -> candle_core::Result<Tensor> {
    if x.device().is_cpu() {
        crate::cpu::max_pool2x2(x)
    } else {
        max_pool_by_reductions(x)
    }
}

/// The device-generic pooling of [`max_pool`]: windows as two axes of a reshaped view, reduced
/// by `max` (whose backward gives the maximum the whole gradient).
fn max_pool_by_reductions(x: &Tensor) -> candle_core::Result<Tensor> {
    let (n, c, h, w) = x.dims4()?;
    let (oh, ow) = (h / 2, w / 2);
    x.narrow(2, 0, 2 * oh)?
        .narrow(3, 0, 2 * ow)?
        .reshape((n, c, oh, 2, ow, 2))?
        .max(5)?
        .max(3)
}

fn uniform(rng: &mut ChaCha8Rng, n: usize, bound: f32) -> Vec<f32> {
    (0..n).map(|_| rng.random_range(-bound..bound)).collect()
}

fn dense(
    rng: &mut ChaCha8Rng,
    inp: usize,
    out: usize,
    relu: bool,
    dev: &Device,
) -> Result<Layer, TrainError> {
    let bound = if relu {
        (6.0 / inp as f32).sqrt()
    } else {
        (3.0 / inp as f32).sqrt()
    };
    let w = Var::from_vec(uniform(rng, inp * out, bound), (out, inp), dev)?;
    let b = Var::zeros(out, DType::F32, dev)?;
    Ok(Layer::Dense { w, b })
}

fn conv(rng: &mut ChaCha8Rng, cin: usize, cout: usize, dev: &Device) -> Result<Layer, TrainError> {
    let fan_in = cin * 9;
    let w = Var::from_vec(
        uniform(rng, cout * fan_in, (6.0 / fan_in as f32).sqrt()),
        (cout, cin, 3, 3),
        dev,
    )?;
    let b = Var::zeros(cout, DType::F32, dev)?;
    Ok(Layer::Conv { w, b })
}

impl Layer {
    /// The layer's output, through a ReLU when `relu`. On the CPU a convolution is
    /// [`crate::cpu::conv3x3`] (bias and ReLU fused); elsewhere candle's `conv2d`.
    fn forward(&self, x: &Tensor, relu: bool) -> candle_core::Result<Tensor> {
        let y = match self {
            Layer::Dense { w, b } => x
                .matmul(&w.as_tensor().t()?)?
                .broadcast_add(b.as_tensor())?,
            Layer::Conv { w, b } if x.device().is_cpu() => {
                return crate::cpu::conv3x3(x, w.as_tensor(), b.as_tensor(), relu)
            }
            Layer::Conv { w, b } => {
                let y = x.conv2d(w.as_tensor(), 1, 1, 1, 1)?;
                y.broadcast_add(&b.as_tensor().reshape((1, (), 1, 1))?)?
            }
        };
        if relu {
            y.relu()
        } else {
            Ok(y)
        }
    }
    fn vars(&self) -> [&Var; 2] {
        match self {
            Layer::Dense { w, b } | Layer::Conv { w, b } => [w, b],
        }
    }
}

impl Network {
    /// Builds the network for inputs of `d` features (or an image of that shape) and `classes`
    /// outputs, with weights drawn from `rng`.
    pub fn new(
        arch: &ArchConfig,
        d: usize,
        image: Option<(usize, usize, usize)>,
        classes: usize,
        rng: &mut ChaCha8Rng,
        dev: &Device,
    ) -> Result<Self, TrainError> {
        arch.check(image.is_some())?;
        let w = arch.width;
        let mut blocks = Vec::with_capacity(arch.depth);
        let (stem, head, flops, activations) = match image {
            None => {
                let stem = dense(rng, d, w, true, dev)?;
                let mut flops = 2 * (d * w) as u64;
                let mut act = w as u64;
                for k in 0..arch.depth {
                    let layer = dense(rng, w, w, true, dev)?;
                    flops += 2 * (w * w) as u64;
                    act += w as u64;
                    blocks.push(match arch.connection(k) {
                        Connection::Skip => {
                            act += w as u64;
                            Block::DenseSkip(layer)
                        }
                        _ => Block::Dense(layer),
                    });
                }
                let head = dense(rng, w, classes, false, dev)?;
                flops += 2 * (w * classes) as u64;
                act += classes as u64;
                (stem, head, flops, act)
            }
            Some((c, mut h, mut wd)) => {
                let stem = conv(rng, c, w, dev)?;
                let mut flops = 2 * (c * w * 9 * h * wd) as u64;
                let mut act = (w * h * wd) as u64;
                for k in 0..arch.depth {
                    let hw = (h * wd) as u64;
                    blocks.push(match arch.connection(k) {
                        Connection::Conv => {
                            flops += 2 * (w * w * 9) as u64 * hw;
                            act += w as u64 * hw;
                            Block::Conv(conv(rng, w, w, dev)?)
                        }
                        Connection::Pool => {
                            flops += 2 * (w * w * 9) as u64 * hw;
                            act += w as u64 * hw;
                            let pool = h >= 2 && wd >= 2;
                            if pool {
                                h /= 2;
                                wd /= 2;
                                act += (w * h * wd) as u64;
                            }
                            Block::ConvPool(conv(rng, w, w, dev)?, pool)
                        }
                        Connection::Skip => {
                            flops += 4 * (w * w * 9) as u64 * hw;
                            act += 3 * w as u64 * hw;
                            Block::ConvSkip(conv(rng, w, w, dev)?, conv(rng, w, w, dev)?)
                        }
                    });
                }
                let head = dense(rng, w, classes, false, dev)?;
                flops += 2 * (w * classes) as u64 + (w * h * wd) as u64;
                act += (w + classes) as u64;
                (stem, head, flops, act)
            }
        };
        Ok(Network {
            stem,
            blocks,
            head,
            image,
            dropout: arch.dropout,
            flops,
            activations,
        })
    }

    /// Every trainable variable.
    pub fn vars(&self) -> Vec<Var> {
        let mut v: Vec<Var> = self.stem.vars().into_iter().cloned().collect();
        for b in &self.blocks {
            match b {
                Block::Dense(l) | Block::DenseSkip(l) | Block::Conv(l) | Block::ConvPool(l, _) => {
                    v.extend(l.vars().into_iter().cloned())
                }
                Block::ConvSkip(a, c) => {
                    v.extend(a.vars().into_iter().cloned());
                    v.extend(c.vars().into_iter().cloned());
                }
            }
        }
        v.extend(self.head.vars().into_iter().cloned());
        v
    }

    /// Every trainable variable with its name: `stem.weight`, `stem.bias`,
    /// `blocks.K.weight` / `blocks.K.bias` (a residual block: `blocks.K.a.*`, `blocks.K.b.*`),
    /// `head.weight`, `head.bias`, in the order of [`Network::vars`]. Convolution weights are
    /// `(out, in, 3, 3)`, dense ones `(out, in)`.
    pub fn named_vars(&self) -> Vec<(String, Var)> {
        let mut v = Vec::new();
        let mut push = |prefix: String, l: &Layer| {
            let [w, b] = l.vars();
            v.push((format!("{prefix}.weight"), w.clone()));
            v.push((format!("{prefix}.bias"), b.clone()));
        };
        push("stem".into(), &self.stem);
        for (k, b) in self.blocks.iter().enumerate() {
            match b {
                Block::Dense(l) | Block::DenseSkip(l) | Block::Conv(l) | Block::ConvPool(l, _) => {
                    push(format!("blocks.{k}"), l)
                }
                Block::ConvSkip(a, c) => {
                    push(format!("blocks.{k}.a"), a);
                    push(format!("blocks.{k}.b"), c);
                }
            }
        }
        push("head".into(), &self.head);
        v
    }

    /// Number of parameters.
    pub fn parameter_count(&self) -> usize {
        self.vars().iter().map(|v| v.elem_count()).sum()
    }

    /// Floating-point operations of one forward pass per example (2 per multiply-add).
    pub fn flops_per_example(&self) -> u64 {
        self.flops
    }

    /// Elements of the layer outputs of one example's forward pass.
    pub fn activations_per_example(&self) -> u64 {
        self.activations
    }

    fn drop(&self, x: Tensor, rng: Option<&mut ChaCha8Rng>) -> candle_core::Result<Tensor> {
        match rng {
            Some(rng) if self.dropout > 0.0 => {
                let keep = 1.0 - self.dropout;
                let mask: Vec<f32> = (0..x.elem_count())
                    .map(|_| {
                        if rng.random::<f64>() < keep {
                            (1.0 / keep) as f32
                        } else {
                            0.0
                        }
                    })
                    .collect();
                let m = Tensor::from_vec(mask, x.shape(), x.device())?;
                x.mul(&m)
            }
            _ => Ok(x),
        }
    }

    /// Logits for a batch `x` (`n × d`). Dropout is applied when `rng` is given (training).
    pub fn forward(
        &self,
        x: &Tensor,
        mut rng: Option<&mut ChaCha8Rng>,
    ) -> candle_core::Result<Tensor> {
        let mut h = match self.image {
            Some((c, hh, ww)) => x.reshape(((), c, hh, ww))?,
            None => x.clone(),
        };
        h = self.stem.forward(&h, true)?;
        for b in &self.blocks {
            h = match b {
                Block::Dense(l) | Block::Conv(l) => l.forward(&h, true)?,
                Block::DenseSkip(l) => (&h + l.forward(&h, true)?)?,
                Block::ConvPool(l, pool) => {
                    let y = l.forward(&h, true)?;
                    if *pool {
                        max_pool(&y)?
                    } else {
                        y
                    }
                }
                Block::ConvSkip(a, c) => {
                    let y = c.forward(&a.forward(&h, true)?, false)?;
                    (&h + y)?.relu()?
                }
            };
            h = self.drop(h, rng.as_deref_mut())?;
        }
        if self.image.is_some() {
            h = h.mean(D::Minus1)?.mean(D::Minus1)?;
        }
        self.head.forward(&h, false)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The pooling used off the CPU (not run on a GPU here) equals the CPU kernel, value and
    /// gradient, computed on the CPU.
    #[test]
    fn pooling_by_reductions_matches_the_cpu_kernel() {
        let dev = Device::Cpu;
        let data: Vec<f32> = (0..2 * 3 * 5 * 6)
            .map(|i| ((i as f32 + 1.0) * 12.9898).sin())
            .collect();
        let x = Var::from_vec(data, (2, 3, 5, 6), &dev).unwrap();
        let a = max_pool_by_reductions(&x).unwrap();
        let b = crate::cpu::max_pool2x2(&x).unwrap();
        assert_eq!(a.dims(), b.dims());
        let flat = |t: &Tensor| t.flatten_all().unwrap().to_vec1::<f32>().unwrap();
        assert_eq!(flat(&a), flat(&b));
        let w = Tensor::arange(0f32, a.elem_count() as f32, &dev)
            .unwrap()
            .reshape(a.dims())
            .unwrap();
        let ga = (a * &w).unwrap().sum_all().unwrap().backward().unwrap();
        let gb = (b * &w).unwrap().sum_all().unwrap().backward().unwrap();
        assert_eq!(
            flat(ga.get(x.as_tensor()).unwrap()),
            flat(gb.get(x.as_tensor()).unwrap())
        );
    }
}
