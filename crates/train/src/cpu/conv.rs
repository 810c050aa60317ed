//! The 3×3 convolution with stride 1 and padding 1 (the only one nasbo's networks use), its bias
//! and an optional ReLU fused, forward and backward.
//!
//! Per example, `im2col` lays the input out as a `(9·Cin) × (H·W)` matrix whose row
//! `(ci, ky, kx)` is channel `ci` shifted by `(ky − 1, kx − 1)` with zeros outside, so the
//! output is one product `W (Cout × 9·Cin) · cols`. Backward, with `g` the output gradient
//! (masked by the ReLU): `dW = Σ g · colsᵀ`, `db = Σ g`, and `dX` is the same convolution of
//! `g` with the weights flipped in space and with their channel axes swapped.

use candle_core::{CpuStorage, CustomOp3, Layout, Result, Shape, Storage, Tensor};

use super::gemm::{matmul, View};
use super::{contiguous_f32, parallel, ranges, threads};

/// `relu(conv2d(x, w, stride 1, padding 1) + b)` (without the ReLU when `relu` is false), for
/// `x` of shape `(N, Cin, H, W)`, `w` of `(Cout, Cin, 3, 3)` and `b` of `(Cout)`, all f32 on the
/// CPU, differentiable in all three.
pub fn conv3x3(x: &Tensor, w: &Tensor, b: &Tensor, relu: bool) -> Result<Tensor> {
    let (x, w, b) = (x.contiguous()?, w.contiguous()?, b.contiguous()?);
    x.apply_op3(&w, &b, Conv3x3 { relu })
}

struct Conv3x3 {
    relu: bool,
}

/// `(n, cin, h, w, cout)` after checking the three shapes.
fn dims(x: &Layout, w: &Layout, b: &Layout) -> Result<(usize, usize, usize, usize, usize)> {
    let (n, cin, h, wd) = x.shape().dims4()?;
    let (cout, wcin, kh, kw) = w.shape().dims4()?;
    let bn = b.shape().dims1()?;
    if wcin != cin || kh != 3 || kw != 3 || bn != cout {
        candle_core::bail!(
            "conv3x3: input {:?}, weights {:?} and bias {:?} do not fit (weights must be \
             (Cout, Cin, 3, 3), bias (Cout))",
            x.shape(),
            w.shape(),
            b.shape()
        )
    }
    Ok((n, cin, h, wd, cout))
}

/// Fills `cols` (`9·c × h·w`) from one example `x` (`c × h × w`).
fn im2col(x: &[f32], c: usize, h: usize, w: usize, cols: &mut [f32]) {
    let hw = h * w;
    for ci in 0..c {
        let plane = &x[ci * hw..(ci + 1) * hw];
        for ky in 0..3 {
            for kx in 0..3 {
                let row = &mut cols[(ci * 9 + ky * 3 + kx) * hw..][..hw];
                for y in 0..h {
                    let dst = &mut row[y * w..(y + 1) * w];
                    let sy = y + ky;
                    if sy == 0 || sy > h {
                        dst.fill(0.0);
                        continue;
                    }
                    let src = &plane[(sy - 1) * w..sy * w];
                    match kx {
                        0 => {
                            dst[0] = 0.0;
                            dst[1..].copy_from_slice(&src[..w - 1]);
                        }
                        1 => dst.copy_from_slice(src),
                        _ => {
                            dst[..w - 1].copy_from_slice(&src[1..]);
                            dst[w - 1] = 0.0;
                        }
                    }
                }
            }
        }
    }
}

fn cpu<'a>(t: &'a Storage, what: &'static str) -> Result<&'a CpuStorage> {
    match t {
        Storage::Cpu(s) => Ok(s),
        _ => candle_core::bail!("conv3x3 backward: the {what} is not on the CPU"),
    }
}

impl CustomOp3 for Conv3x3 {
    fn name(&self) -> &'static str {
        "conv3x3"
    }

    fn cpu_fwd(
        &self,
        s1: &CpuStorage,
        l1: &Layout,
        s2: &CpuStorage,
        l2: &Layout,
        s3: &CpuStorage,
        l3: &Layout,
    ) -> Result<(CpuStorage, Shape)> {
        let (n, cin, h, wd, cout) = dims(l1, l2, l3)?;
        let x = contiguous_f32("conv3x3", s1, l1)?;
        let w = contiguous_f32("conv3x3", s2, l2)?;
        let b = contiguous_f32("conv3x3", s3, l3)?;
        let hw = h * wd;
        let per = cout * hw;
        let mut out = vec![0f32; n * per];
        if per > 0 && n > 0 {
            let chunk = n.div_ceil(threads());
            let parts: Vec<(usize, &mut [f32])> = out.chunks_mut(chunk * per).enumerate().collect();
            parallel(parts, |(c, out)| {
                let mut cols = vec![0f32; 9 * cin * hw];
                for (j, o) in out.chunks_mut(per).enumerate() {
                    let e = c * chunk + j;
                    im2col(&x[e * cin * hw..(e + 1) * cin * hw], cin, h, wd, &mut cols);
                    matmul(
                        o,
                        View::new(w, cout, 9 * cin),
                        View::new(&cols, 9 * cin, hw),
                        false,
                    );
                    for (row, &bias) in o.chunks_mut(hw).zip(b) {
                        if self.relu {
                            row.iter_mut().for_each(|v| *v = (*v + bias).max(0.0));
                        } else {
                            row.iter_mut().for_each(|v| *v += bias);
                        }
                    }
                }
            });
        }
        Ok((CpuStorage::F32(out), Shape::from((n, cout, h, wd))))
    }

    fn bwd(
        &self,
        x: &Tensor,
        w: &Tensor,
        b: &Tensor,
        res: &Tensor,
        grad: &Tensor,
    ) -> Result<(Option<Tensor>, Option<Tensor>, Option<Tensor>)> {
        let grad = grad.contiguous()?;
        let need_dx = x.track_op();
        let (n, cin, h, wd, cout) = dims(x.layout(), w.layout(), b.layout())?;
        let (xs, xl) = x.storage_and_layout();
        let (ws, wl) = w.storage_and_layout();
        let (rs, rl) = res.storage_and_layout();
        let (gs, gl) = grad.storage_and_layout();
        let xd = contiguous_f32("conv3x3 backward", cpu(&xs, "input")?, xl)?;
        let wdat = contiguous_f32("conv3x3 backward", cpu(&ws, "weights")?, wl)?;
        let rd = contiguous_f32("conv3x3 backward", cpu(&rs, "output")?, rl)?;
        let gd = contiguous_f32("conv3x3 backward", cpu(&gs, "gradient")?, gl)?;
        let hw = h * wd;
        // Flipped in space, channel axes swapped: (Cin, Cout, 3, 3) as Cin × 9·Cout.
        let mut wflip = vec![0f32; cin * 9 * cout];
        for co in 0..cout {
            for ci in 0..cin {
                for k in 0..9 {
                    wflip[ci * 9 * cout + co * 9 + (8 - k)] = wdat[(co * cin + ci) * 9 + k];
                }
            }
        }
        let relu = self.relu;
        let rs = ranges(n, threads());
        let mut dws = vec![vec![0f32; cout * 9 * cin]; rs.len()];
        let mut dbs = vec![vec![0f32; cout]; rs.len()];
        let mut dx = vec![0f32; if need_dx { n * cin * hw } else { 0 }];
        let mut dx_parts: Vec<&mut [f32]> = Vec::with_capacity(rs.len());
        let mut rest = dx.as_mut_slice();
        for r in &rs {
            let (a, b) = rest.split_at_mut(if need_dx { r.len() * cin * hw } else { 0 });
            dx_parts.push(a);
            rest = b;
        }
        let parts: Vec<_> = rs
            .into_iter()
            .zip(dws.iter_mut())
            .zip(dbs.iter_mut())
            .zip(dx_parts)
            .collect();
        parallel(parts, |(((r, dw), db), dx)| {
            let mut cols = vec![0f32; 9 * cin.max(cout) * hw];
            let mut g = vec![0f32; cout * hw];
            for (j, e) in r.enumerate() {
                let ge = &gd[e * cout * hw..(e + 1) * cout * hw];
                if relu {
                    let re = &rd[e * cout * hw..(e + 1) * cout * hw];
                    for ((d, &gv), &rv) in g.iter_mut().zip(ge).zip(re) {
                        *d = if rv > 0.0 { gv } else { 0.0 };
                    }
                } else {
                    g.copy_from_slice(ge);
                }
                for (acc, row) in db.iter_mut().zip(g.chunks(hw)) {
                    *acc += row.iter().sum::<f32>();
                }
                let cx = &mut cols[..9 * cin * hw];
                im2col(&xd[e * cin * hw..(e + 1) * cin * hw], cin, h, wd, cx);
                matmul(
                    dw,
                    View::new(&g, cout, hw),
                    View::new(cx, 9 * cin, hw).t(),
                    true,
                );
                if need_dx {
                    let cg = &mut cols[..9 * cout * hw];
                    im2col(&g, cout, h, wd, cg);
                    matmul(
                        &mut dx[j * cin * hw..(j + 1) * cin * hw],
                        View::new(&wflip, cin, 9 * cout),
                        View::new(cg, 9 * cout, hw),
                        false,
                    );
                }
            }
        });
        let mut dw = dws.pop().unwrap_or_else(|| vec![0f32; cout * 9 * cin]);
        for p in &dws {
            dw.iter_mut().zip(p).for_each(|(a, v)| *a += v);
        }
        let mut db = dbs.pop().unwrap_or_else(|| vec![0f32; cout]);
        for p in &dbs {
            db.iter_mut().zip(p).for_each(|(a, v)| *a += v);
        }
        let dev = x.device();
        let dx = if need_dx {
            Some(Tensor::from_vec(dx, (n, cin, h, wd), dev)?)
        } else {
            None
        };
        Ok((
            dx,
            Some(Tensor::from_vec(dw, (cout, cin, 3, 3), dev)?),
            Some(Tensor::from_vec(db, cout, dev)?),
        ))
    }
}
