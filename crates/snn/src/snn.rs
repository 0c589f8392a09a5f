//! ANN-to-SNN conversion and time-stepped inference.
//!
//! Each layer is a row of LIF neurons (the paper's
//! `V(t) = V(t-1) + sum_i O_i W_i + V_leak`, fire at `V >= V_th`, then reset).
//! Where the synaptic sums come from is a [`Mapping`]: the ideal software
//! array here, crossbar models elsewhere; the time loop, the encoding, the
//! neurons and the read-out are shared by all of them.
//!
//! Conversion follows Diehl et al. 2015 / Rueckauer et al. 2017: with
//! `lambda_l` the normalisation scale of layer `l`'s ANN activations
//! (maximum or a percentile) and `lambda_0 = 1` for pixel intensities, layer
//! `l`'s threshold is `lambda_l / lambda_(l-1)` in weight units, which is the
//! same as dividing the weights by it and firing at 1, but keeps the stored
//! 16-bit weights untouched.

use std::time::Instant;

use rand::Rng;
use rand_chacha::ChaCha8Rng;
use rayon::prelude::*;

use crate::mnist::Dataset;
use crate::model::SharedModel;
use crate::stream_rng;

/// Time steps per image unless set: on the shipped model, 16 to 64 steps all
/// stay within 0.1 % of the ANN; 32 leaves margin for non-idealities.
pub const DEFAULT_TIMESTEPS: usize = 32;

/// Activity of a layer's presynaptic neurons during one time step.
#[derive(Clone, Copy, Debug)]
pub enum Presynaptic<'a> {
    /// Indices of the neurons that spiked (binary `O_i = 1`).
    Spikes(&'a [u32]),
    /// A graded value per neuron (constant-current input encoding).
    Analog(&'a [f32]),
}

/// The synaptic array of every layer: turns presynaptic activity into each
/// postsynaptic neuron's input for one time step, in weight units (the unit
/// of the thresholds).
pub trait Mapping: Sync {
    /// Per-worker working memory, made once per thread and reused.
    type Scratch: Send;

    /// Layer sizes, input first.
    fn sizes(&self) -> &[usize];

    /// True if equal activity always yields equal input (no read noise), so
    /// a constant input's synaptic sums may be computed once per image.
    fn deterministic(&self) -> bool;

    /// True if the input is linear in the spikes (`f(A + B) = f(A) + f(B)`,
    /// no noise, no saturation), so the loop may update the previous
    /// step's input by the spikes that appeared and disappeared instead of
    /// summing all of this step's spikes.
    fn linear(&self) -> bool {
        false
    }

    fn scratch(&self) -> Self::Scratch;

    /// Writes layer `layer`'s synaptic input (`sizes()[layer + 1]` values)
    /// into `out`. `rng` is the image's own stream, for read noise.
    fn synaptic_input(
        &self,
        layer: usize,
        pre: Presynaptic<'_>,
        out: &mut [f32],
        scratch: &mut Self::Scratch,
        rng: &mut ChaCha8Rng,
    );
}

/// Exact software synapses: the 16-bit shared-weight codes of every synapse,
/// summed exactly in `i32` and scaled by each layer's power-of-two LSB, so
/// the sums are those of the stored fixed-point weights. 16-bit rows halve
/// the memory traffic of `f32` ones, which bounds the event-driven loop.
#[derive(Clone, Debug)]
pub struct IdealMapping {
    sizes: Vec<usize>,
    /// Per layer, row-major `n_in x n_out` codes.
    codes: Vec<Vec<i16>>,
    /// Per layer, the weight of one code step.
    lsb: Vec<f32>,
}

/// Inputs per layer below which an `i32` sum of 16-bit codes cannot overflow.
const MAX_EXACT_INPUTS: usize = 1 << 16;

impl IdealMapping {
    pub fn new(model: &SharedModel) -> Result<Self, SnnError> {
        Self::from_codes(
            model.sizes(),
            model
                .layers
                .iter()
                .map(|l| l.index.iter().map(|&k| l.codes[k as usize]).collect())
                .collect(),
            model.layers.iter().map(|l| l.format.lsb() as f32).collect(),
        )
    }

    /// From explicit row-major integer weights and their LSB per layer.
    pub fn from_codes(
        sizes: Vec<usize>,
        codes: Vec<Vec<i16>>,
        lsb: Vec<f32>,
    ) -> Result<Self, SnnError> {
        if sizes.len() != codes.len() + 1
            || lsb.len() != codes.len()
            || codes
                .iter()
                .enumerate()
                .any(|(l, w)| w.len() != sizes[l] * sizes[l + 1])
        {
            return Err(SnnError::Shape(format!(
                "sizes {sizes:?} do not match {} weight matrices of lengths {:?} and {} LSBs",
                codes.len(),
                codes.iter().map(Vec::len).collect::<Vec<_>>(),
                lsb.len()
            )));
        }
        if let Some(&n) = sizes.iter().find(|&&n| n >= MAX_EXACT_INPUTS) {
            return Err(SnnError::Shape(format!(
                "a layer of {n} neurons; exact integer sums need fewer than {MAX_EXACT_INPUTS}"
            )));
        }
        Ok(IdealMapping { sizes, codes, lsb })
    }
}

/// Adds rows of 16-bit codes into `i32` sums; written as plain loops that
/// the compiler vectorises for whatever instruction set `pulp` dispatches.
struct AddRows<'a> {
    acc: &'a mut [i32],
    codes: &'a [i16],
    rows: &'a [u32],
}

impl pulp::WithSimd for AddRows<'_> {
    type Output = ();

    #[inline(always)]
    fn with_simd<S: pulp::Simd>(self, _simd: S) {
        let n = self.acc.len();
        for &i in self.rows {
            let row = &self.codes[i as usize * n..(i as usize + 1) * n];
            for (a, &w) in self.acc.iter_mut().zip(row) {
                *a += w as i32;
            }
        }
    }
}

/// `out += sum_i values[i] * row_i`, for graded (constant-current) inputs.
struct AddScaledRows<'a> {
    out: &'a mut [f32],
    codes: &'a [i16],
    values: &'a [f32],
}

impl pulp::WithSimd for AddScaledRows<'_> {
    type Output = ();

    #[inline(always)]
    fn with_simd<S: pulp::Simd>(self, _simd: S) {
        let n = self.out.len();
        for (i, &a) in self.values.iter().enumerate() {
            if a != 0.0 {
                let row = &self.codes[i * n..(i + 1) * n];
                for (o, &w) in self.out.iter_mut().zip(row) {
                    *o += a * w as f32;
                }
            }
        }
    }
}

impl Mapping for IdealMapping {
    /// The `i32` sums of one layer.
    type Scratch = Vec<i32>;

    fn sizes(&self) -> &[usize] {
        &self.sizes
    }

    fn deterministic(&self) -> bool {
        true
    }

    fn linear(&self) -> bool {
        true
    }

    fn scratch(&self) -> Vec<i32> {
        Vec::with_capacity(self.sizes.iter().copied().max().unwrap_or(0))
    }

    fn synaptic_input(
        &self,
        layer: usize,
        pre: Presynaptic<'_>,
        out: &mut [f32],
        acc: &mut Vec<i32>,
        _rng: &mut ChaCha8Rng,
    ) {
        let codes = &self.codes[layer];
        let lsb = self.lsb[layer];
        let arch = pulp::Arch::new();
        // Event-driven: only spiking (or non-zero) inputs cost anything.
        match pre {
            Presynaptic::Spikes(rows) => {
                acc.clear();
                acc.resize(out.len(), 0);
                arch.dispatch(AddRows { acc, codes, rows });
                for (o, &a) in out.iter_mut().zip(acc.iter()) {
                    *o = a as f32 * lsb;
                }
            }
            Presynaptic::Analog(values) => {
                out.fill(0.0);
                arch.dispatch(AddScaledRows { out, codes, values });
                for o in out.iter_mut() {
                    *o *= lsb;
                }
            }
        }
    }
}

/// What happens to the membrane after a spike.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Reset {
    /// `V = V_reset` (the paper's neuron).
    ToValue,
    /// `V = V - V_th`: keeps the surplus, so rates track the ANN more
    /// closely (Rueckauer et al. 2017).
    Subtract,
}

/// One layer's neuron parameters, in weight units.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct LifParams {
    pub v_th: f32,
    pub v_leak: f32,
    pub v_reset: f32,
    pub reset: Reset,
}

/// One LIF time step for a layer: integrates `input` plus the leak, fires
/// where `V >= V_th`, resets, and appends the firing neurons to `spikes`.
pub fn lif_step(v: &mut [f32], input: &[f32], p: &LifParams, spikes: &mut Vec<u32>) {
    pulp::Arch::new().dispatch(LifStep {
        v,
        input,
        p,
        spikes,
    });
}

struct LifStep<'a> {
    v: &'a mut [f32],
    input: &'a [f32],
    p: &'a LifParams,
    spikes: &'a mut Vec<u32>,
}

impl pulp::WithSimd for LifStep<'_> {
    type Output = ();

    #[inline(always)]
    fn with_simd<S: pulp::Simd>(self, _simd: S) {
        let LifStep {
            v,
            input,
            p,
            spikes,
        } = self;
        for (vj, &i) in v.iter_mut().zip(input) {
            *vj += i + p.v_leak;
        }
        // Branch-free compaction: firing is too irregular to predict.
        let start = spikes.len();
        spikes.resize(start + v.len(), 0);
        let mut n = start;
        for (j, &vj) in v.iter().enumerate() {
            spikes[n] = j as u32;
            n += (vj >= p.v_th) as usize;
        }
        spikes.truncate(n);
        for &j in &spikes[start..] {
            let vj = &mut v[j as usize];
            *vj = match p.reset {
                Reset::ToValue => p.v_reset,
                Reset::Subtract => *vj - p.v_th,
            };
        }
    }
}

/// How pixels enter the network.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Encoding {
    /// Each pixel spikes with probability intensity/255 in every time step
    /// (rate code), seeded per image.
    Bernoulli,
    /// Each pixel injects its intensity (in `[0, 1]`) every time step.
    Constant,
}

/// Which activation statistic sets the thresholds.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Normalisation {
    Max,
    Percentile,
}

/// Per-layer LIF parameters of the converted network: thresholds from the
/// model's normalisation scales times `v_th_scale` (1 = as converted), leak
/// and reset value in units of each layer's threshold (so `v_leak = -0.01`
/// leaks 1 % of a threshold per step).
pub fn convert(
    model: &SharedModel,
    norm: Normalisation,
    reset: Reset,
    v_th_scale: f32,
    v_leak: f32,
    v_reset: f32,
) -> Vec<LifParams> {
    let mut previous = 1.0f32;
    model
        .layers
        .iter()
        .map(|l| {
            let scale = match norm {
                Normalisation::Max => l.scale.max,
                Normalisation::Percentile => l.scale.percentile,
            };
            let v_th = v_th_scale * scale / previous;
            previous = scale;
            LifParams {
                v_th,
                v_leak: v_leak * v_th,
                v_reset: v_reset * v_th,
                reset,
            }
        })
        .collect()
}

/// Settings of one inference run.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct SnnConfig {
    pub timesteps: usize,
    pub encoding: Encoding,
    pub seed: u64,
}

/// Bad arguments to the SNN.
#[derive(Debug, thiserror::Error, PartialEq)]
pub enum SnnError {
    #[error("network shape: {0}")]
    Shape(String),
    #[error("timesteps must be at least 1")]
    NoTimesteps,
    #[error("layer {layer}: {what} is {value}, it must be finite{extra}")]
    Parameter {
        layer: usize,
        what: &'static str,
        value: f32,
        extra: &'static str,
    },
    #[error(transparent)]
    NonIdeal(#[from] crate::nonideal::KeyError),
    #[error("{0}")]
    Hardware(String),
    #[error("unknown mapping {0:?}; known mappings: ideal, shared, dense")]
    UnknownMapping(String),
}

/// The result of running a data set through the SNN.
#[derive(Clone, Debug, PartialEq)]
pub struct Outcome {
    /// Predicted class per image.
    pub predictions: Vec<u8>,
    /// Output spike count per image and class (`images x classes`).
    pub output_spikes: Vec<u32>,
    /// Total spikes per layer over all images and steps, input layer first.
    pub layer_spikes: Vec<u64>,
    pub sizes: Vec<usize>,
    pub timesteps: usize,
    pub seconds: f64,
}

impl Outcome {
    pub fn images(&self) -> usize {
        self.predictions.len()
    }

    pub fn frames_per_s(&self) -> f64 {
        self.images() as f64 / self.seconds.max(1e-12)
    }

    /// Fraction of predictions equal to `labels`.
    pub fn accuracy(&self, labels: &[u8]) -> f64 {
        let correct = self
            .predictions
            .iter()
            .zip(labels)
            .filter(|(p, l)| p == l)
            .count();
        correct as f64 / self.images().max(1) as f64
    }

    /// Spikes per neuron per time step of each layer (input first).
    pub fn layer_rates(&self) -> Vec<f64> {
        self.layer_spikes
            .iter()
            .zip(&self.sizes)
            .map(|(&s, &n)| s as f64 / (n * self.timesteps * self.images().max(1)) as f64)
            .collect()
    }

    /// `confusion[true][predicted]` counts.
    pub fn confusion(&self, labels: &[u8], classes: usize) -> Vec<Vec<u64>> {
        let mut m = vec![vec![0u64; classes]; classes];
        for (&p, &l) in self.predictions.iter().zip(labels) {
            if (l as usize) < classes && (p as usize) < classes {
                m[l as usize][p as usize] += 1;
            }
        }
        m
    }
}

/// Spike trains of one layer over all time steps: the indices of the
/// neurons that fired at step `t` are `indices[offsets[t]..offsets[t + 1]]`.
#[derive(Default)]
struct SpikeTrain {
    indices: Vec<u32>,
    offsets: Vec<usize>,
}

impl SpikeTrain {
    fn clear(&mut self) {
        self.indices.clear();
        self.offsets.clear();
        self.offsets.push(0);
    }

    fn step(&self, t: usize) -> &[u32] {
        &self.indices[self.offsets[t]..self.offsets[t + 1]]
    }

    fn end_step(&mut self) {
        self.offsets.push(self.indices.len());
    }
}

/// Per-worker buffers, reused across images.
struct Scratch<S> {
    mapping: S,
    v: Vec<f32>,
    current: Vec<f32>,
    trains: Vec<SpikeTrain>,
    input: Vec<f32>,
    first_layer: Vec<f32>,
    /// Spikes that appeared / disappeared since the previous step, and
    /// their synaptic input.
    on: Vec<u32>,
    off: Vec<u32>,
    delta: Vec<f32>,
    bits: Vec<u64>,
}

/// Runs every image of `data` for `config.timesteps` steps through the
/// network made of `mapping` and `lif`, in parallel over images. Each image
/// draws from its own random stream, so the outcome does not depend on the
/// number of threads.
pub fn infer<M: Mapping>(
    mapping: &M,
    lif: &[LifParams],
    data: &Dataset,
    config: &SnnConfig,
    progress: bool,
) -> Result<Outcome, SnnError> {
    let sizes = mapping.sizes().to_vec();
    check(&sizes, lif, data, config)?;
    let classes = sizes[sizes.len() - 1];
    let start = Instant::now();
    let bar = crate::progress_bar(data.len() as u64, progress, "SNN inference");
    let per_image: Vec<(u8, Vec<u32>, Vec<u64>)> = (0..data.len())
        .into_par_iter()
        .map_init(
            || Scratch {
                mapping: mapping.scratch(),
                v: Vec::new(),
                current: Vec::new(),
                trains: sizes.iter().map(|_| SpikeTrain::default()).collect(),
                input: vec![0.0; sizes[0]],
                first_layer: vec![0.0; sizes[1]],
                on: Vec::new(),
                off: Vec::new(),
                delta: Vec::new(),
                bits: Vec::new(),
            },
            |s, i| {
                let r = run_image(mapping, lif, data.image(i), config, i as u64, s);
                bar.inc(1);
                r
            },
        )
        .collect();
    bar.finish_and_clear();
    let seconds = start.elapsed().as_secs_f64();
    let mut layer_spikes = vec![0u64; sizes.len()];
    let mut predictions = Vec::with_capacity(data.len());
    let mut output_spikes = Vec::with_capacity(data.len() * classes);
    for (class, counts, spikes) in per_image {
        predictions.push(class);
        output_spikes.extend(counts);
        for (t, s) in layer_spikes.iter_mut().zip(spikes) {
            *t += s;
        }
    }
    Ok(Outcome {
        predictions,
        output_spikes,
        layer_spikes,
        sizes,
        timesteps: config.timesteps,
        seconds,
    })
}

fn check(
    sizes: &[usize],
    lif: &[LifParams],
    data: &Dataset,
    config: &SnnConfig,
) -> Result<(), SnnError> {
    if sizes.len() < 2 || lif.len() != sizes.len() - 1 {
        return Err(SnnError::Shape(format!(
            "{} layers of neuron parameters for sizes {sizes:?}",
            lif.len()
        )));
    }
    if data.pixels() != sizes[0] {
        return Err(SnnError::Shape(format!(
            "images have {} pixels, the network {} inputs",
            data.pixels(),
            sizes[0]
        )));
    }
    if config.timesteps == 0 {
        return Err(SnnError::NoTimesteps);
    }
    for (layer, p) in lif.iter().enumerate() {
        if !(p.v_th.is_finite() && p.v_th > 0.0) {
            return Err(SnnError::Parameter {
                layer,
                what: "V_th",
                value: p.v_th,
                extra: " and positive",
            });
        }
        for (what, value) in [("V_leak", p.v_leak), ("V_reset", p.v_reset)] {
            if !value.is_finite() {
                return Err(SnnError::Parameter {
                    layer,
                    what,
                    value,
                    extra: "",
                });
            }
        }
    }
    Ok(())
}

/// Simulates one image; returns the class, the output spike counts and the
/// spike total of every layer (input first).
///
/// Layers run one after the other over all time steps (layer `l` at step
/// `t` only needs layer `l - 1` at step `t`), so one layer's weights stay in
/// cache for the whole presentation; the result is the same as stepping all
/// layers together.
fn run_image<M: Mapping>(
    mapping: &M,
    lif: &[LifParams],
    pixels: &[u8],
    config: &SnnConfig,
    index: u64,
    s: &mut Scratch<M::Scratch>,
) -> (u8, Vec<u32>, Vec<u64>) {
    let mut rng = stream_rng(config.seed, index);
    let n_layers = lif.len();
    let steps = config.timesteps;
    let mut totals = vec![0u64; n_layers + 1];
    for (x, &p) in s.input.iter_mut().zip(pixels) {
        *x = p as f32 / 255.0;
    }
    let train = &mut s.trains[0];
    train.clear();
    match config.encoding {
        Encoding::Bernoulli => {
            // P(spike) = p / 255 exactly, compared against a 32-bit draw.
            let thresholds: Vec<(u32, u64)> = pixels
                .iter()
                .enumerate()
                .filter(|(_, &p)| p != 0)
                .map(|(i, &p)| (i as u32, ((p as u64) << 32) / 255))
                .collect();
            for _ in 0..steps {
                for &(i, t) in &thresholds {
                    if (rng.random::<u32>() as u64) < t {
                        train.indices.push(i);
                    }
                }
                train.end_step();
            }
            totals[0] = train.indices.len() as u64;
        }
        Encoding::Constant => {
            // Constant current carries intensity, not spikes: count the
            // input layer's equivalent rate so layer statistics compare.
            let sum: f64 = s.input.iter().map(|&x| x as f64).sum();
            totals[0] = (sum * steps as f64).round() as u64;
        }
    }
    let reuse_first = config.encoding == Encoding::Constant && mapping.deterministic();
    if reuse_first {
        mapping.synaptic_input(
            0,
            Presynaptic::Analog(&s.input),
            &mut s.first_layer,
            &mut s.mapping,
            &mut rng,
        );
    }
    let linear = mapping.linear() && mapping.deterministic();
    let classes = *mapping.sizes().last().unwrap_or(&0);
    let mut counts = vec![0u32; classes];
    for (l, params) in lif.iter().enumerate() {
        let n = mapping.sizes()[l + 1];
        s.v.clear();
        s.v.resize(n, 0.0);
        s.current.resize(n, 0.0);
        let (before, after) = s.trains.split_at_mut(l + 1);
        let (pre, post) = (&before[l], &mut after[0]);
        post.clear();
        for t in 0..steps {
            if l > 0 || config.encoding == Encoding::Bernoulli {
                let now = pre.step(t);
                let changed = t > 0 && linear && {
                    symmetric_difference(pre.step(t - 1), now, &mut s.bits, &mut s.on, &mut s.off);
                    s.on.len() + s.off.len() < now.len()
                };
                if changed {
                    // Rate-coded spike trains change little from step to
                    // step (a pixel at intensity 1 spikes every step), so
                    // updating is cheaper than summing every spike again.
                    s.delta.resize(n, 0.0);
                    for (set, sign) in [(&s.on, 1.0f32), (&s.off, -1.0)] {
                        if set.is_empty() {
                            continue;
                        }
                        mapping.synaptic_input(
                            l,
                            Presynaptic::Spikes(set),
                            &mut s.delta,
                            &mut s.mapping,
                            &mut rng,
                        );
                        for (c, &d) in s.current.iter_mut().zip(&s.delta) {
                            *c += sign * d;
                        }
                    }
                } else {
                    mapping.synaptic_input(
                        l,
                        Presynaptic::Spikes(now),
                        &mut s.current,
                        &mut s.mapping,
                        &mut rng,
                    );
                }
            } else if reuse_first {
                s.current.copy_from_slice(&s.first_layer);
            } else {
                mapping.synaptic_input(
                    0,
                    Presynaptic::Analog(&s.input),
                    &mut s.current,
                    &mut s.mapping,
                    &mut rng,
                );
            }
            lif_step(&mut s.v, &s.current, params, &mut post.indices);
            post.end_step();
        }
        totals[l + 1] = post.indices.len() as u64;
        if l + 1 == n_layers {
            for &j in &post.indices {
                counts[j as usize] += 1;
            }
        }
    }
    // s.v now holds the output layer's membrane potentials.
    let mut best = 0usize;
    for j in 1..classes {
        if counts[j] > counts[best] || (counts[j] == counts[best] && s.v[j] > s.v[best]) {
            best = j;
        }
    }
    (best as u8, counts, totals)
}

/// Splits the difference of two spike lists into the indices only in `now`
/// (`on`) and those only in `before` (`off`), both ascending, through
/// bitsets (`bits` is working memory).
fn symmetric_difference(
    before: &[u32],
    now: &[u32],
    bits: &mut Vec<u64>,
    on: &mut Vec<u32>,
    off: &mut Vec<u32>,
) {
    on.clear();
    off.clear();
    let top = before
        .iter()
        .chain(now)
        .copied()
        .max()
        .map_or(0, |m| m as usize + 1);
    let words = top.div_ceil(64);
    bits.clear();
    bits.resize(2 * words, 0);
    let (b, n) = bits.split_at_mut(words);
    for &i in before {
        b[i as usize / 64] |= 1 << (i % 64);
    }
    for &i in now {
        n[i as usize / 64] |= 1 << (i % 64);
    }
    for (w, (&x, &y)) in b.iter().zip(n.iter()).enumerate() {
        for (mut set, list) in [(y & !x, &mut *on), (x & !y, &mut *off)] {
            while set != 0 {
                list.push((w * 64) as u32 + set.trailing_zeros());
                set &= set - 1;
            }
        }
    }
}
