//! Helpers the integration tests share.

use nalgebra::DMatrix;

/// `n` points in the unit cube of dimension `d`, from a xorshift generator seeded by `seed`.
pub fn scatter(n: usize, d: usize, seed: u64) -> DMatrix<f64> {
    let mut s = seed.wrapping_add(0x9E3779B97F4A7C15);
    DMatrix::from_fn(n, d, |_, _| {
        s ^= s << 13;
        s ^= s >> 7;
        s ^= s << 17;
        (s >> 11) as f64 / (1u64 << 53) as f64
    })
}
