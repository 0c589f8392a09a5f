//! Conjugate gradients on the Schur complement onto the column wires.
//!
//! With the row layer `r` and column layer `c`, the nodal equations are
//! `[T_r  -G; -Gᵀ  T_c] [r; c] = [b_r; b_c]`, where `T_r` is block diagonal
//! with one tridiagonal per row chain, `T_c` one tridiagonal per column
//! chain, and `G` couples `r(i,j)` to `c(i,j)` by the cell conductance.
//! Eliminating the rows exactly (tridiagonal solves, O(N·M)) leaves the SPD
//! system `(T_c - Gᵀ T_r⁻¹ G) c = b_c + Gᵀ T_r⁻¹ b_r`, solved by CG
//! preconditioned with `T_c⁻¹`. Memory and work per iteration are linear in
//! the array size, so arrays far beyond a direct factor's reach fit.
//!
//! Pinned nodes (ideal driver / sense) stay in the layers with an identity
//! equation, so both layers keep a dense regular layout: row node
//! `(i, p)` at `i * row_pos + p`, column node `(p, j)` at `p * cols + j`
//! (column chains are swept with the columns as the inner, vectorisable
//! loop).

use rayon::prelude::*;

use super::direct::Ports;
use super::solution::{build_solution, terminal_currents, Solution};
use super::topology::{Elem, Node, Topology};
use super::{Conductances, Crossbar, CrossbarError};

/// Stopping rule of the iterative solver.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct IterativeOptions {
    /// Stop when the preconditioned system's residual norm falls below this
    /// fraction of its right-hand side norm.
    pub rel_tol: f64,
    pub max_iterations: usize,
}

impl Default for IterativeOptions {
    fn default() -> Self {
        Self {
            rel_tol: 1e-13,
            max_iterations: 20_000,
        }
    }
}

/// Result of an iterative solve.
#[derive(Debug, Clone)]
pub struct IterativeSolution {
    pub solution: Solution,
    pub iterations: usize,
    /// Final residual norm over right-hand side norm.
    pub relative_residual: f64,
}

/// Block size of deterministic reductions: partial sums per block are added
/// in block order, so dot products do not depend on the thread count.
const BLOCK: usize = 1 << 14;

fn dot(a: &[f64], b: &[f64]) -> f64 {
    let partial: Vec<f64> = a
        .par_chunks(BLOCK)
        .zip(b.par_chunks(BLOCK))
        .map(|(x, y)| x.iter().zip(y).map(|(p, q)| p * q).sum::<f64>())
        .collect();
    partial.iter().sum()
}

/// LDLᵀ of a set of tridiagonal chains sharing one layout:
/// `y = T⁻¹ b` is `z_p = b_p - lo_p z_{p-1}`, `y_p = z_p inv_p - up_p y_{p+1}`.
struct Chains {
    inv: Vec<f64>,
    lo: Vec<f64>,
    up: Vec<f64>,
}

impl Chains {
    /// `diag[k]`, `off[k]` (coupling of position `k` to the next one along
    /// the chain, `stride` away); `len` positions per chain.
    fn factor(diag: &[f64], off: &[f64], len: usize, stride: usize) -> Self {
        let n = diag.len();
        let (mut inv, mut lo, mut up) = (vec![0.0; n], vec![0.0; n], vec![0.0; n]);
        let chains = n / len;
        let at = |c: usize, p: usize| {
            if stride == 1 {
                c * len + p
            } else {
                p * stride + c
            }
        };
        let mut w_prev = vec![0.0; chains];
        let mut visit = |c: usize, p: usize| {
            let k = at(c, p);
            let mut w = diag[k];
            if p > 0 {
                let e = off[at(c, p - 1)];
                lo[k] = e / w_prev[c];
                w -= e * lo[k];
            }
            inv[k] = 1.0 / w;
            up[k] = if p + 1 < len { off[k] * inv[k] } else { 0.0 };
            w_prev[c] = w;
        };
        // Walk memory in order: contiguous chains one after another,
        // interleaved chains (stride = number of chains) position by position.
        if stride == 1 {
            for c in 0..chains {
                for p in 0..len {
                    visit(c, p);
                }
            }
        } else {
            for p in 0..len {
                for c in 0..chains {
                    visit(c, p);
                }
            }
        }
        Self { inv, lo, up }
    }

    /// In-place solve for contiguous chains of length `len`.
    fn solve_contiguous(&self, b: &mut [f64], len: usize) {
        b.par_chunks_mut(len.max(BLOCK / len * len))
            .enumerate()
            .for_each(|(blk, chunk)| {
                let base = blk * len.max(BLOCK / len * len);
                for (c, y) in chunk.chunks_exact_mut(len).enumerate() {
                    let o = base + c * len;
                    let (inv, lo, up) = (
                        &self.inv[o..o + len],
                        &self.lo[o..o + len],
                        &self.up[o..o + len],
                    );
                    for p in 1..len {
                        y[p] -= lo[p] * y[p - 1];
                    }
                    y[len - 1] *= inv[len - 1];
                    for p in (0..len - 1).rev() {
                        y[p] = y[p] * inv[p] - up[p] * y[p + 1];
                    }
                }
            });
    }

    /// In-place solve for `width` interleaved chains (position-major).
    fn solve_interleaved(&self, b: &mut [f64], len: usize, width: usize) {
        let split = width.div_ceil(rayon::current_num_threads().max(1)).max(256);
        let parts: Vec<(usize, usize)> = (0..width)
            .step_by(split)
            .map(|s| (s, (s + split).min(width)))
            .collect();
        let ptr = SyncPtr(b.as_mut_ptr());
        parts.par_iter().for_each(|&(j0, j1)| {
            let ptr = &ptr;
            // SAFETY: each task touches only columns j0..j1 of every position,
            // disjoint from every other task's columns.
            let y = unsafe { std::slice::from_raw_parts_mut(ptr.0, len * width) };
            for p in 1..len {
                let (prev, cur) = y[(p - 1) * width..(p + 1) * width].split_at_mut(width);
                let lo = &self.lo[p * width..(p + 1) * width];
                for j in j0..j1 {
                    cur[j] -= lo[j] * prev[j];
                }
            }
            let last = (len - 1) * width;
            for j in j0..j1 {
                y[last + j] *= self.inv[last + j];
            }
            for p in (0..len - 1).rev() {
                let (cur, next) = y[p * width..(p + 2) * width].split_at_mut(width);
                let (inv, up) = (
                    &self.inv[p * width..(p + 1) * width],
                    &self.up[p * width..(p + 1) * width],
                );
                for j in j0..j1 {
                    cur[j] = cur[j] * inv[j] - up[j] * next[j];
                }
            }
        });
    }
}

struct SyncPtr(*mut f64);
// SAFETY: used only to hand disjoint column ranges to rayon tasks.
unsafe impl Sync for SyncPtr {}

/// The reduced system for one conductance sample.
struct Reduced<'t> {
    topo: &'t Topology,
    rows: Chains,
    cols: Chains,
    col_diag: Vec<f64>,
    col_off: Vec<f64>,
    /// Cell coupling (0 where either end is pinned), row-major N×M.
    couple: Vec<f64>,
}

impl Reduced<'_> {
    #[inline]
    fn rpos(&self, i: usize, j: usize) -> usize {
        i * self.topo.row_pos + if self.topo.row_pos > 1 { j } else { 0 }
    }

    #[inline]
    fn cpos(&self, i: usize, j: usize) -> usize {
        (if self.topo.col_pos > 1 { i } else { 0 }) * self.topo.cols + j
    }

    /// `t = G x` (column layer → row layer).
    fn couple_to_rows(&self, x: &[f64], t: &mut [f64]) {
        let m = self.topo.cols;
        if self.topo.row_pos > 1 && self.topo.col_pos > 1 {
            t.par_chunks_mut(m)
                .zip(x.par_chunks(m))
                .zip(self.couple.par_chunks(m))
                .for_each(|((t, x), g)| {
                    for ((t, x), g) in t.iter_mut().zip(x).zip(g) {
                        *t = g * x;
                    }
                });
        } else {
            t.iter_mut().for_each(|t| *t = 0.0);
            for i in 0..self.topo.rows {
                for j in 0..m {
                    t[self.rpos(i, j)] += self.couple[i * m + j] * x[self.cpos(i, j)];
                }
            }
        }
    }

    /// `y -= Gᵀ u` (row layer → column layer).
    fn couple_to_cols(&self, u: &[f64], y: &mut [f64]) {
        let m = self.topo.cols;
        if self.topo.row_pos > 1 && self.topo.col_pos > 1 {
            y.par_chunks_mut(m)
                .zip(u.par_chunks(m))
                .zip(self.couple.par_chunks(m))
                .for_each(|((y, u), g)| {
                    for ((y, u), g) in y.iter_mut().zip(u).zip(g) {
                        *y -= g * u;
                    }
                });
        } else {
            for i in 0..self.topo.rows {
                for j in 0..m {
                    y[self.cpos(i, j)] -= self.couple[i * m + j] * u[self.rpos(i, j)];
                }
            }
        }
    }

    fn row_solve(&self, t: &mut [f64]) {
        self.rows.solve_contiguous(t, self.topo.row_pos);
    }

    fn col_solve(&self, t: &mut [f64]) {
        self.cols
            .solve_interleaved(t, self.topo.col_pos, self.topo.cols);
    }

    /// `y = T_c x` (tridiagonal column chains).
    fn col_apply(&self, x: &[f64], y: &mut [f64]) {
        let (m, len) = (self.topo.cols, self.topo.col_pos);
        y.par_chunks_mut(m).enumerate().for_each(|(p, yp)| {
            let base = p * m;
            for (j, out) in yp.iter_mut().enumerate() {
                let k = base + j;
                let mut s = self.col_diag[k] * x[k];
                if p > 0 {
                    s += self.col_off[k - m] * x[k - m];
                }
                if p + 1 < len {
                    s += self.col_off[k] * x[k + m];
                }
                *out = s;
            }
        });
    }

    /// `y = S x` with `S = T_c - Gᵀ T_r⁻¹ G`; `t` is row-layer scratch.
    fn schur_apply(&self, x: &[f64], y: &mut [f64], t: &mut [f64]) {
        self.couple_to_rows(x, t);
        self.row_solve(t);
        self.col_apply(x, y);
        self.couple_to_cols(t, y);
    }
}

impl Crossbar {
    /// Solves one input vector with preconditioned conjugate gradients
    /// (no factorisation; linear memory). Use for arrays too large for
    /// [`factor`](Crossbar::factor).
    pub fn solve_iterative(
        &self,
        g: &Conductances,
        v: &[f64],
        options: IterativeOptions,
    ) -> Result<IterativeSolution, CrossbarError> {
        let (free, iterations, relative_residual) = self.iterate(g, v, options)?;
        let solution = build_solution(&self.topo, &free, v, &|i, j, vc| g.get(i, j) * vc);
        Ok(IterativeSolution {
            solution,
            iterations,
            relative_residual,
        })
    }

    /// Monte Carlo over conductance samples of this geometry: for each
    /// sample, refactor the chain tridiagonals and solve by PCG for the same
    /// inputs `v`; samples run in parallel. Column currents per sample, in
    /// sample order (bit-identical for any thread count).
    pub fn monte_carlo(
        &self,
        samples: &[Conductances],
        v: &[f64],
        options: IterativeOptions,
    ) -> Result<Vec<Vec<f64>>, CrossbarError> {
        samples
            .par_iter()
            .map(|g| {
                let (free, _, _) = self.iterate(g, v, options)?;
                Ok(terminal_currents(&self.topo, &free, v, &|i, j, vc| g.get(i, j) * vc).0)
            })
            .collect()
    }

    /// Free node voltages (direct-solver numbering), iterations, residual.
    fn iterate(
        &self,
        g: &Conductances,
        v: &[f64],
        options: IterativeOptions,
    ) -> Result<(Vec<f64>, usize, f64), CrossbarError> {
        self.check_conductances(g)?;
        self.check_inputs(v)?;
        let topo = &self.topo;
        let (nr, nc) = (topo.rows * topo.row_pos, topo.col_pos * topo.cols);
        // Where each free unknown lives in the two layers.
        let mut layer_of = vec![(false, 0usize); topo.n];
        for i in 0..topo.rows {
            for p in 0..topo.row_pos {
                if let Node::Free(k) = topo.row_at(i, p) {
                    layer_of[k] = (false, i * topo.row_pos + p);
                }
            }
        }
        for p in 0..topo.col_pos {
            for j in 0..topo.cols {
                if let Node::Free(k) = topo.col_at(p, j) {
                    layer_of[k] = (true, p * topo.cols + j);
                }
            }
        }
        let (mut row_diag, mut row_off) = (vec![0.0; nr], vec![0.0; nr]);
        let (mut col_diag, mut col_off) = (vec![0.0; nc], vec![0.0; nc]);
        let mut couple = vec![0.0; topo.rows * topo.cols];
        let gs = g.as_slice();
        topo.for_each_element(|a, b, e| {
            let value = match e {
                Elem::Wire(w) => w,
                Elem::Cell(i, j) => gs[i * topo.cols + j],
            };
            let mut add_diag = |node: Node| {
                if let Node::Free(k) = node {
                    match layer_of[k] {
                        (false, at) => row_diag[at] += value,
                        (true, at) => col_diag[at] += value,
                    }
                }
            };
            add_diag(a);
            add_diag(b);
            if let (Node::Free(p), Node::Free(q)) = (a, b) {
                match (e, layer_of[p], layer_of[q]) {
                    (Elem::Cell(i, j), _, _) => couple[i * topo.cols + j] = value,
                    (Elem::Wire(_), (false, x), (false, y)) => row_off[x.min(y)] = -value,
                    (Elem::Wire(_), (true, x), (true, y)) => col_off[x.min(y)] = -value,
                    _ => unreachable!("wires join nodes of one layer"),
                }
            }
        });
        // Pinned positions get an identity equation; a free node with no
        // conductance at all has no defined voltage.
        for i in 0..topo.rows {
            for p in 0..topo.row_pos {
                let at = i * topo.row_pos + p;
                match topo.row_at(i, p) {
                    Node::Free(k) if row_diag[at] <= 0.0 => {
                        return Err(CrossbarError::Singular(format!(
                            "{} is isolated",
                            topo.describe(k)
                        )))
                    }
                    Node::Free(_) => {}
                    _ => row_diag[at] = 1.0,
                }
            }
        }
        for p in 0..topo.col_pos {
            for j in 0..topo.cols {
                let at = p * topo.cols + j;
                match topo.col_at(p, j) {
                    Node::Free(k) if col_diag[at] <= 0.0 => {
                        return Err(CrossbarError::Singular(format!(
                            "{} is isolated",
                            topo.describe(k)
                        )))
                    }
                    Node::Free(_) => {}
                    _ => col_diag[at] = 1.0,
                }
            }
        }
        let red = Reduced {
            topo,
            rows: Chains::factor(&row_diag, &row_off, topo.row_pos, 1),
            cols: Chains::factor(&col_diag, &col_off, topo.col_pos, topo.cols),
            col_diag,
            col_off,
            couple,
        };
        if red
            .rows
            .inv
            .iter()
            .chain(&red.cols.inv)
            .any(|w| !w.is_finite() || *w <= 0.0)
        {
            return Err(CrossbarError::Singular(
                "a row or column chain has no conducting path to a source or ground".into(),
            ));
        }

        // Right-hand sides of both layers.
        let ports = Ports::new(topo, gs);
        let (mut br, mut bc) = (vec![0.0; nr], vec![0.0; nc]);
        for &(k, i, gv) in &ports.inject {
            match layer_of[k] {
                (false, at) => br[at] += gv * v[i],
                (true, at) => bc[at] += gv * v[i],
            }
        }
        // Reduced right-hand side b_c + Gᵀ T_r⁻¹ b_r.
        let mut t = br.clone();
        red.row_solve(&mut t);
        let mut rhs = bc.clone();
        let mut neg = vec![0.0; nc];
        red.couple_to_cols(&t, &mut neg);
        for (r, n) in rhs.iter_mut().zip(&neg) {
            *r -= n;
        }

        let (x, iterations, relative_residual) = pcg(&red, &rhs, &mut t, options)?;

        // Back-substitute the rows: r = T_r⁻¹ (b_r + G c).
        let mut xr = vec![0.0; nr];
        red.couple_to_rows(&x, &mut xr);
        for (a, b) in xr.iter_mut().zip(&br) {
            *a += b;
        }
        red.row_solve(&mut xr);
        let free: Vec<f64> = layer_of
            .iter()
            .map(|&(is_col, at)| if is_col { x[at] } else { xr[at] })
            .collect();
        Ok((free, iterations, relative_residual))
    }
}

fn pcg(
    red: &Reduced,
    b: &[f64],
    scratch: &mut [f64],
    opts: IterativeOptions,
) -> Result<(Vec<f64>, usize, f64), CrossbarError> {
    let n = b.len();
    let b_norm = dot(b, b).sqrt();
    let mut x = vec![0.0; n];
    if b_norm == 0.0 {
        return Ok((x, 0, 0.0));
    }
    // Initial guess: T_c⁻¹ b (exact when the cells do not load the rows).
    let mut r = b.to_vec();
    let mut z = vec![0.0; n];
    let mut q = vec![0.0; n];
    x.copy_from_slice(b);
    red.col_solve(&mut x);
    red.schur_apply(&x, &mut q, scratch);
    r.par_iter_mut().zip(&q).for_each(|(r, q)| *r -= q);
    z.copy_from_slice(&r);
    red.col_solve(&mut z);
    let mut p = z.clone();
    let mut rz = dot(&r, &z);
    let mut res = dot(&r, &r).sqrt() / b_norm;
    for it in 0..opts.max_iterations {
        if res <= opts.rel_tol {
            return Ok((x, it, res));
        }
        red.schur_apply(&p, &mut q, scratch);
        let pq = dot(&p, &q);
        if pq <= 0.0 || !pq.is_finite() {
            return Err(CrossbarError::Singular(
                "reduced column system is not positive definite".into(),
            ));
        }
        let alpha = rz / pq;
        x.par_iter_mut().zip(&p).for_each(|(x, p)| *x += alpha * p);
        r.par_iter_mut().zip(&q).for_each(|(r, q)| *r -= alpha * q);
        z.copy_from_slice(&r);
        red.col_solve(&mut z);
        let rz_new = dot(&r, &z);
        let beta = rz_new / rz;
        rz = rz_new;
        p.par_iter_mut()
            .zip(&z)
            .for_each(|(p, z)| *p = z + beta * *p);
        res = dot(&r, &r).sqrt() / b_norm;
    }
    Err(CrossbarError::IterativeNoConvergence {
        iterations: opts.max_iterations,
        residual: res,
    })
}
