//! Elimination orders for the interior (non-port) unknowns of the
//! crossbar's nodal matrix.
//!
//! With resistive row and column wires the circuit is a two-layer grid: the
//! row layer is cut into left and right halves by removing the row nodes of
//! one column (the column's own chain then touches only that separator), and
//! into top and bottom halves by removing the column nodes of one row. That
//! gives geometric nested dissection with separators of one row or column:
//! no graph search, and wide separator supernodes for faer's dense kernels.
//! With an ideal row or column wire a merged node spans the whole array, no
//! such separators exist, and minimum degree is used instead.

use faer::dyn_stack::{MemBuffer, MemStack};
use faer::sparse::linalg::amd;
use faer::sparse::SymbolicSparseColMatRef;

use super::topology::{Node, Topology};
use super::CrossbarError;

/// Subarrays of at most this many cells are ordered cell by cell: below
/// this size a separator saves less than the bookkeeping of one more
/// supernode costs (on 128×128, leaves of 1, 4, 64 and 256 cells were all
/// slower).
const LEAF_CELLS: usize = 16;

/// An elimination order of the free unknowns `0..topo.n` (position →
/// unknown). `col_ptr` / `row_idx` hold the lower-triangle pattern of the
/// matrix, whose leading `topo.n` columns are the free unknowns.
pub(crate) fn interior_order(
    topo: &Topology,
    col_ptr: &[usize],
    row_idx: &[usize],
) -> Result<Vec<usize>, CrossbarError> {
    if topo.row_pos > 1 && topo.col_pos > 1 {
        let mut order = Vec::with_capacity(topo.n);
        dissect(topo, (0, topo.rows), (0, topo.cols), &mut order);
        Ok(order)
    } else {
        minimum_degree(topo.n, col_ptr, row_idx)
    }
}

fn push(node: Node, out: &mut Vec<usize>) {
    if let Node::Free(k) = node {
        out.push(k);
    }
}

/// Orders the cells `rows.0..rows.1` × `cols.0..cols.1`: both halves, then
/// the chain the separator isolates, then the separator.
fn dissect(topo: &Topology, rows: (usize, usize), cols: (usize, usize), out: &mut Vec<usize>) {
    let (h, w) = (rows.1 - rows.0, cols.1 - cols.0);
    if h == 0 || w == 0 {
        return;
    }
    if h * w <= LEAF_CELLS {
        for i in rows.0..rows.1 {
            for j in cols.0..cols.1 {
                push(topo.row_at(i, j), out);
                push(topo.col_at(i, j), out);
            }
        }
        return;
    }
    if w >= h {
        let jm = cols.0 + w / 2;
        dissect(topo, rows, (cols.0, jm), out);
        dissect(topo, rows, (jm + 1, cols.1), out);
        for i in rows.0..rows.1 {
            push(topo.col_at(i, jm), out);
        }
        for i in rows.0..rows.1 {
            push(topo.row_at(i, jm), out);
        }
    } else {
        let im = rows.0 + h / 2;
        dissect(topo, (rows.0, im), cols, out);
        dissect(topo, (im + 1, rows.1), cols, out);
        for j in cols.0..cols.1 {
            push(topo.row_at(im, j), out);
        }
        for j in cols.0..cols.1 {
            push(topo.col_at(im, j), out);
        }
    }
}

/// faer's approximate minimum degree on the leading `n × n` block.
fn minimum_degree(
    n: usize,
    col_ptr: &[usize],
    row_idx: &[usize],
) -> Result<Vec<usize>, CrossbarError> {
    let mut fwd = vec![0usize; n];
    if n == 0 {
        return Ok(fwd);
    }
    let mut inv = vec![0usize; n];
    let mut sub_ptr = Vec::with_capacity(n + 1);
    let mut sub_idx = Vec::with_capacity(col_ptr[n]);
    sub_ptr.push(0);
    for c in 0..n {
        sub_idx.extend(
            row_idx[col_ptr[c]..col_ptr[c + 1]]
                .iter()
                .copied()
                .filter(|&r| r < n),
        );
        sub_ptr.push(sub_idx.len());
    }
    let a = SymbolicSparseColMatRef::new_checked(n, n, &sub_ptr, None, &sub_idx);
    let req = amd::order_scratch::<usize>(n, sub_idx.len());
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
