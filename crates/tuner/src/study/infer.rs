//! A space read off a trials CSV when the study that wrote it is not at hand (for a report of
//! someone else's CSV). Each `param_<name>` column becomes a parameter: integers when every
//! value is one, floats when every value is a number, else categorical with the values seen;
//! numeric ones on a log scale when positive and spanning more than two decades; bounds are
//! the values seen. A column with empty cells is conditional on the first earlier column
//! whose values tell exactly when it is active (a set of choices, or a lower bound), choices
//! tried first, then integers, then floats.

use std::path::Path;

use crate::space::{Condition, Param, ParamKind, Space, Value};
use crate::TunerError;

/// The space of the trials in the CSV at `path`.
pub fn infer_space(path: &Path) -> Result<Space, TunerError> {
    let p = path.display().to_string();
    let err = |line: usize, reason: String| TunerError::Csv {
        path: p.clone(),
        line,
        reason,
    };
    let (mut r, header) = super::csv::open_trials(path)?;
    let cols: Vec<(usize, String)> = header
        .iter()
        .enumerate()
        .filter_map(|(i, h)| h.strip_prefix("param_").map(|n| (i, n.to_string())))
        .collect();
    if cols.is_empty() {
        return Err(err(1, "no param_<name> column".into()));
    }
    let mut cells: Vec<Vec<Option<String>>> = vec![Vec::new(); cols.len()];
    for (i, rec) in r.records().enumerate() {
        let rec = rec.map_err(|e| err(i + 2, e.to_string()))?;
        for (k, (c, _)) in cols.iter().enumerate() {
            let v = rec.get(*c).unwrap_or("").trim();
            cells[k].push((!v.is_empty()).then(|| v.to_string()));
        }
    }
    let mut params: Vec<Param> = Vec::with_capacity(cols.len());
    for (k, (_, name)) in cols.iter().enumerate() {
        let seen: Vec<&str> = cells[k].iter().flatten().map(String::as_str).collect();
        if seen.is_empty() {
            return Err(err(1, format!("column param_{name} has no value")));
        }
        let mut param = numeric(name, &seen).unwrap_or_else(|| {
            let mut choices: Vec<String> = Vec::new();
            for s in &seen {
                if !choices.iter().any(|c| c == s) {
                    choices.push(s.to_string());
                }
            }
            let refs: Vec<&str> = choices.iter().map(String::as_str).collect();
            Param::categorical(name, &refs)
        });
        if seen.len() < cells[k].len() {
            let present: Vec<bool> = cells[k].iter().map(Option::is_some).collect();
            // Choices first, then integers, then floats: the usual parents of a conditional
            // parameter, and the least likely to fit by chance.
            let rank = |p: &Param| match p.kind {
                ParamKind::Categorical { .. } => 0,
                ParamKind::Int { .. } => 1,
                ParamKind::Float { .. } => 2,
            };
            let mut order: Vec<usize> = (0..k).collect();
            order.sort_by_key(|&j| rank(&params[j]));
            let cond = order
                .into_iter()
                .find_map(|j| condition(&params[j], &cells[j], &present));
            match cond {
                Some(c) => param = param.when(c),
                None => {
                    return Err(err(
                        1,
                        format!(
                            "column param_{name} is empty in some rows, and no earlier column tells when it is active"
                        ),
                    ))
                }
            }
        }
        params.push(param);
    }
    Space::new(params)
}

/// A numeric parameter over the values seen, or `None` when one is not a number.
fn numeric(name: &str, seen: &[&str]) -> Option<Param> {
    let ints: Option<Vec<i64>> = seen.iter().map(|s| s.parse::<i64>().ok()).collect();
    if let Some(v) = ints {
        let (lo, hi) = (*v.iter().min()?, *v.iter().max()?);
        let hi = if hi == lo { lo + 1 } else { hi };
        let p = Param::int(name, lo, hi);
        return Some(if lo > 0 && hi as f64 / lo as f64 > 100.0 {
            p.log()
        } else {
            p
        });
    }
    let floats: Vec<f64> = seen
        .iter()
        .map(|s| s.parse::<f64>().ok().filter(|x| x.is_finite()))
        .collect::<Option<_>>()?;
    let lo = floats.iter().copied().fold(f64::INFINITY, f64::min);
    let hi = floats.iter().copied().fold(f64::NEG_INFINITY, f64::max);
    let hi = if hi > lo { hi } else { lo + lo.abs().max(1.0) };
    Some(if lo > 0.0 && hi / lo > 100.0 {
        Param::log_float(name, lo, hi)
    } else {
        Param::float(name, lo, hi)
    })
}

/// A condition on `parent` that holds exactly in the rows where the child is present.
fn condition(parent: &Param, cells: &[Option<String>], present: &[bool]) -> Option<Condition> {
    let values: Vec<Option<Value>> = cells
        .iter()
        .map(|c| c.as_ref().and_then(|s| parent.parse(s).ok()))
        .collect();
    // The parent must be there wherever the child is.
    if values.iter().zip(present).any(|(v, &p)| p && v.is_none()) {
        return None;
    }
    let on: Vec<&Value> = values
        .iter()
        .zip(present)
        .filter(|(_, &p)| p)
        .filter_map(|(v, _)| v.as_ref())
        .collect();
    let candidate = match &parent.kind {
        ParamKind::Categorical { .. } => {
            let mut set: Vec<Value> = Vec::new();
            for v in on {
                if !set.contains(v) {
                    set.push(v.clone());
                }
            }
            Condition::one_of(&parent.name, set)
        }
        _ => {
            let least = on
                .iter()
                .filter_map(|v| v.as_f64())
                .fold(f64::INFINITY, f64::min);
            Condition::at_least(&parent.name, least)
        }
    };
    let exact = values
        .iter()
        .zip(present)
        .all(|(v, &p)| v.as_ref().is_some_and(|v| candidate.holds(v)) == p);
    exact.then_some(candidate)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_space_is_read_off_a_csv_with_conditions() {
        let dir = std::env::temp_dir().join(format!("nasbo-infer-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let path = dir.join("t.csv");
        std::fs::write(
            &path,
            "trial,state,value,param_lr,param_depth,param_opt,param_momentum,param_w3\n\
             0,complete,0.5,0.0001,1,sgd,0.9,\n\
             1,complete,0.6,0.05,4,adam,,32\n\
             2,failed,,0.003,3,sgd,0.8,64\n",
        )
        .unwrap();
        let s = infer_space(&path).unwrap();
        let kinds: Vec<&ParamKind> = s.params().iter().map(|p| &p.kind).collect();
        assert!(
            matches!(kinds[0], ParamKind::Float { log: true, .. }),
            "{kinds:?}"
        );
        assert!(matches!(
            kinds[1],
            ParamKind::Int {
                low: 1,
                high: 4,
                ..
            }
        ));
        assert!(matches!(kinds[2], ParamKind::Categorical { .. }));
        let m = s.params()[3].condition.as_ref().unwrap();
        assert_eq!(
            (m.parent.as_str(), &m.one_of[..]),
            ("opt", &[Value::Cat("sgd".into())][..])
        );
        let w = s.params()[4].condition.as_ref().unwrap();
        assert_eq!((w.parent.as_str(), w.ge), ("depth", Some(3.0)));
        // The CSV reads back against it.
        let trials = crate::study::csv::read_trials(&s, &path).unwrap();
        assert_eq!(trials.len(), 3);
        std::fs::remove_dir_all(&dir).ok();
    }
}
