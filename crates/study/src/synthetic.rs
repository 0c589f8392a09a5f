//! A closed-form stand-in for network inference (`mapping = "synthetic"`).
//!
//! It exists to demonstrate and test the study machinery without MNIST or a
//! trained model: its accuracy is a known function of the swept values, so
//! every number a study writes can be checked by hand. It is not a model of
//! any real hardware.
//!
//! The expected accuracy is `p = 0.1 + (p0 − 0.1) · g_σ · g_wire · g_adc · g_drift`,
//! 0.1 being chance for ten classes:
//! - `g_σ = exp(−(σ / 0.1)²)` with σ = `device.programming_sigma`;
//! - `g_wire = 1 / (1 + r / 5 Ω)` with r = `crossbar.r_wire`;
//! - `g_adc = 1 − 2^(1 − bits)` with bits = `adc.bits` (0 = ideal ADC, 1);
//! - `g_drift = (1 + t / 1 s)^(−ν)` with t = `drift.time_s`, ν = 0.02, or
//!   0.002 when `drift.compensation` is true.
//!
//! A trial's correct count is drawn from Binomial(images, p) with a ChaCha8
//! stream seeded by the trial seed; `expected_accuracy` reports `p`.
//! `synthetic.trial_delay_s` makes each trial sleep, to exercise progress,
//! interruption and resume.

use rand::SeedableRng;
use rand_chacha::ChaCha8Rng;
use rand_distr::{Binomial, Distribution};

use crate::evaluator::{Evaluator, TrialResult};
use crate::value::{get_dotted, ParameterSpec, ValueKind};

/// Error for a parameter value the synthetic model cannot take.
#[derive(Debug, thiserror::Error)]
#[error("synthetic mapping: {0}")]
pub struct SyntheticError(String);

pub(crate) const PARAMETERS: &[ParameterSpec] = &[
    ParameterSpec {
        key: "device.programming_sigma",
        kind: ValueKind::Float,
        unit: "relative",
        description: "programming error σ relative to the target conductance",
    },
    ParameterSpec {
        key: "crossbar.r_wire",
        kind: ValueKind::Float,
        unit: "Ω",
        description: "wire resistance per cell segment",
    },
    ParameterSpec {
        key: "adc.bits",
        kind: ValueKind::Integer,
        unit: "bit",
        description: "ADC resolution (0 = ideal)",
    },
    ParameterSpec {
        key: "drift.time_s",
        kind: ValueKind::Float,
        unit: "s",
        description: "time since programming",
    },
    ParameterSpec {
        key: "drift.compensation",
        kind: ValueKind::Bool,
        unit: "",
        description: "drift compensation on",
    },
    ParameterSpec {
        key: "synthetic.ideal_accuracy",
        kind: ValueKind::Float,
        unit: "",
        description: "accuracy without non-idealities (default 0.964, the paper's)",
    },
    ParameterSpec {
        key: "synthetic.trial_delay_s",
        kind: ValueKind::Float,
        unit: "s",
        description: "sleep per trial (for demos and interruption tests)",
    },
];

/// The paper's SNN accuracy on MNIST, the default ideal accuracy.
pub const PAPER_ACCURACY: f64 = 0.964;

const CHANCE: f64 = 0.1;

/// The synthetic evaluator; see the module docs for its formula.
#[derive(Clone, Copy, Debug, Default)]
pub struct SyntheticEvaluator;

/// Parameters of the synthetic model, read from a non-ideality table.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct SyntheticParams {
    pub programming_sigma: f64,
    pub r_wire: f64,
    pub adc_bits: i64,
    pub drift_time_s: f64,
    pub drift_compensation: bool,
    pub ideal_accuracy: f64,
    pub trial_delay_s: f64,
}

impl SyntheticParams {
    /// Reads and range-checks the table; absent keys mean "ideal".
    pub fn from_table(table: &toml::Table) -> Result<SyntheticParams, SyntheticError> {
        let float =
            |key: &str, default: f64, ok: fn(f64) -> bool, what: &str| match get_dotted(table, key)
            {
                None => Ok(default),
                Some(v) => match v.as_float().or_else(|| v.as_integer().map(|i| i as f64)) {
                    Some(x) if x.is_finite() && ok(x) => Ok(x),
                    _ => Err(SyntheticError(format!("`{key}` = {v}: must be {what}"))),
                },
            };
        let bits = match get_dotted(table, "adc.bits") {
            None => 0,
            Some(v) => match v.as_integer() {
                Some(b) if (0..=32).contains(&b) => b,
                _ => {
                    return Err(SyntheticError(format!(
                        "`adc.bits` = {v}: must be an integer from 0 (ideal) to 32"
                    )))
                }
            },
        };
        let compensation = match get_dotted(table, "drift.compensation") {
            None => false,
            Some(v) => v.as_bool().ok_or_else(|| {
                SyntheticError(format!("`drift.compensation` = {v}: must be true or false"))
            })?,
        };
        Ok(SyntheticParams {
            programming_sigma: float("device.programming_sigma", 0.0, |x| x >= 0.0, "≥ 0")?,
            r_wire: float("crossbar.r_wire", 0.0, |x| x >= 0.0, "≥ 0 Ω")?,
            adc_bits: bits,
            drift_time_s: float("drift.time_s", 0.0, |x| x >= 0.0, "≥ 0 s")?,
            drift_compensation: compensation,
            ideal_accuracy: float(
                "synthetic.ideal_accuracy",
                PAPER_ACCURACY,
                |x| x > CHANCE && x <= 1.0,
                "in (0.1, 1]",
            )?,
            trial_delay_s: float(
                "synthetic.trial_delay_s",
                0.0,
                |x| (0.0..=3600.0).contains(&x),
                "from 0 to 3600 s",
            )?,
        })
    }

    /// The expected accuracy `p` of the module docs.
    pub fn expected_accuracy(&self) -> f64 {
        let g_sigma = (-(self.programming_sigma / 0.1).powi(2)).exp();
        let g_wire = 1.0 / (1.0 + self.r_wire / 5.0);
        let g_adc = if self.adc_bits == 0 {
            1.0
        } else {
            1.0 - 2f64.powi(1 - self.adc_bits as i32)
        };
        let nu = if self.drift_compensation { 0.002 } else { 0.02 };
        let g_drift = (1.0 + self.drift_time_s).powf(-nu);
        CHANCE + (self.ideal_accuracy - CHANCE) * g_sigma * g_wire * g_adc * g_drift
    }
}

impl Evaluator for SyntheticEvaluator {
    type Error = SyntheticError;

    fn parameters(&self) -> &[ParameterSpec] {
        PARAMETERS
    }

    fn metrics(&self) -> Vec<String> {
        vec!["expected_accuracy".into()]
    }

    fn validate(&self, nonideal: &toml::Table) -> Result<(), SyntheticError> {
        SyntheticParams::from_table(nonideal).map(|_| ())
    }

    fn reference(
        &self,
        base: &toml::Table,
        _images: usize,
        _seed: u64,
    ) -> Result<Option<f64>, SyntheticError> {
        Ok(Some(SyntheticParams::from_table(base)?.ideal_accuracy))
    }

    fn evaluate(
        &self,
        nonideal: &toml::Table,
        images: usize,
        seed: u64,
    ) -> Result<TrialResult, SyntheticError> {
        let params = SyntheticParams::from_table(nonideal)?;
        if params.trial_delay_s > 0.0 {
            std::thread::sleep(std::time::Duration::from_secs_f64(params.trial_delay_s));
        }
        let p = params.expected_accuracy();
        let binomial = Binomial::new(images as u64, p)
            .map_err(|e| SyntheticError(format!("binomial({images}, {p}): {e}")))?;
        let correct = binomial.sample(&mut ChaCha8Rng::seed_from_u64(seed));
        Ok(TrialResult {
            accuracy: correct as f64 / images as f64,
            images,
            metrics: vec![p],
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn table(text: &str) -> toml::Table {
        toml::from_str(text).unwrap()
    }

    #[test]
    fn closed_form_factors() {
        let ideal = SyntheticParams::from_table(&toml::Table::new()).unwrap();
        assert_eq!(ideal.expected_accuracy(), PAPER_ACCURACY);
        let p = SyntheticParams::from_table(&table(
            "device.programming_sigma = 0.1\ncrossbar.r_wire = 5.0\nadc.bits = 2",
        ))
        .unwrap();
        // 0.1 + 0.864 · e^-1 · 1/2 · 1/2
        let want = 0.1 + 0.864 * (-1f64).exp() * 0.25;
        assert!((p.expected_accuracy() - want).abs() < 1e-15);
        let year = 31_536_000.0_f64;
        let d = SyntheticParams::from_table(&table(&format!("drift.time_s = {year:.1}"))).unwrap();
        let want = 0.1 + 0.864 * (1.0 + year).powf(-0.02);
        assert!((d.expected_accuracy() - want).abs() < 1e-15);
    }

    #[test]
    fn binomial_trials_are_seeded_and_unbiased() {
        let t = table("device.programming_sigma = 0.05");
        let p = SyntheticParams::from_table(&t).unwrap().expected_accuracy();
        let e = SyntheticEvaluator;
        let a = e.evaluate(&t, 1000, 11).unwrap();
        assert_eq!(a, e.evaluate(&t, 1000, 11).unwrap());
        assert_eq!(a.metrics, vec![p]);
        // Mean of 400 trials of 1000 images: standard error sqrt(p(1-p)/4e5).
        let n = 400;
        let mean = (0..n)
            .map(|s| e.evaluate(&t, 1000, s).unwrap().accuracy)
            .sum::<f64>()
            / n as f64;
        let se = (p * (1.0 - p) / (1000.0 * n as f64)).sqrt();
        assert!((mean - p).abs() < 4.0 * se, "mean {mean}, p {p}, se {se}");
    }

    #[test]
    fn rejects_bad_values() {
        let e = SyntheticEvaluator;
        for bad in [
            "device.programming_sigma = -0.1",
            "adc.bits = 40",
            "synthetic.ideal_accuracy = 0.05",
            "drift.compensation = 1",
        ] {
            let err = e.validate(&table(bad)).unwrap_err().to_string();
            assert!(err.contains(bad.split(' ').next().unwrap()), "{err}");
        }
    }
}
