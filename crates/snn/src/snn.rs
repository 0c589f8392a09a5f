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
use xbar_periph::{LifConfig, LifLayer, PeriphError, ResetMode};

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

    /// Images the inference loop steps in lockstep (1 = one at a time), so
    /// that [`Self::spike_inputs`] sees the spike sets of all of them.
    fn lockstep(&self) -> usize {
        1
    }

    /// The synaptic input of each of `sets` (spike lists, ascending) into
    /// `out[k * n..(k + 1) * n]` with `n = sizes()[layer + 1]`: bit for bit
    /// what [`Self::synaptic_input`] gives for each set alone. Only called
    /// on [`deterministic`](Self::deterministic) mappings, which draw no
    /// random numbers. The default computes one set after the other;
    /// mappings override it to read each weight row once for all sets.
    fn spike_inputs(
        &self,
        layer: usize,
        sets: &[&[u32]],
        out: &mut [f32],
        scratch: &mut Self::Scratch,
    ) {
        let n = self.sizes()[layer + 1];
        let mut unused = stream_rng(0, 0);
        for (set, o) in sets.iter().zip(out.chunks_exact_mut(n)) {
            self.synaptic_input(layer, Presynaptic::Spikes(set), o, scratch, &mut unused);
        }
    }

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
    /// Relative standard deviation of each neuron's threshold (a fixed
    /// sample per trial, `lif.threshold_sigma`); 0 is uniform.
    pub threshold_sigma: f32,
}

impl LifParams {
    /// The peripheral crate's neuron configuration of these parameters.
    pub fn config(&self) -> LifConfig {
        LifConfig {
            v_th: self.v_th as f64,
            v_reset: self.v_reset as f64,
            reset: match self.reset {
                Reset::ToValue => ResetMode::Value,
                Reset::Subtract => ResetMode::Subtract,
            },
            v_leak: self.v_leak as f64,
            // Every presentation starts from rest, whatever the reset value.
            v_init: Some(0.0),
            threshold_sigma: self.threshold_sigma as f64 * self.v_th as f64,
            ..LifConfig::default()
        }
    }

    /// A layer of `n` neurons whose thresholds are drawn from `seed`.
    pub fn layer(&self, n: usize, seed: u64) -> Result<LifLayer, PeriphError> {
        LifLayer::new(&self.config(), n, seed)
    }
}

/// One time step of a layer of neurons with thresholds `theta` (drawn by
/// [`LifParams::layer`]) and potentials `v`: exactly
/// [`LifLayer::step`]'s update for `p` (`V = V + x + V_leak`, fire at
/// `V >= theta`, reset), compiled for the dispatched instruction set, which
/// the peripheral crate's generic loop is not. Appends the neurons that
/// fired to `spikes` in ascending order.
pub fn lif_step(v: &mut [f32], input: &[f32], theta: &[f32], p: &LifParams, spikes: &mut Vec<u32>) {
    pulp::Arch::new().dispatch(LifStep {
        v,
        input,
        theta,
        p,
        spikes,
    });
}

struct LifStep<'a> {
    v: &'a mut [f32],
    input: &'a [f32],
    theta: &'a [f32],
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
            theta,
            p,
            spikes,
        } = self;
        if p.reset == Reset::Subtract {
            lif_blocks::<true>(v, input, theta, p, spikes);
        } else {
            lif_blocks::<false>(v, input, theta, p, spikes);
        }
    }
}

/// [`lif_step`] for one reset mode: blocks of lanes update branch-free
/// (vectorised), and only a block in which a neuron fired (a few percent
/// of them) is scanned for the indices.
#[inline(always)]
fn lif_blocks<const SUBTRACT: bool>(
    v: &mut [f32],
    input: &[f32],
    theta: &[f32],
    p: &LifParams,
    spikes: &mut Vec<u32>,
) {
    const LANES: usize = 16;
    let n = v.len().min(input.len()).min(theta.len());
    let (v, input, theta) = (&mut v[..n], &input[..n], &theta[..n]);
    let tail = n / LANES * LANES;
    let (v_blocks, v_tail) = v.split_at_mut(tail);
    let (x_blocks, x_tail) = input.split_at(tail);
    let (t_blocks, t_tail) = theta.split_at(tail);
    // The periph layer's plain step with leak factor 1 and no floor.
    let step = |vj: &mut f32, x: f32, th: f32| {
        let u = *vj + x + p.v_leak;
        let fire = u >= th;
        let after = if SUBTRACT { u - th } else { p.v_reset };
        *vj = if fire { after } else { u };
        fire
    };
    // Parameters in locals and the lanes in separate passes: the shape the
    // compiler turns into vector instructions (same arithmetic as `step`).
    let (leak, reset) = (p.v_leak, p.v_reset);
    for (b, ((vb, xb), tb)) in v_blocks
        .chunks_exact_mut(LANES)
        .zip(x_blocks.chunks_exact(LANES))
        .zip(t_blocks.chunks_exact(LANES))
        .enumerate()
    {
        let mut u = [0f32; LANES];
        for j in 0..LANES {
            u[j] = vb[j] + xb[j] + leak;
        }
        let mut fired = [0u32; LANES];
        for j in 0..LANES {
            fired[j] = if u[j] >= tb[j] { 1 } else { 0 };
        }
        for j in 0..LANES {
            let after = if SUBTRACT { u[j] - tb[j] } else { reset };
            let next = if fired[j] != 0 { after } else { u[j] };
            vb[j] = next;
        }
        let mut bits = 0u32;
        for (j, &f) in fired.iter().enumerate() {
            bits |= f << j;
        }
        let base = (b * LANES) as u32;
        while bits != 0 {
            spikes.push(base + bits.trailing_zeros());
            bits &= bits - 1;
        }
    }
    for (j, ((vj, &x), &th)) in v_tail.iter_mut().zip(x_tail).zip(t_tail).enumerate() {
        if step(vj, x, th) {
            spikes.push((tail + j) as u32);
        }
    }
}

/// The seed of layer `layer`'s threshold sample in a run seeded by `seed`,
/// apart from the image streams (which use the image indices).
fn threshold_seed(seed: u64, layer: usize) -> u64 {
    stream_rng(seed, u64::MAX - 4096 - layer as u64).random()
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
                threshold_sigma: 0.0,
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
    #[error("layer {layer} neurons: {source}")]
    Neuron { layer: usize, source: PeriphError },
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

/// One image's state, reused for the next image of its worker.
struct ImageState {
    rng: ChaCha8Rng,
    v: Vec<f32>,
    current: Vec<f32>,
    trains: Vec<SpikeTrain>,
    input: Vec<f32>,
    first_layer: Vec<f32>,
    /// Spikes that appeared / disappeared since the previous step.
    on: Vec<u32>,
    off: Vec<u32>,
    bits: Vec<u64>,
    totals: Vec<u64>,
    plan: Plan,
}

/// An image's class, output spike counts and spike total of every layer
/// (input first).
type ImageResult = (u8, Vec<u32>, Vec<u64>);

/// How an image's synaptic input of the current step is formed.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Plan {
    /// Summed over all of this step's spikes.
    Full,
    /// The previous step's input updated by the spikes in `on` and `off`.
    Delta,
    /// Already in `current`.
    Ready,
}

impl ImageState {
    fn new(sizes: &[usize]) -> Self {
        ImageState {
            rng: stream_rng(0, 0),
            v: Vec::new(),
            current: Vec::new(),
            trains: sizes.iter().map(|_| SpikeTrain::default()).collect(),
            input: vec![0.0; sizes[0]],
            first_layer: vec![0.0; sizes[1]],
            on: Vec::new(),
            off: Vec::new(),
            bits: Vec::new(),
            totals: vec![0; sizes.len()],
            plan: Plan::Ready,
        }
    }
}

/// Per-worker buffers, reused across batches.
struct Scratch<S> {
    mapping: S,
    images: Vec<ImageState>,
    /// Synaptic inputs of one step's spike sets, `n_out` values per set.
    sums: Vec<f32>,
}

/// Runs every image of `data` for `config.timesteps` steps through the
/// network made of `mapping` and `lif`, in parallel over batches of
/// [`Mapping::lockstep`] images. Each image draws from its own random
/// stream and its arithmetic does not depend on the other images of its
/// batch, so the outcome does not depend on the number of threads.
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
    let neurons = lif
        .iter()
        .enumerate()
        .map(|(l, p)| {
            p.layer(sizes[l + 1], threshold_seed(config.seed, l))
                .map_err(|source| SnnError::Neuron {
                    layer: l + 1,
                    source,
                })
        })
        .collect::<Result<Vec<_>, _>>()?;
    let batch = mapping.lockstep().max(1);
    let per_batch: Vec<Vec<ImageResult>> = (0..data.len().div_ceil(batch))
        .into_par_iter()
        .map_init(
            || Scratch {
                mapping: mapping.scratch(),
                images: Vec::new(),
                sums: Vec::new(),
            },
            |s, b| {
                let images = b * batch..data.len().min((b + 1) * batch);
                let n = images.len() as u64;
                let r = run_batch(mapping, lif, &neurons, data, images, config, s);
                bar.inc(n);
                r
            },
        )
        .collect::<Result<_, _>>()?;
    bar.finish_and_clear();
    let seconds = start.elapsed().as_secs_f64();
    let mut layer_spikes = vec![0u64; sizes.len()];
    let mut predictions = Vec::with_capacity(data.len());
    let mut output_spikes = Vec::with_capacity(data.len() * classes);
    for (class, counts, spikes) in per_batch.into_iter().flatten() {
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
        if !(p.threshold_sigma.is_finite() && p.threshold_sigma >= 0.0) {
            return Err(SnnError::Parameter {
                layer,
                what: "threshold sigma",
                value: p.threshold_sigma,
                extra: " and >= 0",
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

/// Encodes image `pixels` into `st`'s input spike train (or graded input)
/// from the image's own stream, and precomputes a constant input's
/// first-layer sums where the mapping allows.
fn encode<M: Mapping>(
    mapping: &M,
    pixels: &[u8],
    config: &SnnConfig,
    index: u64,
    st: &mut ImageState,
    scratch: &mut M::Scratch,
) {
    st.rng = stream_rng(config.seed, index);
    st.totals.fill(0);
    for (x, &p) in st.input.iter_mut().zip(pixels) {
        *x = p as f32 / 255.0;
    }
    let train = &mut st.trains[0];
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
            for _ in 0..config.timesteps {
                for &(i, t) in &thresholds {
                    if (st.rng.random::<u32>() as u64) < t {
                        train.indices.push(i);
                    }
                }
                train.end_step();
            }
            st.totals[0] = train.indices.len() as u64;
        }
        Encoding::Constant => {
            // Constant current carries intensity, not spikes: count the
            // input layer's equivalent rate so layer statistics compare.
            let sum: f64 = st.input.iter().map(|&x| x as f64).sum();
            st.totals[0] = (sum * config.timesteps as f64).round() as u64;
            if mapping.deterministic() {
                mapping.synaptic_input(
                    0,
                    Presynaptic::Analog(&st.input),
                    &mut st.first_layer,
                    scratch,
                    &mut st.rng,
                );
            }
        }
    }
}

/// Simulates images `images` of `data` in lockstep; returns per image the
/// class, the output spike counts and the spike total of every layer
/// (input first).
///
/// Layers run one after the other over all time steps (layer `l` at step
/// `t` only needs layer `l - 1` at step `t`), so one layer's weights stay in
/// cache for the whole presentation; the result is the same as stepping all
/// layers together.
fn run_batch<M: Mapping>(
    mapping: &M,
    lif: &[LifParams],
    neurons: &[LifLayer],
    data: &Dataset,
    images: std::ops::Range<usize>,
    config: &SnnConfig,
    s: &mut Scratch<M::Scratch>,
) -> Result<Vec<ImageResult>, SnnError> {
    let sizes = mapping.sizes();
    if s.images.len() < images.len() {
        s.images
            .resize_with(images.len(), || ImageState::new(sizes));
    }
    let batch = &mut s.images[..images.len()];
    for (st, i) in batch.iter_mut().zip(images.clone()) {
        encode(mapping, data.image(i), config, i as u64, st, &mut s.mapping);
    }
    let n_layers = neurons.len();
    let steps = config.timesteps;
    let deterministic = mapping.deterministic();
    let linear = mapping.linear() && deterministic;
    let spiking_input = config.encoding == Encoding::Bernoulli;
    for l in 0..n_layers {
        let n = sizes[l + 1];
        for st in batch.iter_mut() {
            st.v.clear();
            st.v.resize(n, 0.0);
            st.current.resize(n, 0.0);
            st.trains[l + 1].clear();
        }
        for t in 0..steps {
            for st in batch.iter_mut() {
                st.plan = if l > 0 || spiking_input {
                    let now = st.trains[l].step(t);
                    let changed = t > 0 && linear && {
                        let before = st.trains[l].step(t - 1);
                        symmetric_difference(before, now, &mut st.bits, &mut st.on, &mut st.off);
                        st.on.len() + st.off.len() < now.len()
                    };
                    if changed {
                        // Rate-coded spike trains change little from step
                        // to step (a pixel at intensity 1 spikes every
                        // step), so updating is cheaper than summing every
                        // spike again.
                        Plan::Delta
                    } else if deterministic {
                        Plan::Full
                    } else {
                        mapping.synaptic_input(
                            l,
                            Presynaptic::Spikes(now),
                            &mut st.current,
                            &mut s.mapping,
                            &mut st.rng,
                        );
                        Plan::Ready
                    }
                } else if deterministic {
                    st.current.copy_from_slice(&st.first_layer);
                    Plan::Ready
                } else {
                    mapping.synaptic_input(
                        0,
                        Presynaptic::Analog(&st.input),
                        &mut st.current,
                        &mut s.mapping,
                        &mut st.rng,
                    );
                    Plan::Ready
                };
            }
            let mut sets: Vec<&[u32]> = Vec::with_capacity(2 * batch.len());
            for st in batch.iter() {
                match st.plan {
                    Plan::Full => sets.push(st.trains[l].step(t)),
                    Plan::Delta => sets.extend(
                        [&st.on[..], &st.off[..]]
                            .into_iter()
                            .filter(|x| !x.is_empty()),
                    ),
                    Plan::Ready => {}
                }
            }
            if !sets.is_empty() {
                s.sums.resize(sets.len() * n, 0.0);
                mapping.spike_inputs(l, &sets, &mut s.sums, &mut s.mapping);
            }
            let mut sums = s.sums.chunks_exact(n);
            for st in batch.iter_mut() {
                match st.plan {
                    Plan::Full => {
                        if let Some(x) = sums.next() {
                            st.current.copy_from_slice(x);
                        }
                    }
                    Plan::Delta => {
                        for (set, sign) in [(&st.on, 1.0f32), (&st.off, -1.0)] {
                            if set.is_empty() {
                                continue;
                            }
                            if let Some(delta) = sums.next() {
                                for (c, &d) in st.current.iter_mut().zip(delta) {
                                    *c += sign * d;
                                }
                            }
                        }
                    }
                    Plan::Ready => {}
                }
                let post = &mut st.trains[l + 1];
                lif_step(
                    &mut st.v,
                    &st.current,
                    neurons[l].thresholds(),
                    &lif[l],
                    &mut post.indices,
                );
                post.end_step();
            }
        }
        for st in batch.iter_mut() {
            st.totals[l + 1] = st.trains[l + 1].indices.len() as u64;
        }
    }
    let classes = sizes[n_layers];
    Ok(batch
        .iter()
        .map(|st| {
            let mut counts = vec![0u32; classes];
            for &j in &st.trains[n_layers].indices {
                counts[j as usize] += 1;
            }
            let v = &st.v;
            let mut best = 0usize;
            for j in 1..classes {
                if counts[j] > counts[best] || (counts[j] == counts[best] && v[j] > v[best]) {
                    best = j;
                }
            }
            (best as u8, counts, st.totals.clone())
        })
        .collect())
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
    // Both lists ascend: their last entries bound the bitsets.
    debug_assert!(before.is_sorted() && now.is_sorted());
    let top = before
        .last()
        .into_iter()
        .chain(now.last())
        .max()
        .map_or(0, |&m| m as usize + 1);
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
