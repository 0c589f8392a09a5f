//! The whole training recipe behind `xbar train`: dense training, weight
//! sharing, fine-tuning of the shared values, 16-bit rounding and the
//! data-based normalisation scales, with a record of what was done.

use std::path::Path;
use std::time::Instant;

use serde::Serialize;

use crate::mlp::{self, EpochReport, Mlp, TrainConfig, TrainError};
use crate::mnist::{Dataset, Mnist};
use crate::model::SharedModel;
use crate::quant::{self, FixedPoint, Method};
use crate::snn::{self, Encoding, IdealMapping, Normalisation, Reset, SnnConfig, SnnError};

/// Everything `xbar train` needs beyond the data.
#[derive(Clone, Debug, PartialEq)]
pub struct Recipe {
    /// Layer sizes, input first.
    pub sizes: Vec<usize>,
    /// Dense training.
    pub dense: TrainConfig,
    pub method: Method,
    /// Fine-tuning of the shared values (`epochs = 0` skips it).
    pub fine_tune: TrainConfig,
    /// Training images held out for validation (taken from the end).
    pub validation: usize,
    /// Training images (from the start) the normalisation scales are taken on.
    pub calibration: usize,
    /// Percentile of the positive activations used as a normalisation scale.
    pub percentile: f64,
}

impl Default for Recipe {
    fn default() -> Self {
        let dense = TrainConfig::default();
        Recipe {
            sizes: vec![784, 1024, 1024, 10],
            fine_tune: TrainConfig {
                epochs: 2,
                lr: 1e-4,
                ..dense.clone()
            },
            dense,
            method: Method::KMeans,
            validation: 5_000,
            calibration: 10_000,
            percentile: 99.9,
        }
    }
}

/// What happened during training, stored beside the model.
#[derive(Clone, Debug, Serialize)]
pub struct Record {
    pub dense_epochs: Vec<EpochRow>,
    pub fine_tune_epochs: Vec<EpochRow>,
    /// Test-set accuracy of the dense ANN.
    pub ann_test_accuracy: f64,
    /// Test-set accuracy of the ANN right after clustering, before fine-tuning.
    pub clustered_test_accuracy: f64,
    /// Test-set accuracy of the ANN with the fine-tuned 16-bit shared weights.
    pub shared_test_accuracy: f64,
    /// Validation accuracy of the ANN with the 16-bit shared weights.
    pub shared_validation_accuracy: f64,
    /// Sum of squared clustering errors per layer, first and last iteration.
    pub kmeans_distortion: Vec<[f64; 2]>,
    pub training_seconds: f64,
}

/// One epoch as recorded.
#[derive(Clone, Debug, Serialize)]
pub struct EpochRow {
    pub epoch: usize,
    pub loss: f32,
    pub validation_accuracy: f64,
    pub lr: f64,
    pub seconds: f64,
}

impl From<&EpochReport> for EpochRow {
    fn from(r: &EpochReport) -> Self {
        EpochRow {
            epoch: r.epoch,
            loss: r.loss,
            validation_accuracy: r.validation_accuracy,
            lr: r.lr,
            seconds: r.seconds,
        }
    }
}

/// Which phase an epoch report belongs to.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Phase {
    Dense,
    FineTune,
}

/// Runs the recipe on MNIST; `on_epoch` sees every epoch of both phases.
pub fn train_shared(
    data: &Mnist,
    recipe: &Recipe,
    progress: bool,
    mut on_epoch: impl FnMut(Phase, &EpochReport),
) -> Result<(SharedModel, Record), TrainError> {
    let start = Instant::now();
    let n = data.train.len();
    if recipe.dense.epochs == 0 {
        return Err(TrainError::Setting {
            name: "epochs",
            value: "0".into(),
            why: "must be at least 1 (an untrained network classifies at chance)",
        });
    }
    if recipe.validation >= n {
        return Err(TrainError::Setting {
            name: "validation",
            value: recipe.validation.to_string(),
            why: "must leave training images",
        });
    }
    let train_range = 0..n - recipe.validation;
    let val_range = n - recipe.validation..n;
    let test_range = 0..data.test.len();
    let mut net = Mlp::new(&recipe.sizes, recipe.dense.seed)?;
    let dense_epochs = mlp::train(
        &mut net,
        &data.train,
        train_range.clone(),
        val_range.clone(),
        &recipe.dense,
        progress,
        |r| on_epoch(Phase::Dense, r),
    )?;
    let ann_test_accuracy = net.accuracy(&data.test, test_range.clone());

    let mut kmeans_distortion = Vec::new();
    for layer in &mut net.layers {
        let c = quant::cluster(&layer.weights, recipe.method, 100);
        kmeans_distortion.push([
            c.distortion.first().copied().unwrap_or(0.0),
            c.distortion.last().copied().unwrap_or(0.0),
        ]);
        layer.shared = Some(c.shared);
        layer.materialise();
    }
    let clustered_test_accuracy = net.accuracy(&data.test, test_range.clone());
    let fine_tune_epochs = if recipe.method == Method::KMeans {
        mlp::train(
            &mut net,
            &data.train,
            train_range.clone(),
            val_range.clone(),
            &recipe.fine_tune,
            progress,
            |r| on_epoch(Phase::FineTune, r),
        )?
    } else {
        Vec::new()
    };
    snap_to_fixed_point(&mut net);
    let shared_test_accuracy = net.accuracy(&data.test, test_range);
    let shared_validation_accuracy = net.accuracy(&data.train, val_range);
    let calibration = 0..recipe.calibration.min(train_range.end);
    let scales = net.activation_scales(&data.train, calibration, recipe.percentile);
    let model = SharedModel::from_mlp(&net, &scales, recipe.percentile as f32)?;
    let record = Record {
        dense_epochs: dense_epochs.iter().map(EpochRow::from).collect(),
        fine_tune_epochs: fine_tune_epochs.iter().map(EpochRow::from).collect(),
        ann_test_accuracy,
        clustered_test_accuracy,
        shared_test_accuracy,
        shared_validation_accuracy,
        kmeans_distortion,
        training_seconds: start.elapsed().as_secs_f64(),
    };
    Ok((model, record))
}

/// Rounds every layer's shared values to the 16-bit fixed point the
/// hardware stores, so that the ANN, the saved model and the SNN all use
/// exactly the stored weights.
pub fn snap_to_fixed_point(net: &mut Mlp) {
    for layer in &mut net.layers {
        if let Some(shared) = &mut layer.shared {
            let format = FixedPoint::fitting(&shared.values);
            for v in &mut shared.values {
                *v = format.decode(format.encode(*v));
            }
        }
        layer.materialise();
    }
}

/// Writes a TOML document atomically.
pub fn write_toml<T: Serialize>(path: &Path, value: &T) -> std::io::Result<()> {
    let text = toml::to_string_pretty(value)
        .map_err(|e| std::io::Error::new(std::io::ErrorKind::InvalidData, e))?;
    crate::atomic_write(path, |w| w.write_all(text.as_bytes()))
}

/// The training record written beside the model (`models/mnist_shared.toml`).
#[derive(Clone, Debug, Serialize)]
pub struct Document {
    /// The command line that produced the model.
    pub command: String,
    pub settings: Settings,
    pub results: Record,
    /// Load average (1, 5, 15 min) when training ended, where the system
    /// reports it: other work on the machine slows training down.
    pub load_average: Option<String>,
    /// Threads rayon used.
    pub threads: usize,
    /// SNN accuracy of the saved model, filled in when it was measured.
    pub snn: Option<SnnRecord>,
}

/// The training settings, flattened for the record.
#[derive(Clone, Debug, Serialize)]
pub struct Settings {
    pub sizes: Vec<usize>,
    pub bias: &'static str,
    pub optimiser: &'static str,
    pub epochs: usize,
    pub batch: usize,
    pub lr: f64,
    pub schedule: String,
    pub lr_final_fraction: f64,
    pub dropout_input: f64,
    pub dropout_hidden: f64,
    pub shift_pixels: usize,
    pub seed: u64,
    pub quantisation: String,
    pub fine_tune_epochs: usize,
    pub fine_tune_lr: f64,
    pub validation_images: usize,
    pub calibration_images: usize,
    pub percentile: f64,
}

/// SNN accuracy of the model on the test images, as `xbar infer` measures it.
#[derive(Clone, Debug, Serialize)]
pub struct SnnRecord {
    pub accuracy: f64,
    pub images: usize,
    pub timesteps: usize,
    pub encoding: String,
    pub reset: String,
    pub normalisation: String,
    pub frames_per_s: f64,
}

impl SnnRecord {
    /// Runs the ideal SNN with the defaults of `xbar infer` (Bernoulli input,
    /// the paper's reset to 0, 99.9th-percentile thresholds, seed 1).
    pub fn measure(model: &SharedModel, test: &Dataset, progress: bool) -> Result<Self, SnnError> {
        let config = SnnConfig {
            timesteps: snn::DEFAULT_TIMESTEPS,
            encoding: Encoding::Bernoulli,
            seed: 1,
        };
        let lif = snn::convert(
            model,
            Normalisation::Percentile,
            Reset::ToValue,
            1.0,
            0.0,
            0.0,
        );
        let outcome = snn::infer(&IdealMapping::new(model)?, &lif, test, &config, progress)?;
        Ok(SnnRecord {
            accuracy: outcome.accuracy(&test.labels),
            images: outcome.images(),
            timesteps: config.timesteps,
            encoding: "bernoulli".into(),
            reset: "to value 0".into(),
            normalisation: format!("percentile {}", model.layers[0].percentile),
            frames_per_s: outcome.frames_per_s(),
        })
    }
}

impl Document {
    pub fn new(command: String, recipe: &Recipe, record: &Record) -> Self {
        let d = &recipe.dense;
        Document {
            command,
            settings: Settings {
                sizes: recipe.sizes.clone(),
                bias: "none",
                optimiser: "adam",
                epochs: d.epochs,
                batch: d.batch,
                lr: d.lr,
                schedule: format!("{:?}", d.schedule).to_lowercase(),
                lr_final_fraction: d.final_fraction,
                dropout_input: d.dropout_input,
                dropout_hidden: d.dropout_hidden,
                shift_pixels: d.shift,
                seed: d.seed,
                quantisation: format!("{:?}", recipe.method).to_lowercase(),
                fine_tune_epochs: recipe.fine_tune.epochs,
                fine_tune_lr: recipe.fine_tune.lr,
                validation_images: recipe.validation,
                calibration_images: recipe.calibration,
                percentile: recipe.percentile,
            },
            results: record.clone(),
            load_average: std::fs::read_to_string("/proc/loadavg")
                .ok()
                .map(|s| s.split_whitespace().take(3).collect::<Vec<_>>().join(" ")),
            threads: rayon::current_num_threads(),
            snn: None,
        }
    }
}
