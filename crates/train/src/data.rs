//! Data sets: CSV or gzipped CSV (features, then a `label` column), seeded stratified
//! train/validation/test splits, and standardization with training statistics only.

use std::io::Read;
use std::path::{Path, PathBuf};

use rand::seq::SliceRandom;
use rand::SeedableRng;
use rand_chacha::ChaCha8Rng;

use crate::TrainError;

/// A labelled data set in memory.
#[derive(Clone, Debug, PartialEq)]
pub struct Dataset {
    /// Its name (built-in name or file path).
    pub name: String,
    /// Features, row-major (`n × d`).
    pub x: Vec<f32>,
    /// Class labels `0..classes`.
    pub y: Vec<u32>,
    /// Number of features.
    pub d: usize,
    /// Number of classes.
    pub classes: usize,
    /// `(channels, height, width)` when the features are an image.
    pub image: Option<(usize, usize, usize)>,
}

impl Dataset {
    /// Number of examples.
    pub fn len(&self) -> usize {
        self.y.len()
    }
    /// Whether it has no example.
    pub fn is_empty(&self) -> bool {
        self.y.is_empty()
    }
    /// Row `i`.
    pub fn row(&self, i: usize) -> &[f32] {
        &self.x[i * self.d..(i + 1) * self.d]
    }
    /// The examples at `idx`.
    pub fn subset(&self, idx: &[usize]) -> Dataset {
        let mut x = Vec::with_capacity(idx.len() * self.d);
        for &i in idx {
            x.extend_from_slice(self.row(i));
        }
        Dataset {
            name: self.name.clone(),
            x,
            y: idx.iter().map(|&i| self.y[i]).collect(),
            d: self.d,
            classes: self.classes,
            image: self.image,
        }
    }
}

/// `(channels, height, width)` of an image data set.
pub type ImageShape = (usize, usize, usize);

/// The built-in data sets: name, file under `datasets/`, image shape.
pub const BUILTIN: &[(&str, &str, Option<ImageShape>)] = &[
    ("digits", "digits.csv", Some((1, 8, 8))),
    ("iris", "iris.csv", None),
    ("wine", "wine.csv", None),
    ("breast_cancer", "breast_cancer.csv", None),
    ("mnist", "mnist_train_10k.csv.gz", Some((1, 28, 28))),
];

/// Where the shipped data sets are: `$NASBO_DATASETS`, else `datasets/` in the current
/// directory, else the repository's `datasets/` (known at build time).
pub fn datasets_dir() -> PathBuf {
    if let Some(d) = std::env::var_os("NASBO_DATASETS") {
        return PathBuf::from(d);
    }
    let local = PathBuf::from("datasets");
    if local.join("digits.csv").exists() {
        return local;
    }
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../../datasets")
}

/// Reads a CSV or gzipped CSV (`.gz`) with a header whose features come first and whose class
/// is the column `label` (integers, or any strings, mapped to `0..k` in sorted order).
///
/// Refused, with the line and the reason: a missing `label` column, ragged rows, non-numeric or
/// non-finite features, fewer than two classes.
pub fn read_csv(path: &Path) -> Result<Dataset, TrainError> {
    let p = path.display().to_string();
    let mut bytes = Vec::new();
    std::fs::File::open(path)
        .and_then(|mut f| f.read_to_end(&mut bytes))
        .map_err(|source| TrainError::Io {
            path: p.clone(),
            source,
        })?;
    if path.extension().is_some_and(|e| e == "gz") {
        let mut out = Vec::new();
        flate2::read::GzDecoder::new(&bytes[..])
            .read_to_end(&mut out)
            .map_err(|source| TrainError::Io {
                path: p.clone(),
                source,
            })?;
        bytes = out;
    }
    let err = |line: usize, reason: String| TrainError::Data {
        path: p.clone(),
        line,
        reason,
    };
    let mut r = csv::ReaderBuilder::new()
        .flexible(true)
        .from_reader(&bytes[..]);
    let header: Vec<String> = r
        .headers()
        .map_err(|e| err(1, format!("cannot read the header: {e}")))?
        .iter()
        .map(|h| h.trim().to_string())
        .collect();
    let label = header.iter().position(|h| h == "label").ok_or_else(|| {
        err(
            1,
            format!("no `label` column (columns: {})", header.join(",")),
        )
    })?;
    let d = header.len() - 1;
    if d == 0 {
        return Err(err(1, "no feature column".into()));
    }
    let mut x = Vec::new();
    let mut labels_raw: Vec<String> = Vec::new();
    for (i, rec) in r.records().enumerate() {
        let rec = rec.map_err(|e| err(i + 2, e.to_string()))?;
        let line = rec.position().map_or(i + 2, |p| p.line() as usize);
        if rec.len() != header.len() {
            return Err(err(
                line,
                format!("{} fields, the header has {}", rec.len(), header.len()),
            ));
        }
        for (c, v) in rec.iter().enumerate() {
            if c == label {
                labels_raw.push(v.trim().to_string());
                continue;
            }
            let f: f32 = v.trim().parse().map_err(|_| {
                err(
                    line,
                    format!("column `{}`: `{}` is not a number", header[c], v.trim()),
                )
            })?;
            if !f.is_finite() {
                return Err(err(
                    line,
                    format!("column `{}`: {v} is not finite", header[c]),
                ));
            }
            x.push(f);
        }
    }
    // Integer labels keep their numeric order; other labels are sorted as strings.
    let mut classes: Vec<String> = labels_raw.clone();
    classes.sort_by(|a, b| match (a.parse::<i64>(), b.parse::<i64>()) {
        (Ok(x), Ok(y)) => x.cmp(&y),
        _ => a.cmp(b),
    });
    classes.dedup();
    if classes.len() < 2 {
        return Err(TrainError::Dataset {
            path: p,
            reason: format!(
                "{} class(es) in `label`: classification needs at least two",
                classes.len()
            ),
        });
    }
    let y = labels_raw
        .iter()
        .map(|l| classes.iter().position(|c| c == l).unwrap_or(0) as u32)
        .collect();
    Ok(Dataset {
        name: p,
        x,
        y,
        d,
        classes: classes.len(),
        image: None,
    })
}

/// A built-in data set by name, or a CSV file by path.
pub fn load(name_or_path: &str) -> Result<Dataset, TrainError> {
    if let Some((name, file, image)) = BUILTIN.iter().find(|(n, _, _)| *n == name_or_path) {
        let path = datasets_dir().join(file);
        let mut ds = read_csv(&path)?;
        ds.name = name.to_string();
        if let Some((c, h, w)) = image {
            if ds.d != c * h * w {
                return Err(TrainError::Dataset {
                    path: path.display().to_string(),
                    reason: format!("{} features, expected {}×{}×{}", ds.d, c, h, w),
                });
            }
            ds.image = Some((*c, *h, *w));
        }
        return Ok(ds);
    }
    let path = Path::new(name_or_path);
    if !path.exists() {
        return Err(TrainError::Dataset {
            path: name_or_path.into(),
            reason: format!(
                "no such file, and not a built-in data set ({})",
                BUILTIN.iter().map(|b| b.0).collect::<Vec<_>>().join(", ")
            ),
        });
    }
    read_csv(path)
}

/// The test split of a built-in data set that ships one (the MNIST subset's 2,000 test
/// images), else `None`.
pub fn builtin_test(name: &str) -> Result<Option<Dataset>, TrainError> {
    if name != "mnist" {
        return Ok(None);
    }
    let mut ds = read_csv(&datasets_dir().join("mnist_test_2k.csv.gz"))?;
    ds.name = "mnist-test".into();
    ds.image = Some((1, 28, 28));
    Ok(Some(ds))
}

/// Train, validation and test sets, standardized with the training split's statistics.
#[derive(Clone, Debug)]
pub struct Splits {
    /// Training examples.
    pub train: Dataset,
    /// Validation examples (the tuner's objective).
    pub val: Dataset,
    /// Test examples (reported, never seen by the tuner).
    pub test: Dataset,
    /// Per feature, the training split's mean and standard deviation (1 for a constant
    /// feature): every split holds `(x − mean) / std`, and so must a trained network's input.
    pub standardization: Vec<(f32, f32)>,
}

/// Seeded stratified split into `(1 − val − test, val, test)` fractions, or, when `test_set` is
/// given, a train/validation split of `data` with `test_set` as the test split. Features are
/// then standardized per column with the training split's mean and standard deviation.
pub fn split(
    data: &Dataset,
    test_set: Option<&Dataset>,
    val_fraction: f64,
    test_fraction: f64,
    seed: u64,
) -> Result<Splits, TrainError> {
    if !(0.0..0.9).contains(&val_fraction)
        || !(0.0..0.9).contains(&test_fraction)
        || val_fraction + test_fraction >= 0.9
    {
        return Err(TrainError::Config {
            name: "split",
            value: format!("val {val_fraction}, test {test_fraction}"),
            reason: "fractions in [0, 0.9) leaving at least 10% for training".into(),
        });
    }
    let mut rng = ChaCha8Rng::seed_from_u64(seed);
    let (mut tr, mut va, mut te) = (Vec::new(), Vec::new(), Vec::new());
    let test_fraction = if test_set.is_some() {
        0.0
    } else {
        test_fraction
    };
    for c in 0..data.classes as u32 {
        let mut idx: Vec<usize> = (0..data.len()).filter(|&i| data.y[i] == c).collect();
        idx.shuffle(&mut rng);
        let n = idx.len();
        let n_te = (n as f64 * test_fraction).round() as usize;
        let n_va = (n as f64 * val_fraction).round() as usize;
        te.extend_from_slice(&idx[..n_te.min(n)]);
        va.extend_from_slice(&idx[n_te.min(n)..(n_te + n_va).min(n)]);
        tr.extend_from_slice(&idx[(n_te + n_va).min(n)..]);
    }
    tr.sort_unstable();
    va.sort_unstable();
    te.sort_unstable();
    if tr.is_empty() || va.is_empty() {
        return Err(TrainError::Dataset {
            path: data.name.clone(),
            reason: format!("{} examples are too few to split", data.len()),
        });
    }
    let mut train = data.subset(&tr);
    let mut val = data.subset(&va);
    let mut test = match test_set {
        Some(t) => {
            if t.d != data.d {
                return Err(TrainError::Dataset {
                    path: t.name.clone(),
                    reason: format!("{} features, the training data has {}", t.d, data.d),
                });
            }
            t.clone()
        }
        None => data.subset(&te),
    };
    // Standardize with training statistics only.
    let d = data.d;
    let n = train.len() as f64;
    let mut mean = vec![0.0f64; d];
    let mut sq = vec![0.0f64; d];
    for i in 0..train.len() {
        for (k, v) in train.row(i).iter().enumerate() {
            mean[k] += *v as f64;
            sq[k] += (*v as f64) * (*v as f64);
        }
    }
    let stats: Vec<(f32, f32)> = (0..d)
        .map(|k| {
            let m = mean[k] / n;
            let var = (sq[k] / n - m * m).max(0.0);
            let s = if var > 1e-12 { var.sqrt() } else { 1.0 };
            (m as f32, s as f32)
        })
        .collect();
    for ds in [&mut train, &mut val, &mut test] {
        for (j, v) in ds.x.iter_mut().enumerate() {
            let (m, s) = stats[j % d];
            *v = (*v - m) / s;
        }
    }
    Ok(Splits {
        train,
        val,
        test,
        standardization: stats,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn write(name: &str, text: &str) -> PathBuf {
        let p = std::env::temp_dir().join(format!("nasbo-data-{}-{name}", std::process::id()));
        std::fs::write(&p, text).unwrap();
        p
    }

    #[test]
    fn bad_files_name_the_line_and_reason() {
        let cases = [
            ("a,b\n1,2\n", 1, "no `label` column"),
            ("a,b,label\n1,2,0\n1,2\n", 3, "2 fields, the header has 3"),
            (
                "a,b,label\n1,2,0\n1,x,1\n",
                3,
                "column `b`: `x` is not a number",
            ),
            ("a,b,label\n1,2,0\n1,inf,1\n", 3, "not finite"),
        ];
        for (i, (text, line, msg)) in cases.iter().enumerate() {
            let p = write(&format!("bad{i}.csv"), text);
            match read_csv(&p).unwrap_err() {
                TrainError::Data {
                    line: l, reason, ..
                } => {
                    assert_eq!(l, *line, "{reason}");
                    assert!(reason.contains(msg), "{reason}");
                }
                e => panic!("{e}"),
            }
        }
        let p = write("one.csv", "a,label\n1,0\n2,0\n");
        assert!(read_csv(&p)
            .unwrap_err()
            .to_string()
            .contains("at least two"));
    }

    #[test]
    fn splits_are_stratified_seeded_and_standardized_on_train() {
        let mut text = String::from("a,b,label\n");
        for i in 0..100 {
            text.push_str(&format!(
                "{},{},{}\n",
                i,
                2 * i + 7,
                if i < 30 { "cat" } else { "dog" }
            ));
        }
        let p = write("ok.csv", &text);
        let ds = read_csv(&p).unwrap();
        assert_eq!((ds.len(), ds.d, ds.classes), (100, 2, 2));
        let s = split(&ds, None, 0.2, 0.2, 1).unwrap();
        assert_eq!(s.train.len() + s.val.len() + s.test.len(), 100);
        let frac = |d: &Dataset| d.y.iter().filter(|&&c| c == 0).count() as f64 / d.len() as f64;
        assert!((frac(&s.val) - 0.3).abs() < 0.06 && (frac(&s.test) - 0.3).abs() < 0.06);
        let mean: f32 =
            (0..s.train.len()).map(|i| s.train.row(i)[0]).sum::<f32>() / s.train.len() as f32;
        assert!(mean.abs() < 1e-5, "training features are centred: {mean}");
        let s2 = split(&ds, None, 0.2, 0.2, 1).unwrap();
        assert_eq!(s.test.x, s2.test.x);
        let s3 = split(&ds, None, 0.2, 0.2, 2).unwrap();
        assert_ne!(s.test.x, s3.test.x);
    }
}
