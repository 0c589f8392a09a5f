//! Cells with a nonlinear I-V: Newton on the nodal equations, each
//! iteration a numeric Cholesky refactorisation on the crossbar's symbolic
//! analysis (a monotone I-V keeps every linearised cell conductance
//! non-negative, so the Jacobian stays SPD).

use std::sync::Arc;

use xbar_memristor::CompactModel;

use super::direct::Ports;
use super::solution::{build_solution, node_voltage, Solution};
use super::{Crossbar, CrossbarError, RowMode};

/// Two-terminal I-V of one cell: current from the row terminal to the
/// column terminal at cell voltage `v = V_row - V_col`.
pub trait CellIv: Send + Sync {
    /// Current (A) at `v` (V).
    fn current(&self, v: f64) -> f64;
    /// `dI/dV` (S) at `v`; must be finite and non-negative.
    fn conductance(&self, v: f64) -> f64;
}

/// An ohmic cell.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct LinearCell(pub f64);

impl CellIv for LinearCell {
    fn current(&self, v: f64) -> f64 {
        self.0 * v
    }
    fn conductance(&self, _v: f64) -> f64 {
        self.0
    }
}

/// A resistive cell of conductance `g` in series with a diode selector
/// (anode on the row side): `I = is (exp(v_d / (n vt)) - 1)`, `v = v_d + I/g`.
/// The same pair as the SPICE lines `R … ; D … dmodel` with `is`, `n` and
/// thermal voltage `vt` (0.025852 V at 300.15 K, as ngspice uses).
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct DiodeSelectorCell {
    pub g: f64,
    pub is: f64,
    pub n: f64,
    pub vt: f64,
}

impl DiodeSelectorCell {
    /// Diode voltage at terminal voltage `v`: the root of
    /// `v_d + is (exp(v_d/nvt) - 1)/g = v`, bracketed by `0`, `v` and the
    /// diode voltage at which the diode alone would pass `g v`.
    fn diode_voltage(&self, v: f64) -> f64 {
        let nvt = self.n * self.vt;
        let h = |vd: f64| vd + self.is * (vd / nvt).exp_m1() / self.g - v;
        let (mut lo, mut hi) = if v >= 0.0 {
            (0.0, v.min(nvt * (self.g * v / self.is).ln_1p()))
        } else {
            (v, 0.0)
        };
        let mut vd = 0.5 * (lo + hi);
        for _ in 0..200 {
            let f = h(vd);
            if f == 0.0 {
                break;
            }
            if f > 0.0 {
                hi = vd;
            } else {
                lo = vd;
            }
            let df = 1.0 + self.is * (vd / nvt).exp() / (nvt * self.g);
            let step = f / df;
            if step.abs() <= 1e-16 * (1.0 + vd.abs()) {
                // Converged: a last Newton step that may land on the bracket edge.
                vd -= step;
                break;
            }
            let newton = vd - step;
            vd = if newton > lo && newton < hi {
                newton
            } else {
                0.5 * (lo + hi)
            };
            if hi - lo <= 1e-15 * (1.0 + vd.abs()) {
                break;
            }
        }
        vd
    }
}

impl CellIv for DiodeSelectorCell {
    fn current(&self, v: f64) -> f64 {
        if self.g == 0.0 {
            return 0.0;
        }
        let vd = self.diode_voltage(v);
        self.is * (vd / (self.n * self.vt)).exp_m1()
    }

    fn conductance(&self, v: f64) -> f64 {
        if self.g == 0.0 {
            return 0.0;
        }
        let nvt = self.n * self.vt;
        let gd = self.is * (self.diode_voltage(v) / nvt).exp() / nvt;
        1.0 / (1.0 / self.g + 1.0 / gd)
    }
}

/// A memristor compact model frozen at state `x` (a read: the state does
/// not move during the solve).
#[derive(Debug, Clone)]
pub struct MemristorCell {
    pub model: Arc<dyn CompactModel>,
    pub state: f64,
}

impl CellIv for MemristorCell {
    fn current(&self, v: f64) -> f64 {
        self.model.current(v, self.state)
    }
    fn conductance(&self, v: f64) -> f64 {
        self.model.conductance(v, self.state)
    }
}

/// Newton stopping rule.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct NewtonOptions {
    pub max_iterations: usize,
    /// Two-terminal cells ([`Crossbar::solve_nonlinear`]): converged when
    /// every node voltage moved by less than `abs_tol + rel_tol · max|v|`
    /// (V) in the last iteration. 1T1R ([`Crossbar::solve_1t1r`]): the
    /// general engine's per-unknown test, with `rel_tol` as ngspice's
    /// `reltol` and `abs_tol` as its `vntol`.
    pub abs_tol: f64,
    pub rel_tol: f64,
    /// 1T1R only: ngspice's `abstol` (A), the absolute tolerance on the
    /// branch currents of the drivers and column ammeters.
    pub current_abs_tol: f64,
    /// Largest node-voltage change per iteration (V); bigger steps are
    /// scaled down, which keeps exponential I-Vs from overshooting.
    pub max_step: f64,
}

impl Default for NewtonOptions {
    fn default() -> Self {
        Self {
            max_iterations: 100,
            abs_tol: 1e-14,
            rel_tol: 1e-11,
            current_abs_tol: 1e-18,
            max_step: 0.2,
        }
    }
}

/// Operating point with nonlinear cells.
#[derive(Debug, Clone)]
pub struct NonlinearSolution {
    pub solution: Solution,
    pub iterations: usize,
    /// Column currents of the linear model: each cell replaced by its chord
    /// conductance `I(v_read)/v_read` at the read voltage of its row (the
    /// effective-matrix answer a conductance mapping would predict; with
    /// MOSFET access, rows whose gate is below threshold are open and the
    /// others ideal switches).
    pub linear_column_currents: Vec<f64>,
    /// 1T1R with a MOSFET ([`Crossbar::solve_1t1r`]): voltage of the node
    /// between cell `(i,j)` and its access transistor, row-major. Empty for
    /// two-terminal cells.
    pub internal_voltages: Vec<f64>,
}

impl NonlinearSolution {
    /// Largest `|I_nonlinear - I_linear|` over columns, relative to the
    /// largest nonlinear column current.
    pub fn max_relative_difference(&self) -> f64 {
        let scale = self
            .solution
            .column_currents
            .iter()
            .fold(0.0f64, |s, x| s.max(x.abs()));
        let diff = self
            .solution
            .column_currents
            .iter()
            .zip(&self.linear_column_currents)
            .fold(0.0f64, |s, (a, b)| s.max((a - b).abs()));
        if scale > 0.0 {
            diff / scale
        } else {
            diff
        }
    }
}

impl Crossbar {
    /// Solves the crossbar whose cell `(i,j)` has I-V `cells[i*cols + j]`
    /// for row inputs `v`, by Newton from the linear (chord conductance at
    /// the read voltage) solution.
    pub fn solve_nonlinear<C: CellIv>(
        &self,
        cells: &[C],
        v: &[f64],
        options: NewtonOptions,
    ) -> Result<NonlinearSolution, CrossbarError> {
        let topo = &self.topo;
        let (rows, cols) = (topo.rows, topo.cols);
        if cells.len() != rows * cols {
            return Err(CrossbarError::SizeMismatch {
                what: "cells",
                expected: rows * cols,
                found: cells.len(),
            });
        }
        self.check_inputs(v)?;
        let sym = self.symbolic()?;
        let checked = |i: usize, j: usize, volts: f64, value: f64, reason| {
            if value.is_finite() && value >= 0.0 {
                Ok(value)
            } else {
                Err(CrossbarError::InvalidCellIv {
                    row: i,
                    col: j,
                    voltage: volts,
                    reason,
                })
            }
        };

        let (mut x, linear_column_currents) = self.chord_solve(cells, v, |_| true)?;
        let v_scale = v.iter().fold(0.0f64, |s, a| s.max(a.abs()));
        let tol = options.abs_tol + options.rel_tol * v_scale;
        let mut g_k = vec![0.0; rows * cols];
        let mut i_eq = vec![0.0; rows * cols];
        let mut last_step = f64::INFINITY;
        for iteration in 1..=options.max_iterations {
            for i in 0..rows {
                for j in 0..cols {
                    let k = i * cols + j;
                    let vc = node_voltage(topo.cell_row_node(i, j), &x, v)
                        - node_voltage(topo.cell_col_node(i, j), &x, v);
                    let cell = &cells[k];
                    let g = checked(
                        i,
                        j,
                        vc,
                        cell.conductance(vc),
                        "dI/dV negative or not finite",
                    )?;
                    let current = cell.current(vc);
                    if !current.is_finite() {
                        return Err(CrossbarError::InvalidCellIv {
                            row: i,
                            col: j,
                            voltage: vc,
                            reason: "current not finite",
                        });
                    }
                    g_k[k] = g;
                    i_eq[k] = current - g * vc;
                }
            }
            let ports = Ports::new(topo, &g_k);
            let mut x_new = ports.rhs(topo.n, v);
            // Companion current sources i_eq flow from row node to column node.
            for i in 0..rows {
                for j in 0..cols {
                    let ieq = i_eq[i * cols + j];
                    if let super::topology::Node::Free(a) = topo.cell_row_node(i, j) {
                        x_new[a] -= ieq;
                    }
                    if let super::topology::Node::Free(b) = topo.cell_col_node(i, j) {
                        x_new[b] += ieq;
                    }
                }
            }
            sym.solve_vec(&sym.factorize(topo, &sym.assemble(&g_k))?, &mut x_new)?;
            let step = x_new
                .iter()
                .zip(&x)
                .fold(0.0f64, |s, (a, b)| s.max((a - b).abs()));
            let scale = if step > options.max_step {
                options.max_step / step
            } else {
                1.0
            };
            for (xi, xn) in x.iter_mut().zip(&x_new) {
                *xi += scale * (xn - *xi);
            }
            last_step = step;
            if step <= tol {
                let solution =
                    build_solution(topo, &x, v, &|i, j, vc| cells[i * cols + j].current(vc));
                return Ok(NonlinearSolution {
                    solution,
                    iterations: iteration,
                    linear_column_currents,
                    internal_voltages: Vec::new(),
                });
            }
        }
        Err(CrossbarError::NewtonNoConvergence {
            iterations: options.max_iterations,
            max_update: last_step,
        })
    }
}

impl Crossbar {
    /// The chord model: cell `(i,j)` replaced by `I(v_read)/v_read` at its
    /// row's read voltage (`dI/dV` at 0 V for a zero or floating input), and
    /// open where `row_on(i)` is false. Returns the free node voltages and
    /// the column currents of that linear crossbar.
    pub(crate) fn chord_solve<C: CellIv>(
        &self,
        cells: &[C],
        v: &[f64],
        row_on: impl Fn(usize) -> bool,
    ) -> Result<(Vec<f64>, Vec<f64>), CrossbarError> {
        let topo = &self.topo;
        let (rows, cols) = (topo.rows, topo.cols);
        let sym = self.symbolic()?;
        let mut g_lin = Vec::with_capacity(rows * cols);
        for i in 0..rows {
            let v_read = if topo.modes[i] == RowMode::Driven {
                v[i]
            } else {
                0.0
            };
            for j in 0..cols {
                if !row_on(i) {
                    g_lin.push(0.0);
                    continue;
                }
                let cell = &cells[i * cols + j];
                let g = if v_read.abs() > 1e-12 {
                    cell.current(v_read) / v_read
                } else {
                    cell.conductance(0.0)
                };
                if !(g.is_finite() && g >= 0.0) {
                    return Err(CrossbarError::InvalidCellIv {
                        row: i,
                        col: j,
                        voltage: v_read,
                        reason: "chord conductance negative or not finite",
                    });
                }
                g_lin.push(g);
            }
        }
        let ports = Ports::new(topo, &g_lin);
        let mut x = ports.rhs(topo.n, v);
        sym.solve_vec(&sym.factorize(topo, &sym.assemble(&g_lin))?, &mut x)?;
        let linear = build_solution(topo, &x, v, &|i, j, vc| g_lin[i * cols + j] * vc);
        Ok((x, linear.column_currents))
    }
}
