//! One parameter: its [`Value`]s, its domain ([`ParamKind`]) and the maps between its values,
//! text and the unit interval.

use std::fmt;

use serde::{Deserialize, Serialize};

use super::condition::Condition;
use crate::TunerError;

/// The value of one parameter in a trial.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(untagged)]
pub enum Value {
    /// An integer parameter's value.
    Int(i64),
    /// A float parameter's value.
    Float(f64),
    /// A categorical parameter's choice.
    Cat(String),
}

impl Value {
    /// The value as a number (`None` for a category).
    pub fn as_f64(&self) -> Option<f64> {
        match self {
            Value::Int(i) => Some(*i as f64),
            Value::Float(f) => Some(*f),
            Value::Cat(_) => None,
        }
    }
    /// The value as JSON.
    pub fn to_json(&self) -> serde_json::Value {
        match self {
            Value::Int(i) => serde_json::Value::from(*i),
            Value::Float(f) => serde_json::Value::from(*f),
            Value::Cat(s) => serde_json::Value::from(s.clone()),
        }
    }
}

/// A float written in the shortest form that reads back to the same number, with an exponent
/// when it is very small or very large (`1e-300`, not three hundred zeros).
pub fn format_float(x: f64) -> String {
    let a = x.abs();
    if x == 0.0 || !x.is_finite() || (1e-5..1e16).contains(&a) {
        format!("{x}")
    } else {
        format!("{x:e}")
    }
}

impl fmt::Display for Value {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Value::Int(i) => write!(f, "{i}"),
            Value::Float(x) => f.write_str(&format_float(*x)),
            Value::Cat(s) => write!(f, "{s}"),
        }
    }
}

/// The domain of one parameter.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub enum ParamKind {
    /// A real number in `[low, high]`, on a log scale when `log`.
    Float {
        /// Lower bound.
        low: f64,
        /// Upper bound.
        high: f64,
        /// Log scale (needs `low > 0`).
        log: bool,
    },
    /// An integer in `low, low + step, …, ≤ high`, on a log scale when `log`.
    Int {
        /// Lower bound.
        low: i64,
        /// Upper bound.
        high: i64,
        /// Log scale (needs `low > 0`).
        log: bool,
        /// Spacing (≥ 1).
        step: i64,
    },
    /// One of these unordered choices.
    Categorical {
        /// The choices (distinct, at least one).
        choices: Vec<String>,
    },
}

/// One parameter of a space.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Param {
    /// Its name (letters, digits, `_`, `-`, `.`).
    pub name: String,
    /// Its domain.
    pub kind: ParamKind,
    /// When it is active (`None`: always).
    pub condition: Option<Condition>,
}

impl Param {
    /// A float parameter on a linear scale.
    pub fn float(name: &str, low: f64, high: f64) -> Self {
        Param {
            name: name.into(),
            kind: ParamKind::Float {
                low,
                high,
                log: false,
            },
            condition: None,
        }
    }
    /// A float parameter on a log scale.
    pub fn log_float(name: &str, low: f64, high: f64) -> Self {
        Param {
            name: name.into(),
            kind: ParamKind::Float {
                low,
                high,
                log: true,
            },
            condition: None,
        }
    }
    /// An integer parameter with step 1.
    pub fn int(name: &str, low: i64, high: i64) -> Self {
        Param {
            name: name.into(),
            kind: ParamKind::Int {
                low,
                high,
                log: false,
                step: 1,
            },
            condition: None,
        }
    }
    /// A categorical parameter.
    pub fn categorical(name: &str, choices: &[&str]) -> Self {
        Param {
            name: name.into(),
            kind: ParamKind::Categorical {
                choices: choices.iter().map(|c| c.to_string()).collect(),
            },
            condition: None,
        }
    }
    /// Puts the parameter on a log scale (float and int).
    pub fn log(mut self) -> Self {
        match &mut self.kind {
            ParamKind::Float { log, .. } | ParamKind::Int { log, .. } => *log = true,
            ParamKind::Categorical { .. } => {}
        }
        self
    }
    /// Sets an integer parameter's step.
    pub fn step(mut self, s: i64) -> Self {
        if let ParamKind::Int { step, .. } = &mut self.kind {
            *step = s;
        }
        self
    }
    /// Makes the parameter conditional.
    pub fn when(mut self, condition: Condition) -> Self {
        self.condition = Some(condition);
        self
    }

    /// Number of admissible values of an integer parameter `low, low + step, …, ≤ high`
    /// (saturating at `u64::MAX`; 0 for an empty range). Exact for every `i64` range.
    pub fn int_count(low: i64, high: i64, step: i64) -> u64 {
        if high < low || step < 1 {
            return 0;
        }
        let n = (high as i128 - low as i128) / step as i128 + 1;
        u64::try_from(n).unwrap_or(u64::MAX)
    }

    /// The `k`-th admissible value of an integer parameter (`low + k · step`, clamped to the
    /// range), computed without overflow.
    pub(crate) fn int_value(low: i64, high: i64, step: i64, k: u64) -> i64 {
        let v = low as i128 + k as i128 * step as i128;
        v.clamp(low as i128, high as i128) as i64
    }

    /// Checks the parameter's own domain.
    pub(crate) fn check(&self) -> Result<(), TunerError> {
        let bad = |reason: String| {
            Err(TunerError::InvalidParam {
                param: self.name.clone(),
                reason,
            })
        };
        if self.name.is_empty()
            || !self
                .name
                .chars()
                .all(|c| c.is_ascii_alphanumeric() || matches!(c, '_' | '-' | '.'))
        {
            return bad("a name may only hold letters, digits, `_`, `-` and `.`".into());
        }
        match &self.kind {
            ParamKind::Float { low, high, log } => {
                if !low.is_finite() || !high.is_finite() {
                    return bad(format!("bounds must be finite, got [{low}, {high}]"));
                }
                if low >= high {
                    return bad(format!("low ({low}) must be below high ({high})"));
                }
                if *log && *low <= 0.0 {
                    return bad(format!("a log-scale parameter needs low > 0, got {low}"));
                }
            }
            ParamKind::Int {
                low,
                high,
                log,
                step,
            } => {
                if low >= high {
                    return bad(format!("low ({low}) must be below high ({high})"));
                }
                if *step < 1 {
                    return bad(format!("step must be at least 1, got {step}"));
                }
                if Param::int_count(*low, *high, *step) < 2 {
                    return bad(format!(
                        "step {step} leaves one value ({low}) between low and high ({high})"
                    ));
                }
                if *log && *low <= 0 {
                    return bad(format!("a log-scale parameter needs low > 0, got {low}"));
                }
                if *log && *step != 1 {
                    return bad("a log-scale integer cannot have a step".into());
                }
            }
            ParamKind::Categorical { choices } => {
                if choices.is_empty() {
                    return bad("no choices".into());
                }
                for (i, c) in choices.iter().enumerate() {
                    if choices[..i].contains(c) {
                        return bad(format!("choice `{c}` appears twice"));
                    }
                    if c.is_empty() {
                        return bad("an empty choice".into());
                    }
                }
            }
        }
        Ok(())
    }

    /// Checks that `v` belongs to the domain.
    pub fn validate(&self, v: &Value) -> Result<(), TunerError> {
        let bad = |reason: &str| {
            Err(TunerError::InvalidValue {
                param: self.name.clone(),
                value: v.to_string(),
                reason: reason.into(),
            })
        };
        match (&self.kind, v) {
            (ParamKind::Float { low, high, .. }, Value::Float(x)) => {
                if !(x.is_finite() && x >= low && x <= high) {
                    return bad(&format!("is outside [{low}, {high}]"));
                }
            }
            (ParamKind::Float { low, high, .. }, Value::Int(i)) => {
                let x = *i as f64;
                if !(x >= *low && x <= *high) {
                    return bad(&format!("is outside [{low}, {high}]"));
                }
            }
            (
                ParamKind::Int {
                    low, high, step, ..
                },
                Value::Int(i),
            ) => {
                let off = *i as i128 - *low as i128;
                if i < low || i > high || off % (*step).max(1) as i128 != 0 {
                    let second = Param::int_value(*low, *high, *step, 1);
                    return bad(&format!("is not one of {low}, {second}, …, ≤ {high}"));
                }
            }
            (ParamKind::Categorical { choices }, Value::Cat(c)) => {
                if !choices.contains(c) {
                    return bad(&format!("is not one of {}", choices.join(", ")));
                }
            }
            _ => return bad("has the wrong type"),
        }
        Ok(())
    }

    /// Parses a value written as text (CSV cells, command lines).
    pub fn parse(&self, text: &str) -> Result<Value, TunerError> {
        let t = text.trim();
        let v = match &self.kind {
            ParamKind::Float { .. } => {
                Value::Float(t.parse::<f64>().map_err(|_| TunerError::InvalidValue {
                    param: self.name.clone(),
                    value: t.into(),
                    reason: "is not a number".into(),
                })?)
            }
            ParamKind::Int { .. } => {
                let i = t.parse::<i64>().or_else(|_| {
                    // Accept "3.0".
                    t.parse::<f64>()
                        .ok()
                        .filter(|f| f.fract() == 0.0 && f.abs() < 9e15)
                        .map(|f| f as i64)
                        .ok_or(())
                });
                Value::Int(i.map_err(|_| TunerError::InvalidValue {
                    param: self.name.clone(),
                    value: t.into(),
                    reason: "is not an integer".into(),
                })?)
            }
            ParamKind::Categorical { .. } => Value::Cat(t.to_string()),
        };
        self.validate(&v)?;
        Ok(v)
    }

    /// The value at position `u ∈ [0, 1]` (uniform on the parameter's scale).
    pub fn from_unit(&self, u: f64) -> Value {
        let u = if u.is_nan() { 0.0 } else { u.clamp(0.0, 1.0) };
        match &self.kind {
            ParamKind::Float { low, high, log } => {
                let v = if *log {
                    (low.ln() + u * (high.ln() - low.ln())).exp()
                } else {
                    low + u * (high - low)
                };
                Value::Float(v.clamp(*low, *high))
            }
            ParamKind::Int {
                low,
                high,
                log,
                step,
            } => {
                if *log {
                    // Uniform on the log scale over [low − ½, high + ½], rounded.
                    let (a, b) = ((*low as f64 - 0.5).max(0.5).ln(), (*high as f64 + 0.5).ln());
                    let v = (a + u * (b - a)).exp().round() as i64;
                    Value::Int(v.clamp(*low, *high))
                } else {
                    let count = Self::int_count(*low, *high, *step).max(1);
                    let k = ((u * count as f64) as u64).min(count - 1);
                    Value::Int(Self::int_value(*low, *high, *step, k))
                }
            }
            ParamKind::Categorical { choices } => {
                let n = choices.len().max(1);
                let k = ((u * n as f64) as usize).min(n - 1);
                Value::Cat(choices.get(k).cloned().unwrap_or_default())
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn values_are_validated_and_parsed() {
        let p = Param::int("n", 2, 10).step(2);
        assert!(p.validate(&Value::Int(4)).is_ok());
        assert!(p.validate(&Value::Int(5)).is_err());
        assert!(p.validate(&Value::Int(12)).is_err());
        assert_eq!(p.parse("6").unwrap(), Value::Int(6));
        assert_eq!(p.parse("6.0").unwrap(), Value::Int(6));
        assert!(p.parse("x").is_err());
        let f = Param::log_float("lr", 1e-3, 1.0);
        assert!(f.parse("2").is_err());
        assert!(f.parse("nan").is_err());
        for k in 0..=10 {
            let v = f.from_unit(k as f64 / 10.0);
            assert!(f.validate(&v).is_ok(), "{v}");
            let w = p.from_unit(k as f64 / 10.0);
            assert!(p.validate(&w).is_ok(), "{w}");
        }
        let li = Param::int("w", 1, 1000).log();
        for k in 0..=20 {
            assert!(li.validate(&li.from_unit(k as f64 / 20.0)).is_ok());
        }
    }

    #[test]
    fn extreme_integer_ranges_do_not_overflow() {
        let p = Param::int("n", i64::MIN, i64::MAX);
        p.check().unwrap();
        assert_eq!(Param::int_count(i64::MIN, i64::MAX, 1), u64::MAX);
        assert_eq!(Param::int_count(i64::MIN, i64::MAX, i64::MAX), 3);
        for u in [0.0, 0.3, 1.0] {
            p.validate(&p.from_unit(u)).unwrap();
        }
        let q = Param::int("m", i64::MAX - 10, i64::MAX).step(7);
        q.check().unwrap();
        let err = q.validate(&Value::Int(i64::MAX)).unwrap_err().to_string();
        assert!(err.contains("is not one of"), "{err}");
        // A step that leaves one value is refused (an empty dimension for the optimizer).
        assert!(Param::int("k", 0, 3).step(5).check().is_err());
    }

    #[test]
    fn floats_print_in_short_round_trip_form() {
        assert_eq!(Value::Float(1e-300).to_string(), "1e-300");
        assert_eq!(Value::Float(0.001).to_string(), "0.001");
        assert_eq!(Value::Float(2.5e20).to_string(), "2.5e20");
        for x in [1e-300, 0.1 + 0.2, 123456.789, -4.2e-9, 3.0] {
            assert_eq!(format_float(x).parse::<f64>().unwrap(), x);
        }
    }
}
