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
//! Each column's sense circuit decides the bit, and both kinds are
//! `xbar-periph` blocks: with `adc.bits = 0` an ideal [`SenseAmp`] (no
//! offset, no noise) whose reference sits midway between the nominal LRS
//! and HRS read currents of an ideal-wire cell, `V_READ (G_LRS + G_HRS) / 2`
//! (a current exactly at the reference reads 1); with `adc.bits = n` an
//! ideal unsigned `n`-bit [`AdcBank`] over `[0, adc.range]` (default range:
//! the nominal LRS current) whose code is compared with the mid code of the
//! two nominal currents. The converter truncates (code `k` covers
//! `[k, k + 1)` LSB) and is given the current as a fraction of
//! `adc.range`, so its codes are `floor(I / range * 2^n)` exactly as the
//! mapping computed them before it used `xbar-periph`, and studies made
//! then stay bit-identical. The reference is designed for nominal devices
//! and wires, so IR drop, drift and variability that push a cell's current
//! across it flip the bit.
//!
//! Both decisions are monotone in the current, so each column's is
//! `I >= I_th` for one current `I_th`, found once per mapping by bisecting
//! the periph block's decision over the ordered `f64` values; the table
//! reads compare against it, 256 times per read, instead of calling the
//! block.
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
//! synaptic sums are exactly the ideal ones over the decoded codes. With
//! it, a read that decodes every weight as the noise-free read did (almost
//! every read at realistic noise levels, where the bit-line currents sit
//! many standard deviations from their thresholds) gives those same sums,
//! so it takes the noise-free path's vector adds; only a read that differs
//! looks each synapse's weight up in the read table.

use rand::Rng;
use rand_chacha::ChaCha8Rng;
use rand_distr::StandardNormal;
use xbar_memristor::stats::NonIdealConfig;
use xbar_nodal::crossbar::{Conductances, Crossbar, Parasitics};
use xbar_periph::{AdcBank, AdcConfig, PeriphError, RangeSpec, SenseAmp, SenseAmpConfig};

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

/// The `xbar-periph` block behind every column of a core's array.
#[derive(Debug)]
enum SenseChain {
    /// `adc.bits = 0`: a current comparator.
    Comparator(SenseAmp),
    /// `adc.bits = n`: a converter fed `I / range`; the bit is 1 when
    /// `2 code >= code(I_LRS) + code(I_HRS)`, i.e. at or above the mid code.
    Converter { adc: AdcBank, range: f64, mid2: i32 },
}

impl SenseChain {
    fn new(g_lrs: f64, g_hrs: f64, bits: u32, range: Option<f64>) -> Result<Self, SnnError> {
        let periph = |e: PeriphError| SnnError::Hardware(format!("column sense: {e}"));
        let (i_on, i_off) = (V_READ * g_lrs, V_READ * g_hrs);
        if bits == 0 {
            // The amplifier decides `I > i_ref`; a reference one ulp below
            // the midpoint reads a current exactly at the midpoint as 1.
            let mid = 0.5 * (i_on + i_off);
            let cfg = SenseAmpConfig {
                i_ref: from_order_key(order_key(mid) - 1),
                ..SenseAmpConfig::default()
            };
            return Ok(SenseChain::Comparator(
                SenseAmp::new(&cfg, BITS, 0).map_err(periph)?,
            ));
        }
        let range = range.unwrap_or(i_on);
        if !(range.is_finite() && range > 0.0) {
            return Err(SnnError::Hardware(format!(
                "adc.range = {range} A: the column converter's full scale must be a positive current"
            )));
        }
        // Periph's converter rounds (code k covers [k - 1/2, k + 1/2) LSB);
        // a -1/2 LSB offset makes it truncate. Its input is the fraction of
        // full scale, computed here as `I / range` so that the codes are
        // those of the pre-periph formula `floor(I / range * 2^n)` bit for
        // bit (the bank's own `I * (2^n / range)` rounds differently).
        let cfg = AdcConfig {
            bits,
            range: RangeSpec::Fixed(1.0),
            signed: false,
            offset_lsb: -0.5,
            ..AdcConfig::default()
        };
        let mut adc = AdcBank::new(&cfg, BITS, 0).map_err(periph)?;
        let mut codes = [0i32; BITS];
        let mut code = |i: f64| {
            adc.convert_codes(&[i / range; BITS], &mut codes)
                .map(|_| codes[0])
                .map_err(periph)
        };
        let (c_on, c_off) = (code(i_on)?, code(i_off)?);
        if c_on <= c_off {
            return Err(SnnError::Hardware(format!(
                "adc.bits = {bits} with adc.range = {range} A gives LRS ({i_on} A) and HRS \
                 ({i_off} A) the same code; the column converter cannot tell 1 from 0"
            )));
        }
        Ok(SenseChain::Converter {
            adc,
            range,
            mid2: c_on + c_off,
        })
    }

    /// The bit of every column when each carries `current` (A).
    fn decide(&mut self, current: f64) -> Result<[bool; BITS], PeriphError> {
        let mut bits = [false; BITS];
        match self {
            SenseChain::Comparator(amp) => amp.sense(&[current; BITS], &mut bits)?,
            SenseChain::Converter { adc, range, mid2 } => {
                let mut codes = [0i32; BITS];
                adc.convert_codes(&[current / *range; BITS], &mut codes)?;
                for (bit, &code) in bits.iter_mut().zip(&codes) {
                    *bit = 2 * code >= *mid2;
                }
            }
        }
        Ok(bits)
    }
}

/// Maps `f64` values other than NaN onto `i64` in the same order (the
/// order of [`f64::total_cmp`]); neighbouring values get neighbouring keys.
fn order_key(x: f64) -> i64 {
    let bits = x.to_bits() as i64;
    bits ^ (((bits >> 63) as u64) >> 1) as i64
}

/// Inverse of [`order_key`].
fn from_order_key(key: i64) -> f64 {
    f64::from_bits((key ^ (((key >> 63) as u64) >> 1) as i64) as u64)
}

/// The column sense circuits as the table reads use them.
#[derive(Clone, Copy, Debug, PartialEq)]
struct Sense {
    /// Per column, the smallest current (A) its sense chain reads as 1.
    thresholds: [f64; BITS],
}

impl Sense {
    fn new(g_lrs: f64, g_hrs: f64, bits: u32, range: Option<f64>) -> Result<Self, SnnError> {
        Self::from_chain(&mut SenseChain::new(g_lrs, g_hrs, bits, range)?)
    }

    /// Bisects each column's decision over the ordered `f64` values, from
    /// `-inf` (reads 0) to `+inf` (reads 1), down to adjacent values: since
    /// the noiseless chain's decision is monotone in the current,
    /// `I >= threshold` is then its decision for every current.
    fn from_chain(chain: &mut SenseChain) -> Result<Self, SnnError> {
        let periph = |e: PeriphError| SnnError::Hardware(format!("column sense: {e}"));
        let (below, above) = (
            chain.decide(f64::NEG_INFINITY).map_err(periph)?,
            chain.decide(f64::INFINITY).map_err(periph)?,
        );
        let mut thresholds = [0.0; BITS];
        for (b, threshold) in thresholds.iter_mut().enumerate() {
            if below[b] || !above[b] {
                return Err(SnnError::Hardware(format!(
                    "column {b}'s sense circuit reads the same bit for every current"
                )));
            }
            let (mut zero, mut one) = (order_key(f64::NEG_INFINITY), order_key(f64::INFINITY));
            // The keys span more than `i64` can subtract.
            while one as i128 - zero as i128 > 1 {
                let mid = ((zero as i128 + one as i128) / 2) as i64;
                if chain.decide(from_order_key(mid)).map_err(periph)?[b] {
                    one = mid;
                } else {
                    zero = mid;
                }
            }
            *threshold = from_order_key(one);
        }
        Ok(Sense { thresholds })
    }

    #[inline(always)]
    fn bit(&self, column: usize, current: f64) -> bool {
        current >= self.thresholds[column]
    }
}

/// Shift-and-add of 16 column decisions (`bit(b)`), column 15 weighing
/// `-2^15`.
#[inline(always)]
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

/// What re-reading the tables under read noise needs, per core.
#[derive(Clone, Debug)]
struct NoisyReads {
    /// Standard deviation `sigma |I|` of every bit-line current, A, in the
    /// layout of [`CoreTable::currents`].
    spread: Vec<Vec<f64>>,
    /// The 4-bit weight index of every synapse, row-major `n_in x n_out`.
    index: Vec<Vec<u8>>,
    lsb: Vec<f32>,
}

/// The shared-weight accelerator of one trial: every core's array
/// programmed, solved and decoded.
#[derive(Clone, Debug)]
pub struct SharedMapping {
    pub cores: Vec<CoreTable>,
    /// Synaptic sums over the noise-free decoded codes.
    exact: IdealMapping,
    sense: Sense,
    /// None without read noise.
    noisy: Option<NoisyReads>,
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
        let read_sigma = hw.device.read_noise_sigma.unwrap_or(0.0);
        if !(read_sigma.is_finite() && read_sigma >= 0.0) {
            return Err(SnnError::Hardware(format!(
                "device.read_noise_sigma = {read_sigma}: must be finite and >= 0"
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
            if let Some(c) = currents.iter().position(|i| !i.is_finite()) {
                return Err(SnnError::Hardware(format!(
                    "core {}: weight {} bit {} reads a current of {} A",
                    l + 1,
                    c / BITS,
                    c % BITS,
                    currents[c]
                )));
            }
            let decoded: Vec<i16> = (0..LEVELS)
                .map(|k| decode(|b| sense.bit(b, currents[k * BITS + b])))
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
        let lsb: Vec<f32> = model.layers.iter().map(|l| l.format.lsb() as f32).collect();
        let exact = IdealMapping::from_codes(
            model.sizes(),
            model
                .layers
                .iter()
                .zip(&cores)
                .map(|(l, c)| l.index.iter().map(|&k| c.decoded[k as usize]).collect())
                .collect(),
            lsb.clone(),
        )?;
        let noisy = (read_sigma > 0.0).then(|| NoisyReads {
            spread: cores
                .iter()
                .map(|c| c.currents.iter().map(|i| read_sigma * i.abs()).collect())
                .collect(),
            index: model.layers.iter().map(|l| l.index.clone()).collect(),
            lsb,
        });
        Ok(SharedMapping {
            cores,
            exact,
            sense,
            noisy,
        })
    }

    /// One noisy read of core `layer`'s whole table: one normal draw per
    /// bit line, weight by weight, bit by bit.
    #[inline]
    fn read_table(&self, noisy: &NoisyReads, layer: usize, rng: &mut ChaCha8Rng) -> [i16; LEVELS] {
        let currents = &self.cores[layer].currents[..LEVELS * BITS];
        let spread = &noisy.spread[layer][..LEVELS * BITS];
        let mut table = [0i16; LEVELS];
        for (k, t) in table.iter_mut().enumerate() {
            let (i, s) = (&currents[k * BITS..][..BITS], &spread[k * BITS..][..BITS]);
            *t = decode(|b| {
                let n: f64 = rng.sample(StandardNormal);
                self.sense.bit(b, i[b] + s[b] * n)
            });
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
        self.noisy.is_none()
    }

    fn linear(&self) -> bool {
        self.noisy.is_none()
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
        let Some(noisy) = &self.noisy else {
            return self
                .exact
                .synaptic_input(layer, pre, out, &mut scratch.exact, rng);
        };
        let table = self.read_table(noisy, layer, rng);
        if table[..] == self.cores[layer].decoded[..] {
            // The sums over the table the noise-free read decoded, bit for
            // bit what the look-ups below would give, with vector adds.
            return self
                .exact
                .synaptic_input(layer, pre, out, &mut scratch.exact, rng);
        }
        // Looked up in an `i32` copy: an `i16` table runs this loop at
        // two thirds of the speed.
        let table = table.map(i32::from);
        let index = &noisy.index[layer];
        let lsb = noisy.lsb[layer];
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

#[cfg(test)]
mod tests {
    use super::*;
    use crate::nonideal;
    use std::path::Path;

    /// The column decision as the mapping made it before it used
    /// `xbar-periph` (its own comparator and floor-and-clamp converter): the
    /// definition the results in `results/shared_*` were made with.
    fn pre_periph_bit(g_lrs: f64, g_hrs: f64, bits: u32, range: Option<f64>, i: f64) -> bool {
        let (i_on, i_off) = (V_READ * g_lrs, V_READ * g_hrs);
        if bits == 0 {
            return i >= 0.5 * (i_on + i_off);
        }
        let range = range.unwrap_or(i_on);
        let levels = (1u64 << bits) as f64;
        let code = |i: f64| (i / range * levels).floor().clamp(0.0, levels - 1.0);
        code(i) >= 0.5 * (code(i_on) + code(i_off))
    }

    /// The pre-periph converter's refusal: LRS and HRS in one code.
    fn pre_periph_refuses(g_lrs: f64, g_hrs: f64, bits: u32, range: Option<f64>) -> bool {
        let range = range.unwrap_or(V_READ * g_lrs);
        let levels = (1u64 << bits) as f64;
        let code = |i: f64| (i / range * levels).floor().clamp(0.0, levels - 1.0);
        bits > 0 && code(V_READ * g_lrs) <= code(V_READ * g_hrs)
    }

    fn step(x: f64, ulps: i64) -> f64 {
        from_order_key(order_key(x) + ulps)
    }

    /// Currents around every place a decision can change: the comparator
    /// reference, every code edge of the converter (all of them up to 8
    /// bits; near the mid code and every 97th beyond), each +-3 ulp, plus a
    /// uniform grid and the extremes.
    fn probe_currents(i_on: f64, i_off: f64, bits: u32, range: f64, th: f64) -> Vec<f64> {
        let mut edges = vec![0.5 * (i_on + i_off), th, i_on, i_off];
        if bits > 0 {
            let levels = 1u64 << bits;
            let mid = (0.5 * ((i_on + i_off) / range * levels as f64)) as u64;
            for k in 0..=levels {
                if bits <= 8 || k.abs_diff(mid) <= 64 || k % 97 == 0 {
                    let f = k as f64 / levels as f64;
                    edges.extend([f * range, k as f64 * range / levels as f64]);
                }
            }
        }
        let mut currents: Vec<f64> = edges
            .iter()
            .flat_map(|&e| (-3..=3).map(move |u| step(e, u)))
            .collect();
        let top = range.max(i_on);
        currents.extend((0..=2000).map(|j| top * (-0.1 + 1.3 * j as f64 / 2000.0)));
        currents.extend([
            f64::NEG_INFINITY,
            -1.0,
            -0.0,
            0.0,
            f64::from_bits(1),
            f64::MIN_POSITIVE,
            1e300,
            f64::INFINITY,
        ]);
        currents
    }

    #[test]
    fn periph_sense_is_bit_identical_to_the_pre_periph_decision() {
        let mut checked = 0usize;
        for g_lrs in [100e-6, 37.3e-6] {
            let i_on = V_READ * g_lrs;
            for g_hrs in [0.0, g_lrs / 10.0, g_lrs / 3.0, g_lrs / 1.5] {
                for bits in [0, 1, 2, 3, 4, 5, 8, 12, 16] {
                    for range in [None, Some(1.37 * i_on), Some(0.61 * i_on), Some(3e-5 / 7.0)] {
                        let what = format!("G {g_lrs}/{g_hrs} S, {bits} bits, range {range:?}");
                        let chain = SenseChain::new(g_lrs, g_hrs, bits, range);
                        if pre_periph_refuses(g_lrs, g_hrs, bits, range) {
                            assert!(
                                matches!(&chain, Err(SnnError::Hardware(m)) if m.contains("same code")),
                                "{what}: {chain:?}"
                            );
                            continue;
                        }
                        let mut chain = chain.unwrap();
                        let sense = Sense::from_chain(&mut chain).unwrap();
                        let old = |i| pre_periph_bit(g_lrs, g_hrs, bits, range, i);
                        // The threshold is the old decision's exact edge.
                        let th = sense.thresholds[0];
                        assert!(old(th) && !old(step(th, -1)), "{what}: {th}");
                        let r = range.unwrap_or(i_on);
                        for i in probe_currents(i_on, V_READ * g_hrs, bits, r, th) {
                            let periph = chain.decide(i).unwrap();
                            for (b, &p) in periph.iter().enumerate() {
                                assert_eq!(sense.bit(b, i), old(i), "{what}: column {b}, {i:e} A");
                                assert_eq!(p, old(i), "{what}: periph, column {b}, {i:e} A");
                            }
                            checked += 1;
                        }
                    }
                }
            }
        }
        assert!(checked > 500_000, "{checked}");
    }

    #[test]
    fn thresholds_sit_at_the_closed_form_edges() {
        // Ideal cells, no HRS current: the reference is half the LRS current.
        let sense = Sense::new(100e-6, 0.0, 0, None).unwrap();
        assert_eq!(sense.thresholds, [0.5 * V_READ * 100e-6; BITS]);
        // 4 bits over the LRS current, HRS a tenth: codes 15 and 1, bit 1
        // from code 8 on, i.e. from half the range.
        let sense = Sense::new(100e-6, 10e-6, 4, None).unwrap();
        assert_eq!(sense.thresholds, [8.0 / 16.0 * V_READ * 100e-6; BITS]);
    }

    fn shipped() -> SharedModel {
        SharedModel::load(
            &Path::new(env!("CARGO_MANIFEST_DIR")).join("../../models/mnist_shared.xbm"),
        )
        .unwrap()
    }

    /// The noisy read and sums as the mapping computed them before: every
    /// bit through [`pre_periph_bit`], every synapse looked up in the read.
    fn pre_change_input(
        m: &SharedMapping,
        hw: &HardwareSettings,
        model: &SharedModel,
        layer: usize,
        pre: Presynaptic<'_>,
        rng: &mut ChaCha8Rng,
    ) -> (Vec<f32>, [i32; LEVELS]) {
        let (g_lrs, g_hrs) = binary_levels(hw);
        let sigma = hw.device.read_noise_sigma.unwrap();
        let currents = &m.cores[layer].currents;
        let mut table = [0i32; LEVELS];
        for (k, t) in table.iter_mut().enumerate() {
            *t = decode(|b| {
                let i = currents[k * BITS + b];
                let n: f64 = rng.sample(StandardNormal);
                pre_periph_bit(
                    g_lrs,
                    g_hrs,
                    hw.adc_bits,
                    hw.adc_range,
                    i + sigma * i.abs() * n,
                )
            }) as i32;
        }
        let index = &model.layers[layer].index;
        let lsb = model.layers[layer].format.lsb() as f32;
        let n = model.sizes()[layer + 1];
        let mut out = vec![0f32; n];
        match pre {
            Presynaptic::Spikes(rows) => {
                let mut acc = vec![0i32; n];
                for &i in rows {
                    for (a, &k) in acc.iter_mut().zip(&index[i as usize * n..][..n]) {
                        *a += table[k as usize];
                    }
                }
                for (o, a) in out.iter_mut().zip(acc) {
                    *o = a as f32 * lsb;
                }
            }
            Presynaptic::Analog(values) => {
                for (i, &x) in values.iter().enumerate() {
                    if x != 0.0 {
                        for (o, &k) in out.iter_mut().zip(&index[i * n..][..n]) {
                            *o += x * table[k as usize] as f32;
                        }
                    }
                }
                out.iter_mut().for_each(|o| *o *= lsb);
            }
        }
        (out, table)
    }

    #[test]
    fn noisy_reads_sum_exactly_as_table_lookups_whatever_the_misreads() {
        let model = shipped();
        let sizes = model.sizes();
        // Reads that decode as the noise-free read (the vector path) and
        // reads that differ in one entry or more (the look-ups).
        let mut seen = [0usize; 2];
        for (text, adc) in [
            ("read_noise_sigma = 0.02", 0),
            ("read_noise_sigma = 0.2\non_off_ratio = 3", 4),
            ("read_noise_sigma = 0.5", 0),
            ("read_noise_sigma = 0.9\non_off_ratio = 5", 8),
        ] {
            let table: toml::Table = format!("[device]\n{text}\n[adc]\nbits = {adc}\n")
                .parse()
                .unwrap();
            let hw = nonideal::from_table(&table, "shared").unwrap().hardware;
            let m = SharedMapping::new(&model, &hw, 7).unwrap();
            let mut scratch = m.scratch();
            let mut rng = crate::stream_rng(11, 3);
            let mut pick = crate::stream_rng(12, 0);
            for trial in 0..24 {
                let layer = trial % 3;
                let (n_in, n_out) = (sizes[layer], sizes[layer + 1]);
                let rows: Vec<u32> = (0..n_in as u32)
                    .filter(|_| pick.random::<f64>() < 0.15)
                    .collect();
                let values: Vec<f32> = (0..n_in)
                    .map(|_| (pick.random::<f32>() - 0.7).max(0.0))
                    .collect();
                for pre in [Presynaptic::Spikes(&rows), Presynaptic::Analog(&values)] {
                    let mut before = rng.clone();
                    let (want, read) = pre_change_input(&m, &hw, &model, layer, pre, &mut before);
                    let mut got = vec![f32::NAN; n_out];
                    m.synaptic_input(layer, pre, &mut got, &mut scratch, &mut rng);
                    let same = |a: &[f32], b: &[f32]| {
                        a.iter().zip(b).all(|(x, y)| x.to_bits() == y.to_bits())
                    };
                    assert!(same(&got, &want), "{text}, layer {layer}, {pre:?}");
                    assert_eq!(rng.random::<u64>(), before.random::<u64>(), "{text}");
                    let misread = read
                        .iter()
                        .zip(&m.cores[layer].decoded)
                        .any(|(&r, &d)| r != d as i32);
                    seen[misread as usize] += 1;
                }
            }
        }
        assert!(seen.iter().all(|&s| s >= 4), "{seen:?}");
    }

    #[test]
    fn noisy_reads_flip_ones_at_the_gaussian_tail_rate() {
        // Ideal cells and wires, a comparator at half the LRS current and
        // relative read noise sigma: a stored 1 (I_LRS) reads 0 when
        // I_LRS (1 + sigma n) < I_LRS / 2, i.e. n < -1 / (2 sigma), with
        // probability Phi(-5/3) = 0.04779035 for sigma = 0.3 (the normal
        // tail, 0.5 erfc(5 / (3 sqrt 2))). A stored 0 carries no current and
        // no noise, so it never reads 1.
        let model = shipped();
        let table: toml::Table = "[device]\nread_noise_sigma = 0.3\n".parse().unwrap();
        let hw = nonideal::from_table(&table, "shared").unwrap().hardware;
        let m = SharedMapping::new(&model, &hw, 3).unwrap();
        let noisy = m.noisy.as_ref().unwrap();
        let mut rng = crate::stream_rng(5, 0);
        let (mut ones, mut flips) = (0u64, 0u64);
        for read in 0..300 {
            let layer = read % 3;
            let read = m.read_table(noisy, layer, &mut rng);
            for (&stored, &got) in m.cores[layer].stored.iter().zip(&read) {
                let (stored, got) = (stored as u16, got as u16);
                assert_eq!(got & !stored, 0, "a stored 0 read as 1");
                ones += u64::from(stored.count_ones());
                flips += u64::from((stored & !got).count_ones());
            }
        }
        let p = 0.047_790_35;
        let expected = ones as f64 * p;
        let sd = (ones as f64 * p * (1.0 - p)).sqrt();
        // Within 5 standard errors; sigma 10 % off (0.33, Phi(-1.515) =
        // 0.0649) would move the count by about 15 of them.
        assert!(
            (flips as f64 - expected).abs() < 5.0 * sd,
            "{flips} flips of {ones} stored ones, expected {expected:.0} +- {sd:.0}"
        );
    }

    #[test]
    fn bad_read_noise_is_refused() {
        let model = shipped();
        let mut hw = HardwareSettings::default();
        for sigma in [f64::NAN, -0.1, f64::INFINITY] {
            hw.device.read_noise_sigma = Some(sigma);
            let e = SharedMapping::new(&model, &hw, 1).unwrap_err();
            assert!(e.to_string().contains("read_noise_sigma"), "{e}");
        }
    }
}
