//! What a study needs from the thing that measures accuracy.

use crate::model::ModelId;
use crate::value::ParameterSpec;

/// Outcome of one trial.
#[derive(Clone, Debug, PartialEq)]
pub struct TrialResult {
    /// Fraction of images classified correctly, in [0, 1].
    pub accuracy: f64,
    /// Images actually evaluated.
    pub images: usize,
    /// Extra numbers, in the order of [`Evaluator::metrics`].
    pub metrics: Vec<f64>,
}

/// Measures accuracy under a non-ideality table. Implemented by the SNN
/// inference for the real mappings and by [`crate::SyntheticEvaluator`] for
/// demos and tests.
///
/// `evaluate` runs on several threads at once and must be a pure function of
/// its arguments: the same table, image count and seed give the same result,
/// bit for bit. Randomness inside must come from `seed` alone.
pub trait Evaluator: Sync {
    type Error: std::error::Error + Send + Sync + 'static;

    /// Every dotted key this evaluator reads; anything else in a study's
    /// table or sweep is rejected before a trial runs.
    fn parameters(&self) -> &[ParameterSpec];

    /// The model file the trials run, part of the study's identity; `None`
    /// for evaluators without one.
    fn model(&self) -> Option<&ModelId> {
        None
    }

    /// Names of the extra per-trial numbers (columns of `trials.csv`).
    fn metrics(&self) -> Vec<String> {
        Vec::new()
    }

    /// Rejects values the evaluator cannot run (out of range, unknown
    /// choice), so a study fails at the start rather than at trial 500.
    fn validate(&self, nonideal: &toml::Table) -> Result<(), Self::Error> {
        let _ = nonideal;
        Ok(())
    }

    /// The ideal accuracy drawn as a reference line, given the study's base
    /// table (for settings such as time steps that the ideal run shares).
    fn reference(
        &self,
        base: &toml::Table,
        images: usize,
        seed: u64,
    ) -> Result<Option<f64>, Self::Error> {
        let _ = (base, images, seed);
        Ok(None)
    }

    /// Runs one trial on `images` test images. Which images (the first N or
    /// a seeded subset) is the evaluator's documented choice; everything
    /// random in the trial (device samples, noise, input spikes) must derive
    /// from `seed`, and the trial must not share an RNG with others.
    fn evaluate(
        &self,
        nonideal: &toml::Table,
        images: usize,
        seed: u64,
    ) -> Result<TrialResult, Self::Error>;
}
