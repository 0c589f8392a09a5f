//! The column converters of the crossbar mappings: `xbar_periph`'s ADC
//! transfer function (ideal, noiseless converter with a fixed range),
//! evaluated without the bank's per-call bookkeeping so that the inference
//! hot loop can apply it to partial sums.
//!
//! The constants (LSB and code bounds) come from an [`AdcBank`] built on
//! the same settings, and [`ColumnAdc::read`] repeats that bank's
//! arithmetic (`f64`, codes by rounding half up, clipping to the end
//! codes), so the two agree bit for bit; the hot loop's
//! [`ColumnAdc::add_reads`] is `read` in a form the compiler vectorises,
//! again bit for bit (both tested in `tests/adc.rs`).

use xbar_periph::{AdcBank, AdcConfig, PeriphError, RangeSpec};

/// A noiseless `bits`-bit converter over `-range..range` (signed) or
/// `0..range` (unsigned); `bits = 0` passes values through.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct ColumnAdc {
    bits: u32,
    range: f64,
    /// Inputs per LSB and the LSB, input units.
    scale: f64,
    lsb: f64,
    lo: i32,
    hi: i32,
}

impl ColumnAdc {
    /// The periph settings this converter implements.
    pub fn config(bits: u32, range: f64, signed: bool) -> AdcConfig {
        AdcConfig {
            bits,
            range: RangeSpec::Fixed(range),
            signed,
            ..AdcConfig::default()
        }
    }

    pub fn new(bits: u32, range: f64, signed: bool) -> Result<Self, PeriphError> {
        let bank = AdcBank::new(&Self::config(bits, range, signed), 1, 0)?;
        let lsb = bank.lsbs().next().unwrap_or(1.0);
        let (lo, hi) = bank.code_bounds();
        Ok(ColumnAdc {
            bits,
            range,
            scale: 1.0 / lsb,
            lsb,
            lo,
            hi,
        })
    }

    /// The output code of input `x` (0 for an ideal converter).
    #[inline(always)]
    pub fn code(&self, x: f64) -> i32 {
        if self.bits == 0 {
            return 0;
        }
        let (lo, hi) = (self.lo as f64, self.hi as f64);
        // As the bank: counting from `lo` makes truncation the floor.
        self.lo + (x * self.scale + 0.5 - lo).clamp(0.0, hi - lo) as i32
    }

    /// What the digital side reads for input `x`: `code * LSB`, or `x`
    /// itself for an ideal converter.
    #[inline(always)]
    pub fn read(&self, x: f64) -> f64 {
        if self.bits == 0 {
            return x;
        }
        self.code(x) as f64 * self.lsb
    }

    /// `out[j] += read(sums[j])`, written so that the compiler vectorises
    /// it: for a non-negative `t`, `t as i32` is `t.floor()`, and the
    /// integer code is exact in `f64`, so each term has the bits of
    /// [`Self::read`] (a NaN sum reads as the lowest code in both: `max`
    /// drops it here, the saturating cast there).
    #[inline(always)]
    pub fn add_reads(&self, sums: &[f32], out: &mut [f32]) {
        if self.bits == 0 {
            for (o, &x) in out.iter_mut().zip(sums) {
                *o += x;
            }
            return;
        }
        let (lo, top) = (self.lo as f64, (self.hi - self.lo) as f64);
        for (o, &x) in out.iter_mut().zip(sums) {
            let t = (x as f64 * self.scale + 0.5 - lo).max(0.0).min(top);
            *o += ((lo + t.floor()) * self.lsb) as f32;
        }
    }

    /// Full-scale range, input units.
    pub fn range(&self) -> f64 {
        self.range
    }

    /// Resolution in bits (0 = ideal).
    pub fn bits(&self) -> u32 {
        self.bits
    }

    /// True for `bits = 0`.
    pub fn is_ideal(&self) -> bool {
        self.bits == 0
    }
}
