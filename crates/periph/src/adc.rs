//! Column ADCs: quantisation, full-scale range, static and dynamic errors.
//!
//! # Transfer function
//! An `N`-bit ADC with full-scale range `R` (in input units, A or V) has
//! `LSB = R / 2^N` when unsigned (inputs `0..R`, codes `0..=2^N-1`) and
//! `LSB = 2R / 2^N` when signed (inputs `-R..R`, two's-complement codes
//! `-2^(N-1)..=2^(N-1)-1`). The ideal converter rounds: code `k` covers
//! `[(k-1/2) LSB, (k+1/2) LSB)`. An input beyond the outer edge of the first
//! or last code is clipped to that code and counted as a saturation.
//!
//! Errors act in this order on an input `x` of column `c`:
//! `u = (x + n_in)(1 + g_c) / LSB_c + o_c + n_lsb` (in LSB), then `u` is
//! quantised against the transition levels, which are ideal or moved by
//! INL/DNL. `g_c` is the gain error (`gain_error` plus a per-ADC random
//! `gain_sigma` draw), `o_c` the offset (`offset_lsb` plus an `offset_sigma_lsb`
//! draw), `n_in` and `n_lsb` the input-referred noise (`noise` in input units,
//! `noise_lsb` in LSB), drawn afresh for every conversion. The digital side
//! reads `code * LSB_c`: it knows nothing of the errors.
//!
//! `bits = 0` is an ideal converter: no quantisation and no clipping; only
//! `gain_error`, `gain_sigma` and `noise` apply.
//!
//! # Static draws and noise streams
//! Per-ADC errors (gain, offset, random DNL) come from streams keyed by
//! (seed, ADC index); conversion noise from one stream per bank keyed by
//! (seed, stream id), see [`AdcBank::reseed`]. Every conversion draws one
//! normal per column whether or not the column needs it, so the noise of
//! column `c` in the `k`-th conversion is a fixed function of (seed, stream,
//! k, c).

use std::sync::Arc;

use rand::Rng;
use rand_chacha::ChaCha8Rng;
use rand_distr::StandardNormal;
use serde::{Deserialize, Serialize};

use crate::error::{check_len, check_not_nan, Check, PeriphError};
use crate::seed::{stream, Domain};
use crate::Activity;

const C: Check = Check("adc");

/// Full-scale range of an ADC: fixed, or calibrated from data.
///
/// In TOML: a number (the range in input units), `"calibrated"` (the largest
/// calibration magnitude), or a percentile of the calibration magnitudes as
/// `"p99.9"` or `"99.9%"`.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
#[serde(try_from = "RangeRepr", into = "RangeRepr")]
pub enum RangeSpec {
    /// The same range for every column (A or V).
    Fixed(f64),
    /// The given percentile (0 < p <= 100) of the calibration magnitudes.
    Calibrated { percentile: f64 },
}

impl Default for RangeSpec {
    fn default() -> Self {
        Self::Calibrated { percentile: 100.0 }
    }
}

impl std::fmt::Display for RangeSpec {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Self::Fixed(r) => write!(f, "{r}"),
            Self::Calibrated { percentile } if *percentile == 100.0 => write!(f, "calibrated"),
            Self::Calibrated { percentile } => write!(f, "p{percentile}"),
        }
    }
}

#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(untagged)]
enum RangeRepr {
    Number(f64),
    Text(String),
}

impl TryFrom<RangeRepr> for RangeSpec {
    type Error = String;
    fn try_from(r: RangeRepr) -> Result<Self, String> {
        let text = match r {
            RangeRepr::Number(x) => return Ok(Self::Fixed(x)),
            RangeRepr::Text(t) => t,
        };
        let t = text.trim();
        if t.eq_ignore_ascii_case("calibrated") || t.eq_ignore_ascii_case("max") {
            return Ok(Self::Calibrated { percentile: 100.0 });
        }
        let number = t
            .strip_prefix(['p', 'P'])
            .or_else(|| t.strip_suffix('%'))
            .and_then(|n| n.trim().parse::<f64>().ok());
        match number {
            Some(p) => Ok(Self::Calibrated { percentile: p }),
            None => Err(format!(
                "invalid ADC range {text:?}: expected a number (full scale in input units), \
                 \"calibrated\", \"pXX\" or \"XX%\""
            )),
        }
    }
}

impl From<RangeSpec> for RangeRepr {
    fn from(r: RangeSpec) -> Self {
        match r {
            RangeSpec::Fixed(x) => Self::Number(x),
            other => Self::Text(other.to_string()),
        }
    }
}

/// Over which data a calibrated range is computed.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum CalibrationScope {
    /// One range per column, from that column's data.
    #[default]
    Column,
    /// One range for all columns of the tile.
    Tile,
}

/// ADC configuration; the `[adc]` table of a non-ideality file.
///
/// Every error is off by default; `bits = 0` (the default) is ideal.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct AdcConfig {
    /// Resolution, 1..=16 bits; 0 means ideal (no quantisation, no clipping).
    pub bits: u32,
    /// Full-scale range: fixed or calibrated.
    pub range: RangeSpec,
    /// Per column or per tile, for a calibrated range.
    pub calibration: CalibrationScope,
    /// Two's-complement codes over `-range..range` instead of `0..range`.
    pub signed: bool,
    /// Offset error common to all ADCs (LSB).
    pub offset_lsb: f64,
    /// Relative gain error common to all ADCs (0.01 = +1 %).
    pub gain_error: f64,
    /// Standard deviation of a per-ADC random offset (LSB).
    pub offset_sigma_lsb: f64,
    /// Standard deviation of a per-ADC random relative gain error.
    pub gain_sigma: f64,
    /// DNL of the inner codes (LSB), `2^bits - 2` values summing to zero
    /// (endpoint fit: the first and last transitions stay ideal).
    pub dnl: Option<Vec<f64>>,
    /// INL of the transition levels (LSB), `2^bits - 1` values, non-decreasing
    /// transitions.
    pub inl: Option<Vec<f64>>,
    /// Standard deviation of random per-ADC DNL (LSB), endpoint fit.
    pub dnl_sigma_lsb: f64,
    /// Input-referred rms noise in input units (A or V).
    pub noise: f64,
    /// Input-referred rms noise in LSB (adds in quadrature to `noise`).
    pub noise_lsb: f64,
    /// One ADC multiplexed over all columns: the random per-ADC errors are
    /// drawn once and shared, instead of once per column.
    pub shared: bool,
}

impl Default for AdcConfig {
    fn default() -> Self {
        Self {
            bits: 0,
            range: RangeSpec::default(),
            calibration: CalibrationScope::Column,
            signed: true,
            offset_lsb: 0.0,
            gain_error: 0.0,
            offset_sigma_lsb: 0.0,
            gain_sigma: 0.0,
            dnl: None,
            inl: None,
            dnl_sigma_lsb: 0.0,
            noise: 0.0,
            noise_lsb: 0.0,
            shared: false,
        }
    }
}

impl AdcConfig {
    /// An ideal `bits`-bit signed converter with a fixed range.
    pub fn ideal(bits: u32, range: f64) -> Self {
        Self {
            bits,
            range: RangeSpec::Fixed(range),
            ..Self::default()
        }
    }

    /// Number of codes, `2^bits` (0 for an ideal converter).
    pub fn levels(&self) -> u64 {
        if self.bits == 0 {
            0
        } else {
            1u64 << self.bits
        }
    }

    /// Checks every field; the error names the offending one.
    pub fn validate(&self) -> Result<(), PeriphError> {
        if self.bits > 16 {
            return Err(PeriphError::invalid(
                "adc",
                "bits",
                self.bits,
                "must be 0 (ideal) or 1..=16",
            ));
        }
        if self.signed && self.bits == 1 {
            return Err(PeriphError::invalid(
                "adc",
                "bits",
                1,
                "a signed ADC needs at least 2 bits",
            ));
        }
        match self.range {
            RangeSpec::Fixed(r) => C.positive("range", r)?,
            RangeSpec::Calibrated { percentile } => {
                if !(percentile > 0.0 && percentile <= 100.0) {
                    return Err(PeriphError::invalid(
                        "adc",
                        "range",
                        self.range,
                        "percentile must lie in (0, 100]",
                    ));
                }
            }
        }
        C.finite("offset_lsb", self.offset_lsb)?;
        C.finite("gain_error", self.gain_error)?;
        if self.gain_error <= -1.0 {
            return Err(PeriphError::invalid(
                "adc",
                "gain_error",
                self.gain_error,
                "must be > -1 (a gain of zero or below cannot convert)",
            ));
        }
        C.non_negative("offset_sigma_lsb", self.offset_sigma_lsb)?;
        C.non_negative("gain_sigma", self.gain_sigma)?;
        C.non_negative("dnl_sigma_lsb", self.dnl_sigma_lsb)?;
        C.non_negative("noise", self.noise)?;
        C.non_negative("noise_lsb", self.noise_lsb)?;
        let nonlinear = [
            self.dnl.is_some(),
            self.inl.is_some(),
            self.dnl_sigma_lsb > 0.0,
        ];
        if nonlinear.iter().filter(|&&b| b).count() > 1 {
            return Err(PeriphError::invalid(
                "adc",
                "dnl",
                "dnl/inl/dnl_sigma_lsb",
                "give at most one of `dnl`, `inl`, `dnl_sigma_lsb`",
            ));
        }
        if self.bits == 0 {
            let lsb_fields = [
                ("offset_lsb", self.offset_lsb),
                ("offset_sigma_lsb", self.offset_sigma_lsb),
                ("noise_lsb", self.noise_lsb),
                ("dnl_sigma_lsb", self.dnl_sigma_lsb),
            ];
            for (field, v) in lsb_fields {
                if v != 0.0 {
                    return Err(PeriphError::invalid(
                        "adc",
                        field,
                        v,
                        "an ideal ADC (bits = 0) has no LSB; set `bits`",
                    ));
                }
            }
            if self.dnl.is_some() || self.inl.is_some() {
                return Err(PeriphError::invalid(
                    "adc",
                    "dnl",
                    "table",
                    "an ideal ADC (bits = 0) has no codes; set `bits`",
                ));
            }
        }
        if let Some(dnl) = &self.dnl {
            self.transitions_from_dnl(dnl)?;
        }
        if let Some(inl) = &self.inl {
            self.transitions_from_inl(inl)?;
        }
        Ok(())
    }

    fn code_bounds(&self) -> (i32, i32) {
        let levels = self.levels() as i32;
        if self.signed {
            (-levels / 2, levels / 2 - 1)
        } else {
            (0, levels - 1)
        }
    }

    /// Transition levels (LSB, code coordinates) from an endpoint-fit DNL table.
    fn transitions_from_dnl(&self, dnl: &[f64]) -> Result<Vec<f64>, PeriphError> {
        let inner = (self.levels() - 2) as usize;
        check_len("adc", "dnl", dnl.len(), inner)?;
        let mut sum = 0.0;
        for (i, &d) in dnl.iter().enumerate() {
            if !d.is_finite() || d < -1.0 {
                return Err(PeriphError::invalid(
                    "adc",
                    "dnl",
                    format!("[{i}] = {d}"),
                    "each DNL must be finite and >= -1 LSB (a code width cannot be negative)",
                ));
            }
            sum += d;
        }
        if sum.abs() > 1e-6 * (inner.max(1) as f64) {
            return Err(PeriphError::invalid(
                "adc",
                "dnl",
                format!("sum {sum}"),
                "DNL must sum to zero (endpoint fit); use `inl` to move the end transitions",
            ));
        }
        let (lo, _) = self.code_bounds();
        let mut t = Vec::with_capacity(inner + 1);
        let mut level = lo as f64 + 0.5;
        t.push(level);
        for &d in dnl {
            level += 1.0 + d;
            t.push(level);
        }
        Ok(t)
    }

    fn transitions_from_inl(&self, inl: &[f64]) -> Result<Vec<f64>, PeriphError> {
        let n = (self.levels() - 1) as usize;
        check_len("adc", "inl", inl.len(), n)?;
        let (lo, _) = self.code_bounds();
        let mut t = Vec::with_capacity(n);
        for (i, &e) in inl.iter().enumerate() {
            if !e.is_finite() {
                return Err(PeriphError::invalid(
                    "adc",
                    "inl",
                    format!("[{i}] = {e}"),
                    "must be finite",
                ));
            }
            let level = lo as f64 + 0.5 + i as f64 + e;
            if let Some(&prev) = t.last() {
                if level < prev {
                    return Err(PeriphError::invalid(
                        "adc",
                        "inl",
                        format!("[{i}] = {e}"),
                        "transition levels must not decrease (INL step below -1 LSB)",
                    ));
                }
            }
            t.push(level);
        }
        Ok(t)
    }

    /// Random endpoint-fit DNL: normal draws, widths clipped at zero (missing
    /// codes), rescaled so the inner widths add up to the ideal span.
    fn random_transitions(&self, rng: &mut ChaCha8Rng) -> Result<Vec<f64>, PeriphError> {
        let inner = (self.levels() - 2) as usize;
        let mut widths: Vec<f64> = (0..inner)
            .map(|_| {
                let z: f64 = rng.sample(StandardNormal);
                (1.0 + self.dnl_sigma_lsb * z).max(0.0)
            })
            .collect();
        let total: f64 = widths.iter().sum();
        if inner > 0 && total <= 0.0 {
            return Err(PeriphError::invalid(
                "adc",
                "dnl_sigma_lsb",
                self.dnl_sigma_lsb,
                "so large that a random draw left every code width at zero",
            ));
        }
        let scale = if inner > 0 { inner as f64 / total } else { 1.0 };
        widths.iter_mut().for_each(|w| *w *= scale);
        let (lo, _) = self.code_bounds();
        let mut t = Vec::with_capacity(inner + 1);
        let mut level = lo as f64 + 0.5;
        t.push(level);
        for w in widths {
            level += w;
            t.push(level);
        }
        // Rescaling can leave the last level one ulp off the ideal endpoint.
        if let Some(last) = t.last_mut() {
            *last = lo as f64 + 0.5 + inner as f64;
        }
        Ok(t)
    }
}

/// Per-column conversion constants: `u = x * scale + shift + z * sigma` (LSB).
#[derive(Debug, Clone, Copy)]
struct Column {
    lsb: f64,
    scale: f64,
    shift: f64,
    sigma: f64,
    /// Index into `Static::tables`, if this column's ADC is nonlinear.
    table: Option<usize>,
}

#[derive(Debug)]
struct Static {
    bits: u32,
    lo: i32,
    hi: i32,
    ranges: Vec<f64>,
    columns: Vec<Column>,
    /// Transition levels in LSB code coordinates, one table per ADC.
    tables: Vec<Vec<f64>>,
    noisy: bool,
    seed: u64,
}

/// A bank of column ADCs (one per column, or one shared), vectorised over
/// columns.
///
/// Cloning is cheap (the per-column constants are shared); give every thread
/// or every image its own clone and [`reseed`](Self::reseed) it with an id of
/// its own.
#[derive(Debug, Clone)]
pub struct AdcBank {
    st: Arc<Static>,
    rng: ChaCha8Rng,
    conversions: u64,
    saturations: u64,
}

impl AdcBank {
    /// A bank with a fixed range (or an ideal converter).
    ///
    /// Fails with [`PeriphError::NeedsCalibration`] if the range is calibrated
    /// and `bits > 0`.
    pub fn new(cfg: &AdcConfig, columns: usize, seed: u64) -> Result<Self, PeriphError> {
        cfg.validate()?;
        let range = match cfg.range {
            RangeSpec::Fixed(r) => r,
            // An ideal converter neither quantises nor clips: its range is moot.
            RangeSpec::Calibrated { .. } if cfg.bits == 0 => 1.0,
            RangeSpec::Calibrated { .. } => {
                return Err(PeriphError::NeedsCalibration {
                    spec: cfg.range.to_string(),
                })
            }
        };
        Self::build(cfg, vec![range; columns], seed)
    }

    /// A bank with explicit per-column ranges (input units), whatever
    /// `cfg.range` says.
    pub fn with_ranges(cfg: &AdcConfig, ranges: &[f64], seed: u64) -> Result<Self, PeriphError> {
        cfg.validate()?;
        for (i, &r) in ranges.iter().enumerate() {
            if !(r.is_finite() && r > 0.0) {
                return Err(PeriphError::invalid(
                    "adc",
                    "range",
                    format!("[{i}] = {r}"),
                    "every column range must be finite and > 0",
                ));
            }
        }
        Self::build(cfg, ranges.to_vec(), seed)
    }

    /// A bank whose ranges are calibrated from `data`, a row-major
    /// `samples x columns` matrix of typical inputs (e.g. column currents of
    /// training images).
    ///
    /// The range is the configured percentile of `|x|` (signed) or of
    /// `max(x, 0)` (unsigned), per column or over the tile. A column whose
    /// percentile is zero (say an all-zero column) takes the tile's range. With
    /// a fixed range in `cfg`, the data is ignored.
    pub fn calibrated(
        cfg: &AdcConfig,
        columns: usize,
        seed: u64,
        data: &[f64],
    ) -> Result<Self, PeriphError> {
        cfg.validate()?;
        let percentile = match cfg.range {
            RangeSpec::Fixed(_) => return Self::new(cfg, columns, seed),
            RangeSpec::Calibrated { percentile } => percentile,
        };
        if columns == 0 || data.is_empty() || data.len() % columns != 0 {
            return Err(PeriphError::invalid(
                "adc",
                "calibration data",
                format!("{} values", data.len()),
                format!("must be a non-empty samples x {columns} matrix"),
            ));
        }
        check_not_nan("adc", "calibration data", data)?;
        let magnitude = |x: f64| if cfg.signed { x.abs() } else { x.max(0.0) };
        let mut all: Vec<f64> = data.iter().map(|&x| magnitude(x)).collect();
        let tile = percentile_of(&mut all, percentile);
        if !(tile > 0.0 && tile.is_finite()) {
            return Err(PeriphError::ZeroRange {
                samples: data.len(),
            });
        }
        let ranges = match cfg.calibration {
            CalibrationScope::Tile => vec![tile; columns],
            CalibrationScope::Column => {
                let mut col = Vec::with_capacity(data.len() / columns);
                (0..columns)
                    .map(|c| {
                        col.clear();
                        col.extend(data.iter().skip(c).step_by(columns).map(|&x| magnitude(x)));
                        let r = percentile_of(&mut col, percentile);
                        if r > 0.0 && r.is_finite() {
                            r
                        } else {
                            tile
                        }
                    })
                    .collect()
            }
        };
        Self::build(cfg, ranges, seed)
    }

    fn build(cfg: &AdcConfig, ranges: Vec<f64>, seed: u64) -> Result<Self, PeriphError> {
        let (lo, hi) = if cfg.bits == 0 {
            (0, 0)
        } else {
            cfg.code_bounds()
        };
        let fixed_table = match (&cfg.dnl, &cfg.inl) {
            (Some(d), _) => Some(cfg.transitions_from_dnl(d)?),
            (_, Some(i)) => Some(cfg.transitions_from_inl(i)?),
            _ => None,
        };
        let random_table = cfg.bits > 0 && cfg.dnl_sigma_lsb > 0.0;
        let adcs = if cfg.shared { 1 } else { ranges.len() };
        // Per-ADC static draws, in a fixed order from the ADC's own stream.
        let mut per_adc = Vec::with_capacity(adcs);
        let mut tables = Vec::new();
        for a in 0..adcs {
            let mut rng = stream(seed, Domain::AdcStatic, a as u64);
            let zg: f64 = rng.sample(StandardNormal);
            let zo: f64 = rng.sample(StandardNormal);
            let gain = 1.0 + cfg.gain_error + cfg.gain_sigma * zg;
            if gain <= 0.0 {
                return Err(PeriphError::invalid(
                    "adc",
                    "gain_sigma",
                    cfg.gain_sigma,
                    format!("ADC {a} drew a non-positive gain {gain}"),
                ));
            }
            let offset = cfg.offset_lsb + cfg.offset_sigma_lsb * zo;
            let table = if random_table {
                tables.push(cfg.random_transitions(&mut rng)?);
                Some(tables.len() - 1)
            } else {
                None
            };
            per_adc.push((gain, offset, table));
        }
        if let Some(t) = fixed_table {
            tables.push(t);
            per_adc.iter_mut().for_each(|p| p.2 = Some(0));
        }
        let columns = ranges
            .iter()
            .enumerate()
            .map(|(c, &range)| {
                let (gain, offset, table) = per_adc[if cfg.shared { 0 } else { c }];
                let lsb = if cfg.bits == 0 {
                    1.0
                } else {
                    let span = if cfg.signed { 2.0 * range } else { range };
                    span / cfg.levels() as f64
                };
                let scale = gain / lsb;
                Column {
                    lsb,
                    scale,
                    shift: offset,
                    sigma: (cfg.noise * scale).hypot(cfg.noise_lsb),
                    table,
                }
            })
            .collect::<Vec<_>>();
        let noisy = columns.iter().any(|c| c.sigma > 0.0);
        Ok(Self {
            st: Arc::new(Static {
                bits: cfg.bits,
                lo,
                hi,
                ranges,
                columns,
                tables,
                noisy,
                seed,
            }),
            rng: stream(seed, Domain::AdcNoise, 0),
            conversions: 0,
            saturations: 0,
        })
    }

    /// Restarts the conversion-noise stream as stream `id` of this bank's seed
    /// (e.g. the image index), so results do not depend on which thread ran
    /// which image.
    pub fn reseed(&mut self, id: u64) {
        self.rng = stream(self.st.seed, Domain::AdcNoise, id);
    }

    /// Number of columns.
    pub fn columns(&self) -> usize {
        self.st.columns.len()
    }

    /// Resolution in bits (0 = ideal).
    pub fn bits(&self) -> u32 {
        self.st.bits
    }

    /// Smallest and largest output code (both 0 for an ideal converter).
    pub fn code_bounds(&self) -> (i32, i32) {
        (self.st.lo, self.st.hi)
    }

    /// Full-scale range of every column (input units).
    pub fn ranges(&self) -> &[f64] {
        &self.st.ranges
    }

    /// LSB of every column (input units); 1 for an ideal converter.
    pub fn lsbs(&self) -> impl Iterator<Item = f64> + '_ {
        self.st.columns.iter().map(|c| c.lsb)
    }

    /// Noise-free transition levels of `column` in input units: element `j`
    /// is the input at which the code steps from `lo + j` to `lo + j + 1`.
    /// Empty for an ideal converter.
    pub fn transition_levels(&self, column: usize) -> Result<Vec<f64>, PeriphError> {
        check_column(column, self.columns())?;
        let st = &self.st;
        if st.bits == 0 {
            return Ok(Vec::new());
        }
        let col = st.columns[column];
        let to_input = |u: f64| (u - col.shift) / col.scale;
        Ok(match col.table {
            Some(t) => st.tables[t].iter().map(|&u| to_input(u)).collect(),
            None => (st.lo..st.hi).map(|k| to_input(k as f64 + 0.5)).collect(),
        })
    }

    /// Converts one input per column to codes.
    ///
    /// Returns the number of saturated conversions. NaN input is an error;
    /// infinities saturate.
    pub fn convert_codes(
        &mut self,
        input: &[f64],
        codes: &mut [i32],
    ) -> Result<usize, PeriphError> {
        if self.st.bits == 0 {
            return Err(PeriphError::invalid(
                "adc",
                "bits",
                0,
                "an ideal ADC produces values, not codes; use `convert`",
            ));
        }
        self.check(input, codes.len())?;
        let (st, rng) = (&*self.st, &mut self.rng);
        let mut sat = 0;
        for ((&x, code), col) in input.iter().zip(codes.iter_mut()).zip(&st.columns) {
            let z = draw(rng, st.noisy);
            let (k, s) = quantise(st, col, x * col.scale + col.shift + z * col.sigma);
            *code = k;
            sat += s as usize;
        }
        self.tally(input.len(), sat);
        Ok(sat)
    }

    /// Converts one input per column and writes what the digital side reads,
    /// `code * LSB` in input units (the noisy, gain-scaled input for an ideal
    /// converter).
    ///
    /// Returns the number of saturated conversions. NaN input is an error;
    /// infinities saturate (or pass through an ideal converter).
    pub fn convert(&mut self, input: &[f64], out: &mut [f64]) -> Result<usize, PeriphError> {
        self.check(input, out.len())?;
        let (st, rng) = (&*self.st, &mut self.rng);
        let mut sat = 0;
        if st.bits == 0 {
            for ((&x, y), col) in input.iter().zip(out.iter_mut()).zip(&st.columns) {
                let z = draw(rng, st.noisy);
                *y = x * col.scale + z * col.sigma;
            }
        } else if !st.noisy && st.tables.is_empty() {
            // Linear and noiseless: no random draws, no table look-ups, no branches.
            let (lo, hi) = (st.lo as f64, st.hi as f64);
            for ((&x, y), col) in input.iter().zip(out.iter_mut()).zip(&st.columns) {
                let u = x * col.scale + col.shift;
                let k = st.lo + (u + 0.5 - lo).clamp(0.0, hi - lo) as i32;
                *y = k as f64 * col.lsb;
                sat += (u < lo - 0.5 || u >= hi + 0.5) as usize;
            }
        } else {
            for ((&x, y), col) in input.iter().zip(out.iter_mut()).zip(&st.columns) {
                let z = draw(rng, st.noisy);
                let (k, s) = quantise(st, col, x * col.scale + col.shift + z * col.sigma);
                *y = k as f64 * col.lsb;
                sat += s as usize;
            }
        }
        self.tally(input.len(), sat);
        Ok(sat)
    }

    /// Conversions and saturations since construction or the last reset.
    pub fn activity(&self) -> Activity {
        Activity {
            adc_conversions: self.conversions,
            adc_saturations: self.saturations,
            ..Activity::default()
        }
    }

    /// Zeroes the counters.
    pub fn reset_activity(&mut self) {
        self.conversions = 0;
        self.saturations = 0;
    }

    fn check(&self, input: &[f64], out: usize) -> Result<(), PeriphError> {
        check_len("adc", "input", input.len(), self.columns())?;
        check_len("adc", "output", out, self.columns())?;
        check_not_nan("adc", "input", input)
    }

    fn tally(&mut self, n: usize, sat: usize) {
        self.conversions += n as u64;
        self.saturations += sat as u64;
    }
}

fn check_column(column: usize, columns: usize) -> Result<(), PeriphError> {
    if column < columns {
        Ok(())
    } else {
        Err(PeriphError::invalid(
            "adc",
            "column",
            column,
            format!("the bank has {columns} columns"),
        ))
    }
}

/// One standard normal per conversion when the bank is noisy, else nothing:
/// a noiseless bank costs no random numbers.
#[inline]
fn draw(rng: &mut ChaCha8Rng, noisy: bool) -> f64 {
    if noisy {
        rng.sample(StandardNormal)
    } else {
        0.0
    }
}

/// Code and saturation flag for `u`, the input in LSB code coordinates.
#[inline]
fn quantise(st: &Static, col: &Column, u: f64) -> (i32, bool) {
    let (lo, hi) = (st.lo as f64, st.hi as f64);
    let saturated = u < lo - 0.5 || u >= hi + 0.5;
    let code = match col.table {
        // Counting codes from `lo` makes the clamped value non-negative, so
        // truncation is the floor: no libm `floor` call in the hot loop.
        None => st.lo + (u + 0.5 - lo).clamp(0.0, hi - lo) as i32,
        Some(t) => st.lo + st.tables[t].partition_point(|&level| level <= u) as i32,
    };
    (code, saturated)
}

/// The `p`-th percentile (0..=100) of `values` with linear interpolation
/// between order statistics (NumPy's default). Reorders `values`; NaN-free
/// input expected. Returns NaN for an empty slice.
pub fn percentile_of(values: &mut [f64], p: f64) -> f64 {
    let n = values.len();
    if n == 0 {
        return f64::NAN;
    }
    let pos = (p / 100.0).clamp(0.0, 1.0) * (n - 1) as f64;
    let i = pos.floor() as usize;
    let frac = pos - i as f64;
    let (_, &mut a, rest) = values.select_nth_unstable_by(i, f64::total_cmp);
    if frac == 0.0 || rest.is_empty() {
        return a;
    }
    let b = rest.iter().copied().fold(f64::INFINITY, f64::min);
    a + frac * (b - a)
}
