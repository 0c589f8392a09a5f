//! The trained network as the accelerator stores it, and its file format.
//!
//! # The `.xbm` format (version 1)
//! A gzip stream (whose CRC-32 and length catch corruption and truncation)
//! holding, little-endian:
//!
//! | field | type |
//! | --- | --- |
//! | magic `XBARSNN\0` | 8 bytes |
//! | version = 1 | u32 |
//! | number of layers L | u32 |
//! | L layer records | |
//!
//! Each layer record:
//!
//! | field | type |
//! | --- | --- |
//! | inputs `n_in`, outputs `n_out` | u32, u32 |
//! | fractional bits `f` of the 16-bit fixed point | u8 |
//! | the 16 shared values | 16 x f32 |
//! | their 16-bit codes (`value = code * 2^-f`) | 16 x i16 |
//! | maximum activation, percentile activation, the percentile (e.g. 99.9) | 3 x f32 |
//! | 4-bit indices, synapse `k = i * n_out + j` in byte `k / 2`, low nibble first | ceil(n_in n_out / 2) bytes |
//!
//! The activations are the ANN's positive outputs of that layer over the
//! calibration images: the data-based normalisation scales.

use std::io::{Read, Write};
use std::path::{Path, PathBuf};

use flate2::read::GzDecoder;
use flate2::write::GzEncoder;

use crate::mlp::{ActivationScale, Layer, Mlp};
use crate::quant::{FixedPoint, SharedWeights, LEVELS};

const MAGIC: &[u8; 8] = b"XBARSNN\0";
const VERSION: u32 = 1;
/// Larger layers than this are certainly a corrupt header.
const MAX_NEURONS: u32 = 1 << 20;

/// Why a model cannot be built, read or written.
#[derive(Debug, thiserror::Error)]
pub enum ModelError {
    #[error("{}: {source}", .path.display())]
    Io {
        path: PathBuf,
        source: std::io::Error,
    },
    #[error("{}: not a valid xbar model: {reason}", .path.display())]
    Format { path: PathBuf, reason: String },
    #[error("layer {layer} has no shared weights; cluster the network before saving it")]
    NotShared { layer: usize },
    #[error("expected {expected} normalisation scales (one per layer), got {got}")]
    Scales { expected: usize, got: usize },
}

/// One layer: 16 shared weights in 16-bit fixed point, a 4-bit index per
/// synapse, and the normalisation scales of its output.
#[derive(Clone, Debug, PartialEq)]
pub struct ModelLayer {
    pub n_in: usize,
    pub n_out: usize,
    pub format: FixedPoint,
    /// The shared values as trained (`f32`).
    pub values: Vec<f32>,
    /// The 16-bit codes the hardware stores.
    pub codes: Vec<i16>,
    /// `n_in * n_out` indices (< 16), row-major by input.
    pub index: Vec<u8>,
    pub scale: ActivationScale,
    /// The percentile `scale.percentile` stands for, e.g. 99.9.
    pub percentile: f32,
}

impl ModelLayer {
    /// The shared weights as the hardware has them (decoded 16-bit codes).
    pub fn table(&self) -> Vec<f32> {
        self.codes.iter().map(|&c| self.format.decode(c)).collect()
    }

    /// Dense row-major weights (`n_in x n_out`) from the 16-bit table.
    pub fn dense(&self) -> Vec<f32> {
        let table = self.table();
        self.index.iter().map(|&k| table[k as usize]).collect()
    }
}

/// A network with shared weights, ready for conversion to an SNN.
#[derive(Clone, Debug, PartialEq)]
pub struct SharedModel {
    pub layers: Vec<ModelLayer>,
}

impl SharedModel {
    /// Takes a network whose layers are all clustered, rounds the shared
    /// values to 16-bit fixed point and attaches the normalisation scales.
    pub fn from_mlp(
        mlp: &Mlp,
        scales: &[ActivationScale],
        percentile: f32,
    ) -> Result<Self, ModelError> {
        if scales.len() != mlp.layers.len() {
            return Err(ModelError::Scales {
                expected: mlp.layers.len(),
                got: scales.len(),
            });
        }
        let layers = mlp
            .layers
            .iter()
            .zip(scales)
            .enumerate()
            .map(|(l, (layer, &scale))| {
                let shared = layer
                    .shared
                    .as_ref()
                    .ok_or(ModelError::NotShared { layer: l })?;
                let format = FixedPoint::fitting(&shared.values);
                Ok(ModelLayer {
                    n_in: layer.n_in,
                    n_out: layer.n_out,
                    format,
                    values: shared.values.clone(),
                    codes: shared.values.iter().map(|&v| format.encode(v)).collect(),
                    index: shared.index.clone(),
                    scale,
                    percentile,
                })
            })
            .collect::<Result<Vec<_>, _>>()?;
        Ok(SharedModel { layers })
    }

    /// The equivalent ANN using the 16-bit shared weights.
    pub fn to_mlp(&self) -> Mlp {
        Mlp {
            layers: self
                .layers
                .iter()
                .map(|l| Layer {
                    n_in: l.n_in,
                    n_out: l.n_out,
                    weights: l.dense(),
                    shared: Some(SharedWeights {
                        values: l.table(),
                        index: l.index.clone(),
                    }),
                })
                .collect(),
        }
    }

    /// Layer sizes, input first.
    pub fn sizes(&self) -> Vec<usize> {
        let mut s = vec![self.layers.first().map_or(0, |l| l.n_in)];
        s.extend(self.layers.iter().map(|l| l.n_out));
        s
    }

    /// Serialises into the (uncompressed) record stream.
    pub fn to_bytes(&self) -> Vec<u8> {
        let mut out = Vec::new();
        out.extend_from_slice(MAGIC);
        out.extend_from_slice(&VERSION.to_le_bytes());
        out.extend_from_slice(&(self.layers.len() as u32).to_le_bytes());
        for l in &self.layers {
            out.extend_from_slice(&(l.n_in as u32).to_le_bytes());
            out.extend_from_slice(&(l.n_out as u32).to_le_bytes());
            out.push(l.format.frac_bits);
            for v in &l.values {
                out.extend_from_slice(&v.to_le_bytes());
            }
            for c in &l.codes {
                out.extend_from_slice(&c.to_le_bytes());
            }
            for v in [l.scale.max, l.scale.percentile, l.percentile] {
                out.extend_from_slice(&v.to_le_bytes());
            }
            for pair in l.index.chunks(2) {
                out.push((pair[0] & 0x0f) | (pair.get(1).copied().unwrap_or(0) << 4));
            }
        }
        out
    }

    /// Parses the record stream; `path` only names the source in errors.
    pub fn from_bytes(bytes: &[u8], path: &Path) -> Result<Self, ModelError> {
        let mut r = Reader {
            bytes,
            pos: 0,
            path,
        };
        if r.take(8)? != MAGIC {
            return Err(r.error("wrong magic (not an xbar model file)".into()));
        }
        let version = r.u32()?;
        if version != VERSION {
            return Err(r.error(format!("version {version}, this build reads {VERSION}")));
        }
        let n_layers = r.u32()?;
        if n_layers == 0 || n_layers > 64 {
            return Err(r.error(format!("{n_layers} layers")));
        }
        let mut layers = Vec::with_capacity(n_layers as usize);
        for l in 0..n_layers as usize {
            let (n_in, n_out) = (r.u32()?, r.u32()?);
            if n_in == 0 || n_out == 0 || n_in > MAX_NEURONS || n_out > MAX_NEURONS {
                return Err(r.error(format!("layer {l} is {n_in} x {n_out}")));
            }
            let (n_in, n_out) = (n_in as usize, n_out as usize);
            if let Some(prev) = layers.last().map(|p: &ModelLayer| p.n_out) {
                if prev != n_in {
                    return Err(r.error(format!(
                        "layer {l} has {n_in} inputs but layer {} has {prev} outputs",
                        l - 1
                    )));
                }
            }
            let frac_bits = r.take(1)?[0];
            if frac_bits > 30 {
                return Err(r.error(format!("layer {l}: {frac_bits} fractional bits")));
            }
            let format = FixedPoint { frac_bits };
            let values = (0..LEVELS)
                .map(|_| r.f32())
                .collect::<Result<Vec<_>, _>>()?;
            let codes = (0..LEVELS)
                .map(|_| r.take(2).map(|b| i16::from_le_bytes([b[0], b[1]])))
                .collect::<Result<Vec<_>, _>>()?;
            for (k, (&v, &c)) in values.iter().zip(&codes).enumerate() {
                if !v.is_finite() || (v as f64 - format.decode(c) as f64).abs() > format.lsb() {
                    return Err(r.error(format!(
                        "layer {l}: shared value {k} = {v} does not match its 16-bit code {c}"
                    )));
                }
            }
            let (max, pct, percentile) = (r.f32()?, r.f32()?, r.f32()?);
            for (name, v) in [("maximum", max), ("percentile", pct)] {
                if !(v.is_finite() && v > 0.0) {
                    return Err(r.error(format!("layer {l}: {name} activation {v}")));
                }
            }
            let packed = r.take((n_in * n_out).div_ceil(2))?;
            let mut index = Vec::with_capacity(n_in * n_out);
            for &b in packed {
                index.push(b & 0x0f);
                index.push(b >> 4);
            }
            index.truncate(n_in * n_out);
            layers.push(ModelLayer {
                n_in,
                n_out,
                format,
                values,
                codes,
                index,
                scale: ActivationScale {
                    max,
                    percentile: pct,
                },
                percentile,
            });
        }
        if r.pos != bytes.len() {
            return Err(r.error(format!(
                "{} bytes after the last layer",
                bytes.len() - r.pos
            )));
        }
        Ok(SharedModel { layers })
    }

    /// Writes the gzip-compressed model atomically.
    pub fn save(&self, path: &Path) -> Result<(), ModelError> {
        let bytes = self.to_bytes();
        crate::atomic_write(path, |w| {
            let mut gz = GzEncoder::new(w, flate2::Compression::best());
            gz.write_all(&bytes)?;
            gz.finish().map(|_| ())
        })
        .map_err(|source| ModelError::Io {
            path: path.to_path_buf(),
            source,
        })
    }

    pub fn load(path: &Path) -> Result<Self, ModelError> {
        let file = std::fs::File::open(path).map_err(|source| ModelError::Io {
            path: path.to_path_buf(),
            source,
        })?;
        let mut bytes = Vec::new();
        GzDecoder::new(std::io::BufReader::new(file))
            .read_to_end(&mut bytes)
            .map_err(|e| ModelError::Format {
                path: path.to_path_buf(),
                reason: format!("the gzip stream is corrupt or truncated ({e})"),
            })?;
        Self::from_bytes(&bytes, path)
    }
}

struct Reader<'a> {
    bytes: &'a [u8],
    pos: usize,
    path: &'a Path,
}

impl<'a> Reader<'a> {
    fn error(&self, reason: String) -> ModelError {
        ModelError::Format {
            path: self.path.to_path_buf(),
            reason: format!("{reason} (at byte {})", self.pos),
        }
    }

    fn take(&mut self, n: usize) -> Result<&'a [u8], ModelError> {
        if self.bytes.len() - self.pos < n {
            return Err(self.error(format!("truncated: needed {n} more bytes")));
        }
        let s = &self.bytes[self.pos..self.pos + n];
        self.pos += n;
        Ok(s)
    }

    fn u32(&mut self) -> Result<u32, ModelError> {
        let b = self.take(4)?;
        Ok(u32::from_le_bytes([b[0], b[1], b[2], b[3]]))
    }

    fn f32(&mut self) -> Result<f32, ModelError> {
        let b = self.take(4)?;
        Ok(f32::from_le_bytes([b[0], b[1], b[2], b[3]]))
    }
}
