//! How a space maps to the surrogate's inputs: one coordinate per parameter.
//!
//! | parameter | coordinate | acquisition domain | when inactive |
//! |---|---|---|---|
//! | float | position on its scale (log if `log`), in `[0, 1]` | continuous `[0, 1]` | 0 |
//! | int | position of the value on its scale, in `[0, 1]` | the admissible positions (ordinal) | 0 |
//! | categorical | the choice's index | categorical | an extra code `n` that no active value takes |
//!
//! Inactive parameters are imputed before the model sees a point, so the value drawn for an
//! inactive parameter never affects the model.

use nasbo_acq::{Dim, Domain};
use nasbo_gp::Kernel;

use crate::space::{Assignment, Param, ParamKind, Space, Value};
use crate::TunerError;

/// Integers with more admissible values than this are searched as a continuous coordinate
/// and rounded.
pub const MAX_ORDINAL_VALUES: u64 = 100_000;

/// The map between assignments and model inputs.
#[derive(Clone, Debug)]
pub struct Encoder {
    space: Space,
    dims: Vec<Dim>,
    inactive: Vec<f64>,
}

fn scale(v: f64, log: bool) -> f64 {
    if log {
        v.ln()
    } else {
        v
    }
}

impl Encoder {
    /// The encoder of a space.
    pub fn new(space: &Space) -> Self {
        let mut dims = Vec::with_capacity(space.len());
        let mut inactive = Vec::with_capacity(space.len());
        for p in space.params() {
            match &p.kind {
                ParamKind::Float { .. } => {
                    dims.push(Dim::Continuous {
                        low: 0.0,
                        high: 1.0,
                    });
                    inactive.push(0.0);
                }
                ParamKind::Int {
                    low,
                    high,
                    log,
                    step,
                } => {
                    let count = Param::int_count(*low, *high, *step);
                    if count <= MAX_ORDINAL_VALUES {
                        let (a, b) = (scale(*low as f64, *log), scale(*high as f64, *log));
                        let values = (0..count)
                            .map(|k| {
                                let v = Param::int_value(*low, *high, *step, k);
                                (scale(v as f64, *log) - a) / (b - a)
                            })
                            .collect();
                        dims.push(Dim::Ordinal { values });
                    } else {
                        dims.push(Dim::Continuous {
                            low: 0.0,
                            high: 1.0,
                        });
                    }
                    inactive.push(0.0);
                }
                ParamKind::Categorical { choices } => {
                    dims.push(Dim::Categorical { n: choices.len() });
                    inactive.push(choices.len() as f64);
                }
            }
        }
        Encoder {
            space: space.clone(),
            dims,
            inactive,
        }
    }

    /// The acquisition optimizer's domain.
    pub fn domain(&self) -> Result<Domain, TunerError> {
        Ok(Domain::new(self.dims.clone())?)
    }

    /// Number of model inputs.
    pub fn dim(&self) -> usize {
        self.dims.len()
    }

    /// Number of continuous model inputs (floats, and integers with too many values to list).
    pub fn n_continuous(&self) -> usize {
        self.dims
            .iter()
            .filter(|d| matches!(d, Dim::Continuous { .. }))
            .count()
    }

    /// Per coordinate: whether it is numeric (continuous or ordinal) and always active, the
    /// coordinates on which BO's boundary prior acts.
    pub fn unconditional_numeric(&self) -> Vec<bool> {
        self.dims
            .iter()
            .zip(self.space.params())
            .map(|(d, p)| !matches!(d, Dim::Categorical { .. }) && p.condition.is_none())
            .collect()
    }

    /// The default kernel: Matérn 5/2 on the numeric coordinates times a Hamming kernel on the
    /// categorical ones.
    pub fn kernel(&self) -> Kernel {
        let numeric: Vec<usize> = (0..self.dims.len())
            .filter(|&k| !matches!(self.dims[k], Dim::Categorical { .. }))
            .collect();
        let cat: Vec<usize> = (0..self.dims.len())
            .filter(|&k| matches!(self.dims[k], Dim::Categorical { .. }))
            .collect();
        match (numeric.is_empty(), cat.is_empty()) {
            (false, true) => Kernel::matern52(),
            (true, false) => Kernel::hamming(),
            _ => Kernel::matern52().on(numeric) * Kernel::hamming().on(cat),
        }
    }

    /// Model input bounds (the unit cube for numeric coordinates; the codes for categories).
    pub fn bounds(&self) -> (Vec<f64>, Vec<f64>) {
        (vec![0.0; self.dims.len()], vec![1.0; self.dims.len()])
    }

    /// The model input of an assignment (inactive parameters imputed).
    pub fn encode(&self, a: &Assignment) -> Vec<f64> {
        self.space
            .params()
            .iter()
            .zip(a)
            .enumerate()
            .map(|(k, (p, v))| match (v, &p.kind) {
                (None, _) => self.inactive[k],
                (Some(v), ParamKind::Float { low, high, log }) => {
                    let x = v.as_f64().unwrap_or(*low);
                    (scale(x, *log) - scale(*low, *log)) / (scale(*high, *log) - scale(*low, *log))
                }
                (Some(v), ParamKind::Int { low, high, log, .. }) => {
                    let x = v.as_f64().unwrap_or(*low as f64);
                    let (a, b) = (scale(*low as f64, *log), scale(*high as f64, *log));
                    (scale(x, *log) - a) / (b - a)
                }
                (Some(Value::Cat(c)), ParamKind::Categorical { choices }) => {
                    choices.iter().position(|x| x == c).unwrap_or(0) as f64
                }
                (Some(_), ParamKind::Categorical { .. }) => 0.0,
            })
            .collect()
    }

    /// The assignment of a model input (values of inactive parameters dropped).
    pub fn decode(&self, x: &[f64]) -> Assignment {
        let values: Vec<Value> = self
            .space
            .params()
            .iter()
            .zip(x)
            .zip(&self.dims)
            .map(|((p, &u), dim)| match &p.kind {
                ParamKind::Float { .. } => p.from_unit(u),
                ParamKind::Int {
                    low,
                    high,
                    log,
                    step,
                } => match dim {
                    Dim::Ordinal { .. } => {
                        Value::Int(Param::int_value(*low, *high, *step, dim.index_of(u) as u64))
                    }
                    _ => {
                        let (a, b) = (scale(*low as f64, *log), scale(*high as f64, *log));
                        let raw = a + u * (b - a);
                        let v = if *log { raw.exp() } else { raw };
                        let k = ((v - *low as f64) / *step as f64).round().max(0.0) as u64;
                        Value::Int(Param::int_value(*low, *high, *step, k))
                    }
                },
                ParamKind::Categorical { choices } => {
                    let i = (u.round().max(0.0) as usize).min(choices.len() - 1);
                    Value::Cat(choices[i].clone())
                }
            })
            .collect();
        self.space.assign(values)
    }

    /// `x` with the coordinates of inactive parameters set to their constants: the point the
    /// model sees for the trial that `x` decodes to.
    pub fn impute(&self, x: &mut [f64]) {
        let a = self.decode(x);
        let canon = self.encode(&a);
        x.copy_from_slice(&canon);
    }

    /// Whether any parameter is conditional.
    pub fn has_conditions(&self) -> bool {
        self.space.params().iter().any(|p| p.condition.is_some())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::space::{Condition, Param};

    #[test]
    fn round_trips_and_imputes_inactive_parameters() {
        let space = Space::new(vec![
            Param::log_float("lr", 1e-4, 1e-1),
            Param::int("depth", 1, 8),
            Param::categorical("conn", &["conv", "pool", "skip"]),
            Param::int("width3", 16, 256)
                .log()
                .when(Condition::at_least("depth", 3.0)),
        ])
        .unwrap();
        let enc = Encoder::new(&space);
        let a = space.assign(vec![
            Value::Float(0.01),
            Value::Int(5),
            Value::Cat("skip".into()),
            Value::Int(64),
        ]);
        let x = enc.encode(&a);
        assert!((x[0] - 2.0 / 3.0).abs() < 1e-12);
        assert_eq!(x[2], 2.0);
        let back = enc.decode(&x);
        assert_eq!(back[1], Some(Value::Int(5)));
        assert_eq!(back[2], Some(Value::Cat("skip".into())));
        assert_eq!(back[3], Some(Value::Int(64)));
        // Depth 2: width3 inactive, its coordinate imputed whatever it was.
        let mut y = x.clone();
        y[1] = enc.encode(&space.assign(vec![
            Value::Float(0.01),
            Value::Int(2),
            Value::Cat("skip".into()),
            Value::Int(64),
        ]))[1];
        y[3] = 0.77;
        let mut z = y.clone();
        z[3] = 0.12;
        enc.impute(&mut y);
        enc.impute(&mut z);
        assert_eq!(y, z);
        assert_eq!(y[3], 0.0);
        assert_eq!(enc.decode(&y)[3], None);
    }
}
