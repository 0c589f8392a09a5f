//! Programming a device with voltage pulses through its compact model:
//! conductance vs pulse number, write-verify to a target conductance, and
//! populations of devices with device-to-device and cycle-to-cycle spread.

use std::collections::BTreeMap;

use rand::Rng;
use rand_distr::StandardNormal;
use rayon::prelude::*;
use serde::{Deserialize, Serialize};

use crate::integrate::{hold, IntegrateError, Tolerances};
use crate::stats::{device_rng, Stage};
use crate::{from_card, CardError, CompactModel};

/// Why a programming run failed.
#[derive(Debug, thiserror::Error)]
pub enum ProgramError {
    #[error(transparent)]
    Integrate(#[from] IntegrateError),
    #[error(transparent)]
    Card(#[from] CardError),
    #[error("invalid programming request: {0}")]
    BadRequest(String),
}

/// Conductance after `pulse` pulses (pulse 0 = before the first one).
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
pub struct PulsePoint {
    pub pulse: usize,
    /// `I(v_read)/v_read`, S.
    pub conductance: f64,
    pub state: f64,
}

/// Applies `count` rectangular pulses of `amplitude` (V) and `width` (s),
/// reading the conductance at `v_read` after each. Reading is taken as
/// non-disturbing (a read pulse below any threshold).
pub fn pulse_train(
    model: &dyn CompactModel,
    x0: f64,
    amplitude: f64,
    width: f64,
    count: usize,
    v_read: f64,
    tol: &Tolerances,
) -> Result<Vec<PulsePoint>, ProgramError> {
    check_read(v_read)?;
    if !(width.is_finite() && width > 0.0 && amplitude.is_finite()) {
        return Err(ProgramError::BadRequest(format!(
            "pulse of {amplitude} V for {width} s"
        )));
    }
    let (lo, hi) = model.state_bounds();
    if !(x0.is_finite() && (lo..=hi).contains(&x0)) {
        return Err(ProgramError::BadRequest(format!(
            "initial state {x0} outside the bounds [{lo}, {hi}]"
        )));
    }
    let mut x = x0;
    // Capacity only as a hint: a huge count must fail in the loop, not abort here.
    let mut out = Vec::with_capacity(count.min(1 << 20) + 1);
    out.push(point(model, 0, x, v_read));
    for k in 1..=count {
        x = hold(model, amplitude, x, width, tol)?;
        out.push(point(model, k, x, v_read));
    }
    Ok(out)
}

fn point(model: &dyn CompactModel, pulse: usize, x: f64, v_read: f64) -> PulsePoint {
    PulsePoint {
        pulse,
        conductance: model.read_conductance(v_read, x),
        state: x,
    }
}

fn check_read(v_read: f64) -> Result<(), ProgramError> {
    if v_read.is_finite() && v_read != 0.0 {
        Ok(())
    } else {
        Err(ProgramError::BadRequest(format!(
            "read voltage must be finite and non-zero, got {v_read}"
        )))
    }
}

/// An amplitude staircase: `start`, `start + step`, ... up to `stop` (all
/// signed; a RESET ramp of a bipolar device is negative).
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct Ramp {
    pub start: f64,
    pub step: f64,
    pub stop: f64,
}

impl Ramp {
    /// Amplitude of the `k`-th consecutive pulse (k = 0: the first), V.
    pub fn amplitude(&self, k: usize) -> f64 {
        let a = self.start + self.step * k as f64;
        if self.step >= 0.0 {
            a.min(self.stop)
        } else {
            a.max(self.stop)
        }
    }
}

/// Write-verify (program-and-verify) settings. `increase` holds the pulses
/// that raise the conductance, `decrease` those that lower it; consecutive
/// pulses in one direction climb the staircase, a reversal restarts it.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct WriteVerify {
    /// Target conductance, S.
    pub target: f64,
    /// Accepted relative deviation `|G - target| / target`.
    pub tolerance: f64,
    /// Most pulses before giving up.
    pub max_pulses: usize,
    pub increase: Ramp,
    pub decrease: Ramp,
    /// Pulse width, s.
    pub width: f64,
    /// Read voltage, V.
    pub v_read: f64,
}

/// Outcome of one write-verify.
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
pub struct WriteResult {
    pub conductance: f64,
    pub state: f64,
    pub pulses: usize,
    pub converged: bool,
}

/// Runs write-verify on one device. `c2c_sigma` is the cycle-to-cycle noise:
/// each pulse's state change is scaled by `max(0, 1 + c2c_sigma N(0,1))`
/// drawn from `rng`.
pub fn write_verify(
    model: &dyn CompactModel,
    x0: f64,
    wv: &WriteVerify,
    c2c_sigma: f64,
    rng: &mut impl Rng,
    tol: &Tolerances,
) -> Result<WriteResult, ProgramError> {
    check_read(wv.v_read)?;
    if !(wv.target.is_finite() && wv.target > 0.0) {
        return Err(ProgramError::BadRequest(format!(
            "target conductance must be positive, got {}",
            wv.target
        )));
    }
    if !(wv.tolerance.is_finite() && wv.tolerance > 0.0) {
        return Err(ProgramError::BadRequest(format!(
            "tolerance must be positive, got {}",
            wv.tolerance
        )));
    }
    if !(c2c_sigma.is_finite() && c2c_sigma >= 0.0) {
        return Err(ProgramError::BadRequest(format!(
            "cycle-to-cycle sigma must be >= 0, got {c2c_sigma}"
        )));
    }
    let (lo, hi) = model.state_bounds();
    let mut x = x0.clamp(lo, hi);
    let mut run = 0usize;
    let mut last_up: Option<bool> = None;
    let mut pulses = 0;
    loop {
        let g = model.read_conductance(wv.v_read, x);
        let converged = ((g - wv.target) / wv.target).abs() <= wv.tolerance;
        if converged || pulses == wv.max_pulses {
            return Ok(WriteResult {
                conductance: g,
                state: x,
                pulses,
                converged,
            });
        }
        pulses += 1;
        let up = g < wv.target;
        run = if last_up == Some(up) { run + 1 } else { 0 };
        last_up = Some(up);
        let ramp = if up { &wv.increase } else { &wv.decrease };
        let x_next = hold(model, ramp.amplitude(run), x, wv.width, tol)?;
        let factor = if c2c_sigma > 0.0 {
            let n: f64 = rng.sample(StandardNormal);
            (1.0 + c2c_sigma * n).max(0.0)
        } else {
            1.0
        };
        x = (x + (x_next - x) * factor).clamp(lo, hi);
    }
}

/// How one card parameter varies from device to device.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ParamSpread {
    /// Card parameter name (`ron`, `roff`, `koff`, `i0`, ...).
    pub name: String,
    /// Relative spread.
    pub sigma: f64,
    /// `true`: lognormal `p exp(sigma N)` (keeps the sign, for resistances and
    /// rates); `false`: normal `p (1 + sigma N)`.
    #[serde(default)]
    pub lognormal: bool,
}

/// A family of nominally identical devices: a model card plus parameter
/// spreads. Device `k` of seed `s` is always the same device.
#[derive(Debug, Clone, PartialEq)]
pub struct Population {
    pub words: BTreeMap<String, String>,
    pub params: BTreeMap<String, f64>,
    pub spreads: Vec<ParamSpread>,
}

impl Population {
    /// Device `index` of the population drawn with `seed`.
    pub fn device(&self, seed: u64, index: u64) -> Result<Box<dyn CompactModel>, ProgramError> {
        let mut params = self.params.clone();
        let mut rng = device_rng(seed, Stage::DeviceParams, index);
        for spread in &self.spreads {
            if !(spread.sigma.is_finite() && spread.sigma >= 0.0) {
                return Err(ProgramError::BadRequest(format!(
                    "spread of `{}` must be >= 0, got {}",
                    spread.name, spread.sigma
                )));
            }
            let base = *params.get(&spread.name).ok_or_else(|| {
                ProgramError::BadRequest(format!(
                    "parameter `{}` must be given in the card to be varied",
                    spread.name
                ))
            })?;
            let n: f64 = rng.sample(StandardNormal);
            let value = if spread.lognormal {
                base * (spread.sigma * n).exp()
            } else {
                base * (1.0 + spread.sigma * n)
            };
            params.insert(spread.name.clone(), value);
        }
        Ok(from_card(&self.words, &params)?)
    }

    /// Write-verifies `n` devices in parallel (device `k` uses the streams of
    /// `(seed, k)`, so the result does not depend on the thread count).
    pub fn write_verify_all(
        &self,
        n: usize,
        seed: u64,
        wv: &WriteVerify,
        c2c_sigma: f64,
        tol: &Tolerances,
    ) -> Result<Vec<WriteResult>, ProgramError> {
        self.write_verify_targets(&[wv.target], n, seed, wv, c2c_sigma, None, tol)
    }

    /// Write-verifies each of `devices` devices to each of `targets` (the
    /// target in `wv` is ignored), every run starting afresh from `x0` (the
    /// device's own initial state when `None`). Results are target-major:
    /// entry `j * devices + i` is device `i` programmed to `targets[j]`.
    ///
    /// Device `i` is the same device (same drawn parameters) for every
    /// target, so the spread across targets is the population's, not a new
    /// draw per target; the cycle-to-cycle noise of run `j * devices + i`
    /// has its own stream. Nothing depends on the thread count.
    #[allow(clippy::too_many_arguments)]
    pub fn write_verify_targets(
        &self,
        targets: &[f64],
        devices: usize,
        seed: u64,
        wv: &WriteVerify,
        c2c_sigma: f64,
        x0: Option<f64>,
        tol: &Tolerances,
    ) -> Result<Vec<WriteResult>, ProgramError> {
        let n = devices as u64;
        (0..targets.len() as u64 * n)
            .into_par_iter()
            .map(|k| {
                let (j, i) = ((k / n) as usize, k % n);
                let device = self.device(seed, i)?;
                let start = match x0 {
                    Some(x) => {
                        let (lo, hi) = device.state_bounds();
                        if !(x.is_finite() && (lo..=hi).contains(&x)) {
                            return Err(ProgramError::BadRequest(format!(
                                "initial state {x} outside the bounds [{lo}, {hi}] of device {i}"
                            )));
                        }
                        x
                    }
                    None => device.default_state(),
                };
                let mut rng = device_rng(seed, Stage::CycleToCycle, k);
                let run = WriteVerify {
                    target: targets[j],
                    ..*wv
                };
                write_verify(device.as_ref(), start, &run, c2c_sigma, &mut rng, tol)
            })
            .collect()
    }
}

/// The distribution of write-verify outcomes for one target.
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
pub struct TargetSummary {
    /// Target conductance, S.
    pub target: f64,
    pub devices: usize,
    pub converged: usize,
    /// Share of devices that ran out of pulses before reaching tolerance.
    pub failure_rate: f64,
    /// Mean and sample standard deviation of the achieved conductance over
    /// all devices, failed ones included (they are part of the array), S.
    pub mean_conductance: f64,
    pub std_conductance: f64,
    /// Mean and sample standard deviation of the pulses spent.
    pub mean_pulses: f64,
    pub std_pulses: f64,
    pub max_pulses: usize,
}

impl TargetSummary {
    /// Summarises the runs of one target (NaN moments when `runs` is empty;
    /// standard deviations are 0 for a single run).
    pub fn new(target: f64, runs: &[WriteResult]) -> Self {
        let moments = |values: &mut dyn Iterator<Item = f64>| {
            let v: Vec<f64> = values.collect();
            let n = v.len() as f64;
            let mean = v.iter().sum::<f64>() / n;
            let var = v.iter().map(|x| (x - mean) * (x - mean)).sum::<f64>() / (n - 1.0).max(1.0);
            (mean, var.sqrt())
        };
        let converged = runs.iter().filter(|r| r.converged).count();
        let (mean_conductance, std_conductance) = moments(&mut runs.iter().map(|r| r.conductance));
        let (mean_pulses, std_pulses) = moments(&mut runs.iter().map(|r| r.pulses as f64));
        Self {
            target,
            devices: runs.len(),
            converged,
            failure_rate: (runs.len() - converged) as f64 / runs.len() as f64,
            mean_conductance,
            std_conductance,
            mean_pulses,
            std_pulses,
            max_pulses: runs.iter().map(|r| r.pulses).max().unwrap_or(0),
        }
    }
}

/// Conductance levels: `k` evenly spaced values from `g_min` to `g_max`
/// (k = 2 gives the binary HRS/LRS pair).
pub fn levels(g_min: f64, g_max: f64, k: u32) -> Vec<f64> {
    if k <= 1 {
        return vec![g_max];
    }
    (0..k)
        .map(|j| g_min + (g_max - g_min) * j as f64 / (k - 1) as f64)
        .collect()
}

/// Nearest of `k` evenly spaced levels in `[g_min, g_max]` (clipping first).
pub fn quantize(g: f64, g_min: f64, g_max: f64, k: u32) -> f64 {
    let g = g.clamp(g_min, g_max);
    if k <= 1 || g_max == g_min {
        return g_max;
    }
    let span = (k - 1) as f64;
    let j = ((g - g_min) / (g_max - g_min) * span).round();
    // Same expression as `levels`, so quantised values compare equal to them.
    g_min + (g_max - g_min) * j / span
}
