//! Statistical non-idealities of a programmed conductance array, seeded per
//! device: what the network mapping applies to its target conductances.
//!
//! [`NonIdealConfig`] is the whole pipeline; every field is optional and off
//! when absent. Per device, in this order:
//! 1. clip the target to `[g_lo, g_max]`, `g_lo = max(g_min, g_max/on_off_ratio)`;
//! 2. quantise to `levels` evenly spaced levels (2 = binary HRS/LRS);
//! 3. device-to-device spread: `G *= exp(d2d_sigma N)` (lognormal, median kept);
//! 4. programming noise: `G += programming_sigma G N`, plus the drift model's
//!    own programming noise (PCM); clipped at 0;
//! 5. stuck-at faults: LRS (`g_max`) with `stuck_on_rate`, HRS (`g_lo`) with
//!    `stuck_off_rate`; stuck devices neither take noise nor drift;
//! 6. drift/relaxation to `drift_time_s` (see [`crate::drift`]);
//! 7. read noise on the read: `G + N (read_noise_sigma G + read_noise_abs)`;
//! 8. optional drift compensation: one digital scale per layer or per column,
//!    estimated as aihwkit's `GlobalDriftCompensation` does, from an all-ones
//!    read of the array right after programming and again at read time.
//!
//! Device `k = row * cols + col` draws every stage from its own stream of
//! `(seed, stage, k)`, so results are bit-identical whatever the thread count.

use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;
use rand_distr::StandardNormal;
use rayon::prelude::*;
use serde::{Deserialize, Serialize};

use crate::drift::Drift;
use crate::program::quantize;

/// Independent random streams per device: one per source of randomness, so
/// turning one non-ideality on or off never changes the draws of another.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[repr(u64)]
pub enum Stage {
    DeviceParams = 1,
    CycleToCycle = 2,
    DeviceToDevice = 3,
    Programming = 4,
    Fault = 5,
    DriftCoefficient = 6,
    DriftNoise = 7,
    ReferenceRead = 8,
    Read = 9,
}

/// The random stream of `(seed, stage, index)`: a ChaCha8 key from the seed
/// and the stage, the device index as the ChaCha stream number.
pub fn device_rng(seed: u64, stage: Stage, index: u64) -> ChaCha8Rng {
    let mut key = [0u8; 32];
    key[..8].copy_from_slice(&seed.to_le_bytes());
    key[8..16].copy_from_slice(&(stage as u64).to_le_bytes());
    key[16..24].copy_from_slice(b"xbar-mem");
    let mut rng = ChaCha8Rng::from_seed(key);
    rng.set_stream(index);
    rng
}

/// Drift compensation mode.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, Default)]
#[serde(rename_all = "snake_case")]
pub enum Compensation {
    #[default]
    None,
    /// One scale for the whole array: `max_j sum_i G_ref / max_j sum_i G_read`.
    Layer,
    /// One scale per column: `sum_i G_ref / sum_i G_read`.
    Column,
}

/// Non-idealities to apply to a conductance array; all optional, all off by
/// default. Conductances in S, times in s, sigmas relative unless named `_abs`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, Default)]
#[serde(default, deny_unknown_fields)]
pub struct NonIdealConfig {
    pub g_min: Option<f64>,
    pub g_max: Option<f64>,
    pub levels: Option<u32>,
    pub on_off_ratio: Option<f64>,
    pub d2d_sigma: Option<f64>,
    pub programming_sigma: Option<f64>,
    pub read_noise_sigma: Option<f64>,
    pub read_noise_abs: Option<f64>,
    pub drift: Option<Drift>,
    pub drift_time_s: Option<f64>,
    pub compensation: Option<Compensation>,
    pub stuck_on_rate: Option<f64>,
    pub stuck_off_rate: Option<f64>,
}

/// A bad configuration or input array.
#[derive(Debug, thiserror::Error, PartialEq)]
pub enum NonIdealError {
    #[error("non-ideality `{name}` = {value} is invalid: {why}")]
    BadValue {
        name: &'static str,
        value: f64,
        why: &'static str,
    },
    #[error("{0}")]
    Drift(String),
    #[error("target conductance at row {row}, column {col} is {value} (must be finite and >= 0)")]
    BadTarget { row: usize, col: usize, value: f64 },
    #[error("{len} target conductances do not fill a {rows} x {cols} array")]
    Shape {
        rows: usize,
        cols: usize,
        len: usize,
    },
}

/// What happened to a device.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub enum Fault {
    None,
    StuckOn,
    StuckOff,
}

/// Result of programming and reading an array (row-major, `rows x cols`).
#[derive(Debug, Clone, PartialEq)]
pub struct ArrayConductances {
    pub rows: usize,
    pub cols: usize,
    /// What each device was aimed at after clipping and quantisation.
    pub target: Vec<f64>,
    /// Conductance right after programming (t = 0), noise and faults included.
    pub programmed: Vec<f64>,
    /// One read at `drift_time_s`: drift and read noise included, uncompensated.
    pub read: Vec<f64>,
    /// Digital output scale per column (1 without compensation).
    pub column_scale: Vec<f64>,
    pub faults: Vec<Fault>,
}

impl ArrayConductances {
    /// `read` with the per-column compensation scale applied: the effective
    /// conductances the periphery sees after its digital correction.
    pub fn compensated(&self) -> Vec<f64> {
        self.read
            .iter()
            .enumerate()
            .map(|(k, g)| g * self.column_scale[k % self.cols])
            .collect()
    }
}

struct Checked {
    g_lo: f64,
    g_max: f64,
    levels: Option<u32>,
    d2d: f64,
    prog: f64,
    read_rel: f64,
    read_abs: f64,
    p_on: f64,
    p_off: f64,
    drift: Drift,
    t: f64,
    compensation: Compensation,
}

fn positive(name: &'static str, v: f64) -> Result<f64, NonIdealError> {
    if v.is_finite() && v > 0.0 {
        Ok(v)
    } else {
        Err(NonIdealError::BadValue {
            name,
            value: v,
            why: "must be positive and finite",
        })
    }
}

fn non_negative(name: &'static str, v: Option<f64>) -> Result<f64, NonIdealError> {
    let v = v.unwrap_or(0.0);
    if v.is_finite() && v >= 0.0 {
        Ok(v)
    } else {
        Err(NonIdealError::BadValue {
            name,
            value: v,
            why: "must be >= 0 and finite",
        })
    }
}

fn rate(name: &'static str, v: Option<f64>) -> Result<f64, NonIdealError> {
    let v = v.unwrap_or(0.0);
    if (0.0..=1.0).contains(&v) {
        Ok(v)
    } else {
        Err(NonIdealError::BadValue {
            name,
            value: v,
            why: "must lie in [0, 1]",
        })
    }
}

impl NonIdealConfig {
    fn check(&self, targets: &[f64]) -> Result<Checked, NonIdealError> {
        let data_max = targets.iter().copied().fold(0.0, f64::max);
        let g_max = match self.g_max {
            Some(g) => positive("g_max", g)?,
            None => data_max,
        };
        let mut g_lo = match self.g_min {
            Some(g) => {
                let g = non_negative("g_min", Some(g))?;
                if g >= g_max {
                    return Err(NonIdealError::BadValue {
                        name: "g_min",
                        value: g,
                        why: "must be below g_max",
                    });
                }
                g
            }
            None => 0.0,
        };
        if let Some(r) = self.on_off_ratio {
            if !(r.is_finite() && r > 1.0) {
                return Err(NonIdealError::BadValue {
                    name: "on_off_ratio",
                    value: r,
                    why: "must be > 1",
                });
            }
            g_lo = g_lo.max(g_max / r);
        }
        if let Some(k) = self.levels {
            if k < 2 {
                return Err(NonIdealError::BadValue {
                    name: "levels",
                    value: k as f64,
                    why: "must be at least 2",
                });
            }
        }
        let p_on = rate("stuck_on_rate", self.stuck_on_rate)?;
        let p_off = rate("stuck_off_rate", self.stuck_off_rate)?;
        if p_on + p_off > 1.0 {
            return Err(NonIdealError::BadValue {
                name: "stuck_off_rate",
                value: p_off,
                why: "stuck_on_rate + stuck_off_rate must not exceed 1",
            });
        }
        let drift = self.drift.clone().unwrap_or_default();
        drift.validate().map_err(NonIdealError::Drift)?;
        Ok(Checked {
            g_lo,
            g_max,
            levels: self.levels,
            d2d: non_negative("d2d_sigma", self.d2d_sigma)?,
            prog: non_negative("programming_sigma", self.programming_sigma)?,
            read_rel: non_negative("read_noise_sigma", self.read_noise_sigma)?,
            read_abs: non_negative("read_noise_abs", self.read_noise_abs)?,
            p_on,
            p_off,
            drift,
            t: non_negative("drift_time_s", self.drift_time_s)?,
            compensation: self.compensation.unwrap_or_default(),
        })
    }

    /// Programs a `rows x cols` array (row-major `targets`, S) and reads it
    /// back at `drift_time_s`. Same `seed`, same numbers, bit for bit.
    pub fn apply(
        &self,
        targets: &[f64],
        rows: usize,
        cols: usize,
        seed: u64,
    ) -> Result<ArrayConductances, NonIdealError> {
        if targets.len() != rows * cols {
            return Err(NonIdealError::Shape {
                rows,
                cols,
                len: targets.len(),
            });
        }
        if let Some(k) = targets.iter().position(|g| !(g.is_finite() && *g >= 0.0)) {
            return Err(NonIdealError::BadTarget {
                row: k / cols.max(1),
                col: k % cols.max(1),
                value: targets[k],
            });
        }
        let c = self.check(targets)?;
        let per_device: Vec<(f64, f64, Fault, f64, f64)> = targets
            .par_iter()
            .enumerate()
            .map(|(k, &g)| c.device(seed, k as u64, g))
            .collect();
        let target: Vec<f64> = per_device.iter().map(|d| d.0).collect();
        let programmed: Vec<f64> = per_device.iter().map(|d| d.1).collect();
        let faults: Vec<Fault> = per_device.iter().map(|d| d.2).collect();
        let read: Vec<f64> = per_device.iter().map(|d| d.3).collect();
        let reference: Vec<f64> = per_device.iter().map(|d| d.4).collect();
        let column_scale = compensation_scales(c.compensation, &reference, &read, rows, cols);
        Ok(ArrayConductances {
            rows,
            cols,
            target,
            programmed,
            read,
            column_scale,
            faults,
        })
    }
}

impl Checked {
    /// `(target, programmed, fault, read at t, reference read at 0)` of device `k`.
    fn device(&self, seed: u64, k: u64, g: f64) -> (f64, f64, Fault, f64, f64) {
        let mut target = g.clamp(self.g_lo, self.g_max.max(self.g_lo));
        if let Some(levels) = self.levels {
            target = quantize(target, self.g_lo, self.g_max, levels);
        }
        let u: f64 = device_rng(seed, Stage::Fault, k).random();
        let fault = if u < self.p_on {
            Fault::StuckOn
        } else if u < self.p_on + self.p_off {
            Fault::StuckOff
        } else {
            Fault::None
        };
        let (programmed, at_t) = match fault {
            Fault::StuckOn => (self.g_max, self.g_max),
            Fault::StuckOff => (self.g_lo, self.g_lo),
            Fault::None => {
                let mut g = target;
                if self.d2d > 0.0 {
                    let n: f64 = device_rng(seed, Stage::DeviceToDevice, k).sample(StandardNormal);
                    g *= (self.d2d * n).exp();
                }
                let mut rng = device_rng(seed, Stage::Programming, k);
                if self.prog > 0.0 {
                    let n: f64 = rng.sample(StandardNormal);
                    g += self.prog * g * n;
                }
                g += self.drift.programming_noise(target, &mut rng);
                let g = g.max(0.0);
                let drifted = self.drift.evolve(
                    target,
                    g,
                    self.t,
                    &mut device_rng(seed, Stage::DriftCoefficient, k),
                    &mut device_rng(seed, Stage::DriftNoise, k),
                );
                (g, drifted)
            }
        };
        let read = self.read(at_t, &mut device_rng(seed, Stage::Read, k));
        let reference = self.read(programmed, &mut device_rng(seed, Stage::ReferenceRead, k));
        (target, programmed, fault, read, reference)
    }

    fn read(&self, g: f64, rng: &mut ChaCha8Rng) -> f64 {
        if self.read_rel == 0.0 && self.read_abs == 0.0 {
            return g;
        }
        let n: f64 = rng.sample(StandardNormal);
        (g + n * (self.read_rel * g + self.read_abs)).max(0.0)
    }
}

fn column_sums(g: &[f64], rows: usize, cols: usize) -> Vec<f64> {
    (0..cols)
        .map(|j| (0..rows).map(|i| g[i * cols + j]).sum())
        .collect()
}

fn compensation_scales(
    mode: Compensation,
    reference: &[f64],
    read: &[f64],
    rows: usize,
    cols: usize,
) -> Vec<f64> {
    let ratio = |a: f64, b: f64| if b > 0.0 { a / b } else { 1.0 };
    match mode {
        Compensation::None => vec![1.0; cols],
        Compensation::Layer => {
            let max = |s: Vec<f64>| s.into_iter().fold(0.0, f64::max);
            let alpha = ratio(
                max(column_sums(reference, rows, cols)),
                max(column_sums(read, rows, cols)),
            );
            vec![alpha; cols]
        }
        Compensation::Column => column_sums(reference, rows, cols)
            .into_iter()
            .zip(column_sums(read, rows, cols))
            .map(|(a, b)| ratio(a, b))
            .collect(),
    }
}
