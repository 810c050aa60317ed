//! When a conditional parameter is active: a [`Condition`] on a parent parameter.

use serde::{Deserialize, Serialize};

use super::param::{Param, ParamKind, Value};

/// When a conditional parameter is active.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Condition {
    /// The parent parameter's name.
    pub parent: String,
    /// Active when the parent's value is one of these (empty: no such constraint).
    pub one_of: Vec<Value>,
    /// Active when the (numeric) parent is ≥ this.
    pub ge: Option<f64>,
    /// Active when the parent is > this.
    pub gt: Option<f64>,
    /// Active when the parent is ≤ this.
    pub le: Option<f64>,
    /// Active when the parent is < this.
    pub lt: Option<f64>,
}

impl Condition {
    /// Active when the parent is one of `values`.
    pub fn one_of(parent: &str, values: Vec<Value>) -> Self {
        Condition {
            parent: parent.into(),
            one_of: values,
            ge: None,
            gt: None,
            le: None,
            lt: None,
        }
    }
    /// Active when the numeric parent is ≥ `bound`.
    pub fn at_least(parent: &str, bound: f64) -> Self {
        Condition {
            ge: Some(bound),
            ..Condition::one_of(parent, vec![])
        }
    }

    /// Whether any bound (`ge`, `gt`, `le`, `lt`) is set.
    pub fn has_bounds(&self) -> bool {
        self.ge.is_some() || self.gt.is_some() || self.le.is_some() || self.lt.is_some()
    }

    /// Whether a parent value satisfies the condition.
    pub fn holds(&self, parent: &Value) -> bool {
        if !self.one_of.is_empty() && !self.one_of.iter().any(|v| values_equal(v, parent)) {
            return false;
        }
        let num = parent.as_f64();
        let check = |bound: Option<f64>, ok: fn(f64, f64) -> bool| match (bound, num) {
            (None, _) => true,
            (Some(b), Some(v)) => ok(v, b),
            (Some(_), None) => false,
        };
        check(self.ge, |v, b| v >= b)
            && check(self.gt, |v, b| v > b)
            && check(self.le, |v, b| v <= b)
            && check(self.lt, |v, b| v < b)
    }

    /// Whether some value of `parent`'s domain satisfies the condition.
    pub fn can_hold(&self, parent: &Param) -> bool {
        if !self.one_of.is_empty() {
            return self.one_of.iter().any(|v| self.holds(v));
        }
        match &parent.kind {
            ParamKind::Categorical { choices } => {
                choices.iter().any(|c| self.holds(&Value::Cat(c.clone())))
            }
            ParamKind::Float { low, high, .. } => {
                // The interval [low, high] cut by the bounds.
                let lo = self.ge.map_or(*low, |g| g.max(*low));
                let hi = self.le.map_or(*high, |l| l.min(*high));
                let open_lo = self.gt.is_some_and(|g| g >= lo);
                let lo = self.gt.map_or(lo, |g| g.max(lo));
                let open_hi = self.lt.is_some_and(|l| l <= hi);
                let hi = self.lt.map_or(hi, |l| l.min(hi));
                lo < hi || (lo == hi && !open_lo && !open_hi)
            }
            ParamKind::Int {
                low, high, step, ..
            } => {
                // The smallest admissible value at or above the lower bounds.
                let mut from = *low as f64;
                if let Some(g) = self.ge {
                    from = from.max(g.ceil());
                }
                if let Some(g) = self.gt {
                    from = from.max(g.floor() + 1.0);
                }
                if from > *high as f64 {
                    return false;
                }
                let k = ((from - *low as f64) / *step as f64).ceil().max(0.0) as u64;
                let v = Param::int_value(*low, *high, *step, k);
                (v as f64) >= from && self.holds(&Value::Int(v))
            }
        }
    }
}

fn values_equal(a: &Value, b: &Value) -> bool {
    match (a, b) {
        (Value::Cat(x), Value::Cat(y)) => x == y,
        (Value::Cat(_), _) | (_, Value::Cat(_)) => false,
        _ => a.as_f64() == b.as_f64(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn conditions_that_can_never_hold_are_detected() {
        let depth = Param::int("depth", 1, 8);
        assert!(Condition::at_least("depth", 3.0).can_hold(&depth));
        assert!(Condition::at_least("depth", 8.0).can_hold(&depth));
        assert!(!Condition::at_least("depth", 9.0).can_hold(&depth));
        let between = Condition {
            gt: Some(3.0),
            lt: Some(4.0),
            ..Condition::one_of("depth", vec![])
        };
        assert!(
            !between.can_hold(&depth),
            "no integer strictly between 3 and 4"
        );
        let even = Param::int("n", 0, 10).step(2);
        let odd_only = Condition {
            ge: Some(3.0),
            le: Some(3.5),
            ..Condition::one_of("n", vec![])
        };
        assert!(!odd_only.can_hold(&even));
        let x = Param::float("x", 0.0, 1.0);
        assert!(!Condition::at_least("x", 1.5).can_hold(&x));
        assert!(Condition::at_least("x", 1.0).can_hold(&x));
        let open = Condition {
            gt: Some(1.0),
            ..Condition::one_of("x", vec![])
        };
        assert!(!open.can_hold(&x));
        let both = Condition {
            ge: Some(5.0),
            ..Condition::one_of("depth", vec![Value::Int(2), Value::Int(3)])
        };
        assert!(!both.can_hold(&depth));
    }
}
