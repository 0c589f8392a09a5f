//! Weight sharing as in the paper: every layer keeps 16 shared values and a
//! 4-bit index per synapse. The values come from 1-D k-means (deterministic
//! linear initialisation, Han et al. 2016) or from 16 uniform levels, and are
//! finally rounded to the 16-bit fixed point the hardware stores.

/// Number of shared values per layer (4-bit indices).
pub const LEVELS: usize = 16;

/// A layer's shared values and the index of each synapse into them.
#[derive(Clone, Debug, PartialEq)]
pub struct SharedWeights {
    /// `LEVELS` values, ascending.
    pub values: Vec<f32>,
    /// One index (< `LEVELS`) per synapse, in the layer's weight order.
    pub index: Vec<u8>,
}

/// How the shared values are chosen.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Method {
    /// 1-D k-means, linearly initialised over `[min, max]`.
    KMeans,
    /// Evenly spaced over `[min, max]`, not moved afterwards.
    Uniform,
}

/// The result of clustering, with the sum of squared errors after each
/// Lloyd iteration (the first entry is the linear initialisation).
#[derive(Clone, Debug, PartialEq)]
pub struct Clustering {
    pub shared: SharedWeights,
    pub distortion: Vec<f64>,
}

/// Clusters `weights` into `LEVELS` shared values.
///
/// 1-D k-means is solved on the sorted weights with prefix sums, so each
/// Lloyd iteration costs `LEVELS` binary searches; it stops when no centroid
/// moves or after `max_iter` iterations. Empty clusters keep their value.
pub fn cluster(weights: &[f32], method: Method, max_iter: usize) -> Clustering {
    let mut sorted: Vec<f64> = weights.iter().map(|&w| w as f64).collect();
    sorted.sort_unstable_by(f64::total_cmp);
    let (lo, hi) = match (sorted.first(), sorted.last()) {
        (Some(&lo), Some(&hi)) => (lo, hi),
        _ => (0.0, 0.0),
    };
    let mut centroids: Vec<f64> = (0..LEVELS)
        .map(|k| lo + (hi - lo) * k as f64 / (LEVELS - 1) as f64)
        .collect();
    let mut prefix = Vec::with_capacity(sorted.len() + 1);
    let mut prefix_sq = Vec::with_capacity(sorted.len() + 1);
    prefix.push(0.0f64);
    prefix_sq.push(0.0f64);
    for &w in &sorted {
        prefix.push(prefix.last().copied().unwrap_or(0.0) + w);
        prefix_sq.push(prefix_sq.last().copied().unwrap_or(0.0) + w * w);
    }
    // Cluster k holds sorted[bounds[k]..bounds[k + 1]].
    let bounds_of = |c: &[f64]| -> Vec<usize> {
        let mut b = vec![0usize];
        for k in 0..LEVELS - 1 {
            let mid = 0.5 * (c[k] + c[k + 1]);
            b.push(sorted.partition_point(|&w| w < mid));
        }
        b.push(sorted.len());
        b
    };
    let sse = |c: &[f64], b: &[usize]| -> f64 {
        (0..LEVELS)
            .map(|k| {
                let (s, e) = (b[k], b[k + 1]);
                let n = (e - s) as f64;
                let sum = prefix[e] - prefix[s];
                let sq = prefix_sq[e] - prefix_sq[s];
                (sq - 2.0 * c[k] * sum + n * c[k] * c[k]).max(0.0)
            })
            .sum()
    };
    let mut bounds = bounds_of(&centroids);
    let mut distortion = vec![sse(&centroids, &bounds)];
    if method == Method::KMeans {
        for _ in 0..max_iter {
            let next: Vec<f64> = (0..LEVELS)
                .map(|k| {
                    let (s, e) = (bounds[k], bounds[k + 1]);
                    if e > s {
                        (prefix[e] - prefix[s]) / (e - s) as f64
                    } else {
                        centroids[k]
                    }
                })
                .collect();
            let moved = next != centroids;
            centroids = next;
            bounds = bounds_of(&centroids);
            distortion.push(sse(&centroids, &bounds));
            if !moved {
                break;
            }
        }
    }
    let values: Vec<f32> = centroids.iter().map(|&c| c as f32).collect();
    let index = assign(weights, &values);
    Clustering {
        shared: SharedWeights { values, index },
        distortion,
    }
}

/// Index of the nearest of the ascending `values` for every weight.
pub fn assign(weights: &[f32], values: &[f32]) -> Vec<u8> {
    let mids: Vec<f32> = values.windows(2).map(|p| 0.5 * (p[0] + p[1])).collect();
    weights
        .iter()
        .map(|&w| mids.partition_point(|&m| m < w) as u8)
        .collect()
}

/// 16-bit two's-complement fixed point with `frac_bits` fractional bits:
/// `value = code * 2^-frac_bits`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct FixedPoint {
    pub frac_bits: u8,
}

impl FixedPoint {
    /// The finest format whose range holds every value (at most 30
    /// fractional bits, at least 0).
    pub fn fitting(values: &[f32]) -> Self {
        let max = values.iter().fold(0.0f32, |m, v| m.max(v.abs())) as f64;
        let frac_bits = if max == 0.0 || !max.is_finite() {
            15
        } else {
            ((i16::MAX as f64 / max).log2().floor()).clamp(0.0, 30.0) as u8
        };
        FixedPoint { frac_bits }
    }

    pub fn lsb(self) -> f64 {
        (-(self.frac_bits as f64)).exp2()
    }

    /// Nearest code, saturating at the 16-bit range.
    pub fn encode(self, value: f32) -> i16 {
        (value as f64 / self.lsb())
            .round()
            .clamp(i16::MIN as f64, i16::MAX as f64) as i16
    }

    pub fn decode(self, code: i16) -> f32 {
        (code as f64 * self.lsb()) as f32
    }
}
