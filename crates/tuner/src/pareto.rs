//! Pareto fronts: which points no other point beats in every objective, and the hypervolume
//! they dominate.

use crate::trial::{Direction, Trial, TrialState};
use crate::TunerError;

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

/// The hypervolume of `points` (objectives, larger is better) above `reference`: the
/// measure of the set of points that some point of `points` dominates and that dominate
/// `reference`. Exact in 1, 2 and 3 objectives (O(n log n) in 2, O(n² log n) in 3); points
/// with a non-finite objective or not strictly better than `reference` everywhere add
/// nothing.
///
/// ```
/// use nasbo_tuner::pareto::hypervolume;
/// let pts = vec![vec![1.0, 3.0], vec![2.0, 2.0], vec![3.0, 1.0]];
/// assert_eq!(hypervolume(&pts, &[0.0, 0.0])?, 6.0);
/// # Ok::<(), nasbo_tuner::TunerError>(())
/// ```
pub fn hypervolume(points: &[Vec<f64>], reference: &[f64]) -> Result<f64, TunerError> {
    let k = reference.len();
    let bad = |reason: String| TunerError::InvalidConfig {
        name: "hypervolume",
        value: format!("{k} objectives"),
        reason,
    };
    if !(1..=3).contains(&k) {
        return Err(bad("exact in 1, 2 or 3 objectives".into()));
    }
    if !reference.iter().all(|r| r.is_finite()) {
        return Err(bad("the reference point must be finite".into()));
    }
    if let Some(p) = points.iter().find(|p| p.len() != k) {
        return Err(bad(format!(
            "a point has {} objectives, the reference {k}",
            p.len()
        )));
    }
    let pts: Vec<&[f64]> = points
        .iter()
        .map(|p| p.as_slice())
        .filter(|p| p.iter().zip(reference).all(|(v, r)| v.is_finite() && v > r))
        .collect();
    Ok(match k {
        1 => pts.iter().map(|p| p[0] - reference[0]).fold(0.0, f64::max),
        2 => hv2(pts.iter().map(|p| (p[0], p[1])).collect(), reference),
        _ => {
            // Slices between consecutive levels of the third objective, from the top.
            let mut levels: Vec<f64> = pts.iter().map(|p| p[2]).collect();
            levels.sort_by(|a, b| b.total_cmp(a));
            levels.dedup();
            let mut total = 0.0;
            for (i, &z) in levels.iter().enumerate() {
                let below = levels.get(i + 1).copied().unwrap_or(reference[2]);
                let slice: Vec<(f64, f64)> = pts
                    .iter()
                    .filter(|p| p[2] >= z)
                    .map(|p| (p[0], p[1]))
                    .collect();
                total += hv2(slice, reference) * (z - below);
            }
            total
        }
    })
}

/// The 2-D hypervolume above `reference` (its first two coordinates).
fn hv2(mut pts: Vec<(f64, f64)>, reference: &[f64]) -> f64 {
    pts.sort_by(|a, b| b.0.total_cmp(&a.0).then(b.1.total_cmp(&a.1)));
    let mut top = reference[1];
    let mut hv = 0.0;
    for (x, y) in pts {
        if y > top {
            hv += (x - reference[0]) * (y - top);
            top = y;
        }
    }
    hv
}

/// The trials' objectives in "larger is better" orientation: `Some` for a complete trial with
/// one finite value per direction.
pub fn oriented(trial: &Trial, directions: &[Direction]) -> Option<Vec<f64>> {
    (trial.state == TrialState::Complete
        && trial.values.len() == directions.len()
        && trial.values.iter().all(|v| v.is_finite()))
    .then(|| {
        trial
            .values
            .iter()
            .zip(directions)
            .map(|(v, d)| d.to_max(*v))
            .collect()
    })
}

/// For each trial, whether it is a complete trial on the non-dominated front of the complete
/// trials (objectives oriented by `directions`).
pub fn front_of(trials: &[Trial], directions: &[Direction]) -> Vec<bool> {
    let pts: Vec<Vec<f64>> = trials
        .iter()
        .map(|t| oriented(t, directions).unwrap_or_default())
        .collect();
    non_dominated(&pts)
}

/// Non-dominated sorting (NSGA-II): each point's front number, 0 for the non-dominated front,
/// 1 for the front once that is removed, and so on. Points with a non-finite objective get
/// `usize::MAX`. O(n² k).
///
/// ```
/// use nasbo_tuner::pareto::ranks;
/// let pts = vec![vec![1.0, 1.0], vec![2.0, 0.0], vec![0.5, 0.5], vec![0.0, 0.0]];
/// assert_eq!(ranks(&pts), vec![0, 0, 1, 2]);
/// ```
pub fn ranks(points: &[Vec<f64>]) -> Vec<usize> {
    let n = points.len();
    let ok: Vec<bool> = points
        .iter()
        .map(|p| !p.is_empty() && p.iter().all(|v| v.is_finite()))
        .collect();
    let mut dominated_by = vec![0usize; n];
    let mut dominates_list: Vec<Vec<usize>> = vec![Vec::new(); n];
    for i in 0..n {
        for j in 0..n {
            if i != j && ok[i] && ok[j] && dominates(&points[i], &points[j]) {
                dominates_list[i].push(j);
                dominated_by[j] += 1;
            }
        }
    }
    let mut rank = vec![usize::MAX; n];
    let mut current: Vec<usize> = (0..n).filter(|&i| ok[i] && dominated_by[i] == 0).collect();
    let mut r = 0;
    while !current.is_empty() {
        let mut next = Vec::new();
        for &i in &current {
            rank[i] = r;
            for &j in &dominates_list[i] {
                dominated_by[j] -= 1;
                if dominated_by[j] == 0 {
                    next.push(j);
                }
            }
        }
        current = next;
        r += 1;
    }
    rank
}

/// NSGA-II's crowding distance of each of `members` (indices into `points`, one front):
/// the sum over objectives of the normalized gap between its neighbours; the extremes of
/// each objective get infinity.
pub fn crowding(points: &[Vec<f64>], members: &[usize]) -> Vec<f64> {
    let m = members.len();
    let mut dist = vec![0.0; m];
    let Some(&first) = members.first() else {
        return dist;
    };
    let k = points[first].len();
    #[allow(clippy::needless_range_loop)] // j indexes the objectives of several points
    for j in 0..k {
        let mut order: Vec<usize> = (0..m).collect();
        order.sort_by(|&a, &b| points[members[a]][j].total_cmp(&points[members[b]][j]));
        let lo = points[members[order[0]]][j];
        let hi = points[members[order[m - 1]]][j];
        dist[order[0]] = f64::INFINITY;
        dist[order[m - 1]] = f64::INFINITY;
        let span = hi - lo;
        if span > 0.0 {
            for w in 1..m.saturating_sub(1) {
                let gap = points[members[order[w + 1]]][j] - points[members[order[w - 1]]][j];
                dist[order[w]] += gap / span;
            }
        }
    }
    dist
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Counts the unit cells of the integer grid above the origin that a point dominates.
    fn cells(points: &[Vec<f64>], k: usize, n: i64) -> f64 {
        let mut count = 0;
        let dims: Vec<i64> = (0..n).collect();
        let mut idx = vec![0usize; k];
        loop {
            let corner: Vec<f64> = idx.iter().map(|&i| dims[i] as f64 + 1.0).collect();
            if points
                .iter()
                .any(|p| p.iter().zip(&corner).all(|(v, c)| v >= c))
            {
                count += 1;
            }
            let mut d = 0;
            loop {
                if d == k {
                    return count as f64;
                }
                idx[d] += 1;
                if idx[d] < n as usize {
                    break;
                }
                idx[d] = 0;
                d += 1;
            }
        }
    }

    #[test]
    fn hypervolume_is_exact_on_integer_grids() {
        let mut state = 12345u64;
        let mut next = |n: u64| {
            state = state
                .wrapping_mul(6364136223846793005)
                .wrapping_add(1442695040888963407);
            ((state >> 33) % n) as f64
        };
        for k in 1..=3 {
            for _ in 0..40 {
                let m = 1 + next(8) as usize;
                let pts: Vec<Vec<f64>> =
                    (0..m).map(|_| (0..k).map(|_| next(7)).collect()).collect();
                let exact = cells(&pts, k, 6);
                let hv = hypervolume(&pts, &vec![0.0; k]).unwrap();
                assert_eq!(hv, exact, "{pts:?}");
            }
        }
    }

    #[test]
    fn hypervolume_ignores_what_does_not_count_and_refuses_bad_input() {
        let r = [0.0, 0.0];
        // Below the reference, non-finite, dominated and duplicated points add nothing.
        let pts = vec![
            vec![2.0, 2.0],
            vec![-1.0, 5.0],
            vec![f64::NAN, 9.0],
            vec![1.0, 1.0],
            vec![2.0, 2.0],
        ];
        assert_eq!(hypervolume(&pts, &r).unwrap(), 4.0);
        assert_eq!(hypervolume(&[], &r).unwrap(), 0.0);
        assert!(hypervolume(&pts, &[0.0; 4]).is_err());
        assert!(hypervolume(&pts, &[0.0]).is_err());
        assert!(hypervolume(&pts, &[f64::NAN, 0.0]).is_err());
    }

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

    #[test]
    fn ranks_peel_fronts_and_crowding_favours_the_extremes() {
        let pts = vec![
            vec![3.0, 0.0],
            vec![2.0, 2.0],
            vec![0.0, 3.0],
            vec![1.0, 1.0],
            vec![0.5, 0.5],
            vec![f64::NAN, 1.0],
        ];
        let r = ranks(&pts);
        assert_eq!(r, vec![0, 0, 0, 1, 2, usize::MAX]);
        // Front 0 agrees with non_dominated.
        let nd = non_dominated(&pts);
        assert!(r.iter().zip(&nd).all(|(&a, &b)| (a == 0) == b));
        let c = crowding(&pts, &[0, 1, 2]);
        assert!(c[0].is_infinite() && c[2].is_infinite());
        // The middle point: gaps 3/3 in both objectives.
        assert!((c[1] - 2.0).abs() < 1e-12, "{c:?}");
        assert!(crowding(&pts, &[]).is_empty());
    }
}
