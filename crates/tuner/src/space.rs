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
use std::fmt;
use std::path::Path;

use serde::{Deserialize, Serialize};

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

impl fmt::Display for Value {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Value::Int(i) => write!(f, "{i}"),
            Value::Float(x) => write!(f, "{x}"),
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
}

fn values_equal(a: &Value, b: &Value) -> bool {
    match (a, b) {
        (Value::Cat(x), Value::Cat(y)) => x == y,
        (Value::Cat(_), _) | (_, Value::Cat(_)) => false,
        _ => a.as_f64() == b.as_f64(),
    }
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

    /// Number of admissible values of an integer parameter.
    pub(crate) fn int_count(low: i64, high: i64, step: i64) -> i64 {
        (high - low) / step + 1
    }

    /// Checks the parameter's own domain.
    fn check(&self) -> Result<(), TunerError> {
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
                if i < low || i > high || (i - low) % step != 0 {
                    return bad(&format!("is not one of {low}, {}, …, ≤ {high}", low + step));
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
        let u = u.clamp(0.0, 1.0);
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
                    let count = Self::int_count(*low, *high, *step);
                    let k = ((u * count as f64) as i64).min(count - 1);
                    Value::Int(low + k * step)
                }
            }
            ParamKind::Categorical { choices } => {
                let k = ((u * choices.len() as f64) as usize).min(choices.len() - 1);
                Value::Cat(choices[k].clone())
            }
        }
    }
}

/// An ordered list of parameters.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Space {
    params: Vec<Param>,
}

/// A trial's parameter values, aligned with the space: `None` where inactive.
pub type Assignment = Vec<Option<Value>>;

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct FileSpace {
    #[serde(default)]
    param: Vec<toml::Table>,
}

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
                let numeric = c.ge.is_some() || c.gt.is_some() || c.le.is_some() || c.lt.is_some();
                if numeric && matches!(parent.kind, ParamKind::Categorical { .. }) {
                    return bad(format!(
                        "ge/gt/le/lt need a numeric parent; `{}` is categorical (use `in`)",
                        parent.name
                    ));
                }
                if c.one_of.is_empty() && !numeric {
                    return bad("its condition needs `in`, `ge`, `gt`, `le` or `lt`".into());
                }
            }
        }
        Ok(())
    }

    /// Reads a space from TOML text.
    pub fn from_toml(text: &str) -> Result<Self, TunerError> {
        let file: FileSpace =
            toml::from_str(text).map_err(|e| TunerError::SpaceFile(e.message().to_string()))?;
        let mut params = Vec::with_capacity(file.param.len());
        for (i, t) in file.param.iter().enumerate() {
            params.push(param_from_table(i, t)?);
        }
        Space::new(params)
    }

    /// Reads a space from a TOML file.
    pub fn from_file(path: &Path) -> Result<Self, TunerError> {
        let text = std::fs::read_to_string(path).map_err(|source| TunerError::Io {
            path: path.display().to_string(),
            source,
        })?;
        Space::from_toml(&text).map_err(|e| match e {
            TunerError::SpaceFile(m) => TunerError::SpaceFile(format!("{}: {m}", path.display())),
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

fn param_from_table(i: usize, t: &toml::Table) -> Result<Param, TunerError> {
    let name = match t.get("name") {
        Some(toml::Value::String(s)) => s.clone(),
        Some(_) => {
            return Err(TunerError::InvalidParam {
                param: format!("#{}", i + 1),
                reason: "`name` must be a string".into(),
            })
        }
        None => {
            return Err(TunerError::InvalidParam {
                param: format!("#{}", i + 1),
                reason: "no `name`".into(),
            })
        }
    };
    let bad = |reason: String| TunerError::InvalidParam {
        param: name.clone(),
        reason,
    };
    let ty = match t.get("type") {
        Some(toml::Value::String(s)) => s.as_str(),
        Some(_) => return Err(bad("`type` must be a string".into())),
        None => return Err(bad("no `type` (float, int or categorical)".into())),
    };
    let allowed: &[&str] = match ty {
        "float" => &["name", "type", "low", "high", "log", "when"],
        "int" => &["name", "type", "low", "high", "log", "step", "when"],
        "categorical" => &["name", "type", "choices", "when"],
        other => {
            return Err(bad(format!(
                "unknown type `{other}` (float, int or categorical)"
            )))
        }
    };
    for key in t.keys() {
        if !allowed.contains(&key.as_str()) {
            return Err(bad(format!(
                "unknown key `{key}` for a {ty} parameter (allowed: {})",
                allowed.join(", ")
            )));
        }
    }
    let num = |key: &str| -> Result<f64, TunerError> {
        match t.get(key) {
            Some(toml::Value::Float(f)) => Ok(*f),
            Some(toml::Value::Integer(i)) => Ok(*i as f64),
            Some(_) => Err(bad(format!("`{key}` must be a number"))),
            None => Err(bad(format!("no `{key}`"))),
        }
    };
    let int = |key: &str| -> Result<i64, TunerError> {
        match t.get(key) {
            Some(toml::Value::Integer(i)) => Ok(*i),
            Some(toml::Value::Float(f)) if f.fract() == 0.0 && f.abs() < 9e15 => Ok(*f as i64),
            Some(_) => Err(bad(format!("`{key}` must be an integer"))),
            None => Err(bad(format!("no `{key}`"))),
        }
    };
    let log = match t.get("log") {
        None => false,
        Some(toml::Value::Boolean(b)) => *b,
        Some(_) => return Err(bad("`log` must be true or false".into())),
    };
    let kind = match ty {
        "float" => ParamKind::Float {
            low: num("low")?,
            high: num("high")?,
            log,
        },
        "int" => ParamKind::Int {
            low: int("low")?,
            high: int("high")?,
            log,
            step: if t.contains_key("step") {
                int("step")?
            } else {
                1
            },
        },
        _ => {
            let choices = match t.get("choices") {
                Some(toml::Value::Array(a)) => a
                    .iter()
                    .map(|v| match v {
                        toml::Value::String(s) => Ok(s.clone()),
                        toml::Value::Integer(i) => Ok(i.to_string()),
                        toml::Value::Float(f) => Ok(f.to_string()),
                        toml::Value::Boolean(b) => Ok(b.to_string()),
                        _ => Err(bad("choices must be strings or numbers".into())),
                    })
                    .collect::<Result<Vec<_>, _>>()?,
                Some(_) => return Err(bad("`choices` must be a list".into())),
                None => return Err(bad("no `choices`".into())),
            };
            ParamKind::Categorical { choices }
        }
    };
    let condition = match t.get("when") {
        None => None,
        Some(toml::Value::Table(w)) => Some(condition_from_table(w, &bad)?),
        Some(_) => {
            return Err(bad(
                "`when` must be a table, e.g. { param = \"depth\", ge = 3 }".into(),
            ))
        }
    };
    Ok(Param {
        name,
        kind,
        condition,
    })
}

fn condition_from_table(
    w: &toml::Table,
    bad: &dyn Fn(String) -> TunerError,
) -> Result<Condition, TunerError> {
    for key in w.keys() {
        if !["param", "in", "ge", "gt", "le", "lt"].contains(&key.as_str()) {
            return Err(bad(format!(
                "unknown key `{key}` in `when` (allowed: param, in, ge, gt, le, lt)"
            )));
        }
    }
    let parent = match w.get("param") {
        Some(toml::Value::String(s)) => s.clone(),
        _ => return Err(bad("`when` needs `param`, the parent's name".into())),
    };
    let bound = |k: &str| -> Result<Option<f64>, TunerError> {
        match w.get(k) {
            None => Ok(None),
            Some(toml::Value::Integer(i)) => Ok(Some(*i as f64)),
            Some(toml::Value::Float(f)) => Ok(Some(*f)),
            Some(_) => Err(bad(format!("`when.{k}` must be a number"))),
        }
    };
    let one_of = match w.get("in") {
        None => vec![],
        Some(toml::Value::Array(a)) => a
            .iter()
            .map(|v| match v {
                toml::Value::String(s) => Ok(Value::Cat(s.clone())),
                toml::Value::Integer(i) => Ok(Value::Int(*i)),
                toml::Value::Float(f) => Ok(Value::Float(*f)),
                _ => Err(bad("`when.in` holds strings or numbers".into())),
            })
            .collect::<Result<_, _>>()?,
        Some(_) => return Err(bad("`when.in` must be a list".into())),
    };
    Ok(Condition {
        parent,
        one_of,
        ge: bound("ge")?,
        gt: bound("gt")?,
        le: bound("le")?,
        lt: bound("lt")?,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    const GOOD: &str = r#"
[[param]]
name = "lr"
type = "float"
low = 1e-4
high = 0.1
log = true
[[param]]
name = "depth"
type = "int"
low = 1
high = 8
[[param]]
name = "connection"
type = "categorical"
choices = ["conv", "pool", "skip"]
[[param]]
name = "width3"
type = "int"
low = 16
high = 256
log = true
when = { param = "depth", ge = 3 }
[[param]]
name = "pool_size"
type = "int"
low = 2
high = 4
when = { param = "connection", in = ["pool"] }
"#;

    #[test]
    fn reads_the_documented_format() {
        let s = Space::from_toml(GOOD).unwrap();
        assert_eq!(s.len(), 5);
        assert_eq!(
            s.params()[0].kind,
            ParamKind::Float {
                low: 1e-4,
                high: 0.1,
                log: true
            }
        );
        let a = s.assign(vec![
            Value::Float(0.01),
            Value::Int(2),
            Value::Cat("pool".into()),
            Value::Int(32),
            Value::Int(3),
        ]);
        assert_eq!(a[3], None, "width3 is inactive at depth 2");
        assert_eq!(a[4], Some(Value::Int(3)));
        s.validate(&a).unwrap();
        let json = s.to_json(&a);
        assert_eq!(json["depth"], 2);
        assert!(json.get("width3").is_none());
    }

    #[test]
    fn bad_spaces_name_the_parameter_and_the_problem() {
        let cases = [
            ("[[param]]\nname = \"x\"\ntype = \"float\"\nlow = 2.0\nhigh = 1.0\n", "parameter `x`: low (2) must be below high (1)"),
            ("[[param]]\nname = \"x\"\ntype = \"float\"\nlow = 0.0\nhigh = 1.0\nlog = true\n", "parameter `x`: a log-scale parameter needs low > 0"),
            ("[[param]]\nname = \"c\"\ntype = \"categorical\"\nchoices = []\n", "parameter `c`: no choices"),
            ("[[param]]\nname = \"x\"\ntype = \"int\"\nlow = 0\nhigh = 3\n[[param]]\nname = \"x\"\ntype = \"int\"\nlow = 0\nhigh = 3\n", "parameter `x`: the name is used twice"),
            ("[[param]]\nname = \"x\"\ntype = \"float\"\nlow = 0.0\nhigh = 1.0\nlo = 3\n", "parameter `x`: unknown key `lo`"),
            ("[[param]]\nname = \"x\"\ntype = \"double\"\nlow = 0.0\nhigh = 1.0\n", "parameter `x`: unknown type `double`"),
            ("[[param]]\nname = \"x\"\ntype = \"int\"\nlow = 0\nhigh = 3\nstep = 0\n", "parameter `x`: step must be at least 1"),
            ("[[param]]\nname = \"c\"\ntype = \"categorical\"\nchoices = [\"a\", \"a\"]\n", "parameter `c`: choice `a` appears twice"),
            ("[[param]]\nname = \"y\"\ntype = \"int\"\nlow = 0\nhigh = 3\nwhen = { param = \"z\", ge = 1 }\n", "parameter `y`: its condition names `z`"),
            ("[[param]]\nname = \"c\"\ntype = \"categorical\"\nchoices = [\"a\"]\n[[param]]\nname = \"y\"\ntype = \"int\"\nlow = 0\nhigh = 3\nwhen = { param = \"c\", in = [\"b\"] }\n", "parameter `y`: its condition's value b"),
            ("[[params]]\nname = \"x\"\n", "unknown field `params`"),
            ("[[param]]\ntype = \"int\"\nlow = 0\nhigh = 3\n", "parameter `#1`: no `name`"),
            ("[[param]]\nname = \"x\"\ntype = \"float\"\nlow = \"a\"\nhigh = 1.0\n", "parameter `x`: `low` must be a number"),
        ];
        for (text, msg) in cases {
            let err = Space::from_toml(text).unwrap_err().to_string();
            assert!(err.contains(msg), "expected `{msg}` in `{err}`");
        }
    }

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
}
