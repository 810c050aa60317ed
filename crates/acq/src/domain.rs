//! The search domain of the acquisition optimizer: continuous intervals, ordered discrete sets
//! (integers, integers on a log scale, stepped values) and unordered categories.

use crate::AcqError;

/// One dimension of the domain, in the surrogate's input coordinates.
#[derive(Clone, Debug, PartialEq)]
pub enum Dim {
    /// Any value in `[low, high]`.
    Continuous {
        /// Lower bound.
        low: f64,
        /// Upper bound (> low).
        high: f64,
    },
    /// One of these values, in increasing order (e.g. the integers 1..=8, or their logarithms).
    Ordinal {
        /// The admissible values, strictly increasing.
        values: Vec<f64>,
    },
    /// One of `n` unordered categories, coded 0, 1, …, n − 1.
    Categorical {
        /// Number of categories (≥ 1).
        n: usize,
    },
}

impl Dim {
    /// Number of admissible values (`None` when continuous).
    pub fn cardinality(&self) -> Option<usize> {
        match self {
            Dim::Continuous { .. } => None,
            Dim::Ordinal { values } => Some(values.len()),
            Dim::Categorical { n } => Some(*n),
        }
    }

    /// The admissible value at position `u ∈ [0, 1)` of the dimension (NaN for a dimension
    /// without admissible values, which [`Domain::check`] refuses).
    pub fn from_unit(&self, u: f64) -> f64 {
        let u = u.clamp(0.0, 1.0);
        match self {
            Dim::Continuous { low, high } => low + u * (high - low),
            Dim::Ordinal { values } => {
                let i = ((u * values.len() as f64) as usize).min(values.len().saturating_sub(1));
                values.get(i).copied().unwrap_or(f64::NAN)
            }
            Dim::Categorical { n: 0 } => f64::NAN,
            Dim::Categorical { n } => ((u * *n as f64) as usize).min(n - 1) as f64,
        }
    }

    /// The index of the admissible value nearest `v` (discrete dimensions).
    pub fn index_of(&self, v: f64) -> usize {
        match self {
            Dim::Continuous { .. } => 0,
            Dim::Ordinal { values } => values
                .iter()
                .enumerate()
                .min_by(|a, b| (a.1 - v).abs().total_cmp(&(b.1 - v).abs()))
                .map(|(i, _)| i)
                .unwrap_or(0),
            Dim::Categorical { n } => (v.round().max(0.0) as usize).min(n.saturating_sub(1)),
        }
    }

    /// The value at index `i` (discrete dimensions).
    pub fn value_at(&self, i: usize) -> f64 {
        match self {
            Dim::Continuous { low, .. } => *low,
            Dim::Ordinal { values } => values.get(i).copied().unwrap_or(f64::NAN),
            Dim::Categorical { .. } => i as f64,
        }
    }

    /// Width used to compare points (1 for discrete dimensions).
    pub fn scale(&self) -> f64 {
        match self {
            Dim::Continuous { low, high } => high - low,
            _ => 1.0,
        }
    }
}

/// A box of [`Dim`]s.
#[derive(Clone, Debug, PartialEq)]
pub struct Domain {
    dims: Vec<Dim>,
}

impl Domain {
    /// A domain, checked.
    pub fn new(dims: Vec<Dim>) -> Result<Self, AcqError> {
        let d = Domain { dims };
        d.check()?;
        Ok(d)
    }

    /// A continuous box.
    pub fn continuous(low: &[f64], high: &[f64]) -> Result<Self, AcqError> {
        if low.len() != high.len() {
            return Err(AcqError::DimensionMismatch {
                expected: low.len(),
                got: high.len(),
            });
        }
        Domain::new(
            low.iter()
                .zip(high)
                .map(|(&low, &high)| Dim::Continuous { low, high })
                .collect(),
        )
    }

    /// Checks every dimension.
    pub fn check(&self) -> Result<(), AcqError> {
        if self.dims.is_empty() {
            return Err(AcqError::InvalidDomain {
                dim: 0,
                reason: "the domain has no dimension".into(),
            });
        }
        for (dim, d) in self.dims.iter().enumerate() {
            let bad = |reason: String| Err(AcqError::InvalidDomain { dim, reason });
            match d {
                Dim::Continuous { low, high } => {
                    if !(low.is_finite() && high.is_finite() && low < high) {
                        return bad(format!("need finite low < high, got [{low}, {high}]"));
                    }
                }
                Dim::Ordinal { values } => {
                    if values.is_empty() {
                        return bad("no admissible value".into());
                    }
                    if values.iter().any(|v| !v.is_finite()) {
                        return bad("non-finite admissible value".into());
                    }
                    if values.windows(2).any(|w| w[0] >= w[1]) {
                        return bad("values must be strictly increasing".into());
                    }
                }
                Dim::Categorical { n } => {
                    if *n == 0 {
                        return bad("no category".into());
                    }
                }
            }
        }
        Ok(())
    }

    /// The dimensions.
    pub fn dims(&self) -> &[Dim] {
        &self.dims
    }
    /// Number of dimensions.
    pub fn len(&self) -> usize {
        self.dims.len()
    }
    /// Whether the domain has no dimension (never true for a checked domain).
    pub fn is_empty(&self) -> bool {
        self.dims.is_empty()
    }
    /// Indices of the continuous dimensions.
    pub fn continuous_dims(&self) -> Vec<usize> {
        (0..self.dims.len())
            .filter(|&k| matches!(self.dims[k], Dim::Continuous { .. }))
            .collect()
    }
    /// Indices of the discrete dimensions.
    pub fn discrete_dims(&self) -> Vec<usize> {
        (0..self.dims.len())
            .filter(|&k| !matches!(self.dims[k], Dim::Continuous { .. }))
            .collect()
    }
    /// Number of combinations of the discrete dimensions (saturating), 1 if there are none.
    pub fn discrete_combinations(&self) -> usize {
        self.dims
            .iter()
            .filter_map(|d| d.cardinality())
            .fold(1usize, |a, c| a.saturating_mul(c))
    }

    /// Whether `x` lies in the domain: inside the bounds, and on an admissible value of every
    /// discrete dimension.
    pub fn contains(&self, x: &[f64]) -> bool {
        x.len() == self.dims.len()
            && self.dims.iter().zip(x).all(|(d, &v)| match d {
                Dim::Continuous { low, high } => v >= *low && v <= *high,
                Dim::Ordinal { values } => values.contains(&v),
                Dim::Categorical { n } => v >= 0.0 && v < *n as f64 && v.fract() == 0.0,
            })
    }

    /// Moves `x` onto the domain: clamps continuous values, snaps discrete ones to the nearest
    /// admissible value.
    pub fn project(&self, x: &mut [f64]) {
        for (d, v) in self.dims.iter().zip(x.iter_mut()) {
            *v = match d {
                Dim::Continuous { low, high } => v.clamp(*low, *high),
                _ => d.value_at(d.index_of(*v)),
            };
        }
    }

    /// Whether `a` and `b` are the same configuration: equal discrete values, continuous values
    /// within `tol` of the dimension's width.
    pub fn same_point(&self, a: &[f64], b: &[f64], tol: f64) -> bool {
        self.dims
            .iter()
            .zip(a.iter().zip(b))
            .all(|(d, (x, y))| match d {
                Dim::Continuous { low, high } => (x - y).abs() <= tol * (high - low),
                _ => x == y,
            })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bad_domains_name_the_dimension() {
        let cases = [
            (vec![], 0, "no dimension"),
            (
                vec![Dim::Continuous {
                    low: 1.0,
                    high: 1.0,
                }],
                0,
                "low < high",
            ),
            (
                vec![
                    Dim::Categorical { n: 2 },
                    Dim::Ordinal {
                        values: vec![1.0, 1.0],
                    },
                ],
                1,
                "strictly increasing",
            ),
            (vec![Dim::Categorical { n: 0 }], 0, "no category"),
            (vec![Dim::Ordinal { values: vec![] }], 0, "no admissible"),
            (vec![Dim::Categorical { n: 0 }], 0, "no category"),
        ];
        // Unchecked empty dimensions give NaN instead of panicking.
        assert!(Dim::Ordinal { values: vec![] }.from_unit(0.5).is_nan());
        assert!(Dim::Categorical { n: 0 }.from_unit(0.5).is_nan());
        assert!(Dim::Ordinal { values: vec![] }.value_at(3).is_nan());
        for (dims, at, msg) in cases {
            match Domain::new(dims).unwrap_err() {
                AcqError::InvalidDomain { dim, reason } => {
                    assert_eq!(dim, at);
                    assert!(reason.contains(msg), "{reason}");
                }
                e => panic!("{e}"),
            }
        }
    }

    #[test]
    fn projection_lands_on_admissible_values() {
        let d = Domain::new(vec![
            Dim::Continuous {
                low: 0.0,
                high: 2.0,
            },
            Dim::Ordinal {
                values: vec![1.0, 2.0, 4.0, 8.0],
            },
            Dim::Categorical { n: 3 },
        ])
        .unwrap();
        let mut x = vec![3.0, 5.9, 1.6];
        d.project(&mut x);
        assert_eq!(x, vec![2.0, 4.0, 2.0]);
        assert!(d.contains(&x));
        assert!(!d.contains(&[1.0, 3.0, 0.0]));
        assert_eq!(d.discrete_combinations(), 12);
        assert_eq!(d.dims()[1].from_unit(0.99), 8.0);
        assert_eq!(d.dims()[2].from_unit(0.0), 0.0);
    }
}
