//! The paper's network as a study evaluator (`mapping = "ideal" | "shared" |
//! "dense"`): every trial is a run of `xbar infer` on the first `images`
//! MNIST test images, through [`xbar_snn::trial::run_trial`].
//!
//! The model, the test images and the training images (for calibrated ADC
//! ranges, `adc.calibration`) are loaded once and shared by all trials.
//! The model file's content hash ([`ModelId`]) is part of the study's
//! identity, so a study folder never mixes the trials of two models.
//! A trial's device sample and input spike trains derive from its seed
//! alone, so a study of the network is as reproducible as a synthetic one.
//! The reference accuracy is the `ideal` mapping on the same images with the
//! base table's input coding (`input.*`) and nothing else.

use std::io::Read;
use std::path::Path;

use flate2::read::GzDecoder;
use xbar_snn::mnist::{self, Dataset, MnistError, Split};
use xbar_snn::model::{ModelError, SharedModel};
use xbar_snn::nonideal::KeyError;
use xbar_snn::trial::{run_trial, Images};

use crate::config::StudyConfig;
use crate::evaluator::{Evaluator, TrialResult};
use crate::model::{locate_model, LocateError, ModelId};
use crate::value::{ParameterSpec, ValueKind};

/// The mappings this evaluator runs: those xbar-snn's trial entry point knows.
pub use xbar_snn::trial::MAPPINGS as NETWORK_MAPPINGS;

/// Why the network evaluator could not be set up or a trial could not run.
#[derive(Debug, thiserror::Error)]
pub enum NetworkError {
    #[error("mapping `{0}` is not one the network runs; expected one of: {known}", known = NETWORK_MAPPINGS.join(", "))]
    Mapping(String),
    #[error(transparent)]
    Locate(#[from] LocateError),
    #[error(transparent)]
    Model(#[from] ModelError),
    #[error(transparent)]
    Mnist(#[from] MnistError),
    #[error("{images} images per trial asked for, but the MNIST test set has {available}")]
    TooManyImages { images: usize, available: usize },
    #[error("mapping {mapping}: {source}")]
    Key {
        mapping: String,
        #[source]
        source: KeyError,
    },
    #[error("mapping {mapping}: {source}")]
    Snn {
        mapping: String,
        #[source]
        source: xbar_snn::snn::SnnError,
    },
}

/// Every non-ideality key of `xbar infer --nonideal`, with its unit: what
/// [`NetworkEvaluator::parameters`] lists, available before the model and
/// MNIST are loaded so a config can be checked first. A mapping that does
/// not model a key (the ideal one has no devices) rejects it in
/// [`Evaluator::validate`] with xbar-snn's own message.
pub const NETWORK_PARAMETERS: &[ParameterSpec] = &[
    spec(
        "device.programming_sigma",
        ValueKind::Float,
        "relative",
        "programming error σ relative to the target conductance",
    ),
    spec(
        "device.read_noise_sigma",
        ValueKind::Float,
        "relative",
        "read noise σ relative to the cell conductance",
    ),
    spec(
        "device.g_min",
        ValueKind::Float,
        "S",
        "lowest programmable conductance",
    ),
    spec(
        "device.g_max",
        ValueKind::Float,
        "S",
        "highest programmable conductance",
    ),
    spec(
        "device.levels",
        ValueKind::Integer,
        "",
        "conductance levels per cell",
    ),
    spec("device.on_off_ratio", ValueKind::Float, "", "G_on / G_off"),
    spec(
        "drift.model",
        ValueKind::Text,
        "",
        "drift law: none, pcm or rram",
    ),
    spec(
        "drift.time_s",
        ValueKind::Float,
        "s",
        "time since programming",
    ),
    spec(
        "drift.compensation",
        ValueKind::Text,
        "",
        "drift compensation: none, layer or column",
    ),
    spec(
        "faults.stuck_on_rate",
        ValueKind::Float,
        "",
        "fraction of cells stuck at LRS",
    ),
    spec(
        "faults.stuck_off_rate",
        ValueKind::Float,
        "",
        "fraction of cells stuck at HRS",
    ),
    spec(
        "crossbar.tile",
        ValueKind::Integer,
        "cells",
        "rows (= columns) of a crossbar tile",
    ),
    spec(
        "crossbar.r_wire",
        ValueKind::Float,
        "Ω",
        "wire resistance per cell segment",
    ),
    spec(
        "crossbar.r_driver",
        ValueKind::Float,
        "Ω",
        "row driver output resistance",
    ),
    spec(
        "crossbar.r_sense",
        ValueKind::Float,
        "Ω",
        "column sense input resistance",
    ),
    spec(
        "adc.bits",
        ValueKind::Integer,
        "bit",
        "ADC resolution (0 = ideal)",
    ),
    spec(
        "adc.range",
        ValueKind::Float,
        "A",
        "ADC full-scale column current",
    ),
    spec(
        "adc.calibration",
        ValueKind::Text,
        "",
        "ADC range without adc.range: full_scale or percentile (dense)",
    ),
    spec(
        "adc.percentile",
        ValueKind::Float,
        "%",
        "percentile of |partial sum| a calibrated ADC range spans",
    ),
    spec(
        "adc.calibration_images",
        ValueKind::Integer,
        "images",
        "MNIST training images the ADC ranges are calibrated on",
    ),
    spec(
        "lif.v_th",
        ValueKind::Float,
        "× V_th",
        "threshold as a multiple of the converted one",
    ),
    spec(
        "lif.v_leak",
        ValueKind::Float,
        "× V_th / step",
        "leak per time step",
    ),
    spec(
        "lif.threshold_sigma",
        ValueKind::Float,
        "relative",
        "spread σ of each neuron's threshold relative to the threshold",
    ),
    spec(
        "input.encoding",
        ValueKind::Text,
        "",
        "bernoulli or constant",
    ),
    spec(
        "input.timesteps",
        ValueKind::Integer,
        "steps",
        "time steps per image",
    ),
];

const fn spec(
    key: &'static str,
    kind: ValueKind,
    unit: &'static str,
    description: &'static str,
) -> ParameterSpec {
    ParameterSpec {
        key,
        kind,
        unit,
        description,
    }
}

/// Runs study trials on the real network. Trials use the first `images`
/// test images (the same images at every point, so points differ only by
/// their non-idealities).
pub struct NetworkEvaluator {
    mapping: String,
    model: SharedModel,
    model_id: ModelId,
    test: Dataset,
    /// Training images for calibrated converter ranges (none: such trials
    /// fail with xbar-snn's message).
    train: Option<Dataset>,
    /// True if each layer's converter range is a trial metric (off unless
    /// asked for: metric columns are part of a study's identity).
    range_metrics: bool,
}

/// True if `config` chooses the dense mapping's converter ranges by
/// calibration (`adc.calibration` in its base table or swept): each trial's
/// ranges then depend on its device sample, and a user wants them beside
/// the accuracy ([`NetworkEvaluator::with_adc_range_metrics`]).
pub fn calibrates_adc_ranges(config: &StudyConfig) -> bool {
    let in_base = config
        .nonideal
        .get("adc")
        .and_then(|a| a.as_table())
        .is_some_and(|a| a.contains_key("calibration"));
    let swept = config
        .sweeps
        .iter()
        .any(|s| s.parameter == "adc.calibration");
    config.mapping == "dense" && (in_base || swept)
}

impl NetworkEvaluator {
    /// An evaluator of `mapping` running `model` (read from the file
    /// `model_id` identifies) over `test` (the MNIST test split).
    pub fn new(
        mapping: &str,
        model: SharedModel,
        model_id: ModelId,
        test: Dataset,
    ) -> Result<Self, NetworkError> {
        if !NETWORK_MAPPINGS.contains(&mapping) {
            return Err(NetworkError::Mapping(mapping.to_string()));
        }
        Ok(NetworkEvaluator {
            mapping: mapping.to_string(),
            model,
            model_id,
            test,
            train: None,
            range_metrics: false,
        })
    }

    /// The same evaluator reporting each layer's column-converter range
    /// (A, `adc_range_layer<l>_a` as in `xbar infer`'s summary) as trial
    /// metrics, if its mapping has converter ranges (only `dense` does).
    pub fn with_adc_range_metrics(self) -> Self {
        NetworkEvaluator {
            range_metrics: self.mapping == "dense",
            ..self
        }
    }

    /// The same evaluator with training images that calibrated converter
    /// ranges (`adc.calibration = "percentile"`) are taken on.
    pub fn with_training(self, train: Dataset) -> Self {
        NetworkEvaluator {
            train: Some(train),
            ..self
        }
    }

    /// Reads a model file, returning the model and the identity of exactly
    /// the bytes it was parsed from.
    pub fn read_model(path: &Path) -> Result<(SharedModel, ModelId), ModelError> {
        let compressed = std::fs::read(path).map_err(|source| ModelError::Io {
            path: path.to_path_buf(),
            source,
        })?;
        let id = ModelId::of_bytes(path, &compressed);
        let mut bytes = Vec::new();
        GzDecoder::new(&compressed[..])
            .read_to_end(&mut bytes)
            .map_err(|e| ModelError::Format {
                path: path.to_path_buf(),
                reason: format!("the gzip stream is corrupt or truncated ({e})"),
            })?;
        Ok((SharedModel::from_bytes(&bytes, path)?, id))
    }

    /// Loads the model (`model`, else the one [`locate_model`] finds) and
    /// MNIST the way `xbar infer` does (`mnist`, else `XBAR_MNIST_DIR`, else
    /// the cache, downloading with a progress bar if `progress`).
    pub fn load(
        mapping: &str,
        model: Option<&Path>,
        mnist: Option<&Path>,
        progress: bool,
    ) -> Result<Self, NetworkError> {
        if !NETWORK_MAPPINGS.contains(&mapping) {
            return Err(NetworkError::Mapping(mapping.to_string()));
        }
        let model_path = locate_model(model)?;
        let (model, model_id) = NetworkEvaluator::read_model(&model_path)?;
        let test = mnist::load_split(mnist, Split::Test, progress)?;
        let evaluator = NetworkEvaluator::new(mapping, model, model_id, test)?;
        // Only the dense mapping calibrates on training images; the other
        // mappings need not fetch or hold the 47 MB.
        Ok(if mapping == "dense" {
            evaluator.with_training(mnist::load_split(mnist, Split::Train, progress)?)
        } else {
            evaluator
        })
    }

    pub fn mapping(&self) -> &str {
        &self.mapping
    }

    /// The model file the trials run.
    pub fn model_id(&self) -> &ModelId {
        &self.model_id
    }

    /// Test images available to a trial.
    pub fn available_images(&self) -> usize {
        self.test.len()
    }

    fn run(
        &self,
        mapping: &str,
        nonideal: &toml::Table,
        images: usize,
        seed: u64,
    ) -> Result<TrialResult, NetworkError> {
        if images > self.test.len() {
            return Err(NetworkError::TooManyImages {
                images,
                available: self.test.len(),
            });
        }
        let data = Images {
            test: &self.test,
            train: self.train.as_ref(),
        };
        let outcome =
            run_trial(&self.model, data, mapping, nonideal, images, seed).map_err(|source| {
                NetworkError::Snn {
                    mapping: mapping.to_string(),
                    source,
                }
            })?;
        Ok(TrialResult {
            accuracy: outcome.accuracy,
            images: outcome.images,
            // frames/s depends on the machine and the load; it would break
            // the bit-identity of trials.csv, and runtime_s already has it.
            metrics: if self.range_metrics {
                outcome.adc_ranges
            } else {
                Vec::new()
            },
        })
    }
}

impl Evaluator for NetworkEvaluator {
    type Error = NetworkError;

    fn parameters(&self) -> &[ParameterSpec] {
        NETWORK_PARAMETERS
    }

    fn model(&self) -> Option<&ModelId> {
        Some(&self.model_id)
    }

    fn metrics(&self) -> Vec<String> {
        if !self.range_metrics {
            return Vec::new();
        }
        (1..=self.model.layers.len())
            .map(|l| format!("adc_range_layer{l}_a"))
            .collect()
    }

    fn validate(&self, nonideal: &toml::Table) -> Result<(), NetworkError> {
        xbar_snn::nonideal::from_table(nonideal, &self.mapping)
            .map(|_| ())
            .map_err(|source| NetworkError::Key {
                mapping: self.mapping.clone(),
                source,
            })
    }

    fn reference(
        &self,
        base: &toml::Table,
        images: usize,
        seed: u64,
    ) -> Result<Option<f64>, NetworkError> {
        let mut coding = toml::Table::new();
        if let Some(input) = base.get("input") {
            coding.insert("input".into(), input.clone());
        }
        self.run("ideal", &coding, images, seed)
            .map(|r| Some(r.accuracy))
    }

    fn evaluate(
        &self,
        nonideal: &toml::Table,
        images: usize,
        seed: u64,
    ) -> Result<TrialResult, NetworkError> {
        self.run(&self.mapping, nonideal, images, seed)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The model shipped with the repository.
    const SHIPPED_MODEL: &str =
        concat!(env!("CARGO_MANIFEST_DIR"), "/../../models/mnist_shared.xbm");

    #[test]
    fn parameters_are_the_keys_of_xbar_infer() {
        let mine: std::collections::BTreeSet<&str> =
            NETWORK_PARAMETERS.iter().map(|p| p.key).collect();
        assert_eq!(
            mine.len(),
            NETWORK_PARAMETERS.len(),
            "a key is listed twice"
        );
        let snn: std::collections::BTreeSet<&str> = xbar_snn::nonideal::HARDWARE_KEYS
            .iter()
            .chain(xbar_snn::nonideal::NEURON_KEYS.iter())
            .copied()
            .collect();
        assert_eq!(mine, snn);
    }

    /// The shipped model over `n` blank images (no MNIST needed).
    fn evaluator(mapping: &str, n: usize) -> Result<NetworkEvaluator, NetworkError> {
        let (model, id) = NetworkEvaluator::read_model(Path::new(SHIPPED_MODEL)).unwrap();
        let test = Dataset {
            images: vec![0; n * mnist::PIXELS],
            labels: vec![3; n],
            rows: mnist::SIDE,
            cols: mnist::SIDE,
        };
        NetworkEvaluator::new(mapping, model, id, test)
    }

    #[test]
    fn read_model_parses_the_bytes_it_identifies() {
        let path = Path::new(SHIPPED_MODEL);
        let (model, id) = NetworkEvaluator::read_model(path).unwrap();
        assert_eq!(model, SharedModel::load(path).unwrap());
        let copy_dir = tempfile::tempdir().unwrap();
        let copy = copy_dir.path().join("copy.xbm");
        std::fs::copy(path, &copy).unwrap();
        let (_, copy_id) = NetworkEvaluator::read_model(&copy).unwrap();
        assert_eq!((copy_id.sha256.len(), &copy_id), (64, &id));
        assert_eq!(copy_id.path, copy);

        let bytes = std::fs::read(path).unwrap();
        std::fs::write(&copy, &bytes[..bytes.len() / 2]).unwrap();
        let e = NetworkEvaluator::read_model(&copy).unwrap_err().to_string();
        assert!(
            e.contains("copy.xbm") && e.contains("corrupt or truncated"),
            "{e}"
        );
        let e = NetworkEvaluator::read_model(&copy_dir.path().join("none.xbm"))
            .unwrap_err()
            .to_string();
        assert!(e.contains("none.xbm"), "{e}");
    }

    fn table(text: &str) -> toml::Table {
        toml::from_str(text).unwrap()
    }

    #[test]
    fn checks_mapping_images_and_keys() {
        let e = evaluator("synthetic", 2).err().unwrap().to_string();
        assert!(
            e.contains("mapping `synthetic` is not one the network runs"),
            "{e}"
        );
        let ideal = evaluator("ideal", 2).unwrap();
        let e = ideal.evaluate(&toml::Table::new(), 3, 1).unwrap_err();
        assert!(matches!(
            e,
            NetworkError::TooManyImages {
                images: 3,
                available: 2
            }
        ));
        let sigma = table("device.programming_sigma = 0.1");
        let e = ideal.validate(&sigma).unwrap_err().to_string();
        assert!(e.contains("does not model"), "{e}");
        let shared = evaluator("shared", 2).unwrap();
        shared.validate(&sigma).unwrap();
        let e = shared
            .validate(&table("device.programming_sigma = -0.1"))
            .unwrap_err()
            .to_string();
        assert!(e.contains("device.programming_sigma = -0.1"), "{e}");
    }

    #[test]
    fn calibrated_adc_ranges_take_the_training_images() {
        let cal = table(
            "adc.bits = 4\nadc.calibration = \"percentile\"\nadc.calibration_images = 3\ninput.timesteps = 2",
        );
        let without = evaluator("dense", 2).unwrap();
        without.validate(&cal).unwrap();
        let e = without.evaluate(&cal, 2, 1).unwrap_err().to_string();
        assert!(e.contains("needs the MNIST training images"), "{e}");
        let blank = |n: usize| Dataset {
            images: vec![0; n * mnist::PIXELS],
            labels: vec![1; n],
            rows: mnist::SIDE,
            cols: mnist::SIDE,
        };
        let e = evaluator("dense", 2)
            .unwrap()
            .with_training(blank(2))
            .evaluate(&cal, 2, 1)
            .unwrap_err()
            .to_string();
        assert!(e.contains("only 2 training images"), "{e}");
        let r = evaluator("dense", 2)
            .unwrap()
            .with_training(blank(3))
            .evaluate(&cal, 2, 1)
            .unwrap();
        assert_eq!(r.images, 2);
    }

    #[test]
    fn calibrated_studies_report_each_layers_converter_range() {
        let blank = Dataset {
            images: vec![0; 3 * mnist::PIXELS],
            labels: vec![1; 3],
            rows: mnist::SIDE,
            cols: mnist::SIDE,
        };
        let dense = evaluator("dense", 2).unwrap().with_training(blank);
        assert!(dense.metrics().is_empty());
        let dense = dense.with_adc_range_metrics();
        assert_eq!(
            dense.metrics(),
            [
                "adc_range_layer1_a",
                "adc_range_layer2_a",
                "adc_range_layer3_a"
            ]
        );
        // Blank training images give no partial sums to calibrate on, so
        // every layer keeps the full-scale range: 128 rows at G_max = 100 µS
        // read at 0.2 V.
        let cal = table(
            "adc.bits = 4\nadc.calibration = \"percentile\"\nadc.calibration_images = 3\ninput.timesteps = 2",
        );
        for (nonideal, want) in [
            (cal, 128.0 * 100e-6 * 0.2),
            (table("adc.bits = 4\nadc.range = 1e-4"), 1e-4),
        ] {
            let r = dense.evaluate(&nonideal, 2, 1).unwrap();
            assert_eq!(r.metrics.len(), 3);
            for m in r.metrics {
                assert!((m - want).abs() <= 1e-12 * want, "{m} vs {want}");
            }
        }
        // Only the dense mapping has converter ranges.
        let shared = evaluator("shared", 2).unwrap().with_adc_range_metrics();
        assert!(shared.metrics().is_empty());
        let config =
            |text: &str| StudyConfig::parse(text, Path::new("study.toml"), Path::new(".")).unwrap();
        let sweep =
            "images = 2\ntrials = 1\nseed = 1\n[[sweep]]\nparameter = \"adc.bits\"\nvalues = [4]\n";
        assert!(calibrates_adc_ranges(&config(&format!(
            "mapping = \"dense\"\n{sweep}[nonideal.adc]\ncalibration = \"percentile\"\n"
        ))));
        assert!(calibrates_adc_ranges(&config(
            "mapping = \"dense\"\nimages = 2\ntrials = 1\nseed = 1\n[[sweep]]\nparameter = \"adc.calibration\"\nvalues = [\"full_scale\", \"percentile\"]\n"
        )));
        assert!(!calibrates_adc_ranges(&config(&format!(
            "mapping = \"dense\"\n{sweep}"
        ))));
        assert!(!calibrates_adc_ranges(&config(&format!(
            "mapping = \"shared\"\n{sweep}[nonideal.adc]\ncalibration = \"percentile\"\n"
        ))));
    }

    #[test]
    fn reference_runs_the_ideal_mapping_on_the_input_coding() {
        // Hardware keys would make the ideal mapping fail; the reference
        // must drop them (and the neuron keys) but keep `input.*`.
        let shared = evaluator("shared", 2).unwrap();
        let base = table("device.programming_sigma = 0.1\ninput.timesteps = 0");
        let e = shared.reference(&base, 2, 1).unwrap_err().to_string();
        assert!(e.contains("input.timesteps = 0"), "{e}");
        let base = table("device.programming_sigma = 0.1\nlif.v_th = -1.0\ninput.timesteps = 2");
        let r = shared.reference(&base, 2, 1).unwrap().unwrap();
        assert!((0.0..=1.0).contains(&r), "{r}");
    }
}
