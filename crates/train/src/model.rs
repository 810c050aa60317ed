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
//! Callers may add more keys (the `nasbo train` command stores the trial's parameters, the
//! data set and the measured accuracies). Inputs are expected standardized as in training.
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
//! nasbo_train::model::save(&net, &arch, 8, None, 3, &Default::default(), &path)?;
//! let (back, meta) = nasbo_train::model::load(&path, &dev)?;
//! assert_eq!(back.parameter_count(), net.parameter_count());
//! assert_eq!(meta["nasbo.classes"], "3");
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

/// Writes `net`'s weights to `path` (through a temporary file beside it, renamed into place,
/// so a failed write leaves no partial model), with the metadata that [`load`] needs and
/// `extra`.
pub fn save(
    net: &Network,
    arch: &ArchConfig,
    features: usize,
    image: Option<ImageShape>,
    classes: usize,
    extra: &BTreeMap<String, String>,
    path: &Path,
) -> Result<(), TrainError> {
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
    let tensors: Vec<(String, Tensor)> = net
        .named_vars()
        .into_iter()
        .map(|(n, v)| (n, v.as_tensor().clone()))
        .collect();
    let name = path
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_else(|| "model".into());
    let tmp = path.with_file_name(format!(".{name}.{}.tmp", std::process::id()));
    let io = |e: std::io::Error| TrainError::Io {
        path: path.display().to_string(),
        source: e,
    };
    safetensors::serialize_to_file(tensors, Some(meta), &tmp).map_err(|e| {
        std::fs::remove_file(&tmp).ok();
        match e {
            safetensors::SafeTensorError::IoError(e) => io(e),
            e => bad(path, e.to_string()),
        }
    })?;
    std::fs::rename(&tmp, path).map_err(|e| {
        std::fs::remove_file(&tmp).ok();
        io(e)
    })
}

/// Reads a model that [`save`] wrote: the network, with its weights, on `dev`, and the file's
/// metadata.
pub fn load(path: &Path, dev: &Device) -> Result<(Network, HashMap<String, String>), TrainError> {
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
    Ok((net, meta))
}
