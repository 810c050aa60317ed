//! 2×2 max pooling with stride 2 (odd rows and columns dropped, as candle's `max_pool2d(2)`),
//! forward and backward; the gradient goes to the first maximum of each window.

use super::{contiguous_f32, parallel, ranges, threads};
use candle_core::{CpuStorage, CustomOp1, Layout, Result, Shape, Storage, Tensor};

/// `max_pool2d(x, 2)` for `x` of shape `(N, C, H, W)`, f32 on the CPU, differentiable.
pub fn max_pool2x2(x: &Tensor) -> Result<Tensor> {
    x.contiguous()?.apply_op1(MaxPool2x2)
}

struct MaxPool2x2;

/// The flat index in a `h × w` plane of the first maximum of output cell `(i, j)`'s window.
fn argmax(plane: &[f32], w: usize, i: usize, j: usize) -> usize {
    let base = 2 * i * w + 2 * j;
    let mut best = base;
    for k in [base + 1, base + w, base + w + 1] {
        if plane[k] > plane[best] {
            best = k;
        }
    }
    best
}

impl CustomOp1 for MaxPool2x2 {
    fn name(&self) -> &'static str {
        "max_pool2x2"
    }

    fn cpu_fwd(&self, s: &CpuStorage, l: &Layout) -> Result<(CpuStorage, Shape)> {
        let (n, c, h, w) = l.shape().dims4()?;
        let x = contiguous_f32("max_pool2x2", s, l)?;
        let (oh, ow) = (h / 2, w / 2);
        let mut out = vec![0f32; n * c * oh * ow];
        if oh * ow > 0 {
            let planes = n * c;
            let rs = ranges(planes, threads());
            let mut parts = Vec::with_capacity(rs.len());
            let mut rest = out.as_mut_slice();
            for r in rs {
                let (a, b) = rest.split_at_mut(r.len() * oh * ow);
                parts.push((r, a));
                rest = b;
            }
            parallel(parts, |(r, o)| {
                for (p, o) in r.zip(o.chunks_mut(oh * ow)) {
                    let plane = &x[p * h * w..(p + 1) * h * w];
                    for i in 0..oh {
                        for j in 0..ow {
                            o[i * ow + j] = plane[argmax(plane, w, i, j)];
                        }
                    }
                }
            });
        }
        Ok((CpuStorage::F32(out), Shape::from((n, c, oh, ow))))
    }

    fn bwd(&self, arg: &Tensor, _res: &Tensor, grad: &Tensor) -> Result<Option<Tensor>> {
        let grad = grad.contiguous()?;
        let (n, c, h, w) = arg.dims4()?;
        let (oh, ow) = (h / 2, w / 2);
        let (xs, xl) = arg.storage_and_layout();
        let (gs, gl) = grad.storage_and_layout();
        let (Storage::Cpu(xs), Storage::Cpu(gs)) = (&*xs, &*gs) else {
            candle_core::bail!("max_pool2x2 backward: tensors not on the CPU")
        };
        let x = contiguous_f32("max_pool2x2 backward", xs, xl)?;
        let g = contiguous_f32("max_pool2x2 backward", gs, gl)?;
        let mut dx = vec![0f32; n * c * h * w];
        if oh * ow > 0 {
            let rs = ranges(n * c, threads());
            let mut parts = Vec::with_capacity(rs.len());
            let mut rest = dx.as_mut_slice();
            for r in rs {
                let (a, b) = rest.split_at_mut(r.len() * h * w);
                parts.push((r, a));
                rest = b;
            }
            parallel(parts, |(r, d)| {
                for (p, d) in r.zip(d.chunks_mut(h * w)) {
                    let plane = &x[p * h * w..(p + 1) * h * w];
                    let gp = &g[p * oh * ow..(p + 1) * oh * ow];
                    for i in 0..oh {
                        for j in 0..ow {
                            d[argmax(plane, w, i, j)] += gp[i * ow + j];
                        }
                    }
                }
            });
        }
        Ok(Some(Tensor::from_vec(dx, (n, c, h, w), arg.device())?))
    }
}
