//! The conventional mapping: every weight a differential conductance pair
//! `G+ - G-` on the device's levels, tiled into `crossbar.tile` x
//! `crossbar.tile` crossbars (default [`DEFAULT_TILE`]).
//!
//! Weight code `c` of a layer whose largest shared code magnitude is
//! `c_max` programs `G+ = G_lo + (G_hi - G_lo) c / c_max`, `G- = G_lo` for
//! `c > 0` (mirrored for `c < 0`), with `G_hi = device.g_max` (default
//! [`DEFAULT_G_LRS`]) and `G_lo = max(device.g_min, G_hi /
//! device.on_off_ratio)` (0 when neither is set), then goes through
//! [`NonIdealConfig::apply`] (levels, variability, drift, faults, one read
//! sample; seeded per trial, layer, tile and polarity). A spike is a read
//! pulse of [`V_READ`] on its row (graded inputs scale it). Each tile's
//! column currents come from its IR-drop-aware effective matrix, computed
//! once per trial with the crossbar solver (rayon over tiles); a column's
//! differential current `I+ - I-` is digitised by a signed `adc.bits`
//! converter over `+-adc.range` (default: every row of the tile at full
//! weight, or calibrated on training images with `adc.calibration`, see
//! [`crate::calibrate`]) with `xbar_periph`'s transfer function ([`crate::adc`]: LSB
//! `2 range / 2^bits`, codes `-2^(bits-1)..2^(bits-1)`), scaled back to
//! weight units, and the partial sums of the row tiles are added digitally
//! before the LIF neurons.
//!
//! Inference steps 8 images together ([`Mapping::spike_inputs`]):
//! each weight row is read once per step for all the images that spiked on
//! it, with every image's sums formed in the same order as alone.
//!
//! Read noise (`device.read_noise_sigma`) enters as the one read sample
//! [`NonIdealConfig::apply`] draws per device, frozen for the trial: the
//! effective matrices are computed once, so per-read noise would need a
//! re-solve per read. Drift compensation scales are applied to the read
//! conductances (`ArrayConductances::compensated`).
//!
//! [`DenseMapping::validate`] checks the effective-matrix currents against
//! full circuit solves. Cells are linear here, where the effective matrix
//! is exact; nonlinear cells would need `solve_nonlinear` per read.

use std::time::Instant;

use rayon::prelude::*;
use xbar_memristor::drift::Drift;
use xbar_memristor::stats::{Compensation, NonIdealConfig};
use xbar_nodal::crossbar::{Conductances, Crossbar, EffectiveMatrix, Parasitics};

use crate::adc::ColumnAdc;
use crate::model::SharedModel;
use crate::nonideal::HardwareSettings;
use crate::shared::{DEFAULT_G_LRS, V_READ};
use crate::snn::{Mapping, Presynaptic, SnnError};

/// Crossbar rows and columns unless `crossbar.tile` says otherwise.
pub const DEFAULT_TILE: usize = 128;

/// One tile's place in its layer.
#[derive(Clone, Copy, Debug, PartialEq)]
struct TileSpec {
    layer: usize,
    row0: usize,
    col0: usize,
    rows: usize,
    cols: usize,
}

/// One layer's effective weights and converter.
#[derive(Clone, Debug)]
struct DenseLayer {
    n_out: usize,
    /// Input-major `n_in x n_out` effective weights, weight units.
    w: Vec<f32>,
    /// The column converter, in weight units.
    adc: ColumnAdc,
    /// Weight units per siemens of differential conductance.
    unit: f64,
}

/// The dense accelerator of one trial.
#[derive(Clone, Debug)]
pub struct DenseMapping {
    sizes: Vec<usize>,
    tile: usize,
    layers: Vec<DenseLayer>,
    /// Seconds spent computing every tile's effective matrices.
    pub effective_seconds: f64,
    /// Number of crossbars (two per tile: `G+` and `G-`).
    pub crossbars: usize,
    parasitics: Parasitics,
    /// Every tile with its programmed `G+` and `G-`, for [`Self::validate`].
    tiles: Vec<(TileSpec, [Conductances; 2])>,
}

/// How far the effective-matrix currents are from full circuit solves.
#[derive(Clone, Debug, PartialEq)]
pub struct Validation {
    /// Column currents compared (over all tiles and inputs).
    pub reads: usize,
    /// Largest and mean `|I_full - I_eff|` over all columns, relative to the
    /// largest single-polarity column current of that read.
    pub max_relative: f64,
    pub mean_relative: f64,
}

/// The conductance pair range `(G_lo, G_hi)`, S.
fn conductance_range(hw: &HardwareSettings) -> (f64, f64) {
    let g_hi = hw.device.g_max.unwrap_or(DEFAULT_G_LRS);
    let mut g_lo = hw.device.g_min.unwrap_or(0.0);
    if let Some(r) = hw.device.on_off_ratio {
        g_lo = g_lo.max(g_hi / r);
    }
    (g_lo, g_hi)
}

/// True if [`NonIdealConfig::apply`] returns every target unchanged (up to
/// the clamp into `[g_min, g_max]`): no levels, variability, read noise,
/// drift, faults or compensation.
pub fn is_ideal(device: &NonIdealConfig) -> bool {
    let off = |x: Option<f64>| x.unwrap_or(0.0) == 0.0;
    device.levels.is_none()
        && off(device.d2d_sigma)
        && off(device.programming_sigma)
        && off(device.read_noise_sigma)
        && off(device.read_noise_abs)
        && matches!(device.drift, None | Some(Drift::None))
        && off(device.stuck_on_rate)
        && off(device.stuck_off_rate)
        && matches!(device.compensation, None | Some(Compensation::None))
}

fn tile_seed(seed: u64, index: usize) -> u64 {
    rand::Rng::random(&mut crate::stream_rng(seed, u64::MAX - 1024 - index as u64))
}

impl DenseMapping {
    /// Programs every tile and computes its effective matrices.
    pub fn new(model: &SharedModel, hw: &HardwareSettings, seed: u64) -> Result<Self, SnnError> {
        let tile = hw.tile.unwrap_or(DEFAULT_TILE);
        let (g_lo, g_hi) = conductance_range(hw);
        if g_lo >= g_hi {
            return Err(SnnError::Hardware(format!(
                "low conductance {g_lo} S is not below the high one {g_hi} S"
            )));
        }
        let device = NonIdealConfig {
            g_max: Some(g_hi),
            g_min: Some(g_lo),
            on_off_ratio: None,
            ..hw.device.clone()
        };
        let ideal_devices = is_ideal(&device);
        let parasitics = Parasitics {
            r_row: hw.r_wire,
            r_col: hw.r_wire,
            r_driver: hw.r_driver,
            r_sense: hw.r_sense,
        };
        let mut specs = Vec::new();
        for (l, layer) in model.layers.iter().enumerate() {
            for row0 in (0..layer.n_in).step_by(tile) {
                for col0 in (0..layer.n_out).step_by(tile) {
                    specs.push(TileSpec {
                        layer: l,
                        row0,
                        col0,
                        rows: tile.min(layer.n_in - row0),
                        cols: tile.min(layer.n_out - col0),
                    });
                }
            }
        }
        let mut shapes: Vec<(usize, usize)> = specs.iter().map(|s| (s.rows, s.cols)).collect();
        shapes.sort_unstable();
        shapes.dedup();
        let crossbars = shapes
            .iter()
            .map(|&(r, c)| Crossbar::new(r, c, parasitics))
            .collect::<Result<Vec<_>, _>>()
            .map_err(|e| SnnError::Hardware(format!("dense tiles: {e}")))?;
        let c_max: Vec<f64> = model
            .layers
            .iter()
            .map(|l| {
                l.codes
                    .iter()
                    .map(|&c| (c as f64).abs())
                    .fold(1.0, f64::max)
            })
            .collect();
        let mut layers: Vec<DenseLayer> = model
            .layers
            .iter()
            .enumerate()
            .map(|(l, layer)| {
                let unit = c_max[l] * layer.format.lsb() / (g_hi - g_lo);
                // Calibrated ranges replace this later (`set_adc_ranges`).
                let rows = tile.min(layer.n_in) as f64;
                let range = match hw.adc_range {
                    Some(r) => r / V_READ * unit,
                    None => rows * (g_hi - g_lo) * unit,
                };
                let adc = ColumnAdc::new(hw.adc_bits, range, true).map_err(|e| {
                    SnnError::Hardware(format!("layer {} column converters: {e}", l + 1))
                })?;
                Ok(DenseLayer {
                    n_out: layer.n_out,
                    w: vec![0.0; layer.n_in * layer.n_out],
                    adc,
                    unit,
                })
            })
            .collect::<Result<_, SnnError>>()?;
        let start = Instant::now();
        let solved: Vec<([EffectiveMatrix; 2], [Conductances; 2])> = specs
            .par_iter()
            .enumerate()
            .map(|(t, s)| {
                let layer = &model.layers[s.layer];
                let xbar = &crossbars[shapes
                    .binary_search(&(s.rows, s.cols))
                    .map_err(|_| SnnError::Hardware("tile shape missing".into()))?];
                let place = |e: String| {
                    SnnError::Hardware(format!(
                        "layer {} tile at row {}, column {}: {e}",
                        s.layer + 1,
                        s.row0,
                        s.col0
                    ))
                };
                let pair = [1.0f64, -1.0].map(|sign| {
                    let targets: Vec<f64> = (0..s.rows * s.cols)
                        .map(|k| {
                            let (i, j) = (s.row0 + k / s.cols, s.col0 + k % s.cols);
                            let code = layer.codes[layer.index[i * layer.n_out + j] as usize];
                            let x = (sign * code as f64 / c_max[s.layer]).max(0.0);
                            g_lo + (g_hi - g_lo) * x
                        })
                        .collect();
                    let polarity = if sign > 0.0 { 0 } else { 1 };
                    let read = if ideal_devices {
                        // What `apply` returns for devices without any
                        // non-ideality, without its per-device streams.
                        targets.iter().map(|g| g.clamp(g_lo, g_hi)).collect()
                    } else {
                        device
                            .apply(&targets, s.rows, s.cols, tile_seed(seed, 2 * t + polarity))
                            .map_err(|e| place(e.to_string()))?
                            .compensated()
                    };
                    let g = Conductances::new(s.rows, s.cols, read)
                        .map_err(|e| place(e.to_string()))?;
                    let a = xbar
                        .factor(&g)
                        .and_then(|f| f.effective_matrix())
                        .map_err(|e| place(e.to_string()))?;
                    Ok::<_, SnnError>((a, g))
                });
                let [p, m] = pair;
                let ((pa, pg), (ma, mg)) = (p?, m?);
                Ok(([pa, ma], [pg, mg]))
            })
            .collect::<Result<_, SnnError>>()?;
        let effective_seconds = start.elapsed().as_secs_f64();
        for (s, ([p, m], _)) in specs.iter().zip(&solved) {
            let layer = &model.layers[s.layer];
            let unit = c_max[s.layer] * layer.format.lsb() / (g_hi - g_lo);
            let out = &mut layers[s.layer];
            for i in 0..s.rows {
                for j in 0..s.cols {
                    out.w[(s.row0 + i) * out.n_out + s.col0 + j] =
                        ((p.get(j, i) - m.get(j, i)) * unit) as f32;
                }
            }
        }
        Ok(DenseMapping {
            sizes: model.sizes(),
            tile,
            layers,
            effective_seconds,
            crossbars: 2 * specs.len(),
            parasitics,
            tiles: specs
                .into_iter()
                .zip(solved)
                .map(|(s, (_, g))| (s, g))
                .collect(),
        })
    }

    /// Drives every tile with `inputs` read patterns and compares the full
    /// circuit solve (one factorisation per crossbar, one solve per read)
    /// with the effective matrix. First-layer tiles see the pixels of the
    /// first `inputs` images of `data` as graded row voltages (intensity x
    /// [`V_READ`]); deeper tiles see seeded random spike patterns (each row
    /// at [`V_READ`] with probability 1/2), since their inputs depend on the
    /// network's state.
    pub fn validate(
        &self,
        data: &crate::mnist::Dataset,
        inputs: usize,
        seed: u64,
    ) -> Result<Validation, SnnError> {
        if data.pixels() != self.sizes[0] {
            return Err(SnnError::Shape(format!(
                "images have {} pixels, the network {} inputs",
                data.pixels(),
                self.sizes[0]
            )));
        }
        let per_tile: Vec<(usize, f64, f64)> = self
            .tiles
            .par_iter()
            .enumerate()
            .map(|(t, (s, [gp, gm]))| {
                let place = |e: xbar_nodal::crossbar::CrossbarError| {
                    SnnError::Hardware(format!(
                        "validate layer {} tile at row {}, column {}: {e}",
                        s.layer + 1,
                        s.row0,
                        s.col0
                    ))
                };
                let xbar = Crossbar::new(s.rows, s.cols, self.parasitics).map_err(place)?;
                let (fp, fm) = (
                    xbar.factor(gp).map_err(place)?,
                    xbar.factor(gm).map_err(place)?,
                );
                let (ap, am) = (
                    fp.effective_matrix().map_err(place)?,
                    fm.effective_matrix().map_err(place)?,
                );
                let mut rng = crate::stream_rng(seed, t as u64);
                let (mut worst, mut sum, mut count) = (0.0f64, 0.0, 0usize);
                for k in 0..inputs.min(data.len()) {
                    let v: Vec<f64> = if s.layer == 0 {
                        data.image(k)[s.row0..s.row0 + s.rows]
                            .iter()
                            .map(|&p| p as f64 / 255.0 * V_READ)
                            .collect()
                    } else {
                        (0..s.rows)
                            .map(|_| {
                                if rand::Rng::random::<bool>(&mut rng) {
                                    V_READ
                                } else {
                                    0.0
                                }
                            })
                            .collect()
                    };
                    let (ip, im) = (
                        fp.column_currents(&v).map_err(place)?,
                        fm.column_currents(&v).map_err(place)?,
                    );
                    let (ep, em) = (ap.apply(&v), am.apply(&v));
                    let scale = ip
                        .iter()
                        .chain(&im)
                        .fold(0.0f64, |a, &x| a.max(x.abs()))
                        .max(f64::MIN_POSITIVE);
                    for j in 0..s.cols {
                        let d = ((ip[j] - im[j]) - (ep[j] - em[j])).abs() / scale;
                        worst = worst.max(d);
                        sum += d;
                        count += 1;
                    }
                }
                Ok((count, worst, sum))
            })
            .collect::<Result<_, SnnError>>()?;
        let count: usize = per_tile.iter().map(|t| t.0).sum();
        Ok(Validation {
            reads: count,
            max_relative: per_tile.iter().map(|t| t.1).fold(0.0, f64::max),
            mean_relative: per_tile.iter().map(|t| t.2).sum::<f64>() / count.max(1) as f64,
        })
    }

    /// Rows and columns of a full tile.
    pub fn tile(&self) -> usize {
        self.tile
    }

    /// The column converter of layer `layer`, in weight units.
    pub fn adc(&self, layer: usize) -> &ColumnAdc {
        &self.layers[layer].adc
    }

    /// Layers (weight matrices).
    pub fn layers(&self) -> usize {
        self.layers.len()
    }

    /// Layer `layer`'s converter range as a column current, A (what
    /// `adc.range` would have to be to give it).
    pub fn adc_range_amps(&self, layer: usize) -> f64 {
        let l = &self.layers[layer];
        l.adc.range() / l.unit * V_READ
    }

    /// Layer `layer`'s effective weights, input-major `n_in x n_out`,
    /// weight units: what the column converters' partial sums add up.
    pub fn weights(&self, layer: usize) -> &[f32] {
        &self.layers[layer].w
    }

    /// The partial sums layer `layer`'s column converters see for input
    /// `pre`: `n_out` sums per row tile in `partial`, each formed in row
    /// order, and in `active` whether the tile had any input row (a tile
    /// without one reads exactly 0).
    pub fn tile_partial_sums(
        &self,
        layer: usize,
        pre: Presynaptic<'_>,
        partial: &mut Vec<f32>,
        active: &mut Vec<bool>,
    ) {
        let l = &self.layers[layer];
        let n = l.n_out;
        let blocks = self.sizes[layer].div_ceil(self.tile);
        partial.clear();
        partial.resize(blocks * n, 0.0);
        active.clear();
        active.resize(blocks, false);
        let mut add = |i: usize, a: f32| {
            let b = i / self.tile;
            active[b] = true;
            let row = &l.w[i * n..(i + 1) * n];
            for (p, &w) in partial[b * n..(b + 1) * n].iter_mut().zip(row) {
                *p += a * w;
            }
        };
        match pre {
            Presynaptic::Spikes(rows) => rows.iter().for_each(|&i| add(i as usize, 1.0)),
            Presynaptic::Analog(values) => values
                .iter()
                .enumerate()
                .filter(|(_, &a)| a != 0.0)
                .for_each(|(i, &a)| add(i, a)),
        }
    }

    /// Gives every layer's column converters a new range (weight units,
    /// one per layer), keeping their resolution.
    pub fn set_adc_ranges(&mut self, ranges: &[f64]) -> Result<(), SnnError> {
        if ranges.len() != self.layers.len() {
            return Err(SnnError::Shape(format!(
                "{} converter ranges for {} layers",
                ranges.len(),
                self.layers.len()
            )));
        }
        // All or nothing: a bad range leaves every converter as it was.
        let adcs = self
            .layers
            .iter()
            .zip(ranges)
            .enumerate()
            .map(|(l, (layer, &range))| {
                ColumnAdc::new(layer.adc.bits(), range, true).map_err(|e| {
                    SnnError::Hardware(format!("layer {} column converters: {e}", l + 1))
                })
            })
            .collect::<Result<Vec<_>, _>>()?;
        for (layer, adc) in self.layers.iter_mut().zip(adcs) {
            layer.adc = adc;
        }
        Ok(())
    }
}

/// Images [`DenseMapping`] steps together: each weight row read from memory
/// serves every image of the batch that spiked on it, while the batch's
/// partial sums (8 images x 2 spike sets x 4 KiB) stay in L2.
const LOCKSTEP: usize = 8;

/// Working memory of [`DenseMapping`].
#[derive(Default)]
pub struct DenseScratch {
    /// Partial sums of the current row tile, one row of `n_out` per set.
    partial: Vec<f32>,
    /// Per row of the current tile, the sets that spiked on it (bit `k`).
    masks: Vec<u64>,
    /// Per set, the first spike not yet assigned to a tile.
    cursors: Vec<usize>,
    /// Per set, its last row in the current tile (tile-relative).
    last_rows: Vec<usize>,
    /// Per set, a row held back by [`TileSums`].
    held_rows: Vec<usize>,
    /// Per row tile, whether the current input has a row in it.
    active: Vec<bool>,
}

/// Adds one tile's weight rows into the partial sums of the sets that
/// spiked on them and folds the converted partial sums into the outputs.
/// Plain loops that the compiler vectorises for the dispatched instruction
/// set; the adds are element-wise, so the vector width changes no result.
///
/// A set's partial sum is not zeroed and then added to: its first row is
/// held back and added to the second (`a + b` for `(0 + a) + b`), and with
/// ideal converters the last row goes straight into the output
/// (`out + (partial + row)`). Both give the bits of the plain order, since
/// `0 + x` differs from `x` only for `x = -0`, and adding `+0` or `-0`
/// leaves an output unchanged: outputs start at `+0` and never become
/// `-0` (a sum is `-0` only if both addends are); converters read `+0`
/// and `-0` alike.
struct TileSums<'a> {
    /// The tile's rows of the layer's weights, `masks.len() x n`.
    w: &'a [f32],
    n: usize,
    masks: &'a [u64],
    /// Per set, its last row in this tile (only read for present sets).
    last_rows: &'a [usize],
    /// Per set, the row held back (working memory).
    held_rows: &'a mut [usize],
    /// The sets with a spike in this tile.
    present: u64,
    /// `sets x n` partial sums (any values on entry) and outputs.
    partial: &'a mut [f32],
    out: &'a mut [f32],
    adc: &'a ColumnAdc,
}

impl pulp::WithSimd for TileSums<'_> {
    type Output = ();

    #[inline(always)]
    fn with_simd<S: pulp::Simd>(self, _simd: S) {
        let n = self.n;
        let ideal = self.adc.is_ideal();
        let row_of = |r: usize| &self.w[r * n..(r + 1) * n];
        // Sets without a row yet, and sets whose only row is held back.
        let mut empty = self.present;
        let mut held = 0u64;
        for (r, &mask) in self.masks.iter().enumerate() {
            let row = row_of(r);
            let mut m = mask;
            while m != 0 {
                let k = m.trailing_zeros() as usize;
                m &= m - 1;
                let bit = 1u64 << k;
                let last = self.last_rows[k] == r;
                let partial = &mut self.partial[k * n..(k + 1) * n];
                let out = &mut self.out[k * n..(k + 1) * n];
                if empty & bit != 0 {
                    empty &= !bit;
                    if ideal && last {
                        for (o, &x) in out.iter_mut().zip(row) {
                            *o += x;
                        }
                    } else {
                        self.held_rows[k] = r;
                        held |= bit;
                    }
                } else if held & bit != 0 {
                    held &= !bit;
                    let first = row_of(self.held_rows[k]);
                    if ideal && last {
                        for ((o, &a), &x) in out.iter_mut().zip(first).zip(row) {
                            *o += a + x;
                        }
                    } else {
                        for ((p, &a), &x) in partial.iter_mut().zip(first).zip(row) {
                            *p = a + x;
                        }
                    }
                } else if ideal && last {
                    for ((o, &p), &x) in out.iter_mut().zip(partial.iter()).zip(row) {
                        *o += p + x;
                    }
                } else {
                    for (p, &x) in partial.iter_mut().zip(row) {
                        *p += x;
                    }
                }
            }
        }
        if ideal {
            return;
        }
        let mut m = self.present;
        while m != 0 {
            let k = m.trailing_zeros() as usize;
            let sums = if held & (1 << k) != 0 {
                row_of(self.held_rows[k])
            } else {
                &self.partial[k * n..(k + 1) * n]
            };
            self.adc.add_reads(sums, &mut self.out[k * n..(k + 1) * n]);
            m &= m - 1;
        }
    }
}

impl Mapping for DenseMapping {
    type Scratch = DenseScratch;

    fn sizes(&self) -> &[usize] {
        &self.sizes
    }

    fn deterministic(&self) -> bool {
        true
    }

    fn linear(&self) -> bool {
        self.layers.iter().all(|l| l.adc.is_ideal())
    }

    fn lockstep(&self) -> usize {
        LOCKSTEP
    }

    fn scratch(&self) -> DenseScratch {
        DenseScratch::default()
    }

    fn synaptic_input(
        &self,
        layer: usize,
        pre: Presynaptic<'_>,
        out: &mut [f32],
        s: &mut DenseScratch,
        _rng: &mut rand_chacha::ChaCha8Rng,
    ) {
        self.tile_partial_sums(layer, pre, &mut s.partial, &mut s.active);
        out.fill(0.0);
        for block in s.partial.chunks_exact(out.len()) {
            self.layers[layer].adc.add_reads(block, out);
        }
    }

    /// Tile by tile: every row of the tile that any set spiked on is read
    /// once and added into the partial sum of each such set. Each set's
    /// partial sums see its rows in the same (ascending) order and are
    /// converted and added up tile by tile as in [`Self::synaptic_input`],
    /// so the results are the same bit for bit.
    fn spike_inputs(&self, layer: usize, sets: &[&[u32]], out: &mut [f32], s: &mut DenseScratch) {
        let l = &self.layers[layer];
        let (n, n_in) = (l.n_out, self.sizes[layer]);
        let ascending = |set: &&[u32]| {
            set.windows(2).all(|w| w[0] < w[1]) && set.last().is_none_or(|&i| (i as usize) < n_in)
        };
        if sets.len() > u64::BITS as usize || !sets.iter().all(ascending) {
            let mut rng = crate::stream_rng(0, 0);
            for (set, o) in sets.iter().zip(out.chunks_exact_mut(n)) {
                self.synaptic_input(layer, Presynaptic::Spikes(set), o, s, &mut rng);
            }
            return;
        }
        out.fill(0.0);
        s.partial.resize(sets.len() * n, 0.0);
        s.cursors.clear();
        s.cursors.resize(sets.len(), 0);
        s.last_rows.resize(sets.len(), 0);
        s.held_rows.resize(sets.len(), 0);
        let arch = pulp::Arch::new();
        for r0 in (0..n_in).step_by(self.tile) {
            let rows = self.tile.min(n_in - r0);
            s.masks.clear();
            s.masks.resize(rows, 0);
            let mut present = 0u64;
            for (k, (set, c)) in sets.iter().zip(&mut s.cursors).enumerate() {
                let first = *c;
                while let Some(&i) = set.get(*c).filter(|&&i| (i as usize) < r0 + rows) {
                    s.masks[i as usize - r0] |= 1 << k;
                    *c += 1;
                }
                if *c > first {
                    present |= 1 << k;
                    s.last_rows[k] = set[*c - 1] as usize - r0;
                }
            }
            arch.dispatch(TileSums {
                w: &l.w[r0 * n..(r0 + rows) * n],
                n,
                masks: &s.masks,
                last_rows: &s.last_rows,
                held_rows: &mut s.held_rows,
                present,
                partial: &mut s.partial,
                out: &mut out[..sets.len() * n],
                adc: &l.adc,
            });
        }
    }
}
