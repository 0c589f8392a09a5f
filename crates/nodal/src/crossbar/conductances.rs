//! A validated N×M matrix of cell conductances.

use super::CrossbarError;

/// Cell conductances in siemens, row-major (`g[i][j]` joins row `i` to
/// column `j`); every entry finite and non-negative.
#[derive(Debug, Clone, PartialEq)]
pub struct Conductances {
    rows: usize,
    cols: usize,
    data: Vec<f64>,
}

impl Conductances {
    /// Checks and wraps row-major data.
    pub fn new(rows: usize, cols: usize, data: Vec<f64>) -> Result<Self, CrossbarError> {
        let cells = rows
            .checked_mul(cols)
            .ok_or(CrossbarError::TooManyCells { rows, cols })?;
        if data.len() != cells {
            return Err(CrossbarError::SizeMismatch {
                what: "conductances",
                expected: cells,
                found: data.len(),
            });
        }
        if let Some(k) = data.iter().position(|g| !g.is_finite() || *g < 0.0) {
            return Err(CrossbarError::InvalidConductance {
                row: k / cols,
                col: k % cols,
                value: data[k],
            });
        }
        Ok(Self { rows, cols, data })
    }

    /// Builds from a function of `(row, col)`.
    pub fn from_fn(
        rows: usize,
        cols: usize,
        f: impl Fn(usize, usize) -> f64,
    ) -> Result<Self, CrossbarError> {
        let cells = rows
            .checked_mul(cols)
            .ok_or(CrossbarError::TooManyCells { rows, cols })?;
        let data = (0..cells).map(|k| f(k / cols, k % cols)).collect();
        Self::new(rows, cols, data)
    }

    /// Every cell in series with a fixed resistance `r_series` (Ω), e.g. the
    /// on-resistance of a 1T1R access transistor: `1 / (1/g + r_series)`.
    pub fn with_series_resistance(&self, r_series: f64) -> Result<Self, CrossbarError> {
        if !r_series.is_finite() || r_series < 0.0 {
            return Err(CrossbarError::InvalidResistance {
                name: "r_series",
                value: r_series,
            });
        }
        let data = self
            .data
            .iter()
            .map(|&g| {
                if g == 0.0 {
                    0.0
                } else {
                    g / (1.0 + g * r_series)
                }
            })
            .collect();
        Ok(Self {
            rows: self.rows,
            cols: self.cols,
            data,
        })
    }

    pub fn rows(&self) -> usize {
        self.rows
    }

    pub fn cols(&self) -> usize {
        self.cols
    }

    /// Conductance of cell `(i, j)`.
    #[inline]
    pub fn get(&self, i: usize, j: usize) -> f64 {
        self.data[i * self.cols + j]
    }

    /// Row-major data.
    pub fn as_slice(&self) -> &[f64] {
        &self.data
    }

    /// Ideal-wire column currents `Σ_i g[i][j] v_i` (A).
    pub fn ideal_currents(&self, v: &[f64]) -> Vec<f64> {
        let mut out = vec![0.0; self.cols];
        for (row, &vi) in self.data.chunks_exact(self.cols).zip(v) {
            for (o, &g) in out.iter_mut().zip(row) {
                *o += g * vi;
            }
        }
        out
    }
}
