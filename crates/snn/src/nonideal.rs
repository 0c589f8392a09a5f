//! The `--nonideal` TOML file: each key is off (ideal) unless set, and is
//! addressed by its dotted path (`lif.v_leak`), which is what sweeps vary.
//!
//! Neuron and input keys (`lif.*`, `input.*`) apply to every mapping. Keys
//! of the physical array (`device.*`, `drift.*`, `faults.*`, `crossbar.*`,
//! `adc.*`) describe hardware the ideal mapping does not have; asking the
//! ideal mapping for them is an error rather than a silent no-op.
//! `adc.calibration`, `adc.percentile` and `adc.calibration_images` choose
//! how the dense mapping's converters get their range ([`crate::calibrate`]).

use std::path::{Path, PathBuf};

use xbar_memristor::drift::{Drift, PcmDrift, RramRelaxation};
use xbar_memristor::stats::{Compensation, NonIdealConfig};

use crate::calibrate::{AdcCalibration, DEFAULT_IMAGES, DEFAULT_PERCENTILE};
use crate::snn::Encoding;

/// Keys of the physical array, meaningful only for crossbar mappings.
pub const HARDWARE_KEYS: [&str; 20] = [
    "device.programming_sigma",
    "device.read_noise_sigma",
    "device.g_min",
    "device.g_max",
    "device.levels",
    "device.on_off_ratio",
    "drift.model",
    "drift.time_s",
    "drift.compensation",
    "faults.stuck_on_rate",
    "faults.stuck_off_rate",
    "crossbar.tile",
    "crossbar.r_wire",
    "crossbar.r_driver",
    "crossbar.r_sense",
    "adc.bits",
    "adc.range",
    "adc.calibration",
    "adc.percentile",
    "adc.calibration_images",
];

/// Neuron and input keys, honoured by every mapping.
pub const NEURON_KEYS: [&str; 5] = [
    "lif.v_th",
    "lif.v_leak",
    "lif.threshold_sigma",
    "input.encoding",
    "input.timesteps",
];

/// Non-idealities of neurons and input coding.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct NeuronSettings {
    /// Threshold as a multiple of the converted threshold (1 = as trained).
    pub v_th: Option<f32>,
    /// Leak per time step as a fraction of the threshold (negative leaks).
    pub v_leak: Option<f32>,
    /// Relative standard deviation of each neuron's threshold, drawn once
    /// per trial (`xbar_periph::LifLayer`'s threshold spread).
    pub threshold_sigma: Option<f32>,
    pub encoding: Option<Encoding>,
    pub timesteps: Option<usize>,
}

/// Non-idealities of the memristor arrays and their periphery.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct HardwareSettings {
    /// `device.*`, `drift.*` and `faults.*`, as the device crate applies them.
    pub device: NonIdealConfig,
    /// `crossbar.tile`: rows and columns of one crossbar (dense mapping).
    pub tile: Option<usize>,
    /// `crossbar.r_wire`: row- and column-wire resistance per cell pitch, Ω.
    pub r_wire: f64,
    /// `crossbar.r_driver`: row driver output resistance, Ω.
    pub r_driver: f64,
    /// `crossbar.r_sense`: column sense (virtual ground) input resistance, Ω.
    pub r_sense: f64,
    /// `adc.bits`: resolution of the column converters; 0 is ideal.
    pub adc_bits: u32,
    /// `adc.range`: full-scale column current, A (default: the LRS read current).
    pub adc_range: Option<f64>,
    /// `adc.calibration`, `adc.percentile`, `adc.calibration_images`: how
    /// the dense mapping's converters get their range when `adc.range` is
    /// not given (see [`crate::calibrate`]).
    pub adc_calibration: AdcCalibration,
}

/// Every setting of a `--nonideal` table.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct Settings {
    pub neuron: NeuronSettings,
    pub hardware: HardwareSettings,
    /// The keys that were set, as `(dotted.key, value)`, in file order.
    pub keys: Vec<(String, String)>,
}

/// A bad key or value in a non-ideality table.
#[derive(Debug, Clone, thiserror::Error, PartialEq)]
pub enum KeyError {
    #[error("{key} = {value}: {why}")]
    Value {
        key: String,
        value: String,
        why: String,
    },
    #[error("unknown key {key}; known keys: {}", known_keys())]
    Unknown { key: String },
    #[error("{key} describes the memristor array, which --mapping {mapping} does not model")]
    NotModelled { key: String, mapping: String },
}

/// A problem in a `--nonideal` file.
#[derive(Debug, thiserror::Error)]
pub enum NonIdealError {
    #[error("{}: {source}", .path.display())]
    Io {
        path: PathBuf,
        source: std::io::Error,
    },
    #[error("{}: {message}", .path.display())]
    Parse { path: PathBuf, message: String },
    #[error("{}: {source}", .path.display())]
    Key { path: PathBuf, source: KeyError },
}

fn known_keys() -> String {
    NEURON_KEYS
        .iter()
        .chain(HARDWARE_KEYS.iter())
        .copied()
        .collect::<Vec<_>>()
        .join(", ")
}

/// Every key of a TOML document as `(dotted.path, value)`.
pub fn flatten(table: &toml::Table) -> Vec<(String, toml::Value)> {
    fn walk(prefix: &str, table: &toml::Table, out: &mut Vec<(String, toml::Value)>) {
        for (k, v) in table {
            let key = if prefix.is_empty() {
                k.clone()
            } else {
                format!("{prefix}.{k}")
            };
            match v {
                toml::Value::Table(t) => walk(&key, t, out),
                other => out.push((key, other.clone())),
            }
        }
    }
    let mut out = Vec::new();
    walk("", table, &mut out);
    out
}

/// Reads the settings of file `path` for `mapping` (which decides whether
/// hardware keys are allowed).
pub fn read(path: &Path, mapping: &str) -> Result<Settings, NonIdealError> {
    let text = std::fs::read_to_string(path).map_err(|source| NonIdealError::Io {
        path: path.to_path_buf(),
        source,
    })?;
    parse(&text, path, mapping)
}

/// As [`read`] from text; `path` only names the source.
pub fn parse(text: &str, path: &Path, mapping: &str) -> Result<Settings, NonIdealError> {
    let table: toml::Table = text
        .parse()
        .map_err(|e: toml::de::Error| NonIdealError::Parse {
            path: path.to_path_buf(),
            message: e.to_string(),
        })?;
    from_table(&table, mapping).map_err(|source| NonIdealError::Key {
        path: path.to_path_buf(),
        source,
    })
}

/// The settings of a parsed table for `mapping` (`ideal` rejects hardware
/// keys).
pub fn from_table(table: &toml::Table, mapping: &str) -> Result<Settings, KeyError> {
    let mut s = Settings::default();
    let hw = &mut s.hardware;
    let mut drift_model: Option<String> = None;
    let mut calibration: Option<String> = None;
    let mut percentile: Option<f64> = None;
    let mut calibration_images: Option<usize> = None;
    for (key, value) in flatten(table) {
        let bad = |why: &str| KeyError::Value {
            key: key.clone(),
            value: value.to_string(),
            why: why.to_string(),
        };
        let number = match &value {
            toml::Value::Float(f) => Some(*f),
            toml::Value::Integer(i) => Some(*i as f64),
            _ => None,
        };
        let non_negative = || match number {
            Some(v) if v.is_finite() && v >= 0.0 => Ok(v),
            _ => Err(bad("must be a finite number >= 0")),
        };
        let positive = || match number {
            Some(v) if v.is_finite() && v > 0.0 => Ok(v),
            _ => Err(bad("must be a finite number > 0")),
        };
        // The neuron keys are held as 32-bit floats.
        let single = |v: f64| match v as f32 {
            x if x.is_finite() => Ok(x),
            _ => Err(bad(
                "is beyond the range of a 32-bit float (magnitude below 3.4e38)",
            )),
        };
        let fraction = || match number {
            Some(v) if (0.0..=1.0).contains(&v) => Ok(v),
            _ => Err(bad("must be a rate in [0, 1]")),
        };
        if HARDWARE_KEYS.contains(&key.as_str()) && mapping == "ideal" {
            return Err(KeyError::NotModelled {
                key,
                mapping: mapping.to_string(),
            });
        }
        match key.as_str() {
            "lif.v_th" => {
                s.neuron.v_th = Some(single(positive().map_err(|_| {
                    bad("must be a positive number (multiple of the converted threshold)")
                })?)?)
            }
            "lif.v_leak" => match number {
                Some(v) if v.is_finite() => s.neuron.v_leak = Some(single(v)?),
                _ => {
                    return Err(bad(
                        "must be a finite number (fraction of the threshold per step)",
                    ))
                }
            },
            "lif.threshold_sigma" => {
                s.neuron.threshold_sigma = Some(single(non_negative().map_err(|_| {
                    bad("must be a finite number >= 0 (fraction of the threshold)")
                })?)?)
            }
            "input.encoding" => match value.as_str() {
                Some("bernoulli") => s.neuron.encoding = Some(Encoding::Bernoulli),
                Some("constant") => s.neuron.encoding = Some(Encoding::Constant),
                _ => return Err(bad("must be \"bernoulli\" or \"constant\"")),
            },
            "input.timesteps" => match value.as_integer() {
                Some(t) if t >= 1 => s.neuron.timesteps = Some(t as usize),
                _ => return Err(bad("must be a positive integer")),
            },
            "device.programming_sigma" => hw.device.programming_sigma = Some(non_negative()?),
            "device.read_noise_sigma" => hw.device.read_noise_sigma = Some(non_negative()?),
            "device.g_min" => hw.device.g_min = Some(non_negative()?),
            "device.g_max" => match positive()? {
                g if g <= MAX_CONDUCTANCE => hw.device.g_max = Some(g),
                _ => {
                    let why = format!(
                        "must be at most {MAX_CONDUCTANCE} S (a 1 Ω cell; memristors stay \
                         below about 10 mS, and the array's circuit loses its precision when \
                         cells conduct far more than their wires)"
                    );
                    return Err(bad(&why));
                }
            },
            "device.levels" => match value.as_integer() {
                Some(k) if (2..=1 << 16).contains(&k) => hw.device.levels = Some(k as u32),
                _ => return Err(bad("must be an integer from 2 to 65536")),
            },
            "device.on_off_ratio" => match number {
                Some(r) if r.is_finite() && r > 1.0 => hw.device.on_off_ratio = Some(r),
                _ => return Err(bad("must be a finite number > 1")),
            },
            "drift.model" => match value.as_str() {
                Some(m @ ("none" | "pcm" | "rram")) => drift_model = Some(m.to_string()),
                _ => return Err(bad("must be \"none\", \"pcm\" or \"rram\"")),
            },
            "drift.time_s" => hw.device.drift_time_s = Some(non_negative()?),
            "drift.compensation" => {
                hw.device.compensation = Some(match value.as_str() {
                    Some("none") => Compensation::None,
                    Some("layer") => Compensation::Layer,
                    Some("column") => Compensation::Column,
                    _ => return Err(bad("must be \"none\", \"layer\" or \"column\"")),
                })
            }
            "faults.stuck_on_rate" => hw.device.stuck_on_rate = Some(fraction()?),
            "faults.stuck_off_rate" => hw.device.stuck_off_rate = Some(fraction()?),
            "crossbar.tile" => match value.as_integer() {
                Some(t) if (2..=4096).contains(&t) => hw.tile = Some(t as usize),
                _ => return Err(bad("must be an integer from 2 to 4096")),
            },
            "crossbar.r_wire" => hw.r_wire = non_negative()?,
            "crossbar.r_driver" => hw.r_driver = non_negative()?,
            "crossbar.r_sense" => hw.r_sense = non_negative()?,
            "adc.bits" => match value.as_integer() {
                Some(b) if (0..=16).contains(&b) => hw.adc_bits = b as u32,
                _ => return Err(bad("must be an integer from 0 (ideal) to 16")),
            },
            "adc.range" => hw.adc_range = Some(positive()?),
            "adc.calibration" => match value.as_str() {
                Some(m @ ("full_scale" | "percentile")) => calibration = Some(m.to_string()),
                _ => return Err(bad("must be \"full_scale\" or \"percentile\"")),
            },
            "adc.percentile" => match number {
                Some(p) if p > 0.0 && p <= 100.0 => percentile = Some(p),
                _ => return Err(bad("must be a percentile in (0, 100]")),
            },
            "adc.calibration_images" => match value.as_integer() {
                Some(n) if (1..=MAX_CALIBRATION_IMAGES as i64).contains(&n) => {
                    calibration_images = Some(n as usize)
                }
                _ => {
                    let why = format!(
                        "must be an integer from 1 to {MAX_CALIBRATION_IMAGES} (training images)"
                    );
                    return Err(bad(&why));
                }
            },
            _ => return Err(KeyError::Unknown { key }),
        }
        s.keys.push((key, value.to_string()));
    }
    if let Some(m) = drift_model {
        hw.device.drift = Some(match m.as_str() {
            "pcm" => Drift::Pcm(PcmDrift::default()),
            "rram" => Drift::Rram(RramRelaxation::default()),
            _ => Drift::None,
        });
    }
    hw.adc_calibration = adc_calibration(calibration, percentile, calibration_images, mapping)?;
    if let (AdcCalibration::Percentile { .. }, Some(range)) = (&hw.adc_calibration, hw.adc_range) {
        // Two answers to one question; silently keeping one would mislabel
        // the run's results.
        return Err(KeyError::Value {
            key: "adc.range".into(),
            value: range.to_string(),
            why: "a fixed range and adc.calibration = \"percentile\" contradict each other; \
                  set one of them"
                .into(),
        });
    }
    let p_on = hw.device.stuck_on_rate.unwrap_or(0.0);
    let p_off = hw.device.stuck_off_rate.unwrap_or(0.0);
    if p_on + p_off > 1.0 {
        return Err(KeyError::Value {
            key: "faults.stuck_off_rate".into(),
            value: p_off.to_string(),
            why: format!(
                "faults.stuck_on_rate + faults.stuck_off_rate = {} exceeds 1",
                p_on + p_off
            ),
        });
    }
    if let (Some(lo), Some(hi)) = (hw.device.g_min, hw.device.g_max) {
        if lo >= hi {
            return Err(KeyError::Value {
                key: "device.g_min".into(),
                value: lo.to_string(),
                why: format!("must be below device.g_max = {hi}"),
            });
        }
    }
    Ok(s)
}

/// The largest `device.g_max`, S.
pub const MAX_CONDUCTANCE: f64 = 1.0;

/// Training images `adc.calibration_images` may ask for: the MNIST training
/// set.
pub const MAX_CALIBRATION_IMAGES: usize = 60_000;

/// The calibration the three `adc.*` calibration keys ask for.
///
/// `adc.percentile` and `adc.calibration_images` without `adc.calibration`
/// are an error rather than a silent full-scale run; with an explicit
/// `adc.calibration = "full_scale"` they are accepted and unused, so a
/// study can sweep `adc.calibration` over both modes with one base table.
fn adc_calibration(
    mode: Option<String>,
    percentile: Option<f64>,
    images: Option<usize>,
    mapping: &str,
) -> Result<AdcCalibration, KeyError> {
    let needs_mode = |key: &str, value: String| KeyError::Value {
        key: key.into(),
        value,
        why: "only used with adc.calibration = \"percentile\", which is not set".into(),
    };
    match mode.as_deref() {
        Some("percentile") if mapping == "dense" => Ok(AdcCalibration::Percentile {
            percentile: percentile.unwrap_or(DEFAULT_PERCENTILE),
            images: images.unwrap_or(DEFAULT_IMAGES),
        }),
        Some("percentile") => Err(KeyError::Value {
            key: "adc.calibration".into(),
            value: "\"percentile\"".into(),
            why: format!(
                "calibrated ranges are built for the dense mapping's column converters, \
                 not for --mapping {mapping}"
            ),
        }),
        Some(_) => Ok(AdcCalibration::FullScale),
        None => match (percentile, images) {
            (Some(p), _) => Err(needs_mode("adc.percentile", p.to_string())),
            (_, Some(n)) => Err(needs_mode("adc.calibration_images", n.to_string())),
            _ => Ok(AdcCalibration::FullScale),
        },
    }
}
