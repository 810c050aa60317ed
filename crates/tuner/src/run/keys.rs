//! Several objectives read from one evaluation's output: `--objective KEY:DIRECTION`, each KEY
//! `value` or a numeric key of the output ([`ObjectiveKey`], [`pick_values`]).

use crate::trial::Direction;
use crate::TunerError;

/// One objective: the output key it is read from and which way is better.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ObjectiveKey {
    /// `value`, or a numeric key of the output.
    pub key: String,
    /// Which way is better.
    pub direction: Direction,
}

impl ObjectiveKey {
    /// Parses `KEY:DIRECTION` (`accuracy:maximize`, `latency_ms:min`).
    ///
    /// ```
    /// use nasbo_tuner::run::ObjectiveKey;
    /// use nasbo_tuner::Direction;
    /// let o = ObjectiveKey::parse("latency_ms:minimize")?;
    /// assert_eq!((o.key.as_str(), o.direction), ("latency_ms", Direction::Minimize));
    /// assert!(ObjectiveKey::parse("latency_ms:smaller").is_err());
    /// # Ok::<(), nasbo_tuner::TunerError>(())
    /// ```
    pub fn parse(spec: &str) -> Result<Self, TunerError> {
        let bad = |reason: String| TunerError::InvalidConfig {
            name: "objective",
            value: format!("`{spec}`"),
            reason,
        };
        let Some((key, dir)) = spec.rsplit_once(':') else {
            return Err(bad(
                "expected KEY:DIRECTION, e.g. accuracy:maximize or latency_ms:minimize".into(),
            ));
        };
        let key = key.trim();
        if key.is_empty() || key.contains([',', '\n', '\r', '"', ' ']) {
            return Err(bad(format!(
                "the key `{key}` must be a non-empty name without spaces, commas or quotes"
            )));
        }
        let direction = Direction::parse(dir.trim()).ok_or_else(|| {
            bad(format!(
                "unknown direction `{}`: use minimize or maximize",
                dir.trim()
            ))
        })?;
        Ok(ObjectiveKey {
            key: key.to_string(),
            direction,
        })
    }

    /// Parses every spec, refusing a key given twice.
    pub fn parse_all(specs: &[String]) -> Result<Vec<Self>, TunerError> {
        let mut out: Vec<ObjectiveKey> = Vec::with_capacity(specs.len());
        for s in specs {
            let o = ObjectiveKey::parse(s)?;
            if out.iter().any(|p| p.key == o.key) {
                return Err(TunerError::InvalidConfig {
                    name: "objective",
                    value: format!("`{s}`"),
                    reason: format!("the key `{}` is given twice", o.key),
                });
            }
            out.push(o);
        }
        Ok(out)
    }
}

/// The objectives' values from an evaluation's output: `value` (or one of `aliases`) is the
/// output's value, any other key a numeric key among `metrics`. A key the output does not
/// have is an error that names it and the keys it has.
pub fn pick_values(
    keys: &[String],
    value: Option<f64>,
    metrics: &[(String, f64)],
    aliases: &[&str],
) -> Result<Vec<f64>, String> {
    keys.iter()
        .map(|k| {
            let found = if k == "value" || aliases.contains(&k.as_str()) {
                value
            } else {
                None
            };
            found
                .or_else(|| metrics.iter().find(|(n, _)| n == k).map(|(_, v)| *v))
                .ok_or_else(|| {
                    let mut have: Vec<&str> = value.map(|_| "value").into_iter().collect();
                    have.extend(aliases.iter().copied().filter(|_| value.is_some()));
                    have.extend(metrics.iter().map(|(n, _)| n.as_str()));
                    format!(
                        "the output has no numeric `{k}` (objective {k}); its numeric keys: {}",
                        if have.is_empty() {
                            "none".to_string()
                        } else {
                            have.join(", ")
                        }
                    )
                })
        })
        .collect()
}

/// `metrics` with each objective that is not among them (`value`, an alias) added under its
/// key, so that every objective has its `metric_KEY` column.
pub fn with_objective_metrics(
    keys: &[String],
    values: &[f64],
    mut metrics: Vec<(String, f64)>,
) -> Vec<(String, f64)> {
    for (k, v) in keys.iter().zip(values) {
        if !metrics.iter().any(|(n, _)| n == k) {
            metrics.push((k.clone(), *v));
        }
    }
    metrics
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn specs_parse_and_bad_ones_are_named() {
        let all = ObjectiveKey::parse_all(&["f1:minimize".into(), "acc:max".into()]).unwrap();
        assert_eq!(all[1].direction, Direction::Maximize);
        let e = ObjectiveKey::parse_all(&["f1:minimize".into(), "f1:maximize".into()]).unwrap_err();
        assert!(e.to_string().contains("`f1` is given twice"), "{e}");
        let e = ObjectiveKey::parse("f1:down").unwrap_err().to_string();
        assert!(e.contains("unknown direction `down`"), "{e}");
        assert!(ObjectiveKey::parse("f1")
            .unwrap_err()
            .to_string()
            .contains("KEY:DIRECTION"));
        assert!(ObjectiveKey::parse(":min").is_err());
    }

    #[test]
    fn values_come_from_the_keys_and_a_missing_key_is_named() {
        let m = vec![("f1".to_string(), 1.0), ("f2".to_string(), 2.0)];
        let keys = |k: &[&str]| k.iter().map(|s| s.to_string()).collect::<Vec<_>>();
        assert_eq!(
            pick_values(&keys(&["f2", "f1"]), None, &m, &[]).unwrap(),
            vec![2.0, 1.0]
        );
        assert_eq!(
            pick_values(
                &keys(&["val_accuracy", "f1"]),
                Some(0.9),
                &m,
                &["val_accuracy"]
            )
            .unwrap(),
            vec![0.9, 1.0]
        );
        let e = pick_values(&keys(&["f1", "latency"]), None, &m, &[]).unwrap_err();
        assert!(
            e.contains("no numeric `latency`") && e.contains("f1, f2"),
            "{e}"
        );
    }
}
