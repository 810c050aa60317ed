//! Dense linear algebra behind the GP: a jittered Cholesky factorization, triangular solves and
//! the inverse from the factor. The factorization and solves run on faer (about 7× faster than
//! nalgebra's at n = 1000 on the development machine) over nalgebra's column-major storage, so
//! the public API stays nalgebra.

use faer::dyn_stack::{MemBuffer, MemStack};
use faer::linalg::cholesky::llt;
use faer::{MatMut, MatRef, Par};
use nalgebra::DMatrix;

use crate::GpError;

/// Relative jitter tried first when a factorization fails; multiplied by 10 at each retry.
pub(crate) const JITTER_START: f64 = 1e-9;
/// Smallest squared pivot accepted, relative to the mean diagonal: a factorization that only
/// succeeds through round-off (an exactly singular matrix) is treated as failed.
pub(crate) const MIN_PIVOT: f64 = 1e-13;
/// Largest relative jitter tried before giving up.
pub(crate) const JITTER_MAX: f64 = 1e-1;

fn par_for(n: usize) -> Par {
    // Parallel blocks only pay off on large matrices; keep small ones sequential so several
    // models can be fitted side by side without contention.
    if n >= 384 {
        Par::rayon(0)
    } else {
        Par::Seq
    }
}

fn view(m: &DMatrix<f64>) -> MatRef<'_, f64> {
    MatRef::from_column_major_slice(m.as_slice(), m.nrows(), m.ncols())
}

fn view_mut(m: &mut DMatrix<f64>) -> MatMut<'_, f64> {
    let (r, c) = m.shape();
    MatMut::from_column_major_slice_mut(m.as_mut_slice(), r, c)
}

/// Factorizes the symmetric matrix whose lower triangle is in `a` into `l` (lower triangular,
/// upper triangle zeroed). On failure, retries with growing jitter on the diagonal; returns the
/// jitter that was added (0 when none was needed).
pub(crate) fn cholesky_jittered(a: &DMatrix<f64>, l: &mut DMatrix<f64>) -> Result<f64, GpError> {
    let n = a.nrows();
    if l.shape() != (n, n) {
        *l = DMatrix::zeros(n, n);
    }
    let mean_diag = (0..n).map(|i| a[(i, i)].abs()).sum::<f64>() / n.max(1) as f64;
    let base = if mean_diag.is_finite() && mean_diag > 0.0 {
        mean_diag
    } else {
        1.0
    };
    let par = par_for(n);
    let mut mem = MemBuffer::new(llt::factor::cholesky_in_place_scratch::<f64>(
        n,
        par,
        Default::default(),
    ));
    let mut jitter = 0.0;
    let mut rel = JITTER_START;
    loop {
        l.copy_from(a);
        if jitter > 0.0 {
            for i in 0..n {
                l[(i, i)] += jitter;
            }
        }
        let ok = l.iter().all(|v| v.is_finite())
            && llt::factor::cholesky_in_place(
                view_mut(l),
                Default::default(),
                par,
                MemStack::new(&mut mem),
                Default::default(),
            )
            .is_ok()
            && (0..n).all(|i| l[(i, i)] * l[(i, i)] > MIN_PIVOT * base && l[(i, i)].is_finite());
        if ok {
            for j in 1..n {
                for i in 0..j {
                    l[(i, j)] = 0.0;
                }
            }
            return Ok(jitter);
        }
        if rel > JITTER_MAX {
            return Err(GpError::NotPositiveDefinite { jitter });
        }
        jitter = rel * base;
        rel *= 10.0;
    }
}

/// Solves `L X = B` in place (`b` becomes `X`).
pub(crate) fn solve_lower_in_place(l: &DMatrix<f64>, b: &mut DMatrix<f64>) {
    let par = par_for(l.nrows());
    faer::linalg::triangular_solve::solve_lower_triangular_in_place(view(l), view_mut(b), par);
}

/// Solves `Lᵀ X = B` in place.
pub(crate) fn solve_upper_t_in_place(l: &DMatrix<f64>, b: &mut DMatrix<f64>) {
    let par = par_for(l.nrows());
    faer::linalg::triangular_solve::solve_upper_triangular_in_place(
        view(l).transpose(),
        view_mut(b),
        par,
    );
}

/// Solves `L x = b` for one vector, in place (column-oriented: L's columns are contiguous).
pub(crate) fn solve_lower_vec(l: &DMatrix<f64>, b: &mut [f64]) {
    let n = l.nrows();
    let data = l.as_slice();
    for k in 0..n {
        let col = &data[k * n..(k + 1) * n];
        let v = b[k] / col[k];
        b[k] = v;
        if v != 0.0 {
            for (bi, li) in b[k + 1..].iter_mut().zip(&col[k + 1..]) {
                *bi -= li * v;
            }
        }
    }
}

/// Solves `Lᵀ x = b` for one vector, in place.
pub(crate) fn solve_upper_t_vec(l: &DMatrix<f64>, b: &mut [f64]) {
    let n = l.nrows();
    let data = l.as_slice();
    for i in (0..n).rev() {
        // Column i of L is contiguous: Lᵀ row i.
        let col = &data[i * n..(i + 1) * n];
        let s = dot(&col[i + 1..], &b[i + 1..]);
        b[i] = (b[i] - s) / col[i];
    }
}

/// `Σ aᵢ bᵢ` over the shorter of the two, with eight independent partial sums (so that the
/// compiler vectorizes it; a single running sum is one dependent add per element). Summed in
/// a fixed order: the same inputs give the same result.
pub(crate) fn dot(a: &[f64], b: &[f64]) -> f64 {
    let n = a.len().min(b.len());
    let (a, b) = (&a[..n], &b[..n]);
    let mut acc = [0.0f64; 8];
    let (ca, cb) = (a.chunks_exact(8), b.chunks_exact(8));
    let (ra, rb) = (ca.remainder(), cb.remainder());
    for (x, y) in ca.zip(cb) {
        for k in 0..8 {
            acc[k] += x[k] * y[k];
        }
    }
    let mut tail = 0.0;
    for (x, y) in ra.iter().zip(rb) {
        tail += x * y;
    }
    ((acc[0] + acc[4]) + (acc[1] + acc[5])) + ((acc[2] + acc[6]) + (acc[3] + acc[7])) + tail
}

/// Writes the lower triangle of `(L Lᵀ)⁻¹` into `out`.
pub(crate) fn inverse_from_cholesky(l: &DMatrix<f64>, out: &mut DMatrix<f64>) {
    let n = l.nrows();
    if out.shape() != (n, n) {
        *out = DMatrix::zeros(n, n);
    }
    let par = par_for(n);
    let mut mem = MemBuffer::new(llt::inverse::inverse_scratch::<f64>(n, par));
    llt::inverse::inverse(view_mut(out), view(l), par, MemStack::new(&mut mem));
}

#[cfg(test)]
mod tests {
    use super::*;

    fn spd(n: usize) -> DMatrix<f64> {
        let a = DMatrix::from_fn(n, n, |i, j| ((i * 7 + j * 3) % 11) as f64 / 11.0 - 0.4);
        &a * a.transpose() + DMatrix::identity(n, n) * 0.5
    }

    #[test]
    fn factor_solve_and_inverse_agree_with_nalgebra() {
        for n in [1, 5, 40, 400] {
            let a = spd(n);
            let mut l = DMatrix::zeros(0, 0);
            let jitter = cholesky_jittered(&a, &mut l).unwrap();
            assert_eq!(jitter, 0.0);
            let rec = &l * l.transpose();
            assert!((rec - &a).abs().max() < 1e-9 * n as f64);
            let b = DMatrix::from_fn(n, 3, |i, j| (i + j) as f64);
            let mut x = b.clone();
            solve_lower_in_place(&l, &mut x);
            solve_upper_t_in_place(&l, &mut x);
            assert!((&a * &x - &b).abs().max() < 1e-7 * n as f64);
            let mut v: Vec<f64> = (0..n).map(|i| i as f64).collect();
            solve_lower_vec(&l, &mut v);
            solve_upper_t_vec(&l, &mut v);
            let col: Vec<f64> = (0..n).map(|i| x[(i, 0)]).collect();
            for (p, q) in v.iter().zip(&col) {
                assert!((p - q).abs() < 1e-8 * (1.0 + q.abs()));
            }
            let mut inv = DMatrix::zeros(n, n);
            inverse_from_cholesky(&l, &mut inv);
            let full =
                DMatrix::from_fn(n, n, |i, j| if i >= j { inv[(i, j)] } else { inv[(j, i)] });
            assert!((&a * full - DMatrix::identity(n, n)).abs().max() < 1e-7 * n as f64);
        }
    }

    #[test]
    fn singular_matrix_gets_jitter() {
        // Rank one: two identical rows.
        let a = DMatrix::from_element(3, 3, 1.0);
        let mut l = DMatrix::zeros(3, 3);
        let jitter = cholesky_jittered(&a, &mut l).unwrap();
        assert!(jitter > 0.0 && jitter < 1e-3, "jitter {jitter}");
    }

    #[test]
    fn indefinite_matrix_is_a_typed_error() {
        let a = DMatrix::from_row_slice(2, 2, &[1.0, 0.0, 0.0, -5.0]);
        let mut l = DMatrix::zeros(2, 2);
        assert!(matches!(
            cholesky_jittered(&a, &mut l),
            Err(GpError::NotPositiveDefinite { .. })
        ));
        let nan = DMatrix::from_element(2, 2, f64::NAN);
        assert!(cholesky_jittered(&nan, &mut l).is_err());
    }
}
