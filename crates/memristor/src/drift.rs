//! Retention: conductance drift and relaxation after programming.
//!
//! - [`PcmDrift`]: the PCM statistical model of aihwkit's `PCMLikeNoiseModel`
//!   (Nandakumar et al., ICECS 2019; Joshi et al., Nat. Commun. 11, 2473
//!   (2020)): programming noise polynomial in `G/G_max`, power-law drift
//!   `G(t) = G_prog ((t + t0)/t0)^-nu` with `nu` drawn per device from a
//!   normal whose mean and spread depend on `G/G_max`, and accumulated 1/f
//!   read noise growing as `sqrt(ln((t + t_read)/(2 t_read)))`.
//! - [`RramRelaxation`]: log-time relaxation of filamentary HfOx RRAM as
//!   aihwkit's `ReRamCMONoiseModel` fits it (IBM Zurich CMO/HfOx devices):
//!   mean shift and spread both linear in `ln t`.
//! - [`PowerLawDrift`]: a generic power law with `nu` statistics linear in `G/G_max`.
//!
//! Times are seconds since the end of programming.

use rand::Rng;
use rand_distr::StandardNormal;
use serde::{Deserialize, Serialize};

/// A drift model; `model = "pcm" | "rram" | "power_law" | "none"` in TOML.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, Default)]
#[serde(tag = "model", rename_all = "snake_case")]
pub enum Drift {
    #[default]
    None,
    Pcm(PcmDrift),
    Rram(RramRelaxation),
    PowerLaw(PowerLawDrift),
}

/// aihwkit `PCMLikeNoiseModel` parameters (defaults are aihwkit's).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct PcmDrift {
    /// Conductance that `G/G_max` normalises by, S (aihwkit: 25 uS).
    pub g_max: f64,
    /// Programming-noise polynomial `sigma = c0 + c1 g + c2 g^2` (g = G/G_max),
    /// S, valid for `prog_coeff_g_max_reference`; scaled by `g_max / reference`.
    pub prog_coeff: Vec<f64>,
    pub prog_coeff_g_max_reference: f64,
    /// First read after programming, s (drift reference time).
    pub t0: f64,
    /// 1/f noise integration time of one read, s.
    pub t_read: f64,
    pub prog_noise_scale: f64,
    pub read_noise_scale: f64,
    pub drift_scale: f64,
}

impl Default for PcmDrift {
    fn default() -> Self {
        Self {
            g_max: 25e-6,
            prog_coeff: vec![0.26348e-6, 1.9650e-6, -1.1731e-6],
            prog_coeff_g_max_reference: 25e-6,
            t0: 20.0,
            t_read: 250e-9,
            prog_noise_scale: 1.0,
            read_noise_scale: 1.0,
            drift_scale: 1.0,
        }
    }
}

/// Smallest `G/G_max` aihwkit lets into the logarithms.
const ZERO_CLIP: f64 = 1e-7;

impl PcmDrift {
    /// Programming-noise standard deviation at target `g`, S.
    pub fn programming_sigma(&self, g: f64) -> f64 {
        let gh = g / self.g_max;
        let mut power = 1.0;
        let mut sigma = 0.0;
        for c in &self.prog_coeff {
            sigma += c * power;
            power *= gh;
        }
        sigma * self.g_max / self.prog_coeff_g_max_reference
    }

    /// Mean and standard deviation of the normal that `nu` is folded from.
    pub fn nu_stats(&self, g_target: f64) -> (f64, f64) {
        let gh = (g_target / self.g_max).abs().max(ZERO_CLIP);
        let mu = (-0.0155 * gh.ln() + 0.0244).clamp(0.049, 0.1);
        let sigma = (-0.0125 * gh.ln() - 0.0059).clamp(0.008, 0.045);
        (mu, sigma)
    }

    /// Relative 1/f read-noise standard deviation accumulated up to `t`.
    pub fn read_sigma(&self, g_prog: f64, t: f64) -> f64 {
        let tt = t + self.t0;
        let q_s = (0.0088 / (g_prog.abs() / self.g_max).powf(0.65).max(1e-3)).min(0.2);
        q_s * ((tt + self.t_read) / (2.0 * self.t_read))
            .ln()
            .max(0.0)
            .sqrt()
    }

    /// `E[G(t)/G_prog]` over the `nu` distribution of target `g_target`:
    /// `E[r^-|Y|]`, `Y ~ N(mu, sigma)`, `r = (t + t0)/t0` (folded normal).
    pub fn expected_ratio(&self, g_target: f64, t: f64) -> f64 {
        let (mu, sigma) = self.nu_stats(g_target);
        let l = ((t + self.t0) / self.t0).ln() * self.drift_scale;
        folded_normal_exp(mu, sigma, l)
    }
}

/// `E[exp(-l |Y|)]` for `Y ~ N(mu, sigma)`.
pub fn folded_normal_exp(mu: f64, sigma: f64, l: f64) -> f64 {
    if sigma == 0.0 {
        return (-l * mu.abs()).exp();
    }
    let phi = |z: f64| 0.5 * libm::erfc(-z / std::f64::consts::SQRT_2);
    let s2 = 0.5 * l * l * sigma * sigma;
    (-l * mu + s2).exp() * phi(mu / sigma - l * sigma)
        + (l * mu + s2).exp() * phi(-mu / sigma - l * sigma)
}

/// Log-time relaxation (aihwkit `ReRamCMONoiseModel` decay and read noise).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct RramRelaxation {
    /// Mean conductance change per unit `ln(t / 1 s)`, S.
    pub mean_per_ln_s: f64,
    /// Spread: `sigma(t) = std_per_ln_s ln(t) + std_at_1s`, S.
    pub std_per_ln_s: f64,
    pub std_at_1s: f64,
    /// Read noise `K log10(G / 1 uS) sqrt(ln((t + t_read)/(2 t_read)))` uS.
    pub read_k: f64,
    pub t_read: f64,
    /// Conductances are clipped to `[g_min, g_max]` after relaxation, S.
    pub g_min: f64,
    pub g_max: f64,
}

impl Default for RramRelaxation {
    fn default() -> Self {
        Self {
            mean_per_ln_s: -0.08900206e-6,
            std_per_ln_s: 0.04201137e-6,
            std_at_1s: 0.41183342e-6,
            read_k: 0.0277316483,
            t_read: 1e-6,
            g_min: 0.0,
            g_max: f64::INFINITY,
        }
    }
}

impl RramRelaxation {
    /// `E[G(t)] - G_prog` before clipping, S.
    pub fn expected_shift(&self, t: f64) -> f64 {
        if t <= 0.0 {
            0.0
        } else {
            self.mean_per_ln_s * t.ln()
        }
    }
}

/// Generic power-law drift `G(t) = G0 ((t + t0)/t0)^-nu`, `nu = |N(mean, std)|`,
/// mean and std linear in `G0/g_max`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct PowerLawDrift {
    pub t0: f64,
    pub nu_mean: f64,
    pub nu_std: f64,
    pub nu_mean_slope: f64,
    pub nu_std_slope: f64,
    pub g_max: f64,
}

impl Default for PowerLawDrift {
    fn default() -> Self {
        Self {
            t0: 1.0,
            nu_mean: 0.05,
            nu_std: 0.01,
            nu_mean_slope: 0.0,
            nu_std_slope: 0.0,
            g_max: 1.0,
        }
    }
}

impl PowerLawDrift {
    fn stats(&self, g: f64) -> (f64, f64) {
        let gh = g / self.g_max;
        (
            self.nu_mean + self.nu_mean_slope * gh,
            (self.nu_std + self.nu_std_slope * gh).max(0.0),
        )
    }

    /// `E[G(t)/G0]`.
    pub fn expected_ratio(&self, g: f64, t: f64) -> f64 {
        let (mu, sigma) = self.stats(g);
        folded_normal_exp(mu, sigma, ((t + self.t0) / self.t0).ln())
    }
}

impl Drift {
    /// Checks every parameter; `Err` names the offending key.
    pub fn validate(&self) -> Result<(), String> {
        let pos = |name: &str, v: f64| {
            if v.is_finite() && v > 0.0 {
                Ok(())
            } else {
                Err(format!(
                    "drift `{name}` must be positive and finite, got {v}"
                ))
            }
        };
        let nonneg = |name: &str, v: f64| {
            if v.is_finite() && v >= 0.0 {
                Ok(())
            } else {
                Err(format!("drift `{name}` must be >= 0 and finite, got {v}"))
            }
        };
        match self {
            Drift::None => Ok(()),
            Drift::Pcm(p) => {
                pos("g_max", p.g_max)?;
                pos("prog_coeff_g_max_reference", p.prog_coeff_g_max_reference)?;
                pos("t0", p.t0)?;
                pos("t_read", p.t_read)?;
                nonneg("prog_noise_scale", p.prog_noise_scale)?;
                nonneg("read_noise_scale", p.read_noise_scale)?;
                nonneg("drift_scale", p.drift_scale)?;
                if let Some(c) = p.prog_coeff.iter().find(|c| !c.is_finite()) {
                    return Err(format!("drift `prog_coeff` holds {c}"));
                }
                Ok(())
            }
            Drift::Rram(r) => {
                for (name, v) in [
                    ("mean_per_ln_s", r.mean_per_ln_s),
                    ("std_per_ln_s", r.std_per_ln_s),
                ] {
                    if !v.is_finite() {
                        return Err(format!("drift `{name}` must be finite, got {v}"));
                    }
                }
                nonneg("std_at_1s", r.std_at_1s)?;
                nonneg("read_k", r.read_k)?;
                pos("t_read", r.t_read)?;
                nonneg("g_min", r.g_min)?;
                if r.g_max.is_nan() || r.g_max <= r.g_min {
                    return Err(format!("drift `g_max` ({}) must exceed g_min", r.g_max));
                }
                Ok(())
            }
            Drift::PowerLaw(p) => {
                pos("t0", p.t0)?;
                pos("g_max", p.g_max)?;
                for (name, v) in [
                    ("nu_mean", p.nu_mean),
                    ("nu_std", p.nu_std),
                    ("nu_mean_slope", p.nu_mean_slope),
                    ("nu_std_slope", p.nu_std_slope),
                ] {
                    if !v.is_finite() {
                        return Err(format!("drift `{name}` must be finite, got {v}"));
                    }
                }
                Ok(())
            }
        }
    }

    /// Extra programming noise the model brings (PCM only), S.
    pub(crate) fn programming_noise(&self, g_target: f64, rng: &mut impl Rng) -> f64 {
        match self {
            Drift::Pcm(p) => {
                let n: f64 = rng.sample(StandardNormal);
                p.prog_noise_scale * p.programming_sigma(g_target) * n
            }
            _ => 0.0,
        }
    }

    /// Conductance at `t` seconds after programming to `g_prog` aiming at
    /// `g_target`; `coeff` draws the per-device drift coefficient, `noise`
    /// the accumulated read noise.
    pub(crate) fn evolve(
        &self,
        g_target: f64,
        g_prog: f64,
        t: f64,
        coeff: &mut impl Rng,
        noise: &mut impl Rng,
    ) -> f64 {
        match self {
            Drift::None => g_prog,
            Drift::Pcm(p) => {
                let (mu, sigma) = p.nu_stats(g_target);
                let n: f64 = coeff.sample(StandardNormal);
                let nu = (mu + sigma * n).abs() * p.drift_scale;
                let g_drift = if t > 0.0 {
                    g_prog * ((t + p.t0) / p.t0).powf(-nu)
                } else {
                    g_prog
                };
                let n: f64 = noise.sample(StandardNormal);
                let g = g_drift + g_drift.abs() * p.read_noise_scale * p.read_sigma(g_prog, t) * n;
                g.max(0.0)
            }
            Drift::Rram(r) => {
                if t <= 0.0 {
                    return g_prog;
                }
                let lt = t.ln();
                let n: f64 = coeff.sample(StandardNormal);
                let spread = (r.std_per_ln_s * lt + r.std_at_1s).max(0.0);
                let g_drift = g_prog + r.mean_per_ln_s * lt + spread * n;
                let g_us = g_drift.max(1e-12) * 1e6;
                let read_us = r.read_k
                    * g_us.log10()
                    * ((t + r.t_read) / (2.0 * r.t_read)).ln().max(0.0).sqrt();
                let n: f64 = noise.sample(StandardNormal);
                (g_drift + read_us * 1e-6 * n).clamp(r.g_min, r.g_max)
            }
            Drift::PowerLaw(p) => {
                let (mu, sigma) = p.stats(g_target);
                let n: f64 = coeff.sample(StandardNormal);
                let nu = (mu + sigma * n).abs();
                g_prog * ((t + p.t0) / p.t0).powf(-nu)
            }
        }
    }
}

/// A drift preset file (`models/drift_*.toml`): the drift model plus the
/// target conductances a stand-alone drift study programs its devices to.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct DriftPreset {
    /// Target conductances, S; devices are spread evenly over them.
    pub targets: Vec<f64>,
    pub drift: Drift,
}

/// Why a drift preset could not be loaded.
#[derive(Debug, thiserror::Error)]
pub enum PresetError {
    #[error("cannot read {path}: {error}")]
    Io {
        path: std::path::PathBuf,
        error: std::io::Error,
    },
    #[error("{path}: {error}")]
    Toml {
        path: std::path::PathBuf,
        error: toml::de::Error,
    },
    #[error("{path}: {why}")]
    Invalid {
        path: std::path::PathBuf,
        why: String,
    },
}

/// Loads and validates a drift preset.
pub fn load_drift_preset(path: &std::path::Path) -> Result<DriftPreset, PresetError> {
    let text = std::fs::read_to_string(path).map_err(|error| PresetError::Io {
        path: path.to_path_buf(),
        error,
    })?;
    let preset: DriftPreset = toml::from_str(&text).map_err(|error| PresetError::Toml {
        path: path.to_path_buf(),
        error,
    })?;
    let invalid = |why: String| PresetError::Invalid {
        path: path.to_path_buf(),
        why,
    };
    if preset.targets.is_empty() {
        return Err(invalid("`targets` is empty".into()));
    }
    if let Some(g) = preset
        .targets
        .iter()
        .find(|g| !(g.is_finite() && **g > 0.0))
    {
        return Err(invalid(format!(
            "`targets` holds {g}; conductances must be positive"
        )));
    }
    preset.drift.validate().map_err(invalid)?;
    Ok(preset)
}

impl Drift {
    /// Expected `E[G(t)] / G_prog` for a device programmed to `g` (before
    /// read noise and clipping, which leave the mean unchanged away from 0).
    pub fn expected_mean_ratio(&self, g: f64, t: f64) -> f64 {
        match self {
            Drift::None => 1.0,
            Drift::Pcm(p) => p.expected_ratio(g, t),
            Drift::Rram(r) => (g + r.expected_shift(t)) / g,
            Drift::PowerLaw(p) => p.expected_ratio(g, t),
        }
    }
}
