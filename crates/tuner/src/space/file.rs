//! The TOML space file, read with serde: one `[[param]]` table per parameter (the format is
//! documented in [`crate::space`]). Unknown keys are refused by serde (`deny_unknown_fields`);
//! an error names the parameter and the line and column.

use serde::Deserialize;

use super::condition::Condition;
use super::param::{Param, ParamKind, Value};
use super::Space;
use crate::TunerError;

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct FileSpace {
    #[serde(default)]
    param: Vec<FileParam>,
}

/// The same file read loosely, to find which parameter an error belongs to.
#[derive(Deserialize)]
struct LooseSpace {
    #[serde(default)]
    param: Vec<toml::Spanned<toml::Table>>,
}

#[derive(Deserialize)]
#[serde(tag = "type", rename_all = "lowercase", deny_unknown_fields)]
enum FileParam {
    Float {
        name: String,
        low: f64,
        high: f64,
        #[serde(default)]
        log: bool,
        when: Option<FileWhen>,
    },
    Int {
        name: String,
        low: i64,
        high: i64,
        #[serde(default)]
        log: bool,
        step: Option<i64>,
        when: Option<FileWhen>,
    },
    Categorical {
        name: String,
        choices: Vec<Scalar>,
        when: Option<FileWhen>,
    },
}

/// A choice or a condition's value: a string or a number (or a boolean, read as its text).
#[derive(Deserialize)]
#[serde(untagged)]
enum Scalar {
    Int(i64),
    Float(f64),
    Bool(bool),
    Text(String),
}

impl Scalar {
    fn text(&self) -> String {
        match self {
            Scalar::Int(i) => i.to_string(),
            Scalar::Float(f) => f.to_string(),
            Scalar::Bool(b) => b.to_string(),
            Scalar::Text(s) => s.clone(),
        }
    }
    fn value(&self) -> Value {
        match self {
            Scalar::Int(i) => Value::Int(*i),
            Scalar::Float(f) => Value::Float(*f),
            Scalar::Bool(b) => Value::Cat(b.to_string()),
            Scalar::Text(s) => Value::Cat(s.clone()),
        }
    }
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct FileWhen {
    param: String,
    #[serde(rename = "in", default)]
    one_of: Vec<Scalar>,
    ge: Option<f64>,
    gt: Option<f64>,
    le: Option<f64>,
    lt: Option<f64>,
}

impl From<FileWhen> for Condition {
    fn from(w: FileWhen) -> Self {
        Condition {
            parent: w.param,
            one_of: w.one_of.iter().map(Scalar::value).collect(),
            ge: w.ge,
            gt: w.gt,
            le: w.le,
            lt: w.lt,
        }
    }
}

impl From<FileParam> for Param {
    fn from(p: FileParam) -> Self {
        let (name, kind, when) = match p {
            FileParam::Float {
                name,
                low,
                high,
                log,
                when,
            } => (name, ParamKind::Float { low, high, log }, when),
            FileParam::Int {
                name,
                low,
                high,
                log,
                step,
                when,
            } => (
                name,
                ParamKind::Int {
                    low,
                    high,
                    log,
                    step: step.unwrap_or(1),
                },
                when,
            ),
            FileParam::Categorical {
                name,
                choices,
                when,
            } => (
                name,
                ParamKind::Categorical {
                    choices: choices.iter().map(Scalar::text).collect(),
                },
                when,
            ),
        };
        Param {
            name,
            kind,
            condition: when.map(Condition::from),
        }
    }
}

/// 1-based line and column of a byte offset.
fn line_col(text: &str, offset: usize) -> (usize, usize) {
    let before = &text[..offset.min(text.len())];
    let line = before.matches('\n').count() + 1;
    let col = before.rsplit('\n').next().map_or(0, |l| l.chars().count()) + 1;
    (line, col)
}

/// Reads a space from TOML text.
pub(crate) fn from_toml(text: &str) -> Result<Space, TunerError> {
    let file: FileSpace = toml::from_str(text).map_err(|e| explain(text, &e))?;
    Space::new(file.param.into_iter().map(Param::from).collect())
}

/// The error of a file that serde refused: the parameter it is in (when the file is valid
/// TOML), the line and column, and serde's message.
fn explain(text: &str, e: &toml::de::Error) -> TunerError {
    let message = e.message().trim().replace('\n', " ");
    let Some(span) = e.span() else {
        return TunerError::SpaceFile(message);
    };
    let (line, col) = line_col(text, span.start);
    let at = format!("line {line}, column {col}");
    // Which `[[param]]` table holds the offending text: the last one starting before it.
    let owner = toml::from_str::<LooseSpace>(text).ok().and_then(|loose| {
        loose
            .param
            .iter()
            .enumerate()
            .rfind(|(_, t)| t.span().start <= span.start)
            .map(|(i, t)| match t.get_ref().get("name") {
                Some(toml::Value::String(s)) => s.clone(),
                _ => format!("#{}", i + 1),
            })
    });
    match owner {
        Some(param) => TunerError::InvalidParam {
            param,
            reason: format!("{message} ({at})"),
        },
        None => TunerError::SpaceFile(format!("{at}: {message}")),
    }
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
        let s = from_toml(GOOD).unwrap();
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
            ("[[param]]\nname = \"x\"\ntype = \"float\"\nlow = 0.0\nhigh = 1.0\nlo = 3\n", "parameter `x`: unknown field `lo`, expected one of `name`, `low`, `high`, `log`, `when` (line 1, column 1)"),
            ("[[param]]\nname = \"x\"\ntype = \"double\"\nlow = 0.0\nhigh = 1.0\n", "parameter `x`: unknown variant `double`, expected one of `float`, `int`, `categorical`"),
            ("[[param]]\nname = \"x\"\ntype = \"int\"\nlow = 0\nhigh = 3\nstep = 0\n", "parameter `x`: step must be at least 1"),
            ("[[param]]\nname = \"c\"\ntype = \"categorical\"\nchoices = [\"a\", \"a\"]\n", "parameter `c`: choice `a` appears twice"),
            ("[[param]]\nname = \"y\"\ntype = \"int\"\nlow = 0\nhigh = 3\nwhen = { param = \"z\", ge = 1 }\n", "parameter `y`: its condition names `z`"),
            ("[[param]]\nname = \"c\"\ntype = \"categorical\"\nchoices = [\"a\"]\n[[param]]\nname = \"y\"\ntype = \"int\"\nlow = 0\nhigh = 3\nwhen = { param = \"c\", in = [\"b\"] }\n", "parameter `y`: its condition's value b"),
            ("[[param]]\nname = \"d\"\ntype = \"int\"\nlow = 1\nhigh = 4\n[[param]]\nname = \"w\"\ntype = \"int\"\nlow = 1\nhigh = 3\nwhen = { param = \"d\", ge = 5 }\n", "parameter `w`: its condition on `d` can never hold"),
            ("[[params]]\nname = \"x\"\n", "line 1, column 3: unknown field `params`, expected `param`"),
            ("[[param]]\ntype = \"int\"\nlow = 0\nhigh = 3\n", "parameter `#1`: missing field `name`"),
            ("[[param]]\nname = \"x\"\ntype = \"float\"\nlow = \"a\"\nhigh = 1.0\n", "parameter `x`: invalid type: string \"a\", expected f64"),
            ("[[param]]\nname = \"x\"\ntype = \"float\"\nlow = \nhigh = 1.0\n", "line 4, column 7:"),
            ("[[param]]\nname = \"x\"\ntype = \"int\"\nlow = 0\nhigh = 99999999999999999999\n", "line 5"),
        ];
        for (text, msg) in cases {
            let err = from_toml(text).unwrap_err().to_string();
            assert!(err.contains(msg), "expected `{msg}` in `{err}`");
        }
    }
}
