//! Node voltages, cell and terminal currents of one solved input vector.

use super::topology::{Elem, Node, Topology};

/// Everything about one operating point of the crossbar. Matrices are
/// row-major `rows × cols`; currents in amperes, voltages in volts.
#[derive(Debug, Clone, PartialEq)]
pub struct Solution {
    pub rows: usize,
    pub cols: usize,
    /// Current into each column's virtual ground.
    pub column_currents: Vec<f64>,
    /// Current each row's source delivers into the array (0 for a floating row).
    pub driver_currents: Vec<f64>,
    /// Voltage of row-wire node `r(i,j)` (the cell's top terminal).
    pub row_voltages: Vec<f64>,
    /// Voltage of column-wire node `c(i,j)` (the cell's bottom terminal).
    pub col_voltages: Vec<f64>,
    /// Current through cell `(i,j)` from row to column.
    pub cell_currents: Vec<f64>,
}

impl Solution {
    /// Voltage across cell `(i,j)`, row side minus column side.
    pub fn cell_voltage(&self, i: usize, j: usize) -> f64 {
        let k = i * self.cols + j;
        self.row_voltages[k] - self.col_voltages[k]
    }
}

#[inline]
pub(crate) fn node_voltage(node: Node, x: &[f64], v: &[f64]) -> f64 {
    match node {
        Node::Free(k) => x[k],
        Node::Source(i) => v[i],
        Node::Ground(_) => 0.0,
    }
}

/// Column currents and driver currents from the free node voltages `x` and
/// inputs `v`; `cell_current(i, j, v_cell)` is the cell's I-V.
pub(crate) fn terminal_currents(
    topo: &Topology,
    x: &[f64],
    v: &[f64],
    cell_current: &impl Fn(usize, usize, f64) -> f64,
) -> (Vec<f64>, Vec<f64>) {
    let mut columns = vec![0.0; topo.cols];
    let mut drivers = vec![0.0; topo.rows];
    topo.for_each_element(|a, b, e| {
        let touches =
            matches!(a, Node::Source(_)) || matches!(b, Node::Source(_) | Node::Ground(_));
        if !touches {
            return;
        }
        let (va, vb) = (node_voltage(a, x, v), node_voltage(b, x, v));
        let i_ab = match e {
            Elem::Wire(g) => g * (va - vb),
            Elem::Cell(i, j) => cell_current(i, j, va - vb),
        };
        if let Node::Ground(j) = b {
            columns[j] += i_ab;
        }
        if let Node::Source(i) = a {
            drivers[i] += i_ab;
        }
        if let Node::Source(i) = b {
            drivers[i] -= i_ab;
        }
    });
    (columns, drivers)
}

pub(crate) fn build_solution(
    topo: &Topology,
    x: &[f64],
    v: &[f64],
    cell_current: &impl Fn(usize, usize, f64) -> f64,
) -> Solution {
    let (rows, cols) = (topo.rows, topo.cols);
    let (column_currents, driver_currents) = terminal_currents(topo, x, v, cell_current);
    let mut row_voltages = Vec::with_capacity(rows * cols);
    let mut col_voltages = Vec::with_capacity(rows * cols);
    let mut cell_currents = Vec::with_capacity(rows * cols);
    for i in 0..rows {
        for j in 0..cols {
            let vr = node_voltage(topo.cell_row_node(i, j), x, v);
            let vc = node_voltage(topo.cell_col_node(i, j), x, v);
            row_voltages.push(vr);
            col_voltages.push(vc);
            cell_currents.push(cell_current(i, j, vr - vc));
        }
    }
    Solution {
        rows,
        cols,
        column_currents,
        driver_currents,
        row_voltages,
        col_voltages,
        cell_currents,
    }
}
