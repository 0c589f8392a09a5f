//! Leaky integrate-and-fire neuron layer in the paper's discrete form.
//!
//! Per time step `t`, for every neuron `i` that is not refractory:
//!
//! ```text
//! V_i(t) = max(v_min, leak_factor * V_i(t-1) + x_i(t) + v_leak + sigma_n * z_i(t))
//! fire if V_i(t) >= theta_i;  then V_i = v_reset   (ResetMode::Value)
//!                             or   V_i -= theta_i  (ResetMode::Subtract)
//! ```
//!
//! `x_i(t) = sum_j O_j W_ij` is the caller's synaptic input; with the defaults
//! (`leak_factor = 1`, `v_leak = 0`, no noise, `v_min = -inf`) this is exactly
//! the paper's `V(t) = V(t-1) + sum O W + V_leak`. After a spike a neuron is
//! refractory for `refractory` steps: it ignores its input and holds its
//! potential. `theta_i` is drawn once per neuron from `N(v_th,
//! threshold_sigma^2)`, truncated so that firing still lowers the potential
//! (`theta_i > v_reset`, or `theta_i > 0` under subtraction).
//!
//! # Precision
//! The state is `f32`: the membrane potential is a running sum of at most a
//! few hundred steps of weighted inputs of 16-bit shared weights, and `f32`'s
//! 24-bit significand keeps the sum's rounding error (about `1e-7` of the
//! threshold per step) far below any threshold spread a device shows. The
//! configuration is `f64` so that TOML values round-trip.
//!
//! # Randomness
//! `theta_i` comes from a stream keyed by (seed, neuron); membrane noise from
//! one stream per layer keyed by (seed, stream id) (see
//! [`LifLayer::reset`]). With noise on, every step draws one normal per neuron
//! in neuron order, refractory or not, so `z_i(t)` is a fixed function of
//! (seed, stream id, t, i): step a layer sequentially and parallelise over
//! independent layer instances (images), each with its own stream id.

use std::sync::Arc;

use rand::Rng;
use rand_chacha::ChaCha8Rng;
use rand_distr::StandardNormal;
use serde::{Deserialize, Serialize};

use crate::error::{check_len, check_not_nan, Check, PeriphError};
use crate::seed::{stream, Domain};
use crate::Activity;

const C: Check = Check("lif");

/// What happens to the membrane potential when a neuron fires.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum ResetMode {
    /// Set to `v_reset` (the paper).
    #[default]
    Value,
    /// Lower by the threshold, keeping the overshoot.
    Subtract,
}

/// LIF configuration; the `[lif]` table of a non-ideality file. Every
/// non-ideality is off by default.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct LifConfig {
    /// Firing threshold (same units as the input).
    pub v_th: f64,
    /// Potential after a spike in `ResetMode::Value`.
    pub v_reset: f64,
    /// Reset to `v_reset` or by subtraction of the threshold.
    pub reset: ResetMode,
    /// Initial potential; `v_reset` when absent.
    pub v_init: Option<f64>,
    /// Constant leak added every step (the paper's `V_leak`, usually <= 0).
    pub v_leak: f64,
    /// Multiplicative leak `beta` in `(0, 1]`: `V <- beta V + ...`.
    pub leak_factor: f64,
    /// Lower bound of the potential; unbounded when absent.
    pub v_min: Option<f64>,
    /// Steps a neuron ignores its input after a spike.
    pub refractory: u32,
    /// Standard deviation of the per-neuron threshold (absolute).
    pub threshold_sigma: f64,
    /// Standard deviation of the membrane noise added each step (absolute).
    pub noise_sigma: f64,
}

impl Default for LifConfig {
    fn default() -> Self {
        Self {
            v_th: 1.0,
            v_reset: 0.0,
            reset: ResetMode::Value,
            v_init: None,
            v_leak: 0.0,
            leak_factor: 1.0,
            v_min: None,
            refractory: 0,
            threshold_sigma: 0.0,
            noise_sigma: 0.0,
        }
    }
}

impl LifConfig {
    /// Checks every field; the error names the offending one.
    pub fn validate(&self) -> Result<(), PeriphError> {
        C.finite("v_th", self.v_th)?;
        C.finite("v_reset", self.v_reset)?;
        C.finite("v_leak", self.v_leak)?;
        match self.reset {
            ResetMode::Value if self.v_th <= self.v_reset => {
                return Err(PeriphError::invalid(
                    "lif",
                    "v_th",
                    self.v_th,
                    format!(
                        "must exceed v_reset = {} (else the neuron fires every step)",
                        self.v_reset
                    ),
                ))
            }
            ResetMode::Subtract if self.v_th <= 0.0 => {
                return Err(PeriphError::invalid(
                    "lif",
                    "v_th",
                    self.v_th,
                    "must be > 0 with reset by subtraction",
                ))
            }
            _ => {}
        }
        if let Some(v) = self.v_init {
            C.finite("v_init", v)?;
        }
        if let Some(v) = self.v_min {
            C.finite("v_min", v)?;
            if v >= self.v_th {
                return Err(PeriphError::invalid(
                    "lif",
                    "v_min",
                    v,
                    format!("must be below v_th = {}", self.v_th),
                ));
            }
        }
        if !(self.leak_factor > 0.0 && self.leak_factor <= 1.0) {
            return Err(PeriphError::invalid(
                "lif",
                "leak_factor",
                self.leak_factor,
                "must lie in (0, 1]",
            ));
        }
        C.non_negative("threshold_sigma", self.threshold_sigma)?;
        C.non_negative("noise_sigma", self.noise_sigma)?;
        Ok(())
    }

    /// Lowest threshold a neuron may draw: firing must lower the potential.
    pub(crate) fn threshold_floor(&self) -> f64 {
        match self.reset {
            ResetMode::Value => self.v_reset,
            ResetMode::Subtract => 0.0,
        }
    }
}

/// Inputs a LIF layer accepts: `f32` or `f64` slices.
pub trait LifInput: Copy + Into<f64> + sealed::Sealed {
    #[doc(hidden)]
    fn to_f32(self) -> f32;
}

impl LifInput for f32 {
    #[inline]
    fn to_f32(self) -> f32 {
        self
    }
}

impl LifInput for f64 {
    #[inline]
    fn to_f32(self) -> f32 {
        self as f32
    }
}

mod sealed {
    pub trait Sealed {}
    impl Sealed for f32 {}
    impl Sealed for f64 {}
}

/// A layer of LIF neurons, stepped with one input per neuron.
///
/// Cloning is cheap for the thresholds (shared) and copies the state; for
/// parallel inference give each image its own clone and call
/// [`reset`](Self::reset) with the image index.
#[derive(Debug, Clone)]
pub struct LifLayer {
    theta: Arc<[f32]>,
    v: Vec<f32>,
    refr: Vec<u32>,
    counts: Vec<u32>,
    v_init: f32,
    v_reset: f32,
    v_leak: f32,
    beta: f32,
    v_min: f32,
    noise: f32,
    refractory: u32,
    subtract: bool,
    seed: u64,
    rng: ChaCha8Rng,
    updates: u64,
    spikes: u64,
}

impl LifLayer {
    /// `n` neurons; thresholds drawn from `seed`, noise stream 0.
    pub fn new(cfg: &LifConfig, n: usize, seed: u64) -> Result<Self, PeriphError> {
        cfg.validate()?;
        let floor = cfg.threshold_floor();
        let theta = (0..n)
            .map(|i| {
                draw_threshold(cfg.v_th, cfg.threshold_sigma, floor, seed, i).map(|t| t as f32)
            })
            .collect::<Result<Arc<[f32]>, _>>()?;
        let v_init = cfg.v_init.unwrap_or(cfg.v_reset) as f32;
        Ok(Self {
            theta,
            v: vec![v_init; n],
            refr: vec![0; n],
            counts: vec![0; n],
            v_init,
            v_reset: cfg.v_reset as f32,
            v_leak: cfg.v_leak as f32,
            beta: cfg.leak_factor as f32,
            v_min: cfg.v_min.map_or(f32::NEG_INFINITY, |v| v as f32),
            noise: cfg.noise_sigma as f32,
            refractory: cfg.refractory,
            subtract: cfg.reset == ResetMode::Subtract,
            seed,
            rng: stream(seed, Domain::LifNoise, 0),
            updates: 0,
            spikes: 0,
        })
    }

    /// Number of neurons.
    pub fn len(&self) -> usize {
        self.v.len()
    }

    /// True for a layer of no neurons.
    pub fn is_empty(&self) -> bool {
        self.v.is_empty()
    }

    /// Back to the initial state (potential `v_init`, not refractory, spike
    /// counts zero) with membrane-noise stream `stream_id`, e.g. the index of
    /// the next image. The thresholds stay.
    pub fn reset(&mut self, stream_id: u64) {
        self.v.fill(self.v_init);
        self.refr.fill(0);
        self.counts.fill(0);
        self.rng = stream(self.seed, Domain::LifNoise, stream_id);
    }

    /// One time step. `input[i]` is neuron `i`'s synaptic input; `spikes[i]`
    /// is set to whether it fired. Returns the number of spikes.
    ///
    /// NaN input is rejected before any state changes.
    pub fn step<T: LifInput>(
        &mut self,
        input: &[T],
        spikes: &mut [bool],
    ) -> Result<usize, PeriphError> {
        check_len("lif", "input", input.len(), self.len())?;
        check_len("lif", "spikes", spikes.len(), self.len())?;
        check_not_nan("lif", "input", input)?;
        let fired = if self.noise > 0.0 || self.refractory > 0 {
            self.step_general(input, spikes)
        } else {
            self.step_plain(input, spikes)
        };
        self.updates += self.len() as u64;
        self.spikes += fired as u64;
        Ok(fired)
    }

    /// The common case (no noise, no refractory period), kept free of the
    /// branches and random draws the general case needs.
    fn step_plain<T: LifInput>(&mut self, input: &[T], spikes: &mut [bool]) -> usize {
        let (beta, leak, v_min, v_reset, sub) = (
            self.beta,
            self.v_leak,
            self.v_min,
            self.v_reset,
            self.subtract,
        );
        let mut fired = 0;
        let state = self
            .v
            .iter_mut()
            .zip(self.theta.iter())
            .zip(&mut self.counts);
        for (((v, &th), count), (&x, s)) in state.zip(input.iter().zip(spikes.iter_mut())) {
            let u = (beta * *v + x.to_f32() + leak).max(v_min);
            let fire = u >= th;
            // Selects rather than branches: spikes are data-dependent and rare.
            let after = if sub { u - th } else { v_reset };
            *v = if fire { after } else { u };
            *s = fire;
            *count += fire as u32;
            fired += fire as usize;
        }
        fired
    }

    fn step_general<T: LifInput>(&mut self, input: &[T], spikes: &mut [bool]) -> usize {
        let mut fired = 0;
        for i in 0..self.v.len() {
            let z: f32 = if self.noise > 0.0 {
                self.rng.sample(StandardNormal)
            } else {
                0.0
            };
            spikes[i] = false;
            if self.refr[i] > 0 {
                self.refr[i] -= 1;
                continue;
            }
            let th = self.theta[i];
            let u = (self.beta * self.v[i] + input[i].to_f32() + self.v_leak + self.noise * z)
                .max(self.v_min);
            if u >= th {
                self.v[i] = if self.subtract { u - th } else { self.v_reset };
                self.refr[i] = self.refractory;
                self.counts[i] += 1;
                spikes[i] = true;
                fired += 1;
            } else {
                self.v[i] = u;
            }
        }
        fired
    }

    /// Membrane potentials.
    pub fn potentials(&self) -> &[f32] {
        &self.v
    }

    /// Per-neuron thresholds (after variability).
    pub fn thresholds(&self) -> &[f32] {
        &self.theta
    }

    /// Spikes per neuron since the last [`reset`](Self::reset).
    pub fn spike_counts(&self) -> &[u32] {
        &self.counts
    }

    /// Neuron updates and spikes since construction or the last
    /// [`reset_activity`](Self::reset_activity).
    pub fn activity(&self) -> Activity {
        Activity {
            neuron_updates: self.updates,
            spikes: self.spikes,
            ..Activity::default()
        }
    }

    /// Zeroes the activity counters.
    pub fn reset_activity(&mut self) {
        self.updates = 0;
        self.spikes = 0;
    }
}

/// Threshold of neuron `i`: `N(v_th, sigma^2)` from the neuron's own stream,
/// redrawn until above `floor` (a truncated normal).
pub(crate) fn draw_threshold(
    v_th: f64,
    sigma: f64,
    floor: f64,
    seed: u64,
    i: usize,
) -> Result<f64, PeriphError> {
    if sigma == 0.0 {
        return Ok(v_th);
    }
    let mut rng = stream(seed, Domain::LifThreshold, i as u64);
    // v_th > floor, so each draw succeeds with probability > 1/2.
    for _ in 0..1000 {
        let z: f64 = rng.sample(StandardNormal);
        let th = v_th + sigma * z;
        if th > floor {
            return Ok(th);
        }
    }
    Err(PeriphError::invalid(
        "lif",
        "threshold_sigma",
        sigma,
        format!("no threshold above {floor} could be drawn for neuron {i}"),
    ))
}
