//! The ReLU multilayer perceptron the SNN is converted from, and its training.
//!
//! Layers have no bias (as Diehl et al. 2015): a spiking neuron then needs no
//! constant input current, and the hardware stores nothing but weights.
//! Matrices are row-major `f32`, one row per presynaptic neuron
//! (`w[i * n_out + j]` connects input `i` to output `j`), the layout the
//! event-driven SNN reads a spike's fan-out from.

use faer::mat::{MatMut, MatRef};
use faer::{Accum, Par};
use rand::seq::SliceRandom;
use rand::Rng;
use rand_chacha::ChaCha8Rng;
use rand_distr::{Distribution, Normal};
use rayon::prelude::*;

use crate::mnist::Dataset;
use crate::quant::SharedWeights;
use crate::stream_rng;

/// One fully connected layer without bias.
#[derive(Clone, Debug, PartialEq)]
pub struct Layer {
    pub n_in: usize,
    pub n_out: usize,
    /// Row-major `n_in x n_out`; with weight sharing, always equal to
    /// `shared.values[shared.index[k]]`.
    pub weights: Vec<f32>,
    /// Present once the layer is clustered; training then moves only the
    /// shared values.
    pub shared: Option<SharedWeights>,
}

impl Layer {
    /// Rebuilds the dense weights from the shared values and indices.
    pub fn materialise(&mut self) {
        if let Some(s) = &self.shared {
            for (w, &k) in self.weights.iter_mut().zip(&s.index) {
                *w = s.values[k as usize];
            }
        }
    }
}

/// A bias-free ReLU network; the last layer's outputs are the class scores.
#[derive(Clone, Debug, PartialEq)]
pub struct Mlp {
    pub layers: Vec<Layer>,
}

/// Why a network cannot be built or trained as asked.
#[derive(Debug, thiserror::Error)]
pub enum TrainError {
    #[error("network needs at least an input and an output size, got {0:?}")]
    Sizes(Vec<usize>),
    #[error("invalid training setting {name} = {value}: {why}")]
    Setting {
        name: &'static str,
        value: String,
        why: &'static str,
    },
    #[error("data set has {got} pixels per image, the network expects {expected}")]
    InputSize { expected: usize, got: usize },
    #[error("training set is empty")]
    NoData,
    #[error(transparent)]
    Model(#[from] crate::model::ModelError),
    #[error("training diverged (loss {loss}) in epoch {epoch}; lower the learning rate")]
    Diverged { epoch: usize, loss: f32 },
}

impl Mlp {
    /// He-initialised network with the given layer sizes (input first).
    pub fn new(sizes: &[usize], seed: u64) -> Result<Self, TrainError> {
        if sizes.len() < 2 || sizes.contains(&0) {
            return Err(TrainError::Sizes(sizes.to_vec()));
        }
        let layers = sizes
            .windows(2)
            .enumerate()
            .map(|(l, pair)| {
                let (n_in, n_out) = (pair[0], pair[1]);
                let std = (2.0 / n_in as f64).sqrt();
                let normal = Normal::new(0.0, std).expect("std is finite and positive");
                let mut rng = stream_rng(seed, l as u64);
                let weights = (0..n_in * n_out)
                    .map(|_| normal.sample(&mut rng) as f32)
                    .collect();
                Layer {
                    n_in,
                    n_out,
                    weights,
                    shared: None,
                }
            })
            .collect();
        Ok(Mlp { layers })
    }

    /// Layer sizes, input first.
    pub fn sizes(&self) -> Vec<usize> {
        let mut s = vec![self.layers[0].n_in];
        s.extend(self.layers.iter().map(|l| l.n_out));
        s
    }

    /// Forward pass of a batch (`rows x n_in`, row-major) keeping every
    /// layer's output: `acts[0]` is the input, `acts[l + 1]` layer `l`'s
    /// output (ReLU for hidden layers, raw scores for the last).
    fn forward_into(&self, rows: usize, acts: &mut [Vec<f32>], par: Par) {
        let last = self.layers.len() - 1;
        for (l, layer) in self.layers.iter().enumerate() {
            let (input, output) = acts.split_at_mut(l + 1);
            let a = &input[l];
            let z = &mut output[0];
            z.resize(rows * layer.n_out, 0.0);
            faer::linalg::matmul::matmul(
                MatMut::from_row_major_slice_mut(z, rows, layer.n_out),
                Accum::Replace,
                MatRef::from_row_major_slice(a, rows, layer.n_in),
                MatRef::from_row_major_slice(&layer.weights, layer.n_in, layer.n_out),
                1.0f32,
                par,
            );
            if l < last {
                relu(z);
            }
        }
    }

    /// Class scores of images `range` of `data`.
    pub fn scores(&self, data: &Dataset, range: std::ops::Range<usize>) -> Vec<f32> {
        let n_out = self.layers[self.layers.len() - 1].n_out;
        let mut acts = vec![Vec::new(); self.layers.len() + 1];
        let mut out = Vec::with_capacity(range.len() * n_out);
        for chunk in chunks(range, 500) {
            fill_input(data, chunk.clone(), &mut acts[0]);
            self.forward_into(chunk.len(), &mut acts, Par::rayon(0));
            out.extend_from_slice(&acts[self.layers.len()]);
        }
        out
    }

    /// Predicted classes (arg-max score) of images `range` of `data`.
    pub fn predict(&self, data: &Dataset, range: std::ops::Range<usize>) -> Vec<u8> {
        let n_out = self.layers[self.layers.len() - 1].n_out;
        self.scores(data, range)
            .chunks(n_out)
            .map(|s| argmax(s) as u8)
            .collect()
    }

    /// Fraction of images `range` classified correctly.
    pub fn accuracy(&self, data: &Dataset, range: std::ops::Range<usize>) -> f64 {
        if range.is_empty() {
            return 0.0;
        }
        let labels = &data.labels[range.clone()];
        let n = range.len();
        let correct = self
            .predict(data, range)
            .iter()
            .zip(labels)
            .filter(|(p, l)| p == l)
            .count();
        correct as f64 / n as f64
    }

    /// Per layer, the maximum and the `percentile` (e.g. 99.9) of the
    /// positive activations over images `range`: the data-based
    /// normalisation scales of Diehl et al. 2015 (max) and Rueckauer et al.
    /// 2017 (percentile). Zeros are left out, as ReLU zeros carry no rate.
    pub fn activation_scales(
        &self,
        data: &Dataset,
        range: std::ops::Range<usize>,
        percentile: f64,
    ) -> Vec<ActivationScale> {
        let mut acts = vec![Vec::new(); self.layers.len() + 1];
        let mut positive: Vec<Vec<f32>> = vec![Vec::new(); self.layers.len()];
        for chunk in chunks(range, 500) {
            fill_input(data, chunk.clone(), &mut acts[0]);
            self.forward_into(chunk.len(), &mut acts, Par::rayon(0));
            for (l, p) in positive.iter_mut().enumerate() {
                p.extend(acts[l + 1].iter().copied().filter(|&a| a > 0.0));
            }
        }
        positive
            .into_iter()
            .map(|mut p| {
                p.sort_unstable_by(f32::total_cmp);
                let max = p.last().copied().unwrap_or(0.0);
                let at = if p.is_empty() {
                    0.0
                } else {
                    let rank = ((percentile / 100.0) * (p.len() - 1) as f64).round() as usize;
                    p[rank.min(p.len() - 1)]
                };
                ActivationScale {
                    max,
                    percentile: at,
                }
            })
            .collect()
    }
}

/// Data-based normalisation scales of one layer's activations.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct ActivationScale {
    pub max: f32,
    pub percentile: f32,
}

/// How the learning rate evolves over the run.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Schedule {
    Constant,
    /// Half a cosine from the initial rate down to `final_fraction` of it,
    /// updated every batch.
    Cosine,
}

/// Training settings (Adam optimiser, softmax cross-entropy loss).
#[derive(Clone, Debug, PartialEq)]
pub struct TrainConfig {
    pub epochs: usize,
    pub batch: usize,
    pub lr: f64,
    pub schedule: Schedule,
    /// With [`Schedule::Cosine`], the last learning rate as a fraction of `lr`.
    pub final_fraction: f64,
    /// Dropout probability of the input pixels.
    pub dropout_input: f64,
    /// Dropout probability of the hidden neurons.
    pub dropout_hidden: f64,
    /// Random translation of each training image by up to this many pixels
    /// in x and y (0 = none).
    pub shift: usize,
    pub seed: u64,
}

impl Default for TrainConfig {
    fn default() -> Self {
        TrainConfig {
            epochs: 15,
            batch: 100,
            lr: 1e-3,
            schedule: Schedule::Cosine,
            final_fraction: 0.02,
            dropout_input: 0.1,
            dropout_hidden: 0.3,
            shift: 1,
            seed: 1,
        }
    }
}

impl TrainConfig {
    fn validate(&self) -> Result<(), TrainError> {
        let bad = |name, value: String, why| Err(TrainError::Setting { name, value, why });
        if self.batch == 0 {
            return bad("batch", "0".into(), "must be at least 1");
        }
        if !(self.lr.is_finite() && self.lr > 0.0) {
            return bad("lr", self.lr.to_string(), "must be finite and positive");
        }
        if !(self.final_fraction.is_finite() && self.final_fraction >= 0.0) {
            return bad(
                "final_fraction",
                self.final_fraction.to_string(),
                "must be finite and non-negative",
            );
        }
        for (name, p) in [
            ("dropout_input", self.dropout_input),
            ("dropout_hidden", self.dropout_hidden),
        ] {
            if !(0.0..1.0).contains(&p) {
                return bad(name, p.to_string(), "must be in [0, 1)");
            }
        }
        Ok(())
    }

    fn lr_at(&self, step: usize, total: usize) -> f64 {
        match self.schedule {
            Schedule::Constant => self.lr,
            Schedule::Cosine => {
                let t = step as f64 / total.max(1) as f64;
                let f = self.final_fraction;
                self.lr * (f + (1.0 - f) * 0.5 * (1.0 + (std::f64::consts::PI * t).cos()))
            }
        }
    }
}

/// What one epoch achieved.
#[derive(Clone, Debug, PartialEq)]
pub struct EpochReport {
    /// 1-based.
    pub epoch: usize,
    pub epochs: usize,
    /// Mean training loss (with dropout) over the epoch.
    pub loss: f32,
    /// Accuracy on the held-out validation images (NaN without any).
    pub validation_accuracy: f64,
    /// Learning rate at the end of the epoch.
    pub lr: f64,
    pub seconds: f64,
}

/// Adam moments of one layer's trainable parameters.
struct AdamState {
    m: Vec<f32>,
    v: Vec<f32>,
}

/// Trains `mlp` on images `train` of `data`, reporting after each epoch with
/// accuracy on images `validation`. Layers with shared weights train only
/// their shared values: the gradient of a shared value is the sum of the
/// gradients of the synapses that use it (Han et al. 2016).
///
/// The random choices (order, dropout, shifts) are seeded by
/// `config.seed` and the epoch/batch number only.
pub fn train(
    mlp: &mut Mlp,
    data: &Dataset,
    train: std::ops::Range<usize>,
    validation: std::ops::Range<usize>,
    config: &TrainConfig,
    progress: bool,
    mut on_epoch: impl FnMut(&EpochReport),
) -> Result<Vec<EpochReport>, TrainError> {
    config.validate()?;
    if data.pixels() != mlp.layers[0].n_in {
        return Err(TrainError::InputSize {
            expected: mlp.layers[0].n_in,
            got: data.pixels(),
        });
    }
    if train.is_empty() {
        return Err(TrainError::NoData);
    }
    let par = Par::rayon(0);
    let n_layers = mlp.layers.len();
    let mut adam: Vec<AdamState> = mlp
        .layers
        .iter()
        .map(|l| {
            let n = l
                .shared
                .as_ref()
                .map_or(l.weights.len(), |s| s.values.len());
            AdamState {
                m: vec![0.0; n],
                v: vec![0.0; n],
            }
        })
        .collect();
    let batches = train.len().div_ceil(config.batch);
    let total_steps = batches * config.epochs;
    let mut acts = vec![Vec::new(); n_layers + 1];
    let mut masks: Vec<Vec<f32>> = vec![Vec::new(); n_layers];
    let mut grad_w: Vec<Vec<f32>> = mlp
        .layers
        .iter()
        .map(|l| vec![0.0; l.weights.len()])
        .collect();
    let mut delta = Vec::new();
    let mut delta_prev = Vec::new();
    let mut order: Vec<usize> = train.clone().collect();
    let mut reports = Vec::with_capacity(config.epochs);
    let mut step = 0usize;
    for epoch in 0..config.epochs {
        let start = std::time::Instant::now();
        let mut rng = stream_rng(config.seed, 1_000_000 + epoch as u64);
        order.shuffle(&mut rng);
        let bar = crate::progress_bar(
            batches as u64,
            progress,
            &format!("epoch {}/{}", epoch + 1, config.epochs),
        );
        let mut loss_sum = 0.0f64;
        let mut lr = config.lr;
        for (b, idx) in order.chunks(config.batch).enumerate() {
            let rows = idx.len();
            let mut rng = stream_rng(config.seed, ((epoch as u64) << 32) | b as u64);
            fill_augmented(data, idx, config.shift, &mut rng, &mut acts[0]);
            dropout(&mut acts[0], &mut masks[0], config.dropout_input, &mut rng);
            // Forward, applying dropout to every hidden layer's output.
            for l in 0..n_layers {
                let layer = &mlp.layers[l];
                let (input, output) = acts.split_at_mut(l + 1);
                let z = &mut output[0];
                z.resize(rows * layer.n_out, 0.0);
                faer::linalg::matmul::matmul(
                    MatMut::from_row_major_slice_mut(z, rows, layer.n_out),
                    Accum::Replace,
                    MatRef::from_row_major_slice(&input[l], rows, layer.n_in),
                    MatRef::from_row_major_slice(&layer.weights, layer.n_in, layer.n_out),
                    1.0f32,
                    par,
                );
                if l + 1 < n_layers {
                    relu(z);
                    dropout(z, &mut masks[l + 1], config.dropout_hidden, &mut rng);
                }
            }
            let n_classes = mlp.layers[n_layers - 1].n_out;
            let labels: Vec<u8> = idx.iter().map(|&i| data.labels[i]).collect();
            loss_sum +=
                softmax_cross_entropy(&acts[n_layers], n_classes, &labels, &mut delta) as f64;
            // Backward.
            for l in (0..n_layers).rev() {
                let layer = &mlp.layers[l];
                faer::linalg::matmul::matmul(
                    MatMut::from_row_major_slice_mut(&mut grad_w[l], layer.n_in, layer.n_out),
                    Accum::Replace,
                    MatRef::from_row_major_slice(&acts[l], rows, layer.n_in).transpose(),
                    MatRef::from_row_major_slice(&delta, rows, layer.n_out),
                    1.0f32,
                    par,
                );
                if l > 0 {
                    delta_prev.resize(rows * layer.n_in, 0.0);
                    faer::linalg::matmul::matmul(
                        MatMut::from_row_major_slice_mut(&mut delta_prev, rows, layer.n_in),
                        Accum::Replace,
                        MatRef::from_row_major_slice(&delta, rows, layer.n_out),
                        MatRef::from_row_major_slice(&layer.weights, layer.n_in, layer.n_out)
                            .transpose(),
                        1.0f32,
                        par,
                    );
                    // Through dropout and ReLU: a kept, active unit passes the
                    // gradient scaled like its activation was.
                    for ((d, &a), &m) in delta_prev.iter_mut().zip(&acts[l]).zip(&masks[l]) {
                        if a <= 0.0 {
                            *d = 0.0;
                        } else {
                            *d *= m;
                        }
                    }
                    std::mem::swap(&mut delta, &mut delta_prev);
                }
            }
            step += 1;
            lr = config.lr_at(step, total_steps);
            for ((layer, g), state) in mlp.layers.iter_mut().zip(&grad_w).zip(&mut adam) {
                adam_step(layer, g, state, lr as f32, step);
            }
            bar.inc(1);
        }
        bar.finish_and_clear();
        let loss = (loss_sum / batches as f64) as f32;
        if !loss.is_finite() {
            return Err(TrainError::Diverged {
                epoch: epoch + 1,
                loss,
            });
        }
        let validation_accuracy = if validation.is_empty() {
            f64::NAN
        } else {
            mlp.accuracy(data, validation.clone())
        };
        let report = EpochReport {
            epoch: epoch + 1,
            epochs: config.epochs,
            loss,
            validation_accuracy,
            lr,
            seconds: start.elapsed().as_secs_f64(),
        };
        on_epoch(&report);
        reports.push(report);
    }
    Ok(reports)
}

fn adam_step(layer: &mut Layer, grad: &[f32], state: &mut AdamState, lr: f32, step: usize) {
    const B1: f32 = 0.9;
    const B2: f32 = 0.999;
    const EPS: f32 = 1e-8;
    let c1 = 1.0 - B1.powi(step as i32);
    let c2 = 1.0 - B2.powi(step as i32);
    let update = |p: &mut f32, g: f32, m: &mut f32, v: &mut f32| {
        *m = B1 * *m + (1.0 - B1) * g;
        *v = B2 * *v + (1.0 - B2) * g * g;
        *p -= lr * (*m / c1) / ((*v / c2).sqrt() + EPS);
    };
    match &mut layer.shared {
        None => {
            layer
                .weights
                .par_chunks_mut(4096)
                .zip(grad.par_chunks(4096))
                .zip(
                    state
                        .m
                        .par_chunks_mut(4096)
                        .zip(state.v.par_chunks_mut(4096)),
                )
                .for_each(|((w, g), (m, v))| {
                    for i in 0..w.len() {
                        update(&mut w[i], g[i], &mut m[i], &mut v[i]);
                    }
                });
        }
        Some(shared) => {
            let mut sums = vec![0.0f64; shared.values.len()];
            for (&g, &k) in grad.iter().zip(&shared.index) {
                sums[k as usize] += g as f64;
            }
            for (k, value) in shared.values.iter_mut().enumerate() {
                update(value, sums[k] as f32, &mut state.m[k], &mut state.v[k]);
            }
            layer.materialise();
        }
    }
}

/// Mean cross-entropy of the softmax of `scores`; writes the gradient with
/// respect to the scores (already divided by the batch size) into `delta`.
fn softmax_cross_entropy(
    scores: &[f32],
    classes: usize,
    labels: &[u8],
    delta: &mut Vec<f32>,
) -> f32 {
    let rows = labels.len();
    delta.resize(scores.len(), 0.0);
    let mut loss = 0.0f64;
    for (r, &label) in labels.iter().enumerate() {
        let s = &scores[r * classes..(r + 1) * classes];
        let d = &mut delta[r * classes..(r + 1) * classes];
        let max = s.iter().copied().fold(f32::NEG_INFINITY, f32::max);
        let mut sum = 0.0f32;
        for (di, &si) in d.iter_mut().zip(s) {
            *di = (si - max).exp();
            sum += *di;
        }
        loss -= ((d[label as usize] / sum) as f64).ln();
        for (c, di) in d.iter_mut().enumerate() {
            let p = *di / sum;
            *di = (p - if c == label as usize { 1.0 } else { 0.0 }) / rows as f32;
        }
    }
    (loss / rows as f64) as f32
}

fn relu(z: &mut [f32]) {
    for v in z {
        *v = v.max(0.0);
    }
}

/// Inverted dropout: zeroes each value with probability `p` and scales the
/// kept ones by `1 / (1 - p)`; the per-unit factor is kept in `mask` for the
/// backward pass.
fn dropout(x: &mut [f32], mask: &mut Vec<f32>, p: f64, rng: &mut ChaCha8Rng) {
    mask.resize(x.len(), 1.0);
    if p == 0.0 {
        mask.fill(1.0);
        return;
    }
    let keep = 1.0 / (1.0 - p) as f32;
    for (v, m) in x.iter_mut().zip(mask.iter_mut()) {
        *m = if rng.random::<f64>() < p { 0.0 } else { keep };
        *v *= *m;
    }
}

/// Copies images `range` as `[0, 1]` intensities into a row-major batch.
pub(crate) fn fill_input(data: &Dataset, range: std::ops::Range<usize>, out: &mut Vec<f32>) {
    out.clear();
    out.extend(
        data.images[range.start * data.pixels()..range.end * data.pixels()]
            .iter()
            .map(|&p| p as f32 / 255.0),
    );
}

/// Copies the images `idx` into a batch, each translated by a random offset
/// of up to `shift` pixels per axis (zero fill).
fn fill_augmented(
    data: &Dataset,
    idx: &[usize],
    shift: usize,
    rng: &mut ChaCha8Rng,
    out: &mut Vec<f32>,
) {
    let (rows, cols) = (data.rows, data.cols);
    out.clear();
    out.resize(idx.len() * rows * cols, 0.0);
    let s = shift as i64;
    for (b, &i) in idx.iter().enumerate() {
        let (dy, dx) = if s == 0 {
            (0, 0)
        } else {
            (rng.random_range(-s..=s), rng.random_range(-s..=s))
        };
        let img = data.image(i);
        let dst = &mut out[b * rows * cols..(b + 1) * rows * cols];
        for y in 0..rows as i64 {
            let sy = y - dy;
            if sy < 0 || sy >= rows as i64 {
                continue;
            }
            for x in 0..cols as i64 {
                let sx = x - dx;
                if sx < 0 || sx >= cols as i64 {
                    continue;
                }
                dst[(y as usize) * cols + x as usize] =
                    img[(sy as usize) * cols + sx as usize] as f32 / 255.0;
            }
        }
    }
}

fn chunks(
    range: std::ops::Range<usize>,
    size: usize,
) -> impl Iterator<Item = std::ops::Range<usize>> {
    let end = range.end;
    range.step_by(size).map(move |s| s..(s + size).min(end))
}

/// Index of the largest value (the first one on ties).
pub fn argmax(s: &[f32]) -> usize {
    let mut best = 0;
    for (i, &v) in s.iter().enumerate() {
        if v > s[best] {
            best = i;
        }
    }
    best
}
