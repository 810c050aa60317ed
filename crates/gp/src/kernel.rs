//! Covariance functions: stationary ARD kernels, a categorical (Hamming) kernel, and their
//! products and sums over groups of input dimensions.
//!
//! A [`Kernel`] is a *specification*: it names families and input dimensions but holds no
//! hyperparameter values. [`crate::GpParams::fit`] resolves it against the data's dimension and
//! learns one lengthscale per dimension of every leaf (ARD), one weight per term of every sum,
//! and one output scale for the whole kernel.

use serde::{Deserialize, Serialize};
use std::ops::{Add, Mul};

use crate::GpError;

/// The most children a [`Kernel::Product`] or [`Kernel::Sum`] may have.
pub const MAX_CHILDREN: usize = 16;

/// Stationary kernel families, written in terms of the scaled distance
/// `r = sqrt(Σ_k ((x_k - x'_k) / ℓ_k)²)`.
///
/// | family | `k(r)` | smoothness |
/// |---|---|---|
/// | `Rbf` | `exp(-r²/2)` | infinitely differentiable |
/// | `Matern12` | `exp(-r)` | continuous, not differentiable |
/// | `Matern32` | `(1 + √3 r) exp(-√3 r)` | once differentiable |
/// | `Matern52` | `(1 + √5 r + 5r²/3) exp(-√5 r)` | twice differentiable (the default) |
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub enum Stationary {
    /// Squared exponential.
    Rbf,
    /// Matérn ν = 1/2 (exponential).
    Matern12,
    /// Matérn ν = 3/2.
    Matern32,
    /// Matérn ν = 5/2.
    Matern52,
}

impl Stationary {
    /// The short name used on command lines and in summaries: `rbf`, `matern12`, `matern32`,
    /// `matern52`.
    pub fn name(self) -> &'static str {
        match self {
            Stationary::Rbf => "rbf",
            Stationary::Matern12 => "matern12",
            Stationary::Matern32 => "matern32",
            Stationary::Matern52 => "matern52",
        }
    }

    /// Parses the names that [`Stationary::name`] returns.
    pub fn from_name(name: &str) -> Option<Self> {
        match name {
            "rbf" => Some(Stationary::Rbf),
            "matern12" => Some(Stationary::Matern12),
            "matern32" => Some(Stationary::Matern32),
            "matern52" => Some(Stationary::Matern52),
            _ => None,
        }
    }

    /// Value `k(r²)` and derivative `dk/d(r²)`.
    #[inline]
    pub(crate) fn value_and_slope(self, r2: f64) -> (f64, f64) {
        match self {
            Stationary::Rbf => {
                let k = (-0.5 * r2).exp();
                (k, -0.5 * k)
            }
            Stationary::Matern12 => {
                let r = r2.sqrt();
                let k = (-r).exp();
                let slope = if r > 1e-300 { -k / (2.0 * r) } else { 0.0 };
                (k, slope)
            }
            Stationary::Matern32 => {
                let a = (3.0 * r2).sqrt();
                let e = (-a).exp();
                ((1.0 + a) * e, -1.5 * e)
            }
            Stationary::Matern52 => {
                let a = (5.0 * r2).sqrt();
                let e = (-a).exp();
                ((1.0 + a + a * a / 3.0) * e, -(5.0 / 6.0) * (1.0 + a) * e)
            }
        }
    }

    #[inline]
    pub(crate) fn value(self, r2: f64) -> f64 {
        match self {
            Stationary::Rbf => (-0.5 * r2).exp(),
            Stationary::Matern12 => (-r2.sqrt()).exp(),
            Stationary::Matern32 => {
                let a = (3.0 * r2).sqrt();
                (1.0 + a) * (-a).exp()
            }
            Stationary::Matern52 => {
                let a = (5.0 * r2).sqrt();
                (1.0 + a + a * a / 3.0) * (-a).exp()
            }
        }
    }
}

/// A kernel specification. Build it with the constructors and combine with `*` and `+`:
///
/// ```
/// use nasbo_gp::Kernel;
/// // Matérn 5/2 on the numeric dimensions 0 and 1, times a Hamming kernel on the
/// // categorical dimension 2.
/// let k = Kernel::matern52().on(vec![0, 1]) * Kernel::hamming().on(vec![2]);
/// assert_eq!(k.describe(), "(matern52[0,1] * hamming[2])");
/// ```
///
/// A kernel that names no dimensions (`on` not called) acts on every input dimension.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[non_exhaustive]
pub enum Kernel {
    /// A stationary kernel with one lengthscale per dimension it acts on.
    Stationary {
        /// Which family.
        family: Stationary,
        /// Input dimensions it acts on; `None` for all.
        dims: Option<Vec<usize>>,
    },
    /// The overlap kernel for unordered categorical dimensions:
    /// `k = exp(-(1/m) Σ_k [x_k ≠ x'_k] / ℓ_k)` over its `m` dimensions. The GP compares the
    /// values for equality only, so category codes may be any distinct numbers.
    Hamming {
        /// Input dimensions it acts on; `None` for all.
        dims: Option<Vec<usize>>,
    },
    /// Product of kernels.
    Product(Vec<Kernel>),
    /// Weighted sum of kernels; each term gets a learned weight.
    Sum(Vec<Kernel>),
}

impl Default for Kernel {
    /// Matérn 5/2 with ARD lengthscales on all dimensions.
    fn default() -> Self {
        Kernel::matern52()
    }
}

impl Kernel {
    /// A stationary kernel of the given family on all dimensions.
    pub fn stationary(family: Stationary) -> Self {
        Kernel::Stationary { family, dims: None }
    }
    /// Squared exponential on all dimensions.
    pub fn rbf() -> Self {
        Self::stationary(Stationary::Rbf)
    }
    /// Matérn 1/2 on all dimensions.
    pub fn matern12() -> Self {
        Self::stationary(Stationary::Matern12)
    }
    /// Matérn 3/2 on all dimensions.
    pub fn matern32() -> Self {
        Self::stationary(Stationary::Matern32)
    }
    /// Matérn 5/2 on all dimensions.
    pub fn matern52() -> Self {
        Self::stationary(Stationary::Matern52)
    }
    /// Hamming (overlap) kernel on all dimensions.
    pub fn hamming() -> Self {
        Kernel::Hamming { dims: None }
    }

    /// Restricts a leaf kernel to the given input dimensions. On a product or sum it restricts
    /// every leaf below it.
    pub fn on(self, dims: Vec<usize>) -> Self {
        match self {
            Kernel::Stationary { family, .. } => Kernel::Stationary {
                family,
                dims: Some(dims),
            },
            Kernel::Hamming { .. } => Kernel::Hamming { dims: Some(dims) },
            Kernel::Product(ks) => {
                Kernel::Product(ks.into_iter().map(|k| k.on(dims.clone())).collect())
            }
            Kernel::Sum(ks) => Kernel::Sum(ks.into_iter().map(|k| k.on(dims.clone())).collect()),
        }
    }

    /// A one-line description, e.g. `(matern52[0,1] * hamming[2])`.
    pub fn describe(&self) -> String {
        fn dims_str(d: &Option<Vec<usize>>) -> String {
            match d {
                None => String::new(),
                Some(v) => format!(
                    "[{}]",
                    v.iter()
                        .map(|i| i.to_string())
                        .collect::<Vec<_>>()
                        .join(",")
                ),
            }
        }
        match self {
            Kernel::Stationary { family, dims } => format!("{}{}", family.name(), dims_str(dims)),
            Kernel::Hamming { dims } => format!("hamming{}", dims_str(dims)),
            Kernel::Product(ks) => format!(
                "({})",
                ks.iter()
                    .map(|k| k.describe())
                    .collect::<Vec<_>>()
                    .join(" * ")
            ),
            Kernel::Sum(ks) => format!(
                "({})",
                ks.iter()
                    .map(|k| k.describe())
                    .collect::<Vec<_>>()
                    .join(" + ")
            ),
        }
    }

    /// Checks the specification against an input dimension `d` and lays out its parameters.
    pub(crate) fn resolve(&self, d: usize) -> Result<Node, GpError> {
        let mut offset = 0;
        let node = self.resolve_at(d, &mut offset)?;
        // Sum weights come after all leaf parameters in the order of traversal: simply the
        // order in which `resolve_at` handed out offsets.
        Ok(node)
    }

    fn resolve_at(&self, d: usize, offset: &mut usize) -> Result<Node, GpError> {
        let dims_of = |dims: &Option<Vec<usize>>, name: &str| -> Result<Vec<usize>, GpError> {
            let v: Vec<usize> = match dims {
                None => (0..d).collect(),
                Some(v) => v.clone(),
            };
            if v.is_empty() {
                return Err(GpError::InvalidKernel(format!(
                    "{name} acts on no input dimension"
                )));
            }
            let mut seen = vec![false; d];
            for &k in &v {
                if k >= d {
                    return Err(GpError::InvalidKernel(format!(
                        "{name} names input dimension {k}, but the data has {d} dimension(s)"
                    )));
                }
                if seen[k] {
                    return Err(GpError::InvalidKernel(format!(
                        "{name} names input dimension {k} twice"
                    )));
                }
                seen[k] = true;
            }
            Ok(v)
        };
        match self {
            Kernel::Stationary { family, dims } => {
                let dims = dims_of(dims, family.name())?;
                let node = Node::Stationary {
                    family: *family,
                    offset: *offset,
                    dims,
                };
                *offset += node.leaf_len();
                Ok(node)
            }
            Kernel::Hamming { dims } => {
                let dims = dims_of(dims, "hamming")?;
                let node = Node::Hamming {
                    offset: *offset,
                    dims,
                };
                *offset += node.leaf_len();
                Ok(node)
            }
            Kernel::Product(ks) | Kernel::Sum(ks) => {
                let what = if matches!(self, Kernel::Product(_)) {
                    "product"
                } else {
                    "sum"
                };
                if ks.is_empty() {
                    return Err(GpError::InvalidKernel(format!("empty {what}")));
                }
                if ks.len() > MAX_CHILDREN {
                    return Err(GpError::InvalidKernel(format!(
                        "a {what} of {} kernels (at most {MAX_CHILDREN})",
                        ks.len()
                    )));
                }
                let children = ks
                    .iter()
                    .map(|k| k.resolve_at(d, offset))
                    .collect::<Result<Vec<_>, _>>()?;
                if matches!(self, Kernel::Product(_)) {
                    Ok(Node::Product { children })
                } else {
                    let node = Node::Sum {
                        offset: *offset,
                        children,
                    };
                    *offset += ks.len();
                    Ok(node)
                }
            }
        }
    }
}

impl Mul for Kernel {
    type Output = Kernel;
    fn mul(self, rhs: Kernel) -> Kernel {
        match self {
            Kernel::Product(mut ks) => {
                ks.push(rhs);
                Kernel::Product(ks)
            }
            lhs => Kernel::Product(vec![lhs, rhs]),
        }
    }
}

impl Add for Kernel {
    type Output = Kernel;
    fn add(self, rhs: Kernel) -> Kernel {
        match self {
            Kernel::Sum(mut ks) => {
                ks.push(rhs);
                Kernel::Sum(ks)
            }
            lhs => Kernel::Sum(vec![lhs, rhs]),
        }
    }
}

/// What a kernel parameter is, for priors and reporting.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum ParamKind {
    /// Lengthscale of a stationary leaf on input dimension `dim`.
    Lengthscale { dim: usize },
    /// Lengthscale of a Hamming leaf on input dimension `dim`.
    CategoricalLengthscale { dim: usize },
    /// Weight of a term of a sum.
    SumWeight,
}

/// Hyperparameters in natural units (`val = exp(θ)`) and their reciprocals, computed once per
/// likelihood evaluation so the O(n²) loops do no `exp` of parameters.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub(crate) struct Natural {
    pub val: Vec<f64>,
    pub inv: Vec<f64>,
}

impl Natural {
    pub fn from_log(theta: &[f64]) -> Self {
        let val: Vec<f64> = theta.iter().map(|t| t.exp()).collect();
        let inv = val.iter().map(|v| 1.0 / v).collect();
        Natural { val, inv }
    }
    pub fn set_from_log(&mut self, theta: &[f64]) {
        self.val.clear();
        self.inv.clear();
        for t in theta {
            let v = t.exp();
            self.val.push(v);
            self.inv.push(1.0 / v);
        }
    }
}

/// A kernel resolved against the data dimension, with parameter offsets.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub(crate) enum Node {
    Stationary {
        family: Stationary,
        offset: usize,
        dims: Vec<usize>,
    },
    Hamming {
        offset: usize,
        dims: Vec<usize>,
    },
    Product {
        children: Vec<Node>,
    },
    Sum {
        offset: usize,
        children: Vec<Node>,
    },
}

impl Node {
    fn leaf_len(&self) -> usize {
        match self {
            Node::Stationary { dims, .. } | Node::Hamming { dims, .. } => dims.len(),
            _ => 0,
        }
    }

    /// Number of kernel parameters (lengthscales and sum weights).
    pub fn n_params(&self) -> usize {
        match self {
            Node::Stationary { dims, .. } | Node::Hamming { dims, .. } => dims.len(),
            Node::Product { children } => children.iter().map(|c| c.n_params()).sum(),
            Node::Sum { children, .. } => {
                children.len() + children.iter().map(|c| c.n_params()).sum::<usize>()
            }
        }
    }

    /// The kind of each parameter, indexed by offset.
    pub fn param_kinds(&self) -> Vec<ParamKind> {
        let mut out = vec![ParamKind::SumWeight; self.n_params()];
        self.fill_kinds(&mut out);
        out
    }

    fn fill_kinds(&self, out: &mut [ParamKind]) {
        match self {
            Node::Stationary { offset, dims, .. } => {
                for (j, &dim) in dims.iter().enumerate() {
                    out[offset + j] = ParamKind::Lengthscale { dim };
                }
            }
            Node::Hamming { offset, dims } => {
                for (j, &dim) in dims.iter().enumerate() {
                    out[offset + j] = ParamKind::CategoricalLengthscale { dim };
                }
            }
            Node::Product { children } => children.iter().for_each(|c| c.fill_kinds(out)),
            Node::Sum { offset, children } => {
                for j in 0..children.len() {
                    out[offset + j] = ParamKind::SumWeight;
                }
                children.iter().for_each(|c| c.fill_kinds(out));
            }
        }
    }

    /// Whether every dimension is used only through Hamming leaves (then the input gradient is
    /// zero there).
    pub fn is_categorical_dim(&self, dim: usize) -> bool {
        match self {
            Node::Stationary { dims, .. } => !dims.contains(&dim),
            Node::Hamming { .. } => true,
            Node::Product { children } | Node::Sum { children, .. } => {
                children.iter().all(|c| c.is_categorical_dim(dim))
            }
        }
    }

    #[inline]
    fn scaled_r2(offset: usize, dims: &[usize], p: &Natural, a: &[f64], b: &[f64]) -> f64 {
        let mut r2 = 0.0;
        for (j, &k) in dims.iter().enumerate() {
            let t = (a[k] - b[k]) * p.inv[offset + j];
            r2 += t * t;
        }
        r2
    }

    #[inline]
    fn hamming_sum(offset: usize, dims: &[usize], p: &Natural, a: &[f64], b: &[f64]) -> f64 {
        let mut s = 0.0;
        for (j, &k) in dims.iter().enumerate() {
            if a[k] != b[k] {
                s += p.inv[offset + j];
            }
        }
        s / dims.len() as f64
    }

    /// `k(a, b)` (without the output scale).
    #[inline]
    pub fn value(&self, p: &Natural, a: &[f64], b: &[f64]) -> f64 {
        match self {
            Node::Stationary {
                family,
                offset,
                dims,
            } => family.value(Self::scaled_r2(*offset, dims, p, a, b)),
            Node::Hamming { offset, dims } => (-Self::hamming_sum(*offset, dims, p, a, b)).exp(),
            Node::Product { children } => children.iter().map(|c| c.value(p, a, b)).product(),
            Node::Sum { offset, children } => children
                .iter()
                .enumerate()
                .map(|(i, c)| p.val[offset + i] * c.value(p, a, b))
                .sum(),
        }
    }

    /// Adds `weight · ∂k(a,b)/∂θ_j` to `grad[j]` for every kernel parameter `θ_j` (log scale);
    /// returns `k(a, b)`.
    pub fn accumulate_param_grad(
        &self,
        p: &Natural,
        a: &[f64],
        b: &[f64],
        weight: f64,
        grad: &mut [f64],
    ) -> f64 {
        match self {
            Node::Stationary {
                family,
                offset,
                dims,
            } => {
                let r2 = Self::scaled_r2(*offset, dims, p, a, b);
                let (k, slope) = family.value_and_slope(r2);
                // dr²/dlogℓ_j = -2 (Δ_j/ℓ_j)²
                let w = -2.0 * weight * slope;
                for (j, &dim) in dims.iter().enumerate() {
                    let t = (a[dim] - b[dim]) * p.inv[offset + j];
                    grad[offset + j] += w * t * t;
                }
                k
            }
            Node::Hamming { offset, dims } => {
                let k = (-Self::hamming_sum(*offset, dims, p, a, b)).exp();
                let w = weight * k / dims.len() as f64;
                for (j, &dim) in dims.iter().enumerate() {
                    if a[dim] != b[dim] {
                        grad[offset + j] += w * p.inv[offset + j];
                    }
                }
                k
            }
            Node::Product { children } => {
                let mut vals = [0.0; MAX_CHILDREN];
                for (i, c) in children.iter().enumerate() {
                    vals[i] = c.value(p, a, b);
                }
                let m = children.len();
                for (i, c) in children.iter().enumerate() {
                    let others: f64 = (0..m).filter(|&j| j != i).map(|j| vals[j]).product();
                    c.accumulate_param_grad(p, a, b, weight * others, grad);
                }
                vals[..m].iter().product()
            }
            Node::Sum { offset, children } => {
                let mut total = 0.0;
                for (i, c) in children.iter().enumerate() {
                    let w = p.val[offset + i];
                    let k = c.accumulate_param_grad(p, a, b, weight * w, grad);
                    grad[offset + i] += weight * w * k;
                    total += w * k;
                }
                total
            }
        }
    }

    /// Adds `weight · ∂k(a,b)/∂a` to `out` (length d); returns `k(a, b)`. Hamming leaves
    /// contribute no gradient (their inputs are discrete).
    pub fn accumulate_input_grad(
        &self,
        p: &Natural,
        a: &[f64],
        b: &[f64],
        weight: f64,
        out: &mut [f64],
    ) -> f64 {
        match self {
            Node::Stationary {
                family,
                offset,
                dims,
            } => {
                let r2 = Self::scaled_r2(*offset, dims, p, a, b);
                let (k, slope) = family.value_and_slope(r2);
                // dr²/da_j = 2 Δ_j / ℓ_j²
                let w = 2.0 * weight * slope;
                for (j, &dim) in dims.iter().enumerate() {
                    let inv = p.inv[offset + j];
                    out[dim] += w * (a[dim] - b[dim]) * inv * inv;
                }
                k
            }
            Node::Hamming { offset, dims } => (-Self::hamming_sum(*offset, dims, p, a, b)).exp(),
            Node::Product { children } => {
                let mut vals = [0.0; MAX_CHILDREN];
                for (i, c) in children.iter().enumerate() {
                    vals[i] = c.value(p, a, b);
                }
                let m = children.len();
                for (i, c) in children.iter().enumerate() {
                    let others: f64 = (0..m).filter(|&j| j != i).map(|j| vals[j]).product();
                    c.accumulate_input_grad(p, a, b, weight * others, out);
                }
                vals[..m].iter().product()
            }
            Node::Sum { offset, children } => children
                .iter()
                .enumerate()
                .map(|(i, c)| {
                    let w = p.val[offset + i];
                    w * c.accumulate_input_grad(p, a, b, weight * w, out)
                })
                .sum(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn stationary_families_are_one_at_zero_and_decay() {
        for f in [
            Stationary::Rbf,
            Stationary::Matern12,
            Stationary::Matern32,
            Stationary::Matern52,
        ] {
            assert!((f.value(0.0) - 1.0).abs() < 1e-15, "{f:?}");
            assert!(f.value(1.0) < f.value(0.25), "{f:?}");
            assert!(f.value(100.0) < 1e-3, "{f:?}");
            assert_eq!(Stationary::from_name(f.name()), Some(f));
        }
    }

    #[test]
    fn resolve_rejects_bad_dimensions() {
        let bad = [
            (Kernel::rbf().on(vec![3]), "names input dimension 3"),
            (Kernel::rbf().on(vec![]), "acts on no input dimension"),
            (Kernel::rbf().on(vec![1, 1]), "twice"),
            (Kernel::Product(vec![]), "empty product"),
            (Kernel::Sum(vec![Kernel::rbf(); 17]), "at most 16"),
        ];
        for (k, msg) in bad {
            let err = k.resolve(2).unwrap_err();
            assert!(err.to_string().contains(msg), "{err} should mention {msg}");
        }
    }

    #[test]
    fn layout_counts_lengthscales_and_weights() {
        let k = (Kernel::rbf().on(vec![0, 1]) * Kernel::hamming().on(vec![2])) + Kernel::matern12();
        let node = k.resolve(3).unwrap();
        // 2 + 1 lengthscales, 3 for the Matérn, 2 sum weights.
        assert_eq!(node.n_params(), 8);
        let kinds = node.param_kinds();
        assert_eq!(kinds[2], ParamKind::CategoricalLengthscale { dim: 2 });
        assert_eq!(kinds[6], ParamKind::SumWeight);
        assert!(!node.is_categorical_dim(2)); // the Matérn term uses it
        let k2 = Kernel::rbf().on(vec![0]) * Kernel::hamming().on(vec![1]);
        assert!(k2.resolve(2).unwrap().is_categorical_dim(1));
    }
}

#[cfg(test)]
mod gradient_tests {
    use super::*;
    use proptest::prelude::*;

    fn kernels() -> Vec<Kernel> {
        vec![
            Kernel::rbf(),
            Kernel::matern12(),
            Kernel::matern32(),
            Kernel::matern52(),
            Kernel::matern52().on(vec![0, 1]) * Kernel::hamming().on(vec![2]),
            Kernel::rbf().on(vec![0]) + Kernel::matern32().on(vec![1, 2]),
            (Kernel::rbf().on(vec![0, 2]) * Kernel::matern52().on(vec![1])) + Kernel::hamming(),
        ]
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(64))]

        #[test]
        fn parameter_gradients_match_finite_differences(
            which in 0usize..7,
            a in prop::collection::vec(-1.0f64..2.0, 3),
            b in prop::collection::vec(-1.0f64..2.0, 3),
            theta in prop::collection::vec(-1.5f64..1.5, 12),
            same_cat in any::<bool>(),
        ) {
            let node = kernels()[which].resolve(3).unwrap();
            let np = node.n_params();
            let theta = &theta[..np];
            let mut b = b;
            if same_cat { b[2] = a[2]; }
            let p = Natural::from_log(theta);
            let mut grad = vec![0.0; np];
            let k = node.accumulate_param_grad(&p, &a, &b, 1.0, &mut grad);
            prop_assert!((k - node.value(&p, &a, &b)).abs() < 1e-12);
            let h = 1e-6;
            for j in 0..np {
                let mut tp = theta.to_vec();
                let mut tm = theta.to_vec();
                tp[j] += h;
                tm[j] -= h;
                let fd = (node.value(&Natural::from_log(&tp), &a, &b)
                    - node.value(&Natural::from_log(&tm), &a, &b)) / (2.0 * h);
                prop_assert!((fd - grad[j]).abs() < 1e-6 * (1.0 + fd.abs()),
                    "kernel {which} param {j}: analytic {} vs fd {fd}", grad[j]);
            }
        }

        #[test]
        fn input_gradients_match_finite_differences(
            which in 0usize..7,
            a in prop::collection::vec(-1.0f64..2.0, 3),
            b in prop::collection::vec(-1.0f64..2.0, 3),
            theta in prop::collection::vec(-1.5f64..1.5, 12),
        ) {
            let node = kernels()[which].resolve(3).unwrap();
            let np = node.n_params();
            let p = Natural::from_log(&theta[..np]);
            let mut g = vec![0.0; 3];
            node.accumulate_input_grad(&p, &a, &b, 1.0, &mut g);
            let h = 1e-6;
            // Only continuous dimensions move; Hamming dimensions are discrete.
            for k in 0..3 {
                if node.is_categorical_dim(k) { continue; }
                let mut ap = a.clone();
                let mut am = a.clone();
                ap[k] += h;
                am[k] -= h;
                let fd = (node.value(&p, &ap, &b) - node.value(&p, &am, &b)) / (2.0 * h);
                prop_assert!((fd - g[k]).abs() < 1e-5 * (1.0 + fd.abs()),
                    "kernel {which} dim {k}: analytic {} vs fd {fd}", g[k]);
            }
        }
    }
}
