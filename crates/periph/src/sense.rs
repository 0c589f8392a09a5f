//! Column sensing: the transimpedance amplifier (TIA) that holds a column at
//! virtual ground and turns its current into a voltage, and the current sense
//! amplifier that reads a binary cell against a reference.
//!
//! # TIA
//! An op-amp of open-loop gain `A` and input offset `V_os`, feedback resistor
//! `R_f`, inverting input on the column. With the column current `I` flowing
//! into the column node,
//!
//! ```text
//! V_col = (I R_f + A V_os) / (1 + A)              (virtual ground)
//! V_out = -(A / (1 + A)) I R_f + (A / (1 + A)) V_os
//! ```
//!
//! so the column node looks like a resistance `R_f / (1 + A)` to a source
//! `A V_os / (1 + A)`: that Thevenin pair is what a crossbar solver stamps.
//! For a column of cells `G_j` from rows at `V_j` the self-consistent current
//! is `I = (S - G V_s) / (1 + G R_in)` with `S = sum G_j V_j`, `G = sum G_j`
//! (see [`Tia::column_current`]). A relative gain error (resistor tolerance,
//! fixed plus a per-column random part) scales `R_f`; input-referred current
//! noise is added per sample. `A = inf` (the default) is the ideal amplifier.

use rand::Rng;
use rand_chacha::ChaCha8Rng;
use rand_distr::StandardNormal;
use serde::{Deserialize, Serialize};

use crate::error::{check_len, check_not_nan, Check, PeriphError};
use crate::seed::{stream, Domain};
use crate::Activity;

const C: Check = Check("tia");
const S: Check = Check("sense_amp");

/// TIA configuration (SI units); non-idealities off by default.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct TiaConfig {
    /// Feedback resistance (ohm).
    pub r_f: f64,
    /// Op-amp open-loop gain (V/V); `inf` is ideal.
    pub open_loop_gain: f64,
    /// Relative error of the transimpedance common to all columns.
    pub gain_error: f64,
    /// Standard deviation of a per-column relative transimpedance error.
    pub gain_sigma: f64,
    /// Input offset voltage common to all columns (V).
    pub offset: f64,
    /// Standard deviation of a per-column input offset voltage (V).
    pub offset_sigma: f64,
    /// Input-referred rms current noise per sample (A).
    pub noise: f64,
}

impl Default for TiaConfig {
    fn default() -> Self {
        Self {
            r_f: 10e3,
            open_loop_gain: f64::INFINITY,
            gain_error: 0.0,
            gain_sigma: 0.0,
            offset: 0.0,
            offset_sigma: 0.0,
            noise: 0.0,
        }
    }
}

impl TiaConfig {
    /// Checks every field; the error names the offending one.
    pub fn validate(&self) -> Result<(), PeriphError> {
        C.positive("r_f", self.r_f)?;
        if self.open_loop_gain.is_nan() || self.open_loop_gain <= 0.0 {
            return Err(PeriphError::invalid(
                "tia",
                "open_loop_gain",
                self.open_loop_gain,
                "must be > 0 (inf for an ideal op-amp)",
            ));
        }
        C.finite("gain_error", self.gain_error)?;
        C.finite("offset", self.offset)?;
        C.non_negative("gain_sigma", self.gain_sigma)?;
        C.non_negative("offset_sigma", self.offset_sigma)?;
        C.non_negative("noise", self.noise)?;
        Ok(())
    }
}

/// One TIA per column.
#[derive(Debug, Clone)]
pub struct Tia {
    /// `A / (1 + A)`, 1 for an ideal op-amp.
    loop_fraction: f64,
    /// Per-column `(R_f (1 + gain error), V_os)`.
    columns: Vec<(f64, f64)>,
    noise: f64,
    seed: u64,
    rng: ChaCha8Rng,
    samples: u64,
}

impl Tia {
    /// TIAs for `columns` columns; per-column errors drawn from `seed`.
    pub fn new(cfg: &TiaConfig, columns: usize, seed: u64) -> Result<Self, PeriphError> {
        cfg.validate()?;
        let a = cfg.open_loop_gain;
        // 1 / (1 + 1/A) stays exact for A = inf.
        let loop_fraction = 1.0 / (1.0 + 1.0 / a);
        let columns = (0..columns)
            .map(|c| {
                let mut rng = stream(seed, Domain::TiaStatic, c as u64);
                let zg: f64 = rng.sample(StandardNormal);
                let zo: f64 = rng.sample(StandardNormal);
                let r_f = cfg.r_f * (1.0 + cfg.gain_error + cfg.gain_sigma * zg);
                if r_f <= 0.0 {
                    return Err(PeriphError::invalid(
                        "tia",
                        "gain_error",
                        cfg.gain_error,
                        format!("column {c} gets a non-positive feedback resistance {r_f}"),
                    ));
                }
                Ok((r_f, cfg.offset + cfg.offset_sigma * zo))
            })
            .collect::<Result<Vec<_>, _>>()?;
        Ok(Self {
            loop_fraction,
            columns,
            noise: cfg.noise,
            seed,
            rng: stream(seed, Domain::TiaNoise, 0),
            samples: 0,
        })
    }

    /// Restarts the noise stream as stream `id` of this TIA bank's seed.
    pub fn reseed(&mut self, id: u64) {
        self.rng = stream(self.seed, Domain::TiaNoise, id);
    }

    /// Number of columns.
    pub fn columns(&self) -> usize {
        self.columns.len()
    }

    /// Resistance column `c`'s node presents, `R_f / (1 + A)` (ohm).
    pub fn input_resistance(&self, c: usize) -> Result<f64, PeriphError> {
        Ok((1.0 - self.loop_fraction) * self.col(c)?.0)
    }

    /// Thevenin source voltage of column `c`'s node, `A V_os / (1 + A)` (V).
    pub fn input_source(&self, c: usize) -> Result<f64, PeriphError> {
        Ok(self.loop_fraction * self.col(c)?.1)
    }

    /// Column node voltage for a column current `i` (A) into the node.
    pub fn virtual_ground(&self, c: usize, i: f64) -> Result<f64, PeriphError> {
        Ok(self.input_resistance(c)? * i + self.input_source(c)?)
    }

    /// Self-consistent current of column `c` whose cells, of total
    /// conductance `g_total` (S), connect to rows with `sum G_j V_j = s` (A).
    pub fn column_current(&self, c: usize, s: f64, g_total: f64) -> Result<f64, PeriphError> {
        let (r_in, v_s) = (self.input_resistance(c)?, self.input_source(c)?);
        Ok((s - g_total * v_s) / (1.0 + g_total * r_in))
    }

    /// Output voltages for column currents `currents` (A), noise included.
    pub fn output(&mut self, currents: &[f64], out: &mut [f64]) -> Result<(), PeriphError> {
        check_len("tia", "currents", currents.len(), self.columns())?;
        check_len("tia", "output", out.len(), self.columns())?;
        check_not_nan("tia", "currents", currents)?;
        let k = self.loop_fraction;
        for ((&i, v), &(r_f, v_os)) in currents.iter().zip(out.iter_mut()).zip(&self.columns) {
            let n = if self.noise > 0.0 {
                self.noise * self.rng.sample::<f64, _>(StandardNormal)
            } else {
                0.0
            };
            *v = k * (v_os - (i + n) * r_f);
        }
        self.samples += currents.len() as u64;
        Ok(())
    }

    /// TIA samples since construction or the last reset.
    pub fn activity(&self) -> Activity {
        Activity {
            tia_samples: self.samples,
            ..Activity::default()
        }
    }

    /// Zeroes the counter.
    pub fn reset_activity(&mut self) {
        self.samples = 0;
    }

    fn col(&self, c: usize) -> Result<(f64, f64), PeriphError> {
        self.columns.get(c).copied().ok_or_else(|| {
            PeriphError::invalid(
                "tia",
                "column",
                c,
                format!("the bank has {} columns", self.columns.len()),
            )
        })
    }
}

/// Current sense amplifier configuration (A); non-idealities off by default.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct SenseAmpConfig {
    /// Reference current between the low- and high-conductance read currents.
    pub i_ref: f64,
    /// Input offset common to all amplifiers (A), added to the cell current.
    pub offset: f64,
    /// Standard deviation of a per-amplifier random offset (A).
    pub offset_sigma: f64,
    /// Input-referred rms noise per decision (A).
    pub noise: f64,
}

impl Default for SenseAmpConfig {
    fn default() -> Self {
        Self {
            i_ref: 1e-6,
            offset: 0.0,
            offset_sigma: 0.0,
            noise: 0.0,
        }
    }
}

impl SenseAmpConfig {
    /// Checks every field; the error names the offending one.
    pub fn validate(&self) -> Result<(), PeriphError> {
        S.finite("i_ref", self.i_ref)?;
        S.finite("offset", self.offset)?;
        S.non_negative("offset_sigma", self.offset_sigma)?;
        S.non_negative("noise", self.noise)?;
        Ok(())
    }
}

/// Sense amplifiers deciding `I + offset + noise > i_ref` per column: the
/// read-out of binary memristors such as the paper's shared-weight table.
#[derive(Debug, Clone)]
pub struct SenseAmp {
    i_ref: f64,
    offsets: Vec<f64>,
    noise: f64,
    seed: u64,
    rng: ChaCha8Rng,
    decisions: u64,
}

impl SenseAmp {
    /// Amplifiers for `columns` columns; offsets drawn from `seed`.
    pub fn new(cfg: &SenseAmpConfig, columns: usize, seed: u64) -> Result<Self, PeriphError> {
        cfg.validate()?;
        let offsets = (0..columns)
            .map(|c| {
                let z: f64 = stream(seed, Domain::SenseStatic, c as u64).sample(StandardNormal);
                cfg.offset + cfg.offset_sigma * z
            })
            .collect();
        Ok(Self {
            i_ref: cfg.i_ref,
            offsets,
            noise: cfg.noise,
            seed,
            rng: stream(seed, Domain::SenseNoise, 0),
            decisions: 0,
        })
    }

    /// Restarts the noise stream as stream `id` of this bank's seed.
    pub fn reseed(&mut self, id: u64) {
        self.rng = stream(self.seed, Domain::SenseNoise, id);
    }

    /// Per-amplifier offsets (A).
    pub fn offsets(&self) -> &[f64] {
        &self.offsets
    }

    /// Decides one bit per column from the cell currents (A).
    pub fn sense(&mut self, currents: &[f64], bits: &mut [bool]) -> Result<(), PeriphError> {
        check_len("sense_amp", "currents", currents.len(), self.offsets.len())?;
        check_len("sense_amp", "bits", bits.len(), self.offsets.len())?;
        check_not_nan("sense_amp", "currents", currents)?;
        for ((&i, b), &o) in currents.iter().zip(bits.iter_mut()).zip(&self.offsets) {
            let n = if self.noise > 0.0 {
                self.noise * self.rng.sample::<f64, _>(StandardNormal)
            } else {
                0.0
            };
            *b = i + o + n > self.i_ref;
        }
        self.decisions += currents.len() as u64;
        Ok(())
    }

    /// Decisions since construction or the last reset.
    pub fn activity(&self) -> Activity {
        Activity {
            sense_ops: self.decisions,
            ..Activity::default()
        }
    }

    /// Zeroes the counter.
    pub fn reset_activity(&mut self) {
        self.decisions = 0;
    }
}
