//! One run of a mapping under a non-ideality table: what `xbar infer` and
//! the study engine both call. A run is a pure function of its arguments:
//! the device sample and the input spike trains both derive from the seed.

use crate::calibrate::{self, Calibration};
use crate::dense::DenseMapping;
use crate::mnist::Dataset;
use crate::model::SharedModel;
use crate::nonideal::{self, Settings};
use crate::resources::Resources;
use crate::shared::SharedMapping;
use crate::snn::{
    self, Encoding, IdealMapping, LifParams, Normalisation, Outcome, Reset, SnnConfig, SnnError,
};

/// The mappings [`run`] knows: the software SNN, the paper's shared-weight
/// accelerator ([`crate::shared`]) and dense differential-pair tiles
/// ([`crate::dense`]).
pub const MAPPINGS: [&str; 3] = ["ideal", "shared", "dense"];

/// Headline numbers of one trial.
#[derive(Clone, Debug, PartialEq)]
pub struct TrialOutcome {
    /// Fraction of the images classified correctly.
    pub accuracy: f64,
    /// Images actually run.
    pub images: usize,
    /// Simulation throughput of this trial on this machine.
    pub frames_per_s: f64,
    /// The dense mapping's column-converter range of every layer as a
    /// column current, A (calibrated or full scale); empty for the other
    /// mappings.
    pub adc_ranges: Vec<f64>,
}

/// How the ANN is converted into neurons (choices that are not
/// non-idealities).
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Conversion {
    pub norm: Normalisation,
    pub reset: Reset,
    /// Reset potential with [`Reset::ToValue`], as a fraction of the threshold.
    pub v_reset: f32,
}

impl Default for Conversion {
    /// `xbar infer`'s defaults: percentile thresholds, reset to zero.
    fn default() -> Self {
        Conversion {
            norm: Normalisation::Percentile,
            reset: Reset::ToValue,
            v_reset: 0.0,
        }
    }
}

/// The images of a run: the test images it classifies and the training
/// images that `adc.calibration = "percentile"` calibrates on (the first
/// `adc.calibration_images` of them). A plain `&Dataset` is test images
/// alone.
#[derive(Clone, Copy, Debug)]
pub struct Images<'a> {
    pub test: &'a Dataset,
    pub train: Option<&'a Dataset>,
}

impl<'a> From<&'a Dataset> for Images<'a> {
    fn from(test: &'a Dataset) -> Self {
        Images { test, train: None }
    }
}

/// Everything a run produced.
#[derive(Clone, Debug)]
pub struct Run {
    pub outcome: Outcome,
    /// The shared mapping's decoded tables and resources.
    pub shared: Option<(SharedMapping, Resources)>,
    /// The dense mapping's tiles and effective matrices.
    pub dense: Option<DenseMapping>,
    /// The dense mapping's converter calibration, when one ran.
    pub calibration: Option<Calibration>,
    pub config: SnnConfig,
    pub lif: Vec<LifParams>,
}

/// The neuron parameters and run settings `settings` ask for.
pub fn configure(
    model: &SharedModel,
    settings: &Settings,
    conversion: &Conversion,
    seed: u64,
) -> (Vec<LifParams>, SnnConfig) {
    let mut lif = snn::convert(
        model,
        conversion.norm,
        conversion.reset,
        settings.neuron.v_th.unwrap_or(1.0),
        settings.neuron.v_leak.unwrap_or(0.0),
        conversion.v_reset,
    );
    for p in &mut lif {
        p.threshold_sigma = settings.neuron.threshold_sigma.unwrap_or(0.0);
    }
    let config = SnnConfig {
        timesteps: settings.neuron.timesteps.unwrap_or(snn::DEFAULT_TIMESTEPS),
        encoding: settings.neuron.encoding.unwrap_or(Encoding::Bernoulli),
        seed,
    };
    (lif, config)
}

/// Runs every test image of `data` with `mapping` under `settings`.
pub fn run<'a>(
    model: &SharedModel,
    data: impl Into<Images<'a>>,
    mapping: &str,
    settings: &Settings,
    conversion: &Conversion,
    seed: u64,
    progress: bool,
) -> Result<Run, SnnError> {
    let Images { test: data, train } = data.into();
    let (lif, config) = configure(model, settings, conversion, seed);
    match mapping {
        "ideal" => Ok(Run {
            outcome: snn::infer(&IdealMapping::new(model)?, &lif, data, &config, progress)?,
            shared: None,
            dense: None,
            calibration: None,
            config,
            lif,
        }),
        "shared" => {
            let m = SharedMapping::new(model, &settings.hardware, seed)?;
            let outcome = snn::infer(&m, &lif, data, &config, progress)?;
            let resources = Resources::from_outcome(&outcome);
            Ok(Run {
                outcome,
                shared: Some((m, resources)),
                dense: None,
                calibration: None,
                config,
                lif,
            })
        }
        "dense" => {
            let mut m = DenseMapping::new(model, &settings.hardware, seed)?;
            let calibration = calibrate::apply(&mut m, &settings.hardware, &lif, train, &config)?;
            let outcome = snn::infer(&m, &lif, data, &config, progress)?;
            Ok(Run {
                outcome,
                shared: None,
                dense: Some(m),
                calibration,
                config,
                lif,
            })
        }
        other => Err(SnnError::UnknownMapping(other.to_string())),
    }
}

/// Runs the first `images` test images of `data` (all of them if `images`
/// exceeds the count) through `model` under `mapping` (see [`MAPPINGS`])
/// and the non-idealities of `nonideal` (dotted keys, see
/// [`crate::nonideal`]), with [`Conversion::default`]. `seed` sets the
/// device sample and the input spike trains. Calibrated converters need
/// `data`'s training images ([`Images`]).
pub fn run_trial<'a>(
    model: &SharedModel,
    data: impl Into<Images<'a>>,
    mapping: &str,
    nonideal: &toml::Table,
    images: usize,
    seed: u64,
) -> Result<TrialOutcome, SnnError> {
    if !MAPPINGS.contains(&mapping) {
        return Err(SnnError::UnknownMapping(mapping.to_string()));
    }
    let settings = nonideal::from_table(nonideal, mapping)?;
    let Images { test, train } = data.into();
    let test = test.truncated(images.min(test.len()));
    let r = run(
        model,
        Images { test: &test, train },
        mapping,
        &settings,
        &Conversion::default(),
        seed,
        false,
    )?;
    Ok(TrialOutcome {
        accuracy: r.outcome.accuracy(&test.labels),
        images: r.outcome.images(),
        frames_per_s: r.outcome.frames_per_s(),
        adc_ranges: r
            .dense
            .as_ref()
            .map(|m| (0..m.layers()).map(|l| m.adc_range_amps(l)).collect())
            .unwrap_or_default(),
    })
}
