//! Sparse Cholesky of the crossbar's nodal matrix (faer): symbolic analysis
//! once per geometry, numeric factorisation per conductance sample, and the
//! effective matrix from the trailing "port" block of the factor.

use faer::dyn_stack::{MemBuffer, MemStack};
use faer::linalg::solvers::LltError;
use faer::linalg::triangular_solve::solve_lower_triangular_in_place;
use faer::perm::PermRef;
use faer::sparse::linalg::amd;
use faer::sparse::linalg::cholesky::supernodal::SupernodalLltRef;
use faer::sparse::linalg::cholesky::{
    factorize_symbolic_cholesky, CholeskySymbolicParams, LltRef, SymbolicCholesky,
    SymbolicCholeskyRaw, SymmetricOrdering,
};
use faer::sparse::linalg::SupernodalThreshold;
use faer::sparse::{SparseColMatRef, SymbolicSparseColMatRef};
use faer::{Conj, Mat, Par, Side, Spec};
use rayon::prelude::*;

use super::solution::{build_solution, Solution};
use super::topology::{Elem, Node, Topology};
use super::{Conductances, Crossbar, CrossbarError};

const NONE: usize = usize::MAX;
/// Right-hand sides per batch: fixed (not derived from the thread count) so
/// results are bit-identical however many threads rayon uses.
const RHS_CHUNK: usize = 32;

/// Fill-reducing ordering of the direct solver.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum DirectOrdering {
    /// faer's approximate minimum degree on the whole matrix: the plain
    /// sparse Cholesky baseline. Effective matrices need one full solve per
    /// input.
    Amd,
    /// Minimum degree on the interior nodes, the port nodes (source
    /// injection points and column-current taps) last. The Schur complement
    /// onto the ports is then the trailing dense block of the factor, and
    /// the effective matrix costs two dense triangular solves of port size.
    PortsLast,
}

impl DirectOrdering {
    /// Ports-last unless ideal wires make (almost) every node a port.
    pub(crate) fn default_for(topo: &Topology) -> Self {
        if topo.ports().len() <= 2 * (topo.rows + topo.cols) {
            DirectOrdering::PortsLast
        } else {
            DirectOrdering::Amd
        }
    }
}

/// Symbolic analysis and assembly map of one geometry.
#[derive(Debug)]
pub(crate) struct Symbolic {
    col_ptr: Vec<usize>,
    row_idx: Vec<usize>,
    /// Matrix values contributed by wires, drivers and sense inputs.
    base: Vec<f64>,
    /// Per cell: value slots of (row-node diagonal, column-node diagonal,
    /// off-diagonal), NONE where that node is pinned.
    cell_slots: Vec<[usize; 3]>,
    /// Free nodes ordered last (ports-last ordering only).
    ports: Option<Vec<usize>>,
    /// Natural index of each permuted position.
    perm_fwd: Vec<usize>,
    chol: SymbolicCholesky<usize>,
}

fn slot(col_ptr: &[usize], row_idx: &[usize], col: usize, row: usize) -> usize {
    let (lo, hi) = if row >= col { (col, row) } else { (row, col) };
    let start = col_ptr[lo];
    let pos = row_idx[start..col_ptr[lo + 1]]
        .binary_search(&hi)
        .unwrap_or_else(|_| unreachable!("pattern built from the same elements"));
    start + pos
}

fn amd_order(n: usize, col_ptr: &[usize], row_idx: &[usize]) -> Result<Vec<usize>, CrossbarError> {
    let mut fwd = vec![0usize; n];
    let mut inv = vec![0usize; n];
    if n == 0 {
        return Ok(fwd);
    }
    let a = SymbolicSparseColMatRef::new_checked(n, n, col_ptr, None, row_idx);
    let req = amd::order_scratch::<usize>(n, row_idx.len());
    let mut mem = MemBuffer::try_new(req).map_err(|_| CrossbarError::OutOfMemory)?;
    amd::order(
        &mut fwd,
        &mut inv,
        a,
        amd::Control::default(),
        MemStack::new(&mut mem),
    )
    .map_err(|_| CrossbarError::OutOfMemory)?;
    Ok(fwd)
}

impl Symbolic {
    pub(crate) fn new(topo: &Topology, ordering: DirectOrdering) -> Result<Self, CrossbarError> {
        let n = topo.n;
        // Lower-triangle pattern: diagonal plus one entry per free-free element.
        let mut pairs: Vec<(usize, usize)> = (0..n).map(|k| (k, k)).collect();
        topo.for_each_element(|a, b, _| {
            if let (Node::Free(p), Node::Free(q)) = (a, b) {
                pairs.push((p.min(q), p.max(q)));
            }
        });
        pairs.sort_unstable();
        pairs.dedup();
        let mut col_ptr = vec![0usize; n + 1];
        for &(c, _) in &pairs {
            col_ptr[c + 1] += 1;
        }
        for c in 0..n {
            col_ptr[c + 1] += col_ptr[c];
        }
        let row_idx: Vec<usize> = pairs.iter().map(|&(_, r)| r).collect();
        drop(pairs);

        let mut base = vec![0.0; row_idx.len()];
        let mut cell_slots = vec![[NONE; 3]; topo.rows * topo.cols];
        topo.for_each_element(|a, b, e| {
            let diag = |node: Node| match node {
                Node::Free(k) => col_ptr[k],
                _ => NONE,
            };
            let (da, db) = (diag(a), diag(b));
            let off = match (a, b) {
                (Node::Free(p), Node::Free(q)) => slot(&col_ptr, &row_idx, p, q),
                _ => NONE,
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

        let (ports, fwd) = match ordering {
            DirectOrdering::Amd => (None, None),
            DirectOrdering::PortsLast => {
                let ports = topo.ports();
                let mut is_port = vec![false; n];
                for &k in &ports {
                    is_port[k] = true;
                }
                // Minimum degree sees the ports as one clique, which it
                // leaves to the end; the ports are then moved behind every
                // interior node in their elimination order.
                let mut clique_ptr = vec![0usize; n + 1];
                let mut clique_idx =
                    Vec::with_capacity(row_idx.len() + ports.len() * ports.len() / 2);
                let mut next_port = 0;
                for k in 0..n {
                    let own = &row_idx[col_ptr[k]..col_ptr[k + 1]];
                    if is_port[k] {
                        next_port += 1;
                        let mut merged: Vec<usize> = own
                            .iter()
                            .copied()
                            .chain(ports[next_port..].iter().copied())
                            .collect();
                        merged.sort_unstable();
                        merged.dedup();
                        clique_idx.extend_from_slice(&merged);
                    } else {
                        clique_idx.extend_from_slice(own);
                    }
                    clique_ptr[k + 1] = clique_idx.len();
                }
                let order = amd_order(n, &clique_ptr, &clique_idx)?;
                drop(clique_idx);
                let mut fwd: Vec<usize> = order.iter().copied().filter(|&k| !is_port[k]).collect();
                fwd.extend_from_slice(&ports);
                (Some(ports), Some(fwd))
            }
        };

        let pattern = SymbolicSparseColMatRef::new_checked(n, n, &col_ptr, None, &row_idx);
        let mut params = CholeskySymbolicParams::default();
        let chol = match &fwd {
            Some(fwd) => {
                let mut inv = vec![0usize; n];
                for (new, &old) in fwd.iter().enumerate() {
                    inv[old] = new;
                }
                // The port block is read straight out of the supernodes.
                params.supernodal_flop_ratio_threshold = SupernodalThreshold::FORCE_SUPERNODAL;
                let perm = PermRef::new_checked(fwd, &inv, n);
                factorize_symbolic_cholesky(
                    pattern,
                    Side::Lower,
                    SymmetricOrdering::Custom(perm),
                    params,
                )
            }
            None => {
                factorize_symbolic_cholesky(pattern, Side::Lower, SymmetricOrdering::Amd, params)
            }
        }
        .map_err(|_| CrossbarError::OutOfMemory)?;
        let perm_fwd = match fwd {
            Some(f) => f,
            None => match chol.perm() {
                Some(p) => p.arrays().0.to_vec(),
                None => (0..n).collect(),
            },
        };
        Ok(Self {
            col_ptr,
            row_idx,
            base,
            cell_slots,
            ports,
            perm_fwd,
            chol,
        })
    }

    /// Nodal matrix values for per-cell conductances `cell_g` (row-major).
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
        values
    }

    /// Numeric Cholesky of the assembled `values`.
    pub(crate) fn factorize(
        &self,
        topo: &Topology,
        values: &[f64],
    ) -> Result<Vec<f64>, CrossbarError> {
        let n = topo.n;
        let mut l = vec![0.0; self.chol.len_val()];
        if n == 0 {
            return Ok(l);
        }
        let a = SparseColMatRef::new(
            SymbolicSparseColMatRef::new_checked(n, n, &self.col_ptr, None, &self.row_idx),
            values,
        );
        let req = self
            .chol
            .factorize_numeric_llt_scratch::<f64>(Par::Seq, Spec::default());
        let mut mem = MemBuffer::try_new(req).map_err(|_| CrossbarError::OutOfMemory)?;
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
                topo.describe(self.perm_fwd[index])
            ))),
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
        Ok(())
    }

    /// Solves `K x = b` in place for one vector.
    pub(crate) fn solve_vec(&self, l: &[f64], b: &mut [f64]) -> Result<(), CrossbarError> {
        let mut rhs = Mat::<f64>::from_fn(b.len(), 1, |k, _| b[k]);
        self.solve_in_place(l, &mut rhs)?;
        b.copy_from_slice(rhs.col_as_slice(0));
        Ok(())
    }

    /// Stored entries of the Cholesky factor.
    pub(crate) fn factor_len(&self) -> usize {
        self.chol.len_val()
    }

    pub(crate) fn is_supernodal(&self) -> bool {
        matches!(self.chol.raw(), SymbolicCholeskyRaw::Supernodal(_))
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
    ports: Ports,
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
    /// reusing the symbolic analysis.
    pub fn factor(&self, g: &Conductances) -> Result<Factored<'_>, CrossbarError> {
        self.check_conductances(g)?;
        let sym = self.symbolic()?;
        let l = sym.factorize(&self.topo, &sym.assemble(g.as_slice()))?;
        Ok(Factored {
            xbar: self,
            sym,
            g: g.clone(),
            ports: Ports::new(&self.topo, g.as_slice()),
            l,
        })
    }
}

impl Factored<'_> {
    pub fn stats(&self) -> FactorStats {
        FactorStats {
            unknowns: self.xbar.topo.n,
            factor_entries: self.sym.factor_len(),
            supernodal: self.sym.is_supernodal(),
        }
    }

    pub fn conductances(&self) -> &Conductances {
        &self.g
    }

    fn free_voltages(&self, inputs: &[&[f64]]) -> Result<Mat<f64>, CrossbarError> {
        let n = self.xbar.topo.n;
        let mut rhs = Mat::<f64>::zeros(n, inputs.len());
        for (c, v) in inputs.iter().enumerate() {
            for &(k, i, g) in &self.ports.inject {
                rhs[(k, c)] += g * v[i];
            }
        }
        self.sym.solve_in_place(&self.l, &mut rhs)?;
        Ok(rhs)
    }

    fn currents_from(&self, x: &[f64], v: &[f64]) -> Vec<f64> {
        let mut out = vec![0.0; self.xbar.topo.cols];
        for &(j, k, g) in &self.ports.tap {
            out[j] += g * x[k];
        }
        for &(j, i, g) in &self.ports.direct {
            out[j] += g * v[i];
        }
        out
    }

    /// Column currents (A) for row inputs `v` (V).
    pub fn column_currents(&self, v: &[f64]) -> Result<Vec<f64>, CrossbarError> {
        self.xbar.check_inputs(v)?;
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
    /// linear cells.
    pub fn effective_matrix(&self) -> Result<EffectiveMatrix, CrossbarError> {
        let topo = &self.xbar.topo;
        let (rows, cols) = (topo.rows, topo.cols);
        let a = match (&self.sym.ports, self.sym.chol.raw()) {
            (Some(ports), SymbolicCholeskyRaw::Supernodal(sn)) => {
                self.port_block_effective(ports, sn)
            }
            _ => self.solve_effective()?,
        };
        Ok(EffectiveMatrix {
            outputs: cols,
            inputs: rows,
            data: a,
        })
    }

    /// `A = C K⁻¹ B` from the trailing port block `L_pp` of the factor:
    /// `(K⁻¹)_pp = (L_pp L_ppᵀ)⁻¹`, so `A = (L_pp⁻¹ Cᵀ)ᵀ (L_pp⁻¹ B)`.
    fn port_block_effective(
        &self,
        ports: &[usize],
        sn: &faer::sparse::linalg::cholesky::supernodal::SymbolicSupernodalCholesky<usize>,
    ) -> Vec<f64> {
        let topo = &self.xbar.topo;
        let (n, np) = (topo.n, ports.len());
        let first = n - np;
        let factor = SupernodalLltRef::new(sn, &self.l);
        let mut lpp = Mat::<f64>::zeros(np, np);
        for s in (0..sn.n_supernodes()).rev() {
            let node = factor.supernode(s);
            let start = node.start();
            let val = node.val();
            let width = val.ncols();
            if start + width <= first {
                break;
            }
            let global = |r: usize| {
                if r < width {
                    start + r
                } else {
                    node.pattern()[r - width]
                }
            };
            for c in 0..width {
                let gc = start + c;
                if gc < first {
                    continue;
                }
                for r in c..val.nrows() {
                    lpp[(global(r) - first, gc - first)] = val[(r, c)];
                }
            }
        }
        let mut pos = vec![NONE; n];
        for (p, &k) in ports.iter().enumerate() {
            pos[k] = p;
        }
        let mut b = Mat::<f64>::zeros(np, topo.rows);
        for &(k, i, g) in &self.ports.inject {
            b[(pos[k], i)] += g;
        }
        let mut ct = Mat::<f64>::zeros(np, topo.cols);
        for &(j, k, g) in &self.ports.tap {
            ct[(pos[k], j)] += g;
        }
        solve_lower_triangular_in_place(lpp.as_ref(), b.as_mut(), Par::Seq);
        solve_lower_triangular_in_place(lpp.as_ref(), ct.as_mut(), Par::Seq);
        let a = ct.transpose() * &b;
        let mut out = vec![0.0; topo.cols * topo.rows];
        for j in 0..topo.cols {
            for i in 0..topo.rows {
                out[j * topo.rows + i] = a[(j, i)];
            }
        }
        for &(j, i, g) in &self.ports.direct {
            out[j * topo.rows + i] += g;
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
