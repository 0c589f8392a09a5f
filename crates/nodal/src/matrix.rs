//! The MNA matrix: a sparsity pattern fixed once at setup, values refilled
//! in O(nnz) on every Newton iteration, and faer's sparse LU whose symbolic
//! analysis (column ordering, elimination structure) is computed once and
//! reused for every numeric factorization.

use faer::dyn_stack::{MemBuffer, MemStack};
use faer::sparse::linalg::lu::{factorize_symbolic_lu, LuRef, NumericLu, SymbolicLu};
use faer::sparse::{SparseColMatRef, SymbolicSparseColMat};
use faer::{Conj, MatMut, Par};

/// An unknown of the system: `None` is ground (the reference node), which has
/// no row or column.
pub type Unknown = Option<usize>;

/// Handle to one matrix entry, obtained at setup. Entries touching ground map
/// to a scratch value that is never factored, so stamping code never branches
/// on ground.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Slot(u32);

impl Default for Slot {
    /// An unregistered slot writes to the scratch value, like ground.
    fn default() -> Self {
        GROUND_SLOT
    }
}

/// Collects the matrix entries every device will write.
#[derive(Debug, Default)]
pub struct PatternBuilder {
    entries: Vec<(u32, u32)>,
}

/// Registration ids of the entries that touch ground.
const GROUND_SLOT: Slot = Slot(u32::MAX);

impl PatternBuilder {
    /// Registers entry (`row`, `col`); either may be ground.
    pub fn entry(&mut self, row: Unknown, col: Unknown) -> Slot {
        match (row, col) {
            (Some(r), Some(c)) => {
                self.entries.push((r as u32, c as u32));
                Slot(self.entries.len() as u32 - 1)
            }
            _ => GROUND_SLOT,
        }
    }

    /// The four entries of a two-terminal conductance between `a` and `b`,
    /// in the order (a,a) (a,b) (b,a) (b,b).
    pub fn pair(&mut self, a: Unknown, b: Unknown) -> [Slot; 4] {
        [
            self.entry(a, a),
            self.entry(a, b),
            self.entry(b, a),
            self.entry(b, b),
        ]
    }

    /// Compresses the registrations into a column-compressed pattern.
    pub fn finish(self, n: usize) -> Pattern {
        let mut order: Vec<u32> = (0..self.entries.len() as u32).collect();
        order.sort_unstable_by_key(|&k| {
            let (r, c) = self.entries[k as usize];
            (c, r)
        });
        let mut col_ptr = vec![0usize; n + 1];
        let mut row_idx = Vec::with_capacity(self.entries.len());
        let mut map = vec![0u32; self.entries.len()];
        let mut last: Option<(u32, u32)> = None;
        for &k in &order {
            let e = self.entries[k as usize];
            if last != Some(e) {
                row_idx.push(e.0 as usize);
                col_ptr[e.1 as usize + 1] += 1;
                last = Some(e);
            }
            map[k as usize] = row_idx.len() as u32 - 1;
        }
        for c in 0..n {
            col_ptr[c + 1] += col_ptr[c];
        }
        let nnz = row_idx.len();
        Pattern {
            n,
            col_ptr,
            row_idx,
            map,
            scratch: nnz,
        }
    }
}

/// The fixed sparsity pattern plus the map from slots to value positions.
#[derive(Debug, Clone)]
pub struct Pattern {
    n: usize,
    col_ptr: Vec<usize>,
    row_idx: Vec<usize>,
    map: Vec<u32>,
    /// Index of the scratch value that ground entries write into.
    scratch: usize,
}

impl Pattern {
    pub fn nnz(&self) -> usize {
        self.row_idx.len()
    }

    /// Values array for this pattern, including the trailing scratch entry.
    pub fn new_values(&self) -> Vec<f64> {
        vec![0.0; self.nnz() + 1]
    }

    /// The entries of `row`: (column, value position) pairs.
    pub fn row_entries(&self, row: usize) -> Vec<(usize, usize)> {
        (0..self.n)
            .flat_map(|c| (self.col_ptr[c]..self.col_ptr[c + 1]).map(move |p| (c, p)))
            .filter(|&(_, p)| self.row_idx[p] == row)
            .collect()
    }

    #[inline]
    pub fn position(&self, s: Slot) -> usize {
        if s == GROUND_SLOT {
            self.scratch
        } else {
            self.map[s.0 as usize] as usize
        }
    }
}

/// Write access to the matrix values and right-hand side during a load.
pub struct Stamp<'a> {
    pattern: &'a Pattern,
    values: &'a mut [f64],
    rhs: &'a mut [f64],
}

impl<'a> Stamp<'a> {
    pub fn new(pattern: &'a Pattern, values: &'a mut [f64], rhs: &'a mut [f64]) -> Self {
        Self {
            pattern,
            values,
            rhs,
        }
    }

    #[inline]
    pub fn add(&mut self, s: Slot, v: f64) {
        let p = self.pattern.position(s);
        self.values[p] += v;
    }

    /// Adds `v` to the right-hand side of `row` (current injected into a node).
    #[inline]
    pub fn rhs(&mut self, row: Unknown, v: f64) {
        if let Some(r) = row {
            self.rhs[r] += v;
        }
    }

    /// Stamps conductance `g` on the slots from [`PatternBuilder::pair`].
    #[inline]
    pub fn conductance(&mut self, s: &[Slot; 4], g: f64) {
        self.add(s[0], g);
        self.add(s[1], -g);
        self.add(s[2], -g);
        self.add(s[3], g);
    }

    /// A current `i` flowing from `a` to `b` through the device, entering
    /// the equations as a known source.
    #[inline]
    pub fn current(&mut self, a: Unknown, b: Unknown, i: f64) {
        self.rhs(a, -i);
        self.rhs(b, i);
    }
}

/// Why a factorization failed.
#[derive(Debug)]
pub enum LuFailure {
    /// The matrix is structurally singular at this (original) column.
    Structural(usize),
    Other(String),
}

/// Sparse LU with the symbolic analysis kept across factorizations.
pub struct SparseLu {
    symbolic_mat: SymbolicSparseColMat<usize>,
    symbolic: Option<SymbolicLu<usize>>,
    numeric: NumericLu<usize, f64>,
    factor_mem: Option<MemBuffer>,
    solve_mem: Option<MemBuffer>,
    factored: bool,
    /// Values of the last successful factorization: a linear circuit at a
    /// fixed step (or a sweep of a linear circuit) refactors nothing.
    last: Vec<f64>,
}

impl std::fmt::Debug for SparseLu {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SparseLu")
            .field("n", &self.symbolic_mat.nrows())
            .field("nnz", &self.symbolic_mat.row_idx().len())
            .finish()
    }
}

impl SparseLu {
    pub fn new(pattern: &Pattern) -> Self {
        let symbolic_mat = SymbolicSparseColMat::new_checked(
            pattern.n,
            pattern.n,
            pattern.col_ptr.clone(),
            None,
            pattern.row_idx.clone(),
        );
        Self {
            symbolic_mat,
            symbolic: None,
            numeric: NumericLu::new(),
            factor_mem: None,
            solve_mem: None,
            factored: false,
            last: Vec::new(),
        }
    }

    /// Numeric factorization of `values` (laid out by the pattern; the
    /// trailing scratch entry is ignored).
    pub fn factor(&mut self, values: &[f64]) -> Result<(), LuFailure> {
        let nnz = self.symbolic_mat.row_idx().len();
        if self.factored && self.last[..] == values[..nnz] {
            return Ok(());
        }
        self.factored = false;
        let n = self.symbolic_mat.nrows();
        if n == 0 {
            self.factored = true;
            return Ok(());
        }
        if self.symbolic.is_none() {
            let sym = factorize_symbolic_lu(self.symbolic_mat.as_ref(), Default::default())
                .map_err(|e| LuFailure::Other(format!("{e:?}")))?;
            let freq = sym.factorize_numeric_lu_scratch::<f64>(Par::Seq, Default::default());
            let sreq = sym.solve_in_place_scratch::<f64>(1, Par::Seq);
            self.factor_mem =
                Some(MemBuffer::try_new(freq).map_err(|e| LuFailure::Other(format!("{e:?}")))?);
            self.solve_mem =
                Some(MemBuffer::try_new(sreq).map_err(|e| LuFailure::Other(format!("{e:?}")))?);
            self.symbolic = Some(sym);
        }
        let (Some(sym), Some(mem)) = (self.symbolic.as_ref(), self.factor_mem.as_mut()) else {
            return Err(LuFailure::Other("symbolic analysis missing".into()));
        };
        let a = SparseColMatRef::new(self.symbolic_mat.as_ref(), &values[..nnz]);
        match sym.factorize_numeric_lu(
            &mut self.numeric,
            a,
            Par::Seq,
            MemStack::new(mem),
            Default::default(),
        ) {
            Ok(_) => {
                self.factored = true;
                self.last.clear();
                self.last.extend_from_slice(&values[..nnz]);
                Ok(())
            }
            Err(faer::sparse::linalg::LuError::SymbolicSingular { index }) => {
                let col = sym
                    .col_perm()
                    .arrays()
                    .0
                    .get(index)
                    .copied()
                    .unwrap_or(index);
                Err(LuFailure::Structural(col))
            }
            Err(e) => Err(LuFailure::Other(format!("{e:?}"))),
        }
    }

    /// Solves `A x = rhs` in place with the last successful factorization.
    pub fn solve(&mut self, rhs: &mut [f64]) {
        let n = rhs.len();
        if n == 0 || !self.factored {
            return;
        }
        let (Some(sym), Some(mem)) = (self.symbolic.as_ref(), self.solve_mem.as_mut()) else {
            return;
        };
        let lu = LuRef::new_unchecked(sym, &self.numeric);
        let mat = MatMut::from_column_major_slice_mut(rhs, n, 1);
        lu.solve_in_place_with_conj(Conj::No, mat, Par::Seq, MemStack::new(mem));
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A small non-symmetric system with repeated and ground entries.
    #[test]
    fn assembles_and_solves_against_dense_result() {
        let mut b = PatternBuilder::default();
        let s00 = b.entry(Some(0), Some(0));
        let s01 = b.entry(Some(0), Some(1));
        let s10 = b.entry(Some(1), Some(0));
        let s11 = b.entry(Some(1), Some(1));
        let s11b = b.entry(Some(1), Some(1));
        let g = b.entry(None, Some(1));
        let s22 = b.entry(Some(2), Some(2));
        let s21 = b.entry(Some(2), Some(1));
        let p = b.finish(3);
        assert_eq!(p.nnz(), 6);
        let mut vals = p.new_values();
        let mut rhs = vec![0.0; 3];
        {
            let mut st = Stamp::new(&p, &mut vals, &mut rhs);
            st.add(s00, 4.0);
            st.add(s01, 1.0);
            st.add(s10, 2.0);
            st.add(s11, 2.0);
            st.add(s11b, 1.0);
            st.add(g, 1e9);
            st.add(s22, 5.0);
            st.add(s21, -1.0);
            st.rhs(Some(0), 1.0);
            st.rhs(Some(1), 2.0);
            st.rhs(Some(2), 3.0);
            st.rhs(None, 7.0);
        }
        let mut lu = SparseLu::new(&p);
        lu.factor(&vals).map_err(|e| format!("{e:?}")).unwrap();
        lu.solve(&mut rhs);
        // [[4,1,0],[2,3,0],[0,-1,5]] x = [1,2,3]
        let x1 = (2.0 - 2.0 * 0.25) / (3.0 - 2.0 * 0.25);
        let x0 = (1.0 - x1) / 4.0;
        let x2 = (3.0 + x1) / 5.0;
        for (a, b) in rhs.iter().zip([x0, x1, x2]) {
            assert!((a - b).abs() < 1e-15, "{a} vs {b}");
        }
    }

    /// Refactoring is skipped only when the values are unchanged.
    #[test]
    fn refactors_when_values_change() {
        let mut b = PatternBuilder::default();
        let s = b.pair(Some(0), Some(1));
        let g = b.entry(Some(0), Some(0));
        let p = b.finish(2);
        let mut lu = SparseLu::new(&p);
        for gg in [1.0, 1.0, 3.0] {
            let mut vals = p.new_values();
            let mut rhs = vec![0.0; 2];
            {
                let mut st = Stamp::new(&p, &mut vals, &mut rhs);
                // 1 S between the nodes, gg - 1 S more on node 0, 1 S more
                // on node 1, 1 A into node 0.
                st.conductance(&s, 1.0);
                st.add(g, gg - 1.0);
                st.add(s[3], 1.0);
                st.rhs(Some(0), 1.0);
            }
            lu.factor(&vals).map_err(|e| format!("{e:?}")).unwrap();
            lu.solve(&mut rhs);
            // [[gg, -1], [-1, 2]] x = [1, 0]
            let det = 2.0 * gg - 1.0;
            let exact = [2.0 / det, 1.0 / det];
            assert!((rhs[0] - exact[0]).abs() < 1e-15 && (rhs[1] - exact[1]).abs() < 1e-15);
        }
    }

    #[test]
    fn structurally_singular_matrix_names_a_column() {
        let mut b = PatternBuilder::default();
        let s = b.entry(Some(0), Some(0));
        let _ = b.entry(Some(1), Some(0));
        let p = b.finish(2);
        let mut vals = p.new_values();
        let mut rhs = vec![0.0; 2];
        Stamp::new(&p, &mut vals, &mut rhs).add(s, 1.0);
        let mut lu = SparseLu::new(&p);
        assert!(matches!(lu.factor(&vals), Err(LuFailure::Structural(1))));
    }
}
