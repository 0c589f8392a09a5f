//! Structured solver for N×M resistive crossbars with wire, driver and sense
//! resistance.
//!
//! # The circuit
//! Row `i` is driven by `v_i` through `r_driver` into its left end `r(i,0)`,
//! then row-wire segments `r_row` join `r(i,j)` and `r(i,j+1)`. Cell `(i,j)`
//! joins `r(i,j)` to `c(i,j)`. Column-wire segments `r_col` join `c(i,j)` and
//! `c(i+1,j)`; the bottom end `c(N-1,j)` reaches a virtual ground (0 V)
//! through `r_sense`, and the column current `I_j` is the current into that
//! virtual ground. Any of the four resistances may be zero: the nodes they
//! join are merged (or pinned to the source / ground), so an ideal crossbar
//! gives exactly `I = Gᵀ v`. Rows can also be left floating (no driver).
//!
//! # Solvers
//! * [`Crossbar::factor`]: sparse Cholesky of the nodal matrix (faer,
//!   supernodal). The symbolic analysis (ordering, elimination tree) is done
//!   once per geometry and reused for every conductance sample (Monte Carlo).
//!   The driven sources and the virtual grounds are appended as terminal
//!   nodes after the interior (nested dissection on the row and column
//!   chains when both wires are resistive), so the trailing block of the
//!   factor is the network's conductance matrix seen from its terminals and
//!   the effective matrix `A` (`I = A v`, exact for linear cells) is its
//!   source-to-ground block, `A = -S_gs`: no full solves needed. With every
//!   parasitic zero nothing is factored and `A = Gᵀ`.
//! * [`Crossbar::solve_iterative`] / [`Crossbar::monte_carlo`]: conjugate
//!   gradients on the Schur complement onto the column wires (row chains
//!   eliminated exactly by tridiagonal solves, preconditioned by the
//!   column-chain tridiagonals). A new conductance sample only refactors
//!   the chain tridiagonals, memory and time are linear in the array size:
//!   the fast path for large arrays and for many samples with one input.
//! * [`Crossbar::solve_nonlinear`]: Newton for cells with a nonlinear I-V
//!   ([`CellIv`]: memristor compact models at a fixed state, diode
//!   selectors, 1T1R cells with a fixed access resistance), reusing the
//!   symbolic factorisation.
//! * [`Crossbar::solve_1t1r`]: 1T1R cells whose access device is a level-1
//!   NMOS ([`AccessTransistor`], the nodal engine's own MOSFET) with a gate
//!   voltage per row: Newton with ngspice's limiting on a sparse LU (the
//!   transconductance makes the Jacobian unsymmetric).
//!
//! Typical use (Monte Carlo over conductance samples of one geometry):
//! ```
//! use xbar_nodal::crossbar::{Conductances, Crossbar, Parasitics};
//! let xbar = Crossbar::new(2, 3, Parasitics { r_row: 1.0, r_col: 1.0, r_driver: 10.0, r_sense: 10.0 })?;
//! let g = Conductances::from_fn(2, 3, |i, j| 1e-4 * (1 + i + j) as f64)?;
//! let f = xbar.factor(&g)?;
//! let currents = f.column_currents(&[0.2, 0.1])?;
//! let a = f.effective_matrix()?; // 3×2, currents = a · v
//! assert!((a.apply(&[0.2, 0.1])[1] - currents[1]).abs() < 1e-15);
//! # Ok::<(), xbar_nodal::crossbar::CrossbarError>(())
//! ```

mod access;
mod conductances;
mod direct;
mod error;
mod iterative;
mod nonlinear;
mod ordering;
mod solution;
mod spice;
mod topology;

pub use access::AccessTransistor;
pub use conductances::Conductances;
pub use direct::{DirectOrdering, EffectiveMatrix, FactorStats, Factored};
pub use error::CrossbarError;
pub use iterative::{IterativeOptions, IterativeSolution};
pub use nonlinear::{
    CellIv, DiodeSelectorCell, LinearCell, MemristorCell, NewtonOptions, NonlinearSolution,
};
pub use solution::Solution;
pub use spice::DeckError;

use std::sync::OnceLock;
use topology::{Elem, Node, Topology};

/// At least one cell, and few enough that the topology can number two nodes
/// per cell (checked before anything is allocated).
fn check_size(rows: usize, cols: usize) -> Result<(), CrossbarError> {
    if rows == 0 || cols == 0 {
        return Err(CrossbarError::EmptyArray { rows, cols });
    }
    if rows
        .checked_mul(cols)
        .and_then(|n| n.checked_mul(2))
        .is_none()
    {
        return Err(CrossbarError::TooManyCells { rows, cols });
    }
    Ok(())
}

/// Wire and periphery resistances in ohms. Zero means ideal (the joined
/// nodes are merged).
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Parasitics {
    /// Row-wire segment between neighbouring cells.
    pub r_row: f64,
    /// Column-wire segment between neighbouring cells.
    pub r_col: f64,
    /// Driver output resistance between the source and the row's left end.
    pub r_driver: f64,
    /// Sense (virtual-ground) input resistance at the column's bottom end.
    pub r_sense: f64,
}

impl Parasitics {
    /// All four resistances zero: the ideal crossbar, `I = Gᵀ v`.
    pub const IDEAL: Parasitics = Parasitics {
        r_row: 0.0,
        r_col: 0.0,
        r_driver: 0.0,
        r_sense: 0.0,
    };

    fn validate(&self) -> Result<(), CrossbarError> {
        for (name, value) in [
            ("r_row", self.r_row),
            ("r_col", self.r_col),
            ("r_driver", self.r_driver),
            ("r_sense", self.r_sense),
        ] {
            if !value.is_finite() || value < 0.0 {
                return Err(CrossbarError::InvalidResistance { name, value });
            }
        }
        Ok(())
    }
}

/// How a row's left end is connected.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RowMode {
    /// Driven by its input voltage through `r_driver` (an unselected row
    /// that is grounded is a driven row with input 0 V).
    Driven,
    /// No driver: the row is connected only through its cells.
    Floating,
}

/// One crossbar geometry with its parasitics: set up once, then
/// [`factor`](Crossbar::factor) for each conductance sample.
#[derive(Debug)]
pub struct Crossbar {
    topo: Topology,
    ordering: DirectOrdering,
    symbolic: OnceLock<Result<direct::Symbolic, CrossbarError>>,
}

impl Crossbar {
    /// An `rows × cols` crossbar with every row driven.
    pub fn new(rows: usize, cols: usize, parasitics: Parasitics) -> Result<Self, CrossbarError> {
        check_size(rows, cols)?;
        Self::with_row_modes(rows, cols, parasitics, vec![RowMode::Driven; rows])
    }

    /// A crossbar where `modes[i]` says whether row `i` is driven or floating.
    pub fn with_row_modes(
        rows: usize,
        cols: usize,
        parasitics: Parasitics,
        modes: Vec<RowMode>,
    ) -> Result<Self, CrossbarError> {
        parasitics.validate()?;
        check_size(rows, cols)?;
        if modes.len() != rows {
            return Err(CrossbarError::SizeMismatch {
                what: "row modes",
                expected: rows,
                found: modes.len(),
            });
        }
        let topo = Topology::new(rows, cols, parasitics, modes);
        let ordering = DirectOrdering::default_for(&topo);
        Ok(Self {
            topo,
            ordering,
            symbolic: OnceLock::new(),
        })
    }

    /// Chooses the fill-reducing ordering of the direct solver (before the
    /// first factorisation; benchmarks compare them).
    pub fn with_ordering(mut self, ordering: DirectOrdering) -> Self {
        self.ordering = ordering;
        self.symbolic = OnceLock::new();
        self
    }

    pub fn rows(&self) -> usize {
        self.topo.rows
    }

    pub fn cols(&self) -> usize {
        self.topo.cols
    }

    pub fn parasitics(&self) -> Parasitics {
        self.topo.par
    }

    pub fn row_modes(&self) -> &[RowMode] {
        &self.topo.modes
    }

    /// How far `solution` (of linear cells `g` under inputs `v`) is from
    /// Kirchhoff's current law: the largest net current into an unknown
    /// node as a fraction of the largest current through any wire or cell
    /// at an unknown node (a cell between a driven row and a grounded column
    /// is fixed by its terminals and left out). Rounding alone leaves
    /// ~1e-15; when conductances span so many decades that cell voltages
    /// fall below the node voltages' last digit (1e15 S cells on 1 Ω
    /// wires), the answer is meaningless and this says so (~1e-2).
    pub fn kcl_residual(&self, g: &Conductances, v: &[f64], solution: &Solution) -> f64 {
        let topo = &self.topo;
        let mut x = vec![f64::NAN; topo.n];
        for i in 0..topo.rows {
            for j in 0..topo.cols {
                let k = i * topo.cols + j;
                if let Node::Free(p) = topo.cell_row_node(i, j) {
                    x[p] = solution.row_voltages[k];
                }
                if let Node::Free(p) = topo.cell_col_node(i, j) {
                    x[p] = solution.col_voltages[k];
                }
            }
        }
        let mut net = vec![0.0f64; topo.n];
        let mut largest = 0.0f64;
        topo.for_each_element(|a, b, e| {
            if !matches!(a, Node::Free(_)) && !matches!(b, Node::Free(_)) {
                return;
            }
            let (va, vb) = (
                solution::node_voltage(a, &x, v),
                solution::node_voltage(b, &x, v),
            );
            let i_ab = match e {
                Elem::Wire(gw) => gw * (va - vb),
                Elem::Cell(i, j) => g.get(i, j) * (va - vb),
            };
            largest = largest.max(i_ab.abs());
            if let Node::Free(p) = a {
                net[p] += i_ab;
            }
            if let Node::Free(p) = b {
                net[p] -= i_ab;
            }
        });
        let worst = net.iter().fold(0.0f64, |m, r| m.max(r.abs()));
        if largest > 0.0 {
            worst / largest
        } else {
            worst
        }
    }

    /// Number of unknown node voltages after merging ideal wires.
    pub fn unknowns(&self) -> usize {
        self.topo.n
    }

    fn check_inputs(&self, v: &[f64]) -> Result<(), CrossbarError> {
        if v.len() != self.topo.rows {
            return Err(CrossbarError::SizeMismatch {
                what: "input voltages",
                expected: self.topo.rows,
                found: v.len(),
            });
        }
        if let Some((row, &value)) = v.iter().enumerate().find(|(_, x)| !x.is_finite()) {
            return Err(CrossbarError::InvalidVoltage { row, value });
        }
        Ok(())
    }

    fn check_conductances(&self, g: &Conductances) -> Result<(), CrossbarError> {
        if g.rows() != self.topo.rows || g.cols() != self.topo.cols {
            return Err(CrossbarError::ShapeMismatch {
                expected: (self.topo.rows, self.topo.cols),
                found: (g.rows(), g.cols()),
            });
        }
        Ok(())
    }
}
