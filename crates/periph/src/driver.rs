//! Row drivers: how spikes and multi-bit inputs become read voltages.
//!
//! A spike is a read pulse of amplitude `v_read` (no spike: 0 V). A
//! `bits`-bit input code `q` is applied in phases, each phase one array read
//! with every row at `v_read` or 0 V, so that the crossbar sees only the two
//! read levels its cells are characterised at (no multi-level DAC):
//!
//! - bit-serial: phase `p` applies bit `p` of `q`; its column outputs weigh
//!   `2^p` in the digital shift-and-add;
//! - pulse-width: the pulse lasts `q` unit slots; slot `s` drives the rows
//!   with `q > s`, every slot weighs 1 (the column charge is their sum times
//!   `t_pulse`).
//!
//! For linear cells either scheme reproduces `v_read * G^T q`; for nonlinear
//! cells they differ, which is why both exist. The driver's output resistance
//! `r_out` is the crossbar's `R_driver`: the solver stamps it in series with
//! the open-circuit voltages produced here. A per-row random amplitude error
//! (`amplitude_sigma`, relative, seeded) models driver mismatch.

use rand::Rng;
use rand_distr::StandardNormal;
use serde::{Deserialize, Serialize};

use crate::error::{check_len, Check, PeriphError};
use crate::seed::{stream, Domain};
use crate::Activity;

const C: Check = Check("driver");

/// How a multi-bit input is spread over array reads.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum InputEncoding {
    /// One read per bit, weighted `2^p`.
    #[default]
    BitSerial,
    /// `2^bits - 1` unit slots, weighted 1.
    PulseWidth,
}

/// Row-driver configuration (SI units).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct DriverConfig {
    /// Read-pulse amplitude (V).
    pub v_read: f64,
    /// Driver output resistance (ohm); 0 is an ideal source.
    pub r_out: f64,
    /// Input resolution: 1 for spikes, up to 16.
    pub bits: u32,
    /// Bit-serial or pulse-width for `bits > 1`.
    pub encoding: InputEncoding,
    /// Duration of one read pulse or one pulse-width slot (s).
    pub t_pulse: f64,
    /// Standard deviation of the per-row relative amplitude error.
    pub amplitude_sigma: f64,
}

impl Default for DriverConfig {
    fn default() -> Self {
        Self {
            v_read: 0.2,
            r_out: 0.0,
            bits: 1,
            encoding: InputEncoding::BitSerial,
            t_pulse: 10e-9,
            amplitude_sigma: 0.0,
        }
    }
}

impl DriverConfig {
    /// Checks every field; the error names the offending one.
    pub fn validate(&self) -> Result<(), PeriphError> {
        C.finite("v_read", self.v_read)?;
        C.non_negative("r_out", self.r_out)?;
        C.positive("t_pulse", self.t_pulse)?;
        C.non_negative("amplitude_sigma", self.amplitude_sigma)?;
        if !(1..=16).contains(&self.bits) {
            return Err(PeriphError::invalid(
                "driver",
                "bits",
                self.bits,
                "must lie in 1..=16",
            ));
        }
        Ok(())
    }
}

/// Drivers of the rows of one array.
#[derive(Debug, Clone)]
pub struct InputDriver {
    cfg: DriverConfig,
    amplitude: Vec<f64>,
    reads: u64,
    pulses: u64,
}

impl InputDriver {
    /// Drivers for `rows` rows; per-row amplitude errors drawn from `seed`.
    pub fn new(cfg: &DriverConfig, rows: usize, seed: u64) -> Result<Self, PeriphError> {
        cfg.validate()?;
        let amplitude = (0..rows)
            .map(|r| {
                if cfg.amplitude_sigma == 0.0 {
                    return cfg.v_read;
                }
                let z: f64 = stream(seed, Domain::DriverStatic, r as u64).sample(StandardNormal);
                cfg.v_read * (1.0 + cfg.amplitude_sigma * z)
            })
            .collect();
        Ok(Self {
            cfg: cfg.clone(),
            amplitude,
            reads: 0,
            pulses: 0,
        })
    }

    /// Number of rows.
    pub fn rows(&self) -> usize {
        self.amplitude.len()
    }

    /// The driver's output resistance (ohm), the crossbar's `R_driver`.
    pub fn r_out(&self) -> f64 {
        self.cfg.r_out
    }

    /// Open-circuit pulse amplitude of every row (V), mismatch included.
    pub fn amplitudes(&self) -> &[f64] {
        &self.amplitude
    }

    /// Array reads per input vector: 1 for spikes, `bits` bit-serial,
    /// `2^bits - 1` pulse-width.
    pub fn phases(&self) -> usize {
        match (self.cfg.bits, self.cfg.encoding) {
            (1, _) => 1,
            (b, InputEncoding::BitSerial) => b as usize,
            (b, InputEncoding::PulseWidth) => (1usize << b) - 1,
        }
    }

    /// Digital weight of the column outputs of `phase`.
    pub fn phase_weight(&self, phase: usize) -> f64 {
        match self.cfg.encoding {
            InputEncoding::BitSerial => (1u64 << phase.min(63)) as f64,
            InputEncoding::PulseWidth => 1.0,
        }
    }

    /// Time to apply one input vector (s).
    pub fn read_time(&self) -> f64 {
        self.phases() as f64 * self.cfg.t_pulse
    }

    /// Largest input code, `2^bits - 1`.
    pub fn max_code(&self) -> u32 {
        ((1u64 << self.cfg.bits) - 1) as u32
    }

    /// Rounds `x` in `[0, 1]` to an input code (values outside are clipped).
    pub fn quantise(&self, x: f64) -> Result<u32, PeriphError> {
        if x.is_nan() {
            return Err(PeriphError::NonFinite {
                component: "driver",
                what: "input",
                index: 0,
                value: x,
            });
        }
        let max = self.max_code() as f64;
        Ok((x.clamp(0.0, 1.0) * max).round() as u32)
    }

    /// Row voltages for a spike vector: `v_read` where `spikes[r]`, else 0.
    pub fn spike_voltages(&mut self, spikes: &[bool], out: &mut [f64]) -> Result<(), PeriphError> {
        check_len("driver", "spikes", spikes.len(), self.rows())?;
        check_len("driver", "voltages", out.len(), self.rows())?;
        let mut pulses = 0;
        for ((&s, v), &a) in spikes.iter().zip(out.iter_mut()).zip(&self.amplitude) {
            *v = if s { a } else { 0.0 };
            pulses += s as u64;
        }
        self.reads += 1;
        self.pulses += pulses;
        Ok(())
    }

    /// Row voltages of `phase` (`0..phases()`) for input codes `codes`.
    pub fn phase_voltages(
        &mut self,
        codes: &[u32],
        phase: usize,
        out: &mut [f64],
    ) -> Result<(), PeriphError> {
        check_len("driver", "codes", codes.len(), self.rows())?;
        check_len("driver", "voltages", out.len(), self.rows())?;
        if phase >= self.phases() {
            return Err(PeriphError::invalid(
                "driver",
                "phase",
                phase,
                format!("this driver has {} phases", self.phases()),
            ));
        }
        let max = self.max_code();
        if let Some(r) = codes.iter().position(|&q| q > max) {
            return Err(PeriphError::invalid(
                "driver",
                "codes",
                format!("[{r}] = {}", codes[r]),
                format!("exceeds the {}-bit maximum {max}", self.cfg.bits),
            ));
        }
        let on = |q: u32| match self.cfg.encoding {
            InputEncoding::BitSerial => (q >> phase) & 1 == 1,
            InputEncoding::PulseWidth => q as usize > phase,
        };
        let mut pulses = 0;
        for ((&q, v), &a) in codes.iter().zip(out.iter_mut()).zip(&self.amplitude) {
            let driven = on(q);
            *v = if driven { a } else { 0.0 };
            pulses += driven as u64;
        }
        self.reads += 1;
        self.pulses += pulses;
        Ok(())
    }

    /// Voltage a row actually reaches when its open-circuit voltage `v_open`
    /// drives a total load conductance `g_load` (S) to ground through `r_out`.
    pub fn loaded_voltage(&self, v_open: f64, g_load: f64) -> f64 {
        v_open / (1.0 + self.cfg.r_out * g_load)
    }

    /// Array reads and non-zero pulses since construction or the last reset.
    pub fn activity(&self) -> Activity {
        Activity {
            array_reads: self.reads,
            input_pulses: self.pulses,
            ..Activity::default()
        }
    }

    /// Zeroes the counters.
    pub fn reset_activity(&mut self) {
        self.reads = 0;
        self.pulses = 0;
    }
}
