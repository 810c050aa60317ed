//! Search spaces: float (linear or log scale), integer (linear or log, optional step) and
//! categorical parameters, optionally conditional on a parent parameter. A space is built in
//! Rust or read from a TOML file, and maps each assignment to the surrogate's inputs.
//!
//! ## The file format
//!
//! One `[[param]]` table per parameter, in order:
//!
//! ```toml
//! [[param]]
//! name = "lr"
//! type = "float"          # float | int | categorical
//! low = 1e-4
//! high = 0.1
//! log = true              # optional, default false
//!
//! [[param]]
//! name = "depth"
//! type = "int"
//! low = 1
//! high = 8
//! step = 1                # optional (int only), default 1
//!
//! [[param]]
//! name = "connection"
//! type = "categorical"
//! choices = ["conv", "pool", "skip"]
//!
//! # A conditional parameter: active only when its parent takes given values.
//! [[param]]
//! name = "width3"
//! type = "int"
//! low = 16
//! high = 256
//! log = true
//! when = { param = "depth", ge = 3 }     # numeric parent: ge, gt, le, lt (combinable)
//!
//! [[param]]
//! name = "momentum"
//! type = "float"
//! low = 0.5
//! high = 0.99
//! when = { param = "optimizer", in = ["sgd"] }   # any parent: one of these values
//! ```
//!
//! The parent must come before the child. A child is active only when its parent is active
//! and satisfies the condition. An inactive parameter has no value in the trial (an empty cell
//! in the CSV) and never affects the model: its input coordinate is set to a constant.

use std::collections::BTreeMap;
use std::path::Path;

use serde::{Deserialize, Serialize};

use crate::TunerError;

mod condition;
mod file;
mod param;

pub use condition::Condition;
pub use param::{format_float, Param, ParamKind, Value};

/// An ordered list of parameters, checked: a space read back with serde is checked as well.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(try_from = "SpaceData")]
pub struct Space {
    params: Vec<Param>,
}

/// A space as serialized, before its check.
#[derive(Deserialize)]
struct SpaceData {
    params: Vec<Param>,
}

impl TryFrom<SpaceData> for Space {
    type Error = TunerError;
    fn try_from(d: SpaceData) -> Result<Self, TunerError> {
        Space::new(d.params)
    }
}

/// A trial's parameter values, aligned with the space: `None` where inactive.
pub type Assignment = Vec<Option<Value>>;

impl Space {
    /// A space, checked.
    pub fn new(params: Vec<Param>) -> Result<Self, TunerError> {
        let s = Space { params };
        s.check()?;
        Ok(s)
    }

    /// Checks every parameter, names and conditions.
    pub fn check(&self) -> Result<(), TunerError> {
        if self.params.is_empty() {
            return Err(TunerError::SpaceFile("the space has no parameter".into()));
        }
        for (i, p) in self.params.iter().enumerate() {
            p.check()?;
            if self.params[..i].iter().any(|q| q.name == p.name) {
                return Err(TunerError::InvalidParam {
                    param: p.name.clone(),
                    reason: "the name is used twice".into(),
                });
            }
            if let Some(c) = &p.condition {
                let parent = self.params[..i].iter().find(|q| q.name == c.parent);
                let bad = |reason: String| {
                    Err(TunerError::InvalidParam {
                        param: p.name.clone(),
                        reason,
                    })
                };
                let Some(parent) = parent else {
                    return bad(format!(
                        "its condition names `{}`, which is not a parameter defined before it",
                        c.parent
                    ));
                };
                for v in &c.one_of {
                    if parent.validate(v).is_err() {
                        return bad(format!(
                            "its condition's value {v} is not a value of `{}`",
                            parent.name
                        ));
                    }
                }
                let numeric = c.has_bounds();
                if numeric && matches!(parent.kind, ParamKind::Categorical { .. }) {
                    return bad(format!(
                        "ge/gt/le/lt need a numeric parent; `{}` is categorical (use `in`)",
                        parent.name
                    ));
                }
                if c.one_of.is_empty() && !numeric {
                    return bad("its condition needs `in`, `ge`, `gt`, `le` or `lt`".into());
                }
                for b in [c.ge, c.gt, c.le, c.lt].into_iter().flatten() {
                    if !b.is_finite() {
                        return bad(format!("its condition's bound {b} is not finite"));
                    }
                }
                if !c.can_hold(parent) {
                    return bad(format!(
                        "its condition on `{}` can never hold for the values `{}` takes",
                        parent.name, parent.name
                    ));
                }
            }
        }
        Ok(())
    }

    /// Reads a space from TOML text (the format above).
    pub fn from_toml(text: &str) -> Result<Self, TunerError> {
        file::from_toml(text)
    }

    /// Reads a space from a TOML file.
    pub fn from_file(path: &Path) -> Result<Self, TunerError> {
        let text = std::fs::read_to_string(path).map_err(|source| TunerError::Io {
            path: path.display().to_string(),
            source,
        })?;
        Space::from_toml(&text).map_err(|e| match e {
            TunerError::SpaceFile(m) => TunerError::SpaceFile(format!("{}: {m}", path.display())),
            TunerError::InvalidParam { param, reason } => TunerError::InvalidParam {
                param,
                reason: format!("{reason} (in {})", path.display()),
            },
            other => other,
        })
    }

    /// The parameters.
    pub fn params(&self) -> &[Param] {
        &self.params
    }
    /// Number of parameters.
    pub fn len(&self) -> usize {
        self.params.len()
    }
    /// Whether the space is empty (never, once checked).
    pub fn is_empty(&self) -> bool {
        self.params.is_empty()
    }
    /// The index of the parameter called `name`.
    pub fn index(&self, name: &str) -> Option<usize> {
        self.params.iter().position(|p| p.name == name)
    }

    /// Which parameters are active given (possibly partial) values: a parameter is active when
    /// it has no condition, or its parent is active and satisfies it.
    pub fn active(&self, values: &[Option<Value>]) -> Vec<bool> {
        let mut active = vec![false; self.params.len()];
        for (i, p) in self.params.iter().enumerate() {
            active[i] = match &p.condition {
                None => true,
                Some(c) => {
                    let j = self.index(&c.parent).unwrap_or(i);
                    j < i
                        && active[j]
                        && values
                            .get(j)
                            .and_then(|v| v.as_ref())
                            .is_some_and(|v| c.holds(v))
                }
            };
        }
        active
    }

    /// Builds a full assignment from one value per parameter (e.g. drawn at random), dropping
    /// the values of inactive parameters.
    pub fn assign(&self, mut values: Vec<Value>) -> Assignment {
        let full: Vec<Option<Value>> = values.drain(..).map(Some).collect();
        let active = self.active(&full);
        full.into_iter()
            .zip(active)
            .map(|(v, a)| if a { v } else { None })
            .collect()
    }

    /// Checks an assignment: every active parameter has a valid value, inactive ones none.
    pub fn validate(&self, a: &Assignment) -> Result<(), TunerError> {
        if a.len() != self.params.len() {
            return Err(TunerError::InvalidConfig {
                name: "assignment",
                value: format!("{} values", a.len()),
                reason: format!("the space has {} parameters", self.params.len()),
            });
        }
        let active = self.active(a);
        for ((p, v), act) in self.params.iter().zip(a).zip(active) {
            match (v, act) {
                (Some(v), true) => p.validate(v)?,
                (None, false) => {}
                (None, true) => {
                    return Err(TunerError::InvalidValue {
                        param: p.name.clone(),
                        value: "(none)".into(),
                        reason: "is missing, and the parameter is active".into(),
                    })
                }
                (Some(v), false) => {
                    return Err(TunerError::InvalidValue {
                        param: p.name.clone(),
                        value: v.to_string(),
                        reason: "is given, but the parameter's condition does not hold".into(),
                    })
                }
            }
        }
        Ok(())
    }

    /// The assignment as a JSON object of the active parameters.
    pub fn to_json(&self, a: &Assignment) -> serde_json::Value {
        let mut m = serde_json::Map::new();
        for (p, v) in self.params.iter().zip(a) {
            if let Some(v) = v {
                m.insert(p.name.clone(), v.to_json());
            }
        }
        serde_json::Value::Object(m)
    }

    /// The assignment as a name → value map of the active parameters.
    pub fn to_map(&self, a: &Assignment) -> BTreeMap<String, Value> {
        self.params
            .iter()
            .zip(a)
            .filter_map(|(p, v)| v.clone().map(|v| (p.name.clone(), v)))
            .collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_deserialized_space_is_checked() {
        let good = Space::new(vec![Param::float("x", 0.0, 1.0)]).unwrap();
        let text = serde_json::to_string(&good).unwrap();
        let back: Space = serde_json::from_str(&text).unwrap();
        assert_eq!(back, good);
        let bad = text.replace("1.0", "-1.0");
        let err = serde_json::from_str::<Space>(&bad).unwrap_err().to_string();
        assert!(
            err.contains("parameter `x`: low (0) must be below high (-1)"),
            "{err}"
        );
        assert!(serde_json::from_str::<Space>(r#"{"params": []}"#).is_err());
    }
}
