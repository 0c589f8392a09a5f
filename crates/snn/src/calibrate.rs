//! Data-calibrated ranges for the dense mapping's column converters.
//!
//! The default range of a dense column ADC, every row of the tile at full
//! weight, is a worst-case bound that real partial sums never approach, so
//! a few-bit converter spends all but its lowest codes on currents that
//! never occur. With `adc.calibration = "percentile"` each layer's
//! converters instead span the `adc.percentile`-th percentile (default
//! [`DEFAULT_PERCENTILE`]) of the `|partial sum|` they see when the
//! converted SNN runs on the first `adc.calibration_images` (default
//! [`DEFAULT_IMAGES`]) MNIST *training* images, the calibration CrossSim
//! calls `CALIBRATED` ADC ranges. The calibration run is the trial's own:
//! its programmed effective weights (device sample, drift, faults, wires),
//! its neurons, encoding, time steps and seed, with ideal converters. An
//! explicit `adc.range` wins over calibration; `adc.bits = 0` has no range
//! to calibrate.
//!
//! What is counted: every column of every tile with at least one active
//! input row, at every time step of every image. A tile without active rows
//! carries no current and converts to an exact 0 (the inference skips it);
//! counting it would drag the percentile towards 0 by the share of idle
//! tiles, which is large for the first layer's border rows of the image.
//!
//! One range per layer, not per tile: the converters of a layer read the
//! same kind of sums (same weights' statistics, same presynaptic rates) and
//! share one reference in a realistic design; per-tile ranges would also
//! rest on few samples for the border tiles of the first layer, which see
//! spikes only from the rare digits that reach the image's edge. A layer
//! whose tiles saw no active row at all, or whose percentile is 0, keeps
//! its full-scale range.
//!
//! The percentile is exact, with NumPy's default definition (linear
//! interpolation between order statistics, as
//! [`xbar_periph::percentile_of`]): only the largest
//! `(1 - p / 100) N_max + 3` magnitudes can be involved, where `N_max`
//! bounds the count of reads, so each worker keeps just those and counts
//! the rest. The kept set and the count are merged when a worker finishes,
//! an order-independent union, so the ranges do not depend on the number
//! of threads.

use std::sync::Mutex;
use std::time::Instant;

use rand_chacha::ChaCha8Rng;

use crate::dense::DenseMapping;
use crate::mnist::Dataset;
use crate::nonideal::HardwareSettings;
use crate::snn::{self, LifParams, Mapping, Presynaptic, SnnConfig, SnnError};

/// `adc.percentile` unless set: a range that clips one read in 10,000,
/// right from 4 bits up; 2- and 3-bit converters do better clipping 1-3 %
/// of the reads (`adc.percentile` 97-99, see `results/dense_adc_percentile`).
pub const DEFAULT_PERCENTILE: f64 = 99.99;

/// `adc.calibration_images` unless set: 500 training images, at most 2.5e8
/// reads of the 784-1024-1024-10 network at 32 steps, in about 1 s on two
/// cores (about 11 % of the 10,000 test images' inference).
pub const DEFAULT_IMAGES: usize = 500;

/// Magnitudes a calibration may keep over all layers (4 bytes each, twice
/// that per worker while pruning): about 7 % of the reads of 500 images,
/// so percentiles below about 93 need fewer images (a clear error says so).
const MAX_KEPT: u64 = 1 << 24;

/// How the dense mapping's column converters get their range when
/// `adc.range` is not given.
#[derive(Clone, Copy, Debug, Default, PartialEq)]
pub enum AdcCalibration {
    /// Every row of a tile at full weight (`rows * (G_hi - G_lo)`).
    #[default]
    FullScale,
    /// The `percentile`-th percentile of `|partial sum|` over the first
    /// `images` training images.
    Percentile { percentile: f64, images: usize },
}

/// What a calibration found.
#[derive(Clone, Debug, PartialEq)]
pub struct Calibration {
    /// Per layer, the percentile of `|partial sum|`, weight units; `None`
    /// where no read was seen or the percentile was 0 (the layer kept its
    /// full-scale range).
    pub ranges: Vec<Option<f64>>,
    /// Per layer, the column reads the percentile was taken over.
    pub reads: Vec<u64>,
    pub percentile: f64,
    /// Training images run.
    pub images: usize,
    /// Wall time of the calibration run, s.
    pub seconds: f64,
}

/// Whether the dense mapping under `hw` calibrates its converter ranges on
/// training images (a percentile calibration of real converters whose range
/// is not given), so that a command fetches the training set only then.
pub fn needs_training_images(hw: &HardwareSettings) -> bool {
    matches!(hw.adc_calibration, AdcCalibration::Percentile { .. })
        && hw.adc_range.is_none()
        && hw.adc_bits != 0
}

/// Calibrates `mapping`'s converters as `hw` asks, on the first images of
/// `train` with the trial's neurons `lif` and run settings `config`.
/// Returns `None`, changing nothing, when there is nothing to calibrate
/// (full-scale mode, an explicit `adc.range`, or ideal converters).
pub fn apply(
    mapping: &mut DenseMapping,
    hw: &HardwareSettings,
    lif: &[LifParams],
    train: Option<&Dataset>,
    config: &SnnConfig,
) -> Result<Option<Calibration>, SnnError> {
    let AdcCalibration::Percentile { percentile, images } = hw.adc_calibration else {
        return Ok(None);
    };
    if !needs_training_images(hw) {
        return Ok(None);
    }
    let train = train.ok_or_else(|| {
        SnnError::Hardware(
            "adc.calibration = \"percentile\" needs the MNIST training images, \
             and none were given to this run"
                .into(),
        )
    })?;
    if train.len() < images {
        return Err(SnnError::Hardware(format!(
            "adc.calibration_images = {images}, but only {} training images are available",
            train.len()
        )));
    }
    let found = measure(mapping, lif, &train.truncated(images), config, percentile)?;
    let ranges: Vec<f64> = found
        .ranges
        .iter()
        .enumerate()
        .map(|(l, r)| r.unwrap_or_else(|| mapping.adc(l).range()))
        .collect();
    mapping.set_adc_ranges(&ranges)?;
    Ok(Some(found))
}

/// Runs every image of `data` through `mapping`'s effective weights with
/// ideal converters and returns each layer's `percentile`-th percentile of
/// `|partial sum|` (see the module documentation for what is counted).
/// Changes nothing in `mapping`.
pub fn measure(
    mapping: &DenseMapping,
    lif: &[LifParams],
    data: &Dataset,
    config: &SnnConfig,
    percentile: f64,
) -> Result<Calibration, SnnError> {
    if !(percentile > 0.0 && percentile <= 100.0) {
        return Err(SnnError::Hardware(format!(
            "adc.percentile = {percentile}: must be a percentile in (0, 100]"
        )));
    }
    let start = Instant::now();
    let sizes = Mapping::sizes(mapping).to_vec();
    let tile = mapping.tile();
    // In f64: image count x time steps x columns may exceed usize.
    let keep: Vec<f64> = (0..sizes.len() - 1)
        .map(|l| {
            let reads = data.len() as f64
                * config.timesteps as f64
                * sizes[l].div_ceil(tile) as f64
                * sizes[l + 1] as f64;
            ((1.0 - percentile / 100.0) * reads).ceil() + 3.0
        })
        .collect();
    let kept = keep.iter().sum::<f64>();
    if kept > MAX_KEPT as f64 {
        return Err(SnnError::Hardware(format!(
            "adc.percentile = {percentile} over {} calibration images would keep {kept} \
             partial sums (at most {MAX_KEPT}): raise adc.percentile or lower \
             adc.calibration_images",
            data.len()
        )));
    }
    // Below MAX_KEPT, so the casts are exact.
    let keep: Vec<usize> = keep.iter().map(|&k| k as usize).collect();
    let sink = Mutex::new(keep.iter().map(|&k| Tail::new(k)).collect());
    let recorder = Recorder {
        dense: mapping,
        sizes,
        keep,
        sink: &sink,
    };
    snn::infer(&recorder, lif, data, config, false)?;
    let tails = sink
        .into_inner()
        .unwrap_or_else(|poisoned| poisoned.into_inner());
    let mut ranges = Vec::with_capacity(tails.len());
    let mut reads = Vec::with_capacity(tails.len());
    for (l, tail) in tails.into_iter().enumerate() {
        reads.push(tail.reads);
        let r = tail.percentile(percentile).ok_or_else(|| {
            SnnError::Hardware(format!(
                "layer {} calibration kept too few partial sums for the percentile",
                l + 1
            ))
        })?;
        ranges.push(r.filter(|&r| r > 0.0));
    }
    Ok(Calibration {
        ranges,
        reads,
        percentile,
        images: data.len(),
        seconds: start.elapsed().as_secs_f64(),
    })
}

/// The largest `|partial sum|` values seen (at least `keep` of them when
/// that many were offered) and the count of all of them.
#[derive(Debug)]
struct Tail {
    kept: Vec<f32>,
    keep: usize,
    /// Every kept value is at or above it, and no value at or below it can be
    /// among the `keep` largest.
    floor: f32,
    reads: u64,
}

impl Tail {
    fn new(keep: usize) -> Self {
        Tail {
            kept: Vec::new(),
            keep: keep.max(1),
            floor: f32::NEG_INFINITY,
            reads: 0,
        }
    }

    #[inline]
    fn offer(&mut self, x: f32) {
        if x > self.floor {
            self.kept.push(x);
            if self.kept.len() >= 2 * self.keep {
                self.prune();
            }
        }
    }

    /// Keeps the `keep` largest values (as a multiset: which of several
    /// equal values survives does not matter).
    fn prune(&mut self) {
        if self.kept.len() <= self.keep {
            return;
        }
        self.kept
            .select_nth_unstable_by(self.keep - 1, |a, b| b.total_cmp(a));
        self.kept.truncate(self.keep);
        self.floor = self.kept[self.keep - 1];
    }

    /// Adds `other`'s values into `self` and empties `other`. The union
    /// holds each side's `keep` largest, so it holds the overall ones.
    fn merge(&mut self, other: &mut Tail) {
        self.reads += std::mem::take(&mut other.reads);
        self.kept.append(&mut other.kept);
        self.prune();
    }

    /// NumPy's linear-interpolation percentile of all values offered:
    /// `Some(None)` if none were, `None` if the kept ones do not reach the
    /// order statistics it needs.
    fn percentile(mut self, p: f64) -> Option<Option<f64>> {
        if self.reads == 0 {
            return Some(None);
        }
        self.kept.sort_unstable_by(|a, b| b.total_cmp(a));
        let n = self.reads;
        let pos = (p / 100.0).clamp(0.0, 1.0) * (n - 1) as f64;
        let i = pos.floor() as u64;
        let frac = pos - i as f64;
        // The i-th smallest (from 0) of n is the (n - 1 - i)-th largest.
        let j = usize::try_from(n - 1 - i).ok()?;
        let a = *self.kept.get(j)? as f64;
        if frac == 0.0 || j == 0 {
            return Some(Some(a));
        }
        let b = *self.kept.get(j - 1)? as f64;
        Some(Some(a + frac * (b - a)))
    }
}

/// The dense mapping's effective weights with ideal converters, recording
/// the magnitude of every partial sum a converter reads.
struct Recorder<'a> {
    dense: &'a DenseMapping,
    sizes: Vec<usize>,
    /// Per layer, the magnitudes each worker keeps.
    keep: Vec<usize>,
    /// What the workers recorded, merged as each finishes.
    sink: &'a Mutex<Vec<Tail>>,
}

/// One worker's working memory and records; handed to the recorder's sink
/// when the worker drops it.
struct RecorderScratch<'a> {
    partial: Vec<f32>,
    active: Vec<bool>,
    tails: Vec<Tail>,
    sink: &'a Mutex<Vec<Tail>>,
}

impl Drop for RecorderScratch<'_> {
    fn drop(&mut self) {
        let mut sink = self
            .sink
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner());
        for (all, mine) in sink.iter_mut().zip(&mut self.tails) {
            all.merge(mine);
        }
    }
}

impl<'a> Mapping for Recorder<'a> {
    type Scratch = RecorderScratch<'a>;

    fn sizes(&self) -> &[usize] {
        &self.sizes
    }

    /// Not deterministic, so the loop asks for every step's sums through
    /// `synaptic_input` (one image at a time, constant inputs too) and every
    /// read is recorded.
    fn deterministic(&self) -> bool {
        false
    }

    fn scratch(&self) -> RecorderScratch<'a> {
        RecorderScratch {
            partial: Vec::new(),
            active: Vec::new(),
            tails: self.keep.iter().map(|&k| Tail::new(k)).collect(),
            sink: self.sink,
        }
    }

    /// The dense mapping's sums with ideal converters, each tile's partial
    /// sums formed in the same order and so the same bits.
    fn synaptic_input(
        &self,
        layer: usize,
        pre: Presynaptic<'_>,
        out: &mut [f32],
        s: &mut RecorderScratch<'a>,
        _rng: &mut ChaCha8Rng,
    ) {
        let n = self.sizes[layer + 1];
        let (partial, active) = (&mut s.partial, &mut s.active);
        self.dense.tile_partial_sums(layer, pre, partial, active);
        out.fill(0.0);
        let tail = &mut s.tails[layer];
        for (block, _) in partial
            .chunks_exact(n)
            .zip(active.iter())
            .filter(|(_, &a)| a)
        {
            tail.reads += n as u64;
            for (o, &p) in out.iter_mut().zip(block) {
                *o += p;
                tail.offer(p.abs());
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The tail's percentile equals `xbar_periph::percentile_of` over all
    /// values, whatever order they come in and however they are split.
    #[test]
    fn tail_percentile_is_numpys_over_all_values() {
        let values: Vec<f32> = (0..10_000u32)
            .map(|k| ((k.wrapping_mul(2_654_435_761) >> 7) % 5_000) as f32 * 0.25)
            .collect();
        for p in [100.0, 99.99, 99.9, 97.5, 90.0] {
            let mut all: Vec<f64> = values.iter().map(|&x| x as f64).collect();
            let expected = xbar_periph::percentile_of(&mut all, p);
            let keep = ((1.0 - p / 100.0) * values.len() as f64).ceil() as usize + 3;
            let mut parts: Vec<Tail> = (0..3).map(|_| Tail::new(keep)).collect();
            for (k, &x) in values.iter().enumerate() {
                parts[k % 3].reads += 1;
                parts[k % 3].offer(x);
            }
            let mut total = Tail::new(keep);
            for part in parts.iter_mut().rev() {
                total.merge(part);
            }
            assert_eq!(total.percentile(p), Some(Some(expected)), "p = {p}");
        }
    }

    #[test]
    fn tail_without_reads_has_no_percentile() {
        assert_eq!(Tail::new(4).percentile(99.0), Some(None));
    }
}
