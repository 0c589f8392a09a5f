//! The paper's shared-weight mapping: per layer (one core), the 16 shared
//! 16-bit weights stored bit-sliced in a 16 x 16 array of binary memristors,
//! and a 4-bit index per synapse.
//!
//! # Storage and read-out
//! Row `k` of a core's array holds shared weight `k` in two's complement:
//! column `b` is bit `b` (LRS = 1, HRS = 0), and shift-and-add weighs
//! column 15 by `-2^15`, so every 16-bit pattern, including one corrupted
//! by a misread, decodes to an `i16` code. Reading weight `k` drives row `k`
//! at [`V_READ`] through the row driver while the other 15 rows are held at
//! 0 V (grounded, so sneak currents through unselected cells end in their
//! drivers, not in the sense amplifiers), and senses the 16 column currents
//! at virtual ground. The currents come from the crossbar solver with the
//! wire, driver and sense resistances (`crossbar.r_wire`, `r_driver`,
//! `r_sense`): the IR-drop-aware effective matrix `A` of the programmed
//! array, `I_b = A[b][k] V_READ`.
//!
//! Each column's sense circuit decides the bit: with `adc.bits = 0` a
//! comparator whose reference sits midway between the nominal LRS and HRS
//! read currents of an ideal-wire cell, `V_READ (G_LRS + G_HRS) / 2`; with
//! `adc.bits = n` an `n`-bit converter over `[0, adc.range]` (default range:
//! the nominal LRS current) whose code is compared with the mid code of the
//! two nominal currents. The reference is designed for nominal devices and
//! wires, so IR drop, drift and variability that push a cell's current
//! across it flip the bit.
//!
//! # Devices
//! `device.*`, `drift.*` and `faults.*` program the 256 binary targets of
//! each core through [`NonIdealConfig::apply`] (two levels; LRS =
//! `device.g_max`, default [`DEFAULT_G_LRS`]; HRS = `max(device.g_min,
//! G_LRS / device.on_off_ratio)`, 0 when neither is set), seeded per trial
//! and core; `device.levels` and `crossbar.tile` do not apply (the cells
//! are binary, the array 16 x 16). With `drift.compensation` the per-column digital scale trims
//! the column's current before the decision (a reference-current trim).
//!
//! Read noise (`device.read_noise_sigma`, relative) is drawn afresh for
//! every read of the table, modelled as Gaussian noise on each bit-line
//! current with standard deviation `sigma |I_b|` (the selected cell carries
//! that current). Reading the table once per synapse event would need one
//! draw per synapse; instead each core re-reads its whole table once per
//! time step of every image, and all synapse events of that step use that
//! read. Without read noise the table is decoded once per trial and the
//! synaptic sums are exactly the ideal ones over the decoded codes.

use rand::Rng;
use rand_chacha::ChaCha8Rng;
use rand_distr::StandardNormal;
use xbar_memristor::stats::NonIdealConfig;
use xbar_nodal::crossbar::{Conductances, Crossbar, Parasitics};

use crate::model::SharedModel;
use crate::nonideal::HardwareSettings;
use crate::quant::LEVELS;
use crate::snn::{IdealMapping, Mapping, Presynaptic, SnnError};

/// Read voltage of the selected table row, V.
pub const V_READ: f64 = 0.2;
/// LRS conductance unless `device.g_max` sets it: 10 kΩ, S.
pub const DEFAULT_G_LRS: f64 = 100e-6;
/// Bits per shared weight (columns of a core's array).
pub const BITS: usize = 16;

/// One core's table as programmed and as read.
#[derive(Clone, Debug, PartialEq)]
pub struct CoreTable {
    /// The 16-bit codes the core was programmed with.
    pub stored: Vec<i16>,
    /// The codes a noise-free read decodes.
    pub decoded: Vec<i16>,
    /// Noise-free bit-line currents, `currents[k * 16 + b]` for weight `k`,
    /// bit `b`, A (after any compensation trim).
    pub currents: Vec<f64>,
    /// Bits that a noise-free read gets wrong.
    pub bit_errors: usize,
}

/// The column sense circuit.
#[derive(Clone, Copy, Debug, PartialEq)]
struct Sense {
    threshold: f64,
    /// `(levels, range)` of the converter; none for the comparator.
    adc: Option<(f64, f64)>,
}

impl Sense {
    fn new(g_lrs: f64, g_hrs: f64, bits: u32, range: Option<f64>) -> Result<Self, SnnError> {
        let (i_on, i_off) = (V_READ * g_lrs, V_READ * g_hrs);
        if bits == 0 {
            return Ok(Sense {
                threshold: 0.5 * (i_on + i_off),
                adc: None,
            });
        }
        let range = range.unwrap_or(i_on);
        let levels = (1u64 << bits) as f64;
        let code = |i: f64| (i / range * levels).floor().clamp(0.0, levels - 1.0);
        let (c_on, c_off) = (code(i_on), code(i_off));
        if c_on <= c_off {
            return Err(SnnError::Hardware(format!(
                "adc.bits = {bits} with adc.range = {range} A gives LRS ({i_on} A) and HRS \
                 ({i_off} A) the same code; the column converter cannot tell 1 from 0"
            )));
        }
        Ok(Sense {
            threshold: 0.5 * (c_on + c_off),
            adc: Some((levels, range)),
        })
    }

    fn bit(&self, current: f64) -> bool {
        match self.adc {
            None => current >= self.threshold,
            Some((levels, range)) => {
                (current / range * levels).floor().clamp(0.0, levels - 1.0) >= self.threshold
            }
        }
    }
}

/// Shift-and-add of 16 column decisions (`bit(b)`), column 15 weighing
/// `-2^15`.
fn decode(mut bit: impl FnMut(usize) -> bool) -> i16 {
    let mut word = 0u16;
    for b in 0..BITS {
        word |= (bit(b) as u16) << b;
    }
    word as i16
}

/// LRS and HRS conductance of the binary cells, S.
pub fn binary_levels(hw: &HardwareSettings) -> (f64, f64) {
    let g_lrs = hw.device.g_max.unwrap_or(DEFAULT_G_LRS);
    let mut g_hrs = hw.device.g_min.unwrap_or(0.0);
    if let Some(r) = hw.device.on_off_ratio {
        g_hrs = g_hrs.max(g_lrs / r);
    }
    (g_lrs, g_hrs)
}

/// The seed of core `layer`'s device sample in trial `seed`, independent of
/// the input spike streams (which use the stream numbers of the images).
fn device_seed(seed: u64, layer: usize) -> u64 {
    crate::stream_rng(seed, u64::MAX - layer as u64).random()
}

/// The shared-weight accelerator of one trial: every core's array
/// programmed, solved and decoded.
#[derive(Clone, Debug)]
pub struct SharedMapping {
    pub cores: Vec<CoreTable>,
    /// Synaptic sums over the noise-free decoded codes.
    exact: IdealMapping,
    /// Per core, the 4-bit index rows and the code LSB, for noisy reads.
    index: Vec<Vec<u8>>,
    lsb: Vec<f32>,
    read_sigma: f64,
    sense: Sense,
}

impl SharedMapping {
    /// Programs, solves and decodes every core for trial `seed`.
    pub fn new(model: &SharedModel, hw: &HardwareSettings, seed: u64) -> Result<Self, SnnError> {
        let (g_lrs, g_hrs) = binary_levels(hw);
        if g_hrs >= g_lrs {
            return Err(SnnError::Hardware(format!(
                "HRS conductance {g_hrs} S is not below LRS {g_lrs} S"
            )));
        }
        let sense = Sense::new(g_lrs, g_hrs, hw.adc_bits, hw.adc_range)?;
        let device = NonIdealConfig {
            g_max: Some(g_lrs),
            g_min: Some(g_hrs),
            on_off_ratio: None,
            levels: Some(2),
            // Drawn per read below, not frozen into the programmed sample.
            read_noise_sigma: None,
            ..hw.device.clone()
        };
        let xbar = Crossbar::new(
            LEVELS,
            BITS,
            Parasitics {
                r_row: hw.r_wire,
                r_col: hw.r_wire,
                r_driver: hw.r_driver,
                r_sense: hw.r_sense,
            },
        )
        .map_err(|e| SnnError::Hardware(format!("shared-weight array: {e}")))?;
        let mut cores = Vec::with_capacity(model.layers.len());
        for (l, layer) in model.layers.iter().enumerate() {
            let targets: Vec<f64> = (0..LEVELS * BITS)
                .map(|c| {
                    let word = layer.codes[c / BITS] as u16;
                    if word >> (c % BITS) & 1 == 1 {
                        g_lrs
                    } else {
                        g_hrs
                    }
                })
                .collect();
            let array = device
                .apply(&targets, LEVELS, BITS, device_seed(seed, l))
                .map_err(|e| SnnError::Hardware(format!("core {}: {e}", l + 1)))?;
            let g = Conductances::new(LEVELS, BITS, array.read.clone())
                .map_err(|e| SnnError::Hardware(format!("core {}: {e}", l + 1)))?;
            let a = xbar
                .factor(&g)
                .and_then(|f| f.effective_matrix())
                .map_err(|e| SnnError::Hardware(format!("core {}: {e}", l + 1)))?;
            let currents: Vec<f64> = (0..LEVELS * BITS)
                .map(|c| a.get(c % BITS, c / BITS) * V_READ * array.column_scale[c % BITS])
                .collect();
            let decoded: Vec<i16> = (0..LEVELS)
                .map(|k| decode(|b| sense.bit(currents[k * BITS + b])))
                .collect();
            let bit_errors = decoded
                .iter()
                .zip(&layer.codes)
                .map(|(&d, &s)| ((d ^ s) as u16).count_ones() as usize)
                .sum();
            cores.push(CoreTable {
                stored: layer.codes.clone(),
                decoded,
                currents,
                bit_errors,
            });
        }
        let exact = IdealMapping::from_codes(
            model.sizes(),
            model
                .layers
                .iter()
                .zip(&cores)
                .map(|(l, c)| l.index.iter().map(|&k| c.decoded[k as usize]).collect())
                .collect(),
            model.layers.iter().map(|l| l.format.lsb() as f32).collect(),
        )?;
        Ok(SharedMapping {
            cores,
            exact,
            index: model.layers.iter().map(|l| l.index.clone()).collect(),
            lsb: model.layers.iter().map(|l| l.format.lsb() as f32).collect(),
            read_sigma: hw.device.read_noise_sigma.unwrap_or(0.0),
            sense,
        })
    }

    /// One noisy read of core `layer`'s whole table.
    fn read_table(&self, layer: usize, rng: &mut ChaCha8Rng) -> [i32; LEVELS] {
        let currents = &self.cores[layer].currents;
        let mut table = [0i32; LEVELS];
        for (k, t) in table.iter_mut().enumerate() {
            *t = decode(|b| {
                let i = currents[k * BITS + b];
                let n: f64 = rng.sample(StandardNormal);
                self.sense.bit(i + self.read_sigma * i.abs() * n)
            }) as i32;
        }
        table
    }
}

/// Working memory of [`SharedMapping`].
pub struct SharedScratch {
    exact: Vec<i32>,
    acc: Vec<i32>,
}

impl Mapping for SharedMapping {
    type Scratch = SharedScratch;

    fn sizes(&self) -> &[usize] {
        self.exact.sizes()
    }

    fn deterministic(&self) -> bool {
        self.read_sigma == 0.0
    }

    fn linear(&self) -> bool {
        self.read_sigma == 0.0
    }

    fn scratch(&self) -> SharedScratch {
        SharedScratch {
            exact: self.exact.scratch(),
            acc: Vec::new(),
        }
    }

    fn synaptic_input(
        &self,
        layer: usize,
        pre: Presynaptic<'_>,
        out: &mut [f32],
        scratch: &mut SharedScratch,
        rng: &mut ChaCha8Rng,
    ) {
        if self.read_sigma == 0.0 {
            return self
                .exact
                .synaptic_input(layer, pre, out, &mut scratch.exact, rng);
        }
        let table = self.read_table(layer, rng);
        let index = &self.index[layer];
        let lsb = self.lsb[layer];
        let n = out.len();
        match pre {
            Presynaptic::Spikes(rows) => {
                let acc = &mut scratch.acc;
                acc.clear();
                acc.resize(n, 0);
                for &i in rows {
                    let row = &index[i as usize * n..(i as usize + 1) * n];
                    for (a, &k) in acc.iter_mut().zip(row) {
                        *a += table[k as usize];
                    }
                }
                for (o, &a) in out.iter_mut().zip(acc.iter()) {
                    *o = a as f32 * lsb;
                }
            }
            Presynaptic::Analog(values) => {
                out.fill(0.0);
                for (i, &x) in values.iter().enumerate() {
                    if x != 0.0 {
                        let row = &index[i * n..(i + 1) * n];
                        for (o, &k) in out.iter_mut().zip(row) {
                            *o += x * table[k as usize] as f32;
                        }
                    }
                }
                for o in out.iter_mut() {
                    *o *= lsb;
                }
            }
        }
    }
}
