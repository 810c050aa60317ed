//! CPU kernels for the layers where candle's CPU backend is slow: the 3×3 convolution (with
//! its bias and ReLU fused) and 2×2 max pooling, forward and backward, as candle custom ops.
//!
//! Candle's own `conv2d` on the CPU copies through strided views and allocates per step, and
//! its `max_pool2d` backward goes through an upsampling and a comparison; here a convolution is
//! an im2col per example followed by one matrix product on the `gemm` crate (the one candle's
//! own matrix products use), with the examples of a batch split over rayon's threads, each
//! with its own column buffer. Autograd, the optimizers and every other operation stay
//! candle's, and on a CUDA device the network uses candle's operations throughout.
//!
//! The gradients are checked against candle's `conv2d` and `max_pool2d` (and so against their
//! autograd) in this module's tests.

mod conv;
mod gemm;
mod pool;

pub use conv::conv3x3;
pub use pool::max_pool2x2;

use candle_core::{backend::BackendStorage, CpuStorage, Layout};

/// Fixes the number of CPU threads for the process: when `RAYON_NUM_THREADS` is unset, sets it
/// to the count candle would pick (its physical cores), and returns the count. Without it candle
/// 0.11 works the count out again, reading `/proc/cpuinfo`, for every matrix product; the MNIST
/// MLP of docs/benchmarks.md §5 trains about 30 % faster with it set. Call it first thing in
/// `main`, before any other thread exists (it writes the environment).
pub fn fix_thread_count() -> usize {
    let n = candle_core::utils::get_num_threads();
    if std::env::var_os("RAYON_NUM_THREADS").is_none() {
        std::env::set_var("RAYON_NUM_THREADS", n.to_string());
    }
    n
}

/// The f32 data of a contiguous CPU tensor, or a candle error naming `op`.
fn contiguous_f32<'a>(
    op: &'static str,
    s: &'a CpuStorage,
    l: &Layout,
) -> candle_core::Result<&'a [f32]> {
    let CpuStorage::F32(data) = s else {
        candle_core::bail!("{op}: f32 tensors only, got {:?}", s.dtype())
    };
    match l.contiguous_offsets() {
        Some((a, b)) => Ok(&data[a..b]),
        None => candle_core::bail!("{op}: the input must be contiguous"),
    }
}

/// Splits `0..n` into at most `parts` contiguous ranges of nearly equal length.
fn ranges(n: usize, parts: usize) -> Vec<std::ops::Range<usize>> {
    let parts = parts.clamp(1, n.max(1));
    (0..parts)
        .map(|i| (i * n / parts)..((i + 1) * n / parts))
        .filter(|r| !r.is_empty())
        .collect()
}

/// The number of threads the kernels split a batch over: candle's barrier pool and the
/// calling thread.
fn threads() -> usize {
    candle_core::utils::barrier_pool().n_workers() + 1
}

/// Runs `f` on every part, the parts spread over candle's barrier pool (the threads candle's
/// own CPU kernels use, which park after a short spin), so that no second pool competes with
/// them for the cores.
fn parallel<T: Send>(parts: Vec<T>, f: impl Fn(T) + Sync) {
    let n = threads();
    if parts.len() <= 1 || n == 1 {
        parts.into_iter().for_each(f);
        return;
    }
    let slots: Vec<std::sync::Mutex<Option<T>>> = parts
        .into_iter()
        .map(|p| std::sync::Mutex::new(Some(p)))
        .collect();
    candle_core::utils::barrier_pool().execute(|tid| {
        for slot in slots.iter().skip(tid).step_by(n) {
            // Each slot is taken by one thread only, so the lock never waits (nor is poisoned
            // unless `f` panicked, which the pool re-raises).
            let part = slot.lock().ok().and_then(|mut s| s.take());
            if let Some(p) = part {
                f(p);
            }
        }
    });
}

#[cfg(test)]
mod tests;
