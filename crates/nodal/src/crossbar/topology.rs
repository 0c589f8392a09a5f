//! Which physical nodes of the crossbar are unknowns after ideal wires are
//! merged and ideal drivers / sense inputs pin nodes, and which two-terminal
//! elements join them. Shared by the direct, iterative and nonlinear solvers
//! and by the SPICE writer, so they all see the same circuit.

use super::{Parasitics, RowMode};

/// A node of the reduced network.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Node {
    /// Unknown voltage number `k`.
    Free(usize),
    /// Pinned to the input voltage of row `i` (ideal driver).
    Source(usize),
    /// Virtual ground of column `j` (ideal sense input); current into it is
    /// that column's output.
    Ground(usize),
}

/// Conductance of an element: a fixed wire / periphery value or a cell.
#[derive(Debug, Clone, Copy, PartialEq)]
pub(crate) enum Elem {
    Wire(f64),
    Cell(usize, usize),
}

const PINNED: usize = usize::MAX;

#[derive(Debug)]
pub(crate) struct Topology {
    pub rows: usize,
    pub cols: usize,
    pub par: Parasitics,
    pub modes: Vec<RowMode>,
    /// Positions along a row (`cols`, or 1 when the row wire is ideal).
    pub row_pos: usize,
    /// Positions along a column (`rows`, or 1 when the column wire is ideal).
    pub col_pos: usize,
    /// Unknown number of row node `(i, p)` at `i * row_pos + p`, or PINNED.
    row_id: Vec<usize>,
    /// Unknown number of column node `(p, j)` at `p * cols + j`, or PINNED.
    col_id: Vec<usize>,
    pub n: usize,
}

fn conductance(r: f64) -> f64 {
    if r > 0.0 {
        1.0 / r
    } else {
        0.0
    }
}

impl Topology {
    pub fn new(rows: usize, cols: usize, par: Parasitics, modes: Vec<RowMode>) -> Self {
        let row_pos = if par.r_row > 0.0 { cols } else { 1 };
        let col_pos = if par.r_col > 0.0 { rows } else { 1 };
        let mut n = 0;
        let mut row_id = vec![PINNED; rows * row_pos];
        for i in 0..rows {
            for p in 0..row_pos {
                let pinned = p == 0 && modes[i] == RowMode::Driven && par.r_driver == 0.0;
                if !pinned {
                    row_id[i * row_pos + p] = n;
                    n += 1;
                }
            }
        }
        let mut col_id = vec![PINNED; col_pos * cols];
        for p in 0..col_pos {
            for j in 0..cols {
                let pinned = p + 1 == col_pos && par.r_sense == 0.0;
                if !pinned {
                    col_id[p * cols + j] = n;
                    n += 1;
                }
            }
        }
        Self {
            rows,
            cols,
            par,
            modes,
            row_pos,
            col_pos,
            row_id,
            col_id,
            n,
        }
    }

    /// Row node at position `p` of row `i`.
    #[inline]
    pub fn row_at(&self, i: usize, p: usize) -> Node {
        match self.row_id[i * self.row_pos + p] {
            PINNED => Node::Source(i),
            k => Node::Free(k),
        }
    }

    /// Column node at position `p` of column `j`.
    #[inline]
    pub fn col_at(&self, p: usize, j: usize) -> Node {
        match self.col_id[p * self.cols + j] {
            PINNED => Node::Ground(j),
            k => Node::Free(k),
        }
    }

    /// Row node that cell `(i, j)` touches.
    #[inline]
    pub fn cell_row_node(&self, i: usize, j: usize) -> Node {
        self.row_at(i, if self.row_pos > 1 { j } else { 0 })
    }

    /// Column node that cell `(i, j)` touches.
    #[inline]
    pub fn cell_col_node(&self, i: usize, j: usize) -> Node {
        self.col_at(if self.col_pos > 1 { i } else { 0 }, j)
    }

    pub fn g_row(&self) -> f64 {
        conductance(self.par.r_row)
    }

    pub fn g_col(&self) -> f64 {
        conductance(self.par.r_col)
    }

    /// Visits every two-terminal element `(a, b, value)` of the reduced
    /// network. Wires between two merged or two pinned nodes do not exist.
    /// Elements touching a column's virtual ground always have it as `b`, so
    /// the current `a → b` is a contribution to that column's output.
    pub fn for_each_element(&self, mut f: impl FnMut(Node, Node, Elem)) {
        let g_drv = conductance(self.par.r_driver);
        let g_sense = conductance(self.par.r_sense);
        let (g_row, g_col) = (self.g_row(), self.g_col());
        for i in 0..self.rows {
            if self.modes[i] == RowMode::Driven && g_drv > 0.0 {
                f(self.row_at(i, 0), Node::Source(i), Elem::Wire(g_drv));
            }
            for p in 1..self.row_pos {
                f(self.row_at(i, p), self.row_at(i, p - 1), Elem::Wire(g_row));
            }
        }
        for p in 1..self.col_pos {
            for j in 0..self.cols {
                f(self.col_at(p - 1, j), self.col_at(p, j), Elem::Wire(g_col));
            }
        }
        if g_sense > 0.0 {
            for j in 0..self.cols {
                f(
                    self.col_at(self.col_pos - 1, j),
                    Node::Ground(j),
                    Elem::Wire(g_sense),
                );
            }
        }
        for i in 0..self.rows {
            for j in 0..self.cols {
                f(
                    self.cell_row_node(i, j),
                    self.cell_col_node(i, j),
                    Elem::Cell(i, j),
                );
            }
        }
    }

    /// SPICE node name of every unknown: `rI_P` (row `I`, position `P`)
    /// or `cP_J` (column `J`, position `P`).
    pub fn spice_names(&self) -> Vec<String> {
        let mut names = vec![String::new(); self.n];
        for (at, &k) in self.row_id.iter().enumerate() {
            if k != PINNED {
                names[k] = format!("r{}_{}", at / self.row_pos, at % self.row_pos);
            }
        }
        for (at, &k) in self.col_id.iter().enumerate() {
            if k != PINNED {
                names[k] = format!("c{}_{}", at / self.cols, at % self.cols);
            }
        }
        names
    }

    /// Human-readable name of unknown `k` for error messages.
    pub fn describe(&self, k: usize) -> String {
        if let Some(at) = self.row_id.iter().position(|&id| id == k) {
            let (i, p) = (at / self.row_pos, at % self.row_pos);
            if self.row_pos > 1 {
                format!("row {i} node at column {p}")
            } else {
                format!("row {i} (ideal wire)")
            }
        } else if let Some(at) = self.col_id.iter().position(|&id| id == k) {
            let (p, j) = (at / self.cols, at % self.cols);
            if self.col_pos > 1 {
                format!("column {j} node at row {p}")
            } else {
                format!("column {j} (ideal wire)")
            }
        } else {
            format!("node {k}")
        }
    }

    /// Unknowns where a source injects current or whose voltage enters a
    /// column current: the only rows/columns of `K⁻¹` the effective matrix
    /// needs. Sorted, deduplicated.
    pub fn ports(&self) -> Vec<usize> {
        let mut is_port = vec![false; self.n];
        self.for_each_element(|a, b, _| match (a, b) {
            (Node::Free(k), Node::Source(_) | Node::Ground(_))
            | (Node::Source(_), Node::Free(k)) => is_port[k] = true,
            _ => {}
        });
        (0..self.n).filter(|&k| is_port[k]).collect()
    }
}
