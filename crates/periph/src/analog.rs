//! The analog integrate-and-fire neuron and its discrete-time equivalent.
//!
//! A column current `I` charges a membrane capacitor `C` that leaks through a
//! conductance `g` towards `e_leak`:
//!
//! ```text
//! C dV/dt = I - g (V - e_leak)
//! ```
//!
//! A comparator fires when `V >= theta = v_th + offset` (its offset has a
//! fixed part and a per-neuron random part) and a switch resets `V` to
//! `v_reset`, holding it there for `t_refractory`. For a constant current the
//! potential relaxes towards `V_inf = e_leak + I/g` with `tau = C/g`, and the
//! time from reset to the next spike is
//!
//! ```text
//! T = tau * ln((V_inf - v_reset) / (V_inf - theta))   (V_inf > theta)
//! T = C (theta - v_reset) / I                         (g = 0, I > 0)
//! ```
//!
//! plus `t_refractory`. [`AnalogIfNeuron::advance`] integrates exactly (no
//! time step) for piecewise-constant currents. [`AnalogIfConfig::discretise`]
//! gives the zero-order-hold equivalent in the paper's discrete LIF form:
//! sampled every `dt`, `V[n] = beta V[n-1] + k I[n] + (1 - beta) e_leak` with
//! `beta = exp(-dt/tau)` and `k = (1 - beta)/g` (`dt/C` without leak), exact at
//! the sampling instants; the comparator is then only consulted at those
//! instants, so a spike is reported at the end of the step in which the
//! continuous potential crossed the threshold.

use serde::{Deserialize, Serialize};

use crate::error::{Check, PeriphError};
use crate::lif::{draw_threshold, LifConfig, ResetMode};

const C: Check = Check("analog_if");

/// Analog integrate-and-fire neuron parameters (SI units).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct AnalogIfConfig {
    /// Membrane capacitance (F).
    pub c_mem: f64,
    /// Leak conductance (S); 0 is a perfect integrator.
    pub g_leak: f64,
    /// Potential the leak pulls towards (V).
    pub e_leak: f64,
    /// Comparator threshold (V).
    pub v_th: f64,
    /// Potential after a spike (V).
    pub v_reset: f64,
    /// Comparator offset common to all neurons (V).
    pub comparator_offset: f64,
    /// Standard deviation of a per-neuron random comparator offset (V).
    pub comparator_offset_sigma: f64,
    /// Time the potential is held at `v_reset` after a spike (s).
    pub t_refractory: f64,
}

impl Default for AnalogIfConfig {
    fn default() -> Self {
        Self {
            c_mem: 1e-12,
            g_leak: 0.0,
            e_leak: 0.0,
            v_th: 0.5,
            v_reset: 0.0,
            comparator_offset: 0.0,
            comparator_offset_sigma: 0.0,
            t_refractory: 0.0,
        }
    }
}

/// The discrete LIF layer equivalent to an analog neuron sampled every `dt`:
/// feed the layer `input_scale * I` (I in A).
#[derive(Debug, Clone, PartialEq)]
pub struct Discretised {
    /// The LIF parameters: leak factor, constant leak, threshold, refractory steps.
    pub lif: LifConfig,
    /// Volts per ampere of input current per step.
    pub input_scale: f64,
}

impl AnalogIfConfig {
    /// Checks every field; the error names the offending one.
    pub fn validate(&self) -> Result<(), PeriphError> {
        C.positive("c_mem", self.c_mem)?;
        C.non_negative("g_leak", self.g_leak)?;
        C.finite("e_leak", self.e_leak)?;
        C.finite("v_th", self.v_th)?;
        C.finite("v_reset", self.v_reset)?;
        C.finite("comparator_offset", self.comparator_offset)?;
        C.non_negative("comparator_offset_sigma", self.comparator_offset_sigma)?;
        C.non_negative("t_refractory", self.t_refractory)?;
        if self.threshold() <= self.v_reset {
            return Err(PeriphError::invalid(
                "analog_if",
                "v_th",
                self.v_th,
                format!(
                    "v_th + comparator_offset must exceed v_reset = {}",
                    self.v_reset
                ),
            ));
        }
        Ok(())
    }

    /// Nominal comparator threshold, `v_th + comparator_offset` (V).
    pub fn threshold(&self) -> f64 {
        self.v_th + self.comparator_offset
    }

    /// Membrane time constant `C/g` (s); infinite without leak.
    pub fn tau(&self) -> f64 {
        self.c_mem / self.g_leak
    }

    /// The zero-order-hold discrete equivalent for a sampling period `dt`.
    ///
    /// `t_refractory` must be a whole number of steps. A
    /// [`crate::LifLayer`] built from `lif` with the same seed draws the same
    /// per-neuron thresholds as [`AnalogIfNeuron::new`].
    pub fn discretise(&self, dt: f64) -> Result<Discretised, PeriphError> {
        self.validate()?;
        C.positive("dt", dt)?;
        let steps = self.t_refractory / dt;
        let refractory = steps.round();
        if (steps - refractory).abs() > 1e-9 * steps.max(1.0) || refractory > u32::MAX as f64 {
            return Err(PeriphError::invalid(
                "analog_if",
                "t_refractory",
                self.t_refractory,
                format!("must be a whole number of steps of dt = {dt} s"),
            ));
        }
        let x = dt * self.g_leak / self.c_mem;
        let beta = (-x).exp();
        let lif = LifConfig {
            v_th: self.threshold(),
            v_reset: self.v_reset,
            reset: ResetMode::Value,
            v_init: None,
            v_leak: -(-x).exp_m1() * self.e_leak,
            leak_factor: beta,
            v_min: None,
            refractory: refractory as u32,
            threshold_sigma: self.comparator_offset_sigma,
            noise_sigma: 0.0,
        };
        lif.validate()?;
        Ok(Discretised {
            lif,
            input_scale: dt / self.c_mem * relax(x),
        })
    }
}

/// `(1 - exp(-x)) / x`, the fraction of the straight-line charge a leaky
/// membrane keeps over `x` time constants; 1 at `x = 0`.
fn relax(x: f64) -> f64 {
    if x == 0.0 {
        1.0
    } else {
        -(-x).exp_m1() / x
    }
}

/// One analog integrate-and-fire neuron, integrated exactly for
/// piecewise-constant input current.
#[derive(Debug, Clone)]
pub struct AnalogIfNeuron {
    cfg: AnalogIfConfig,
    theta: f64,
    v: f64,
    t: f64,
    refractory_until: f64,
}

impl AnalogIfNeuron {
    /// Neuron `index` of a population seeded with `seed` (the index selects
    /// its comparator-offset draw), at `v_reset`, time 0.
    pub fn new(cfg: &AnalogIfConfig, seed: u64, index: usize) -> Result<Self, PeriphError> {
        cfg.validate()?;
        let theta = draw_threshold(
            cfg.threshold(),
            cfg.comparator_offset_sigma,
            cfg.v_reset,
            seed,
            index,
        )?;
        Ok(Self {
            cfg: cfg.clone(),
            theta,
            v: cfg.v_reset,
            t: 0.0,
            refractory_until: 0.0,
        })
    }

    /// Membrane potential (V).
    pub fn potential(&self) -> f64 {
        self.v
    }

    /// This neuron's threshold including its comparator offset (V).
    pub fn threshold(&self) -> f64 {
        self.theta
    }

    /// Time since construction (s).
    pub fn time(&self) -> f64 {
        self.t
    }

    /// Time from `v` to the threshold under a constant current `i`, or
    /// `None` if the potential never gets there.
    fn time_to_threshold(&self, v: f64, i: f64) -> Option<f64> {
        let (c, g) = (self.cfg.c_mem, self.cfg.g_leak);
        if v >= self.theta {
            return Some(0.0);
        }
        if g == 0.0 {
            return (i > 0.0).then(|| c * (self.theta - v) / i);
        }
        // Drive beyond the threshold, g (V_inf - theta), in amperes.
        let excess = i + g * (self.cfg.e_leak - self.theta);
        // ln_1p keeps a weak leak (V_inf far above theta) accurate.
        (excess > 0.0).then(|| c / g * (g * (self.theta - v) / excess).ln_1p())
    }

    /// Interval between spikes for a constant current `i` (s), refractory
    /// time included; `None` if the neuron never fires.
    pub fn firing_period(&self, i: f64) -> Option<f64> {
        self.time_to_threshold(self.cfg.v_reset, i)
            .map(|t| t + self.cfg.t_refractory)
    }

    /// Integrates a constant current `i` (A) for `dt` seconds, pushing the
    /// absolute time of every spike onto `spikes`. Returns the number of
    /// spikes.
    pub fn advance(
        &mut self,
        i: f64,
        dt: f64,
        spikes: &mut Vec<f64>,
    ) -> Result<usize, PeriphError> {
        C.finite("current", i)?;
        C.non_negative("dt", dt)?;
        let end = self.t + dt;
        let mut fired = 0;
        loop {
            if self.refractory_until > self.t {
                if self.refractory_until >= end {
                    break;
                }
                self.t = self.refractory_until;
            }
            let remaining = end - self.t;
            match self.time_to_threshold(self.v, i) {
                Some(hit) if hit <= remaining => {
                    self.t += hit;
                    spikes.push(self.t);
                    fired += 1;
                    self.v = self.cfg.v_reset;
                    self.refractory_until = self.t + self.cfg.t_refractory;
                    if self.cfg.t_refractory == 0.0 && hit == 0.0 {
                        // Only reachable if theta <= v_reset, which validation
                        // forbids; guard against an endless loop all the same.
                        break;
                    }
                }
                _ => {
                    let (c, g) = (self.cfg.c_mem, self.cfg.g_leak);
                    let drive = i + g * (self.cfg.e_leak - self.v);
                    self.v += drive * remaining / c * relax(remaining * g / c);
                    break;
                }
            }
        }
        self.t = end;
        Ok(fired)
    }
}
