//! Sparse Cholesky of the crossbar's nodal matrix (faer): symbolic analysis
//! once per geometry, numeric factorisation per conductance sample, and the
//! effective matrix from the trailing "port" block of the factor.
//!
//! # Ports last
//! The matrix factored is the nodal matrix of the free unknowns bordered by
//! the port nodes whose voltages are imposed: one source node per driven row
//! and one virtual-ground node per column, ordered last,
//! `M = [K  K_pb; K_bp  K_bb + δ]`. The interior block `K` is factored
//! exactly as without the border, so solves for node voltages use it alone
//! (forward substitution, port part set to zero, back substitution). The
//! trailing block of the factor is the Schur complement of the interior
//! onto the ports, `L_bb L_bbᵀ = S + δ` with `S = K_bb - K_bp K⁻¹ K_pb`:
//! the network's conductance matrix seen from its terminals. The column
//! currents for terminal voltages `(v, 0)` are `-S_gs v`, so the effective
//! matrix is `A = -S_gs = -L_gs L_ssᵀ` (sources ordered before grounds), a
//! product of two dense port-size blocks; the diagonal shift `δ`, needed
//! because `S` is singular (constant voltages carry no current), does not
//! enter an off-diagonal block. With separate sources and grounds as ports
//! an ideal driver or sense input adds no ports: there are always at most
//! `rows + cols`.

use faer::dyn_stack::{MemBuffer, MemStack, StackReq};
use faer::linalg::matmul::matmul;
use faer::linalg::matmul::triangular::{self, BlockStructure};
use faer::linalg::solvers::LltError;
use faer::linalg::triangular_solve::{
    solve_lower_triangular_in_place, solve_upper_triangular_in_place,
};
use faer::perm::PermRef;
use faer::reborrow::{Reborrow, ReborrowMut};
use faer::sparse::linalg::cholesky::supernodal::{SupernodalLltRef, SymbolicSupernodalCholesky};
use faer::sparse::linalg::cholesky::{
    factorize_symbolic_cholesky, CholeskySymbolicParams, LltRef, SymbolicCholesky,
    SymbolicCholeskyRaw, SymmetricOrdering,
};
use faer::sparse::linalg::SupernodalThreshold;
use faer::sparse::{SparseColMatRef, SymbolicSparseColMatRef};
use faer::{Accum, Conj, Mat, MatMut, Par, Side, Spec};
use rayon::prelude::*;
use std::sync::OnceLock;

use super::ordering::interior_order;
use super::solution::{build_solution, Solution};
use super::topology::{Elem, Node, Topology};
use super::{Conductances, Crossbar, CrossbarError};

const NONE: usize = usize::MAX;
/// Right-hand sides per batch: fixed (not derived from the thread count) so
/// results are bit-identical however many threads rayon uses.
const RHS_CHUNK: usize = 32;
/// Diagonal shift of the port block relative to the largest diagonal entry
/// of the matrix. It only has to dominate the rounding of the Schur
/// complement (a few ulps of the largest conductance), and it does not
/// change the effective matrix, an off-diagonal block.
const PORT_SHIFT: f64 = 1e-9;

/// Fill-reducing ordering of the direct solver.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum DirectOrdering {
    /// faer's approximate minimum degree on the whole matrix: the plain
    /// sparse Cholesky baseline. Effective matrices need one full solve per
    /// input.
    Amd,
    /// The interior unknowns by nested dissection along rows and columns
    /// (minimum degree when a wire is ideal), the port nodes (sources and
    /// virtual grounds) last. The effective matrix is then a product of
    /// two blocks of the factor's trailing port block.
    PortsLast,
}

impl DirectOrdering {
    /// Ports-last: its border never holds more than `rows + cols` nodes,
    /// whatever the parasitics.
    pub(crate) fn default_for(_topo: &Topology) -> Self {
        DirectOrdering::PortsLast
    }
}

/// The port nodes bordering the interior (ports-last ordering only).
#[derive(Debug, Default)]
struct Border {
    /// Driven rows, in the order of their source nodes (`n + t`).
    source_rows: Vec<usize>,
    /// Source node of each row, NONE for a floating row.
    source_of: Vec<usize>,
    /// Number of columns (ground nodes `n + source_rows.len() + j`).
    grounds: usize,
}

impl Border {
    fn len(&self) -> usize {
        self.source_rows.len() + self.grounds
    }
}

/// Symbolic analysis and assembly map of one geometry.
#[derive(Debug)]
pub(crate) struct Symbolic {
    /// Free unknowns: the leading block of the matrix.
    n: usize,
    border: Border,
    col_ptr: Vec<usize>,
    row_idx: Vec<usize>,
    /// Matrix values contributed by wires, drivers and sense inputs.
    base: Vec<f64>,
    /// Per cell: value slots of (row-node diagonal, column-node diagonal,
    /// off-diagonal), NONE where that node is not an unknown.
    cell_slots: Vec<[usize; 3]>,
    /// Natural index of each permuted position.
    perm_fwd: Vec<usize>,
    chol: SymbolicCholesky<usize>,
    /// Workspace of one numeric factorisation (computing it walks the
    /// whole supernodal structure, so it is done once).
    factor_scratch: StackReq,
}

fn slot(col_ptr: &[usize], row_idx: &[usize], col: usize, row: usize) -> usize {
    let (lo, hi) = if row >= col { (col, row) } else { (row, col) };
    let start = col_ptr[lo];
    let pos = row_idx[start..col_ptr[lo + 1]]
        .binary_search(&hi)
        .unwrap_or_else(|_| unreachable!("pattern built from the same elements"));
    start + pos
}

impl Symbolic {
    pub(crate) fn new(topo: &Topology, ordering: DirectOrdering) -> Result<Self, CrossbarError> {
        let n = topo.n;
        let border = match ordering {
            // Every node pinned: nothing to factor.
            _ if n == 0 => Border::default(),
            DirectOrdering::Amd => Border::default(),
            DirectOrdering::PortsLast => {
                let mut border = Border {
                    source_rows: Vec::new(),
                    source_of: vec![NONE; topo.rows],
                    grounds: topo.cols,
                };
                for (i, &mode) in topo.modes.iter().enumerate() {
                    if mode == super::RowMode::Driven {
                        border.source_of[i] = n + border.source_rows.len();
                        border.source_rows.push(i);
                    }
                }
                border
            }
        };
        let dim = n + border.len();
        let ground0 = n + border.source_rows.len();
        let index = |node: Node| match node {
            Node::Free(k) => k,
            Node::Source(i) if border.grounds > 0 => border.source_of[i],
            Node::Ground(j) if border.grounds > 0 => ground0 + j,
            _ => NONE,
        };
        // Lower-triangle pattern: diagonal plus one entry per element
        // joining two unknowns.
        let mut pairs: Vec<(usize, usize)> = (0..dim).map(|k| (k, k)).collect();
        topo.for_each_element(|a, b, _| {
            let (p, q) = (index(a), index(b));
            if p != NONE && q != NONE {
                pairs.push((p.min(q), p.max(q)));
            }
        });
        pairs.sort_unstable();
        pairs.dedup();
        let mut col_ptr = vec![0usize; dim + 1];
        for &(c, _) in &pairs {
            col_ptr[c + 1] += 1;
        }
        for c in 0..dim {
            col_ptr[c + 1] += col_ptr[c];
        }
        let row_idx: Vec<usize> = pairs.iter().map(|&(_, r)| r).collect();
        drop(pairs);

        let mut base = vec![0.0; row_idx.len()];
        let mut cell_slots = vec![[NONE; 3]; topo.rows * topo.cols];
        topo.for_each_element(|a, b, e| {
            let (p, q) = (index(a), index(b));
            let diag = |k: usize| if k == NONE { NONE } else { col_ptr[k] };
            let (da, db) = (diag(p), diag(q));
            let off = if p != NONE && q != NONE {
                slot(&col_ptr, &row_idx, p, q)
            } else {
                NONE
            };
            match e {
                Elem::Wire(g) => {
                    for s in [da, db] {
                        if s != NONE {
                            base[s] += g;
                        }
                    }
                    if off != NONE {
                        base[off] -= g;
                    }
                }
                Elem::Cell(i, j) => cell_slots[i * topo.cols + j] = [da, db, off],
            }
        });

        debug_assert!(
            border.len() == 0
                || topo
                    .ports()
                    .iter()
                    .all(|&k| row_idx[col_ptr[k]..col_ptr[k + 1]].iter().any(|&r| r >= n)),
            "every free node a source or ground touches must couple to the border"
        );
        let pattern = SymbolicSparseColMatRef::new_checked(dim, dim, &col_ptr, None, &row_idx);
        let mut params = CholeskySymbolicParams::default();
        let (chol, perm_fwd) = match ordering {
            DirectOrdering::Amd => {
                let chol = factorize_symbolic_cholesky(
                    pattern,
                    Side::Lower,
                    SymmetricOrdering::Amd,
                    params,
                )
                .map_err(|_| CrossbarError::OutOfMemory)?;
                let fwd = match chol.perm() {
                    Some(p) => p.arrays().0.to_vec(),
                    None => (0..dim).collect(),
                };
                (chol, fwd)
            }
            DirectOrdering::PortsLast => {
                let mut fwd = interior_order(topo, &col_ptr, &row_idx)?;
                fwd.extend(n..dim);
                let mut inv = vec![0usize; dim];
                for (new, &old) in fwd.iter().enumerate() {
                    inv[old] = new;
                }
                // The port block is read straight out of the supernodes, and
                // the interior solves stop at the first port column.
                params.supernodal_flop_ratio_threshold = SupernodalThreshold::FORCE_SUPERNODAL;
                let perm = PermRef::new_checked(&fwd, &inv, dim);
                let chol = factorize_symbolic_cholesky(
                    pattern,
                    Side::Lower,
                    SymmetricOrdering::Custom(perm),
                    params,
                )
                .map_err(|_| CrossbarError::OutOfMemory)?;
                (chol, fwd)
            }
        };
        let factor_scratch = chol.factorize_numeric_llt_scratch::<f64>(Par::Seq, Spec::default());
        Ok(Self {
            n,
            border,
            col_ptr,
            row_idx,
            base,
            cell_slots,
            perm_fwd,
            chol,
            factor_scratch,
        })
    }

    fn dim(&self) -> usize {
        self.n + self.border.len()
    }

    /// Matrix values for per-cell conductances `cell_g` (row-major).
    pub(crate) fn assemble(&self, cell_g: &[f64]) -> Vec<f64> {
        let mut values = self.base.clone();
        for (&[da, db, off], &g) in self.cell_slots.iter().zip(cell_g) {
            if da != NONE {
                values[da] += g;
            }
            if db != NONE {
                values[db] += g;
            }
            if off != NONE {
                values[off] -= g;
            }
        }
        if self.border.len() > 0 {
            let largest = (0..self.dim())
                .map(|k| values[self.col_ptr[k]])
                .fold(0.0f64, f64::max);
            let shift = PORT_SHIFT * largest;
            for k in self.n..self.dim() {
                values[self.col_ptr[k]] += shift;
            }
        }
        values
    }

    fn describe(&self, topo: &Topology, k: usize) -> String {
        if k < self.n {
            topo.describe(k)
        } else if k - self.n < self.border.source_rows.len() {
            format!("source of row {}", self.border.source_rows[k - self.n])
        } else {
            format!(
                "virtual ground of column {}",
                k - self.n - self.border.source_rows.len()
            )
        }
    }

    /// Numeric Cholesky of the assembled `values`.
    pub(crate) fn factorize(
        &self,
        topo: &Topology,
        values: &[f64],
    ) -> Result<Vec<f64>, CrossbarError> {
        let dim = self.dim();
        let mut l = vec![0.0; self.chol.len_val()];
        if dim == 0 {
            return Ok(l);
        }
        let a = SparseColMatRef::new(
            SymbolicSparseColMatRef::new_checked(dim, dim, &self.col_ptr, None, &self.row_idx),
            values,
        );
        let mut mem =
            MemBuffer::try_new(self.factor_scratch).map_err(|_| CrossbarError::OutOfMemory)?;
        match self.chol.factorize_numeric_llt(
            &mut l,
            a,
            Side::Lower,
            Default::default(),
            Par::Seq,
            MemStack::new(&mut mem),
            Spec::default(),
        ) {
            Ok(_) => Ok(l),
            Err(LltError::NonPositivePivot { index }) => Err(CrossbarError::Singular(format!(
                "{} has no conducting path to a source or ground",
                self.describe(topo, self.perm_fwd[index])
            ))),
        }
    }

    fn supernodal(&self) -> Option<&SymbolicSupernodalCholesky<usize>> {
        match self.chol.raw() {
            SymbolicCholeskyRaw::Supernodal(sn) => Some(sn),
            SymbolicCholeskyRaw::Simplicial(_) => None,
        }
    }

    /// Solves `K X = B` in place for the columns of `rhs` (`n × k`).
    pub(crate) fn solve_in_place(
        &self,
        l: &[f64],
        rhs: &mut Mat<f64>,
    ) -> Result<(), CrossbarError> {
        if rhs.nrows() == 0 {
            return Ok(());
        }
        match (self.border.len(), self.supernodal()) {
            (0, _) => {
                let req = self
                    .chol
                    .solve_in_place_scratch::<f64>(rhs.ncols(), Par::Seq);
                let mut mem = MemBuffer::try_new(req).map_err(|_| CrossbarError::OutOfMemory)?;
                LltRef::new(&self.chol, l).solve_in_place_with_conj(
                    Conj::No,
                    rhs.as_mut(),
                    Par::Seq,
                    MemStack::new(&mut mem),
                );
            }
            (_, None) => unreachable!("a bordered matrix is always factored supernodally"),
            (_, Some(sn)) => {
                let (n, k) = (self.n, rhs.ncols());
                let mut y = Mat::<f64>::zeros(self.dim(), k);
                for (new, &old) in self.perm_fwd[..n].iter().enumerate() {
                    for c in 0..k {
                        y[(new, c)] = rhs[(old, c)];
                    }
                }
                interior_solve(SupernodalLltRef::new(sn, l), n, y.as_mut());
                for (new, &old) in self.perm_fwd[..n].iter().enumerate() {
                    for c in 0..k {
                        rhs[(old, c)] = y[(new, c)];
                    }
                }
            }
        }
        Ok(())
    }

    /// Solves `K x = b` in place for one vector.
    pub(crate) fn solve_vec(&self, l: &[f64], b: &mut [f64]) -> Result<(), CrossbarError> {
        let mut rhs = Mat::<f64>::from_fn(b.len(), 1, |k, _| b[k]);
        self.solve_in_place(l, &mut rhs)?;
        b.copy_from_slice(rhs.col_as_slice(0));
        Ok(())
    }

    pub(crate) fn is_supernodal(&self) -> bool {
        self.supernodal().is_some()
    }
}

/// Solves with the leading `n × n` (interior) block of the supernodal
/// factor, in factor order, in place on the first `n` rows of `y` (its
/// other rows are scratch). Forward substitution runs up to the first port
/// column; setting the ports' part of the intermediate to zero then makes
/// back substitution through the interior block alone exact.
fn interior_solve(factor: SupernodalLltRef<'_, usize, f64>, n: usize, mut y: MatMut<'_, f64>) {
    let sn = factor.symbolic();
    let k = y.ncols();
    let longest = (0..sn.n_supernodes())
        .map(|s| factor.supernode(s).pattern().len())
        .max()
        .unwrap_or(0);
    let mut tmp = Mat::<f64>::zeros(longest, k);
    let inner = |start: usize, width: usize| width.min(n.saturating_sub(start));
    for s in 0..sn.n_supernodes() {
        let node = factor.supernode(s);
        let (start, lv, pattern) = (node.start(), node.val(), node.pattern());
        let width = lv.ncols();
        let w = inner(start, width);
        if w == 0 {
            break;
        }
        let (top, bot) = lv.split_at_row(width);
        solve_lower_triangular_in_place(
            top.submatrix(0, 0, w, w),
            y.rb_mut().subrows_mut(start, w),
            Par::Seq,
        );
        if w == width && !pattern.is_empty() {
            let mut t = tmp.as_mut().subrows_mut(0, pattern.len());
            matmul(
                t.rb_mut(),
                Accum::Replace,
                bot,
                y.rb().subrows(start, w),
                1.0,
                Par::Seq,
            );
            for c in 0..k {
                for (idx, &r) in pattern.iter().enumerate() {
                    y[(r, c)] -= t[(idx, c)];
                }
            }
        }
    }
    let rows = y.nrows();
    y.rb_mut().subrows_mut(n, rows - n).fill(0.0);
    for s in (0..sn.n_supernodes()).rev() {
        let node = factor.supernode(s);
        let (start, lv, pattern) = (node.start(), node.val(), node.pattern());
        let width = lv.ncols();
        let w = inner(start, width);
        if w == 0 {
            continue;
        }
        let (top, bot) = lv.split_at_row(width);
        if w == width && !pattern.is_empty() {
            let mut t = tmp.as_mut().subrows_mut(0, pattern.len());
            for c in 0..k {
                for (idx, &r) in pattern.iter().enumerate() {
                    t[(idx, c)] = y[(r, c)];
                }
            }
            matmul(
                y.rb_mut().subrows_mut(start, w),
                Accum::Add,
                bot.transpose(),
                t.rb(),
                -1.0,
                Par::Seq,
            );
        }
        solve_upper_triangular_in_place(
            top.submatrix(0, 0, w, w).transpose(),
            y.rb_mut().subrows_mut(start, w),
            Par::Seq,
        );
    }
}

/// How sources inject current and how column currents tap node voltages,
/// for the conductances of one sample: `K x = B v`, `I = C x + D v`.
#[derive(Debug, Clone)]
pub(crate) struct Ports {
    /// (free node, row, conductance): `b[k] += g v_i`.
    pub inject: Vec<(usize, usize, f64)>,
    /// (column, free node, conductance): `I_j += g x_k`.
    pub tap: Vec<(usize, usize, f64)>,
    /// (column, row, conductance): `I_j += g v_i` (cell straight from an
    /// ideal driver into an ideal virtual ground).
    pub direct: Vec<(usize, usize, f64)>,
}

impl Ports {
    /// For cells with (linearised) conductances `cell_g`.
    pub(crate) fn new(topo: &Topology, cell_g: &[f64]) -> Self {
        let mut ports = Ports {
            inject: Vec::new(),
            tap: Vec::new(),
            direct: Vec::new(),
        };
        topo.for_each_element(|a, b, e| {
            let g = match e {
                Elem::Wire(g) => g,
                Elem::Cell(i, j) => cell_g[i * topo.cols + j],
            };
            match (a, b) {
                (Node::Free(k), Node::Source(i)) | (Node::Source(i), Node::Free(k)) => {
                    ports.inject.push((k, i, g))
                }
                (Node::Free(k), Node::Ground(j)) => ports.tap.push((j, k, g)),
                (Node::Source(i), Node::Ground(j)) => ports.direct.push((j, i, g)),
                _ => {}
            }
        });
        ports
    }

    pub(crate) fn rhs(&self, n: usize, v: &[f64]) -> Vec<f64> {
        let mut b = vec![0.0; n];
        for &(k, i, g) in &self.inject {
            b[k] += g * v[i];
        }
        b
    }
}

/// Effective conductance matrix `A` (`cols × rows`, row-major): column
/// currents `I = A v` for inputs `v`, in siemens.
#[derive(Debug, Clone, PartialEq)]
pub struct EffectiveMatrix {
    pub outputs: usize,
    pub inputs: usize,
    /// `data[j * inputs + i]`: current into column `j` per volt on row `i`.
    pub data: Vec<f64>,
}

impl EffectiveMatrix {
    pub fn get(&self, output: usize, input: usize) -> f64 {
        self.data[output * self.inputs + input]
    }

    /// Column currents for inputs `v` (dense product).
    pub fn apply(&self, v: &[f64]) -> Vec<f64> {
        self.data
            .chunks_exact(self.inputs)
            .map(|row| row.iter().zip(v).map(|(a, x)| a * x).sum())
            .collect()
    }
}

/// Size of a numeric factorisation.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct FactorStats {
    pub unknowns: usize,
    /// Stored entries of the Cholesky factor.
    pub factor_entries: usize,
    pub supernodal: bool,
}

/// A crossbar factored for one conductance sample: solve for as many input
/// vectors as needed.
#[derive(Debug)]
pub struct Factored<'a> {
    xbar: &'a Crossbar,
    sym: &'a Symbolic,
    g: Conductances,
    /// Built on the first solve: the effective matrix does not need it.
    ports: OnceLock<Ports>,
    l: Vec<f64>,
}

impl Crossbar {
    pub(crate) fn symbolic(&self) -> Result<&Symbolic, CrossbarError> {
        self.symbolic
            .get_or_init(|| Symbolic::new(&self.topo, self.ordering))
            .as_ref()
            .map_err(Clone::clone)
    }

    /// Runs the symbolic analysis now (it otherwise runs on the first
    /// factorisation); lets callers time setup separately.
    pub fn analyse(&self) -> Result<(), CrossbarError> {
        self.symbolic().map(|_| ())
    }

    /// Numeric Cholesky factorisation for the conductance sample `g`,
    /// reusing the symbolic analysis. With every parasitic zero there is
    /// nothing to factor (every node is pinned) and this only copies `g`.
    pub fn factor(&self, g: &Conductances) -> Result<Factored<'_>, CrossbarError> {
        self.check_conductances(g)?;
        let sym = self.symbolic()?;
        let l = if self.topo.n == 0 {
            Vec::new()
        } else {
            sym.factorize(&self.topo, &sym.assemble(g.as_slice()))?
        };
        Ok(Factored {
            xbar: self,
            sym,
            g: g.clone(),
            ports: OnceLock::new(),
            l,
        })
    }
}

impl Factored<'_> {
    pub fn stats(&self) -> FactorStats {
        FactorStats {
            unknowns: self.xbar.topo.n,
            factor_entries: self.l.len(),
            supernodal: self.sym.is_supernodal(),
        }
    }

    pub fn conductances(&self) -> &Conductances {
        &self.g
    }

    fn ports(&self) -> &Ports {
        self.ports
            .get_or_init(|| Ports::new(&self.xbar.topo, self.g.as_slice()))
    }

    fn free_voltages(&self, inputs: &[&[f64]]) -> Result<Mat<f64>, CrossbarError> {
        let n = self.xbar.topo.n;
        let mut rhs = Mat::<f64>::zeros(n, inputs.len());
        for (c, v) in inputs.iter().enumerate() {
            for &(k, i, g) in &self.ports().inject {
                rhs[(k, c)] += g * v[i];
            }
        }
        self.sym.solve_in_place(&self.l, &mut rhs)?;
        Ok(rhs)
    }

    fn currents_from(&self, x: &[f64], v: &[f64]) -> Vec<f64> {
        let mut out = vec![0.0; self.xbar.topo.cols];
        for &(j, k, g) in &self.ports().tap {
            out[j] += g * x[k];
        }
        for &(j, i, g) in &self.ports().direct {
            out[j] += g * v[i];
        }
        out
    }

    /// Column currents (A) for row inputs `v` (V).
    pub fn column_currents(&self, v: &[f64]) -> Result<Vec<f64>, CrossbarError> {
        self.xbar.check_inputs(v)?;
        if self.xbar.topo.n == 0 {
            return Ok(self.g.ideal_currents(v));
        }
        let x = self.free_voltages(&[v])?;
        Ok(self.currents_from(x.col_as_slice(0), v))
    }

    /// Column currents for many input vectors, solved in parallel batches.
    pub fn column_currents_many(
        &self,
        inputs: &[Vec<f64>],
    ) -> Result<Vec<Vec<f64>>, CrossbarError> {
        for v in inputs {
            self.xbar.check_inputs(v)?;
        }
        let batches: Vec<Vec<Vec<f64>>> = inputs
            .par_chunks(RHS_CHUNK)
            .map(|chunk| {
                let refs: Vec<&[f64]> = chunk.iter().map(Vec::as_slice).collect();
                let x = self.free_voltages(&refs)?;
                Ok(chunk
                    .iter()
                    .enumerate()
                    .map(|(c, v)| self.currents_from(x.col_as_slice(c), v))
                    .collect())
            })
            .collect::<Result<_, CrossbarError>>()?;
        Ok(batches.into_iter().flatten().collect())
    }

    /// Full operating point for inputs `v`: every node voltage, cell
    /// voltage and current, and the terminal currents.
    pub fn solve(&self, v: &[f64]) -> Result<Solution, CrossbarError> {
        self.xbar.check_inputs(v)?;
        let x = self.free_voltages(&[v])?;
        let g = &self.g;
        Ok(build_solution(
            &self.xbar.topo,
            x.col_as_slice(0),
            v,
            &|i, j, vc| g.get(i, j) * vc,
        ))
    }

    /// The effective conductance matrix `A` with `I = A v`, exact for these
    /// linear cells. Ports-last (the default): two dense products of the
    /// factor's port block; with every parasitic zero: `Gᵀ` itself.
    pub fn effective_matrix(&self) -> Result<EffectiveMatrix, CrossbarError> {
        let topo = &self.xbar.topo;
        let (rows, cols) = (topo.rows, topo.cols);
        let data = if topo.n == 0 {
            let g = self.g.as_slice();
            let mut out = vec![0.0; cols * rows];
            for (j, dst) in out.chunks_exact_mut(rows).enumerate() {
                for (i, a) in dst.iter_mut().enumerate() {
                    *a = g[i * cols + j];
                }
            }
            out
        } else {
            match (self.sym.border.len(), self.sym.supernodal()) {
                (0, _) => self.solve_effective()?,
                (_, None) => unreachable!("a bordered matrix is always factored supernodally"),
                (_, Some(sn)) => self.port_block_effective(sn),
            }
        };
        Ok(EffectiveMatrix {
            outputs: cols,
            inputs: rows,
            data,
        })
    }

    /// `A = -S_gs = -L_gs L_ssᵀ` from the trailing port block of the factor
    /// (see the module docs).
    fn port_block_effective(&self, sn: &SymbolicSupernodalCholesky<usize>) -> Vec<f64> {
        let topo = &self.xbar.topo;
        let border = &self.sym.border;
        let (first, nb, ns) = (self.sym.n, border.len(), border.source_rows.len());
        let factor = SupernodalLltRef::new(sn, &self.l);
        let mut lbb = Mat::<f64>::zeros(nb, nb);
        for s in (0..sn.n_supernodes()).rev() {
            let node = factor.supernode(s);
            let (start, val, pattern) = (node.start(), node.val(), node.pattern());
            let width = val.ncols();
            if start + width <= first {
                break;
            }
            let global = |r: usize| {
                if r < width {
                    start + r
                } else {
                    pattern[r - width]
                }
            };
            for c in first.saturating_sub(start)..width {
                let dst = start + c - first;
                for r in c..val.nrows() {
                    lbb[(global(r) - first, dst)] = val[(r, c)];
                }
            }
        }
        let mut a = Mat::<f64>::zeros(topo.cols, ns);
        triangular::matmul(
            a.as_mut(),
            BlockStructure::Rectangular,
            Accum::Replace,
            lbb.submatrix(ns, 0, topo.cols, ns),
            BlockStructure::Rectangular,
            lbb.submatrix(0, 0, ns, ns).transpose(),
            BlockStructure::TriangularUpper,
            -1.0,
            Par::Seq,
        );
        let mut out = vec![0.0; topo.cols * topo.rows];
        for (t, &i) in border.source_rows.iter().enumerate() {
            for j in 0..topo.cols {
                out[j * topo.rows + i] = a[(j, t)];
            }
        }
        out
    }

    /// `A = C K⁻¹ B` by one solve per input (any ordering).
    fn solve_effective(&self) -> Result<Vec<f64>, CrossbarError> {
        let topo = &self.xbar.topo;
        let (rows, cols) = (topo.rows, topo.cols);
        let units: Vec<Vec<f64>> = (0..rows)
            .map(|i| {
                let mut e = vec![0.0; rows];
                e[i] = 1.0;
                e
            })
            .collect();
        let per_input = self.column_currents_many(&units)?;
        let mut out = vec![0.0; cols * rows];
        for (i, currents) in per_input.iter().enumerate() {
            for (j, &c) in currents.iter().enumerate() {
                out[j * rows + i] = c;
            }
        }
        Ok(out)
    }
}
