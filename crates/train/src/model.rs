//! A trained network on disk: its weights as safetensors, with what rebuilds it (the
//! architecture, the input shape, the classes) in the file's metadata.
//!
//! | metadata key | value |
//! |---|---|
//! | `format` | `nasbo-train` |
//! | `nasbo.arch` | the [`ArchConfig`] as JSON |
//! | `nasbo.features` | input features per example |
//! | `nasbo.image` | `C,H,W`, or empty for tabular data |
//! | `nasbo.classes` | output classes |
//!
//! Beside the weights, the tensors `input.mean` and `input.std` (one value per feature) hold the
//! standardization of the training data: the network expects `(x − mean) / std`
//! ([`Model::standardize`]).
//!
//! Callers may add more keys (the `nasbo train` command stores the trial's parameters, the
//! data set and the measured accuracies).
//!
//! ```
//! use nasbo_train::net::{ArchConfig, Connection, Network};
//! use rand::SeedableRng;
//!
//! let arch = ArchConfig { depth: 1, width: 4, connections: vec![Connection::Skip], dropout: 0.0 };
//! let mut rng = rand_chacha::ChaCha8Rng::seed_from_u64(0);
//! let dev = candle_core::Device::Cpu;
//! let net = Network::new(&arch, 8, None, 3, &mut rng, &dev)?;
//! let path = std::env::temp_dir().join(format!("nasbo-model-doc-{}.safetensors", std::process::id()));
//! let input = nasbo_train::model::Input { features: 8, image: None, classes: 3, standardization: &[(0.5, 2.0); 8] };
//! nasbo_train::model::save(&net, &arch, &input, &Default::default(), &path)?;
//! let model = nasbo_train::model::load(&path, &dev)?;
//! assert_eq!(model.net.parameter_count(), net.parameter_count());
//! assert_eq!(model.metadata["nasbo.classes"], "3");
//! let mut x = vec![2.5f32; 8];
//! model.standardize(&mut x);
//! assert_eq!(x, vec![1.0; 8]);
//! # std::fs::remove_file(&path).ok();
//! # Ok::<(), nasbo_train::TrainError>(())
//! ```

use std::collections::{BTreeMap, HashMap};
use std::path::Path;

use candle_core::{Device, Tensor};
use rand::SeedableRng;

use crate::data::ImageShape;
use crate::net::{ArchConfig, Network};
use crate::TrainError;

fn bad(path: &Path, reason: impl Into<String>) -> TrainError {
    TrainError::Model {
        path: path.display().to_string(),
        reason: reason.into(),
    }
}

/// What a network takes and gives: its input (features, image shape, standardization) and its
/// classes.
#[derive(Clone, Copy, Debug)]
pub struct Input<'a> {
    /// Features per example.
    pub features: usize,
    /// `(C, H, W)` for images.
    pub image: Option<ImageShape>,
    /// Output classes.
    pub classes: usize,
    /// Per feature, the training data's `(mean, std)` ([`crate::data::Splits::standardization`]).
    pub standardization: &'a [(f32, f32)],
}

/// A model read back by [`load`].
#[derive(Debug)]
pub struct Model {
    /// The network, with its trained weights.
    pub net: Network,
    /// The file's metadata.
    pub metadata: HashMap<String, String>,
    /// Per feature, the training data's `(mean, std)`.
    pub standardization: Vec<(f32, f32)>,
}

impl Model {
    /// Standardizes raw examples (`n × features`, row-major) in place, as the training data was.
    pub fn standardize(&self, x: &mut [f32]) {
        let d = self.standardization.len().max(1);
        for (j, v) in x.iter_mut().enumerate() {
            if let Some(&(m, s)) = self.standardization.get(j % d) {
                *v = (*v - m) / s;
            }
        }
    }
}

/// Writes `net`'s weights to `path` (through a temporary file beside it, renamed into place,
/// so a failed write leaves no partial model), with what [`load`] needs and `extra` in the
/// metadata.
pub fn save(
    net: &Network,
    arch: &ArchConfig,
    input: &Input,
    extra: &BTreeMap<String, String>,
    path: &Path,
) -> Result<(), TrainError> {
    let Input {
        features,
        image,
        classes,
        standardization,
    } = *input;
    if standardization.len() != features {
        return Err(bad(
            path,
            format!(
                "{} standardization entries for {features} features",
                standardization.len()
            ),
        ));
    }
    let mut meta: HashMap<String, String> = extra.clone().into_iter().collect();
    meta.insert("format".into(), "nasbo-train".into());
    meta.insert(
        "nasbo.arch".into(),
        serde_json::to_string(arch).map_err(|e| bad(path, e.to_string()))?,
    );
    meta.insert("nasbo.features".into(), features.to_string());
    meta.insert(
        "nasbo.image".into(),
        image.map_or(String::new(), |(c, h, w)| format!("{c},{h},{w}")),
    );
    meta.insert("nasbo.classes".into(), classes.to_string());
    let mut tensors: Vec<(String, Tensor)> = net
        .named_vars()
        .into_iter()
        .map(|(n, v)| (n, v.as_tensor().clone()))
        .collect();
    let column = |f: fn(&(f32, f32)) -> f32| {
        let v: Vec<f32> = standardization.iter().map(f).collect();
        Tensor::from_vec(v, features, &Device::Cpu)
    };
    tensors.push(("input.mean".into(), column(|p| p.0)?));
    tensors.push(("input.std".into(), column(|p| p.1)?));
    let name = path
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_else(|| "model".into());
    let io = |e: std::io::Error| TrainError::Io {
        path: path.display().to_string(),
        source: e,
    };
    let bytes =
        safetensors::serialize(tensors, Some(meta)).map_err(|e| bad(path, e.to_string()))?;
    // A temporary file of a unique name beside `path` (removed on any error), synced, renamed
    // over it, and the folder synced so the rename survives a crash.
    let dir = path
        .parent()
        .filter(|p| !p.as_os_str().is_empty())
        .unwrap_or(Path::new("."));
    let mut tmp = tempfile::Builder::new()
        .prefix(&format!(".{name}."))
        .suffix(".tmp")
        .tempfile_in(dir)
        .map_err(io)?;
    std::io::Write::write_all(&mut tmp, &bytes).map_err(io)?;
    tmp.as_file().sync_all().map_err(io)?;
    tmp.persist(path).map_err(|e| io(e.error))?;
    if let Ok(d) = std::fs::File::open(dir) {
        let _ = d.sync_all();
    }
    Ok(())
}

/// Reads a model that [`save`] wrote: the network, with its weights, on `dev`, its metadata
/// and its input standardization.
pub fn load(path: &Path, dev: &Device) -> Result<Model, TrainError> {
    let bytes = std::fs::read(path).map_err(|e| TrainError::Io {
        path: path.display().to_string(),
        source: e,
    })?;
    let (_, header) = safetensors::SafeTensors::read_metadata(&bytes)
        .map_err(|e| bad(path, format!("not a safetensors file: {e}")))?;
    let meta = header.metadata().clone().unwrap_or_default();
    let get = |k: &str| {
        meta.get(k)
            .ok_or_else(|| bad(path, format!("no `{k}` in the metadata: not a nasbo model")))
    };
    let arch: ArchConfig = serde_json::from_str(get("nasbo.arch")?)
        .map_err(|e| bad(path, format!("nasbo.arch: {e}")))?;
    let number = |k: &str| -> Result<usize, TrainError> {
        get(k)?
            .parse()
            .map_err(|_| bad(path, format!("{k}: not a whole number")))
    };
    let features = number("nasbo.features")?;
    let classes = number("nasbo.classes")?;
    let image = match get("nasbo.image")?.as_str() {
        "" => None,
        s => {
            let v: Vec<usize> = s
                .split(',')
                .map(|p| p.trim().parse())
                .collect::<Result<_, _>>()
                .map_err(|_| bad(path, format!("nasbo.image `{s}`: expected C,H,W")))?;
            match v[..] {
                [c, h, w] => Some((c, h, w)),
                _ => return Err(bad(path, format!("nasbo.image `{s}`: expected C,H,W"))),
            }
        }
    };
    let mut rng = rand_chacha::ChaCha8Rng::seed_from_u64(0);
    let net = Network::new(&arch, features, image, classes, &mut rng, dev)?;
    let weights = candle_core::safetensors::load_buffer(&bytes, dev)?;
    for (name, var) in net.named_vars() {
        let t = weights
            .get(&name)
            .ok_or_else(|| bad(path, format!("no tensor `{name}`")))?;
        if t.dims() != var.dims() {
            return Err(bad(
                path,
                format!(
                    "tensor `{name}` has shape {:?}, the architecture needs {:?}",
                    t.dims(),
                    var.dims()
                ),
            ));
        }
        var.set(t)?;
    }
    let column = |name: &str| -> Result<Vec<f32>, TrainError> {
        let t = weights
            .get(name)
            .ok_or_else(|| bad(path, format!("no tensor `{name}`")))?;
        let v = t.flatten_all()?.to_vec1::<f32>()?;
        if v.len() != features {
            return Err(bad(
                path,
                format!("`{name}` has {} values for {features} features", v.len()),
            ));
        }
        Ok(v)
    };
    let standardization = column("input.mean")?
        .into_iter()
        .zip(column("input.std")?)
        .collect();
    Ok(Model {
        net,
        metadata: meta,
        standardization,
    })
}
