//! Pareto fronts: which points no other point beats in every objective.

/// For each point (its objectives, larger is better), whether it is on the non-dominated
/// front: no other point is at least as good in every objective and better in one. Points
/// with a non-finite objective are never on it. O(n² k).
///
/// ```
/// use nasbo_tuner::pareto::non_dominated;
/// let pts = vec![vec![1.0, 1.0], vec![2.0, 0.0], vec![0.5, 0.5], vec![0.0, 2.0]];
/// assert_eq!(non_dominated(&pts), vec![true, true, false, true]);
/// ```
pub fn non_dominated(points: &[Vec<f64>]) -> Vec<bool> {
    let ok: Vec<bool> = points
        .iter()
        .map(|p| !p.is_empty() && p.iter().all(|v| v.is_finite()))
        .collect();
    (0..points.len())
        .map(|i| {
            ok[i]
                && !(0..points.len()).any(|j| j != i && ok[j] && dominates(&points[j], &points[i]))
        })
        .collect()
}

/// Whether `a` dominates `b` (larger is better): at least as good everywhere, better once.
pub fn dominates(a: &[f64], b: &[f64]) -> bool {
    a.len() == b.len()
        && a.iter().zip(b).all(|(x, y)| x >= y)
        && a.iter().zip(b).any(|(x, y)| x > y)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ties_and_non_finite_points() {
        let pts = vec![
            vec![1.0, 1.0],
            vec![1.0, 1.0],
            vec![f64::NAN, 5.0],
            vec![0.0, 1.0],
        ];
        // Equal points do not dominate each other; NaN is never on the front.
        assert_eq!(non_dominated(&pts), vec![true, true, false, false]);
        assert!(non_dominated(&[]).is_empty());
    }
}
