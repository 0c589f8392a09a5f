//! One run of a mapping under a non-ideality table: what `xbar infer` and
//! the study engine both call. A run is a pure function of its arguments:
//! the device sample and the input spike trains both derive from the seed.

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

/// Everything a run produced.
#[derive(Clone, Debug)]
pub struct Run {
    pub outcome: Outcome,
    /// The shared mapping's decoded tables and resources.
    pub shared: Option<(SharedMapping, Resources)>,
    /// The dense mapping's tiles and effective matrices.
    pub dense: Option<DenseMapping>,
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

/// Runs every image of `data` with `mapping` under `settings`.
pub fn run(
    model: &SharedModel,
    data: &Dataset,
    mapping: &str,
    settings: &Settings,
    conversion: &Conversion,
    seed: u64,
    progress: bool,
) -> Result<Run, SnnError> {
    let (lif, config) = configure(model, settings, conversion, seed);
    match mapping {
        "ideal" => Ok(Run {
            outcome: snn::infer(&IdealMapping::new(model)?, &lif, data, &config, progress)?,
            shared: None,
            dense: None,
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
                config,
                lif,
            })
        }
        "dense" => {
            let m = DenseMapping::new(model, &settings.hardware, seed)?;
            let outcome = snn::infer(&m, &lif, data, &config, progress)?;
            Ok(Run {
                outcome,
                shared: None,
                dense: Some(m),
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
/// device sample and the input spike trains.
pub fn run_trial(
    model: &SharedModel,
    data: &Dataset,
    mapping: &str,
    nonideal: &toml::Table,
    images: usize,
    seed: u64,
) -> Result<TrialOutcome, SnnError> {
    if !MAPPINGS.contains(&mapping) {
        return Err(SnnError::UnknownMapping(mapping.to_string()));
    }
    let settings = nonideal::from_table(nonideal, mapping)?;
    let test = data.truncated(images.min(data.len()));
    let r = run(
        model,
        &test,
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
    })
}
